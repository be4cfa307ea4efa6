/* The folder of agreed statements: naming, saving, listing and lookup. */
#include "statement_store.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "hex.h"

#define STORE_SUFFIX ".statement"

/* Writes ms as YYYYMMDDTHHMMSSZ, a form that is safe in file names. */
static void s_compact_time(int64_t ms, char text[CLOCK_ISO_SIZE])
{
    char iso[CLOCK_ISO_SIZE];
    clock_format_iso(ms, iso);
    size_t used = 0;
    for (const char *c = iso; *c && *c != '.' && used + 1 < CLOCK_ISO_SIZE; c++)
        if (*c != '-' && *c != ':' && *c != 'Z')
            text[used++] = *c;
    text[used++] = 'Z';
    text[used] = '\0';
}

int statement_store_save(const char *folder, const statement_file_t *statement,
                         char *path, size_t path_size, char *error,
                         size_t error_size)
{
    assert(folder);
    assert(statement);
    assert(path);
    if (mkdir(folder, 0755) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "cannot create %s: %s", folder,
                 strerror(errno));
        return -1;
    }
    const statement_t *s = statement_file_summary(statement);
    char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE], hash[2 * HASH_SIZE + 1];
    s_compact_time(s->from_ms, from);
    s_compact_time(s->to_ms, to);
    hex_encode(statement_file_hash(statement), HASH_SIZE, hash);
    hash[16] = '\0';
    snprintf(path, path_size, "%s/%s-%s_%s_%s_by-%s_%s%s", folder, s->serving,
             s->requesting, from, to, statement_file_issuer(statement), hash,
             STORE_SUFFIX);
    return statement_file_save(statement, path, error, error_size);
}

static bool s_is_statement_name(const char *name)
{
    size_t length = strlen(name);
    size_t suffix = strlen(STORE_SUFFIX);
    return name[0] != '.' && length > suffix &&
           strcmp(name + length - suffix, STORE_SUFFIX) == 0;
}

static int s_name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void s_free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* Lists the statement file names of folder, sorted. */
static int s_list(const char *folder, char ***names_p, size_t *count_p,
                  char *error, size_t error_size)
{
    *names_p = NULL;
    *count_p = 0;
    DIR *dir = opendir(folder);
    if (!dir && errno == ENOENT)
        return 0;
    if (!dir) {
        snprintf(error, error_size, "cannot open %s: %s", folder,
                 strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *entry;
    int rc = 0;
    while (rc == 0 && (entry = readdir(dir)) != NULL) {
        if (!s_is_statement_name(entry->d_name))
            continue;
        char **grown = realloc(names, (count + 1) * sizeof *names);
        char *copy = grown ? strdup(entry->d_name) : NULL;
        if (grown)
            names = grown;
        if (!copy)
            rc = -1;
        else
            names[count++] = copy;
    }
    closedir(dir);
    if (rc != 0) {
        snprintf(error, error_size, "out of memory listing %s", folder);
        s_free_names(names, count);
        return -1;
    }
    if (count > 1)
        qsort(names, count, sizeof *names, s_name_order);
    *names_p = names;
    *count_p = count;
    return 0;
}

int statement_store_foreach(const char *folder, statement_store_fn callback,
                            void *arg, char *error, size_t error_size)
{
    assert(folder);
    assert(callback);
    char **names = NULL;
    size_t count = 0;
    if (s_list(folder, &names, &count, error, error_size) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char path[4096], problem[1024] = "";
        snprintf(path, sizeof path, "%s/%s", folder, names[i]);
        statement_file_t *statement =
            statement_file_load(path, problem, sizeof problem);
        rc = callback(path, statement, problem, arg);
        statement_file_destroy(&statement);
    }
    s_free_names(names, count);
    return rc;
}

/* The best match found so far by statement_store_find. */
typedef struct {
    const char *serving;
    const char *requesting;
    int64_t from_ms;
    int64_t to_ms;
    char path[4096];
    int64_t accepted_at;
    bool found;
} finder_t;

static int s_consider(const char *path, const statement_file_t *statement,
                      const char *problem, void *arg)
{
    finder_t *finder = arg;
    (void)problem;
    if (!statement || !statement_file_accepted(statement))
        return 0;
    const statement_t *s = statement_file_summary(statement);
    if (strcmp(s->serving, finder->serving) != 0 ||
        strcmp(s->requesting, finder->requesting) != 0 ||
        s->from_ms != finder->from_ms || s->to_ms != finder->to_ms)
        return 0;
    int64_t accepted_at = statement_file_accepted_at(statement);
    if (finder->found && accepted_at < finder->accepted_at)
        return 0;
    snprintf(finder->path, sizeof finder->path, "%s", path);
    finder->accepted_at = accepted_at;
    finder->found = true;
    return 0;
}

int statement_store_find(const char *folder, const char *serving,
                         const char *requesting, int64_t from_ms, int64_t to_ms,
                         statement_file_t **out, char *path, size_t path_size,
                         char *error, size_t error_size)
{
    assert(out);
    assert(path);
    *out = NULL;
    finder_t finder = {.serving = serving,
                       .requesting = requesting,
                       .from_ms = from_ms,
                       .to_ms = to_ms};
    if (statement_store_foreach(folder, s_consider, &finder, error,
                                error_size) != 0)
        return -1;
    if (!finder.found)
        return 0;
    snprintf(path, path_size, "%s", finder.path);
    *out = statement_file_load(finder.path, error, error_size);
    return *out ? 1 : -1;
}
