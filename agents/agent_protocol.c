/* Encoding and decoding of the agent messages. */
#include "agent_protocol.h"

#include "envelope.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* A read.profile reply of the maximum span has about 4,500 periods of 11
 * objects each, so agent messages get wider containers than the envelope
 * defaults. */
static const envelope_limits_t s_agent_limits = {
    .max_depth = 8,
    .max_container = 8192,
    .max_string = 64 * 1024,
    .max_total_items = 131072,
};

static const char *s_reply_statuses[] = {"ok", "not_found", "invalid",
                                         "unavailable"};

bool agent_request_is_ranged(const char *request)
{
    assert(request);
    return strcmp(request, "read.daily") == 0 ||
           strcmp(request, "read.profile") == 0;
}

static int s_compare_ranges(const void *a, const void *b)
{
    const agent_range_t *left = a;
    const agent_range_t *right = b;
    if (left->from_ms != right->from_ms)
        return left->from_ms < right->from_ms ? -1 : 1;
    if (left->to_ms != right->to_ms)
        return left->to_ms < right->to_ms ? -1 : 1;
    return 0;
}

size_t agent_ranges_normalise(agent_range_t *ranges, size_t count)
{
    if (count == 0)
        return 0;
    assert(ranges);
    qsort(ranges, count, sizeof ranges[0], s_compare_ranges);
    size_t merged = 0;
    for (size_t i = 1; i < count; i++) {
        if (ranges[i].from_ms <= ranges[merged].to_ms) {
            if (ranges[i].to_ms > ranges[merged].to_ms)
                ranges[merged].to_ms = ranges[i].to_ms;
        } else {
            ranges[++merged] = ranges[i];
        }
    }
    return merged + 1;
}

/* Starts a message map of map_size entries, three of them v, type, ts. */
static void s_pack_header(msgpack_packer *packer, size_t map_size,
                          const char *type, int64_t ts)
{
    msgpack_pack_map(packer, map_size);
    mp_pack_kv_u64(packer, "v", AGENT_PROTOCOL_VERSION);
    mp_pack_kv_str(packer, "type", type);
    mp_pack_kv_i64(packer, "ts", ts);
}

static zframe_t *s_frame_from(msgpack_sbuffer *buffer)
{
    zframe_t *frame = zframe_new(buffer->data, buffer->size);
    msgpack_sbuffer_destroy(buffer);
    return frame;
}

zframe_t *agent_hello_encode(const agent_hello_t *hello, int64_t ts)
{
    assert(hello);
    assert(hello->head_end_count <= AGENT_MAX_HEAD_ENDS);
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);

    s_pack_header(&packer, 5, AGENT_TYPE_HELLO, ts);
    mp_pack_kv_str(&packer, "agent", hello->agent);
    mp_pack_cstr(&packer, "head_ends");
    msgpack_pack_array(&packer, hello->head_end_count);
    for (size_t i = 0; i < hello->head_end_count; i++)
        mp_pack_cstr(&packer, hello->head_ends[i]);
    return s_frame_from(&buffer);
}

zframe_t *agent_ping_encode(int64_t ts)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    s_pack_header(&packer, 3, AGENT_TYPE_PING, ts);
    return s_frame_from(&buffer);
}

static void s_pack_ranges(msgpack_packer *packer, const agent_range_t *ranges,
                          size_t count)
{
    mp_pack_cstr(packer, "ranges");
    msgpack_pack_array(packer, count);
    for (size_t i = 0; i < count; i++) {
        msgpack_pack_array(packer, 2);
        msgpack_pack_int64(packer, ranges[i].from_ms);
        msgpack_pack_int64(packer, ranges[i].to_ms);
    }
}

zframe_t *agent_request_encode(const agent_request_t *request, int64_t ts)
{
    assert(request);
    assert(request->range_count <= AGENT_MAX_RANGES);
    bool ranged = agent_request_is_ranged(request->request);
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);

    s_pack_header(&packer, ranged ? 8 : 7, AGENT_TYPE_REQUEST, ts);
    mp_pack_kv_bin(&packer, "cid", request->cid, AGENT_CID_SIZE);
    mp_pack_kv_str(&packer, "request", request->request);
    mp_pack_kv_str(&packer, "mpxn", request->mpxn);
    mp_pack_kv_str(&packer, "meter_id", request->meter_id);
    if (ranged)
        s_pack_ranges(&packer, request->ranges, request->range_count);
    return s_frame_from(&buffer);
}

zframe_t *agent_reply_encode(const uint8_t cid[AGENT_CID_SIZE],
                             const char *status, const char *error,
                             uint64_t units, const void *result,
                             size_t result_size, int64_t ts)
{
    assert(cid);
    assert(status);
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);

    s_pack_header(&packer, result ? 8 : 7, AGENT_TYPE_REPLY, ts);
    mp_pack_kv_bin(&packer, "cid", cid, AGENT_CID_SIZE);
    mp_pack_kv_str(&packer, "status", status);
    mp_pack_kv_str(&packer, "error", error ? error : "");
    mp_pack_kv_u64(&packer, "units", units);
    if (result) {
        /* The packer writes straight into the buffer, so the result's
         * bytes can be appended as the value of the last key. */
        mp_pack_cstr(&packer, "result");
        msgpack_sbuffer_write(&buffer, result, result_size);
    }
    return s_frame_from(&buffer);
}

static int s_invalid(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int s_invalid(char *error, size_t error_size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
    return -1;
}

static int s_decode_hello(const msgpack_object *root, agent_hello_t *hello,
                          char *error, size_t error_size)
{
    const msgpack_object *list;
    if (mp_get_str(root, "agent", hello->agent, sizeof hello->agent, error,
                   error_size) ||
        mp_get_container(root, "head_ends", MSGPACK_OBJECT_ARRAY, &list, error,
                         error_size))
        return -1;
    if (hello->agent[0] == '\0')
        return s_invalid(error, error_size, "key 'agent' must not be empty");

    uint32_t count = list->via.array.size;
    if (count == 0 || count > AGENT_MAX_HEAD_ENDS)
        return s_invalid(error, error_size,
                         "key 'head_ends' must list 1 to %d head-end types, "
                         "got %" PRIu32,
                         AGENT_MAX_HEAD_ENDS, count);
    for (uint32_t i = 0; i < count; i++) {
        const msgpack_object *item = &list->via.array.ptr[i];
        if (item->type != MSGPACK_OBJECT_STR || item->via.str.size == 0 ||
            item->via.str.size >= AGENT_HEAD_END_SIZE ||
            memchr(item->via.str.ptr, '\0', item->via.str.size))
            return s_invalid(error, error_size,
                             "key 'head_ends' item %" PRIu32
                             " must be a non-empty string of at most %d bytes",
                             i + 1, AGENT_HEAD_END_SIZE - 1);
        memcpy(hello->head_ends[i], item->via.str.ptr, item->via.str.size);
        hello->head_ends[i][item->via.str.size] = '\0';
    }
    hello->head_end_count = count;
    return 0;
}

static int s_decode_range(const msgpack_object *item, uint32_t index,
                          agent_range_t *range, char *error, size_t error_size)
{
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 2 ||
        !mp_as_i64(&item->via.array.ptr[0], &range->from_ms) ||
        !mp_as_i64(&item->via.array.ptr[1], &range->to_ms))
        return s_invalid(error, error_size,
                         "key 'ranges' item %" PRIu32
                         " must be an array of two integers [from_ms, to_ms]",
                         index + 1);
    if (range->from_ms >= range->to_ms)
        return s_invalid(error, error_size,
                         "key 'ranges' item %" PRIu32
                         " must start before it ends, got [%" PRId64
                         ", %" PRId64 "]",
                         index + 1, range->from_ms, range->to_ms);
    return 0;
}

static int s_decode_ranges(const msgpack_object *root, agent_request_t *request,
                           char *error, size_t error_size)
{
    const msgpack_object *list;
    if (mp_get_container(root, "ranges", MSGPACK_OBJECT_ARRAY, &list, error,
                         error_size))
        return -1;
    uint32_t count = list->via.array.size;
    if (count == 0 || count > AGENT_MAX_RANGES)
        return s_invalid(error, error_size,
                         "key 'ranges' must hold 1 to %d ranges, got %" PRIu32,
                         AGENT_MAX_RANGES, count);
    for (uint32_t i = 0; i < count; i++) {
        if (s_decode_range(&list->via.array.ptr[i], i, &request->ranges[i],
                           error, error_size))
            return -1;
    }
    request->range_count = count;
    return 0;
}

static int s_decode_request(const msgpack_object *root,
                            agent_request_t *request, char *error,
                            size_t error_size)
{
    if (mp_get_bin(root, "cid", request->cid, AGENT_CID_SIZE, error,
                   error_size) ||
        mp_get_str(root, "request", request->request, sizeof request->request,
                   error, error_size) ||
        mp_get_str(root, "mpxn", request->mpxn, sizeof request->mpxn, error,
                   error_size) ||
        mp_get_str(root, "meter_id", request->meter_id,
                   sizeof request->meter_id, error, error_size))
        return -1;
    if (!agent_request_is_ranged(request->request))
        return 0;
    return s_decode_ranges(root, request, error, error_size);
}

static bool s_is_reply_status(const char *status)
{
    size_t count = sizeof s_reply_statuses / sizeof s_reply_statuses[0];
    for (size_t i = 0; i < count; i++) {
        if (strcmp(status, s_reply_statuses[i]) == 0)
            return true;
    }
    return false;
}

/* Copies the result map into reply as msgpack bytes of its own. */
static int s_decode_result(const msgpack_object *root, agent_reply_t *reply,
                           char *error, size_t error_size)
{
    bool required = strcmp(reply->status, "ok") == 0;
    const msgpack_object *result = mp_map_get(root, "result");
    if (!result || result->type == MSGPACK_OBJECT_NIL) {
        if (required)
            return s_invalid(error, error_size, "missing key 'result'");
        return 0;
    }
    if (result->type != MSGPACK_OBJECT_MAP)
        return s_invalid(error, error_size, "key 'result' must be a map");

    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_object(&packer, *result);
    reply->result_size = buffer.size;
    reply->result = (uint8_t *)msgpack_sbuffer_release(&buffer);
    msgpack_sbuffer_destroy(&buffer);
    return 0;
}

static int s_decode_reply(const msgpack_object *root, agent_reply_t *reply,
                          char *error, size_t error_size)
{
    if (mp_get_bin(root, "cid", reply->cid, AGENT_CID_SIZE, error,
                   error_size) ||
        mp_get_str(root, "status", reply->status, sizeof reply->status, error,
                   error_size))
        return -1;
    if (!s_is_reply_status(reply->status))
        return s_invalid(error, error_size,
                         "key 'status' must be ok, not_found, invalid or "
                         "unavailable, got '%s'",
                         reply->status);
    if (mp_get_str_opt(root, "error", reply->error, sizeof reply->error, error,
                       error_size) < 0 ||
        mp_get_u64(root, "units", &reply->units, error, error_size))
        return -1;
    return s_decode_result(root, reply, error, error_size);
}

static int s_decode_header(const msgpack_object *root, char *type,
                           size_t type_size, int64_t *ts, char *error,
                           size_t error_size)
{
    uint64_t version;
    if (mp_get_u64(root, "v", &version, error, error_size))
        return -1;
    if (version != AGENT_PROTOCOL_VERSION)
        return s_invalid(error, error_size,
                         "unsupported agent protocol version %" PRIu64
                         "; this build speaks version %d",
                         version, AGENT_PROTOCOL_VERSION);
    if (mp_get_str(root, "type", type, type_size, error, error_size) ||
        mp_get_i64(root, "ts", ts, error, error_size))
        return -1;
    return 0;
}

static int s_decode_body(const msgpack_object *root, const char *type,
                         agent_message_t *message, char *error,
                         size_t error_size)
{
    if (strcmp(type, AGENT_TYPE_HELLO) == 0) {
        message->kind = AGENT_MESSAGE_HELLO;
        return s_decode_hello(root, &message->hello, error, error_size);
    }
    if (strcmp(type, AGENT_TYPE_PING) == 0) {
        message->kind = AGENT_MESSAGE_PING;
        return 0;
    }
    if (strcmp(type, AGENT_TYPE_REQUEST) == 0) {
        message->kind = AGENT_MESSAGE_REQUEST;
        return s_decode_request(root, &message->request, error, error_size);
    }
    if (strcmp(type, AGENT_TYPE_REPLY) == 0) {
        message->kind = AGENT_MESSAGE_REPLY;
        message->reply = calloc(1, sizeof *message->reply);
        assert(message->reply);
        return s_decode_reply(root, message->reply, error, error_size);
    }
    return s_invalid(error, error_size,
                     "key 'type' must be an agent message type, got '%s'",
                     type);
}

int agent_message_decode(const void *data, size_t size,
                         agent_message_t *message, char *error,
                         size_t error_size)
{
    assert(message);
    memset(message, 0, sizeof *message);
    envelope_t *envelope =
        envelope_decode(data, size, &s_agent_limits, error, error_size);
    if (!envelope)
        return -1;

    const msgpack_object *root = envelope_root(envelope);
    char type[AGENT_REQUEST_TYPE_SIZE];
    int rc = s_decode_header(root, type, sizeof type, &message->ts, error,
                             error_size);
    if (rc == 0)
        rc = s_decode_body(root, type, message, error, error_size);
    envelope_destroy(&envelope);
    if (rc != 0)
        agent_message_clear(message);
    return rc;
}

void agent_message_clear(agent_message_t *message)
{
    if (!message)
        return;
    agent_reply_destroy(&message->reply);
}

void agent_reply_destroy(agent_reply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->result);
    free(*self_p);
    *self_p = NULL;
}
