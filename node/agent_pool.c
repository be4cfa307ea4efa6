/* The node's agent pool: agent liveness, round-robin dispatch and the
 * table of pending requests. */
#include "agent_pool.h"

#include "clock.h"
#include "hex.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A ZeroMQ routing id is 1 to 255 bytes. */
#define ROUTING_ID_MAX 255
/* Agents run on the node's own host, so more than this many at once means
 * something keeps reconnecting under new ids. */
#define POOL_MAX_AGENTS 1024
/* An agent silent for AGENT_SILENCE_MS gets no requests, but a heartbeat
 * makes it live again. Once it has been silent this long, it is removed
 * and must send a new hello. */
#define POOL_FORGET_MS 60000

typedef struct {
    uint8_t routing_id[ROUTING_ID_MAX];
    size_t routing_id_size;
    agent_hello_t hello;
    int64_t last_seen_ms;
} pool_agent_t;

typedef struct {
    uint8_t cid[AGENT_CID_SIZE];
    uint8_t routing_id[ROUTING_ID_MAX];
    size_t routing_id_size;
    int64_t deadline_ms;
} pool_pending_t;

struct agent_pool {
    zsock_t *router;
    char *endpoint;
    int timeout_ms;
    pool_agent_t *agents;
    size_t agent_count;
    size_t agent_capacity;
    size_t cursor; /* where the next round-robin search starts */
    /* Pending requests in the order sent, which is deadline order because
     * every request gets the same timeout. The hash maps a cid's hex text
     * to its handle in the list. */
    zlistx_t *pending;
    zhashx_t *pending_by_cid;
};

static void s_pending_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

static bool s_can_connect(const struct sockaddr_un *address)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    bool connected =
        connect(fd, (const struct sockaddr *)address, sizeof *address) == 0;
    close(fd);
    return connected;
}

/* Returns true when something listens on the ipc endpoint already. libzmq
 * unlinks an existing ipc socket file when it binds, so without this check
 * a second node would silently take over the first one's agents. A socket
 * closed a moment ago in this process may still accept for a few ms while
 * libzmq shuts it down, so only a listener that stays up counts. */
static bool s_ipc_in_use(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return false;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    const char *path = endpoint + 6;
    if (strlen(path) >= sizeof address.sun_path)
        return false;
    strcpy(address.sun_path, path);
    for (int attempt = 0; attempt < 10; attempt++) {
        if (!s_can_connect(&address))
            return false;
        zclock_sleep(50);
    }
    return true;
}

agent_pool_t *agent_pool_new(const char *endpoint, int timeout_ms)
{
    assert(endpoint);
    assert(timeout_ms > 0);
    agent_pool_t *self = calloc(1, sizeof *self);
    assert(self);
    self->endpoint = strdup(endpoint);
    self->timeout_ms = timeout_ms;
    self->pending = zlistx_new();
    zlistx_set_destructor(self->pending, s_pending_destroy);
    self->pending_by_cid = zhashx_new();

    if (s_ipc_in_use(endpoint)) {
        log_error("failed to bind agent endpoint=%s: another process is "
                  "listening there; stop it or use another run folder",
                  endpoint);
        agent_pool_destroy(&self);
        return NULL;
    }
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router) {
        log_error("failed to create agent socket endpoint=%s", endpoint);
        agent_pool_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->router, 0);
    /* Report an unknown routing id as an error instead of dropping the
     * request silently, so another agent can be tried. */
    zsock_set_router_mandatory(self->router, 1);
    if (zsock_bind(self->router, "%s", endpoint) == -1) {
        log_error("failed to bind agent endpoint=%s: %s; check that the run "
                  "folder exists and no other node uses it",
                  endpoint, zmq_strerror(zmq_errno()));
        agent_pool_destroy(&self);
        return NULL;
    }
    log_info("agent pool listening endpoint=%s timeout_ms=%d", endpoint,
             timeout_ms);
    return self;
}

void agent_pool_destroy(agent_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agent_pool_t *self = *self_p;
    zsock_destroy(&self->router);
    zlistx_destroy(&self->pending);
    zhashx_destroy(&self->pending_by_cid);
    free(self->agents);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

zsock_t *agent_pool_socket(agent_pool_t *self)
{
    assert(self);
    return self->router;
}

static bool s_serves(const pool_agent_t *agent, const char *head_end)
{
    for (size_t i = 0; i < agent->hello.head_end_count; i++) {
        if (strcmp(agent->hello.head_ends[i], head_end) == 0)
            return true;
    }
    return false;
}

static bool s_is_live(const pool_agent_t *agent, int64_t now_ms)
{
    return now_ms - agent->last_seen_ms <= AGENT_SILENCE_MS;
}

static void s_remove_agent(agent_pool_t *self, size_t index, const char *why)
{
    log_info("agent removed, %s agent=%s", why,
             self->agents[index].hello.agent);
    memmove(&self->agents[index], &self->agents[index + 1],
            (self->agent_count - index - 1) * sizeof self->agents[0]);
    self->agent_count--;
    if (self->cursor > index)
        self->cursor--;
}

/* Forgets the agents that have been silent for POOL_FORGET_MS. */
static void s_prune(agent_pool_t *self, int64_t now_ms)
{
    size_t i = 0;
    while (i < self->agent_count) {
        if (now_ms - self->agents[i].last_seen_ms <= POOL_FORGET_MS)
            i++;
        else
            s_remove_agent(self, i, "silent for too long");
    }
}

static pool_agent_t *s_find_agent(agent_pool_t *self, zframe_t *routing_id)
{
    size_t size = zframe_size(routing_id);
    for (size_t i = 0; i < self->agent_count; i++) {
        pool_agent_t *agent = &self->agents[i];
        if (agent->routing_id_size == size &&
            memcmp(agent->routing_id, zframe_data(routing_id), size) == 0)
            return agent;
    }
    return NULL;
}

static int s_send_to(agent_pool_t *self, const pool_agent_t *agent,
                     zframe_t *payload)
{
    zframe_t *routing_id =
        zframe_new(agent->routing_id, agent->routing_id_size);
    int rc =
        zframe_send(&routing_id, self->router, ZFRAME_MORE | ZFRAME_DONTWAIT);
    if (rc == 0)
        rc =
            zframe_send(&payload, self->router, ZFRAME_REUSE | ZFRAME_DONTWAIT);
    zframe_destroy(&routing_id);
    return rc;
}

static void s_add_pending(agent_pool_t *self, const pool_agent_t *agent,
                          const uint8_t cid[AGENT_CID_SIZE], int64_t now_ms)
{
    pool_pending_t *pending = calloc(1, sizeof *pending);
    assert(pending);
    memcpy(pending->cid, cid, AGENT_CID_SIZE);
    memcpy(pending->routing_id, agent->routing_id, agent->routing_id_size);
    pending->routing_id_size = agent->routing_id_size;
    pending->deadline_ms = now_ms + self->timeout_ms;

    char key[2 * AGENT_CID_SIZE + 1];
    hex_encode(cid, AGENT_CID_SIZE, key);
    void *handle = zhashx_lookup(self->pending_by_cid, key);
    if (handle) {
        /* A cid sent again replaces the earlier wait. */
        zlistx_delete(self->pending, handle);
        zhashx_delete(self->pending_by_cid, key);
    }
    handle = zlistx_add_end(self->pending, pending);
    zhashx_insert(self->pending_by_cid, key, handle);
}

static zframe_t *s_encode_request(const uint8_t cid[AGENT_CID_SIZE],
                                  const char *type, const char *mpxn,
                                  const char *meter_id,
                                  const agent_range_t *ranges,
                                  size_t range_count, int64_t now_ms)
{
    agent_request_t request;
    memset(&request, 0, sizeof request);
    memcpy(request.cid, cid, AGENT_CID_SIZE);
    snprintf(request.request, sizeof request.request, "%s", type);
    snprintf(request.mpxn, sizeof request.mpxn, "%s", mpxn);
    snprintf(request.meter_id, sizeof request.meter_id, "%s",
             meter_id ? meter_id : "");
    if (agent_request_is_ranged(type) && range_count > 0) {
        memcpy(request.ranges, ranges, range_count * sizeof ranges[0]);
        request.range_count = range_count;
    }
    return agent_request_encode(&request, now_ms);
}

int agent_pool_send(agent_pool_t *self, const char *head_end,
                    const uint8_t cid[AGENT_CID_SIZE], const char *type,
                    const char *mpxn, const char *meter_id,
                    const agent_range_t *ranges, size_t range_count,
                    int64_t now_ms)
{
    assert(self);
    assert(head_end);
    assert(cid);
    assert(type);
    assert(mpxn);
    assert(range_count <= AGENT_MAX_RANGES);
    assert(range_count == 0 || ranges);
    s_prune(self, now_ms);

    zframe_t *payload = s_encode_request(cid, type, mpxn, meter_id, ranges,
                                         range_count, now_ms);
    int rc = -1;
    size_t tried = 0;
    while (rc != 0 && tried < self->agent_count) {
        size_t index = (self->cursor + tried) % self->agent_count;
        pool_agent_t *agent = &self->agents[index];
        if (!s_serves(agent, head_end) || !s_is_live(agent, now_ms)) {
            tried++;
        } else if (s_send_to(self, agent, payload) == 0) {
            s_add_pending(self, agent, cid, now_ms);
            self->cursor = index + 1;
            rc = 0;
        } else if (zmq_errno() == EHOSTUNREACH) {
            /* The ROUTER has no such peer any more, so the agent has
             * disconnected. Removing it moves the next agent into index,
             * and the cursor moves with it, so tried stays. */
            s_remove_agent(self, index, "disconnected");
        } else {
            log_warning("failed to send request to agent agent=%s: %s",
                        agent->hello.agent, zmq_strerror(zmq_errno()));
            tried++;
        }
    }
    zframe_destroy(&payload);
    return rc;
}

static void s_handle_hello(agent_pool_t *self, zframe_t *routing_id,
                           const agent_hello_t *hello, int64_t now_ms)
{
    pool_agent_t *agent = s_find_agent(self, routing_id);
    if (!agent) {
        if (self->agent_count == POOL_MAX_AGENTS) {
            log_peer_warning("ignored agent hello, already %d agents agent=%s",
                             POOL_MAX_AGENTS, hello->agent);
            return;
        }
        if (self->agent_count == self->agent_capacity) {
            self->agent_capacity = self->agent_capacity * 2 + 4;
            self->agents = realloc(self->agents, self->agent_capacity *
                                                     sizeof self->agents[0]);
            assert(self->agents);
        }
        agent = &self->agents[self->agent_count++];
        memset(agent, 0, sizeof *agent);
        agent->routing_id_size = zframe_size(routing_id);
        memcpy(agent->routing_id, zframe_data(routing_id),
               agent->routing_id_size);
        log_info("agent joined agent=%s head_end=%s head_ends=%zu",
                 hello->agent, hello->head_ends[0], hello->head_end_count);
    }
    agent->hello = *hello;
    agent->last_seen_ms = now_ms;
}

/* Takes the reply out of message when it is for a pending request of the
 * agent that sent it. Returns 1, 0 for a late reply, -1 for a reply from
 * another agent. */
static int s_handle_reply(agent_pool_t *self, zframe_t *routing_id,
                          agent_message_t *message, agent_reply_t **reply)
{
    char key[2 * AGENT_CID_SIZE + 1];
    hex_encode(message->reply->cid, AGENT_CID_SIZE, key);
    void *handle = zhashx_lookup(self->pending_by_cid, key);
    if (!handle) {
        log_info("ignored agent reply to no pending request, probably after "
                 "its timeout cid=%s",
                 key);
        return 0;
    }
    pool_pending_t *pending = zlistx_handle_item(handle);
    if (pending->routing_id_size != zframe_size(routing_id) ||
        memcmp(pending->routing_id, zframe_data(routing_id),
               pending->routing_id_size) != 0) {
        log_peer_warning("dropped agent reply from an agent the request was "
                         "not sent to cid=%s",
                         key);
        return -1;
    }
    zlistx_delete(self->pending, handle);
    zhashx_delete(self->pending_by_cid, key);
    *reply = message->reply;
    message->reply = NULL;
    return 1;
}

static int s_dispatch(agent_pool_t *self, zframe_t *routing_id,
                      agent_message_t *message, agent_reply_t **reply)
{
    int64_t now_ms = clock_now_ms();
    if (message->kind == AGENT_MESSAGE_HELLO) {
        s_handle_hello(self, routing_id, &message->hello, now_ms);
        return 0;
    }
    pool_agent_t *agent = s_find_agent(self, routing_id);
    if (agent)
        agent->last_seen_ms = now_ms;
    if (message->kind == AGENT_MESSAGE_PING) {
        if (!agent)
            log_debug("ignored heartbeat from an agent that sent no hello");
        return 0;
    }
    if (message->kind == AGENT_MESSAGE_REPLY)
        return s_handle_reply(self, routing_id, message, reply);
    log_peer_warning("dropped agent message of a type only nodes send "
                     "type=%s",
                     AGENT_TYPE_REQUEST);
    return -1;
}

int agent_pool_receive(agent_pool_t *self, agent_reply_t **reply)
{
    assert(self);
    assert(reply);
    *reply = NULL;
    zmsg_t *msg = zmsg_recv(self->router);
    if (!msg)
        return -1;
    if (zmsg_size(msg) != 2) {
        log_peer_warning("dropped agent message with %zu frames, expected "
                         "one after the routing id",
                         zmsg_size(msg) - 1);
        zmsg_destroy(&msg);
        return -1;
    }
    zframe_t *routing_id = zmsg_first(msg);
    zframe_t *payload = zmsg_next(msg);
    agent_message_t message;
    char error[AGENT_ERROR_SIZE];
    int rc = -1;
    if (agent_message_decode(zframe_data(payload), zframe_size(payload),
                             &message, error, sizeof error) != 0) {
        pool_agent_t *agent = s_find_agent(self, routing_id);
        log_peer_warning("dropped malformed agent message: %s agent=%s", error,
                         agent ? agent->hello.agent : "unknown");
    } else {
        rc = s_dispatch(self, routing_id, &message, reply);
        agent_message_clear(&message);
    }
    zmsg_destroy(&msg);
    return rc;
}

bool agent_pool_next_expired(agent_pool_t *self, int64_t now_ms,
                             uint8_t cid[AGENT_CID_SIZE])
{
    assert(self);
    assert(cid);
    pool_pending_t *first = zlistx_first(self->pending);
    if (!first || first->deadline_ms > now_ms)
        return false;
    memcpy(cid, first->cid, AGENT_CID_SIZE);
    char key[2 * AGENT_CID_SIZE + 1];
    hex_encode(first->cid, AGENT_CID_SIZE, key);
    zhashx_delete(self->pending_by_cid, key);
    zlistx_delete(self->pending, zlistx_cursor(self->pending));
    return true;
}

size_t agent_pool_live_count(agent_pool_t *self, const char *head_end)
{
    assert(self);
    assert(head_end);
    int64_t now_ms = clock_now_ms();
    size_t count = 0;
    for (size_t i = 0; i < self->agent_count; i++) {
        if (s_is_live(&self->agents[i], now_ms) &&
            s_serves(&self->agents[i], head_end))
            count++;
    }
    return count;
}

size_t agent_pool_pending_count(agent_pool_t *self)
{
    assert(self);
    return zlistx_size(self->pending);
}
