/* bench_layers.c: native speed of the shared layers (src/layers.c, src/gemm.c), timed with the
 * protocol of tests/bench/common.js (warm up, calibrate, median of timed runs, process CPU time)
 * through the same entry points tests/bench/layers.js times in wasm (src/layers_bench.c):
 *   - gl_sgemm GFLOP/s on the shapes the STN network produces (and a square reference);
 *   - one training step of the STN tutorial network's layers at batch 64 on 28x28 (no sampler),
 *     whole and stage by stage, as ms per step and images/s.
 * Usage: bench_layers [--json] [--quick] [--batch N] [--runs R] [--min-time S] [--warmup S]
 */
#include "common.h"
#include "glimpse.h"
#include "../wasm/test_exports.h"

#include <string.h>


static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef int (*bench_fn)(const int *args);
static int run_gemm(const int *a) { return gl_bench_gemm(a[0], a[1], a[2], a[3], a[4], 1); }
static int run_stn(const int *a) { return gl_bench_stn_layers(a[0], 1, a[1]); }

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* median seconds per call (CPU time) */
static double measure(bench_fn fn, const int *args, double warmup, double min_time, int runs) {
    double t0 = cpu_seconds();
    for (int calls = 0; calls < 3 || cpu_seconds() - t0 < warmup; calls++)
        if (fn(args)) return NAN;
    long k = 1;
    double t;
    for (;;) {
        t0 = cpu_seconds();
        for (long i = 0; i < k; i++) fn(args);
        t = cpu_seconds() - t0;
        if (t >= min_time / 4 || k >= (1L << 30)) break;
        k *= 2;
    }
    long iters = (long)ceil(k * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    double per[64];
    if (runs > 64) runs = 64;
    for (int r = 0; r < runs; r++) {
        t0 = cpu_seconds();
        for (long i = 0; i < iters; i++) fn(args);
        per[r] = (cpu_seconds() - t0) / iters;
    }
    qsort(per, runs, sizeof per[0], cmp_double);
    return runs % 2 ? per[runs / 2] : 0.5 * (per[runs / 2 - 1] + per[runs / 2]);
}

/* The GEMMs one STN training step issues (per item, or per group of items where conv2d groups
 * them), and a square reference. Keep in step with GEMMS in tests/bench/layers.js (the JSON
 * output is matched by position). */
static const struct { int ta, tb, M, N, K; const char *what; } gemms[] = {
    {0, 0, 8, 484, 49, "loc conv1 fwd"},
    {0, 1, 8, 49, 484, "loc conv1 dW"},
    {0, 0, 10, 294, 200, "loc conv2 fwd (6 items)"},
    {0, 1, 10, 200, 294, "loc conv2 dW (6 items)"},
    {1, 0, 200, 294, 10, "loc conv2 dcol (6 items)"},
    {0, 0, 10, 576, 25, "cls conv1 fwd"},
    {0, 1, 10, 25, 576, "cls conv1 dW"},
    {1, 0, 25, 576, 10, "cls conv1 dcol"},
    {0, 0, 20, 256, 250, "cls conv2 fwd (4 items)"},
    {0, 1, 20, 250, 256, "cls conv2 dW (4 items)"},
    {1, 0, 250, 256, 20, "cls conv2 dcol (4 items)"},
    {0, 1, 64, 50, 320, "cls fc1 fwd"},
    {1, 0, 50, 320, 64, "cls fc1 dW"},
    {0, 0, 256, 256, 256, "square 256"},
};

/* multiply-add FLOPs of one STN-layers training step per image (2 per MAC; forward, dW and,
 * except for the localisation net's first conv, dX) */
static double stn_flops_per_image(void) {
    double conv[][4] = {{8, 49, 484, 2}, {10, 200, 49, 3}, {10, 25, 576, 3}, {20, 250, 64, 3}}; /* O, CKK, P, passes */
    double fc[][2] = {{90, 32}, {32, 6}, {320, 50}, {50, 10}};
    double f = 0;
    for (int i = 0; i < 4; i++) f += 2 * conv[i][0] * conv[i][1] * conv[i][2] * conv[i][3];
    for (int i = 0; i < 4; i++) f += 2 * fc[i][0] * fc[i][1] * 3;
    return f;
}

int main(int argc, char **argv) {
    (void)test_failures;
    int json = 0, quick = 0, batch = 64, runs = 0;
    double warmup = -1, min_time = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc) min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_layers [--json] [--quick] [--batch N] [--runs R] [--min-time S] [--warmup S]\n");
            return 2;
        }
    }
    if (quick) {
        if (warmup < 0) warmup = 0.15;
        if (min_time < 0) min_time = 0.02;
        if (runs < 1) runs = 3;
    }
    if (warmup < 0) warmup = 0.25;
    if (min_time < 0) min_time = 0.1;
    if (runs < 1) runs = 7;
    if (runs > 64) runs = 64;
    if (batch < 1 || batch > 4096) {
        fprintf(stderr, "bench_layers: --batch must be in 1..4096\n");
        return 2;
    }
    size_t ng = sizeof gemms / sizeof gemms[0];
    double gsec[32], ssec[16];
    for (size_t i = 0; i < ng; i++) {
        int a[5] = {gemms[i].ta, gemms[i].tb, gemms[i].M, gemms[i].N, gemms[i].K};
        gsec[i] = measure(run_gemm, a, warmup, min_time, runs);
    }
    for (int s = 0; s <= 11; s++) {
        int a[2] = {batch, s};
        ssec[s] = measure(run_stn, a, warmup, min_time, runs);
    }
    double fpi = stn_flops_per_image();
    if (json) {
        printf("{\"simd\":\"%s\",\"batch\":%d,\"flopsPerImage\":%.0f,\"gemm\":[", gl_simd_name(), batch, fpi);
        for (size_t i = 0; i < ng; i++)
            printf("%s{\"what\":\"%s\",\"transA\":%d,\"transB\":%d,\"M\":%d,\"N\":%d,\"K\":%d,\"sec\":%.6e}",
                   i ? "," : "", gemms[i].what, gemms[i].ta, gemms[i].tb, gemms[i].M, gemms[i].N, gemms[i].K, gsec[i]);
        printf("],\"stages\":[");
        for (int s = 0; s <= 11; s++)
            printf("%s{\"stage\":%d,\"what\":\"%s\",\"sec\":%.6e}", s ? "," : "", s, gl_bench_stn_stage_name(s), ssec[s]);
        printf("]}\n");
        return 0;
    }
    printf("native (%s), process CPU time, median of %d runs\n\n", gl_simd_name(), runs);
    printf("%-28s %-3s %5s %5s %5s %9s\n", "gemm", "op", "M", "N", "K", "GFLOP/s");
    for (size_t i = 0; i < ng; i++)
        printf("%-28s %c%c  %5d %5d %5d %9.2f\n", gemms[i].what, gemms[i].ta ? 'T' : 'N', gemms[i].tb ? 'T' : 'N',
               gemms[i].M, gemms[i].N, gemms[i].K, 2.0 * gemms[i].M * gemms[i].N * gemms[i].K / gsec[i] / 1e9);
    printf("\nSTN tutorial network layers (no sampler), batch %d, 28x28, one SGD step\n", batch);
    printf("%-36s %10s %8s\n", "stage", "ms/step", "share");
    double parts = 0;
    for (int s = 1; s <= 11; s++) parts += ssec[s];
    for (int s = 1; s <= 11; s++)
        printf("%-36s %10.3f %7.1f%%\n", gl_bench_stn_stage_name(s), ssec[s] * 1e3, 100 * ssec[s] / parts);
    printf("%-36s %10.3f  (sum of stages %.3f)\n", "whole step", ssec[0] * 1e3, parts * 1e3);
    printf("\nimages/s (layers only): %.0f;  %.2f MFLOP/image -> %.2f GFLOP/s effective\n", batch / ssec[0],
           fpi / 1e6, fpi * batch / ssec[0] / 1e9);
    return 0;
}
