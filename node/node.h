/* The sdx node: one daemon that serves meter requests to other suppliers
 * and makes requests for its own supplier.
 *
 * node_new() loads the configuration and keys from a home folder, opens
 * the ledger, starts the ZAP handler, binds the CURVE server socket, the
 * agent socket and the local control socket, and runs the event loop in a
 * czmq actor. It returns only when the node is ready or has failed.
 */
#ifndef SDX_NODE_H
#define SDX_NODE_H

#include <stddef.h>

typedef struct node_actor node_actor_t;

/* Starts a node from home. Returns NULL with a sentence in error. */
node_actor_t *node_new(const char *home, char *error, size_t error_size);

/* Stops the node (committing any open ledger batch) and sets *self_p to
 * NULL; NULL is allowed. */
void node_destroy(node_actor_t **self_p);

/* Returns the endpoint the server socket is bound to (the real port when
 * the configuration asked for "*"); the actor owns it. */
const char *node_endpoint(node_actor_t *self);

#endif
