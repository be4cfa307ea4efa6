/* Logging over czmq's zsys layer, with a rate limit for peer warnings. */
#include "log.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static bool s_verbose = false;

void log_init(const char *ident, bool verbose)
{
    s_verbose = verbose;
    zsys_set_logident(ident);
    /* zsys logs to stdout by default; daemons keep stdout for the
     * readiness line, so log lines go to stderr. */
    zsys_set_logstream(stderr);
}

#define LOG_LINE_MAX 1024

static void s_vlog(void (*sink)(const char *, ...), const char *format,
                   va_list args)
{
    char line[LOG_LINE_MAX];
    vsnprintf(line, sizeof line, format, args);
    sink("%s", line);
}

void log_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    s_vlog(zsys_error, format, args);
    va_end(args);
}

void log_warning(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    s_vlog(zsys_warning, format, args);
    va_end(args);
}

void log_info(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    s_vlog(zsys_info, format, args);
    va_end(args);
}

void log_debug(const char *format, ...)
{
    if (!s_verbose)
        return;
    va_list args;
    va_start(args, format);
    s_vlog(zsys_debug, format, args);
    va_end(args);
}

/* Rate-limit state; only the calling thread's own lines are counted, which
 * is enough because each socket loop runs in one thread. */
static _Thread_local time_t s_window = 0;
static _Thread_local unsigned s_in_window = 0;
static _Thread_local unsigned long s_suppressed = 0;

void log_peer_warning(const char *format, ...)
{
    time_t now = time(NULL);
    if (now != s_window) {
        s_window = now;
        s_in_window = 0;
    }
    if (++s_in_window > LOG_PEER_BURST) {
        s_suppressed++;
        return;
    }
    char line[LOG_LINE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (s_suppressed) {
        zsys_warning("%s (and %lu similar warnings suppressed)", line,
                     s_suppressed);
        s_suppressed = 0;
    } else
        zsys_warning("%s", line);
}
