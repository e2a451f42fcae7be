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
#include "glimpse.h"
#include "layers.h"
#include "weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* From draw.c (eq. 19-29). Images there are (batch, B, A) = (batch, rows, columns). */
int gl_draw_decode(float *out, const float *params, int batch, int N, int A, int B);
int gl_draw_filterbank(float *Fx, float *Fy, float *gamma, const float *params, int batch, int N, int A, int B);
int gl_draw_filterbank_backward(float *dparams, const float *dFx, const float *dFy, const float *dgamma,
                                const float *params, int batch, int N, int A, int B);
int gl_draw_read(float *out, const float *x, const float *xhat, const float *Fx, const float *Fy, const float *gamma,
                 int batch, int N, int A, int B);
int gl_draw_read_backward(float *dx, float *dxhat, float *dFx, float *dFy, float *dgamma, const float *dread,
                          const float *x, const float *xhat, const float *Fx, const float *Fy, const float *gamma,
                          int batch, int N, int A, int B);
int gl_draw_write(float *canvas, const float *w, const float *Fx, const float *Fy, const float *gamma, int batch,
                  int N, int A, int B);
int gl_draw_write_backward(float *dw, float *dFx, float *dFy, float *dgamma, const float *dcanvas, const float *w,
                           const float *Fx, const float *Fy, const float *gamma, int batch, int N, int A, int B);

/* ---------------------------------------------------------------------------------------- */
/* Configuration words (saved in the weights file, src/weights.h), in this order. Floats are
 * stored as their bits (gl_f2u). A file with fewer words gets the defaults for the rest. */

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
    A_COUNT
};

#define LOGSIGMA_LIM 6.0f
#define EVAL_CHUNK 100

/* Soft-clamp ranges (lo, hi) of the five attention parameters (g~X, g~Y, log sigma^2, log delta~,
 * log gamma): y = mid + half tanh((x - mid) / half). */
static const float att_lo[5] = {-3.0f, -3.0f, -4.0f, -4.0f, -7.0f};
static const float att_hi[5] = {3.0f, 3.0f, 7.0f, 4.0f, 7.0f};

typedef struct {
    uint32_t cfg[DRAW_NCONFIG];
    int T, Nr, Nw, Hd, Z, att, H, W, HW, R, EI, binarize;
    float lr, clip, beta1, beta2;
    gl_arena params, grads, m1, m2;
    float *p[P_COUNT], *g[P_COUNT];
    size_t psize[P_COUNT], nparams;
    gl_rng init_rng, train_rng;
    int step;
    gl_arena act;
    float *a[A_COUNT];
    int capB;
} draw_model;

static float cfgf(const draw_model *m, int k) { return gl_u2f(m->cfg[k]); }
static int bad_float(float x, float lo, float hi) { return !(x >= lo && x <= hi); }

static void default_config(uint32_t *c) {
    memset(c, 0, sizeof(uint32_t) * DRAW_NCONFIG);
    c[CF_T] = 16; c[CF_READN] = 8; c[CF_WRITEN] = 10; c[CF_HIDDEN] = 128; c[CF_LATENT] = 32;
    c[CF_ATTENTION] = 1; c[CF_H] = 28; c[CF_W] = 28; c[CF_SEED] = 0;
    c[CF_LR] = gl_f2u(1e-3f); c[CF_CLIP] = gl_f2u(10.0f);
    c[CF_BETA1] = gl_f2u(0.9f); c[CF_BETA2] = gl_f2u(0.999f);
    c[CF_BINARIZE] = 0;
}

static int apply_config(draw_model *m, const uint32_t *cfg) {
    memcpy(m->cfg, cfg, sizeof(uint32_t) * DRAW_NCONFIG);
    const uint32_t *c = m->cfg;
    if (c[CF_T] < 1 || c[CF_T] > 256) return gl_fail(GL_EINVAL, "draw: T must be in [1, 256], got %u", c[CF_T]);
    if (c[CF_H] < 2 || c[CF_H] > 512 || c[CF_W] < 2 || c[CF_W] > 512)
        return gl_fail(GL_EINVAL, "draw: height and width must be in [2, 512], got %u x %u", c[CF_H], c[CF_W]);
    if (c[CF_ATTENTION] > 1) return gl_fail(GL_EINVAL, "draw: attention must be 0 or 1, got %u", c[CF_ATTENTION]);
    if (c[CF_ATTENTION] && (c[CF_READN] < 1 || c[CF_READN] > 64 || c[CF_WRITEN] < 1 || c[CF_WRITEN] > 64))
        return gl_fail(GL_EINVAL, "draw: readN and writeN must be in [1, 64], got %u and %u", c[CF_READN], c[CF_WRITEN]);
    if (c[CF_HIDDEN] < 1 || c[CF_HIDDEN] > 4096) return gl_fail(GL_EINVAL, "draw: hidden must be in [1, 4096], got %u", c[CF_HIDDEN]);
    if (c[CF_LATENT] < 1 || c[CF_LATENT] > 4096) return gl_fail(GL_EINVAL, "draw: latent must be in [1, 4096], got %u", c[CF_LATENT]);
    if (c[CF_BINARIZE] > 1) return gl_fail(GL_EINVAL, "draw: binarize must be 0 (threshold) or 1 (stochastic), got %u", c[CF_BINARIZE]);
    m->T = (int)c[CF_T]; m->att = (int)c[CF_ATTENTION];
    m->Nr = m->att ? (int)c[CF_READN] : 0; m->Nw = m->att ? (int)c[CF_WRITEN] : 0;
    m->Hd = (int)c[CF_HIDDEN]; m->Z = (int)c[CF_LATENT];
    m->H = (int)c[CF_H]; m->W = (int)c[CF_W]; m->HW = m->H * m->W;
    m->R = m->att ? 2 * m->Nr * m->Nr : 2 * m->HW;
    m->EI = m->R + m->Hd;
    m->binarize = (int)c[CF_BINARIZE];
    m->lr = cfgf(m, CF_LR); m->clip = cfgf(m, CF_CLIP); m->beta1 = cfgf(m, CF_BETA1); m->beta2 = cfgf(m, CF_BETA2);
    if (bad_float(m->lr, 1e-12f, 100.0f)) return gl_fail(GL_EINVAL, "draw: learning rate must be in (0, 100], got %g", m->lr);
    if (bad_float(m->clip, 0.0f, 1e30f)) return gl_fail(GL_EINVAL, "draw: clip norm must be >= 0 (0 = off), got %g", m->clip);
    if (bad_float(m->beta1, 0.0f, 0.9999f) || bad_float(m->beta2, 0.0f, 0.999999f))
        return gl_fail(GL_EINVAL, "draw: Adam betas must be in [0, 1), got %g, %g", m->beta1, m->beta2);
    if (!gl_size(4 * (size_t)m->Hd, (size_t)m->EI, 1, 1) || !gl_size((size_t)m->HW, (size_t)m->Hd, 1, 1))
        return gl_fail(GL_ENOMEM, "draw: layers too large");
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters. */

static void param_sizes(const draw_model *m, size_t *s) {
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

static int layout_params(draw_model *m) {
    param_sizes(m, m->psize);
    m->nparams = 0;
    for (int i = 0; i < P_COUNT; i++) m->nparams += m->psize[i];
    float *unused[P_COUNT];
    int err = gl_arena_layout(&m->params, m->p, m->psize, P_COUNT);
    if (!err) err = gl_arena_layout(&m->grads, m->g, m->psize, P_COUNT);
    if (!err) err = gl_arena_layout(&m->m1, unused, m->psize, P_COUNT);
    if (!err) err = gl_arena_layout(&m->m2, unused, m->psize, P_COUNT);
    return err;
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
static void init_params(draw_model *m) {
    gl_rng *r = &m->init_rng;
    float bh = gl_fan_in_bound(m->Hd);
    for (int i = 0; i < P_COUNT; i++) gl_init_uniform(m->p[i], m->psize[i], bh, r);
    if (m->att) {
        m->p[P_RB][2] = init_log_s2(m->Nr, m->H, m->W);
        float ls2 = init_log_s2(m->Nw, m->H, m->W);
        m->p[P_AB][2] = ls2;
        m->p[P_AB][4] = -logf(6.2831853f) - ls2;   /* write: 1/gamma = 2 pi sigma^2 */
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Activations. */

static int layout_acts(draw_model *m, int nb) {
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
    size_t total = 0;
    for (int i = 0; i < A_COUNT; i++) {
        if (s[i] > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "draw: batch of %d is too large", nb);
        total += gl_arena_round(s[i]);
        if (total > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "draw: batch of %d needs too much memory", nb);
    }
    gl_arena_free(&m->act);
    m->capB = 0;
    int err = gl_arena_layout(&m->act, m->a, s, A_COUNT);
    if (err) {
        gl_arena_free(&m->act);
        return err;
    }
    m->capB = nb;
    return GL_OK;
}

static int ensure_batch(draw_model *m, int nb) { return nb <= m->capB ? GL_OK : layout_acts(m, nb); }

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
static int decoder_step(draw_model *m, int t, int nb) {
    const int Hd = m->Hd, Z = m->Z, HW = m->HW;
    const size_t bH = (size_t)nb * Hd;
    const float *hdp = t ? m->a[A_HD] + (t - 1) * bH : NULL, *cdp = t ? m->a[A_CD] + (t - 1) * bH : NULL;
    float *hd = m->a[A_HD] + t * bH;
    const float *z = m->a[A_Z] + (size_t)t * nb * Z;
    gl_lstm_forward(hd, m->a[A_CD] + t * bH, m->a[A_GD] + t * bH * 4, m->a[A_TCD] + t * bH, z, hdp, cdp,
                    m->p[P_DWX], m->p[P_DWH], m->p[P_DB], nb, Z, Hd); /* eq. 7 */
    const float *cprev = m->a[A_C] + (size_t)t * nb * HW;
    float *cnext = m->a[A_C] + (size_t)(t + 1) * nb * HW;
    size_t n = (size_t)nb * HW;
    if (m->att) { /* eq. 28-29 */
        int Nw = m->Nw, NN = Nw * Nw;
        float *wp = m->a[A_WP] + (size_t)t * nb * NN;
        float *pwr = m->a[A_PWR] + (size_t)t * nb * 5, *pw = m->a[A_PW] + (size_t)t * nb * 5;
        float *fx = m->a[A_FXW] + (size_t)t * nb * Nw * m->W, *fy = m->a[A_FYW] + (size_t)t * nb * Nw * m->H;
        float *gw = m->a[A_GW] + (size_t)t * nb;
        gl_linear_forward(wp, hd, m->p[P_WW], m->p[P_WB], nb, Hd, NN);
        gl_linear_forward(pwr, hd, m->p[P_AW], m->p[P_AB], nb, Hd, 5);
        int err = att_clamp(pw, pwr, nb);
        if (!err) err = gl_draw_filterbank(fx, fy, gw, pw, nb, Nw, m->W, m->H);
        if (!err) err = gl_draw_write(m->a[A_DELTA], wp, fx, fy, gw, nb, Nw, m->W, m->H);
        if (err) return err;
        const float *d = m->a[A_DELTA];
        for (size_t i = 0; i < n; i++) cnext[i] = cprev[i] + d[i];
    } else { /* eq. 18 */
        gl_linear_forward(cnext, hd, m->p[P_WW], m->p[P_WB], nb, Hd, HW);
        for (size_t i = 0; i < n; i++) cnext[i] += cprev[i];
    }
    return GL_OK;
}

/* The full pass over x = a[A_X] (nb, HW), eps ~ N(0, I) from rng (eps = 0 when rng is NULL:
 * the posterior means). Returns the loss terms summed over the batch in out2[0] (L^x) and
 * out2[1] (L^z), and leaves d loss/d c_T * scale in D_C when dscale > 0. */
static int forward(draw_model *m, int nb, gl_rng *rng, double *out2, float dscale) {
    const int T = m->T, Hd = m->Hd, Z = m->Z, HW = m->HW, EI = m->EI, R = m->R;
    const size_t bH = (size_t)nb * Hd, n = (size_t)nb * HW;
    const float *x = m->a[A_X];
    memset(m->a[A_C], 0, n * sizeof(float)); /* c_0 = 0 */
    double kl = 0.0;
    for (int t = 0; t < T; t++) {
        const float *cprev = m->a[A_C] + (size_t)t * n;
        float *s = m->a[A_S] + (size_t)t * n, *xh = m->a[A_XH] + (size_t)t * n;
        for (size_t i = 0; i < n; i++) { /* eq. 3 */
            s[i] = gl_sigmoidf(cprev[i]);
            xh[i] = x[i] - s[i];
        }
        const float *hdp = t ? m->a[A_HD] + (t - 1) * bH : NULL;
        float *ein = m->a[A_EIN] + (size_t)t * nb * EI;
        if (m->att) { /* eq. 21-27 */
            int Nr = m->Nr;
            float *prr = m->a[A_PRR] + (size_t)t * nb * 5, *pr = m->a[A_PR] + (size_t)t * nb * 5;
            float *fx = m->a[A_FXR] + (size_t)t * nb * Nr * m->W, *fy = m->a[A_FYR] + (size_t)t * nb * Nr * m->H;
            float *gr = m->a[A_GR] + (size_t)t * nb;
            if (hdp) gl_linear_forward(prr, hdp, m->p[P_RW], m->p[P_RB], nb, Hd, 5);
            else bias_rows(prr, m->p[P_RB], nb, 5);
            int err = att_clamp(pr, prr, nb);
            if (!err) err = gl_draw_filterbank(fx, fy, gr, pr, nb, Nr, m->W, m->H);
            if (!err) err = gl_draw_read(m->a[D_R], x, xh, fx, fy, gr, nb, Nr, m->W, m->H);
            if (err) return err;
            copy_rows(ein, (size_t)EI, m->a[D_R], (size_t)R, nb, R);
        } else { /* eq. 17 */
            copy_rows(ein, (size_t)EI, x, (size_t)HW, nb, HW);
            copy_rows(ein + HW, (size_t)EI, xh, (size_t)HW, nb, HW);
        }
        for (int b = 0; b < nb; b++) {
            float *e = ein + (size_t)b * EI + R;
            if (hdp) memcpy(e, hdp + (size_t)b * Hd, (size_t)Hd * sizeof(float));
            else memset(e, 0, (size_t)Hd * sizeof(float));
        }
        const float *hep = t ? m->a[A_HE] + (t - 1) * bH : NULL, *cep = t ? m->a[A_CE] + (t - 1) * bH : NULL;
        float *he = m->a[A_HE] + t * bH;
        gl_lstm_forward(he, m->a[A_CE] + t * bH, m->a[A_GE] + t * bH * 4, m->a[A_TCE] + t * bH, ein, hep, cep,
                        m->p[P_EWX], m->p[P_EWH], m->p[P_EB], nb, EI, Hd); /* eq. 5 */
        float *q = m->a[A_Q] + (size_t)t * nb * 2 * Z;
        gl_linear_forward(q, he, m->p[P_QW], m->p[P_QB], nb, Hd, 2 * Z);
        float *ls = m->a[A_LS] + (size_t)t * nb * Z, *eps = m->a[A_EPS] + (size_t)t * nb * Z;
        float *z = m->a[A_Z] + (size_t)t * nb * Z;
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
        int err = decoder_step(m, t, nb);
        if (err) return err;
    }
    const float *cT = m->a[A_C] + (size_t)T * n;
    float *dc = m->a[D_C];
    if (dscale > 0.0f) memset(dc, 0, n * sizeof(float));
    out2[0] = gl_bce_logits(dscale > 0.0f ? dc : NULL, cT, x, n, dscale); /* eq. 9 */
    out2[1] = kl;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Backward through time: from D_C (= d loss / d c_T) into m->g (accumulating). inv: the loss
 * scale (1 / batch) of the KL term. */
static int backward(draw_model *m, int nb, float inv) {
    const int T = m->T, Hd = m->Hd, Z = m->Z, HW = m->HW, EI = m->EI, R = m->R;
    const size_t bH = (size_t)nb * Hd, n = (size_t)nb * HW;
    const float *x = m->a[A_X];
    float *dC = m->a[D_C], *dxh = m->a[D_XH];
    float *dhd = m->a[D_HD], *dhd2 = m->a[D_HD2], *dcd = m->a[D_CD], *dcd2 = m->a[D_CD2];
    float *dhe = m->a[D_HE], *dhe2 = m->a[D_HE2], *dce = m->a[D_CE], *dce2 = m->a[D_CE2];
    float *dz = m->a[D_Z], *dq = m->a[D_Q], *dein = m->a[D_EIN];
    memset(dhd, 0, bH * sizeof(float));
    memset(dcd, 0, bH * sizeof(float));
    memset(dhe, 0, bH * sizeof(float));
    memset(dce, 0, bH * sizeof(float));
    for (int t = T - 1; t >= 0; t--) {
        const float *hd = m->a[A_HD] + t * bH;
        const float *hdp = t ? m->a[A_HD] + (t - 1) * bH : NULL, *cdp = t ? m->a[A_CD] + (t - 1) * bH : NULL;
        /* write (eq. 29 / 18): the canvas delta's gradient is dC */
        if (m->att) {
            int Nw = m->Nw, NN = Nw * Nw;
            const float *wp = m->a[A_WP] + (size_t)t * nb * NN, *pw = m->a[A_PW] + (size_t)t * nb * 5;
            const float *fx = m->a[A_FXW] + (size_t)t * nb * Nw * m->W, *fy = m->a[A_FYW] + (size_t)t * nb * Nw * m->H;
            const float *gw = m->a[A_GW] + (size_t)t * nb;
            float *dwp = m->a[D_WP], *dp = m->a[D_P], *dfx = m->a[D_FX], *dfy = m->a[D_FY], *dg = m->a[D_G];
            memset(dwp, 0, (size_t)nb * NN * sizeof(float));
            memset(dp, 0, (size_t)nb * 5 * sizeof(float));
            memset(dfx, 0, (size_t)nb * Nw * m->W * sizeof(float));
            memset(dfy, 0, (size_t)nb * Nw * m->H * sizeof(float));
            memset(dg, 0, (size_t)nb * sizeof(float));
            int err = gl_draw_write_backward(dwp, dfx, dfy, dg, dC, wp, fx, fy, gw, nb, Nw, m->W, m->H);
            if (!err) err = gl_draw_filterbank_backward(dp, dfx, dfy, dg, pw, nb, Nw, m->W, m->H);
            if (err) return err;
            att_clamp_backward(dp, pw, nb);
            gl_linear_backward(dhd, m->g[P_AW], m->g[P_AB], dp, hd, m->p[P_AW], nb, Hd, 5);
            gl_linear_backward(dhd, m->g[P_WW], m->g[P_WB], dwp, hd, m->p[P_WW], nb, Hd, NN);
        } else {
            gl_linear_backward(dhd, m->g[P_WW], m->g[P_WB], dC, hd, m->p[P_WW], nb, Hd, HW);
        }
        /* decoder LSTM (eq. 7) */
        memset(dhd2, 0, bH * sizeof(float));
        memset(dcd2, 0, bH * sizeof(float));
        memset(dz, 0, (size_t)nb * Z * sizeof(float));
        const float *z = m->a[A_Z] + (size_t)t * nb * Z;
        gl_lstm_backward(dz, t ? dhd2 : NULL, t ? dcd2 : NULL, m->g[P_DWX], m->g[P_DWH], m->g[P_DB], m->a[D_GATES],
                         dhd, dcd, m->a[A_GD] + t * bH * 4, m->a[A_TCD] + t * bH, z, hdp, cdp, m->p[P_DWX],
                         m->p[P_DWH], nb, Z, Hd);
        /* sampling and KL: z = mu + exp(ls) eps, KL = 1/2 (mu^2 + exp(2 ls) - 2 ls - 1) */
        const float *q = m->a[A_Q] + (size_t)t * nb * 2 * Z;
        const float *ls = m->a[A_LS] + (size_t)t * nb * Z, *eps = m->a[A_EPS] + (size_t)t * nb * Z;
        for (int b = 0; b < nb; b++)
            for (int j = 0; j < Z; j++) {
                size_t k = (size_t)b * Z + j;
                float mu = q[(size_t)b * 2 * Z + j], sg = expf(ls[k]);
                float dls = dz[k] * sg * eps[k] + inv * (sg * sg - 1.0f);
                float u = ls[k] / LOGSIGMA_LIM;
                dq[(size_t)b * 2 * Z + j] = dz[k] + inv * mu;
                dq[(size_t)b * 2 * Z + Z + j] = dls * (1.0f - u * u);
            }
        const float *he = m->a[A_HE] + t * bH;
        gl_linear_backward(dhe, m->g[P_QW], m->g[P_QB], dq, he, m->p[P_QW], nb, Hd, 2 * Z);
        /* encoder LSTM (eq. 5) */
        memset(dhe2, 0, bH * sizeof(float));
        memset(dce2, 0, bH * sizeof(float));
        memset(dein, 0, (size_t)nb * EI * sizeof(float));
        const float *hep = t ? m->a[A_HE] + (t - 1) * bH : NULL, *cep = t ? m->a[A_CE] + (t - 1) * bH : NULL;
        const float *ein = m->a[A_EIN] + (size_t)t * nb * EI;
        gl_lstm_backward(dein, t ? dhe2 : NULL, t ? dce2 : NULL, m->g[P_EWX], m->g[P_EWH], m->g[P_EB], m->a[D_GATES],
                         dhe, dce, m->a[A_GE] + t * bH * 4, m->a[A_TCE] + t * bH, ein, hep, cep, m->p[P_EWX],
                         m->p[P_EWH], nb, EI, Hd);
        if (t) /* the encoder input's h^dec_{t-1} part */
            for (int b = 0; b < nb; b++) {
                const float *src = dein + (size_t)b * EI + R;
                float *dst = dhd2 + (size_t)b * Hd;
                for (int j = 0; j < Hd; j++) dst[j] += src[j];
            }
        /* read (eq. 27 / 17) */
        const float *xh = m->a[A_XH] + (size_t)t * n;
        if (m->att) {
            int Nr = m->Nr;
            const float *pr = m->a[A_PR] + (size_t)t * nb * 5;
            const float *fx = m->a[A_FXR] + (size_t)t * nb * Nr * m->W, *fy = m->a[A_FYR] + (size_t)t * nb * Nr * m->H;
            const float *gr = m->a[A_GR] + (size_t)t * nb;
            float *dp = m->a[D_P], *dfx = m->a[D_FX], *dfy = m->a[D_FY], *dg = m->a[D_G], *dr = m->a[D_R];
            copy_rows(dr, (size_t)R, dein, (size_t)EI, nb, R);
            memset(dxh, 0, n * sizeof(float));
            memset(dp, 0, (size_t)nb * 5 * sizeof(float));
            memset(dfx, 0, (size_t)nb * Nr * m->W * sizeof(float));
            memset(dfy, 0, (size_t)nb * Nr * m->H * sizeof(float));
            memset(dg, 0, (size_t)nb * sizeof(float));
            int err = gl_draw_read_backward(NULL, dxh, dfx, dfy, dg, dr, x, xh, fx, fy, gr, nb, Nr, m->W, m->H);
            if (!err) err = gl_draw_filterbank_backward(dp, dfx, dfy, dg, pr, nb, Nr, m->W, m->H);
            if (err) return err;
            att_clamp_backward(dp, pr, nb);
            if (t) gl_linear_backward(dhd2, m->g[P_RW], m->g[P_RB], dp, hdp, m->p[P_RW], nb, Hd, 5);
            else gl_linear_backward(NULL, NULL, m->g[P_RB], dp, NULL, m->p[P_RW], nb, Hd, 5);
        } else {
            copy_rows(dxh, (size_t)HW, dein + HW, (size_t)EI, nb, HW);
        }
        /* x^_t = x - sigmoid(c_{t-1}) (eq. 3): dc_{t-1} = dc_t - dx^ s (1 - s) */
        if (t) {
            const float *s = m->a[A_S] + (size_t)t * n;
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

static void model_free(draw_model *m) {
    if (!m) return;
    gl_arena_free(&m->params);
    gl_arena_free(&m->grads);
    gl_arena_free(&m->m1);
    gl_arena_free(&m->m2);
    gl_arena_free(&m->act);
    free(m);
}

static int model_new(draw_model **out, const uint32_t *cfg) {
    *out = NULL;
    draw_model *m = (draw_model *)calloc(1, sizeof *m);
    if (!m) return gl_fail(GL_ENOMEM, "draw: out of memory");
    int err = apply_config(m, cfg);
    if (!err) err = layout_params(m);
    if (err) {
        model_free(m);
        return err;
    }
    gl_rng_seed(&m->init_rng, m->cfg[CF_SEED], 1);
    gl_rng_seed(&m->train_rng, m->cfg[CF_SEED], 2);
    *out = m;
    return GL_OK;
}

/* *out <- a new model. config: nconfig words in the order of the CF_* enum (src/js/draw_model.js
 * names them); words beyond nconfig take their defaults. */
GL_API int gl_draw_create(void **out, const uint32_t *config, int nconfig) {
    if (!out) return gl_fail(GL_EINVAL, "draw: null output pointer");
    *out = NULL;
    if (nconfig < 0 || nconfig > DRAW_NCONFIG || (nconfig > 0 && !config))
        return gl_fail(GL_EINVAL, "draw: nconfig must be in [0, %d], got %d", DRAW_NCONFIG, nconfig);
    uint32_t cfg[DRAW_NCONFIG];
    default_config(cfg);
    for (int i = 0; i < nconfig; i++) cfg[i] = config[i];
    draw_model *m;
    int err = model_new(&m, cfg);
    if (err) return err;
    init_params(m);
    *out = m;
    return GL_OK;
}

GL_API void gl_draw_free(void *m) { model_free((draw_model *)m); }

/* The full configuration (DRAW_NCONFIG words) into out (cap words); the word count, or -1. */
GL_API int gl_draw_config(void *mp, uint32_t *out, int cap) {
    draw_model *m = (draw_model *)mp;
    if (!m || !out || cap < DRAW_NCONFIG) return -1;
    memcpy(out, m->cfg, sizeof m->cfg);
    return DRAW_NCONFIG;
}

GL_API size_t gl_draw_param_count(void *mp) { return ((draw_model *)mp)->nparams; }

GL_API int gl_draw_set_lr(void *mp, float lr) {
    draw_model *m = (draw_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "draw: null model");
    if (bad_float(lr, 1e-12f, 100.0f)) return gl_fail(GL_EINVAL, "draw: learning rate must be in (0, 100], got %g", lr);
    m->lr = lr;
    m->cfg[CF_LR] = gl_f2u(lr);
    return GL_OK;
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

/* Forward + backward for one batch into the (zeroed) grads; sums[0..1] = L^x, L^z summed. */
static int loss_and_grad(draw_model *m, const float *images, int nb, gl_rng *bin_rng, gl_rng *eps_rng, double *sums) {
    int err = ensure_batch(m, nb);
    if (err) return err;
    float inv = 1.0f / (float)nb;
    binarize(m, m->a[A_X], images, (size_t)nb * m->HW, bin_rng);
    gl_arena_zero(&m->grads);
    err = forward(m, nb, eps_rng, sums, inv);
    if (err) return err;
    if (!isfinite(sums[0]) || !isfinite(sums[1])) return GL_OK; /* the caller refuses the step */
    return backward(m, nb, inv);
}

/* Test hook: loss and gradient at the current weights with eps and the binarisation drawn from
 * RNGs seeded by `seed` (so repeated calls see the same eps), no update. The gradient is left in
 * the grads arena (gl_draw_grads). out: [loss, reconstruction, kl] per image. */
GL_API int gl_draw_loss_grad(void *mp, float *out, const float *images, int nb, uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    int err = check_images(m, "draw lossGrad", images, nb);
    if (err) return err;
    gl_rng br, er;
    gl_rng_seed(&br, seed, 3);
    gl_rng_seed(&er, seed, 4);
    double sums[2];
    if ((err = loss_and_grad(m, images, nb, &br, &er, sums))) return err;
    out[0] = (float)((sums[0] + sums[1]) / nb);
    out[1] = (float)(sums[0] / nb);
    out[2] = (float)(sums[1] / nb);
    return GL_OK;
}

GL_API float *gl_draw_params(void *mp, size_t *n) {
    draw_model *m = (draw_model *)mp;
    if (n) *n = m->params.used;
    return m->params.base;
}
GL_API float *gl_draw_grads(void *mp, size_t *n) {
    draw_model *m = (draw_model *)mp;
    if (n) *n = m->grads.used;
    return m->grads.base;
}
/* Offset (floats, in the params / grads arenas) and length of parameter tensor i (P_* order:
 * read attention W, b, encoder Wx, Wh, b, [mu, log sigma] W, b, decoder Wx, Wh, b, write W, b,
 * write attention W, b); -1 when i is out of range. */
GL_API int gl_draw_tensor(void *mp, int i, size_t *offset, size_t *n) {
    draw_model *m = (draw_model *)mp;
    if (i < 0 || i >= P_COUNT) return -1;
    *offset = (size_t)(m->p[i] - m->params.base);
    *n = m->psize[i];
    return 0;
}

/* One Adam step on a batch of images (nb, H, W) in [0, 1]. eps and (stochastic mode) the
 * binarisation come from the model's training RNG. out: [loss, reconstruction, kl, gradient norm
 * before clipping], nats per image. A non-finite loss or gradient refuses the step (GL_ENUMERIC):
 * weights and optimiser state unchanged. */
GL_API int gl_draw_train_batch(void *mp, float *out, const float *images, int nb) {
    draw_model *m = (draw_model *)mp;
    int err = check_images(m, "draw trainBatch", images, nb);
    if (err) return err;
    double sums[2];
    if ((err = loss_and_grad(m, images, nb, &m->train_rng, &m->train_rng, sums))) return err;
    double loss = (sums[0] + sums[1]) / nb;
    if (!isfinite(loss))
        return gl_fail(GL_ENUMERIC, "draw trainBatch: the loss is not finite (%g); step refused, weights unchanged", loss);
    size_t n = m->params.used;
    float norm = gl_clip_grad_norm(m->grads.base, n, m->clip > 0.0f ? m->clip : INFINITY);
    if (!isfinite(norm))
        return gl_fail(GL_ENUMERIC, "draw trainBatch: the gradient is not finite; step refused, weights unchanged");
    m->step++;
    gl_adam_step(m->params.base, m->m1.base, m->m2.base, m->grads.base, n, m->lr, m->beta1, m->beta2, 1e-8f, 0.0f,
                 m->step);
    out[0] = (float)loss;
    out[1] = (float)(sums[0] / nb);
    out[2] = (float)(sums[1] / nb);
    out[3] = norm;
    return GL_OK;
}

/* The bound without an update, over any number of images (in chunks): out [loss, reconstruction,
 * kl] per image (means). eps and stochastic binarisation come from RNGs seeded by `seed`. */
GL_API int gl_draw_loss(void *mp, float *out, const float *images, int count, uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    int err = check_images(m, "draw loss", images, count);
    if (!err) err = ensure_batch(m, count < EVAL_CHUNK ? count : EVAL_CHUNK);
    if (err) return err;
    gl_rng br, er;
    gl_rng_seed(&br, seed, 3);
    gl_rng_seed(&er, seed, 4);
    double rec = 0.0, kl = 0.0;
    for (int b0 = 0; b0 < count; b0 += EVAL_CHUNK) {
        int nb = count - b0 < EVAL_CHUNK ? count - b0 : EVAL_CHUNK;
        binarize(m, m->a[A_X], images + (size_t)b0 * m->HW, (size_t)nb * m->HW, &br);
        double sums[2];
        if ((err = forward(m, nb, &er, sums, 0.0f))) return err;
        rec += sums[0];
        kl += sums[1];
    }
    out[0] = (float)((rec + kl) / count);
    out[1] = (float)(rec / count);
    out[2] = (float)(kl / count);
    return GL_OK;
}

/* Copy one chunk's traces out: canvases (T, count, HW) = sigmoid(c_t), t = 1..T; read / write
 * (T, count, 5) = (gX, gY, delta, sigma^2, gamma) in image units. Any output may be NULL. */
static int traces(draw_model *m, int b0, int nb, int count, float *canvases, float *readp, float *writep) {
    const size_t HW = (size_t)m->HW;
    for (int t = 0; t < m->T; t++) {
        if (canvases) {
            const float *c = m->a[A_C] + (size_t)(t + 1) * nb * HW;
            float *o = canvases + ((size_t)t * count + b0) * HW;
            for (size_t i = 0; i < (size_t)nb * HW; i++) o[i] = gl_sigmoidf(c[i]);
        }
        if (!m->att) continue;
        int err;
        if (readp && (err = gl_draw_decode(readp + ((size_t)t * count + b0) * 5, m->a[A_PR] + (size_t)t * nb * 5, nb,
                                           m->Nr, m->W, m->H)))
            return err;
        if (writep && (err = gl_draw_decode(writep + ((size_t)t * count + b0) * 5, m->a[A_PW] + (size_t)t * nb * 5,
                                            nb, m->Nw, m->W, m->H)))
            return err;
    }
    return GL_OK;
}

/* Reconstruction: the full pass over images (count, H, W), eps from an RNG seeded by `seed`.
 * canvases (T, count, H, W) probabilities; read, write (T, count, 5) attention in image units
 * (left untouched without attention). Any output may be NULL. */
GL_API int gl_draw_reconstruct(void *mp, float *canvases, float *readp, float *writep, const float *images, int count,
                               uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    int err = check_images(m, "draw reconstruct", images, count);
    if (!err) err = ensure_batch(m, count < EVAL_CHUNK ? count : EVAL_CHUNK);
    if (err) return err;
    gl_rng br, er;
    gl_rng_seed(&br, seed, 3);
    gl_rng_seed(&er, seed, 4);
    for (int b0 = 0; b0 < count; b0 += EVAL_CHUNK) {
        int nb = count - b0 < EVAL_CHUNK ? count - b0 : EVAL_CHUNK;
        binarize(m, m->a[A_X], images + (size_t)b0 * m->HW, (size_t)nb * m->HW, &br);
        double sums[2];
        if ((err = forward(m, nb, &er, sums, 0.0f))) return err;
        if ((err = traces(m, b0, nb, count, canvases, readp, writep))) return err;
    }
    return GL_OK;
}

/* Generation (section 2.3): z_t ~ N(0, I) from an RNG seeded by `seed`, decoder only.
 * canvases (T, count, H, W) probabilities, write (T, count, 5). Either may be NULL. */
GL_API int gl_draw_generate(void *mp, float *canvases, float *writep, int count, uint32_t seed) {
    draw_model *m = (draw_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "draw generate: null model");
    if (count <= 0) return gl_fail(GL_EINVAL, "draw generate: count must be positive, got %d", count);
    if (!gl_size((size_t)count, (size_t)m->T, (size_t)m->HW, 1))
        return gl_fail(GL_ENOMEM, "draw generate: %d samples are too many", count);
    int err = ensure_batch(m, count < EVAL_CHUNK ? count : EVAL_CHUNK);
    if (err) return err;
    gl_rng zr;
    gl_rng_seed(&zr, seed, 5);
    for (int b0 = 0; b0 < count; b0 += EVAL_CHUNK) {
        int nb = count - b0 < EVAL_CHUNK ? count - b0 : EVAL_CHUNK;
        memset(m->a[A_C], 0, (size_t)nb * m->HW * sizeof(float));
        for (int t = 0; t < m->T; t++) {
            float *z = m->a[A_Z] + (size_t)t * nb * m->Z;
            for (size_t i = 0; i < (size_t)nb * m->Z; i++) z[i] = gl_rng_normal(&zr);
            if ((err = decoder_step(m, t, nb))) return err;
        }
        if ((err = traces(m, b0, nb, count, canvases, NULL, writep))) return err;
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Save / load (src/weights.h, kind GL_KIND_DRAW): the config words, then the parameter tensors
 * packed in P_* order. Optimiser state is not saved: a loaded model resumes with fresh moments. */

GL_API size_t gl_draw_save_size(void *mp, int f16) {
    draw_model *m = (draw_model *)mp;
    return gl_weights_size(DRAW_NCONFIG, m->nparams, f16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

GL_API int gl_draw_save(void *mp, uint8_t *out, size_t cap, int f16) {
    draw_model *m = (draw_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "draw save: null argument");
    return gl_weights_write(out, cap, GL_KIND_DRAW, m->cfg, DRAW_NCONFIG, (const float *const *)m->p, m->psize, P_COUNT,
                            f16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

/* Parameters a configuration needs, computed without allocating; 0 when the configuration is
 * invalid (model_new then says why). */
static size_t config_nparams(const uint32_t *cfg) {
    draw_model *m = (draw_model *)calloc(1, sizeof *m);
    size_t n = 0, s[P_COUNT];
    if (m && apply_config(m, cfg) == GL_OK) {
        param_sizes(m, s);
        for (int i = 0; i < P_COUNT; i++) n += s[i];
    }
    free(m);
    return n;
}

static int io_create(void **m, const uint32_t *cfg) { return model_new((draw_model **)m, cfg); }
static void io_destroy(void *m) { model_free((draw_model *)m); }
static void io_tensors(void *mp, float *const **ptrs, const size_t **sizes, int *count) {
    draw_model *m = (draw_model *)mp;
    *ptrs = m->p;
    *sizes = m->psize;
    *count = P_COUNT;
}

static const gl_model_io draw_io = {GL_KIND_DRAW, "draw", CF_SEED, DRAW_NCONFIG, default_config, config_nparams,
                                     io_create, io_destroy, io_tensors};

GL_API int gl_draw_load(void **out, const uint8_t *bytes, size_t len) {
    return gl_weights_load_model(out, &draw_io, bytes, len);
}
