/* test_exports.c: benchmark and self-test entry points for the shared layers, so the same C can
 * be timed and checked in wasm (tests/bench/layers.js, tests/layers.test.js) and natively
 * (tests/native/bench_layers.c; the native unit tests are tests/native/test_layers.c). Built only
 * into the test wasm (build/test/, see build.sh) and the native test programs, never into the
 * shipped dist/ modules.
 *
 *   gl_test_gemm(err, transA, transB, M, N, K, alpha, beta, seed): gl_sgemm vs gl_sgemm_ref on
 *     random data (padded leading dimensions, NaN in C when beta = 0); *err = max
 *     |fast - ref| / (1 + |ref|).
 *   gl_test_conv2d(err[4], N, C, H, W, O, K, seed): gl_conv2d_forward / _backward (with item
 *     grouping, as the build does it) vs direct loops in double; err = max relative errors of
 *     out, dinp, dweight, dbias.
 *
 *   gl_bench_gemm(transA, transB, M, N, K, reps): reps calls of gl_sgemm on internal buffers.
 *   gl_bench_stn_layers(N, reps, stage): reps training steps (or one stage of one) of the
 *     PyTorch STN tutorial network's layers at batch N on 28x28 inputs, WITHOUT the grid
 *     generator / sampler (src/stn.c, timed by its own benchmark):
 *       localisation: conv 8@7x7 -> pool -> ReLU -> conv 10@5x5 -> pool -> ReLU -> FC 32 -> ReLU -> FC 6
 *       classifier:   conv 10@5x5 -> pool -> ReLU -> conv 20@5x5 -> Dropout2d -> pool -> ReLU
 *                     -> FC 50 -> ReLU -> Dropout -> FC 10 -> log-softmax cross-entropy
 *     backward through everything (the classifier's first conv with its input gradient, which the
 *     sampler needs; the localisation net's first conv without), then one SGD-momentum step over
 *     the flat parameter arena and zeroing of the gradient arenas. stage 0 = the whole step;
 *     stage s in 1..GL_BENCH_STAGES = forward + backward of one piece (see stage_names).
 * Buffers are allocated on the first call (and again when N changes) and kept.
 */
#include "test_exports.h"
#include "layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float max_err(const float *a, const float *b, size_t n) {
    float worst = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float e = fabsf(a[i] - b[i]) / (1.0f + fabsf(b[i]));
        if (!(e <= worst)) worst = e; /* NaN propagates */
    }
    return worst;
}

GL_API int gl_test_gemm(float *err, int transA, int transB, int M, int N, int K, float alpha, float beta, int seed) {
    if (M <= 0 || N <= 0 || K < 0 || M > 4096 || N > 4096 || K > 4096) return gl_fail(GL_EINVAL, "test_gemm: bad sizes");
    int lda = (transA ? M : K) + 3, ldb = (transB ? K : N) + 1, ldc = N + 2;
    size_t na = (size_t)(transA ? K : M) * lda + 1, nb = (size_t)(transB ? N : K) * ldb + 1, nc = (size_t)M * ldc;
    float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4), *R = malloc(nc * 4);
    if (!A || !B || !C || !R) {
        free(A); free(B); free(C); free(R);
        return gl_fail(GL_ENOMEM, "test_gemm: out of memory");
    }
    gl_rng r;
    gl_rng_seed(&r, (uint64_t)seed, 7);
    gl_init_uniform(A, na, 1.0f, &r);
    gl_init_uniform(B, nb, 1.0f, &r);
    gl_init_uniform(C, nc, 1.0f, &r);
    if (beta == 0.0f)
        for (size_t i = 0; i < nc; i += 5) C[i] = NAN; /* must be ignored */
    memcpy(R, C, nc * 4);
    gl_sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    gl_sgemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    for (size_t i = 0; i < nc; i++) /* padding columns keep their NaN in both */
        if ((size_t)(i % ldc) >= (size_t)N && isnan(C[i]) && isnan(R[i])) C[i] = R[i] = 0.0f;
    *err = max_err(C, R, nc);
    free(A); free(B); free(C); free(R);
    return GL_OK;
}

GL_API int gl_test_conv2d(float *err, int N, int C, int H, int W, int O, int K, int seed) {
    if (N <= 0 || C <= 0 || O <= 0 || K <= 0 || H < K || W < K || N * C * H * W > (1 << 22))
        return gl_fail(GL_EINVAL, "test_conv2d: bad sizes");
    int Ho = H - K + 1, Wo = W - K + 1;
    size_t nx = (size_t)N * C * H * W, nw = (size_t)O * C * K * K, no = (size_t)N * O * Ho * Wo;
    size_t ncol = gl_conv2d_col_size(N, C, H, W, O, K);
    size_t total = 2 * nx + 2 * nw + 2 * (size_t)O + 3 * no + ncol + 1;
    float *buf = calloc(total, sizeof(float));
    double *acc = calloc(nx + nw + (size_t)O, sizeof(double));
    if (!buf || !acc) {
        free(buf); free(acc);
        return gl_fail(GL_ENOMEM, "test_conv2d: out of memory");
    }
    float *x = buf, *w = x + nx, *b = w + nw, *dy = b + O, *out = dy + no, *ref = out + no, *dx = ref + no,
          *dw = dx + nx, *db = dw + nw, *col = db + O;
    gl_rng r;
    gl_rng_seed(&r, (uint64_t)seed, 9);
    gl_init_uniform(x, nx, 1.0f, &r);
    gl_init_uniform(w, nw, 1.0f, &r);
    gl_init_uniform(b, (size_t)O, 1.0f, &r);
    gl_init_uniform(dy, no, 1.0f, &r);
    gl_conv2d_forward(out, col, x, w, b, N, C, H, W, O, K);
    gl_conv2d_forward_ref(ref, x, w, b, N, C, H, W, O, K);
    err[0] = max_err(out, ref, no);
    gl_conv2d_backward(dx, dw, db, col, dy, x, w, N, C, H, W, O, K);
    double *rdx = acc, *rdw = rdx + nx, *rdb = rdw + nw;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int y = 0; y < Ho; y++)
                for (int xx = 0; xx < Wo; xx++) {
                    double g = dy[(((size_t)n * O + o) * Ho + y) * Wo + xx];
                    rdb[o] += g;
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++) {
                                size_t wi = (((size_t)o * C + c) * K + ky) * K + kx;
                                size_t xi = (((size_t)n * C + c) * H + y + ky) * W + xx + kx;
                                rdw[wi] += g * x[xi];
                                rdx[xi] += g * w[wi];
                            }
                }
    /* float copies of the double references */
    float *t = malloc((nx > nw ? nx : nw) * sizeof(float) + 4 * (size_t)O);
    if (!t) {
        free(buf); free(acc);
        return gl_fail(GL_ENOMEM, "test_conv2d: out of memory");
    }
    for (size_t i = 0; i < nx; i++) t[i] = (float)rdx[i];
    err[1] = max_err(dx, t, nx);
    for (size_t i = 0; i < nw; i++) t[i] = (float)rdw[i];
    err[2] = max_err(dw, t, nw);
    for (int i = 0; i < O; i++) t[i] = (float)rdb[i];
    err[3] = max_err(db, t, (size_t)O);
    free(t); free(buf); free(acc);
    return GL_OK;
}

GL_API int gl_bench_gemm(int transA, int transB, int M, int N, int K, int reps) {
    static float *buf;
    static size_t cap;
    if (M <= 0 || N <= 0 || K <= 0 || reps < 0) return gl_fail(GL_EINVAL, "bench_gemm: bad sizes");
    size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N, need = na + nb + nc;
    if (need > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "bench_gemm: too large");
    if (need > cap) {
        free(buf);
        buf = malloc(need * sizeof(float));
        cap = buf ? need : 0;
        if (!buf) return gl_fail(GL_ENOMEM, "bench_gemm: out of memory");
        gl_rng r;
        gl_rng_seed(&r, 1, 0);
        gl_init_uniform(buf, need, 1.0f, &r);
    }
    float *A = buf, *B = A + na, *C = B + nb;
    for (int i = 0; i < reps; i++)
        gl_sgemm(transA, transB, M, N, K, 1.0f, A, transA ? M : K, B, transB ? K : N, 0.0f, C, N);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */

#define HH 28
#define WW 28
enum { P_LC1W, P_LC1B, P_LC2W, P_LC2B, P_LF1W, P_LF1B, P_LF2W, P_LF2B,
       P_CC1W, P_CC1B, P_CC2W, P_CC2B, P_CF1W, P_CF1B, P_CF2W, P_CF2B, P_COUNT };
static const size_t psize[P_COUNT] = {8 * 49, 8, 10 * 8 * 25, 10, 32 * 90, 32, 6 * 32, 6,
                                      10 * 25, 10, 20 * 10 * 25, 20, 50 * 320, 50, 10 * 50, 10};
/* activations (per batch item sizes) */
enum { A_X, A_LC1, A_LP1, A_LC2, A_LP2, A_LF1, A_LF2, A_CC1, A_CP1, A_CC2, A_CD2, A_CP2, A_CF1, A_CD1, A_CF2,
       A_COL, A_COUNT };
static const size_t asize[A_COUNT] = {HH * WW, 8 * 22 * 22, 8 * 11 * 11, 10 * 7 * 7, 10 * 3 * 3, 32, 6,
                                      10 * 24 * 24, 10 * 12 * 12, 20 * 8 * 8, 20 * 8 * 8, 20 * 4 * 4, 50, 50, 10,
                                      0};

static const char *const stage_names[] = {
    "whole step", "loc conv1 8@7x7", "loc pool+relu 1", "loc conv2 10@5x5", "loc pool+relu 2", "loc fc 90-32-6",
    "cls conv1 10@5x5", "cls pool+relu 1", "cls conv2 20@5x5 + dropout2d", "cls pool+relu 2",
    "cls fc 320-50-10 + dropout + xent", "sgd step + zero grads"};
#define GL_BENCH_STAGES 11

GL_API const char *gl_bench_stn_stage_name(int stage) {
    return stage >= 0 && stage <= GL_BENCH_STAGES ? stage_names[stage] : "";
}

static struct {
    int N;
    gl_arena params, grads, mom, acts, dacts;
    float *p[P_COUNT], *g[P_COUNT], *a[A_COUNT], *d[A_COUNT];
    int32_t *idx_l1, *idx_l2, *idx_c1, *idx_c2;
    float *mask2d, *mask1;
    int32_t *labels;
    gl_rng rng;
} B;

static void bench_free(void) {
    gl_arena_free(&B.params); gl_arena_free(&B.grads); gl_arena_free(&B.mom);
    gl_arena_free(&B.acts); gl_arena_free(&B.dacts);
    free(B.idx_l1); free(B.idx_l2); free(B.idx_c1); free(B.idx_c2);
    free(B.mask2d); free(B.mask1); free(B.labels);
    memset(&B, 0, sizeof B);
}

static int bench_setup(int N) {
    if (B.N == N) return GL_OK;
    bench_free();
    float *mp[P_COUNT];
    size_t as[A_COUNT];
    for (int i = 0; i < A_COUNT; i++) as[i] = asize[i] * N;
    size_t c1 = gl_conv2d_col_size(N, 1, 28, 28, 8, 7), c2 = gl_conv2d_col_size(N, 8, 11, 11, 10, 5),
           c3 = gl_conv2d_col_size(N, 1, 28, 28, 10, 5), c4 = gl_conv2d_col_size(N, 10, 12, 12, 20, 5);
    size_t col = c1 > c2 ? c1 : c2;
    col = col > c3 ? col : c3;
    col = col > c4 ? col : c4;
    as[A_COL] = col;
    int err = gl_arena_layout(&B.params, B.p, psize, P_COUNT);
    if (!err) err = gl_arena_layout(&B.grads, B.g, psize, P_COUNT);
    if (!err) err = gl_arena_layout(&B.mom, mp, psize, P_COUNT);
    if (!err) err = gl_arena_layout(&B.acts, B.a, as, A_COUNT);
    if (!err) err = gl_arena_layout(&B.dacts, B.d, as, A_COUNT);
    B.idx_l1 = malloc(asize[A_LP1] * N * 4); B.idx_l2 = malloc(asize[A_LP2] * N * 4);
    B.idx_c1 = malloc(asize[A_CP1] * N * 4); B.idx_c2 = malloc(asize[A_CP2] * N * 4);
    B.mask2d = malloc(20 * (size_t)N * 4); B.mask1 = malloc(50 * (size_t)N * 4); B.labels = malloc((size_t)N * 4);
    if (!err && !(B.idx_l1 && B.idx_l2 && B.idx_c1 && B.idx_c2 && B.mask2d && B.mask1 && B.labels))
        err = gl_fail(GL_ENOMEM, "bench_stn_layers: out of memory");
    if (err) {
        bench_free();
        return err;
    }
    B.N = N;
    gl_rng_seed(&B.rng, 2024, 0);
    static const int fan[P_COUNT] = {49, 49, 200, 200, 90, 90, 32, 32, 25, 25, 250, 250, 320, 320, 50, 50};
    for (int i = 0; i < P_COUNT; i++) gl_init_uniform(B.p[i], psize[i], gl_fan_in_bound(fan[i]), &B.rng);
    for (size_t i = 0; i < asize[A_X] * N; i++) B.a[A_X][i] = gl_rng_uniform(&B.rng);
    for (int i = 0; i < N; i++) B.labels[i] = (int32_t)gl_rng_below(&B.rng, 10);
    return GL_OK;
}

/* forward / backward of each stage; stage numbers as in stage_names */
static void fwd(int s) {
    int N = B.N;
    float **a = B.a, **p = B.p;
    switch (s) {
    case 1: gl_conv2d_forward(a[A_LC1], a[A_COL], a[A_X], p[P_LC1W], p[P_LC1B], N, 1, 28, 28, 8, 7); break;
    case 2:
        gl_maxpool2_forward(a[A_LP1], B.idx_l1, a[A_LC1], N, 8, 22, 22);
        gl_relu_forward(a[A_LP1], a[A_LP1], asize[A_LP1] * N);
        break;
    case 3: gl_conv2d_forward(a[A_LC2], a[A_COL], a[A_LP1], p[P_LC2W], p[P_LC2B], N, 8, 11, 11, 10, 5); break;
    case 4:
        gl_maxpool2_forward(a[A_LP2], B.idx_l2, a[A_LC2], N, 10, 7, 7);
        gl_relu_forward(a[A_LP2], a[A_LP2], asize[A_LP2] * N);
        break;
    case 5:
        gl_linear_forward(a[A_LF1], a[A_LP2], p[P_LF1W], p[P_LF1B], N, 90, 32);
        gl_relu_forward(a[A_LF1], a[A_LF1], 32 * (size_t)N);
        gl_linear_forward(a[A_LF2], a[A_LF1], p[P_LF2W], p[P_LF2B], N, 32, 6);
        break;
    case 6: gl_conv2d_forward(a[A_CC1], a[A_COL], a[A_X], p[P_CC1W], p[P_CC1B], N, 1, 28, 28, 10, 5); break;
    case 7:
        gl_maxpool2_forward(a[A_CP1], B.idx_c1, a[A_CC1], N, 10, 24, 24);
        gl_relu_forward(a[A_CP1], a[A_CP1], asize[A_CP1] * N);
        break;
    case 8:
        gl_conv2d_forward(a[A_CC2], a[A_COL], a[A_CP1], p[P_CC2W], p[P_CC2B], N, 10, 12, 12, 20, 5);
        gl_dropout_forward(a[A_CD2], B.mask2d, a[A_CC2], asize[A_CD2] * N, 64, 0.5f, &B.rng);
        break;
    case 9:
        gl_maxpool2_forward(a[A_CP2], B.idx_c2, a[A_CD2], N, 20, 8, 8);
        gl_relu_forward(a[A_CP2], a[A_CP2], asize[A_CP2] * N);
        break;
    case 10:
        gl_linear_forward(a[A_CF1], a[A_CP2], p[P_CF1W], p[P_CF1B], N, 320, 50);
        gl_relu_forward(a[A_CF1], a[A_CF1], 50 * (size_t)N);
        gl_dropout_forward(a[A_CD1], B.mask1, a[A_CF1], 50 * (size_t)N, 1, 0.5f, &B.rng);
        gl_linear_forward(a[A_CF2], a[A_CD1], p[P_CF2W], p[P_CF2B], N, 50, 10);
        break;
    default: break;
    }
}

static void bwd(int s) {
    int N = B.N;
    float **a = B.a, **p = B.p, **g = B.g, **d = B.d;
    switch (s) {
    case 1: gl_conv2d_backward(NULL, g[P_LC1W], g[P_LC1B], a[A_COL], d[A_LC1], a[A_X], p[P_LC1W], N, 1, 28, 28, 8, 7); break;
    case 2:
        gl_relu_mask(d[A_LP1], a[A_LP1], asize[A_LP1] * N);
        gl_maxpool2_backward(d[A_LC1], d[A_LP1], B.idx_l1, N, 8, 22, 22);
        break;
    case 3:
        gl_conv2d_backward(d[A_LP1], g[P_LC2W], g[P_LC2B], a[A_COL], d[A_LC2], a[A_LP1], p[P_LC2W], N, 8, 11, 11, 10, 5);
        break;
    case 4:
        gl_relu_mask(d[A_LP2], a[A_LP2], asize[A_LP2] * N);
        gl_maxpool2_backward(d[A_LC2], d[A_LP2], B.idx_l2, N, 10, 7, 7);
        break;
    case 5:
        /* dtheta would come from the sampler: use a fixed small gradient */
        for (size_t i = 0; i < 6 * (size_t)N; i++) d[A_LF2][i] = 1e-3f;
        gl_linear_backward(d[A_LF1], g[P_LF2W], g[P_LF2B], d[A_LF2], a[A_LF1], p[P_LF2W], N, 32, 6);
        gl_relu_mask(d[A_LF1], a[A_LF1], 32 * (size_t)N);
        gl_linear_backward(d[A_LP2], g[P_LF1W], g[P_LF1B], d[A_LF1], a[A_LP2], p[P_LF1W], N, 90, 32);
        break;
    case 6:
        gl_conv2d_backward(d[A_X], g[P_CC1W], g[P_CC1B], a[A_COL], d[A_CC1], a[A_X], p[P_CC1W], N, 1, 28, 28, 10, 5);
        break;
    case 7:
        gl_relu_mask(d[A_CP1], a[A_CP1], asize[A_CP1] * N);
        gl_maxpool2_backward(d[A_CC1], d[A_CP1], B.idx_c1, N, 10, 24, 24);
        break;
    case 8:
        gl_dropout_backward(d[A_CC2], d[A_CD2], B.mask2d, asize[A_CD2] * N, 64);
        gl_conv2d_backward(d[A_CP1], g[P_CC2W], g[P_CC2B], a[A_COL], d[A_CC2], a[A_CP1], p[P_CC2W], N, 10, 12, 12, 20, 5);
        break;
    case 9:
        gl_relu_mask(d[A_CP2], a[A_CP2], asize[A_CP2] * N);
        gl_maxpool2_backward(d[A_CD2], d[A_CP2], B.idx_c2, N, 20, 8, 8);
        break;
    case 10:
        gl_softmax_xent(d[A_CF2], NULL, NULL, a[A_CF2], B.labels, N, 10, 1.0f / (float)N);
        gl_linear_backward(d[A_CD1], g[P_CF2W], g[P_CF2B], d[A_CF2], a[A_CD1], p[P_CF2W], N, 50, 10);
        gl_dropout_backward(d[A_CF1], d[A_CD1], B.mask1, 50 * (size_t)N, 1);
        gl_relu_mask(d[A_CF1], a[A_CF1], 50 * (size_t)N);
        gl_linear_backward(d[A_CP2], g[P_CF1W], g[P_CF1B], d[A_CF1], a[A_CP2], p[P_CF1W], N, 320, 50);
        break;
    case 11:
        /* lr 0: the same work as a real step, but the weights stay put, so thousands of
         * benchmark steps on one batch (with a made-up dtheta) cannot drift into inf/NaN */
        gl_sgd_step(B.params.base, B.mom.base, B.grads.base, B.params.used, 0.0f, 0.9f, 0.0f);
        gl_arena_zero(&B.grads);
        gl_arena_zero(&B.dacts);
        break;
    default: break;
    }
}

GL_API int gl_bench_stn_layers(int N, int reps, int stage) {
    if (N <= 0 || N > 4096 || reps < 0 || stage < 0 || stage > GL_BENCH_STAGES)
        return gl_fail(GL_EINVAL, "bench_stn_layers: N in 1..4096, reps >= 0, stage in 0..%d", GL_BENCH_STAGES);
    int err = bench_setup(N);
    if (err) return err;
    for (int r = 0; r < reps; r++) {
        if (stage == 0) {
            for (int s = 1; s <= 10; s++) fwd(s);
            for (int s = 10; s >= 1; s--) bwd(s);
            bwd(11);
        } else {
            fwd(stage);
            bwd(stage);
        }
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The pool (src/pool.h): a job whose task on worker `trap_worker` traps (the test of a failing
 * worker), and a job that records which worker ran each task (static partitioning). */

#include "pool.h"

static int trap_worker_id;
static int trap_task(void *ctx, int t, int w) {
    (void)ctx; (void)t;
    if (w == trap_worker_id) __builtin_trap();
    return GL_OK;
}

GL_API int gl_test_pool_trap(int worker) {
    trap_worker_id = worker;
    return gl_parallel(gl_pool_threads(), trap_task, NULL);
}

static int record_task(void *ctx, int t, int w) {
    ((int *)ctx)[t] = w;
    return GL_OK;
}

/* out[t] <- the worker that ran task t of a job of ntasks tasks. */
GL_API int gl_test_pool_record(int *out, int ntasks) { return gl_parallel(ntasks, record_task, out); }
