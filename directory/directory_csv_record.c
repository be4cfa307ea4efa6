/* RFC 4180 CSV records with their raw text, read a line at a time. */
#include "directory_csv_record.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "directory_csv.h"

/* Bytes read from the file at a time, and the longest physical line. A
 * valid record is shorter: 64 fields of 4096 bytes, each quote doubled,
 * is about 512 KiB. */
#define S_BUFFER_SIZE (1024 * 1024)

struct csv_record_reader {
    FILE *file;
    bool owns_file;
    char *name;
    bool started;     /* past the byte order mark check */
    bool at_end;      /* the file has no more bytes */
    bool read_failed; /* the read error has been reported */
    size_t next_line; /* number of the next physical line */
    size_t record_line;
    uint64_t bytes; /* bytes consumed, up to the end of the record */

    char *buffer; /* S_BUFFER_SIZE bytes read ahead from the file */
    size_t buffer_start, buffer_end;

    char *raw; /* the record's lines, joined by their '\n' */
    size_t raw_size, raw_capacity;

    size_t field_count;
    size_t field_size; /* bytes in the field being parsed */
    size_t used;       /* bytes of fields in use */
    size_t offsets[CSV_MAX_FIELDS];
    char *fields; /* CSV_MAX_FIELDS fields of CSV_MAX_FIELD bytes and NUL */
};

csv_record_reader_t *csv_record_reader_new(FILE *file, const char *name)
{
    assert(file);
    assert(name);
    csv_record_reader_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->file = file;
    self->next_line = 1;
    self->name = strdup(name);
    self->buffer = malloc(S_BUFFER_SIZE);
    self->fields = malloc(CSV_MAX_FIELDS * (CSV_MAX_FIELD + 1));
    self->raw_capacity = 4096;
    self->raw = malloc(self->raw_capacity);
    if (!self->name || !self->buffer || !self->fields || !self->raw)
        csv_record_reader_destroy(&self);
    return self;
}

csv_record_reader_t *csv_record_reader_open(const char *path, char *error,
                                            size_t error_size)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(error, error_size, "cannot open '%s': %s", path,
                 strerror(errno));
        return NULL;
    }
    csv_record_reader_t *self = csv_record_reader_new(file, path);
    if (!self) {
        fclose(file);
        snprintf(error, error_size, "out of memory reading '%s'", path);
        return NULL;
    }
    self->owns_file = true;
    return self;
}

void csv_record_reader_destroy(csv_record_reader_t **self_p)
{
    assert(self_p);
    csv_record_reader_t *self = *self_p;
    if (!self)
        return;
    if (self->owns_file)
        fclose(self->file);
    free(self->name);
    free(self->buffer);
    free(self->raw);
    free(self->fields);
    free(self);
    *self_p = NULL;
}

size_t csv_record_reader_field_count(const csv_record_reader_t *self)
{
    return self->field_count;
}

const char *csv_record_reader_field(const csv_record_reader_t *self,
                                    size_t index)
{
    assert(index < self->field_count);
    return self->fields + self->offsets[index];
}

const char *csv_record_reader_raw(const csv_record_reader_t *self)
{
    return self->raw;
}

size_t csv_record_reader_line(const csv_record_reader_t *self)
{
    return self->record_line;
}

uint64_t csv_record_reader_bytes(const csv_record_reader_t *self)
{
    return self->bytes;
}

bool csv_record_reader_failed(const csv_record_reader_t *self)
{
    return ferror(self->file) != 0;
}

const char *csv_record_reader_name(const csv_record_reader_t *self)
{
    return self->name;
}

/* Physical lines */

/* Moves the unread bytes to the front of the buffer and reads more after
 * them. Sets at_end when the file has no more. */
static void s_fill(csv_record_reader_t *self)
{
    size_t left = self->buffer_end - self->buffer_start;
    memmove(self->buffer, self->buffer + self->buffer_start, left);
    self->buffer_start = 0;
    self->buffer_end = left;
    size_t got =
        fread(self->buffer + left, 1, S_BUFFER_SIZE - left, self->file);
    self->buffer_end += got;
    if (got == 0)
        self->at_end = true;
}

/* What s_read_line found. */
typedef enum { S_LINE, S_NO_LINE, S_LONG_LINE } s_line_t;

/* Finds the next physical line; *line and *length (without its '\n') stay
 * valid until the next call. A line longer than the buffer is consumed
 * to its end and returned as S_LONG_LINE with its first bytes. */
static s_line_t s_read_line(csv_record_reader_t *self, const char **line,
                            size_t *length)
{
    char *newline = NULL;
    for (;;) {
        size_t left = self->buffer_end - self->buffer_start;
        newline = memchr(self->buffer + self->buffer_start, '\n', left);
        if (newline || self->at_end || left == S_BUFFER_SIZE)
            break;
        s_fill(self);
    }
    size_t left = self->buffer_end - self->buffer_start;
    if (left == 0)
        return S_NO_LINE;
    *line = self->buffer + self->buffer_start;
    self->next_line++;
    if (newline) {
        *length = (size_t)(newline - *line);
        self->buffer_start += *length + 1;
        self->bytes += *length + 1;
        return S_LINE;
    }
    *length = left;
    self->buffer_start = self->buffer_end;
    self->bytes += left;
    if (self->at_end)
        return S_LINE; /* the last line, without a line break */
    return S_LONG_LINE;
}

/* Skips the rest of a line that was longer than the buffer. The bytes are
 * dropped, so raw keeps only the first S_BUFFER_SIZE. */
static void s_skip_long_line(csv_record_reader_t *self)
{
    for (;;) {
        s_fill(self);
        size_t left = self->buffer_end - self->buffer_start;
        char *newline = memchr(self->buffer, '\n', left);
        if (newline) {
            size_t skipped = (size_t)(newline - self->buffer) + 1;
            self->buffer_start = skipped;
            self->bytes += skipped;
            return;
        }
        self->bytes += left;
        self->buffer_start = self->buffer_end;
        if (self->at_end)
            return;
    }
}

static int s_append_raw(csv_record_reader_t *self, const char *data,
                        size_t size)
{
    size_t needed = self->raw_size + size + 1;
    if (needed > self->raw_capacity) {
        size_t capacity = self->raw_capacity;
        while (capacity < needed)
            capacity *= 2;
        char *grown = realloc(self->raw, capacity);
        if (!grown)
            return -1;
        self->raw = grown;
        self->raw_capacity = capacity;
    }
    memcpy(self->raw + self->raw_size, data, size);
    self->raw_size += size;
    self->raw[self->raw_size] = '\0';
    return 0;
}

/* Fields */

/* How parsing a field, or the record's lines so far, ended. S_NEXT_FIELD
 * follows a comma; S_OPEN_QUOTE means a quoted field goes on past the last
 * line read. */
typedef enum { S_DONE, S_NEXT_FIELD, S_OPEN_QUOTE, S_ERROR } s_parse_t;

static int s_append_field(csv_record_reader_t *self, char c, char *error,
                          size_t error_size)
{
    if (self->field_size >= CSV_MAX_FIELD) {
        snprintf(error, error_size, "field %zu is longer than %d bytes",
                 self->field_count + 1, CSV_MAX_FIELD);
        return -1;
    }
    self->fields[self->used++] = c;
    self->field_size++;
    return 0;
}

static void s_end_field(csv_record_reader_t *self)
{
    self->fields[self->used++] = '\0';
    self->offsets[self->field_count++] = self->used - self->field_size - 1;
    self->field_size = 0;
}

/* Checks what follows a field at raw[*pos]: the end of the record, a
 * carriage return that ends it, or a comma, which is skipped. */
static s_parse_t s_separator(csv_record_reader_t *self, size_t *pos,
                             char *error, size_t error_size)
{
    const char *raw = self->raw;
    if (*pos == self->raw_size)
        return S_DONE;
    if (raw[*pos] == ',') {
        (*pos)++;
        return S_NEXT_FIELD;
    }
    if (raw[*pos] == '\r' && *pos + 1 == self->raw_size) {
        self->raw[--self->raw_size] = '\0'; /* CRLF line end */
        return S_DONE;
    }
    if (raw[*pos] == '\r')
        snprintf(error, error_size, "carriage return without line feed");
    else
        snprintf(error, error_size,
                 "unexpected character '%c' after a closing quote: quote "
                 "the whole field",
                 raw[*pos]);
    return S_ERROR;
}

/* Parses a quoted field whose opening quote is before raw[*pos]. */
static s_parse_t s_parse_quoted(csv_record_reader_t *self, size_t *pos,
                                char *error, size_t error_size)
{
    const char *raw = self->raw;
    for (;;) {
        if (*pos == self->raw_size)
            return S_OPEN_QUOTE;
        char c = raw[(*pos)++];
        if (c == '"' && *pos < self->raw_size && raw[*pos] == '"')
            (*pos)++;
        else if (c == '"')
            return S_DONE;
        if (s_append_field(self, c, error, error_size) != 0)
            return S_ERROR;
    }
}

/* Parses an unquoted field that starts at raw[*pos], up to its comma,
 * carriage return or the end of the record. */
static s_parse_t s_parse_plain(csv_record_reader_t *self, size_t *pos,
                               char *error, size_t error_size)
{
    const char *raw = self->raw;
    for (; *pos < self->raw_size; (*pos)++) {
        char c = raw[*pos];
        if (c == ',' || c == '\r')
            break;
        if (c == '"') {
            snprintf(error, error_size,
                     "quote inside unquoted field %zu: quote the whole "
                     "field and double the quotes in it",
                     self->field_count + 1);
            return S_ERROR;
        }
        if (s_append_field(self, c, error, error_size) != 0)
            return S_ERROR;
    }
    return S_DONE;
}

/* Parses the record's lines read so far into fields. */
static s_parse_t s_parse(csv_record_reader_t *self, char *error,
                         size_t error_size)
{
    self->field_count = 0;
    self->field_size = 0;
    self->used = 0;
    size_t pos = 0;
    for (;;) {
        if (self->field_count >= CSV_MAX_FIELDS) {
            snprintf(error, error_size, "more than %d fields", CSV_MAX_FIELDS);
            return S_ERROR;
        }
        s_parse_t field;
        if (pos < self->raw_size && self->raw[pos] == '"') {
            pos++;
            field = s_parse_quoted(self, &pos, error, error_size);
        } else
            field = s_parse_plain(self, &pos, error, error_size);
        if (field != S_DONE)
            return field;
        s_end_field(self);
        s_parse_t next = s_separator(self, &pos, error, error_size);
        if (next != S_NEXT_FIELD)
            return next;
    }
}

/* Records */

static int s_check_read_error(csv_record_reader_t *self, char *error,
                              size_t error_size)
{
    if (!ferror(self->file) || self->read_failed)
        return 0;
    self->read_failed = true;
    snprintf(error, error_size, "read failed: %s", strerror(errno));
    return -1;
}

/* Skips a UTF-8 byte order mark at the very start of the file. */
static void s_skip_bom(csv_record_reader_t *self)
{
    self->started = true;
    s_fill(self);
    if (self->buffer_end >= 3 && memcmp(self->buffer, "\xEF\xBB\xBF", 3) == 0) {
        self->buffer_start = 3;
        self->bytes = 3;
    }
}

/* Reads the first line of a record into raw, skipping empty lines. Returns
 * 1, 0 at the end of the file, or -1 with error. */
static int s_first_line(csv_record_reader_t *self, char *error,
                        size_t error_size)
{
    const char *line;
    size_t length;
    for (;;) {
        s_line_t found = s_read_line(self, &line, &length);
        if (found == S_NO_LINE)
            return s_check_read_error(self, error, error_size);
        bool empty = length == 0 || (length == 1 && line[0] == '\r');
        if (empty && found == S_LINE)
            continue;
        self->record_line = self->next_line - 1;
        if (s_append_raw(self, line, length) != 0) {
            snprintf(error, error_size, "out of memory for a record");
            return -1;
        }
        if (found == S_LINE)
            return 1;
        s_skip_long_line(self);
        snprintf(error, error_size, "line is longer than %d bytes",
                 S_BUFFER_SIZE);
        return -1;
    }
}

/* Appends the next physical line to a record whose quoted field is still
 * open. Returns 0, or -1 with error. */
static int s_next_line(csv_record_reader_t *self, size_t open_field,
                       char *error, size_t error_size)
{
    const char *line;
    size_t length;
    s_line_t found = s_read_line(self, &line, &length);
    if (found == S_NO_LINE) {
        if (s_check_read_error(self, error, error_size) == 0)
            snprintf(error, error_size,
                     "quoted field %zu is not closed before the end of the "
                     "file",
                     open_field);
        return -1;
    }
    if (s_append_raw(self, "\n", 1) != 0 ||
        s_append_raw(self, line, length) != 0) {
        snprintf(error, error_size, "out of memory for a record");
        return -1;
    }
    if (found == S_LINE)
        return 0;
    s_skip_long_line(self);
    snprintf(error, error_size, "line is longer than %d bytes", S_BUFFER_SIZE);
    return -1;
}

int csv_record_reader_next(csv_record_reader_t *self, char *error,
                           size_t error_size)
{
    self->field_count = 0;
    self->raw_size = 0;
    self->raw[0] = '\0';
    if (!self->started)
        s_skip_bom(self);
    int rc = s_first_line(self, error, error_size);
    if (rc <= 0)
        return rc;
    for (;;) {
        s_parse_t parsed = s_parse(self, error, error_size);
        if (parsed == S_DONE)
            return 1;
        if (parsed == S_ERROR ||
            s_next_line(self, self->field_count + 1, error, error_size) != 0)
            break;
    }
    self->field_count = 0;
    return -1;
}
