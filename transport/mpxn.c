/* MPAN core and MPRN check digits.
 *
 * MPAN core: the first 12 digits are weighted by the primes 3 to 43
 * without 11, and the sum mod 11 mod 10 is the 13th digit (as described
 * under "Meter Point Administration Number" on Wikipedia and implemented
 * by the open-source limejump/mpan library). MPRN: the body digits are
 * weighted n, n-1, ..., 1 and the sum mod 11, written as two digits, is
 * the last two digits.
 */
#include "mpxn.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MPAN_CORE_LENGTH 13
#define MPRN_MIN_LENGTH  6
#define MPRN_MAX_LENGTH  10

static const int s_mpan_weights[12] = {3,  5,  7,  13, 17, 19,
                                       23, 29, 31, 37, 41, 43};

static bool s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void s_set_error(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void s_set_error(char *error, size_t error_size, const char *format, ...)
{
    if (!error || error_size == 0)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
}

int mpan_check_digit(const char *digits)
{
    assert(digits);
    int sum = 0;
    for (int i = 0; i < 12; i++) {
        if (!s_is_digit(digits[i]))
            return -1;
        sum += (digits[i] - '0') * s_mpan_weights[i];
    }
    return sum % 11 % 10;
}

int mprn_check_value(const char *body, size_t body_size)
{
    assert(body);
    int sum = 0;
    for (size_t i = 0; i < body_size; i++) {
        if (!s_is_digit(body[i]))
            return -1;
        sum += (body[i] - '0') * (int)(body_size - i);
    }
    return sum % 11;
}

int mpan_core_make(const char *digits12, char core[14])
{
    assert(digits12);
    assert(core);
    if (strlen(digits12) != 12)
        return -1;
    int check = mpan_check_digit(digits12);
    if (check < 0)
        return -1;
    memcpy(core, digits12, 12);
    core[12] = (char)('0' + check);
    core[13] = '\0';
    return 0;
}

static mpxn_kind_t s_classify_mpan(const char *text, char *error,
                                   size_t error_size)
{
    int expected = mpan_check_digit(text);
    int found = text[12] - '0';
    if (found == expected)
        return MPXN_MPAN;
    s_set_error(error, error_size,
                "invalid MPAN core '%s': check digit is %d, expected %d", text,
                found, expected);
    return MPXN_INVALID;
}

static mpxn_kind_t s_classify_mprn(const char *text, size_t length, char *error,
                                   size_t error_size)
{
    int expected = mprn_check_value(text, length - 2);
    int found = (text[length - 2] - '0') * 10 + (text[length - 1] - '0');
    if (found == expected)
        return MPXN_MPRN;
    s_set_error(error, error_size,
                "invalid MPRN '%s': check digits are %02d, expected %02d", text,
                found, expected);
    return MPXN_INVALID;
}

mpxn_kind_t mpxn_classify(const char *text, char *error, size_t error_size)
{
    assert(text);
    size_t length = strlen(text);
    for (size_t i = 0; i < length; i++) {
        if (!s_is_digit(text[i])) {
            s_set_error(error, error_size,
                        "invalid supply point number '%s': use digits only "
                        "(an MPAN core has 13, an MPRN 6 to 10)",
                        text);
            return MPXN_INVALID;
        }
    }
    if (length == MPAN_CORE_LENGTH)
        return s_classify_mpan(text, error, error_size);
    if (length >= MPRN_MIN_LENGTH && length <= MPRN_MAX_LENGTH)
        return s_classify_mprn(text, length, error, error_size);
    s_set_error(error, error_size,
                "invalid supply point number '%s': it has %zu digits, but an "
                "MPAN core has 13 and an MPRN 6 to 10",
                text, length);
    return MPXN_INVALID;
}
