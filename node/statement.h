/* Statements: what one serving supplier charged one requesting supplier
 * over a period, computed from a ledger, for finance.
 *
 * A statement covers the receipts of the serving->requesting chain with
 * served_at in [from_ms, to_ms). Amounts are integer micro-units of the
 * currency and are printed both as micro-units and as currency units with
 * 6 decimals, computed with integer arithmetic.
 */
#ifndef SDX_STATEMENT_H
#define SDX_STATEMENT_H

#include <stdint.h>
#include <stdio.h>

#include "ledger.h"

/* More request types than the protocol defines, so new ones fit. */
#define STATEMENT_MAX_TYPES 32

/* The totals of one request type, or of all of them. */
typedef struct {
    char type[32];
    uint64_t count;
    uint64_t units;
    uint64_t amount; /* micro-units */
    uint64_t unacknowledged;
} statement_line_t;

typedef struct {
    char serving[5];
    char requesting[5];
    int64_t from_ms;
    int64_t to_ms;
    char currency[4]; /* "GBP" unless the caller sets it from the tariff */
    size_t line_count;
    statement_line_t lines[STATEMENT_MAX_TYPES]; /* sorted by type */
    statement_line_t total;                      /* type "total" */
    uint64_t first_seq; /* 0 when no receipt is in range */
    uint64_t last_seq;
    uint8_t head_hash[HASH_SIZE]; /* hash of the last_seq receipt, or zero */
} statement_t;

/* Computes the statement of serving->requesting for [from_ms, to_ms) into
 * out. Returns 0, or -1 with a sentence in error (a ledger error, more than
 * STATEMENT_MAX_TYPES types, or a sum that overflows uint64_t). */
int statement_compute(ledger_t *ledger, const char *serving,
                      const char *requesting, int64_t from_ms, int64_t to_ms,
                      statement_t *out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Starts an empty statement of serving->requesting for [from_ms, to_ms),
 * in GBP. */
void statement_init(statement_t *statement, const char *serving,
                    const char *requesting, int64_t from_ms, int64_t to_ms);

/* Adds one receipt, whose receipt hash is hash, to its type's line and the
 * totals. Returns 0, or -1 with a sentence in error (more than
 * STATEMENT_MAX_TYPES types, or a sum that overflows uint64_t). */
int statement_add(statement_t *statement, const receipt_t *receipt,
                  const uint8_t hash[HASH_SIZE], bool acknowledged, char *error,
                  size_t error_size) __attribute__((warn_unused_result));

/* Sorts the lines by type, after the last statement_add. */
void statement_finish(statement_t *statement);

/* Parses a calendar month "YYYY-MM" (UTC) into [its first day 00:00Z, the
 * next month's first day 00:00Z). Returns 0, or -1 when text is not such a
 * month from 1970 on. */
int statement_parse_period(const char *text, int64_t *from_ms, int64_t *to_ms)
    __attribute__((warn_unused_result));

/* Writes micro-units as currency units with 6 decimals ("12.345678") into
 * text, which must hold 28 bytes. Returns text. */
char *statement_format_amount(uint64_t micro, char text[28]);

/* Writes the statement as a table for people. */
void statement_write_table(const statement_t *statement, FILE *out);

/* Writes the statement as one JSON object. */
void statement_write_json(const statement_t *statement, FILE *out);

/* Writes the statement as RFC 4180 CSV: a header row, one row per request
 * type, and a totals row whose type is "total". */
void statement_write_csv(const statement_t *statement, FILE *out);

#endif
