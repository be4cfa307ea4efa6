/* The change feed's tracking and catch-up, driven through a sink that
 * records what the feed drops and answers dir.changes from a change log in
 * memory: synchronisation, in-order changes, duplicates, gaps from a
 * missed change or a head, paging, gaps too large to read, a directory
 * that cannot answer, and change numbers that go back. */
#include <stdlib.h>
#include <string.h>

#include "dir_feed.h"
#include "tap.h"

#define S_LOG_MAX 20000

/* The directory as the sink sees it, and what the feed did. */
typedef struct {
    dir_change_t log[S_LOG_MAX]; /* log[i] has number i + 1 */
    uint64_t head;
    size_t page_size;
    bool fail;
    size_t fetches;
    uint64_t applied[S_LOG_MAX];
    char applied_mpxn[S_LOG_MAX][DIR_MPXN_SIZE];
    size_t applied_count;
    size_t flushes;
} s_directory_t;

static s_directory_t s_dir;

static void s_apply(void *context, const dir_change_t *change)
{
    s_directory_t *dir = context;
    if (dir->applied_count == S_LOG_MAX)
        bail_out("too many changes applied");
    snprintf(dir->applied_mpxn[dir->applied_count], DIR_MPXN_SIZE, "%s",
             change->mpxn);
    dir->applied[dir->applied_count++] = change->number;
}

static void s_flush(void *context)
{
    ((s_directory_t *)context)->flushes++;
}

static dir_status_t s_fetch(void *context, uint64_t since,
                            dir_change_list_t *out, char *error,
                            size_t error_size)
{
    s_directory_t *dir = context;
    dir->fetches++;
    memset(out, 0, sizeof *out);
    if (dir->fail) {
        snprintf(error, error_size, "directory did not answer");
        return DIR_UNAVAILABLE;
    }
    out->since = since;
    out->head = dir->head;
    out->changes = calloc(dir->page_size, sizeof *out->changes);
    if (!out->changes)
        bail_out("out of memory");
    for (uint64_t n = since + 1; n <= dir->head && out->count < dir->page_size;
         n++)
        out->changes[out->count++] = dir->log[n - 1];
    uint64_t last = out->count ? out->changes[out->count - 1].number : since;
    out->more = last < dir->head;
    return DIR_OK;
}

/* Appends changes up to number to the directory's log, when it does not
 * hold them yet. */
static void s_record_until(uint64_t number)
{
    for (uint64_t n = s_dir.head + 1; n <= number; n++) {
        dir_change_t *change = &s_dir.log[n - 1];
        memset(change, 0, sizeof *change);
        change->number = n;
        change->at_ms = (int64_t)n;
        snprintf(change->kind, sizeof change->kind, DIR_CHANGE_SUPPLIER);
        snprintf(change->mpxn, sizeof change->mpxn, "1200023305967");
    }
    if (number > s_dir.head)
        s_dir.head = number;
}

static void s_send_head(dir_feed_t *feed, uint64_t head)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_changes_pack_head(&buffer, head, 1);
    dir_feed_handle(feed, buffer.data, buffer.size, 1000);
    msgpack_sbuffer_destroy(&buffer);
}

/* Records change number and sends it on the feed. */
static void s_send_change(dir_feed_t *feed, uint64_t number)
{
    s_record_until(number);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    dir_changes_pack_change(&buffer, &s_dir.log[number - 1], 1);
    dir_feed_handle(feed, buffer.data, buffer.size, 1000);
    msgpack_sbuffer_destroy(&buffer);
}

static void s_reset(size_t page_size)
{
    memset(&s_dir, 0, sizeof s_dir);
    s_dir.page_size = page_size;
}

static dir_feed_t *s_feed(void)
{
    dir_feed_sink_t sink = {.apply = s_apply,
                            .flush = s_flush,
                            .fetch = s_fetch,
                            .context = &s_dir};
    dir_feed_t *feed = dir_feed_new(&sink);
    if (!feed)
        bail_out("dir_feed_new failed");
    return feed;
}

/* Checks that the changes applied since index first are from to to. */
static void s_expect_applied(size_t first, uint64_t from, uint64_t to,
                             const char *name)
{
    size_t expected = (size_t)(to - from + 1);
    is_int(s_dir.applied_count - first, expected, "%s: %zu changes applied",
           name, expected);
    bool in_order = true;
    for (size_t i = 0; i < expected && first + i < s_dir.applied_count; i++)
        in_order = in_order && s_dir.applied[first + i] == from + i;
    ok(in_order, "%s: changes %llu to %llu in order", name,
       (unsigned long long)from, (unsigned long long)to);
}

static void test_synchronise_and_follow(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    ok(!dir_feed_synced(feed), "a new feed is not synchronised");
    s_record_until(5);
    s_send_head(feed, 5);
    ok(dir_feed_synced(feed), "the first head synchronises it");
    is_int(dir_feed_last(feed), 5, "at the head's number");
    is_int(s_dir.flushes, 1, "dropping every cached answer once");
    is_int(s_dir.fetches, 0, "without asking dir.changes");

    s_send_change(feed, 6);
    s_expect_applied(0, 6, 6, "the next change");
    is_str(s_dir.applied_mpxn[0], "1200023305967", "with its supply point");
    is_int(dir_feed_last(feed), 6, "last is 6");
    s_send_change(feed, 6);
    is_int(s_dir.applied_count, 1, "a repeated change is not applied again");
    is_int(dir_feed_stats(feed)->ignored, 1, "it is counted as ignored");
    s_send_head(feed, 6);
    is_int(s_dir.fetches, 0, "a head equal to last asks nothing");
    dir_feed_destroy(&feed);
    ok(feed == NULL, "destroy clears the pointer");
}

static void test_gaps(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    s_record_until(3);
    s_send_head(feed, 3);

    s_record_until(5);
    s_send_change(feed, 6);
    s_expect_applied(0, 4, 6, "a missed change is caught up");
    is_int(s_dir.fetches, 1, "with one dir.changes");
    is_int(dir_feed_stats(feed)->catch_ups, 1, "counted as a catch-up");
    is_int(dir_feed_last(feed), 6, "last is 6");

    s_record_until(9);
    s_send_head(feed, 9);
    s_expect_applied(3, 7, 9, "a head ahead of last is caught up");
    is_int(dir_feed_last(feed), 9, "last is 9");

    s_send_change(feed, 8);
    is_int(s_dir.applied_count, 6, "a change already caught up is ignored");
    is_int(s_dir.flushes, 1, "no gap dropped the whole cache");
    dir_feed_destroy(&feed);
}

static void test_paging(void)
{
    s_reset(10);
    dir_feed_t *feed = s_feed();
    s_send_head(feed, 0);
    s_record_until(25);
    s_send_head(feed, 25);
    s_expect_applied(0, 1, 25, "a gap of 25 read in pages of 10");
    is_int(s_dir.fetches, 3, "in three requests");
    is_int(dir_feed_last(feed), 25, "last is 25");

    size_t before = s_dir.applied_count;
    uint64_t too_many = 25 + DIR_FEED_MAX_PAGES * 10 + 5;
    s_record_until(too_many);
    s_send_head(feed, too_many);
    is_int(s_dir.fetches, 3 + DIR_FEED_MAX_PAGES,
           "a larger gap reads at most %d pages", DIR_FEED_MAX_PAGES);
    is_int(s_dir.applied_count - before, DIR_FEED_MAX_PAGES * 10,
           "and applies what they held");
    is_int(s_dir.flushes, 2, "then drops every cached answer");
    is_int(dir_feed_last(feed), too_many, "and takes the head as last");
    dir_feed_destroy(&feed);
}

static void test_directory_fails(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    s_send_head(feed, 0);
    s_dir.fail = true;
    s_record_until(4);
    s_send_change(feed, 5);
    is_int(s_dir.applied_count, 0, "nothing is applied without dir.changes");
    is_int(s_dir.flushes, 2, "every cached answer is dropped instead");
    is_int(dir_feed_last(feed), 5, "and the change is taken as last");
    s_dir.fail = false;
    s_send_change(feed, 6);
    s_expect_applied(0, 6, 6, "the feed goes on with the next change");
    dir_feed_destroy(&feed);
}

static void test_numbers_go_back(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    s_record_until(10);
    s_send_head(feed, 10);
    s_send_head(feed, 4);
    is_int(dir_feed_last(feed), 4, "a lower head is taken as last");
    is_int(s_dir.flushes, 2, "after dropping every cached answer");
    dir_feed_destroy(&feed);
}

static void test_catch_up_ahead_of_the_feed(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    s_record_until(5);
    s_send_head(feed, 5);
    /* Change 6 is lost and change 8 is committed but not yet published
     * when change 7 arrives. */
    s_record_until(8);
    s_send_change(feed, 7);
    s_expect_applied(0, 6, 8, "the catch-up reads past the feed");
    is_int(dir_feed_last(feed), 8, "last is 8");
    s_send_head(feed, 7);
    is_int(s_dir.flushes, 1,
           "a head below last but not below what the "
           "feed sent before drops nothing");
    is_int(s_dir.fetches, 1, "and asks nothing");
    s_send_change(feed, 8);
    is_int(dir_feed_stats(feed)->ignored, 1, "change 8 is then ignored");
    s_send_head(feed, 8);
    is_int(s_dir.flushes, 1, "head 8 drops nothing");
    s_send_head(feed, 7);
    is_int(s_dir.flushes, 2,
           "a head below one the feed sent is a "
           "log that went back");
    is_int(dir_feed_last(feed), 7, "and is taken as last");
    dir_feed_destroy(&feed);
}

static void test_first_message_is_a_change(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    s_send_change(feed, 12);
    ok(dir_feed_synced(feed), "a first change synchronises the feed");
    is_int(dir_feed_last(feed), 12, "at its number");
    is_int(s_dir.flushes, 1, "dropping every cached answer");
    is_int(s_dir.applied_count, 0, "which covers the change itself");
    dir_feed_destroy(&feed);
}

static void test_rejected_frames(void)
{
    s_reset(100);
    dir_feed_t *feed = s_feed();
    const char garbage[] = "not msgpack";
    dir_feed_handle(feed, garbage, sizeof garbage, 1000);
    is_int(dir_feed_stats(feed)->rejected, 1, "a bad frame is counted");
    ok(!dir_feed_synced(feed), "and changes nothing");
    s_send_head(feed, 0);
    ok(dir_feed_synced(feed), "a head after it synchronises");
    ok(dir_feed_socket(feed) == NULL, "a feed without a socket has none");
    is_int(dir_feed_receive(feed), 0, "and receives nothing");
    dir_feed_destroy(&feed);
}

int main(void)
{
    test_synchronise_and_follow();
    test_gaps();
    test_paging();
    test_directory_fails();
    test_numbers_go_back();
    test_catch_up_ahead_of_the_feed();
    test_first_message_is_a_change();
    test_rejected_frames();
    return tap_done();
}
