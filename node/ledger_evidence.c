/* The evidence table of the ledger. */
#include "ledger_evidence.h"

#include <stdlib.h>
#include <string.h>

#include "ledger_private.h"

int ledger_store_evidence(ledger_t *self, const char *serving,
                          const char *requesting, uint64_t seq,
                          const uint8_t *answer, size_t answer_size,
                          const uint8_t signature[SIGN_SIGNATURE_SIZE],
                          char *error, size_t error_size)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "INSERT OR IGNORE INTO evidence (serving, "
                           "requesting, seq, answer, sig) VALUES (?,?,?,?,?)",
                           -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size, "storing evidence");
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    sqlite3_bind_blob64(stmt, 4, answer, answer_size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 5, signature, SIGN_SIGNATURE_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_DONE
                 ? 0
                 : ledger_db_error(self, error, error_size, "storing evidence");
    sqlite3_finalize(stmt);
    return rc;
}

int ledger_find_evidence(ledger_t *self, const char *serving,
                         const char *requesting, uint64_t seq, uint8_t **answer,
                         size_t *answer_size,
                         uint8_t signature[SIGN_SIGNATURE_SIZE], char *error,
                         size_t error_size)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT answer, sig FROM evidence WHERE serving = "
                           "? AND requesting = ? AND seq = ?",
                           -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size, "reading evidence");
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    int rc = sqlite3_step(stmt);
    int found = 0;
    if (rc == SQLITE_ROW &&
        sqlite3_column_bytes(stmt, 1) == SIGN_SIGNATURE_SIZE) {
        *answer_size = (size_t)sqlite3_column_bytes(stmt, 0);
        *answer = malloc(*answer_size ? *answer_size : 1);
        memcpy(*answer, sqlite3_column_blob(stmt, 0), *answer_size);
        memcpy(signature, sqlite3_column_blob(stmt, 1), SIGN_SIGNATURE_SIZE);
        found = 1;
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        found = ledger_db_error(self, error, error_size, "reading evidence");
    sqlite3_finalize(stmt);
    return found;
}
