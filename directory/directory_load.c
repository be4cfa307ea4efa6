/* CSV file loading: header check, row loop, report and change log. */
#include "directory_load.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "clock.h"
#include "directory_csv.h"
#include "directory_rows.h"

typedef directory_row_result_t (*s_row_handler_t)(directory_db_t *db,
                                                  const char *const *fields,
                                                  char *reason,
                                                  size_t reason_size);

typedef struct {
    const char *header;
    size_t field_count;
    s_row_handler_t handler;
} s_table_t;

static const s_table_t s_tables[] = {
    [DIRECTORY_SUPPLIERS] = {"mpid,name,endpoint,curve_key,sign_key", 5,
                             directory_row_supplier},
    [DIRECTORY_SUPPLY_POINTS] = {"mpxn,fuel,meter_id,smart,installing,"
                                 "head_end",
                                 6, directory_row_supply_point},
    [DIRECTORY_REGISTRATIONS] = {"mpxn,supplier,from,to", 4,
                                 directory_row_registration},
};

const char *directory_load_header(directory_table_t table)
{
    return s_tables[table].header;
}

/* Joins the current record's fields with commas, for comparison with the
 * expected header. */
static void s_join_fields(const csv_reader_t *reader, char *out,
                          size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < csv_reader_field_count(reader); i++) {
        int written = snprintf(out + used, out_size - used, "%s%s",
                               i ? "," : "", csv_reader_field(reader, i));
        if (written < 0 || (size_t)written >= out_size - used)
            return;
        used += (size_t)written;
    }
}

static int s_check_header(csv_reader_t *reader, const s_table_t *table,
                          char *error, size_t error_size)
{
    char reason[256];
    int rc = csv_reader_next(reader, reason, sizeof reason);
    if (rc == 0) {
        snprintf(error, error_size,
                 "%s: file is empty, expected the header row '%s'",
                 csv_reader_name(reader), table->header);
        return -1;
    }
    if (rc < 0) {
        snprintf(error, error_size, "%s:%zu: %s", csv_reader_name(reader),
                 csv_reader_line(reader), reason);
        return -1;
    }
    char found[512];
    s_join_fields(reader, found, sizeof found);
    if (strcmp(found, table->header) != 0) {
        snprintf(error, error_size,
                 "%s:%zu: expected the header row '%s', found '%.128s'",
                 csv_reader_name(reader), csv_reader_line(reader),
                 table->header, found);
        return -1;
    }
    return 0;
}

static void s_report(FILE *report, const csv_reader_t *reader,
                     const char *reason)
{
    if (report)
        fprintf(report, "%s:%zu: %s\n", csv_reader_name(reader),
                csv_reader_line(reader), reason);
}

static void s_count(directory_load_counts_t *counts,
                    directory_row_result_t result)
{
    if (result == ROW_ADDED)
        counts->added++;
    else if (result == ROW_UPDATED)
        counts->updated++;
    else if (result == ROW_UNCHANGED)
        counts->unchanged++;
    else
        counts->rejected++;
}

/* Checks the field count and hands the row to the table's handler. */
static directory_row_result_t s_load_row(directory_db_t *db,
                                         const s_table_t *table,
                                         const csv_reader_t *reader,
                                         char *reason, size_t reason_size)
{
    size_t count = csv_reader_field_count(reader);
    if (count != table->field_count) {
        snprintf(reason, reason_size, "expected %zu fields (%s), found %zu",
                 table->field_count, table->header, count);
        return ROW_REJECTED;
    }
    const char *fields[CSV_MAX_FIELDS];
    for (size_t i = 0; i < count; i++)
        fields[i] = csv_reader_field(reader, i);
    return table->handler(db, fields, reason, reason_size);
}

/* Reads every row after the header. Returns 0, or -1 when the database
 * or the file read failed. */
static int s_load_rows(directory_db_t *db, const s_table_t *table,
                       csv_reader_t *reader, FILE *report,
                       directory_load_counts_t *counts, char *error,
                       size_t error_size)
{
    char reason[512];
    int rc;
    while ((rc = csv_reader_next(reader, reason, sizeof reason)) != 0) {
        if (rc < 0 && csv_reader_failed(reader))
            break;
        directory_row_result_t result =
            rc < 0 ? ROW_REJECTED
                   : s_load_row(db, table, reader, reason, sizeof reason);
        if (result == ROW_FAILED) {
            snprintf(error, error_size, "%s:%zu: %s", csv_reader_name(reader),
                     csv_reader_line(reader), reason);
            return -1;
        }
        if (result == ROW_REJECTED)
            s_report(report, reader, reason);
        s_count(counts, result);
    }
    if (csv_reader_failed(reader)) {
        snprintf(error, error_size, "%s: %s", csv_reader_name(reader), reason);
        return -1;
    }
    return 0;
}

static int s_record_load(directory_db_t *db, const char *name,
                         const directory_load_counts_t *counts, char *error,
                         size_t error_size)
{
    if (counts->added == 0 && counts->updated == 0)
        return 0;
    char description[512];
    snprintf(description, sizeof description,
             "loaded %s: %zu added, %zu updated, %zu unchanged, "
             "%zu rejected",
             name, counts->added, counts->updated, counts->unchanged,
             counts->rejected);
    return directory_db_record_change(db, clock_now_ms(), "load", NULL,
                                      description, NULL, error, error_size);
}

static void s_add_counts(directory_load_counts_t *total,
                         const directory_load_counts_t *part)
{
    total->added += part->added;
    total->updated += part->updated;
    total->unchanged += part->unchanged;
    total->rejected += part->rejected;
}

static int s_load_reader(directory_db_t *db, directory_table_t table,
                         csv_reader_t *reader, FILE *report,
                         directory_load_counts_t *counts, char *error,
                         size_t error_size)
{
    const s_table_t *spec = &s_tables[table];
    directory_load_counts_t file_counts = {0};
    if (s_check_header(reader, spec, error, error_size) != 0)
        return -1;
    if (directory_db_begin(db, error, error_size) != 0)
        return -1;
    if (s_load_rows(db, spec, reader, report, &file_counts, error,
                    error_size) != 0 ||
        s_record_load(db, csv_reader_name(reader), &file_counts, error,
                      error_size) != 0 ||
        directory_db_commit(db, error, error_size) != 0) {
        directory_db_rollback(db);
        return -1;
    }
    s_add_counts(counts, &file_counts);
    return 0;
}

int directory_load_stream(directory_db_t *db, directory_table_t table,
                          FILE *file, const char *name, FILE *report,
                          directory_load_counts_t *counts, char *error,
                          size_t error_size)
{
    csv_reader_t *reader = csv_reader_new(file, name);
    if (!reader) {
        snprintf(error, error_size, "out of memory reading '%s'", name);
        return -1;
    }
    int rc =
        s_load_reader(db, table, reader, report, counts, error, error_size);
    csv_reader_destroy(&reader);
    return rc;
}

int directory_load_file(directory_db_t *db, directory_table_t table,
                        const char *path, FILE *report,
                        directory_load_counts_t *counts, char *error,
                        size_t error_size)
{
    csv_reader_t *reader = csv_reader_open(path, error, error_size);
    if (!reader)
        return -1;
    int rc =
        s_load_reader(db, table, reader, report, counts, error, error_size);
    csv_reader_destroy(&reader);
    return rc;
}
