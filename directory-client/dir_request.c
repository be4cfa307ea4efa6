/* Directory request codec. */
#include "dir_request.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mpxn.h"

void dir_request_pack(msgpack_sbuffer *out, const char *type,
                      const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                      const char *param_key, const char *param_value)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    envelope_pack_header(&pk, param_key ? 5 : 4, type, id, ts);
    if (param_key)
        mp_pack_kv_str(&pk, param_key, param_value);
}

void dir_request_pack_changes(msgpack_sbuffer *out,
                              const uint8_t id[ENVELOPE_ID_SIZE], int64_t ts,
                              uint64_t since)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    envelope_pack_header(&pk, 5, DIR_TYPE_CHANGES, id, ts);
    mp_pack_kv_u64(&pk, "since", since);
}

bool dir_mpid_is_valid(const char *text)
{
    if (strlen(text) != DIR_MPID_SIZE - 1)
        return false;
    for (const char *c = text; *c; c++)
        if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c))
            return false;
    return true;
}

static dir_request_result_t s_read_kind(dir_request_t *request, char *error,
                                        size_t error_size)
{
    const char *type = request->header.type;
    if (strcmp(type, DIR_TYPE_LOOKUP) == 0)
        request->kind = DIR_REQUEST_LOOKUP;
    else if (strcmp(type, DIR_TYPE_SUPPLIER) == 0)
        request->kind = DIR_REQUEST_SUPPLIER;
    else if (strcmp(type, DIR_TYPE_SUPPLIERS) == 0)
        request->kind = DIR_REQUEST_SUPPLIERS;
    else if (strcmp(type, DIR_TYPE_CHANGES) == 0)
        request->kind = DIR_REQUEST_CHANGES;
    else {
        snprintf(error, error_size,
                 "unknown request type '%s': use " DIR_TYPE_LOOKUP
                 ", " DIR_TYPE_SUPPLIER ", " DIR_TYPE_SUPPLIERS
                 " or " DIR_TYPE_CHANGES,
                 type);
        return DIR_REQUEST_UNSUPPORTED;
    }
    return DIR_REQUEST_VALID;
}

static dir_request_result_t s_read_mpxn(const msgpack_object *root,
                                        dir_request_t *request, char *error,
                                        size_t error_size)
{
    if (mp_get_str(root, "mpxn", request->mpxn, sizeof request->mpxn, error,
                   error_size) != 0)
        return DIR_REQUEST_INVALID;
    if (mpxn_classify(request->mpxn, error, error_size) == MPXN_INVALID)
        return DIR_REQUEST_INVALID;
    return DIR_REQUEST_VALID;
}

static dir_request_result_t s_read_mpid(const msgpack_object *root,
                                        dir_request_t *request, char *error,
                                        size_t error_size)
{
    if (mp_get_str(root, "mpid", request->mpid, sizeof request->mpid, error,
                   error_size) != 0)
        return DIR_REQUEST_INVALID;
    if (!dir_mpid_is_valid(request->mpid)) {
        snprintf(error, error_size,
                 "invalid MPID '%s': use 4 upper-case letters or digits",
                 request->mpid);
        return DIR_REQUEST_INVALID;
    }
    return DIR_REQUEST_VALID;
}

static dir_request_result_t s_read_fields(const envelope_t *envelope,
                                          dir_request_t *request, char *error,
                                          size_t error_size)
{
    const msgpack_object *root = envelope_root(envelope);
    uint64_t version;
    char ignored[64];
    if (mp_get_u64(root, "v", &version, ignored, sizeof ignored) == 0 &&
        version != ENVELOPE_VERSION) {
        snprintf(error, error_size,
                 "protocol version %llu is not supported: use %d",
                 (unsigned long long)version, ENVELOPE_VERSION);
        return DIR_REQUEST_UNSUPPORTED;
    }
    if (envelope_read_header(envelope, &request->header, error, error_size) !=
        0)
        return DIR_REQUEST_INVALID;
    dir_request_result_t result = s_read_kind(request, error, error_size);
    if (result != DIR_REQUEST_VALID)
        return result;
    if (request->kind == DIR_REQUEST_LOOKUP)
        return s_read_mpxn(root, request, error, error_size);
    if (request->kind == DIR_REQUEST_SUPPLIER)
        return s_read_mpid(root, request, error, error_size);
    if (request->kind == DIR_REQUEST_CHANGES &&
        mp_get_u64(root, "since", &request->since, error, error_size) != 0)
        return DIR_REQUEST_INVALID;
    return DIR_REQUEST_VALID;
}

dir_request_result_t dir_request_decode(const void *data, size_t size,
                                        dir_request_t *request, bool *has_id,
                                        char *error, size_t error_size)
{
    memset(request, 0, sizeof *request);
    *has_id = false;

    char reason[256];
    envelope_t *envelope =
        envelope_decode(data, size, NULL, reason, sizeof reason);
    if (!envelope) {
        snprintf(error, error_size, "undecodable request: %s", reason);
        return DIR_REQUEST_UNDECODABLE;
    }
    const msgpack_object *root = envelope_root(envelope);
    if (mp_get_bin(root, "id", request->header.id, ENVELOPE_ID_SIZE, reason,
                   sizeof reason) == 0)
        *has_id = true;

    dir_request_result_t result =
        s_read_fields(envelope, request, error, error_size);
    envelope_destroy(&envelope);
    return result;
}
