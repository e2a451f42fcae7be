/* test_stn.c: native checks of the STN kernels (src/stn.c).
 *
 *   - fast gl_grid_sample / gl_grid_sample_backward against the scalar oracles *_ref, for every
 *     mode (bilinear, nearest, bicubic) x padding x align_corners, odd sizes (pixel counts with SIMD tails of 1..3 lanes, size-1
 *     dimensions), grids inside and far outside [-1, 1] (several reflections), grids on the
 *     kinks (integer pixel coordinates, half-integers for nearest's ties) and non-finite / huge
 *     coordinates (NaN where the oracle has NaN, in the same places); nearest's forward and
 *     bicubic's forward and grid gradient must equal the oracle bit for bit (same operations in
 *     the same order);
 *   - backward accumulates (+=), gl_grid_sample_backward_set writes (=) the same values, either
 *     gradient buffer may be NULL, nothing is written outside the buffers (guard values;
 *     build/asan/test_stn checks the same under ASan + UBSan);
 *   - gl_affine_grid / gl_affine_grid_backward against a double-precision transcription of
 *     torch.nn.functional.affine_grid;
 *   - error codes for bad sizes, mode and padding.
 * Built by ./build.sh as build/native/test_stn (SSE4.1 branch of simd.h), build/native-scalar/
 * test_stn (scalar branch) and build/asan/test_stn (--asan). Exit status 1 when any check fails.
 */
#include "common.h"
#include "glimpse.h"
#include "stn.h"
#include "simd.h"

#include <string.h>


static const char *PAD_NAME[3] = {"zeros", "border", "reflection"};
static const char *MODE_NAME[3] = {"bilinear", "nearest", "bicubic"};
#define GUARD 8
#define GUARD_VALUE 12345.0f
static int checks = 0;
static double worst_fwd[3], worst_dinp[3], worst_dgrid[3], worst_affine = 0; /* max |diff| seen, per mode */
static long nan_outputs[3];                                                 /* NaN outputs seen, per mode */

/* n floats with GUARD guard values on both sides; returns the interior. */
static float *guarded(size_t n) {
    float *b = malloc((n + 2 * GUARD) * sizeof(float));
    if (!b) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < n + 2 * GUARD; i++) b[i] = GUARD_VALUE;
    return b + GUARD;
}
static void guarded_free(float *p) { if (p) free(p - GUARD); }
static int guards_intact(const float *p, size_t n) {
    for (size_t i = 0; i < GUARD; i++)
        if (p[-1 - (ptrdiff_t)i] != GUARD_VALUE || p[n + i] != GUARD_VALUE) return 0;
    return 1;
}

/* max |a - b| where both are numbers; NaN in one and not the other counts as infinite (*at: where). */
static double max_abs_diff(const float *a, const float *b, size_t n, size_t *at) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) && isnan(b[i])) continue;
        double d = fabs((double)a[i] - b[i]);
        if (d != d) { if (at) *at = i; return INFINITY; }
        if (d > m) m = d;
    }
    return m;
}

/* Compare a to b with atol 1e-5, rtol 1e-4 (the JS suites' default tolerance); NaN must meet NaN. */
static void expect_close(const char *what, const char *ctx, const float *a, const float *b, size_t n, double *worst) {
    size_t at = 0, nanat = 0;
    double worstr = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) && isnan(b[i])) continue;
        double d = fabs((double)a[i] - b[i]), r = d / (1e-5 + 1e-4 * fabs((double)b[i]));
        if (!(r <= worstr)) { worstr = r; at = i; }
    }
    double d = max_abs_diff(a, b, n, &nanat);
    if (d == INFINITY) at = nanat;
    if (worst && d > *worst) *worst = d;
    checks++;
    CHECK(worstr <= 1.0, "%s (%s): max |diff| %.3g, worst at [%zu]: got %.9g expected %.9g", what, ctx, d, at,
          (double)a[at], (double)b[at]);
}

/* a and b identical bit for bit (NaNs of any payload count as equal). */
static void expect_same(const char *what, const char *ctx, const float *a, const float *b, size_t n) {
    checks++;
    for (size_t i = 0; i < n; i++) {
        if ((isnan(a[i]) && isnan(b[i])) || !memcmp(&a[i], &b[i], sizeof(float))) continue;
        CHECK(0, "%s (%s): not bitwise equal at [%zu]: got %.9g expected %.9g", what, ctx, i, (double)a[i], (double)b[i]);
        return;
    }
}

/* One random case: fast vs oracle for forward and backward, NULL gradient buffers, accumulation. */
static void sample_case(test_rng *r, int N, int C, int H, int W, int Ho, int Wo, int mode, int pad, int align, float lo,
                        float hi, const float *special, size_t nspecial) {
    char ctx[192];
    snprintf(ctx, sizeof ctx, "%s N=%d C=%d H=%d W=%d Ho=%d Wo=%d padding=%s align=%d grid in [%g,%g]%s", MODE_NAME[mode], N,
             C, H, W, Ho, Wo, PAD_NAME[pad], align, lo, hi, special ? " + special values" : "");
    size_t nin = (size_t)N * C * H * W, nout = (size_t)N * C * Ho * Wo, ngrid = (size_t)N * Ho * Wo * 2;
    float *inp = guarded(nin), *grid = guarded(ngrid), *dout = guarded(nout);
    fill_uniform(r, inp, nin, -1, 1);
    fill_uniform(r, grid, ngrid, lo, hi);
    fill_uniform(r, dout, nout, -1, 1);
    if (special)
        for (size_t i = 0; i < ngrid; i++)
            if (rng_uniform(r, 0, 1) < 0.5f) grid[i] = special[(size_t)rng_uniform(r, 0, (float)nspecial) % nspecial];
    if (mode == GL_MODE_NEAREST && !special) /* nearest's ties: half-integer pixel coordinates */
        for (size_t i = 0; i < ngrid; i++)
            if (rng_uniform(r, 0, 1) < 0.3f) {
                int size = i % 2 ? H : W;
                float px = (float)((int)rng_uniform(r, -2.0f, (float)size + 2.0f)) + 0.5f;
                grid[i] = align ? (size > 1 ? 2.0f * px / (float)(size - 1) - 1.0f : 0.0f) : (2.0f * px + 1.0f) / (float)size - 1.0f;
            }

    float *out = guarded(nout), *out_ref = guarded(nout);
    int rc1 = gl_grid_sample(out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    int rc2 = gl_grid_sample_ref(out_ref, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    checks++;
    CHECK(rc1 == GL_OK && rc2 == GL_OK, "grid_sample status %d / ref %d (%s): %s", rc1, rc2, ctx, gl_last_error());
    expect_close("grid_sample vs ref", ctx, out, out_ref, nout, &worst_fwd[mode]);
    if (mode != GL_MODE_BILINEAR) expect_same("grid_sample vs ref", ctx, out, out_ref, nout);
    for (size_t i = 0; i < nout; i++) nan_outputs[mode] += isnan(out_ref[i]);
    checks++;
    CHECK(guards_intact(out, nout), "grid_sample wrote outside its output (%s)", ctx);

    /* Backward into buffers pre-filled with 0.25: the kernels must add to them. */
    float *dinp = guarded(nin), *dgrid = guarded(ngrid), *dinp_ref = guarded(nin), *dgrid_ref = guarded(ngrid);
    for (size_t i = 0; i < nin; i++) dinp[i] = dinp_ref[i] = 0.25f;
    for (size_t i = 0; i < ngrid; i++) dgrid[i] = dgrid_ref[i] = 0.25f;
    rc1 = gl_grid_sample_backward(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    rc2 = gl_grid_sample_backward_ref(dinp_ref, dgrid_ref, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    checks++;
    CHECK(rc1 == GL_OK && rc2 == GL_OK, "grid_sample_backward status %d / ref %d (%s): %s", rc1, rc2, ctx,
          gl_last_error());
    expect_close("grid_sample_backward dinp vs ref", ctx, dinp, dinp_ref, nin, &worst_dinp[mode]);
    expect_close("grid_sample_backward dgrid vs ref", ctx, dgrid, dgrid_ref, ngrid, &worst_dgrid[mode]);
    if (mode == GL_MODE_NEAREST) expect_same("grid_sample_backward dinp vs ref", ctx, dinp, dinp_ref, nin);
    if (mode != GL_MODE_BILINEAR) expect_same("grid_sample_backward dgrid vs ref", ctx, dgrid, dgrid_ref, ngrid);
    if (mode == GL_MODE_NEAREST) { /* the grid gradient is zero: dgrid untouched */
        checks++;
        for (size_t i = 0; i < ngrid; i++)
            if (dgrid[i] != 0.25f) { CHECK(0, "nearest changed dgrid[%zu] to %g (%s)", i, (double)dgrid[i], ctx); break; }
    }
    checks++;
    CHECK(guards_intact(dinp, nin) && guards_intact(dgrid, ngrid), "grid_sample_backward wrote outside (%s)", ctx);

    /* The oracle itself must accumulate: a second call doubles the gradient above 0.25. */
    float *twice = guarded(ngrid), *once = guarded(ngrid);
    for (size_t i = 0; i < ngrid; i++) twice[i] = dgrid_ref[i];
    gl_grid_sample_backward_ref(NULL, twice, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    for (size_t i = 0; i < ngrid; i++) once[i] = 0.25f + 2.0f * (dgrid_ref[i] - 0.25f);
    expect_close("grid_sample_backward_ref accumulates", ctx, twice, once, ngrid, NULL);

    /* Either gradient may be skipped with NULL; the other must be unchanged. */
    float *dinp2 = guarded(nin), *dgrid2 = guarded(ngrid);
    for (size_t i = 0; i < nin; i++) dinp2[i] = 0.25f;
    for (size_t i = 0; i < ngrid; i++) dgrid2[i] = 0.25f;
    rc1 = gl_grid_sample_backward(NULL, dgrid2, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    rc2 = gl_grid_sample_backward(dinp2, NULL, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    checks++;
    CHECK(rc1 == GL_OK && rc2 == GL_OK, "grid_sample_backward with NULL gradient: status %d %d (%s)", rc1, rc2, ctx);
    expect_close("grid_sample_backward(NULL dinp) dgrid", ctx, dgrid2, dgrid, ngrid, NULL);
    expect_close("grid_sample_backward(NULL dgrid) dinp", ctx, dinp2, dinp, nin, NULL);
    checks++;
    CHECK(guards_intact(dinp2, nin) && guards_intact(dgrid2, ngrid), "grid_sample_backward(NULL) wrote outside (%s)",
          ctx);

    /* gl_grid_sample_backward_set writes instead of adding: from NaN-filled buffers it must give what
     * the accumulating kernel gives from zeros (up to the sign of zero), NULL gradients skipped */
    float *sdinp = guarded(nin), *sdgrid = guarded(ngrid), *zdinp = guarded(nin), *zdgrid = guarded(ngrid);
    float *sdgrid1 = guarded(ngrid);
    for (size_t i = 0; i < nin; i++) sdinp[i] = NAN, zdinp[i] = 0.0f;
    for (size_t i = 0; i < ngrid; i++) sdgrid[i] = sdgrid1[i] = NAN, zdgrid[i] = 0.0f;
    rc1 = gl_grid_sample_backward_set(sdinp, sdgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    rc2 = gl_grid_sample_backward(zdinp, zdgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    int rc3 = gl_grid_sample_backward_set(NULL, sdgrid1, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align);
    checks++;
    CHECK(rc1 == GL_OK && rc2 == GL_OK && rc3 == GL_OK, "grid_sample_backward_set status %d %d %d (%s)", rc1, rc2, rc3, ctx);
    expect_close("grid_sample_backward_set dinp (writes)", ctx, sdinp, zdinp, nin, NULL);
    expect_close("grid_sample_backward_set dgrid (writes)", ctx, sdgrid, zdgrid, ngrid, NULL);
    expect_close("grid_sample_backward_set(NULL dinp) dgrid", ctx, sdgrid1, zdgrid, ngrid, NULL);
    checks++;
    CHECK(guards_intact(sdinp, nin) && guards_intact(sdgrid, ngrid) && guards_intact(sdgrid1, ngrid),
          "grid_sample_backward_set wrote outside (%s)", ctx);

    float *all[] = {inp, grid, dout, out, out_ref, dinp, dgrid, dinp_ref, dgrid_ref, twice, once, dinp2, dgrid2,
                    sdinp, sdgrid, zdinp, zdgrid, sdgrid1};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) guarded_free(all[i]);
}

/* torch.nn.functional.affine_grid in double: linspace(-1, 1, size) (0 for size 1), scaled by
 * (size-1)/size when corners are not aligned. */
static double base(int i, int size, int align) {
    if (size <= 1) return 0.0;
    double v = -1.0 + 2.0 * i / (size - 1);
    return align ? v : v * (size - 1) / size;
}

static void affine_case(test_rng *r, int N, int H, int W, int align) {
    char ctx[96];
    snprintf(ctx, sizeof ctx, "N=%d H=%d W=%d align=%d", N, H, W, align);
    size_t ng = (size_t)N * H * W * 2;
    float *theta = guarded(6 * (size_t)N), *grid = guarded(ng), *expect = guarded(ng), *dgrid = guarded(ng);
    float *dtheta = guarded(6 * (size_t)N), *dtheta_expect = guarded(6 * (size_t)N);
    fill_uniform(r, theta, 6 * (size_t)N, -1.5f, 1.5f);
    fill_uniform(r, dgrid, ng, -1, 1);
    for (int n = 0; n < N; n++) {
        const float *t = theta + 6 * n;
        double acc[6] = {0};
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) {
                double x = base(w, W, align), y = base(h, H, align);
                size_t k = (((size_t)n * H + h) * W + w) * 2;
                expect[k] = (float)(t[0] * x + t[1] * y + t[2]);
                expect[k + 1] = (float)(t[3] * x + t[4] * y + t[5]);
                acc[0] += dgrid[k] * x; acc[1] += dgrid[k] * y; acc[2] += dgrid[k];
                acc[3] += dgrid[k + 1] * x; acc[4] += dgrid[k + 1] * y; acc[5] += dgrid[k + 1];
            }
        for (int k = 0; k < 6; k++) {
            dtheta[6 * n + k] = 0.5f;
            dtheta_expect[6 * n + k] = (float)(0.5 + acc[k]);
        }
    }
    int rc1 = gl_affine_grid(grid, theta, N, H, W, align);
    int rc2 = gl_affine_grid_backward(dtheta, dgrid, N, H, W, align);
    checks++;
    CHECK(rc1 == GL_OK && rc2 == GL_OK, "affine_grid status %d / backward %d (%s)", rc1, rc2, ctx);
    expect_close("affine_grid vs double", ctx, grid, expect, ng, &worst_affine);
    expect_close("affine_grid_backward vs double (accumulating)", ctx, dtheta, dtheta_expect, 6 * (size_t)N,
                 &worst_affine);
    checks++;
    CHECK(guards_intact(grid, ng) && guards_intact(dtheta, 6 * (size_t)N), "affine_grid wrote outside (%s)", ctx);
    float *all[] = {theta, grid, expect, dgrid, dtheta, dtheta_expect};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) guarded_free(all[i]);
}

static void expect_error(const char *what, int rc, int code) {
    checks++;
    CHECK(rc == code, "%s: status %d, expected %d", what, rc, code);
    const char *m = gl_last_error();
    checks++;
    CHECK(rc == GL_OK || (m && m[0]), "%s: no error message", what);
}

static void error_cases(void) {
    float buf[64] = {0};
    expect_error("grid_sample N=0", gl_grid_sample(buf, buf, buf, 0, 1, 2, 2, 2, 2, 0, 0, 0), GL_EINVAL);
    expect_error("grid_sample Wo=-1", gl_grid_sample(buf, buf, buf, 1, 1, 2, 2, 2, -1, 0, 0, 0), GL_EINVAL);
    expect_error("grid_sample pad=3", gl_grid_sample(buf, buf, buf, 1, 1, 2, 2, 2, 2, 0, 3, 0), GL_EINVAL);
    expect_error("grid_sample pad=-1", gl_grid_sample_ref(buf, buf, buf, 1, 1, 2, 2, 2, 2, 0, -1, 0), GL_EINVAL);
    expect_error("grid_sample mode=3", gl_grid_sample(buf, buf, buf, 1, 1, 2, 2, 2, 2, 3, 0, 0), GL_EINVAL);
    expect_error("grid_sample_ref mode=-1", gl_grid_sample_ref(buf, buf, buf, 1, 1, 2, 2, 2, 2, -1, 0, 0), GL_EINVAL);
    expect_error("grid_sample_backward mode=9",
                 gl_grid_sample_backward(buf, buf, buf, buf, buf, 1, 1, 2, 2, 2, 2, 9, 0, 0), GL_EINVAL);
    expect_error("grid_sample_backward_set pad=4",
                 gl_grid_sample_backward_set(buf, buf, buf, buf, buf, 1, 1, 2, 2, 2, 2, 0, 4, 0), GL_EINVAL);
    expect_error("grid_sample_backward_set too large",
                 gl_grid_sample_backward_set(buf, buf, buf, buf, buf, 65536, 65536, 65536, 2, 2, 2, 0, 0, 0), GL_ENOMEM);
    expect_error("grid_sample_backward C=0",
                 gl_grid_sample_backward(buf, buf, buf, buf, buf, 1, 0, 2, 2, 2, 2, 0, 0, 0), GL_EINVAL);
    expect_error("grid_sample_backward_ref pad=7",
                 gl_grid_sample_backward_ref(buf, buf, buf, buf, buf, 1, 1, 2, 2, 2, 2, 0, 7, 0), GL_EINVAL);
    expect_error("grid_sample too large",
                 gl_grid_sample(buf, buf, buf, 65536, 65536, 65536, 2, 2, 2, 0, 0, 0), GL_ENOMEM);
    expect_error("affine_grid H=0", gl_affine_grid(buf, buf, 1, 0, 2, 0), GL_EINVAL);
    expect_error("affine_grid too large", gl_affine_grid(buf, buf, 65536, 65536, 65536, 0), GL_ENOMEM);
    expect_error("affine_grid_backward W=0", gl_affine_grid_backward(buf, buf, 1, 2, 0, 1), GL_EINVAL);
    for (int mode = 0; mode < 3; mode++)
        expect_error("grid_sample ok", gl_grid_sample(buf, buf, buf, 1, 1, 2, 2, 2, 2, mode, 2, 1), GL_OK);
}

int main(void) {
    test_rng r = {12345};
    /* (N, C, H, W, Ho, Wo): pixel counts Ho*Wo with every SIMD tail 0..3, size-1 dimensions. */
    static const int shapes[][6] = {
        {2, 3, 5, 7, 3, 6}, {3, 2, 4, 3, 5, 7}, {1, 2, 1, 6, 1, 11}, {2, 1, 6, 1, 3, 3}, {1, 3, 1, 1, 2, 2},
        {2, 5, 13, 11, 9, 7}, {1, 4, 8, 8, 4, 4}, {3, 2, 17, 19, 21, 23}, {1, 1, 2, 2, 1, 1},
    };
    /* Kinks and odd values: integer / half-integer pixel coordinates for small sizes, the edges,
     * zero, huge and non-finite values (mapped to "far outside" by both implementations). */
    static const float special[] = {-1.0f, 1.0f, 0.0f, -0.5f, 0.5f, -1.5f, 1.5f, 0.25f, -0.75f,
                                    1.0f / 3.0f, -2.0f, 3.0f, 1e30f, -1e30f, 3e7f, INFINITY, -INFINITY, NAN};
    const size_t nspecial = sizeof special / sizeof *special;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int mode = 0; mode < 3; mode++)
            for (int pad = 0; pad < 3; pad++)
                for (int align = 0; align < 2; align++) {
                    const int *d = shapes[s];
                    sample_case(&r, d[0], d[1], d[2], d[3], d[4], d[5], mode, pad, align, -1.6f, 1.6f, NULL, 0);
                    sample_case(&r, d[0], d[1], d[2], d[3], d[4], d[5], mode, pad, align, -5.0f, 5.0f, NULL, 0);
                    sample_case(&r, d[0], d[1], d[2], d[3], d[4], d[5], mode, pad, align, -1.6f, 1.6f, special, nspecial);
                }
    static const int ashapes[][3] = {{2, 5, 7}, {3, 1, 6}, {2, 4, 1}, {1, 1, 1}, {2, 33, 29}};
    for (size_t s = 0; s < sizeof ashapes / sizeof *ashapes; s++)
        for (int align = 0; align < 2; align++) affine_case(&r, ashapes[s][0], ashapes[s][1], ashapes[s][2], align);
    error_cases();

    /* non-finite grid values give NaN outputs in bilinear and bicubic (zeros padding; bicubic also
     * otherwise), never in nearest (torch masks the sample instead) */
    for (int m = 0; m < 3; m++) {
        checks++;
        CHECK((nan_outputs[m] > 0) == (m != GL_MODE_NEAREST), "%s: %ld NaN outputs", MODE_NAME[m], nan_outputs[m]);
    }
    printf("test_stn (%s): %d checks, %d failed; max |diff| vs oracle (bilinear / nearest / bicubic): forward %.3g / "
           "%.3g / %.3g, dinp %.3g / %.3g / %.3g, dgrid %.3g / %.3g / %.3g; affine %.3g\n",
           GL_SIMD_NAME, checks, test_failures, worst_fwd[0], worst_fwd[1], worst_fwd[2], worst_dinp[0], worst_dinp[1],
           worst_dinp[2], worst_dgrid[0], worst_dgrid[1], worst_dgrid[2], worst_affine);
    printf("%d passed, %d failed\n", checks - test_failures, test_failures);
    return test_failures > 0;
}
