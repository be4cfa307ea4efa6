/* Validation of meter requests. */
#include "request.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "mpxn.h"

static const char *const s_meter_types[] = {
    "meter.info",  "read.registers", "read.daily", "read.profile",
    "read.events", "read.supply",    NULL};

bool request_type_is_meter(const char *type)
{
    for (const char *const *known = s_meter_types; *known; known++)
        if (strcmp(type, *known) == 0)
            return true;
    return false;
}

bool request_type_is_ranged(const char *type)
{
    return strcmp(type, "read.daily") == 0 ||
           strcmp(type, "read.profile") == 0 ||
           strcmp(type, "read.events") == 0;
}

static int s_parse_range(const msgpack_object *root, meter_request_t *out,
                         char *error, size_t error_size)
{
    if (mp_get_i64(root, "from", &out->from_ms, error, error_size) ||
        mp_get_i64(root, "to", &out->to_ms, error, error_size))
        return -1;
    if (out->from_ms >= out->to_ms) {
        char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
        snprintf(error, error_size,
                 "invalid range: from %s is not before to %s",
                 clock_format_iso(out->from_ms, from),
                 clock_format_iso(out->to_ms, to));
        return -1;
    }
    return 0;
}

int request_parse(const envelope_t *envelope, meter_request_t *out,
                  const char **status, char *error, size_t error_size)
{
    const msgpack_object *root = envelope_root(envelope);
    *status = STATUS_INVALID;
    if (!request_type_is_meter(out->header.type)) {
        *status = STATUS_UNSUPPORTED;
        snprintf(error, error_size,
                 "unsupported request type '%s'; see docs/protocol.md for "
                 "the meter request types",
                 out->header.type);
        return -1;
    }
    if (mp_get_str(root, "mpxn", out->mpxn, sizeof out->mpxn, error,
                   error_size))
        return -1;
    if (mpxn_classify(out->mpxn, error, error_size) == MPXN_INVALID)
        return -1;
    out->ranged = request_type_is_ranged(out->header.type);
    out->from_ms = out->to_ms = 0;
    if (out->ranged && s_parse_range(root, out, error, error_size))
        return -1;
    return 0;
}
