/* Publishing checkpoints of the chains a node serves, and checking and
 * storing those it receives. */
#include "checkpoint_exchange.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "clock.h"
#include "dir_keys.h"
#include "hex.h"
#include "ledger_checkpoint.h"
#include "ledger_recovery.h"
#include "log.h"
#include "message.h"
#include "recovery.h"
#include "requester.h"

#define CHECKPOINT_CONFLICT "checkpoint_conflict"

/* The latest checkpoint of one chain this node serves. */
typedef struct {
    bool have; /* the fields below hold a checkpoint */
    checkpoint_t checkpoint;
    uint8_t body[CHECKPOINT_MAX_BODY];
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    bool confirmed; /* the requesting node replied ok to it */
    uint8_t sent_id[ENVELOPE_ID_SIZE];
} published_t;

static void s_published_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

void checkpoint_exchange_init(node_t *node)
{
    node->checkpoints = zhashx_new();
    zhashx_set_destructor(node->checkpoints, s_published_destroy);
}

void checkpoint_exchange_destroy(node_t *node)
{
    zhashx_destroy(&node->checkpoints);
}

/* Loads the newest stored checkpoint of the chain, after a restart. */
static int s_load(node_t *node, const char *requesting, published_t *state,
                  char *error, size_t error_size)
{
    ledger_checkpoint_row_t row;
    int found = ledger_last_checkpoint(node->ledger, node->config.mpid,
                                       requesting, &row, error, error_size);
    if (found == 1) {
        state->have = true;
        state->checkpoint = row.checkpoint;
        memcpy(state->body, row.body, row.body_size);
        state->body_size = row.body_size;
        memcpy(state->signature, row.signature, SIGN_SIGNATURE_SIZE);
    }
    return found < 0 ? -1 : 0;
}

/* Signs and stores a new checkpoint in the open batch. */
static int s_issue(node_t *node, published_t *state,
                   const checkpoint_t *checkpoint, char *error,
                   size_t error_size)
{
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    if (checkpoint_encode(checkpoint, &body, &size)) {
        snprintf(error, error_size, "out of memory encoding a checkpoint");
        return -1;
    }
    checkpoint_sign(node->signer, body, size, signature);
    int rc = node_batch_begin(node)
                 ? -1
                 : ledger_store_checkpoint(node->ledger, checkpoint, body, size,
                                           signature, error, error_size);
    if (rc == 0) {
        state->have = true;
        state->checkpoint = *checkpoint;
        memcpy(state->body, body, size);
        state->body_size = size;
        memcpy(state->signature, signature, SIGN_SIGNATURE_SIZE);
        state->confirmed = false;
        log_debug("checkpoint issued requesting=%s seq=%" PRIu64
                  " acked_seq=%" PRIu64,
                  checkpoint->requesting, checkpoint->seq,
                  checkpoint->acked_seq);
    }
    free(body);
    return rc;
}

/* Queues the latest checkpoint for the requesting node, after the
 * commit that stores it. */
static void s_send(node_t *node, const char *requesting, published_t *state)
{
    char error[512];
    zsock_t *socket = requester_connect(node, requesting, error, sizeof error);
    if (!socket) {
        log_warning("cannot send a checkpoint requesting=%s: %s", requesting,
                    error);
        return;
    }
    envelope_new_id(state->sent_id);
    zmsg_t *msg = zmsg_new();
    zframe_t *frame =
        checkpoint_pack_message(state->sent_id, clock_now_ms(), state->body,
                                state->body_size, state->signature);
    zmsg_append(msg, &frame);
    node_send_after_commit(node, socket, &msg);
}

/* Reads the chain's head and acknowledged prefix into next. */
static int s_measure(node_t *node, const char *requesting,
                     const published_t *state, checkpoint_t *next, char *error,
                     size_t error_size)
{
    memset(next, 0, sizeof *next);
    snprintf(next->serving, sizeof next->serving, "%s", node->config.mpid);
    snprintf(next->requesting, sizeof next->requesting, "%s", requesting);
    next->issued_at = clock_now_ms();
    if (ledger_chain_head(node->ledger, node->config.mpid, requesting,
                          &next->seq, next->head_hash, error, error_size))
        return -1;
    /* Acknowledgements are append-only, so the prefix proven by the last
     * checkpoint is still valid and the search starts after it. */
    uint64_t known = state->have && state->checkpoint.acked_seq <= next->seq
                         ? state->checkpoint.acked_seq
                         : 0;
    return ledger_acked_through(node->ledger, node->config.mpid, requesting,
                                known, &next->acked_seq, error, error_size);
}

static int s_tick_chain(const char *requesting, void *arg)
{
    node_t *node = arg;
    char error[512];
    published_t *state = zhashx_lookup(node->checkpoints, requesting);
    if (!state) {
        state = calloc(1, sizeof *state);
        zhashx_insert(node->checkpoints, requesting, state);
    }
    checkpoint_t next;
    if ((!state->have &&
         s_load(node, requesting, state, error, sizeof error)) ||
        s_measure(node, requesting, state, &next, error, sizeof error)) {
        log_error("cannot make a checkpoint requesting=%s: %s", requesting,
                  error);
        return 0;
    }
    const checkpoint_t *last = &state->checkpoint;
    if (next.seq == 0)
        return 0;
    if (state->have && next.seq < last->seq) {
        log_error("chain is shorter than its last checkpoint requesting=%s "
                  "seq=%" PRIu64 " checkpoint_seq=%" PRIu64
                  "; run sdx ledger verify",
                  requesting, next.seq, last->seq);
        return 0;
    }
    if ((!state->have || next.seq != last->seq ||
         next.acked_seq != last->acked_seq) &&
        s_issue(node, state, &next, error, sizeof error)) {
        log_error("checkpoint not stored requesting=%s: %s", requesting, error);
        return 0;
    }
    if (!state->confirmed || last->acked_seq < last->seq)
        s_send(node, requesting, state);
    return 0;
}

void checkpoint_exchange_tick(node_t *node, int64_t now_ms)
{
    if (node->checkpoint_ticked &&
        now_ms - node->checkpoint_ticked < node->config.checkpoint_interval_ms)
        return;
    node->checkpoint_ticked = now_ms;
    char error[512];
    if (ledger_foreach_chain(node->ledger, node->config.mpid,
                             LEDGER_ROLE_ISSUED, s_tick_chain, node, error,
                             sizeof error) < 0)
        log_error("cannot list the chains to checkpoint: %s", error);
}

static void s_answer(node_t *node, zframe_t *routing,
                     const envelope_header_t *header, const char *status,
                     const char *reason, const char *sentence)
{
    zmsg_t *msg = zmsg_new();
    zframe_t *copy = zframe_dup(routing);
    zframe_t *frame =
        message_error(header->type, header->id, status, reason, sentence);
    zmsg_append(msg, &copy);
    zmsg_append(msg, &frame);
    node_send_after_commit(node, node->server, &msg);
}

/* Reads and authenticates the checkpoint of a message from sender.
 * Returns 0, or -1 with a sentence in error. */
static int s_read_signed(node_t *node, const char *sender,
                         const envelope_t *envelope, checkpoint_t *checkpoint,
                         const uint8_t **body, size_t *size,
                         uint8_t signature[SIGN_SIGNATURE_SIZE], char *error,
                         size_t error_size)
{
    dir_supplier_t supplier;
    if (checkpoint_unpack_message(envelope, body, size, signature, error,
                                  error_size) ||
        checkpoint_decode(*body, *size, checkpoint, error, error_size))
        return -1;
    if (strcmp(checkpoint->serving, sender) != 0 ||
        strcmp(checkpoint->requesting, node->config.mpid) != 0) {
        snprintf(error, error_size,
                 "checkpoint of %s->%s rejected: %s may only send checkpoints "
                 "of %s->%s",
                 checkpoint->serving, checkpoint->requesting, sender, sender,
                 node->config.mpid);
        return -1;
    }
    if (dirclient_supplier(node->directory, sender, &supplier, error,
                           error_size) != DIR_OK)
        return -1;
    char reason[400];
    if (dir_supplier_verify(&supplier, checkpoint->issued_at,
                            SIGN_DOMAIN_CHECKPOINT, *body, *size, signature,
                            reason, sizeof reason) != DIR_SIGNATURE_OK) {
        snprintf(error, error_size, "checkpoint rejected: %s", reason);
        return -1;
    }
    return 0;
}

/* Compares the checkpoint with this node's copy of the chain. Returns 0
 * when they agree, 1 with a sentence in conflict when they do not, or -1
 * with error. Sets *behind when this node has not got to the
 * checkpoint's seq yet. */
static int s_compare(node_t *node, const checkpoint_t *checkpoint, bool *behind,
                     char *conflict, size_t conflict_size, char *error,
                     size_t error_size)
{
    uint64_t head = 0;
    uint8_t hash[HASH_SIZE];
    ledger_row_t row;
    char theirs[2 * HASH_SIZE + 1], ours[2 * HASH_SIZE + 1];
    if (ledger_chain_head(node->ledger, checkpoint->serving,
                          checkpoint->requesting, &head, hash, error,
                          error_size))
        return -1;
    *behind = head < checkpoint->seq;
    if (*behind)
        return 0;
    int found = ledger_find_receipt(node->ledger, checkpoint->serving,
                                    checkpoint->requesting, checkpoint->seq,
                                    &row, error, error_size);
    if (found < 0)
        return -1;
    if (found == 1 && memcmp(row.hash, checkpoint->head_hash, HASH_SIZE) == 0)
        return 0;
    snprintf(conflict, conflict_size,
             "checkpoint of %s->%s seq %" PRIu64 " names receipt hash %s, but "
             "%s's ledger has %s at that seq; one side rewrote the chain",
             checkpoint->serving, checkpoint->requesting, checkpoint->seq,
             hex_encode(checkpoint->head_hash, HASH_SIZE, theirs),
             node->config.mpid,
             found == 1 ? hex_encode(row.hash, HASH_SIZE, ours) : "nothing");
    return 1;
}

void checkpoint_exchange_receive(node_t *node, zframe_t *routing,
                                 const char *sender, const envelope_t *envelope,
                                 const envelope_header_t *header)
{
    char error[512], conflict[512] = "";
    checkpoint_t checkpoint;
    const uint8_t *body = NULL;
    size_t size = 0;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    bool behind = false;
    if (s_read_signed(node, sender, envelope, &checkpoint, &body, &size,
                      signature, error, sizeof error)) {
        log_peer_warning("checkpoint rejected sender=%s: %s", sender, error);
        s_answer(node, routing, header, STATUS_INVALID, "bad_checkpoint",
                 error);
        return;
    }
    int compared = s_compare(node, &checkpoint, &behind, conflict,
                             sizeof conflict, error, sizeof error);
    if (compared < 0 || node_batch_begin(node) ||
        ledger_store_checkpoint(node->ledger, &checkpoint, body, size,
                                signature, error, sizeof error)) {
        log_error("checkpoint not stored sender=%s: %s", sender, error);
        s_answer(node, routing, header, STATUS_UNAVAILABLE, "ledger", error);
        return;
    }
    if (compared == 1) {
        log_error("checkpoint conflicts with the ledger sender=%s seq=%" PRIu64
                  ": %s",
                  sender, checkpoint.seq, conflict);
        s_answer(node, routing, header, STATUS_INVALID, CHECKPOINT_CONFLICT,
                 conflict);
        return;
    }
    s_answer(node, routing, header, STATUS_OK, NULL, "checkpoint stored");
    if (behind || checkpoint.acked_seq < checkpoint.seq) {
        zsock_t *socket = requester_connect(node, sender, error, sizeof error);
        if (socket)
            recovery_request(node, sender, socket);
    }
}

void checkpoint_exchange_handle_reply(node_t *node, const char *requesting,
                                      const envelope_t *envelope,
                                      const envelope_header_t *header)
{
    const msgpack_object *root = envelope_root(envelope);
    char status[32] = "", reason[64] = "", sentence[512] = "", error[256];
    if (mp_get_str(root, "status", status, sizeof status, error,
                   sizeof error) ||
        mp_get_str_opt(root, "reason", reason, sizeof reason, error,
                       sizeof error) < 0 ||
        mp_get_str_opt(root, "error", sentence, sizeof sentence, error,
                       sizeof error) < 0) {
        log_peer_warning("unreadable checkpoint reply requesting=%s: %s",
                         requesting, error);
        return;
    }
    published_t *state = zhashx_lookup(node->checkpoints, requesting);
    bool current =
        state && memcmp(state->sent_id, header->id, ENVELOPE_ID_SIZE) == 0;
    if (strcmp(status, STATUS_OK) == 0) {
        if (current)
            state->confirmed = true;
    } else if (strcmp(reason, CHECKPOINT_CONFLICT) == 0)
        log_error("counterparty reports a checkpoint conflict requesting=%s: "
                  "%s",
                  requesting, sentence);
    else
        log_warning("checkpoint not accepted requesting=%s status=%s: %s",
                    requesting, status, sentence);
}
