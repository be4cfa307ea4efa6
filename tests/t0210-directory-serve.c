/* sdx-directory serve, started as a real process on 127.0.0.1 with keys
 * from keys_generate, queried through the directory client and raw CURVE
 * sockets: signed answers, unknown keys, not_found, malformed frames, the
 * allow-list reload, and the client's cache when the directory stops. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "curve.h"
#include "dir_answer.h"
#include "dir_request.h"
#include "directory_change.h"
#include "directory_db.h"
#include "dirclient.h"
#include "keys.h"
#include "log.h"
#include "mpxn.h"
#include "tap.h"

#define TTL_SECONDS 3

static char s_dir[] = "/tmp/sdx-t0210-XXXXXX";
static char s_program[PATH_MAX];
static char s_db_path[PATH_MAX];
static char s_log_path[PATH_MAX];
static pid_t s_pid = -1;
static char s_endpoint[256];
static char s_directory_curve[41];
static uint8_t s_directory_sign[32];
static char s_point[14];   /* installed by ALFA, registered to BRVO */
static char s_missing[14]; /* valid, not in the directory */

static void s_path(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", s_dir, name);
}

static zcert_t *s_cert(const char *name)
{
    char path[PATH_MAX], file[64], error[256];
    snprintf(file, sizeof file, "%s.cert", name);
    s_path(path, file);
    zcert_t *cert = keys_load_cert(path, error, sizeof error);
    if (!cert)
        bail_out("%s", error);
    return cert;
}

/* Makes the key files of name, and fills a supplier record with them. */
static void s_make_keys(const char *name, dir_supplier_t *supplier)
{
    char error[256], path[PATH_MAX], file[64];
    if (keys_generate(s_dir, name, error, sizeof error) != 0)
        bail_out("keys_generate %s: %s", name, error);
    if (!supplier)
        return;
    snprintf(file, sizeof file, "%s.cert", name);
    s_path(path, file);
    if (keys_load_curve_public(path, supplier->curve_key, error,
                               sizeof error) != 0)
        bail_out("%s", error);
    snprintf(file, sizeof file, "%s.sign", name);
    s_path(path, file);
    if (keys_load_sign_public(path, supplier->sign_key, error, sizeof error) !=
        0)
        bail_out("%s", error);
}

static void s_put_supplier(directory_db_t *db, const char *mpid,
                           const char *key_name)
{
    dir_supplier_t supplier = {0};
    snprintf(supplier.mpid, sizeof supplier.mpid, "%s", mpid);
    snprintf(supplier.name, sizeof supplier.name, "Supplier %s", mpid);
    snprintf(supplier.endpoint, sizeof supplier.endpoint, "tcp://127.0.0.1:9");
    s_make_keys(key_name, &supplier);
    char error[512];
    if (directory_db_put_supplier(db, &supplier, error, sizeof error) != 0)
        bail_out("%s", error);
}

static void s_create_directory(void)
{
    char error[512];
    dir_supplier_t directory = {0};
    s_make_keys("directory", &directory);
    memcpy(s_directory_curve, directory.curve_key, 41);
    memcpy(s_directory_sign, directory.sign_key, 32);
    s_make_keys("stranger", NULL);

    directory_db_t *db =
        directory_db_open(s_db_path, true, error, sizeof error);
    if (!db)
        bail_out("%s", error);
    s_put_supplier(db, "ALFA", "alfa");
    s_put_supplier(db, "BRVO", "bravo");

    if (mpan_core_make("120002330596", s_point) != 0 ||
        mpan_core_make("120002330597", s_missing) != 0)
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
                                         sizeof error) != 0 ||
        directory_change_supplier(db, s_point, "BRVO", 1372636800000, NULL,
                                  error, sizeof error) != 0)
        bail_out("%s", error);
    directory_db_destroy(&db);
}

/* Reads the readiness line from fd within 10 s. */
static bool s_read_ready(int fd, char *line, size_t size)
{
    size_t used = 0;
    int64_t deadline = zclock_mono() + 10000;
    while (used + 1 < size) {
        struct pollfd poller = {.fd = fd, .events = POLLIN};
        int wait_ms = (int)(deadline - zclock_mono());
        if (wait_ms <= 0 || poll(&poller, 1, wait_ms) <= 0)
            return false;
        if (read(fd, line + used, 1) != 1)
            return false;
        if (line[used] == '\n') {
            line[used] = '\0';
            return true;
        }
        used++;
    }
    return false;
}

/* Starts sdx-directory serve bound to bind and reads its endpoint. */
static bool s_start_directory(const char *bind)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", TTL_SECONDS);
    char cert[PATH_MAX], sign[PATH_MAX];
    s_path(cert, "directory.cert");
    s_path(sign, "directory.sign_secret");
    s_pid = fork();
    if (s_pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int log_fd = open(s_log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(log_fd, STDERR_FILENO);
        close(fds[0]);
        execl(s_program, s_program, "serve", "--db", s_db_path, "--cert", cert,
              "--signing-key", sign, "--bind", bind, "--ttl", ttl, "-v",
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[512] = "";
    bool ready = s_pid > 0 && s_read_ready(fds[0], line, sizeof line);
    close(fds[0]);
    const char *prefix = "sdx-directory ready endpoint=";
    if (!ready || strncmp(line, prefix, strlen(prefix)) != 0) {
        diag("no readiness line, got '%s'", line);
        return false;
    }
    snprintf(s_endpoint, sizeof s_endpoint, "%s", line + strlen(prefix));
    return true;
}

/* Sends SIGTERM and returns the exit status, or -1 when the process did
 * not stop within 10 s (it is then killed). */
static int s_stop_directory(void)
{
    if (s_pid <= 0)
        return -1;
    kill(s_pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(s_pid, &status, WNOHANG) == s_pid) {
            s_pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        zclock_sleep(10);
    }
    kill(s_pid, SIGKILL);
    waitpid(s_pid, &status, 0);
    s_pid = -1;
    return -1;
}

static bool s_log_contains(const char *text)
{
    FILE *file = fopen(s_log_path, "r");
    if (!file)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, file))
        found = strstr(line, text) != NULL;
    fclose(file);
    return found;
}

static dirclient_t *s_client(const char *name, const uint8_t *sign_key,
                             int timeout_ms)
{
    zcert_t *cert = s_cert(name);
    dirclient_t *client =
        dirclient_new(s_endpoint, s_directory_curve,
                      sign_key ? sign_key : s_directory_sign, cert, timeout_ms);
    zcert_destroy(&cert);
    if (!client)
        bail_out("dirclient_new failed");
    return client;
}

static void test_signed_answers(void)
{
    dirclient_t *client = s_client("alfa", NULL, 2000);
    char error[512] = "";
    dir_supply_point_t point;
    is_int(dirclient_supply_point(client, s_point, &point, error, sizeof error),
           DIR_OK, "listed supplier gets a lookup answer: %s", error);
    is_str(point.mpxn, s_point, "answer is for the mpxn asked");
    is_str(point.installing, "ALFA", "installing supplier");
    is_int(point.registration_count, 2, "two registrations");
    is_str(point.registrations[1].supplier, "BRVO", "BRVO registered now");
    ok(point.registrations[1].to_ms == DIR_OPEN_END, "BRVO open");
    is_int(point.expires_ms - point.issued_ms, TTL_SECONDS * 1000,
           "answer lives for --ttl");
    ok(point.change >= 1, "answer carries the change number");

    dir_supplier_t supplier;
    is_int(dirclient_supplier(client, "BRVO", &supplier, error, sizeof error),
           DIR_OK, "supplier answer: %s", error);
    is_str(supplier.mpid, "BRVO", "supplier answer is for BRVO");
    is_int(strlen(supplier.curve_key), 40, "CURVE key in Z85");

    dir_supplier_t *list = NULL;
    size_t count = 0;
    is_int(dirclient_suppliers(client, &list, &count, error, sizeof error),
           DIR_OK, "supplier list answer: %s", error);
    is_int(count, 2, "two suppliers listed");
    free(list);

    is_int(
        dirclient_supply_point(client, s_missing, &point, error, sizeof error),
        DIR_NOT_FOUND, "mpxn not in the directory is not_found");
    ok(strstr(error, s_missing) != NULL, "error names the mpxn: %s", error);
    is_int(dirclient_supplier(client, "ZULU", &supplier, error, sizeof error),
           DIR_NOT_FOUND, "unknown supplier is not_found");
    dirclient_destroy(&client);
    ok(client == NULL, "destroy nulls the pointer");
}

static void test_bad_signature_key(void)
{
    uint8_t wrong[32];
    memcpy(wrong, s_directory_sign, sizeof wrong);
    wrong[0] ^= 0x80;
    dirclient_t *client = s_client("alfa", wrong, 2000);
    char error[512] = "";
    dir_supply_point_t point;
    is_int(dirclient_supply_point(client, s_point, &point, error, sizeof error),
           DIR_BAD_ANSWER, "answer under another key is a bad answer");
    ok(strstr(error, "bad signature") != NULL, "error says so: %s", error);
    dirclient_destroy(&client);
}

/* Sends frame_count copies of bytes as one message on socket, and returns
 * the reply frame, or NULL when none comes within wait_ms. */
static zframe_t *s_raw_exchange(zsock_t *socket, const void *bytes, size_t size,
                                int frame_count, int wait_ms)
{
    zmsg_t *message = zmsg_new();
    for (int i = 0; i < frame_count; i++)
        zmsg_addmem(message, bytes, size);
    zmsg_send(&message, socket);
    zpoller_t *poller = zpoller_new(socket, NULL);
    zframe_t *reply = NULL;
    if (zpoller_wait(poller, wait_ms) == socket)
        reply = zframe_recv(socket);
    zpoller_destroy(&poller);
    return reply;
}

static zsock_t *s_raw_socket(const char *name)
{
    char error[256];
    zcert_t *cert = s_cert(name);
    zsock_t *socket =
        curve_client_new(ZMQ_DEALER, cert, s_directory_curve, s_endpoint,
                         CURVE_MAX_FRAME_DEFAULT, error, sizeof error);
    zcert_destroy(&cert);
    if (!socket)
        bail_out("%s", error);
    return socket;
}

static void s_pack_lookup(msgpack_sbuffer *bytes, const uint8_t *id,
                          const char *mpxn)
{
    msgpack_sbuffer_init(bytes);
    dir_request_pack(bytes, DIR_TYPE_LOOKUP, id, clock_now_ms(),
                     mpxn ? "mpxn" : NULL, mpxn);
}

static void test_unknown_key(void)
{
    zsock_t *socket = s_raw_socket("stranger");
    uint8_t id[ENVELOPE_ID_SIZE];
    envelope_new_id(id);
    msgpack_sbuffer bytes;
    s_pack_lookup(&bytes, id, s_point);
    zframe_t *reply = s_raw_exchange(socket, bytes.data, bytes.size, 1, 1500);
    ok(reply == NULL, "unknown CURVE key gets no reply within 1.5 s");
    zframe_destroy(&reply);
    msgpack_sbuffer_destroy(&bytes);
    zsock_destroy(&socket);

    dirclient_t *client = s_client("stranger", NULL, 500);
    char error[512] = "";
    dir_supply_point_t point;
    int64_t start = zclock_mono();
    is_int(dirclient_supply_point(client, s_point, &point, error, sizeof error),
           DIR_UNAVAILABLE, "client with an unknown key: unavailable");
    int64_t elapsed = zclock_mono() - start;
    ok(elapsed >= 450 && elapsed < 1500,
       "client waited about its 500 ms timeout (%lld ms)", (long long)elapsed);
    dirclient_destroy(&client);
}

static void test_malformed_frames(void)
{
    zsock_t *socket = s_raw_socket("alfa");
    zframe_t *reply = s_raw_exchange(socket, "\xc1 not msgpack", 13, 1, 1000);
    ok(reply == NULL, "undecodable frame is dropped");
    zframe_destroy(&reply);

    uint8_t id[ENVELOPE_ID_SIZE];
    envelope_new_id(id);
    msgpack_sbuffer bytes;
    s_pack_lookup(&bytes, id, s_point);
    reply = s_raw_exchange(socket, bytes.data, bytes.size, 2, 1000);
    ok(reply == NULL, "request in two frames is dropped");
    zframe_destroy(&reply);
    msgpack_sbuffer_destroy(&bytes);

    s_pack_lookup(&bytes, id, NULL);
    reply = s_raw_exchange(socket, bytes.data, bytes.size, 1, 2000);
    ok(reply != NULL, "request without mpxn gets a reply");
    char error[256] = "";
    dir_reply_t *decoded =
        reply ? dir_reply_decode(zframe_data(reply), zframe_size(reply), error,
                                 sizeof error)
              : NULL;
    is_str(decoded ? dir_reply_status(decoded) : NULL, "invalid",
           "status invalid");
    ok(decoded && strstr(dir_reply_error(decoded), "'mpxn'") != NULL,
       "error names the key: %s", decoded ? dir_reply_error(decoded) : error);
    ok(decoded && memcmp(dir_reply_header(decoded)->id, id, 16) == 0,
       "invalid reply echoes the id");
    dir_reply_destroy(&decoded);
    zframe_destroy(&reply);
    msgpack_sbuffer_destroy(&bytes);

    envelope_new_id(id);
    s_pack_lookup(&bytes, id, s_point);
    reply = s_raw_exchange(socket, bytes.data, bytes.size, 1, 2000);
    decoded = reply ? dir_reply_decode(zframe_data(reply), zframe_size(reply),
                                       error, sizeof error)
                    : NULL;
    is_str(decoded ? dir_reply_status(decoded) : NULL, "ok",
           "server still answers after malformed frames");
    ok(decoded && dir_reply_verify(decoded, s_directory_sign),
       "and signs the answer");
    dir_reply_destroy(&decoded);
    zframe_destroy(&reply);
    msgpack_sbuffer_destroy(&bytes);
    zsock_destroy(&socket);
    ok(s_log_contains("directory request dropped"),
       "dropped frames are logged");
}

/* A supplier loaded while the directory runs is admitted within a few
 * seconds, because the server re-reads the list when the database
 * changes. */
static void test_allow_list_reload(void)
{
    char error[512];
    directory_db_t *db =
        directory_db_open(s_db_path, false, error, sizeof error);
    if (!db)
        bail_out("%s", error);
    dir_supplier_t charlie = {0};
    snprintf(charlie.mpid, sizeof charlie.mpid, "CHRL");
    snprintf(charlie.name, sizeof charlie.name, "Charlie");
    snprintf(charlie.endpoint, sizeof charlie.endpoint, "tcp://127.0.0.1:9");
    char path[PATH_MAX];
    s_path(path, "stranger.cert");
    if (keys_load_curve_public(path, charlie.curve_key, error, sizeof error) !=
            0 ||
        directory_db_put_supplier(db, &charlie, error, sizeof error) != 0)
        bail_out("%s", error);
    directory_db_destroy(&db);

    dirclient_t *client = s_client("stranger", NULL, 500);
    dir_status_t status = DIR_UNAVAILABLE;
    dir_supply_point_t point;
    int64_t deadline = zclock_mono() + 8000;
    while (status == DIR_UNAVAILABLE && zclock_mono() < deadline)
        status = dirclient_supply_point(client, s_point, &point, error,
                                        sizeof error);
    is_int(status, DIR_OK, "newly loaded supplier admitted: %s", error);
    dirclient_destroy(&client);
}

static void test_change_seen(void)
{
    dirclient_t *client = s_client("alfa", NULL, 2000);
    char error[512] = "";
    dir_supply_point_t before, after;
    if (dirclient_supply_point(client, s_point, &before, error, sizeof error) !=
        DIR_OK)
        bail_out("lookup: %s", error);
    directory_db_t *db =
        directory_db_open(s_db_path, false, error, sizeof error);
    if (!db || directory_change_supplier(db, s_point, "ALFA", 1388534400000,
                                         NULL, error, sizeof error) != 0)
        bail_out("change: %s", error);
    directory_db_destroy(&db);

    is_int(dirclient_supply_point(client, s_point, &after, error, sizeof error),
           DIR_OK, "cached lookup");
    is_int(after.registration_count, before.registration_count,
           "cache serves the old answer before it expires");
    dirclient_flush(client);
    is_int(dirclient_supply_point(client, s_point, &after, error, sizeof error),
           DIR_OK, "lookup after flush");
    is_int(after.registration_count, 3, "flushed client sees the change");
    ok(after.change > before.change, "change number went up");
    dirclient_destroy(&client);
}

static void test_directory_stopped(void)
{
    dirclient_t *client = s_client("alfa", NULL, 700);
    char error[512] = "";
    dir_supply_point_t point;
    is_int(dirclient_supply_point(client, s_point, &point, error, sizeof error),
           DIR_OK, "lookup while the directory runs");
    is_int(s_stop_directory(), 0, "directory exits 0 on SIGTERM");
    ok(s_log_contains("directory stopped"), "stop is logged");
    ok(s_log_contains("query answered type=dir.lookup supplier=ALFA"),
       "queries are logged with -v");

    dir_supply_point_t cached;
    if (clock_now_ms() < point.expires_ms) {
        is_int(dirclient_supply_point(client, s_point, &cached, error,
                                      sizeof error),
               DIR_OK, "cached answer served while the directory is down");
        is_int(cached.issued_ms, point.issued_ms, "it is the cached answer");
    } else
        diag("skipped the cache check: the answer expired during the stop");

    dir_supplier_t supplier;
    int64_t start = zclock_mono();
    is_int(dirclient_supplier(client, "BRVO", &supplier, error, sizeof error),
           DIR_UNAVAILABLE, "uncached query with the directory down");
    int64_t elapsed = zclock_mono() - start;
    ok(elapsed < 700 + 300, "call returned within its timeout (%lld ms)",
       (long long)elapsed);
    ok(strstr(error, "did not answer within 700 ms") != NULL,
       "error says the directory did not answer: %s", error);

    while (clock_now_ms() <= point.expires_ms)
        zclock_sleep(50);
    is_int(
        dirclient_supply_point(client, s_point, &cached, error, sizeof error),
        DIR_UNAVAILABLE, "expired answer is not served");

    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "%s", s_endpoint);
    ok(s_start_directory(endpoint), "directory restarts on %s", endpoint);
    is_int(
        dirclient_supply_point(client, s_point, &cached, error, sizeof error),
        DIR_OK, "client recovers when the directory is back: %s", error);
    ok(cached.issued_ms > point.issued_ms, "with a new answer");
    dirclient_destroy(&client);
}

static void s_program_path(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    int length = slash ? (int)(slash - argv0) : 1;
    snprintf(s_program, sizeof s_program, "%.*s/../bin/sdx-directory", length,
             slash ? argv0 : ".");
    if (access(s_program, X_OK) != 0)
        bail_out("%s not built: run make", s_program);
}

int main(int argc, char **argv)
{
    (void)argc;
    s_program_path(argv[0]);
    if (!mkdtemp(s_dir))
        bail_out("mkdtemp failed");
    s_path(s_db_path, "directory.db");
    s_path(s_log_path, "directory.log");
    log_init("t0210", false);
    s_create_directory();
    if (!s_start_directory("tcp://127.0.0.1:*"))
        bail_out("sdx-directory did not start; see %s", s_log_path);
    ok(strncmp(s_endpoint, "tcp://127.0.0.1:", 16) == 0,
       "readiness line gives the bound endpoint %s", s_endpoint);
    ok(strstr(s_endpoint, "*") == NULL, "with the port chosen");

    test_signed_answers();
    test_bad_signature_key();
    test_unknown_key();
    test_malformed_frames();
    test_allow_list_reload();
    test_change_seen();
    test_directory_stopped();

    if (s_pid > 0)
        s_stop_directory();
    if (getenv("SDX_KEEP"))
        diag("kept %s", s_dir);
    else {
        char command[PATH_MAX + 16];
        snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
        if (system(command) != 0)
            diag("could not remove %s", s_dir);
    }
    return tap_done();
}
