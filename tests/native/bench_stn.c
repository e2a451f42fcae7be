/* bench_stn.c: native speed yardstick for the STN bilinear sampler (src/stn.c), timed exactly
 * like tests/bench/stn_sampler.js times the wasm builds (bench_common.h), and printed as JSON for
 * tests/bench/bench.js. Built by ./build.sh twice: build/native/bench_stn (SSE4.1 branch of
 * simd.h) and build/native-scalar/bench_stn (scalar branch).
 *
 * Usage: bench_stn [timing flags of bench_common.h] [--seed K] [--shape N,C,H,W,Ho,Wo]...
 * Without --shape it runs the three issue shapes.
 *
 * Passes: "fwd" = gl_grid_sample; "fwdbwd" = gl_grid_sample then gl_grid_sample_backward
 * computing both dInput and dGrid (accumulating; the buffers are not re-zeroed between calls).
 * Bilinear, zeros padding, align_corners = 0, grid from gl_affine_grid with theta = identity
 * + U(-0.1, 0.1) per entry, input U(0, 1), output gradient U(-1, 1).
 */
#include "bench_common.h"
#include "stn.h"

typedef struct {
    int N, C, H, W, Ho, Wo;
    float *inp, *grid, *out, *dout, *dinp, *dgrid; /* (N,C,H,W) (N,Ho,Wo,2) (N,C,Ho,Wo) x2 (N,C,H,W) (N,Ho,Wo,2) */
} bench_case;

static int run_fwd(void *ctx) {
    bench_case *b = ctx;
    return gl_grid_sample(b->out, b->inp, b->grid, b->N, b->C, b->H, b->W, b->Ho, b->Wo, GL_MODE_BILINEAR, GL_PAD_ZEROS, 0);
}

static int run_fwdbwd(void *ctx) {
    bench_case *b = ctx;
    int rc = run_fwd(b);
    return rc ? rc
              : gl_grid_sample_backward(b->dinp, b->dgrid, b->dout, b->inp, b->grid, b->N, b->C, b->H, b->W, b->Ho,
                                        b->Wo, GL_MODE_BILINEAR, GL_PAD_ZEROS, 0);
}

#define MAX_SHAPES 16

typedef struct {
    int shapes[MAX_SHAPES][6], nshapes;
} args;

static int option(void *ctx, const char *flag, const char *v) {
    args *a = ctx;
    if (strcmp(flag, "--shape")) return 0;
    if (!v) return 2;
    int *s = a->shapes[a->nshapes];
    if (a->nshapes == MAX_SHAPES || sscanf(v, "%d,%d,%d,%d,%d,%d", &s[0], &s[1], &s[2], &s[3], &s[4], &s[5]) != 6 ||
        s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 || s[4] <= 0 || s[5] <= 0) {
        fprintf(stderr, "bench_stn: --shape wants positive N,C,H,W,Ho,Wo (at most %d shapes), got %s\n", MAX_SHAPES, v);
        return -1;
    }
    a->nshapes++;
    return 2;
}

int main(int argc, char **argv) {
    args a = {.nshapes = 0};
    int seed = 1;
    bench_int_flag ints[] = {{"--seed", &seed}, {NULL, NULL}};
    bench_options spec = {"bench_stn", ints, option, &a, "--shape"};
    bench_opts o;
    if (bench_parse(argc, argv, &spec, &o)) return 2;
    if (a.nshapes == 0) {
        static const int dflt[3][6] = {{64, 1, 28, 28, 28, 28}, {64, 1, 60, 60, 28, 28}, {16, 32, 28, 28, 28, 28}};
        memcpy(a.shapes, dflt, sizeof dflt);
        a.nshapes = 3;
    }

    bench_json_begin(&o);
    printf("\"results\":[");
    test_rng rng = {(uint32_t)seed};
    for (int s = 0; s < a.nshapes; s++) {
        const int *sh = a.shapes[s];
        bench_case b = {sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], NULL, NULL, NULL, NULL, NULL, NULL};
        size_t nin = (size_t)b.N * b.C * b.H * b.W, nout = (size_t)b.N * b.C * b.Ho * b.Wo;
        size_t ngrid = (size_t)b.N * b.Ho * b.Wo * 2;
        b.inp = bench_floats("bench_stn", nin);
        b.dinp = bench_floats("bench_stn", nin);
        b.out = bench_floats("bench_stn", nout);
        b.dout = bench_floats("bench_stn", nout);
        b.grid = bench_floats("bench_stn", ngrid);
        b.dgrid = bench_floats("bench_stn", ngrid);
        float *theta = bench_floats("bench_stn", (size_t)b.N * 6);
        static const float ident[6] = {1, 0, 0, 0, 1, 0};
        for (int n = 0; n < b.N; n++)
            for (int k = 0; k < 6; k++) theta[6 * n + k] = ident[k] + rng_uniform(&rng, -0.1f, 0.1f);
        fill_uniform(&rng, b.inp, nin, 0.0f, 1.0f);
        fill_uniform(&rng, b.dout, nout, -1.0f, 1.0f);
        if (gl_affine_grid(b.grid, theta, b.N, b.Ho, b.Wo, 0)) {
            fprintf(stderr, "bench_stn: gl_affine_grid failed\n");
            return 1;
        }
        static const char *names[2] = {"fwd", "fwdbwd"};
        bench_fn fns[2] = {run_fwd, run_fwdbwd};
        for (int p = 0; p < 2; p++) {
            bench_result r;
            bench_time("bench_stn", fns[p], &b, &o, &r);
            printf("%s{\"shape\":[%d,%d,%d,%d,%d,%d],\"pass\":\"%s\",", s || p ? "," : "", b.N, b.C, b.H, b.W, b.Ho,
                   b.Wo, names[p]);
            bench_json_result(&r, &o);
            printf("}");
        }
        free(b.inp); free(b.dinp); free(b.out); free(b.dout); free(b.grid); free(b.dgrid); free(theta);
    }
    printf("]}\n");
    return 0;
}
