/* Supply point identifiers: the 13-digit MPAN core of an electricity supply
 * point and the MPRN of a gas supply point, with their check digits. */
#ifndef SDX_MPXN_H
#define SDX_MPXN_H

#include <stddef.h>

typedef enum { MPXN_INVALID = 0, MPXN_MPAN, MPXN_MPRN } mpxn_kind_t;

/* Classifies text as a valid MPAN core (13 digits) or MPRN (6 to 10
 * digits). On MPXN_INVALID, error (when not NULL) gets a sentence naming
 * the value and what is wrong, such as a bad check digit. */
mpxn_kind_t mpxn_classify(const char *text, char *error, size_t error_size);

/* Returns the MPAN check digit (0-9) of the first 12 digits of digits, or
 * -1 when one of them is not a digit. */
int mpan_check_digit(const char *digits);

/* Returns the two-digit MPRN check value (0-10) of the body digits (all but
 * the last two) of length body_size, or -1 on a non-digit. */
int mprn_check_value(const char *body, size_t body_size);

/* Writes the 13-digit MPAN core whose first 12 digits are digits12 into
 * core (14 bytes). Returns 0, or -1 when digits12 is not 12 digits. */
int mpan_core_make(const char *digits12, char core[14]);

#endif
