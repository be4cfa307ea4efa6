/* A small library for writing an agent. It connects a DEALER to the node's
 * agent endpoint and announces itself with agent.hello, again after every
 * reconnection on ipc and tcp. It sends agent.ping every
 * AGENT_HEARTBEAT_MS, calls a handler for each agent.request and sends
 * back its reply.
 *
 * Run it in a thread of its own, either with agent_run or as a czmq actor
 * (agent_actor), so an agent can also live inside the node's process and
 * talk to it over inproc.
 */
#ifndef SDX_AGENT_H
#define SDX_AGENT_H

#include "agent_protocol.h"

#include <czmq.h>
#include <msgpack.h>

/* What a handler fills in for one request. The status starts as "ok",
 * the error empty and the units 0; on "ok" the handler packs exactly one
 * map (the result) with packer. */
typedef struct {
    char status[AGENT_STATUS_SIZE];
    char error[AGENT_ERROR_SIZE];
    uint64_t units;
    msgpack_sbuffer result;
    msgpack_packer packer; /* writes into result */
} agent_response_t;

/* Prepares response for a handler: status "ok", no error, 0 units and an
 * empty result. Release it with agent_response_clear. */
void agent_response_init(agent_response_t *response);

/* Frees the result buffer of response. */
void agent_response_clear(agent_response_t *response);

/* Sets a failure status and an error sentence, and drops any result the
 * handler had packed. */
void agent_response_fail(agent_response_t *response, const char *status,
                         const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Handles one request. Runs on the agent's thread, one request at a time. */
typedef void(agent_handler_fn)(void *arg, const agent_request_t *request,
                               agent_response_t *response);

typedef struct {
    const char *endpoint; /* the node's agent endpoint, such as ipc://... */
    const char *name;     /* this agent's name in logs and agent.hello */
    const char *const *head_ends; /* head-end types served */
    size_t head_end_count;        /* 1 to AGENT_MAX_HEAD_ENDS */
    agent_handler_fn *handler;
    void *handler_arg;
} agent_config_t;

typedef struct agent agent_t;

/* Creates the DEALER, connects it to config->endpoint and queues the first
 * agent.hello. The node need not be up yet, because ZeroMQ connects in
 * the background. Copies what it needs from config. Returns NULL, with
 * one log line, when the endpoint cannot be used. */
agent_t *agent_new(const agent_config_t *config);

/* Closes the socket; accepts NULL and nulls the pointer. */
void agent_destroy(agent_t **self_p);

/* Serves requests and sends heartbeats until pipe receives "$TERM" (pipe
 * may be NULL) or the process is interrupted (czmq's zsys_interrupted). */
void agent_run(agent_t *self, zsock_t *pipe);

/* A zactor_fn that runs an agent built from the agent_config_t that args
 * points to. Start it with agent_actor_start; the config needs to live
 * only until that returns. */
void agent_actor(zsock_t *pipe, void *args);

/* Starts actor (a zactor_fn that ends its set-up with agent_actor_ready)
 * and waits for its set-up result. Returns the running actor, which the
 * caller owns and ends with zactor_destroy, or NULL when set-up failed. */
zactor_t *agent_actor_start(zactor_fn *actor, void *args);

/* Reports an actor's set-up result (0 ready, -1 failed) to
 * agent_actor_start. An actor that reports -1 returns straight after. */
void agent_actor_ready(zsock_t *pipe, int status);

#endif
