/* Statements: per-type totals from the ledger and their three formats. */
#include "statement.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
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

static statement_line_t *s_line_for(statement_t *s, const char *type,
                                    char *error, size_t error_size)
{
    for (size_t i = 0; i < s->line_count; i++)
        if (strcmp(s->lines[i].type, type) == 0)
            return &s->lines[i];
    if (s->line_count == STATEMENT_MAX_TYPES) {
        snprintf(error, error_size,
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

static void s_track_seq(statement_t *s, const receipt_t *receipt,
                        const uint8_t hash[HASH_SIZE])
{
    uint64_t seq = receipt->seq;
    if (s->first_seq == 0 || seq < s->first_seq)
        s->first_seq = seq;
    if (seq > s->last_seq) {
        s->last_seq = seq;
        memcpy(s->head_hash, hash, HASH_SIZE);
    }
}

void statement_init(statement_t *s, const char *serving, const char *requesting,
                    int64_t from_ms, int64_t to_ms)
{
    assert(s);
    assert(serving);
    assert(requesting);
    memset(s, 0, sizeof *s);
    snprintf(s->serving, sizeof s->serving, "%s", serving);
    snprintf(s->requesting, sizeof s->requesting, "%s", requesting);
    snprintf(s->currency, sizeof s->currency, "GBP");
    snprintf(s->total.type, sizeof s->total.type, "total");
    s->from_ms = from_ms;
    s->to_ms = to_ms;
}

int statement_add(statement_t *s, const receipt_t *receipt,
                  const uint8_t hash[HASH_SIZE], bool acknowledged, char *error,
                  size_t error_size)
{
    statement_line_t *line = s_line_for(s, receipt->type, error, error_size);
    if (!line)
        return -1;
    if (s_add(line, receipt, acknowledged) != 0 ||
        s_add(&s->total, receipt, acknowledged) != 0) {
        snprintf(error, error_size,
                 "statement totals overflow at %s->%s seq %llu", s->serving,
                 s->requesting, (unsigned long long)receipt->seq);
        return -1;
    }
    s_track_seq(s, receipt, hash);
    return 0;
}

void statement_finish(statement_t *s)
{
    qsort(s->lines, s->line_count, sizeof s->lines[0], s_type_order);
}

static int s_collect(const ledger_row_t *row, void *arg)
{
    collector_t *collector = arg;
    return statement_add(collector->statement, &row->receipt, row->hash,
                         row->acknowledged, collector->error,
                         collector->error_size);
}

int statement_compute(ledger_t *ledger, const char *serving,
                      const char *requesting, int64_t from_ms, int64_t to_ms,
                      statement_t *out, char *error, size_t error_size)
{
    assert(ledger);
    assert(out);
    statement_init(out, serving, requesting, from_ms, to_ms);
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
    statement_finish(out);
    return 0;
}

int statement_parse_period(const char *text, int64_t *from_ms, int64_t *to_ms)
{
    assert(text);
    int year = 0, month = 0;
    bool digits = strlen(text) == 7 && text[4] == '-';
    for (size_t i = 0; digits && i < 7; i++)
        digits = i == 4 || isdigit((unsigned char)text[i]);
    if (!digits || sscanf(text, "%4d-%2d", &year, &month) != 2 || year < 1970 ||
        month < 1 || month > 12)
        return -1;
    const int64_t day_ms = 86400000;
    int next_year = month == 12 ? year + 1 : year;
    int next_month = month == 12 ? 1 : month + 1;
    *from_ms = clock_days_from_civil(year, month, 1) * day_ms;
    *to_ms = clock_days_from_civil(next_year, next_month, 1) * day_ms;
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
        csv_write_field(out, context[i]);
        fputc(',', out);
    }
    csv_write_field(out, line->type);
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
