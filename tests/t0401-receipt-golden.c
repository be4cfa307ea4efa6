/* Tests receipt and acknowledgement encodings and signatures against the
 * committed golden files in tests/golden/, byte for byte.
 *
 * Run with --write-golden once to create the files after a deliberate
 * change of the wire format; the test itself only compares. The fixed
 * values are listed in tests/golden/README.md.
 */
#include <errno.h>
#include <stdlib.h>

#include "ack.h"
#include "hex.h"
#include "receipt.h"
#include "tap.h"

static const char *s_golden_dir(void)
{
    const char *dir = getenv("SDX_GOLDEN_DIR");
    return dir ? dir : "tests/golden";
}

static void s_fill(uint8_t *data, size_t size, uint8_t first)
{
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(first + i);
}

static receipt_t s_golden_receipt(void)
{
    receipt_t r = {0};
    s_fill(r.request_id, sizeof r.request_id, 0x00);
    strcpy(r.serving, "ALFA");
    strcpy(r.requesting, "BRVO");
    strcpy(r.mpxn, "2000012345672");
    strcpy(r.type, "read.profile");
    r.range_count = 2;
    r.ranges[0] = (receipt_range_t){1370044800000, 1370131200000};
    r.ranges[1] = (receipt_range_t){1370217600000, 1370649600000};
    r.units = 336;
    strcpy(r.tariff_id, "ALFA-BRVO-2013");
    s_fill(r.tariff_hash, sizeof r.tariff_hash, 0xa0);
    r.price = 52400;
    r.served_at = 1370700000000;
    r.seq = 300;
    s_fill(r.prev_hash, sizeof r.prev_hash, 0x40);
    return r;
}

/* Reads a golden file of hex text into data; returns its byte count or
 * -1. */
static long s_read_golden(const char *name, uint8_t *data, size_t capacity)
{
    char path[512];
    char text[4096];
    snprintf(path, sizeof path, "%s/%s", s_golden_dir(), name);
    FILE *file = fopen(path, "r");
    if (!file) {
        diag("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == ' '))
        length--;
    text[length] = '\0';
    if (length % 2 != 0 || length / 2 > capacity ||
        hex_decode(text, data, length / 2) != 0) {
        diag("%s is not hex of at most %zu bytes", path, capacity);
        return -1;
    }
    return (long)(length / 2);
}

static int s_write_golden(const char *name, const uint8_t *data, size_t size)
{
    char path[512];
    char text[4096];
    snprintf(path, sizeof path, "%s/%s", s_golden_dir(), name);
    FILE *file = fopen(path, "w");
    if (!file)
        return -1;
    fprintf(file, "%s\n", hex_encode(data, size, text));
    return fclose(file);
}

/* Compares bytes with a golden file, printing both in hex on a mismatch. */
static void s_check_golden(const char *name, const uint8_t *data, size_t size)
{
    uint8_t golden[2048];
    char text[4096];
    long golden_size = s_read_golden(name, golden, sizeof golden);
    bool same = golden_size == (long)size && memcmp(golden, data, size) == 0;
    ok(same, "%s matches the golden bytes", name);
    if (!same) {
        diag("got      %s", hex_encode(data, size, text));
        if (golden_size >= 0)
            diag("expected %s", hex_encode(golden, (size_t)golden_size, text));
    }
}

typedef struct {
    uint8_t receipt_body[RECEIPT_MAX_BODY];
    size_t receipt_size;
    uint8_t receipt_sig[SIGN_SIGNATURE_SIZE];
    uint8_t receipt_hash[HASH_SIZE];
    uint8_t ack_body[ACK_MAX_BODY];
    size_t ack_size;
    uint8_t ack_sig[SIGN_SIGNATURE_SIZE];
} outputs_t;

static void s_make_outputs(outputs_t *out)
{
    uint8_t seed[32];
    receipt_t receipt = s_golden_receipt();
    uint8_t *body = NULL;
    size_t size = 0;
    if (receipt_encode(&receipt, &body, &size) != 0 || size > RECEIPT_MAX_BODY)
        bail_out("receipt_encode failed");
    memcpy(out->receipt_body, body, size);
    out->receipt_size = size;
    free(body);

    s_fill(seed, sizeof seed, 0x01);
    signer_t *alfa = signer_new(seed);
    s_fill(seed, sizeof seed, 0x21);
    signer_t *brvo = signer_new(seed);
    if (!alfa || !brvo)
        bail_out("signer_new failed");
    receipt_sign(alfa, out->receipt_body, out->receipt_size, out->receipt_sig);
    receipt_hash(out->receipt_body, out->receipt_size, out->receipt_hash);

    ack_t ack = {.seq = 300, .acked_at = 1370700000123};
    memcpy(ack.receipt_hash, out->receipt_hash, HASH_SIZE);
    strcpy(ack.serving, "ALFA");
    strcpy(ack.requesting, "BRVO");
    if (ack_encode(&ack, &body, &size) != 0 || size > ACK_MAX_BODY)
        bail_out("ack_encode failed");
    memcpy(out->ack_body, body, size);
    out->ack_size = size;
    free(body);
    ack_sign(brvo, out->ack_body, out->ack_size, out->ack_sig);
    signer_destroy(&alfa);
    signer_destroy(&brvo);
}

static int s_write_all(const outputs_t *o)
{
    if (s_write_golden("receipt-body.hex", o->receipt_body, o->receipt_size) !=
            0 ||
        s_write_golden("receipt-sig.hex", o->receipt_sig, 64) != 0 ||
        s_write_golden("receipt-hash.hex", o->receipt_hash, 32) != 0 ||
        s_write_golden("ack-body.hex", o->ack_body, o->ack_size) != 0 ||
        s_write_golden("ack-sig.hex", o->ack_sig, 64) != 0) {
        fprintf(stderr, "cannot write golden files to %s\n", s_golden_dir());
        return 1;
    }
    printf("wrote golden files to %s\n", s_golden_dir());
    return 0;
}

static void test_golden_bytes(const outputs_t *o)
{
    s_check_golden("receipt-body.hex", o->receipt_body, o->receipt_size);
    s_check_golden("receipt-sig.hex", o->receipt_sig, SIGN_SIGNATURE_SIZE);
    s_check_golden("receipt-hash.hex", o->receipt_hash, HASH_SIZE);
    s_check_golden("ack-body.hex", o->ack_body, o->ack_size);
    s_check_golden("ack-sig.hex", o->ack_sig, SIGN_SIGNATURE_SIZE);
}

/* The golden body decodes back to the fixed receipt, field by field. */
static void test_golden_decode(void)
{
    uint8_t body[RECEIPT_MAX_BODY];
    char error[256] = "";
    receipt_t decoded;
    long size = s_read_golden("receipt-body.hex", body, sizeof body);
    receipt_t expected = s_golden_receipt();
    ok(size > 0 && receipt_decode(body, (size_t)size, &decoded, error,
                                  sizeof error) == 0,
       "golden receipt decodes %s", error);
    if (size <= 0)
        return;
    is_str(decoded.serving, expected.serving, "serving");
    is_str(decoded.requesting, expected.requesting, "requesting");
    is_str(decoded.mpxn, expected.mpxn, "mpxn");
    is_str(decoded.type, expected.type, "type");
    is_int(decoded.range_count, 2, "two ranges");
    is_int(decoded.ranges[1].to_ms, expected.ranges[1].to_ms, "range end");
    is_int(decoded.units, 336, "units");
    is_int(decoded.price, 52400, "price");
    is_int(decoded.served_at, expected.served_at, "served_at");
    is_int(decoded.seq, 300, "seq");
    is_mem(decoded.prev_hash, expected.prev_hash, HASH_SIZE, "prev_hash");
    is_mem(decoded.request_id, expected.request_id, RECEIPT_ID_SIZE,
           "request_id");
    is_str(decoded.tariff_id, expected.tariff_id, "tariff_id");
    is_mem(decoded.tariff_hash, expected.tariff_hash, HASH_SIZE, "tariff_hash");
}

/* The golden signatures verify under the public keys of the fixed seeds. */
static void test_golden_signatures(const outputs_t *o)
{
    uint8_t seed[32];
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    uint8_t body[RECEIPT_MAX_BODY];
    s_fill(seed, sizeof seed, 0x01);
    signer_t *alfa = signer_new(seed);
    long size = s_read_golden("receipt-body.hex", body, sizeof body);
    ok(s_read_golden("receipt-sig.hex", sig, sizeof sig) == 64,
       "golden signature is 64 bytes");
    ok(size > 0 &&
           receipt_verify(signer_public_key(alfa), body, (size_t)size, sig),
       "golden receipt signature verifies");
    ok(!ack_verify(signer_public_key(alfa), o->receipt_body, o->receipt_size,
                   o->receipt_sig),
       "receipt signature does not verify as an acknowledgement");
    signer_destroy(&alfa);
}

int main(int argc, char **argv)
{
    outputs_t outputs;
    s_make_outputs(&outputs);
    if (argc == 2 && strcmp(argv[1], "--write-golden") == 0)
        return s_write_all(&outputs);
    test_golden_bytes(&outputs);
    test_golden_decode();
    test_golden_signatures(&outputs);
    return tap_done();
}
