/* Publishing and receiving chain checkpoints (node/checkpoint.h).
 *
 * Every checkpoint-interval-seconds the serving node looks at each chain
 * it serves. When the chain's head or its acknowledged prefix moved since
 * the last checkpoint, it signs and stores a new one. It sends the latest
 * one to the requesting node, as a client of that node's server socket,
 * until that node confirms it. It also sends it again at every interval
 * while receipts of the chain wait for an acknowledgement, so that a
 * requester that lost them finds out and runs recovery.
 *
 * The requesting node checks the signature with the key the directory
 * lists for the sender, compares the checkpoint with its own ledger,
 * stores it (a conflicting one too, as evidence) and replies ok, or
 * invalid with reason checkpoint_conflict. When the checkpoint shows it
 * is behind, it asks for the pending receipts.
 */
#ifndef SDX_CHECKPOINT_EXCHANGE_H
#define SDX_CHECKPOINT_EXCHANGE_H

#include <czmq.h>
#include <stdint.h>

#include "envelope.h"
#include "node_context.h"

/* Creates and frees the per-chain publishing state. */
void checkpoint_exchange_init(node_t *node);
void checkpoint_exchange_destroy(node_t *node);

/* Every checkpoint-interval-seconds, issues and sends checkpoints of the
 * chains this node serves. */
void checkpoint_exchange_tick(node_t *node, int64_t now_ms);

/* Handles a chain.checkpoint message from sender, which arrived on the
 * server socket from routing. The reply is sent after the batch
 * commits. */
void checkpoint_exchange_receive(node_t *node, zframe_t *routing,
                                 const char *sender, const envelope_t *envelope,
                                 const envelope_header_t *header);

/* Handles requesting's reply to a checkpoint this node sent. */
void checkpoint_exchange_handle_reply(node_t *node, const char *requesting,
                                      const envelope_t *envelope,
                                      const envelope_header_t *header);

#endif
