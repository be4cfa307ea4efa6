/* The directory's sqlite database: suppliers, supply points,
 * registrations and a numbered change log, in WAL mode so that the server
 * keeps answering while an admin command writes.
 *
 * Times are UTC ms. An open registration has to_ms NULL in the database
 * and DIR_OPEN_END in dir_registration_t. Functions that find one row
 * return 1 when found, 0 when not, and -1 with a sentence in error on an
 * sqlite failure; other functions return 0 or -1.
 */
#ifndef SDX_DIRECTORY_DB_H
#define SDX_DIRECTORY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_changes.h"
#include "dir_records.h"

#define DIRECTORY_DB_SCHEMA_VERSION 3

typedef struct directory_db directory_db_t;

/* Opens the database at path. With create, makes the file and the schema
 * when missing (sdx-directory init); without, the file must exist and be
 * initialised. Returns NULL with a sentence in error. */
directory_db_t *directory_db_open(const char *path, bool create, char *error,
                                  size_t error_size);

/* Closes the database and sets *self_p to NULL; NULL is allowed. */
void directory_db_destroy(directory_db_t **self_p);

/* Transactions. begin takes the write lock at once (BEGIN IMMEDIATE);
 * begin_read starts a read transaction (BEGIN DEFERRED), so that several
 * queries see one snapshot while another process writes. */
int directory_db_begin(directory_db_t *self, char *error, size_t error_size);
int directory_db_begin_read(directory_db_t *self, char *error,
                            size_t error_size);
int directory_db_commit(directory_db_t *self, char *error, size_t error_size);
void directory_db_rollback(directory_db_t *self);

/* Suppliers. */
int directory_db_get_supplier(directory_db_t *self, const char *mpid,
                              dir_supplier_t *out, char *error,
                              size_t error_size);
/* Finds the supplier whose CURVE key is curve_key. */
int directory_db_find_curve_key(directory_db_t *self, const char *curve_key,
                                char mpid[DIR_MPID_SIZE], char *error,
                                size_t error_size);
/* Inserts the supplier, or replaces the one with the same MPID. */
int directory_db_put_supplier(directory_db_t *self,
                              const dir_supplier_t *supplier, char *error,
                              size_t error_size);
/* Lists every supplier by MPID. Caller frees *list, which is NULL when
 * there are none. */
int directory_db_list_suppliers(directory_db_t *self, dir_supplier_t **list,
                                size_t *count, char *error, size_t error_size);

/* Supply points. get leaves registration_count 0. */
int directory_db_get_supply_point(directory_db_t *self, const char *mpxn,
                                  dir_supply_point_t *out, char *error,
                                  size_t error_size);
/* Inserts the supply point, or replaces the one with the same mpxn. */
int directory_db_put_supply_point(directory_db_t *self,
                                  const dir_supply_point_t *point, char *error,
                                  size_t error_size);

/* Registrations. */
/* Fills out's registrations, ordered by from_ms, with the latest
 * DIR_MAX_REGISTRATIONS of out->mpxn. */
int directory_db_get_registrations(directory_db_t *self,
                                   dir_supply_point_t *out, char *error,
                                   size_t error_size);
/* Finds the registration of mpxn that starts at from_ms. */
int directory_db_get_registration(directory_db_t *self, const char *mpxn,
                                  int64_t from_ms, dir_registration_t *out,
                                  char *error, size_t error_size);
/* Finds the registration of mpxn that starts last. */
int directory_db_latest_registration(directory_db_t *self, const char *mpxn,
                                     dir_registration_t *out, char *error,
                                     size_t error_size);
/* Finds the earliest registration of mpxn that overlaps [from_ms, to_ms),
 * leaving out the one that starts at except_from_ms (pass INT64_MIN to
 * leave out none). */
int directory_db_find_overlap(directory_db_t *self, const char *mpxn,
                              int64_t from_ms, int64_t to_ms,
                              int64_t except_from_ms, dir_registration_t *out,
                              char *error, size_t error_size);
int directory_db_insert_registration(directory_db_t *self, const char *mpxn,
                                     const dir_registration_t *registration,
                                     char *error, size_t error_size);
/* Sets the end of the registration of mpxn that starts at from_ms. */
int directory_db_set_registration_end(directory_db_t *self, const char *mpxn,
                                      int64_t from_ms, int64_t to_ms,
                                      char *error, size_t error_size);
/* Deletes the registration of mpxn that starts at from_ms. */
int directory_db_delete_registration(directory_db_t *self, const char *mpxn,
                                     int64_t from_ms, char *error,
                                     size_t error_size);

/* Change log. kind is a word such as "load" or "change_of_supplier";
 * mpxn may be NULL. number (may be NULL) gets the new change number. */
int directory_db_record_change(directory_db_t *self, int64_t at_ms,
                               const char *kind, const char *mpxn,
                               const char *description, uint64_t *number,
                               char *error, size_t error_size);
/* The number of the latest change, 0 when there is none. */
int directory_db_last_change(directory_db_t *self, uint64_t *number,
                             char *error, size_t error_size);

#define DIRECTORY_DESCRIPTION_SIZE 512
#define DIRECTORY_REASON_SIZE      256

/* One entry of the change log, with what the audit trail shows of it. */
typedef struct {
    dir_change_t change;
    char description[DIRECTORY_DESCRIPTION_SIZE];
    uint64_t withdrawn_by; /* a withdrawn change of supplier: the number of
                            * the withdrawal; 0 otherwise */
    char withdrawal_reason[DIRECTORY_REASON_SIZE];
} directory_change_row_t;

/* Fills rows (room for limit) with the changes numbered above since, in
 * order, only those recorded for mpxn unless mpxn is NULL. *count gets the
 * number filled. */
int directory_db_list_changes(directory_db_t *self, uint64_t since,
                              const char *mpxn, directory_change_row_t *rows,
                              size_t limit, size_t *count, char *error,
                              size_t error_size);

/* What a change of supplier did to the registrations, kept so that the
 * change can be withdrawn. */
typedef struct {
    uint64_t change; /* its number in the change log */
    char mpxn[DIR_MPXN_SIZE];
    int64_t effective_ms;        /* start of the gaining registration */
    char losing[DIR_MPID_SIZE];  /* "" when no registration was open */
    int64_t closed_from_ms;      /* start of the registration it ended */
    char gaining[DIR_MPID_SIZE]; /* supplier of the registration opened */
    uint64_t withdrawn_by;       /* 0 while the change stands */
    char reason[DIRECTORY_REASON_SIZE]; /* why it was withdrawn */
} directory_supplier_change_t;

int directory_db_insert_supplier_change(
    directory_db_t *self, const directory_supplier_change_t *change,
    char *error, size_t error_size);
/* Finds the change of supplier numbered number. */
int directory_db_get_supplier_change(directory_db_t *self, uint64_t number,
                                     directory_supplier_change_t *out,
                                     char *error, size_t error_size);
/* Finds the latest change of supplier of mpxn that is not withdrawn. */
int directory_db_latest_supplier_change(directory_db_t *self, const char *mpxn,
                                        directory_supplier_change_t *out,
                                        char *error, size_t error_size);
/* Marks the change of supplier numbered number as withdrawn by the change
 * withdrawn_by, for reason. */
int directory_db_mark_withdrawn(directory_db_t *self, uint64_t number,
                                uint64_t withdrawn_by, const char *reason,
                                char *error, size_t error_size);

/* Supplier keys. Every supplier has at least the two keys of its CSV row;
 * see the schema in directory_db.c. */

/* One row of supplier_keys. */
typedef struct {
    char mpid[DIR_MPID_SIZE];
    dir_key_t key;
    char reason[DIRECTORY_REASON_SIZE]; /* why it was revoked, or "" */
    int64_t added_ms;                   /* when it was recorded */
} directory_key_row_t;

/* Lists the keys of mpid, or of every supplier when mpid is NULL, ordered
 * by supplier and start. Caller frees *rows, NULL when there are none. */
int directory_db_list_keys(directory_db_t *self, const char *mpid,
                           directory_key_row_t **rows, size_t *count,
                           char *error, size_t error_size);
/* Finds the key of mpid whose text (Z85 or hex, as dir_key_text writes
 * it) is text. */
int directory_db_get_key(directory_db_t *self, const char *mpid,
                         const char *text, directory_key_row_t *out,
                         char *error, size_t error_size);
int directory_db_insert_key(directory_db_t *self,
                            const directory_key_row_t *row, char *error,
                            size_t error_size);
/* Writes the validity end, state, revocation time and reason of the key
 * that row names by supplier, type and text. */
int directory_db_update_key(directory_db_t *self,
                            const directory_key_row_t *row, char *error,
                            size_t error_size);
/* Finds the supplier that has the key of type whose text is text. */
int directory_db_key_owner(directory_db_t *self, dir_key_type_t type,
                           const char *text, char mpid[DIR_MPID_SIZE],
                           char *error, size_t error_size);

/* Records a change-log entry of kind about supplier mpid (no supply
 * point). number (may be NULL) gets its number. */
int directory_db_record_supplier_entry(directory_db_t *self, int64_t at_ms,
                                       const char *kind, const char *mpid,
                                       const char *description,
                                       uint64_t *number, char *error,
                                       size_t error_size);

/* Finds whether mpid has ever been registered for mpxn, in any period. */
int directory_db_was_registered(directory_db_t *self, const char *mpxn,
                                const char *mpid, char *error,
                                size_t error_size);

/* SQLite's PRAGMA data_version: it changes when another connection
 * commits, so a reader can tell that it must reload. */
int directory_db_data_version(directory_db_t *self, int64_t *version,
                              char *error, size_t error_size);

/* Sets this connection up for a bulk import: commits without waiting for
 * the disk (synchronous = NORMAL, see the comment in directory_db.c for
 * why a batch stays atomic) and a 256 MiB page cache. */
int directory_db_tune_bulk(directory_db_t *self, char *error,
                           size_t error_size);

#endif
