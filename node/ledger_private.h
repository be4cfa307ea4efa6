/* Internals shared by ledger.c and ledger_verify.c; not for other
 * modules. */
#ifndef SDX_LEDGER_PRIVATE_H
#define SDX_LEDGER_PRIVATE_H

#include <sqlite3.h>

#include "ledger.h"

/* The statements prepared once at open and reused. */
typedef enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_HEAD,
    ST_INSERT_RECEIPT,
    ST_INSERT_REPLY,
    ST_FIND_REPLY,
    ST_FIND_BY_SEQ,
    ST_FIND_BY_ID,
    ST_RECEIPT_HASH,
    ST_INSERT_ACK,
    ST_FIND_ACK,
    ST_INSERT_DISPUTE,
    ST_COUNT_DISPUTES,
    ST_COUNT
} ledger_statement_id_t;

struct ledger {
    char *path;
    sqlite3 *db;
    sqlite3_stmt *statements[ST_COUNT];
};

/* Writes "ledger PATH: WHAT failed: sqlite's message" to error and
 * returns -1. */
int ledger_db_error(ledger_t *self, char *error, size_t error_size,
                    const char *what);

/* Returns a prepared statement, reset and with its bindings cleared. */
sqlite3_stmt *ledger_statement(ledger_t *self, ledger_statement_id_t id);

/* Copies a blob column of exactly size bytes. Returns 0, or -1 when the
 * column is not a blob of that size. */
int ledger_copy_blob(sqlite3_stmt *stmt, int column, uint8_t *out, size_t size);

/* Fills out from the columns body, sig, hash, stored_at and the
 * acknowledged flag, starting at column first, and decodes the body. */
int ledger_read_row(ledger_t *self, sqlite3_stmt *stmt, int first,
                    ledger_row_t *out, char *error, size_t error_size);

#endif
