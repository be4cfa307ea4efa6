/* sdx settle and export: the net position from agreed statements, and
 * receipts for finance systems. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_home.h"
#include "clock.h"
#include "export.h"
#include "settle.h"
#include "statement_store.h"

static const char s_settle_usage[] =
    "usage: sdx [--home DIR] settle --counterparty MPID\n"
    "           (--period YYYY-MM | --from T --to T) [--json]\n"
    "\n"
    "Nets what this supplier and MPID owe each other for the period from\n"
    "the two agreed (doubly-signed) statements in HOME/statements: the one\n"
    "of the receipts this node issued to MPID and the one of the receipts\n"
    "MPID issued to this node, each for exactly that period. Both\n"
    "signatures of each are checked with keys from the directory.\n"
    "\n"
    "The net is exact in micro-units (1 GBP = 1000000), and that figure is\n"
    "authoritative. Pounds and pence are the micro-units rounded to the\n"
    "nearest penny (10000 micro-units), a tie of exactly half a penny going\n"
    "to the even penny. The rounding applies to each figure on its own, so\n"
    "the rounded totals need not add up to the rounded net.\n"
    "\n"
    "Exits 1 when an agreed statement is missing or a signature does not\n"
    "verify.\n";

/* Finds the agreed statement of one chain and checks both signatures;
 * returns an exit code. */
static int s_agreed(const config_t *config, const cli_keys_t *keys,
                    const char *serving, const char *requesting, int64_t from,
                    int64_t to, statement_file_t **out)
{
    char error[1024], folder[PATH_MAX], path[4096];
    char from_text[CLOCK_ISO_SIZE], to_text[CLOCK_ISO_SIZE];
    int found = statement_store_find(cli_home_statements(config, folder),
                                     serving, requesting, from, to, out, path,
                                     sizeof path, error, sizeof error);
    if (found < 0)
        return cli_fail(CLI_FAILED, "%s", error);
    if (found == 0) {
        bool ours = strcmp(serving, config->mpid) == 0;
        return cli_fail(
            CLI_FAILED, "no agreed statement of %s->%s for %s to %s in %s. %s",
            serving, requesting, clock_format_iso(from, from_text),
            clock_format_iso(to, to_text), folder,
            ours ? "Write it with `sdx statement --role issued --out FILE`, "
                   "have the counterparty accept it with `sdx reconcile "
                   "--accept --out FILE`, and store the returned file with "
                   "`sdx statements --import FILE`."
                 : "Reconcile and accept the counterparty's statement with "
                   "`sdx reconcile --accept FILE`.");
    }
    uint8_t serving_key[SIGN_PUBLIC_SIZE], requesting_key[SIGN_PUBLIC_SIZE];
    const char *issuer = statement_file_issuer(*out);
    const char *acceptor = statement_file_counterparty(*out);
    if (cli_keys_lookup(issuer, serving_key, (void *)keys) ||
        cli_keys_lookup(acceptor, requesting_key, (void *)keys) ||
        !statement_file_verify(*out, serving_key) ||
        !statement_file_verify_acceptance(*out, requesting_key))
        return cli_fail(CLI_FAILED,
                        "%s: the signature of %s or the acceptance of %s "
                        "does not verify",
                        path, issuer, acceptor);
    fprintf(stderr, "sdx: %s->%s from %s\n", serving, requesting, path);
    return CLI_OK;
}

/* Nets the two agreed statements; returns an exit code. */
static int s_settle(const cli_options_t *options, const config_t *config,
                    int64_t from, int64_t to)
{
    cli_keys_t keys;
    statement_file_t *issued = NULL, *received = NULL;
    int code = cli_keys_load(config, &keys);
    if (code == CLI_OK)
        code = s_agreed(config, &keys, config->mpid, options->counterparty,
                        from, to, &issued);
    if (code == CLI_OK)
        code = s_agreed(config, &keys, options->counterparty, config->mpid,
                        from, to, &received);
    cli_keys_clear(&keys);
    settle_t settle;
    char error[512];
    if (code == CLI_OK && settle_compute(statement_file_summary(issued),
                                         statement_file_summary(received),
                                         &settle, error, sizeof error) != 0)
        code = cli_fail(CLI_FAILED, "cannot net the statements: %s", error);
    if (code == CLI_OK && options->format == CLI_JSON)
        settle_write_json(&settle, stdout);
    else if (code == CLI_OK)
        settle_write_table(&settle, stdout);
    statement_file_destroy(&issued);
    statement_file_destroy(&received);
    return code;
}

int cli_settle(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_settle_usage, stdout);
        return CLI_OK;
    }
    if (!options->counterparty)
        return cli_fail(CLI_USAGE, "missing --counterparty MPID; see sdx "
                                   "settle --help");
    if (!receipt_mpid_valid(options->counterparty))
        return cli_fail(CLI_USAGE,
                        "invalid --counterparty '%s': an MPID is 4 "
                        "upper-case letters or digits",
                        options->counterparty);
    int64_t from = 0, to = 0;
    if (cli_range(options, true, &from, &to))
        return CLI_USAGE;
    if (!options->home)
        return cli_fail(CLI_USAGE,
                        "no node home: give --home DIR or set SDX_HOME");
    config_t config;
    char error[1024];
    if (config_load(options->home, &config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    return s_settle(options, &config, from, to);
}

static const char s_export_usage[] =
    "usage: sdx [--home DIR] export receipts (--period YYYY-MM | --from T\n"
    "           --to T) --csv|--json [--counterparty MPID]\n"
    "           [--role issued|received]\n"
    "\n"
    "Writes every receipt served in the period, issued and received (or\n"
    "one --role), one per line with every field: role, serving, requesting,\n"
    "seq, request_id, mpxn, type, range_count, ranges, units, tariff_id,\n"
    "tariff_hash, currency, price_micro, price, served_at, served_at_ms,\n"
    "receipt_hash, prev_hash, signature, acknowledged, acked_at,\n"
    "acked_at_ms and stored_at.\n"
    "\n"
    "--csv is RFC 4180 (a header row, CRLF line ends, quoting where\n"
    "needed). ranges is a list of ISO 8601 intervals FROM/TO joined by ';'.\n"
    "--json is an array with one object per line; ranges is an array of\n"
    "{from, to, from_ms, to_ms}. price is in currency units with 6\n"
    "decimals, exactly price_micro / 1000000; times are UTC.\n";

static int s_export_args(const cli_options_t *options, ledger_role_t *role)
{
    if (options->positional_count != 1 ||
        strcmp(options->positional[0], "receipts") != 0)
        return cli_fail(CLI_USAGE, "the only export is: sdx export receipts; "
                                   "see sdx export --help");
    if (options->format == CLI_TABLE)
        return cli_fail(CLI_USAGE, "choose --csv or --json for the export");
    if (options->counterparty && !receipt_mpid_valid(options->counterparty))
        return cli_fail(CLI_USAGE,
                        "invalid --counterparty '%s': an MPID is 4 "
                        "upper-case letters or digits",
                        options->counterparty);
    *role = LEDGER_ROLE_ANY;
    if (options->role && strcmp(options->role, "issued") == 0)
        *role = LEDGER_ROLE_ISSUED;
    else if (options->role && strcmp(options->role, "received") == 0)
        *role = LEDGER_ROLE_RECEIVED;
    else if (options->role)
        return cli_fail(CLI_USAGE,
                        "invalid --role '%s': use issued or received",
                        options->role);
    return CLI_OK;
}

int cli_export(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_export_usage, stdout);
        return CLI_OK;
    }
    ledger_role_t role = LEDGER_ROLE_ANY;
    int code = s_export_args(options, &role);
    if (code != CLI_OK)
        return code;
    int64_t from = 0, to = 0;
    if (cli_range(options, true, &from, &to))
        return CLI_USAGE;
    config_t config;
    ledger_t *ledger = NULL;
    code = cli_home_open(options, &config, &ledger);
    if (code != CLI_OK)
        return code;
    tariff_set_t *tariffs = cli_home_tariffs(&config);
    ledger_filter_t filter = {.own_mpid = config.mpid,
                              .role = role,
                              .counterparty = options->counterparty,
                              .from_ms = from,
                              .to_ms = to};
    char error[1024];
    uint64_t count = 0;
    if (export_receipts(ledger, &filter, tariffs,
                        options->format == CLI_JSON ? EXPORT_JSON : EXPORT_CSV,
                        stdout, &count, error, sizeof error) != 0)
        code = cli_fail(CLI_FAILED, "export incomplete: %s", error);
    else
        fprintf(stderr, "sdx: exported %" PRIu64 " receipts\n", count);
    tariff_set_destroy(&tariffs);
    ledger_destroy(&ledger);
    return code;
}
