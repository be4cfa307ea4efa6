/* Human-readable views of directory records, for the admin commands. */
#ifndef SDX_DIRECTORY_SHOW_H
#define SDX_DIRECTORY_SHOW_H

#include <stddef.h>
#include <stdio.h>

#include "directory_db.h"

/* Prints the supply point mpxn, its installing supplier and its
 * registrations to out. Returns 1 when printed, 0 when the directory has
 * no such supply point, -1 with a sentence in error on a database
 * failure. */
int directory_show_supply_point(directory_db_t *db, const char *mpxn, FILE *out,
                                char *error, size_t error_size);

#endif
