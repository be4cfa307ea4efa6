/* The permission check for one meter request, as a pure function over a
 * signed directory answer that the directory client has already checked.
 *
 * Three rules, checked in order:
 *   1. the supply point is smart and own_mpid is its installing supplier
 *      (reasons "not_smart", "not_installer");
 *   2. the requester is the registered supplier at now_ms
 *      ("not_registered");
 *   3. a ranged read is served only within the requester's own
 *      registration periods: the served ranges are the intersections of
 *      [from_ms, to_ms) with them, and the request is denied when none is
 *      left ("outside_registration").
 */
#ifndef SDX_PERMISSION_H
#define SDX_PERMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_records.h"

/* The same bound as the ranges a receipt can carry. */
#define PERMISSION_MAX_RANGES 8

#define PERMISSION_NOT_SMART            "not_smart"
#define PERMISSION_NOT_INSTALLER        "not_installer"
#define PERMISSION_NOT_REGISTERED       "not_registered"
#define PERMISSION_OUTSIDE_REGISTRATION "outside_registration"

typedef struct {
    int64_t from_ms; /* inclusive */
    int64_t to_ms;   /* exclusive */
} permission_range_t;

typedef struct {
    bool allowed;
    char reason[32];   /* one of the codes above, or "" when allowed */
    char message[768]; /* a sentence naming the supply point, suppliers,
                          dates and served ranges */
    bool clipped;      /* the served ranges are less than the request */
    size_t range_count;
    permission_range_t ranges[PERMISSION_MAX_RANGES];
} permission_t;

/* Decides whether requester may make a request of type on sp through the
 * node of own_mpid, at now_ms. For ranged requests [from_ms, to_ms) is the
 * requested range, and an empty one is denied as outside_registration.
 * Adjacent registration periods of the requester are served as one range.
 * When more than PERMISSION_MAX_RANGES ranges are left, the earliest ones
 * are served and clipped is set. */
void permission_check(const dir_supply_point_t *sp, const char *own_mpid,
                      const char *requester, const char *type, int64_t now_ms,
                      bool ranged, int64_t from_ms, int64_t to_ms,
                      permission_t *out);

#endif
