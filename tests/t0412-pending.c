/* Tests the receipt.pending request and reply codec: round trips, the
 * optional keys, and the bounds a reply must keep. */
#include <msgpack.h>
#include <stdlib.h>

#include "message.h"
#include "pending.h"
#include "receipt.h"
#include "tap.h"

static envelope_t *s_decode(zframe_t *frame)
{
    char error[256] = "";
    envelope_t *envelope = envelope_decode(
        zframe_data(frame), zframe_size(frame), NULL, error, sizeof error);
    if (!envelope)
        bail_out("cannot decode a packed message: %s", error);
    return envelope;
}

static void test_request(void)
{
    char error[256] = "";
    uint8_t id[ENVELOPE_ID_SIZE];
    memset(id, 3, sizeof id);
    pending_request_t request = {.has_after = true, .after = 41, .limit = 9};
    zframe_t *frame = pending_pack_request(id, 1370700000000, &request);
    envelope_t *envelope = s_decode(frame);
    envelope_header_t header;
    ok(envelope_read_header(envelope, &header, error, sizeof error) == 0,
       "request header reads %s", error);
    is_str(header.type, "receipt.pending", "type");
    pending_request_t out;
    ok(pending_parse_request(envelope, &out, error, sizeof error) == 0,
       "request parses %s", error);
    ok(out.has_after, "after is present");
    is_int(out.after, 41, "after kept");
    is_int(out.limit, 9, "limit kept");
    envelope_destroy(&envelope);
    zframe_destroy(&frame);

    request = (pending_request_t){.limit = PENDING_MAX_RECEIPTS};
    frame = pending_pack_request(id, 1370700000000, &request);
    envelope = s_decode(frame);
    ok(pending_parse_request(envelope, &out, error, sizeof error) == 0,
       "request without after parses %s", error);
    ok(!out.has_after, "after is absent");
    envelope_destroy(&envelope);
    zframe_destroy(&frame);

    /* Only the envelope: every key has its default. */
    frame = message_error(PENDING_TYPE, id, STATUS_OK, NULL, "");
    envelope = s_decode(frame);
    ok(pending_parse_request(envelope, &out, error, sizeof error) == 0,
       "a bare request parses %s", error);
    is_int(out.limit, PENDING_MAX_RECEIPTS, "limit defaults to the maximum");
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

/* Packs a request map with one extra key and expects it rejected with
 * word in the error. */
static void s_expect_bad_request(const char *key, int64_t value,
                                 const char *word)
{
    char error[256] = "";
    uint8_t id[ENVELOPE_ID_SIZE] = {0};
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, 5, PENDING_TYPE, id, 1);
    mp_pack_kv_i64(&message.pk, key, value);
    zframe_t *frame = message_to_frame(&message);
    envelope_t *envelope = s_decode(frame);
    pending_request_t out;
    is_int(pending_parse_request(envelope, &out, error, sizeof error), -1,
           "%s %lld rejected", key, (long long)value);
    ok(strstr(error, word) != NULL, "%s %lld: error has '%s': %s", key,
       (long long)value, word, error);
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

static void test_bad_requests(void)
{
    s_expect_bad_request("after", -1, "'after'");
    s_expect_bad_request("limit", 0, "from 1 to 64");
    s_expect_bad_request("limit", PENDING_MAX_RECEIPTS + 1, "from 1 to 64");
    s_expect_bad_request("limit", -3, "'limit'");
}

static void test_reply(void)
{
    char error[256] = "";
    uint8_t bodies[3][40], sigs[3][SIGN_SIGNATURE_SIZE];
    pending_reply_t reply = {.head = 12, .more = true, .count = 3};
    for (size_t i = 0; i < 3; i++) {
        memset(bodies[i], (int)(0x10 + i), sizeof bodies[i]);
        memset(sigs[i], (int)(0x20 + i), sizeof sigs[i]);
        reply.items[i] = (pending_item_t){bodies[i], 10 + 10 * i, sigs[i]};
    }
    envelope_header_t header = {.version = 1, .type = PENDING_TYPE};
    memset(header.id, 9, sizeof header.id);
    zframe_t *frame = pending_pack_reply(&header, 1370700000001, &reply);
    envelope_t *envelope = s_decode(frame);
    envelope_header_t got_header;
    ok(envelope_read_header(envelope, &got_header, error, sizeof error) == 0,
       "reply header reads %s", error);
    is_mem(got_header.id, header.id, ENVELOPE_ID_SIZE, "reply carries the id");
    pending_reply_t out;
    ok(pending_parse_reply(envelope, &out, error, sizeof error) == 0,
       "reply parses %s", error);
    is_int(out.head, 12, "head kept");
    ok(out.more, "more kept");
    is_int(out.count, 3, "three receipts");
    for (size_t i = 0; i < 3; i++) {
        is_int(out.items[i].body_size, 10 + 10 * i, "receipt %zu body size", i);
        is_mem(out.items[i].body, bodies[i], out.items[i].body_size,
               "receipt %zu body bytes", i);
        is_mem(out.items[i].sig, sigs[i], SIGN_SIGNATURE_SIZE,
               "receipt %zu signature", i);
    }
    envelope_destroy(&envelope);
    zframe_destroy(&frame);

    reply = (pending_reply_t){0};
    frame = pending_pack_reply(&header, 1, &reply);
    envelope = s_decode(frame);
    ok(pending_parse_reply(envelope, &out, error, sizeof error) == 0,
       "an empty reply parses %s", error);
    is_int(out.count, 0, "no receipts");
    ok(!out.more, "nothing more");
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

/* Packs a reply whose receipts array has count items, each packed by
 * pack_item, and expects pending_parse_reply to reject it with word in the
 * error. */
static void s_expect_bad_reply(const char *name, size_t count,
                               void (*pack_item)(msgpack_packer *),
                               const char *word)
{
    char error[256] = "";
    uint8_t id[ENVELOPE_ID_SIZE] = {0};
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, 8, PENDING_TYPE, id, 1);
    mp_pack_kv_str(&message.pk, "status", "ok");
    mp_pack_kv_u64(&message.pk, "head", 1);
    mp_pack_kv_bool(&message.pk, "more", false);
    mp_pack_cstr(&message.pk, "receipts");
    msgpack_pack_array(&message.pk, count);
    for (size_t i = 0; i < count; i++)
        pack_item(&message.pk);
    zframe_t *frame = message_to_frame(&message);
    envelope_t *envelope = s_decode(frame);
    pending_reply_t *out = malloc(sizeof *out);
    is_int(pending_parse_reply(envelope, out, error, sizeof error), -1,
           "%s rejected", name);
    ok(strstr(error, word) != NULL, "%s: error has '%s': %s", name, word,
       error);
    free(out);
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

static void s_pack_good(msgpack_packer *pk)
{
    static const uint8_t body[8], sig[SIGN_SIGNATURE_SIZE];
    receipt_pack_wire(pk, body, sizeof body, sig);
}

static void s_pack_short_sig(msgpack_packer *pk)
{
    static const uint8_t body[8], sig[SIGN_SIGNATURE_SIZE];
    msgpack_pack_map(pk, 2);
    mp_pack_kv_bin(pk, "body", body, sizeof body);
    mp_pack_kv_bin(pk, "sig", sig, 63);
}

static void s_pack_long_body(msgpack_packer *pk)
{
    static const uint8_t body[RECEIPT_MAX_BODY + 1], sig[SIGN_SIGNATURE_SIZE];
    receipt_pack_wire(pk, body, sizeof body, sig);
}

static void s_pack_no_body(msgpack_packer *pk)
{
    static const uint8_t sig[SIGN_SIGNATURE_SIZE];
    msgpack_pack_map(pk, 1);
    mp_pack_kv_bin(pk, "sig", sig, sizeof sig);
}

static void s_pack_number(msgpack_packer *pk)
{
    msgpack_pack_int(pk, 7);
}

static void test_bad_replies(void)
{
    s_expect_bad_reply("65 receipts", PENDING_MAX_RECEIPTS + 1, s_pack_good,
                       "more than 64");
    s_expect_bad_reply("63-byte signature", 1, s_pack_short_sig, "exactly 64");
    s_expect_bad_reply("1025-byte body", 2, s_pack_long_body, "at most 1024");
    s_expect_bad_reply("receipt without a body", 1, s_pack_no_body,
                       "receipts[0]");
    s_expect_bad_reply("receipt that is a number", 1, s_pack_number,
                       "not a map");

    char error[256] = "";
    uint8_t id[ENVELOPE_ID_SIZE] = {0};
    zframe_t *frame = message_error(PENDING_TYPE, id, STATUS_OK, NULL, "");
    envelope_t *envelope = s_decode(frame);
    pending_reply_t *out = malloc(sizeof *out);
    is_int(pending_parse_reply(envelope, out, error, sizeof error), -1,
           "a reply without head is rejected");
    ok(strstr(error, "'head'") != NULL, "error names head: %s", error);
    free(out);
    envelope_destroy(&envelope);
    zframe_destroy(&frame);
}

int main(void)
{
    test_request();
    test_bad_requests();
    test_reply();
    test_bad_replies();
    return tap_done();
}
