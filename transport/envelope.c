/* The msgpack envelope codec: a bounded pre-scan, then msgpack-c. */
#include "envelope.h"

#include <assert.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const envelope_limits_t envelope_default_limits = {
    .max_depth = 8,
    .max_container = 4096,
    .max_string = 256 * 1024,
    .max_total_items = 65536,
};

const envelope_limits_t envelope_reply_limits = {
    .max_depth = 8,
    .max_container = 8192,
    .max_string = 1024 * 1024,
    .max_total_items = 262144,
};

struct envelope {
    msgpack_unpacked unpacked; /* owns the zone the objects live in */
};

/* The scanner's view of the bytes still to read. */
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    const envelope_limits_t *limits;
    size_t items;
    char *error;
    size_t error_size;
} scan_t;

static int s_fail(scan_t *scan, const char *what)
{
    snprintf(scan->error, scan->error_size, "malformed message: %s at byte %zu",
             what, scan->offset);
    return -1;
}

/* Reads a big-endian unsigned integer of width bytes. */
static int s_read_be(scan_t *scan, size_t width, uint64_t *value)
{
    if (scan->size - scan->offset < width)
        return s_fail(scan, "truncated length");
    *value = 0;
    for (size_t i = 0; i < width; i++)
        *value = *value << 8 | scan->data[scan->offset + i];
    scan->offset += width;
    return 0;
}

static int s_skip(scan_t *scan, uint64_t count)
{
    if (count > scan->limits->max_string)
        return s_fail(scan, "string or binary longer than the limit");
    if (scan->size - scan->offset < count)
        return s_fail(scan, "truncated string or binary");
    scan->offset += (size_t)count;
    return 0;
}

/* Classifies one object header: sets *children to the number of objects
 * that follow inside it (0 for scalars) and skips any scalar payload. */
static int s_scan_header(scan_t *scan, uint64_t *children)
{
    uint8_t byte = scan->data[scan->offset++];
    uint64_t length = 0;
    *children = 0;
    if (byte <= 0x7f || byte >= 0xe0 || (byte >= 0xc2 && byte <= 0xc3) ||
        byte == 0xc0)
        return 0;
    if (byte >= 0x80 && byte <= 0x8f)
        length = 2 * (uint64_t)(byte & 0x0f);
    else if (byte >= 0x90 && byte <= 0x9f)
        length = byte & 0x0f;
    else if (byte >= 0xa0 && byte <= 0xbf)
        return s_skip(scan, byte & 0x1f);
    switch (byte) {
    case 0xc4:
    case 0xc5:
    case 0xc6: /* bin 8/16/32 */
    case 0xd9:
    case 0xda:
    case 0xdb: /* str 8/16/32 */
        if (s_read_be(scan,
                      byte == 0xc4 || byte == 0xd9   ? 1
                      : byte == 0xc5 || byte == 0xda ? 2
                                                     : 4,
                      &length))
            return -1;
        return s_skip(scan, length);
    case 0xc7:
    case 0xc8:
    case 0xc9: /* ext 8/16/32: length, type, data */
        if (s_read_be(scan, byte == 0xc7 ? 1 : byte == 0xc8 ? 2 : 4, &length))
            return -1;
        return s_skip(scan, length + 1);
    case 0xca:
        return s_skip(scan, 4);
    case 0xcb:
        return s_skip(scan, 8);
    case 0xcc:
    case 0xd0:
        return s_skip(scan, 1);
    case 0xcd:
    case 0xd1:
        return s_skip(scan, 2);
    case 0xce:
    case 0xd2:
        return s_skip(scan, 4);
    case 0xcf:
    case 0xd3:
        return s_skip(scan, 8);
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: /* fixext */
        return s_skip(scan, 1 + (1u << (byte - 0xd4)));
    case 0xdc:
    case 0xde:
        if (s_read_be(scan, 2, &length))
            return -1;
        break;
    case 0xdd:
    case 0xdf:
        if (s_read_be(scan, 4, &length))
            return -1;
        break;
    case 0xc1:
        return s_fail(scan, "reserved type byte 0xc1");
    default:
        break;
    }
    if (byte == 0xde || byte == 0xdf)
        length *= 2;
    if (length / (byte >= 0x80 && byte <= 0x8f ? 2 : 1) >
        scan->limits->max_container)
        return s_fail(scan, "container larger than the limit");
    /* Each child takes at least one byte, so a count beyond the bytes left
     * is a lie meant to make the decoder allocate. */
    if (length > scan->size - scan->offset)
        return s_fail(scan, "container count exceeds the message size");
    *children = length;
    return 0;
}

/* Walks one complete object iteratively with an explicit depth stack. */
static int s_scan_object(scan_t *scan)
{
    uint64_t pending[64];
    size_t depth = 0;
    size_t max_depth = scan->limits->max_depth;
    assert(max_depth < 64);
    pending[0] = 1;
    while (true) {
        while (depth > 0 && pending[depth] == 0)
            depth--;
        if (pending[depth] == 0)
            return 0;
        if (scan->offset >= scan->size)
            return s_fail(scan, "truncated message");
        if (++scan->items > scan->limits->max_total_items)
            return s_fail(scan, "more objects than the limit");
        pending[depth]--;
        uint64_t children;
        if (s_scan_header(scan, &children))
            return -1;
        if (children == 0)
            continue;
        if (depth + 1 > max_depth)
            return s_fail(scan, "nesting deeper than the limit");
        pending[++depth] = children;
    }
}

envelope_t *envelope_decode(const void *data, size_t size,
                            const envelope_limits_t *limits, char *error,
                            size_t error_size)
{
    scan_t scan = {
        data, size,  0,         limits ? limits : &envelope_default_limits,
        0,    error, error_size};
    if (size == 0) {
        snprintf(error, error_size, "malformed message: empty frame");
        return NULL;
    }
    uint8_t first = scan.data[0];
    if (!((first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf)) {
        snprintf(error, error_size,
                 "malformed message: expected a msgpack map, got type byte "
                 "0x%02x",
                 first);
        return NULL;
    }
    if (s_scan_object(&scan))
        return NULL;
    if (scan.offset != size) {
        snprintf(error, error_size,
                 "malformed message: %zu bytes after the map",
                 size - scan.offset);
        return NULL;
    }
    envelope_t *self = calloc(1, sizeof *self);
    assert(self);
    msgpack_unpacked_init(&self->unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next(&self->unpacked, data, size, &offset) !=
        MSGPACK_UNPACK_SUCCESS) {
        snprintf(error, error_size, "malformed message: msgpack rejected it");
        envelope_destroy(&self);
    }
    return self;
}

void envelope_destroy(envelope_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgpack_unpacked_destroy(&(*self_p)->unpacked);
    free(*self_p);
    *self_p = NULL;
}

const msgpack_object *envelope_root(const envelope_t *self)
{
    return &self->unpacked.data;
}

const msgpack_object *mp_map_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t key_size = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == key_size &&
            memcmp(k->via.str.ptr, key, key_size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* Finds key; returns 1 when absent or nil and not required (optional),
 * -1 with an error when absent and required, 0 when present. */
static int s_find(const msgpack_object *map, const char *key, bool required,
                  const msgpack_object **value, char *error, size_t error_size)
{
    *value = mp_map_get(map, key);
    if (*value && (*value)->type != MSGPACK_OBJECT_NIL)
        return 0;
    if (!required)
        return 1;
    snprintf(error, error_size, "missing key '%s'", key);
    return -1;
}

static int s_mistyped(const char *key, const char *expected, char *error,
                      size_t error_size)
{
    snprintf(error, error_size, "key '%s' must be %s", key, expected);
    return -1;
}

static int s_get_str(const msgpack_object *map, const char *key, bool required,
                     char *out, size_t out_size, char *error, size_t error_size)
{
    const msgpack_object *value;
    int found = s_find(map, key, required, &value, error, error_size);
    if (found)
        return found;
    if (value->type != MSGPACK_OBJECT_STR)
        return s_mistyped(key, "a string", error, error_size);
    if (value->via.str.size >= out_size) {
        snprintf(error, error_size, "key '%s' is longer than %zu bytes", key,
                 out_size - 1);
        return -1;
    }
    if (memchr(value->via.str.ptr, '\0', value->via.str.size))
        return s_mistyped(key, "a string without NUL bytes", error, error_size);
    memcpy(out, value->via.str.ptr, value->via.str.size);
    out[value->via.str.size] = '\0';
    return 0;
}

int mp_get_str(const msgpack_object *map, const char *key, char *out,
               size_t out_size, char *error, size_t error_size)
{
    return s_get_str(map, key, true, out, out_size, error, error_size);
}

int mp_get_str_opt(const msgpack_object *map, const char *key, char *out,
                   size_t out_size, char *error, size_t error_size)
{
    return s_get_str(map, key, false, out, out_size, error, error_size);
}

bool mp_as_i64(const msgpack_object *object, int64_t *out)
{
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = object->via.i64;
        return true;
    }
    if (object->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        object->via.u64 <= INT64_MAX) {
        *out = (int64_t)object->via.u64;
        return true;
    }
    return false;
}

static int s_get_i64(const msgpack_object *map, const char *key, bool required,
                     int64_t *out, char *error, size_t error_size)
{
    const msgpack_object *value;
    int found = s_find(map, key, required, &value, error, error_size);
    if (found)
        return found;
    if (!mp_as_i64(value, out))
        return s_mistyped(key, "an integer", error, error_size);
    return 0;
}

int mp_get_i64(const msgpack_object *map, const char *key, int64_t *out,
               char *error, size_t error_size)
{
    return s_get_i64(map, key, true, out, error, error_size);
}

int mp_get_i64_opt(const msgpack_object *map, const char *key, int64_t *out,
                   char *error, size_t error_size)
{
    return s_get_i64(map, key, false, out, error, error_size);
}

int mp_get_u64(const msgpack_object *map, const char *key, uint64_t *out,
               char *error, size_t error_size)
{
    const msgpack_object *value;
    int found = s_find(map, key, true, &value, error, error_size);
    if (found)
        return found;
    if (value->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_mistyped(key, "a non-negative integer", error, error_size);
    *out = value->via.u64;
    return 0;
}

int mp_get_bool(const msgpack_object *map, const char *key, bool *out,
                char *error, size_t error_size)
{
    const msgpack_object *value;
    int found = s_find(map, key, true, &value, error, error_size);
    if (found)
        return found;
    if (value->type != MSGPACK_OBJECT_BOOLEAN)
        return s_mistyped(key, "true or false", error, error_size);
    *out = value->via.boolean;
    return 0;
}

int mp_get_bin_ref(const msgpack_object *map, const char *key,
                   const uint8_t **data, size_t *size, char *error,
                   size_t error_size)
{
    const msgpack_object *value;
    int found = s_find(map, key, true, &value, error, error_size);
    if (found)
        return found;
    if (value->type != MSGPACK_OBJECT_BIN)
        return s_mistyped(key, "binary", error, error_size);
    *data = (const uint8_t *)value->via.bin.ptr;
    *size = value->via.bin.size;
    return 0;
}

int mp_get_bin(const msgpack_object *map, const char *key, uint8_t *out,
               size_t size, char *error, size_t error_size)
{
    const uint8_t *data;
    size_t got;
    if (mp_get_bin_ref(map, key, &data, &got, error, error_size))
        return -1;
    if (got != size) {
        snprintf(error, error_size, "key '%s' must be %zu bytes, got %zu", key,
                 size, got);
        return -1;
    }
    memcpy(out, data, size);
    return 0;
}

int mp_get_container(const msgpack_object *map, const char *key, int kind,
                     const msgpack_object **out, char *error, size_t error_size)
{
    int found = s_find(map, key, true, out, error, error_size);
    if (found)
        return found;
    if ((int)(*out)->type != kind)
        return s_mistyped(key,
                          kind == MSGPACK_OBJECT_MAP ? "a map" : "an array",
                          error, error_size);
    return 0;
}

int envelope_read_header(const envelope_t *self, envelope_header_t *header,
                         char *error, size_t error_size)
{
    const msgpack_object *root = envelope_root(self);
    if (mp_get_u64(root, "v", &header->version, error, error_size))
        return -1;
    if (header->version != ENVELOPE_VERSION) {
        snprintf(error, error_size,
                 "unsupported protocol version %" PRIu64 "; this node speaks "
                 "version %d",
                 header->version, ENVELOPE_VERSION);
        return -1;
    }
    if (mp_get_str(root, "type", header->type, sizeof header->type, error,
                   error_size) ||
        mp_get_bin(root, "id", header->id, ENVELOPE_ID_SIZE, error,
                   error_size) ||
        mp_get_i64(root, "ts", &header->ts, error, error_size))
        return -1;
    return 0;
}

void mp_pack_cstr(msgpack_packer *pk, const char *text)
{
    size_t size = strlen(text);
    msgpack_pack_str(pk, size);
    msgpack_pack_str_body(pk, text, size);
}

void mp_pack_bin_data(msgpack_packer *pk, const void *data, size_t size)
{
    msgpack_pack_bin(pk, size);
    msgpack_pack_bin_body(pk, data, size);
}

void mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *value)
{
    mp_pack_cstr(pk, key);
    mp_pack_cstr(pk, value);
}

void mp_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t value)
{
    mp_pack_cstr(pk, key);
    msgpack_pack_int64(pk, value);
}

void mp_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t value)
{
    mp_pack_cstr(pk, key);
    msgpack_pack_uint64(pk, value);
}

void mp_pack_kv_bool(msgpack_packer *pk, const char *key, bool value)
{
    mp_pack_cstr(pk, key);
    if (value)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void mp_pack_kv_bin(msgpack_packer *pk, const char *key, const void *data,
                    size_t size)
{
    mp_pack_cstr(pk, key);
    mp_pack_bin_data(pk, data, size);
}

void envelope_pack_header(msgpack_packer *pk, size_t map_size, const char *type,
                          const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts)
{
    assert(map_size >= 4);
    msgpack_pack_map(pk, map_size);
    mp_pack_kv_u64(pk, "v", ENVELOPE_VERSION);
    mp_pack_kv_str(pk, "type", type);
    mp_pack_kv_bin(pk, "id", id, ENVELOPE_ID_SIZE);
    mp_pack_kv_i64(pk, "ts", ts);
}

void envelope_new_id(uint8_t id[ENVELOPE_ID_SIZE])
{
    randombytes_buf(id, ENVELOPE_ID_SIZE);
}
