/* The directory's per-supplier token buckets and its key expiry
 * warnings, with times given by the test. */
#include <string.h>

#include "directory_key_watch.h"
#include "directory_rate.h"
#include "log.h"
#include "tap.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define T0     1700000000000LL

static void test_burst_and_refill(void)
{
    directory_rate_t *rate = directory_rate_new(10, 3);
    if (!rate)
        bail_out("cannot make a rate limiter");
    int64_t now = 5000;
    for (int i = 0; i < 3; i++)
        is_int(directory_rate_take(rate, "ALFA", now), 0,
               "query %d of the burst goes through", i + 1);
    is_int(directory_rate_take(rate, "ALFA", now), 100,
           "the fourth waits 100 ms at 10 a second");
    is_int(directory_rate_take(rate, "ALFA", now + 40), 60,
           "40 ms later it waits 60 ms more");
    is_int(directory_rate_take(rate, "ALFA", now + 100), 0,
           "after 100 ms one query goes through");
    is_int(directory_rate_take(rate, "ALFA", now + 100), 100,
           "and the next waits again");
    is_int(directory_rate_take(rate, "BRVO", now), 0,
           "another supplier has its own bucket");
    is_int(directory_rate_take(rate, "ALFA", now + 3600 * 1000), 0,
           "after an hour the bucket is full again");
    is_int(directory_rate_take(rate, "ALFA", now + 3600 * 1000), 0,
           "second of the refilled burst");
    is_int(directory_rate_take(rate, "ALFA", now + 3600 * 1000), 0,
           "third of the refilled burst");
    ok(directory_rate_take(rate, "ALFA", now + 3600 * 1000) > 0,
       "but no more than the burst");
    directory_rate_destroy(&rate);
    ok(rate == NULL, "destroy nulls the pointer");
}

static void test_high_rate(void)
{
    directory_rate_t *rate =
        directory_rate_new(DIRECTORY_RATE_MAX, DIRECTORY_RATE_MAX);
    if (!rate)
        bail_out("cannot make a rate limiter");
    int passed = 0;
    for (int i = 0; i < 1000; i++)
        passed += directory_rate_take(rate, "ALFA", 1) == 0;
    is_int(passed, 1000, "the largest rate lets a burst of 1000 through");
    is_int(directory_rate_take(rate, "ALFA", INT64_MAX / 2), 0,
           "a very long pause does not overflow");
    directory_rate_destroy(&rate);
}

static dir_supplier_t s_supplier(int64_t first_end, int64_t second_from)
{
    dir_supplier_t supplier = {0};
    snprintf(supplier.mpid, sizeof supplier.mpid, "ALFA");
    supplier.keys[0] = (dir_key_t){
        .type = DIR_KEY_CURVE, .valid_from_ms = 0, .valid_to_ms = first_end};
    memset(supplier.keys[0].curve_key, 'a', 40);
    supplier.keys[1] = (dir_key_t){.type = DIR_KEY_SIGN,
                                   .valid_from_ms = second_from,
                                   .valid_to_ms = DIR_OPEN_END};
    supplier.key_count = 2;
    return supplier;
}

static void test_expiry_warnings(void)
{
    directory_key_watch_t *watch = directory_key_watch_new(14 * DAY_MS);
    if (!watch)
        bail_out("cannot make a key watch");
    dir_supplier_t supplier = s_supplier(T0 + 3 * DAY_MS, 0);
    is_int(directory_key_watch_check(watch, &supplier, 1, T0), 1,
           "a key ending in 3 days is warned about");
    is_int(directory_key_watch_check(watch, &supplier, 1, T0 + 3600000), 0,
           "not again an hour later");
    is_int(directory_key_watch_check(watch, &supplier, 1, T0 + DAY_MS), 1,
           "again a day later");
    is_int(directory_key_watch_check(watch, &supplier, 1, T0 + 3 * DAY_MS), 0,
           "not once it has ended");

    dir_supplier_t later = s_supplier(T0 + 20 * DAY_MS, 0);
    memset(later.keys[0].curve_key, 'b', 40);
    is_int(directory_key_watch_check(watch, &later, 1, T0), 0,
           "a key ending in 20 days is not warned about yet");
    is_int(directory_key_watch_check(watch, &later, 1, T0 + 6 * DAY_MS + 1), 1,
           "but 14 days before its end");

    dir_supplier_t revoked = s_supplier(T0 + 3 * DAY_MS, 0);
    memset(revoked.keys[0].curve_key, 'r', 40);
    revoked.keys[0].state = DIR_KEY_REVOKED;
    revoked.keys[0].revoked_ms = T0 - 1;
    is_int(directory_key_watch_check(watch, &revoked, 1, T0), 0,
           "a revoked key is not warned about");
    directory_key_watch_destroy(&watch);
    ok(watch == NULL, "destroy nulls the pointer");
}

int main(void)
{
    log_init("t0242", false);
    test_burst_and_refill();
    test_high_rate();
    test_expiry_warnings();
    return tap_done();
}
