/* The agent side of the agent protocol: hello, heartbeats and one handler
 * call per request. */
#include "agent.h"

#include "clock.h"
#include "envelope.h"
#include "log.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>

struct agent {
    zsock_t *dealer;
    zactor_t *monitor; /* connection events; NULL on inproc */
    char *endpoint;
    agent_hello_t hello;
    agent_handler_fn *handler;
    void *handler_arg;
    int64_t next_ping_ms;
};

void agent_response_fail(agent_response_t *response, const char *status,
                         const char *format, ...)
{
    assert(response);
    assert(status);
    snprintf(response->status, sizeof response->status, "%s", status);
    va_list args;
    va_start(args, format);
    vsnprintf(response->error, sizeof response->error, format, args);
    va_end(args);
    msgpack_sbuffer_clear(&response->result);
}

/* Sends frame without blocking and destroys it. A full queue means the
 * node is away, and the node times requests out by itself, so a dropped
 * frame is only logged. */
static void s_send(agent_t *self, zframe_t *frame, const char *what)
{
    assert(frame);
    if (zframe_send(&frame, self->dealer, ZFRAME_DONTWAIT) != 0)
        log_debug("dropped agent message, node not reachable type=%s "
                  "agent=%s",
                  what, self->hello.agent);
    zframe_destroy(&frame);
}

static void s_send_hello(agent_t *self)
{
    s_send(self, agent_hello_encode(&self->hello, clock_now_ms()),
           AGENT_TYPE_HELLO);
}

/* Watches connection events on ipc and tcp, so agent.hello can be sent
 * again to a node that restarted. libzmq emits no events for inproc. */
static int s_start_monitor(agent_t *self)
{
    self->monitor = zactor_new(zmonitor, self->dealer);
    if (!self->monitor)
        return -1;
    zstr_sendx(self->monitor, "LISTEN", "CONNECTED", "DISCONNECTED", NULL);
    zstr_sendx(self->monitor, "START", NULL);
    return zsock_wait(self->monitor) == 0 ? 0 : -1;
}

static void s_copy_hello(agent_t *self, const agent_config_t *config)
{
    snprintf(self->hello.agent, sizeof self->hello.agent, "%s", config->name);
    for (size_t i = 0; i < config->head_end_count; i++)
        snprintf(self->hello.head_ends[i], AGENT_HEAD_END_SIZE, "%s",
                 config->head_ends[i]);
    self->hello.head_end_count = config->head_end_count;
}

agent_t *agent_new(const agent_config_t *config)
{
    assert(config);
    assert(config->endpoint);
    assert(config->name);
    assert(config->handler);
    assert(config->head_end_count >= 1);
    assert(config->head_end_count <= AGENT_MAX_HEAD_ENDS);

    agent_t *self = calloc(1, sizeof *self);
    assert(self);
    self->endpoint = strdup(config->endpoint);
    self->handler = config->handler;
    self->handler_arg = config->handler_arg;
    s_copy_hello(self, config);
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->dealer) {
        log_error("failed to create agent socket agent=%s", config->name);
        agent_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->dealer, 0);

    bool inproc = strncmp(config->endpoint, "inproc://", 9) == 0;
    if (!inproc && s_start_monitor(self) != 0) {
        log_error("failed to monitor agent socket agent=%s", config->name);
        agent_destroy(&self);
        return NULL;
    }
    if (zsock_connect(self->dealer, "%s", config->endpoint) != 0) {
        log_error("failed to connect agent to node endpoint=%s: %s; check "
                  "the endpoint, such as ipc:///run/sdx/agents",
                  config->endpoint, zmq_strerror(zmq_errno()));
        agent_destroy(&self);
        return NULL;
    }
    if (inproc)
        s_send_hello(self);
    self->next_ping_ms = clock_now_ms() + AGENT_HEARTBEAT_MS;
    return self;
}

void agent_destroy(agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agent_t *self = *self_p;
    zactor_destroy(&self->monitor);
    zsock_destroy(&self->dealer);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

void agent_response_init(agent_response_t *response)
{
    assert(response);
    memset(response, 0, sizeof *response);
    snprintf(response->status, sizeof response->status, "%s", STATUS_OK);
    msgpack_sbuffer_init(&response->result);
    msgpack_packer_init(&response->packer, &response->result,
                        msgpack_sbuffer_write);
}

void agent_response_clear(agent_response_t *response)
{
    assert(response);
    msgpack_sbuffer_destroy(&response->result);
}

static void s_serve(agent_t *self, const agent_request_t *request)
{
    agent_response_t response;
    agent_response_init(&response);
    self->handler(self->handler_arg, request, &response);

    bool ok = strcmp(response.status, STATUS_OK) == 0;
    if (ok && response.result.size == 0) {
        log_error("agent handler returned no result request=%s mpxn=%s",
                  request->request, request->mpxn);
        agent_response_fail(&response, STATUS_UNAVAILABLE,
                            "the agent produced no result for %s",
                            request->request);
        ok = false;
    }
    zframe_t *reply =
        agent_reply_encode(request->cid, response.status, response.error,
                           response.units, ok ? response.result.data : NULL,
                           ok ? response.result.size : 0, clock_now_ms());
    s_send(self, reply, AGENT_TYPE_REPLY);
    agent_response_clear(&response);
}

/* Replies with status invalid to a request that failed to decode, when its
 * cid can still be read. Without a cid the node could not match a reply,
 * so the request is only logged. */
static void s_reject(agent_t *self, zframe_t *frame, const char *reason)
{
    char error[AGENT_ERROR_SIZE];
    uint8_t cid[AGENT_CID_SIZE];
    envelope_t *envelope = envelope_decode(
        zframe_data(frame), zframe_size(frame), NULL, error, sizeof error);
    int rc = -1;
    if (envelope)
        rc = mp_get_bin(envelope_root(envelope), "cid", cid, sizeof cid, error,
                        sizeof error);
    envelope_destroy(&envelope);

    log_peer_warning("rejected malformed request from node: %s agent=%s",
                     reason, self->hello.agent);
    if (rc != 0)
        return;
    char sentence[AGENT_ERROR_SIZE];
    snprintf(sentence, sizeof sentence, "malformed agent request: %.200s",
             reason);
    s_send(self,
           agent_reply_encode(cid, STATUS_INVALID, sentence, 0, NULL, 0,
                              clock_now_ms()),
           AGENT_TYPE_REPLY);
}

static void s_handle_dealer(agent_t *self)
{
    zframe_t *frame = zframe_recv(self->dealer);
    if (!frame)
        return;
    agent_message_t message;
    char error[AGENT_ERROR_SIZE];
    if (agent_message_decode(zframe_data(frame), zframe_size(frame), &message,
                             error, sizeof error) != 0) {
        s_reject(self, frame, error);
        zframe_destroy(&frame);
        return;
    }
    zframe_destroy(&frame);
    if (message.kind == AGENT_MESSAGE_REQUEST)
        s_serve(self, &message.request);
    else
        log_peer_warning("ignored agent message that only agents send "
                         "kind=%d agent=%s",
                         (int)message.kind, self->hello.agent);
    agent_message_clear(&message);
}

static void s_handle_monitor(agent_t *self)
{
    zmsg_t *event = zmsg_recv(self->monitor);
    if (!event)
        return;
    char *name = zmsg_popstr(event);
    if (name && strcmp(name, "CONNECTED") == 0) {
        log_info("agent connected to node endpoint=%s agent=%s", self->endpoint,
                 self->hello.agent);
        s_send_hello(self);
    } else if (name && strcmp(name, "DISCONNECTED") == 0) {
        log_warning("agent lost its node connection, reconnecting "
                    "endpoint=%s agent=%s",
                    self->endpoint, self->hello.agent);
    }
    zstr_free(&name);
    zmsg_destroy(&event);
}

/* Returns true when pipe asked the loop to end. */
static bool s_handle_pipe(zsock_t *pipe)
{
    char *command = zstr_recv(pipe);
    bool end = !command || strcmp(command, "$TERM") == 0;
    zstr_free(&command);
    return end;
}

static void s_heartbeat(agent_t *self)
{
    int64_t now = clock_now_ms();
    if (now < self->next_ping_ms)
        return;
    s_send(self, agent_ping_encode(now), AGENT_TYPE_PING);
    self->next_ping_ms = now + AGENT_HEARTBEAT_MS;
}

static int s_wait_ms(const agent_t *self)
{
    int64_t wait = self->next_ping_ms - clock_now_ms();
    if (wait < 0)
        return 0;
    if (wait > AGENT_HEARTBEAT_MS)
        return AGENT_HEARTBEAT_MS;
    return (int)wait;
}

void agent_run(agent_t *self, zsock_t *pipe)
{
    assert(self);
    zpoller_t *poller = zpoller_new(self->dealer, NULL);
    assert(poller);
    if (self->monitor)
        zpoller_add(poller, self->monitor);
    if (pipe)
        zpoller_add(poller, pipe);

    log_info("agent started endpoint=%s agent=%s", self->endpoint,
             self->hello.agent);
    while (true) {
        void *which = zpoller_wait(poller, s_wait_ms(self));
        if (zpoller_terminated(poller))
            break;
        if (which == self->dealer)
            s_handle_dealer(self);
        else if (self->monitor && which == self->monitor)
            s_handle_monitor(self);
        else if (pipe && which == pipe && s_handle_pipe(pipe))
            break;
        s_heartbeat(self);
    }
    log_info("agent stopped agent=%s", self->hello.agent);
    zpoller_destroy(&poller);
}

void agent_actor_ready(zsock_t *pipe, int status)
{
    /* zactor_new takes the first signal; agent_actor_start the second. */
    zsock_signal(pipe, 0);
    zsock_signal(pipe, (uint8_t)(status == 0 ? 0 : 1));
}

zactor_t *agent_actor_start(zactor_fn *actor, void *args)
{
    zactor_t *self = zactor_new(actor, args);
    if (!self)
        return NULL;
    if (zsock_wait(self) != 0) {
        zactor_destroy(&self);
        return NULL;
    }
    return self;
}

void agent_actor(zsock_t *pipe, void *args)
{
    agent_t *agent = agent_new((const agent_config_t *)args);
    agent_actor_ready(pipe, agent ? 0 : -1);
    if (!agent)
        return;
    agent_run(agent, pipe);
    agent_destroy(&agent);
}
