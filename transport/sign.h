/* Ed25519 signatures with domain separation, and BLAKE2b-256 hashes.
 *
 * Every signature sdx makes covers a fixed ASCII domain prefix followed by
 * the message bytes, so a signature made for one purpose (a receipt) can
 * never be presented as another (a directory answer). Prefixes end with a
 * NUL byte, which is part of the signed bytes.
 */
#ifndef SDX_SIGN_H
#define SDX_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGN_PUBLIC_SIZE    32
#define SIGN_SIGNATURE_SIZE 64
#define HASH_SIZE           32

/* Domain prefixes, each signed with its terminating NUL. */
#define SIGN_DOMAIN_RECEIPT    "sdx/v1/receipt"
#define SIGN_DOMAIN_ACK        "sdx/v1/ack"
#define SIGN_DOMAIN_DIRECTORY  "sdx/v1/directory-answer"
#define SIGN_DOMAIN_STATEMENT  "sdx/v1/statement"
#define SIGN_DOMAIN_ACCEPTANCE "sdx/v1/statement-acceptance"
#define SIGN_DOMAIN_CHECKPOINT "sdx/v1/checkpoint"

/* An Ed25519 key pair whose secret half lives in sodium_malloc memory. */
typedef struct signer signer_t;

/* Creates a signer from a 32-byte seed, or a new random key when seed is
 * NULL. Returns NULL when libsodium cannot allocate guarded memory. */
signer_t *signer_new(const uint8_t *seed);

/* Wipes and frees the signer and sets *self_p to NULL; NULL is allowed. */
void signer_destroy(signer_t **self_p);

/* Returns the 32-byte public key; the signer owns it. */
const uint8_t *signer_public_key(const signer_t *self);

/* Copies the 32-byte seed to seed, for writing the secret key file. */
void signer_seed(const signer_t *self, uint8_t *seed);

/* Signs domain (with its NUL) followed by data. */
void signer_sign(const signer_t *self, const char *domain, const void *data,
                 size_t size, uint8_t signature[SIGN_SIGNATURE_SIZE]);

/* Returns true when signature is public_key's signature of domain (with
 * its NUL) followed by data. */
bool sign_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE], const char *domain,
                 const void *data, size_t size,
                 const uint8_t signature[SIGN_SIGNATURE_SIZE])
    __attribute__((warn_unused_result));

/* BLAKE2b with a 32-byte output and no key. */
void hash_blake2b(const void *data, size_t size, uint8_t hash[HASH_SIZE]);

#endif
