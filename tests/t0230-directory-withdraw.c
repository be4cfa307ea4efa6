/* Withdrawal of a change of supplier: the registrations go back to what
 * they were, and the change log keeps both entries with the reason. Only
 * the latest change that is not withdrawn can be withdrawn. A database of
 * schema version 1 is upgraded in place. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "directory_change.h"
#include "directory_db.h"
#include "directory_withdraw.h"
#include "mpxn.h"
#include "tap.h"

static directory_db_t *s_db;
static char s_dir[] = "/tmp/sdx-t0230-XXXXXX";
static char s_open_point[14];   /* ALFA from 2013-01-01 */
static char s_closed_point[14]; /* ALFA 2013-01-01 to 2013-03-01 only */
static char s_edited_point[14]; /* ALFA from 2013-01-01 */

static int64_t s_ms(const char *iso)
{
    int64_t ms;
    if (clock_parse_iso(iso, &ms) != 0)
        bail_out("clock_parse_iso failed for %s", iso);
    return ms;
}

static void s_add_supplier(const char *mpid, uint8_t seed)
{
    dir_supplier_t supplier = {0};
    uint8_t key[32];
    memset(key, seed, sizeof key);
    snprintf(supplier.mpid, sizeof supplier.mpid, "%s", mpid);
    snprintf(supplier.name, sizeof supplier.name, "Supplier %s", mpid);
    snprintf(supplier.endpoint, sizeof supplier.endpoint, "tcp://127.0.0.1:%d",
             7000 + seed);
    zmq_z85_encode(supplier.curve_key, key, sizeof key);
    memcpy(supplier.sign_key, key, sizeof key);
    char error[512];
    if (directory_db_put_supplier(s_db, &supplier, error, sizeof error) != 0)
        bail_out("put supplier: %s", error);
}

static void s_add_point(const char *digits12, char core[14])
{
    if (mpan_core_make(digits12, core) != 0)
        bail_out("mpan_core_make failed");
    dir_supply_point_t point = {.smart = true};
    snprintf(point.mpxn, sizeof point.mpxn, "%s", core);
    snprintf(point.fuel, sizeof point.fuel, "electricity");
    snprintf(point.meter_id, sizeof point.meter_id, "MTR-%s", digits12);
    snprintf(point.installing, sizeof point.installing, "ALFA");
    snprintf(point.head_end, sizeof point.head_end, "sim");
    char error[512];
    if (directory_db_put_supply_point(s_db, &point, error, sizeof error) != 0)
        bail_out("put supply point: %s", error);
}

static void s_register(const char *mpxn, const char *from, const char *to)
{
    dir_registration_t registration = {.supplier = "ALFA",
                                       .from_ms = s_ms(from),
                                       .to_ms = to ? s_ms(to) : DIR_OPEN_END};
    char error[512];
    if (directory_db_insert_registration(s_db, mpxn, &registration, error,
                                         sizeof error) != 0)
        bail_out("insert registration: %s", error);
}

static dir_supply_point_t s_read(const char *mpxn)
{
    dir_supply_point_t point = {0};
    snprintf(point.mpxn, sizeof point.mpxn, "%s", mpxn);
    char error[512];
    if (directory_db_get_registrations(s_db, &point, error, sizeof error))
        bail_out("registrations: %s", error);
    return point;
}

static uint64_t s_last_change(void)
{
    uint64_t number;
    char error[512];
    if (directory_db_last_change(s_db, &number, error, sizeof error) != 0)
        bail_out("last change: %s", error);
    return number;
}

static uint64_t s_change(const char *mpxn, const char *supplier, const char *at)
{
    uint64_t number;
    char error[512];
    if (directory_change_supplier(s_db, mpxn, supplier, s_ms(at), &number,
                                  error, sizeof error) != 0)
        bail_out("change of supplier: %s", error);
    return number;
}

/* Reads change number from the change log. */
static directory_change_row_t s_row(uint64_t number)
{
    directory_change_row_t row;
    size_t count;
    char error[512];
    if (directory_db_list_changes(s_db, number - 1, NULL, &row, 1, &count,
                                  error, sizeof error) != 0 ||
        count != 1)
        bail_out("change %llu not listed: %s", (unsigned long long)number,
                 error);
    return row;
}

/* Runs a withdrawal that must fail and checks that nothing moved. */
static void s_expect_rejected(uint64_t number, const char *reason,
                              const char *mpxn, const char *message,
                              const char *name)
{
    char error[768] = "";
    uint64_t before = s_last_change();
    dir_supply_point_t old_point = s_read(mpxn);
    is_int(directory_withdraw_change(s_db, number, reason, NULL, error,
                                     sizeof error),
           -1, "%s is rejected", name);
    ok(strstr(error, message) != NULL, "%s: error '%s' contains '%s'", name,
       error, message);
    is_int(s_last_change(), before, "%s records no change", name);
    dir_supply_point_t new_point = s_read(mpxn);
    is_int(new_point.registration_count, old_point.registration_count,
           "%s leaves the registrations", name);
}

static void test_supplier_change_record(void)
{
    uint64_t number = s_change(s_open_point, "BRVO", "2014-01-01");
    directory_supplier_change_t change;
    char error[512];
    is_int(directory_db_get_supplier_change(s_db, number, &change, error,
                                            sizeof error),
           1, "the change of supplier is kept");
    is_str(change.mpxn, s_open_point, "it names the supply point");
    is_str(change.losing, "ALFA", "and the losing supplier");
    is_int(change.closed_from_ms, s_ms("2013-01-01"),
           "and the start of the registration it ended");
    is_str(change.gaining, "BRVO", "and the gaining supplier");
    is_int(change.effective_ms, s_ms("2014-01-01"), "and when");
    is_int(change.withdrawn_by, 0, "it stands");
    is_str(s_row(number).change.kind, DIR_CHANGE_SUPPLIER,
           "the change log names its kind");
}

static void test_withdraw_latest(void)
{
    uint64_t first = s_last_change();
    uint64_t second = s_change(s_open_point, "CHRL", "2015-01-01");
    char text[128];
    snprintf(text, sizeof text, "withdraw change %llu first",
             (unsigned long long)second);
    s_expect_rejected(first, "keyed in error", s_open_point, text,
                      "an earlier change");

    char error[768] = "";
    uint64_t withdrawal = 0;
    is_int(directory_withdraw_change(s_db, second, "keyed in error",
                                     &withdrawal, error, sizeof error),
           0, "the latest change is withdrawn");
    is_int(withdrawal, second + 1, "the withdrawal gets the next number");
    dir_supply_point_t point = s_read(s_open_point);
    is_int(point.registration_count, 2, "the gaining registration is gone");
    is_str(point.registrations[1].supplier, "BRVO", "BRVO is registered");
    ok(point.registrations[1].to_ms == DIR_OPEN_END, "BRVO is open again");

    directory_change_row_t withdrawn = s_row(second);
    is_int(withdrawn.withdrawn_by, withdrawal, "the change says who withdrew");
    is_str(withdrawn.withdrawal_reason, "keyed in error", "and why");
    directory_change_row_t entry = s_row(withdrawal);
    is_str(entry.change.kind, DIR_CHANGE_WITHDRAWAL, "the withdrawal's kind");
    is_str(entry.change.mpxn, s_open_point, "the withdrawal's supply point");
    ok(strstr(entry.description, "keyed in error") != NULL,
       "the withdrawal's description has the reason: %s", entry.description);

    snprintf(text, sizeof text, "already withdrawn by change %llu",
             (unsigned long long)withdrawal);
    s_expect_rejected(second, "again", s_open_point, text, "a second time");

    is_int(directory_withdraw_change(s_db, first, "wrong supplier", NULL, error,
                                     sizeof error),
           0, "the change before it can be withdrawn next");
    point = s_read(s_open_point);
    is_int(point.registration_count, 1, "one registration is left");
    is_str(point.registrations[0].supplier, "ALFA", "ALFA's");
    ok(point.registrations[0].to_ms == DIR_OPEN_END, "ALFA is open again");
}

static void test_withdraw_without_losing(void)
{
    uint64_t number = s_change(s_closed_point, "BRVO", "2013-06-01");
    char error[768] = "";
    is_int(directory_withdraw_change(s_db, number, "no such switch", NULL,
                                     error, sizeof error),
           0, "a change after a gap is withdrawn");
    dir_supply_point_t point = s_read(s_closed_point);
    is_int(point.registration_count, 1, "only the closed registration stays");
    is_int(point.registrations[0].to_ms, s_ms("2013-03-01"),
           "it keeps its end");
}

static void test_edited_since(void)
{
    uint64_t number = s_change(s_edited_point, "BRVO", "2014-01-01");
    char error[512];
    if (directory_db_set_registration_end(
            s_db, s_edited_point, s_ms("2014-01-01"), s_ms("2014-06-01"), error,
            sizeof error) != 0)
        bail_out("set end: %s", error);
    s_expect_rejected(number, "late", s_edited_point, "was edited after change",
                      "an edited registration");
}

static void test_rejected_input(void)
{
    char load_note[] = "loaded suppliers.csv";
    uint64_t load;
    char error[512];
    if (directory_db_record_change(s_db, clock_now_ms(), DIR_CHANGE_LOAD, NULL,
                                   load_note, &load, error, sizeof error) != 0)
        bail_out("record load: %s", error);
    s_expect_rejected(load, "wrong", s_open_point,
                      "is a load, not a change of supplier", "a load");
    s_expect_rejected(load + 100, "wrong", s_open_point, "no change",
                      "unknown");
    s_expect_rejected(0, "wrong", s_open_point, "invalid change number 0",
                      "number 0");
    uint64_t number = s_change(s_open_point, "BRVO", "2016-01-01");
    s_expect_rejected(number, "", s_open_point, "invalid reason",
                      "an empty reason");
    s_expect_rejected(number, "line one\nline two", s_open_point,
                      "control character at byte 8", "a reason of two lines");
    char longer[DIRECTORY_REASON_MAX + 2];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    s_expect_rejected(number, longer, s_open_point, "found 201",
                      "a reason of 201 bytes");
}

static void test_list_by_mpxn(void)
{
    directory_change_row_t rows[64];
    size_t count;
    char error[512];
    is_int(directory_db_list_changes(s_db, 0, s_closed_point, rows, 64, &count,
                                     error, sizeof error),
           0, "the changes of one supply point are listed");
    is_int(count, 2, "its change and withdrawal");
    is_str(rows[0].change.kind, DIR_CHANGE_SUPPLIER, "change first");
    is_str(rows[1].change.kind, DIR_CHANGE_WITHDRAWAL, "withdrawal second");
    is_int(rows[0].withdrawn_by, rows[1].change.number,
           "the first is withdrawn by the second");
    is_int(directory_db_list_changes(s_db, rows[0].change.number,
                                     s_closed_point, rows, 64, &count, error,
                                     sizeof error),
           0, "listing after a number");
    is_int(count, 1, "leaves out that number and earlier ones");
    is_int(directory_db_list_changes(s_db, 0, NULL, rows, 3, &count, error,
                                     sizeof error),
           0, "listing with a limit");
    is_int(count, 3, "stops at the limit");
    is_int(rows[2].change.number, rows[0].change.number + 2, "in number order");
}

/* The tables of schema version 1, and a change of supplier recorded by
 * that version, which kept no supplier_changes row. */
static const char s_version_1[] =
    "CREATE TABLE suppliers (mpid TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " endpoint TEXT NOT NULL, curve_key TEXT NOT NULL UNIQUE,"
    " sign_key BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE supply_points (mpxn TEXT PRIMARY KEY, fuel TEXT NOT NULL,"
    " meter_id TEXT NOT NULL, smart INTEGER NOT NULL,"
    " installing TEXT NOT NULL, head_end TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE registrations (mpxn TEXT NOT NULL,"
    " supplier TEXT NOT NULL, from_ms INTEGER NOT NULL, to_ms INTEGER,"
    " PRIMARY KEY (mpxn, from_ms)) WITHOUT ROWID;"
    "CREATE TABLE changes (number INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at_ms INTEGER NOT NULL, kind TEXT NOT NULL, mpxn TEXT,"
    " description TEXT NOT NULL);"
    "INSERT INTO changes (at_ms, kind, mpxn, description)"
    " VALUES (0, 'change_of_supplier', '1200023305967', 'old');"
    "PRAGMA user_version = 1;";

static int s_user_version(const char *path)
{
    sqlite3 *handle;
    sqlite3_stmt *stmt;
    int version = -1;
    if (sqlite3_open(path, &handle) != SQLITE_OK)
        bail_out("cannot open %s", path);
    if (sqlite3_prepare_v2(handle, "PRAGMA user_version", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return version;
}

static void test_upgrade_from_version_1(void)
{
    char path[256], error[768];
    snprintf(path, sizeof path, "%s/version1.db", s_dir);
    sqlite3 *handle;
    if (sqlite3_open(path, &handle) != SQLITE_OK ||
        sqlite3_exec(handle, s_version_1, NULL, NULL, NULL) != SQLITE_OK)
        bail_out("cannot make a version 1 database");
    sqlite3_close(handle);

    directory_db_t *db = directory_db_open(path, false, error, sizeof error);
    ok(db != NULL, "a version 1 database opens: %s", db ? "" : error);
    if (!db)
        return;
    is_int(s_user_version(path), DIRECTORY_DB_SCHEMA_VERSION,
           "it is upgraded to the current version");
    is_int(directory_withdraw_change(db, 1, "old", NULL, error, sizeof error),
           -1, "a change recorded by version 1 cannot be withdrawn");
    ok(strstr(error, "recorded before the directory kept") != NULL,
       "the error says why: %s", error);
    directory_db_destroy(&db);
}

int main(void)
{
    if (!mkdtemp(s_dir))
        bail_out("mkdtemp failed");
    char path[256], error[512];
    snprintf(path, sizeof path, "%s/directory.db", s_dir);
    s_db = directory_db_open(path, true, error, sizeof error);
    if (!s_db)
        bail_out("cannot create the database: %s", error);
    s_add_supplier("ALFA", 1);
    s_add_supplier("BRVO", 2);
    s_add_supplier("CHRL", 3);
    s_add_point("120002330596", s_open_point);
    s_add_point("120002330597", s_closed_point);
    s_add_point("120002330598", s_edited_point);
    s_register(s_open_point, "2013-01-01", NULL);
    s_register(s_closed_point, "2013-01-01", "2013-03-01");
    s_register(s_edited_point, "2013-01-01", NULL);

    test_supplier_change_record();
    test_withdraw_latest();
    test_withdraw_without_losing();
    test_edited_since();
    test_rejected_input();
    test_list_by_mpxn();
    test_upgrade_from_version_1();

    directory_db_destroy(&s_db);
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
