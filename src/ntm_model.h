/* ntm_model.h: the Neural Turing Machine's own entry points (ntm_model.c). Create / load / save /
 * free / config / learning rate are the generic gl_model_* of model.h (kind GL_KIND_NTM). The model
 * learns one task of the paper's sec. 4 (its 'task' config word; examples from ntm_tasks.h). Losses
 * are reported in bits per sequence, as the paper's Figure 3.
 *
 * Task options (opts) are GL_TASK_NOPTS ints in gl_task_opts order (ntm_tasks.h): minLength,
 * maxLength, minRepeats, maxRepeats, minItems, maxItems, itemLength, length, outputLength. */
#ifndef GLIMPSE_NTM_MODEL_H
#define GLIMPSE_NTM_MODEL_H

#include "glimpse.h"

/* One optimiser step on B fresh examples of the model's task (one size draw per batch). out (10):
 * [loss bits per sequence, wrong bits per sequence, gradient norm, steps, fraction of sequences with
 * a wrong bit, length, repeats, items, itemLength, outputLength]. */
GL_API int gl_ntm_train_task(void *m, float *out, int B, const int32_t *opts);
/* Loss and wrong bits on `count` fresh examples from streams seeded by `seed`, in chunks of B. out
 * (4): [loss bits, wrong bits, fraction of sequences with a wrong bit, Bayes-optimal bits (ngrams)]
 * per sequence. */
GL_API int gl_ntm_eval_task(void *m, float *out, int B, const int32_t *opts, int count, uint32_t seed);
/* One example from `seed` (the first of evaluateTask's): info (9 ints: T, Ix, Y, length, repeats,
 * items, itemLength, outputLength, query); with x non-NULL x (T, Ix), y (T, Y), mask (T), bayes (T)
 * and *bayes_bits (ngrams; may be NULL). */
GL_API int gl_ntm_task_example(void *m, const int32_t *opts, uint32_t seed, int32_t *info, float *x, float *y,
                               float *mask, float *bayes, float *bayes_bits);
/* Target y (T, Y), mask (T) and info of a given input x (T, Ix) by the task's rules. */
GL_API int gl_ntm_task_target(void *m, const float *x, int T, float *y, float *mask, int32_t *info, float *bayes,
                              float *bayes_bits);
/* One example x, y, mask: output (T, Y) probabilities at every step, traces (T, Hr, R), (T, Hw, R),
 * (T, R, C) (each may be NULL), out (4): [loss bits, wrong bits, any wrong, Bayes bits (ngrams)]. */
GL_API int gl_ntm_run_task(void *m, float *output, float *rw, float *ww, float *mem, float *out, const float *x,
                           const float *y, const float *mask, int T);
/* Test hook: loss (nats per sequence) and gradient (left in the grads arena) on given examples x
 * (B, T, Ix), y (B, T, Y), mask (T), no update. out: [loss, wrong bits per sequence]. */
GL_API int gl_ntm_task_loss_grad(void *m, float *out, const float *x, const float *y, const float *mask, int B, int T);

/* The copy task's own entry points (copy models only; the same numbers as the task ones). */
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
