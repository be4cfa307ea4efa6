/* The key validity rule (dir_keys.h), signature checks against a
 * supplier's keys over time, and the keys in supplier answers. */
#include <stdlib.h>
#include <string.h>

#include "dir_answer.h"
#include "dir_keys.h"
#include "sign.h"
#include "tap.h"

#define T0           1700000000000LL /* a start time, UTC ms */
#define HOUR         3600000LL
#define RECEIPT_BODY "a receipt body"

static dir_key_t s_curve(char fill, int64_t from, int64_t to)
{
    dir_key_t key = {
        .type = DIR_KEY_CURVE, .valid_from_ms = from, .valid_to_ms = to};
    memset(key.curve_key, fill, DIR_CURVE_KEY_SIZE - 1);
    return key;
}

static dir_key_t s_sign(const signer_t *signer, int64_t from, int64_t to)
{
    dir_key_t key = {
        .type = DIR_KEY_SIGN, .valid_from_ms = from, .valid_to_ms = to};
    memcpy(key.sign_key, signer_public_key(signer), DIR_SIGN_KEY_SIZE);
    return key;
}

static void test_validity_rule(void)
{
    dir_key_t open = s_curve('a', T0, DIR_OPEN_END);
    ok(!dir_key_valid_at(&open, T0 - 1), "not valid before its start");
    ok(dir_key_valid_at(&open, T0), "valid from its start, inclusive");
    ok(dir_key_valid_at(&open, INT64_MAX - 1), "an open key has no end");

    dir_key_t retired = s_curve('b', T0, T0 + HOUR);
    retired.state = DIR_KEY_RETIRED;
    ok(dir_key_valid_at(&retired, T0 + HOUR - 1), "valid until its end");
    ok(!dir_key_valid_at(&retired, T0 + HOUR), "not valid at its end");

    dir_key_t revoked = s_curve('c', T0, T0 + 10 * HOUR);
    revoked.state = DIR_KEY_REVOKED;
    revoked.revoked_ms = T0 + HOUR;
    ok(dir_key_valid_at(&revoked, T0 + HOUR - 1),
       "a revoked key is valid before its revocation time");
    ok(!dir_key_valid_at(&revoked, T0 + HOUR),
       "a revoked key is refused from its revocation time");
    ok(!dir_key_valid_at(&revoked, T0 + 5 * HOUR),
       "and inside its validity after that");
}

static dir_supplier_t s_supplier(void)
{
    dir_supplier_t supplier = {0};
    snprintf(supplier.mpid, sizeof supplier.mpid, "ALFA");
    snprintf(supplier.name, sizeof supplier.name, "Alfa Energy");
    snprintf(supplier.endpoint, sizeof supplier.endpoint, "tcp://10.0.0.5:1");
    memset(supplier.curve_key, 'z', DIR_CURVE_KEY_SIZE - 1);
    memset(supplier.sign_key, 9, DIR_SIGN_KEY_SIZE);
    supplier.issued_ms = T0;
    supplier.expires_ms = T0 + 60000;
    return supplier;
}

static void test_current_and_curve_keys(void)
{
    dir_supplier_t supplier = s_supplier();
    supplier.keys[0] = s_curve('a', 0, T0 + 2 * HOUR);
    supplier.keys[1] = s_curve('b', T0 + HOUR, DIR_OPEN_END);
    supplier.key_count = 2;

    const dir_key_t *current =
        dir_supplier_current_key(&supplier, DIR_KEY_CURVE, T0);
    ok(current == &supplier.keys[0], "before the overlap: the old key");
    current = dir_supplier_current_key(&supplier, DIR_KEY_CURVE, T0 + HOUR);
    ok(current == &supplier.keys[1],
       "in the overlap: the key that started last");
    ok(dir_supplier_current_key(&supplier, DIR_KEY_SIGN, T0) == NULL,
       "no signing key listed: none is current");

    const char *keys[4];
    is_int(dir_supplier_curve_keys(&supplier, T0 + HOUR, keys, 4), 2,
           "both CURVE keys are valid in the overlap");
    ok(keys[0] == supplier.keys[0].curve_key, "the old key is one");
    ok(keys[1] == supplier.keys[1].curve_key, "the new key is the other");
    is_int(dir_supplier_curve_keys(&supplier, T0 + 2 * HOUR, keys, 4), 1,
           "after the old key ends only the new one");
    is_int(dir_supplier_curve_keys(&supplier, T0 + HOUR, keys, 1), 2,
           "the count says how many even when they do not fit");

    supplier.keys[1].state = DIR_KEY_REVOKED;
    supplier.keys[1].revoked_ms = T0 + 90 * 60000;
    is_int(dir_supplier_next_key_change(&supplier, T0), T0 + HOUR,
           "next change: the new key's start");
    is_int(dir_supplier_next_key_change(&supplier, T0 + HOUR), T0 + 90 * 60000,
           "then its revocation");
    is_int(dir_supplier_next_key_change(&supplier, T0 + 90 * 60000),
           T0 + 2 * HOUR, "then the old key's end");
    ok(dir_supplier_next_key_change(&supplier, T0 + 2 * HOUR) == DIR_OPEN_END,
       "then none");

    dir_supplier_t legacy = s_supplier();
    is_int(dir_supplier_curve_keys(&legacy, T0, keys, 4), 1,
           "a supplier without keys: its curve_key");
    ok(keys[0] == legacy.curve_key, "is that one");
}

static void s_sign_at(const signer_t *signer, uint8_t signature[64])
{
    signer_sign(signer, SIGN_DOMAIN_RECEIPT, RECEIPT_BODY, strlen(RECEIPT_BODY),
                signature);
}

static dir_signature_t s_verify(const dir_supplier_t *supplier, int64_t at,
                                const uint8_t signature[64], char *reason)
{
    return dir_supplier_verify(supplier, at, SIGN_DOMAIN_RECEIPT, RECEIPT_BODY,
                               strlen(RECEIPT_BODY), signature, reason, 256);
}

static void test_signatures(void)
{
    signer_t *old_signer = signer_new(NULL);
    signer_t *new_signer = signer_new(NULL);
    signer_t *stranger = signer_new(NULL);
    if (!old_signer || !new_signer || !stranger)
        bail_out("cannot make signing keys");
    uint8_t by_old[64], by_new[64], by_stranger[64];
    s_sign_at(old_signer, by_old);
    s_sign_at(new_signer, by_new);
    s_sign_at(stranger, by_stranger);
    char reason[256];

    dir_supplier_t supplier = s_supplier();
    supplier.keys[0] = s_sign(old_signer, 0, T0 + 2 * HOUR);
    supplier.keys[0].state = DIR_KEY_RETIRED;
    supplier.keys[1] = s_sign(new_signer, T0 + HOUR, DIR_OPEN_END);
    supplier.key_count = 2;

    is_int(s_verify(&supplier, T0, by_old, reason), DIR_SIGNATURE_OK,
           "old key, signed while valid");
    is_int(s_verify(&supplier, T0 + HOUR, by_old, reason), DIR_SIGNATURE_OK,
           "old key, signed in the overlap");
    is_int(s_verify(&supplier, T0 + HOUR, by_new, reason), DIR_SIGNATURE_OK,
           "new key, signed in the overlap");
    is_int(s_verify(&supplier, T0 + 2 * HOUR, by_old, reason),
           DIR_SIGNATURE_NOT_VALID, "retired key, signed after its end");
    ok(strstr(reason, "ALFA's signing key") != NULL,
       "the reason names the supplier's key: %s", reason);
    is_int(s_verify(&supplier, T0, by_new, reason), DIR_SIGNATURE_NOT_VALID,
           "new key, signed before its start");
    is_int(s_verify(&supplier, T0, by_stranger, reason), DIR_SIGNATURE_BAD,
           "a key the supplier does not have");
    ok(strstr(reason, "not made by any signing key") != NULL,
       "the reason says so: %s", reason);

    supplier.keys[1].state = DIR_KEY_REVOKED;
    supplier.keys[1].revoked_ms = T0 + 3 * HOUR;
    is_int(s_verify(&supplier, T0 + 3 * HOUR - 1, by_new, reason),
           DIR_SIGNATURE_OK, "revoked key, signed before its revocation");
    is_int(s_verify(&supplier, T0 + 3 * HOUR, by_new, reason),
           DIR_SIGNATURE_REVOKED, "revoked key, signed at its revocation");
    ok(strstr(reason, "revoked from") != NULL, "the reason says revoked: %s",
       reason);

    dir_supplier_t legacy = s_supplier();
    memcpy(legacy.sign_key, signer_public_key(old_signer), DIR_SIGN_KEY_SIZE);
    is_int(s_verify(&legacy, T0, by_old, reason), DIR_SIGNATURE_OK,
           "a supplier without keys: its sign_key at any time");
    is_int(s_verify(&legacy, T0, by_new, reason), DIR_SIGNATURE_BAD,
           "and no other key");
    signer_destroy(&old_signer);
    signer_destroy(&new_signer);
    signer_destroy(&stranger);
}

static void test_answer_keys(void)
{
    dir_supplier_t supplier = s_supplier();
    supplier.keys[0] = s_curve('a', 0, T0 + HOUR);
    supplier.keys[0].state = DIR_KEY_RETIRED;
    supplier.keys[1] = s_curve('b', T0, DIR_OPEN_END);
    supplier.keys[2] = (dir_key_t){.type = DIR_KEY_SIGN,
                                   .valid_from_ms = 0,
                                   .valid_to_ms = DIR_OPEN_END,
                                   .state = DIR_KEY_REVOKED,
                                   .revoked_ms = T0 + 5};
    memset(supplier.keys[2].sign_key, 7, DIR_SIGN_KEY_SIZE);
    supplier.key_count = 3;

    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &supplier);
    dir_supplier_t read;
    char error[256];
    is_int(dir_answer_read_supplier(answer.data, answer.size, &read, error,
                                    sizeof error),
           0, "a supplier answer with keys reads back: %s", error);
    is_int(read.key_count, 3, "with its three keys");
    is_str(read.keys[0].curve_key, supplier.keys[0].curve_key,
           "first key's text");
    is_int(read.keys[0].valid_to_ms, T0 + HOUR, "first key's end");
    is_int(read.keys[0].state, DIR_KEY_RETIRED, "first key is retired");
    ok(read.keys[1].valid_to_ms == DIR_OPEN_END, "second key has no end");
    is_int(read.keys[2].type, DIR_KEY_SIGN, "third key is a signing key");
    is_mem(read.keys[2].sign_key, supplier.keys[2].sign_key, 32,
           "third key's bytes");
    is_int(read.keys[2].revoked_ms, T0 + 5, "third key's revocation time");
    msgpack_sbuffer_destroy(&answer);

    dir_supplier_t list[2] = {supplier, s_supplier()};
    dir_supplier_t *entries;
    size_t count;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_suppliers(&answer, list, 2, T0, T0 + 60000);
    is_int(dir_answer_read_suppliers(answer.data, answer.size, &entries, &count,
                                     error, sizeof error),
           0, "a supplier list with and without keys reads back: %s", error);
    is_int(count, 2, "two suppliers");
    is_int(count == 2 ? entries[0].key_count : 0, 3, "the first has keys");
    is_int(count == 2 ? entries[1].key_count : 9, 0, "the second has none");
    free(entries);
    msgpack_sbuffer_destroy(&answer);

    dir_supplier_t plain = s_supplier();
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &plain);
    is_int((uint8_t)answer.data[0], 0x88,
           "a supplier without keys packs as the 8-key map it always was");
    msgpack_sbuffer_destroy(&answer);
}

static void test_bad_keys(void)
{
    dir_supplier_t supplier = s_supplier();
    supplier.keys[0] = s_curve('a', T0, T0 + HOUR);
    supplier.key_count = 1;
    char error[256];
    dir_supplier_t read;

    /* The packer writes what it is given, so it can make the bytes of a
     * key that ends at its start. */
    supplier.keys[0].valid_to_ms = T0;
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &supplier);
    is_int(dir_answer_read_supplier(answer.data, answer.size, &read, error,
                                    sizeof error),
           -1, "a key that ends at its start is rejected");
    ok(strstr(error, "'to' must be after 'from'") != NULL, "saying so: %s",
       error);
    msgpack_sbuffer_destroy(&answer);

    supplier.key_count = DIR_MAX_KEYS;
    for (size_t i = 0; i < DIR_MAX_KEYS; i++)
        supplier.keys[i] = s_curve((char)('a' + i), T0, DIR_OPEN_END);
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supplier(&answer, &supplier);
    is_int(dir_answer_read_supplier(answer.data, answer.size, &read, error,
                                    sizeof error),
           0, "DIR_MAX_KEYS keys are read: %s", error);
    msgpack_sbuffer_destroy(&answer);
}

static void test_withheld_registrations(void)
{
    dir_supply_point_t point = {0};
    snprintf(point.mpxn, sizeof point.mpxn, "1200023305967");
    snprintf(point.fuel, sizeof point.fuel, "electricity");
    snprintf(point.meter_id, sizeof point.meter_id, "MTR-1");
    point.smart = true;
    snprintf(point.installing, sizeof point.installing, "ALFA");
    snprintf(point.head_end, sizeof point.head_end, "sim");
    point.registrations_withheld = true;
    point.issued_ms = T0;
    point.expires_ms = T0 + 60000;
    msgpack_sbuffer answer;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supply_point(&answer, &point);
    dir_supply_point_t read;
    char error[256];
    is_int(dir_answer_read_supply_point(answer.data, answer.size, &read, error,
                                        sizeof error),
           0, "a supply point with its registrations withheld reads: %s",
           error);
    ok(read.registrations_withheld, "and says they were withheld");
    is_int(read.registration_count, 0, "with none listed");
    msgpack_sbuffer_destroy(&answer);

    point.registrations_withheld = false;
    msgpack_sbuffer_init(&answer);
    dir_answer_pack_supply_point(&answer, &point);
    is_int((uint8_t)answer.data[0], 0x8b,
           "a full answer is the 11-key map it always was");
    is_int(dir_answer_read_supply_point(answer.data, answer.size, &read, error,
                                        sizeof error),
           0, "and reads");
    ok(!read.registrations_withheld, "without the flag");
    msgpack_sbuffer_destroy(&answer);
}

int main(void)
{
    test_validity_rule();
    test_current_and_curve_keys();
    test_signatures();
    test_answer_keys();
    test_bad_keys();
    test_withheld_registrations();
    return tap_done();
}
