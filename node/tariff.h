/* Bilateral tariffs: the prices one serving supplier charges one requesting
 * supplier, kept as a text file both can review in version control.
 *
 *   # comment lines and blank lines are ignored
 *   tariff-id = ALFA-BRVO-2013
 *   serving = ALFA
 *   requesting = BRVO
 *   currency = GBP
 *   # price TYPE EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO
 *   price read.profile 2013-01-01T00:00:00Z 2000 150
 *   price read.registers 2013-01-01 5000 0
 *
 * A request of TYPE served at time t for n units costs FIXED + PER_UNIT * n
 * micro-units, from the price line of TYPE with the latest EFFECTIVE_FROM
 * not after t. The tariff hash (BLAKE2b-256 of the file's bytes) goes into
 * every receipt, so both sides can see that they priced from the same file.
 */
#ifndef SDX_TARIFF_H
#define SDX_TARIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define TARIFF_ID_SIZE   64
#define TARIFF_TYPE_SIZE 32

typedef struct tariff tariff_t;

/* Loads and checks the tariff file at path. Caller owns the result.
 * Returns NULL with "path:line: ..." naming the bad value in error. */
tariff_t *tariff_load(const char *path, char *error, size_t error_size);

/* Frees the tariff and sets *self_p to NULL. NULL is allowed. */
void tariff_destroy(tariff_t **self_p);

/* Accessors. The tariff owns the returned memory. */
const char *tariff_id(const tariff_t *self);
const char *tariff_serving(const tariff_t *self);
const char *tariff_requesting(const tariff_t *self);
const char *tariff_currency(const tariff_t *self);
const char *tariff_path(const tariff_t *self);
/* BLAKE2b-256 of the file's bytes, HASH_SIZE bytes. */
const uint8_t *tariff_hash(const tariff_t *self);

/* Computes in *price the cost in micro-units of units of type served at
 * at_ms. Returns 0, or -1 when type has no price line in effect at at_ms or
 * the cost overflows uint64_t. */
int tariff_price(const tariff_t *self, const char *type, int64_t at_ms,
                 uint64_t units, uint64_t *price)
    __attribute__((warn_unused_result));

/* Returns true when text is a usable tariff id: 1 to 63 letters, digits,
 * '.', '_' or '-'. */
bool tariff_id_valid(const char *text);

/* All the tariffs of one node, one per serving->requesting pair. */
typedef struct tariff_set tariff_set_t;

/* Loads every *.tariff file in folder, in name order. Fails on the first
 * bad file, or when two files are for the same pair. Caller owns the
 * result. Returns NULL with a sentence in error. */
tariff_set_t *tariff_set_load(const char *folder, char *error,
                              size_t error_size);

/* Frees the set and its tariffs and sets *self_p to NULL. NULL is
 * allowed. */
void tariff_set_destroy(tariff_set_t **self_p);

/* Returns the tariff for the pair, or NULL. The set owns it. */
const tariff_t *tariff_set_find(const tariff_set_t *self, const char *serving,
                                const char *requesting);

/* Returns the number of tariffs, and the tariff at index (in file name
 * order). The set owns it. */
size_t tariff_set_size(const tariff_set_t *self);
const tariff_t *tariff_set_get(const tariff_set_t *self, size_t index);

#endif
