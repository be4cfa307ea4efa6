/* Settlement dates and periods under the UK summer-time rule.
 *
 * Since 1996 GB clocks go forward at 01:00 UTC on the last Sunday of March
 * and back at 01:00 UTC on the last Sunday of October. Period 1 of a settlement
 * date starts at local midnight, and the periods run on in half hours until the
 * next local midnight (Elexon's retail convention).
 */
#include "settlement.h"

#include "clock.h"

#include <assert.h>
#include <stdio.h>

#define DAY_MS  (24 * 60 * 60 * 1000LL)
#define HOUR_MS (60 * 60 * 1000LL)

/* Floor division, so instants before 1970 land on the right day. */
static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Returns the days since 1970-01-01 of the last Sunday of month. */
static int64_t s_last_sunday(int year, int month)
{
    int64_t last = clock_days_from_civil(year, month + 1, 1) - 1;
    /* 1970-01-01 was a Thursday, so (days + 4) mod 7 is 0 on a Sunday. */
    int64_t weekday = ((last + 4) % 7 + 7) % 7;
    return last - weekday;
}

bool london_is_summer_time(int64_t utc_ms)
{
    int year, month, day;
    clock_civil_from_days(s_floor_div(utc_ms, DAY_MS), &year, &month, &day);
    if (month < 3 || month > 10)
        return false;
    int64_t start = s_last_sunday(year, 3) * DAY_MS + HOUR_MS;
    int64_t end = s_last_sunday(year, 10) * DAY_MS + HOUR_MS;
    return utc_ms >= start && utc_ms < end;
}

int64_t settlement_day_start(int64_t date)
{
    /* Local midnight is 23:00 UTC the evening before in summer time.
     * The clocks change at 01:00 UTC, never between 23:00 and 00:00 UTC,
     * so testing that earlier instant decides which one it is. */
    int64_t summer_midnight = date * DAY_MS - HOUR_MS;
    if (london_is_summer_time(summer_midnight))
        return summer_midnight;
    return date * DAY_MS;
}

int settlement_periods_in_day(int64_t date)
{
    int64_t length =
        settlement_day_start(date + 1) - settlement_day_start(date);
    return (int)(length / SETTLEMENT_PERIOD_MS);
}

int64_t settlement_period_start(int64_t date, int period)
{
    assert(period >= 1 && period <= 50);
    return settlement_day_start(date) + SETTLEMENT_PERIOD_MS * (period - 1);
}

int64_t settlement_date_of(int64_t utc_ms)
{
    int64_t local_ms = utc_ms;
    if (london_is_summer_time(utc_ms))
        local_ms += HOUR_MS;
    return s_floor_div(local_ms, DAY_MS);
}

void settlement_period_of(int64_t utc_ms, int64_t *date, int *period)
{
    assert(date);
    assert(period);
    *date = settlement_date_of(utc_ms);
    int64_t offset = utc_ms - settlement_day_start(*date);
    *period = (int)(offset / SETTLEMENT_PERIOD_MS) + 1;
}

char *settlement_format_date(int64_t date, char text[11])
{
    assert(text);
    int year, month, day;
    clock_civil_from_days(date, &year, &month, &day);
    snprintf(text, 11, "%04d-%02d-%02d", year, month, day);
    return text;
}
