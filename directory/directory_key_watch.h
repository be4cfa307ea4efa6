/* Warnings ahead of the end of suppliers' keys. The server runs the check
 * at start and then every minute; a key whose validity ends within the
 * warning period is logged at start and then at most once a day, so the
 * operator registers its successor in time.
 */
#ifndef SDX_DIRECTORY_KEY_WATCH_H
#define SDX_DIRECTORY_KEY_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dir_records.h"

/* How often a key still about to end is logged again. */
#define DIRECTORY_KEY_WARNING_REPEAT_MS (24 * 3600 * 1000LL)

typedef struct directory_key_watch directory_key_watch_t;

/* Creates a watch that warns of keys ending within ahead_ms (more than 0).
 * Returns NULL when out of memory. */
directory_key_watch_t *directory_key_watch_new(int64_t ahead_ms);

/* Frees the watch and sets *self_p to NULL; NULL is allowed. */
void directory_key_watch_destroy(directory_key_watch_t **self_p);

/* Logs a warning for each key of the count suppliers in list that is valid
 * at now_ms (UTC ms), ends within the warning period, and was not warned
 * about in the last DIRECTORY_KEY_WARNING_REPEAT_MS. Returns how many it
 * logged. */
size_t directory_key_watch_check(directory_key_watch_t *self,
                                 const dir_supplier_t *list, size_t count,
                                 int64_t now_ms);

#endif
