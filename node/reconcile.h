/* Reconciliation: checking a counterparty's signed statement, receipt by
 * receipt, against the local ledger's copy of the same chain.
 *
 * Every receipt of the statement is looked up by seq in the local ledger,
 * and every local receipt of the chain served in the statement's period is
 * looked up in the statement. A receipt that raises no finding is matched.
 * The two sides agree when nothing but matched receipts was found.
 */
#ifndef SDX_RECONCILE_H
#define SDX_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dir_records.h"
#include "ledger.h"
#include "statement.h"
#include "statement_file.h"

typedef enum {
    RECONCILE_MATCHED = 0,
    RECONCILE_MISSING_OURS,   /* in the statement, not in the local ledger */
    RECONCILE_MISSING_THEIRS, /* in the local ledger, not in the statement */
    RECONCILE_PRICE_DIFFERS,  /* same seq, another price */
    RECONCILE_DIFFERS,        /* same seq and price, other fields differ */
    RECONCILE_BAD_SIGNATURE,  /* statement, acceptance, receipt or ack */
    RECONCILE_CHAIN_BROKEN,   /* prev_hash does not link, or a seq gap */
    RECONCILE_UNACKNOWLEDGED, /* on either side */
    RECONCILE_CATEGORY_COUNT
} reconcile_category_t;

typedef struct {
    reconcile_category_t category;
    uint64_t seq; /* 0 when the finding is about the whole statement */
    char note[320];
} reconcile_finding_t;

typedef struct reconcile reconcile_t;

/* Compares statement, which must be addressed to own_mpid, with ledger.
 * lookup gives the suppliers' signing keys. Caller owns the result.
 * Returns NULL with a sentence in error when the comparison cannot be
 * made: a statement for another supplier, an unknown signing key or a
 * ledger error. */
reconcile_t *reconcile_run(const statement_file_t *statement, ledger_t *ledger,
                           const char *own_mpid, ledger_key_fn lookup,
                           void *arg, char *error, size_t error_size);

/* Like reconcile_run, but checks each receipt's and acknowledgement's
 * signature against every signing key the directory lists for its signer,
 * by the time inside what was signed (served_at, acked_at), as sdx ledger
 * verify does. So a key retired since still counts for the time it was
 * valid, and a revoked key's later signatures are refused. suppliers
 * (count entries) may be NULL, which is reconcile_run. */
reconcile_t *reconcile_run_timed(const statement_file_t *statement,
                                 ledger_t *ledger, const char *own_mpid,
                                 ledger_key_fn lookup, void *arg,
                                 const dir_supplier_t *suppliers, size_t count,
                                 char *error, size_t error_size);

/* Frees the result and sets *self_p to NULL. NULL is allowed. */
void reconcile_destroy(reconcile_t **self_p);

/* Returns true when every receipt matched and nothing else was found. */
bool reconcile_agree(const reconcile_t *self);

/* Returns the number of receipts (or whole-statement findings) in a
 * category. */
uint64_t reconcile_count(const reconcile_t *self,
                         reconcile_category_t category);

/* Returns the findings, in the order found; matched receipts have none.
 * The result owns them. */
size_t reconcile_finding_count(const reconcile_t *self);
const reconcile_finding_t *reconcile_finding(const reconcile_t *self,
                                             size_t index);

/* Returns the local ledger's statement of the same chain and period. */
const statement_t *reconcile_local(const reconcile_t *self);

/* Returns the short name of a category, such as "missing_ours", and the
 * words for people, such as "missing on our side". */
const char *reconcile_category_name(reconcile_category_t category);
const char *reconcile_category_label(reconcile_category_t category);

/* Writes the result as a report for people. */
void reconcile_write_table(const reconcile_t *self,
                           const statement_file_t *statement, FILE *out);

/* Writes the result as one JSON object. */
void reconcile_write_json(const reconcile_t *self,
                          const statement_file_t *statement, FILE *out);

#endif
