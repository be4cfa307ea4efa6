/* The node actor: set-up, the event loop and group commit. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_exchange.h"
#include "clock.h"
#include "curve.h"
#include "dir_keys.h"
#include "keys.h"
#include "log.h"
#include "node_context.h"
#include "recovery.h"
#include "requester.h"
#include "server.h"

/* How often the ZAP allow-list is reloaded from the directory, and how
 * soon a failed load is retried. */
#define NODE_ALLOW_LIST_REFRESH_MS 10000
#define NODE_ALLOW_LIST_RETRY_MS   1000
/* Upper bound of messages handled between two commits, so replies are not
 * held back for long under load. */
#define NODE_BATCH_MAX 256
#define NODE_TICK_MS   100

struct node_actor {
    zactor_t *actor;
    char endpoint[256];
};

/* A message waiting for the batch to commit. */
typedef struct {
    zsock_t *socket;
    zmsg_t *msg;
} outbox_t;

static void s_outbox_destroy(void **item)
{
    outbox_t *entry = *item;
    zmsg_destroy(&entry->msg);
    free(entry);
    *item = NULL;
}

int node_batch_begin(node_t *node)
{
    if (node->in_batch)
        return 0;
    char error[512];
    if (ledger_begin(node->ledger, error, sizeof error)) {
        log_error("cannot start a ledger transaction: %s", error);
        return -1;
    }
    node->in_batch = true;
    return 0;
}

void node_send_after_commit(node_t *node, zsock_t *socket, zmsg_t **msg)
{
    outbox_t *entry = calloc(1, sizeof *entry);
    entry->socket = socket;
    entry->msg = *msg;
    *msg = NULL;
    zlistx_add_end(node->outbox, entry);
}

/* Commits the batch, then releases the replies that waited for it. If the
 * commit fails nothing of the batch is stored, and its replies are dropped
 * so that requesters retry with the same ids. */
static void s_flush(node_t *node)
{
    audit_flush(node->audit);
    char error[512];
    bool committed = true;
    if (node->in_batch) {
        node->in_batch = false;
        if (ledger_commit(node->ledger, error, sizeof error)) {
            log_error("ledger commit failed, dropping %zu replies: %s",
                      zlistx_size(node->outbox), error);
            ledger_rollback(node->ledger, error, sizeof error);
            committed = false;
        }
    }
    for (outbox_t *entry = zlistx_first(node->outbox); entry;
         entry = zlistx_next(node->outbox))
        if (committed)
            zmsg_send(&entry->msg, entry->socket);
    zlistx_purge(node->outbox);
}

/* Makes the ZAP allow-list exactly the CURVE keys of list valid at now_ms,
 * and notes when one of them next starts or ends. */
static void s_apply_allow_list(node_t *node, const dir_supplier_t *list,
                               size_t count, int64_t now_ms)
{
    const char **keep = calloc(count * DIR_MAX_KEYS + 1, sizeof *keep);
    if (!keep) {
        log_error("allow-list not reloaded: out of memory");
        return;
    }
    size_t kept = 0;
    node->key_change_ms = DIR_OPEN_END;
    for (size_t i = 0; i < count; i++) {
        size_t found = dir_supplier_curve_keys(&list[i], now_ms, &keep[kept],
                                               DIR_MAX_KEYS);
        if (found > DIR_MAX_KEYS)
            found = DIR_MAX_KEYS;
        for (size_t k = 0; k < found; k++)
            zap_allow(node->zap, keep[kept + k], list[i].mpid);
        kept += found;
        int64_t next = dir_supplier_next_key_change(&list[i], now_ms);
        if (next < node->key_change_ms)
            node->key_change_ms = next;
    }
    size_t before = zap_size(node->zap);
    zap_retain(node->zap, keep);
    if (node->allow_list_refreshed != 0 && zap_size(node->zap) != before)
        log_info("allow-list changed keys=%zu", zap_size(node->zap));
    free(keep);
}

/* Loads the suppliers' CURVE keys that are valid now from the directory
 * into the ZAP allow-list, removing every other key. */
static void s_refresh_allow_list(node_t *node, int64_t now_ms)
{
    dir_supplier_t *list = NULL;
    size_t count = 0;
    char error[512];
    /* With a feed, changes to suppliers come through it, so only the list
     * is fetched again; without one, the whole cache goes, which bounds
     * how long a stale answer lives to this interval. */
    if (node->feed)
        dirclient_forget_supplier(node->directory, NULL);
    else
        dirclient_flush(node->directory);
    if (dirclient_suppliers(node->directory, &list, &count, error,
                            sizeof error) != DIR_OK) {
        log_warning("cannot load the supplier keys from the directory, "
                    "retrying: %s",
                    error);
        node->allow_list_refreshed =
            now_ms - NODE_ALLOW_LIST_REFRESH_MS + NODE_ALLOW_LIST_RETRY_MS;
        /* The retry above also covers a key that started or ended. */
        node->key_change_ms = DIR_OPEN_END;
        return;
    }
    s_apply_allow_list(node, list, count, now_ms);
    if (node->allow_list_refreshed == 0)
        log_info("supplier keys loaded from the directory suppliers=%zu "
                 "keys=%zu",
                 count, zap_size(node->zap));
    node->allow_list_refreshed = now_ms;
    free(list);
}

/* The feed's sink: the directory client's, plus a mark that makes the
 * loop reload the allow-list before its next message. The mark is set for
 * changes that may touch suppliers' keys: a key change, a change about a
 * supplier, and one that names nothing, such as a bulk load. */
static void s_feed_apply(void *context, const dir_change_t *change)
{
    node_t *node = context;
    node->client_sink.apply(node->client_sink.context, change);
    if (strcmp(change->kind, DIR_CHANGE_KEY) == 0 || change->mpid[0] ||
        !change->mpxn[0])
        node->keys_stale = true;
}

static void s_feed_flush(void *context)
{
    node_t *node = context;
    node->client_sink.flush(node->client_sink.context);
    node->keys_stale = true;
}

static dir_status_t s_feed_fetch(void *context, uint64_t since,
                                 dir_change_list_t *out, char *error,
                                 size_t error_size)
{
    node_t *node = context;
    return node->client_sink.fetch(node->client_sink.context, since, out, error,
                                   error_size);
}

/* Subscribes to the directory's change feed when node.conf names one. */
static int s_open_feed(node_t *node, const char *directory_key, char *error,
                       size_t error_size)
{
    if (!node->config.directory_feed[0])
        return 0;
    node->client_sink = dir_feed_client_sink(node->directory);
    dir_feed_sink_t sink = {.apply = s_feed_apply,
                            .flush = s_feed_flush,
                            .fetch = s_feed_fetch,
                            .context = node};
    node->feed = dir_feed_new(&sink);
    if (!node->feed) {
        snprintf(error, error_size, "out of memory for the directory feed");
        return -1;
    }
    if (dir_feed_connect(node->feed, node->config.directory_feed, directory_key,
                         node->cert, error, error_size) != 0)
        return -1;
    log_info("directory feed subscribed endpoint=%s",
             node->config.directory_feed);
    return 0;
}

static int s_load_keys(node_t *node, char *error, size_t error_size)
{
    char path[PATH_MAX];
    char directory_key[41];
    uint8_t directory_sign[SIGN_PUBLIC_SIZE];
    node->cert = keys_load_cert(config_path(&node->config, "node.cert", path),
                                error, error_size);
    if (!node->cert)
        return -1;
    node->signer =
        keys_load_signer(config_path(&node->config, "node.sign_secret", path),
                         error, error_size);
    if (!node->signer ||
        keys_load_curve_public(
            config_path(&node->config, "directory.cert", path), directory_key,
            error, error_size) ||
        keys_load_sign_public(
            config_path(&node->config, "directory.sign", path), directory_sign,
            error, error_size))
        return -1;
    node->directory =
        dirclient_new(node->config.directory, directory_key, directory_sign,
                      node->cert, node->config.directory_timeout_ms);
    if (!node->directory) {
        snprintf(error, error_size, "cannot connect to the directory at %s",
                 node->config.directory);
        return -1;
    }
    return s_open_feed(node, directory_key, error, error_size);
}

/* Creates HOME/run with mode 0700, so only this user reaches the control
 * and agent sockets. */
static int s_make_run_folder(node_t *node, char *error, size_t error_size)
{
    char path[PATH_MAX];
    config_path(&node->config, "run", path);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "cannot create %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (chmod(path, 0700) != 0) {
        snprintf(error, error_size, "cannot set mode 0700 on %s: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int s_open_stores(node_t *node, char *error, size_t error_size)
{
    char path[PATH_MAX];
    node->ledger = ledger_open(config_path(&node->config, "ledger.db", path),
                               error, error_size);
    if (!node->ledger)
        return -1;
    node->tariffs = tariff_set_load(config_path(&node->config, "tariffs", path),
                                    error, error_size);
    if (!node->tariffs)
        return -1;
    node->audit = audit_open(config_path(&node->config, "audit.log", path));
    if (!node->audit) {
        snprintf(error, error_size, "cannot open %s: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int s_bind_sockets(node_t *node, char *error, size_t error_size)
{
    char endpoint[PATH_MAX + 16];
    node->zap = zap_new();
    if (!node->zap) {
        snprintf(error, error_size, "cannot start the ZAP handler");
        return -1;
    }
    node->server =
        curve_server_new(ZMQ_ROUTER, node->zap, node->cert, node->config.bind,
                         node->config.max_frame, error, error_size);
    if (!node->server)
        return -1;
    config_agent_endpoint(node->config.home, endpoint, sizeof endpoint);
    node->agents = agent_pool_new(endpoint, node->config.agent_timeout_ms);
    if (!node->agents) {
        snprintf(error, error_size, "cannot bind the agent socket %s",
                 endpoint);
        return -1;
    }
    config_control_endpoint(node->config.home, endpoint, sizeof endpoint);
    node->control = zsock_new(ZMQ_ROUTER);
    zsock_set_maxmsgsize(node->control, (int)node->config.max_frame);
    if (zsock_bind(node->control, "%s", endpoint) != 0) {
        snprintf(error, error_size, "cannot bind the control socket %s: %s",
                 endpoint, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static void s_close(node_t *node)
{
    if (node->in_batch)
        s_flush(node);
    zpoller_destroy(&node->poller);
    checkpoint_exchange_destroy(node);
    recovery_destroy(node);
    requester_destroy(node);
    zhashx_destroy(&node->served);
    zlistx_destroy(&node->outbox);
    zsock_destroy(&node->control);
    agent_pool_destroy(&node->agents);
    zsock_destroy(&node->server);
    dir_feed_destroy(&node->feed);
    dirclient_destroy(&node->directory);
    zap_destroy(&node->zap);
    audit_destroy(&node->audit);
    tariff_set_destroy(&node->tariffs);
    ledger_destroy(&node->ledger);
    signer_destroy(&node->signer);
    zcert_destroy(&node->cert);
}

static int s_open(node_t *node, const char *home, char *error,
                  size_t error_size)
{
    node->outbox = zlistx_new();
    zlistx_set_destructor(node->outbox, s_outbox_destroy);
    server_init(node);
    requester_init(node);
    recovery_init(node);
    checkpoint_exchange_init(node);
    if (config_load(home, &node->config, error, error_size) ||
        s_make_run_folder(node, error, error_size) ||
        s_load_keys(node, error, error_size) ||
        s_open_stores(node, error, error_size) ||
        s_bind_sockets(node, error, error_size))
        return -1;
    node->poller = zpoller_new(node->server, agent_pool_socket(node->agents),
                               node->control, NULL);
    if (node->feed)
        zpoller_add(node->poller, dir_feed_socket(node->feed));
    return 0;
}

/* Applies the changes waiting on the feed, so that no request is decided
 * on an answer that a change already published has made stale, and
 * reloads the allow-list when they may have changed keys, so that the
 * next message under a revoked key is dropped. */
static void s_read_feed(node_t *node)
{
    if (!node->feed)
        return;
    dir_feed_receive(node->feed);
    if (node->keys_stale) {
        node->keys_stale = false;
        s_refresh_allow_list(node, clock_now_ms());
    }
}

/* Handles one message on socket; returns false when nothing was waiting. */
static bool s_handle(node_t *node, void *socket)
{
    s_read_feed(node);
    if (node->feed && socket == dir_feed_socket(node->feed))
        return false;
    if (socket == node->server)
        server_handle_peer(node);
    else if (socket == agent_pool_socket(node->agents))
        server_handle_agent(node);
    else if (socket == node->control)
        requester_handle_control(node);
    else
        return requester_handle_peer(node, socket);
    return true;
}

static bool s_has_input(void *socket)
{
    return (zsock_events(socket) & ZMQ_POLLIN) != 0;
}

/* Handles what else is already waiting, so one commit covers it all. */
static void s_drain(node_t *node)
{
    for (int handled = 0; handled < NODE_BATCH_MAX;) {
        int before = handled;
        void *fixed[] = {node->server, agent_pool_socket(node->agents),
                         node->control};
        for (size_t i = 0; i < 3; i++)
            if (s_has_input(fixed[i]) && s_handle(node, fixed[i]))
                handled++;
        handled += requester_drain_peers(node);
        if (handled == before)
            break;
    }
}

static void s_tick(node_t *node)
{
    int64_t now = clock_now_ms();
    server_expire(node, now);
    requester_expire(node, now);
    if (now - node->allow_list_refreshed >= NODE_ALLOW_LIST_REFRESH_MS ||
        now >= node->key_change_ms)
        s_refresh_allow_list(node, now);
    recovery_tick(node, now);
    checkpoint_exchange_tick(node, now);
    if (node->feed)
        dir_feed_tick(node->feed, now);
}

static void s_run(node_t *node, zsock_t *pipe)
{
    zpoller_add(node->poller, pipe);
    int64_t last_tick = 0;
    while (true) {
        void *which = zpoller_wait(node->poller, NODE_TICK_MS);
        if (which == pipe) {
            char *command = zstr_recv(pipe);
            bool stop = !command || streq(command, "$TERM");
            zstr_free(&command);
            if (stop)
                break;
        } else if (which) {
            s_handle(node, which);
            s_drain(node);
        } else if (zpoller_terminated(node->poller))
            break;
        if (clock_now_ms() - last_tick >= NODE_TICK_MS) {
            s_tick(node);
            last_tick = clock_now_ms();
        }
        s_flush(node);
    }
}

typedef struct {
    char home[PATH_MAX];
} node_args_t;

static void s_actor(zsock_t *pipe, void *args)
{
    node_args_t *node_args = args;
    node_t node = {0};
    char error[1024];
    zsock_signal(pipe, 0);
    if (s_open(&node, node_args->home, error, sizeof error)) {
        zstr_sendx(pipe, "FAILED", error, NULL);
        s_close(&node);
        return;
    }
    s_refresh_allow_list(&node, clock_now_ms());
    /* ZMQ_LAST_ENDPOINT has the port the system chose for ":0" or ":*". */
    char *endpoint = zsock_last_endpoint(node.server);
    log_info("node started mpid=%s endpoint=%s", node.config.mpid, endpoint);
    zstr_sendx(pipe, "READY", endpoint, NULL);
    zstr_free(&endpoint);
    s_run(&node, pipe);
    log_info("node stopping mpid=%s", node.config.mpid);
    s_close(&node);
}

node_actor_t *node_new(const char *home, char *error, size_t error_size)
{
    node_actor_t *self = calloc(1, sizeof *self);
    node_args_t args;
    snprintf(args.home, sizeof args.home, "%s", home);
    self->actor = zactor_new(s_actor, &args);
    char *outcome = NULL, *detail = NULL;
    if (self->actor)
        zstr_recvx(self->actor, &outcome, &detail, NULL);
    bool ready = outcome && streq(outcome, "READY");
    snprintf(ready ? self->endpoint : error,
             ready ? sizeof self->endpoint : error_size, "%s",
             detail ? detail : "the node actor did not start");
    zstr_free(&outcome);
    zstr_free(&detail);
    if (!ready)
        node_destroy(&self);
    return self;
}

void node_destroy(node_actor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy(&(*self_p)->actor);
    free(*self_p);
    *self_p = NULL;
}

const char *node_endpoint(node_actor_t *self)
{
    return self->endpoint;
}
