/* Change feed messages and the dir.changes answer. */
#include "dir_changes.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_request.h"
#include "envelope.h"
#include "mpxn.h"

/* Packing */

static size_t s_change_keys(const dir_change_t *change)
{
    return 3 + (change->mpxn[0] ? 1 : 0) + (change->mpid[0] ? 1 : 0);
}

/* Packs the keys of one change: change, kind, at and, when set, mpxn and
 * mpid. */
static void s_pack_change_keys(msgpack_packer *pk, const dir_change_t *change)
{
    mp_pack_kv_u64(pk, "change", change->number);
    mp_pack_kv_str(pk, "kind", change->kind);
    if (change->mpxn[0])
        mp_pack_kv_str(pk, "mpxn", change->mpxn);
    if (change->mpid[0])
        mp_pack_kv_str(pk, "mpid", change->mpid);
    mp_pack_kv_i64(pk, "at", change->at_ms);
}

/* Packs v, type and ts, the header of a feed message, which has no id
 * because it answers no request. */
static void s_pack_feed_header(msgpack_packer *pk, size_t map_size,
                               const char *type, int64_t ts)
{
    msgpack_pack_map(pk, map_size);
    mp_pack_kv_u64(pk, "v", ENVELOPE_VERSION);
    mp_pack_kv_str(pk, "type", type);
    mp_pack_kv_i64(pk, "ts", ts);
}

void dir_changes_pack_change(msgpack_sbuffer *out, const dir_change_t *change,
                             int64_t ts)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    s_pack_feed_header(&pk, 3 + s_change_keys(change), DIR_TYPE_CHANGE, ts);
    s_pack_change_keys(&pk, change);
}

void dir_changes_pack_head(msgpack_sbuffer *out, uint64_t head, int64_t ts)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    s_pack_feed_header(&pk, 4, DIR_TYPE_HEAD, ts);
    mp_pack_kv_u64(&pk, "change", head);
}

void dir_changes_pack_answer(msgpack_sbuffer *out,
                             const dir_change_list_t *list)
{
    assert(list->count <= DIR_CHANGES_MAX);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    mp_pack_kv_str(&pk, "kind", DIR_KIND_CHANGES);
    mp_pack_kv_u64(&pk, "since", list->since);
    mp_pack_kv_u64(&pk, "head", list->head);
    mp_pack_kv_bool(&pk, "more", list->more);
    mp_pack_cstr(&pk, "changes");
    msgpack_pack_array(&pk, list->count);
    for (size_t i = 0; i < list->count; i++) {
        msgpack_pack_map(&pk, s_change_keys(&list->changes[i]));
        s_pack_change_keys(&pk, &list->changes[i]);
    }
    mp_pack_kv_i64(&pk, "issued", list->issued_ms);
    mp_pack_kv_i64(&pk, "expires", list->expires_ms);
}

/* Reading */

static int s_read_identifiers(const msgpack_object *map, dir_change_t *out,
                              char *error, size_t error_size)
{
    int rc = mp_get_str_opt(map, "mpxn", out->mpxn, sizeof out->mpxn, error,
                            error_size);
    if (rc < 0)
        return -1;
    if (rc == 0 && mpxn_classify(out->mpxn, error, error_size) == MPXN_INVALID)
        return -1;
    rc = mp_get_str_opt(map, "mpid", out->mpid, sizeof out->mpid, error,
                        error_size);
    if (rc < 0)
        return -1;
    if (rc == 0 && !dir_mpid_is_valid(out->mpid)) {
        snprintf(error, error_size,
                 "key 'mpid' is '%s', not 4 upper-case letters or digits",
                 out->mpid);
        return -1;
    }
    return 0;
}

/* Reads the keys of one change from map. */
static int s_read_change_keys(const msgpack_object *map, dir_change_t *out,
                              char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    if (mp_get_u64(map, "change", &out->number, error, error_size) != 0 ||
        mp_get_str(map, "kind", out->kind, sizeof out->kind, error,
                   error_size) != 0 ||
        mp_get_i64(map, "at", &out->at_ms, error, error_size) != 0)
        return -1;
    if (out->number == 0 || !out->kind[0]) {
        snprintf(error, error_size,
                 "a change needs a number of at least 1 and a kind");
        return -1;
    }
    return s_read_identifiers(map, out, error, error_size);
}

static int s_read_feed_header(const msgpack_object *root, char *type,
                              size_t type_size, int64_t *ts, char *error,
                              size_t error_size)
{
    uint64_t version;
    if (mp_get_u64(root, "v", &version, error, error_size) != 0 ||
        mp_get_str(root, "type", type, type_size, error, error_size) != 0 ||
        mp_get_i64(root, "ts", ts, error, error_size) != 0)
        return -1;
    if (version != ENVELOPE_VERSION) {
        snprintf(error, error_size,
                 "feed message has protocol version %llu, expected %d",
                 (unsigned long long)version, ENVELOPE_VERSION);
        return -1;
    }
    return 0;
}

static int s_read_message(const msgpack_object *root, dir_feed_message_t *out,
                          char *error, size_t error_size)
{
    char type[ENVELOPE_TYPE_SIZE];
    if (s_read_feed_header(root, type, sizeof type, &out->ts, error,
                           error_size) != 0)
        return -1;
    if (strcmp(type, DIR_TYPE_HEAD) == 0) {
        out->is_head = true;
        return mp_get_u64(root, "change", &out->head, error, error_size);
    }
    if (strcmp(type, DIR_TYPE_CHANGE) == 0)
        return s_read_change_keys(root, &out->change, error, error_size);
    snprintf(error, error_size,
             "unknown feed message type '%s': expected " DIR_TYPE_CHANGE
             " or " DIR_TYPE_HEAD,
             type);
    return -1;
}

int dir_changes_decode_message(const void *data, size_t size,
                               dir_feed_message_t *out, char *error,
                               size_t error_size)
{
    memset(out, 0, sizeof *out);
    envelope_t *envelope = envelope_decode(data, size, NULL, error, error_size);
    if (!envelope)
        return -1;
    int rc = s_read_message(envelope_root(envelope), out, error, error_size);
    envelope_destroy(&envelope);
    return rc;
}

static int s_read_list_header(const msgpack_object *root,
                              dir_change_list_t *out, char *error,
                              size_t error_size)
{
    char kind[32];
    if (mp_get_str(root, "kind", kind, sizeof kind, error, error_size) != 0)
        return -1;
    if (strcmp(kind, DIR_KIND_CHANGES) != 0) {
        snprintf(error, error_size,
                 "answer kind is '%s', expected '" DIR_KIND_CHANGES "'", kind);
        return -1;
    }
    if (mp_get_u64(root, "since", &out->since, error, error_size) != 0 ||
        mp_get_u64(root, "head", &out->head, error, error_size) != 0 ||
        mp_get_bool(root, "more", &out->more, error, error_size) != 0 ||
        mp_get_i64(root, "issued", &out->issued_ms, error, error_size) != 0 ||
        mp_get_i64(root, "expires", &out->expires_ms, error, error_size) != 0)
        return -1;
    return 0;
}

/* Checks that change i follows the one before it and lies in
 * (since, head]. */
static int s_check_order(const dir_change_list_t *list, size_t i, char *error,
                         size_t error_size)
{
    uint64_t number = list->changes[i].number;
    uint64_t floor = i == 0 ? list->since : list->changes[i - 1].number;
    if (number > floor && number <= list->head)
        return 0;
    snprintf(error, error_size,
             "change %llu is out of order: expected a number above %llu and "
             "not above the head %llu",
             (unsigned long long)number, (unsigned long long)floor,
             (unsigned long long)list->head);
    return -1;
}

static int s_read_list_entries(const msgpack_object *array,
                               dir_change_list_t *out, char *error,
                               size_t error_size)
{
    char reason[256];
    for (size_t i = 0; i < out->count; i++) {
        const msgpack_object *item = &array->via.array.ptr[i];
        if (item->type != MSGPACK_OBJECT_MAP) {
            snprintf(error, error_size, "change %zu must be a map", i);
            return -1;
        }
        if (s_read_change_keys(item, &out->changes[i], reason, sizeof reason) !=
            0) {
            snprintf(error, error_size, "change %zu: %s", i, reason);
            return -1;
        }
        if (s_check_order(out, i, error, error_size) != 0)
            return -1;
    }
    return 0;
}

static int s_read_list(const msgpack_object *root, dir_change_list_t *out,
                       char *error, size_t error_size)
{
    const msgpack_object *array;
    if (s_read_list_header(root, out, error, error_size) != 0 ||
        mp_get_container(root, "changes", MSGPACK_OBJECT_ARRAY, &array, error,
                         error_size) != 0)
        return -1;
    if (array->via.array.size > DIR_CHANGES_MAX) {
        snprintf(error, error_size,
                 "key 'changes' has %u entries, at most %d allowed",
                 array->via.array.size, DIR_CHANGES_MAX);
        return -1;
    }
    out->count = array->via.array.size;
    if (out->count == 0)
        return 0;
    out->changes = calloc(out->count, sizeof *out->changes);
    if (!out->changes) {
        snprintf(error, error_size, "out of memory for %zu changes",
                 out->count);
        out->count = 0;
        return -1;
    }
    return s_read_list_entries(array, out, error, error_size);
}

int dir_changes_read_answer(const void *answer, size_t size,
                            dir_change_list_t *out, char *error,
                            size_t error_size)
{
    memset(out, 0, sizeof *out);
    envelope_t *envelope =
        envelope_decode(answer, size, NULL, error, error_size);
    if (!envelope)
        return -1;
    int rc = s_read_list(envelope_root(envelope), out, error, error_size);
    envelope_destroy(&envelope);
    if (rc != 0)
        dir_change_list_clear(out);
    return rc;
}

void dir_change_list_clear(dir_change_list_t *list)
{
    free(list->changes);
    list->changes = NULL;
    list->count = 0;
}
