/* The set of row keys that one import has accepted so far. With it a
 * second row with the same key in the input is rejected as a duplicate,
 * while a row that the database contained before the import is not.
 *
 * The set lives in a private temporary sqlite database (in $TMPDIR or
 * /var/tmp; sqlite removes the file itself), so its memory stays bounded
 * on a national register of tens of millions of rows. A key is two
 * integers; see directory_seen_mpxn_code for how an mpxn becomes one.
 */
#ifndef SDX_DIRECTORY_SEEN_H
#define SDX_DIRECTORY_SEEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct directory_seen directory_seen_t;

/* Creates an empty set. Returns NULL with a sentence in error. */
directory_seen_t *directory_seen_new(char *error, size_t error_size);

/* Frees the set and its file, and sets *self_p to NULL; NULL is allowed. */
void directory_seen_destroy(directory_seen_t **self_p);

/* Adds the key (first, second) of the row on line. Returns 1 when it was
 * new, 0 when the set already had it (*earlier_line then gets the line
 * added with it), or -1 with a sentence in error. */
int directory_seen_add(directory_seen_t *self, int64_t first, int64_t second,
                       size_t line, size_t *earlier_line, char *error,
                       size_t error_size);

/* Removes the key, so that a row added and then rejected does not count. */
int directory_seen_remove(directory_seen_t *self, int64_t first, int64_t second,
                          char *error, size_t error_size);

/* Empties the set, between one input file and the next. */
int directory_seen_clear(directory_seen_t *self, char *error,
                         size_t error_size);

/* Encodes a valid mpxn (6 to 13 digits) as one integer that keeps MPANs
 * and MPRNs of every length apart: length * 10^13 + the number. */
int64_t directory_seen_mpxn_code(const char *mpxn);

#endif
