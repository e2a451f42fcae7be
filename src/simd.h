/* simd.h: the small vector vocabulary every hand-vectorised kernel is written against.
 *
 * Three branches with one meaning:
 *   - wasm SIMD (-msimd128): 4 x f32 in a v128_t;
 *   - x86 SSE4.1 (native build, the speed yardstick): 4 x f32 in an __m128;
 *   - scalar (#else): VF_WIDTH is 1 and every "vector" is a plain float, so the same kernel
 *     source compiles to straightforward scalar code (the wasm build for engines without SIMD).
 *
 * Kernels loop `for (; i + VF_WIDTH <= n; i += VF_WIDTH)` and finish with a scalar tail.
 * Masks (vm) are all-ones / all-zeros lanes in the SIMD branches and 0/1 ints in the scalar one.
 * Cost notes for wasm on x86: there is no gather; f32x4.min/max are slow, so VF_MIN/VF_MAX use
 * pmin/pmax (identical for non-NaN inputs); i32x4.trunc_sat is 8-14 x86 instructions, so integer
 * conversion is done once per pixel block, never per channel.
 */
#ifndef GLIMPSE_SIMD_H
#define GLIMPSE_SIMD_H

#include <math.h>
#include <stdint.h>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define GL_SIMD_NAME "wasm-simd128"
#define VF_WIDTH 4
typedef v128_t vf; /* 4 x float */
typedef v128_t vi; /* 4 x int32 */
typedef v128_t vm; /* 4 x lane mask */
#define VF_LOAD(p) wasm_v128_load(p)
#define VF_STORE(p, v) wasm_v128_store((p), (v))
#define VF_SET1(x) wasm_f32x4_splat(x)
#define VF_ADD(a, b) wasm_f32x4_add(a, b)
#define VF_SUB(a, b) wasm_f32x4_sub(a, b)
#define VF_MUL(a, b) wasm_f32x4_mul(a, b)
#define VF_DIV(a, b) wasm_f32x4_div(a, b)
#define VF_FMA(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c) /* a*b + c, no fused op in wasm */
#define VF_MIN(a, b) wasm_f32x4_pmin(a, b)
#define VF_MAX(a, b) wasm_f32x4_pmax(a, b)
#define VF_FLOOR(a) wasm_f32x4_floor(a)
#define VF_ABS(a) wasm_f32x4_abs(a)
#define VF_LT(a, b) wasm_f32x4_lt(a, b)
#define VF_LE(a, b) wasm_f32x4_le(a, b)
#define VF_GE(a, b) wasm_f32x4_ge(a, b)
#define VF_GT(a, b) wasm_f32x4_gt(a, b)
#define VM_AND(a, b) wasm_v128_and(a, b)
#define VM_OR(a, b) wasm_v128_or(a, b)
#define VF_SELECT(m, a, b) wasm_v128_bitselect(a, b, m) /* m ? a : b */
#define VF_AND(m, a) wasm_v128_and(m, a)                /* m ? a : 0 */
#define VF_TO_VI(a) wasm_i32x4_trunc_sat_f32x4(a)       /* exact for integral floats */
/* Integral floats in [0, 2^22) to int32 with one add and one subtract: adding 2^23 puts the
 * integer in the low mantissa bits. trunc_sat costs 8-14 x86 instructions in V8. */
#define VF_TO_VI_SMALL(a) \
    wasm_i32x4_sub(wasm_f32x4_add((a), wasm_f32x4_splat(8388608.0f)), wasm_i32x4_splat(0x4B000000))
#define VI_SET1(x) wasm_i32x4_splat(x)
#define VI_ADD(a, b) wasm_i32x4_add(a, b)
#define VI_MUL(a, b) wasm_i32x4_mul(a, b)
#define VI_STORE(p, v) wasm_v128_store((p), (v))
/* Deinterleave 8 floats (x0 y0 x1 y1 ...) into xs and ys. */
#define VF_DEINTERLEAVE2(p, xs, ys)                                          \
    do {                                                                     \
        v128_t lo_ = wasm_v128_load(p), hi_ = wasm_v128_load((p) + 4);       \
        (xs) = wasm_i32x4_shuffle(lo_, hi_, 0, 2, 4, 6);                     \
        (ys) = wasm_i32x4_shuffle(lo_, hi_, 1, 3, 5, 7);                     \
    } while (0)
#define VF_INTERLEAVE2_STORE(p, xs, ys)                                      \
    do {                                                                     \
        wasm_v128_store((p), wasm_i32x4_shuffle(xs, ys, 0, 4, 1, 5));        \
        wasm_v128_store((p) + 4, wasm_i32x4_shuffle(xs, ys, 2, 6, 3, 7));    \
    } while (0)
static inline float vf_hsum(vf a) {
    return wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1) +
           wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3);
}
#define VF_HSUM(a) vf_hsum(a)

#elif defined(__SSE4_1__) && !defined(GL_FORCE_SCALAR)
#include <smmintrin.h>
#define GL_SIMD_NAME "sse4.1"
#define VF_WIDTH 4
typedef __m128 vf;
typedef __m128i vi;
typedef __m128 vm;
#define VF_LOAD(p) _mm_loadu_ps(p)
#define VF_STORE(p, v) _mm_storeu_ps((p), (v))
#define VF_SET1(x) _mm_set1_ps(x)
#define VF_ADD(a, b) _mm_add_ps(a, b)
#define VF_SUB(a, b) _mm_sub_ps(a, b)
#define VF_MUL(a, b) _mm_mul_ps(a, b)
#define VF_DIV(a, b) _mm_div_ps(a, b)
#define VF_FMA(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c) /* unfused, to round like wasm */
#define VF_MIN(a, b) _mm_min_ps(a, b)
#define VF_MAX(a, b) _mm_max_ps(a, b)
#define VF_FLOOR(a) _mm_floor_ps(a)
#define VF_ABS(a) _mm_andnot_ps(_mm_set1_ps(-0.0f), a)
#define VF_LT(a, b) _mm_cmplt_ps(a, b)
#define VF_LE(a, b) _mm_cmple_ps(a, b)
#define VF_GE(a, b) _mm_cmpge_ps(a, b)
#define VF_GT(a, b) _mm_cmpgt_ps(a, b)
#define VM_AND(a, b) _mm_and_ps(a, b)
#define VM_OR(a, b) _mm_or_ps(a, b)
#define VF_SELECT(m, a, b) _mm_blendv_ps(b, a, m)
#define VF_AND(m, a) _mm_and_ps(m, a)
#define VF_TO_VI(a) _mm_cvttps_epi32(a)
#define VF_TO_VI_SMALL(a) _mm_cvttps_epi32(a)
#define VI_SET1(x) _mm_set1_epi32(x)
#define VI_ADD(a, b) _mm_add_epi32(a, b)
#define VI_MUL(a, b) _mm_mullo_epi32(a, b)
#define VI_STORE(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define VF_DEINTERLEAVE2(p, xs, ys)                                          \
    do {                                                                     \
        __m128 lo_ = _mm_loadu_ps(p), hi_ = _mm_loadu_ps((p) + 4);           \
        (xs) = _mm_shuffle_ps(lo_, hi_, _MM_SHUFFLE(2, 0, 2, 0));            \
        (ys) = _mm_shuffle_ps(lo_, hi_, _MM_SHUFFLE(3, 1, 3, 1));            \
    } while (0)
#define VF_INTERLEAVE2_STORE(p, xs, ys)                                      \
    do {                                                                     \
        _mm_storeu_ps((p), _mm_unpacklo_ps(xs, ys));                         \
        _mm_storeu_ps((p) + 4, _mm_unpackhi_ps(xs, ys));                     \
    } while (0)
static inline float vf_hsum(vf a) {
    float t[4];
    _mm_storeu_ps(t, a);
    return t[0] + t[1] + t[2] + t[3];
}
#define VF_HSUM(a) vf_hsum(a)

#else
#define GL_SIMD_NAME "scalar"
#define VF_WIDTH 1
typedef float vf;
typedef int32_t vi;
typedef int vm;
#define VF_LOAD(p) (*(p))
#define VF_STORE(p, v) (*(p) = (v))
#define VF_SET1(x) ((float)(x))
#define VF_ADD(a, b) ((a) + (b))
#define VF_SUB(a, b) ((a) - (b))
#define VF_MUL(a, b) ((a) * (b))
#define VF_DIV(a, b) ((a) / (b))
#define VF_FMA(a, b, c) ((a) * (b) + (c))
#define VF_MIN(a, b) ((b) < (a) ? (b) : (a))
#define VF_MAX(a, b) ((a) < (b) ? (b) : (a))
#define VF_FLOOR(a) floorf(a)
#define VF_ABS(a) fabsf(a)
#define VF_LT(a, b) ((a) < (b))
#define VF_LE(a, b) ((a) <= (b))
#define VF_GE(a, b) ((a) >= (b))
#define VF_GT(a, b) ((a) > (b))
#define VM_AND(a, b) ((a) && (b))
#define VM_OR(a, b) ((a) || (b))
#define VF_SELECT(m, a, b) ((m) ? (a) : (b))
#define VF_AND(m, a) ((m) ? (a) : 0.0f)
#define VF_TO_VI(a) ((int32_t)(a))
#define VF_TO_VI_SMALL(a) ((int32_t)(a))
#define VI_SET1(x) ((int32_t)(x))
#define VI_ADD(a, b) ((a) + (b))
#define VI_MUL(a, b) ((a) * (b))
#define VI_STORE(p, v) (*(p) = (v))
#define VF_DEINTERLEAVE2(p, xs, ys) \
    do {                            \
        (xs) = (p)[0];              \
        (ys) = (p)[1];              \
    } while (0)
#define VF_INTERLEAVE2_STORE(p, xs, ys) \
    do {                                \
        (p)[0] = (xs);                  \
        (p)[1] = (ys);                  \
    } while (0)
#define VF_HSUM(a) (a)
#endif

#endif
