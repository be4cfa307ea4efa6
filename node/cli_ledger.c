/* sdx receipts, statement and ledger verify: reading the node's ledger. */
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "dir_keys.h"
#include "dirclient.h"
#include "hex.h"
#include "json.h"
#include "keys.h"
#include "ledger.h"
#include "ledger_checkpoint.h"
#include "receipt.h"
#include "statement.h"

/* Reads the node's MPID from its configuration. */
static int s_open(const cli_options_t *options, config_t *config,
                  ledger_t **ledger)
{
    char error[1024], path[PATH_MAX];
    if (!options->home)
        return cli_fail(CLI_USAGE,
                        "no node home: give --home DIR or set SDX_HOME");
    if (config_load(options->home, config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    *ledger = ledger_open_readonly(config_path(config, "ledger.db", path),
                                   error, sizeof error);
    if (!*ledger)
        return cli_fail(CLI_FAILED, "%s", error);
    return CLI_OK;
}

typedef struct {
    cli_format_t format;
    const char *own;
    uint64_t count;
} receipt_listing_t;

static int s_print_receipt(const ledger_row_t *row, void *arg)
{
    receipt_listing_t *listing = arg;
    const receipt_t *r = &row->receipt;
    char served[CLOCK_ISO_SIZE], id[33], hash[65], amount[28];
    clock_format_iso(r->served_at, served);
    hex_encode(r->request_id, 16, id);
    hex_encode(row->hash, HASH_SIZE, hash);
    statement_format_amount(r->price, amount);
    const char *role =
        strcmp(r->serving, listing->own) == 0 ? "issued" : "received";
    const char *status = row->acknowledged ? "acknowledged" : "unacknowledged";
    if (listing->format == CLI_JSON)
        printf("%s{\"role\":\"%s\",\"serving\":\"%s\",\"requesting\":\"%s\","
               "\"seq\":%" PRIu64 ",\"request_id\":\"%s\",\"mpxn\":\"%s\","
               "\"type\":\"%s\",\"units\":%" PRIu64 ",\"price_micro\":%" PRIu64
               ",\"price\":\"%s\",\"tariff_id\":\"%s\",\"served_at\":\"%s\","
               "\"hash\":\"%s\",\"status\":\"%s\"}",
               listing->count ? ",\n" : "", role, r->serving, r->requesting,
               r->seq, id, r->mpxn, r->type, r->units, r->price, amount,
               r->tariff_id, served, hash, status);
    else if (listing->format == CLI_CSV)
        printf("%s,%s,%s,%" PRIu64 ",%s,%s,%s,%" PRIu64 ",%" PRIu64
               ",%s,%s,%s,%s,%s\n",
               role, r->serving, r->requesting, r->seq, id, r->mpxn, r->type,
               r->units, r->price, amount, r->tariff_id, served, hash, status);
    else
        printf("%-8s %s->%s %5" PRIu64 " %-14s %-14s %7" PRIu64
               " %14s  %s  %s\n",
               role, r->serving, r->requesting, r->seq, r->mpxn, r->type,
               r->units, amount, served, status);
    listing->count++;
    return 0;
}

int cli_receipts(const cli_options_t *options)
{
    if (options->help) {
        printf("usage: sdx [--home DIR] receipts [--counterparty MPID]\n"
               "                    [--from T --to T] [--json|--csv]\n\n"
               "Lists the receipts this node issued and received, oldest\n"
               "first, with their acknowledgement status. T filters on the\n"
               "time each request was served.\n");
        return CLI_OK;
    }
    config_t config;
    ledger_t *ledger = NULL;
    int64_t from = 0, to = 0;
    if (cli_range(options, false, &from, &to))
        return CLI_USAGE;
    int code = s_open(options, &config, &ledger);
    if (code)
        return code;
    ledger_filter_t filter = {.own_mpid = config.mpid,
                              .counterparty = options->counterparty,
                              .from_ms = from,
                              .to_ms = to};
    receipt_listing_t listing = {options->format, config.mpid, 0};
    if (options->format == CLI_CSV)
        printf("role,serving,requesting,seq,request_id,mpxn,type,units,"
               "price_micro,price,tariff_id,served_at,hash,status\n");
    else if (options->format == CLI_JSON)
        printf("[");
    else
        printf("%-8s %-10s %5s %-14s %-14s %7s %14s  %-20s  %s\n", "role",
               "chain", "seq", "mpxn", "type", "units", "price", "served_at",
               "status");
    char error[512];
    if (ledger_foreach_receipt(ledger, &filter, s_print_receipt, &listing,
                               error, sizeof error) < 0)
        code = cli_fail(CLI_FAILED, "cannot read the ledger: %s", error);
    if (options->format == CLI_JSON)
        printf("]\n");
    /* Disputed receipts are not part of any chain, so the listing above
     * cannot show them; say that they exist. */
    uint64_t disputes = 0;
    if (code == CLI_OK &&
        ledger_count_disputes(ledger, &disputes, error, sizeof error) == 0 &&
        disputes > 0)
        fprintf(stderr,
                "sdx: %" PRIu64 " received receipts are disputed and not in "
                "this list; sdx reconcile shows them against a statement\n",
                disputes);
    ledger_destroy(&ledger);
    return code;
}

static int s_write_statement(ledger_t *ledger, const char *serving,
                             const char *requesting, int64_t from, int64_t to,
                             cli_format_t format)
{
    statement_t statement;
    char error[512];
    if (statement_compute(ledger, serving, requesting, from, to, &statement,
                          error, sizeof error))
        return cli_fail(CLI_FAILED, "cannot compute the statement: %s", error);
    if (format == CLI_JSON)
        statement_write_json(&statement, stdout);
    else if (format == CLI_CSV)
        statement_write_csv(&statement, stdout);
    else
        statement_write_table(&statement, stdout);
    return CLI_OK;
}

int cli_statement(const cli_options_t *options)
{
    if (options->help || !options->counterparty) {
        printf("usage: sdx [--home DIR] statement --counterparty MPID\n"
               "           (--period YYYY-MM | --from T --to T)\n"
               "           [--role issued|received] [--json|--csv] "
               "[--out FILE]\n"
               "       sdx [--home DIR] statement --show FILE\n\n"
               "`sdx statement --help` describes every option.\n");
        return options->help ? CLI_OK : CLI_USAGE;
    }
    int64_t from = 0, to = 0;
    if (cli_range(options, true, &from, &to))
        return CLI_USAGE;
    if (!receipt_mpid_valid(options->counterparty))
        return cli_fail(CLI_USAGE,
                        "invalid --counterparty '%s': an MPID is 4 "
                        "upper-case letters or digits",
                        options->counterparty);
    const char *role = options->role;
    if (role && strcmp(role, "issued") && strcmp(role, "received"))
        return cli_fail(CLI_USAGE,
                        "invalid --role '%s': use issued or received", role);
    if (!role && options->format == CLI_CSV)
        return cli_fail(CLI_USAGE, "--csv writes one statement: add --role "
                                   "issued or --role received");
    config_t config;
    ledger_t *ledger = NULL;
    int code = s_open(options, &config, &ledger);
    if (code)
        return code;
    bool both = !role;
    bool issued = both || strcmp(role, "issued") == 0;
    bool received = both || strcmp(role, "received") == 0;
    if (both && options->format == CLI_JSON)
        printf("[");
    if (issued)
        code = s_write_statement(ledger, config.mpid, options->counterparty,
                                 from, to, options->format);
    if (both)
        printf(options->format == CLI_JSON ? "," : "\n");
    if (received && code == CLI_OK)
        code = s_write_statement(ledger, options->counterparty, config.mpid,
                                 from, to, options->format);
    if (both && options->format == CLI_JSON)
        printf("]\n");
    ledger_destroy(&ledger);
    return code;
}

/* Supplier signing keys for ledger_verify, fetched from the directory. */
typedef struct {
    dir_supplier_t *list;
    size_t count;
} key_table_t;

/* A ledger_signature_fn over the directory's keys: the signature must be
 * by a key of mpid valid at signed_ms, so what a since retired key signed
 * while valid passes and what a revoked key signed from its revocation
 * on does not. */
static int s_check_signature(const char *mpid, int64_t signed_ms,
                             const char *domain, const uint8_t *data,
                             size_t size, const uint8_t signature[64],
                             char *reason, size_t reason_size, void *arg)
{
    const key_table_t *table = arg;
    for (size_t i = 0; i < table->count; i++)
        if (strcmp(table->list[i].mpid, mpid) == 0)
            return dir_supplier_verify(&table->list[i], signed_ms, domain, data,
                                       size, signature, reason,
                                       reason_size) == DIR_SIGNATURE_OK
                       ? LEDGER_SIGNATURE_OK
                       : LEDGER_SIGNATURE_BAD;
    return LEDGER_SIGNER_UNKNOWN;
}

static int s_load_keys(const config_t *config, key_table_t *table)
{
    char error[1024], path[PATH_MAX], directory_key[41];
    uint8_t directory_sign[32];
    zcert_t *cert = keys_load_cert(config_path(config, "node.cert", path),
                                   error, sizeof error);
    if (!cert ||
        keys_load_curve_public(config_path(config, "directory.cert", path),
                               directory_key, error, sizeof error) ||
        keys_load_sign_public(config_path(config, "directory.sign", path),
                              directory_sign, error, sizeof error)) {
        zcert_destroy(&cert);
        return cli_fail(CLI_FAILED, "%s", error);
    }
    dirclient_t *client = dirclient_new(config->directory, directory_key,
                                        directory_sign, cert, 3000);
    dir_status_t status =
        client ? dirclient_suppliers(client, &table->list, &table->count, error,
                                     sizeof error)
               : DIR_UNAVAILABLE;
    dirclient_destroy(&client);
    zcert_destroy(&cert);
    if (status != DIR_OK)
        return cli_fail(CLI_FAILED,
                        "cannot fetch the suppliers' signing keys from the "
                        "directory at %s: %s",
                        config->directory, error);
    return CLI_OK;
}

/* Runs ledger_verify and, when the chains are sound, the checkpoint
 * checks; result gets the first problem. Returns 0 or -1 with error. */
static int s_verify_all(ledger_t *ledger, const config_t *config,
                        key_table_t *keys, ledger_verify_result_t *result,
                        uint64_t *checkpoint_count, char *error,
                        size_t error_size)
{
    ledger_verify_result_t checkpoints;
    *checkpoint_count = 0;
    if (ledger_verify_timed(ledger, s_check_signature, keys, result, error,
                            error_size))
        return -1;
    if (!result->ok)
        return 0;
    if (ledger_verify_checkpoints_timed(ledger, config->mpid, s_check_signature,
                                        keys, &checkpoints, error, error_size))
        return -1;
    *checkpoint_count = checkpoints.checkpoints;
    if (!checkpoints.ok)
        *result = checkpoints;
    return 0;
}

int cli_ledger_verify(const cli_options_t *options)
{
    if (options->help) {
        printf("usage: sdx [--home DIR] ledger verify\n\n"
               "Checks every receipt chain and acknowledgement in the\n"
               "ledger: hashes, links, signatures (by a key the directory\n"
               "lists as valid at the time in the signed body, so keys\n"
               "retired since still count for what they signed while valid)\n"
               "and that each row matches its signed body. Then checks that\n"
               "the ledger still agrees with every stored chain checkpoint.\n"
               "Exits 0 when the ledger is intact, 1 naming the first bad\n"
               "sequence number (and the checkpoint that shows it).\n");
        return CLI_OK;
    }
    config_t config;
    ledger_t *ledger = NULL;
    int code = s_open(options, &config, &ledger);
    if (code)
        return code;
    key_table_t keys = {0};
    code = s_load_keys(&config, &keys);
    ledger_verify_result_t result;
    uint64_t checkpoints = 0;
    char error[512];
    if (code == CLI_OK && s_verify_all(ledger, &config, &keys, &result,
                                       &checkpoints, error, sizeof error))
        code = cli_fail(CLI_FAILED, "cannot read the ledger: %s", error);
    else if (code == CLI_OK && result.ok)
        printf("ledger intact: %" PRIu64 " chains, %" PRIu64
               " receipts, %" PRIu64 " acknowledgements, %" PRIu64
               " checkpoints verified\n",
               result.chains, result.receipts, result.acks, checkpoints);
    else if (code == CLI_OK)
        code = cli_fail(
            CLI_FAILED, "ledger damaged: chain %s->%s seq %" PRIu64 "%s: %s",
            result.serving, result.requesting, result.seq,
            result.in_ack ? " (acknowledgement)" : "", result.reason);
    free(keys.list);
    ledger_destroy(&ledger);
    return code;
}
