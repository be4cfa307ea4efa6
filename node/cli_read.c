/* sdx read: a meter request through the local node. */
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "envelope.h"
#include "hex.h"
#include "json.h"
#include "message.h"
#include "mpxn.h"

#define CLI_READ_TIMEOUT_MS 15000

static const char s_read_usage[] =
    "usage: sdx [--home DIR] read KIND MPXN [--from T --to T] [--json|--csv]\n"
    "                         [--request-id HEX] [--timeout-ms N]\n"
    "\n"
    "Reads a smart meter installed by another supplier, through that\n"
    "supplier's node. KIND is one of:\n"
    "  info        meter id, fuel, head-end type and capabilities\n"
    "  registers   cumulative import register with its read time\n"
    "  daily       register snapshots at local midnight (needs --from/--to)\n"
    "  profile     half-hourly consumption in Wh with settlement date,\n"
    "              period and quality (needs --from/--to)\n"
    "  supply      supply (contactor) status\n"
    "The serving node serves only the parts of a range in which this\n"
    "supplier is the registered supplier, and says which it served.\n";

static const char *s_type_of(const char *kind)
{
    static const char *const kinds[][2] = {
        {"info", "meter.info"},    {"registers", "read.registers"},
        {"daily", "read.daily"},   {"profile", "read.profile"},
        {"supply", "read.supply"}, {"events", "read.events"}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kind, kinds[i][0]) == 0)
            return kinds[i][1];
    return NULL;
}

static zframe_t *s_request(const char *type, const char *mpxn,
                           const uint8_t id[16], bool ranged, int64_t from,
                           int64_t to)
{
    message_t message;
    message_init(&message);
    envelope_pack_header(&message.pk, ranged ? 7 : 5, type, id, clock_now_ms());
    mp_pack_kv_str(&message.pk, "mpxn", mpxn);
    if (ranged) {
        mp_pack_kv_i64(&message.pk, "from", from);
        mp_pack_kv_i64(&message.pk, "to", to);
    }
    return message_to_frame(&message);
}

/* Sends the request to the node's control socket and waits for the reply.
 * Caller owns the returned frame. */
static zframe_t *s_exchange(const char *home, zframe_t **request,
                            int timeout_ms)
{
    char endpoint[4200];
    config_control_endpoint(home, endpoint, sizeof endpoint);
    zsock_t *control = zsock_new(ZMQ_DEALER);
    zsock_set_linger(control, 0);
    zframe_t *reply = NULL;
    if (zsock_connect(control, "%s", endpoint) == 0 &&
        zframe_send(request, control, 0) == 0) {
        zpoller_t *poller = zpoller_new(control, NULL);
        if (zpoller_wait(poller, timeout_ms) == control)
            reply = zframe_recv(control);
        zpoller_destroy(&poller);
    }
    zframe_destroy(request);
    zsock_destroy(&control);
    return reply;
}

static void s_iso(const msgpack_object *object, char text[CLOCK_ISO_SIZE])
{
    int64_t ms;
    if (object && mp_as_i64(object, &ms))
        clock_format_iso(ms, text);
    else
        snprintf(text, CLOCK_ISO_SIZE, "-");
}

static void s_print_str(FILE *out, const msgpack_object *object)
{
    if (!object)
        fputs("-", out);
    else if (object->type == MSGPACK_OBJECT_STR)
        fprintf(out, "%.*s", (int)object->via.str.size, object->via.str.ptr);
    else if (object->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        fprintf(out, "%" PRIu64, object->via.u64);
    else if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        fprintf(out, "%" PRId64, object->via.i64);
    else if (object->type == MSGPACK_OBJECT_NIL)
        fputs("", out);
    else
        json_write_msgpack(out, object);
}

/* One output column: the key in each row map, and how to show it. */
typedef struct {
    const char *key;
    const char *heading;
    bool is_time;
} column_t;

static void s_print_rows(const msgpack_object *rows, const column_t *columns,
                         size_t count, cli_format_t format)
{
    for (size_t c = 0; c < count; c++) {
        const char *separator = c ? (format == CLI_CSV ? "," : " ") : "";
        if (format == CLI_CSV)
            printf("%s%s", separator, columns[c].heading);
        else
            printf("%s%-*s", separator, columns[c].is_time ? 21 : 15,
                   columns[c].heading);
    }
    printf("\n");
    for (uint32_t r = 0; rows && r < rows->via.array.size; r++) {
        const msgpack_object *row = &rows->via.array.ptr[r];
        for (size_t c = 0; c < count; c++) {
            const msgpack_object *value = mp_map_get(row, columns[c].key);
            char text[CLOCK_ISO_SIZE];
            if (c)
                fputs(format == CLI_CSV ? "," : " ", stdout);
            if (columns[c].is_time) {
                s_iso(value, text);
                printf(format == CLI_CSV ? "%s" : "%-21s", text);
            } else if (format == CLI_CSV)
                s_print_str(stdout, value);
            else {
                char *buffer = NULL;
                size_t size = 0;
                FILE *cell = open_memstream(&buffer, &size);
                s_print_str(cell, value);
                fclose(cell);
                printf("%-15s", buffer);
                free(buffer);
            }
        }
        printf("\n");
    }
}

static void s_print_result(const char *type, const msgpack_object *result,
                           cli_format_t format)
{
    static const column_t profile[] = {{"start", "start_utc", true},
                                       {"date", "settlement_date", false},
                                       {"period", "period", false},
                                       {"wh", "wh", false},
                                       {"quality", "quality", false}};
    static const column_t daily[] = {{"date", "settlement_date", false},
                                     {"at", "at_utc", true},
                                     {"import_wh", "import_wh", false}};
    static const column_t registers[] = {
        {"obis", "obis", false}, {"name", "name", false}, {"wh", "wh", false}};
    const msgpack_object *rows = NULL;
    if (strcmp(type, "read.profile") == 0 &&
        (rows = mp_map_get(result, "periods")))
        s_print_rows(rows, profile, 5, format);
    else if (strcmp(type, "read.daily") == 0 &&
             (rows = mp_map_get(result, "reads")))
        s_print_rows(rows, daily, 3, format);
    else if (strcmp(type, "read.registers") == 0 &&
             (rows = mp_map_get(result, "registers"))) {
        char text[CLOCK_ISO_SIZE];
        s_iso(mp_map_get(result, "read_at"), text);
        if (format == CLI_TABLE)
            printf("read at %s\n", text);
        s_print_rows(rows, registers, 3, format);
    } else {
        for (uint32_t i = 0; result && result->type == MSGPACK_OBJECT_MAP &&
                             i < result->via.map.size;
             i++) {
            const msgpack_object_kv *kv = &result->via.map.ptr[i];
            s_print_str(stdout, &kv->key);
            fputs(format == CLI_CSV ? "," : ": ", stdout);
            s_print_str(stdout, &kv->val);
            fputc('\n', stdout);
        }
    }
}

static int s_exit_code(const char *status)
{
    if (strcmp(status, STATUS_OK) == 0)
        return CLI_OK;
    if (strcmp(status, STATUS_DENIED) == 0)
        return CLI_DENIED;
    if (strcmp(status, STATUS_NOT_FOUND) == 0 ||
        strcmp(status, STATUS_INVALID) == 0 ||
        strcmp(status, STATUS_UNSUPPORTED) == 0 ||
        strcmp(status, STATUS_STALE) == 0)
        return CLI_REJECTED;
    return CLI_FAILED;
}

static void s_print_json(const msgpack_object *control,
                         const msgpack_object *reply)
{
    static const char *const control_keys[] = {
        "status",         "error",        "reason", "serving", "endpoint",
        "receipt_status", "receipt_note", "seq",    "units",   "price"};
    printf("{");
    bool first = true;
    for (size_t i = 0; i < sizeof control_keys / sizeof *control_keys; i++) {
        const msgpack_object *value = mp_map_get(control, control_keys[i]);
        if (!value)
            continue;
        printf("%s\"%s\":", first ? "" : ",", control_keys[i]);
        json_write_msgpack(stdout, value);
        first = false;
    }
    const msgpack_object *id = mp_map_get(control, "id");
    if (id) {
        printf(",\"request_id\":");
        json_write_msgpack(stdout, id);
    }
    const char *reply_keys[] = {"served", "result"};
    for (size_t i = 0; reply && i < 2; i++) {
        const msgpack_object *value = mp_map_get(reply, reply_keys[i]);
        if (value) {
            printf(",\"%s\":", reply_keys[i]);
            json_write_msgpack(stdout, value);
        }
    }
    printf("}\n");
}

/* Prints what was served and the receipt, before the rows. */
static void s_print_summary(FILE *out, const char *type, const char *mpxn,
                            const msgpack_object *control,
                            const msgpack_object *reply, const char *hex_id)
{
    char serving[8] = "", receipt_status[32] = "", note[512] = "", error[256];
    uint64_t seq = 0, units = 0, price = 0;
    (void)!mp_get_str(control, "serving", serving, sizeof serving, error,
                      sizeof error);
    (void)!mp_get_str(control, "receipt_status", receipt_status,
                      sizeof receipt_status, error, sizeof error);
    (void)!mp_get_str(control, "receipt_note", note, sizeof note, error,
                      sizeof error);
    (void)!mp_get_u64(control, "seq", &seq, error, sizeof error);
    (void)!mp_get_u64(control, "units", &units, error, sizeof error);
    (void)!mp_get_u64(control, "price", &price, error, sizeof error);
    fprintf(out,
            "%s served %s for %s: receipt seq %" PRIu64 ", %" PRIu64
            " units, price %" PRIu64 " micro-units (%" PRIu64 ".%06" PRIu64
            " GBP), %s\n",
            serving, type, mpxn, seq, units, price, price / 1000000,
            price % 1000000, receipt_status);
    if (note[0])
        fprintf(out, "receipt: %s\n", note);
    const msgpack_object *served = reply ? mp_map_get(reply, "served") : NULL;
    char served_note[512] = "";
    if (served && mp_get_str(served, "note", served_note, sizeof served_note,
                             error, sizeof error) == 0)
        fprintf(out, "served: %s\n", served_note);
    fprintf(out, "request id: %s\n", hex_id);
}

static int s_show(const cli_options_t *options, const char *type,
                  const char *mpxn, zframe_t *frame, const char *hex_id)
{
    char error[512];
    envelope_t *control =
        envelope_decode(zframe_data(frame), zframe_size(frame),
                        &envelope_reply_limits, error, sizeof error);
    if (!control)
        return cli_fail(CLI_FAILED, "unreadable reply from the node: %s",
                        error);
    const msgpack_object *root = envelope_root(control);
    char status[32] = "", reason[64] = "", text[1024] = "";
    (void)!mp_get_str(root, "status", status, sizeof status, error,
                      sizeof error);
    (void)!mp_get_str_opt(root, "reason", reason, sizeof reason, error,
                          sizeof error);
    (void)!mp_get_str_opt(root, "error", text, sizeof text, error,
                          sizeof error);
    const uint8_t *inner = NULL;
    size_t inner_size = 0;
    envelope_t *reply = NULL;
    if (mp_get_bin_ref(root, "reply", &inner, &inner_size, error,
                       sizeof error) == 0)
        reply = envelope_decode(inner, inner_size, &envelope_reply_limits,
                                error, sizeof error);
    const msgpack_object *reply_root = reply ? envelope_root(reply) : NULL;
    int code = s_exit_code(status);
    char receipt_status[32] = "";
    (void)!mp_get_str_opt(root, "receipt_status", receipt_status,
                          sizeof receipt_status, error, sizeof error);
    if (code == CLI_OK && strcmp(receipt_status, "disputed") == 0)
        code = CLI_FAILED;
    if (options->format == CLI_JSON)
        s_print_json(root, reply_root);
    else if (code == CLI_OK || strcmp(receipt_status, "disputed") == 0) {
        s_print_summary(options->format == CLI_CSV ? stderr : stdout, type,
                        mpxn, root, reply_root, hex_id);
        if (reply_root)
            s_print_result(type, mp_map_get(reply_root, "result"),
                           options->format);
    }
    char note[512] = "";
    (void)!mp_get_str_opt(root, "receipt_note", note, sizeof note, error,
                          sizeof error);
    if (code != CLI_OK && strcmp(receipt_status, "disputed") == 0)
        cli_fail(code,
                 "receipt disputed and not acknowledged: %s (request id %s); "
                 "see sdx reconcile",
                 note[0] ? note : "no details", hex_id);
    else if (code != CLI_OK)
        cli_fail(code, "%s%s%s%s: %s (request id %s)", status,
                 reason[0] ? " (" : "", reason, reason[0] ? ")" : "",
                 text[0] ? text : "no details", hex_id);
    envelope_destroy(&reply);
    envelope_destroy(&control);
    return code;
}

int cli_read(const cli_options_t *options)
{
    if (options->help) {
        fputs(s_read_usage, stdout);
        return CLI_OK;
    }
    if (options->positional_count != 2) {
        fputs(s_read_usage, stderr);
        return CLI_USAGE;
    }
    const char *kind = options->positional[0];
    const char *mpxn = options->positional[1];
    const char *type = s_type_of(kind);
    if (!type)
        return cli_fail(CLI_USAGE,
                        "unknown read kind '%s': use info, registers, daily, "
                        "profile or supply",
                        kind);
    char error[256];
    if (mpxn_classify(mpxn, error, sizeof error) == MPXN_INVALID)
        return cli_fail(CLI_USAGE, "%s", error);
    if (!options->home)
        return cli_fail(CLI_USAGE, "no node home: give --home DIR or set "
                                   "SDX_HOME");
    config_t config;
    if (config_load(options->home, &config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    bool ranged = strcmp(type, "read.daily") == 0 ||
                  strcmp(type, "read.profile") == 0 ||
                  strcmp(type, "read.events") == 0;
    int64_t from = 0, to = 0;
    if (cli_range(options, ranged, &from, &to))
        return CLI_USAGE;
    uint8_t id[ENVELOPE_ID_SIZE];
    if (options->request_id) {
        if (hex_decode(options->request_id, id, sizeof id))
            return cli_fail(CLI_USAGE,
                            "invalid --request-id '%s': expected 32 hex "
                            "digits, as printed by an earlier read",
                            options->request_id);
    } else
        envelope_new_id(id);
    char hex_id[33];
    hex_encode(id, sizeof id, hex_id);
    zframe_t *request = s_request(type, mpxn, id, ranged, from, to);
    int timeout =
        options->timeout_ms ? options->timeout_ms : CLI_READ_TIMEOUT_MS;
    zframe_t *reply = s_exchange(options->home, &request, timeout);
    if (!reply)
        return cli_fail(CLI_FAILED,
                        "no reply from the node in %s within %d ms: is "
                        "sdx-node running, or is the serving node slow? "
                        "Retry with --request-id %s",
                        options->home, timeout, hex_id);
    int code = s_show(options, type, mpxn, reply, hex_id);
    zframe_destroy(&reply);
    return code;
}
