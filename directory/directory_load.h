/* Validates CSV rows and loads them into the directory database.
 *
 * Each file has a header row naming its columns in this order:
 *   suppliers.csv      mpid,name,endpoint,curve_key,sign_key
 *   supply_points.csv  mpxn,fuel,meter_id,smart,installing,head_end
 *   registrations.csv  mpxn,supplier,from,to
 * A row that fails a check is reported as "FILE:LINE: reason" and left out;
 * the other rows still load. A row equal to what the database holds is
 * counted as unchanged, so loading a file twice adds nothing.
 */
#ifndef SDX_DIRECTORY_LOAD_H
#define SDX_DIRECTORY_LOAD_H

#include <stddef.h>
#include <stdio.h>

#include "directory_db.h"

typedef enum {
    DIRECTORY_SUPPLIERS = 0,
    DIRECTORY_SUPPLY_POINTS,
    DIRECTORY_REGISTRATIONS
} directory_table_t;

/* Row counts of one load. */
typedef struct {
    size_t added;     /* rows new to the database */
    size_t updated;   /* rows that replaced a different row with their key */
    size_t unchanged; /* rows the database already held as they are */
    size_t rejected;  /* rows reported and left out */
} directory_load_counts_t;

/* Returns the header row that a file for table must start with. */
const char *directory_load_header(directory_table_t table);

/* Loads the CSV file at path into table in one transaction, writing a line
 * to report for each rejected row and adding to counts. When anything was
 * added or updated, records a "load" entry in the change log. Returns 0
 * once the whole file is read (rows may have been rejected), or -1 with a
 * sentence in error, and nothing of the file loaded, when the file cannot
 * be read, its header is wrong or the database fails. */
int directory_load_file(directory_db_t *db, directory_table_t table,
                        const char *path, FILE *report,
                        directory_load_counts_t *counts, char *error,
                        size_t error_size);

/* As directory_load_file, from an open stream; name stands for the file
 * in reports. */
int directory_load_stream(directory_db_t *db, directory_table_t table,
                          FILE *file, const char *name, FILE *report,
                          directory_load_counts_t *counts, char *error,
                          size_t error_size);

#endif
