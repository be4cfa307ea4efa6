/* Key lifecycle in the directory database: adding a supplier's CURVE or
 * signing key with a start time, retiring one (a planned end: what it
 * signed while valid still verifies) and revoking one (a compromise: it
 * is refused from the revocation time). Each change is one transaction
 * that also records a change-log entry of kind DIR_CHANGE_KEY naming the
 * supplier, which the change feed publishes.
 *
 * Functions return 0, or -1 with a sentence in error that names the value
 * and what to do.
 */
#ifndef SDX_DIRECTORY_KEYS_H
#define SDX_DIRECTORY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "dir_changes.h"
#include "dir_records.h"
#include "directory_db.h"

/* How far in the past a retirement may be set: the clock skew the nodes
 * allow between each other (max-skew-seconds), so that what a key signed
 * a moment ago still verifies. */
#define DIRECTORY_RETIRE_SLACK_MS (300 * 1000)

/* Parses key text of type: 40 Z85 characters for a CURVE key, 64 hex
 * digits for a signing key. Fills out's type and key only. */
int directory_keys_parse(dir_key_type_t type, const char *text, dir_key_t *out,
                         char *error, size_t error_size);

/* Adds key (type, key, valid_from_ms and valid_to_ms are read; it is
 * stored active) to supplier mpid. Refuses a key that any supplier already
 * has, an end not after the start, and a supplier with DIR_MAX_KEYS keys.
 * number (may be NULL) gets the change number. */
int directory_keys_add(directory_db_t *db, const char *mpid,
                       const dir_key_t *key, uint64_t *number, char *error,
                       size_t error_size);

/* Ends the active key of mpid whose text is text at at_ms, which must be
 * after its start and no earlier than now_ms - DIRECTORY_RETIRE_SLACK_MS.
 * When no other key of the same type is valid just after at_ms, note gets
 * a warning sentence for the operator (else ""). */
int directory_keys_retire(directory_db_t *db, const char *mpid,
                          const char *text, int64_t at_ms, int64_t now_ms,
                          uint64_t *number, char *note, size_t note_size,
                          char *error, size_t error_size);

/* Revokes the key of mpid whose text is text from at_ms, which must not be
 * after now_ms, for reason (one line of 1 to 200 bytes). */
int directory_keys_revoke(directory_db_t *db, const char *mpid,
                          const char *text, const char *reason, int64_t at_ms,
                          int64_t now_ms, uint64_t *number, char *error,
                          size_t error_size);

/* Fills the keys of each of the count suppliers in list, which must be
 * ordered by MPID as directory_db_list_suppliers returns them, from the
 * database, and sets their curve_key and sign_key to the keys in use at
 * now_ms (leaving the CSV row's keys where no key of a type is valid). */
int directory_keys_attach(directory_db_t *db, dir_supplier_t *list,
                          size_t count, int64_t now_ms, char *error,
                          size_t error_size);

#endif
