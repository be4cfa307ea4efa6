/* A reader of RFC 4180 CSV files for bulk imports. It reads the same
 * format as csv_reader (directory_csv.h), with the same limits. It also
 * keeps each record's raw text, so that a rejected row can be written out
 * as it was, and counts the bytes read, from which a progress line
 * estimates the time left.
 *
 * It reads a physical line at a time with getline and parses the line in
 * place, which is several times faster than csv_reader's character loop
 * on files of millions of rows.
 */
#ifndef SDX_DIRECTORY_CSV_RECORD_H
#define SDX_DIRECTORY_CSV_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_record_reader csv_record_reader_t;

/* Opens path for reading. Returns NULL with a sentence in error. */
csv_record_reader_t *csv_record_reader_open(const char *path, char *error,
                                            size_t error_size);

/* Reads from file, which stays the caller's to close after the reader is
 * destroyed. name is used in errors. Returns NULL when out of memory. */
csv_record_reader_t *csv_record_reader_new(FILE *file, const char *name);

/* Closes a file the reader opened, frees the reader and sets *self_p to
 * NULL; NULL is allowed. */
void csv_record_reader_destroy(csv_record_reader_t **self_p);

/* Reads the next record, skipping empty lines and a UTF-8 byte order mark
 * at the start of the file. Returns 1 with a record, 0 at the end of the
 * file, or -1 with a sentence in error (without FILE:LINE) for a malformed
 * record. After a malformed record, csv_record_reader_raw and
 * csv_record_reader_line still give its text and line, and reading goes on
 * with the next line. A read error of the file returns -1 and then 0. */
int csv_record_reader_next(csv_record_reader_t *self, char *error,
                           size_t error_size);

/* Number of fields of the current record (0 after a malformed one). */
size_t csv_record_reader_field_count(const csv_record_reader_t *self);

/* Field index (from 0) of the current record; the reader owns it until the
 * next call of csv_record_reader_next. */
const char *csv_record_reader_field(const csv_record_reader_t *self,
                                    size_t index);

/* Raw text of the current or malformed record, without its final line
 * break; line breaks inside quoted fields are kept. The reader owns it
 * until the next call of csv_record_reader_next. */
const char *csv_record_reader_raw(const csv_record_reader_t *self);

/* Line number (from 1) on which the current or malformed record starts. */
size_t csv_record_reader_line(const csv_record_reader_t *self);

/* Bytes of the file read so far, up to the end of the current record. */
uint64_t csv_record_reader_bytes(const csv_record_reader_t *self);

/* Returns true when reading the file failed (an I/O error, not a
 * malformed record). */
bool csv_record_reader_failed(const csv_record_reader_t *self);

/* The name given to csv_record_reader_new, or the path. */
const char *csv_record_reader_name(const csv_record_reader_t *self);

#endif
