/* draw_model.c: DRAW, the recurrent variational auto-encoder with selective attention
 * (Gregor, Danihelka, Graves, Rezende, Wierstra 2015, "DRAW: A Recurrent Neural Network For
 * Image Generation"), trained end to end in C.
 *
 * Per step t = 1..T, for a binary image x (H rows x W columns; the paper's B x A):
 *   x^_t   = x - sigmoid(c_{t-1})                                       (eq. 3)
 *   r_t    = read(x, x^_t, h^dec_{t-1})                                 (eq. 4)
 *            attention: gamma [Fy x Fx^T, Fy x^ Fx^T] (eq. 27), whose five parameters are a linear
 *            layer of h^dec_{t-1} (eq. 21), through src/draw.c's filterbank;
 *            no attention: [x, x^] (eq. 17)
 *   h^enc_t = LSTM_enc([r_t, h^dec_{t-1}], h^enc_{t-1})                 (eq. 5)
 *   mu_t, log sigma_t = linear(h^enc_t);  z_t = mu_t + sigma_t eps_t,  eps_t ~ N(0, I)  (eq. 1, 2)
 *   h^dec_t = LSTM_dec(z_t, h^dec_{t-1})                                (eq. 7)
 *   c_t    = c_{t-1} + write(h^dec_t)                                   (eq. 8)
 *            attention: (1/gamma^) Fy^^T w_t Fx^ (eq. 29) with w_t = linear(h^dec_t) (N x N) and
 *            its own five attention parameters = linear(h^dec_t) (eq. 28);
 *            no attention: linear(h^dec_t), a full-image canvas delta (eq. 18)
 * c_0 = 0 and h^enc_0 = c^enc_0 = h^dec_0 = c^dec_0 = 0, as in the paper.
 *
 * Loss per image (nats), the negative variational bound (eq. 9-12):
 *   L^x = -log D(x | c_T) = sum_pixels BCE(logit c_T, x)    (Bernoulli decoder, stable with logits)
 *   L^z = sum_t 1/2 sum_j (mu^2 + sigma^2 - log sigma^2 - 1)  (eq. 11)
 * and the batch loss is their mean over the batch.
 *
 * Numerical safety (long runs never give NaN):
 *   - log sigma of z and the five attention parameters go through a soft clamp
 *     y = mid + half tanh((y_raw - mid) / half) (near identity around 0, smooth, never outside
 *     (lo, hi)): log sigma within (-6, 6); attention (g~X, g~Y) within (-3, 3) (the grid centre
 *     stays within about one image of the frame), log sigma^2 within (-4, 7), log delta~ and
 *     log gamma within (-4, 4). So exp never overflows, sigma^2 >= 0.018 keeps the filters above
 *     draw.c's normaliser guard, and every parameter the kernels see is in their domain.
 *   - The canvas enters the loss as logits (BCE with logits, log1p(exp(-|z|))).
 *   - A training step whose loss or gradient is not finite is refused (GL_ENUMERIC) before the
 *     update: weights and optimiser state stay unchanged. Gradients are clipped to a maximum L2
 *     norm (clip_grad_norm_), then Adam.
 *
 * Binarisation (config word CF_BINARIZE), applied to every image batch the model receives
 * (pixels must lie in [0, 1]):
 *   0 threshold: x = (pixel > 0.5), deterministic (the default);
 *   1 stochastic: x ~ Bernoulli(pixel), a fresh draw per training step (the paper's data were
 *     binarised stochastically once). Evaluation calls draw from an RNG seeded by their `seed`
 *     argument, so they are repeatable; already-binary images are left unchanged by either mode,
 *     which is how a fixed binarisation of a test set is evaluated.
 *
 * Layout: every parameter tensor in one arena (params, grads, Adam m, Adam v share one size
 * table). Forward caches every step's activations in an activation arena ((T, batch, ...) per
 * tensor), grown to the largest batch seen; backward runs through time once per batch.
 */
#include "draw_model.h"
#include "draw.h"
#include "layers.h"
#include "model.h"
#include "pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Configuration words (saved in the weights file, src/weights.h), in this order; their names,
 * ranges, defaults and docs are the schema draw_fields below. A file with fewer words gets the
 * defaults for the rest. */

enum {
    CF_T,         /* glimpses (time steps) */
    CF_READN,     /* read patch N (attention) */
    CF_WRITEN,    /* write patch N (attention) */
    CF_HIDDEN,    /* LSTM size of the encoder and of the decoder */
    CF_LATENT,    /* size of z_t */
    CF_ATTENTION, /* 1 selective attention, 0 the paper's no-attention baseline */
    CF_H, CF_W,   /* image rows, columns */
    CF_SEED,
    CF_LR,        /* float, Adam learning rate */
    CF_CLIP,      /* float, max gradient L2 norm; 0 = off */
    CF_BETA1, CF_BETA2, /* float, Adam */
    CF_BINARIZE,  /* 0 threshold at 0.5, 1 stochastic */
    DRAW_NCONFIG
};

enum {
    P_RW, P_RB,          /* read attention linear (5, Hd), (5) */
    P_EWX, P_EWH, P_EB,  /* encoder LSTM (4Hd, R+Hd), (4Hd, Hd), (4Hd) */
    P_QW, P_QB,          /* [mu, log sigma] linear (2Z, Hd), (2Z) */
    P_DWX, P_DWH, P_DB,  /* decoder LSTM (4Hd, Z), (4Hd, Hd), (4Hd) */
    P_WW, P_WB,          /* write: patch (Nw*Nw, Hd), (Nw*Nw), or full canvas (H*W, Hd), (H*W) */
    P_AW, P_AB,          /* write attention linear (5, Hd), (5) */
    P_COUNT
};

/* Activations: per-step caches (T, nb, ...) and backward scratch (nb, ...). */
enum {
    A_X,                                  /* (nb, HW) binarised input */
    A_C,                                  /* (T+1, nb, HW) canvas logits c_0..c_T */
    A_S, A_XH,                            /* (T, nb, HW) sigmoid(c_{t-1}), x^_t */
    A_PRR, A_PR,                          /* (T, nb, 5) read attention raw, clamped */
    A_FXR, A_FYR, A_GR,                   /* (T, nb, Nr, W), (T, nb, Nr, H), (T, nb) */
    A_EIN,                                /* (T, nb, R+Hd) encoder input [r_t, h^dec_{t-1}] */
    A_HE, A_CE, A_GE, A_TCE,              /* encoder LSTM h, c, gates (4Hd), tanh(c) */
    A_Q,                                  /* (T, nb, 2Z) [mu, log sigma raw] */
    A_LS, A_EPS, A_Z,                     /* (T, nb, Z) clamped log sigma, eps, z */
    A_HD, A_CD, A_GD, A_TCD,              /* decoder LSTM */
    A_WP,                                 /* (T, nb, Nw*Nw) write patch */
    A_PWR, A_PW, A_FXW, A_FYW, A_GW,      /* write attention */
    D_C, D_XH, A_DELTA,                   /* (nb, HW) */
    D_HD, D_HD2, D_CD, D_CD2, D_HE, D_HE2, D_CE, D_CE2, /* (nb, Hd) */
    D_GATES,                              /* (nb, 4Hd) */
    D_Z, D_Q,                             /* (nb, Z), (nb, 2Z) */
    D_EIN, D_R,                           /* (nb, R+Hd), (nb, R) */
    D_WP, D_P, D_FX, D_FY, D_G,           /* write/read attention gradients */
    A_WS,                                 /* the attention kernels' scratch */
    A_COUNT
};

#define LOGSIGMA_LIM 6.0f
#define EVAL_CHUNK 16 /* images per inference chunk (each chunk: one task) */

/* Soft-clamp ranges (lo, hi) of the five attention parameters (g~X, g~Y, log sigma^2, log delta~,
 * log gamma): y = mid + half tanh((x - mid) / half). */
static const float att_lo[5] = {-3.0f, -3.0f, -4.0f, -4.0f, -7.0f};
static const float att_hi[5] = {3.0f, 3.0f, 7.0f, 4.0f, 7.0f};

/* One activation context: a shard in training, a thread in inference. */
typedef struct {
    gl_arena act;
    float *a[A_COUNT];
    int cap; /* items it is laid out for */
} draw_ctx;

typedef struct {
    gl_model base; /* config, parameters, gradients, Adam, random streams (model.h) */
    int T, Nr, Nw, Hd, Z, att, H, W, HW, R, EI, binarize;
    draw_ctx ctx[GL_MAX_CONTEXTS];
} draw_model;

/* The configuration schema (model.h), in CF_* order. The defaults are the settings of the shipped
 * 'draw-mnist' model (scripts/train_draw.js), chosen for a short CPU budget rather than the paper's
 * T = 64, LSTM 256, z 100, read 2x2, write 5x5: T = 16 and LSTM 128 train about 10x faster per
 * image, and with so few glimpses small patches were the bottleneck in short runs (test bound after
 * 200 batches of 64: read 5x5 / write 5x5 166 nats, 5x5 / 10x10 143, 8x8 / 10x10 128; with a 2x2
 * read the posterior stayed at the prior for hundreds of steps). */
static const gl_field draw_fields[DRAW_NCONFIG] = {
    [CF_T] = {"T", GL_FIELD_INT, 1, 256, 16, 0, 0, "Glimpses (time steps)"},
    [CF_READN] = {"readN", GL_FIELD_INT, 1, 64, 8, 0, 0, "Read patch size N (an N x N grid of filters)"},
    [CF_WRITEN] = {"writeN", GL_FIELD_INT, 1, 64, 10, 0, 0, "Write patch size N"},
    [CF_HIDDEN] = {"hidden", GL_FIELD_INT, 1, 4096, 128, 0, 0, "LSTM size of the encoder and of the decoder"},
    [CF_LATENT] = {"latent", GL_FIELD_INT, 1, 4096, 32, 0, 0, "Size of the latent z_t"},
    [CF_ATTENTION] = {"attention", GL_FIELD_BOOL, 0, 1, 1, 0, 0,
                      "Selective attention (true) or the paper's no-attention baseline (false)"},
    [CF_H] = {"height", GL_FIELD_INT, 2, 512, 28, 0, 0, "Image rows"},
    [CF_W] = {"width", GL_FIELD_INT, 2, 512, 28, 0, 0, "Image columns"},
    [CF_SEED] = {"seed", GL_FIELD_INT, 0, 4294967295.0, 0, 0, 0, "Seed of the initialisation, eps and binarisation draws"},
    [CF_LR] = {"learningRate", GL_FIELD_FLOAT, 1e-12, 100, 1e-3, 0, 0, "Adam learning rate"},
    [CF_CLIP] = {"clipNorm", GL_FIELD_FLOAT, 0, 1e30, 10, 0, 0, "Clip the gradient to this L2 norm (0 = off)"},
    [CF_BETA1] = {"beta1", GL_FIELD_FLOAT, 0, 0.9999, 0.9, 0, 0, "Adam's beta1"},
    [CF_BETA2] = {"beta2", GL_FIELD_FLOAT, 0, 0.999999, 0.999, 0, 0, "Adam's beta2"},
    [CF_BINARIZE] = {"binarize", GL_FIELD_ENUM, 0, 0, 0, "threshold|stochastic", 0,
                     "'threshold' (pixel > 0.5) or 'stochastic' (a fresh Bernoulli draw per training step)"},
};

static const char *const draw_tensor_names[P_COUNT] = {
    "read.weight", "read.bias", "encoder.weight_ih", "encoder.weight_hh", "encoder.bias", "q.weight", "q.bias",
    "decoder.weight_ih", "decoder.weight_hh", "decoder.bias", "write.weight", "write.bias", "write_attention.weight",
    "write_attention.bias",
};

static int draw_configure(gl_model *base) {
    draw_model *m = (draw_model *)base;
    const uint32_t *c = base->cfg;
    m->T = (int)c[CF_T]; m->att = (int)c[CF_ATTENTION];
    m->Nr = m->att ? (int)c[CF_READN] : 0; m->Nw = m->att ? (int)c[CF_WRITEN] : 0;
    m->Hd = (int)c[CF_HIDDEN]; m->Z = (int)c[CF_LATENT];
    m->H = (int)c[CF_H]; m->W = (int)c[CF_W]; m->HW = m->H * m->W;
    m->R = m->att ? 2 * m->Nr * m->Nr : 2 * m->HW;
    m->EI = m->R + m->Hd;
    m->binarize = (int)c[CF_BINARIZE];
    if (!gl_size(4 * (size_t)m->Hd, (size_t)m->EI, 1, 1) || !gl_size((size_t)m->HW, (size_t)m->Hd, 1, 1))
        return gl_fail(GL_ENOMEM, "draw: layers too large");
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters. */

static void draw_tensor_sizes(const gl_model *base, size_t *s) {
    const draw_model *m = (const draw_model *)base;
    size_t Hd = (size_t)m->Hd, Z = (size_t)m->Z, G = 4 * Hd;
    size_t nw = m->att ? (size_t)m->Nw * m->Nw : (size_t)m->HW;
    s[P_RW] = m->att ? 5 * Hd : 0;
    s[P_RB] = m->att ? 5 : 0;
    s[P_EWX] = G * (size_t)m->EI;
    s[P_EWH] = G * Hd;
    s[P_EB] = G;
    s[P_QW] = 2 * Z * Hd;
    s[P_QB] = 2 * Z;
    s[P_DWX] = G * Z;
    s[P_DWH] = G * Hd;
    s[P_DB] = G;
    s[P_WW] = nw * Hd;
    s[P_WB] = nw;
    s[P_AW] = m->att ? 5 * Hd : 0;
    s[P_AB] = m->att ? 5 : 0;
}

/* The bias of log sigma^2 that makes each filter's standard deviation half the stride of a grid
 * spanning the image (delta~ = 1): an N x N grid then starts as a blurred N x N view of the whole
 * image. Sharp filters (sigma = 1) at the grid's corner positions would read the blank border of
 * a digit for N = 2, and the encoder would start with nothing to encode (the posterior
 * collapses onto the prior: seen in practice). */
static float init_log_s2(int N, int H, int W) {
    float L = (float)(H > W ? H : W), d = (L - 1.0f) / (float)(N > 1 ? N - 1 : 1);
    return 2.0f * logf(0.5f * d);
}

/* PyTorch's defaults: Linear and LSTMCell weights and biases uniform +-1/sqrt(fan_in)
 * (fan_in = Hd for LSTMCell), except the log sigma^2 biases of the two attention layers
 * (init_log_s2). g~ ~ 0 centres the grids, log delta~ ~ 0 spans the image, gamma ~ 1. */
static void draw_init(gl_model *base) {
    draw_model *m = (draw_model *)base;
    gl_rng *r = &base->init_rng;
    float bh = gl_fan_in_bound(m->Hd);
    for (int i = 0; i < P_COUNT; i++) gl_init_uniform(m->base.p[i], m->base.psize[i], bh, r);
    if (m->att) {
        m->base.p[P_RB][2] = init_log_s2(m->Nr, m->H, m->W);
        float ls2 = init_log_s2(m->Nw, m->H, m->W);
        m->base.p[P_AB][2] = ls2;
        m->base.p[P_AB][4] = -logf(6.2831853f) - ls2;   /* write: 1/gamma = 2 pi sigma^2 */
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Activations. */

static int layout_acts(draw_model *m, draw_ctx *cx, int nb) {
    size_t s[A_COUNT];
    memset(s, 0, sizeof s);
    size_t b = (size_t)nb, T = (size_t)m->T, HW = (size_t)m->HW, Hd = (size_t)m->Hd, Z = (size_t)m->Z;
    size_t Nr = (size_t)m->Nr, Nw = (size_t)m->Nw, H = (size_t)m->H, W = (size_t)m->W;
    size_t Nmax = Nr > Nw ? Nr : Nw;
    /* wasm's size_t is 32 bits: the largest products below (every other one is at most a few times
     * one of these) must not wrap, or a tensor could be laid out with 0 floats (T 256, B 256 of
     * 256x256 images: T*B*HW = 2^32) */
    if (!gl_size(T + 1, b, HW, 1) || !gl_size(T, b, (size_t)m->EI, 1) || !gl_size(T, b, 4 * Hd, 1) ||
        !gl_size(T, b, 2 * Z, 1) || (m->att && (!gl_size(T, b, Nmax, H > W ? H : W) || !gl_size(T, b, Nw, Nw))))
        return gl_fail(GL_ENOMEM, "draw: batch of %d is too large", nb);
    s[A_X] = b * HW;
    s[A_C] = (T + 1) * b * HW;
    s[A_S] = s[A_XH] = T * b * HW;
    if (m->att) {
        s[A_PRR] = s[A_PR] = s[A_PWR] = s[A_PW] = T * b * 5;
        s[A_FXR] = T * b * Nr * W;
        s[A_FYR] = T * b * Nr * H;
        s[A_GR] = s[A_GW] = T * b;
        s[A_WP] = T * b * Nw * Nw;
        s[A_FXW] = T * b * Nw * W;
        s[A_FYW] = T * b * Nw * H;
        s[D_WP] = b * Nw * Nw;
        s[D_P] = b * 5;
        s[D_FX] = b * Nmax * W;
        s[D_FY] = b * Nmax * H;
        s[D_G] = b;
        s[D_R] = b * (size_t)m->R;
    }
    s[A_EIN] = T * b * (size_t)m->EI;
    s[A_HE] = s[A_CE] = s[A_TCE] = s[A_HD] = s[A_CD] = s[A_TCD] = T * b * Hd;
    s[A_GE] = s[A_GD] = T * b * 4 * Hd;
    s[A_Q] = T * b * 2 * Z;
    s[A_LS] = s[A_EPS] = s[A_Z] = T * b * Z;
    s[D_C] = s[D_XH] = s[A_DELTA] = b * HW;
    s[D_HD] = s[D_HD2] = s[D_CD] = s[D_CD2] = s[D_HE] = s[D_HE2] = s[D_CE] = s[D_CE2] = b * Hd;
    s[D_GATES] = b * 4 * Hd;
    s[D_Z] = b * Z;
    s[D_Q] = b * 2 * Z;
    s[D_EIN] = b * (size_t)m->EI;
    if (m->att) s[A_WS] = gl_draw_ws_floats((int)Nmax, m->W, m->H);
    size_t total = 0;
    for (int i = 0; i < A_COUNT; i++) {
        if (s[i] > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "draw: batch of %d is too large", nb);
        total += gl_arena_round(s[i]);
        if (total > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "draw: batch of %d needs too much memory", nb);
    }
    gl_arena_free(&cx->act);
    cx->cap = 0;
    int err = gl_arena_layout(&cx->act, cx->a, s, A_COUNT);
    if (err) {
        gl_arena_free(&cx->act);
        return err;
    }
    cx->cap = nb;
    return GL_OK;
}

/* gl_model_job.ensure: context c laid out for n items. */
static int draw_ensure(gl_model *base, int c, int n, void *arg) {
    (void)arg;
    draw_model *m = (draw_model *)base;
    return n <= m->ctx[c].cap ? GL_OK : layout_acts(m, &m->ctx[c], n);
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers. */

/* y = mid + half tanh((x - mid) / half) per column k of (nb, 5) attention parameters: the soft
 * clamp into (att_lo[k], att_hi[k]). A NaN (from non-finite weights) is GL_ENUMERIC. */
static int att_clamp(float *y, const float *x, int nb) {
    for (int n = 0; n < nb; n++)
        for (int k = 0; k < 5; k++) {
            float mid = 0.5f * (att_lo[k] + att_hi[k]), half = 0.5f * (att_hi[k] - att_lo[k]);
            float v = mid + half * tanhf((x[5 * n + k] - mid) / half);
            if (!(v == v))
                return gl_fail(GL_ENUMERIC, "draw: an attention parameter is not finite (non-finite weights); "
                                            "step refused, weights unchanged");
            y[5 * n + k] = v;
        }
    return GL_OK;
}
/* d *= dy/dx of the clamp, from the clamped values y. */
static void att_clamp_backward(float *d, const float *y, int nb) {
    for (int n = 0; n < nb; n++)
        for (int k = 0; k < 5; k++) {
            float mid = 0.5f * (att_lo[k] + att_hi[k]), half = 0.5f * (att_hi[k] - att_lo[k]);
            float u = (y[5 * n + k] - mid) / half;
            d[5 * n + k] *= 1.0f - u * u;
        }
}

/* out (nb, O) = broadcast bias, for a linear layer whose input is the zero state h_0. */
static void bias_rows(float *out, const float *bias, int nb, int O) {
    for (int n = 0; n < nb; n++) memcpy(out + (size_t)n * O, bias, (size_t)O * sizeof(float));
}

/* Copy rows of width w from src (stride ss) to dst (stride ds). */
static void copy_rows(float *dst, size_t ds, const float *src, size_t ss, int rows, int w) {
    for (int r = 0; r < rows; r++) memcpy(dst + (size_t)r * ds, src + (size_t)r * ss, (size_t)w * sizeof(float));
}

/* Binarise images (nb, HW) in [0, 1] into x: threshold at 0.5, or Bernoulli draws from rng. */
static void binarize(const draw_model *m, float *x, const float *images, size_t n, gl_rng *rng) {
    if (m->binarize == 1 && rng) {
        for (size_t i = 0; i < n; i++) x[i] = gl_rng_uniform(rng) < images[i] ? 1.0f : 0.0f;
    } else {
        for (size_t i = 0; i < n; i++) x[i] = images[i] > 0.5f ? 1.0f : 0.0f;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Forward. */

/* The decoder half of step t (0-based): h^dec_t from z_t (already in A_Z), then the canvas
 * c_{t+1} = c_t + write(h^dec_t). Shared by the full pass and by generation. */
static int decoder_step(draw_model *m, draw_ctx *cx, int t, int nb) {
    const int Hd = m->Hd, Z = m->Z, HW = m->HW;
    const size_t bH = (size_t)nb * Hd;
    const float *hdp = t ? cx->a[A_HD] + (t - 1) * bH : NULL, *cdp = t ? cx->a[A_CD] + (t - 1) * bH : NULL;
    float *hd = cx->a[A_HD] + t * bH;
    const float *z = cx->a[A_Z] + (size_t)t * nb * Z;
    gl_lstm_forward(hd, cx->a[A_CD] + t * bH, cx->a[A_GD] + t * bH * 4, cx->a[A_TCD] + t * bH, z, hdp, cdp,
                    m->base.p[P_DWX], m->base.p[P_DWH], m->base.p[P_DB], nb, Z, Hd); /* eq. 7 */
    const float *cprev = cx->a[A_C] + (size_t)t * nb * HW;
    float *cnext = cx->a[A_C] + (size_t)(t + 1) * nb * HW;
    size_t n = (size_t)nb * HW;
    if (m->att) { /* eq. 28-29 */
        int Nw = m->Nw, NN = Nw * Nw;
        float *wp = cx->a[A_WP] + (size_t)t * nb * NN;
        float *pwr = cx->a[A_PWR] + (size_t)t * nb * 5, *pw = cx->a[A_PW] + (size_t)t * nb * 5;
        float *fx = cx->a[A_FXW] + (size_t)t * nb * Nw * m->W, *fy = cx->a[A_FYW] + (size_t)t * nb * Nw * m->H;
        float *gw = cx->a[A_GW] + (size_t)t * nb;
        gl_linear_forward(wp, hd, m->base.p[P_WW], m->base.p[P_WB], nb, Hd, NN);
        gl_linear_forward(pwr, hd, m->base.p[P_AW], m->base.p[P_AB], nb, Hd, 5);
        int err = att_clamp(pw, pwr, nb);
        if (!err) err = gl_draw_filterbank_serial(NULL, fx, fy, gw, pw, nb, Nw, m->W, m->H);
        if (!err) err = gl_draw_write_serial(cx->a[A_WS], cx->a[A_DELTA], wp, fx, fy, gw, nb, Nw, m->W, m->H);
        if (err) return err;
        const float *d = cx->a[A_DELTA];
        for (size_t i = 0; i < n; i++) cnext[i] = cprev[i] + d[i];
    } else { /* eq. 18 */
        gl_linear_forward(cnext, hd, m->base.p[P_WW], m->base.p[P_WB], nb, Hd, HW);
        for (size_t i = 0; i < n; i++) cnext[i] += cprev[i];
    }
    return GL_OK;
}

/* The full pass over x = a[A_X] (nb, HW), eps ~ N(0, I) from rng (eps = 0 when rng is NULL:
 * the posterior means). Returns the loss terms summed over the batch in out2[0] (L^x) and
 * out2[1] (L^z), and leaves d loss/d c_T * scale in D_C when dscale > 0. */
static int forward(draw_model *m, draw_ctx *cx, int nb, gl_rng *rng, double *out2, float dscale) {
    const int T = m->T, Hd = m->Hd, Z = m->Z, HW = m->HW, EI = m->EI, R = m->R;
    const size_t bH = (size_t)nb * Hd, n = (size_t)nb * HW;
    const float *x = cx->a[A_X];
    memset(cx->a[A_C], 0, n * sizeof(float)); /* c_0 = 0 */
    double kl = 0.0;
    for (int t = 0; t < T; t++) {
        const float *cprev = cx->a[A_C] + (size_t)t * n;
        float *s = cx->a[A_S] + (size_t)t * n, *xh = cx->a[A_XH] + (size_t)t * n;
        for (size_t i = 0; i < n; i++) { /* eq. 3 */
            s[i] = gl_sigmoidf(cprev[i]);
            xh[i] = x[i] - s[i];
        }
        const float *hdp = t ? cx->a[A_HD] + (t - 1) * bH : NULL;
        float *ein = cx->a[A_EIN] + (size_t)t * nb * EI;
        if (m->att) { /* eq. 21-27 */
            int Nr = m->Nr;
            float *prr = cx->a[A_PRR] + (size_t)t * nb * 5, *pr = cx->a[A_PR] + (size_t)t * nb * 5;
            float *fx = cx->a[A_FXR] + (size_t)t * nb * Nr * m->W, *fy = cx->a[A_FYR] + (size_t)t * nb * Nr * m->H;
            float *gr = cx->a[A_GR] + (size_t)t * nb;
            if (hdp) gl_linear_forward(prr, hdp, m->base.p[P_RW], m->base.p[P_RB], nb, Hd, 5);
            else bias_rows(prr, m->base.p[P_RB], nb, 5);
            int err = att_clamp(pr, prr, nb);
            if (!err) err = gl_draw_filterbank_serial(NULL, fx, fy, gr, pr, nb, Nr, m->W, m->H);
            if (!err) err = gl_draw_read_serial(cx->a[A_WS], cx->a[D_R], x, xh, fx, fy, gr, nb, Nr, m->W, m->H);
            if (err) return err;
            copy_rows(ein, (size_t)EI, cx->a[D_R], (size_t)R, nb, R);
        } else { /* eq. 17 */
            copy_rows(ein, (size_t)EI, x, (size_t)HW, nb, HW);
            copy_rows(ein + HW, (size_t)EI, xh, (size_t)HW, nb, HW);
        }
        for (int b = 0; b < nb; b++) {
            float *e = ein + (size_t)b * EI + R;
            if (hdp) memcpy(e, hdp + (size_t)b * Hd, (size_t)Hd * sizeof(float));
            else memset(e, 0, (size_t)Hd * sizeof(float));
        }
        const float *hep = t ? cx->a[A_HE] + (t - 1) * bH : NULL, *cep = t ? cx->a[A_CE] + (t - 1) * bH : NULL;
        float *he = cx->a[A_HE] + t * bH;
        gl_lstm_forward(he, cx->a[A_CE] + t * bH, cx->a[A_GE] + t * bH * 4, cx->a[A_TCE] + t * bH, ein, hep, cep,
                        m->base.p[P_EWX], m->base.p[P_EWH], m->base.p[P_EB], nb, EI, Hd); /* eq. 5 */
        float *q = cx->a[A_Q] + (size_t)t * nb * 2 * Z;
        gl_linear_forward(q, he, m->base.p[P_QW], m->base.p[P_QB], nb, Hd, 2 * Z);
        float *ls = cx->a[A_LS] + (size_t)t * nb * Z, *eps = cx->a[A_EPS] + (size_t)t * nb * Z;
        float *z = cx->a[A_Z] + (size_t)t * nb * Z;
        for (int b = 0; b < nb; b++) /* eq. 1-2 (reparameterised), KL eq. 11 */
            for (int j = 0; j < Z; j++) {
                size_t k = (size_t)b * Z + j;
                float mu = q[(size_t)b * 2 * Z + j];
                float l = LOGSIGMA_LIM * tanhf(q[(size_t)b * 2 * Z + Z + j] / LOGSIGMA_LIM);
                float sg = expf(l), e = rng ? gl_rng_normal(rng) : 0.0f;
                ls[k] = l;
                eps[k] = e;
                z[k] = mu + sg * e;
                kl += 0.5 * ((double)mu * mu + (double)sg * sg - 2.0 * l - 1.0);
            }
        int err = decoder_step(m, cx, t, nb);
        if (err) return err;
    }
    const float *cT = cx->a[A_C] + (size_t)T * n;
    float *dc = cx->a[D_C];
    if (dscale > 0.0f) memset(dc, 0, n * sizeof(float));
    out2[0] = gl_bce_logits(dscale > 0.0f ? dc : NULL, cT, x, n, dscale); /* eq. 9 */
    out2[1] = kl;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Backward through time: from D_C (= d loss / d c_T) into m->g (accumulating). inv: the loss
 * scale (1 / batch) of the KL term. */
static int backward(draw_model *m, draw_ctx *cx, float *const *g, int nb, float inv) {
    const int T = m->T, Hd = m->Hd, Z = m->Z, HW = m->HW, EI = m->EI, R = m->R;
    const size_t bH = (size_t)nb * Hd, n = (size_t)nb * HW;
    const float *x = cx->a[A_X];
    float *dC = cx->a[D_C], *dxh = cx->a[D_XH];
    float *dhd = cx->a[D_HD], *dhd2 = cx->a[D_HD2], *dcd = cx->a[D_CD], *dcd2 = cx->a[D_CD2];
    float *dhe = cx->a[D_HE], *dhe2 = cx->a[D_HE2], *dce = cx->a[D_CE], *dce2 = cx->a[D_CE2];
    float *dz = cx->a[D_Z], *dq = cx->a[D_Q], *dein = cx->a[D_EIN];
    memset(dhd, 0, bH * sizeof(float));
    memset(dcd, 0, bH * sizeof(float));
    memset(dhe, 0, bH * sizeof(float));
    memset(dce, 0, bH * sizeof(float));
    for (int t = T - 1; t >= 0; t--) {
        const float *hd = cx->a[A_HD] + t * bH;
        const float *hdp = t ? cx->a[A_HD] + (t - 1) * bH : NULL, *cdp = t ? cx->a[A_CD] + (t - 1) * bH : NULL;
        /* write (eq. 29 / 18): the canvas delta's gradient is dC */
        if (m->att) {
            int Nw = m->Nw, NN = Nw * Nw;
            const float *wp = cx->a[A_WP] + (size_t)t * nb * NN, *pw = cx->a[A_PW] + (size_t)t * nb * 5;
            const float *fx = cx->a[A_FXW] + (size_t)t * nb * Nw * m->W, *fy = cx->a[A_FYW] + (size_t)t * nb * Nw * m->H;
            const float *gw = cx->a[A_GW] + (size_t)t * nb;
            float *dwp = cx->a[D_WP], *dp = cx->a[D_P], *dfx = cx->a[D_FX], *dfy = cx->a[D_FY], *dg = cx->a[D_G];
            memset(dwp, 0, (size_t)nb * NN * sizeof(float));
            memset(dp, 0, (size_t)nb * 5 * sizeof(float));
            memset(dfx, 0, (size_t)nb * Nw * m->W * sizeof(float));
            memset(dfy, 0, (size_t)nb * Nw * m->H * sizeof(float));
            memset(dg, 0, (size_t)nb * sizeof(float));
            int err = gl_draw_write_backward_serial(cx->a[A_WS], dwp, dfx, dfy, dg, dC, wp, fx, fy, gw, nb, Nw, m->W, m->H);
            if (!err) err = gl_draw_filterbank_backward_serial(cx->a[A_WS], dp, dfx, dfy, dg, pw, nb, Nw, m->W, m->H);
            if (err) return err;
            att_clamp_backward(dp, pw, nb);
            gl_linear_backward(dhd, g[P_AW], g[P_AB], dp, hd, m->base.p[P_AW], nb, Hd, 5);
            gl_linear_backward(dhd, g[P_WW], g[P_WB], dwp, hd, m->base.p[P_WW], nb, Hd, NN);
        } else {
            gl_linear_backward(dhd, g[P_WW], g[P_WB], dC, hd, m->base.p[P_WW], nb, Hd, HW);
        }
        /* decoder LSTM (eq. 7) */
        memset(dhd2, 0, bH * sizeof(float));
        memset(dcd2, 0, bH * sizeof(float));
        memset(dz, 0, (size_t)nb * Z * sizeof(float));
        const float *z = cx->a[A_Z] + (size_t)t * nb * Z;
        gl_lstm_backward(dz, t ? dhd2 : NULL, t ? dcd2 : NULL, g[P_DWX], g[P_DWH], g[P_DB], cx->a[D_GATES],
                         dhd, dcd, cx->a[A_GD] + t * bH * 4, cx->a[A_TCD] + t * bH, z, hdp, cdp, m->base.p[P_DWX],
                         m->base.p[P_DWH], nb, Z, Hd);
        /* sampling and KL: z = mu + exp(ls) eps, KL = 1/2 (mu^2 + exp(2 ls) - 2 ls - 1) */
        const float *q = cx->a[A_Q] + (size_t)t * nb * 2 * Z;
        const float *ls = cx->a[A_LS] + (size_t)t * nb * Z, *eps = cx->a[A_EPS] + (size_t)t * nb * Z;
        for (int b = 0; b < nb; b++)
            for (int j = 0; j < Z; j++) {
                size_t k = (size_t)b * Z + j;
                float mu = q[(size_t)b * 2 * Z + j], sg = expf(ls[k]);
                float dls = dz[k] * sg * eps[k] + inv * (sg * sg - 1.0f);
                float u = ls[k] / LOGSIGMA_LIM;
                dq[(size_t)b * 2 * Z + j] = dz[k] + inv * mu;
                dq[(size_t)b * 2 * Z + Z + j] = dls * (1.0f - u * u);
            }
        const float *he = cx->a[A_HE] + t * bH;
        gl_linear_backward(dhe, g[P_QW], g[P_QB], dq, he, m->base.p[P_QW], nb, Hd, 2 * Z);
        /* encoder LSTM (eq. 5) */
        memset(dhe2, 0, bH * sizeof(float));
        memset(dce2, 0, bH * sizeof(float));
        memset(dein, 0, (size_t)nb * EI * sizeof(float));
        const float *hep = t ? cx->a[A_HE] + (t - 1) * bH : NULL, *cep = t ? cx->a[A_CE] + (t - 1) * bH : NULL;
        const float *ein = cx->a[A_EIN] + (size_t)t * nb * EI;
        gl_lstm_backward(dein, t ? dhe2 : NULL, t ? dce2 : NULL, g[P_EWX], g[P_EWH], g[P_EB], cx->a[D_GATES],
                         dhe, dce, cx->a[A_GE] + t * bH * 4, cx->a[A_TCE] + t * bH, ein, hep, cep, m->base.p[P_EWX],
                         m->base.p[P_EWH], nb, EI, Hd);
        if (t) /* the encoder input's h^dec_{t-1} part */
            for (int b = 0; b < nb; b++) {
                const float *src = dein + (size_t)b * EI + R;
                float *dst = dhd2 + (size_t)b * Hd;
                for (int j = 0; j < Hd; j++) dst[j] += src[j];
            }
        /* read (eq. 27 / 17) */
        const float *xh = cx->a[A_XH] + (size_t)t * n;
        if (m->att) {
            int Nr = m->Nr;
            const float *pr = cx->a[A_PR] + (size_t)t * nb * 5;
            const float *fx = cx->a[A_FXR] + (size_t)t * nb * Nr * m->W, *fy = cx->a[A_FYR] + (size_t)t * nb * Nr * m->H;
            const float *gr = cx->a[A_GR] + (size_t)t * nb;
            float *dp = cx->a[D_P], *dfx = cx->a[D_FX], *dfy = cx->a[D_FY], *dg = cx->a[D_G], *dr = cx->a[D_R];
            copy_rows(dr, (size_t)R, dein, (size_t)EI, nb, R);
            memset(dxh, 0, n * sizeof(float));
            memset(dp, 0, (size_t)nb * 5 * sizeof(float));
            memset(dfx, 0, (size_t)nb * Nr * m->W * sizeof(float));
            memset(dfy, 0, (size_t)nb * Nr * m->H * sizeof(float));
            memset(dg, 0, (size_t)nb * sizeof(float));
            int err = gl_draw_read_backward_serial(cx->a[A_WS], NULL, dxh, dfx, dfy, dg, dr, x, xh, fx, fy, gr, nb, Nr, m->W, m->H);
            if (!err) err = gl_draw_filterbank_backward_serial(cx->a[A_WS], dp, dfx, dfy, dg, pr, nb, Nr, m->W, m->H);
            if (err) return err;
            att_clamp_backward(dp, pr, nb);
            if (t) gl_linear_backward(dhd2, g[P_RW], g[P_RB], dp, hdp, m->base.p[P_RW], nb, Hd, 5);
            else gl_linear_backward(NULL, NULL, g[P_RB], dp, NULL, m->base.p[P_RW], nb, Hd, 5);
        } else {
            copy_rows(dxh, (size_t)HW, dein + HW, (size_t)EI, nb, HW);
        }
        /* x^_t = x - sigmoid(c_{t-1}) (eq. 3): dc_{t-1} = dc_t - dx^ s (1 - s) */
        if (t) {
            const float *s = cx->a[A_S] + (size_t)t * n;
            for (size_t i = 0; i < n; i++) dC[i] -= dxh[i] * s[i] * (1.0f - s[i]);
        }
        float *tmp;
        tmp = dhd; dhd = dhd2; dhd2 = tmp;
        tmp = dcd; dcd = dcd2; dcd2 = tmp;
        tmp = dhe; dhe = dhe2; dhe2 = tmp;
        tmp = dce; dce = dce2; dce2 = tmp;
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Exported API. */

static void draw_release(gl_model *base) {
    draw_model *m = (draw_model *)base;
    for (int c = 0; c < GL_MAX_CONTEXTS; c++) gl_arena_free(&m->ctx[c].act);
}

static int check_images(draw_model *m, const char *fn, const float *images, int nb) {
    if (!m) return gl_fail(GL_EINVAL, "%s: null model", fn);
    if (!images) return gl_fail(GL_EINVAL, "%s: null images", fn);
    if (nb <= 0) return gl_fail(GL_EINVAL, "%s: count must be positive, got %d", fn, nb);
    size_t n = gl_size((size_t)nb, (size_t)m->HW, 1, 1);
    if (!n) return gl_fail(GL_ENOMEM, "%s: %d images are too many", fn, nb);
    for (size_t i = 0; i < n; i++)
        if (!(images[i] >= 0.0f && images[i] <= 1.0f))
            return gl_fail(GL_EINVAL, "%s: pixel %zu (image %zu) is %g, not in [0, 1]", fn, i, i / (size_t)m->HW,
                           (double)images[i]);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Training: the batch in shards (gl_model_shards), each binarising its images and drawing its eps
 * from its own stream, then one update. */

typedef struct {
    const float *images; /* (count, H, W) */
    int count;
    float inv;           /* 1 / batch: the loss is the mean over the whole batch */
    uint32_t seed;       /* inference: the call's seed */
    double *sums;        /* inference: (chunks, 2) loss terms per chunk */
    float *canvases, *readp, *writep; /* inference outputs (any may be NULL) */
    int generate;        /* decoder only, from z ~ N(0, I) */
} draw_batch;

/* Shard items [i0, i1): stats[0..1] the summed L^x and L^z. */
static int draw_shard(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    draw_model *m = (draw_model *)base;
    const draw_batch *a = (const draw_batch *)arg;
    draw_ctx *cx = &m->ctx[c];
    int nb = i1 - i0;
    binarize(m, cx->a[A_X], a->images + (size_t)i0 * m->HW, (size_t)nb * m->HW, &sh->rng);
    int err = forward(m, cx, nb, &sh->rng, sh->stats, a->inv);
    if (err) return err;
    if (!isfinite(sh->stats[0]) || !isfinite(sh->stats[1])) return GL_OK; /* the caller refuses the step */
    return backward(m, cx, sh->g, nb, a->inv);
}

static int run_shards(draw_model *m, const char *fn, const float *images, int nb, uint64_t seed, double *st) {
    int err = check_images(m, fn, images, nb);
    if (err) return err;
    draw_batch a = {images, nb, 1.0f / (float)nb, 0, NULL, NULL, NULL, NULL, 0};
    gl_model_job job = {draw_ensure, draw_shard, &a};
    return gl_model_shards(&m->base, nb, &job, seed, st);
}

/* Test hook: loss and gradient at the current weights with eps and the binarisation drawn from
 * streams seeded by `seed` (so repeated calls see the same eps), no update. The gradient is left
 * in the grads arena (gl_model_grads). out: [loss, reconstruction, kl] per image. */
GL_API int gl_draw_loss_grad(void *mp, float *out, const float *images, int nb, uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    double st[GL_SHARD_STATS];
    int err = run_shards(m, "draw lossGrad", images, nb, seed, st);
    if (!err) err = gl_model_reduce(&m->base);
    if (err) return err;
    out[0] = (float)((st[0] + st[1]) / nb);
    out[1] = (float)(st[0] / nb);
    out[2] = (float)(st[1] / nb);
    return GL_OK;
}

/* One Adam step on a batch of images (nb, H, W) in [0, 1]. eps and (stochastic mode) the
 * binarisation come from the model's training stream. out: [loss, reconstruction, kl, gradient norm
 * before clipping], nats per image. A non-finite loss or gradient refuses the step (GL_ENUMERIC):
 * weights and optimiser state unchanged. */
GL_API int gl_draw_train_batch(void *mp, float *out, const float *images, int nb) {
    draw_model *m = (draw_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "draw trainBatch: null model");
    gl_rng before = m->base.rng;
    double st[GL_SHARD_STATS];
    int err = run_shards(m, "draw trainBatch", images, nb, gl_model_step_seed(&m->base), st);
    double loss = (st[0] + st[1]) / nb;
    float norm = 0.0f;
    if (!err) err = gl_model_check_loss("draw trainBatch", loss);
    if (!err) err = gl_model_step(&m->base, "draw trainBatch", &norm);
    if (err) {
        m->base.rng = before;
        return err;
    }
    out[0] = (float)loss;
    out[1] = (float)(st[0] / nb);
    out[2] = (float)(st[1] / nb);
    out[3] = norm;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Inference in chunks of EVAL_CHUNK images (gl_model_chunks). Chunk k draws its binarisation, eps
 * and z from streams seeded by (seed, k), so its numbers do not depend on the thread count. */

/* Copy one chunk's traces out: canvases (T, count, HW) = sigmoid(c_t), t = 1..T; read / write
 * (T, count, 5) = (gX, gY, delta, sigma^2, gamma) in image units. Any output may be NULL. */
static int traces(draw_model *m, draw_ctx *cx, int b0, int nb, int count, float *canvases, float *readp, float *writep) {
    const size_t HW = (size_t)m->HW;
    for (int t = 0; t < m->T; t++) {
        if (canvases) {
            const float *c = cx->a[A_C] + (size_t)(t + 1) * nb * HW;
            float *o = canvases + ((size_t)t * count + b0) * HW;
            for (size_t i = 0; i < (size_t)nb * HW; i++) o[i] = gl_sigmoidf(c[i]);
        }
        if (!m->att) continue;
        int err;
        if (readp && (err = gl_draw_decode(readp + ((size_t)t * count + b0) * 5, cx->a[A_PR] + (size_t)t * nb * 5, nb,
                                           m->Nr, m->W, m->H)))
            return err;
        if (writep && (err = gl_draw_decode(writep + ((size_t)t * count + b0) * 5, cx->a[A_PW] + (size_t)t * nb * 5,
                                            nb, m->Nw, m->W, m->H)))
            return err;
    }
    return GL_OK;
}

enum { STREAM_BIN = 3, STREAM_EPS = 4, STREAM_Z = 5 };

static void chunk_stream(gl_rng *r, uint32_t seed, int chunk, int stream) {
    gl_rng_seed(r, seed, ((uint64_t)chunk << 8) | (uint64_t)stream);
}

static int draw_infer(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    (void)sh;
    draw_model *m = (draw_model *)base;
    const draw_batch *a = (const draw_batch *)arg;
    draw_ctx *cx = &m->ctx[c];
    int nb = i1 - i0, k = i0 / EVAL_CHUNK, err;
    if (a->generate) {
        gl_rng zr;
        chunk_stream(&zr, a->seed, k, STREAM_Z);
        memset(cx->a[A_C], 0, (size_t)nb * m->HW * sizeof(float));
        for (int t = 0; t < m->T; t++) {
            float *z = cx->a[A_Z] + (size_t)t * nb * m->Z;
            for (size_t i = 0; i < (size_t)nb * m->Z; i++) z[i] = gl_rng_normal(&zr);
            if ((err = decoder_step(m, cx, t, nb))) return err;
        }
        return traces(m, cx, i0, nb, a->count, a->canvases, NULL, a->writep);
    }
    gl_rng br, er;
    chunk_stream(&br, a->seed, k, STREAM_BIN);
    chunk_stream(&er, a->seed, k, STREAM_EPS);
    binarize(m, cx->a[A_X], a->images + (size_t)i0 * m->HW, (size_t)nb * m->HW, &br);
    if ((err = forward(m, cx, nb, &er, a->sums + 2 * (size_t)k, 0.0f))) return err;
    return traces(m, cx, i0, nb, a->count, a->canvases, a->readp, a->writep);
}

static int run_chunks(draw_model *m, draw_batch *a) {
    int nchunks = (a->count + EVAL_CHUNK - 1) / EVAL_CHUNK;
    double *sums = NULL;
    if (!a->generate && !(sums = (double *)calloc(2 * (size_t)nchunks, sizeof(double))))
        return gl_fail(GL_ENOMEM, "draw: out of memory");
    a->sums = sums;
    gl_model_job job = {draw_ensure, draw_infer, a};
    int err = gl_model_chunks(&m->base, a->count, EVAL_CHUNK, &job);
    if (!err && sums) { /* the chunks' sums, in chunk order, into sums[0..1] */
        for (int k = 1; k < nchunks; k++) {
            sums[0] += sums[2 * k];
            sums[1] += sums[2 * k + 1];
        }
    }
    return err;
}

/* The bound without an update, over any number of images: out [loss, reconstruction, kl] per
 * image (means). eps and stochastic binarisation come from streams seeded by `seed`. */
GL_API int gl_draw_loss(void *mp, float *out, const float *images, int count, uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    int err = check_images(m, "draw loss", images, count);
    if (err) return err;
    draw_batch a = {images, count, 0.0f, seed, NULL, NULL, NULL, NULL, 0};
    err = run_chunks(m, &a);
    if (!err) {
        double rec = a.sums[0], kl = a.sums[1];
        out[0] = (float)((rec + kl) / count);
        out[1] = (float)(rec / count);
        out[2] = (float)(kl / count);
    }
    free(a.sums);
    return err;
}

/* Reconstruction: the full pass over images (count, H, W), eps from streams seeded by `seed`.
 * canvases (T, count, H, W) probabilities; read, write (T, count, 5) attention in image units
 * (left untouched without attention). Any output may be NULL. */
GL_API int gl_draw_reconstruct(void *mp, float *canvases, float *readp, float *writep, const float *images, int count,
                               uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    int err = check_images(m, "draw reconstruct", images, count);
    if (err) return err;
    draw_batch a = {images, count, 0.0f, seed, NULL, canvases, readp, writep, 0};
    err = run_chunks(m, &a);
    free(a.sums);
    return err;
}

/* Generation (section 2.3): z_t ~ N(0, I) from streams seeded by `seed`, decoder only.
 * canvases (T, count, H, W) probabilities, write (T, count, 5). Either may be NULL. */
GL_API int gl_draw_generate(void *mp, float *canvases, float *writep, int count, uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "draw generate: null model");
    if (count <= 0) return gl_fail(GL_EINVAL, "draw generate: count must be positive, got %d", count);
    if (!gl_size((size_t)count, (size_t)m->T, (size_t)m->HW, 1))
        return gl_fail(GL_ENOMEM, "draw generate: %d samples are too many", count);
    draw_batch a = {NULL, count, 0.0f, seed, NULL, canvases, NULL, writep, 1};
    return run_chunks(m, &a);
}

/* The tensors' shapes: linear weights (out, in) as torch.nn.Linear, LSTM weights (4 Hd, in) as
 * torch.nn.LSTMCell's weight_ih / weight_hh, biases (out); the LSTMs' one bias is b_ih + b_hh. */
static void draw_tensor_shape(const gl_model *base, int i, int *nd, uint64_t *d) {
    const draw_model *m = (const draw_model *)base;
    size_t s[P_COUNT];
    draw_tensor_sizes(base, s);
    uint64_t in = (uint64_t)m->Hd;
    if (i == P_EWX) in = (uint64_t)m->EI;
    else if (i == P_DWX) in = (uint64_t)m->Z;
    int bias = i == P_RB || i == P_EB || i == P_QB || i == P_DB || i == P_WB || i == P_AB;
    if (bias) { *nd = 1; d[0] = s[i]; }
    else { *nd = 2; d[0] = s[i] / in; d[1] = in; }
}

/* ---------------------------------------------------------------------------------------- */
/* The model type (model.h): create, load, save, free and the optimiser are generic. */

const gl_model_type gl_draw_type = {
    .kind = GL_KIND_DRAW, .name = "draw", .fields = draw_fields, .nfields = DRAW_NCONFIG, .min_config = CF_SEED,
    .seed_field = CF_SEED, .opt = {-1, CF_LR, -1, -1, CF_CLIP, CF_BETA1, CF_BETA2}, .size = sizeof(draw_model),
    .ntensors = P_COUNT, .tensor_names = draw_tensor_names, .configure = draw_configure,
    .tensor_sizes = draw_tensor_sizes, .tensor_shape = draw_tensor_shape, .init = draw_init, .release = draw_release};

