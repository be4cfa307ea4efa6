/* sdx statement --out/--show, reconcile and statements: signed statement
 * files between two suppliers. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_home.h"
#include "clock.h"
#include "hex.h"
#include "json.h"
#include "reconcile.h"
#include "statement_file.h"
#include "statement_store.h"

static const char s_statement_usage[] =
    "usage: sdx [--home DIR] statement --counterparty MPID\n"
    "           (--period YYYY-MM | --from T --to T)\n"
    "           [--role issued|received] [--json|--csv] [--out FILE]\n"
    "       sdx [--home DIR] statement --show FILE [--json]\n"
    "\n"
    "Sums the receipts exchanged with MPID that were served in the period\n"
    "(a calendar month in UTC, or [from, to)): per request type the count,\n"
    "units and amount in micro-units, the totals, the first and last seq,\n"
    "the chain head hash and the number not yet acknowledged. 'issued' is\n"
    "what this node served to MPID (receivable), 'received' what MPID\n"
    "served to this node (payable); without --role both are shown, and\n"
    "--csv and --out need a --role.\n"
    "\n"
    "--out FILE also writes a statement file for MPID: the statement and\n"
    "every receipt in it with its acknowledgement, signed with this node's\n"
    "key, for `sdx reconcile` on MPID's node.\n"
    "--show FILE prints a statement file and checks its signature and, for\n"
    "an accepted one, the acceptance (keys from the directory). Exits 0\n"
    "when every signature verifies, 1 otherwise.\n";

/* Checks --counterparty and --role for a statement of one direction. */
static int s_statement_args(const cli_options_t *options,
                            statement_direction_t *direction)
{
    if (!options->counterparty)
        return cli_fail(CLI_USAGE, "missing --counterparty MPID");
    if (!receipt_mpid_valid(options->counterparty))
        return cli_fail(CLI_USAGE,
                        "invalid --counterparty '%s': an MPID is 4 "
                        "upper-case letters or digits",
                        options->counterparty);
    const char *role = options->role;
    if (!role)
        return cli_fail(CLI_USAGE, "--out writes one statement: add --role "
                                   "issued or --role received");
    if (strcmp(role, "issued") != 0 && strcmp(role, "received") != 0)
        return cli_fail(CLI_USAGE,
                        "invalid --role '%s': use issued or received", role);
    *direction =
        strcmp(role, "issued") == 0 ? STATEMENT_ISSUED : STATEMENT_RECEIVED;
    return CLI_OK;
}

static void s_write_summary(const statement_t *s, cli_format_t format)
{
    if (format == CLI_JSON)
        statement_write_json(s, stdout);
    else if (format == CLI_CSV)
        statement_write_csv(s, stdout);
    else
        statement_write_table(s, stdout);
}

/* Returns the currency of the pair's tariff, or GBP. */
static const char *s_currency(const tariff_set_t *tariffs, const char *serving,
                              const char *requesting)
{
    const tariff_t *tariff =
        tariffs ? tariff_set_find(tariffs, serving, requesting) : NULL;
    return tariff ? tariff_currency(tariff) : "GBP";
}

/* Collects, signs and writes a statement file, then prints its summary. */
static int s_write_statement_file(const cli_options_t *options,
                                  const config_t *config, ledger_t *ledger,
                                  statement_direction_t direction, int64_t from,
                                  int64_t to)
{
    char error[1024];
    bool issued = direction == STATEMENT_ISSUED;
    tariff_set_t *tariffs = cli_home_tariffs(config);
    const char *currency =
        s_currency(tariffs, issued ? config->mpid : options->counterparty,
                   issued ? options->counterparty : config->mpid);
    statement_file_t *st = statement_file_collect(
        ledger, config->mpid, options->counterparty, direction, from, to,
        currency, error, sizeof error);
    tariff_set_destroy(&tariffs);
    signer_t *signer = st ? cli_home_signer(config) : NULL;
    int code = CLI_FAILED;
    if (!st)
        cli_fail(CLI_FAILED, "cannot build the statement: %s", error);
    else if (signer &&
             (statement_file_sign(st, signer, clock_now_ms(), error,
                                  sizeof error) != 0 ||
              statement_file_save(st, options->out, error, sizeof error) != 0))
        cli_fail(CLI_FAILED, "cannot write the statement: %s", error);
    else if (signer) {
        s_write_summary(statement_file_summary(st), options->format);
        fprintf(stderr,
                "sdx: wrote the signed statement %s for %s: %zu receipt%s\n",
                options->out, options->counterparty, statement_file_count(st),
                statement_file_count(st) == 1 ? "" : "s");
        code = CLI_OK;
    }
    signer_destroy(&signer);
    statement_file_destroy(&st);
    return code;
}

static int s_out(const cli_options_t *options)
{
    statement_direction_t direction = STATEMENT_ISSUED;
    int64_t from = 0, to = 0;
    int code = s_statement_args(options, &direction);
    if (code != CLI_OK)
        return code;
    if (cli_range(options, true, &from, &to))
        return CLI_USAGE;
    config_t config;
    ledger_t *ledger = NULL;
    code = cli_home_open(options, &config, &ledger);
    if (code == CLI_OK)
        code = s_write_statement_file(options, &config, ledger, direction, from,
                                      to);
    ledger_destroy(&ledger);
    return code;
}

/* The outcome of the signature checks of a statement file. */
typedef struct {
    bool statement_valid;
    bool acceptance_valid; /* false when there is no acceptance */
    size_t receipts_valid; /* receipts signed by the serving supplier */
    size_t acks_valid;     /* acknowledgements signed by the requester */
    size_t acks;
} signatures_t;

static int s_check_signatures(const statement_file_t *st,
                              const cli_keys_t *keys, signatures_t *out)
{
    uint8_t issuer[SIGN_PUBLIC_SIZE], counterparty[SIGN_PUBLIC_SIZE];
    uint8_t serving[SIGN_PUBLIC_SIZE], requesting[SIGN_PUBLIC_SIZE];
    memset(out, 0, sizeof *out);
    if (cli_keys_lookup(statement_file_issuer(st), issuer, (void *)keys) ||
        cli_keys_lookup(statement_file_counterparty(st), counterparty,
                        (void *)keys))
        return cli_fail(CLI_FAILED,
                        "the directory does not list %s or %s, so their "
                        "signatures cannot be checked",
                        statement_file_issuer(st),
                        statement_file_counterparty(st));
    bool issued = statement_file_direction(st) == STATEMENT_ISSUED;
    memcpy(serving, issued ? issuer : counterparty, SIGN_PUBLIC_SIZE);
    memcpy(requesting, issued ? counterparty : issuer, SIGN_PUBLIC_SIZE);
    out->statement_valid = statement_file_verify(st, issuer);
    out->acceptance_valid = statement_file_verify_acceptance(st, counterparty);
    for (size_t i = 0; i < statement_file_count(st); i++) {
        const statement_entry_t *e = statement_file_entry(st, i);
        if (receipt_verify(serving, e->body, e->body_size, e->signature))
            out->receipts_valid++;
        if (!e->acknowledged)
            continue;
        out->acks++;
        if (ack_verify(requesting, e->ack_body, e->ack_size, e->ack_signature))
            out->acks_valid++;
    }
    return CLI_OK;
}

static bool s_all_valid(const statement_file_t *st, const signatures_t *sig)
{
    return sig->statement_valid &&
           (!statement_file_accepted(st) || sig->acceptance_valid) &&
           sig->receipts_valid == statement_file_count(st) &&
           sig->acks_valid == sig->acks;
}

static void s_show_table(const char *path, const statement_file_t *st,
                         const signatures_t *sig)
{
    char issued_at[CLOCK_ISO_SIZE], accepted_at[CLOCK_ISO_SIZE];
    char hash[2 * HASH_SIZE + 1];
    printf("Statement file %s\n", path);
    printf("  issued by %s to %s (%s) at %s, body hash %s\n",
           statement_file_issuer(st), statement_file_counterparty(st),
           statement_direction_name(statement_file_direction(st)),
           clock_format_iso(statement_file_issued_at(st), issued_at),
           hex_encode(statement_file_hash(st), HASH_SIZE, hash));
    printf("  signature of %s: %s\n", statement_file_issuer(st),
           sig->statement_valid ? "valid" : "INVALID");
    if (statement_file_accepted(st))
        printf("  accepted by %s at %s, signature: %s\n",
               statement_file_counterparty(st),
               clock_format_iso(statement_file_accepted_at(st), accepted_at),
               sig->acceptance_valid ? "valid" : "INVALID");
    else
        printf("  not accepted yet\n");
    printf("  receipts with a valid signature: %zu of %zu; acknowledgements "
           "with a valid signature: %zu of %zu\n",
           sig->receipts_valid, statement_file_count(st), sig->acks_valid,
           sig->acks);
    statement_write_table(statement_file_summary(st), stdout);
}

static void s_show_json(const char *path, const statement_file_t *st,
                        const signatures_t *sig)
{
    char issued_at[CLOCK_ISO_SIZE], accepted_at[CLOCK_ISO_SIZE];
    char hash[2 * HASH_SIZE + 1];
    printf("{\"file\": ");
    json_write_string(stdout, path);
    printf(", \"issuer\": \"%s\", \"counterparty\": \"%s\", \"direction\": "
           "\"%s\", \"issued_at\": \"%s\", \"body_hash\": \"%s\",\n"
           " \"signature_valid\": %s, \"accepted\": %s, \"accepted_at\": ",
           statement_file_issuer(st), statement_file_counterparty(st),
           statement_direction_name(statement_file_direction(st)),
           clock_format_iso(statement_file_issued_at(st), issued_at),
           hex_encode(statement_file_hash(st), HASH_SIZE, hash),
           sig->statement_valid ? "true" : "false",
           statement_file_accepted(st) ? "true" : "false");
    if (statement_file_accepted(st))
        printf("\"%s\"",
               clock_format_iso(statement_file_accepted_at(st), accepted_at));
    else
        printf("null");
    printf(", \"acceptance_valid\": %s, \"receipts\": %zu, "
           "\"receipts_valid\": %zu, \"acks\": %zu, \"acks_valid\": %zu,\n"
           " \"statement\": ",
           sig->acceptance_valid ? "true" : "false", statement_file_count(st),
           sig->receipts_valid, sig->acks, sig->acks_valid);
    statement_write_json(statement_file_summary(st), stdout);
    printf("}\n");
}

/* Loads the file and the directory's keys and checks the signatures. */
static int s_load_checked(const cli_options_t *options, const char *path,
                          config_t *config, statement_file_t **st,
                          signatures_t *sig)
{
    char error[1024];
    if (!options->home)
        return cli_fail(CLI_USAGE,
                        "no node home: give --home DIR or set SDX_HOME");
    if (config_load(options->home, config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    *st = statement_file_load(path, error, sizeof error);
    if (!*st)
        return cli_fail(CLI_FAILED, "%s", error);
    cli_keys_t keys;
    int code = cli_keys_load(config, &keys);
    if (code == CLI_OK)
        code = s_check_signatures(*st, &keys, sig);
    cli_keys_clear(&keys);
    return code;
}

static int s_show(const cli_options_t *options)
{
    config_t config;
    statement_file_t *st = NULL;
    signatures_t sig;
    int code = s_load_checked(options, options->show, &config, &st, &sig);
    if (code == CLI_OK) {
        if (options->format == CLI_JSON)
            s_show_json(options->show, st, &sig);
        else
            s_show_table(options->show, st, &sig);
        if (!s_all_valid(st, &sig))
            code = cli_fail(CLI_FAILED, "%s: a signature does not verify",
                            options->show);
    }
    statement_file_destroy(&st);
    return code;
}

int cli_statement_file(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_statement_usage, stdout);
        return CLI_OK;
    }
    if (options->out && options->show)
        return cli_fail(CLI_USAGE, "give --out or --show, not both");
    return options->out ? s_out(options) : s_show(options);
}

static const char s_reconcile_usage[] =
    "usage: sdx [--home DIR] reconcile [--accept] [--out FILE] [--json]\n"
    "           STATEMENT_FILE\n"
    "\n"
    "Checks a counterparty's signed statement file against this node's\n"
    "ledger: the statement's signature (key from the directory), then each\n"
    "receipt and acknowledgement in it against this ledger's copy of the\n"
    "same chain, and each receipt of this ledger in the period against the\n"
    "statement. It lists the receipts matched, missing on our side,\n"
    "missing on theirs, whose price or another field differs, whose\n"
    "signature is invalid, whose chain link is broken, and those not\n"
    "acknowledged on either side.\n"
    "\n"
    "--accept, only when the two agree, signs the statement as accepted by\n"
    "this node and stores the doubly-signed file in HOME/statements; --out\n"
    "FILE also writes it to FILE to return to the issuer, who stores it\n"
    "with `sdx statements --import FILE`.\n"
    "\n"
    "Exit status: 0 when the statement agrees with the ledger (and, with\n"
    "--accept, was stored), 1 when it does not or it could not be checked,\n"
    "2 for a usage error.\n";

/* Signs the acceptance and stores the statement; returns an exit code. */
static int s_accept(const cli_options_t *options, const config_t *config,
                    statement_file_t *st)
{
    char error[1024], folder[PATH_MAX], path[4096];
    signer_t *signer = cli_home_signer(config);
    if (!signer)
        return CLI_FAILED;
    int code = CLI_OK;
    if (statement_file_accept(st, signer, clock_now_ms(), error,
                              sizeof error) != 0 ||
        statement_store_save(cli_home_statements(config, folder), st, path,
                             sizeof path, error, sizeof error) != 0 ||
        (options->out &&
         statement_file_save(st, options->out, error, sizeof error) != 0))
        code = cli_fail(CLI_FAILED, "cannot store the accepted statement: %s",
                        error);
    signer_destroy(&signer);
    if (code != CLI_OK)
        return code;
    fprintf(stderr, "sdx: accepted and stored %s\n", path);
    if (options->out)
        fprintf(stderr, "sdx: wrote %s; send it to %s\n", options->out,
                statement_file_issuer(st));
    return CLI_OK;
}

/* Reconciles the loaded statement; returns an exit code. */
static int s_reconcile(const cli_options_t *options, const config_t *config,
                       ledger_t *ledger, statement_file_t *st)
{
    char error[1024];
    cli_keys_t keys;
    int code = cli_keys_load(config, &keys);
    reconcile_t *result =
        code == CLI_OK ? reconcile_run_timed(st, ledger, config->mpid,
                                             cli_keys_lookup, &keys, keys.list,
                                             keys.count, error, sizeof error)
                       : NULL;
    cli_keys_clear(&keys);
    if (code != CLI_OK)
        return code;
    if (!result)
        return cli_fail(CLI_FAILED, "cannot reconcile %s: %s",
                        options->positional[0], error);
    if (options->format == CLI_JSON)
        reconcile_write_json(result, st, stdout);
    else
        reconcile_write_table(result, st, stdout);
    bool agree = reconcile_agree(result);
    reconcile_destroy(&result);
    if (!agree)
        return cli_fail(CLI_FAILED, "%s does not agree with this ledger%s",
                        options->positional[0],
                        options->accept ? "; it was not accepted" : "");
    return options->accept ? s_accept(options, config, st) : CLI_OK;
}

int cli_reconcile(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_reconcile_usage, stdout);
        return CLI_OK;
    }
    if (options->positional_count != 1)
        return cli_fail(CLI_USAGE, "give one STATEMENT_FILE; see sdx "
                                   "reconcile --help");
    if (options->out && !options->accept)
        return cli_fail(CLI_USAGE, "--out writes the accepted statement: add "
                                   "--accept");
    config_t config;
    ledger_t *ledger = NULL;
    int code = cli_home_open(options, &config, &ledger);
    char error[1024];
    statement_file_t *st =
        code == CLI_OK
            ? statement_file_load(options->positional[0], error, sizeof error)
            : NULL;
    if (code == CLI_OK && !st)
        code = cli_fail(CLI_FAILED, "%s", error);
    if (code == CLI_OK)
        code = s_reconcile(options, &config, ledger, st);
    statement_file_destroy(&st);
    ledger_destroy(&ledger);
    return code;
}

static const char s_statements_usage[] =
    "usage: sdx [--home DIR] statements [--counterparty MPID] [--json]\n"
    "       sdx [--home DIR] statements --import FILE\n"
    "\n"
    "Lists the agreed (doubly-signed) statements stored in HOME/statements:\n"
    "the chain, period, issuer, receipts, total and when it was accepted.\n"
    "--import FILE stores a doubly-signed statement that this node issued\n"
    "or accepted, after checking both signatures (keys from the\n"
    "directory); the issuer imports the file its counterparty returned\n"
    "from `sdx reconcile --accept --out FILE`.\n";

typedef struct {
    const char *counterparty;
    cli_format_t format;
    size_t count;
} listing_t;

static void s_list_json(const char *path, const statement_file_t *st,
                        bool first)
{
    const statement_t *s = statement_file_summary(st);
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE], accepted[CLOCK_ISO_SIZE];
    printf("%s{\"file\": ", first ? "\n" : ",\n");
    json_write_string(stdout, path);
    printf(", \"serving\": \"%s\", \"requesting\": \"%s\", \"from\": \"%s\", "
           "\"to\": \"%s\", \"issuer\": \"%s\", \"direction\": \"%s\", "
           "\"receipts\": %" PRIu64 ", \"amount_micro\": %" PRIu64
           ", \"currency\": \"%s\", \"accepted_at\": \"%s\"}",
           s->serving, s->requesting, clock_format_iso(s->from_ms, from),
           clock_format_iso(s->to_ms, to), statement_file_issuer(st),
           statement_direction_name(statement_file_direction(st)),
           s->total.count, s->total.amount, s->currency,
           clock_format_iso(statement_file_accepted_at(st), accepted));
}

static int s_list_one(const char *path, const statement_file_t *st,
                      const char *problem, void *arg)
{
    listing_t *listing = arg;
    if (!st) {
        fprintf(stderr, "sdx: skipped an unreadable statement: %s\n", problem);
        return 0;
    }
    const statement_t *s = statement_file_summary(st);
    if (listing->counterparty &&
        strcmp(statement_file_issuer(st), listing->counterparty) != 0 &&
        strcmp(statement_file_counterparty(st), listing->counterparty) != 0)
        return 0;
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE], amount[28];
    if (listing->format == CLI_JSON)
        s_list_json(path, st, listing->count == 0);
    else
        printf("%s->%s %s %s by %-4s %-8s %7" PRIu64 " %16s %s  %s\n",
               s->serving, s->requesting, clock_format_iso(s->from_ms, from),
               clock_format_iso(s->to_ms, to), statement_file_issuer(st),
               statement_direction_name(statement_file_direction(st)),
               s->total.count, statement_format_amount(s->total.amount, amount),
               s->currency, strrchr(path, '/') + 1);
    listing->count++;
    return 0;
}

static int s_list(const cli_options_t *options, const config_t *config)
{
    char error[1024], folder[PATH_MAX];
    listing_t listing = {options->counterparty, options->format, 0};
    if (options->format == CLI_JSON)
        printf("[");
    int rc = statement_store_foreach(cli_home_statements(config, folder),
                                     s_list_one, &listing, error, sizeof error);
    if (options->format == CLI_JSON)
        printf(listing.count ? "\n]\n" : "]\n");
    else if (listing.count == 0)
        printf("No agreed statements in %s.\n", folder);
    if (rc != 0)
        return cli_fail(CLI_FAILED, "%s", error);
    return CLI_OK;
}

static int s_import(const cli_options_t *options)
{
    config_t config;
    statement_file_t *st = NULL;
    signatures_t sig;
    char error[1024], folder[PATH_MAX], path[4096];
    int code = s_load_checked(options, options->import, &config, &st, &sig);
    if (code == CLI_OK && !statement_file_accepted(st))
        code = cli_fail(CLI_FAILED,
                        "%s is not accepted by its counterparty yet; only "
                        "doubly-signed statements are stored",
                        options->import);
    else if (code == CLI_OK &&
             strcmp(statement_file_issuer(st), config.mpid) != 0 &&
             strcmp(statement_file_counterparty(st), config.mpid) != 0)
        code =
            cli_fail(CLI_FAILED, "%s is between %s and %s, not this node's %s",
                     options->import, statement_file_issuer(st),
                     statement_file_counterparty(st), config.mpid);
    else if (code == CLI_OK && !s_all_valid(st, &sig))
        code = cli_fail(CLI_FAILED,
                        "%s: a signature does not verify; not "
                        "stored",
                        options->import);
    else if (code == CLI_OK &&
             statement_store_save(cli_home_statements(&config, folder), st,
                                  path, sizeof path, error, sizeof error) != 0)
        code = cli_fail(CLI_FAILED, "%s", error);
    else if (code == CLI_OK)
        printf("stored %s\n", path);
    statement_file_destroy(&st);
    return code;
}

int cli_statements(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_statements_usage, stdout);
        return CLI_OK;
    }
    if (options->import)
        return s_import(options);
    if (!options->home)
        return cli_fail(CLI_USAGE,
                        "no node home: give --home DIR or set SDX_HOME");
    config_t config;
    char error[1024];
    if (config_load(options->home, &config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    return s_list(options, &config);
}
