/* distort.c: the distorted-MNIST inputs of the Spatial Transformer paper (Jaderberg et al. 2015,
 * section 4.1 and appendix), generated on the fly, seeded and deterministic.
 *
 * Kinds (input digits are 28x28 in [0, 1]; output side in brackets):
 *   GL_DISTORT_R    rotation, angle uniform in [-90, +90] degrees about the centre    (28x28)
 *   GL_DISTORT_RTS  rotation uniform in [-45, +45] degrees, scale uniform in [0.7, 1.2],
 *                   placed at a uniformly random position of a 42x42 canvas such that the
 *                   digit's ink stays inside the canvas                               (42x42)
 *   GL_DISTORT_P    projective: the image is scaled about its centre by a factor uniform in
 *                   [0.75, 1.0] and each of its four corners moved by a zero-mean Gaussian
 *                   of standard deviation 0.1 of the image side (2.8 px) per coordinate;
 *                   the homography through the four moved corners warps the digit     (28x28)
 *   GL_DISTORT_E    elastic (Simard, Steinkraus and Platt 2003): per-pixel displacements
 *                   uniform in [-1, 1], smoothed by a Gaussian of sigma = 4 px and scaled by
 *                   alpha uniform in [30, 38] px (Simard et al. use sigma 4, alpha 34) (28x28)
 *   GL_DISTORT_T    translated and cluttered: the digit pasted at a uniformly random integer
 *                   position of a 60x60 canvas, plus 6 clutter patches of 6x6 cropped at random
 *                   positions of random other digits, pasted at random positions; overlaps add
 *                   and the sum is clipped to [0, 1] (as DeepMind's mnist_cluttered)   (60x60)
 *
 * All geometric kinds map each output pixel centre to a source position and resample the
 * digit with the STN's own bilinear sampler (gl_grid_sample, zeros outside), so the inputs
 * are exactly what a spatial transformer could undo.
 *
 * Randomness: image b of a call uses its own stream, a SplitMix64 generator started from a
 * bijective hash of (seed, b). Same seed, same inputs, same build: the same bytes; image b
 * does not depend on the batch size. Library code: no printing, errors via gl_fail.
 */
#include "distort.h"
#include "stn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


#define DS 28 /* side of a source digit */
#define DS_PIX (DS * DS)
#define PI_F 3.14159265358979f

/* Parameters of each kind (see the header comment). */
#define R_MAX_DEG 90.0f
#define RTS_SIDE 42
#define RTS_MAX_DEG 45.0f
#define RTS_SCALE_LO 0.7f
#define RTS_SCALE_HI 1.2f
#define P_SCALE_LO 0.75f
#define P_SCALE_HI 1.0f
#define P_CORNER_STD (0.1f * DS)
#define E_SIGMA 4.0f
#define E_ALPHA_LO 30.0f
#define E_ALPHA_HI 38.0f
#define E_RADIUS 12 /* 3 sigma */
#define T_SIDE 60
#define T_PATCHES 6
#define T_PATCH 6

static const int kind_side[5] = {DS, RTS_SIDE, DS, DS, T_SIDE};
static const char *const kind_name[5] = {"R", "RTS", "P", "E", "T"};
static const char *const kind_description[5] = {
    "rotation, uniform in \xC2\xB1" "90\xC2\xB0",
    "rotation \xC2\xB1" "45\xC2\xB0, scale 0.7\xE2\x80\x93" "1.2, translation in a 42\xC3\x97" "42 canvas",
    "projective: scale 0.75\xE2\x80\x93" "1, corners moved by N(0, 2.8 px)",
    "elastic: smoothed random displacements (\xCF\x83 = 4 px, \xCE\xB1 = 30\xE2\x80\x93" "38 px)",
    "translated in a 60\xC3\x97" "60 canvas with 6 clutter patches of 6\xC3\x97" "6",
};

/* ---------------------------------------------------------------------------------------- */
/* Random numbers: SplitMix64 (Steele, Lea and Flood 2014). */

typedef struct { uint64_t s; } ds_rng;

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint64_t rng_next(ds_rng *r) { return mix64(r->s += 0x9E3779B97F4A7C15ull); }
/* Uniform in [0, 1) with 24 random bits. */
static float rng_unit(ds_rng *r) { return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f); }
static float rng_uniform(ds_rng *r, float lo, float hi) { return lo + (hi - lo) * rng_unit(r); }
/* Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32 for our small n). */
static int rng_int(ds_rng *r, int n) { return (int)(((rng_next(r) >> 32) * (uint64_t)n) >> 32); }
/* Standard normal by Box-Muller (one of the pair; simplicity over speed). */
static float rng_normal(ds_rng *r) {
    float u1 = 1.0f - rng_unit(r); /* (0, 1]: log is finite */
    float u2 = rng_unit(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(2.0f * PI_F * u2);
}
static ds_rng rng_for(uint32_t seed, int b) {
    ds_rng r = {mix64(((uint64_t)seed << 32) | (uint32_t)b)};
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Geometry. Positions are continuous pixel coordinates: pixel (i, j) covers [j, j+1) x [i, i+1),
 * its centre is (j + 0.5, i + 0.5). A source position (x, y) becomes the normalised grid value
 * 2x/28 - 1 of grid_sample with align_corners = 0. */

static inline void grid_put(float *g, float x, float y) {
    g[0] = x * (2.0f / DS) - 1.0f;
    g[1] = y * (2.0f / DS) - 1.0f;
}

/* Fill grid (side, side, 2) with the source position of every output pixel centre under the
 * affine map src = A . (out - t) + c, A = [[a, b], [c_, d]] (the inverse of the forward warp). */
static void grid_affine(float *grid, int side, float a, float b, float c, float d, float tx, float ty, float cx,
                        float cy) {
    for (int i = 0; i < side; i++) {
        float y = (float)i + 0.5f - ty;
        for (int j = 0; j < side; j++) {
            float x = (float)j + 0.5f - tx;
            grid_put(grid + 2 * ((size_t)i * side + j), a * x + b * y + cx, c * x + d * y + cy);
        }
    }
}

/* Bounding box of the ink (pixels > 0) of a digit, in continuous coordinates, widened by half
 * a pixel: bilinear sampling spreads a pixel over that much. Returns 0 for an empty digit. */
static int ink_box(const float *im, float box[4]) {
    int x0 = DS, y0 = DS, x1 = -1, y1 = -1;
    for (int i = 0; i < DS; i++)
        for (int j = 0; j < DS; j++)
            if (im[i * DS + j] > 0.0f) {
                if (j < x0) x0 = j;
                if (j > x1) x1 = j;
                if (i < y0) y0 = i;
                if (i > y1) y1 = i;
            }
    if (x1 < 0) return 0;
    box[0] = (float)x0 - 0.5f; box[1] = (float)y0 - 0.5f;
    box[2] = (float)x1 + 1.5f; box[3] = (float)y1 + 1.5f;
    return 1;
}

/* R: rotation by theta about the centre; the grid needs the inverse rotation. */
static void make_r(float *grid, ds_rng *r) {
    float th = rng_uniform(r, -R_MAX_DEG, R_MAX_DEG) * (PI_F / 180.0f);
    float cs = cosf(th), sn = sinf(th);
    grid_affine(grid, DS, cs, sn, -sn, cs, 0.5f * DS, 0.5f * DS, 0.5f * DS, 0.5f * DS);
}

/* RTS: forward map out = t + s R(theta) (src - c); the digit's widened ink box, so mapped,
 * must fit the canvas, and t is uniform over the positions where it does. */
static void make_rts(float *grid, const float *im, ds_rng *r) {
    float th = rng_uniform(r, -RTS_MAX_DEG, RTS_MAX_DEG) * (PI_F / 180.0f);
    float s = rng_uniform(r, RTS_SCALE_LO, RTS_SCALE_HI);
    float cs = cosf(th), sn = sinf(th), c = 0.5f * DS;
    float box[4], lo[2] = {0, 0}, hi[2] = {0, 0};
    if (ink_box(im, box)) {
        lo[0] = lo[1] = INFINITY;
        hi[0] = hi[1] = -INFINITY;
        for (int k = 0; k < 4; k++) {
            float px = box[k & 1 ? 2 : 0] - c, py = box[k & 2 ? 3 : 1] - c;
            float fx = s * (cs * px - sn * py), fy = s * (sn * px + cs * py);
            lo[0] = fminf(lo[0], fx); hi[0] = fmaxf(hi[0], fx);
            lo[1] = fminf(lo[1], fy); hi[1] = fmaxf(hi[1], fy);
        }
    }
    float t[2];
    for (int k = 0; k < 2; k++) {
        float a = -lo[k], b = (float)RTS_SIDE - hi[k];
        float u = rng_unit(r); /* drawn even when unused, so the stream does not depend on the digit */
        t[k] = a <= b ? a + (b - a) * u : 0.5f * RTS_SIDE;
    }
    /* Inverse: src = c + (1/s) R(-theta) (out - t). */
    float is = 1.0f / s;
    grid_affine(grid, RTS_SIDE, is * cs, is * sn, -is * sn, is * cs, t[0], t[1], c, c);
}

/* Homography H (3x3, row-major, h[8] = 1) mapping the unit square's corners (0,0), (1,0),
 * (1,1), (0,1) to the quad q[0..3] (Heckbert 1989, "Fundamentals of texture mapping", 2.2.3). */
static void square_to_quad(double h[9], const double q[4][2]) {
    double x0 = q[0][0], y0 = q[0][1], x1 = q[1][0], y1 = q[1][1];
    double x2 = q[2][0], y2 = q[2][1], x3 = q[3][0], y3 = q[3][1];
    double sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
    double dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
    double den = dx1 * dy2 - dx2 * dy1;
    double g = 0, hh = 0;
    if (den != 0 && (sx != 0 || sy != 0)) {
        g = (sx * dy2 - dx2 * sy) / den;
        hh = (dx1 * sy - sx * dy1) / den;
    }
    h[0] = x1 - x0 + g * x1; h[1] = x3 - x0 + hh * x3; h[2] = x0;
    h[3] = y1 - y0 + g * y1; h[4] = y3 - y0 + hh * y3; h[5] = y0;
    h[6] = g;                h[7] = hh;                h[8] = 1;
}

/* P: the source image's corners go to the moved corners of the scaled image; the grid needs
 * the inverse homography (adjugate of H: the scale of a homography does not matter). */
static void make_p(float *grid, ds_rng *r) {
    float s = rng_uniform(r, P_SCALE_LO, P_SCALE_HI);
    double q[4][2];
    static const int ux[4] = {0, 1, 1, 0}, uy[4] = {0, 0, 1, 1};
    for (int k = 0; k < 4; k++) {
        q[k][0] = 0.5 * DS + s * ((double)ux[k] - 0.5) * DS + P_CORNER_STD * rng_normal(r);
        q[k][1] = 0.5 * DS + s * ((double)uy[k] - 0.5) * DS + P_CORNER_STD * rng_normal(r);
    }
    double h[9], m[9];
    square_to_quad(h, q);
    m[0] = h[4] * h[8] - h[5] * h[7]; m[1] = h[2] * h[7] - h[1] * h[8]; m[2] = h[1] * h[5] - h[2] * h[4];
    m[3] = h[5] * h[6] - h[3] * h[8]; m[4] = h[0] * h[8] - h[2] * h[6]; m[5] = h[2] * h[3] - h[0] * h[5];
    m[6] = h[3] * h[7] - h[4] * h[6]; m[7] = h[1] * h[6] - h[0] * h[7]; m[8] = h[0] * h[4] - h[1] * h[3];
    /* Points on the far side of the horizon line have w of the other sign than the quad's
     * centre; they, and anything mapping far outside the image, sample zero. */
    double cx = 0.25 * (q[0][0] + q[1][0] + q[2][0] + q[3][0]), cy = 0.25 * (q[0][1] + q[1][1] + q[2][1] + q[3][1]);
    double wsign = m[6] * cx + m[7] * cy + m[8] < 0 ? -1.0 : 1.0;
    for (int i = 0; i < DS; i++) {
        for (int j = 0; j < DS; j++) {
            double x = j + 0.5, y = i + 0.5;
            double u = m[0] * x + m[1] * y + m[2], v = m[3] * x + m[4] * y + m[5], w = m[6] * x + m[7] * y + m[8];
            float sx = -DS, sy = -DS;
            if (w * wsign > 1e-12) {
                double a = u / w, b = v / w; /* unit-square coordinates */
                if (fabs(a) < 2.0 && fabs(b) < 2.0) { sx = (float)(a * DS); sy = (float)(b * DS); }
            }
            grid_put(grid + 2 * (i * DS + j), sx, sy);
        }
    }
}

/* E: displacement fields (dx, dy), each uniform noise convolved with a normalised Gaussian
 * (zeros beyond the image, separable), scaled by alpha; out(p) = in(p + d(p)). */
static void make_e(float *grid, float *work /* 3 * DS_PIX */, ds_rng *r) {
    float k[2 * E_RADIUS + 1], ksum = 0.0f;
    for (int i = -E_RADIUS; i <= E_RADIUS; i++) ksum += k[i + E_RADIUS] = expf(-(float)(i * i) / (2.0f * E_SIGMA * E_SIGMA));
    for (int i = 0; i <= 2 * E_RADIUS; i++) k[i] /= ksum;
    float alpha = rng_uniform(r, E_ALPHA_LO, E_ALPHA_HI);
    float *field = work, *tmp = work + 2 * DS_PIX;
    for (int f = 0; f < 2; f++) {
        float *d = field + f * DS_PIX;
        for (int p = 0; p < DS_PIX; p++) d[p] = rng_uniform(r, -1.0f, 1.0f);
        for (int i = 0; i < DS; i++) /* rows */
            for (int j = 0; j < DS; j++) {
                float acc = 0.0f;
                for (int o = -E_RADIUS; o <= E_RADIUS; o++)
                    if (j + o >= 0 && j + o < DS) acc += k[o + E_RADIUS] * d[i * DS + j + o];
                tmp[i * DS + j] = acc;
            }
        for (int i = 0; i < DS; i++) /* columns */
            for (int j = 0; j < DS; j++) {
                float acc = 0.0f;
                for (int o = -E_RADIUS; o <= E_RADIUS; o++)
                    if (i + o >= 0 && i + o < DS) acc += k[o + E_RADIUS] * tmp[(i + o) * DS + j];
                d[i * DS + j] = alpha * acc;
            }
    }
    for (int i = 0; i < DS; i++)
        for (int j = 0; j < DS; j++) {
            int p = i * DS + j;
            grid_put(grid + 2 * p, (float)j + 0.5f + field[p], (float)i + 0.5f + field[DS_PIX + p]);
        }
}

/* T: out (60, 60) <- digit at a random place + T_PATCHES clutter crops of random pool digits. */
static void make_t(float *out, const float *pool, int P, int self, const float *im, ds_rng *r) {
    memset(out, 0, sizeof(float) * T_SIDE * T_SIDE);
    int oy = rng_int(r, T_SIDE - DS + 1), ox = rng_int(r, T_SIDE - DS + 1);
    for (int n = 0; n < T_PATCHES; n++) {
        /* Another digit than this one when the pool is the batch itself (self >= 0). */
        int pick = self >= 0 && P > 1 ? rng_int(r, P - 1) : rng_int(r, P);
        if (self >= 0 && P > 1 && pick >= self) pick++;
        const float *src = pool + (size_t)pick * DS_PIX;
        int sy = rng_int(r, DS - T_PATCH + 1), sx = rng_int(r, DS - T_PATCH + 1);
        int ty = rng_int(r, T_SIDE - T_PATCH + 1), tx = rng_int(r, T_SIDE - T_PATCH + 1);
        for (int i = 0; i < T_PATCH; i++)
            for (int j = 0; j < T_PATCH; j++) out[(ty + i) * T_SIDE + tx + j] += src[(sy + i) * DS + sx + j];
    }
    for (int i = 0; i < DS; i++)
        for (int j = 0; j < DS; j++) out[(oy + i) * T_SIDE + ox + j] += im[i * DS + j];
    for (int p = 0; p < T_SIDE * T_SIDE; p++) out[p] = fminf(fmaxf(out[p], 0.0f), 1.0f);
}

/* ---------------------------------------------------------------------------------------- */

/* *side <- the output side (height = width) of a kind. */
GL_API int gl_distort_side(int *side, int kind) {
    if (kind < GL_DISTORT_R || kind > GL_DISTORT_T)
        return gl_fail(GL_EINVAL, "distort: kind must be 0 (R), 1 (RTS), 2 (P), 3 (E) or 4 (T), got %d", kind);
    *side = kind_side[kind];
    return GL_OK;
}

GL_API const char *gl_distort_name(int kind) {
    return kind >= 0 && kind < GL_DISTORT_COUNT ? kind_name[kind] : NULL;
}

GL_API const char *gl_distort_description(int kind) {
    return kind >= 0 && kind < GL_DISTORT_COUNT ? kind_description[kind] : NULL;
}

/* out (B, S, S) <- distorted src (B, 28, 28), S = gl_distort_side(kind).
 * pool (P, 28, 28): the digits clutter is cut from (kind T only); pool = NULL or P = 0 uses the
 * batch itself, each image then taking clutter only from the others. seed: any 32-bit value. */
GL_API int gl_distort_batch(float *out, const float *src, const float *pool, int P, int B, int kind, uint32_t seed) {
    int side = 0, err = gl_distort_side(&side, kind);
    if (err) return err;
    if (B <= 0) return gl_fail(GL_EINVAL, "distort: batch size must be positive, got %d", B);
    if (P < 0) return gl_fail(GL_EINVAL, "distort: pool size must be >= 0, got %d", P);
    if (!out || !src) return gl_fail(GL_EINVAL, "distort: null buffer");
    if (!gl_size((size_t)B, (size_t)side, (size_t)side, 1) || !gl_size((size_t)B, DS, DS, 1) ||
        !gl_size((size_t)P + 1, DS, DS, 1))
        return gl_fail(GL_ENOMEM, "distort: batch of %d %s images is too large", B, kind_name[kind]);
    int self = -1;
    if (kind == GL_DISTORT_T && (P == 0 || !pool)) {
        pool = src;
        P = B;
        self = 0;
    }
    const size_t S2 = (size_t)side * side;
    float *grid = NULL;
    if (kind != GL_DISTORT_T) {
        grid = (float *)malloc(sizeof(float) * (2 * S2 + 3 * DS_PIX)); /* grid (S, S, 2) + E's fields */
        if (!grid) return gl_fail(GL_ENOMEM, "distort: out of memory");
    }
    for (int b = 0; b < B; b++) {
        ds_rng r = rng_for(seed, b);
        const float *im = src + (size_t)b * DS_PIX;
        float *o = out + (size_t)b * S2;
        switch (kind) {
        case GL_DISTORT_R: make_r(grid, &r); break;
        case GL_DISTORT_RTS: make_rts(grid, im, &r); break;
        case GL_DISTORT_P: make_p(grid, &r); break;
        case GL_DISTORT_E: make_e(grid, grid + 2 * S2, &r); break;
        default: make_t(o, pool, P, self >= 0 ? b : -1, im, &r); continue;
        }
        err = gl_grid_sample(o, im, grid, 1, 1, DS, DS, side, side, GL_MODE_BILINEAR, GL_PAD_ZEROS, 0);
        if (err) break;
        /* a convex combination of pixels in [0, 1] stays there but for rounding; make it exact, so
         * that distorted digits always pass the models' [0, 1] pixel check */
        for (size_t p = 0; p < S2; p++) o[p] = fminf(fmaxf(o[p], 0.0f), 1.0f);
    }
    free(grid);
    return err;
}
