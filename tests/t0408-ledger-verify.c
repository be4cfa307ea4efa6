/* Tests that ledger_verify finds receipts and acknowledgements edited,
 * removed, inserted or reordered behind the API, and names the first bad
 * seq. Each case copies a clean ledger, drops its triggers and edits the
 * sqlite file directly. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "ledger.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0408-XXXXXX";
static char s_clean[600];
static char s_case[600];
static signer_t *s_alfa;
static signer_t *s_brvo;
static signer_t *s_mallory;
static bool s_brvo_unknown;

#define CHAIN_LENGTH 6

typedef struct {
    receipt_t receipt;
    uint8_t *body;
    size_t size;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    uint8_t hash[HASH_SIZE];
} signed_t;

static void s_sign(signed_t *s, signer_t *signer)
{
    free(s->body);
    if (receipt_encode(&s->receipt, &s->body, &s->size) != 0)
        bail_out("receipt_encode failed");
    receipt_sign(signer, s->body, s->size, s->sig);
    receipt_hash(s->body, s->size, s->hash);
}

static signed_t s_make(const char *serving, const char *requesting,
                       uint64_t seq, const uint8_t prev[HASH_SIZE],
                       uint64_t price, signer_t *signer)
{
    signed_t s = {0};
    receipt_t *r = &s.receipt;
    strcpy(r->serving, serving);
    strcpy(r->requesting, requesting);
    r->seq = seq;
    memcpy(r->prev_hash, prev, HASH_SIZE);
    memset(r->request_id, (int)(seq + price), sizeof r->request_id);
    strcpy(r->mpxn, "2000012345672");
    strcpy(r->type, "read.registers");
    r->units = 1;
    strcpy(r->tariff_id, "T");
    r->price = price;
    r->served_at = 1370000000000 + (int64_t)seq * 1000;
    s_sign(&s, signer);
    return s;
}

static int s_lookup(const char *mpid, uint8_t key[SIGN_PUBLIC_SIZE], void *arg)
{
    (void)arg;
    if (strcmp(mpid, "ALFA") == 0) {
        memcpy(key, signer_public_key(s_alfa), SIGN_PUBLIC_SIZE);
        return 0;
    }
    if (strcmp(mpid, "BRVO") == 0 && !s_brvo_unknown) {
        memcpy(key, signer_public_key(s_brvo), SIGN_PUBLIC_SIZE);
        return 0;
    }
    return -1;
}

static void s_ack(ledger_t *ledger, const signed_t *s)
{
    char error[512];
    ack_t ack = {.seq = s->receipt.seq, .acked_at = s->receipt.served_at + 1};
    memcpy(ack.receipt_hash, s->hash, HASH_SIZE);
    strcpy(ack.serving, s->receipt.serving);
    strcpy(ack.requesting, s->receipt.requesting);
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (ack_encode(&ack, &body, &size) != 0)
        bail_out("ack_encode failed");
    ack_sign(strcmp(ack.requesting, "BRVO") == 0 ? s_brvo : s_alfa, body, size,
             sig);
    if (ledger_append_ack(ledger, &ack, body, size, sig, error, sizeof error) !=
        0)
        bail_out("append ack: %s", error);
    free(body);
}

/* ALFA->BRVO seq 1..6, all acknowledged, and BRVO->ALFA seq 1..2. */
static void s_build_clean(void)
{
    char error[512];
    ledger_t *ledger = ledger_open(s_clean, error, sizeof error);
    if (!ledger)
        bail_out("ledger_open: %s", error);
    uint8_t prev[HASH_SIZE] = {0};
    for (uint64_t seq = 1; seq <= CHAIN_LENGTH; seq++) {
        signed_t s = s_make("ALFA", "BRVO", seq, prev, 100 * seq, s_alfa);
        if (ledger_append_receipt(ledger, &s.receipt, s.body, s.size, s.sig,
                                  error, sizeof error) != 0)
            bail_out("append: %s", error);
        s_ack(ledger, &s);
        memcpy(prev, s.hash, HASH_SIZE);
        free(s.body);
    }
    memset(prev, 0, sizeof prev);
    for (uint64_t seq = 1; seq <= 2; seq++) {
        signed_t s = s_make("BRVO", "ALFA", seq, prev, 7, s_brvo);
        if (ledger_append_receipt(ledger, &s.receipt, s.body, s.size, s.sig,
                                  error, sizeof error) != 0)
            bail_out("append: %s", error);
        memcpy(prev, s.hash, HASH_SIZE);
        free(s.body);
    }
    ledger_destroy(&ledger);
}

static void s_copy(const char *from, const char *to)
{
    char command[1400];
    snprintf(command, sizeof command, "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'",
             from, to, to, to);
    if (system(command) != 0)
        bail_out("cannot copy %s", from);
}

/* Opens the case's copy with the triggers dropped. */
static sqlite3 *s_open_case(void)
{
    s_copy(s_clean, s_case);
    sqlite3 *db = NULL;
    if (sqlite3_open(s_case, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "DROP TRIGGER receipts_no_update;"
                     "DROP TRIGGER receipts_no_delete;"
                     "DROP TRIGGER acks_no_update;"
                     "DROP TRIGGER acks_no_delete;",
                     NULL, NULL, NULL) != SQLITE_OK)
        bail_out("cannot prepare case: %s", sqlite3_errmsg(db));
    return db;
}

static void s_exec(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK)
        bail_out("%s: %s", sql, message);
}

/* Reads the stored hash of ALFA->BRVO seq. */
static void s_stored_hash(sqlite3 *db, uint64_t seq, uint8_t hash[HASH_SIZE])
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT hash FROM receipts WHERE serving = 'ALFA'"
                       " AND requesting = 'BRVO' AND seq = ?1",
                       -1, &stmt, NULL);
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
    if (sqlite3_step(stmt) != SQLITE_ROW)
        bail_out("no seq %llu", (unsigned long long)seq);
    memcpy(hash, sqlite3_column_blob(stmt, 0), HASH_SIZE);
    sqlite3_finalize(stmt);
}

/* Inserts a receipt row the way ledger_append_receipt would. */
static void s_insert(sqlite3 *db, const signed_t *s)
{
    sqlite3_stmt *stmt = NULL;
    const receipt_t *r = &s->receipt;
    sqlite3_prepare_v2(db,
                       "INSERT INTO receipts VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                       " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0)",
                       -1, &stmt, NULL);
    sqlite3_bind_text(stmt, 1, r->serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, r->requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)r->seq);
    sqlite3_bind_blob(stmt, 4, r->request_id, 16, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, r->mpxn, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, r->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, (sqlite3_int64)r->units);
    sqlite3_bind_int64(stmt, 8, (sqlite3_int64)r->price);
    sqlite3_bind_text(stmt, 9, r->tariff_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, r->served_at);
    sqlite3_bind_blob(stmt, 11, s->hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 12, r->prev_hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 13, s->body, (int)s->size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 14, s->sig, SIGN_SIGNATURE_SIZE, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        bail_out("insert: %s", sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
}

/* Closes the edited copy, verifies it and returns the result. */
static ledger_verify_result_t s_verify_case(sqlite3 *db)
{
    char error[512];
    sqlite3_close(db);
    ledger_verify_result_t result;
    ledger_t *ledger = ledger_open_readonly(s_case, error, sizeof error);
    if (!ledger)
        bail_out("open case: %s", error);
    if (ledger_verify(ledger, s_lookup, NULL, &result, error, sizeof error) !=
        0)
        bail_out("verify: %s", error);
    ledger_destroy(&ledger);
    return result;
}

static void s_expect(const char *name, const ledger_verify_result_t *result,
                     const char *serving, uint64_t seq, bool in_ack,
                     const char *word)
{
    ok(!result->ok, "%s: detected", name);
    is_str(result->serving, serving, "%s: names the chain", name);
    is_int(result->seq, seq, "%s: first bad seq is %llu", name,
           (unsigned long long)seq);
    is_int(result->in_ack, in_ack, "%s: %s", name,
           in_ack ? "in the acknowledgement" : "in the receipt");
    ok(strstr(result->reason, word) != NULL, "%s: reason has '%s': %s", name,
       word, result->reason);
}

static void test_clean(void)
{
    ledger_verify_result_t result = s_verify_case(s_open_case());
    ok(result.ok, "clean ledger verifies %s", result.reason);
    is_int(result.chains, 2, "two chains");
    is_int(result.receipts, CHAIN_LENGTH + 2, "every receipt checked");
    is_int(result.acks, CHAIN_LENGTH, "every acknowledgement checked");
}

static void test_edits(void)
{
    sqlite3 *db = s_open_case();
    s_exec(db, "UPDATE receipts SET price = 1 WHERE requesting = 'BRVO'"
               " AND seq = 3");
    ledger_verify_result_t result = s_verify_case(db);
    s_expect("price column edited", &result, "ALFA", 3, false, "price");

    db = s_open_case();
    s_exec(db, "UPDATE receipts SET served_at = served_at + 1"
               " WHERE requesting = 'BRVO' AND seq = 4");
    result = s_verify_case(db);
    s_expect("served_at edited", &result, "ALFA", 4, false, "served_at");

    db = s_open_case();
    s_exec(db, "UPDATE receipts SET body = CAST(replace(CAST(body AS TEXT),"
               " 'read.registers', 'read.registerz') AS BLOB)"
               " WHERE requesting = 'BRVO' AND seq = 3");
    result = s_verify_case(db);
    s_expect("body edited", &result, "ALFA", 3, false, "stored hash");

    db = s_open_case();
    s_exec(db, "UPDATE receipts SET sig = zeroblob(64)"
               " WHERE requesting = 'BRVO' AND seq = 5");
    result = s_verify_case(db);
    s_expect("signature edited", &result, "ALFA", 5, false, "bad signature");
}

/* Replaces ALFA->BRVO seq with a receipt of another price, signed by
 * signer, with its hash column recomputed so only the signature or the
 * chain can tell. */
static ledger_verify_result_t s_replace(uint64_t seq, signer_t *signer)
{
    sqlite3 *db = s_open_case();
    uint8_t prev[HASH_SIZE] = {0};
    if (seq > 1)
        s_stored_hash(db, seq - 1, prev);
    char sql[200];
    snprintf(sql, sizeof sql,
             "DELETE FROM receipts WHERE requesting = 'BRVO' AND seq = %llu",
             (unsigned long long)seq);
    s_exec(db, sql);
    signed_t forged = s_make("ALFA", "BRVO", seq, prev, 1, signer);
    s_insert(db, &forged);
    free(forged.body);
    return s_verify_case(db);
}

static void test_replacements(void)
{
    ledger_verify_result_t result = s_replace(3, s_mallory);
    s_expect("replaced by another key", &result, "ALFA", 3, false,
             "bad signature");
    result = s_replace(3, s_alfa);
    s_expect("replaced with the right key", &result, "ALFA", 4, false,
             "prev_hash");
}

static void test_removals(void)
{
    sqlite3 *db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE requesting = 'BRVO' AND seq = 3");
    ledger_verify_result_t result = s_verify_case(db);
    s_expect("middle removed", &result, "ALFA", 3, false, "missing");

    db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE requesting = 'BRVO' AND seq = 1");
    result = s_verify_case(db);
    s_expect("first removed", &result, "ALFA", 1, false, "missing");

    db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE requesting = 'BRVO' AND seq = 6");
    result = s_verify_case(db);
    s_expect("acknowledged last removed", &result, "ALFA", 6, false,
             "acknowledged but the receipt is missing");
}

static void test_reorder(void)
{
    sqlite3 *db = s_open_case();
    s_exec(db, "UPDATE receipts SET seq = 100 WHERE requesting = 'BRVO'"
               " AND seq = 2;"
               "UPDATE receipts SET seq = 2 WHERE requesting = 'BRVO'"
               " AND seq = 3;"
               "UPDATE receipts SET seq = 3 WHERE requesting = 'BRVO'"
               " AND seq = 100;");
    ledger_verify_result_t result = s_verify_case(db);
    s_expect("seq 2 and 3 swapped", &result, "ALFA", 2, false, "column seq");
}

/* Shifts ALFA->BRVO seq >= at up by one and inserts a forged receipt at
 * seq at, linked to seq at - 1. */
static ledger_verify_result_t s_insert_at(uint64_t at, signer_t *signer)
{
    sqlite3 *db = s_open_case();
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE receipts SET seq = seq + 1000 WHERE requesting = 'BRVO'"
             " AND seq >= %llu;"
             "UPDATE receipts SET seq = seq - 999 WHERE seq > 1000;",
             (unsigned long long)at);
    s_exec(db, sql);
    uint8_t prev[HASH_SIZE];
    s_stored_hash(db, at - 1, prev);
    signed_t forged = s_make("ALFA", "BRVO", at, prev, 1, signer);
    s_insert(db, &forged);
    free(forged.body);
    return s_verify_case(db);
}

static void test_insertions(void)
{
    ledger_verify_result_t result = s_insert_at(3, s_mallory);
    s_expect("inserted by another key", &result, "ALFA", 3, false,
             "bad signature");
    result = s_insert_at(3, s_alfa);
    s_expect("inserted with the right key", &result, "ALFA", 4, false,
             "column seq");

    sqlite3 *db = s_open_case();
    uint8_t prev[HASH_SIZE];
    s_stored_hash(db, CHAIN_LENGTH, prev);
    signed_t forged =
        s_make("ALFA", "BRVO", CHAIN_LENGTH + 1, prev, 1, s_mallory);
    s_insert(db, &forged);
    free(forged.body);
    result = s_verify_case(db);
    s_expect("appended by another key", &result, "ALFA", CHAIN_LENGTH + 1,
             false, "bad signature");
}

static void test_acks(void)
{
    sqlite3 *db = s_open_case();
    s_exec(db, "UPDATE acks SET sig = zeroblob(64) WHERE seq = 2");
    ledger_verify_result_t result = s_verify_case(db);
    s_expect("ack signature edited", &result, "ALFA", 2, true,
             "bad acknowledgement signature");

    db = s_open_case();
    s_exec(db, "UPDATE acks SET receipt_hash = zeroblob(32) WHERE seq = 4");
    result = s_verify_case(db);
    s_expect("ack hash edited", &result, "ALFA", 4, true, "another receipt");

    db = s_open_case();
    s_exec(db, "UPDATE acks SET body = CAST(body || x'00' AS BLOB)"
               " WHERE seq = 5");
    result = s_verify_case(db);
    s_expect("ack body edited", &result, "ALFA", 5, true, "does not decode");

    s_brvo_unknown = true;
    result = s_verify_case(s_open_case());
    s_expect("unknown signer", &result, "BRVO", 1, false, "no signing key");
    s_brvo_unknown = false;
}

/* Inserts an acknowledgement row of ALFA->BRVO or BRVO->ALFA seq, with
 * the receipt hash of that seq and a body signed by signer. */
static void s_insert_ack(sqlite3 *db, const char *serving,
                         const char *requesting, uint64_t seq, signer_t *signer)
{
    ack_t ack = {.seq = seq, .acked_at = 1370000999000};
    strcpy(ack.serving, serving);
    strcpy(ack.requesting, requesting);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT hash FROM receipts WHERE serving = ?1"
                       " AND requesting = ?2 AND seq = ?3",
                       -1, &stmt, NULL);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    if (sqlite3_step(stmt) != SQLITE_ROW)
        bail_out("no receipt %s->%s seq %llu", serving, requesting,
                 (unsigned long long)seq);
    memcpy(ack.receipt_hash, sqlite3_column_blob(stmt, 0), HASH_SIZE);
    sqlite3_finalize(stmt);
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (ack_encode(&ack, &body, &size) != 0)
        bail_out("ack_encode failed");
    ack_sign(signer, body, size, sig);
    sqlite3_prepare_v2(db,
                       "INSERT INTO acks VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
                       -1, &stmt, NULL);
    sqlite3_bind_text(stmt, 1, serving, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, requesting, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
    sqlite3_bind_blob(stmt, 4, ack.receipt_hash, HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 5, body, (int)size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 6, sig, SIGN_SIGNATURE_SIZE, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        bail_out("insert ack: %s", sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    free(body);
}

/* Acknowledgements inserted, moved or swapped, and receipts moved to
 * another chain. */
static void test_moves(void)
{
    sqlite3 *db = s_open_case();
    s_insert_ack(db, "BRVO", "ALFA", 2, s_mallory);
    ledger_verify_result_t result = s_verify_case(db);
    s_expect("ack inserted by another key", &result, "BRVO", 2, true,
             "bad acknowledgement signature");

    db = s_open_case();
    s_insert_ack(db, "BRVO", "ALFA", 1, s_brvo);
    result = s_verify_case(db);
    s_expect("ack inserted with the serving key", &result, "BRVO", 1, true,
             "bad acknowledgement signature");

    db = s_open_case();
    s_exec(db, "UPDATE acks SET seq = 9 WHERE requesting = 'BRVO'"
               " AND seq = 6");
    result = s_verify_case(db);
    s_expect("ack moved past the chain", &result, "ALFA", 9, false,
             "receipt is missing");

    db = s_open_case();
    s_exec(db, "UPDATE acks SET seq = 100 WHERE seq = 2;"
               "UPDATE acks SET seq = 2 WHERE seq = 3;"
               "UPDATE acks SET seq = 3 WHERE seq = 100;");
    result = s_verify_case(db);
    s_expect("acks of seq 2 and 3 swapped", &result, "ALFA", 2, true,
             "another receipt");

    db = s_open_case();
    s_exec(db, "UPDATE acks SET requesting = 'CHRL' WHERE seq = 4");
    result = s_verify_case(db);
    s_expect("ack moved to another chain", &result, "ALFA", 4, false,
             "receipt is missing");

    db = s_open_case();
    s_exec(db, "UPDATE receipts SET requesting = 'CHRL'"
               " WHERE serving = 'BRVO' AND seq = 1");
    result = s_verify_case(db);
    s_expect("receipt moved to another chain", &result, "BRVO", 1, false,
             "seq 1 is missing");
}

int main(void)
{
    uint8_t seed[32];
    memset(seed, 1, sizeof seed);
    s_alfa = signer_new(seed);
    memset(seed, 2, sizeof seed);
    s_brvo = signer_new(seed);
    s_mallory = signer_new(NULL);
    if (!mkdtemp(s_dir) || !s_alfa || !s_brvo || !s_mallory)
        bail_out("set-up failed");
    snprintf(s_clean, sizeof s_clean, "%s/clean.db", s_dir);
    snprintf(s_case, sizeof s_case, "%s/case.db", s_dir);
    s_build_clean();

    test_clean();
    test_edits();
    test_replacements();
    test_removals();
    test_reorder();
    test_insertions();
    test_acks();
    test_moves();

    signer_destroy(&s_alfa);
    signer_destroy(&s_brvo);
    signer_destroy(&s_mallory);
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
