/* stn.c: the Spatial Transformer's grid generator and bilinear sampler (Jaderberg et al. 2015,
 * section 3.2 eq. 1 and section 3.3 eq. 5-7), with exactly the semantics of PyTorch's
 * torch.nn.functional.affine_grid and grid_sample(mode='bilinear').
 *
 * Coordinates: the grid holds (x, y) per output pixel, normalised so that -1 and +1 are the
 * outer edges of the image (align_corners = 0) or the centres of the corner pixels
 * (align_corners = 1). Padding decides what lies outside: zeros, the border pixel, or the
 * image reflected at its edges.
 *
 * Two implementations of the sampler live here:
 *   - gl_grid_sample*_ref: plain scalar code, one output pixel and channel at a time, a direct
 *     transcription of PyTorch's reference formulas. It is the oracle for the tests.
 *   - gl_grid_sample / gl_grid_sample_backward: the fast kernels. They compute the source
 *     coordinates, corner offsets and bilinear weights for VF_WIDTH output pixels at once
 *     (simd.h), then reuse them across all C channels. Lanes are gathered one by one (wasm has
 *     no gather), everything else is vector arithmetic.
 */
#include "stn.h"
#include "arena.h"
#include "pool.h"
#include "simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Affine grid generator (paper eq. 1): for each output pixel (x_t, y_t) of the regular grid,
 * (x_s, y_s) = theta . (x_t, y_t, 1). */

/* Normalised coordinate of pixel i of `size` (torch's linspace(-1, 1, size), shrunk by
 * (size-1)/size when corners are not aligned; a single pixel sits at 0). */
float gl_base_coord(int i, int size, int align) {
    if (size <= 1) return 0.0f;
    float step = 2.0f / (float)(size - 1);
    float v = -1.0f + step * (float)i;
    /* torch computes linspace by filling from both ends; this matches it to the last ulp
     * for the sizes we test, and the tests compare with a tolerance anyway. */
    if (i >= size / 2) v = 1.0f - step * (float)(size - 1 - i);
    if (!align) v = v * (float)(size - 1) / (float)size;
    return v;
}

static int check_grid_args(int N, int H, int W) {
    if (N <= 0 || H <= 0 || W <= 0) return gl_fail(GL_EINVAL, "affine grid: sizes must be positive (N=%d H=%d W=%d)", N, H, W);
    if (!gl_size((size_t)N, (size_t)H, (size_t)W, 2)) return gl_fail(GL_ENOMEM, "affine grid: N*H*W*2 is too large");
    return GL_OK;
}

/* grid (N, H, W, 2) <- theta (N, 2, 3), images [n0, n1) */
static void affine_grid_range(float *grid, const float *theta, int n0, int n1, int H, int W, int align) {
    for (int n = n0; n < n1; n++) {
        const float *t = theta + 6 * n;
        for (int h = 0; h < H; h++) {
            float y = gl_base_coord(h, H, align);
            float *g = grid + ((size_t)n * H + h) * W * 2;
            for (int w = 0; w < W; w++) {
                float x = gl_base_coord(w, W, align);
                g[2 * w + 0] = t[0] * x + t[1] * y + t[2];
                g[2 * w + 1] = t[3] * x + t[4] * y + t[5];
            }
        }
    }
}

/* dtheta (N, 2, 3) += d grid (N, H, W, 2) / d theta contracted with dgrid, images [n0, n1) */
static void affine_grid_backward_range(float *dtheta, const float *dgrid, int n0, int n1, int H, int W, int align) {
    for (int n = n0; n < n1; n++) {
        double acc[6] = {0, 0, 0, 0, 0, 0}; /* sums of up to millions of terms: keep them in double */
        for (int h = 0; h < H; h++) {
            float y = gl_base_coord(h, H, align);
            const float *g = dgrid + ((size_t)n * H + h) * W * 2;
            for (int w = 0; w < W; w++) {
                float x = gl_base_coord(w, W, align);
                float gx = g[2 * w], gy = g[2 * w + 1];
                acc[0] += gx * x; acc[1] += gx * y; acc[2] += gx;
                acc[3] += gy * x; acc[4] += gy * y; acc[5] += gy;
            }
        }
        for (int k = 0; k < 6; k++) dtheta[6 * n + k] += (float)acc[k];
    }
}

typedef struct {
    float *out;
    const float *in;
    int N, H, W, align, ntasks, backward;
} affine_job;

static int affine_task(void *p, int t, int w) {
    const affine_job *j = (const affine_job *)p;
    int lo, hi;
    gl_task_range(j->N, j->ntasks, t, &lo, &hi);
    if (j->backward) affine_grid_backward_range(j->out, j->in, lo, hi, j->H, j->W, j->align);
    else affine_grid_range(j->out, j->in, lo, hi, j->H, j->W, j->align);
    return GL_OK;
}

static int affine_parallel(float *out, const float *in, int N, int H, int W, int align, int backward) {
    int err = check_grid_args(N, H, W);
    if (err) return err;
    affine_job j = {out, in, N, H, W, align, gl_pool_tasks(N, 12.0 * N * H * W), backward};
    return gl_parallel(j.ntasks, affine_task, &j);
}

int gl_affine_grid_serial(float *grid, const float *theta, int N, int H, int W, int align) {
    int err = check_grid_args(N, H, W);
    if (!err) affine_grid_range(grid, theta, 0, N, H, W, align);
    return err;
}
int gl_affine_grid_backward_serial(float *dtheta, const float *dgrid, int N, int H, int W, int align) {
    int err = check_grid_args(N, H, W);
    if (!err) affine_grid_backward_range(dtheta, dgrid, 0, N, H, W, align);
    return err;
}

GL_API int gl_affine_grid(float *grid, const float *theta, int N, int H, int W, int align) {
    return affine_parallel(grid, theta, N, H, W, align, 0);
}
GL_API int gl_affine_grid_backward(float *dtheta, const float *dgrid, int N, int H, int W, int align) {
    return affine_parallel(dtheta, dgrid, N, H, W, align, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Source coordinates (shared by both implementations' semantics).
 *
 * unnormalise: x_pix = (x + 1) * s - o with s = (size-1)/2, o = 0 (aligned) or s = size/2,
 * o = 0.5 (not aligned): torch's CPU kernel form. Then padding maps x_pix into the image:
 *   border: clip to [0, size-1];
 *   reflection: reflect about low = 0 (aligned) / -0.5 (not) with period 2*span,
 *               span = size-1 / size, then clip.
 * The multiplier d x_pix / d x (including the padding's +-1 or 0) goes to the grid gradient.
 * Non-finite or huge coordinates become -100 (as torch does), i.e. far outside the image. */

#define GL_COORD_LIMIT 16777216.0f /* 2^24: beyond it floats have no fractional part */

static inline float ref_source_index(float coord, int size, int pad, int align, float *gmult) {
    float s = align ? (float)(size - 1) * 0.5f : (float)size * 0.5f;
    float x = (coord + 1.0f) * s;
    if (!align) x -= 0.5f;
    float g = s;
    if (pad == GL_PAD_REFLECTION) {
        float low = align ? 0.0f : -0.5f;
        float span2 = align ? 2.0f * (float)(size - 1) : 2.0f * (float)size;
        if (span2 <= 0.0f) {
            x = 0.0f;
            g = 0.0f;
        } else {
            float d = x - low, a = fabsf(d);
            float extra = a - floorf(a / span2) * span2;
            float sign = d < 0.0f ? -1.0f : 1.0f;
            if (extra > span2 - extra) {
                x = span2 - extra + low;
                g = -g * sign;
            } else {
                x = extra + low;
                g = g * sign;
            }
        }
    }
    if (pad == GL_PAD_BORDER || pad == GL_PAD_REFLECTION) {
        float hi = (float)(size - 1);
        if (x <= 0.0f) { x = 0.0f; g = 0.0f; }
        else if (x >= hi) { x = hi; g = 0.0f; }
    }
    if (!(fabsf(x) < GL_COORD_LIMIT)) x = -100.0f;
    *gmult = g;
    return x;
}

static int check_sample_args(const char *fn, int N, int C, int H, int W, int Ho, int Wo, int pad) {
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || Ho <= 0 || Wo <= 0)
        return gl_fail(GL_EINVAL, "%s: sizes must be positive (N=%d C=%d H=%d W=%d Ho=%d Wo=%d)", fn, N, C, H, W, Ho, Wo);
    if (pad < GL_PAD_ZEROS || pad > GL_PAD_REFLECTION)
        return gl_fail(GL_EINVAL, "%s: padding must be 0 (zeros), 1 (border) or 2 (reflection), got %d", fn, pad);
    if (!gl_size((size_t)N, (size_t)C, (size_t)H, (size_t)W) || !gl_size((size_t)N, (size_t)C, (size_t)Ho, (size_t)Wo) ||
        !gl_size((size_t)N, (size_t)Ho, (size_t)Wo, 2))
        return gl_fail(GL_ENOMEM, "%s: tensor too large", fn);
    /* the fast kernels' padded workspace, C planes of (H+2)x(W+2) (three for the backward): on
     * wasm32 its byte count wraps size_t for inputs well under the limit (C = 40M of 1x1) */
    if (!gl_size((size_t)C, (size_t)H + 2, (size_t)W + 2, 3))
        return gl_fail(GL_ENOMEM, "%s: an input of %d channels of %dx%d needs a padded workspace over the limit of %zu floats", fn,
                       C, H, W, (size_t)GL_MAX_FLOATS);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The oracle: one pixel, one channel at a time (paper eq. 5; gradients eq. 6-7). */

static inline int inside(int x, int y, int W, int H) { return x >= 0 && x < W && y >= 0 && y < H; }

/* out (N, C, Ho, Wo) <- inp (N, C, H, W) sampled at grid (N, Ho, Wo, 2) */
GL_TEST_API int gl_grid_sample_ref(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho,
                              int Wo, int pad, int align) {
    int err = check_sample_args("grid_sample", N, C, H, W, Ho, Wo, pad);
    if (err) return err;
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            float gx, gy;
            float x = ref_source_index(grid[(n * P + p) * 2 + 0], W, pad, align, &gx);
            float y = ref_source_index(grid[(n * P + p) * 2 + 1], H, pad, align, &gy);
            int x0 = (int)floorf(x), y0 = (int)floorf(y), x1 = x0 + 1, y1 = y0 + 1;
            float tx0 = (float)x1 - x, tx1 = x - (float)x0, ty0 = (float)y1 - y, ty1 = y - (float)y0;
            for (int c = 0; c < C; c++) {
                const float *im = inp + ((size_t)n * C + c) * HW;
                float v = 0.0f;
                if (inside(x0, y0, W, H)) v += im[y0 * W + x0] * tx0 * ty0;
                if (inside(x1, y0, W, H)) v += im[y0 * W + x1] * tx1 * ty0;
                if (inside(x0, y1, W, H)) v += im[y1 * W + x0] * tx0 * ty1;
                if (inside(x1, y1, W, H)) v += im[y1 * W + x1] * tx1 * ty1;
                out[((size_t)n * C + c) * P + p] = v;
            }
        }
    return GL_OK;
}

/* dinp (N, C, H, W) += dL/dinp, dgrid (N, Ho, Wo, 2) += dL/dgrid, given dout (N, C, Ho, Wo).
 * Either gradient buffer may be NULL to skip it. */
GL_TEST_API int gl_grid_sample_backward_ref(float *dinp, float *dgrid, const float *dout, const float *inp,
                                       const float *grid, int N, int C, int H, int W, int Ho, int Wo, int pad,
                                       int align) {
    int err = check_sample_args("grid_sample_backward", N, C, H, W, Ho, Wo, pad);
    if (err) return err;
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            float gmx, gmy;
            float x = ref_source_index(grid[(n * P + p) * 2 + 0], W, pad, align, &gmx);
            float y = ref_source_index(grid[(n * P + p) * 2 + 1], H, pad, align, &gmy);
            int x0 = (int)floorf(x), y0 = (int)floorf(y), x1 = x0 + 1, y1 = y0 + 1;
            float tx0 = (float)x1 - x, tx1 = x - (float)x0, ty0 = (float)y1 - y, ty1 = y - (float)y0;
            float gix = 0.0f, giy = 0.0f;
            for (int c = 0; c < C; c++) {
                const float *im = inp + ((size_t)n * C + c) * HW;
                float *dim = dinp ? dinp + ((size_t)n * C + c) * HW : NULL;
                float g = dout[((size_t)n * C + c) * P + p];
                if (inside(x0, y0, W, H)) {
                    float v = im[y0 * W + x0];
                    gix -= v * ty0 * g; giy -= v * tx0 * g;
                    if (dim) dim[y0 * W + x0] += tx0 * ty0 * g;
                }
                if (inside(x1, y0, W, H)) {
                    float v = im[y0 * W + x1];
                    gix += v * ty0 * g; giy -= v * tx1 * g;
                    if (dim) dim[y0 * W + x1] += tx1 * ty0 * g;
                }
                if (inside(x0, y1, W, H)) {
                    float v = im[y1 * W + x0];
                    gix -= v * ty1 * g; giy += v * tx0 * g;
                    if (dim) dim[y1 * W + x0] += tx0 * ty1 * g;
                }
                if (inside(x1, y1, W, H)) {
                    float v = im[y1 * W + x1];
                    gix += v * ty1 * g; giy += v * tx1 * g;
                    if (dim) dim[y1 * W + x1] += tx1 * ty1 * g;
                }
            }
            if (dgrid) {
                dgrid[(n * P + p) * 2 + 0] += gmx * gix;
                dgrid[(n * P + p) * 2 + 1] += gmy * giy;
            }
        }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The fast kernels.
 *
 * Each image's channel planes are first copied into a workspace with a one-pixel ring of zeros
 * around them, (H+2) x (W+2). Then the four corners of every sample sit inside the padded
 * plane whenever the sample touches the image at all, and outside values read as zero without
 * per-corner tests: the west/east corners of a row are adjacent and are fetched together with
 * one 64-bit load. A sample that misses the image entirely (zeros padding) gets weight 0
 * through one per-pixel mask. Border and reflection clip coordinates into the image first, so
 * the ring is only ever read with weight 0 there.
 *
 * A block is VF_WIDTH consecutive output pixels of one image; its coordinates, offsets and
 * weights are computed once and reused for all C channels. */

typedef struct {
    int32_t top[VF_WIDTH];  /* offset of the north-west corner in the padded plane; +1 is north-east */
    int32_t bot[VF_WIDTH];  /* offset of the south-west corner; +1 is south-east */
    vf tx0, tx1, ty0, ty1;  /* bilinear distances (tx0 = x1 - x, ...), zeroed for samples off the image */
    vf gmx, gmy;            /* d pixel coordinate / d grid coordinate, zeroed likewise */
} gs_block;

/* Vector twin of ref_source_index: same operations in the same order. pad and align are
 * compile-time constants in every caller (see the dispatch below). */
static inline __attribute__((always_inline)) vf vec_source_index(vf coord, int size, const int pad, const int align,
                                                                 vf *gmult) {
    const vf one = VF_SET1(1.0f), zero = VF_SET1(0.0f);
    float s = align ? (float)(size - 1) * 0.5f : (float)size * 0.5f;
    vf x = VF_MUL(VF_ADD(coord, one), VF_SET1(s));
    if (!align) x = VF_SUB(x, VF_SET1(0.5f));
    vf g = VF_SET1(s);
    if (pad == GL_PAD_REFLECTION) {
        float low = align ? 0.0f : -0.5f;
        float span2 = align ? 2.0f * (float)(size - 1) : 2.0f * (float)size;
        if (span2 <= 0.0f) {
            x = zero;
            g = zero;
        } else {
            vf d = VF_SUB(x, VF_SET1(low)), a = VF_ABS(d), sp = VF_SET1(span2);
            vf extra = VF_SUB(a, VF_MUL(VF_FLOOR(VF_DIV(a, sp)), sp));
            vf other = VF_SUB(sp, extra);
            vf sign = VF_SELECT(VF_LT(d, zero), VF_SET1(-1.0f), one);
            vm flip = VF_GT(extra, other);
            x = VF_ADD(VF_SELECT(flip, other, extra), VF_SET1(low));
            g = VF_MUL(VF_MUL(g, sign), VF_SELECT(flip, VF_SET1(-1.0f), one));
        }
    }
    if (pad == GL_PAD_BORDER || pad == GL_PAD_REFLECTION) {
        vf hi = VF_SET1((float)(size - 1));
        vm in = VM_AND(VF_GT(x, zero), VF_LT(x, hi));
        g = VF_AND(in, g);
        /* torch's clip, as compares + selects rather than max/min: a NaN must pass through to
         * the -100 below as in ref_source_index, but SSE's max/min return the second operand
         * for NaN where wasm's pmax/pmin return the first (tests/native/test_stn.c). */
        x = VF_SELECT(VF_LE(x, zero), zero, x);
        x = VF_SELECT(VF_GE(x, hi), hi, x);
    }
    x = VF_SELECT(VF_LT(VF_ABS(x), VF_SET1(GL_COORD_LIMIT)), x, VF_SET1(-100.0f));
    *gmult = g;
    return x;
}

/* xy: 2*VF_WIDTH floats (x0 y0 x1 y1 ...) of the grid; Wp = W + 2 is the padded row length. */
static inline __attribute__((always_inline)) void gs_block_setup(gs_block *b, const float *xy, int H, int W,
                                                                 const int pad, const int align) {
    const vf one = VF_SET1(1.0f), mone = VF_SET1(-1.0f);
    vf gx, gy;
    VF_DEINTERLEAVE2(xy, gx, gy);
    vf x = vec_source_index(gx, W, pad, align, &b->gmx);
    vf y = vec_source_index(gy, H, pad, align, &b->gmy);
    vf x0 = VF_FLOOR(x), y0 = VF_FLOOR(y);
    vf wmax = VF_SET1((float)(W - 1)), hmax = VF_SET1((float)(H - 1));
    /* The sample touches the image iff its north-west corner lies in [-1, W-1] x [-1, H-1]. */
    vm on = VM_AND(VM_AND(VF_GE(x0, mone), VF_LE(x0, wmax)), VM_AND(VF_GE(y0, mone), VF_LE(y0, hmax)));
    b->tx0 = VF_AND(on, VF_SUB(VF_ADD(x0, one), x));
    b->tx1 = VF_AND(on, VF_SUB(x, x0));
    b->ty0 = VF_AND(on, VF_SUB(VF_ADD(y0, one), y));
    b->ty1 = VF_AND(on, VF_SUB(y, y0));
    b->gmx = VF_AND(on, b->gmx);
    b->gmy = VF_AND(on, b->gmy);
    /* Padded-plane coordinates of the north-west corner, clamped so that even samples off the
     * image address valid memory (they carry weight 0). One float->int conversion per axis. */
    vi cx = VF_TO_VI_SMALL(VF_ADD(VF_MIN(VF_MAX(x0, mone), wmax), one));
    vi cy = VF_TO_VI_SMALL(VF_ADD(VF_MIN(VF_MAX(y0, mone), hmax), one));
    vi Wp = VI_SET1(W + 2);
    vi top = VI_ADD(VI_MUL(cy, Wp), cx);
    VI_STORE(b->top, top);
    VI_STORE(b->bot, VI_ADD(top, Wp));
}

/* Fetch the west and east neighbours at im + off[l] for every lane l. */
static inline __attribute__((always_inline)) void gather_pairs(const float *im, const int32_t *off, vf *west,
                                                               vf *east) {
#if defined(__wasm_simd128__)
    v128_t p01 = wasm_v128_load64_lane(im + off[1], wasm_v128_load64_zero(im + off[0]), 1);
    v128_t p23 = wasm_v128_load64_lane(im + off[3], wasm_v128_load64_zero(im + off[2]), 1);
    *west = wasm_i32x4_shuffle(p01, p23, 0, 2, 4, 6);
    *east = wasm_i32x4_shuffle(p01, p23, 1, 3, 5, 7);
#elif VF_WIDTH == 4
    __m128 p01 = _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd((const double *)(im + off[0]))), (const __m64 *)(im + off[1]));
    __m128 p23 = _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd((const double *)(im + off[2]))), (const __m64 *)(im + off[3]));
    *west = _mm_shuffle_ps(p01, p23, _MM_SHUFFLE(2, 0, 2, 0));
    *east = _mm_shuffle_ps(p01, p23, _MM_SHUFFLE(3, 1, 3, 1));
#else
    *west = im[off[0]];
    *east = im[off[0] + 1];
#endif
}

/* Bilinear interpolation of one padded channel plane for one block (paper eq. 5). */
static inline __attribute__((always_inline)) vf gs_block_sample(const gs_block *b, const float *im) {
    vf nw, ne, sw, se;
    gather_pairs(im, b->top, &nw, &ne);
    gather_pairs(im, b->bot, &sw, &se);
    vf top = VF_FMA(nw, b->tx0, VF_MUL(ne, b->tx1));
    vf bot = VF_FMA(sw, b->tx0, VF_MUL(se, b->tx1));
    return VF_FMA(top, b->ty0, VF_MUL(bot, b->ty1));
}

/* Plain vector copy and zero loops: wasm has no bulk-memory instructions in this build, so
 * memcpy/memset are calls into a word-by-word libc loop (one per row here). */
static inline __attribute__((always_inline)) void copy_floats(float *d, const float *s, size_t n) {
    size_t i = 0;
    for (; i + VF_WIDTH <= n; i += VF_WIDTH) VF_STORE(d + i, VF_LOAD(s + i));
    for (; i < n; i++) d[i] = s[i];
}
static inline __attribute__((always_inline)) void zero_floats(float *d, size_t n) {
    size_t i = 0;
    for (; i + VF_WIDTH <= n; i += VF_WIDTH) VF_STORE(d + i, VF_SET1(0.0f));
    for (; i < n; i++) d[i] = 0.0f;
}

/* Copy the C planes of one image into the zero-ringed workspace (C, H+2, W+2). */
static void pad_planes(float *ws, const float *src, int C, int H, int W) {
    size_t Wp = (size_t)W + 2, plane = (size_t)(H + 2) * Wp;
    for (int c = 0; c < C; c++) {
        float *d = ws + c * plane;
        const float *s = src + (size_t)c * H * W;
        zero_floats(d, Wp + 1); /* top ring row and the first row's west ring pixel */
        for (int h = 0; h < H; h++) {
            float *row = d + (h + 1) * Wp;
            copy_floats(row + 1, s + (size_t)h * W, (size_t)W);
            row[W + 1] = 0.0f; /* east ring pixel of this row */
            row[Wp] = 0.0f;    /* west ring pixel of the next row (or of the bottom ring) */
        }
        zero_floats(d + (H + 1) * Wp, Wp);
    }
}

/* Copy the last, partial block of pixels into padded scratch so the tail runs through the same
 * vector code. Padded lanes get the coordinate (0, 0) and a zero output gradient, so they
 * contribute nothing. */
static inline void pad_tail(float *xy, const float *grid, size_t rem) {
    for (size_t k = 0; k < 2 * (size_t)VF_WIDTH; k++) xy[k] = k < 2 * rem ? grid[k] : 0.0f;
}

static inline __attribute__((always_inline)) void sample_impl(float *out, const float *inp, const float *grid,
                                                              float *ws, int N, int C, int H, int W, int Ho,
                                                              int Wo, const int pad, const int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W, plane = (size_t)(H + 2) * (W + 2);
    for (int n = 0; n < N; n++) {
        const float *gn = grid + (size_t)n * P * 2;
        float *out_n = out + (size_t)n * C * P;
        pad_planes(ws, inp + (size_t)n * C * HW, C, H, W);
        size_t p = 0;
        for (; p + VF_WIDTH <= P; p += VF_WIDTH) {
            gs_block b;
            gs_block_setup(&b, gn + 2 * p, H, W, pad, align);
            for (int c = 0; c < C; c++) VF_STORE(out_n + c * P + p, gs_block_sample(&b, ws + c * plane));
        }
        if (p < P) {
            size_t rem = P - p;
            float xy[2 * VF_WIDTH], o[VF_WIDTH];
            pad_tail(xy, gn + 2 * p, rem);
            gs_block b;
            gs_block_setup(&b, xy, H, W, pad, align);
            for (int c = 0; c < C; c++) {
                VF_STORE(o, gs_block_sample(&b, ws + c * plane));
                memcpy(out_n + c * P + p, o, rem * sizeof(float));
            }
        }
    }
}

/* Call IMPL(args..., pad, align) with pad and align as literal constants, so each of the six
 * combinations is compiled into its own branch-free loop. */
#define GL_DISPATCH_PAD_ALIGN(IMPL, pad, align, ...)                      \
    do {                                                                   \
        switch ((pad) * 2 + ((align) != 0)) {                              \
        case 0: IMPL(__VA_ARGS__, GL_PAD_ZEROS, 0); break;                 \
        case 1: IMPL(__VA_ARGS__, GL_PAD_ZEROS, 1); break;                 \
        case 2: IMPL(__VA_ARGS__, GL_PAD_BORDER, 0); break;                \
        case 3: IMPL(__VA_ARGS__, GL_PAD_BORDER, 1); break;                \
        case 4: IMPL(__VA_ARGS__, GL_PAD_REFLECTION, 0); break;            \
        default: IMPL(__VA_ARGS__, GL_PAD_REFLECTION, 1); break;           \
        }                                                                  \
    } while (0)

/* The fast kernels convert padded-plane coordinates (0..W, 0..H) with VF_TO_VI_SMALL, exact only
 * below 2^22 in the wasm SIMD build; images that tall or wide go to the oracle instead
 * (tests/stn.test.js "wider than 2^23 pixels" read wrong pixels without this). */
#define GL_FAST_MAX_SIDE (1 << 22)

size_t gl_grid_sample_ws_floats(int C, int H, int W, int backward_dinp) {
    return (size_t)C * (size_t)(H + 2) * (size_t)(W + 2) * (backward_dinp ? 3 : 1);
}

int gl_grid_sample_serial(float *ws, float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho,
                      int Wo, int pad, int align) {
    int err = check_sample_args("grid_sample", N, C, H, W, Ho, Wo, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE) return gl_grid_sample_ref(out, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    GL_DISPATCH_PAD_ALIGN(sample_impl, pad, align, out, inp, grid, ws, N, C, H, W, Ho, Wo);
    return GL_OK;
}

/* The public kernels split the images into contiguous ranges, one per thread, each with its own
 * slot of scratch; an image's result does not depend on the split. */
typedef struct {
    float *dinp, *dgrid, *out;
    const float *dout, *inp, *grid;
    float *ws;
    size_t slot;
    int N, C, H, W, Ho, Wo, pad, align, ntasks;
} sample_job;

static int sample_task(void *p, int t, int w) {
    const sample_job *j = (const sample_job *)p;
    int lo, hi;
    gl_task_range(j->N, j->ntasks, t, &lo, &hi);
    if (lo == hi) return GL_OK;
    size_t in = (size_t)j->C * j->H * j->W, on = (size_t)j->C * j->Ho * j->Wo, gn = (size_t)j->Ho * j->Wo * 2;
    float *ws = j->ws + (size_t)w * j->slot;
    if (!j->dout)
        return gl_grid_sample_serial(ws, j->out + lo * on, j->inp + lo * in, j->grid + lo * gn, hi - lo, j->C, j->H, j->W,
                                 j->Ho, j->Wo, j->pad, j->align);
    return gl_grid_sample_backward_serial(ws, j->dinp ? j->dinp + lo * in : NULL, j->dgrid ? j->dgrid + lo * gn : NULL,
                                      j->dout + lo * on, j->inp + lo * in, j->grid + lo * gn, hi - lo, j->C, j->H,
                                      j->W, j->Ho, j->Wo, j->pad, j->align);
}

static int sample_parallel(sample_job *j, const char *fn) {
    int T = gl_pool_tasks(j->N, 20.0 * j->N * j->C * j->Ho * j->Wo);
    j->ntasks = T;
    j->slot = gl_arena_round(gl_grid_sample_ws_floats(j->C, j->H, j->W, j->dinp != NULL));
    j->ws = malloc((size_t)T * j->slot * sizeof(float));
    if (!j->ws) return gl_fail(GL_ENOMEM, "%s: out of memory for the padded workspace", fn);
    int err = gl_parallel(T, sample_task, j);
    free(j->ws);
    return err;
}

GL_API int gl_grid_sample(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                          int pad, int align) {
    int err = check_sample_args("grid_sample", N, C, H, W, Ho, Wo, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE) return gl_grid_sample_ref(out, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    sample_job j = {NULL, NULL, out, NULL, inp, grid, NULL, 0, N, C, H, W, Ho, Wo, pad, align, 1};
    return sample_parallel(&j, "grid_sample");
}

/* Backward of one block: accumulates the input gradient into the padded plane gradient dws
 * (when not NULL) and returns the grid gradient of the block's pixels (paper eq. 6-7). */
static inline __attribute__((always_inline)) void gs_block_backward(const gs_block *b, const float *ws, float *dws,
                                                                    const float *dout_n, size_t P, size_t plane,
                                                                    int C, size_t p, size_t rem, vf *gix, vf *giy) {
    vf ax = VF_SET1(0.0f), ay = VF_SET1(0.0f);
    for (int c = 0; c < C; c++) {
        vf g;
        if (rem == VF_WIDTH) {
            g = VF_LOAD(dout_n + c * P + p);
        } else { /* a partial tail block (never taken when VF_WIDTH is 1) */
            float t[VF_WIDTH] = {0};
            for (size_t l = 0; l < rem && l < VF_WIDTH; l++) t[l] = dout_n[c * P + p + l];
            g = VF_LOAD(t);
        }
        vf nw, ne, sw, se;
        gather_pairs(ws + c * plane, b->top, &nw, &ne);
        gather_pairs(ws + c * plane, b->bot, &sw, &se);
        /* d out / d x = (ne - nw) ty0 + (se - sw) ty1; d out / d y = (sw - nw) tx0 + (se - ne) tx1 */
        vf dx = VF_FMA(VF_SUB(ne, nw), b->ty0, VF_MUL(VF_SUB(se, sw), b->ty1));
        vf dy = VF_FMA(VF_SUB(sw, nw), b->tx0, VF_MUL(VF_SUB(se, ne), b->tx1));
        ax = VF_FMA(dx, g, ax);
        ay = VF_FMA(dy, g, ay);
        if (dws) {
            /* Scatter-add lane by lane (lanes may hit the same pixel). West and east corners
             * accumulate into two separate planes: in a near-identity map lane l's east corner
             * is lane l+1's west corner, and one plane would chain every add of a row through
             * store-to-load forwarding. */
            float *dw = dws + (size_t)c * 2 * plane, *de = dw + plane;
            float t0[VF_WIDTH], t1[VF_WIDTH], b0[VF_WIDTH], b1[VF_WIDTH];
            vf gy0 = VF_MUL(g, b->ty0), gy1 = VF_MUL(g, b->ty1);
            VF_STORE(t0, VF_MUL(gy0, b->tx0));
            VF_STORE(t1, VF_MUL(gy0, b->tx1));
            VF_STORE(b0, VF_MUL(gy1, b->tx0));
            VF_STORE(b1, VF_MUL(gy1, b->tx1));
            for (size_t l = 0; l < rem; l++) {
                dw[b->top[l]] += t0[l];
                de[b->top[l] + 1] += t1[l];
                dw[b->bot[l]] += b0[l];
                de[b->bot[l] + 1] += b1[l];
            }
        }
    }
    *gix = VF_MUL(ax, b->gmx);
    *giy = VF_MUL(ay, b->gmy);
}

static inline __attribute__((always_inline)) void sample_backward_impl(float *dinp, float *dgrid, const float *dout,
                                                                       const float *inp, const float *grid,
                                                                       float *ws, float *dws, int N, int C, int H,
                                                                       int W, int Ho, int Wo, const int pad,
                                                                       const int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W, Wp = (size_t)W + 2, plane = (size_t)(H + 2) * Wp;
    for (int n = 0; n < N; n++) {
        const float *gn = grid + (size_t)n * P * 2;
        float *dgn = dgrid ? dgrid + (size_t)n * P * 2 : NULL;
        const float *dout_n = dout + (size_t)n * C * P;
        pad_planes(ws, inp + (size_t)n * C * HW, C, H, W);
        if (dws) zero_floats(dws, (size_t)C * 2 * plane);
        size_t p = 0;
        /* Full blocks with the literal width, so the scatter unrolls and no branch sits in the
         * channel loop; then one padded tail block. */
        for (; p + VF_WIDTH <= P; p += VF_WIDTH) {
            gs_block b;
            gs_block_setup(&b, gn + 2 * p, H, W, pad, align);
            vf gix, giy;
            gs_block_backward(&b, ws, dws, dout_n, P, plane, C, p, VF_WIDTH, &gix, &giy);
            if (dgn) {
                float d[2 * VF_WIDTH];
                VF_INTERLEAVE2_STORE(d, gix, giy);
                VF_STORE(dgn + 2 * p, VF_ADD(VF_LOAD(dgn + 2 * p), VF_LOAD(d)));
                VF_STORE(dgn + 2 * p + VF_WIDTH, VF_ADD(VF_LOAD(dgn + 2 * p + VF_WIDTH), VF_LOAD(d + VF_WIDTH)));
            }
        }
        if (p < P) {
            size_t rem = P - p;
            float xy[2 * VF_WIDTH];
            pad_tail(xy, gn + 2 * p, rem);
            gs_block b;
            gs_block_setup(&b, xy, H, W, pad, align);
            vf gix, giy;
            gs_block_backward(&b, ws, dws, dout_n, P, plane, C, p, rem, &gix, &giy);
            if (dgn) {
                float d[2 * VF_WIDTH];
                VF_INTERLEAVE2_STORE(d, gix, giy);
                for (size_t k = 0; k < 2 * rem; k++) dgn[2 * p + k] += d[k];
            }
        }
        if (dws) { /* the ring's gradient belongs to pixels outside the image: dropped */
            float *din_n = dinp + (size_t)n * C * HW;
            for (int c = 0; c < C; c++)
                for (int h = 0; h < H; h++) {
                    const float *sw = dws + (size_t)c * 2 * plane + (h + 1) * Wp + 1, *se = sw + plane;
                    float *d = din_n + (size_t)c * HW + (size_t)h * W;
                    for (int w = 0; w < W; w++) d[w] += sw[w] + se[w];
                }
        }
    }
}

int gl_grid_sample_backward_serial(float *ws, float *dinp, float *dgrid, const float *dout, const float *inp,
                               const float *grid, int N, int C, int H, int W, int Ho, int Wo, int pad, int align) {
    int err = check_sample_args("grid_sample_backward", N, C, H, W, Ho, Wo, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE)
        return gl_grid_sample_backward_ref(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    size_t plane = (size_t)(H + 2) * (W + 2);
    /* input planes (C, H+2, W+2), then for dinp the west and east gradient planes (C, 2, H+2, W+2) */
    float *dws = dinp ? ws + (size_t)C * plane : NULL;
    GL_DISPATCH_PAD_ALIGN(sample_backward_impl, pad, align, dinp, dgrid, dout, inp, grid, ws, dws, N, C, H, W, Ho, Wo);
    return GL_OK;
}

GL_API int gl_grid_sample_backward(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                                   int N, int C, int H, int W, int Ho, int Wo, int pad, int align) {
    int err = check_sample_args("grid_sample_backward", N, C, H, W, Ho, Wo, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE)
        return gl_grid_sample_backward_ref(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    sample_job j = {dinp, dgrid, NULL, dout, inp, grid, NULL, 0, N, C, H, W, Ho, Wo, pad, align, 1};
    return sample_parallel(&j, "grid_sample_backward");
}
