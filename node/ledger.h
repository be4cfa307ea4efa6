/* The append-only sqlite ledger of one node. It stores the receipts the
 * node issued (serving is its own MPID) and received (requesting is its own
 * MPID), their acknowledgements, the original replies for idempotent
 * retries, and received receipts that failed a check (disputes).
 *
 * The database runs in WAL mode with synchronous=FULL and a busy timeout.
 * Triggers reject UPDATE and DELETE on receipts, acks and disputes.
 * No function commits on its own: the daemon calls ledger_begin, appends
 * many receipts, and calls ledger_commit once (group commit). Without
 * ledger_begin, each write is its own sqlite transaction. A ledger_t is
 * opened without sqlite's mutex, so use it from one thread at a time.
 */
#ifndef SDX_LEDGER_H
#define SDX_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ack.h"
#include "receipt.h"

/* How long a call waits for another process's lock, in ms. */
#define LEDGER_BUSY_TIMEOUT_MS 5000

typedef struct ledger ledger_t;

/* Opens or creates the ledger at path for reading and writing. Caller owns
 * the result. Returns NULL with a sentence in error. */
ledger_t *ledger_open(const char *path, char *error, size_t error_size);

/* Opens an existing ledger for reading only, for the CLI while the daemon
 * runs. Returns NULL with a sentence in error. */
ledger_t *ledger_open_readonly(const char *path, char *error,
                               size_t error_size);

/* Closes the ledger (rolling back an open transaction) and sets *self_p
 * to NULL. NULL is allowed. */
void ledger_destroy(ledger_t **self_p);

/* Each function below returns 0 on success, or -1 with a sentence in
 * error. The find functions return 1 when found and 0 when not. */

/* Starts, commits or rolls back one write transaction. */
int ledger_begin(ledger_t *self, char *error, size_t error_size)
    __attribute__((warn_unused_result));
int ledger_commit(ledger_t *self, char *error, size_t error_size)
    __attribute__((warn_unused_result));
int ledger_rollback(ledger_t *self, char *error, size_t error_size);

/* Reads the last seq and receipt hash of the serving->requesting chain:
 * seq 0 and a zero hash when the chain is empty. */
int ledger_chain_head(ledger_t *self, const char *serving,
                      const char *requesting, uint64_t *seq,
                      uint8_t hash[HASH_SIZE], char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Appends a signed receipt. body must be receipt's canonical encoding,
 * receipt->seq must be the chain head's seq + 1 and receipt->prev_hash the
 * head's hash. A request id already in the chain is rejected. Signatures
 * are the caller's to check. */
int ledger_append_receipt(ledger_t *self, const receipt_t *receipt,
                          const uint8_t *body, size_t size,
                          const uint8_t signature[SIGN_SIGNATURE_SIZE],
                          char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Stores the serving node's reply bytes for a request id, so a retry of
 * the same request gets the same bytes. */
int ledger_store_reply(ledger_t *self, const char *serving,
                       const char *requesting,
                       const uint8_t request_id[RECEIPT_ID_SIZE],
                       const uint8_t *reply, size_t reply_size, char *error,
                       size_t error_size) __attribute__((warn_unused_result));

/* A stored reply and the receipt of the same request, if there is one. */
typedef struct {
    uint8_t *reply; /* malloc'd, freed by ledger_reply_clear */
    size_t reply_size;
    bool has_receipt;
    uint8_t body[RECEIPT_MAX_BODY];
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
} ledger_reply_t;

/* Finds the reply to request_id from requesting. Returns 1 and fills out
 * (caller calls ledger_reply_clear), 0 when there is none, or -1. */
int ledger_find_reply(ledger_t *self, const char *serving,
                      const char *requesting,
                      const uint8_t request_id[RECEIPT_ID_SIZE],
                      ledger_reply_t *out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Frees the reply bytes of out, which may be zeroed or already cleared. */
void ledger_reply_clear(ledger_reply_t *out);

/* One stored receipt. */
typedef struct {
    receipt_t receipt; /* decoded from body */
    uint8_t hash[HASH_SIZE];
    uint8_t body[RECEIPT_MAX_BODY];
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    int64_t stored_at;
    bool acknowledged; /* an acknowledgement of it is stored */
} ledger_row_t;

/* Finds a receipt by seq. Returns 1 and fills out, 0, or -1. */
int ledger_find_receipt(ledger_t *self, const char *serving,
                        const char *requesting, uint64_t seq, ledger_row_t *out,
                        char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Finds a receipt by request id. Returns 1 and fills out, 0, or -1. */
int ledger_find_receipt_by_id(ledger_t *self, const char *serving,
                              const char *requesting,
                              const uint8_t request_id[RECEIPT_ID_SIZE],
                              ledger_row_t *out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Appends a signed acknowledgement of a stored receipt, whose hash must be
 * ack->receipt_hash. Storing the same body again succeeds and
 * changes nothing, but a different body for the same seq is rejected.
 * Signatures are the caller's to check. */
int ledger_append_ack(ledger_t *self, const ack_t *ack, const uint8_t *body,
                      size_t size, const uint8_t signature[SIGN_SIGNATURE_SIZE],
                      char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* One stored acknowledgement. */
typedef struct {
    ack_t ack;
    uint8_t body[ACK_MAX_BODY];
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    int64_t stored_at;
} ledger_ack_row_t;

/* Finds the acknowledgement of a receipt. Returns 1 and fills out, 0,
 * or -1. */
int ledger_find_ack(ledger_t *self, const char *serving, const char *requesting,
                    uint64_t seq, ledger_ack_row_t *out, char *error,
                    size_t error_size) __attribute__((warn_unused_result));

/* Records a received receipt that failed a check. serving, requesting and
 * signature may be NULL when they could not be read. */
int ledger_record_dispute(ledger_t *self, const char *serving,
                          const char *requesting, const uint8_t *body,
                          size_t size, const uint8_t *signature,
                          const char *reason, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Counts the recorded disputes. */
int ledger_count_disputes(ledger_t *self, uint64_t *count, char *error,
                          size_t error_size)
    __attribute__((warn_unused_result));

typedef enum {
    LEDGER_ROLE_ANY = 0,
    LEDGER_ROLE_ISSUED,  /* serving == own_mpid */
    LEDGER_ROLE_RECEIVED /* requesting == own_mpid */
} ledger_role_t;

/* Which receipts ledger_foreach_receipt visits. Zero-initialise it and set
 * what matters. from_ms = to_ms = 0 means any served_at. */
typedef struct {
    const char *own_mpid; /* required for ISSUED and RECEIVED */
    ledger_role_t role;
    const char *counterparty; /* the other side, or NULL for any */
    int64_t from_ms;          /* served_at >= from_ms */
    int64_t to_ms;            /* served_at < to_ms */
    bool unacknowledged_only;
} ledger_filter_t;

/* Called once per receipt. Returns 0 to go on, or non-zero to stop. The
 * row is valid only during the call. */
typedef int (*ledger_receipt_fn)(const ledger_row_t *row, void *arg);

/* Visits the receipts that match filter (NULL for all) in order of
 * served_at, then chain and seq. Returns 0, the callback's non-zero value
 * when it stopped the walk, or -1. */
int ledger_foreach_receipt(ledger_t *self, const ledger_filter_t *filter,
                           ledger_receipt_fn callback, void *arg, char *error,
                           size_t error_size);

/* Looks up the Ed25519 public key of a supplier for ledger_verify.
 * Returns 0 and fills public_key, or -1 when the MPID is unknown. */
typedef int (*ledger_key_fn)(const char *mpid,
                             uint8_t public_key[SIGN_PUBLIC_SIZE], void *arg);

/* Results of a ledger_signature_fn. */
#define LEDGER_SIGNATURE_OK   0
#define LEDGER_SIGNER_UNKNOWN 1 /* no signing key of the supplier is known */
#define LEDGER_SIGNATURE_BAD  (-1)

/* Checks that signature is mpid's Ed25519 signature of domain (with its
 * NUL) followed by data, made with a key mpid could sign with at
 * signed_ms. Returns one of the values above, with a sentence in reason
 * for LEDGER_SIGNATURE_BAD. */
typedef int (*ledger_signature_fn)(const char *mpid, int64_t signed_ms,
                                   const char *domain, const uint8_t *data,
                                   size_t size,
                                   const uint8_t signature[SIGN_SIGNATURE_SIZE],
                                   char *reason, size_t reason_size, void *arg);

/* The outcome of ledger_verify. The problem fields are set when !ok. */
typedef struct {
    bool ok;
    char serving[5];
    char requesting[5];
    uint64_t seq; /* the first bad seq in that chain */
    bool in_ack;  /* the problem is in the acknowledgement of seq */
    char reason[512];
    uint64_t chains; /* counts of what was checked */
    uint64_t receipts;
    uint64_t acks;
    uint64_t checkpoints; /* set by ledger_verify_checkpoints */
} ledger_verify_result_t;

/* Walks every chain from seq 1 and then every acknowledgement, and reports
 * the first problem found. A receipt row fails on a stored hash that is not
 * the body's, a bad signature, a body that disagrees with the row's
 * columns, a broken prev_hash link or a missing seq. An acknowledgement
 * fails when its receipt is missing or its hash, columns or signature are
 * wrong. Removing the newest receipts of a chain is detected only when they
 * were acknowledged. Returns 0 when the walk finished (result->ok tells the
 * outcome), or -1 on a database error. */
int ledger_verify(ledger_t *self, ledger_key_fn lookup, void *arg,
                  ledger_verify_result_t *result, char *error,
                  size_t error_size) __attribute__((warn_unused_result));

/* Runs ledger_verify with each signature checked by check at the time in
 * its body: a receipt's served_at, an acknowledgement's acked_at. So each
 * of a supplier's keys is accepted for what it signed while it was valid
 * (see dir_keys.h for the rule). */
int ledger_verify_timed(ledger_t *self, ledger_signature_fn check, void *arg,
                        ledger_verify_result_t *result, char *error,
                        size_t error_size) __attribute__((warn_unused_result));

/* Finds a recorded dispute of serving->requesting whose receipt body is
 * exactly body. Returns 1 and writes the dispute's reason, 0 when there is
 * none, or -1. */
int ledger_find_dispute(ledger_t *self, const char *serving,
                        const char *requesting, const uint8_t *body,
                        size_t size, char *reason, size_t reason_size,
                        char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
