/* Requests a node sends to the central lookup (sdx-directory), as msgpack
 * envelopes: {"v":1,"type":T,"id":bin16,"ts":ms} plus "mpxn" for
 * dir.lookup, "mpid" for dir.supplier or "since" (a change number) for
 * dir.changes; dir.suppliers has no parameter.
 */
#ifndef SDX_DIR_REQUEST_H
#define SDX_DIR_REQUEST_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_records.h"
#include "envelope.h"

#define DIR_TYPE_LOOKUP    "dir.lookup"
#define DIR_TYPE_SUPPLIER  "dir.supplier"
#define DIR_TYPE_SUPPLIERS "dir.suppliers"
#define DIR_TYPE_CHANGES   "dir.changes"

typedef enum {
    DIR_REQUEST_LOOKUP = 0, /* one supply point by mpxn */
    DIR_REQUEST_SUPPLIER,   /* one supplier by MPID */
    DIR_REQUEST_SUPPLIERS,  /* every supplier */
    DIR_REQUEST_CHANGES     /* the change log after a number */
} dir_request_kind_t;

typedef struct {
    dir_request_kind_t kind;
    envelope_header_t header;
    char mpxn[DIR_MPXN_SIZE]; /* dir.lookup only */
    char mpid[DIR_MPID_SIZE]; /* dir.supplier only */
    uint64_t since;           /* dir.changes only */
} dir_request_t;

/* How dir_request_decode ended. */
typedef enum {
    DIR_REQUEST_VALID = 0,
    DIR_REQUEST_INVALID,     /* a map with a missing or mistyped key */
    DIR_REQUEST_UNSUPPORTED, /* another protocol version or unknown type */
    DIR_REQUEST_UNDECODABLE  /* not one msgpack map within the limits */
} dir_request_result_t;

/* Packs a request into out, which the caller has initialised and frees.
 * param_key is "mpxn", "mpid" or NULL for none. */
void dir_request_pack(msgpack_sbuffer *out, const char *type,
                      const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                      const char *param_key, const char *param_value);

/* Packs a dir.changes request for the changes after since. */
void dir_request_pack_changes(msgpack_sbuffer *out,
                              const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                              uint64_t since);

/* Decodes a request. On any result other than DIR_REQUEST_VALID, error
 * gets a sentence naming the bad key or value, and *has_id tells whether
 * request->header.id was read, so that a reply can echo it. */
dir_request_result_t dir_request_decode(const void *data, size_t size,
                                        dir_request_t *request, bool *has_id,
                                        char *error, size_t error_size);

/* Returns true when text is an MPID: 4 upper-case letters or digits. */
bool dir_mpid_is_valid(const char *text);

#endif
