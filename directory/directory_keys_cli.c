/* sdx-directory add-key, retire-key, revoke-key and keys. */
#include "directory_keys_cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dir_keys.h"
#include "directory_cli.h"
#include "directory_db.h"
#include "directory_keys.h"

#define PROGRAM "sdx-directory"

const char directory_add_key_usage[] =
    "Usage: " PROGRAM " add-key --db FILE --mpid MPID\n"
    "           (--curve-key Z85 | --sign-key HEX) --from TIME [--to TIME]\n"
    "\n"
    "Registers a new CURVE or signing key for a supplier, valid from TIME\n"
    "(inclusive) until --to (exclusive; no end without it). It may overlap\n"
    "the supplier's other keys, so a node can move to the new key while\n"
    "the old one still works. The change is recorded in the change log\n"
    "(kind key), so nodes on the change feed take it within a second.\n"
    "\n"
    "  --db FILE        directory database\n"
    "  --mpid MPID      the supplier\n"
    "  --curve-key Z85  the 40 Z85 characters of public-key in the node's\n"
    "                   new NAME.cert file\n"
    "  --sign-key HEX   the 64 hex digits of public-key in the node's new\n"
    "                   NAME.sign file\n"
    "  --from TIME      start, ISO 8601 UTC (2026-07-01T00:00:00Z) or now\n"
    "  --to TIME        end, ISO 8601 UTC or now\n";

const char directory_retire_key_usage[] =
    "Usage: " PROGRAM " retire-key --db FILE --mpid MPID --key KEY\n"
    "           --at TIME\n"
    "\n"
    "Ends a key normally at TIME: from then on a CURVE key is refused and\n"
    "a signing key signs nothing new, but receipts and acknowledgements it\n"
    "signed while it was valid still verify. TIME may not be more than 300\n"
    "seconds in the past. Warns when the supplier has no other key of the\n"
    "same type valid at TIME.\n"
    "\n"
    "  --db FILE    directory database\n"
    "  --mpid MPID  the supplier\n"
    "  --key KEY    the key as 'keys' lists it (Z85, or hex for a signing\n"
    "               key)\n"
    "  --at TIME    end, ISO 8601 UTC or now\n";

const char directory_revoke_key_usage[] =
    "Usage: " PROGRAM " revoke-key --db FILE --mpid MPID --key KEY\n"
    "           --reason TEXT [--at TIME]\n"
    "\n"
    "Revokes a compromised key. The directory refuses a revoked CURVE key\n"
    "at once, and nodes on the change feed within about a second, also on\n"
    "connections already open. Anything signed with a revoked signing key\n"
    "that carries a time (served_at, acked_at) at or after the revocation\n"
    "time is refused, whenever it is checked; set --at to when the key may\n"
    "first have been exposed.\n"
    "\n"
    "  --db FILE      directory database\n"
    "  --mpid MPID    the supplier\n"
    "  --key KEY      the key as 'keys' lists it\n"
    "  --reason TEXT  why, one line of at most 200 bytes\n"
    "  --at TIME      revoked from, ISO 8601 UTC, not in the future\n"
    "                 (default now)\n";

const char directory_keys_usage[] =
    "Usage: " PROGRAM " keys --db FILE [--mpid MPID]\n"
    "\n"
    "Lists suppliers' keys: supplier, type (curve or sign), state (active,\n"
    "retired or revoked), whether it is valid now (valid, not_yet, ended,\n"
    "revoked), its validity and the key, then for a revoked key when and\n"
    "why.\n"
    "\n"
    "  --db FILE    directory database\n"
    "  --mpid MPID  only this supplier's keys\n";

bool directory_cli_parse_time(const char *command, const char *name,
                              const char *text, int64_t *ms)
{
    if (strcmp(text, "now") == 0) {
        *ms = clock_now_ms();
        return true;
    }
    if (clock_parse_iso(text, ms) == 0)
        return true;
    fprintf(stderr,
            PROGRAM " %s: invalid --%s '%s': use an ISO 8601 UTC time such as "
                    "2026-07-01T00:00:00Z, or now\n",
            command, name, text);
    return false;
}

static directory_db_t *s_open(const char *command, const char *path)
{
    char error[512];
    directory_db_t *db = directory_db_open(path, false, error, sizeof error);
    if (!db)
        fprintf(stderr, PROGRAM " %s: %s\n", command, error);
    return db;
}

static int s_report(const char *command, int rc, const char *error)
{
    if (rc == 0)
        return DIRECTORY_EXIT_OK;
    fprintf(stderr, PROGRAM " %s: %s\n", command, error);
    return DIRECTORY_EXIT_FAILED;
}

/* Copies the --key value, lower-casing a signing key's hex digits, which
 * is how the database keeps them. */
static void s_normalise_key(const char *text, char out[DIR_KEY_TEXT_SIZE])
{
    snprintf(out, DIR_KEY_TEXT_SIZE, "%s", text);
    if (strlen(text) != 2 * DIR_SIGN_KEY_SIZE ||
        strspn(text, "0123456789abcdefABCDEF") != strlen(text))
        return;
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

/* add-key */

static int s_read_new_key(const char *curve_key, const char *sign_key,
                          const char *from, const char *to, dir_key_t *key)
{
    char error[256];
    if ((curve_key != NULL) == (sign_key != NULL)) {
        fprintf(stderr, PROGRAM " add-key: give exactly one of --curve-key "
                                "and --sign-key\n");
        return DIRECTORY_EXIT_USAGE;
    }
    dir_key_type_t type = curve_key ? DIR_KEY_CURVE : DIR_KEY_SIGN;
    if (directory_keys_parse(type, curve_key ? curve_key : sign_key, key, error,
                             sizeof error) != 0) {
        fprintf(stderr, PROGRAM " add-key: %s\n", error);
        return DIRECTORY_EXIT_USAGE;
    }
    key->valid_to_ms = DIR_OPEN_END;
    if (!directory_cli_parse_time("add-key", "from", from,
                                  &key->valid_from_ms) ||
        (to &&
         !directory_cli_parse_time("add-key", "to", to, &key->valid_to_ms)))
        return DIRECTORY_EXIT_USAGE;
    return DIRECTORY_EXIT_OK;
}

int directory_add_key_command(const char *db_path, const char *mpid,
                              const char *curve_key, const char *sign_key,
                              const char *from, const char *to)
{
    dir_key_t key;
    int code = s_read_new_key(curve_key, sign_key, from, to, &key);
    if (code != DIRECTORY_EXIT_OK)
        return code;
    directory_db_t *db = s_open("add-key", db_path);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[768], text[DIR_KEY_TEXT_SIZE], start[CLOCK_ISO_SIZE];
    uint64_t number;
    int rc = directory_keys_add(db, mpid, &key, &number, error, sizeof error);
    directory_db_destroy(&db);
    if (rc == 0)
        printf("%s key %s added to %s, valid from %s (change %llu)\n",
               dir_key_type_name(key.type), dir_key_text(&key, text), mpid,
               clock_format_iso(key.valid_from_ms, start),
               (unsigned long long)number);
    return s_report("add-key", rc, error);
}

/* retire-key and revoke-key */

int directory_retire_key_command(const char *db_path, const char *mpid,
                                 const char *key, const char *at)
{
    int64_t at_ms;
    if (!directory_cli_parse_time("retire-key", "at", at, &at_ms))
        return DIRECTORY_EXIT_USAGE;
    directory_db_t *db = s_open("retire-key", db_path);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[768], note[256], text[DIR_KEY_TEXT_SIZE], when[CLOCK_ISO_SIZE];
    uint64_t number;
    s_normalise_key(key, text);
    int rc =
        directory_keys_retire(db, mpid, text, at_ms, clock_now_ms(), &number,
                              note, sizeof note, error, sizeof error);
    directory_db_destroy(&db);
    if (rc == 0) {
        printf("key %s of %s retired at %s (change %llu)\n", text, mpid,
               clock_format_iso(at_ms, when), (unsigned long long)number);
        if (note[0])
            fprintf(stderr, PROGRAM " retire-key: %s\n", note);
    }
    return s_report("retire-key", rc, error);
}

int directory_revoke_key_command(const char *db_path, const char *mpid,
                                 const char *key, const char *reason,
                                 const char *at)
{
    int64_t now_ms = clock_now_ms();
    int64_t at_ms = now_ms;
    if (at && !directory_cli_parse_time("revoke-key", "at", at, &at_ms))
        return DIRECTORY_EXIT_USAGE;
    directory_db_t *db = s_open("revoke-key", db_path);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[768], text[DIR_KEY_TEXT_SIZE], when[CLOCK_ISO_SIZE];
    uint64_t number;
    s_normalise_key(key, text);
    int rc = directory_keys_revoke(db, mpid, text, reason, at_ms, now_ms,
                                   &number, error, sizeof error);
    directory_db_destroy(&db);
    if (rc == 0)
        printf("key %s of %s revoked from %s (change %llu)\n", text, mpid,
               clock_format_iso(at_ms, when), (unsigned long long)number);
    return s_report("revoke-key", rc, error);
}

/* keys */

/* Whether the key is valid now, in one word. */
static const char *s_now_word(const dir_key_t *key, int64_t now_ms)
{
    if (dir_key_valid_at(key, now_ms))
        return "valid";
    if (key->state == DIR_KEY_REVOKED && now_ms >= key->revoked_ms)
        return "revoked";
    return now_ms < key->valid_from_ms ? "not_yet" : "ended";
}

static void s_print_key(const directory_key_row_t *row, int64_t now_ms)
{
    const dir_key_t *key = &row->key;
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE], text[DIR_KEY_TEXT_SIZE];
    clock_format_iso(key->valid_from_ms, from);
    if (key->valid_to_ms == DIR_OPEN_END)
        snprintf(to, sizeof to, "-");
    else
        clock_format_iso(key->valid_to_ms, to);
    printf("%-4s  %-5s  %-7s  %-7s  %-24s  %-24s  %s", row->mpid,
           dir_key_type_name(key->type), dir_key_state_name(key->state),
           s_now_word(key, now_ms), from, to, dir_key_text(key, text));
    if (key->state == DIR_KEY_REVOKED) {
        char revoked[CLOCK_ISO_SIZE];
        printf("  revoked from %s: %s",
               clock_format_iso(key->revoked_ms, revoked), row->reason);
    }
    printf("\n");
}

int directory_keys_command(const char *db_path, const char *mpid)
{
    directory_db_t *db = s_open("keys", db_path);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[512];
    directory_key_row_t *rows;
    size_t count;
    int rc =
        directory_db_list_keys(db, mpid, &rows, &count, error, sizeof error);
    directory_db_destroy(&db);
    if (rc != 0)
        return s_report("keys", rc, error);
    printf("%-4s  %-5s  %-7s  %-7s  %-24s  %-24s  %s\n", "mpid", "type",
           "state", "now", "valid from", "valid to", "key");
    int64_t now_ms = clock_now_ms();
    for (size_t i = 0; i < count; i++)
        s_print_key(&rows[i], now_ms);
    free(rows);
    if (mpid && count == 0) {
        fprintf(stderr, PROGRAM " keys: supplier '%s' has no keys in %s\n",
                mpid, db_path);
        return DIRECTORY_EXIT_FAILED;
    }
    return DIRECTORY_EXIT_OK;
}
