/* Signed answers of the central lookup (sdx-directory), shared by the
 * directory, which packs and signs them, and the node's directory client,
 * which checks and reads them.
 *
 * A reply is one msgpack map {"v":1,"type":T,"id":bin16,"ts":ms,
 * "status":S} where T and id are the request's. When status is not "ok"
 * the map has "error", a sentence for people. When status is "ok" it has
 * "answer", the msgpack encoding of the answer map as binary, and "sig",
 * the Ed25519 signature (64 bytes) of SIGN_DOMAIN_DIRECTORY, its NUL and
 * then the answer bytes. Signing the encoded bytes, not a re-encoding,
 * means a node can keep the answer and prove later what the directory said.
 *
 * Answer maps carry "kind" ("supply_point", "supplier" or "suppliers"),
 * "issued" and "expires" (UTC ms); see docs/directory.md for every key.
 */
#ifndef SDX_DIR_ANSWER_H
#define SDX_DIR_ANSWER_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_records.h"
#include "envelope.h"
#include "sign.h"

#define DIR_KIND_SUPPLY_POINT "supply_point"
#define DIR_KIND_SUPPLIER     "supplier"
#define DIR_KIND_SUPPLIERS    "suppliers"

/* The reply status of a query refused because the requester's supplier
 * sent more than its rate limit allows; the error sentence says when to
 * retry. */
#define DIR_STATUS_RATE_LIMITED "rate_limited"

/* Packs the answer map of one supply point into out (caller initialises
 * and frees it). */
void dir_answer_pack_supply_point(msgpack_sbuffer *out,
                                  const dir_supply_point_t *point);

/* Packs the answer map of one supplier into out. */
void dir_answer_pack_supplier(msgpack_sbuffer *out,
                              const dir_supplier_t *supplier);

/* Packs the answer map of a list of suppliers; the issued and expires of
 * the list apply to every entry. */
void dir_answer_pack_suppliers(msgpack_sbuffer *out,
                               const dir_supplier_t *suppliers, size_t count,
                               int64_t issued_ms, int64_t expires_ms);

/* Decodes answer bytes into out. Returns 0, or -1 with a sentence naming
 * the missing or mistyped key, or the wrong kind. */
int dir_answer_read_supply_point(const void *answer, size_t size,
                                 dir_supply_point_t *out, char *error,
                                 size_t error_size)
    __attribute__((warn_unused_result));
int dir_answer_read_supplier(const void *answer, size_t size,
                             dir_supplier_t *out, char *error,
                             size_t error_size)
    __attribute__((warn_unused_result));
/* Caller frees *list with free(); *list is NULL when count is 0. */
int dir_answer_read_suppliers(const void *answer, size_t size,
                              dir_supplier_t **list, size_t *count, char *error,
                              size_t error_size)
    __attribute__((warn_unused_result));

/* Packs a reply into out. With status STATUS_OK, answer (size bytes) is
 * signed with signer and error is ignored; otherwise answer must be NULL
 * and error is the sentence sent. */
void dir_reply_pack(msgpack_sbuffer *out, const char *type,
                    const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                    const char *status, const char *error, const void *answer,
                    size_t answer_size, const signer_t *signer);

/* A decoded reply. */
typedef struct dir_reply dir_reply_t;

/* Decodes a reply's outer map (not yet its answer). Caller owns the
 * result. Returns NULL with a sentence in error. */
dir_reply_t *dir_reply_decode(const void *data, size_t size, char *error,
                              size_t error_size);

/* Frees the reply and sets *self_p to NULL; NULL is allowed. */
void dir_reply_destroy(dir_reply_t **self_p);

/* The reply's v, type, id and ts; the reply owns them. */
const envelope_header_t *dir_reply_header(const dir_reply_t *self);

/* The status ("ok", "not_found", ...); the reply owns it. */
const char *dir_reply_status(const dir_reply_t *self);

/* The error sentence, or "" when there is none; the reply owns it. */
const char *dir_reply_error(const dir_reply_t *self);

/* The signed answer bytes (NULL when there are none); the reply owns them. */
const uint8_t *dir_reply_answer(const dir_reply_t *self, size_t *size);

/* The 64-byte signature of the answer (NULL when there is none); the
 * reply owns it. */
const uint8_t *dir_reply_signature(const dir_reply_t *self);

/* Returns true when the reply has an answer and sig is sign_key's
 * signature of it. The dir_reply_read_* functions require this first. */
bool dir_reply_verify(dir_reply_t *self,
                      const uint8_t sign_key[SIGN_PUBLIC_SIZE])
    __attribute__((warn_unused_result));

/* Decode the verified answer, as dir_answer_read_* do. */
int dir_reply_read_supply_point(const dir_reply_t *self,
                                dir_supply_point_t *out, char *error,
                                size_t error_size)
    __attribute__((warn_unused_result));
int dir_reply_read_supplier(const dir_reply_t *self, dir_supplier_t *out,
                            char *error, size_t error_size)
    __attribute__((warn_unused_result));
int dir_reply_read_suppliers(const dir_reply_t *self, dir_supplier_t **list,
                             size_t *count, char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
