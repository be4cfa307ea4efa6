/* A reader of CSV files as RFC 4180 defines them: fields separated by
 * commas, records ended by CRLF or LF, fields in double quotes may hold
 * commas, line breaks and doubled quotes. Each record knows the line on
 * which it starts, so errors can say FILE:LINE.
 *
 * Empty lines are skipped, and a UTF-8 byte order mark at the start of the
 * file is ignored. A malformed record is reported and skipped, and reading
 * goes on with the next line.
 */
#ifndef SDX_DIRECTORY_CSV_H
#define SDX_DIRECTORY_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 64
#define CSV_MAX_FIELD  4096 /* bytes in one field */

typedef struct csv_reader csv_reader_t;

/* Opens path for reading. Returns NULL with a sentence in error. */
csv_reader_t *csv_reader_open(const char *path, char *error, size_t error_size);

/* Reads from file, which stays the caller's to close after the reader is
 * destroyed. name is used in errors. */
csv_reader_t *csv_reader_new(FILE *file, const char *name);

/* Closes a file the reader opened, frees the reader and sets *self_p to
 * NULL; NULL is allowed. */
void csv_reader_destroy(csv_reader_t **self_p);

/* Reads the next record. Returns 1 with a record, 0 at the end of the
 * file, or -1 with a sentence in error (without FILE:LINE) for a malformed
 * record, which is then skipped. A read error of the file returns -1 and
 * then 0. */
int csv_reader_next(csv_reader_t *self, char *error, size_t error_size);

/* Number of fields of the current record. */
size_t csv_reader_field_count(const csv_reader_t *self);

/* Field index (from 0) of the current record; the reader owns it until the
 * next call of csv_reader_next. */
const char *csv_reader_field(const csv_reader_t *self, size_t index);

/* Line number (from 1) on which the current or malformed record starts. */
size_t csv_reader_line(const csv_reader_t *self);

/* Returns true when reading the file failed (an I/O error, not a
 * malformed record); csv_reader_next has then returned -1. */
bool csv_reader_failed(const csv_reader_t *self);

/* The name given to csv_reader_new, or the path. */
const char *csv_reader_name(const csv_reader_t *self);

#endif
