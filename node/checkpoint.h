/* Chain checkpoints: the serving supplier's signed statement of how far one
 * serving->requesting receipt chain had grown at a moment, sent to the
 * requesting supplier so that neither side can later rewrite the chain
 * without the other noticing.
 *
 * The body is a msgpack array of 7 items. Each integer is in msgpack's
 * shortest form, and non-negative values in the unsigned forms:
 *   [1 (version), serving (str), requesting (str), seq (uint, 1 or more),
 *    head_hash (bin 32, receipt hash of seq), acked_seq (uint, at most
 *    seq), issued_at (int, UTC ms)]
 * acked_seq is the highest n such that the serving node stored an
 * acknowledgement of every receipt from seq 1 to n (0 when seq 1 has
 * none). The signature is Ed25519 over "sdx/v1/checkpoint\0" followed by
 * the body, made with the serving supplier's key. On the wire a
 * checkpoint is the msgpack map {"body": bin, "sig": bin 64}.
 */
#ifndef SDX_CHECKPOINT_H
#define SDX_CHECKPOINT_H

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "sign.h"

#define CHECKPOINT_VERSION 1
/* The message type that carries a checkpoint to the requesting node. */
#define CHECKPOINT_TYPE "chain.checkpoint"
/* Larger than the longest body that the field limits allow (73 bytes). */
#define CHECKPOINT_MAX_BODY 128

typedef struct {
    char serving[5]; /* the signer */
    char requesting[5];
    uint64_t seq;
    uint8_t head_hash[HASH_SIZE];
    uint64_t acked_seq;
    int64_t issued_at;
} checkpoint_t;

/* Encodes the canonical body. On success *body is malloc'd and owned by
 * the caller (free it). Returns 0, or -1 when memory runs out. */
int checkpoint_encode(const checkpoint_t *checkpoint, uint8_t **body,
                      size_t *size) __attribute__((warn_unused_result));

/* Decodes a body into out, rejecting truncated, wrongly typed or
 * non-canonical input, MPIDs that are not 4 upper-case letters or digits,
 * seq 0 and acked_seq above seq. Returns 0, or -1 with a sentence in
 * error. */
int checkpoint_decode(const uint8_t *body, size_t size, checkpoint_t *out,
                      char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Signs "sdx/v1/checkpoint\0" followed by body. */
void checkpoint_sign(const signer_t *signer, const uint8_t *body, size_t size,
                     uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Returns true when signature is public_key's checkpoint signature of
 * body. */
bool checkpoint_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE],
                       const uint8_t *body, size_t size,
                       const uint8_t signature[SIGN_SIGNATURE_SIZE])
    __attribute__((warn_unused_result));

/* Packs the wire form {"body": bin, "sig": bin 64} as one map object. */
void checkpoint_pack_wire(msgpack_packer *packer, const uint8_t *body,
                          size_t size,
                          const uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Packs the chain.checkpoint message: the envelope plus `checkpoint`, the
 * wire form. Caller owns the frame. */
zframe_t *checkpoint_pack_message(const uint8_t id[ENVELOPE_ID_SIZE],
                                  int64_t ts, const uint8_t *body, size_t size,
                                  const uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Reads the `checkpoint` map of a decoded chain.checkpoint message. *body
 * points into the envelope's memory. Returns 0, or -1 naming the missing
 * or mistyped key in error. */
int checkpoint_unpack_message(const envelope_t *envelope, const uint8_t **body,
                              size_t *size,
                              uint8_t signature[SIGN_SIGNATURE_SIZE],
                              char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
