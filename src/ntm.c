/* ntm.c: the Neural Turing Machine's memory kernels (Graves et al. 2014, section 3, eq. 2-9):
 * content + location addressing of a head, reading and writing, forward and backward.
 *
 * Sizes: B batch items, H heads per item (every head of item b addresses the memory of item b),
 * R memory rows, C row width, S = 2n+1 shift length (weights for offsets o = -n..n).
 *
 * Addressing (one head; M is R×C, k has C entries, beta, g, gamma scalars, s has S entries,
 * prev has R entries):
 *   eq. 6   K_i   = M_i·k / max(||M_i||·||k||, 1e-8)                      cosine similarity
 *   eq. 5   wc    = softmax(beta·K), computed as exp(beta·(K_i − max K)) / Σ
 *   eq. 7   wg    = g·wc + (1−g)·prev
 *   eq. 8   w~(i) = Σ_{o=−n..n} wg((i−o) mod R)·s(o+n)
 *   eq. 9   w     = w~^gamma / Σ w~^gamma, computed as softmax(gamma·L) with
 *                   L_i = log(max(w~_i, 1e-30)): no 0^gamma, no underflow of w~^gamma to an
 *                   all-zero sum (gamma = 50 and w~ = 0.01 would give 1e-100), and
 *                   exp(gamma·(L_i − max L)) never overflows. The clamp passes gradient where
 *                   w~_i >= 1e-30 (torch.clamp's rule); the PyTorch reference
 *                   (tests/gen_fixtures_ntm.py) computes exactly softmax(gamma·log(clamp(w~, 1e-30))).
 *   The cosine denominator's max passes gradient to the norms where ||M_i||·||k|| >= 1e-8
 *   (again torch.clamp's rule); below it K_i = M_i·k / 1e-8 (a zero row or a zero key gives K = 0).
 * Reading (eq. 2):  r = Σ_i w(i)·M_i.
 * Writing (eq. 3-4): M'_i = M_i ∘ (1 − w(i)·e) + w(i)·a.
 *
 * C API (for the NTM model; prototypes in src/ntm.h). All return GL_OK or a gl_fail() code.
 * Backward functions accumulate (+=) into their gradient buffers; a NULL gradient pointer is
 * skipped. Layouts:
 *
 *   gl_ntm_cache_floats(R) = GL_NTM_CACHE_FLOATS(R) = 6R+2: floats of cache per head.
 *   gl_ntm_address_forward(w, cache, M, k, beta, g, s, gamma, prev, B, H, R, C, S)
 *       w (B,H,R) out; cache (B,H,6R+2) out, may be NULL when no backward follows;
 *       M (B,R,C), k (B,H,C), beta g gamma (B,H), s (B,H,S), prev (B,H,R).
 *   gl_ntm_address_backward(dM, dk, dbeta, dg, ds, dgamma, dprev, dw, cache, M, k, beta, g, s,
 *                           gamma, prev, B, H, R, C, S)
 *       gradients with the shapes of their inputs; dw (B,H,R); cache as filled by the forward
 *       on the same inputs (required). dM sums over the H heads of each item.
 *   gl_ntm_read_forward(r, M, w, B, H, R, C)             r (B,H,C) out
 *   gl_ntm_read_backward(dM, dw, dr, M, w, B, H, R, C)   dM (B,R,C), dw (B,H,R) += ; dr (B,H,C)
 *   gl_ntm_write_forward(Mout, M, w, e, a, B, R, C)      one write head per call: w (B,R),
 *       e a (B,C), Mout (B,R,C) out; Mout == M (in place) is allowed. Several write heads:
 *       call once per head, in order.
 *   gl_ntm_write_backward(dM, dw, de, da, dMout, M, w, e, a, B, R, C)
 *       dM (B,R,C), dw (B,R), de da (B,C) += ; dMout (B,R,C); M is the memory BEFORE the write;
 *       dM must not alias dMout.
 *   Each has a _ref twin (plain scalar code, direct transcription of the equations) used as
 *   the oracle by the tests. gl_ntm_address_backward_ref ignores `cache` (may be NULL) and
 *   recomputes the forward itself, so it also checks the fast kernels' use of the cache.
 *
 * Cache layout per head (offsets in floats): ||M_i|| [0,R), K [R,2R), wc [2R,3R), wg [3R,4R),
 * w~ [4R,5R), w [5R,6R), ||k|| at 6R, one spare float.
 *
 * The fast kernels vectorise every loop over C (cosine dot products and norms, the memory and key
 * gradients, read, write and their backward) and the shift convolution over R with simd.h; the
 * softmax/log/exp stages over R are scalar (simd.h has no exp). Softmax normalisers and the scalar
 * gradient sums over R (dbeta, dg, dgamma, the softmax inner products) are accumulated in double.
 * Inputs are not range-checked here (the JS binding validates beta >= 0, g in [0,1], gamma >= 1,
 * s summing to 1); the kernels stay finite for any finite inputs of those ranges, including
 * beta = 1000, gamma = 50, zero memory rows and a zero key.
 */
#include "glimpse.h"
#include "ntm.h"
#include "arena.h"
#include "pool.h"
#include "simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Argument checks. */

static int check_sizes(const char *fn, int B, int H, int R, int C, int S) {
    if (B <= 0 || H <= 0 || R <= 0 || C <= 0 || S <= 0)
        return gl_fail(GL_EINVAL, "%s: sizes must be positive (B=%d H=%d R=%d C=%d S=%d)", fn, B, H, R, C, S);
    if (S % 2 == 0) return gl_fail(GL_EINVAL, "%s: shift length S must be odd (2n+1), got %d", fn, S);
    if (!gl_size((size_t)B, (size_t)R, (size_t)C, 1) || !gl_size((size_t)B, (size_t)H, (size_t)C, 1) ||
        !gl_size((size_t)B, (size_t)H, GL_NTM_CACHE_FLOATS(R), 1) || !gl_size((size_t)B, (size_t)H, (size_t)S, 1))
        return gl_fail(GL_ENOMEM, "%s: tensor too large (B=%d H=%d R=%d C=%d S=%d)", fn, B, H, R, C, S);
    return GL_OK;
}

static int check_address_ptrs(const char *fn, const void *M, const void *k, const void *beta, const void *g,
                              const void *s, const void *gamma, const void *prev) {
    if (!M || !k || !beta || !g || !s || !gamma || !prev)
        return gl_fail(GL_EINVAL, "%s: an input pointer is NULL", fn);
    return GL_OK;
}

/* Floats of cache per head; 0 for an invalid R. */
GL_API int gl_ntm_cache_floats(int R) { return R > 0 && R < (1 << 28) ? (int)GL_NTM_CACHE_FLOATS(R) : 0; }

/* Non-negative remainder. */
static inline int pmod(long a, int R) {
    long m = a % R;
    return (int)(m < 0 ? m + R : m);
}

/* ---------------------------------------------------------------------------------------- */
/* The oracle: direct transcription of eq. 5-9, one element at a time. */

static void ref_address_one(float *w, float *cache, const float *M, const float *k, float beta, float g,
                            const float *s, float gamma, const float *prev, int R, int C, int S) {
    float *nM = cache, *K = cache + R, *wc = cache + 2 * R, *wg = cache + 3 * R, *wt = cache + 4 * R;
    float *wo = cache + 5 * R;
    int n = S / 2;
    float kk = 0.0f;
    for (int c = 0; c < C; c++) kk += k[c] * k[c];
    float nk = sqrtf(kk);
    cache[6 * R] = nk;
    cache[6 * R + 1] = 0.0f;
    for (int i = 0; i < R; i++) {
        float dot = 0.0f, mm = 0.0f;
        for (int c = 0; c < C; c++) {
            dot += M[(size_t)i * C + c] * k[c];
            mm += M[(size_t)i * C + c] * M[(size_t)i * C + c];
        }
        nM[i] = sqrtf(mm);
        float prod = nM[i] * nk;
        K[i] = dot / (prod >= GL_NTM_COS_EPS ? prod : GL_NTM_COS_EPS); /* eq. 6 */
    }
    float kmax = K[0];
    for (int i = 1; i < R; i++) kmax = K[i] > kmax ? K[i] : kmax;
    double z = 0.0;
    for (int i = 0; i < R; i++) z += (wc[i] = expf(beta * (K[i] - kmax))); /* eq. 5 */
    for (int i = 0; i < R; i++) wc[i] = (float)(wc[i] / z);
    for (int i = 0; i < R; i++) wg[i] = g * wc[i] + (1.0f - g) * prev[i]; /* eq. 7 */
    for (int i = 0; i < R; i++) {                                          /* eq. 8 */
        double acc = 0.0;
        for (int j = 0; j < S; j++) acc += (double)wg[pmod((long)i - (j - n), R)] * s[j];
        wt[i] = (float)acc;
    }
    float lmax = -INFINITY;
    for (int i = 0; i < R; i++) {
        float l = logf(wt[i] >= GL_NTM_SHARP_MIN ? wt[i] : GL_NTM_SHARP_MIN);
        lmax = l > lmax ? l : lmax;
    }
    double zs = 0.0;
    for (int i = 0; i < R; i++) { /* eq. 9 */
        float l = logf(wt[i] >= GL_NTM_SHARP_MIN ? wt[i] : GL_NTM_SHARP_MIN);
        float d = l - lmax;
        zs += (wo[i] = d == 0.0f ? 1.0f : expf(gamma * d));
    }
    for (int i = 0; i < R; i++) w[i] = wo[i] = (float)(wo[i] / zs);
}

GL_TEST_API int gl_ntm_address_forward_ref(float *w, float *cache, const float *M, const float *k, const float *beta,
                                      const float *g, const float *s, const float *gamma, const float *prev, int B,
                                      int H, int R, int C, int S) {
    int err = check_sizes("ntm_address_forward", B, H, R, C, S);
    if (!err) err = check_address_ptrs("ntm_address_forward", M, k, beta, g, s, gamma, prev);
    if (err) return err;
    if (!w) return gl_fail(GL_EINVAL, "ntm_address_forward: output pointer is NULL");
    size_t CF = GL_NTM_CACHE_FLOATS(R);
    float *tmp = NULL;
    if (!cache) {
        tmp = malloc(CF * sizeof(float));
        if (!tmp) return gl_fail(GL_ENOMEM, "ntm_address_forward: out of memory");
    }
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            ref_address_one(w + bh * R, cache ? cache + bh * CF : tmp, M + (size_t)b * R * C, k + bh * C, beta[bh],
                            g[bh], s + bh * S, gamma[bh], prev + bh * R, R, C, S);
        }
    free(tmp);
    return GL_OK;
}

/* Backward of one head, from the inputs alone (the forward is recomputed into `cache`). */
static void ref_address_backward_one(float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                     float *dprev, const float *dw, float *cache, float *tmp, const float *M,
                                     const float *k, float beta, float g, const float *s, float gamma,
                                     const float *prev, int R, int C, int S) {
    float *w = cache + 5 * R; /* ref_address_one stores w there too */
    ref_address_one(tmp, cache, M, k, beta, g, s, gamma, prev, R, C, S);
    const float *nM = cache, *K = cache + R, *wc = cache + 2 * R, *wg = cache + 3 * R, *wt = cache + 4 * R;
    float nk = cache[6 * R];
    float *dwt = tmp, *dwg = tmp + R, *dK = tmp + 2 * R;
    int n = S / 2;

    /* eq. 9: w = softmax(gamma·L), L = log(max(w~, 1e-30)) */
    double sw = 0.0;
    for (int i = 0; i < R; i++) sw += (double)w[i] * dw[i];
    double dgam = 0.0;
    for (int i = 0; i < R; i++) {
        float u = wt[i] >= GL_NTM_SHARP_MIN ? wt[i] : GL_NTM_SHARP_MIN;
        float q = (float)(w[i] * (dw[i] - sw)); /* d loss / d (gamma·L_i) */
        dgam += (double)q * logf(u);
        dwt[i] = wt[i] >= GL_NTM_SHARP_MIN ? gamma * q / u : 0.0f;
    }
    if (dgamma) *dgamma += (float)dgam;

    /* eq. 8: w~(i) = Σ_j wg((i − (j−n)) mod R)·s_j */
    for (int i = 0; i < R; i++) dwg[i] = 0.0f;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < S; j++) {
            int m = pmod((long)i - (j - n), R);
            dwg[m] += dwt[i] * s[j];
            if (ds) ds[j] += dwt[i] * wg[m];
        }

    /* eq. 7 */
    double dgate = 0.0;
    for (int i = 0; i < R; i++) {
        dgate += (double)dwg[i] * (wc[i] - prev[i]);
        if (dprev) dprev[i] += (1.0f - g) * dwg[i];
    }
    if (dg) *dg += (float)dgate;

    /* eq. 5: wc = softmax(beta·K) with dwc = g·dwg */
    double swc = 0.0;
    for (int i = 0; i < R; i++) swc += (double)wc[i] * (g * dwg[i]);
    double db = 0.0;
    for (int i = 0; i < R; i++) {
        float dz = (float)(wc[i] * (g * dwg[i] - swc));
        db += (double)dz * K[i];
        dK[i] = beta * dz;
    }
    if (dbeta) *dbeta += (float)db;

    /* eq. 6: K_i = dot_i / den_i, den_i = max(||M_i||·||k||, eps) */
    double dnk = 0.0;
    for (int i = 0; i < R; i++) {
        float prod = nM[i] * nk;
        int active = prod >= GL_NTM_COS_EPS;
        float den = active ? prod : GL_NTM_COS_EPS;
        float ddot = dK[i] / den;
        float dden = -dK[i] * K[i] / den; /* d K / d den = −dot/den² = −K/den */
        float dnM = active ? dden * nk : 0.0f;
        if (active) dnk += (double)dden * nM[i];
        for (int c = 0; c < C; c++) {
            float m = M[(size_t)i * C + c];
            if (dM) dM[(size_t)i * C + c] += ddot * k[c] + (active ? dnM * m / nM[i] : 0.0f);
            if (dk) dk[c] += ddot * m;
        }
    }
    if (dk && nk > 0.0f)
        for (int c = 0; c < C; c++) dk[c] += (float)(dnk * k[c] / nk);
}

GL_TEST_API int gl_ntm_address_backward_ref(float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                       float *dprev, const float *dw, const float *cache, const float *M,
                                       const float *k, const float *beta, const float *g, const float *s,
                                       const float *gamma, const float *prev, int B, int H, int R, int C, int S) {
    int err = check_sizes("ntm_address_backward", B, H, R, C, S);
    if (!err) err = check_address_ptrs("ntm_address_backward", M, k, beta, g, s, gamma, prev);
    if (err) return err;
    if (!dw) return gl_fail(GL_EINVAL, "ntm_address_backward: dw is NULL");
    (void)cache;
    size_t CF = GL_NTM_CACHE_FLOATS(R);
    float *own = malloc((CF + 3 * (size_t)R) * sizeof(float));
    if (!own) return gl_fail(GL_ENOMEM, "ntm_address_backward: out of memory");
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            ref_address_backward_one(dM ? dM + (size_t)b * R * C : NULL, dk ? dk + bh * C : NULL,
                                     dbeta ? dbeta + bh : NULL, dg ? dg + bh : NULL, ds ? ds + bh * S : NULL,
                                     dgamma ? dgamma + bh : NULL, dprev ? dprev + bh * R : NULL, dw + bh * R, own,
                                     own + CF, M + (size_t)b * R * C, k + bh * C, beta[bh], g[bh], s + bh * S,
                                     gamma[bh], prev + bh * R, R, C, S);
        }
    free(own);
    return GL_OK;
}

/* eq. 2 */
GL_TEST_API int gl_ntm_read_forward_ref(float *r, const float *M, const float *w, int B, int H, int R, int C) {
    int err = check_sizes("ntm_read_forward", B, H, R, C, 1);
    if (err) return err;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            for (int c = 0; c < C; c++) {
                float acc = 0.0f;
                for (int i = 0; i < R; i++) acc += w[bh * R + i] * M[((size_t)b * R + i) * C + c];
                r[bh * C + c] = acc;
            }
        }
    return GL_OK;
}

GL_TEST_API int gl_ntm_read_backward_ref(float *dM, float *dw, const float *dr, const float *M, const float *w, int B,
                                    int H, int R, int C) {
    int err = check_sizes("ntm_read_backward", B, H, R, C, 1);
    if (err) return err;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            for (int i = 0; i < R; i++) {
                float acc = 0.0f;
                for (int c = 0; c < C; c++) {
                    size_t mi = ((size_t)b * R + i) * C + c;
                    acc += dr[bh * C + c] * M[mi];
                    if (dM) dM[mi] += w[bh * R + i] * dr[bh * C + c];
                }
                if (dw) dw[bh * R + i] += acc;
            }
        }
    return GL_OK;
}

/* eq. 3-4 */
GL_TEST_API int gl_ntm_write_forward_ref(float *Mout, const float *M, const float *w, const float *e, const float *a,
                                    int B, int R, int C) {
    int err = check_sizes("ntm_write_forward", B, 1, R, C, 1);
    if (err) return err;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < R; i++) {
            float wi = w[(size_t)b * R + i];
            for (int c = 0; c < C; c++) {
                size_t mi = ((size_t)b * R + i) * C + c;
                Mout[mi] = M[mi] * (1.0f - wi * e[(size_t)b * C + c]) + wi * a[(size_t)b * C + c];
            }
        }
    return GL_OK;
}

GL_TEST_API int gl_ntm_write_backward_ref(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                     const float *w, const float *e, const float *a, int B, int R, int C) {
    int err = check_sizes("ntm_write_backward", B, 1, R, C, 1);
    if (err) return err;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < R; i++) {
            float wi = w[(size_t)b * R + i], acc = 0.0f;
            for (int c = 0; c < C; c++) {
                size_t mi = ((size_t)b * R + i) * C + c, bc = (size_t)b * C + c;
                float d = dMout[mi];
                if (dM) dM[mi] += d * (1.0f - wi * e[bc]);
                acc += d * (a[bc] - M[mi] * e[bc]);
                if (de) de[bc] -= d * M[mi] * wi;
                if (da) da[bc] += d * wi;
            }
            if (dw) dw[(size_t)b * R + i] += acc;
        }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Fast kernels: SIMD over C (and over R in the shift convolution). */

static inline float dot_c(const float *x, const float *y, int C) {
    vf acc = VF_SET1(0.0f);
    int c = 0;
    for (; c + VF_WIDTH <= C; c += VF_WIDTH) acc = VF_FMA(VF_LOAD(x + c), VF_LOAD(y + c), acc);
    float t = VF_HSUM(acc);
    for (; c < C; c++) t += x[c] * y[c];
    return t;
}

/* y += a·x over C */
static inline void axpy_c(float *y, float a, const float *x, int C) {
    vf va = VF_SET1(a);
    int c = 0;
    for (; c + VF_WIDTH <= C; c += VF_WIDTH) VF_STORE(y + c, VF_FMA(va, VF_LOAD(x + c), VF_LOAD(y + c)));
    for (; c < C; c++) y[c] += a * x[c];
}

/* y += a·x + b·z over C */
static inline void axpbz_c(float *y, float a, const float *x, float b, const float *z, int C) {
    vf va = VF_SET1(a), vb = VF_SET1(b);
    int c = 0;
    for (; c + VF_WIDTH <= C; c += VF_WIDTH)
        VF_STORE(y + c, VF_FMA(va, VF_LOAD(x + c), VF_FMA(vb, VF_LOAD(z + c), VF_LOAD(y + c))));
    for (; c < C; c++) y[c] += a * x[c] + b * z[c];
}

/* Circular shift-and-add: y(i) += a·x((i − off) mod R) for all i, 0 <= off < R, as two
 * contiguous axpys (no modulo in the inner loop). */
static inline void roll_axpy(float *y, float a, const float *x, int off, int R) {
    axpy_c(y + off, a, x, R - off);
    if (off) axpy_c(y, a, x + (R - off), off);
}

/* Σ_i y(i)·x((i − off) mod R) */
static inline double roll_dot(const float *y, const float *x, int off, int R) {
    double t = dot_c(y + off, x, R - off);
    if (off) t += dot_c(y, x + (R - off), off);
    return t;
}

static void address_one(float *w, float *cache, const float *M, const float *k, float beta, float g, const float *s,
                        float gamma, const float *prev, int R, int C, int S) {
    float *nM = cache, *K = cache + R, *wc = cache + 2 * R, *wg = cache + 3 * R, *wt = cache + 4 * R;
    float *wo = cache + 5 * R;
    int n = S / 2;
    float nk = sqrtf(dot_c(k, k, C));
    cache[6 * R] = nk;
    cache[6 * R + 1] = 0.0f;
    float kmax = -INFINITY;
    for (int i = 0; i < R; i++) { /* eq. 6: one pass over the row for the dot product and the norm */
        const float *Mi = M + (size_t)i * C;
        vf vd = VF_SET1(0.0f), vn = VF_SET1(0.0f);
        int c = 0;
        for (; c + VF_WIDTH <= C; c += VF_WIDTH) {
            vf m = VF_LOAD(Mi + c);
            vd = VF_FMA(m, VF_LOAD(k + c), vd);
            vn = VF_FMA(m, m, vn);
        }
        float dot = VF_HSUM(vd), mm = VF_HSUM(vn);
        for (; c < C; c++) {
            dot += Mi[c] * k[c];
            mm += Mi[c] * Mi[c];
        }
        nM[i] = sqrtf(mm);
        float prod = nM[i] * nk;
        K[i] = dot / (prod >= GL_NTM_COS_EPS ? prod : GL_NTM_COS_EPS);
        kmax = K[i] > kmax ? K[i] : kmax;
    }
    double z = 0.0; /* eq. 5 */
    for (int i = 0; i < R; i++) z += (wc[i] = expf(beta * (K[i] - kmax)));
    float iz = (float)(1.0 / z);
    for (int i = 0; i < R; i++) wc[i] *= iz;
    { /* eq. 7 */
        vf vg = VF_SET1(g), vh = VF_SET1(1.0f - g);
        int i = 0;
        for (; i + VF_WIDTH <= R; i += VF_WIDTH)
            VF_STORE(wg + i, VF_FMA(vg, VF_LOAD(wc + i), VF_MUL(vh, VF_LOAD(prev + i))));
        for (; i < R; i++) wg[i] = g * wc[i] + (1.0f - g) * prev[i];
    }
    memset(wt, 0, (size_t)R * sizeof(float)); /* eq. 8 */
    for (int j = 0; j < S; j++) roll_axpy(wt, s[j], wg, pmod(j - n, R), R);
    float lmax = -INFINITY; /* eq. 9 */
    for (int i = 0; i < R; i++) {
        float l = logf(wt[i] >= GL_NTM_SHARP_MIN ? wt[i] : GL_NTM_SHARP_MIN);
        wo[i] = l; /* L, overwritten below */
        lmax = l > lmax ? l : lmax;
    }
    double zs = 0.0;
    for (int i = 0; i < R; i++) {
        float d = wo[i] - lmax;
        zs += (wo[i] = d == 0.0f ? 1.0f : expf(gamma * d));
    }
    float izs = (float)(1.0 / zs);
    for (int i = 0; i < R; i++) w[i] = wo[i] = wo[i] * izs;
}

/* Items [b0, b1). tmp: CF floats of scratch, used when cache is NULL. */
static void address_forward_items(float *tmp, float *w, float *cache, const float *M, const float *k, const float *beta,
                                  const float *g, const float *s, const float *gamma, const float *prev, int b0, int b1,
                                  int H, int R, int C, int S) {
    size_t CF = GL_NTM_CACHE_FLOATS(R);
    for (int b = b0; b < b1; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            address_one(w + bh * R, cache ? cache + bh * CF : tmp, M + (size_t)b * R * C, k + bh * C, beta[bh], g[bh],
                        s + bh * S, gamma[bh], prev + bh * R, R, C, S);
        }
}

static void address_backward_one(float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                 float *dprev, const float *dw, const float *cache, float *tmp, const float *M,
                                 const float *k, float beta, float g, const float *s, float gamma, const float *prev,
                                 int R, int C, int S) {
    const float *nM = cache, *K = cache + R, *wc = cache + 2 * R, *wg = cache + 3 * R, *wt = cache + 4 * R;
    const float *w = cache + 5 * R;
    float nk = cache[6 * R];
    float *dwt = tmp, *dwg = tmp + R, *dK = tmp + 2 * R;
    int n = S / 2;

    /* eq. 9 */
    double sw = 0.0;
    for (int i = 0; i < R; i++) sw += (double)w[i] * dw[i];
    double dgam = 0.0;
    for (int i = 0; i < R; i++) {
        float u = wt[i] >= GL_NTM_SHARP_MIN ? wt[i] : GL_NTM_SHARP_MIN;
        float q = (float)(w[i] * (dw[i] - sw));
        dgam += (double)q * logf(u);
        dwt[i] = wt[i] >= GL_NTM_SHARP_MIN ? gamma * q / u : 0.0f;
    }
    if (dgamma) *dgamma += (float)dgam;

    /* eq. 8: dwg(m) = Σ_j s_j·dwt((m + o_j) mod R);  ds_j = Σ_i dwt(i)·wg((i − o_j) mod R) */
    memset(dwg, 0, (size_t)R * sizeof(float));
    for (int j = 0; j < S; j++) {
        int off = pmod(j - n, R);
        roll_axpy(dwg, s[j], dwt, pmod(-(long)off, R), R);
        if (ds) ds[j] += (float)roll_dot(dwt, wg, off, R);
    }

    /* eq. 7 */
    double dgate = 0.0, swc = 0.0;
    for (int i = 0; i < R; i++) {
        dgate += (double)dwg[i] * (wc[i] - prev[i]);
        swc += (double)wc[i] * dwg[i];
    }
    if (dg) *dg += (float)dgate;
    if (dprev) axpy_c(dprev, 1.0f - g, dwg, R);

    /* eq. 5, with dwc = g·dwg */
    swc *= g;
    double db = 0.0;
    for (int i = 0; i < R; i++) {
        float dz = (float)(wc[i] * (g * dwg[i] - swc));
        db += (double)dz * K[i];
        dK[i] = beta * dz;
    }
    if (dbeta) *dbeta += (float)db;

    /* eq. 6 */
    if (!dM && !dk) return;
    double dnk = 0.0;
    for (int i = 0; i < R; i++) {
        if (dK[i] == 0.0f) continue;
        const float *Mi = M + (size_t)i * C;
        float prod = nM[i] * nk;
        int active = prod >= GL_NTM_COS_EPS;
        float den = active ? prod : GL_NTM_COS_EPS;
        float ddot = dK[i] / den;
        float dden = -dK[i] * K[i] / den;
        if (active) dnk += (double)dden * nM[i];
        if (dM) {
            float *dMi = dM + (size_t)i * C;
            if (active) axpbz_c(dMi, ddot, k, dden * nk / nM[i], Mi, C);
            else axpy_c(dMi, ddot, k, C);
        }
        if (dk) axpy_c(dk, ddot, Mi, C);
    }
    if (dk && nk > 0.0f) axpy_c(dk, (float)(dnk / nk), k, C);
}

/* Items [b0, b1) (an item's heads in order: they share dM). tmp: 3R floats of scratch. */
static void address_backward_items(float *tmp, float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                   float *dprev, const float *dw, const float *cache, const float *M, const float *k,
                                   const float *beta, const float *g, const float *s, const float *gamma,
                                   const float *prev, int b0, int b1, int H, int R, int C, int S) {
    size_t CF = GL_NTM_CACHE_FLOATS(R);
    for (int b = b0; b < b1; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            address_backward_one(dM ? dM + (size_t)b * R * C : NULL, dk ? dk + bh * C : NULL, dbeta ? dbeta + bh : NULL,
                                 dg ? dg + bh : NULL, ds ? ds + bh * S : NULL, dgamma ? dgamma + bh : NULL,
                                 dprev ? dprev + bh * R : NULL, dw + bh * R, cache + bh * CF, tmp,
                                 M + (size_t)b * R * C, k + bh * C, beta[bh], g[bh], s + bh * S, gamma[bh],
                                 prev + bh * R, R, C, S);
        }
}

/* eq. 2: r = Σ_i w(i)·M_i, as R axpys over C */
static void read_forward_items(float *r, const float *M, const float *w, int b0, int b1, int H, int R, int C) {
    for (int b = b0; b < b1; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            float *rb = r + bh * C;
            memset(rb, 0, (size_t)C * sizeof(float));
            for (int i = 0; i < R; i++) axpy_c(rb, w[bh * R + i], M + ((size_t)b * R + i) * C, C);
        }
}

static void read_backward_items(float *dM, float *dw, const float *dr, const float *M, const float *w, int b0, int b1,
                                int H, int R, int C) {
    for (int b = b0; b < b1; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            const float *drb = dr + bh * C;
            for (int i = 0; i < R; i++) {
                size_t row = ((size_t)b * R + i) * C;
                if (dw) dw[bh * R + i] += dot_c(drb, M + row, C);
                if (dM) axpy_c(dM + row, w[bh * R + i], drb, C);
            }
        }
}

/* eq. 3-4: M'_i = M_i + w_i (a - M_i e), items [b0, b1) */
static void write_forward_items(float *Mout, const float *M, const float *w, const float *e, const float *a, int b0,
                                int b1, int R, int C) {
    for (int b = b0; b < b1; b++) {
        const float *eb = e + (size_t)b * C, *ab = a + (size_t)b * C;
        for (int i = 0; i < R; i++) {
            size_t row = ((size_t)b * R + i) * C;
            const float *Mi = M + row;
            float *Oi = Mout + row;
            float wi = w[(size_t)b * R + i];
            vf vw = VF_SET1(wi);
            int c = 0;
            for (; c + VF_WIDTH <= C; c += VF_WIDTH) {
                vf m = VF_LOAD(Mi + c);
                VF_STORE(Oi + c, VF_FMA(vw, VF_SUB(VF_LOAD(ab + c), VF_MUL(m, VF_LOAD(eb + c))), m));
            }
            for (; c < C; c++) Oi[c] = wi * (ab[c] - Mi[c] * eb[c]) + Mi[c];
        }
    }
}

static void write_backward_items(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                 const float *w, const float *e, const float *a, int b0, int b1, int R, int C) {
    const vf one = VF_SET1(1.0f);
    for (int b = b0; b < b1; b++) {
        const float *eb = e + (size_t)b * C, *ab = a + (size_t)b * C;
        float *deb = de ? de + (size_t)b * C : NULL, *dab = da ? da + (size_t)b * C : NULL;
        for (int i = 0; i < R; i++) {
            size_t row = ((size_t)b * R + i) * C;
            const float *Mi = M + row, *Di = dMout + row;
            float wi = w[(size_t)b * R + i];
            vf vw = VF_SET1(wi), acc = VF_SET1(0.0f);
            int c = 0;
            for (; c + VF_WIDTH <= C; c += VF_WIDTH) {
                vf d = VF_LOAD(Di + c), m = VF_LOAD(Mi + c), ev = VF_LOAD(eb + c);
                vf dm = VF_MUL(d, m);
                if (dM) VF_STORE(dM + row + c, VF_FMA(d, VF_SUB(one, VF_MUL(vw, ev)), VF_LOAD(dM + row + c)));
                acc = VF_FMA(d, VF_SUB(VF_LOAD(ab + c), VF_MUL(m, ev)), acc);
                if (deb) VF_STORE(deb + c, VF_SUB(VF_LOAD(deb + c), VF_MUL(dm, vw)));
                if (dab) VF_STORE(dab + c, VF_FMA(d, vw, VF_LOAD(dab + c)));
            }
            float t = VF_HSUM(acc);
            for (; c < C; c++) {
                float d = Di[c];
                if (dM) dM[row + c] += d * (1.0f - wi * eb[c]);
                t += d * (ab[c] - Mi[c] * eb[c]);
                if (deb) deb[c] -= d * Mi[c] * wi;
                if (dab) dab[c] += d * wi;
            }
            if (dw) dw[(size_t)b * R + i] += t;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Entry points: the serial forms (for code inside pool tasks) and the public kernels, which split
 * the batch items over the pool's threads with one slot of scratch each (an item's result does
 * not depend on the split). */

size_t gl_ntm_ws_floats(int R) { return GL_NTM_CACHE_FLOATS(R) + 3 * (size_t)R; }

enum { K_ADDRESS, K_ADDRESS_BACKWARD, K_READ, K_READ_BACKWARD, K_WRITE, K_WRITE_BACKWARD };

typedef struct {
    int kind, B, H, R, C, S, ntasks;
    float *ws;
    size_t slot;
    float *o[7];       /* outputs / gradients in argument order */
    const float *i[9]; /* inputs in argument order */
} ntm_job;

static void run_items(const ntm_job *j, float *ws, int b0, int b1) {
    float *const *o = j->o;
    const float *const *in = j->i;
    switch (j->kind) {
    case K_ADDRESS:
        address_forward_items(ws, o[0], o[1], in[0], in[1], in[2], in[3], in[4], in[5], in[6], b0, b1, j->H, j->R, j->C, j->S);
        break;
    case K_ADDRESS_BACKWARD:
        address_backward_items(ws, o[0], o[1], o[2], o[3], o[4], o[5], o[6], in[0], in[1], in[2], in[3], in[4], in[5],
                               in[6], in[7], in[8], b0, b1, j->H, j->R, j->C, j->S);
        break;
    case K_READ: read_forward_items(o[0], in[0], in[1], b0, b1, j->H, j->R, j->C); break;
    case K_READ_BACKWARD: read_backward_items(o[0], o[1], in[0], in[1], in[2], b0, b1, j->H, j->R, j->C); break;
    case K_WRITE: write_forward_items(o[0], in[0], in[1], in[2], in[3], b0, b1, j->R, j->C); break;
    default: write_backward_items(o[0], o[1], o[2], o[3], in[0], in[1], in[2], in[3], in[4], b0, b1, j->R, j->C); break;
    }
}

static int ntm_task(void *p, int t, int w) {
    const ntm_job *j = (const ntm_job *)p;
    int lo, hi;
    gl_task_range(j->B, j->ntasks, t, &lo, &hi);
    if (lo < hi) run_items(j, j->ws ? j->ws + (size_t)w * j->slot : NULL, lo, hi);
    return GL_OK;
}

static const char *const kernel_names[] = {"ntm_address_forward", "ntm_address_backward", "ntm_read_forward",
                                           "ntm_read_backward", "ntm_write_forward", "ntm_write_backward"};

/* Checks, then the items: serially with the caller's scratch (ws != NULL, or none needed and
 * serial set), or split over the threads. */
static int ntm_run(ntm_job *j, float *ws, int serial) {
    const char *fn = kernel_names[j->kind];
    int address = j->kind <= K_ADDRESS_BACKWARD;
    int err = check_sizes(fn, j->B, j->kind >= K_WRITE ? 1 : j->H, j->R, j->C, address ? j->S : 1);
    if (err) return err;
    if (j->kind == K_ADDRESS) {
        const float *const *in = j->i;
        if ((err = check_address_ptrs(fn, in[0], in[1], in[2], in[3], in[4], in[5], in[6]))) return err;
        if (!j->o[0]) return gl_fail(GL_EINVAL, "%s: output pointer is NULL", fn);
    } else if (j->kind == K_ADDRESS_BACKWARD) {
        const float *const *in = j->i;
        if ((err = check_address_ptrs(fn, in[2], in[3], in[4], in[5], in[6], in[7], in[8]))) return err;
        if (!in[0] || !in[1]) return gl_fail(GL_EINVAL, "%s: dw or cache is NULL", fn);
    }
    if (serial) {
        run_items(j, ws, 0, j->B);
        return GL_OK;
    }
    double work = (double)j->B * (address ? j->H : 1) * j->R * (j->C + 4.0 * j->S) * (j->kind == K_ADDRESS_BACKWARD ? 3 : 1);
    j->ntasks = gl_pool_tasks(j->B, work);
    j->slot = address ? gl_arena_round(gl_ntm_ws_floats(j->R)) : 0;
    j->ws = NULL;
    if (j->slot) {
        j->ws = malloc((size_t)j->ntasks * j->slot * sizeof(float));
        if (!j->ws) return gl_fail(GL_ENOMEM, "%s: out of memory", fn);
    }
    err = gl_parallel(j->ntasks, ntm_task, j);
    free(j->ws);
    return err;
}

#define ADDRESS_JOB(kind_)                                                                                        \
    ntm_job j = {kind_, B, H, R, C, S, 1, NULL, 0, {0}, {0}}

GL_API int gl_ntm_address_forward(float *w, float *cache, const float *M, const float *k, const float *beta,
                                  const float *g, const float *s, const float *gamma, const float *prev, int B,
                                  int H, int R, int C, int S) {
    ADDRESS_JOB(K_ADDRESS);
    float *o[] = {w, cache};
    const float *in[] = {M, k, beta, g, s, gamma, prev};
    memcpy(j.o, o, sizeof o);
    memcpy(j.i, in, sizeof in);
    return ntm_run(&j, NULL, 0);
}
int gl_ntm_address_forward_serial(float *ws, float *w, float *cache, const float *M, const float *k, const float *beta,
                                  const float *g, const float *s, const float *gamma, const float *prev, int B, int H,
                                  int R, int C, int S) {
    ADDRESS_JOB(K_ADDRESS);
    float *o[] = {w, cache};
    const float *in[] = {M, k, beta, g, s, gamma, prev};
    memcpy(j.o, o, sizeof o);
    memcpy(j.i, in, sizeof in);
    return ntm_run(&j, ws, 1);
}
GL_API int gl_ntm_address_backward(float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                   float *dprev, const float *dw, const float *cache, const float *M,
                                   const float *k, const float *beta, const float *g, const float *s,
                                   const float *gamma, const float *prev, int B, int H, int R, int C, int S) {
    ADDRESS_JOB(K_ADDRESS_BACKWARD);
    float *o[] = {dM, dk, dbeta, dg, ds, dgamma, dprev};
    const float *in[] = {dw, cache, M, k, beta, g, s, gamma, prev};
    memcpy(j.o, o, sizeof o);
    memcpy(j.i, in, sizeof in);
    return ntm_run(&j, NULL, 0);
}
int gl_ntm_address_backward_serial(float *ws, float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                   float *dprev, const float *dw, const float *cache, const float *M, const float *k,
                                   const float *beta, const float *g, const float *s, const float *gamma,
                                   const float *prev, int B, int H, int R, int C, int S) {
    ADDRESS_JOB(K_ADDRESS_BACKWARD);
    float *o[] = {dM, dk, dbeta, dg, ds, dgamma, dprev};
    const float *in[] = {dw, cache, M, k, beta, g, s, gamma, prev};
    memcpy(j.o, o, sizeof o);
    memcpy(j.i, in, sizeof in);
    return ntm_run(&j, ws, 1);
}

#define MEMORY_JOB(kind_, H_, serial_, ...)                                                                       \
    ntm_job j = {kind_, B, H_, R, C, 1, 1, NULL, 0, {0}, {0}};                                                    \
    __VA_ARGS__;                                                                                                  \
    return ntm_run(&j, NULL, serial_)

GL_API int gl_ntm_read_forward(float *r, const float *M, const float *w, int B, int H, int R, int C) {
    MEMORY_JOB(K_READ, H, 0, j.o[0] = r; j.i[0] = M; j.i[1] = w);
}
int gl_ntm_read_forward_serial(float *r, const float *M, const float *w, int B, int H, int R, int C) {
    MEMORY_JOB(K_READ, H, 1, j.o[0] = r; j.i[0] = M; j.i[1] = w);
}
GL_API int gl_ntm_read_backward(float *dM, float *dw, const float *dr, const float *M, const float *w, int B, int H,
                                int R, int C) {
    MEMORY_JOB(K_READ_BACKWARD, H, 0, j.o[0] = dM; j.o[1] = dw; j.i[0] = dr; j.i[1] = M; j.i[2] = w);
}
int gl_ntm_read_backward_serial(float *dM, float *dw, const float *dr, const float *M, const float *w, int B, int H,
                                int R, int C) {
    MEMORY_JOB(K_READ_BACKWARD, H, 1, j.o[0] = dM; j.o[1] = dw; j.i[0] = dr; j.i[1] = M; j.i[2] = w);
}
GL_API int gl_ntm_write_forward(float *Mout, const float *M, const float *w, const float *e, const float *a, int B,
                                int R, int C) {
    MEMORY_JOB(K_WRITE, 1, 0, j.o[0] = Mout; j.i[0] = M; j.i[1] = w; j.i[2] = e; j.i[3] = a);
}
int gl_ntm_write_forward_serial(float *Mout, const float *M, const float *w, const float *e, const float *a, int B, int R,
                                int C) {
    MEMORY_JOB(K_WRITE, 1, 1, j.o[0] = Mout; j.i[0] = M; j.i[1] = w; j.i[2] = e; j.i[3] = a);
}
GL_API int gl_ntm_write_backward(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                 const float *w, const float *e, const float *a, int B, int R, int C) {
    MEMORY_JOB(K_WRITE_BACKWARD, 1, 0, j.o[0] = dM; j.o[1] = dw; j.o[2] = de; j.o[3] = da; j.i[0] = dMout; j.i[1] = M;
               j.i[2] = w; j.i[3] = e; j.i[4] = a);
}
int gl_ntm_write_backward_serial(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                 const float *w, const float *e, const float *a, int B, int R, int C) {
    MEMORY_JOB(K_WRITE_BACKWARD, 1, 1, j.o[0] = dM; j.o[1] = dw; j.o[2] = de; j.o[3] = da; j.i[0] = dMout; j.i[1] = M;
               j.i[2] = w; j.i[3] = e; j.i[4] = a);
}
