/* Statements: per-type totals from the ledger and their three formats. */
#include "statement.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hex.h"

/* Collects rows into the statement; error is set when a sum overflows. */
typedef struct {
    statement_t *statement;
    char *error;
    size_t error_size;
} collector_t;

static int s_type_order(const void *a, const void *b)
{
    return strcmp(((const statement_line_t *)a)->type,
                  ((const statement_line_t *)b)->type);
}

static statement_line_t *s_line_for(collector_t *collector, const char *type)
{
    statement_t *s = collector->statement;
    for (size_t i = 0; i < s->line_count; i++)
        if (strcmp(s->lines[i].type, type) == 0)
            return &s->lines[i];
    if (s->line_count == STATEMENT_MAX_TYPES) {
        snprintf(collector->error, collector->error_size,
                 "statement has more than %d request types; type '%s' does "
                 "not fit",
                 STATEMENT_MAX_TYPES, type);
        return NULL;
    }
    statement_line_t *line = &s->lines[s->line_count++];
    snprintf(line->type, sizeof line->type, "%s", type);
    return line;
}

/* Adds one receipt to a line. Returns 0, or -1 on overflow. */
static int s_add(statement_line_t *line, const receipt_t *receipt,
                 bool acknowledged)
{
    if (__builtin_add_overflow(line->count, 1, &line->count) ||
        __builtin_add_overflow(line->units, receipt->units, &line->units) ||
        __builtin_add_overflow(line->amount, receipt->price, &line->amount))
        return -1;
    if (!acknowledged)
        line->unacknowledged++;
    return 0;
}

static void s_track_seq(statement_t *s, const ledger_row_t *row)
{
    uint64_t seq = row->receipt.seq;
    if (s->first_seq == 0 || seq < s->first_seq)
        s->first_seq = seq;
    if (seq > s->last_seq) {
        s->last_seq = seq;
        memcpy(s->head_hash, row->hash, HASH_SIZE);
    }
}

static int s_collect(const ledger_row_t *row, void *arg)
{
    collector_t *collector = arg;
    statement_t *s = collector->statement;
    statement_line_t *line = s_line_for(collector, row->receipt.type);
    if (!line)
        return -1;
    if (s_add(line, &row->receipt, row->acknowledged) != 0 ||
        s_add(&s->total, &row->receipt, row->acknowledged) != 0) {
        snprintf(collector->error, collector->error_size,
                 "statement totals overflow at %s->%s seq %llu", s->serving,
                 s->requesting, (unsigned long long)row->receipt.seq);
        return -1;
    }
    s_track_seq(s, row);
    return 0;
}

int statement_compute(ledger_t *ledger, const char *serving,
                      const char *requesting, int64_t from_ms, int64_t to_ms,
                      statement_t *out, char *error, size_t error_size)
{
    assert(ledger);
    assert(serving);
    assert(requesting);
    assert(out);
    memset(out, 0, sizeof *out);
    snprintf(out->serving, sizeof out->serving, "%s", serving);
    snprintf(out->requesting, sizeof out->requesting, "%s", requesting);
    snprintf(out->currency, sizeof out->currency, "GBP");
    snprintf(out->total.type, sizeof out->total.type, "total");
    out->from_ms = from_ms;
    out->to_ms = to_ms;
    if (from_ms >= to_ms)
        return 0;

    ledger_filter_t filter = {.own_mpid = serving,
                              .role = LEDGER_ROLE_ISSUED,
                              .counterparty = requesting,
                              .from_ms = from_ms,
                              .to_ms = to_ms};
    collector_t collector = {out, error, error_size};
    if (ledger_foreach_receipt(ledger, &filter, s_collect, &collector, error,
                               error_size) != 0)
        return -1;
    qsort(out->lines, out->line_count, sizeof out->lines[0], s_type_order);
    return 0;
}

char *statement_format_amount(uint64_t micro, char text[28])
{
    snprintf(text, 28, "%" PRIu64 ".%06" PRIu64, micro / 1000000,
             micro % 1000000);
    return text;
}

static void s_table_line(FILE *out, const statement_line_t *line)
{
    char amount[28];
    fprintf(
        out,
        "%-20s %8" PRIu64 " %12" PRIu64 " %16" PRIu64 " %16s %8" PRIu64 "\n",
        line->type, line->count, line->units, line->amount,
        statement_format_amount(line->amount, amount), line->unacknowledged);
}

void statement_write_table(const statement_t *s, FILE *out)
{
    char from[CLOCK_ISO_SIZE];
    char to[CLOCK_ISO_SIZE];
    char head[2 * HASH_SIZE + 1];
    fprintf(out, "Statement %s -> %s, served from %s to %s (%s)\n", s->serving,
            s->requesting, clock_format_iso(s->from_ms, from),
            clock_format_iso(s->to_ms, to), s->currency);
    fprintf(out, "%-20s %8s %12s %16s %16s %8s\n", "type", "count", "units",
            "amount_micro", s->currency, "unacked");
    for (size_t i = 0; i < s->line_count; i++)
        s_table_line(out, &s->lines[i]);
    s_table_line(out, &s->total);
    if (s->total.count == 0) {
        fprintf(out, "No receipts in this period.\n");
        return;
    }
    fprintf(out, "Receipts seq %" PRIu64 " to %" PRIu64 ", chain head %s\n",
            s->first_seq, s->last_seq,
            hex_encode(s->head_hash, HASH_SIZE, head));
}

/* Writes text as a JSON string with the characters JSON requires escaped. */
static void s_json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void s_json_line(FILE *out, const statement_line_t *line)
{
    char amount[28];
    fprintf(out, "{\"type\": ");
    s_json_string(out, line->type);
    fprintf(out,
            ", \"count\": %" PRIu64 ", \"units\": %" PRIu64
            ", \"amount_micro\": %" PRIu64 ", \"amount\": \"%s\""
            ", \"unacknowledged\": %" PRIu64 "}",
            line->count, line->units, line->amount,
            statement_format_amount(line->amount, amount),
            line->unacknowledged);
}

void statement_write_json(const statement_t *s, FILE *out)
{
    char from[CLOCK_ISO_SIZE];
    char to[CLOCK_ISO_SIZE];
    char head[2 * HASH_SIZE + 1];
    fprintf(out, "{\"serving\": ");
    s_json_string(out, s->serving);
    fprintf(out, ", \"requesting\": ");
    s_json_string(out, s->requesting);
    fprintf(out, ", \"from\": \"%s\", \"to\": \"%s\", \"currency\": ",
            clock_format_iso(s->from_ms, from), clock_format_iso(s->to_ms, to));
    s_json_string(out, s->currency);
    fprintf(out, ",\n \"lines\": [");
    for (size_t i = 0; i < s->line_count; i++) {
        fprintf(out, "%s\n  ", i ? "," : "");
        s_json_line(out, &s->lines[i]);
    }
    fprintf(out, "],\n \"total\": ");
    s_json_line(out, &s->total);
    fprintf(out,
            ",\n \"first_seq\": %" PRIu64 ", \"last_seq\": %" PRIu64
            ", \"chain_head\": \"%s\"}\n",
            s->first_seq, s->last_seq,
            hex_encode(s->head_hash, HASH_SIZE, head));
}

/* Writes one CSV field, quoted when it contains a comma, quote or line
 * break (RFC 4180). */
static void s_csv_field(FILE *out, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            fputc('"', out);
        fputc(*c, out);
    }
    fputc('"', out);
}

static void s_csv_row(FILE *out, const statement_t *s,
                      const statement_line_t *line)
{
    char from[CLOCK_ISO_SIZE];
    char to[CLOCK_ISO_SIZE];
    char amount[28];
    const char *context[5] = {s->serving, s->requesting,
                              clock_format_iso(s->from_ms, from),
                              clock_format_iso(s->to_ms, to), s->currency};
    for (size_t i = 0; i < 5; i++) {
        s_csv_field(out, context[i]);
        fputc(',', out);
    }
    s_csv_field(out, line->type);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%" PRIu64 "\r\n",
            line->count, line->units, line->amount,
            statement_format_amount(line->amount, amount),
            line->unacknowledged);
}

void statement_write_csv(const statement_t *s, FILE *out)
{
    fputs("serving,requesting,from,to,currency,type,count,units,"
          "amount_micro,amount,unacknowledged\r\n",
          out);
    for (size_t i = 0; i < s->line_count; i++)
        s_csv_row(out, s, &s->lines[i]);
    s_csv_row(out, s, &s->total);
}
