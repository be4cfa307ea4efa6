/* Usage receipts: canonical encoding, decoding, signatures and chain links. */
#include "receipt.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "clock.h"
#include "envelope.h"
#include "hex.h"

#define RECEIPT_ITEMS 14

_Static_assert(RECEIPT_MAX_BODY <= CANON_MAX_BODY,
               "a receipt body must fit the canonical buffer");

bool receipt_mpid_valid(const char *text)
{
    if (strlen(text) != 4)
        return false;
    for (size_t i = 0; i < 4; i++)
        if (!isupper((unsigned char)text[i]) &&
            !isdigit((unsigned char)text[i]))
            return false;
    return true;
}

static void s_pack_str(msgpack_packer *packer, const char *text)
{
    size_t length = strlen(text);
    msgpack_pack_str(packer, length);
    msgpack_pack_str_body(packer, text, length);
}

static void s_pack_bin(msgpack_packer *packer, const uint8_t *data, size_t size)
{
    msgpack_pack_bin(packer, size);
    msgpack_pack_bin_body(packer, data, size);
}

/* msgpack-c writes a non-negative int64 in the unsigned forms, so the
 * bytes match those of Python's msgpack for the same value. */
static void s_pack_ranges(msgpack_packer *packer, const receipt_t *receipt)
{
    msgpack_pack_array(packer, receipt->range_count);
    for (size_t i = 0; i < receipt->range_count; i++) {
        msgpack_pack_array(packer, 2);
        msgpack_pack_int64(packer, receipt->ranges[i].from_ms);
        msgpack_pack_int64(packer, receipt->ranges[i].to_ms);
    }
}

/* Packs the body into out, which the field sizes keep within bounds. */
static void s_encode_into(const receipt_t *receipt, canon_buffer_t *out)
{
    assert(receipt->range_count <= RECEIPT_MAX_RANGES);
    assert(strnlen(receipt->serving, sizeof receipt->serving) <
           sizeof receipt->serving);
    assert(strnlen(receipt->requesting, sizeof receipt->requesting) <
           sizeof receipt->requesting);
    assert(strnlen(receipt->mpxn, sizeof receipt->mpxn) < sizeof receipt->mpxn);
    assert(strnlen(receipt->type, sizeof receipt->type) < sizeof receipt->type);
    assert(strnlen(receipt->tariff_id, sizeof receipt->tariff_id) <
           sizeof receipt->tariff_id);

    out->size = 0;
    out->overflow = false;
    msgpack_packer packer;
    msgpack_packer_init(&packer, out, canon_buffer_write);

    msgpack_pack_array(&packer, RECEIPT_ITEMS);
    msgpack_pack_uint64(&packer, RECEIPT_VERSION);
    s_pack_bin(&packer, receipt->request_id, RECEIPT_ID_SIZE);
    s_pack_str(&packer, receipt->serving);
    s_pack_str(&packer, receipt->requesting);
    s_pack_str(&packer, receipt->mpxn);
    s_pack_str(&packer, receipt->type);
    s_pack_ranges(&packer, receipt);
    msgpack_pack_uint64(&packer, receipt->units);
    s_pack_str(&packer, receipt->tariff_id);
    s_pack_bin(&packer, receipt->tariff_hash, HASH_SIZE);
    msgpack_pack_uint64(&packer, receipt->price);
    msgpack_pack_int64(&packer, receipt->served_at);
    msgpack_pack_uint64(&packer, receipt->seq);
    s_pack_bin(&packer, receipt->prev_hash, HASH_SIZE);
    assert(!out->overflow);
}

int receipt_encode(const receipt_t *receipt, uint8_t **body, size_t *size)
{
    assert(receipt);
    assert(body);
    assert(size);
    canon_buffer_t buffer;
    s_encode_into(receipt, &buffer);
    return canon_buffer_copy(&buffer, body, size);
}

static int s_read_header(canon_reader_t *reader)
{
    return canon_read_record_header(reader, "receipt", "receipt", RECEIPT_ITEMS,
                                    RECEIPT_VERSION);
}

static int s_read_range(canon_reader_t *reader, receipt_range_t *range)
{
    size_t count;
    if (canon_read_array(reader, "ranges", &count) != 0)
        return -1;
    if (count != 2) {
        snprintf(reader->error, reader->error_size,
                 "each item of field 'ranges' must be [from_ms, to_ms], "
                 "got %zu items",
                 count);
        return -1;
    }
    if (canon_read_int(reader, "ranges", &range->from_ms) != 0 ||
        canon_read_int(reader, "ranges", &range->to_ms) != 0)
        return -1;
    return 0;
}

static int s_read_ranges(canon_reader_t *reader, receipt_t *out)
{
    size_t count;
    if (canon_read_array(reader, "ranges", &count) != 0)
        return -1;
    if (count > RECEIPT_MAX_RANGES) {
        snprintf(reader->error, reader->error_size,
                 "field 'ranges' has %zu ranges, more than %d", count,
                 RECEIPT_MAX_RANGES);
        return -1;
    }
    out->range_count = count;
    for (size_t i = 0; i < count; i++)
        if (s_read_range(reader, &out->ranges[i]) != 0)
            return -1;
    return 0;
}

/* Reads the fields in body order and stops at the first error. */
static int s_read_fields(canon_reader_t *reader, receipt_t *out)
{
    if (s_read_header(reader) != 0 ||
        canon_read_bin(reader, "request_id", out->request_id,
                       RECEIPT_ID_SIZE) != 0 ||
        canon_read_str(reader, "serving", out->serving, sizeof out->serving) !=
            0 ||
        canon_read_str(reader, "requesting", out->requesting,
                       sizeof out->requesting) != 0 ||
        canon_read_str(reader, "mpxn", out->mpxn, sizeof out->mpxn) != 0 ||
        canon_read_str(reader, "type", out->type, sizeof out->type) != 0 ||
        s_read_ranges(reader, out) != 0 ||
        canon_read_uint(reader, "units", &out->units) != 0 ||
        canon_read_str(reader, "tariff_id", out->tariff_id,
                       sizeof out->tariff_id) != 0 ||
        canon_read_bin(reader, "tariff_hash", out->tariff_hash, HASH_SIZE) !=
            0 ||
        canon_read_uint(reader, "price", &out->price) != 0 ||
        canon_read_int(reader, "served_at", &out->served_at) != 0 ||
        canon_read_uint(reader, "seq", &out->seq) != 0 ||
        canon_read_bin(reader, "prev_hash", out->prev_hash, HASH_SIZE) != 0)
        return -1;
    return canon_read_end(reader);
}

/* Returns true when every byte of text is in the allowed set. */
static bool s_text_in(const char *text, const char *allowed_punctuation,
                      bool allow_upper)
{
    for (const char *c = text; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        bool fits = islower(ch) || isdigit(ch) ||
                    (allow_upper && isupper(ch)) ||
                    (ch != '\0' && strchr(allowed_punctuation, ch));
        if (!fits)
            return false;
    }
    return true;
}

static bool s_is_zero(const uint8_t *data, size_t size)
{
    uint8_t any = 0;
    for (size_t i = 0; i < size; i++)
        any |= data[i];
    return any == 0;
}

static int s_check_text_fields(const receipt_t *r, char *error,
                               size_t error_size)
{
    if (!receipt_mpid_valid(r->serving)) {
        snprintf(error, error_size,
                 "receipt serving MPID '%s' must be 4 upper-case letters or "
                 "digits",
                 r->serving);
        return -1;
    }
    if (!receipt_mpid_valid(r->requesting)) {
        snprintf(error, error_size,
                 "receipt requesting MPID '%s' must be 4 upper-case letters "
                 "or digits",
                 r->requesting);
        return -1;
    }
    if (r->mpxn[0] == '\0' ||
        strspn(r->mpxn, "0123456789") != strlen(r->mpxn)) {
        snprintf(error, error_size, "receipt mpxn '%s' must be digits only",
                 r->mpxn);
        return -1;
    }
    if (r->type[0] == '\0' || !s_text_in(r->type, "._-", false)) {
        snprintf(error, error_size,
                 "receipt type '%s' must be lower-case letters, digits, '.', "
                 "'_' or '-'",
                 r->type);
        return -1;
    }
    if (!s_text_in(r->tariff_id, "._-", true)) {
        snprintf(error, error_size,
                 "receipt tariff_id '%s' must be letters, digits, '.', '_' "
                 "or '-'",
                 r->tariff_id);
        return -1;
    }
    return 0;
}

static int s_check_numbers(const receipt_t *r, char *error, size_t error_size)
{
    for (size_t i = 0; i < r->range_count; i++) {
        if (r->ranges[i].from_ms >= r->ranges[i].to_ms) {
            snprintf(error, error_size,
                     "receipt range %zu is empty: from %lld is not before "
                     "to %lld",
                     i + 1, (long long)r->ranges[i].from_ms,
                     (long long)r->ranges[i].to_ms);
            return -1;
        }
    }
    if (r->seq == 0) {
        snprintf(error, error_size, "receipt seq must start at 1, got 0");
        return -1;
    }
    bool zero_prev = s_is_zero(r->prev_hash, HASH_SIZE);
    if (r->seq == 1 && !zero_prev) {
        snprintf(error, error_size,
                 "receipt seq 1 must have a zero prev_hash, as the first "
                 "receipt of its chain");
        return -1;
    }
    if (r->seq != 1 && zero_prev) {
        snprintf(error, error_size,
                 "receipt seq %llu has a zero prev_hash, which only seq 1 "
                 "may have",
                 (unsigned long long)r->seq);
        return -1;
    }
    return 0;
}

/* Encodes the decoded receipt again and compares, which rejects every
 * integer, str or bin written wider than its shortest form and so keeps
 * one byte form per receipt. */
static int s_check_canonical(const receipt_t *decoded, const uint8_t *body,
                             size_t size, char *error, size_t error_size)
{
    canon_buffer_t again;
    s_encode_into(decoded, &again);
    return canon_check_same(&again, body, size, "receipt", error, error_size);
}

int receipt_decode(const uint8_t *body, size_t size, receipt_t *out,
                   char *error, size_t error_size)
{
    assert(body || size == 0);
    assert(out);
    char reason[200] = "";
    memset(out, 0, sizeof *out);
    if (size > RECEIPT_MAX_BODY) {
        snprintf(error, error_size, "receipt body is %zu bytes, more than %d",
                 size, RECEIPT_MAX_BODY);
        return -1;
    }
    canon_reader_t reader;
    canon_reader_init(&reader, body, size, reason, sizeof reason);
    if (s_read_fields(&reader, out) != 0) {
        snprintf(error, error_size, "invalid receipt: %s", reason);
        return -1;
    }
    if (s_check_text_fields(out, error, error_size) != 0 ||
        s_check_numbers(out, error, error_size) != 0 ||
        s_check_canonical(out, body, size, error, error_size) != 0)
        return -1;
    return 0;
}

void receipt_sign(const signer_t *signer, const uint8_t *body, size_t size,
                  uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    signer_sign(signer, SIGN_DOMAIN_RECEIPT, body, size, signature);
}

bool receipt_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE],
                    const uint8_t *body, size_t size,
                    const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    return sign_verify(public_key, SIGN_DOMAIN_RECEIPT, body, size, signature);
}

void receipt_hash(const uint8_t *body, size_t size, uint8_t hash[HASH_SIZE])
{
    hash_blake2b(body, size, hash);
}

int receipt_check_link(const receipt_t *receipt, uint64_t head_seq,
                       const uint8_t head_hash[HASH_SIZE], char *error,
                       size_t error_size)
{
    char expected[2 * HASH_SIZE + 1];
    char got[2 * HASH_SIZE + 1];
    if (receipt->seq != head_seq + 1) {
        snprintf(error, error_size,
                 "receipt %s->%s has seq %llu, expected %llu after the "
                 "chain head",
                 receipt->serving, receipt->requesting,
                 (unsigned long long)receipt->seq,
                 (unsigned long long)(head_seq + 1));
        return -1;
    }
    if (memcmp(receipt->prev_hash, head_hash, HASH_SIZE) != 0) {
        snprintf(error, error_size,
                 "receipt %s->%s seq %llu has prev_hash %s, but the hash of "
                 "the chain head is %s",
                 receipt->serving, receipt->requesting,
                 (unsigned long long)receipt->seq,
                 hex_encode(receipt->prev_hash, HASH_SIZE, got),
                 hex_encode(head_hash, HASH_SIZE, expected));
        return -1;
    }
    return 0;
}

static int s_tariff_price(const receipt_t *receipt, const tariff_t *tariff,
                          uint64_t *price, char *error, size_t error_size)
{
    char when[CLOCK_ISO_SIZE];
    if (tariff_price(tariff, receipt->type, receipt->served_at, receipt->units,
                     price) != 0) {
        snprintf(error, error_size,
                 "tariff %s has no price for %s of %llu units at %s, or the "
                 "price overflows",
                 tariff_id(tariff), receipt->type,
                 (unsigned long long)receipt->units,
                 clock_format_iso(receipt->served_at, when));
        return -1;
    }
    return 0;
}

int receipt_apply_tariff(receipt_t *receipt, const tariff_t *tariff,
                         char *error, size_t error_size)
{
    assert(receipt);
    assert(tariff);
    uint64_t price;
    if (s_tariff_price(receipt, tariff, &price, error, error_size) != 0)
        return -1;
    snprintf(receipt->tariff_id, sizeof receipt->tariff_id, "%s",
             tariff_id(tariff));
    memcpy(receipt->tariff_hash, tariff_hash(tariff), HASH_SIZE);
    receipt->price = price;
    return 0;
}

static int s_check_tariff_identity(const receipt_t *receipt,
                                   const tariff_t *tariff, char *error,
                                   size_t error_size)
{
    char got[2 * HASH_SIZE + 1];
    char expected[2 * HASH_SIZE + 1];
    if (strcmp(receipt->serving, tariff_serving(tariff)) != 0 ||
        strcmp(receipt->requesting, tariff_requesting(tariff)) != 0) {
        snprintf(error, error_size,
                 "receipt is for %s->%s but tariff %s is for %s->%s",
                 receipt->serving, receipt->requesting, tariff_id(tariff),
                 tariff_serving(tariff), tariff_requesting(tariff));
        return -1;
    }
    if (strcmp(receipt->tariff_id, tariff_id(tariff)) != 0 ||
        memcmp(receipt->tariff_hash, tariff_hash(tariff), HASH_SIZE) != 0) {
        snprintf(error, error_size,
                 "receipt was priced from tariff '%s' with hash %s, but the "
                 "local tariff is '%s' with hash %s; the two suppliers hold "
                 "different tariff files",
                 receipt->tariff_id,
                 hex_encode(receipt->tariff_hash, HASH_SIZE, got),
                 tariff_id(tariff),
                 hex_encode(tariff_hash(tariff), HASH_SIZE, expected));
        return -1;
    }
    return 0;
}

int receipt_check_tariff(const receipt_t *receipt, const tariff_t *tariff,
                         char *error, size_t error_size)
{
    assert(receipt);
    assert(tariff);
    uint64_t expected;
    if (s_check_tariff_identity(receipt, tariff, error, error_size) != 0 ||
        s_tariff_price(receipt, tariff, &expected, error, error_size) != 0)
        return -1;
    if (receipt->price != expected) {
        snprintf(error, error_size,
                 "receipt seq %llu charges %llu micro-units for %s of %llu "
                 "units, but tariff %s gives %llu",
                 (unsigned long long)receipt->seq,
                 (unsigned long long)receipt->price, receipt->type,
                 (unsigned long long)receipt->units, tariff_id(tariff),
                 (unsigned long long)expected);
        return -1;
    }
    return 0;
}

void receipt_pack_wire(msgpack_packer *packer, const uint8_t *body, size_t size,
                       const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    msgpack_pack_map(packer, 2);
    mp_pack_kv_bin(packer, "body", body, size);
    mp_pack_kv_bin(packer, "sig", signature, SIGN_SIGNATURE_SIZE);
}

int receipt_unpack_wire(const msgpack_object *map, const uint8_t **body,
                        size_t *size, uint8_t signature[SIGN_SIGNATURE_SIZE],
                        char *error, size_t error_size)
{
    if (map->type != MSGPACK_OBJECT_MAP) {
        snprintf(error, error_size,
                 "receipt must be a map with keys 'body' "
                 "and 'sig'");
        return -1;
    }
    if (mp_get_bin_ref(map, "body", body, size, error, error_size) != 0)
        return -1;
    return mp_get_bin(map, "sig", signature, SIGN_SIGNATURE_SIZE, error,
                      error_size);
}
