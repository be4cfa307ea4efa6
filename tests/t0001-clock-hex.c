/* Tests UTC millisecond formatting and parsing, and hex encoding. */
#include "clock.h"
#include "hex.h"
#include "tap.h"

static void test_iso_format(void)
{
    char text[CLOCK_ISO_SIZE];
    is_str(clock_format_iso(0, text), "1970-01-01T00:00:00Z", "epoch");
    is_str(clock_format_iso(1382835600000LL, text), "2013-10-27T01:00:00Z",
           "clock change instant");
    is_str(clock_format_iso(1382835600123LL, text), "2013-10-27T01:00:00.123Z",
           "milliseconds shown when not zero");
    is_str(clock_format_iso(-1000, text), "1969-12-31T23:59:59Z",
           "before the epoch");
}

static void test_iso_parse(void)
{
    int64_t ms = -1;
    ok(clock_parse_iso("2013-10-27T01:00:00Z", &ms) == 0, "full time parses");
    is_int(ms, 1382835600000LL, "full time value");
    ok(clock_parse_iso("2013-10-27", &ms) == 0, "bare date parses");
    is_int(ms, 1382832000000LL, "bare date is midnight UTC");
    ok(clock_parse_iso("2013-10-27T01:00Z", &ms) == 0, "minutes only parse");
    ok(clock_parse_iso("2013-10-27T01:00:00.250Z", &ms) == 0,
       "milliseconds parse");
    is_int(ms, 1382835600250LL, "milliseconds value");
    ok(clock_parse_iso("2012-02-29", &ms) == 0, "leap day parses");
    const char *bad[] = {"2013-02-29",
                         "2013-13-01",
                         "2013-10-27T01:00:00",
                         "2013-10-27T25:00:00Z",
                         "13-10-27",
                         "2013-10-27x",
                         "",
                         "2013-10-27T01:00:00+01:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ok(clock_parse_iso(bad[i], &ms) == -1, "rejects '%s'", bad[i]);
}

static void test_days_round_trip(void)
{
    int failures = 0;
    for (int64_t days = -800000; days < 800000; days += 37) {
        int y, m, d;
        clock_civil_from_days(days, &y, &m, &d);
        if (clock_days_from_civil(y, m, d) != days)
            failures++;
    }
    is_int(failures, 0, "days to civil date and back agree");
    is_int(clock_days_from_civil(2013, 3, 31), 15795, "2013-03-31 day number");
}

static void test_hex(void)
{
    const uint8_t data[] = {0x00, 0x9f, 0xab, 0xff};
    char text[9];
    is_str(hex_encode(data, 4, text), "009fabff", "encode");
    uint8_t back[4];
    ok(hex_decode("009FabfF", back, 4) == 0, "decode mixed case");
    is_mem(back, data, 4, "decoded bytes");
    ok(hex_decode("009fab", back, 4) == -1, "short text rejected");
    ok(hex_decode("009fabff00", back, 4) == -1, "long text rejected");
    ok(hex_decode("009fabgf", back, 4) == -1, "non-hex digit rejected");
}

int main(void)
{
    test_iso_format();
    test_iso_parse();
    test_days_round_trip();
    test_hex();
    return tap_done();
}
