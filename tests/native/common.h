/* common.h: helpers for the native test and benchmark programs (not part of the library). */
#ifndef GLIMPSE_TEST_COMMON_H
#define GLIMPSE_TEST_COMMON_H
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* xorshift32-based uniform floats, deterministic. */
typedef struct { uint32_t s; } test_rng;
static inline float rng_uniform(test_rng *r, float lo, float hi) {
    uint32_t x = r->s ? r->s : 2463534242u;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    r->s = x;
    return lo + (hi - lo) * (float)((x >> 8) * (1.0 / 16777216.0));
}
static inline void fill_uniform(test_rng *r, float *a, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) a[i] = rng_uniform(r, lo, hi);
}

static int test_failures = 0;
#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (!(cond)) {                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                         \
            fprintf(stderr, "\n");                                \
            test_failures++;                                      \
        }                                                         \
    } while (0)

/* max |a-b| / (atol + rtol |b|) */
static inline double max_rel_err(const float *a, const float *b, size_t n, double atol, double rtol, size_t *at) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d != d) { if (at) *at = i; return INFINITY; }
        double r = d / (atol + rtol * fabs((double)b[i]));
        if (r > worst) { worst = r; if (at) *at = i; }
    }
    return worst;
}
#endif
