/* Making meter requests to other suppliers' nodes for the local CLI. */
#include "requester.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ack.h"
#include "checkpoint.h"
#include "checkpoint_exchange.h"
#include "clock.h"
#include "curve.h"
#include "dir_keys.h"
#include "envelope.h"
#include "hex.h"
#include "log.h"
#include "message.h"
#include "pending.h"
#include "receipt.h"
#include "recovery.h"
#include "request.h"

/* An open connection to another supplier's node. */
typedef struct {
    dir_supplier_t supplier; /* as the directory listed it */
    zsock_t *socket;         /* CURVE DEALER pinned to supplier.curve_key */
} peer_t;

/* A request forwarded to a peer, waiting for its reply. */
typedef struct {
    zframe_t *routing; /* the CLI's control ROUTER id */
    meter_request_t request;
    char serving[5];
    char endpoint[DIR_ENDPOINT_SIZE];
    int64_t deadline_ms;
} outgoing_t;

/* The outcome of checking a received receipt. */
typedef struct {
    /* "acknowledged", "duplicate", "pending" (it arrived before an earlier
     * receipt of its chain, which is being fetched) or "disputed" */
    const char *status;
    char reason[512];
    receipt_t receipt;
} receipt_check_t;

static void s_peer_destroy(void **item)
{
    peer_t *peer = *item;
    zsock_destroy(&peer->socket);
    free(peer);
    *item = NULL;
}

static void s_outgoing_destroy(void **item)
{
    outgoing_t *outgoing = *item;
    zframe_destroy(&outgoing->routing);
    free(outgoing);
    *item = NULL;
}

void requester_init(node_t *node)
{
    node->peers = zhashx_new();
    zhashx_set_destructor(node->peers, s_peer_destroy);
    node->outgoing = zhashx_new();
    zhashx_set_destructor(node->outgoing, s_outgoing_destroy);
}

void requester_destroy(node_t *node)
{
    zhashx_destroy(&node->outgoing);
    zhashx_destroy(&node->peers);
}

/* Packs a control reply. reply (the peer's own bytes) may be NULL. */
static zframe_t *s_control_reply(const envelope_header_t *header,
                                 const char *status, const char *reason,
                                 const char *error, const outgoing_t *outgoing,
                                 const receipt_check_t *check,
                                 const uint8_t *reply, size_t reply_size)
{
    message_t message;
    message_init(&message);
    size_t size = 6 + (reason != NULL) + (outgoing ? 2 : 0) + (check ? 5 : 0) +
                  (reply != NULL);
    envelope_pack_header(&message.pk, size, header->type, header->id,
                         clock_now_ms());
    mp_pack_kv_str(&message.pk, "status", status);
    mp_pack_kv_str(&message.pk, "error", error ? error : "");
    if (reason)
        mp_pack_kv_str(&message.pk, "reason", reason);
    if (outgoing) {
        mp_pack_kv_str(&message.pk, "serving", outgoing->serving);
        mp_pack_kv_str(&message.pk, "endpoint", outgoing->endpoint);
    }
    if (check) {
        mp_pack_kv_str(&message.pk, "receipt_status", check->status);
        mp_pack_kv_str(&message.pk, "receipt_note", check->reason);
        mp_pack_kv_u64(&message.pk, "seq", check->receipt.seq);
        mp_pack_kv_u64(&message.pk, "units", check->receipt.units);
        mp_pack_kv_u64(&message.pk, "price", check->receipt.price);
    }
    if (reply)
        mp_pack_kv_bin(&message.pk, "reply", reply, reply_size);
    return message_to_frame(&message);
}

static void s_send_control(node_t *node, zframe_t *routing, zframe_t *frame,
                           bool after_commit)
{
    zmsg_t *msg = zmsg_new();
    zframe_t *copy = zframe_dup(routing);
    zmsg_append(msg, &copy);
    zmsg_append(msg, &frame);
    if (after_commit)
        node_send_after_commit(node, node->control, &msg);
    else
        zmsg_send(&msg, node->control);
}

static void s_control_error(node_t *node, zframe_t *routing,
                            const envelope_header_t *header, const char *status,
                            const char *reason, const char *error)
{
    s_send_control(
        node, routing,
        s_control_reply(header, status, reason, error, NULL, NULL, NULL, 0),
        false);
}

/* Returns the connection to supplier's node, opening it on first use. */
static peer_t *s_peer(node_t *node, const dir_supplier_t *supplier, char *error,
                      size_t error_size)
{
    peer_t *peer = zhashx_lookup(node->peers, supplier->mpid);
    if (peer && strcmp(peer->supplier.endpoint, supplier->endpoint) == 0 &&
        strcmp(peer->supplier.curve_key, supplier->curve_key) == 0) {
        peer->supplier = *supplier; /* keeps the signing key current */
        return peer;
    }
    if (peer) {
        log_info("peer node moved or changed key, reconnecting supplier=%s "
                 "endpoint=%s",
                 supplier->mpid, supplier->endpoint);
        zpoller_remove(node->poller, peer->socket);
        zhashx_delete(node->peers, supplier->mpid);
    }
    zsock_t *socket = curve_client_new(
        ZMQ_DEALER, node->cert, supplier->curve_key, supplier->endpoint,
        node->config.max_frame, error, error_size);
    if (!socket)
        return NULL;
    peer = calloc(1, sizeof *peer);
    peer->supplier = *supplier;
    peer->socket = socket;
    zhashx_insert(node->peers, supplier->mpid, peer);
    zpoller_add(node->poller, socket);
    log_info("connecting to peer node supplier=%s endpoint=%s", supplier->mpid,
             supplier->endpoint);
    recovery_request(node, supplier->mpid, socket);
    return peer;
}

zsock_t *requester_connect(node_t *node, const char *mpid, char *error,
                           size_t error_size)
{
    dir_supplier_t supplier;
    if (dirclient_supplier(node->directory, mpid, &supplier, error,
                           error_size) != DIR_OK)
        return NULL;
    peer_t *peer = s_peer(node, &supplier, error, error_size);
    return peer ? peer->socket : NULL;
}

/* Re-encodes the CLI's request for the peer with this node's clock. */
static zframe_t *s_forward_frame(const meter_request_t *request)
{
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, request->ranged ? 7 : 5,
                         request->header.type, request->header.id,
                         clock_now_ms());
    mp_pack_kv_str(&message.pk, "mpxn", request->mpxn);
    if (request->ranged) {
        mp_pack_kv_i64(&message.pk, "from", request->from_ms);
        mp_pack_kv_i64(&message.pk, "to", request->to_ms);
    }
    return message_to_frame(&message);
}

/* Finds the installing supplier's node of the request's supply point.
 * Returns 0, or -1 after answering the CLI. */
static int s_find_installer(node_t *node, zframe_t *routing,
                            const meter_request_t *request,
                            dir_supplier_t *installer)
{
    char error[512];
    char sentence[700];
    dir_supply_point_t supply_point;
    dir_status_t status = dirclient_supply_point(
        node->directory, request->mpxn, &supply_point, error, sizeof error);
    if (status == DIR_OK &&
        strcmp(supply_point.installing, node->config.mpid) == 0) {
        snprintf(sentence, sizeof sentence,
                 "supply point %s was installed by this node's own supplier "
                 "%s; read it from your own head end",
                 request->mpxn, node->config.mpid);
        s_control_error(node, routing, &request->header, STATUS_INVALID,
                        "own_meter", sentence);
        return -1;
    }
    if (status == DIR_OK)
        status = dirclient_supplier(node->directory, supply_point.installing,
                                    installer, error, sizeof error);
    if (status == DIR_OK)
        return 0;
    bool missing = status == DIR_NOT_FOUND;
    snprintf(sentence, sizeof sentence, "%s: %s",
             missing ? "not in the directory" : "directory unavailable", error);
    s_control_error(node, routing, &request->header,
                    missing ? STATUS_NOT_FOUND : STATUS_UNAVAILABLE,
                    missing ? "not_found" : "directory_unavailable", sentence);
    return -1;
}

static void s_forward(node_t *node, zframe_t *routing,
                      const meter_request_t *request)
{
    char hex_id[33];
    hex_encode(request->header.id, 16, hex_id);
    if (zhashx_lookup(node->outgoing, hex_id)) {
        s_control_error(node, routing, &request->header, STATUS_INVALID,
                        "in_flight",
                        "a request with this id is already waiting for its "
                        "reply; wait for it, then retry");
        return;
    }
    dir_supplier_t installer;
    if (s_find_installer(node, routing, request, &installer))
        return;
    char error[512];
    peer_t *peer = s_peer(node, &installer, error, sizeof error);
    if (!peer) {
        s_control_error(node, routing, &request->header, STATUS_UNAVAILABLE,
                        "peer", error);
        return;
    }
    outgoing_t *outgoing = calloc(1, sizeof *outgoing);
    outgoing->routing = zframe_dup(routing);
    outgoing->request = *request;
    snprintf(outgoing->serving, sizeof outgoing->serving, "%s", installer.mpid);
    snprintf(outgoing->endpoint, sizeof outgoing->endpoint, "%s",
             installer.endpoint);
    outgoing->deadline_ms = clock_now_ms() + node->config.request_timeout_ms;
    zhashx_insert(node->outgoing, hex_id, outgoing);
    zframe_t *frame = s_forward_frame(request);
    zframe_send(&frame, peer->socket, 0);
    log_debug("request forwarded type=%s mpxn=%s serving=%s id=%s",
              request->header.type, request->mpxn, installer.mpid, hex_id);
}

/* Replies to "node.status" with this node's identity, for the CLI and tests. */
static void s_status(node_t *node, zframe_t *routing,
                     const envelope_header_t *header)
{
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, 8, header->type, header->id,
                         clock_now_ms());
    mp_pack_kv_str(&message.pk, "status", STATUS_OK);
    mp_pack_kv_str(&message.pk, "mpid", node->config.mpid);
    mp_pack_kv_str(&message.pk, "endpoint", zsock_endpoint(node->server));
    mp_pack_kv_u64(&message.pk, "allowed_keys", zap_size(node->zap));
    s_send_control(node, routing, message_to_frame(&message), false);
}

void requester_handle_control(node_t *node)
{
    zmsg_t *msg = zmsg_recv(node->control);
    if (!msg)
        return;
    zframe_t *routing = zmsg_pop(msg);
    zframe_t *payload = zmsg_pop(msg);
    char error[512];
    meter_request_t request = {0};
    const char *status = STATUS_INVALID;
    envelope_t *envelope =
        payload ? envelope_decode(zframe_data(payload), zframe_size(payload),
                                  NULL, error, sizeof error)
                : NULL;
    if (!payload)
        snprintf(error, sizeof error, "empty control message");
    if (!envelope ||
        envelope_read_header(envelope, &request.header, error, sizeof error))
        s_control_error(node, routing, &request.header, STATUS_INVALID, NULL,
                        error);
    else if (strcmp(request.header.type, "node.status") == 0)
        s_status(node, routing, &request.header);
    else if (request_parse(envelope, &request, &status, error, sizeof error))
        s_control_error(node, routing, &request.header, status, NULL, error);
    else
        s_forward(node, routing, &request);
    envelope_destroy(&envelope);
    zframe_destroy(&routing);
    zframe_destroy(&payload);
    zmsg_destroy(&msg);
}

/* Checks the receipt fields against the request and the local tariff.
 * request_id is NULL for a receipt that came without its request, through
 * recovery. Returns 0, or -1 with the dispute reason in check->reason. */
static int s_check_fields(node_t *node, const peer_t *peer,
                          const uint8_t *request_id, const outgoing_t *outgoing,
                          receipt_check_t *check)
{
    const receipt_t *r = &check->receipt;
    const size_t size = sizeof check->reason;
    if ((request_id && memcmp(r->request_id, request_id, 16) != 0) ||
        strcmp(r->serving, peer->supplier.mpid) != 0 ||
        strcmp(r->requesting, node->config.mpid) != 0 ||
        (outgoing && (strcmp(r->mpxn, outgoing->request.mpxn) != 0 ||
                      strcmp(r->type, outgoing->request.header.type) != 0))) {
        snprintf(check->reason, size,
                 "receipt seq %" PRIu64 " names another request, supplier or "
                 "supply point than the one made",
                 r->seq);
        return -1;
    }
    const tariff_t *tariff =
        tariff_set_find(node->tariffs, r->serving, r->requesting);
    uint64_t expected = 0;
    if (!tariff) {
        snprintf(check->reason, size,
                 "no local copy of a tariff for %s serving %s", r->serving,
                 r->requesting);
        return -1;
    }
    if (strcmp(tariff_id(tariff), r->tariff_id) != 0 ||
        memcmp(tariff_hash(tariff), r->tariff_hash, HASH_SIZE) != 0) {
        snprintf(check->reason, size,
                 "receipt seq %" PRIu64 " names tariff '%s' with another hash "
                 "than the local copy '%s'",
                 r->seq, r->tariff_id, tariff_id(tariff));
        return -1;
    }
    if (tariff_price(tariff, r->type, r->served_at, r->units, &expected) ||
        expected != r->price) {
        snprintf(check->reason, size,
                 "receipt seq %" PRIu64 " charges %" PRIu64
                 " micro-units for %" PRIu64 " units of %s; the tariff says "
                 "%" PRIu64,
                 r->seq, r->price, r->units, r->type, expected);
        return -1;
    }
    return 0;
}

/* Places the receipt in its chain: appended, a duplicate of a stored one,
 * deferred until the receipts before it are fetched, or a dispute. Returns
 * 0 when it is in the ledger now, 1 when it was deferred, or -1. */
static int s_chain(node_t *node, peer_t *peer, const uint8_t *body,
                   size_t body_size, const uint8_t *sig, receipt_check_t *check)
{
    const receipt_t *r = &check->receipt;
    char error[512];
    uint64_t head_seq;
    uint8_t head_hash[HASH_SIZE], hash[HASH_SIZE];
    receipt_hash(body, body_size, hash);
    if (ledger_chain_head(node->ledger, r->serving, r->requesting, &head_seq,
                          head_hash, error, sizeof error)) {
        snprintf(check->reason, sizeof check->reason, "%s", error);
        return -1;
    }
    if (r->seq <= head_seq) {
        ledger_row_t row;
        if (ledger_find_receipt(node->ledger, r->serving, r->requesting, r->seq,
                                &row, error, sizeof error) == 1 &&
            memcmp(row.hash, hash, HASH_SIZE) == 0) {
            check->status = "duplicate";
            snprintf(check->reason, sizeof check->reason,
                     "receipt seq %" PRIu64 " is already stored: it is "
                     "charged once",
                     r->seq);
            return 0;
        }
        snprintf(check->reason, sizeof check->reason,
                 "receipt seq %" PRIu64 " conflicts with the stored one",
                 r->seq);
        return -1;
    }
    if (r->seq > head_seq + 1) {
        /* An earlier receipt was lost, for example when this node stopped
         * after the serving node committed it. Recovery fetches the
         * missing ones and this one with them. */
        check->status = "pending";
        snprintf(check->reason, sizeof check->reason,
                 "receipt seq %" PRIu64 " arrived before seq %" PRIu64
                 "; the missing receipts are being fetched from %s's node, "
                 "then it is stored and acknowledged",
                 r->seq, head_seq + 1, r->serving);
        recovery_request(node, r->serving, peer->socket);
        return 1;
    }
    if (r->seq != head_seq + 1 || memcmp(r->prev_hash, head_hash, HASH_SIZE)) {
        snprintf(check->reason, sizeof check->reason,
                 "receipt seq %" PRIu64 " does not extend the chain, whose "
                 "head is seq %" PRIu64,
                 r->seq, head_seq);
        return -1;
    }
    if (ledger_append_receipt(node->ledger, r, body, body_size, sig, error,
                              sizeof error)) {
        snprintf(check->reason, sizeof check->reason, "%s", error);
        return -1;
    }
    check->status = "acknowledged";
    snprintf(check->reason, sizeof check->reason,
             "receipt seq %" PRIu64 " verified and acknowledged", r->seq);
    return 0;
}

/* Signs, stores and queues the acknowledgement of an accepted receipt. */
static void s_acknowledge(node_t *node, peer_t *peer, const uint8_t *body,
                          size_t body_size, const receipt_t *r)
{
    ack_t ack = {0};
    receipt_hash(body, body_size, ack.receipt_hash);
    memcpy(ack.serving, r->serving, 5);
    memcpy(ack.requesting, r->requesting, 5);
    ack.seq = r->seq;
    ack.acked_at = clock_now_ms();
    uint8_t *ack_body = NULL;
    size_t ack_size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    char error[512];
    ledger_ack_row_t existing;
    if (ledger_find_ack(node->ledger, r->serving, r->requesting, r->seq,
                        &existing, error, sizeof error) == 1) {
        /* A retry: send the acknowledgement already given. */
        ack_body = malloc(existing.body_size);
        memcpy(ack_body, existing.body, existing.body_size);
        ack_size = existing.body_size;
        memcpy(sig, existing.signature, sizeof sig);
    } else {
        if (ack_encode(&ack, &ack_body, &ack_size))
            return;
        ack_sign(node->signer, ack_body, ack_size, sig);
        if (ledger_append_ack(node->ledger, &ack, ack_body, ack_size, sig,
                              error, sizeof error)) {
            log_error("acknowledgement not stored serving=%s seq=%" PRIu64
                      ": %s",
                      r->serving, r->seq, error);
            free(ack_body);
            return;
        }
    }
    message_t message;
    message_init(&message);
    uint8_t id[ENVELOPE_ID_SIZE];
    envelope_new_id(id);
    envelope_pack_header(&message.pk, 5, "receipt.ack", id, clock_now_ms());
    mp_pack_cstr(&message.pk, "ack");
    ack_pack_wire(&message.pk, ack_body, ack_size, sig);
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){message_to_frame(&message)});
    node_send_after_commit(node, peer->socket, &msg);
    free(ack_body);
}

/* Records a receipt that failed a check, once: the same body offered
 * again (recovery lists it until it is acknowledged) is not recorded
 * twice. */
static void s_dispute(node_t *node, const peer_t *peer, const uint8_t *body,
                      size_t body_size, const uint8_t *sig,
                      const receipt_check_t *check)
{
    char error[512], earlier[512];
    log_warning("receipt disputed serving=%s: %s", peer->supplier.mpid,
                check->reason);
    if (!body || node_batch_begin(node) != 0)
        return;
    int found = ledger_find_dispute(node->ledger, peer->supplier.mpid,
                                    node->config.mpid, body, body_size, earlier,
                                    sizeof earlier, error, sizeof error);
    if (found == 0 &&
        ledger_record_dispute(node->ledger, peer->supplier.mpid,
                              node->config.mpid, body, body_size, sig,
                              check->reason, error, sizeof error))
        found = -1;
    if (found < 0)
        log_error("dispute not recorded serving=%s: %s", peer->supplier.mpid,
                  error);
}

/* Takes the peer's keys from the directory again (a cached answer, which
 * the change feed drops on a key change), because a key may have been
 * revoked since the request went out. The endpoint and CURVE key stay as
 * they were, because the connection was made with them. */
static void s_refresh_peer_keys(node_t *node, peer_t *peer)
{
    dir_supplier_t current;
    char error[512];
    if (dirclient_supplier(node->directory, peer->supplier.mpid, &current,
                           error, sizeof error) != DIR_OK) {
        log_warning("keys of peer not refreshed, checking with those of the "
                    "request serving=%s: %s",
                    peer->supplier.mpid, error);
        return;
    }
    memcpy(peer->supplier.sign_key, current.sign_key, DIR_SIGN_KEY_SIZE);
    peer->supplier.key_count = current.key_count;
    memcpy(peer->supplier.keys, current.keys, sizeof current.keys);
}

/* Checks the receipt's signature by a signing key of peer valid at its
 * served_at; on failure check->reason says why. */
static bool s_signed_by_peer(node_t *node, peer_t *peer, const uint8_t *body,
                             size_t body_size, const uint8_t *sig,
                             receipt_check_t *check)
{
    char reason[400];
    s_refresh_peer_keys(node, peer);
    if (dir_supplier_verify(&peer->supplier, check->receipt.served_at,
                            SIGN_DOMAIN_RECEIPT, body, body_size, sig, reason,
                            sizeof reason) == DIR_SIGNATURE_OK)
        return true;
    snprintf(check->reason, sizeof check->reason,
             "receipt signature rejected: %s", reason);
    return false;
}

/* Verifies a signed receipt from peer and stores and acknowledges it, or
 * defers or disputes it. request_id and outgoing are NULL for a receipt
 * that came through recovery. Returns 0 when it is in the ledger now, 1
 * when it was deferred, or -1 when it was disputed. */
static int s_file_receipt(node_t *node, peer_t *peer, const uint8_t *request_id,
                          const outgoing_t *outgoing, const uint8_t *body,
                          size_t body_size, const uint8_t *sig,
                          receipt_check_t *check)
{
    char error[512];
    int placed = -1;
    bool signed_by_peer = false;
    check->status = "disputed";
    /* The body is decoded first, with bounds, because its served_at says
     * which of the serving supplier's keys may have signed it. */
    if (receipt_decode(body, body_size, &check->receipt, error, sizeof error))
        snprintf(check->reason, sizeof check->reason, "bad receipt: %s", error);
    else
        signed_by_peer =
            s_signed_by_peer(node, peer, body, body_size, sig, check);
    if (signed_by_peer && node_batch_begin(node) == 0 &&
        s_check_fields(node, peer, request_id, outgoing, check) == 0)
        placed = s_chain(node, peer, body, body_size, sig, check);
    if (placed == 0)
        s_acknowledge(node, peer, body, body_size, &check->receipt);
    else if (placed < 0)
        s_dispute(node, peer, body, body_size, sig, check);
    return placed;
}

/* Verifies and files the receipt of an ok reply. */
static void s_take_receipt(node_t *node, peer_t *peer,
                           const envelope_header_t *header,
                           const msgpack_object *root,
                           const outgoing_t *outgoing, receipt_check_t *check)
{
    const msgpack_object *wire;
    const uint8_t *body = NULL;
    const uint8_t *sig = NULL;
    size_t body_size = 0, sig_size = 0;
    char error[512];
    if (mp_get_container(root, "receipt", MSGPACK_OBJECT_MAP, &wire, error,
                         sizeof error) ||
        mp_get_bin_ref(wire, "body", &body, &body_size, error, sizeof error) ||
        mp_get_bin_ref(wire, "sig", &sig, &sig_size, error, sizeof error) ||
        sig_size != SIGN_SIGNATURE_SIZE) {
        check->status = "disputed";
        snprintf(check->reason, sizeof check->reason,
                 "reply carries no readable receipt: %s", error);
        s_dispute(node, peer, body, body_size,
                  sig_size == SIGN_SIGNATURE_SIZE ? sig : NULL, check);
        return;
    }
    s_file_receipt(node, peer, header->id, outgoing, body, body_size, sig,
                   check);
}

static peer_t *s_peer_of_socket(node_t *node, void *socket)
{
    for (peer_t *peer = zhashx_first(node->peers); peer;
         peer = zhashx_next(node->peers))
        if ((void *)peer->socket == socket)
            return peer;
    return NULL;
}

int requester_file_recovered(node_t *node, const char *serving,
                             const uint8_t *body, size_t body_size,
                             const uint8_t sig[SIGN_SIGNATURE_SIZE], char *note,
                             size_t note_size)
{
    peer_t *peer = zhashx_lookup(node->peers, serving);
    receipt_check_t check = {0};
    if (!peer) {
        snprintf(note, note_size, "no connection to %s's node is open",
                 serving);
        return -1;
    }
    int placed =
        s_file_receipt(node, peer, NULL, NULL, body, body_size, sig, &check);
    snprintf(note, note_size, "%s", check.reason);
    return placed;
}

/* Handles one decoded reply from a peer. */
static void s_handle_reply(node_t *node, peer_t *peer,
                           const envelope_t *envelope,
                           const envelope_header_t *header,
                           const zframe_t *frame)
{
    const msgpack_object *root = envelope_root(envelope);
    char status[32] = "", reason[64] = "", error[512] = "", hex_id[33];
    if (mp_get_str(root, "status", status, sizeof status, error,
                   sizeof error) ||
        mp_get_str_opt(root, "reason", reason, sizeof reason, error,
                       sizeof error) < 0 ||
        mp_get_str_opt(root, "error", error, sizeof error, error,
                       sizeof error) < 0)
        snprintf(status, sizeof status, "%s", STATUS_INVALID);
    hex_encode(header->id, 16, hex_id);
    outgoing_t *outgoing = zhashx_lookup(node->outgoing, hex_id);
    receipt_check_t check = {0};
    bool has_receipt = strcmp(status, STATUS_OK) == 0;
    if (has_receipt)
        s_take_receipt(node, peer, header, root, outgoing, &check);
    if (!outgoing) {
        log_info("late reply from peer serving=%s id=%s status=%s%s%s",
                 peer->supplier.mpid, hex_id, status,
                 has_receipt ? " receipt=" : "",
                 has_receipt ? check.status : "");
        return;
    }
    zframe_t *reply = s_control_reply(
        header, status, reason[0] ? reason : NULL, error, outgoing,
        has_receipt ? &check : NULL, zframe_data((zframe_t *)frame),
        zframe_size((zframe_t *)frame));
    s_send_control(node, outgoing->routing, reply, true);
    zhashx_delete(node->outgoing, hex_id);
}

/* Reads and handles one message from peer. */
static void s_receive_from(node_t *node, peer_t *peer)
{
    zframe_t *frame = zframe_recv(peer->socket);
    if (!frame)
        return;
    char error[512];
    envelope_header_t header;
    envelope_t *envelope =
        envelope_decode(zframe_data(frame), zframe_size(frame),
                        &envelope_reply_limits, error, sizeof error);
    if (!envelope ||
        envelope_read_header(envelope, &header, error, sizeof error))
        log_peer_warning("undecodable reply from peer serving=%s: %s",
                         peer->supplier.mpid, error);
    else if (strcmp(header.type, "receipt.ack") == 0)
        log_debug("acknowledgement confirmed by serving=%s",
                  peer->supplier.mpid);
    else if (strcmp(header.type, PENDING_TYPE) == 0)
        recovery_handle_reply(node, peer->supplier.mpid, envelope, &header);
    else if (strcmp(header.type, CHECKPOINT_TYPE) == 0)
        checkpoint_exchange_handle_reply(node, peer->supplier.mpid, envelope,
                                         &header);
    else
        s_handle_reply(node, peer, envelope, &header, frame);
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

bool requester_handle_peer(node_t *node, void *socket)
{
    peer_t *peer = s_peer_of_socket(node, socket);
    if (!peer)
        return false;
    s_receive_from(node, peer);
    return true;
}

int requester_drain_peers(node_t *node)
{
    /* Handling a reply never adds or removes peers, so the table can be
     * walked directly. (zhashx_values would copy the table's destructor
     * into its list and free the peers with it.) */
    int handled = 0;
    for (peer_t *peer = zhashx_first(node->peers); peer;
         peer = zhashx_next(node->peers))
        if (zsock_events(peer->socket) & ZMQ_POLLIN) {
            s_receive_from(node, peer);
            handled++;
        }
    return handled;
}

void requester_expire(node_t *node, int64_t now_ms)
{
    zlistx_t *expired = zlistx_new();
    for (outgoing_t *outgoing = zhashx_first(node->outgoing); outgoing;
         outgoing = zhashx_next(node->outgoing))
        if (outgoing->deadline_ms <= now_ms)
            zlistx_add_end(expired, (void *)zhashx_cursor(node->outgoing));
    for (const char *key = zlistx_first(expired); key;
         key = zlistx_next(expired)) {
        outgoing_t *outgoing = zhashx_lookup(node->outgoing, key);
        char sentence[600];
        snprintf(sentence, sizeof sentence,
                 "no reply from %s's node at %s within %d ms; retry with "
                 "--request-id %s (a retry is never charged twice)",
                 outgoing->serving, outgoing->endpoint,
                 node->config.request_timeout_ms, key);
        log_warning("peer request timed out serving=%s endpoint=%s id=%s",
                    outgoing->serving, outgoing->endpoint, key);
        s_send_control(node, outgoing->routing,
                       s_control_reply(&outgoing->request.header,
                                       STATUS_TIMEOUT, "peer_timeout", sentence,
                                       outgoing, NULL, NULL, 0),
                       false);
        zhashx_delete(node->outgoing, key);
    }
    zlistx_destroy(&expired);
}
