/* Wall-clock time as sdx puts it on the wire: UTC milliseconds since the
 * Unix epoch, and its ISO 8601 text form ("2013-10-27T01:00:00Z"). */
#ifndef SDX_CLOCK_H
#define SDX_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Returns the current UTC time in milliseconds since the epoch. */
int64_t clock_now_ms(void);

/* Size of a buffer that holds any formatted time, with its NUL. */
#define CLOCK_ISO_SIZE 32

/* Writes ms as "YYYY-MM-DDTHH:MM:SSZ", adding ".mmm" only when the
 * milliseconds are not zero. Returns buffer. */
char *clock_format_iso(int64_t ms, char buffer[CLOCK_ISO_SIZE]);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.mmm]]Z" (the Z is required
 * when a time is given) into ms. A bare date means 00:00Z of that date.
 * Returns 0, or -1 when text is not one of these forms or not a real date. */
int clock_parse_iso(const char *text, int64_t *ms)
    __attribute__((warn_unused_result));

/* Converts a proleptic Gregorian date to days since 1970-01-01, and back. */
int64_t clock_days_from_civil(int year, int month, int day);
void clock_civil_from_days(int64_t days, int *year, int *month, int *day);

#endif
