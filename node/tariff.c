/* Bilateral tariff files: parsing, effective-dated prices and folders. */
#include "tariff.h"

#include "request.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "receipt.h"

/* Limits that keep a mistaken path (a log file, a binary) from being read
 * whole. A real tariff is a few hundred bytes. */
#define TARIFF_MAX_FILE (1024 * 1024)
#define TARIFF_MAX_LINE 1024

typedef struct {
    char type[TARIFF_TYPE_SIZE];
    int64_t effective_from;
    uint64_t fixed;
    uint64_t per_unit;
    size_t line;
} tariff_price_t;

struct tariff {
    char *path;
    char id[TARIFF_ID_SIZE];
    char serving[5];
    char requesting[5];
    char currency[4];
    uint8_t hash[HASH_SIZE];
    tariff_price_t *prices;
    size_t price_count;
    size_t price_capacity;
};

/* Parser state for one file. key_lines records the line of each key. */
typedef struct {
    tariff_t *tariff;
    const char *path;
    size_t line;
    size_t key_lines[4];
    char *error;
    size_t error_size;
} parser_t;

static const char *s_keys[4] = {"tariff-id", "serving", "requesting",
                                "currency"};

static int s_fail(parser_t *parser, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int s_fail(parser_t *parser, const char *format, ...)
{
    char reason[512];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    snprintf(parser->error, parser->error_size, "%s:%zu: %s", parser->path,
             parser->line, reason);
    return -1;
}

bool tariff_id_valid(const char *text)
{
    size_t length = strlen(text);
    if (length == 0 || length >= TARIFF_ID_SIZE)
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static bool s_type_valid(const char *text)
{
    size_t length = strlen(text);
    if (length == 0 || length >= TARIFF_TYPE_SIZE)
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!islower(c) && !isdigit(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* Parses a decimal number of micro-units: digits only, no sign. Returns
 * 0, -1 for a non-digit, or -2 when it does not fit uint64_t. */
static int s_parse_micro(const char *text, uint64_t *value)
{
    uint64_t result = 0;
    if (*text == '\0')
        return -1;
    for (const char *c = text; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return -1;
    }
    for (const char *c = text; *c; c++) {
        if (__builtin_mul_overflow(result, 10, &result) ||
            __builtin_add_overflow(result, (uint64_t)(*c - '0'), &result))
            return -2;
    }
    *value = result;
    return 0;
}

/* Parses one micro-unit field of a price line, naming it in the error. */
static int s_parse_price_field(parser_t *parser, const char *name,
                               const char *text, uint64_t *value)
{
    int rc = s_parse_micro(text, value);
    if (rc == -1)
        return s_fail(parser,
                      "invalid %s '%s': use a whole number of micro-units "
                      "(digits only)",
                      name, text);
    if (rc == -2)
        return s_fail(parser,
                      "invalid %s '%s': larger than the maximum "
                      "18446744073709551615",
                      name, text);
    return 0;
}

static char *s_trim(char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1]))
        text[--length] = '\0';
    return text;
}

static int s_set_key(parser_t *parser, size_t key, const char *value)
{
    tariff_t *t = parser->tariff;
    if (key == 0) {
        if (!tariff_id_valid(value))
            return s_fail(parser,
                          "invalid tariff-id '%s': use 1 to 63 letters, "
                          "digits, '.', '_' or '-'",
                          value);
        strcpy(t->id, value);
    } else if (key == 1 || key == 2) {
        if (!receipt_mpid_valid(value))
            return s_fail(parser,
                          "invalid %s MPID '%s': use 4 upper-case letters "
                          "or digits",
                          s_keys[key], value);
        strcpy(key == 1 ? t->serving : t->requesting, value);
    } else {
        bool valid = strlen(value) == 3;
        for (size_t i = 0; valid && i < 3; i++)
            valid = isupper((unsigned char)value[i]);
        if (!valid)
            return s_fail(parser,
                          "invalid currency '%s': use a 3-letter ISO 4217 "
                          "code such as GBP",
                          value);
        strcpy(t->currency, value);
    }
    return 0;
}

static int s_parse_assignment(parser_t *parser, char *text)
{
    char *equals = strchr(text, '=');
    if (!equals)
        return s_fail(parser,
                      "cannot read '%s': expected 'key = value' or a price "
                      "line",
                      text);
    *equals = '\0';
    char *key = s_trim(text);
    char *value = s_trim(equals + 1);
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(key, s_keys[i]) != 0)
            continue;
        if (parser->key_lines[i])
            return s_fail(parser, "%s is given again (first on line %zu)", key,
                          parser->key_lines[i]);
        parser->key_lines[i] = parser->line;
        return s_set_key(parser, i, value);
    }
    return s_fail(parser,
                  "unknown key '%s': expected tariff-id, serving, "
                  "requesting, currency or a price line",
                  key);
}

static int s_add_price(parser_t *parser, const tariff_price_t *price)
{
    tariff_t *t = parser->tariff;
    for (size_t i = 0; i < t->price_count; i++) {
        const tariff_price_t *other = &t->prices[i];
        if (strcmp(other->type, price->type) == 0 &&
            other->effective_from == price->effective_from)
            return s_fail(parser,
                          "price for %s from the same time is given again "
                          "(first on line %zu)",
                          price->type, other->line);
    }
    if (t->price_count == t->price_capacity) {
        size_t capacity = t->price_capacity ? 2 * t->price_capacity : 8;
        tariff_price_t *grown =
            realloc(t->prices, capacity * sizeof *t->prices);
        if (!grown)
            return s_fail(parser, "out of memory");
        t->prices = grown;
        t->price_capacity = capacity;
    }
    t->prices[t->price_count++] = *price;
    return 0;
}

/* Parses "price TYPE EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO". */
static int s_parse_price(parser_t *parser, char *text)
{
    char *fields[6] = {NULL};
    size_t count = 0;
    char *save = NULL;
    for (char *word = strtok_r(text, " \t", &save); word && count < 6;
         word = strtok_r(NULL, " \t", &save))
        fields[count++] = word;
    if (count != 5)
        return s_fail(parser,
                      "price line has %s%zu fields, expected 5: price TYPE "
                      "EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO",
                      count == 6 ? "more than " : "", count == 6 ? 5 : count);

    tariff_price_t price = {.line = parser->line};
    if (!s_type_valid(fields[1]))
        return s_fail(parser,
                      "invalid request type '%s': use lower-case letters, "
                      "digits, '.', '_' or '-', at most 31",
                      fields[1]);
    if (!request_type_is_meter(fields[1]))
        return s_fail(parser,
                      "unknown request type '%s': use meter.info, "
                      "read.registers, read.daily, read.profile, read.events "
                      "or read.supply",
                      fields[1]);
    strcpy(price.type, fields[1]);
    if (clock_parse_iso(fields[2], &price.effective_from) != 0)
        return s_fail(parser,
                      "invalid EFFECTIVE_FROM '%s': use YYYY-MM-DD or "
                      "YYYY-MM-DDTHH:MM:SSZ",
                      fields[2]);
    if (s_parse_price_field(parser, "FIXED_MICRO", fields[3], &price.fixed) !=
            0 ||
        s_parse_price_field(parser, "PER_UNIT_MICRO", fields[4],
                            &price.per_unit) != 0)
        return -1;
    return s_add_price(parser, &price);
}

static int s_parse_line(parser_t *parser, char *line)
{
    char *text = s_trim(line);
    if (*text == '\0' || *text == '#')
        return 0;
    if (strncmp(text, "price", 5) == 0 && (text[5] == ' ' || text[5] == '\t'))
        return s_parse_price(parser, text);
    return s_parse_assignment(parser, text);
}

static int s_check_complete(parser_t *parser)
{
    for (size_t i = 0; i < 4; i++) {
        if (!parser->key_lines[i]) {
            snprintf(parser->error, parser->error_size,
                     "%s: missing '%s = ...' line", parser->path, s_keys[i]);
            return -1;
        }
    }
    if (parser->tariff->price_count == 0) {
        snprintf(parser->error, parser->error_size,
                 "%s: no price lines; add 'price TYPE EFFECTIVE_FROM "
                 "FIXED_MICRO PER_UNIT_MICRO'",
                 parser->path);
        return -1;
    }
    return 0;
}

/* Splits text at newlines, in place, and parses each line. */
static int s_parse_text(parser_t *parser, char *text, size_t size)
{
    if (memchr(text, '\0', size)) {
        snprintf(parser->error, parser->error_size,
                 "%s: contains a NUL byte; a tariff is a text file",
                 parser->path);
        return -1;
    }
    char *line = text;
    while (line < text + size) {
        parser->line++;
        char *newline = strchr(line, '\n');
        char *next = newline ? newline + 1 : text + size;
        if (newline)
            *newline = '\0';
        if (strlen(line) > TARIFF_MAX_LINE)
            return s_fail(parser, "line is longer than %d bytes",
                          TARIFF_MAX_LINE);
        if (s_parse_line(parser, line) != 0)
            return -1;
        line = next;
    }
    return s_check_complete(parser);
}

/* Reads the whole file into a NUL-terminated malloc'd buffer. */
static char *s_read_file(const char *path, size_t *size, char *error,
                         size_t error_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "cannot open tariff %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    char *text = malloc(TARIFF_MAX_FILE + 1);
    size_t length = text ? fread(text, 1, TARIFF_MAX_FILE + 1, file) : 0;
    bool failed = text == NULL || ferror(file);
    fclose(file);
    if (failed || length > TARIFF_MAX_FILE) {
        snprintf(error, error_size,
                 failed ? "cannot read tariff %s"
                        : "tariff %s is larger than 1 MiB; is it the "
                          "right file?",
                 path);
        free(text);
        return NULL;
    }
    text[length] = '\0';
    *size = length;
    return text;
}

tariff_t *tariff_load(const char *path, char *error, size_t error_size)
{
    assert(path);
    size_t size = 0;
    char *text = s_read_file(path, &size, error, error_size);
    if (!text)
        return NULL;
    tariff_t *self = calloc(1, sizeof *self);
    if (self)
        self->path = strdup(path);
    if (!self || !self->path) {
        snprintf(error, error_size, "out of memory loading tariff %s", path);
        free(text);
        tariff_destroy(&self);
        return NULL;
    }
    hash_blake2b(text, size, self->hash);

    parser_t parser = {
        .tariff = self, .path = path, .error = error, .error_size = error_size};
    int rc = s_parse_text(&parser, text, size);
    free(text);
    if (rc != 0)
        tariff_destroy(&self);
    return self;
}

void tariff_destroy(tariff_t **self_p)
{
    assert(self_p);
    tariff_t *self = *self_p;
    if (!self)
        return;
    free(self->prices);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const char *tariff_id(const tariff_t *self)
{
    return self->id;
}

const char *tariff_serving(const tariff_t *self)
{
    return self->serving;
}

const char *tariff_requesting(const tariff_t *self)
{
    return self->requesting;
}

const char *tariff_currency(const tariff_t *self)
{
    return self->currency;
}

const char *tariff_path(const tariff_t *self)
{
    return self->path;
}

const uint8_t *tariff_hash(const tariff_t *self)
{
    return self->hash;
}

int tariff_price(const tariff_t *self, const char *type, int64_t at_ms,
                 uint64_t units, uint64_t *price)
{
    assert(self);
    assert(type);
    assert(price);
    const tariff_price_t *best = NULL;
    for (size_t i = 0; i < self->price_count; i++) {
        const tariff_price_t *line = &self->prices[i];
        if (strcmp(line->type, type) != 0 || line->effective_from > at_ms)
            continue;
        if (!best || line->effective_from > best->effective_from)
            best = line;
    }
    if (!best)
        return -1;
    uint64_t variable;
    if (__builtin_mul_overflow(best->per_unit, units, &variable) ||
        __builtin_add_overflow(best->fixed, variable, price))
        return -1;
    return 0;
}

struct tariff_set {
    tariff_t **tariffs;
    size_t count;
};

static int s_name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool s_is_tariff_name(const char *name)
{
    size_t length = strlen(name);
    return name[0] != '.' && length > 7 &&
           strcmp(name + length - 7, ".tariff") == 0;
}

/* Lists the *.tariff names in folder, sorted, into *names_p. Caller
 * frees each name and the array. Returns 0 or -1. */
static int s_list_tariff_files(const char *folder, char ***names_p,
                               size_t *count, char *error, size_t error_size)
{
    DIR *dir = opendir(folder);
    if (!dir) {
        snprintf(error, error_size, "cannot open tariff folder %s: %s", folder,
                 strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t used = 0;
    bool failed = false;
    struct dirent *entry;
    while (!failed && (entry = readdir(dir)) != NULL) {
        if (!s_is_tariff_name(entry->d_name))
            continue;
        char **grown = realloc(names, (used + 1) * sizeof *names);
        char *copy = grown ? strdup(entry->d_name) : NULL;
        if (grown)
            names = grown;
        if (!copy)
            failed = true;
        else
            names[used++] = copy;
    }
    closedir(dir);
    if (failed) {
        snprintf(error, error_size, "out of memory listing %s", folder);
        for (size_t i = 0; i < used; i++)
            free(names[i]);
        free(names);
        return -1;
    }
    if (used > 0)
        qsort(names, used, sizeof *names, s_name_order);
    *names_p = names;
    *count = used;
    return 0;
}

static int s_set_add(tariff_set_t *self, const char *path, char *error,
                     size_t error_size)
{
    tariff_t *tariff = tariff_load(path, error, error_size);
    if (!tariff)
        return -1;
    const tariff_t *other =
        tariff_set_find(self, tariff->serving, tariff->requesting);
    if (other) {
        snprintf(error, error_size,
                 "%s and %s are both tariffs for %s->%s; keep one of them",
                 other->path, path, tariff->serving, tariff->requesting);
        tariff_destroy(&tariff);
        return -1;
    }
    self->tariffs[self->count++] = tariff;
    return 0;
}

tariff_set_t *tariff_set_load(const char *folder, char *error,
                              size_t error_size)
{
    assert(folder);
    char **names = NULL;
    size_t name_count = 0;
    if (s_list_tariff_files(folder, &names, &name_count, error, error_size) !=
        0)
        return NULL;
    tariff_set_t *self = calloc(1, sizeof *self);
    if (self)
        self->tariffs = calloc(name_count + 1, sizeof *self->tariffs);
    int rc = self && self->tariffs ? 0 : -1;
    if (rc != 0)
        snprintf(error, error_size, "out of memory loading tariffs");
    for (size_t i = 0; i < name_count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", folder, names[i]);
        if (rc == 0)
            rc = s_set_add(self, path, error, error_size);
        free(names[i]);
    }
    free(names);
    if (rc != 0)
        tariff_set_destroy(&self);
    return self;
}

void tariff_set_destroy(tariff_set_t **self_p)
{
    assert(self_p);
    tariff_set_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        tariff_destroy(&self->tariffs[i]);
    free(self->tariffs);
    free(self);
    *self_p = NULL;
}

const tariff_t *tariff_set_find(const tariff_set_t *self, const char *serving,
                                const char *requesting)
{
    assert(self);
    assert(serving);
    assert(requesting);
    for (size_t i = 0; i < self->count; i++) {
        const tariff_t *t = self->tariffs[i];
        if (strcmp(t->serving, serving) == 0 &&
            strcmp(t->requesting, requesting) == 0)
            return t;
    }
    return NULL;
}

size_t tariff_set_size(const tariff_set_t *self)
{
    return self->count;
}

const tariff_t *tariff_set_get(const tariff_set_t *self, size_t index)
{
    assert(index < self->count);
    return self->tariffs[index];
}
