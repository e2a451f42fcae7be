/* test_distort.c: native checks of src/distort.c (run it under build/asan/ too): every kind on
 * synthetic digits, output range and finiteness, determinism per seed, independence of the
 * batch size, clutter from an explicit pool, error codes. Exit status = number of failures. */
#include "common.h"
#include "glimpse.h"
#include "distort.h"

#include <string.h>


#define B 40
#define PIX 784

/* A ring or a bar of random size and place: enough like a digit for range and ink checks. */
static void make_digit(float *im, test_rng *r) {
    float cx = rng_uniform(r, 10, 18), cy = rng_uniform(r, 10, 18), rad = rng_uniform(r, 3, 8);
    int ring = rng_uniform(r, 0, 1) < 0.5f;
    for (int i = 0; i < 28; i++)
        for (int j = 0; j < 28; j++) {
            float dx = j + 0.5f - cx, dy = i + 0.5f - cy, d = ring ? fabsf(sqrtf(dx * dx + dy * dy) - rad) : fabsf(dx);
            float v = 1.5f - d;
            if (!ring && fabsf(dy) > rad) v = 0;
            im[i * 28 + j] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
}

int main(void) {
    static float src[B * PIX], pool[10 * PIX], a[B * 3600], b[B * 3600];
    test_rng r = {12345};
    for (int n = 0; n < B; n++) make_digit(src + n * PIX, &r);
    for (int n = 0; n < 10; n++) make_digit(pool + n * PIX, &r);
    const char *names[5] = {"R", "RTS", "P", "E", "T"};
    const int sides[5] = {28, 42, 28, 28, 60};
    for (int kind = 0; kind < 5; kind++) {
        int side = -1;
        CHECK(gl_distort_side(&side, kind) == GL_OK && side == sides[kind], "%s: side %d", names[kind], side);
        size_t S2 = (size_t)side * side;
        CHECK(gl_distort_batch(a, src, pool, 10, B, kind, 99) == GL_OK, "%s: %s", names[kind], gl_last_error());
        double ink_in = 0, ink_out = 0;
        int bad = 0;
        for (size_t p = 0; p < B * S2; p++) {
            if (!(a[p] >= 0.0f && a[p] <= 1.0f + 1e-6f)) bad++;
            ink_out += a[p];
        }
        for (size_t p = 0; p < (size_t)B * PIX; p++) ink_in += src[p];
        CHECK(bad == 0, "%s: %d values outside [0, 1] or not finite", names[kind], bad);
        CHECK(ink_out > 0.3 * ink_in && ink_out < 3.0 * ink_in, "%s: ink %g from %g", names[kind], ink_out, ink_in);
        /* Same seed: same bytes; first 7 of the batch alone: the same images. */
        CHECK(gl_distort_batch(b, src, pool, 10, B, kind, 99) == GL_OK, "%s rerun", names[kind]);
        CHECK(memcmp(a, b, sizeof(float) * B * S2) == 0, "%s: not deterministic", names[kind]);
        CHECK(gl_distort_batch(b, src, pool, 10, 7, kind, 99) == GL_OK, "%s part", names[kind]);
        CHECK(memcmp(a, b, sizeof(float) * 7 * S2) == 0, "%s: depends on the batch size", names[kind]);
        /* Another seed: different images. */
        CHECK(gl_distort_batch(b, src, pool, 10, B, kind, 100) == GL_OK, "%s seed 100", names[kind]);
        CHECK(memcmp(a, b, sizeof(float) * B * S2) != 0, "%s: seed has no effect", names[kind]);
    }
    /* T with the batch as its own clutter source (pool NULL), and with a batch of one. */
    CHECK(gl_distort_batch(a, src, NULL, 0, B, 4, 1) == GL_OK, "T self-pool: %s", gl_last_error());
    CHECK(gl_distort_batch(a, src, NULL, 0, 1, 4, 1) == GL_OK, "T single: %s", gl_last_error());
    /* Errors. */
    int side;
    CHECK(gl_distort_side(&side, 5) == GL_EINVAL, "kind 5 accepted");
    CHECK(gl_distort_side(&side, -1) == GL_EINVAL, "kind -1 accepted");
    CHECK(gl_distort_batch(a, src, pool, 10, 0, 0, 1) == GL_EINVAL, "B = 0 accepted");
    CHECK(gl_distort_batch(a, src, pool, -1, 1, 4, 1) == GL_EINVAL, "P < 0 accepted");
    CHECK(gl_distort_batch(NULL, src, pool, 10, 1, 0, 1) == GL_EINVAL, "null out accepted");
    CHECK(gl_distort_batch(a, src, pool, 10, 1 << 30, 4, 1) == GL_ENOMEM, "huge batch accepted");
    if (test_failures == 0) printf("test_distort: all checks passed\n");
    return test_failures;
}
