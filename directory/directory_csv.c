/* RFC 4180 CSV reader with line numbers. */
#include "directory_csv.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader {
    FILE *file;
    bool owns_file;
    char *name;
    size_t line;        /* physical line of the next character */
    size_t record_line; /* line on which the current record starts */
    bool started;       /* past the byte order mark check */
    bool read_failed;   /* the read error has been reported */
    int pushed[3];      /* characters pushed back, last one first out */
    size_t pushed_count;
    size_t field_count;
    size_t field_size; /* bytes in the field being read */
    size_t used;       /* bytes of buffer in use */
    size_t offsets[CSV_MAX_FIELDS];
    char buffer[CSV_MAX_FIELDS * (CSV_MAX_FIELD + 1)];
};

csv_reader_t *csv_reader_new(FILE *file, const char *name)
{
    assert(file && name);
    csv_reader_t *self = malloc(sizeof *self);
    if (!self)
        return NULL;
    memset(self, 0, offsetof(csv_reader_t, buffer));
    self->name = strdup(name);
    if (!self->name) {
        free(self);
        return NULL;
    }
    self->file = file;
    self->line = 1;
    return self;
}

csv_reader_t *csv_reader_open(const char *path, char *error, size_t error_size)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(error, error_size, "cannot open '%s': %s", path,
                 strerror(errno));
        return NULL;
    }
    csv_reader_t *self = csv_reader_new(file, path);
    if (!self) {
        fclose(file);
        snprintf(error, error_size, "out of memory reading '%s'", path);
        return NULL;
    }
    self->owns_file = true;
    return self;
}

void csv_reader_destroy(csv_reader_t **self_p)
{
    assert(self_p);
    csv_reader_t *self = *self_p;
    if (!self)
        return;
    if (self->owns_file)
        fclose(self->file);
    free(self->name);
    free(self);
    *self_p = NULL;
}

size_t csv_reader_field_count(const csv_reader_t *self)
{
    return self->field_count;
}

const char *csv_reader_field(const csv_reader_t *self, size_t index)
{
    assert(index < self->field_count);
    return self->buffer + self->offsets[index];
}

size_t csv_reader_line(const csv_reader_t *self)
{
    return self->record_line;
}

bool csv_reader_failed(const csv_reader_t *self)
{
    return ferror(self->file) != 0;
}

const char *csv_reader_name(const csv_reader_t *self)
{
    return self->name;
}

static int s_getc(csv_reader_t *self)
{
    if (self->pushed_count > 0)
        return self->pushed[--self->pushed_count];
    return getc_unlocked(self->file);
}

/* Pushes c back; EOF is not pushed, so the next read finds it again. */
static void s_ungetc(csv_reader_t *self, int c)
{
    assert(self->pushed_count < sizeof self->pushed / sizeof *self->pushed);
    if (c != EOF)
        self->pushed[self->pushed_count++] = c;
}

/* Skips a UTF-8 byte order mark at the very start of the file. */
static void s_skip_bom(csv_reader_t *self)
{
    static const int bom[3] = {0xEF, 0xBB, 0xBF};
    int bytes[3];
    size_t count = 0;
    while (count < 3) {
        bytes[count] = s_getc(self);
        if (bytes[count] != bom[count])
            break;
        count++;
    }
    if (count == 3)
        return;
    for (size_t i = count + 1; i-- > 0;)
        s_ungetc(self, bytes[i]);
}

/* Skips the rest of the current line after a malformed record. */
static void s_skip_line(csv_reader_t *self)
{
    int c;
    while ((c = s_getc(self)) != EOF && c != '\n')
        ;
    if (c == '\n')
        self->line++;
}

/* Skips empty lines. Returns the first character of a record, or EOF. */
static int s_skip_empty_lines(csv_reader_t *self)
{
    for (;;) {
        int c = s_getc(self);
        if (c == '\n') {
            self->line++;
            continue;
        }
        if (c == '\r') {
            int next = s_getc(self);
            if (next == '\n') {
                self->line++;
                continue;
            }
            s_ungetc(self, next);
        }
        return c;
    }
}

static int s_append(csv_reader_t *self, int c, char *error, size_t error_size)
{
    if (self->field_size >= CSV_MAX_FIELD) {
        snprintf(error, error_size, "field %zu is longer than %d bytes",
                 self->field_count + 1, CSV_MAX_FIELD);
        return -1;
    }
    self->buffer[self->used++] = (char)c;
    self->field_size++;
    return 0;
}

static void s_end_field(csv_reader_t *self)
{
    self->buffer[self->used++] = '\0';
    self->offsets[self->field_count++] = self->used - self->field_size - 1;
    self->field_size = 0;
}

/* What ended a field. */
typedef enum { S_COMMA, S_END, S_ERROR, S_TRUNCATED } s_stop_t;

/* Reads the character after a field: a comma, a line end or the end of
 * the file. */
static s_stop_t s_read_separator(csv_reader_t *self, int c, char *error,
                                 size_t error_size)
{
    if (c == ',')
        return S_COMMA;
    if (c == EOF)
        return S_END;
    if (c == '\n') {
        self->line++;
        return S_END;
    }
    if (c == '\r') {
        int next = s_getc(self);
        if (next == '\n') {
            self->line++;
            return S_END;
        }
        s_ungetc(self, next);
        snprintf(error, error_size, "carriage return without line feed");
        return S_ERROR;
    }
    snprintf(error, error_size,
             "unexpected character '%c' after a closing "
             "quote: quote the whole field",
             c);
    return S_ERROR;
}

/* Reads a quoted field after its opening quote. */
static s_stop_t s_read_quoted(csv_reader_t *self, char *error,
                              size_t error_size)
{
    for (;;) {
        int c = s_getc(self);
        if (c == EOF) {
            snprintf(error, error_size,
                     "quoted field %zu is not closed before the end of the "
                     "file",
                     self->field_count + 1);
            return S_TRUNCATED;
        }
        if (c == '"') {
            int next = s_getc(self);
            if (next != '"')
                return s_read_separator(self, next, error, error_size);
        }
        if (c == '\n')
            self->line++;
        if (s_append(self, c, error, error_size) != 0)
            return S_ERROR;
    }
}

/* Reads an unquoted field whose first character is c. */
static s_stop_t s_read_plain(csv_reader_t *self, int c, char *error,
                             size_t error_size)
{
    for (;; c = s_getc(self)) {
        if (c == ',' || c == '\n' || c == '\r' || c == EOF)
            return s_read_separator(self, c, error, error_size);
        if (c == '"') {
            snprintf(error, error_size,
                     "quote inside unquoted field %zu: quote the whole "
                     "field and double the quotes in it",
                     self->field_count + 1);
            return S_ERROR;
        }
        if (s_append(self, c, error, error_size) != 0)
            return S_ERROR;
    }
}

/* Reads one record whose first character is c. */
static s_stop_t s_read_record(csv_reader_t *self, int c, char *error,
                              size_t error_size)
{
    for (;;) {
        /* Checked before the field is read, so that the rest of the line
         * is still there for s_skip_line. */
        if (self->field_count >= CSV_MAX_FIELDS) {
            snprintf(error, error_size, "more than %d fields", CSV_MAX_FIELDS);
            return S_ERROR;
        }
        s_stop_t stop = c == '"' ? s_read_quoted(self, error, error_size)
                                 : s_read_plain(self, c, error, error_size);
        if (stop == S_ERROR || stop == S_TRUNCATED)
            return stop;
        s_end_field(self);
        if (stop == S_END)
            return S_END;
        c = s_getc(self);
    }
}

static int s_check_read_error(csv_reader_t *self, char *error,
                              size_t error_size)
{
    if (!ferror(self->file) || self->read_failed)
        return 0;
    self->read_failed = true;
    snprintf(error, error_size, "read failed: %s", strerror(errno));
    return -1;
}

int csv_reader_next(csv_reader_t *self, char *error, size_t error_size)
{
    self->field_count = 0;
    self->field_size = 0;
    self->used = 0;
    if (!self->started) {
        self->started = true;
        s_skip_bom(self);
    }
    int c = s_skip_empty_lines(self);
    self->record_line = self->line;
    if (c == EOF)
        return s_check_read_error(self, error, error_size);

    s_stop_t stop = s_read_record(self, c, error, error_size);
    if (stop == S_ERROR)
        s_skip_line(self);
    if (stop == S_ERROR || stop == S_TRUNCATED) {
        self->field_count = 0;
        /* A read error also ends a record early: report it as what it is. */
        s_check_read_error(self, error, error_size);
        return -1;
    }
    return 1;
}
