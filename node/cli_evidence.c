/* sdx evidence: why the serving node allowed a receipted request. */
#include <czmq.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "dir_answer.h"
#include "keys.h"
#include "ledger.h"
#include "ledger_evidence.h"
#include "permission.h"
#include "receipt.h"

static const char s_usage[] =
    "usage: sdx [--home DIR] evidence --counterparty MPID --seq N\n"
    "\n"
    "Shows the signed directory answer this node stored with receipt N of\n"
    "its chain to MPID, checks the directory's signature over it with\n"
    "HOME/directory.sign, and repeats the permission check against it at\n"
    "the receipt's served time. Exits 0 when the evidence verifies and\n"
    "allows the request, 1 otherwise.\n";

static void s_print_point(const dir_supply_point_t *point)
{
    char issued[CLOCK_ISO_SIZE], expires[CLOCK_ISO_SIZE];
    printf("supply point %s (%s, meter %s, %s), installed by %s, head end "
           "%s\n",
           point->mpxn, point->fuel, point->meter_id,
           point->smart ? "smart" : "not smart", point->installing,
           point->head_end);
    printf("answer issued %s, expires %s, directory change %" PRIu64 "\n",
           clock_format_iso(point->issued_ms, issued),
           clock_format_iso(point->expires_ms, expires), point->change);
    for (size_t i = 0; i < point->registration_count; i++) {
        const dir_registration_t *r = &point->registrations[i];
        char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
        printf("  registered %s from %s to %s\n", r->supplier,
               clock_format_iso(r->from_ms, from),
               r->to_ms == DIR_OPEN_END ? "(open)"
                                        : clock_format_iso(r->to_ms, to));
    }
}

/* Decodes and checks the evidence of row; returns an exit code. */
static int s_check(const config_t *config, const ledger_row_t *row,
                   const uint8_t *answer, size_t answer_size,
                   const uint8_t signature[SIGN_SIGNATURE_SIZE])
{
    char error[1024], path[PATH_MAX];
    uint8_t directory_key[SIGN_PUBLIC_SIZE];
    if (keys_load_sign_public(config_path(config, "directory.sign", path),
                              directory_key, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    bool signed_ok = sign_verify(directory_key, SIGN_DOMAIN_DIRECTORY, answer,
                                 answer_size, signature);
    dir_supply_point_t *point = calloc(1, sizeof *point);
    int code = CLI_OK;
    if (dir_answer_read_supply_point(answer, answer_size, point, error,
                                     sizeof error)) {
        free(point);
        return cli_fail(CLI_FAILED, "stored evidence is unreadable: %s", error);
    }
    const receipt_t *r = &row->receipt;
    char served[CLOCK_ISO_SIZE];
    printf("receipt %s->%s seq %" PRIu64 ": %s of %s served %s\n", r->serving,
           r->requesting, r->seq, r->type, r->mpxn,
           clock_format_iso(r->served_at, served));
    s_print_point(point);
    printf("directory signature: %s\n", signed_ok ? "valid" : "INVALID");
    permission_t permission;
    bool ranged = r->range_count > 0;
    permission_check(point, r->serving, r->requesting, r->type, r->served_at,
                     ranged, ranged ? r->ranges[0].from_ms : 0,
                     ranged ? r->ranges[r->range_count - 1].to_ms : 0,
                     &permission);
    printf("decision at the served time: %s: %s\n",
           permission.allowed ? "allowed" : "denied", permission.message);
    if (!signed_ok || !permission.allowed || strcmp(point->mpxn, r->mpxn))
        code = cli_fail(CLI_FAILED,
                        "the evidence does not support receipt seq %" PRIu64,
                        r->seq);
    free(point);
    return code;
}

int cli_evidence(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_usage, stdout);
        return CLI_OK;
    }
    char *end = NULL;
    unsigned long long seq =
        options->seq ? strtoull(options->seq, &end, 10) : 0;
    if (!options->counterparty || !options->seq || *end || seq == 0) {
        fputs(s_usage, stderr);
        return CLI_USAGE;
    }
    if (!options->home)
        return cli_fail(CLI_USAGE,
                        "no node home: give --home DIR or set SDX_HOME");
    config_t config;
    char error[1024], path[PATH_MAX];
    if (config_load(options->home, &config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    ledger_t *ledger = ledger_open_readonly(
        config_path(&config, "ledger.db", path), error, sizeof error);
    if (!ledger)
        return cli_fail(CLI_FAILED, "%s", error);
    ledger_row_t row;
    uint8_t *answer = NULL;
    size_t answer_size = 0;
    uint8_t signature[SIGN_SIGNATURE_SIZE];
    int code;
    int found = ledger_find_receipt(ledger, config.mpid, options->counterparty,
                                    seq, &row, error, sizeof error);
    if (found != 1)
        code =
            cli_fail(CLI_REJECTED,
                     found < 0 ? "%s"
                               : "no receipt seq %s issued to %s in this "
                                 "ledger",
                     found < 0 ? error : options->seq, options->counterparty);
    else if ((found = ledger_find_evidence(
                  ledger, config.mpid, options->counterparty, seq, &answer,
                  &answer_size, signature, error, sizeof error)) != 1)
        code =
            cli_fail(CLI_FAILED,
                     found < 0 ? "%s" : "receipt seq %s has no stored evidence",
                     found < 0 ? error : options->seq);
    else
        code = s_check(&config, &row, answer, answer_size, signature);
    free(answer);
    ledger_destroy(&ledger);
    return code;
}
