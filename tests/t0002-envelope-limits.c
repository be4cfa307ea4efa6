/* Tests the envelope decoder's bounds and the typed map accessors. */
#include <msgpack.h>

#include "envelope.h"
#include "tap.h"

static envelope_t *s_decode(const void *data, size_t size, char *error)
{
    return envelope_decode(data, size, NULL, error, 256);
}

static void test_round_trip(void)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    uint8_t id[ENVELOPE_ID_SIZE];
    envelope_new_id(id);
    envelope_pack_header(&pk, 7, "read.profile", id, 1382835600000LL);
    mp_pack_kv_str(&pk, "mpxn", "1312345678907");
    mp_pack_kv_i64(&pk, "from", -5);
    mp_pack_kv_bool(&pk, "smart", true);

    char error[256];
    envelope_t *env = s_decode(buffer.data, buffer.size, error);
    ok(env != NULL, "valid message decodes");
    envelope_header_t header;
    ok(envelope_read_header(env, &header, error, sizeof error) == 0,
       "header reads");
    is_str(header.type, "read.profile", "type");
    is_int(header.ts, 1382835600000LL, "ts");
    is_mem(header.id, id, ENVELOPE_ID_SIZE, "id");
    char mpxn[16];
    ok(mp_get_str(envelope_root(env), "mpxn", mpxn, sizeof mpxn, error,
                  sizeof error) == 0,
       "string field");
    is_str(mpxn, "1312345678907", "string value");
    int64_t from;
    ok(mp_get_i64(envelope_root(env), "from", &from, error, sizeof error) ==
               0 &&
           from == -5,
       "negative integer field");
    ok(mp_get_i64(envelope_root(env), "to", &from, error, sizeof error) == -1,
       "missing key fails");
    is_str(error, "missing key 'to'", "missing key named");
    is_int(mp_get_i64_opt(envelope_root(env), "to", &from, error, sizeof error),
           1, "optional key absent");
    ok(mp_get_i64(envelope_root(env), "mpxn", &from, error, sizeof error) == -1,
       "mistyped key fails");
    is_str(error, "key 'mpxn' must be an integer", "mistyped key named");
    ok(mp_get_str(envelope_root(env), "mpxn", mpxn, 5, error, sizeof error) ==
           -1,
       "too long string fails");
    envelope_destroy(&env);
    ok(env == NULL, "destroy nulls the pointer");
    msgpack_sbuffer_destroy(&buffer);
}

static void test_hostile(void)
{
    char error[256];
    /* map32 claiming 2^32-1 entries in a 5-byte frame */
    const uint8_t huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    ok(s_decode(huge_map, sizeof huge_map, error) == NULL,
       "huge map count rejected");
    diag("%s", error);
    /* fixmap with one str key and an array32 claiming 1e9 items */
    const uint8_t huge_array[] = {0x81, 0xa1, 'a',  0xdd,
                                  0x3b, 0x9a, 0xca, 0x00};
    ok(s_decode(huge_array, sizeof huge_array, error) == NULL,
       "huge array count rejected");
    /* str32 claiming 4 GiB */
    const uint8_t huge_str[] = {0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff};
    ok(s_decode(huge_str, sizeof huge_str, error) == NULL,
       "huge string length rejected");
    /* nesting: map -> array -> array ... 20 deep */
    uint8_t deep[32] = {0x81, 0xa1, 'a'};
    for (int i = 3; i < 23; i++)
        deep[i] = 0x91;
    deep[23] = 0x01;
    ok(s_decode(deep, 24, error) == NULL, "deep nesting rejected");
    ok(strstr(error, "nesting") != NULL, "error says nesting");
    const uint8_t truncated[] = {0x82, 0xa1, 'a', 0x01, 0xa1};
    ok(s_decode(truncated, sizeof truncated, error) == NULL,
       "truncated map rejected");
    const uint8_t not_map[] = {0x93, 0x01, 0x02, 0x03};
    ok(s_decode(not_map, sizeof not_map, error) == NULL, "array root rejected");
    const uint8_t trailing[] = {0x80, 0x00};
    ok(s_decode(trailing, sizeof trailing, error) == NULL,
       "trailing bytes rejected");
    const uint8_t reserved[] = {0x81, 0xa1, 'a', 0xc1};
    ok(s_decode(reserved, sizeof reserved, error) == NULL,
       "reserved byte rejected");
    ok(s_decode("", 0, error) == NULL, "empty frame rejected");
    const uint8_t empty_map[] = {0x80};
    envelope_t *env = s_decode(empty_map, 1, error);
    ok(env != NULL, "empty map decodes");
    envelope_header_t header;
    ok(envelope_read_header(env, &header, error, sizeof error) == -1,
       "empty map has no header");
    is_str(error, "missing key 'v'", "header error names v");
    envelope_destroy(&env);
}

/* Every prefix of a valid message must be rejected without a crash. */
static void test_all_truncations(void)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    uint8_t id[ENVELOPE_ID_SIZE] = {0};
    envelope_pack_header(&pk, 5, "read.daily", id, 1);
    mp_pack_kv_bin(&pk, "blob", "0123456789", 10);
    char error[256];
    int accepted = 0;
    for (size_t size = 0; size < buffer.size; size++) {
        envelope_t *env = s_decode(buffer.data, size, error);
        accepted += env != NULL;
        envelope_destroy(&env);
    }
    is_int(accepted, 0, "no truncation of %zu bytes is accepted", buffer.size);
    msgpack_sbuffer_destroy(&buffer);
}

int main(void)
{
    test_round_trip();
    test_hostile();
    test_all_truncations();
    return tap_done();
}
