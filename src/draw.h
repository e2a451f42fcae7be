/* draw.h: DRAW's Gaussian filterbank attention (draw.c; Gregor et al. 2015, eq. 19-29). Full
 * documentation (parameterisation, 1-based indices, the normaliser guard) is at the top of
 * src/draw.c.
 *
 * Sizes: batch items, N x N patch, images (batch, B, A) = (rows, columns). params (batch, 5) hold
 * the raw attention outputs (g~X, g~Y, log sigma^2, log delta~, log gamma). Every function returns
 * GL_OK or a gl_fail() code; backward functions accumulate (+=) and skip NULL gradient pointers.
 */
#ifndef GLIMPSE_DRAW_H
#define GLIMPSE_DRAW_H

#include "glimpse.h"

/* out (batch, 5) <- (gX, gY, delta, sigma^2, gamma) per item, in image units. */
GL_API int gl_draw_decode(float *out, const float *params, int batch, int N, int A, int B);
/* Fx (batch, N, A), Fy (batch, N, B), gamma (batch) <- params (batch, 5)   (eq. 19-26) */
GL_API int gl_draw_filterbank(float *Fx, float *Fy, float *gamma, const float *params, int batch, int N, int A, int B);
/* dparams (batch, 5) += dL/dparams given dFx, dFy, dgamma (any may be NULL); filters recomputed. */
GL_API int gl_draw_filterbank_backward(float *dparams, const float *dFx, const float *dFy, const float *dgamma,
                                       const float *params, int batch, int N, int A, int B);
/* out (batch, 2, N, N) <- gamma [Fy x Fx^T, Fy xhat Fx^T]   (eq. 27) */
GL_API int gl_draw_read(float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                        const float *gamma, int batch, int N, int A, int B);
GL_API int gl_draw_read_backward(float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma, const float *dread,
                                 const float *x, const float *xhat, const float *Fx, const float *Fy,
                                 const float *gamma, int batch, int N, int A, int B);
/* canvas (batch, B, A) <- (1/gamma) Fy^T w Fx, w (batch, N, N); overwrites canvas   (eq. 29) */
GL_API int gl_draw_write(float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                         int batch, int N, int A, int B);
GL_API int gl_draw_write_backward(float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                                  const float *w, const float *Fx, const float *Fy, const float *gamma, int batch,
                                  int N, int A, int B);

/* The serial forms, for code that runs inside a pool task (pool.h): scratch `ws` of
 * gl_draw_ws_floats(N, A, B) floats, no allocation, no threads; same semantics as above. The
 * public kernels split the items over the pool's threads instead. */
size_t gl_draw_ws_floats(int N, int A, int B);
int gl_draw_filterbank_serial(float *ws, float *Fx, float *Fy, float *gamma, const float *params, int batch, int N, int A,
                          int B);
int gl_draw_filterbank_backward_serial(float *ws, float *dparams, const float *dFx, const float *dFy, const float *dgamma,
                                   const float *params, int batch, int N, int A, int B);
int gl_draw_read_serial(float *ws, float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                    const float *gamma, int batch, int N, int A, int B);
int gl_draw_read_backward_serial(float *ws, float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma,
                             const float *dread, const float *x, const float *xhat, const float *Fx, const float *Fy,
                             const float *gamma, int batch, int N, int A, int B);
int gl_draw_write_serial(float *ws, float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                     int batch, int N, int A, int B);
int gl_draw_write_backward_serial(float *ws, float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                              const float *w, const float *Fx, const float *Fy, const float *gamma, int batch, int N,
                              int A, int B);

/* Plain scalar oracles of read / write and their backward: same signatures and semantics. */
GL_TEST_API int gl_draw_read_ref(float *out, const float *x, const float *xhat, const float *Fx, const float *Fy,
                                 const float *gamma, int batch, int N, int A, int B);
GL_TEST_API int gl_draw_read_backward_ref(float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma,
                                          const float *dread, const float *x, const float *xhat, const float *Fx,
                                          const float *Fy, const float *gamma, int batch, int N, int A, int B);
GL_TEST_API int gl_draw_write_ref(float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma,
                                  int batch, int N, int A, int B);
GL_TEST_API int gl_draw_write_backward_ref(float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas,
                                           const float *w, const float *Fx, const float *Fy, const float *gamma,
                                           int batch, int N, int A, int B);

#endif
