/* CURVE server and client sockets with frame limits and ZAP enforcement. */
#include "curve.h"

#include <errno.h>
#include <string.h>

static void s_apply_limits(zsock_t *socket, size_t max_frame)
{
    zsock_set_maxmsgsize(socket, (int)max_frame);
    zsock_set_linger(socket, 0);
}

zsock_t *curve_server_new(int type, zap_t *zap, zcert_t *cert,
                          const char *endpoint, size_t max_frame, char *error,
                          size_t error_size)
{
    /* Without a ZAP handler libzmq admits every CURVE client, so binding
     * without one would open the node to anybody. */
    if (!zap_is_running(zap)) {
        snprintf(error, error_size,
                 "refusing to bind %s: the ZAP handler is not running",
                 endpoint);
        return NULL;
    }
    zsock_t *socket = zsock_new(type);
    if (!socket) {
        snprintf(error, error_size, "cannot create a socket for %s", endpoint);
        return NULL;
    }
    s_apply_limits(socket, max_frame);
    zcert_apply(cert, socket);
    zsock_set_curve_server(socket, 1);
    zsock_set_zap_domain(socket, ZAP_DOMAIN);
    /* Refuse connections if the handler stops answering later. */
    zsock_set_zap_enforce_domain(socket, 1);
    if (zsock_bind(socket, "%s", endpoint) < 0) {
        snprintf(error, error_size, "cannot bind %s: %s", endpoint,
                 zmq_strerror(errno));
        zsock_destroy(&socket);
        return NULL;
    }
    return socket;
}

zsock_t *curve_client_new(int type, zcert_t *cert, const char *server_key,
                          const char *endpoint, size_t max_frame, char *error,
                          size_t error_size)
{
    if (!server_key || strlen(server_key) != 40) {
        snprintf(error, error_size,
                 "invalid CURVE server key '%s' for %s: expected 40 Z85 "
                 "characters",
                 server_key ? server_key : "", endpoint);
        return NULL;
    }
    zsock_t *socket = zsock_new(type);
    if (!socket) {
        snprintf(error, error_size, "cannot create a socket for %s", endpoint);
        return NULL;
    }
    s_apply_limits(socket, max_frame);
    zcert_apply(cert, socket);
    zsock_set_curve_serverkey(socket, server_key);
    if (zsock_connect(socket, "%s", endpoint) < 0) {
        snprintf(error, error_size, "cannot connect to %s: %s", endpoint,
                 zmq_strerror(errno));
        zsock_destroy(&socket);
        return NULL;
    }
    return socket;
}
