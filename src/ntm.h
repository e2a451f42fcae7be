/* ntm.h: the Neural Turing Machine memory kernels of src/ntm.c, for the NTM model's C code.
 * Full documentation (equations, layouts, guards) is in the header comment of src/ntm.c.
 *
 * Sizes: B batch items, H heads per item, R memory rows, C row width, S = 2n+1 shift length.
 * Every function returns GL_OK or a gl_fail() code; backward functions accumulate (+=) and
 * skip any gradient pointer that is NULL.
 */
#ifndef GLIMPSE_NTM_H
#define GLIMPSE_NTM_H

#include "glimpse.h"

/* Floats of address-cache per head (per (b, h) pair): rows norms, K, wc, wg, w~, w and ||k||. */
#define GL_NTM_CACHE_FLOATS(R) (6 * (size_t)(R) + 2)
/* Guards (see src/ntm.c). */
#define GL_NTM_COS_EPS 1e-8f   /* cosine denominator max(||M_i|| ||k||, eps) */
#define GL_NTM_SHARP_MIN 1e-30f /* w~ clamped to >= this before the log in the sharpening */

GL_API int gl_ntm_cache_floats(int R);

/* w (B,H,R), cache (B,H,GL_NTM_CACHE_FLOATS(R)) or NULL  <-  M (B,R,C), k (B,H,C), beta (B,H),
 * g (B,H), s (B,H,S), gamma (B,H), prev (B,H,R) */
GL_API int gl_ntm_address_forward(float *w, float *cache, const float *M, const float *k, const float *beta,
                                  const float *g, const float *s, const float *gamma, const float *prev, int B,
                                  int H, int R, int C, int S);
/* dM (B,R,C), dk (B,H,C), dbeta/dg/dgamma (B,H), ds (B,H,S), dprev (B,H,R) += ... given dw (B,H,R)
 * and the cache filled by gl_ntm_address_forward on the same inputs. */
GL_API int gl_ntm_address_backward(float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                   float *dprev, const float *dw, const float *cache, const float *M,
                                   const float *k, const float *beta, const float *g, const float *s,
                                   const float *gamma, const float *prev, int B, int H, int R, int C, int S);
/* r (B,H,C) <- M (B,R,C), w (B,H,R) */
GL_API int gl_ntm_read_forward(float *r, const float *M, const float *w, int B, int H, int R, int C);
/* dM (B,R,C), dw (B,H,R) += ... given dr (B,H,C) */
GL_API int gl_ntm_read_backward(float *dM, float *dw, const float *dr, const float *M, const float *w, int B, int H,
                                int R, int C);
/* Mout (B,R,C) <- M (B,R,C), w (B,R), e (B,C), a (B,C); Mout may equal M (in place). */
GL_API int gl_ntm_write_forward(float *Mout, const float *M, const float *w, const float *e, const float *a, int B,
                                int R, int C);
/* dM (B,R,C), dw (B,R), de (B,C), da (B,C) += ... given dMout (B,R,C); dM must not alias dMout. */
GL_API int gl_ntm_write_backward(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                 const float *w, const float *e, const float *a, int B, int R, int C);

/* The serial forms, for code that runs inside a pool task (pool.h): no allocation, no threads;
 * ws: scratch of gl_ntm_ws_floats(R) floats (address_forward uses it only when cache is NULL).
 * The public kernels above split the batch items over the pool's threads instead. */
size_t gl_ntm_ws_floats(int R);
int gl_ntm_address_forward_serial(float *ws, float *w, float *cache, const float *M, const float *k, const float *beta,
                                  const float *g, const float *s, const float *gamma, const float *prev, int B, int H,
                                  int R, int C, int S);
int gl_ntm_address_backward_serial(float *ws, float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                   float *dprev, const float *dw, const float *cache, const float *M, const float *k,
                                   const float *beta, const float *g, const float *s, const float *gamma,
                                   const float *prev, int B, int H, int R, int C, int S);
int gl_ntm_read_forward_serial(float *r, const float *M, const float *w, int B, int H, int R, int C);
int gl_ntm_read_backward_serial(float *dM, float *dw, const float *dr, const float *M, const float *w, int B, int H,
                                int R, int C);
int gl_ntm_write_forward_serial(float *Mout, const float *M, const float *w, const float *e, const float *a, int B, int R,
                                int C);
int gl_ntm_write_backward_serial(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                 const float *w, const float *e, const float *a, int B, int R, int C);

/* Plain scalar oracles with the same signatures and semantics. */
GL_TEST_API int gl_ntm_address_forward_ref(float *w, float *cache, const float *M, const float *k, const float *beta,
                                      const float *g, const float *s, const float *gamma, const float *prev, int B,
                                      int H, int R, int C, int S);
GL_TEST_API int gl_ntm_address_backward_ref(float *dM, float *dk, float *dbeta, float *dg, float *ds, float *dgamma,
                                       float *dprev, const float *dw, const float *cache, const float *M,
                                       const float *k, const float *beta, const float *g, const float *s,
                                       const float *gamma, const float *prev, int B, int H, int R, int C, int S);
GL_TEST_API int gl_ntm_read_forward_ref(float *r, const float *M, const float *w, int B, int H, int R, int C);
GL_TEST_API int gl_ntm_read_backward_ref(float *dM, float *dw, const float *dr, const float *M, const float *w, int B,
                                    int H, int R, int C);
GL_TEST_API int gl_ntm_write_forward_ref(float *Mout, const float *M, const float *w, const float *e, const float *a,
                                    int B, int R, int C);
GL_TEST_API int gl_ntm_write_backward_ref(float *dM, float *dw, float *de, float *da, const float *dMout, const float *M,
                                     const float *w, const float *e, const float *a, int B, int R, int C);

#endif
