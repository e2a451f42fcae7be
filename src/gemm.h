/* gemm.h: the SIMD GEMM every heavy layer is built on (gemm.c). */
#ifndef GLIMPSE_GEMM_H
#define GLIMPSE_GEMM_H

#include "glimpse.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------- */
/* GEMM, row-major, cblas semantics:                                                            */
/*     C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C                                 */
/* op(X) = X when trans == 0, X^T when trans != 0. A is stored (M, lda) or, transposed,          */
/* (K, lda); B is (K, ldb) or, transposed, (N, ldb); C is (M, ldc). beta == 0 overwrites C      */
/* (whatever it held, NaN included). M, N or K == 0 is allowed (K == 0 just scales C by beta).   */
/* gl_sgemm: register-blocked micro-kernel (4 x 2 vectors of C in registers; broadcast A, vector */
/* loads of B rows, simd.h); NT packs the smaller operand into a buffer on the stack (at most   */
/* 264 KB, so the call is reentrant: each thread of the pool has its own stack), or takes dot   */
/* products when both M and N are small. gl_sgemm_ref: triple loop with double accumulation,     */
/* the oracle.                                                                                   */
void gl_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
void gl_sgemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);

#endif
