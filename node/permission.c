/* The three permission rules over a checked directory answer. */
#include "permission.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* Appends formatted text to a fixed buffer, truncating at its end. */
typedef struct {
    char *text;
    size_t size;
    size_t used;
} builder_t;

static void s_append(builder_t *b, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void s_append(builder_t *b, const char *format, ...)
{
    if (b->used + 1 >= b->size)
        return;
    va_list args;
    va_start(args, format);
    int written = vsnprintf(b->text + b->used, b->size - b->used, format, args);
    va_end(args);
    if (written > 0)
        b->used += (size_t)written < b->size - b->used ? (size_t)written
                                                       : b->size - b->used - 1;
}

static void s_append_time(builder_t *b, int64_t ms)
{
    char iso[CLOCK_ISO_SIZE];
    s_append(b, "%s", clock_format_iso(ms, iso));
}

/* Appends "A to B", or "A onwards" for an open end. */
static void s_append_range(builder_t *b, int64_t from_ms, int64_t to_ms)
{
    s_append_time(b, from_ms);
    if (to_ms == DIR_OPEN_END) {
        s_append(b, " onwards");
        return;
    }
    s_append(b, " to ");
    s_append_time(b, to_ms);
}

static void s_deny(permission_t *out, const char *reason)
{
    out->allowed = false;
    snprintf(out->reason, sizeof out->reason, "%s", reason);
}

static const dir_registration_t *s_registered_at(const dir_supply_point_t *sp,
                                                 int64_t at_ms)
{
    for (size_t i = 0; i < sp->registration_count; i++) {
        const dir_registration_t *r = &sp->registrations[i];
        if (r->from_ms <= at_ms && at_ms < r->to_ms)
            return r;
    }
    return NULL;
}

/* Rule 1: a smart meter that this node's supplier installed. */
static bool s_check_installer(const dir_supply_point_t *sp,
                              const char *own_mpid, builder_t *message,
                              permission_t *out)
{
    if (!sp->smart) {
        s_deny(out, PERMISSION_NOT_SMART);
        s_append(message,
                 "supply point %s is not listed as smart in the directory, "
                 "so its meter cannot be read remotely",
                 sp->mpxn);
        return false;
    }
    if (strcmp(sp->installing, own_mpid) != 0) {
        s_deny(out, PERMISSION_NOT_INSTALLER);
        s_append(message,
                 "the meter of supply point %s was installed by %s, not by "
                 "%s, so %s's node cannot serve it",
                 sp->mpxn, sp->installing[0] ? sp->installing : "nobody",
                 own_mpid, own_mpid);
        return false;
    }
    return true;
}

/* Rule 2: the requester is the registered supplier now. */
static bool s_check_registered(const dir_supply_point_t *sp,
                               const char *requester, int64_t now_ms,
                               builder_t *message, permission_t *out)
{
    const dir_registration_t *now = s_registered_at(sp, now_ms);
    if (now && strcmp(now->supplier, requester) == 0)
        return true;
    s_deny(out, PERMISSION_NOT_REGISTERED);
    s_append(message, "%s is not the registered supplier of %s at ", requester,
             sp->mpxn);
    s_append_time(message, now_ms);
    if (now) {
        s_append(message, "; %s is, from ", now->supplier);
        s_append_range(message, now->from_ms, now->to_ms);
    } else {
        s_append(message, "; no supplier is registered then");
    }
    return false;
}

static int s_range_order(const void *a, const void *b)
{
    const permission_range_t *x = a;
    const permission_range_t *y = b;
    return (x->from_ms > y->from_ms) - (x->from_ms < y->from_ms);
}

/* Collects the requester's registration periods, sorted, with adjacent
 * and overlapping periods merged. Returns their number. */
static size_t s_requester_periods(const dir_supply_point_t *sp,
                                  const char *requester,
                                  permission_range_t *periods)
{
    size_t count = 0;
    for (size_t i = 0; i < sp->registration_count; i++) {
        const dir_registration_t *r = &sp->registrations[i];
        if (strcmp(r->supplier, requester) == 0 && r->from_ms < r->to_ms)
            periods[count++] =
                (permission_range_t){.from_ms = r->from_ms, .to_ms = r->to_ms};
    }
    qsort(periods, count, sizeof *periods, s_range_order);
    size_t merged = 0;
    for (size_t i = 0; i < count; i++) {
        if (merged > 0 && periods[i].from_ms <= periods[merged - 1].to_ms) {
            if (periods[i].to_ms > periods[merged - 1].to_ms)
                periods[merged - 1].to_ms = periods[i].to_ms;
            continue;
        }
        periods[merged++] = periods[i];
    }
    return merged;
}

/* Intersects [from_ms, to_ms) with each period into out->ranges. */
static void s_intersect(const permission_range_t *periods, size_t count,
                        int64_t from_ms, int64_t to_ms, permission_t *out)
{
    for (size_t i = 0; i < count; i++) {
        int64_t from =
            periods[i].from_ms > from_ms ? periods[i].from_ms : from_ms;
        int64_t to = periods[i].to_ms < to_ms ? periods[i].to_ms : to_ms;
        if (from >= to)
            continue;
        if (out->range_count == PERMISSION_MAX_RANGES) {
            out->clipped = true;
            return;
        }
        out->ranges[out->range_count++] =
            (permission_range_t){.from_ms = from, .to_ms = to};
    }
    bool whole = out->range_count == 1 && out->ranges[0].from_ms == from_ms &&
                 out->ranges[0].to_ms == to_ms;
    if (!whole)
        out->clipped = true;
}

static void s_append_periods(builder_t *message,
                             const permission_range_t *periods, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        s_append(message, i ? ", " : "");
        s_append_range(message, periods[i].from_ms, periods[i].to_ms);
    }
}

/* Rule 3: clip a ranged read to the requester's own periods. */
static bool s_check_range(const dir_supply_point_t *sp, const char *requester,
                          int64_t from_ms, int64_t to_ms, builder_t *message,
                          permission_t *out)
{
    permission_range_t periods[DIR_MAX_REGISTRATIONS];
    size_t count = s_requester_periods(sp, requester, periods);
    if (from_ms < to_ms)
        s_intersect(periods, count, from_ms, to_ms, out);
    if (out->range_count > 0)
        return true;
    s_deny(out, PERMISSION_OUTSIDE_REGISTRATION);
    out->clipped = false;
    if (from_ms >= to_ms) {
        s_append(message, "the requested range of %s is empty: from ",
                 sp->mpxn);
        s_append_time(message, from_ms);
        s_append(message, " is not before to ");
        s_append_time(message, to_ms);
        return false;
    }
    s_append(message,
             "%s was not the registered supplier of %s at any time "
             "from ",
             requester, sp->mpxn);
    s_append_range(message, from_ms, to_ms);
    s_append(message, "; its registration periods are ");
    s_append_periods(message, periods, count);
    return false;
}

static void s_describe_allowed(const dir_supply_point_t *sp,
                               const char *own_mpid, const char *requester,
                               const char *type, int64_t now_ms, bool ranged,
                               int64_t from_ms, int64_t to_ms,
                               builder_t *message, const permission_t *out)
{
    s_append(message,
             "%s may make a %s request for %s: %s installed the smart meter "
             "and %s is the registered supplier at ",
             requester, type, sp->mpxn, own_mpid, requester);
    s_append_time(message, now_ms);
    if (!ranged)
        return;
    s_append(message, "; served ");
    s_append_periods(message, out->ranges, out->range_count);
    if (!out->clipped)
        return;
    s_append(message, ", clipped from the requested ");
    s_append_range(message, from_ms, to_ms);
    s_append(message, " to %s's registration periods", requester);
}

void permission_check(const dir_supply_point_t *sp, const char *own_mpid,
                      const char *requester, const char *type, int64_t now_ms,
                      bool ranged, int64_t from_ms, int64_t to_ms,
                      permission_t *out)
{
    assert(sp);
    assert(own_mpid);
    assert(requester);
    assert(type);
    assert(out);
    memset(out, 0, sizeof *out);
    builder_t message = {out->message, sizeof out->message, 0};
    if (!s_check_installer(sp, own_mpid, &message, out) ||
        !s_check_registered(sp, requester, now_ms, &message, out))
        return;
    if (ranged && !s_check_range(sp, requester, from_ms, to_ms, &message, out))
        return;
    out->allowed = true;
    s_describe_allowed(sp, own_mpid, requester, type, now_ms, ranged, from_ms,
                       to_ms, &message, out);
}
