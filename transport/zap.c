/* ZAP handler: admits CURVE clients whose public key is on an allow-list.
 *
 * The allow-list is shared between the handler thread and the application
 * threads under a mutex, so zap_supplier() on every received message sees
 * removals at once.
 */
#include "zap.h"

#include <czmq.h>
#include <pthread.h>
#include <string.h>

#include "log.h"

#define ZAP_ENDPOINT        "inproc://zeromq.zap.01"
#define ZAP_PING_TIMEOUT_MS 1000

struct zap {
    zactor_t *actor;
    pthread_mutex_t lock;
    zhashx_t *allowed; /* Z85 key -> supplier MPID (strdup'd) */
};

/* Returns the credential of a CURVE request as Z85, or false when the
 * request is not a well-formed CURVE request. */
static bool s_request_key(zmsg_t *request, char *request_id, size_t id_size,
                          char key[41])
{
    if (zmsg_size(request) < 7)
        return false;
    char *version = zmsg_popstr(request);
    char *id = zmsg_popstr(request);
    char *domain = zmsg_popstr(request);
    char *address = zmsg_popstr(request);
    zframe_t *identity = zmsg_pop(request);
    char *mechanism = zmsg_popstr(request);
    zframe_t *credential = zmsg_pop(request);
    bool good = version && streq(version, "1.0") && mechanism &&
                streq(mechanism, "CURVE") && credential &&
                zframe_size(credential) == 32;
    snprintf(request_id, id_size, "%s", id ? id : "");
    if (good)
        zmq_z85_encode(key, zframe_data(credential), 32);
    zstr_free(&version);
    zstr_free(&id);
    zstr_free(&domain);
    zstr_free(&address);
    zframe_destroy(&identity);
    zstr_free(&mechanism);
    zframe_destroy(&credential);
    return good;
}

static void s_reply(zsock_t *handler, const char *request_id, bool admit,
                    const char *key)
{
    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "1.0");
    zmsg_addstr(reply, request_id);
    zmsg_addstr(reply, admit ? "200" : "400");
    zmsg_addstr(reply, admit ? "OK" : "CURVE key not allowed");
    zmsg_addstr(reply, admit ? key : "");
    zmsg_addmem(reply, NULL, 0); /* no metadata */
    zmsg_send(&reply, handler);
}

static void s_handle_request(zap_t *self, zsock_t *handler)
{
    zmsg_t *request = zmsg_recv(handler);
    if (!request)
        return;
    char request_id[256];
    char key[41] = "";
    char supplier[5] = "";
    bool good = s_request_key(request, request_id, sizeof request_id, key);
    bool admit = good && zap_supplier(self, key, supplier);
    if (admit)
        log_debug("CURVE client admitted key=%s supplier=%s", key, supplier);
    else
        log_peer_warning(
            "CURVE client rejected: %s key=%s",
            good ? "key not on the allow-list" : "not a CURVE request", key);
    s_reply(handler, request_id, admit, key);
    zmsg_destroy(&request);
}

static void s_actor(zsock_t *pipe, void *args)
{
    zap_t *self = args;
    zsock_t *handler = zsock_new(ZMQ_REP);
    /* zactor_new ignores the signal's status, so the outcome of the bind
     * follows it as a message. */
    zsock_signal(pipe, 0);
    if (!handler || zsock_bind(handler, ZAP_ENDPOINT) != 0) {
        zsock_destroy(&handler);
        zstr_send(pipe, "FAILED");
        return;
    }
    zstr_send(pipe, "READY");
    zpoller_t *poller = zpoller_new(pipe, handler, NULL);
    while (true) {
        void *which = zpoller_wait(poller, -1);
        if (which == handler) {
            s_handle_request(self, handler);
            continue;
        }
        if (which != pipe)
            break; /* interrupted */
        char *command = zstr_recv(pipe);
        bool stop = !command || streq(command, "$TERM");
        if (command && streq(command, "PING"))
            zstr_send(pipe, "PONG");
        zstr_free(&command);
        if (stop)
            break;
    }
    zpoller_destroy(&poller);
    zsock_destroy(&handler);
}

static void s_free_string(void **item)
{
    free(*item);
    *item = NULL;
}

zap_t *zap_new(void)
{
    zap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->allowed = zhashx_new();
    zhashx_set_destructor(self->allowed, s_free_string);
    self->actor = zactor_new(s_actor, self);
    char *outcome = self->actor ? zstr_recv(self->actor) : NULL;
    bool ready = outcome && streq(outcome, "READY");
    zstr_free(&outcome);
    if (!ready) {
        zactor_destroy(&self->actor);
        log_error("cannot start the ZAP handler: another handler is bound "
                  "to " ZAP_ENDPOINT " in this process");
        zhashx_destroy(&self->allowed);
        pthread_mutex_destroy(&self->lock);
        free(self);
        return NULL;
    }
    return self;
}

void zap_destroy(zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zap_t *self = *self_p;
    zactor_destroy(&self->actor);
    zhashx_destroy(&self->allowed);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

bool zap_is_running(zap_t *self)
{
    if (!self || !self->actor)
        return false;
    if (zstr_send(self->actor, "PING") != 0)
        return false;
    zpoller_t *poller = zpoller_new(self->actor, NULL);
    bool running = false;
    if (zpoller_wait(poller, ZAP_PING_TIMEOUT_MS) == self->actor) {
        char *reply = zstr_recv(self->actor);
        running = reply && streq(reply, "PONG");
        zstr_free(&reply);
    }
    zpoller_destroy(&poller);
    return running;
}

void zap_allow(zap_t *self, const char *curve_key, const char *supplier)
{
    pthread_mutex_lock(&self->lock);
    zhashx_update(self->allowed, curve_key, strdup(supplier));
    pthread_mutex_unlock(&self->lock);
}

void zap_remove(zap_t *self, const char *curve_key)
{
    pthread_mutex_lock(&self->lock);
    zhashx_delete(self->allowed, curve_key);
    pthread_mutex_unlock(&self->lock);
}

static bool s_listed(const char *const *keys, const char *key)
{
    for (; *keys; keys++)
        if (streq(*keys, key))
            return true;
    return false;
}

void zap_retain(zap_t *self, const char *const *keep_keys)
{
    pthread_mutex_lock(&self->lock);
    zlistx_t *keys = zhashx_keys(self->allowed);
    for (const char *key = zlistx_first(keys); key; key = zlistx_next(keys))
        if (!s_listed(keep_keys, key))
            zhashx_delete(self->allowed, key);
    zlistx_destroy(&keys);
    pthread_mutex_unlock(&self->lock);
}

bool zap_supplier(zap_t *self, const char *curve_key, char supplier[5])
{
    if (!curve_key)
        return false;
    pthread_mutex_lock(&self->lock);
    const char *found = zhashx_lookup(self->allowed, curve_key);
    if (found)
        snprintf(supplier, 5, "%s", found);
    pthread_mutex_unlock(&self->lock);
    return found != NULL;
}

size_t zap_size(zap_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t size = zhashx_size(self->allowed);
    pthread_mutex_unlock(&self->lock);
    return size;
}
