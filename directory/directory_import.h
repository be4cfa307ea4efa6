/* Bulk import of the national register: suppliers, supply points and
 * registrations from CSV files with the headers that load takes (see
 * directory_load.h), in batches of rows that each commit in one
 * transaction.
 *
 * A crash leaves the database at the last committed batch, and running
 * the same import again completes it. A row that the database already
 * contains as it is counts as already present and changes nothing, so a
 * re-run adds no change-log entries. Each committed batch that added or updated
 * rows records one "load" entry in the change log.
 *
 * Rejected rows are counted by reason and written out with their file,
 * line and raw text. A registration that overlaps another is held, because
 * a later row of its file may end the other one, and retried once after
 * the rest of the file in a batch of its own. So the first run stores what
 * a re-run would, and rows that still overlap are written out last.
 */
#ifndef SDX_DIRECTORY_IMPORT_H
#define SDX_DIRECTORY_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "directory_db.h"
#include "directory_load.h"
#include "directory_progress.h"

#define DIRECTORY_TABLE_COUNT          3
#define DIRECTORY_IMPORT_DEFAULT_BATCH 50000

/* Why a row was rejected. */
typedef enum {
    DIRECTORY_REJECT_CHECK_DIGIT = 0, /* MPAN or MPRN check digit wrong */
    DIRECTORY_REJECT_UNKNOWN_SUPPLIER,
    DIRECTORY_REJECT_UNKNOWN_SUPPLY_POINT,
    DIRECTORY_REJECT_OVERLAP, /* overlaps another registration */
    DIRECTORY_REJECT_END_BEFORE_START,
    DIRECTORY_REJECT_DUPLICATE, /* its key is on an earlier line */
    DIRECTORY_REJECT_INVALID_VALUE,
    DIRECTORY_REJECT_MALFORMED, /* broken CSV or a wrong field count */
    DIRECTORY_REJECT_COUNT
} directory_reject_t;

/* The reason's code in the rejects file, such as "check_digit". */
const char *directory_reject_code(directory_reject_t reason);

/* The reason for people, such as "invalid MPAN or MPRN check digit". */
const char *directory_reject_label(directory_reject_t reason);

/* Row counts of an import or of one of its files. */
typedef struct {
    uint64_t added;   /* rows new to the database */
    uint64_t updated; /* rows that replaced a row with their key */
    uint64_t present; /* rows the database already held as they are */
    uint64_t rejected[DIRECTORY_REJECT_COUNT];
} directory_import_counts_t;

/* Returns the rows rejected for any reason. */
uint64_t directory_import_rejected(const directory_import_counts_t *counts);

typedef struct {
    /* The CSV file of each table, indexed by directory_table_t; NULL skips
     * the table. Tables are read in the order of directory_table_t. */
    const char *paths[DIRECTORY_TABLE_COUNT];
    size_t batch_rows; /* rows per transaction; 0 means the default */
    /* Gets a CSV row file,line,reason,message,raw for each rejected row;
     * when NULL, each is reported on stderr as FILE:LINE: message. */
    FILE *rejects;
    directory_progress_t *progress; /* may be NULL */
} directory_import_options_t;

typedef struct {
    directory_import_counts_t tables[DIRECTORY_TABLE_COUNT];
    directory_import_counts_t total;
    uint64_t rows;    /* rows read, without the header rows */
    uint64_t batches; /* transactions committed */
} directory_import_report_t;

/* Imports the files of options into db. report gets the counts of the
 * committed batches, also on failure. Returns 0 once every file is read,
 * or -1 with a sentence in error naming FILE:LINE when a file cannot be
 * read, its header row is wrong or the database fails. The import then
 * stops: the batch in flight is rolled back and the batches before it
 * stay committed. */
int directory_import_run(directory_db_t *db,
                         const directory_import_options_t *options,
                         directory_import_report_t *report, char *error,
                         size_t error_size);

#endif
