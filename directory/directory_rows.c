/* Row checks and stores for suppliers, supply points and registrations. */
#include "directory_rows.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "dir_request.h"
#include "hex.h"
#include "mpxn.h"

/* Values are quoted in reasons up to this many bytes. */
#define S_SHOWN "%.64s"

/* Shared checks */

static bool s_copy_text(const char *what, const char *value, char *out,
                        size_t out_size, char *reason, size_t reason_size)
{
    size_t length = strlen(value);
    if (length == 0) {
        snprintf(reason, reason_size, "%s is empty", what);
        return false;
    }
    if (length >= out_size) {
        snprintf(reason, reason_size,
                 "%s '" S_SHOWN "' is longer than %zu bytes", what, value,
                 out_size - 1);
        return false;
    }
    memcpy(out, value, length + 1);
    return true;
}

static bool s_check_mpid(const char *what, const char *value, char *reason,
                         size_t reason_size)
{
    if (dir_mpid_is_valid(value))
        return true;
    snprintf(reason, reason_size,
             "invalid %s '" S_SHOWN "': use 4 upper-case letters or digits",
             what, value);
    return false;
}

/* Checks that mpid is a known supplier. Returns 1 when known, 0 when
 * rejected (reason set), -1 on a database failure. */
static int s_known_supplier(directory_db_t *db, const char *what,
                            const char *mpid, char *reason, size_t reason_size)
{
    if (!s_check_mpid(what, mpid, reason, reason_size))
        return 0;
    dir_supplier_t supplier;
    int found =
        directory_db_get_supplier(db, mpid, &supplier, reason, reason_size);
    if (found == 0)
        snprintf(reason, reason_size,
                 "unknown %s '%s': add it to suppliers.csv first", what, mpid);
    return found;
}

bool directory_endpoint_is_valid(const char *text)
{
    if (strlen(text) >= DIR_ENDPOINT_SIZE)
        return false;
    if (strncmp(text, "ipc://", 6) == 0)
        return text[6] != '\0';
    if (strncmp(text, "tcp://", 6) != 0)
        return false;
    const char *colon = strrchr(text + 6, ':');
    if (!colon || colon == text + 6 || colon[1] == '\0')
        return false;
    long port = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (!isdigit((unsigned char)*c) || port > 65535)
            return false;
        port = port * 10 + (*c - '0');
    }
    return port >= 1 && port <= 65535;
}

void directory_format_period(const dir_registration_t *registration, char *out,
                             size_t out_size)
{
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
    clock_format_iso(registration->from_ms, from);
    if (registration->to_ms == DIR_OPEN_END)
        snprintf(out, out_size, "%s onwards", from);
    else
        snprintf(out, out_size, "%s to %s", from,
                 clock_format_iso(registration->to_ms, to));
}

/* Suppliers */

static bool s_check_curve_key(const char *value, char *out, char *reason,
                              size_t reason_size)
{
    uint8_t key[32];
    if (strlen(value) == DIR_CURVE_KEY_SIZE - 1 && zmq_z85_decode(key, value)) {
        memcpy(out, value, DIR_CURVE_KEY_SIZE);
        return true;
    }
    snprintf(reason, reason_size,
             "invalid CURVE key '" S_SHOWN "': expected the 40 Z85 "
             "characters of public-key in the supplier's .cert file",
             value);
    return false;
}

static bool s_check_sign_key(const char *value, uint8_t *out, char *reason,
                             size_t reason_size)
{
    if (hex_decode(value, out, DIR_SIGN_KEY_SIZE) == 0)
        return true;
    snprintf(reason, reason_size,
             "invalid signing key '" S_SHOWN "': expected the 64 hex digits "
             "of public-key in the supplier's .sign file",
             value);
    return false;
}

static bool s_parse_supplier(const char *const *fields, dir_supplier_t *out,
                             char *reason, size_t reason_size)
{
    memset(out, 0, sizeof *out);
    if (!s_check_mpid("MPID", fields[0], reason, reason_size))
        return false;
    memcpy(out->mpid, fields[0], DIR_MPID_SIZE);
    if (!s_copy_text("supplier name", fields[1], out->name, sizeof out->name,
                     reason, reason_size))
        return false;
    if (!directory_endpoint_is_valid(fields[2])) {
        snprintf(reason, reason_size,
                 "invalid endpoint '" S_SHOWN "': use tcp://HOST:PORT or "
                 "ipc://PATH",
                 fields[2]);
        return false;
    }
    snprintf(out->endpoint, sizeof out->endpoint, "%s", fields[2]);
    return s_check_curve_key(fields[3], out->curve_key, reason, reason_size) &&
           s_check_sign_key(fields[4], out->sign_key, reason, reason_size);
}

static bool s_same_supplier(const dir_supplier_t *a, const dir_supplier_t *b)
{
    return strcmp(a->name, b->name) == 0 &&
           strcmp(a->endpoint, b->endpoint) == 0 &&
           strcmp(a->curve_key, b->curve_key) == 0 &&
           memcmp(a->sign_key, b->sign_key, DIR_SIGN_KEY_SIZE) == 0;
}

/* Rejects a CURVE key that another supplier already has, because the key
 * is how the directory and the nodes tell suppliers apart. */
static int s_check_key_owner(directory_db_t *db, const dir_supplier_t *row,
                             char *reason, size_t reason_size)
{
    char owner[DIR_MPID_SIZE];
    int found = directory_db_find_curve_key(db, row->curve_key, owner, reason,
                                            reason_size);
    if (found < 0)
        return -1;
    if (found == 1 && strcmp(owner, row->mpid) != 0) {
        snprintf(reason, reason_size,
                 "CURVE key '%s' already belongs to supplier %s: each "
                 "supplier needs its own key",
                 row->curve_key, owner);
        return 0;
    }
    return 1;
}

directory_row_result_t directory_row_supplier(directory_db_t *db,
                                              const char *const *fields,
                                              char *reason, size_t reason_size)
{
    dir_supplier_t row, existing;
    if (!s_parse_supplier(fields, &row, reason, reason_size))
        return ROW_REJECTED;
    int owner = s_check_key_owner(db, &row, reason, reason_size);
    if (owner <= 0)
        return owner < 0 ? ROW_FAILED : ROW_REJECTED;

    int found =
        directory_db_get_supplier(db, row.mpid, &existing, reason, reason_size);
    if (found < 0)
        return ROW_FAILED;
    if (found == 1 && s_same_supplier(&row, &existing))
        return ROW_UNCHANGED;
    if (directory_db_put_supplier(db, &row, reason, reason_size) != 0)
        return ROW_FAILED;
    return found ? ROW_UPDATED : ROW_ADDED;
}

/* Supply points */

static bool s_check_fuel(const char *mpxn, mpxn_kind_t kind, const char *fuel,
                         char *out, char *reason, size_t reason_size)
{
    const char *expected = kind == MPXN_MPAN ? "electricity" : "gas";
    if (strcmp(fuel, "electricity") != 0 && strcmp(fuel, "gas") != 0) {
        snprintf(reason, reason_size,
                 "invalid fuel '" S_SHOWN "': use electricity or gas", fuel);
        return false;
    }
    if (strcmp(fuel, expected) != 0) {
        snprintf(reason, reason_size,
                 "fuel '%s' does not match '%s', which is %s: use %s", fuel,
                 mpxn, kind == MPXN_MPAN ? "an MPAN core" : "an MPRN",
                 expected);
        return false;
    }
    snprintf(out, 16, "%s", fuel);
    return true;
}

static bool s_check_smart(const char *value, bool *out, char *reason,
                          size_t reason_size)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        *out = value[0] == 't';
        return true;
    }
    snprintf(reason, reason_size,
             "invalid smart flag '" S_SHOWN "': use true or false", value);
    return false;
}

static bool s_parse_supply_point(const char *const *fields,
                                 dir_supply_point_t *out, char *reason,
                                 size_t reason_size)
{
    memset(out, 0, sizeof *out);
    mpxn_kind_t kind = mpxn_classify(fields[0], reason, reason_size);
    if (kind == MPXN_INVALID)
        return false;
    snprintf(out->mpxn, sizeof out->mpxn, "%s", fields[0]);
    return s_check_fuel(out->mpxn, kind, fields[1], out->fuel, reason,
                        reason_size) &&
           s_copy_text("meter id", fields[2], out->meter_id,
                       sizeof out->meter_id, reason, reason_size) &&
           s_check_smart(fields[3], &out->smart, reason, reason_size) &&
           s_check_mpid("installing supplier", fields[4], reason,
                        reason_size) &&
           s_copy_text("installing supplier", fields[4], out->installing,
                       sizeof out->installing, reason, reason_size) &&
           s_copy_text("head end", fields[5], out->head_end,
                       sizeof out->head_end, reason, reason_size);
}

static bool s_same_supply_point(const dir_supply_point_t *a,
                                const dir_supply_point_t *b)
{
    return strcmp(a->fuel, b->fuel) == 0 &&
           strcmp(a->meter_id, b->meter_id) == 0 && a->smart == b->smart &&
           strcmp(a->installing, b->installing) == 0 &&
           strcmp(a->head_end, b->head_end) == 0;
}

directory_row_result_t directory_row_supply_point(directory_db_t *db,
                                                  const char *const *fields,
                                                  char *reason,
                                                  size_t reason_size)
{
    dir_supply_point_t row, existing;
    if (!s_parse_supply_point(fields, &row, reason, reason_size))
        return ROW_REJECTED;
    int known = s_known_supplier(db, "installing supplier", row.installing,
                                 reason, reason_size);
    if (known <= 0)
        return known < 0 ? ROW_FAILED : ROW_REJECTED;

    int found = directory_db_get_supply_point(db, row.mpxn, &existing, reason,
                                              reason_size);
    if (found < 0)
        return ROW_FAILED;
    if (found == 1 && s_same_supply_point(&row, &existing))
        return ROW_UNCHANGED;
    if (directory_db_put_supply_point(db, &row, reason, reason_size) != 0)
        return ROW_FAILED;
    return found ? ROW_UPDATED : ROW_ADDED;
}

/* Registrations */

static bool s_parse_time(const char *what, const char *value, int64_t *out,
                         char *reason, size_t reason_size)
{
    if (clock_parse_iso(value, out) == 0)
        return true;
    snprintf(reason, reason_size,
             "invalid %s '" S_SHOWN "': use an ISO 8601 UTC time such as "
             "2013-07-01 or 2013-07-01T00:00:00Z",
             what, value);
    return false;
}

static bool s_parse_period(const char *from, const char *to,
                           dir_registration_t *out, char *reason,
                           size_t reason_size)
{
    if (!s_parse_time("start", from, &out->from_ms, reason, reason_size))
        return false;
    out->to_ms = DIR_OPEN_END;
    if (to[0] != '\0' &&
        !s_parse_time("end", to, &out->to_ms, reason, reason_size))
        return false;
    if (out->to_ms <= out->from_ms) {
        char start[CLOCK_ISO_SIZE], end[CLOCK_ISO_SIZE];
        snprintf(reason, reason_size, "end %s is not after start %s",
                 clock_format_iso(out->to_ms, end),
                 clock_format_iso(out->from_ms, start));
        return false;
    }
    return true;
}

/* Checks the mpxn's form and that the directory has it, returning as
 * s_known_supplier does. */
static int s_known_supply_point(directory_db_t *db, const char *mpxn,
                                char *reason, size_t reason_size)
{
    if (mpxn_classify(mpxn, reason, reason_size) == MPXN_INVALID)
        return 0;
    dir_supply_point_t point;
    int found =
        directory_db_get_supply_point(db, mpxn, &point, reason, reason_size);
    if (found == 0)
        snprintf(reason, reason_size,
                 "unknown supply point '%s': add it to supply_points.csv "
                 "first",
                 mpxn);
    return found;
}

static directory_row_result_t s_reject_overlap(const char *mpxn,
                                               const dir_registration_t *row,
                                               const dir_registration_t *other,
                                               char *reason, size_t reason_size)
{
    char mine[2 * CLOCK_ISO_SIZE + 8], theirs[2 * CLOCK_ISO_SIZE + 8];
    directory_format_period(row, mine, sizeof mine);
    directory_format_period(other, theirs, sizeof theirs);
    snprintf(reason, reason_size,
             "registration of %s to %s for %s overlaps its registration to "
             "%s for %s",
             mpxn, row->supplier, mine, other->supplier, theirs);
    return ROW_REJECTED;
}

/* Stores a valid row: a new registration, or a new end for the one that
 * has the same supplier and start. */
static directory_row_result_t
s_store_registration(directory_db_t *db, const char *mpxn,
                     const dir_registration_t *row, char *reason,
                     size_t reason_size)
{
    dir_registration_t existing, other;
    int found = directory_db_get_registration(db, mpxn, row->from_ms, &existing,
                                              reason, reason_size);
    if (found < 0)
        return ROW_FAILED;
    bool same_start =
        found == 1 && strcmp(existing.supplier, row->supplier) == 0;
    if (same_start && existing.to_ms == row->to_ms)
        return ROW_UNCHANGED;

    int overlap = directory_db_find_overlap(
        db, mpxn, row->from_ms, row->to_ms,
        same_start ? row->from_ms : INT64_MIN, &other, reason, reason_size);
    if (overlap < 0)
        return ROW_FAILED;
    if (overlap == 1)
        return s_reject_overlap(mpxn, row, &other, reason, reason_size);
    int rc = same_start
                 ? directory_db_set_registration_end(
                       db, mpxn, row->from_ms, row->to_ms, reason, reason_size)
                 : directory_db_insert_registration(db, mpxn, row, reason,
                                                    reason_size);
    if (rc != 0)
        return ROW_FAILED;
    return same_start ? ROW_UPDATED : ROW_ADDED;
}

directory_row_result_t directory_row_registration(directory_db_t *db,
                                                  const char *const *fields,
                                                  char *reason,
                                                  size_t reason_size)
{
    const char *mpxn = fields[0];
    dir_registration_t row;
    memset(&row, 0, sizeof row);
    int known = s_known_supply_point(db, mpxn, reason, reason_size);
    if (known <= 0)
        return known < 0 ? ROW_FAILED : ROW_REJECTED;
    known = s_known_supplier(db, "supplier", fields[1], reason, reason_size);
    if (known <= 0)
        return known < 0 ? ROW_FAILED : ROW_REJECTED;
    memcpy(row.supplier, fields[1], DIR_MPID_SIZE);
    if (!s_parse_period(fields[2], fields[3], &row, reason, reason_size))
        return ROW_REJECTED;
    return s_store_registration(db, mpxn, &row, reason, reason_size);
}
