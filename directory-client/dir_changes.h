/* The directory's numbered changes as nodes see them: the messages of the
 * change feed and the signed answer to a dir.changes request.
 *
 * The directory publishes on its CURVE PUB socket one msgpack map per
 * change, {"v":1,"type":"dir.change","ts":ms,"change":N,"kind":K,"at":ms}
 * plus "mpxn" when the change is about one supply point and "mpid" when it
 * is about one supplier, and every second a heartbeat
 * {"v":1,"type":"dir.head","ts":ms,"change":N} with its latest number.
 * A change that names neither an mpxn nor an mpid (such as a bulk load)
 * may have changed anything. The answer to dir.changes lists the changes
 * after a number, in the same form; see docs/protocol.md.
 */
#ifndef SDX_DIR_CHANGES_H
#define SDX_DIR_CHANGES_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_records.h"

#define DIR_TYPE_CHANGE  "dir.change"
#define DIR_TYPE_HEAD    "dir.head"
#define DIR_KIND_CHANGES "changes"

/* Kinds of change the directory records. Nodes must accept other kinds
 * too, because later versions add some. */
#define DIR_CHANGE_LOAD       "load"
#define DIR_CHANGE_SUPPLIER   "change_of_supplier"
#define DIR_CHANGE_WITHDRAWAL "withdrawal"
/* A supplier's key was added, retired or revoked; names the supplier. */
#define DIR_CHANGE_KEY "key"

/* Maximum changes in one dir.changes answer. 1000 entries of about 80
 * bytes stay well inside the client's frame and envelope limits. */
#define DIR_CHANGES_MAX      1000
#define DIR_CHANGE_KIND_SIZE 32

typedef struct {
    uint64_t number;                 /* 1, 2, ... in the order recorded */
    char kind[DIR_CHANGE_KIND_SIZE]; /* such as DIR_CHANGE_SUPPLIER */
    char mpxn[DIR_MPXN_SIZE];        /* "" when not about one supply point */
    char mpid[DIR_MPID_SIZE];        /* "" when not about one supplier */
    int64_t at_ms;                   /* when the directory recorded it */
} dir_change_t;

/* A decoded feed message. */
typedef struct {
    bool is_head;        /* dir.head; otherwise dir.change */
    int64_t ts;          /* the directory's clock when it was sent */
    uint64_t head;       /* dir.head: the latest change number */
    dir_change_t change; /* dir.change */
} dir_feed_message_t;

/* Packs a dir.change message into out (caller initialises and frees). */
void dir_changes_pack_change(msgpack_sbuffer *out, const dir_change_t *change,
                             int64_t ts);

/* Packs a dir.head message into out. */
void dir_changes_pack_head(msgpack_sbuffer *out, uint64_t head, int64_t ts);

/* Decodes a feed message. Returns 0, or -1 with a sentence naming the
 * bad key or value. */
int dir_changes_decode_message(const void *data, size_t size,
                               dir_feed_message_t *out, char *error,
                               size_t error_size)
    __attribute__((warn_unused_result));

/* The changes after since, as one dir.changes answer carries them. */
typedef struct {
    uint64_t since;        /* the request's number */
    uint64_t head;         /* the directory's latest change number */
    bool more;             /* changes after the last listed exist */
    size_t count;          /* at most DIR_CHANGES_MAX */
    dir_change_t *changes; /* ordered by number, each above since */
    int64_t issued_ms;
    int64_t expires_ms;
} dir_change_list_t;

/* Packs the answer map of list into out. */
void dir_changes_pack_answer(msgpack_sbuffer *out,
                             const dir_change_list_t *list);

/* Decodes answer bytes into out, which then owns an array that
 * dir_change_list_clear frees. Checks that the numbers rise, are above
 * since and not above head. Returns 0, or -1 with a sentence. */
int dir_changes_read_answer(const void *answer, size_t size,
                            dir_change_list_t *out, char *error,
                            size_t error_size)
    __attribute__((warn_unused_result));

/* Frees the changes array of list and sets count to 0. */
void dir_change_list_clear(dir_change_list_t *list);

#endif
