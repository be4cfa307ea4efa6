/* Tests CURVE sockets and the ZAP allow-list on loopback. */
#include "curve.h"
#include "tap.h"
#include "zap.h"

/* Receives one message within timeout_ms; caller destroys it. */
static zmsg_t *s_recv(zsock_t *socket, int timeout_ms)
{
    zpoller_t *poller = zpoller_new(socket, NULL);
    zmsg_t *msg = zpoller_wait(poller, timeout_ms) ? zmsg_recv(socket) : NULL;
    zpoller_destroy(&poller);
    return msg;
}

int main(void)
{
    zsys_init();
    zsys_set_logstream(stderr);
    char error[256];
    zcert_t *server_cert = zcert_new();
    zcert_t *alice = zcert_new();
    zcert_t *mallory = zcert_new();

    zsock_t *unguarded =
        curve_server_new(ZMQ_ROUTER, NULL, server_cert, "tcp://127.0.0.1:*",
                         1024, error, sizeof error);
    ok(unguarded == NULL, "server refuses to bind without a ZAP handler");
    ok(strstr(error, "ZAP handler is not running") != NULL,
       "error says why: %s", error);

    zap_t *zap = zap_new();
    ok(zap && zap_is_running(zap), "ZAP handler runs");
    ok(zap_new() == NULL, "a second handler in one process is rejected");
    zap_allow(zap, zcert_public_txt(alice), "ALFA");
    is_int(zap_size(zap), 1, "one key allowed");

    zsock_t *server =
        curve_server_new(ZMQ_ROUTER, zap, server_cert, "tcp://127.0.0.1:*",
                         1024, error, sizeof error);
    ok(server != NULL, "server binds with ZAP running");
    if (!server)
        bail_out("%s", error);
    const char *endpoint = zsock_endpoint(server);

    zsock_t *good =
        curve_client_new(ZMQ_DEALER, alice, zcert_public_txt(server_cert),
                         endpoint, 1024, error, sizeof error);
    zstr_send(good, "hello");
    zmsg_t *msg = s_recv(server, 2000);
    ok(msg != NULL, "allowed key is admitted");
    char supplier[5] = "";
    if (msg) {
        const char *user = zframe_meta(zmsg_last(msg), "User-Id");
        is_str(user, zcert_public_txt(alice), "User-Id is the client's key");
        ok(zap_supplier(zap, user, supplier), "key maps to a supplier");
        is_str(supplier, "ALFA", "supplier of the key");
        zmsg_destroy(&msg);
    }

    zsock_t *bad =
        curve_client_new(ZMQ_DEALER, mallory, zcert_public_txt(server_cert),
                         endpoint, 1024, error, sizeof error);
    zstr_send(bad, "let me in");
    msg = s_recv(server, 700);
    ok(msg == NULL, "unknown key is not admitted");
    zmsg_destroy(&msg);

    /* A frame over the limit is dropped by ZeroMQ, which closes the
     * connection; the server keeps serving other clients. */
    char big[2048];
    memset(big, 'x', sizeof big);
    zsock_t *third =
        curve_client_new(ZMQ_DEALER, alice, zcert_public_txt(server_cert),
                         endpoint, 1024 * 1024, error, sizeof error);
    zsock_send(third, "b", big, sizeof big);
    msg = s_recv(server, 700);
    ok(msg == NULL, "oversized frame is dropped");
    zmsg_destroy(&msg);
    zstr_send(good, "still here");
    msg = s_recv(server, 2000);
    ok(msg != NULL, "server still serves after an oversized frame");
    zmsg_destroy(&msg);

    zap_remove(zap, zcert_public_txt(alice));
    zstr_send(good, "after removal");
    msg = s_recv(server, 2000);
    if (msg) {
        const char *user = zframe_meta(zmsg_last(msg), "User-Id");
        ok(!zap_supplier(zap, user, supplier),
           "removed key no longer maps to a supplier on an open connection");
        zmsg_destroy(&msg);
    } else
        ok(1, "removed key's message not delivered");

    const char *keep[] = {"nothing-like-a-key", NULL};
    zap_allow(zap, zcert_public_txt(alice), "ALFA");
    zap_allow(zap, zcert_public_txt(mallory), "MALL");
    zap_retain(zap, keep);
    is_int(zap_size(zap), 0, "retain drops keys not kept");

    ok(curve_client_new(ZMQ_DEALER, alice, "short", endpoint, 1024, error,
                        sizeof error) == NULL,
       "client rejects a bad server key");
    zsock_destroy(&good);
    zsock_destroy(&bad);
    zsock_destroy(&third);
    zsock_destroy(&server);
    zap_destroy(&zap);
    ok(zap == NULL, "destroy nulls the pointer");
    zcert_destroy(&server_cert);
    zcert_destroy(&alice);
    zcert_destroy(&mallory);
    return tap_done();
}
