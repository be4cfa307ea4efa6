/* Acknowledgements: canonical encoding, decoding and signatures. */
#include "ack.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "envelope.h"
#include "receipt.h"

#define ACK_ITEMS 6

_Static_assert(ACK_MAX_BODY <= CANON_MAX_BODY,
               "an acknowledgement body must fit the canonical buffer");

static void s_pack_str(msgpack_packer *packer, const char *text)
{
    size_t length = strlen(text);
    msgpack_pack_str(packer, length);
    msgpack_pack_str_body(packer, text, length);
}

static void s_encode_into(const ack_t *ack, canon_buffer_t *out)
{
    assert(strnlen(ack->serving, sizeof ack->serving) < sizeof ack->serving);
    assert(strnlen(ack->requesting, sizeof ack->requesting) <
           sizeof ack->requesting);
    out->size = 0;
    out->overflow = false;
    msgpack_packer packer;
    msgpack_packer_init(&packer, out, canon_buffer_write);

    msgpack_pack_array(&packer, ACK_ITEMS);
    msgpack_pack_uint64(&packer, ACK_VERSION);
    msgpack_pack_bin(&packer, HASH_SIZE);
    msgpack_pack_bin_body(&packer, ack->receipt_hash, HASH_SIZE);
    s_pack_str(&packer, ack->serving);
    s_pack_str(&packer, ack->requesting);
    msgpack_pack_uint64(&packer, ack->seq);
    msgpack_pack_int64(&packer, ack->acked_at);
    assert(!out->overflow);
}

int ack_encode(const ack_t *ack, uint8_t **body, size_t *size)
{
    assert(ack);
    assert(body);
    assert(size);
    canon_buffer_t buffer;
    s_encode_into(ack, &buffer);
    return canon_buffer_copy(&buffer, body, size);
}

static int s_read_header(canon_reader_t *reader)
{
    return canon_read_record_header(reader, "ack", "acknowledgement", ACK_ITEMS,
                                    ACK_VERSION);
}

static int s_read_fields(canon_reader_t *reader, ack_t *out)
{
    if (s_read_header(reader) != 0 ||
        canon_read_bin(reader, "receipt_hash", out->receipt_hash, HASH_SIZE) !=
            0 ||
        canon_read_str(reader, "serving", out->serving, sizeof out->serving) !=
            0 ||
        canon_read_str(reader, "requesting", out->requesting,
                       sizeof out->requesting) != 0 ||
        canon_read_uint(reader, "seq", &out->seq) != 0 ||
        canon_read_int(reader, "acked_at", &out->acked_at) != 0)
        return -1;
    return canon_read_end(reader);
}

static int s_check_fields(const ack_t *ack, char *error, size_t error_size)
{
    if (!receipt_mpid_valid(ack->serving) ||
        !receipt_mpid_valid(ack->requesting)) {
        snprintf(error, error_size,
                 "acknowledgement MPIDs '%s' and '%s' must each be 4 "
                 "upper-case letters or digits",
                 ack->serving, ack->requesting);
        return -1;
    }
    if (ack->seq == 0) {
        snprintf(error, error_size,
                 "acknowledgement seq must be 1 or more, got 0");
        return -1;
    }
    return 0;
}

int ack_decode(const uint8_t *body, size_t size, ack_t *out, char *error,
               size_t error_size)
{
    assert(body || size == 0);
    assert(out);
    char reason[200] = "";
    memset(out, 0, sizeof *out);
    if (size > ACK_MAX_BODY) {
        snprintf(error, error_size,
                 "acknowledgement body is %zu bytes, more than %d", size,
                 ACK_MAX_BODY);
        return -1;
    }
    canon_reader_t reader;
    canon_reader_init(&reader, body, size, reason, sizeof reason);
    if (s_read_fields(&reader, out) != 0) {
        snprintf(error, error_size, "invalid acknowledgement: %s", reason);
        return -1;
    }
    if (s_check_fields(out, error, error_size) != 0)
        return -1;
    canon_buffer_t again;
    s_encode_into(out, &again);
    return canon_check_same(&again, body, size, "acknowledgement", error,
                            error_size);
}

void ack_sign(const signer_t *signer, const uint8_t *body, size_t size,
              uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    signer_sign(signer, SIGN_DOMAIN_ACK, body, size, signature);
}

bool ack_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE], const uint8_t *body,
                size_t size, const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    return sign_verify(public_key, SIGN_DOMAIN_ACK, body, size, signature);
}

void ack_pack_wire(msgpack_packer *packer, const uint8_t *body, size_t size,
                   const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    receipt_pack_wire(packer, body, size, signature);
}

int ack_unpack_wire(const msgpack_object *map, const uint8_t **body,
                    size_t *size, uint8_t signature[SIGN_SIGNATURE_SIZE],
                    char *error, size_t error_size)
{
    if (map->type != MSGPACK_OBJECT_MAP) {
        snprintf(error, error_size,
                 "acknowledgement must be a map with keys 'body' and 'sig'");
        return -1;
    }
    if (mp_get_bin_ref(map, "body", body, size, error, error_size) != 0)
        return -1;
    return mp_get_bin(map, "sig", signature, SIGN_SIGNATURE_SIZE, error,
                      error_size);
}
