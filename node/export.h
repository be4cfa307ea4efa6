/* Receipt exports for finance: one line per receipt with every field of
 * the receipt, its hashes, signature and acknowledgement, as RFC 4180 CSV
 * (a header row, CRLF line ends) or as a JSON array with one object per
 * line. Amounts are given in micro-units and in currency units with 6
 * decimals (exact), times in ISO 8601 UTC and in UTC ms.
 */
#ifndef SDX_EXPORT_H
#define SDX_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "ledger.h"
#include "tariff.h"

typedef enum { EXPORT_CSV = 0, EXPORT_JSON } export_format_t;

/* Writes the receipts of ledger that filter selects (filter->own_mpid is
 * required: it decides each row's role, issued or received). tariffs may
 * be NULL; when a tariff of the receipt's pair has the receipt's tariff
 * id, its currency is written, else the currency field is empty. Sets
 * *count to the number of receipts written. Returns 0, or -1 with a
 * sentence in error, after which the output is incomplete. */
int export_receipts(ledger_t *ledger, const ledger_filter_t *filter,
                    const tariff_set_t *tariffs, export_format_t format,
                    FILE *out, uint64_t *count, char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
