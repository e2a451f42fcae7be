/* rng.h: PCG32, the one random-number generator of the core (rng.c). */
#ifndef GLIMPSE_RNG_H
#define GLIMPSE_RNG_H

#include "glimpse.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------- */
/* Random numbers: PCG32 (O'Neill 2014, XSH-RR output), one small struct every model owns.    */
/* Same seed, same sequence, on every build (wasm SIMD, wasm scalar, native).                   */

typedef struct {
    uint64_t state, inc; /* PCG32 state and stream (inc is odd) */
    float spare;         /* second Box-Muller normal, valid when has_spare */
    int has_spare;
} gl_rng;

void gl_rng_seed(gl_rng *r, uint64_t seed, uint64_t stream); /* stream picks one of 2^63 sequences */
uint32_t gl_rng_u32(gl_rng *r);                  /* uniform 32-bit */
float gl_rng_uniform(gl_rng *r);                 /* uniform in [0, 1), 24 random bits */
uint32_t gl_rng_below(gl_rng *r, uint32_t n);    /* uniform integer in [0, n), unbiased; n > 0 */
float gl_rng_normal(gl_rng *r);                  /* standard normal (Box-Muller, pairs cached) */

#endif
