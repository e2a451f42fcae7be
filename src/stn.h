/* stn.h: the Spatial Transformer's grid generators and sampler (stn.c), with the semantics of
 * torch.nn.functional.affine_grid and grid_sample. Full documentation (coordinates, modes, padding,
 * non-finite grids, the fast kernels' layout) is at the top of src/stn.c.
 *
 * Sizes: N images, C channels, H x W input, Ho x Wo output (grid). Grids are (N, Ho, Wo, 2) holding
 * (x, y) in normalised coordinates. mode: GL_MODE_BILINEAR / _NEAREST / _BICUBIC (below); pad:
 * GL_PAD_ZEROS / _BORDER / _REFLECTION (glimpse.h); align: align_corners (0 or 1). The argument
 * order (mode, pad, align) is torch's grid_sample(input, grid, mode, padding_mode, align_corners).
 * Every function returns GL_OK or a gl_fail() code; backward functions accumulate (+=) and skip any
 * gradient pointer that is NULL.
 */
#ifndef GLIMPSE_STN_H
#define GLIMPSE_STN_H

#include "glimpse.h"

/* Interpolation modes of the sampler, numbered as torch's GridSamplerInterpolation. */
enum { GL_MODE_BILINEAR = 0, GL_MODE_NEAREST = 1, GL_MODE_BICUBIC = 2 };

/* torch's normalised coordinate of pixel i along an axis of `size` pixels (linspace(-1, 1, size),
 * shrunk by (size-1)/size when corners are not aligned; a single pixel sits at 0). */
float gl_base_coord(int i, int size, int align);

/* grid (N, H, W, 2) <- theta (N, 2, 3)   (paper eq. 1) */
GL_API int gl_affine_grid(float *grid, const float *theta, int N, int H, int W, int align);
/* dtheta (N, 2, 3) += d grid / d theta contracted with dgrid (N, H, W, 2) */
GL_API int gl_affine_grid_backward(float *dtheta, const float *dgrid, int N, int H, int W, int align);

/* out (N, C, Ho, Wo) <- inp (N, C, H, W) sampled at grid (N, Ho, Wo, 2)   (eq. 5; every element written) */
GL_API int gl_grid_sample(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                          int mode, int pad, int align);
/* dinp (N, C, H, W), dgrid (N, Ho, Wo, 2) += their gradients given dout (N, C, Ho, Wo)   (eq. 6-7;
 * nearest: the grid gradient is zero, dgrid is left as it is) */
GL_API int gl_grid_sample_backward(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                                   int N, int C, int H, int W, int Ho, int Wo, int mode, int pad, int align);
/* The same, but dinp and dgrid are written (=), not accumulated: no caller has to clear them first
 * (the JS binding's results). */
GL_API int gl_grid_sample_backward_set(float *dinp, float *dgrid, const float *dout, const float *inp,
                                       const float *grid, int N, int C, int H, int W, int Ho, int Wo, int mode, int pad,
                                       int align);

/* The serial forms, for code that runs inside a pool task (pool.h): the caller's scratch `ws` of
 * gl_grid_sample_ws_floats(C, H, W, dinp != NULL) floats (16-byte aligned; the same for every mode),
 * no allocation, no threads. The public kernels above split the images over the pool's threads
 * instead. */
size_t gl_grid_sample_ws_floats(int C, int H, int W, int backward_dinp);
int gl_affine_grid_serial(float *grid, const float *theta, int N, int H, int W, int align);
int gl_affine_grid_backward_serial(float *dtheta, const float *dgrid, int N, int H, int W, int align);
int gl_grid_sample_serial(float *ws, float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho,
                          int Wo, int mode, int pad, int align);
int gl_grid_sample_backward_serial(float *ws, float *dinp, float *dgrid, const float *dout, const float *inp,
                                   const float *grid, int N, int C, int H, int W, int Ho, int Wo, int mode, int pad,
                                   int align);

/* The scalar oracles of the two sampler kernels: same signatures and semantics. */
GL_TEST_API int gl_grid_sample_ref(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho,
                                   int Wo, int mode, int pad, int align);
GL_TEST_API int gl_grid_sample_backward_ref(float *dinp, float *dgrid, const float *dout, const float *inp,
                                            const float *grid, int N, int C, int H, int W, int Ho, int Wo, int mode,
                                            int pad, int align);

#endif
