/* Directory client: request, signature check and answer cache. */
#include "dirclient.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "curve.h"
#include "dir_answer.h"
#include "dir_changes.h"
#include "dir_request.h"
#include "envelope.h"
#include "log.h"
#include "mpxn.h"
#include "sign.h"

/* Upper bound on cached answers. When it is reached, expired answers are
 * dropped, and if none has expired the whole cache is dropped. */
#define DIRCLIENT_CACHE_MAX 65536

typedef struct {
    int64_t expires_ms; /* local clock */
    dir_request_kind_t kind;
    dir_supply_point_t point;
    dir_supplier_t supplier;
    dir_supplier_t *list; /* DIR_REQUEST_SUPPLIERS */
    size_t count;
} s_entry_t;

struct dirclient {
    char endpoint[DIR_ENDPOINT_SIZE];
    char curve_key[DIR_CURVE_KEY_SIZE];
    uint8_t sign_key[SIGN_PUBLIC_SIZE];
    zcert_t *cert;
    int timeout_ms;
    zsock_t *socket; /* NULL until needed, and after a timeout */
    zhashx_t *cache; /* "lookup/MPXN", "supplier/MPID", "suppliers" */
};

static void s_entry_destroy(void **item)
{
    s_entry_t *entry = *item;
    if (entry)
        free(entry->list);
    free(entry);
    *item = NULL;
}

dirclient_t *dirclient_new(const char *endpoint,
                           const char *directory_curve_key,
                           const uint8_t directory_sign_key[32],
                           zcert_t *own_cert, int timeout_ms)
{
    assert(endpoint && directory_curve_key && directory_sign_key && own_cert);
    assert(timeout_ms > 0);
    if (strlen(endpoint) >= DIR_ENDPOINT_SIZE ||
        strlen(directory_curve_key) != DIR_CURVE_KEY_SIZE - 1) {
        log_error("directory client not created: endpoint too long or "
                  "CURVE key not 40 characters of Z85 endpoint=%.64s",
                  endpoint);
        return NULL;
    }
    dirclient_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    snprintf(self->curve_key, sizeof self->curve_key, "%s",
             directory_curve_key);
    memcpy(self->sign_key, directory_sign_key, SIGN_PUBLIC_SIZE);
    self->timeout_ms = timeout_ms;
    self->cert = zcert_dup(own_cert);
    self->cache = zhashx_new();
    if (!self->cert || !self->cache) {
        log_error("directory client not created: out of memory");
        dirclient_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->cache, s_entry_destroy);
    return self;
}

void dirclient_destroy(dirclient_t **self_p)
{
    assert(self_p);
    dirclient_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->socket);
    zhashx_destroy(&self->cache);
    zcert_destroy(&self->cert);
    free(self);
    *self_p = NULL;
}

void dirclient_flush(dirclient_t *self)
{
    zhashx_purge(self->cache);
}

void dirclient_forget(dirclient_t *self, const char *mpxn)
{
    char key[8 + DIR_MPXN_SIZE];
    snprintf(key, sizeof key, "lookup/%s", mpxn);
    zhashx_delete(self->cache, key);
}

void dirclient_forget_supplier(dirclient_t *self, const char *mpid)
{
    if (mpid) {
        char key[16];
        snprintf(key, sizeof key, "supplier/%s", mpid);
        zhashx_delete(self->cache, key);
    }
    zhashx_delete(self->cache, "suppliers");
}

const char *dir_status_name(dir_status_t status)
{
    switch (status) {
    case DIR_OK:
        return "ok";
    case DIR_NOT_FOUND:
        return "not_found";
    case DIR_UNAVAILABLE:
        return "unavailable";
    case DIR_BAD_ANSWER:
        return "bad_answer";
    case DIR_REFUSED:
        return "refused";
    case DIR_RATE_LIMITED:
        return "rate_limited";
    }
    return "unknown";
}

/* Cache */

static const s_entry_t *s_cache_get(dirclient_t *self, const char *key)
{
    s_entry_t *entry = zhashx_lookup(self->cache, key);
    if (!entry)
        return NULL;
    if (entry->expires_ms <= clock_now_ms()) {
        zhashx_delete(self->cache, key);
        return NULL;
    }
    return entry;
}

static void s_cache_make_room(dirclient_t *self)
{
    if (zhashx_size(self->cache) < DIRCLIENT_CACHE_MAX)
        return;
    int64_t now = clock_now_ms();
    zlistx_t *keys = zhashx_keys(self->cache);
    for (const char *key = zlistx_first(keys); key; key = zlistx_next(keys)) {
        const s_entry_t *entry = zhashx_lookup(self->cache, key);
        if (entry->expires_ms <= now)
            zhashx_delete(self->cache, key);
    }
    zlistx_destroy(&keys);
    if (zhashx_size(self->cache) >= DIRCLIENT_CACHE_MAX)
        zhashx_purge(self->cache);
}

/* Stores entry (taking ownership) until the answer expires. The local
 * expiry is capped at the answer's lifetime from now, so a directory whose
 * clock runs ahead cannot make an answer live longer than it meant. */
static void s_cache_put(dirclient_t *self, const char *key, s_entry_t *entry,
                        int64_t issued_ms, int64_t expires_ms)
{
    int64_t now = clock_now_ms();
    int64_t lifetime = expires_ms - issued_ms;
    entry->expires_ms = expires_ms;
    if (lifetime >= 0 && now + lifetime < expires_ms)
        entry->expires_ms = now + lifetime;
    s_cache_make_room(self);
    zhashx_update(self->cache, key, entry);
}

/* Exchange */

static int s_connect(dirclient_t *self, char *error, size_t error_size)
{
    if (self->socket)
        return 0;
    self->socket = curve_client_new(ZMQ_DEALER, self->cert, self->curve_key,
                                    self->endpoint, CURVE_MAX_FRAME_DEFAULT,
                                    error, error_size);
    return self->socket ? 0 : -1;
}

/* One request: its type and parameter, a string (param_key "mpxn" or
 * "mpid", or NULL for none) or, for dir.changes, a change number. */
typedef struct {
    const char *type;
    const char *param_key;
    const char *param_value;
    uint64_t since;
} s_request_t;

static int s_send_request(dirclient_t *self, const s_request_t *request,
                          const uint8_t id[ENVELOPE_ID_SIZE])
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    if (strcmp(request->type, DIR_TYPE_CHANGES) == 0)
        dir_request_pack_changes(&buffer, id, clock_now_ms(), request->since);
    else
        dir_request_pack(&buffer, request->type, id, clock_now_ms(),
                         request->param_key, request->param_value);
    zframe_t *frame = zframe_new(buffer.data, buffer.size);
    msgpack_sbuffer_destroy(&buffer);
    if (!frame)
        return -1;
    if (zframe_send(&frame, self->socket, 0) != 0) {
        zframe_destroy(&frame);
        return -1;
    }
    return 0;
}

/* Decodes one received message; returns the reply when it answers the
 * request id, NULL (after logging) otherwise. */
static dir_reply_t *s_match_reply(dirclient_t *self, zmsg_t *message,
                                  const uint8_t id[ENVELOPE_ID_SIZE])
{
    zframe_t *frame = zmsg_last(message);
    if (zmsg_size(message) != 1 || !frame) {
        log_peer_warning("directory reply dropped: %zu frames, expected 1 "
                         "endpoint=%s",
                         zmsg_size(message), self->endpoint);
        return NULL;
    }
    char reason[256];
    dir_reply_t *reply = dir_reply_decode(
        zframe_data(frame), zframe_size(frame), reason, sizeof reason);
    if (!reply) {
        log_peer_warning("directory reply dropped: %s endpoint=%s", reason,
                         self->endpoint);
        return NULL;
    }
    if (memcmp(dir_reply_header(reply)->id, id, ENVELOPE_ID_SIZE) != 0) {
        log_debug("directory reply discarded: id of another request "
                  "endpoint=%s",
                  self->endpoint);
        dir_reply_destroy(&reply);
    }
    return reply;
}

/* Waits until the deadline for the reply to request id. */
static dir_reply_t *s_await_reply(dirclient_t *self,
                                  const uint8_t id[ENVELOPE_ID_SIZE])
{
    int64_t deadline = zclock_mono() + self->timeout_ms;
    for (;;) {
        int64_t remaining = deadline - zclock_mono();
        if (remaining <= 0)
            return NULL;
        zsock_set_rcvtimeo(self->socket, (int)remaining);
        zmsg_t *message = zmsg_recv(self->socket);
        if (!message)
            return NULL;
        dir_reply_t *reply = s_match_reply(self, message, id);
        zmsg_destroy(&message);
        if (reply)
            return reply;
    }
}

/* Sends one request and waits for its reply. Returns NULL with a sentence
 * in error when there is none within the timeout. */
static dir_reply_t *s_exchange(dirclient_t *self, const s_request_t *request,
                               char *error, size_t error_size)
{
    if (s_connect(self, error, error_size) != 0) {
        log_error("directory request failed: %s endpoint=%s", error,
                  self->endpoint);
        return NULL;
    }
    uint8_t id[ENVELOPE_ID_SIZE];
    envelope_new_id(id);
    dir_reply_t *reply = NULL;
    if (s_send_request(self, request, id) == 0)
        reply = s_await_reply(self, id);
    if (!reply) {
        /* A new socket next time, so that the late reply to this request
         * never queues up in front of the reply to a later one. */
        zsock_destroy(&self->socket);
        snprintf(error, error_size,
                 "directory at %s did not answer within %d ms", self->endpoint,
                 self->timeout_ms);
        log_warning("directory request timed out type=%s endpoint=%s "
                    "timeout_ms=%d",
                    request->type, self->endpoint, self->timeout_ms);
    }
    return reply;
}

/* Maps a reply's status to a dir_status_t and checks the signature of an
 * ok reply. */
static dir_status_t s_check_reply(dirclient_t *self, dir_reply_t *reply,
                                  const char *type, char *error,
                                  size_t error_size)
{
    const char *status = dir_reply_status(reply);
    if (strcmp(dir_reply_header(reply)->type, type) != 0) {
        snprintf(error, error_size,
                 "directory replied with type '%s' to a %s request",
                 dir_reply_header(reply)->type, type);
        return DIR_BAD_ANSWER;
    }
    if (strcmp(status, STATUS_OK) != 0) {
        snprintf(error, error_size, "directory replied %s: %s", status,
                 dir_reply_error(reply));
        if (strcmp(status, STATUS_NOT_FOUND) == 0)
            return DIR_NOT_FOUND;
        if (strcmp(status, STATUS_UNAVAILABLE) == 0)
            return DIR_UNAVAILABLE;
        if (strcmp(status, DIR_STATUS_RATE_LIMITED) == 0) {
            log_peer_warning("directory query rate limited type=%s "
                             "endpoint=%s: %s",
                             type, self->endpoint, dir_reply_error(reply));
            return DIR_RATE_LIMITED;
        }
        return DIR_REFUSED;
    }
    if (!dir_reply_verify(reply, self->sign_key)) {
        snprintf(error, error_size,
                 "directory answer has a bad signature: check the "
                 "directory's signing key");
        log_peer_warning("directory answer rejected: bad signature type=%s "
                         "endpoint=%s",
                         type, self->endpoint);
        return DIR_BAD_ANSWER;
    }
    return DIR_OK;
}

/* Runs one request to a checked reply, or returns why there is none. */
static dir_status_t s_query(dirclient_t *self, const s_request_t *request,
                            dir_reply_t **reply_p, char *error,
                            size_t error_size)
{
    *reply_p = s_exchange(self, request, error, error_size);
    if (!*reply_p)
        return DIR_UNAVAILABLE;
    dir_status_t status =
        s_check_reply(self, *reply_p, request->type, error, error_size);
    if (status != DIR_OK)
        dir_reply_destroy(reply_p);
    return status;
}

static dir_status_t s_check_expiry(int64_t expires_ms, char *error,
                                   size_t error_size)
{
    if (expires_ms > clock_now_ms())
        return DIR_OK;
    char when[CLOCK_ISO_SIZE];
    snprintf(error, error_size,
             "directory answer expired on arrival (expires %s): check the "
             "clocks of this host and the directory",
             clock_format_iso(expires_ms, when));
    return DIR_BAD_ANSWER;
}

static s_entry_t *s_entry_new(dir_request_kind_t kind, char *error,
                              size_t error_size)
{
    s_entry_t *entry = calloc(1, sizeof *entry);
    if (!entry)
        snprintf(error, error_size, "out of memory for a directory answer");
    else
        entry->kind = kind;
    return entry;
}

/* Reads and checks a supply point answer into a new cache entry. */
static dir_status_t s_read_point(dir_reply_t *reply, const char *mpxn,
                                 s_entry_t **entry_p, char *error,
                                 size_t error_size)
{
    s_entry_t *entry = s_entry_new(DIR_REQUEST_LOOKUP, error, error_size);
    if (!entry)
        return DIR_UNAVAILABLE;
    dir_status_t status = DIR_BAD_ANSWER;
    char reason[256];
    if (dir_reply_read_supply_point(reply, &entry->point, reason,
                                    sizeof reason) != 0)
        snprintf(error, error_size, "directory answer is malformed: %s",
                 reason);
    else if (strcmp(entry->point.mpxn, mpxn) != 0)
        snprintf(error, error_size,
                 "directory answered for supply point '%s', not '%s'",
                 entry->point.mpxn, mpxn);
    else
        status = s_check_expiry(entry->point.expires_ms, error, error_size);
    size_t answer_size = 0;
    const uint8_t *answer = dir_reply_answer(reply, &answer_size);
    if (status == DIR_OK && answer && answer_size <= DIR_EVIDENCE_MAX) {
        memcpy(entry->point.evidence, answer, answer_size);
        entry->point.evidence_size = answer_size;
        memcpy(entry->point.evidence_signature, dir_reply_signature(reply),
               sizeof entry->point.evidence_signature);
    }
    if (status != DIR_OK)
        s_entry_destroy((void **)&entry);
    *entry_p = entry;
    return status;
}

dir_status_t dirclient_supply_point(dirclient_t *self, const char *mpxn,
                                    dir_supply_point_t *out, char *error,
                                    size_t error_size)
{
    if (mpxn_classify(mpxn, error, error_size) == MPXN_INVALID)
        return DIR_REFUSED;
    char key[8 + DIR_MPXN_SIZE];
    snprintf(key, sizeof key, "lookup/%s", mpxn);
    const s_entry_t *cached = s_cache_get(self, key);
    if (cached) {
        *out = cached->point;
        return DIR_OK;
    }

    dir_reply_t *reply;
    dir_status_t status =
        s_query(self, &(s_request_t){DIR_TYPE_LOOKUP, "mpxn", mpxn, 0}, &reply,
                error, error_size);
    if (status != DIR_OK)
        return status;
    s_entry_t *entry;
    status = s_read_point(reply, mpxn, &entry, error, error_size);
    dir_reply_destroy(&reply);
    if (status != DIR_OK)
        return status;
    *out = entry->point;
    s_cache_put(self, key, entry, out->issued_ms, out->expires_ms);
    return DIR_OK;
}

static dir_status_t s_read_supplier(dir_reply_t *reply, const char *mpid,
                                    s_entry_t **entry_p, char *error,
                                    size_t error_size)
{
    s_entry_t *entry = s_entry_new(DIR_REQUEST_SUPPLIER, error, error_size);
    if (!entry)
        return DIR_UNAVAILABLE;
    dir_status_t status = DIR_BAD_ANSWER;
    char reason[256];
    if (dir_reply_read_supplier(reply, &entry->supplier, reason,
                                sizeof reason) != 0)
        snprintf(error, error_size, "directory answer is malformed: %s",
                 reason);
    else if (strcmp(entry->supplier.mpid, mpid) != 0)
        snprintf(error, error_size,
                 "directory answered for supplier '%s', not '%s'",
                 entry->supplier.mpid, mpid);
    else
        status = s_check_expiry(entry->supplier.expires_ms, error, error_size);
    if (status != DIR_OK)
        s_entry_destroy((void **)&entry);
    *entry_p = entry;
    return status;
}

dir_status_t dirclient_supplier(dirclient_t *self, const char *mpid,
                                dir_supplier_t *out, char *error,
                                size_t error_size)
{
    if (!dir_mpid_is_valid(mpid)) {
        snprintf(error, error_size,
                 "invalid MPID '%.32s': use 4 upper-case letters or digits",
                 mpid);
        return DIR_REFUSED;
    }
    char key[16];
    snprintf(key, sizeof key, "supplier/%s", mpid);
    const s_entry_t *cached = s_cache_get(self, key);
    if (cached) {
        *out = cached->supplier;
        return DIR_OK;
    }

    dir_reply_t *reply;
    dir_status_t status =
        s_query(self, &(s_request_t){DIR_TYPE_SUPPLIER, "mpid", mpid, 0},
                &reply, error, error_size);
    if (status != DIR_OK)
        return status;
    s_entry_t *entry;
    status = s_read_supplier(reply, mpid, &entry, error, error_size);
    dir_reply_destroy(&reply);
    if (status != DIR_OK)
        return status;
    *out = entry->supplier;
    s_cache_put(self, key, entry, out->issued_ms, out->expires_ms);
    return DIR_OK;
}

static dir_status_t s_read_list(dir_reply_t *reply, s_entry_t **entry_p,
                                char *error, size_t error_size)
{
    s_entry_t *entry = s_entry_new(DIR_REQUEST_SUPPLIERS, error, error_size);
    if (!entry)
        return DIR_UNAVAILABLE;
    dir_status_t status = DIR_BAD_ANSWER;
    char reason[256];
    if (dir_reply_read_suppliers(reply, &entry->list, &entry->count, reason,
                                 sizeof reason) != 0)
        snprintf(error, error_size, "directory answer is malformed: %s",
                 reason);
    else if (entry->count > 0)
        status = s_check_expiry(entry->list[0].expires_ms, error, error_size);
    else
        status = DIR_OK;
    if (status != DIR_OK)
        s_entry_destroy((void **)&entry);
    *entry_p = entry;
    return status;
}

/* Copies a cached list for the caller. */
static dir_status_t s_copy_list(const s_entry_t *entry, dir_supplier_t **list,
                                size_t *count, char *error, size_t error_size)
{
    *list = NULL;
    *count = entry->count;
    if (entry->count == 0)
        return DIR_OK;
    *list = malloc(entry->count * sizeof **list);
    if (!*list) {
        snprintf(error, error_size, "out of memory for %zu suppliers",
                 entry->count);
        *count = 0;
        return DIR_UNAVAILABLE;
    }
    memcpy(*list, entry->list, entry->count * sizeof **list);
    return DIR_OK;
}

/* Returns the list's issued and expires times. An empty list has no
 * entry to carry them, so it is not cached; a directory never sends one
 * in practice, because the requester itself is on the list. */
static bool s_list_validity(const s_entry_t *entry, int64_t *issued_ms,
                            int64_t *expires_ms)
{
    if (entry->count == 0)
        return false;
    *issued_ms = entry->list[0].issued_ms;
    *expires_ms = entry->list[0].expires_ms;
    return true;
}

dir_status_t dirclient_suppliers(dirclient_t *self, dir_supplier_t **list,
                                 size_t *count, char *error, size_t error_size)
{
    *list = NULL;
    *count = 0;
    const s_entry_t *cached = s_cache_get(self, "suppliers");
    if (cached)
        return s_copy_list(cached, list, count, error, error_size);

    dir_reply_t *reply;
    dir_status_t status =
        s_query(self, &(s_request_t){DIR_TYPE_SUPPLIERS, NULL, NULL, 0}, &reply,
                error, error_size);
    if (status != DIR_OK)
        return status;
    s_entry_t *entry;
    status = s_read_list(reply, &entry, error, error_size);
    dir_reply_destroy(&reply);
    if (status != DIR_OK)
        return status;

    int64_t issued_ms, expires_ms;
    status = s_copy_list(entry, list, count, error, error_size);
    if (s_list_validity(entry, &issued_ms, &expires_ms))
        s_cache_put(self, "suppliers", entry, issued_ms, expires_ms);
    else
        s_entry_destroy((void **)&entry);
    return status;
}

/* Reads and checks a change list answer to the request for since. */
static dir_status_t s_read_changes(dir_reply_t *reply, uint64_t since,
                                   dir_change_list_t *out, char *error,
                                   size_t error_size)
{
    char reason[256];
    size_t size;
    const uint8_t *answer = dir_reply_answer(reply, &size);
    if (dir_changes_read_answer(answer, size, out, reason, sizeof reason) !=
        0) {
        snprintf(error, error_size, "directory answer is malformed: %s",
                 reason);
        return DIR_BAD_ANSWER;
    }
    dir_status_t status = DIR_BAD_ANSWER;
    if (out->since != since)
        snprintf(error, error_size,
                 "directory listed the changes after %llu, not after %llu",
                 (unsigned long long)out->since, (unsigned long long)since);
    else
        status = s_check_expiry(out->expires_ms, error, error_size);
    if (status != DIR_OK)
        dir_change_list_clear(out);
    return status;
}

dir_status_t dirclient_changes(dirclient_t *self, uint64_t since,
                               dir_change_list_t *out, char *error,
                               size_t error_size)
{
    memset(out, 0, sizeof *out);
    dir_reply_t *reply;
    dir_status_t status =
        s_query(self, &(s_request_t){DIR_TYPE_CHANGES, NULL, NULL, since},
                &reply, error, error_size);
    if (status != DIR_OK)
        return status;
    status = s_read_changes(reply, since, out, error, error_size);
    dir_reply_destroy(&reply);
    return status;
}
