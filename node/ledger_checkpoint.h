/* Checkpoints in the ledger. The serving node stores each checkpoint it
 * issues, and the requesting node each one it receives. A later rewrite
 * of a chain on either side then no longer matches the checkpoints that
 * the other side has. */
#ifndef SDX_LEDGER_CHECKPOINT_H
#define SDX_LEDGER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "ledger.h"

/* One stored checkpoint. */
typedef struct {
    int64_t id; /* row number, which names the checkpoint in reports */
    checkpoint_t checkpoint;
    uint8_t body[CHECKPOINT_MAX_BODY];
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    int64_t stored_at;
} ledger_checkpoint_row_t;

/* Stores a signed checkpoint whose body is checkpoint's encoding. Storing
 * the same body again succeeds and changes nothing. Signatures are the
 * caller's to check. Returns 0, or -1 with a sentence in error. */
int ledger_store_checkpoint(ledger_t *self, const checkpoint_t *checkpoint,
                            const uint8_t *body, size_t size,
                            const uint8_t signature[SIGN_SIGNATURE_SIZE],
                            char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Finds the checkpoint of serving->requesting with the highest seq (the
 * latest stored among equals). Returns 1 and fills out, 0 when there is
 * none, or -1. */
int ledger_last_checkpoint(ledger_t *self, const char *serving,
                           const char *requesting, ledger_checkpoint_row_t *out,
                           char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Reads the highest n such that every receipt of the chain from seq 1 to
 * n has an acknowledgement in this ledger, starting the search after
 * known, a value already proven (0 when unknown). Returns 0, or -1. */
int ledger_acked_through(ledger_t *self, const char *serving,
                         const char *requesting, uint64_t known,
                         uint64_t *acked_seq, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Checks every stored checkpoint: its signature with the serving
 * supplier's key, that its columns match its body, and that this ledger
 * still agrees with it. When this ledger has the receipt at the
 * checkpoint's seq, its hash must be the checkpoint's head hash. A node
 * that issued the checkpoint (serving is own_mpid) must have that receipt.
 * Every receipt up to acked_seq must have its acknowledgement here. A problem
 * is reported in result with the checkpoint's id and issue time in the reason;
 * result->checkpoints counts those checked. Returns 0 when the walk finished
 * (result->ok tells the outcome), or -1 on a database error. */
int ledger_verify_checkpoints(ledger_t *self, const char *own_mpid,
                              ledger_key_fn lookup, void *arg,
                              ledger_verify_result_t *result, char *error,
                              size_t error_size)
    __attribute__((warn_unused_result));

/* Runs ledger_verify_checkpoints with each signature checked by check at
 * the checkpoint's issued_at. */
int ledger_verify_checkpoints_timed(ledger_t *self, const char *own_mpid,
                                    ledger_signature_fn check, void *arg,
                                    ledger_verify_result_t *result, char *error,
                                    size_t error_size)
    __attribute__((warn_unused_result));

#endif
