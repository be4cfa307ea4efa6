/* Directory answer and reply codec. */
#include "dir_answer.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_keys.h"

/* Packing */

static void s_pack_registration(msgpack_packer *pk,
                                const dir_registration_t *registration)
{
    msgpack_pack_array(pk, 3);
    mp_pack_cstr(pk, registration->supplier);
    msgpack_pack_int64(pk, registration->from_ms);
    if (registration->to_ms == DIR_OPEN_END)
        msgpack_pack_nil(pk);
    else
        msgpack_pack_int64(pk, registration->to_ms);
}

void dir_answer_pack_supply_point(msgpack_sbuffer *out,
                                  const dir_supply_point_t *point)
{
    assert(point->registration_count <= DIR_MAX_REGISTRATIONS);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, point->registrations_withheld ? 12 : 11);
    mp_pack_kv_str(&pk, "kind", DIR_KIND_SUPPLY_POINT);
    mp_pack_kv_str(&pk, "mpxn", point->mpxn);
    mp_pack_kv_str(&pk, "fuel", point->fuel);
    mp_pack_kv_str(&pk, "meter_id", point->meter_id);
    mp_pack_kv_bool(&pk, "smart", point->smart);
    mp_pack_kv_str(&pk, "installing", point->installing);
    mp_pack_kv_str(&pk, "head_end", point->head_end);
    mp_pack_cstr(&pk, "registrations");
    msgpack_pack_array(&pk, point->registration_count);
    for (size_t i = 0; i < point->registration_count; i++)
        s_pack_registration(&pk, &point->registrations[i]);
    if (point->registrations_withheld)
        mp_pack_kv_bool(&pk, "registrations_withheld", true);
    mp_pack_kv_i64(&pk, "issued", point->issued_ms);
    mp_pack_kv_i64(&pk, "expires", point->expires_ms);
    mp_pack_kv_u64(&pk, "change", point->change);
}

/* Packs one entry of "keys": {"type", "key", "from", "to", "state"} and
 * "revoked" for a revoked key. */
static void s_pack_key(msgpack_packer *pk, const dir_key_t *key)
{
    bool revoked = key->state == DIR_KEY_REVOKED;
    msgpack_pack_map(pk, revoked ? 6 : 5);
    mp_pack_kv_str(pk, "type", dir_key_type_name(key->type));
    if (key->type == DIR_KEY_CURVE)
        mp_pack_kv_str(pk, "key", key->curve_key);
    else
        mp_pack_kv_bin(pk, "key", key->sign_key, DIR_SIGN_KEY_SIZE);
    mp_pack_kv_i64(pk, "from", key->valid_from_ms);
    mp_pack_cstr(pk, "to");
    if (key->valid_to_ms == DIR_OPEN_END)
        msgpack_pack_nil(pk);
    else
        msgpack_pack_int64(pk, key->valid_to_ms);
    mp_pack_kv_str(pk, "state", dir_key_state_name(key->state));
    if (revoked)
        mp_pack_kv_i64(pk, "revoked", key->revoked_ms);
}

/* The number of map entries s_pack_supplier_keys writes. */
static size_t s_supplier_key_count(const dir_supplier_t *supplier)
{
    return supplier->key_count > 0 ? 6 : 5;
}

/* Packs the keys that identify a supplier, and its "keys" list when it
 * has one. A supplier without keys packs as it did before key lifecycles,
 * so that those bytes stay the same. */
static void s_pack_supplier_keys(msgpack_packer *pk,
                                 const dir_supplier_t *supplier)
{
    assert(supplier->key_count <= DIR_MAX_KEYS);
    mp_pack_kv_str(pk, "mpid", supplier->mpid);
    mp_pack_kv_str(pk, "name", supplier->name);
    mp_pack_kv_str(pk, "endpoint", supplier->endpoint);
    mp_pack_kv_str(pk, "curve_key", supplier->curve_key);
    mp_pack_kv_bin(pk, "sign_key", supplier->sign_key, DIR_SIGN_KEY_SIZE);
    if (supplier->key_count == 0)
        return;
    mp_pack_cstr(pk, "keys");
    msgpack_pack_array(pk, supplier->key_count);
    for (size_t i = 0; i < supplier->key_count; i++)
        s_pack_key(pk, &supplier->keys[i]);
}

void dir_answer_pack_supplier(msgpack_sbuffer *out,
                              const dir_supplier_t *supplier)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3 + s_supplier_key_count(supplier));
    mp_pack_kv_str(&pk, "kind", DIR_KIND_SUPPLIER);
    s_pack_supplier_keys(&pk, supplier);
    mp_pack_kv_i64(&pk, "issued", supplier->issued_ms);
    mp_pack_kv_i64(&pk, "expires", supplier->expires_ms);
}

void dir_answer_pack_suppliers(msgpack_sbuffer *out,
                               const dir_supplier_t *suppliers, size_t count,
                               int64_t issued_ms, int64_t expires_ms)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    mp_pack_kv_str(&pk, "kind", DIR_KIND_SUPPLIERS);
    mp_pack_cstr(&pk, "suppliers");
    msgpack_pack_array(&pk, count);
    for (size_t i = 0; i < count; i++) {
        msgpack_pack_map(&pk, s_supplier_key_count(&suppliers[i]));
        s_pack_supplier_keys(&pk, &suppliers[i]);
    }
    mp_pack_kv_i64(&pk, "issued", issued_ms);
    mp_pack_kv_i64(&pk, "expires", expires_ms);
}

void dir_reply_pack(msgpack_sbuffer *out, const char *type,
                    const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                    const char *status, const char *error, const void *answer,
                    size_t answer_size, const signer_t *signer)
{
    bool ok = strcmp(status, STATUS_OK) == 0;
    assert(ok ? answer && signer : answer == NULL);

    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    envelope_pack_header(&pk, ok ? 7 : 6, type, id, ts);
    mp_pack_kv_str(&pk, "status", status);
    if (!ok) {
        mp_pack_kv_str(&pk, "error", error ? error : "");
        return;
    }
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    signer_sign(signer, SIGN_DOMAIN_DIRECTORY, answer, answer_size, signature);
    mp_pack_kv_bin(&pk, "answer", answer, answer_size);
    mp_pack_kv_bin(&pk, "sig", signature, sizeof signature);
}

/* Reading answers */

/* True when map has key with a value other than nil, which counts as
 * absent. */
static bool s_present(const msgpack_object *map, const char *key)
{
    const msgpack_object *value = mp_map_get(map, key);
    return value && value->type != MSGPACK_OBJECT_NIL;
}

static int s_check_kind(const msgpack_object *root, const char *expected,
                        char *error, size_t error_size)
{
    char kind[32];
    if (mp_get_str(root, "kind", kind, sizeof kind, error, error_size) != 0)
        return -1;
    if (strcmp(kind, expected) != 0) {
        snprintf(error, error_size, "answer kind is '%s', expected '%s'", kind,
                 expected);
        return -1;
    }
    return 0;
}

static int s_read_str(const msgpack_object *object, char *out, size_t out_size)
{
    if (object->type != MSGPACK_OBJECT_STR || object->via.str.size >= out_size)
        return -1;
    memcpy(out, object->via.str.ptr, object->via.str.size);
    out[object->via.str.size] = '\0';
    return 0;
}

/* Reads [MPID, from_ms, to_ms or nil]. */
static int s_read_registration(const msgpack_object *item,
                               dir_registration_t *out)
{
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 3)
        return -1;
    const msgpack_object *fields = item->via.array.ptr;
    if (s_read_str(&fields[0], out->supplier, sizeof out->supplier) != 0)
        return -1;
    if (!mp_as_i64(&fields[1], &out->from_ms))
        return -1;
    if (fields[2].type == MSGPACK_OBJECT_NIL) {
        out->to_ms = DIR_OPEN_END;
        return 0;
    }
    return mp_as_i64(&fields[2], &out->to_ms) ? 0 : -1;
}

static int s_read_registrations(const msgpack_object *root,
                                dir_supply_point_t *out, char *error,
                                size_t error_size)
{
    const msgpack_object *array;
    if (mp_get_container(root, "registrations", MSGPACK_OBJECT_ARRAY, &array,
                         error, error_size) != 0)
        return -1;
    if (array->via.array.size > DIR_MAX_REGISTRATIONS) {
        snprintf(error, error_size,
                 "key 'registrations' has %u entries, at most %d allowed",
                 array->via.array.size, DIR_MAX_REGISTRATIONS);
        return -1;
    }
    out->registration_count = array->via.array.size;
    for (size_t i = 0; i < out->registration_count; i++) {
        if (s_read_registration(&array->via.array.ptr[i],
                                &out->registrations[i]) != 0) {
            snprintf(error, error_size,
                     "registration %zu must be [MPID, from, to or nil]", i);
            return -1;
        }
    }
    return 0;
}

static int s_read_supply_point_keys(const msgpack_object *root,
                                    dir_supply_point_t *out, char *error,
                                    size_t error_size)
{
    if (mp_get_str(root, "mpxn", out->mpxn, sizeof out->mpxn, error,
                   error_size) != 0 ||
        mp_get_str(root, "fuel", out->fuel, sizeof out->fuel, error,
                   error_size) != 0 ||
        mp_get_str(root, "meter_id", out->meter_id, sizeof out->meter_id, error,
                   error_size) != 0 ||
        mp_get_bool(root, "smart", &out->smart, error, error_size) != 0 ||
        mp_get_str(root, "installing", out->installing, sizeof out->installing,
                   error, error_size) != 0 ||
        mp_get_str(root, "head_end", out->head_end, sizeof out->head_end, error,
                   error_size) != 0)
        return -1;
    if (s_read_registrations(root, out, error, error_size) != 0)
        return -1;
    if (s_present(root, "registrations_withheld") &&
        mp_get_bool(root, "registrations_withheld",
                    &out->registrations_withheld, error, error_size) != 0)
        return -1;
    if (mp_get_i64(root, "issued", &out->issued_ms, error, error_size) != 0 ||
        mp_get_i64(root, "expires", &out->expires_ms, error, error_size) != 0 ||
        mp_get_u64(root, "change", &out->change, error, error_size) != 0)
        return -1;
    return 0;
}

int dir_answer_read_supply_point(const void *answer, size_t size,
                                 dir_supply_point_t *out, char *error,
                                 size_t error_size)
{
    memset(out, 0, sizeof *out);
    envelope_t *envelope =
        envelope_decode(answer, size, NULL, error, error_size);
    if (!envelope)
        return -1;
    const msgpack_object *root = envelope_root(envelope);
    int rc = s_check_kind(root, DIR_KIND_SUPPLY_POINT, error, error_size);
    if (rc == 0)
        rc = s_read_supply_point_keys(root, out, error, error_size);
    envelope_destroy(&envelope);
    return rc;
}

/* Reads the type and key of one "keys" entry. */
static int s_read_key_value(const msgpack_object *map, dir_key_t *out,
                            char *error, size_t error_size)
{
    char type[16];
    if (mp_get_str(map, "type", type, sizeof type, error, error_size) != 0)
        return -1;
    if (dir_key_type_parse(type, &out->type) != 0) {
        snprintf(error, error_size,
                 "key 'type' is '%s', expected 'curve' or 'sign'", type);
        return -1;
    }
    if (out->type == DIR_KEY_SIGN)
        return mp_get_bin(map, "key", out->sign_key, sizeof out->sign_key,
                          error, error_size);
    if (mp_get_str(map, "key", out->curve_key, sizeof out->curve_key, error,
                   error_size) != 0)
        return -1;
    if (strlen(out->curve_key) != DIR_CURVE_KEY_SIZE - 1) {
        snprintf(error, error_size,
                 "key 'key' of a CURVE key must be %d "
                 "characters of Z85",
                 DIR_CURVE_KEY_SIZE - 1);
        return -1;
    }
    return 0;
}

/* Reads from, to (int or nil), state and, when revoked, revoked. */
static int s_read_key_validity(const msgpack_object *map, dir_key_t *out,
                               char *error, size_t error_size)
{
    char state[16];
    out->valid_to_ms = DIR_OPEN_END;
    if (mp_get_i64(map, "from", &out->valid_from_ms, error, error_size) != 0 ||
        mp_get_i64_opt(map, "to", &out->valid_to_ms, error, error_size) < 0 ||
        mp_get_str(map, "state", state, sizeof state, error, error_size) != 0)
        return -1;
    if (out->valid_to_ms <= out->valid_from_ms) {
        snprintf(error, error_size, "key 'to' must be after 'from'");
        return -1;
    }
    if (dir_key_state_parse(state, &out->state) != 0) {
        snprintf(error, error_size,
                 "key 'state' is '%s', expected active, retired or revoked",
                 state);
        return -1;
    }
    if (out->state == DIR_KEY_REVOKED)
        return mp_get_i64(map, "revoked", &out->revoked_ms, error, error_size);
    return 0;
}

/* Reads the optional "keys" list of a supplier map. */
static int s_read_key_list(const msgpack_object *map, dir_supplier_t *out,
                           char *error, size_t error_size)
{
    const msgpack_object *array;
    out->key_count = 0;
    if (!s_present(map, "keys"))
        return 0;
    if (mp_get_container(map, "keys", MSGPACK_OBJECT_ARRAY, &array, error,
                         error_size) != 0)
        return -1;
    if (array->via.array.size > DIR_MAX_KEYS) {
        snprintf(error, error_size,
                 "key 'keys' has %u entries, at most %d allowed",
                 array->via.array.size, DIR_MAX_KEYS);
        return -1;
    }
    for (size_t i = 0; i < array->via.array.size; i++) {
        const msgpack_object *item = &array->via.array.ptr[i];
        char reason[200];
        dir_key_t *key = &out->keys[i];
        memset(key, 0, sizeof *key);
        if (item->type != MSGPACK_OBJECT_MAP ||
            s_read_key_value(item, key, reason, sizeof reason) != 0 ||
            s_read_key_validity(item, key, reason, sizeof reason) != 0) {
            snprintf(
                error, error_size, "key %zu of supplier '%s': %s", i, out->mpid,
                item->type == MSGPACK_OBJECT_MAP ? reason : "must be a map");
            return -1;
        }
    }
    out->key_count = array->via.array.size;
    return 0;
}

/* Reads the keys that identify a supplier from map. */
static int s_read_supplier_keys(const msgpack_object *map, dir_supplier_t *out,
                                char *error, size_t error_size)
{
    if (mp_get_str(map, "mpid", out->mpid, sizeof out->mpid, error,
                   error_size) != 0 ||
        mp_get_str(map, "name", out->name, sizeof out->name, error,
                   error_size) != 0 ||
        mp_get_str(map, "endpoint", out->endpoint, sizeof out->endpoint, error,
                   error_size) != 0 ||
        mp_get_str(map, "curve_key", out->curve_key, sizeof out->curve_key,
                   error, error_size) != 0 ||
        mp_get_bin(map, "sign_key", out->sign_key, sizeof out->sign_key, error,
                   error_size) != 0)
        return -1;
    if (strlen(out->curve_key) != DIR_CURVE_KEY_SIZE - 1) {
        snprintf(error, error_size,
                 "key 'curve_key' must be %d characters of Z85",
                 DIR_CURVE_KEY_SIZE - 1);
        return -1;
    }
    return s_read_key_list(map, out, error, error_size);
}

static int s_read_validity(const msgpack_object *root, int64_t *issued_ms,
                           int64_t *expires_ms, char *error, size_t error_size)
{
    if (mp_get_i64(root, "issued", issued_ms, error, error_size) != 0)
        return -1;
    return mp_get_i64(root, "expires", expires_ms, error, error_size);
}

int dir_answer_read_supplier(const void *answer, size_t size,
                             dir_supplier_t *out, char *error,
                             size_t error_size)
{
    memset(out, 0, sizeof *out);
    envelope_t *envelope =
        envelope_decode(answer, size, NULL, error, error_size);
    if (!envelope)
        return -1;
    const msgpack_object *root = envelope_root(envelope);
    int rc = s_check_kind(root, DIR_KIND_SUPPLIER, error, error_size);
    if (rc == 0)
        rc = s_read_supplier_keys(root, out, error, error_size);
    if (rc == 0)
        rc = s_read_validity(root, &out->issued_ms, &out->expires_ms, error,
                             error_size);
    envelope_destroy(&envelope);
    return rc;
}

static int s_read_supplier_list(const msgpack_object *root,
                                dir_supplier_t *list, size_t count, char *error,
                                size_t error_size)
{
    const msgpack_object *array;
    if (mp_get_container(root, "suppliers", MSGPACK_OBJECT_ARRAY, &array, error,
                         error_size) != 0)
        return -1;
    assert(array->via.array.size == count);

    int64_t issued_ms, expires_ms;
    if (s_read_validity(root, &issued_ms, &expires_ms, error, error_size) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        const msgpack_object *item = &array->via.array.ptr[i];
        if (item->type != MSGPACK_OBJECT_MAP) {
            snprintf(error, error_size, "supplier %zu must be a map", i);
            return -1;
        }
        if (s_read_supplier_keys(item, &list[i], error, error_size) != 0)
            return -1;
        list[i].issued_ms = issued_ms;
        list[i].expires_ms = expires_ms;
    }
    return 0;
}

/* Counts the entries of the "suppliers" array, so the caller can size the
 * list before reading it. */
static int s_count_suppliers(const msgpack_object *root, size_t *count,
                             char *error, size_t error_size)
{
    const msgpack_object *array;
    if (mp_get_container(root, "suppliers", MSGPACK_OBJECT_ARRAY, &array, error,
                         error_size) != 0)
        return -1;
    *count = array->via.array.size;
    return 0;
}

int dir_answer_read_suppliers(const void *answer, size_t size,
                              dir_supplier_t **list, size_t *count, char *error,
                              size_t error_size)
{
    int rc = -1;
    *list = NULL;
    *count = 0;
    dir_supplier_t *entries = NULL;
    size_t entry_count = 0;
    envelope_t *envelope =
        envelope_decode(answer, size, NULL, error, error_size);
    if (!envelope)
        goto cleanup;
    const msgpack_object *root = envelope_root(envelope);
    if (s_check_kind(root, DIR_KIND_SUPPLIERS, error, error_size) != 0 ||
        s_count_suppliers(root, &entry_count, error, error_size) != 0)
        goto cleanup;
    if (entry_count > 0) {
        entries = calloc(entry_count, sizeof *entries);
        if (!entries) {
            snprintf(error, error_size, "out of memory for %zu suppliers",
                     entry_count);
            goto cleanup;
        }
    }
    if (s_read_supplier_list(root, entries, entry_count, error, error_size) !=
        0)
        goto cleanup;
    *list = entries;
    *count = entry_count;
    entries = NULL;
    rc = 0;
cleanup:
    free(entries);
    envelope_destroy(&envelope);
    return rc;
}

/* Replies */

struct dir_reply {
    envelope_t *envelope;
    envelope_header_t header;
    char status[32];
    char error[512];
    const uint8_t *answer; /* points into envelope; NULL when absent */
    size_t answer_size;
    const uint8_t *signature;
    bool verified;
};

static int s_read_reply(dir_reply_t *self, char *error, size_t error_size)
{
    const msgpack_object *root = envelope_root(self->envelope);
    if (envelope_read_header(self->envelope, &self->header, error,
                             error_size) != 0)
        return -1;
    if (mp_get_str(root, "status", self->status, sizeof self->status, error,
                   error_size) != 0)
        return -1;
    if (mp_get_str_opt(root, "error", self->error, sizeof self->error, error,
                       error_size) < 0)
        return -1;
    if (strcmp(self->status, STATUS_OK) != 0)
        return 0;

    size_t signature_size;
    if (mp_get_bin_ref(root, "answer", &self->answer, &self->answer_size, error,
                       error_size) != 0 ||
        mp_get_bin_ref(root, "sig", &self->signature, &signature_size, error,
                       error_size) != 0)
        return -1;
    if (signature_size != SIGN_SIGNATURE_SIZE) {
        snprintf(error, error_size, "key 'sig' must be %d bytes, found %zu",
                 SIGN_SIGNATURE_SIZE, signature_size);
        return -1;
    }
    return 0;
}

dir_reply_t *dir_reply_decode(const void *data, size_t size, char *error,
                              size_t error_size)
{
    dir_reply_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, error_size, "out of memory for a directory reply");
        return NULL;
    }
    self->envelope = envelope_decode(data, size, NULL, error, error_size);
    if (!self->envelope || s_read_reply(self, error, error_size) != 0)
        dir_reply_destroy(&self);
    return self;
}

void dir_reply_destroy(dir_reply_t **self_p)
{
    assert(self_p);
    dir_reply_t *self = *self_p;
    if (!self)
        return;
    envelope_destroy(&self->envelope);
    free(self);
    *self_p = NULL;
}

const envelope_header_t *dir_reply_header(const dir_reply_t *self)
{
    return &self->header;
}

const char *dir_reply_status(const dir_reply_t *self)
{
    return self->status;
}

const char *dir_reply_error(const dir_reply_t *self)
{
    return self->error;
}

const uint8_t *dir_reply_signature(const dir_reply_t *self)
{
    return self->signature;
}

const uint8_t *dir_reply_answer(const dir_reply_t *self, size_t *size)
{
    *size = self->answer_size;
    return self->answer;
}

bool dir_reply_verify(dir_reply_t *self,
                      const uint8_t sign_key[SIGN_PUBLIC_SIZE])
{
    self->verified = false;
    if (!self->answer)
        return false;
    self->verified = sign_verify(sign_key, SIGN_DOMAIN_DIRECTORY, self->answer,
                                 self->answer_size, self->signature);
    return self->verified;
}

int dir_reply_read_supply_point(const dir_reply_t *self,
                                dir_supply_point_t *out, char *error,
                                size_t error_size)
{
    assert(self->verified);
    return dir_answer_read_supply_point(self->answer, self->answer_size, out,
                                        error, error_size);
}

int dir_reply_read_supplier(const dir_reply_t *self, dir_supplier_t *out,
                            char *error, size_t error_size)
{
    assert(self->verified);
    return dir_answer_read_supplier(self->answer, self->answer_size, out, error,
                                    error_size);
}

int dir_reply_read_suppliers(const dir_reply_t *self, dir_supplier_t **list,
                             size_t *count, char *error, size_t error_size)
{
    assert(self->verified);
    return dir_answer_read_suppliers(self->answer, self->answer_size, list,
                                     count, error, error_size);
}
