/* The directory's query log: who asked about what, when, and the status
 * of the reply.
 *
 * It is its own sqlite file (WAL mode), apart from the directory database,
 * so that writing it never waits for a load or import that holds the
 * database's write lock. The server adds one entry per reply and writes
 * the entries in one transaction at each flush, which the server does
 * every 100 ms and whenever DIRECTORY_QUERY_LOG_BATCH entries wait. The
 * file uses synchronous = NORMAL, so a power cut can lose the entries of
 * the last flushes, but never part of one.
 *
 * Table query_log: at_ms (UTC ms), supplier (MPID of the requester's
 * CURVE key, NULL when the key was no longer listed), curve_key, type
 * (dir.lookup, ...), mpxn (dir.lookup), mpid (dir.supplier), status (the
 * reply's status). Not thread-safe.
 */
#ifndef SDX_DIRECTORY_QUERY_LOG_H
#define SDX_DIRECTORY_QUERY_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "dir_records.h"

/* Entries held before a flush is forced. */
#define DIRECTORY_QUERY_LOG_BATCH 4096

typedef struct directory_query_log directory_query_log_t;

/* One query, as the server saw it. Strings are copied; "" means none. */
typedef struct {
    int64_t at_ms;
    const char *supplier;
    const char *curve_key;
    const char *type;
    const char *mpxn;
    const char *mpid;
    const char *status;
} directory_query_t;

/* Opens the query log at path, creating the file and its table when
 * missing. Returns NULL with a sentence in error. */
directory_query_log_t *directory_query_log_open(const char *path, char *error,
                                                size_t error_size);

/* Flushes, closes the file and sets *self_p to NULL; NULL is allowed. */
void directory_query_log_destroy(directory_query_log_t **self_p);

/* Adds one entry to the buffer. Returns the number of entries waiting. */
size_t directory_query_log_add(directory_query_log_t *self,
                               const directory_query_t *query);

/* Writes the waiting entries in one transaction. On a failure the entries
 * are dropped, so that a full disk cannot grow the buffer without bound,
 * and -1 is returned with a sentence that counts them. */
int directory_query_log_flush(directory_query_log_t *self, char *error,
                              size_t error_size);

/* Prints the entries of the log at path, oldest first, that match every
 * filter given: the requesting supplier (NULL for any), supply point mpxn (NULL
 * for any), at or after since_ms. Returns 0, or -1 with a sentence. */
int directory_query_log_print(const char *path, const char *supplier,
                              const char *mpxn, int64_t since_ms, FILE *out,
                              char *error, size_t error_size);

#endif
