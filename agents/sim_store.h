/* The sim agent's sqlite database: the simulated meters and their
 * recorded half-hourly import readings, with the queries the agent's
 * requests need.
 *
 * A reading is the energy of the half hour [start_ms, start_ms + 30 min),
 * in whole Wh. The import register at an instant is the sum of the
 * readings whose half hour has ended by then, so registers, daily
 * snapshots and the profile all come from the same rows.
 */
#ifndef SDX_SIM_STORE_H
#define SDX_SIM_STORE_H

#include "agent_protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_store sim_store_t;

#define SIM_MPXN_SIZE      16
#define SIM_HOUSEHOLD_SIZE 32
#define SIM_METER_ID_SIZE  64
#define SIM_FUEL_SIZE      16
#define SIM_HEAD_END_SIZE  16

typedef struct {
    char mpxn[SIM_MPXN_SIZE];
    char household[SIM_HOUSEHOLD_SIZE]; /* the LCL household id */
    char meter_id[SIM_METER_ID_SIZE];   /* the meter serial number */
    char fuel[SIM_FUEL_SIZE];           /* "electricity" */
    char head_end[SIM_HEAD_END_SIZE];   /* "sim" */
} sim_meter_t;

typedef enum {
    SIM_STORE_INSERTED,
    SIM_STORE_UNCHANGED, /* already stored with the same value */
    SIM_STORE_CONFLICT,  /* already stored with another value */
    SIM_STORE_FAILED,    /* sqlite failed; logged */
} sim_store_put_t;

/* Opens or creates the database at path and its tables. Returns NULL with
 * a sentence in error when the file cannot be opened or is not a sim
 * database. */
sim_store_t *sim_store_open(const char *path, char *error, size_t error_size);

/* Closes the database; accepts NULL and nulls the pointer. */
void sim_store_close(sim_store_t **self_p);

/* Transactions around a batch of inserts. Each returns 0 or -1 (logged). */
int sim_store_begin(sim_store_t *self);
int sim_store_commit(sim_store_t *self);
void sim_store_rollback(sim_store_t *self);

/* Adds a meter. A meter already stored under the same mpxn returns
 * SIM_STORE_UNCHANGED when its household matches and SIM_STORE_CONFLICT
 * when it does not. */
sim_store_put_t sim_store_add_meter(sim_store_t *self,
                                    const sim_meter_t *meter);

/* Adds one reading. On SIM_STORE_CONFLICT, *stored_wh gets the value kept
 * in the database, which is left as it was. */
sim_store_put_t sim_store_add_reading(sim_store_t *self, const char *mpxn,
                                      int64_t start_ms, int64_t wh,
                                      int64_t *stored_wh);

/* Looks a meter up. Returns 1 and fills meter, 0 when there is none, -1
 * on a database failure (logged). */
int sim_store_find_meter(sim_store_t *self, const char *mpxn,
                         sim_meter_t *meter);

typedef void(sim_meter_fn)(void *arg, const sim_meter_t *meter);

/* Calls callback for each meter in mpxn order. Returns the number of
 * meters, or -1 on a database failure. */
int64_t sim_store_each_meter(sim_store_t *self, sim_meter_fn *callback,
                             void *arg);

/* Finds the data span of a meter: from the start of its first reading to
 * the end of its last (exclusive). Returns 1, 0 when the meter has no
 * readings, -1 on a database failure. */
int sim_store_span(sim_store_t *self, const char *mpxn, int64_t *from_ms,
                   int64_t *to_ms);

/* Computes the import register at at_ms: the sum of the readings that
 * ended at or before it. Returns 0 or -1. */
int sim_store_register_at(sim_store_t *self, const char *mpxn, int64_t at_ms,
                          int64_t *wh);

/* Computes the register at each of count instants, which must be in
 * ascending order, in one pass over the readings. Returns 0 or -1. */
int sim_store_registers_at(sim_store_t *self, const char *mpxn,
                           const int64_t *instants, size_t count, int64_t *wh);

typedef void(sim_slot_fn)(void *arg, int64_t start_ms, bool present,
                          int64_t wh);

/* Calls callback, in time order, for every half hour whose start lies in
 * one of ranges and in [span_from_ms, span_to_ms). The ranges must be
 * sorted and not overlap, as agent_ranges_normalise leaves them. For a
 * half hour with no reading, present is false and wh 0. Returns 0 or -1. */
int sim_store_each_slot(sim_store_t *self, const char *mpxn,
                        const agent_range_t *ranges, size_t range_count,
                        int64_t span_from_ms, int64_t span_to_ms,
                        sim_slot_fn *callback, void *arg);

#endif
