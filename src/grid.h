/* grid.h: the Spatial Transformer's other grid generators (grid.c): the projective grid (a
 * homography) and the thin-plate-spline grid (Jaderberg et al. 2015 §3.1; Bookstein 1989).
 * The affine grid and the sampler are in stn.h.
 *
 * Grids are (N, H, W, 2) holding (x, y) in normalised input coordinates, for gl_grid_sample; the
 * output pixel (h, w) sits at (gl_base_coord(w, W, align), gl_base_coord(h, H, align)) as in
 * torch's affine_grid. Every function returns GL_OK or a gl_fail() code; backward functions
 * accumulate (+=) into their output.
 */
#ifndef GLIMPSE_GRID_H
#define GLIMPSE_GRID_H

#include "glimpse.h"

#include <stddef.h>

/* ---------------------------------------------------------------------------------------- */
/* Projective grid: theta (N, 3, 3) applied to the homogeneous output coordinate (x, y, 1),
 *     (u, v, s) = theta . (x, y, 1),   grid = (u / s, v / s),
 * a plain division (s near 0 gives huge or infinite coordinates, as the formula does). */
GL_API int gl_projective_grid(float *grid, const float *theta, int N, int H, int W, int align);
/* dtheta (N, 3, 3) += d grid / d theta contracted with dgrid (N, H, W, 2) */
GL_API int gl_projective_grid_backward(float *dtheta, const float *dgrid, const float *theta, int N, int H, int W,
                                       int align);

/* The STN model's form (serial, for pool tasks): theta (N, 8) is (a, b, c, d, e, f, g, h), the
 * homography [[a b c] [d e f] [g h 1]], and the denominator is clamped below at
 * GL_PROJ_DEN_MIN (points at or behind the horizon would divide by ~0); where it is clamped,
 * d/dg and d/dh are 0. With g = h = 0 this is exactly the affine grid. */
#define GL_PROJ_DEN_MIN 0.1f
int gl_projective8_grid_serial(float *grid, const float *theta, int N, int H, int W, int align);
int gl_projective8_grid_backward_serial(float *dtheta, const float *dgrid, const float *theta, int N, int H, int W,
                                        int align);

/* ---------------------------------------------------------------------------------------- */
/* Thin-plate-spline grid. The K = gy * gx fixed control points P_k form a regular grid over
 * [-1, 1]^2 (row-major: k = i * gx + j at (x, y) = (-1 + 2 j / (gx - 1), -1 + 2 i / (gy - 1)));
 * points (N, K, 2) holds (x, y), where each P_k maps to. The transform of one image is
 *     T(p) = a_0 + a_1 x + a_2 y + sum_k w_k U(|p - P_k|),   U(r) = r^2 log r^2   (U(0) = 0),
 * with (w, a) solving the (K + 3) system  [[U(|P_i - P_j|), 1, P_i], [1 P^T, 0]] (w; a) = (points; 0),
 * so T(P_k) = points_k exactly, and points = P gives the identity. T is linear in points:
 * grid = B . points with a basis B (H*W, K) that depends only on the sizes, so the backward is
 * dpoints = B^T . dgrid. gy and gx: 2 to GL_TPS_MAX_SIDE. */
#define GL_TPS_MAX_SIDE 8
GL_API int gl_tps_grid(float *grid, const float *points, int N, int H, int W, int gy, int gx, int align);
/* dpoints (N, K, 2) += B^T . dgrid (N, H, W, 2) */
GL_API int gl_tps_grid_backward(float *dpoints, const float *dgrid, int N, int H, int W, int gy, int gx, int align);

/* The serial forms with a precomputed basis (the STN model computes it once): basis (K, H*W),
 * stored transposed (a row per control point) for the vector loops, gl_tps_basis_floats(...)
 * floats. */
size_t gl_tps_basis_floats(int H, int W, int gy, int gx);
int gl_tps_basis(float *basis, int H, int W, int gy, int gx, int align);
void gl_tps_grid_serial(float *grid, const float *basis, const float *points, int N, int HW, int K);
void gl_tps_grid_backward_serial(float *dpoints, const float *basis, const float *dgrid, int N, int HW, int K);
/* The control points themselves (K, 2): the identity's `points`. */
void gl_tps_control_points(float *points, int gy, int gx);

/* Oracles (the test build): the spline evaluated directly in double from its solved coefficients,
 * and the projective grid's backward by the quotient rule in double. */
GL_TEST_API int gl_tps_grid_ref(float *grid, const float *points, int N, int H, int W, int gy, int gx, int align);
GL_TEST_API int gl_tps_grid_backward_ref(float *dpoints, const float *dgrid, int N, int H, int W, int gy, int gx,
                                         int align);

#endif
