/* Building msgpack messages into ZeroMQ frames. */
#ifndef SDX_MESSAGE_H
#define SDX_MESSAGE_H

#include <czmq.h>
#include <msgpack.h>
#include <stdint.h>

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
} message_t;

/* Starts an empty message. */
void message_init(message_t *message);

/* Returns the packed bytes as a new frame (caller owns it) and frees the
 * buffer; the message must be initialised again before reuse. */
zframe_t *message_to_frame(message_t *message);

/* Frees the buffer without making a frame. */
void message_discard(message_t *message);

/* Returns an error reply {v, type, id, ts, status, error, reason}; reason
 * (a short code such as "not_registered") may be NULL. Caller owns it. */
zframe_t *message_error(const char *type, const uint8_t id[16],
                        const char *status, const char *reason,
                        const char *error);

#endif
