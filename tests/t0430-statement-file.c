/* Tests signed statement files: collecting from a ledger, the encoding
 * against a hand-packed copy of the documented format, signatures,
 * acceptance, tampering, the decoder's checks and the statement folder. */
#include <msgpack.h>
#include <stdlib.h>
#include <unistd.h>

#include "receipt_fixture.h"
#include "statement_file.h"
#include "statement_store.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0430-XXXXXX";
static signer_t *s_alfa;
static signer_t *s_brvo;

#define FROM_MS 1793491200000 /* 2026-11-01T00:00:00Z */
#define TO_MS   1796083200000 /* 2026-12-01T00:00:00Z */
#define DAY_MS  INT64_C(86400000)

/* The chain ALFA->BRVO: seq 1 before the period, 2 to 5 in it (2 and 4
 * acknowledged), 6 after it, and one BRVO->ALFA receipt in it. */
static fixture_receipt_t s_receipts[6];

static void s_fill(ledger_t *ledger)
{
    const char *types[6] = {"read.profile", "read.profile", "read.registers",
                            "read.profile", "read.daily",   "read.profile"};
    const int64_t times[6] = {FROM_MS - 1,          FROM_MS,   FROM_MS + DAY_MS,
                              FROM_MS + 2 * DAY_MS, TO_MS - 1, TO_MS};
    for (int i = 0; i < 6; i++) {
        fixture_receipt_t *f = &s_receipts[i];
        fixture_make(f, ledger, s_alfa, "ALFA", "BRVO", types[i], times[i],
                     48 + (uint64_t)i, 10000 + 150 * (48 + (uint64_t)i));
        fixture_store(ledger, f);
        if (i == 1 || i == 3)
            fixture_ack(ledger, s_brvo, f);
    }
    fixture_receipt_t other;
    fixture_make(&other, ledger, s_brvo, "BRVO", "ALFA", "read.daily",
                 FROM_MS + DAY_MS, 7, 8500);
    fixture_store(ledger, &other);
    fixture_free(&other);
}

static void test_collect(const statement_file_t *st)
{
    const statement_t *s = statement_file_summary(st);
    is_int(statement_file_count(st), 4, "four receipts in the period");
    is_str(statement_file_issuer(st), "ALFA", "issuer");
    is_str(statement_file_counterparty(st), "BRVO", "counterparty");
    is_str(s->serving, "ALFA", "chain serving");
    is_str(s->requesting, "BRVO", "chain requesting");
    is_int(s->first_seq, 2, "first seq");
    is_int(s->last_seq, 5, "last seq");
    is_mem(s->head_hash, s_receipts[4].hash, HASH_SIZE, "head is seq 5");
    is_int(s->line_count, 3, "three request types");
    is_int(s->total.count, 4, "total count");
    uint64_t amount = 0;
    for (int i = 1; i < 5; i++)
        amount += s_receipts[i].receipt.price;
    is_int(s->total.amount, amount, "total amount is the receipts' sum");
    is_int(s->total.unacknowledged, 2, "two not acknowledged");
    const statement_entry_t *e = statement_file_entry(st, 0);
    is_int(e->receipt.seq, 2, "entries in seq order");
    ok(e->acknowledged && e->ack.seq == 2, "seq 2 carries its ack");
    ok(!statement_file_entry(st, 1)->acknowledged, "seq 3 has no ack");
    is_mem(e->body, s_receipts[1].body, s_receipts[1].size,
           "entry holds the receipt body");
}

static void s_pack_str(msgpack_packer *pk, const char *text)
{
    msgpack_pack_str(pk, strlen(text));
    msgpack_pack_str_body(pk, text, strlen(text));
}

static void s_pack_bin(msgpack_packer *pk, const void *data, size_t size)
{
    msgpack_pack_bin(pk, size);
    msgpack_pack_bin_body(pk, data, size);
}

/* Options of a hand-packed body that break one rule each. */
typedef struct {
    uint64_t total_amount_delta;
    bool wide_version; /* version as cc 01 instead of 01 */
    bool reverse;      /* receipts out of seq order */
} body_options_t;

/* Packs the body of test_collect's statement straight from the format in
 * statement_file.h, independently of statement_file.c. */
static void s_pack_body(msgpack_sbuffer *buffer, const statement_file_t *st,
                        const body_options_t *options)
{
    const statement_t *s = statement_file_summary(st);
    msgpack_packer pk;
    msgpack_packer_init(&pk, buffer, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 14);
    if (options->wide_version)
        msgpack_sbuffer_write(buffer, "\xcc\x01", 2);
    else
        msgpack_pack_uint64(&pk, 1);
    s_pack_str(&pk, "ALFA");
    s_pack_str(&pk, "BRVO");
    s_pack_str(&pk, "issued");
    msgpack_pack_int64(&pk, FROM_MS);
    msgpack_pack_int64(&pk, TO_MS);
    s_pack_str(&pk, "GBP");
    msgpack_pack_int64(&pk, statement_file_issued_at(st));
    msgpack_pack_array(&pk, s->line_count);
    for (size_t i = 0; i < s->line_count; i++) {
        const statement_line_t *l = &s->lines[i];
        msgpack_pack_array(&pk, 5);
        s_pack_str(&pk, l->type);
        msgpack_pack_uint64(&pk, l->count);
        msgpack_pack_uint64(&pk, l->units);
        msgpack_pack_uint64(&pk, l->amount);
        msgpack_pack_uint64(&pk, l->unacknowledged);
    }
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint64(&pk, s->total.count);
    msgpack_pack_uint64(&pk, s->total.units);
    msgpack_pack_uint64(&pk, s->total.amount + options->total_amount_delta);
    msgpack_pack_uint64(&pk, s->total.unacknowledged);
    msgpack_pack_uint64(&pk, s->first_seq);
    msgpack_pack_uint64(&pk, s->last_seq);
    s_pack_bin(&pk, s->head_hash, HASH_SIZE);
    size_t count = statement_file_count(st);
    msgpack_pack_array(&pk, count);
    for (size_t n = 0; n < count; n++) {
        size_t i = options->reverse ? count - 1 - n : n;
        const statement_entry_t *e = statement_file_entry(st, i);
        msgpack_pack_array(&pk, 3);
        s_pack_bin(&pk, e->body, e->body_size);
        s_pack_bin(&pk, e->signature, SIGN_SIGNATURE_SIZE);
        msgpack_pack_array(&pk, e->acknowledged ? 2 : 0);
        if (e->acknowledged) {
            s_pack_bin(&pk, e->ack_body, e->ack_size);
            s_pack_bin(&pk, e->ack_signature, SIGN_SIGNATURE_SIZE);
        }
    }
}

/* Wraps body in the file container, signed by signer. */
static void s_pack_file(msgpack_sbuffer *file, const msgpack_sbuffer *body,
                        const signer_t *signer)
{
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    signer_sign(signer, SIGN_DOMAIN_STATEMENT, body->data, body->size, sig);
    msgpack_packer pk;
    msgpack_packer_init(&pk, file, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 5);
    s_pack_str(&pk, "sdx-statement");
    msgpack_pack_uint64(&pk, 1);
    s_pack_bin(&pk, body->data, body->size);
    s_pack_bin(&pk, sig, sizeof sig);
    msgpack_pack_array(&pk, 0);
}

/* Decodes a hand-packed file; returns the decoder's error or "". */
static const char *s_decode_packed(const statement_file_t *st,
                                   const body_options_t *options, char *error,
                                   size_t error_size)
{
    msgpack_sbuffer body, file;
    msgpack_sbuffer_init(&body);
    msgpack_sbuffer_init(&file);
    s_pack_body(&body, st, options);
    s_pack_file(&file, &body, s_alfa);
    error[0] = '\0';
    statement_file_t *decoded = statement_file_decode(
        (const uint8_t *)file.data, file.size, error, error_size);
    statement_file_destroy(&decoded);
    msgpack_sbuffer_destroy(&body);
    msgpack_sbuffer_destroy(&file);
    return error;
}

static void test_format(const statement_file_t *st, const uint8_t *data,
                        size_t size)
{
    body_options_t plain = {0};
    msgpack_sbuffer body, file;
    msgpack_sbuffer_init(&body);
    msgpack_sbuffer_init(&file);
    s_pack_body(&body, st, &plain);
    s_pack_file(&file, &body, s_alfa);
    is_int(file.size, size, "hand-packed file has the same size");
    ok(file.size == size && memcmp(file.data, data, size) == 0,
       "hand-packed file from the documented format is byte-identical");
    msgpack_sbuffer_destroy(&body);
    msgpack_sbuffer_destroy(&file);

    char error[1024];
    body_options_t wrong_total = {.total_amount_delta = 1};
    ok(strstr(s_decode_packed(st, &wrong_total, error, sizeof error),
              "does not match its receipts") != NULL,
       "totals that are not the receipts' sum are rejected: %s", error);
    body_options_t wide = {.wide_version = true};
    ok(strstr(s_decode_packed(st, &wide, error, sizeof error), "canonical") !=
           NULL,
       "a non-canonical body is rejected: %s", error);
    body_options_t reverse = {.reverse = true};
    ok(strstr(s_decode_packed(st, &reverse, error, sizeof error),
              "increasing seq order") != NULL,
       "receipts out of seq order are rejected: %s", error);
}

static void test_round_trip(const statement_file_t *st, const uint8_t *data,
                            size_t size)
{
    char error[1024] = "";
    statement_file_t *decoded =
        statement_file_decode(data, size, error, sizeof error);
    ok(decoded != NULL, "signed file decodes: %s", error);
    if (!decoded)
        return;
    ok(statement_file_verify(decoded, signer_public_key(s_alfa)),
       "issuer's signature verifies");
    ok(!statement_file_verify(decoded, signer_public_key(s_brvo)),
       "another key does not verify it");
    ok(!statement_file_accepted(decoded), "not accepted yet");
    is_int(statement_file_issued_at(decoded), statement_file_issued_at(st),
           "issued_at kept");
    is_mem(statement_file_hash(decoded), statement_file_hash(st), HASH_SIZE,
           "same body hash");
    const statement_t *a = statement_file_summary(st);
    const statement_t *b = statement_file_summary(decoded);
    is_int(b->total.amount, a->total.amount, "same total amount");
    is_int(b->line_count, a->line_count, "same lines");
    is_int(statement_file_count(decoded), 4, "same receipts");
    statement_file_destroy(&decoded);
}

/* Flips each byte of data in turn; every change must make decoding or a
 * signature check fail. */
static void test_tampering(const uint8_t *data, size_t size, bool accepted)
{
    uint8_t *copy = malloc(size);
    size_t undetected = 0, first = 0;
    for (size_t i = 0; i < size; i++) {
        memcpy(copy, data, size);
        copy[i] ^= 0x01;
        char error[1024];
        statement_file_t *st =
            statement_file_decode(copy, size, error, sizeof error);
        bool detected =
            !st || !statement_file_verify(st, signer_public_key(s_alfa)) ||
            (accepted &&
             !statement_file_verify_acceptance(st, signer_public_key(s_brvo)));
        if (!detected && undetected++ == 0)
            first = i;
        statement_file_destroy(&st);
    }
    is_int(undetected, 0, "every flipped byte of a %s file is detected%s",
           accepted ? "doubly-signed" : "signed",
           undetected ? " (see the first offset below)" : "");
    if (undetected)
        diag("first undetected offset: %zu of %zu", first, size);
    char error[256];
    statement_file_t *cut =
        statement_file_decode(data, size - 1, error, sizeof error);
    ok(cut == NULL, "a truncated file is rejected: %s", error);
    statement_file_destroy(&cut);
    free(copy);
}

static void test_accept(statement_file_t *st)
{
    char error[1024] = "";
    ok(statement_file_accept(st, s_brvo, FROM_MS + 40 * DAY_MS, error,
                             sizeof error) == 0,
       "counterparty accepts: %s", error);
    uint8_t *data = NULL;
    size_t size = 0;
    if (statement_file_encode(st, &data, &size, error, sizeof error) != 0)
        bail_out("encode: %s", error);
    statement_file_t *decoded =
        statement_file_decode(data, size, error, sizeof error);
    ok(decoded && statement_file_accepted(decoded),
       "doubly-signed file decodes as accepted: %s", error);
    if (decoded) {
        ok(statement_file_verify(decoded, signer_public_key(s_alfa)),
           "issuer's signature still verifies");
        ok(statement_file_verify_acceptance(decoded, signer_public_key(s_brvo)),
           "acceptance verifies with the counterparty's key");
        ok(!statement_file_verify_acceptance(decoded,
                                             signer_public_key(s_alfa)),
           "acceptance does not verify with the issuer's key");
        is_int(statement_file_accepted_at(decoded), FROM_MS + 40 * DAY_MS,
               "accepted_at kept");
    }
    statement_file_destroy(&decoded);
    test_tampering(data, size, true);
    free(data);
}

static void test_store(statement_file_t *st)
{
    char folder[600], path[4096], found_path[4096], error[1024] = "";
    snprintf(folder, sizeof folder, "%s/statements", s_dir);
    ok(statement_store_save(folder, st, path, sizeof path, error,
                            sizeof error) == 0,
       "accepted statement saved: %s", error);
    ok(strstr(path, "/ALFA-BRVO_20261101T000000Z_20261201T000000Z_by-ALFA_") !=
           NULL,
       "file name gives chain, period and issuer: %s", path);
    statement_file_t *found = NULL;
    is_int(statement_store_find(folder, "ALFA", "BRVO", FROM_MS, TO_MS, &found,
                                found_path, sizeof found_path, error,
                                sizeof error),
           1, "stored statement found");
    is_str(found_path, path, "found at the saved path");
    ok(found &&
           statement_file_verify_acceptance(found, signer_public_key(s_brvo)),
       "found statement keeps its acceptance");
    statement_file_destroy(&found);
    is_int(statement_store_find(folder, "BRVO", "ALFA", FROM_MS, TO_MS, &found,
                                found_path, sizeof found_path, error,
                                sizeof error),
           0, "no statement of the other chain");
    is_int(statement_store_find(folder, "ALFA", "BRVO", FROM_MS, TO_MS - 1,
                                &found, found_path, sizeof found_path, error,
                                sizeof error),
           0, "no statement of another period");
    char missing[700];
    snprintf(missing, sizeof missing, "%s/none", s_dir);
    is_int(statement_store_find(missing, "ALFA", "BRVO", FROM_MS, TO_MS, &found,
                                found_path, sizeof found_path, error,
                                sizeof error),
           0, "a missing folder holds nothing");
}

static void test_period(void)
{
    int64_t from = 0, to = 0;
    ok(statement_parse_period("2026-11", &from, &to) == 0 && from == FROM_MS &&
           to == TO_MS,
       "2026-11 is November 2026, UTC");
    ok(statement_parse_period("2026-12", &from, &to) == 0 &&
           to == 1798761600000,
       "December ends at the new year");
    ok(statement_parse_period("2028-02", &from, &to) == 0 &&
           to - from == 29 * DAY_MS,
       "February of a leap year has 29 days");
    const char *bad[] = {"2026-13",    "2026-00", "2026-1",  "26-11",
                         "2026-11-01", "2026/11", "abcd-ef", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ok(statement_parse_period(bad[i], &from, &to) != 0,
           "period '%s' is rejected", bad[i]);
}

int main(void)
{
    char error[1024] = "", path[700];
    uint8_t seed_a[32] = {1}, seed_b[32] = {2};
    s_alfa = signer_new(seed_a);
    s_brvo = signer_new(seed_b);
    if (!mkdtemp(s_dir) || !s_alfa || !s_brvo)
        bail_out("set-up failed");
    snprintf(path, sizeof path, "%s/ledger.db", s_dir);
    ledger_t *ledger = ledger_open(path, error, sizeof error);
    if (!ledger)
        bail_out("ledger: %s", error);
    s_fill(ledger);

    statement_file_t *st =
        statement_file_collect(ledger, "ALFA", "BRVO", STATEMENT_ISSUED,
                               FROM_MS, TO_MS, "GBP", error, sizeof error);
    if (!st)
        bail_out("collect: %s", error);
    test_collect(st);
    uint8_t *data = NULL;
    size_t size = 0;
    ok(statement_file_encode(st, &data, &size, error, sizeof error) != 0,
       "an unsigned statement is not encoded: %s", error);
    if (statement_file_sign(st, s_alfa, TO_MS + DAY_MS, error, sizeof error) ||
        statement_file_encode(st, &data, &size, error, sizeof error))
        bail_out("sign: %s", error);
    test_format(st, data, size);
    test_round_trip(st, data, size);
    test_tampering(data, size, false);
    free(data);
    test_accept(st);
    test_store(st);
    statement_file_destroy(&st);

    statement_file_t *received =
        statement_file_collect(ledger, "ALFA", "BRVO", STATEMENT_RECEIVED,
                               FROM_MS, TO_MS, NULL, error, sizeof error);
    ok(received && statement_file_count(received) == 1 &&
           strcmp(statement_file_summary(received)->serving, "BRVO") == 0,
       "a received statement covers the other chain");
    statement_file_destroy(&received);
    test_period();

    ledger_destroy(&ledger);
    signer_destroy(&s_alfa);
    signer_destroy(&s_brvo);
    char command[700];
    snprintf(command, sizeof command, "rm -rf %s", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
