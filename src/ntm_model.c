/* ntm_model.c: the Neural Turing Machine (Graves, Wayne & Danihelka 2014) trained on the tasks of
 * the paper's sec. 4 (copy, repeat copy, associative recall, priority sort, dynamic N-grams; their
 * examples come from src/ntm_tasks.c) in C, with the design choices that Collier & Beel (2018,
 * "Implementing Neural Turing Machines") found to converge fastest and most reliably. With
 * architecture 'lstm' the same code is the paper's LSTM baseline: the controller alone, no memory
 * and no heads (xin_t = x_t, y_t = h_t Wo^T + bo).
 *
 * One time step t (all heads address the memory BEFORE this step's writes, as in Collier & Beel's
 * reference implementation):
 *   controller input   xin_t = [x_t, r_{t-1}]                       (B, I), I = Ix + Hr*C
 *   controller         LSTM (torch LSTMCell semantics, layers.h) or feed-forward h = tanh(W xin + b)
 *                      h_t (B, Hd)
 *   head parameters    p_t = clip(h_t Wp^T + bp, +-pclip)            (B, P)
 *     per head: key k = tanh (C), beta = softplus, gate g = sigmoid, shift s = softmax (S = 2n+1),
 *     gamma = 1 + softplus (paper sec. 3.3, eq. 5-9); write heads also erase e = sigmoid (C) and
 *     add a = tanh (C) (eq. 3-4).
 *   addressing         w_t = address(M_{t-1}, k, beta, g, s, gamma, w_{t-1})  per head (src/ntm.c)
 *   read               r_t = sum_i w_t(i) M_{t-1}(i)                 (eq. 2)
 *   write              M_t = M_{t-1} o (1 - w e) + w a, one write head after the other (eq. 3-4)
 *   output             y_t = [h_t, r_t] Wo^T + bo (Y logits), sigmoid for probabilities
 * Initial state: h_0 = c_0 = 0; memory M_0 = a small constant (Collier & Beel: 1e-6, the best of
 * their constant / learned / random initialisations); read vectors r_0 = tanh(r0 param) and
 * weightings w_0 = softmax(w0 param), learned (Collier & Beel) or fixed (r_0 = 0 and w_0 focused
 * on row 0, not trained).
 *
 * Tasks (src/ntm_tasks.h): an example is an input (T, Ix), a target (T, Y) and a mask (T) marking
 * the output phase; Ix and Y follow from the task and bits. A batch of B examples shares its sizes
 * (one draw per batch from the task's ranges, e.g. the copy length uniform in [minLength,
 * maxLength], as Collier & Beel), so it shares T and the mask. The copy task (sec. 4.1): L random
 * vectors, the delimiter, L blank steps in which the model outputs the sequence: T = 2L+1.
 * Loss: binary cross-entropy with logits summed over the masked steps, mean over the batch
 * (nats per sequence; reported in bits per sequence, as the paper's Figure 3). Training is BPTT
 * through all T steps, global gradient-norm clipping, Adam.
 *
 * Buffers: params / grads / Adam m / Adam v are four arenas laid out from one size table (one flat
 * optimiser loop). Every per-step activation (inputs, controller states and caches, head
 * parameters, weightings, address caches, read vectors, every memory state, output logits) lives
 * in one activation arena sized for (batch, steps) and grown on demand up to ACT_LIMIT floats;
 * BPTT gradients carried between steps live in a small scratch arena sized for the batch.
 *
 * Deterministic: init, training data and evaluation data come from PCG32 streams seeded from the
 * config's seed (evaluation from the seed given to the call).
 */
#include "ntm_model.h"
#include "layers.h"
#include "model.h"
#include "ntm.h"
#include "ntm_tasks.h"
#include "pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Configuration: the words saved in the weights file, in this order; names, ranges, defaults and  */
/* docs are the schema ntm_fields below.                                                        */

enum {
    CF_BITS,       /* bits per vector of the task (derived: 8, recall 6, ngrams 1) */
    CF_R,          /* memory rows */
    CF_C,          /* memory row width */
    CF_HD,         /* controller size */
    CF_CTRL,       /* 0 LSTM, 1 feed-forward (tanh) */
    CF_HR,         /* read heads */
    CF_HW,         /* write heads */
    CF_SHIFT,      /* shift range n: offsets -n..n */
    CF_SEED,
    CF_LR,         /* float, Adam learning rate */
    CF_CLIP,       /* float, max gradient L2 norm, 0 = off */
    CF_BETA1,      /* float */
    CF_BETA2,      /* float */
    CF_MEMINIT,    /* float, the constant initial memory value */
    CF_LEARNINIT,  /* 1: learned r_0, w_0; 0: fixed */
    CF_PCLIP,      /* float, head parameters clipped to +-pclip before the activations, 0 = off */
    CF_TASK,       /* GL_TASK_* (ntm_tasks.h); files written before the tasks end here: copy */
    CF_ARCH,       /* ARCH_NTM, or ARCH_LSTM: the controller alone (the paper's LSTM baseline) */
    NTM_NCONFIG
};
enum { CTRL_LSTM = 0, CTRL_FF = 1 };
enum { ARCH_NTM = 0, ARCH_LSTM = 1 };

/* Parameter tensors. */
enum { P_WX, P_WH, P_B, P_WP, P_BP, P_WO, P_BO, P_R0, P_W0, P_COUNT };

/* Activation tensors, each holding every step (T, or T+1 for states with an initial value). */
enum {
    A_X,     /* (T, B, Ix) inputs */
    A_Y,     /* (T, B, Y) targets (zeros outside the output phase) */
    A_MASK,  /* (T) 1 at the output steps (the batch shares its sizes, so its mask) */
    A_XIN,   /* (T, B, I) controller inputs */
    A_H,     /* (T+1, B, Hd) controller outputs, [0] = h_0 = 0 */
    A_CS,    /* (T+1, B, Hd) LSTM cell states, [0] = 0 */
    A_GATES, /* (T, B, 4Hd) LSTM gate activations */
    A_TANHC, /* (T, B, Hd) */
    A_PRE,   /* (T, B, P) clipped head parameters before the activations */
    A_KR, A_BR, A_GR, A_SR, A_GAMR, /* read heads: (T,B,Hr,C), (T,B,Hr) x2, (T,B,Hr,S), (T,B,Hr) */
    A_KW, A_BW, A_GW, A_SW, A_GAMW, /* write heads, likewise with Hw */
    A_E, A_A, /* (T, B, Hw, C) erase and add vectors */
    A_WR,    /* (T+1, B, Hr, R) read weightings, [0] = w_0 */
    A_WW,    /* (T+1, B, Hw, R) write weightings */
    A_CR,    /* (T, B, Hr, 6R+2) address caches */
    A_CW,    /* (T, B, Hw, 6R+2) */
    A_RV,    /* (T+1, B, Hr, C) read vectors, [0] = r_0 */
    A_MEM,   /* (T*Hw+1, B, R, C) memory: [t*Hw] before step t, [t*Hw+j+1] after its write j */
    A_OIN,   /* (T, B, Hd + Hr*C) output layer inputs [h, r] */
    A_LOGIT, /* (T, B, Y) */
    A_COUNT
};

/* Scratch tensors for BPTT (sized for the batch). Pairs (X, Xn): the gradient reaching a state of
 * step t and the one being accumulated for step t-1. */
enum {
    S_DH, S_DHN, S_DC, S_DCN, S_DR, S_DRN, S_DWR, S_DWRN, S_DWW, S_DWWN, S_DM, S_DMN,
    S_DP, S_DXIN, S_DGATES, S_DOIN, S_DLOGIT,
    S_DKR, S_DBR, S_DGR, S_DSR, S_DGAMR, S_DKW, S_DBW, S_DGW, S_DSW, S_DGAMW, S_DE, S_DA,
    S_WS,  /* the addressing kernels' scratch */
    S_ERR, /* (B) wrong bits of each item */
    S_COUNT
};

/* Activation memory limit (floats): 64 Mi floats = 256 MiB. */
#define ACT_LIMIT ((size_t)1 << 26)
#define MAX_LENGTH 10000 /* the copy entry points' longest sequence */

/* One activation context (a shard in training, a thread in inference). */
typedef struct {
    gl_arena act, scr;
    float *a[A_COUNT], *s[S_COUNT];
    int capB, capT; /* activation arena laid out for (capB, capT); scratch for capB */
} ntm_ctx;

typedef struct {
    gl_model base; /* config, parameters, gradients, Adam, random streams (model.h) */
    int task, mem; /* GL_TASK_*; mem: 1 for the NTM, 0 for the LSTM baseline (then Hr = Hw = P = 0) */
    int bits, R, C, Hd, ctrl, Hr, Hw, n, S, Ix, Y, I, P, Ph, Oin, learn_init;
    float meminit, pclip;
    ntm_ctx ctx[GL_MAX_CONTEXTS];
} ntm_model;

/* The configuration schema (model.h), in CF_* order. */
static const gl_field ntm_fields[NTM_NCONFIG] = {
    [CF_BITS] = {"bits", GL_FIELD_INT, 1, 256, 0, 0, GL_FIELD_DERIVED,
                 "Bits per vector of the task (default 8; 6 for 'recall', as the paper; 'ngrams' reads one bit per step: 1)"},
    [CF_R] = {"memory.0", GL_FIELD_INT, 1, 4096, 128, 0, 0, "Memory rows R"},
    [CF_C] = {"memory.1", GL_FIELD_INT, 1, 1024, 20, 0, 0, "Memory row width C"},
    [CF_HD] = {"controller", GL_FIELD_INT, 1, 4096, 100, 0, 0, "Controller size"},
    [CF_CTRL] = {"controllerType", GL_FIELD_ENUM, 0, 0, CTRL_LSTM, "lstm|feedforward", 0,
                 "'lstm' or 'feedforward' (h = tanh(W [x, r] + b))"},
    [CF_HR] = {"heads.read", GL_FIELD_INT, 1, 16, 1, 0, 0, "Read heads"},
    [CF_HW] = {"heads.write", GL_FIELD_INT, 1, 16, 1, 0, 0, "Write heads"},
    [CF_SHIFT] = {"shift", GL_FIELD_INT, 0, 64, 1, 0, 0, "Shift range n: offsets -n..n (2n+1 <= R)"},
    [CF_SEED] = {"seed", GL_FIELD_INT, 0, 4294967295.0, 0, 0, 0, "Seed of the initialisation and of the training data"},
    [CF_LR] = {"learningRate", GL_FIELD_FLOAT, 1e-12, 10, 1e-3, 0, 0, "Adam learning rate"},
    [CF_CLIP] = {"clipNorm", GL_FIELD_FLOAT, 0, 1e30, 10, 0, 0, "Clip the gradient to this L2 norm (0 = off)"},
    [CF_BETA1] = {"beta1", GL_FIELD_FLOAT, 0, 0.9999, 0.9, 0, 0, "Adam's beta1"},
    [CF_BETA2] = {"beta2", GL_FIELD_FLOAT, 0, 0.999999, 0.999, 0, 0, "Adam's beta2"},
    [CF_MEMINIT] = {"memoryInit", GL_FIELD_FLOAT, -1, 1, 1e-6, 0, 0, "The constant initial memory value (Collier & Beel: 1e-6)"},
    [CF_LEARNINIT] = {"learnInit", GL_FIELD_BOOL, 0, 1, 1, 0, 0,
                      "Learned initial read vectors and weightings (true) or fixed ones (false)"},
    [CF_PCLIP] = {"paramClip", GL_FIELD_FLOAT, 0, 1e6, 20, 0, 0,
                  "Head parameters clipped to +-paramClip before their activations (0 = off)"},
    [CF_TASK] = {"task", GL_FIELD_ENUM, 0, 0, GL_TASK_COPY, "copy|repeat-copy|recall|sort|ngrams", 0,
                 "The task of the paper's sec. 4 the model learns: its inputs, targets and output phase"},
    [CF_ARCH] = {"architecture", GL_FIELD_ENUM, 0, 0, ARCH_NTM, "ntm|lstm", 0,
                 "'ntm', or 'lstm': the LSTM controller alone, no memory or heads (the paper's LSTM baseline)"},
};

static const char *const ntm_tensor_names[P_COUNT] = {
    "controller.weight_ih", "controller.weight_hh", "controller.bias", "heads.weight", "heads.bias",
    "output.weight", "output.bias", "init.read", "init.weighting",
};

static int ntm_configure(gl_model *base) {
    ntm_model *m = (ntm_model *)base;
    uint32_t *c = base->cfg;
    m->task = (int)c[CF_TASK];
    if (c[CF_BITS] == GL_AUTO) c[CF_BITS] = m->task == GL_TASK_NGRAMS ? 1 : m->task == GL_TASK_RECALL ? 6 : 8;
    if (m->task == GL_TASK_NGRAMS && c[CF_BITS] != 1)
        return gl_fail(GL_EINVAL, "ntm: task 'ngrams' reads one bit per step: bits must be 1 (or left out), got %u", c[CF_BITS]);
    if (2 * c[CF_SHIFT] + 1 > c[CF_R])
        return gl_fail(GL_EINVAL, "ntm: shift must satisfy 2*shift+1 <= R = memory[0] (offsets -shift..shift), got shift %u with R = %u", c[CF_SHIFT], c[CF_R]);
    m->mem = c[CF_ARCH] == ARCH_NTM;
    if (!m->mem && c[CF_CTRL] != CTRL_LSTM)
        return gl_fail(GL_EINVAL, "ntm: architecture 'lstm' (no memory) needs controllerType 'lstm', got 'feedforward'");
    m->bits = (int)c[CF_BITS]; m->R = (int)c[CF_R]; m->C = (int)c[CF_C]; m->Hd = (int)c[CF_HD];
    m->ctrl = (int)c[CF_CTRL]; m->n = (int)c[CF_SHIFT];
    m->Hr = m->mem ? (int)c[CF_HR] : 0; m->Hw = m->mem ? (int)c[CF_HW] : 0;
    m->S = 2 * m->n + 1; m->learn_init = (int)c[CF_LEARNINIT];
    gl_task_widths(m->task, m->bits, &m->Ix, &m->Y);
    m->I = m->Ix + m->Hr * m->C;
    m->Ph = m->C + m->S + 3;
    m->P = m->Hr * m->Ph + m->Hw * (m->Ph + 2 * m->C);
    m->Oin = m->Hd + m->Hr * m->C;
    m->meminit = gl_cfg_float(base, CF_MEMINIT);
    m->pclip = gl_cfg_float(base, CF_PCLIP);
    base->frozen[P_R0] = base->frozen[P_W0] = !m->learn_init; /* fixed initial state */
    return GL_OK;
}

static void ntm_tensor_sizes(const gl_model *base, size_t *s) {
    const ntm_model *m = (const ntm_model *)base;
    size_t G = m->ctrl == CTRL_LSTM ? 4 * (size_t)m->Hd : (size_t)m->Hd;
    s[P_WX] = G * m->I;
    s[P_WH] = m->ctrl == CTRL_LSTM ? G * m->Hd : 0;
    s[P_B] = G;
    s[P_WP] = (size_t)m->P * m->Hd;
    s[P_BP] = (size_t)m->P;
    s[P_WO] = (size_t)m->Y * m->Oin;
    s[P_BO] = (size_t)m->Y;
    s[P_R0] = (size_t)m->Hr * m->C;
    s[P_W0] = (size_t)(m->Hr + m->Hw) * m->R;
}

/* Controller and layers: PyTorch's defaults (uniform +-1/sqrt(fan_in) for LSTMCell and Linear
 * weights and biases). r0 and w0: Collier & Beel's learned_init, a bias-free fully connected layer
 * from the constant 1 with Glorot-uniform weights, i.e. uniform +-sqrt(6 / (1 + units)). Fixed
 * initial state: r0 = 0 (r_0 = tanh 0 = 0) and w0 = (20, 0, 0, ...) so w_0 is row 0 (to 1e-7). */
static void ntm_init(gl_model *base) {
    ntm_model *m = (ntm_model *)base;
    gl_rng *r = &base->init_rng;
    float bc = gl_fan_in_bound(m->Hd);
    float bx = m->ctrl == CTRL_LSTM ? bc : gl_fan_in_bound(m->I);
    gl_init_uniform(m->base.p[P_WX], m->base.psize[P_WX], bx, r);
    gl_init_uniform(m->base.p[P_WH], m->base.psize[P_WH], bc, r);
    gl_init_uniform(m->base.p[P_B], m->base.psize[P_B], bx, r);
    gl_init_uniform(m->base.p[P_WP], m->base.psize[P_WP], bc, r);
    gl_init_uniform(m->base.p[P_BP], m->base.psize[P_BP], bc, r);
    float bo = gl_fan_in_bound(m->Oin);
    gl_init_uniform(m->base.p[P_WO], m->base.psize[P_WO], bo, r);
    gl_init_uniform(m->base.p[P_BO], m->base.psize[P_BO], bo, r);
    if (m->learn_init) {
        gl_init_uniform(m->base.p[P_R0], m->base.psize[P_R0], sqrtf(6.0f / (1.0f + (float)m->C)), r);
        gl_init_uniform(m->base.p[P_W0], m->base.psize[P_W0], sqrtf(6.0f / (1.0f + (float)m->R)), r);
    } else {
        memset(m->base.p[P_R0], 0, m->base.psize[P_R0] * sizeof(float));
        memset(m->base.p[P_W0], 0, m->base.psize[P_W0] * sizeof(float));
        for (int h = 0; h < m->Hr + m->Hw; h++) m->base.p[P_W0][(size_t)h * m->R] = 20.0f;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Activation and scratch arenas. */

static int act_sizes(const ntm_model *m, int B, int T, size_t *s) {
    size_t b = (size_t)B, t = (size_t)T, t1 = t + 1;
    size_t Hd = (size_t)m->Hd, C = (size_t)m->C, R = (size_t)m->R, Hr = (size_t)m->Hr, Hw = (size_t)m->Hw;
    size_t S = (size_t)m->S, CF = GL_NTM_CACHE_FLOATS(m->R);
    s[A_X] = t * b * m->Ix;
    s[A_Y] = t * b * m->Y;
    s[A_MASK] = t;
    s[A_XIN] = t * b * m->I;
    s[A_H] = s[A_CS] = t1 * b * Hd;
    s[A_GATES] = m->ctrl == CTRL_LSTM ? t * b * 4 * Hd : 0;
    s[A_TANHC] = m->ctrl == CTRL_LSTM ? t * b * Hd : 0;
    s[A_PRE] = t * b * m->P;
    s[A_KR] = t * b * Hr * C; s[A_BR] = s[A_GR] = s[A_GAMR] = t * b * Hr; s[A_SR] = t * b * Hr * S;
    s[A_KW] = t * b * Hw * C; s[A_BW] = s[A_GW] = s[A_GAMW] = t * b * Hw; s[A_SW] = t * b * Hw * S;
    s[A_E] = s[A_A] = t * b * Hw * C;
    s[A_WR] = t1 * b * Hr * R;
    s[A_WW] = t1 * b * Hw * R;
    s[A_CR] = t * b * Hr * CF;
    s[A_CW] = t * b * Hw * CF;
    s[A_RV] = t1 * b * Hr * C;
    s[A_MEM] = m->mem ? (t * Hw + 1) * b * R * C : 0;
    s[A_OIN] = t * b * m->Oin;
    s[A_LOGIT] = t * b * m->Y;
    size_t total = 0;
    for (int i = 0; i < A_COUNT; i++) total += gl_arena_round(s[i]);
    /* sizes above are products of values bounded by the config checks and MAX_LENGTH, so no
     * overflow before this comparison */
    if (total > ACT_LIMIT)
        return gl_fail(GL_ENOMEM,
                       "ntm: a batch of %d sequences of %d steps needs %zu MiB of activations, over the limit of %zu MiB;"
                       " use a smaller batch or shorter sequences",
                       B, T, total / (1u << 18), ACT_LIMIT / (1u << 18));
    return GL_OK;
}

static int ensure_acts(ntm_model *m, ntm_ctx *cx, int B, int T) {
    if (B <= cx->capB && T <= cx->capT) return GL_OK;
    int nb = B > cx->capB ? B : cx->capB, nt = T > cx->capT ? T : cx->capT;
    size_t s[A_COUNT];
    int err = act_sizes(m, nb, nt, s);
    if (err && (nb != B || nt != T)) { /* the union does not fit: try exactly what is asked */
        nb = B; nt = T;
        err = act_sizes(m, nb, nt, s);
    }
    if (err) return err;
    gl_arena_free(&cx->act);
    cx->capT = 0;
    err = gl_arena_layout(&cx->act, cx->a, s, A_COUNT);
    if (err) return err;
    if (nb > cx->capB || !cx->scr.base) {
        size_t b = (size_t)nb, Hd = (size_t)m->Hd, C = (size_t)m->C, R = (size_t)m->R;
        size_t Hr = (size_t)m->Hr, Hw = (size_t)m->Hw, S = (size_t)m->S;
        size_t q[S_COUNT];
        q[S_DH] = q[S_DHN] = q[S_DC] = q[S_DCN] = b * Hd;
        q[S_DR] = q[S_DRN] = b * Hr * C;
        q[S_DWR] = q[S_DWRN] = b * Hr * R;
        q[S_DWW] = q[S_DWWN] = b * Hw * R;
        q[S_DM] = q[S_DMN] = m->mem ? b * R * C : 0;
        q[S_DP] = b * m->P;
        q[S_DXIN] = b * m->I;
        q[S_DGATES] = b * 4 * Hd;
        q[S_DOIN] = b * m->Oin;
        q[S_DLOGIT] = b * m->Y;
        q[S_DKR] = b * Hr * C; q[S_DBR] = q[S_DGR] = q[S_DGAMR] = b * Hr; q[S_DSR] = b * Hr * S;
        q[S_DKW] = b * Hw * C; q[S_DBW] = q[S_DGW] = q[S_DGAMW] = b * Hw; q[S_DSW] = b * Hw * S;
        q[S_DE] = q[S_DA] = b * Hw * C;
        q[S_WS] = m->mem ? gl_ntm_ws_floats(m->R) : 0;
        q[S_ERR] = b;
        gl_arena_free(&cx->scr);
        cx->capB = 0;
        err = gl_arena_layout(&cx->scr, cx->s, q, S_COUNT);
        if (err) {
            gl_arena_free(&cx->act);
            return err;
        }
    }
    cx->capB = nb;
    cx->capT = nt;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Forward. */

static inline float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

/* Pointers of one head group (read or write heads) at step t. */
typedef struct {
    int H;
    float *k, *beta, *g, *s, *gamma, *w, *wprev, *cache;
} head_group;

static head_group group_at(const ntm_model *m, const ntm_ctx *cx, int write, int t, int B) {
    head_group q;
    size_t b = (size_t)B, tt = (size_t)t;
    int H = write ? m->Hw : m->Hr;
    size_t h = (size_t)H, C = (size_t)m->C, R = (size_t)m->R, S = (size_t)m->S;
    q.H = H;
    q.k = cx->a[write ? A_KW : A_KR] + tt * b * h * C;
    q.beta = cx->a[write ? A_BW : A_BR] + tt * b * h;
    q.g = cx->a[write ? A_GW : A_GR] + tt * b * h;
    q.s = cx->a[write ? A_SW : A_SR] + tt * b * h * S;
    q.gamma = cx->a[write ? A_GAMW : A_GAMR] + tt * b * h;
    q.wprev = cx->a[write ? A_WW : A_WR] + tt * b * h * R;
    q.w = q.wprev + b * h * R;
    q.cache = cx->a[write ? A_CW : A_CR] + tt * b * h * GL_NTM_CACHE_FLOATS(m->R);
    return q;
}

/* Offset of global head hh's parameters in a row of P (read heads first). */
static size_t head_offset(const ntm_model *m, int hh) {
    if (hh < m->Hr) return (size_t)hh * m->Ph;
    return (size_t)m->Hr * m->Ph + (size_t)(hh - m->Hr) * (m->Ph + 2 * m->C);
}

/* Head activations of step t from the clipped pre-activations. */
static void head_activations(ntm_model *m, ntm_ctx *cx, int t, int B) {
    const float *pre = cx->a[A_PRE] + (size_t)t * B * m->P;
    int C = m->C, S = m->S;
    for (int wr = 0; wr < 2; wr++) {
        head_group q = group_at(m, cx, wr, t, B);
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < q.H; j++) {
                const float *p = pre + (size_t)b * m->P + head_offset(m, wr ? m->Hr + j : j);
                size_t bj = (size_t)b * q.H + j;
                float *k = q.k + bj * C, *s = q.s + bj * S;
                for (int c = 0; c < C; c++) k[c] = gl_tanhf(p[c]);
                q.beta[bj] = softplusf(p[C]);
                q.g[bj] = gl_sigmoidf(p[C + 1]);
                float mx = p[C + 2];
                for (int i = 1; i < S; i++) mx = p[C + 2 + i] > mx ? p[C + 2 + i] : mx;
                float z = 0.0f;
                for (int i = 0; i < S; i++) z += (s[i] = expf(p[C + 2 + i] - mx));
                for (int i = 0; i < S; i++) s[i] /= z;
                q.gamma[bj] = 1.0f + softplusf(p[C + 2 + S]);
                if (wr) {
                    float *e = cx->a[A_E] + ((size_t)t * B + b) * m->Hw * C + (size_t)j * C;
                    float *a = cx->a[A_A] + ((size_t)t * B + b) * m->Hw * C + (size_t)j * C;
                    for (int c = 0; c < C; c++) {
                        e[c] = gl_sigmoidf(p[m->Ph + c]);
                        a[c] = gl_tanhf(p[m->Ph + C + c]);
                    }
                }
            }
        }
    }
}

/* Initial state of a batch: h_0 = c_0 = 0, r_0 = tanh(r0), w_0 = softmax(w0), M_0 = meminit. */
static void initial_state(ntm_model *m, ntm_ctx *cx, int B) {
    size_t b = (size_t)B, Hd = (size_t)m->Hd, C = (size_t)m->C, R = (size_t)m->R;
    memset(cx->a[A_H], 0, b * Hd * sizeof(float));
    memset(cx->a[A_CS], 0, b * Hd * sizeof(float));
    float *r0 = cx->a[A_RV];
    for (size_t i = 0; i < (size_t)m->Hr * C; i++) r0[i] = gl_tanhf(m->base.p[P_R0][i]);
    for (size_t i = 1; i < b; i++) memcpy(r0 + i * m->Hr * C, r0, (size_t)m->Hr * C * sizeof(float));
    for (int hh = 0; hh < m->Hr + m->Hw; hh++) {
        const float *l = m->base.p[P_W0] + (size_t)hh * R;
        float *w0 = hh < m->Hr ? cx->a[A_WR] + (size_t)hh * R : cx->a[A_WW] + (size_t)(hh - m->Hr) * R;
        float mx = l[0];
        for (size_t i = 1; i < R; i++) mx = l[i] > mx ? l[i] : mx;
        double z = 0.0;
        for (size_t i = 0; i < R; i++) z += (w0[i] = expf(l[i] - mx));
        for (size_t i = 0; i < R; i++) w0[i] = (float)(w0[i] / z);
    }
    for (size_t i = 1; i < b; i++) {
        memcpy(cx->a[A_WR] + i * m->Hr * R, cx->a[A_WR], (size_t)m->Hr * R * sizeof(float));
        memcpy(cx->a[A_WW] + i * m->Hw * R, cx->a[A_WW], (size_t)m->Hw * R * sizeof(float));
    }
    float *M0 = cx->a[A_MEM];
    if (m->mem)
        for (size_t i = 0; i < b * R * C; i++) M0[i] = m->meminit;
}

/* Forward over T steps (A_X, A_Y, A_MASK filled). *loss: BCE nats summed over the masked steps and
 * the batch; *errors: wrong bits (logit > 0 vs target > 0.5) summed likewise; *wrong (or NULL):
 * the items with at least one wrong bit. all_outputs: logits at every step (for runTask), not only
 * at the masked ones (the loss is the same). */
static int forward(ntm_model *m, ntm_ctx *cx, int B, int T, int all_outputs, double *loss, double *errors, double *wrong) {
    int Hd = m->Hd, I = m->I, Ix = m->Ix, P = m->P, C = m->C, R = m->R, S = m->S;
    int Hr = m->Hr, Hw = m->Hw, Y = m->Y;
    size_t b = (size_t)B, RC = (size_t)R * C;
    double ls = 0.0, ne = 0.0;
    float *err_of = cx->s[S_ERR];
    memset(err_of, 0, b * sizeof(float));
    initial_state(m, cx, B);
    for (int t = 0; t < T; t++) {
        size_t tt = (size_t)t;
        const float *x = cx->a[A_X] + tt * b * Ix;
        float *xin = cx->a[A_XIN] + tt * b * I;
        const float *rprev = cx->a[A_RV] + tt * b * Hr * C;
        for (size_t i = 0; i < b; i++) {
            memcpy(xin + i * I, x + i * Ix, (size_t)Ix * sizeof(float));
            if (Hr) memcpy(xin + i * I + Ix, rprev + i * Hr * C, (size_t)Hr * C * sizeof(float));
        }
        float *hp = cx->a[A_H] + tt * b * Hd, *h = hp + b * Hd;
        float *cp = cx->a[A_CS] + tt * b * Hd, *c = cp + b * Hd;
        if (m->ctrl == CTRL_LSTM) {
            gl_lstm_forward(h, c, cx->a[A_GATES] + tt * b * 4 * Hd, cx->a[A_TANHC] + tt * b * Hd, xin, t ? hp : NULL,
                            t ? cp : NULL, m->base.p[P_WX], m->base.p[P_WH], m->base.p[P_B], B, I, Hd);
        } else {
            gl_linear_forward(h, xin, m->base.p[P_WX], m->base.p[P_B], B, I, Hd);
            gl_tanh_forward(h, h, b * Hd);
            memset(c, 0, b * Hd * sizeof(float));
        }
        float *rv = cx->a[A_RV] + (tt + 1) * b * Hr * C;
        if (m->mem) {
            float *pre = cx->a[A_PRE] + tt * b * P;
            gl_linear_forward(pre, h, m->base.p[P_WP], m->base.p[P_BP], B, Hd, P);
            if (m->pclip > 0.0f) {
                float lim = m->pclip;
                for (size_t i = 0; i < b * P; i++) pre[i] = pre[i] > lim ? lim : pre[i] < -lim ? -lim : pre[i];
            }
            head_activations(m, cx, t, B);
            const float *Mprev = cx->a[A_MEM] + tt * Hw * b * RC;
            for (int wr = 0; wr < 2; wr++) {
                head_group q = group_at(m, cx, wr, t, B);
                int err = gl_ntm_address_forward_serial(NULL, q.w, q.cache, Mprev, q.k, q.beta, q.g, q.s, q.gamma, q.wprev, B,
                                                        q.H, R, C, S);
                if (err) return err;
            }
            float *wr_t = cx->a[A_WR] + (tt + 1) * b * Hr * R;
            gl_ntm_read_forward_serial(rv, Mprev, wr_t, B, Hr, R, C);
            const float *ww_t = cx->a[A_WW] + (tt + 1) * b * Hw * R;
            const float *e = cx->a[A_E] + tt * b * Hw * C, *a = cx->a[A_A] + tt * b * Hw * C;
            for (int j = 0; j < Hw; j++) {
                const float *M0 = cx->a[A_MEM] + (tt * Hw + j) * b * RC;
                float *M1 = cx->a[A_MEM] + (tt * Hw + j + 1) * b * RC;
                if (Hw == 1) {
                    gl_ntm_write_forward_serial(M1, M0, ww_t, e, a, B, R, C);
                } else {
                    for (size_t i = 0; i < b; i++)
                        gl_ntm_write_forward_serial(M1 + i * RC, M0 + i * RC, ww_t + (i * Hw + j) * R, e + (i * Hw + j) * C,
                                                    a + (i * Hw + j) * C, 1, R, C);
                }
            }
        }
        int scored = cx->a[A_MASK][t] > 0.0f;
        if (scored || all_outputs) {
            float *oin = cx->a[A_OIN] + tt * b * m->Oin;
            for (size_t i = 0; i < b; i++) {
                memcpy(oin + i * m->Oin, h + i * Hd, (size_t)Hd * sizeof(float));
                if (Hr) memcpy(oin + i * m->Oin + Hd, rv + i * Hr * C, (size_t)Hr * C * sizeof(float));
            }
            float *logit = cx->a[A_LOGIT] + tt * b * Y;
            gl_linear_forward(logit, oin, m->base.p[P_WO], m->base.p[P_BO], B, m->Oin, Y);
        }
        if (scored) {
            const float *logit = cx->a[A_LOGIT] + tt * b * Y, *y = cx->a[A_Y] + tt * b * Y;
            ls += gl_bce_logits(NULL, logit, y, b * Y, 0.0f);
            for (size_t i = 0; i < b * Y; i++) {
                int w = (logit[i] > 0.0f) != (y[i] > 0.5f);
                ne += w;
                err_of[i / Y] += (float)w;
            }
        }
    }
    *loss = ls;
    *errors = ne;
    if (wrong) {
        double nw = 0.0;
        for (size_t i = 0; i < b; i++) nw += err_of[i] > 0.0f;
        *wrong = nw;
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Backward (BPTT through all T steps), gradients accumulated into the grads arena, loss scaled
 * by 1/B (mean over the batch). */

static inline void swapp(float **a, float **b) {
    float *t = *a;
    *a = *b;
    *b = t;
}

static void zero(float *p, size_t n) { memset(p, 0, n * sizeof(float)); }

/* d pre (B, P) of step t from the gradients of the activated head parameters. */
static void head_activations_backward(ntm_model *m, ntm_ctx *cx, int t, int B, const float *dk[2], const float *dbeta[2],
                                      const float *dg[2], const float *ds[2], const float *dgam[2]) {
    const float *pre = cx->a[A_PRE] + (size_t)t * B * m->P;
    float *dP = cx->s[S_DP];
    int C = m->C, S = m->S;
    float lim = m->pclip > 0.0f ? m->pclip : INFINITY;
    for (int wr = 0; wr < 2; wr++) {
        head_group q = group_at(m, cx, wr, t, B);
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < q.H; j++) {
                size_t off = (size_t)b * m->P + head_offset(m, wr ? m->Hr + j : j);
                const float *p = pre + off;
                float *dp = dP + off;
                size_t bj = (size_t)b * q.H + j;
                const float *k = q.k + bj * C, *s = q.s + bj * S;
                const float *dkk = dk[wr] + bj * C, *dss = ds[wr] + bj * S;
                for (int c = 0; c < C; c++) dp[c] = dkk[c] * (1.0f - k[c] * k[c]);
                dp[C] = dbeta[wr][bj] * gl_sigmoidf(p[C]);           /* softplus' = sigmoid */
                dp[C + 1] = dg[wr][bj] * q.g[bj] * (1.0f - q.g[bj]);
                float dot = 0.0f;
                for (int i = 0; i < S; i++) dot += s[i] * dss[i];
                for (int i = 0; i < S; i++) dp[C + 2 + i] = s[i] * (dss[i] - dot);
                dp[C + 2 + S] = dgam[wr][bj] * gl_sigmoidf(p[C + 2 + S]);
                if (wr) {
                    size_t ej = ((size_t)b * m->Hw + j) * C;
                    const float *e = cx->a[A_E] + (size_t)t * B * m->Hw * C + ej;
                    const float *a = cx->a[A_A] + (size_t)t * B * m->Hw * C + ej;
                    const float *de = cx->s[S_DE] + ej, *da = cx->s[S_DA] + ej;
                    for (int c = 0; c < C; c++) {
                        dp[m->Ph + c] = de[c] * e[c] * (1.0f - e[c]);
                        dp[m->Ph + C + c] = da[c] * (1.0f - a[c] * a[c]);
                    }
                }
            }
        }
    }
    /* clipped parameters get no gradient (the clamp's derivative) */
    for (size_t i = 0; i < (size_t)B * m->P; i++)
        if (!(fabsf(pre[i]) < lim)) dP[i] = 0.0f;
}

static void backward(ntm_model *m, ntm_ctx *cx, float *const *g, int B, int T, float inv) {
    int Hd = m->Hd, I = m->I, Ix = m->Ix, P = m->P, C = m->C, R = m->R, S = m->S;
    int Hr = m->Hr, Hw = m->Hw, Y = m->Y, Oin = m->Oin;
    size_t b = (size_t)B, RC = (size_t)R * C;
    float **sp = cx->s;
    float *dH = sp[S_DH], *dHn = sp[S_DHN], *dC = sp[S_DC], *dCn = sp[S_DCN];
    float *dR = sp[S_DR], *dRn = sp[S_DRN], *dWR = sp[S_DWR], *dWRn = sp[S_DWRN];
    float *dWW = sp[S_DWW], *dWWn = sp[S_DWWN], *dM = sp[S_DM], *dMn = sp[S_DMN];
    zero(dH, b * Hd); zero(dC, b * Hd); zero(dR, b * Hr * C); zero(dWR, b * Hr * R); zero(dWW, b * Hw * R);
    if (m->mem) zero(dM, b * RC);
    const float *dk[2] = {sp[S_DKR], sp[S_DKW]}, *dbeta[2] = {sp[S_DBR], sp[S_DBW]}, *dg[2] = {sp[S_DGR], sp[S_DGW]};
    const float *ds[2] = {sp[S_DSR], sp[S_DSW]}, *dgam[2] = {sp[S_DGAMR], sp[S_DGAMW]};
    float scale = inv; /* the loss is the mean over the whole batch */
    for (int t = T - 1; t >= 0; t--) {
        size_t tt = (size_t)t;
        float *h = cx->a[A_H] + (tt + 1) * b * Hd;
        /* output layer */
        if (cx->a[A_MASK][t] > 0.0f) {
            float *dl = sp[S_DLOGIT], *doin = sp[S_DOIN];
            zero(dl, b * Y);
            gl_bce_logits(dl, cx->a[A_LOGIT] + tt * b * Y, cx->a[A_Y] + tt * b * Y, b * Y, scale);
            zero(doin, b * Oin);
            gl_linear_backward(doin, g[P_WO], g[P_BO], dl, cx->a[A_OIN] + tt * b * Oin, m->base.p[P_WO], B, Oin, Y);
            for (size_t i = 0; i < b; i++) {
                for (int j = 0; j < Hd; j++) dH[i * Hd + j] += doin[i * Oin + j];
                for (int j = 0; j < Hr * C; j++) dR[i * Hr * C + j] += doin[i * Oin + Hd + j];
            }
        }
        if (m->mem) { /* the memory and the heads (none in the LSTM baseline) */
            /* writes, last head first: dM becomes the gradient w.r.t. the memory before the writes */
            const float *ww_t = cx->a[A_WW] + (tt + 1) * b * Hw * R;
            const float *e = cx->a[A_E] + tt * b * Hw * C, *a = cx->a[A_A] + tt * b * Hw * C;
            zero(sp[S_DE], b * Hw * C);
            zero(sp[S_DA], b * Hw * C);
            for (int j = Hw - 1; j >= 0; j--) {
                const float *M0 = cx->a[A_MEM] + (tt * Hw + j) * b * RC;
                zero(dMn, b * RC);
                if (Hw == 1) {
                    gl_ntm_write_backward_serial(dMn, dWW, sp[S_DE], sp[S_DA], dM, M0, ww_t, e, a, B, R, C);
                } else {
                    for (size_t i = 0; i < b; i++) {
                        size_t wj = (i * Hw + j) * R, cj = (i * Hw + j) * C;
                        gl_ntm_write_backward_serial(dMn + i * RC, dWW + wj, sp[S_DE] + cj, sp[S_DA] + cj, dM + i * RC,
                                              M0 + i * RC, ww_t + wj, e + cj, a + cj, 1, R, C);
                    }
                }
                swapp(&dM, &dMn);
            }
            const float *Mprev = cx->a[A_MEM] + tt * Hw * b * RC;
            /* read */
            gl_ntm_read_backward_serial(dM, dWR, dR, Mprev, cx->a[A_WR] + (tt + 1) * b * Hr * R, B, Hr, R, C);
            /* addressing */
            zero(dWRn, b * Hr * R);
            zero(dWWn, b * Hw * R);
            for (int wr = 0; wr < 2; wr++) {
                head_group q = group_at(m, cx, wr, t, B);
                size_t h = (size_t)q.H;
                float *dkk = (float *)dk[wr], *db = (float *)dbeta[wr], *dgg = (float *)dg[wr], *dss = (float *)ds[wr];
                float *dgm = (float *)dgam[wr];
                zero(dkk, b * h * C); zero(db, b * h); zero(dgg, b * h); zero(dss, b * h * S); zero(dgm, b * h);
                gl_ntm_address_backward_serial(cx->s[S_WS], dM, dkk, db, dgg, dss, dgm, wr ? dWWn : dWRn, wr ? dWW : dWR, q.cache, Mprev, q.k,
                                        q.beta, q.g, q.s, q.gamma, q.wprev, B, q.H, R, C, S);
            }
            head_activations_backward(m, cx, t, B, dk, dbeta, dg, ds, dgam);
            gl_linear_backward(dH, g[P_WP], g[P_BP], sp[S_DP], h, m->base.p[P_WP], B, Hd, P);
        }
        /* controller */
        float *dxin = sp[S_DXIN];
        const float *xin = cx->a[A_XIN] + tt * b * I;
        zero(dxin, b * I);
        zero(dHn, b * Hd);
        zero(dCn, b * Hd);
        if (m->ctrl == CTRL_LSTM) {
            const float *hp = t ? cx->a[A_H] + tt * b * Hd : NULL, *cp = t ? cx->a[A_CS] + tt * b * Hd : NULL;
            gl_lstm_backward(dxin, t ? dHn : NULL, t ? dCn : NULL, g[P_WX], g[P_WH], g[P_B], sp[S_DGATES], dH,
                             dC, cx->a[A_GATES] + tt * b * 4 * Hd, cx->a[A_TANHC] + tt * b * Hd, xin, hp, cp,
                             m->base.p[P_WX], m->base.p[P_WH], B, I, Hd);
        } else {
            float *dz = sp[S_DGATES];
            for (size_t i = 0; i < b * Hd; i++) dz[i] = dH[i] * (1.0f - h[i] * h[i]);
            gl_linear_backward(dxin, g[P_WX], g[P_B], dz, xin, m->base.p[P_WX], B, I, Hd);
        }
        if (Hr)
            for (size_t i = 0; i < b; i++) memcpy(dRn + i * Hr * C, dxin + i * I + Ix, (size_t)Hr * C * sizeof(float));
        swapp(&dH, &dHn);
        swapp(&dC, &dCn);
        swapp(&dR, &dRn);
        swapp(&dWR, &dWRn);
        swapp(&dWW, &dWWn);
    }
    /* initial state: r_0 = tanh(r0), w_0 = softmax(w0), shared by the batch */
    if (m->learn_init) {
        const float *r0 = cx->a[A_RV];
        for (size_t i = 0; i < b; i++)
            for (int j = 0; j < Hr * C; j++)
                g[P_R0][j] += dR[i * Hr * C + j] * (1.0f - r0[j] * r0[j]);
        for (int hh = 0; hh < Hr + Hw; hh++) {
            const float *w0 = hh < Hr ? cx->a[A_WR] + (size_t)hh * R : cx->a[A_WW] + (size_t)(hh - Hr) * R;
            float *gw = g[P_W0] + (size_t)hh * R;
            for (size_t i = 0; i < b; i++) {
                const float *dw = hh < Hr ? dWR + (i * Hr + hh) * R : dWW + (i * Hw + hh - Hr) * R;
                double dot = 0.0;
                for (int r = 0; r < R; r++) dot += (double)w0[r] * dw[r];
                for (int r = 0; r < R; r++) gw[r] += w0[r] * (dw[r] - (float)dot);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Batches of task examples (src/ntm_tasks.h): item b's step t is row t * B + b of A_X / A_Y. */

/* B random examples of sizes s from r, and their shared mask. */
static void random_batch(ntm_model *m, ntm_ctx *cx, gl_rng *r, int B, const gl_task_sizes *s) {
    size_t Ix = (size_t)m->Ix, Y = (size_t)m->Y;
    for (int b = 0; b < B; b++)
        gl_task_example(m->task, m->bits, s, r, cx->a[A_X] + b * Ix, (size_t)B * Ix, cx->a[A_Y] + b * Y, (size_t)B * Y);
    gl_task_mask(m->task, s, cx->a[A_MASK]);
}

/* Given examples x (B, T, Ix), y (B, T, Y) and their mask (T). */
static void given_batch(ntm_model *m, ntm_ctx *cx, const float *x, const float *y, const float *mask, int B, int T) {
    size_t Ix = (size_t)m->Ix, Y = (size_t)m->Y;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t row = (size_t)t * B + b, src = (size_t)b * T + t;
            memcpy(cx->a[A_X] + row * Ix, x + src * Ix, Ix * sizeof(float));
            memcpy(cx->a[A_Y] + row * Y, y + src * Y, Y * sizeof(float));
        }
    memcpy(cx->a[A_MASK], mask, (size_t)T * sizeof(float));
}

/* The copy entry points' sequences seq (B, L, bits) in the copy task's layout. */
static void copy_task_io(ntm_model *m, ntm_ctx *cx, const float *seq, int B, int L) {
    int T = 2 * L + 1, Ix = m->Ix, bits = m->bits;
    memset(cx->a[A_X], 0, (size_t)T * B * Ix * sizeof(float));
    memset(cx->a[A_Y], 0, (size_t)T * B * bits * sizeof(float));
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            const float *v = seq + ((size_t)b * L + t) * bits;
            memcpy(cx->a[A_X] + ((size_t)t * B + b) * Ix, v, (size_t)bits * sizeof(float));
            memcpy(cx->a[A_Y] + ((size_t)(L + 1 + t) * B + b) * bits, v, (size_t)bits * sizeof(float));
        }
        cx->a[A_X][((size_t)L * B + b) * Ix + bits] = 1.0f; /* the delimiter */
    }
    gl_task_sizes s = {L, 0, 0, 0, 0};
    gl_task_mask(GL_TASK_COPY, &s, cx->a[A_MASK]);
}

static int check_batch(const char *fn, int B) {
    if (B < 1 || B > 65536) return gl_fail(GL_EINVAL, "%s: batch must be in [1, 65536], got %d", fn, B);
    return GL_OK;
}

static int check_lengths(const char *fn, int B, int minL, int maxL) {
    int err = check_batch(fn, B);
    if (err) return err;
    if (minL < 1 || maxL < minL || maxL > MAX_LENGTH)
        return gl_fail(GL_EINVAL, "%s: lengths must satisfy 1 <= minLength <= maxLength <= %d, got %d and %d", fn,
                       MAX_LENGTH, minL, maxL);
    return GL_OK;
}

/* The copy entry points (trainCopy, evaluateCopy, copy) are for copy models. */
static int need_copy(const ntm_model *m, const char *fn, const char *instead) {
    if (m->task == GL_TASK_COPY) return GL_OK;
    return gl_fail(GL_ESTATE, "%s: this model's task is '%s'; %s is for 'copy' models (use %s)", fn, gl_task_name(m->task),
                   fn + 4, instead);
}

/* The copy entry points' checks (a copy model, B and the lengths) and their task options: copy
 * sequences with lengths uniform in [minL, maxL]. */
static int copy_opts(const ntm_model *m, const char *fn, const char *instead, int B, int minL, int maxL, gl_task_opts *o) {
    int err = need_copy(m, fn, instead);
    if (!err) err = check_lengths(fn, B, minL, maxL);
    if (err) return err;
    gl_task_default_opts(GL_TASK_COPY, o);
    o->min_length = minL;
    o->max_length = maxL;
    return GL_OK;
}

/* Task options from the JS binding's GL_TASK_NOPTS ints (ntm_tasks.h order), checked. */
static int task_opts(const ntm_model *m, const char *fn, const int32_t *v, gl_task_opts *o) {
    if (!v) return gl_fail(GL_EINVAL, "%s: null task options", fn);
    o->min_length = v[0]; o->max_length = v[1]; o->min_repeats = v[2]; o->max_repeats = v[3];
    o->min_items = v[4]; o->max_items = v[5]; o->item_length = v[6]; o->length = v[7]; o->out_length = v[8];
    return gl_task_check(fn, m->task, o);
}

/* Steps of the longest example the options allow. */
static int max_steps(int task, const gl_task_opts *o) {
    gl_task_sizes s = {o->max_length, o->max_repeats, o->max_items, o->item_length, o->out_length};
    if (task == GL_TASK_SORT || task == GL_TASK_NGRAMS) s.length = o->length;
    return gl_task_steps(task, &s);
}

/* ---------------------------------------------------------------------------------------- */
/* Exported API. */

static void ntm_release(gl_model *base) {
    ntm_model *m = (ntm_model *)base;
    for (int c = 0; c < GL_MAX_CONTEXTS; c++) {
        gl_arena_free(&m->ctx[c].act);
        gl_arena_free(&m->ctx[c].scr);
    }
}

static const float LN2 = 0.69314718055994531f;

/* ---------------------------------------------------------------------------------------- */
/* Training in shards (gl_model_shards): every shard makes its own examples from its stream, at the
 * step's sizes; evaluation in chunks of `batch` examples (gl_model_chunks), chunk k from a stream
 * seeded by (seed, k) that first draws the chunk's sizes. */

typedef struct {
    gl_task_sizes sizes;      /* training: the step's sizes */
    const gl_task_opts *opts; /* evaluation: what each chunk draws its sizes from */
    int T, maxT;              /* training: the steps; both: the longest example (activations) */
    int batch;                /* evaluation: examples per chunk */
    uint32_t seed;            /* evaluation */
    const float *seq;         /* given copy sequences (B, L, bits), L = sizes.length */
    const float *x, *y, *mask; /* or given examples (B, T, Ix), (B, T, Y), (T); all NULL: random ones */
    float inv;                /* 1 / batch of the step */
    double *sums;             /* evaluation: (chunks, 4) loss (nats), wrong bits, wrong items, Bayes bits */
} ntm_batch;

static int ntm_ensure(gl_model *base, int c, int n, void *arg) {
    ntm_model *m = (ntm_model *)base;
    const ntm_batch *a = (const ntm_batch *)arg;
    return ensure_acts(m, &m->ctx[c], n, a->maxT);
}

/* Shard items [i0, i1): stats[0] loss (nats), stats[1] wrong bits, stats[2] items with a wrong bit,
 * summed. */
static int ntm_shard(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    ntm_model *m = (ntm_model *)base;
    const ntm_batch *a = (const ntm_batch *)arg;
    ntm_ctx *cx = &m->ctx[c];
    int nb = i1 - i0, T = a->T;
    if (a->seq) copy_task_io(m, cx, a->seq + (size_t)i0 * a->sizes.length * m->bits, nb, a->sizes.length);
    else if (a->x) given_batch(m, cx, a->x + (size_t)i0 * T * m->Ix, a->y + (size_t)i0 * T * m->Y, a->mask, nb, T);
    else random_batch(m, cx, &sh->rng, nb, &a->sizes);
    int err = forward(m, cx, nb, T, 0, &sh->stats[0], &sh->stats[1], &sh->stats[2]);
    if (err || !isfinite(sh->stats[0])) return err; /* a non-finite loss: the caller refuses the step */
    backward(m, cx, sh->g, nb, T, a->inv);
    return GL_OK;
}

/* One optimiser step on B fresh examples whose sizes are drawn from o. out: [loss in bits per
 * sequence, wrong bits per sequence, gradient norm before clipping, steps T, fraction of sequences
 * with a wrong bit, then the sizes drawn: length, repeats, items, itemLength, outputLength]. A
 * non-finite loss or gradient refuses the step (GL_ENUMERIC): weights, optimiser state and the data
 * stream unchanged. */
static int train_step(ntm_model *m, const char *fn, float *out, int B, const gl_task_opts *o) {
    gl_rng before = m->base.rng; /* a refused call leaves the data stream as it was */
    ntm_batch a;
    memset(&a, 0, sizeof a);
    gl_task_draw(m->task, o, &m->base.rng, &a.sizes);
    a.T = a.maxT = gl_task_steps(m->task, &a.sizes);
    a.inv = 1.0f / (float)B;
    gl_model_job job = {ntm_ensure, ntm_shard, &a};
    double st[GL_SHARD_STATS];
    float norm = 0.0f;
    int err = gl_model_shards(&m->base, B, &job, gl_model_step_seed(&m->base), st);
    if (!err) err = gl_model_check_loss(fn, st[0]);
    if (!err) err = gl_model_step(&m->base, fn, &norm);
    if (err) {
        m->base.rng = before;
        return err;
    }
    out[0] = (float)(st[0] / B / LN2);
    out[1] = (float)(st[1] / B);
    out[2] = norm;
    out[3] = (float)a.T;
    out[4] = (float)(st[2] / B);
    out[5] = (float)a.sizes.length;
    out[6] = (float)a.sizes.repeats;
    out[7] = (float)a.sizes.items;
    out[8] = (float)a.sizes.item_length;
    out[9] = (float)a.sizes.out_length;
    return GL_OK;
}

/* One optimiser step on B fresh examples of the model's task, sizes drawn from opts (GL_TASK_NOPTS
 * ints, ntm_tasks.h). out (10 floats): see train_step. */
GL_API int gl_ntm_train_task(void *mp, float *out, int B, const int32_t *opts) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm trainTask: null argument");
    gl_task_opts o;
    int err = check_batch("ntm trainTask", B);
    if (!err) err = task_opts(m, "ntm trainTask", opts, &o);
    return err ? err : train_step(m, "ntm trainTask", out, B, &o);
}

/* One optimiser step on a fresh batch of B random copy-task sequences, one length drawn uniformly
 * from [minL, maxL]. out: [loss in bits per sequence, wrong bits per sequence, length, gradient
 * norm before clipping]. The same step as trainTask with those lengths. */
GL_API int gl_ntm_train_copy(void *mp, float *out, int B, int minL, int maxL) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm trainCopy: null argument");
    gl_task_opts o;
    int err = copy_opts(m, "ntm trainCopy", "trainTask", B, minL, maxL, &o);
    if (err) return err;
    float r[10];
    if ((err = train_step(m, "ntm trainCopy", r, B, &o))) return err;
    out[0] = r[0];
    out[1] = r[1];
    out[2] = r[5];
    out[3] = r[2];
    return GL_OK;
}

static int ntm_eval_chunk(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    (void)sh;
    ntm_model *m = (ntm_model *)base;
    const ntm_batch *a = (const ntm_batch *)arg;
    ntm_ctx *cx = &m->ctx[c];
    int k = i0 / a->batch, nb = i1 - i0;
    gl_rng r;
    gl_rng_seed(&r, a->seed, ((uint64_t)k << 8) | 3);
    gl_task_sizes s;
    gl_task_draw(m->task, a->opts, &r, &s);
    int T = gl_task_steps(m->task, &s);
    random_batch(m, cx, &r, nb, &s);
    double *o = &a->sums[4 * (size_t)k];
    int err = forward(m, cx, nb, T, 0, &o[0], &o[1], &o[2]);
    if (!err && m->task == GL_TASK_NGRAMS) /* the Bayes-optimal predictor on the same sequences */
        for (int b = 0; b < nb; b++) o[3] += gl_task_ngrams_bayes(T, cx->a[A_X] + (size_t)b * m->Ix, (size_t)nb * m->Ix, NULL);
    return err;
}

/* Loss and wrong bits on `count` fresh examples (chunks of B, each chunk's sizes drawn from o) from
 * streams seeded by `seed`, no update. out: [loss bits per sequence, wrong bits per sequence,
 * fraction of sequences with a wrong bit, the Bayes-optimal predictor's bits per sequence (ngrams;
 * 0 for other tasks)]. */
static int eval_task(ntm_model *m, const char *fn, float *out, int B, const gl_task_opts *o, int count, uint32_t seed) {
    if (count < 1) return gl_fail(GL_EINVAL, "%s: count must be positive, got %d", fn, count);
    int nchunks = (count + B - 1) / B;
    double *sums = (double *)calloc(4 * (size_t)nchunks, sizeof(double));
    if (!sums) return gl_fail(GL_ENOMEM, "%s: out of memory", fn);
    ntm_batch a;
    memset(&a, 0, sizeof a);
    a.opts = o;
    a.maxT = max_steps(m->task, o);
    a.batch = B;
    a.seed = seed;
    a.sums = sums;
    gl_model_job job = {ntm_ensure, ntm_eval_chunk, &a};
    int err = gl_model_chunks(&m->base, count, B, &job);
    double tot[4] = {0.0, 0.0, 0.0, 0.0};
    for (int k = 0; k < nchunks; k++)
        for (int j = 0; j < 4; j++) tot[j] += sums[4 * k + j];
    free(sums);
    if (err) return err;
    out[0] = (float)(tot[0] / count / LN2);
    out[1] = (float)(tot[1] / count);
    out[2] = (float)(tot[2] / count);
    out[3] = (float)(tot[3] / count);
    return GL_OK;
}

GL_API int gl_ntm_eval_task(void *mp, float *out, int B, const int32_t *opts, int count, uint32_t seed) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm evaluateTask: null argument");
    gl_task_opts o;
    int err = check_batch("ntm evaluateTask", B);
    if (!err) err = task_opts(m, "ntm evaluateTask", opts, &o);
    return err ? err : eval_task(m, "ntm evaluateTask", out, B, &o, count, seed);
}

/* Loss and wrong bits on `count` fresh random sequences (batches of B, lengths uniform in
 * [minL, maxL], one length per batch) from streams seeded by `seed`, no update.
 * out: [bits of loss per sequence, wrong bits per sequence]. evaluateTask with those lengths. */
GL_API int gl_ntm_eval_copy(void *mp, float *out, int B, int minL, int maxL, int count, uint32_t seed) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm evaluateCopy: null argument");
    gl_task_opts o;
    int err = copy_opts(m, "ntm evaluateCopy", "evaluateTask", B, minL, maxL, &o);
    if (err) return err;
    float r[4];
    if ((err = eval_task(m, "ntm evaluateCopy", r, B, &o, count, seed))) return err;
    out[0] = r[0];
    out[1] = r[1];
    return GL_OK;
}

/* info (9 ints): T, input width, output width, length, repeats, items, itemLength, outputLength,
 * recall's query item (-1 for other tasks). */
static void put_info(const ntm_model *m, int32_t *info, int T, const gl_task_sizes *s, int query) {
    info[0] = T; info[1] = m->Ix; info[2] = m->Y; info[3] = s->length; info[4] = s->repeats; info[5] = s->items;
    info[6] = s->item_length; info[7] = s->out_length; info[8] = query;
}

/* One example of the model's task from `seed`: the sizes drawn from opts, then the example, from
 * the stream of evaluateTask's first chunk (so it is the first example evaluateTask({ seed }) sees).
 * info (9 ints, put_info) always; with x non-NULL also x (T, Ix), y (T, Y), mask (T), and for ngrams
 * bayes (T, or NULL: the Bayes-optimal probability that each step's target is 1) and *bayes_bits
 * (or NULL: that predictor's cost over the masked steps; 0 for other tasks). Call once with x NULL
 * for T, then with buffers of that size. */
GL_API int gl_ntm_task_example(void *mp, const int32_t *opts, uint32_t seed, int32_t *info, float *x, float *y,
                               float *mask, float *bayes, float *bayes_bits) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !info || (x && (!y || !mask))) return gl_fail(GL_EINVAL, "ntm taskExample: null argument");
    gl_task_opts o;
    int err = task_opts(m, "ntm taskExample", opts, &o);
    if (err) return err;
    gl_rng r;
    gl_rng_seed(&r, seed, 3);
    gl_task_sizes s;
    gl_task_draw(m->task, &o, &r, &s);
    int T = gl_task_steps(m->task, &s), q = -1;
    if (x) {
        gl_task_example(m->task, m->bits, &s, &r, x, (size_t)m->Ix, y, (size_t)m->Y);
        gl_task_mask(m->task, &s, mask);
        if (m->task == GL_TASK_RECALL)
            (void)gl_task_target("ntm taskExample", m->task, m->bits, T, x, (size_t)m->Ix, NULL, 0, NULL, NULL, &q);
        double bb = m->task == GL_TASK_NGRAMS ? gl_task_ngrams_bayes(T, x, 1, bayes) : 0.0;
        if (bayes_bits) *bayes_bits = (float)bb;
    }
    put_info(m, info, T, &s, q);
    return GL_OK;
}

/* The target and mask of a given input x (T, Ix) by the task's rules (GL_EINVAL naming the step and
 * channel that break them): y (T, Y), mask (T), info (9 ints, put_info), for ngrams bayes (T, or
 * NULL) and *bayes_bits (or NULL) as gl_ntm_task_example. */
GL_API int gl_ntm_task_target(void *mp, const float *x, int T, float *y, float *mask, int32_t *info, float *bayes,
                              float *bayes_bits) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !x || !y || !mask || !info) return gl_fail(GL_EINVAL, "ntm task target: null argument");
    gl_task_sizes s;
    int q = -1;
    int err = gl_task_target("ntm runTask", m->task, m->bits, T, x, (size_t)m->Ix, y, (size_t)m->Y, mask, &s, &q);
    if (err) return err;
    double bb = m->task == GL_TASK_NGRAMS ? gl_task_ngrams_bayes(T, x, 1, bayes) : 0.0;
    if (bayes_bits) *bayes_bits = (float)bb;
    put_info(m, info, T, &s, q);
    return GL_OK;
}

static int check_finite(const char *fn, const char *what, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return gl_fail(GL_ENUMERIC, "%s: %s[%zu] is not finite", fn, what, i);
    return GL_OK;
}

/* The shards' forward and backward of batch a (B sequences) without an update: the gradient left
 * reduced in the grads arena; out: [loss in nats, wrong bits], per sequence. */
static int loss_grad(ntm_model *m, ntm_batch *a, int B, float *out) {
    a->inv = 1.0f / (float)B;
    gl_model_job job = {ntm_ensure, ntm_shard, a};
    double st[GL_SHARD_STATS];
    int err = gl_model_shards(&m->base, B, &job, 0, st);
    if (!err) err = gl_model_reduce(&m->base);
    if (err) return err;
    out[0] = (float)(st[0] / B);
    out[1] = (float)(st[1] / B);
    return GL_OK;
}

/* Loss and gradient on given examples x (B, T, Ix), y (B, T, Y) with mask (T), no update: the test
 * hook for finite differences. out: [loss in nats per sequence (mean over the batch), wrong bits per
 * sequence]; the gradient (of the loss in nats) is left in the grads arena (gl_model_grads). */
GL_API int gl_ntm_task_loss_grad(void *mp, float *out, const float *x, const float *y, const float *mask, int B, int T) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out || !x || !y || !mask) return gl_fail(GL_EINVAL, "ntm loss: null argument");
    int err = check_batch("ntm loss", B);
    if (err) return err;
    if (T < 1 || T > GL_TASK_MAX_STEPS) return gl_fail(GL_EINVAL, "ntm loss: steps must be in [1, %d], got %d", GL_TASK_MAX_STEPS, T);
    ntm_batch a;
    memset(&a, 0, sizeof a);
    a.T = a.maxT = T;
    a.x = x;
    a.y = y;
    a.mask = mask;
    return loss_grad(m, &a, B, out);
}

/* Loss and gradient on given copy sequences seq (B, L, bits), no update (gl_ntm_task_loss_grad in
 * the copy layout). out: [loss in nats per sequence, wrong bits per sequence]. */
GL_API int gl_ntm_loss_grad(void *mp, float *out, const float *seq, int B, int L) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out || !seq) return gl_fail(GL_EINVAL, "ntm loss: null argument");
    int err = need_copy(m, "ntm loss", "the task loss");
    if (!err) err = check_lengths("ntm loss", B, L, L);
    if (err) return err;
    ntm_batch a;
    memset(&a, 0, sizeof a);
    a.sizes.length = L;
    a.T = a.maxT = 2 * L + 1;
    a.seq = seq;
    return loss_grad(m, &a, B, out);
}

/* The traces of the last run in context 0 (T steps), each may be NULL (and are not written for the
 * LSTM baseline, which has no memory). */
static void copy_traces(const ntm_model *m, const ntm_ctx *cx, int T, float *rw, float *ww, float *mem) {
    if (!m->mem) return;
    size_t R = (size_t)m->R, RC = R * m->C;
    if (rw) memcpy(rw, cx->a[A_WR] + (size_t)m->Hr * R, (size_t)T * m->Hr * R * sizeof(float));
    if (ww) memcpy(ww, cx->a[A_WW] + (size_t)m->Hw * R, (size_t)T * m->Hw * R * sizeof(float));
    if (mem)
        for (int t = 0; t < T; t++)
            memcpy(mem + (size_t)t * RC, cx->a[A_MEM] + (size_t)(t + 1) * m->Hw * RC, RC * sizeof(float));
}

/* Run the model on one example: input x (T, Ix), target y (T, Y), mask (T). output (T, Y): the
 * output probabilities at every step; traces of the T steps (each may be NULL; none for the LSTM
 * baseline): read weightings (T, Hr, R), write weightings (T, Hw, R), memory after each step (T, R,
 * C). out (4, or NULL): [loss in bits over the masked steps, wrong bits, 1 if any bit is wrong,
 * the Bayes-optimal predictor's bits (ngrams; else 0)]. */
GL_API int gl_ntm_run_task(void *mp, float *output, float *rw, float *ww, float *mem, float *out, const float *x,
                           const float *y, const float *mask, int T) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !x || !y || !mask) return gl_fail(GL_EINVAL, "ntm runTask: null argument");
    if (T < 1 || T > GL_TASK_MAX_STEPS) return gl_fail(GL_EINVAL, "ntm runTask: steps must be in [1, %d], got %d", GL_TASK_MAX_STEPS, T);
    int err = check_finite("ntm runTask", "input", x, (size_t)T * m->Ix);
    if (!err) err = check_finite("ntm runTask", "target", y, (size_t)T * m->Y);
    if (!err) err = check_finite("ntm runTask", "mask", mask, (size_t)T);
    ntm_ctx *cx = &m->ctx[0]; /* one example: here, in context 0 */
    if (!err) err = ensure_acts(m, cx, 1, T);
    if (err) return err;
    given_batch(m, cx, x, y, mask, 1, T);
    double loss, errors, wrong;
    if ((err = forward(m, cx, 1, T, 1, &loss, &errors, &wrong))) return err;
    if (output)
        for (size_t i = 0; i < (size_t)T * m->Y; i++) output[i] = gl_sigmoidf(cx->a[A_LOGIT][i]);
    copy_traces(m, cx, T, rw, ww, mem);
    if (out) {
        out[0] = (float)(loss / LN2);
        out[1] = (float)errors;
        out[2] = (float)wrong;
        out[3] = m->task == GL_TASK_NGRAMS ? (float)gl_task_ngrams_bayes(T, x, (size_t)m->Ix, NULL) : 0.0f;
    }
    return GL_OK;
}

/* Run the model on one sequence seq (L, bits). output (L, bits): the probabilities of the output
 * phase. Traces of all T = 2L+1 steps (each may be NULL): read weightings (T, Hr, R), write
 * weightings (T, Hw, R), memory after each step (T, R, C). out2 (or NULL): [loss in bits, wrong
 * bits] against the input sequence as the target. */
GL_API int gl_ntm_copy(void *mp, float *output, float *rw, float *ww, float *mem, float *out2, const float *seq,
                       int L) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !seq) return gl_fail(GL_EINVAL, "ntm copy: null argument");
    int err = need_copy(m, "ntm copy", "runTask");
    if (!err) err = check_lengths("ntm copy", 1, L, L);
    ntm_ctx *cx = &m->ctx[0]; /* one sequence: here, in context 0 */
    if (!err) err = ensure_acts(m, cx, 1, 2 * L + 1);
    if (!err) err = check_finite("ntm copy", "sequence", seq, (size_t)L * m->bits);
    if (err) return err;
    copy_task_io(m, cx, seq, 1, L);
    double loss, errors;
    err = forward(m, cx, 1, 2 * L + 1, 0, &loss, &errors, NULL);
    if (err) return err;
    int T = 2 * L + 1, bits = m->bits;
    if (output)
        for (int t = 0; t < L; t++)
            for (int i = 0; i < bits; i++)
                output[(size_t)t * bits + i] = gl_sigmoidf(cx->a[A_LOGIT][(size_t)(L + 1 + t) * bits + i]);
    copy_traces(m, cx, T, rw, ww, mem);
    if (out2) {
        out2[0] = (float)(loss / LN2);
        out2[1] = (float)errors;
    }
    return GL_OK;
}

/* The tensors' shapes: weights (out, in), biases (out); init.read (read heads, C), init.weighting
 * (heads, R). */
static void ntm_tensor_shape(const gl_model *base, int i, int *nd, uint64_t *d) {
    const ntm_model *m = (const ntm_model *)base;
    size_t s[P_COUNT];
    ntm_tensor_sizes(base, s);
    uint64_t in = 0;
    switch (i) {
    case P_WX: in = (uint64_t)m->I; break;
    case P_WH: case P_WP: in = (uint64_t)m->Hd; break;
    case P_WO: in = (uint64_t)m->Oin; break;
    case P_R0: in = (uint64_t)m->C; break;
    case P_W0: in = (uint64_t)m->R; break;
    default: break; /* biases */
    }
    if (!in) { *nd = 1; d[0] = s[i]; }
    else { *nd = 2; d[0] = s[i] / in; d[1] = in; }
}

/* ---------------------------------------------------------------------------------------- */
/* The model type (model.h): create, load, save, free and the optimiser are generic. */

const gl_model_type gl_ntm_type = {
    .kind = GL_KIND_NTM, .name = "ntm", .fields = ntm_fields, .nfields = NTM_NCONFIG, .min_config = CF_TASK,
    .seed_field = CF_SEED, .opt = {-1, CF_LR, -1, -1, CF_CLIP, CF_BETA1, CF_BETA2}, .size = sizeof(ntm_model),
    .ntensors = P_COUNT, .tensor_names = ntm_tensor_names, .configure = ntm_configure,
    .tensor_sizes = ntm_tensor_sizes, .tensor_shape = ntm_tensor_shape, .init = ntm_init, .release = ntm_release};

