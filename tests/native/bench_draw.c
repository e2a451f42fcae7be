/* bench_draw.c: native speed yardstick for DRAW training (src/draw_model.c): one training step
 * (forward through T glimpses, BPTT, clipping, Adam) = gl_draw_train_batch, timed exactly like
 * tests/bench/draw_train.js times the wasm builds and printed as JSON for tests/bench/bench.js.
 * Built by ./build.sh as build/native/bench_draw (SSE4.1 branch of simd.h) and
 * build/native-scalar/bench_draw (scalar branch).
 *
 * Usage: bench_draw [--runs R] [--min-time S] [--warmup S] [--seed K] [--batch B] [--T n]
 *          [--readN n] [--writeN n] [--hidden n] [--latent n] [--attention 0|1]
 * Data: B images of 28x28 with U(0, 1) pixels (thresholded at 0.5 by the model), the same batch
 * every step. Seconds are process CPU time (the machine is shared; see tests/bench/common.js).
 */
#include "common.h"
#include "glimpse.h"
#include "model.h"
#include "draw_model.h"

#include <string.h>


typedef struct {
    void *m;
    float *images;
    int B;
} bench_case;

static int step(bench_case *b) {
    float out[4];
    return gl_draw_train_batch(b->m, out, b->images, b->B);
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The protocol of tests/bench/common.js measure() (see bench_stn.c). */
static int measure(bench_case *b, double warmup, double min_time, int runs, double *per, double *wall,
                   long *iters_out) {
    double t0 = cpu_seconds();
    for (int calls = 0; calls < 3 || cpu_seconds() - t0 < warmup; calls++)
        if (step(b)) return 1;
    long k = 1;
    double t;
    for (;;) {
        t0 = cpu_seconds();
        for (long i = 0; i < k; i++) step(b);
        t = cpu_seconds() - t0;
        if (t >= min_time / 4 || k >= (1L << 30)) break;
        k *= 2;
    }
    long iters = (long)ceil(k * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    t0 = cpu_seconds();
    for (long i = 0; i < iters; i++) step(b);
    t = cpu_seconds() - t0;
    iters = (long)ceil(iters * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    for (int r = 0; r < runs; r++) {
        double w0 = now_seconds();
        t0 = cpu_seconds();
        for (long i = 0; i < iters; i++) step(b);
        per[r] = (cpu_seconds() - t0) / iters;
        wall[r] = (now_seconds() - w0) / iters;
    }
    *iters_out = iters;
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *xs, int n) {
    double s[64];
    memcpy(s, xs, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

int main(int argc, char **argv) {
    int runs = 7, B = 64, T = 16, Nr = 8, Nw = 10, Hd = 128, Z = 32, att = 1;
    double min_time = 0.1, warmup = 0.25;
    unsigned seed = 1;
    (void)test_failures; /* common.h's test counter; a benchmark does not use it */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_draw: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--min-time")) min_time = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--seed")) seed = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--T")) T = atoi(v);
        else if (!strcmp(a, "--readN")) Nr = atoi(v);
        else if (!strcmp(a, "--writeN")) Nw = atoi(v);
        else if (!strcmp(a, "--hidden")) Hd = atoi(v);
        else if (!strcmp(a, "--latent")) Z = atoi(v);
        else if (!strcmp(a, "--attention")) att = atoi(v);
        else {
            fprintf(stderr, "bench_draw: unknown option %s (expected --runs, --min-time, --warmup, --seed, --batch, --T, "
                            "--readN, --writeN, --hidden, --latent, --attention)\n", a);
            return 2;
        }
        i++;
    }
    if (runs < 1 || runs > 64 || !(min_time > 0) || !(warmup >= 0) || B < 1) {
        fprintf(stderr, "bench_draw: need 1 <= --runs <= 64, --min-time > 0, --warmup >= 0, --batch >= 1\n");
        return 2;
    }
    uint32_t cfg[9] = {(uint32_t)T, (uint32_t)Nr, (uint32_t)Nw, (uint32_t)Hd, (uint32_t)Z, (uint32_t)att, 28, 28, seed};
    bench_case b = {NULL, NULL, B};
    if (gl_model_create(&b.m, GL_KIND_DRAW, cfg, 9)) {
        fprintf(stderr, "bench_draw: %s\n", gl_last_error());
        return 1;
    }
    b.images = calloc((size_t)B * 784, sizeof(float));
    test_rng rng = {seed};
    fill_uniform(&rng, b.images, (size_t)B * 784, 0.0f, 1.0f);
    double per[64], wall[64];
    long iters;
    if (measure(&b, warmup, min_time, runs, per, wall, &iters)) {
        fprintf(stderr, "bench_draw: training step failed: %s\n", gl_last_error());
        return 1;
    }
    printf("{\"engine\":\"native\",\"simd\":\"%s\",\"runs\":%d,\"minTime\":%g,\"warmup\":%g,\"results\":[", gl_simd_name(),
           runs, min_time, warmup);
    printf("{\"batch\":%d,\"T\":%d,\"readN\":%d,\"writeN\":%d,\"hidden\":%d,\"latent\":%d,\"attention\":%d,"
           "\"sec\":%.6e,\"iters\":%ld,\"runs\":[", B, T, Nr, Nw, Hd, Z, att, median(per, runs), iters);
    for (int r = 0; r < runs; r++) printf("%s%.6e", r ? "," : "", per[r]);
    printf("],\"wallRuns\":[");
    for (int r = 0; r < runs; r++) printf("%s%.6e", r ? "," : "", wall[r]);
    printf("]}]}\n");
    gl_model_free(b.m);
    free(b.images);
    return 0;
}
