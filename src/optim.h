/* optim.h: optimisers and gradient clipping (optim.c). */
#ifndef GLIMPSE_OPTIM_H
#define GLIMPSE_OPTIM_H

#include "glimpse.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------- */
/* Optimisers: one flat loop over n floats of params / grads / moments (arena->used).           */

/* torch.optim.SGD (dampening 0, nesterov off): g = grad + wd*p; v = momentum*v + g; p -= lr*v.
 * velocity (n) starts at zero (then the first step is v = g, as in torch). momentum 0: plain SGD
 * (velocity may then be NULL). */
void gl_sgd_step(float *params, float *velocity, const float *grads, size_t n, float lr, float momentum,
                 float weight_decay);
/* torch.optim.Adam (amsgrad off), step t = 1, 2, ...: g = grad + wd*p; m = b1 m + (1-b1) g;
 * v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 * m, v (n) start at zero. */
void gl_adam_step(float *params, float *m, float *v, const float *grads, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int t);
/* torch.nn.utils.clip_grad_norm_ (L2): norm = ||grads||; if norm > max_norm, grads *= max_norm /
 * (norm + 1e-6). Returns the norm before clipping (accumulated in double). */
float gl_clip_grad_norm(float *grads, size_t n, float max_norm);

#endif
