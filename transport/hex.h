/* Lower-case hexadecimal text for binary ids, keys and hashes. */
#ifndef SDX_HEX_H
#define SDX_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*size hex digits and a NUL into text, which must hold
 * 2*size+1 bytes. Returns text. */
char *hex_encode(const uint8_t *data, size_t size, char *text);

/* Decodes exactly 2*size hex digits (either case) from text into data.
 * Returns 0, or -1 when text has another length or a non-hex digit. */
int hex_decode(const char *text, uint8_t *data, size_t size)
    __attribute__((warn_unused_result));

#endif
