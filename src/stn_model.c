/* stn_model.c: the Spatial Transformer Network classifier (Jaderberg et al. 2015) trained end to
 * end in C, with by default exactly the architecture of the PyTorch STN tutorial
 * (pytorch.org/tutorials/intermediate/spatial_transformer_tutorial.html):
 *
 *   localisation net  [maxpool 2]^lpool -> conv lc1@lk1 -> maxpool 2 -> ReLU -> conv lc2@lk2
 *                     -> maxpool 2 -> ReLU -> FC lfc -> ReLU -> FC T (T = 6 affine / 8 projective /
 *                     2K thin-plate spline; weight 0 and bias = the identity transform)
 *   grid generator    affine (paper eq. 1, gl_affine_grid), projective (a homography,
 *                     x_s = (a x + b y + c) / (g x + h y + 1), y_s = (d x + e y + f) / (g x + h y + 1),
 *                     gl_projective8_grid_serial) or a thin-plate spline through K = gy x gx control
 *                     points (paper §3.1, gl_tps_grid_serial; theta = where the control points map to)
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
#include "stn_model.h"
#include "distort.h"
#include "grid.h"
#include "layers.h"
#include "model.h"
#include "pool.h"
#include "stn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Configuration: the words saved in the weights file (src/weights.h), in this order; their names,
 * ranges, defaults and docs are the schema stn_fields below. A file with fewer words (older
 * versions) gets the defaults for the rest. */

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
    CF_DISTORTION,   /* the distortion of the training data, if any (a record for users of the weights) */
    CF_TPS_GY, CF_TPS_GX, /* the thin-plate spline's control grid (transform 'tps') */
    STN_NCONFIG
};

enum { TR_NONE = 0, TR_AFFINE = 1, TR_PROJECTIVE = 2, TR_TPS = 3 };

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
    A_COL, A_WS, /* im2col scratch, the sampler's scratch */
    A_COUNT
};

#define MAX_POOL_IN 3

typedef struct {
    int h, w; /* input side of the conv stack */
    int a1h, a1w, p1h, p1w, a2h, a2w, p2h, p2w, flat;
} stack_geom;

/* One activation context (a shard in training, a thread in inference): act and dact (their
 * gradients) are two arenas laid out from one size table, so a[i] and d[i] correspond. */
typedef struct {
    gl_arena act, dact;
    float *a[A_COUNT], *d[A_COUNT];
    int cap; /* items the arenas are laid out for */
} stn_ctx;

typedef struct {
    gl_model base; /* config, parameters, gradients, optimiser, random streams (model.h) */
    int H, W, Ho, Wo, classes, transform, T; /* T: theta size, 0 / 6 / 8 / 2K */
    int tps_gy, tps_gx;
    float *tps_basis; /* (K, Ho*Wo), transform 'tps' only: made by the first stn_ensure, freed by release */
    int lpool, cpool;
    int lc1, lk1, lc2, lk2, lfc, c1, k1, c2, k2, fc;
    stack_geom lg, cg;
    float dropout;
    stn_ctx ctx[GL_MAX_CONTEXTS];
} stn_model;

/* The configuration schema (model.h): one entry per config word, in CF_* order. */
static const gl_field stn_fields[STN_NCONFIG] = {
    [CF_H] = {"height", GL_FIELD_INT, 4, 1024, 28, 0, 0, "Input height in pixels"},
    [CF_W] = {"width", GL_FIELD_INT, 4, 1024, 28, 0, 0, "Input width in pixels"},
    [CF_CLASSES] = {"classes", GL_FIELD_INT, 2, 100000, 10, 0, 0, "Number of classes"},
    [CF_SEED] = {"seed", GL_FIELD_INT, 0, 4294967295.0, 0, 0, 0, "Seed of the initialisation and of dropout"},
    [CF_TRANSFORM] = {"transform", GL_FIELD_ENUM, 0, 0, TR_AFFINE, "none|affine|projective|tps", 0,
                      "'affine' (6 parameters), 'projective' (8, a homography), 'tps' (a thin-plate spline: 2 per control point) or 'none' (the plain CNN)"},
    [CF_HO] = {"outputSize.0", GL_FIELD_INT, 1, 1024, 0, 0, GL_FIELD_DERIVED,
               "Height of the transformer's output, which the classifier sees (default: height)"},
    [CF_WO] = {"outputSize.1", GL_FIELD_INT, 1, 1024, 0, 0, GL_FIELD_DERIVED,
               "Width of the transformer's output (default: width)"},
    [CF_DROPOUT] = {"dropout", GL_FIELD_FLOAT, 0, 0.95, 0.5, 0, 0,
                    "Dropout probability of the classifier's Dropout2d and of the dropout after its hidden layer"},
    [CF_OPTIMIZER] = {"optimizer", GL_FIELD_ENUM, 0, 0, GL_OPT_SGD, "sgd|adam", 0, "'sgd' (with momentum) or 'adam'"},
    [CF_LR] = {"learningRate", GL_FIELD_FLOAT, 1e-12, 100, 0, 0, GL_FIELD_DERIVED,
               "Learning rate (default 0.01 for SGD, 0.001 for Adam)"},
    [CF_MOMENTUM] = {"momentum", GL_FIELD_FLOAT, 0, 0.9999, 0.9, 0, 0, "SGD momentum"},
    [CF_WD] = {"weightDecay", GL_FIELD_FLOAT, 0, 1, 0, 0, 0, "L2 weight decay, as torch's weight_decay"},
    [CF_CLIP] = {"clipNorm", GL_FIELD_FLOAT, 0, 1e30, 10, 0, 0,
                 "Clip the gradient to this L2 norm before each step (0 = no clipping)"},
    [CF_LOC_LR] = {"locLearningRateScale", GL_FIELD_FLOAT, 0, 100, 1, 0, 0,
                   "Multiplier of the learning rate of the localisation net"},
    [CF_LPOOL] = {"locPool", GL_FIELD_INT, 0, MAX_POOL_IN, 0, 0, GL_FIELD_AUTO | GL_FIELD_DERIVED,
                  "2x2 max-pools applied to the localisation net's input, or 'auto' (1 when min(height, width) >= 56, else 0)"},
    [CF_LC1] = {"locChannels.0", GL_FIELD_INT, 1, 1024, 8, 0, 0, "Channels of the localisation net's first conv"},
    [CF_LK1] = {"locKernels.0", GL_FIELD_INT, 1, 64, 7, 0, 0, "Kernel size of the localisation net's first conv"},
    [CF_LC2] = {"locChannels.1", GL_FIELD_INT, 1, 1024, 10, 0, 0, "Channels of the localisation net's second conv"},
    [CF_LK2] = {"locKernels.1", GL_FIELD_INT, 1, 64, 5, 0, 0, "Kernel size of the localisation net's second conv"},
    [CF_LFC] = {"locHidden", GL_FIELD_INT, 1, 1024, 32, 0, 0, "Hidden units of the localisation net"},
    [CF_C1] = {"channels.0", GL_FIELD_INT, 1, 1024, 10, 0, 0, "Channels of the classifier's first conv"},
    [CF_K1] = {"kernels.0", GL_FIELD_INT, 1, 64, 5, 0, 0, "Kernel size of the classifier's first conv"},
    [CF_C2] = {"channels.1", GL_FIELD_INT, 1, 1024, 20, 0, 0, "Channels of the classifier's second conv"},
    [CF_K2] = {"kernels.1", GL_FIELD_INT, 1, 64, 5, 0, 0, "Kernel size of the classifier's second conv"},
    [CF_FC] = {"hidden", GL_FIELD_INT, 1, 1024, 50, 0, 0, "Hidden units of the classifier"},
    [CF_BETA1] = {"beta1", GL_FIELD_FLOAT, 0, 0.9999, 0.9, 0, 0, "Adam's beta1"},
    [CF_BETA2] = {"beta2", GL_FIELD_FLOAT, 0, 0.999999, 0.999, 0, 0, "Adam's beta2"},
    [CF_CPOOL] = {"classifierPool", GL_FIELD_INT, 0, MAX_POOL_IN, 0, 0, 0, "2x2 max-pools applied to the classifier's input"},
    [CF_DISTORTION] = {"distortion", GL_FIELD_ENUM, 0, 0, 0, "none|" GL_DISTORT_NAMES, 0,
                       "The distortion of the data it is trained on, recorded in its weights ('none', or a kind of g.distort); it changes nothing in the network"},
    [CF_TPS_GY] = {"controlGrid.0", GL_FIELD_INT, 2, GL_TPS_MAX_SIDE, 4, 0, 0,
                   "Rows of the thin-plate spline's regular grid of control points over [-1, 1]^2 (transform 'tps')"},
    [CF_TPS_GX] = {"controlGrid.1", GL_FIELD_INT, 2, GL_TPS_MAX_SIDE, 4, 0, 0,
                   "Columns of the thin-plate spline's control grid (transform 'tps')"},
};

/* The parameter tensors' names: those of the PyTorch STN tutorial's state_dict. */
static const char *const stn_tensor_names[P_COUNT] = {
    "localization.0.weight", "localization.0.bias", "localization.3.weight", "localization.3.bias",
    "fc_loc.0.weight", "fc_loc.0.bias", "fc_loc.2.weight", "fc_loc.2.bias",
    "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
};

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

/* Derive the network's sizes from the (range-checked) configuration words; resolve the derived
 * words; check what involves several words. */
static int stn_configure(gl_model *base) {
    stn_model *m = (stn_model *)base;
    uint32_t *c = base->cfg;
    if (c[CF_HO] == GL_AUTO) c[CF_HO] = c[CF_H];
    if (c[CF_WO] == GL_AUTO) c[CF_WO] = c[CF_W];
    if (c[CF_TRANSFORM] == TR_NONE && (c[CF_HO] != c[CF_H] || c[CF_WO] != c[CF_W]))
        return gl_fail(GL_EINVAL, "stn: outputSize must equal [height, width] = [%u, %u] when transform is 'none', got [%u, %u]",
                       c[CF_H], c[CF_W], c[CF_HO], c[CF_WO]);
    if (c[CF_LPOOL] == GL_AUTO) c[CF_LPOOL] = (c[CF_H] < c[CF_W] ? c[CF_H] : c[CF_W]) >= 56 ? 1 : 0;
    if (c[CF_LR] == GL_AUTO) c[CF_LR] = gl_f2u(c[CF_OPTIMIZER] == GL_OPT_ADAM ? 0.001f : 0.01f);
    m->H = (int)c[CF_H]; m->W = (int)c[CF_W]; m->classes = (int)c[CF_CLASSES];
    m->transform = (int)c[CF_TRANSFORM];
    m->tps_gy = (int)c[CF_TPS_GY]; m->tps_gx = (int)c[CF_TPS_GX];
    m->T = m->transform == TR_AFFINE ? 6 : m->transform == TR_PROJECTIVE ? 8 : m->transform == TR_TPS ? 2 * m->tps_gy * m->tps_gx : 0;
    m->Ho = (int)c[CF_HO]; m->Wo = (int)c[CF_WO];
    m->lpool = (int)c[CF_LPOOL]; m->cpool = (int)c[CF_CPOOL];
    m->lc1 = (int)c[CF_LC1]; m->lk1 = (int)c[CF_LK1]; m->lc2 = (int)c[CF_LC2]; m->lk2 = (int)c[CF_LK2]; m->lfc = (int)c[CF_LFC];
    m->c1 = (int)c[CF_C1]; m->k1 = (int)c[CF_K1]; m->c2 = (int)c[CF_C2]; m->k2 = (int)c[CF_K2]; m->fc = (int)c[CF_FC];
    m->dropout = gl_cfg_float(base, CF_DROPOUT);
    /* the localisation net (tensors P_LC1W..P_LF2B, first in the arena) learns at lr * loc_lr */
    for (int i = P_LC1W; i <= P_LF2B; i++) base->lr_scale[i] = gl_cfg_float(base, CF_LOC_LR);
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
    if (m->transform == TR_TPS && !gl_size((size_t)m->Ho * m->Wo, (size_t)m->T / 2, 1, 1))
        return gl_fail(GL_ENOMEM, "stn: the thin-plate spline's basis is too large for a %dx%d output (outputSize, controlGrid)", m->Ho, m->Wo);
    if (!gl_size((size_t)m->k1 * m->k1, (size_t)m->cg.a1h, (size_t)m->cg.a1w, 1) ||
        !gl_size((size_t)m->c1 * m->k2 * m->k2, (size_t)m->cg.a2h, (size_t)m->cg.a2w, 1))
        return gl_fail(GL_ENOMEM, "stn: classifier too large for a %dx%d input (channels, kernels)", m->Ho, m->Wo);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters. */

static void stn_tensor_sizes(const gl_model *base, size_t *s) {
    const stn_model *m = (const stn_model *)base;
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

/* PyTorch's default init (uniform +-1/sqrt(fan_in) for weights and biases of Conv2d and Linear),
 * except the last localisation layer: weight 0, bias = the identity transform. */
static void stn_init(gl_model *base) {
    stn_model *m = (stn_model *)base;
    gl_rng *r = &base->init_rng;
    if (m->transform != TR_NONE) {
        float b1 = gl_fan_in_bound(m->lk1 * m->lk1), b2 = gl_fan_in_bound(m->lc1 * m->lk2 * m->lk2);
        float b3 = gl_fan_in_bound(m->lg.flat);
        gl_init_uniform(m->base.p[P_LC1W], m->base.psize[P_LC1W], b1, r);
        gl_init_uniform(m->base.p[P_LC1B], m->base.psize[P_LC1B], b1, r);
        gl_init_uniform(m->base.p[P_LC2W], m->base.psize[P_LC2W], b2, r);
        gl_init_uniform(m->base.p[P_LC2B], m->base.psize[P_LC2B], b2, r);
        gl_init_uniform(m->base.p[P_LF1W], m->base.psize[P_LF1W], b3, r);
        gl_init_uniform(m->base.p[P_LF1B], m->base.psize[P_LF1B], b3, r);
        memset(m->base.p[P_LF2W], 0, m->base.psize[P_LF2W] * sizeof(float));
        static const float id_affine[6] = {1, 0, 0, 0, 1, 0};
        static const float id_proj[8] = {1, 0, 0, 0, 1, 0, 0, 0};
        if (m->transform == TR_TPS) gl_tps_control_points(m->base.p[P_LF2B], m->tps_gy, m->tps_gx);
        else memcpy(m->base.p[P_LF2B], m->T == 6 ? id_affine : id_proj, (size_t)m->T * sizeof(float));
    }
    float b1 = gl_fan_in_bound(m->k1 * m->k1), b2 = gl_fan_in_bound(m->c1 * m->k2 * m->k2);
    float b3 = gl_fan_in_bound(m->cg.flat), b4 = gl_fan_in_bound(m->fc);
    gl_init_uniform(m->base.p[P_C1W], m->base.psize[P_C1W], b1, r);
    gl_init_uniform(m->base.p[P_C1B], m->base.psize[P_C1B], b1, r);
    gl_init_uniform(m->base.p[P_C2W], m->base.psize[P_C2W], b2, r);
    gl_init_uniform(m->base.p[P_C2B], m->base.psize[P_C2B], b2, r);
    gl_init_uniform(m->base.p[P_F1W], m->base.psize[P_F1W], b3, r);
    gl_init_uniform(m->base.p[P_F1B], m->base.psize[P_F1B], b3, r);
    gl_init_uniform(m->base.p[P_F2W], m->base.psize[P_F2W], b4, r);
    gl_init_uniform(m->base.p[P_F2B], m->base.psize[P_F2B], b4, r);
}

/* ---------------------------------------------------------------------------------------- */
/* Activations for a batch of B. */

/* im2col scratch for a batch of B (every conv of both stacks shares it, one at a time). */
static size_t col_floats(const stn_model *m, int B) {
    size_t c = gl_conv2d_col_size(B, 1, m->cg.h, m->cg.w, m->c1, m->k1);
    size_t c2 = gl_conv2d_col_size(B, m->c1, m->cg.p1h, m->cg.p1w, m->c2, m->k2);
    if (c2 > c) c = c2;
    if (m->transform != TR_NONE) {
        size_t l1 = gl_conv2d_col_size(B, 1, m->lg.h, m->lg.w, m->lc1, m->lk1);
        size_t l2 = gl_conv2d_col_size(B, m->lc1, m->lg.p1h, m->lg.p1w, m->lc2, m->lk2);
        if (l1 > c) c = l1;
        if (l2 > c) c = l2;
    }
    return c;
}

static int layout_acts(stn_model *m, stn_ctx *cx, int B) {
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
    s[A_COL] = col_floats(m, B);
    if (m->transform != TR_NONE) s[A_WS] = gl_grid_sample_ws_floats(1, m->H, m->W, 0);
    size_t total = 0;
    for (int i = 0; i < A_COUNT; i++) {
        if (s[i] > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "stn: batch of %d is too large", B);
        total += gl_arena_round(s[i]);
        if (total > GL_MAX_FLOATS) return gl_fail(GL_ENOMEM, "stn: batch of %d needs too much memory", B);
    }
    gl_arena_free(&cx->act);
    gl_arena_free(&cx->dact);
    cx->cap = 0;
    int err = gl_arena_layout(&cx->act, cx->a, s, A_COUNT);
    if (!err) err = gl_arena_layout(&cx->dact, cx->d, s, A_COUNT);
    if (err) {
        gl_arena_free(&cx->act);
        gl_arena_free(&cx->dact);
        return err;
    }
    cx->cap = B;
    return GL_OK;
}

/* Zero the activation gradients that backward accumulates into (+=); argmax indices, dropout
 * masks and the im2col scratch never carry gradients and are skipped. */
static void zero_act_grads(stn_ctx *cx) {
    static const int skip[] = {A_LIN1, A_LIN1I, A_LIN2, A_LIN2I, A_LIN3, A_LIN3I, A_LI1, A_LI2,
                               A_CIN1I, A_CIN2I, A_CIN3I, A_I1, A_I2, A_M2, A_MH, A_COL, A_WS};
    int zero[A_COUNT];
    for (int i = 0; i < A_COUNT; i++) zero[i] = 1;
    for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++) zero[skip[k]] = 0;
    for (int i = 0; i < A_COUNT; i++) {
        if (!zero[i]) continue;
        /* the size of slot i: distance to the next slot (the arena is laid out in slot order) */
        float *end = i + 1 < A_COUNT ? cx->d[i + 1] : cx->dact.base + cx->dact.used;
        memset(cx->d[i], 0, (size_t)(end - cx->d[i]) * sizeof(float));
    }
}

/* gl_model_job.ensure: context c laid out for n items. */
static int stn_ensure(gl_model *base, int c, int n, void *arg) {
    (void)arg;
    stn_model *m = (stn_model *)base;
    if (m->transform == TR_TPS && !m->tps_basis) { /* the spline's basis: fixed by the sizes, made once */
        size_t n_basis = gl_tps_basis_floats(m->Ho, m->Wo, m->tps_gy, m->tps_gx);
        float *basis = (float *)malloc(n_basis * sizeof(float));
        if (!basis) return gl_fail(GL_ENOMEM, "stn: out of memory for the thin-plate spline's basis");
        int err = gl_tps_basis(basis, m->Ho, m->Wo, m->tps_gy, m->tps_gx, 0);
        if (err) {
            free(basis);
            return err;
        }
        m->tps_basis = basis;
    }
    return n <= m->ctx[c].cap ? GL_OK : layout_acts(m, &m->ctx[c], n);
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

static conv_stack loc_stack(stn_model *m, float *const *g) {
    conv_stack s = {m->lpool, A_LIN1, A_LA1, A_LP1, A_LI1, A_LA2, A_LP2, A_LI2, -1, -1,
                    m->lc1, m->lk1, m->lc2, m->lk2,
                    m->base.p[P_LC1W], m->base.p[P_LC1B], m->base.p[P_LC2W], m->base.p[P_LC2B],
                    g ? g[P_LC1W] : NULL, g ? g[P_LC1B] : NULL, g ? g[P_LC2W] : NULL, g ? g[P_LC2B] : NULL, &m->lg};
    return s;
}
static conv_stack cls_stack(stn_model *m, float *const *g) {
    conv_stack s = {m->cpool, A_CIN1, A_A1, A_P1, A_I1, A_A2, A_P2, A_I2, A_Q2, A_M2,
                    m->c1, m->k1, m->c2, m->k2,
                    m->base.p[P_C1W], m->base.p[P_C1B], m->base.p[P_C2W], m->base.p[P_C2B],
                    g ? g[P_C1W] : NULL, g ? g[P_C1B] : NULL, g ? g[P_C2W] : NULL, g ? g[P_C2B] : NULL, &m->cg};
    return s;
}

/* Returns the flattened features (B, C2 * p2h * p2w). dropout2d applies when s->q2 >= 0 and p > 0. */
static const float *stack_forward(stn_model *m, stn_ctx *cx, gl_rng *rng, const conv_stack *s, const float *x, int h, int w,
                                  int B, float p) {
    for (int i = 0; i < s->npool; i++) {
        float *o = cx->a[s->in_slot + 2 * i];
        gl_maxpool2_forward(o, (int32_t *)cx->a[s->in_slot + 2 * i + 1], x, B, 1, h, w);
        x = o; h /= 2; w /= 2;
    }
    const stack_geom *g = s->g;
    float *col = cx->a[A_COL];
    gl_conv2d_forward(cx->a[s->a1], col, x, s->w1, s->b1, B, 1, h, w, s->C1, s->K1);
    size_t n1 = (size_t)B * s->C1 * g->p1h * g->p1w;
    gl_maxpool2_forward(cx->a[s->p1], (int32_t *)cx->a[s->i1], cx->a[s->a1], B, s->C1, g->a1h, g->a1w);
    gl_relu_forward(cx->a[s->p1], cx->a[s->p1], n1);
    gl_conv2d_forward(cx->a[s->a2], col, cx->a[s->p1], s->w2, s->b2, B, s->C1, g->p1h, g->p1w, s->C2, s->K2);
    size_t n2 = (size_t)B * g->flat;
    gl_maxpool2_forward(cx->a[s->p2], (int32_t *)cx->a[s->i2], cx->a[s->a2], B, s->C2, g->a2h, g->a2w);
    float *out = cx->a[s->p2];
    if (s->q2 >= 0 && p > 0.0f) {
        gl_dropout_forward(cx->a[s->q2], cx->a[s->m2], out, n2, (size_t)g->p2h * g->p2w, p, rng);
        out = cx->a[s->q2];
    }
    gl_relu_forward(out, out, n2);
    return out;
}

/* dfeat: gradient of the flattened output (the buffer that matches stack_forward's return).
 * dx: gradient of the stack input x (B, 1, h, w), or NULL. */
static void stack_backward(stn_model *m, stn_ctx *cx, const conv_stack *s, float *dfeat, const float *x, int h, int w,
                           float *dx, int B, float p) {
    const stack_geom *g = s->g;
    size_t n2 = (size_t)B * g->flat;
    float *col = cx->a[A_COL];
    if (s->q2 >= 0 && p > 0.0f) {
        gl_relu_mask(dfeat, cx->a[s->q2], n2);
        gl_dropout_backward(cx->d[s->p2], dfeat, cx->a[s->m2], n2, (size_t)g->p2h * g->p2w);
    } else {
        gl_relu_mask(dfeat, cx->a[s->p2], n2); /* dfeat is d[p2] */
    }
    gl_maxpool2_backward(cx->d[s->a2], cx->d[s->p2], (int32_t *)cx->a[s->i2], B, s->C2, g->a2h, g->a2w);
    /* the stack's (pooled) input */
    const float *xin = x;
    int hh = h, ww = w;
    for (int i = 0; i < s->npool; i++) { xin = cx->a[s->in_slot + 2 * i]; hh /= 2; ww /= 2; }
    gl_conv2d_backward(cx->d[s->p1], s->dw2, s->db2, col, cx->d[s->a2], cx->a[s->p1], s->w2, B, s->C1, g->p1h, g->p1w,
                       s->C2, s->K2);
    gl_relu_mask(cx->d[s->p1], cx->a[s->p1], (size_t)B * s->C1 * g->p1h * g->p1w);
    gl_maxpool2_backward(cx->d[s->a1], cx->d[s->p1], (int32_t *)cx->a[s->i1], B, s->C1, g->a1h, g->a1w);
    float *dxin = NULL;
    if (dx) dxin = s->npool ? cx->d[s->in_slot + 2 * (s->npool - 1)] : dx;
    gl_conv2d_backward(dxin, s->dw1, s->db1, col, cx->d[s->a1], xin, s->w1, B, 1, hh, ww, s->C1, s->K1);
    if (dx) {
        for (int i = s->npool - 1; i >= 0; i--) {
            float *dlo = i ? cx->d[s->in_slot + 2 * (i - 1)] : dx;
            gl_maxpool2_backward(dlo, cx->d[s->in_slot + 2 * i], (int32_t *)cx->a[s->in_slot + 2 * i + 1], B, 1,
                                 h >> i, w >> i);
        }
    }
}

/* Localisation net + grid + sampler: theta (B, T) in a[A_TH], output in a[A_XS]. Returns the
 * classifier input (a[A_XS], or the images themselves without a transformer). */
static const float *transformer_forward(stn_model *m, stn_ctx *cx, const float *images, int B) {
    if (m->transform == TR_NONE) return images;
    conv_stack s = loc_stack(m, NULL);
    const float *feat = stack_forward(m, cx, NULL, &s, images, m->H, m->W, B, 0.0f);
    gl_linear_forward(cx->a[A_LH], feat, m->base.p[P_LF1W], m->base.p[P_LF1B], B, m->lg.flat, m->lfc);
    gl_relu_forward(cx->a[A_LH], cx->a[A_LH], (size_t)B * m->lfc);
    gl_linear_forward(cx->a[A_TH], cx->a[A_LH], m->base.p[P_LF2W], m->base.p[P_LF2B], B, m->lfc, m->T);
    if (m->transform == TR_AFFINE) gl_affine_grid_serial(cx->a[A_GRID], cx->a[A_TH], B, m->Ho, m->Wo, 0);
    else if (m->transform == TR_PROJECTIVE) gl_projective8_grid_serial(cx->a[A_GRID], cx->a[A_TH], B, m->Ho, m->Wo, 0);
    else gl_tps_grid_serial(cx->a[A_GRID], m->tps_basis, cx->a[A_TH], B, m->Ho * m->Wo, m->tps_gy * m->tps_gx);
    gl_grid_sample_serial(cx->a[A_WS], cx->a[A_XS], images, cx->a[A_GRID], B, 1, m->H, m->W, m->Ho, m->Wo, GL_MODE_BILINEAR,
                          GL_PAD_ZEROS, 0);
    return cx->a[A_XS];
}

/* The classifier alone, from its input x (B, Ho, Wo) to logits (a[A_LOGITS]); train: dropout on,
 * with masks from rng. */
static void classifier_forward(stn_model *m, stn_ctx *cx, gl_rng *rng, const float *x, int B, int train) {
    conv_stack s = cls_stack(m, NULL);
    float p = train ? m->dropout : 0.0f;
    const float *feat = stack_forward(m, cx, rng, &s, x, m->Ho, m->Wo, B, p);
    gl_linear_forward(cx->a[A_H], feat, m->base.p[P_F1W], m->base.p[P_F1B], B, m->cg.flat, m->fc);
    gl_relu_forward(cx->a[A_H], cx->a[A_H], (size_t)B * m->fc);
    const float *hd = cx->a[A_H];
    if (p > 0.0f) {
        gl_dropout_forward(cx->a[A_HD], cx->a[A_MH], cx->a[A_H], (size_t)B * m->fc, 1, p, rng);
        hd = cx->a[A_HD];
    }
    gl_linear_forward(cx->a[A_LOGITS], hd, m->base.p[P_F2W], m->base.p[P_F2B], B, m->fc, m->classes);
}

/* Full forward to logits (a[A_LOGITS]) in context cx: transformer, then classifier. */
static void forward(stn_model *m, stn_ctx *cx, gl_rng *rng, const float *images, int B, int train) {
    classifier_forward(m, cx, rng, transformer_forward(m, cx, images, B), B, train);
}

/* Backward from d[A_LOGITS] into the gradients g (accumulating). Assumes forward(m, cx, ..., images,
 * B, train) ran. */
static void backward(stn_model *m, stn_ctx *cx, float *const *g, const float *images, int B, int train) {
    float p = train ? m->dropout : 0.0f;
    size_t nh = (size_t)B * m->fc;
    const float *hd = p > 0.0f ? cx->a[A_HD] : cx->a[A_H];
    float *dhd = p > 0.0f ? cx->d[A_HD] : cx->d[A_H];
    gl_linear_backward(dhd, g[P_F2W], g[P_F2B], cx->d[A_LOGITS], hd, m->base.p[P_F2W], B, m->fc, m->classes);
    if (p > 0.0f) gl_dropout_backward(cx->d[A_H], cx->d[A_HD], cx->a[A_MH], nh, 1);
    gl_relu_mask(cx->d[A_H], cx->a[A_H], nh);
    conv_stack s = cls_stack(m, g);
    int drop2 = p > 0.0f;
    const float *feat = drop2 ? cx->a[A_Q2] : cx->a[A_P2];
    float *dfeat = drop2 ? cx->d[A_Q2] : cx->d[A_P2];
    gl_linear_backward(dfeat, g[P_F1W], g[P_F1B], cx->d[A_H], feat, m->base.p[P_F1W], B, m->cg.flat, m->fc);
    int tr = m->transform != TR_NONE;
    const float *x = tr ? cx->a[A_XS] : images;
    stack_backward(m, cx, &s, dfeat, x, m->Ho, m->Wo, tr ? cx->d[A_XS] : NULL, B, p);
    if (!tr) return;
    /* sampler (paper eq. 6-7) and grid generator back to theta */
    gl_grid_sample_backward_serial(cx->a[A_WS], NULL, cx->d[A_GRID], cx->d[A_XS], images, cx->a[A_GRID], B, 1, m->H, m->W,
                                   m->Ho, m->Wo, GL_MODE_BILINEAR, GL_PAD_ZEROS, 0);
    if (m->transform == TR_AFFINE) gl_affine_grid_backward_serial(cx->d[A_TH], cx->d[A_GRID], B, m->Ho, m->Wo, 0);
    else if (m->transform == TR_PROJECTIVE)
        gl_projective8_grid_backward_serial(cx->d[A_TH], cx->d[A_GRID], cx->a[A_TH], B, m->Ho, m->Wo, 0);
    else gl_tps_grid_backward_serial(cx->d[A_TH], m->tps_basis, cx->d[A_GRID], B, m->Ho * m->Wo, m->tps_gy * m->tps_gx);
    gl_linear_backward(cx->d[A_LH], g[P_LF2W], g[P_LF2B], cx->d[A_TH], cx->a[A_LH], m->base.p[P_LF2W], B, m->lfc, m->T);
    gl_relu_mask(cx->d[A_LH], cx->a[A_LH], (size_t)B * m->lfc);
    conv_stack l = loc_stack(m, g);
    gl_linear_backward(cx->d[A_LP2], g[P_LF1W], g[P_LF1B], cx->d[A_LH], cx->a[A_LP2], m->base.p[P_LF1W], B, m->lg.flat,
                       m->lfc);
    stack_backward(m, cx, &l, cx->d[A_LP2], images, m->H, m->W, NULL, B, 0.0f);
}

/* ---------------------------------------------------------------------------------------- */
/* Exported API. */

static void stn_release(gl_model *base) {
    stn_model *m = (stn_model *)base;
    for (int c = 0; c < GL_MAX_CONTEXTS; c++) {
        gl_arena_free(&m->ctx[c].act);
        gl_arena_free(&m->ctx[c].dact);
    }
    free(m->tps_basis);
    m->tps_basis = NULL;
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

/* ---------------------------------------------------------------------------------------- */
/* Training: forward and backward shard by shard (gl_model_shards), then one update. */

typedef struct {
    const float *images;   /* (B, H, W) */
    const int32_t *labels; /* (B) */
    int B, train;          /* train: dropout on */
    /* inference outputs (any may be NULL) */
    float *logits;         /* (B, classes) */
    int32_t *argmax;       /* (B) */
    float *theta, *output; /* (B, 2|3, 3), (B, Ho, Wo) */
    int classifier_only;   /* images are the classifier's input (B, Ho, Wo): no transformer */
} stn_batch;

/* Shard items [i0, i1): stats[0] the summed cross-entropy, stats[1] the correct predictions. */
static int stn_shard(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    stn_model *m = (stn_model *)base;
    const stn_batch *a = (const stn_batch *)arg;
    stn_ctx *cx = &m->ctx[c];
    int n = i1 - i0;
    const float *images = a->images + (size_t)i0 * m->H * m->W;
    forward(m, cx, &sh->rng, images, n, a->train);
    zero_act_grads(cx);
    int correct = 0;
    /* the loss is the mean over the whole batch: every shard scales by 1 / B */
    sh->stats[0] = gl_softmax_xent(cx->d[A_LOGITS], NULL, &correct, cx->a[A_LOGITS], a->labels + i0, n, m->classes,
                                   1.0f / (float)a->B);
    sh->stats[1] = correct;
    backward(m, cx, sh->g, images, n, a->train);
    return GL_OK;
}

static int run_shards(stn_model *m, const char *fn, const float *images, const int32_t *labels, int B, int train,
                      uint64_t seed, double *stats) {
    int err = check_batch(m, fn, images, B);
    if (!err) err = check_labels(m, fn, labels, B);
    if (err) return err;
    stn_batch a = {images, labels, B, train, NULL, NULL, NULL, NULL, 0};
    gl_model_job job = {stn_ensure, stn_shard, &a};
    return gl_model_shards(&m->base, B, &job, seed, stats);
}

/* Loss and gradient at the current weights without dropout and without an update: the test hook
 * for finite-difference checks. The gradient is left in the grads arena (gl_model_grads).
 * out: [loss, accuracy]. */
GL_API int gl_stn_loss_grad(void *mp, float *out, const float *images, const int32_t *labels, int B) {
    stn_model *m = (stn_model *)mp;
    double st[GL_SHARD_STATS];
    int err = run_shards(m, "stn loss", images, labels, B, 0, 0, st);
    if (!err) err = gl_model_reduce(&m->base);
    if (err) return err;
    out[0] = (float)(st[0] / B);
    out[1] = (float)(st[1] / B);
    return GL_OK;
}

/* One optimiser step on a batch: images (B, H, W) in [0, 1], labels (B) in [0, classes).
 * out: [loss, accuracy, gradient norm before clipping]. A non-finite loss or gradient refuses
 * the step (GL_ENUMERIC) and leaves the weights and optimiser state unchanged. */
GL_API int gl_stn_train_batch(void *mp, float *out, const float *images, const int32_t *labels, int B) {
    stn_model *m = (stn_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "stn trainBatch: null model");
    gl_rng before = m->base.rng; /* a refused step leaves the dropout stream as it was */
    double st[GL_SHARD_STATS];
    int err = run_shards(m, "stn trainBatch", images, labels, B, 1, gl_model_step_seed(&m->base), st);
    float norm = 0.0f, loss = (float)(st[0] / B); /* reported (and checked) as a float */
    if (!err) err = gl_model_check_loss("stn trainBatch", loss);
    if (!err) err = gl_model_step(&m->base, "stn trainBatch", &norm);
    if (err) {
        m->base.rng = before;
        return err;
    }
    out[0] = loss;
    out[1] = (float)(st[1] / B);
    out[2] = norm;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Inference, in chunks (gl_model_chunks: a chunk's numbers do not depend on the thread count). */

#define EVAL_CHUNK 16

static int stn_infer(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    (void)sh;
    stn_model *m = (stn_model *)base;
    const stn_batch *a = (const stn_batch *)arg;
    stn_ctx *cx = &m->ctx[c];
    int n = i1 - i0;
    size_t C = (size_t)m->classes;
    const float *images = a->images + (size_t)i0 * (a->classifier_only ? (size_t)m->Ho * m->Wo : (size_t)m->H * m->W);
    if (a->logits || a->argmax || a->classifier_only) {
        if (a->classifier_only) classifier_forward(m, cx, NULL, images, n, 0);
        else forward(m, cx, NULL, images, n, 0);
        const float *z = cx->a[A_LOGITS];
        for (int i = 0; i < n; i++) {
            const float *zi = z + (size_t)i * C;
            if (a->logits) memcpy(a->logits + ((size_t)i0 + i) * C, zi, C * sizeof(float));
            if (a->argmax) {
                int best = 0;
                for (int k = 1; k < (int)C; k++)
                    if (zi[k] > zi[best]) best = k;
                a->argmax[i0 + i] = best;
            }
        }
        return GL_OK;
    }
    size_t HoWo = (size_t)m->Ho * m->Wo;
    const float *x = transformer_forward(m, cx, images, n);
    if (a->output) memcpy(a->output + (size_t)i0 * HoWo, x, (size_t)n * HoWo * sizeof(float));
    if (!a->theta) return GL_OK;
    int tsz = m->transform == TR_PROJECTIVE ? 9 : m->transform == TR_TPS ? m->T : 6;
    for (int i = 0; i < n; i++) {
        float *t = a->theta + ((size_t)i0 + i) * tsz;
        if (m->transform == TR_NONE) {
            static const float id[6] = {1, 0, 0, 0, 1, 0};
            memcpy(t, id, sizeof id);
        } else {
            memcpy(t, cx->a[A_TH] + (size_t)i * m->T, (size_t)m->T * sizeof(float));
            if (m->transform == TR_PROJECTIVE) t[8] = 1.0f;
        }
    }
    return GL_OK;
}

/* logits (B, classes) and labels (B, argmax; either may be NULL) of images (B, H, W), no dropout. */
GL_API int gl_stn_predict(void *mp, float *logits, int32_t *labels, const float *images, int B) {
    stn_model *m = (stn_model *)mp;
    int err = check_batch(m, "stn predict", images, B);
    if (err) return err;
    stn_batch a = {images, NULL, B, 0, logits, labels, NULL, NULL, 0};
    gl_model_job job = {stn_ensure, stn_infer, &a};
    return gl_model_chunks(&m->base, B, EVAL_CHUNK, &job);
}

/* The classifier alone: logits (B, classes) and labels (B, argmax; either may be NULL) of x (B, Ho,
 * Wo), images already sampled to what the classifier reads (e.g. through a theta of one's own with
 * gl_affine_grid and gl_grid_sample), no dropout. Without a transformer, Ho x Wo is H x W and this is
 * gl_stn_predict. */
GL_API int gl_stn_classify(void *mp, float *logits, int32_t *labels, const float *x, int B) {
    stn_model *m = (stn_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "stn classify: null model");
    if (!x) return gl_fail(GL_EINVAL, "stn classify: null images");
    if (B <= 0) return gl_fail(GL_EINVAL, "stn classify: batch must be positive, got %d", B);
    if (!gl_size((size_t)B, (size_t)m->H, (size_t)m->W, 1) || !gl_size((size_t)B, (size_t)m->Ho, (size_t)m->Wo, 1))
        return gl_fail(GL_ENOMEM, "stn classify: batch of %d is too large", B);
    stn_batch a = {x, NULL, B, 0, logits, labels, NULL, NULL, 1};
    gl_model_job job = {stn_ensure, stn_infer, &a};
    return gl_model_chunks(&m->base, B, EVAL_CHUNK, &job);
}

/* theta (B, 3, 3) for projective, (B, K, 2) for tps (the control points' images), (B, 2, 3) otherwise
 * (the identity without a transformer) and
 * the transformed images output (B, Ho, Wo) (either may be NULL). */
GL_API int gl_stn_transform(void *mp, float *theta, float *output, const float *images, int B) {
    stn_model *m = (stn_model *)mp;
    int err = check_batch(m, "stn transform", images, B);
    if (err) return err;
    stn_batch a = {images, NULL, B, 0, NULL, NULL, theta, output, 0};
    gl_model_job job = {stn_ensure, stn_infer, &a};
    return gl_model_chunks(&m->base, B, EVAL_CHUNK, &job);
}

/* The tensors' shapes, as the PyTorch STN tutorial's Net holds them (conv (O, C, K, K), linear
 * (O, I), biases (O)). */
static void stn_tensor_shape(const gl_model *base, int i, int *nd, uint64_t *d) {
    const stn_model *m = (const stn_model *)base;
    uint64_t o = 0, c = 0, k = 0, in = 0;
    switch (i) {
    case P_LC1W: case P_LC1B: o = (uint64_t)m->lc1; c = 1; k = (uint64_t)m->lk1; break;
    case P_LC2W: case P_LC2B: o = (uint64_t)m->lc2; c = (uint64_t)m->lc1; k = (uint64_t)m->lk2; break;
    case P_C1W: case P_C1B: o = (uint64_t)m->c1; c = 1; k = (uint64_t)m->k1; break;
    case P_C2W: case P_C2B: o = (uint64_t)m->c2; c = (uint64_t)m->c1; k = (uint64_t)m->k2; break;
    case P_LF1W: case P_LF1B: o = (uint64_t)m->lfc; in = (uint64_t)m->lg.flat; break;
    case P_LF2W: case P_LF2B: o = (uint64_t)m->T; in = (uint64_t)m->lfc; break;
    case P_F1W: case P_F1B: o = (uint64_t)m->fc; in = (uint64_t)m->cg.flat; break;
    default: o = (uint64_t)m->classes; in = (uint64_t)m->fc; break;
    }
    int bias = i % 2 == 1; /* every weight is followed by its bias (P_* order) */
    d[0] = o;
    if (bias) *nd = 1;
    else if (k) { *nd = 4; d[1] = c; d[2] = k; d[3] = k; }
    else { *nd = 2; d[1] = in; }
}

/* ---------------------------------------------------------------------------------------- */
/* The model type (model.h): create, load, save, free and the optimiser are generic. */

const gl_model_type gl_stn_type = {
    .kind = GL_KIND_STN, .name = "stn", .fields = stn_fields, .nfields = STN_NCONFIG, .min_config = CF_DROPOUT,
    .seed_field = CF_SEED, .opt = {CF_OPTIMIZER, CF_LR, CF_MOMENTUM, CF_WD, CF_CLIP, CF_BETA1, CF_BETA2}, .size = sizeof(stn_model),
    .ntensors = P_COUNT, .tensor_names = stn_tensor_names, .configure = stn_configure,
    .tensor_sizes = stn_tensor_sizes, .tensor_shape = stn_tensor_shape, .init = stn_init, .release = stn_release};

