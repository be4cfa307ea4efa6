/* Key files of a node or directory: a CURVE certificate (czmq zcert
 * format, NAME.cert public and NAME.cert_secret) and an Ed25519 signing key
 * (NAME.sign public and NAME.sign_secret, ZPL text with hex keys).
 * Secret files are written with mode 0600.
 */
#ifndef SDX_KEYS_H
#define SDX_KEYS_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

/* Writes the four key files DIR/NAME.{cert,cert_secret,sign,sign_secret}.
 * Refuses, writing nothing, when any of them exists. Returns 0, or -1 with
 * a sentence in error. */
int keys_generate(const char *dir, const char *name, char *error,
                  size_t error_size) __attribute__((warn_unused_result));

/* Loads a CURVE certificate with its secret key from the path of the public
 * file (NAME.cert; czmq reads NAME.cert_secret beside it). Caller owns the
 * result. Returns NULL with a sentence in error. */
zcert_t *keys_load_cert(const char *cert_path, char *error, size_t error_size);

/* Reads the Z85 CURVE public key from NAME.cert into key (41 bytes). */
int keys_load_curve_public(const char *cert_path, char key[41], char *error,
                           size_t error_size)
    __attribute__((warn_unused_result));

/* Loads the signing key from NAME.sign_secret. Caller owns the result. */
signer_t *keys_load_signer(const char *secret_path, char *error,
                           size_t error_size);

/* Reads the Ed25519 public key from NAME.sign (or NAME.sign_secret). */
int keys_load_sign_public(const char *path, uint8_t key[SIGN_PUBLIC_SIZE],
                          char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
