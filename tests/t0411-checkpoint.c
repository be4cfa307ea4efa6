/* Tests chain checkpoint encoding against pinned bytes, strict decoding,
 * signatures and the chain.checkpoint message. */
#include <stdlib.h>

#include "checkpoint.h"
#include "envelope.h"
#include "hex.h"
#include "message.h"
#include "tap.h"

/* The body of the checkpoint below, as docs/protocol.md shows it: the
 * receipt of its worked example is the head at seq 300. */
static const char *s_golden_body =
    "9701a4414c4641a44252564fcd012cc420888df93e133f62ca1b6ec41dfbaafdabdbd3"
    "4251599382e8cc40a81a2cd3dfb9cd012bcf0000013f24171560";
/* Its signature by the key with seed 01 02 ... 20. */
static const char *s_golden_sig =
    "5c151cdb7467a6cf7d6ff40cd37aba44e6cc6b595f583ef6a5f7a5568a589bc7"
    "cd542ab2b83d477a93b39e6555b53cfdf975ff6fb5dbbb70711d72ae780b900d";

static checkpoint_t s_checkpoint(void)
{
    checkpoint_t c;
    memset(&c, 0, sizeof c);
    strcpy(c.serving, "ALFA");
    strcpy(c.requesting, "BRVO");
    c.seq = 300;
    if (hex_decode("888df93e133f62ca1b6ec41dfbaafdabdbd34251599382e8cc40a81a2c"
                   "d3dfb9",
                   c.head_hash, HASH_SIZE) != 0)
        bail_out("bad head hash hex");
    c.acked_seq = 299;
    c.issued_at = 1370700060000;
    return c;
}

static uint8_t *s_encode(const checkpoint_t *c, size_t *size)
{
    uint8_t *body = NULL;
    if (checkpoint_encode(c, &body, size) != 0)
        bail_out("checkpoint_encode failed");
    return body;
}

static signer_t *s_golden_signer(void)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i + 1);
    signer_t *signer = signer_new(seed);
    if (!signer)
        bail_out("signer_new failed");
    return signer;
}

static void test_golden(void)
{
    checkpoint_t c = s_checkpoint();
    size_t size;
    uint8_t *body = s_encode(&c, &size);
    char hex[2 * CHECKPOINT_MAX_BODY + 1];
    is_int(size, 61, "body is 61 bytes");
    is_str(hex_encode(body, size, hex), s_golden_body, "body bytes pinned");

    signer_t *signer = s_golden_signer();
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    char sig_hex[2 * SIGN_SIGNATURE_SIZE + 1];
    checkpoint_sign(signer, body, size, sig);
    is_str(hex_encode(sig, sizeof sig, sig_hex), s_golden_sig,
           "signature pinned");
    ok(checkpoint_verify(signer_public_key(signer), body, size, sig),
       "signature verifies");
    sig[0] ^= 1;
    ok(!checkpoint_verify(signer_public_key(signer), body, size, sig),
       "a changed signature does not verify");
    sig[0] ^= 1;
    body[size - 1] ^= 1;
    ok(!checkpoint_verify(signer_public_key(signer), body, size, sig),
       "a changed body does not verify");
    body[size - 1] ^= 1;

    /* The same key's receipt signature over the same bytes differs: the
     * domain prefix keeps the two apart. */
    uint8_t receipt_sig[SIGN_SIGNATURE_SIZE];
    signer_sign(signer, SIGN_DOMAIN_RECEIPT, body, size, receipt_sig);
    ok(!checkpoint_verify(signer_public_key(signer), body, size, receipt_sig),
       "a receipt-domain signature is not a checkpoint signature");
    signer_destroy(&signer);
    free(body);
}

static void test_roundtrip(void)
{
    char error[256] = "";
    checkpoint_t c = s_checkpoint();
    checkpoint_t out;
    size_t size;
    uint8_t *body = s_encode(&c, &size);
    ok(checkpoint_decode(body, size, &out, error, sizeof error) == 0,
       "checkpoint round-trips %s", error);
    is_str(out.serving, "ALFA", "serving");
    is_str(out.requesting, "BRVO", "requesting");
    is_int(out.seq, 300, "seq");
    is_mem(out.head_hash, c.head_hash, HASH_SIZE, "head hash");
    is_int(out.acked_seq, 299, "acked_seq");
    is_int(out.issued_at, 1370700060000, "issued_at");
    free(body);

    c.acked_seq = 0;
    c.seq = UINT64_MAX;
    body = s_encode(&c, &size);
    ok(checkpoint_decode(body, size, &out, error, sizeof error) == 0,
       "acked_seq 0 and the largest seq decode %s", error);
    is_int(out.acked_seq, 0, "acked_seq 0 kept");
    ok(out.seq == UINT64_MAX, "largest seq kept");
    free(body);
}

/* Encodes c and expects decode to fail with word in the error. */
static void s_expect_rejected(const checkpoint_t *c, const char *name,
                              const char *word)
{
    char error[256] = "";
    checkpoint_t out;
    size_t size;
    uint8_t *body = s_encode(c, &size);
    is_int(checkpoint_decode(body, size, &out, error, sizeof error), -1,
           "%s rejected", name);
    ok(strstr(error, word) != NULL, "%s: error has '%s': %s", name, word,
       error);
    free(body);
}

static void test_field_rules(void)
{
    checkpoint_t c = s_checkpoint();
    c.seq = 0;
    c.acked_seq = 0;
    s_expect_rejected(&c, "seq 0", "seq must be 1 or more");

    c = s_checkpoint();
    c.acked_seq = 301;
    s_expect_rejected(&c, "acked_seq above seq", "above its seq");

    c = s_checkpoint();
    strcpy(c.serving, "alfa");
    s_expect_rejected(&c, "lower-case MPID", "upper-case");

    c = s_checkpoint();
    strcpy(c.requesting, "BRV");
    s_expect_rejected(&c, "3-letter MPID", "upper-case");
}

static void test_malformed(void)
{
    char error[256];
    checkpoint_t c = s_checkpoint();
    checkpoint_t out;
    size_t size;
    uint8_t *body = s_encode(&c, &size);

    size_t accepted = 0;
    for (size_t cut = 0; cut < size; cut++)
        if (checkpoint_decode(body, cut, &out, error, sizeof error) == 0)
            accepted++;
    is_int(accepted, 0, "no truncation decodes");

    uint8_t *longer = malloc(size + 1);
    memcpy(longer, body, size);
    longer[size] = 0x00;
    is_int(checkpoint_decode(longer, size + 1, &out, error, sizeof error), -1,
           "a trailing byte is rejected");
    free(longer);

    /* seq 300 is a uint16 (cd 01 2c) at byte 12; as uint32 it is the same
     * number in a wider form. */
    is_int(body[12], 0xcd, "seq is packed as uint16");
    uint8_t *wide = malloc(size + 2);
    memcpy(wide, body, 12);
    wide[12] = 0xce;
    wide[13] = 0;
    wide[14] = 0;
    memcpy(wide + 15, body + 13, size - 13);
    is_int(checkpoint_decode(wide, size + 2, &out, error, sizeof error), -1,
           "seq as uint32 rejected");
    ok(strstr(error, "canonical") != NULL, "reason says canonical: %s", error);
    free(wide);

    body[0] = 0x96;
    is_int(checkpoint_decode(body, size, &out, error, sizeof error), -1,
           "an array of 6 is rejected");
    ok(strstr(error, "7 items") != NULL, "reason names the 7 items: %s", error);
    body[0] = 0x97;
    body[1] = 0x02;
    is_int(checkpoint_decode(body, size, &out, error, sizeof error), -1,
           "version 2 is rejected");
    ok(strstr(error, "version") != NULL, "reason names the version: %s", error);
    free(body);

    uint8_t huge[CHECKPOINT_MAX_BODY + 1] = {0x97};
    is_int(checkpoint_decode(huge, sizeof huge, &out, error, sizeof error), -1,
           "an oversized body is rejected");
}

static void test_message(void)
{
    char error[256] = "";
    checkpoint_t c = s_checkpoint();
    size_t size;
    uint8_t *body = s_encode(&c, &size);
    uint8_t sig[SIGN_SIGNATURE_SIZE], id[ENVELOPE_ID_SIZE];
    memset(sig, 0x5a, sizeof sig);
    memset(id, 7, sizeof id);
    zframe_t *frame =
        checkpoint_pack_message(id, 1370700060001, body, size, sig);
    envelope_t *envelope = envelope_decode(
        zframe_data(frame), zframe_size(frame), NULL, error, sizeof error);
    ok(envelope != NULL, "the message decodes %s", error);
    envelope_header_t header;
    ok(envelope_read_header(envelope, &header, error, sizeof error) == 0,
       "its header reads %s", error);
    is_str(header.type, CHECKPOINT_TYPE, "type is chain.checkpoint");
    is_mem(header.id, id, sizeof id, "id kept");
    is_int(header.ts, 1370700060001, "ts kept");
    const uint8_t *got = NULL;
    size_t got_size = 0;
    uint8_t got_sig[SIGN_SIGNATURE_SIZE];
    ok(checkpoint_unpack_message(envelope, &got, &got_size, got_sig, error,
                                 sizeof error) == 0,
       "the checkpoint unpacks %s", error);
    is_int(got_size, size, "body size kept");
    is_mem(got, body, size, "body bytes kept");
    is_mem(got_sig, sig, sizeof sig, "signature kept");
    envelope_destroy(&envelope);
    zframe_destroy(&frame);

    /* A message without the checkpoint map names the key. */
    zframe_t *bare = message_error(CHECKPOINT_TYPE, id, STATUS_OK, NULL, "");
    envelope = envelope_decode(zframe_data(bare), zframe_size(bare), NULL,
                               error, sizeof error);
    is_int(checkpoint_unpack_message(envelope, &got, &got_size, got_sig, error,
                                     sizeof error),
           -1, "a message without 'checkpoint' is rejected");
    ok(strstr(error, "'checkpoint'") != NULL, "error names the key: %s", error);
    envelope_destroy(&envelope);
    zframe_destroy(&bare);
    free(body);
}

int main(void)
{
    test_golden();
    test_roundtrip();
    test_field_rules();
    test_malformed();
    test_message();
    return tap_done();
}
