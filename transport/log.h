/* Logging for every sdx process: one line per event on stderr (and syslog
 * when asked), through czmq's zsys layer.
 *
 * Levels: error (we failed), warning (a peer or an input misbehaved and we
 * carried on), info (starts, stops, connections, changes), debug (per
 * message, only with verbose on). Messages start with what happened and
 * then give key=value ids. Never pass a secret to these functions.
 */
#ifndef SDX_LOG_H
#define SDX_LOG_H

#include <stdbool.h>

/* Sets the program name printed in each line, and whether debug lines
 * are printed. */
void log_init(const char *ident, bool verbose);

void log_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning about hostile or malformed peer input at most
 * LOG_PEER_BURST times per second; further lines in the same second are
 * counted, and the count is logged with the next line that gets through. */
#define LOG_PEER_BURST 20
void log_peer_warning(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

#endif
