/* bench_ntm.c: native speed yardstick for NTM copy-task training (src/ntm_model.c), timed exactly
 * like tests/bench/ntm_train.js times the wasm builds, printed as JSON for tests/bench/bench.js.
 * Built by ./build.sh as build/native/bench_ntm (SSE4.1 branch of simd.h) and
 * build/native-scalar/bench_ntm (scalar branch).
 *
 * Usage: bench_ntm [--runs R] [--min-time S] [--warmup S] [--seed K] [--batch B]
 *                  [--min-length L] [--max-length L]
 * One timed call = one gl_ntm_train_copy step (forward, BPTT, clipping, Adam) for each length
 * L = min..max with `batch` random sequences of length L: batch * (max-min+1) sequences. The model
 * is the default one (8 bits, 128x20 memory, LSTM 100, one read and one write head, shift -1..1).
 * Timing protocol of tests/bench/common.js measure(): warm up, calibrate, median of R timed runs
 * of process CPU time (wall-clock seconds are printed too).
 */
#include "common.h"
#include "glimpse.h"
#include "model.h"
#include "ntm_model.h"

#include <string.h>


typedef struct {
    void *model;
    int batch, minL, maxL;
    float last_loss;
} bench_case;

static int run_unit(bench_case *b) {
    float out[4];
    for (int L = b->minL; L <= b->maxL; L++) {
        int rc = gl_ntm_train_copy(b->model, out, b->batch, L, L);
        if (rc) return rc;
        b->last_loss = out[0];
    }
    return 0;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int measure(bench_case *b, double warmup, double min_time, int runs, double *per, double *wall,
                   long *iters_out) {
    double t0 = cpu_seconds();
    for (int calls = 0; calls < 3 || cpu_seconds() - t0 < warmup; calls++)
        if (run_unit(b)) return 1;
    long k = 1;
    double t;
    for (;;) {
        t0 = cpu_seconds();
        for (long i = 0; i < k; i++) run_unit(b);
        t = cpu_seconds() - t0;
        if (t >= min_time / 4 || k >= (1L << 30)) break;
        k *= 2;
    }
    long iters = (long)ceil(k * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    t0 = cpu_seconds(); /* one untimed run of the estimated length, then re-estimate */
    for (long i = 0; i < iters; i++) run_unit(b);
    t = cpu_seconds() - t0;
    iters = (long)ceil(iters * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    for (int r = 0; r < runs; r++) {
        double w0 = now_seconds();
        t0 = cpu_seconds();
        for (long i = 0; i < iters; i++) run_unit(b);
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
    int runs = 7, batch = 16, minL = 1, maxL = 20;
    double min_time = 0.1, warmup = 0.25;
    unsigned seed = 1;
    (void)test_failures;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_ntm: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--min-time")) min_time = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--seed")) seed = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--min-length")) minL = atoi(v);
        else if (!strcmp(a, "--max-length")) maxL = atoi(v);
        else {
            fprintf(stderr, "bench_ntm: unknown option %s (expected --runs, --min-time, --warmup, --seed, --batch, "
                            "--min-length, --max-length)\n", a);
            return 2;
        }
        i++;
    }
    if (runs < 1 || runs > 64 || !(min_time > 0) || !(warmup >= 0) || batch < 1 || minL < 1 || maxL < minL) {
        fprintf(stderr, "bench_ntm: need 1 <= --runs <= 64, --min-time > 0, --warmup >= 0, --batch >= 1, "
                        "1 <= --min-length <= --max-length\n");
        return 2;
    }
    uint32_t cfg[9] = {8, 128, 20, 100, 0, 1, 1, 1, seed};
    bench_case b = {NULL, batch, minL, maxL, 0.0f};
    if (gl_model_create(&b.model, GL_KIND_NTM, cfg, 9)) {
        fprintf(stderr, "bench_ntm: gl_ntm_create: %s\n", gl_last_error());
        return 1;
    }
    double per[64], wall[64];
    long iters;
    if (measure(&b, warmup, min_time, runs, per, wall, &iters)) {
        fprintf(stderr, "bench_ntm: gl_ntm_train_copy: %s\n", gl_last_error());
        return 1;
    }
    printf("{\"engine\":\"native\",\"simd\":\"%s\",\"runs\":%d,\"minTime\":%g,\"warmup\":%g,\"sequencesPerCall\":%d,"
           "\"results\":[{\"pass\":\"train\",\"sec\":%.6e,\"iters\":%ld,\"lastLoss\":%g,\"runs\":[",
           gl_simd_name(), runs, min_time, warmup, batch * (maxL - minL + 1), median(per, runs), iters,
           (double)b.last_loss);
    for (int r = 0; r < runs; r++) printf("%s%.6e", r ? "," : "", per[r]);
    printf("],\"wallRuns\":[");
    for (int r = 0; r < runs; r++) printf("%s%.6e", r ? "," : "", wall[r]);
    printf("]}]}\n");
    gl_model_free(b.model);
    return 0;
}
