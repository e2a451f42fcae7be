/* draw_model.h: DRAW's own entry points (draw_model.c). Create / load / save / free / config /
 * learning rate are the generic gl_model_* of model.h (kind GL_KIND_DRAW). Images are (count, H, W)
 * floats in [0, 1], binarised inside the model; losses are nats per image. */
#ifndef GLIMPSE_DRAW_MODEL_H
#define GLIMPSE_DRAW_MODEL_H

#include "glimpse.h"

/* One Adam step. out: [loss, reconstruction, kl, gradient norm before clipping]. */
GL_API int gl_draw_train_batch(void *m, float *out, const float *images, int nb);
/* Loss and gradient (left in the grads arena) with eps and binarisation seeded by `seed`, no
 * update. out: [loss, reconstruction, kl]. */
GL_API int gl_draw_loss_grad(void *m, float *out, const float *images, int nb, uint32_t seed);
/* The bound without an update over any number of images: out [loss, reconstruction, kl]. */
GL_API int gl_draw_loss(void *m, float *out, const float *images, int count, uint32_t seed);
/* canvases (T, count, H, W) probabilities; read / write (T, count, 5) = (gX, gY, delta, sigma^2,
 * gamma) in image units. Any output may be NULL. */
GL_API int gl_draw_reconstruct(void *m, float *canvases, float *readp, float *writep, const float *images, int count,
                               uint32_t seed);
/* Generation (z_t ~ N(0, I) seeded by `seed`): canvases (T, count, H, W), write (T, count, 5). */
GL_API int gl_draw_generate(void *m, float *canvases, float *writep, int count, uint32_t seed);

#endif
