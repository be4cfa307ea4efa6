/* JSON string escaping. */
#include "json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void json_write_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void s_write_str(FILE *out, const char *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    json_write_string(out, text);
    free(text);
}

void json_write_msgpack(FILE *out, const msgpack_object *object)
{
    switch (object->type) {
    case MSGPACK_OBJECT_NIL:
        fputs("null", out);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        fputs(object->via.boolean ? "true" : "false", out);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(out, "%" PRIu64, object->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(out, "%" PRId64, object->via.i64);
        break;
    case MSGPACK_OBJECT_STR:
        s_write_str(out, object->via.str.ptr, object->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        fputc('"', out);
        for (uint32_t i = 0; i < object->via.bin.size; i++)
            fprintf(out, "%02x", (unsigned char)object->via.bin.ptr[i]);
        fputc('"', out);
        break;
    case MSGPACK_OBJECT_ARRAY:
        fputc('[', out);
        for (uint32_t i = 0; i < object->via.array.size; i++) {
            if (i)
                fputc(',', out);
            json_write_msgpack(out, &object->via.array.ptr[i]);
        }
        fputc(']', out);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc('{', out);
        for (uint32_t i = 0; i < object->via.map.size; i++) {
            const msgpack_object_kv *kv = &object->via.map.ptr[i];
            if (i)
                fputc(',', out);
            if (kv->key.type == MSGPACK_OBJECT_STR)
                s_write_str(out, kv->key.via.str.ptr, kv->key.via.str.size);
            else
                fputs("\"?\"", out);
            fputc(':', out);
            json_write_msgpack(out, &kv->val);
        }
        fputc('}', out);
        break;
    default:
        /* Floats and extension types are not part of the protocol. */
        fputs("null", out);
        break;
    }
}
