/* Change of supplier: the admin command that moves a supply point's
 * registration to another supplier at a given instant. */
#ifndef SDX_DIRECTORY_CHANGE_H
#define SDX_DIRECTORY_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "directory_db.h"

/* In one transaction: ends the open registration of mpxn at at_ms, opens
 * one for supplier from at_ms, and records a "change_of_supplier" entry in
 * the change log, whose number goes to *number (may be NULL). A supply
 * point with no open registration gets a new one from at_ms, which must
 * not be before the end of its latest one. Returns 0, or -1 with a
 * sentence in error naming the value, when the mpxn or supplier is unknown,
 * the supplier is already the registered one, or at_ms is not after the
 * current registration's start. */
int directory_change_supplier(directory_db_t *db, const char *mpxn,
                              const char *supplier, int64_t at_ms,
                              uint64_t *number, char *error, size_t error_size);

#endif
