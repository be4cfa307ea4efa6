/* sdx-directory subcommands and their options. */
#include "directory_cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "directory_change.h"
#include "directory_db.h"
#include "directory_import_cli.h"
#include "directory_keys_cli.h"
#include "directory_load.h"
#include "directory_query_log.h"
#include "directory_rate.h"
#include "directory_server.h"
#include "directory_show.h"
#include "directory_withdraw.h"
#include "keys.h"
#include "log.h"
#include "mpxn.h"

#define PROGRAM "sdx-directory"

static const char s_usage[] =
    "Usage: " PROGRAM " COMMAND [OPTIONS]\n"
    "\n"
    "The central lookup of sdx. It records suppliers, supply points and\n"
    "which supplier is registered for each supply point over time, and\n"
    "answers suppliers' nodes over CurveZMQ with signed answers.\n"
    "\n"
    "Commands:\n"
    "  init             create a directory database\n"
    "  load             load suppliers, supply points and registrations\n"
    "                   from CSV files\n"
    "  import           import a national register from the same CSV\n"
    "                   files, in batches, with progress and a report\n"
    "  change-supplier  record a change of supplier of one supply point\n"
    "  withdraw-change  withdraw a change of supplier recorded in error\n"
    "  changes          list the change log, the audit trail of changes\n"
    "  show             print one supply point and its registrations\n"
    "  add-key          register a new CURVE or signing key of a supplier\n"
    "  retire-key       end a supplier's key at a given time\n"
    "  revoke-key       refuse a compromised key at once\n"
    "  keys             list suppliers' keys and their validity\n"
    "  queries          print the query log of 'serve'\n"
    "  serve            answer nodes' queries over CURVE\n"
    "\n"
    "Run '" PROGRAM " COMMAND --help' for the options of a command.\n"
    "Exit status: 0 success, 1 failure or rejected rows, 2 usage error.\n";

static const char s_init_usage[] =
    "Usage: " PROGRAM " init --db FILE\n"
    "\n"
    "Creates the sqlite database FILE with the directory's tables, or\n"
    "checks the tables of an existing one.\n"
    "\n"
    "  --db FILE   directory database to create\n";

static const char s_load_usage[] =
    "Usage: " PROGRAM " load --db FILE [--suppliers CSV]\n"
    "           [--supply-points CSV] [--registrations CSV]\n"
    "\n"
    "Loads CSV files into the database: suppliers first, then supply\n"
    "points, then registrations, each file in one transaction. Each file\n"
    "starts with its header row. A row that fails a check is reported on\n"
    "stderr as FILE:LINE: reason and left out, and the other rows still\n"
    "load. Rows the database already holds are counted as unchanged, so\n"
    "loading the same file again adds nothing. Prints one summary line per\n"
    "file and exits 1 if any row was rejected.\n"
    "\n"
    "  --db FILE              database made by '" PROGRAM " init'\n"
    "  --suppliers CSV        mpid,name,endpoint,curve_key,sign_key\n"
    "  --supply-points CSV    mpxn,fuel,meter_id,smart,installing,head_end\n"
    "  --registrations CSV    mpxn,supplier,from,to\n"
    "\n"
    "Columns (RFC 4180 CSV: quote a field that holds a comma or a quote):\n"
    "  mpid        supplier id, 4 upper-case letters or digits\n"
    "  name        supplier name\n"
    "  endpoint    the supplier's node, tcp://HOST:PORT or ipc://PATH\n"
    "  curve_key   the node's CURVE public key: the 40 Z85 characters of\n"
    "              public-key in its NAME.cert file\n"
    "  sign_key    the node's Ed25519 public key: the 64 hex digits of\n"
    "              public-key in its NAME.sign file\n"
    "  mpxn        13-digit MPAN core (electricity) or 6 to 10 digit MPRN\n"
    "              (gas), with a valid check digit\n"
    "  fuel        electricity or gas, matching the mpxn\n"
    "  meter_id    meter serial number\n"
    "  smart       true or false\n"
    "  installing  MPID of the installing supplier, whose node serves the\n"
    "              meter\n"
    "  head_end    head-end type, which chooses the agent (such as sim)\n"
    "  supplier    MPID of the registered supplier\n"
    "  from, to    UTC times in ISO 8601 (2013-07-01 or\n"
    "              2013-07-01T00:00:00Z); to is exclusive and empty for a\n"
    "              registration that has not ended\n";

static const char s_change_usage[] =
    "Usage: " PROGRAM " change-supplier --db FILE --mpxn MPXN --to MPID\n"
    "           --at TIME\n"
    "\n"
    "Ends the open registration of the supply point at TIME, registers\n"
    "MPID from TIME, and records the change in the change log.\n"
    "\n"
    "  --db FILE    directory database\n"
    "  --mpxn MPXN  MPAN core or MPRN of the supply point\n"
    "  --to MPID    the gaining supplier\n"
    "  --at TIME    when the change takes effect, ISO 8601 UTC\n"
    "               (2013-07-01 or 2013-07-01T00:00:00Z)\n";

static const char s_withdraw_usage[] =
    "Usage: " PROGRAM " withdraw-change --db FILE --change N --reason TEXT\n"
    "\n"
    "Withdraws change of supplier N, recorded in error: deletes the\n"
    "registration it opened and reopens the one it ended, so the supply\n"
    "point is registered as before the change. The change stays in the\n"
    "change log, marked withdrawn with the reason, and the withdrawal gets\n"
    "its own change number. Only the latest change of supplier of a supply\n"
    "point that is not withdrawn can be withdrawn, and only while its two\n"
    "registrations are as it left them; withdraw later ones first.\n"
    "\n"
    "  --db FILE      directory database\n"
    "  --change N     number of the change, from '" PROGRAM " changes'\n"
    "  --reason TEXT  why it is withdrawn, one line of at most 200 bytes\n";

static const char s_changes_usage[] =
    "Usage: " PROGRAM " changes --db FILE [--mpxn MPXN] [--since N]\n"
    "\n"
    "Prints the change log in order: number, when it was recorded (UTC),\n"
    "kind, supply point and description. A withdrawn change of supplier is\n"
    "marked with the number and reason of its withdrawal.\n"
    "\n"
    "  --db FILE    directory database\n"
    "  --mpxn MPXN  only the changes recorded for this supply point (loads\n"
    "               name no supply point and are left out)\n"
    "  --since N    only the changes numbered above N (default 0: all)\n";

static const char s_show_usage[] =
    "Usage: " PROGRAM " show --db FILE --mpxn MPXN\n"
    "\n"
    "Prints a supply point, its installing supplier and its registrations.\n"
    "\n"
    "  --db FILE    directory database\n"
    "  --mpxn MPXN  MPAN core or MPRN of the supply point\n";

static const char s_queries_usage[] =
    "Usage: " PROGRAM " queries --db FILE [--query-log FILE] [--mpid MPID]\n"
    "           [--mpxn MPXN] [--since TIME]\n"
    "\n"
    "Prints the query log that 'serve' writes, oldest first: when, the\n"
    "requesting supplier, the request type, the supply point or supplier\n"
    "asked about, the reply's status and the CURVE key used.\n"
    "\n"
    "  --db FILE          directory database; the log is FILE.queries\n"
    "  --query-log FILE   the query log, when serve was given another one\n"
    "  --mpid MPID        only the queries of this supplier\n"
    "  --mpxn MPXN        only the queries about this supply point\n"
    "  --since TIME       only queries at or after TIME, ISO 8601 UTC\n";

static const char s_serve_usage[] =
    "Usage: " PROGRAM " serve --db FILE --cert FILE.cert\n"
    "           --signing-key FILE.sign_secret --bind ENDPOINT\n"
    "           [--feed ENDPOINT] [--ttl SECONDS] [--query-log FILE]\n"
    "           [--rate QUERIES_PER_SECOND --burst N]\n"
    "           [--key-warning-days DAYS] [-v]\n"
    "\n"
    "Answers dir.lookup, dir.supplier, dir.suppliers and dir.changes\n"
    "requests from the suppliers in the database, over a CURVE ROUTER\n"
    "socket, and signs every answer. Only the suppliers' CURVE keys valid\n"
    "now are admitted; the list is re-read within a second of a load or a\n"
    "key change, and when a key starts or ends. Each query is written to\n"
    "the query log. A supply point's registrations go only to its\n"
    "installing supplier and to suppliers that are or were registered for\n"
    "it. With --feed it publishes every new change on a CURVE PUB socket.\n"
    "When bound it prints\n"
    "  " PROGRAM " ready endpoint=ENDPOINT [feed=ENDPOINT]\n"
    "on stdout, with the ports actually bound, and it stops on SIGTERM or\n"
    "SIGINT.\n"
    "\n"
    "  --db FILE                     directory database\n"
    "  --cert FILE.cert              the directory's CURVE certificate\n"
    "                                (FILE.cert_secret is read beside it)\n"
    "  --signing-key FILE.sign_secret  the directory's Ed25519 key\n"
    "  --bind ENDPOINT               such as tcp://127.0.0.1:* for any\n"
    "                                free port\n"
    "  --feed ENDPOINT               where to publish the change feed\n"
    "  --ttl SECONDS                 how long nodes may cache an answer\n"
    "                                (default 60)\n"
    "  --query-log FILE              where each query is logged (sqlite;\n"
    "                                default FILE.queries beside --db)\n"
    "  --rate QUERIES_PER_SECOND     each supplier's sustained query rate;\n"
    "                                more gets rate_limited (default: no\n"
    "                                limit)\n"
    "  --burst N                     queries a supplier may send at once\n"
    "                                above the rate (default: the rate)\n"
    "  --key-warning-days DAYS       warn of keys that end within DAYS\n"
    "                                days, at start and once a day; 0 for\n"
    "                                never (default 14)\n"
    "  -v, --verbose                 log each query\n";

/* Options of every subcommand. Each subcommand rejects the ones it does
 * not take. */
typedef struct {
    const char *db;
    const char *suppliers;
    const char *supply_points;
    const char *registrations;
    const char *mpxn;
    const char *to;
    const char *at;
    const char *cert;
    const char *signing_key;
    const char *bind;
    const char *ttl;
    const char *feed;
    const char *change;
    const char *reason;
    const char *since;
    const char *rejects;
    const char *batch;
    const char *mpid;
    const char *curve_key;
    const char *sign_key;
    const char *from;
    const char *key;
    const char *query_log;
    const char *rate;
    const char *burst;
    const char *key_warning_days;
    bool verbose;
    bool help;
} s_options_t;

enum {
    O_DB = 256,
    O_SUPPLIERS,
    O_SUPPLY_POINTS,
    O_REGISTRATIONS,
    O_MPXN,
    O_TO,
    O_AT,
    O_CERT,
    O_SIGNING_KEY,
    O_BIND,
    O_TTL,
    O_FEED,
    O_CHANGE,
    O_REASON,
    O_SINCE,
    O_REJECTS,
    O_BATCH,
    O_MPID,
    O_CURVE_KEY,
    O_SIGN_KEY,
    O_FROM,
    O_KEY,
    O_QUERY_LOG,
    O_RATE,
    O_BURST,
    O_KEY_WARNING_DAYS
};

typedef struct {
    const char *name;
    const char *usage;
    const char *allowed; /* option names, space separated */
    int (*run)(const s_options_t *options);
} s_command_t;

static int s_usage_error(const s_command_t *command, const char *message)
{
    fprintf(stderr,
            PROGRAM " %s: %s\nRun '" PROGRAM " %s --help' for "
                    "usage.\n",
            command->name, message, command->name);
    return DIRECTORY_EXIT_USAGE;
}

static bool s_allowed(const s_command_t *command, const char *name)
{
    size_t length = strlen(name);
    for (const char *at = strstr(command->allowed, name); at;
         at = strstr(at + 1, name)) {
        bool starts = at == command->allowed || at[-1] == ' ';
        bool ends = at[length] == '\0' || at[length] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

static const struct option s_long_options[] = {
    {"db", required_argument, NULL, O_DB},
    {"suppliers", required_argument, NULL, O_SUPPLIERS},
    {"supply-points", required_argument, NULL, O_SUPPLY_POINTS},
    {"registrations", required_argument, NULL, O_REGISTRATIONS},
    {"mpxn", required_argument, NULL, O_MPXN},
    {"to", required_argument, NULL, O_TO},
    {"at", required_argument, NULL, O_AT},
    {"cert", required_argument, NULL, O_CERT},
    {"signing-key", required_argument, NULL, O_SIGNING_KEY},
    {"bind", required_argument, NULL, O_BIND},
    {"ttl", required_argument, NULL, O_TTL},
    {"feed", required_argument, NULL, O_FEED},
    {"change", required_argument, NULL, O_CHANGE},
    {"reason", required_argument, NULL, O_REASON},
    {"since", required_argument, NULL, O_SINCE},
    {"rejects", required_argument, NULL, O_REJECTS},
    {"batch", required_argument, NULL, O_BATCH},
    {"mpid", required_argument, NULL, O_MPID},
    {"curve-key", required_argument, NULL, O_CURVE_KEY},
    {"sign-key", required_argument, NULL, O_SIGN_KEY},
    {"from", required_argument, NULL, O_FROM},
    {"key", required_argument, NULL, O_KEY},
    {"query-log", required_argument, NULL, O_QUERY_LOG},
    {"rate", required_argument, NULL, O_RATE},
    {"burst", required_argument, NULL, O_BURST},
    {"key-warning-days", required_argument, NULL, O_KEY_WARNING_DAYS},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* Stores one parsed option, or returns false when the command does not
 * take it. */
static bool s_store_option(const s_command_t *command, int code,
                           const char *value, s_options_t *options)
{
    const char **slots[] = {
        [O_DB - O_DB] = &options->db,
        [O_SUPPLIERS - O_DB] = &options->suppliers,
        [O_SUPPLY_POINTS - O_DB] = &options->supply_points,
        [O_REGISTRATIONS - O_DB] = &options->registrations,
        [O_MPXN - O_DB] = &options->mpxn,
        [O_TO - O_DB] = &options->to,
        [O_AT - O_DB] = &options->at,
        [O_CERT - O_DB] = &options->cert,
        [O_SIGNING_KEY - O_DB] = &options->signing_key,
        [O_BIND - O_DB] = &options->bind,
        [O_TTL - O_DB] = &options->ttl,
        [O_FEED - O_DB] = &options->feed,
        [O_CHANGE - O_DB] = &options->change,
        [O_REASON - O_DB] = &options->reason,
        [O_SINCE - O_DB] = &options->since,
        [O_REJECTS - O_DB] = &options->rejects,
        [O_BATCH - O_DB] = &options->batch,
        [O_MPID - O_DB] = &options->mpid,
        [O_CURVE_KEY - O_DB] = &options->curve_key,
        [O_SIGN_KEY - O_DB] = &options->sign_key,
        [O_FROM - O_DB] = &options->from,
        [O_KEY - O_DB] = &options->key,
        [O_QUERY_LOG - O_DB] = &options->query_log,
        [O_RATE - O_DB] = &options->rate,
        [O_BURST - O_DB] = &options->burst,
        [O_KEY_WARNING_DAYS - O_DB] = &options->key_warning_days,
    };
    if (code == 'h') {
        options->help = true;
        return true;
    }
    const char *name =
        code == 'v' ? "verbose" : s_long_options[code - O_DB].name;
    if (!s_allowed(command, name))
        return false;
    if (code == 'v')
        options->verbose = true;
    else
        *slots[code - O_DB] = value;
    return true;
}

static int s_parse_options(const s_command_t *command, int argc, char **argv,
                           s_options_t *options)
{
    char message[256];
    optind = 1;
    opterr = 0;
    int code;
    while ((code = getopt_long(argc, argv, ":hv", s_long_options, NULL)) !=
           -1) {
        const char *word = argv[optind - 1];
        if (code == '?' || code == ':') {
            snprintf(message, sizeof message, "%s option '%s'",
                     code == '?' ? "unknown" : "missing value for", word);
            return s_usage_error(command, message);
        }
        if (!s_store_option(command, code, optarg, options)) {
            snprintf(message, sizeof message,
                     "option --%s does not apply to this command",
                     code == 'v' ? "verbose"
                                 : s_long_options[code - O_DB].name);
            return s_usage_error(command, message);
        }
    }
    if (optind < argc) {
        snprintf(message, sizeof message, "unexpected argument '%s'",
                 argv[optind]);
        return s_usage_error(command, message);
    }
    return DIRECTORY_EXIT_OK;
}

/* Reports a usage error when the required option name has no value. */
static int s_require(const s_command_t *command, const char *name,
                     const char *value)
{
    if (value)
        return DIRECTORY_EXIT_OK;
    char message[128];
    snprintf(message, sizeof message, "missing option --%s", name);
    return s_usage_error(command, message);
}

static directory_db_t *s_open_db(const char *path, bool create)
{
    char error[512];
    directory_db_t *db = directory_db_open(path, create, error, sizeof error);
    if (!db)
        fprintf(stderr, PROGRAM ": %s\n", error);
    return db;
}

/* init */

static int s_run_init(const s_options_t *options)
{
    directory_db_t *db = s_open_db(options->db, true);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    directory_db_destroy(&db);
    printf("directory database %s is ready (schema version %d)\n", options->db,
           DIRECTORY_DB_SCHEMA_VERSION);
    return DIRECTORY_EXIT_OK;
}

/* load */

static void s_print_counts(const char *path,
                           const directory_load_counts_t *counts)
{
    printf("%s: %zu added, %zu updated, %zu unchanged, %zu rejected\n", path,
           counts->added, counts->updated, counts->unchanged, counts->rejected);
}

/* Loads one file when path is given; returns false on a failure that
 * stopped the file from loading. */
static bool s_load_one(directory_db_t *db, directory_table_t table,
                       const char *path, directory_load_counts_t *total)
{
    if (!path)
        return true;
    char error[512];
    directory_load_counts_t counts = {0};
    if (directory_load_file(db, table, path, stderr, &counts, error,
                            sizeof error) != 0) {
        fprintf(stderr, PROGRAM ": %s; nothing of this file was loaded\n",
                error);
        return false;
    }
    s_print_counts(path, &counts);
    total->added += counts.added;
    total->updated += counts.updated;
    total->unchanged += counts.unchanged;
    total->rejected += counts.rejected;
    return true;
}

static int s_run_load(const s_options_t *options)
{
    if (!options->suppliers && !options->supply_points &&
        !options->registrations) {
        fprintf(stderr, PROGRAM " load: give at least one of --suppliers, "
                                "--supply-points or --registrations\n");
        return DIRECTORY_EXIT_USAGE;
    }
    directory_db_t *db = s_open_db(options->db, false);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    directory_load_counts_t total = {0};
    bool ok = s_load_one(db, DIRECTORY_SUPPLIERS, options->suppliers, &total);
    ok = s_load_one(db, DIRECTORY_SUPPLY_POINTS, options->supply_points,
                    &total) &&
         ok;
    ok = s_load_one(db, DIRECTORY_REGISTRATIONS, options->registrations,
                    &total) &&
         ok;
    directory_db_destroy(&db);
    printf("loaded %zu rows (%zu added, %zu updated, %zu unchanged), "
           "rejected %zu\n",
           total.added + total.updated + total.unchanged, total.added,
           total.updated, total.unchanged, total.rejected);
    return ok && total.rejected == 0 ? DIRECTORY_EXIT_OK
                                     : DIRECTORY_EXIT_FAILED;
}

/* import */

static int s_run_import(const s_options_t *options)
{
    const char *paths[DIRECTORY_TABLE_COUNT] = {
        [DIRECTORY_SUPPLIERS] = options->suppliers,
        [DIRECTORY_SUPPLY_POINTS] = options->supply_points,
        [DIRECTORY_REGISTRATIONS] = options->registrations};
    return directory_import_command(options->db, paths, options->rejects,
                                    options->batch);
}

/* change-supplier */

static int s_run_change(const s_options_t *options)
{
    int64_t at_ms;
    if (clock_parse_iso(options->at, &at_ms) != 0) {
        fprintf(stderr,
                PROGRAM " change-supplier: invalid --at '%s': use an ISO "
                        "8601 UTC time such as 2013-07-01T00:00:00Z\n",
                options->at);
        return DIRECTORY_EXIT_USAGE;
    }
    directory_db_t *db = s_open_db(options->db, false);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[512], at[CLOCK_ISO_SIZE];
    uint64_t number;
    int rc = directory_change_supplier(db, options->mpxn, options->to, at_ms,
                                       &number, error, sizeof error);
    directory_db_destroy(&db);
    if (rc != 0) {
        fprintf(stderr, PROGRAM " change-supplier: %s\n", error);
        return DIRECTORY_EXIT_FAILED;
    }
    printf("supply point %s registered to %s from %s (change %llu)\n",
           options->mpxn, options->to, clock_format_iso(at_ms, at),
           (unsigned long long)number);
    return DIRECTORY_EXIT_OK;
}

/* withdraw-change and changes */

/* Parses a change number: digits only, at most UINT64_MAX. */
static bool s_parse_number(const char *text, uint64_t *number)
{
    if (!text || !*text || strspn(text, "0123456789") != strlen(text))
        return false;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *number = value;
    return true;
}

static int s_run_withdraw(const s_options_t *options)
{
    uint64_t number;
    if (!s_parse_number(options->change, &number) || number == 0) {
        fprintf(stderr,
                PROGRAM " withdraw-change: invalid --change '%s': use the "
                        "number of a change, 1 or more, from '" PROGRAM
                        " changes'\n",
                options->change);
        return DIRECTORY_EXIT_USAGE;
    }
    directory_db_t *db = s_open_db(options->db, false);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[768];
    uint64_t withdrawal;
    directory_supplier_change_t change;
    int rc = directory_withdraw_change(db, number, options->reason, &withdrawal,
                                       error, sizeof error);
    if (rc == 0 && directory_db_get_supplier_change(db, number, &change, error,
                                                    sizeof error) != 1)
        rc = -1;
    directory_db_destroy(&db);
    if (rc != 0) {
        fprintf(stderr, PROGRAM " withdraw-change: %s\n", error);
        return DIRECTORY_EXIT_FAILED;
    }
    printf("supply point %s: change %llu withdrawn (change %llu); "
           "registered to %s again\n",
           change.mpxn, (unsigned long long)number,
           (unsigned long long)withdrawal,
           change.losing[0] ? change.losing : "nobody");
    return DIRECTORY_EXIT_OK;
}

static void s_print_change(const directory_change_row_t *row)
{
    char at[CLOCK_ISO_SIZE];
    printf("%6llu  %-24s  %-18s  %-13s  %s",
           (unsigned long long)row->change.number,
           clock_format_iso(row->change.at_ms, at), row->change.kind,
           row->change.mpxn[0] ? row->change.mpxn : "-", row->description);
    if (row->withdrawn_by != 0)
        printf(" [withdrawn by change %llu: %s]",
               (unsigned long long)row->withdrawn_by, row->withdrawal_reason);
    printf("\n");
}

/* Prints the changes after since, a page at a time. */
static int s_print_changes(directory_db_t *db, const char *mpxn, uint64_t since,
                           char *error, size_t error_size)
{
    directory_change_row_t *rows = calloc(DIR_CHANGES_MAX, sizeof *rows);
    if (!rows) {
        snprintf(error, error_size, "out of memory for the change log");
        return -1;
    }
    printf("%6s  %-24s  %-18s  %-13s  %s\n", "change", "recorded", "kind",
           "mpxn", "description");
    size_t count = DIR_CHANGES_MAX;
    int rc = 0;
    while (rc == 0 && count == DIR_CHANGES_MAX) {
        rc = directory_db_list_changes(db, since, mpxn, rows, DIR_CHANGES_MAX,
                                       &count, error, error_size);
        for (size_t i = 0; rc == 0 && i < count; i++)
            s_print_change(&rows[i]);
        if (count > 0)
            since = rows[count - 1].change.number;
    }
    free(rows);
    return rc;
}

static int s_run_changes(const s_options_t *options)
{
    uint64_t since = 0;
    char error[512];
    if (options->since && !s_parse_number(options->since, &since)) {
        fprintf(stderr,
                PROGRAM " changes: invalid --since '%s': use a change "
                        "number, 0 or more\n",
                options->since);
        return DIRECTORY_EXIT_USAGE;
    }
    if (options->mpxn &&
        mpxn_classify(options->mpxn, error, sizeof error) == MPXN_INVALID) {
        fprintf(stderr, PROGRAM " changes: %s\n", error);
        return DIRECTORY_EXIT_USAGE;
    }
    directory_db_t *db = s_open_db(options->db, false);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    int rc = s_print_changes(db, options->mpxn, since, error, sizeof error);
    directory_db_destroy(&db);
    if (rc != 0) {
        fprintf(stderr, PROGRAM " changes: %s\n", error);
        return DIRECTORY_EXIT_FAILED;
    }
    return DIRECTORY_EXIT_OK;
}

/* show */

static int s_run_show(const s_options_t *options)
{
    directory_db_t *db = s_open_db(options->db, false);
    if (!db)
        return DIRECTORY_EXIT_FAILED;
    char error[512];
    int found = directory_show_supply_point(db, options->mpxn, stdout, error,
                                            sizeof error);
    directory_db_destroy(&db);
    if (found == 0)
        fprintf(stderr, PROGRAM " show: supply point '%s' is not in %s\n",
                options->mpxn, options->db);
    else if (found < 0)
        fprintf(stderr, PROGRAM " show: %s\n", error);
    return found == 1 ? DIRECTORY_EXIT_OK : DIRECTORY_EXIT_FAILED;
}

/* Key commands */

static int s_run_add_key(const s_options_t *options)
{
    return directory_add_key_command(options->db, options->mpid,
                                     options->curve_key, options->sign_key,
                                     options->from, options->to);
}

static int s_run_retire_key(const s_options_t *options)
{
    return directory_retire_key_command(options->db, options->mpid,
                                        options->key, options->at);
}

static int s_run_revoke_key(const s_options_t *options)
{
    return directory_revoke_key_command(
        options->db, options->mpid, options->key, options->reason, options->at);
}

static int s_run_keys(const s_options_t *options)
{
    return directory_keys_command(options->db, options->mpid);
}

/* queries */

static int s_run_queries(const s_options_t *options)
{
    char error[512], path[PATH_MAX];
    int64_t since = INT64_MIN;
    if (options->since && clock_parse_iso(options->since, &since) != 0) {
        fprintf(stderr,
                PROGRAM " queries: invalid --since '%s': use an ISO 8601 UTC "
                        "time such as 2026-07-01T00:00:00Z\n",
                options->since);
        return DIRECTORY_EXIT_USAGE;
    }
    if (options->mpxn &&
        mpxn_classify(options->mpxn, error, sizeof error) == MPXN_INVALID) {
        fprintf(stderr, PROGRAM " queries: %s\n", error);
        return DIRECTORY_EXIT_USAGE;
    }
    if (options->query_log)
        snprintf(path, sizeof path, "%s", options->query_log);
    else
        snprintf(path, sizeof path, "%s.queries", options->db);
    if (directory_query_log_print(path, options->mpid, options->mpxn, since,
                                  stdout, error, sizeof error) != 0) {
        fprintf(stderr, PROGRAM " queries: %s\n", error);
        return DIRECTORY_EXIT_FAILED;
    }
    return DIRECTORY_EXIT_OK;
}

/* serve */

static bool s_parse_ttl(const char *text, int *seconds)
{
    if (!text) {
        *seconds = 60;
        return true;
    }
    char *end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 1 || value > 86400)
        return false;
    *seconds = (int)value;
    return true;
}

/* Parses a whole number from 0 (when zero_ok) or 1 to max; a missing text
 * gives fallback. */
static bool s_parse_count(const char *text, long fallback, bool zero_ok,
                          long max, long *value)
{
    if (!text) {
        *value = fallback;
        return true;
    }
    char *end;
    errno = 0;
    long parsed = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno != 0 ||
        parsed < (zero_ok ? 0 : 1) || parsed > max)
        return false;
    *value = parsed;
    return true;
}

/* Reads --rate, --burst, --key-warning-days and --query-log into config;
 * query_log (PATH_MAX bytes) holds the log's path. */
static int s_parse_access_options(const s_options_t *options,
                                  directory_server_config_t *config,
                                  char *query_log)
{
    long rate, burst, days;
    if (!s_parse_count(options->rate, 0, false, DIRECTORY_RATE_MAX, &rate) ||
        !s_parse_count(options->burst, rate, false, DIRECTORY_RATE_MAX,
                       &burst)) {
        fprintf(stderr,
                PROGRAM " serve: invalid --rate '%s' or --burst '%s': use "
                        "whole numbers of queries from 1 to %d\n",
                options->rate ? options->rate : "",
                options->burst ? options->burst : "", DIRECTORY_RATE_MAX);
        return DIRECTORY_EXIT_USAGE;
    }
    if (options->burst && !options->rate) {
        fprintf(stderr, PROGRAM " serve: --burst needs --rate\n");
        return DIRECTORY_EXIT_USAGE;
    }
    if (!s_parse_count(options->key_warning_days, 14, true, 3650, &days)) {
        fprintf(stderr,
                PROGRAM " serve: invalid --key-warning-days '%s': use whole "
                        "days from 0 (no warnings) to 3650\n",
                options->key_warning_days);
        return DIRECTORY_EXIT_USAGE;
    }
    config->rate_per_second = (uint32_t)rate;
    config->rate_burst = (uint32_t)burst;
    config->key_warning_ms = (int64_t)days * 24 * 3600 * 1000;
    snprintf(query_log, PATH_MAX, "%s",
             options->query_log ? options->query_log : "");
    if (!options->query_log)
        snprintf(query_log, PATH_MAX, "%s.queries", options->db);
    config->query_log_path = query_log;
    return DIRECTORY_EXIT_OK;
}

/* Serves until SIGTERM or SIGINT; czmq's signal handler sets
 * zsys_interrupted. */
static int s_serve_until_stopped(const directory_server_config_t *config)
{
    char error[512];
    directory_server_t *server =
        directory_server_new(config, error, sizeof error);
    if (!server) {
        log_error("directory did not start: %s", error);
        return DIRECTORY_EXIT_FAILED;
    }
    const char *feed = directory_server_feed_endpoint(server);
    if (feed[0])
        printf(PROGRAM " ready endpoint=%s feed=%s\n",
               directory_server_endpoint(server), feed);
    else
        printf(PROGRAM " ready endpoint=%s\n",
               directory_server_endpoint(server));
    fflush(stdout);
    log_info("directory serving endpoint=%s feed=%s db=%s ttl_s=%d "
             "query_log=%s rate=%u burst=%u",
             directory_server_endpoint(server), feed[0] ? feed : "(none)",
             config->db_path, config->ttl_seconds, config->query_log_path,
             config->rate_per_second, config->rate_burst);
    while (!zsys_interrupted)
        zclock_sleep(100);
    log_info("directory stopping endpoint=%s",
             directory_server_endpoint(server));
    directory_server_destroy(&server);
    log_info("directory stopped");
    return DIRECTORY_EXIT_OK;
}

static int s_run_serve(const s_options_t *options)
{
    int ttl;
    if (!s_parse_ttl(options->ttl, &ttl)) {
        fprintf(stderr,
                PROGRAM " serve: invalid --ttl '%s': use whole seconds from "
                        "1 to 86400\n",
                options->ttl);
        return DIRECTORY_EXIT_USAGE;
    }
    directory_server_config_t config = {.db_path = options->db,
                                        .endpoint = options->bind,
                                        .feed_endpoint = options->feed,
                                        .ttl_seconds = ttl};
    char query_log[PATH_MAX];
    int code = s_parse_access_options(options, &config, query_log);
    if (code != DIRECTORY_EXIT_OK)
        return code;
    log_init(PROGRAM, options->verbose);
    char error[512];
    zcert_t *cert = keys_load_cert(options->cert, error, sizeof error);
    signer_t *signer =
        cert ? keys_load_signer(options->signing_key, error, sizeof error)
             : NULL;
    int rc = DIRECTORY_EXIT_FAILED;
    if (!signer)
        log_error("directory did not start: %s", error);
    else {
        config.cert = cert;
        config.signer = signer;
        rc = s_serve_until_stopped(&config);
    }
    signer_destroy(&signer);
    zcert_destroy(&cert);
    return rc;
}

/* Dispatch */

/* Returns true when command takes the option name but can do without it,
 * although other commands require it. */
static bool s_optional(const s_command_t *command, const char *name)
{
    static const char *const optional[][2] = {
        {"changes", "mpxn"},     {"add-key", "to"},    {"add-key", "curve-key"},
        {"add-key", "sign-key"}, {"revoke-key", "at"}, {"keys", "mpid"},
        {"queries", "mpid"},     {"queries", "mpxn"}};
    for (size_t i = 0; i < sizeof optional / sizeof *optional; i++)
        if (strcmp(command->name, optional[i][0]) == 0 &&
            strcmp(name, optional[i][1]) == 0)
            return true;
    return false;
}

static int s_check_required(const s_command_t *command,
                            const s_options_t *options)
{
    struct {
        const char *name;
        const char *value;
    } required[] = {
        {"db", options->db},         {"mpxn", options->mpxn},
        {"to", options->to},         {"at", options->at},
        {"cert", options->cert},     {"signing-key", options->signing_key},
        {"bind", options->bind},     {"change", options->change},
        {"reason", options->reason}, {"mpid", options->mpid},
        {"from", options->from},     {"key", options->key}};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        if (s_allowed(command, required[i].name) &&
            !s_optional(command, required[i].name) &&
            s_require(command, required[i].name, required[i].value) !=
                DIRECTORY_EXIT_OK)
            return DIRECTORY_EXIT_USAGE;
    }
    return DIRECTORY_EXIT_OK;
}

static const s_command_t s_commands[] = {
    {"init", s_init_usage, "db", s_run_init},
    {"load", s_load_usage, "db suppliers supply-points registrations",
     s_run_load},
    {"import", directory_import_usage,
     "db suppliers supply-points registrations rejects batch", s_run_import},
    {"change-supplier", s_change_usage, "db mpxn to at", s_run_change},
    {"withdraw-change", s_withdraw_usage, "db change reason", s_run_withdraw},
    {"changes", s_changes_usage, "db mpxn since", s_run_changes},
    {"show", s_show_usage, "db mpxn", s_run_show},
    {"add-key", directory_add_key_usage, "db mpid curve-key sign-key from to",
     s_run_add_key},
    {"retire-key", directory_retire_key_usage, "db mpid key at",
     s_run_retire_key},
    {"revoke-key", directory_revoke_key_usage, "db mpid key reason at",
     s_run_revoke_key},
    {"keys", directory_keys_usage, "db mpid", s_run_keys},
    {"queries", s_queries_usage, "db query-log mpid mpxn since", s_run_queries},
    {"serve", s_serve_usage,
     "db cert signing-key bind feed ttl query-log rate burst "
     "key-warning-days verbose",
     s_run_serve},
};

static const s_command_t *s_find_command(const char *name)
{
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        if (strcmp(s_commands[i].name, name) == 0)
            return &s_commands[i];
    return NULL;
}

int directory_cli_run(int argc, char **argv)
{
    if (argc < 2) {
        fputs(s_usage, stderr);
        return DIRECTORY_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(s_usage, stdout);
        return DIRECTORY_EXIT_OK;
    }
    const s_command_t *command = s_find_command(argv[1]);
    if (!command) {
        fprintf(stderr,
                PROGRAM ": unknown command '%s'\nRun '" PROGRAM
                        " --help' for the list of commands.\n",
                argv[1]);
        return DIRECTORY_EXIT_USAGE;
    }
    s_options_t options = {0};
    int rc = s_parse_options(command, argc - 1, argv + 1, &options);
    if (rc != DIRECTORY_EXIT_OK)
        return rc;
    if (options.help) {
        fputs(command->usage, stdout);
        return DIRECTORY_EXIT_OK;
    }
    rc = s_check_required(command, &options);
    if (rc != DIRECTORY_EXIT_OK)
        return rc;
    return command->run(&options);
}
