/* rng.c: PCG32 random numbers (rng.h). */
#include "rng.h"

#include <math.h>

/* PCG32 (M. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
 * Algorithms for Random Number Generation", 2014): 64-bit LCG state, XSH-RR 32-bit output. */

void gl_rng_seed(gl_rng *r, uint64_t seed, uint64_t stream) {
    r->state = 0u;
    r->inc = (stream << 1u) | 1u;
    (void)gl_rng_u32(r);
    r->state += seed;
    (void)gl_rng_u32(r);
    r->spare = 0.0f;
    r->has_spare = 0;
}

uint32_t gl_rng_u32(gl_rng *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

float gl_rng_uniform(gl_rng *r) { return (float)(gl_rng_u32(r) >> 8) * (1.0f / 16777216.0f); }

uint32_t gl_rng_below(gl_rng *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection of the biased low range. */
    uint64_t m = (uint64_t)gl_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (0u - n) % n;
        while (low < threshold) {
            m = (uint64_t)gl_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float gl_rng_normal(gl_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Box-Muller on u1 in (0, 1] so the log is finite. Computed in double so the result does not
     * depend on the float libm of the build. */
    double u1 = ((double)(gl_rng_u32(r) >> 8) + 1.0) * (1.0 / 16777216.0);
    double u2 = (double)(gl_rng_u32(r) >> 8) * (1.0 / 16777216.0);
    double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
    r->spare = (float)(rad * sin(th));
    r->has_spare = 1;
    return (float)(rad * cos(th));
}
