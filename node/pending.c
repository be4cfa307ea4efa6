/* The receipt.pending request and reply. */
#include "pending.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "message.h"
#include "receipt.h"

static bool s_present(const msgpack_object *map, const char *key)
{
    const msgpack_object *value = mp_map_get(map, key);
    return value && value->type != MSGPACK_OBJECT_NIL;
}

zframe_t *pending_pack_request(const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                               const pending_request_t *request)
{
    assert(request->limit >= 1);
    assert(request->limit <= PENDING_MAX_RECEIPTS);
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, request->has_after ? 6 : 5, PENDING_TYPE,
                         id, ts);
    if (request->has_after)
        mp_pack_kv_u64(&message.pk, "after", request->after);
    mp_pack_kv_u64(&message.pk, "limit", request->limit);
    return message_to_frame(&message);
}

int pending_parse_request(const envelope_t *envelope, pending_request_t *out,
                          char *error, size_t error_size)
{
    const msgpack_object *root = envelope_root(envelope);
    uint64_t limit = PENDING_MAX_RECEIPTS;
    memset(out, 0, sizeof *out);
    if (s_present(root, "after")) {
        if (mp_get_u64(root, "after", &out->after, error, error_size))
            return -1;
        out->has_after = true;
    }
    if (s_present(root, "limit") &&
        mp_get_u64(root, "limit", &limit, error, error_size))
        return -1;
    if (limit < 1 || limit > PENDING_MAX_RECEIPTS) {
        snprintf(error, error_size,
                 "key 'limit' must be from 1 to %d, got %llu",
                 PENDING_MAX_RECEIPTS, (unsigned long long)limit);
        return -1;
    }
    out->limit = (size_t)limit;
    return 0;
}

zframe_t *pending_pack_reply(const envelope_header_t *header, int64_t ts,
                             const pending_reply_t *reply)
{
    assert(reply->count <= PENDING_MAX_RECEIPTS);
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, 8, header->type, header->id, ts);
    mp_pack_kv_str(&message.pk, "status", STATUS_OK);
    mp_pack_kv_u64(&message.pk, "head", reply->head);
    mp_pack_cstr(&message.pk, "receipts");
    msgpack_pack_array(&message.pk, reply->count);
    for (size_t i = 0; i < reply->count; i++)
        receipt_pack_wire(&message.pk, reply->items[i].body,
                          reply->items[i].body_size, reply->items[i].sig);
    mp_pack_kv_bool(&message.pk, "more", reply->more);
    return message_to_frame(&message);
}

/* Reads one {"body", "sig"} map of the receipts array. */
static int s_parse_item(const msgpack_object *object, size_t index,
                        pending_item_t *item, char *error, size_t error_size)
{
    char reason[256];
    const uint8_t *sig = NULL;
    size_t sig_size = 0;
    if (object->type != MSGPACK_OBJECT_MAP ||
        mp_get_bin_ref(object, "body", &item->body, &item->body_size, reason,
                       sizeof reason) ||
        mp_get_bin_ref(object, "sig", &sig, &sig_size, reason, sizeof reason)) {
        if (object->type != MSGPACK_OBJECT_MAP)
            snprintf(reason, sizeof reason, "it is not a map");
        snprintf(error, error_size, "receipts[%zu] is unreadable: %s", index,
                 reason);
        return -1;
    }
    if (sig_size != SIGN_SIGNATURE_SIZE || item->body_size > RECEIPT_MAX_BODY) {
        snprintf(error, error_size,
                 "receipts[%zu] has a %zu-byte body and a %zu-byte sig; "
                 "expected at most %d and exactly %d",
                 index, item->body_size, sig_size, RECEIPT_MAX_BODY,
                 SIGN_SIGNATURE_SIZE);
        return -1;
    }
    item->sig = sig;
    return 0;
}

int pending_parse_reply(const envelope_t *envelope, pending_reply_t *out,
                        char *error, size_t error_size)
{
    const msgpack_object *root = envelope_root(envelope);
    const msgpack_object *receipts;
    memset(out, 0, sizeof *out);
    if (mp_get_u64(root, "head", &out->head, error, error_size) ||
        mp_get_bool(root, "more", &out->more, error, error_size) ||
        mp_get_container(root, "receipts", MSGPACK_OBJECT_ARRAY, &receipts,
                         error, error_size))
        return -1;
    if (receipts->via.array.size > PENDING_MAX_RECEIPTS) {
        snprintf(error, error_size, "key 'receipts' has %u items, more than %d",
                 receipts->via.array.size, PENDING_MAX_RECEIPTS);
        return -1;
    }
    for (size_t i = 0; i < receipts->via.array.size; i++)
        if (s_parse_item(&receipts->via.array.ptr[i], i, &out->items[i], error,
                         error_size))
            return -1;
    out->count = receipts->via.array.size;
    return 0;
}
