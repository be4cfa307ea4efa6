/* Query log: buffered inserts into its own sqlite file. */
#include "directory_query_log.h"

#include <assert.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"

static const char s_schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "CREATE TABLE IF NOT EXISTS query_log ("
    " at_ms INTEGER NOT NULL,"
    " supplier TEXT,"
    " curve_key TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " mpxn TEXT,"
    " mpid TEXT,"
    " status TEXT NOT NULL"
    ");"
    "CREATE INDEX IF NOT EXISTS query_log_by_supplier"
    " ON query_log (supplier, at_ms);"
    "CREATE INDEX IF NOT EXISTS query_log_by_mpxn ON query_log (mpxn, at_ms);";

static const char s_insert[] =
    "INSERT INTO query_log (at_ms, supplier, curve_key, type, mpxn, mpid, "
    "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* An entry waiting for the next flush. */
typedef struct {
    int64_t at_ms;
    char supplier[DIR_MPID_SIZE];
    char curve_key[DIR_CURVE_KEY_SIZE];
    char type[ENVELOPE_TYPE_SIZE];
    char mpxn[DIR_MPXN_SIZE];
    char mpid[DIR_MPID_SIZE];
    char status[24];
} s_entry_t;

struct directory_query_log {
    sqlite3 *handle;
    char *path;
    sqlite3_stmt *insert;
    s_entry_t *entries; /* DIRECTORY_QUERY_LOG_BATCH */
    size_t count;
};

static int s_fail(sqlite3 *handle, const char *path, const char *what,
                  char *error, size_t error_size)
{
    snprintf(error, error_size, "%s failed in query log '%s': %s", what, path,
             handle ? sqlite3_errmsg(handle) : "out of memory");
    return -1;
}

directory_query_log_t *directory_query_log_open(const char *path, char *error,
                                                size_t error_size)
{
    directory_query_log_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path)) ||
        !(self->entries =
              calloc(DIRECTORY_QUERY_LOG_BATCH, sizeof *self->entries))) {
        snprintf(error, error_size, "out of memory opening query log '%s'",
                 path);
        directory_query_log_destroy(&self);
        return NULL;
    }
    if (sqlite3_open(path, &self->handle) != SQLITE_OK) {
        s_fail(self->handle, path, "opening", error, error_size);
        directory_query_log_destroy(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->handle, 1000);
    if (sqlite3_exec(self->handle, s_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(self->handle, s_insert, -1, &self->insert, NULL) !=
            SQLITE_OK) {
        s_fail(self->handle, path, "creating the table", error, error_size);
        directory_query_log_destroy(&self);
    }
    return self;
}

void directory_query_log_destroy(directory_query_log_t **self_p)
{
    assert(self_p);
    directory_query_log_t *self = *self_p;
    if (!self)
        return;
    char error[512];
    if (self->insert && directory_query_log_flush(self, error, sizeof error))
        fprintf(stderr, "%s\n", error);
    sqlite3_finalize(self->insert);
    sqlite3_close(self->handle);
    free(self->entries);
    free(self->path);
    free(self);
    *self_p = NULL;
}

static void s_copy(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text ? text : "");
}

size_t directory_query_log_add(directory_query_log_t *self,
                               const directory_query_t *query)
{
    assert(self->count < DIRECTORY_QUERY_LOG_BATCH);
    s_entry_t *entry = &self->entries[self->count++];
    entry->at_ms = query->at_ms;
    s_copy(entry->supplier, sizeof entry->supplier, query->supplier);
    s_copy(entry->curve_key, sizeof entry->curve_key, query->curve_key);
    s_copy(entry->type, sizeof entry->type, query->type);
    s_copy(entry->mpxn, sizeof entry->mpxn, query->mpxn);
    s_copy(entry->mpid, sizeof entry->mpid, query->mpid);
    s_copy(entry->status, sizeof entry->status, query->status);
    return self->count;
}

/* Binds text, or NULL for "". */
static void s_bind(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text[0])
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, index);
}

static int s_insert_entry(directory_query_log_t *self, const s_entry_t *entry)
{
    sqlite3_stmt *stmt = self->insert;
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, entry->at_ms);
    s_bind(stmt, 2, entry->supplier);
    sqlite3_bind_text(stmt, 3, entry->curve_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, entry->type, -1, SQLITE_STATIC);
    s_bind(stmt, 5, entry->mpxn);
    s_bind(stmt, 6, entry->mpid);
    sqlite3_bind_text(stmt, 7, entry->status, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int directory_query_log_flush(directory_query_log_t *self, char *error,
                              size_t error_size)
{
    if (self->count == 0)
        return 0;
    bool failed = sqlite3_exec(self->handle, "BEGIN IMMEDIATE", NULL, NULL,
                               NULL) != SQLITE_OK;
    for (size_t i = 0; !failed && i < self->count; i++)
        failed = s_insert_entry(self, &self->entries[i]) != 0;
    if (!failed)
        failed =
            sqlite3_exec(self->handle, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
    if (failed) {
        char what[64];
        snprintf(what, sizeof what, "writing %zu entries", self->count);
        s_fail(self->handle, self->path, what, error, error_size);
        if (!sqlite3_get_autocommit(self->handle))
            sqlite3_exec(self->handle, "ROLLBACK", NULL, NULL, NULL);
    }
    self->count = 0;
    return failed ? -1 : 0;
}

/* Printing */

static const char s_select[] =
    "SELECT at_ms, coalesce(supplier, '-'), type, coalesce(mpxn, mpid, '-'), "
    "status, curve_key FROM query_log WHERE at_ms >= ?1 "
    "AND (?2 IS NULL OR supplier = ?2) AND (?3 IS NULL OR mpxn = ?3) "
    "ORDER BY at_ms, rowid";

static void s_print_row(sqlite3_stmt *stmt, FILE *out)
{
    char at[CLOCK_ISO_SIZE];
    fprintf(out, "%-24s  %-8s  %-13s  %-13s  %-12s  %s\n",
            clock_format_iso(sqlite3_column_int64(stmt, 0), at),
            (const char *)sqlite3_column_text(stmt, 1),
            (const char *)sqlite3_column_text(stmt, 2),
            (const char *)sqlite3_column_text(stmt, 3),
            (const char *)sqlite3_column_text(stmt, 4),
            (const char *)sqlite3_column_text(stmt, 5));
}

int directory_query_log_print(const char *path, const char *supplier,
                              const char *mpxn, int64_t since_ms, FILE *out,
                              char *error, size_t error_size)
{
    sqlite3 *handle = NULL;
    sqlite3_stmt *stmt = NULL;
    int result = -1;
    if (sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(handle, s_select, -1, &stmt, NULL) != SQLITE_OK) {
        s_fail(handle, path, "reading", error, error_size);
        goto cleanup;
    }
    sqlite3_busy_timeout(handle, 5000);
    sqlite3_bind_int64(stmt, 1, since_ms);
    if (supplier)
        sqlite3_bind_text(stmt, 2, supplier, -1, SQLITE_STATIC);
    if (mpxn)
        sqlite3_bind_text(stmt, 3, mpxn, -1, SQLITE_STATIC);
    fprintf(out, "%-24s  %-8s  %-13s  %-13s  %-12s  %s\n", "at", "supplier",
            "type", "subject", "status", "curve_key");
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        s_print_row(stmt, out);
    if (rc != SQLITE_DONE) {
        s_fail(handle, path, "reading", error, error_size);
        goto cleanup;
    }
    result = 0;
cleanup:
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return result;
}
