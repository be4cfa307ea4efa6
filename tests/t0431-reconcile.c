/* Tests reconciliation categories on pairs of real ledgers: agreement, a
 * receipt missing on either side, a price and another field that differ,
 * bad signatures, a broken chain and missing acknowledgements. */
#include <stdlib.h>
#include <unistd.h>

#include "reconcile.h"
#include "receipt_fixture.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0431-XXXXXX";
static signer_t *s_alfa;
static signer_t *s_brvo;
static signer_t *s_chrl;

#define FROM_MS 1793491200000 /* 2026-11-01T00:00:00Z */
#define TO_MS   1796083200000 /* 2026-12-01T00:00:00Z */
#define HOUR_MS INT64_C(3600000)

static int s_lookup(const char *mpid, uint8_t key[SIGN_PUBLIC_SIZE], void *arg)
{
    (void)arg;
    const signer_t *signer = strcmp(mpid, "ALFA") == 0   ? s_alfa
                             : strcmp(mpid, "BRVO") == 0 ? s_brvo
                             : strcmp(mpid, "CHRL") == 0 ? s_chrl
                                                         : NULL;
    if (!signer)
        return -1;
    memcpy(key, signer_public_key(signer), SIGN_PUBLIC_SIZE);
    return 0;
}

/* The serving (ALFA) and requesting (BRVO) ledgers of one case. */
typedef struct {
    ledger_t *alfa;
    ledger_t *brvo;
} pair_t;

static pair_t s_open_pair(const char *name)
{
    char path[700], error[512];
    pair_t pair;
    snprintf(path, sizeof path, "%s/%s-alfa.db", s_dir, name);
    pair.alfa = ledger_open(path, error, sizeof error);
    snprintf(path, sizeof path, "%s/%s-brvo.db", s_dir, name);
    pair.brvo = pair.alfa ? ledger_open(path, error, sizeof error) : NULL;
    if (!pair.brvo)
        bail_out("ledgers of %s: %s", name, error);
    return pair;
}

static void s_close_pair(pair_t *pair)
{
    ledger_destroy(&pair->alfa);
    ledger_destroy(&pair->brvo);
}

/* Makes the next ALFA->BRVO receipt from ALFA's chain, stores it in the
 * ledgers asked for and acknowledges it in those asked for. */
static void s_receipt(pair_t *pair, int index, bool in_alfa, bool in_brvo,
                      bool acked)
{
    fixture_receipt_t f;
    fixture_make(&f, pair->alfa, s_alfa, "ALFA", "BRVO", "read.profile",
                 FROM_MS + index * HOUR_MS, 48, 17200);
    if (in_alfa)
        fixture_store(pair->alfa, &f);
    if (in_brvo)
        fixture_store(pair->brvo, &f);
    if (acked && in_alfa)
        fixture_ack(pair->alfa, s_brvo, &f);
    if (acked && in_brvo)
        fixture_ack(pair->brvo, s_brvo, &f);
    fixture_free(&f);
}

/* Collects and signs the statement that issuer sends about the chain. */
static statement_file_t *s_statement(ledger_t *ledger, const char *issuer,
                                     const char *counterparty,
                                     statement_direction_t direction,
                                     const signer_t *signer, int64_t from_ms)
{
    char error[512];
    statement_file_t *st =
        statement_file_collect(ledger, issuer, counterparty, direction, from_ms,
                               TO_MS, NULL, error, sizeof error);
    if (!st || statement_file_sign(st, signer, TO_MS, error, sizeof error))
        bail_out("statement: %s", error);
    return st;
}

static reconcile_t *s_run(const statement_file_t *st, ledger_t *ledger,
                          const char *own)
{
    char error[512] = "";
    reconcile_t *r =
        reconcile_run(st, ledger, own, s_lookup, NULL, error, sizeof error);
    if (!r)
        bail_out("reconcile: %s", error);
    for (size_t i = 0; i < reconcile_finding_count(r); i++) {
        const reconcile_finding_t *f = reconcile_finding(r, i);
        diag("seq %llu %s: %s", (unsigned long long)f->seq,
             reconcile_category_name(f->category), f->note);
    }
    return r;
}

/* Returns the note of the first finding of category, or "". */
static const char *s_note(const reconcile_t *r, reconcile_category_t category)
{
    for (size_t i = 0; i < reconcile_finding_count(r); i++)
        if (reconcile_finding(r, i)->category == category)
            return reconcile_finding(r, i)->note;
    return "";
}

static void test_agree(void)
{
    pair_t pair = s_open_pair("agree");
    for (int i = 0; i < 3; i++)
        s_receipt(&pair, i, true, true, true);
    statement_file_t *st = s_statement(pair.alfa, "ALFA", "BRVO",
                                       STATEMENT_ISSUED, s_alfa, FROM_MS);
    reconcile_t *r = s_run(st, pair.brvo, "BRVO");
    ok(reconcile_agree(r), "identical ledgers agree");
    is_int(reconcile_count(r, RECONCILE_MATCHED), 3, "three matched");
    is_int(reconcile_finding_count(r), 0, "no findings");
    is_int(reconcile_local(r)->total.amount, 3 * 17200, "local total computed");
    reconcile_destroy(&r);
    statement_file_destroy(&st);

    st = s_statement(pair.brvo, "BRVO", "ALFA", STATEMENT_RECEIVED, s_brvo,
                     FROM_MS);
    r = s_run(st, pair.alfa, "ALFA");
    ok(reconcile_agree(r), "the requester's received statement agrees too");
    is_int(reconcile_count(r, RECONCILE_MATCHED), 3, "three matched there");
    reconcile_destroy(&r);

    char error[512] = "";
    r = reconcile_run(st, pair.brvo, "BRVO", s_lookup, NULL, error,
                      sizeof error);
    ok(r == NULL, "a statement addressed to another supplier is refused");
    ok(strstr(error, "not to this node's BRVO") != NULL, "error says so: %s",
       error);
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);
}

static void test_missing(void)
{
    pair_t pair = s_open_pair("missing");
    s_receipt(&pair, 0, true, true, true);
    s_receipt(&pair, 1, true, true, true);
    /* seq 3 reached BRVO, which recorded it as a dispute. */
    fixture_receipt_t f;
    char error[512];
    fixture_make(&f, pair.alfa, s_alfa, "ALFA", "BRVO", "read.registers",
                 FROM_MS + 2 * HOUR_MS, 1, 20000);
    fixture_store(pair.alfa, &f);
    if (ledger_record_dispute(pair.brvo, "ALFA", "BRVO", f.body, f.size,
                              f.signature, "tariff hash differs", error,
                              sizeof error))
        bail_out("dispute: %s", error);
    fixture_free(&f);

    statement_file_t *st = s_statement(pair.alfa, "ALFA", "BRVO",
                                       STATEMENT_ISSUED, s_alfa, FROM_MS);
    reconcile_t *r = s_run(st, pair.brvo, "BRVO");
    ok(!reconcile_agree(r), "a receipt missing on our side disagrees");
    is_int(reconcile_count(r, RECONCILE_MISSING_OURS), 1, "one missing ours");
    ok(strstr(s_note(r, RECONCILE_MISSING_OURS),
              "dispute: tariff hash differs") != NULL,
       "note names the recorded dispute");
    is_int(reconcile_count(r, RECONCILE_UNACKNOWLEDGED), 1,
           "and it is not acknowledged");
    is_int(reconcile_count(r, RECONCILE_MATCHED), 2, "two matched");
    reconcile_destroy(&r);
    statement_file_destroy(&st);

    /* Seen from ALFA: BRVO's received statement lacks seq 3. */
    st = s_statement(pair.brvo, "BRVO", "ALFA", STATEMENT_RECEIVED, s_brvo,
                     FROM_MS);
    r = s_run(st, pair.alfa, "ALFA");
    is_int(reconcile_count(r, RECONCILE_MISSING_THEIRS), 1,
           "one missing on theirs");
    ok(strstr(s_note(r, RECONCILE_MISSING_THEIRS), "read.registers, 20000") !=
           NULL,
       "note names the type and price");
    is_int(reconcile_count(r, RECONCILE_UNACKNOWLEDGED), 1,
           "missing theirs is also unacknowledged here");
    ok(!reconcile_agree(r), "and they disagree");
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);
}

/* Stores one receipt at seq 2 in ALFA's ledger and another, made by
 * change, in BRVO's. */
static void s_fork(pair_t *pair, uint64_t brvo_price, uint64_t brvo_units)
{
    s_receipt(pair, 0, true, true, true);
    fixture_receipt_t a, b;
    fixture_make(&a, pair->alfa, s_alfa, "ALFA", "BRVO", "read.profile",
                 FROM_MS + HOUR_MS, 48, 17200);
    fixture_make(&b, pair->brvo, s_alfa, "ALFA", "BRVO", "read.profile",
                 FROM_MS + HOUR_MS, brvo_units, brvo_price);
    fixture_store(pair->alfa, &a);
    fixture_store(pair->brvo, &b);
    fixture_ack(pair->alfa, s_brvo, &a);
    fixture_ack(pair->brvo, s_brvo, &b);
    fixture_free(&a);
    fixture_free(&b);
}

static void test_differs(void)
{
    pair_t pair = s_open_pair("price");
    s_fork(&pair, 99999, 48);
    statement_file_t *st = s_statement(pair.alfa, "ALFA", "BRVO",
                                       STATEMENT_ISSUED, s_alfa, FROM_MS);
    reconcile_t *r = s_run(st, pair.brvo, "BRVO");
    is_int(reconcile_count(r, RECONCILE_PRICE_DIFFERS), 1, "price differs");
    ok(strstr(s_note(r, RECONCILE_PRICE_DIFFERS),
              "charges 17200 micro-units, this ledger 99999") != NULL,
       "note gives both prices");
    is_int(reconcile_count(r, RECONCILE_MATCHED), 1, "seq 1 still matches");
    ok(!reconcile_agree(r), "a price difference disagrees");
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);

    pair = s_open_pair("units");
    s_fork(&pair, 17200, 47);
    st = s_statement(pair.alfa, "ALFA", "BRVO", STATEMENT_ISSUED, s_alfa,
                     FROM_MS);
    r = s_run(st, pair.brvo, "BRVO");
    is_int(reconcile_count(r, RECONCILE_DIFFERS), 1,
           "same price, other units: differs");
    ok(strstr(s_note(r, RECONCILE_DIFFERS), "field units") != NULL,
       "note names the field");
    is_int(reconcile_count(r, RECONCILE_PRICE_DIFFERS), 0,
           "not counted as a price difference");
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);
}

static void test_signatures(void)
{
    pair_t pair = s_open_pair("signature");
    s_receipt(&pair, 0, true, true, true);
    /* seq 2 carries CHRL's signature, not ALFA's. */
    fixture_receipt_t f;
    fixture_make(&f, pair.alfa, s_chrl, "ALFA", "BRVO", "read.profile",
                 FROM_MS + HOUR_MS, 48, 17200);
    fixture_store(pair.alfa, &f);
    fixture_store(pair.brvo, &f);
    fixture_ack(pair.alfa, s_brvo, &f);
    fixture_ack(pair.brvo, s_brvo, &f);
    fixture_free(&f);
    statement_file_t *st = s_statement(pair.alfa, "ALFA", "BRVO",
                                       STATEMENT_ISSUED, s_alfa, FROM_MS);
    reconcile_t *r = s_run(st, pair.brvo, "BRVO");
    is_int(reconcile_count(r, RECONCILE_BAD_SIGNATURE), 1,
           "a receipt with another key's signature is found");
    ok(strstr(s_note(r, RECONCILE_BAD_SIGNATURE), "not ALFA's") != NULL,
       "note names the expected signer");
    is_int(reconcile_count(r, RECONCILE_MATCHED), 1, "seq 1 matches");
    reconcile_destroy(&r);
    statement_file_destroy(&st);

    /* The whole statement signed by CHRL instead of ALFA. */
    st = s_statement(pair.alfa, "ALFA", "BRVO", STATEMENT_ISSUED, s_chrl,
                     FROM_MS);
    r = s_run(st, pair.brvo, "BRVO");
    is_int(reconcile_count(r, RECONCILE_BAD_SIGNATURE), 2,
           "a statement signed by another key is found too");
    bool whole = false;
    for (size_t i = 0; i < reconcile_finding_count(r); i++)
        whole = whole || (reconcile_finding(r, i)->seq == 0 &&
                          strstr(reconcile_finding(r, i)->note,
                                 "statement's signature") != NULL);
    ok(whole, "the finding is about the whole statement");
    ok(!reconcile_agree(r), "a bad signature disagrees");
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);
}

static void test_chain(void)
{
    pair_t pair = s_open_pair("chain");
    /* seq 1 differs between the ledgers, and ALFA's seq 2 links to ALFA's
     * seq 1. The statement covers only seq 2. */
    fixture_receipt_t a, b;
    fixture_make(&a, pair.alfa, s_alfa, "ALFA", "BRVO", "read.profile",
                 FROM_MS - HOUR_MS, 48, 17200);
    fixture_make(&b, pair.brvo, s_alfa, "ALFA", "BRVO", "read.profile",
                 FROM_MS - HOUR_MS, 48, 17201);
    fixture_store(pair.alfa, &a);
    fixture_store(pair.brvo, &b);
    fixture_free(&a);
    fixture_free(&b);
    s_receipt(&pair, 1, true, false, false);
    statement_file_t *st = s_statement(pair.alfa, "ALFA", "BRVO",
                                       STATEMENT_ISSUED, s_alfa, FROM_MS);
    reconcile_t *r = s_run(st, pair.brvo, "BRVO");
    is_int(reconcile_count(r, RECONCILE_CHAIN_BROKEN), 1,
           "seq 2 does not link to our seq 1");
    ok(strstr(s_note(r, RECONCILE_CHAIN_BROKEN), "seq 1 in this ledger") !=
           NULL,
       "note names the seq it should link to");
    is_int(reconcile_count(r, RECONCILE_MISSING_OURS), 1,
           "and seq 2 is missing on our side");
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);
}

static void test_unacknowledged(void)
{
    pair_t pair = s_open_pair("unacked");
    s_receipt(&pair, 0, true, true, false);
    fixture_receipt_t f;
    fixture_make(&f, pair.alfa, s_alfa, "ALFA", "BRVO", "read.profile",
                 FROM_MS + HOUR_MS, 48, 17200);
    fixture_store(pair.alfa, &f);
    fixture_store(pair.brvo, &f);
    fixture_ack(pair.brvo, s_brvo, &f);
    fixture_free(&f);
    statement_file_t *st = s_statement(pair.alfa, "ALFA", "BRVO",
                                       STATEMENT_ISSUED, s_alfa, FROM_MS);
    reconcile_t *r = s_run(st, pair.brvo, "BRVO");
    is_int(reconcile_count(r, RECONCILE_UNACKNOWLEDGED), 2,
           "two receipts not acknowledged on some side");
    ok(strstr(s_note(r, RECONCILE_UNACKNOWLEDGED), "neither side") != NULL,
       "seq 1 is acknowledged on neither side");
    ok(strstr(reconcile_finding(r, 1)->note,
              "in this ledger, not in the statement") != NULL,
       "seq 2 is acknowledged only here");
    is_int(reconcile_count(r, RECONCILE_MATCHED), 0, "none fully matched");
    ok(!reconcile_agree(r), "unacknowledged receipts disagree");

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    reconcile_write_json(r, st, out);
    fclose(out);
    ok(strstr(text, "\"agree\": false") != NULL, "JSON says they disagree");
    ok(strstr(text, "\"unacknowledged\": 2") != NULL, "JSON has the counts");
    ok(strstr(text, "\"category\": \"unacknowledged\", \"seq\": 1") != NULL,
       "JSON lists the findings");
    free(text);
    out = open_memstream(&text, &size);
    reconcile_write_table(r, st, out);
    fclose(out);
    ok(strstr(text, "not acknowledged") && strstr(text, "does not agree"),
       "table names the category and the result");
    free(text);
    reconcile_destroy(&r);
    statement_file_destroy(&st);
    s_close_pair(&pair);
}

int main(void)
{
    uint8_t seeds[3][32] = {{1}, {2}, {3}};
    s_alfa = signer_new(seeds[0]);
    s_brvo = signer_new(seeds[1]);
    s_chrl = signer_new(seeds[2]);
    if (!mkdtemp(s_dir) || !s_alfa || !s_brvo || !s_chrl)
        bail_out("set-up failed");
    test_agree();
    test_missing();
    test_differs();
    test_signatures();
    test_chain();
    test_unacknowledged();
    signer_destroy(&s_alfa);
    signer_destroy(&s_brvo);
    signer_destroy(&s_chrl);
    char command[700];
    snprintf(command, sizeof command, "rm -rf %s", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
