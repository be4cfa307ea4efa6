/* sdx-agent-sim: imports LCL half-hourly files into the sim database,
 * lists its meters, and runs the sim agent against a node. */
#include "log.h"
#include "sim_agent.h"
#include "sim_import.h"
#include "sim_store.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#define EXIT_USAGE 2
/* Bad rows printed one by one before the rest are only counted. */
#define MAX_REPORTED_ROWS 50

static const char *s_usage =
    "usage: sdx-agent-sim COMMAND [OPTIONS]\n"
    "\n"
    "The sim agent replays recorded half-hourly meter data as a head end.\n"
    "\n"
    "commands:\n"
    "  import --db FILE CSV_OR_DIR...    load LCL half-hourly CSV files\n"
    "  meters --db FILE [--csv]          list the simulated meters\n"
    "  run --db FILE --connect ENDPOINT [--name NAME]\n"
    "                                    serve the node at ENDPOINT\n"
    "\n"
    "Run 'sdx-agent-sim COMMAND --help' for a command's options.\n";

static const char *s_import_usage =
    "usage: sdx-agent-sim import --db FILE CSV_OR_DIR...\n"
    "\n"
    "Loads Low Carbon London half-hourly CSV files (header\n"
    "LCLid,tstp,energy(kWh/hh)) into the sim database, creating it if\n"
    "needed. A folder means every *.csv file in it. Each household becomes\n"
    "a meter with a synthetic MPAN core; tstp is read as the UTC start of\n"
    "its half hour, and kWh values are stored as whole Wh.\n"
    "\n"
    "Bad rows are printed as FILE:LINE: REASON and skipped; the rest still\n"
    "loads, and importing a file again changes nothing. Progress goes to\n"
    "stderr, the summary to stdout.\n"
    "\n"
    "  --db FILE    the sim database (sqlite)\n"
    "  --help       print this help\n"
    "\n"
    "Exit status: 0 when every file was read (even with bad rows), 1 when\n"
    "a file could not be imported, 2 on a usage error.\n";

static const char *s_meters_usage =
    "usage: sdx-agent-sim meters --db FILE [--csv]\n"
    "\n"
    "Prints one line per meter: mpxn,meter_id,fuel,head_end,household.\n"
    "\n"
    "  --db FILE    the sim database (sqlite)\n"
    "  --csv        print a header and the columns\n"
    "               mpxn,fuel,meter_id,smart,head_end,household, ready to\n"
    "               be turned into directory supply-point rows\n"
    "  --help       print this help\n";

static const char *s_run_usage =
    "usage: sdx-agent-sim run --db FILE --connect ENDPOINT [--name NAME]\n"
    "\n"
    "Connects to the node's agent endpoint and serves its requests for\n"
    "head-end type sim until SIGTERM or SIGINT. Prints\n"
    "'sdx-agent-sim ready endpoint=ENDPOINT meters=N' once serving.\n"
    "\n"
    "  --db FILE           the sim database, filled by 'import'\n"
    "  --connect ENDPOINT  the node's agent endpoint, such as\n"
    "                      ipc:///var/run/sdx/agents\n"
    "  --name NAME         this agent's name in the node's logs (sim)\n"
    "  --verbose           log every request\n"
    "  --help              print this help\n";

typedef struct {
    const char *db;
    const char *connect;
    const char *name;
    bool csv;
    bool verbose;
    int first_operand;
} options_t;

static int s_usage_error(const char *usage, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int s_usage_error(const char *usage, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "sdx-agent-sim: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n\n%s", usage);
    va_end(args);
    return EXIT_USAGE;
}

static const char *s_option_name(const struct option *options, int code)
{
    for (; options->name; options++) {
        if (options->val == code)
            return options->name;
    }
    return "?";
}

/* Parses the options of a command; allowed lists the short codes of the
 * options it takes. Returns 0, 1 after printing help, or EXIT_USAGE after
 * printing a usage error. */
static int s_parse(int argc, char **argv, const char *usage,
                   const char *allowed, options_t *options)
{
    static const struct option long_options[] = {
        {"db", required_argument, NULL, 'd'},
        {"connect", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"csv", no_argument, NULL, 'v'},
        {"verbose", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    memset(options, 0, sizeof *options);
    options->name = SIM_HEAD_END;
    opterr = 0;
    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
        if (option != '?' && option != 'h' && !strchr(allowed, option))
            return s_usage_error(
                usage, "option '--%s' is not used by this command; remove it",
                s_option_name(long_options, option));
        switch (option) {
        case 'd':
            options->db = optarg;
            break;
        case 'c':
            options->connect = optarg;
            break;
        case 'n':
            options->name = optarg;
            break;
        case 'v':
            options->csv = true;
            break;
        case 'V':
            options->verbose = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            return s_usage_error(
                usage,
                "unknown option or missing value in '%s'; see the usage below",
                argv[optind - 1]);
        }
    }
    options->first_operand = optind;
    return 0;
}

typedef struct {
    size_t reported;
    size_t bad_rows;
} report_state_t;

static void s_report_row(void *arg, const char *file, size_t line,
                         const char *reason)
{
    report_state_t *state = arg;
    if (line == 0) {
        fprintf(stderr, "sdx-agent-sim: %s: %s\n", file, reason);
        return;
    }
    state->bad_rows++;
    if (state->reported++ < MAX_REPORTED_ROWS)
        fprintf(stderr, "%s:%zu: %s\n", file, line, reason);
}

static void s_report_progress(void *arg, const char *file,
                              const sim_import_stats_t *stats)
{
    (void)arg;
    fprintf(stderr,
            "sdx-agent-sim: import progress: files=%zu rows=%zu "
            "current=%s\n",
            stats->files, stats->rows, file);
}

static int s_check_db(const options_t *options, const char *usage)
{
    if (!options->db)
        return s_usage_error(usage, "missing --db FILE: name the sim "
                                    "database");
    return 0;
}

static int s_import(int argc, char **argv)
{
    options_t options;
    int rc = s_parse(argc, argv, s_import_usage, "d", &options);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((rc = s_check_db(&options, s_import_usage)) != 0)
        return rc;
    if (options.first_operand >= argc)
        return s_usage_error(s_import_usage,
                             "missing CSV_OR_DIR: name at least one CSV file "
                             "or folder to import");

    char error[512];
    sim_store_t *store = sim_store_open(options.db, error, sizeof error);
    if (!store) {
        fprintf(stderr, "sdx-agent-sim: %s\n", error);
        return 1;
    }
    report_state_t state = {0};
    sim_import_options_t import_options = {s_report_row, &state,
                                           s_report_progress, NULL};
    sim_import_stats_t stats = {0};
    int failed = 0;
    for (int i = options.first_operand; i < argc; i++) {
        if (sim_import_path(store, argv[i], &import_options, &stats) != 0)
            failed = 1;
    }
    sim_store_close(&store);
    if (state.reported > MAX_REPORTED_ROWS)
        fprintf(stderr, "sdx-agent-sim: %zu more bad rows not shown\n",
                state.reported - MAX_REPORTED_ROWS);
    printf("import done: files=%zu rows=%zu new=%zu already_stored=%zu "
           "rounded=%zu rejected=%zu meters_added=%zu\n",
           stats.files, stats.rows, stats.inserted, stats.unchanged,
           stats.rounded, stats.rejected, stats.meters_added);
    return failed;
}

static void s_print_meter(void *arg, const sim_meter_t *meter)
{
    const bool *csv = arg;
    if (*csv)
        printf("%s,%s,%s,true,%s,%s\n", meter->mpxn, meter->fuel,
               meter->meter_id, meter->head_end, meter->household);
    else
        printf("%s,%s,%s,%s,%s\n", meter->mpxn, meter->meter_id, meter->fuel,
               meter->head_end, meter->household);
}

static int s_meters(int argc, char **argv)
{
    options_t options;
    int rc = s_parse(argc, argv, s_meters_usage, "dv", &options);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((rc = s_check_db(&options, s_meters_usage)) != 0)
        return rc;
    if (options.first_operand < argc)
        return s_usage_error(s_meters_usage, "unexpected argument '%s'",
                             argv[options.first_operand]);

    char error[512];
    sim_store_t *store = sim_store_open(options.db, error, sizeof error);
    if (!store) {
        fprintf(stderr, "sdx-agent-sim: %s\n", error);
        return 1;
    }
    if (options.csv)
        printf("mpxn,fuel,meter_id,smart,head_end,household\n");
    int64_t count = sim_store_each_meter(store, s_print_meter, &options.csv);
    sim_store_close(&store);
    return count < 0 ? 1 : 0;
}

/* Waits for SIGTERM or SIGINT, or for the agent's thread to end. */
static void s_wait(sim_agent_t *agent)
{
    zpoller_t *poller = zpoller_new(sim_agent_actor(agent), NULL);
    assert(poller);
    while (!zsys_interrupted) {
        /* The signal may land on another thread, so poll with a timeout
         * and check the flag. */
        if (zpoller_wait(poller, 200)) {
            log_error("sim agent thread ended unexpectedly, stopping");
            break;
        }
    }
    zpoller_destroy(&poller);
}

static int s_run(int argc, char **argv)
{
    options_t options;
    int rc = s_parse(argc, argv, s_run_usage, "dcnV", &options);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((rc = s_check_db(&options, s_run_usage)) != 0)
        return rc;
    if (!options.connect)
        return s_usage_error(s_run_usage,
                             "missing --connect ENDPOINT: give the node's "
                             "agent endpoint");
    if (options.first_operand < argc)
        return s_usage_error(s_run_usage, "unexpected argument '%s'",
                             argv[options.first_operand]);
    if (access(options.db, R_OK | W_OK) != 0) {
        fprintf(stderr,
                "sdx-agent-sim: cannot use the database '%s': %s; create it "
                "with 'sdx-agent-sim import --db %s CSV_OR_DIR'\n",
                options.db, strerror(errno), options.db);
        return 1;
    }
    if (options.verbose)
        log_init("sdx-agent-sim", true);
    sim_agent_t *agent =
        sim_agent_new_named(options.db, options.connect, options.name);
    if (!agent)
        return 1;
    printf("sdx-agent-sim ready endpoint=%s meters=%zu\n", options.connect,
           sim_agent_meter_count(agent));
    fflush(stdout);
    s_wait(agent);
    sim_agent_destroy(&agent);
    log_info("sdx-agent-sim stopped");
    return 0;
}

int main(int argc, char **argv)
{
    log_init("sdx-agent-sim", false);
    if (argc < 2)
        return s_usage_error(s_usage, "missing COMMAND");
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "help") == 0) {
        fputs(s_usage, stdout);
        return 0;
    }
    if (strcmp(command, "import") == 0)
        return s_import(argc - 1, argv + 1);
    if (strcmp(command, "meters") == 0)
        return s_meters(argc - 1, argv + 1);
    if (strcmp(command, "run") == 0)
        return s_run(argc - 1, argv + 1);
    return s_usage_error(s_usage, "unknown command '%s'", command);
}
