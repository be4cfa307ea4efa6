/* Signed statement files: a statement of one serving->requesting chain
 * over a period, with every receipt it sums, signed by the issuing
 * supplier's node key so that the counterparty can check each line, and
 * optionally the counterparty's signed acceptance (a doubly-signed
 * statement).
 *
 * The file is a msgpack array of 5 items:
 *   ["sdx-statement", 1, body (bin), sig (bin 64), acceptance]
 * where acceptance is [] or [acceptance body (bin), acceptance sig (bin 64)].
 *
 * The body is a canonical msgpack array of 14 items (shortest forms, as
 * receipts are):
 *   [1, issuer (str), counterparty (str), direction ("issued" or
 *    "received"), from (int, UTC ms), to (int, UTC ms), currency (str),
 *    issued_at (int, UTC ms), lines, total, first_seq (uint),
 *    last_seq (uint), head_hash (bin 32), receipts]
 *   lines:    [[type, count, units, amount, unacknowledged], ...] by type
 *   total:    [count, units, amount, unacknowledged]
 *   receipts: [[receipt body (bin), receipt sig (bin 64), ack], ...] by
 *             seq, where ack is [] or [ack body (bin), ack sig (bin 64)]
 * "issued" means the issuer served the receipts (serving = issuer);
 * "received" means the counterparty did. The signature is Ed25519 by the
 * issuer over "sdx/v1/statement\0" || body.
 *
 * The acceptance body is a canonical msgpack array of 5 items:
 *   [1, statement_hash (bin 32, BLAKE2b-256 of the body), issuer (str),
 *    acceptor (str, the counterparty), accepted_at (int, UTC ms)]
 * signed by the acceptor over "sdx/v1/statement-acceptance\0" || it.
 */
#ifndef SDX_STATEMENT_FILE_H
#define SDX_STATEMENT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ack.h"
#include "ledger.h"
#include "receipt.h"
#include "sign.h"
#include "statement.h"

#define STATEMENT_FILE_FORMAT  "sdx-statement"
#define STATEMENT_FILE_VERSION 1
/* The largest file statement_file_load reads. NOTE: files are built and
 * read whole in memory, so this also bounds the memory a statement takes
 * (an estimate of 1 to 2 KB a receipt). */
#define STATEMENT_FILE_MAX_SIZE (256u * 1024 * 1024)

typedef enum { STATEMENT_ISSUED = 0, STATEMENT_RECEIVED } statement_direction_t;

/* One receipt of a statement, with its acknowledgement when there is
 * one. The statement owns the memory. */
typedef struct {
    receipt_t receipt; /* decoded from body */
    uint8_t hash[HASH_SIZE];
    uint8_t *body;
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    bool acknowledged;
    ack_t ack; /* decoded from ack_body when acknowledged */
    uint8_t *ack_body;
    size_t ack_size;
    uint8_t ack_signature[SIGN_SIGNATURE_SIZE];
} statement_entry_t;

typedef struct statement_file statement_file_t;

/* Collects the receipts of one chain served in [from_ms, to_ms) and their
 * acknowledgements from ledger, for issuer to send to counterparty:
 * direction STATEMENT_ISSUED covers issuer->counterparty, RECEIVED covers
 * counterparty->issuer. currency may be NULL (GBP). The result is unsigned
 * until statement_file_sign. Caller owns it. Returns NULL with a sentence
 * in error. */
statement_file_t *statement_file_collect(ledger_t *ledger, const char *issuer,
                                         const char *counterparty,
                                         statement_direction_t direction,
                                         int64_t from_ms, int64_t to_ms,
                                         const char *currency, char *error,
                                         size_t error_size);

/* Encodes the body with issued_at and signs it with the issuer's key.
 * Removes any acceptance. Returns 0, or -1 with a sentence in error. */
int statement_file_sign(statement_file_t *self, const signer_t *signer,
                        int64_t issued_at, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Adds the counterparty's acceptance, signed with signer, to a signed
 * statement. Returns 0, or -1 with a sentence in error. */
int statement_file_accept(statement_file_t *self, const signer_t *signer,
                          int64_t accepted_at, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Encodes the whole file of a signed statement. *data is malloc'd and
 * owned by the caller. Returns 0, or -1 with a sentence in error. */
int statement_file_encode(const statement_file_t *self, uint8_t **data,
                          size_t *size, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Decodes a file and checks everything that needs no key. The encoding
 * must be canonical. Every receipt and acknowledgement must decode, belong
 * to the chain and period, and come in seq order, and each acknowledgement
 * must name its receipt. The lines, totals, seqs and head hash must be
 * those of the receipts, and an acceptance must name this body. Signatures
 * are checked by statement_file_verify. Caller owns the result. Returns
 * NULL with a sentence in error. */
statement_file_t *statement_file_decode(const uint8_t *data, size_t size,
                                        char *error, size_t error_size);

/* Reads and decodes the file at path. Caller owns the result. */
statement_file_t *statement_file_load(const char *path, char *error,
                                      size_t error_size);

/* Writes the file to path through a temporary file and a rename. Returns
 * 0, or -1 with a sentence in error. */
int statement_file_save(const statement_file_t *self, const char *path,
                        char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Frees the statement and sets *self_p to NULL. NULL is allowed. */
void statement_file_destroy(statement_file_t **self_p);

/* Returns true when the body is signed by issuer_key. */
bool statement_file_verify(const statement_file_t *self,
                           const uint8_t issuer_key[SIGN_PUBLIC_SIZE]);

/* Returns true when there is an acceptance and it is signed by
 * acceptor_key. */
bool statement_file_verify_acceptance(
    const statement_file_t *self, const uint8_t acceptor_key[SIGN_PUBLIC_SIZE]);

/* Accessors. The statement owns the returned memory. */
const char *statement_file_issuer(const statement_file_t *self);
const char *statement_file_counterparty(const statement_file_t *self);
statement_direction_t statement_file_direction(const statement_file_t *self);
/* "issued" or "received". */
const char *statement_direction_name(statement_direction_t direction);
/* The summary: chain, period, currency, lines, totals, seqs, head hash. */
const statement_t *statement_file_summary(const statement_file_t *self);
int64_t statement_file_issued_at(const statement_file_t *self);
size_t statement_file_count(const statement_file_t *self);
const statement_entry_t *statement_file_entry(const statement_file_t *self,
                                              size_t index);
/* BLAKE2b-256 of the signed body; zero before statement_file_sign. */
const uint8_t *statement_file_hash(const statement_file_t *self);
bool statement_file_signed(const statement_file_t *self);
bool statement_file_accepted(const statement_file_t *self);
/* The acceptance time, or 0 without an acceptance. */
int64_t statement_file_accepted_at(const statement_file_t *self);

#endif
