/* The receipt.pending message: a requesting node asks a serving node for
 * the receipts of their chain that it may be missing.
 *
 * Request: the envelope plus `after` (uint, optional) and `limit` (uint,
 * optional, 1 to PENDING_MAX_RECEIPTS). The serving node answers with the
 * receipts of its serving->requesting chain that have no acknowledgement,
 * and every receipt with a seq above `after`, oldest first, at most
 * `limit` of them.
 *
 * Reply: the envelope plus `status` ("ok"), `head` (uint, the seq of the
 * serving node's newest receipt in the chain, 0 for an empty chain),
 * `receipts` (array of {"body": bin, "sig": bin 64}) and `more` (bool,
 * true when further receipts matched than were sent).
 */
#ifndef SDX_PENDING_H
#define SDX_PENDING_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "sign.h"

#define PENDING_TYPE "receipt.pending"
/* Receipts in one reply at most; 64 receipts of the largest size are
 * about 70 KB. */
#define PENDING_MAX_RECEIPTS 64

typedef struct {
    bool has_after;
    uint64_t after;
    size_t limit; /* PENDING_MAX_RECEIPTS when the request has none */
} pending_request_t;

/* One receipt in a reply. */
typedef struct {
    const uint8_t *body;
    size_t body_size;
    const uint8_t *sig; /* SIGN_SIGNATURE_SIZE bytes */
} pending_item_t;

typedef struct {
    uint64_t head;
    bool more;
    size_t count;
    pending_item_t items[PENDING_MAX_RECEIPTS];
} pending_reply_t;

/* Packs a request. after is ignored unless has_after. Caller owns the
 * frame. */
zframe_t *pending_pack_request(const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                               const pending_request_t *request);

/* Reads `after` and `limit` from a decoded request. Returns 0, or -1 with
 * a sentence naming the bad key in error. */
int pending_parse_request(const envelope_t *envelope, pending_request_t *out,
                          char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Packs an ok reply to the request with header's type and id. The items'
 * bytes are copied. Caller owns the frame. */
zframe_t *pending_pack_reply(const envelope_header_t *header, int64_t ts,
                             const pending_reply_t *reply);

/* Reads a decoded ok reply. The items point into the envelope's memory
 * and are valid while it lives. Returns 0, or -1 with a sentence in
 * error. */
int pending_parse_reply(const envelope_t *envelope, pending_reply_t *out,
                        char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
