/* The agent protocol between a node (ROUTER) and its agents (DEALER).
 *
 * Each message is one frame holding one msgpack map with keys v (1), type
 * and ts (UTC ms); the ROUTER adds its routing frame. An agent sends
 * agent.hello {agent, head_ends} on connect and agent.ping every
 * AGENT_HEARTBEAT_MS. The node sends agent.request {cid, request, mpxn,
 * meter_id, ranges} and the agent replies with agent.reply {cid, status,
 * error, units, result}. Ranges are half-open [from, to) UTC ms pairs, sent
 * only with the ranged request types read.daily and read.profile.
 */
#ifndef SDX_AGENT_PROTOCOL_H
#define SDX_AGENT_PROTOCOL_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_PROTOCOL_VERSION 1
#define AGENT_HEARTBEAT_MS     1000
/* The node drops an agent it has not heard from for this long. */
#define AGENT_SILENCE_MS 3000

#define AGENT_CID_SIZE          16
#define AGENT_NAME_SIZE         64
#define AGENT_HEAD_END_SIZE     32
#define AGENT_MAX_HEAD_ENDS     8
#define AGENT_REQUEST_TYPE_SIZE 32
#define AGENT_MPXN_SIZE         16
#define AGENT_METER_ID_SIZE     64
#define AGENT_STATUS_SIZE       32
#define AGENT_ERROR_SIZE        256
/* Ranges in one request; the node sends one per registration period it
 * serves, so a handful is normal. */
#define AGENT_MAX_RANGES 64

#define AGENT_TYPE_HELLO   "agent.hello"
#define AGENT_TYPE_PING    "agent.ping"
#define AGENT_TYPE_REQUEST "agent.request"
#define AGENT_TYPE_REPLY   "agent.reply"

typedef struct {
    int64_t from_ms; /* inclusive */
    int64_t to_ms;   /* exclusive */
} agent_range_t;

typedef enum {
    AGENT_MESSAGE_HELLO,
    AGENT_MESSAGE_PING,
    AGENT_MESSAGE_REQUEST,
    AGENT_MESSAGE_REPLY,
} agent_message_kind_t;

typedef struct {
    char agent[AGENT_NAME_SIZE];
    char head_ends[AGENT_MAX_HEAD_ENDS][AGENT_HEAD_END_SIZE];
    size_t head_end_count;
} agent_hello_t;

typedef struct {
    uint8_t cid[AGENT_CID_SIZE];
    char request[AGENT_REQUEST_TYPE_SIZE]; /* such as "read.profile" */
    char mpxn[AGENT_MPXN_SIZE];
    char meter_id[AGENT_METER_ID_SIZE];
    agent_range_t ranges[AGENT_MAX_RANGES];
    size_t range_count; /* 0 unless the type is ranged */
} agent_request_t;

typedef struct {
    uint8_t cid[AGENT_CID_SIZE];
    char status[AGENT_STATUS_SIZE]; /* ok, not_found, invalid, unavailable */
    char error[AGENT_ERROR_SIZE];   /* empty when status is ok */
    uint64_t units;
    uint8_t *result;    /* msgpack bytes of the result map, or NULL */
    size_t result_size; /* 0 when result is NULL */
} agent_reply_t;

/* One decoded message; only the member that matches kind is filled. */
typedef struct {
    agent_message_kind_t kind;
    int64_t ts;
    agent_hello_t hello;
    agent_request_t request;
    agent_reply_t *reply; /* owned by the message unless taken */
} agent_message_t;

/* Returns true for the request types that carry ranges. */
bool agent_request_is_ranged(const char *request);

/* Sorts ranges by start and merges the ones that overlap or touch, in
 * place, so each instant is covered at most once. Returns the new count. */
size_t agent_ranges_normalise(agent_range_t *ranges, size_t count);

/* Encoders. Each returns a new frame that the caller owns. */
zframe_t *agent_hello_encode(const agent_hello_t *hello, int64_t ts);
zframe_t *agent_ping_encode(int64_t ts);
zframe_t *agent_request_encode(const agent_request_t *request, int64_t ts);
/* result (result_size bytes of one msgpack map) is copied in as it is;
 * NULL leaves the key out. */
zframe_t *agent_reply_encode(const uint8_t cid[AGENT_CID_SIZE],
                             const char *status, const char *error,
                             uint64_t units, const void *result,
                             size_t result_size, int64_t ts);

/* Decodes one frame into message. Returns 0, or -1 with a sentence in
 * error naming the missing or mistyped key. On success the caller
 * releases the message with agent_message_clear. */
int agent_message_decode(const void *data, size_t size,
                         agent_message_t *message, char *error,
                         size_t error_size) __attribute__((warn_unused_result));

/* Frees what a decoded message owns (its reply, unless taken). */
void agent_message_clear(agent_message_t *message);

/* Frees a reply and nulls the pointer; accepts NULL. */
void agent_reply_destroy(agent_reply_t **self_p);

#endif
