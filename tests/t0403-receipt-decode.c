/* Tests that receipt_decode accepts only canonical, well-typed bodies and
 * names the field it rejects. */
#include <stdlib.h>

#include "receipt.h"
#include "tap.h"

enum {
    F_VERSION,
    F_REQUEST_ID,
    F_SERVING,
    F_REQUESTING,
    F_MPXN,
    F_TYPE,
    F_RANGES,
    F_UNITS,
    F_TARIFF_ID,
    F_TARIFF_HASH,
    F_PRICE,
    F_SERVED_AT,
    F_SEQ,
    F_PREV_HASH,
    F_COUNT
};

static receipt_t s_receipt(void)
{
    receipt_t r;
    memset(&r, 0, sizeof r);
    memset(r.request_id, 0x11, sizeof r.request_id);
    strcpy(r.serving, "ALFA");
    strcpy(r.requesting, "BRVO");
    strcpy(r.mpxn, "2000012345672");
    strcpy(r.type, "read.profile");
    r.range_count = 1;
    r.ranges[0] = (receipt_range_t){1370044800000, 1370649600000};
    r.units = 336;
    strcpy(r.tariff_id, "ALFA-BRVO-2013");
    memset(r.tariff_hash, 0x22, sizeof r.tariff_hash);
    r.price = 52400;
    r.served_at = 1370700000000;
    r.seq = 7;
    memset(r.prev_hash, 0x33, sizeof r.prev_hash);
    return r;
}

static void s_raw(msgpack_packer *pk, const char *bytes, size_t size)
{
    pk->callback(pk->data, bytes, size);
}

static void s_str(msgpack_packer *pk, const char *text)
{
    msgpack_pack_str(pk, strlen(text));
    msgpack_pack_str_body(pk, text, strlen(text));
}

static void s_bin(msgpack_packer *pk, const uint8_t *data, size_t size)
{
    msgpack_pack_bin(pk, size);
    msgpack_pack_bin_body(pk, data, size);
}

/* Packs field i of r as the canonical encoder would. */
static void s_pack_field(msgpack_packer *pk, const receipt_t *r, int i)
{
    switch (i) {
    case F_VERSION:
        msgpack_pack_uint64(pk, 1);
        break;
    case F_REQUEST_ID:
        s_bin(pk, r->request_id, 16);
        break;
    case F_SERVING:
        s_str(pk, r->serving);
        break;
    case F_REQUESTING:
        s_str(pk, r->requesting);
        break;
    case F_MPXN:
        s_str(pk, r->mpxn);
        break;
    case F_TYPE:
        s_str(pk, r->type);
        break;
    case F_RANGES:
        msgpack_pack_array(pk, r->range_count);
        for (size_t k = 0; k < r->range_count; k++) {
            msgpack_pack_array(pk, 2);
            msgpack_pack_int64(pk, r->ranges[k].from_ms);
            msgpack_pack_int64(pk, r->ranges[k].to_ms);
        }
        break;
    case F_UNITS:
        msgpack_pack_uint64(pk, r->units);
        break;
    case F_TARIFF_ID:
        s_str(pk, r->tariff_id);
        break;
    case F_TARIFF_HASH:
        s_bin(pk, r->tariff_hash, 32);
        break;
    case F_PRICE:
        msgpack_pack_uint64(pk, r->price);
        break;
    case F_SERVED_AT:
        msgpack_pack_int64(pk, r->served_at);
        break;
    case F_SEQ:
        msgpack_pack_uint64(pk, r->seq);
        break;
    case F_PREV_HASH:
        s_bin(pk, r->prev_hash, 32);
        break;
    }
}

typedef void (*variant_fn)(msgpack_packer *pk, const receipt_t *r);

/* Packs r with field replaced by variant (field -1: no replacement). */
static void s_build(const receipt_t *r, int field, variant_fn variant,
                    msgpack_sbuffer *out)
{
    msgpack_sbuffer_init(out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, F_COUNT);
    for (int i = 0; i < F_COUNT; i++) {
        if (i == field)
            variant(&pk, r);
        else
            s_pack_field(&pk, r, i);
    }
}

/* Decodes a variant body and returns decode's result; error gets the
 * reason. */
static int s_decode_variant(int field, variant_fn variant, char *error,
                            size_t error_size)
{
    receipt_t r = s_receipt();
    receipt_t out;
    msgpack_sbuffer body;
    s_build(&r, field, variant, &body);
    int rc = receipt_decode((const uint8_t *)body.data, body.size, &out, error,
                            error_size);
    msgpack_sbuffer_destroy(&body);
    return rc;
}

static void v_uint8_version(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_fix_uint8(pk, 1);
}
static void v_uint32_units(msgpack_packer *pk, const receipt_t *r)
{
    msgpack_pack_fix_uint32(pk, (uint32_t)r->units);
}
static void v_int32_price(msgpack_packer *pk, const receipt_t *r)
{
    msgpack_pack_fix_int32(pk, (int32_t)r->price);
}
static void v_uint64_seq(msgpack_packer *pk, const receipt_t *r)
{
    msgpack_pack_fix_uint64(pk, r->seq);
}
static void v_int64_served_at(msgpack_packer *pk, const receipt_t *r)
{
    msgpack_pack_fix_int64(pk, r->served_at);
}
static void v_str8_serving(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    s_raw(pk,
          "\xd9\x04"
          "ALFA",
          6);
}
static void v_bin16_request_id(msgpack_packer *pk, const receipt_t *r)
{
    s_raw(pk, "\xc5\x00\x10", 3);
    msgpack_pack_bin_body(pk, r->request_id, 16);
}
static void v_array16_ranges(msgpack_packer *pk, const receipt_t *r)
{
    s_raw(pk, "\xdc\x00\x01", 3);
    msgpack_pack_array(pk, 2);
    msgpack_pack_int64(pk, r->ranges[0].from_ms);
    msgpack_pack_int64(pk, r->ranges[0].to_ms);
}

static void test_non_canonical(void)
{
    static const struct {
        int field;
        variant_fn variant;
        const char *name;
    } cases[] = {
        {F_VERSION, v_uint8_version, "version 1 as uint8"},
        {F_UNITS, v_uint32_units, "units as uint32"},
        {F_PRICE, v_int32_price, "price as int32"},
        {F_SEQ, v_uint64_seq, "seq as uint64"},
        {F_SERVED_AT, v_int64_served_at, "positive served_at as int64"},
        {F_SERVING, v_str8_serving, "4-byte serving as str8"},
        {F_REQUEST_ID, v_bin16_request_id, "request_id as bin16"},
        {F_RANGES, v_array16_ranges, "ranges as array16"},
    };
    char error[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error[0] = '\0';
        is_int(s_decode_variant(cases[i].field, cases[i].variant, error,
                                sizeof error),
               -1, "non-canonical rejected: %s", cases[i].name);
        ok(strstr(error, "canonical") != NULL, "reason says canonical: %s",
           error);
    }
}

static void v_str_request_id(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    s_str(pk, "0123456789abcdef");
}
static void v_int_serving(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_int(pk, 4);
}
static void v_map_ranges(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_map(pk, 0);
}
static void v_triple_range(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 3);
    msgpack_pack_int(pk, 1);
    msgpack_pack_int(pk, 2);
    msgpack_pack_int(pk, 3);
}
static void v_str_in_range(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 2);
    s_str(pk, "2013-06-01");
    msgpack_pack_int(pk, 2);
}
static void v_negative_units(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_int(pk, -1);
}
static void v_float_served_at(msgpack_packer *pk, const receipt_t *r)
{
    msgpack_pack_double(pk, (double)r->served_at);
}
static void v_short_tariff_hash(msgpack_packer *pk, const receipt_t *r)
{
    s_bin(pk, r->tariff_hash, 31);
}
static void v_nil_prev_hash(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_nil(pk);
}
static void v_huge_price(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    s_str(pk, "52400");
}
static void v_version_2(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_uint64(pk, 2);
}

static void test_wrong_types(void)
{
    static const struct {
        int field;
        variant_fn variant;
        const char *word; /* expected in the error */
    } cases[] = {
        {F_REQUEST_ID, v_str_request_id, "request_id"},
        {F_SERVING, v_int_serving, "serving"},
        {F_RANGES, v_map_ranges, "ranges"},
        {F_RANGES, v_triple_range, "ranges"},
        {F_RANGES, v_str_in_range, "ranges"},
        {F_UNITS, v_negative_units, "units"},
        {F_SERVED_AT, v_float_served_at, "served_at"},
        {F_TARIFF_HASH, v_short_tariff_hash, "tariff_hash"},
        {F_PREV_HASH, v_nil_prev_hash, "prev_hash"},
        {F_PRICE, v_huge_price, "price"},
        {F_VERSION, v_version_2, "version"},
    };
    char error[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error[0] = '\0';
        is_int(s_decode_variant(cases[i].field, cases[i].variant, error,
                                sizeof error),
               -1, "wrong type rejected in %s", cases[i].word);
        ok(strstr(error, cases[i].word) != NULL, "error names %s: %s",
           cases[i].word, error);
    }
}

static void test_truncated_and_extra(void)
{
    receipt_t r = s_receipt();
    receipt_t out;
    uint8_t *body = NULL;
    size_t size = 0;
    char error[256];
    if (receipt_encode(&r, &body, &size) != 0)
        bail_out("receipt_encode failed");
    size_t accepted = 0;
    for (size_t cut = 0; cut < size; cut++)
        if (receipt_decode(body, cut, &out, error, sizeof error) == 0)
            accepted++;
    is_int(accepted, 0, "no truncation of %zu bytes decodes", size);
    ok(receipt_decode(body, size - 1, &out, error, sizeof error) == -1 &&
           strstr(error, "ends") != NULL,
       "truncation error says the body ends: %s", error);

    uint8_t *longer = malloc(size + 1);
    memcpy(longer, body, size);
    longer[size] = 0xc0;
    is_int(receipt_decode(longer, size + 1, &out, error, sizeof error), -1,
           "trailing byte rejected");
    diag("%s", error);
    longer[0] = 0x9d; /* 13 items */
    is_int(receipt_decode(longer, size, &out, error, sizeof error), -1,
           "array of 13 items rejected");
    ok(strstr(error, "14") != NULL, "error gives the item count: %s", error);
    free(longer);
    free(body);

    uint8_t big[RECEIPT_MAX_BODY + 1] = {0};
    is_int(receipt_decode(big, sizeof big, &out, error, sizeof error), -1,
           "oversized body rejected");
    uint8_t map[] = {0x80};
    is_int(receipt_decode(map, sizeof map, &out, error, sizeof error), -1,
           "a map is not a receipt");
    uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    is_int(receipt_decode(huge_array, sizeof huge_array, &out, error,
                          sizeof error),
           -1, "array32 header claiming 4 billion items rejected");
}

/* Encodes r, decodes it, and returns decode's result. */
static int s_roundtrip(const receipt_t *r, receipt_t *out, char *error,
                       size_t error_size)
{
    uint8_t *body = NULL;
    size_t size = 0;
    if (receipt_encode(r, &body, &size) != 0)
        bail_out("receipt_encode failed");
    int rc = receipt_decode(body, size, out, error, error_size);
    free(body);
    return rc;
}

static void test_field_rules(void)
{
    char error[256];
    receipt_t out;
    receipt_t r = s_receipt();
    strcpy(r.serving, "alfa");
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "lower-case serving MPID rejected");
    ok(strstr(error, "'alfa'") != NULL, "error names the value: %s", error);

    r = s_receipt();
    strcpy(r.requesting, "BRV");
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "3-character requesting MPID rejected");
    r = s_receipt();
    strcpy(r.mpxn, "20000123456X2");
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "mpxn with a letter rejected");
    r = s_receipt();
    strcpy(r.type, "Read.Profile");
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "type with capitals rejected");
    r = s_receipt();
    strcpy(r.tariff_id, "ALFA BRVO");
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "tariff_id with a space rejected");

    r = s_receipt();
    r.ranges[0].to_ms = r.ranges[0].from_ms;
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "empty range rejected");
    ok(strstr(error, "range 1") != NULL, "error names the range: %s", error);
    r = s_receipt();
    r.seq = 0;
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1, "seq 0 rejected");
    r = s_receipt();
    r.seq = 1;
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "seq 1 with a non-zero prev_hash rejected");
    r = s_receipt();
    memset(r.prev_hash, 0, sizeof r.prev_hash);
    is_int(s_roundtrip(&r, &out, error, sizeof error), -1,
           "seq 7 with a zero prev_hash rejected");
    r.seq = 1;
    is_int(s_roundtrip(&r, &out, error, sizeof error), 0,
           "seq 1 with a zero prev_hash accepted %s", error);
}

static void v_nine_ranges(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_array(pk, 9);
    for (int i = 0; i < 9; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_int64(pk, i * 10);
        msgpack_pack_int64(pk, i * 10 + 5);
    }
}
static void v_long_serving(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    s_str(pk, "ALFAB");
}
static void v_nul_in_mpxn(msgpack_packer *pk, const receipt_t *r)
{
    (void)r;
    msgpack_pack_str(pk, 3);
    msgpack_pack_str_body(pk,
                          "1\0"
                          "2",
                          3);
}

static void test_bounds(void)
{
    char error[256];
    is_int(s_decode_variant(F_RANGES, v_nine_ranges, error, sizeof error), -1,
           "nine ranges rejected");
    ok(strstr(error, "ranges") != NULL, "error names ranges: %s", error);
    is_int(s_decode_variant(F_SERVING, v_long_serving, error, sizeof error), -1,
           "5-byte serving rejected");
    ok(strstr(error, "serving") != NULL, "error names serving: %s", error);
    is_int(s_decode_variant(F_MPXN, v_nul_in_mpxn, error, sizeof error), -1,
           "NUL byte in mpxn rejected");
}

static void test_roundtrip_extremes(void)
{
    char error[256] = "";
    receipt_t out;
    receipt_t r = s_receipt();
    r.units = UINT64_MAX;
    r.price = UINT64_MAX;
    r.served_at = INT64_MIN;
    r.range_count = 3;
    r.ranges[0] = (receipt_range_t){-33, -1};
    r.ranges[1] = (receipt_range_t){-200000, 127};
    r.ranges[2] = (receipt_range_t){INT64_MIN, INT64_MAX};
    r.tariff_id[0] = '\0';
    is_int(s_roundtrip(&r, &out, error, sizeof error), 0,
           "extreme values round-trip %s", error);
    ok(out.units == UINT64_MAX && out.price == UINT64_MAX, "uint64 max kept");
    is_int(out.served_at, INT64_MIN, "int64 min kept");
    is_int(out.ranges[0].from_ms, -33, "negative fixint kept");
    is_int(out.ranges[1].from_ms, -200000, "int32 kept");
    is_int(out.ranges[2].to_ms, INT64_MAX, "int64 max kept");
    is_str(out.tariff_id, "", "empty tariff_id kept");

    r = s_receipt();
    r.range_count = 0;
    is_int(s_roundtrip(&r, &out, error, sizeof error), 0,
           "receipt without ranges round-trips %s", error);
    is_int(out.range_count, 0, "no ranges");
}

/* The longest receipt the field limits allow, as RECEIPT_MAX_BODY's
 * comment states. */
static void test_longest_body(void)
{
    receipt_t r = s_receipt();
    memset(r.mpxn, '9', sizeof r.mpxn - 1);
    memset(r.type, 'x', sizeof r.type - 1);
    memset(r.tariff_id, 'T', sizeof r.tariff_id - 1);
    r.range_count = RECEIPT_MAX_RANGES;
    for (size_t i = 0; i < RECEIPT_MAX_RANGES; i++)
        r.ranges[i] = (receipt_range_t){INT64_MIN + (int64_t)i, INT64_MAX};
    r.units = r.price = r.seq = UINT64_MAX;
    r.served_at = INT64_MIN;
    uint8_t *body = NULL;
    size_t size = 0;
    receipt_t out;
    char error[256] = "";
    if (receipt_encode(&r, &body, &size) != 0)
        bail_out("receipt_encode failed");
    is_int(size, 400, "longest receipt body is 400 bytes");
    ok(size <= RECEIPT_MAX_BODY, "within RECEIPT_MAX_BODY");
    is_int(receipt_decode(body, size, &out, error, sizeof error), 0,
           "longest receipt decodes %s", error);
    free(body);
}

int main(void)
{
    char error[256] = "";
    is_int(s_decode_variant(-1, NULL, error, sizeof error), 0,
           "reference body decodes %s", error);
    test_non_canonical();
    test_wrong_types();
    test_truncated_and_extra();
    test_field_rules();
    test_bounds();
    test_roundtrip_extremes();
    test_longest_body();
    return tap_done();
}
