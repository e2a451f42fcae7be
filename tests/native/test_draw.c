/* test_draw.c: the DRAW attention kernels (src/draw.c), natively.
 *   - fast SIMD read/write and their backward passes against the scalar _ref oracle, on sizes
 *     with and without vector tails, including A != B and N = 1; backward accumulates (+=);
 *   - the filterbank's geometry (1-based indices: the middle filter of odd N at g~X = 0 is
 *     centred on (A+1)/2), the filterbank backward against central differences;
 *   - argument errors.
 * Exit status: the number of failures. */
#include "common.h"
#include "glimpse.h"
#include "draw.h"

#include <string.h>


static float *fa(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void random_params(test_rng *r, float *p, int batch) {
    for (int n = 0; n < batch; n++) {
        p[5 * n + 0] = rng_uniform(r, -0.8f, 0.8f);
        p[5 * n + 1] = rng_uniform(r, -0.8f, 0.8f);
        p[5 * n + 2] = rng_uniform(r, -1.0f, 1.5f);
        p[5 * n + 3] = rng_uniform(r, -1.5f, 0.3f);
        p[5 * n + 4] = rng_uniform(r, -1.0f, 1.0f);
    }
}

#define CLOSE(name, a, b, n, atol, rtol)                                                                      \
    do {                                                                                                     \
        size_t at_ = 0;                                                                                      \
        double e_ = max_rel_err(a, b, n, atol, rtol, &at_);                                                  \
        CHECK(e_ <= 1.0, "%s (batch=%d N=%d A=%d B=%d): err ratio %g at [%zu]: %g vs %g", name, batch, N, A, B, \
              e_, at_, (double)(a)[at_], (double)(b)[at_]);                                                  \
    } while (0)

static void fast_vs_ref(int batch, int N, int A, int B, unsigned seed) {
    test_rng r = {seed};
    size_t nX = (size_t)batch * B * A, nFx = (size_t)batch * N * A, nFy = (size_t)batch * N * B;
    size_t nR = (size_t)batch * 2 * N * N, nW = (size_t)batch * N * N;
    float *p = fa(5 * batch), *Fx = fa(nFx), *Fy = fa(nFy), *g = fa(batch);
    float *x = fa(nX), *xh = fa(nX), *dR = fa(nR), *w = fa(nW), *dC = fa(nX);
    random_params(&r, p, batch);
    fill_uniform(&r, x, nX, 0, 1);
    fill_uniform(&r, xh, nX, -1, 1);
    fill_uniform(&r, dR, nR, -1, 1);
    fill_uniform(&r, w, nW, -1, 1);
    fill_uniform(&r, dC, nX, -1, 1);
    CHECK(gl_draw_filterbank(Fx, Fy, g, p, batch, N, A, B) == GL_OK, "filterbank: %s", gl_last_error());

    float *o1 = fa(nR), *o2 = fa(nR);
    CHECK(gl_draw_read(o1, x, xh, Fx, Fy, g, batch, N, A, B) == GL_OK, "read");
    CHECK(gl_draw_read_ref(o2, x, xh, Fx, Fy, g, batch, N, A, B) == GL_OK, "read_ref");
    CLOSE("read", o1, o2, nR, 1e-6, 1e-5);

    /* Backward: start both from the same non-zero buffers to check accumulation. */
    float *b1[5], *b2[5];
    size_t nb[5] = {nX, nX, nFx, nFy, (size_t)batch};
    for (int k = 0; k < 5; k++) {
        b1[k] = fa(nb[k]);
        b2[k] = fa(nb[k]);
        fill_uniform(&r, b1[k], nb[k], -1, 1);
        memcpy(b2[k], b1[k], nb[k] * sizeof(float));
    }
    CHECK(gl_draw_read_backward(b1[0], b1[1], b1[2], b1[3], b1[4], dR, x, xh, Fx, Fy, g, batch, N, A, B) == GL_OK,
          "read_backward");
    CHECK(gl_draw_read_backward_ref(b2[0], b2[1], b2[2], b2[3], b2[4], dR, x, xh, Fx, Fy, g, batch, N, A, B) ==
              GL_OK,
          "read_backward_ref");
    const char *rn[5] = {"read dx", "read dxhat", "read dFx", "read dFy", "read dgamma"};
    for (int k = 0; k < 5; k++) CLOSE(rn[k], b1[k], b2[k], nb[k], 1e-5, 1e-5);
    /* NULL image gradients are allowed and leave the others unchanged. */
    float *d3 = fa(nFx), *d4 = fa(nFy), *d5 = fa(batch), *e0 = fa(nX), *e1 = fa(nX), *e3 = fa(nFx), *e4 = fa(nFy),
          *e5 = fa(batch);
    CHECK(gl_draw_read_backward(NULL, NULL, d3, d4, d5, dR, x, xh, Fx, Fy, g, batch, N, A, B) == GL_OK,
          "read_backward NULL dx");
    CHECK(gl_draw_read_backward(e0, e1, e3, e4, e5, dR, x, xh, Fx, Fy, g, batch, N, A, B) == GL_OK, "read_backward");
    CHECK(memcmp(d3, e3, nFx * sizeof(float)) == 0 && memcmp(d4, e4, nFy * sizeof(float)) == 0 &&
              memcmp(d5, e5, batch * sizeof(float)) == 0,
          "read_backward with NULL dx, dxhat changed the other gradients");

    float *c1 = fa(nX), *c2 = fa(nX);
    CHECK(gl_draw_write(c1, w, Fx, Fy, g, batch, N, A, B) == GL_OK, "write");
    CHECK(gl_draw_write_ref(c2, w, Fx, Fy, g, batch, N, A, B) == GL_OK, "write_ref");
    CLOSE("write", c1, c2, nX, 1e-6, 1e-5);

    size_t mb[4] = {nW, nFx, nFy, (size_t)batch};
    for (int k = 0; k < 4; k++) {
        free(b1[k]); free(b2[k]);
        b1[k] = fa(mb[k]);
        b2[k] = fa(mb[k]);
        fill_uniform(&r, b1[k], mb[k], -1, 1);
        memcpy(b2[k], b1[k], mb[k] * sizeof(float));
    }
    CHECK(gl_draw_write_backward(b1[0], b1[1], b1[2], b1[3], dC, w, Fx, Fy, g, batch, N, A, B) == GL_OK,
          "write_backward");
    CHECK(gl_draw_write_backward_ref(b2[0], b2[1], b2[2], b2[3], dC, w, Fx, Fy, g, batch, N, A, B) == GL_OK,
          "write_backward_ref");
    const char *wn[4] = {"write dw", "write dFx", "write dFy", "write dgamma"};
    for (int k = 0; k < 4; k++) CLOSE(wn[k], b1[k], b2[k], mb[k], 1e-5, 1e-5);
    memset(e3, 0, nFx * sizeof(float)); memset(e4, 0, nFy * sizeof(float)); memset(e5, 0, batch * sizeof(float));
    memset(d3, 0, nFx * sizeof(float)); memset(d4, 0, nFy * sizeof(float)); memset(d5, 0, batch * sizeof(float));
    float *dw0 = fa(nW);
    CHECK(gl_draw_write_backward(NULL, d3, d4, d5, dC, w, Fx, Fy, g, batch, N, A, B) == GL_OK, "write_backward NULL dw");
    CHECK(gl_draw_write_backward(dw0, e3, e4, e5, dC, w, Fx, Fy, g, batch, N, A, B) == GL_OK, "write_backward");
    CHECK(memcmp(d3, e3, nFx * sizeof(float)) == 0 && memcmp(d4, e4, nFy * sizeof(float)) == 0 &&
              memcmp(d5, e5, batch * sizeof(float)) == 0,
          "write_backward with NULL dw changed the other gradients");
    free(dw0);

    for (int k = 0; k < 5; k++) { free(b1[k]); free(b2[k]); }
    free(p); free(Fx); free(Fy); free(g); free(x); free(xh); free(dR); free(w); free(dC);
    free(o1); free(o2); free(c1); free(c2); free(d3); free(d4); free(d5);
    free(e0); free(e1); free(e3); free(e4); free(e5);
}

/* L(params) = <cx, Fx> + <cy, Fy> + cg . gamma; compare dL/dparams with central differences
 * (in float: small steps, loose tolerance; the JS tests do this end to end too). */
static double fb_loss(const float *p, const float *cx, const float *cy, const float *cg, int batch, int N, int A,
                      int B) {
    float *Fx = fa((size_t)batch * N * A), *Fy = fa((size_t)batch * N * B), *g = fa(batch);
    gl_draw_filterbank(Fx, Fy, g, p, batch, N, A, B);
    double L = 0;
    for (size_t i = 0; i < (size_t)batch * N * A; i++) L += (double)cx[i] * Fx[i];
    for (size_t i = 0; i < (size_t)batch * N * B; i++) L += (double)cy[i] * Fy[i];
    for (int n = 0; n < batch; n++) L += (double)cg[n] * g[n];
    free(Fx); free(Fy); free(g);
    return L;
}

static void filterbank_gradient(int batch, int N, int A, int B, unsigned seed) {
    test_rng r = {seed};
    float *p = fa(5 * batch), *cx = fa((size_t)batch * N * A), *cy = fa((size_t)batch * N * B), *cg = fa(batch);
    random_params(&r, p, batch);
    fill_uniform(&r, cx, (size_t)batch * N * A, -1, 1);
    fill_uniform(&r, cy, (size_t)batch * N * B, -1, 1);
    fill_uniform(&r, cg, batch, -1, 1);
    float *dp = fa(5 * batch);
    CHECK(gl_draw_filterbank_backward(dp, cx, cy, cg, p, batch, N, A, B) == GL_OK, "filterbank_backward");
    double worst = 0;
    for (int k = 0; k < 5 * batch; k++) {
        float save = p[k], h = k % 5 < 2 ? 2e-3f : 5e-3f; /* g~ is in half-image units */
        p[k] = save + h;
        double lp = fb_loss(p, cx, cy, cg, batch, N, A, B);
        p[k] = save - h;
        double lm = fb_loss(p, cx, cy, cg, batch, N, A, B);
        p[k] = save;
        double fd = (lp - lm) / (2.0 * (double)h), e = fabs(fd - dp[k]) / (5e-3 + 2e-2 * fabs(fd));
        if (e > worst) worst = e;
        CHECK(e <= 1.0, "filterbank_backward N=%d A=%d B=%d: dparams[%d] = %g, central difference %g", N, A, B, k,
              (double)dp[k], fd);
    }
    printf("filterbank_backward vs central differences (batch=%d N=%d A=%d B=%d): worst err ratio %.3f\n", batch,
           N, A, B, worst);
    free(p); free(cx); free(cy); free(cg); free(dp);
}

static void geometry(void) {
    /* g~X = g~Y = 0, sigma^2 = 1, delta~ = 1: gX = (A+1)/2, gY = (B+1)/2, delta = (max-1)/(N-1). */
    const int N = 5, A = 28, B = 20;
    float p[5] = {0, 0, 0, 0, 0}, Fx[N * A], Fy[N * B], g, dec[5];
    CHECK(gl_draw_decode(dec, p, 1, N, A, B) == GL_OK, "decode");
    CHECK(dec[0] == 14.5f && dec[1] == 10.5f && dec[2] == 27.0f / 4.0f && dec[3] == 1.0f && dec[4] == 1.0f,
          "decode: got (%g %g %g %g %g)", dec[0], dec[1], dec[2], dec[3], dec[4]);
    p[3] = -1.5f; /* keep every filter inside the image */
    CHECK(gl_draw_filterbank(Fx, Fy, &g, p, 1, N, A, B) == GL_OK, "filterbank");
    const float *mid = Fx + (N / 2) * A;
    for (int a = 1; a <= A; a++)
        CHECK(fabsf(mid[a - 1] - mid[A - a]) < 1e-7f, "middle Fx row not symmetric about (A+1)/2 at a=%d", a);
    CHECK(mid[13] == mid[14] && mid[13] > mid[12], "middle Fx row peaks at a = 14, 15");
    /* Every filter's first moment is its centre muX_i = gX + (i - N/2 - 0.5) delta, 1-based i and a. */
    double delta = 27.0 / 4.0 * exp(-1.5);
    for (int i = 1; i <= N; i++) {
        double m = 0;
        for (int a = 1; a <= A; a++) m += a * Fx[(i - 1) * A + a - 1];
        double mu = 14.5 + (i - N / 2.0 - 0.5) * delta;
        CHECK(fabs(m - mu) < 1e-4, "filter %d: first moment %g, expected mu = %g", i, m, mu);
    }
    /* N = 1: the single filter sits on the centre; delta has no effect. */
    float F1[A], F2[A], G1[B], q[5] = {0.1f, -0.2f, 0.3f, -1.0f, 0.0f};
    gl_draw_filterbank(F1, G1, &g, q, 1, 1, A, B);
    q[3] = 0.5f;
    gl_draw_filterbank(F2, G1, &g, q, 1, 1, A, B);
    CHECK(memcmp(F1, F2, sizeof F1) == 0, "N=1: delta changed the filter");
    /* A filter centred far outside the image: guarded normaliser, finite zeros, finite gradient. */
    float far[5] = {50.0f, 0.0f, -2.0f, 0.0f, 0.0f}, dF[N * A], dFy[N * B], dg = 1, dp[5] = {0};
    CHECK(gl_draw_filterbank(Fx, Fy, &g, far, 1, N, A, B) == GL_OK, "filterbank far");
    int finite = 1;
    double mx = 0;
    for (int k = 0; k < N * A; k++) { finite &= isfinite(Fx[k]); if (Fx[k] > mx) mx = Fx[k]; }
    CHECK(finite && mx < 1e-6, "far filter: max %g (finite %d)", mx, finite);
    for (int k = 0; k < N * A; k++) dF[k] = 1.0f;
    for (int k = 0; k < N * B; k++) dFy[k] = 1.0f;
    CHECK(gl_draw_filterbank_backward(dp, dF, dFy, &dg, far, 1, N, A, B) == GL_OK, "filterbank_backward far");
    for (int k = 0; k < 5; k++) CHECK(isfinite(dp[k]), "far filter: dparams[%d] = %g", k, dp[k]);
}

static void errors(void) {
    float p[5] = {0, 0, 0, 0, 0}, Fx[28], Fy[28], g, dp[5] = {7, 7, 7, 7, 7};
    CHECK(gl_draw_filterbank(Fx, Fy, &g, p, 0, 1, 28, 28) == GL_EINVAL, "batch 0 accepted");
    CHECK(gl_draw_filterbank(Fx, Fy, &g, p, 1, 1, -3, 28) == GL_EINVAL, "A < 0 accepted");
    CHECK(gl_draw_read(NULL, NULL, NULL, NULL, NULL, NULL, 1 << 20, 1 << 10, 1 << 10, 1 << 10) == GL_ENOMEM,
          "huge sizes accepted");
    p[2] = 61.0f;
    CHECK(gl_draw_filterbank(Fx, Fy, &g, p, 1, 1, 28, 28) == GL_EINVAL, "log sigma^2 = 61 accepted");
    CHECK(strstr(gl_last_error(), "params[2]") != NULL, "error message does not name params[2]: %s", gl_last_error());
    p[2] = NAN;
    CHECK(gl_draw_filterbank_backward(dp, Fx, Fy, &g, p, 1, 1, 28, 28) == GL_EINVAL, "NaN accepted");
    CHECK(dp[0] == 7 && dp[4] == 7, "dparams changed by a failed call");
}

int main(void) {
    const int sizes[][4] = {{3, 5, 28, 28}, {2, 12, 28, 28}, {2, 4, 20, 28}, {2, 3, 28, 20}, {1, 1, 7, 9},
                            {3, 7, 13, 5},  {1, 2, 1, 1},    {2, 9, 31, 17}, {1, 16, 8, 8}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        fast_vs_ref(sizes[k][0], sizes[k][1], sizes[k][2], sizes[k][3], 1234u + (unsigned)k);
    filterbank_gradient(3, 5, 28, 28, 99);
    filterbank_gradient(2, 4, 20, 28, 98);
    filterbank_gradient(2, 1, 9, 7, 97);
    geometry();
    errors();
    printf("test_draw: %d failure(s)\n", test_failures);
    return test_failures;
}
