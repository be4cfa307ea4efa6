/* The serving side of the node: requests from other suppliers' nodes,
 * checked, dispatched to an agent, receipted and answered.
 *
 * Pipeline of a meter request: authenticated key -> supplier; decode and
 * validate; reject a stale ts; replay the stored reply of a repeated id;
 * directory lookup and permission check (audited); dispatch to an agent;
 * on the agent's reply build, sign and store the receipt in the open
 * ledger batch, and queue the reply to be sent after that batch commits.
 */
#ifndef SDX_SERVER_H
#define SDX_SERVER_H

#include <stdint.h>

#include "node_context.h"

/* Handles one message waiting on the server socket. */
void server_handle_peer(node_t *node);

/* Handles one message waiting on the agent socket. */
void server_handle_agent(node_t *node);

/* Answers requests whose agent did not reply in time with timeout. */
void server_expire(node_t *node, int64_t now_ms);

/* Creates the table of requests waiting for an agent (node->served). */
void server_init(node_t *node);

#endif
