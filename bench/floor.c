/* The machine's floor for receipted reads: CurveZMQ request/reply with the
 * Ed25519 work a receipt needs, and nothing else (no msgpack, no sqlite,
 * no agent, no directory).
 *
 * The server runs in a child process, as the serving node does: a CURVE
 * ROUTER on tcp://127.0.0.1 behind the ZAP handler, checking each
 * message's User-Id against the allow-list, on one thread. The client
 * process plays the requesting node: several DEALER sockets on one
 * thread, each with a window of requests in flight. Two figures:
 *
 *   floor_curve_sign_verify      the server signs each reply, the client
 *                                verifies it
 *   floor_curve_sign_verify_ack  the same, and the client also signs an
 *                                acknowledgement that it sends as a second
 *                                message, which the server verifies
 *
 * Before both it times Ed25519 sign and verify alone (floor_ed25519).
 *
 * Latency is from sending a request to having verified its reply (and, in
 * the second figure, signed and sent the acknowledgement). Throughput in
 * the second figure counts until the server has verified every
 * acknowledgement.
 */
#include <czmq.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "curve.h"
#include "sign.h"
#include "zap.h"

/* Message kinds, the first byte of every frame. */
#define KIND_REQUEST 'R'
#define KIND_REPLY   'P'
#define KIND_ACK     'A'
#define KIND_COUNT   'C'
#define SEQ_OFFSET   1 /* a uint64 sequence number follows the kind */
#define BODY_OFFSET  (SEQ_OFFSET + 8)
#define MAX_FRAME    4096

static const char s_usage[] =
    "usage: floor [--clients N] [--window W] [--requests N]\n"
    "             [--request-bytes N] [--reply-bytes N] [--signed-bytes N]\n"
    "             [--ack-bytes N] [--ack-signed-bytes N]\n"
    "\n"
    "Measures CURVE request/reply over tcp://127.0.0.1 with one Ed25519\n"
    "sign and verify per reply, then with a signed acknowledgement as well,\n"
    "and prints for each one line\n"
    "  NAME rps=R p50_us=A p99_us=B requests=N seconds=S\n"
    "after a line with the cost of one Ed25519 sign and verify alone\n"
    "  floor_ed25519 sign_us=S verify_us=V bytes=N rounds=N\n"
    "  --clients           DEALER sockets (4)\n"
    "  --window            requests in flight on each socket (16)\n"
    "  --requests          timed requests of each figure (20000)\n"
    "  --request-bytes     request frame size (80)\n"
    "  --reply-bytes       reply frame size (400)\n"
    "  --signed-bytes      part of the reply that is signed (160)\n"
    "  --ack-bytes         acknowledgement frame size (190)\n"
    "  --ack-signed-bytes  part of the acknowledgement that is signed (60)\n"
    "The default sizes are those of a read.registers exchange between two\n"
    "sdx nodes: the reply with its receipt, the receipt body, the\n"
    "acknowledgement message and the acknowledgement body.\n";

typedef struct {
    long clients;
    long window;
    long requests;
    long request_bytes;
    long reply_bytes;
    long signed_bytes;
    long ack_bytes;
    long ack_signed_bytes;
} options_t;

/* The keys of both sides, made before the fork so that each side has the
 * other's public keys. */
typedef struct {
    uint8_t server_public[32];
    uint8_t server_secret[32];
    uint8_t client_public[32];
    uint8_t client_secret[32];
    signer_t *server_signer;
    signer_t *client_signer;
} keys_t;

/* The client side of one figure. */
typedef struct {
    const options_t *options;
    const keys_t *keys;
    zsock_t **sockets;
    zpoller_t *poller;
    bool with_ack;
    long total;
    long sent;
    long completed;
    long bad_signatures;
    int64_t *sent_at; /* ns, by sequence number */
    bench_latency_t latency;
    uint8_t request[MAX_FRAME];
    uint8_t ack[MAX_FRAME];
} client_t;

static int s_parse_options(int argc, char **argv, options_t *options)
{
    *options = (options_t){.clients = 4,
                           .window = 16,
                           .requests = 20000,
                           .request_bytes = 80,
                           .reply_bytes = 400,
                           .signed_bytes = 160,
                           .ack_bytes = 190,
                           .ack_signed_bytes = 60};
    struct {
        const char *name;
        long *value;
    } table[] = {{"--clients", &options->clients},
                 {"--window", &options->window},
                 {"--requests", &options->requests},
                 {"--request-bytes", &options->request_bytes},
                 {"--reply-bytes", &options->reply_bytes},
                 {"--signed-bytes", &options->signed_bytes},
                 {"--ack-bytes", &options->ack_bytes},
                 {"--ack-signed-bytes", &options->ack_signed_bytes}};
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(s_usage, stdout);
            exit(0);
        }
        size_t t = 0;
        while (t < sizeof table / sizeof *table &&
               strcmp(argv[i], table[t].name) != 0)
            t++;
        if (t == sizeof table / sizeof *table) {
            fprintf(stderr, "unknown option '%s'\n%s", argv[i], s_usage);
            return -1;
        }
        if (bench_parse_count(argv[i], i + 1 < argc ? argv[i + 1] : NULL,
                              table[t].value))
            return -1;
    }
    long largest = options->reply_bytes > options->ack_bytes
                       ? options->reply_bytes
                       : options->ack_bytes;
    if (options->request_bytes < BODY_OFFSET || largest > MAX_FRAME ||
        options->request_bytes > MAX_FRAME ||
        options->signed_bytes + BODY_OFFSET + SIGN_SIGNATURE_SIZE >
            options->reply_bytes ||
        options->ack_signed_bytes + BODY_OFFSET + SIGN_SIGNATURE_SIZE >
            options->ack_bytes) {
        fprintf(stderr,
                "invalid sizes: frames must be %d to %d bytes, and each "
                "signed part plus %d bytes of header and signature must fit "
                "its frame\n",
                BODY_OFFSET, MAX_FRAME, BODY_OFFSET + SIGN_SIGNATURE_SIZE);
        return -1;
    }
    return 0;
}

static void s_put_seq(uint8_t *frame, uint64_t seq)
{
    memcpy(frame + SEQ_OFFSET, &seq, sizeof seq);
}

static uint64_t s_get_seq(const uint8_t *frame)
{
    uint64_t seq;
    memcpy(&seq, frame + SEQ_OFFSET, sizeof seq);
    return seq;
}

/* Prepares a frame of kind whose bytes after the header are random, so
 * signing it costs what signing real data costs. */
static void s_init_frame(uint8_t *frame, int kind, long size)
{
    randombytes_buf(frame, (size_t)size);
    frame[0] = (uint8_t)kind;
}

/* Stamps seq into the header and the signed part (which starts at
 * BODY_OFFSET and is signed_bytes long) and signs it, putting the
 * signature right after it. */
static void s_sign_frame(uint8_t *frame, uint64_t seq, long signed_bytes,
                         const signer_t *signer, const char *domain)
{
    s_put_seq(frame, seq);
    memcpy(frame + BODY_OFFSET, &seq, sizeof seq);
    signer_sign(signer, domain, frame + BODY_OFFSET, (size_t)signed_bytes,
                frame + BODY_OFFSET + signed_bytes);
}

static bool s_verify_signed(const uint8_t *frame, size_t size,
                            long signed_bytes, const uint8_t *public_key,
                            const char *domain)
{
    if (size < (size_t)(BODY_OFFSET + signed_bytes + SIGN_SIGNATURE_SIZE))
        return false;
    return sign_verify(public_key, domain, frame + BODY_OFFSET,
                       (size_t)signed_bytes,
                       frame + BODY_OFFSET + signed_bytes);
}

/* ---- the server (child process) ---- */

typedef struct {
    const options_t *options;
    const keys_t *keys;
    zap_t *zap;
    zsock_t *router;
    uint64_t acks_verified;
    uint64_t acks_rejected;
    uint8_t frame[MAX_FRAME];
} server_t;

static void s_server_send(server_t *server, zframe_t *routing,
                          const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    zframe_t *copy = zframe_dup(routing);
    zmsg_append(msg, &copy);
    zmsg_addmem(msg, data, size);
    zmsg_send(&msg, server->router);
}

/* Handles one message the way a serving node must at the least. */
static void s_server_handle(server_t *server, zframe_t *routing,
                            zframe_t *payload)
{
    const options_t *options = server->options;
    const uint8_t *data = zframe_data(payload);
    size_t size = zframe_size(payload);
    char supplier[5];
    const char *key = zframe_meta(payload, "User-Id");
    if (size < BODY_OFFSET || !zap_supplier(server->zap, key, supplier))
        return;
    if (data[0] == KIND_REQUEST) {
        s_sign_frame(server->frame, s_get_seq(data), options->signed_bytes,
                     server->keys->server_signer, SIGN_DOMAIN_RECEIPT);
        s_server_send(server, routing, server->frame,
                      (size_t)options->reply_bytes);
    } else if (data[0] == KIND_ACK) {
        if (s_verify_signed(data, size, options->ack_signed_bytes,
                            signer_public_key(server->keys->client_signer),
                            SIGN_DOMAIN_ACK))
            server->acks_verified++;
        else
            server->acks_rejected++;
    } else if (data[0] == KIND_COUNT) {
        uint8_t counts[1 + 16] = {KIND_COUNT};
        memcpy(counts + 1, &server->acks_verified, 8);
        memcpy(counts + 9, &server->acks_rejected, 8);
        s_server_send(server, routing, counts, sizeof counts);
    }
}

/* Serves until SIGTERM. Writes the bound endpoint, or "FAILED reason", as
 * one line to ready_fd. */
static int s_server_run(const options_t *options, const keys_t *keys,
                        int ready_fd)
{
    server_t server = {.options = options, .keys = keys};
    char error[512] = "cannot start the ZAP handler", line[600];
    s_init_frame(server.frame, KIND_REPLY, options->reply_bytes);
    zcert_t *cert = zcert_new_from(keys->server_public, keys->server_secret);
    char client_key[41];
    zmq_z85_encode(client_key, keys->client_public, 32);
    server.zap = zap_new();
    if (server.zap)
        zap_allow(server.zap, client_key, "BNCH");
    if (server.zap)
        server.router =
            curve_server_new(ZMQ_ROUTER, server.zap, cert, "tcp://127.0.0.1:*",
                             MAX_FRAME, error, sizeof error);
    if (server.router)
        snprintf(line, sizeof line, "%s\n", zsock_endpoint(server.router));
    else
        snprintf(line, sizeof line, "FAILED %s\n", error);
    if (write(ready_fd, line, strlen(line)) < 0)
        perror("floor: writing the server endpoint");
    close(ready_fd);
    /* SIGTERM may land on the ZAP handler's thread and leave this one
     * blocked, so the loop wakes every 100 ms to look at zsys_interrupted. */
    if (server.router)
        zsock_set_rcvtimeo(server.router, 100);
    while (server.router && !zsys_interrupted) {
        zmsg_t *msg = zmsg_recv(server.router);
        if (!msg)
            continue;
        zframe_t *routing = zmsg_pop(msg);
        zframe_t *payload = zmsg_pop(msg);
        if (routing && payload)
            s_server_handle(&server, routing, payload);
        zframe_destroy(&routing);
        zframe_destroy(&payload);
        zmsg_destroy(&msg);
    }
    zsock_destroy(&server.router);
    zap_destroy(&server.zap);
    zcert_destroy(&cert);
    return 0;
}

/* ---- the client (parent process) ---- */

static void s_client_send_request(client_t *client, zsock_t *socket)
{
    uint64_t seq = (uint64_t)client->sent++;
    s_put_seq(client->request, seq);
    client->sent_at[seq] = bench_now_ns();
    zsock_send(socket, "b", client->request,
               (size_t)client->options->request_bytes);
}

static void s_client_send_ack(client_t *client, zsock_t *socket, uint64_t seq)
{
    const options_t *options = client->options;
    s_sign_frame(client->ack, seq, options->ack_signed_bytes,
                 client->keys->client_signer, SIGN_DOMAIN_ACK);
    zsock_send(socket, "b", client->ack, (size_t)options->ack_bytes);
}

/* Verifies one reply, acknowledges it when asked to, and sends the next
 * request on the same socket. */
static void s_client_receive(client_t *client, zsock_t *socket)
{
    zframe_t *frame = zframe_recv(socket);
    if (!frame)
        return;
    const uint8_t *data = zframe_data(frame);
    size_t size = zframe_size(frame);
    uint64_t seq = size >= BODY_OFFSET ? s_get_seq(data) : UINT64_MAX;
    if (size < BODY_OFFSET || data[0] != KIND_REPLY ||
        seq >= (uint64_t)client->sent) {
        client->bad_signatures++;
        zframe_destroy(&frame);
        return;
    }
    if (!s_verify_signed(data, size, client->options->signed_bytes,
                         signer_public_key(client->keys->server_signer),
                         SIGN_DOMAIN_RECEIPT))
        client->bad_signatures++;
    if (client->with_ack)
        s_client_send_ack(client, socket, seq);
    bench_latency_add(&client->latency, bench_now_ns() - client->sent_at[seq]);
    client->completed++;
    zframe_destroy(&frame);
    if (client->sent < client->total)
        s_client_send_request(client, socket);
}

/* Takes one waiting reply from each socket in turn until none waits, so
 * that no socket is served before the others (zpoller_wait always returns
 * the first ready socket in the order they were added). */
static void s_client_drain(client_t *client)
{
    bool any = true;
    while (any) {
        any = false;
        for (long c = 0; c < client->options->clients; c++) {
            zsock_t *socket = client->sockets[c];
            if (zsock_events(socket) & ZMQ_POLLIN) {
                s_client_receive(client, socket);
                any = true;
            }
        }
    }
}

/* Asks the server, on every socket, how many acknowledgements it has
 * verified. Because each socket delivers in order, the reply on a socket
 * arrives after every acknowledgement sent on it before. Returns the largest
 * count, or -1 on a timeout. */
static long s_client_count_acks(client_t *client, long *rejected)
{
    uint8_t ask[BODY_OFFSET] = {KIND_COUNT};
    long verified = -1;
    for (long c = 0; c < client->options->clients; c++)
        zsock_send(client->sockets[c], "b", ask, sizeof ask);
    for (long answers = 0; answers < client->options->clients; answers++) {
        zsock_t *ready = zpoller_wait(client->poller, 10000);
        zframe_t *frame = ready ? zframe_recv(ready) : NULL;
        if (!frame)
            return -1;
        uint64_t count = 0, bad = 0;
        if (zframe_size(frame) == 17 && zframe_data(frame)[0] == KIND_COUNT) {
            memcpy(&count, zframe_data(frame) + 1, 8);
            memcpy(&bad, zframe_data(frame) + 9, 8);
        }
        if ((long)count > verified)
            verified = (long)count;
        if ((long)bad > *rejected)
            *rejected = (long)bad;
        zframe_destroy(&frame);
    }
    return verified;
}

/* Runs total requests with window in flight per socket. Returns the
 * elapsed ns, or -1 when no reply arrived for 10 s. */
static int64_t s_client_phase(client_t *client, long total, bool with_ack)
{
    client->total = total;
    client->sent = client->completed = 0;
    client->with_ack = with_ack;
    client->latency.count = 0;
    int64_t start = bench_now_ns();
    for (long c = 0; c < client->options->clients; c++)
        for (long w = 0; w < client->options->window && client->sent < total;
             w++)
            s_client_send_request(client, client->sockets[c]);
    while (client->completed < total) {
        if (!zpoller_wait(client->poller, 10000)) {
            fprintf(stderr,
                    "floor: no reply within 10 s; %ld of %ld "
                    "requests unanswered\n",
                    total - client->completed, total);
            return -1;
        }
        s_client_drain(client);
    }
    return bench_now_ns() - start;
}

static int s_client_open(client_t *client, const char *endpoint)
{
    char server_key[41], error[512];
    zmq_z85_encode(server_key, client->keys->server_public, 32);
    zcert_t *cert = zcert_new_from(client->keys->client_public,
                                   client->keys->client_secret);
    long clients = client->options->clients;
    client->sockets = calloc((size_t)clients, sizeof *client->sockets);
    client->poller = zpoller_new(NULL);
    s_init_frame(client->request, KIND_REQUEST, client->options->request_bytes);
    s_init_frame(client->ack, KIND_ACK, client->options->ack_bytes);
    /* The warm-up sends clients * window requests. */
    size_t capacity = (size_t)client->options->requests;
    if ((size_t)(clients * client->options->window) > capacity)
        capacity = (size_t)(clients * client->options->window);
    client->sent_at = calloc(capacity, sizeof *client->sent_at);
    int rc = bench_latency_init(&client->latency, capacity);
    for (long c = 0; c < clients && rc == 0; c++) {
        client->sockets[c] =
            curve_client_new(ZMQ_DEALER, cert, server_key, endpoint, MAX_FRAME,
                             error, sizeof error);
        if (!client->sockets[c]) {
            fprintf(stderr, "floor: %s\n", error);
            rc = -1;
        } else
            zpoller_add(client->poller, client->sockets[c]);
    }
    zcert_destroy(&cert);
    return client->sent_at ? rc : -1;
}

static void s_client_close(client_t *client)
{
    zpoller_destroy(&client->poller);
    for (long c = 0; client->sockets && c < client->options->clients; c++)
        zsock_destroy(&client->sockets[c]);
    free(client->sockets);
    free(client->sent_at);
    bench_latency_free(&client->latency);
}

/* Runs one figure after an untimed warm-up. Returns 0 when every reply
 * verified and, with acks, the server verified every acknowledgement. */
static int s_client_figure(client_t *client, const char *name, bool with_ack)
{
    const options_t *options = client->options;
    long rejected = 0, before = 0;
    if (s_client_phase(client, options->clients * options->window, with_ack) <
        0)
        return -1;
    if (with_ack)
        before = s_client_count_acks(client, &rejected);
    int64_t start = bench_now_ns();
    if (s_client_phase(client, options->requests, with_ack) < 0)
        return -1;
    long after = with_ack ? s_client_count_acks(client, &rejected) : 0;
    int64_t elapsed = bench_now_ns() - start;
    bench_print_result(name, &client->latency, elapsed);
    if (client->bad_signatures || rejected || before < 0 ||
        after - before != (with_ack ? options->requests : 0)) {
        fprintf(stderr,
                "floor: %s: %ld bad replies, %ld acknowledgements rejected, "
                "%ld of %ld acknowledgements verified\n",
                name, client->bad_signatures, rejected, after - before,
                with_ack ? options->requests : 0);
        return -1;
    }
    return 0;
}

/* Reads the server's endpoint line from fd, waiting up to 10 s. */
static int s_read_endpoint(int fd, char *endpoint, size_t size)
{
    struct pollfd poll_fd = {.fd = fd, .events = POLLIN};
    ssize_t got = 0;
    if (poll(&poll_fd, 1, 10000) == 1)
        got = read(fd, endpoint, size - 1);
    endpoint[got > 0 ? got : 0] = '\0';
    endpoint[strcspn(endpoint, "\n")] = '\0';
    if (got > 0 && strncmp(endpoint, "FAILED", 6) != 0)
        return 0;
    fprintf(stderr, "floor: the server did not start: %s\n",
            got > 0 ? endpoint : "no endpoint within 10 s");
    return -1;
}

/* Times Ed25519 sign and verify of a signed part of the reply's size on
 * one thread, and prints "floor_ed25519 sign_us=S verify_us=V". */
static int s_time_ed25519(const options_t *options, const keys_t *keys)
{
    uint8_t body[MAX_FRAME], signature[SIGN_SIGNATURE_SIZE];
    size_t size = (size_t)options->signed_bytes;
    long rounds = options->requests < 5000 ? options->requests : 5000;
    long valid = 0;
    randombytes_buf(body, size);
    int64_t start = bench_now_ns();
    for (long i = 0; i < rounds; i++) {
        memcpy(body, &i, sizeof i);
        signer_sign(keys->server_signer, SIGN_DOMAIN_RECEIPT, body, size,
                    signature);
    }
    int64_t signed_at = bench_now_ns();
    for (long i = 0; i < rounds; i++)
        valid += sign_verify(signer_public_key(keys->server_signer),
                             SIGN_DOMAIN_RECEIPT, body, size, signature);
    int64_t verified_at = bench_now_ns();
    printf("floor_ed25519 sign_us=%.1f verify_us=%.1f bytes=%zu rounds=%ld\n",
           (double)(signed_at - start) / 1e3 / (double)rounds,
           (double)(verified_at - signed_at) / 1e3 / (double)rounds, size,
           rounds);
    fflush(stdout);
    return valid == rounds ? 0 : -1;
}

/* Stops the server process: SIGTERM, then SIGKILL after 5 s. */
static void s_stop_server(pid_t server)
{
    kill(server, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(server, NULL, WNOHANG) == server)
            return;
        usleep(100000);
    }
    fprintf(stderr, "floor: the server did not stop in 5 s; killing it\n");
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
}

static int s_make_keys(keys_t *keys)
{
    if (sodium_init() < 0)
        return -1;
    crypto_box_keypair(keys->server_public, keys->server_secret);
    crypto_box_keypair(keys->client_public, keys->client_secret);
    keys->server_signer = signer_new(NULL);
    keys->client_signer = signer_new(NULL);
    return keys->server_signer && keys->client_signer ? 0 : -1;
}

static int s_client_run(const options_t *options, const keys_t *keys,
                        const char *endpoint)
{
    client_t client = {.options = options, .keys = keys};
    int rc = s_client_open(&client, endpoint);
    if (rc == 0)
        rc = s_client_figure(&client, "floor_curve_sign_verify", false);
    if (rc == 0)
        rc = s_client_figure(&client, "floor_curve_sign_verify_ack", true);
    s_client_close(&client);
    return rc;
}

int main(int argc, char **argv)
{
    options_t options;
    keys_t keys = {0};
    if (s_parse_options(argc, argv, &options))
        return 2;
    int ready[2];
    if (s_make_keys(&keys) || s_time_ed25519(&options, &keys) ||
        pipe(ready) != 0) {
        fprintf(stderr,
                "floor: failed to create keys or a pipe, or a signature "
                "did not verify\n");
        return 1;
    }
    /* Fork before any ZeroMQ context exists, so each process has its own
     * context and I/O thread, as two nodes do. */
    pid_t server = fork();
    if (server < 0) {
        perror("floor: fork");
        return 1;
    }
    if (server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        close(ready[0]);
        _exit(s_server_run(&options, &keys, ready[1]));
    }
    close(ready[1]);
    char endpoint[600];
    int rc = s_read_endpoint(ready[0], endpoint, sizeof endpoint);
    close(ready[0]);
    if (rc == 0) {
        zsys_handler_set(NULL);
        rc = s_client_run(&options, &keys, endpoint);
    }
    s_stop_server(server);
    signer_destroy(&keys.server_signer);
    signer_destroy(&keys.client_signer);
    return rc == 0 ? 0 : 1;
}
