/* Withdrawal of a change of supplier recorded in error: the registrations
 * go back to what they were before the change, and both the change and its
 * withdrawal stay in the change log as the audit trail. */
#ifndef SDX_DIRECTORY_WITHDRAW_H
#define SDX_DIRECTORY_WITHDRAW_H

#include <stddef.h>
#include <stdint.h>

#include "directory_db.h"

/* Longest reason accepted, in bytes. */
#define DIRECTORY_REASON_MAX 200

/* In one transaction: deletes the registration that change number opened,
 * gives the registration it ended its open end back, marks it withdrawn
 * for reason and records a "withdrawal" entry in the change log, whose
 * number goes to *withdrawal (may be NULL). Only the latest change of
 * supplier of a supply point that still stands can be withdrawn, and only
 * while the two registrations are as the change left them. Returns 0, or
 * -1 with a sentence in error that says which rule failed. */
int directory_withdraw_change(directory_db_t *db, uint64_t number,
                              const char *reason, uint64_t *withdrawal,
                              char *error, size_t error_size);

#endif
