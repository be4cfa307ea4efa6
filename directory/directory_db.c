/* Directory database: schema and queries. */
#include "directory_db.h"

#include <assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_keys.h"
#include "hex.h"

/* Every query that a lookup makes searches a primary key: supply points by
 * mpxn, registrations by mpxn and from_ms. Both tables are WITHOUT ROWID,
 * so their rows are stored in key order, and a register of tens of
 * millions of rows needs no other index. */
static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS suppliers ("
    " mpid TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " endpoint TEXT NOT NULL,"
    " curve_key TEXT NOT NULL UNIQUE,"
    " sign_key BLOB NOT NULL CHECK (length(sign_key) = 32)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS supply_points ("
    " mpxn TEXT PRIMARY KEY,"
    " fuel TEXT NOT NULL CHECK (fuel IN ('electricity', 'gas')),"
    " meter_id TEXT NOT NULL,"
    " smart INTEGER NOT NULL CHECK (smart IN (0, 1)),"
    " installing TEXT NOT NULL REFERENCES suppliers (mpid),"
    " head_end TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS registrations ("
    " mpxn TEXT NOT NULL REFERENCES supply_points (mpxn),"
    " supplier TEXT NOT NULL REFERENCES suppliers (mpid),"
    " from_ms INTEGER NOT NULL,"
    " to_ms INTEGER CHECK (to_ms IS NULL OR to_ms > from_ms),"
    " PRIMARY KEY (mpxn, from_ms)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS changes ("
    " number INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " mpxn TEXT,"
    " description TEXT NOT NULL"
    ");";

/* Added in schema version 2: what each change of supplier did, so that it
 * can be withdrawn, and an index for the change log of one supply point. */
static const char s_schema_v2[] =
    "CREATE TABLE IF NOT EXISTS supplier_changes ("
    " change INTEGER PRIMARY KEY REFERENCES changes (number),"
    " mpxn TEXT NOT NULL REFERENCES supply_points (mpxn),"
    " effective_ms INTEGER NOT NULL,"
    " losing TEXT REFERENCES suppliers (mpid),"
    " closed_from_ms INTEGER,"
    " gaining TEXT NOT NULL REFERENCES suppliers (mpid),"
    " withdrawn_by INTEGER REFERENCES changes (number),"
    " withdrawal_reason TEXT"
    ");"
    "CREATE INDEX IF NOT EXISTS supplier_changes_by_mpxn"
    " ON supplier_changes (mpxn, change);"
    "CREATE INDEX IF NOT EXISTS changes_by_mpxn ON changes (mpxn, number);";

/* The current time in UTC ms, in SQL, for the triggers below. */
#define S_SQL_NOW                                                              \
    "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"

/* Added in schema version 3: every CURVE and signing key of each supplier
 * with its validity, which the key commands change. The key columns of
 * suppliers are the keys its CSV row gives. The triggers keep every such
 * key in supplier_keys: a new supplier's keys are valid from the epoch,
 * and a key that a later CSV row replaces is retired now while the new
 * one starts now. A key is text: Z85 for a CURVE key, lower-case hex for
 * a signing key. The changes gain the supplier they are about. */
static const char s_schema_v3[] =
    "CREATE TABLE IF NOT EXISTS supplier_keys ("
    " mpid TEXT NOT NULL REFERENCES suppliers (mpid),"
    " type TEXT NOT NULL CHECK (type IN ('curve', 'sign')),"
    " key TEXT NOT NULL,"
    " valid_from_ms INTEGER NOT NULL,"
    " valid_to_ms INTEGER CHECK (valid_to_ms IS NULL OR"
    "  valid_to_ms > valid_from_ms),"
    " state TEXT NOT NULL CHECK (state IN ('active', 'retired', 'revoked')),"
    " revoked_ms INTEGER CHECK ((state = 'revoked') = (revoked_ms IS NOT "
    "NULL)),"
    " reason TEXT,"
    " added_ms INTEGER NOT NULL,"
    " PRIMARY KEY (mpid, type, key)"
    ") WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS supplier_keys_curve"
    " ON supplier_keys (key) WHERE type = 'curve';"
    "CREATE TRIGGER IF NOT EXISTS supplier_keys_of_new_supplier"
    " AFTER INSERT ON suppliers BEGIN"
    "  INSERT INTO supplier_keys"
    "  (mpid, type, key, valid_from_ms, state, added_ms)"
    "  SELECT NEW.mpid, 'curve', NEW.curve_key, 0, 'active', " S_SQL_NOW
    "  WHERE NOT EXISTS (SELECT 1 FROM supplier_keys WHERE mpid = NEW.mpid"
    "   AND type = 'curve' AND key = NEW.curve_key);"
    "  INSERT INTO supplier_keys"
    "  (mpid, type, key, valid_from_ms, state, added_ms)"
    "  SELECT NEW.mpid, 'sign', lower(hex(NEW.sign_key)), 0, "
    "'active', " S_SQL_NOW
    "  WHERE NOT EXISTS (SELECT 1 FROM supplier_keys WHERE mpid = NEW.mpid"
    "   AND type = 'sign' AND key = lower(hex(NEW.sign_key)));"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS supplier_keys_of_changed_supplier"
    " AFTER UPDATE OF curve_key, sign_key ON suppliers BEGIN"
    "  UPDATE supplier_keys SET state = 'retired', valid_to_ms ="
    "   max(" S_SQL_NOW ", valid_from_ms + 1)"
    "  WHERE mpid = OLD.mpid AND state = 'active' AND ("
    "   (type = 'curve' AND key = OLD.curve_key"
    "    AND OLD.curve_key <> NEW.curve_key) OR"
    "   (type = 'sign' AND key = lower(hex(OLD.sign_key))"
    "    AND OLD.sign_key <> NEW.sign_key))"
    "  AND (valid_to_ms IS NULL OR valid_to_ms > " S_SQL_NOW ");"
    "  INSERT INTO supplier_keys"
    "  (mpid, type, key, valid_from_ms, state, added_ms)"
    "  SELECT NEW.mpid, 'curve', NEW.curve_key, " S_SQL_NOW
    ", 'active', " S_SQL_NOW
    "  WHERE NOT EXISTS (SELECT 1 FROM supplier_keys WHERE mpid = NEW.mpid"
    "   AND type = 'curve' AND key = NEW.curve_key);"
    "  INSERT INTO supplier_keys"
    "  (mpid, type, key, valid_from_ms, state, added_ms)"
    "  SELECT NEW.mpid, 'sign', lower(hex(NEW.sign_key)), " S_SQL_NOW
    ", 'active', " S_SQL_NOW
    "  WHERE NOT EXISTS (SELECT 1 FROM supplier_keys WHERE mpid = NEW.mpid"
    "   AND type = 'sign' AND key = lower(hex(NEW.sign_key)));"
    " END;";

/* Run once, when a database of version 1 or 2 (or a new one) goes to
 * version 3: the suppliers already there get their keys, valid from the
 * epoch, and the change log its supplier column. */
static const char s_upgrade_v3[] =
    "ALTER TABLE changes ADD COLUMN mpid TEXT;"
    "INSERT OR IGNORE INTO supplier_keys"
    " (mpid, type, key, valid_from_ms, state, added_ms)"
    " SELECT mpid, 'curve', curve_key, 0, 'active', " S_SQL_NOW
    " FROM suppliers;"
    "INSERT OR IGNORE INTO supplier_keys"
    " (mpid, type, key, valid_from_ms, state, added_ms)"
    " SELECT mpid, 'sign', lower(hex(sign_key)), 0, 'active', " S_SQL_NOW
    " FROM suppliers;";

/* Prepared statements, made on first use and kept while the database is
 * open, because a bulk load runs the same few of them per row. */
typedef enum {
    S_GET_SUPPLIER,
    S_FIND_CURVE_KEY,
    S_PUT_SUPPLIER,
    S_LIST_SUPPLIERS,
    S_GET_SUPPLY_POINT,
    S_PUT_SUPPLY_POINT,
    S_GET_REGISTRATIONS,
    S_GET_REGISTRATION,
    S_LATEST_REGISTRATION,
    S_FIND_OVERLAP,
    S_INSERT_REGISTRATION,
    S_SET_REGISTRATION_END,
    S_RECORD_CHANGE,
    S_LAST_CHANGE,
    S_DATA_VERSION,
    S_DELETE_REGISTRATION,
    S_LIST_CHANGES,
    S_LIST_CHANGES_OF_MPXN,
    S_INSERT_SUPPLIER_CHANGE,
    S_GET_SUPPLIER_CHANGE,
    S_LATEST_SUPPLIER_CHANGE,
    S_MARK_WITHDRAWN,
    S_RECORD_SUPPLIER_ENTRY,
    S_LIST_KEYS,
    S_LIST_KEYS_OF_SUPPLIER,
    S_GET_KEY,
    S_INSERT_KEY,
    S_UPDATE_KEY,
    S_KEY_OWNER,
    S_WAS_REGISTERED,
    S_COUNT
} s_statement_t;

static const char *const s_sql[S_COUNT] = {
    [S_GET_SUPPLIER] = "SELECT mpid, name, endpoint, curve_key, sign_key "
                       "FROM suppliers WHERE mpid = ?1",
    [S_FIND_CURVE_KEY] = "SELECT mpid FROM suppliers WHERE curve_key = ?1",
    [S_PUT_SUPPLIER] = "INSERT INTO suppliers "
                       "(mpid, name, endpoint, curve_key, sign_key) "
                       "VALUES (?1, ?2, ?3, ?4, ?5) "
                       "ON CONFLICT (mpid) DO UPDATE SET name = ?2, "
                       "endpoint = ?3, curve_key = ?4, sign_key = ?5",
    [S_LIST_SUPPLIERS] = "SELECT mpid, name, endpoint, curve_key, sign_key "
                         "FROM suppliers ORDER BY mpid",
    [S_GET_SUPPLY_POINT] = "SELECT mpxn, fuel, meter_id, smart, installing, "
                           "head_end FROM supply_points WHERE mpxn = ?1",
    [S_PUT_SUPPLY_POINT] =
        "INSERT INTO supply_points "
        "(mpxn, fuel, meter_id, smart, installing, head_end) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (mpxn) DO UPDATE SET fuel = ?2, meter_id = ?3, "
        "smart = ?4, installing = ?5, head_end = ?6",
    [S_GET_REGISTRATIONS] = "SELECT supplier, from_ms, to_ms "
                            "FROM registrations WHERE mpxn = ?1 "
                            "ORDER BY from_ms DESC LIMIT ?2",
    [S_GET_REGISTRATION] = "SELECT supplier, from_ms, to_ms "
                           "FROM registrations "
                           "WHERE mpxn = ?1 AND from_ms = ?2",
    [S_LATEST_REGISTRATION] = "SELECT supplier, from_ms, to_ms "
                              "FROM registrations WHERE mpxn = ?1 "
                              "ORDER BY from_ms DESC LIMIT 1",
    [S_FIND_OVERLAP] = "SELECT supplier, from_ms, to_ms "
                       "FROM registrations WHERE mpxn = ?1 "
                       "AND from_ms < ?3 "
                       "AND (to_ms IS NULL OR to_ms > ?2) "
                       "AND from_ms <> ?4 ORDER BY from_ms LIMIT 1",
    [S_INSERT_REGISTRATION] = "INSERT INTO registrations "
                              "(mpxn, supplier, from_ms, to_ms) "
                              "VALUES (?1, ?2, ?3, ?4)",
    [S_SET_REGISTRATION_END] = "UPDATE registrations SET to_ms = ?3 "
                               "WHERE mpxn = ?1 AND from_ms = ?2",
    [S_RECORD_CHANGE] = "INSERT INTO changes "
                        "(at_ms, kind, mpxn, description) "
                        "VALUES (?1, ?2, ?3, ?4)",
    [S_LAST_CHANGE] = "SELECT coalesce(max(number), 0) FROM changes",
    [S_DATA_VERSION] = "PRAGMA data_version",
    [S_DELETE_REGISTRATION] = "DELETE FROM registrations "
                              "WHERE mpxn = ?1 AND from_ms = ?2",
    [S_LIST_CHANGES] = "SELECT c.number, c.at_ms, c.kind, c.mpxn, "
                       "c.description, s.withdrawn_by, s.withdrawal_reason, "
                       "c.mpid FROM changes c LEFT JOIN supplier_changes s "
                       "ON s.change = c.number WHERE c.number > ?1 "
                       "ORDER BY c.number LIMIT ?2",
    [S_LIST_CHANGES_OF_MPXN] =
        "SELECT c.number, c.at_ms, c.kind, c.mpxn, c.description, "
        "s.withdrawn_by, s.withdrawal_reason, c.mpid "
        "FROM changes c LEFT JOIN supplier_changes s ON s.change = c.number "
        "WHERE c.number > ?1 AND c.mpxn = ?3 ORDER BY c.number LIMIT ?2",
    [S_INSERT_SUPPLIER_CHANGE] =
        "INSERT INTO supplier_changes (change, mpxn, effective_ms, losing, "
        "closed_from_ms, gaining) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_GET_SUPPLIER_CHANGE] =
        "SELECT change, mpxn, effective_ms, losing, closed_from_ms, gaining, "
        "withdrawn_by, withdrawal_reason FROM supplier_changes "
        "WHERE change = ?1",
    [S_LATEST_SUPPLIER_CHANGE] =
        "SELECT change, mpxn, effective_ms, losing, closed_from_ms, gaining, "
        "withdrawn_by, withdrawal_reason FROM supplier_changes "
        "WHERE mpxn = ?1 AND withdrawn_by IS NULL "
        "ORDER BY change DESC LIMIT 1",
    [S_MARK_WITHDRAWN] = "UPDATE supplier_changes SET withdrawn_by = ?2, "
                         "withdrawal_reason = ?3 WHERE change = ?1",
    [S_RECORD_SUPPLIER_ENTRY] = "INSERT INTO changes "
                                "(at_ms, kind, mpid, description) "
                                "VALUES (?1, ?2, ?3, ?4)",
    [S_LIST_KEYS] = "SELECT mpid, type, key, valid_from_ms, valid_to_ms, "
                    "state, revoked_ms, reason, added_ms FROM supplier_keys "
                    "ORDER BY mpid, valid_from_ms, type, key",
    [S_LIST_KEYS_OF_SUPPLIER] =
        "SELECT mpid, type, key, valid_from_ms, valid_to_ms, state, "
        "revoked_ms, reason, added_ms FROM supplier_keys WHERE mpid = ?1 "
        "ORDER BY valid_from_ms, type, key",
    [S_GET_KEY] = "SELECT mpid, type, key, valid_from_ms, valid_to_ms, "
                  "state, revoked_ms, reason, added_ms FROM supplier_keys "
                  "WHERE mpid = ?1 AND key = ?2",
    [S_INSERT_KEY] = "INSERT INTO supplier_keys (mpid, type, key, "
                     "valid_from_ms, valid_to_ms, state, revoked_ms, reason, "
                     "added_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_UPDATE_KEY] = "UPDATE supplier_keys SET valid_to_ms = ?4, state = ?5, "
                     "revoked_ms = ?6, reason = ?7 "
                     "WHERE mpid = ?1 AND type = ?2 AND key = ?3",
    [S_KEY_OWNER] = "SELECT mpid FROM supplier_keys "
                    "WHERE type = ?1 AND key = ?2 ORDER BY mpid LIMIT 1",
    [S_WAS_REGISTERED] = "SELECT 1 FROM registrations "
                         "WHERE mpxn = ?1 AND supplier = ?2 LIMIT 1",
};

struct directory_db {
    sqlite3 *handle;
    char *path;
    sqlite3_stmt *statements[S_COUNT];
};

static int s_fail(directory_db_t *self, const char *what, char *error,
                  size_t error_size)
{
    snprintf(error, error_size, "%s failed in '%s': %s", what, self->path,
             sqlite3_errmsg(self->handle));
    return -1;
}

/* Returns the statement, reset and ready to bind, or NULL with error. */
static sqlite3_stmt *s_statement(directory_db_t *self, s_statement_t which,
                                 char *error, size_t error_size)
{
    sqlite3_stmt **slot = &self->statements[which];
    if (!*slot && sqlite3_prepare_v3(self->handle, s_sql[which], -1,
                                     SQLITE_PREPARE_PERSISTENT, slot,
                                     NULL) != SQLITE_OK) {
        s_fail(self, "preparing a query", error, error_size);
        return NULL;
    }
    sqlite3_reset(*slot);
    sqlite3_clear_bindings(*slot);
    return *slot;
}

static int s_exec(directory_db_t *self, const char *sql, char *error,
                  size_t error_size)
{
    if (sqlite3_exec(self->handle, sql, NULL, NULL, NULL) != SQLITE_OK)
        return s_fail(self, sql, error, error_size);
    return 0;
}

static int s_schema_version(directory_db_t *self, int *version, char *error,
                            size_t error_size)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->handle, "PRAGMA user_version", -1, &stmt,
                           NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return s_fail(self, "reading the schema version", error, error_size);
    }
    *version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return 0;
}

/* Runs the parts of the schema that the database lacks, from_version
 * being the version it has now (0 for a new file), and sets the version. */
static int s_create_schema(directory_db_t *self, int from_version, char *error,
                           size_t error_size)
{
    char sql[sizeof s_schema + sizeof s_schema_v2 + sizeof s_schema_v3 +
             sizeof s_upgrade_v3 + 64];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; %s %s %s %s PRAGMA user_version = %d; COMMIT;",
             from_version < 1 ? s_schema : "", s_schema_v2, s_schema_v3,
             from_version < 3 ? s_upgrade_v3 : "", DIRECTORY_DB_SCHEMA_VERSION);
    if (s_exec(self, sql, error, error_size) != 0) {
        sqlite3_exec(self->handle, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int s_check_schema(directory_db_t *self, bool create, char *error,
                          size_t error_size)
{
    int version;
    if (s_schema_version(self, &version, error, error_size) != 0)
        return -1;
    if (version == 0 && create)
        return s_create_schema(self, 0, error, error_size);
    /* Versions 2 and 3 add tables, indexes, triggers and a column, so an
     * older database is upgraded in place when it is opened. */
    if (version == 1 || version == 2)
        return s_create_schema(self, version, error, error_size);
    if (version == 0) {
        snprintf(error, error_size,
                 "database '%s' is not initialised: run "
                 "'sdx-directory init --db %s' first",
                 self->path, self->path);
        return -1;
    }
    if (version != DIRECTORY_DB_SCHEMA_VERSION) {
        snprintf(error, error_size,
                 "database '%s' has schema version %d, this program reads "
                 "version %d: use the matching sdx-directory",
                 self->path, version, DIRECTORY_DB_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

static int s_configure(directory_db_t *self, bool create, char *error,
                       size_t error_size)
{
    sqlite3_busy_timeout(self->handle, 5000);
    if (s_exec(self, "PRAGMA foreign_keys = ON", error, error_size) != 0)
        return -1;
    if (s_check_schema(self, create, error, error_size) != 0)
        return -1;
    return s_exec(self, "PRAGMA journal_mode = WAL", error, error_size);
}

directory_db_t *directory_db_open(const char *path, bool create, char *error,
                                  size_t error_size)
{
    directory_db_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        snprintf(error, error_size, "out of memory opening '%s'", path);
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &self->handle, flags, NULL);
    if (rc == SQLITE_CANTOPEN && !create) {
        snprintf(error, error_size,
                 "database '%s' not found: create it with "
                 "'sdx-directory init --db %s'",
                 path, path);
        directory_db_destroy(&self);
        return NULL;
    }
    if (rc != SQLITE_OK) {
        s_fail(self, "opening the database", error, error_size);
        directory_db_destroy(&self);
        return NULL;
    }
    if (s_configure(self, create, error, error_size) != 0)
        directory_db_destroy(&self);
    return self;
}

void directory_db_destroy(directory_db_t **self_p)
{
    assert(self_p);
    directory_db_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(self->statements[i]);
    sqlite3_close(self->handle);
    free(self->path);
    free(self);
    *self_p = NULL;
}

int directory_db_begin(directory_db_t *self, char *error, size_t error_size)
{
    return s_exec(self, "BEGIN IMMEDIATE", error, error_size);
}

int directory_db_begin_read(directory_db_t *self, char *error,
                            size_t error_size)
{
    return s_exec(self, "BEGIN DEFERRED", error, error_size);
}

int directory_db_commit(directory_db_t *self, char *error, size_t error_size)
{
    return s_exec(self, "COMMIT", error, error_size);
}

void directory_db_rollback(directory_db_t *self)
{
    if (!sqlite3_get_autocommit(self->handle))
        sqlite3_exec(self->handle, "ROLLBACK", NULL, NULL, NULL);
}

/* Column helpers */

static void s_column_text(sqlite3_stmt *stmt, int column, char *out,
                          size_t out_size)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    snprintf(out, out_size, "%s", text ? (const char *)text : "");
}

static void s_column_blob(sqlite3_stmt *stmt, int column, uint8_t *out,
                          size_t size)
{
    const void *blob = sqlite3_column_blob(stmt, column);
    size_t found = (size_t)sqlite3_column_bytes(stmt, column);
    memset(out, 0, size);
    if (blob)
        memcpy(out, blob, found < size ? found : size);
}

static int64_t s_column_end(sqlite3_stmt *stmt, int column)
{
    if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
        return DIR_OPEN_END;
    return sqlite3_column_int64(stmt, column);
}

static void s_bind_end(sqlite3_stmt *stmt, int index, int64_t to_ms)
{
    if (to_ms == DIR_OPEN_END)
        sqlite3_bind_null(stmt, index);
    else
        sqlite3_bind_int64(stmt, index, to_ms);
}

static void s_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* Steps a statement that returns no rows, then resets it. */
static int s_step_done(directory_db_t *self, sqlite3_stmt *stmt,
                       const char *what, char *error, size_t error_size)
{
    int rc = sqlite3_step(stmt);
    int result = 0;
    if (rc != SQLITE_DONE)
        result = s_fail(self, what, error, error_size);
    sqlite3_reset(stmt);
    return result;
}

/* Steps a statement for one row: 1 with a row (reset it after reading),
 * 0 without (already reset), -1 on failure. */
static int s_step_row(directory_db_t *self, sqlite3_stmt *stmt,
                      const char *what, char *error, size_t error_size)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        return 1;
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE)
        return 0;
    return s_fail(self, what, error, error_size);
}

/* Suppliers */

static void s_read_supplier(sqlite3_stmt *stmt, dir_supplier_t *out)
{
    memset(out, 0, sizeof *out);
    s_column_text(stmt, 0, out->mpid, sizeof out->mpid);
    s_column_text(stmt, 1, out->name, sizeof out->name);
    s_column_text(stmt, 2, out->endpoint, sizeof out->endpoint);
    s_column_text(stmt, 3, out->curve_key, sizeof out->curve_key);
    s_column_blob(stmt, 4, out->sign_key, sizeof out->sign_key);
}

int directory_db_get_supplier(directory_db_t *self, const char *mpid,
                              dir_supplier_t *out, char *error,
                              size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_GET_SUPPLIER, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpid);
    int rc = s_step_row(self, stmt, "reading a supplier", error, error_size);
    if (rc == 1) {
        s_read_supplier(stmt, out);
        sqlite3_reset(stmt);
    }
    return rc;
}

int directory_db_find_curve_key(directory_db_t *self, const char *curve_key,
                                char mpid[DIR_MPID_SIZE], char *error,
                                size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_FIND_CURVE_KEY, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, curve_key);
    int rc = s_step_row(self, stmt, "finding a CURVE key", error, error_size);
    if (rc == 1) {
        s_column_text(stmt, 0, mpid, DIR_MPID_SIZE);
        sqlite3_reset(stmt);
    }
    return rc;
}

int directory_db_put_supplier(directory_db_t *self,
                              const dir_supplier_t *supplier, char *error,
                              size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_PUT_SUPPLIER, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, supplier->mpid);
    s_bind_text(stmt, 2, supplier->name);
    s_bind_text(stmt, 3, supplier->endpoint);
    s_bind_text(stmt, 4, supplier->curve_key);
    sqlite3_bind_blob(stmt, 5, supplier->sign_key, DIR_SIGN_KEY_SIZE,
                      SQLITE_STATIC);
    return s_step_done(self, stmt, "writing a supplier", error, error_size);
}

int directory_db_list_suppliers(directory_db_t *self, dir_supplier_t **list,
                                size_t *count, char *error, size_t error_size)
{
    *list = NULL;
    *count = 0;
    sqlite3_stmt *stmt = s_statement(self, S_LIST_SUPPLIERS, error, error_size);
    if (!stmt)
        return -1;
    size_t capacity = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            dir_supplier_t *grown = realloc(*list, capacity * sizeof **list);
            if (!grown)
                break;
            *list = grown;
        }
        s_read_supplier(stmt, &(*list)[(*count)++]);
    }
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_ROW)
        snprintf(error, error_size, "out of memory listing suppliers");
    else
        s_fail(self, "listing suppliers", error, error_size);
    free(*list);
    *list = NULL;
    *count = 0;
    return -1;
}

/* Supply points */

int directory_db_get_supply_point(directory_db_t *self, const char *mpxn,
                                  dir_supply_point_t *out, char *error,
                                  size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_GET_SUPPLY_POINT, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    int rc =
        s_step_row(self, stmt, "reading a supply point", error, error_size);
    if (rc != 1)
        return rc;
    memset(out, 0, sizeof *out);
    s_column_text(stmt, 0, out->mpxn, sizeof out->mpxn);
    s_column_text(stmt, 1, out->fuel, sizeof out->fuel);
    s_column_text(stmt, 2, out->meter_id, sizeof out->meter_id);
    out->smart = sqlite3_column_int(stmt, 3) != 0;
    s_column_text(stmt, 4, out->installing, sizeof out->installing);
    s_column_text(stmt, 5, out->head_end, sizeof out->head_end);
    sqlite3_reset(stmt);
    return 1;
}

int directory_db_put_supply_point(directory_db_t *self,
                                  const dir_supply_point_t *point, char *error,
                                  size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_PUT_SUPPLY_POINT, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, point->mpxn);
    s_bind_text(stmt, 2, point->fuel);
    s_bind_text(stmt, 3, point->meter_id);
    sqlite3_bind_int(stmt, 4, point->smart ? 1 : 0);
    s_bind_text(stmt, 5, point->installing);
    s_bind_text(stmt, 6, point->head_end);
    return s_step_done(self, stmt, "writing a supply point", error, error_size);
}

/* Registrations */

static void s_read_registration(sqlite3_stmt *stmt, dir_registration_t *out)
{
    memset(out, 0, sizeof *out);
    s_column_text(stmt, 0, out->supplier, sizeof out->supplier);
    out->from_ms = sqlite3_column_int64(stmt, 1);
    out->to_ms = s_column_end(stmt, 2);
}

int directory_db_get_registrations(directory_db_t *self,
                                   dir_supply_point_t *out, char *error,
                                   size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_GET_REGISTRATIONS, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, out->mpxn);
    sqlite3_bind_int(stmt, 2, DIR_MAX_REGISTRATIONS);

    /* Rows come latest first; they are stored from the end backwards, then
     * moved to the front so that the array is ordered by from_ms. */
    dir_registration_t *slots = out->registrations;
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        s_read_registration(stmt, &slots[DIR_MAX_REGISTRATIONS - ++count]);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return s_fail(self, "reading registrations", error, error_size);
    memmove(slots, &slots[DIR_MAX_REGISTRATIONS - count],
            count * sizeof *slots);
    out->registration_count = count;
    return 0;
}

/* Runs a registration query that has been bound, for one row. */
static int s_query_registration(directory_db_t *self, sqlite3_stmt *stmt,
                                dir_registration_t *out, char *error,
                                size_t error_size)
{
    int rc =
        s_step_row(self, stmt, "reading a registration", error, error_size);
    if (rc == 1) {
        s_read_registration(stmt, out);
        sqlite3_reset(stmt);
    }
    return rc;
}

int directory_db_get_registration(directory_db_t *self, const char *mpxn,
                                  int64_t from_ms, dir_registration_t *out,
                                  char *error, size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_GET_REGISTRATION, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, from_ms);
    return s_query_registration(self, stmt, out, error, error_size);
}

int directory_db_latest_registration(directory_db_t *self, const char *mpxn,
                                     dir_registration_t *out, char *error,
                                     size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_LATEST_REGISTRATION, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    return s_query_registration(self, stmt, out, error, error_size);
}

int directory_db_find_overlap(directory_db_t *self, const char *mpxn,
                              int64_t from_ms, int64_t to_ms,
                              int64_t except_from_ms, dir_registration_t *out,
                              char *error, size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_FIND_OVERLAP, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, from_ms);
    sqlite3_bind_int64(stmt, 3, to_ms);
    sqlite3_bind_int64(stmt, 4, except_from_ms);
    return s_query_registration(self, stmt, out, error, error_size);
}

int directory_db_insert_registration(directory_db_t *self, const char *mpxn,
                                     const dir_registration_t *registration,
                                     char *error, size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_INSERT_REGISTRATION, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    s_bind_text(stmt, 2, registration->supplier);
    sqlite3_bind_int64(stmt, 3, registration->from_ms);
    s_bind_end(stmt, 4, registration->to_ms);
    return s_step_done(self, stmt, "writing a registration", error, error_size);
}

int directory_db_set_registration_end(directory_db_t *self, const char *mpxn,
                                      int64_t from_ms, int64_t to_ms,
                                      char *error, size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_SET_REGISTRATION_END, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, from_ms);
    s_bind_end(stmt, 3, to_ms);
    return s_step_done(self, stmt, "ending a registration", error, error_size);
}

/* Change log */

int directory_db_record_change(directory_db_t *self, int64_t at_ms,
                               const char *kind, const char *mpxn,
                               const char *description, uint64_t *number,
                               char *error, size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_RECORD_CHANGE, error, error_size);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, at_ms);
    s_bind_text(stmt, 2, kind);
    if (mpxn)
        s_bind_text(stmt, 3, mpxn);
    s_bind_text(stmt, 4, description);
    if (s_step_done(self, stmt, "recording a change", error, error_size) != 0)
        return -1;
    if (number)
        *number = (uint64_t)sqlite3_last_insert_rowid(self->handle);
    return 0;
}

/* Runs a statement that returns one integer. */
static int s_query_integer(directory_db_t *self, s_statement_t which,
                           int64_t *value, char *error, size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, which, error, error_size);
    if (!stmt)
        return -1;
    int rc = s_step_row(self, stmt, s_sql[which], error, error_size);
    if (rc == 0)
        snprintf(error, error_size, "'%s' returned no row", s_sql[which]);
    if (rc != 1)
        return -1;
    *value = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return 0;
}

int directory_db_last_change(directory_db_t *self, uint64_t *number,
                             char *error, size_t error_size)
{
    int64_t value;
    if (s_query_integer(self, S_LAST_CHANGE, &value, error, error_size) != 0)
        return -1;
    *number = (uint64_t)value;
    return 0;
}

int directory_db_data_version(directory_db_t *self, int64_t *version,
                              char *error, size_t error_size)
{
    return s_query_integer(self, S_DATA_VERSION, version, error, error_size);
}

int directory_db_delete_registration(directory_db_t *self, const char *mpxn,
                                     int64_t from_ms, char *error,
                                     size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_DELETE_REGISTRATION, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    sqlite3_bind_int64(stmt, 2, from_ms);
    return s_step_done(self, stmt, "deleting a registration", error,
                       error_size);
}

/* Change log listing */

static void s_read_change_row(sqlite3_stmt *stmt, directory_change_row_t *out)
{
    memset(out, 0, sizeof *out);
    out->change.number = (uint64_t)sqlite3_column_int64(stmt, 0);
    out->change.at_ms = sqlite3_column_int64(stmt, 1);
    s_column_text(stmt, 2, out->change.kind, sizeof out->change.kind);
    s_column_text(stmt, 3, out->change.mpxn, sizeof out->change.mpxn);
    s_column_text(stmt, 4, out->description, sizeof out->description);
    out->withdrawn_by = (uint64_t)sqlite3_column_int64(stmt, 5);
    s_column_text(stmt, 6, out->withdrawal_reason,
                  sizeof out->withdrawal_reason);
    s_column_text(stmt, 7, out->change.mpid, sizeof out->change.mpid);
}

int directory_db_list_changes(directory_db_t *self, uint64_t since,
                              const char *mpxn, directory_change_row_t *rows,
                              size_t limit, size_t *count, char *error,
                              size_t error_size)
{
    *count = 0;
    sqlite3_stmt *stmt =
        s_statement(self, mpxn ? S_LIST_CHANGES_OF_MPXN : S_LIST_CHANGES, error,
                    error_size);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, (int64_t)since);
    sqlite3_bind_int64(stmt, 2, (int64_t)limit);
    if (mpxn)
        s_bind_text(stmt, 3, mpxn);
    int rc;
    while (*count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        s_read_change_row(stmt, &rows[(*count)++]);
    if (*count == limit)
        rc = SQLITE_DONE;
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return s_fail(self, "listing changes", error, error_size);
    return 0;
}

/* Changes of supplier */

static void s_bind_optional_text(sqlite3_stmt *stmt, int index,
                                 const char *text)
{
    if (text[0])
        s_bind_text(stmt, index, text);
    else
        sqlite3_bind_null(stmt, index);
}

int directory_db_insert_supplier_change(
    directory_db_t *self, const directory_supplier_change_t *change,
    char *error, size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_INSERT_SUPPLIER_CHANGE, error, error_size);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, (int64_t)change->change);
    s_bind_text(stmt, 2, change->mpxn);
    sqlite3_bind_int64(stmt, 3, change->effective_ms);
    s_bind_optional_text(stmt, 4, change->losing);
    if (change->losing[0])
        sqlite3_bind_int64(stmt, 5, change->closed_from_ms);
    s_bind_text(stmt, 6, change->gaining);
    return s_step_done(self, stmt, "recording a change of supplier", error,
                       error_size);
}

static void s_read_supplier_change(sqlite3_stmt *stmt,
                                   directory_supplier_change_t *out)
{
    memset(out, 0, sizeof *out);
    out->change = (uint64_t)sqlite3_column_int64(stmt, 0);
    s_column_text(stmt, 1, out->mpxn, sizeof out->mpxn);
    out->effective_ms = sqlite3_column_int64(stmt, 2);
    s_column_text(stmt, 3, out->losing, sizeof out->losing);
    out->closed_from_ms = sqlite3_column_int64(stmt, 4);
    s_column_text(stmt, 5, out->gaining, sizeof out->gaining);
    out->withdrawn_by = (uint64_t)sqlite3_column_int64(stmt, 6);
    s_column_text(stmt, 7, out->reason, sizeof out->reason);
}

static int s_query_supplier_change(directory_db_t *self, sqlite3_stmt *stmt,
                                   directory_supplier_change_t *out,
                                   char *error, size_t error_size)
{
    int rc = s_step_row(self, stmt, "reading a change of supplier", error,
                        error_size);
    if (rc == 1) {
        s_read_supplier_change(stmt, out);
        sqlite3_reset(stmt);
    }
    return rc;
}

int directory_db_get_supplier_change(directory_db_t *self, uint64_t number,
                                     directory_supplier_change_t *out,
                                     char *error, size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_GET_SUPPLIER_CHANGE, error, error_size);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, (int64_t)number);
    return s_query_supplier_change(self, stmt, out, error, error_size);
}

int directory_db_latest_supplier_change(directory_db_t *self, const char *mpxn,
                                        directory_supplier_change_t *out,
                                        char *error, size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_LATEST_SUPPLIER_CHANGE, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    return s_query_supplier_change(self, stmt, out, error, error_size);
}

int directory_db_mark_withdrawn(directory_db_t *self, uint64_t number,
                                uint64_t withdrawn_by, const char *reason,
                                char *error, size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_MARK_WITHDRAWN, error, error_size);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, (int64_t)number);
    sqlite3_bind_int64(stmt, 2, (int64_t)withdrawn_by);
    s_bind_text(stmt, 3, reason);
    return s_step_done(self, stmt, "withdrawing a change of supplier", error,
                       error_size);
}

/* Supplier keys */

static int s_read_key_row(sqlite3_stmt *stmt, directory_key_row_t *out)
{
    char type[8], text[DIR_KEY_TEXT_SIZE], state[16];
    memset(out, 0, sizeof *out);
    s_column_text(stmt, 0, out->mpid, sizeof out->mpid);
    s_column_text(stmt, 1, type, sizeof type);
    s_column_text(stmt, 2, text, sizeof text);
    s_column_text(stmt, 5, state, sizeof state);
    dir_key_t *key = &out->key;
    if (dir_key_type_parse(type, &key->type) != 0 ||
        dir_key_state_parse(state, &key->state) != 0)
        return -1;
    if (key->type == DIR_KEY_CURVE)
        snprintf(key->curve_key, sizeof key->curve_key, "%s", text);
    else if (hex_decode(text, key->sign_key, sizeof key->sign_key) != 0)
        return -1;
    key->valid_from_ms = sqlite3_column_int64(stmt, 3);
    key->valid_to_ms = s_column_end(stmt, 4);
    key->revoked_ms = sqlite3_column_int64(stmt, 6);
    s_column_text(stmt, 7, out->reason, sizeof out->reason);
    out->added_ms = sqlite3_column_int64(stmt, 8);
    return 0;
}

/* Reads every row of a key listing into a new array. */
static int s_collect_keys(directory_db_t *self, sqlite3_stmt *stmt,
                          directory_key_row_t **rows, size_t *count,
                          char *error, size_t error_size)
{
    size_t capacity = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            directory_key_row_t *grown =
                realloc(*rows, capacity * sizeof **rows);
            if (!grown) {
                snprintf(error, error_size, "out of memory listing keys");
                break;
            }
            *rows = grown;
        }
        if (s_read_key_row(stmt, &(*rows)[*count]) != 0) {
            snprintf(error, error_size,
                     "a row of supplier_keys in '%s' has an unknown type or "
                     "state, or a malformed key",
                     self->path);
            break;
        }
        (*count)++;
    }
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        s_fail(self, "listing keys", error, error_size);
    free(*rows);
    *rows = NULL;
    *count = 0;
    return -1;
}

int directory_db_list_keys(directory_db_t *self, const char *mpid,
                           directory_key_row_t **rows, size_t *count,
                           char *error, size_t error_size)
{
    *rows = NULL;
    *count = 0;
    sqlite3_stmt *stmt = s_statement(
        self, mpid ? S_LIST_KEYS_OF_SUPPLIER : S_LIST_KEYS, error, error_size);
    if (!stmt)
        return -1;
    if (mpid)
        s_bind_text(stmt, 1, mpid);
    return s_collect_keys(self, stmt, rows, count, error, error_size);
}

int directory_db_get_key(directory_db_t *self, const char *mpid,
                         const char *text, directory_key_row_t *out,
                         char *error, size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_GET_KEY, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpid);
    s_bind_text(stmt, 2, text);
    int rc = s_step_row(self, stmt, "reading a key", error, error_size);
    if (rc != 1)
        return rc;
    rc = s_read_key_row(stmt, out) == 0 ? 1 : -1;
    if (rc < 0)
        snprintf(error, error_size, "key %.16s... of %s in '%s' is malformed",
                 text, mpid, self->path);
    sqlite3_reset(stmt);
    return rc;
}

/* Binds mpid, type and key text as ?1, ?2 and ?3. */
static void s_bind_key_name(sqlite3_stmt *stmt, const directory_key_row_t *row,
                            char text[DIR_KEY_TEXT_SIZE])
{
    s_bind_text(stmt, 1, row->mpid);
    s_bind_text(stmt, 2, dir_key_type_name(row->key.type));
    s_bind_text(stmt, 3, dir_key_text(&row->key, text));
}

static void s_bind_revocation(sqlite3_stmt *stmt, int index,
                              const directory_key_row_t *row)
{
    if (row->key.state == DIR_KEY_REVOKED)
        sqlite3_bind_int64(stmt, index, row->key.revoked_ms);
    else
        sqlite3_bind_null(stmt, index);
    if (row->reason[0])
        s_bind_text(stmt, index + 1, row->reason);
    else
        sqlite3_bind_null(stmt, index + 1);
}

int directory_db_insert_key(directory_db_t *self,
                            const directory_key_row_t *row, char *error,
                            size_t error_size)
{
    char text[DIR_KEY_TEXT_SIZE];
    sqlite3_stmt *stmt = s_statement(self, S_INSERT_KEY, error, error_size);
    if (!stmt)
        return -1;
    s_bind_key_name(stmt, row, text);
    sqlite3_bind_int64(stmt, 4, row->key.valid_from_ms);
    s_bind_end(stmt, 5, row->key.valid_to_ms);
    s_bind_text(stmt, 6, dir_key_state_name(row->key.state));
    s_bind_revocation(stmt, 7, row);
    sqlite3_bind_int64(stmt, 9, row->added_ms);
    return s_step_done(self, stmt, "adding a key", error, error_size);
}

int directory_db_update_key(directory_db_t *self,
                            const directory_key_row_t *row, char *error,
                            size_t error_size)
{
    char text[DIR_KEY_TEXT_SIZE];
    sqlite3_stmt *stmt = s_statement(self, S_UPDATE_KEY, error, error_size);
    if (!stmt)
        return -1;
    s_bind_key_name(stmt, row, text);
    s_bind_end(stmt, 4, row->key.valid_to_ms);
    s_bind_text(stmt, 5, dir_key_state_name(row->key.state));
    s_bind_revocation(stmt, 6, row);
    return s_step_done(self, stmt, "changing a key", error, error_size);
}

int directory_db_key_owner(directory_db_t *self, dir_key_type_t type,
                           const char *text, char mpid[DIR_MPID_SIZE],
                           char *error, size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_KEY_OWNER, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, dir_key_type_name(type));
    s_bind_text(stmt, 2, text);
    int rc = s_step_row(self, stmt, "finding a key", error, error_size);
    if (rc == 1) {
        s_column_text(stmt, 0, mpid, DIR_MPID_SIZE);
        sqlite3_reset(stmt);
    }
    return rc;
}

int directory_db_record_supplier_entry(directory_db_t *self, int64_t at_ms,
                                       const char *kind, const char *mpid,
                                       const char *description,
                                       uint64_t *number, char *error,
                                       size_t error_size)
{
    sqlite3_stmt *stmt =
        s_statement(self, S_RECORD_SUPPLIER_ENTRY, error, error_size);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, at_ms);
    s_bind_text(stmt, 2, kind);
    s_bind_text(stmt, 3, mpid);
    s_bind_text(stmt, 4, description);
    if (s_step_done(self, stmt, "recording a change", error, error_size) != 0)
        return -1;
    if (number)
        *number = (uint64_t)sqlite3_last_insert_rowid(self->handle);
    return 0;
}

int directory_db_was_registered(directory_db_t *self, const char *mpxn,
                                const char *mpid, char *error,
                                size_t error_size)
{
    sqlite3_stmt *stmt = s_statement(self, S_WAS_REGISTERED, error, error_size);
    if (!stmt)
        return -1;
    s_bind_text(stmt, 1, mpxn);
    s_bind_text(stmt, 2, mpid);
    int rc = s_step_row(self, stmt, "reading registrations", error, error_size);
    if (rc == 1)
        sqlite3_reset(stmt);
    return rc;
}

/* In WAL mode a commit appends the transaction's pages and then a commit
 * frame to the WAL, and recovery replays only the frames up to the last
 * complete commit (each frame carries a checksum of the WAL so far). So
 * with synchronous = NORMAL every transaction stays atomic: a killed
 * process loses nothing it committed, because its WAL writes are already
 * in the operating system, and a power cut may lose the latest commits,
 * which were not yet synced, but never leaves part of one. What NORMAL
 * gives up is only the durability of those latest commits; sqlite still
 * syncs the WAL before each checkpoint copies it into the database. */
int directory_db_tune_bulk(directory_db_t *self, char *error, size_t error_size)
{
    return s_exec(self,
                  "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144",
                  error, error_size);
}
