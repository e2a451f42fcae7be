/* ntm_tasks.h: the tasks of the Neural Turing Machine paper (Graves, Wayne & Danihelka 2014, sec. 4)
 * as seeded example generators (ntm_tasks.c), shared by the NTM's training, its evaluation and the
 * JS binding, so every one of them sees the same definition.
 *
 * An example of T steps is three arrays:
 *   input  x (T, Ix)  what the network sees at each step,
 *   target y (T, Y)   what it should output (zeros outside the output phase),
 *   mask     (T)      1 at the steps the loss counts (the output phase), else 0.
 * Ix and Y follow from the task and the vector width `bits` (gl_task_widths); T from the example's
 * sizes (gl_task_steps). The mask is a function of the sizes alone, and so are T and the layout, so a
 * batch of examples that share their sizes shares one mask (the model draws sizes per batch).
 *
 * The target is always a function of the input (gl_task_target parses an input, checks it follows
 * the task's rules and derives target and mask); the generators make a random input and derive the
 * target with that same function, so an edited input gets its target by the same rules.
 *
 * Steps are written with a stride: step t of an example starts at x + t * stride (stride >= Ix), so a
 * generator can write straight into a (T, B, Ix) batch (stride B * Ix).
 */
#ifndef GLIMPSE_NTM_TASKS_H
#define GLIMPSE_NTM_TASKS_H

#include "glimpse.h"
#include "rng.h"

#include <stddef.h>

/* The tasks, in the order of the NTM's 'task' configuration word. */
enum { GL_TASK_COPY = 0, GL_TASK_REPEAT_COPY = 1, GL_TASK_RECALL = 2, GL_TASK_SORT = 3, GL_TASK_NGRAMS = 4, GL_TASK_COUNT };

/* Longest example of any task, in steps: the copy task's 2 * 10000 + 1. */
#define GL_TASK_MAX_STEPS 20001
/* Repeat copy's count channel holds (n - mean) / std with the mean and standard deviation of the
 * paper's training counts, uniform on 1..10 (sec. 4.2: "normalised to have mean zero and variance
 * one"): mean 5.5, variance (10^2 - 1) / 12. Fixed constants, so a count outside 1..10 (the
 * generalisation tests) is encoded on the same scale. */
#define GL_TASK_REPEAT_MEAN 5.5
#define GL_TASK_REPEAT_STD 2.8722813232690143 /* sqrt(99 / 12) */
/* Dynamic N-grams (sec. 4.4): 6-grams, i.e. the next bit depends on the previous five. */
#define GL_TASK_NGRAM_CONTEXT 5

/* What a batch's sizes are drawn from (the options of trainTask / evaluateTask). Unused fields are
 * ignored by tasks that do not have them. */
typedef struct {
    int min_length, max_length;   /* copy, repeat-copy: vectors per sequence, uniform in [min, max] */
    int min_repeats, max_repeats; /* repeat-copy: copies to output, uniform in [min, max] */
    int min_items, max_items;     /* recall: items per episode, uniform in [min, max] */
    int item_length;              /* recall: vectors per item */
    int length, out_length;       /* sort: input and output vectors; ngrams: bits per sequence (length) */
} gl_task_opts;
#define GL_TASK_NOPTS 9 /* ints of gl_task_opts, in this order (the JS binding passes them so) */

/* The sizes of one batch (every example of a batch has them). */
typedef struct {
    int length;      /* copy, repeat-copy: vectors; sort: input vectors; ngrams: bits */
    int repeats;     /* repeat-copy */
    int items;       /* recall */
    int item_length; /* recall */
    int out_length;  /* sort */
} gl_task_sizes;

/* 'copy', 'repeat-copy', 'recall', 'sort', 'ngrams' (NULL for an unknown id). */
const char *gl_task_name(int task);
/* Input and output widths of the task's examples for vectors of `bits` bits. */
void gl_task_widths(int task, int bits, int *in, int *out);
/* The paper's training settings of the task (sec. 4.1-4.5). */
void gl_task_default_opts(int task, gl_task_opts *o);
/* GL_OK, or GL_EINVAL with a message naming fn and the option that is out of range (the JS option
 * names: minLength, maxRepeats, itemLength, outputLength, ...), including examples longer than
 * GL_TASK_MAX_STEPS. */
int gl_task_check(const char *fn, int task, const gl_task_opts *o);
/* A batch's sizes drawn from r (copy: the length; repeat-copy: the length, then the count; recall:
 * the item count; sort and ngrams draw nothing). o must have passed gl_task_check. */
void gl_task_draw(int task, const gl_task_opts *o, gl_rng *r, gl_task_sizes *s);
/* Steps of an example of these sizes. */
int gl_task_steps(int task, const gl_task_sizes *s);
/* mask (T) of an example of these sizes: 1 in the output phase, else 0. */
void gl_task_mask(int task, const gl_task_sizes *s, float *mask);

/* One random example of sizes s from r: its input into x (step t at x + t * xs, Ix floats; every
 * other float of the step is left alone) and the target into y (likewise with ys, Y floats).
 * Random bits are fair coins; repeat copy's count, recall's query, sort's priorities and the
 * N-gram table as the paper says (see ntm_tasks.c). */
void gl_task_example(int task, int bits, const gl_task_sizes *s, gl_rng *r, float *x, size_t xs, float *y, size_t ys);

/* Parse an input x (T steps, stride xs): check it follows the task's rules (GL_EINVAL naming fn and
 * the step and channel that break them) and write its target y (stride ys; may be NULL), mask (T;
 * may be NULL) and sizes (may be NULL). *query (may be NULL) receives recall's query item index
 * (the first item equal to the query that has a successor), -1 for other tasks. */
int gl_task_target(const char *fn, int task, int bits, int T, const float *x, size_t xs, float *y, size_t ys,
                   float *mask, gl_task_sizes *s, int *query);

/* Dynamic N-grams: the Bayes-optimal predictor's cost, in bits, of the sequence whose input is x (T
 * steps of one bit, stride xs), over the steps the mask counts: P(next = 1 | N0, N1, c) = (N1 + 1/2)
 * / (N0 + N1 + 1), c the previous five bits (zeros before the start), N0 / N1 the zeros / ones seen
 * after c so far (sec. 4.4, from the Beta(1/2, 1/2) prior of each table entry). p (T, or NULL)
 * receives the predicted probability that step t's target bit is 1 (0.5 at the unscored last step). */
double gl_task_ngrams_bayes(int T, const float *x, size_t xs, float *p);

#endif
