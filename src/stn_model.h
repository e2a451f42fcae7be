/* stn_model.h: the Spatial Transformer Network classifier's own entry points (stn_model.c).
 * Create / load / save / free / config / learning rate are the generic gl_model_* of model.h
 * (kind GL_KIND_STN); the configuration words and the architecture are described at the top of
 * src/stn_model.c. Images are (B, H, W) floats, labels (B) int32 class ids. */
#ifndef GLIMPSE_STN_MODEL_H
#define GLIMPSE_STN_MODEL_H

#include "glimpse.h"

/* One optimiser step. out: [loss, accuracy, gradient norm before clipping]. A non-finite loss or
 * gradient refuses the step (GL_ENUMERIC), weights and optimiser state unchanged. */
GL_API int gl_stn_train_batch(void *m, float *out, const float *images, const int32_t *labels, int B);
/* Loss and gradient (left in the grads arena) without dropout or update. out: [loss, accuracy]. */
GL_API int gl_stn_loss_grad(void *m, float *out, const float *images, const int32_t *labels, int B);
/* logits (B, classes) and argmax labels (B), either may be NULL; no dropout. */
GL_API int gl_stn_predict(void *m, float *logits, int32_t *labels, const float *images, int B);
/* The classifier alone on x (B, Ho, Wo), images already sampled to what it reads (e.g. through a
 * theta of one's own): logits (B, classes) and labels (B); either may be NULL. */
GL_API int gl_stn_classify(void *m, float *logits, int32_t *labels, const float *x, int B);
/* theta (B, 2, 3), or (B, 3, 3) for projective, (B, K, 2) for tps, and the transformer's output
 * (B, Ho, Wo); either may be NULL. */
GL_API int gl_stn_transform(void *m, float *theta, float *output, const float *images, int B);

#endif
