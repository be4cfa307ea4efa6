/* Net position: what two suppliers owe each other for a period, from the
 * two agreed statements of their two chains.
 *
 * The net is exact in micro-units (1 GBP = 1 000 000): what this supplier
 * issued to the counterparty minus what the counterparty issued to it.
 * That figure is authoritative. It is also shown in pounds and pence,
 * rounded to the nearest penny (10 000 micro-units) with ties (exactly
 * 5 000 micro-units past a penny) going to the even penny. The rounding
 * applies to the size of the net, so both suppliers see the same figure
 * with the direction reversed, and to each total shown on its own, so the
 * rounded totals need not add up to the rounded net.
 */
#ifndef SDX_SETTLE_H
#define SDX_SETTLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "statement.h"

#define SETTLE_MICRO_PER_PENNY 10000

typedef struct {
    char own[5];          /* the supplier whose node computes it */
    char counterparty[5]; /* the other supplier */
    int64_t from_ms;
    int64_t to_ms;
    char currency[4];
    statement_line_t receivable; /* own served counterparty: own issued */
    statement_line_t payable;    /* counterparty served own */
    uint64_t net;                /* micro-units, the size of the net */
    bool owed_to_own; /* true when the counterparty owes own (or net 0) */
} settle_t;

/* Nets the agreed statement of own->counterparty (issued) against that of
 * counterparty->own (received) into out. Both must cover the same period
 * in the same currency. Returns 0, or -1 with a sentence in error. */
int settle_compute(const statement_t *issued, const statement_t *received,
                   settle_t *out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Rounds micro-units to whole pence (hundredths of the currency unit),
 * half to even. */
uint64_t settle_round_pence(uint64_t micro);

/* Writes pence as "1234.56" into text, which must hold 24 bytes. Returns
 * text. */
char *settle_format_pence(uint64_t pence, char text[24]);

/* Writes the net position for people. */
void settle_write_table(const settle_t *settle, FILE *out);

/* Writes the net position as one JSON object. */
void settle_write_json(const settle_t *settle, FILE *out);

#endif
