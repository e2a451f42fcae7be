/* lstm.c: the LSTM cell forward and backward (lstm.h), over gl_sgemm. */
#include "lstm.h"
#include "gemm.h"
#include "layers.h"

#include <string.h>

/* LSTM cell, gate order (i, f, g, o) as torch. */

void gl_lstm_forward(float *h, float *c, float *gates, float *tanh_c, const float *x, const float *h_prev,
                     const float *c_prev, const float *Wx, const float *Wh, const float *b, int B, int I, int Hd) {
    int G = 4 * Hd;
    float beta = 0.0f;
    if (b) {
        for (int r = 0; r < B; r++) memcpy(gates + (size_t)r * G, b, (size_t)G * sizeof(float));
        beta = 1.0f;
    }
    /* pre-activations (B, 4Hd) = x . Wx^T + h_prev . Wh^T + b */
    gl_sgemm(0, 1, B, G, I, 1.0f, x, I, Wx, I, beta, gates, G);
    if (h_prev) gl_sgemm(0, 1, B, G, Hd, 1.0f, h_prev, Hd, Wh, Hd, 1.0f, gates, G);
    for (int r = 0; r < B; r++) {
        float *g = gates + (size_t)r * G;
        for (int j = 0; j < Hd; j++) {
            float ig = gl_sigmoidf(g[j]);
            float fg = gl_sigmoidf(g[Hd + j]);
            float gg = gl_tanhf(g[2 * Hd + j]);
            float og = gl_sigmoidf(g[3 * Hd + j]);
            float cp = c_prev ? c_prev[(size_t)r * Hd + j] : 0.0f;
            float cn = fg * cp + ig * gg;
            float tc = gl_tanhf(cn);
            g[j] = ig;
            g[Hd + j] = fg;
            g[2 * Hd + j] = gg;
            g[3 * Hd + j] = og;
            c[(size_t)r * Hd + j] = cn;
            tanh_c[(size_t)r * Hd + j] = tc;
            h[(size_t)r * Hd + j] = og * tc;
        }
    }
}

void gl_lstm_backward(float *dx, float *dh_prev, float *dc_prev, float *dWx, float *dWh, float *db, float *dgates,
                      const float *dh, const float *dc, const float *gates, const float *tanh_c, const float *x,
                      const float *h_prev, const float *c_prev, const float *Wx, const float *Wh, int B, int I,
                      int Hd) {
    int G = 4 * Hd;
    for (int r = 0; r < B; r++) {
        const float *g = gates + (size_t)r * G;
        float *dg = dgates + (size_t)r * G;
        for (int j = 0; j < Hd; j++) {
            size_t k = (size_t)r * Hd + j;
            float ig = g[j], fg = g[Hd + j], gg = g[2 * Hd + j], og = g[3 * Hd + j];
            float tc = tanh_c[k], dhk = dh[k];
            float cp = c_prev ? c_prev[k] : 0.0f;
            /* c gets gradient from h = o tanh(c) and from step t+1 */
            float dct = (dc ? dc[k] : 0.0f) + dhk * og * (1.0f - tc * tc);
            dg[j] = dct * gg * ig * (1.0f - ig);
            dg[Hd + j] = dct * cp * fg * (1.0f - fg);
            dg[2 * Hd + j] = dct * ig * (1.0f - gg * gg);
            dg[3 * Hd + j] = dhk * tc * og * (1.0f - og);
            if (dc_prev) dc_prev[k] += dct * fg;
        }
    }
    if (dx) gl_sgemm(0, 0, B, I, G, 1.0f, dgates, G, Wx, I, 1.0f, dx, I);
    if (dh_prev) gl_sgemm(0, 0, B, Hd, G, 1.0f, dgates, G, Wh, Hd, 1.0f, dh_prev, Hd);
    if (dWx) gl_sgemm(1, 0, G, I, B, 1.0f, dgates, G, x, I, 1.0f, dWx, I);
    if (dWh && h_prev) gl_sgemm(1, 0, G, Hd, B, 1.0f, dgates, G, h_prev, Hd, 1.0f, dWh, Hd);
    if (db) gl_add_rows(db, dgates, B, G);
}

