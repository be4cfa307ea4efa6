/* The change feed's messages and the dir.changes answer: round trips,
 * the exact bytes of one dir.change message, and every rejected form. */
#include <stdlib.h>
#include <string.h>

#include "dir_changes.h"
#include "envelope.h"
#include "hex.h"
#include "tap.h"

static dir_change_t s_change(uint64_t number, const char *kind,
                             const char *mpxn, const char *mpid)
{
    dir_change_t change = {.number = number, .at_ms = 1370700000000};
    snprintf(change.kind, sizeof change.kind, "%s", kind);
    snprintf(change.mpxn, sizeof change.mpxn, "%s", mpxn ? mpxn : "");
    snprintf(change.mpid, sizeof change.mpid, "%s", mpid ? mpid : "");
    return change;
}

static int s_decode(const msgpack_sbuffer *buffer, dir_feed_message_t *out,
                    char *error, size_t error_size)
{
    return dir_changes_decode_message(buffer->data, buffer->size, out, error,
                                      error_size);
}

static void test_change_round_trip(void)
{
    const dir_change_t cases[] = {
        s_change(7, DIR_CHANGE_SUPPLIER, "1200023305967", NULL),
        s_change(8, "key", NULL, "ALFA"),
        s_change(9, DIR_CHANGE_LOAD, NULL, NULL),
        s_change(10, DIR_CHANGE_WITHDRAWAL, "5100000003", NULL),
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init(&buffer);
        dir_changes_pack_change(&buffer, &cases[i], 1370700000123);
        dir_feed_message_t message;
        char error[256] = "";
        is_int(s_decode(&buffer, &message, error, sizeof error), 0,
               "change %llu decodes: %s", (unsigned long long)cases[i].number,
               error);
        ok(!message.is_head, "change %zu is not a head", i);
        is_int(message.ts, 1370700000123, "change %zu keeps ts", i);
        is_int(message.change.number, cases[i].number, "change %zu number", i);
        is_str(message.change.kind, cases[i].kind, "change %zu kind", i);
        is_str(message.change.mpxn, cases[i].mpxn, "change %zu mpxn", i);
        is_str(message.change.mpid, cases[i].mpid, "change %zu mpid", i);
        is_int(message.change.at_ms, cases[i].at_ms, "change %zu at", i);
        msgpack_sbuffer_destroy(&buffer);
    }
}

/* The bytes docs/protocol.md shows for change 7. */
static const char s_change_7_hex[] =
    "87a17601a474797065aa6469722e6368616e6765a27473cf0000013f24162b7b"
    "a66368616e676507a46b696e64b26368616e67655f6f665f737570706c696572"
    "a46d70786ead31323030303233333035393637a26174cf0000013f24162b00";

static void test_change_bytes(void)
{
    dir_change_t change =
        s_change(7, DIR_CHANGE_SUPPLIER, "1200023305967", NULL);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_changes_pack_change(&buffer, &change, 1370700000123);
    char hex[512];
    hex_encode((const uint8_t *)buffer.data, buffer.size, hex);
    is_str(hex, s_change_7_hex, "dir.change bytes are as documented");
    msgpack_sbuffer_destroy(&buffer);
}

static void test_head_round_trip(void)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_changes_pack_head(&buffer, 42, 1370700000000);
    dir_feed_message_t message;
    char error[256] = "";
    is_int(s_decode(&buffer, &message, error, sizeof error), 0,
           "head decodes: %s", error);
    ok(message.is_head, "it is a head");
    is_int(message.head, 42, "it carries the latest number");
    msgpack_sbuffer_destroy(&buffer);
}

/* Packs the body of a test message. */
typedef void (*s_pack_body_t)(msgpack_packer *pk);

static void s_expect_bad_message(s_pack_body_t body, const char *message,
                                 const char *name)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    body(&pk);
    dir_feed_message_t decoded;
    char error[256] = "";
    is_int(s_decode(&buffer, &decoded, error, sizeof error), -1,
           "%s is rejected", name);
    ok(strstr(error, message) != NULL, "%s: error '%s' contains '%s'", name,
       error, message);
    msgpack_sbuffer_destroy(&buffer);
}

static void s_header(msgpack_packer *pk, size_t pairs, uint64_t version,
                     const char *type)
{
    msgpack_pack_map(pk, pairs);
    mp_pack_kv_u64(pk, "v", version);
    mp_pack_kv_str(pk, "type", type);
    mp_pack_kv_i64(pk, "ts", 1);
}

static void s_version_2(msgpack_packer *pk)
{
    s_header(pk, 4, 2, DIR_TYPE_HEAD);
    mp_pack_kv_u64(pk, "change", 1);
}

static void s_unknown_type(msgpack_packer *pk)
{
    s_header(pk, 4, 1, "dir.gossip");
    mp_pack_kv_u64(pk, "change", 1);
}

static void s_head_without_number(msgpack_packer *pk)
{
    s_header(pk, 3, 1, DIR_TYPE_HEAD);
}

static void s_change_fields(msgpack_packer *pk, uint64_t number,
                            const char *kind, const char *mpxn,
                            const char *mpid)
{
    s_header(pk, 6 + (mpxn ? 1 : 0) + (mpid ? 1 : 0), 1, DIR_TYPE_CHANGE);
    mp_pack_kv_u64(pk, "change", number);
    mp_pack_kv_str(pk, "kind", kind);
    mp_pack_kv_i64(pk, "at", 5);
    if (mpxn)
        mp_pack_kv_str(pk, "mpxn", mpxn);
    if (mpid)
        mp_pack_kv_str(pk, "mpid", mpid);
}

static void s_number_zero(msgpack_packer *pk)
{
    s_change_fields(pk, 0, DIR_CHANGE_LOAD, NULL, NULL);
}

static void s_empty_kind(msgpack_packer *pk)
{
    s_change_fields(pk, 3, "", NULL, NULL);
}

static void s_bad_mpxn(msgpack_packer *pk)
{
    s_change_fields(pk, 3, DIR_CHANGE_SUPPLIER, "1200023305968", NULL);
}

static void s_bad_mpid(msgpack_packer *pk)
{
    s_change_fields(pk, 3, "key", NULL, "alfa");
}

static void s_number_as_text(msgpack_packer *pk)
{
    s_header(pk, 4, 1, DIR_TYPE_HEAD);
    mp_pack_kv_str(pk, "change", "12");
}

static void s_not_a_map(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_int(pk, 1);
}

static void test_bad_messages(void)
{
    s_expect_bad_message(s_version_2, "protocol version 2", "version 2");
    s_expect_bad_message(s_unknown_type, "unknown feed message type",
                         "an unknown type");
    s_expect_bad_message(s_head_without_number, "missing key 'change'",
                         "a head without its number");
    s_expect_bad_message(s_number_zero, "number of at least 1", "change 0");
    s_expect_bad_message(s_empty_kind, "and a kind", "an empty kind");
    s_expect_bad_message(s_bad_mpxn, "1200023305968", "a bad check digit");
    s_expect_bad_message(s_bad_mpid, "'alfa'", "a lower-case MPID");
    s_expect_bad_message(s_number_as_text, "'change'", "a number as text");
    s_expect_bad_message(s_not_a_map, "malformed", "an array");
}

/* Packs list and reads it back into out; returns the read's result. */
static int s_round_trip(const dir_change_list_t *list, dir_change_list_t *out,
                        char *error, size_t error_size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_changes_pack_answer(&buffer, list);
    int rc = dir_changes_read_answer(buffer.data, buffer.size, out, error,
                                     error_size);
    msgpack_sbuffer_destroy(&buffer);
    return rc;
}

static void test_answer_round_trip(void)
{
    dir_change_t changes[] = {
        s_change(4, DIR_CHANGE_LOAD, NULL, NULL),
        s_change(5, DIR_CHANGE_SUPPLIER, "1200023305967", NULL),
        s_change(7, DIR_CHANGE_WITHDRAWAL, "1200023305967", NULL),
    };
    dir_change_list_t list = {.since = 3,
                              .head = 9,
                              .more = true,
                              .count = 3,
                              .changes = changes,
                              .issued_ms = 100,
                              .expires_ms = 200};
    dir_change_list_t out;
    char error[256] = "";
    is_int(s_round_trip(&list, &out, error, sizeof error), 0,
           "the answer reads back: %s", error);
    is_int(out.since, 3, "since");
    is_int(out.head, 9, "head");
    ok(out.more, "more");
    is_int(out.count, 3, "three changes");
    is_int(out.issued_ms, 100, "issued");
    is_int(out.expires_ms, 200, "expires");
    if (out.count == 3) {
        is_int(out.changes[1].number, 5, "second number");
        is_str(out.changes[1].mpxn, "1200023305967", "second mpxn");
        is_str(out.changes[2].kind, DIR_CHANGE_WITHDRAWAL, "third kind");
    }
    dir_change_list_clear(&out);
    ok(out.changes == NULL && out.count == 0, "clear empties the list");

    dir_change_list_t empty = {.since = 9, .head = 9};
    is_int(s_round_trip(&empty, &out, error, sizeof error), 0,
           "an empty answer reads back: %s", error);
    is_int(out.count, 0, "with no changes");
    ok(!out.more, "and nothing more");
    dir_change_list_clear(&out);
}

static void s_expect_bad_list(dir_change_list_t *list, const char *message,
                              const char *name)
{
    dir_change_list_t out;
    char error[256] = "";
    is_int(s_round_trip(list, &out, error, sizeof error), -1, "%s is rejected",
           name);
    ok(strstr(error, message) != NULL, "%s: error '%s' contains '%s'", name,
       error, message);
    ok(out.changes == NULL, "%s leaves no list", name);
}

static void test_bad_answers(void)
{
    dir_change_t changes[] = {s_change(5, DIR_CHANGE_LOAD, NULL, NULL),
                              s_change(4, DIR_CHANGE_LOAD, NULL, NULL)};
    dir_change_list_t list = {
        .since = 3, .head = 9, .count = 2, .changes = changes};
    s_expect_bad_list(&list, "change 4 is out of order", "falling numbers");
    list.count = 1;
    list.since = 5;
    s_expect_bad_list(&list, "change 5 is out of order",
                      "a number not above since");
    list.since = 3;
    list.head = 4;
    s_expect_bad_list(&list, "not above the head 4", "a number above head");

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    mp_pack_kv_str(&pk, "kind", "supplier");
    dir_change_list_t out;
    char error[256] = "";
    is_int(dir_changes_read_answer(buffer.data, buffer.size, &out, error,
                                   sizeof error),
           -1, "another kind of answer is rejected");
    ok(strstr(error, "expected 'changes'") != NULL, "error names it: %s",
       error);
    msgpack_sbuffer_destroy(&buffer);

    dir_change_t *many = calloc(DIR_CHANGES_MAX + 1, sizeof *many);
    if (!many)
        bail_out("out of memory");
    for (size_t i = 0; i <= DIR_CHANGES_MAX; i++)
        many[i] = s_change(i + 1, DIR_CHANGE_LOAD, NULL, NULL);
    dir_change_list_t too_long = {.head = DIR_CHANGES_MAX + 1,
                                  .count = DIR_CHANGES_MAX + 1,
                                  .changes = many};
    /* Packed by hand, because dir_changes_pack_answer asserts the bound. */
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    mp_pack_kv_str(&pk, "kind", DIR_KIND_CHANGES);
    mp_pack_kv_u64(&pk, "since", 0);
    mp_pack_kv_u64(&pk, "head", too_long.head);
    mp_pack_kv_bool(&pk, "more", false);
    mp_pack_cstr(&pk, "changes");
    msgpack_pack_array(&pk, too_long.count);
    for (size_t i = 0; i < too_long.count; i++) {
        msgpack_pack_map(&pk, 3);
        mp_pack_kv_u64(&pk, "change", many[i].number);
        mp_pack_kv_str(&pk, "kind", many[i].kind);
        mp_pack_kv_i64(&pk, "at", 0);
    }
    mp_pack_kv_i64(&pk, "issued", 0);
    mp_pack_kv_i64(&pk, "expires", 1);
    is_int(dir_changes_read_answer(buffer.data, buffer.size, &out, error,
                                   sizeof error),
           -1, "more than %d changes are rejected", DIR_CHANGES_MAX);
    ok(strstr(error, "at most 1000") != NULL, "error gives the bound: %s",
       error);
    msgpack_sbuffer_destroy(&buffer);
    free(many);
}

int main(void)
{
    test_change_round_trip();
    test_change_bytes();
    test_head_round_trip();
    test_bad_messages();
    test_answer_round_trip();
    test_bad_answers();
    return tap_done();
}
