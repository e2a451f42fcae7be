/* draw.c: DRAW's selective attention (Gregor et al. 2015, section 3.2, eq. 19-29).
 *
 * An N x N grid of 2-D Gaussian filters is laid over a B x A image (B rows = y, A columns = x).
 * Each of `batch` items has five raw parameters (g~X, g~Y, log sigma^2, log delta~, log gamma),
 * the linear outputs of the attention layer (eq. 21):
 *
 *   gX = (A+1)/2 (g~X + 1),  gY = (B+1)/2 (g~Y + 1)                       (eq. 22, 23)
 *   delta = (max(A,B) - 1)/(N - 1) exp(log delta~)                         (eq. 24)
 *   sigma^2 = exp(log sigma^2),  gamma = exp(log gamma)
 *   muX_i = gX + (i - N/2 - 0.5) delta,  muY_j = gY + (j - N/2 - 0.5) delta  (eq. 19, 20)
 *   Fx[i,a] = exp(-(a - muX_i)^2 / (2 sigma^2)) / Zx_i,  Fy[j,b] likewise     (eq. 25, 26)
 *
 * with 1-based i, j in 1..N and pixel positions a in 1..A, b in 1..B, exactly as in the paper (a
 * 0-based grid shifts every filter by one pixel against the image). Two choices the paper leaves
 * open:
 *   - N = 1: delta's factor (max(A,B)-1)/(N-1) is taken as (max(A,B)-1)/max(N-1, 1). The single
 *     filter sits at i - N/2 - 0.5 = 0, i.e. exactly on (gX, gY), so delta has no effect on it and
 *     d/d log delta~ is 0.
 *   - The normaliser is guarded: Zx_i = max(sum_a exp(...), GL_DRAW_EPS) with GL_DRAW_EPS = 1e-8.
 *     A filter centred far outside the image (all its mass underflows) then gives a row of (near)
 *     zeros, not 0/0. The gradient follows the guard: below it the row is e/eps, so the
 *     normalisation term of the gradient is absent (as with torch.clamp(min=eps)). The guard is
 *     absolute, so a very sharp filter falling between pixels also hits it: with sigma^2 below
 *     about 0.0065 (log sigma^2 < -5) a filter centred half-way between two pixels sums to < 1e-8.
 *
 * read  (eq. 27): out (batch, 2, N, N) = gamma [Fy x Fx^T, Fy xhat Fx^T]
 * write (eq. 29): canvas (batch, B, A) = (1/gamma) Fy^T w Fx, w (batch, N, N)
 *
 * Parameter domain: log sigma^2, log delta~ and log gamma must lie in [-60, 60] and g~X, g~Y in
 * [-1e6, 1e6] (finite); outside it float32 exp overflows or the centre is meaningless. The
 * functions that take params (decode, filterbank, filterbank_backward) return GL_EINVAL naming
 * the offending value. Filter tails below exp(-60) are exactly 0 (see gauss_row).
 *
 * Use from C (one attention head, per step):
 *   gl_draw_filterbank(Fx, Fy, gamma, params, ...);          forward
 *   gl_draw_read(out, x, xhat, Fx, Fy, gamma, ...);  or  gl_draw_write(canvas, w, Fx, Fy, gamma, ...);
 *   gl_draw_read_backward(dx, dxhat, dFx, dFy, dgamma, dout, ...);  (dx, dxhat may be NULL)
 *   gl_draw_write_backward(dw, dFx, dFy, dgamma, dcanvas, ...);     (dw may be NULL)
 *   gl_draw_filterbank_backward(dparams, dFx, dFy, dgamma, params, ...);
 * Backward functions accumulate (+=); forward functions overwrite their outputs.
 *
 * Layout of the work: the filterbank (gl_draw_filterbank, eq. 19-26) and its backward pass to the
 * five raw parameters (gl_draw_filterbank_backward) are O(batch N (A+B)) scalar code, three exp()
 * per filter. Applying the filters is O(batch N A B): small batched matrix products, done by two
 * register-tiled SIMD kernels written against simd.h: mm_xn (outer-product form, vectorised along
 * the output row; A or its transpose on the left) for every product with an output row of A or B
 * floats, and mm_nt (dot products, one horizontal sum per output) only for the N x N outputs.
 * The plain loops gl_draw_*_ref compute the same sums directly over every index (double
 * accumulators) and are the tests' oracle.
 */
#include "draw.h"
#include "arena.h"
#include "pool.h"
#include "simd.h"

#include <math.h>
#include <stdlib.h>

#define GL_DRAW_EPS 1e-8f
#define GL_DRAW_LOG_LIMIT 60.0f
#define GL_DRAW_CENTRE_LIMIT 1e6f

/* ---------------------------------------------------------------------------------------- */
/* Parameters and sizes. */

typedef struct {
    float gx, gy;   /* grid centre in 1-based pixel units */
    float delta;    /* stride between filter centres */
    float s2;       /* sigma^2, the filters' variance */
    float gamma;    /* intensity */
} draw_attn;

static int check_sizes(const char *fn, int batch, int N, int A, int B) {
    if (batch <= 0 || N <= 0 || A <= 0 || B <= 0)
        return gl_fail(GL_EINVAL, "%s: sizes must be positive (batch=%d N=%d A=%d B=%d)", fn, batch, N, A, B);
    if (!gl_size((size_t)batch, (size_t)B, (size_t)A, 1) || !gl_size((size_t)batch, (size_t)N, (size_t)A, 1) ||
        !gl_size((size_t)batch, (size_t)N, (size_t)B, 1) || !gl_size((size_t)batch, 2, (size_t)N, (size_t)N))
        return gl_fail(GL_ENOMEM, "%s: tensors too large (batch=%d N=%d A=%d B=%d)", fn, batch, N, A, B);
    return GL_OK;
}

static const char *const param_names[5] = {"g~X", "g~Y", "log sigma^2", "log delta~", "log gamma"};

/* Decode item n's raw params (eq. 21-24) after checking them against the domain. */
static int decode(draw_attn *at, const float *params, int n, int N, int A, int B, const char *fn) {
    const float *p = params + 5 * (size_t)n;
    for (int k = 0; k < 5; k++) {
        float lim = k < 2 ? GL_DRAW_CENTRE_LIMIT : GL_DRAW_LOG_LIMIT;
        if (!(fabsf(p[k]) <= lim)) { /* also catches NaN */
            gl_fail(GL_EINVAL, "%s: params[%d] (item %d, %s) = %g is outside [%g, %g]", fn, 5 * n + k, n,
                    param_names[k], (double)p[k], -(double)lim, (double)lim);
            return GL_EINVAL;
        }
    }
    int L = A > B ? A : B;
    at->gx = 0.5f * (float)(A + 1) * (p[0] + 1.0f);
    at->gy = 0.5f * (float)(B + 1) * (p[1] + 1.0f);
    at->s2 = expf(p[2]);
    at->delta = (float)(L - 1) / (float)(N > 1 ? N - 1 : 1) * expf(p[3]);
    at->gamma = expf(p[4]);
    return GL_OK;
}

/* Offset of filter i (0-based here) from the grid centre: (i+1) - N/2 - 0.5 = i - (N-1)/2. */
static inline float filter_offset(int i, int N) { return (float)i - 0.5f * (float)(N - 1); }

/* e[a-1] = exp(-(a - mu)^2 / (2 s2)) for a = 1..L; returns the sum. Shared by the forward and
 * backward passes so both see bit-identical sums (the guard decision must agree).
 *
 * Three exp() per row instead of L: starting from the pixel p nearest to mu, each step away
 * multiplies by the ratio of neighbouring Gaussian values, and the ratios themselves form a
 * geometric sequence:  e(a+1)/e(a) = exp(-(2d+1)/(2 s2)),  d = a - mu,  and the next ratio is this
 * one times c = exp(-1/s2) (likewise leftwards with 1 - 2d). The recurrence runs in double, so
 * its rounding (about k^2 ulp of double after k steps) stays far below float32 resolution.
 * Away from p the values only decrease; once below exp(-GL_DRAW_TAIL) = 8.8e-27 the rest of the
 * side is set to exactly 0. That changes a filter weight by at most 8.8e-27 / 1e-8 < 1e-18, far
 * below float32 resolution, and keeps denormal numbers out of the filters: x86 handles those in
 * microcode (about 100x slower per operation) and wasm cannot flush them to zero. */
#define GL_DRAW_TAIL 60.0
static float gauss_row(float *e, int *lo, int *hi, float mu, float s2, int L) {
    const double inv = 0.5 / (double)s2, cut = exp(-GL_DRAW_TAIL);
    /* nearest pixel (0-based index p, position p + 1), clamped into the row */
    double pc = floor((double)mu + 0.5) - 1.0;
    int p = pc < 0.0 ? 0 : pc > (double)(L - 1) ? L - 1 : (int)pc;
    double d = (double)(p + 1) - (double)mu;
    double v0 = exp(-d * d * inv), c = exp(-2.0 * inv);
    for (int a = 0; a < L; a++) e[a] = 0.0f;
    *lo = *hi = 0;
    if (v0 < cut) return 0.0f; /* the whole row lies in the tail */
    e[p] = (float)v0;
    int a;
    double v = v0, r = exp(-(2.0 * d + 1.0) * inv); /* rightwards */
    for (a = p + 1; a < L; a++) {
        v *= r;
        if (v < cut) break;
        e[a] = (float)v;
        r *= c;
    }
    *hi = a;
    v = v0, r = exp(-(1.0 - 2.0 * d) * inv); /* leftwards */
    for (a = p - 1; a >= 0; a--) {
        v *= r;
        if (v < cut) break;
        e[a] = (float)v;
        r *= c;
    }
    *lo = a + 1;
    float sum = 0.0f;
    for (a = *lo; a < *hi; a++) sum += e[a];
    return sum;
}

/* F (N, L) <- the normalised filters of one axis (eq. 25 or 26). */
static void axis_filters(float *F, float g, float delta, float s2, int N, int L) {
    for (int i = 0; i < N; i++) {
        float *row = F + (size_t)i * L;
        int lo, hi;
        float sum = gauss_row(row, &lo, &hi, g + filter_offset(i, N) * delta, s2, L);
        float z = sum > GL_DRAW_EPS ? sum : GL_DRAW_EPS;
        for (int a = lo; a < hi; a++) row[a] /= z; /* zero outside [lo, hi) */
    }
}

/* Backward of one axis: given dF (N, L), accumulate dL/dg, dL/ddelta and dL/d(log s2).
 * With g_a = F_a (dF_a - k), k = sum_a dF_a F_a (0 when the guard is active):
 *   dL/dmu_i = sum_a g_a (a - mu_i) / s2,  dL/dlog s2 = sum_a g_a (a - mu_i)^2 / (2 s2).
 * e: scratch of L floats. */
static void axis_backward(double *dg, double *ddelta, double *dlogs2, const float *dF, float g, float delta,
                          float s2, int N, int L, float *e) {
    for (int i = 0; i < N; i++) {
        const float *drow = dF + (size_t)i * L;
        float mu = g + filter_offset(i, N) * delta;
        int lo, hi;
        float sum = gauss_row(e, &lo, &hi, mu, s2, L);
        int guarded = !(sum > GL_DRAW_EPS);
        float z = guarded ? GL_DRAW_EPS : sum;
        /* F is zero outside [lo, hi): those pixels contribute nothing (and (a - mu)^2 may be huge) */
        for (int a = lo; a < hi; a++) e[a] /= z; /* bit-identical to the forward's F */
        double k = 0.0;
        if (!guarded)
            for (int a = lo; a < hi; a++) k += (double)drow[a] * e[a];
        double dmu = 0.0, dls = 0.0;
        for (int a = lo; a < hi; a++) {
            double ga = (double)e[a] * ((double)drow[a] - k);
            double d = (double)(a + 1) - (double)mu;
            dmu += ga * d;
            dls += ga * d * d;
        }
        dmu /= s2;
        *dg += dmu;
        *ddelta += (double)filter_offset(i, N) * dmu;
        *dlogs2 += dls / (2.0 * s2);
    }
}

/* out (batch, 5) <- (gX, gY, delta, sigma^2, gamma) per item, in image units. */
GL_API int gl_draw_decode(float *out, const float *params, int batch, int N, int A, int B) {
    int err = check_sizes("draw decode", batch, N, A, B);
    if (err) return err;
    for (int n = 0; n < batch; n++) {
        draw_attn at;
        if ((err = decode(&at, params, n, N, A, B, "draw decode"))) return err;
        float *o = out + 5 * (size_t)n;
        o[0] = at.gx; o[1] = at.gy; o[2] = at.delta; o[3] = at.s2; o[4] = at.gamma;
    }
    return GL_OK;
}

/* Fx (batch, N, A), Fy (batch, N, B), gamma (batch) <- params (batch, 5)   (eq. 19-26) */
static int filterbank_items(float *Fx, float *Fy, float *gamma, const float *params, int n0, int n1, int N, int A,
                            int B) {
    for (int n = n0; n < n1; n++) {
        draw_attn at;
        int err = decode(&at, params, n, N, A, B, "draw filterbank");
        if (err) return err;
        axis_filters(Fx + (size_t)n * N * A, at.gx, at.delta, at.s2, N, A);
        axis_filters(Fy + (size_t)n * N * B, at.gy, at.delta, at.s2, N, B);
        gamma[n] = at.gamma;
    }
    return GL_OK;
}

/* dparams (batch, 5) += dL/dparams given dFx (batch, N, A), dFy (batch, N, B), dgamma (batch).
 * Any of dFx, dFy, dgamma may be NULL (no gradient from it). The filters are recomputed from
 * params, so no forward state is needed. */
static int check_params(const float *params, int batch, int N, int A, int B, const char *fn) {
    for (int n = 0; n < batch; n++) {
        draw_attn at;
        int err = decode(&at, params, n, N, A, B, fn);
        if (err) return err;
    }
    return GL_OK;
}

/* e: scratch of max(A, B) floats. params already checked (check_params). */
static void filterbank_backward_items(float *e, float *dparams, const float *dFx, const float *dFy, const float *dgamma,
                                      const float *params, int n0, int n1, int N, int A, int B) {
    for (int n = n0; n < n1; n++) {
        draw_attn at = {0, 0, 0, 0, 0};
        decode(&at, params, n, N, A, B, "draw filterbank backward"); /* cannot fail: checked */
        double dgx = 0, dgy = 0, ddelta = 0, dls = 0;
        if (dFx) axis_backward(&dgx, &ddelta, &dls, dFx + (size_t)n * N * A, at.gx, at.delta, at.s2, N, A, e);
        if (dFy) axis_backward(&dgy, &ddelta, &dls, dFy + (size_t)n * N * B, at.gy, at.delta, at.s2, N, B, e);
        float *dp = dparams + 5 * (size_t)n;
        dp[0] += (float)(dgx * 0.5 * (A + 1));          /* d gX / d g~X */
        dp[1] += (float)(dgy * 0.5 * (B + 1));
        dp[2] += (float)dls;                            /* already d / d log sigma^2 */
        dp[3] += (float)(ddelta * at.delta);            /* d delta / d log delta~ = delta */
        if (dgamma) dp[4] += dgamma[n] * at.gamma;      /* d gamma / d log gamma = gamma */
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The fast kernels: two small GEMM forms, register-tiled, written against simd.h. */

#define GL_INLINE static inline __attribute__((always_inline))

/* C[0..R) x [0..V*VF_WIDTH) (+)= alpha * sum_k A'(r, k) B(k, .), A'(r, k) = A[r*sam + k*sak];
 * accumulate: 1 adds to C, 0 overwrites it. */
GL_INLINE void xn_tile(int R, int V, float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B,
                       int ldb, int K, float alpha, int accumulate) {
    vf acc[4][2];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) acc[r][v] = VF_SET1(0.0f);
    for (int k = 0; k < K; k++) {
        const float *bk = B + (size_t)k * ldb;
        vf b0 = VF_LOAD(bk);
        vf b1 = V > 1 ? VF_LOAD(bk + VF_WIDTH) : b0;
        for (int r = 0; r < R; r++) {
            vf a = VF_SET1(A[r * sam + k * sak]);
            acc[r][0] = VF_FMA(a, b0, acc[r][0]);
            if (V > 1) acc[r][1] = VF_FMA(a, b1, acc[r][1]);
        }
    }
    const vf al = VF_SET1(alpha);
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) {
            float *c = C + (size_t)r * ldc + v * VF_WIDTH;
            VF_STORE(c, accumulate ? VF_FMA(al, acc[r][v], VF_LOAD(c)) : VF_MUL(al, acc[r][v]));
        }
}

/* The same for R rows and one column (scalar tail). */
GL_INLINE void xn_col(int R, float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B, int ldb, int K,
                      float alpha, int accumulate) {
    for (int r = 0; r < R; r++) {
        float s = 0.0f;
        for (int k = 0; k < K; k++) s += A[r * sam + k * sak] * B[(size_t)k * ldb];
        C[(size_t)r * ldc] = (accumulate ? C[(size_t)r * ldc] : 0.0f) + alpha * s;
    }
}

GL_INLINE void xn_rows(int R, float *C, const float *A, size_t sam, size_t sak, const float *B, int K, int Nc,
                       float alpha, int acc) {
    int c = 0;
    for (; c + 2 * VF_WIDTH <= Nc; c += 2 * VF_WIDTH) xn_tile(R, 2, C + c, Nc, A, sam, sak, B + c, Nc, K, alpha, acc);
    for (; c + VF_WIDTH <= Nc; c += VF_WIDTH) xn_tile(R, 1, C + c, Nc, A, sam, sak, B + c, Nc, K, alpha, acc);
    for (; c < Nc; c++) xn_col(R, C + c, Nc, A, sam, sak, B + c, Nc, K, alpha, acc);
}

/* C (M, Nc) (+)= alpha A' B with B (K, Nc) and A'(m, k) = A[m*sam + k*sak]:
 * sam = K, sak = 1 is A (M, K) itself; sam = 1, sak = M is the transpose of A (K, M).
 * acc: 1 accumulates into C, 0 overwrites it (no memset needed). */
static void mm_xn(float *C, const float *A, size_t sam, size_t sak, const float *B, int M, int K, int Nc,
                  float alpha, int acc) {
    int m = 0;
    for (; m + 4 <= M; m += 4) xn_rows(4, C + (size_t)m * Nc, A + m * sam, sam, sak, B, K, Nc, alpha, acc);
    for (; m < M; m++) xn_rows(1, C + (size_t)m * Nc, A + m * sam, sam, sak, B, K, Nc, alpha, acc);
}

/* C[0..R) x [0..S) += alpha * sum_k A(r, k) B(s, k): R x S dot products of length K. */
GL_INLINE void nt_tile(int R, int S, float *C, int ldc, const float *A, int lda, const float *B, int ldb, int K,
                       float alpha, int accumulate) {
    vf acc[4][2];
    for (int r = 0; r < R; r++)
        for (int s = 0; s < S; s++) acc[r][s] = VF_SET1(0.0f);
    int k = 0;
    for (; k + VF_WIDTH <= K; k += VF_WIDTH) {
        vf b0 = VF_LOAD(B + k);
        vf b1 = S > 1 ? VF_LOAD(B + ldb + k) : b0;
        for (int r = 0; r < R; r++) {
            vf a = VF_LOAD(A + (size_t)r * lda + k);
            acc[r][0] = VF_FMA(a, b0, acc[r][0]);
            if (S > 1) acc[r][1] = VF_FMA(a, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int s = 0; s < S; s++) {
            float t = VF_HSUM(acc[r][s]);
            for (int kk = k; kk < K; kk++) t += A[(size_t)r * lda + kk] * B[(size_t)s * ldb + kk];
            C[(size_t)r * ldc + s] = (accumulate ? C[(size_t)r * ldc + s] : 0.0f) + alpha * t;
        }
}

GL_INLINE void nt_rows(int R, float *C, const float *A, const float *B, int K, int Nc, float alpha, int acc) {
    int c = 0;
    for (; c + 2 <= Nc; c += 2) nt_tile(R, 2, C + c, Nc, A, K, B + (size_t)c * K, K, K, alpha, acc);
    for (; c < Nc; c++) nt_tile(R, 1, C + c, Nc, A, K, B + (size_t)c * K, K, K, alpha, acc);
}

/* C (M, Nc) (+)= alpha A B^T with A (M, K), B (Nc, K); acc as for mm_xn. Used only where the
 * output is small (N x N): each output costs one horizontal sum. */
static void mm_nt(float *C, const float *A, const float *B, int M, int K, int Nc, float alpha, int acc) {
    int m = 0;
    for (; m + 4 <= M; m += 4) nt_rows(4, C + (size_t)m * Nc, A + (size_t)m * K, B, K, Nc, alpha, acc);
    for (; m < M; m++) nt_rows(1, C + (size_t)m * Nc, A + (size_t)m * K, B, K, Nc, alpha, acc);
}

static float dot(const float *a, const float *b, size_t n) {
    vf acc = VF_SET1(0.0f);
    size_t k = 0;
    for (; k + VF_WIDTH <= n; k += VF_WIDTH) acc = VF_FMA(VF_LOAD(a + k), VF_LOAD(b + k), acc);
    float s = VF_HSUM(acc);
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}

/* T (C, R) <- M (R, C)^T. Images here are small (both in L1), so no blocking. */
static void transpose(float *T, const float *M, int R, int C) {
    for (int r = 0; r < R; r++) {
        const float *m = M + (size_t)r * C;
        for (int c = 0; c < C; c++) T[(size_t)c * R + r] = m[c];
    }
}

/* ---------------------------------------------------------------------------------------- */
/* read (eq. 27) and its backward. */

/* out (batch, 2, N, N) <- gamma [Fy x Fx^T, Fy xhat Fx^T]
 * x, xhat (batch, B, A); Fx (batch, N, A); Fy (batch, N, B); gamma (batch) */
/* S: scratch of N*A floats. */
static void read_items(float *S, float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                       const float *gamma, int n0, int n1, int N, int A, int B) {
    const size_t NN = (size_t)N * N, BA = (size_t)B * A;
    for (int n = n0; n < n1; n++) {
        const float *fx = Fx + (size_t)n * N * A, *fy = Fy + (size_t)n * N * B;
        for (int c = 0; c < 2; c++) {
            const float *img = (c ? xhat : x) + n * BA;
            float *o = out + ((size_t)n * 2 + c) * NN;
            mm_xn(S, fy, (size_t)B, 1, img, N, B, A, 1.0f, 0); /* S = Fy X */
            mm_nt(o, S, fx, N, A, N, gamma[n], 0);             /* out = gamma S Fx^T */
        }
    }
}

/* Given dread (batch, 2, N, N): dx, dxhat (batch, B, A) += dL/dx, dL/dxhat (either may be NULL),
 * dFx (batch, N, A), dFy (batch, N, B), dgamma (batch) += their gradients.
 * With P = Fy X Fx^T = S Fx^T (S = Fy X) and V = gamma dR Fx:
 *   dX = Fy^T V,  dFx = gamma dR^T S,  dFy = V X^T,  dgamma = <dR, P> = <V, S> / gamma. */
/* ws: scratch of 2 N A + B A floats. */
static void read_backward_items(float *ws, float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma,
                                const float *dread, const float *x, const float *xhat, const float *Fx, const float *Fy,
                                const float *gamma, int n0, int n1, int N, int A, int B) {
    const size_t NA = (size_t)N * A, NN = (size_t)N * N, BA = (size_t)B * A;
    float *S = ws, *V = S + NA, *XT = V + NA; /* XT (A, B) = X^T */
    for (int n = n0; n < n1; n++) {
        const float *fx = Fx + n * NA, *fy = Fy + (size_t)n * N * B;
        float *dfx = dFx + n * NA, *dfy = dFy + (size_t)n * N * B;
        const float g = gamma[n];
        double dg = 0.0;
        for (int c = 0; c < 2; c++) {
            const float *img = (c ? xhat : x) + n * BA;
            float *dimg = c ? dxhat : dx;
            const float *dR = dread + ((size_t)n * 2 + c) * NN;
            mm_xn(S, fy, (size_t)B, 1, img, N, B, A, 1.0f, 0);   /* S = Fy X */
            mm_xn(V, dR, (size_t)N, 1, fx, N, N, A, g, 0);       /* V = gamma dR Fx */
            if (dimg) mm_xn(dimg + n * BA, fy, 1, (size_t)B, V, B, N, A, 1.0f, 1); /* dX += Fy^T V */
            mm_xn(dfx, dR, 1, (size_t)N, S, N, N, A, g, 1);      /* dFx += gamma dR^T S */
            /* dFy += V X^T, as V (X^T): vectorised along b instead of one horizontal sum per
             * output, which made this the slowest product of the pass. */
            transpose(XT, img, B, A);
            mm_xn(dfy, V, (size_t)A, 1, XT, N, A, B, 1.0f, 1);
            dg += dot(V, S, NA);
        }
        dgamma[n] += (float)(dg / g);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* write (eq. 29) and its backward. */

/* canvas (batch, B, A) <- (1/gamma) Fy^T w Fx, w (batch, N, N). Overwrites canvas. */
/* U: scratch of N*A floats. Overwrites canvas. */
static void write_items(float *U, float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                        int n0, int n1, int N, int A, int B) {
    const size_t NA = (size_t)N * A, NN = (size_t)N * N, BA = (size_t)B * A;
    for (int n = n0; n < n1; n++) {
        const float *fx = Fx + n * NA, *fy = Fy + (size_t)n * N * B;
        mm_xn(U, w + n * NN, (size_t)N, 1, fx, N, N, A, 1.0f, 0);              /* U = w Fx */
        mm_xn(canvas + n * BA, fy, 1, (size_t)B, U, B, N, A, 1.0f / gamma[n], 0); /* canvas = Fy^T U / gamma */
    }
}

/* Given dcanvas (batch, B, A): dw (batch, N, N) += dL/dw (may be NULL), dFx, dFy, dgamma += theirs.
 * With U = w Fx and dU = (1/gamma) Fy dC:
 *   dw = dU Fx^T,  dFx = w^T dU,  dFy = (1/gamma) U dC^T,  dgamma = -<dU, U> / gamma. */
/* ws: scratch of 2 N A + B A floats. */
static void write_backward_items(float *ws, float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                                 const float *w, const float *Fx, const float *Fy, const float *gamma, int n0, int n1,
                                 int N, int A, int B) {
    const size_t NA = (size_t)N * A, NN = (size_t)N * N, BA = (size_t)B * A;
    float *U = ws, *dU = U + NA, *dCT = dU + NA; /* dCT (A, B) */
    for (int n = n0; n < n1; n++) {
        const float *fx = Fx + n * NA, *fy = Fy + (size_t)n * N * B, *wn = w + n * NN, *dC = dcanvas + n * BA;
        float *dfx = dFx + n * NA, *dfy = dFy + (size_t)n * N * B;
        const float ig = 1.0f / gamma[n];
        mm_xn(U, wn, (size_t)N, 1, fx, N, N, A, 1.0f, 0);     /* U = w Fx */
        mm_xn(dU, fy, (size_t)B, 1, dC, N, B, A, ig, 0);      /* dU = (1/gamma) Fy dC */
        if (dw) mm_nt(dw + n * NN, dU, fx, N, A, N, 1.0f, 1); /* dw += dU Fx^T */
        mm_xn(dfx, wn, 1, (size_t)N, dU, N, N, A, 1.0f, 1);   /* dFx += w^T dU */
        transpose(dCT, dC, B, A);                             /* dFy += (1/gamma) U dC^T */
        mm_xn(dfy, U, (size_t)A, 1, dCT, N, A, B, ig, 1);
        dgamma[n] += -dot(dU, U, NA) * ig;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The entry points: the serial forms with the caller's scratch (for code inside pool tasks), and
 * the public kernels, which split the items over the pool's threads (each item's result does not
 * depend on the split) with one slot of scratch per thread. */

size_t gl_draw_ws_floats(int N, int A, int B) {
    size_t NA = (size_t)N * A, BA = (size_t)B * A, L = (size_t)(A > B ? A : B);
    return 2 * NA + BA + L;
}

enum { K_FILTERBANK, K_FILTERBANK_BACKWARD, K_READ, K_READ_BACKWARD, K_WRITE, K_WRITE_BACKWARD };

typedef struct {
    int kind, batch, N, A, B, ntasks;
    float *ws;
    size_t slot;
    float *o1, *o2, *o3, *o4, *o5;      /* outputs / gradients, in the kernel's argument order */
    const float *i1, *i2, *i3, *i4, *i5, *i6; /* inputs, likewise */
} draw_job;

static int run_items(const draw_job *j, float *ws, int n0, int n1) {
    switch (j->kind) {
    case K_FILTERBANK: return filterbank_items(j->o1, j->o2, j->o3, j->i1, n0, n1, j->N, j->A, j->B);
    case K_FILTERBANK_BACKWARD:
        filterbank_backward_items(ws, j->o1, j->i1, j->i2, j->i3, j->i4, n0, n1, j->N, j->A, j->B);
        return GL_OK;
    case K_READ: read_items(ws, j->o1, j->i1, j->i2, j->i3, j->i4, j->i5, n0, n1, j->N, j->A, j->B); return GL_OK;
    case K_READ_BACKWARD:
        read_backward_items(ws, j->o1, j->o2, j->o3, j->o4, j->o5, j->i1, j->i2, j->i3, j->i4, j->i5, j->i6, n0, n1, j->N,
                            j->A, j->B);
        return GL_OK;
    case K_WRITE: write_items(ws, j->o1, j->i1, j->i2, j->i3, j->i4, n0, n1, j->N, j->A, j->B); return GL_OK;
    default:
        write_backward_items(ws, j->o1, j->o2, j->o3, j->o4, j->i1, j->i2, j->i3, j->i4, j->i5, n0, n1, j->N, j->A, j->B);
        return GL_OK;
    }
}

static int draw_task(void *p, int t, int w) {
    const draw_job *j = (const draw_job *)p;
    int lo, hi;
    gl_task_range(j->batch, j->ntasks, t, &lo, &hi);
    return lo < hi ? run_items(j, j->ws + (size_t)w * j->slot, lo, hi) : GL_OK;
}

static const char *const kernel_names[] = {"draw filterbank", "draw filterbank backward", "draw read",
                                           "draw read backward", "draw write", "draw write backward"};

/* serial: the items here with the caller's scratch ws (NULL for the filterbank, which needs none);
 * else the public form (scratch allocated here, items split over the threads). */
static int draw_run(draw_job *j, float *ws, int serial) {
    const char *fn = kernel_names[j->kind];
    int err = check_sizes(fn, j->batch, j->N, j->A, j->B);
    if (err) return err;
    /* filterbank_backward's params are all checked first, so an error leaves dparams unchanged */
    if (j->kind == K_FILTERBANK_BACKWARD && (err = check_params(j->i4, j->batch, j->N, j->A, j->B, fn))) return err;
    if (serial) return run_items(j, ws, 0, j->batch);
    double work = 4.0 * j->batch * j->N * ((double)j->A * j->B + (double)j->N * (j->A + j->B));
    j->ntasks = gl_pool_tasks(j->batch, work);
    j->slot = gl_arena_round(gl_draw_ws_floats(j->N, j->A, j->B));
    j->ws = malloc((size_t)j->ntasks * j->slot * sizeof(float));
    if (!j->ws) return gl_fail(GL_ENOMEM, "%s: out of memory", fn);
    err = gl_parallel(j->ntasks, draw_task, j);
    free(j->ws);
    return err;
}

#define DRAW_JOB(kind_, o1_, o2_, o3_, o4_, o5_, i1_, i2_, i3_, i4_, i5_, i6_)                                         \
    draw_job j = {kind_, batch, N, A, B, 1, NULL, 0, o1_, o2_, o3_, o4_, o5_, i1_, i2_, i3_, i4_, i5_, i6_}

GL_API int gl_draw_filterbank(float *Fx, float *Fy, float *gamma, const float *params, int batch, int N, int A, int B) {
    DRAW_JOB(K_FILTERBANK, Fx, Fy, gamma, NULL, NULL, params, NULL, NULL, NULL, NULL, NULL);
    return draw_run(&j, NULL, 0);
}
int gl_draw_filterbank_serial(float *ws, float *Fx, float *Fy, float *gamma, const float *params, int batch, int N, int A,
                          int B) {
    DRAW_JOB(K_FILTERBANK, Fx, Fy, gamma, NULL, NULL, params, NULL, NULL, NULL, NULL, NULL);
    return draw_run(&j, ws, 1);
}
GL_API int gl_draw_filterbank_backward(float *dparams, const float *dFx, const float *dFy, const float *dgamma,
                                       const float *params, int batch, int N, int A, int B) {
    DRAW_JOB(K_FILTERBANK_BACKWARD, dparams, NULL, NULL, NULL, NULL, dFx, dFy, dgamma, params, NULL, NULL);
    return draw_run(&j, NULL, 0);
}
int gl_draw_filterbank_backward_serial(float *ws, float *dparams, const float *dFx, const float *dFy, const float *dgamma,
                                   const float *params, int batch, int N, int A, int B) {
    DRAW_JOB(K_FILTERBANK_BACKWARD, dparams, NULL, NULL, NULL, NULL, dFx, dFy, dgamma, params, NULL, NULL);
    return draw_run(&j, ws, 1);
}
GL_API int gl_draw_read(float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                        const float *gamma, int batch, int N, int A, int B) {
    DRAW_JOB(K_READ, out, NULL, NULL, NULL, NULL, x, xhat, Fx, Fy, gamma, NULL);
    return draw_run(&j, NULL, 0);
}
int gl_draw_read_serial(float *ws, float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                    const float *gamma, int batch, int N, int A, int B) {
    DRAW_JOB(K_READ, out, NULL, NULL, NULL, NULL, x, xhat, Fx, Fy, gamma, NULL);
    return draw_run(&j, ws, 1);
}
GL_API int gl_draw_read_backward(float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma, const float *dread,
                                 const float *x, const float *xhat, const float *Fx, const float *Fy,
                                 const float *gamma, int batch, int N, int A, int B) {
    DRAW_JOB(K_READ_BACKWARD, dx, dxhat, dFx, dFy, dgamma, dread, x, xhat, Fx, Fy, gamma);
    return draw_run(&j, NULL, 0);
}
int gl_draw_read_backward_serial(float *ws, float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma,
                             const float *dread, const float *x, const float *xhat, const float *Fx, const float *Fy,
                             const float *gamma, int batch, int N, int A, int B) {
    DRAW_JOB(K_READ_BACKWARD, dx, dxhat, dFx, dFy, dgamma, dread, x, xhat, Fx, Fy, gamma);
    return draw_run(&j, ws, 1);
}
GL_API int gl_draw_write(float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                         int batch, int N, int A, int B) {
    DRAW_JOB(K_WRITE, canvas, NULL, NULL, NULL, NULL, w, Fx, Fy, gamma, NULL, NULL);
    return draw_run(&j, NULL, 0);
}
int gl_draw_write_serial(float *ws, float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                     int batch, int N, int A, int B) {
    DRAW_JOB(K_WRITE, canvas, NULL, NULL, NULL, NULL, w, Fx, Fy, gamma, NULL, NULL);
    return draw_run(&j, ws, 1);
}
GL_API int gl_draw_write_backward(float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                                  const float *w, const float *Fx, const float *Fy, const float *gamma, int batch,
                                  int N, int A, int B) {
    DRAW_JOB(K_WRITE_BACKWARD, dw, dFx, dFy, dgamma, NULL, dcanvas, w, Fx, Fy, gamma, NULL);
    return draw_run(&j, NULL, 0);
}
int gl_draw_write_backward_serial(float *ws, float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                              const float *w, const float *Fx, const float *Fy, const float *gamma, int batch, int N,
                              int A, int B) {
    DRAW_JOB(K_WRITE_BACKWARD, dw, dFx, dFy, dgamma, NULL, dcanvas, w, Fx, Fy, gamma, NULL);
    return draw_run(&j, ws, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* The oracle: the same four functions as direct sums over every index (double accumulators),
 * O(N^2 A B) per image. Slow on purpose; only tests call them. */

GL_TEST_API int gl_draw_read_ref(float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                            const float *gamma, int batch, int N, int A, int B) {
    int err = check_sizes("draw read", batch, N, A, B);
    if (err) return err;
    for (int n = 0; n < batch; n++)
        for (int c = 0; c < 2; c++) {
            const float *X = (c ? xhat : x) + (size_t)n * B * A;
            const float *fx = Fx + (size_t)n * N * A, *fy = Fy + (size_t)n * N * B;
            for (int j = 0; j < N; j++)
                for (int i = 0; i < N; i++) {
                    double s = 0.0;
                    for (int b = 0; b < B; b++)
                        for (int a = 0; a < A; a++) s += (double)fy[j * B + b] * X[b * A + a] * fx[i * A + a];
                    out[(((size_t)n * 2 + c) * N + j) * N + i] = (float)(gamma[n] * s);
                }
        }
    return GL_OK;
}

GL_TEST_API int gl_draw_read_backward_ref(float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma,
                                     const float *dread, const float *x, const float *xhat, const float *Fx,
                                     const float *Fy, const float *gamma, int batch, int N, int A, int B) {
    int err = check_sizes("draw read backward", batch, N, A, B);
    if (err) return err;
    for (int n = 0; n < batch; n++) {
        const float *fx = Fx + (size_t)n * N * A, *fy = Fy + (size_t)n * N * B;
        double g = gamma[n], dg = 0.0;
        for (int c = 0; c < 2; c++) {
            const float *X = (c ? xhat : x) + (size_t)n * B * A;
            float *dX = c ? dxhat : dx;
            const float *dR = dread + ((size_t)n * 2 + c) * N * N;
            for (int b = 0; b < B; b++)
                for (int a = 0; a < A; a++) {
                    double s = 0.0;
                    for (int j = 0; j < N; j++)
                        for (int i = 0; i < N; i++) s += (double)dR[j * N + i] * fy[j * B + b] * fx[i * A + a];
                    if (dX) dX[(size_t)n * B * A + b * A + a] += (float)(g * s);
                }
            for (int i = 0; i < N; i++)
                for (int a = 0; a < A; a++) {
                    double s = 0.0;
                    for (int j = 0; j < N; j++)
                        for (int b = 0; b < B; b++) s += (double)dR[j * N + i] * fy[j * B + b] * X[b * A + a];
                    dFx[(size_t)n * N * A + i * A + a] += (float)(g * s);
                }
            for (int j = 0; j < N; j++)
                for (int b = 0; b < B; b++) {
                    double s = 0.0;
                    for (int i = 0; i < N; i++)
                        for (int a = 0; a < A; a++) s += (double)dR[j * N + i] * X[b * A + a] * fx[i * A + a];
                    dFy[(size_t)n * N * B + j * B + b] += (float)(g * s);
                }
            for (int j = 0; j < N; j++)
                for (int i = 0; i < N; i++) {
                    double s = 0.0;
                    for (int b = 0; b < B; b++)
                        for (int a = 0; a < A; a++) s += (double)fy[j * B + b] * X[b * A + a] * fx[i * A + a];
                    dg += dR[j * N + i] * s;
                }
        }
        dgamma[n] += (float)dg;
    }
    return GL_OK;
}

GL_TEST_API int gl_draw_write_ref(float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                             int batch, int N, int A, int B) {
    int err = check_sizes("draw write", batch, N, A, B);
    if (err) return err;
    for (int n = 0; n < batch; n++) {
        const float *fx = Fx + (size_t)n * N * A, *fy = Fy + (size_t)n * N * B, *W = w + (size_t)n * N * N;
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++) {
                double s = 0.0;
                for (int j = 0; j < N; j++)
                    for (int i = 0; i < N; i++) s += (double)fy[j * B + b] * W[j * N + i] * fx[i * A + a];
                canvas[(size_t)n * B * A + b * A + a] = (float)(s / gamma[n]);
            }
    }
    return GL_OK;
}

GL_TEST_API int gl_draw_write_backward_ref(float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                                      const float *w, const float *Fx, const float *Fy, const float *gamma,
                                      int batch, int N, int A, int B) {
    int err = check_sizes("draw write backward", batch, N, A, B);
    if (err) return err;
    for (int n = 0; n < batch; n++) {
        const float *fx = Fx + (size_t)n * N * A, *fy = Fy + (size_t)n * N * B, *W = w + (size_t)n * N * N;
        const float *dC = dcanvas + (size_t)n * B * A;
        double ig = 1.0 / gamma[n], dg = 0.0;
        for (int j = 0; j < N; j++)
            for (int i = 0; i < N; i++) {
                double s = 0.0;
                for (int b = 0; b < B; b++)
                    for (int a = 0; a < A; a++) s += (double)dC[b * A + a] * fy[j * B + b] * fx[i * A + a];
                if (dw) dw[(size_t)n * N * N + j * N + i] += (float)(ig * s);
                dg -= ig * ig * W[j * N + i] * s; /* d(1/gamma)/dgamma = -1/gamma^2 */
            }
        for (int i = 0; i < N; i++)
            for (int a = 0; a < A; a++) {
                double s = 0.0;
                for (int j = 0; j < N; j++)
                    for (int b = 0; b < B; b++) s += (double)dC[b * A + a] * fy[j * B + b] * W[j * N + i];
                dFx[(size_t)n * N * A + i * A + a] += (float)(ig * s);
            }
        for (int j = 0; j < N; j++)
            for (int b = 0; b < B; b++) {
                double s = 0.0;
                for (int i = 0; i < N; i++)
                    for (int a = 0; a < A; a++) s += (double)dC[b * A + a] * W[j * N + i] * fx[i * A + a];
                dFy[(size_t)n * N * B + j * B + b] += (float)(ig * s);
            }
        dgamma[n] += (float)dg;
    }
    return GL_OK;
}
