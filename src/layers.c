/* layers.c: the shared feed-forward layers (see layers.h for the contract of each function):
 * linear, conv2d, max-pool, activations, dropout, losses, parameter init. The GEMM they are built
 * on lives in gemm.c; the LSTM cell in lstm.c, the optimisers in optim.c, arenas in arena.c and
 * the random numbers in rng.c. */
#include "layers.h"
#include "glimpse.h"
#include "simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Linear. */

void gl_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int B, int I, int O) {
    float beta = 0.0f;
    if (bias) {
        for (int b = 0; b < B; b++) memcpy(out + (size_t)b * O, bias, (size_t)O * sizeof(float));
        beta = 1.0f;
    }
    /* out (B, O) = inp (B, I) . W^T (I, O) */
    gl_sgemm(0, 1, B, O, I, 1.0f, inp, I, weight, I, beta, out, O);
}

/* sum over rows: acc (n) += x (rows, n) */
void gl_add_rows(float *acc, const float *x, int rows, int n) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        int j = 0;
        for (; j + VF_WIDTH <= n; j += VF_WIDTH) VF_STORE(acc + j, VF_ADD(VF_LOAD(acc + j), VF_LOAD(xr + j)));
        for (; j < n; j++) acc[j] += xr[j];
    }
}

void gl_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, int B, int I, int O) {
    if (dinp) gl_sgemm(0, 0, B, I, O, 1.0f, dout, O, weight, I, 1.0f, dinp, I);       /* (B,O).(O,I) */
    if (dweight) gl_sgemm(1, 0, O, I, B, 1.0f, dout, O, inp, I, 1.0f, dweight, I);   /* (O,B).(B,I) */
    if (dbias) gl_add_rows(dbias, dout, B, O);
}

/* ---------------------------------------------------------------------------------------- */
/* conv2d: im2col + GEMM per batch item. */


/* Copy n floats (n small: one output row), vector loads/stores and a scalar tail. An explicit loop,
 * not memcpy: rows are 7 to 24 floats, where a libc call (a real call in wasm) costs more than
 * the copy. clang turns such loops back into memcpy calls unless told not to (no_builtin). */
#if defined(__clang__)
#define GL_NO_MEMCPY __attribute__((no_builtin("memcpy")))
#elif defined(__GNUC__)
#define GL_NO_MEMCPY __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define GL_NO_MEMCPY
#endif
GL_NO_MEMCPY static inline void copy_row(float *restrict d, const float *restrict s, int n) {
    int j = 0;
    for (; j + VF_WIDTH <= n; j += VF_WIDTH) VF_STORE(d + j, VF_LOAD(s + j));
    for (; j < n; j++) d[j] = s[j];
}

/* Copy n floats in whole vectors, up to VF_WIDTH-1 floats past n (both the read and the write):
 * for rows whose overshoot lands on memory that is read/overwritten later anyway. */
static inline void copy_row_over(float *d, const float *s, int n) {
    for (int j = 0; j < n; j += VF_WIDTH) VF_STORE(d + j, VF_LOAD(s + j));
}

/* col (C*K*K, ldc) <- x (C, H, W): row (c, ky, kx) holds x[c, y+ky, x+kx] over (y, x) in its
 * first Ho*Wo columns (ldc >= Ho*Wo lets several items sit side by side in one col matrix).
 * When Wo >= VF_WIDTH, output rows but the last are copied in whole vectors: the overshoot
 * (< VF_WIDTH floats) reads the input row's next pixels or the next input row's first, and writes
 * into the next output row's start, which is written right after; the last row is exact, so
 * nothing outside col's row is touched. */
GL_NO_MEMCPY static void im2col(float *restrict col, size_t ldc, const float *restrict x, int C, int H, int W,
                                int K) {
    int Ho = H - K + 1, Wo = W - K + 1;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                const float *src = x + ((size_t)c * H + ky) * W + kx;
                float *d = col;
                int y = 0;
                if (Wo >= VF_WIDTH) /* the overshoot (< VF_WIDTH) stays within the next row */
                    for (; y < Ho - 1; y++) {
                        copy_row_over(d, src, Wo);
                        d += Wo;
                        src += W;
                    }
                for (; y < Ho; y++) {
                    copy_row(d, src, Wo);
                    d += Wo;
                    src += W;
                }
                col += ldc;
            }
}

/* x (C, H, W) += col2im(col (C*K*K, ldc)), the adjoint of im2col. When Wo >= VF_WIDTH, rows but
 * the last are added in whole vectors with the lanes past Wo masked to zero: those lanes read the
 * next output row's values and add 0 to the pixels after the input row (the next input row's
 * first: still in the plane); the last row is exact. */
static void col2im_add(float *x, const float *col, size_t ldc, int C, int H, int W, int K) {
    int Ho = H - K + 1, Wo = W - K + 1;
    int full = Wo / VF_WIDTH * VF_WIDTH, rem = Wo - full;
    (void)rem;
#if VF_WIDTH > 1
    static const float iota[4] = {0.0f, 1.0f, 2.0f, 3.0f};
    vm tail = VF_LT(VF_LOAD(iota), VF_SET1((float)rem));
#endif
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                float *dst = x + ((size_t)c * H + ky) * W + kx;
                const float *s = col;
                for (int y = 0; y < Ho; y++) {
                    int j = 0;
                    for (; j < full; j += VF_WIDTH) VF_STORE(dst + j, VF_ADD(VF_LOAD(dst + j), VF_LOAD(s + j)));
#if VF_WIDTH > 1
                    if (rem && y < Ho - 1 && Wo >= VF_WIDTH) {
                        VF_STORE(dst + j, VF_ADD(VF_LOAD(dst + j), VF_AND(tail, VF_LOAD(s + j))));
                    } else
#endif
                        for (; j < Wo; j++) dst[j] += s[j];
                    s += Wo;
                    dst += W;
                }
                col += ldc;
            }
}

/* Item grouping. When an output plane is small (P = Ho*Wo < 256: the second conv of each
 * network, P = 49 or 64) one GEMM per item is short and wide: P columns (a partial last tile),
 * and dW's reduction over only P. So G items are processed together: col (CKK, G*P) holds their
 * im2col side by side, the forward GEMM writes a (O, G*P) staging matrix that is then copied to
 * the (N, O, P) output, and backward gathers dY the same way. G keeps col within ~256 KB (L2).
 * G depends only on the layer's sizes and N, so the same call groups the same way everywhere. */
static int conv_group_size(int N, int O, int P, int CKK) {
    (void)O;
    if (P >= 256 || N < 2) return 1;
    int G = 512 / P;
    int Gc = (int)(65536 / ((size_t)CKK * P));
    if (Gc < G) G = Gc;
    if (G > N) G = N;
    return G < 2 ? 1 : G;
}

size_t gl_conv2d_col_size(int N, int C, int H, int W, int O, int K) {
    if (N <= 0 || C <= 0 || O <= 0 || K <= 0 || H < K || W < K) return 0;
    size_t CKK = (size_t)C * K * K, P = (size_t)(H - K + 1) * (size_t)(W - K + 1);
    int G = conv_group_size(N, O, (int)P, (int)CKK);
    size_t one = CKK * P, grouped = G > 1 ? gl_arena_round((size_t)G * P * CKK) + (size_t)G * P * O : 0;
    return one > grouped ? one : grouped;
}

/* The grouped layout in the caller's col: col (CKK, G*P), then the staging matrix (O, G*P). */
static int conv_group(int N, int O, int P, int CKK, float *col, float **stage) {
    int G = conv_group_size(N, O, P, CKK);
    *stage = G > 1 ? col + gl_arena_round((size_t)G * P * CKK) : NULL;
    return G;
}

static void fill_bias(float *o, const float *bias, int O, int P, size_t ldo) {
    for (int oc = 0; oc < O; oc++) {
        float *r = o + (size_t)oc * ldo;
        vf bv = VF_SET1(bias[oc]);
        int p = 0;
        for (; p + VF_WIDTH <= P; p += VF_WIDTH) VF_STORE(r + p, bv);
        for (; p < P; p++) r[p] = bias[oc];
    }
}

void gl_conv2d_forward(float *out, float *col, const float *inp, const float *weight, const float *bias, int N,
                       int C, int H, int W, int O, int K) {
    int Ho = H - K + 1, Wo = W - K + 1, P = Ho * Wo, CKK = C * K * K;
    size_t HW = (size_t)H * W, OP = (size_t)O * P;
    float *col_g = col, *stage = NULL;
    int G = conv_group(N, O, P, CKK, col, &stage);
    if (G == 1) {
        for (int n = 0; n < N; n++) {
            float *o = out + n * OP; /* (O, P) */
            im2col(col, (size_t)P, inp + n * HW * C, C, H, W, K);
            if (bias) fill_bias(o, bias, O, P, (size_t)P);
            /* out[n] (O, P) = W (O, CKK) . col (CKK, P): P, the long dimension, is vectorised. */
            gl_sgemm(0, 0, O, P, CKK, 1.0f, weight, CKK, col, P, bias ? 1.0f : 0.0f, o, P);
        }
        return;
    }
    for (int n0 = 0; n0 < N; n0 += G) {
        int g = N - n0 < G ? N - n0 : G;
        int ld = g * P; /* col (CKK, g*P), stage (O, g*P) */
        for (int i = 0; i < g; i++) im2col(col_g + (size_t)i * P, (size_t)ld, inp + (n0 + i) * HW * C, C, H, W, K);
        if (bias) fill_bias(stage, bias, O, ld, (size_t)ld);
        gl_sgemm(0, 0, O, ld, CKK, 1.0f, weight, CKK, col_g, ld, bias ? 1.0f : 0.0f, stage, ld);
        for (int i = 0; i < g; i++)
            for (int oc = 0; oc < O; oc++)
                copy_row(out + (n0 + i) * OP + (size_t)oc * P, stage + (size_t)oc * ld + (size_t)i * P, P);
    }
}

void gl_conv2d_backward(float *dinp, float *dweight, float *dbias, float *col, const float *dout, const float *inp,
                        const float *weight, int N, int C, int H, int W, int O, int K) {
    int Ho = H - K + 1, Wo = W - K + 1, P = Ho * Wo, CKK = C * K * K;
    size_t HW = (size_t)H * W, OP = (size_t)O * P;
    if (dbias)
        for (int n = 0; n < N; n++)
            for (int oc = 0; oc < O; oc++) {
                const float *r = dout + n * OP + (size_t)oc * P;
                vf s = VF_SET1(0.0f);
                int p = 0;
                for (; p + VF_WIDTH <= P; p += VF_WIDTH) s = VF_ADD(s, VF_LOAD(r + p));
                float t = VF_HSUM(s);
                for (; p < P; p++) t += r[p];
                dbias[oc] += t;
            }
    if (!dweight && !dinp) return;
    float *stage = NULL;
    int G = conv_group(N, O, P, CKK, col, &stage);
    for (int n0 = 0; n0 < N; n0 += G) {
        int g = N - n0 < G ? N - n0 : G;
        int ld = g * P;
        float *cg = col; /* (CKK, g*P) */
        const float *dy;                  /* (O, g*P) */
        if (G == 1) {
            dy = dout + n0 * OP;
        } else {
            for (int i = 0; i < g; i++)
                for (int oc = 0; oc < O; oc++)
                    copy_row(stage + (size_t)oc * ld + (size_t)i * P, dout + (n0 + i) * OP + (size_t)oc * P, P);
            dy = stage;
        }
        if (dweight) {
            for (int i = 0; i < g; i++) im2col(cg + (size_t)i * P, (size_t)ld, inp + (n0 + i) * HW * C, C, H, W, K);
            /* dW (O, CKK) += dY (O, g*P) . col^T (g*P, CKK) */
            gl_sgemm(0, 1, O, CKK, ld, 1.0f, dy, ld, cg, ld, 1.0f, dweight, CKK);
        }
        if (dinp) {
            /* dcol (CKK, g*P) = W^T (CKK, O) . dY (O, g*P), then scatter-add back to the images. */
            gl_sgemm(1, 0, CKK, ld, O, 1.0f, weight, CKK, dy, ld, 0.0f, cg, ld);
            for (int i = 0; i < g; i++) col2im_add(dinp + (n0 + i) * HW * C, cg + (size_t)i * P, (size_t)ld, C, H, W, K);
        }
    }
}

void gl_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                           int H, int W, int O, int K) {
    int Ho = H - K + 1, Wo = W - K + 1;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int y = 0; y < Ho; y++)
                for (int x = 0; x < Wo; x++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++)
                                acc += (double)weight[((o * C + c) * K + ky) * K + kx] *
                                       inp[(((size_t)n * C + c) * H + y + ky) * W + x + kx];
                    out[(((size_t)n * O + o) * Ho + y) * Wo + x] = (float)acc;
                }
}

/* ---------------------------------------------------------------------------------------- */
/* Max pooling 2x2 stride 2. */

void gl_maxpool2_forward(float *out, int32_t *idx, const float *inp, int N, int C, int H, int W) {
    int Ho = H / 2, Wo = W / 2;
    size_t planes = (size_t)N * C;
    /* VF_WIDTH outputs at a time: deinterleave two input rows into the window's four corners,
     * keep the running max and the corner's offset (as floats, exact below 2^24), convert the
     * index once per vector. */
    int vec = (size_t)H * W < ((size_t)1 << 24);
#if VF_WIDTH > 1
    static const float lane2[4] = {0.0f, 2.0f, 4.0f, 6.0f};
#else
    static const float lane2[1] = {0.0f};
#endif
    vf one = VF_SET1(1.0f), zero = VF_SET1(0.0f), wv = VF_SET1((float)W), step = VF_SET1(2.0f * VF_WIDTH);
    for (size_t pl = 0; pl < planes; pl++) {
        const float *x = inp + pl * H * W;
        float *o = out + pl * Ho * Wo;
        int32_t *ix = idx + pl * Ho * Wo;
        for (int y = 0; y < Ho; y++) {
            const float *r0 = x + (size_t)(2 * y) * W, *r1 = r0 + W;
            int32_t base = 2 * y * W;
            int xo = 0;
            if (vec) {
                vf at0 = VF_ADD(VF_SET1((float)base), VF_LOAD(lane2));
                for (; xo + VF_WIDTH <= Wo; xo += VF_WIDTH) {
                    vf a, b, c, d;
                    VF_DEINTERLEAVE2(r0 + 2 * xo, a, b);
                    VF_DEINTERLEAVE2(r1 + 2 * xo, c, d);
                    vf m = a, ox = zero, oy = zero;
                    vm g = VF_GT(b, m); /* strict >: ties keep the first maximum */
                    m = VF_SELECT(g, b, m);
                    ox = VF_SELECT(g, one, ox);
                    g = VF_GT(c, m);
                    m = VF_SELECT(g, c, m);
                    ox = VF_SELECT(g, zero, ox);
                    oy = VF_SELECT(g, wv, oy);
                    g = VF_GT(d, m);
                    m = VF_SELECT(g, d, m);
                    ox = VF_SELECT(g, one, ox);
                    oy = VF_SELECT(g, wv, oy);
                    VF_STORE(o + xo, m);
                    VI_STORE(ix + xo, VF_TO_VI(VF_ADD(at0, VF_ADD(ox, oy))));
                    at0 = VF_ADD(at0, step);
                }
            }
            for (; xo < Wo; xo++) {
                int x0 = 2 * xo;
                float m = r0[x0];
                int32_t at = base + x0;
                if (r0[x0 + 1] > m) { m = r0[x0 + 1]; at = base + x0 + 1; }
                if (r1[x0] > m) { m = r1[x0]; at = base + W + x0; }
                if (r1[x0 + 1] > m) { m = r1[x0 + 1]; at = base + W + x0 + 1; }
                o[xo] = m;
                ix[xo] = at;
            }
            o += Wo;
            ix += Wo;
        }
    }
}

/* Plain scalar max pooling, the oracle for the vector loop above. */
void gl_maxpool2_forward_ref(float *out, int32_t *idx, const float *inp, int N, int C, int H, int W) {
    int Ho = H / 2, Wo = W / 2;
    for (size_t pl = 0; pl < (size_t)N * C; pl++)
        for (int y = 0; y < Ho; y++)
            for (int xo = 0; xo < Wo; xo++) {
                const float *x = inp + pl * H * W;
                int32_t cand[4] = {2 * y * W + 2 * xo, 2 * y * W + 2 * xo + 1, (2 * y + 1) * W + 2 * xo,
                                   (2 * y + 1) * W + 2 * xo + 1};
                int32_t at = cand[0];
                for (int q = 1; q < 4; q++)
                    if (x[cand[q]] > x[at]) at = cand[q];
                out[(pl * Ho + y) * Wo + xo] = x[at];
                idx[(pl * Ho + y) * Wo + xo] = at;
            }
}

void gl_maxpool2_backward(float *dinp, const float *dout, const int32_t *idx, int N, int C, int H, int W) {
    int Ho = H / 2, Wo = W / 2;
    size_t planes = (size_t)N * C, Po = (size_t)Ho * Wo;
    for (size_t pl = 0; pl < planes; pl++) {
        float *dx = dinp + pl * H * W;
        const float *dy = dout + pl * Po;
        const int32_t *ix = idx + pl * Po;
        for (size_t p = 0; p < Po; p++) dx[ix[p]] += dy[p];
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Activations. */

void gl_relu_forward(float *out, const float *inp, size_t n) {
    vf z = VF_SET1(0.0f);
    size_t i = 0;
    for (; i + VF_WIDTH <= n; i += VF_WIDTH) VF_STORE(out + i, VF_MAX(VF_LOAD(inp + i), z));
    for (; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void gl_relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    vf z = VF_SET1(0.0f);
    size_t i = 0;
    for (; i + VF_WIDTH <= n; i += VF_WIDTH) {
        vf g = VF_AND(VF_GT(VF_LOAD(out + i), z), VF_LOAD(dout + i));
        VF_STORE(dinp + i, VF_ADD(VF_LOAD(dinp + i), g));
    }
    for (; i < n; i++)
        if (out[i] > 0.0f) dinp[i] += dout[i];
}

void gl_relu_mask(float *d, const float *out, size_t n) {
    vf z = VF_SET1(0.0f);
    size_t i = 0;
    for (; i + VF_WIDTH <= n; i += VF_WIDTH) VF_STORE(d + i, VF_AND(VF_GT(VF_LOAD(out + i), z), VF_LOAD(d + i)));
    for (; i < n; i++)
        if (!(out[i] > 0.0f)) d[i] = 0.0f;
}

void gl_sigmoid_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gl_sigmoidf(inp[i]);
}

void gl_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

void gl_tanh_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gl_tanhf(inp[i]);
}

void gl_tanh_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

/* ---------------------------------------------------------------------------------------- */
/* Dropout. */

void gl_dropout_forward(float *out, float *mask, const float *inp, size_t n, size_t inner, float p, gl_rng *rng) {
    if (inner == 0) return;
    size_t groups = n / inner;
    float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (size_t g = 0; g < groups; g++) {
        float m = p <= 0.0f ? 1.0f : (gl_rng_uniform(rng) < p ? 0.0f : keep);
        mask[g] = m;
        const float *x = inp + g * inner;
        float *o = out + g * inner;
        for (size_t i = 0; i < inner; i++) o[i] = x[i] * m;
    }
}

void gl_dropout_backward(float *dinp, const float *dout, const float *mask, size_t n, size_t inner) {
    if (inner == 0) return;
    size_t groups = n / inner;
    for (size_t g = 0; g < groups; g++) {
        float m = mask[g];
        const float *dy = dout + g * inner;
        float *dx = dinp + g * inner;
        for (size_t i = 0; i < inner; i++) dx[i] += dy[i] * m;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Losses. */

void gl_log_softmax_forward(float *logp, const float *logits, int B, int C) {
    for (int b = 0; b < B; b++) {
        const float *x = logits + (size_t)b * C;
        float *y = logp + (size_t)b * C;
        float mx = x[0];
        for (int c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
        double s = 0.0;
        for (int c = 0; c < C; c++) s += exp((double)x[c] - mx);
        float lse = mx + (float)log(s);
        for (int c = 0; c < C; c++) y[c] = x[c] - lse;
    }
}

double gl_softmax_xent(float *dlogits, float *logp, int *ncorrect, const float *logits, const int32_t *labels, int B,
                       int C, float scale) {
    double loss = 0.0;
    int correct = 0;
    for (int b = 0; b < B; b++) {
        const float *x = logits + (size_t)b * C;
        float mx = x[0];
        int arg = 0;
        for (int c = 1; c < C; c++)
            if (x[c] > mx) { mx = x[c]; arg = c; }
        double s = 0.0;
        for (int c = 0; c < C; c++) s += exp((double)x[c] - mx);
        double lse = mx + log(s);
        int y = labels[b];
        loss -= (double)x[y] - lse;
        correct += arg == y;
        if (logp)
            for (int c = 0; c < C; c++) logp[(size_t)b * C + c] = (float)((double)x[c] - lse);
        if (dlogits) {
            float *d = dlogits + (size_t)b * C;
            for (int c = 0; c < C; c++) {
                float pr = (float)exp((double)x[c] - lse);
                d[c] += (pr - (c == y ? 1.0f : 0.0f)) * scale;
            }
        }
    }
    if (ncorrect) *ncorrect = correct;
    return loss;
}

double gl_bce_logits(float *dlogits, const float *logits, const float *targets, size_t n, float scale) {
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        float z = logits[i], t = targets[i];
        loss += (double)(z > 0.0f ? z : 0.0f) - (double)z * t + log1p(exp(-fabs((double)z)));
        if (dlogits) dlogits[i] += scale * (gl_sigmoidf(z) - t);
    }
    return loss;
}

/* ---------------------------------------------------------------------------------------- */
/* Init. */

void gl_init_uniform(float *w, size_t n, float bound, gl_rng *rng) {
    for (size_t i = 0; i < n; i++) w[i] = bound * (2.0f * gl_rng_uniform(rng) - 1.0f);
}

void gl_init_normal(float *w, size_t n, float stddev, gl_rng *rng) {
    for (size_t i = 0; i < n; i++) w[i] = stddev * gl_rng_normal(rng);
}
