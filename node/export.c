/* Receipt exports as CSV and JSON. */
#include "export.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
#include "hex.h"
#include "json.h"
#include "statement.h"

/* How a field is written in JSON; CSV writes every field as its text. */
typedef enum {
    FIELD_TEXT,   /* a string */
    FIELD_NUMBER, /* a number */
    FIELD_BOOL,   /* true or false */
    FIELD_TIME,   /* a string, or null when empty */
    FIELD_MS,     /* a number, or null when empty */
    FIELD_RANGES  /* an array of {from, to} objects */
} field_kind_t;

/* The columns, in output order. */
typedef enum {
    C_ROLE,
    C_SERVING,
    C_REQUESTING,
    C_SEQ,
    C_REQUEST_ID,
    C_MPXN,
    C_TYPE,
    C_RANGE_COUNT,
    C_RANGES,
    C_UNITS,
    C_TARIFF_ID,
    C_TARIFF_HASH,
    C_CURRENCY,
    C_PRICE_MICRO,
    C_PRICE,
    C_SERVED_AT,
    C_SERVED_AT_MS,
    C_RECEIPT_HASH,
    C_PREV_HASH,
    C_SIGNATURE,
    C_ACKNOWLEDGED,
    C_ACKED_AT,
    C_ACKED_AT_MS,
    C_STORED_AT,
    COLUMN_COUNT
} column_id_t;

typedef struct {
    const char *name;
    field_kind_t kind;
} column_t;

static const column_t s_columns[COLUMN_COUNT] = {
    [C_ROLE] = {"role", FIELD_TEXT},
    [C_SERVING] = {"serving", FIELD_TEXT},
    [C_REQUESTING] = {"requesting", FIELD_TEXT},
    [C_SEQ] = {"seq", FIELD_NUMBER},
    [C_REQUEST_ID] = {"request_id", FIELD_TEXT},
    [C_MPXN] = {"mpxn", FIELD_TEXT},
    [C_TYPE] = {"type", FIELD_TEXT},
    [C_RANGE_COUNT] = {"range_count", FIELD_NUMBER},
    [C_RANGES] = {"ranges", FIELD_RANGES},
    [C_UNITS] = {"units", FIELD_NUMBER},
    [C_TARIFF_ID] = {"tariff_id", FIELD_TEXT},
    [C_TARIFF_HASH] = {"tariff_hash", FIELD_TEXT},
    [C_CURRENCY] = {"currency", FIELD_TEXT},
    [C_PRICE_MICRO] = {"price_micro", FIELD_NUMBER},
    [C_PRICE] = {"price", FIELD_TEXT},
    [C_SERVED_AT] = {"served_at", FIELD_TEXT},
    [C_SERVED_AT_MS] = {"served_at_ms", FIELD_NUMBER},
    [C_RECEIPT_HASH] = {"receipt_hash", FIELD_TEXT},
    [C_PREV_HASH] = {"prev_hash", FIELD_TEXT},
    [C_SIGNATURE] = {"signature", FIELD_TEXT},
    [C_ACKNOWLEDGED] = {"acknowledged", FIELD_BOOL},
    [C_ACKED_AT] = {"acked_at", FIELD_TIME},
    [C_ACKED_AT_MS] = {"acked_at_ms", FIELD_MS},
    [C_STORED_AT] = {"stored_at", FIELD_TEXT}};

/* Large enough for 8 ranges of two ISO times, or a signature in hex. */
#define FIELD_SIZE 640

typedef struct {
    char text[COLUMN_COUNT][FIELD_SIZE];
} row_t;

typedef struct {
    ledger_t *ledger;
    const char *own;
    const tariff_set_t *tariffs;
    export_format_t format;
    FILE *out;
    uint64_t count;
    row_t row;
    char *error;
    size_t error_size;
} exporter_t;

/* Writes the served ranges as ISO 8601 intervals "from/to" joined by
 * ';'. */
static void s_ranges_text(const receipt_t *r, char text[FIELD_SIZE])
{
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < r->range_count; i++) {
        char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
        used += (size_t)snprintf(text + used, FIELD_SIZE - used, "%s%s/%s",
                                 i ? ";" : "",
                                 clock_format_iso(r->ranges[i].from_ms, from),
                                 clock_format_iso(r->ranges[i].to_ms, to));
        if (used >= FIELD_SIZE)
            break;
    }
}

static const char *s_currency(const exporter_t *e, const receipt_t *r)
{
    const tariff_t *tariff =
        e->tariffs ? tariff_set_find(e->tariffs, r->serving, r->requesting)
                   : NULL;
    if (tariff && strcmp(tariff_id(tariff), r->tariff_id) == 0)
        return tariff_currency(tariff);
    return "";
}

/* Fills the acknowledgement fields. */
static int s_fill_ack(exporter_t *e, const ledger_row_t *row, row_t *out)
{
    const receipt_t *r = &row->receipt;
    ledger_ack_row_t ack;
    int found = 0;
    if (row->acknowledged)
        found = ledger_find_ack(e->ledger, r->serving, r->requesting, r->seq,
                                &ack, e->error, e->error_size);
    if (found < 0)
        return -1;
    snprintf(out->text[C_ACKNOWLEDGED], FIELD_SIZE, "%s",
             found ? "true" : "false");
    out->text[C_ACKED_AT][0] = '\0';
    out->text[C_ACKED_AT_MS][0] = '\0';
    if (found) {
        clock_format_iso(ack.ack.acked_at, out->text[C_ACKED_AT]);
        snprintf(out->text[C_ACKED_AT_MS], FIELD_SIZE, "%" PRId64,
                 ack.ack.acked_at);
    }
    return 0;
}

static void s_fill_receipt(const exporter_t *e, const receipt_t *r, row_t *out)
{
    char(*t)[FIELD_SIZE] = out->text;
    snprintf(t[C_ROLE], FIELD_SIZE, "%s",
             strcmp(r->serving, e->own) == 0 ? "issued" : "received");
    snprintf(t[C_SERVING], FIELD_SIZE, "%s", r->serving);
    snprintf(t[C_REQUESTING], FIELD_SIZE, "%s", r->requesting);
    snprintf(t[C_SEQ], FIELD_SIZE, "%" PRIu64, r->seq);
    hex_encode(r->request_id, RECEIPT_ID_SIZE, t[C_REQUEST_ID]);
    snprintf(t[C_MPXN], FIELD_SIZE, "%s", r->mpxn);
    snprintf(t[C_TYPE], FIELD_SIZE, "%s", r->type);
    snprintf(t[C_RANGE_COUNT], FIELD_SIZE, "%zu", r->range_count);
    s_ranges_text(r, t[C_RANGES]);
    snprintf(t[C_UNITS], FIELD_SIZE, "%" PRIu64, r->units);
    snprintf(t[C_TARIFF_ID], FIELD_SIZE, "%s", r->tariff_id);
    hex_encode(r->tariff_hash, HASH_SIZE, t[C_TARIFF_HASH]);
    snprintf(t[C_CURRENCY], FIELD_SIZE, "%s", s_currency(e, r));
    snprintf(t[C_PRICE_MICRO], FIELD_SIZE, "%" PRIu64, r->price);
    statement_format_amount(r->price, t[C_PRICE]);
    clock_format_iso(r->served_at, t[C_SERVED_AT]);
    snprintf(t[C_SERVED_AT_MS], FIELD_SIZE, "%" PRId64, r->served_at);
    hex_encode(r->prev_hash, HASH_SIZE, t[C_PREV_HASH]);
}

/* Fills every field of the row. */
static int s_fill(exporter_t *e, const ledger_row_t *row)
{
    s_fill_receipt(e, &row->receipt, &e->row);
    hex_encode(row->hash, HASH_SIZE, e->row.text[C_RECEIPT_HASH]);
    hex_encode(row->signature, SIGN_SIGNATURE_SIZE, e->row.text[C_SIGNATURE]);
    clock_format_iso(row->stored_at, e->row.text[C_STORED_AT]);
    return s_fill_ack(e, row, &e->row);
}

static void s_write_csv_row(FILE *out, const row_t *row)
{
    for (size_t i = 0; i < COLUMN_COUNT; i++) {
        if (i)
            fputc(',', out);
        csv_write_field(out, row->text[i]);
    }
    fputs("\r\n", out);
}

static void s_write_json_ranges(FILE *out, const receipt_t *r)
{
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
    fputc('[', out);
    for (size_t i = 0; i < r->range_count; i++)
        fprintf(out,
                "%s{\"from\": \"%s\", \"to\": \"%s\", \"from_ms\": %" PRId64
                ", \"to_ms\": %" PRId64 "}",
                i ? ", " : "", clock_format_iso(r->ranges[i].from_ms, from),
                clock_format_iso(r->ranges[i].to_ms, to), r->ranges[i].from_ms,
                r->ranges[i].to_ms);
    fputc(']', out);
}

static void s_write_json_value(FILE *out, field_kind_t kind, const char *text,
                               const receipt_t *r)
{
    bool empty = text[0] == '\0';
    if (kind == FIELD_RANGES)
        s_write_json_ranges(out, r);
    else if ((kind == FIELD_TIME || kind == FIELD_MS) && empty)
        fputs("null", out);
    else if (kind == FIELD_NUMBER || kind == FIELD_BOOL || kind == FIELD_MS)
        fputs(text, out);
    else
        json_write_string(out, text);
}

static void s_write_json_row(FILE *out, const row_t *row, const receipt_t *r,
                             bool first)
{
    fputs(first ? "\n{" : ",\n{", out);
    for (size_t i = 0; i < COLUMN_COUNT; i++) {
        fprintf(out, "%s\"%s\": ", i ? ", " : "", s_columns[i].name);
        s_write_json_value(out, s_columns[i].kind, row->text[i], r);
    }
    fputc('}', out);
}

static int s_export_row(const ledger_row_t *row, void *arg)
{
    exporter_t *e = arg;
    if (s_fill(e, row) != 0)
        return -1;
    if (e->format == EXPORT_CSV)
        s_write_csv_row(e->out, &e->row);
    else
        s_write_json_row(e->out, &e->row, &row->receipt, e->count == 0);
    e->count++;
    return 0;
}

int export_receipts(ledger_t *ledger, const ledger_filter_t *filter,
                    const tariff_set_t *tariffs, export_format_t format,
                    FILE *out, uint64_t *count, char *error, size_t error_size)
{
    assert(ledger);
    assert(filter);
    assert(filter->own_mpid);
    assert(out);
    exporter_t *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(error, error_size, "out of memory exporting receipts");
        return -1;
    }
    e->ledger = ledger;
    e->own = filter->own_mpid;
    e->tariffs = tariffs;
    e->format = format;
    e->out = out;
    e->error = error;
    e->error_size = error_size;
    if (format == EXPORT_CSV) {
        for (size_t i = 0; i < COLUMN_COUNT; i++)
            fprintf(out, "%s%s", i ? "," : "", s_columns[i].name);
        fputs("\r\n", out);
    } else {
        fputc('[', out);
    }
    int rc = ledger_foreach_receipt(ledger, filter, s_export_row, e, error,
                                    error_size);
    if (format == EXPORT_JSON)
        fputs(e->count ? "\n]\n" : "]\n", out);
    if (count)
        *count = e->count;
    free(e);
    return rc == 0 ? 0 : -1;
}
