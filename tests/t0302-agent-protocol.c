/* Agent protocol codec: round trips and malformed messages. */
#include "agent_protocol.h"
#include "envelope.h"
#include "tap.h"

static const uint8_t s_cid[AGENT_CID_SIZE] = {1, 2,  3,  4,  5,  6,  7,  8,
                                              9, 10, 11, 12, 13, 14, 15, 16};

static int s_decode_frame(zframe_t *frame, agent_message_t *message,
                          char *error, size_t error_size)
{
    int rc = agent_message_decode(zframe_data(frame), zframe_size(frame),
                                  message, error, error_size);
    zframe_destroy(&frame);
    return rc;
}

static void test_hello_round_trip(void)
{
    agent_hello_t hello = {
        .agent = "sim-1", .head_ends = {"sim", "other"}, .head_end_count = 2};
    agent_message_t message;
    char error[256] = "";
    int rc = s_decode_frame(agent_hello_encode(&hello, 1234), &message, error,
                            sizeof error);
    is_int(rc, 0, "hello decodes");
    is_int(message.kind, AGENT_MESSAGE_HELLO, "hello kind");
    is_int(message.ts, 1234, "hello ts");
    is_str(message.hello.agent, "sim-1", "hello agent name");
    is_int(message.hello.head_end_count, 2, "hello head-end count");
    is_str(message.hello.head_ends[0], "sim", "hello first head end");
    is_str(message.hello.head_ends[1], "other", "hello second head end");
    agent_message_clear(&message);
}

static void test_ping_round_trip(void)
{
    agent_message_t message;
    char error[256] = "";
    is_int(s_decode_frame(agent_ping_encode(99), &message, error, sizeof error),
           0, "ping decodes");
    is_int(message.kind, AGENT_MESSAGE_PING, "ping kind");
    is_int(message.ts, 99, "ping ts");
    agent_message_clear(&message);
}

static void test_request_round_trip(void)
{
    agent_request_t request = {.request = "read.profile",
                               .mpxn = "1200000002107",
                               .meter_id = "SIM-MAC000002",
                               .ranges = {{1000, 2000}, {-5, 7}},
                               .range_count = 2};
    memcpy(request.cid, s_cid, sizeof s_cid);
    agent_message_t message;
    char error[256] = "";
    is_int(s_decode_frame(agent_request_encode(&request, 5), &message, error,
                          sizeof error),
           0, "ranged request decodes");
    is_int(message.kind, AGENT_MESSAGE_REQUEST, "request kind");
    is_mem(message.request.cid, s_cid, AGENT_CID_SIZE, "request cid");
    is_str(message.request.request, "read.profile", "request type");
    is_str(message.request.mpxn, "1200000002107", "request mpxn");
    is_str(message.request.meter_id, "SIM-MAC000002", "request meter id");
    is_int(message.request.range_count, 2, "request range count");
    is_int(message.request.ranges[0].from_ms, 1000, "range 1 from");
    is_int(message.request.ranges[0].to_ms, 2000, "range 1 to");
    is_int(message.request.ranges[1].from_ms, -5, "range 2 negative from");
    is_int(message.request.ranges[1].to_ms, 7, "range 2 to");
    agent_message_clear(&message);

    snprintf(request.request, sizeof request.request, "meter.info");
    is_int(s_decode_frame(agent_request_encode(&request, 5), &message, error,
                          sizeof error),
           0, "plain request decodes");
    is_int(message.request.range_count, 0, "plain request has no ranges");
    agent_message_clear(&message);
}

static void test_reply_round_trip(void)
{
    msgpack_sbuffer result;
    msgpack_packer packer;
    msgpack_sbuffer_init(&result);
    msgpack_packer_init(&packer, &result, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, 2);
    mp_pack_kv_i64(&packer, "read_at", 1388534400000LL);
    mp_pack_kv_str(&packer, "name", "import");

    agent_message_t message;
    char error[256] = "";
    zframe_t *frame =
        agent_reply_encode(s_cid, "ok", NULL, 3, result.data, result.size, 77);
    is_int(s_decode_frame(frame, &message, error, sizeof error), 0,
           "ok reply decodes");
    is_int(message.kind, AGENT_MESSAGE_REPLY, "reply kind");
    ok(message.reply != NULL, "reply is set");
    is_mem(message.reply->cid, s_cid, AGENT_CID_SIZE, "reply cid");
    is_str(message.reply->status, "ok", "reply status");
    is_str(message.reply->error, "", "reply error is empty");
    is_int(message.reply->units, 3, "reply units");
    is_int(message.reply->result_size, result.size, "result size kept");
    is_mem(message.reply->result, result.data, result.size,
           "result bytes kept");
    agent_reply_t *taken = message.reply;
    message.reply = NULL;
    agent_message_clear(&message);
    agent_reply_destroy(&taken);
    ok(taken == NULL, "reply destroy nulls the pointer");
    msgpack_sbuffer_destroy(&result);

    frame =
        agent_reply_encode(s_cid, "not_found", "no such meter", 0, NULL, 0, 78);
    is_int(s_decode_frame(frame, &message, error, sizeof error), 0,
           "failure reply decodes");
    is_str(message.reply->status, "not_found", "failure status");
    is_str(message.reply->error, "no such meter", "failure error");
    ok(message.reply->result == NULL, "failure has no result");
    is_int(message.reply->result_size, 0, "failure result size");
    agent_message_clear(&message);
}

static void test_ranges_normalise(void)
{
    agent_range_t ranges[] = {{50, 60}, {10, 20}, {15, 30},
                              {30, 40}, {70, 80}, {72, 75}};
    size_t count = agent_ranges_normalise(ranges, 6);
    is_int(count, 3, "overlapping and touching ranges merge");
    is_int(ranges[0].from_ms, 10, "first merged from");
    is_int(ranges[0].to_ms, 40, "first merged to");
    is_int(ranges[1].from_ms, 50, "second from");
    is_int(ranges[1].to_ms, 60, "second to");
    is_int(ranges[2].from_ms, 70, "contained range absorbed from");
    is_int(ranges[2].to_ms, 80, "contained range absorbed to");
    is_int(agent_ranges_normalise(NULL, 0), 0, "no ranges");
}

/* Builds a message map from a packing callback, for malformed cases. */
typedef void(pack_fn)(msgpack_packer *packer);

static void s_expect_rejected(pack_fn *pack, const char *expected,
                              const char *name)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    pack(&packer);
    agent_message_t message;
    char error[256] = "";
    int rc = agent_message_decode(buffer.data, buffer.size, &message, error,
                                  sizeof error);
    is_int(rc, -1, "%s is rejected", name);
    if (!ok(strstr(error, expected) != NULL, "%s error names the key", name))
        diag("error was '%s', expected it to contain '%s'", error, expected);
    ok(message.reply == NULL, "%s leaves no reply behind", name);
    msgpack_sbuffer_destroy(&buffer);
}

static void s_header(msgpack_packer *packer, size_t size, const char *type)
{
    msgpack_pack_map(packer, size);
    mp_pack_kv_u64(packer, "v", 1);
    mp_pack_kv_str(packer, "type", type);
    mp_pack_kv_i64(packer, "ts", 1);
}

static void s_request_start(msgpack_packer *packer, size_t extra,
                            const char *type)
{
    s_header(packer, 6 + extra, AGENT_TYPE_REQUEST);
    mp_pack_kv_bin(packer, "cid", s_cid, sizeof s_cid);
    mp_pack_kv_str(packer, "request", type);
    mp_pack_kv_str(packer, "mpxn", "1200000002107");
}

static void pack_no_version(msgpack_packer *packer)
{
    msgpack_pack_map(packer, 2);
    mp_pack_kv_str(packer, "type", AGENT_TYPE_PING);
    mp_pack_kv_i64(packer, "ts", 1);
}

static void pack_version_two(msgpack_packer *packer)
{
    msgpack_pack_map(packer, 3);
    mp_pack_kv_u64(packer, "v", 2);
    mp_pack_kv_str(packer, "type", AGENT_TYPE_PING);
    mp_pack_kv_i64(packer, "ts", 1);
}

static void pack_unknown_type(msgpack_packer *packer)
{
    s_header(packer, 3, "agent.bogus");
}

static void pack_string_ts(msgpack_packer *packer)
{
    msgpack_pack_map(packer, 3);
    mp_pack_kv_u64(packer, "v", 1);
    mp_pack_kv_str(packer, "type", AGENT_TYPE_PING);
    mp_pack_kv_str(packer, "ts", "now");
}

static void pack_hello_no_head_ends(msgpack_packer *packer)
{
    s_header(packer, 5, AGENT_TYPE_HELLO);
    mp_pack_kv_str(packer, "agent", "sim");
    mp_pack_cstr(packer, "head_ends");
    msgpack_pack_array(packer, 0);
}

static void pack_hello_number_head_end(msgpack_packer *packer)
{
    s_header(packer, 5, AGENT_TYPE_HELLO);
    mp_pack_kv_str(packer, "agent", "sim");
    mp_pack_cstr(packer, "head_ends");
    msgpack_pack_array(packer, 1);
    msgpack_pack_int(packer, 7);
}

static void pack_request_no_cid(msgpack_packer *packer)
{
    s_header(packer, 6, AGENT_TYPE_REQUEST);
    mp_pack_kv_str(packer, "request", "meter.info");
    mp_pack_kv_str(packer, "mpxn", "1200000002107");
    mp_pack_kv_str(packer, "meter_id", "");
}

static void pack_request_short_cid(msgpack_packer *packer)
{
    s_header(packer, 7, AGENT_TYPE_REQUEST);
    mp_pack_kv_bin(packer, "cid", s_cid, 15);
    mp_pack_kv_str(packer, "request", "meter.info");
    mp_pack_kv_str(packer, "mpxn", "1200000002107");
    mp_pack_kv_str(packer, "meter_id", "");
}

static void pack_request_number_mpxn(msgpack_packer *packer)
{
    s_header(packer, 7, AGENT_TYPE_REQUEST);
    mp_pack_kv_bin(packer, "cid", s_cid, sizeof s_cid);
    mp_pack_kv_str(packer, "request", "meter.info");
    mp_pack_cstr(packer, "mpxn");
    msgpack_pack_uint64(packer, 1200000002107ULL);
    mp_pack_kv_str(packer, "meter_id", "");
}

static void pack_profile_no_ranges(msgpack_packer *packer)
{
    s_request_start(packer, 1, "read.profile");
    mp_pack_kv_str(packer, "meter_id", "");
}

static void pack_profile_empty_ranges(msgpack_packer *packer)
{
    s_request_start(packer, 2, "read.profile");
    mp_pack_kv_str(packer, "meter_id", "");
    mp_pack_cstr(packer, "ranges");
    msgpack_pack_array(packer, 0);
}

static void pack_profile_reversed_range(msgpack_packer *packer)
{
    s_request_start(packer, 2, "read.profile");
    mp_pack_kv_str(packer, "meter_id", "");
    mp_pack_cstr(packer, "ranges");
    msgpack_pack_array(packer, 1);
    msgpack_pack_array(packer, 2);
    msgpack_pack_int64(packer, 5000);
    msgpack_pack_int64(packer, 3000);
}

static void pack_daily_flat_range(msgpack_packer *packer)
{
    s_request_start(packer, 2, "read.daily");
    mp_pack_kv_str(packer, "meter_id", "");
    mp_pack_cstr(packer, "ranges");
    msgpack_pack_array(packer, 2);
    msgpack_pack_int64(packer, 1000);
    msgpack_pack_int64(packer, 2000);
}

static void pack_reply_bad_status(msgpack_packer *packer)
{
    s_header(packer, 6, AGENT_TYPE_REPLY);
    mp_pack_kv_bin(packer, "cid", s_cid, sizeof s_cid);
    mp_pack_kv_str(packer, "status", "denied");
    mp_pack_kv_u64(packer, "units", 0);
}

static void pack_reply_no_result(msgpack_packer *packer)
{
    s_header(packer, 6, AGENT_TYPE_REPLY);
    mp_pack_kv_bin(packer, "cid", s_cid, sizeof s_cid);
    mp_pack_kv_str(packer, "status", "ok");
    mp_pack_kv_u64(packer, "units", 1);
}

static void pack_reply_negative_units(msgpack_packer *packer)
{
    s_header(packer, 6, AGENT_TYPE_REPLY);
    mp_pack_kv_bin(packer, "cid", s_cid, sizeof s_cid);
    mp_pack_kv_str(packer, "status", "not_found");
    mp_pack_kv_i64(packer, "units", -1);
}

static void pack_reply_array_result(msgpack_packer *packer)
{
    s_header(packer, 7, AGENT_TYPE_REPLY);
    mp_pack_kv_bin(packer, "cid", s_cid, sizeof s_cid);
    mp_pack_kv_str(packer, "status", "ok");
    mp_pack_kv_u64(packer, "units", 1);
    mp_pack_cstr(packer, "result");
    msgpack_pack_array(packer, 0);
}

static void pack_array_root(msgpack_packer *packer)
{
    msgpack_pack_array(packer, 1);
    msgpack_pack_int(packer, 1);
}

static void test_malformed_messages(void)
{
    s_expect_rejected(pack_no_version, "missing key 'v'", "missing v");
    s_expect_rejected(pack_version_two, "version 2", "version 2");
    s_expect_rejected(pack_unknown_type, "key 'type'", "unknown type");
    s_expect_rejected(pack_string_ts, "key 'ts' must be an integer",
                      "string ts");
    s_expect_rejected(pack_hello_no_head_ends, "key 'head_ends'",
                      "hello without head ends");
    s_expect_rejected(pack_hello_number_head_end, "key 'head_ends' item 1",
                      "hello with a number head end");
    s_expect_rejected(pack_request_no_cid, "missing key 'cid'",
                      "request without cid");
    s_expect_rejected(pack_request_short_cid, "key 'cid' must be 16 bytes",
                      "request with 15-byte cid");
    s_expect_rejected(pack_request_number_mpxn, "key 'mpxn' must be a string",
                      "request number mpxn");
    s_expect_rejected(pack_profile_no_ranges, "missing key 'ranges'",
                      "profile without ranges");
    s_expect_rejected(pack_profile_empty_ranges, "key 'ranges' must hold",
                      "profile with empty ranges");
    s_expect_rejected(pack_profile_reversed_range,
                      "key 'ranges' item 1 must start before it ends",
                      "profile with reversed range");
    s_expect_rejected(pack_daily_flat_range,
                      "key 'ranges' item 1 must be an array",
                      "daily with flat range");
    s_expect_rejected(pack_reply_bad_status, "key 'status'",
                      "reply with denied status");
    s_expect_rejected(pack_reply_no_result, "missing key 'result'",
                      "ok reply without result");
    s_expect_rejected(pack_reply_negative_units, "key 'units'",
                      "reply with negative units");
    s_expect_rejected(pack_reply_array_result, "key 'result' must be a map",
                      "reply with array result");
    s_expect_rejected(pack_array_root, "expected a msgpack map",
                      "array at the root");
}

static void test_truncated_frames(void)
{
    agent_hello_t hello = {
        .agent = "sim", .head_ends = {"sim"}, .head_end_count = 1};
    zframe_t *frame = agent_hello_encode(&hello, 1);
    agent_message_t message;
    char error[256];
    size_t size = zframe_size(frame);
    int accepted = 0;
    for (size_t cut = 0; cut < size; cut++) {
        if (agent_message_decode(zframe_data(frame), cut, &message, error,
                                 sizeof error) == 0) {
            accepted++;
            agent_message_clear(&message);
        }
    }
    is_int(accepted, 0, "every truncation of a hello is rejected");
    zframe_destroy(&frame);
}

int main(void)
{
    test_hello_round_trip();
    test_ping_round_trip();
    test_request_round_trip();
    test_reply_round_trip();
    test_ranges_normalise();
    test_malformed_messages();
    test_truncated_frames();
    return tap_done();
}
