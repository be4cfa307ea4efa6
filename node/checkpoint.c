/* Chain checkpoints: canonical encoding, decoding and signatures. */
#include "checkpoint.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "envelope.h"
#include "message.h"
#include "receipt.h"

#define CHECKPOINT_ITEMS 7

_Static_assert(CHECKPOINT_MAX_BODY <= CANON_MAX_BODY,
               "a checkpoint body must fit the canonical buffer");

static void s_pack_str(msgpack_packer *packer, const char *text)
{
    size_t length = strlen(text);
    msgpack_pack_str(packer, length);
    msgpack_pack_str_body(packer, text, length);
}

static void s_encode_into(const checkpoint_t *checkpoint, canon_buffer_t *out)
{
    assert(strnlen(checkpoint->serving, sizeof checkpoint->serving) <
           sizeof checkpoint->serving);
    assert(strnlen(checkpoint->requesting, sizeof checkpoint->requesting) <
           sizeof checkpoint->requesting);
    out->size = 0;
    out->overflow = false;
    msgpack_packer packer;
    msgpack_packer_init(&packer, out, canon_buffer_write);

    msgpack_pack_array(&packer, CHECKPOINT_ITEMS);
    msgpack_pack_uint64(&packer, CHECKPOINT_VERSION);
    s_pack_str(&packer, checkpoint->serving);
    s_pack_str(&packer, checkpoint->requesting);
    msgpack_pack_uint64(&packer, checkpoint->seq);
    msgpack_pack_bin(&packer, HASH_SIZE);
    msgpack_pack_bin_body(&packer, checkpoint->head_hash, HASH_SIZE);
    msgpack_pack_uint64(&packer, checkpoint->acked_seq);
    msgpack_pack_int64(&packer, checkpoint->issued_at);
    assert(!out->overflow);
}

int checkpoint_encode(const checkpoint_t *checkpoint, uint8_t **body,
                      size_t *size)
{
    assert(checkpoint);
    assert(body);
    assert(size);
    canon_buffer_t buffer;
    s_encode_into(checkpoint, &buffer);
    return canon_buffer_copy(&buffer, body, size);
}

static int s_read_header(canon_reader_t *reader)
{
    return canon_read_record_header(reader, "checkpoint", "checkpoint",
                                    CHECKPOINT_ITEMS, CHECKPOINT_VERSION);
}

static int s_read_fields(canon_reader_t *reader, checkpoint_t *out)
{
    if (s_read_header(reader) != 0 ||
        canon_read_str(reader, "serving", out->serving, sizeof out->serving) !=
            0 ||
        canon_read_str(reader, "requesting", out->requesting,
                       sizeof out->requesting) != 0 ||
        canon_read_uint(reader, "seq", &out->seq) != 0 ||
        canon_read_bin(reader, "head_hash", out->head_hash, HASH_SIZE) != 0 ||
        canon_read_uint(reader, "acked_seq", &out->acked_seq) != 0 ||
        canon_read_int(reader, "issued_at", &out->issued_at) != 0)
        return -1;
    return canon_read_end(reader);
}

static int s_check_fields(const checkpoint_t *checkpoint, char *error,
                          size_t error_size)
{
    if (!receipt_mpid_valid(checkpoint->serving) ||
        !receipt_mpid_valid(checkpoint->requesting)) {
        snprintf(error, error_size,
                 "checkpoint MPIDs '%s' and '%s' must each be 4 upper-case "
                 "letters or digits",
                 checkpoint->serving, checkpoint->requesting);
        return -1;
    }
    if (checkpoint->seq == 0) {
        snprintf(error, error_size, "checkpoint seq must be 1 or more, got 0");
        return -1;
    }
    if (checkpoint->acked_seq > checkpoint->seq) {
        snprintf(error, error_size,
                 "checkpoint acked_seq %llu is above its seq %llu",
                 (unsigned long long)checkpoint->acked_seq,
                 (unsigned long long)checkpoint->seq);
        return -1;
    }
    return 0;
}

int checkpoint_decode(const uint8_t *body, size_t size, checkpoint_t *out,
                      char *error, size_t error_size)
{
    assert(body || size == 0);
    assert(out);
    char reason[200] = "";
    memset(out, 0, sizeof *out);
    if (size > CHECKPOINT_MAX_BODY) {
        snprintf(error, error_size,
                 "checkpoint body is %zu bytes, more than %d", size,
                 CHECKPOINT_MAX_BODY);
        return -1;
    }
    canon_reader_t reader;
    canon_reader_init(&reader, body, size, reason, sizeof reason);
    if (s_read_fields(&reader, out) != 0) {
        snprintf(error, error_size, "invalid checkpoint: %s", reason);
        return -1;
    }
    if (s_check_fields(out, error, error_size) != 0)
        return -1;
    canon_buffer_t again;
    s_encode_into(out, &again);
    return canon_check_same(&again, body, size, "checkpoint", error,
                            error_size);
}

void checkpoint_sign(const signer_t *signer, const uint8_t *body, size_t size,
                     uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    signer_sign(signer, SIGN_DOMAIN_CHECKPOINT, body, size, signature);
}

bool checkpoint_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE],
                       const uint8_t *body, size_t size,
                       const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    return sign_verify(public_key, SIGN_DOMAIN_CHECKPOINT, body, size,
                       signature);
}

void checkpoint_pack_wire(msgpack_packer *packer, const uint8_t *body,
                          size_t size,
                          const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    receipt_pack_wire(packer, body, size, signature);
}

zframe_t *checkpoint_pack_message(const uint8_t id[ENVELOPE_ID_SIZE],
                                  int64_t ts, const uint8_t *body, size_t size,
                                  const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, 5, CHECKPOINT_TYPE, id, ts);
    mp_pack_cstr(&message.pk, "checkpoint");
    checkpoint_pack_wire(&message.pk, body, size, signature);
    return message_to_frame(&message);
}

int checkpoint_unpack_message(const envelope_t *envelope, const uint8_t **body,
                              size_t *size,
                              uint8_t signature[SIGN_SIGNATURE_SIZE],
                              char *error, size_t error_size)
{
    const msgpack_object *map;
    if (mp_get_container(envelope_root(envelope), "checkpoint",
                         MSGPACK_OBJECT_MAP, &map, error, error_size))
        return -1;
    return receipt_unpack_wire(map, body, size, signature, error, error_size);
}
