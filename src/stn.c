/* stn.c: the Spatial Transformer's grid generator and sampler (Jaderberg et al. 2015, section 3.2
 * eq. 1 and section 3.3 eq. 5-7), with exactly the semantics of PyTorch 1.13's
 * torch.nn.functional.affine_grid and grid_sample on the CPU (its vectorised float kernel,
 * aten/src/ATen/native/cpu/GridSamplerKernel.cpp), in all three modes:
 *   - bilinear: the four neighbours weighted by their distances (paper eq. 5);
 *   - nearest: the pixel at the coordinate rounded half to even (nearbyint); the grid gradient is 0;
 *   - bicubic: Keys' cubic convolution with A = -0.75 over the 4 x 4 pixels around the point, the
 *     padding applied to each of the 16 taps separately (as PyTorch does), the weights computed from
 *     the unpadded coordinate.
 *
 * Coordinates: the grid holds (x, y) per output pixel, normalised so that -1 and +1 are the
 * outer edges of the image (align_corners = 0) or the centres of the corner pixels
 * (align_corners = 1). Padding decides what lies outside: zeros, the border pixel, or the
 * image reflected at its edges.
 *
 * Non-finite grid values, as PyTorch 1.13 gives them (tests/fixtures/stn_modes.json):
 *   - zeros padding: bilinear and bicubic outputs are NaN where x or y is NaN or +-Inf (the
 *     interpolation weights are NaN); the grid gradient's x component is NaN where y is non-finite
 *     and its y component where x is (bicubic: both); nothing reaches dInput. Nearest gives 0.
 *   - border and reflection: a NaN coordinate is clipped to pixel 0 (+-Inf to the border pixel for
 *     border; to pixel 0 for reflection, whose reflection of Inf is NaN) before interpolation, so
 *     bilinear and nearest outputs are finite; bicubic's weights are NaN, so its output, grid
 *     gradient and the dInput taps the point touches are NaN.
 *   - PyTorch 1.13 has no defined result for the bilinear backward with border or reflection
 *     padding and a NaN grid value (or +-Inf with reflection): its kernel clips the coordinate in the
 *     forward but not in the backward, then gathers and scatters at an index computed from NaN, far
 *     outside the tensors (it crashes with a segmentation fault). Here the backward treats the
 *     coordinate as its forward does (pixel 0 or the border, zero gradient).
 *
 * Two implementations of the sampler live here:
 *   - gl_grid_sample*_ref: plain scalar code, one output pixel and channel at a time, a direct
 *     transcription of PyTorch's formulas. It is the oracle for the tests.
 *   - gl_grid_sample / gl_grid_sample_backward: the fast kernels. They compute the source
 *     coordinates, tap offsets and weights for VF_WIDTH output pixels at once (simd.h), then reuse
 *     them across all C channels. Lanes are gathered one by one (wasm has no gather), everything
 *     else is vector arithmetic, in the oracle's order of operations.
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
 * o = 0.5 (not aligned): torch's CPU kernel form. Then, for bilinear and nearest, padding maps
 * x_pix into the image:
 *   border: clip to [0, size-1] (NaN to 0, as torch's clip);
 *   reflection: reflect about low = 0 (aligned) / -0.5 (not) with period 2*span,
 *               span = size-1 / size, then clip.
 * The multiplier d x_pix / d x (including the padding's +-1 or 0) goes to the grid gradient.
 * With zeros padding, huge or non-finite coordinates become -100, i.e. far outside the image; the
 * NaN that torch's weights carry for a non-finite coordinate is added back separately (`poison`).
 * Bicubic applies the padding to each integral tap coordinate instead (ref_tap). */

#define GL_COORD_LIMIT 16777216.0f /* 2^24: beyond it floats have no fractional part */
#define GL_CUBIC_A (-0.75f)        /* the cubic convolution's constant, as torch (and OpenCV) */

static inline float ref_unnormalize(float coord, int size, int align) {
    float s = align ? (float)(size - 1) * 0.5f : (float)size * 0.5f;
    float x = (coord + 1.0f) * s;
    if (!align) x -= 0.5f;
    return x;
}

/* torch's clip_coordinates: NaN and values <= 0 to 0, values >= size-1 to size-1. */
static inline float ref_clip(float x, int size) {
    float hi = (float)(size - 1);
    if (!(x > 0.0f)) return 0.0f;
    return x >= hi ? hi : x;
}

/* torch's reflect_coordinates (no gradient): reflection of x about low and low + span. */
static inline float ref_reflect(float x, int size, int align) {
    if (align && size <= 1) return 0.0f;
    float low = align ? 0.0f : -0.5f;
    float span2 = align ? 2.0f * (float)(size - 1) : 2.0f * (float)size;
    float a = fabsf(x - low);
    float extra = a - floorf(a / span2) * span2;
    float other = span2 - extra;
    return (extra > other ? other : extra) + low;
}

/* Pixel coordinate for bilinear / nearest, its gradient multiplier *gmult, and *poison: NaN when
 * zeros padding meets a non-finite coordinate (torch's weights are NaN there), else 0. */
static inline float ref_source_index(float coord, int size, int pad, int align, float *gmult, float *poison) {
    float s = align ? (float)(size - 1) * 0.5f : (float)size * 0.5f;
    float x = ref_unnormalize(coord, size, align);
    float g = s;
    *poison = pad == GL_PAD_ZEROS ? x - x : 0.0f;
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
        if (!(x > 0.0f)) { x = 0.0f; g = 0.0f; } /* NaN too: torch's forward clips it to 0 */
        else if (x >= hi) { x = hi; g = 0.0f; }
    }
    if (!(fabsf(x) < GL_COORD_LIMIT)) x = -100.0f;
    *gmult = g;
    return x;
}

/* Bicubic: the pixel index a tap at integral coordinate t reads (padding applied to the tap, as
 * torch's compute_coordinates), or -1 when it lies outside the image (zeros padding). */
static inline int ref_tap(float t, int size, int pad, int align) {
    if (pad == GL_PAD_ZEROS) return t >= 0.0f && t <= (float)(size - 1) ? (int)t : -1;
    if (pad == GL_PAD_REFLECTION) t = ref_reflect(t, size, align);
    return (int)ref_clip(t, size); /* truncated like torch's float -> int conversion */
}

/* Cubic convolution weights of the taps at floor(x) - 1 .. floor(x) + 2 for t = x - floor(x), and
 * torch's "gradients" of them (the derivative with respect to -t; the grid gradient subtracts
 * them), in torch's expressions and order of operations. */
static inline void ref_cubic(float c[4], float t) {
    const float A = GL_CUBIC_A;
    float x = t + 1.0f;
    c[0] = ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
    x = t;
    c[1] = ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
    x = 1.0f - t;
    c[2] = ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
    x = 2.0f - t;
    c[3] = ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
}
static inline void ref_cubic_grad(float c[4], float t) {
    const float A = GL_CUBIC_A;
    float x = -1.0f - t;
    c[0] = (-3.0f * A * x - 10.0f * A) * x - 8.0f * A;
    x = 0.0f - t;
    c[1] = (-3.0f * (A + 2.0f) * x - 2.0f * (A + 3.0f)) * x;
    x = 1.0f - t;
    c[2] = (3.0f * (A + 2.0f) * x - 2.0f * (A + 3.0f)) * x;
    x = 2.0f - t;
    c[3] = (3.0f * A * x - 10.0f * A) * x + 8.0f * A;
}

static int check_sample_args(const char *fn, int N, int C, int H, int W, int Ho, int Wo, int mode, int pad) {
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || Ho <= 0 || Wo <= 0)
        return gl_fail(GL_EINVAL, "%s: sizes must be positive (N=%d C=%d H=%d W=%d Ho=%d Wo=%d)", fn, N, C, H, W, Ho, Wo);
    if (mode < GL_MODE_BILINEAR || mode > GL_MODE_BICUBIC)
        return gl_fail(GL_EINVAL, "%s: mode must be 0 (bilinear), 1 (nearest) or 2 (bicubic), got %d", fn, mode);
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
/* The oracles: one pixel, one channel at a time (paper eq. 5; gradients eq. 6-7). */

static inline int inside(int x, int y, int W, int H) { return x >= 0 && x < W && y >= 0 && y < H; }

static void bilinear_ref(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                         int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            float gx, gy, px, py;
            float x = ref_source_index(grid[(n * P + p) * 2 + 0], W, pad, align, &gx, &px);
            float y = ref_source_index(grid[(n * P + p) * 2 + 1], H, pad, align, &gy, &py);
            int x0 = (int)floorf(x), y0 = (int)floorf(y), x1 = x0 + 1, y1 = y0 + 1;
            float tx0 = (float)x1 - x, tx1 = x - (float)x0, ty0 = (float)y1 - y, ty1 = y - (float)y0;
            for (int c = 0; c < C; c++) {
                const float *im = inp + ((size_t)n * C + c) * HW;
                float v = 0.0f;
                if (inside(x0, y0, W, H)) v += im[y0 * W + x0] * tx0 * ty0;
                if (inside(x1, y0, W, H)) v += im[y0 * W + x1] * tx1 * ty0;
                if (inside(x0, y1, W, H)) v += im[y1 * W + x0] * tx0 * ty1;
                if (inside(x1, y1, W, H)) v += im[y1 * W + x1] * tx1 * ty1;
                out[((size_t)n * C + c) * P + p] = px == 0.0f && py == 0.0f ? v : NAN;
            }
        }
}

static void bilinear_backward_ref(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                                  int N, int C, int H, int W, int Ho, int Wo, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            float gmx, gmy, px, py;
            float x = ref_source_index(grid[(n * P + p) * 2 + 0], W, pad, align, &gmx, &px);
            float y = ref_source_index(grid[(n * P + p) * 2 + 1], H, pad, align, &gmy, &py);
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
                /* torch (zeros padding): d/dx carries y's NaN weights and d/dy x's */
                dgrid[(n * P + p) * 2 + 0] += py == 0.0f ? gmx * gix : NAN;
                dgrid[(n * P + p) * 2 + 1] += px == 0.0f ? gmy * giy : NAN;
            }
        }
}

/* Nearest: the pixel at the rounded coordinate (round half to even, as torch's round()). */
static inline int ref_nearest(const float *xy, int H, int W, int pad, int align) {
    float gm, po;
    float x = nearbyintf(ref_source_index(xy[0], W, pad, align, &gm, &po));
    float y = nearbyintf(ref_source_index(xy[1], H, pad, align, &gm, &po));
    if (!(x >= 0.0f && x <= (float)(W - 1) && y >= 0.0f && y <= (float)(H - 1))) return -1; /* zeros padding only */
    return (int)y * W + (int)x;
}

static void nearest_ref(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                        int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            int k = ref_nearest(grid + (n * P + p) * 2, H, W, pad, align);
            for (int c = 0; c < C; c++)
                out[((size_t)n * C + c) * P + p] = k >= 0 ? inp[((size_t)n * C + c) * HW + k] : 0.0f;
        }
}

static void nearest_backward_ref(float *dinp, const float *dout, const float *grid, int N, int C, int H, int W, int Ho,
                                 int Wo, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    if (!dinp) return; /* the grid gradient is zero */
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            int k = ref_nearest(grid + (n * P + p) * 2, H, W, pad, align);
            if (k < 0) continue;
            for (int c = 0; c < C; c++) dinp[((size_t)n * C + c) * HW + k] += dout[((size_t)n * C + c) * P + p];
        }
}

/* Bicubic: out = sum_j cy[j] * (sum_i cx[i] * v(floor(x) - 1 + i, floor(y) - 1 + j)), each tap padded
 * on its own (torch's forward, in its order of operations). */
static void bicubic_ref(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                        int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            float x = ref_unnormalize(grid[(n * P + p) * 2 + 0], W, align);
            float y = ref_unnormalize(grid[(n * P + p) * 2 + 1], H, align);
            float ix = floorf(x), iy = floorf(y), cx[4], cy[4];
            ref_cubic(cx, x - ix);
            ref_cubic(cy, y - iy);
            int tx[4], ty[4];
            for (int k = 0; k < 4; k++) {
                tx[k] = ref_tap(ix + (float)(k - 1), W, pad, align);
                ty[k] = ref_tap(iy + (float)(k - 1), H, pad, align);
            }
            for (int c = 0; c < C; c++) {
                const float *im = inp + ((size_t)n * C + c) * HW;
                float r[4];
                for (int j = 0; j < 4; j++) {
                    float v[4];
                    for (int i = 0; i < 4; i++) v[i] = tx[i] >= 0 && ty[j] >= 0 ? im[(size_t)ty[j] * W + tx[i]] : 0.0f;
                    r[j] = cx[0] * v[0] + cx[1] * v[1] + cx[2] * v[2] + cx[3] * v[3];
                }
                out[((size_t)n * C + c) * P + p] = cy[0] * r[0] + cy[1] * r[1] + cy[2] * r[2] + cy[3] * r[3];
            }
        }
}

static void bicubic_backward_ref(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                                 int N, int C, int H, int W, int Ho, int Wo, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    float sx = align ? (float)(W - 1) * 0.5f : (float)W * 0.5f, sy = align ? (float)(H - 1) * 0.5f : (float)H * 0.5f;
    for (int n = 0; n < N; n++)
        for (size_t p = 0; p < P; p++) {
            float x = ref_unnormalize(grid[(n * P + p) * 2 + 0], W, align);
            float y = ref_unnormalize(grid[(n * P + p) * 2 + 1], H, align);
            float ix = floorf(x), iy = floorf(y), cx[4], cy[4], gx[4], gy[4];
            ref_cubic(cx, x - ix);
            ref_cubic(cy, y - iy);
            ref_cubic_grad(gx, x - ix);
            ref_cubic_grad(gy, y - iy);
            int tx[4], ty[4];
            for (int k = 0; k < 4; k++) {
                tx[k] = ref_tap(ix + (float)(k - 1), W, pad, align);
                ty[k] = ref_tap(iy + (float)(k - 1), H, pad, align);
            }
            float ax = 0.0f, ay = 0.0f;
            for (int c = 0; c < C; c++) {
                const float *im = inp + ((size_t)n * C + c) * HW;
                float *dim = dinp ? dinp + ((size_t)n * C + c) * HW : NULL;
                float g = dout[((size_t)n * C + c) * P + p];
                for (int j = 0; j < 4; j++)
                    for (int i = 0; i < 4; i++) {
                        int in = tx[i] >= 0 && ty[j] >= 0;
                        size_t k = in ? (size_t)ty[j] * W + tx[i] : 0;
                        if (dim && in) dim[k] += g * cy[j] * cx[i];
                        float v = in ? im[k] : 0.0f;
                        ax = ax - v * g * gx[i] * cy[j];
                        ay = ay - v * g * gy[j] * cx[i];
                    }
            }
            if (dgrid) {
                dgrid[(n * P + p) * 2 + 0] += ax * sx;
                dgrid[(n * P + p) * 2 + 1] += ay * sy;
            }
        }
}

/* out (N, C, Ho, Wo) <- inp (N, C, H, W) sampled at grid (N, Ho, Wo, 2) */
GL_TEST_API int gl_grid_sample_ref(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho,
                                   int Wo, int mode, int pad, int align) {
    int err = check_sample_args("grid_sample", N, C, H, W, Ho, Wo, mode, pad);
    if (err) return err;
    if (mode == GL_MODE_BILINEAR) bilinear_ref(out, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    else if (mode == GL_MODE_NEAREST) nearest_ref(out, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    else bicubic_ref(out, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    return GL_OK;
}

/* dinp (N, C, H, W) += dL/dinp, dgrid (N, Ho, Wo, 2) += dL/dgrid, given dout (N, C, Ho, Wo).
 * Either gradient buffer may be NULL to skip it. */
GL_TEST_API int gl_grid_sample_backward_ref(float *dinp, float *dgrid, const float *dout, const float *inp,
                                            const float *grid, int N, int C, int H, int W, int Ho, int Wo, int mode,
                                            int pad, int align) {
    int err = check_sample_args("grid_sample_backward", N, C, H, W, Ho, Wo, mode, pad);
    if (err) return err;
    if (mode == GL_MODE_BILINEAR) bilinear_backward_ref(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    else if (mode == GL_MODE_NEAREST) nearest_backward_ref(dinp, dout, grid, N, C, H, W, Ho, Wo, pad, align);
    else bicubic_backward_ref(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, pad, align);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The fast kernels.
 *
 * Each image's channel planes are first copied into a workspace with a one-pixel ring of zeros
 * around them, (H+2) x (W+2). Then the four corners of every bilinear sample sit inside the padded
 * plane whenever the sample touches the image at all, and outside values read as zero without
 * per-corner tests: the west/east corners of a row are adjacent and are fetched together with
 * one 64-bit load. A sample that misses the image entirely (zeros padding) gets weight 0
 * through one per-pixel mask. Border and reflection clip coordinates into the image first, so
 * the ring is only ever read with weight 0 there. Bicubic taps outside the image (zeros padding)
 * are clamped into the ring, so they read zero too; nearest reads the input directly.
 *
 * A block is VF_WIDTH consecutive output pixels of one image; its coordinates, offsets and
 * weights are computed once and reused for all C channels. */

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

/* Round half to even (torch's round(), C's nearbyint) and a gather of VF_WIDTH floats at im + off[l]. */
#if defined(__wasm_simd128__)
#define GS_ROUND(a) wasm_f32x4_nearest(a)
#elif VF_WIDTH == 4
#define GS_ROUND(a) _mm_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#else
#define GS_ROUND(a) nearbyintf(a)
#endif

static inline __attribute__((always_inline)) vf gather4(const float *im, const int32_t *off) {
#if defined(__wasm_simd128__)
    v128_t v = wasm_v128_load32_zero(im + off[0]);
    v = wasm_v128_load32_lane(im + off[1], v, 1);
    v = wasm_v128_load32_lane(im + off[2], v, 2);
    return wasm_v128_load32_lane(im + off[3], v, 3);
#elif VF_WIDTH == 4
    return _mm_setr_ps(im[off[0]], im[off[1]], im[off[2]], im[off[3]]);
#else
    return im[off[0]];
#endif
}

typedef struct {
    int32_t top[VF_WIDTH];  /* offset of the north-west corner in the padded plane; +1 is north-east */
    int32_t bot[VF_WIDTH];  /* offset of the south-west corner; +1 is south-east */
    vf tx0, tx1, ty0, ty1;  /* bilinear distances (tx0 = x1 - x, ...), zeroed for samples off the image */
    vf tx0p, ty0p;          /* tx0, ty0 plus the NaN poison of a non-finite x, y (zeros padding; else equal) */
    vf px, py;              /* the poison: NaN where x, y is non-finite (zeros padding), else 0 */
    vf gmx, gmy;            /* d pixel coordinate / d grid coordinate, zeroed likewise */
    int run;                /* the lanes' corners are consecutive pixels (top[l] = top[0] + l) */
} gs_block;

static inline __attribute__((always_inline)) vf vec_unnormalize(vf coord, int size, const int align) {
    float s = align ? (float)(size - 1) * 0.5f : (float)size * 0.5f;
    vf x = VF_MUL(VF_ADD(coord, VF_SET1(1.0f)), VF_SET1(s));
    if (!align) x = VF_SUB(x, VF_SET1(0.5f));
    return x;
}

/* Vector twin of ref_source_index: same operations in the same order. pad and align are
 * compile-time constants in every caller (see the dispatch below). */
static inline __attribute__((always_inline)) vf vec_source_index(vf coord, int size, const int pad, const int align,
                                                                 vf *gmult, vf *poison) {
    const vf one = VF_SET1(1.0f), zero = VF_SET1(0.0f);
    float s = align ? (float)(size - 1) * 0.5f : (float)size * 0.5f;
    vf x = vec_unnormalize(coord, size, align);
    vf g = VF_SET1(s);
    *poison = pad == GL_PAD_ZEROS ? VF_SUB(x, x) : zero;
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
        /* torch's clip, as compares + selects rather than max/min: a NaN must become 0 as in
         * ref_source_index, but SSE's max/min return the second operand for NaN where wasm's
         * pmax/pmin return the first (tests/native/test_stn.c). */
        x = VF_SELECT(VF_GT(x, zero), x, zero);
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
    vf gx, gy, px, py;
    VF_DEINTERLEAVE2(xy, gx, gy);
    vf x = vec_source_index(gx, W, pad, align, &b->gmx, &px);
    vf y = vec_source_index(gy, H, pad, align, &b->gmy, &py);
    vf x0 = VF_FLOOR(x), y0 = VF_FLOOR(y);
    vf wmax = VF_SET1((float)(W - 1)), hmax = VF_SET1((float)(H - 1));
    /* The sample touches the image iff its north-west corner lies in [-1, W-1] x [-1, H-1]. */
    vm on = VM_AND(VM_AND(VF_GE(x0, mone), VF_LE(x0, wmax)), VM_AND(VF_GE(y0, mone), VF_LE(y0, hmax)));
    b->tx0 = VF_AND(on, VF_SUB(VF_ADD(x0, one), x));
    b->tx1 = VF_AND(on, VF_SUB(x, x0));
    b->ty0 = VF_AND(on, VF_SUB(VF_ADD(y0, one), y));
    b->ty1 = VF_AND(on, VF_SUB(y, y0));
    b->tx0p = pad == GL_PAD_ZEROS ? VF_ADD(b->tx0, px) : b->tx0;
    b->ty0p = pad == GL_PAD_ZEROS ? VF_ADD(b->ty0, py) : b->ty0;
    b->px = px;
    b->py = py;
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
#if VF_WIDTH == 4
    b->run = b->top[1] == b->top[0] + 1 && b->top[2] == b->top[0] + 2 && b->top[3] == b->top[0] + 3;
#else
    b->run = 0;
#endif
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
    vf top = VF_FMA(nw, b->tx0p, VF_MUL(ne, b->tx1));
    vf bot = VF_FMA(sw, b->tx0p, VF_MUL(se, b->tx1));
    return VF_FMA(top, b->ty0p, VF_MUL(bot, b->ty1));
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

/* The grid coordinates of a block of rem <= VF_WIDTH pixels: the grid itself for a full block,
 * else the partial last block zero-padded into xy (never taken when VF_WIDTH is 1). */
static inline const float *block_grid(float *xy, const float *grid, size_t rem) {
    if (rem == VF_WIDTH) return grid;
    pad_tail(xy, grid, rem);
    return xy;
}

static inline __attribute__((always_inline)) void bilinear_impl(float *out, const float *inp, const float *grid,
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

/* Backward of one block: accumulates the input gradient into the padded plane gradient dws
 * (when not NULL) and returns the grid gradient of the block's pixels (paper eq. 6-7). */
static inline __attribute__((always_inline)) void gs_block_backward(const gs_block *b, const float *ws, float *dws,
                                                                    const float *dout_n, size_t P, size_t plane,
                                                                    int C, size_t p, size_t rem, const int zeros, vf *gix,
                                                                    vf *giy) {
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
            if (b->run) {
                /* the lanes' corners are consecutive pixels (a near-identity map, the common
                 * case): one vector add per corner row, no two lanes on one pixel of a plane, so
                 * the same sums as lane by lane */
                float *w0 = dw + b->top[0], *e0 = de + b->top[0] + 1, *w1 = dw + b->bot[0], *e1 = de + b->bot[0] + 1;
                VF_STORE(w0, VF_ADD(VF_LOAD(w0), VF_MUL(gy0, b->tx0)));
                VF_STORE(e0, VF_ADD(VF_LOAD(e0), VF_MUL(gy0, b->tx1)));
                VF_STORE(w1, VF_ADD(VF_LOAD(w1), VF_MUL(gy1, b->tx0)));
                VF_STORE(e1, VF_ADD(VF_LOAD(e1), VF_MUL(gy1, b->tx1)));
                continue;
            }
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
    /* torch (zeros padding): d/dx carries y's NaN weights and d/dy x's; added here rather than in
     * the weights, so the channel loop keeps four weight vectors in registers */
    *gix = VF_MUL(ax, b->gmx);
    *giy = VF_MUL(ay, b->gmy);
    if (zeros) {
        *gix = VF_ADD(*gix, b->py);
        *giy = VF_ADD(*giy, b->px);
    }
}

static inline __attribute__((always_inline)) void bilinear_backward_impl(float *dinp, float *dgrid, const float *dout,
                                                                       const float *inp, const float *grid,
                                                                       float *ws, float *dws, int N, int C, int H,
                                                                       int W, int Ho, int Wo, int set, const int pad,
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
            gs_block_backward(&b, ws, dws, dout_n, P, plane, C, p, VF_WIDTH, pad == GL_PAD_ZEROS, &gix, &giy);
            if (dgn) {
                float d[2 * VF_WIDTH];
                VF_INTERLEAVE2_STORE(d, gix, giy);
                if (set) {
                    VF_STORE(dgn + 2 * p, VF_LOAD(d));
                    VF_STORE(dgn + 2 * p + VF_WIDTH, VF_LOAD(d + VF_WIDTH));
                } else {
                    VF_STORE(dgn + 2 * p, VF_ADD(VF_LOAD(dgn + 2 * p), VF_LOAD(d)));
                    VF_STORE(dgn + 2 * p + VF_WIDTH, VF_ADD(VF_LOAD(dgn + 2 * p + VF_WIDTH), VF_LOAD(d + VF_WIDTH)));
                }
            }
        }
        if (p < P) {
            size_t rem = P - p;
            float xy[2 * VF_WIDTH];
            pad_tail(xy, gn + 2 * p, rem);
            gs_block b;
            gs_block_setup(&b, xy, H, W, pad, align);
            vf gix, giy;
            b.run = 0; /* the padded lanes must not be written */
            gs_block_backward(&b, ws, dws, dout_n, P, plane, C, p, rem, pad == GL_PAD_ZEROS, &gix, &giy);
            if (dgn) {
                float d[2 * VF_WIDTH];
                VF_INTERLEAVE2_STORE(d, gix, giy);
                for (size_t k = 0; k < 2 * rem; k++) dgn[2 * p + k] = set ? d[k] : dgn[2 * p + k] + d[k];
            }
        }
        if (dws) { /* the ring's gradient belongs to pixels outside the image: dropped */
            float *din_n = dinp + (size_t)n * C * HW;
            for (int c = 0; c < C; c++)
                for (int h = 0; h < H; h++) {
                    const float *sw = dws + (size_t)c * 2 * plane + (h + 1) * Wp + 1, *se = sw + plane;
                    float *d = din_n + (size_t)c * HW + (size_t)h * W;
                    if (set)
                        for (int w = 0; w < W; w++) d[w] = sw[w] + se[w];
                    else
                        for (int w = 0; w < W; w++) d[w] += sw[w] + se[w];
                }
        }
    }
}


/* ---------------------------------------------------------------------------------------- */
/* Nearest: a block's rounded coordinates become pixel indices of the unpadded image (0 for samples
 * off the image, which zeros padding then masks); each channel is a gather. */

typedef struct {
    int32_t idx[VF_WIDTH]; /* pixel index (y * W + x) of each lane's sample, 0 when it misses the image */
    int32_t hit[VF_WIDTH]; /* 1 when the sample lies in the image (always with border / reflection) */
    vm in;                 /* the same as a lane mask */
} nn_block;

static inline __attribute__((always_inline)) void nn_block_setup(nn_block *b, const float *xy, int H, int W,
                                                                 const int pad, const int align) {
    vf gx, gy, gm, po;
    VF_DEINTERLEAVE2(xy, gx, gy);
    vf x = GS_ROUND(vec_source_index(gx, W, pad, align, &gm, &po));
    vf y = GS_ROUND(vec_source_index(gy, H, pad, align, &gm, &po));
    if (pad == GL_PAD_ZEROS) {
        const vf zero = VF_SET1(0.0f);
        b->in = VM_AND(VM_AND(VF_GE(x, zero), VF_LE(x, VF_SET1((float)(W - 1)))),
                       VM_AND(VF_GE(y, zero), VF_LE(y, VF_SET1((float)(H - 1)))));
        x = VF_AND(b->in, x);
        y = VF_AND(b->in, y);
        VI_STORE(b->hit, VF_TO_VI_SMALL(VF_AND(b->in, VF_SET1(1.0f))));
    } else {
        b->in = VF_GE(x, x); /* all lanes: border / reflection always hit the image */
        for (int l = 0; l < VF_WIDTH; l++) b->hit[l] = 1;
    }
    VI_STORE(b->idx, VI_ADD(VI_MUL(VF_TO_VI_SMALL(y), VI_SET1(W)), VF_TO_VI_SMALL(x)));
}

/* Setup with pad and align as literal constants chosen at run time: nearest's and bicubic's channel
 * loops do not depend on them, so only their block setups are compiled six times. */
#define GL_SETUP_PAD_ALIGN(SETUP, b, xy, H, W, pad, align) GL_DISPATCH_PAD_ALIGN(SETUP, pad, align, b, xy, H, W)

static void nearest_impl(float *out, const float *inp, const float *grid, float *ws, int N, int C, int H, int W, int Ho,
                         int Wo, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    for (int n = 0; n < N; n++) {
        const float *gn = grid + (size_t)n * P * 2, *in_n = inp + (size_t)n * C * HW;
        float *out_n = out + (size_t)n * C * P;
        for (size_t p = 0; p < P; p += VF_WIDTH) {
            size_t rem = P - p < VF_WIDTH ? P - p : VF_WIDTH;
            float xy[2 * VF_WIDTH], o[VF_WIDTH];
            const float *src = block_grid(xy, gn + 2 * p, rem);
            nn_block b;
            GL_SETUP_PAD_ALIGN(nn_block_setup, &b, src, H, W, pad, align);
            for (int c = 0; c < C; c++) {
                vf v = VF_AND(b.in, gather4(in_n + (size_t)c * HW, b.idx));
                if (rem == VF_WIDTH) {
                    VF_STORE(out_n + c * P + p, v);
                } else {
                    VF_STORE(o, v);
                    for (size_t l = 0; l < rem; l++) out_n[c * P + p + l] = o[l];
                }
            }
        }
    }
}

/* The input gradient only: d out / d grid is zero almost everywhere (and torch defines it as 0). */
static void nearest_backward_impl(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid, float *ws,
                                  float *dws, int N, int C, int H, int W, int Ho, int Wo, int set, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W;
    if (set && dgrid) zero_floats(dgrid, (size_t)N * P * 2);
    if (!dinp) return;
    if (set) zero_floats(dinp, (size_t)N * C * HW);
    for (int n = 0; n < N; n++) {
        const float *gn = grid + (size_t)n * P * 2, *dout_n = dout + (size_t)n * C * P;
        float *din_n = dinp + (size_t)n * C * HW;
        for (size_t p = 0; p < P; p += VF_WIDTH) {
            size_t rem = P - p < VF_WIDTH ? P - p : VF_WIDTH;
            float xy[2 * VF_WIDTH];
            const float *src = block_grid(xy, gn + 2 * p, rem);
            nn_block b;
            GL_SETUP_PAD_ALIGN(nn_block_setup, &b, src, H, W, pad, align);
            for (int c = 0; c < C; c++) {
                float *d = din_n + (size_t)c * HW;
                const float *g = dout_n + c * P + p;
                for (size_t l = 0; l < rem; l++)
                    if (b.hit[l]) d[b.idx[l]] += g[l];
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Bicubic: per block, the 4 x 4 taps' offsets in the padded plane and the cubic weights; each
 * channel then gathers 16 values per lane and combines them in torch's order (rows first). */

typedef struct {
    int32_t off[4][4][VF_WIDTH]; /* [j][i]: offset of the tap (floor(x) - 1 + i, floor(y) - 1 + j) */
    vf cx[4], cy[4];             /* cubic weights of the columns and rows */
    vf tx, ty;                   /* x - floor(x), y - floor(y) */
    int contig;                  /* every lane's four tap columns are consecutive (no clamping) */
} bc_block;

/* The taps of row j for every lane as four vectors (tap i of each lane in v[i]), read with one
 * 128-bit load per lane and a 4x4 transpose when the block's columns are consecutive (the
 * interior of the image: the common case), else gathered lane by lane. The same values either way. */
static inline __attribute__((always_inline)) void bc_row(const bc_block *b, const float *im, int j, int contig,
                                                         vf v[4]) {
#if VF_WIDTH == 4
    if (contig) {
        const int32_t *o = b->off[j][0];
#if defined(__wasm_simd128__)
        v128_t r0 = wasm_v128_load(im + o[0]), r1 = wasm_v128_load(im + o[1]);
        v128_t r2 = wasm_v128_load(im + o[2]), r3 = wasm_v128_load(im + o[3]);
        v128_t a = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), c = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        v128_t bb = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), d = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        v[0] = wasm_i32x4_shuffle(a, bb, 0, 1, 4, 5);
        v[1] = wasm_i32x4_shuffle(a, bb, 2, 3, 6, 7);
        v[2] = wasm_i32x4_shuffle(c, d, 0, 1, 4, 5);
        v[3] = wasm_i32x4_shuffle(c, d, 2, 3, 6, 7);
#else
        __m128 r0 = _mm_loadu_ps(im + o[0]), r1 = _mm_loadu_ps(im + o[1]);
        __m128 r2 = _mm_loadu_ps(im + o[2]), r3 = _mm_loadu_ps(im + o[3]);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        v[0] = r0, v[1] = r1, v[2] = r2, v[3] = r3;
#endif
        return;
    }
#endif
    for (int i = 0; i < 4; i++) v[i] = gather4(im, b->off[j][i]);
}

static inline __attribute__((always_inline)) void vec_cubic(vf c[4], vf t) {
    const vf A = VF_SET1(GL_CUBIC_A), one = VF_SET1(1.0f);
    const vf A5 = VF_SET1(5.0f * GL_CUBIC_A), A8 = VF_SET1(8.0f * GL_CUBIC_A), A4 = VF_SET1(4.0f * GL_CUBIC_A);
    const vf A2 = VF_SET1(GL_CUBIC_A + 2.0f), A3 = VF_SET1(GL_CUBIC_A + 3.0f);
    vf x = VF_ADD(t, one);
    c[0] = VF_SUB(VF_MUL(VF_ADD(VF_MUL(VF_SUB(VF_MUL(A, x), A5), x), A8), x), A4);
    x = t;
    c[1] = VF_ADD(VF_MUL(VF_MUL(VF_SUB(VF_MUL(A2, x), A3), x), x), one);
    x = VF_SUB(one, t);
    c[2] = VF_ADD(VF_MUL(VF_MUL(VF_SUB(VF_MUL(A2, x), A3), x), x), one);
    x = VF_SUB(VF_SET1(2.0f), t);
    c[3] = VF_SUB(VF_MUL(VF_ADD(VF_MUL(VF_SUB(VF_MUL(A, x), A5), x), A8), x), A4);
}

static inline __attribute__((always_inline)) void vec_cubic_grad(vf c[4], vf t) {
    const vf m3A = VF_SET1(-3.0f * GL_CUBIC_A), p3A = VF_SET1(3.0f * GL_CUBIC_A);
    const vf A10 = VF_SET1(10.0f * GL_CUBIC_A), A8 = VF_SET1(8.0f * GL_CUBIC_A);
    const vf m3A2 = VF_SET1(-3.0f * (GL_CUBIC_A + 2.0f)), p3A2 = VF_SET1(3.0f * (GL_CUBIC_A + 2.0f));
    const vf A3x2 = VF_SET1(2.0f * (GL_CUBIC_A + 3.0f));
    vf x = VF_SUB(VF_SET1(-1.0f), t);
    c[0] = VF_SUB(VF_MUL(VF_SUB(VF_MUL(m3A, x), A10), x), A8);
    x = VF_SUB(VF_SET1(0.0f), t);
    c[1] = VF_MUL(VF_SUB(VF_MUL(m3A2, x), A3x2), x);
    x = VF_SUB(VF_SET1(1.0f), t);
    c[2] = VF_MUL(VF_SUB(VF_MUL(p3A2, x), A3x2), x);
    x = VF_SUB(VF_SET1(2.0f), t);
    c[3] = VF_ADD(VF_MUL(VF_SUB(VF_MUL(p3A, x), A10), x), A8);
}

/* Padded-plane coordinate (0 .. size+1) of an integral tap coordinate t: ref_tap plus one, with
 * zeros padding's outside taps clamped into the zero ring. Selects, not min/max, so that a NaN
 * tap lands where torch puts it (-1 for zeros, pixel 0 otherwise). */
static inline __attribute__((always_inline)) vf vec_tap(vf t, int size, const int pad, const int align) {
    const vf zero = VF_SET1(0.0f), one = VF_SET1(1.0f);
    if (pad == GL_PAD_ZEROS) {
        vf lo = VF_SET1(-1.0f), hi = VF_SET1((float)size);
        t = VF_SELECT(VF_GE(t, lo), t, lo);
        t = VF_SELECT(VF_LE(t, hi), t, hi);
        return VF_ADD(t, one);
    }
    if (pad == GL_PAD_REFLECTION) {
        if (align && size <= 1) {
            t = zero;
        } else {
            float low = align ? 0.0f : -0.5f;
            float span2 = align ? 2.0f * (float)(size - 1) : 2.0f * (float)size;
            vf sp = VF_SET1(span2), a = VF_ABS(VF_SUB(t, VF_SET1(low)));
            vf extra = VF_SUB(a, VF_MUL(VF_FLOOR(VF_DIV(a, sp)), sp));
            vf other = VF_SUB(sp, extra);
            t = VF_ADD(VF_SELECT(VF_GT(extra, other), other, extra), VF_SET1(low));
        }
    }
    vf hi = VF_SET1((float)(size - 1));
    t = VF_SELECT(VF_GT(t, zero), t, zero);
    t = VF_SELECT(VF_GE(t, hi), hi, t);
    if (pad == GL_PAD_REFLECTION) t = VF_FLOOR(t); /* far-off taps reflect to fractions: truncate as torch */
    return VF_ADD(t, one);
}

static inline __attribute__((always_inline)) void bc_block_setup(bc_block *b, const float *xy, int H, int W,
                                                                 const int pad, const int align) {
    vf gx, gy;
    VF_DEINTERLEAVE2(xy, gx, gy);
    vf x = vec_unnormalize(gx, W, align), y = vec_unnormalize(gy, H, align);
    vf ix = VF_FLOOR(x), iy = VF_FLOOR(y);
    b->tx = VF_SUB(x, ix);
    b->ty = VF_SUB(y, iy);
    vec_cubic(b->cx, b->tx);
    vec_cubic(b->cy, b->ty);
    vi col[4], row[4], Wp = VI_SET1(W + 2);
    for (int k = 0; k < 4; k++) {
        col[k] = VF_TO_VI_SMALL(vec_tap(VF_ADD(ix, VF_SET1((float)(k - 1))), W, pad, align));
        row[k] = VI_MUL(VF_TO_VI_SMALL(vec_tap(VF_ADD(iy, VF_SET1((float)(k - 1))), H, pad, align)), Wp);
    }
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++) VI_STORE(b->off[j][i], VI_ADD(row[j], col[i]));
    b->contig = 1;
    for (int l = 0; l < VF_WIDTH; l++) b->contig &= b->off[0][3][l] - b->off[0][0][l] == 3;
}

static inline __attribute__((always_inline)) vf bc_block_sample(const bc_block *b, const float *im, const int contig) {
    vf r[4];
    for (int j = 0; j < 4; j++) {
        vf v[4];
        bc_row(b, im, j, contig, v);
        r[j] = VF_ADD(VF_ADD(VF_ADD(VF_MUL(b->cx[0], v[0]), VF_MUL(b->cx[1], v[1])), VF_MUL(b->cx[2], v[2])),
                      VF_MUL(b->cx[3], v[3]));
    }
    return VF_ADD(VF_ADD(VF_ADD(VF_MUL(b->cy[0], r[0]), VF_MUL(b->cy[1], r[1])), VF_MUL(b->cy[2], r[2])),
                  VF_MUL(b->cy[3], r[3]));
}

static void bicubic_impl(float *out, const float *inp, const float *grid, float *ws, int N, int C, int H, int W, int Ho,
                         int Wo, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W, plane = (size_t)(H + 2) * (W + 2);
    for (int n = 0; n < N; n++) {
        const float *gn = grid + (size_t)n * P * 2;
        float *out_n = out + (size_t)n * C * P;
        pad_planes(ws, inp + (size_t)n * C * HW, C, H, W);
        for (size_t p = 0; p < P; p += VF_WIDTH) {
            size_t rem = P - p < VF_WIDTH ? P - p : VF_WIDTH;
            float xy[2 * VF_WIDTH], o[VF_WIDTH];
            const float *src = block_grid(xy, gn + 2 * p, rem);
            bc_block b;
            GL_SETUP_PAD_ALIGN(bc_block_setup, &b, src, H, W, pad, align);
            for (int c = 0; c < C; c++) {
                vf v = b.contig ? bc_block_sample(&b, ws + c * plane, 1) : bc_block_sample(&b, ws + c * plane, 0);
                if (rem == VF_WIDTH) {
                    VF_STORE(out_n + c * P + p, v);
                } else {
                    VF_STORE(o, v);
                    for (size_t l = 0; l < rem; l++) out_n[c * P + p + l] = o[l];
                }
            }
        }
    }
}

/* Backward of one bicubic block: the input gradient scattered into the padded gradient planes
 * dws (when not NULL), the grid gradient returned (loop order: channels, rows, columns, as the
 * oracle; torch takes columns before rows, which changes only the rounding of the sums). */
static inline __attribute__((always_inline)) void bc_block_backward(const bc_block *b, const float *ws, float *dws,
                                                                    const float *dout_n, size_t P, size_t plane,
                                                                    int C, size_t p, size_t rem, vf sx, vf sy,
                                                                    const int contig, vf *gix, vf *giy) {
    vf gxc[4], gyc[4];
    vec_cubic_grad(gxc, b->tx);
    vec_cubic_grad(gyc, b->ty);
    vf ax = VF_SET1(0.0f), ay = VF_SET1(0.0f);
    for (int c = 0; c < C; c++) {
        vf g;
        if (rem == VF_WIDTH) {
            g = VF_LOAD(dout_n + c * P + p);
        } else {
            float t[VF_WIDTH] = {0};
            for (size_t l = 0; l < rem && l < VF_WIDTH; l++) t[l] = dout_n[c * P + p + l];
            g = VF_LOAD(t);
        }
        const float *im = ws + c * plane;
        float *dw = dws ? dws + c * plane : NULL;
        for (int j = 0; j < 4; j++) {
            vf v[4];
            bc_row(b, im, j, contig, v);
            vf gcy = VF_MUL(g, b->cy[j]);
            for (int i = 0; i < 4; i++) {
                if (dw) {
                    const int32_t *o = b->off[j][i];
                    float d[VF_WIDTH];
                    VF_STORE(d, VF_MUL(gcy, b->cx[i]));
                    for (size_t l = 0; l < rem; l++) dw[o[l]] += d[l];
                }
                vf vg = VF_MUL(v[i], g);
                ax = VF_SUB(ax, VF_MUL(VF_MUL(vg, gxc[i]), b->cy[j]));
                ay = VF_SUB(ay, VF_MUL(VF_MUL(vg, gyc[j]), b->cx[i]));
            }
        }
    }
    *gix = VF_MUL(ax, sx);
    *giy = VF_MUL(ay, sy);
}

static void bicubic_backward_impl(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid, float *ws,
                                  float *dws, int N, int C, int H, int W, int Ho, int Wo, int set, int pad, int align) {
    size_t P = (size_t)Ho * Wo, HW = (size_t)H * W, Wp = (size_t)W + 2, plane = (size_t)(H + 2) * Wp;
    const vf sx = VF_SET1(align ? (float)(W - 1) * 0.5f : (float)W * 0.5f);
    const vf sy = VF_SET1(align ? (float)(H - 1) * 0.5f : (float)H * 0.5f);
    for (int n = 0; n < N; n++) {
        const float *gn = grid + (size_t)n * P * 2;
        float *dgn = dgrid ? dgrid + (size_t)n * P * 2 : NULL;
        const float *dout_n = dout + (size_t)n * C * P;
        pad_planes(ws, inp + (size_t)n * C * HW, C, H, W);
        if (dws) zero_floats(dws, (size_t)C * plane);
        for (size_t p = 0; p < P; p += VF_WIDTH) {
            size_t rem = P - p < VF_WIDTH ? P - p : VF_WIDTH;
            float xy[2 * VF_WIDTH], d[2 * VF_WIDTH];
            const float *src = block_grid(xy, gn + 2 * p, rem);
            bc_block b;
            GL_SETUP_PAD_ALIGN(bc_block_setup, &b, src, H, W, pad, align);
            vf gix, giy;
            /* one instance for the interior (consecutive taps, a full block), one for the rest */
            if (rem == VF_WIDTH && b.contig) bc_block_backward(&b, ws, dws, dout_n, P, plane, C, p, VF_WIDTH, sx, sy, 1, &gix, &giy);
            else bc_block_backward(&b, ws, dws, dout_n, P, plane, C, p, rem, sx, sy, 0, &gix, &giy);
            if (dgn) {
                VF_INTERLEAVE2_STORE(d, gix, giy);
                for (size_t k = 0; k < 2 * rem; k++) dgn[2 * p + k] = set ? d[k] : dgn[2 * p + k] + d[k];
            }
        }
        if (dws) { /* taps in the ring (zeros padding) belong to pixels outside the image: dropped */
            float *din_n = dinp + (size_t)n * C * HW;
            for (int c = 0; c < C; c++)
                for (int h = 0; h < H; h++) {
                    const float *s = dws + (size_t)c * plane + (h + 1) * Wp + 1;
                    float *dd = din_n + (size_t)c * HW + (size_t)h * W;
                    if (set)
                        for (int w = 0; w < W; w++) dd[w] = s[w];
                    else
                        for (int w = 0; w < W; w++) dd[w] += s[w];
                }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch, serial and public forms. */


/* The fast kernels convert padded-plane coordinates (0..W+1, 0..H+1) with VF_TO_VI_SMALL, exact only
 * below 2^22 in the wasm SIMD build; images that tall or wide go to the oracle instead
 * (tests/stn.test.js "wider than 2^23 pixels" read wrong pixels without this). */
#define GL_FAST_MAX_SIDE (1 << 22)

/* The kernels are called through tables: an indirect call, which binaryen (wasm-opt -O3) does not
 * inline, so each one stays a function of its own. V8 compiles one function at a time, and the
 * bilinear loops, compiled as one function holding every padding x align_corners variant (or
 * every mode), spilled registers in their hot loops and ran slower. */
#define GL_BILINEAR_VARIANT(PAD, ALIGN)                                                                              \
    static void bilinear_fwd_##PAD##_##ALIGN(float *out, const float *inp, const float *grid, float *ws, int N,    \
                                             int C, int H, int W, int Ho, int Wo, int pad, int align) {             \
        bilinear_impl(out, inp, grid, ws, N, C, H, W, Ho, Wo, PAD, ALIGN);                                          \
    }                                                                                                               \
    static void bilinear_bwd_##PAD##_##ALIGN(float *dinp, float *dgrid, const float *dout, const float *inp,       \
                                             const float *grid, float *ws, float *dws, int N, int C, int H, int W,  \
                                             int Ho, int Wo, int set, int pad, int align) {                         \
        bilinear_backward_impl(dinp, dgrid, dout, inp, grid, ws, dws, N, C, H, W, Ho, Wo, set, PAD, ALIGN);         \
    }
GL_BILINEAR_VARIANT(0, 0)
GL_BILINEAR_VARIANT(0, 1)
GL_BILINEAR_VARIANT(1, 0)
GL_BILINEAR_VARIANT(1, 1)
GL_BILINEAR_VARIANT(2, 0)
GL_BILINEAR_VARIANT(2, 1)

typedef void (*sample_fwd_fn)(float *, const float *, const float *, float *, int, int, int, int, int, int, int, int);
typedef void (*sample_bwd_fn)(float *, float *, const float *, const float *, const float *, float *, float *, int, int,
                              int, int, int, int, int, int, int);
/* [mode][pad * 2 + align] (GL_PAD_ZEROS = 0, _BORDER = 1, _REFLECTION = 2) */
static sample_fwd_fn const SAMPLE_FWD[3][6] = {
    {bilinear_fwd_0_0, bilinear_fwd_0_1, bilinear_fwd_1_0, bilinear_fwd_1_1, bilinear_fwd_2_0, bilinear_fwd_2_1},
    {nearest_impl, nearest_impl, nearest_impl, nearest_impl, nearest_impl, nearest_impl},
    {bicubic_impl, bicubic_impl, bicubic_impl, bicubic_impl, bicubic_impl, bicubic_impl},
};
static sample_bwd_fn const SAMPLE_BWD[3][6] = {
    {bilinear_bwd_0_0, bilinear_bwd_0_1, bilinear_bwd_1_0, bilinear_bwd_1_1, bilinear_bwd_2_0, bilinear_bwd_2_1},
    {nearest_backward_impl, nearest_backward_impl, nearest_backward_impl, nearest_backward_impl, nearest_backward_impl,
     nearest_backward_impl},
    {bicubic_backward_impl, bicubic_backward_impl, bicubic_backward_impl, bicubic_backward_impl, bicubic_backward_impl,
     bicubic_backward_impl},
};

size_t gl_grid_sample_ws_floats(int C, int H, int W, int backward_dinp) {
    return (size_t)C * (size_t)(H + 2) * (size_t)(W + 2) * (backward_dinp ? 3 : 1);
}

int gl_grid_sample_serial(float *ws, float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho,
                          int Wo, int mode, int pad, int align) {
    int err = check_sample_args("grid_sample", N, C, H, W, Ho, Wo, mode, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE)
        return gl_grid_sample_ref(out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    SAMPLE_FWD[mode][pad * 2 + (align != 0)](out, inp, grid, ws, N, C, H, W, Ho, Wo, pad, align);
    return GL_OK;
}

/* set: write dinp and dgrid instead of adding to them (gl_grid_sample_backward_set) */
static int backward_serial(float *ws, float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                           int N, int C, int H, int W, int Ho, int Wo, int mode, int pad, int align, int set) {
    int err = check_sample_args("grid_sample_backward", N, C, H, W, Ho, Wo, mode, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE) {
        if (set && dinp) zero_floats(dinp, (size_t)N * C * H * W);
        if (set && dgrid) zero_floats(dgrid, (size_t)N * Ho * Wo * 2);
        return gl_grid_sample_backward_ref(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    }
    size_t plane = (size_t)(H + 2) * (W + 2);
    /* input planes (C, H+2, W+2), then for dinp the gradient planes: bilinear's west and east
     * (C, 2, H+2, W+2), bicubic's one (C, H+2, W+2); nearest scatters into dinp directly */
    float *dws = dinp && ws ? ws + (size_t)C * plane : NULL;
    SAMPLE_BWD[mode][pad * 2 + (align != 0)](dinp, dgrid, dout, inp, grid, ws, dws, N, C, H, W, Ho, Wo, set, pad, align);
    return GL_OK;
}

int gl_grid_sample_backward_serial(float *ws, float *dinp, float *dgrid, const float *dout, const float *inp,
                                   const float *grid, int N, int C, int H, int W, int Ho, int Wo, int mode, int pad,
                                   int align) {
    return backward_serial(ws, dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align, 0);
}

/* The public kernels split the images into contiguous ranges, one per thread, each with its own
 * slot of scratch; an image's result does not depend on the split. */
typedef struct {
    float *dinp, *dgrid, *out;
    const float *dout, *inp, *grid;
    float *ws;
    size_t slot;
    int N, C, H, W, Ho, Wo, mode, pad, align, ntasks, set;
} sample_job;

static int sample_task(void *p, int t, int w) {
    const sample_job *j = (const sample_job *)p;
    int lo, hi;
    gl_task_range(j->N, j->ntasks, t, &lo, &hi);
    if (lo == hi) return GL_OK;
    size_t in = (size_t)j->C * j->H * j->W, on = (size_t)j->C * j->Ho * j->Wo, gn = (size_t)j->Ho * j->Wo * 2;
    float *ws = j->ws ? j->ws + (size_t)w * j->slot : NULL;
    if (!j->dout)
        return gl_grid_sample_serial(ws, j->out + lo * on, j->inp + lo * in, j->grid + lo * gn, hi - lo, j->C, j->H, j->W,
                                     j->Ho, j->Wo, j->mode, j->pad, j->align);
    return backward_serial(ws, j->dinp ? j->dinp + lo * in : NULL, j->dgrid ? j->dgrid + lo * gn : NULL, j->dout + lo * on,
                           j->inp + lo * in, j->grid + lo * gn, hi - lo, j->C, j->H, j->W, j->Ho, j->Wo, j->mode, j->pad,
                           j->align, j->set);
}

static int sample_parallel(sample_job *j, const char *fn) {
    double work = (j->mode == GL_MODE_BICUBIC ? 120.0 : 20.0) * j->N * j->C * j->Ho * j->Wo;
    int T = gl_pool_tasks(j->N, work);
    j->ntasks = T;
    /* nearest reads the input and writes dinp directly: no workspace */
    j->slot = j->mode == GL_MODE_NEAREST ? 0 : gl_arena_round(gl_grid_sample_ws_floats(j->C, j->H, j->W, j->dinp != NULL));
    j->ws = NULL;
    if (j->slot) {
        j->ws = malloc((size_t)T * j->slot * sizeof(float));
        if (!j->ws) return gl_fail(GL_ENOMEM, "%s: out of memory for the padded workspace", fn);
    }
    int err = gl_parallel(T, sample_task, j);
    free(j->ws);
    return err;
}

GL_API int gl_grid_sample(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                          int mode, int pad, int align) {
    int err = check_sample_args("grid_sample", N, C, H, W, Ho, Wo, mode, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE)
        return gl_grid_sample_ref(out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    sample_job j = {NULL, NULL, out, NULL, inp, grid, NULL, 0, N, C, H, W, Ho, Wo, mode, pad, align, 1, 0};
    return sample_parallel(&j, "grid_sample");
}

static int backward_parallel(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid, int N,
                             int C, int H, int W, int Ho, int Wo, int mode, int pad, int align, int set) {
    int err = check_sample_args("grid_sample_backward", N, C, H, W, Ho, Wo, mode, pad);
    if (err) return err;
    if (H >= GL_FAST_MAX_SIDE || W >= GL_FAST_MAX_SIDE)
        return backward_serial(NULL, dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align, set);
    if (mode == GL_MODE_NEAREST && !dinp && !set) return GL_OK; /* its grid gradient is zero */
    sample_job j = {dinp, dgrid, NULL, dout, inp, grid, NULL, 0, N, C, H, W, Ho, Wo, mode, pad, align, 1, set};
    return sample_parallel(&j, "grid_sample_backward");
}

GL_API int gl_grid_sample_backward(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                                   int N, int C, int H, int W, int Ho, int Wo, int mode, int pad, int align) {
    return backward_parallel(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align, 0);
}

GL_API int gl_grid_sample_backward_set(float *dinp, float *dgrid, const float *dout, const float *inp,
                                       const float *grid, int N, int C, int H, int W, int Ho, int Wo, int mode, int pad,
                                       int align) {
    return backward_parallel(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align, 1);
}
