/* Token buckets per supplier. */
#include "directory_rate.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>

/* One query, in the bucket's unit. */
#define S_QUERY 1000

typedef struct {
    int64_t tokens;    /* thousandths of a query */
    int64_t filled_ms; /* when tokens was last brought up to date */
} s_bucket_t;

struct directory_rate {
    int64_t per_ms;    /* thousandths of a query added per ms: the rate */
    int64_t capacity;  /* the burst, in thousandths */
    zhashx_t *buckets; /* MPID -> s_bucket_t */
};

static void s_bucket_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

directory_rate_t *directory_rate_new(uint32_t per_second, uint32_t burst)
{
    assert(per_second >= 1);
    assert(per_second <= DIRECTORY_RATE_MAX);
    assert(burst >= 1);
    assert(burst <= DIRECTORY_RATE_MAX);
    directory_rate_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    /* per_second queries a second is per_second thousandths a ms. */
    self->per_ms = per_second;
    self->capacity = (int64_t)burst * S_QUERY;
    self->buckets = zhashx_new();
    if (!self->buckets) {
        free(self);
        return NULL;
    }
    zhashx_set_destructor(self->buckets, s_bucket_destroy);
    return self;
}

void directory_rate_destroy(directory_rate_t **self_p)
{
    assert(self_p);
    directory_rate_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->buckets);
    free(self);
    *self_p = NULL;
}

static s_bucket_t *s_bucket(directory_rate_t *self, const char *supplier,
                            int64_t now_ms)
{
    s_bucket_t *bucket = zhashx_lookup(self->buckets, supplier);
    if (bucket)
        return bucket;
    bucket = calloc(1, sizeof *bucket);
    if (!bucket)
        return NULL;
    bucket->tokens = self->capacity;
    bucket->filled_ms = now_ms;
    zhashx_insert(self->buckets, supplier, bucket);
    return bucket;
}

int64_t directory_rate_take(directory_rate_t *self, const char *supplier,
                            int64_t now_ms)
{
    s_bucket_t *bucket = s_bucket(self, supplier, now_ms);
    if (!bucket)
        return 0; /* out of memory: let the query through */
    int64_t elapsed = now_ms - bucket->filled_ms;
    if (elapsed > 0) {
        /* A full bucket takes capacity / per_ms ms to fill, so capping
         * elapsed there keeps the product in range. */
        int64_t fill_ms = self->capacity / self->per_ms + 1;
        if (elapsed > fill_ms)
            elapsed = fill_ms;
        bucket->tokens += elapsed * self->per_ms;
        if (bucket->tokens > self->capacity)
            bucket->tokens = self->capacity;
        bucket->filled_ms = now_ms;
    }
    if (bucket->tokens >= S_QUERY) {
        bucket->tokens -= S_QUERY;
        return 0;
    }
    int64_t missing = S_QUERY - bucket->tokens;
    return (missing + self->per_ms - 1) / self->per_ms;
}
