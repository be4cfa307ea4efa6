/* Change of supplier: the registration moves at the given instant, the
 * change log records it, and each invalid request is rejected with a clear
 * error and no change to the database. */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "directory_change.h"
#include "directory_db.h"
#include "hex.h"
#include "mpxn.h"
#include "tap.h"

static directory_db_t *s_db;
static char s_open_point[14];   /* registered to ALFA from 2013-01-01 */
static char s_closed_point[14]; /* ALFA 2013-01-01 to 2013-03-01 only */
static char s_empty_point[14];  /* no registration */

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
    dir_supply_point_t point = {0};
    snprintf(point.mpxn, sizeof point.mpxn, "%s", core);
    snprintf(point.fuel, sizeof point.fuel, "electricity");
    snprintf(point.meter_id, sizeof point.meter_id, "MTR-%s", digits12);
    point.smart = true;
    snprintf(point.installing, sizeof point.installing, "ALFA");
    snprintf(point.head_end, sizeof point.head_end, "sim");
    char error[512];
    if (directory_db_put_supply_point(s_db, &point, error, sizeof error) != 0)
        bail_out("put supply point: %s", error);
}

static void s_register(const char *mpxn, const char *supplier, const char *from,
                       const char *to)
{
    dir_registration_t registration = {.from_ms = s_ms(from),
                                       .to_ms = to ? s_ms(to) : DIR_OPEN_END};
    snprintf(registration.supplier, sizeof registration.supplier, "%s",
             supplier);
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

static void test_change_of_supplier(void)
{
    char error[512] = "";
    uint64_t before = s_last_change();
    uint64_t number = 0;
    int64_t at = s_ms("2013-07-01T12:30:00Z");
    is_int(directory_change_supplier(s_db, s_open_point, "BRVO", at, &number,
                                     error, sizeof error),
           0, "change to BRVO accepted");
    is_int(number, before + 1, "change number is the next one");
    is_int(s_last_change(), number, "change log holds it");

    dir_supply_point_t point = s_read(s_open_point);
    is_int(point.registration_count, 2, "two registrations");
    is_str(point.registrations[0].supplier, "ALFA", "ALFA first");
    is_int(point.registrations[0].to_ms, at, "ALFA ends at the change");
    is_str(point.registrations[1].supplier, "BRVO", "BRVO second");
    is_int(point.registrations[1].from_ms, at, "BRVO starts at the change");
    ok(point.registrations[1].to_ms == DIR_OPEN_END, "BRVO is open");
}

/* Runs a change that must fail and checks that nothing moved. */
static void s_expect_rejected(const char *mpxn, const char *supplier,
                              const char *at, const char *message,
                              const char *name)
{
    char error[512] = "";
    uint64_t before = s_last_change();
    dir_supply_point_t old_point = {0};
    bool known = mpxn_classify(mpxn, NULL, 0) != MPXN_INVALID;
    if (known)
        old_point = s_read(mpxn);
    is_int(directory_change_supplier(s_db, mpxn, supplier, s_ms(at), NULL,
                                     error, sizeof error),
           -1, "%s is rejected", name);
    ok(strstr(error, message) != NULL, "%s: error '%s' contains '%s'", name,
       error, message);
    is_int(s_last_change(), before, "%s records no change", name);
    if (known) {
        dir_supply_point_t new_point = s_read(mpxn);
        is_int(new_point.registration_count, old_point.registration_count,
               "%s leaves the registrations", name);
    }
}

static void test_rejected_changes(void)
{
    char unknown[14], text[256];
    if (mpan_core_make("199999999998", unknown) != 0)
        bail_out("mpan_core_make failed");
    snprintf(text, sizeof text, "unknown supply point '%s'", unknown);
    s_expect_rejected(unknown, "BRVO", "2014-01-01", text, "unknown mpxn");
    s_expect_rejected("1200023305968", "BRVO", "2014-01-01",
                      "invalid MPAN core '1200023305968'", "bad check digit");
    s_expect_rejected(s_open_point, "ZULU", "2014-01-01",
                      "unknown supplier 'ZULU'", "unknown supplier");
    s_expect_rejected(s_open_point, "brvo", "2014-01-01", "invalid MPID 'brvo'",
                      "lower-case MPID");
    snprintf(text, sizeof text,
             "supply point %s is already registered to "
             "BRVO",
             s_open_point);
    s_expect_rejected(s_open_point, "BRVO", "2014-01-01", text,
                      "same supplier");
    s_expect_rejected(s_open_point, "ALFA", "2013-05-01",
                      "change time 2013-05-01T00:00:00Z is not after the "
                      "start of the current registration",
                      "time before the current start");
    s_expect_rejected(s_open_point, "ALFA", "2013-07-01T12:30:00Z",
                      "is not after the start of the current registration",
                      "time equal to the current start");
    s_expect_rejected(s_closed_point, "BRVO", "2013-02-01",
                      "is before the end of the latest registration",
                      "time inside a closed registration");
}

static void test_without_open_registration(void)
{
    char error[512] = "";
    is_int(directory_change_supplier(s_db, s_closed_point, "BRVO",
                                     s_ms("2013-04-01"), NULL, error,
                                     sizeof error),
           0, "change after a gap accepted");
    dir_supply_point_t point = s_read(s_closed_point);
    is_int(point.registration_count, 2, "closed one kept, new one added");
    is_int(point.registrations[0].to_ms, s_ms("2013-03-01"),
           "closed registration keeps its end");
    is_int(point.registrations[1].from_ms, s_ms("2013-04-01"),
           "new registration starts at the change");

    is_int(directory_change_supplier(s_db, s_empty_point, "BRVO",
                                     s_ms("2013-04-01"), NULL, error,
                                     sizeof error),
           0, "first registration by change accepted");
    point = s_read(s_empty_point);
    is_int(point.registration_count, 1, "one registration");
    ok(point.registrations[0].to_ms == DIR_OPEN_END, "it is open");
}

int main(void)
{
    char dir[] = "/tmp/sdx-t0203-XXXXXX";
    if (!mkdtemp(dir))
        bail_out("mkdtemp failed");
    char path[256], error[512];
    snprintf(path, sizeof path, "%s/directory.db", dir);
    s_db = directory_db_open(path, true, error, sizeof error);
    if (!s_db)
        bail_out("cannot create the database: %s", error);
    s_add_supplier("ALFA", 1);
    s_add_supplier("BRVO", 2);
    s_add_point("120002330596", s_open_point);
    s_add_point("120002330597", s_closed_point);
    s_add_point("120002330598", s_empty_point);
    s_register(s_open_point, "ALFA", "2013-01-01", NULL);
    s_register(s_closed_point, "ALFA", "2013-01-01", "2013-03-01");

    test_change_of_supplier();
    test_rejected_changes();
    test_without_open_registration();

    directory_db_destroy(&s_db);
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        diag("could not remove %s", dir);
    return tap_done();
}
