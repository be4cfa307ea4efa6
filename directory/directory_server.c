/* Directory query server actor. */
#include "directory_server.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "curve.h"
#include "dir_answer.h"
#include "dir_changes.h"
#include "dir_keys.h"
#include "dir_request.h"
#include "directory_db.h"
#include "directory_key_watch.h"
#include "directory_keys.h"
#include "directory_query_log.h"
#include "directory_rate.h"
#include "envelope.h"
#include "log.h"
#include "zap.h"

/* How often the server checks whether the database has changed. A check
 * is one PRAGMA, and it bounds how late the feed publishes a change. */
#define S_POLL_INTERVAL_MS 100
/* How often the feed sends dir.head. */
#define S_HEAD_INTERVAL_MS 1000
/* Changes published per check; the rest go out at the next checks. It
 * is half of libzmq's default queue of 1000 messages per subscriber,
 * because a PUB socket can fill that queue faster than its I/O thread
 * drains it (a burst of 1001 lost its last two). A subscriber that still
 * misses some detects the gap and requests dir.changes. */
#define S_PUBLISH_MAX 500
/* Largest frame the feed socket accepts from subscribers, whose only
 * messages are subscriptions. */
#define S_FEED_MAX_FRAME 4096
/* How often the allow-list is re-read without a change, which also runs
 * the key expiry warnings. */
#define S_KEY_CHECK_INTERVAL_MS 60000

struct directory_server {
    directory_server_config_t config; /* the actor reads it while serving */
    zactor_t *actor;
    char endpoint[256];
    char feed_endpoint[256];
};

/* The actor's state, used by the actor thread only. */
typedef struct {
    const directory_server_config_t *config;
    zsock_t *pipe;
    directory_db_t *db;
    zap_t *zap;
    zsock_t *router;
    zsock_t *feed;                /* PUB, or NULL without a feed */
    directory_change_row_t *rows; /* DIR_CHANGES_MAX, for listings */
    uint64_t published;           /* latest change sent on the feed */
    bool backlog;                 /* changes after published wait */
    int64_t data_version;
    int64_t next_check_ms;
    int64_t next_head_ms;
    directory_query_log_t *query_log; /* NULL without one */
    directory_rate_t *rate;           /* NULL without a rate limit */
    directory_key_watch_t *key_watch; /* NULL without expiry warnings */
    int64_t key_boundary_ms;          /* UTC: next start or end of a key */
    int64_t next_key_check_ms;
    bool terminated;
} s_server_t;

/* Allow-list */

/* Lists every supplier with its keys, and its keys in use at now_ms. */
static int s_read_suppliers(s_server_t *self, int64_t now_ms,
                            dir_supplier_t **list, size_t *count, char *error,
                            size_t error_size)
{
    if (directory_db_list_suppliers(self->db, list, count, error, error_size) !=
        0)
        return -1;
    if (directory_keys_attach(self->db, *list, *count, now_ms, error,
                              error_size) == 0)
        return 0;
    free(*list);
    *list = NULL;
    return -1;
}

/* Makes the ZAP allow-list exactly the CURVE keys in list valid at now_ms.
 * Returns the number of keys, or -1 when out of memory. */
static int s_apply_allow_list(s_server_t *self, const dir_supplier_t *list,
                              size_t count, int64_t now_ms)
{
    const char **keep = calloc(count * DIR_MAX_KEYS + 1, sizeof *keep);
    if (!keep)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        const char **keys = &keep[kept];
        size_t found =
            dir_supplier_curve_keys(&list[i], now_ms, keys, DIR_MAX_KEYS);
        for (size_t k = 0; k < found && k < DIR_MAX_KEYS; k++)
            zap_allow(self->zap, keys[k], list[i].mpid);
        kept += found < DIR_MAX_KEYS ? found : DIR_MAX_KEYS;
    }
    zap_retain(self->zap, keep);
    free(keep);
    return (int)kept;
}

/* The earliest time after now_ms at which a key of list starts or ends. */
static int64_t s_next_key_change(const dir_supplier_t *list, size_t count,
                                 int64_t now_ms)
{
    int64_t next = DIR_OPEN_END;
    for (size_t i = 0; i < count; i++) {
        int64_t at = dir_supplier_next_key_change(&list[i], now_ms);
        if (at < next)
            next = at;
    }
    return next;
}

/* Reads the allow-list again; logs it at info level when announce is set
 * (at start and after a commit), else at debug level. */
static int s_load_allow_list(s_server_t *self, bool announce, char *error,
                             size_t error_size)
{
    dir_supplier_t *list;
    size_t count;
    int64_t now = clock_now_ms();
    if (s_read_suppliers(self, now, &list, &count, error, error_size) != 0)
        return -1;
    int keys = s_apply_allow_list(self, list, count, now);
    self->key_boundary_ms = s_next_key_change(list, count, now);
    self->next_key_check_ms = zclock_mono() + S_KEY_CHECK_INTERVAL_MS;
    if (self->key_watch)
        directory_key_watch_check(self->key_watch, list, count, now);
    free(list);
    if (keys < 0) {
        snprintf(error, error_size, "out of memory for the allow-list");
        return -1;
    }
    if (announce)
        log_info("allow-list loaded suppliers=%zu curve_keys=%d", count, keys);
    else
        log_debug("allow-list loaded suppliers=%zu curve_keys=%d", count, keys);
    return 0;
}

/* True when a key has started or ended since the allow-list was read, or
 * the periodic check is due. */
static bool s_keys_due(const s_server_t *self)
{
    return clock_now_ms() >= self->key_boundary_ms ||
           zclock_mono() >= self->next_key_check_ms;
}

/* Change feed */

static void s_publish(s_server_t *self, const msgpack_sbuffer *buffer)
{
    /* A PUB socket drops a message rather than block when a subscriber's
     * queue is full; the subscriber detects the gap and requests dir.changes.
     */
    if (zsock_send(self->feed, "b", buffer->data, buffer->size) != 0)
        log_warning("feed message not sent endpoint=%s",
                    zsock_endpoint(self->feed));
}

static void s_publish_head(s_server_t *self)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_changes_pack_head(&buffer, self->published, clock_now_ms());
    s_publish(self, &buffer);
    msgpack_sbuffer_destroy(&buffer);
}

/* Publishes up to S_PUBLISH_MAX of the changes after published; returns
 * the number sent, or -1 when the database failed. */
static int s_publish_page(s_server_t *self)
{
    char error[256];
    size_t count;
    if (directory_db_list_changes(self->db, self->published, NULL, self->rows,
                                  S_PUBLISH_MAX, &count, error,
                                  sizeof error) != 0) {
        log_error("reading the change log for the feed failed: %s", error);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init(&buffer);
        dir_changes_pack_change(&buffer, &self->rows[i].change, clock_now_ms());
        s_publish(self, &buffer);
        msgpack_sbuffer_destroy(&buffer);
        self->published = self->rows[i].change.number;
        log_debug("change published change=%llu kind=%s mpxn=%s",
                  (unsigned long long)self->published,
                  self->rows[i].change.kind, self->rows[i].change.mpxn);
    }
    return (int)count;
}

static void s_publish_changes(s_server_t *self)
{
    int sent = s_publish_page(self);
    self->backlog = sent < 0 || sent == S_PUBLISH_MAX;
}

/* Sends the heartbeat when it is due. */
static void s_beat(s_server_t *self)
{
    int64_t now = zclock_mono();
    if (!self->feed || now < self->next_head_ms)
        return;
    self->next_head_ms = now + S_HEAD_INTERVAL_MS;
    s_publish_head(self);
}

/* Runs every S_POLL_INTERVAL_MS: writes the query log, and when another
 * connection has committed to the database since the last check,
 * publishes the new changes and reloads the allow-list, which it also
 * reloads when a key starts or ends. */
static void s_check_for_changes(s_server_t *self)
{
    int64_t now = zclock_mono();
    if (now < self->next_check_ms)
        return;
    self->next_check_ms = now + S_POLL_INTERVAL_MS;

    char error[512];
    if (self->query_log &&
        directory_query_log_flush(self->query_log, error, sizeof error) != 0)
        log_error("query log not written, entries dropped: %s", error);
    int64_t version;
    if (directory_db_data_version(self->db, &version, error, sizeof error) !=
        0) {
        log_error("checking the database for changes failed: %s", error);
        return;
    }
    bool changed = version != self->data_version;
    if (self->feed && (changed || self->backlog))
        s_publish_changes(self);
    if (!changed && !s_keys_due(self))
        return;
    if (s_load_allow_list(self, changed, error, sizeof error) != 0) {
        log_error("reloading the allow-list failed: %s", error);
        return;
    }
    self->data_version = version;
}

/* Replies */

/* What a reply echoes of its request. */
typedef struct {
    zframe_t *routing;
    const char *type;
    const uint8_t *id;
    const char *supplier;
    const char *key;  /* CURVE key of the requester, for logs */
    const char *mpxn; /* what a valid request asks about, for the query */
    const char *mpid; /* log; "" otherwise */
} s_context_t;

/* Adds the query and its reply's status to the query log. */
static void s_log_query(s_server_t *self, const s_context_t *context,
                        const char *status)
{
    if (!self->query_log)
        return;
    directory_query_t query = {.at_ms = clock_now_ms(),
                               .supplier = context->supplier,
                               .curve_key = context->key,
                               .type = context->type,
                               .mpxn = context->mpxn,
                               .mpid = context->mpid,
                               .status = status};
    char error[512];
    if (directory_query_log_add(self->query_log, &query) >=
            DIRECTORY_QUERY_LOG_BATCH &&
        directory_query_log_flush(self->query_log, error, sizeof error) != 0)
        log_error("query log not written, entries dropped: %s", error);
}

static void s_send_reply(s_server_t *self, const s_context_t *context,
                         const char *status, const char *error,
                         const msgpack_sbuffer *answer)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_reply_pack(&buffer, context->type, context->id, clock_now_ms(), status,
                   error, answer ? answer->data : NULL,
                   answer ? answer->size : 0, self->config->signer);

    zmsg_t *message = zmsg_new();
    zframe_t *routing = zframe_dup(context->routing);
    zmsg_append(message, &routing);
    zmsg_addmem(message, buffer.data, buffer.size);
    msgpack_sbuffer_destroy(&buffer);
    if (zmsg_send(&message, self->router) != 0) {
        log_warning("directory reply not sent type=%s supplier=%s",
                    context->type, context->supplier);
        zmsg_destroy(&message);
    }
    log_debug("query answered type=%s supplier=%s status=%s", context->type,
              context->supplier, status);
    s_log_query(self, context, status);
}

static void s_reply_failure(s_server_t *self, const s_context_t *context,
                            const char *error)
{
    log_error("directory query failed: %s type=%s supplier=%s", error,
              context->type, context->supplier);
    s_send_reply(self, context, STATUS_UNAVAILABLE,
                 "the directory database failed: try again later", NULL);
}

static void s_validity(const s_server_t *self, int64_t *issued_ms,
                       int64_t *expires_ms)
{
    *issued_ms = clock_now_ms();
    *expires_ms = *issued_ms + (int64_t)self->config->ttl_seconds * 1000;
}

/* Request handlers */

/* Leaves the registrations out of point unless requester installed its
 * meter or is or was registered for it: a supplier may learn any supply
 * point's smart status, installing supplier and head end, but who else
 * supplied a customer only where it has a part in the supply point. The
 * installer sees them because its node checks every request against
 * them. */
static int s_restrict_registrations(s_server_t *self, const char *requester,
                                    dir_supply_point_t *point, char *error,
                                    size_t error_size)
{
    if (strcmp(point->installing, requester) == 0)
        return 0;
    int registered = directory_db_was_registered(self->db, point->mpxn,
                                                 requester, error, error_size);
    if (registered < 0)
        return -1;
    if (registered == 0) {
        point->registration_count = 0;
        point->registrations_withheld = true;
    }
    return 0;
}

static int s_read_point_rows(s_server_t *self, const char *mpxn,
                             const char *requester, dir_supply_point_t *point,
                             char *error, size_t error_size)
{
    int found =
        directory_db_get_supply_point(self->db, mpxn, point, error, error_size);
    if (found != 1)
        return found;
    if (directory_db_get_registrations(self->db, point, error, error_size) !=
            0 ||
        s_restrict_registrations(self, requester, point, error, error_size) !=
            0 ||
        directory_db_last_change(self->db, &point->change, error, error_size) !=
            0)
        return -1;
    return 1;
}

/* Reads the supply point, as requester may see it, in one read
 * transaction, so that its change number is that of the registrations it
 * carries even while another process commits a change. */
static int s_read_point(s_server_t *self, const char *mpxn,
                        const char *requester, dir_supply_point_t *point,
                        char *error, size_t error_size)
{
    if (directory_db_begin_read(self->db, error, error_size) != 0)
        return -1;
    int found =
        s_read_point_rows(self, mpxn, requester, point, error, error_size);
    directory_db_rollback(self->db);
    if (found == 1)
        s_validity(self, &point->issued_ms, &point->expires_ms);
    return found;
}

static void s_handle_lookup(s_server_t *self, const s_context_t *context,
                            const dir_request_t *request)
{
    char error[512];
    dir_supply_point_t point;
    int found = s_read_point(self, request->mpxn, context->supplier, &point,
                             error, sizeof error);
    if (found < 0) {
        s_reply_failure(self, context, error);
        return;
    }
    if (found == 0) {
        snprintf(error, sizeof error,
                 "supply point '%s' is not in the directory", request->mpxn);
        s_send_reply(self, context, STATUS_NOT_FOUND, error, NULL);
        return;
    }
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supply_point(&answer, &point);
    s_send_reply(self, context, STATUS_OK, NULL, &answer);
    msgpack_sbuffer_destroy(&answer);
}

static void s_handle_supplier(s_server_t *self, const s_context_t *context,
                              const dir_request_t *request)
{
    char error[512];
    dir_supplier_t supplier;
    int found = directory_db_get_supplier(self->db, request->mpid, &supplier,
                                          error, sizeof error);
    if (found < 0) {
        s_reply_failure(self, context, error);
        return;
    }
    if (found == 0) {
        snprintf(error, sizeof error, "supplier '%s' is not in the directory",
                 request->mpid);
        s_send_reply(self, context, STATUS_NOT_FOUND, error, NULL);
        return;
    }
    if (directory_keys_attach(self->db, &supplier, 1, clock_now_ms(), error,
                              sizeof error) != 0) {
        s_reply_failure(self, context, error);
        return;
    }
    s_validity(self, &supplier.issued_ms, &supplier.expires_ms);
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &supplier);
    s_send_reply(self, context, STATUS_OK, NULL, &answer);
    msgpack_sbuffer_destroy(&answer);
}

/* NOTE: the whole list goes in one answer, which the client's envelope
 * limit caps at 256 KiB: roughly 1000 suppliers of about 200 bytes with
 * their two first keys, and fewer as they gain keys (about 90 bytes each,
 * up to DIR_MAX_KEYS). */
static void s_handle_suppliers(s_server_t *self, const s_context_t *context)
{
    char error[512];
    dir_supplier_t *list;
    size_t count;
    if (s_read_suppliers(self, clock_now_ms(), &list, &count, error,
                         sizeof error) != 0) {
        s_reply_failure(self, context, error);
        return;
    }
    int64_t issued_ms, expires_ms;
    s_validity(self, &issued_ms, &expires_ms);
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_suppliers(&answer, list, count, issued_ms, expires_ms);
    free(list);
    s_send_reply(self, context, STATUS_OK, NULL, &answer);
    msgpack_sbuffer_destroy(&answer);
}

/* Fills list with the changes after since, at most DIR_CHANGES_MAX, and
 * the latest number, read after them so that it is never below the last
 * one listed. The caller provides changes, with room for DIR_CHANGES_MAX,
 * and list->changes points to it. */
static int s_list_changes(s_server_t *self, uint64_t since,
                          dir_change_list_t *list, dir_change_t *changes,
                          char *error, size_t error_size)
{
    size_t count;
    if (directory_db_list_changes(self->db, since, NULL, self->rows,
                                  DIR_CHANGES_MAX, &count, error,
                                  error_size) != 0 ||
        directory_db_last_change(self->db, &list->head, error, error_size) != 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        changes[i] = self->rows[i].change;
    list->since = since;
    list->count = count;
    list->changes = changes;
    uint64_t last = count > 0 ? changes[count - 1].number : since;
    list->more = last < list->head;
    s_validity(self, &list->issued_ms, &list->expires_ms);
    return 0;
}

static void s_handle_changes(s_server_t *self, const s_context_t *context,
                             const dir_request_t *request)
{
    char error[512];
    dir_change_t *changes = calloc(DIR_CHANGES_MAX, sizeof *changes);
    dir_change_list_t list = {0};
    if (!changes) {
        s_reply_failure(self, context, "out of memory for the change list");
        return;
    }
    if (s_list_changes(self, request->since, &list, changes, error,
                       sizeof error) != 0) {
        s_reply_failure(self, context, error);
        free(changes);
        return;
    }
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_changes_pack_answer(&answer, &list);
    s_send_reply(self, context, STATUS_OK, NULL, &answer);
    msgpack_sbuffer_destroy(&answer);
    free(changes);
}

/* Sends invalid or unsupported for a request that decoded as a map but
 * failed a check; error names the key or value. */
static void s_reject_request(s_server_t *self, const s_context_t *context,
                             dir_request_result_t result, const char *error)
{
    log_peer_warning("directory request rejected: %s supplier=%s", error,
                     context->supplier);
    s_send_reply(self, context,
                 result == DIR_REQUEST_UNSUPPORTED ? STATUS_UNSUPPORTED
                                                   : STATUS_INVALID,
                 error, NULL);
}

static void s_dispatch(s_server_t *self, const s_context_t *context,
                       const dir_request_t *request)
{
    if (request->kind == DIR_REQUEST_LOOKUP)
        s_handle_lookup(self, context, request);
    else if (request->kind == DIR_REQUEST_SUPPLIER)
        s_handle_supplier(self, context, request);
    else if (request->kind == DIR_REQUEST_CHANGES)
        s_handle_changes(self, context, request);
    else
        s_handle_suppliers(self, context);
}

/* Replies rate_limited and returns true when the requester's supplier
 * has used up its rate limit. */
static bool s_rate_limited(s_server_t *self, const s_context_t *context)
{
    if (!self->rate)
        return false;
    int64_t wait_ms =
        directory_rate_take(self->rate, context->supplier, zclock_mono());
    if (wait_ms == 0)
        return false;
    char error[256];
    snprintf(error, sizeof error,
             "supplier %s sent more than %u %s a second (burst %u): "
             "retry in %lld ms",
             context->supplier, self->config->rate_per_second,
             self->config->rate_per_second == 1 ? "query" : "queries",
             self->config->rate_burst, (long long)wait_ms);
    log_peer_warning("directory query rate limited supplier=%s type=%s "
                     "retry_ms=%lld",
                     context->supplier, context->type, (long long)wait_ms);
    s_send_reply(self, context, DIR_STATUS_RATE_LIMITED, error, NULL);
    return true;
}

/* Handles one request frame from the client routing names. */
static void s_handle_request(s_server_t *self, zframe_t *routing,
                             zframe_t *body)
{
    static const uint8_t no_id[ENVELOPE_ID_SIZE] = {0};
    dir_request_t request;
    bool has_id;
    char error[512];
    dir_request_result_t result =
        dir_request_decode(zframe_data(body), zframe_size(body), &request,
                           &has_id, error, sizeof error);
    const char *key = zframe_meta(body, "User-Id");
    if (result == DIR_REQUEST_UNDECODABLE) {
        log_peer_warning("directory request dropped: %s key=%s", error,
                         key ? key : "(none)");
        return;
    }

    char supplier[DIR_MPID_SIZE] = "";
    bool valid = result == DIR_REQUEST_VALID;
    s_context_t context = {.routing = routing,
                           .type = request.header.type[0] ? request.header.type
                                                          : "unknown",
                           .id = has_id ? request.header.id : no_id,
                           .supplier = supplier,
                           .key = key ? key : "",
                           .mpxn = valid ? request.mpxn : "",
                           .mpid = valid ? request.mpid : ""};
    /* The key passed ZAP when the connection opened, but the supplier may
     * have been removed since: ask the current list for every message. */
    if (!key || !zap_supplier(self->zap, key, supplier)) {
        snprintf(error, sizeof error,
                 "CURVE key %s is not on the directory's supplier list",
                 key ? key : "(none)");
        log_peer_warning("directory request denied: %s", error);
        s_send_reply(self, &context, STATUS_DENIED, error, NULL);
        return;
    }
    if (s_rate_limited(self, &context))
        return;
    if (result != DIR_REQUEST_VALID)
        s_reject_request(self, &context, result, error);
    else
        s_dispatch(self, &context, &request);
}

static void s_handle_router(s_server_t *self)
{
    zmsg_t *message = zmsg_recv(self->router);
    if (!message)
        return;
    if (zmsg_size(message) != 2) {
        log_peer_warning("directory request dropped: %zu frames, expected "
                         "a routing id and one request frame",
                         zmsg_size(message));
        zmsg_destroy(&message);
        return;
    }
    zframe_t *routing = zmsg_first(message);
    zframe_t *body = zmsg_next(message);
    s_handle_request(self, routing, body);
    zmsg_destroy(&message);
}

static void s_handle_pipe(s_server_t *self)
{
    char *command = zstr_recv(self->pipe);
    if (!command || strcmp(command, "$TERM") == 0)
        self->terminated = true;
    else
        log_warning("directory server ignored command '%s'", command);
    zstr_free(&command);
}

/* Actor */

/* Binds the feed when the configuration asks for one. It starts after the
 * latest change already recorded, because subscribers that need older
 * ones ask dir.changes. */
static int s_start_feed(s_server_t *self, char *error, size_t error_size)
{
    const char *endpoint = self->config->feed_endpoint;
    if (!endpoint)
        return 0;
    if (directory_db_last_change(self->db, &self->published, error,
                                 error_size) != 0)
        return -1;
    self->feed =
        curve_server_new(ZMQ_PUB, self->zap, self->config->cert, endpoint,
                         S_FEED_MAX_FRAME, error, error_size);
    return self->feed ? 0 : -1;
}

/* Opens the query log and makes the rate limiter and the key watch that
 * the configuration asks for. */
static int s_start_access(s_server_t *self, char *error, size_t error_size)
{
    const directory_server_config_t *config = self->config;
    if (config->query_log_path) {
        self->query_log =
            directory_query_log_open(config->query_log_path, error, error_size);
        if (!self->query_log)
            return -1;
    }
    if (config->rate_per_second > 0 &&
        !(self->rate = directory_rate_new(config->rate_per_second,
                                          config->rate_burst))) {
        snprintf(error, error_size, "out of memory for the rate limits");
        return -1;
    }
    if (config->key_warning_ms > 0 &&
        !(self->key_watch = directory_key_watch_new(config->key_warning_ms))) {
        snprintf(error, error_size, "out of memory for the key warnings");
        return -1;
    }
    return 0;
}

static int s_start(s_server_t *self, char *error, size_t error_size)
{
    const directory_server_config_t *config = self->config;
    self->db = directory_db_open(config->db_path, false, error, error_size);
    if (!self->db || s_start_access(self, error, error_size) != 0)
        return -1;
    self->zap = zap_new();
    if (!self->zap) {
        snprintf(error, error_size,
                 "the ZAP handler did not start: another one runs in this "
                 "process");
        return -1;
    }
    if (directory_db_data_version(self->db, &self->data_version, error,
                                  error_size) != 0 ||
        s_load_allow_list(self, true, error, error_size) != 0)
        return -1;
    self->rows = calloc(DIR_CHANGES_MAX, sizeof *self->rows);
    if (!self->rows) {
        snprintf(error, error_size, "out of memory for the change log");
        return -1;
    }
    self->router =
        curve_server_new(ZMQ_ROUTER, self->zap, config->cert, config->endpoint,
                         DIRECTORY_MAX_REQUEST, error, error_size);
    if (!self->router)
        return -1;
    return s_start_feed(self, error, error_size);
}

static void s_stop(s_server_t *self)
{
    directory_query_log_destroy(&self->query_log);
    directory_rate_destroy(&self->rate);
    directory_key_watch_destroy(&self->key_watch);
    zsock_destroy(&self->feed);
    free(self->rows);
    zsock_destroy(&self->router);
    zap_destroy(&self->zap);
    directory_db_destroy(&self->db);
}

static void s_serve(s_server_t *self)
{
    zpoller_t *poller = zpoller_new(self->pipe, self->router, NULL);
    assert(poller);
    /* Only $TERM stops the actor, because the main thread handles the
     * signals. */
    zpoller_set_nonstop(poller, true);
    self->next_check_ms = zclock_mono() + S_POLL_INTERVAL_MS;
    self->next_head_ms = zclock_mono();
    while (!self->terminated) {
        void *which = zpoller_wait(poller, S_POLL_INTERVAL_MS);
        if (which == self->pipe)
            s_handle_pipe(self);
        else if (which == self->router)
            s_handle_router(self);
        s_check_for_changes(self);
        s_beat(self);
    }
    zpoller_destroy(&poller);
}

/* Waits for $TERM after a failed start, as every actor must. */
static void s_await_term(s_server_t *self)
{
    while (!self->terminated)
        s_handle_pipe(self);
}

static void s_actor(zsock_t *pipe, void *args)
{
    s_server_t self = {.config = args, .pipe = pipe};
    char error[512] = "";
    int rc = s_start(&self, error, sizeof error);
    zsock_signal(pipe, 0);
    if (rc == 0) {
        zstr_sendx(pipe, "READY", zsock_endpoint(self.router),
                   self.feed ? zsock_endpoint(self.feed) : "", NULL);
        s_serve(&self);
    } else {
        zstr_sendx(pipe, "ERROR", error, NULL);
        s_await_term(&self);
    }
    s_stop(&self);
}

directory_server_t *
directory_server_new(const directory_server_config_t *config, char *error,
                     size_t error_size)
{
    assert(config && config->cert && config->signer);
    assert(config->ttl_seconds > 0);
    directory_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, error_size, "out of memory for the server");
        return NULL;
    }
    self->config = *config;
    self->actor = zactor_new(s_actor, &self->config);
    char *status = NULL, *detail = NULL, *feed = NULL;
    if (self->actor)
        zstr_recvx(self->actor, &status, &detail, &feed, NULL);
    if (status && strcmp(status, "READY") == 0) {
        snprintf(self->endpoint, sizeof self->endpoint, "%s", detail);
        snprintf(self->feed_endpoint, sizeof self->feed_endpoint, "%s",
                 feed ? feed : "");
    } else {
        snprintf(error, error_size, "%s",
                 detail ? detail : "the server thread did not start");
        directory_server_destroy(&self);
    }
    zstr_free(&status);
    zstr_free(&detail);
    zstr_free(&feed);
    return self;
}

void directory_server_destroy(directory_server_t **self_p)
{
    assert(self_p);
    directory_server_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy(&self->actor);
    free(self);
    *self_p = NULL;
}

const char *directory_server_endpoint(const directory_server_t *self)
{
    return self->endpoint;
}

const char *directory_server_feed_endpoint(const directory_server_t *self)
{
    return self->feed_endpoint;
}
