/* bench_ntm.c: native speed yardstick for NTM copy-task training (src/ntm_model.c), timed exactly
 * like tests/bench/ntm_train.js times the wasm builds (bench_common.h), printed as JSON for
 * tests/bench/bench.js. Built by ./build.sh as build/native/bench_ntm (SSE4.1 branch of simd.h)
 * and build/native-scalar/bench_ntm (scalar branch).
 *
 * Usage: bench_ntm [timing flags of bench_common.h] [--seed K] [--batch B]
 *                  [--min-length L] [--max-length L]
 * One timed call = one gl_ntm_train_copy step (forward, BPTT, clipping, Adam) for each length
 * L = min..max with `batch` random sequences of length L: batch * (max-min+1) sequences. The model
 * is the default one (8 bits, 128x20 memory, LSTM 100, one read and one write head, shift -1..1).
 */
#include "bench_common.h"
#include "ntm_model.h"

typedef struct {
    void *model;
    int batch, minL, maxL;
    float last_loss;
} bench_case;

static int run_unit(void *ctx) {
    bench_case *b = ctx;
    float out[4];
    for (int L = b->minL; L <= b->maxL; L++) {
        int rc = gl_ntm_train_copy(b->model, out, b->batch, L, L);
        if (rc) return rc;
        b->last_loss = out[0];
    }
    return 0;
}

int main(int argc, char **argv) {
    int batch = 16, minL = 1, maxL = 20, seed = 1;
    bench_int_flag ints[] = {{"--seed", &seed}, {"--batch", &batch}, {"--min-length", &minL}, {"--max-length", &maxL},
                             {NULL, NULL}};
    bench_options spec = {"bench_ntm", ints, NULL, NULL, NULL};
    bench_opts o;
    if (bench_parse(argc, argv, &spec, &o)) return 2;
    if (batch < 1 || minL < 1 || maxL < minL) {
        fprintf(stderr, "bench_ntm: need --batch >= 1, 1 <= --min-length <= --max-length\n");
        return 2;
    }
    uint32_t cfg[9] = {8, 128, 20, 100, 0, 1, 1, 1, (uint32_t)seed};
    bench_case b = {bench_model("bench_ntm", GL_KIND_NTM, cfg, 9), batch, minL, maxL, 0.0f};
    bench_result r;
    bench_time("bench_ntm: gl_ntm_train_copy", run_unit, &b, &o, &r);
    bench_json_begin(&o);
    printf("\"sequencesPerCall\":%d,\"results\":[{\"pass\":\"train\",\"lastLoss\":%g,", batch * (maxL - minL + 1),
           (double)b.last_loss);
    bench_json_result(&r, &o);
    printf("}]}\n");
    gl_model_free(b.model);
    return 0;
}
