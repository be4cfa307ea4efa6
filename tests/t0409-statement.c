/* Tests statements: per-type counts, units and amounts over [from, to),
 * sequence range, chain head, unacknowledged counts and the three output
 * formats. */
#include <stdlib.h>
#include <unistd.h>

#include "hex.h"
#include "statement.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0409-XXXXXX";
static signer_t *s_signer;

#define FROM_MS 1370044800000 /* 2013-06-01T00:00:00Z */
#define TO_MS   1370649600000 /* 2013-06-08T00:00:00Z */

/* Appends the next receipt of serving->requesting and returns its seq;
 * hash gets its receipt hash. */
static uint64_t s_append(ledger_t *ledger, const char *serving,
                         const char *requesting, const char *type,
                         int64_t served_at, uint64_t units, uint64_t price,
                         bool acknowledge, uint8_t hash[HASH_SIZE])
{
    char error[512];
    receipt_t r = {0};
    strcpy(r.serving, serving);
    strcpy(r.requesting, requesting);
    if (ledger_chain_head(ledger, serving, requesting, &r.seq, r.prev_hash,
                          error, sizeof error) != 0)
        bail_out("head: %s", error);
    r.seq++;
    memcpy(r.request_id, &r.seq, sizeof r.seq);
    memcpy(r.request_id + 8, requesting, 4);
    strcpy(r.mpxn, "2000012345672");
    strcpy(r.type, type);
    r.units = units;
    strcpy(r.tariff_id, "T");
    r.price = price;
    r.served_at = served_at;
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t sig[SIGN_SIGNATURE_SIZE];
    if (receipt_encode(&r, &body, &size) != 0)
        bail_out("encode failed");
    receipt_sign(s_signer, body, size, sig);
    receipt_hash(body, size, hash);
    if (ledger_append_receipt(ledger, &r, body, size, sig, error,
                              sizeof error) != 0)
        bail_out("append: %s", error);
    free(body);
    if (acknowledge) {
        ack_t ack = {.seq = r.seq, .acked_at = served_at + 1};
        memcpy(ack.receipt_hash, hash, HASH_SIZE);
        strcpy(ack.serving, serving);
        strcpy(ack.requesting, requesting);
        if (ack_encode(&ack, &body, &size) != 0)
            bail_out("ack encode failed");
        ack_sign(s_signer, body, size, sig);
        if (ledger_append_ack(ledger, &ack, body, size, sig, error,
                              sizeof error) != 0)
            bail_out("ack: %s", error);
        free(body);
    }
    return r.seq;
}

static uint8_t s_head[HASH_SIZE];

static void s_fill(ledger_t *ledger)
{
    uint8_t hash[HASH_SIZE];
    const int64_t day = 86400000;
    /* seq 1 is before the period and is not counted. */
    s_append(ledger, "ALFA", "BRVO", "read.profile", FROM_MS - 1, 48, 9200,
             true, hash);
    s_append(ledger, "ALFA", "BRVO", "read.profile", FROM_MS, 336, 52400, true,
             hash);
    s_append(ledger, "ALFA", "BRVO", "read.registers", FROM_MS + day, 1, 5000,
             true, hash);
    s_append(ledger, "ALFA", "BRVO", "read.profile", FROM_MS + 2 * day, 48,
             9200, false, hash);
    s_append(ledger, "ALFA", "BRVO", "read.registers", FROM_MS + 3 * day, 1,
             5000, false, hash);
    s_append(ledger, "ALFA", "BRVO", "read.profile", TO_MS - 1, 50, 9500, true,
             s_head);
    /* seq 7 is served exactly at the end and is not counted. */
    s_append(ledger, "ALFA", "BRVO", "read.profile", TO_MS, 48, 9200, false,
             hash);
    s_append(ledger, "ALFA", "CHRL", "read.profile", FROM_MS + day, 48, 1,
             false, hash);
    s_append(ledger, "BRVO", "ALFA", "read.profile", FROM_MS + day, 48, 1,
             false, hash);
}

static void test_numbers(ledger_t *ledger, statement_t *s)
{
    char error[512] = "";
    ok(statement_compute(ledger, "ALFA", "BRVO", FROM_MS, TO_MS, s, error,
                         sizeof error) == 0,
       "statement computes %s", error);
    is_int(s->line_count, 2, "two request types");
    is_str(s->lines[0].type, "read.profile", "types sorted: profile first");
    is_int(s->lines[0].count, 3, "three profile reads");
    is_int(s->lines[0].units, 336 + 48 + 50, "profile units");
    is_int(s->lines[0].amount, 52400 + 9200 + 9500, "profile amount");
    is_int(s->lines[0].unacknowledged, 1, "one profile read unacknowledged");
    is_str(s->lines[1].type, "read.registers", "then registers");
    is_int(s->lines[1].count, 2, "two register reads");
    is_int(s->lines[1].units, 2, "register units");
    is_int(s->lines[1].amount, 10000, "register amount");
    is_int(s->total.count, 5, "total count");
    is_int(s->total.units, 436, "total units");
    is_int(s->total.amount, 81100, "total amount");
    is_int(s->total.unacknowledged, 2, "total unacknowledged");
    is_int(s->first_seq, 2, "first seq in the period");
    is_int(s->last_seq, 6, "last seq in the period");
    is_mem(s->head_hash, s_head, HASH_SIZE, "chain head is seq 6's hash");
    is_str(s->currency, "GBP", "default currency");

    statement_t empty;
    ok(statement_compute(ledger, "ALFA", "BRVO", TO_MS + 1, TO_MS + 2, &empty,
                         error, sizeof error) == 0 &&
           empty.total.count == 0 && empty.first_seq == 0 &&
           empty.line_count == 0,
       "a period without receipts is empty");
    ok(statement_compute(ledger, "ALFA", "BRVO", TO_MS, FROM_MS, &empty, error,
                         sizeof error) == 0 &&
           empty.total.count == 0,
       "a reversed period is empty");
}

static void test_amounts(void)
{
    char text[28];
    is_str(statement_format_amount(0, text), "0.000000", "zero");
    is_str(statement_format_amount(1, text), "0.000001", "one micro-unit");
    is_str(statement_format_amount(81100, text), "0.081100", "pence");
    is_str(statement_format_amount(1234567890, text), "1234.567890", "pounds");
    is_str(statement_format_amount(UINT64_MAX, text), "18446744073709.551615",
           "uint64 max");
}

/* Runs write on s into a string the caller frees. */
static char *s_capture(void (*write)(const statement_t *, FILE *),
                       const statement_t *s)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        bail_out("open_memstream failed");
    write(s, out);
    fclose(out);
    return text;
}

static void test_csv(const statement_t *s)
{
    char *csv = s_capture(statement_write_csv, s);
    const char *expected =
        "serving,requesting,from,to,currency,type,count,units,amount_micro,"
        "amount,unacknowledged\r\n"
        "ALFA,BRVO,2013-06-01T00:00:00Z,2013-06-08T00:00:00Z,GBP,"
        "read.profile,3,434,71100,0.071100,1\r\n"
        "ALFA,BRVO,2013-06-01T00:00:00Z,2013-06-08T00:00:00Z,GBP,"
        "read.registers,2,2,10000,0.010000,1\r\n"
        "ALFA,BRVO,2013-06-01T00:00:00Z,2013-06-08T00:00:00Z,GBP,"
        "total,5,436,81100,0.081100,2\r\n";
    is_str(csv, expected, "CSV rows");
    free(csv);

    statement_t odd = *s;
    strcpy(odd.lines[0].type, "a,\"b\"");
    csv = s_capture(statement_write_csv, &odd);
    ok(strstr(csv, ",\"a,\"\"b\"\"\",3,") != NULL,
       "CSV quotes a field with a comma and quotes");
    free(csv);
}

static void test_json(const statement_t *s)
{
    char head[2 * HASH_SIZE + 1];
    char expected[2048];
    snprintf(expected, sizeof expected,
             "{\"serving\": \"ALFA\", \"requesting\": \"BRVO\", "
             "\"from\": \"2013-06-01T00:00:00Z\", "
             "\"to\": \"2013-06-08T00:00:00Z\", \"currency\": \"GBP\",\n"
             " \"lines\": [\n"
             "  {\"type\": \"read.profile\", \"count\": 3, \"units\": 434, "
             "\"amount_micro\": 71100, \"amount\": \"0.071100\", "
             "\"unacknowledged\": 1},\n"
             "  {\"type\": \"read.registers\", \"count\": 2, \"units\": 2, "
             "\"amount_micro\": 10000, \"amount\": \"0.010000\", "
             "\"unacknowledged\": 1}],\n"
             " \"total\": {\"type\": \"total\", \"count\": 5, \"units\": 436, "
             "\"amount_micro\": 81100, \"amount\": \"0.081100\", "
             "\"unacknowledged\": 2},\n"
             " \"first_seq\": 2, \"last_seq\": 6, \"chain_head\": \"%s\"}\n",
             hex_encode(s_head, HASH_SIZE, head));
    char *json = s_capture(statement_write_json, s);
    is_str(json, expected, "JSON object");
    free(json);

    statement_t odd = *s;
    strcpy(odd.lines[0].type, "q\"\\\n");
    json = s_capture(statement_write_json, &odd);
    ok(strstr(json, "\"q\\\"\\\\\\u000a\"") != NULL,
       "JSON escapes quotes, backslashes and control characters");
    free(json);
}

static void test_table(const statement_t *s)
{
    char *table = s_capture(statement_write_table, s);
    ok(strstr(table, "ALFA -> BRVO") != NULL, "table names the pair");
    ok(strstr(table, "2013-06-01T00:00:00Z to 2013-06-08T00:00:00Z") != NULL,
       "table gives the period");
    ok(strstr(table, "read.profile") && strstr(table, "0.071100"),
       "table has the profile line");
    ok(strstr(table, "total") && strstr(table, "81100") &&
           strstr(table, "0.081100"),
       "table has the totals in micro-units and pounds");
    ok(strstr(table, "seq 2 to 6") != NULL, "table gives the seq range");
    for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n"))
        diag("%s", line);
    free(table);
}

static void test_overflow(ledger_t *ledger)
{
    char error[512] = "";
    uint8_t hash[HASH_SIZE];
    for (int i = 0; i < 3; i++)
        s_append(ledger, "ALFA", "DLTA", "read.info", FROM_MS + i, 1,
                 (uint64_t)INT64_MAX, false, hash);
    statement_t s;
    is_int(statement_compute(ledger, "ALFA", "DLTA", FROM_MS, TO_MS, &s, error,
                             sizeof error),
           -1, "amount overflow reported");
    ok(strstr(error, "overflow") != NULL, "error says overflow: %s", error);
}

int main(void)
{
    char error[512];
    char path[600];
    uint8_t seed[32] = {5};
    s_signer = signer_new(seed);
    if (!mkdtemp(s_dir) || !s_signer)
        bail_out("set-up failed");
    snprintf(path, sizeof path, "%s/ledger.db", s_dir);
    ledger_t *ledger = ledger_open(path, error, sizeof error);
    if (!ledger)
        bail_out("ledger_open: %s", error);
    s_fill(ledger);

    statement_t s;
    test_numbers(ledger, &s);
    test_amounts();
    test_csv(&s);
    test_json(&s);
    test_table(&s);
    test_overflow(ledger);

    ledger_destroy(&ledger);
    signer_destroy(&s_signer);
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
