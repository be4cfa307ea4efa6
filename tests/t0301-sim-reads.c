/* Sim agent reads: registers, daily snapshots and the profile agree, with
 * 46 and 50 periods on the 2013 clock-change days, missing slots marked
 * "M" and ranges clipped to the data. The handler is called directly. */
#include "agent.h"
#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "settlement.h"
#include "sim_agent.h"
#include "sim_import.h"
#include "sim_store.h"
#include "tap.h"

#include <unistd.h>

#define LCL_FILE  "data/lcl/halfhourly_2013/MAC000002.csv"
#define MAC000002 "1200000002107"
#define GAPPY     "1200000900107"
#define HOUR_MS   (60 * 60 * 1000LL)
#define DAY_MS    (24 * HOUR_MS)

/* Wide enough for the periods of a 93-day profile. */
static const envelope_limits_t s_limits = {8, 8192, 65536, 131072};

static char s_folder[] = "/tmp/sdx-t0301-XXXXXX";
static sim_store_t *s_store;

/* One request's outcome, with its decoded result. */
typedef struct {
    agent_response_t response;
    envelope_t *result;
} call_t;

static void s_call(call_t *call, const char *type, const char *mpxn,
                   const char *meter_id, const agent_range_t *ranges,
                   size_t range_count)
{
    agent_request_t request = {0};
    snprintf(request.request, sizeof request.request, "%s", type);
    snprintf(request.mpxn, sizeof request.mpxn, "%s", mpxn);
    snprintf(request.meter_id, sizeof request.meter_id, "%s", meter_id);
    if (range_count > 0)
        memcpy(request.ranges, ranges, range_count * sizeof ranges[0]);
    request.range_count = range_count;
    agent_response_init(&call->response);
    sim_agent_handle(s_store, &request, &call->response);
    call->result = NULL;
    if (call->response.result.size > 0) {
        char error[256];
        call->result = envelope_decode(call->response.result.data,
                                       call->response.result.size, &s_limits,
                                       error, sizeof error);
        if (!call->result)
            diag("%s result does not decode: %s", type, error);
    }
}

static void s_done(call_t *call)
{
    envelope_destroy(&call->result);
    agent_response_clear(&call->response);
}

static const msgpack_object *s_root(const call_t *call)
{
    return call->result ? envelope_root(call->result) : NULL;
}

static int64_t s_i64(const msgpack_object *map, const char *key)
{
    char error[128];
    int64_t value = -999;
    if (!map || mp_get_i64(map, key, &value, error, sizeof error) != 0)
        return -999;
    return value;
}

static const char *s_str(const msgpack_object *map, const char *key)
{
    static char text[8][64];
    static int next = 0;
    char error[128];
    char *out = text[next++ % 8];
    if (!map || mp_get_str(map, key, out, 64, error, sizeof error) != 0)
        return NULL;
    return out;
}

static const msgpack_object *s_array(const msgpack_object *map, const char *key,
                                     uint32_t *size)
{
    const msgpack_object *array = NULL;
    char error[128];
    *size = 0;
    if (!map || mp_get_container(map, key, MSGPACK_OBJECT_ARRAY, &array, error,
                                 sizeof error) != 0)
        return NULL;
    *size = array->via.array.size;
    return array->via.array.ptr;
}

static int64_t s_midnight(int year, int month, int day)
{
    return settlement_day_start(clock_days_from_civil(year, month, day));
}

static int64_t s_utc(int year, int month, int day, int hour, int minute)
{
    return clock_days_from_civil(year, month, day) * DAY_MS + hour * HOUR_MS +
           minute * 60000LL;
}

static void s_import(void)
{
    if (access(LCL_FILE, R_OK) != 0)
        bail_out("%s not found; run the test from the repository root",
                 LCL_FILE);
    char path[600], error[256];
    snprintf(path, sizeof path, "%s/sim.db", s_folder);
    s_store = sim_store_open(path, error, sizeof error);
    if (!s_store)
        bail_out("%s", error);
    sim_import_stats_t stats = {0};
    if (sim_import_file(s_store, LCL_FILE, NULL, &stats) != 0)
        bail_out("cannot import %s", LCL_FILE);

    /* A household with a gap at 01:00 on 2013-01-10. */
    snprintf(path, sizeof path, "%s/MAC000900.csv", s_folder);
    FILE *file = fopen(path, "w");
    if (!file)
        bail_out("cannot write %s", path);
    fputs("LCLid,tstp,energy(kWh/hh)\n"
          "MAC000900,2013-01-10 00:00:00, 0.1 \n"
          "MAC000900,2013-01-10 00:30:00, 0.2 \n"
          "MAC000900,2013-01-10 01:30:00, 0.4 \n"
          "MAC000900,2013-01-11 00:00:00, 0.5 \n",
          file);
    fclose(file);
    if (sim_import_file(s_store, path, NULL, &stats) != 0)
        bail_out("cannot import %s", path);
}

static void test_meter_info(void)
{
    call_t call;
    s_call(&call, "meter.info", MAC000002, "", NULL, 0);
    is_str(call.response.status, "ok", "meter.info status");
    is_int(call.response.units, 1, "meter.info units");
    const msgpack_object *root = s_root(&call);
    is_str(s_str(root, "mpxn"), MAC000002, "meter.info mpxn");
    is_str(s_str(root, "meter_id"), "SIM-MAC000002", "meter.info meter id");
    is_str(s_str(root, "fuel"), "electricity", "meter.info fuel");
    is_str(s_str(root, "head_end"), "sim", "meter.info head end");
    is_int(s_i64(root, "data_from"), s_utc(2013, 1, 1, 0, 0),
           "meter.info data_from");
    is_int(s_i64(root, "data_to"), s_utc(2014, 1, 1, 0, 0),
           "meter.info data_to");
    uint32_t count;
    const msgpack_object *capabilities = s_array(root, "capabilities", &count);
    is_int(count, 5, "meter.info lists five capabilities");
    ok(capabilities && capabilities[4].type == MSGPACK_OBJECT_STR,
       "capabilities are strings");
    s_done(&call);
}

static int64_t s_register(void)
{
    call_t call;
    s_call(&call, "read.registers", MAC000002, "SIM-MAC000002", NULL, 0);
    is_str(call.response.status, "ok", "read.registers status");
    is_int(call.response.units, 1, "read.registers units");
    const msgpack_object *root = s_root(&call);
    is_int(s_i64(root, "read_at"), s_utc(2014, 1, 1, 0, 0),
           "registers read at the end of the last half hour");
    uint32_t count;
    const msgpack_object *registers = s_array(root, "registers", &count);
    is_int(count, 1, "one register");
    int64_t wh = -1;
    if (registers) {
        is_str(s_str(&registers[0], "obis"), "1-0:1.8.0*255",
               "register OBIS code");
        is_str(s_str(&registers[0], "name"), "import", "register name");
        wh = s_i64(&registers[0], "wh");
    }
    s_done(&call);
    return wh;
}

/* Per-date totals of the year's profile, indexed by day of 2013. */
static int64_t s_day_wh[366];

static void test_registers_match_profile(void)
{
    int64_t register_wh = s_register();
    int64_t bounds[] = {s_midnight(2013, 1, 1), s_midnight(2013, 4, 1),
                        s_midnight(2013, 7, 1), s_midnight(2013, 10, 1),
                        s_midnight(2014, 1, 1)};
    int64_t total = 0, actual = 0, periods = 0, bad_dates = 0;
    int64_t first_day = clock_days_from_civil(2013, 1, 1);
    for (int quarter = 0; quarter < 4; quarter++) {
        agent_range_t range = {bounds[quarter], bounds[quarter + 1]};
        call_t call;
        s_call(&call, "read.profile", MAC000002, "", &range, 1);
        is_str(call.response.status, "ok", "quarter %d profile status",
               quarter + 1);
        uint32_t count;
        const msgpack_object *items = s_array(s_root(&call), "periods", &count);
        for (uint32_t i = 0; i < count; i++) {
            int64_t wh = s_i64(&items[i], "wh");
            int64_t date;
            int period;
            settlement_period_of(s_i64(&items[i], "start"), &date, &period);
            char text[11];
            const char *given = s_str(&items[i], "date");
            if (!given ||
                strcmp(given, settlement_format_date(date, text)) != 0 ||
                s_i64(&items[i], "period") != period)
                bad_dates++;
            total += wh;
            s_day_wh[date - first_day] += wh;
            const char *quality = s_str(&items[i], "quality");
            actual += quality && strcmp(quality, "A") == 0;
            periods++;
        }
        s_done(&call);
    }
    is_int(periods, 17520, "the year's profile has 17520 periods");
    is_int(actual, 17520, "every period of MAC000002 is actual");
    is_int(bad_dates, 0, "every period has its settlement date and number");
    is_int(total, register_wh, "register equals the sum of the profile");
}

static void test_daily(void)
{
    agent_range_t year = {s_midnight(2013, 1, 1), s_midnight(2014, 1, 2)};
    call_t call;
    s_call(&call, "read.daily", MAC000002, "", &year, 1);
    is_str(call.response.status, "ok", "read.daily status");
    uint32_t count;
    const msgpack_object *reads = s_array(s_root(&call), "reads", &count);
    is_int(count, 366, "366 midnights from 2013-01-01 to 2014-01-01");
    is_int(call.response.units, 366, "read.daily units");
    if (count != 366) {
        s_done(&call);
        return;
    }
    is_str(s_str(&reads[0], "date"), "2013-01-01", "first read date");
    is_int(s_i64(&reads[0], "import_wh"), 0, "first read is zero");
    is_int(s_i64(&reads[365], "import_wh"), s_register(),
           "last read equals the register");
    is_str(s_str(&reads[181], "date"), "2013-07-01", "read 182 date");
    is_int(s_i64(&reads[181], "at"), s_utc(2013, 6, 30, 23, 0),
           "2013-07-01 read at 2013-06-30T23:00Z");
    is_str(s_str(&reads[299], "date"), "2013-10-27", "read 300 date");
    is_int(s_i64(&reads[299], "at"), s_utc(2013, 10, 26, 23, 0),
           "2013-10-27 read at 2013-10-26T23:00Z");
    is_int(s_i64(&reads[300], "at"), s_utc(2013, 10, 28, 0, 0),
           "2013-10-28 read at 00:00Z");
    int mismatches = 0;
    for (int day = 0; day < 365; day++) {
        int64_t delta = s_i64(&reads[day + 1], "import_wh") -
                        s_i64(&reads[day], "import_wh");
        if (delta != s_day_wh[day])
            mismatches++;
    }
    is_int(mismatches, 0, "each day's reads differ by that day's profile");
    s_done(&call);

    agent_range_t early = {s_utc(2012, 6, 1, 0, 0), s_midnight(2013, 1, 3)};
    s_call(&call, "read.daily", MAC000002, "", &early, 1);
    is_int(call.response.units, 2, "daily range before the data is clipped");
    s_done(&call);
}

static void s_check_day(int year, int month, int day, int expected)
{
    agent_range_t range = {s_midnight(year, month, day),
                           s_midnight(year, month, day + 1)};
    call_t call;
    s_call(&call, "read.profile", MAC000002, "", &range, 1);
    uint32_t count;
    const msgpack_object *items = s_array(s_root(&call), "periods", &count);
    is_int(count, expected, "%04d-%02d-%02d has %d periods", year, month, day,
           expected);
    is_int(call.response.units, expected, "%04d-%02d-%02d units", year, month,
           day);
    int out_of_order = 0;
    char date[11];
    snprintf(date, sizeof date, "%04d-%02d-%02d", year, month, day);
    for (uint32_t i = 0; i < count; i++) {
        const char *given = s_str(&items[i], "date");
        if (s_i64(&items[i], "period") != (int64_t)i + 1 || !given ||
            strcmp(given, date) != 0)
            out_of_order++;
    }
    is_int(out_of_order, 0, "%s periods run 1 to %d", date, expected);
    s_done(&call);
}

static void test_clock_change_days(void)
{
    s_check_day(2013, 3, 31, 46);
    s_check_day(2013, 10, 27, 50);
    s_check_day(2013, 7, 1, 48);

    agent_range_t range = {s_midnight(2013, 3, 31), s_midnight(2013, 4, 1)};
    call_t call;
    s_call(&call, "read.profile", MAC000002, "", &range, 1);
    uint32_t count;
    const msgpack_object *items = s_array(s_root(&call), "periods", &count);
    if (count >= 3)
        is_int(s_i64(&items[2], "start"), s_utc(2013, 3, 31, 1, 0),
               "2013-03-31 period 3 starts 01:00Z");
    s_done(&call);

    range = (agent_range_t){s_midnight(2013, 10, 27), s_midnight(2013, 10, 28)};
    s_call(&call, "read.profile", MAC000002, "", &range, 1);
    items = s_array(s_root(&call), "periods", &count);
    if (count >= 5) {
        is_int(s_i64(&items[0], "start"), s_utc(2013, 10, 26, 23, 0),
               "2013-10-27 period 1 starts 2013-10-26T23:00Z");
        is_int(s_i64(&items[4], "start"), s_utc(2013, 10, 27, 1, 0),
               "2013-10-27 period 5 starts 01:00Z");
    }
    s_done(&call);
}

static void test_missing_slots(void)
{
    agent_range_t range = {s_utc(2013, 1, 10, 0, 0), s_utc(2013, 1, 10, 2, 0)};
    call_t call;
    s_call(&call, "read.profile", GAPPY, "", &range, 1);
    uint32_t count;
    const msgpack_object *items = s_array(s_root(&call), "periods", &count);
    is_int(count, 4, "gappy profile has 4 periods");
    is_int(call.response.units, 3, "units count only actual periods");
    if (count == 4) {
        is_str(s_str(&items[0], "quality"), "A", "period 1 actual");
        is_int(s_i64(&items[1], "wh"), 200, "period 2 is 200 Wh");
        is_str(s_str(&items[2], "quality"), "M", "period 3 missing");
        const msgpack_object *wh = mp_map_get(&items[2], "wh");
        ok(wh && wh->type == MSGPACK_OBJECT_NIL, "missing period wh is nil");
        is_int(s_i64(&items[2], "start"), s_utc(2013, 1, 10, 1, 0),
               "missing period start");
        is_int(s_i64(&items[3], "wh"), 400, "period 4 is 400 Wh");
    }
    s_done(&call);

    agent_range_t day = {s_midnight(2013, 1, 10), s_midnight(2013, 1, 11)};
    s_call(&call, "read.daily", GAPPY, "", &day, 1);
    const msgpack_object *reads = s_array(s_root(&call), "reads", &count);
    is_int(count, 1, "gappy daily has one midnight");
    if (count == 1)
        is_int(s_i64(&reads[0], "import_wh"), 0, "gappy first midnight");
    s_done(&call);
}

static uint32_t s_profile_count(const agent_range_t *ranges, size_t count,
                                int64_t *first_start, uint64_t *units)
{
    call_t call;
    s_call(&call, "read.profile", MAC000002, "", ranges, count);
    uint32_t size;
    const msgpack_object *items = s_array(s_root(&call), "periods", &size);
    *first_start = size ? s_i64(&items[0], "start") : -1;
    *units = call.response.units;
    s_done(&call);
    return size;
}

static void test_ranges_clipped(void)
{
    int64_t first;
    uint64_t units;
    agent_range_t before = {s_utc(2012, 12, 31, 0, 0), s_utc(2013, 1, 1, 2, 0)};
    is_int(s_profile_count(&before, 1, &first, &units), 4,
           "range before the data is clipped to 4 periods");
    is_int(first, s_utc(2013, 1, 1, 0, 0), "clipped range starts with data");

    agent_range_t after = {s_utc(2013, 12, 31, 22, 0), s_utc(2014, 1, 2, 0, 0)};
    is_int(s_profile_count(&after, 1, &first, &units), 4,
           "range after the data is clipped to 4 periods");

    agent_range_t outside = {s_utc(2014, 2, 1, 0, 0), s_utc(2014, 2, 2, 0, 0)};
    is_int(s_profile_count(&outside, 1, &first, &units), 0,
           "range outside the data has no periods");
    is_int(units, 0, "range outside the data has no units");

    agent_range_t unaligned = {s_utc(2013, 5, 1, 0, 10),
                               s_utc(2013, 5, 1, 1, 10)};
    is_int(s_profile_count(&unaligned, 1, &first, &units), 2,
           "unaligned range holds two period starts");
    is_int(first, s_utc(2013, 5, 1, 0, 30), "unaligned range starts 00:30Z");

    agent_range_t overlapping[] = {
        {s_utc(2013, 5, 1, 0, 0), s_utc(2013, 5, 1, 2, 0)},
        {s_utc(2013, 5, 1, 1, 0), s_utc(2013, 5, 1, 3, 0)},
        {s_utc(2013, 5, 2, 0, 0), s_utc(2013, 5, 2, 1, 0)}};
    is_int(s_profile_count(overlapping, 3, &first, &units), 8,
           "overlapping ranges give each period once");

    agent_range_t max = {s_midnight(2013, 4, 1), s_midnight(2013, 7, 3)};
    is_int(s_profile_count(&max, 1, &first, &units), 93 * 48,
           "93-day profile is served");
}

static void test_invalid_requests(void)
{
    call_t call;
    agent_range_t long_range = {s_midnight(2013, 1, 1), s_midnight(2013, 4, 5)};
    s_call(&call, "read.profile", MAC000002, "", &long_range, 1);
    is_str(call.response.status, "invalid", "94-day profile is invalid");
    ok(strstr(call.response.error, "maximum is 93 days") != NULL,
       "94-day profile error gives the maximum");
    ok(call.result == NULL, "invalid profile has no result");
    s_done(&call);

    s_call(&call, "meter.info", "1312345678907", "", NULL, 0);
    is_str(call.response.status, "not_found", "unknown meter not found");
    ok(strstr(call.response.error, "1312345678907") != NULL,
       "not found error names the supply point");
    s_done(&call);

    s_call(&call, "meter.info", "2499999999990", "", NULL, 0);
    is_str(call.response.status, "invalid", "bad check digit is invalid");
    ok(strstr(call.response.error, "check digit") != NULL,
       "invalid mpxn error says why");
    s_done(&call);

    s_call(&call, "read.registers", MAC000002, "SIM-OTHER", NULL, 0);
    is_str(call.response.status, "not_found", "wrong meter id not found");
    ok(strstr(call.response.error, "SIM-MAC000002") != NULL,
       "wrong meter id error names the installed meter");
    s_done(&call);

    s_call(&call, "read.events", MAC000002, "", NULL, 0);
    is_str(call.response.status, "invalid", "read.events is unsupported");
    ok(strstr(call.response.error, "read.events") != NULL,
       "unsupported type error names it");
    s_done(&call);
}

static void test_supply(void)
{
    call_t call;
    int64_t before = clock_now_ms();
    s_call(&call, "read.supply", MAC000002, "", NULL, 0);
    is_str(call.response.status, "ok", "read.supply status");
    is_int(call.response.units, 1, "read.supply units");
    is_str(s_str(s_root(&call), "status"), "connected", "supply connected");
    ok(s_i64(s_root(&call), "checked_at") >= before, "supply checked now");
    s_done(&call);
}

int main(void)
{
    log_init("t0301", false);
    if (!mkdtemp(s_folder))
        bail_out("cannot create a temporary folder");
    s_import();
    test_meter_info();
    test_registers_match_profile();
    test_daily();
    test_clock_change_days();
    test_missing_slots();
    test_ranges_clipped();
    test_invalid_requests();
    test_supply();
    sim_store_close(&s_store);
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", s_folder);
    if (system(command) != 0)
        diag("could not remove %s", s_folder);
    return tap_done();
}
