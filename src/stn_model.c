/* stn_model.c: the Spatial Transformer Network classifier (Jaderberg et al. 2015) trained end to
 * end in C, with by default exactly the architecture of the PyTorch STN tutorial
 * (pytorch.org/tutorials/intermediate/spatial_transformer_tutorial.html):
 *
 *   localisation net  [maxpool 2]^lpool -> conv lc1@lk1 -> maxpool 2 -> ReLU -> conv lc2@lk2
 *                     -> maxpool 2 -> ReLU -> FC lfc -> ReLU -> FC T (T = 6 affine / 8 projective,
 *                     weight 0 and bias = the identity transform)
 *   grid generator    affine (paper eq. 1, gl_affine_grid) or projective (a homography,
 *                     x_s = (a x + b y + c) / (g x + h y + 1), y_s = (d x + e y + f) / (g x + h y + 1))
 *   sampler           bilinear, zeros padding, align_corners false (paper eq. 5, gl_grid_sample):
 *                     the input (N, 1, H, W) becomes the classifier input (N, 1, Ho, Wo)
 *   classifier        [maxpool 2]^cpool -> conv c1@k1 -> maxpool 2 -> ReLU -> conv c2@k2 -> Dropout2d
 *                     -> maxpool 2 -> ReLU -> FC fc -> ReLU -> dropout -> FC classes
 *   loss              log-softmax + cross-entropy, mean over the batch
 *
 * Defaults: lc1 = 8, lk1 = 7, lc2 = 10, lk2 = 5, lfc = 32, c1 = 10, k1 = 5, c2 = 20, k2 = 5,
 * fc = 50, dropout 0.5, Ho x Wo = H x W. Flattened sizes follow from the input size: 28x28 gives
 * the tutorial's 10*3*3 and 20*4*4; 42x42 gives 10*7*7 and 20*7*7. For inputs of 56 pixels or
 * more (the 60x60 cluttered digits) the localisation net first max-pools its input once
 * (lpool = 1: 60 -> 30 -> conv 24 -> 12 -> conv 8 -> 4, 10*4*4 = 160 features), so that the
 * localisation net sees the same scale of features as on 28x28 inputs and stays cheap; the
 * classifier keeps the full resolution of its input unless cpool says otherwise.
 * transform = none removes the localisation net and sampler: the plain CNN for comparison.
 *
 * Implementation notes:
 *  - Every layer is a layers.h function; all buffers live in arenas: params, grads, optimiser
 *    moments (same layout, one flat optimiser loop), and activations + their gradients (two
 *    arenas laid out from one size table, so act[i] and dact[i] correspond), grown to the batch.
 *  - ReLU runs in place after max-pool (relu(pool(x)) == pool(relu(x))), Dropout2d after the
 *    pool (a channel mask with non-negative scale commutes with max-pool), so both are 4x cheaper
 *    than in the tutorial's order and give the same numbers. The in-place ReLU's backward is a
 *    mask applied in place to the gradient.
 *  - A training step refuses (GL_ENUMERIC) a non-finite loss or gradient and leaves the weights
 *    unchanged. Gradients are clipped to a maximum L2 norm (clip_grad_norm_) before the update.
 *  - Deterministic: init and dropout draw from PCG32 streams seeded from the config's seed.
 */
#include "glimpse.h"
#include "layers.h"
#include "weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* From stn.c. */
int gl_affine_grid(float *grid, const float *theta, int N, int H, int W, int align);
int gl_affine_grid_backward(float *dtheta, const float *dgrid, int N, int H, int W, int align);
int gl_grid_sample(float *out, const float *inp, const float *grid, int N, int C, int H, int W, int Ho, int Wo,
                   int pad, int align);
int gl_grid_sample_backward(float *dinp, float *dgrid, const float *dout, const float *inp, const float *grid,
                            int N, int C, int H, int W, int Ho, int Wo, int pad, int align);

/* ---------------------------------------------------------------------------------------- */
/* Configuration: the words saved in the weights file (src/weights.h), in this order. Floats are
 * stored as their bits (gl_f2u). A file with fewer words gets the defaults for the rest. */

enum {
    CF_H, CF_W, CF_CLASSES, CF_SEED, CF_TRANSFORM, CF_HO, CF_WO,
    CF_DROPOUT,      /* float: p of Dropout2d and of the dropout after FC fc */
    CF_OPTIMIZER,    /* 0 SGD (momentum), 1 Adam */
    CF_LR,           /* float */
    CF_MOMENTUM,     /* float, SGD */
    CF_WD,           /* float, L2 weight decay (as torch's weight_decay) */
    CF_CLIP,         /* float, max gradient L2 norm; 0 = no clipping */
    CF_LOC_LR,       /* float, learning-rate multiplier of the localisation net */
    CF_LPOOL,        /* 2x2 max-pools applied to the localisation net's input (0..3) */
    CF_LC1, CF_LK1, CF_LC2, CF_LK2, CF_LFC,
    CF_C1, CF_K1, CF_C2, CF_K2, CF_FC,
    CF_BETA1, CF_BETA2, /* float, Adam */
    CF_CPOOL,        /* 2x2 max-pools applied to the classifier's input (0..3) */
    STN_NCONFIG
};

enum { TR_NONE = 0, TR_AFFINE = 1, TR_PROJECTIVE = 2 };
enum { OPT_SGD = 0, OPT_ADAM = 1 };

/* Parameter tensors, in arena order: the localisation net first (contiguous, so its learning-rate
 * multiplier is one loop), then the classifier. */
enum {
    P_LC1W, P_LC1B, P_LC2W, P_LC2B, P_LF1W, P_LF1B, P_LF2W, P_LF2B,
    P_C1W, P_C1B, P_C2W, P_C2B, P_F1W, P_F1B, P_F2W, P_F2B,
    P_COUNT
};

/* Activation tensors (act) and their gradients (dact, same layout). int32 argmax buffers
 * (maxpool indices) are stored in float slots of the same size. */
enum {
    A_LIN1, A_LIN1I, A_LIN2, A_LIN2I, A_LIN3, A_LIN3I,  /* pooled inputs of the localisation net */
    A_LA1, A_LP1, A_LI1, A_LA2, A_LP2, A_LI2, A_LH, A_TH, A_GRID, A_XS,
    A_CIN1, A_CIN1I, A_CIN2, A_CIN2I, A_CIN3, A_CIN3I, /* pooled classifier inputs */
    A_A1, A_P1, A_I1, A_A2, A_P2, A_I2, A_Q2, A_M2, A_H, A_HD, A_MH, A_LOGITS,
    A_COL,
    A_COUNT
};

#define MAX_POOL_IN 3

typedef struct {
    int h, w; /* input side of the conv stack */
    int a1h, a1w, p1h, p1w, a2h, a2w, p2h, p2w, flat;
} stack_geom;

typedef struct {
    uint32_t cfg[STN_NCONFIG];
    int H, W, Ho, Wo, classes, transform, T; /* T: theta size, 0 / 6 / 8 */
    int lpool, cpool;
    int lc1, lk1, lc2, lk2, lfc, c1, k1, c2, k2, fc;
    stack_geom lg, cg;
    float dropout, lr, momentum, wd, clip, loc_lr, beta1, beta2;
    int optimizer;
    gl_arena params, grads, m1, m2; /* m1: SGD velocity or Adam m; m2: Adam v */
    float *p[P_COUNT], *g[P_COUNT];
    size_t psize[P_COUNT], nparams, nloc; /* nparams: sum of psize (packed); nloc: arena floats of the loc net */
    gl_rng init_rng, drop_rng;
    int step; /* optimiser steps taken (Adam's t) */
    gl_arena act, dact;
    float *a[A_COUNT], *d[A_COUNT];
    int capB; /* batch the activation arenas are laid out for */
} stn_model;

static float cfgf(const stn_model *m, int k) { return gl_u2f(m->cfg[k]); }

static void default_config(uint32_t *c) {
    memset(c, 0, sizeof(uint32_t) * STN_NCONFIG);
    c[CF_H] = 28; c[CF_W] = 28; c[CF_CLASSES] = 10; c[CF_SEED] = 0; c[CF_TRANSFORM] = TR_AFFINE;
    c[CF_HO] = 0; c[CF_WO] = 0; /* 0: same as the input */
    c[CF_DROPOUT] = gl_f2u(0.5f);
    c[CF_OPTIMIZER] = OPT_SGD; c[CF_LR] = gl_f2u(0.01f); c[CF_MOMENTUM] = gl_f2u(0.9f);
    c[CF_WD] = gl_f2u(0.0f); c[CF_CLIP] = gl_f2u(10.0f); c[CF_LOC_LR] = gl_f2u(1.0f);
    c[CF_LPOOL] = 0xFFFFFFFFu; /* auto: 1 when min(H, W) >= 56, else 0 */
    c[CF_LC1] = 8; c[CF_LK1] = 7; c[CF_LC2] = 10; c[CF_LK2] = 5; c[CF_LFC] = 32;
    c[CF_C1] = 10; c[CF_K1] = 5; c[CF_C2] = 20; c[CF_K2] = 5; c[CF_FC] = 50;
    c[CF_BETA1] = gl_f2u(0.9f); c[CF_BETA2] = gl_f2u(0.999f);
    c[CF_CPOOL] = 0;
}

/* Sizes through [pool]^npool -> conv k1 -> pool -> conv k2 -> pool; 0 when some size is < 1. */
static int stack_geometry(stack_geom *g, int h, int w, int npool, int k1, int k2, int c2) {
    for (int i = 0; i < npool; i++) { h /= 2; w /= 2; }
    g->h = h; g->w = w;
    g->a1h = h - k1 + 1; g->a1w = w - k1 + 1;
    g->p1h = g->a1h / 2; g->p1w = g->a1w / 2;
    g->a2h = g->p1h - k2 + 1; g->a2w = g->p1w - k2 + 1;
    g->p2h = g->a2h / 2; g->p2w = g->a2w / 2;
    if (h < 1 || w < 1 || g->a1h < 1 || g->a1w < 1 || g->p1h < 1 || g->p1w < 1 || g->a2h < 1 || g->a2w < 1 ||
        g->p2h < 1 || g->p2w < 1)
        return 0;
    g->flat = c2 * g->p2h * g->p2w;
    return 1;
}

static int bad_float(float x, float lo, float hi) { return !(x >= lo && x <= hi); }

/* Validate a full config and fill the derived fields of m. */
static int apply_config(stn_model *m, const uint32_t *cfg) {
    memcpy(m->cfg, cfg, sizeof(uint32_t) * STN_NCONFIG);
    uint32_t *c = m->cfg;
    if (c[CF_H] < 4 || c[CF_H] > 1024 || c[CF_W] < 4 || c[CF_W] > 1024)
        return gl_fail(GL_EINVAL, "stn: height and width must be in [4, 1024], got %u x %u", c[CF_H], c[CF_W]);
    if (c[CF_CLASSES] < 2 || c[CF_CLASSES] > 100000)
        return gl_fail(GL_EINVAL, "stn: classes must be in [2, 100000], got %u", c[CF_CLASSES]);
    if (c[CF_TRANSFORM] > TR_PROJECTIVE)
        return gl_fail(GL_EINVAL, "stn: transform must be 0 (none), 1 (affine) or 2 (projective), got %u", c[CF_TRANSFORM]);
    if (c[CF_HO] == 0) c[CF_HO] = c[CF_H];
    if (c[CF_WO] == 0) c[CF_WO] = c[CF_W];
    if (c[CF_HO] > 1024 || c[CF_WO] > 1024)
        return gl_fail(GL_EINVAL, "stn: output size must be in [1, 1024], got %u x %u", c[CF_HO], c[CF_WO]);
    if (c[CF_TRANSFORM] == TR_NONE && (c[CF_HO] != c[CF_H] || c[CF_WO] != c[CF_W]))
        return gl_fail(GL_EINVAL, "stn: without a transformer the output size must equal the input size (%u x %u), got %u x %u",
                       c[CF_H], c[CF_W], c[CF_HO], c[CF_WO]);
    if (c[CF_LPOOL] == 0xFFFFFFFFu) c[CF_LPOOL] = (c[CF_H] < c[CF_W] ? c[CF_H] : c[CF_W]) >= 56 ? 1 : 0;
    if (c[CF_LPOOL] > MAX_POOL_IN || c[CF_CPOOL] > MAX_POOL_IN)
        return gl_fail(GL_EINVAL, "stn: input pooling stages must be in [0, %d], got loc %u, classifier %u", MAX_POOL_IN,
                       c[CF_LPOOL], c[CF_CPOOL]);
    for (int k = CF_LC1; k <= CF_FC; k++)
        if (c[k] < 1 || c[k] > 1024) return gl_fail(GL_EINVAL, "stn: layer sizes must be in [1, 1024], got %u (config word %d)", c[k], k);
    if (c[CF_OPTIMIZER] > OPT_ADAM) return gl_fail(GL_EINVAL, "stn: optimizer must be 0 (SGD) or 1 (Adam), got %u", c[CF_OPTIMIZER]);
    m->H = (int)c[CF_H]; m->W = (int)c[CF_W]; m->classes = (int)c[CF_CLASSES];
    m->transform = (int)c[CF_TRANSFORM]; m->T = m->transform == TR_AFFINE ? 6 : m->transform == TR_PROJECTIVE ? 8 : 0;
    m->Ho = (int)c[CF_HO]; m->Wo = (int)c[CF_WO];
    m->lpool = (int)c[CF_LPOOL]; m->cpool = (int)c[CF_CPOOL];
    m->lc1 = (int)c[CF_LC1]; m->lk1 = (int)c[CF_LK1]; m->lc2 = (int)c[CF_LC2]; m->lk2 = (int)c[CF_LK2]; m->lfc = (int)c[CF_LFC];
    m->c1 = (int)c[CF_C1]; m->k1 = (int)c[CF_K1]; m->c2 = (int)c[CF_C2]; m->k2 = (int)c[CF_K2]; m->fc = (int)c[CF_FC];
    m->dropout = cfgf(m, CF_DROPOUT); m->lr = cfgf(m, CF_LR); m->momentum = cfgf(m, CF_MOMENTUM);
    m->wd = cfgf(m, CF_WD); m->clip = cfgf(m, CF_CLIP); m->loc_lr = cfgf(m, CF_LOC_LR);
    m->beta1 = cfgf(m, CF_BETA1); m->beta2 = cfgf(m, CF_BETA2); m->optimizer = (int)c[CF_OPTIMIZER];
    if (bad_float(m->dropout, 0.0f, 0.95f)) return gl_fail(GL_EINVAL, "stn: dropout must be in [0, 0.95], got %g", m->dropout);
    if (bad_float(m->lr, 1e-12f, 100.0f)) return gl_fail(GL_EINVAL, "stn: learning rate must be in (0, 100], got %g", m->lr);
    if (bad_float(m->momentum, 0.0f, 0.9999f)) return gl_fail(GL_EINVAL, "stn: momentum must be in [0, 1), got %g", m->momentum);
    if (bad_float(m->wd, 0.0f, 1.0f)) return gl_fail(GL_EINVAL, "stn: weight decay must be in [0, 1], got %g", m->wd);
    if (bad_float(m->clip, 0.0f, 1e30f)) return gl_fail(GL_EINVAL, "stn: clip norm must be >= 0 (0 = off), got %g", m->clip);
    if (bad_float(m->loc_lr, 0.0f, 100.0f)) return gl_fail(GL_EINVAL, "stn: localisation learning-rate multiplier must be in [0, 100], got %g", m->loc_lr);
    if (bad_float(m->beta1, 0.0f, 0.9999f) || bad_float(m->beta2, 0.0f, 0.999999f))
        return gl_fail(GL_EINVAL, "stn: Adam betas must be in [0, 1), got %g, %g", m->beta1, m->beta2);
    if (m->transform != TR_NONE && !stack_geometry(&m->lg, m->H, m->W, m->lpool, m->lk1, m->lk2, m->lc2))
        return gl_fail(GL_EINVAL, "stn: a %dx%d input is too small for the localisation net (%d input pools, kernels %d and %d)",
                       m->H, m->W, m->lpool, m->lk1, m->lk2);
    if (!stack_geometry(&m->cg, m->Ho, m->Wo, m->cpool, m->k1, m->k2, m->c2))
        return gl_fail(GL_EINVAL, "stn: a %dx%d classifier input is too small for the classifier (%d input pools, kernels %d and %d)",
                       m->Ho, m->Wo, m->cpool, m->k1, m->k2);
    if (!gl_size((size_t)m->fc, (size_t)m->cg.flat, 1, 1) || !gl_size((size_t)m->c2, (size_t)m->c1, (size_t)m->k2, (size_t)m->k2))
        return gl_fail(GL_ENOMEM, "stn: layers too large");
    /* wasm's size_t is 32 bits: every product of config values that sizes a buffer is checked here,
     * or it can wrap to a small number (localisation FC and conv weights, im2col workspaces). */
    if (m->transform != TR_NONE &&
        (!gl_size((size_t)m->lfc, (size_t)m->lg.flat, 1, 1) || !gl_size((size_t)m->lc2, (size_t)m->lc1, (size_t)m->lk2, (size_t)m->lk2) ||
         !gl_size((size_t)m->lk1 * m->lk1, (size_t)m->lg.a1h, (size_t)m->lg.a1w, 1) ||
         !gl_size((size_t)m->lc1 * m->lk2 * m->lk2, (size_t)m->lg.a2h, (size_t)m->lg.a2w, 1)))
        return gl_fail(GL_ENOMEM, "stn: localisation net too large for a %dx%d input (locChannels, locKernels, locHidden)", m->H, m->W);
    if (!gl_size((size_t)m->k1 * m->k1, (size_t)m->cg.a1h, (size_t)m->cg.a1w, 1) ||
        !gl_size((size_t)m->c1 * m->k2 * m->k2, (size_t)m->cg.a2h, (size_t)m->cg.a2w, 1))
        return gl_fail(GL_ENOMEM, "stn: classifier too large for a %dx%d input (channels, kernels)", m->Ho, m->Wo);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters. */

static void param_sizes(const stn_model *m, size_t *s) {
    int loc = m->transform != TR_NONE;
    s[P_LC1W] = loc ? (size_t)m->lc1 * 1 * m->lk1 * m->lk1 : 0;
    s[P_LC1B] = loc ? (size_t)m->lc1 : 0;
    s[P_LC2W] = loc ? (size_t)m->lc2 * m->lc1 * m->lk2 * m->lk2 : 0;
    s[P_LC2B] = loc ? (size_t)m->lc2 : 0;
    s[P_LF1W] = loc ? (size_t)m->lfc * m->lg.flat : 0;
    s[P_LF1B] = loc ? (size_t)m->lfc : 0;
    s[P_LF2W] = (size_t)m->T * m->lfc;
    s[P_LF2B] = (size_t)m->T;
    s[P_C1W] = (size_t)m->c1 * 1 * m->k1 * m->k1;
    s[P_C1B] = (size_t)m->c1;
    s[P_C2W] = (size_t)m->c2 * m->c1 * m->k2 * m->k2;
    s[P_C2B] = (size_t)m->c2;
    s[P_F1W] = (size_t)m->fc * m->cg.flat;
    s[P_F1B] = (size_t)m->fc;
    s[P_F2W] = (size_t)m->classes * m->fc;
    s[P_F2B] = (size_t)m->classes;
}

static int layout_params(stn_model *m) {
    param_sizes(m, m->psize);
    m->nparams = 0;
    for (int i = 0; i < P_COUNT; i++) m->nparams += m->psize[i];
    float *unused[P_COUNT];
    int err = gl_arena_layout(&m->params, m->p, m->psize, P_COUNT);
    if (!err) err = gl_arena_layout(&m->grads, m->g, m->psize, P_COUNT);
    if (!err) err = gl_arena_layout(&m->m1, unused, m->psize, P_COUNT);
    if (!err && m->optimizer == OPT_ADAM) err = gl_arena_layout(&m->m2, unused, m->psize, P_COUNT);
    m->nloc = (size_t)(m->p[P_C1W] - m->params.base);
    return err;
}

/* PyTorch's default init (uniform +-1/sqrt(fan_in) for weights and biases of Conv2d and Linear),
 * except the last localisation layer: weight 0, bias = the identity transform. */
static void init_params(stn_model *m) {
    gl_rng *r = &m->init_rng;
    if (m->transform != TR_NONE) {
        float b1 = gl_fan_in_bound(m->lk1 * m->lk1), b2 = gl_fan_in_bound(m->lc1 * m->lk2 * m->lk2);
        float b3 = gl_fan_in_bound(m->lg.flat);
        gl_init_uniform(m->p[P_LC1W], m->psize[P_LC1W], b1, r);
        gl_init_uniform(m->p[P_LC1B], m->psize[P_LC1B], b1, r);
        gl_init_uniform(m->p[P_LC2W], m->psize[P_LC2W], b2, r);
        gl_init_uniform(m->p[P_LC2B], m->psize[P_LC2B], b2, r);
        gl_init_uniform(m->p[P_LF1W], m->psize[P_LF1W], b3, r);
        gl_init_uniform(m->p[P_LF1B], m->psize[P_LF1B], b3, r);
        memset(m->p[P_LF2W], 0, m->psize[P_LF2W] * sizeof(float));
        static const float id_affine[6] = {1, 0, 0, 0, 1, 0};
        static const float id_proj[8] = {1, 0, 0, 0, 1, 0, 0, 0};
        memcpy(m->p[P_LF2B], m->T == 6 ? id_affine : id_proj, (size_t)m->T * sizeof(float));
    }
    float b1 = gl_fan_in_bound(m->k1 * m->k1), b2 = gl_fan_in_bound(m->c1 * m->k2 * m->k2);
    float b3 = gl_fan_in_bound(m->cg.flat), b4 = gl_fan_in_bound(m->fc);
    gl_init_uniform(m->p[P_C1W], m->psize[P_C1W], b1, r);
    gl_init_uniform(m->p[P_C1B], m->psize[P_C1B], b1, r);
    gl_init_uniform(m->p[P_C2W], m->psize[P_C2W], b2, r);
    gl_init_uniform(m->p[P_C2B], m->psize[P_C2B], b2, r);
    gl_init_uniform(m->p[P_F1W], m->psize[P_F1W], b3, r);
    gl_init_uniform(m->p[P_F1B], m->psize[P_F1B], b3, r);
    gl_init_uniform(m->p[P_F2W], m->psize[P_F2W], b4, r);
    gl_init_uniform(m->p[P_F2B], m->psize[P_F2B], b4, r);
}

/* ---------------------------------------------------------------------------------------- */
/* Activations for a batch of B. */

static size_t col_floats(const stn_model *m) {
    size_t c = gl_conv2d_col_size(1, m->cg.h, m->cg.w, m->k1);
    size_t c2 = gl_conv2d_col_size(m->c1, m->cg.p1h, m->cg.p1w, m->k2);
    if (c2 > c) c = c2;
    if (m->transform != TR_NONE) {
        size_t l1 = gl_conv2d_col_size(1, m->lg.h, m->lg.w, m->lk1);
        size_t l2 = gl_conv2d_col_size(m->lc1, m->lg.p1h, m->lg.p1w, m->lk2);
        if (l1 > c) c = l1;
        if (l2 > c) c = l2;
    }
    return c;
}

static int layout_acts(stn_model *m, int B) {
    size_t s[A_COUNT];
    memset(s, 0, sizeof s);
    size_t b = (size_t)B;
    const stack_geom *l = &m->lg, *c = &m->cg;
    if (m->transform != TR_NONE) {
        int h = m->H, w = m->W;
        for (int i = 0; i < m->lpool; i++) {
            h /= 2; w /= 2;
            s[A_LIN1 + 2 * i] = s[A_LIN1I + 2 * i] = b * h * w;
        }
        s[A_LA1] = b * m->lc1 * l->a1h * l->a1w;
        s[A_LP1] = s[A_LI1] = b * m->lc1 * l->p1h * l->p1w;
        s[A_LA2] = b * m->lc2 * l->a2h * l->a2w;
        s[A_LP2] = s[A_LI2] = b * m->lc2 * l->p2h * l->p2w;
        s[A_LH] = b * m->lfc;
        s[A_TH] = b * m->T;
        s[A_GRID] = b * m->Ho * m->Wo * 2;
        s[A_XS] = b * m->Ho * m->Wo;
    }
    {
        int h = m->Ho, w = m->Wo;
        for (int i = 0; i < m->cpool; i++) {
            h /= 2; w /= 2;
            s[A_CIN1 + 2 * i] = s[A_CIN1I + 2 * i] = b * h * w;
        }
    }
    s[A_A1] = b * m->c1 * c->a1h * c->a1w;
    s[A_P1] = s[A_I1] = b * m->c1 * c->p1h * c->p1w;
    s[A_A2] = b * m->c2 * c->a2h * c->a2w;
    s[A_P2] = s[A_I2] = s[A_Q2] = b * c->flat;
    s[A_M2] = b * m->c2;
    s[A_H] = s[A_HD] = s[A_MH] = b * m->fc;
    s[A_LOGITS] = b * m->classes;
    s[A_COL] = col_floats(m);
    size_t total = 0;
    for (int i = 0; i < A_COUNT; i++) {
        if (s[i] > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "stn: batch of %d is too large", B);
        total += gl_arena_round(s[i]);
        if (total > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "stn: batch of %d needs too much memory", B);
    }
    gl_arena_free(&m->act);
    gl_arena_free(&m->dact);
    m->capB = 0;
    int err = gl_arena_layout(&m->act, m->a, s, A_COUNT);
    if (!err) err = gl_arena_layout(&m->dact, m->d, s, A_COUNT);
    if (err) {
        gl_arena_free(&m->act);
        gl_arena_free(&m->dact);
        return err;
    }
    m->capB = B;
    return GL_OK;
}

/* Zero the activation gradients that backward accumulates into (+=); argmax indices, dropout
 * masks and the im2col scratch never carry gradients and are skipped. */
static void zero_act_grads(stn_model *m) {
    static const int skip[] = {A_LIN1, A_LIN1I, A_LIN2, A_LIN2I, A_LIN3, A_LIN3I, A_LI1, A_LI2,
                               A_CIN1I, A_CIN2I, A_CIN3I, A_I1, A_I2, A_M2, A_MH, A_COL};
    int zero[A_COUNT];
    for (int i = 0; i < A_COUNT; i++) zero[i] = 1;
    for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++) zero[skip[k]] = 0;
    for (int i = 0; i < A_COUNT; i++) {
        if (!zero[i]) continue;
        /* the size of slot i: distance to the next slot (the arena is laid out in slot order) */
        float *end = i + 1 < A_COUNT ? m->d[i + 1] : m->dact.base + m->dact.used;
        memset(m->d[i], 0, (size_t)(end - m->d[i]) * sizeof(float));
    }
}

static int ensure_batch(stn_model *m, int B) {
    if (B <= m->capB) return GL_OK;
    return layout_acts(m, B);
}

/* ---------------------------------------------------------------------------------------- */
/* The projective grid generator: theta (N, 8) = (a, b, c, d, e, f, g, h), the homography
 * [[a b c] [d e f] [g h 1]] applied to the homogeneous target coordinates (x_t, y_t, 1):
 *     x_s = (a x_t + b y_t + c) / den,  y_s = (d x_t + e y_t + f) / den,  den = g x_t + h y_t + 1.
 * den is clamped below at PROJ_DEN_MIN (points at or behind the horizon would divide by ~0);
 * where it is clamped, d/dg and d/dh are 0. With g = h = 0 this is exactly the affine grid. */

#define PROJ_DEN_MIN 0.1f

/* torch's normalised base coordinate (as stn.c's base_coord with align_corners = 0). */
static float base_coord(int i, int size) {
    if (size <= 1) return 0.0f;
    float step = 2.0f / (float)(size - 1);
    float v = -1.0f + step * (float)i;
    if (i >= size / 2) v = 1.0f - step * (float)(size - 1 - i);
    return v * (float)(size - 1) / (float)size;
}

static void proj_grid(float *grid, const float *theta, int N, int H, int W) {
    for (int n = 0; n < N; n++) {
        const float *t = theta + 8 * (size_t)n;
        for (int i = 0; i < H; i++) {
            float y = base_coord(i, H);
            float *g = grid + ((size_t)n * H + i) * W * 2;
            for (int j = 0; j < W; j++) {
                float x = base_coord(j, W);
                float den = t[6] * x + t[7] * y + 1.0f;
                if (!(den >= PROJ_DEN_MIN)) den = PROJ_DEN_MIN;
                float inv = 1.0f / den;
                g[2 * j + 0] = (t[0] * x + t[1] * y + t[2]) * inv;
                g[2 * j + 1] = (t[3] * x + t[4] * y + t[5]) * inv;
            }
        }
    }
}

/* dtheta (N, 8) += d grid / d theta contracted with dgrid (N, H, W, 2). */
static void proj_grid_backward(float *dtheta, const float *dgrid, const float *grid, const float *theta, int N, int H,
                               int W) {
    for (int n = 0; n < N; n++) {
        const float *t = theta + 8 * (size_t)n;
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < H; i++) {
            float y = base_coord(i, H);
            const float *g = grid + ((size_t)n * H + i) * W * 2;
            const float *dg = dgrid + ((size_t)n * H + i) * W * 2;
            for (int j = 0; j < W; j++) {
                float x = base_coord(j, W);
                float den = t[6] * x + t[7] * y + 1.0f;
                int clamped = !(den >= PROJ_DEN_MIN);
                if (clamped) den = PROJ_DEN_MIN;
                float inv = 1.0f / den;
                float gx = dg[2 * j] * inv, gy = dg[2 * j + 1] * inv;
                acc[0] += gx * x; acc[1] += gx * y; acc[2] += gx;
                acc[3] += gy * x; acc[4] += gy * y; acc[5] += gy;
                if (!clamped) {
                    float q = gx * g[2 * j] + gy * g[2 * j + 1]; /* -(d loss / d den) */
                    acc[6] -= q * x;
                    acc[7] -= q * y;
                }
            }
        }
        for (int k = 0; k < 8; k++) dtheta[8 * (size_t)n + k] += (float)acc[k];
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Forward and backward. */

/* [pool]^npool -> conv -> pool -> relu -> conv -> pool [-> dropout2d] -> relu, flattened into
 * the returned buffer. ins: the pooled-input slots; dims: the stack's geometry. */
typedef struct {
    int npool, in_slot; /* A_LIN1 or A_CIN1 */
    int a1, p1, i1, a2, p2, i2, q2, m2;
    int C1, K1, C2, K2;
    const float *w1, *b1, *w2, *b2;
    float *dw1, *db1, *dw2, *db2;
    const stack_geom *g;
} conv_stack;

static conv_stack loc_stack(stn_model *m) {
    conv_stack s = {m->lpool, A_LIN1, A_LA1, A_LP1, A_LI1, A_LA2, A_LP2, A_LI2, -1, -1,
                    m->lc1, m->lk1, m->lc2, m->lk2,
                    m->p[P_LC1W], m->p[P_LC1B], m->p[P_LC2W], m->p[P_LC2B],
                    m->g[P_LC1W], m->g[P_LC1B], m->g[P_LC2W], m->g[P_LC2B], &m->lg};
    return s;
}
static conv_stack cls_stack(stn_model *m) {
    conv_stack s = {m->cpool, A_CIN1, A_A1, A_P1, A_I1, A_A2, A_P2, A_I2, A_Q2, A_M2,
                    m->c1, m->k1, m->c2, m->k2,
                    m->p[P_C1W], m->p[P_C1B], m->p[P_C2W], m->p[P_C2B],
                    m->g[P_C1W], m->g[P_C1B], m->g[P_C2W], m->g[P_C2B], &m->cg};
    return s;
}

/* Returns the flattened features (B, C2 * p2h * p2w). dropout2d applies when s->q2 >= 0 and p > 0. */
static const float *stack_forward(stn_model *m, const conv_stack *s, const float *x, int h, int w, int B, float p) {
    for (int i = 0; i < s->npool; i++) {
        float *o = m->a[s->in_slot + 2 * i];
        gl_maxpool2_forward(o, (int32_t *)m->a[s->in_slot + 2 * i + 1], x, B, 1, h, w);
        x = o; h /= 2; w /= 2;
    }
    const stack_geom *g = s->g;
    float *col = m->a[A_COL];
    gl_conv2d_forward(m->a[s->a1], col, x, s->w1, s->b1, B, 1, h, w, s->C1, s->K1);
    size_t n1 = (size_t)B * s->C1 * g->p1h * g->p1w;
    gl_maxpool2_forward(m->a[s->p1], (int32_t *)m->a[s->i1], m->a[s->a1], B, s->C1, g->a1h, g->a1w);
    gl_relu_forward(m->a[s->p1], m->a[s->p1], n1);
    gl_conv2d_forward(m->a[s->a2], col, m->a[s->p1], s->w2, s->b2, B, s->C1, g->p1h, g->p1w, s->C2, s->K2);
    size_t n2 = (size_t)B * g->flat;
    gl_maxpool2_forward(m->a[s->p2], (int32_t *)m->a[s->i2], m->a[s->a2], B, s->C2, g->a2h, g->a2w);
    float *out = m->a[s->p2];
    if (s->q2 >= 0 && p > 0.0f) {
        gl_dropout_forward(m->a[s->q2], m->a[s->m2], out, n2, (size_t)g->p2h * g->p2w, p, &m->drop_rng);
        out = m->a[s->q2];
    }
    gl_relu_forward(out, out, n2);
    return out;
}

/* dfeat: gradient of the flattened output (the buffer that matches stack_forward's return).
 * dx: gradient of the stack input x (B, 1, h, w), or NULL. */
static void stack_backward(stn_model *m, const conv_stack *s, float *dfeat, const float *x, int h, int w, float *dx,
                           int B, float p) {
    const stack_geom *g = s->g;
    size_t n2 = (size_t)B * g->flat;
    float *col = m->a[A_COL];
    if (s->q2 >= 0 && p > 0.0f) {
        gl_relu_mask(dfeat, m->a[s->q2], n2);
        gl_dropout_backward(m->d[s->p2], dfeat, m->a[s->m2], n2, (size_t)g->p2h * g->p2w);
    } else {
        gl_relu_mask(dfeat, m->a[s->p2], n2); /* dfeat is d[p2] */
    }
    gl_maxpool2_backward(m->d[s->a2], m->d[s->p2], (int32_t *)m->a[s->i2], B, s->C2, g->a2h, g->a2w);
    /* the stack's (pooled) input */
    const float *xin = x;
    int hh = h, ww = w;
    for (int i = 0; i < s->npool; i++) { xin = m->a[s->in_slot + 2 * i]; hh /= 2; ww /= 2; }
    gl_conv2d_backward(m->d[s->p1], s->dw2, s->db2, col, m->d[s->a2], m->a[s->p1], s->w2, B, s->C1, g->p1h, g->p1w,
                       s->C2, s->K2);
    gl_relu_mask(m->d[s->p1], m->a[s->p1], (size_t)B * s->C1 * g->p1h * g->p1w);
    gl_maxpool2_backward(m->d[s->a1], m->d[s->p1], (int32_t *)m->a[s->i1], B, s->C1, g->a1h, g->a1w);
    float *dxin = NULL;
    if (dx) dxin = s->npool ? m->d[s->in_slot + 2 * (s->npool - 1)] : dx;
    gl_conv2d_backward(dxin, s->dw1, s->db1, col, m->d[s->a1], xin, s->w1, B, 1, hh, ww, s->C1, s->K1);
    if (dx) {
        for (int i = s->npool - 1; i >= 0; i--) {
            float *dlo = i ? m->d[s->in_slot + 2 * (i - 1)] : dx;
            gl_maxpool2_backward(dlo, m->d[s->in_slot + 2 * i], (int32_t *)m->a[s->in_slot + 2 * i + 1], B, 1,
                                 h >> i, w >> i);
        }
    }
}

/* Localisation net + grid + sampler: theta (B, T) in a[A_TH], output in a[A_XS]. Returns the
 * classifier input (a[A_XS], or the images themselves without a transformer). */
static const float *transformer_forward(stn_model *m, const float *images, int B) {
    if (m->transform == TR_NONE) return images;
    conv_stack s = loc_stack(m);
    const float *feat = stack_forward(m, &s, images, m->H, m->W, B, 0.0f);
    gl_linear_forward(m->a[A_LH], feat, m->p[P_LF1W], m->p[P_LF1B], B, m->lg.flat, m->lfc);
    gl_relu_forward(m->a[A_LH], m->a[A_LH], (size_t)B * m->lfc);
    gl_linear_forward(m->a[A_TH], m->a[A_LH], m->p[P_LF2W], m->p[P_LF2B], B, m->lfc, m->T);
    if (m->transform == TR_AFFINE) gl_affine_grid(m->a[A_GRID], m->a[A_TH], B, m->Ho, m->Wo, 0);
    else proj_grid(m->a[A_GRID], m->a[A_TH], B, m->Ho, m->Wo);
    gl_grid_sample(m->a[A_XS], images, m->a[A_GRID], B, 1, m->H, m->W, m->Ho, m->Wo, GL_PAD_ZEROS, 0);
    return m->a[A_XS];
}

/* Full forward to logits (a[A_LOGITS]); train: dropout on. */
static void forward(stn_model *m, const float *images, int B, int train) {
    const float *x = transformer_forward(m, images, B);
    conv_stack s = cls_stack(m);
    float p = train ? m->dropout : 0.0f;
    const float *feat = stack_forward(m, &s, x, m->Ho, m->Wo, B, p);
    gl_linear_forward(m->a[A_H], feat, m->p[P_F1W], m->p[P_F1B], B, m->cg.flat, m->fc);
    gl_relu_forward(m->a[A_H], m->a[A_H], (size_t)B * m->fc);
    const float *hd = m->a[A_H];
    if (p > 0.0f) {
        gl_dropout_forward(m->a[A_HD], m->a[A_MH], m->a[A_H], (size_t)B * m->fc, 1, p, &m->drop_rng);
        hd = m->a[A_HD];
    }
    gl_linear_forward(m->a[A_LOGITS], hd, m->p[P_F2W], m->p[P_F2B], B, m->fc, m->classes);
}

/* Backward from d[A_LOGITS] into m->g (accumulating). Assumes forward(m, images, B, train) ran. */
static void backward(stn_model *m, const float *images, int B, int train) {
    float p = train ? m->dropout : 0.0f;
    size_t nh = (size_t)B * m->fc;
    const float *hd = p > 0.0f ? m->a[A_HD] : m->a[A_H];
    float *dhd = p > 0.0f ? m->d[A_HD] : m->d[A_H];
    gl_linear_backward(dhd, m->g[P_F2W], m->g[P_F2B], m->d[A_LOGITS], hd, m->p[P_F2W], B, m->fc, m->classes);
    if (p > 0.0f) gl_dropout_backward(m->d[A_H], m->d[A_HD], m->a[A_MH], nh, 1);
    gl_relu_mask(m->d[A_H], m->a[A_H], nh);
    conv_stack s = cls_stack(m);
    int drop2 = p > 0.0f;
    const float *feat = drop2 ? m->a[A_Q2] : m->a[A_P2];
    float *dfeat = drop2 ? m->d[A_Q2] : m->d[A_P2];
    gl_linear_backward(dfeat, m->g[P_F1W], m->g[P_F1B], m->d[A_H], feat, m->p[P_F1W], B, m->cg.flat, m->fc);
    int tr = m->transform != TR_NONE;
    const float *x = tr ? m->a[A_XS] : images;
    stack_backward(m, &s, dfeat, x, m->Ho, m->Wo, tr ? m->d[A_XS] : NULL, B, p);
    if (!tr) return;
    /* sampler (paper eq. 6-7) and grid generator back to theta */
    gl_grid_sample_backward(NULL, m->d[A_GRID], m->d[A_XS], images, m->a[A_GRID], B, 1, m->H, m->W, m->Ho, m->Wo,
                            GL_PAD_ZEROS, 0);
    if (m->transform == TR_AFFINE) gl_affine_grid_backward(m->d[A_TH], m->d[A_GRID], B, m->Ho, m->Wo, 0);
    else proj_grid_backward(m->d[A_TH], m->d[A_GRID], m->a[A_GRID], m->a[A_TH], B, m->Ho, m->Wo);
    gl_linear_backward(m->d[A_LH], m->g[P_LF2W], m->g[P_LF2B], m->d[A_TH], m->a[A_LH], m->p[P_LF2W], B, m->lfc, m->T);
    gl_relu_mask(m->d[A_LH], m->a[A_LH], (size_t)B * m->lfc);
    conv_stack l = loc_stack(m);
    gl_linear_backward(m->d[A_LP2], m->g[P_LF1W], m->g[P_LF1B], m->d[A_LH], m->a[A_LP2], m->p[P_LF1W], B, m->lg.flat,
                       m->lfc);
    stack_backward(m, &l, m->d[A_LP2], images, m->H, m->W, NULL, B, 0.0f);
}

/* ---------------------------------------------------------------------------------------- */
/* Exported API. */

static void model_free(stn_model *m) {
    if (!m) return;
    gl_arena_free(&m->params);
    gl_arena_free(&m->grads);
    gl_arena_free(&m->m1);
    gl_arena_free(&m->m2);
    gl_arena_free(&m->act);
    gl_arena_free(&m->dact);
    free(m);
}

static int model_new(stn_model **out, const uint32_t *cfg) {
    *out = NULL;
    stn_model *m = (stn_model *)calloc(1, sizeof *m);
    if (!m) return gl_fail(GL_ENOMEM, "stn: out of memory");
    int err = apply_config(m, cfg);
    if (!err) err = layout_params(m);
    if (err) {
        model_free(m);
        return err;
    }
    gl_rng_seed(&m->init_rng, m->cfg[CF_SEED], 1);
    gl_rng_seed(&m->drop_rng, m->cfg[CF_SEED], 2);
    *out = m;
    return GL_OK;
}

/* *out <- a new model. config: nconfig words in the order of the CF_* enum (see the top of this
 * file and src/js/stn_model.js); words beyond nconfig take their defaults. */
GL_API int gl_stn_create(void **out, const uint32_t *config, int nconfig) {
    if (!out) return gl_fail(GL_EINVAL, "stn: null output pointer");
    *out = NULL;
    if (nconfig < 0 || nconfig > STN_NCONFIG || (nconfig > 0 && !config))
        return gl_fail(GL_EINVAL, "stn: nconfig must be in [0, %d], got %d", STN_NCONFIG, nconfig);
    uint32_t cfg[STN_NCONFIG];
    default_config(cfg);
    for (int i = 0; i < nconfig; i++) cfg[i] = config[i];
    stn_model *m;
    int err = model_new(&m, cfg);
    if (err) return err;
    init_params(m);
    *out = m;
    return GL_OK;
}

GL_API void gl_stn_free(void *m) { model_free((stn_model *)m); }

/* The model's full configuration (STN_NCONFIG words, derived values filled in) into out (cap words).
 * Returns the number of words, or -1 when cap is too small. */
GL_API int gl_stn_config(void *mp, uint32_t *out, int cap) {
    stn_model *m = (stn_model *)mp;
    if (!m || cap < STN_NCONFIG) return -1;
    memcpy(out, m->cfg, sizeof m->cfg);
    return STN_NCONFIG;
}

/* Number of parameters (packed, as saved). */
GL_API size_t gl_stn_param_count(void *mp) { return ((stn_model *)mp)->nparams; }

/* Set the learning rate (also saved in the config word). */
GL_API int gl_stn_set_lr(void *mp, float lr) {
    stn_model *m = (stn_model *)mp;
    if (bad_float(lr, 1e-12f, 100.0f)) return gl_fail(GL_EINVAL, "stn: learning rate must be in (0, 100], got %g", lr);
    m->lr = lr;
    m->cfg[CF_LR] = gl_f2u(lr);
    return GL_OK;
}

static int check_batch(stn_model *m, const char *fn, const void *images, int B) {
    if (!m) return gl_fail(GL_EINVAL, "%s: null model", fn);
    if (!images) return gl_fail(GL_EINVAL, "%s: null images", fn);
    if (B <= 0) return gl_fail(GL_EINVAL, "%s: batch must be positive, got %d", fn, B);
    if (!gl_size((size_t)B, (size_t)m->H, (size_t)m->W, 1)) return gl_fail(GL_ENOMEM, "%s: batch of %d is too large", fn, B);
    return GL_OK;
}

static int check_labels(const stn_model *m, const char *fn, const int32_t *labels, int B) {
    if (!labels) return gl_fail(GL_EINVAL, "%s: null labels", fn);
    for (int i = 0; i < B; i++)
        if (labels[i] < 0 || labels[i] >= m->classes)
            return gl_fail(GL_EINVAL, "%s: label %d is %d, not in [0, %d)", fn, i, labels[i], m->classes);
    return GL_OK;
}

/* Loss and gradient at the current weights without dropout and without an update: the test hook
 * for finite-difference checks. The gradient is left in the grads arena (gl_stn_grads).
 * out: [loss, accuracy]. */
GL_API int gl_stn_loss_grad(void *mp, float *out, const float *images, const int32_t *labels, int B) {
    stn_model *m = (stn_model *)mp;
    int err = check_batch(m, "stn loss", images, B);
    if (!err) err = check_labels(m, "stn loss", labels, B);
    if (!err) err = ensure_batch(m, B);
    if (err) return err;
    forward(m, images, B, 0);
    gl_arena_zero(&m->grads);
    zero_act_grads(m);
    int correct = 0;
    float loss = gl_softmax_xent(m->d[A_LOGITS], NULL, &correct, m->a[A_LOGITS], labels, B, m->classes);
    backward(m, images, B, 0);
    out[0] = loss;
    out[1] = (float)correct / (float)B;
    return GL_OK;
}

/* Pointers to the parameter and gradient arenas (tensor order P_*, each tensor at a multiple of
 * GL_ARENA_ALIGN floats): for tests. *n receives the arena length in floats. */
GL_API float *gl_stn_params(void *mp, size_t *n) {
    stn_model *m = (stn_model *)mp;
    if (n) *n = m->params.used;
    return m->params.base;
}
GL_API float *gl_stn_grads(void *mp, size_t *n) {
    stn_model *m = (stn_model *)mp;
    if (n) *n = m->grads.used;
    return m->grads.base;
}
/* Offset (in floats, within the params / grads arenas) and length of parameter tensor i (P_*
 * order: loc conv1 w, b, conv2 w, b, fc1 w, b, fc2 w, b, then the classifier's eight); -1 when i
 * is out of range. */
GL_API int gl_stn_tensor(void *mp, int i, size_t *offset, size_t *n) {
    stn_model *m = (stn_model *)mp;
    if (i < 0 || i >= P_COUNT) return -1;
    *offset = (size_t)(m->p[i] - m->params.base);
    *n = m->psize[i];
    return 0;
}

/* One optimiser step on a batch: images (B, H, W) in [0, 1], labels (B) in [0, classes).
 * out: [loss, accuracy, gradient norm before clipping]. A non-finite loss or gradient refuses
 * the step (GL_ENUMERIC) and leaves the weights and optimiser state unchanged. */
GL_API int gl_stn_train_batch(void *mp, float *out, const float *images, const int32_t *labels, int B) {
    stn_model *m = (stn_model *)mp;
    int err = check_batch(m, "stn trainBatch", images, B);
    if (!err) err = check_labels(m, "stn trainBatch", labels, B);
    if (!err) err = ensure_batch(m, B);
    if (err) return err;
    forward(m, images, B, 1);
    gl_arena_zero(&m->grads);
    zero_act_grads(m);
    int correct = 0;
    float loss = gl_softmax_xent(m->d[A_LOGITS], NULL, &correct, m->a[A_LOGITS], labels, B, m->classes);
    if (!isfinite(loss)) return gl_fail(GL_ENUMERIC, "stn trainBatch: the loss is not finite (%g); step refused, weights unchanged", loss);
    backward(m, images, B, 1);
    size_t n = m->params.used;
    float norm = gl_clip_grad_norm(m->grads.base, n, m->clip > 0.0f ? m->clip : INFINITY);
    if (!isfinite(norm)) return gl_fail(GL_ENUMERIC, "stn trainBatch: the gradient is not finite; step refused, weights unchanged");
    /* The update: the localisation net (the first nloc floats) with lr * loc_lr, the rest with lr. */
    size_t nl = m->nloc;
    float lrs[2] = {m->lr * m->loc_lr, m->lr};
    size_t from[2] = {0, nl}, len[2] = {nl, n - nl};
    m->step++;
    for (int k = 0; k < 2; k++) {
        if (!len[k]) continue;
        float *pp = m->params.base + from[k], *gg = m->grads.base + from[k], *v1 = m->m1.base + from[k];
        if (m->optimizer == OPT_ADAM)
            gl_adam_step(pp, v1, m->m2.base + from[k], gg, len[k], lrs[k], m->beta1, m->beta2, 1e-8f, m->wd, m->step);
        else
            gl_sgd_step(pp, v1, gg, len[k], lrs[k], m->momentum, m->wd);
    }
    out[0] = loss;
    out[1] = (float)correct / (float)B;
    out[2] = norm;
    return GL_OK;
}

#define EVAL_CHUNK 128 /* inference runs in chunks so the activation arenas stay small */

/* logits (B, classes) and labels (B, argmax; either may be NULL) of images (B, H, W), no dropout. */
GL_API int gl_stn_predict(void *mp, float *logits, int32_t *labels, const float *images, int B) {
    stn_model *m = (stn_model *)mp;
    int err = check_batch(m, "stn predict", images, B);
    if (!err) err = ensure_batch(m, B < EVAL_CHUNK ? B : EVAL_CHUNK);
    if (err) return err;
    size_t HW = (size_t)m->H * m->W, C = (size_t)m->classes;
    for (int b0 = 0; b0 < B; b0 += EVAL_CHUNK) {
        int nb = B - b0 < EVAL_CHUNK ? B - b0 : EVAL_CHUNK;
        forward(m, images + (size_t)b0 * HW, nb, 0);
        const float *z = m->a[A_LOGITS];
        for (int i = 0; i < nb; i++) {
            const float *zi = z + (size_t)i * C;
            if (logits) memcpy(logits + ((size_t)b0 + i) * C, zi, C * sizeof(float));
            if (labels) {
                int best = 0;
                for (int c = 1; c < (int)C; c++)
                    if (zi[c] > zi[best]) best = c;
                labels[b0 + i] = best;
            }
        }
    }
    return GL_OK;
}

/* theta (B, 3, 3) for projective, (B, 2, 3) otherwise (the identity without a transformer) and
 * the transformed images output (B, Ho, Wo) (either may be NULL). */
GL_API int gl_stn_transform(void *mp, float *theta, float *output, const float *images, int B) {
    stn_model *m = (stn_model *)mp;
    int err = check_batch(m, "stn transform", images, B);
    if (!err) err = ensure_batch(m, B < EVAL_CHUNK ? B : EVAL_CHUNK);
    if (err) return err;
    size_t HW = (size_t)m->H * m->W, HoWo = (size_t)m->Ho * m->Wo;
    int tsz = m->transform == TR_PROJECTIVE ? 9 : 6;
    for (int b0 = 0; b0 < B; b0 += EVAL_CHUNK) {
        int nb = B - b0 < EVAL_CHUNK ? B - b0 : EVAL_CHUNK;
        const float *x = transformer_forward(m, images + (size_t)b0 * HW, nb);
        if (output) memcpy(output + (size_t)b0 * HoWo, x, (size_t)nb * HoWo * sizeof(float));
        if (!theta) continue;
        for (int i = 0; i < nb; i++) {
            float *t = theta + ((size_t)b0 + i) * tsz;
            if (m->transform == TR_NONE) {
                static const float id[6] = {1, 0, 0, 0, 1, 0};
                memcpy(t, id, sizeof id);
            } else {
                memcpy(t, m->a[A_TH] + (size_t)i * m->T, (size_t)m->T * sizeof(float));
                if (m->transform == TR_PROJECTIVE) t[8] = 1.0f;
            }
        }
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Save / load (src/weights.h, kind GL_KIND_STN): the config words, then the parameter tensors
 * packed in P_* order. Optimiser state is not saved: a loaded model resumes with fresh moments. */

GL_API size_t gl_stn_save_size(void *mp, int f16) {
    stn_model *m = (stn_model *)mp;
    return gl_weights_size(STN_NCONFIG, m->nparams, f16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

GL_API int gl_stn_save(void *mp, uint8_t *out, size_t cap, int f16) {
    stn_model *m = (stn_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "stn save: null argument");
    return gl_weights_write(out, cap, GL_KIND_STN, m->cfg, STN_NCONFIG, (const float *const *)m->p, m->psize, P_COUNT,
                            f16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

/* Parameters a configuration needs, computed without allocating; 0 when the configuration is
 * invalid (model_new then says why). */
static size_t config_nparams(const uint32_t *cfg) {
    stn_model *m = (stn_model *)calloc(1, sizeof *m);
    size_t n = 0, s[P_COUNT];
    if (m && apply_config(m, cfg) == GL_OK) {
        param_sizes(m, s);
        for (int i = 0; i < P_COUNT; i++) n += s[i];
    }
    free(m);
    return n;
}

static int io_create(void **m, const uint32_t *cfg) { return model_new((stn_model **)m, cfg); }
static void io_destroy(void *m) { model_free((stn_model *)m); }
static void io_tensors(void *mp, float *const **ptrs, const size_t **sizes, int *count) {
    stn_model *m = (stn_model *)mp;
    *ptrs = m->p;
    *sizes = m->psize;
    *count = P_COUNT;
}

static const gl_model_io stn_io = {GL_KIND_STN, "stn", CF_DROPOUT, STN_NCONFIG, default_config, config_nparams,
                                     io_create, io_destroy, io_tensors};

GL_API int gl_stn_load(void **out, const uint8_t *bytes, size_t len) {
    return gl_weights_load_model(out, &stn_io, bytes, len);
}
