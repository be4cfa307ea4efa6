/* The requesting side of the node: meter requests from the local CLI,
 * sent to the installing supplier's node, whose receipts are checked,
 * stored and acknowledged.
 *
 * A request from the control socket is the same map a peer receives
 * (see docs/protocol.md). The node finds the installing supplier in the
 * directory, keeps one CURVE connection per peer node pinned to the key the
 * directory lists, and forwards the request with the same id, so a CLI
 * retry with the same id is never charged twice. A receipt is accepted
 * when its signature is the serving supplier's, its fields match the
 * request, its price follows the local copy of the bilateral tariff and it
 * extends the chain; otherwise it is stored as a dispute and not
 * acknowledged. A receipt that skips a seq is neither: node/recovery.c
 * fetches the missing ones, and it is filed with them.
 */
#ifndef SDX_REQUESTER_H
#define SDX_REQUESTER_H

#include <stdint.h>

#include "node_context.h"
#include "sign.h"

/* Creates the tables of peers and outstanding requests. */
void requester_init(node_t *node);

/* Closes peer connections and frees outstanding requests. */
void requester_destroy(node_t *node);

/* Handles one message waiting on the control socket. */
void requester_handle_control(node_t *node);

/* Handles a message waiting on a peer socket; returns false when socket is
 * not a peer socket. */
bool requester_handle_peer(node_t *node, void *socket);

/* Handles one waiting message on each peer socket that has one; returns
 * how many were handled. */
int requester_drain_peers(node_t *node);

/* Answers outstanding requests past their deadline with timeout. */
void requester_expire(node_t *node, int64_t now_ms);

/* Returns the connection to mpid's node, found through the directory and
 * opened on first use; the node owns it. Returns NULL with a sentence in
 * error when the directory cannot name the node or the socket fails. */
zsock_t *requester_connect(node_t *node, const char *mpid, char *error,
                           size_t error_size);

/* Checks a receipt that serving's node sent in a receipt.pending reply as
 * a reply's receipt is checked, except that no request is known to match
 * it, then stores and acknowledges it (or sends the stored
 * acknowledgement again). Returns 0 when it is in the ledger now, 1 when
 * an earlier receipt is still missing, or -1 when it was disputed; note
 * gets a sentence about it. */
int requester_file_recovered(node_t *node, const char *serving,
                             const uint8_t *body, size_t body_size,
                             const uint8_t sig[SIGN_SIGNATURE_SIZE], char *note,
                             size_t note_size);

#endif
