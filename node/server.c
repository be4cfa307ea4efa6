/* Serving meter requests to other suppliers. */
#include "server.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ack.h"
#include "checkpoint.h"
#include "checkpoint_exchange.h"
#include "clock.h"
#include "dir_keys.h"
#include "envelope.h"
#include "hex.h"
#include "ledger_evidence.h"
#include "log.h"
#include "message.h"
#include "pending.h"
#include "permission.h"
#include "receipt.h"
#include "recovery.h"
#include "request.h"

/* A request handed to an agent, waiting for its reply. */
typedef struct {
    zframe_t *routing; /* the requesting peer's ROUTER id */
    char requester[5];
    meter_request_t request;
    permission_t permission;
    const tariff_t *tariff; /* owned by node->tariffs */
    char meter_id[64];
    char head_end[32];
    int64_t received_ms;
    dir_supply_point_t supply_point; /* the signed answer that allowed it */
} served_t;

static void s_served_destroy(void **item)
{
    served_t *served = *item;
    zframe_destroy(&served->routing);
    free(served);
    *item = NULL;
}

/* The agent correlation id of a request: its first 16 bytes of
 * BLAKE2b-256 over requester and request id, so a retry that arrives
 * while the first attempt is at the agent maps to the same entry. */
static void s_correlation_id(const char *requester, const uint8_t id[16],
                             char hex_cid[33], uint8_t cid[16])
{
    uint8_t input[4 + 16];
    uint8_t hash[HASH_SIZE];
    memcpy(input, requester, 4);
    memcpy(input + 4, id, 16);
    hash_blake2b(input, sizeof input, hash);
    memcpy(cid, hash, 16);
    hex_encode(cid, 16, hex_cid);
}

static void s_reply_now(node_t *node, zframe_t *routing, zframe_t *payload)
{
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &routing);
    zmsg_append(msg, &payload);
    zmsg_send(&msg, node->server);
}

static void s_reply_error(node_t *node, zframe_t *routing,
                          const envelope_header_t *header, const char *status,
                          const char *reason, const char *error)
{
    s_reply_now(node, zframe_dup(routing),
                message_error(header->type[0] ? header->type : "error",
                              header->id, status, reason, error));
}

static void s_audit(node_t *node, const char *requester,
                    const meter_request_t *request, bool allowed,
                    const char *code, const char *reason)
{
    audit_record(node->audit, clock_now_ms(), requester, request->mpxn,
                 request->header.type, request->header.id, allowed, code,
                 reason);
    log_info("%s request=%s requester=%s mpxn=%s code=%s",
             allowed ? "allowed" : "denied", request->header.type, requester,
             request->mpxn, code);
}

/* Sends the stored reply of an earlier identical request. Returns true when
 * one was found. */
/* Returns true when the stored reply answered the same request: same
 * type and supply point and, for ranged reads, the same requested range. */
static bool s_same_request(const ledger_reply_t *stored,
                           const meter_request_t *request)
{
    char error[256];
    receipt_t receipt;
    if (!stored->has_receipt ||
        receipt_decode(stored->body, stored->body_size, &receipt, error,
                       sizeof error) ||
        strcmp(receipt.mpxn, request->mpxn) != 0 ||
        strcmp(receipt.type, request->header.type) != 0)
        return false;
    if (!request->ranged)
        return true;
    envelope_t *reply =
        envelope_decode(stored->reply, stored->reply_size,
                        &envelope_reply_limits, error, sizeof error);
    const msgpack_object *served =
        reply ? mp_map_get(envelope_root(reply), "served") : NULL;
    const msgpack_object *range = mp_map_get(served, "requested");
    int64_t from = 0, to = 0;
    bool same = range && range->type == MSGPACK_OBJECT_ARRAY &&
                range->via.array.size == 2 &&
                mp_as_i64(&range->via.array.ptr[0], &from) &&
                mp_as_i64(&range->via.array.ptr[1], &to) &&
                from == request->from_ms && to == request->to_ms;
    envelope_destroy(&reply);
    return same;
}

/* Sends the stored reply of an earlier request with the same id, or
 * rejects the request when that id was used for another request. Returns
 * true when the request is answered. */
static bool s_replay(node_t *node, zframe_t *routing, const char *requester,
                     const meter_request_t *request)
{
    ledger_reply_t stored = {0};
    char error[256], id[33];
    const envelope_header_t *header = &request->header;
    int found = ledger_find_reply(node->ledger, node->config.mpid, requester,
                                  header->id, &stored, error, sizeof error);
    hex_encode(header->id, 16, id);
    if (found < 0)
        log_error("cannot look up earlier replies requester=%s: %s", requester,
                  error);
    if (found == 1 && s_same_request(&stored, request)) {
        log_info("repeated request answered with its original reply "
                 "requester=%s id=%s",
                 requester, id);
        s_reply_now(node, zframe_dup(routing),
                    zframe_new(stored.reply, stored.reply_size));
    } else if (found == 1) {
        char sentence[300];
        snprintf(sentence, sizeof sentence,
                 "request id %s was already used for another request; use a "
                 "new id, or repeat the original request exactly to retry it",
                 id);
        log_peer_warning("request id reused for another request "
                         "requester=%s id=%s",
                         requester, id);
        s_reply_error(node, routing, header, STATUS_INVALID, "id_reused",
                      sentence);
    }
    ledger_reply_clear(&stored);
    return found == 1;
}

/* Runs the directory lookup and the permission check. On denial it replies
 * and returns false. */
static bool s_permit(node_t *node, zframe_t *routing, const char *requester,
                     served_t *served)
{
    meter_request_t *request = &served->request;
    char error[512];
    dir_supply_point_t supply_point;
    dir_status_t status = dirclient_supply_point(
        node->directory, request->mpxn, &supply_point, error, sizeof error);
    if (status != DIR_OK) {
        bool missing = status == DIR_NOT_FOUND;
        char sentence[700];
        snprintf(sentence, sizeof sentence,
                 missing ? "supply point %s is not in the directory"
                         : "denied because the directory could not confirm "
                           "permission for %s (%s); retry later",
                 request->mpxn, error);
        s_audit(node, requester, request, false,
                missing ? "not_found" : "directory_unavailable", sentence);
        s_reply_error(node, routing, &request->header,
                      missing ? STATUS_NOT_FOUND : STATUS_UNAVAILABLE,
                      missing ? "not_found" : "directory_unavailable",
                      sentence);
        return false;
    }
    permission_check(&supply_point, node->config.mpid, requester,
                     request->header.type, clock_now_ms(), request->ranged,
                     request->from_ms, request->to_ms, &served->permission);
    if (!served->permission.allowed) {
        s_audit(node, requester, request, false, served->permission.reason,
                served->permission.message);
        s_reply_error(node, routing, &request->header, STATUS_DENIED,
                      served->permission.reason, served->permission.message);
        return false;
    }
    served->tariff =
        tariff_set_find(node->tariffs, node->config.mpid, requester);
    uint64_t price;
    if (!served->tariff || tariff_price(served->tariff, request->header.type,
                                        clock_now_ms(), 0, &price) != 0) {
        char sentence[300];
        snprintf(sentence, sizeof sentence,
                 "no bilateral tariff between %s and %s prices %s; the two "
                 "suppliers must agree one first",
                 node->config.mpid, requester, request->header.type);
        s_audit(node, requester, request, false, "no_tariff", sentence);
        s_reply_error(node, routing, &request->header, STATUS_DENIED,
                      "no_tariff", sentence);
        return false;
    }
    s_audit(node, requester, request, true, "allowed",
            served->permission.message);
    served->supply_point = supply_point;
    snprintf(served->meter_id, sizeof served->meter_id, "%s",
             supply_point.meter_id);
    snprintf(served->head_end, sizeof served->head_end, "%s",
             supply_point.head_end);
    return true;
}

static void s_dispatch(node_t *node, zframe_t *routing, served_t *served)
{
    uint8_t cid[16];
    char hex_cid[33];
    s_correlation_id(served->requester, served->request.header.id, hex_cid,
                     cid);
    agent_range_t ranges[PERMISSION_MAX_RANGES];
    size_t range_count = 0;
    for (size_t i = 0; i < served->permission.range_count; i++) {
        ranges[i].from_ms = served->permission.ranges[i].from_ms;
        ranges[i].to_ms = served->permission.ranges[i].to_ms;
        range_count++;
    }
    if (agent_pool_send(node->agents, served->head_end, cid,
                        served->request.header.type, served->request.mpxn,
                        served->meter_id, ranges, range_count,
                        clock_now_ms()) != 0) {
        char sentence[200];
        snprintf(sentence, sizeof sentence,
                 "no agent for head-end type '%s' is connected to %s's node; "
                 "retry later",
                 served->head_end, node->config.mpid);
        log_warning("no live agent head_end=%s mpxn=%s", served->head_end,
                    served->request.mpxn);
        s_reply_error(node, routing, &served->request.header,
                      STATUS_UNAVAILABLE, "no_agent", sentence);
        free(served);
        return;
    }
    served->routing = zframe_dup(routing);
    served->received_ms = clock_now_ms();
    zhashx_insert(node->served, hex_cid, served);
}

static void s_handle_meter_request(node_t *node, zframe_t *routing,
                                   const char *requester,
                                   const envelope_t *envelope,
                                   const envelope_header_t *header)
{
    served_t *served = calloc(1, sizeof *served);
    served->request.header = *header;
    snprintf(served->requester, sizeof served->requester, "%s", requester);
    const char *status;
    char error[512];
    if (request_parse(envelope, &served->request, &status, error,
                      sizeof error)) {
        log_peer_warning("invalid request requester=%s type=%s: %s", requester,
                         header->type, error);
        s_reply_error(node, routing, header, status, NULL, error);
        free(served);
        return;
    }
    if (s_replay(node, routing, requester, &served->request)) {
        free(served);
        return;
    }
    uint8_t cid[16];
    char hex_cid[33];
    s_correlation_id(requester, header->id, hex_cid, cid);
    if (zhashx_lookup(node->served, hex_cid)) {
        log_debug("retry of a request still at the agent requester=%s id=%s",
                  requester, hex_cid);
        free(served);
        return; /* the first attempt's reply serves both */
    }
    if (s_permit(node, routing, requester, served))
        s_dispatch(node, routing, served);
    else
        free(served);
}

/* Checks that ack is of the chain from this node to requester and signed
 * by a signing key of requester that was valid at its acked_at, so that an
 * acknowledgement under a key revoked since then is rejected. Returns
 * true, or false with a sentence in reason. */
static bool s_ack_authentic(node_t *node, const char *requester,
                            const ack_t *ack, const uint8_t *body,
                            size_t body_size, const uint8_t *sig,
                            size_t sig_size, char *reason, size_t reason_size)
{
    if (sig_size != SIGN_SIGNATURE_SIZE) {
        snprintf(reason, reason_size, "its signature is %zu bytes, not %d",
                 sig_size, SIGN_SIGNATURE_SIZE);
        return false;
    }
    if (strcmp(ack->requesting, requester) != 0 ||
        strcmp(ack->serving, node->config.mpid) != 0) {
        snprintf(reason, reason_size, "it names the chain %s->%s, not %s->%s",
                 ack->serving, ack->requesting, node->config.mpid, requester);
        return false;
    }
    dir_supplier_t supplier;
    char error[400];
    if (dirclient_supplier(node->directory, requester, &supplier, error,
                           sizeof error) != DIR_OK) {
        snprintf(reason, reason_size,
                 "the directory did not confirm %s's signing keys: %s",
                 requester, error);
        return false;
    }
    return dir_supplier_verify(&supplier, ack->acked_at, SIGN_DOMAIN_ACK, body,
                               body_size, sig, reason,
                               reason_size) == DIR_SIGNATURE_OK;
}

/* Verifies and stores a requester's acknowledgement of one receipt. */
static void s_handle_ack(node_t *node, zframe_t *routing, const char *requester,
                         const envelope_t *envelope,
                         const envelope_header_t *header)
{
    char error[512];
    const uint8_t *body, *sig;
    size_t body_size, sig_size;
    const msgpack_object *ack_map;
    ack_t ack;
    if (mp_get_container(envelope_root(envelope), "ack", MSGPACK_OBJECT_MAP,
                         &ack_map, error, sizeof error) ||
        mp_get_bin_ref(ack_map, "body", &body, &body_size, error,
                       sizeof error) ||
        mp_get_bin_ref(ack_map, "sig", &sig, &sig_size, error, sizeof error) ||
        ack_decode(body, body_size, &ack, error, sizeof error)) {
        s_reply_error(node, routing, header, STATUS_INVALID, NULL, error);
        return;
    }
    char reason[600];
    if (!s_ack_authentic(node, requester, &ack, body, body_size, sig, sig_size,
                         reason, sizeof reason)) {
        log_peer_warning("acknowledgement rejected requester=%s seq=%" PRIu64
                         ": %s",
                         requester, ack.seq, reason);
        char sentence[700];
        snprintf(sentence, sizeof sentence, "acknowledgement rejected: %s",
                 reason);
        s_reply_error(node, routing, header, STATUS_INVALID, "bad_ack",
                      sentence);
        return;
    }
    if (node_batch_begin(node) ||
        ledger_append_ack(node->ledger, &ack, body, body_size, sig, error,
                          sizeof error) < 0) {
        log_warning("acknowledgement not stored requester=%s seq=%" PRIu64
                    ": %s",
                    requester, ack.seq, error);
        s_reply_error(node, routing, header, STATUS_INVALID, "bad_ack", error);
        return;
    }
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){zframe_dup(routing)});
    zframe_t *reply = message_error(header->type, header->id, STATUS_OK, NULL,
                                    "acknowledgement stored");
    zmsg_append(msg, &reply);
    node_send_after_commit(node, node->server, &msg);
}

void server_handle_peer(node_t *node)
{
    zmsg_t *msg = zmsg_recv(node->server);
    if (!msg)
        return;
    zframe_t *routing = zmsg_pop(msg);
    zframe_t *payload = zmsg_pop(msg);
    char requester[5];
    const char *key = payload ? zframe_meta(payload, "User-Id") : NULL;
    char error[512];
    envelope_header_t header = {0};
    envelope_t *envelope = NULL;
    if (!payload || zmsg_size(msg) != 0)
        log_peer_warning("dropped a message that is not one frame");
    else if (!zap_supplier(node->zap, key, requester))
        /* The key was removed after the connection was admitted. */
        log_peer_warning("dropped a message from a key no longer allowed "
                         "key=%s",
                         key ? key : "");
    else if (!(envelope =
                   envelope_decode(zframe_data(payload), zframe_size(payload),
                                   NULL, error, sizeof error))) {
        log_peer_warning("undecodable message requester=%s: %s", requester,
                         error);
        s_reply_error(node, routing, &header, STATUS_INVALID, NULL, error);
    } else if (envelope_read_header(envelope, &header, error, sizeof error)) {
        log_peer_warning("bad header requester=%s: %s", requester, error);
        s_reply_error(node, routing, &header, STATUS_INVALID, NULL, error);
    } else if (llabs(header.ts - clock_now_ms()) > node->config.max_skew_ms) {
        char ts[CLOCK_ISO_SIZE];
        snprintf(error, sizeof error,
                 "request ts %s is more than %" PRId64
                 " s from this node's clock; check the requester's clock",
                 clock_format_iso(header.ts, ts),
                 node->config.max_skew_ms / 1000);
        log_peer_warning("stale request requester=%s: %s", requester, error);
        s_reply_error(node, routing, &header, STATUS_STALE, NULL, error);
    } else if (strcmp(header.type, "receipt.ack") == 0)
        s_handle_ack(node, routing, requester, envelope, &header);
    else if (strcmp(header.type, PENDING_TYPE) == 0)
        recovery_answer(node, routing, requester, envelope, &header);
    else if (strcmp(header.type, CHECKPOINT_TYPE) == 0)
        checkpoint_exchange_receive(node, routing, requester, envelope,
                                    &header);
    else
        s_handle_meter_request(node, routing, requester, envelope, &header);
    envelope_destroy(&envelope);
    zframe_destroy(&routing);
    zframe_destroy(&payload);
    zmsg_destroy(&msg);
}

/* Packs the "served" map of a ranged reply: what was asked for, what was
 * served and why. */
static void s_pack_served(msgpack_packer *pk, const served_t *served)
{
    const permission_t *permission = &served->permission;
    mp_pack_cstr(pk, "served");
    msgpack_pack_map(pk, 4);
    mp_pack_cstr(pk, "requested");
    msgpack_pack_array(pk, 2);
    msgpack_pack_int64(pk, served->request.from_ms);
    msgpack_pack_int64(pk, served->request.to_ms);
    mp_pack_cstr(pk, "ranges");
    msgpack_pack_array(pk, permission->range_count);
    for (size_t i = 0; i < permission->range_count; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_int64(pk, permission->ranges[i].from_ms);
        msgpack_pack_int64(pk, permission->ranges[i].to_ms);
    }
    mp_pack_kv_bool(pk, "clipped", permission->clipped);
    mp_pack_kv_str(pk, "note", permission->message);
}

/* Packs the full ok reply, with the agent's result bytes copied verbatim. */
static zframe_t *s_ok_reply(const served_t *served, const agent_reply_t *reply,
                            const uint8_t *body, size_t body_size,
                            const uint8_t sig[SIGN_SIGNATURE_SIZE])
{
    message_t message;
    message_init(&message);
    bool ranged = served->request.ranged;
    envelope_pack_header(&message.pk, ranged ? 9 : 8,
                         served->request.header.type, served->request.header.id,
                         clock_now_ms());
    mp_pack_kv_str(&message.pk, "status", STATUS_OK);
    mp_pack_kv_u64(&message.pk, "units", reply->units);
    mp_pack_cstr(&message.pk, "result");
    msgpack_sbuffer_write(&message.buffer, (const char *)reply->result,
                          reply->result_size);
    if (ranged)
        s_pack_served(&message.pk, served);
    mp_pack_cstr(&message.pk, "receipt");
    msgpack_pack_map(&message.pk, 2);
    mp_pack_kv_bin(&message.pk, "body", body, body_size);
    mp_pack_kv_bin(&message.pk, "sig", sig, SIGN_SIGNATURE_SIZE);
    return message_to_frame(&message);
}

/* Fills the receipt of a served request, linked to the chain head. */
static int s_build_receipt(node_t *node, const served_t *served, uint64_t units,
                           receipt_t *receipt, char *error, size_t error_size)
{
    memset(receipt, 0, sizeof *receipt);
    memcpy(receipt->request_id, served->request.header.id, 16);
    snprintf(receipt->serving, sizeof receipt->serving, "%s",
             node->config.mpid);
    snprintf(receipt->requesting, sizeof receipt->requesting, "%s",
             served->requester);
    snprintf(receipt->mpxn, sizeof receipt->mpxn, "%s", served->request.mpxn);
    snprintf(receipt->type, sizeof receipt->type, "%s",
             served->request.header.type);
    for (size_t i = 0;
         served->request.ranged && i < served->permission.range_count &&
         i < RECEIPT_MAX_RANGES;
         i++) {
        receipt->ranges[i].from_ms = served->permission.ranges[i].from_ms;
        receipt->ranges[i].to_ms = served->permission.ranges[i].to_ms;
        receipt->range_count++;
    }
    receipt->units = units;
    snprintf(receipt->tariff_id, sizeof receipt->tariff_id, "%s",
             tariff_id(served->tariff));
    memcpy(receipt->tariff_hash, tariff_hash(served->tariff), HASH_SIZE);
    receipt->served_at = clock_now_ms();
    if (tariff_price(served->tariff, receipt->type, receipt->served_at, units,
                     &receipt->price)) {
        snprintf(error, error_size, "cannot price %" PRIu64 " units of %s",
                 units, receipt->type);
        return -1;
    }
    if (ledger_chain_head(node->ledger, receipt->serving, receipt->requesting,
                          &receipt->seq, receipt->prev_hash, error, error_size))
        return -1;
    receipt->seq++;
    return 0;
}

/* Stores the signed directory answer that allowed the request beside its
 * receipt. An answer too large to keep is logged, and the receipt is still
 * stored. */
static int s_store_evidence(node_t *node, const served_t *served,
                            const receipt_t *receipt, char *error,
                            size_t error_size)
{
    const dir_supply_point_t *point = &served->supply_point;
    if (point->evidence_size == 0) {
        log_warning("no directory answer kept as evidence mpxn=%s seq=%" PRIu64,
                    receipt->mpxn, receipt->seq);
        return 0;
    }
    return ledger_store_evidence(node->ledger, receipt->serving,
                                 receipt->requesting, receipt->seq,
                                 point->evidence, point->evidence_size,
                                 point->evidence_signature, error, error_size);
}

/* Builds, signs and stores the receipt, then queues the reply for after the
 * commit. Returns -1 when nothing was stored. */
static int s_receipt_and_reply(node_t *node, const served_t *served,
                               const agent_reply_t *reply)
{
    char error[512];
    receipt_t receipt;
    uint8_t *body = NULL;
    size_t body_size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    int rc = -1;
    zframe_t *frame = NULL;
    if (node_batch_begin(node) ||
        s_build_receipt(node, served, reply->units, &receipt, error,
                        sizeof error) ||
        receipt_encode(&receipt, &body, &body_size))
        goto cleanup;
    receipt_sign(node->signer, body, body_size, sig);
    frame = s_ok_reply(served, reply, body, body_size, sig);
    if (ledger_append_receipt(node->ledger, &receipt, body, body_size, sig,
                              error, sizeof error) ||
        ledger_store_reply(node->ledger, receipt.serving, receipt.requesting,
                           receipt.request_id, zframe_data(frame),
                           zframe_size(frame), error, sizeof error) ||
        s_store_evidence(node, served, &receipt, error, sizeof error))
        goto cleanup;
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){zframe_dup(served->routing)});
    zmsg_append(msg, &frame);
    node_send_after_commit(node, node->server, &msg);
    log_debug("served request=%s requester=%s mpxn=%s seq=%" PRIu64
              " units=%" PRIu64 " price=%" PRIu64,
              receipt.type, receipt.requesting, receipt.mpxn, receipt.seq,
              receipt.units, receipt.price);
    rc = 0;
cleanup:
    if (rc)
        log_error("receipt not stored requester=%s mpxn=%s: %s",
                  served->requester, served->request.mpxn, error);
    zframe_destroy(&frame);
    free(body);
    return rc;
}

void server_handle_agent(node_t *node)
{
    agent_reply_t *reply = NULL;
    if (agent_pool_receive(node->agents, &reply) != 1)
        return;
    char hex_cid[33];
    hex_encode(reply->cid, 16, hex_cid);
    served_t *served = zhashx_lookup(node->served, hex_cid);
    if (!served) {
        log_debug("late agent reply dropped cid=%s", hex_cid);
        agent_reply_destroy(&reply);
        return;
    }
    if (strcmp(reply->status, STATUS_OK) != 0) {
        /* A failed request never produces a receipt. */
        s_reply_error(node, served->routing, &served->request.header,
                      reply->status, NULL, reply->error);
    } else if (s_receipt_and_reply(node, served, reply))
        s_reply_error(node, served->routing, &served->request.header,
                      STATUS_UNAVAILABLE, "ledger",
                      "the serving node could not store the receipt; "
                      "retry with the same request id");
    zhashx_delete(node->served, hex_cid);
    agent_reply_destroy(&reply);
}

void server_expire(node_t *node, int64_t now_ms)
{
    uint8_t cid[16];
    while (agent_pool_next_expired(node->agents, now_ms, cid)) {
        char hex_cid[33];
        hex_encode(cid, 16, hex_cid);
        served_t *served = zhashx_lookup(node->served, hex_cid);
        if (!served)
            continue;
        log_warning("agent timed out request=%s mpxn=%s head_end=%s",
                    served->request.header.type, served->request.mpxn,
                    served->head_end);
        char sentence[200];
        snprintf(sentence, sizeof sentence,
                 "the %s agent did not answer within %d ms; retry with the "
                 "same request id",
                 served->head_end, node->config.agent_timeout_ms);
        s_reply_error(node, served->routing, &served->request.header,
                      STATUS_TIMEOUT, NULL, sentence);
        zhashx_delete(node->served, hex_cid);
    }
}

void server_init(node_t *node)
{
    node->served = zhashx_new();
    zhashx_set_destructor(node->served, s_served_destroy);
}
