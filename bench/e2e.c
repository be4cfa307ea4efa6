/* End-to-end benchmark client: receipted meter reads through a running
 * requesting node.
 *
 * Several DEALER sockets on one thread connect to the node's control
 * socket (ipc://HOME/run/control), each keeping a window of requests in
 * flight. Each request is built as `sdx read` builds it. A read counts
 * only when its control reply has status "ok" and receipt_status
 * "acknowledged", which means the requesting node verified, stored and
 * acknowledged the serving node's receipt. A warm-up phase runs first, so the
 * peer connection and the directory cache are in place before timing starts.
 */
#include <czmq.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "config.h"
#include "envelope.h"
#include "hex.h"
#include "message.h"

#define E2E_MAX_MPXNS    16
#define E2E_MAX_OUTCOMES 8

static const char s_usage[] =
    "usage: e2e --home DIR --mpxn MPXN [--mpxn MPXN ...]\n"
    "           [--type TYPE] [--from T --to T] [--clients N] [--window W]\n"
    "           [--requests N] [--warmup N] [--timeout-ms N] [--name NAME]\n"
    "\n"
    "Sends receipted meter reads to the sdx node whose home is DIR through\n"
    "its control socket and prints one line\n"
    "  NAME rps=R p50_us=A p99_us=B requests=N seconds=S\n"
    "followed by the counts of replies that were not acknowledged.\n"
    "  --type        request type (read.registers); ranged types such as\n"
    "                read.profile need --from and --to (ISO 8601 UTC)\n"
    "  --mpxn        supply point to read; several are used in turn\n"
    "  --clients     DEALER sockets (4)\n"
    "  --window      requests in flight on each socket (16)\n"
    "  --requests    timed requests in all (2000)\n"
    "  --warmup      untimed requests sent first (clients * window)\n"
    "  --timeout-ms  time without any reply after which the rest count as\n"
    "                lost (20000)\n"
    "  --name        name printed on the result line (e2e_TYPE)\n"
    "Exits 0 only when every timed request was acknowledged.\n";

typedef struct {
    const char *home;
    const char *type;
    const char *mpxns[E2E_MAX_MPXNS];
    size_t mpxn_count;
    bool ranged;
    int64_t from_ms;
    int64_t to_ms;
    long clients;
    long window;
    long requests;
    long warmup;
    long timeout_ms;
    char name[64];
} options_t;

/* A reply outcome other than acknowledged, and how often it came. */
typedef struct {
    char text[160];
    long count;
} outcome_t;

typedef struct {
    const options_t *options;
    zsock_t **sockets;
    zpoller_t *poller;
    zhashx_t *pending; /* hex request id -> int64_t send time (ns) */
    long phase_total;  /* requests to send in this phase */
    long sent;
    long completed;
    long acknowledged;
    long lost;
    size_t next_mpxn;
    size_t reply_bytes;   /* control reply frames of the timed phase */
    size_t peer_bytes;    /* the serving node's replies inside them */
    size_t receipt_bytes; /* the receipt bodies inside those */
    bool timed;
    bench_latency_t latency;
    outcome_t outcomes[E2E_MAX_OUTCOMES];
    long other_outcomes;
} run_t;

static void s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

static int s_parse_time(const char *option, const char *text, int64_t *ms)
{
    if (text && clock_parse_iso(text, ms) == 0)
        return 0;
    fprintf(stderr,
            "invalid time '%s' for %s: expected YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM:SSZ\n",
            text ? text : "", option);
    return -1;
}

static int s_parse_option(options_t *options, const char *option,
                          const char *value)
{
    if (strcmp(option, "--home") == 0 && value)
        options->home = value;
    else if (strcmp(option, "--type") == 0 && value)
        options->type = value;
    else if (strcmp(option, "--mpxn") == 0 && value) {
        if (options->mpxn_count == E2E_MAX_MPXNS) {
            fprintf(stderr, "too many --mpxn options: at most %d\n",
                    E2E_MAX_MPXNS);
            return -1;
        }
        options->mpxns[options->mpxn_count++] = value;
    } else if (strcmp(option, "--from") == 0)
        return s_parse_time(option, value, &options->from_ms);
    else if (strcmp(option, "--to") == 0)
        return s_parse_time(option, value, &options->to_ms);
    else if (strcmp(option, "--clients") == 0)
        return bench_parse_count(option, value, &options->clients);
    else if (strcmp(option, "--window") == 0)
        return bench_parse_count(option, value, &options->window);
    else if (strcmp(option, "--requests") == 0)
        return bench_parse_count(option, value, &options->requests);
    else if (strcmp(option, "--warmup") == 0)
        return bench_parse_count(option, value, &options->warmup);
    else if (strcmp(option, "--timeout-ms") == 0)
        return bench_parse_count(option, value, &options->timeout_ms);
    else if (strcmp(option, "--name") == 0 && value)
        snprintf(options->name, sizeof options->name, "%s", value);
    else {
        fprintf(stderr, "unknown option or missing value: %s\n%s", option,
                s_usage);
        return -1;
    }
    return 0;
}

static int s_parse_options(int argc, char **argv, options_t *options)
{
    *options = (options_t){.type = "read.registers",
                           .clients = 4,
                           .window = 16,
                           .requests = 2000,
                           .timeout_ms = 20000};
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(s_usage, stdout);
            exit(0);
        }
        if (s_parse_option(options, argv[i], i + 1 < argc ? argv[i + 1] : NULL))
            return -1;
    }
    if (!options->home || options->mpxn_count == 0) {
        fprintf(stderr, "missing --home or --mpxn\n%s", s_usage);
        return -1;
    }
    options->ranged = strcmp(options->type, "read.daily") == 0 ||
                      strcmp(options->type, "read.profile") == 0;
    if (options->ranged && options->from_ms >= options->to_ms) {
        fprintf(stderr, "%s needs --from before --to\n", options->type);
        return -1;
    }
    if (options->warmup == 0)
        options->warmup = options->clients * options->window;
    if (options->name[0] == '\0') {
        snprintf(options->name, sizeof options->name, "e2e_%s", options->type);
        for (char *c = options->name; *c; c++)
            if (*c == '.')
                *c = '_';
    }
    return 0;
}

/* Builds a meter request as `sdx read` sends it to the node. */
static zframe_t *s_request(run_t *run, uint8_t id[ENVELOPE_ID_SIZE])
{
    const options_t *options = run->options;
    const char *mpxn = options->mpxns[run->next_mpxn++ % options->mpxn_count];
    message_t message;
    message_init(&message);
    envelope_new_id(id);
    envelope_pack_header(&message.pk, options->ranged ? 7 : 5, options->type,
                         id, clock_now_ms());
    mp_pack_kv_str(&message.pk, "mpxn", mpxn);
    if (options->ranged) {
        mp_pack_kv_i64(&message.pk, "from", options->from_ms);
        mp_pack_kv_i64(&message.pk, "to", options->to_ms);
    }
    return message_to_frame(&message);
}

static void s_send(run_t *run, zsock_t *socket)
{
    uint8_t id[ENVELOPE_ID_SIZE];
    char hex_id[33];
    zframe_t *frame = s_request(run, id);
    int64_t *sent_at = malloc(sizeof *sent_at);
    *sent_at = bench_now_ns();
    zhashx_insert(run->pending, hex_encode(id, sizeof id, hex_id), sent_at);
    zframe_send(&frame, socket, 0);
    run->sent++;
}

static void s_count_outcome(run_t *run, const char *text)
{
    for (size_t i = 0; i < E2E_MAX_OUTCOMES; i++) {
        outcome_t *outcome = &run->outcomes[i];
        if (outcome->count == 0)
            snprintf(outcome->text, sizeof outcome->text, "%s", text);
        if (strcmp(outcome->text, text) == 0) {
            outcome->count++;
            return;
        }
    }
    run->other_outcomes++;
}

/* Reads status and receipt_status of a control reply into outcome text;
 * returns true when the read was receipted and acknowledged. */
static bool s_classify(const msgpack_object *root, char *text, size_t size)
{
    char status[32] = "", receipt[32] = "", reason[64] = "";
    char detail[96] = "", error[256];
    (void)!mp_get_str(root, "status", status, sizeof status, error,
                      sizeof error);
    (void)!mp_get_str_opt(root, "receipt_status", receipt, sizeof receipt,
                          error, sizeof error);
    (void)!mp_get_str_opt(root, "reason", reason, sizeof reason, error,
                          sizeof error);
    (void)!mp_get_str_opt(root, "error", detail, sizeof detail, error,
                          sizeof error);
    if (strcmp(status, STATUS_OK) == 0 && strcmp(receipt, "acknowledged") == 0)
        return true;
    snprintf(text, size, "status=%s receipt_status=%s reason=%s error=%s",
             status, receipt[0] ? receipt : "-", reason[0] ? reason : "-",
             detail[0] ? detail : "-");
    return false;
}

/* Adds the sizes of the serving node's reply and of its receipt body. */
static void s_count_sizes(run_t *run, const msgpack_object *root)
{
    const uint8_t *inner, *body;
    size_t inner_size, body_size;
    char error[256];
    if (mp_get_bin_ref(root, "reply", &inner, &inner_size, error, sizeof error))
        return;
    run->peer_bytes += inner_size;
    envelope_t *reply =
        envelope_decode(inner, inner_size, NULL, error, sizeof error);
    const msgpack_object *receipt =
        reply ? mp_map_get(envelope_root(reply), "receipt") : NULL;
    if (receipt && mp_get_bin_ref(receipt, "body", &body, &body_size, error,
                                  sizeof error) == 0)
        run->receipt_bytes += body_size;
    envelope_destroy(&reply);
}

/* Matches one control reply to its request and records the outcome. */
static void s_receive(run_t *run, zsock_t *socket)
{
    zframe_t *frame = zframe_recv(socket);
    if (!frame)
        return;
    int64_t now = bench_now_ns();
    char error[256], hex_id[33], text[160];
    envelope_header_t header;
    envelope_t *envelope = envelope_decode(
        zframe_data(frame), zframe_size(frame), NULL, error, sizeof error);
    if (!envelope ||
        envelope_read_header(envelope, &header, error, sizeof error)) {
        snprintf(text, sizeof text, "undecodable control reply: %s", error);
        s_count_outcome(run, text);
        goto cleanup;
    }
    int64_t *sent_at =
        zhashx_lookup(run->pending, hex_encode(header.id, 16, hex_id));
    if (!sent_at) {
        s_count_outcome(run, "control reply to an unknown request id");
        goto cleanup;
    }
    if (s_classify(envelope_root(envelope), text, sizeof text)) {
        run->acknowledged += run->timed;
        if (run->timed)
            bench_latency_add(&run->latency, now - *sent_at);
    } else if (run->timed)
        s_count_outcome(run, text);
    if (run->timed) {
        run->reply_bytes += zframe_size(frame);
        s_count_sizes(run, envelope_root(envelope));
    }
    zhashx_delete(run->pending, hex_id);
    run->completed++;
    if (run->sent < run->phase_total)
        s_send(run, socket);
cleanup:
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

/* Takes one waiting reply from each socket in turn until none waits, so
 * that no socket is served before the others (zpoller_wait always returns
 * the first ready socket in the order they were added). */
static void s_drain(run_t *run)
{
    bool any = true;
    while (any) {
        any = false;
        for (long c = 0; c < run->options->clients; c++) {
            zsock_t *socket = run->sockets[c];
            if (zsock_events(socket) & ZMQ_POLLIN) {
                s_receive(run, socket);
                any = true;
            }
        }
    }
}

/* Sends total requests, window per socket in flight, and waits for their
 * replies. Returns the elapsed time in ns, or -1 when no reply arrived for
 * timeout_ms while requests were still waiting. */
static int64_t s_phase(run_t *run, long total, bool timed)
{
    run->phase_total = total;
    run->sent = run->completed = 0;
    run->timed = timed;
    int64_t start = bench_now_ns();
    for (long c = 0; c < run->options->clients; c++)
        for (long w = 0; w < run->options->window && run->sent < total; w++)
            s_send(run, run->sockets[c]);
    while (run->completed < run->sent) {
        if (!zpoller_wait(run->poller, (int)run->options->timeout_ms)) {
            long lost = run->sent - run->completed + (total - run->sent);
            fprintf(stderr,
                    "e2e: no reply within %ld ms; %ld of %ld requests "
                    "unanswered\n",
                    run->options->timeout_ms, lost, total);
            run->lost += timed ? lost : 0;
            return -1;
        }
        s_drain(run);
    }
    return bench_now_ns() - start;
}

static int s_open(run_t *run, const options_t *options)
{
    char endpoint[PATH_MAX + 16];
    config_control_endpoint(options->home, endpoint, sizeof endpoint);
    run->options = options;
    run->pending = zhashx_new();
    zhashx_set_destructor(run->pending, s_free_item);
    run->sockets = calloc((size_t)options->clients, sizeof *run->sockets);
    run->poller = zpoller_new(NULL);
    for (long c = 0; c < options->clients; c++) {
        run->sockets[c] = zsock_new(ZMQ_DEALER);
        zsock_set_linger(run->sockets[c], 0);
        zsock_set_sndhwm(run->sockets[c], 0);
        zsock_set_rcvhwm(run->sockets[c], 0);
        if (zsock_connect(run->sockets[c], "%s", endpoint) != 0) {
            fprintf(
                stderr,
                "e2e: failed to connect to %s: is sdx-node running there?\n",
                endpoint);
            return -1;
        }
        zpoller_add(run->poller, run->sockets[c]);
    }
    return bench_latency_init(&run->latency, (size_t)options->requests);
}

static void s_close(run_t *run)
{
    zpoller_destroy(&run->poller);
    for (long c = 0; run->sockets && c < run->options->clients; c++)
        zsock_destroy(&run->sockets[c]);
    free(run->sockets);
    zhashx_destroy(&run->pending);
    bench_latency_free(&run->latency);
}

static void s_report(run_t *run, int64_t elapsed_ns)
{
    long failed = run->options->requests - run->acknowledged;
    size_t replies = run->completed ? (size_t)run->completed : 1;
    bench_print_result(run->options->name, &run->latency, elapsed_ns);
    printf("%s_detail acknowledged=%ld failed=%ld lost=%ld "
           "mean_control_reply_bytes=%zu mean_peer_reply_bytes=%zu "
           "mean_receipt_body_bytes=%zu\n",
           run->options->name, run->acknowledged, failed, run->lost,
           run->reply_bytes / replies, run->peer_bytes / replies,
           run->receipt_bytes / replies);
    for (size_t i = 0; i < E2E_MAX_OUTCOMES && run->outcomes[i].count; i++)
        fprintf(stderr, "e2e: %ld replies with %s\n", run->outcomes[i].count,
                run->outcomes[i].text);
    if (run->other_outcomes)
        fprintf(stderr, "e2e: %ld replies with other outcomes\n",
                run->other_outcomes);
}

int main(int argc, char **argv)
{
    options_t options;
    if (s_parse_options(argc, argv, &options))
        return 2;
    zsys_init();
    zsys_handler_set(NULL);
    run_t run = {0};
    int rc = 1;
    if (s_open(&run, &options) == 0) {
        int64_t elapsed = s_phase(&run, options.warmup, false);
        if (elapsed >= 0)
            elapsed = s_phase(&run, options.requests, true);
        else
            fprintf(stderr, "e2e: the warm-up failed, nothing was timed\n");
        if (elapsed >= 0 || run.lost)
            s_report(&run, elapsed < 0 ? 0 : elapsed);
        rc = run.acknowledged == options.requests ? 0 : 1;
    }
    s_close(&run);
    return rc;
}
