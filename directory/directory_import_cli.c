/* sdx-directory import: options, progress line and report. */
#include "directory_import_cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "directory_cli.h"

#define PROGRAM "sdx-directory"

/* Largest --batch: a batch is one transaction, whose pages sqlite keeps
 * in its cache or spills to the WAL until the commit. */
#define S_MAX_BATCH 10000000

const char directory_import_usage[] =
    "Usage: " PROGRAM " import --db FILE [--suppliers CSV]\n"
    "           [--supply-points CSV] [--registrations CSV]\n"
    "           [--rejects FILE] [--batch ROWS]\n"
    "\n"
    "Imports a national register from the CSV files that load takes, read\n"
    "in the same order, in batches of ROWS rows that each commit in one\n"
    "transaction. If the import stops (a crash, kill -9, a full disk), the\n"
    "database keeps the batches committed before: run the same command\n"
    "again to complete it. A row the database already holds is counted as\n"
    "already present and changes nothing, so a repeated import adds no\n"
    "rows and records no change.\n"
    "\n"
    "On a terminal, stderr shows a progress line with the rows done, rows\n"
    "per second and the estimated time left. At the end, stdout gets the\n"
    "rows added, updated, already present and rejected, per file and in\n"
    "total, and the rejected rows by reason. Exits 1 if any row was\n"
    "rejected.\n"
    "\n"
    "  --db FILE            database made by '" PROGRAM " init'\n"
    "  --suppliers CSV      mpid,name,endpoint,curve_key,sign_key\n"
    "  --supply-points CSV  mpxn,fuel,meter_id,smart,installing,head_end\n"
    "  --registrations CSV  mpxn,supplier,from,to\n"
    "  --rejects FILE       write each rejected row to FILE as CSV with the\n"
    "                       header file,line,reason,message,raw; without\n"
    "                       it, each is reported on stderr as\n"
    "                       FILE:LINE: message\n"
    "  --batch ROWS         rows per transaction (default 50000)\n"
    "\n"
    "Reasons: check_digit (MPAN or MPRN), unknown_supplier,\n"
    "unknown_supply_point, overlap (of registration periods),\n"
    "end_before_start, duplicate (the key of a row on an earlier line of\n"
    "the same file), invalid_value and malformed (broken CSV or a wrong\n"
    "number of fields). See '" PROGRAM " load --help' for the columns.\n";

static int s_parse_batch(const char *text, size_t *rows)
{
    if (!text) {
        *rows = DIRECTORY_IMPORT_DEFAULT_BATCH;
        return 0;
    }
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno || value < 1 ||
        value > S_MAX_BATCH)
        return -1;
    *rows = (size_t)value;
    return 0;
}

static double s_seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void s_print_counts(const char *name,
                           const directory_import_counts_t *counts)
{
    printf("%s: %llu added, %llu updated, %llu already present, %llu "
           "rejected\n",
           name, (unsigned long long)counts->added,
           (unsigned long long)counts->updated,
           (unsigned long long)counts->present,
           (unsigned long long)directory_import_rejected(counts));
}

static void s_print_report(const char *const paths[DIRECTORY_TABLE_COUNT],
                           const directory_import_report_t *report,
                           double seconds, const char *rejects_path)
{
    for (int i = 0; i < DIRECTORY_TABLE_COUNT; i++)
        if (paths[i])
            s_print_counts(paths[i], &report->tables[i]);
    const directory_import_counts_t *total = &report->total;
    printf("imported %llu rows in %.1f s (%.0f rows/s), %llu batches\n",
           (unsigned long long)report->rows, seconds,
           seconds > 0 ? (double)report->rows / seconds : 0.0,
           (unsigned long long)report->batches);
    printf("loaded %llu rows: %llu added, %llu updated, %llu already "
           "present\n",
           (unsigned long long)(total->added + total->updated + total->present),
           (unsigned long long)total->added, (unsigned long long)total->updated,
           (unsigned long long)total->present);
    uint64_t rejected = directory_import_rejected(total);
    if (rejected == 0) {
        printf("rejected 0 rows\n");
        return;
    }
    printf("rejected %llu rows, by reason%s%s%s:\n",
           (unsigned long long)rejected, rejects_path ? " (listed in " : "",
           rejects_path ? rejects_path : "", rejects_path ? ")" : "");
    for (int i = 0; i < DIRECTORY_REJECT_COUNT; i++)
        printf("  %-34s %llu\n", directory_reject_label(i),
               (unsigned long long)total->rejected[i]);
}

static FILE *s_open_rejects(const char *path)
{
    FILE *file = fopen(path, "w");
    if (!file) {
        fprintf(stderr,
                PROGRAM " import: cannot create rejects file '%s': "
                        "%s\n",
                path, strerror(errno));
        return NULL;
    }
    fputs("file,line,reason,message,raw\n", file);
    return file;
}

/* Closes the rejects file; returns -1 after reporting a write failure. */
static int s_close_rejects(FILE *file, const char *path)
{
    if (!file)
        return 0;
    bool failed = ferror(file) != 0;
    failed = fclose(file) != 0 || failed;
    if (failed)
        fprintf(stderr,
                PROGRAM " import: writing rejects file '%s' failed: "
                        "%s\n",
                path, strerror(errno));
    return failed ? -1 : 0;
}

/* Runs the import with the database and rejects file open. Returns 0
 * when every file was read. */
static int s_import(directory_db_t *db,
                    const char *const paths[DIRECTORY_TABLE_COUNT],
                    FILE *rejects, size_t batch_rows,
                    directory_import_report_t *report, double *seconds)
{
    char error[1024];
    directory_import_options_t options = {.batch_rows = batch_rows,
                                          .rejects = rejects};
    memcpy(options.paths, paths, sizeof options.paths);
    options.progress = directory_progress_new(stderr);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = directory_db_tune_bulk(db, error, sizeof error);
    if (rc == 0)
        rc = directory_import_run(db, &options, report, error, sizeof error);
    *seconds = s_seconds_since(&start);
    directory_progress_destroy(&options.progress);
    if (rc != 0)
        fprintf(stderr,
                PROGRAM " import: %s; the import stopped there, and the "
                        "%llu batches committed before it are kept: run the "
                        "same import again to complete it\n",
                error, (unsigned long long)report->batches);
    return rc;
}

int directory_import_command(const char *db_path,
                             const char *const paths[DIRECTORY_TABLE_COUNT],
                             const char *rejects_path, const char *batch_text)
{
    size_t batch_rows;
    if (s_parse_batch(batch_text, &batch_rows) != 0) {
        fprintf(stderr,
                PROGRAM " import: invalid --batch '%s': use a whole number "
                        "of rows from 1 to %d\n",
                batch_text, S_MAX_BATCH);
        return DIRECTORY_EXIT_USAGE;
    }
    if (!paths[0] && !paths[1] && !paths[2]) {
        fprintf(stderr, PROGRAM " import: give at least one of --suppliers, "
                                "--supply-points or --registrations\n");
        return DIRECTORY_EXIT_USAGE;
    }
    char error[512];
    directory_db_t *db = directory_db_open(db_path, false, error, sizeof error);
    if (!db) {
        fprintf(stderr, PROGRAM ": %s\n", error);
        return DIRECTORY_EXIT_FAILED;
    }
    FILE *rejects = rejects_path ? s_open_rejects(rejects_path) : NULL;
    int rc = DIRECTORY_EXIT_FAILED;
    if (rejects || !rejects_path) {
        directory_import_report_t report;
        double seconds;
        int run = s_import(db, paths, rejects, batch_rows, &report, &seconds);
        s_print_report(paths, &report, seconds, rejects_path);
        bool clean = directory_import_rejected(&report.total) == 0;
        if (s_close_rejects(rejects, rejects_path) == 0 && run == 0 && clean)
            rc = DIRECTORY_EXIT_OK;
    }
    directory_db_destroy(&db);
    return rc;
}
