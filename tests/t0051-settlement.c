/* Settlement dates and periods on 46-, 48- and 50-period days. */
#include "clock.h"
#include "settlement.h"
#include "tap.h"

#include <time.h>
#include <unistd.h>

#define MINUTE_MS (60 * 1000LL)
#define HOUR_MS   (60 * MINUTE_MS)

static int64_t s_date(int year, int month, int day)
{
    return clock_days_from_civil(year, month, day);
}

static int64_t s_utc(int year, int month, int day, int hour, int minute)
{
    return s_date(year, month, day) * 24 * HOUR_MS + hour * HOUR_MS +
           minute * MINUTE_MS;
}

static void test_spring_forward_day(void)
{
    int64_t date = s_date(2013, 3, 31);
    is_int(settlement_periods_in_day(date), 46, "2013-03-31 has 46 periods");
    is_int(settlement_day_start(date), s_utc(2013, 3, 31, 0, 0),
           "2013-03-31 period 1 starts 00:00Z");
    is_int(settlement_period_start(date, 3), s_utc(2013, 3, 31, 1, 0),
           "2013-03-31 period 3 starts 01:00Z");
    is_int(settlement_period_start(date, 46), s_utc(2013, 3, 31, 22, 30),
           "2013-03-31 period 46 starts 22:30Z");
    ok(!london_is_summer_time(s_utc(2013, 3, 31, 0, 59)),
       "00:59Z on 2013-03-31 is GMT");
    ok(london_is_summer_time(s_utc(2013, 3, 31, 1, 0)),
       "01:00Z on 2013-03-31 is BST");
}

static void test_fall_back_day(void)
{
    int64_t date = s_date(2013, 10, 27);
    is_int(settlement_periods_in_day(date), 50, "2013-10-27 has 50 periods");
    is_int(settlement_period_start(date, 1), s_utc(2013, 10, 26, 23, 0),
           "2013-10-27 period 1 starts 2013-10-26T23:00Z");
    is_int(settlement_period_start(date, 5), s_utc(2013, 10, 27, 1, 0),
           "2013-10-27 period 5 starts 01:00Z");
    is_int(settlement_period_start(date, 50), s_utc(2013, 10, 27, 23, 30),
           "2013-10-27 period 50 starts 23:30Z");
    ok(london_is_summer_time(s_utc(2013, 10, 27, 0, 59)),
       "00:59Z on 2013-10-27 is BST");
    ok(!london_is_summer_time(s_utc(2013, 10, 27, 1, 0)),
       "01:00Z on 2013-10-27 is GMT");

    int64_t found_date;
    int period;
    settlement_period_of(s_utc(2013, 10, 27, 0, 30), &found_date, &period);
    is_int(found_date, date, "00:30Z on 2013-10-27 is on that date");
    is_int(period, 4, "00:30Z on 2013-10-27 is period 4");
    settlement_period_of(s_utc(2013, 10, 27, 1, 30), &found_date, &period);
    is_int(period, 6, "01:30Z on 2013-10-27 is period 6");
}

static void test_summer_and_winter_days(void)
{
    int64_t date = s_date(2013, 7, 1);
    is_int(settlement_periods_in_day(date), 48, "2013-07-01 has 48 periods");
    is_int(settlement_period_start(date, 1), s_utc(2013, 6, 30, 23, 0),
           "2013-07-01 period 1 starts 2013-06-30T23:00Z");
    is_int(settlement_date_of(s_utc(2013, 6, 30, 23, 0)), date,
           "2013-06-30T23:00Z is on 2013-07-01");
    is_int(settlement_date_of(s_utc(2013, 6, 30, 22, 59)), date - 1,
           "2013-06-30T22:59Z is on 2013-06-30");

    date = s_date(2013, 1, 15);
    is_int(settlement_periods_in_day(date), 48, "2013-01-15 has 48 periods");
    is_int(settlement_period_start(date, 1), s_utc(2013, 1, 15, 0, 0),
           "2013-01-15 period 1 starts 00:00Z");

    int64_t found_date;
    int period;
    settlement_period_of(s_utc(2013, 7, 1, 12, 10), &found_date, &period);
    is_int(period, 27, "12:10Z on 2013-07-01 is in period 27");
}

static void test_other_years(void)
{
    struct {
        int year, month, day, periods;
    } cases[] = {
        {2014, 3, 30, 46},  {2014, 10, 26, 50}, {2012, 10, 28, 50},
        {2020, 3, 29, 46},  {2020, 10, 25, 50}, {2024, 3, 31, 46},
        {2024, 10, 27, 50}, {2024, 3, 30, 48},  {2024, 10, 28, 48},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        is_int(settlement_periods_in_day(
                   s_date(cases[i].year, cases[i].month, cases[i].day)),
               cases[i].periods, "%04d-%02d-%02d has %d periods", cases[i].year,
               cases[i].month, cases[i].day, cases[i].periods);
    }
}

static void test_format_date(void)
{
    char text[11];
    is_str(settlement_format_date(s_date(2013, 10, 27), text), "2013-10-27",
           "format 2013-10-27");
    is_str(settlement_format_date(0, text), "1970-01-01", "format day 0");
}

/* Every half hour of 2013: utc -> (date, period) -> utc. */
static void test_round_trip_year(void)
{
    int64_t start = s_utc(2013, 1, 1, 0, 0);
    int64_t end = s_utc(2014, 1, 1, 0, 0);
    int failures = 0, bad_period = 0, count = 0;
    for (int64_t t = start; t < end; t += SETTLEMENT_PERIOD_MS) {
        int64_t date;
        int period;
        settlement_period_of(t, &date, &period);
        if (period < 1 || period > settlement_periods_in_day(date))
            bad_period++;
        else if (settlement_period_start(date, period) != t)
            failures++;
        count++;
    }
    is_int(count, 17520, "2013 has 17520 half hours");
    is_int(bad_period, 0, "every period is within its day");
    is_int(failures, 0, "every half hour of 2013 round trips");

    int counts[51] = {0};
    for (int64_t d = s_date(2013, 1, 1); d < s_date(2014, 1, 1); d++)
        counts[settlement_periods_in_day(d)]++;
    is_int(counts[46], 1, "2013 has one 46-period day");
    is_int(counts[50], 1, "2013 has one 50-period day");
    is_int(counts[48], 363, "2013 has 363 48-period days");
}

/* Cross-checks the built-in rule against the host's zone database, when
 * it has one; the product itself never reads it. */
static void test_against_zone_database(void)
{
    if (access("/usr/share/zoneinfo/Europe/London", R_OK) != 0) {
        printf("ok %d - # SKIP no Europe/London zone file\n", ++tap_count_);
        return;
    }
    setenv("TZ", "Europe/London", 1);
    tzset();
    int mismatches = 0;
    int64_t start = s_utc(1997, 1, 1, 0, 0);
    int64_t end = s_utc(2037, 1, 1, 0, 0);
    for (int64_t t = start; t < end; t += 30 * MINUTE_MS) {
        time_t seconds = (time_t)(t / 1000);
        struct tm local;
        localtime_r(&seconds, &local);
        if ((local.tm_isdst > 0) != london_is_summer_time(t))
            mismatches++;
    }
    is_int(mismatches, 0,
           "summer time agrees with the zone database 1997-2036");
}

int main(void)
{
    test_spring_forward_day();
    test_fall_back_day();
    test_summer_and_winter_days();
    test_other_years();
    test_format_date();
    test_round_trip_year();
    test_against_zone_database();
    return tap_done();
}
