/* The validity rule for suppliers' keys, shared by the directory, which
 * admits CURVE keys and warns of expiry, and the nodes, which admit CURVE
 * keys and check signatures.
 *
 * A key may be used at time T when
 *
 *     valid_from <= T < valid_to          (valid_to open means no end)
 *     and, for a revoked key, T < revoked_at.
 *
 * For a CURVE key T is now: a key outside its validity is not on the ZAP
 * allow-list. For a signature T is the time the signer put in what it
 * signed (a receipt's served_at, an acknowledgement's acked_at), so a
 * receipt signed with a key that has since been retired still verifies,
 * while a revoked key's signatures are refused from its revocation time
 * on, whenever they are checked. A supplier whose answer carries no keys
 * (key_count 0) has its curve_key and sign_key valid at any time.
 */
#ifndef SDX_DIR_KEYS_H
#define SDX_DIR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_records.h"

/* Size of a buffer for dir_key_text: 64 hex digits or 40 Z85 characters. */
#define DIR_KEY_TEXT_SIZE 65

/* Returns true when key may be used at at_ms, by the rule above. */
bool dir_key_valid_at(const dir_key_t *key, int64_t at_ms);

/* Constant names: "curve" or "sign"; "active", "retired" or "revoked". */
const char *dir_key_type_name(dir_key_type_t type);
const char *dir_key_state_name(dir_key_state_t state);

/* Parses a name of dir_key_type_name or dir_key_state_name. Returns 0, or
 * -1 when text is no such name. */
int dir_key_type_parse(const char *text, dir_key_type_t *type)
    __attribute__((warn_unused_result));
int dir_key_state_parse(const char *text, dir_key_state_t *state)
    __attribute__((warn_unused_result));

/* Writes the key as text into out: Z85 for a CURVE key, lower-case hex for
 * a signing key. Returns out. */
char *dir_key_text(const dir_key_t *key, char out[DIR_KEY_TEXT_SIZE]);

/* Returns the key of type that is valid at at_ms and started last (the
 * first of them in the list when several started together), or NULL when
 * none is. The supplier owns it. */
const dir_key_t *dir_supplier_current_key(const dir_supplier_t *supplier,
                                          dir_key_type_t type, int64_t at_ms);

/* Fills keys (room for max) with the supplier's CURVE keys valid at at_ms;
 * the supplier owns the strings. Returns how many there are, which may be
 * more than max. */
size_t dir_supplier_curve_keys(const dir_supplier_t *supplier, int64_t at_ms,
                               const char **keys, size_t max);

/* Returns the earliest time after after_ms at which one of the supplier's
 * keys starts or stops being valid, or DIR_OPEN_END when none will. */
int64_t dir_supplier_next_key_change(const dir_supplier_t *supplier,
                                     int64_t after_ms);

/* How a signature check ended. */
typedef enum {
    DIR_SIGNATURE_OK = 0,
    DIR_SIGNATURE_BAD,       /* no key of the supplier made it */
    DIR_SIGNATURE_NOT_VALID, /* made by a key outside its validity then */
    DIR_SIGNATURE_REVOKED    /* made by a key revoked at or before then */
} dir_signature_t;

/* Checks that signature is the supplier's Ed25519 signature of domain
 * (with its NUL) and data, made with a signing key valid at signed_ms.
 * Keys valid at signed_ms are tried first; the others only to say why the
 * signature is refused. On anything but DIR_SIGNATURE_OK, reason gets a
 * sentence that names the supplier and the key. */
dir_signature_t dir_supplier_verify(const dir_supplier_t *supplier,
                                    int64_t signed_ms, const char *domain,
                                    const void *data, size_t size,
                                    const uint8_t signature[64], char *reason,
                                    size_t reason_size)
    __attribute__((warn_unused_result));

#endif
