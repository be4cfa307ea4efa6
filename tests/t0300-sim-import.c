/* LCL CSV import: exact Wh parsing, bad rows, re-import, truncation. */
#include "log.h"
#include "sim_import.h"
#include "sim_store.h"
#include "tap.h"

#include <unistd.h>

#define LCL_FILE "data/lcl/halfhourly_2013/MAC000002.csv"
/* The sum of MAC000002's 2013 values, each rounded half up to whole Wh,
 * worked out separately with Python's decimal module. */
#define LCL_MAC000002_TOTAL_WH 4214648

static char s_folder[] = "/tmp/sdx-t0300-XXXXXX";

typedef struct {
    size_t count;
    size_t lines[32];
    char reasons[32][512];
} reports_t;

static void s_collect(void *arg, const char *file, size_t line,
                      const char *reason)
{
    (void)file;
    reports_t *reports = arg;
    if (reports->count < 32) {
        reports->lines[reports->count] = line;
        snprintf(reports->reasons[reports->count], 512, "%s", reason);
    }
    reports->count++;
}

static char *s_write(const char *name, const char *text)
{
    char *path = malloc(512);
    snprintf(path, 512, "%s/%s", s_folder, name);
    FILE *file = fopen(path, "w");
    if (!file)
        bail_out("cannot write %s", path);
    fputs(text, file);
    fclose(file);
    return path;
}

static sim_store_t *s_open(const char *name)
{
    char path[512], error[256];
    snprintf(path, sizeof path, "%s/%s", s_folder, name);
    sim_store_t *store = sim_store_open(path, error, sizeof error);
    if (!store)
        bail_out("%s", error);
    return store;
}

static void test_parse_kwh(void)
{
    struct {
        const char *text;
        int64_t wh;
        bool rounded;
    } good[] = {
        {"0.219", 219, false},     {"3.7839999", 3784, true},
        {"2.6689999", 2669, true}, {"1.2410001", 1241, true},
        {"0", 0, false},           {"1", 1000, false},
        {"2.5", 2500, false},      {"0.05", 50, false},
        {"0.0005", 1, true},       {"0.0004999", 0, true},
        {"0.2190000", 219, false}, {"12.3456", 12346, true},
        {"0.9995", 1000, true},    {"999999999.999", 999999999999, false},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t wh = -1;
        bool rounded = !good[i].rounded;
        is_int(sim_parse_kwh(good[i].text, &wh, &rounded), 0, "'%s' parses",
               good[i].text);
        is_int(wh, good[i].wh, "'%s' is %lld Wh", good[i].text,
               (long long)good[i].wh);
        is_int(rounded, good[i].rounded, "'%s' rounded flag", good[i].text);
    }
    const char *bad[] = {"",     ".5",    "5.",   "-1",  "+1",   "1e3",
                         "Null", "0.2 1", " 0.2", "1,5", "0x10", "1234567890"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t wh;
        bool rounded;
        is_int(sim_parse_kwh(bad[i], &wh, &rounded), -1, "'%s' is rejected",
               bad[i]);
    }
}

static void test_parse_timestamp(void)
{
    int64_t ms = 0;
    is_int(sim_parse_timestamp("2013-01-01 00:00:00", &ms), 0,
           "new year timestamp parses");
    is_int(ms, 1356998400000LL, "2013-01-01 00:00:00 is UTC");
    is_int(sim_parse_timestamp("2013-10-27 01:30:00", &ms), 0,
           "clock-change timestamp parses");
    is_int(ms, 1382837400000LL, "2013-10-27 01:30:00 is UTC");
    is_int(sim_parse_timestamp("2012-02-29 23:30:00", &ms), 0,
           "leap day parses");
    is_int(sim_parse_timestamp("2013-01-01 00:15:00", &ms), -2,
           "quarter past is off the grid");
    is_int(sim_parse_timestamp("2013-01-01 00:00:01", &ms), -2,
           "one second past is off the grid");
    const char *bad[] = {"2013-02-29 00:00:00",         "2013-13-01 00:00:00",
                         "2013-00-10 00:00:00",         "2013-01-01T00:00:00",
                         "2013-01-01 24:00:00",         "2013-01-01 00:00",
                         "2013-01-01 00:00:00.0000000", "13-01-01 00:00:00",
                         "2013-1-01 00:00:00 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        is_int(sim_parse_timestamp(bad[i], &ms), -1, "'%s' is rejected",
               bad[i]);
}

static void test_household_mpan(void)
{
    char mpan[14];
    is_int(sim_household_mpan("MAC000002", mpan), 0, "MAC000002 maps");
    is_str(mpan, "1200000002107", "MAC000002 MPAN core");
    is_int(sim_household_mpan("MAC005566", mpan), 0, "MAC005566 maps");
    is_str(mpan, "1200005566107", "MAC005566 MPAN core");
    is_int(sim_household_mpan("MAC12345678", mpan), 0, "8 digits map");
    const char *bad[] = {"MAC",       "XYZ000002", "MAC123456789",
                         "MAC00000a", "mac000002", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        is_int(sim_household_mpan(bad[i], mpan), -1, "'%s' is rejected",
               bad[i]);
}

static const char *s_bad_rows_csv =
    "LCLid,tstp,energy(kWh/hh)\n"
    "MAC000002,2013-01-01 00:00:00, 0.219 \n"
    "MAC000002,2013-01-01 00:30:00, 3.7839999 \n"
    "MAC000002,2013-01-01 01:00:00\n"
    "MAC000002,2013-01-01 01:15:00, 0.1 \n"
    "MAC000002,2013-01-32 01:30:00, 0.1 \n"
    "MAC000002,2013-01-01 02:00:00,Null\n"
    "MAC000002,2013-01-01 00:30:00, 3.784 \n"
    "BAD,2013-01-01 02:30:00, 0.1 \n"
    "MAC000002,2013-01-01 03:00:00, 0.5,extra\n"
    "\n"
    "MAC000002,2013-01-01 03:30:00, 1.0005 \r\n";

static void s_expect_report(const reports_t *reports, size_t index, size_t line,
                            const char *reason)
{
    is_int(reports->lines[index], line, "report %zu is for line %zu", index + 1,
           line);
    if (!ok(strstr(reports->reasons[index], reason) != NULL,
            "line %zu reason mentions '%s'", line, reason))
        diag("reason was '%s'", reports->reasons[index]);
}

static void test_bad_rows(void)
{
    char *path = s_write("bad.csv", s_bad_rows_csv);
    sim_store_t *store = s_open("bad.db");
    reports_t reports = {0};
    sim_import_options_t options = {.report = s_collect,
                                    .report_arg = &reports};
    sim_import_stats_t stats = {0};
    is_int(sim_import_file(store, path, &options, &stats), 0,
           "file with bad rows imports");
    is_int(stats.files, 1, "one file read");
    is_int(stats.rows, 10, "ten data rows read, blank line skipped");
    is_int(stats.inserted, 3, "three readings inserted");
    is_int(stats.rejected, 7, "seven rows rejected");
    is_int(stats.rounded, 2, "two values rounded");
    is_int(stats.meters_added, 1, "one meter added");
    is_int(reports.count, 7, "seven reports");
    s_expect_report(&reports, 0, 4, "expected 3 fields");
    s_expect_report(&reports, 1, 5, "off-grid time '2013-01-01 01:15:00'");
    s_expect_report(&reports, 2, 6, "invalid timestamp '2013-01-32 01:30:00'");
    s_expect_report(&reports, 3, 7, "invalid energy 'Null'");
    s_expect_report(&reports, 4, 8, "duplicate reading");
    s_expect_report(&reports, 4, 8, "first on line 3");
    s_expect_report(&reports, 5, 9, "invalid household id 'BAD'");
    s_expect_report(&reports, 6, 10, "got 4");

    int64_t wh = -1;
    is_int(sim_store_register_at(store, "1200000002107", INT64_MAX / 2, &wh), 0,
           "register reads");
    is_int(wh, 219 + 3784 + 1001, "stored Wh are exact");
    sim_meter_t meter;
    is_int(sim_store_find_meter(store, "1200000002107", &meter), 1,
           "meter found");
    is_str(meter.household, "MAC000002", "meter household");
    is_str(meter.meter_id, "SIM-MAC000002", "meter serial");
    is_str(meter.fuel, "electricity", "meter fuel");
    is_str(meter.head_end, "sim", "meter head end");

    /* Importing the same file again adds nothing and reports the same
     * bad rows. */
    memset(&reports, 0, sizeof reports);
    memset(&stats, 0, sizeof stats);
    is_int(sim_import_file(store, path, &options, &stats), 0,
           "re-import succeeds");
    is_int(stats.inserted, 0, "re-import inserts nothing");
    is_int(stats.unchanged, 3, "re-import finds three stored readings");
    is_int(stats.meters_added, 0, "re-import adds no meter");
    is_int(stats.rejected, 7, "re-import rejects the same rows");
    is_int(sim_store_register_at(store, "1200000002107", INT64_MAX / 2, &wh), 0,
           "register reads after re-import");
    is_int(wh, 219 + 3784 + 1001, "register unchanged after re-import");

    /* Another value for a stored half hour is reported and not applied. */
    char *changed = s_write("changed.csv", "LCLid,tstp,energy(kWh/hh)\n"
                                           "MAC000002,2013-01-01 00:00:00, "
                                           "0.220 \n");
    memset(&reports, 0, sizeof reports);
    memset(&stats, 0, sizeof stats);
    is_int(sim_import_file(store, changed, &options, &stats), 0,
           "conflicting file imports");
    is_int(stats.rejected, 1, "conflicting row rejected");
    s_expect_report(&reports, 0, 2, "already stored as 219 Wh, not 220 Wh");
    is_int(sim_store_register_at(store, "1200000002107", INT64_MAX / 2, &wh), 0,
           "register reads after conflict");
    is_int(wh, 219 + 3784 + 1001, "stored value kept after conflict");

    sim_store_close(&store);
    free(changed);
    free(path);
}

static void test_truncated_file(void)
{
    char *cut_row = s_write("cut_row.csv", "LCLid,tstp,energy(kWh/hh)\n"
                                           "MAC000005,2013-01-01 00:00:00, "
                                           "0.1 \n"
                                           "MAC000005,2013-01-01 00:30:00, "
                                           "0.2 \n"
                                           "MAC000005,2013-01-0");
    char *cut_value = s_write("cut_value.csv", "LCLid,tstp,energy(kWh/hh)\n"
                                               "MAC000006,2013-01-01 "
                                               "00:00:00, 0.1 \n"
                                               "MAC000006,2013-01-01 "
                                               "00:30:00, 0.2");
    sim_store_t *store = s_open("cut.db");
    reports_t reports = {0};
    sim_import_options_t options = {.report = s_collect,
                                    .report_arg = &reports};
    sim_import_stats_t stats = {0};
    is_int(sim_import_file(store, cut_row, &options, &stats), 0,
           "file cut mid-row imports");
    is_int(stats.inserted, 2, "rows before the cut load");
    is_int(stats.rejected, 1, "the cut row is rejected");
    s_expect_report(&reports, 0, 4, "expected 3 fields");

    memset(&stats, 0, sizeof stats);
    is_int(sim_import_file(store, cut_value, &options, &stats), 0,
           "file without a final newline imports");
    is_int(stats.inserted, 2, "last row without newline loads");
    is_int(stats.rejected, 0, "nothing rejected without final newline");
    sim_store_close(&store);
    free(cut_row);
    free(cut_value);
}

static void test_whole_file_failures(void)
{
    sim_store_t *store = s_open("fail.db");
    reports_t reports = {0};
    sim_import_options_t options = {.report = s_collect,
                                    .report_arg = &reports};
    sim_import_stats_t stats = {0};
    char *header = s_write("header.csv", "LCLid,DateTime,KWH/hh\n"
                                         "MAC000002,2013-01-01 00:00:00, "
                                         "0.1 \n");
    is_int(sim_import_file(store, header, &options, &stats), -1,
           "wrong header fails");
    is_int(reports.lines[0], 1, "wrong header reported on line 1");
    ok(strstr(reports.reasons[0], "expected 'LCLid,tstp,energy(kWh/hh)'"),
       "wrong header reason names the expected header");
    is_int(stats.inserted, 0, "nothing imported from wrong header");

    char *empty = s_write("empty.csv", "");
    is_int(sim_import_file(store, empty, &options, &stats), -1,
           "empty file fails");
    ok(strstr(reports.reasons[1], "empty"), "empty file reason");

    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing.csv", s_folder);
    is_int(sim_import_file(store, missing, &options, &stats), -1,
           "missing file fails");
    is_int(reports.lines[2], 0, "missing file reported for the whole file");
    ok(strstr(reports.reasons[2], "cannot open"), "missing file reason");
    is_int(stats.files, 0, "no file counted");
    sim_store_close(&store);
    free(header);
    free(empty);
}

static void test_folder_import(void)
{
    char folder[600], command[700];
    snprintf(folder, sizeof folder, "%s/folder", s_folder);
    snprintf(command, sizeof command, "mkdir -p '%s'", folder);
    if (system(command) != 0)
        bail_out("cannot create %s", folder);
    free(s_write("folder/b.csv", "LCLid,tstp,energy(kWh/hh)\n"
                                 "MAC000010,2013-01-01 00:00:00, 0.1 \n"));
    free(s_write("folder/a.csv", "LCLid,tstp,energy(kWh/hh)\n"
                                 "MAC000011,2013-01-01 00:00:00, 0.1 \n"));
    free(s_write("folder/notes.txt", "not a csv file\n"));
    sim_store_t *store = s_open("folder.db");
    sim_import_stats_t stats = {0};
    is_int(sim_import_path(store, folder, NULL, &stats), 0, "folder imports");
    is_int(stats.files, 2, "only the csv files are read");
    is_int(stats.meters_added, 2, "two meters from two files");
    is_int(sim_store_each_meter(store, NULL, NULL), 2, "two meters stored");
    sim_store_close(&store);
}

static void test_real_file(void)
{
    if (access(LCL_FILE, R_OK) != 0)
        bail_out("%s not found; run the test from the repository root",
                 LCL_FILE);
    sim_store_t *store = s_open("real.db");
    sim_import_stats_t stats = {0};
    is_int(sim_import_file(store, LCL_FILE, NULL, &stats), 0,
           "MAC000002 file imports");
    is_int(stats.rows, 17520, "MAC000002 has 17520 rows");
    is_int(stats.inserted, 17520, "every MAC000002 row loads");
    is_int(stats.rejected, 0, "no MAC000002 row rejected");
    ok(stats.rounded > 0, "some MAC000002 values needed rounding");
    int64_t wh = -1;
    is_int(sim_store_register_at(store, "1200000002107", INT64_MAX / 2, &wh), 0,
           "MAC000002 register reads");
    is_int(wh, LCL_MAC000002_TOTAL_WH, "MAC000002 total matches exactly");
    int64_t from = 0, to = 0;
    is_int(sim_store_span(store, "1200000002107", &from, &to), 1,
           "MAC000002 has a span");
    is_int(from, 1356998400000LL, "span starts 2013-01-01T00:00Z");
    is_int(to, 1388534400000LL, "span ends 2014-01-01T00:00Z");
    sim_store_close(&store);
}

int main(void)
{
    log_init("t0300", false);
    if (!mkdtemp(s_folder))
        bail_out("cannot create a temporary folder");
    test_parse_kwh();
    test_parse_timestamp();
    test_household_mpan();
    test_bad_rows();
    test_truncated_file();
    test_whole_file_failures();
    test_folder_import();
    test_real_file();
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", s_folder);
    if (system(command) != 0)
        diag("could not remove %s", s_folder);
    return tap_done();
}
