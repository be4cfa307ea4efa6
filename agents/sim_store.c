/* The sim agent's sqlite database. */
#include "sim_store.h"

#include "log.h"
#include "settlement.h"

#include <assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* "SDXS" in the sqlite header, so another program's database is not
 * mistaken for a sim database. */
#define SIM_APPLICATION_ID 0x53445853

static const char *s_schema = "CREATE TABLE IF NOT EXISTS meters ("
                              " mpxn TEXT PRIMARY KEY,"
                              " household TEXT NOT NULL UNIQUE,"
                              " meter_id TEXT NOT NULL,"
                              " fuel TEXT NOT NULL,"
                              " head_end TEXT NOT NULL);"
                              "CREATE TABLE IF NOT EXISTS readings ("
                              " mpxn TEXT NOT NULL REFERENCES meters (mpxn),"
                              " start_ms INTEGER NOT NULL,"
                              " wh INTEGER NOT NULL CHECK (wh >= 0),"
                              " PRIMARY KEY (mpxn, start_ms)) WITHOUT ROWID;";

struct sim_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *insert_reading;
    sqlite3_stmt *select_reading;
    sqlite3_stmt *insert_meter;
    sqlite3_stmt *find_meter;
    sqlite3_stmt *span;
    sqlite3_stmt *register_at;
    sqlite3_stmt *readings;
};

static int s_prepare(sim_store_t *self, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                           NULL) == SQLITE_OK)
        return 0;
    return -1;
}

static int s_prepare_all(sim_store_t *self)
{
    return s_prepare(self,
                     "INSERT INTO readings (mpxn, start_ms, wh) "
                     "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                     &self->insert_reading) ||
           s_prepare(self,
                     "SELECT wh FROM readings WHERE mpxn = ?1 AND "
                     "start_ms = ?2",
                     &self->select_reading) ||
           s_prepare(self,
                     "INSERT INTO meters (mpxn, household, meter_id, fuel, "
                     "head_end) VALUES (?1, ?2, ?3, ?4, ?5) "
                     "ON CONFLICT DO NOTHING",
                     &self->insert_meter) ||
           s_prepare(self,
                     "SELECT mpxn, household, meter_id, fuel, head_end "
                     "FROM meters WHERE mpxn = ?1",
                     &self->find_meter) ||
           s_prepare(self,
                     /* Two subqueries, because sqlite answers a single
                      * MIN or MAX from the index but scans the meter's
                      * rows for both in one SELECT. */
                     "SELECT (SELECT MIN(start_ms) FROM readings WHERE "
                     "mpxn = ?1), (SELECT MAX(start_ms) FROM readings "
                     "WHERE mpxn = ?1)",
                     &self->span) ||
           s_prepare(self,
                     "SELECT COALESCE(SUM(wh), 0) FROM readings "
                     "WHERE mpxn = ?1 AND start_ms <= ?2",
                     &self->register_at) ||
           s_prepare(self,
                     "SELECT start_ms, wh FROM readings WHERE mpxn = ?1 "
                     "AND start_ms >= ?2 AND start_ms < ?3 ORDER BY start_ms",
                     &self->readings);
}

/* Sets the pragmas, checks the application id and creates the tables. */
static int s_set_up(sim_store_t *self, char *error, size_t error_size)
{
    sqlite3_busy_timeout(self->db, 5000);
    sqlite3_stmt *stmt = NULL;
    int application_id = -1;
    if (sqlite3_prepare_v2(self->db, "PRAGMA application_id", -1, &stmt,
                           NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        application_id = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (application_id == -1) {
        snprintf(error, error_size, "cannot read '%s': %s", self->path,
                 sqlite3_errmsg(self->db));
        return -1;
    }
    if (application_id != 0 && application_id != SIM_APPLICATION_ID) {
        snprintf(error, error_size,
                 "'%s' is a database of another program; give the sim "
                 "agent a file of its own",
                 self->path);
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql,
             "PRAGMA application_id = %d; PRAGMA journal_mode = WAL; "
             "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
             SIM_APPLICATION_ID);
    if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK ||
        s_prepare_all(self) != 0) {
        snprintf(error, error_size, "cannot set up '%s': %s", self->path,
                 sqlite3_errmsg(self->db));
        return -1;
    }
    return 0;
}

sim_store_t *sim_store_open(const char *path, char *error, size_t error_size)
{
    assert(path);
    sim_store_t *self = calloc(1, sizeof *self);
    assert(self);
    self->path = strdup(path);
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &self->db, flags, NULL) != SQLITE_OK) {
        snprintf(error, error_size,
                 "cannot open sim database '%s': %s; check the path and its "
                 "permissions",
                 path, self->db ? sqlite3_errmsg(self->db) : "out of memory");
        sim_store_close(&self);
        return NULL;
    }
    if (s_set_up(self, error, error_size) != 0) {
        sim_store_close(&self);
        return NULL;
    }
    return self;
}

void sim_store_close(sim_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_store_t *self = *self_p;
    sqlite3_finalize(self->insert_reading);
    sqlite3_finalize(self->select_reading);
    sqlite3_finalize(self->insert_meter);
    sqlite3_finalize(self->find_meter);
    sqlite3_finalize(self->span);
    sqlite3_finalize(self->register_at);
    sqlite3_finalize(self->readings);
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

static int s_fail(sim_store_t *self, const char *what)
{
    log_error("sim database %s failed: %s path=%s", what,
              sqlite3_errmsg(self->db), self->path);
    return -1;
}

static int s_exec(sim_store_t *self, const char *sql)
{
    if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return s_fail(self, sql);
    return 0;
}

int sim_store_begin(sim_store_t *self)
{
    return s_exec(self, "BEGIN IMMEDIATE");
}

int sim_store_commit(sim_store_t *self)
{
    return s_exec(self, "COMMIT");
}

void sim_store_rollback(sim_store_t *self)
{
    s_exec(self, "ROLLBACK");
}

static void s_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
}

static void s_column_text(sqlite3_stmt *stmt, int index, char *out,
                          size_t out_size)
{
    const unsigned char *text = sqlite3_column_text(stmt, index);
    snprintf(out, out_size, "%s", text ? (const char *)text : "");
}

static void s_read_meter(sqlite3_stmt *stmt, sim_meter_t *meter)
{
    s_column_text(stmt, 0, meter->mpxn, sizeof meter->mpxn);
    s_column_text(stmt, 1, meter->household, sizeof meter->household);
    s_column_text(stmt, 2, meter->meter_id, sizeof meter->meter_id);
    s_column_text(stmt, 3, meter->fuel, sizeof meter->fuel);
    s_column_text(stmt, 4, meter->head_end, sizeof meter->head_end);
}

int sim_store_find_meter(sim_store_t *self, const char *mpxn,
                         sim_meter_t *meter)
{
    assert(self);
    assert(mpxn);
    assert(meter);
    sqlite3_stmt *stmt = self->find_meter;
    s_bind_text(stmt, 1, mpxn);
    int rc = sqlite3_step(stmt);
    int found = 0;
    if (rc == SQLITE_ROW) {
        s_read_meter(stmt, meter);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = s_fail(self, "meter look-up");
    }
    sqlite3_reset(stmt);
    return found;
}

sim_store_put_t sim_store_add_meter(sim_store_t *self, const sim_meter_t *meter)
{
    assert(self);
    assert(meter);
    sqlite3_stmt *stmt = self->insert_meter;
    s_bind_text(stmt, 1, meter->mpxn);
    s_bind_text(stmt, 2, meter->household);
    s_bind_text(stmt, 3, meter->meter_id);
    s_bind_text(stmt, 4, meter->fuel);
    s_bind_text(stmt, 5, meter->head_end);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        s_fail(self, "meter insert");
        return SIM_STORE_FAILED;
    }
    if (sqlite3_changes(self->db) == 1)
        return SIM_STORE_INSERTED;

    sim_meter_t stored;
    int found = sim_store_find_meter(self, meter->mpxn, &stored);
    if (found < 0)
        return SIM_STORE_FAILED;
    if (found == 1 && strcmp(stored.household, meter->household) == 0)
        return SIM_STORE_UNCHANGED;
    /* Either the mpxn belongs to another household, or the household
     * already has another mpxn (the UNIQUE constraint). */
    return SIM_STORE_CONFLICT;
}

static int s_stored_reading(sim_store_t *self, const char *mpxn,
                            int64_t start_ms, int64_t *wh)
{
    sqlite3_stmt *stmt = self->select_reading;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, start_ms);
    int rc = sqlite3_step(stmt);
    int found = 0;
    if (rc == SQLITE_ROW) {
        *wh = sqlite3_column_int64(stmt, 0);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = s_fail(self, "reading look-up");
    }
    sqlite3_reset(stmt);
    return found;
}

sim_store_put_t sim_store_add_reading(sim_store_t *self, const char *mpxn,
                                      int64_t start_ms, int64_t wh,
                                      int64_t *stored_wh)
{
    assert(self);
    assert(mpxn);
    assert(stored_wh);
    sqlite3_stmt *stmt = self->insert_reading;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, start_ms);
    sqlite3_bind_int64(stmt, 3, wh);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        s_fail(self, "reading insert");
        return SIM_STORE_FAILED;
    }
    if (sqlite3_changes(self->db) == 1)
        return SIM_STORE_INSERTED;
    if (s_stored_reading(self, mpxn, start_ms, stored_wh) != 1)
        return SIM_STORE_FAILED;
    return *stored_wh == wh ? SIM_STORE_UNCHANGED : SIM_STORE_CONFLICT;
}

int64_t sim_store_each_meter(sim_store_t *self, sim_meter_fn *callback,
                             void *arg)
{
    assert(self);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT mpxn, household, meter_id, fuel, head_end "
                           "FROM meters ORDER BY mpxn",
                           -1, &stmt, NULL) != SQLITE_OK)
        return s_fail(self, "meter list");
    int64_t count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        sim_meter_t meter;
        s_read_meter(stmt, &meter);
        if (callback)
            callback(arg, &meter);
        count++;
    }
    if (rc != SQLITE_DONE)
        count = s_fail(self, "meter list");
    sqlite3_finalize(stmt);
    return count;
}

int sim_store_span(sim_store_t *self, const char *mpxn, int64_t *from_ms,
                   int64_t *to_ms)
{
    assert(self);
    assert(mpxn);
    assert(from_ms);
    assert(to_ms);
    sqlite3_stmt *stmt = self->span;
    s_bind_text(stmt, 1, mpxn);
    int result = 0;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        result = s_fail(self, "data span");
    } else if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
        *from_ms = sqlite3_column_int64(stmt, 0);
        *to_ms = sqlite3_column_int64(stmt, 1) + SETTLEMENT_PERIOD_MS;
        result = 1;
    }
    sqlite3_reset(stmt);
    return result;
}

int sim_store_register_at(sim_store_t *self, const char *mpxn, int64_t at_ms,
                          int64_t *wh)
{
    assert(self);
    assert(mpxn);
    assert(wh);
    sqlite3_stmt *stmt = self->register_at;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, at_ms - SETTLEMENT_PERIOD_MS);
    int result = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *wh = sqlite3_column_int64(stmt, 0);
    else
        result = s_fail(self, "register");
    sqlite3_reset(stmt);
    return result;
}

/* Steps the readings statement, which the caller bound; returns 1 with a
 * row, 0 at the end, -1 on failure. */
static int s_next_reading(sim_store_t *self, int64_t *start_ms, int64_t *wh)
{
    int rc = sqlite3_step(self->readings);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return s_fail(self, "readings scan");
    *start_ms = sqlite3_column_int64(self->readings, 0);
    *wh = sqlite3_column_int64(self->readings, 1);
    return 1;
}

static void s_bind_readings(sim_store_t *self, const char *mpxn,
                            int64_t from_ms, int64_t to_ms)
{
    s_bind_text(self->readings, 1, mpxn);
    sqlite3_bind_int64(self->readings, 2, from_ms);
    sqlite3_bind_int64(self->readings, 3, to_ms);
}

int sim_store_registers_at(sim_store_t *self, const char *mpxn,
                           const int64_t *instants, size_t count, int64_t *wh)
{
    assert(self);
    assert(mpxn);
    if (count == 0)
        return 0;
    assert(instants);
    assert(wh);
    /* A reading counts towards an instant once its half hour has ended. */
    s_bind_readings(self, mpxn, INT64_MIN,
                    instants[count - 1] - SETTLEMENT_PERIOD_MS + 1);
    int64_t total = 0, start_ms, reading_wh;
    size_t next = 0;
    int rc;
    while ((rc = s_next_reading(self, &start_ms, &reading_wh)) == 1) {
        while (next < count && instants[next] < start_ms + SETTLEMENT_PERIOD_MS)
            wh[next++] = total;
        total += reading_wh;
    }
    while (next < count)
        wh[next++] = total;
    sqlite3_reset(self->readings);
    return rc < 0 ? -1 : 0;
}

static int64_t s_ceil_to_slot(int64_t ms)
{
    int64_t remainder = ms % SETTLEMENT_PERIOD_MS;
    if (remainder < 0)
        remainder += SETTLEMENT_PERIOD_MS;
    return remainder == 0 ? ms : ms - remainder + SETTLEMENT_PERIOD_MS;
}

/* Walks the half hours of [from_ms, to_ms), matching them with readings. */
static int s_each_slot_in(sim_store_t *self, const char *mpxn, int64_t from_ms,
                          int64_t to_ms, sim_slot_fn *callback, void *arg)
{
    int64_t slot = s_ceil_to_slot(from_ms);
    s_bind_readings(self, mpxn, slot, to_ms);
    int64_t start_ms = 0, wh = 0;
    int rc = s_next_reading(self, &start_ms, &wh);
    for (; slot < to_ms && rc >= 0; slot += SETTLEMENT_PERIOD_MS) {
        /* Readings are on the half-hour grid, as the import enforces. */
        if (rc == 1 && start_ms == slot) {
            callback(arg, slot, true, wh);
            rc = s_next_reading(self, &start_ms, &wh);
        } else {
            callback(arg, slot, false, 0);
        }
    }
    sqlite3_reset(self->readings);
    return rc < 0 ? -1 : 0;
}

int sim_store_each_slot(sim_store_t *self, const char *mpxn,
                        const agent_range_t *ranges, size_t range_count,
                        int64_t span_from_ms, int64_t span_to_ms,
                        sim_slot_fn *callback, void *arg)
{
    assert(self);
    assert(mpxn);
    assert(callback);
    for (size_t i = 0; i < range_count; i++) {
        int64_t from = ranges[i].from_ms;
        int64_t to = ranges[i].to_ms;
        if (from < span_from_ms)
            from = span_from_ms;
        if (to > span_to_ms)
            to = span_to_ms;
        if (from >= to)
            continue;
        if (s_each_slot_in(self, mpxn, from, to, callback, arg) != 0)
            return -1;
    }
    return 0;
}
