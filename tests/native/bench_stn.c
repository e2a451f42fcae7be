/* bench_stn.c: native speed yardstick for the STN bilinear sampler (src/stn.c), timed exactly
 * like tests/bench/stn_sampler.js times the wasm builds, and printed as JSON for
 * tests/bench/bench.js. Built by ./build.sh twice: build/native/bench_stn (SSE4.1 branch of
 * simd.h) and build/native-scalar/bench_stn (scalar branch).
 *
 * Usage: bench_stn [--runs R] [--min-time S] [--warmup S] [--seed K] [--shape N,C,H,W,Ho,Wo]...
 * Without --shape it runs the three issue shapes. Per shape and pass it prints the median
 * seconds per call over R timed runs, each of enough calls to last about S seconds, after
 * warming up for --warmup seconds. Seconds are process CPU time (the machine is shared; see
 * tests/bench/common.js), wall-clock medians are printed too.
 *
 * Passes: "fwd" = gl_grid_sample; "fwdbwd" = gl_grid_sample then gl_grid_sample_backward
 * computing both dInput and dGrid (accumulating; the buffers are not re-zeroed between calls).
 * Bilinear, zeros padding, align_corners = 0, grid from gl_affine_grid with theta = identity
 * + U(-0.1, 0.1) per entry, input U(0, 1), output gradient U(-1, 1).
 */
#include "common.h"
#include "glimpse.h"
#include "stn.h"

#include <string.h>


typedef struct {
    int N, C, H, W, Ho, Wo;
    float *inp, *grid, *out, *dout, *dinp, *dgrid; /* (N,C,H,W) (N,Ho,Wo,2) (N,C,Ho,Wo) x2 (N,C,H,W) (N,Ho,Wo,2) */
} bench_case;

static int run_fwd(bench_case *b) {
    return gl_grid_sample(b->out, b->inp, b->grid, b->N, b->C, b->H, b->W, b->Ho, b->Wo, GL_PAD_ZEROS, 0);
}

static int run_fwdbwd(bench_case *b) {
    int rc = gl_grid_sample(b->out, b->inp, b->grid, b->N, b->C, b->H, b->W, b->Ho, b->Wo, GL_PAD_ZEROS, 0);
    return rc ? rc
              : gl_grid_sample_backward(b->dinp, b->dgrid, b->dout, b->inp, b->grid, b->N, b->C, b->H, b->W, b->Ho,
                                        b->Wo, GL_PAD_ZEROS, 0);
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The protocol of tests/bench/common.js measure(): warm up, calibrate, median of timed runs,
 * on the process CPU clock; wall[] gets the wall-clock seconds per call of each run. */
static int measure(int (*fn)(bench_case *), bench_case *b, double warmup, double min_time, int runs,
                   double *per, double *wall, long *iters_out) {
    double t0 = cpu_seconds();
    for (int calls = 0; calls < 3 || cpu_seconds() - t0 < warmup; calls++)
        if (fn(b)) return 1;
    long k = 1;
    double t;
    for (;;) {
        t0 = cpu_seconds();
        for (long i = 0; i < k; i++) fn(b);
        t = cpu_seconds() - t0;
        if (t >= min_time / 4 || k >= (1L << 30)) break;
        k *= 2;
    }
    long iters = (long)ceil(k * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    t0 = cpu_seconds(); /* one untimed run of the estimated length, then re-estimate */
    for (long i = 0; i < iters; i++) fn(b);
    t = cpu_seconds() - t0;
    iters = (long)ceil(iters * min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    for (int r = 0; r < runs; r++) {
        double w0 = now_seconds();
        t0 = cpu_seconds();
        for (long i = 0; i < iters; i++) fn(b);
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

static float *alloc_floats(size_t n) {
    float *p = calloc(n, sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_stn: out of memory (%zu floats)\n", n);
        exit(1);
    }
    return p;
}

#define MAX_SHAPES 16

int main(int argc, char **argv) {
    int runs = 7;
    double min_time = 0.1, warmup = 0.25;
    unsigned seed = 1;
    int shapes[MAX_SHAPES][6], nshapes = 0;
    (void)test_failures; /* common.h's test counter; a benchmark does not use it */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_stn: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--min-time")) min_time = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--seed")) seed = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--shape")) {
            int *s = shapes[nshapes];
            if (nshapes == MAX_SHAPES ||
                sscanf(v, "%d,%d,%d,%d,%d,%d", &s[0], &s[1], &s[2], &s[3], &s[4], &s[5]) != 6) {
                fprintf(stderr, "bench_stn: --shape wants N,C,H,W,Ho,Wo (at most %d shapes), got %s\n", MAX_SHAPES, v);
                return 2;
            }
            nshapes++;
        } else {
            fprintf(stderr, "bench_stn: unknown option %s (expected --runs, --min-time, --warmup, --seed, --shape)\n", a);
            return 2;
        }
        i++;
    }
    if (runs < 1 || runs > 64 || !(min_time > 0) || !(warmup >= 0)) {
        fprintf(stderr, "bench_stn: need 1 <= --runs <= 64, --min-time > 0, --warmup >= 0\n");
        return 2;
    }
    if (nshapes == 0) {
        static const int dflt[3][6] = {{64, 1, 28, 28, 28, 28}, {64, 1, 60, 60, 28, 28}, {16, 32, 28, 28, 28, 28}};
        memcpy(shapes, dflt, sizeof dflt);
        nshapes = 3;
    }

    printf("{\"engine\":\"native\",\"simd\":\"%s\",\"runs\":%d,\"minTime\":%g,\"warmup\":%g,\"results\":[", gl_simd_name(),
           runs, min_time, warmup);
    test_rng rng = {seed};
    for (int s = 0; s < nshapes; s++) {
        bench_case b = {shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4], shapes[s][5],
                        NULL, NULL, NULL, NULL, NULL, NULL};
        if (b.N <= 0 || b.C <= 0 || b.H <= 0 || b.W <= 0 || b.Ho <= 0 || b.Wo <= 0) {
            fprintf(stderr, "bench_stn: sizes must be positive\n");
            return 2;
        }
        size_t nin = (size_t)b.N * b.C * b.H * b.W, nout = (size_t)b.N * b.C * b.Ho * b.Wo;
        size_t ngrid = (size_t)b.N * b.Ho * b.Wo * 2;
        b.inp = alloc_floats(nin);
        b.dinp = alloc_floats(nin);
        b.out = alloc_floats(nout);
        b.dout = alloc_floats(nout);
        b.grid = alloc_floats(ngrid);
        b.dgrid = alloc_floats(ngrid);
        float *theta = alloc_floats((size_t)b.N * 6);
        static const float ident[6] = {1, 0, 0, 0, 1, 0};
        for (int n = 0; n < b.N; n++)
            for (int k = 0; k < 6; k++) theta[6 * n + k] = ident[k] + rng_uniform(&rng, -0.1f, 0.1f);
        fill_uniform(&rng, b.inp, nin, 0.0f, 1.0f);
        fill_uniform(&rng, b.dout, nout, -1.0f, 1.0f);
        if (gl_affine_grid(b.grid, theta, b.N, b.Ho, b.Wo, 0)) {
            fprintf(stderr, "bench_stn: gl_affine_grid failed\n");
            return 1;
        }
        static const char *names[2] = {"fwd", "fwdbwd"};
        int (*fns[2])(bench_case *) = {run_fwd, run_fwdbwd};
        for (int p = 0; p < 2; p++) {
            double per[64], wall[64];
            long iters;
            if (measure(fns[p], &b, warmup, min_time, runs, per, wall, &iters)) {
                fprintf(stderr, "bench_stn: kernel failed on shape %d\n", s);
                return 1;
            }
            printf("%s{\"shape\":[%d,%d,%d,%d,%d,%d],\"pass\":\"%s\",\"sec\":%.6e,\"iters\":%ld,\"runs\":[",
                   s || p ? "," : "", b.N, b.C, b.H, b.W, b.Ho, b.Wo, names[p], median(per, runs), iters);
            for (int r = 0; r < runs; r++) printf("%s%.6e", r ? "," : "", per[r]);
            printf("],\"wallRuns\":[");
            for (int r = 0; r < runs; r++) printf("%s%.6e", r ? "," : "", wall[r]);
            printf("]}");
            fflush(stdout);
        }
        free(b.inp); free(b.dinp); free(b.out); free(b.dout); free(b.grid); free(b.dgrid); free(theta);
    }
    printf("]}\n");
    return 0;
}
