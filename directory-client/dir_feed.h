/* The node's subscriber of the directory's change feed.
 *
 * It reads dir.change and dir.head messages from a CURVE SUB socket pinned
 * to the directory's key, and drops the cached answers that each change
 * may have made stale: the supply point a change names, the supplier it
 * names, or every answer for a change that names neither (a bulk load).
 * It tracks the number of the last change it has applied. A gap (a change
 * numbered above the next one, or a dir.head above the last number, which
 * is how a reconnection or a directory restart shows) is closed by asking
 * dir.changes for the changes after the last number and dropping those
 * entries too. When it cannot learn what it missed it drops every cached
 * answer, which is always safe. The first message after start-up also
 * drops every answer, because answers cached before it could predate
 * changes the node never saw.
 *
 * What the feed does with a change goes through a sink, so that the logic
 * can run without sockets; dir_feed_new_for_client makes the sink of a
 * dirclient. Not thread-safe: the node's loop thread owns it.
 */
#ifndef SDX_DIR_FEED_H
#define SDX_DIR_FEED_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_changes.h"
#include "dirclient.h"

/* Silence after which the feed logs that it has heard nothing. dir.head
 * comes every second, so this is three missed heartbeats. */
#define DIR_FEED_SILENCE_MS 3000
/* Pages of dir.changes read to close one gap. A larger gap drops every
 * cached answer instead. */
#define DIR_FEED_MAX_PAGES 10

typedef struct {
    /* Drops the cached answers that change may have made stale. */
    void (*apply)(void *context, const dir_change_t *change);
    /* Drops every cached answer. */
    void (*flush)(void *context);
    /* Fetches the changes after since, as dirclient_changes does. */
    dir_status_t (*fetch)(void *context, uint64_t since, dir_change_list_t *out,
                          char *error, size_t error_size);
    void *context;
} dir_feed_sink_t;

/* Counts of what the feed did, for logs and tests. */
typedef struct {
    uint64_t applied;   /* changes applied from the feed or a catch-up */
    uint64_t ignored;   /* changes already applied */
    uint64_t catch_ups; /* dir.changes exchanges that closed a gap */
    uint64_t flushes;   /* times every cached answer was dropped */
    uint64_t rejected;  /* frames that were not a valid feed message */
} dir_feed_stats_t;

typedef struct dir_feed dir_feed_t;

/* Creates a feed without a socket that reports to sink (copied). Returns
 * NULL when out of memory. */
dir_feed_t *dir_feed_new(const dir_feed_sink_t *sink);

/* Returns the sink that applies changes to client's cache and fetches
 * dir.changes through it, for a caller that wraps it with its own. */
dir_feed_sink_t dir_feed_client_sink(dirclient_t *client);

/* Creates a feed whose sink is client's cache and dir.changes requests.
 * client is borrowed and must outlive the feed. */
dir_feed_t *dir_feed_new_for_client(dirclient_t *client);

/* Closes the socket and sets *self_p to NULL; NULL is allowed. */
void dir_feed_destroy(dir_feed_t **self_p);

/* Opens the SUB socket to endpoint, pinned to the directory's CURVE key
 * (Z85), with the node's own_cert. The socket reconnects by itself.
 * Returns 0, or -1 with a sentence in error. */
int dir_feed_connect(dir_feed_t *self, const char *endpoint,
                     const char *directory_curve_key, zcert_t *own_cert,
                     char *error, size_t error_size);

/* The SUB socket to poll, or NULL before dir_feed_connect; the feed owns
 * it. */
zsock_t *dir_feed_socket(dir_feed_t *self);

/* Handles the messages waiting on the socket, without blocking, at most
 * 1000 of them. Returns how many it handled. */
int dir_feed_receive(dir_feed_t *self);

/* Handles one feed frame received at now_ms (UTC ms). */
void dir_feed_handle(dir_feed_t *self, const void *data, size_t size,
                     int64_t now_ms);

/* Logs once when nothing has arrived for DIR_FEED_SILENCE_MS. Call it
 * from the loop's timer. */
void dir_feed_tick(dir_feed_t *self, int64_t now_ms);

/* True once a first message has set the last change number. */
bool dir_feed_synced(const dir_feed_t *self);

/* The number of the last change applied, 0 before synchronisation. */
uint64_t dir_feed_last(const dir_feed_t *self);

/* The feed's counters; the feed owns them. */
const dir_feed_stats_t *dir_feed_stats(const dir_feed_t *self);

#endif
