/* test_layers.c: unit tests of the shared layers (src/layers.h, src/layers.c, src/gemm.c).
 * Exit status = number of failed checks.
 *
 *  1. gl_sgemm vs gl_sgemm_ref: every transpose combination, odd sizes (tails in M, N, K),
 *     padded leading dimensions, alpha/beta in {0, 1, other}, sizes crossing the K block and the
 *     pack block, and each NT strategy (packed A, packed B, dot products).
 *  2. Finite-difference gradient checks of every backward: the loss is sum(out * R) for a random
 *     R (so dout = R), evaluated in float with double accumulation, central differences with the
 *     actually-representable step. Per-op steps/tolerances; kinks avoided (maxpool without ties,
 *     relu away from 0).
 *  3. PyTorch fixtures (tests/fixtures/layers_fixture.h from tests/gen_fixtures_layers.py):
 *     conv2d, linear, maxpool, cross-entropy, LSTMCell (gate order i, f, g, o), BCE, Adam, SGD,
 *     gradient clipping.
 *  4. Optimisers one step vs hand-computed values, RNG, arena, init.
 */
#include "common.h"
#include "layers.h"
#include "simd.h"

#include "../fixtures/layers_fixture.h"

#include <string.h>

static test_rng trng = {12345};

static float *fnew(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(99); }
    return p;
}
static float *frand(size_t n, float lo, float hi) {
    float *p = fnew(n);
    fill_uniform(&trng, p, n, lo, hi);
    return p;
}
static double dot_d(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Compare two arrays, report the worst element; returns 1 when within tolerance. */
static int expect_close(const char *what, const float *got, const float *want, size_t n, double atol, double rtol) {
    size_t at = 0;
    double e = max_rel_err(got, want, n, atol, rtol, &at);
    CHECK(e <= 1.0, "%s: worst |got-want|/(atol+rtol|want|) = %.3g at %zu (got %.8g want %.8g)", what, e, at,
          n ? got[at] : 0.0, n ? want[at] : 0.0);
    return e <= 1.0;
}

/* ---------------------------------------------------------------------------------------- */
/* Finite differences. f(ctx) evaluates the scalar loss; we perturb x[i] in place. */

typedef double (*loss_fn)(void *ctx);

static void fd_check(const char *what, float *x, const float *analytic, size_t n, loss_fn f, void *ctx, float h,
                     double atol, double rtol) {
    double worst = 0;
    size_t at = 0;
    double num_at = 0;
    for (size_t i = 0; i < n; i++) {
        float save = x[i];
        float xp = save + h, xm = save - h;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = save;
        double num = (lp - lm) / ((double)xp - (double)xm);
        double e = fabs(num - analytic[i]) / (atol + rtol * fabs(num));
        if (!(e <= worst)) { worst = e; at = i; num_at = num; }
    }
    CHECK(worst <= 1.0, "FD %s: worst ratio %.3g at %zu (analytic %.8g, numeric %.8g)", what, worst, at,
          n ? analytic[at] : 0.0, num_at);
}

/* ---------------------------------------------------------------------------------------- */
/* 1. GEMM */

static void test_gemm(void) {
    /* M, N, K */
    static const int sizes[][3] = {
        {1, 1, 1},    {3, 5, 7},     {4, 8, 16},   {17, 23, 9},  {33, 65, 300}, {8, 484, 49}, {49, 8, 484},
        {250, 64, 20}, {20, 64, 250}, {64, 50, 320}, {5, 1, 600},  {1, 40, 3},    {7, 300, 13}, {300, 9, 5},
        {40, 600, 3},  {2, 3, 1000},  {37, 35, 33}, {64, 33, 31}, {9, 9, 257},  {12, 260, 70},
        {40, 300, 600}, {300, 40, 600}, /* NT packed (A resp. B) over several K blocks */
    };
    static const float alphas[] = {1.0f, -0.75f}, betas[] = {0.0f, 1.0f, 0.5f};
    int combos = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
                float alpha = alphas[(s + ta) % 2], beta = betas[(s + tb + ta) % 3];
                int lda = (ta ? M : K) + (int)(s % 3), ldb = (tb ? K : N) + (int)(s % 2), ldc = N + (int)(s % 4);
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
                float *A = frand(na, -1, 1), *B = frand(nb, -1, 1), *C = frand(nc, -1, 1), *C2 = fnew(nc);
                if (beta == 0.0f)
                    for (size_t i = 0; i < nc; i += 7) C[i] = NAN; /* beta = 0 must ignore C */
                memcpy(C2, C, nc * sizeof(float));
                gl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                gl_sgemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
                /* padding columns of C (j >= N) must be untouched: they compare equal too */
                char what[96];
                snprintf(what, sizeof what, "gemm %c%c M=%d N=%d K=%d alpha=%g beta=%g", ta ? 'T' : 'N',
                         tb ? 'T' : 'N', M, N, K, alpha, beta);
                int ok = 1;
                for (size_t i = 0; i < nc; i++)
                    if (isnan(C2[i]) != isnan(C[i])) ok = 0;
                CHECK(ok, "%s: NaN pattern differs (beta = 0 must overwrite, padding must be kept)", what);
                for (size_t i = 0; i < nc; i++)
                    if (isnan(C2[i])) C[i] = C2[i] = 0;
                expect_close(what, C, C2, nc, 1e-5 * sqrt(K), 1e-5 * sqrt(K));
                free(A); free(B); free(C); free(C2);
                combos++;
            }
    /* K = 0 scales C by beta */
    float c[6] = {1, 2, 3, 4, 5, 6}, a[1] = {0}, b[1] = {0};
    gl_sgemm(0, 0, 2, 3, 0, 1.0f, a, 1, b, 3, 0.5f, c, 3);
    CHECK(c[0] == 0.5f && c[5] == 3.0f, "gemm K=0 must scale C by beta");
    printf("gemm: %d shape/transpose combinations vs gemm_ref\n", combos);
}

/* ---------------------------------------------------------------------------------------- */
/* 2. Gradient checks */

typedef struct { int B, I, O; float *x, *w, *b, *out, *R; } lin_ctx;
static double lin_loss(void *p) {
    lin_ctx *c = p;
    gl_linear_forward(c->out, c->x, c->w, c->b, c->B, c->I, c->O);
    return dot_d(c->out, c->R, (size_t)c->B * c->O);
}
static void test_linear_grad(void) {
    lin_ctx c = {6, 11, 9, 0, 0, 0, 0, 0};
    c.x = frand((size_t)c.B * c.I, -1, 1); c.w = frand((size_t)c.O * c.I, -1, 1); c.b = frand(c.O, -1, 1);
    c.out = fnew((size_t)c.B * c.O); c.R = frand((size_t)c.B * c.O, -1, 1);
    float *dx = frand((size_t)c.B * c.I, -1, 1), *dw = frand((size_t)c.O * c.I, -1, 1), *db = frand(c.O, -1, 1);
    float *dx0 = fnew((size_t)c.B * c.I), *dw0 = fnew((size_t)c.O * c.I), *db0 = fnew(c.O);
    memcpy(dx0, dx, (size_t)c.B * c.I * 4); memcpy(dw0, dw, (size_t)c.O * c.I * 4); memcpy(db0, db, (size_t)c.O * 4);
    /* backward accumulates: start from random gradients and subtract them afterwards */
    gl_linear_backward(dx, dw, db, c.R, c.x, c.w, c.B, c.I, c.O);
    for (int i = 0; i < c.B * c.I; i++) dx[i] -= dx0[i];
    for (int i = 0; i < c.O * c.I; i++) dw[i] -= dw0[i];
    for (int i = 0; i < c.O; i++) db[i] -= db0[i];
    fd_check("linear dx", c.x, dx, (size_t)c.B * c.I, lin_loss, &c, 1e-2f, 1e-4, 1e-3);
    fd_check("linear dw", c.w, dw, (size_t)c.O * c.I, lin_loss, &c, 1e-2f, 1e-4, 1e-3);
    fd_check("linear db", c.b, db, c.O, lin_loss, &c, 1e-2f, 1e-4, 1e-3);
    /* NULL gradients are skipped */
    gl_linear_backward(NULL, NULL, NULL, c.R, c.x, c.w, c.B, c.I, c.O);
    free(c.x); free(c.w); free(c.b); free(c.out); free(c.R); free(dx); free(dw); free(db); free(dx0); free(dw0); free(db0);
}

typedef struct { int N, C, H, W, O, K; float *x, *w, *b, *out, *R, *col; } conv_ctx;
static double conv_loss(void *p) {
    conv_ctx *c = p;
    gl_conv2d_forward(c->out, c->col, c->x, c->w, c->b, c->N, c->C, c->H, c->W, c->O, c->K);
    size_t no = (size_t)c->N * c->O * (c->H - c->K + 1) * (c->W - c->K + 1);
    return dot_d(c->out, c->R, no);
}
static void test_conv_grad(int N, int C, int H, int W, int O, int K) {
    conv_ctx c = {N, C, H, W, O, K, 0, 0, 0, 0, 0, 0};
    size_t nx = (size_t)N * C * H * W, nw = (size_t)O * C * K * K, no = (size_t)N * O * (H - K + 1) * (W - K + 1);
    c.x = frand(nx, -1, 1); c.w = frand(nw, -1, 1); c.b = frand(O, -1, 1); c.out = fnew(no); c.R = frand(no, -1, 1);
    c.col = fnew(gl_conv2d_col_size(N, C, H, W, O, K));
    /* forward vs the direct-loop oracle */
    float *ref = fnew(no);
    conv_loss(&c);
    gl_conv2d_forward_ref(ref, c.x, c.w, c.b, N, C, H, W, O, K);
    expect_close("conv2d forward vs ref", c.out, ref, no, 1e-5, 1e-4);
    float *dx = fnew(nx), *dw = fnew(nw), *db = fnew(O);
    gl_conv2d_backward(dx, dw, db, c.col, c.R, c.x, c.w, N, C, H, W, O, K);
    char what[64];
    snprintf(what, sizeof what, "conv2d(%d,%d,%d,%d,O=%d,K=%d) dx", N, C, H, W, O, K);
    fd_check(what, c.x, dx, nx, conv_loss, &c, 1e-2f, 2e-4, 2e-3);
    snprintf(what, sizeof what, "conv2d(%d,%d,%d,%d,O=%d,K=%d) dw", N, C, H, W, O, K);
    fd_check(what, c.w, dw, nw, conv_loss, &c, 1e-2f, 2e-4, 2e-3);
    snprintf(what, sizeof what, "conv2d(%d,%d,%d,%d,O=%d,K=%d) db", N, C, H, W, O, K);
    fd_check(what, c.b, db, O, conv_loss, &c, 1e-2f, 2e-4, 2e-3);
    /* accumulation: a second backward doubles the gradients; dinp NULL skips it */
    float *dw2 = fnew(nw);
    memcpy(dw2, dw, nw * 4);
    gl_conv2d_backward(NULL, dw2, NULL, c.col, c.R, c.x, c.w, N, C, H, W, O, K);
    for (size_t i = 0; i < nw; i++) dw[i] *= 2.0f;
    expect_close("conv2d backward accumulates into dw", dw2, dw, nw, 1e-5, 1e-5);
    free(c.x); free(c.w); free(c.b); free(c.out); free(c.R); free(c.col); free(ref); free(dx); free(dw); free(db); free(dw2);
}

typedef struct { int N, C, H, W; float *x, *out, *R; int32_t *idx; } pool_ctx;
static double pool_loss(void *p) {
    pool_ctx *c = p;
    gl_maxpool2_forward(c->out, c->idx, c->x, c->N, c->C, c->H, c->W);
    return dot_d(c->out, c->R, (size_t)c->N * c->C * (c->H / 2) * (c->W / 2));
}
static void test_pool_grad(void) {
    pool_ctx c = {2, 3, 9, 6, 0, 0, 0, 0};
    size_t nx = (size_t)c.N * c.C * c.H * c.W, no = (size_t)c.N * c.C * (c.H / 2) * (c.W / 2);
    /* distinct values 0.01 apart (a shuffled ramp), so a step of 1e-3 never reorders a window */
    c.x = fnew(nx);
    for (size_t i = 0; i < nx; i++) c.x[i] = 0.01f * (float)i - 1.0f;
    for (size_t i = nx - 1; i > 0; i--) {
        size_t j = (size_t)(rng_uniform(&trng, 0, 1) * (i + 1)) % (i + 1);
        float t = c.x[i]; c.x[i] = c.x[j]; c.x[j] = t;
    }
    c.out = fnew(no); c.R = frand(no, -1, 1); c.idx = calloc(no, sizeof(int32_t));
    pool_loss(&c);
    float *dx = fnew(nx);
    gl_maxpool2_backward(dx, c.R, c.idx, c.N, c.C, c.H, c.W);
    fd_check("maxpool dx", c.x, dx, nx, pool_loss, &c, 1e-3f, 1e-4, 1e-3);
    /* vector loop vs the scalar oracle: widths with and without tails, odd H and W, ties (values
     * rounded to a coarse grid so windows often hold equal maxima), NaN */
    static const int dims[][2] = {{28, 28}, {22, 22}, {7, 7}, {11, 9}, {24, 24}, {8, 8}, {3, 17}, {2, 2}};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        int H = dims[d][0], W = dims[d][1], Ho = H / 2, Wo = W / 2;
        size_t n = (size_t)3 * H * W, no = (size_t)3 * Ho * Wo;
        float *x = frand(n, -2, 2), *o1 = fnew(no), *o2 = fnew(no);
        int32_t *i1 = calloc(no, 4), *i2 = calloc(no, 4);
        for (size_t i = 0; i < n; i++) x[i] = (i % 3) ? roundf(x[i] * 2.0f) : x[i];
        x[n / 2] = NAN;
        gl_maxpool2_forward(o1, i1, x, 3, 1, H, W);
        gl_maxpool2_forward_ref(o2, i2, x, 3, 1, H, W);
        int same = 1;
        for (size_t i = 0; i < no; i++) same &= i1[i] == i2[i] && (o1[i] == o2[i] || (isnan(o1[i]) && isnan(o2[i])));
        CHECK(same, "maxpool %dx%d: vector loop differs from the scalar oracle", H, W);
        free(x); free(o1); free(o2); free(i1); free(i2);
    }
    /* ties pick the first maximum in row-major order */
    float t[8] = {1, 2, 2, 0, /* row 1 */ 2, 2, 0, 0};
    float o[2];
    int32_t ix[2];
    gl_maxpool2_forward(o, ix, t, 1, 1, 2, 4);
    CHECK(ix[0] == 1 && ix[1] == 2 && o[0] == 2 && o[1] == 2, "maxpool ties: idx %d %d (want 1 2)", ix[0], ix[1]);
    free(c.x); free(c.out); free(c.R); free(c.idx); free(dx);
}

typedef struct { size_t n; int kind; float *x, *out, *R; } act_ctx; /* kind 0 relu, 1 sigmoid, 2 tanh */
static double act_loss(void *p) {
    act_ctx *c = p;
    if (c->kind == 0) gl_relu_forward(c->out, c->x, c->n);
    else if (c->kind == 1) gl_sigmoid_forward(c->out, c->x, c->n);
    else gl_tanh_forward(c->out, c->x, c->n);
    return dot_d(c->out, c->R, c->n);
}
static void test_act_grad(void) {
    static const char *names[] = {"relu dx", "sigmoid dx", "tanh dx"};
    for (int kind = 0; kind < 3; kind++) {
        act_ctx c = {37, kind, 0, 0, 0};
        c.x = frand(c.n, -3, 3);
        for (size_t i = 0; i < c.n; i++) /* away from relu's kink at 0 */
            if (fabsf(c.x[i]) < 0.1f) c.x[i] = c.x[i] < 0 ? -0.1f - c.x[i] : 0.1f + c.x[i];
        c.out = fnew(c.n); c.R = frand(c.n, -1, 1);
        act_loss(&c);
        float *dx = fnew(c.n);
        if (kind == 0) gl_relu_backward(dx, c.R, c.out, c.n);
        else if (kind == 1) gl_sigmoid_backward(dx, c.R, c.out, c.n);
        else gl_tanh_backward(dx, c.R, c.out, c.n);
        fd_check(names[kind], c.x, dx, c.n, act_loss, &c, 1e-3f, 1e-4, 2e-3);
        /* in place forward */
        act_loss(&c); /* c.out at the unperturbed x */
        float *y = fnew(c.n);
        memcpy(y, c.x, c.n * 4);
        if (kind == 0) gl_relu_forward(y, y, c.n);
        else if (kind == 1) gl_sigmoid_forward(y, y, c.n);
        else gl_tanh_forward(y, y, c.n);
        expect_close("activation in place", y, c.out, c.n, 0, 0);
        free(c.x); free(c.out); free(c.R); free(dx); free(y);
    }
}

typedef struct { size_t n, inner; float p; gl_rng rng0; float *x, *out, *mask, *R; } drop_ctx;
static double drop_loss(void *q) {
    drop_ctx *c = q;
    gl_rng r = c->rng0; /* same seed each time: a fixed mask */
    gl_dropout_forward(c->out, c->mask, c->x, c->n, c->inner, c->p, &r);
    return dot_d(c->out, c->R, c->n);
}
static void test_dropout(void) {
    for (int v = 0; v < 2; v++) {
        drop_ctx c = {60, v ? 5 : 1, 0.4f, {0}, 0, 0, 0, 0};
        gl_rng_seed(&c.rng0, 99 + v, 1);
        c.x = frand(c.n, -1, 1); c.out = fnew(c.n); c.mask = fnew(c.n); c.R = frand(c.n, -1, 1);
        drop_loss(&c);
        size_t groups = c.n / c.inner, zeros = 0;
        int ok = 1;
        for (size_t g = 0; g < groups; g++) {
            if (c.mask[g] == 0.0f) zeros++;
            else if (fabsf(c.mask[g] - 1.0f / 0.6f) > 1e-6f) ok = 0;
        }
        CHECK(ok && zeros > 0 && zeros < groups, "dropout mask values (zeros %zu of %zu)", zeros, groups);
        float *dx = fnew(c.n);
        gl_dropout_backward(dx, c.R, c.mask, c.n, c.inner);
        fd_check(v ? "dropout2d dx" : "dropout dx", c.x, dx, c.n, drop_loss, &c, 1e-2f, 1e-5, 1e-4);
        free(c.x); free(c.out); free(c.mask); free(c.R); free(dx);
    }
    /* rate: about p of 20000 elements dropped; p = 0 keeps everything */
    gl_rng r;
    gl_rng_seed(&r, 5, 0);
    size_t n = 20000, dropped = 0;
    float *x = frand(n, 1, 2), *y = fnew(n), *m = fnew(n);
    gl_dropout_forward(y, m, x, n, 1, 0.25f, &r);
    for (size_t i = 0; i < n; i++) dropped += m[i] == 0.0f;
    CHECK(fabs(dropped / (double)n - 0.25) < 0.02, "dropout rate %.4f (want 0.25)", dropped / (double)n);
    gl_dropout_forward(y, m, x, n, 1, 0.0f, &r);
    expect_close("dropout p=0 is identity", y, x, n, 0, 0);
    free(x); free(y); free(m);
}

typedef struct { int B, C; float *z; int32_t *labels; } xent_ctx;
static double xent_loss(void *p) {
    xent_ctx *c = p;
    return gl_softmax_xent(NULL, NULL, NULL, c->z, c->labels, c->B, c->C, 1.0f / (float)c->B) / c->B;
}
static void test_xent_grad(void) {
    xent_ctx c = {6, 10, 0, 0};
    c.z = frand((size_t)c.B * c.C, -4, 4);
    c.labels = calloc(c.B, sizeof(int32_t));
    for (int b = 0; b < c.B; b++) c.labels[b] = (b * 7) % c.C;
    float *dz = fnew((size_t)c.B * c.C), *logp = fnew((size_t)c.B * c.C), *logp2 = fnew((size_t)c.B * c.C);
    int correct = -1;
    float loss = (float)(gl_softmax_xent(dz, logp, &correct, c.z, c.labels, c.B, c.C, 1.0f / (float)c.B) / c.B);
    /* the loss comes back as a float: a larger step keeps its rounding (~1e-7) out of the way */
    fd_check("softmax_xent dlogits", c.z, dz, (size_t)c.B * c.C, xent_loss, &c, 1e-2f, 5e-5, 2e-3);
    gl_log_softmax_forward(logp2, c.z, c.B, c.C);
    expect_close("log_softmax_forward vs xent logp", logp2, logp, (size_t)c.B * c.C, 1e-6, 1e-6);
    double want = 0;
    int want_correct = 0;
    for (int b = 0; b < c.B; b++) {
        want -= logp[(size_t)b * c.C + c.labels[b]];
        int arg = 0;
        for (int j = 1; j < c.C; j++)
            if (c.z[(size_t)b * c.C + j] > c.z[(size_t)b * c.C + arg]) arg = j;
        want_correct += arg == c.labels[b];
    }
    CHECK(fabs(loss - want / c.B) < 1e-5, "xent loss %g want %g", loss, want / c.B);
    CHECK(correct == want_correct, "xent ncorrect %d want %d", correct, want_correct);
    free(c.z); free(c.labels); free(dz); free(logp); free(logp2);
}

typedef struct { size_t n; float *z, *t; } bce_ctx;
static double bce_loss(void *p) {
    bce_ctx *c = p;
    return gl_bce_logits(NULL, c->z, c->t, c->n, 1.0f);
}
static void test_bce_grad(void) {
    bce_ctx c = {23, 0, 0};
    c.z = frand(c.n, -8, 8); c.t = frand(c.n, 0, 1);
    for (size_t i = 0; i < 5; i++) c.t[i] = (float)(i & 1); /* binary targets too */
    float *dz = fnew(c.n);
    gl_bce_logits(dz, c.z, c.t, c.n, 1.0f);
    fd_check("bce_logits dz", c.z, dz, c.n, bce_loss, &c, 1e-3f, 1e-4, 2e-3);
    free(c.z); free(c.t); free(dz);
}

/* LSTM over T steps: x (T, B, I), h0/c0 (B, Hd); loss = sum_t <h_t, Rh_t> + <c_T, Rc>. */
typedef struct {
    int T, B, I, Hd;
    float *x, *h0, *c0, *Wx, *Wh, *b, *Rh, *Rc;
    float *h, *c, *gates, *tc; /* (T, B, Hd), (T, B, Hd), (T, B, 4Hd), (T, B, Hd) */
} lstm_ctx;
static double lstm_loss(void *p) {
    lstm_ctx *s = p;
    size_t bh = (size_t)s->B * s->Hd;
    double L = 0;
    for (int t = 0; t < s->T; t++) {
        const float *hp = t ? s->h + (t - 1) * bh : s->h0, *cp = t ? s->c + (t - 1) * bh : s->c0;
        gl_lstm_forward(s->h + t * bh, s->c + t * bh, s->gates + t * 4 * bh, s->tc + t * bh,
                        s->x + (size_t)t * s->B * s->I, hp, cp, s->Wx, s->Wh, s->b, s->B, s->I, s->Hd);
        L += dot_d(s->h + t * bh, s->Rh + t * bh, bh);
    }
    L += dot_d(s->c + (s->T - 1) * bh, s->Rc, bh);
    return L;
}
static void test_lstm_grad(int T) {
    lstm_ctx s = {T, 3, 5, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t bh = (size_t)s.B * s.Hd, G = 4 * (size_t)s.Hd, nx = (size_t)T * s.B * s.I;
    s.x = frand(nx, -1, 1); s.h0 = frand(bh, -1, 1); s.c0 = frand(bh, -1, 1);
    s.Wx = frand(G * s.I, -0.6f, 0.6f); s.Wh = frand(G * s.Hd, -0.6f, 0.6f); s.b = frand(G, -0.5f, 0.5f);
    s.Rh = frand(T * bh, -1, 1); s.Rc = frand(bh, -1, 1);
    s.h = fnew(T * bh); s.c = fnew(T * bh); s.gates = fnew(T * 4 * bh); s.tc = fnew(T * bh);
    lstm_loss(&s);
    float *dx = fnew(nx), *dh0 = fnew(bh), *dc0 = fnew(bh), *dWx = fnew(G * s.I), *dWh = fnew(G * s.Hd), *db = fnew(G);
    float *dh = fnew(bh), *dc = fnew(bh), *dhp = fnew(bh), *dcp = fnew(bh), *dg = fnew((size_t)s.B * G);
    /* BPTT: dh_t = Rh_t + (dh_prev from step t+1), dc_t = (Rc at T-1) + (dc_prev from t+1) */
    memcpy(dc, s.Rc, bh * 4);
    for (int t = T - 1; t >= 0; t--) {
        for (size_t k = 0; k < bh; k++) dh[k] += s.Rh[t * bh + k];
        const float *hp = t ? s.h + (t - 1) * bh : s.h0, *cp = t ? s.c + (t - 1) * bh : s.c0;
        memset(dhp, 0, bh * 4);
        memset(dcp, 0, bh * 4);
        gl_lstm_backward(dx + (size_t)t * s.B * s.I, dhp, dcp, dWx, dWh, db, dg, dh, dc, s.gates + t * 4 * bh,
                         s.tc + t * bh, s.x + (size_t)t * s.B * s.I, hp, cp, s.Wx, s.Wh, s.B, s.I, s.Hd);
        memcpy(dh, dhp, bh * 4);
        memcpy(dc, dcp, bh * 4);
    }
    memcpy(dh0, dh, bh * 4);
    memcpy(dc0, dc, bh * 4);
    char what[64];
#define LSTM_FD(name, buf, grad, n)                                        \
    snprintf(what, sizeof what, "lstm T=%d %s", T, name);                  \
    fd_check(what, buf, grad, n, lstm_loss, &s, 1e-3f, 2e-4, 3e-3)
    LSTM_FD("dx", s.x, dx, nx);
    LSTM_FD("dh0", s.h0, dh0, bh);
    LSTM_FD("dc0", s.c0, dc0, bh);
    LSTM_FD("dWx", s.Wx, dWx, G * s.I);
    LSTM_FD("dWh", s.Wh, dWh, G * s.Hd);
    LSTM_FD("db", s.b, db, G);
#undef LSTM_FD
    /* h_prev = c_prev = NULL is the same as zeros */
    float *z = fnew(bh), *h1 = fnew(bh), *c1 = fnew(bh), *g1 = fnew(4 * bh), *t1 = fnew(bh);
    gl_lstm_forward(h1, c1, g1, t1, s.x, NULL, NULL, s.Wx, s.Wh, s.b, s.B, s.I, s.Hd);
    gl_lstm_forward(s.h, s.c, s.gates, s.tc, s.x, z, z, s.Wx, s.Wh, s.b, s.B, s.I, s.Hd);
    expect_close("lstm NULL state == zero state", h1, s.h, bh, 1e-7, 1e-6);
    free(z); free(h1); free(c1); free(g1); free(t1);
    free(s.x); free(s.h0); free(s.c0); free(s.Wx); free(s.Wh); free(s.b); free(s.Rh); free(s.Rc);
    free(s.h); free(s.c); free(s.gates); free(s.tc);
    free(dx); free(dh0); free(dc0); free(dWx); free(dWh); free(db); free(dh); free(dc); free(dhp); free(dcp); free(dg);
}

/* ---------------------------------------------------------------------------------------- */
/* 3. PyTorch fixtures */

static void test_fixtures(void) {
    { /* conv2d */
        int N = FX_conv_N, C = FX_conv_C, H = FX_conv_H, W = FX_conv_W, O = FX_conv_O, K = FX_conv_K;
        size_t no = sizeof fx_conv_out / 4;
        float *out = fnew(no), *col = fnew(gl_conv2d_col_size(N, C, H, W, O, K));
        float *dx = fnew(sizeof fx_conv_x / 4), *dw = fnew(sizeof fx_conv_w / 4), *db = fnew(O);
        gl_conv2d_forward(out, col, fx_conv_x, fx_conv_w, fx_conv_b, N, C, H, W, O, K);
        gl_conv2d_backward(dx, dw, db, col, fx_conv_dout, fx_conv_x, fx_conv_w, N, C, H, W, O, K);
        expect_close("torch conv2d out", out, fx_conv_out, no, 1e-5, 1e-4);
        expect_close("torch conv2d dx", dx, fx_conv_dx, sizeof fx_conv_dx / 4, 1e-5, 1e-4);
        expect_close("torch conv2d dw", dw, fx_conv_dw, sizeof fx_conv_dw / 4, 1e-5, 1e-4);
        expect_close("torch conv2d db", db, fx_conv_db, O, 1e-5, 1e-4);
        free(out); free(col); free(dx); free(dw); free(db);
    }
    { /* linear */
        int B = FX_lin_B, I = FX_lin_I, O = FX_lin_O;
        float *out = fnew((size_t)B * O), *dx = fnew((size_t)B * I), *dw = fnew((size_t)O * I), *db = fnew(O);
        gl_linear_forward(out, fx_lin_x, fx_lin_w, fx_lin_b, B, I, O);
        gl_linear_backward(dx, dw, db, fx_lin_dout, fx_lin_x, fx_lin_w, B, I, O);
        expect_close("torch linear out", out, fx_lin_out, (size_t)B * O, 1e-6, 1e-5);
        expect_close("torch linear dx", dx, fx_lin_dx, (size_t)B * I, 1e-6, 1e-5);
        expect_close("torch linear dw", dw, fx_lin_dw, (size_t)O * I, 1e-6, 1e-5);
        expect_close("torch linear db", db, fx_lin_db, O, 1e-6, 1e-5);
        free(out); free(dx); free(dw); free(db);
    }
    { /* maxpool */
        int N = FX_pool_N, C = FX_pool_C, H = FX_pool_H, W = FX_pool_W;
        size_t no = sizeof fx_pool_out / 4;
        float *out = fnew(no), *dx = fnew(sizeof fx_pool_x / 4);
        int32_t *idx = calloc(no, sizeof(int32_t));
        gl_maxpool2_forward(out, idx, fx_pool_x, N, C, H, W);
        gl_maxpool2_backward(dx, fx_pool_dout, idx, N, C, H, W);
        expect_close("torch maxpool out", out, fx_pool_out, no, 0, 0);
        int same = 1;
        for (size_t i = 0; i < no; i++) same &= idx[i] == fx_pool_idx[i];
        CHECK(same, "torch maxpool indices differ");
        expect_close("torch maxpool dx", dx, fx_pool_dx, sizeof fx_pool_dx / 4, 0, 0);
        free(out); free(dx); free(idx);
    }
    { /* cross-entropy */
        int B = FX_xent_B, C = FX_xent_C;
        float *dz = fnew((size_t)B * C), *logp = fnew((size_t)B * C);
        float loss = (float)(gl_softmax_xent(dz, logp, NULL, fx_xent_logits, fx_xent_labels, B, C, 1.0f / (float)B) / B);
        CHECK(fabsf(loss - fx_xent_loss[0]) <= 1e-5f * (1 + fabsf(fx_xent_loss[0])), "torch xent loss %.8g want %.8g",
              loss, fx_xent_loss[0]);
        expect_close("torch log_softmax", logp, fx_xent_logp, (size_t)B * C, 1e-6, 1e-5);
        expect_close("torch xent dlogits", dz, fx_xent_dlogits, (size_t)B * C, 1e-7, 1e-5);
        free(dz); free(logp);
    }
    { /* LSTMCell */
        int B = FX_lstm_B, I = FX_lstm_I, Hd = FX_lstm_H;
        size_t bh = (size_t)B * Hd, G = 4 * (size_t)Hd;
        float *h = fnew(bh), *c = fnew(bh), *g = fnew(B * G), *tc = fnew(bh), *dg = fnew(B * G);
        float *dx = fnew((size_t)B * I), *dh0 = fnew(bh), *dc0 = fnew(bh), *dWx = fnew(G * I), *dWh = fnew(G * Hd),
              *db = fnew(G);
        gl_lstm_forward(h, c, g, tc, fx_lstm_x, fx_lstm_h0, fx_lstm_c0, fx_lstm_Wih, fx_lstm_Whh, fx_lstm_b, B, I, Hd);
        gl_lstm_backward(dx, dh0, dc0, dWx, dWh, db, dg, fx_lstm_Rh, fx_lstm_Rc, g, tc, fx_lstm_x, fx_lstm_h0,
                         fx_lstm_c0, fx_lstm_Wih, fx_lstm_Whh, B, I, Hd);
        expect_close("torch lstm h1", h, fx_lstm_h1, bh, 1e-6, 1e-5);
        expect_close("torch lstm c1", c, fx_lstm_c1, bh, 1e-6, 1e-5);
        expect_close("torch lstm dx", dx, fx_lstm_dx, (size_t)B * I, 1e-6, 1e-5);
        expect_close("torch lstm dh0", dh0, fx_lstm_dh0, bh, 1e-6, 1e-5);
        expect_close("torch lstm dc0", dc0, fx_lstm_dc0, bh, 1e-6, 1e-5);
        expect_close("torch lstm dWih", dWx, fx_lstm_dWih, G * I, 1e-6, 1e-5);
        expect_close("torch lstm dWhh", dWh, fx_lstm_dWhh, G * Hd, 1e-6, 1e-5);
        expect_close("torch lstm db", db, fx_lstm_db, G, 1e-6, 1e-5);
        free(h); free(c); free(g); free(tc); free(dg); free(dx); free(dh0); free(dc0); free(dWx); free(dWh); free(db);
    }
    { /* BCE with logits */
        size_t n = FX_bce_n;
        float *dz = fnew(n);
        double loss = gl_bce_logits(dz, fx_bce_z, fx_bce_t, n, 1.0f);
        CHECK(fabs(loss - fx_bce_loss[0]) <= 1e-5 * (1 + fabs(fx_bce_loss[0])), "torch bce loss %.8g want %.8g", loss,
              fx_bce_loss[0]);
        expect_close("torch bce dz", dz, fx_bce_dz, n, 1e-7, 1e-5);
        free(dz);
    }
    { /* Adam, SGD: two steps each */
        size_t n = FX_opt_n;
        float *p = fnew(n), *m = fnew(n), *v = fnew(n);
        memcpy(p, fx_adam_p0, n * 4);
        gl_adam_step(p, m, v, fx_adam_g1, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
        expect_close("torch adam step 1", p, fx_adam_p1, n, 1e-7, 1e-6);
        gl_adam_step(p, m, v, fx_adam_g2, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 2);
        expect_close("torch adam step 2", p, fx_adam_p2, n, 1e-7, 1e-6);
        memcpy(p, fx_sgd_p0, n * 4);
        memset(v, 0, n * 4);
        gl_sgd_step(p, v, fx_sgd_g1, n, 0.05f, 0.9f, 0.01f);
        expect_close("torch sgd step 1", p, fx_sgd_p1, n, 1e-7, 1e-6);
        gl_sgd_step(p, v, fx_sgd_g2, n, 0.05f, 0.9f, 0.01f);
        expect_close("torch sgd step 2", p, fx_sgd_p2, n, 1e-7, 1e-6);
        /* clipping */
        memcpy(p, fx_clip1_g, n * 4);
        float norm = gl_clip_grad_norm(p, n, fx_clip1_max[0]);
        CHECK(fabsf(norm - fx_clip1_norm[0]) < 1e-6f * (1 + norm), "torch clip norm %.8g want %.8g", norm, fx_clip1_norm[0]);
        expect_close("torch clip (clipped)", p, fx_clip1_out, n, 1e-7, 1e-6);
        memcpy(p, fx_clip2_g, n * 4);
        norm = gl_clip_grad_norm(p, n, fx_clip2_max[0]);
        CHECK(fabsf(norm - fx_clip2_norm[0]) < 1e-6f * (1 + norm), "torch clip norm %.8g want %.8g", norm, fx_clip2_norm[0]);
        expect_close("torch clip (not clipped)", p, fx_clip2_out, n, 0, 0);
        free(p); free(m); free(v);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* 4. Optimisers by hand, RNG, arena, init */

static void test_optim_by_hand(void) {
    /* Adam t = 1: m = (1-b1) g, v = (1-b2) g^2, mhat = g, vhat = g^2: p -= lr g / (|g| + eps) */
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.5f, -0.25f, 0.0f}, m[3] = {0}, v[3] = {0};
    gl_adam_step(p, m, v, g, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 1);
    double want0 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), want1 = -2.0 + 0.1 * 0.25 / (0.25 + 1e-8);
    CHECK(fabs(p[0] - want0) < 1e-6 && fabs(p[1] - want1) < 1e-6 && p[2] == 0.5f, "adam by hand: %g %g %g", p[0], p[1],
          p[2]);
    CHECK(fabsf(m[0] - 0.05f) < 1e-7f && fabsf(v[0] - 0.00025f) < 1e-4f * 0.00025f, "adam moments by hand: m %g v %g", m[0], v[0]);
    /* Adam t = 2 with the same gradient: m = 0.19 g... mhat = g, vhat = g^2 again: same step */
    gl_adam_step(p, m, v, g, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 2);
    CHECK(fabs(p[0] - (want0 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-6, "adam step 2 by hand: %g", p[0]);
    /* SGD momentum 0.9, lr 0.1, wd 0.1: step 1 v = g + wd p, step 2 v = 0.9 v + g + wd p */
    float q[1] = {2.0f}, vel[1] = {0}, gr[1] = {1.0f};
    gl_sgd_step(q, vel, gr, 1, 0.1f, 0.9f, 0.1f);
    double v1 = 1.0 + 0.1 * 2.0, q1 = 2.0 - 0.1 * v1;
    CHECK(fabs(q[0] - q1) < 1e-6, "sgd step 1 by hand: %g want %g", q[0], q1);
    gl_sgd_step(q, vel, gr, 1, 0.1f, 0.9f, 0.1f);
    double v2 = 0.9 * v1 + 1.0 + 0.1 * q1, q2 = q1 - 0.1 * v2;
    CHECK(fabs(q[0] - q2) < 1e-6, "sgd step 2 by hand: %g want %g", q[0], q2);
    gl_sgd_step(q, NULL, gr, 1, 0.1f, 0.0f, 0.0f); /* plain SGD, no velocity */
    CHECK(fabs(q[0] - (q2 - 0.1)) < 1e-6, "plain sgd by hand: %g", q[0]);
    /* clipping by hand: (3, 4) has norm 5 */
    float c[2] = {3.0f, 4.0f};
    float norm = gl_clip_grad_norm(c, 2, 1.0f);
    CHECK(norm == 5.0f && fabsf(c[0] - 0.6f) < 1e-6f && fabsf(c[1] - 0.8f) < 1e-6f, "clip by hand: %g (%g %g)", norm,
          c[0], c[1]);
}

static void test_rng_arena_init(void) {
    gl_rng a, b;
    gl_rng_seed(&a, 42, 54);
    gl_rng_seed(&b, 42, 54);
    /* PCG32 reference output for seed 42, stream 54 (pcg32-demo from the PCG paper's site) */
    static const uint32_t want[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e};
    int ok = 1;
    for (int i = 0; i < 6; i++) ok &= gl_rng_u32(&a) == want[i];
    CHECK(ok, "pcg32 does not reproduce the reference sequence");
    for (int i = 0; i < 6; i++) gl_rng_u32(&b);
    CHECK(gl_rng_u32(&a) == gl_rng_u32(&b), "same seed, same sequence");
    double s = 0, s2 = 0, u = 0;
    int n = 20000, inrange = 1;
    for (int i = 0; i < n; i++) {
        float z = gl_rng_normal(&a);
        s += z; s2 += (double)z * z;
        float x = gl_rng_uniform(&a);
        inrange &= x >= 0.0f && x < 1.0f;
        u += x;
        inrange &= gl_rng_below(&a, 7) < 7u;
    }
    CHECK(inrange, "uniform / below out of range");
    CHECK(fabs(s / n) < 0.03 && fabs(s2 / n - 1) < 0.05, "normal mean %g var %g", s / n, s2 / n);
    CHECK(fabs(u / n - 0.5) < 0.01, "uniform mean %g", u / n);

    gl_arena ar;
    size_t sizes[3] = {5, 8, 1};
    float *ptrs[3];
    CHECK(gl_arena_layout(&ar, ptrs, sizes, 3) == GL_OK, "arena layout");
    CHECK(ptrs[1] - ptrs[0] == 8 && ptrs[2] - ptrs[1] == 8 && ar.used == 20 && ar.cap == 20, "arena offsets");
    CHECK(((uintptr_t)ptrs[0] & 15u) == 0 && ((uintptr_t)ptrs[2] & 15u) == 0, "arena alignment");
    CHECK(ptrs[0][4] == 0.0f && ptrs[2][3] == 0.0f, "arena zero-filled");
    CHECK(gl_arena_take(&ar, 1) == NULL, "arena take beyond cap must fail");
    ptrs[0][0] = 1.0f;
    gl_arena_zero(&ar);
    CHECK(ptrs[0][0] == 0.0f, "arena zero");
    gl_arena_free(&ar);
    gl_arena_free(&ar); /* idempotent */
    CHECK(ar.base == NULL && gl_arena_take(&ar, 1) == NULL, "freed arena");
    CHECK(gl_arena_init(&ar, GL_MAX_FLOATS + 1) == GL_ENOMEM, "arena over the limit");
    gl_arena_free(&ar);

    gl_rng r;
    gl_rng_seed(&r, 1, 0);
    float w[1000];
    gl_init_uniform(w, 1000, gl_fan_in_bound(25), &r);
    float lo = 1, hi = -1;
    for (int i = 0; i < 1000; i++) { lo = w[i] < lo ? w[i] : lo; hi = w[i] > hi ? w[i] : hi; }
    CHECK(lo >= -0.2f && hi < 0.2f && lo < -0.19f && hi > 0.19f, "init uniform range [%g, %g] for bound 0.2", lo, hi);
}

int main(void) {
    printf("layers tests, SIMD branch: %s\n", GL_SIMD_NAME);
    test_gemm();
    test_linear_grad();
    test_conv_grad(2, 2, 7, 6, 3, 3);
    test_conv_grad(1, 1, 9, 9, 5, 5);
    test_conv_grad(2, 3, 6, 11, 4, 2);
    test_conv_grad(7, 1, 12, 12, 2, 3);  /* items grouped 5 + 2 */
    test_conv_grad(3, 1, 20, 18, 2, 3);  /* P = 288: one item at a time */
    test_conv_grad(3, 2, 6, 5, 2, 3);    /* Wo = 3 < 4: exact row copies */
    test_conv_grad(2, 2, 5, 9, 3, 2);    /* Wo = 8, Ho = 4 */
    test_pool_grad();
    test_act_grad();
    test_dropout();
    test_xent_grad();
    test_bce_grad();
    test_lstm_grad(1);
    test_lstm_grad(3);
    test_fixtures();
    test_optim_by_hand();
    test_rng_arena_init();
    printf("%s: %d failure(s)\n", test_failures ? "FAILED" : "ok", test_failures);
    return test_failures;
}
