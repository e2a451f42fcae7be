/* test_grid.c: the projective and thin-plate-spline grids (src/grid.c) natively, also under ASan +
 * UBSan: the fast TPS grid and its backward against the oracles (the spline evaluated directly in
 * double), for every control grid from 2x2 to 8x8 and sizes whose pixel count is not a multiple of
 * the vector width; the identity; the model's clamped 8-parameter projective form against the
 * public 3x3 one where the clamp does not act; argument errors. */
#include "common.h"
#include "glimpse.h"
#include "grid.h"
#include "stn.h"

#include <string.h>

int main(void) {
    test_rng r = {12345};
    for (int gy = 2; gy <= GL_TPS_MAX_SIDE; gy++) {
        for (int gx = 2; gx <= GL_TPS_MAX_SIDE; gx += 3) {
            for (int align = 0; align < 2; align++) {
                const int N = 2, H = 7 + gy, W = 5 + gx, K = gy * gx, HW = H * W;
                float *pts = malloc(sizeof(float) * N * K * 2), *cp = malloc(sizeof(float) * K * 2);
                float *g1 = malloc(sizeof(float) * N * HW * 2), *g2 = malloc(sizeof(float) * N * HW * 2);
                float *dg = malloc(sizeof(float) * N * HW * 2);
                float *d1 = calloc((size_t)N * K * 2, sizeof(float)), *d2 = calloc((size_t)N * K * 2, sizeof(float));
                gl_tps_control_points(cp, gy, gx);
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < 2 * K; k++) pts[n * 2 * K + k] = cp[k] + rng_uniform(&r, -0.2f, 0.2f);
                fill_uniform(&r, dg, (size_t)N * HW * 2, -1, 1);
                CHECK(gl_tps_grid(g1, pts, N, H, W, gy, gx, align) == GL_OK, "tps grid: %s", gl_last_error());
                CHECK(gl_tps_grid_ref(g2, pts, N, H, W, gy, gx, align) == GL_OK, "tps ref: %s", gl_last_error());
                double e = max_rel_err(g1, g2, (size_t)N * HW * 2, 1e-6, 1e-5, NULL);
                CHECK(e <= 1, "tps grid %dx%d align %d vs oracle: %g", gy, gx, align, e);
                CHECK(gl_tps_grid_backward(d1, dg, N, H, W, gy, gx, align) == GL_OK, "tps backward: %s", gl_last_error());
                CHECK(gl_tps_grid_backward_ref(d2, dg, N, H, W, gy, gx, align) == GL_OK, "tps backward ref");
                e = max_rel_err(d1, d2, (size_t)N * K * 2, 1e-5, 1e-5, NULL);
                CHECK(e <= 1, "tps backward %dx%d align %d vs oracle: %g", gy, gx, align, e);
                /* identity: the control points give the affine identity grid */
                float id6[6] = {1, 0, 0, 0, 1, 0};
                CHECK(gl_tps_grid(g1, cp, 1, H, W, gy, gx, align) == GL_OK, "tps identity");
                CHECK(gl_affine_grid(g2, id6, 1, H, W, align) == GL_OK, "affine identity");
                e = max_rel_err(g1, g2, (size_t)HW * 2, 2e-6, 0, NULL);
                CHECK(e <= 1, "tps identity %dx%d off: %g", gy, gx, e);
                free(pts); free(cp); free(g1); free(g2); free(dg); free(d1); free(d2);
            }
        }
    }
    /* projective: the model's 8-parameter form equals the 3x3 one with h33 = 1 (no clamping here) */
    {
        const int N = 3, H = 9, W = 11;
        float t8[3 * 8], t9[3 * 9], g1[3 * 9 * 11 * 2], g2[3 * 9 * 11 * 2];
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < 8; k++) t8[8 * n + k] = (k == 0 || k == 4 ? 1.0f : 0.0f) + rng_uniform(&r, -0.15f, 0.15f);
            memcpy(t9 + 9 * n, t8 + 8 * n, 8 * sizeof(float));
            t9[9 * n + 8] = 1.0f;
        }
        CHECK(gl_projective8_grid_serial(g1, t8, N, H, W, 0) == GL_OK, "projective8");
        CHECK(gl_projective_grid(g2, t9, N, H, W, 0) == GL_OK, "projective");
        double e = max_rel_err(g1, g2, sizeof g1 / sizeof *g1, 1e-6, 1e-6, NULL);
        CHECK(e <= 1, "projective8 vs projective: %g", e);
        float dg[3 * 9 * 11 * 2], d8[3 * 8] = {0}, d9[3 * 9] = {0};
        fill_uniform(&r, dg, sizeof dg / sizeof *dg, -1, 1);
        CHECK(gl_projective8_grid_backward_serial(d8, dg, t8, N, H, W, 0) == GL_OK, "projective8 backward");
        CHECK(gl_projective_grid_backward(d9, dg, t9, N, H, W, 0) == GL_OK, "projective backward");
        for (int n = 0; n < N; n++)
            for (int k = 0; k < 8; k++) {
                double a = d8[8 * n + k], b = d9[9 * n + k];
                CHECK(fabs(a - b) <= 1e-4 * (1 + fabs(b)), "projective backward [%d][%d]: %g vs %g", n, k, a, b);
            }
    }
    /* argument errors: codes, never a crash */
    float buf[64];
    CHECK(gl_tps_grid(buf, buf, 1, 2, 2, 1, 4, 0) == GL_EINVAL, "a 1-row control grid is refused");
    CHECK(gl_tps_grid(buf, buf, 1, 2, 2, 4, GL_TPS_MAX_SIDE + 1, 0) == GL_EINVAL, "a control grid past the maximum is refused");
    CHECK(gl_tps_grid(buf, buf, 0, 2, 2, 4, 4, 0) == GL_EINVAL, "N = 0 is refused");
    CHECK(gl_projective_grid(buf, NULL, 1, 2, 2, 0) == GL_EINVAL, "a null theta is refused");
    CHECK(gl_tps_grid(buf, buf, 1, 1 << 20, 1 << 20, 4, 4, 0) == GL_ENOMEM, "a huge grid is refused");
    if (test_failures) {
        fprintf(stderr, "test_grid: %d failures\n", test_failures);
        return 1;
    }
    printf("test_grid: ok\n");
    return 0;
}
