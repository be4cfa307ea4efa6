/* The directory server in process, queried through the node's directory
 * client: withheld registrations, the rate limit seen as
 * DIR_RATE_LIMITED and its recovery, keys in supplier answers, and the
 * query log written when the server stops. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dir_keys.h"
#include "directory_db.h"
#include "directory_query_log.h"
#include "directory_server.h"
#include "dirclient.h"
#include "keys.h"
#include "log.h"
#include "mpxn.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0244-XXXXXX";
static char s_point[14];

static void s_path(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", s_dir, name);
}

/* Makes the key files of name and puts them in supplier. */
static void s_keys(const char *name, dir_supplier_t *supplier)
{
    char error[256], path[PATH_MAX], file[64];
    if (keys_generate(s_dir, name, error, sizeof error) != 0)
        bail_out("keys_generate %s: %s", name, error);
    snprintf(file, sizeof file, "%s.cert", name);
    s_path(path, file);
    if (keys_load_curve_public(path, supplier->curve_key, error,
                               sizeof error) != 0)
        bail_out("%s", error);
    snprintf(file, sizeof file, "%s.sign", name);
    s_path(path, file);
    if (keys_load_sign_public(path, supplier->sign_key, error, sizeof error))
        bail_out("%s", error);
}

static void s_put_supplier(directory_db_t *db, const char *mpid,
                           const char *name)
{
    dir_supplier_t supplier = {0};
    snprintf(supplier.mpid, sizeof supplier.mpid, "%s", mpid);
    snprintf(supplier.name, sizeof supplier.name, "Supplier %s", mpid);
    snprintf(supplier.endpoint, sizeof supplier.endpoint, "tcp://127.0.0.1:9");
    s_keys(name, &supplier);
    char error[512];
    if (directory_db_put_supplier(db, &supplier, error, sizeof error) != 0)
        bail_out("%s", error);
}

/* ALFA installed the meter and is registered; DLTA never was. */
static void s_create_directory(const char *db_path, dir_supplier_t *directory)
{
    char error[512];
    s_keys("directory", directory);
    directory_db_t *db = directory_db_open(db_path, true, error, sizeof error);
    if (!db)
        bail_out("%s", error);
    s_put_supplier(db, "ALFA", "alfa");
    s_put_supplier(db, "DLTA", "delta");
    if (mpan_core_make("120002330596", s_point) != 0)
        bail_out("mpan_core_make failed");
    dir_supply_point_t point = {.smart = true};
    snprintf(point.mpxn, sizeof point.mpxn, "%s", s_point);
    snprintf(point.fuel, sizeof point.fuel, "electricity");
    snprintf(point.meter_id, sizeof point.meter_id, "MTR-1");
    snprintf(point.installing, sizeof point.installing, "ALFA");
    snprintf(point.head_end, sizeof point.head_end, "sim");
    dir_registration_t alfa = {"ALFA", 1356998400000, DIR_OPEN_END};
    if (directory_db_put_supply_point(db, &point, error, sizeof error) != 0 ||
        directory_db_insert_registration(db, s_point, &alfa, error,
                                         sizeof error) != 0)
        bail_out("%s", error);
    directory_db_destroy(&db);
}

static dirclient_t *s_client(const char *name, const char *endpoint,
                             const dir_supplier_t *directory)
{
    char path[PATH_MAX], file[64], error[256];
    snprintf(file, sizeof file, "%s.cert", name);
    s_path(path, file);
    zcert_t *cert = keys_load_cert(path, error, sizeof error);
    if (!cert)
        bail_out("%s", error);
    dirclient_t *client = dirclient_new(endpoint, directory->curve_key,
                                        directory->sign_key, cert, 2000);
    zcert_destroy(&cert);
    if (!client)
        bail_out("cannot make the client of %s", name);
    return client;
}

static dir_status_t s_lookup(dirclient_t *client, dir_supply_point_t *point,
                             char *error, size_t error_size)
{
    dirclient_flush(client);
    return dirclient_supply_point(client, s_point, point, error, error_size);
}

static void test_access(dirclient_t *alfa, dirclient_t *delta)
{
    char error[512];
    dir_supply_point_t point;
    is_int(s_lookup(alfa, &point, error, sizeof error), DIR_OK,
           "the installer's lookup: %s", error);
    is_int(point.registration_count, 1, "the installer sees registrations");
    ok(!point.registrations_withheld, "not marked withheld");

    is_int(s_lookup(delta, &point, error, sizeof error), DIR_OK,
           "another supplier's lookup: %s", error);
    is_int(point.registration_count, 0, "it sees no registrations");
    ok(point.registrations_withheld, "and they are marked withheld");
    is_str(point.installing, "ALFA", "it sees the installing supplier");
    ok(point.smart, "and the smart status");
}

static void test_rate_limit(dirclient_t *delta)
{
    char error[512];
    dir_supply_point_t point;
    is_int(s_lookup(delta, &point, error, sizeof error), DIR_OK,
           "the second query of a burst of 2: %s", error);
    is_int(s_lookup(delta, &point, error, sizeof error), DIR_RATE_LIMITED,
           "the third is rate limited");
    ok(strstr(error, "rate_limited") != NULL, "the error names the status: %s",
       error);
    ok(strstr(error, "retry in") != NULL, "and says when to retry");
    is_str(dir_status_name(DIR_RATE_LIMITED), "rate_limited",
           "the status has a name");
    usleep(1100 * 1000);
    is_int(s_lookup(delta, &point, error, sizeof error), DIR_OK,
           "after a second at 1 a second it is answered again: %s", error);
}

static void test_supplier_keys(dirclient_t *alfa)
{
    char error[512];
    dir_supplier_t supplier;
    is_int(dirclient_supplier(alfa, "DLTA", &supplier, error, sizeof error),
           DIR_OK, "a supplier answer: %s", error);
    is_int(supplier.key_count, 2, "carries the supplier's two keys");
    const dir_key_t *curve =
        dir_supplier_current_key(&supplier, DIR_KEY_CURVE, clock_now_ms());
    ok(curve && strcmp(curve->curve_key, supplier.curve_key) == 0,
       "curve_key is the current CURVE key");
}

static void test_query_log(const char *log_path)
{
    char *text = NULL, error[512];
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    is_int(directory_query_log_print(log_path, "DLTA", NULL, 0, out, error,
                                     sizeof error),
           0, "the query log is read: %s", error);
    fclose(out);
    int lines = 0;
    for (const char *c = text; c && *c; c++)
        lines += *c == '\n';
    is_int(lines, 1 + 4, "a header and DLTA's four queries");
    ok(text && strstr(text, "rate_limited") != NULL,
       "one of them rate limited");
    ok(text && strstr(text, s_point) != NULL, "naming the supply point");
    free(text);
}

int main(void)
{
    log_init("t0244", false);
    if (!mkdtemp(s_dir))
        bail_out("mkdtemp failed");
    char db_path[PATH_MAX], log_path[PATH_MAX], path[PATH_MAX], error[512];
    s_path(db_path, "directory.db");
    s_path(log_path, "directory.db.queries");
    dir_supplier_t directory = {0};
    s_create_directory(db_path, &directory);
    s_path(path, "directory.cert");
    zcert_t *cert = keys_load_cert(path, error, sizeof error);
    s_path(path, "directory.sign_secret");
    signer_t *signer = keys_load_signer(path, error, sizeof error);
    if (!cert || !signer)
        bail_out("%s", error);
    directory_server_config_t config = {.db_path = db_path,
                                        .cert = cert,
                                        .signer = signer,
                                        .endpoint = "tcp://127.0.0.1:*",
                                        .ttl_seconds = 60,
                                        .query_log_path = log_path,
                                        .rate_per_second = 1,
                                        .rate_burst = 2};
    directory_server_t *server =
        directory_server_new(&config, error, sizeof error);
    if (!server)
        bail_out("server: %s", error);
    const char *endpoint = directory_server_endpoint(server);
    dirclient_t *alfa = s_client("alfa", endpoint, &directory);
    dirclient_t *delta = s_client("delta", endpoint, &directory);

    test_access(alfa, delta);
    test_rate_limit(delta);
    test_supplier_keys(alfa);

    dirclient_destroy(&alfa);
    dirclient_destroy(&delta);
    directory_server_destroy(&server);
    test_query_log(log_path);
    signer_destroy(&signer);
    zcert_destroy(&cert);
    char command[PATH_MAX + 16];
    snprintf(command, sizeof command, "rm -rf %s", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
