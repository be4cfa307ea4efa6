/* CURVE-secured ZeroMQ sockets with sdx's limits applied.
 *
 * A server socket is only created while a ZAP handler runs, and it sets
 * ZMQ_ZAP_ENFORCE_DOMAIN so that if the handler goes away, new connections
 * are refused instead of admitted unchecked. Every socket drops frames over
 * max_frame bytes (ZMQ_MAXMSGSIZE) and does not linger on close.
 */
#ifndef SDX_CURVE_H
#define SDX_CURVE_H

#include <czmq.h>
#include <stddef.h>

#include "zap.h"

#define CURVE_MAX_FRAME_DEFAULT (1024 * 1024)

/* Creates a socket of type (ZMQ_ROUTER or ZMQ_PUB) as CURVE server with
 * cert's keys and binds it to endpoint ("tcp://127.0.0.1:*" picks a free
 * port; zsock_endpoint() then gives the one bound). Returns NULL with a
 * sentence in error when zap is not running or the bind fails. */
zsock_t *curve_server_new(int type, zap_t *zap, zcert_t *cert,
                          const char *endpoint, size_t max_frame, char *error,
                          size_t error_size);

/* Creates a socket of type (ZMQ_DEALER or ZMQ_SUB) as CURVE client with
 * cert's keys, pinned to the server's public key (Z85), and connects it.
 * Returns NULL with a sentence in error. */
zsock_t *curve_client_new(int type, zcert_t *cert, const char *server_key,
                          const char *endpoint, size_t max_frame, char *error,
                          size_t error_size);

#endif
