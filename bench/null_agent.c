/* A benchmark agent that serves read.registers and read.supply for
 * head-end type "sim" from memory, with no database, so that a benchmark
 * can measure the node without the cost of the sim agent's queries.
 *
 * The replies have the shape of the sim agent's replies: one import
 * register with its read time, or a connected supply. Their values are
 * fixed, so this agent is only for measuring, never for real meters.
 */
#include <czmq.h>
#include <string.h>

#include "agent.h"
#include "clock.h"
#include "envelope.h"
#include "log.h"

#define NULL_AGENT_READ_AT_MS 1388534400000 /* 2014-01-01T00:00:00Z */
#define NULL_AGENT_IMPORT_WH  4214648

static const char s_usage[] =
    "usage: null_agent --connect ENDPOINT [--name NAME]\n"
    "\n"
    "Connects to a node's agent endpoint (ipc://HOME/run/agents) as an\n"
    "agent for head-end type \"sim\" and answers read.registers and\n"
    "read.supply with fixed values, without a database. For benchmarks\n"
    "only. Prints 'null_agent ready endpoint=ENDPOINT' once connected and\n"
    "runs until SIGTERM or SIGINT.\n";

static void s_handle(void *arg, const agent_request_t *request,
                     agent_response_t *response)
{
    (void)arg;
    msgpack_packer *packer = &response->packer;
    if (strcmp(request->request, "read.registers") == 0) {
        msgpack_pack_map(packer, 2);
        mp_pack_kv_i64(packer, "read_at", NULL_AGENT_READ_AT_MS);
        mp_pack_cstr(packer, "registers");
        msgpack_pack_array(packer, 1);
        msgpack_pack_map(packer, 3);
        mp_pack_kv_str(packer, "obis", "1-0:1.8.0*255");
        mp_pack_kv_str(packer, "name", "import");
        mp_pack_kv_i64(packer, "wh", NULL_AGENT_IMPORT_WH);
    } else if (strcmp(request->request, "read.supply") == 0) {
        msgpack_pack_map(packer, 2);
        mp_pack_kv_str(packer, "status", "connected");
        mp_pack_kv_i64(packer, "checked_at", clock_now_ms());
    } else {
        agent_response_fail(response, STATUS_UNSUPPORTED,
                            "the benchmark agent serves only read.registers "
                            "and read.supply, not %s",
                            request->request);
        return;
    }
    response->units = 1;
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *name = "null-agent";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
            endpoint = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else {
            fputs(s_usage, strcmp(argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (!endpoint) {
        fputs(s_usage, stderr);
        return 2;
    }
    zsys_init();
    log_init("null_agent", false);
    const char *head_ends[] = {"sim"};
    agent_config_t config = {.endpoint = endpoint,
                             .name = name,
                             .head_ends = head_ends,
                             .head_end_count = 1,
                             .handler = s_handle};
    agent_t *agent = agent_new(&config);
    if (!agent)
        return 1;
    printf("null_agent ready endpoint=%s\n", endpoint);
    fflush(stdout);
    agent_run(agent, NULL);
    agent_destroy(&agent);
    return 0;
}
