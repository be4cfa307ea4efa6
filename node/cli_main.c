/* sdx: the command-line tool of a supplier's node. */
#include <czmq.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "hex.h"
#include "keys.h"
#include "log.h"
#include "statement.h"

static const char s_usage[] =
    "usage: sdx [--home DIR] COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  keygen --dir DIR [--name NAME]   write a CURVE certificate and an\n"
    "                                   Ed25519 signing key (NAME: node)\n"
    "  read KIND MPXN [--from T --to T] read a meter through its installing\n"
    "                                   supplier's node; KIND is info,\n"
    "                                   registers, daily, profile or supply\n"
    "  receipts [--counterparty MPID] [--from T --to T]\n"
    "                                   list receipts, acknowledged or not\n"
    "  statement --counterparty MPID --from T --to T [--role issued|received]\n"
    "                                   counts, units and amounts per type;\n"
    "                                   --out FILE writes a signed statement\n"
    "                                   file, --show FILE checks one\n"
    "  reconcile [--accept] [--out FILE] STATEMENT_FILE\n"
    "                                   compare a counterparty's statement\n"
    "                                   with the ledger; --accept signs\n"
    "                                   it as agreed\n"
    "  statements [--import FILE]       list or store agreed statements\n"
    "  settle --counterparty MPID --period M\n"
    "                                   net position from agreed statements\n"
    "  export receipts --from T --to T --csv|--json [--counterparty MPID]\n"
    "                                   every field of every receipt\n"
    "  ledger verify                    check every chain and signature\n"
    "  evidence --counterparty MPID --seq N\n"
    "                                   show the signed directory answer\n"
    "                                   that allowed receipt N to MPID\n"
    "\n"
    "Options:\n"
    "  --home DIR        the node's home folder (default: $SDX_HOME)\n"
    "  --json, --csv     output format instead of a table\n"
    "  --request-id HEX  reuse a request id (32 hex digits) to retry safely\n"
    "  --timeout-ms N    how long read waits for the node (default 15000)\n"
    "  T                 YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, UTC; ranges\n"
    "                    are half-open: from is included, to is not\n"
    "  --period M        a calendar month YYYY-MM (UTC) in place of\n"
    "                    --from and --to\n"
    "\n"
    "Exit status: 0 ok, 1 failed (unavailable, timeout, disputed, or a\n"
    "statement that does not reconcile), 2 usage error, 3 denied by the\n"
    "serving node, 4 not found or invalid request.\n"
    "`sdx COMMAND --help` shows the help of one command.\n";

int cli_fail(int code, const char *format, ...)
{
    va_list args;
    fputs("sdx: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    return code;
}

static const char *s_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_fail(CLI_USAGE, "option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* Options that take a value, and where each is stored. */
static const char **s_string_option(cli_options_t *options, const char *name)
{
    static const char *const names[] = {
        "--home",       "--from", "--to",    "--counterparty", "--role",
        "--request-id", "--dir",  "--name",  "--seq",          "--period",
        "--out",        "--show", "--import"};
    const char **slots[] = {
        &options->home,         &options->from, &options->to,
        &options->counterparty, &options->role, &options->request_id,
        &options->dir,          &options->name, &options->seq,
        &options->period,       &options->out,  &options->show,
        &options->import};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0)
            return slots[i];
    return NULL;
}

int cli_parse(int argc, char **argv, int start, cli_options_t *options)
{
    for (int i = start; i < argc; i++) {
        const char *arg = argv[i];
        const char **slot = s_string_option(options, arg);
        if (slot) {
            if (!(*slot = s_value(argc, argv, &i)))
                return -1;
        } else if (strcmp(arg, "--json") == 0)
            options->format = CLI_JSON;
        else if (strcmp(arg, "--csv") == 0)
            options->format = CLI_CSV;
        else if (strcmp(arg, "--accept") == 0)
            options->accept = true;
        else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            options->help = true;
        else if (strcmp(arg, "--timeout-ms") == 0) {
            const char *value = s_value(argc, argv, &i);
            char *end;
            long number = value ? strtol(value, &end, 10) : 0;
            if (!value || *end || number < 1 || number > 3600000) {
                cli_fail(CLI_USAGE,
                         "invalid --timeout-ms '%s': expected milliseconds "
                         "from 1 to 3600000",
                         value ? value : "");
                return -1;
            }
            options->timeout_ms = (int)number;
        } else if (arg[0] == '-' && arg[1]) {
            cli_fail(CLI_USAGE, "unknown option '%s'; see sdx --help", arg);
            return -1;
        } else if (options->positional_count < 4)
            options->positional[options->positional_count++] = arg;
        else {
            cli_fail(CLI_USAGE, "unexpected argument '%s'", arg);
            return -1;
        }
    }
    if (!options->home)
        options->home = getenv("SDX_HOME");
    return 0;
}

static int s_period(const cli_options_t *options, int64_t *from_ms,
                    int64_t *to_ms)
{
    if (options->from || options->to) {
        cli_fail(CLI_USAGE, "give --period or --from/--to, not both");
        return -1;
    }
    if (statement_parse_period(options->period, from_ms, to_ms) != 0) {
        cli_fail(CLI_USAGE,
                 "invalid --period '%s': expected a calendar month YYYY-MM "
                 "(UTC), such as 2026-11",
                 options->period);
        return -1;
    }
    return 0;
}

int cli_range(const cli_options_t *options, bool required, int64_t *from_ms,
              int64_t *to_ms)
{
    if (options->period)
        return s_period(options, from_ms, to_ms);
    if (!options->from && !options->to && !required)
        return 0;
    if (!options->from || !options->to) {
        cli_fail(CLI_USAGE, "give both --from and --to (YYYY-MM-DD or "
                            "YYYY-MM-DDTHH:MM:SSZ)");
        return -1;
    }
    if (clock_parse_iso(options->from, from_ms)) {
        cli_fail(CLI_USAGE,
                 "invalid --from '%s': expected YYYY-MM-DD or "
                 "YYYY-MM-DDTHH:MM[:SS]Z",
                 options->from);
        return -1;
    }
    if (clock_parse_iso(options->to, to_ms)) {
        cli_fail(CLI_USAGE,
                 "invalid --to '%s': expected YYYY-MM-DD or "
                 "YYYY-MM-DDTHH:MM[:SS]Z",
                 options->to);
        return -1;
    }
    if (*from_ms >= *to_ms) {
        cli_fail(CLI_USAGE, "--from %s must be before --to %s", options->from,
                 options->to);
        return -1;
    }
    return 0;
}

static int s_keygen(const cli_options_t *options)
{
    if (options->help || !options->dir) {
        printf("usage: sdx keygen --dir DIR [--name NAME]\n\n"
               "Writes DIR/NAME.cert and DIR/NAME.cert_secret (CURVE) and\n"
               "DIR/NAME.sign and DIR/NAME.sign_secret (Ed25519); secret\n"
               "files get mode 0600, and existing files are never\n"
               "overwritten. NAME defaults to 'node'. Prints the public keys\n"
               "for the directory's suppliers.csv.\n");
        return options->help ? CLI_OK : CLI_USAGE;
    }
    const char *name = options->name ? options->name : "node";
    if (!*name || strchr(name, '/') || name[0] == '.')
        return cli_fail(CLI_USAGE,
                        "invalid --name '%s': use a plain file name such as "
                        "node, without '/' or a leading '.'",
                        name);
    char error[1024];
    /* A new node's home often does not exist yet; create it private. */
    if (mkdir(options->dir, 0700) != 0 && errno != EEXIST)
        return cli_fail(CLI_FAILED, "cannot create %s: %s", options->dir,
                        strerror(errno));
    if (keys_generate(options->dir, name, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    char path[4096], curve[41], sign_hex[65];
    uint8_t sign_key[SIGN_PUBLIC_SIZE];
    snprintf(path, sizeof path, "%s/%s.cert", options->dir, name);
    if (keys_load_curve_public(path, curve, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    snprintf(path, sizeof path, "%s/%s.sign", options->dir, name);
    if (keys_load_sign_public(path, sign_key, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    printf("curve_key=%s\nsign_key=%s\n", curve,
           hex_encode(sign_key, SIGN_PUBLIC_SIZE, sign_hex));
    return CLI_OK;
}

int main(int argc, char **argv)
{
    cli_options_t options = {0};
    int command = 1;
    /* Global options may come before the command. */
    while (command + 1 < argc && strcmp(argv[command], "--home") == 0) {
        options.home = argv[command + 1];
        command += 2;
    }
    if (command >= argc || strcmp(argv[command], "--help") == 0 ||
        strcmp(argv[command], "-h") == 0) {
        fputs(s_usage, command >= argc ? stderr : stdout);
        return command >= argc ? CLI_USAGE : CLI_OK;
    }
    const char *name = argv[command];
    bool ledger = strcmp(name, "ledger") == 0;
    if (cli_parse(argc, argv, command + 1, &options))
        return CLI_USAGE;
    zsys_init();
    log_init("sdx", false);
    zsys_set_logstream(stderr);
    if (strcmp(name, "keygen") == 0)
        return s_keygen(&options);
    if (strcmp(name, "read") == 0)
        return cli_read(&options);
    if (strcmp(name, "receipts") == 0)
        return cli_receipts(&options);
    if (strcmp(name, "statement") == 0)
        return options.out || options.show || options.help
                   ? cli_statement_file(&options)
                   : cli_statement(&options);
    if (strcmp(name, "reconcile") == 0)
        return cli_reconcile(&options);
    if (strcmp(name, "statements") == 0)
        return cli_statements(&options);
    if (strcmp(name, "settle") == 0)
        return cli_settle(&options);
    if (strcmp(name, "export") == 0)
        return cli_export(&options);
    if (strcmp(name, "evidence") == 0)
        return cli_evidence(&options);
    if (ledger && options.positional_count == 1 &&
        strcmp(options.positional[0], "verify") == 0)
        return cli_ledger_verify(&options);
    if (ledger && options.help) {
        printf("usage: sdx [--home DIR] ledger verify\n");
        return CLI_OK;
    }
    if (ledger)
        return cli_fail(CLI_USAGE,
                        "missing or unknown ledger command '%s'; the only "
                        "one is: sdx ledger verify",
                        options.positional_count ? options.positional[0] : "");
    return cli_fail(CLI_USAGE, "unknown command '%s'; see sdx --help", name);
}
