/* Change feed subscriber and catch-up. */
#include "dir_feed.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "curve.h"
#include "log.h"

/* Largest feed frame accepted; feed messages are under 200 bytes. */
#define S_MAX_FRAME 4096
/* Messages handled by one dir_feed_receive call. */
#define S_RECEIVE_MAX 1000

struct dir_feed {
    dir_feed_sink_t sink;
    zsock_t *socket;
    char endpoint[DIR_ENDPOINT_SIZE];
    bool synced;
    uint64_t last;
    /* The largest number the feed itself has sent, in a dir.change or a
     * dir.head. It only rises while the directory's log does, whereas last
     * can be ahead of it after dir.changes listed entries not yet
     * published. */
    uint64_t announced;
    int64_t started_ms;
    int64_t heard_ms; /* when the last message arrived, 0 before any */
    bool silent;      /* silence was logged and nothing came since */
    dir_feed_stats_t stats;
};

dir_feed_t *dir_feed_new(const dir_feed_sink_t *sink)
{
    assert(sink && sink->apply && sink->flush && sink->fetch);
    dir_feed_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->sink = *sink;
    self->started_ms = clock_now_ms();
    snprintf(self->endpoint, sizeof self->endpoint, "(none)");
    return self;
}

void dir_feed_destroy(dir_feed_t **self_p)
{
    assert(self_p);
    dir_feed_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->socket);
    free(self);
    *self_p = NULL;
}

/* The sink of a directory client */

static void s_client_apply(void *context, const dir_change_t *change)
{
    dirclient_t *client = context;
    if (change->mpxn[0])
        dirclient_forget(client, change->mpxn);
    if (change->mpid[0])
        dirclient_forget_supplier(client, change->mpid);
    if (!change->mpxn[0] && !change->mpid[0])
        dirclient_flush(client);
}

static void s_client_flush(void *context)
{
    dirclient_flush(context);
}

static dir_status_t s_client_fetch(void *context, uint64_t since,
                                   dir_change_list_t *out, char *error,
                                   size_t error_size)
{
    return dirclient_changes(context, since, out, error, error_size);
}

dir_feed_sink_t dir_feed_client_sink(dirclient_t *client)
{
    return (dir_feed_sink_t){.apply = s_client_apply,
                             .flush = s_client_flush,
                             .fetch = s_client_fetch,
                             .context = client};
}

dir_feed_t *dir_feed_new_for_client(dirclient_t *client)
{
    dir_feed_sink_t sink = dir_feed_client_sink(client);
    return dir_feed_new(&sink);
}

/* Socket */

int dir_feed_connect(dir_feed_t *self, const char *endpoint,
                     const char *directory_curve_key, zcert_t *own_cert,
                     char *error, size_t error_size)
{
    assert(!self->socket);
    self->socket = curve_client_new(ZMQ_SUB, own_cert, directory_curve_key,
                                    endpoint, S_MAX_FRAME, error, error_size);
    if (!self->socket)
        return -1;
    zsock_set_subscribe(self->socket, "");
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    return 0;
}

zsock_t *dir_feed_socket(dir_feed_t *self)
{
    return self->socket;
}

int dir_feed_receive(dir_feed_t *self)
{
    int handled = 0;
    while (self->socket && handled < S_RECEIVE_MAX &&
           (zsock_events(self->socket) & ZMQ_POLLIN)) {
        zmsg_t *message = zmsg_recv(self->socket);
        if (!message)
            break;
        zframe_t *frame = zmsg_first(message);
        if (zmsg_size(message) == 1)
            dir_feed_handle(self, zframe_data(frame), zframe_size(frame),
                            clock_now_ms());
        else {
            self->stats.rejected++;
            log_peer_warning("directory feed message dropped: %zu frames, "
                             "expected 1 endpoint=%s",
                             zmsg_size(message), self->endpoint);
        }
        zmsg_destroy(&message);
        handled++;
    }
    return handled;
}

/* Tracking */

static void s_flush(dir_feed_t *self)
{
    self->sink.flush(self->sink.context);
    self->stats.flushes++;
}

static void s_apply(dir_feed_t *self, const dir_change_t *change)
{
    self->sink.apply(self->sink.context, change);
    self->last = change->number;
    self->stats.applied++;
    log_debug("directory change applied change=%llu kind=%s mpxn=%s mpid=%s",
              (unsigned long long)change->number, change->kind,
              change->mpxn[0] ? change->mpxn : "-",
              change->mpid[0] ? change->mpid : "-");
}

/* Takes number as the last change without knowing what came before it,
 * so every cached answer goes. */
static void s_synchronise(dir_feed_t *self, uint64_t number)
{
    s_flush(self);
    self->synced = true;
    self->last = number;
    self->announced = number;
    log_info("directory feed synchronised change=%llu endpoint=%s",
             (unsigned long long)number, self->endpoint);
}

/* Applies one page of a catch-up. Returns false when the page ends it. */
static bool s_apply_page(dir_feed_t *self, const dir_change_list_t *page)
{
    for (size_t i = 0; i < page->count; i++)
        s_apply(self, &page->changes[i]);
    if (page->count == 0 && page->head > self->last)
        self->last = page->head;
    return page->more && page->count > 0;
}

/* Gives up closing a gap: drops every cached answer, which covers every
 * change up to now, and takes number as the last one. */
static void s_give_up(dir_feed_t *self, uint64_t number, const char *why)
{
    log_warning("directory feed gap not closed, dropping every cached "
                "answer: %s last=%llu to=%llu",
                why, (unsigned long long)self->last,
                (unsigned long long)number);
    s_flush(self);
    if (number > self->last)
        self->last = number;
}

/* Closes the gap between last and target with dir.changes. */
static void s_catch_up(dir_feed_t *self, uint64_t target)
{
    uint64_t from = self->last;
    uint64_t head = target;
    bool more = true;
    char error[512];
    for (int page = 0; more && page < DIR_FEED_MAX_PAGES; page++) {
        dir_change_list_t list;
        if (self->sink.fetch(self->sink.context, self->last, &list, error,
                             sizeof error) != DIR_OK) {
            s_give_up(self, target, error);
            return;
        }
        more = s_apply_page(self, &list);
        head = list.head > head ? list.head : head;
        dir_change_list_clear(&list);
    }
    self->stats.catch_ups++;
    if (more || self->last < target) {
        s_give_up(self, head,
                  more ? "more changes than one catch-up reads"
                       : "the directory did not list them");
        return;
    }
    log_info("directory feed caught up with dir.changes from=%llu to=%llu "
             "endpoint=%s",
             (unsigned long long)from, (unsigned long long)self->last,
             self->endpoint);
}

/* Notes a number the feed sent; returns false when it is below one sent
 * before, which only happens when the directory's log went back (a
 * database restored from an older copy, say). */
static bool s_announce(dir_feed_t *self, uint64_t number)
{
    bool rising = number >= self->announced;
    if (rising)
        self->announced = number;
    return rising;
}

static void s_on_head(dir_feed_t *self, uint64_t head)
{
    if (!self->synced)
        s_synchronise(self, head);
    else if (!s_announce(self, head)) {
        log_warning("directory change numbers went back from %llu to %llu, "
                    "dropping every cached answer endpoint=%s",
                    (unsigned long long)self->announced,
                    (unsigned long long)head, self->endpoint);
        s_flush(self);
        self->last = head;
        self->announced = head;
    } else if (head > self->last)
        s_catch_up(self, head);
}

static void s_on_change(dir_feed_t *self, const dir_change_t *change)
{
    if (!self->synced)
        s_synchronise(self, change->number);
    else if (!s_announce(self, change->number) || change->number <= self->last)
        self->stats.ignored++;
    else if (change->number == self->last + 1)
        s_apply(self, change);
    else
        s_catch_up(self, change->number);
}

/* Notes that a message arrived, and logs the end of a silence. */
static void s_heard(dir_feed_t *self, int64_t now_ms)
{
    if (self->silent)
        log_info("directory feed resumed endpoint=%s last=%llu", self->endpoint,
                 (unsigned long long)self->last);
    self->silent = false;
    self->heard_ms = now_ms;
}

void dir_feed_handle(dir_feed_t *self, const void *data, size_t size,
                     int64_t now_ms)
{
    dir_feed_message_t message;
    char error[256];
    if (dir_changes_decode_message(data, size, &message, error, sizeof error) !=
        0) {
        self->stats.rejected++;
        log_peer_warning("directory feed message dropped: %s endpoint=%s",
                         error, self->endpoint);
        return;
    }
    s_heard(self, now_ms);
    if (message.is_head)
        s_on_head(self, message.head);
    else
        s_on_change(self, &message.change);
}

void dir_feed_tick(dir_feed_t *self, int64_t now_ms)
{
    int64_t since = self->heard_ms ? self->heard_ms : self->started_ms;
    if (self->silent || now_ms - since < DIR_FEED_SILENCE_MS)
        return;
    self->silent = true;
    log_warning("directory feed silent for %lld ms, cached answers now "
                "expire only by their lifetime endpoint=%s last=%llu",
                (long long)(now_ms - since), self->endpoint,
                (unsigned long long)self->last);
}

bool dir_feed_synced(const dir_feed_t *self)
{
    return self->synced;
}

uint64_t dir_feed_last(const dir_feed_t *self)
{
    return self->last;
}

const dir_feed_stats_t *dir_feed_stats(const dir_feed_t *self)
{
    return &self->stats;
}
