/* bench_stn_train.c: native speed yardstick for STN training (src/stn_model.c), timed exactly like
 * tests/bench/stn_train.js times the wasm builds, printed as JSON for tests/bench/bench.js. Built by
 * ./build.sh as build/native/bench_stn_train (SSE4.1 branch of simd.h) and
 * build/native-scalar/bench_stn_train (scalar branch).
 *
 * Usage: bench_stn_train [--runs R] [--min-time S] [--warmup S] [--batch B] [--size S]
 * One timed call = one gl_stn_train_batch (forward, backward, clipping, SGD-momentum step) on a
 * batch of B size x size images, cycling over 8 pre-generated batches of U(0,1) pixels and random
 * labels; the model is the default one (the PyTorch tutorial's architecture, dropout 0.5,
 * SGD lr 0.01 momentum 0.9, clip 10), with the transformer ("st") and without it ("cnn").
 * Seconds are process CPU time (see tests/bench/common.js); wall-clock medians are printed too.
 */
#include "common.h"
#include "glimpse.h"
#include "model.h"
#include "stn_model.h"

#include <string.h>


#define NB 8

typedef struct {
    void *model;
    float *images; /* (NB, B, S, S) */
    int32_t *labels; /* (NB, B) */
    int B, S, i;
} bench_case;

static int step(bench_case *b) {
    float out[4];
    size_t n = (size_t)b->B * b->S * b->S;
    int rc = gl_stn_train_batch(b->model, out, b->images + (size_t)b->i * n, b->labels + (size_t)b->i * b->B, b->B);
    b->i = (b->i + 1) % NB;
    return rc;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The protocol of tests/bench/common.js measure(). */
static int measure(bench_case *b, double warmup, double min_time, int runs, double *per, double *wall, long *iters_out) {
    double t0 = cpu_seconds();
    for (int calls = 0; calls < 3 || cpu_seconds() - t0 < warmup; calls++)
        if (step(b)) return 1;
    long k = 1;
    double t;
    for (;;) {
        t0 = cpu_seconds();
        for (long i = 0; i < k; i++)
            if (step(b)) return 1;
        t = cpu_seconds() - t0;
        if (t >= min_time / 4 || k >= (1L << 30)) break;
        k *= 2;
    }
    long iters = (long)ceil(k * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    for (int r = 0; r < runs; r++) {
        double w0 = now_seconds();
        t0 = cpu_seconds();
        for (long i = 0; i < iters; i++)
            if (step(b)) return 1;
        per[r] = (cpu_seconds() - t0) / iters;
        wall[r] = (now_seconds() - w0) / iters;
    }
    *iters_out = iters;
    return 0;
}

int main(int argc, char **argv) {
    int runs = 7, B = 64, S = 28;
    double min_time = 0.1, warmup = 0.25;
    (void)test_failures;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_stn_train: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--min-time")) min_time = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--size")) S = atoi(v);
        else {
            fprintf(stderr, "bench_stn_train: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (runs < 1 || runs > 64 || B < 1 || S < 28 || S > 256 || !(min_time > 0)) {
        fprintf(stderr, "bench_stn_train: bad arguments\n");
        return 2;
    }
    test_rng r = {12345};
    size_t n = (size_t)NB * B * S * S;
    float *images = malloc(n * sizeof(float));
    int32_t *labels = malloc((size_t)NB * B * sizeof(int32_t));
    if (!images || !labels) return 1;
    fill_uniform(&r, images, n, 0.0f, 1.0f);
    for (int i = 0; i < NB * B; i++) labels[i] = (int32_t)(rng_uniform(&r, 0.0f, 10.0f)) % 10;
    printf("{\"simd\": \"%s\", \"batch\": %d, \"size\": %d, \"results\": [", gl_simd_name(), B, S);
    const char *names[2] = {"st", "cnn"};
    for (int k = 0; k < 2; k++) {
        uint32_t cfg[5] = {(uint32_t)S, (uint32_t)S, 10, 1, k == 0 ? 1u : 0u};
        bench_case b = {NULL, images, labels, B, S, 0};
        if (gl_model_create(&b.model, GL_KIND_STN, cfg, 5)) {
            fprintf(stderr, "bench_stn_train: %s\n", gl_last_error());
            return 1;
        }
        double per[64], wall[64];
        long iters = 0;
        if (measure(&b, warmup, min_time, runs, per, wall, &iters)) {
            fprintf(stderr, "bench_stn_train: %s\n", gl_last_error());
            return 1;
        }
        gl_model_free(b.model);
        printf("%s{\"net\": \"%s\", \"iters\": %ld, \"runs\": [", k ? ", " : "", names[k], iters);
        for (int i = 0; i < runs; i++) printf("%s%.9g", i ? ", " : "", per[i]);
        printf("], \"wallRuns\": [");
        for (int i = 0; i < runs; i++) printf("%s%.9g", i ? ", " : "", wall[i]);
        printf("]}");
    }
    printf("]}\n");
    free(images);
    free(labels);
    return 0;
}
