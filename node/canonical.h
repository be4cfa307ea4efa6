/* A fixed-size writer and a strict reader for the canonical msgpack
 * bodies that sdx signs (receipts and acknowledgements).
 *
 * It walks a byte buffer without allocating, so a hostile body cannot make
 * it reserve memory for containers the buffer could not hold. It accepts
 * every msgpack width of a value, because the callers detect non-canonical
 * forms by encoding the decoded value again and comparing bytes. Each read
 * names the field in its error, for example "field 'units' must be an
 * unsigned integer".
 */
#ifndef SDX_CANONICAL_H
#define SDX_CANONICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cursor over one body, set up by canon_reader_init. */
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *error;
    size_t error_size;
} canon_reader_t;

/* Size of the fixed buffer that bodies are encoded into. It is larger than
 * any receipt or acknowledgement that the field limits allow. */
#define CANON_MAX_BODY 1024

/* A fixed-size output for msgpack_packer: pass canon_buffer_write as the
 * packer's callback and the buffer as its data. Writing past the end sets
 * overflow and keeps the bytes that fitted. */
typedef struct {
    uint8_t data[CANON_MAX_BODY];
    size_t size;
    bool overflow;
} canon_buffer_t;

/* A msgpack_packer_write callback that appends to a canon_buffer_t. */
int canon_buffer_write(void *buffer, const char *data, size_t size);

/* Starts reading size bytes of data. Errors are written to error. */
void canon_reader_init(canon_reader_t *reader, const uint8_t *data, size_t size,
                       char *error, size_t error_size);

/* Each read returns 0 and advances, or -1 with a sentence in the error
 * buffer naming field. */

/* Reads an array header into count, its number of items. */
int canon_read_array(canon_reader_t *reader, const char *field, size_t *count)
    __attribute__((warn_unused_result));

/* Reads a non-negative integer. */
int canon_read_uint(canon_reader_t *reader, const char *field, uint64_t *value)
    __attribute__((warn_unused_result));

/* Reads an integer that fits int64_t. */
int canon_read_int(canon_reader_t *reader, const char *field, int64_t *value)
    __attribute__((warn_unused_result));

/* Reads a str of at most out_size - 1 bytes with no NUL byte in it, and
 * writes it NUL-terminated to out. */
int canon_read_str(canon_reader_t *reader, const char *field, char *out,
                   size_t out_size) __attribute__((warn_unused_result));

/* Reads a bin of exactly size bytes into out. */
int canon_read_bin(canon_reader_t *reader, const char *field, uint8_t *out,
                   size_t size) __attribute__((warn_unused_result));

/* Reads a bin of at most max_size bytes without copying it: *data points
 * into the reader's buffer and *size is its length. */
int canon_read_bin_ref(canon_reader_t *reader, const char *field,
                       const uint8_t **data, size_t *size, size_t max_size)
    __attribute__((warn_unused_result));

/* Returns 0 when every byte has been read, else -1 naming the count of
 * trailing bytes. */
int canon_read_end(canon_reader_t *reader) __attribute__((warn_unused_result));

/* Reads the header of a versioned record: an array of exactly items
 * entries whose first is the uint version. field names the array in
 * errors from canon_read_array, name the record in the others ("receipt
 * must be an array of 14 items, got 3"). Returns 0 or -1. */
int canon_read_record_header(canon_reader_t *reader, const char *field,
                             const char *name, size_t items, uint64_t version)
    __attribute__((warn_unused_result));

/* Checks that encoded, the re-encoding of a decoded record, is byte for
 * byte the body it was decoded from, so only msgpack's shortest forms are
 * accepted. name is the record in the error ("receipt"). Returns 0 or -1. */
int canon_check_same(const canon_buffer_t *encoded, const uint8_t *body,
                     size_t size, const char *name, char *error,
                     size_t error_size) __attribute__((warn_unused_result));

/* Copies the encoded bytes of buffer into *body, which the caller owns
 * (free it). Returns 0, or -1 when memory runs out. */
int canon_buffer_copy(const canon_buffer_t *buffer, uint8_t **body,
                      size_t *size) __attribute__((warn_unused_result));

#endif
