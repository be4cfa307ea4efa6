/* Acknowledgements: the requesting supplier's signed statement that it
 * received and accepted one receipt.
 *
 * The body is a msgpack array of 6 items, each integer in msgpack's
 * shortest form (non-negative values in the unsigned forms):
 *   [1 (version), receipt_hash (bin 32), serving (str), requesting (str),
 *    seq (uint), acked_at (int, UTC ms)]
 * The signature is Ed25519 over "sdx/v1/ack\0" followed by the body, made
 * with the requesting supplier's key. On the wire an acknowledgement is
 * the msgpack map {"body": bin, "sig": bin 64}.
 */
#ifndef SDX_ACK_H
#define SDX_ACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define ACK_VERSION 1
/* Larger than the longest body that the field limits allow (64 bytes). */
#define ACK_MAX_BODY 128

typedef struct {
    uint8_t receipt_hash[HASH_SIZE]; /* receipt_hash() of the receipt body */
    char serving[5];
    char requesting[5]; /* the signer */
    uint64_t seq;
    int64_t acked_at;
} ack_t;

/* Encodes the canonical body. On success *body is malloc'd and owned by
 * the caller (free it). Returns 0, or -1 when memory runs out. */
int ack_encode(const ack_t *ack, uint8_t **body, size_t *size)
    __attribute__((warn_unused_result));

/* Decodes a body into out, rejecting truncated, wrongly typed or
 * non-canonical input, MPIDs that are not 4 upper-case letters or digits,
 * and seq 0. Returns 0, or -1 with a sentence in error. */
int ack_decode(const uint8_t *body, size_t size, ack_t *out, char *error,
               size_t error_size) __attribute__((warn_unused_result));

/* Signs "sdx/v1/ack\0" followed by body. */
void ack_sign(const signer_t *signer, const uint8_t *body, size_t size,
              uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Returns true when signature is public_key's acknowledgement signature of
 * body. */
bool ack_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE], const uint8_t *body,
                size_t size, const uint8_t signature[SIGN_SIGNATURE_SIZE])
    __attribute__((warn_unused_result));

/* Packs the wire form {"body": bin, "sig": bin 64} as one map object. */
void ack_pack_wire(msgpack_packer *packer, const uint8_t *body, size_t size,
                   const uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Reads the wire form from a map object. *body points into the object's
 * memory and is valid while the object lives. Returns 0, or -1 naming the
 * missing or mistyped key. */
int ack_unpack_wire(const msgpack_object *map, const uint8_t **body,
                    size_t *size, uint8_t signature[SIGN_SIGNATURE_SIZE],
                    char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
