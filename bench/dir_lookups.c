/* dir_lookups: dir.lookup throughput and latency of the central lookup,
 * either from one node over CURVE or in-process on the database.
 *
 * Over CURVE it plays one node: one DEALER socket connected as a supplier
 * keeps --window requests in flight, each for the next mpxn of the list.
 * A reply counts as ok when its status is ok and its answer is the
 * requested supply point; every --verify-every-th answer's signature is
 * also checked against the directory's signing key (every one by default,
 * as a node does). Latency is from sending a request to having checked its
 * reply, so with a window above 1 it includes the time spent queued.
 *
 * In-process (--db) it makes the three queries the server makes for a
 * dir.lookup (the supply point, its latest registrations, the latest
 * change number) directly on the database, one after another, without
 * encoding or signing.
 *
 * Both print one line:
 *   NAME rps=R p50_us=A p99_us=B requests=N seconds=S ok=N
 * and exit 1 unless every lookup was ok.
 */
#include <czmq.h>
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "curve.h"
#include "dir_answer.h"
#include "dir_request.h"
#include "directory_db.h"
#include "keys.h"

#define S_REPLY_TIMEOUT_MS 10000

static const char s_usage[] =
    "Usage: dir_lookups --mpxns FILE --db FILE [--requests N] [--name NAME]\n"
    "       dir_lookups --mpxns FILE --endpoint ENDPOINT --cert FILE.cert\n"
    "                   --directory-cert FILE.cert\n"
    "                   --directory-sign FILE.sign [--window W]\n"
    "                   [--verify-every K] [--requests N] [--name NAME]\n"
    "\n"
    "Looks up the mpxns of FILE (one a line, used in turn) and prints\n"
    "  NAME rps=R p50_us=A p99_us=B requests=N seconds=S ok=N\n"
    "With --db, on the database in this process; otherwise over CURVE as\n"
    "the supplier whose certificate is --cert.\n"
    "\n"
    "  --requests N        timed lookups (default 100000)\n"
    "  --window W          requests in flight over CURVE (default 64)\n"
    "  --verify-every K    check the signature of every K-th answer\n"
    "                      (default 1, every answer)\n"
    "  --name NAME         first word of the result line\n";

typedef struct {
    const char *mpxns_path;
    const char *db;
    const char *endpoint;
    const char *cert;
    const char *directory_cert;
    const char *directory_sign;
    const char *name;
    long requests;
    long window;
    long verify_every;
} s_options_t;

typedef struct {
    char (*items)[DIR_MPXN_SIZE];
    size_t count;
} s_mpxns_t;

static int s_read_mpxns(const char *path, s_mpxns_t *list)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "dir_lookups: cannot open %s\n", path);
        return -1;
    }
    size_t capacity = 0;
    char line[64];
    list->count = 0;
    list->items = NULL;
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strlen(line) >= DIR_MPXN_SIZE)
            continue;
        if (list->count == capacity) {
            capacity = capacity ? 2 * capacity : 1024;
            void *grown = realloc(list->items, capacity * sizeof *list->items);
            if (!grown)
                break;
            list->items = grown;
        }
        memcpy(list->items[list->count++], line, strlen(line) + 1);
    }
    fclose(file);
    if (list->count == 0) {
        fprintf(stderr, "dir_lookups: no mpxns in %s\n", path);
        return -1;
    }
    return 0;
}

static void s_print(const char *name, bench_latency_t *latency,
                    int64_t elapsed_ns, long ok)
{
    bench_latency_sort(latency);
    double seconds = (double)elapsed_ns / 1e9;
    printf("%s rps=%.0f p50_us=%" PRId64 " p99_us=%" PRId64
           " requests=%zu seconds=%.3f ok=%ld\n",
           name, seconds > 0 ? (double)latency->count / seconds : 0.0,
           bench_latency_percentile_us(latency, 50),
           bench_latency_percentile_us(latency, 99), latency->count, seconds,
           ok);
    fflush(stdout);
}

/* In-process */

static int s_lookup_db(directory_db_t *db, const char *mpxn)
{
    char error[512];
    dir_supply_point_t point;
    uint64_t change;
    int found =
        directory_db_get_supply_point(db, mpxn, &point, error, sizeof error);
    if (found == 1 &&
        (directory_db_get_registrations(db, &point, error, sizeof error) ||
         directory_db_last_change(db, &change, error, sizeof error)))
        found = -1;
    if (found < 0)
        fprintf(stderr, "dir_lookups: %s\n", error);
    return found == 1 && point.registration_count > 0 ? 0 : -1;
}

static int s_run_in_process(const s_options_t *options, const s_mpxns_t *list)
{
    char error[512];
    directory_db_t *db =
        directory_db_open(options->db, false, error, sizeof error);
    if (!db) {
        fprintf(stderr, "dir_lookups: %s\n", error);
        return -1;
    }
    bench_latency_t latency;
    if (bench_latency_init(&latency, (size_t)options->requests) != 0) {
        directory_db_destroy(&db);
        return -1;
    }
    long ok = 0;
    int64_t start = bench_now_ns();
    for (long k = 0; k < options->requests; k++) {
        int64_t before = bench_now_ns();
        if (s_lookup_db(db, list->items[(size_t)k % list->count]) == 0)
            ok++;
        bench_latency_add(&latency, bench_now_ns() - before);
    }
    int64_t elapsed = bench_now_ns() - start;
    s_print(options->name, &latency, elapsed, ok);
    bench_latency_free(&latency);
    directory_db_destroy(&db);
    return ok == options->requests ? 0 : -1;
}

/* Over CURVE */

typedef struct {
    const s_options_t *options;
    const s_mpxns_t *list;
    zsock_t *dealer;
    uint8_t sign_key[SIGN_PUBLIC_SIZE];
    uint8_t id_tail[ENVELOPE_ID_SIZE - 8]; /* random, after the sequence */
    int64_t *sent_ns;                      /* by sequence number */
    long ok;
    long failed;
} s_client_t;

static const char *s_mpxn_of(const s_client_t *client, long seq)
{
    return client->list->items[(size_t)seq % client->list->count];
}

static int s_send(s_client_t *client, long seq)
{
    uint8_t id[ENVELOPE_ID_SIZE];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
    memcpy(id + 8, client->id_tail, sizeof client->id_tail);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_request_pack(&buffer, DIR_TYPE_LOOKUP, id, clock_now_ms(), "mpxn",
                     s_mpxn_of(client, seq));
    client->sent_ns[seq] = bench_now_ns();
    int rc =
        zmq_send(zsock_resolve(client->dealer), buffer.data, buffer.size, 0) < 0
            ? -1
            : 0;
    msgpack_sbuffer_destroy(&buffer);
    return rc;
}

/* Returns the sequence number in a reply's id, or -1 when it is not one
 * of ours. */
static long s_sequence(const s_client_t *client, const dir_reply_t *reply,
                       long limit)
{
    const uint8_t *id = dir_reply_header(reply)->id;
    if (memcmp(id + 8, client->id_tail, sizeof client->id_tail) != 0)
        return -1;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++)
        seq = seq << 8 | id[i];
    return seq < (uint64_t)limit ? (long)seq : -1;
}

/* Checks one reply; true when it is the ok answer for its request. */
static bool s_check_reply(s_client_t *client, dir_reply_t *reply, long seq)
{
    if (strcmp(dir_reply_status(reply), "ok") != 0) {
        fprintf(stderr, "dir_lookups: lookup of %s: status %s: %s\n",
                s_mpxn_of(client, seq), dir_reply_status(reply),
                dir_reply_error(reply));
        return false;
    }
    if (seq % client->options->verify_every == 0 &&
        !dir_reply_verify(reply, client->sign_key)) {
        fprintf(stderr, "dir_lookups: bad signature on the answer for %s\n",
                s_mpxn_of(client, seq));
        return false;
    }
    size_t size;
    const uint8_t *answer = dir_reply_answer(reply, &size);
    dir_supply_point_t point;
    char error[256];
    if (dir_answer_read_supply_point(answer, size, &point, error,
                                     sizeof error) != 0 ||
        strcmp(point.mpxn, s_mpxn_of(client, seq)) != 0) {
        fprintf(stderr, "dir_lookups: wrong answer for %s\n",
                s_mpxn_of(client, seq));
        return false;
    }
    return true;
}

/* Receives one reply. Returns its sequence number, or -1. */
static long s_receive(s_client_t *client, long limit)
{
    zframe_t *frame = zframe_recv(client->dealer);
    if (!frame)
        return -1;
    char error[256];
    dir_reply_t *reply = dir_reply_decode(
        zframe_data(frame), zframe_size(frame), error, sizeof error);
    long seq = reply ? s_sequence(client, reply, limit) : -1;
    if (seq >= 0 && s_check_reply(client, reply, seq))
        client->ok++;
    else
        client->failed++;
    /* The reply points into the frame's bytes. */
    dir_reply_destroy(&reply);
    zframe_destroy(&frame);
    return seq;
}

/* Sends count requests with sequence numbers from first, window in
 * flight, recording latencies when latency is not NULL. */
static int s_pipeline(s_client_t *client, long first, long count,
                      bench_latency_t *latency)
{
    zpoller_t *poller = zpoller_new(client->dealer, NULL);
    long sent = 0, received = 0;
    int rc = 0;
    while (received < count && rc == 0) {
        while (sent < count && sent - received < client->options->window)
            if (s_send(client, first + sent++) != 0)
                rc = -1;
        if (!zpoller_wait(poller, S_REPLY_TIMEOUT_MS)) {
            fprintf(stderr, "dir_lookups: no reply within %d ms\n",
                    S_REPLY_TIMEOUT_MS);
            rc = -1;
            break;
        }
        long seq = s_receive(client, first + count);
        if (seq >= first && latency)
            bench_latency_add(latency, bench_now_ns() - client->sent_ns[seq]);
        received++;
    }
    zpoller_destroy(&poller);
    return rc;
}

static int s_connect(s_client_t *client, zcert_t **cert)
{
    const s_options_t *options = client->options;
    char error[512], server_key[41];
    *cert = keys_load_cert(options->cert, error, sizeof error);
    if (!*cert ||
        keys_load_curve_public(options->directory_cert, server_key, error,
                               sizeof error) != 0 ||
        keys_load_sign_public(options->directory_sign, client->sign_key, error,
                              sizeof error) != 0) {
        fprintf(stderr, "dir_lookups: %s\n", error);
        return -1;
    }
    client->dealer =
        curve_client_new(ZMQ_DEALER, *cert, server_key, options->endpoint,
                         CURVE_MAX_FRAME_DEFAULT, error, sizeof error);
    if (!client->dealer)
        fprintf(stderr, "dir_lookups: %s\n", error);
    return client->dealer ? 0 : -1;
}

static int s_run_curve(const s_options_t *options, const s_mpxns_t *list)
{
    s_client_t client = {.options = options, .list = list};
    long warm_up = options->window;
    long total = warm_up + options->requests;
    client.sent_ns = calloc((size_t)total, sizeof *client.sent_ns);
    randombytes_buf(client.id_tail, sizeof client.id_tail);
    zcert_t *cert = NULL;
    bench_latency_t latency = {0};
    int rc = -1;
    if (!client.sent_ns ||
        bench_latency_init(&latency, (size_t)options->requests) != 0 ||
        s_connect(&client, &cert) != 0)
        goto cleanup;
    /* The warm-up opens the connection and its CURVE handshake. */
    if (s_pipeline(&client, 0, warm_up, NULL) != 0)
        goto cleanup;
    client.ok = client.failed = 0;
    int64_t start = bench_now_ns();
    rc = s_pipeline(&client, warm_up, options->requests, &latency);
    s_print(options->name, &latency, bench_now_ns() - start, client.ok);
    if (client.ok != options->requests)
        rc = -1;
cleanup:
    zsock_destroy(&client.dealer);
    zcert_destroy(&cert);
    bench_latency_free(&latency);
    free(client.sent_ns);
    return rc;
}

/* Options */

static int s_parse_option(int code, const char *value, s_options_t *options)
{
    switch (code) {
    case 'm':
        options->mpxns_path = value;
        return 0;
    case 'd':
        options->db = value;
        return 0;
    case 'e':
        options->endpoint = value;
        return 0;
    case 'c':
        options->cert = value;
        return 0;
    case 'C':
        options->directory_cert = value;
        return 0;
    case 'S':
        options->directory_sign = value;
        return 0;
    case 'n':
        options->name = value;
        return 0;
    case 'r':
        return bench_parse_count("--requests", value, &options->requests);
    case 'w':
        return bench_parse_count("--window", value, &options->window);
    case 'v':
        return bench_parse_count("--verify-every", value,
                                 &options->verify_every);
    default:
        return -1;
    }
}

static int s_parse_options(int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {
        {"mpxns", required_argument, NULL, 'm'},
        {"db", required_argument, NULL, 'd'},
        {"endpoint", required_argument, NULL, 'e'},
        {"cert", required_argument, NULL, 'c'},
        {"directory-cert", required_argument, NULL, 'C'},
        {"directory-sign", required_argument, NULL, 'S'},
        {"name", required_argument, NULL, 'n'},
        {"requests", required_argument, NULL, 'r'},
        {"window", required_argument, NULL, 'w'},
        {"verify-every", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int code;
    while ((code = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (code == 'h') {
            fputs(s_usage, stdout);
            exit(0);
        }
        if (code == '?' || s_parse_option(code, optarg, options) != 0)
            return -1;
    }
    bool curve = options->endpoint && options->cert &&
                 options->directory_cert && options->directory_sign;
    if (!options->mpxns_path || (!options->db && !curve)) {
        fprintf(stderr, "dir_lookups: give --mpxns and either --db or all "
                        "of --endpoint, --cert, --directory-cert and "
                        "--directory-sign\n");
        return -1;
    }
    if (!options->name)
        options->name =
            options->db ? "dir_lookup_in_process" : "dir_lookup_curve";
    return 0;
}

int main(int argc, char **argv)
{
    s_options_t options = {.requests = 100000, .window = 64, .verify_every = 1};
    if (s_parse_options(argc, argv, &options) != 0) {
        fputs(s_usage, stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    s_mpxns_t list;
    if (s_read_mpxns(options.mpxns_path, &list) != 0)
        return 1;
    zsys_init();
    zsys_set_linger(0);
    int rc = options.db ? s_run_in_process(&options, &list)
                        : s_run_curve(&options, &list);
    free(list.items);
    return rc == 0 ? 0 : 1;
}
