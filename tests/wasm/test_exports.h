/* test_exports.h: the test-only entry points of tests/wasm/test_exports.c (documented there). */
#ifndef GLIMPSE_TEST_EXPORTS_H
#define GLIMPSE_TEST_EXPORTS_H

#include "glimpse.h"

GL_API int gl_test_gemm(float *err, int transA, int transB, int M, int N, int K, float alpha, float beta, int seed);
GL_API int gl_test_conv2d(float *err, int N, int C, int H, int W, int O, int K, int seed);
GL_API int gl_bench_gemm(int transA, int transB, int M, int N, int K, int reps);
GL_API const char *gl_bench_stn_stage_name(int stage);
GL_API int gl_bench_stn_layers(int N, int reps, int stage);
GL_API int gl_test_pool_trap(int worker);
GL_API int gl_test_pool_record(int *out, int ntasks);

#endif
