/* Recovery of missed and unacknowledged receipts, on both sides. */
#include "recovery.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ledger_recovery.h"
#include "log.h"
#include "message.h"
#include "pending.h"
#include "requester.h"

/* How long an unanswered receipt.pending holds back the next one. */
#define RECOVERY_RETRY_MS 5000
/* Bytes a receipt takes in a reply beyond its body: the signature and
 * the map around them. */
#define RECOVERY_ITEM_OVERHEAD (SIGN_SIGNATURE_SIZE + 32)
/* Room left in a frame for the reply's other keys. */
#define RECOVERY_FRAME_RESERVE 256

/* The receipt.pending request outstanding to one serving node. */
typedef struct {
    uint8_t id[ENVELOPE_ID_SIZE];
    int64_t sent_ms; /* 0 when none is outstanding */
} recovery_peer_t;

static void s_recovery_peer_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

void recovery_init(node_t *node)
{
    node->recovering = zhashx_new();
    zhashx_set_destructor(node->recovering, s_recovery_peer_destroy);
}

void recovery_destroy(node_t *node)
{
    zhashx_destroy(&node->recovering);
}

/* The number of receipts of the largest size that fit in one frame of
 * max_frame bytes, from 1 to PENDING_MAX_RECEIPTS. */
static size_t s_limit_for(size_t max_frame)
{
    size_t item = RECEIPT_MAX_BODY + RECOVERY_ITEM_OVERHEAD;
    size_t fit = max_frame > RECOVERY_FRAME_RESERVE + item
                     ? (max_frame - RECOVERY_FRAME_RESERVE) / item
                     : 1;
    return fit < PENDING_MAX_RECEIPTS ? fit : PENDING_MAX_RECEIPTS;
}

void recovery_request(node_t *node, const char *serving, zsock_t *socket)
{
    int64_t now = clock_now_ms();
    recovery_peer_t *state = zhashx_lookup(node->recovering, serving);
    if (state && state->sent_ms && now - state->sent_ms < RECOVERY_RETRY_MS)
        return;
    char error[512];
    uint64_t head = 0;
    uint8_t hash[HASH_SIZE];
    if (ledger_chain_head(node->ledger, serving, node->config.mpid, &head, hash,
                          error, sizeof error)) {
        log_error("cannot read the chain head for recovery serving=%s: %s",
                  serving, error);
        return;
    }
    if (!state) {
        state = calloc(1, sizeof *state);
        zhashx_insert(node->recovering, serving, state);
    }
    pending_request_t request = {.has_after = true,
                                 .after = head,
                                 .limit = s_limit_for(node->config.max_frame)};
    envelope_new_id(state->id);
    state->sent_ms = now;
    zframe_t *frame = pending_pack_request(state->id, now, &request);
    zframe_send(&frame, socket, 0);
    log_debug("asked for pending receipts serving=%s after=%" PRIu64, serving,
              head);
}

/* Files the receipts of a reply in order. Returns how many are in the
 * ledger now, and sets *stopped when one could not be filed. */
static size_t s_file_all(node_t *node, const char *serving,
                         const pending_reply_t *reply, bool *stopped)
{
    char note[512];
    size_t filed = 0;
    *stopped = false;
    for (size_t i = 0; i < reply->count; i++) {
        const pending_item_t *item = &reply->items[i];
        int placed =
            requester_file_recovered(node, serving, item->body, item->body_size,
                                     item->sig, note, sizeof note);
        if (placed != 0) {
            log_warning("recovery stopped at a receipt serving=%s: %s", serving,
                        note);
            *stopped = true;
            break;
        }
        filed++;
    }
    return filed;
}

void recovery_handle_reply(node_t *node, const char *serving,
                           const envelope_t *envelope,
                           const envelope_header_t *header)
{
    recovery_peer_t *state = zhashx_lookup(node->recovering, serving);
    if (state && memcmp(state->id, header->id, ENVELOPE_ID_SIZE) == 0)
        state->sent_ms = 0;
    char status[32] = "", error[512] = "";
    const msgpack_object *root = envelope_root(envelope);
    if (mp_get_str(root, "status", status, sizeof status, error,
                   sizeof error) ||
        strcmp(status, STATUS_OK) != 0) {
        (void)!mp_get_str_opt(root, "error", error, sizeof error, error,
                              sizeof error);
        log_warning("receipt.pending not answered serving=%s status=%s: %s",
                    serving, status, error);
        return;
    }
    pending_reply_t *reply = malloc(sizeof *reply);
    if (!reply || pending_parse_reply(envelope, reply, error, sizeof error)) {
        log_peer_warning("unreadable receipt.pending reply serving=%s: %s",
                         serving, reply ? error : "out of memory");
        free(reply);
        return;
    }
    bool stopped = false;
    size_t filed = s_file_all(node, serving, reply, &stopped);
    if (filed > 0)
        log_info("pending receipts filed serving=%s count=%zu head=%" PRIu64,
                 serving, filed, reply->head);
    if (reply->more && !stopped) {
        zsock_t *socket = requester_connect(node, serving, error, sizeof error);
        if (socket)
            recovery_request(node, serving, socket);
    }
    free(reply);
}

/* The receipts copied for one reply, within the frame budget. */
typedef struct {
    ledger_row_t *rows;
    size_t count;
    size_t budget; /* bytes of receipts the frame has room for */
    size_t used;
} collection_t;

static int s_collect(const ledger_row_t *row, void *arg)
{
    collection_t *collection = arg;
    size_t size = row->body_size + RECOVERY_ITEM_OVERHEAD;
    if (collection->count > 0 && collection->used + size > collection->budget)
        return 1;
    collection->rows[collection->count++] = *row;
    collection->used += size;
    return 0;
}

static void s_send_after_commit(node_t *node, zframe_t *routing,
                                zframe_t *frame)
{
    zmsg_t *msg = zmsg_new();
    zframe_t *copy = zframe_dup(routing);
    zmsg_append(msg, &copy);
    zmsg_append(msg, &frame);
    node_send_after_commit(node, node->server, &msg);
}

/* Lists the receipts into reply. Returns 0, or -1 with error. */
static int s_list(node_t *node, const char *requester,
                  const pending_request_t *request, collection_t *collection,
                  pending_reply_t *reply, char *error, size_t error_size)
{
    uint8_t hash[HASH_SIZE];
    bool more = false;
    if (ledger_chain_head(node->ledger, node->config.mpid, requester,
                          &reply->head, hash, error, error_size))
        return -1;
    int walked = ledger_foreach_pending(
        node->ledger, node->config.mpid, requester, request->has_after,
        request->after, request->limit, &more, s_collect, collection, error,
        error_size);
    if (walked < 0)
        return -1;
    reply->more = more || walked > 0;
    reply->count = collection->count;
    for (size_t i = 0; i < collection->count; i++) {
        reply->items[i].body = collection->rows[i].body;
        reply->items[i].body_size = collection->rows[i].body_size;
        reply->items[i].sig = collection->rows[i].signature;
    }
    return 0;
}

void recovery_answer(node_t *node, zframe_t *routing, const char *requester,
                     const envelope_t *envelope,
                     const envelope_header_t *header)
{
    char error[512];
    pending_request_t request;
    if (pending_parse_request(envelope, &request, error, sizeof error)) {
        log_peer_warning("invalid receipt.pending requester=%s: %s", requester,
                         error);
        s_send_after_commit(node, routing,
                            message_error(header->type, header->id,
                                          STATUS_INVALID, NULL, error));
        return;
    }
    collection_t collection = {
        .rows = calloc(request.limit, sizeof *collection.rows),
        .budget = node->config.max_frame > RECOVERY_FRAME_RESERVE
                      ? node->config.max_frame - RECOVERY_FRAME_RESERVE
                      : 0};
    pending_reply_t *reply = calloc(1, sizeof *reply);
    if (!collection.rows || !reply) {
        snprintf(error, sizeof error, "out of memory listing receipts");
        log_error("cannot list pending receipts requester=%s: %s", requester,
                  error);
    } else if (s_list(node, requester, &request, &collection, reply, error,
                      sizeof error)) {
        log_error("cannot list pending receipts requester=%s: %s", requester,
                  error);
        s_send_after_commit(node, routing,
                            message_error(header->type, header->id,
                                          STATUS_UNAVAILABLE, "ledger", error));
    } else {
        if (reply->count > 0)
            log_info("pending receipts listed requester=%s count=%zu "
                     "head=%" PRIu64,
                     requester, reply->count, reply->head);
        /* The listing may include receipts of the open batch, so the
         * reply waits for the commit like the receipts' own replies. */
        s_send_after_commit(node, routing,
                            pending_pack_reply(header, clock_now_ms(), reply));
    }
    free(reply);
    free(collection.rows);
}

static int s_ask_chain(const char *serving, void *arg)
{
    node_t *node = arg;
    char error[512];
    zsock_t *socket = requester_connect(node, serving, error, sizeof error);
    if (socket)
        recovery_request(node, serving, socket);
    else
        log_warning("cannot reach a serving node for recovery serving=%s: %s",
                    serving, error);
    return 0;
}

void recovery_tick(node_t *node, int64_t now_ms)
{
    if (node->recovery_ticked &&
        now_ms - node->recovery_ticked < node->config.recovery_interval_ms)
        return;
    node->recovery_ticked = now_ms;
    char error[512];
    if (ledger_foreach_chain(node->ledger, node->config.mpid,
                             LEDGER_ROLE_RECEIVED, s_ask_chain, node, error,
                             sizeof error) < 0)
        log_error("cannot list the chains for recovery: %s", error);
}
