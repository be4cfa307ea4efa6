/* The checkpoints table of the ledger and its verification. */
#include "ledger_checkpoint.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hex.h"
#include "ledger_private.h"

static const char *s_insert_sql =
    "INSERT OR IGNORE INTO checkpoints (serving, requesting, seq, head_hash,"
    " acked_seq, issued_at, body, sig, stored_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static const char *s_last_sql =
    "SELECT id, body, sig, stored_at FROM checkpoints"
    " WHERE serving = ?1 AND requesting = ?2 ORDER BY seq DESC, id DESC"
    " LIMIT 1";

static const char *s_first_unacked_sql =
    "SELECT min(r.seq) FROM receipts r LEFT JOIN acks a"
    " ON a.serving = r.serving AND a.requesting = r.requesting"
    " AND a.seq = r.seq WHERE r.serving = ?1 AND r.requesting = ?2"
    " AND r.seq > ?3 AND a.seq IS NULL";

static const char *s_walk_sql =
    "SELECT id, serving, requesting, seq, head_hash, acked_seq, issued_at,"
    " body, sig FROM checkpoints ORDER BY serving, requesting, seq, id";

enum {
    COL_ID,
    COL_SERVING,
    COL_REQUESTING,
    COL_SEQ,
    COL_HEAD_HASH,
    COL_ACKED_SEQ,
    COL_ISSUED_AT,
    COL_BODY,
    COL_SIG
};

static const char *s_acks_sql =
    "SELECT seq FROM acks WHERE serving = ?1 AND requesting = ?2"
    " AND seq > ?3 AND seq <= ?4 ORDER BY seq";

/* Checks that body is the encoding of checkpoint, so the columns always
 * agree with the signed bytes. */
static int s_check_body(const checkpoint_t *checkpoint, const uint8_t *body,
                        size_t size, char *error, size_t error_size)
{
    uint8_t *expected = NULL;
    size_t expected_size = 0;
    if (checkpoint_encode(checkpoint, &expected, &expected_size) != 0) {
        snprintf(error, error_size, "out of memory encoding a checkpoint");
        return -1;
    }
    bool same = expected_size == size && memcmp(expected, body, size) == 0;
    free(expected);
    if (!same) {
        snprintf(error, error_size,
                 "checkpoint body of %s->%s seq %llu is not the encoding of "
                 "its fields",
                 checkpoint->serving, checkpoint->requesting,
                 (unsigned long long)checkpoint->seq);
        return -1;
    }
    return 0;
}

int ledger_store_checkpoint(ledger_t *self, const checkpoint_t *checkpoint,
                            const uint8_t *body, size_t size,
                            const uint8_t signature[SIGN_SIGNATURE_SIZE],
                            char *error, size_t error_size)
{
    assert(self);
    assert(checkpoint);
    assert(body);
    assert(signature);
    if (checkpoint->seq > INT64_MAX || checkpoint->acked_seq > INT64_MAX ||
        size > CHECKPOINT_MAX_BODY) {
        snprintf(error, error_size, "checkpoint is out of range");
        return -1;
    }
    if (s_check_body(checkpoint, body, size, error, error_size) != 0)
        return -1;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, s_insert_sql, -1, &stmt, NULL) !=
        SQLITE_OK)
        return ledger_db_error(self, error, error_size, "storing a checkpoint");
    sqlite3_bind_text(stmt, 1, checkpoint->serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, checkpoint->requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)checkpoint->seq);
    sqlite3_bind_blob(stmt, 4, checkpoint->head_hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)checkpoint->acked_seq);
    sqlite3_bind_int64(stmt, 6, checkpoint->issued_at);
    sqlite3_bind_blob(stmt, 7, body, (int)size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 8, signature, SIGN_SIGNATURE_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 9, clock_now_ms());
    int rc =
        sqlite3_step(stmt) == SQLITE_DONE
            ? 0
            : ledger_db_error(self, error, error_size, "storing a checkpoint");
    sqlite3_finalize(stmt);
    return rc;
}

/* Fills out from the columns id, body, sig and stored_at. */
static int s_read_row(ledger_t *self, sqlite3_stmt *stmt,
                      ledger_checkpoint_row_t *out, char *error,
                      size_t error_size)
{
    char reason[256];
    size_t size = (size_t)sqlite3_column_bytes(stmt, 1);
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(stmt, 0);
    if (size > CHECKPOINT_MAX_BODY ||
        ledger_copy_blob(stmt, 1, out->body, size) != 0 ||
        ledger_copy_blob(stmt, 2, out->signature, SIGN_SIGNATURE_SIZE) != 0 ||
        checkpoint_decode(out->body, size, &out->checkpoint, reason,
                          sizeof reason) != 0) {
        snprintf(error, error_size,
                 "ledger %s contains a damaged checkpoint (id %lld); run sdx "
                 "ledger verify",
                 self->path, (long long)out->id);
        return -1;
    }
    out->body_size = size;
    out->stored_at = sqlite3_column_int64(stmt, 3);
    return 0;
}

int ledger_last_checkpoint(ledger_t *self, const char *serving,
                           const char *requesting, ledger_checkpoint_row_t *out,
                           char *error, size_t error_size)
{
    assert(self);
    assert(serving);
    assert(requesting);
    assert(out);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, s_last_sql, -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size,
                               "reading the last checkpoint");
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int found = 0;
    if (rc == SQLITE_ROW)
        found = s_read_row(self, stmt, out, error, error_size) == 0 ? 1 : -1;
    else if (rc != SQLITE_DONE)
        found = ledger_db_error(self, error, error_size,
                                "reading the last checkpoint");
    sqlite3_finalize(stmt);
    return found;
}

int ledger_acked_through(ledger_t *self, const char *serving,
                         const char *requesting, uint64_t known,
                         uint64_t *acked_seq, char *error, size_t error_size)
{
    assert(self);
    assert(acked_seq);
    uint8_t hash[HASH_SIZE];
    uint64_t head = 0;
    if (ledger_chain_head(self, serving, requesting, &head, hash, error,
                          error_size) != 0)
        return -1;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, s_first_unacked_sql, -1, &stmt, NULL) !=
        SQLITE_OK)
        return ledger_db_error(self, error, error_size,
                               "finding the first unacknowledged receipt");
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)known);
    int result = 0;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        result = ledger_db_error(self, error, error_size,
                                 "finding the first unacknowledged receipt");
    else if (sqlite3_column_type(stmt, 0) == SQLITE_NULL)
        *acked_seq = head;
    else
        *acked_seq = (uint64_t)sqlite3_column_int64(stmt, 0) - 1;
    sqlite3_finalize(stmt);
    return result;
}

/* The walk's state: what to check with, and where to report. */
typedef struct {
    ledger_t *ledger;
    const char *own_mpid;
    ledger_signature_fn check;
    void *arg;
    ledger_verify_result_t *result;
    int64_t id;
    int64_t issued_at;
    /* Every acknowledgement from seq 1 to acked_through of this chain has
     * been found, so later checkpoints of it check only the seqs above. */
    char acked_serving[5];
    char acked_requesting[5];
    uint64_t acked_through;
} walk_t;

static int s_problem(walk_t *walk, const char *serving, const char *requesting,
                     uint64_t seq, bool in_ack, const char *format, ...)
    __attribute__((format(printf, 6, 7)));

/* Records the problem with the checkpoint's name before the reason, and
 * returns 1, which stops the walk. */
static int s_problem(walk_t *walk, const char *serving, const char *requesting,
                     uint64_t seq, bool in_ack, const char *format, ...)
{
    ledger_verify_result_t *result = walk->result;
    char issued[CLOCK_ISO_SIZE];
    char reason[sizeof result->reason];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    result->ok = false;
    snprintf(result->serving, sizeof result->serving, "%s", serving);
    snprintf(result->requesting, sizeof result->requesting, "%s", requesting);
    result->seq = seq;
    result->in_ack = in_ack;
    snprintf(result->reason, sizeof result->reason,
             "checkpoint id %lld (issued %s): %s", (long long)walk->id,
             clock_format_iso(walk->issued_at, issued), reason);
    return 1;
}

/* Returns the name of the first column that differs from the signed
 * body, or NULL when they all agree. */
static const char *s_differing_column(sqlite3_stmt *stmt, const checkpoint_t *c)
{
    const unsigned char *serving = sqlite3_column_text(stmt, COL_SERVING);
    const unsigned char *requesting = sqlite3_column_text(stmt, COL_REQUESTING);
    if (!serving || strcmp((const char *)serving, c->serving) != 0)
        return "serving";
    if (!requesting || strcmp((const char *)requesting, c->requesting) != 0)
        return "requesting";
    if (sqlite3_column_int64(stmt, COL_SEQ) != (int64_t)c->seq)
        return "seq";
    if (sqlite3_column_bytes(stmt, COL_HEAD_HASH) != HASH_SIZE ||
        memcmp(sqlite3_column_blob(stmt, COL_HEAD_HASH), c->head_hash,
               HASH_SIZE) != 0)
        return "head_hash";
    if (sqlite3_column_int64(stmt, COL_ACKED_SEQ) != (int64_t)c->acked_seq)
        return "acked_seq";
    if (sqlite3_column_int64(stmt, COL_ISSUED_AT) != c->issued_at)
        return "issued_at";
    return NULL;
}

/* Decodes the row's body and checks its columns and signature. */
static int s_check_signed(walk_t *walk, sqlite3_stmt *stmt, checkpoint_t *c)
{
    char serving[5] = "", requesting[5] = "", reason[256];
    const unsigned char *text = sqlite3_column_text(stmt, COL_SERVING);
    snprintf(serving, sizeof serving, "%s", text ? (const char *)text : "");
    text = sqlite3_column_text(stmt, COL_REQUESTING);
    snprintf(requesting, sizeof requesting, "%s",
             text ? (const char *)text : "");
    uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, COL_SEQ);
    const uint8_t *body = sqlite3_column_blob(stmt, COL_BODY);
    size_t size = (size_t)sqlite3_column_bytes(stmt, COL_BODY);
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    char why[400];
    if (checkpoint_decode(body ? body : (const uint8_t *)"", size, c, reason,
                          sizeof reason) != 0)
        return s_problem(walk, serving, requesting, seq, false,
                         "the body does not decode: %s", reason);
    const char *column = s_differing_column(stmt, c);
    if (column)
        return s_problem(walk, serving, requesting, seq, false,
                         "column %s disagrees with the signed body", column);
    if (ledger_copy_blob(stmt, COL_SIG, signature, sizeof signature) != 0)
        return s_problem(walk, serving, requesting, seq, false,
                         "bad signature: the stored signature is not %d bytes",
                         SIGN_SIGNATURE_SIZE);
    int rc = walk->check(c->serving, c->issued_at, SIGN_DOMAIN_CHECKPOINT, body,
                         size, signature, why, sizeof why, walk->arg);
    if (rc == LEDGER_SIGNER_UNKNOWN)
        return s_problem(walk, serving, requesting, seq, false,
                         "no signing key is known for serving supplier %s",
                         c->serving);
    if (rc != LEDGER_SIGNATURE_OK)
        return s_problem(walk, serving, requesting, seq, false,
                         "bad signature: %s", why);
    return 0;
}

/* Reads the stored hash of a receipt. Returns 1 when found, 2 when its
 * hash column is damaged, 0 when there is no such receipt, or -1. */
static int s_receipt_hash(ledger_t *self, const checkpoint_t *c,
                          uint8_t hash[HASH_SIZE], char *error,
                          size_t error_size)
{
    sqlite3_stmt *stmt = ledger_statement(self, ST_RECEIPT_HASH);
    sqlite3_bind_text(stmt, 1, c->serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, c->requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)c->seq);
    int rc = sqlite3_step(stmt);
    int found = 0;
    if (rc == SQLITE_ROW)
        found = ledger_copy_blob(stmt, 0, hash, HASH_SIZE) == 0 ? 1 : 2;
    else if (rc != SQLITE_DONE)
        found =
            ledger_db_error(self, error, error_size, "reading a receipt hash");
    sqlite3_reset(stmt);
    return found;
}

/* Checks the receipt at the checkpoint's seq. Returns 0, 1 at a problem,
 * or -1. */
static int s_check_head(walk_t *walk, const checkpoint_t *c, char *error,
                        size_t error_size)
{
    uint8_t hash[HASH_SIZE];
    char want[2 * HASH_SIZE + 1], got[2 * HASH_SIZE + 1];
    int found = s_receipt_hash(walk->ledger, c, hash, error, error_size);
    if (found < 0)
        return -1;
    bool issued = strcmp(c->serving, walk->own_mpid) == 0;
    if (found == 0 && issued)
        return s_problem(walk, c->serving, c->requesting, c->seq, false,
                         "the chain reached seq %llu when this node issued "
                         "the checkpoint, but seq %llu is missing now (the "
                         "chain was cut short)",
                         (unsigned long long)c->seq,
                         (unsigned long long)c->seq);
    if (found == 0)
        return 0; /* this requester has not fetched that far yet */
    if (found == 2 || memcmp(hash, c->head_hash, HASH_SIZE) != 0)
        return s_problem(
            walk, c->serving, c->requesting, c->seq, false,
            "the checkpoint names hash %s for seq %llu, but this ledger's seq "
            "%llu has hash %s (the chain was rewritten at or before seq %llu)",
            hex_encode(c->head_hash, HASH_SIZE, want),
            (unsigned long long)c->seq, (unsigned long long)c->seq,
            found == 2 ? "(damaged)" : hex_encode(hash, HASH_SIZE, got),
            (unsigned long long)c->seq);
    return 0;
}

/* Finds the first seq from after + 1 to c->acked_seq without an
 * acknowledgement. Returns 0 and sets *missing (0 when none is missing),
 * or -1. */
static int s_first_missing_ack(ledger_t *self, const checkpoint_t *c,
                               uint64_t after, uint64_t *missing, char *error,
                               size_t error_size)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, s_acks_sql, -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size,
                               "reading acknowledgements");
    sqlite3_bind_text(stmt, 1, c->serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, c->requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)after);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)c->acked_seq);
    uint64_t expected = after + 1;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
           (uint64_t)sqlite3_column_int64(stmt, 0) == expected)
        expected++;
    int result = 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = ledger_db_error(self, error, error_size,
                                 "reading acknowledgements");
    *missing = expected <= c->acked_seq ? expected : 0;
    sqlite3_finalize(stmt);
    return result;
}

static int s_check_row(walk_t *walk, sqlite3_stmt *stmt, char *error,
                       size_t error_size)
{
    checkpoint_t c;
    walk->id = sqlite3_column_int64(stmt, COL_ID);
    walk->issued_at = sqlite3_column_int64(stmt, COL_ISSUED_AT);
    int found = s_check_signed(walk, stmt, &c);
    if (found != 0)
        return found;
    if (strcmp(c.serving, walk->own_mpid) != 0 &&
        strcmp(c.requesting, walk->own_mpid) != 0)
        return s_problem(walk, c.serving, c.requesting, c.seq, false,
                         "the checkpoint is of a chain between two other "
                         "suppliers");
    found = s_check_head(walk, &c, error, error_size);
    if (found != 0)
        return found;
    bool same_chain = strcmp(walk->acked_serving, c.serving) == 0 &&
                      strcmp(walk->acked_requesting, c.requesting) == 0;
    uint64_t after = same_chain ? walk->acked_through : 0;
    uint64_t missing = 0;
    if (c.acked_seq > after && s_first_missing_ack(walk->ledger, &c, after,
                                                   &missing, error, error_size))
        return -1;
    if (missing)
        return s_problem(walk, c.serving, c.requesting, missing, true,
                         "every receipt up to seq %llu was acknowledged, but "
                         "the acknowledgement of seq %llu is missing now",
                         (unsigned long long)c.acked_seq,
                         (unsigned long long)missing);
    if (c.acked_seq > after) {
        memcpy(walk->acked_serving, c.serving, sizeof c.serving);
        memcpy(walk->acked_requesting, c.requesting, sizeof c.requesting);
        walk->acked_through = c.acked_seq;
    }
    walk->result->checkpoints++;
    return 0;
}

int ledger_verify_checkpoints(ledger_t *self, const char *own_mpid,
                              ledger_key_fn lookup, void *arg,
                              ledger_verify_result_t *result, char *error,
                              size_t error_size)
{
    assert(lookup);
    ledger_lookup_t keys = {.lookup = lookup, .arg = arg};
    return ledger_verify_checkpoints_timed(self, own_mpid,
                                           ledger_check_with_lookup, &keys,
                                           result, error, error_size);
}

int ledger_verify_checkpoints_timed(ledger_t *self, const char *own_mpid,
                                    ledger_signature_fn check, void *arg,
                                    ledger_verify_result_t *result, char *error,
                                    size_t error_size)
{
    assert(self);
    assert(own_mpid);
    assert(check);
    assert(result);
    memset(result, 0, sizeof *result);
    result->ok = true;
    walk_t walk = {.ledger = self,
                   .own_mpid = own_mpid,
                   .check = check,
                   .arg = arg,
                   .result = result};
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, s_walk_sql, -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size,
                               "verifying checkpoints");
    int rc;
    int found = 0;
    while (found == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        found = s_check_row(&walk, stmt, error, error_size);
    if (found == 0 && rc != SQLITE_DONE)
        found =
            ledger_db_error(self, error, error_size, "verifying checkpoints");
    sqlite3_finalize(stmt);
    return found < 0 ? -1 : 0;
}
