/* Tests the checkpoints table, the recovery queries and
 * ledger_verify_checkpoints: a chain rewritten or cut short behind the API,
 * on the serving or the requesting side, no longer matches a stored
 * checkpoint, and the report names the checkpoint and the seq. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "ledger_checkpoint.h"
#include "ledger_recovery.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0413-XXXXXX";
static char s_clean[600];
static char s_case[600];
static signer_t *s_alfa;
static signer_t *s_brvo;
static signer_t *s_mallory;

#define CHAIN_LENGTH 6

typedef struct {
    receipt_t receipt;
    uint8_t *body;
    size_t size;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    uint8_t hash[HASH_SIZE];
} signed_t;

static signed_t s_make(uint64_t seq, const uint8_t prev[HASH_SIZE],
                       uint64_t price)
{
    signed_t s = {0};
    receipt_t *r = &s.receipt;
    strcpy(r->serving, "ALFA");
    strcpy(r->requesting, "BRVO");
    r->seq = seq;
    memcpy(r->prev_hash, prev, HASH_SIZE);
    memset(r->request_id, (int)(seq + price), sizeof r->request_id);
    strcpy(r->mpxn, "2000012345672");
    strcpy(r->type, "read.registers");
    r->units = 1;
    strcpy(r->tariff_id, "T");
    r->price = price;
    r->served_at = 1370000000000 + (int64_t)seq * 1000;
    if (receipt_encode(r, &s.body, &s.size) != 0)
        bail_out("receipt_encode failed");
    receipt_sign(s_alfa, s.body, s.size, s.sig);
    receipt_hash(s.body, s.size, s.hash);
    return s;
}

static int s_lookup(const char *mpid, uint8_t key[SIGN_PUBLIC_SIZE], void *arg)
{
    (void)arg;
    signer_t *signer = strcmp(mpid, "ALFA") == 0   ? s_alfa
                       : strcmp(mpid, "BRVO") == 0 ? s_brvo
                                                   : NULL;
    if (!signer)
        return -1;
    memcpy(key, signer_public_key(signer), SIGN_PUBLIC_SIZE);
    return 0;
}

static void s_ack(ledger_t *ledger, const signed_t *s)
{
    char error[512];
    ack_t ack = {.seq = s->receipt.seq, .acked_at = s->receipt.served_at + 1};
    memcpy(ack.receipt_hash, s->hash, HASH_SIZE);
    strcpy(ack.serving, "ALFA");
    strcpy(ack.requesting, "BRVO");
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (ack_encode(&ack, &body, &size) != 0)
        bail_out("ack_encode failed");
    ack_sign(s_brvo, body, size, sig);
    if (ledger_append_ack(ledger, &ack, body, size, sig, error, sizeof error))
        bail_out("append ack: %s", error);
    free(body);
}

/* Appends ALFA->BRVO from seq first to last, priced price * seq, and
 * acknowledges each one. */
static void s_append_chain(ledger_t *ledger, uint64_t first, uint64_t last,
                           uint64_t price)
{
    char error[512];
    uint64_t head = 0;
    uint8_t prev[HASH_SIZE];
    if (ledger_chain_head(ledger, "ALFA", "BRVO", &head, prev, error,
                          sizeof error))
        bail_out("head: %s", error);
    for (uint64_t seq = first; seq <= last; seq++) {
        signed_t s = s_make(seq, prev, price * seq);
        if (ledger_append_receipt(ledger, &s.receipt, s.body, s.size, s.sig,
                                  error, sizeof error))
            bail_out("append: %s", error);
        s_ack(ledger, &s);
        memcpy(prev, s.hash, HASH_SIZE);
        free(s.body);
    }
}

/* Makes, signs and stores a checkpoint of the chain at seq. */
static void s_checkpoint(ledger_t *ledger, uint64_t seq, uint64_t acked_seq,
                         signer_t *signer, const char *serving,
                         const char *requesting)
{
    char error[512];
    checkpoint_t c = {.seq = seq,
                      .acked_seq = acked_seq,
                      .issued_at = 1370000100000 + (int64_t)seq};
    strcpy(c.serving, serving);
    strcpy(c.requesting, requesting);
    ledger_row_t row;
    if (ledger_find_receipt(ledger, "ALFA", "BRVO", seq, &row, error,
                            sizeof error) == 1)
        memcpy(c.head_hash, row.hash, HASH_SIZE);
    else
        memset(c.head_hash, 0x77, HASH_SIZE);
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (checkpoint_encode(&c, &body, &size))
        bail_out("checkpoint_encode failed");
    checkpoint_sign(signer, body, size, sig);
    if (ledger_store_checkpoint(ledger, &c, body, size, sig, error,
                                sizeof error))
        bail_out("store checkpoint: %s", error);
    free(body);
}

static void s_copy(const char *from, const char *to)
{
    char command[1400];
    snprintf(command, sizeof command, "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'",
             from, to, to, to);
    if (system(command) != 0)
        bail_out("cannot copy %s", from);
}

/* ALFA->BRVO seq 1..6, all acknowledged, with ALFA's checkpoints at seq 3
 * and seq 5. The same file stands for ALFA's ledger and for BRVO's. */
static void s_build_clean(void)
{
    char error[512];
    ledger_t *ledger = ledger_open(s_clean, error, sizeof error);
    if (!ledger)
        bail_out("ledger_open: %s", error);
    s_append_chain(ledger, 1, CHAIN_LENGTH, 100);
    s_checkpoint(ledger, 3, 3, s_alfa, "ALFA", "BRVO");
    s_checkpoint(ledger, 5, 5, s_alfa, "ALFA", "BRVO");
    ledger_destroy(&ledger);
}

static sqlite3 *s_open_case(void)
{
    s_copy(s_clean, s_case);
    sqlite3 *db = NULL;
    if (sqlite3_open(s_case, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "DROP TRIGGER receipts_no_update;"
                     "DROP TRIGGER receipts_no_delete;"
                     "DROP TRIGGER acks_no_delete;"
                     "DROP TRIGGER checkpoints_no_update;",
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

/* Runs both verifications of the case file as own_mpid's ledger. */
static void s_verify_case(sqlite3 *db, const char *own_mpid,
                          ledger_verify_result_t *chains,
                          ledger_verify_result_t *checkpoints)
{
    char error[512];
    if (db)
        sqlite3_close(db);
    ledger_t *ledger = ledger_open_readonly(s_case, error, sizeof error);
    if (!ledger)
        bail_out("open case: %s", error);
    if (ledger_verify(ledger, s_lookup, NULL, chains, error, sizeof error) ||
        ledger_verify_checkpoints(ledger, own_mpid, s_lookup, NULL, checkpoints,
                                  error, sizeof error))
        bail_out("verify: %s", error);
    ledger_destroy(&ledger);
}

static void s_expect(const char *name, const ledger_verify_result_t *result,
                     uint64_t seq, bool in_ack, const char *word)
{
    ok(!result->ok, "%s: detected", name);
    is_str(result->serving, "ALFA", "%s: names the chain", name);
    is_int(result->seq, seq, "%s: names seq %llu", name,
           (unsigned long long)seq);
    is_int(result->in_ack, in_ack, "%s: %s", name,
           in_ack ? "in an acknowledgement" : "in a receipt");
    ok(strstr(result->reason, "checkpoint ") != NULL &&
           strstr(result->reason, "(issued 2013-") != NULL,
       "%s: names the checkpoint: %s", name, result->reason);
    ok(strstr(result->reason, word) != NULL, "%s: reason has '%s'", name, word);
}

static void test_store_and_find(void)
{
    char error[512];
    ledger_t *ledger = ledger_open(s_case, error, sizeof error);
    if (!ledger)
        bail_out("open: %s", error);
    ledger_checkpoint_row_t row;
    is_int(ledger_last_checkpoint(ledger, "ALFA", "BRVO", &row, error,
                                  sizeof error),
           1, "the last checkpoint is found");
    is_int(row.checkpoint.seq, 5, "it is the one of seq 5");
    is_int(row.checkpoint.acked_seq, 5, "with acked_seq 5");
    is_int(ledger_last_checkpoint(ledger, "ALFA", "CHRL", &row, error,
                                  sizeof error),
           0, "another chain has none");

    /* Storing the same body again changes nothing. */
    s_checkpoint(ledger, 5, 5, s_alfa, "ALFA", "BRVO");
    ledger_verify_result_t result;
    ok(ledger_verify_checkpoints(ledger, "ALFA", s_lookup, NULL, &result, error,
                                 sizeof error) == 0 &&
           result.ok,
       "the ledger verifies %s", result.reason);
    is_int(result.checkpoints, 2, "two checkpoints, the repeat not counted");

    checkpoint_t c = row.checkpoint;
    c.seq = 4;
    is_int(ledger_store_checkpoint(ledger, &c, row.body, row.body_size,
                                   row.signature, error, sizeof error),
           -1, "a body that is not the fields' encoding is rejected");
    ok(strstr(error, "not the encoding") != NULL, "error says so: %s", error);
    ledger_destroy(&ledger);
}

static void test_acked_through(void)
{
    char error[512];
    sqlite3 *db = s_open_case();
    s_exec(db, "DELETE FROM acks WHERE seq IN (4, 6)");
    sqlite3_close(db);
    ledger_t *ledger = ledger_open(s_case, error, sizeof error);
    uint64_t acked = 99;
    ok(ledger_acked_through(ledger, "ALFA", "BRVO", 0, &acked, error,
                            sizeof error) == 0,
       "acked prefix reads %s", error);
    is_int(acked, 3, "seq 1 to 3 are acknowledged, 4 is not");
    ok(ledger_acked_through(ledger, "ALFA", "BRVO", 2, &acked, error,
                            sizeof error) == 0,
       "acked prefix reads from a known start");
    is_int(acked, 3, "the same prefix from known 2");
    ok(ledger_acked_through(ledger, "ALFA", "CHRL", 0, &acked, error,
                            sizeof error) == 0,
       "acked prefix of an empty chain reads");
    is_int(acked, 0, "an empty chain has prefix 0");

    ledger_destroy(&ledger);
}

/* The seqs that ledger_foreach_pending visited. */
typedef struct {
    uint64_t seqs[8];
    size_t count;
} seq_list_t;

static int s_list_seq(const ledger_row_t *row, void *arg)
{
    seq_list_t *list = arg;
    list->seqs[list->count++] = row->receipt.seq;
    return 0;
}

/* The recovery listing: unacknowledged receipts and those after a seq, in
 * order and bounded. */
static void test_pending(void)
{
    char error[512];
    sqlite3 *db = s_open_case();
    s_exec(db, "DELETE FROM acks WHERE seq IN (4, 6)");
    sqlite3_close(db);
    ledger_t *ledger = ledger_open_readonly(s_case, error, sizeof error);
    seq_list_t list = {0};
    bool more = true;
    ok(ledger_foreach_pending(ledger, "ALFA", "BRVO", false, 0, 8, &more,
                              s_list_seq, &list, error, sizeof error) == 0,
       "pending receipts list %s", error);
    is_int(list.count, 2, "two unacknowledged");
    is_int(list.seqs[0], 4, "seq 4 first");
    is_int(list.seqs[1], 6, "then seq 6");
    ok(!more, "nothing more");

    list.count = 0;
    ok(ledger_foreach_pending(ledger, "ALFA", "BRVO", true, 2, 3, &more,
                              s_list_seq, &list, error, sizeof error) == 0,
       "pending receipts after seq 2 list");
    is_int(list.count, 3, "three within the limit");
    is_int(list.seqs[0], 3, "seq 3 first");
    is_int(list.seqs[2], 5, "seq 5 last");
    ok(more, "more are left");

    list.count = 0;
    ok(ledger_foreach_pending(ledger, "ALFA", "BRVO", true, 5, 8, &more,
                              s_list_seq, &list, error, sizeof error) == 0,
       "pending receipts after seq 5 list");
    is_int(list.count, 2, "seq 4 (unacknowledged) and seq 6");
    is_int(list.seqs[0], 4, "seq 4 first");

    list.count = 0;
    ok(ledger_foreach_pending(ledger, "ALFA", "CHRL", true, 0, 8, &more,
                              s_list_seq, &list, error, sizeof error) == 0,
       "pending receipts of an empty chain list");
    is_int(list.count, 0, "none");
    ledger_destroy(&ledger);
}

static int s_list_chain(const char *counterparty, void *arg)
{
    char *out = arg;
    strcat(out, counterparty);
    strcat(out, " ");
    return 0;
}

static void test_chains(void)
{
    char error[512], issued[64] = "", received[64] = "";
    ledger_t *ledger = ledger_open_readonly(s_clean, error, sizeof error);
    ok(ledger_foreach_chain(ledger, "ALFA", LEDGER_ROLE_ISSUED, s_list_chain,
                            issued, error, sizeof error) == 0,
       "issued chains list %s", error);
    is_str(issued, "BRVO ", "ALFA serves BRVO");
    ok(ledger_foreach_chain(ledger, "BRVO", LEDGER_ROLE_RECEIVED, s_list_chain,
                            received, error, sizeof error) == 0,
       "received chains list");
    is_str(received, "ALFA ", "BRVO is served by ALFA");
    received[0] = '\0';
    ok(ledger_foreach_chain(ledger, "ALFA", LEDGER_ROLE_RECEIVED, s_list_chain,
                            received, error, sizeof error) == 0,
       "ALFA's received chains list");
    is_str(received, "", "ALFA is served by no one");
    ledger_destroy(&ledger);
}

static void test_clean(void)
{
    ledger_verify_result_t chains, checkpoints;
    s_verify_case(s_open_case(), "ALFA", &chains, &checkpoints);
    ok(checkpoints.ok, "clean ledger verifies as ALFA's %s",
       checkpoints.reason);
    is_int(checkpoints.checkpoints, 2, "both checkpoints checked");
    s_verify_case(s_open_case(), "BRVO", &chains, &checkpoints);
    ok(checkpoints.ok, "clean ledger verifies as BRVO's %s",
       checkpoints.reason);

    /* A requester that has not fetched up to a checkpoint passes, as
     * long as it has every receipt it acknowledged. */
    sqlite3 *db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE seq = 6;"
               "DELETE FROM acks WHERE seq = 6;");
    s_verify_case(db, "BRVO", &chains, &checkpoints);
    ok(chains.ok, "a requester's chain of 5 verifies");
    ok(checkpoints.ok, "a requester behind a checkpoint verifies %s",
       checkpoints.reason);
}

static void test_cut_short(void)
{
    ledger_verify_result_t chains, checkpoints;
    sqlite3 *db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE seq >= 5;"
               "DELETE FROM acks WHERE seq >= 5;");
    s_verify_case(db, "ALFA", &chains, &checkpoints);
    ok(chains.ok, "the cut chain alone looks sound");
    s_expect("server cut its chain", &checkpoints, 5, false, "cut short");

    db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE seq >= 4;"
               "DELETE FROM acks WHERE seq >= 4;");
    s_verify_case(db, "BRVO", &chains, &checkpoints);
    ok(chains.ok, "the requester's cut chain alone looks sound");
    s_expect("requester cut its chain", &checkpoints, 4, true,
             "acknowledgement of seq 4 is missing");

    db = s_open_case();
    s_exec(db, "DELETE FROM acks WHERE seq = 2");
    s_verify_case(db, "BRVO", &chains, &checkpoints);
    ok(chains.ok, "a removed acknowledgement alone is not seen");
    s_expect("acknowledgement removed", &checkpoints, 2, true,
             "acknowledgement of seq 2 is missing");
}

static void test_rewrite(void)
{
    char error[512];
    sqlite3 *db = s_open_case();
    s_exec(db, "DELETE FROM receipts WHERE seq >= 4;"
               "DELETE FROM acks WHERE seq >= 4;");
    sqlite3_close(db);
    /* Through the API, the serving key signs a new seq 4 to 6 at other
     * prices, so every link and signature of the chain checks out. */
    ledger_t *ledger = ledger_open(s_case, error, sizeof error);
    s_append_chain(ledger, 4, CHAIN_LENGTH, 7);
    ledger_destroy(&ledger);
    ledger_verify_result_t chains, checkpoints;
    s_verify_case(NULL, "ALFA", &chains, &checkpoints);
    ok(chains.ok, "the rewritten chain alone verifies");
    s_expect("server rewrote seq 4 on", &checkpoints, 5, false, "rewritten");
    s_verify_case(NULL, "BRVO", &chains, &checkpoints);
    s_expect("requester rewrote seq 4 on", &checkpoints, 5, false, "rewritten");
}

/* Adds a checkpoint through the API to a copy of the clean ledger. */
static void s_add_checkpoint(uint64_t seq, uint64_t acked, signer_t *signer,
                             const char *serving, const char *requesting)
{
    char error[512];
    s_copy(s_clean, s_case);
    ledger_t *ledger = ledger_open(s_case, error, sizeof error);
    s_checkpoint(ledger, seq, acked, signer, serving, requesting);
    ledger_destroy(&ledger);
}

static void test_bad_checkpoints(void)
{
    ledger_verify_result_t chains, checkpoints;
    s_add_checkpoint(6, 6, s_mallory, "ALFA", "BRVO");
    s_verify_case(NULL, "BRVO", &chains, &checkpoints);
    s_expect("forged checkpoint", &checkpoints, 6, false, "bad signature");

    s_add_checkpoint(6, 6, s_brvo, "ALFA", "BRVO");
    s_verify_case(NULL, "BRVO", &chains, &checkpoints);
    s_expect("checkpoint signed by the requester", &checkpoints, 6, false,
             "bad signature");

    sqlite3 *db = s_open_case();
    s_exec(db, "UPDATE checkpoints SET seq = 4 WHERE seq = 5");
    s_verify_case(db, "BRVO", &chains, &checkpoints);
    s_expect("checkpoint column edited", &checkpoints, 4, false, "column seq");

    db = s_open_case();
    s_exec(db, "UPDATE checkpoints SET body = CAST(body || x'00' AS BLOB)"
               " WHERE seq = 3");
    s_verify_case(db, "BRVO", &chains, &checkpoints);
    s_expect("checkpoint body edited", &checkpoints, 3, false,
             "does not decode");

    s_add_checkpoint(6, 6, s_alfa, "ALFA", "CHRL");
    s_verify_case(NULL, "BRVO", &chains, &checkpoints);
    ok(!checkpoints.ok, "a checkpoint of another chain is detected");
    ok(strstr(checkpoints.reason, "two other suppliers") != NULL,
       "reason says so: %s", checkpoints.reason);

    /* Stored before this node's copy of the chain reaches seq 7. */
    s_add_checkpoint(7, 6, s_alfa, "ALFA", "BRVO");
    s_verify_case(NULL, "BRVO", &chains, &checkpoints);
    ok(checkpoints.ok, "a requester may hold a checkpoint beyond its head %s",
       checkpoints.reason);
    s_verify_case(NULL, "ALFA", &chains, &checkpoints);
    s_expect("a server's checkpoint beyond its head", &checkpoints, 7, false,
             "cut short");
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
    s_copy(s_clean, s_case);

    test_store_and_find();
    test_acked_through();
    test_pending();
    test_chains();
    test_clean();
    test_cut_short();
    test_rewrite();
    test_bad_checkpoints();

    signer_destroy(&s_alfa);
    signer_destroy(&s_brvo);
    signer_destroy(&s_mallory);
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
