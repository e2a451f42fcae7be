/* bench_layers.c: native speed of the shared layers (src/layers.c, src/gemm.c), timed with the
 * protocol of tests/bench/common.js (bench_common.h: warm up, calibrate, median of timed runs,
 * process CPU time) through the same entry points tests/bench/layers.js times in the test wasm
 * (tests/wasm/test_exports.c):
 *   - gl_sgemm GFLOP/s on the shapes the STN network produces (and a square reference);
 *   - one training step of the STN tutorial network's layers at batch 64 on 28x28 (no sampler),
 *     whole and stage by stage, as ms per step and images/s.
 * Usage: bench_layers [timing flags of bench_common.h] [--json] [--batch N]
 */
#include "bench_common.h"
#include "../wasm/test_exports.h"

static int run_gemm(void *ctx) {
    const int *a = ctx;
    return gl_bench_gemm(a[0], a[1], a[2], a[3], a[4], 1);
}
static int run_stn(void *ctx) {
    const int *a = ctx;
    return gl_bench_stn_layers(a[0], 1, a[1]);
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

static int option(void *ctx, const char *flag, const char *v) {
    if (strcmp(flag, "--json")) return 0;
    *(int *)ctx = 1;
    return 1;
}

int main(int argc, char **argv) {
    int json = 0, batch = 64;
    bench_int_flag ints[] = {{"--batch", &batch}, {NULL, NULL}};
    bench_options spec = {"bench_layers", ints, option, &json, "--json"};
    bench_opts o;
    if (bench_parse(argc, argv, &spec, &o)) return 2;
    if (batch < 1 || batch > 4096) {
        fprintf(stderr, "bench_layers: --batch must be in 1..4096\n");
        return 2;
    }
    enum { NG = sizeof gemms / sizeof gemms[0], NS = 12 };
    static bench_result g[NG], st[NS];
    double gsec[NG], ssec[NS];
    for (int i = 0; i < NG; i++) {
        int a[5] = {gemms[i].ta, gemms[i].tb, gemms[i].M, gemms[i].N, gemms[i].K};
        bench_time("bench_layers", run_gemm, a, &o, &g[i]);
        gsec[i] = g[i].sec;
    }
    for (int s = 0; s < NS; s++) {
        int a[2] = {batch, s};
        bench_time("bench_layers", run_stn, a, &o, &st[s]);
        ssec[s] = st[s].sec;
    }
    double fpi = stn_flops_per_image();
    if (json) {
        bench_json_begin(&o);
        printf("\"batch\":%d,\"flopsPerImage\":%.0f,\"gemm\":[", batch, fpi);
        for (int i = 0; i < NG; i++) {
            printf("%s{\"what\":\"%s\",\"transA\":%d,\"transB\":%d,\"M\":%d,\"N\":%d,\"K\":%d,", i ? "," : "",
                   gemms[i].what, gemms[i].ta, gemms[i].tb, gemms[i].M, gemms[i].N, gemms[i].K);
            bench_json_result(&g[i], &o);
            printf("}");
        }
        printf("],\"stages\":[");
        for (int s = 0; s < NS; s++) {
            printf("%s{\"stage\":%d,\"what\":\"%s\",", s ? "," : "", s, gl_bench_stn_stage_name(s));
            bench_json_result(&st[s], &o);
            printf("}");
        }
        printf("]}\n");
        return 0;
    }
    printf("native (%s), %s, median of %d runs\n\n", gl_simd_name(), bench_clock_name(&o), o.runs);
    printf("%-28s %-3s %5s %5s %5s %9s\n", "gemm", "op", "M", "N", "K", "GFLOP/s");
    for (int i = 0; i < NG; i++)
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
