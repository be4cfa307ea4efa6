/* Tests acknowledgement encoding, strict decoding and signatures. */
#include <stdlib.h>

#include "ack.h"
#include "receipt.h"
#include "tap.h"

static ack_t s_ack(void)
{
    ack_t ack;
    memset(&ack, 0, sizeof ack);
    memset(ack.receipt_hash, 0x42, sizeof ack.receipt_hash);
    strcpy(ack.serving, "ALFA");
    strcpy(ack.requesting, "BRVO");
    ack.seq = 70000;
    ack.acked_at = 1370700000123;
    return ack;
}

/* Encodes the fixed ack into a buffer the caller frees. */
static uint8_t *s_encode(const ack_t *ack, size_t *size)
{
    uint8_t *body = NULL;
    if (ack_encode(ack, &body, size) != 0)
        bail_out("ack_encode failed");
    return body;
}

static void test_roundtrip(void)
{
    char error[256] = "";
    ack_t ack = s_ack();
    ack_t out;
    size_t size;
    uint8_t *body = s_encode(&ack, &size);
    ok(ack_decode(body, size, &out, error, sizeof error) == 0,
       "ack round-trips %s", error);
    is_mem(out.receipt_hash, ack.receipt_hash, HASH_SIZE, "receipt hash");
    is_str(out.serving, "ALFA", "serving");
    is_str(out.requesting, "BRVO", "requesting");
    is_int(out.seq, 70000, "seq");
    is_int(out.acked_at, 1370700000123, "acked_at");
    is_int(body[0], 0x96, "array of 6 items");
    free(body);

    ack.acked_at = -5;
    body = s_encode(&ack, &size);
    ok(ack_decode(body, size, &out, error, sizeof error) == 0 &&
           out.acked_at == -5,
       "negative acked_at round-trips");
    free(body);
}

static void test_rejections(void)
{
    char error[256];
    ack_t ack = s_ack();
    ack_t out;
    size_t size;
    uint8_t *body = s_encode(&ack, &size);

    size_t accepted = 0;
    for (size_t cut = 0; cut < size; cut++)
        if (ack_decode(body, cut, &out, error, sizeof error) == 0)
            accepted++;
    is_int(accepted, 0, "no truncation decodes");

    /* The seq 70000 is a uint32 (0xce) just before the acked_at. */
    size_t seq_at = size - 9 - 5;
    is_int(body[seq_at], 0xce, "seq is packed as uint32");
    uint8_t *wide = malloc(size + 4);
    memcpy(wide, body, seq_at);
    wide[seq_at] = 0xcf;
    memset(wide + seq_at + 1, 0, 4);
    memcpy(wide + seq_at + 5, body + seq_at + 1, size - seq_at - 1);
    is_int(ack_decode(wide, size + 4, &out, error, sizeof error), -1,
           "seq as uint64 rejected");
    ok(strstr(error, "canonical") != NULL, "reason says canonical: %s", error);
    free(wide);

    body[1] = 0x02;
    is_int(ack_decode(body, size, &out, error, sizeof error), -1,
           "version 2 rejected");
    ok(strstr(error, "version") != NULL, "error names version: %s", error);
    body[1] = 0x01;
    body[2] = 0xa0 | 0x0; /* receipt_hash as an empty str */
    is_int(ack_decode(body, size, &out, error, sizeof error), -1,
           "str receipt_hash rejected");
    ok(strstr(error, "receipt_hash") != NULL, "error names receipt_hash: %s",
       error);
    free(body);

    ack = s_ack();
    ack.seq = 0;
    body = s_encode(&ack, &size);
    is_int(ack_decode(body, size, &out, error, sizeof error), -1,
           "seq 0 rejected");
    free(body);
    ack = s_ack();
    strcpy(ack.requesting, "b");
    body = s_encode(&ack, &size);
    is_int(ack_decode(body, size, &out, error, sizeof error), -1,
           "bad requesting MPID rejected");
    free(body);
}

static void test_signatures(void)
{
    uint8_t seed[32];
    memset(seed, 9, sizeof seed);
    signer_t *brvo = signer_new(seed);
    signer_t *other = signer_new(NULL);
    ack_t ack = s_ack();
    size_t size;
    uint8_t *body = s_encode(&ack, &size);
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    ack_sign(brvo, body, size, sig);
    ok(ack_verify(signer_public_key(brvo), body, size, sig),
       "ack signature verifies");
    ok(!ack_verify(signer_public_key(other), body, size, sig),
       "another key fails");
    ok(!receipt_verify(signer_public_key(brvo), body, size, sig),
       "ack signature fails as a receipt");
    body[size - 1] ^= 1;
    ok(!ack_verify(signer_public_key(brvo), body, size, sig),
       "tampered ack fails");
    free(body);
    signer_destroy(&brvo);
    signer_destroy(&other);
}

static void test_longest_body(void)
{
    ack_t ack = s_ack();
    ack.seq = UINT64_MAX;
    ack.acked_at = INT64_MIN;
    size_t size;
    uint8_t *body = s_encode(&ack, &size);
    is_int(size, 64, "longest ack body is 64 bytes");
    ok(size <= ACK_MAX_BODY, "within ACK_MAX_BODY");
    free(body);
}

int main(void)
{
    test_roundtrip();
    test_rejections();
    test_signatures();
    test_longest_body();
    return tap_done();
}
