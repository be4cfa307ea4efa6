/* Expiry warnings for suppliers' keys. */
#include "directory_key_watch.h"

#include <assert.h>
#include <czmq.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dir_keys.h"
#include "log.h"

struct directory_key_watch {
    int64_t ahead_ms;
    zhashx_t *warned; /* "MPID/key text" -> int64_t when last logged */
};

static void s_time_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

directory_key_watch_t *directory_key_watch_new(int64_t ahead_ms)
{
    assert(ahead_ms > 0);
    directory_key_watch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ahead_ms = ahead_ms;
    self->warned = zhashx_new();
    if (!self->warned) {
        free(self);
        return NULL;
    }
    zhashx_set_destructor(self->warned, s_time_destroy);
    return self;
}

void directory_key_watch_destroy(directory_key_watch_t **self_p)
{
    assert(self_p);
    directory_key_watch_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->warned);
    free(self);
    *self_p = NULL;
}

/* True when another key of the same type is valid when key ends. */
static bool s_has_successor(const dir_supplier_t *supplier,
                            const dir_key_t *key)
{
    for (size_t i = 0; i < supplier->key_count; i++) {
        const dir_key_t *other = &supplier->keys[i];
        if (other != key && other->type == key->type &&
            dir_key_valid_at(other, key->valid_to_ms))
            return true;
    }
    return false;
}

static void s_warn(const dir_supplier_t *supplier, const dir_key_t *key,
                   int64_t now_ms)
{
    char text[DIR_KEY_TEXT_SIZE], end[CLOCK_ISO_SIZE];
    bool successor = s_has_successor(supplier, key);
    long long hours = (long long)((key->valid_to_ms - now_ms) / 3600000);
    log_warning("supplier key ends in %lld hours%s mpid=%s type=%s key=%s "
                "valid_to=%s",
                hours,
                successor ? ""
                          : " and no other key of its type is valid after "
                            "it: register the successor with sdx-directory "
                            "add-key",
                supplier->mpid, dir_key_type_name(key->type),
                dir_key_text(key, text),
                clock_format_iso(key->valid_to_ms, end));
}

/* Logs key when it is due a warning; returns true when it was logged. */
static bool s_check_key(directory_key_watch_t *self,
                        const dir_supplier_t *supplier, const dir_key_t *key,
                        int64_t now_ms)
{
    if (key->valid_to_ms == DIR_OPEN_END || !dir_key_valid_at(key, now_ms) ||
        key->valid_to_ms - now_ms > self->ahead_ms)
        return false;
    char name[DIR_MPID_SIZE + DIR_KEY_TEXT_SIZE + 1], text[DIR_KEY_TEXT_SIZE];
    snprintf(name, sizeof name, "%s/%s", supplier->mpid,
             dir_key_text(key, text));
    int64_t *last = zhashx_lookup(self->warned, name);
    if (last && now_ms - *last < DIRECTORY_KEY_WARNING_REPEAT_MS)
        return false;
    if (!last) {
        last = malloc(sizeof *last);
        if (!last)
            return false;
        zhashx_insert(self->warned, name, last);
    }
    *last = now_ms;
    s_warn(supplier, key, now_ms);
    return true;
}

size_t directory_key_watch_check(directory_key_watch_t *self,
                                 const dir_supplier_t *list, size_t count,
                                 int64_t now_ms)
{
    size_t logged = 0;
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < list[i].key_count; k++)
            if (s_check_key(self, &list[i], &list[i].keys[k], now_ms))
                logged++;
    return logged;
}
