/* Per-supplier rate limits of the directory: one token bucket for each
 * supplier MPID, which refills at a fixed number of queries per second up
 * to a burst. Integer arithmetic in thousandths of a query. Not
 * thread-safe: the server's actor owns it.
 */
#ifndef SDX_DIRECTORY_RATE_H
#define SDX_DIRECTORY_RATE_H

#include <stdint.h>

/* Largest rate and burst accepted, so that the arithmetic cannot
 * overflow. */
#define DIRECTORY_RATE_MAX 1000000

typedef struct directory_rate directory_rate_t;

/* Creates the limiter: per_second queries a second (1 to
 * DIRECTORY_RATE_MAX) and a burst of 1 to DIRECTORY_RATE_MAX queries.
 * A supplier's bucket starts full. Returns NULL when out of memory. */
directory_rate_t *directory_rate_new(uint32_t per_second, uint32_t burst);

/* Frees the limiter and sets *self_p to NULL; NULL is allowed. */
void directory_rate_destroy(directory_rate_t **self_p);

/* Takes one query from supplier's bucket at now_ms (a monotonic clock).
 * Returns 0 when the query may go on, else the milliseconds until the
 * bucket holds one query again (1 or more). */
int64_t directory_rate_take(directory_rate_t *self, const char *supplier,
                            int64_t now_ms);

#endif
