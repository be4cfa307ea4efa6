/* Settlement days and periods: half hours of Europe/London local time,
 * period 1 starting at local midnight, so a day has 46 periods when the
 * clocks go forward, 50 when they go back and 48 otherwise.
 *
 * The UK rule since 1996 is applied directly (summer time from 01:00 UTC
 * on the last Sunday of March to 01:00 UTC on the last Sunday of October),
 * so results do not depend on the host's time-zone database. Dates are
 * local calendar dates as days since 1970-01-01; times are UTC ms.
 */
#ifndef SDX_SETTLEMENT_H
#define SDX_SETTLEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SETTLEMENT_PERIOD_MS (30 * 60 * 1000LL)

/* Returns true when utc_ms falls in British Summer Time. */
bool london_is_summer_time(int64_t utc_ms);

/* Returns the UTC instant of local midnight at the start of date. */
int64_t settlement_day_start(int64_t date);

/* Returns the number of periods of date: 46, 48 or 50. */
int settlement_periods_in_day(int64_t date);

/* Returns the UTC start of period (1-based) of date. */
int64_t settlement_period_start(int64_t date, int period);

/* Finds the settlement date and period containing utc_ms. */
void settlement_period_of(int64_t utc_ms, int64_t *date, int *period);

/* Returns the local date containing utc_ms. */
int64_t settlement_date_of(int64_t utc_ms);

/* Writes date as "YYYY-MM-DD" into text (11 bytes). Returns text. */
char *settlement_format_date(int64_t date, char text[11]);

#endif
