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

/* The argument of ledger_check_with_lookup: a key lookup and its own
 * argument. */
typedef struct {
    ledger_key_fn lookup;
    void *arg;
} ledger_lookup_t;

/* A ledger_signature_fn whose arg is a ledger_lookup_t: it checks with the
 * one key the lookup gives for mpid, whatever the time. */
int ledger_check_with_lookup(const char *mpid, int64_t signed_ms,
                             const char *domain, const uint8_t *data,
                             size_t size,
                             const uint8_t signature[SIGN_SIGNATURE_SIZE],
                             char *reason, size_t reason_size, void *arg);

/* Fills out from the columns body, sig, hash, stored_at and the
 * acknowledged flag, starting at column first, and decodes the body. */
int ledger_read_row(ledger_t *self, sqlite3_stmt *stmt, int first,
                    ledger_row_t *out, char *error, size_t error_size);

#endif
