/* Progress line on a terminal. */
#include "directory_progress.h"

#include <assert.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define S_REDRAW_NS (250 * 1000000LL)

struct directory_progress {
    FILE *stream;
    bool shown; /* the stream is a terminal */
    bool drawn; /* a line is on the screen now */
    int64_t start_ns;
    int64_t next_ns; /* earliest time of the next redraw */
    uint64_t total_bytes;
};

static int64_t s_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

directory_progress_t *directory_progress_new(FILE *stream)
{
    assert(stream);
    directory_progress_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->stream = stream;
    self->shown = isatty(fileno(stream)) == 1;
    self->start_ns = s_now_ns();
    return self;
}

void directory_progress_destroy(directory_progress_t **self_p)
{
    assert(self_p);
    directory_progress_t *self = *self_p;
    if (!self)
        return;
    directory_progress_clear(self);
    free(self);
    *self_p = NULL;
}

void directory_progress_set_total(directory_progress_t *self, uint64_t bytes)
{
    self->total_bytes = bytes;
}

bool directory_progress_shown(const directory_progress_t *self)
{
    return self->shown;
}

/* Writes the estimate of the time left, from the share of the bytes read
 * in the time so far, as "1h02m left", "3m05s left" or "12s left". */
static void s_print_left(directory_progress_t *self, uint64_t bytes,
                         int64_t elapsed_ns)
{
    if (self->total_bytes == 0 || bytes == 0 || bytes > self->total_bytes)
        return;
    /* An estimate: the rest of the input is assumed to go as fast as the
     * part read so far. */
    double seconds = (double)elapsed_ns / 1e9;
    uint64_t left_s = (uint64_t)(seconds * (double)(self->total_bytes - bytes) /
                                 (double)bytes);
    unsigned percent = (unsigned)(bytes * 100 / self->total_bytes);
    fprintf(self->stream, ", %u%%", percent);
    if (left_s >= 3600)
        fprintf(self->stream, ", %lluh%02llum left",
                (unsigned long long)(left_s / 3600),
                (unsigned long long)(left_s % 3600 / 60));
    else if (left_s >= 60)
        fprintf(self->stream, ", %llum%02llus left",
                (unsigned long long)(left_s / 60),
                (unsigned long long)(left_s % 60));
    else
        fprintf(self->stream, ", %llus left", (unsigned long long)left_s);
}

void directory_progress_update(directory_progress_t *self, uint64_t rows,
                               uint64_t bytes)
{
    if (!self || !self->shown)
        return;
    int64_t now = s_now_ns();
    if (now < self->next_ns)
        return;
    self->next_ns = now + S_REDRAW_NS;
    int64_t elapsed_ns = now - self->start_ns;
    double seconds = (double)elapsed_ns / 1e9;
    uint64_t per_second = seconds > 0 ? (uint64_t)((double)rows / seconds) : 0;
    /* \r returns to the start of the line and \033[K erases the rest of
     * the previous text. */
    fprintf(self->stream, "\r\033[Kimport: %llu rows, %llu rows/s",
            (unsigned long long)rows, (unsigned long long)per_second);
    s_print_left(self, bytes, elapsed_ns);
    fflush(self->stream);
    self->drawn = true;
}

void directory_progress_clear(directory_progress_t *self)
{
    if (!self || !self->drawn)
        return;
    fputs("\r\033[K", self->stream);
    fflush(self->stream);
    self->drawn = false;
    self->next_ns = 0;
}
