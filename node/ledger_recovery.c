/* Ledger queries for receipt recovery. */
#include "ledger_recovery.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "ledger_private.h"

/* The columns are those ledger_read_row reads. */
static const char *s_pending_sql =
    "SELECT r.body, r.sig, r.hash, r.stored_at, a.seq IS NOT NULL"
    " FROM receipts r LEFT JOIN acks a ON a.serving = r.serving"
    " AND a.requesting = r.requesting AND a.seq = r.seq"
    " WHERE r.serving = ?1 AND r.requesting = ?2"
    " AND (a.seq IS NULL OR r.seq > ?3) ORDER BY r.seq LIMIT ?4";

static const char *s_issued_sql =
    "SELECT DISTINCT requesting FROM receipts WHERE serving = ?1"
    " ORDER BY requesting";
static const char *s_received_sql =
    "SELECT DISTINCT serving FROM receipts WHERE requesting = ?1"
    " ORDER BY serving";

int ledger_foreach_pending(ledger_t *self, const char *serving,
                           const char *requesting, bool has_after,
                           uint64_t after, size_t limit, bool *more,
                           ledger_receipt_fn callback, void *arg, char *error,
                           size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(more);
    assert(callback);
    sqlite3_stmt *stmt = NULL;
    ledger_row_t *row = malloc(sizeof *row);
    int result = 0;
    size_t visited = 0;
    *more = false;
    if (!row) {
        snprintf(error, error_size, "out of memory listing pending receipts");
        return -1;
    }
    if (sqlite3_prepare_v2(self->db, s_pending_sql, -1, &stmt, NULL) !=
        SQLITE_OK) {
        result = ledger_db_error(self, error, error_size,
                                 "listing pending receipts");
        goto cleanup;
    }
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    /* Without an after, only the unacknowledged receipts match. */
    sqlite3_bind_int64(stmt, 3,
                       has_after && after < INT64_MAX ? (sqlite3_int64)after
                                                      : INT64_MAX);
    /* One row more than the limit shows whether there are more. */
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)limit + 1);
    int rc;
    while (result == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (visited == limit) {
            *more = true;
            break;
        }
        visited++;
        if (ledger_read_row(self, stmt, 0, row, error, error_size) != 0)
            result = -1;
        else
            result = callback(row, arg);
    }
    if (result == 0 && !*more && rc != SQLITE_DONE)
        result = ledger_db_error(self, error, error_size,
                                 "listing pending receipts");
cleanup:
    sqlite3_finalize(stmt);
    free(row);
    return result;
}

int ledger_foreach_chain(ledger_t *self, const char *own_mpid,
                         ledger_role_t role, ledger_chain_fn callback,
                         void *arg, char *error, size_t error_size)
{
    assert(self);
    assert(own_mpid);
    assert(role == LEDGER_ROLE_ISSUED || role == LEDGER_ROLE_RECEIVED);
    sqlite3_stmt *stmt = NULL;
    const char *sql =
        role == LEDGER_ROLE_ISSUED ? s_issued_sql : s_received_sql;
    if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size, "listing chains");
    sqlite3_bind_text(stmt, 1, own_mpid, -1, SQLITE_STATIC);
    int result = 0;
    int rc;
    while (result == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        char counterparty[5];
        snprintf(counterparty, sizeof counterparty, "%s",
                 text ? (const char *)text : "");
        result = callback(counterparty, arg);
    }
    if (result == 0 && rc != SQLITE_DONE)
        result = ledger_db_error(self, error, error_size, "listing chains");
    sqlite3_finalize(stmt);
    return result;
}
