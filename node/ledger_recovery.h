/* Ledger queries for the recovery of receipts that a requester may have
 * missed: the receipts a serving node lists in reply to receipt.pending,
 * and the chains a node takes part in. */
#ifndef SDX_LEDGER_RECOVERY_H
#define SDX_LEDGER_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* Visits, in seq order and at most limit of them, the receipts of
 * serving->requesting that have no acknowledgement or (when has_after)
 * have a seq above after. Sets *more when further receipts matched.
 * Returns 0, the callback's non-zero value when it stopped the walk, or
 * -1 with a sentence in error. */
int ledger_foreach_pending(ledger_t *self, const char *serving,
                           const char *requesting, bool has_after,
                           uint64_t after, size_t limit, bool *more,
                           ledger_receipt_fn callback, void *arg, char *error,
                           size_t error_size);

/* Called once per chain with the MPID of the other side. Returns 0 to go
 * on, or non-zero to stop. */
typedef int (*ledger_chain_fn)(const char *counterparty, void *arg);

/* Visits the counterparties of the chains in which own_mpid is serving
 * (LEDGER_ROLE_ISSUED) or requesting (LEDGER_ROLE_RECEIVED). Returns 0,
 * the callback's non-zero value, or -1 with a sentence in error. */
int ledger_foreach_chain(ledger_t *self, const char *own_mpid,
                         ledger_role_t role, ledger_chain_fn callback,
                         void *arg, char *error, size_t error_size);

#endif
