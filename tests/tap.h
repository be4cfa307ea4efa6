/* A small TAP (Test Anything Protocol, version 13) emitter for C tests.
 *
 * Header-only so each test program is one .c file. Checks print "ok N - name"
 * or "not ok N - name" plus a diagnostic naming the values compared; the
 * plan is printed at the end by tap_done(), which returns the exit status.
 */
#ifndef SDX_TAP_H
#define SDX_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count_ = 0;
static int tap_failed_ = 0;
static const char *tap_todo_ = NULL;

static inline int tap_result_(int pass, const char *file, int line,
                              const char *fmt, ...)
{
    va_list ap;
    tap_count_++;
    printf("%sok %d - ", pass ? "" : "not ", tap_count_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (tap_todo_)
        printf(" # TODO %s", tap_todo_);
    printf("\n");
    if (!pass) {
        if (!tap_todo_)
            tap_failed_++;
        printf("#   failed at %s line %d\n", file, line);
    }
    fflush(stdout);
    return pass;
}

/* ok(condition, "name", ...): passes when condition is non-zero. */
#define ok(cond, ...) tap_result_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* is_int(got, expected, "name", ...): compares two integers. */
#define is_int(got, expected, ...)                                             \
    do {                                                                       \
        long long tap_g_ = (long long)(got);                                   \
        long long tap_e_ = (long long)(expected);                              \
        if (!tap_result_(tap_g_ == tap_e_, __FILE__, __LINE__, __VA_ARGS__))   \
            printf("#          got: %lld\n#     expected: %lld\n", tap_g_,     \
                   tap_e_);                                                    \
    } while (0)

/* is_str(got, expected, "name", ...): compares two strings; NULL allowed. */
#define is_str(got, expected, ...)                                             \
    do {                                                                       \
        const char *tap_g_ = (got);                                            \
        const char *tap_e_ = (expected);                                       \
        int tap_p_ = (tap_g_ && tap_e_) ? strcmp(tap_g_, tap_e_) == 0          \
                                        : tap_g_ == tap_e_;                    \
        if (!tap_result_(tap_p_, __FILE__, __LINE__, __VA_ARGS__))             \
            printf("#          got: '%s'\n#     expected: '%s'\n",             \
                   tap_g_ ? tap_g_ : "(null)", tap_e_ ? tap_e_ : "(null)");    \
    } while (0)

/* is_mem(got, expected, size, "name", ...): compares two byte ranges. */
#define is_mem(got, expected, size, ...)                                       \
    do {                                                                       \
        size_t tap_n_ = (size);                                                \
        if (!tap_result_(memcmp((got), (expected), tap_n_) == 0, __FILE__,     \
                         __LINE__, __VA_ARGS__))                               \
            printf("#     %zu bytes differ\n", tap_n_);                        \
    } while (0)

/* Marks the checks that follow as known failures until tap_todo_end(). */
#define tap_todo(reason) (tap_todo_ = (reason))
#define tap_todo_end()   (tap_todo_ = NULL)

/* Prints a diagnostic line. */
static inline void diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Stops the test at once, for a failed set-up that makes later checks
 * meaningless. */
#define bail_out(...)                                                          \
    do {                                                                       \
        printf("Bail out! ");                                                  \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
        exit(255);                                                             \
    } while (0)

/* Prints the plan; returns the process exit status. */
static inline int tap_done(void)
{
    printf("1..%d\n", tap_count_);
    return tap_failed_ ? 1 : 0;
}

#endif
