/* Signed statement files: collecting from the ledger, the canonical
 * encoding, signing, acceptance and the strict decoder. */
#include "statement_file.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canonical.h"

#define BODY_ITEMS       14
#define ACCEPTANCE_ITEMS 5
#define FILE_ITEMS       5

struct statement_file {
    char issuer[5];
    char counterparty[5];
    statement_direction_t direction;
    int64_t issued_at;
    statement_t summary;
    statement_entry_t *entries;
    size_t count;
    size_t capacity;
    uint8_t *body; /* NULL until signed */
    size_t body_size;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    uint8_t hash[HASH_SIZE];
    bool accepted;
    int64_t accepted_at;
    uint8_t acceptance[CANON_MAX_BODY];
    size_t acceptance_size;
    uint8_t acceptance_signature[SIGN_SIGNATURE_SIZE];
};

const char *statement_direction_name(statement_direction_t direction)
{
    return direction == STATEMENT_ISSUED ? "issued" : "received";
}

static statement_file_t *s_new(const char *issuer, const char *counterparty,
                               statement_direction_t direction)
{
    statement_file_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->issuer, sizeof self->issuer, "%s", issuer);
    snprintf(self->counterparty, sizeof self->counterparty, "%s", counterparty);
    self->direction = direction;
    return self;
}

static void s_entry_clear(statement_entry_t *entry)
{
    free(entry->body);
    free(entry->ack_body);
    memset(entry, 0, sizeof *entry);
}

void statement_file_destroy(statement_file_t **self_p)
{
    assert(self_p);
    statement_file_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_entry_clear(&self->entries[i]);
    free(self->entries);
    free(self->body);
    free(self);
    *self_p = NULL;
}

/* Returns a new zeroed entry at the end of the list, or NULL. */
static statement_entry_t *s_push_entry(statement_file_t *self)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? 2 * self->capacity : 64;
        statement_entry_t *grown =
            realloc(self->entries, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        self->entries = grown;
        self->capacity = capacity;
    }
    statement_entry_t *entry = &self->entries[self->count++];
    memset(entry, 0, sizeof *entry);
    return entry;
}

static uint8_t *s_copy(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy && size)
        memcpy(copy, data, size);
    return copy;
}

/* Serving and requesting MPIDs of the chain a statement covers. */
static void s_chain(const statement_file_t *self, const char **serving,
                    const char **requesting)
{
    bool issued = self->direction == STATEMENT_ISSUED;
    *serving = issued ? self->issuer : self->counterparty;
    *requesting = issued ? self->counterparty : self->issuer;
}

/* Recomputes the summary from the entries, which are in seq order. */
static int s_summarize(const statement_file_t *self, int64_t from_ms,
                       int64_t to_ms, const char *currency, statement_t *out,
                       char *error, size_t error_size)
{
    const char *serving, *requesting;
    s_chain(self, &serving, &requesting);
    statement_init(out, serving, requesting, from_ms, to_ms);
    snprintf(out->currency, sizeof out->currency, "%s", currency);
    for (size_t i = 0; i < self->count; i++) {
        const statement_entry_t *e = &self->entries[i];
        if (statement_add(out, &e->receipt, e->hash, e->acknowledged, error,
                          error_size) != 0)
            return -1;
    }
    statement_finish(out);
    return 0;
}

/* Collects ledger rows into a statement file. */
typedef struct {
    statement_file_t *file;
    ledger_t *ledger;
    char *error;
    size_t error_size;
} collector_t;

static int s_collect_ack(collector_t *collector, statement_entry_t *entry)
{
    const receipt_t *r = &entry->receipt;
    ledger_ack_row_t ack;
    int found =
        ledger_find_ack(collector->ledger, r->serving, r->requesting, r->seq,
                        &ack, collector->error, collector->error_size);
    if (found < 0)
        return -1;
    if (found == 0)
        return 0;
    entry->ack_body = s_copy(ack.body, ack.body_size);
    if (!entry->ack_body) {
        snprintf(collector->error, collector->error_size,
                 "out of memory collecting acknowledgements");
        return -1;
    }
    entry->ack_size = ack.body_size;
    entry->ack = ack.ack;
    memcpy(entry->ack_signature, ack.signature, SIGN_SIGNATURE_SIZE);
    entry->acknowledged = true;
    return 0;
}

static int s_collect_row(const ledger_row_t *row, void *arg)
{
    collector_t *collector = arg;
    statement_entry_t *entry = s_push_entry(collector->file);
    uint8_t *body = entry ? s_copy(row->body, row->body_size) : NULL;
    if (!body) {
        snprintf(collector->error, collector->error_size,
                 "out of memory collecting receipts");
        return -1;
    }
    entry->receipt = row->receipt;
    memcpy(entry->hash, row->hash, HASH_SIZE);
    entry->body = body;
    entry->body_size = row->body_size;
    memcpy(entry->signature, row->signature, SIGN_SIGNATURE_SIZE);
    if (row->acknowledged)
        return s_collect_ack(collector, entry);
    return 0;
}

static int s_seq_order(const void *a, const void *b)
{
    uint64_t x = ((const statement_entry_t *)a)->receipt.seq;
    uint64_t y = ((const statement_entry_t *)b)->receipt.seq;
    return x < y ? -1 : x > y;
}

statement_file_t *statement_file_collect(ledger_t *ledger, const char *issuer,
                                         const char *counterparty,
                                         statement_direction_t direction,
                                         int64_t from_ms, int64_t to_ms,
                                         const char *currency, char *error,
                                         size_t error_size)
{
    assert(ledger);
    assert(receipt_mpid_valid(issuer));
    assert(receipt_mpid_valid(counterparty));
    if (from_ms >= to_ms) {
        snprintf(error, error_size,
                 "the period is empty: from must be "
                 "before to");
        return NULL;
    }
    statement_file_t *self = s_new(issuer, counterparty, direction);
    if (!self) {
        snprintf(error, error_size, "out of memory building a statement");
        return NULL;
    }
    ledger_filter_t filter = {.own_mpid = issuer,
                              .role = direction == STATEMENT_ISSUED
                                          ? LEDGER_ROLE_ISSUED
                                          : LEDGER_ROLE_RECEIVED,
                              .counterparty = counterparty,
                              .from_ms = from_ms,
                              .to_ms = to_ms};
    collector_t collector = {self, ledger, error, error_size};
    if (ledger_foreach_receipt(ledger, &filter, s_collect_row, &collector,
                               error, error_size) != 0) {
        statement_file_destroy(&self);
        return NULL;
    }
    if (self->count > 1)
        qsort(self->entries, self->count, sizeof *self->entries, s_seq_order);
    if (s_summarize(self, from_ms, to_ms, currency ? currency : "GBP",
                    &self->summary, error, error_size) != 0)
        statement_file_destroy(&self);
    return self;
}

static void s_pack_str(msgpack_packer *packer, const char *text)
{
    size_t length = strlen(text);
    msgpack_pack_str(packer, length);
    msgpack_pack_str_body(packer, text, length);
}

static void s_pack_bin(msgpack_packer *packer, const uint8_t *data, size_t size)
{
    msgpack_pack_bin(packer, size);
    msgpack_pack_bin_body(packer, data, size);
}

static void s_pack_counts(msgpack_packer *packer, const statement_line_t *line)
{
    msgpack_pack_uint64(packer, line->count);
    msgpack_pack_uint64(packer, line->units);
    msgpack_pack_uint64(packer, line->amount);
    msgpack_pack_uint64(packer, line->unacknowledged);
}

static void s_pack_entry(msgpack_packer *packer, const statement_entry_t *e)
{
    msgpack_pack_array(packer, 3);
    s_pack_bin(packer, e->body, e->body_size);
    s_pack_bin(packer, e->signature, SIGN_SIGNATURE_SIZE);
    msgpack_pack_array(packer, e->acknowledged ? 2 : 0);
    if (e->acknowledged) {
        s_pack_bin(packer, e->ack_body, e->ack_size);
        s_pack_bin(packer, e->ack_signature, SIGN_SIGNATURE_SIZE);
    }
}

/* Packs the canonical body from the current fields and entries. */
static void s_pack_body(msgpack_packer *packer, const statement_file_t *self)
{
    const statement_t *s = &self->summary;
    msgpack_pack_array(packer, BODY_ITEMS);
    msgpack_pack_uint64(packer, STATEMENT_FILE_VERSION);
    s_pack_str(packer, self->issuer);
    s_pack_str(packer, self->counterparty);
    s_pack_str(packer, statement_direction_name(self->direction));
    msgpack_pack_int64(packer, s->from_ms);
    msgpack_pack_int64(packer, s->to_ms);
    s_pack_str(packer, s->currency);
    msgpack_pack_int64(packer, self->issued_at);
    msgpack_pack_array(packer, s->line_count);
    for (size_t i = 0; i < s->line_count; i++) {
        msgpack_pack_array(packer, 5);
        s_pack_str(packer, s->lines[i].type);
        s_pack_counts(packer, &s->lines[i]);
    }
    msgpack_pack_array(packer, 4);
    s_pack_counts(packer, &s->total);
    msgpack_pack_uint64(packer, s->first_seq);
    msgpack_pack_uint64(packer, s->last_seq);
    s_pack_bin(packer, s->head_hash, HASH_SIZE);
    msgpack_pack_array(packer, self->count);
    for (size_t i = 0; i < self->count; i++)
        s_pack_entry(packer, &self->entries[i]);
}

/* Encodes the body into a malloc'd buffer. Returns 0 or -1. */
static int s_encode_body(const statement_file_t *self, uint8_t **body,
                         size_t *size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    s_pack_body(&packer, self);
    /* msgpack_sbuffer_release leaves data NULL when nothing was written or
     * memory ran out. */
    *size = buffer.size;
    *body = (uint8_t *)msgpack_sbuffer_release(&buffer);
    msgpack_sbuffer_destroy(&buffer);
    return *body ? 0 : -1;
}

int statement_file_sign(statement_file_t *self, const signer_t *signer,
                        int64_t issued_at, char *error, size_t error_size)
{
    assert(self);
    assert(signer);
    self->issued_at = issued_at;
    free(self->body);
    self->body = NULL;
    self->accepted = false;
    self->accepted_at = 0;
    self->acceptance_size = 0;
    if (s_encode_body(self, &self->body, &self->body_size) != 0) {
        snprintf(error, error_size, "out of memory encoding a statement");
        return -1;
    }
    signer_sign(signer, SIGN_DOMAIN_STATEMENT, self->body, self->body_size,
                self->signature);
    hash_blake2b(self->body, self->body_size, self->hash);
    return 0;
}

/* Encodes an acceptance body into out. Returns 0, or -1 on overflow. */
static int s_encode_acceptance(const statement_file_t *self,
                               int64_t accepted_at, canon_buffer_t *out)
{
    out->size = 0;
    out->overflow = false;
    msgpack_packer packer;
    msgpack_packer_init(&packer, out, canon_buffer_write);
    msgpack_pack_array(&packer, ACCEPTANCE_ITEMS);
    msgpack_pack_uint64(&packer, STATEMENT_FILE_VERSION);
    s_pack_bin(&packer, self->hash, HASH_SIZE);
    s_pack_str(&packer, self->issuer);
    s_pack_str(&packer, self->counterparty);
    msgpack_pack_int64(&packer, accepted_at);
    return out->overflow ? -1 : 0;
}

int statement_file_accept(statement_file_t *self, const signer_t *signer,
                          int64_t accepted_at, char *error, size_t error_size)
{
    assert(self);
    assert(signer);
    if (!self->body) {
        snprintf(error, error_size,
                 "only a signed statement can be "
                 "accepted");
        return -1;
    }
    canon_buffer_t buffer;
    if (s_encode_acceptance(self, accepted_at, &buffer) != 0) {
        snprintf(error, error_size, "acceptance does not fit %d bytes",
                 CANON_MAX_BODY);
        return -1;
    }
    memcpy(self->acceptance, buffer.data, buffer.size);
    self->acceptance_size = buffer.size;
    signer_sign(signer, SIGN_DOMAIN_ACCEPTANCE, self->acceptance,
                self->acceptance_size, self->acceptance_signature);
    self->accepted = true;
    self->accepted_at = accepted_at;
    return 0;
}

int statement_file_encode(const statement_file_t *self, uint8_t **data,
                          size_t *size, char *error, size_t error_size)
{
    assert(self);
    if (!self->body) {
        snprintf(error, error_size, "the statement is not signed yet");
        return -1;
    }
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array(&packer, FILE_ITEMS);
    s_pack_str(&packer, STATEMENT_FILE_FORMAT);
    msgpack_pack_uint64(&packer, STATEMENT_FILE_VERSION);
    s_pack_bin(&packer, self->body, self->body_size);
    s_pack_bin(&packer, self->signature, SIGN_SIGNATURE_SIZE);
    msgpack_pack_array(&packer, self->accepted ? 2 : 0);
    if (self->accepted) {
        s_pack_bin(&packer, self->acceptance, self->acceptance_size);
        s_pack_bin(&packer, self->acceptance_signature, SIGN_SIGNATURE_SIZE);
    }
    *size = buffer.size;
    *data = (uint8_t *)msgpack_sbuffer_release(&buffer);
    msgpack_sbuffer_destroy(&buffer);
    if (!*data) {
        snprintf(error, error_size, "out of memory encoding a statement");
        return -1;
    }
    return 0;
}

/* Decoding: the claimed summary is read into its own statement_t and
 * compared with the one computed from the receipts. */
typedef struct {
    canon_reader_t reader;
    char *error;
    size_t error_size;
} decoder_t;

static int s_read_counts(canon_reader_t *r, statement_line_t *line)
{
    if (canon_read_uint(r, "count", &line->count) != 0 ||
        canon_read_uint(r, "units", &line->units) != 0 ||
        canon_read_uint(r, "amount", &line->amount) != 0 ||
        canon_read_uint(r, "unacknowledged", &line->unacknowledged) != 0)
        return -1;
    return 0;
}

static int s_read_lines(canon_reader_t *r, statement_t *claimed)
{
    size_t count = 0, items = 0;
    if (canon_read_array(r, "lines", &count) != 0)
        return -1;
    if (count > STATEMENT_MAX_TYPES) {
        snprintf(r->error, r->error_size,
                 "field 'lines' has %zu request types, more than %d", count,
                 STATEMENT_MAX_TYPES);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        statement_line_t *line = &claimed->lines[i];
        if (canon_read_array(r, "lines[]", &items) != 0)
            return -1;
        if (items != 5) {
            snprintf(r->error, r->error_size,
                     "a line has %zu items, expected 5", items);
            return -1;
        }
        if (canon_read_str(r, "type", line->type, sizeof line->type) != 0 ||
            s_read_counts(r, line) != 0)
            return -1;
    }
    claimed->line_count = count;
    if (canon_read_array(r, "total", &items) != 0)
        return -1;
    if (items != 4) {
        snprintf(r->error, r->error_size,
                 "field 'total' has %zu items, expected 4", items);
        return -1;
    }
    snprintf(claimed->total.type, sizeof claimed->total.type, "total");
    return s_read_counts(r, &claimed->total);
}

/* Reads [] or [body, sig] into *body (a reference) and sig. Returns 1
 * when present, 0 when empty, -1 on error. */
static int s_read_pair(canon_reader_t *r, const char *field, size_t max_size,
                       const uint8_t **body, size_t *size, uint8_t *sig)
{
    size_t items = 0;
    if (canon_read_array(r, field, &items) != 0)
        return -1;
    if (items == 0)
        return 0;
    if (items != 2) {
        snprintf(r->error, r->error_size,
                 "field '%s' has %zu items, expected 0 or 2", field, items);
        return -1;
    }
    if (canon_read_bin_ref(r, field, body, size, max_size) != 0 ||
        canon_read_bin(r, "signature", sig, SIGN_SIGNATURE_SIZE) != 0)
        return -1;
    return 1;
}

/* Checks that a decoded receipt belongs to the statement. */
static int s_check_receipt(const statement_file_t *self,
                           const statement_t *claimed,
                           const statement_entry_t *entry, uint64_t last_seq,
                           char *error, size_t error_size)
{
    const receipt_t *r = &entry->receipt;
    const char *serving, *requesting;
    s_chain(self, &serving, &requesting);
    if (strcmp(r->serving, serving) != 0 ||
        strcmp(r->requesting, requesting) != 0) {
        snprintf(error, error_size,
                 "receipt seq %" PRIu64 " is of chain %s->%s, not the "
                 "statement's %s->%s",
                 r->seq, r->serving, r->requesting, serving, requesting);
        return -1;
    }
    if (r->served_at < claimed->from_ms || r->served_at >= claimed->to_ms) {
        snprintf(error, error_size,
                 "receipt seq %" PRIu64 " was served outside the "
                 "statement's period",
                 r->seq);
        return -1;
    }
    if (r->seq <= last_seq) {
        snprintf(error, error_size,
                 "receipt seq %" PRIu64 " comes after seq %" PRIu64
                 "; receipts must be in increasing seq order",
                 r->seq, last_seq);
        return -1;
    }
    return 0;
}

static int s_check_ack(const statement_entry_t *entry, char *error,
                       size_t error_size)
{
    const ack_t *a = &entry->ack;
    const receipt_t *r = &entry->receipt;
    if (strcmp(a->serving, r->serving) != 0 ||
        strcmp(a->requesting, r->requesting) != 0 || a->seq != r->seq ||
        memcmp(a->receipt_hash, entry->hash, HASH_SIZE) != 0) {
        snprintf(error, error_size,
                 "the acknowledgement given with receipt seq %" PRIu64
                 " is of another receipt",
                 r->seq);
        return -1;
    }
    return 0;
}

/* Copies and decodes one [receipt body, sig, ack] item into a new entry. */
static int s_read_entry(statement_file_t *self, canon_reader_t *r,
                        const statement_t *claimed, uint64_t last_seq)
{
    char reason[256];
    size_t items = 0, body_size = 0, ack_size = 0;
    const uint8_t *body = NULL, *ack_body = NULL;
    statement_entry_t *entry = s_push_entry(self);
    if (!entry) {
        snprintf(r->error, r->error_size, "out of memory reading receipts");
        return -1;
    }
    if (canon_read_array(r, "receipts[]", &items) != 0)
        return -1;
    if (items != 3) {
        snprintf(r->error, r->error_size,
                 "a receipt item has %zu items, expected 3", items);
        return -1;
    }
    if (canon_read_bin_ref(r, "receipt", &body, &body_size, RECEIPT_MAX_BODY) !=
            0 ||
        canon_read_bin(r, "signature", entry->signature, SIGN_SIGNATURE_SIZE) !=
            0)
        return -1;
    int has_ack = s_read_pair(r, "ack", ACK_MAX_BODY, &ack_body, &ack_size,
                              entry->ack_signature);
    if (has_ack < 0)
        return -1;
    if (receipt_decode(body, body_size, &entry->receipt, reason,
                       sizeof reason) != 0) {
        snprintf(r->error, r->error_size, "receipt %zu: %s", self->count,
                 reason);
        return -1;
    }
    entry->body = s_copy(body, body_size);
    entry->body_size = body_size;
    receipt_hash(body, body_size, entry->hash);
    if (!entry->body) {
        snprintf(r->error, r->error_size, "out of memory reading receipts");
        return -1;
    }
    if (s_check_receipt(self, claimed, entry, last_seq, r->error,
                        r->error_size) != 0)
        return -1;
    if (has_ack == 0)
        return 0;
    if (ack_decode(ack_body, ack_size, &entry->ack, reason, sizeof reason)) {
        snprintf(r->error, r->error_size,
                 "acknowledgement of receipt seq %" PRIu64 ": %s",
                 entry->receipt.seq, reason);
        return -1;
    }
    entry->ack_body = s_copy(ack_body, ack_size);
    entry->ack_size = ack_size;
    entry->acknowledged = entry->ack_body != NULL;
    if (!entry->ack_body) {
        snprintf(r->error, r->error_size, "out of memory reading receipts");
        return -1;
    }
    return s_check_ack(entry, r->error, r->error_size);
}

static int s_read_entries(statement_file_t *self, canon_reader_t *r,
                          const statement_t *claimed)
{
    size_t count = 0;
    if (canon_read_array(r, "receipts", &count) != 0)
        return -1;
    /* Entries are added as they are read, so a huge count in a short body
     * fails at the end of the data without allocating for it. */
    uint64_t last_seq = 0;
    for (size_t i = 0; i < count; i++) {
        if (s_read_entry(self, r, claimed, last_seq) != 0)
            return -1;
        last_seq = self->entries[self->count - 1].receipt.seq;
    }
    return 0;
}

static bool s_currency_valid(const char *text)
{
    if (strlen(text) != 3)
        return false;
    for (size_t i = 0; i < 3; i++)
        if (!isupper((unsigned char)text[i]))
            return false;
    return true;
}

/* Reads the header fields up to issued_at. */
static int s_read_header(statement_file_t *self, canon_reader_t *r,
                         statement_t *claimed)
{
    size_t items = 0;
    uint64_t version = 0;
    char direction[16];
    if (canon_read_array(r, "statement", &items) != 0 ||
        canon_read_uint(r, "version", &version) != 0)
        return -1;
    if (items != BODY_ITEMS || version != STATEMENT_FILE_VERSION) {
        snprintf(r->error, r->error_size,
                 "statement body has %zu items and version %" PRIu64
                 ", expected %d and %d",
                 items, version, BODY_ITEMS, STATEMENT_FILE_VERSION);
        return -1;
    }
    if (canon_read_str(r, "issuer", self->issuer, sizeof self->issuer) ||
        canon_read_str(r, "counterparty", self->counterparty,
                       sizeof self->counterparty) ||
        canon_read_str(r, "direction", direction, sizeof direction) ||
        canon_read_int(r, "from", &claimed->from_ms) ||
        canon_read_int(r, "to", &claimed->to_ms) ||
        canon_read_str(r, "currency", claimed->currency,
                       sizeof claimed->currency) ||
        canon_read_int(r, "issued_at", &self->issued_at))
        return -1;
    bool issued = strcmp(direction, "issued") == 0;
    if (!issued && strcmp(direction, "received") != 0) {
        snprintf(r->error, r->error_size,
                 "direction '%s' is neither issued nor received", direction);
        return -1;
    }
    self->direction = issued ? STATEMENT_ISSUED : STATEMENT_RECEIVED;
    return 0;
}

static int s_check_header(const statement_file_t *self,
                          const statement_t *claimed, char *error,
                          size_t error_size)
{
    if (!receipt_mpid_valid(self->issuer) ||
        !receipt_mpid_valid(self->counterparty) ||
        strcmp(self->issuer, self->counterparty) == 0) {
        snprintf(error, error_size,
                 "issuer '%s' and counterparty '%s' must be two different "
                 "MPIDs",
                 self->issuer, self->counterparty);
        return -1;
    }
    if (claimed->from_ms >= claimed->to_ms) {
        snprintf(error, error_size,
                 "the period is empty: from is not "
                 "before to");
        return -1;
    }
    if (!s_currency_valid(claimed->currency)) {
        snprintf(error, error_size,
                 "currency '%s' is not a 3-letter ISO 4217 code",
                 claimed->currency);
        return -1;
    }
    return 0;
}

static bool s_same_counts(const statement_line_t *a, const statement_line_t *b)
{
    return strcmp(a->type, b->type) == 0 && a->count == b->count &&
           a->units == b->units && a->amount == b->amount &&
           a->unacknowledged == b->unacknowledged;
}

/* Compares the claimed summary with the one computed from the receipts. */
static int s_check_summary(const statement_t *claimed,
                           const statement_t *computed, char *error,
                           size_t error_size)
{
    const char *what = NULL;
    if (claimed->line_count != computed->line_count)
        what = "the number of request types";
    for (size_t i = 0; !what && i < claimed->line_count; i++)
        if (!s_same_counts(&claimed->lines[i], &computed->lines[i]))
            what = "the line of a request type";
    if (!what && !s_same_counts(&claimed->total, &computed->total))
        what = "the totals";
    if (!what && (claimed->first_seq != computed->first_seq ||
                  claimed->last_seq != computed->last_seq))
        what = "the first or last seq";
    if (!what &&
        memcmp(claimed->head_hash, computed->head_hash, HASH_SIZE) != 0)
        what = "the chain head hash";
    if (!what)
        return 0;
    snprintf(error, error_size,
             "%s in the statement does not match its receipts (total "
             "%" PRIu64 " micro-units in %" PRIu64 " receipts claimed, "
             "%" PRIu64 " in %" PRIu64 " receipts given)",
             what, claimed->total.amount, claimed->total.count,
             computed->total.amount, computed->total.count);
    return -1;
}

/* Decodes and checks the body into self; body and body_size are set. */
static int s_decode_body(statement_file_t *self, char *error, size_t error_size)
{
    canon_reader_t r;
    canon_reader_init(&r, self->body, self->body_size, error, error_size);
    statement_t claimed;
    memset(&claimed, 0, sizeof claimed);
    if (s_read_header(self, &r, &claimed) != 0 ||
        s_check_header(self, &claimed, error, error_size) != 0 ||
        s_read_lines(&r, &claimed) != 0 ||
        canon_read_uint(&r, "first_seq", &claimed.first_seq) != 0 ||
        canon_read_uint(&r, "last_seq", &claimed.last_seq) != 0 ||
        canon_read_bin(&r, "head_hash", claimed.head_hash, HASH_SIZE) != 0 ||
        s_read_entries(self, &r, &claimed) != 0 || canon_read_end(&r) != 0)
        return -1;
    if (s_summarize(self, claimed.from_ms, claimed.to_ms, claimed.currency,
                    &self->summary, error, error_size) != 0 ||
        s_check_summary(&claimed, &self->summary, error, error_size) != 0)
        return -1;
    uint8_t *again = NULL;
    size_t again_size = 0;
    if (s_encode_body(self, &again, &again_size) != 0) {
        snprintf(error, error_size, "out of memory checking a statement");
        return -1;
    }
    bool same = again_size == self->body_size &&
                memcmp(again, self->body, again_size) == 0;
    free(again);
    if (!same) {
        snprintf(error, error_size,
                 "the statement body is not in canonical "
                 "form (shortest msgpack encodings)");
        return -1;
    }
    return 0;
}

static int s_decode_acceptance(statement_file_t *self, char *error,
                               size_t error_size)
{
    canon_reader_t r;
    canon_reader_init(&r, self->acceptance, self->acceptance_size, error,
                      error_size);
    size_t items = 0;
    uint64_t version = 0;
    uint8_t hash[HASH_SIZE];
    char issuer[5], acceptor[5];
    if (canon_read_array(&r, "acceptance", &items) != 0 ||
        canon_read_uint(&r, "version", &version) != 0 ||
        canon_read_bin(&r, "statement_hash", hash, HASH_SIZE) != 0 ||
        canon_read_str(&r, "issuer", issuer, sizeof issuer) != 0 ||
        canon_read_str(&r, "acceptor", acceptor, sizeof acceptor) != 0 ||
        canon_read_int(&r, "accepted_at", &self->accepted_at) != 0 ||
        canon_read_end(&r) != 0)
        return -1;
    if (items != ACCEPTANCE_ITEMS || version != STATEMENT_FILE_VERSION ||
        memcmp(hash, self->hash, HASH_SIZE) != 0 ||
        strcmp(issuer, self->issuer) != 0 ||
        strcmp(acceptor, self->counterparty) != 0) {
        snprintf(error, error_size,
                 "the acceptance is not the counterparty's acceptance of "
                 "this statement");
        return -1;
    }
    canon_buffer_t again;
    if (s_encode_acceptance(self, self->accepted_at, &again) != 0 ||
        again.size != self->acceptance_size ||
        memcmp(again.data, self->acceptance, again.size) != 0) {
        snprintf(error, error_size, "the acceptance is not in canonical form");
        return -1;
    }
    self->accepted = true;
    return 0;
}

/* Reads the outer array; body and acceptance are copied into self. */
static int s_decode_container(statement_file_t *self, const uint8_t *data,
                              size_t size, char *error, size_t error_size)
{
    canon_reader_t r;
    canon_reader_init(&r, data, size, error, error_size);
    size_t items = 0, body_size = 0, acceptance_size = 0;
    uint64_t version = 0;
    char format[32];
    const uint8_t *body = NULL, *acceptance = NULL;
    if (canon_read_array(&r, "file", &items) != 0 ||
        canon_read_str(&r, "format", format, sizeof format) != 0 ||
        canon_read_uint(&r, "version", &version) != 0)
        return -1;
    if (items != FILE_ITEMS || strcmp(format, STATEMENT_FILE_FORMAT) != 0 ||
        version != STATEMENT_FILE_VERSION) {
        snprintf(error, error_size,
                 "not an sdx statement file of version %d (format '%s', "
                 "version %" PRIu64 ")",
                 STATEMENT_FILE_VERSION, format, version);
        return -1;
    }
    if (canon_read_bin_ref(&r, "body", &body, &body_size, size) != 0 ||
        canon_read_bin(&r, "signature", self->signature, SIGN_SIGNATURE_SIZE) !=
            0)
        return -1;
    int accepted = s_read_pair(&r, "acceptance", CANON_MAX_BODY, &acceptance,
                               &acceptance_size, self->acceptance_signature);
    if (accepted < 0 || canon_read_end(&r) != 0)
        return -1;
    self->body = s_copy(body, body_size);
    if (!self->body) {
        snprintf(error, error_size, "out of memory reading a statement");
        return -1;
    }
    self->body_size = body_size;
    hash_blake2b(body, body_size, self->hash);
    if (accepted == 1) {
        memcpy(self->acceptance, acceptance, acceptance_size);
        self->acceptance_size = acceptance_size;
    }
    return accepted;
}

statement_file_t *statement_file_decode(const uint8_t *data, size_t size,
                                        char *error, size_t error_size)
{
    assert(data || size == 0);
    char reason[512] = "";
    statement_file_t *self = s_new("", "", STATEMENT_ISSUED);
    if (!self) {
        snprintf(error, error_size, "out of memory reading a statement");
        return NULL;
    }
    int accepted = s_decode_container(self, data, size, reason, sizeof reason);
    if (accepted < 0 || s_decode_body(self, reason, sizeof reason) != 0 ||
        (accepted == 1 &&
         s_decode_acceptance(self, reason, sizeof reason) != 0)) {
        snprintf(error, error_size, "invalid statement file: %s", reason);
        statement_file_destroy(&self);
    }
    return self;
}

/* Reads a whole file of at most STATEMENT_FILE_MAX_SIZE bytes. */
static uint8_t *s_read_file(const char *path, size_t *size, char *error,
                            size_t error_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "cannot open statement %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    uint8_t *data = NULL;
    size_t used = 0, capacity = 0;
    bool failed = false;
    while (!failed) {
        if (used == capacity) {
            capacity = capacity ? 2 * capacity : 65536;
            uint8_t *grown = capacity <= 2 * (size_t)STATEMENT_FILE_MAX_SIZE
                                 ? realloc(data, capacity)
                                 : NULL;
            if (!grown) {
                failed = true;
                break;
            }
            data = grown;
        }
        size_t got = fread(data + used, 1, capacity - used, file);
        used += got;
        if (got == 0 || used > STATEMENT_FILE_MAX_SIZE)
            break;
    }
    failed = failed || ferror(file) || used > STATEMENT_FILE_MAX_SIZE;
    fclose(file);
    if (failed) {
        snprintf(error, error_size,
                 "cannot read statement %s: unreadable, out of memory or "
                 "larger than %u bytes",
                 path, STATEMENT_FILE_MAX_SIZE);
        free(data);
        return NULL;
    }
    *size = used;
    return data;
}

statement_file_t *statement_file_load(const char *path, char *error,
                                      size_t error_size)
{
    assert(path);
    size_t size = 0;
    uint8_t *data = s_read_file(path, &size, error, error_size);
    if (!data)
        return NULL;
    char reason[768];
    statement_file_t *self =
        statement_file_decode(data, size, reason, sizeof reason);
    free(data);
    if (!self)
        snprintf(error, error_size, "%s: %s", path, reason);
    return self;
}

static int s_write_all(const char *path, const uint8_t *data, size_t size,
                       char *error, size_t error_size)
{
    FILE *file = fopen(path, "wb");
    if (!file) {
        snprintf(error, error_size, "cannot create %s: %s", path,
                 strerror(errno));
        return -1;
    }
    bool failed = fwrite(data, 1, size, file) != size || fflush(file) != 0 ||
                  fsync(fileno(file)) != 0;
    int saved = errno;
    if (fclose(file) != 0)
        failed = true;
    if (failed) {
        snprintf(error, error_size, "cannot write %s: %s", path,
                 strerror(saved));
        unlink(path);
        return -1;
    }
    return 0;
}

int statement_file_save(const statement_file_t *self, const char *path,
                        char *error, size_t error_size)
{
    assert(self);
    assert(path);
    uint8_t *data = NULL;
    size_t size = 0;
    if (statement_file_encode(self, &data, &size, error, error_size) != 0)
        return -1;
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    int rc = s_write_all(temporary, data, size, error, error_size);
    free(data);
    if (rc == 0 && rename(temporary, path) != 0) {
        snprintf(error, error_size, "cannot rename %s to %s: %s", temporary,
                 path, strerror(errno));
        unlink(temporary);
        rc = -1;
    }
    return rc;
}

bool statement_file_verify(const statement_file_t *self,
                           const uint8_t issuer_key[SIGN_PUBLIC_SIZE])
{
    assert(self);
    return self->body &&
           sign_verify(issuer_key, SIGN_DOMAIN_STATEMENT, self->body,
                       self->body_size, self->signature);
}

bool statement_file_verify_acceptance(
    const statement_file_t *self, const uint8_t acceptor_key[SIGN_PUBLIC_SIZE])
{
    assert(self);
    return self->accepted &&
           sign_verify(acceptor_key, SIGN_DOMAIN_ACCEPTANCE, self->acceptance,
                       self->acceptance_size, self->acceptance_signature);
}

const char *statement_file_issuer(const statement_file_t *self)
{
    return self->issuer;
}

const char *statement_file_counterparty(const statement_file_t *self)
{
    return self->counterparty;
}

statement_direction_t statement_file_direction(const statement_file_t *self)
{
    return self->direction;
}

const statement_t *statement_file_summary(const statement_file_t *self)
{
    return &self->summary;
}

int64_t statement_file_issued_at(const statement_file_t *self)
{
    return self->issued_at;
}

size_t statement_file_count(const statement_file_t *self)
{
    return self->count;
}

const statement_entry_t *statement_file_entry(const statement_file_t *self,
                                              size_t index)
{
    assert(index < self->count);
    return &self->entries[index];
}

const uint8_t *statement_file_hash(const statement_file_t *self)
{
    return self->hash;
}

bool statement_file_signed(const statement_file_t *self)
{
    return self->body != NULL;
}

bool statement_file_accepted(const statement_file_t *self)
{
    return self->accepted;
}

int64_t statement_file_accepted_at(const statement_file_t *self)
{
    return self->accepted ? self->accepted_at : 0;
}
