/* stn_dump.c: runs the native STN kernels on a case read from stdin and writes the results to
 * stdout, so tests/stn.test.js can check native == wasm-simd == wasm-scalar on the same inputs.
 * Built by ./build.sh as build/native/stn_dump and build/native-scalar/stn_dump.
 *
 * Input, little-endian: int32 magic 0x314E5453 ("STN1"), int32 op, then
 *   op 1 (grid sample):  int32 N C H W Ho Wo pad align; float32 input (N,C,H,W), grid (N,Ho,Wo,2),
 *                        dout (N,C,Ho,Wo)
 *                        -> float32 out (N,C,Ho,Wo), dinp (N,C,H,W), dgrid (N,Ho,Wo,2)   (bilinear)
 *   op 3 (grid sample):  the same with int32 N C H W Ho Wo mode pad align (GL_MODE_*)
 *   op 2 (affine grid):  int32 N H W align; float32 theta (N,2,3), dgrid (N,H,W,2)
 *                        -> float32 grid (N,H,W,2), dtheta (N,2,3)
 * Gradients start from zero. Exit status 1 with a message on stderr for malformed input or a
 * kernel error.
 */
#include "glimpse.h"
#include "stn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>


static int die(const char *msg) {
    fprintf(stderr, "stn_dump: %s\n", msg);
    return 1;
}

static int read_ints(int32_t *v, size_t n) { return fread(v, sizeof(int32_t), n, stdin) == n; }

/* n floats from stdin, or NULL (n must be positive and sane). */
static float *read_floats(size_t n) {
    if (n == 0 || n > GL_MAX_FLOATS) return NULL;
    float *p = malloc(n * sizeof(float));
    if (p && fread(p, sizeof(float), n, stdin) != n) {
        free(p);
        return NULL;
    }
    return p;
}

static int write_floats(const float *p, size_t n) { return fwrite(p, sizeof(float), n, stdout) == n; }

int main(void) {
    int32_t head[2];
    if (!read_ints(head, 2) || head[0] != 0x314E5453) return die("bad magic (expected int32 0x314E5453)");
    if (head[1] == 1 || head[1] == 3) {
        int32_t s[9];
        int m = head[1] == 3; /* op 3 has the mode before pad */
        if (!read_ints(s, 8 + m)) return die("truncated header");
        int N = s[0], C = s[1], H = s[2], W = s[3], Ho = s[4], Wo = s[5], mode = m ? s[6] : GL_MODE_BILINEAR;
        int pad = s[6 + m], align = s[7 + m];
        if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || Ho <= 0 || Wo <= 0) return die("sizes must be positive");
        size_t nin = (size_t)N * C * H * W, nout = (size_t)N * C * Ho * Wo, ngrid = (size_t)N * Ho * Wo * 2;
        float *inp = read_floats(nin), *grid = read_floats(ngrid), *dout = read_floats(nout);
        if (!inp || !grid || !dout) return die("truncated data");
        float *out = calloc(nout, sizeof(float)), *dinp = calloc(nin, sizeof(float)), *dgrid = calloc(ngrid, sizeof(float));
        if (!out || !dinp || !dgrid) return die("out of memory");
        if (gl_grid_sample(out, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align) ||
            gl_grid_sample_backward(dinp, dgrid, dout, inp, grid, N, C, H, W, Ho, Wo, mode, pad, align))
            return die(gl_last_error());
        if (!write_floats(out, nout) || !write_floats(dinp, nin) || !write_floats(dgrid, ngrid)) return die("write failed");
    } else if (head[1] == 2) {
        int32_t s[4];
        if (!read_ints(s, 4)) return die("truncated header");
        int N = s[0], H = s[1], W = s[2], align = s[3];
        if (N <= 0 || H <= 0 || W <= 0) return die("sizes must be positive");
        size_t ng = (size_t)N * H * W * 2;
        float *theta = read_floats(6 * (size_t)N), *dgrid = read_floats(ng);
        if (!theta || !dgrid) return die("truncated data");
        float *grid = calloc(ng, sizeof(float)), *dtheta = calloc(6 * (size_t)N, sizeof(float));
        if (!grid || !dtheta) return die("out of memory");
        if (gl_affine_grid(grid, theta, N, H, W, align) || gl_affine_grid_backward(dtheta, dgrid, N, H, W, align))
            return die(gl_last_error());
        if (!write_floats(grid, ng) || !write_floats(dtheta, 6 * (size_t)N)) return die("write failed");
    } else {
        return die("unknown op (expected 1 = grid sample, 2 = affine grid, 3 = grid sample with a mode)");
    }
    return fflush(stdout) == 0 ? 0 : die("write failed");
}
