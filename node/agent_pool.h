/* The node side of the agent protocol: a ROUTER that agents connect to,
 * the agents it has heard from, and the requests waiting for their reply.
 *
 * The pool owns no thread and its sends never block. The node polls
 * agent_pool_socket with its other sockets, calls agent_pool_receive when
 * it is readable, and calls agent_pool_next_expired after each wake-up to
 * time requests out. An agent is live while it has sent anything in the
 * last AGENT_SILENCE_MS; requests go round-robin over the live agents
 * that serve the meter's head-end type.
 */
#ifndef SDX_AGENT_POOL_H
#define SDX_AGENT_POOL_H

#include "agent_protocol.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct agent_pool agent_pool_t;

/* Binds a ROUTER to endpoint, which is inproc or ipc in the node's 0700
 * run folder, because the socket is plain (no CURVE). Requests time out
 * timeout_ms after they are sent. Returns NULL, with one log line, when
 * the bind fails. */
agent_pool_t *agent_pool_new(const char *endpoint, int timeout_ms);

/* Closes the socket and drops pending requests; accepts NULL and nulls the
 * pointer. */
void agent_pool_destroy(agent_pool_t **self_p);

/* Returns the ROUTER for the node's zpoller; the pool owns it. */
zsock_t *agent_pool_socket(agent_pool_t *self);

/* Sends a request to the next live agent serving head_end. ranges are
 * sent only for the ranged types (read.daily, read.profile). Returns 0,
 * or -1 when no live agent serves head_end or every one refused the
 * frame. */
int agent_pool_send(agent_pool_t *self, const char *head_end,
                    const uint8_t cid[AGENT_CID_SIZE], const char *type,
                    const char *mpxn, const char *meter_id,
                    const agent_range_t *ranges, size_t range_count,
                    int64_t now_ms);

/* Reads one message from the socket. Returns 1 with *reply set (caller
 * destroys it with agent_reply_destroy) for the reply to a pending
 * request, 0 for a hello, heartbeat or late reply, and -1 for a malformed
 * message, which is logged as a peer warning and dropped. */
int agent_pool_receive(agent_pool_t *self, agent_reply_t **reply);

/* Removes one pending request whose deadline is at or before now_ms and
 * copies its cid. Returns false when none has expired. */
bool agent_pool_next_expired(agent_pool_t *self, int64_t now_ms,
                             uint8_t cid[AGENT_CID_SIZE]);

/* Returns the number of live agents serving head_end. */
size_t agent_pool_live_count(agent_pool_t *self, const char *head_end);

/* Returns the number of requests waiting for a reply. */
size_t agent_pool_pending_count(agent_pool_t *self);

#endif
