/* Key validity and signature checks over a supplier's keys. */
#include "dir_keys.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "hex.h"
#include "sign.h"

bool dir_key_valid_at(const dir_key_t *key, int64_t at_ms)
{
    if (at_ms < key->valid_from_ms)
        return false;
    if (key->valid_to_ms != DIR_OPEN_END && at_ms >= key->valid_to_ms)
        return false;
    return key->state != DIR_KEY_REVOKED || at_ms < key->revoked_ms;
}

const char *dir_key_type_name(dir_key_type_t type)
{
    return type == DIR_KEY_CURVE ? "curve" : "sign";
}

const char *dir_key_state_name(dir_key_state_t state)
{
    switch (state) {
    case DIR_KEY_ACTIVE:
        return "active";
    case DIR_KEY_RETIRED:
        return "retired";
    case DIR_KEY_REVOKED:
        return "revoked";
    }
    return "unknown";
}

int dir_key_type_parse(const char *text, dir_key_type_t *type)
{
    if (strcmp(text, "curve") == 0)
        *type = DIR_KEY_CURVE;
    else if (strcmp(text, "sign") == 0)
        *type = DIR_KEY_SIGN;
    else
        return -1;
    return 0;
}

int dir_key_state_parse(const char *text, dir_key_state_t *state)
{
    static const dir_key_state_t states[] = {DIR_KEY_ACTIVE, DIR_KEY_RETIRED,
                                             DIR_KEY_REVOKED};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        if (strcmp(text, dir_key_state_name(states[i])) == 0) {
            *state = states[i];
            return 0;
        }
    return -1;
}

char *dir_key_text(const dir_key_t *key, char out[DIR_KEY_TEXT_SIZE])
{
    if (key->type == DIR_KEY_CURVE)
        snprintf(out, DIR_KEY_TEXT_SIZE, "%s", key->curve_key);
    else
        hex_encode(key->sign_key, DIR_SIGN_KEY_SIZE, out);
    return out;
}

/* The supplier's keys: its list, or for a supplier without one its two
 * keys in use, valid at any time, built in spare. */
static const dir_key_t *s_keys(const dir_supplier_t *supplier,
                               dir_key_t spare[2], size_t *count)
{
    if (supplier->key_count > 0) {
        *count = supplier->key_count;
        return supplier->keys;
    }
    memset(spare, 0, 2 * sizeof *spare);
    spare[0].type = DIR_KEY_CURVE;
    memcpy(spare[0].curve_key, supplier->curve_key, DIR_CURVE_KEY_SIZE);
    spare[1].type = DIR_KEY_SIGN;
    memcpy(spare[1].sign_key, supplier->sign_key, DIR_SIGN_KEY_SIZE);
    for (int i = 0; i < 2; i++) {
        spare[i].valid_from_ms = INT64_MIN;
        spare[i].valid_to_ms = DIR_OPEN_END;
    }
    *count = 2;
    return spare;
}

const dir_key_t *dir_supplier_current_key(const dir_supplier_t *supplier,
                                          dir_key_type_t type, int64_t at_ms)
{
    if (supplier->key_count == 0)
        return NULL;
    const dir_key_t *best = NULL;
    for (size_t i = 0; i < supplier->key_count; i++) {
        const dir_key_t *key = &supplier->keys[i];
        if (key->type == type && dir_key_valid_at(key, at_ms) &&
            (!best || key->valid_from_ms > best->valid_from_ms))
            best = key;
    }
    return best;
}

size_t dir_supplier_curve_keys(const dir_supplier_t *supplier, int64_t at_ms,
                               const char **keys, size_t max)
{
    if (supplier->key_count == 0) {
        if (max > 0)
            keys[0] = supplier->curve_key;
        return 1;
    }
    size_t found = 0;
    for (size_t i = 0; i < supplier->key_count; i++) {
        const dir_key_t *key = &supplier->keys[i];
        if (key->type != DIR_KEY_CURVE || !dir_key_valid_at(key, at_ms))
            continue;
        if (found < max)
            keys[found] = key->curve_key;
        found++;
    }
    return found;
}

static void s_earliest_after(int64_t candidate, int64_t after_ms,
                             int64_t *earliest)
{
    if (candidate > after_ms && candidate < *earliest)
        *earliest = candidate;
}

int64_t dir_supplier_next_key_change(const dir_supplier_t *supplier,
                                     int64_t after_ms)
{
    int64_t earliest = DIR_OPEN_END;
    for (size_t i = 0; i < supplier->key_count; i++) {
        const dir_key_t *key = &supplier->keys[i];
        s_earliest_after(key->valid_from_ms, after_ms, &earliest);
        if (key->valid_to_ms != DIR_OPEN_END)
            s_earliest_after(key->valid_to_ms, after_ms, &earliest);
        if (key->state == DIR_KEY_REVOKED)
            s_earliest_after(key->revoked_ms, after_ms, &earliest);
    }
    return earliest;
}

/* Signature checks */

/* Describes a key's validity, such as "valid from A until B". */
static void s_describe_validity(const dir_key_t *key, char *out,
                                size_t out_size)
{
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
    if (key->valid_from_ms == INT64_MIN)
        snprintf(from, sizeof from, "the start");
    else
        clock_format_iso(key->valid_from_ms, from);
    if (key->valid_to_ms == DIR_OPEN_END)
        snprintf(out, out_size, "valid from %s with no end", from);
    else
        snprintf(out, out_size, "valid from %s until %s", from,
                 clock_format_iso(key->valid_to_ms, to));
}

static dir_signature_t s_refuse(const dir_supplier_t *supplier,
                                const dir_key_t *key, int64_t signed_ms,
                                char *reason, size_t reason_size)
{
    char text[DIR_KEY_TEXT_SIZE], at[CLOCK_ISO_SIZE], validity[96];
    char revoked[CLOCK_ISO_SIZE];
    dir_key_text(key, text);
    clock_format_iso(signed_ms, at);
    if (key->state == DIR_KEY_REVOKED && signed_ms >= key->revoked_ms) {
        snprintf(reason, reason_size,
                 "signed at %s with %s's signing key %.16s..., which is "
                 "revoked from %s",
                 at, supplier->mpid, text,
                 clock_format_iso(key->revoked_ms, revoked));
        return DIR_SIGNATURE_REVOKED;
    }
    s_describe_validity(key, validity, sizeof validity);
    snprintf(reason, reason_size,
             "signed at %s with %s's signing key %.16s..., which is %s, not "
             "at that time",
             at, supplier->mpid, text, validity);
    return DIR_SIGNATURE_NOT_VALID;
}

dir_signature_t dir_supplier_verify(const dir_supplier_t *supplier,
                                    int64_t signed_ms, const char *domain,
                                    const void *data, size_t size,
                                    const uint8_t signature[64], char *reason,
                                    size_t reason_size)
{
    dir_key_t spare[2];
    size_t count;
    const dir_key_t *keys = s_keys(supplier, spare, &count);
    for (size_t i = 0; i < count; i++)
        if (keys[i].type == DIR_KEY_SIGN &&
            dir_key_valid_at(&keys[i], signed_ms) &&
            sign_verify(keys[i].sign_key, domain, data, size, signature))
            return DIR_SIGNATURE_OK;
    for (size_t i = 0; i < count; i++)
        if (keys[i].type == DIR_KEY_SIGN &&
            !dir_key_valid_at(&keys[i], signed_ms) &&
            sign_verify(keys[i].sign_key, domain, data, size, signature))
            return s_refuse(supplier, &keys[i], signed_ms, reason, reason_size);
    snprintf(reason, reason_size,
             "the signature is not made by any signing key the directory "
             "lists for %s",
             supplier->mpid);
    return DIR_SIGNATURE_BAD;
}
