/* The sim agent's request handlers and its actor. */
#include "sim_agent.h"

#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "mpxn.h"
#include "settlement.h"
#include "sim_store.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#define DAY_MS (24 * 60 * 60 * 1000LL)

static const char *s_capabilities[] = {"meter.info", "read.registers",
                                       "read.daily", "read.profile",
                                       "read.supply"};
#define CAPABILITY_COUNT (sizeof s_capabilities / sizeof s_capabilities[0])

/* What every handler needs about the request's meter. */
typedef struct {
    sim_store_t *store;
    const agent_request_t *request;
    agent_response_t *response;
    msgpack_packer *packer;
    sim_meter_t meter;
    bool has_data;
    int64_t data_from_ms; /* first reading's start */
    int64_t data_to_ms;   /* last reading's end */
} sim_context_t;

static void s_database_failed(sim_context_t *context)
{
    agent_response_fail(context->response, STATUS_UNAVAILABLE,
                        "the sim head end's database failed; see the agent's "
                        "log");
}

static void s_pack_optional_time(msgpack_packer *packer, const char *key,
                                 bool present, int64_t ms)
{
    mp_pack_cstr(packer, key);
    if (present)
        msgpack_pack_int64(packer, ms);
    else
        msgpack_pack_nil(packer);
}

static void s_meter_info(sim_context_t *context)
{
    msgpack_packer *packer = context->packer;
    msgpack_pack_map(packer, 7);
    mp_pack_kv_str(packer, "mpxn", context->meter.mpxn);
    mp_pack_kv_str(packer, "meter_id", context->meter.meter_id);
    mp_pack_kv_str(packer, "fuel", context->meter.fuel);
    mp_pack_kv_str(packer, "head_end", context->meter.head_end);
    mp_pack_cstr(packer, "capabilities");
    msgpack_pack_array(packer, CAPABILITY_COUNT);
    for (size_t i = 0; i < CAPABILITY_COUNT; i++)
        mp_pack_cstr(packer, s_capabilities[i]);
    s_pack_optional_time(packer, "data_from", context->has_data,
                         context->data_from_ms);
    s_pack_optional_time(packer, "data_to", context->has_data,
                         context->data_to_ms);
    context->response->units = 1;
}

static void s_read_registers(sim_context_t *context)
{
    if (!context->has_data) {
        agent_response_fail(context->response, STATUS_UNAVAILABLE,
                            "the sim head end has no readings for supply "
                            "point %s",
                            context->meter.mpxn);
        return;
    }
    int64_t wh;
    if (sim_store_register_at(context->store, context->meter.mpxn,
                              context->data_to_ms, &wh) != 0) {
        s_database_failed(context);
        return;
    }
    msgpack_packer *packer = context->packer;
    msgpack_pack_map(packer, 2);
    mp_pack_kv_i64(packer, "read_at", context->data_to_ms);
    mp_pack_cstr(packer, "registers");
    msgpack_pack_array(packer, 1);
    msgpack_pack_map(packer, 3);
    mp_pack_kv_str(packer, "obis", "1-0:1.8.0*255");
    mp_pack_kv_str(packer, "name", "import");
    mp_pack_kv_i64(packer, "wh", wh);
    context->response->units = 1;
}

/* Copies and normalises the request's ranges. Returns the count. */
static size_t s_ranges(const agent_request_t *request, agent_range_t *ranges)
{
    memcpy(ranges, request->ranges,
           request->range_count * sizeof request->ranges[0]);
    return agent_ranges_normalise(ranges, request->range_count);
}

/* Appends the local midnights t0 with from_ms <= t0 < to_ms. Returns the
 * new count, or SIZE_MAX once max would be passed. */
static size_t s_add_midnights(int64_t from_ms, int64_t to_ms, int64_t *instants,
                              size_t count, size_t max)
{
    int64_t date = settlement_date_of(from_ms);
    if (settlement_day_start(date) < from_ms)
        date++;
    for (; settlement_day_start(date) < to_ms; date++) {
        if (count == max)
            return SIZE_MAX;
        instants[count++] = settlement_day_start(date);
    }
    return count;
}

/* Lists the midnights in the ranges and in the data span, which includes
 * its end: a snapshot there is the register after the last reading. */
static size_t s_daily_instants(sim_context_t *context, int64_t *instants)
{
    agent_range_t ranges[AGENT_MAX_RANGES];
    size_t range_count = s_ranges(context->request, ranges);
    size_t count = 0;
    for (size_t i = 0; i < range_count && count != SIZE_MAX; i++) {
        int64_t from = ranges[i].from_ms;
        int64_t to = ranges[i].to_ms;
        if (from < context->data_from_ms)
            from = context->data_from_ms;
        if (to > context->data_to_ms + 1)
            to = context->data_to_ms + 1;
        if (from < to)
            count =
                s_add_midnights(from, to, instants, count, SIM_DAILY_MAX_READS);
    }
    return count;
}

static void s_pack_daily(msgpack_packer *packer, const int64_t *instants,
                         const int64_t *wh, size_t count)
{
    msgpack_pack_map(packer, 1);
    mp_pack_cstr(packer, "reads");
    msgpack_pack_array(packer, count);
    for (size_t i = 0; i < count; i++) {
        char date[11];
        settlement_format_date(settlement_date_of(instants[i]), date);
        msgpack_pack_map(packer, 3);
        mp_pack_kv_str(packer, "date", date);
        mp_pack_kv_i64(packer, "at", instants[i]);
        mp_pack_kv_i64(packer, "import_wh", wh[i]);
    }
}

static void s_read_daily(sim_context_t *context)
{
    int64_t *instants = calloc(SIM_DAILY_MAX_READS, sizeof *instants);
    int64_t *wh = calloc(SIM_DAILY_MAX_READS, sizeof *wh);
    assert(instants);
    assert(wh);
    size_t count = 0;
    if (context->has_data)
        count = s_daily_instants(context, instants);

    if (count == SIZE_MAX)
        agent_response_fail(context->response, STATUS_INVALID,
                            "read.daily ranges hold more than %d midnights; "
                            "the maximum is %d, so split the request",
                            SIM_DAILY_MAX_READS, SIM_DAILY_MAX_READS);
    else if (sim_store_registers_at(context->store, context->meter.mpxn,
                                    instants, count, wh) != 0)
        s_database_failed(context);
    else {
        s_pack_daily(context->packer, instants, wh, count);
        context->response->units = count;
    }
    free(instants);
    free(wh);
}

typedef struct {
    int64_t start_ms;
    int64_t wh;
    bool present;
} sim_slot_t;

typedef struct {
    sim_slot_t *slots;
    size_t count;
    size_t capacity;
} sim_slots_t;

static void s_collect_slot(void *arg, int64_t start_ms, bool present,
                           int64_t wh)
{
    sim_slots_t *slots = arg;
    if (slots->count == slots->capacity) {
        slots->capacity = slots->capacity * 2 + 64;
        slots->slots =
            realloc(slots->slots, slots->capacity * sizeof slots->slots[0]);
        assert(slots->slots);
    }
    slots->slots[slots->count++] = (sim_slot_t){start_ms, wh, present};
}

static void s_pack_period(msgpack_packer *packer, const sim_slot_t *slot)
{
    int64_t date;
    int period;
    char date_text[11];
    settlement_period_of(slot->start_ms, &date, &period);
    msgpack_pack_map(packer, 5);
    mp_pack_kv_i64(packer, "start", slot->start_ms);
    mp_pack_kv_str(packer, "date", settlement_format_date(date, date_text));
    mp_pack_kv_i64(packer, "period", period);
    mp_pack_cstr(packer, "wh");
    if (slot->present)
        msgpack_pack_int64(packer, slot->wh);
    else
        msgpack_pack_nil(packer);
    mp_pack_kv_str(packer, "quality", slot->present ? "A" : "M");
}

static int64_t s_total_ms(const agent_range_t *ranges, size_t count)
{
    int64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t length = ranges[i].to_ms - ranges[i].from_ms;
        /* Saturate instead of overflowing on absurd ranges. */
        total = length > INT64_MAX - total ? INT64_MAX : total + length;
    }
    return total;
}

static void s_read_profile(sim_context_t *context)
{
    agent_range_t ranges[AGENT_MAX_RANGES];
    size_t range_count = s_ranges(context->request, ranges);
    int64_t total_ms = s_total_ms(ranges, range_count);
    if (total_ms > SIM_PROFILE_MAX_DAYS * DAY_MS) {
        agent_response_fail(context->response, STATUS_INVALID,
                            "read.profile ranges cover more than %d days "
                            "(%" PRId64 " hours); the maximum is %d days, so "
                            "split the request",
                            SIM_PROFILE_MAX_DAYS, total_ms / (60 * 60 * 1000),
                            SIM_PROFILE_MAX_DAYS);
        return;
    }
    sim_slots_t slots = {0};
    if (context->has_data &&
        sim_store_each_slot(context->store, context->meter.mpxn, ranges,
                            range_count, context->data_from_ms,
                            context->data_to_ms, s_collect_slot, &slots) != 0) {
        s_database_failed(context);
        free(slots.slots);
        return;
    }
    msgpack_pack_map(context->packer, 1);
    mp_pack_cstr(context->packer, "periods");
    msgpack_pack_array(context->packer, slots.count);
    uint64_t actual = 0;
    for (size_t i = 0; i < slots.count; i++) {
        s_pack_period(context->packer, &slots.slots[i]);
        actual += slots.slots[i].present ? 1 : 0;
    }
    context->response->units = actual;
    free(slots.slots);
}

static void s_read_supply(sim_context_t *context)
{
    msgpack_pack_map(context->packer, 2);
    mp_pack_kv_str(context->packer, "status", "connected");
    mp_pack_kv_i64(context->packer, "checked_at", clock_now_ms());
    context->response->units = 1;
}

typedef struct {
    const char *type;
    void (*handle)(sim_context_t *context);
} sim_route_t;

static const sim_route_t s_routes[] = {
    {"meter.info", s_meter_info},   {"read.registers", s_read_registers},
    {"read.daily", s_read_daily},   {"read.profile", s_read_profile},
    {"read.supply", s_read_supply},
};

static const sim_route_t *s_route(const char *type)
{
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
        if (strcmp(s_routes[i].type, type) == 0)
            return &s_routes[i];
    }
    return NULL;
}

/* Finds the meter and its data span. Returns 0, or -1 with the response
 * already failed. */
static int s_load_meter(sim_context_t *context)
{
    const agent_request_t *request = context->request;
    int found =
        sim_store_find_meter(context->store, request->mpxn, &context->meter);
    if (found == 0) {
        agent_response_fail(context->response, STATUS_NOT_FOUND,
                            "supply point %s is not on this sim head end",
                            request->mpxn);
        return -1;
    }
    if (found == 1 && request->meter_id[0] != '\0' &&
        strcmp(request->meter_id, context->meter.meter_id) != 0) {
        agent_response_fail(context->response, STATUS_NOT_FOUND,
                            "meter %s is not at supply point %s, whose meter "
                            "is %s",
                            request->meter_id, request->mpxn,
                            context->meter.meter_id);
        return -1;
    }
    int span = found < 0 ? -1
                         : sim_store_span(context->store, request->mpxn,
                                          &context->data_from_ms,
                                          &context->data_to_ms);
    if (span < 0) {
        s_database_failed(context);
        return -1;
    }
    context->has_data = span == 1;
    return 0;
}

void sim_agent_handle(void *arg, const agent_request_t *request,
                      agent_response_t *response)
{
    assert(arg);
    assert(request);
    assert(response);
    sim_context_t context = {.store = arg,
                             .request = request,
                             .response = response,
                             .packer = &response->packer};
    const sim_route_t *route = s_route(request->request);
    if (!route) {
        agent_response_fail(response, STATUS_INVALID,
                            "unsupported request type '%s'; the sim agent "
                            "serves meter.info, read.registers, read.daily, "
                            "read.profile and read.supply",
                            request->request);
        return;
    }
    char error[AGENT_ERROR_SIZE];
    if (mpxn_classify(request->mpxn, error, sizeof error) == MPXN_INVALID) {
        agent_response_fail(response, STATUS_INVALID, "%s", error);
        return;
    }
    if (s_load_meter(&context) != 0)
        return;
    route->handle(&context);
    log_debug("served agent request type=%s mpxn=%s status=%s units=%" PRIu64,
              request->request, request->mpxn, response->status,
              response->units);
}

/* The actor's start-up arguments; meter_count is filled by the actor. */
typedef struct {
    const char *db_path;
    const char *endpoint;
    const char *name;
    size_t meter_count;
} sim_start_t;

struct sim_agent {
    zactor_t *actor;
    size_t meter_count;
};

static void s_sim_actor(zsock_t *pipe, void *args)
{
    sim_start_t *start = args;
    char error[512];
    sim_store_t *store = sim_store_open(start->db_path, error, sizeof error);
    if (!store) {
        log_error("failed to start sim agent: %s", error);
        agent_actor_ready(pipe, -1);
        return;
    }
    int64_t meters = sim_store_each_meter(store, NULL, NULL);
    const char *head_ends[] = {SIM_HEAD_END};
    agent_config_t config = {.endpoint = start->endpoint,
                             .name = start->name,
                             .head_ends = head_ends,
                             .head_end_count = 1,
                             .handler = sim_agent_handle,
                             .handler_arg = store};
    agent_t *agent = meters >= 0 ? agent_new(&config) : NULL;
    start->meter_count = meters > 0 ? (size_t)meters : 0;
    agent_actor_ready(pipe, agent ? 0 : -1);
    if (agent)
        agent_run(agent, pipe);
    agent_destroy(&agent);
    sim_store_close(&store);
}

sim_agent_t *sim_agent_new_named(const char *db_path, const char *endpoint,
                                 const char *name)
{
    assert(db_path);
    assert(endpoint);
    assert(name);
    sim_start_t start = {db_path, endpoint, name, 0};
    zactor_t *actor = agent_actor_start(s_sim_actor, &start);
    if (!actor)
        return NULL;
    sim_agent_t *self = calloc(1, sizeof *self);
    assert(self);
    self->actor = actor;
    self->meter_count = start.meter_count;
    return self;
}

sim_agent_t *sim_agent_new(const char *db_path, const char *endpoint)
{
    return sim_agent_new_named(db_path, endpoint, SIM_HEAD_END);
}

void sim_agent_destroy(sim_agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy(&(*self_p)->actor);
    free(*self_p);
    *self_p = NULL;
}

size_t sim_agent_meter_count(const sim_agent_t *self)
{
    assert(self);
    return self->meter_count;
}

zactor_t *sim_agent_actor(sim_agent_t *self)
{
    assert(self);
    return self->actor;
}
