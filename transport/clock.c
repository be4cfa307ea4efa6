/* UTC milliseconds and ISO 8601 text, with calendar maths done by hand so
 * results never depend on the host's time zone. */
#include "clock.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_DAY 86400000LL

int64_t clock_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Days from civil and back use the era-based method for the proleptic
 * Gregorian calendar: years are shifted to start in March so the leap
 * day falls at the end of the year. */
int64_t clock_days_from_civil(int year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t year_of_era = y - era * 400;
    int64_t month_index = month > 2 ? month - 3 : month + 9;
    int64_t day_of_year = (153 * month_index + 2) / 5 + day - 1;
    int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

void clock_civil_from_days(int64_t days, int *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                           day_of_era / 146096) /
                          365;
    int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    *month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    *year = (int)(year_of_era + era * 400 + (*month <= 2));
}

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

char *clock_format_iso(int64_t ms, char buffer[CLOCK_ISO_SIZE])
{
    int64_t days = s_floor_div(ms, MS_PER_DAY);
    int64_t in_day = ms - days * MS_PER_DAY;
    int year, month, day;
    clock_civil_from_days(days, &year, &month, &day);
    int hour = (int)(in_day / 3600000);
    int minute = (int)(in_day / 60000 % 60);
    int second = (int)(in_day / 1000 % 60);
    int milli = (int)(in_day % 1000);
    if (milli)
        snprintf(buffer, CLOCK_ISO_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 year, month, day, hour, minute, second, milli);
    else
        snprintf(buffer, CLOCK_ISO_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ", year,
                 month, day, hour, minute, second);
    return buffer;
}

/* Reads exactly count digits at *cursor into *value. */
static int s_digits(const char **cursor, int count, int *value)
{
    *value = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)(*cursor)[i]))
            return -1;
        *value = *value * 10 + ((*cursor)[i] - '0');
    }
    *cursor += count;
    return 0;
}

static int s_expect(const char **cursor, char c)
{
    if (**cursor != c)
        return -1;
    (*cursor)++;
    return 0;
}

static int s_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Parses the time part after the 'T': HH:MM[:SS[.mmm]]Z into ms. */
static int s_parse_time(const char *cursor, int64_t *in_day)
{
    int hour, minute, second = 0, milli = 0;
    if (s_digits(&cursor, 2, &hour) || s_expect(&cursor, ':') ||
        s_digits(&cursor, 2, &minute))
        return -1;
    if (*cursor == ':') {
        cursor++;
        if (s_digits(&cursor, 2, &second))
            return -1;
        if (*cursor == '.') {
            cursor++;
            if (s_digits(&cursor, 3, &milli))
                return -1;
        }
    }
    if (s_expect(&cursor, 'Z') || *cursor)
        return -1;
    if (hour > 23 || minute > 59 || second > 59)
        return -1;
    *in_day = hour * 3600000LL + minute * 60000LL + second * 1000LL + milli;
    return 0;
}

int clock_parse_iso(const char *text, int64_t *ms)
{
    const char *cursor = text;
    int year, month, day;
    if (!text || s_digits(&cursor, 4, &year) || s_expect(&cursor, '-') ||
        s_digits(&cursor, 2, &month) || s_expect(&cursor, '-') ||
        s_digits(&cursor, 2, &day))
        return -1;
    if (month < 1 || month > 12 || day < 1 ||
        day > s_days_in_month(year, month))
        return -1;
    int64_t in_day = 0;
    if (*cursor == 'T') {
        if (s_parse_time(cursor + 1, &in_day))
            return -1;
    } else if (*cursor)
        return -1;
    *ms = clock_days_from_civil(year, month, day) * MS_PER_DAY + in_day;
    return 0;
}
