/* Accepted row keys of one import, in a temporary sqlite database. */
#include "directory_seen.h"

#include <assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The set needs no durability: it is rebuilt from the input on every run.
 * So the database has no journal and no syncs, and it keeps one write
 * transaction open for its whole life. Its page cache is limited to
 * 64 MiB; the rest spills to the temporary file. */
static const char s_setup[] =
    "PRAGMA journal_mode = OFF;"
    "PRAGMA synchronous = OFF;"
    "PRAGMA locking_mode = EXCLUSIVE;"
    "PRAGMA cache_size = -65536;"
    "CREATE TABLE seen (first INTEGER NOT NULL, second INTEGER NOT NULL,"
    " line INTEGER NOT NULL, PRIMARY KEY (first, second)) WITHOUT ROWID;"
    "BEGIN;";

struct directory_seen {
    sqlite3 *handle;
    sqlite3_stmt *add;
    sqlite3_stmt *find;
    sqlite3_stmt *remove;
};

static int s_fail(directory_seen_t *self, const char *what, char *error,
                  size_t error_size)
{
    snprintf(error, error_size,
             "%s failed in the import's temporary "
             "database: %s",
             what, sqlite3_errmsg(self->handle));
    return -1;
}

directory_seen_t *directory_seen_new(char *error, size_t error_size)
{
    directory_seen_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, error_size, "out of memory for the import's key set");
        return NULL;
    }
    /* An empty file name makes a private temporary database on disk. One
     * thread uses it, so it needs no mutex. */
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2("", &self->handle, flags, NULL) != SQLITE_OK ||
        sqlite3_exec(self->handle, s_setup, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(
            self->handle, "INSERT OR IGNORE INTO seen VALUES (?1, ?2, ?3)", -1,
            SQLITE_PREPARE_PERSISTENT, &self->add, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(self->handle,
                           "SELECT line FROM seen "
                           "WHERE first = ?1 AND second = ?2",
                           -1, SQLITE_PREPARE_PERSISTENT, &self->find,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(
            self->handle, "DELETE FROM seen WHERE first = ?1 AND second = ?2",
            -1, SQLITE_PREPARE_PERSISTENT, &self->remove, NULL) != SQLITE_OK) {
        s_fail(self, "setting up", error, error_size);
        directory_seen_destroy(&self);
    }
    return self;
}

void directory_seen_destroy(directory_seen_t **self_p)
{
    assert(self_p);
    directory_seen_t *self = *self_p;
    if (!self)
        return;
    sqlite3_finalize(self->add);
    sqlite3_finalize(self->find);
    sqlite3_finalize(self->remove);
    sqlite3_close(self->handle);
    free(self);
    *self_p = NULL;
}

static void s_bind_key(sqlite3_stmt *stmt, int64_t first, int64_t second)
{
    sqlite3_bind_int64(stmt, 1, first);
    sqlite3_bind_int64(stmt, 2, second);
}

/* Finds the line stored with a key that the set has. */
static int s_find_line(directory_seen_t *self, int64_t first, int64_t second,
                       size_t *line, char *error, size_t error_size)
{
    s_bind_key(self->find, first, second);
    int rc = sqlite3_step(self->find);
    if (rc == SQLITE_ROW)
        *line = (size_t)sqlite3_column_int64(self->find, 0);
    sqlite3_reset(self->find);
    if (rc != SQLITE_ROW)
        return s_fail(self, "reading the key set", error, error_size);
    return 0;
}

int directory_seen_add(directory_seen_t *self, int64_t first, int64_t second,
                       size_t line, size_t *earlier_line, char *error,
                       size_t error_size)
{
    s_bind_key(self->add, first, second);
    sqlite3_bind_int64(self->add, 3, (int64_t)line);
    int rc = sqlite3_step(self->add);
    sqlite3_reset(self->add);
    if (rc != SQLITE_DONE)
        return s_fail(self, "updating the key set", error, error_size);
    if (sqlite3_changes(self->handle) == 1)
        return 1;
    if (s_find_line(self, first, second, earlier_line, error, error_size))
        return -1;
    return 0;
}

int directory_seen_remove(directory_seen_t *self, int64_t first, int64_t second,
                          char *error, size_t error_size)
{
    s_bind_key(self->remove, first, second);
    int rc = sqlite3_step(self->remove);
    sqlite3_reset(self->remove);
    if (rc != SQLITE_DONE)
        return s_fail(self, "updating the key set", error, error_size);
    return 0;
}

int directory_seen_clear(directory_seen_t *self, char *error, size_t error_size)
{
    if (sqlite3_exec(self->handle, "DELETE FROM seen", NULL, NULL, NULL) !=
        SQLITE_OK)
        return s_fail(self, "clearing the key set", error, error_size);
    return 0;
}

int64_t directory_seen_mpxn_code(const char *mpxn)
{
    int64_t number = 0;
    size_t length = strlen(mpxn);
    assert(length >= 6);
    assert(length <= 13);
    for (size_t i = 0; i < length; i++)
        number = number * 10 + (mpxn[i] - '0');
    return (int64_t)length * 10000000000000LL + number;
}
