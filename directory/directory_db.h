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

#include "dir_records.h"

#define DIRECTORY_DB_SCHEMA_VERSION 1

typedef struct directory_db directory_db_t;

/* Opens the database at path. With create, makes the file and the schema
 * when missing (sdx-directory init); without, the file must exist and be
 * initialised. Returns NULL with a sentence in error. */
directory_db_t *directory_db_open(const char *path, bool create, char *error,
                                  size_t error_size);

/* Closes the database and sets *self_p to NULL; NULL is allowed. */
void directory_db_destroy(directory_db_t **self_p);

/* Transactions. begin takes the write lock at once (BEGIN IMMEDIATE). */
int directory_db_begin(directory_db_t *self, char *error, size_t error_size);
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

/* Change log. kind is a word such as "load" or "change_of_supplier";
 * mpxn may be NULL. number (may be NULL) gets the new change number. */
int directory_db_record_change(directory_db_t *self, int64_t at_ms,
                               const char *kind, const char *mpxn,
                               const char *description, uint64_t *number,
                               char *error, size_t error_size);
/* The number of the latest change, 0 when there is none. */
int directory_db_last_change(directory_db_t *self, uint64_t *number,
                             char *error, size_t error_size);

/* SQLite's PRAGMA data_version: it changes when another connection
 * commits, so a reader can tell that it must reload. */
int directory_db_data_version(directory_db_t *self, int64_t *version,
                              char *error, size_t error_size);

#endif
