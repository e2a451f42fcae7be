/* arena.c: float arenas, one allocation per kind of buffer (arena.h). */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

size_t gl_arena_round(size_t n) { return (n + (GL_ARENA_ALIGN - 1)) & ~(size_t)(GL_ARENA_ALIGN - 1); }

int gl_arena_init(gl_arena *a, size_t cap) {
    memset(a, 0, sizeof *a);
    cap = gl_arena_round(cap);
    if (cap > GL_MAX_FLOATS)
        return gl_fail(GL_ENOMEM, "arena of %zu floats exceeds the limit of %zu", cap, (size_t)GL_MAX_FLOATS);
    void *raw = calloc(cap * sizeof(float) + 16, 1);
    if (!raw) return gl_fail(GL_ENOMEM, "out of memory allocating an arena of %zu floats", cap);
    a->raw = raw;
    a->base = (float *)(((uintptr_t)raw + 15u) & ~(uintptr_t)15u);
    a->cap = cap;
    a->used = 0;
    return GL_OK;
}

float *gl_arena_take(gl_arena *a, size_t n) {
    n = gl_arena_round(n);
    if (!a->base || n > a->cap - a->used) {
        gl_fail(GL_ENOMEM, "arena full: %zu floats requested, %zu of %zu free", n, a->cap - a->used, a->cap);
        return NULL;
    }
    float *p = a->base + a->used;
    a->used += n;
    return p;
}

int gl_arena_layout(gl_arena *a, float **ptrs, const size_t *sizes, int count) {
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        size_t r = gl_arena_round(sizes[i]);
        if (r > GL_MAX_FLOATS - total) {
            memset(a, 0, sizeof *a);
            return gl_fail(GL_ENOMEM, "arena layout of %d tensors exceeds the limit of %zu floats", count,
                           (size_t)GL_MAX_FLOATS);
        }
        total += r;
    }
    int err = gl_arena_init(a, total);
    if (err) return err;
    for (int i = 0; i < count; i++) ptrs[i] = gl_arena_take(a, sizes[i]);
    return GL_OK;
}

void gl_arena_zero(gl_arena *a) {
    if (a->base) memset(a->base, 0, a->used * sizeof(float));
}

void gl_arena_reset(gl_arena *a) { a->used = 0; }

void gl_arena_free(gl_arena *a) {
    free(a->raw);
    memset(a, 0, sizeof *a);
}
