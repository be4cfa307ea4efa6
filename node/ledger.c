/* The append-only sqlite ledger: schema, appends, lookups and listing.
 * ledger_verify lives in ledger_verify.c. */
#include "ledger.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ledger_private.h"

#define LEDGER_SCHEMA_VERSION 1

static const char *s_schema =
    "CREATE TABLE IF NOT EXISTS receipts ("
    " serving TEXT NOT NULL, requesting TEXT NOT NULL,"
    " seq INTEGER NOT NULL, request_id BLOB NOT NULL,"
    " mpxn TEXT NOT NULL, type TEXT NOT NULL,"
    " units INTEGER NOT NULL, price INTEGER NOT NULL,"
    " tariff_id TEXT NOT NULL, served_at INTEGER NOT NULL,"
    " hash BLOB NOT NULL, prev_hash BLOB NOT NULL,"
    " body BLOB NOT NULL, sig BLOB NOT NULL, stored_at INTEGER NOT NULL,"
    " PRIMARY KEY (serving, requesting, seq),"
    " UNIQUE (serving, requesting, request_id));"
    "CREATE INDEX IF NOT EXISTS receipts_served_at"
    " ON receipts (serving, requesting, served_at);"
    "CREATE TABLE IF NOT EXISTS replies ("
    " serving TEXT NOT NULL, requesting TEXT NOT NULL,"
    " request_id BLOB NOT NULL, reply BLOB NOT NULL,"
    " stored_at INTEGER NOT NULL,"
    " PRIMARY KEY (serving, requesting, request_id));"
    "CREATE TABLE IF NOT EXISTS acks ("
    " serving TEXT NOT NULL, requesting TEXT NOT NULL,"
    " seq INTEGER NOT NULL, receipt_hash BLOB NOT NULL,"
    " body BLOB NOT NULL, sig BLOB NOT NULL, stored_at INTEGER NOT NULL,"
    " PRIMARY KEY (serving, requesting, seq));"
    "CREATE TABLE IF NOT EXISTS disputes ("
    " id INTEGER PRIMARY KEY, serving TEXT, requesting TEXT,"
    " body BLOB NOT NULL, sig BLOB, reason TEXT NOT NULL,"
    " stored_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS evidence ("
    " serving TEXT NOT NULL, requesting TEXT NOT NULL, seq INTEGER NOT NULL,"
    " answer BLOB NOT NULL, sig BLOB NOT NULL,"
    " PRIMARY KEY (serving, requesting, seq));"
    "CREATE TABLE IF NOT EXISTS checkpoints ("
    " id INTEGER PRIMARY KEY, serving TEXT NOT NULL, requesting TEXT NOT NULL,"
    " seq INTEGER NOT NULL, head_hash BLOB NOT NULL,"
    " acked_seq INTEGER NOT NULL, issued_at INTEGER NOT NULL,"
    " body BLOB NOT NULL, sig BLOB NOT NULL, stored_at INTEGER NOT NULL,"
    " UNIQUE (serving, requesting, body));"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON"
    " checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only');"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON"
    " checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only');"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS evidence_no_update BEFORE UPDATE ON evidence"
    " BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS evidence_no_delete BEFORE DELETE ON evidence"
    " BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS receipts_no_update BEFORE UPDATE ON receipts"
    " BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS receipts_no_delete BEFORE DELETE ON receipts"
    " BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS acks_no_update BEFORE UPDATE ON acks"
    " BEGIN SELECT RAISE(ABORT, 'acks are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS acks_no_delete BEFORE DELETE ON acks"
    " BEGIN SELECT RAISE(ABORT, 'acks are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS disputes_no_update BEFORE UPDATE ON disputes"
    " BEGIN SELECT RAISE(ABORT, 'disputes are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS disputes_no_delete BEFORE DELETE ON disputes"
    " BEGIN SELECT RAISE(ABORT, 'disputes are append-only'); END;";

/* The acknowledged flag of a receipt row r. */
#define ACKED_JOIN                                                             \
    " LEFT JOIN acks a ON a.serving = r.serving"                               \
    " AND a.requesting = r.requesting AND a.seq = r.seq"

static const char *s_statements[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_HEAD] = "SELECT seq, hash FROM receipts"
                " WHERE serving = ?1 AND requesting = ?2"
                " ORDER BY seq DESC LIMIT 1",
    [ST_INSERT_RECEIPT] =
        "INSERT INTO receipts (serving, requesting, seq, request_id, mpxn,"
        " type, units, price, tariff_id, served_at, hash, prev_hash, body,"
        " sig, stored_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
        " ?11, ?12, ?13, ?14, ?15)",
    [ST_INSERT_REPLY] = "INSERT INTO replies (serving, requesting, request_id,"
                        " reply, stored_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_FIND_REPLY] =
        "SELECT p.reply, r.body, r.sig FROM replies p"
        " LEFT JOIN receipts r ON r.serving = p.serving"
        " AND r.requesting = p.requesting AND r.request_id = p.request_id"
        " WHERE p.serving = ?1 AND p.requesting = ?2 AND p.request_id = ?3",
    [ST_FIND_BY_SEQ] = "SELECT r.body, r.sig, r.hash, r.stored_at,"
                       " a.seq IS NOT NULL FROM receipts r" ACKED_JOIN
                       " WHERE r.serving = ?1 AND r.requesting = ?2"
                       " AND r.seq = ?3",
    [ST_FIND_BY_ID] = "SELECT r.body, r.sig, r.hash, r.stored_at,"
                      " a.seq IS NOT NULL FROM receipts r" ACKED_JOIN
                      " WHERE r.serving = ?1 AND r.requesting = ?2"
                      " AND r.request_id = ?3",
    [ST_RECEIPT_HASH] = "SELECT hash FROM receipts WHERE serving = ?1"
                        " AND requesting = ?2 AND seq = ?3",
    [ST_INSERT_ACK] = "INSERT INTO acks (serving, requesting, seq,"
                      " receipt_hash, body, sig, stored_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_FIND_ACK] = "SELECT body, sig, stored_at FROM acks"
                    " WHERE serving = ?1 AND requesting = ?2 AND seq = ?3",
    [ST_INSERT_DISPUTE] =
        "INSERT INTO disputes (serving, requesting, body, sig, reason,"
        " stored_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_COUNT_DISPUTES] = "SELECT count(*) FROM disputes",
};

int ledger_db_error(ledger_t *self, char *error, size_t error_size,
                    const char *what)
{
    snprintf(error, error_size, "ledger %s: %s failed: %s", self->path, what,
             sqlite3_errmsg(self->db));
    return -1;
}

sqlite3_stmt *ledger_statement(ledger_t *self, ledger_statement_id_t id)
{
    sqlite3_stmt *stmt = self->statements[id];
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}

int ledger_copy_blob(sqlite3_stmt *stmt, int column, uint8_t *out, size_t size)
{
    if (sqlite3_column_type(stmt, column) != SQLITE_BLOB ||
        (size_t)sqlite3_column_bytes(stmt, column) != size)
        return -1;
    memcpy(out, sqlite3_column_blob(stmt, column), size);
    return 0;
}

static int s_exec(ledger_t *self, const char *sql, char *error,
                  size_t error_size, const char *what)
{
    if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size, what);
    return 0;
}

static int s_read_user_version(ledger_t *self, int *version, char *error,
                               size_t error_size)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &stmt, NULL) !=
            SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return ledger_db_error(self, error, error_size,
                               "reading the schema version");
    }
    *version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return 0;
}

/* Creates the tables on a new file. An existing ledger must not have a
 * newer schema version than this code. */
static int s_create_schema(ledger_t *self, char *error, size_t error_size)
{
    int version;
    if (s_read_user_version(self, &version, error, error_size) != 0)
        return -1;
    if (version > LEDGER_SCHEMA_VERSION) {
        snprintf(error, error_size,
                 "ledger %s has schema version %d, newer than this sdx "
                 "(%d); use a newer sdx",
                 self->path, version, LEDGER_SCHEMA_VERSION);
        return -1;
    }
    char sql[8192];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; %s PRAGMA user_version = %d;"
             " COMMIT;",
             s_schema, LEDGER_SCHEMA_VERSION);
    if (s_exec(self, sql, error, error_size, "creating the schema") != 0) {
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int s_configure(ledger_t *self, bool readonly, char *error,
                       size_t error_size)
{
    sqlite3_busy_timeout(self->db, LEDGER_BUSY_TIMEOUT_MS);
    if (readonly) {
        int version;
        if (s_read_user_version(self, &version, error, error_size) != 0)
            return -1;
        if (version != LEDGER_SCHEMA_VERSION) {
            snprintf(error, error_size,
                     "%s is not an sdx ledger of schema version %d (found "
                     "%d); check the path",
                     self->path, LEDGER_SCHEMA_VERSION, version);
            return -1;
        }
        return 0;
    }
    if (s_exec(self, "PRAGMA journal_mode = WAL", error, error_size,
               "switching to WAL mode") != 0 ||
        s_exec(self, "PRAGMA synchronous = FULL", error, error_size,
               "setting synchronous = FULL") != 0)
        return -1;
    return s_create_schema(self, error, error_size);
}

static int s_prepare_all(ledger_t *self, char *error, size_t error_size)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(self->db, s_statements[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &self->statements[i],
                               NULL) != SQLITE_OK)
            return ledger_db_error(self, error, error_size,
                                   "preparing a statement");
    }
    return 0;
}

static ledger_t *s_open(const char *path, bool readonly, char *error,
                        size_t error_size)
{
    assert(path);
    ledger_t *self = calloc(1, sizeof *self);
    if (self)
        self->path = strdup(path);
    if (!self || !self->path) {
        snprintf(error, error_size, "out of memory opening ledger %s", path);
        ledger_destroy(&self);
        return NULL;
    }
    int flags = readonly ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(error, error_size, "cannot open ledger %s: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        ledger_destroy(&self);
        return NULL;
    }
    if (s_configure(self, readonly, error, error_size) != 0 ||
        s_prepare_all(self, error, error_size) != 0)
        ledger_destroy(&self);
    return self;
}

ledger_t *ledger_open(const char *path, char *error, size_t error_size)
{
    return s_open(path, false, error, error_size);
}

ledger_t *ledger_open_readonly(const char *path, char *error, size_t error_size)
{
    return s_open(path, true, error, error_size);
}

void ledger_destroy(ledger_t **self_p)
{
    assert(self_p);
    ledger_t *self = *self_p;
    if (!self)
        return;
    if (self->db && !sqlite3_get_autocommit(self->db))
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(self->statements[i]);
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

static int s_step_done(ledger_t *self, ledger_statement_id_t id, char *error,
                       size_t error_size, const char *what)
{
    int rc = sqlite3_step(self->statements[id]);
    if (rc != SQLITE_DONE) {
        ledger_db_error(self, error, error_size, what);
        sqlite3_reset(self->statements[id]);
        return -1;
    }
    sqlite3_reset(self->statements[id]);
    return 0;
}

int ledger_begin(ledger_t *self, char *error, size_t error_size)
{
    ledger_statement(self, ST_BEGIN);
    return s_step_done(self, ST_BEGIN, error, error_size,
                       "starting a transaction");
}

int ledger_commit(ledger_t *self, char *error, size_t error_size)
{
    ledger_statement(self, ST_COMMIT);
    return s_step_done(self, ST_COMMIT, error, error_size, "commit");
}

int ledger_rollback(ledger_t *self, char *error, size_t error_size)
{
    ledger_statement(self, ST_ROLLBACK);
    return s_step_done(self, ST_ROLLBACK, error, error_size, "rollback");
}

int ledger_chain_head(ledger_t *self, const char *serving,
                      const char *requesting, uint64_t *seq,
                      uint8_t hash[HASH_SIZE], char *error, size_t error_size)
{
    sqlite3_stmt *stmt = ledger_statement(self, ST_HEAD);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_DONE) {
        *seq = 0;
        memset(hash, 0, HASH_SIZE);
    } else if (rc == SQLITE_ROW) {
        *seq = (uint64_t)sqlite3_column_int64(stmt, 0);
        if (ledger_copy_blob(stmt, 1, hash, HASH_SIZE) != 0) {
            snprintf(error, error_size,
                     "ledger %s: the hash of %s->%s seq %llu is damaged; run "
                     "sdx ledger verify",
                     self->path, serving, requesting, (unsigned long long)*seq);
            result = -1;
        }
    } else {
        result =
            ledger_db_error(self, error, error_size, "reading the chain head");
    }
    sqlite3_reset(stmt);
    return result;
}

/* Rejects values that sqlite's signed 64-bit INTEGER cannot hold. */
static int s_check_int64_range(const receipt_t *receipt, char *error,
                               size_t error_size)
{
    if (receipt->units > INT64_MAX || receipt->price > INT64_MAX ||
        receipt->seq > INT64_MAX) {
        snprintf(error, error_size,
                 "receipt %s->%s seq %llu has units, price or seq above "
                 "%lld, which the ledger cannot store",
                 receipt->serving, receipt->requesting,
                 (unsigned long long)receipt->seq, (long long)INT64_MAX);
        return -1;
    }
    return 0;
}

/* Checks that body is the encoding of receipt, so the columns always
 * agree with the signed bytes. */
static int s_check_body(const receipt_t *receipt, const uint8_t *body,
                        size_t size, char *error, size_t error_size)
{
    uint8_t *expected = NULL;
    size_t expected_size = 0;
    if (receipt_encode(receipt, &expected, &expected_size) != 0) {
        snprintf(error, error_size, "out of memory encoding a receipt");
        return -1;
    }
    bool same = expected_size == size && memcmp(expected, body, size) == 0;
    free(expected);
    if (!same) {
        snprintf(error, error_size,
                 "receipt body of %s->%s seq %llu is not the encoding of its "
                 "fields",
                 receipt->serving, receipt->requesting,
                 (unsigned long long)receipt->seq);
        return -1;
    }
    return 0;
}

static void s_bind_receipt(sqlite3_stmt *stmt, const receipt_t *r,
                           const uint8_t *body, size_t size,
                           const uint8_t hash[HASH_SIZE],
                           const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    sqlite3_bind_text(stmt, 1, r->serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, r->requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)r->seq);
    sqlite3_bind_blob(stmt, 4, r->request_id, RECEIPT_ID_SIZE, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, r->mpxn, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, r->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, (sqlite3_int64)r->units);
    sqlite3_bind_int64(stmt, 8, (sqlite3_int64)r->price);
    sqlite3_bind_text(stmt, 9, r->tariff_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, r->served_at);
    sqlite3_bind_blob(stmt, 11, hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 12, r->prev_hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 13, body, (int)size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 14, signature, SIGN_SIGNATURE_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 15, clock_now_ms());
}

int ledger_append_receipt(ledger_t *self, const receipt_t *receipt,
                          const uint8_t *body, size_t size,
                          const uint8_t signature[SIGN_SIGNATURE_SIZE],
                          char *error, size_t error_size)
{
    assert(self);
    assert(receipt);
    assert(body);
    assert(signature);
    uint64_t head_seq;
    uint8_t head_hash[HASH_SIZE];
    if (s_check_int64_range(receipt, error, error_size) != 0 ||
        s_check_body(receipt, body, size, error, error_size) != 0 ||
        ledger_chain_head(self, receipt->serving, receipt->requesting,
                          &head_seq, head_hash, error, error_size) != 0 ||
        receipt_check_link(receipt, head_seq, head_hash, error, error_size) !=
            0)
        return -1;

    uint8_t hash[HASH_SIZE];
    receipt_hash(body, size, hash);
    sqlite3_stmt *stmt = ledger_statement(self, ST_INSERT_RECEIPT);
    s_bind_receipt(stmt, receipt, body, size, hash, signature);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_CONSTRAINT) {
        snprintf(error, error_size,
                 "ledger %s already contains a receipt of %s->%s for this "
                 "request id",
                 self->path, receipt->serving, receipt->requesting);
        return -1;
    }
    if (rc != SQLITE_DONE)
        return ledger_db_error(self, error, error_size, "storing a receipt");
    return 0;
}

int ledger_store_reply(ledger_t *self, const char *serving,
                       const char *requesting,
                       const uint8_t request_id[RECEIPT_ID_SIZE],
                       const uint8_t *reply, size_t reply_size, char *error,
                       size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(request_id);
    assert(reply);
    sqlite3_stmt *stmt = ledger_statement(self, ST_INSERT_REPLY);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, request_id, RECEIPT_ID_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob64(stmt, 4, reply, reply_size, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, clock_now_ms());
    return s_step_done(self, ST_INSERT_REPLY, error, error_size,
                       "storing a reply");
}

void ledger_reply_clear(ledger_reply_t *out)
{
    if (!out)
        return;
    free(out->reply);
    memset(out, 0, sizeof *out);
}

/* Copies the reply and the receipt columns of an ST_FIND_REPLY row. */
static int s_read_reply_row(ledger_t *self, sqlite3_stmt *stmt,
                            ledger_reply_t *out, char *error, size_t error_size)
{
    size_t reply_size = (size_t)sqlite3_column_bytes(stmt, 0);
    out->reply = malloc(reply_size ? reply_size : 1);
    if (!out->reply) {
        snprintf(error, error_size, "out of memory reading a stored reply");
        return -1;
    }
    if (reply_size)
        memcpy(out->reply, sqlite3_column_blob(stmt, 0), reply_size);
    out->reply_size = reply_size;
    if (sqlite3_column_type(stmt, 1) == SQLITE_NULL)
        return 0;
    size_t body_size = (size_t)sqlite3_column_bytes(stmt, 1);
    if (body_size > RECEIPT_MAX_BODY ||
        ledger_copy_blob(stmt, 1, out->body, body_size) != 0 ||
        ledger_copy_blob(stmt, 2, out->signature, SIGN_SIGNATURE_SIZE) != 0) {
        snprintf(error, error_size,
                 "ledger %s: the receipt of a stored reply is damaged; run "
                 "sdx ledger verify",
                 self->path);
        ledger_reply_clear(out);
        return -1;
    }
    out->body_size = body_size;
    out->has_receipt = true;
    return 0;
}

int ledger_find_reply(ledger_t *self, const char *serving,
                      const char *requesting,
                      const uint8_t request_id[RECEIPT_ID_SIZE],
                      ledger_reply_t *out, char *error, size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(request_id);
    assert(out);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = ledger_statement(self, ST_FIND_REPLY);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, request_id, RECEIPT_ID_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_ROW)
        result =
            s_read_reply_row(self, stmt, out, error, error_size) == 0 ? 1 : -1;
    else if (rc != SQLITE_DONE)
        result = ledger_db_error(self, error, error_size, "finding a reply");
    sqlite3_reset(stmt);
    return result;
}

int ledger_read_row(ledger_t *self, sqlite3_stmt *stmt, int first,
                    ledger_row_t *out, char *error, size_t error_size)
{
    char reason[256];
    memset(out, 0, sizeof *out);
    size_t body_size = (size_t)sqlite3_column_bytes(stmt, first);
    if (body_size > RECEIPT_MAX_BODY ||
        ledger_copy_blob(stmt, first, out->body, body_size) != 0 ||
        ledger_copy_blob(stmt, first + 1, out->signature,
                         SIGN_SIGNATURE_SIZE) != 0 ||
        ledger_copy_blob(stmt, first + 2, out->hash, HASH_SIZE) != 0 ||
        receipt_decode(out->body, body_size, &out->receipt, reason,
                       sizeof reason) != 0) {
        snprintf(error, error_size,
                 "ledger %s contains a damaged receipt; run sdx ledger verify",
                 self->path);
        return -1;
    }
    out->body_size = body_size;
    out->stored_at = sqlite3_column_int64(stmt, first + 3);
    out->acknowledged = sqlite3_column_int(stmt, first + 4) != 0;
    return 0;
}

static int s_find_row(ledger_t *self, sqlite3_stmt *stmt, ledger_row_t *out,
                      char *error, size_t error_size)
{
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_ROW)
        result = ledger_read_row(self, stmt, 0, out, error, error_size) == 0
                     ? 1
                     : -1;
    else if (rc != SQLITE_DONE)
        result = ledger_db_error(self, error, error_size, "finding a receipt");
    sqlite3_reset(stmt);
    return result;
}

int ledger_find_receipt(ledger_t *self, const char *serving,
                        const char *requesting, uint64_t seq, ledger_row_t *out,
                        char *error, size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(out);
    sqlite3_stmt *stmt = ledger_statement(self, ST_FIND_BY_SEQ);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    return s_find_row(self, stmt, out, error, error_size);
}

int ledger_find_receipt_by_id(ledger_t *self, const char *serving,
                              const char *requesting,
                              const uint8_t request_id[RECEIPT_ID_SIZE],
                              ledger_row_t *out, char *error, size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(request_id);
    assert(out);
    sqlite3_stmt *stmt = ledger_statement(self, ST_FIND_BY_ID);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, request_id, RECEIPT_ID_SIZE, SQLITE_STATIC);
    return s_find_row(self, stmt, out, error, error_size);
}

/* Reads the stored hash of a receipt: 1 found, 0 none, -1 error. */
static int s_receipt_hash(ledger_t *self, const char *serving,
                          const char *requesting, uint64_t seq,
                          uint8_t hash[HASH_SIZE], char *error,
                          size_t error_size)
{
    sqlite3_stmt *stmt = ledger_statement(self, ST_RECEIPT_HASH);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_ROW)
        result = ledger_copy_blob(stmt, 0, hash, HASH_SIZE) == 0 ? 1 : -1;
    else if (rc != SQLITE_DONE)
        result = -1;
    if (result < 0)
        ledger_db_error(self, error, error_size, "reading a receipt hash");
    sqlite3_reset(stmt);
    return result;
}

/* Handles an ack for a seq that already has one: the same body is a
 * harmless repeat, another body is a conflict. */
static int s_check_repeated_ack(ledger_t *self, const ack_t *ack,
                                const uint8_t *body, size_t size, char *error,
                                size_t error_size)
{
    ledger_ack_row_t stored;
    int found = ledger_find_ack(self, ack->serving, ack->requesting, ack->seq,
                                &stored, error, error_size);
    if (found < 0)
        return -1;
    if (found == 1 && stored.body_size == size &&
        memcmp(stored.body, body, size) == 0)
        return 0;
    snprintf(error, error_size,
             "ledger %s already contains a different acknowledgement of "
             "%s->%s seq %llu",
             self->path, ack->serving, ack->requesting,
             (unsigned long long)ack->seq);
    return -1;
}

static int s_check_ack_target(ledger_t *self, const ack_t *ack, char *error,
                              size_t error_size)
{
    uint8_t hash[HASH_SIZE];
    int found = s_receipt_hash(self, ack->serving, ack->requesting, ack->seq,
                               hash, error, error_size);
    if (found < 0)
        return -1;
    if (found == 0) {
        snprintf(error, error_size,
                 "acknowledgement of %s->%s seq %llu names a receipt that "
                 "ledger %s does not contain",
                 ack->serving, ack->requesting, (unsigned long long)ack->seq,
                 self->path);
        return -1;
    }
    if (memcmp(hash, ack->receipt_hash, HASH_SIZE) != 0) {
        snprintf(error, error_size,
                 "acknowledgement of %s->%s seq %llu carries another "
                 "receipt hash than the stored receipt",
                 ack->serving, ack->requesting, (unsigned long long)ack->seq);
        return -1;
    }
    return 0;
}

int ledger_append_ack(ledger_t *self, const ack_t *ack, const uint8_t *body,
                      size_t size, const uint8_t signature[SIGN_SIGNATURE_SIZE],
                      char *error, size_t error_size)
{
    assert(self);
    assert(ack);
    assert(body);
    assert(signature);
    if (ack->seq > INT64_MAX || size > ACK_MAX_BODY) {
        snprintf(error, error_size, "acknowledgement is out of range");
        return -1;
    }
    if (s_check_ack_target(self, ack, error, error_size) != 0)
        return -1;
    sqlite3_stmt *stmt = ledger_statement(self, ST_INSERT_ACK);
    sqlite3_bind_text(stmt, 1, ack->serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, ack->requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)ack->seq);
    sqlite3_bind_blob(stmt, 4, ack->receipt_hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 5, body, (int)size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 6, signature, SIGN_SIGNATURE_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, clock_now_ms());
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_CONSTRAINT)
        return s_check_repeated_ack(self, ack, body, size, error, error_size);
    if (rc != SQLITE_DONE)
        return ledger_db_error(self, error, error_size,
                               "storing an acknowledgement");
    return 0;
}

int ledger_find_ack(ledger_t *self, const char *serving, const char *requesting,
                    uint64_t seq, ledger_ack_row_t *out, char *error,
                    size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(out);
    char reason[256];
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = ledger_statement(self, ST_FIND_ACK);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_ROW) {
        size_t size = (size_t)sqlite3_column_bytes(stmt, 0);
        result = 1;
        if (size > ACK_MAX_BODY ||
            ledger_copy_blob(stmt, 0, out->body, size) != 0 ||
            ledger_copy_blob(stmt, 1, out->signature, SIGN_SIGNATURE_SIZE) !=
                0 ||
            ack_decode(out->body, size, &out->ack, reason, sizeof reason) !=
                0) {
            snprintf(error, error_size,
                     "ledger %s contains a damaged acknowledgement; run sdx "
                     "ledger verify",
                     self->path);
            result = -1;
        }
        out->body_size = size;
        out->stored_at = sqlite3_column_int64(stmt, 2);
    } else if (rc != SQLITE_DONE) {
        result = ledger_db_error(self, error, error_size,
                                 "finding an acknowledgement");
    }
    sqlite3_reset(stmt);
    return result;
}

static void s_bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, index);
}

int ledger_record_dispute(ledger_t *self, const char *serving,
                          const char *requesting, const uint8_t *body,
                          size_t size, const uint8_t *signature,
                          const char *reason, char *error, size_t error_size)
{
    assert(self && (body || size == 0) && reason);
    sqlite3_stmt *stmt = ledger_statement(self, ST_INSERT_DISPUTE);
    s_bind_text_or_null(stmt, 1, serving);
    s_bind_text_or_null(stmt, 2, requesting);
    sqlite3_bind_blob64(stmt, 3, body ? (const void *)body : "", size,
                        SQLITE_STATIC);
    if (signature)
        sqlite3_bind_blob(stmt, 4, signature, SIGN_SIGNATURE_SIZE,
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 4);
    sqlite3_bind_text(stmt, 5, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, clock_now_ms());
    return s_step_done(self, ST_INSERT_DISPUTE, error, error_size,
                       "recording a dispute");
}

int ledger_count_disputes(ledger_t *self, uint64_t *count, char *error,
                          size_t error_size)
{
    sqlite3_stmt *stmt = ledger_statement(self, ST_COUNT_DISPUTES);
    int result = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(stmt, 0);
    else
        result = ledger_db_error(self, error, error_size, "counting disputes");
    sqlite3_reset(stmt);
    return result;
}

/* The listing query, where a NULL parameter matches any value. */
static const char *s_foreach_sql =
    "SELECT r.body, r.sig, r.hash, r.stored_at, a.seq IS NOT NULL"
    " FROM receipts r" ACKED_JOIN " WHERE (?1 IS NULL OR r.serving = ?1)"
    " AND (?2 IS NULL OR r.requesting = ?2)"
    " AND (?3 IS NULL OR r.serving = ?3 OR r.requesting = ?3)"
    " AND r.served_at >= ?4 AND r.served_at < ?5"
    " AND (?6 = 0 OR a.seq IS NULL)"
    " ORDER BY r.served_at, r.serving, r.requesting, r.seq";

/* Turns a filter into the serving, requesting and either-side parameters
 * of the listing query. */
static void s_bind_filter(sqlite3_stmt *stmt, const ledger_filter_t *filter)
{
    static const ledger_filter_t all = {0};
    if (!filter)
        filter = &all;
    const char *serving = NULL;
    const char *requesting = NULL;
    const char *either = NULL;
    if (filter->role == LEDGER_ROLE_ISSUED) {
        assert(filter->own_mpid);
        serving = filter->own_mpid;
        requesting = filter->counterparty;
    } else if (filter->role == LEDGER_ROLE_RECEIVED) {
        assert(filter->own_mpid);
        serving = filter->counterparty;
        requesting = filter->own_mpid;
    } else {
        either = filter->counterparty;
    }
    bool any_time = filter->from_ms == 0 && filter->to_ms == 0;
    s_bind_text_or_null(stmt, 1, serving);
    s_bind_text_or_null(stmt, 2, requesting);
    s_bind_text_or_null(stmt, 3, either);
    sqlite3_bind_int64(stmt, 4, any_time ? INT64_MIN : filter->from_ms);
    sqlite3_bind_int64(stmt, 5, any_time ? INT64_MAX : filter->to_ms);
    sqlite3_bind_int(stmt, 6, filter->unacknowledged_only ? 1 : 0);
}

int ledger_foreach_receipt(ledger_t *self, const ledger_filter_t *filter,
                           ledger_receipt_fn callback, void *arg, char *error,
                           size_t error_size)
{
    assert(self);
    assert(callback);
    sqlite3_stmt *stmt = NULL;
    ledger_row_t *row = malloc(sizeof *row);
    int result = 0;
    if (!row) {
        snprintf(error, error_size, "out of memory listing receipts");
        return -1;
    }
    if (sqlite3_prepare_v2(self->db, s_foreach_sql, -1, &stmt, NULL) !=
        SQLITE_OK) {
        result = ledger_db_error(self, error, error_size, "listing receipts");
        goto cleanup;
    }
    s_bind_filter(stmt, filter);
    int rc;
    while (result == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (ledger_read_row(self, stmt, 0, row, error, error_size) != 0)
            result = -1;
        else
            result = callback(row, arg);
    }
    if (result == 0 && rc != SQLITE_DONE)
        result = ledger_db_error(self, error, error_size, "listing receipts");
cleanup:
    sqlite3_finalize(stmt);
    free(row);
    return result;
}

int ledger_find_dispute(ledger_t *self, const char *serving,
                        const char *requesting, const uint8_t *body,
                        size_t size, char *reason, size_t reason_size,
                        char *error, size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(body || size == 0);
    static const char *sql =
        "SELECT reason FROM disputes WHERE serving = ?1 AND requesting = ?2"
        " AND body = ?3 ORDER BY id LIMIT 1";
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size, "finding a dispute");
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(stmt, 3, body ? (const void *)body : "", size,
                        SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        snprintf(reason, reason_size, "%s", text ? (const char *)text : "");
        result = 1;
    } else if (rc != SQLITE_DONE) {
        result = ledger_db_error(self, error, error_size, "finding a dispute");
    }
    sqlite3_finalize(stmt);
    return result;
}
