/* Hexadecimal encoding of binary ids, keys and hashes. */
#include "hex.h"

char *hex_encode(const uint8_t *data, size_t size, char *text)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        text[2 * i] = digits[data[i] >> 4];
        text[2 * i + 1] = digits[data[i] & 0x0f];
    }
    text[2 * size] = '\0';
    return text;
}

static int s_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *text, uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (!text[2 * i] || !text[2 * i + 1])
            return -1;
        int high = s_nibble(text[2 * i]);
        int low = s_nibble(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return -1;
        data[i] = (uint8_t)(high << 4 | low);
    }
    return text[2 * size] == '\0' ? 0 : -1;
}
