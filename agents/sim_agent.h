/* The built-in sim agent: a head-end simulator that serves the readings of
 * the sim database (see sim_store.h) for head-end type "sim".
 *
 * It serves meter.info, read.registers (the cumulative import register),
 * read.daily (the register at each local midnight) and read.supply. Its
 * read.profile gives each half hour with its UTC start, settlement date,
 * period number and quality: "A" for a recorded value, "M" for a missing
 * one. All energy is in whole Wh. A read.profile may cover at most
 * SIM_PROFILE_MAX_DAYS days in all.
 */
#ifndef SDX_SIM_AGENT_H
#define SDX_SIM_AGENT_H

#include "agent.h"

#include <stddef.h>

#define SIM_HEAD_END         "sim"
#define SIM_PROFILE_MAX_DAYS 93
/* Ten years of midnights. */
#define SIM_DAILY_MAX_READS 3660

typedef struct sim_agent sim_agent_t;

/* Starts a sim agent named "sim" on its own thread, with the database at
 * db_path, connected to the node's agent endpoint. Returns once the
 * database is open and the socket connected (the node may come up later),
 * or NULL with one log line on failure. Caller owns the result. */
sim_agent_t *sim_agent_new(const char *db_path, const char *endpoint);

/* As sim_agent_new, with the agent name given in agent.hello and logs. */
sim_agent_t *sim_agent_new_named(const char *db_path, const char *endpoint,
                                 const char *name);

/* Stops the agent's thread and closes its database; accepts NULL and
 * nulls the pointer. */
void sim_agent_destroy(sim_agent_t **self_p);

/* Returns the number of meters in the database when the agent started. */
size_t sim_agent_meter_count(const sim_agent_t *self);

/* Returns the agent's actor, for a zpoller that wants to notice the agent
 * ending. The agent owns it. */
zactor_t *sim_agent_actor(sim_agent_t *self);

/* Serves one request from the sim_store_t that arg points to. It is the
 * agent's handler, and tests call it without sockets. */
void sim_agent_handle(void *arg, const agent_request_t *request,
                      agent_response_t *response);

#endif
