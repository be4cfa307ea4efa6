/* Import of Low Carbon London half-hourly CSV files into the sim database.
 *
 * A file has the header "LCLid,tstp,energy(kWh/hh)" and rows such as
 * "MAC000002,2013-01-01 00:00:00, 0.219 ". tstp is read as the UTC start
 * of its half hour. Values are parsed from their decimal text with integer
 * arithmetic into whole Wh. Values with more than 3 decimal places, such as
 * the float artefact 3.7839999, are rounded half up to the nearest Wh.
 *
 * Each household becomes one meter with a synthetic but valid MPAN core:
 * the check digit is appended to "12", the household number padded to 8
 * digits, and "10" (MAC000002 gives 1200000002107). Its serial is "SIM-"
 * and the LCLid.
 *
 * A bad row is reported with its file, line number and reason, and the
 * other rows still load. Importing a file again changes nothing.
 */
#ifndef SDX_SIM_IMPORT_H
#define SDX_SIM_IMPORT_H

#include "sim_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_CSV_HEADER "LCLid,tstp,energy(kWh/hh)"

typedef struct {
    size_t files;        /* files read to the end */
    size_t rows;         /* data rows read */
    size_t inserted;     /* readings added */
    size_t unchanged;    /* readings already stored with the same value */
    size_t rounded;      /* values that were not whole Wh */
    size_t rejected;     /* bad rows */
    size_t meters_added; /* households seen for the first time */
} sim_import_stats_t;

/* Receives one bad row: its file, 1-based line number and the reason. */
typedef void(sim_import_report_fn)(void *arg, const char *file, size_t line,
                                   const char *reason);

/* Receives the running totals, after each batch of rows and each file. */
typedef void(sim_import_progress_fn)(void *arg, const char *file,
                                     const sim_import_stats_t *stats);

typedef struct {
    sim_import_report_fn *report; /* NULL logs each bad row as a warning */
    void *report_arg;
    sim_import_progress_fn *progress; /* may be NULL */
    void *progress_arg;
} sim_import_options_t;

/* Imports one CSV file, adding to stats. Returns 0 when the file was read
 * to the end, bad rows included. Returns -1 when it could not be opened,
 * has another header or the database failed, and then the reason goes to
 * the report function (with line 0 unless it is the header's). */
int sim_import_file(sim_store_t *store, const char *path,
                    const sim_import_options_t *options,
                    sim_import_stats_t *stats);

/* Imports path, a CSV file or a folder whose *.csv files are imported in
 * name order. Returns 0 when every file was imported, else -1. */
int sim_import_path(sim_store_t *store, const char *path,
                    const sim_import_options_t *options,
                    sim_import_stats_t *stats);

/* Parses kWh decimal text (digits with an optional fraction, no sign, no
 * spaces) into whole Wh. Sets *rounded when digits beyond the third
 * decimal place were not all zero. Returns 0 or -1. */
int sim_parse_kwh(const char *text, int64_t *wh, bool *rounded);

/* Parses "YYYY-MM-DD HH:MM:SS" as UTC into ms. Returns 0, -1 when it is
 * not a real date and time in that form, -2 when it is not on the
 * half-hour grid. */
int sim_parse_timestamp(const char *text, int64_t *ms);

/* Writes the synthetic MPAN core of an LCL household id ("MAC" and 1 to 8
 * digits) into mpan. Returns 0, or -1 for another form of id. */
int sim_household_mpan(const char *household, char mpan[14]);

#endif
