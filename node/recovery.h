/* Recovery of receipts that a requesting node missed or did not get to
 * acknowledge, for example because it stopped after the serving node had
 * committed a receipt but before it stored the receipt itself, or because
 * its acknowledgement was lost.
 *
 * The requesting node sends receipt.pending (node/pending.h) to a serving
 * node when it connects to it, when it receives a receipt that does not
 * follow its chain head and when a checkpoint shows it is behind. It also
 * sends it every recovery-interval-seconds for every chain in its ledger.
 * The serving node replies with the unacknowledged receipts of that chain
 * and those after the requester's head. The requester checks each one in seq
 * order as it checks a reply's receipt, stores it and acknowledges it; a
 * receipt it already holds gets its stored acknowledgement again. Nothing here
 * creates a receipt or charges anything.
 */
#ifndef SDX_RECOVERY_H
#define SDX_RECOVERY_H

#include <czmq.h>
#include <stdint.h>

#include "envelope.h"
#include "node_context.h"

/* Creates and frees the table of outstanding receipt.pending requests. */
void recovery_init(node_t *node);
void recovery_destroy(node_t *node);

/* Sends receipt.pending for the serving->own chain on socket (the
 * connection to serving's node), unless one sent less than a few seconds
 * ago is still unanswered. */
void recovery_request(node_t *node, const char *serving, zsock_t *socket);

/* Handles serving's reply to receipt.pending: files each receipt in
 * order, stops at the first that is disputed or still out of order, and
 * sends another request when the reply has more = true. */
void recovery_handle_reply(node_t *node, const char *serving,
                           const envelope_t *envelope,
                           const envelope_header_t *header);

/* Replies to a receipt.pending request from requester, which arrived on
 * the server socket from routing, after the current batch commits. */
void recovery_answer(node_t *node, zframe_t *routing, const char *requester,
                     const envelope_t *envelope,
                     const envelope_header_t *header);

/* Every recovery-interval-seconds, sends receipt.pending to each serving
 * supplier with which this node's ledger has a chain. */
void recovery_tick(node_t *node, int64_t now_ms);

#endif
