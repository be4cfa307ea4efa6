/* Ed25519 signing with domain prefixes, over libsodium. */
#include "sign.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct signer {
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t *secret_key; /* sodium_malloc, read-only except while signing */
};

signer_t *signer_new(const uint8_t *seed)
{
    if (sodium_init() < 0)
        return NULL;
    signer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->secret_key = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!self->secret_key) {
        free(self);
        return NULL;
    }
    if (seed)
        crypto_sign_seed_keypair(self->public_key, self->secret_key, seed);
    else
        crypto_sign_keypair(self->public_key, self->secret_key);
    sodium_mprotect_readonly(self->secret_key);
    return self;
}

void signer_destroy(signer_t **self_p)
{
    assert(self_p);
    if (!*self_p)
        return;
    sodium_free((*self_p)->secret_key); /* wipes before freeing */
    free(*self_p);
    *self_p = NULL;
}

const uint8_t *signer_public_key(const signer_t *self)
{
    return self->public_key;
}

void signer_seed(const signer_t *self, uint8_t *seed)
{
    /* libsodium's Ed25519 secret key is the seed followed by the public
     * key. */
    memcpy(seed, self->secret_key, crypto_sign_SEEDBYTES);
}

/* Signs domain||NUL||data without building the concatenation in memory:
 * Ed25519 needs the whole message, so the parts go through one buffer. */
void signer_sign(const signer_t *self, const char *domain, const void *data,
                 size_t size, uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    size_t prefix = strlen(domain) + 1;
    uint8_t stack[1024];
    uint8_t *message =
        prefix + size <= sizeof stack ? stack : malloc(prefix + size);
    assert(message);
    memcpy(message, domain, prefix);
    memcpy(message + prefix, data, size);
    crypto_sign_detached(signature, NULL, message, prefix + size,
                         self->secret_key);
    if (message != stack)
        free(message);
}

bool sign_verify(const uint8_t public_key[SIGN_PUBLIC_SIZE], const char *domain,
                 const void *data, size_t size,
                 const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    if (sodium_init() < 0)
        return false;
    size_t prefix = strlen(domain) + 1;
    uint8_t stack[1024];
    uint8_t *message =
        prefix + size <= sizeof stack ? stack : malloc(prefix + size);
    if (!message)
        return false;
    memcpy(message, domain, prefix);
    memcpy(message + prefix, data, size);
    int rc = crypto_sign_verify_detached(signature, message, prefix + size,
                                         public_key);
    if (message != stack)
        free(message);
    return rc == 0;
}

void hash_blake2b(const void *data, size_t size, uint8_t hash[HASH_SIZE])
{
    crypto_generichash(hash, HASH_SIZE, data, size, NULL, 0);
}
