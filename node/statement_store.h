/* The folder of agreed statements (HOME/statements): one doubly-signed
 * statement file per accepted statement, named
 *   SERVING-REQUESTING_FROM_TO_by-ISSUER_HASH.statement
 * FROM and TO are written as YYYYMMDDTHHMMSSZ. HASH is the first 16 hex
 * digits of the statement body's hash, so a statement issued again for
 * the same period gets a file of its own.
 */
#ifndef SDX_STATEMENT_STORE_H
#define SDX_STATEMENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "statement_file.h"

/* Writes an accepted statement into folder, creating the folder (mode
 * 0755) when it is missing, and writes the file's path into path. Returns
 * 0, or -1 with a sentence in error. */
int statement_store_save(const char *folder, const statement_file_t *statement,
                         char *path, size_t path_size, char *error,
                         size_t error_size) __attribute__((warn_unused_result));

/* Called once per *.statement file, in name order. statement is NULL when
 * the file cannot be read, and problem then gives the reason. Returns 0 to go
 * on, non-zero to stop. */
typedef int (*statement_store_fn)(const char *path,
                                  const statement_file_t *statement,
                                  const char *problem, void *arg);

/* Visits the statement files of folder; a missing folder has none.
 * Returns 0, the callback's non-zero value, or -1 with a sentence in
 * error. */
int statement_store_foreach(const char *folder, statement_store_fn callback,
                            void *arg, char *error, size_t error_size);

/* Finds the accepted statement of serving->requesting for exactly
 * [from_ms, to_ms), the latest accepted when there are several. Returns 1
 * and sets *out (caller owns it) and path, 0 when there is none, or -1
 * with a sentence in error. Signatures are the caller's to check. */
int statement_store_find(const char *folder, const char *serving,
                         const char *requesting, int64_t from_ms, int64_t to_ms,
                         statement_file_t **out, char *path, size_t path_size,
                         char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
