/* Import of LCL half-hourly CSV files into the sim database. */
#include "sim_import.h"

#include "clock.h"
#include "log.h"
#include "mpxn.h"

#include <assert.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Rows per transaction, and how often progress is reported. */
#define IMPORT_BATCH_ROWS 10000
/* kWh values up to 999,999,999 per half hour keep Wh well inside int64. */
#define KWH_MAX_INTEGER_DIGITS 9

typedef struct {
    sim_store_t *store;
    const sim_import_options_t *options;
    sim_import_stats_t *stats;
    const char *path;
    size_t line;
    size_t rows_in_batch;
    zhashx_t *seen; /* "mpxn start_ms" -> first line number */
    char household[SIM_HOUSEHOLD_SIZE]; /* the last household looked up */
    char mpxn[SIM_MPXN_SIZE];
    bool household_ok;
    char household_error[256];
} import_t;

static bool s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int sim_parse_kwh(const char *text, int64_t *wh, bool *rounded)
{
    assert(text);
    assert(wh);
    assert(rounded);
    const char *p = text;
    int64_t whole = 0;
    int digits = 0;
    for (; s_is_digit(*p); p++, digits++) {
        if (digits == KWH_MAX_INTEGER_DIGITS)
            return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (digits == 0)
        return -1;

    int64_t fraction = 0; /* the first three decimals, in Wh */
    int places = 0;
    bool round_up = false, inexact = false;
    if (*p == '.') {
        p++;
        if (!s_is_digit(*p))
            return -1;
        for (; s_is_digit(*p); p++, places++) {
            if (places < 3)
                fraction = fraction * 10 + (*p - '0');
            else if (places == 3)
                round_up = *p >= '5';
            if (places >= 3 && *p != '0')
                inexact = true;
        }
    }
    if (*p != '\0')
        return -1;
    for (; places < 3; places++)
        fraction *= 10;
    *wh = whole * 1000 + fraction + (round_up ? 1 : 0);
    *rounded = inexact;
    return 0;
}

/* Reads exactly width digits at text into *value. */
static bool s_read_number(const char *text, int width, int *value)
{
    *value = 0;
    for (int i = 0; i < width; i++) {
        if (!s_is_digit(text[i]))
            return false;
        *value = *value * 10 + (text[i] - '0');
    }
    return true;
}

int sim_parse_timestamp(const char *text, int64_t *ms)
{
    assert(text);
    assert(ms);
    int year, month, day, hour, minute, second;
    if (strlen(text) != 19 || text[4] != '-' || text[7] != '-' ||
        text[10] != ' ' || text[13] != ':' || text[16] != ':')
        return -1;
    if (!s_read_number(text, 4, &year) || !s_read_number(text + 5, 2, &month) ||
        !s_read_number(text + 8, 2, &day) ||
        !s_read_number(text + 11, 2, &hour) ||
        !s_read_number(text + 14, 2, &minute) ||
        !s_read_number(text + 17, 2, &second))
        return -1;
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 ||
        second > 59)
        return -1;

    /* A day past the end of the month comes back as another date. */
    int64_t days = clock_days_from_civil(year, month, day);
    int check_year, check_month, check_day;
    clock_civil_from_days(days, &check_year, &check_month, &check_day);
    if (check_month != month || check_day != day)
        return -1;
    if ((minute != 0 && minute != 30) || second != 0)
        return -2;
    *ms = ((days * 24 + hour) * 60 + minute) * 60000LL;
    return 0;
}

int sim_household_mpan(const char *household, char mpan[14])
{
    assert(household);
    assert(mpan);
    size_t length = strlen(household);
    if (length < 4 || length > 11 || strncmp(household, "MAC", 3) != 0)
        return -1;
    for (size_t i = 3; i < length; i++) {
        if (!s_is_digit(household[i]))
            return -1;
    }
    char digits[13];
    size_t number_size = length - 3;
    memcpy(digits, "12", 2);
    memset(digits + 2, '0', 8 - number_size);
    memcpy(digits + 2 + 8 - number_size, household + 3, number_size);
    memcpy(digits + 10, "10", 3);
    return mpan_core_make(digits, mpan);
}

static void s_report(import_t *import, size_t line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void s_report(import_t *import, size_t line, const char *format, ...)
{
    char reason[512];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    if (import->options && import->options->report)
        import->options->report(import->options->report_arg, import->path, line,
                                reason);
    else if (line > 0)
        log_warning("skipped bad row: %s file=%s line=%zu", reason,
                    import->path, line);
    else
        log_warning("skipped file: %s file=%s", reason, import->path);
}

static void s_reject(import_t *import, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void s_reject(import_t *import, const char *format, ...)
{
    char reason[512];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    import->stats->rejected++;
    s_report(import, import->line, "%s", reason);
}

static char *s_trim(char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t length = strlen(text);
    while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t'))
        text[--length] = '\0';
    return text;
}

/* Splits line at commas into exactly count trimmed fields. Returns the
 * number of fields found. */
static size_t s_split(char *line, char **fields, size_t count)
{
    size_t found = 0;
    char *start = line;
    while (true) {
        char *comma = strchr(start, ',');
        if (comma)
            *comma = '\0';
        if (found < count)
            fields[found] = s_trim(start);
        found++;
        if (!comma)
            return found;
        start = comma + 1;
    }
}

/* Finds or adds the meter of household. Returns 0, -1 for a bad row (the
 * reason is left in import->household_error) and -2 when the database
 * failed. */
static int s_meter_for(import_t *import, const char *household)
{
    if (strcmp(household, import->household) == 0)
        return import->household_ok ? 0 : -1;
    snprintf(import->household, sizeof import->household, "%s", household);
    import->household_ok = false;

    sim_meter_t meter = {.fuel = "electricity", .head_end = "sim"};
    if (sim_household_mpan(household, meter.mpxn) != 0) {
        snprintf(import->household_error, sizeof import->household_error,
                 "invalid household id '%.40s': expected MAC and 1 to 8 "
                 "digits, such as MAC000002",
                 household);
        return -1;
    }
    snprintf(meter.household, sizeof meter.household, "%s", household);
    snprintf(meter.meter_id, sizeof meter.meter_id, "SIM-%s", household);
    sim_store_put_t put = sim_store_add_meter(import->store, &meter);
    if (put == SIM_STORE_FAILED)
        return -2;
    if (put == SIM_STORE_CONFLICT) {
        snprintf(import->household_error, sizeof import->household_error,
                 "household %s maps to MPAN core %s, which the database "
                 "already has for another household",
                 household, meter.mpxn);
        return -1;
    }
    if (put == SIM_STORE_INSERTED)
        import->stats->meters_added++;
    snprintf(import->mpxn, sizeof import->mpxn, "%s", meter.mpxn);
    import->household_ok = true;
    return 0;
}

/* Rejects a second row for the same meter and half hour in this file. */
static bool s_is_duplicate(import_t *import, const char *tstp, int64_t start_ms)
{
    char key[64];
    snprintf(key, sizeof key, "%s %lld", import->mpxn, (long long)start_ms);
    void *first = zhashx_lookup(import->seen, key);
    if (first) {
        s_reject(import, "duplicate reading for %s at %s, first on line %zu",
                 import->household, tstp, (size_t)(uintptr_t)first);
        return true;
    }
    zhashx_insert(import->seen, key, (void *)(uintptr_t)import->line);
    return false;
}

static int s_store_reading(import_t *import, const char *tstp, int64_t start_ms,
                           int64_t wh)
{
    int64_t stored = 0;
    sim_store_put_t put = sim_store_add_reading(import->store, import->mpxn,
                                                start_ms, wh, &stored);
    if (put == SIM_STORE_FAILED)
        return -1;
    if (put == SIM_STORE_INSERTED)
        import->stats->inserted++;
    else if (put == SIM_STORE_UNCHANGED)
        import->stats->unchanged++;
    else
        s_reject(import,
                 "reading for %s at %s is already stored as %lld Wh, not "
                 "%lld Wh; kept the stored value",
                 import->household, tstp, (long long)stored, (long long)wh);
    return 0;
}

static int s_check_meter(import_t *import, const char *household)
{
    int rc = s_meter_for(import, household);
    if (rc == -1)
        s_reject(import, "%s", import->household_error);
    return rc;
}

static int s_check_time(import_t *import, const char *tstp, int64_t *start_ms)
{
    int rc = sim_parse_timestamp(tstp, start_ms);
    if (rc == -1)
        s_reject(import,
                 "invalid timestamp '%.40s': expected YYYY-MM-DD HH:MM:SS",
                 tstp);
    else if (rc == -2)
        s_reject(import,
                 "off-grid time '%s': readings must start on the hour or "
                 "half hour",
                 tstp);
    return rc;
}

static int s_check_energy(import_t *import, const char *energy, int64_t *wh)
{
    bool rounded = false;
    if (sim_parse_kwh(energy, wh, &rounded) != 0) {
        s_reject(import,
                 "invalid energy '%.40s': expected a decimal number of kWh "
                 "such as 0.219",
                 energy);
        return -1;
    }
    if (rounded)
        import->stats->rounded++;
    return 0;
}

/* Imports one data row. Returns 0 (loaded or rejected) or -1 when the
 * database failed. */
static int s_import_row(import_t *import, char *line)
{
    import->stats->rows++;
    char *fields[3];
    size_t count = s_split(line, fields, 3);
    if (count != 3) {
        s_reject(import, "expected 3 fields (LCLid,tstp,energy), got %zu",
                 count);
        return 0;
    }
    int rc = s_check_meter(import, fields[0]);
    if (rc == -2)
        return -1;
    int64_t start_ms, wh;
    if (rc != 0 || s_check_time(import, fields[1], &start_ms) != 0 ||
        s_check_energy(import, fields[2], &wh) != 0 ||
        s_is_duplicate(import, fields[1], start_ms))
        return 0;
    return s_store_reading(import, fields[1], start_ms, wh);
}

/* Strips the line ending; returns false for a line with a NUL byte. */
static bool s_clean_line(char *line, ssize_t length)
{
    if (memchr(line, '\0', (size_t)length))
        return false;
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
        line[--length] = '\0';
    return true;
}

static int s_check_header(import_t *import, char *line, ssize_t length)
{
    if (length < 0) {
        s_report(import, 0, "the file is empty; expected the header %s",
                 SIM_CSV_HEADER);
        return -1;
    }
    if (!s_clean_line(line, length) || strcmp(line, SIM_CSV_HEADER) != 0) {
        s_report(import, 1,
                 "header is '%.60s', expected '%s'; is this a Low Carbon "
                 "London half-hourly file?",
                 line, SIM_CSV_HEADER);
        return -1;
    }
    return 0;
}

static void s_progress(import_t *import)
{
    if (import->options && import->options->progress)
        import->options->progress(import->options->progress_arg, import->path,
                                  import->stats);
}

/* Commits the rows so far once a batch is full. Returns 0 or -1. */
static int s_next_row_batch(import_t *import)
{
    if (++import->rows_in_batch < IMPORT_BATCH_ROWS)
        return 0;
    import->rows_in_batch = 0;
    s_progress(import);
    if (sim_store_commit(import->store) != 0)
        return -1;
    return sim_store_begin(import->store);
}

static int s_import_rows(import_t *import, FILE *file)
{
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length = getline(&line, &capacity, file);
    import->line = 1;
    int rc = s_check_header(import, line, length);
    while (rc == 0 && (length = getline(&line, &capacity, file)) >= 0) {
        import->line++;
        if (!s_clean_line(line, length)) {
            import->stats->rows++;
            s_reject(import, "the row contains a NUL byte");
            continue;
        }
        if (line[0] == '\0')
            continue;
        if (s_import_row(import, line) != 0 || s_next_row_batch(import) != 0)
            rc = -1;
    }
    if (rc == 0 && ferror(file)) {
        s_report(import, 0, "read failed after line %zu: %s", import->line,
                 strerror(errno));
        rc = -1;
    }
    free(line);
    return rc;
}

int sim_import_file(sim_store_t *store, const char *path,
                    const sim_import_options_t *options,
                    sim_import_stats_t *stats)
{
    assert(store);
    assert(path);
    assert(stats);
    import_t import = {
        .store = store, .options = options, .stats = stats, .path = path};
    FILE *file = fopen(path, "r");
    if (!file) {
        s_report(&import, 0, "cannot open the file: %s", strerror(errno));
        return -1;
    }
    import.seen = zhashx_new();
    int rc = sim_store_begin(store);
    if (rc == 0)
        rc = s_import_rows(&import, file);
    if (rc == 0)
        rc = sim_store_commit(store);
    else
        sim_store_rollback(store);
    if (rc == 0) {
        stats->files++;
        s_progress(&import);
    }
    zhashx_destroy(&import.seen);
    fclose(file);
    return rc;
}

static int s_compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool s_is_csv(const char *name)
{
    size_t length = strlen(name);
    return length > 4 && strcmp(name + length - 4, ".csv") == 0;
}

/* Lists the *.csv files of folder in name order. Returns the count, or -1
 * when the folder cannot be read. Caller frees each name and the list. */
static ssize_t s_list_csv(const char *folder, char ***names)
{
    DIR *dir = opendir(folder);
    if (!dir)
        return -1;
    size_t count = 0, capacity = 0;
    *names = NULL;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (!s_is_csv(entry->d_name))
            continue;
        if (count == capacity) {
            capacity = capacity * 2 + 16;
            *names = realloc(*names, capacity * sizeof **names);
            assert(*names);
        }
        (*names)[count++] = strdup(entry->d_name);
    }
    closedir(dir);
    if (count > 0)
        qsort(*names, count, sizeof **names, s_compare_names);
    return (ssize_t)count;
}

static int s_import_folder(sim_store_t *store, const char *folder,
                           const sim_import_options_t *options,
                           sim_import_stats_t *stats)
{
    char **names = NULL;
    ssize_t count = s_list_csv(folder, &names);
    import_t import = {
        .store = store, .options = options, .stats = stats, .path = folder};
    if (count < 0) {
        s_report(&import, 0, "cannot read the folder: %s", strerror(errno));
        return -1;
    }
    if (count == 0)
        s_report(&import, 0, "the folder has no .csv files");
    int rc = count == 0 ? -1 : 0;
    for (ssize_t i = 0; i < count; i++) {
        char *path = zsys_sprintf("%s/%s", folder, names[i]);
        if (sim_import_file(store, path, options, stats) != 0)
            rc = -1;
        zstr_free(&path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int sim_import_path(sim_store_t *store, const char *path,
                    const sim_import_options_t *options,
                    sim_import_stats_t *stats)
{
    assert(store);
    assert(path);
    assert(stats);
    struct stat info;
    if (stat(path, &info) == 0 && S_ISDIR(info.st_mode))
        return s_import_folder(store, path, options, stats);
    return sim_import_file(store, path, options, stats);
}
