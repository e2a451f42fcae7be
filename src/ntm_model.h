/* ntm_model.h: the Neural Turing Machine's own entry points (ntm_model.c). Create / load / save /
 * free / config / learning rate are the generic gl_model_* of model.h (kind GL_KIND_NTM). Losses
 * are reported in bits per sequence, as the paper's Figure 3. */
#ifndef GLIMPSE_NTM_MODEL_H
#define GLIMPSE_NTM_MODEL_H

#include "glimpse.h"

/* One optimiser step on B fresh copy-task sequences of one length drawn from [minL, maxL].
 * out: [loss in bits per sequence, wrong bits per sequence, length, gradient norm]. */
GL_API int gl_ntm_train_copy(void *m, float *out, int B, int minL, int maxL);
/* Loss and wrong bits on `count` fresh sequences from a stream seeded by `seed`; out: [loss
 * bits, wrong bits] per sequence. */
GL_API int gl_ntm_eval_copy(void *m, float *out, int B, int minL, int maxL, int count, uint32_t seed);
/* Loss (nats per sequence) and gradient (left in the grads arena) on given sequences seq
 * (B, L, bits), no update. out: [loss, wrong bits per sequence]. */
GL_API int gl_ntm_loss_grad(void *m, float *out, const float *seq, int B, int L);
/* One sequence seq (L, bits): output (L, bits) probabilities; traces of all 2L+1 steps (each may
 * be NULL): read weightings (T, Hr, R), write weightings (T, Hw, R), memory (T, R, C); out2 (or
 * NULL): [loss bits, wrong bits]. */
GL_API int gl_ntm_copy(void *m, float *output, float *rw, float *ww, float *mem, float *out2, const float *seq, int L);

#endif
