/* Reconciliation of a counterparty's statement with the local ledger. */
#include "reconcile.h"

#include "dir_keys.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hex.h"
#include "json.h"

struct reconcile {
    uint64_t counts[RECONCILE_CATEGORY_COUNT];
    reconcile_finding_t *findings;
    size_t count;
    size_t capacity;
    statement_t local;
};

/* What one comparison needs. */
typedef struct {
    reconcile_t *result;
    const statement_file_t *statement;
    ledger_t *ledger;
    const char *serving;
    const char *requesting;
    uint8_t serving_key[SIGN_PUBLIC_SIZE];
    uint8_t requesting_key[SIGN_PUBLIC_SIZE];
    /* When set, signatures are checked by time against all their keys. */
    const dir_supplier_t *serving_supplier;
    const dir_supplier_t *requesting_supplier;
    char *error;
    size_t error_size;
} context_t;

static const char *s_names[RECONCILE_CATEGORY_COUNT] = {
    "matched", "missing_ours",  "missing_theirs", "price_differs",
    "differs", "bad_signature", "chain_broken",   "unacknowledged"};

static const char *s_labels[RECONCILE_CATEGORY_COUNT] = {
    "matched",       "missing on our side", "missing on theirs",
    "price differs", "other field differs", "signature invalid",
    "chain broken",  "not acknowledged"};

const char *reconcile_category_name(reconcile_category_t category)
{
    assert(category < RECONCILE_CATEGORY_COUNT);
    return s_names[category];
}

const char *reconcile_category_label(reconcile_category_t category)
{
    assert(category < RECONCILE_CATEGORY_COUNT);
    return s_labels[category];
}

static int s_add(context_t *c, reconcile_category_t category, uint64_t seq,
                 const char *format, ...) __attribute__((format(printf, 4, 5)));

/* Records a finding. Returns 0, or -1 when memory runs out. */
static int s_add(context_t *c, reconcile_category_t category, uint64_t seq,
                 const char *format, ...)
{
    reconcile_t *r = c->result;
    if (r->count == r->capacity) {
        size_t capacity = r->capacity ? 2 * r->capacity : 16;
        reconcile_finding_t *grown =
            realloc(r->findings, capacity * sizeof *grown);
        if (!grown) {
            snprintf(c->error, c->error_size, "out of memory listing findings");
            return -1;
        }
        r->findings = grown;
        r->capacity = capacity;
    }
    reconcile_finding_t *finding = &r->findings[r->count++];
    finding->category = category;
    finding->seq = seq;
    va_list args;
    va_start(args, format);
    vsnprintf(finding->note, sizeof finding->note, format, args);
    va_end(args);
    r->counts[category]++;
    return 0;
}

/* Names the first field in which two receipts of the same seq differ. */
static const char *s_first_difference(const receipt_t *a, const receipt_t *b)
{
    if (memcmp(a->request_id, b->request_id, RECEIPT_ID_SIZE) != 0)
        return "request_id";
    if (strcmp(a->mpxn, b->mpxn) != 0)
        return "mpxn";
    if (strcmp(a->type, b->type) != 0)
        return "type";
    if (a->range_count != b->range_count ||
        memcmp(a->ranges, b->ranges, a->range_count * sizeof a->ranges[0]))
        return "ranges";
    if (a->units != b->units)
        return "units";
    if (strcmp(a->tariff_id, b->tariff_id) != 0 ||
        memcmp(a->tariff_hash, b->tariff_hash, HASH_SIZE) != 0)
        return "tariff";
    if (a->served_at != b->served_at)
        return "served_at";
    return "prev_hash";
}

static int s_compare_acks(context_t *c, const statement_entry_t *theirs,
                          const ledger_row_t *ours)
{
    uint64_t seq = theirs->receipt.seq;
    if (!theirs->acknowledged || !ours->acknowledged)
        return s_add(c, RECONCILE_UNACKNOWLEDGED, seq, "%s",
                     !theirs->acknowledged && !ours->acknowledged
                         ? "acknowledged on neither side"
                     : !theirs->acknowledged
                         ? "acknowledged in this ledger, not in the statement"
                         : "acknowledged in the statement, not in this "
                           "ledger");
    ledger_ack_row_t ack;
    int found = ledger_find_ack(c->ledger, c->serving, c->requesting, seq, &ack,
                                c->error, c->error_size);
    if (found < 0)
        return -1;
    if (found == 1 && ack.body_size == theirs->ack_size &&
        memcmp(ack.body, theirs->ack_body, ack.body_size) == 0)
        return 0;
    return s_add(c, RECONCILE_DIFFERS, seq,
                 "the acknowledgement in the statement is not the one in "
                 "this ledger");
}

static int s_compare(context_t *c, const statement_entry_t *theirs,
                     const ledger_row_t *ours)
{
    const receipt_t *a = &theirs->receipt;
    const receipt_t *b = &ours->receipt;
    if (memcmp(theirs->hash, ours->hash, HASH_SIZE) == 0)
        return s_compare_acks(c, theirs, ours);
    if (a->price != b->price)
        return s_add(c, RECONCILE_PRICE_DIFFERS, a->seq,
                     "%s: the statement charges %" PRIu64
                     " micro-units, this ledger %" PRIu64,
                     a->type, a->price, b->price);
    return s_add(c, RECONCILE_DIFFERS, a->seq,
                 "%s: the receipts differ in field %s", a->type,
                 s_first_difference(a, b));
}

static int s_missing_ours(context_t *c, const statement_entry_t *theirs)
{
    const receipt_t *r = &theirs->receipt;
    char reason[512];
    int found = ledger_find_dispute(c->ledger, c->serving, c->requesting,
                                    theirs->body, theirs->body_size, reason,
                                    sizeof reason, c->error, c->error_size);
    if (found < 0)
        return -1;
    if (s_add(c, RECONCILE_MISSING_OURS, r->seq,
              "%s, %" PRIu64 " micro-units: %s%s", r->type, r->price,
              found ? "held in this ledger as a dispute: "
                    : "not in this "
                      "ledger",
              found ? reason : "") != 0)
        return -1;
    if (!theirs->acknowledged)
        return s_add(c, RECONCILE_UNACKNOWLEDGED, r->seq,
                     "not acknowledged in the statement");
    return 0;
}

/* Checks that a receipt's prev_hash is the hash of the seq before it,
 * taken from the statement when it has that seq, else from the ledger. */
static int s_check_link(context_t *c, size_t index)
{
    const statement_entry_t *e = statement_file_entry(c->statement, index);
    uint64_t seq = e->receipt.seq;
    if (seq == 1)
        return 0;
    const statement_entry_t *previous =
        index > 0 ? statement_file_entry(c->statement, index - 1) : NULL;
    if (previous && previous->receipt.seq == seq - 1) {
        if (memcmp(e->receipt.prev_hash, previous->hash, HASH_SIZE) == 0)
            return 0;
        return s_add(c, RECONCILE_CHAIN_BROKEN, seq,
                     "prev_hash is not the hash of seq %" PRIu64
                     " in the statement",
                     seq - 1);
    }
    ledger_row_t row;
    int found = ledger_find_receipt(c->ledger, c->serving, c->requesting,
                                    seq - 1, &row, c->error, c->error_size);
    if (found < 0)
        return -1;
    if (found == 1 && memcmp(e->receipt.prev_hash, row.hash, HASH_SIZE) != 0)
        return s_add(c, RECONCILE_CHAIN_BROKEN, seq,
                     "prev_hash is not the hash of seq %" PRIu64
                     " in this ledger",
                     seq - 1);
    if (found == 0 && previous)
        return s_add(c, RECONCILE_CHAIN_BROKEN, seq,
                     "seq %" PRIu64 " is in neither the statement nor this "
                     "ledger",
                     seq - 1);
    return 0;
}

static bool s_receipt_signed(const context_t *c, const statement_entry_t *e)
{
    char reason[256];
    if (c->serving_supplier)
        return dir_supplier_verify(c->serving_supplier, e->receipt.served_at,
                                   SIGN_DOMAIN_RECEIPT, e->body, e->body_size,
                                   e->signature, reason,
                                   sizeof reason) == DIR_SIGNATURE_OK;
    return receipt_verify(c->serving_key, e->body, e->body_size, e->signature);
}

static bool s_ack_signed(const context_t *c, const statement_entry_t *e)
{
    char reason[256];
    if (c->requesting_supplier)
        return dir_supplier_verify(c->requesting_supplier, e->ack.acked_at,
                                   SIGN_DOMAIN_ACK, e->ack_body, e->ack_size,
                                   e->ack_signature, reason,
                                   sizeof reason) == DIR_SIGNATURE_OK;
    return ack_verify(c->requesting_key, e->ack_body, e->ack_size,
                      e->ack_signature);
}

static int s_check_signatures(context_t *c, const statement_entry_t *e)
{
    uint64_t seq = e->receipt.seq;
    if (!s_receipt_signed(c, e) &&
        s_add(c, RECONCILE_BAD_SIGNATURE, seq,
              "the receipt's signature is not %s's", c->serving) != 0)
        return -1;
    if (e->acknowledged && !s_ack_signed(c, e) &&
        s_add(c, RECONCILE_BAD_SIGNATURE, seq,
              "the acknowledgement's signature is not %s's",
              c->requesting) != 0)
        return -1;
    return 0;
}

static int s_check_entry(context_t *c, size_t index)
{
    const statement_entry_t *e = statement_file_entry(c->statement, index);
    size_t before = c->result->count;
    if (s_check_signatures(c, e) != 0)
        return -1;
    ledger_row_t row;
    int found =
        ledger_find_receipt(c->ledger, c->serving, c->requesting,
                            e->receipt.seq, &row, c->error, c->error_size);
    if (found < 0)
        return -1;
    int rc = found ? s_compare(c, e, &row) : s_missing_ours(c, e);
    if (rc != 0 || s_check_link(c, index) != 0)
        return -1;
    if (c->result->count == before)
        c->result->counts[RECONCILE_MATCHED]++;
    return 0;
}

/* Returns true when the statement contains a receipt of this seq. */
static bool s_statement_has(const statement_file_t *statement, uint64_t seq)
{
    size_t low = 0, high = statement_file_count(statement);
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        uint64_t here = statement_file_entry(statement, middle)->receipt.seq;
        if (here == seq)
            return true;
        if (here < seq)
            low = middle + 1;
        else
            high = middle;
    }
    return false;
}

static int s_check_local_row(const ledger_row_t *row, void *arg)
{
    context_t *c = arg;
    const receipt_t *r = &row->receipt;
    if (s_statement_has(c->statement, r->seq))
        return 0;
    if (s_add(c, RECONCILE_MISSING_THEIRS, r->seq,
              "%s, %" PRIu64 " micro-units: in this ledger, not in the "
              "statement",
              r->type, r->price) != 0)
        return -1;
    if (!row->acknowledged)
        return s_add(c, RECONCILE_UNACKNOWLEDGED, r->seq,
                     "not acknowledged in this ledger");
    return 0;
}

static int s_check_local(context_t *c, const char *own_mpid)
{
    const statement_t *s = statement_file_summary(c->statement);
    bool serving = strcmp(c->serving, own_mpid) == 0;
    ledger_filter_t filter = {
        .own_mpid = own_mpid,
        .role = serving ? LEDGER_ROLE_ISSUED : LEDGER_ROLE_RECEIVED,
        .counterparty = statement_file_issuer(c->statement),
        .from_ms = s->from_ms,
        .to_ms = s->to_ms};
    if (ledger_foreach_receipt(c->ledger, &filter, s_check_local_row, c,
                               c->error, c->error_size) != 0)
        return -1;
    return statement_compute(c->ledger, c->serving, c->requesting, s->from_ms,
                             s->to_ms, &c->result->local, c->error,
                             c->error_size);
}

/* Checks the statement's own signature and the acceptance, if any. */
static int s_check_statement(context_t *c)
{
    const statement_file_t *st = c->statement;
    const char *issuer = statement_file_issuer(st);
    bool issued = statement_file_direction(st) == STATEMENT_ISSUED;
    const uint8_t *issuer_key = issued ? c->serving_key : c->requesting_key;
    const uint8_t *own_key = issued ? c->requesting_key : c->serving_key;
    if (!statement_file_verify(st, issuer_key) &&
        s_add(c, RECONCILE_BAD_SIGNATURE, 0,
              "the statement's signature is not %s's", issuer) != 0)
        return -1;
    if (statement_file_accepted(st) &&
        !statement_file_verify_acceptance(st, own_key) &&
        s_add(c, RECONCILE_BAD_SIGNATURE, 0,
              "the acceptance's signature is not %s's",
              statement_file_counterparty(st)) != 0)
        return -1;
    return 0;
}

static int s_load_keys(context_t *c, ledger_key_fn lookup, void *arg)
{
    if (lookup(c->serving, c->serving_key, arg) != 0 ||
        lookup(c->requesting, c->requesting_key, arg) != 0) {
        snprintf(c->error, c->error_size,
                 "no signing key for %s or %s; is the supplier listed in "
                 "the directory?",
                 c->serving, c->requesting);
        return -1;
    }
    return 0;
}

static const dir_supplier_t *s_find_supplier(const dir_supplier_t *list,
                                             size_t count, const char *mpid)
{
    for (size_t i = 0; list && i < count; i++)
        if (strcmp(list[i].mpid, mpid) == 0)
            return &list[i];
    return NULL;
}

reconcile_t *reconcile_run(const statement_file_t *statement, ledger_t *ledger,
                           const char *own_mpid, ledger_key_fn lookup,
                           void *arg, char *error, size_t error_size)
{
    return reconcile_run_timed(statement, ledger, own_mpid, lookup, arg, NULL,
                               0, error, error_size);
}

reconcile_t *reconcile_run_timed(const statement_file_t *statement,
                                 ledger_t *ledger, const char *own_mpid,
                                 ledger_key_fn lookup, void *arg,
                                 const dir_supplier_t *suppliers, size_t count,
                                 char *error, size_t error_size)
{
    assert(statement);
    assert(ledger);
    assert(own_mpid);
    assert(lookup);
    if (strcmp(statement_file_counterparty(statement), own_mpid) != 0) {
        snprintf(error, error_size,
                 "the statement is from %s to %s, not to this node's %s",
                 statement_file_issuer(statement),
                 statement_file_counterparty(statement), own_mpid);
        return NULL;
    }
    reconcile_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, error_size, "out of memory reconciling");
        return NULL;
    }
    const statement_t *s = statement_file_summary(statement);
    context_t c = {
        .result = self,
        .statement = statement,
        .ledger = ledger,
        .serving = s->serving,
        .requesting = s->requesting,
        .serving_supplier = s_find_supplier(suppliers, count, s->serving),
        .requesting_supplier = s_find_supplier(suppliers, count, s->requesting),
        .error = error,
        .error_size = error_size};
    int rc = s_load_keys(&c, lookup, arg);
    if (rc == 0)
        rc = s_check_statement(&c);
    for (size_t i = 0; rc == 0 && i < statement_file_count(statement); i++)
        rc = s_check_entry(&c, i);
    if (rc == 0)
        rc = s_check_local(&c, own_mpid);
    if (rc != 0)
        reconcile_destroy(&self);
    return self;
}

void reconcile_destroy(reconcile_t **self_p)
{
    assert(self_p);
    reconcile_t *self = *self_p;
    if (!self)
        return;
    free(self->findings);
    free(self);
    *self_p = NULL;
}

bool reconcile_agree(const reconcile_t *self)
{
    return self->count == 0;
}

uint64_t reconcile_count(const reconcile_t *self, reconcile_category_t category)
{
    assert(category < RECONCILE_CATEGORY_COUNT);
    return self->counts[category];
}

size_t reconcile_finding_count(const reconcile_t *self)
{
    return self->count;
}

const reconcile_finding_t *reconcile_finding(const reconcile_t *self,
                                             size_t index)
{
    assert(index < self->count);
    return &self->findings[index];
}

const statement_t *reconcile_local(const reconcile_t *self)
{
    return &self->local;
}

static void s_total_line(FILE *out, const char *who, const statement_t *s)
{
    char amount[28];
    fprintf(out,
            "  %-12s %" PRIu64 " receipt%s, %" PRIu64 " units, %" PRIu64
            " micro-units (%s %s), %" PRIu64 " not acknowledged\n",
            who, s->total.count, s->total.count == 1 ? "" : "s", s->total.units,
            s->total.amount, statement_format_amount(s->total.amount, amount),
            s->currency, s->total.unacknowledged);
}

void reconcile_write_table(const reconcile_t *self,
                           const statement_file_t *statement, FILE *out)
{
    const statement_t *s = statement_file_summary(statement);
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
    fprintf(out, "Statement by %s: %s -> %s %s, %s to %s\n",
            statement_file_issuer(statement), s->serving, s->requesting,
            statement_direction_name(statement_file_direction(statement)),
            clock_format_iso(s->from_ms, from), clock_format_iso(s->to_ms, to));
    s_total_line(out, "statement:", s);
    s_total_line(out, "this ledger:", &self->local);
    for (int i = 0; i < RECONCILE_CATEGORY_COUNT; i++)
        fprintf(out, "  %-20s %8" PRIu64 "\n", s_labels[i], self->counts[i]);
    for (size_t i = 0; i < self->count; i++) {
        const reconcile_finding_t *f = &self->findings[i];
        if (f->seq)
            fprintf(out, "  seq %-8" PRIu64 " %s: %s\n", f->seq,
                    s_labels[f->category], f->note);
        else
            fprintf(out, "  statement    %s: %s\n", s_labels[f->category],
                    f->note);
    }
    if (self->count == 0)
        fprintf(out, "Result: the statement agrees with this ledger\n");
    else
        fprintf(out,
                "Result: the statement does not agree with this ledger "
                "(%zu finding%s)\n",
                self->count, self->count == 1 ? "" : "s");
}

static void s_json_total(FILE *out, const statement_t *s)
{
    fprintf(out,
            "{\"count\": %" PRIu64 ", \"units\": %" PRIu64
            ", \"amount_micro\": %" PRIu64 ", \"unacknowledged\": %" PRIu64 "}",
            s->total.count, s->total.units, s->total.amount,
            s->total.unacknowledged);
}

void reconcile_write_json(const reconcile_t *self,
                          const statement_file_t *statement, FILE *out)
{
    const statement_t *s = statement_file_summary(statement);
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
    fprintf(out, "{\"issuer\": ");
    json_write_string(out, statement_file_issuer(statement));
    fprintf(out, ", \"serving\": ");
    json_write_string(out, s->serving);
    fprintf(out, ", \"requesting\": ");
    json_write_string(out, s->requesting);
    fprintf(out,
            ", \"direction\": \"%s\", \"from\": \"%s\", \"to\": \"%s\", "
            "\"agree\": %s,\n \"counts\": {",
            statement_direction_name(statement_file_direction(statement)),
            clock_format_iso(s->from_ms, from), clock_format_iso(s->to_ms, to),
            self->count == 0 ? "true" : "false");
    for (int i = 0; i < RECONCILE_CATEGORY_COUNT; i++)
        fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "", s_names[i],
                self->counts[i]);
    fprintf(out, "},\n \"statement_total\": ");
    s_json_total(out, s);
    fprintf(out, ",\n \"local_total\": ");
    s_json_total(out, &self->local);
    fprintf(out, ",\n \"findings\": [");
    for (size_t i = 0; i < self->count; i++) {
        const reconcile_finding_t *f = &self->findings[i];
        fprintf(out,
                "%s\n  {\"category\": \"%s\", \"seq\": %" PRIu64 ", \"note\": ",
                i ? "," : "", s_names[f->category], f->seq);
        json_write_string(out, f->note);
        fputc('}', out);
    }
    fprintf(out, "]}\n");
}
