/* Usage receipts: the serving node's signed record of one served meter
 * request, chained per serving->requesting pair.
 *
 * The body is a msgpack array of 14 items in this order, each integer in
 * msgpack's shortest form (a non-negative value always in the unsigned
 * form, as msgpack-c and Python's msgpack both write it):
 *   [1 (version), request_id (bin 16), serving (str), requesting (str),
 *    mpxn (str), type (str), ranges (array of [from_ms, to_ms] int pairs,
 *    empty for requests without a range), units (uint), tariff_id (str),
 *    tariff_hash (bin 32), price (uint, micro-units), served_at (int, ms),
 *    seq (uint, from 1 in each chain), prev_hash (bin 32, zero for seq 1)]
 * The signature is Ed25519 over "sdx/v1/receipt\0" followed by the body.
 * The receipt hash is BLAKE2b-256 of the body, and the next receipt of the
 * chain carries it as prev_hash. On the wire a receipt is the msgpack map
 * {"body": bin, "sig": bin 64}.
 */
#ifndef SDX_RECEIPT_H
#define SDX_RECEIPT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"
#include "tariff.h"

#define RECEIPT_VERSION    1
#define RECEIPT_ID_SIZE    16
#define RECEIPT_MAX_RANGES 8
/* Larger than the longest body that the field limits allow (400 bytes). */
#define RECEIPT_MAX_BODY 1024

/* A served time range in UTC ms: from inclusive, to exclusive. */
typedef struct {
    int64_t from_ms;
    int64_t to_ms;
} receipt_range_t;

typedef struct {
    uint8_t request_id[RECEIPT_ID_SIZE];
    char serving[5];    /* MPID of the node that served and signs */
    char requesting[5]; /* MPID of the supplier that made the request */
    char mpxn[16];
    char type[32]; /* request type, such as "read.profile" */
    size_t range_count;
    receipt_range_t ranges[RECEIPT_MAX_RANGES];
    uint64_t units;     /* priced units served, such as profile periods */
    char tariff_id[64]; /* empty when no tariff applied */
    uint8_t tariff_hash[HASH_SIZE];
    uint64_t price; /* micro-units of the tariff's currency */
    int64_t served_at;
    uint64_t seq;
    uint8_t prev_hash[HASH_SIZE];
} receipt_t;

/* Encodes the canonical body. On success *body is malloc'd and owned by
 * the caller (free it). Returns 0, or -1 when memory runs out. */
int receipt_encode(const receipt_t *receipt, uint8_t **body, size_t *size)
    __attribute__((warn_unused_result));

/* Decodes a body into out. Rejects, with a sentence in error, truncated or
 * wrongly typed input, values outside the field rules (MPIDs of 4
 * upper-case letters or digits, digits-only mpxn, ranges with from < to,
 * seq from 1, a zero prev_hash exactly at seq 1) and any body that does
 * not encode again to the same bytes. Returns 0 or -1. */
int receipt_decode(const uint8_t *body, size_t size, receipt_t *out,
                   char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Signs "sdx/v1/receipt\0" followed by body. */
void receipt_sign(const signer_t *signer, const uint8_t *body, size_t size,
                  uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Returns true when signature is public_key's receipt signature of body. */
bool receipt_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE],
                    const uint8_t *body, size_t size,
                    const uint8_t signature[SIGN_SIGNATURE_SIZE])
    __attribute__((warn_unused_result));

/* Computes the receipt hash: BLAKE2b-256 of body. */
void receipt_hash(const uint8_t *body, size_t size, uint8_t hash[HASH_SIZE]);

/* Checks that receipt extends a chain whose last receipt has head_seq and
 * head_hash (head_seq 0 and a zero hash for an empty chain): seq must be
 * head_seq + 1 and prev_hash must be head_hash. Returns 0, or -1 with the
 * reason in error. */
int receipt_check_link(const receipt_t *receipt, uint64_t head_seq,
                       const uint8_t head_hash[HASH_SIZE], char *error,
                       size_t error_size) __attribute__((warn_unused_result));

/* Sets receipt's tariff_id, tariff_hash and price from tariff, for its
 * type, served_at and units. Returns 0, or -1 with the reason in error
 * when the tariff has no price for that type and time or it overflows. */
int receipt_apply_tariff(receipt_t *receipt, const tariff_t *tariff,
                         char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Checks a received receipt against the local copy of the tariff: same
 * pair, tariff id and hash, and the price the tariff gives. Returns 0, or
 * -1 with both values in error. */
int receipt_check_tariff(const receipt_t *receipt, const tariff_t *tariff,
                         char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Packs the wire form {"body": bin, "sig": bin 64} as one map object. */
void receipt_pack_wire(msgpack_packer *packer, const uint8_t *body, size_t size,
                       const uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Reads the wire form from a map object. *body points into the object's
 * memory and is valid while the object lives. Returns 0, or -1 naming the
 * missing or mistyped key. */
int receipt_unpack_wire(const msgpack_object *map, const uint8_t **body,
                        size_t *size, uint8_t signature[SIGN_SIGNATURE_SIZE],
                        char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Returns true when text is an MPID: 4 upper-case letters or digits. */
bool receipt_mpid_valid(const char *text);

#endif
