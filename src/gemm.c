/* gemm.c: single-precision GEMM for the layers (layers.h), row-major, cblas semantics:
 *     C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C.
 *
 * gl_sgemm_ref is the oracle: a triple loop with double accumulation.
 *
 * gl_sgemm is a register-blocked kernel written against simd.h. Its core computes an MR x NR
 * tile of C (MR = 4 rows, NR = GEMM_NV = 2 vectors) keeping MR*GEMM_NV vector accumulators in
 * registers: per k it loads one row segment op(B)[k, j..j+NR) as GEMM_NV vectors and
 * broadcasts MR scalars op(A)[i..i+MR, k], then does MR*GEMM_NV multiply-adds. (Measured slower
 * in V8: 5-row tiles, packed A panels, the k loop unrolled by 2; they raise register pressure
 * or add copying.) So the core needs op(B) rows to be
 * contiguous; op(A) may have any strides (broadcast loads do not care), and C any strides (the
 * transposed store goes through a small tile).
 *   - NN, TN: op(B) = B, rows contiguous: run directly.
 *   - TT: C^T = B . A with op(A)^T = A row-contiguous: run the core on the transposed problem,
 *     storing C transposed. No copy.
 *   - NT: one operand must be transposed into a static pack buffer (in KC x NCP blocks); pack
 *     the smaller one: op(B) (K x N) directly, or A (M x K) as op(A)^T for the transposed problem.
 *     When packing does not pay (both M and N small, or K long with a modest other dimension),
 *     take dot products along K instead, which is contiguous in both operands (gemm_dot_nt).
 * A partial last column tile (N % NR) is copied, zero-padded to NR, into a small buffer so the
 * same full-width kernel runs everywhere; partial row tiles use kernels with fewer rows.
 * Not reentrant (static pack buffers): wasm is single-threaded, and so are the native tests.
 */
#include "glimpse.h"
#include "layers.h"
#include "simd.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* The oracle. */

void gl_sgemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                double a = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}

/* ---------------------------------------------------------------------------------------- */
/* Blocking parameters. */

#ifndef GEMM_MR
#define GEMM_MR 4
#endif
#ifndef GEMM_NV
#if VF_WIDTH == 1
#define GEMM_NV 4
#else
#define GEMM_NV 2
#endif
#endif
#define GEMM_NR (GEMM_NV * VF_WIDTH)
#define GEMM_KC 256 /* K block: a KC x NR B micro-panel stays in L1 */
#define GEMM_NCP 256 /* columns per packed block */

/* The packing buffers live on the caller's stack (264 KB at most), not in static storage, so
 * gl_sgemm is reentrant: threads of the pool (pool.h) each use their own stack. */

#if defined(__GNUC__)
#define GEMM_INLINE static inline __attribute__((always_inline))
#else
#define GEMM_INLINE static inline
#endif

/* C tile (mr x NR, only nc columns valid) = alpha * sum_k A[r*rsa + k*csa] * B[k*ldb + j] + beta * C.
 * mr is a compile-time constant at each call site, so the accumulator array lives in registers. */
GEMM_INLINE void gemm_tile(int mr, int nc, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                           const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc) {
    vf acc[GEMM_MR][GEMM_NV];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < GEMM_NV; v++) acc[r][v] = VF_SET1(0.0f);
    const float *a = A;
    const float *b = B;
    for (int k = 0; k < K; k++) {
        vf bv[GEMM_NV];
        for (int v = 0; v < GEMM_NV; v++) bv[v] = VF_LOAD(b + v * VF_WIDTH);
        for (int r = 0; r < mr; r++) {
            vf av = VF_SET1(a[r * rsa]);
            for (int v = 0; v < GEMM_NV; v++) acc[r][v] = VF_FMA(av, bv[v], acc[r][v]);
        }
        a += csa;
        b += ldb;
    }
    vf va = VF_SET1(alpha);
    if (nc == GEMM_NR && csc == 1) {
        if (beta == 0.0f && alpha == 1.0f) { /* the common cases skip the multiply by alpha */
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < GEMM_NV; v++) VF_STORE(C + r * rsc + v * VF_WIDTH, acc[r][v]);
        } else if (beta == 1.0f && alpha == 1.0f) {
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < GEMM_NV; v++) {
                    float *c = C + r * rsc + v * VF_WIDTH;
                    VF_STORE(c, VF_ADD(acc[r][v], VF_LOAD(c)));
                }
        } else if (beta == 0.0f) {
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < GEMM_NV; v++) VF_STORE(C + r * rsc + v * VF_WIDTH, VF_MUL(va, acc[r][v]));
        } else if (beta == 1.0f) {
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < GEMM_NV; v++) {
                    float *c = C + r * rsc + v * VF_WIDTH;
                    VF_STORE(c, VF_FMA(va, acc[r][v], VF_LOAD(c)));
                }
        } else {
            vf vb = VF_SET1(beta);
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < GEMM_NV; v++) {
                    float *c = C + r * rsc + v * VF_WIDTH;
                    VF_STORE(c, VF_FMA(va, acc[r][v], VF_MUL(vb, VF_LOAD(c))));
                }
        }
    } else {
        float t[GEMM_MR][GEMM_NR];
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < GEMM_NV; v++) VF_STORE(&t[r][v * VF_WIDTH], VF_MUL(va, acc[r][v]));
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nc; j++) {
                float *c = C + r * rsc + j * csc;
                *c = beta == 0.0f ? t[r][j] : t[r][j] + beta * *c;
            }
    }
}

/* C (M, N; strides rsc, csc) = alpha * A (M, K; strides rsa, csa) . B (K, N; row stride ldb,
 * rows contiguous) + beta * C, K <= GEMM_KC. (no_builtin: the tail copy must stay a loop, not
 * memcpy/memset calls, which are real calls in wasm.) */
#if defined(__clang__)
__attribute__((no_builtin("memcpy", "memset")))
#endif
static void gemm_core(int M, int N, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc) {
    float gemm_tail[GEMM_KC * GEMM_NR];
    for (int j = 0; j < N; j += GEMM_NR) {
        int nc = N - j < GEMM_NR ? N - j : GEMM_NR;
        const float *Bj = B + j;
        ptrdiff_t ldbj = ldb;
        if (nc < GEMM_NR) { /* zero-padded copy of the last partial column tile */
            for (int k = 0; k < K; k++) {
                float *t = gemm_tail + (size_t)k * GEMM_NR;
                const float *s = B + (size_t)k * ldb + j;
                int jj = 0;
                for (; jj < nc; jj++) t[jj] = s[jj];
                for (; jj < GEMM_NR; jj++) t[jj] = 0.0f;
            }
            Bj = gemm_tail;
            ldbj = GEMM_NR;
        }
        float *Cj = C + j * csc;
        int i = 0;
        for (; i + GEMM_MR <= M; i += GEMM_MR)
            gemm_tile(GEMM_MR, nc, K, alpha, A + i * rsa, rsa, csa, Bj, ldbj, beta, Cj + i * rsc, rsc, csc);
        const float *Ai = A + i * rsa;
        float *Ci = Cj + i * rsc;
        switch (M - i) {
#if GEMM_MR > 1
        case 1: gemm_tile(1, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
#if GEMM_MR > 2
        case 2: gemm_tile(2, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
#if GEMM_MR > 3
        case 3: gemm_tile(3, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
#if GEMM_MR > 4
        case 4: gemm_tile(4, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
#if GEMM_MR > 5
        case 5: gemm_tile(5, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
#if GEMM_MR > 6
        case 6: gemm_tile(6, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
#if GEMM_MR > 7
        case 7: gemm_tile(7, nc, K, alpha, Ai, rsa, csa, Bj, ldbj, beta, Ci, rsc, csc); break;
#endif
        default: break;
        }
    }
}

/* Same contract as gemm_core but any K: split K in GEMM_KC blocks, beta applies to the first. */
static void gemm_kblocks(int M, int N, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                         const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc) {
    for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
        int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
        gemm_core(M, N, kc, alpha, A + k0 * csa, rsa, csa, B + (size_t)k0 * ldb, ldb, k0 == 0 ? beta : 1.0f, C,
                  rsc, csc);
    }
}

/* Core on op(B) given transposed: op(B)[k, j] = X[j*ldx + k], packed block by block into
 * a stack buffer as (kc, nc) row-major. */
static void gemm_packed_b(int M, int N, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                          const float *X, ptrdiff_t ldx, float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc) {
    float gemm_pack[GEMM_KC * GEMM_NCP];
    for (int j0 = 0; j0 < N; j0 += GEMM_NCP) {
        int nc = N - j0 < GEMM_NCP ? N - j0 : GEMM_NCP;
        for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
            int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            for (int j = 0; j < nc; j++) {
                const float *s = X + (size_t)(j0 + j) * ldx + k0;
                float *d = gemm_pack + j;
                for (int k = 0; k < kc; k++) d[(size_t)k * nc] = s[k];
            }
            gemm_core(M, nc, kc, alpha, A + k0 * csa, rsa, csa, gemm_pack, nc, k0 == 0 ? beta : 1.0f,
                      C + j0 * csc, rsc, csc);
        }
    }
}

/* NT when both M and N are small (GEMV-like, e.g. an LSTM step at batch 1): neither layout
 * fills a vector tile, so compute dot products along K, which is contiguous in both operands:
 * 2 rows of A x 4 rows of B, 8 vector accumulators, horizontal sums at the end. */
GEMM_INLINE void dot_tile(int mr, int nr, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc) {
    vf acc[2][4];
    for (int r = 0; r < mr; r++)
        for (int q = 0; q < nr; q++) acc[r][q] = VF_SET1(0.0f);
    int k = 0;
    for (; k + VF_WIDTH <= K; k += VF_WIDTH) {
        vf av[2], bv[4];
        for (int r = 0; r < mr; r++) av[r] = VF_LOAD(A + (size_t)r * lda + k);
        for (int q = 0; q < nr; q++) bv[q] = VF_LOAD(B + (size_t)q * ldb + k);
        for (int r = 0; r < mr; r++)
            for (int q = 0; q < nr; q++) acc[r][q] = VF_FMA(av[r], bv[q], acc[r][q]);
    }
    for (int r = 0; r < mr; r++)
        for (int q = 0; q < nr; q++) {
            float s = VF_HSUM(acc[r][q]);
            for (int kk = k; kk < K; kk++) s += A[(size_t)r * lda + kk] * B[(size_t)q * ldb + kk];
            float *c = C + (size_t)r * ldc + q;
            *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
        }
}

static void gemm_dot_nt(int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc) {
    for (int i = 0; i < M; i += 2) {
        int two = M - i >= 2;
        const float *Ai = A + (size_t)i * lda;
        float *Ci = C + (size_t)i * ldc;
        int j = 0;
        for (; j + 4 <= N; j += 4) {
            if (two) dot_tile(2, 4, K, alpha, Ai, lda, B + (size_t)j * ldb, ldb, beta, Ci + j, ldc);
            else dot_tile(1, 4, K, alpha, Ai, lda, B + (size_t)j * ldb, ldb, beta, Ci + j, ldc);
        }
        for (; j < N; j++) {
            if (two) dot_tile(2, 1, K, alpha, Ai, lda, B + (size_t)j * ldb, ldb, beta, Ci + j, ldc);
            else dot_tile(1, 1, K, alpha, Ai, lda, B + (size_t)j * ldb, ldb, beta, Ci + j, ldc);
        }
    }
}

void gl_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* C = beta * C */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    /* op(A)[i, k] = A[i*rsa + k*csa] */
    ptrdiff_t rsa = transA ? 1 : lda, csa = transA ? lda : 1;
    if (!transB) {
        gemm_kblocks(M, N, K, alpha, A, rsa, csa, B, ldb, beta, C, ldc, 1);
    } else if (transA) {
        /* C^T (N, M) = op(B)^T (N, K) . op(A)^T (K, M): op(B)^T[j, k] = B[j*ldb + k],
         * op(A)^T[k, i] = A[k*lda + i] (rows contiguous). */
        gemm_kblocks(N, M, K, alpha, B, ldb, 1, A, lda, beta, C, 1, ldc);
    } else {
        /* NT: one operand has to be transposed. Packing costs a strided copy of M*K (A) or
         * N*K (B) floats, worth it only when the other dimension reuses it enough (>= 32);
         * the packed dimension becomes the vectorised one, so it must fill a tile (>= NR).
         * Otherwise (small GEMV-like shapes, or long K) take dot products along K. */
        int swap_ok = M >= GEMM_NR && N >= 32, direct_ok = N >= GEMM_NR && M >= 32;
        /* With a long K and a modest reuse dimension, dot products beat packing (measured in
         * wasm: e.g. 20x250x256 dW of a conv, 64x50x320 an FC forward). */
        int swap = swap_ok && (!direct_ok || M <= N);
        if (K >= 192 && (swap ? N : M) <= 256) swap = swap_ok = direct_ok = 0;
        if (swap) {
            /* NT with the smaller A: C^T (N, M) = B (N, K) . A^T (K, M), A^T packed. */
            gemm_packed_b(N, M, K, alpha, B, ldb, 1, A, lda, beta, C, 1, ldc);
        } else if (direct_ok) {
            /* NT with the smaller B: op(B)[k, j] = B[j*ldb + k], packed. */
            gemm_packed_b(M, N, K, alpha, A, rsa, csa, B, ldb, beta, C, ldc, 1);
        } else {
            gemm_dot_nt(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
    }
}
