/* Key lifecycle: add, retire, revoke, and keys for answers. */
#include "directory_keys.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "dir_keys.h"
#include "dir_request.h"
#include "hex.h"

/* Longest revocation reason, in bytes. */
#define S_REASON_MAX 200

static const char *s_type_label(dir_key_type_t type)
{
    return type == DIR_KEY_CURVE ? "CURVE key" : "signing key";
}

int directory_keys_parse(dir_key_type_t type, const char *text, dir_key_t *out,
                         char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    if (type == DIR_KEY_SIGN) {
        if (hex_decode(text, out->sign_key, sizeof out->sign_key) == 0)
            return 0;
        snprintf(error, error_size,
                 "invalid signing key '%.80s': expected the 64 hex digits of "
                 "public-key in the supplier's NAME.sign file",
                 text);
        return -1;
    }
    uint8_t raw[32];
    if (strlen(text) == DIR_CURVE_KEY_SIZE - 1 && zmq_z85_decode(raw, text)) {
        memcpy(out->curve_key, text, DIR_CURVE_KEY_SIZE);
        return 0;
    }
    snprintf(error, error_size,
             "invalid CURVE key '%.80s': expected the 40 Z85 characters of "
             "public-key in the supplier's NAME.cert file",
             text);
    return -1;
}

/* Checks that mpid is a supplier in the database. */
static int s_check_supplier(directory_db_t *db, const char *mpid, char *error,
                            size_t error_size)
{
    if (!dir_mpid_is_valid(mpid)) {
        snprintf(error, error_size,
                 "invalid MPID '%.32s': use 4 upper-case letters or digits",
                 mpid);
        return -1;
    }
    dir_supplier_t supplier;
    int found =
        directory_db_get_supplier(db, mpid, &supplier, error, error_size);
    if (found == 0)
        snprintf(error, error_size,
                 "unknown supplier '%s': load it with 'sdx-directory load "
                 "--suppliers' first",
                 mpid);
    return found == 1 ? 0 : -1;
}

/* Records the key change in the change log. */
static int s_record(directory_db_t *db, const char *mpid,
                    const char *description, uint64_t *number, char *error,
                    size_t error_size)
{
    return directory_db_record_supplier_entry(db, clock_now_ms(),
                                              DIR_CHANGE_KEY, mpid, description,
                                              number, error, error_size);
}

/* Ends the write transaction of a change whose steps returned rc: commits
 * when they succeeded, else rolls back. */
static int s_finish(directory_db_t *db, int rc, char *error, size_t error_size)
{
    if (rc != 0 || directory_db_commit(db, error, error_size) != 0) {
        directory_db_rollback(db);
        return -1;
    }
    return 0;
}

/* Add */

static int s_check_new_key(directory_db_t *db, const char *mpid,
                           const dir_key_t *key, char *error, size_t error_size)
{
    char text[DIR_KEY_TEXT_SIZE], owner[DIR_MPID_SIZE];
    dir_key_text(key, text);
    int found =
        directory_db_key_owner(db, key->type, text, owner, error, error_size);
    if (found < 0)
        return -1;
    if (found == 1) {
        snprintf(error, error_size,
                 "%s '%s' is already listed for supplier %s: each key belongs "
                 "to one supplier and is added once (see 'sdx-directory keys "
                 "--mpid %s')",
                 s_type_label(key->type), text, owner, owner);
        return -1;
    }
    directory_key_row_t *rows;
    size_t count;
    if (directory_db_list_keys(db, mpid, &rows, &count, error, error_size) != 0)
        return -1;
    free(rows);
    if (count >= DIR_MAX_KEYS) {
        snprintf(error, error_size,
                 "supplier %s already has %zu keys, the most the directory "
                 "keeps and sends for one supplier",
                 mpid, count);
        return -1;
    }
    return 0;
}

static void s_describe_added(const char *mpid, const dir_key_t *key, char *out,
                             size_t out_size)
{
    char text[DIR_KEY_TEXT_SIZE], from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE + 8];
    dir_key_text(key, text);
    clock_format_iso(key->valid_from_ms, from);
    if (key->valid_to_ms == DIR_OPEN_END)
        snprintf(to, sizeof to, "with no end");
    else
        snprintf(to, sizeof to, "until %s",
                 clock_format_iso(key->valid_to_ms, (char[CLOCK_ISO_SIZE]){0}));
    snprintf(out, out_size, "%s %s of %s added, valid from %s %s",
             s_type_label(key->type), text, mpid, from, to);
}

static int s_add(directory_db_t *db, const char *mpid, const dir_key_t *key,
                 uint64_t *number, char *error, size_t error_size)
{
    if (s_check_supplier(db, mpid, error, error_size) != 0 ||
        s_check_new_key(db, mpid, key, error, error_size) != 0)
        return -1;
    directory_key_row_t row = {.key = *key, .added_ms = clock_now_ms()};
    snprintf(row.mpid, sizeof row.mpid, "%s", mpid);
    row.key.state = DIR_KEY_ACTIVE;
    row.key.revoked_ms = 0;
    char description[256];
    s_describe_added(mpid, key, description, sizeof description);
    if (directory_db_insert_key(db, &row, error, error_size) != 0)
        return -1;
    return s_record(db, mpid, description, number, error, error_size);
}

int directory_keys_add(directory_db_t *db, const char *mpid,
                       const dir_key_t *key, uint64_t *number, char *error,
                       size_t error_size)
{
    if (key->valid_to_ms != DIR_OPEN_END &&
        key->valid_to_ms <= key->valid_from_ms) {
        char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
        snprintf(error, error_size,
                 "end %s is not after start %s: give a later --to",
                 clock_format_iso(key->valid_to_ms, to),
                 clock_format_iso(key->valid_from_ms, from));
        return -1;
    }
    if (directory_db_begin(db, error, error_size) != 0)
        return -1;
    return s_finish(db, s_add(db, mpid, key, number, error, error_size), error,
                    error_size);
}

/* Retire and revoke */

/* Finds the key of mpid whose text is text, or fails naming it. */
static int s_find_key(directory_db_t *db, const char *mpid, const char *text,
                      directory_key_row_t *row, char *error, size_t error_size)
{
    if (s_check_supplier(db, mpid, error, error_size) != 0)
        return -1;
    int found = directory_db_get_key(db, mpid, text, row, error, error_size);
    if (found == 0)
        snprintf(error, error_size,
                 "supplier %s has no key '%.80s': list its keys with "
                 "'sdx-directory keys --mpid %s' (a signing key is written in "
                 "lower-case hex)",
                 mpid, text, mpid);
    return found == 1 ? 0 : -1;
}

static int s_check_retire_time(const directory_key_row_t *row, int64_t at_ms,
                               int64_t now_ms, char *error, size_t error_size)
{
    char at[CLOCK_ISO_SIZE], when[CLOCK_ISO_SIZE];
    clock_format_iso(at_ms, at);
    const dir_key_t *key = &row->key;
    if (key->state != DIR_KEY_ACTIVE) {
        snprintf(error, error_size,
                 "the key is already %s: a key is retired once, and a "
                 "retired key that was compromised is revoked with "
                 "revoke-key",
                 dir_key_state_name(key->state));
        return -1;
    }
    if (at_ms <= key->valid_from_ms) {
        snprintf(error, error_size,
                 "retirement time %s is not after the key's start %s: give "
                 "a later --at",
                 at, clock_format_iso(key->valid_from_ms, when));
        return -1;
    }
    if (at_ms < now_ms - DIRECTORY_RETIRE_SLACK_MS) {
        snprintf(error, error_size,
                 "retirement time %s is in the past, and what the key signed "
                 "since then would stop verifying: give a time from now on, "
                 "or use revoke-key if the key was compromised",
                 at);
        return -1;
    }
    if (key->valid_to_ms != DIR_OPEN_END && at_ms >= key->valid_to_ms) {
        snprintf(error, error_size,
                 "the key already ends at %s, before %s: give an earlier --at",
                 clock_format_iso(key->valid_to_ms, when), at);
        return -1;
    }
    return 0;
}

static bool s_same_key(const dir_key_t *a, const dir_key_t *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == DIR_KEY_CURVE)
        return strcmp(a->curve_key, b->curve_key) == 0;
    return memcmp(a->sign_key, b->sign_key, DIR_SIGN_KEY_SIZE) == 0;
}

/* Writes a warning into note when no other key of the retired key's type
 * is valid just after at_ms. */
static int s_note_successor(directory_db_t *db, const directory_key_row_t *row,
                            int64_t at_ms, char *note, size_t note_size,
                            char *error, size_t error_size)
{
    directory_key_row_t *rows;
    size_t count;
    note[0] = '\0';
    if (directory_db_list_keys(db, row->mpid, &rows, &count, error,
                               error_size) != 0)
        return -1;
    bool successor = false;
    for (size_t i = 0; i < count; i++)
        if (rows[i].key.type == row->key.type &&
            !s_same_key(&rows[i].key, &row->key) &&
            dir_key_valid_at(&rows[i].key, at_ms))
            successor = true;
    free(rows);
    if (!successor) {
        char at[CLOCK_ISO_SIZE];
        snprintf(note, note_size,
                 "warning: %s has no other %s valid at %s, so from then on %s",
                 row->mpid, s_type_label(row->key.type),
                 clock_format_iso(at_ms, at),
                 row->key.type == DIR_KEY_CURVE
                     ? "its node is refused by the directory and the nodes"
                     : "nothing it signs verifies");
    }
    return 0;
}

static int s_retire(directory_db_t *db, const char *mpid, const char *text,
                    int64_t at_ms, int64_t now_ms, uint64_t *number, char *note,
                    size_t note_size, char *error, size_t error_size)
{
    directory_key_row_t row;
    if (s_find_key(db, mpid, text, &row, error, error_size) != 0 ||
        s_check_retire_time(&row, at_ms, now_ms, error, error_size) != 0)
        return -1;
    row.key.valid_to_ms = at_ms;
    row.key.state = DIR_KEY_RETIRED;
    if (directory_db_update_key(db, &row, error, error_size) != 0 ||
        s_note_successor(db, &row, at_ms, note, note_size, error, error_size) !=
            0)
        return -1;
    char description[256], at[CLOCK_ISO_SIZE];
    snprintf(description, sizeof description, "%s %s of %s retired at %s",
             s_type_label(row.key.type), text, mpid,
             clock_format_iso(at_ms, at));
    return s_record(db, mpid, description, number, error, error_size);
}

int directory_keys_retire(directory_db_t *db, const char *mpid,
                          const char *text, int64_t at_ms, int64_t now_ms,
                          uint64_t *number, char *note, size_t note_size,
                          char *error, size_t error_size)
{
    if (directory_db_begin(db, error, error_size) != 0)
        return -1;
    return s_finish(db,
                    s_retire(db, mpid, text, at_ms, now_ms, number, note,
                             note_size, error, error_size),
                    error, error_size);
}

static int s_check_reason(const char *reason, char *error, size_t error_size)
{
    size_t length = strlen(reason);
    if (length == 0 || length > S_REASON_MAX || strchr(reason, '\n') ||
        strchr(reason, '\r')) {
        snprintf(error, error_size,
                 "invalid --reason: give one line of 1 to %d bytes saying why "
                 "the key is revoked",
                 S_REASON_MAX);
        return -1;
    }
    return 0;
}

static int s_revoke(directory_db_t *db, const char *mpid, const char *text,
                    const char *reason, int64_t at_ms, uint64_t *number,
                    char *error, size_t error_size)
{
    directory_key_row_t row;
    if (s_find_key(db, mpid, text, &row, error, error_size) != 0)
        return -1;
    char at[CLOCK_ISO_SIZE];
    if (row.key.state == DIR_KEY_REVOKED) {
        snprintf(error, error_size, "the key is already revoked, from %s (%s)",
                 clock_format_iso(row.key.revoked_ms, at), row.reason);
        return -1;
    }
    row.key.state = DIR_KEY_REVOKED;
    row.key.revoked_ms = at_ms;
    snprintf(row.reason, sizeof row.reason, "%s", reason);
    if (directory_db_update_key(db, &row, error, error_size) != 0)
        return -1;
    char description[512];
    snprintf(description, sizeof description, "%s %s of %s revoked from %s: %s",
             s_type_label(row.key.type), text, mpid,
             clock_format_iso(at_ms, at), reason);
    return s_record(db, mpid, description, number, error, error_size);
}

int directory_keys_revoke(directory_db_t *db, const char *mpid,
                          const char *text, const char *reason, int64_t at_ms,
                          int64_t now_ms, uint64_t *number, char *error,
                          size_t error_size)
{
    if (s_check_reason(reason, error, error_size) != 0)
        return -1;
    if (at_ms > now_ms) {
        char at[CLOCK_ISO_SIZE];
        snprintf(error, error_size,
                 "revocation time %s is in the future: a revocation takes "
                 "effect at once; use retire-key for a planned end",
                 clock_format_iso(at_ms, at));
        return -1;
    }
    if (directory_db_begin(db, error, error_size) != 0)
        return -1;
    return s_finish(
        db, s_revoke(db, mpid, text, reason, at_ms, number, error, error_size),
        error, error_size);
}

/* Keys for answers */

/* Sets curve_key and sign_key to the keys in use at now_ms. */
static void s_set_current(dir_supplier_t *supplier, int64_t now_ms)
{
    const dir_key_t *curve =
        dir_supplier_current_key(supplier, DIR_KEY_CURVE, now_ms);
    const dir_key_t *sign =
        dir_supplier_current_key(supplier, DIR_KEY_SIGN, now_ms);
    if (curve)
        memcpy(supplier->curve_key, curve->curve_key, DIR_CURVE_KEY_SIZE);
    if (sign)
        memcpy(supplier->sign_key, sign->sign_key, DIR_SIGN_KEY_SIZE);
}

/* Appends key to the supplier's keys. add-key keeps a supplier below
 * DIR_MAX_KEYS, but CSV loads that replace keys add more without a check,
 * so past that the oldest key is dropped: a node needs the keys in use
 * now more than those for old signatures.
 * NOTE: a supplier with more keys than DIR_MAX_KEYS thus loses the
 * oldest from its answers, and receipts signed with it stop verifying. */
static void s_append_key(dir_supplier_t *supplier, const dir_key_t *key)
{
    if (supplier->key_count == DIR_MAX_KEYS) {
        memmove(&supplier->keys[0], &supplier->keys[1],
                (DIR_MAX_KEYS - 1) * sizeof supplier->keys[0]);
        supplier->key_count--;
    }
    supplier->keys[supplier->key_count++] = *key;
}

int directory_keys_attach(directory_db_t *db, dir_supplier_t *list,
                          size_t count, int64_t now_ms, char *error,
                          size_t error_size)
{
    directory_key_row_t *rows;
    size_t row_count;
    const char *only = count == 1 ? list[0].mpid : NULL;
    if (directory_db_list_keys(db, only, &rows, &row_count, error,
                               error_size) != 0)
        return -1;
    /* Both lists are ordered by MPID, so one pass matches them. */
    size_t at = 0;
    for (size_t i = 0; i < count; i++)
        list[i].key_count = 0;
    for (size_t i = 0; i < row_count; i++) {
        while (at < count && strcmp(list[at].mpid, rows[i].mpid) < 0)
            at++;
        if (at == count)
            break;
        dir_supplier_t *supplier = &list[at];
        if (strcmp(supplier->mpid, rows[i].mpid) == 0)
            s_append_key(supplier, &rows[i].key);
    }
    free(rows);
    for (size_t i = 0; i < count; i++)
        s_set_current(&list[i], now_ms);
    return 0;
}
