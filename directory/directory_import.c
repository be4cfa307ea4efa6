/* Batched import of suppliers, supply points and registrations. */
#include "directory_import.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "dir_request.h"
#include "directory_csv.h"
#include "directory_csv_record.h"
#include "directory_rows.h"
#include "directory_seen.h"
#include "mpxn.h"

#define S_MESSAGE_SIZE 512

/* mpxn,supplier,from,to */
#define S_REGISTRATION_FIELDS 4

/* The progress line is updated every this many rows. */
#define S_PROGRESS_ROWS 256

static const struct {
    const char *code;
    const char *label;
} s_reasons[DIRECTORY_REJECT_COUNT] = {
    [DIRECTORY_REJECT_CHECK_DIGIT] = {"check_digit",
                                      "invalid MPAN or MPRN check digit"},
    [DIRECTORY_REJECT_UNKNOWN_SUPPLIER] = {"unknown_supplier",
                                           "unknown supplier"},
    [DIRECTORY_REJECT_UNKNOWN_SUPPLY_POINT] = {"unknown_supply_point",
                                               "unknown supply point"},
    [DIRECTORY_REJECT_OVERLAP] = {"overlap",
                                  "overlapping registration periods"},
    [DIRECTORY_REJECT_END_BEFORE_START] = {"end_before_start",
                                           "end before start"},
    [DIRECTORY_REJECT_DUPLICATE] = {"duplicate", "duplicate"},
    [DIRECTORY_REJECT_INVALID_VALUE] = {"invalid_value", "invalid value"},
    [DIRECTORY_REJECT_MALFORMED] = {"malformed", "malformed row"},
};

const char *directory_reject_code(directory_reject_t reason)
{
    assert(reason < DIRECTORY_REJECT_COUNT);
    return s_reasons[reason].code;
}

const char *directory_reject_label(directory_reject_t reason)
{
    assert(reason < DIRECTORY_REJECT_COUNT);
    return s_reasons[reason].label;
}

uint64_t directory_import_rejected(const directory_import_counts_t *counts)
{
    uint64_t total = 0;
    for (int i = 0; i < DIRECTORY_REJECT_COUNT; i++)
        total += counts->rejected[i];
    return total;
}

/* What became of one row. S_FAILED means the database failed. */
typedef enum {
    S_ADDED,
    S_UPDATED,
    S_PRESENT,
    S_REJECTED,
    S_FAILED
} s_outcome_t;

/* The row being handled and, once rejected or failed, why. */
typedef struct {
    const char *const *fields;
    size_t line;
    directory_reject_t reason;
    char message[S_MESSAGE_SIZE];
} s_row_t;

/* A registration rejected for overlap, held until the rest of its file is
 * imported because a later row may end the registration it overlaps. */
typedef struct {
    size_t line;
    char *fields[S_REGISTRATION_FIELDS];
    char *raw;
} s_held_row_t;

typedef struct {
    directory_db_t *db;
    const directory_import_options_t *options;
    directory_import_report_t *report;
    directory_seen_t *seen;
    size_t batch_rows;
    uint64_t rows_read;

    /* MPIDs known to be in the suppliers table, sorted by strcmp. */
    char (*suppliers)[DIR_MPID_SIZE];
    size_t supplier_count;
    size_t supplier_capacity;

    /* The file being read. */
    directory_table_t table;
    csv_record_reader_t *reader;
    uint64_t bytes_before; /* bytes of the files read before it */
    s_held_row_t *held;    /* its overlapping rows, in file order */
    size_t held_count;
    size_t held_capacity;

    /* The batch in flight. */
    bool in_batch;
    bool batch_is_retry; /* the batch that retries the held rows */
    size_t batch_size;   /* rows read from the file in the batch */
    size_t batch_first_line;
    size_t batch_last_line;
    directory_import_counts_t batch;
} s_import_t;

static s_outcome_t s_reject(s_row_t *row, directory_reject_t reason,
                            const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static s_outcome_t s_reject(s_row_t *row, directory_reject_t reason,
                            const char *format, ...)
{
    row->reason = reason;
    va_list args;
    va_start(args, format);
    vsnprintf(row->message, sizeof row->message, format, args);
    va_end(args);
    return S_REJECTED;
}

/* Returns S_REJECTED for rc 0 and S_FAILED for rc -1, the results of the
 * s_check_* and s_claim_* helpers. */
static s_outcome_t s_stopped(int rc)
{
    assert(rc <= 0);
    return rc < 0 ? S_FAILED : S_REJECTED;
}

/* Known suppliers */

static int s_compare_mpid(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool s_cached_supplier(const s_import_t *self, const char *mpid)
{
    return self->supplier_count > 0 &&
           bsearch(mpid, self->suppliers, self->supplier_count,
                   sizeof *self->suppliers, s_compare_mpid) != NULL;
}

/* Adds mpid to the sorted cache. Returns 0, or -1 when out of memory. */
static int s_remember_supplier(s_import_t *self, const char *mpid)
{
    if (self->supplier_count == self->supplier_capacity) {
        size_t capacity =
            self->supplier_capacity ? 2 * self->supplier_capacity : 64;
        void *grown =
            realloc(self->suppliers, capacity * sizeof *self->suppliers);
        if (!grown)
            return -1;
        self->suppliers = grown;
        self->supplier_capacity = capacity;
    }
    size_t at = 0;
    while (at < self->supplier_count && strcmp(self->suppliers[at], mpid) < 0)
        at++;
    memmove(&self->suppliers[at + 1], &self->suppliers[at],
            (self->supplier_count - at) * sizeof *self->suppliers);
    memcpy(self->suppliers[at], mpid, DIR_MPID_SIZE);
    self->supplier_count++;
    return 0;
}

/* Fills the cache from the suppliers table, before a file whose rows name
 * suppliers. */
static int s_load_suppliers(s_import_t *self, char *error, size_t error_size)
{
    dir_supplier_t *list;
    size_t count;
    if (directory_db_list_suppliers(self->db, &list, &count, error,
                                    error_size) != 0)
        return -1;
    self->supplier_count = 0;
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = s_remember_supplier(self, list[i].mpid);
    free(list);
    if (rc != 0)
        snprintf(error, error_size, "out of memory for the supplier list");
    return rc;
}

/* Checks that mpid names a supplier in the database. Returns 1 when it
 * does, 0 when the row is rejected, -1 when the database failed. */
static int s_check_supplier(s_import_t *self, s_row_t *row, const char *what,
                            const char *mpid)
{
    if (!dir_mpid_is_valid(mpid)) {
        s_reject(row, DIRECTORY_REJECT_INVALID_VALUE,
                 "invalid %s '%.64s': use 4 upper-case letters or digits", what,
                 mpid);
        return 0;
    }
    if (s_cached_supplier(self, mpid))
        return 1;
    /* Another process may have loaded it since the file started. */
    dir_supplier_t supplier;
    int found = directory_db_get_supplier(self->db, mpid, &supplier,
                                          row->message, sizeof row->message);
    if (found == 0)
        s_reject(row, DIRECTORY_REJECT_UNKNOWN_SUPPLIER,
                 "unknown %s '%s': add it to the suppliers file first", what,
                 mpid);
    if (found == 1 && s_remember_supplier(self, mpid) != 0) {
        snprintf(row->message, sizeof row->message,
                 "out of memory for the supplier list");
        return -1;
    }
    return found;
}

/* Row checks */

static bool s_check_mpxn(s_row_t *row, const char *mpxn)
{
    if (mpxn_classify(mpxn, row->message, sizeof row->message) != MPXN_INVALID)
        return true;
    size_t length = strlen(mpxn);
    bool digits = length > 0 && strspn(mpxn, "0123456789") == length;
    bool has_check_digit = length == 13 || (length >= 6 && length <= 10);
    row->reason = digits && has_check_digit ? DIRECTORY_REJECT_CHECK_DIGIT
                                            : DIRECTORY_REJECT_INVALID_VALUE;
    return false;
}

/* Claims the row's key in the import's key set, rejecting the row as a
 * duplicate when an earlier row had it. Returns 1, 0 or -1 as
 * s_check_supplier does. */
static int s_claim_key(s_import_t *self, s_row_t *row, int64_t first,
                       int64_t second)
{
    size_t earlier = 0;
    int added = directory_seen_add(self->seen, first, second, row->line,
                                   &earlier, row->message, sizeof row->message);
    if (added != 0)
        return added;
    const char *key = row->fields[0];
    if (self->table == DIRECTORY_REGISTRATIONS) {
        char from[CLOCK_ISO_SIZE];
        s_reject(row, DIRECTORY_REJECT_DUPLICATE,
                 "the registration of %s from %s is already on line %zu of "
                 "this file",
                 key, clock_format_iso(second, from), earlier);
    } else
        s_reject(row, DIRECTORY_REJECT_DUPLICATE,
                 "%s %s is already on line %zu of this file",
                 self->table == DIRECTORY_SUPPLIERS ? "supplier"
                                                    : "supply point",
                 key, earlier);
    return 0;
}

/* Gives back the key of a row rejected after s_claim_key, so that only
 * rows in the database count for duplicates. */
static s_outcome_t s_release_key(s_import_t *self, s_row_t *row, int64_t first,
                                 int64_t second, s_outcome_t outcome)
{
    if (outcome == S_REJECTED &&
        directory_seen_remove(self->seen, first, second, row->message,
                              sizeof row->message) != 0)
        return S_FAILED;
    return outcome;
}

static s_outcome_t s_outcome_of(directory_row_result_t result, s_row_t *row)
{
    switch (result) {
    case ROW_ADDED:
        return S_ADDED;
    case ROW_UPDATED:
        return S_UPDATED;
    case ROW_UNCHANGED:
        return S_PRESENT;
    case ROW_REJECTED:
        row->reason = DIRECTORY_REJECT_INVALID_VALUE;
        return S_REJECTED;
    default:
        return S_FAILED;
    }
}

/* Suppliers and supply points */

static int64_t s_mpid_code(const char *mpid)
{
    int64_t code = 0;
    for (int i = 0; i < DIR_MPID_SIZE - 1; i++)
        code = code << 8 | (unsigned char)mpid[i];
    return code;
}

static s_outcome_t s_supplier_row(s_import_t *self, s_row_t *row)
{
    const char *mpid = row->fields[0];
    if (!dir_mpid_is_valid(mpid))
        return s_reject(row, DIRECTORY_REJECT_INVALID_VALUE,
                        "invalid MPID '%.64s': use 4 upper-case letters or "
                        "digits",
                        mpid);
    int64_t key = s_mpid_code(mpid);
    int claimed = s_claim_key(self, row, key, 0);
    if (claimed <= 0)
        return s_stopped(claimed);
    directory_row_result_t result = directory_row_supplier(
        self->db, row->fields, row->message, sizeof row->message);
    return s_release_key(self, row, key, 0, s_outcome_of(result, row));
}

static s_outcome_t s_supply_point_row(s_import_t *self, s_row_t *row)
{
    const char *mpxn = row->fields[0];
    if (!s_check_mpxn(row, mpxn))
        return S_REJECTED;
    int64_t key = directory_seen_mpxn_code(mpxn);
    int claimed = s_claim_key(self, row, key, 0);
    if (claimed <= 0)
        return s_stopped(claimed);

    s_outcome_t outcome;
    int known =
        s_check_supplier(self, row, "installing supplier", row->fields[4]);
    if (known <= 0)
        outcome = s_stopped(known);
    else
        outcome = s_outcome_of(directory_row_supply_point(self->db, row->fields,
                                                          row->message,
                                                          sizeof row->message),
                               row);
    return s_release_key(self, row, key, 0, outcome);
}

/* Registrations */

static bool s_parse_time(s_row_t *row, const char *what, const char *text,
                         int64_t *ms)
{
    if (clock_parse_iso(text, ms) == 0)
        return true;
    s_reject(row, DIRECTORY_REJECT_INVALID_VALUE,
             "invalid %s '%.64s': use an ISO 8601 UTC time such as "
             "2013-07-01 or 2013-07-01T00:00:00Z",
             what, text);
    return false;
}

static bool s_parse_period(s_row_t *row, const char *from, const char *to,
                           dir_registration_t *period)
{
    if (!s_parse_time(row, "start", from, &period->from_ms))
        return false;
    period->to_ms = DIR_OPEN_END;
    if (to[0] != '\0' && !s_parse_time(row, "end", to, &period->to_ms))
        return false;
    if (period->to_ms > period->from_ms)
        return true;
    char start[CLOCK_ISO_SIZE], end[CLOCK_ISO_SIZE];
    s_reject(row, DIRECTORY_REJECT_END_BEFORE_START,
             "end %s is not after start %s",
             clock_format_iso(period->to_ms, end),
             clock_format_iso(period->from_ms, start));
    return false;
}

static int s_check_supply_point(s_import_t *self, s_row_t *row,
                                const char *mpxn)
{
    dir_supply_point_t point;
    int found = directory_db_get_supply_point(
        self->db, mpxn, &point, row->message, sizeof row->message);
    if (found == 0)
        s_reject(row, DIRECTORY_REJECT_UNKNOWN_SUPPLY_POINT,
                 "unknown supply point '%s': add it to the supply points "
                 "file first",
                 mpxn);
    return found;
}

static s_outcome_t s_reject_overlap(s_row_t *row, const char *mpxn,
                                    const dir_registration_t *period,
                                    const dir_registration_t *other)
{
    char mine[2 * CLOCK_ISO_SIZE + 16], theirs[2 * CLOCK_ISO_SIZE + 16];
    directory_format_period(period, mine, sizeof mine);
    directory_format_period(other, theirs, sizeof theirs);
    return s_reject(row, DIRECTORY_REJECT_OVERLAP,
                    "registration of %s to %s for %s overlaps its "
                    "registration to %s for %s",
                    mpxn, period->supplier, mine, other->supplier, theirs);
}

/* Stores a checked registration: a new one, or a new end for the one with
 * the same supplier and start. The database contains no two overlapping
 * registrations, so when the earliest registration that overlaps the row
 * is not the row's own, the row is rejected. */
static s_outcome_t s_store_registration(s_import_t *self, s_row_t *row,
                                        const char *mpxn,
                                        const dir_registration_t *period)
{
    dir_registration_t other;
    int overlap = directory_db_find_overlap(self->db, mpxn, period->from_ms,
                                            period->to_ms, INT64_MIN, &other,
                                            row->message, sizeof row->message);
    if (overlap < 0)
        return S_FAILED;
    if (overlap == 0) {
        if (directory_db_insert_registration(
                self->db, mpxn, period, row->message, sizeof row->message) != 0)
            return S_FAILED;
        return S_ADDED;
    }
    bool same_start = other.from_ms == period->from_ms &&
                      strcmp(other.supplier, period->supplier) == 0;
    if (!same_start)
        return s_reject_overlap(row, mpxn, period, &other);
    if (other.to_ms == period->to_ms)
        return S_PRESENT;

    /* A new end for the registration: check it against the others. */
    overlap = directory_db_find_overlap(self->db, mpxn, period->from_ms,
                                        period->to_ms, period->from_ms, &other,
                                        row->message, sizeof row->message);
    if (overlap < 0)
        return S_FAILED;
    if (overlap == 1)
        return s_reject_overlap(row, mpxn, period, &other);
    if (directory_db_set_registration_end(self->db, mpxn, period->from_ms,
                                          period->to_ms, row->message,
                                          sizeof row->message) != 0)
        return S_FAILED;
    return S_UPDATED;
}

static s_outcome_t s_registration_row(s_import_t *self, s_row_t *row)
{
    const char *mpxn = row->fields[0];
    if (!s_check_mpxn(row, mpxn))
        return S_REJECTED;
    int known = s_check_supply_point(self, row, mpxn);
    if (known <= 0)
        return s_stopped(known);
    known = s_check_supplier(self, row, "supplier", row->fields[1]);
    if (known <= 0)
        return s_stopped(known);
    dir_registration_t period;
    memset(&period, 0, sizeof period);
    memcpy(period.supplier, row->fields[1], DIR_MPID_SIZE);
    if (!s_parse_period(row, row->fields[2], row->fields[3], &period))
        return S_REJECTED;

    int64_t key = directory_seen_mpxn_code(mpxn);
    int claimed = s_claim_key(self, row, key, period.from_ms);
    if (claimed <= 0)
        return s_stopped(claimed);
    s_outcome_t outcome = s_store_registration(self, row, mpxn, &period);
    return s_release_key(self, row, key, period.from_ms, outcome);
}

/* Records */

typedef s_outcome_t (*s_row_handler_t)(s_import_t *self, s_row_t *row);

static const struct {
    size_t field_count;
    s_row_handler_t handler;
} s_tables[DIRECTORY_TABLE_COUNT] = {
    [DIRECTORY_SUPPLIERS] = {5, s_supplier_row},
    [DIRECTORY_SUPPLY_POINTS] = {6, s_supply_point_row},
    [DIRECTORY_REGISTRATIONS] = {S_REGISTRATION_FIELDS, s_registration_row},
};

/* Handles the record that csv_record_reader_next returned rc for. */
static s_outcome_t s_handle_record(s_import_t *self, int rc,
                                   const char *reader_error, s_row_t *row)
{
    if (rc < 0)
        return s_reject(row, DIRECTORY_REJECT_MALFORMED, "%s", reader_error);
    size_t count = csv_record_reader_field_count(self->reader);
    size_t expected = s_tables[self->table].field_count;
    if (count != expected)
        return s_reject(row, DIRECTORY_REJECT_MALFORMED,
                        "expected %zu fields (%s), found %zu", expected,
                        directory_load_header(self->table), count);
    const char *fields[CSV_MAX_FIELDS];
    for (size_t i = 0; i < count; i++)
        fields[i] = csv_record_reader_field(self->reader, i);
    row->fields = fields;
    s_outcome_t outcome = s_tables[self->table].handler(self, row);
    row->fields = NULL;
    return outcome;
}

/* Writes text as one CSV field, quoted when it needs to be. */
static void s_write_field(FILE *out, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, out);
        return;
    }
    putc('"', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            putc('"', out);
        putc(*c, out);
    }
    putc('"', out);
}

static void s_write_reject(s_import_t *self, const s_row_t *row,
                           const char *raw)
{
    const char *name = csv_record_reader_name(self->reader);
    FILE *out = self->options->rejects;
    if (!out) {
        directory_progress_clear(self->options->progress);
        fprintf(stderr, "%s:%zu: %s\n", name, row->line, row->message);
        return;
    }
    s_write_field(out, name);
    fprintf(out, ",%zu,%s,", row->line, directory_reject_code(row->reason));
    s_write_field(out, row->message);
    putc(',', out);
    s_write_field(out, raw);
    putc('\n', out);
}

static void s_count(directory_import_counts_t *counts, s_outcome_t outcome,
                    directory_reject_t reason)
{
    if (outcome == S_ADDED)
        counts->added++;
    else if (outcome == S_UPDATED)
        counts->updated++;
    else if (outcome == S_PRESENT)
        counts->present++;
    else
        counts->rejected[reason]++;
}

static void s_add_counts(directory_import_counts_t *total,
                         const directory_import_counts_t *part)
{
    total->added += part->added;
    total->updated += part->updated;
    total->present += part->present;
    for (int i = 0; i < DIRECTORY_REJECT_COUNT; i++)
        total->rejected[i] += part->rejected[i];
}

/* Batches */

static int s_begin_batch(s_import_t *self, size_t line, char *error,
                         size_t error_size)
{
    if (directory_db_begin(self->db, error, error_size) != 0)
        return -1;
    self->in_batch = true;
    self->batch_is_retry = false;
    self->batch_size = 0;
    self->batch_first_line = line;
    memset(&self->batch, 0, sizeof self->batch);
    return 0;
}

/* Records the batch in the change log when it changed anything, and
 * commits it. On failure the caller rolls back. */
static int s_commit_batch(s_import_t *self, char *error, size_t error_size)
{
    const directory_import_counts_t *batch = &self->batch;
    if (batch->added > 0 || batch->updated > 0) {
        char description[512];
        snprintf(description, sizeof description,
                 "%s %s lines %zu to %zu: %llu added, %llu updated, "
                 "%llu already present, %llu rejected",
                 self->batch_is_retry ? "retried overlapping rows of"
                                      : "imported",
                 csv_record_reader_name(self->reader), self->batch_first_line,
                 self->batch_last_line, (unsigned long long)batch->added,
                 (unsigned long long)batch->updated,
                 (unsigned long long)batch->present,
                 (unsigned long long)directory_import_rejected(batch));
        if (directory_db_record_change(self->db, clock_now_ms(), "load", NULL,
                                       description, NULL, error,
                                       error_size) != 0)
            return -1;
    }
    if (directory_db_commit(self->db, error, error_size) != 0)
        return -1;
    self->in_batch = false;
    s_add_counts(&self->report->tables[self->table], batch);
    s_add_counts(&self->report->total, batch);
    self->report->rows += self->batch_size;
    self->report->batches++;
    /* After a crash, the rejects file then lists at least the rejected
     * rows of the committed batches. */
    if (self->options->rejects)
        fflush(self->options->rejects);
    return 0;
}

/* Held rows */

static void s_free_held(s_import_t *self)
{
    for (size_t i = 0; i < self->held_count; i++) {
        for (size_t f = 0; f < S_REGISTRATION_FIELDS; f++)
            free(self->held[i].fields[f]);
        free(self->held[i].raw);
    }
    free(self->held);
    self->held = NULL;
    self->held_count = 0;
    self->held_capacity = 0;
}

/* Copies the current record, a registration, to the held rows. Returns 0,
 * or -1 when out of memory. */
static int s_hold_row(s_import_t *self, size_t line)
{
    if (self->held_count == self->held_capacity) {
        size_t capacity = self->held_capacity ? 2 * self->held_capacity : 16;
        void *grown = realloc(self->held, capacity * sizeof *self->held);
        if (!grown)
            return -1;
        self->held = grown;
        self->held_capacity = capacity;
    }
    s_held_row_t *held = &self->held[self->held_count];
    memset(held, 0, sizeof *held);
    held->line = line;
    self->held_count++;
    assert(csv_record_reader_field_count(self->reader) ==
           S_REGISTRATION_FIELDS);
    bool copied = true;
    for (size_t f = 0; f < S_REGISTRATION_FIELDS; f++) {
        held->fields[f] = strdup(csv_record_reader_field(self->reader, f));
        copied = copied && held->fields[f];
    }
    held->raw = strdup(csv_record_reader_raw(self->reader));
    return copied && held->raw ? 0 : -1;
}

/* Imports the held rows again, in file order, in one batch of their own.
 * Rows that are rejected again are written out and counted then. */
static int s_retry_held(s_import_t *self, char *error, size_t error_size)
{
    if (self->held_count == 0)
        return 0;
    const char *name = csv_record_reader_name(self->reader);
    if (s_begin_batch(self, self->held[0].line, error, error_size) != 0)
        return -1;
    self->batch_is_retry = true;
    for (size_t i = 0; i < self->held_count; i++) {
        const s_held_row_t *held = &self->held[i];
        s_row_t row = {.line = held->line,
                       .fields = (const char *const *)held->fields};
        s_outcome_t outcome = s_registration_row(self, &row);
        if (outcome == S_FAILED) {
            snprintf(error, error_size, "%s:%zu: %s", name, row.line,
                     row.message);
            return -1;
        }
        if (outcome == S_REJECTED)
            s_write_reject(self, &row, held->raw);
        s_count(&self->batch, outcome, row.reason);
        self->batch_last_line = row.line;
    }
    return s_commit_batch(self, error, error_size);
}

/* Handles the next record, in a batch. Returns 1 after a record, 0 at the
 * end of the file, -1 with error when reading or the database failed. */
static int s_import_record(s_import_t *self, char *error, size_t error_size)
{
    char reader_error[S_MESSAGE_SIZE];
    const char *name = csv_record_reader_name(self->reader);
    int rc =
        csv_record_reader_next(self->reader, reader_error, sizeof reader_error);
    if (rc == 0)
        return 0;
    if (rc < 0 && csv_record_reader_failed(self->reader)) {
        snprintf(error, error_size, "%s: %s", name, reader_error);
        return -1;
    }
    s_row_t row = {.line = csv_record_reader_line(self->reader)};
    if (!self->in_batch &&
        s_begin_batch(self, row.line, error, error_size) != 0)
        return -1;
    s_outcome_t outcome = s_handle_record(self, rc, reader_error, &row);
    if (outcome == S_FAILED) {
        snprintf(error, error_size, "%s:%zu: %s", name, row.line, row.message);
        return -1;
    }
    if (outcome == S_REJECTED && row.reason == DIRECTORY_REJECT_OVERLAP) {
        if (s_hold_row(self, row.line) != 0) {
            snprintf(error, error_size,
                     "%s:%zu: out of memory for the rows to retry", name,
                     row.line);
            return -1;
        }
    } else {
        if (outcome == S_REJECTED)
            s_write_reject(self, &row, csv_record_reader_raw(self->reader));
        s_count(&self->batch, outcome, row.reason);
    }
    self->batch_size++;
    self->batch_last_line = row.line;
    self->rows_read++;
    return 1;
}

static int s_import_rows(s_import_t *self, char *error, size_t error_size)
{
    int rc;
    while ((rc = s_import_record(self, error, error_size)) == 1) {
        if (self->batch_size >= self->batch_rows &&
            s_commit_batch(self, error, error_size) != 0)
            return -1;
        if (self->rows_read % S_PROGRESS_ROWS == 0)
            directory_progress_update(
                self->options->progress, self->rows_read,
                self->bytes_before + csv_record_reader_bytes(self->reader));
    }
    if (rc < 0)
        return -1;
    if (self->in_batch)
        return s_commit_batch(self, error, error_size);
    return 0;
}

/* Joins the current record's fields with commas, for comparison with the
 * expected header. */
static void s_join_fields(const csv_record_reader_t *reader, char *out,
                          size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < csv_record_reader_field_count(reader); i++) {
        int written =
            snprintf(out + used, out_size - used, "%s%s", i ? "," : "",
                     csv_record_reader_field(reader, i));
        if (written < 0 || (size_t)written >= out_size - used)
            return;
        used += (size_t)written;
    }
}

static int s_check_header(s_import_t *self, char *error, size_t error_size)
{
    const char *header = directory_load_header(self->table);
    const char *name = csv_record_reader_name(self->reader);
    char reason[S_MESSAGE_SIZE];
    int rc = csv_record_reader_next(self->reader, reason, sizeof reason);
    size_t line = csv_record_reader_line(self->reader);
    if (rc == 0) {
        snprintf(error, error_size,
                 "%s: file is empty, expected the header row '%s'", name,
                 header);
        return -1;
    }
    if (rc < 0) {
        snprintf(error, error_size, "%s:%zu: %s", name, line, reason);
        return -1;
    }
    char found[512];
    s_join_fields(self->reader, found, sizeof found);
    if (strcmp(found, header) != 0) {
        snprintf(error, error_size,
                 "%s:%zu: expected the header row '%s', found '%.128s'", name,
                 line, header, found);
        return -1;
    }
    return 0;
}

static int s_import_file(s_import_t *self, directory_table_t table,
                         const char *path, char *error, size_t error_size)
{
    self->table = table;
    self->reader = csv_record_reader_open(path, error, error_size);
    if (!self->reader)
        return -1;
    int rc = s_check_header(self, error, error_size);
    if (rc == 0)
        rc = directory_seen_clear(self->seen, error, error_size);
    if (rc == 0 && table != DIRECTORY_SUPPLIERS)
        rc = s_load_suppliers(self, error, error_size);
    if (rc == 0)
        rc = s_import_rows(self, error, error_size);
    if (rc == 0)
        rc = s_retry_held(self, error, error_size);
    s_free_held(self);
    if (rc != 0 && self->in_batch) {
        directory_db_rollback(self->db);
        self->in_batch = false;
    }
    self->bytes_before += csv_record_reader_bytes(self->reader);
    csv_record_reader_destroy(&self->reader);
    return rc;
}

/* Sums the sizes of the input files, for the estimate of the time left.
 * A file that cannot be read counts 0 here, and fails when it is read. */
static uint64_t s_total_bytes(const directory_import_options_t *options)
{
    uint64_t total = 0;
    for (int i = 0; i < DIRECTORY_TABLE_COUNT; i++) {
        struct stat info;
        if (options->paths[i] && stat(options->paths[i], &info) == 0 &&
            S_ISREG(info.st_mode))
            total += (uint64_t)info.st_size;
    }
    return total;
}

int directory_import_run(directory_db_t *db,
                         const directory_import_options_t *options,
                         directory_import_report_t *report, char *error,
                         size_t error_size)
{
    assert(db);
    assert(options);
    assert(report);
    memset(report, 0, sizeof *report);
    s_import_t self = {.db = db,
                       .options = options,
                       .report = report,
                       .batch_rows = options->batch_rows
                                         ? options->batch_rows
                                         : DIRECTORY_IMPORT_DEFAULT_BATCH};
    self.seen = directory_seen_new(error, error_size);
    if (!self.seen)
        return -1;
    if (options->progress)
        directory_progress_set_total(options->progress, s_total_bytes(options));
    int rc = 0;
    for (int table = 0; table < DIRECTORY_TABLE_COUNT && rc == 0; table++)
        if (options->paths[table])
            rc = s_import_file(&self, (directory_table_t)table,
                               options->paths[table], error, error_size);
    directory_progress_clear(options->progress);
    directory_seen_destroy(&self.seen);
    free(self.suppliers);
    return rc;
}
