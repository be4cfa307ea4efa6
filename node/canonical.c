/* A fixed-size writer and a strict, allocation-free reader for the msgpack
 * bodies that sdx signs. */
#include "canonical.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int canon_buffer_write(void *buffer, const char *data, size_t size)
{
    canon_buffer_t *out = buffer;
    size_t room = sizeof out->data - out->size;
    if (size > room) {
        out->overflow = true;
        size = room;
    }
    memcpy(out->data + out->size, data, size);
    out->size += size;
    return out->overflow ? -1 : 0;
}

void canon_reader_init(canon_reader_t *reader, const uint8_t *data, size_t size,
                       char *error, size_t error_size)
{
    assert(reader);
    assert(data || size == 0);
    reader->data = data;
    reader->size = size;
    reader->offset = 0;
    reader->error = error;
    reader->error_size = error_size;
}

static int s_fail(canon_reader_t *reader, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int s_fail(canon_reader_t *reader, const char *format, ...)
{
    if (reader->error && reader->error_size > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(reader->error, reader->error_size, format, args);
        va_end(args);
    }
    return -1;
}

static size_t s_left(const canon_reader_t *reader)
{
    return reader->size - reader->offset;
}

/* Reads a big-endian unsigned integer of width bytes. */
static int s_take_be(canon_reader_t *reader, const char *field, size_t width,
                     uint64_t *value)
{
    if (s_left(reader) < width)
        return s_fail(reader, "body ends inside field '%s'", field);
    uint64_t result = 0;
    for (size_t i = 0; i < width; i++)
        result = (result << 8) | reader->data[reader->offset + i];
    reader->offset += width;
    *value = result;
    return 0;
}

static int s_take_tag(canon_reader_t *reader, const char *field, uint8_t *tag)
{
    if (s_left(reader) < 1)
        return s_fail(reader, "body ends before field '%s'", field);
    *tag = reader->data[reader->offset++];
    return 0;
}

/* Sign-extends a value read as width bytes of two's complement. */
static int64_t s_signed(uint64_t raw, size_t width)
{
    if (width == 8)
        return (int64_t)raw;
    uint64_t sign_bit = (uint64_t)1 << (width * 8 - 1);
    if (raw & sign_bit)
        return (int64_t)(raw | ~((sign_bit << 1) - 1));
    return (int64_t)raw;
}

int canon_read_array(canon_reader_t *reader, const char *field, size_t *count)
{
    uint8_t tag = 0;
    uint64_t raw = 0;
    if (s_take_tag(reader, field, &tag) != 0)
        return -1;
    if (tag >= 0x90 && tag <= 0x9f) {
        *count = tag & 0x0f;
        return 0;
    }
    if (tag != 0xdc && tag != 0xdd)
        return s_fail(reader, "field '%s' must be an array", field);
    if (s_take_be(reader, field, tag == 0xdc ? 2 : 4, &raw) != 0)
        return -1;
    *count = (size_t)raw;
    return 0;
}

/* Reads any msgpack integer: negative ones go to *negative. */
static int s_read_integer(canon_reader_t *reader, const char *field,
                          uint64_t *positive, int64_t *negative,
                          bool *is_negative)
{
    uint8_t tag = 0;
    uint64_t raw = 0;
    if (s_take_tag(reader, field, &tag) != 0)
        return -1;
    *is_negative = false;
    if (tag <= 0x7f) {
        *positive = tag;
        return 0;
    }
    if (tag >= 0xe0) {
        *is_negative = true;
        *negative = (int8_t)tag;
        return 0;
    }
    if (tag >= 0xcc && tag <= 0xcf) {
        size_t width = (size_t)1 << (tag - 0xcc);
        return s_take_be(reader, field, width, positive);
    }
    if (tag >= 0xd0 && tag <= 0xd3) {
        size_t width = (size_t)1 << (tag - 0xd0);
        if (s_take_be(reader, field, width, &raw) != 0)
            return -1;
        int64_t value = s_signed(raw, width);
        if (value < 0) {
            *is_negative = true;
            *negative = value;
        } else {
            *positive = (uint64_t)value;
        }
        return 0;
    }
    return s_fail(reader, "field '%s' must be an integer", field);
}

int canon_read_uint(canon_reader_t *reader, const char *field, uint64_t *value)
{
    uint64_t positive = 0;
    int64_t negative = 0;
    bool is_negative;
    if (s_read_integer(reader, field, &positive, &negative, &is_negative) != 0)
        return -1;
    if (is_negative)
        return s_fail(reader, "field '%s' must not be negative (got %lld)",
                      field, (long long)negative);
    *value = positive;
    return 0;
}

int canon_read_int(canon_reader_t *reader, const char *field, int64_t *value)
{
    uint64_t positive = 0;
    int64_t negative = 0;
    bool is_negative;
    if (s_read_integer(reader, field, &positive, &negative, &is_negative) != 0)
        return -1;
    if (is_negative) {
        *value = negative;
        return 0;
    }
    if (positive > INT64_MAX)
        return s_fail(reader, "field '%s' is out of range for int64", field);
    *value = (int64_t)positive;
    return 0;
}

/* Reads the header of a str (is_bin false) or bin and returns its length. */
static int s_read_bytes_header(canon_reader_t *reader, const char *field,
                               bool is_bin, size_t *length)
{
    uint8_t tag = 0;
    uint64_t raw = 0;
    if (s_take_tag(reader, field, &tag) != 0)
        return -1;
    if (!is_bin && tag >= 0xa0 && tag <= 0xbf) {
        raw = tag & 0x1f;
    } else if ((!is_bin && tag >= 0xd9 && tag <= 0xdb) ||
               (is_bin && tag >= 0xc4 && tag <= 0xc6)) {
        uint8_t first = is_bin ? 0xc4 : 0xd9;
        size_t width = (size_t)1 << (tag - first);
        if (s_take_be(reader, field, width, &raw) != 0)
            return -1;
    } else {
        return s_fail(reader, "field '%s' must be %s", field,
                      is_bin ? "binary (msgpack bin)" : "a string");
    }
    if (raw > s_left(reader))
        return s_fail(reader, "body ends inside field '%s'", field);
    *length = (size_t)raw;
    return 0;
}

int canon_read_str(canon_reader_t *reader, const char *field, char *out,
                   size_t out_size)
{
    assert(out_size > 0);
    size_t length;
    if (s_read_bytes_header(reader, field, false, &length) != 0)
        return -1;
    if (length >= out_size)
        return s_fail(reader, "field '%s' is %zu bytes, longer than %zu", field,
                      length, out_size - 1);
    const uint8_t *text = reader->data + reader->offset;
    if (memchr(text, 0, length))
        return s_fail(reader, "field '%s' contains a NUL byte", field);
    memcpy(out, text, length);
    out[length] = '\0';
    reader->offset += length;
    return 0;
}

int canon_read_bin(canon_reader_t *reader, const char *field, uint8_t *out,
                   size_t size)
{
    size_t length;
    if (s_read_bytes_header(reader, field, true, &length) != 0)
        return -1;
    if (length != size)
        return s_fail(reader, "field '%s' must be %zu bytes, got %zu", field,
                      size, length);
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
    return 0;
}

int canon_read_end(canon_reader_t *reader)
{
    if (s_left(reader) != 0)
        return s_fail(reader, "extra bytes after the last field: %zu",
                      s_left(reader));
    return 0;
}

int canon_read_bin_ref(canon_reader_t *reader, const char *field,
                       const uint8_t **data, size_t *size, size_t max_size)
{
    size_t length;
    if (s_read_bytes_header(reader, field, true, &length) != 0)
        return -1;
    if (length > max_size)
        return s_fail(reader, "field '%s' is %zu bytes, longer than %zu", field,
                      length, max_size);
    *data = reader->data + reader->offset;
    *size = length;
    reader->offset += length;
    return 0;
}

int canon_read_record_header(canon_reader_t *reader, const char *field,
                             const char *name, size_t items, uint64_t version)
{
    size_t count;
    uint64_t got;
    if (canon_read_array(reader, field, &count) != 0)
        return -1;
    if (count != items) {
        snprintf(reader->error, reader->error_size,
                 "%s must be an array of %zu items, got %zu", name, items,
                 count);
        return -1;
    }
    if (canon_read_uint(reader, "version", &got) != 0)
        return -1;
    if (got != version) {
        snprintf(reader->error, reader->error_size,
                 "unsupported %s version %llu, expected %llu", name,
                 (unsigned long long)got, (unsigned long long)version);
        return -1;
    }
    return 0;
}

int canon_buffer_copy(const canon_buffer_t *buffer, uint8_t **body,
                      size_t *size)
{
    *body = malloc(buffer->size);
    if (*body == NULL)
        return -1;
    memcpy(*body, buffer->data, buffer->size);
    *size = buffer->size;
    return 0;
}

int canon_check_same(const canon_buffer_t *encoded, const uint8_t *body,
                     size_t size, const char *name, char *error,
                     size_t error_size)
{
    if (encoded->size == size && memcmp(encoded->data, body, size) == 0)
        return 0;
    snprintf(error, error_size,
             "%s is not in canonical form (every integer, string and binary "
             "must use msgpack's shortest encoding)",
             name);
    return -1;
}
