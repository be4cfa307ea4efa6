/* The ZAP (ZeroMQ Authentication Protocol, RFC 27) handler for CURVE
 * servers: it admits a client only when its CURVE public key is on the
 * allow-list, and sets the connection's User-Id to that key in Z85 text.
 *
 * An application reads the User-Id of every message it receives with
 * zframe_meta (frame, "User-Id") on a frame that came from the peer (not
 * the routing-id frame a ROUTER socket adds, which has no metadata) and maps it
 * to a supplier with zap_supplier(), which consults the current list, so a key
 * removed from the list stops being accepted on the next message, even on a
 * connection that is already open.
 *
 * One handler serves the whole process (ZeroMQ looks for it at the fixed
 * address inproc://zeromq.zap.01 in the czmq context).
 */
#ifndef SDX_ZAP_H
#define SDX_ZAP_H

#include <stdbool.h>
#include <stddef.h>

#define ZAP_DOMAIN "sdx"

typedef struct zap zap_t;

/* Starts the handler. Returns NULL when another handler already runs in
 * this process. */
zap_t *zap_new(void);

/* Stops the handler and sets *self_p to NULL; NULL is allowed. */
void zap_destroy(zap_t **self_p);

/* Returns true when the handler thread is running and answering. */
bool zap_is_running(zap_t *self);

/* Adds or replaces an allowed key (Z85, 40 characters) and the supplier
 * MPID it belongs to. */
void zap_allow(zap_t *self, const char *curve_key, const char *supplier);

/* Removes a key from the allow-list; unknown keys are ignored. */
void zap_remove(zap_t *self, const char *curve_key);

/* Removes every key that is not in the NULL-terminated list keep_keys;
 * used when the list is refreshed from the directory. */
void zap_retain(zap_t *self, const char *const *keep_keys);

/* Copies the supplier of curve_key into supplier (5 bytes) and returns
 * true, or returns false when the key is not allowed now. */
bool zap_supplier(zap_t *self, const char *curve_key, char supplier[5]);

/* Number of keys on the allow-list. */
size_t zap_size(zap_t *self);

#endif
