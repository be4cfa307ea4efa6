/* Tests key generation, key files and domain-separated signatures. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "sign.h"
#include "tap.h"

static mode_t s_mode(const char *dir, const char *file)
{
    char path[512];
    struct stat info;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return stat(path, &info) == 0 ? info.st_mode & 0777 : 0;
}

static void test_keygen(const char *dir)
{
    char error[512];
    ok(keys_generate(dir, "node", error, sizeof error) == 0, "keygen writes");
    is_int(s_mode(dir, "node.cert_secret"), 0600, "CURVE secret is 0600");
    is_int(s_mode(dir, "node.sign_secret"), 0600, "signing secret is 0600");
    is_int(s_mode(dir, "node.cert"), 0644, "CURVE public is 0644");
    ok(keys_generate(dir, "node", error, sizeof error) == -1,
       "keygen refuses to overwrite");
    ok(strstr(error, "node.cert") != NULL, "error names the file: %s", error);
    is_int(s_mode(dir, "node.cert_secret"), 0600, "existing secret untouched");

    char path[512];
    snprintf(path, sizeof path, "%s/node.cert", dir);
    zcert_t *cert = keys_load_cert(path, error, sizeof error);
    ok(cert != NULL, "certificate loads");
    char key[41];
    ok(keys_load_curve_public(path, key, error, sizeof error) == 0,
       "public key reads");
    is_str(key, cert ? zcert_public_txt(cert) : "", "same public key");
    zcert_destroy(&cert);

    snprintf(path, sizeof path, "%s/node.sign_secret", dir);
    signer_t *signer = keys_load_signer(path, error, sizeof error);
    ok(signer != NULL, "signer loads");
    uint8_t public_key[SIGN_PUBLIC_SIZE];
    snprintf(path, sizeof path, "%s/node.sign", dir);
    ok(keys_load_sign_public(path, public_key, error, sizeof error) == 0,
       "signing public key reads");
    ok(signer && memcmp(public_key, signer_public_key(signer), 32) == 0,
       "public key matches the secret");
    signer_destroy(&signer);

    snprintf(path, sizeof path, "%s/node.cert_secret", dir);
    chmod(path, 0640);
    snprintf(path, sizeof path, "%s/node.cert", dir);
    ok(keys_load_cert(path, error, sizeof error) == NULL,
       "group-readable CURVE secret rejected");
    ok(strstr(error, "chmod 600") != NULL, "error says what to do: %s", error);

    snprintf(path, sizeof path, "%s/node.sign_secret", dir);
    chmod(path, 0644);
    ok(keys_load_signer(path, error, sizeof error) == NULL,
       "world-readable secret rejected");
    diag("%s", error);
    snprintf(path, sizeof path, "%s/missing.sign_secret", dir);
    ok(keys_load_signer(path, error, sizeof error) == NULL,
       "missing secret rejected");
}

static void test_signatures(void)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    signer_t *signer = signer_new(seed);
    signer_t *again = signer_new(seed);
    is_mem(signer_public_key(signer), signer_public_key(again), 32,
           "same seed gives the same key");
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    const char message[] = "receipt body";
    signer_sign(signer, SIGN_DOMAIN_RECEIPT, message, sizeof message,
                signature);
    ok(sign_verify(signer_public_key(signer), SIGN_DOMAIN_RECEIPT, message,
                   sizeof message, signature),
       "signature verifies");
    ok(!sign_verify(signer_public_key(signer), SIGN_DOMAIN_ACK, message,
                    sizeof message, signature),
       "signature for another domain fails");
    char tampered[sizeof message];
    memcpy(tampered, message, sizeof message);
    tampered[0] ^= 1;
    ok(!sign_verify(signer_public_key(signer), SIGN_DOMAIN_RECEIPT, tampered,
                    sizeof tampered, signature),
       "tampered message fails");
    signature[10] ^= 1;
    ok(!sign_verify(signer_public_key(signer), SIGN_DOMAIN_RECEIPT, message,
                    sizeof message, signature),
       "tampered signature fails");
    /* A large message takes the heap path. */
    size_t big_size = 100000;
    char *big = calloc(1, big_size);
    signer_sign(signer, SIGN_DOMAIN_RECEIPT, big, big_size, signature);
    ok(sign_verify(signer_public_key(signer), SIGN_DOMAIN_RECEIPT, big,
                   big_size, signature),
       "large message verifies");
    free(big);
    signer_destroy(&signer);
    signer_destroy(&again);
    ok(signer == NULL, "destroy nulls the pointer");

    uint8_t hash[HASH_SIZE];
    hash_blake2b("abc", 3, hash);
    /* BLAKE2b-256("abc") from the BLAKE2 reference test vectors. */
    const uint8_t expected[4] = {0xbd, 0xdd, 0x81, 0x3c};
    is_mem(hash, expected, 4, "BLAKE2b-256 of abc");
}

int main(void)
{
    char dir[] = "/tmp/sdx-t0003-XXXXXX";
    if (!mkdtemp(dir))
        bail_out("cannot create a temporary folder");
    test_keygen(dir);
    test_signatures();
    char command[600];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    if (system(command) != 0)
        diag("could not remove %s", dir);
    return tap_done();
}
