/* fuzz_shapes.c: libFuzzer target for the kernels' shape handling: gl_affine_grid*, gl_grid_sample*
 * (+ _ref, _set; every mode: bilinear, nearest, bicubic, and invalid ones), gl_draw_* (decode, filterbank, read, write and their backward, + _ref), gl_ntm_*
 * (address, read, write and their backward, + _ref) and gl_distort_batch.
 *
 * Input: byte 0 picks the kernel family, byte 1 holds flags, then the sizes (one byte each,
 * decoded by dim(): mostly -1..10, with rare byte values meaning 0, -1, INT_MIN, INT_MAX, 2^14,
 * 2^16, 46341 and 2^28), then the bytes the buffers are filled from ("tame" values in [-1.5, 1.5]
 * or, with flag bit 0, raw float bits: NaN, Inf, denormals, huge).
 * Every buffer is allocated to exactly the floats the sizes imply (malloc(0) when a size is not
 * positive), so ASan reports any access outside them. Checks:
 *   - a non-positive size, a bad mode / padding / kind, or a tensor over GL_MAX_FLOATS returns an error
 *     code (and, since the buffers then hold nothing, must not touch them)
 *   - valid sizes whose buffers fit the fuzzing budget run, and return GL_OK unless the values are
 *     outside the kernel's documented domain (DRAW params), in which case GL_EINVAL
 * Valid sizes too big for the budget (but under the limit) are skipped.
 * Build and run: scripts/fuzz.sh.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glimpse.h"
#include "stn.h"
#include "draw.h"
#include "distort.h"
#include "ntm.h"

/* src/stn.c */
/* src/draw.c */
typedef int (*draw_read_fn)(float *, const float *, const float *, const float *, const float *, const float *, int,
                            int, int, int);
typedef int (*draw_read_bwd_fn)(float *, float *, float *, float *, float *, const float *, const float *,
                                const float *, const float *, const float *, const float *, int, int, int, int);
typedef int (*draw_write_fn)(float *, const float *, const float *, const float *, const float *, int, int, int, int);
typedef int (*draw_write_bwd_fn)(float *, float *, float *, float *, const float *, const float *, const float *,
                                 const float *, const float *, int, int, int, int);
/* src/distort.c */

#define BUDGET ((size_t)1 << 16) /* floats allocated per call at most, all buffers together */
#define OVER ((size_t)-1)        /* a count over GL_MAX_FLOATS */
#define MAX_RUN_DIM 512          /* largest single size of a call that runs */

typedef struct {
    const uint8_t *p;
    size_t n, i;
    int raw;
    int maxdim; /* largest size decoded so far */
} reader;

static uint8_t next(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }

static int dim_(reader *r);
static int dim(reader *r) {
    int d = dim_(r);
    if (d > r->maxdim) r->maxdim = d;
    return d;
}
static int dim_(reader *r) {
    uint8_t b = next(r);
    switch (b) {
    case 0xF0: return 0;
    case 0xF1: return -1;
    case 0xF2: return INT_MIN;
    case 0xF3: return INT_MAX;
    case 0xF4: return 1 << 14;
    case 0xF5: return 1 << 16;
    case 0xF6: return 46341; /* its square overflows int32 */
    case 0xF7: return 1 << 28;
    default: return (int)(b % 12) - 1;
    }
}

/* Product of dims as a count of floats: 0 when one is not positive, OVER above GL_MAX_FLOATS. */
static size_t count(int n, const long long *d) {
    unsigned __int128 p = 1;
    for (int i = 0; i < n; i++) {
        if (d[i] <= 0) return 0;
        p *= (unsigned long long)d[i];
        if (p > GL_MAX_FLOATS) return OVER;
    }
    return (size_t)p;
}
#define CNT(...) count(sizeof((long long[]){__VA_ARGS__}) / sizeof(long long), (long long[]){__VA_ARGS__})

static void die(const char *what, int rc) {
    fprintf(stderr, "fuzz_shapes: %s (rc %d, last error: %s)\n", what, rc, gl_last_error());
    abort();
}

/* A plan: the tensors of one call. ok: every size positive and no tensor over the limit. */
typedef struct {
    size_t n[16];
    int k, bad, over;
    size_t total;
} plan;

static void add(plan *p, size_t n) {
    p->n[p->k++] = n;
    if (n == 0) p->bad = 1;
    else if (n == OVER) p->over = 1;
    else p->total += n;
}

/* Decide: 1 run with exact buffers, 0 run with empty buffers (must fail), -1 skip (valid but over
 * the fuzzing budget: too many floats, or a size so large the loops would take seconds). */
static reader *cur;
static int decide(const plan *p, int enum_bad) {
    if (p->bad || p->over || enum_bad) return 0;
    return p->total <= BUDGET && cur->maxdim <= MAX_RUN_DIM ? 1 : -1;
}

static float *alloc(reader *r, size_t n, int real) {
    if (!real || n == 0 || n == OVER) return malloc(0);
    float *a = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        if (r->raw) {
            uint32_t u = (uint32_t)next(r) | (uint32_t)next(r) << 8 | (uint32_t)next(r) << 16 | (uint32_t)next(r) << 24;
            memcpy(&a[i], &u, 4);
        } else {
            a[i] = ((float)next(r) - 128.0f) / 85.0f;
        }
    }
    return a;
}

#define EXPECT(rc, run, what)                                          \
    do {                                                               \
        if ((run) == 0 && (rc) == GL_OK) die(what ": bad sizes accepted", rc); \
        if ((rc) < 0 || (rc) > GL_ESTATE) die(what ": unknown return code", rc); \
    } while (0)
#define EXPECT_OK(rc, run, what)                                                 \
    do {                                                                         \
        EXPECT(rc, run, what);                                                   \
        if ((run) == 1 && (rc) != GL_OK) die(what ": valid sizes refused", rc);  \
    } while (0)

static void fuzz_affine(reader *r) {
    int N = dim(r), H = dim(r), W = dim(r), align = next(r) & 1;
    plan p = {0};
    add(&p, CNT(N, 6));
    add(&p, CNT(N, H, W, 2));
    int run = decide(&p, 0);
    if (run < 0) return;
    float *theta = alloc(r, p.n[0], run), *grid = alloc(r, p.n[1], run);
    EXPECT_OK(gl_affine_grid(grid, theta, N, H, W, align), run, "affine_grid");
    EXPECT_OK(gl_affine_grid_backward(theta, grid, N, H, W, align), run, "affine_grid_backward");
    free(theta);
    free(grid);
}

static void fuzz_sample(reader *r, int backward) {
    int N = dim(r), C = dim(r), H = dim(r), W = dim(r), Ho = dim(r), Wo = dim(r);
    uint8_t f = next(r);
    int pad = (int)(f % 5) - 1, align = (f >> 3) & 1, no_dinp = (f >> 4) & 1;
    int mode = (int)((f >> 5) % 5) - 1; /* -1..3: 0 bilinear, 1 nearest, 2 bicubic valid */
    plan p = {0};
    add(&p, CNT(N, C, H, W));   /* input (and dinput) */
    add(&p, CNT(N, Ho, Wo, 2)); /* grid (and dgrid) */
    add(&p, CNT(N, C, Ho, Wo)); /* output (and doutput) */
    if (!p.bad && !p.over) p.total *= 2;
    int run = decide(&p, pad < 0 || pad > 2 || mode < 0 || mode > 2);
    if (run < 0) return;
    float *inp = alloc(r, p.n[0], run), *grid = alloc(r, p.n[1], run), *out = alloc(r, p.n[2], run);
    if (!backward) {
        EXPECT_OK(gl_grid_sample(out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align), run, "grid_sample");
        EXPECT_OK(gl_grid_sample_ref(out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align), run, "grid_sample_ref");
    } else {
        float *dinp = no_dinp ? NULL : alloc(r, p.n[0], run), *dgrid = alloc(r, p.n[1], run);
        EXPECT_OK(gl_grid_sample_backward(dinp, dgrid, out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align), run,
                  "grid_sample_backward");
        EXPECT_OK(gl_grid_sample_backward_ref(dinp, dgrid, out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align), run,
                  "grid_sample_backward_ref");
        EXPECT_OK(gl_grid_sample_backward_set(dinp, dgrid, out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align), run,
                  "grid_sample_backward_set");
        free(dinp);
        free(dgrid);
    }
    free(inp);
    free(grid);
    free(out);
}

/* DRAW: params (batch, 5) are drawn tame so most calls pass the domain check. */
static void fuzz_draw(reader *r, int which) {
    int batch = dim(r), N = dim(r), A = dim(r), B = dim(r), use_ref = next(r) & 1;
    plan p = {0};
    add(&p, CNT(batch, 5));        /* 0 params, dparams, decoded */
    add(&p, CNT(batch, N, A));     /* 1 Fx, dFx */
    add(&p, CNT(batch, N, B));     /* 2 Fy, dFy */
    add(&p, CNT(batch));           /* 3 gamma, dgamma */
    add(&p, CNT(batch, B, A));     /* 4 image: x, xhat, dx, dxhat / canvas, dcanvas */
    add(&p, CNT(batch, 2, N, N));  /* 5 read output, dread */
    add(&p, CNT(batch, N, N));     /* 6 w, dw */
    if (!p.bad && !p.over) p.total *= 4;
    int run = decide(&p, 0);
    if (run < 0) return;
    float *params = alloc(r, p.n[0], run), *dparams = alloc(r, p.n[0], run);
    float *Fx = alloc(r, p.n[1], run), *Fy = alloc(r, p.n[2], run), *gamma = alloc(r, p.n[3], run);
    float *dFx = alloc(r, p.n[1], run), *dFy = alloc(r, p.n[2], run), *dgamma = alloc(r, p.n[3], run);
    int rc = gl_draw_filterbank(Fx, Fy, gamma, params, batch, N, A, B);
    EXPECT(rc, run, "draw_filterbank");
    int domain_ok = rc == GL_OK;
    if (run == 1 && rc != GL_OK && rc != GL_EINVAL) die("draw_filterbank: unexpected code", rc);
    rc = gl_draw_decode(dparams, params, batch, N, A, B);
    EXPECT(rc, run, "draw_decode");
    if (run == 1 && (rc == GL_OK) != domain_ok) die("draw_decode and draw_filterbank disagree on the domain", rc);
    rc = gl_draw_filterbank_backward(dparams, dFx, dFy, dgamma, params, batch, N, A, B);
    EXPECT(rc, run, "draw_filterbank_backward");
    if (run == 1 && (rc == GL_OK) != domain_ok) die("draw_filterbank_backward and draw_filterbank disagree", rc);
    if (which == 0) {
        float *x = alloc(r, p.n[4], run), *xh = alloc(r, p.n[4], run), *o = alloc(r, p.n[5], run);
        float *dx = alloc(r, p.n[4], run), *dxh = alloc(r, p.n[4], run);
        draw_read_fn rd = use_ref ? gl_draw_read_ref : gl_draw_read;
        draw_read_bwd_fn rb = use_ref ? gl_draw_read_backward_ref : gl_draw_read_backward;
        EXPECT_OK(rd(o, x, xh, Fx, Fy, gamma, batch, N, A, B), run, "draw_read");
        EXPECT_OK(rb(dx, dxh, dFx, dFy, dgamma, o, x, xh, Fx, Fy, gamma, batch, N, A, B), run, "draw_read_backward");
        free(x); free(xh); free(o); free(dx); free(dxh);
    } else {
        float *w = alloc(r, p.n[6], run), *c = alloc(r, p.n[4], run), *dw = alloc(r, p.n[6], run);
        draw_write_fn wr = use_ref ? gl_draw_write_ref : gl_draw_write;
        draw_write_bwd_fn wb = use_ref ? gl_draw_write_backward_ref : gl_draw_write_backward;
        EXPECT_OK(wr(c, w, Fx, Fy, gamma, batch, N, A, B), run, "draw_write");
        EXPECT_OK(wb(dw, dFx, dFy, dgamma, c, w, Fx, Fy, gamma, batch, N, A, B), run, "draw_write_backward");
        free(w); free(c); free(dw);
    }
    free(params); free(dparams); free(Fx); free(Fy); free(gamma); free(dFx); free(dFy); free(dgamma);
}

static void fuzz_ntm_address(reader *r) {
    int B = dim(r), H = dim(r), R = dim(r), C = dim(r), S = dim(r), use_ref = next(r) & 1;
    plan p = {0};
    add(&p, CNT(B, R, C));    /* 0 M, dM */
    add(&p, CNT(B, H, C));    /* 1 k, dk */
    add(&p, CNT(B, H));       /* 2 beta, g, gamma and their gradients */
    add(&p, CNT(B, H, S));    /* 3 s, ds */
    add(&p, CNT(B, H, R));    /* 4 prev, dprev, w, dw */
    add(&p, R > 0 && R < (1 << 28) ? CNT(B, H, (long long)GL_NTM_CACHE_FLOATS(R)) : (R > 0 ? OVER : 0)); /* 5 cache */
    if (!p.bad && !p.over) p.total *= 4;
    int run = decide(&p, S > 0 && S % 2 == 0);
    if (run < 0) return;
    float *M = alloc(r, p.n[0], run), *k = alloc(r, p.n[1], run), *beta = alloc(r, p.n[2], run);
    float *g = alloc(r, p.n[2], run), *gam = alloc(r, p.n[2], run), *s = alloc(r, p.n[3], run);
    float *prev = alloc(r, p.n[4], run), *w = alloc(r, p.n[4], run), *cache = alloc(r, p.n[5], run);
    float *dM = alloc(r, p.n[0], run), *dk = alloc(r, p.n[1], run), *db = alloc(r, p.n[2], run);
    float *dg = alloc(r, p.n[2], run), *dgam = alloc(r, p.n[2], run), *ds = alloc(r, p.n[3], run);
    float *dprev = alloc(r, p.n[4], run), *dw = alloc(r, p.n[4], run);
    int (*fwd)(float *, float *, const float *, const float *, const float *, const float *, const float *,
               const float *, const float *, int, int, int, int, int) =
        use_ref ? gl_ntm_address_forward_ref : gl_ntm_address_forward;
    int (*bwd)(float *, float *, float *, float *, float *, float *, float *, const float *, const float *,
               const float *, const float *, const float *, const float *, const float *, const float *,
               const float *, int, int, int, int, int) =
        use_ref ? gl_ntm_address_backward_ref : gl_ntm_address_backward;
    EXPECT_OK(fwd(w, cache, M, k, beta, g, s, gam, prev, B, H, R, C, S), run, "ntm_address_forward");
    EXPECT_OK(fwd(w, NULL, M, k, beta, g, s, gam, prev, B, H, R, C, S), run, "ntm_address_forward (no cache)");
    EXPECT_OK(bwd(dM, dk, db, dg, ds, dgam, dprev, dw, cache, M, k, beta, g, s, gam, prev, B, H, R, C, S), run,
              "ntm_address_backward");
    free(M); free(k); free(beta); free(g); free(gam); free(s); free(prev); free(w); free(cache);
    free(dM); free(dk); free(db); free(dg); free(dgam); free(ds); free(dprev); free(dw);
}

/* Read (needs H) and write (one head per call, no H) have different size sets: two plans. */
static void fuzz_ntm_rw(reader *r) {
    int B = dim(r), H = dim(r), R = dim(r), C = dim(r), use_ref = next(r) & 1;
    plan p = {0};
    add(&p, CNT(B, R, C)); /* 0 M, dM */
    add(&p, CNT(B, H, R)); /* 1 w, dw */
    add(&p, CNT(B, H, C)); /* 2 r, dr */
    if (!p.bad && !p.over) p.total *= 2;
    int run = decide(&p, 0);
    if (run >= 0) {
        float *M = alloc(r, p.n[0], run), *dM = alloc(r, p.n[0], run);
        float *w = alloc(r, p.n[1], run), *dw = alloc(r, p.n[1], run), *rv = alloc(r, p.n[2], run);
        if (use_ref) {
            EXPECT_OK(gl_ntm_read_forward_ref(rv, M, w, B, H, R, C), run, "ntm_read_forward_ref");
            EXPECT_OK(gl_ntm_read_backward_ref(dM, dw, rv, M, w, B, H, R, C), run, "ntm_read_backward_ref");
        } else {
            EXPECT_OK(gl_ntm_read_forward(rv, M, w, B, H, R, C), run, "ntm_read_forward");
            EXPECT_OK(gl_ntm_read_backward(dM, dw, rv, M, w, B, H, R, C), run, "ntm_read_backward");
        }
        free(M); free(dM); free(w); free(dw); free(rv);
    }
    plan q = {0};
    add(&q, CNT(B, R, C)); /* 0 M, dM, Mout */
    add(&q, CNT(B, R));    /* 1 w, dw */
    add(&q, CNT(B, C));    /* 2 e, a, de, da */
    if (!q.bad && !q.over) q.total *= 4;
    run = decide(&q, 0);
    if (run < 0) return;
    float *M = alloc(r, q.n[0], run), *dM = alloc(r, q.n[0], run), *Mo = alloc(r, q.n[0], run);
    float *w = alloc(r, q.n[1], run), *dw = alloc(r, q.n[1], run);
    float *e = alloc(r, q.n[2], run), *a = alloc(r, q.n[2], run), *de = alloc(r, q.n[2], run), *da = alloc(r, q.n[2], run);
    if (use_ref) {
        EXPECT_OK(gl_ntm_write_forward_ref(Mo, M, w, e, a, B, R, C), run, "ntm_write_forward_ref");
        EXPECT_OK(gl_ntm_write_backward_ref(dM, dw, de, da, Mo, M, w, e, a, B, R, C), run, "ntm_write_backward_ref");
    } else {
        EXPECT_OK(gl_ntm_write_forward(Mo, M, w, e, a, B, R, C), run, "ntm_write_forward");
        EXPECT_OK(gl_ntm_write_forward(M, M, w, e, a, B, R, C), run, "ntm_write_forward (in place)");
        EXPECT_OK(gl_ntm_write_backward(dM, dw, de, da, Mo, M, w, e, a, B, R, C), run, "ntm_write_backward");
    }
    free(M); free(dM); free(Mo); free(w); free(dw); free(e); free(a); free(de); free(da);
}

static void fuzz_distort(reader *r) {
    int B = dim(r), P = dim(r);
    uint8_t f = next(r);
    int kind = (int)(f % 7) - 1; /* -1..5; 0..4 valid */
    uint32_t seed = (uint32_t)next(r) | (uint32_t)next(r) << 8;
    static const int side[5] = {28, 42, 28, 28, 60};
    int kind_bad = kind < 0 || kind > 4;
    plan p = {0};
    add(&p, CNT(B, 28, 28));                               /* 0 src */
    add(&p, kind_bad ? CNT(B) : CNT(B, side[kind], side[kind])); /* 1 out */
    size_t pool = P > 0 ? CNT(P, 28, 28) : 0;
    if (pool == OVER) p.over = 1;
    else p.total += pool;
    int run = decide(&p, kind_bad || P < 0);
    if (run < 0) return;
    float *src = alloc(r, p.n[0], run), *out = alloc(r, p.n[1], run);
    float *pl = P > 0 ? alloc(r, pool, run) : NULL;
    EXPECT_OK(gl_distort_batch(out, src, pl, P, B, kind, seed), run, "distort_batch");
    free(src); free(out); free(pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    reader r = {data, size, 2, data[1] & 1, 0};
    cur = &r;
    switch (data[0] % 9) {
    case 0: fuzz_affine(&r); break;
    case 1: fuzz_sample(&r, 0); break;
    case 2: fuzz_sample(&r, 1); break;
    case 3: fuzz_draw(&r, 0); break;
    case 4: fuzz_draw(&r, 1); break;
    case 5: fuzz_ntm_address(&r); break;
    case 6: fuzz_ntm_rw(&r); break;
    case 7: fuzz_distort(&r); break;
    default: fuzz_affine(&r); fuzz_ntm_rw(&r); break;
    }
    return 0;
}
