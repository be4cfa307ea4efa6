/* The directory's request and signed-answer codec: round trips, signature
 * checks over the exact answer bytes, and rejected requests. */
#include <stdlib.h>
#include <string.h>

#include "dir_answer.h"
#include "dir_request.h"
#include "sign.h"
#include "tap.h"

static const uint8_t s_id[ENVELOPE_ID_SIZE] = {1, 2,  3,  4,  5,  6,  7,  8,
                                               9, 10, 11, 12, 13, 14, 15, 16};

static dir_supply_point_t s_point(void)
{
    dir_supply_point_t point = {0};
    snprintf(point.mpxn, sizeof point.mpxn, "1200023305967");
    snprintf(point.fuel, sizeof point.fuel, "electricity");
    snprintf(point.meter_id, sizeof point.meter_id, "MTR-1");
    point.smart = true;
    snprintf(point.installing, sizeof point.installing, "ALFA");
    snprintf(point.head_end, sizeof point.head_end, "sim");
    point.registration_count = 2;
    point.registrations[0] =
        (dir_registration_t){"ALFA", 1356998400000, 1372636800000};
    point.registrations[1] =
        (dir_registration_t){"BRVO", 1372636800000, DIR_OPEN_END};
    point.issued_ms = 1700000000000;
    point.expires_ms = 1700000060000;
    point.change = 42;
    return point;
}

static dir_supplier_t s_supplier(const char *mpid, uint8_t seed)
{
    dir_supplier_t supplier = {0};
    snprintf(supplier.mpid, sizeof supplier.mpid, "%s", mpid);
    snprintf(supplier.name, sizeof supplier.name, "Supplier %s", mpid);
    snprintf(supplier.endpoint, sizeof supplier.endpoint, "tcp://127.0.0.1:%d",
             7000 + seed);
    memset(supplier.curve_key, 'a' + seed, 40);
    memset(supplier.sign_key, seed, sizeof supplier.sign_key);
    supplier.issued_ms = 1700000000000;
    supplier.expires_ms = 1700000060000;
    return supplier;
}

/* Packs an ok reply to answer, signed by signer, into out. */
static void s_pack_ok(msgpack_sbuffer *out, const char *type,
                      const msgpack_sbuffer *answer, const signer_t *signer)
{
    msgpack_sbuffer_init(out);
    dir_reply_pack(out, type, s_id, 1700000000001, STATUS_OK, NULL,
                   answer->data, answer->size, signer);
}

static void test_supply_point_reply(signer_t *signer)
{
    dir_supply_point_t point = s_point();
    msgpack_sbuffer answer, reply_bytes;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supply_point(&answer, &point);
    s_pack_ok(&reply_bytes, DIR_TYPE_LOOKUP, &answer, signer);

    char error[256] = "";
    dir_reply_t *reply = dir_reply_decode(reply_bytes.data, reply_bytes.size,
                                          error, sizeof error);
    ok(reply != NULL, "ok reply decodes: %s", error);
    is_str(dir_reply_status(reply), "ok", "status ok");
    is_str(dir_reply_header(reply)->type, DIR_TYPE_LOOKUP, "type echoed");
    is_mem(dir_reply_header(reply)->id, s_id, ENVELOPE_ID_SIZE, "id echoed");
    is_str(dir_reply_error(reply), "", "no error sentence");

    size_t size;
    const uint8_t *bytes = dir_reply_answer(reply, &size);
    is_int(size, answer.size, "answer bytes carried as they were packed");
    is_mem(bytes, answer.data, answer.size, "answer bytes unchanged");
    ok(dir_reply_verify(reply, signer_public_key(signer)),
       "signature verifies");

    dir_supply_point_t read;
    is_int(dir_reply_read_supply_point(reply, &read, error, sizeof error), 0,
           "answer reads: %s", error);
    is_str(read.mpxn, point.mpxn, "mpxn");
    is_str(read.fuel, "electricity", "fuel");
    is_str(read.meter_id, "MTR-1", "meter id");
    ok(read.smart, "smart");
    is_str(read.installing, "ALFA", "installing supplier");
    is_str(read.head_end, "sim", "head end");
    is_int(read.registration_count, 2, "two registrations");
    is_str(read.registrations[1].supplier, "BRVO", "second supplier");
    is_int(read.registrations[0].to_ms, 1372636800000, "closed end");
    ok(read.registrations[1].to_ms == DIR_OPEN_END, "nil end is open");
    is_int(read.issued_ms, point.issued_ms, "issued");
    is_int(read.expires_ms, point.expires_ms, "expires");
    is_int(read.change, 42, "change number");

    dir_supplier_t wrong;
    is_int(dir_reply_read_supplier(reply, &wrong, error, sizeof error), -1,
           "supply point answer is not a supplier");
    ok(strstr(error, "answer kind is 'supply_point', expected 'supplier'") !=
           NULL,
       "error names both kinds: %s", error);
    dir_reply_destroy(&reply);
    ok(reply == NULL, "destroy nulls the pointer");
    msgpack_sbuffer_destroy(&reply_bytes);
    msgpack_sbuffer_destroy(&answer);
}

/* Flips one byte at offset from the end of the reply. */
static bool s_verifies_after_flip(signer_t *signer, size_t from_end,
                                  const uint8_t *key)
{
    dir_supplier_t supplier = s_supplier("ALFA", 1);
    msgpack_sbuffer answer, reply_bytes;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &supplier);
    s_pack_ok(&reply_bytes, DIR_TYPE_SUPPLIER, &answer, signer);
    if (from_end > 0)
        reply_bytes.data[reply_bytes.size - from_end] ^= 0x01;

    char error[256];
    dir_reply_t *reply = dir_reply_decode(reply_bytes.data, reply_bytes.size,
                                          error, sizeof error);
    if (!reply)
        bail_out("tampered reply did not decode: %s", error);
    bool verified = dir_reply_verify(reply, key);
    dir_reply_destroy(&reply);
    msgpack_sbuffer_destroy(&reply_bytes);
    msgpack_sbuffer_destroy(&answer);
    return verified;
}

static void test_tampering(signer_t *signer)
{
    const uint8_t *key = signer_public_key(signer);
    ok(s_verifies_after_flip(signer, 0, key), "untouched reply verifies");
    /* The reply ends with "sig" (64 bytes); the answer comes just before
     * it, behind the key "sig" and its bin8 header (4 + 2 bytes). */
    ok(!s_verifies_after_flip(signer, 64 + 6 + 1, key),
       "tampered answer fails verification");
    ok(!s_verifies_after_flip(signer, 1, key),
       "tampered signature fails verification");
    signer_t *other = signer_new(NULL);
    ok(!s_verifies_after_flip(signer, 0, signer_public_key(other)),
       "another directory's key fails verification");
    signer_destroy(&other);
}

static void test_domain_separation(signer_t *signer)
{
    dir_supplier_t supplier = s_supplier("BRVO", 2);
    msgpack_sbuffer answer, reply_bytes;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &supplier);
    s_pack_ok(&reply_bytes, DIR_TYPE_SUPPLIER, &answer, signer);
    char error[256];
    dir_reply_t *reply = dir_reply_decode(reply_bytes.data, reply_bytes.size,
                                          error, sizeof error);
    if (!reply)
        bail_out("reply did not decode: %s", error);

    const msgpack_object *root = NULL;
    envelope_t *envelope = envelope_decode(reply_bytes.data, reply_bytes.size,
                                           NULL, error, sizeof error);
    root = envelope_root(envelope);
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    if (mp_get_bin(root, "sig", signature, sizeof signature, error,
                   sizeof error) != 0)
        bail_out("no sig: %s", error);
    ok(sign_verify(signer_public_key(signer), SIGN_DOMAIN_DIRECTORY,
                   answer.data, answer.size, signature),
       "sig covers the directory domain and the answer bytes");
    ok(!sign_verify(signer_public_key(signer), SIGN_DOMAIN_RECEIPT, answer.data,
                    answer.size, signature),
       "sig is not valid as a receipt signature");

    envelope_destroy(&envelope);
    dir_reply_destroy(&reply);
    msgpack_sbuffer_destroy(&reply_bytes);
    msgpack_sbuffer_destroy(&answer);
}

static void test_supplier_list(signer_t *signer)
{
    dir_supplier_t list[2] = {s_supplier("ALFA", 1), s_supplier("BRVO", 2)};
    msgpack_sbuffer answer, reply_bytes;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_suppliers(&answer, list, 2, 1700000000000, 1700000060000);
    s_pack_ok(&reply_bytes, DIR_TYPE_SUPPLIERS, &answer, signer);
    char error[256];
    dir_reply_t *reply = dir_reply_decode(reply_bytes.data, reply_bytes.size,
                                          error, sizeof error);
    ok(reply && dir_reply_verify(reply, signer_public_key(signer)),
       "supplier list verifies");
    dir_supplier_t *read = NULL;
    size_t count = 0;
    is_int(dir_reply_read_suppliers(reply, &read, &count, error, sizeof error),
           0, "list reads: %s", error);
    is_int(count, 2, "two suppliers");
    is_str(read[1].mpid, "BRVO", "second MPID");
    is_str(read[1].endpoint, "tcp://127.0.0.1:7002", "second endpoint");
    is_mem(read[0].curve_key, list[0].curve_key, 41, "first CURVE key");
    is_mem(read[0].sign_key, list[0].sign_key, 32, "first signing key");
    is_int(read[1].expires_ms, 1700000060000, "list expiry on each entry");
    free(read);
    dir_reply_destroy(&reply);
    msgpack_sbuffer_destroy(&reply_bytes);
    msgpack_sbuffer_destroy(&answer);

    msgpack_sbuffer_init(&answer);
    dir_answer_pack_suppliers(&answer, NULL, 0, 1, 2);
    is_int(dir_answer_read_suppliers(answer.data, answer.size, &read, &count,
                                     error, sizeof error),
           0, "empty list reads");
    is_int(count, 0, "no suppliers");
    ok(read == NULL, "no list allocated");
    msgpack_sbuffer_destroy(&answer);
}

static void test_error_reply(void)
{
    msgpack_sbuffer bytes;
    msgpack_sbuffer_init(&bytes);
    dir_reply_pack(&bytes, DIR_TYPE_LOOKUP, s_id, 1, STATUS_NOT_FOUND,
                   "supply point '1200023305967' is not in the directory", NULL,
                   0, NULL);
    char error[256];
    dir_reply_t *reply =
        dir_reply_decode(bytes.data, bytes.size, error, sizeof error);
    ok(reply != NULL, "not_found reply decodes");
    is_str(dir_reply_status(reply), "not_found", "status not_found");
    is_str(dir_reply_error(reply),
           "supply point '1200023305967' is not in the directory",
           "error sentence carried");
    size_t size = 1;
    ok(dir_reply_answer(reply, &size) == NULL, "no answer");
    is_int(size, 0, "answer size 0");
    uint8_t key[SIGN_PUBLIC_SIZE] = {0};
    ok(!dir_reply_verify(reply, key), "nothing to verify");
    dir_reply_destroy(&reply);
    msgpack_sbuffer_destroy(&bytes);
}

static void test_malformed_answers(void)
{
    char error[256];
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    /* Pack 65 registrations by hand: the packer refuses more than 64. */
    msgpack_packer pk;
    msgpack_packer_init(&pk, &answer, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    mp_pack_kv_str(&pk, "kind", DIR_KIND_SUPPLY_POINT);
    mp_pack_kv_str(&pk, "mpxn", "1200023305967");
    mp_pack_kv_str(&pk, "fuel", "electricity");
    mp_pack_kv_str(&pk, "meter_id", "MTR-1");
    mp_pack_kv_bool(&pk, "smart", true);
    mp_pack_kv_str(&pk, "installing", "ALFA");
    mp_pack_kv_str(&pk, "head_end", "sim");
    mp_pack_cstr(&pk, "registrations");
    msgpack_pack_array(&pk, DIR_MAX_REGISTRATIONS + 1);
    for (int i = 0; i <= DIR_MAX_REGISTRATIONS; i++) {
        msgpack_pack_array(&pk, 3);
        mp_pack_cstr(&pk, "ALFA");
        msgpack_pack_int64(&pk, i);
        msgpack_pack_nil(&pk);
    }
    dir_supply_point_t read;
    is_int(dir_answer_read_supply_point(answer.data, answer.size, &read, error,
                                        sizeof error),
           -1, "too many registrations rejected");
    ok(strstr(error, "at most 64") != NULL, "error gives the limit: %s", error);
    msgpack_sbuffer_destroy(&answer);

    msgpack_sbuffer_init(&answer);
    msgpack_packer_init(&pk, &answer, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    mp_pack_kv_str(&pk, "kind", DIR_KIND_SUPPLY_POINT);
    mp_pack_kv_str(&pk, "mpxn", "1200023305967");
    is_int(dir_answer_read_supply_point(answer.data, answer.size, &read, error,
                                        sizeof error),
           -1, "answer missing keys rejected");
    ok(strstr(error, "'fuel'") != NULL, "error names the key: %s", error);
    msgpack_sbuffer_destroy(&answer);

    ok(dir_reply_decode("\xc1", 1, error, sizeof error) == NULL,
       "undecodable reply rejected");
}

static dir_request_result_t s_decode_request(const msgpack_sbuffer *bytes,
                                             dir_request_t *request,
                                             bool *has_id, char *error)
{
    return dir_request_decode(bytes->data, bytes->size, request, has_id, error,
                              256);
}

static void test_requests(void)
{
    msgpack_sbuffer bytes;
    dir_request_t request;
    bool has_id;
    char error[256];

    msgpack_sbuffer_init(&bytes);
    dir_request_pack(&bytes, DIR_TYPE_LOOKUP, s_id, 5, "mpxn", "1200023305967");
    is_int(s_decode_request(&bytes, &request, &has_id, error),
           DIR_REQUEST_VALID, "lookup request valid");
    is_int(request.kind, DIR_REQUEST_LOOKUP, "lookup kind");
    is_str(request.mpxn, "1200023305967", "mpxn read");
    ok(has_id, "id read");
    is_int(request.header.ts, 5, "ts read");
    msgpack_sbuffer_destroy(&bytes);

    msgpack_sbuffer_init(&bytes);
    dir_request_pack(&bytes, DIR_TYPE_SUPPLIERS, s_id, 5, NULL, NULL);
    is_int(s_decode_request(&bytes, &request, &has_id, error),
           DIR_REQUEST_VALID, "supplier list request valid");
    is_int(request.kind, DIR_REQUEST_SUPPLIERS, "suppliers kind");
    msgpack_sbuffer_destroy(&bytes);

    struct {
        const char *type, *key, *value;
        dir_request_result_t result;
        const char *message;
    } cases[] = {
        {DIR_TYPE_LOOKUP, NULL, NULL, DIR_REQUEST_INVALID, "'mpxn'"},
        {DIR_TYPE_LOOKUP, "mpxn", "1200023305968", DIR_REQUEST_INVALID,
         "check digit"},
        {DIR_TYPE_SUPPLIER, "mpid", "alfa", DIR_REQUEST_INVALID,
         "invalid MPID 'alfa'"},
        {DIR_TYPE_SUPPLIER, "mpid", "TOOLONG", DIR_REQUEST_INVALID, "'mpid'"},
        {"dir.delete", NULL, NULL, DIR_REQUEST_UNSUPPORTED,
         "unknown request type 'dir.delete'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        msgpack_sbuffer_init(&bytes);
        dir_request_pack(&bytes, cases[i].type, s_id, 5, cases[i].key,
                         cases[i].value);
        is_int(s_decode_request(&bytes, &request, &has_id, error),
               cases[i].result, "request case %zu result", i);
        ok(strstr(error, cases[i].message) != NULL,
           "request case %zu error '%s' contains '%s'", i, error,
           cases[i].message);
        ok(has_id, "request case %zu id still read", i);
        msgpack_sbuffer_destroy(&bytes);
    }

    msgpack_sbuffer_init(&bytes);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &bytes, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    mp_pack_kv_u64(&pk, "v", 2);
    mp_pack_kv_str(&pk, "type", DIR_TYPE_SUPPLIERS);
    mp_pack_kv_bin(&pk, "id", s_id, sizeof s_id);
    mp_pack_kv_i64(&pk, "ts", 1);
    is_int(s_decode_request(&bytes, &request, &has_id, error),
           DIR_REQUEST_UNSUPPORTED, "version 2 unsupported");
    ok(strstr(error, "protocol version 2") != NULL, "error names version");
    msgpack_sbuffer_destroy(&bytes);

    msgpack_sbuffer_init(&bytes);
    msgpack_packer_init(&pk, &bytes, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    mp_pack_kv_str(&pk, "type", DIR_TYPE_SUPPLIERS);
    is_int(s_decode_request(&bytes, &request, &has_id, error),
           DIR_REQUEST_INVALID, "request without v, id, ts invalid");
    ok(!has_id, "no id to echo");
    msgpack_sbuffer_destroy(&bytes);

    msgpack_sbuffer_init(&bytes);
    msgpack_sbuffer_write(&bytes, "\x93\x01\x02\x03", 4);
    is_int(s_decode_request(&bytes, &request, &has_id, error),
           DIR_REQUEST_UNDECODABLE, "array is undecodable as a request");
    msgpack_sbuffer_destroy(&bytes);
    is_int(dir_request_decode("", 0, &request, &has_id, error, sizeof error),
           DIR_REQUEST_UNDECODABLE, "empty frame undecodable");
}

int main(void)
{
    signer_t *signer = signer_new(NULL);
    if (!signer)
        bail_out("signer_new failed");
    test_supply_point_reply(signer);
    test_tampering(signer);
    test_domain_separation(signer);
    test_supplier_list(signer);
    test_error_reply();
    test_malformed_answers();
    test_requests();
    signer_destroy(&signer);
    return tap_done();
}
