/* bench_stn_train.c: native speed yardstick for STN training (src/stn_model.c), timed exactly like
 * tests/bench/stn_train.js times the wasm builds (bench_common.h), printed as JSON for
 * tests/bench/bench.js. Built by ./build.sh as build/native/bench_stn_train (SSE4.1 branch of
 * simd.h) and build/native-scalar/bench_stn_train (scalar branch).
 *
 * Usage: bench_stn_train [timing flags of bench_common.h] [--batch B] [--size S]
 * One timed call = one gl_stn_train_batch (forward, backward, clipping, SGD-momentum step) on a
 * batch of B size x size images, cycling over 8 pre-generated batches of U(0,1) pixels and random
 * labels; the model is the default one (the PyTorch tutorial's architecture, dropout 0.5,
 * SGD lr 0.01 momentum 0.9, clip 10), with the transformer ("st") and without it ("cnn").
 */
#include "bench_common.h"
#include "stn_model.h"

#define NB 8

typedef struct {
    void *model;
    float *images; /* (NB, B, S, S) */
    int32_t *labels; /* (NB, B) */
    int B, S, i;
} bench_case;

static int step(void *ctx) {
    bench_case *b = ctx;
    float out[4];
    size_t n = (size_t)b->B * b->S * b->S;
    int rc = gl_stn_train_batch(b->model, out, b->images + (size_t)b->i * n, b->labels + (size_t)b->i * b->B, b->B);
    b->i = (b->i + 1) % NB;
    return rc;
}

int main(int argc, char **argv) {
    int B = 64, S = 28;
    bench_int_flag ints[] = {{"--batch", &B}, {"--size", &S}, {NULL, NULL}};
    bench_options spec = {"bench_stn_train", ints, NULL, NULL, NULL};
    bench_opts o;
    if (bench_parse(argc, argv, &spec, &o)) return 2;
    if (B < 1 || S < 28 || S > 256) {
        fprintf(stderr, "bench_stn_train: need --batch >= 1, 28 <= --size <= 256\n");
        return 2;
    }
    test_rng r = {12345};
    size_t n = (size_t)NB * B * S * S;
    float *images = bench_floats("bench_stn_train", n);
    int32_t *labels = malloc((size_t)NB * B * sizeof(int32_t));
    if (!labels) return 1;
    fill_uniform(&r, images, n, 0.0f, 1.0f);
    for (int i = 0; i < NB * B; i++) labels[i] = (int32_t)(rng_uniform(&r, 0.0f, 10.0f)) % 10;
    bench_json_begin(&o);
    printf("\"batch\":%d,\"size\":%d,\"results\":[", B, S);
    const char *names[2] = {"st", "cnn"};
    for (int k = 0; k < 2; k++) {
        uint32_t cfg[5] = {(uint32_t)S, (uint32_t)S, 10, 1, k == 0 ? 1u : 0u};
        bench_case b = {bench_model("bench_stn_train", GL_KIND_STN, cfg, 5), images, labels, B, S, 0};
        bench_result res;
        bench_time("bench_stn_train", step, &b, &o, &res);
        gl_model_free(b.model);
        printf("%s{\"net\":\"%s\",", k ? "," : "", names[k]);
        bench_json_result(&res, &o);
        printf("}");
    }
    printf("]}\n");
    free(images);
    free(labels);
    return 0;
}
