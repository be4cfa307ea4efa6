/* Timing and latency statistics shared by the benchmark programs.
 *
 * Every function is static inline, so each program in bench/ includes this
 * header and there is no benchmark library to build.
 */
#ifndef SDX_BENCH_H
#define SDX_BENCH_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Returns CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t bench_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* Latency samples in nanoseconds, one per completed request. */
typedef struct {
    int64_t *samples;
    size_t count;
    size_t capacity;
} bench_latency_t;

/* Allocates room for capacity samples. Returns 0, or -1 when out of
 * memory. */
static inline int bench_latency_init(bench_latency_t *latency, size_t capacity)
{
    latency->samples = calloc(capacity ? capacity : 1, sizeof(int64_t));
    latency->count = 0;
    latency->capacity = capacity;
    return latency->samples ? 0 : -1;
}

/* Records one sample; samples beyond the capacity are dropped. */
static inline void bench_latency_add(bench_latency_t *latency, int64_t ns)
{
    if (latency->count < latency->capacity)
        latency->samples[latency->count++] = ns;
}

static inline int bench_compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the samples; call once before bench_latency_percentile_us. */
static inline void bench_latency_sort(bench_latency_t *latency)
{
    qsort(latency->samples, latency->count, sizeof(int64_t), bench_compare_i64);
}

/* Returns the nearest-rank percentile of the sorted samples in whole
 * microseconds, or 0 when there are none. */
static inline int64_t
bench_latency_percentile_us(const bench_latency_t *latency, unsigned percent)
{
    if (latency->count == 0)
        return 0;
    size_t rank = (latency->count * percent + 99) / 100;
    if (rank == 0)
        rank = 1;
    return latency->samples[rank - 1] / 1000;
}

static inline void bench_latency_free(bench_latency_t *latency)
{
    free(latency->samples);
    latency->samples = NULL;
    latency->count = latency->capacity = 0;
}

/* Prints one result line "NAME rps=R p50_us=A p99_us=B requests=N
 * seconds=S", the format bench/run.sh reads. */
static inline void bench_print_result(const char *name,
                                      bench_latency_t *latency,
                                      int64_t elapsed_ns)
{
    bench_latency_sort(latency);
    double seconds = (double)elapsed_ns / 1e9;
    double rps = seconds > 0 ? (double)latency->count / seconds : 0;
    printf("%s rps=%.0f p50_us=%" PRId64 " p99_us=%" PRId64
           " requests=%zu seconds=%.3f\n",
           name, rps, bench_latency_percentile_us(latency, 50),
           bench_latency_percentile_us(latency, 99), latency->count, seconds);
    fflush(stdout);
}

/* Parses a positive decimal integer option value. Returns 0, or -1 after
 * printing an error naming the option. */
static inline int bench_parse_count(const char *option, const char *text,
                                    long *out)
{
    char *end = NULL;
    long value = text ? strtol(text, &end, 10) : 0;
    if (!text || *text == '\0' || *end != '\0' || value <= 0) {
        fprintf(stderr,
                "invalid value '%s' for %s: expected a positive "
                "whole number\n",
                text ? text : "", option);
        return -1;
    }
    *out = value;
    return 0;
}

#endif
