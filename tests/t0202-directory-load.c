/* Loading directory CSV files: each reason a row is rejected, line numbers,
 * idempotent reloads, updates, truncated files and bad headers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "directory_db.h"
#include "directory_load.h"
#include "hex.h"
#include "mpxn.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0202-XXXXXX";
static directory_db_t *s_db;

/* Random key text: Z85 CURVE key and hex Ed25519 key. */
static void s_random_keys(char curve[41], char sign[65])
{
    uint8_t bytes[32];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)rand();
    zmq_z85_encode(curve, bytes, sizeof bytes);
    hex_encode(bytes, sizeof bytes, sign);
}

static void s_mpan(const char *digits12, char core[14])
{
    if (mpan_core_make(digits12, core) != 0)
        bail_out("mpan_core_make failed for %s", digits12);
}

static void s_mprn(const char *body, char mprn[16])
{
    snprintf(mprn, 16, "%s%02d", body, mprn_check_value(body, strlen(body)));
}

/* Loads text as a file of table; report gets the rejected rows. */
static int s_load(directory_table_t table, const char *name, const char *text,
                  directory_load_counts_t *counts, char *report,
                  size_t report_size, char *error)
{
    FILE *file = fmemopen((void *)text, strlen(text), "r");
    FILE *out = fmemopen(report, report_size, "w");
    if (!file || !out)
        bail_out("fmemopen failed");
    memset(counts, 0, sizeof *counts);
    int rc =
        directory_load_stream(s_db, table, file, name, out, counts, error, 512);
    fputc('\0', out);
    fclose(out);
    fclose(file);
    return rc;
}

static bool s_reported(const char *report, const char *line)
{
    bool found = strstr(report, line) != NULL;
    if (!found)
        diag("report was:\n%s", report);
    return found;
}

static char s_alfa_curve[41], s_alfa_sign[65];
static char s_bravo_curve[41], s_bravo_sign[65];
static char s_suppliers_csv[2048];

static void test_suppliers(void)
{
    char other_curve[41], other_sign[65], text[4096], report[4096];
    char error[512];
    s_random_keys(s_alfa_curve, s_alfa_sign);
    s_random_keys(s_bravo_curve, s_bravo_sign);
    s_random_keys(other_curve, other_sign);
    snprintf(s_suppliers_csv, sizeof s_suppliers_csv,
             "mpid,name,endpoint,curve_key,sign_key\n"
             "ALFA,Alfa Energy,tcp://127.0.0.1:7001,%s,%s\n"
             "BRVO,\"Bravo, Ltd\",tcp://127.0.0.1:7002,%s,%s\n",
             s_alfa_curve, s_alfa_sign, s_bravo_curve, s_bravo_sign);
    snprintf(text, sizeof text,
             "%s"
             "alfa,Lower,tcp://h:1,%s,%s\n"         /* 4 */
             "CHRL,,tcp://h:1,%s,%s\n"              /* 5 */
             "CHRL,Charlie,http://h:1,%s,%s\n"      /* 6 */
             "CHRL,Charlie,tcp://h:99999,%s,%s\n"   /* 7 */
             "CHRL,Charlie,tcp://h:1,shortkey,%s\n" /* 8 */
             "CHRL,Charlie,tcp://h:1,%s,abcd\n"     /* 9 */
             "CHRL,Charlie,tcp://h:1,%s,%s\n"       /* 10 */
             "CHRL,Charlie,tcp://h:1\n",            /* 11 */
             s_suppliers_csv, other_curve, other_sign, other_curve, other_sign,
             other_curve, other_sign, other_curve, other_sign, other_sign,
             other_curve, s_alfa_curve, other_sign);
    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_SUPPLIERS, "suppliers.csv", text, &counts, report,
                  sizeof report, error),
           0, "suppliers file loads");
    is_int(counts.added, 2, "two suppliers added");
    is_int(counts.rejected, 8, "eight suppliers rejected");
    ok(s_reported(report, "suppliers.csv:4: invalid MPID 'alfa'"),
       "lower-case MPID rejected on line 4");
    ok(s_reported(report, "suppliers.csv:5: supplier name is empty"),
       "empty name rejected on line 5");
    ok(s_reported(report, "suppliers.csv:6: invalid endpoint 'http://h:1'"),
       "http endpoint rejected on line 6");
    ok(s_reported(report, "suppliers.csv:7: invalid endpoint 'tcp://h:99999'"),
       "port out of range rejected on line 7");
    ok(s_reported(report, "suppliers.csv:8: invalid CURVE key 'shortkey'"),
       "short CURVE key rejected on line 8");
    ok(s_reported(report, "suppliers.csv:9: invalid signing key 'abcd'"),
       "short signing key rejected on line 9");
    char expected[256];
    snprintf(expected, sizeof expected,
             "suppliers.csv:10: CURVE key '%s' already belongs to supplier "
             "ALFA",
             s_alfa_curve);
    ok(s_reported(report, expected), "shared CURVE key rejected on line 10");
    ok(s_reported(report, "suppliers.csv:11: expected 5 fields"),
       "short row rejected on line 11");

    dir_supplier_t bravo;
    is_int(directory_db_get_supplier(s_db, "BRVO", &bravo, error, sizeof error),
           1, "BRVO stored");
    is_str(bravo.name, "Bravo, Ltd", "quoted name stored whole");
    is_str(bravo.curve_key, s_bravo_curve, "CURVE key stored");
    char sign_hex[65];
    is_str(hex_encode(bravo.sign_key, 32, sign_hex), s_bravo_sign,
           "signing key stored as bytes");
}

static char s_mpan_a[14], s_mpan_b[14], s_mprn_g[16];
static char s_points_csv[1024];

static void test_supply_points(void)
{
    char bad_mpan[14], bad_mprn[16], text[4096], report[4096], error[512];
    s_mpan("120002330596", s_mpan_a);
    s_mpan("120002330597", s_mpan_b);
    s_mprn("12345678", s_mprn_g);
    memcpy(bad_mpan, s_mpan_a, sizeof bad_mpan);
    bad_mpan[12] = (char)('0' + (s_mpan_a[12] - '0' + 1) % 10);
    memcpy(bad_mprn, s_mprn_g, sizeof bad_mprn);
    bad_mprn[9] = (char)('0' + (s_mprn_g[9] - '0' + 1) % 10);

    snprintf(s_points_csv, sizeof s_points_csv,
             "mpxn,fuel,meter_id,smart,installing,head_end\n"
             "%s,electricity,MTR-A,true,ALFA,sim\n"
             "%s,electricity,MTR-B,true,BRVO,sim\n"
             "%s,gas,GAS-1,false,ALFA,sim\n",
             s_mpan_a, s_mpan_b, s_mprn_g);
    snprintf(text, sizeof text,
             "%s"
             "%s,electricity,X,true,ALFA,sim\n"    /* 5 */
             "%s,gas,X,true,ALFA,sim\n"            /* 6 */
             "%s,gas,X,true,ALFA,sim\n"            /* 7 */
             "%s,water,X,true,ALFA,sim\n"          /* 8 */
             "%s,electricity,X,yes,ALFA,sim\n"     /* 9 */
             "%s,electricity,X,true,ZULU,sim\n"    /* 10 */
             "%s,electricity,,true,ALFA,sim\n"     /* 11 */
             "12AB,electricity,X,true,ALFA,sim\n", /* 12 */
             s_points_csv, bad_mpan, bad_mprn, s_mpan_a, s_mpan_a, s_mpan_a,
             s_mpan_a, s_mpan_a);
    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_SUPPLY_POINTS, "supply_points.csv", text, &counts,
                  report, sizeof report, error),
           0, "supply points file loads");
    is_int(counts.added, 3, "three supply points added");
    is_int(counts.rejected, 8, "eight supply points rejected");

    char expected[256];
    snprintf(expected, sizeof expected,
             "supply_points.csv:5: invalid MPAN core '%s': check digit",
             bad_mpan);
    ok(s_reported(report, expected), "MPAN check digit rejected on line 5");
    snprintf(expected, sizeof expected,
             "supply_points.csv:6: invalid MPRN '%s': check digits", bad_mprn);
    ok(s_reported(report, expected), "MPRN check digits rejected on line 6");
    snprintf(expected, sizeof expected,
             "supply_points.csv:7: fuel 'gas' does not match '%s', which is "
             "an MPAN core",
             s_mpan_a);
    ok(s_reported(report, expected), "fuel mismatch rejected on line 7");
    ok(s_reported(report, "supply_points.csv:8: invalid fuel 'water'"),
       "unknown fuel rejected on line 8");
    ok(s_reported(report, "supply_points.csv:9: invalid smart flag 'yes'"),
       "smart flag rejected on line 9");
    ok(s_reported(report, "supply_points.csv:10: unknown installing "
                          "supplier 'ZULU'"),
       "unknown installing supplier rejected on line 10");
    ok(s_reported(report, "supply_points.csv:11: meter id is empty"),
       "empty meter id rejected on line 11");
    ok(s_reported(report, "supply_points.csv:12: invalid supply point "
                          "number '12AB'"),
       "non-digit mpxn rejected on line 12");

    dir_supply_point_t point;
    is_int(directory_db_get_supply_point(s_db, s_mprn_g, &point, error,
                                         sizeof error),
           1, "gas supply point stored");
    is_str(point.fuel, "gas", "fuel stored");
    ok(!point.smart, "smart flag false stored");
    is_str(point.installing, "ALFA", "installing supplier stored");
}

static char s_registrations_csv[1024];

static void test_registrations(void)
{
    char unknown[14], text[4096], report[4096], error[512];
    s_mpan("199999999999", unknown);
    snprintf(s_registrations_csv, sizeof s_registrations_csv,
             "mpxn,supplier,from,to\n"
             "%s,ALFA,2013-01-01,2013-07-01T00:00:00Z\n"
             "%s,BRVO,2013-07-01T00:00:00Z,\n"
             "%s,BRVO,2012-06-01,\n",
             s_mpan_a, s_mpan_a, s_mpan_b);
    snprintf(text, sizeof text,
             "%s"
             "%s,ALFA,2013-01-01,\n"            /* 5 */
             "%s,ZULU,2013-01-01,\n"            /* 6 */
             "%s,ALFA,2013-13-01,\n"            /* 7 */
             "%s,ALFA,2014-05-01,2014-04-01\n"  /* 8 */
             "%s,ALFA,2013-06-01,2013-08-01\n"  /* 9 */
             "%s,ALFA,2013-02-01,\n"            /* 10 */
             "%s,ALFA,2013-02-01,not a date\n", /* 11 */
             s_registrations_csv, unknown, s_mpan_a, s_mpan_a, s_mprn_g,
             s_mpan_a, s_mprn_g, s_mprn_g);
    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_REGISTRATIONS, "registrations.csv", text, &counts,
                  report, sizeof report, error),
           0, "registrations file loads");
    is_int(counts.added, 4, "four registrations added");
    is_int(counts.rejected, 6, "six registrations rejected");

    char expected[256];
    snprintf(expected, sizeof expected,
             "registrations.csv:5: unknown supply point '%s'", unknown);
    ok(s_reported(report, expected), "unknown mpxn rejected on line 5");
    ok(s_reported(report, "registrations.csv:6: unknown supplier 'ZULU'"),
       "unknown supplier rejected on line 6");
    ok(s_reported(report, "registrations.csv:7: invalid start '2013-13-01'"),
       "impossible date rejected on line 7");
    ok(s_reported(report, "registrations.csv:8: end 2014-04-01T00:00:00Z is "
                          "not after start 2014-05-01T00:00:00Z"),
       "end before start rejected on line 8");
    snprintf(expected, sizeof expected,
             "registrations.csv:9: registration of %s to ALFA for "
             "2013-06-01T00:00:00Z to 2013-08-01T00:00:00Z overlaps its "
             "registration to ALFA for 2013-01-01T00:00:00Z to "
             "2013-07-01T00:00:00Z",
             s_mpan_a);
    ok(s_reported(report, expected), "overlap rejected on line 9");
    ok(s_reported(report, "registrations.csv:11: invalid end 'not a date'"),
       "bad end rejected on line 11");
    ok(strstr(report, "registrations.csv:10:") == NULL,
       "open registration on the gas point loaded from line 10");

    dir_supply_point_t point = {0};
    snprintf(point.mpxn, sizeof point.mpxn, "%s", s_mpan_a);
    is_int(directory_db_get_registrations(s_db, &point, error, sizeof error), 0,
           "registrations read");
    is_int(point.registration_count, 2, "two registrations of MPAN A");
    is_str(point.registrations[0].supplier, "ALFA", "ALFA first");
    int64_t july;
    if (clock_parse_iso("2013-07-01", &july) != 0)
        bail_out("clock_parse_iso failed");
    is_int(point.registrations[0].to_ms, july, "ALFA ends 1 July");
    is_int(point.registrations[1].from_ms, july, "BRVO starts 1 July");
    ok(point.registrations[1].to_ms == DIR_OPEN_END, "BRVO is open");
}

static void test_idempotent_reload(void)
{
    char report[4096], error[512];
    uint64_t before, after;
    if (directory_db_last_change(s_db, &before, error, sizeof error) != 0)
        bail_out("last change: %s", error);

    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_SUPPLIERS, "suppliers.csv", s_suppliers_csv,
                  &counts, report, sizeof report, error),
           0, "suppliers reloaded");
    is_int(counts.added + counts.updated, 0, "no supplier added again");
    is_int(counts.unchanged, 2, "both suppliers unchanged");
    is_int(s_load(DIRECTORY_SUPPLY_POINTS, "supply_points.csv", s_points_csv,
                  &counts, report, sizeof report, error),
           0, "supply points reloaded");
    is_int(counts.unchanged, 3, "three supply points unchanged");
    is_int(counts.added + counts.updated, 0, "no supply point added again");
    is_int(s_load(DIRECTORY_REGISTRATIONS, "registrations.csv",
                  s_registrations_csv, &counts, report, sizeof report, error),
           0, "registrations reloaded");
    is_int(counts.unchanged, 3, "three registrations unchanged");
    is_int(counts.added + counts.updated + counts.rejected, 0,
           "no registration added or rejected");

    dir_supply_point_t point = {0};
    snprintf(point.mpxn, sizeof point.mpxn, "%s", s_mpan_a);
    if (directory_db_get_registrations(s_db, &point, error, sizeof error))
        bail_out("registrations: %s", error);
    is_int(point.registration_count, 2, "still two registrations");
    if (directory_db_last_change(s_db, &after, error, sizeof error) != 0)
        bail_out("last change: %s", error);
    is_int(after, before, "an unchanged reload records no change");
}

static void test_updates(void)
{
    char text[2048], report[4096], error[512];
    uint64_t before, after;
    if (directory_db_last_change(s_db, &before, error, sizeof error) != 0)
        bail_out("last change: %s", error);
    snprintf(text, sizeof text,
             "mpid,name,endpoint,curve_key,sign_key\n"
             "ALFA,Alfa Energy,tcp://127.0.0.1:7101,%s,%s\n",
             s_alfa_curve, s_alfa_sign);
    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_SUPPLIERS, "suppliers.csv", text, &counts, report,
                  sizeof report, error),
           0, "changed supplier loads");
    is_int(counts.updated, 1, "supplier with a new endpoint updated");
    dir_supplier_t alfa;
    if (directory_db_get_supplier(s_db, "ALFA", &alfa, error, sizeof error) !=
        1)
        bail_out("ALFA: %s", error);
    is_str(alfa.endpoint, "tcp://127.0.0.1:7101", "new endpoint stored");

    /* Ending BRVO's open registration of MPAN B is an update of its row. */
    snprintf(text, sizeof text,
             "mpxn,supplier,from,to\n%s,BRVO,2012-06-01,2014-01-01\n",
             s_mpan_b);
    is_int(s_load(DIRECTORY_REGISTRATIONS, "registrations.csv", text, &counts,
                  report, sizeof report, error),
           0, "ended registration loads");
    is_int(counts.updated, 1, "open registration given an end");
    if (directory_db_last_change(s_db, &after, error, sizeof error) != 0)
        bail_out("last change: %s", error);
    is_int(after, before + 2, "each changing load records a change");
}

static void test_truncated_file(void)
{
    char text[1024], report[4096], error[512], mpan_c[14], mpan_d[14];
    s_mpan("120002330598", mpan_c);
    s_mpan("120002330599", mpan_d);
    /* The copy stopped mid-row; the last row has half its fields. */
    snprintf(text, sizeof text,
             "mpxn,fuel,meter_id,smart,installing,head_end\n"
             "%s,electricity,MTR-C,true,ALFA,sim\n"
             "%s,electr",
             mpan_c, mpan_d);
    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_SUPPLY_POINTS, "cut.csv", text, &counts, report,
                  sizeof report, error),
           0, "truncated file loads its whole rows");
    is_int(counts.added, 1, "row before the cut added");
    is_int(counts.rejected, 1, "cut row rejected");
    ok(s_reported(report, "cut.csv:3: expected 6 fields"),
       "cut row reported on line 3");

    snprintf(text, sizeof text,
             "mpxn,fuel,meter_id,smart,installing,head_end\n"
             "%s,electricity,\"MTR-D",
             mpan_d);
    is_int(s_load(DIRECTORY_SUPPLY_POINTS, "cut.csv", text, &counts, report,
                  sizeof report, error),
           0, "file cut inside a quote loads");
    is_int(counts.rejected, 1, "row with an open quote rejected");
    ok(s_reported(report, "cut.csv:2: quoted field 3 is not closed"),
       "open quote reported on line 2");
    dir_supply_point_t point;
    is_int(directory_db_get_supply_point(s_db, mpan_d, &point, error,
                                         sizeof error),
           0, "cut supply point not stored");
}

static void test_bad_headers(void)
{
    char report[1024], error[512];
    directory_load_counts_t counts;
    is_int(s_load(DIRECTORY_SUPPLIERS, "suppliers.csv",
                  "mpid,name,endpoint,sign_key,curve_key\n", &counts, report,
                  sizeof report, error),
           -1, "columns out of order fail the file");
    ok(strstr(error, "suppliers.csv:1: expected the header row "
                     "'mpid,name,endpoint,curve_key,sign_key'") != NULL,
       "error gives the expected header: %s", error);
    is_int(s_load(DIRECTORY_REGISTRATIONS, "empty.csv", "", &counts, report,
                  sizeof report, error),
           -1, "empty file fails");
    ok(strstr(error, "empty.csv: file is empty") != NULL,
       "error says the file is empty: %s", error);

    char text[512];
    snprintf(text, sizeof text, "%s,ALFA,2020-01-01,\n",
             s_mpan_a); /* rows, no header */
    is_int(s_load(DIRECTORY_REGISTRATIONS, "noheader.csv", text, &counts,
                  report, sizeof report, error),
           -1, "file without a header fails");
    is_int(counts.added, 0, "nothing added from it");

    is_int(directory_load_file(s_db, DIRECTORY_SUPPLIERS, "/nonexistent.csv",
                               NULL, &counts, error, sizeof error),
           -1, "missing file fails");
    ok(strstr(error, "/nonexistent.csv") != NULL, "error names the path");
}

static void test_database_must_exist(void)
{
    char path[256], error[512];
    snprintf(path, sizeof path, "%s/missing.db", s_dir);
    ok(directory_db_open(path, false, error, sizeof error) == NULL,
       "missing database not opened without create");
    ok(strstr(error, "sdx-directory init --db") != NULL,
       "error says to run init: %s", error);
    ok(access(path, F_OK) != 0, "no file made");
}

int main(void)
{
    srand(2013);
    if (!mkdtemp(s_dir))
        bail_out("mkdtemp failed");
    char path[256], error[512];
    snprintf(path, sizeof path, "%s/directory.db", s_dir);
    s_db = directory_db_open(path, true, error, sizeof error);
    if (!s_db)
        bail_out("cannot create the database: %s", error);

    test_suppliers();
    test_supply_points();
    test_registrations();
    test_idempotent_reload();
    test_updates();
    test_truncated_file();
    test_bad_headers();
    test_database_must_exist();

    directory_db_destroy(&s_db);
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
