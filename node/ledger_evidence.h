/* Evidence in the ledger: with each receipt it issues, the serving node
 * stores the signed directory answer that allowed the request, so an
 * auditor can later show why it was allowed. */
#ifndef SDX_LEDGER_EVIDENCE_H
#define SDX_LEDGER_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "sign.h"

/* Stores the directory answer bytes and signature for the receipt
 * serving->requesting seq, inside the caller's open transaction. Returns 0,
 * or -1 with a sentence in error. */
int ledger_store_evidence(ledger_t *self, const char *serving,
                          const char *requesting, uint64_t seq,
                          const uint8_t *answer, size_t answer_size,
                          const uint8_t signature[SIGN_SIGNATURE_SIZE],
                          char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Finds the evidence of a receipt. On 1 *answer is malloc'd and owned by
 * the caller. Returns 1, 0 when there is none, or -1 with an error. */
int ledger_find_evidence(ledger_t *self, const char *serving,
                         const char *requesting, uint64_t seq, uint8_t **answer,
                         size_t *answer_size,
                         uint8_t signature[SIGN_SIGNATURE_SIZE], char *error,
                         size_t error_size) __attribute__((warn_unused_result));

#endif
