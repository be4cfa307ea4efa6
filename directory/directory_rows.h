/* The checks and the store of one CSV row of each directory table. The
 * caller has already checked that the row has the table's field count. */
#ifndef SDX_DIRECTORY_ROWS_H
#define SDX_DIRECTORY_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "directory_db.h"

typedef enum {
    ROW_ADDED = 0,
    ROW_UPDATED,
    ROW_UNCHANGED,
    ROW_REJECTED, /* reason names the bad value */
    ROW_FAILED    /* the database failed; reason says how */
} directory_row_result_t;

/* mpid, name, endpoint, curve_key (Z85), sign_key (64 hex digits). */
directory_row_result_t directory_row_supplier(directory_db_t *db,
                                              const char *const *fields,
                                              char *reason, size_t reason_size);

/* mpxn, fuel, meter_id, smart, installing, head_end. */
directory_row_result_t directory_row_supply_point(directory_db_t *db,
                                                  const char *const *fields,
                                                  char *reason,
                                                  size_t reason_size);

/* mpxn, supplier, from, to (ISO 8601; to empty for an open end). */
directory_row_result_t directory_row_registration(directory_db_t *db,
                                                  const char *const *fields,
                                                  char *reason,
                                                  size_t reason_size);

/* Writes "FROM to TO" or "FROM onwards" for a registration's period. */
void directory_format_period(const dir_registration_t *registration, char *out,
                             size_t out_size);

/* Returns true when text is a node endpoint: tcp://HOST:PORT or
 * ipc://PATH. */
bool directory_endpoint_is_valid(const char *text);

#endif
