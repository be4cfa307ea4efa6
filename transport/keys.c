/* Key files: CURVE certificates in czmq's format and Ed25519 signing keys
 * in ZPL text with hex values. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"

#define KEYS_FILE_COUNT 4

static const char *const s_suffixes[KEYS_FILE_COUNT] = {
    ".cert", ".cert_secret", ".sign", ".sign_secret"};
static const mode_t s_modes[KEYS_FILE_COUNT] = {0644, 0600, 0644, 0600};

/* Claims every key file with O_EXCL before writing any, so an existing key
 * is never overwritten, even by a concurrent keygen. */
static int s_claim_files(char paths[][PATH_MAX], char *error, size_t error_size)
{
    for (int i = 0; i < KEYS_FILE_COUNT; i++) {
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_EXCL, s_modes[i]);
        if (fd >= 0) {
            /* The mode passed to open is reduced by the umask. */
            fchmod(fd, s_modes[i]);
            close(fd);
            continue;
        }
        snprintf(error, error_size, "cannot create key file %s: %s%s", paths[i],
                 strerror(errno),
                 errno == EEXIST ? "; remove it or choose another name" : "");
        for (int j = 0; j < i; j++)
            unlink(paths[j]);
        return -1;
    }
    return 0;
}

static int s_write_signing_file(const char *path, const signer_t *signer,
                                bool with_secret)
{
    char public_hex[2 * SIGN_PUBLIC_SIZE + 1];
    hex_encode(signer_public_key(signer), SIGN_PUBLIC_SIZE, public_hex);
    FILE *file = fopen(path, "w");
    if (!file)
        return -1;
    fprintf(file, "#   sdx Ed25519 signing key%s\n",
            with_secret ? ": secret, keep it on this host only" : "");
    fprintf(file, "ed25519\n    public-key = \"%s\"\n", public_hex);
    if (with_secret) {
        uint8_t seed[crypto_sign_SEEDBYTES];
        char seed_hex[2 * crypto_sign_SEEDBYTES + 1];
        signer_seed(signer, seed);
        hex_encode(seed, sizeof seed, seed_hex);
        fprintf(file, "    secret-seed = \"%s\"\n", seed_hex);
        sodium_memzero(seed, sizeof seed);
        sodium_memzero(seed_hex, sizeof seed_hex);
    }
    return fclose(file) == 0 ? 0 : -1;
}

int keys_generate(const char *dir, const char *name, char *error,
                  size_t error_size)
{
    char paths[KEYS_FILE_COUNT][PATH_MAX];
    for (int i = 0; i < KEYS_FILE_COUNT; i++)
        snprintf(paths[i], PATH_MAX, "%s/%s%s", dir, name, s_suffixes[i]);
    if (s_claim_files(paths, error, error_size))
        return -1;

    zcert_t *cert = zcert_new();
    signer_t *signer = signer_new(NULL);
    int rc = -1;
    if (!cert || !signer) {
        snprintf(error, error_size, "cannot generate keys: out of memory");
        goto cleanup;
    }
    zcert_set_meta(cert, "name", "%s", name);
    if (zcert_save_public(cert, paths[0]) ||
        zcert_save_secret(cert, paths[1]) ||
        s_write_signing_file(paths[2], signer, false) ||
        s_write_signing_file(paths[3], signer, true)) {
        snprintf(error, error_size, "cannot write key files in %s: %s", dir,
                 strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc)
        for (int i = 0; i < KEYS_FILE_COUNT; i++)
            unlink(paths[i]);
    zcert_destroy(&cert);
    signer_destroy(&signer);
    return rc;
}

zcert_t *keys_load_cert(const char *cert_path, char *error, size_t error_size)
{
    char secret_path[PATH_MAX];
    snprintf(secret_path, sizeof secret_path, "%s_secret", cert_path);
    struct stat info;
    if (stat(secret_path, &info) == 0 && (info.st_mode & 077)) {
        snprintf(error, error_size,
                 "CURVE secret key %s is readable by other users (mode "
                 "%03o); run chmod 600 on it",
                 secret_path, (unsigned)(info.st_mode & 0777));
        return NULL;
    }
    if (access(secret_path, R_OK) != 0) {
        snprintf(error, error_size,
                 "cannot read CURVE secret key file %s: %s; run "
                 "`sdx keygen` to create it",
                 secret_path, strerror(errno));
        return NULL;
    }
    zcert_t *cert = zcert_load(cert_path);
    if (!cert)
        snprintf(error, error_size,
                 "cannot load CURVE certificate %s: not a czmq certificate",
                 cert_path);
    return cert;
}

int keys_load_curve_public(const char *cert_path, char key[41], char *error,
                           size_t error_size)
{
    zconfig_t *config = zconfig_load(cert_path);
    const char *text =
        config ? zconfig_get(config, "curve/public-key", NULL) : NULL;
    int rc = -1;
    if (!text || strlen(text) != 40)
        snprintf(error, error_size,
                 "cannot read a CURVE public key from %s: expected a czmq "
                 "certificate with curve/public-key",
                 cert_path);
    else {
        memcpy(key, text, 41);
        rc = 0;
    }
    zconfig_destroy(&config);
    return rc;
}

signer_t *keys_load_signer(const char *secret_path, char *error,
                           size_t error_size)
{
    struct stat info;
    if (stat(secret_path, &info) == 0 && (info.st_mode & 077))
    /* Refuse, as ssh does: a readable secret may already be copied. */
    {
        snprintf(error, error_size,
                 "signing key %s is readable by other users (mode %03o); "
                 "run chmod 600 on it",
                 secret_path, (unsigned)(info.st_mode & 0777));
        return NULL;
    }
    zconfig_t *config = zconfig_load(secret_path);
    const char *text =
        config ? zconfig_get(config, "ed25519/secret-seed", NULL) : NULL;
    uint8_t seed[32];
    signer_t *signer = NULL;
    if (!text || hex_decode(text, seed, sizeof seed))
        snprintf(error, error_size,
                 "cannot read a signing key from %s: expected "
                 "ed25519/secret-seed with 64 hex digits",
                 secret_path);
    else if (!(signer = signer_new(seed)))
        snprintf(error, error_size, "cannot allocate guarded memory for %s",
                 secret_path);
    sodium_memzero(seed, sizeof seed);
    zconfig_destroy(&config);
    return signer;
}

int keys_load_sign_public(const char *path, uint8_t key[SIGN_PUBLIC_SIZE],
                          char *error, size_t error_size)
{
    zconfig_t *config = zconfig_load(path);
    const char *text =
        config ? zconfig_get(config, "ed25519/public-key", NULL) : NULL;
    int rc = 0;
    if (!text || hex_decode(text, key, SIGN_PUBLIC_SIZE)) {
        snprintf(error, error_size,
                 "cannot read a signing public key from %s: expected "
                 "ed25519/public-key with 64 hex digits",
                 path);
        rc = -1;
    }
    zconfig_destroy(&config);
    return rc;
}
