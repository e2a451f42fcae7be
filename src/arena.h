/* arena.h: float arenas (arena.c). */
#ifndef GLIMPSE_ARENA_H
#define GLIMPSE_ARENA_H

#include "glimpse.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------- */
/* Float arena: one allocation per kind of buffer (params, grads, Adam m, Adam v, activations), */
/* tensors addressed by pointers taken in order from a table of sizes. Every tensor starts on a */
/* 16-byte boundary (sizes are rounded up to a multiple of GL_ARENA_ALIGN floats, the padding   */
/* is zero), so two arenas laid out from the same size table have identical offsets and the    */
/* optimiser can run one flat loop over `used` floats of params/grads/moments.                   */

#define GL_ARENA_ALIGN 4 /* floats = 16 bytes */

typedef struct {
    float *base;      /* 16-byte aligned, zero-filled at init */
    size_t used, cap; /* in floats */
    void *raw;        /* what malloc returned (base is raw rounded up) */
} gl_arena;

size_t gl_arena_round(size_t n); /* n rounded up to a multiple of GL_ARENA_ALIGN */
/* One zero-filled allocation of cap floats. GL_ENOMEM (via gl_fail) when malloc fails or cap is
 * over GL_MAX_FLOATS; on failure *a is left empty ({0}) and gl_arena_free is still safe. */
int gl_arena_init(gl_arena *a, size_t cap);
/* The next n floats (n rounded up), or NULL with gl_fail(GL_ENOMEM, ...) when it does not fit. */
float *gl_arena_take(gl_arena *a, size_t n);
/* init with the sum of the rounded sizes, then ptrs[i] = take(sizes[i]) for i < count. */
int gl_arena_layout(gl_arena *a, float **ptrs, const size_t *sizes, int count);
void gl_arena_zero(gl_arena *a); /* memset the used part to 0 (zeroing gradients) */
void gl_arena_reset(gl_arena *a); /* used = 0 (scratch reuse; contents kept) */
void gl_arena_free(gl_arena *a); /* idempotent; leaves *a = {0} */

#endif
