/* Tests the three permission rules: installing supplier, registered
 * supplier at request time, and ranged reads clipped to the requester's
 * own registration periods. */
#include "clock.h"
#include "permission.h"
#include "tap.h"

static int64_t s_ms(const char *iso)
{
    int64_t ms;
    if (clock_parse_iso(iso, &ms) != 0)
        bail_out("bad time %s", iso);
    return ms;
}

static void s_register(dir_supply_point_t *sp, const char *supplier,
                       const char *from, const char *to)
{
    if (sp->registration_count == DIR_MAX_REGISTRATIONS)
        bail_out("too many registrations");
    dir_registration_t *r = &sp->registrations[sp->registration_count++];
    strcpy(r->supplier, supplier);
    r->from_ms = s_ms(from);
    r->to_ms = to ? s_ms(to) : DIR_OPEN_END;
}

/* ALFA installed the meter; BRVO was registered until 2013-06-04, when
 * CHRL took over. */
static dir_supply_point_t s_changed(void)
{
    dir_supply_point_t sp;
    memset(&sp, 0, sizeof sp);
    strcpy(sp.mpxn, "2000012345672");
    strcpy(sp.fuel, "electricity");
    strcpy(sp.meter_id, "S13A000123");
    sp.smart = true;
    strcpy(sp.installing, "ALFA");
    s_register(&sp, "BRVO", "2012-01-01", "2013-06-04");
    s_register(&sp, "CHRL", "2013-06-04", NULL);
    return sp;
}

static void test_rule_one(void)
{
    permission_t p;
    dir_supply_point_t sp = s_changed();
    int64_t now = s_ms("2013-07-01T12:00:00Z");
    sp.smart = false;
    permission_check(&sp, "ALFA", "CHRL", "read.registers", now, false, 0, 0,
                     &p);
    ok(!p.allowed, "dumb meter denied");
    is_str(p.reason, "not_smart", "reason not_smart");
    ok(strstr(p.message, "2000012345672") != NULL, "names the supply point: %s",
       p.message);

    sp = s_changed();
    permission_check(&sp, "BRVO", "CHRL", "read.registers", now, false, 0, 0,
                     &p);
    ok(!p.allowed, "another installer's meter denied");
    is_str(p.reason, "not_installer", "reason not_installer");
    ok(strstr(p.message, "installed by ALFA, not by BRVO") != NULL,
       "names both suppliers: %s", p.message);
}

static void test_rule_two(void)
{
    permission_t p;
    dir_supply_point_t sp = s_changed();
    int64_t now = s_ms("2013-07-01T12:00:00Z");
    permission_check(&sp, "ALFA", "DLTA", "read.registers", now, false, 0, 0,
                     &p);
    ok(!p.allowed, "unregistered supplier denied");
    is_str(p.reason, "not_registered", "reason not_registered");
    ok(strstr(p.message, "DLTA is not the registered supplier of "
                         "2000012345672 at 2013-07-01T12:00:00Z") != NULL,
       "names requester, supply point and time: %s", p.message);
    ok(strstr(p.message, "CHRL is, from 2013-06-04T00:00:00Z onwards") != NULL,
       "names the registered supplier");

    permission_check(&sp, "ALFA", "BRVO", "read.registers", now, false, 0, 0,
                     &p);
    ok(!p.allowed, "previous supplier after the change denied");
    is_str(p.reason, "not_registered", "previous supplier: not_registered");

    permission_check(&sp, "ALFA", "BRVO", "read.registers",
                     s_ms("2013-06-03T23:59:59Z"), false, 0, 0, &p);
    ok(p.allowed, "previous supplier allowed the second before the change");
    permission_check(&sp, "ALFA", "CHRL", "read.registers",
                     s_ms("2013-06-03T23:59:59Z"), false, 0, 0, &p);
    ok(!p.allowed, "gaining supplier denied before its start");

    permission_check(&sp, "ALFA", "BRVO", "read.registers", s_ms("2011-06-01"),
                     false, 0, 0, &p);
    ok(!p.allowed && strstr(p.message, "no supplier is registered"),
       "nobody registered: %s", p.message);
}

static void test_unranged_allowed(void)
{
    permission_t p;
    dir_supply_point_t sp = s_changed();
    permission_check(&sp, "ALFA", "CHRL", "read.registers",
                     s_ms("2013-07-01T12:00:00Z"), false, 0, 0, &p);
    ok(p.allowed, "registered supplier allowed: %s", p.message);
    is_str(p.reason, "", "no reason code");
    is_int(p.range_count, 0, "no ranges for an unranged read");
    ok(!p.clipped, "not clipped");
    ok(strstr(p.message, "ALFA installed") && strstr(p.message, "CHRL is the "
                                                                "registered"),
       "message names both suppliers");
}

static void test_clipping(void)
{
    permission_t p;
    dir_supply_point_t sp = s_changed();
    int64_t now = s_ms("2013-07-01T12:00:00Z");
    permission_check(&sp, "ALFA", "CHRL", "read.profile", now, true,
                     s_ms("2013-06-10"), s_ms("2013-06-17"), &p);
    ok(p.allowed, "range inside the registration allowed");
    is_int(p.range_count, 1, "one range");
    ok(!p.clipped, "not clipped");
    is_int(p.ranges[0].from_ms, s_ms("2013-06-10"), "from kept");
    is_int(p.ranges[0].to_ms, s_ms("2013-06-17"), "to kept");

    permission_check(&sp, "ALFA", "CHRL", "read.profile", now, true,
                     s_ms("2013-06-01"), s_ms("2013-06-08"), &p);
    ok(p.allowed, "range across the change allowed");
    ok(p.clipped, "clipped");
    is_int(p.range_count, 1, "one range");
    is_int(p.ranges[0].from_ms, s_ms("2013-06-04"), "starts at the change");
    is_int(p.ranges[0].to_ms, s_ms("2013-06-08"), "ends where requested");
    ok(strstr(p.message, "served 2013-06-04T00:00:00Z to 2013-06-08T00:00:00Z"),
       "message gives the served range: %s", p.message);
    ok(strstr(p.message, "clipped from the requested 2013-06-01T00:00:00Z"),
       "message gives the requested range");

    permission_check(&sp, "ALFA", "CHRL", "read.profile", now, true,
                     s_ms("2013-05-01"), s_ms("2013-05-08"), &p);
    ok(!p.allowed, "range before the registration denied");
    is_str(p.reason, "outside_registration", "reason outside_registration");
    ok(!p.clipped && p.range_count == 0, "nothing served");
    ok(strstr(p.message, "its registration periods are "
                         "2013-06-04T00:00:00Z onwards"),
       "message gives the periods: %s", p.message);

    permission_check(&sp, "ALFA", "CHRL", "read.profile", now, true,
                     s_ms("2013-06-10"), s_ms("2013-06-10"), &p);
    ok(!p.allowed, "empty range denied");
    is_str(p.reason, "outside_registration", "empty: outside_registration");
    ok(strstr(p.message, "empty") != NULL, "message says empty: %s", p.message);
}

static void test_several_periods(void)
{
    permission_t p;
    dir_supply_point_t sp;
    memset(&sp, 0, sizeof sp);
    strcpy(sp.mpxn, "2000012345672");
    sp.smart = true;
    strcpy(sp.installing, "ALFA");
    /* Given out of order, as the rule must not depend on it. */
    s_register(&sp, "CHRL", "2013-05-01", NULL);
    s_register(&sp, "CHRL", "2013-01-01", "2013-03-01");
    s_register(&sp, "BRVO", "2013-03-01", "2013-05-01");
    permission_check(&sp, "ALFA", "CHRL", "read.profile", s_ms("2013-06-01"),
                     true, s_ms("2013-02-01"), s_ms("2013-06-01"), &p);
    ok(p.allowed, "read over two periods allowed");
    ok(p.clipped, "clipped around the other supplier's period");
    is_int(p.range_count, 2, "two served ranges");
    is_int(p.ranges[0].from_ms, s_ms("2013-02-01"), "first from");
    is_int(p.ranges[0].to_ms, s_ms("2013-03-01"), "first to");
    is_int(p.ranges[1].from_ms, s_ms("2013-05-01"), "second from");
    is_int(p.ranges[1].to_ms, s_ms("2013-06-01"), "second to");
    ok(strstr(p.message, "2013-02-01T00:00:00Z to 2013-03-01T00:00:00Z, "
                         "2013-05-01T00:00:00Z to 2013-06-01T00:00:00Z"),
       "message lists both: %s", p.message);

    permission_check(&sp, "ALFA", "CHRL", "read.profile", s_ms("2013-06-01"),
                     true, s_ms("2013-03-10"), s_ms("2013-04-10"), &p);
    ok(!p.allowed, "read inside the other supplier's period denied");
    ok(strstr(p.message, "2013-01-01T00:00:00Z to 2013-03-01T00:00:00Z, "
                         "2013-05-01T00:00:00Z onwards"),
       "message lists the requester's periods: %s", p.message);

    memset(&sp, 0, sizeof sp);
    strcpy(sp.mpxn, "2000012345672");
    sp.smart = true;
    strcpy(sp.installing, "ALFA");
    s_register(&sp, "CHRL", "2013-01-01", "2013-02-01");
    s_register(&sp, "CHRL", "2013-02-01", NULL);
    permission_check(&sp, "ALFA", "CHRL", "read.profile", s_ms("2013-06-01"),
                     true, s_ms("2013-01-15"), s_ms("2013-02-15"), &p);
    ok(p.allowed && p.range_count == 1 && !p.clipped,
       "adjacent periods served as one unclipped range");
}

static void test_many_periods(void)
{
    permission_t p;
    dir_supply_point_t sp;
    char from[16];
    char to[16];
    memset(&sp, 0, sizeof sp);
    strcpy(sp.mpxn, "2000012345672");
    sp.smart = true;
    strcpy(sp.installing, "ALFA");
    for (int day = 1; day <= 20; day++) {
        snprintf(from, sizeof from, "2013-03-%02d", day);
        snprintf(to, sizeof to, "2013-03-%02d", day + 1);
        s_register(&sp, day % 2 ? "CHRL" : "BRVO", from, to);
    }
    s_register(&sp, "CHRL", "2013-03-21", NULL);
    permission_check(&sp, "ALFA", "CHRL", "read.profile", s_ms("2013-04-01"),
                     true, s_ms("2013-03-01"), s_ms("2013-04-01"), &p);
    ok(p.allowed, "many periods allowed");
    is_int(p.range_count, PERMISSION_MAX_RANGES, "at most 8 ranges served");
    ok(p.clipped, "the rest is clipped");
    is_int(p.ranges[0].from_ms, s_ms("2013-03-01"), "earliest range first");
}

int main(void)
{
    test_rule_one();
    test_rule_two();
    test_unranged_allowed();
    test_clipping();
    test_several_periods();
    test_many_periods();
    return tap_done();
}
