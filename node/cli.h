/* Shared parts of the sdx command-line tool: exit codes, option parsing
 * and the node's home folder. */
#ifndef SDX_CLI_H
#define SDX_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes, also listed in `sdx --help`. */
#define CLI_OK       0
#define CLI_FAILED   1 /* unavailable, timeout, disputed or a local error */
#define CLI_USAGE    2 /* bad command line */
#define CLI_DENIED   3 /* the serving node's permission check said no */
#define CLI_REJECTED 4 /* not found, or the request was invalid */

typedef enum { CLI_TABLE = 0, CLI_JSON, CLI_CSV } cli_format_t;

/* Options common to the commands; unset strings are NULL. */
typedef struct {
    const char *home;
    const char *from;
    const char *to;
    const char *counterparty;
    const char *role;
    const char *request_id;
    const char *dir;
    const char *name;
    const char *seq;
    const char *period; /* a calendar month YYYY-MM, in place of from/to */
    const char *out;    /* file to write a signed statement to */
    const char *show;   /* statement file to print and check */
    const char *import; /* doubly-signed statement file to store */
    bool accept;
    int timeout_ms;
    cli_format_t format;
    bool help;
    const char *positional[4];
    int positional_count;
} cli_options_t;

/* Parses argv[start..] into options. Returns 0, or -1 after printing an
 * error naming the bad argument. */
int cli_parse(int argc, char **argv, int start, cli_options_t *options);

/* Parses --period, or else --from/--to, into ms; a range is required
 * when required is true. Returns 0 or -1 after printing an error naming
 * the bad value. */
int cli_range(const cli_options_t *options, bool required, int64_t *from_ms,
              int64_t *to_ms);

/* Prints "sdx: " and the message to stderr; returns code. */
int cli_fail(int code, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

int cli_read(const cli_options_t *options);
int cli_receipts(const cli_options_t *options);
int cli_statement(const cli_options_t *options);
int cli_ledger_verify(const cli_options_t *options);
int cli_evidence(const cli_options_t *options);
/* Statement files, reconciliation, agreed statements, net position and
 * exports (cli_finance.c and cli_export.c). */
int cli_statement_file(const cli_options_t *options);
int cli_reconcile(const cli_options_t *options);
int cli_statements(const cli_options_t *options);
int cli_settle(const cli_options_t *options);
int cli_export(const cli_options_t *options);

#endif
