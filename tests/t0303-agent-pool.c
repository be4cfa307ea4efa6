/* The node's agent pool against real agents over ipc in a temporary
 * folder: the sim agent, round-robin balancing, timeouts, malformed
 * messages and a node restart. */
#include "agent.h"
#include "agent_pool.h"
#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "sim_agent.h"
#include "sim_import.h"
#include "tap.h"

#include <unistd.h>

#define WAIT_MS 5000

static char s_folder[] = "/tmp/sdx-t0303-XXXXXX";
static char s_endpoint[256];
static char s_db[256];

static void s_make_db(void)
{
    char csv[256];
    snprintf(csv, sizeof csv, "%s/MAC000002.csv", s_folder);
    FILE *file = fopen(csv, "w");
    if (!file)
        bail_out("cannot write %s", csv);
    fprintf(file, "LCLid,tstp,energy(kWh/hh)\n");
    for (int slot = 0; slot < 96; slot++)
        fprintf(file, "MAC000002,2013-07-%02d %02d:%02d:00, 0.%03d \n",
                1 + slot / 48, slot % 48 / 2, slot % 2 * 30, 100 + slot);
    fclose(file);

    char error[256];
    sim_store_t *store = sim_store_open(s_db, error, sizeof error);
    if (!store)
        bail_out("%s", error);
    sim_import_stats_t stats = {0};
    if (sim_import_file(store, csv, NULL, &stats) != 0 || stats.inserted != 96)
        bail_out("import of %s failed", csv);
    sim_store_close(&store);
}

/* Polls the pool until it has count live agents of head_end. */
static bool s_wait_live(agent_pool_t *pool, const char *head_end, size_t count)
{
    zpoller_t *poller = zpoller_new(agent_pool_socket(pool), NULL);
    int64_t deadline = clock_now_ms() + WAIT_MS;
    while (agent_pool_live_count(pool, head_end) < count &&
           clock_now_ms() < deadline) {
        if (zpoller_wait(poller, 100)) {
            agent_reply_t *reply = NULL;
            agent_pool_receive(pool, &reply);
            agent_reply_destroy(&reply);
        }
    }
    zpoller_destroy(&poller);
    return agent_pool_live_count(pool, head_end) >= count;
}

/* Waits for the reply to a pending request; NULL on timeout. */
static agent_reply_t *s_wait_reply(agent_pool_t *pool)
{
    zpoller_t *poller = zpoller_new(agent_pool_socket(pool), NULL);
    int64_t deadline = clock_now_ms() + WAIT_MS;
    agent_reply_t *reply = NULL;
    while (!reply && clock_now_ms() < deadline) {
        if (zpoller_wait(poller, 100) && agent_pool_receive(pool, &reply) != 1)
            agent_reply_destroy(&reply);
    }
    zpoller_destroy(&poller);
    return reply;
}

static envelope_t *s_result(const agent_reply_t *reply)
{
    char error[256];
    envelope_t *result = envelope_decode(reply->result, reply->result_size,
                                         NULL, error, sizeof error);
    if (!result)
        diag("result does not decode: %s", error);
    return result;
}

static void test_sim_agent(agent_pool_t *pool)
{
    uint8_t cid[AGENT_CID_SIZE] = {42};
    is_int(agent_pool_send(pool, "sim", cid, "meter.info", "1200000002107",
                           "SIM-MAC000002", NULL, 0, clock_now_ms()),
           0, "meter.info is sent");
    is_int(agent_pool_pending_count(pool), 1, "one request pending");
    agent_reply_t *reply = s_wait_reply(pool);
    ok(reply != NULL, "meter.info reply arrives");
    if (!reply)
        return;
    is_mem(reply->cid, cid, AGENT_CID_SIZE, "reply carries the cid");
    is_str(reply->status, "ok", "meter.info status");
    is_int(reply->units, 1, "meter.info units");
    is_int(agent_pool_pending_count(pool), 0, "nothing pending after reply");
    envelope_t *result = s_result(reply);
    char text[64] = "";
    int rc = mp_get_str(envelope_root(result), "meter_id", text, sizeof text,
                        text, sizeof text);
    is_int(rc, 0, "result has meter_id");
    is_str(text, "SIM-MAC000002", "result meter_id");
    envelope_destroy(&result);
    agent_reply_destroy(&reply);

    agent_range_t day = {
        clock_days_from_civil(2013, 7, 1) * 86400000LL - 3600000LL,
        clock_days_from_civil(2013, 7, 2) * 86400000LL - 3600000LL};
    cid[0] = 43;
    is_int(agent_pool_send(pool, "sim", cid, "read.profile", "1200000002107",
                           "", &day, 1, clock_now_ms()),
           0, "read.profile is sent");
    reply = s_wait_reply(pool);
    ok(reply != NULL, "read.profile reply arrives");
    if (reply) {
        is_str(reply->status, "ok", "read.profile status");
        /* 2013-07-01 local runs from 23:00Z, and the data starts at 00:00Z
         * on the 1st, so the first two periods are outside the data. */
        is_int(reply->units, 46, "read.profile units on the clipped day");
    }
    agent_reply_destroy(&reply);

    cid[0] = 44;
    agent_pool_send(pool, "sim", cid, "meter.info", "1312345678907", "", NULL,
                    0, clock_now_ms());
    reply = s_wait_reply(pool);
    ok(reply != NULL, "unknown meter reply arrives");
    if (reply) {
        is_str(reply->status, "not_found", "unknown meter status");
        ok(strstr(reply->error, "1312345678907") != NULL,
           "unknown meter error names it");
        ok(reply->result == NULL, "unknown meter has no result");
    }
    agent_reply_destroy(&reply);

    is_int(agent_pool_send(pool, "gas-head-end", cid, "meter.info",
                           "1200000002107", "", NULL, 0, clock_now_ms()),
           -1, "no agent serves another head end");
}

static void s_echo(void *arg, const agent_request_t *request,
                   agent_response_t *response)
{
    const char *name = arg;
    if (strcmp(request->mpxn, "slow") == 0)
        zclock_sleep(400);
    msgpack_pack_map(&response->packer, 1);
    mp_pack_kv_str(&response->packer, "agent", name);
    response->units = 1;
}

static zactor_t *s_start_echo(const char *name, const char *head_end)
{
    const char *head_ends[] = {head_end};
    agent_config_t config = {.endpoint = s_endpoint,
                             .name = name,
                             .head_ends = head_ends,
                             .head_end_count = 1,
                             .handler = s_echo,
                             .handler_arg = (void *)name};
    return agent_actor_start(agent_actor, &config);
}

static void test_round_robin(agent_pool_t *pool)
{
    zactor_t *first = s_start_echo("echo-a", "echo");
    zactor_t *second = s_start_echo("echo-b", "echo");
    ok(first && second, "two echo agents start");
    ok(s_wait_live(pool, "echo", 2), "both echo agents are live");

    int served_by_a = 0, served_by_b = 0;
    for (int i = 0; i < 6; i++) {
        uint8_t cid[AGENT_CID_SIZE] = {100, (uint8_t)i};
        agent_pool_send(pool, "echo", cid, "meter.info", "x", "", NULL, 0,
                        clock_now_ms());
        agent_reply_t *reply = s_wait_reply(pool);
        if (!reply)
            continue;
        envelope_t *result = s_result(reply);
        char name[32] = "";
        if (result && mp_get_str(envelope_root(result), "agent", name,
                                 sizeof name, name, sizeof name) == 0) {
            served_by_a += strcmp(name, "echo-a") == 0;
            served_by_b += strcmp(name, "echo-b") == 0;
        }
        envelope_destroy(&result);
        agent_reply_destroy(&reply);
    }
    is_int(served_by_a, 3, "echo-a served half the requests");
    is_int(served_by_b, 3, "echo-b served the other half");

    uint8_t cid[AGENT_CID_SIZE] = {200};
    is_int(agent_pool_send(pool, "echo", cid, "meter.info", "x", "", NULL, 0,
                           clock_now_ms() + AGENT_SILENCE_MS + 1000),
           -1, "agents silent past the limit get no request");
    is_int(agent_pool_send(pool, "echo", cid, "meter.info", "x", "", NULL, 0,
                           clock_now_ms()),
           0, "agents that kept up heartbeats get requests");
    agent_reply_t *reply = s_wait_reply(pool);
    ok(reply != NULL, "request after the silence check is answered");
    agent_reply_destroy(&reply);
    zactor_destroy(&first);
    zactor_destroy(&second);
}

static void test_timeout(agent_pool_t *pool)
{
    zactor_t *agent = s_start_echo("echo-slow", "slow");
    ok(s_wait_live(pool, "slow", 1), "slow echo agent is live");
    uint8_t cid[AGENT_CID_SIZE] = {150};
    int64_t sent = clock_now_ms();
    is_int(agent_pool_send(pool, "slow", cid, "meter.info", "slow", "", NULL, 0,
                           sent),
           0, "request to the slow agent is sent");
    uint8_t expired[AGENT_CID_SIZE] = {0};
    ok(!agent_pool_next_expired(pool, sent + 100, expired),
       "request not expired before its deadline");
    ok(agent_pool_next_expired(pool, sent + 300, expired),
       "request expired after its deadline");
    is_mem(expired, cid, AGENT_CID_SIZE, "expired cid");
    ok(!agent_pool_next_expired(pool, sent + 300, expired),
       "expired request is popped once");

    /* The reply comes after the timeout and is counted as late. */
    zpoller_t *poller = zpoller_new(agent_pool_socket(pool), NULL);
    int late = -2;
    int64_t deadline = clock_now_ms() + WAIT_MS;
    while (late != 0 && clock_now_ms() < deadline) {
        if (!zpoller_wait(poller, 100))
            continue;
        agent_reply_t *reply = NULL;
        late = agent_pool_receive(pool, &reply);
        ok(reply == NULL || late == 1, "no reply surfaces for a late answer");
        agent_reply_destroy(&reply);
        if (late == 1)
            break;
    }
    is_int(late, 0, "late reply is received as 0");
    zpoller_destroy(&poller);
    zactor_destroy(&agent);
}

static void test_malformed(agent_pool_t *pool)
{
    zsock_t *rogue = zsock_new_dealer(s_endpoint);
    zpoller_t *poller = zpoller_new(agent_pool_socket(pool), NULL);
    const char *garbage[] = {"\x93\x01\x02\x03", "", "\x81\xa1v\x02"};
    for (size_t i = 0; i < 3; i++) {
        zstr_send(rogue, garbage[i]);
        int rc = -2;
        if (zpoller_wait(poller, WAIT_MS)) {
            agent_reply_t *reply = NULL;
            rc = agent_pool_receive(pool, &reply);
            agent_reply_destroy(&reply);
        }
        is_int(rc, -1, "garbage frame %zu is rejected", i + 1);
    }
    zstr_sendm(rogue, "two");
    zstr_send(rogue, "frames");
    int rc = -2;
    if (zpoller_wait(poller, WAIT_MS)) {
        agent_reply_t *reply = NULL;
        rc = agent_pool_receive(pool, &reply);
        agent_reply_destroy(&reply);
    }
    is_int(rc, -1, "two-frame message is rejected");

    uint8_t cid[AGENT_CID_SIZE] = {9, 9, 9};
    zframe_t *frame = agent_reply_encode(cid, "ok", "", 1, "\x80", 1, 1);
    zframe_send(&frame, rogue, 0);
    rc = -2;
    if (zpoller_wait(poller, WAIT_MS)) {
        agent_reply_t *reply = NULL;
        rc = agent_pool_receive(pool, &reply);
        agent_reply_destroy(&reply);
    }
    is_int(rc, 0, "reply to no pending request is ignored");
    zpoller_destroy(&poller);
    zsock_destroy(&rogue);
}

/* A built-in agent lives in the node's process and connects over inproc,
 * where libzmq reports no connection events. */
static void test_inproc(void)
{
    agent_pool_t *pool = agent_pool_new("inproc://t0303-agents", 200);
    ok(pool != NULL, "pool binds inproc");
    sim_agent_t *sim = sim_agent_new(s_db, "inproc://t0303-agents");
    ok(sim != NULL, "sim agent connects over inproc");
    ok(pool && s_wait_live(pool, "sim", 1), "inproc sim agent is live");
    uint8_t cid[AGENT_CID_SIZE] = {88};
    if (pool)
        agent_pool_send(pool, "sim", cid, "read.registers", "1200000002107", "",
                        NULL, 0, clock_now_ms());
    agent_reply_t *reply = pool ? s_wait_reply(pool) : NULL;
    ok(reply && strcmp(reply->status, "ok") == 0,
       "inproc sim agent serves registers");
    agent_reply_destroy(&reply);
    sim_agent_destroy(&sim);
    agent_pool_destroy(&pool);
}

int main(void)
{
    log_init("t0303", false);
    if (!mkdtemp(s_folder))
        bail_out("cannot create a temporary folder");
    snprintf(s_endpoint, sizeof s_endpoint, "ipc://%s/agents", s_folder);
    snprintf(s_db, sizeof s_db, "%s/sim.db", s_folder);
    s_make_db();

    agent_pool_t *pool = agent_pool_new(s_endpoint, 200);
    ok(pool != NULL, "pool binds %s", s_endpoint);
    if (!pool)
        bail_out("no pool");
    agent_pool_t *second = agent_pool_new(s_endpoint, 200);
    ok(second == NULL, "second pool on the same endpoint fails");
    agent_pool_destroy(&second);

    sim_agent_t *sim = sim_agent_new(s_db, s_endpoint);
    ok(sim != NULL, "sim agent starts");
    if (!sim)
        bail_out("no sim agent");
    is_int(sim_agent_meter_count(sim), 1, "sim agent has one meter");
    ok(s_wait_live(pool, "sim", 1), "sim agent is live");
    ok(sim_agent_new("/nonexistent/folder/sim.db", s_endpoint) == NULL,
       "sim agent with an unusable database fails");

    test_sim_agent(pool);
    test_round_robin(pool);
    test_timeout(pool);
    test_malformed(pool);

    /* A restarted node learns of the agent again from a fresh hello. */
    agent_pool_destroy(&pool);
    ok(pool == NULL, "pool destroy nulls the pointer");
    pool = agent_pool_new(s_endpoint, 200);
    ok(pool != NULL, "pool binds again after a restart");
    if (!pool)
        bail_out("no pool after the restart");
    ok(s_wait_live(pool, "sim", 1), "sim agent rejoins the new pool");
    uint8_t cid[AGENT_CID_SIZE] = {77};
    agent_pool_send(pool, "sim", cid, "read.supply", "1200000002107", "", NULL,
                    0, clock_now_ms());
    agent_reply_t *reply = s_wait_reply(pool);
    ok(reply && strcmp(reply->status, "ok") == 0,
       "sim agent serves the restarted pool");
    agent_reply_destroy(&reply);

    sim_agent_destroy(&sim);
    agent_pool_destroy(&pool);
    test_inproc();
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", s_folder);
    if (system(command) != 0)
        diag("could not remove %s", s_folder);
    return tap_done();
}
