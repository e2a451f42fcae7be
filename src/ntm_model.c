/* ntm_model.c: the Neural Turing Machine (Graves, Wayne & Danihelka 2014) trained on the copy task
 * in C, with the design choices that Collier & Beel (2018, "Implementing Neural Turing Machines")
 * found to converge fastest and most reliably.
 *
 * One time step t (all heads address the memory BEFORE this step's writes, as in Collier & Beel's
 * reference implementation):
 *   controller input   xin_t = [x_t, r_{t-1}]                       (B, I), I = bits+1 + Hr*C
 *   controller         LSTM (torch LSTMCell semantics, layers.h) or feed-forward h = tanh(W xin + b)
 *                      h_t (B, Hd)
 *   head parameters    p_t = clip(h_t Wp^T + bp, +-pclip)            (B, P)
 *     per head: key k = tanh (C), beta = softplus, gate g = sigmoid, shift s = softmax (S = 2n+1),
 *     gamma = 1 + softplus (paper sec. 3.3, eq. 5-9); write heads also erase e = sigmoid (C) and
 *     add a = tanh (C) (eq. 3-4).
 *   addressing         w_t = address(M_{t-1}, k, beta, g, s, gamma, w_{t-1})  per head (src/ntm.c)
 *   read               r_t = sum_i w_t(i) M_{t-1}(i)                 (eq. 2)
 *   write              M_t = M_{t-1} o (1 - w e) + w a, one write head after the other (eq. 3-4)
 *   output             y_t = [h_t, r_t] Wo^T + bo (logits of the bits), sigmoid for probabilities
 * Initial state: h_0 = c_0 = 0; memory M_0 = a small constant (Collier & Beel: 1e-6, the best of
 * their constant / learned / random initialisations); read vectors r_0 = tanh(r0 param) and
 * weightings w_0 = softmax(w0 param), learned (Collier & Beel) or fixed (r_0 = 0 and w_0 focused
 * on row 0, not trained).
 *
 * The copy task (paper sec. 4.1): a batch of B random binary sequences of bits-bit vectors, one
 * length L per batch drawn uniformly from [minLength, maxLength] (as Collier & Beel); input width
 * bits+1, the extra channel is the delimiter. Steps 0..L-1 present the vectors, step L the
 * delimiter, steps L+1..2L are blank and the model must output the sequence: T = 2L+1 steps.
 * Loss: binary cross-entropy with logits summed over the output phase, mean over the batch
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
#include "pool.h"
#include "ntm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Configuration: the words saved in the weights file, in this order; names, ranges, defaults and  */
/* docs are the schema ntm_fields below.                                                        */

enum {
    CF_BITS,       /* bits per vector of the copy task */
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
    NTM_NCONFIG
};
enum { CTRL_LSTM = 0, CTRL_FF = 1 };

/* Parameter tensors. */
enum { P_WX, P_WH, P_B, P_WP, P_BP, P_WO, P_BO, P_R0, P_W0, P_COUNT };

/* Activation tensors, each holding every step (T, or T+1 for states with an initial value). */
enum {
    A_X,     /* (T, B, Ib) inputs */
    A_Y,     /* (T, B, bits) targets (output steps only) */
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
    A_LOGIT, /* (T, B, bits) */
    A_COUNT
};

/* Scratch tensors for BPTT (sized for the batch). Pairs (X, Xn): the gradient reaching a state of
 * step t and the one being accumulated for step t-1. */
enum {
    S_DH, S_DHN, S_DC, S_DCN, S_DR, S_DRN, S_DWR, S_DWRN, S_DWW, S_DWWN, S_DM, S_DMN,
    S_DP, S_DXIN, S_DGATES, S_DOIN, S_DLOGIT,
    S_DKR, S_DBR, S_DGR, S_DSR, S_DGAMR, S_DKW, S_DBW, S_DGW, S_DSW, S_DGAMW, S_DE, S_DA,
    S_WS, /* the addressing kernels' scratch */
    S_COUNT
};

/* Activation memory limit (floats): 64 Mi floats = 256 MiB. */
#define ACT_LIMIT ((size_t)1 << 26)
#define MAX_LENGTH 10000

/* One activation context (a shard in training, a thread in inference). */
typedef struct {
    gl_arena act, scr;
    float *a[A_COUNT], *s[S_COUNT];
    int capB, capT; /* activation arena laid out for (capB, capT); scratch for capB */
} ntm_ctx;

typedef struct {
    gl_model base; /* config, parameters, gradients, Adam, random streams (model.h) */
    int bits, R, C, Hd, ctrl, Hr, Hw, n, S, Ib, I, P, Ph, Oin, learn_init;
    float meminit, pclip;
    ntm_ctx ctx[GL_MAX_CONTEXTS];
} ntm_model;

/* The configuration schema (model.h), in CF_* order. */
static const gl_field ntm_fields[NTM_NCONFIG] = {
    [CF_BITS] = {"bits", GL_FIELD_INT, 1, 256, 8, 0, 0, "Bits per vector of the task"},
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
};

static const char *const ntm_tensor_names[P_COUNT] = {
    "controller.weight_ih", "controller.weight_hh", "controller.bias", "heads.weight", "heads.bias",
    "output.weight", "output.bias", "init.read", "init.weighting",
};

static int ntm_configure(gl_model *base) {
    ntm_model *m = (ntm_model *)base;
    const uint32_t *c = base->cfg;
    if (2 * c[CF_SHIFT] + 1 > c[CF_R])
        return gl_fail(GL_EINVAL, "ntm: shift must satisfy 2*shift+1 <= R = memory[0] (offsets -shift..shift), got shift %u with R = %u", c[CF_SHIFT], c[CF_R]);
    m->bits = (int)c[CF_BITS]; m->R = (int)c[CF_R]; m->C = (int)c[CF_C]; m->Hd = (int)c[CF_HD];
    m->ctrl = (int)c[CF_CTRL]; m->Hr = (int)c[CF_HR]; m->Hw = (int)c[CF_HW]; m->n = (int)c[CF_SHIFT];
    m->S = 2 * m->n + 1; m->learn_init = (int)c[CF_LEARNINIT];
    m->Ib = m->bits + 1;
    m->I = m->Ib + m->Hr * m->C;
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
    s[P_WO] = (size_t)m->bits * m->Oin;
    s[P_BO] = (size_t)m->bits;
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
    s[A_X] = t * b * m->Ib;
    s[A_Y] = t * b * m->bits;
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
    s[A_MEM] = (t * Hw + 1) * b * R * C;
    s[A_OIN] = t * b * m->Oin;
    s[A_LOGIT] = t * b * m->bits;
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
        q[S_DM] = q[S_DMN] = b * R * C;
        q[S_DP] = b * m->P;
        q[S_DXIN] = b * m->I;
        q[S_DGATES] = b * 4 * Hd;
        q[S_DOIN] = b * m->Oin;
        q[S_DLOGIT] = b * m->bits;
        q[S_DKR] = b * Hr * C; q[S_DBR] = q[S_DGR] = q[S_DGAMR] = b * Hr; q[S_DSR] = b * Hr * S;
        q[S_DKW] = b * Hw * C; q[S_DBW] = q[S_DGW] = q[S_DGAMW] = b * Hw; q[S_DSW] = b * Hw * S;
        q[S_DE] = q[S_DA] = b * Hw * C;
        q[S_WS] = gl_ntm_ws_floats(m->R);
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
    for (size_t i = 0; i < b * R * C; i++) M0[i] = m->meminit;
}

/* Fill A_X and A_Y for a batch of sequences seq (B, L, bits) in the copy-task layout. */
static void copy_task_io(ntm_model *m, ntm_ctx *cx, const float *seq, int B, int L) {
    int T = 2 * L + 1, Ib = m->Ib, bits = m->bits;
    memset(cx->a[A_X], 0, (size_t)T * B * Ib * sizeof(float));
    memset(cx->a[A_Y], 0, (size_t)T * B * bits * sizeof(float));
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            const float *v = seq + ((size_t)b * L + t) * bits;
            memcpy(cx->a[A_X] + ((size_t)t * B + b) * Ib, v, (size_t)bits * sizeof(float));
            memcpy(cx->a[A_Y] + ((size_t)(L + 1 + t) * B + b) * bits, v, (size_t)bits * sizeof(float));
        }
        cx->a[A_X][((size_t)L * B + b) * Ib + bits] = 1.0f; /* the delimiter */
    }
}

/* Forward over T = 2L+1 steps (A_X, A_Y filled). *loss: BCE nats summed over the output phase and
 * the batch; *errors: wrong bits (logit > 0 vs target > 0.5) summed likewise. */
static int forward(ntm_model *m, ntm_ctx *cx, int B, int L, double *loss, double *errors) {
    int T = 2 * L + 1, Hd = m->Hd, I = m->I, Ib = m->Ib, P = m->P, C = m->C, R = m->R, S = m->S;
    int Hr = m->Hr, Hw = m->Hw, bits = m->bits;
    size_t b = (size_t)B, RC = (size_t)R * C;
    double ls = 0.0, ne = 0.0;
    initial_state(m, cx, B);
    for (int t = 0; t < T; t++) {
        size_t tt = (size_t)t;
        const float *x = cx->a[A_X] + tt * b * Ib;
        float *xin = cx->a[A_XIN] + tt * b * I;
        const float *rprev = cx->a[A_RV] + tt * b * Hr * C;
        for (size_t i = 0; i < b; i++) {
            memcpy(xin + i * I, x + i * Ib, (size_t)Ib * sizeof(float));
            memcpy(xin + i * I + Ib, rprev + i * Hr * C, (size_t)Hr * C * sizeof(float));
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
            int err = gl_ntm_address_forward_serial(NULL, q.w, q.cache, Mprev, q.k, q.beta, q.g, q.s, q.gamma, q.wprev, B, q.H, R,
                                             C, S);
            if (err) return err;
        }
        float *wr_t = cx->a[A_WR] + (tt + 1) * b * Hr * R;
        float *rv = cx->a[A_RV] + (tt + 1) * b * Hr * C;
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
        if (t > L) { /* output phase */
            float *oin = cx->a[A_OIN] + tt * b * m->Oin;
            for (size_t i = 0; i < b; i++) {
                memcpy(oin + i * m->Oin, h + i * Hd, (size_t)Hd * sizeof(float));
                memcpy(oin + i * m->Oin + Hd, rv + i * Hr * C, (size_t)Hr * C * sizeof(float));
            }
            float *logit = cx->a[A_LOGIT] + tt * b * bits;
            gl_linear_forward(logit, oin, m->base.p[P_WO], m->base.p[P_BO], B, m->Oin, bits);
            const float *y = cx->a[A_Y] + tt * b * bits;
            ls += gl_bce_logits(NULL, logit, y, b * bits, 0.0f);
            for (size_t i = 0; i < b * bits; i++) ne += (logit[i] > 0.0f) != (y[i] > 0.5f);
        }
    }
    *loss = ls;
    *errors = ne;
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

static void backward(ntm_model *m, ntm_ctx *cx, float *const *g, int B, int L, float inv) {
    int T = 2 * L + 1, Hd = m->Hd, I = m->I, Ib = m->Ib, P = m->P, C = m->C, R = m->R, S = m->S;
    int Hr = m->Hr, Hw = m->Hw, bits = m->bits, Oin = m->Oin;
    size_t b = (size_t)B, RC = (size_t)R * C;
    float **sp = cx->s;
    float *dH = sp[S_DH], *dHn = sp[S_DHN], *dC = sp[S_DC], *dCn = sp[S_DCN];
    float *dR = sp[S_DR], *dRn = sp[S_DRN], *dWR = sp[S_DWR], *dWRn = sp[S_DWRN];
    float *dWW = sp[S_DWW], *dWWn = sp[S_DWWN], *dM = sp[S_DM], *dMn = sp[S_DMN];
    zero(dH, b * Hd); zero(dC, b * Hd); zero(dR, b * Hr * C); zero(dWR, b * Hr * R); zero(dWW, b * Hw * R);
    zero(dM, b * RC);
    const float *dk[2] = {sp[S_DKR], sp[S_DKW]}, *dbeta[2] = {sp[S_DBR], sp[S_DBW]}, *dg[2] = {sp[S_DGR], sp[S_DGW]};
    const float *ds[2] = {sp[S_DSR], sp[S_DSW]}, *dgam[2] = {sp[S_DGAMR], sp[S_DGAMW]};
    float scale = inv; /* the loss is the mean over the whole batch */
    for (int t = T - 1; t >= 0; t--) {
        size_t tt = (size_t)t;
        float *h = cx->a[A_H] + (tt + 1) * b * Hd;
        /* output layer */
        if (t > L) {
            float *dl = sp[S_DLOGIT], *doin = sp[S_DOIN];
            zero(dl, b * bits);
            gl_bce_logits(dl, cx->a[A_LOGIT] + tt * b * bits, cx->a[A_Y] + tt * b * bits, b * bits, scale);
            zero(doin, b * Oin);
            gl_linear_backward(doin, g[P_WO], g[P_BO], dl, cx->a[A_OIN] + tt * b * Oin, m->base.p[P_WO], B, Oin, bits);
            for (size_t i = 0; i < b; i++) {
                for (int j = 0; j < Hd; j++) dH[i * Hd + j] += doin[i * Oin + j];
                for (int j = 0; j < Hr * C; j++) dR[i * Hr * C + j] += doin[i * Oin + Hd + j];
            }
        }
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
        for (size_t i = 0; i < b; i++) memcpy(dRn + i * Hr * C, dxin + i * I + Ib, (size_t)Hr * C * sizeof(float));
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
/* Copy-task batches. */

/* A batch of B random sequences of L vectors of independent fair bits, written straight into
 * A_X / A_Y in the copy-task layout (as copy_task_io). */
static void random_batch(ntm_model *m, ntm_ctx *cx, gl_rng *r, int B, int L) {
    int T = 2 * L + 1, Ib = m->Ib, bits = m->bits;
    memset(cx->a[A_X], 0, (size_t)T * B * Ib * sizeof(float));
    memset(cx->a[A_Y], 0, (size_t)T * B * bits * sizeof(float));
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            float *x = cx->a[A_X] + ((size_t)t * B + b) * Ib;
            float *y = cx->a[A_Y] + ((size_t)(L + 1 + t) * B + b) * bits;
            uint32_t u = 0;
            for (int i = 0; i < bits; i++) {
                if (i % 32 == 0) u = gl_rng_u32(r);
                x[i] = y[i] = (float)(u & 1u);
                u >>= 1;
            }
        }
        cx->a[A_X][((size_t)L * B + b) * Ib + bits] = 1.0f;
    }
}

static int check_lengths(const char *fn, int B, int minL, int maxL) {
    if (B < 1 || B > 65536) return gl_fail(GL_EINVAL, "%s: batch must be in [1, 65536], got %d", fn, B);
    if (minL < 1 || maxL < minL || maxL > MAX_LENGTH)
        return gl_fail(GL_EINVAL, "%s: lengths must satisfy 1 <= minLength <= maxLength <= %d, got %d and %d", fn,
                       MAX_LENGTH, minL, maxL);
    return GL_OK;
}

static int draw_length(gl_rng *r, int minL, int maxL) {
    return minL + (int)gl_rng_below(r, (uint32_t)(maxL - minL + 1));
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
/* Training in shards (gl_model_shards): every shard makes its own sequences from its stream, at
 * the step's length; evaluation in chunks of `batch` sequences (gl_model_chunks), chunk k from a
 * stream seeded by (seed, k). */

typedef struct {
    int L, maxL;        /* training: the step's length; evaluation: the longest */
    int minL, batch;    /* evaluation: lengths [minL, maxL], sequences per chunk */
    uint32_t seed;      /* evaluation */
    const float *seq;   /* given sequences (B, L, bits), or NULL for random ones */
    float inv;          /* 1 / batch of the step */
    double *sums;       /* evaluation: (chunks, 2) loss and wrong bits per chunk */
    int grad;           /* backward too */
} ntm_batch;

static int ntm_ensure(gl_model *base, int c, int n, void *arg) {
    ntm_model *m = (ntm_model *)base;
    const ntm_batch *a = (const ntm_batch *)arg;
    return ensure_acts(m, &m->ctx[c], n, 2 * a->maxL + 1);
}

/* Shard items [i0, i1): stats[0] loss (nats), stats[1] wrong bits, summed. */
static int ntm_shard(gl_model *base, int c, gl_shard *sh, int i0, int i1, void *arg) {
    ntm_model *m = (ntm_model *)base;
    const ntm_batch *a = (const ntm_batch *)arg;
    ntm_ctx *cx = &m->ctx[c];
    int nb = i1 - i0;
    if (a->seq) copy_task_io(m, cx, a->seq + (size_t)i0 * a->L * m->bits, nb, a->L);
    else random_batch(m, cx, &sh->rng, nb, a->L);
    int err = forward(m, cx, nb, a->L, &sh->stats[0], &sh->stats[1]);
    if (err || !isfinite(sh->stats[0])) return err; /* a non-finite loss: the caller refuses the step */
    backward(m, cx, sh->g, nb, a->L, a->inv);
    return GL_OK;
}

/* One optimiser step on a fresh batch of B random copy-task sequences, one length drawn uniformly
 * from [minL, maxL]. out: [loss in bits per sequence, wrong bits per sequence, length, gradient
 * norm before clipping]. A non-finite loss or gradient refuses the step (GL_ENUMERIC): weights,
 * optimiser state and the data stream unchanged. */
GL_API int gl_ntm_train_copy(void *mp, float *out, int B, int minL, int maxL) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm trainCopy: null argument");
    int err = check_lengths("ntm trainCopy", B, minL, maxL);
    if (err) return err;
    gl_rng before = m->base.rng; /* a refused call leaves the data stream as it was */
    int L = draw_length(&m->base.rng, minL, maxL);
    ntm_batch a = {L, L, L, B, 0, NULL, 1.0f / (float)B, NULL, 1};
    gl_model_job job = {ntm_ensure, ntm_shard, &a};
    double st[GL_SHARD_STATS];
    float norm = 0.0f;
    err = gl_model_shards(&m->base, B, &job, gl_model_step_seed(&m->base), st);
    if (!err) err = gl_model_check_loss("ntm trainCopy", st[0]);
    if (!err) err = gl_model_step(&m->base, "ntm trainCopy", &norm);
    if (err) {
        m->base.rng = before;
        return err;
    }
    out[0] = (float)(st[0] / B / LN2);
    out[1] = (float)(st[1] / B);
    out[2] = (float)L;
    out[3] = norm;
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
    int L = draw_length(&r, a->minL, a->maxL);
    random_batch(m, cx, &r, nb, L);
    return forward(m, cx, nb, L, &a->sums[2 * (size_t)k], &a->sums[2 * (size_t)k + 1]);
}

/* Loss and wrong bits on `count` fresh random sequences (batches of B, lengths uniform in
 * [minL, maxL], one length per batch) from streams seeded by `seed`, no update.
 * out: [bits of loss per sequence, wrong bits per sequence]. */
GL_API int gl_ntm_eval_copy(void *mp, float *out, int B, int minL, int maxL, int count, uint32_t seed) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm evaluateCopy: null argument");
    int err = check_lengths("ntm evaluateCopy", B, minL, maxL);
    if (err) return err;
    if (count < 1) return gl_fail(GL_EINVAL, "ntm evaluateCopy: count must be positive, got %d", count);
    int nchunks = (count + B - 1) / B;
    double *sums = (double *)calloc(2 * (size_t)nchunks, sizeof(double));
    if (!sums) return gl_fail(GL_ENOMEM, "ntm evaluateCopy: out of memory");
    ntm_batch a = {0, maxL, minL, B, seed, NULL, 0.0f, sums, 0};
    gl_model_job job = {ntm_ensure, ntm_eval_chunk, &a};
    err = gl_model_chunks(&m->base, count, B, &job);
    double ls = 0.0, ne = 0.0;
    for (int k = 0; k < nchunks; k++) {
        ls += sums[2 * k];
        ne += sums[2 * k + 1];
    }
    free(sums);
    if (err) return err;
    out[0] = (float)(ls / count / LN2);
    out[1] = (float)(ne / count);
    return GL_OK;
}

/* Loss and gradient on given sequences seq (B, L, bits), no update: the test hook for finite
 * differences. out: [loss in nats per sequence (mean over the batch), wrong bits per sequence].
 * The gradient (of the loss in nats) is left in the grads arena (gl_model_grads). */
GL_API int gl_ntm_loss_grad(void *mp, float *out, const float *seq, int B, int L) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out || !seq) return gl_fail(GL_EINVAL, "ntm loss: null argument");
    int err = check_lengths("ntm loss", B, L, L);
    if (err) return err;
    ntm_batch a = {L, L, L, B, 0, seq, 1.0f / (float)B, NULL, 1};
    gl_model_job job = {ntm_ensure, ntm_shard, &a};
    double st[GL_SHARD_STATS];
    err = gl_model_shards(&m->base, B, &job, 0, st);
    if (!err) err = gl_model_reduce(&m->base);
    if (err) return err;
    out[0] = (float)(st[0] / B);
    out[1] = (float)(st[1] / B);
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
    int err = check_lengths("ntm copy", 1, L, L);
    ntm_ctx *cx = &m->ctx[0]; /* one sequence: here, in context 0 */
    if (!err) err = ensure_acts(m, cx, 1, 2 * L + 1);
    if (err) return err;
    for (size_t i = 0; i < (size_t)L * m->bits; i++)
        if (!isfinite(seq[i])) return gl_fail(GL_ENUMERIC, "ntm copy: sequence[%zu] is not finite", i);
    copy_task_io(m, cx, seq, 1, L);
    double loss, errors;
    err = forward(m, cx, 1, L, &loss, &errors);
    if (err) return err;
    int T = 2 * L + 1, bits = m->bits;
    size_t R = (size_t)m->R, RC = R * m->C;
    if (output)
        for (int t = 0; t < L; t++)
            for (int i = 0; i < bits; i++)
                output[(size_t)t * bits + i] = gl_sigmoidf(cx->a[A_LOGIT][(size_t)(L + 1 + t) * bits + i]);
    if (rw) memcpy(rw, cx->a[A_WR] + (size_t)m->Hr * R, (size_t)T * m->Hr * R * sizeof(float));
    if (ww) memcpy(ww, cx->a[A_WW] + (size_t)m->Hw * R, (size_t)T * m->Hw * R * sizeof(float));
    if (mem)
        for (int t = 0; t < T; t++)
            memcpy(mem + (size_t)t * RC, cx->a[A_MEM] + (size_t)(t + 1) * m->Hw * RC, RC * sizeof(float));
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
    .kind = GL_KIND_NTM, .name = "ntm", .fields = ntm_fields, .nfields = NTM_NCONFIG, .min_config = NTM_NCONFIG,
    .seed_field = CF_SEED, .opt = {-1, CF_LR, -1, -1, CF_CLIP, CF_BETA1, CF_BETA2}, .size = sizeof(ntm_model),
    .ntensors = P_COUNT, .tensor_names = ntm_tensor_names, .configure = ntm_configure,
    .tensor_sizes = ntm_tensor_sizes, .tensor_shape = ntm_tensor_shape, .init = ntm_init, .release = ntm_release};

