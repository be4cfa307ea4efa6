/* A progress line for long imports: rows done, rows per second and an
 * estimate of the time left, rewritten in place with a carriage return.
 * It is shown only when its stream is a terminal, so logs and pipes get
 * no partial lines.
 */
#ifndef SDX_DIRECTORY_PROGRESS_H
#define SDX_DIRECTORY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct directory_progress directory_progress_t;

/* Creates a progress line on stream (not owned). It stays silent when
 * stream is not a terminal. Returns NULL when out of memory. */
directory_progress_t *directory_progress_new(FILE *stream);

/* Clears the line, frees the progress and sets *self_p to NULL; NULL is
 * allowed. */
void directory_progress_destroy(directory_progress_t **self_p);

/* Sets the bytes of input that make 100%, for the estimate of the time
 * left; 0 (the default) shows no estimate. */
void directory_progress_set_total(directory_progress_t *self, uint64_t bytes);

/* Shows rows done so far and bytes of input read so far. Rewrites the
 * line at most 4 times a second, so it may be called for every row. */
void directory_progress_update(directory_progress_t *self, uint64_t rows,
                               uint64_t bytes);

/* Erases the line, so that other output can be written to the stream;
 * the next update draws it again. */
void directory_progress_clear(directory_progress_t *self);

/* Returns true when the line is shown (the stream is a terminal). */
bool directory_progress_shown(const directory_progress_t *self);

#endif
