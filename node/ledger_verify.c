/* ledger_verify: re-checks every stored receipt chain and acknowledgement
 * from the raw rows, so edits made behind the API are found. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "ledger.h"
#include "ledger_private.h"

static const char *s_receipts_sql =
    "SELECT serving, requesting, seq, request_id, mpxn, type, units, price,"
    " tariff_id, served_at, hash, prev_hash, body, sig"
    " FROM receipts ORDER BY serving, requesting, seq";

enum {
    COL_SERVING,
    COL_REQUESTING,
    COL_SEQ,
    COL_REQUEST_ID,
    COL_MPXN,
    COL_TYPE,
    COL_UNITS,
    COL_PRICE,
    COL_TARIFF_ID,
    COL_SERVED_AT,
    COL_HASH,
    COL_PREV_HASH,
    COL_BODY,
    COL_SIG
};

static const char *s_acks_sql =
    "SELECT a.serving, a.requesting, a.seq, a.receipt_hash, a.body, a.sig,"
    " r.hash FROM acks a LEFT JOIN receipts r ON r.serving = a.serving"
    " AND r.requesting = a.requesting AND r.seq = a.seq"
    " ORDER BY a.serving, a.requesting, a.seq";

enum {
    ACK_COL_SERVING,
    ACK_COL_REQUESTING,
    ACK_COL_SEQ,
    ACK_COL_RECEIPT_HASH,
    ACK_COL_BODY,
    ACK_COL_SIG,
    ACK_COL_STORED_HASH
};

/* The walk's position: the chain being read and what its next row must
 * carry. */
typedef struct {
    ledger_signature_fn check;
    void *arg;
    ledger_verify_result_t *result;
    char serving[5];
    char requesting[5];
    uint64_t expected_seq;
    uint8_t prev_hash[HASH_SIZE];
} walk_t;

static int s_problem(walk_t *walk, uint64_t seq, bool in_ack,
                     const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first problem and returns 1, which stops the walk. */
static int s_problem(walk_t *walk, uint64_t seq, bool in_ack,
                     const char *format, ...)
{
    ledger_verify_result_t *result = walk->result;
    result->ok = false;
    snprintf(result->serving, sizeof result->serving, "%s", walk->serving);
    snprintf(result->requesting, sizeof result->requesting, "%s",
             walk->requesting);
    result->seq = seq;
    result->in_ack = in_ack;
    va_list args;
    va_start(args, format);
    vsnprintf(result->reason, sizeof result->reason, format, args);
    va_end(args);
    return 1;
}

static void s_column_text(sqlite3_stmt *stmt, int column, char *out,
                          size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    snprintf(out, size, "%s", text ? (const char *)text : "");
}

static bool s_text_is(sqlite3_stmt *stmt, int column, const char *expected)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    return sqlite3_column_type(stmt, column) == SQLITE_TEXT && text &&
           strcmp((const char *)text, expected) == 0;
}

static bool s_int_is(sqlite3_stmt *stmt, int column, int64_t expected)
{
    return sqlite3_column_type(stmt, column) == SQLITE_INTEGER &&
           sqlite3_column_int64(stmt, column) == expected;
}

static bool s_blob_is(sqlite3_stmt *stmt, int column, const uint8_t *expected,
                      size_t size)
{
    return sqlite3_column_type(stmt, column) == SQLITE_BLOB &&
           (size_t)sqlite3_column_bytes(stmt, column) == size &&
           memcmp(sqlite3_column_blob(stmt, column), expected, size) == 0;
}

int ledger_check_with_lookup(const char *mpid, int64_t signed_ms,
                             const char *domain, const uint8_t *data,
                             size_t size,
                             const uint8_t signature[SIGN_SIGNATURE_SIZE],
                             char *reason, size_t reason_size, void *arg)
{
    (void)signed_ms;
    const ledger_lookup_t *lookup = arg;
    uint8_t key[SIGN_PUBLIC_SIZE];
    if (lookup->lookup(mpid, key, lookup->arg) != 0)
        return LEDGER_SIGNER_UNKNOWN;
    if (sign_verify(key, domain, data, size, signature))
        return LEDGER_SIGNATURE_OK;
    snprintf(reason, reason_size,
             "the body is not signed by %s's key (the body or the signature "
             "was edited)",
             mpid);
    return LEDGER_SIGNATURE_BAD;
}

/* Checks the signature in column over body, which signer made at
 * signed_ms. Returns 0, or 1 after recording the problem. */
static int s_check_signature(walk_t *walk, sqlite3_stmt *stmt, int column,
                             const char *domain, const uint8_t *body,
                             size_t size, int64_t signed_ms, uint64_t seq,
                             bool in_ack)
{
    const char *signer = in_ack ? walk->requesting : walk->serving;
    const char *label =
        in_ack ? "bad acknowledgement signature" : "bad signature";
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    char reason[400];
    if (ledger_copy_blob(stmt, column, signature, sizeof signature) != 0)
        return s_problem(walk, seq, in_ack,
                         "%s: the stored signature is not %d bytes", label,
                         SIGN_SIGNATURE_SIZE);
    int rc = walk->check(signer, signed_ms, domain,
                         body ? body : (const uint8_t *)"", size, signature,
                         reason, sizeof reason, walk->arg);
    if (rc == LEDGER_SIGNER_UNKNOWN)
        return s_problem(walk, seq, in_ack,
                         "no signing key is known for %s supplier %s",
                         in_ack ? "requesting" : "serving", signer);
    if (rc != LEDGER_SIGNATURE_OK)
        return s_problem(walk, seq, in_ack, "%s: %s", label, reason);
    return 0;
}

/* Moves the walk to the row's chain when it starts a new one. */
static void s_enter_chain(walk_t *walk, sqlite3_stmt *stmt)
{
    char serving[5];
    char requesting[5];
    s_column_text(stmt, COL_SERVING, serving, sizeof serving);
    s_column_text(stmt, COL_REQUESTING, requesting, sizeof requesting);
    if (walk->result->chains > 0 && strcmp(serving, walk->serving) == 0 &&
        strcmp(requesting, walk->requesting) == 0)
        return;
    memcpy(walk->serving, serving, sizeof serving);
    memcpy(walk->requesting, requesting, sizeof requesting);
    walk->expected_seq = 1;
    memset(walk->prev_hash, 0, HASH_SIZE);
    walk->result->chains++;
}

/* Returns the name of the first column that differs from the signed body,
 * or NULL when they all agree. */
static const char *s_differing_column(sqlite3_stmt *stmt, const receipt_t *r)
{
    if (!s_text_is(stmt, COL_SERVING, r->serving))
        return "serving";
    if (!s_text_is(stmt, COL_REQUESTING, r->requesting))
        return "requesting";
    if (!s_int_is(stmt, COL_SEQ, (int64_t)r->seq))
        return "seq";
    if (!s_blob_is(stmt, COL_REQUEST_ID, r->request_id, RECEIPT_ID_SIZE))
        return "request_id";
    if (!s_text_is(stmt, COL_MPXN, r->mpxn))
        return "mpxn";
    if (!s_text_is(stmt, COL_TYPE, r->type))
        return "type";
    if (!s_int_is(stmt, COL_UNITS, (int64_t)r->units))
        return "units";
    if (!s_int_is(stmt, COL_PRICE, (int64_t)r->price))
        return "price";
    if (!s_text_is(stmt, COL_TARIFF_ID, r->tariff_id))
        return "tariff_id";
    if (!s_int_is(stmt, COL_SERVED_AT, r->served_at))
        return "served_at";
    if (!s_blob_is(stmt, COL_PREV_HASH, r->prev_hash, HASH_SIZE))
        return "prev_hash";
    return NULL;
}

static int s_check_seq(walk_t *walk, sqlite3_stmt *stmt, uint64_t *seq)
{
    int64_t stored = sqlite3_column_int64(stmt, COL_SEQ);
    if (sqlite3_column_type(stmt, COL_SEQ) != SQLITE_INTEGER || stored < 1)
        return s_problem(walk, walk->expected_seq, false,
                         "a row has seq '%s', which is not a positive "
                         "integer",
                         (const char *)sqlite3_column_text(stmt, COL_SEQ));
    *seq = (uint64_t)stored;
    if (*seq > walk->expected_seq)
        return s_problem(walk, walk->expected_seq, false,
                         "seq %llu is missing: the chain goes on at seq %llu "
                         "(a receipt was removed)",
                         (unsigned long long)walk->expected_seq,
                         (unsigned long long)*seq);
    return 0;
}

/* Checks the stored hash over the raw body bytes. */
static int s_check_hash(walk_t *walk, sqlite3_stmt *stmt, uint64_t seq,
                        uint8_t hash[HASH_SIZE])
{
    const uint8_t *body = sqlite3_column_blob(stmt, COL_BODY);
    size_t size = (size_t)sqlite3_column_bytes(stmt, COL_BODY);
    receipt_hash(body ? body : (const uint8_t *)"", size, hash);
    if (!s_blob_is(stmt, COL_HASH, hash, HASH_SIZE))
        return s_problem(walk, seq, false,
                         "the stored hash is not the BLAKE2b-256 of the body "
                         "(the body or the hash was edited)");
    return 0;
}

/* Checks one receipt row. Returns 0 when it is sound, 1 at a problem. */
static int s_check_receipt_row(walk_t *walk, sqlite3_stmt *stmt)
{
    uint64_t seq = 0;
    uint8_t hash[HASH_SIZE];
    char reason[256];
    char got[2 * HASH_SIZE + 1];
    receipt_t receipt;
    s_enter_chain(walk, stmt);
    if (s_check_seq(walk, stmt, &seq) != 0 ||
        s_check_hash(walk, stmt, seq, hash) != 0)
        return 1;

    /* The body is decoded before its signature is checked, because its
     * served_at says which of the serving supplier's keys may sign it. */
    const uint8_t *body = sqlite3_column_blob(stmt, COL_BODY);
    size_t size = (size_t)sqlite3_column_bytes(stmt, COL_BODY);
    if (receipt_decode(body, size, &receipt, reason, sizeof reason) != 0)
        return s_problem(walk, seq, false,
                         "the signed body does not decode: %s", reason);
    if (s_check_signature(walk, stmt, COL_SIG, SIGN_DOMAIN_RECEIPT, body, size,
                          receipt.served_at, seq, false) != 0)
        return 1;
    const char *column = s_differing_column(stmt, &receipt);
    if (column)
        return s_problem(walk, seq, false,
                         "column %s disagrees with the signed body (the row "
                         "was edited or moved)",
                         column);
    if (memcmp(receipt.prev_hash, walk->prev_hash, HASH_SIZE) != 0)
        return s_problem(walk, seq, false,
                         "prev_hash %s is not the hash of seq %llu (a "
                         "receipt was replaced or reordered)",
                         hex_encode(receipt.prev_hash, HASH_SIZE, got),
                         (unsigned long long)(seq - 1));
    memcpy(walk->prev_hash, hash, HASH_SIZE);
    walk->expected_seq = seq + 1;
    walk->result->receipts++;
    return 0;
}

/* Runs check over every row of sql. Returns 0, 1 at a problem, or -1. */
static int s_walk(ledger_t *self, const char *sql, walk_t *walk,
                  int (*check)(walk_t *, sqlite3_stmt *), char *error,
                  size_t error_size)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return ledger_db_error(self, error, error_size, "verify");
    int rc;
    int found = 0;
    while (found == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        found = check(walk, stmt);
    if (found == 0 && rc != SQLITE_DONE)
        found = ledger_db_error(self, error, error_size, "verify");
    sqlite3_finalize(stmt);
    return found;
}

static const char *s_differing_ack_column(sqlite3_stmt *stmt, const ack_t *a)
{
    if (!s_text_is(stmt, ACK_COL_SERVING, a->serving))
        return "serving";
    if (!s_text_is(stmt, ACK_COL_REQUESTING, a->requesting))
        return "requesting";
    if (!s_int_is(stmt, ACK_COL_SEQ, (int64_t)a->seq))
        return "seq";
    if (!s_blob_is(stmt, ACK_COL_RECEIPT_HASH, a->receipt_hash, HASH_SIZE))
        return "receipt_hash";
    return NULL;
}

static int s_check_ack_row(walk_t *walk, sqlite3_stmt *stmt)
{
    char reason[256];
    ack_t ack;
    s_column_text(stmt, ACK_COL_SERVING, walk->serving, sizeof walk->serving);
    s_column_text(stmt, ACK_COL_REQUESTING, walk->requesting,
                  sizeof walk->requesting);
    uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, ACK_COL_SEQ);
    if (sqlite3_column_type(stmt, ACK_COL_STORED_HASH) == SQLITE_NULL)
        return s_problem(walk, seq, false,
                         "seq %llu is acknowledged but the receipt is missing "
                         "(a receipt was removed)",
                         (unsigned long long)seq);
    if (sqlite3_column_bytes(stmt, ACK_COL_STORED_HASH) != HASH_SIZE ||
        !s_blob_is(stmt, ACK_COL_RECEIPT_HASH,
                   sqlite3_column_blob(stmt, ACK_COL_STORED_HASH), HASH_SIZE))
        return s_problem(walk, seq, true,
                         "the acknowledgement is of another receipt: its "
                         "receipt hash differs from the stored receipt's");

    const uint8_t *body = sqlite3_column_blob(stmt, ACK_COL_BODY);
    size_t size = (size_t)sqlite3_column_bytes(stmt, ACK_COL_BODY);
    if (ack_decode(body ? body : (const uint8_t *)"", size, &ack, reason,
                   sizeof reason) != 0)
        return s_problem(walk, seq, true,
                         "the acknowledgement body does not decode: %s",
                         reason);
    const char *column = s_differing_ack_column(stmt, &ack);
    if (column)
        return s_problem(walk, seq, true,
                         "acknowledgement column %s disagrees with its "
                         "signed body",
                         column);
    if (s_check_signature(walk, stmt, ACK_COL_SIG, SIGN_DOMAIN_ACK, body, size,
                          ack.acked_at, seq, true) != 0)
        return 1;
    walk->result->acks++;
    return 0;
}

int ledger_verify(ledger_t *self, ledger_key_fn lookup, void *arg,
                  ledger_verify_result_t *result, char *error,
                  size_t error_size)
{
    assert(lookup);
    ledger_lookup_t keys = {.lookup = lookup, .arg = arg};
    return ledger_verify_timed(self, ledger_check_with_lookup, &keys, result,
                               error, error_size);
}

int ledger_verify_timed(ledger_t *self, ledger_signature_fn check, void *arg,
                        ledger_verify_result_t *result, char *error,
                        size_t error_size)
{
    assert(self);
    assert(check);
    assert(result);
    memset(result, 0, sizeof *result);
    result->ok = true;
    walk_t walk = {.check = check, .arg = arg, .result = result};
    int found = s_walk(self, s_receipts_sql, &walk, s_check_receipt_row, error,
                       error_size);
    if (found == 0)
        found =
            s_walk(self, s_acks_sql, &walk, s_check_ack_row, error, error_size);
    return found < 0 ? -1 : 0;
}
