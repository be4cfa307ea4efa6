/* The import's CSV record reader: the same fields, quoting, line numbers
 * and recovery as the load reader, plus each record's raw text and the
 * bytes read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory_csv.h"
#include "directory_csv_record.h"
#include "tap.h"

/* Opens text (size bytes) as a reader named "test.csv"; *file must be
 * closed after the reader is destroyed. */
static csv_record_reader_t *s_reader_of(const char *text, size_t size,
                                        FILE **file)
{
    *file = fmemopen((void *)text, size, "r");
    if (!*file)
        bail_out("fmemopen failed");
    csv_record_reader_t *reader = csv_record_reader_new(*file, "test.csv");
    if (!reader)
        bail_out("csv_record_reader_new failed");
    return reader;
}

static csv_record_reader_t *s_reader(const char *text, FILE **file)
{
    return s_reader_of(text, strlen(text), file);
}

static void s_close(csv_record_reader_t **reader, FILE *file)
{
    csv_record_reader_destroy(reader);
    fclose(file);
}

static int s_next(csv_record_reader_t *reader, char *error, size_t size)
{
    error[0] = '\0';
    return csv_record_reader_next(reader, error, size);
}

static void test_plain_records(void)
{
    FILE *file;
    char error[256];
    const char *text = "a,b,c\n1,,3\nx,y,\n";
    csv_record_reader_t *reader = s_reader(text, &file);

    is_int(s_next(reader, error, sizeof error), 1, "first record");
    is_int(csv_record_reader_field_count(reader), 3, "has 3 fields");
    is_str(csv_record_reader_field(reader, 0), "a", "field 0");
    is_str(csv_record_reader_field(reader, 2), "c", "field 2");
    is_str(csv_record_reader_raw(reader), "a,b,c", "raw text without \\n");
    is_int(csv_record_reader_line(reader), 1, "on line 1");
    is_int(csv_record_reader_bytes(reader), 6, "6 bytes read");

    is_int(s_next(reader, error, sizeof error), 1, "second record");
    is_str(csv_record_reader_field(reader, 1), "", "empty middle field");
    is_int(csv_record_reader_line(reader), 2, "on line 2");

    is_int(s_next(reader, error, sizeof error), 1, "third record");
    is_int(csv_record_reader_field_count(reader), 3,
           "trailing comma ends a field");
    is_str(csv_record_reader_field(reader, 2), "", "empty last field");

    is_int(s_next(reader, error, sizeof error), 0, "end of file");
    is_int(s_next(reader, error, sizeof error), 0, "end of file again");
    is_int(csv_record_reader_bytes(reader), strlen(text), "every byte read");
    ok(!csv_record_reader_failed(reader), "no read failure");
    is_str(csv_record_reader_name(reader), "test.csv", "name kept");
    s_close(&reader, file);
}

static void test_quoted_fields(void)
{
    FILE *file;
    char error[256];
    csv_record_reader_t *reader = s_reader(
        "\"Bravo, Ltd\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,\"\"\n", &file);

    is_int(s_next(reader, error, sizeof error), 1, "quoted record");
    is_int(csv_record_reader_field_count(reader), 3, "has 3 fields");
    is_str(csv_record_reader_field(reader, 0), "Bravo, Ltd",
           "comma inside quotes");
    is_str(csv_record_reader_field(reader, 1), "say \"hi\"", "doubled quotes");
    is_str(csv_record_reader_field(reader, 2), "two\nlines",
           "line break in quotes");
    is_str(csv_record_reader_raw(reader),
           "\"Bravo, Ltd\",\"say \"\"hi\"\"\",\"two\nlines\"",
           "raw text spans both lines, quotes as written");
    is_int(csv_record_reader_line(reader), 1, "record starts on line 1");

    is_int(s_next(reader, error, sizeof error), 1, "next record");
    is_int(csv_record_reader_line(reader), 3,
           "line count includes the quoted break");
    is_str(csv_record_reader_field(reader, 1), "", "empty quoted field");
    s_close(&reader, file);
}

static void test_line_endings(void)
{
    FILE *file;
    char error[256];
    csv_record_reader_t *reader =
        s_reader("a,b\r\n\r\n\n c ,d\r\n\"q\"\r\nlast,row", &file);

    is_int(s_next(reader, error, sizeof error), 1, "CRLF record");
    is_str(csv_record_reader_field(reader, 1), "b", "CR is not in the field");
    is_str(csv_record_reader_raw(reader), "a,b", "nor in the raw text");
    is_int(s_next(reader, error, sizeof error), 1, "record after empty lines");
    is_int(csv_record_reader_line(reader), 4, "empty lines are counted");
    is_str(csv_record_reader_field(reader, 0), " c ", "spaces are kept");
    is_int(s_next(reader, error, sizeof error), 1, "quoted field and CRLF");
    is_str(csv_record_reader_field(reader, 0), "q", "quoted field read");
    is_int(s_next(reader, error, sizeof error), 1,
           "last line without a line break");
    is_str(csv_record_reader_field(reader, 1), "row", "last field read");
    is_int(csv_record_reader_line(reader), 6, "last record on line 6");
    is_int(s_next(reader, error, sizeof error), 0, "then the end");
    s_close(&reader, file);
}

static void test_byte_order_mark(void)
{
    FILE *file;
    char error[256];
    csv_record_reader_t *reader = s_reader("\xEF\xBB\xBFmpid,name\n", &file);
    is_int(s_next(reader, error, sizeof error), 1, "record read");
    is_str(csv_record_reader_field(reader, 0), "mpid",
           "byte order mark skipped");
    is_str(csv_record_reader_raw(reader), "mpid,name",
           "and not in the raw text");
    is_int(csv_record_reader_bytes(reader), 13, "but counted as read");
    s_close(&reader, file);

    reader = s_reader("\xEF\xBBx,y\n", &file);
    is_int(s_next(reader, error, sizeof error), 1, "partial mark read");
    is_str(csv_record_reader_field(reader, 0), "\xEF\xBBx",
           "bytes that are not a whole mark are kept");
    s_close(&reader, file);
}

static void test_malformed_records(void)
{
    FILE *file;
    char error[256];
    csv_record_reader_t *reader = s_reader(
        "ok,1\nbad\"quote,2\n\"closed\"x,3\nlone\rcr,4\nfine,5\n", &file);

    is_int(s_next(reader, error, sizeof error), 1, "good record");
    is_int(s_next(reader, error, sizeof error), -1,
           "quote inside unquoted field");
    ok(strstr(error, "quote inside unquoted field 1") != NULL,
       "error names the field: %s", error);
    is_int(csv_record_reader_line(reader), 2, "error on line 2");
    is_str(csv_record_reader_raw(reader), "bad\"quote,2",
           "raw text of the malformed record");
    is_int(csv_record_reader_field_count(reader), 0, "no fields");

    is_int(s_next(reader, error, sizeof error), -1, "text after closing quote");
    ok(strstr(error, "'x' after a closing quote") != NULL,
       "error names the character: %s", error);
    is_int(csv_record_reader_line(reader), 3, "error on line 3");

    is_int(s_next(reader, error, sizeof error), -1, "lone CR");
    ok(strstr(error, "carriage return") != NULL, "error says CR: %s", error);
    is_int(csv_record_reader_line(reader), 4, "error on line 4");

    is_int(s_next(reader, error, sizeof error), 1,
           "reading goes on after errors");
    is_str(csv_record_reader_field(reader, 0), "fine", "next good record");
    is_int(csv_record_reader_line(reader), 5, "on line 5");
    ok(!csv_record_reader_failed(reader),
       "malformed records are no read failure");
    s_close(&reader, file);
}

static void test_truncated_quote(void)
{
    FILE *file;
    char error[256];
    csv_record_reader_t *reader = s_reader("a,b\n\"cut off,\nmid\n", &file);
    is_int(s_next(reader, error, sizeof error), 1, "first record");
    is_int(s_next(reader, error, sizeof error), -1, "unterminated quote");
    ok(strstr(error, "quoted field 1 is not closed before the end of the "
                     "file") != NULL,
       "error says the quote is open: %s", error);
    is_int(csv_record_reader_line(reader), 2, "reported at the line it opened");
    is_str(csv_record_reader_raw(reader), "\"cut off,\nmid",
           "raw text holds the rest of the file");
    is_int(s_next(reader, error, sizeof error), 0, "then the end");
    s_close(&reader, file);
}

static void test_limits(void)
{
    static char text[CSV_MAX_FIELD + 64];
    memset(text, 'x', CSV_MAX_FIELD + 1);
    strcpy(text + CSV_MAX_FIELD + 1, ",y\nafter,1\n");
    FILE *file;
    char error[256];
    csv_record_reader_t *reader = s_reader(text, &file);
    is_int(s_next(reader, error, sizeof error), -1, "field over the limit");
    ok(strstr(error, "longer than 4096 bytes") != NULL,
       "error gives the limit: %s", error);
    is_int(s_next(reader, error, sizeof error), 1, "record after it");
    is_str(csv_record_reader_field(reader, 0), "after", "reading resumed");
    s_close(&reader, file);

    static char many[CSV_MAX_FIELDS * 2 + 16];
    size_t used = 0;
    for (int i = 0; i <= CSV_MAX_FIELDS; i++)
        used += (size_t)sprintf(many + used, i ? ",x" : "x");
    strcpy(many + used, "\nok\n");
    reader = s_reader(many, &file);
    is_int(s_next(reader, error, sizeof error), -1, "too many fields");
    ok(strstr(error, "more than 64 fields") != NULL, "error gives the limit");
    is_int(s_next(reader, error, sizeof error), 1,
           "record after too many fields");
    s_close(&reader, file);
}

static void test_long_line(void)
{
    size_t long_size = 3 * 1024 * 1024 / 2;
    const char *tail = "\nok,1\n";
    char *text = malloc(long_size + strlen(tail) + 1);
    if (!text)
        bail_out("out of memory");
    memset(text, 'x', long_size);
    strcpy(text + long_size, tail);
    FILE *file;
    char error[256];
    csv_record_reader_t *reader =
        s_reader_of(text, long_size + strlen(tail), &file);
    is_int(s_next(reader, error, sizeof error), -1, "line over 1 MiB");
    ok(strstr(error, "line is longer than 1048576 bytes") != NULL,
       "error gives the limit: %s", error);
    is_int(s_next(reader, error, sizeof error), 1, "next line read");
    is_str(csv_record_reader_raw(reader), "ok,1", "whole next line");
    is_int(csv_record_reader_line(reader), 2, "on line 2");
    is_int(csv_record_reader_bytes(reader), long_size + strlen(tail),
           "bytes of the long line counted");
    s_close(&reader, file);
    free(text);
}

static void test_open_missing_file(void)
{
    char error[256] = "";
    csv_record_reader_t *reader =
        csv_record_reader_open("/nonexistent/sdx.csv", error, sizeof error);
    ok(reader == NULL, "missing file is not opened");
    ok(strstr(error, "/nonexistent/sdx.csv") != NULL,
       "error names the path: %s", error);
}

int main(void)
{
    test_plain_records();
    test_quoted_fields();
    test_line_endings();
    test_byte_order_mark();
    test_malformed_records();
    test_truncated_quote();
    test_limits();
    test_long_line();
    test_open_missing_file();
    return tap_done();
}
