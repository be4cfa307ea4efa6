/* Change of supplier. */
#include "directory_change.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "dir_request.h"
#include "directory_rows.h"
#include "mpxn.h"

static int s_check_names(directory_db_t *db, const char *mpxn,
                         const char *supplier, char *error, size_t error_size)
{
    dir_supply_point_t point;
    dir_supplier_t found;
    int rc = directory_db_get_supply_point(db, mpxn, &point, error, error_size);
    if (rc == 0)
        snprintf(error, error_size,
                 "unknown supply point '%s': load it with "
                 "'sdx-directory load --supply-points' first",
                 mpxn);
    if (rc != 1)
        return -1;
    rc = directory_db_get_supplier(db, supplier, &found, error, error_size);
    if (rc == 0)
        snprintf(error, error_size,
                 "unknown supplier '%s': load it with "
                 "'sdx-directory load --suppliers' first",
                 supplier);
    return rc == 1 ? 0 : -1;
}

/* Checks that the change at at_ms can follow the latest registration. */
static int s_check_latest(const char *mpxn, const char *supplier,
                          const dir_registration_t *latest, int64_t at_ms,
                          char *error, size_t error_size)
{
    char at[CLOCK_ISO_SIZE], period[2 * CLOCK_ISO_SIZE + 16];
    clock_format_iso(at_ms, at);
    directory_format_period(latest, period, sizeof period);
    bool open = latest->to_ms == DIR_OPEN_END;
    if (open && strcmp(latest->supplier, supplier) == 0) {
        snprintf(error, error_size,
                 "supply point %s is already registered to %s (%s)", mpxn,
                 supplier, period);
        return -1;
    }
    if (open && at_ms <= latest->from_ms) {
        snprintf(error, error_size,
                 "change time %s is not after the start of the current "
                 "registration of %s to %s (%s): use a later --at",
                 at, mpxn, latest->supplier, period);
        return -1;
    }
    if (!open && at_ms < latest->to_ms) {
        snprintf(error, error_size,
                 "change time %s is before the end of the latest "
                 "registration of %s to %s (%s): use a later --at",
                 at, mpxn, latest->supplier, period);
        return -1;
    }
    return 0;
}

/* Records the change in the change log and what it did to the
 * registrations, so that it can be withdrawn. closed is the registration
 * it ended, or NULL. */
static int s_record(directory_db_t *db, const char *mpxn,
                    const dir_registration_t *closed, const char *supplier,
                    int64_t at_ms, uint64_t *number, char *error,
                    size_t error_size)
{
    char at[CLOCK_ISO_SIZE], description[256];
    clock_format_iso(at_ms, at);
    snprintf(description, sizeof description,
             "change of supplier of %s from %s to %s at %s", mpxn,
             closed ? closed->supplier : "(none)", supplier, at);
    directory_supplier_change_t change = {.effective_ms = at_ms};
    if (directory_db_record_change(db, clock_now_ms(), DIR_CHANGE_SUPPLIER,
                                   mpxn, description, &change.change, error,
                                   error_size) != 0)
        return -1;
    snprintf(change.mpxn, sizeof change.mpxn, "%s", mpxn);
    snprintf(change.gaining, sizeof change.gaining, "%s", supplier);
    if (closed) {
        snprintf(change.losing, sizeof change.losing, "%s", closed->supplier);
        change.closed_from_ms = closed->from_ms;
    }
    if (number)
        *number = change.change;
    return directory_db_insert_supplier_change(db, &change, error, error_size);
}

/* Runs the change inside the caller's transaction. */
static int s_change(directory_db_t *db, const char *mpxn, const char *supplier,
                    int64_t at_ms, uint64_t *number, char *error,
                    size_t error_size)
{
    if (s_check_names(db, mpxn, supplier, error, error_size) != 0)
        return -1;
    dir_registration_t latest;
    int found =
        directory_db_latest_registration(db, mpxn, &latest, error, error_size);
    if (found < 0)
        return -1;
    if (found == 1 &&
        s_check_latest(mpxn, supplier, &latest, at_ms, error, error_size) != 0)
        return -1;
    bool close = found == 1 && latest.to_ms == DIR_OPEN_END;
    if (close && directory_db_set_registration_end(
                     db, mpxn, latest.from_ms, at_ms, error, error_size) != 0)
        return -1;

    dir_registration_t next = {.from_ms = at_ms, .to_ms = DIR_OPEN_END};
    snprintf(next.supplier, sizeof next.supplier, "%s", supplier);
    if (directory_db_insert_registration(db, mpxn, &next, error, error_size) !=
        0)
        return -1;
    return s_record(db, mpxn, close ? &latest : NULL, supplier, at_ms, number,
                    error, error_size);
}

int directory_change_supplier(directory_db_t *db, const char *mpxn,
                              const char *supplier, int64_t at_ms,
                              uint64_t *number, char *error, size_t error_size)
{
    if (mpxn_classify(mpxn, error, error_size) == MPXN_INVALID)
        return -1;
    if (!dir_mpid_is_valid(supplier)) {
        snprintf(error, error_size,
                 "invalid MPID '%.32s': use 4 upper-case letters or digits",
                 supplier);
        return -1;
    }
    if (directory_db_begin(db, error, error_size) != 0)
        return -1;
    if (s_change(db, mpxn, supplier, at_ms, number, error, error_size) != 0 ||
        directory_db_commit(db, error, error_size) != 0) {
        directory_db_rollback(db);
        return -1;
    }
    return 0;
}
