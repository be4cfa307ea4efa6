/* Meter requests as they arrive at a node, from a peer or the local CLI:
 * the envelope header plus mpxn and, for ranged types, from and to. */
#ifndef SDX_REQUEST_H
#define SDX_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

typedef struct {
    envelope_header_t header;
    char mpxn[16];
    bool ranged;     /* read.daily, read.profile, read.events */
    int64_t from_ms; /* inclusive, ranged types only */
    int64_t to_ms;   /* exclusive, ranged types only */
} meter_request_t;

/* Returns true for the types of the meter interaction set. */
bool request_type_is_meter(const char *type);

/* Returns true for meter types that take a from/to range. */
bool request_type_is_ranged(const char *type);

/* Reads a meter request from a decoded envelope whose header is already
 * in out->header. Returns 0, or -1 with *status set to a STATUS_ code and
 * a sentence naming the bad value in error. */
int request_parse(const envelope_t *envelope, meter_request_t *out,
                  const char **status, char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
