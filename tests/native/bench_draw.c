/* bench_draw.c: native speed yardstick for DRAW training (src/draw_model.c): one training step
 * (forward through T glimpses, BPTT, clipping, Adam) = gl_draw_train_batch, timed exactly like
 * tests/bench/draw_train.js times the wasm builds (bench_common.h) and printed as JSON for
 * tests/bench/bench.js. Built by ./build.sh as build/native/bench_draw (SSE4.1 branch of simd.h)
 * and build/native-scalar/bench_draw (scalar branch).
 *
 * Usage: bench_draw [timing flags of bench_common.h] [--seed K] [--batch B] [--T n]
 *          [--readN n] [--writeN n] [--hidden n] [--latent n] [--attention 0|1]
 * Data: B images of 28x28 with U(0, 1) pixels (thresholded at 0.5 by the model), the same batch
 * every step.
 */
#include "bench_common.h"
#include "draw_model.h"

typedef struct {
    void *m;
    float *images;
    int B;
} bench_case;

static int step(void *ctx) {
    bench_case *b = ctx;
    float out[4];
    return gl_draw_train_batch(b->m, out, b->images, b->B);
}

int main(int argc, char **argv) {
    int B = 64, T = 16, Nr = 8, Nw = 10, Hd = 128, Z = 32, att = 1, seed = 1;
    bench_int_flag ints[] = {{"--seed", &seed},  {"--batch", &B},   {"--T", &T},        {"--readN", &Nr},
                             {"--writeN", &Nw},  {"--hidden", &Hd}, {"--latent", &Z},   {"--attention", &att},
                             {NULL, NULL}};
    bench_options spec = {"bench_draw", ints, NULL, NULL, NULL};
    bench_opts o;
    if (bench_parse(argc, argv, &spec, &o)) return 2;
    if (B < 1) {
        fprintf(stderr, "bench_draw: need --batch >= 1\n");
        return 2;
    }
    uint32_t cfg[9] = {(uint32_t)T, (uint32_t)Nr, (uint32_t)Nw, (uint32_t)Hd, (uint32_t)Z, (uint32_t)att, 28, 28,
                       (uint32_t)seed};
    bench_case b = {bench_model("bench_draw", GL_KIND_DRAW, cfg, 9), bench_floats("bench_draw", (size_t)B * 784), B};
    test_rng rng = {(uint32_t)seed};
    fill_uniform(&rng, b.images, (size_t)B * 784, 0.0f, 1.0f);
    bench_result r;
    bench_time("bench_draw: training step failed", step, &b, &o, &r);
    bench_json_begin(&o);
    printf("\"results\":[{\"batch\":%d,\"T\":%d,\"readN\":%d,\"writeN\":%d,\"hidden\":%d,\"latent\":%d,\"attention\":%d,", B,
           T, Nr, Nw, Hd, Z, att);
    bench_json_result(&r, &o);
    printf("}]}\n");
    gl_model_free(b.m);
    free(b.images);
    return 0;
}
