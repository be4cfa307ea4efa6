/* The msgpack envelope of every sdx message: one ZeroMQ frame holding one
 * msgpack map, with common keys v (protocol version, 1), type, id (16
 * bytes) and ts (UTC ms).
 *
 * Decoding first walks the bytes with explicit bounds (nesting depth,
 * items per container, string and binary lengths, total items), so a
 * hostile frame cannot make msgpack-c allocate for containers that the
 * frame could not hold. Accessors name the missing or mistyped key in
 * their error, so a reply of status "invalid" can say exactly what is wrong.
 */
#ifndef SDX_ENVELOPE_H
#define SDX_ENVELOPE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_VERSION   1
#define ENVELOPE_ID_SIZE   16
#define ENVELOPE_TYPE_SIZE 32

/* Reply status codes. */
#define STATUS_OK          "ok"
#define STATUS_INVALID     "invalid"     /* malformed or missing field */
#define STATUS_DENIED      "denied"      /* the permission check said no */
#define STATUS_NOT_FOUND   "not_found"   /* unknown supply point or meter */
#define STATUS_UNAVAILABLE "unavailable" /* a dependency could not answer */
#define STATUS_TIMEOUT     "timeout"     /* the agent did not answer in time */
#define STATUS_STALE       "stale"       /* ts outside the allowed skew */
#define STATUS_UNSUPPORTED "unsupported" /* unknown request type */

typedef struct {
    size_t max_depth;       /* nesting of maps and arrays */
    size_t max_container;   /* items in one map or array */
    size_t max_string;      /* bytes of one str or bin */
    size_t max_total_items; /* objects in the whole message */
} envelope_limits_t;

/* Depth 8, 4096 items a container, 256 KiB a string, 65536 objects. */
extern const envelope_limits_t envelope_default_limits;

/* Wider limits for replies that carry meter data, such as a 93-day profile
 * of 4464 periods: 8192 items a container, 1 MiB a string, 262144
 * objects. The frame limit still bounds the whole message. */
extern const envelope_limits_t envelope_reply_limits;

typedef struct envelope envelope_t;

/* Decodes one msgpack map from data. limits NULL means the defaults.
 * Caller owns the result. Returns NULL with a sentence in error when the
 * bytes are not exactly one map within the limits. */
envelope_t *envelope_decode(const void *data, size_t size,
                            const envelope_limits_t *limits, char *error,
                            size_t error_size);

void envelope_destroy(envelope_t **self_p);

/* Returns the root map; the envelope owns it. */
const msgpack_object *envelope_root(const envelope_t *self);

/* The common header keys. */
typedef struct {
    uint64_t version;
    char type[ENVELOPE_TYPE_SIZE];
    uint8_t id[ENVELOPE_ID_SIZE];
    int64_t ts;
} envelope_header_t;

/* Reads v, type, id and ts. Returns 0, or -1 naming the bad key. */
int envelope_read_header(const envelope_t *self, envelope_header_t *header,
                         char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Map accessors, usable on any map object. Each returns 0, or -1 with an
 * error such as "missing key 'mpxn'" or "key 'from' must be an integer".
 * The _opt variants return 1 when the key is absent (or nil) and leave
 * the output untouched. */
const msgpack_object *mp_map_get(const msgpack_object *map, const char *key);
int mp_get_str(const msgpack_object *map, const char *key, char *out,
               size_t out_size, char *error, size_t error_size)
    __attribute__((warn_unused_result));
int mp_get_str_opt(const msgpack_object *map, const char *key, char *out,
                   size_t out_size, char *error, size_t error_size)
    __attribute__((warn_unused_result));
int mp_get_i64(const msgpack_object *map, const char *key, int64_t *out,
               char *error, size_t error_size)
    __attribute__((warn_unused_result));
int mp_get_i64_opt(const msgpack_object *map, const char *key, int64_t *out,
                   char *error, size_t error_size)
    __attribute__((warn_unused_result));
int mp_get_u64(const msgpack_object *map, const char *key, uint64_t *out,
               char *error, size_t error_size)
    __attribute__((warn_unused_result));
int mp_get_bool(const msgpack_object *map, const char *key, bool *out,
                char *error, size_t error_size)
    __attribute__((warn_unused_result));
/* Requires exactly size bytes. */
int mp_get_bin(const msgpack_object *map, const char *key, uint8_t *out,
               size_t size, char *error, size_t error_size)
    __attribute__((warn_unused_result));
/* Points into the envelope's memory: valid while the envelope lives. */
int mp_get_bin_ref(const msgpack_object *map, const char *key,
                   const uint8_t **data, size_t *size, char *error,
                   size_t error_size) __attribute__((warn_unused_result));
/* kind is MSGPACK_OBJECT_MAP or MSGPACK_OBJECT_ARRAY. */
int mp_get_container(const msgpack_object *map, const char *key, int kind,
                     const msgpack_object **out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Reads an integer object (positive or negative) as int64. */
bool mp_as_i64(const msgpack_object *object, int64_t *out);

/* Packing helpers over msgpack-c's packer. */
void mp_pack_cstr(msgpack_packer *pk, const char *text);
void mp_pack_bin_data(msgpack_packer *pk, const void *data, size_t size);
void mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *value);
void mp_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t value);
void mp_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t value);
void mp_pack_kv_bool(msgpack_packer *pk, const char *key, bool value);
void mp_pack_kv_bin(msgpack_packer *pk, const char *key, const void *data,
                    size_t size);

/* Packs the four header keys; they count as 4 of the map_size entries of
 * the map header this writes. */
void envelope_pack_header(msgpack_packer *pk, size_t map_size, const char *type,
                          const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts);

/* Fills id with 16 random bytes. */
void envelope_new_id(uint8_t id[ENVELOPE_ID_SIZE]);

#endif
