/* Net position of two suppliers and its rounding to pence. */
#include "settle.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "clock.h"

int settle_compute(const statement_t *issued, const statement_t *received,
                   settle_t *out, char *error, size_t error_size)
{
    assert(issued);
    assert(received);
    assert(out);
    memset(out, 0, sizeof *out);
    if (strcmp(issued->serving, received->requesting) != 0 ||
        strcmp(issued->requesting, received->serving) != 0) {
        snprintf(error, error_size,
                 "the statements %s->%s and %s->%s are not the two "
                 "directions of one pair of suppliers",
                 issued->serving, issued->requesting, received->serving,
                 received->requesting);
        return -1;
    }
    if (issued->from_ms != received->from_ms ||
        issued->to_ms != received->to_ms) {
        snprintf(error, error_size,
                 "the two statements cover different periods");
        return -1;
    }
    if (strcmp(issued->currency, received->currency) != 0) {
        snprintf(error, error_size,
                 "the statements are in %s and %s; netting needs one "
                 "currency",
                 issued->currency, received->currency);
        return -1;
    }
    snprintf(out->own, sizeof out->own, "%s", issued->serving);
    snprintf(out->counterparty, sizeof out->counterparty, "%s",
             issued->requesting);
    snprintf(out->currency, sizeof out->currency, "%s", issued->currency);
    out->from_ms = issued->from_ms;
    out->to_ms = issued->to_ms;
    out->receivable = issued->total;
    out->payable = received->total;
    out->owed_to_own = issued->total.amount >= received->total.amount;
    out->net = out->owed_to_own ? issued->total.amount - received->total.amount
                                : received->total.amount - issued->total.amount;
    return 0;
}

uint64_t settle_round_pence(uint64_t micro)
{
    uint64_t pence = micro / SETTLE_MICRO_PER_PENNY;
    uint64_t rest = micro % SETTLE_MICRO_PER_PENNY;
    const uint64_t half = SETTLE_MICRO_PER_PENNY / 2;
    if (rest > half || (rest == half && pence % 2 == 1))
        pence++;
    return pence;
}

char *settle_format_pence(uint64_t pence, char text[24])
{
    snprintf(text, 24, "%" PRIu64 ".%02" PRIu64, pence / 100, pence % 100);
    return text;
}

/* Writes a micro-unit amount and its rounded currency form. */
static void s_amount(FILE *out, const char *currency, uint64_t micro)
{
    char money[24];
    settle_format_pence(settle_round_pence(micro), money);
    if (strcmp(currency, "GBP") == 0)
        fprintf(out, "%" PRIu64 " micro-units = \u00a3%s", micro, money);
    else
        fprintf(out, "%" PRIu64 " micro-units = %s %s", micro, money, currency);
}

void settle_write_table(const settle_t *s, FILE *out)
{
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
    fprintf(out, "Net position of %s with %s, served from %s to %s (%s)\n",
            s->own, s->counterparty, clock_format_iso(s->from_ms, from),
            clock_format_iso(s->to_ms, to), s->currency);
    fprintf(out, "  %s served %s: %" PRIu64 " receipt%s, ", s->own,
            s->counterparty, s->receivable.count,
            s->receivable.count == 1 ? "" : "s");
    s_amount(out, s->currency, s->receivable.amount);
    fprintf(out, "\n  %s served %s: %" PRIu64 " receipt%s, ", s->counterparty,
            s->own, s->payable.count, s->payable.count == 1 ? "" : "s");
    s_amount(out, s->currency, s->payable.amount);
    if (s->net == 0)
        fprintf(out, "\n  net: nothing is owed either way\n");
    else {
        fprintf(out, "\n  net: %s owes %s ",
                s->owed_to_own ? s->counterparty : s->own,
                s->owed_to_own ? s->own : s->counterparty);
        s_amount(out, s->currency, s->net);
        fputc('\n', out);
    }
    fprintf(out, "Micro-units are authoritative. Pounds are rounded to the "
                 "penny, half to even,\neach figure on its own.\n");
}

static void s_json_side(FILE *out, const statement_line_t *line)
{
    char money[24];
    fprintf(out,
            "{\"count\": %" PRIu64 ", \"units\": %" PRIu64
            ", \"amount_micro\": %" PRIu64 ", \"amount\": \"%s\"}",
            line->count, line->units, line->amount,
            settle_format_pence(settle_round_pence(line->amount), money));
}

void settle_write_json(const settle_t *s, FILE *out)
{
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE], money[24];
    const char *debtor = s->owed_to_own ? s->counterparty : s->own;
    const char *creditor = s->owed_to_own ? s->own : s->counterparty;
    fprintf(out,
            "{\"own\": \"%s\", \"counterparty\": \"%s\", \"from\": \"%s\", "
            "\"to\": \"%s\", \"currency\": \"%s\",\n \"receivable\": ",
            s->own, s->counterparty, clock_format_iso(s->from_ms, from),
            clock_format_iso(s->to_ms, to), s->currency);
    s_json_side(out, &s->receivable);
    fprintf(out, ",\n \"payable\": ");
    s_json_side(out, &s->payable);
    fprintf(out,
            ",\n \"net_micro\": %" PRIu64 ", \"net\": \"%s\", "
            "\"debtor\": \"%s\", \"creditor\": \"%s\", "
            "\"rounding\": \"half to even at the penny; micro-units are "
            "authoritative\"}\n",
            s->net, settle_format_pence(settle_round_pence(s->net), money),
            s->net ? debtor : "", s->net ? creditor : "");
}
