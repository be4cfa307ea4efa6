/* Tests the ledger: chain appends, append-only triggers, group commit,
 * idempotent reply lookup, acknowledgements, disputes and listing. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "ledger.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0407-XXXXXX";
static char s_path[600];
static signer_t *s_alfa;
static signer_t *s_brvo;

/* A signed receipt ready to append. */
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

/* Builds the next receipt of serving->requesting from the ledger's head. */
static signed_t s_next(ledger_t *ledger, const char *serving,
                       const char *requesting, const char *type,
                       int64_t served_at, uint64_t price)
{
    char error[512];
    signed_t s = {0};
    receipt_t *r = &s.receipt;
    strcpy(r->serving, serving);
    strcpy(r->requesting, requesting);
    if (ledger_chain_head(ledger, serving, requesting, &r->seq, r->prev_hash,
                          error, sizeof error) != 0)
        bail_out("chain head: %s", error);
    r->seq++;
    memset(r->request_id, 0, sizeof r->request_id);
    memcpy(r->request_id, serving, 4);
    memcpy(r->request_id + 4, requesting, 4);
    memcpy(r->request_id + 8, &r->seq, sizeof r->seq);
    strcpy(r->mpxn, "2000012345672");
    strcpy(r->type, type);
    r->units = 1;
    strcpy(r->tariff_id, "T");
    r->price = price;
    r->served_at = served_at;
    s_sign(&s, strcmp(serving, "ALFA") == 0 ? s_alfa : s_brvo);
    return s;
}

static int s_append(ledger_t *ledger, signed_t *s, char *error,
                    size_t error_size)
{
    return ledger_append_receipt(ledger, &s->receipt, s->body, s->size, s->sig,
                                 error, error_size);
}

static int s_exec(const char *sql, char **message)
{
    sqlite3 *db = NULL;
    sqlite3_open(s_path, &db);
    sqlite3_busy_timeout(db, 2000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, message);
    sqlite3_close(db);
    return rc;
}

static long long s_count(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    sqlite3_open_v2(s_path, &db, SQLITE_OPEN_READONLY, NULL);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

static void test_open(void)
{
    char error[512] = "";
    ledger_t *ledger = ledger_open(s_path, error, sizeof error);
    ok(ledger != NULL, "ledger opens %s", error);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    sqlite3_open(s_path, &db);
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL);
    sqlite3_step(stmt);
    is_str((const char *)sqlite3_column_text(stmt, 0), "wal", "WAL mode");
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    uint64_t seq = 99;
    uint8_t hash[HASH_SIZE];
    uint8_t zero[HASH_SIZE] = {0};
    memset(hash, 1, sizeof hash);
    ok(ledger_chain_head(ledger, "ALFA", "BRVO", &seq, hash, error,
                         sizeof error) == 0,
       "head of an empty chain");
    is_int(seq, 0, "empty chain has seq 0");
    is_mem(hash, zero, HASH_SIZE, "empty chain has a zero hash");
    ledger_destroy(&ledger);
    ok(ledger == NULL, "destroy nulls the pointer");
    ledger_destroy(&ledger);

    char other[700];
    snprintf(other, sizeof other, "%s/not-a-ledger.db", s_dir);
    sqlite3_open(other, &db);
    sqlite3_exec(db, "CREATE TABLE x (y)", NULL, NULL, NULL);
    sqlite3_close(db);
    ok(ledger_open_readonly(other, error, sizeof error) == NULL,
       "read-only open of another database rejected");
    ok(strstr(error, "not an sdx ledger") != NULL, "error says why: %s", error);
    ok(ledger_open_readonly("/nonexistent/l.db", error, sizeof error) == NULL,
       "read-only open of a missing file rejected");
}

static void test_appends(ledger_t *ledger)
{
    char error[512] = "";
    for (int i = 0; i < 3; i++) {
        signed_t s = s_next(ledger, "ALFA", "BRVO", "read.profile",
                            1370000000000 + i * 1000, 100 + i);
        ok(s_append(ledger, &s, error, sizeof error) == 0, "append seq %d %s",
           i + 1, error);
        uint64_t seq;
        uint8_t hash[HASH_SIZE];
        ok(ledger_chain_head(ledger, "ALFA", "BRVO", &seq, hash, error,
                             sizeof error) == 0 &&
               seq == (uint64_t)i + 1 && memcmp(hash, s.hash, HASH_SIZE) == 0,
           "head moves to seq %d", i + 1);
        free(s.body);
    }

    signed_t s = s_next(ledger, "ALFA", "BRVO", "read.profile", 1, 1);
    s.receipt.seq = 5;
    s_sign(&s, s_alfa);
    is_int(s_append(ledger, &s, error, sizeof error), -1, "gap rejected");
    ok(strstr(error, "expected 4") != NULL, "error gives seq: %s", error);
    s.receipt.seq = 4;
    s.receipt.prev_hash[0] ^= 1;
    s_sign(&s, s_alfa);
    is_int(s_append(ledger, &s, error, sizeof error), -1,
           "wrong prev_hash rejected");
    ok(strstr(error, "prev_hash") != NULL, "error names prev_hash: %s", error);
    s.receipt.prev_hash[0] ^= 1;
    s.receipt.request_id[8] = 1; /* the request id of seq 1 */
    s_sign(&s, s_alfa);
    is_int(s_append(ledger, &s, error, sizeof error), -1,
           "repeated request id rejected");
    ok(strstr(error, "request id") != NULL, "error says request id: %s", error);
    s.receipt.request_id[8] = 4;
    s_sign(&s, s_alfa);
    s.body[s.size - 1] ^= 1;
    is_int(s_append(ledger, &s, error, sizeof error), -1,
           "body that is not the receipt rejected");
    free(s.body);
    is_int(s_count("SELECT count(*) FROM receipts"), 3, "three rows stored");
}

static void test_triggers(void)
{
    char *message = NULL;
    static const char *edits[] = {
        "UPDATE receipts SET price = 0 WHERE seq = 2",
        "DELETE FROM receipts WHERE seq = 3",
        "UPDATE acks SET seq = 9",
        "DELETE FROM acks",
        "DELETE FROM disputes",
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        is_int(s_exec(edits[i], &message), SQLITE_CONSTRAINT,
               "trigger rejects: %s", edits[i]);
        ok(message && strstr(message, "append-only"), "message: %s",
           message ? message : "(none)");
        sqlite3_free(message);
        message = NULL;
    }
    is_int(s_count("SELECT price FROM receipts WHERE seq = 2"), 101,
           "price unchanged");
}

static void test_group_commit(ledger_t *ledger)
{
    char error[512] = "";
    ok(ledger_begin(ledger, error, sizeof error) == 0, "begin %s", error);
    for (int i = 0; i < 4; i++) {
        signed_t s = s_next(ledger, "ALFA", "BRVO", "read.registers",
                            1370000100000 + i, 50);
        ok(s_append(ledger, &s, error, sizeof error) == 0,
           "append %d in one transaction %s", i + 1, error);
        free(s.body);
    }
    is_int(s_count("SELECT count(*) FROM receipts"), 3,
           "other connections do not see uncommitted receipts");
    ok(ledger_commit(ledger, error, sizeof error) == 0, "commit %s", error);
    is_int(s_count("SELECT count(*) FROM receipts"), 7,
           "all four visible after one commit");

    ok(ledger_begin(ledger, error, sizeof error) == 0, "begin again");
    for (int i = 0; i < 2; i++) {
        signed_t s = s_next(ledger, "ALFA", "BRVO", "read.registers",
                            1370000200000 + i, 50);
        ok(s_append(ledger, &s, error, sizeof error) == 0,
           "append %d before rollback", i + 1);
        free(s.body);
    }
    ok(ledger_rollback(ledger, error, sizeof error) == 0, "rollback");
    uint64_t seq;
    uint8_t hash[HASH_SIZE];
    ok(ledger_chain_head(ledger, "ALFA", "BRVO", &seq, hash, error,
                         sizeof error) == 0 &&
           seq == 7,
       "rollback leaves the head at seq 7");
    is_int(s_count("SELECT count(*) FROM receipts"), 7,
           "rollback leaves nothing stored");
    ok(ledger_commit(ledger, error, sizeof error) == -1,
       "commit without a transaction fails");
}

static void test_replies(ledger_t *ledger)
{
    char error[512] = "";
    signed_t s =
        s_next(ledger, "ALFA", "BRVO", "read.daily", 1370000300000, 70);
    const uint8_t reply[] = "\x83reply bytes with \0 inside";
    ok(s_append(ledger, &s, error, sizeof error) == 0 &&
           ledger_store_reply(ledger, "ALFA", "BRVO", s.receipt.request_id,
                              reply, sizeof reply, error, sizeof error) == 0,
       "receipt and reply stored %s", error);

    ledger_reply_t found;
    is_int(ledger_find_reply(ledger, "ALFA", "BRVO", s.receipt.request_id,
                             &found, error, sizeof error),
           1, "reply found by request id");
    ok(found.reply_size == sizeof reply &&
           memcmp(found.reply, reply, sizeof reply) == 0,
       "same reply bytes");
    ok(found.has_receipt, "reply comes with its receipt");
    ok(found.body_size == s.size && memcmp(found.body, s.body, s.size) == 0,
       "same receipt body");
    is_mem(found.signature, s.sig, SIGN_SIGNATURE_SIZE, "same signature");
    ledger_reply_clear(&found);

    is_int(ledger_find_reply(ledger, "ALFA", "CHRL", s.receipt.request_id,
                             &found, error, sizeof error),
           0, "another requester's id is not found");
    is_int(ledger_store_reply(ledger, "ALFA", "BRVO", s.receipt.request_id,
                              reply, 3, error, sizeof error),
           -1, "second reply for one id rejected");

    uint8_t id[RECEIPT_ID_SIZE] = {9, 9, 9};
    ok(ledger_store_reply(ledger, "ALFA", "BRVO", id, reply, 4, error,
                          sizeof error) == 0,
       "reply without a receipt stored");
    is_int(ledger_find_reply(ledger, "ALFA", "BRVO", id, &found, error,
                             sizeof error),
           1, "found");
    ok(!found.has_receipt && found.reply_size == 4, "without a receipt");
    ledger_reply_clear(&found);

    ledger_row_t row;
    is_int(ledger_find_receipt_by_id(ledger, "ALFA", "BRVO",
                                     s.receipt.request_id, &row, error,
                                     sizeof error),
           1, "receipt found by request id");
    is_int(row.receipt.seq, 8, "it is seq 8");
    is_str(row.receipt.type, "read.daily", "decoded type");
    is_mem(row.hash, s.hash, HASH_SIZE, "stored hash");
    is_int(ledger_find_receipt(ledger, "ALFA", "BRVO", 99, &row, error,
                               sizeof error),
           0, "seq 99 not found");
    free(s.body);
}

static int s_sign_ack(ledger_t *ledger, uint64_t seq, int64_t acked_at,
                      char *error, size_t error_size)
{
    ledger_row_t row;
    if (ledger_find_receipt(ledger, "ALFA", "BRVO", seq, &row, error,
                            error_size) != 1)
        return -2;
    ack_t ack = {.seq = seq, .acked_at = acked_at};
    memcpy(ack.receipt_hash, row.hash, HASH_SIZE);
    strcpy(ack.serving, "ALFA");
    strcpy(ack.requesting, "BRVO");
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (ack_encode(&ack, &body, &size) != 0)
        bail_out("ack_encode failed");
    ack_sign(s_brvo, body, size, sig);
    int rc =
        ledger_append_ack(ledger, &ack, body, size, sig, error, error_size);
    free(body);
    return rc;
}

static void test_acks(ledger_t *ledger)
{
    char error[512] = "";
    ok(s_sign_ack(ledger, 1, 1370000000500, error, sizeof error) == 0,
       "ack of seq 1 stored %s", error);
    ok(s_sign_ack(ledger, 2, 1370000001500, error, sizeof error) == 0,
       "ack of seq 2 stored %s", error);
    ok(s_sign_ack(ledger, 1, 1370000000500, error, sizeof error) == 0,
       "same ack again is accepted %s", error);
    is_int(s_sign_ack(ledger, 1, 1370000000501, error, sizeof error), -1,
           "different ack of seq 1 rejected");
    ok(strstr(error, "different") != NULL, "error says different: %s", error);
    is_int(s_count("SELECT count(*) FROM acks"), 2, "two acks stored");

    ledger_ack_row_t ack_row;
    is_int(ledger_find_ack(ledger, "ALFA", "BRVO", 2, &ack_row, error,
                           sizeof error),
           1, "ack of seq 2 found");
    is_int(ack_row.ack.acked_at, 1370000001500, "ack decoded");
    is_int(ledger_find_ack(ledger, "ALFA", "BRVO", 3, &ack_row, error,
                           sizeof error),
           0, "seq 3 has no ack");

    ack_t stray = {.seq = 50};
    strcpy(stray.serving, "ALFA");
    strcpy(stray.requesting, "BRVO");
    uint8_t sig[SIGN_SIGNATURE_SIZE] = {0};
    is_int(ledger_append_ack(ledger, &stray, (const uint8_t *)"x", 1, sig,
                             error, sizeof error),
           -1, "ack of a missing receipt rejected");
    stray.seq = 3;
    is_int(ledger_append_ack(ledger, &stray, (const uint8_t *)"x", 1, sig,
                             error, sizeof error),
           -1, "ack with another hash rejected");
    ok(strstr(error, "hash") != NULL, "error names the hash: %s", error);

    ledger_row_t row;
    ok(ledger_find_receipt(ledger, "ALFA", "BRVO", 1, &row, error,
                           sizeof error) == 1 &&
           row.acknowledged,
       "seq 1 is acknowledged");
    ok(ledger_find_receipt(ledger, "ALFA", "BRVO", 3, &row, error,
                           sizeof error) == 1 &&
           !row.acknowledged,
       "seq 3 is not");
}

static void test_disputes(ledger_t *ledger)
{
    char error[512] = "";
    uint64_t count = 99;
    ok(ledger_count_disputes(ledger, &count, error, sizeof error) == 0 &&
           count == 0,
       "no disputes yet");
    ok(ledger_record_dispute(ledger, "BRVO", "ALFA", (const uint8_t *)"\x01", 1,
                             NULL, "bad signature", error, sizeof error) == 0,
       "dispute recorded %s", error);
    ok(ledger_record_dispute(ledger, NULL, NULL, NULL, 0, NULL,
                             "body does not decode", error, sizeof error) == 0,
       "dispute without parties recorded %s", error);
    ok(ledger_count_disputes(ledger, &count, error, sizeof error) == 0 &&
           count == 2,
       "two disputes");
}

typedef struct {
    int rows;
    int acked;
    uint64_t last_seq;
    char last_pair[16];
} tally_t;

static int s_tally(const ledger_row_t *row, void *arg)
{
    tally_t *tally = arg;
    tally->rows++;
    tally->acked += row->acknowledged;
    tally->last_seq = row->receipt.seq;
    snprintf(tally->last_pair, sizeof tally->last_pair, "%s>%s",
             row->receipt.serving, row->receipt.requesting);
    return 0;
}

static tally_t s_list(ledger_t *ledger, const ledger_filter_t *filter)
{
    char error[512];
    tally_t tally = {0};
    if (ledger_foreach_receipt(ledger, filter, s_tally, &tally, error,
                               sizeof error) != 0)
        diag("foreach failed: %s", error);
    return tally;
}

static int s_stop_after_two(const ledger_row_t *row, void *arg)
{
    (void)row;
    return ++*(int *)arg == 2 ? 7 : 0;
}

static void test_listing(ledger_t *ledger)
{
    char error[512] = "";
    for (int i = 0; i < 2; i++) {
        signed_t s =
            s_next(ledger, "BRVO", "ALFA", "read.info", 1370000400000 + i, 10);
        ok(s_append(ledger, &s, error, sizeof error) == 0,
           "received receipt %d stored %s", i + 1, error);
        free(s.body);
    }
    signed_t s = s_next(ledger, "ALFA", "CHRL", "read.info", 1370000500000, 5);
    ok(s_append(ledger, &s, error, sizeof error) == 0, "ALFA->CHRL stored");
    free(s.body);

    tally_t all = s_list(ledger, NULL);
    is_int(all.rows, 11, "all receipts listed");
    is_str(all.last_pair, "ALFA>CHRL", "ordered by served_at");
    is_int(all.acked, 2, "two acknowledged");
    ledger_filter_t filter = {.own_mpid = "ALFA", .role = LEDGER_ROLE_ISSUED};
    is_int(s_list(ledger, &filter).rows, 9, "issued by ALFA");
    filter.counterparty = "BRVO";
    is_int(s_list(ledger, &filter).rows, 8, "issued to BRVO");
    filter.role = LEDGER_ROLE_RECEIVED;
    is_int(s_list(ledger, &filter).rows, 2, "received from BRVO");
    filter.role = LEDGER_ROLE_ANY;
    is_int(s_list(ledger, &filter).rows, 10, "either side with BRVO");
    filter =
        (ledger_filter_t){.from_ms = 1370000100000, .to_ms = 1370000100002};
    is_int(s_list(ledger, &filter).rows, 2, "served_at range is [from, to)");
    filter = (ledger_filter_t){.unacknowledged_only = true};
    is_int(s_list(ledger, &filter).rows, 9, "unacknowledged only");

    int seen = 0;
    is_int(ledger_foreach_receipt(ledger, NULL, s_stop_after_two, &seen, error,
                                  sizeof error),
           7, "callback stops the walk with its value");
    is_int(seen, 2, "after two rows");
}

static void test_readonly(void)
{
    char error[512] = "";
    ledger_t *reader = ledger_open_readonly(s_path, error, sizeof error);
    ok(reader != NULL, "read-only open %s", error);
    if (!reader)
        return;
    uint64_t seq;
    uint8_t hash[HASH_SIZE];
    ok(ledger_chain_head(reader, "ALFA", "BRVO", &seq, hash, error,
                         sizeof error) == 0 &&
           seq == 8,
       "reads the committed head");
    is_int(ledger_record_dispute(reader, NULL, NULL, NULL, 0, NULL, "x", error,
                                 sizeof error),
           -1, "read-only ledger rejects writes");
    diag("%s", error);
    ledger_destroy(&reader);
}

int main(void)
{
    uint8_t seed[32];
    memset(seed, 1, sizeof seed);
    s_alfa = signer_new(seed);
    memset(seed, 2, sizeof seed);
    s_brvo = signer_new(seed);
    if (!mkdtemp(s_dir) || !s_alfa || !s_brvo)
        bail_out("set-up failed");
    snprintf(s_path, sizeof s_path, "%s/ledger.db", s_dir);

    test_open();
    char error[512];
    ledger_t *ledger = ledger_open(s_path, error, sizeof error);
    if (!ledger)
        bail_out("ledger_open: %s", error);
    test_appends(ledger);
    test_group_commit(ledger);
    test_replies(ledger);
    test_acks(ledger);
    test_disputes(ledger);
    test_triggers();
    test_listing(ledger);
    ledger_destroy(&ledger);
    test_readonly();

    signer_destroy(&s_alfa);
    signer_destroy(&s_brvo);
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
