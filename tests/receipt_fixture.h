/* Test helpers that write signed receipts and acknowledgements into
 * ledgers, so one receipt can be stored in both suppliers' ledgers. */
#ifndef SDX_RECEIPT_FIXTURE_H
#define SDX_RECEIPT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "tap.h"

/* One signed receipt: its fields, body, signature and hash. */
typedef struct {
    receipt_t receipt;
    uint8_t *body;
    size_t size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    uint8_t hash[HASH_SIZE];
} fixture_receipt_t;

/* Makes the next receipt of the serving->requesting chain of ledger,
 * signed by signer. The request id is derived from the chain and seq. */
static inline void fixture_make(fixture_receipt_t *out, ledger_t *ledger,
                                const signer_t *signer, const char *serving,
                                const char *requesting, const char *type,
                                int64_t served_at, uint64_t units,
                                uint64_t price)
{
    char error[512];
    memset(out, 0, sizeof *out);
    receipt_t *r = &out->receipt;
    strcpy(r->serving, serving);
    strcpy(r->requesting, requesting);
    if (ledger_chain_head(ledger, serving, requesting, &r->seq, r->prev_hash,
                          error, sizeof error) != 0)
        bail_out("chain head: %s", error);
    r->seq++;
    memcpy(r->request_id, &r->seq, sizeof r->seq);
    memcpy(r->request_id + 8, serving, 4);
    memcpy(r->request_id + 12, requesting, 4);
    strcpy(r->mpxn, "2000012345672");
    strcpy(r->type, type);
    r->units = units;
    strcpy(r->tariff_id, "ALFA-BRVO-2026");
    memset(r->tariff_hash, 0xa5, HASH_SIZE);
    r->price = price;
    r->served_at = served_at;
    if (receipt_encode(r, &out->body, &out->size) != 0)
        bail_out("receipt encode failed");
    receipt_sign(signer, out->body, out->size, out->signature);
    receipt_hash(out->body, out->size, out->hash);
}

/* Appends the receipt to ledger. */
static inline void fixture_store(ledger_t *ledger, const fixture_receipt_t *f)
{
    char error[512];
    if (ledger_append_receipt(ledger, &f->receipt, f->body, f->size,
                              f->signature, error, sizeof error) != 0)
        bail_out("append: %s", error);
}

/* Stores the requester's acknowledgement of the receipt, signed by
 * signer, with acked_at one second after it was served. */
static inline void fixture_ack(ledger_t *ledger, const signer_t *signer,
                               const fixture_receipt_t *f)
{
    char error[512];
    ack_t ack = {.seq = f->receipt.seq,
                 .acked_at = f->receipt.served_at + 1000};
    memcpy(ack.receipt_hash, f->hash, HASH_SIZE);
    strcpy(ack.serving, f->receipt.serving);
    strcpy(ack.requesting, f->receipt.requesting);
    uint8_t *body = NULL;
    size_t size = 0;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    if (ack_encode(&ack, &body, &size) != 0)
        bail_out("ack encode failed");
    ack_sign(signer, body, size, signature);
    if (ledger_append_ack(ledger, &ack, body, size, signature, error,
                          sizeof error) != 0)
        bail_out("ack: %s", error);
    free(body);
}

static inline void fixture_free(fixture_receipt_t *f)
{
    free(f->body);
    f->body = NULL;
}

#endif
