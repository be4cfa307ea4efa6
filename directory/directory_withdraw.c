/* Withdrawal of a change of supplier. */
#include "directory_withdraw.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "directory_rows.h"

static int s_check_reason(const char *reason, char *error, size_t error_size)
{
    size_t length = strlen(reason);
    if (length == 0 || length > DIRECTORY_REASON_MAX) {
        snprintf(error, error_size,
                 "invalid reason: give 1 to %d bytes saying why the change "
                 "is withdrawn, found %zu",
                 DIRECTORY_REASON_MAX, length);
        return -1;
    }
    for (const char *c = reason; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            snprintf(error, error_size,
                     "invalid reason: it contains a control character at "
                     "byte %zu; use one line of text",
                     (size_t)(c - reason));
            return -1;
        }
    }
    return 0;
}

/* Says why change number cannot be withdrawn when it is not a change of
 * supplier with its record in supplier_changes. */
static int s_explain_missing(directory_db_t *db, uint64_t number, char *error,
                             size_t error_size)
{
    directory_change_row_t row;
    size_t count;
    if (directory_db_list_changes(db, number - 1, NULL, &row, 1, &count, error,
                                  error_size) != 0)
        return -1;
    if (count == 0 || row.change.number != number)
        snprintf(error, error_size,
                 "no change %llu in the change log: list them with "
                 "'sdx-directory changes'",
                 (unsigned long long)number);
    else if (strcmp(row.change.kind, DIR_CHANGE_SUPPLIER) != 0)
        snprintf(error, error_size,
                 "change %llu is a %s, not a change of supplier: only "
                 "changes of supplier can be withdrawn",
                 (unsigned long long)number, row.change.kind);
    else
        snprintf(error, error_size,
                 "change %llu was recorded before the directory kept what "
                 "a change did, so it cannot be withdrawn: record the "
                 "correction with change-supplier",
                 (unsigned long long)number);
    return -1;
}

/* Checks that change is the latest change of supplier of its supply point
 * and still stands. */
static int s_check_latest(directory_db_t *db,
                          const directory_supplier_change_t *change,
                          char *error, size_t error_size)
{
    if (change->withdrawn_by != 0) {
        snprintf(error, error_size,
                 "change %llu was already withdrawn by change %llu (%s)",
                 (unsigned long long)change->change,
                 (unsigned long long)change->withdrawn_by, change->reason);
        return -1;
    }
    directory_supplier_change_t latest;
    int found = directory_db_latest_supplier_change(db, change->mpxn, &latest,
                                                    error, error_size);
    if (found < 0)
        return -1;
    if (found == 1 && latest.change != change->change) {
        snprintf(error, error_size,
                 "change %llu is not the latest change of supplier of %s: "
                 "withdraw change %llu first",
                 (unsigned long long)change->change, change->mpxn,
                 (unsigned long long)latest.change);
        return -1;
    }
    return 0;
}

/* Checks that the registration of mpxn from from_ms is supplier's and
 * ends at to_ms, as the change left it. */
static int s_check_registration(directory_db_t *db, uint64_t number,
                                const char *mpxn, const char *supplier,
                                int64_t from_ms, int64_t to_ms, char *error,
                                size_t error_size)
{
    dir_registration_t found;
    int rc = directory_db_get_registration(db, mpxn, from_ms, &found, error,
                                           error_size);
    if (rc < 0)
        return -1;
    if (rc == 1 && strcmp(found.supplier, supplier) == 0 &&
        found.to_ms == to_ms)
        return 0;
    char from[CLOCK_ISO_SIZE], now[2 * CLOCK_ISO_SIZE + 32] = "it is gone";
    clock_format_iso(from_ms, from);
    if (rc == 1) {
        char period[2 * CLOCK_ISO_SIZE + 16];
        directory_format_period(&found, period, sizeof period);
        snprintf(now, sizeof now, "it is now %s %s", found.supplier, period);
    }
    snprintf(error, error_size,
             "the registration of %s to %s from %s was edited after change "
             "%llu (%s), so the change cannot be withdrawn: record the "
             "correction with change-supplier or load",
             mpxn, supplier, from, (unsigned long long)number, now);
    return -1;
}

static int s_check_registrations(directory_db_t *db,
                                 const directory_supplier_change_t *change,
                                 char *error, size_t error_size)
{
    if (s_check_registration(db, change->change, change->mpxn, change->gaining,
                             change->effective_ms, DIR_OPEN_END, error,
                             error_size) != 0)
        return -1;
    if (!change->losing[0])
        return 0;
    return s_check_registration(db, change->change, change->mpxn,
                                change->losing, change->closed_from_ms,
                                change->effective_ms, error, error_size);
}

/* Puts the registrations back as they were before change. */
static int s_restore(directory_db_t *db,
                     const directory_supplier_change_t *change, char *error,
                     size_t error_size)
{
    if (directory_db_delete_registration(db, change->mpxn, change->effective_ms,
                                         error, error_size) != 0)
        return -1;
    if (!change->losing[0])
        return 0;
    return directory_db_set_registration_end(db, change->mpxn,
                                             change->closed_from_ms,
                                             DIR_OPEN_END, error, error_size);
}

static int s_record(directory_db_t *db,
                    const directory_supplier_change_t *change,
                    const char *reason, uint64_t *withdrawal, char *error,
                    size_t error_size)
{
    char at[CLOCK_ISO_SIZE], description[DIRECTORY_DESCRIPTION_SIZE];
    clock_format_iso(change->effective_ms, at);
    snprintf(description, sizeof description,
             "withdrawal of change %llu (change of supplier of %s from %s to "
             "%s at %s): %s",
             (unsigned long long)change->change, change->mpxn,
             change->losing[0] ? change->losing : "(none)", change->gaining, at,
             reason);
    uint64_t number;
    if (directory_db_record_change(db, clock_now_ms(), DIR_CHANGE_WITHDRAWAL,
                                   change->mpxn, description, &number, error,
                                   error_size) != 0 ||
        directory_db_mark_withdrawn(db, change->change, number, reason, error,
                                    error_size) != 0)
        return -1;
    if (withdrawal)
        *withdrawal = number;
    return 0;
}

/* Runs the withdrawal inside the caller's transaction. */
static int s_withdraw(directory_db_t *db, uint64_t number, const char *reason,
                      uint64_t *withdrawal, char *error, size_t error_size)
{
    directory_supplier_change_t change;
    int found = directory_db_get_supplier_change(db, number, &change, error,
                                                 error_size);
    if (found < 0)
        return -1;
    if (found == 0)
        return s_explain_missing(db, number, error, error_size);
    if (s_check_latest(db, &change, error, error_size) != 0 ||
        s_check_registrations(db, &change, error, error_size) != 0 ||
        s_restore(db, &change, error, error_size) != 0)
        return -1;
    return s_record(db, &change, reason, withdrawal, error, error_size);
}

int directory_withdraw_change(directory_db_t *db, uint64_t number,
                              const char *reason, uint64_t *withdrawal,
                              char *error, size_t error_size)
{
    if (s_check_reason(reason, error, error_size) != 0)
        return -1;
    if (number == 0) {
        snprintf(error, error_size,
                 "invalid change number 0: changes are numbered from 1");
        return -1;
    }
    if (directory_db_begin(db, error, error_size) != 0)
        return -1;
    if (s_withdraw(db, number, reason, withdrawal, error, error_size) != 0 ||
        directory_db_commit(db, error, error_size) != 0) {
        directory_db_rollback(db);
        return -1;
    }
    return 0;
}
