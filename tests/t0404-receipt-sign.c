/* Tests receipt signatures, chain links, the wire form and pricing a
 * receipt from a tariff. */
#include <stdlib.h>
#include <unistd.h>

#include "envelope.h"
#include "receipt.h"
#include "tap.h"

static receipt_t s_receipt(uint64_t seq, const uint8_t prev[HASH_SIZE])
{
    receipt_t r;
    memset(&r, 0, sizeof r);
    memset(r.request_id, (int)seq, sizeof r.request_id);
    strcpy(r.serving, "ALFA");
    strcpy(r.requesting, "BRVO");
    strcpy(r.mpxn, "2000012345672");
    strcpy(r.type, "read.registers");
    r.units = 1;
    r.served_at = 1370700000000 + (int64_t)seq;
    r.seq = seq;
    memcpy(r.prev_hash, prev, HASH_SIZE);
    return r;
}

static void test_signatures(signer_t *alfa, signer_t *other)
{
    static const uint8_t zero[HASH_SIZE];
    receipt_t r = s_receipt(1, zero);
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (receipt_encode(&r, &body, &size) != 0)
        bail_out("receipt_encode failed");
    receipt_sign(alfa, body, size, sig);
    ok(receipt_verify(signer_public_key(alfa), body, size, sig),
       "signature verifies");
    ok(!receipt_verify(signer_public_key(other), body, size, sig),
       "another key does not verify");

    size_t tampered = 0;
    for (size_t i = 0; i < size; i++) {
        body[i] ^= 0x01;
        if (receipt_verify(signer_public_key(alfa), body, size, sig))
            tampered++;
        body[i] ^= 0x01;
    }
    is_int(tampered, 0, "no single flipped body bit verifies");
    sig[10] ^= 0x80;
    ok(!receipt_verify(signer_public_key(alfa), body, size, sig),
       "flipped signature bit fails");
    sig[10] ^= 0x80;

    uint8_t plain[SIGN_SIGNATURE_SIZE];
    signer_sign(alfa, SIGN_DOMAIN_ACK, body, size, plain);
    ok(!receipt_verify(signer_public_key(alfa), body, size, plain),
       "ack-domain signature fails as a receipt");
    signer_sign(alfa, SIGN_DOMAIN_RECEIPT, body, size, plain);
    is_mem(plain, sig, sizeof sig, "receipt_sign uses the receipt domain");
    free(body);
}

static void test_chain_links(void)
{
    static const uint8_t zero[HASH_SIZE];
    char error[512];
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t hash1[HASH_SIZE];
    receipt_t first = s_receipt(1, zero);
    ok(receipt_check_link(&first, 0, zero, error, sizeof error) == 0,
       "seq 1 starts an empty chain");
    if (receipt_encode(&first, &body, &size) != 0)
        bail_out("receipt_encode failed");
    receipt_hash(body, size, hash1);
    free(body);

    receipt_t second = s_receipt(2, hash1);
    ok(receipt_check_link(&second, 1, hash1, error, sizeof error) == 0,
       "seq 2 links to seq 1");
    is_int(receipt_check_link(&second, 0, zero, error, sizeof error), -1,
           "seq 2 on an empty chain rejected");
    ok(strstr(error, "expected 1") != NULL, "error gives expected seq: %s",
       error);
    is_int(receipt_check_link(&second, 2, hash1, error, sizeof error), -1,
           "seq 2 after seq 2 rejected");
    uint8_t other[HASH_SIZE];
    memset(other, 0x5a, sizeof other);
    is_int(receipt_check_link(&second, 1, other, error, sizeof error), -1,
           "wrong prev_hash rejected");
    ok(strstr(error, "5a5a5a") != NULL, "error shows the head hash: %s", error);
}

static void test_wire(signer_t *alfa)
{
    static const uint8_t zero[HASH_SIZE];
    receipt_t r = s_receipt(1, zero);
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    char error[256];
    if (receipt_encode(&r, &body, &size) != 0)
        bail_out("receipt_encode failed");
    receipt_sign(alfa, body, size, sig);

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    receipt_pack_wire(&pk, body, size, sig);
    envelope_t *envelope =
        envelope_decode(buffer.data, buffer.size, NULL, error, sizeof error);
    ok(envelope != NULL, "wire form is a map %s", envelope ? "" : error);
    const uint8_t *got_body = NULL;
    size_t got_size = 0;
    uint8_t got_sig[SIGN_SIGNATURE_SIZE];
    ok(envelope &&
           receipt_unpack_wire(envelope_root(envelope), &got_body, &got_size,
                               got_sig, error, sizeof error) == 0,
       "wire form unpacks");
    ok(got_size == size && got_body && memcmp(got_body, body, size) == 0,
       "body survives the wire");
    is_mem(got_sig, sig, sizeof sig, "signature survives the wire");
    envelope_destroy(&envelope);
    msgpack_sbuffer_destroy(&buffer);

    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    mp_pack_kv_bin(&pk, "body", body, size);
    envelope =
        envelope_decode(buffer.data, buffer.size, NULL, error, sizeof error);
    is_int(envelope
               ? receipt_unpack_wire(envelope_root(envelope), &got_body,
                                     &got_size, got_sig, error, sizeof error)
               : 0,
           -1, "wire form without sig rejected");
    ok(strstr(error, "sig") != NULL, "error names sig: %s", error);
    envelope_destroy(&envelope);
    msgpack_sbuffer_destroy(&buffer);
    free(body);
}

static tariff_t *s_tariff(const char *dir, const char *text)
{
    char path[512];
    char error[512];
    snprintf(path, sizeof path, "%s/t.tariff", dir);
    FILE *file = fopen(path, "w");
    if (!file)
        bail_out("cannot write %s", path);
    fputs(text, file);
    fclose(file);
    tariff_t *tariff = tariff_load(path, error, sizeof error);
    if (!tariff)
        bail_out("tariff_load: %s", error);
    return tariff;
}

static void test_tariff_pricing(const char *dir)
{
    static const uint8_t zero[HASH_SIZE];
    char error[512];
    tariff_t *tariff =
        s_tariff(dir, "tariff-id = ALFA-BRVO-2013\nserving = ALFA\n"
                      "requesting = BRVO\ncurrency = GBP\n"
                      "price read.registers 2013-01-01 5000 0\n"
                      "price read.profile 2013-01-01 2000 150\n");
    receipt_t r = s_receipt(1, zero);
    ok(receipt_apply_tariff(&r, tariff, error, sizeof error) == 0,
       "tariff prices a registers read %s", error);
    is_int(r.price, 5000, "registers price");
    is_str(r.tariff_id, "ALFA-BRVO-2013", "tariff id copied");
    is_mem(r.tariff_hash, tariff_hash(tariff), HASH_SIZE, "tariff hash copied");
    ok(receipt_check_tariff(&r, tariff, error, sizeof error) == 0,
       "priced receipt passes the check %s", error);

    receipt_t wrong = r;
    wrong.price = 5001;
    is_int(receipt_check_tariff(&wrong, tariff, error, sizeof error), -1,
           "overcharge detected");
    ok(strstr(error, "5001") && strstr(error, "5000"),
       "error gives both prices: %s", error);
    wrong = r;
    wrong.tariff_hash[0] ^= 1;
    is_int(receipt_check_tariff(&wrong, tariff, error, sizeof error), -1,
           "different tariff file detected");
    wrong = r;
    strcpy(wrong.requesting, "CHRL");
    is_int(receipt_check_tariff(&wrong, tariff, error, sizeof error), -1,
           "tariff of another pair detected");
    wrong = r;
    strcpy(wrong.type, "read.events");
    is_int(receipt_apply_tariff(&wrong, tariff, error, sizeof error), -1,
           "unpriced type rejected");
    ok(strstr(error, "read.events") != NULL, "error names the type: %s", error);
    tariff_destroy(&tariff);
}

int main(void)
{
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    signer_t *alfa = signer_new(seed);
    signer_t *other = signer_new(NULL);
    char dir[] = "/tmp/sdx-t0404-XXXXXX";
    if (!alfa || !other || !mkdtemp(dir))
        bail_out("set-up failed");
    test_signatures(alfa, other);
    test_chain_links();
    test_wire(alfa);
    test_tariff_pricing(dir);
    signer_destroy(&alfa);
    signer_destroy(&other);
    char path[512];
    snprintf(path, sizeof path, "%s/t.tariff", dir);
    unlink(path);
    rmdir(dir);
    return tap_done();
}
