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
#include "glimpse.h"
#include "layers.h"
#include "ntm.h"
#include "weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Configuration: the words saved in the weights file, in this order. Floats as bits (gl_f2u).  */

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
    S_COUNT
};

/* Activation memory limit (floats): 64 Mi floats = 256 MiB. */
#define ACT_LIMIT ((size_t)1 << 26)
#define MAX_LENGTH 10000

typedef struct {
    uint32_t cfg[NTM_NCONFIG];
    int bits, R, C, Hd, ctrl, Hr, Hw, n, S, Ib, I, P, Ph, Oin, learn_init;
    float lr, clip, beta1, beta2, meminit, pclip;
    gl_arena params, grads, m1, m2;
    float *p[P_COUNT], *g[P_COUNT];
    size_t psize[P_COUNT], nparams;
    gl_rng init_rng, data_rng;
    int step;
    gl_arena act, scr;
    float *a[A_COUNT], *s[S_COUNT];
    int capB, capT; /* activation arena laid out for (capB, capT); scratch for capB */
} ntm_model;

static float cfgf(const ntm_model *m, int k) { return gl_u2f(m->cfg[k]); }
static int bad_float(float x, float lo, float hi) { return !(x >= lo && x <= hi); }

static void default_config(uint32_t *c) {
    memset(c, 0, sizeof(uint32_t) * NTM_NCONFIG);
    c[CF_BITS] = 8; c[CF_R] = 128; c[CF_C] = 20; c[CF_HD] = 100; c[CF_CTRL] = CTRL_LSTM;
    c[CF_HR] = 1; c[CF_HW] = 1; c[CF_SHIFT] = 1; c[CF_SEED] = 0;
    c[CF_LR] = gl_f2u(1e-3f); c[CF_CLIP] = gl_f2u(10.0f);
    c[CF_BETA1] = gl_f2u(0.9f); c[CF_BETA2] = gl_f2u(0.999f);
    c[CF_MEMINIT] = gl_f2u(1e-6f); c[CF_LEARNINIT] = 1; c[CF_PCLIP] = gl_f2u(20.0f);
}

static int apply_config(ntm_model *m, const uint32_t *cfg) {
    memcpy(m->cfg, cfg, sizeof m->cfg);
    const uint32_t *c = m->cfg;
    if (c[CF_BITS] < 1 || c[CF_BITS] > 256) return gl_fail(GL_EINVAL, "ntm: bits must be in [1, 256], got %u", c[CF_BITS]);
    if (c[CF_R] < 1 || c[CF_R] > 4096 || c[CF_C] < 1 || c[CF_C] > 1024)
        return gl_fail(GL_EINVAL, "ntm: memory must be R x C with R in [1, 4096] and C in [1, 1024], got %u x %u", c[CF_R], c[CF_C]);
    if (c[CF_HD] < 1 || c[CF_HD] > 4096) return gl_fail(GL_EINVAL, "ntm: controller size must be in [1, 4096], got %u", c[CF_HD]);
    if (c[CF_CTRL] > CTRL_FF) return gl_fail(GL_EINVAL, "ntm: controller type must be 0 (LSTM) or 1 (feed-forward), got %u", c[CF_CTRL]);
    if (c[CF_HR] < 1 || c[CF_HR] > 16 || c[CF_HW] < 1 || c[CF_HW] > 16)
        return gl_fail(GL_EINVAL, "ntm: read and write heads must each be in [1, 16], got %u and %u", c[CF_HR], c[CF_HW]);
    if (2 * c[CF_SHIFT] + 1 > c[CF_R] || c[CF_SHIFT] > 64)
        return gl_fail(GL_EINVAL, "ntm: shift range n must satisfy 2n+1 <= R and n <= 64, got n = %u with R = %u", c[CF_SHIFT], c[CF_R]);
    if (c[CF_LEARNINIT] > 1) return gl_fail(GL_EINVAL, "ntm: learnInit must be 0 or 1, got %u", c[CF_LEARNINIT]);
    m->bits = (int)c[CF_BITS]; m->R = (int)c[CF_R]; m->C = (int)c[CF_C]; m->Hd = (int)c[CF_HD];
    m->ctrl = (int)c[CF_CTRL]; m->Hr = (int)c[CF_HR]; m->Hw = (int)c[CF_HW]; m->n = (int)c[CF_SHIFT];
    m->S = 2 * m->n + 1; m->learn_init = (int)c[CF_LEARNINIT];
    m->Ib = m->bits + 1;
    m->I = m->Ib + m->Hr * m->C;
    m->Ph = m->C + m->S + 3;
    m->P = m->Hr * m->Ph + m->Hw * (m->Ph + 2 * m->C);
    m->Oin = m->Hd + m->Hr * m->C;
    m->lr = cfgf(m, CF_LR); m->clip = cfgf(m, CF_CLIP); m->beta1 = cfgf(m, CF_BETA1); m->beta2 = cfgf(m, CF_BETA2);
    m->meminit = cfgf(m, CF_MEMINIT); m->pclip = cfgf(m, CF_PCLIP);
    if (bad_float(m->lr, 1e-12f, 10.0f)) return gl_fail(GL_EINVAL, "ntm: learning rate must be in (0, 10], got %g", m->lr);
    if (bad_float(m->clip, 0.0f, 1e30f)) return gl_fail(GL_EINVAL, "ntm: clip must be >= 0 (0 = off), got %g", m->clip);
    if (bad_float(m->beta1, 0.0f, 0.9999f) || bad_float(m->beta2, 0.0f, 0.999999f))
        return gl_fail(GL_EINVAL, "ntm: Adam betas must be in [0, 1), got %g, %g", m->beta1, m->beta2);
    if (bad_float(m->meminit, -1.0f, 1.0f)) return gl_fail(GL_EINVAL, "ntm: memory init must be in [-1, 1], got %g", m->meminit);
    if (bad_float(m->pclip, 0.0f, 1e6f)) return gl_fail(GL_EINVAL, "ntm: parameter clip must be in [0, 1e6] (0 = off), got %g", m->pclip);
    return GL_OK;
}

static void param_sizes(const ntm_model *m, size_t *s) {
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

static int layout_params(ntm_model *m) {
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

/* Controller and layers: PyTorch's defaults (uniform +-1/sqrt(fan_in) for LSTMCell and Linear
 * weights and biases). r0 and w0: Collier & Beel's learned_init, a bias-free fully connected layer
 * from the constant 1 with Glorot-uniform weights, i.e. uniform +-sqrt(6 / (1 + units)). Fixed
 * initial state: r0 = 0 (r_0 = tanh 0 = 0) and w0 = (20, 0, 0, ...) so w_0 is row 0 (to 1e-7). */
static void init_params(ntm_model *m) {
    gl_rng *r = &m->init_rng;
    float bc = gl_fan_in_bound(m->Hd);
    float bx = m->ctrl == CTRL_LSTM ? bc : gl_fan_in_bound(m->I);
    gl_init_uniform(m->p[P_WX], m->psize[P_WX], bx, r);
    gl_init_uniform(m->p[P_WH], m->psize[P_WH], bc, r);
    gl_init_uniform(m->p[P_B], m->psize[P_B], bx, r);
    gl_init_uniform(m->p[P_WP], m->psize[P_WP], bc, r);
    gl_init_uniform(m->p[P_BP], m->psize[P_BP], bc, r);
    float bo = gl_fan_in_bound(m->Oin);
    gl_init_uniform(m->p[P_WO], m->psize[P_WO], bo, r);
    gl_init_uniform(m->p[P_BO], m->psize[P_BO], bo, r);
    if (m->learn_init) {
        gl_init_uniform(m->p[P_R0], m->psize[P_R0], sqrtf(6.0f / (1.0f + (float)m->C)), r);
        gl_init_uniform(m->p[P_W0], m->psize[P_W0], sqrtf(6.0f / (1.0f + (float)m->R)), r);
    } else {
        memset(m->p[P_R0], 0, m->psize[P_R0] * sizeof(float));
        memset(m->p[P_W0], 0, m->psize[P_W0] * sizeof(float));
        for (int h = 0; h < m->Hr + m->Hw; h++) m->p[P_W0][(size_t)h * m->R] = 20.0f;
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

static int ensure_acts(ntm_model *m, int B, int T) {
    if (B <= m->capB && T <= m->capT) return GL_OK;
    int nb = B > m->capB ? B : m->capB, nt = T > m->capT ? T : m->capT;
    size_t s[A_COUNT];
    int err = act_sizes(m, nb, nt, s);
    if (err && (nb != B || nt != T)) { /* the union does not fit: try exactly what is asked */
        nb = B; nt = T;
        err = act_sizes(m, nb, nt, s);
    }
    if (err) return err;
    gl_arena_free(&m->act);
    m->capT = 0;
    err = gl_arena_layout(&m->act, m->a, s, A_COUNT);
    if (err) return err;
    if (nb > m->capB || !m->scr.base) {
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
        gl_arena_free(&m->scr);
        m->capB = 0;
        err = gl_arena_layout(&m->scr, m->s, q, S_COUNT);
        if (err) {
            gl_arena_free(&m->act);
            return err;
        }
    }
    m->capB = nb;
    m->capT = nt;
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

static head_group group_at(const ntm_model *m, int write, int t, int B) {
    head_group q;
    size_t b = (size_t)B, tt = (size_t)t;
    int H = write ? m->Hw : m->Hr;
    size_t h = (size_t)H, C = (size_t)m->C, R = (size_t)m->R, S = (size_t)m->S;
    q.H = H;
    q.k = m->a[write ? A_KW : A_KR] + tt * b * h * C;
    q.beta = m->a[write ? A_BW : A_BR] + tt * b * h;
    q.g = m->a[write ? A_GW : A_GR] + tt * b * h;
    q.s = m->a[write ? A_SW : A_SR] + tt * b * h * S;
    q.gamma = m->a[write ? A_GAMW : A_GAMR] + tt * b * h;
    q.wprev = m->a[write ? A_WW : A_WR] + tt * b * h * R;
    q.w = q.wprev + b * h * R;
    q.cache = m->a[write ? A_CW : A_CR] + tt * b * h * GL_NTM_CACHE_FLOATS(m->R);
    return q;
}

/* Offset of global head hh's parameters in a row of P (read heads first). */
static size_t head_offset(const ntm_model *m, int hh) {
    if (hh < m->Hr) return (size_t)hh * m->Ph;
    return (size_t)m->Hr * m->Ph + (size_t)(hh - m->Hr) * (m->Ph + 2 * m->C);
}

/* Head activations of step t from the clipped pre-activations. */
static void head_activations(ntm_model *m, int t, int B) {
    const float *pre = m->a[A_PRE] + (size_t)t * B * m->P;
    int C = m->C, S = m->S;
    for (int wr = 0; wr < 2; wr++) {
        head_group q = group_at(m, wr, t, B);
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
                    float *e = m->a[A_E] + ((size_t)t * B + b) * m->Hw * C + (size_t)j * C;
                    float *a = m->a[A_A] + ((size_t)t * B + b) * m->Hw * C + (size_t)j * C;
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
static void initial_state(ntm_model *m, int B) {
    size_t b = (size_t)B, Hd = (size_t)m->Hd, C = (size_t)m->C, R = (size_t)m->R;
    memset(m->a[A_H], 0, b * Hd * sizeof(float));
    memset(m->a[A_CS], 0, b * Hd * sizeof(float));
    float *r0 = m->a[A_RV];
    for (size_t i = 0; i < (size_t)m->Hr * C; i++) r0[i] = gl_tanhf(m->p[P_R0][i]);
    for (size_t i = 1; i < b; i++) memcpy(r0 + i * m->Hr * C, r0, (size_t)m->Hr * C * sizeof(float));
    for (int hh = 0; hh < m->Hr + m->Hw; hh++) {
        const float *l = m->p[P_W0] + (size_t)hh * R;
        float *w0 = hh < m->Hr ? m->a[A_WR] + (size_t)hh * R : m->a[A_WW] + (size_t)(hh - m->Hr) * R;
        float mx = l[0];
        for (size_t i = 1; i < R; i++) mx = l[i] > mx ? l[i] : mx;
        double z = 0.0;
        for (size_t i = 0; i < R; i++) z += (w0[i] = expf(l[i] - mx));
        for (size_t i = 0; i < R; i++) w0[i] = (float)(w0[i] / z);
    }
    for (size_t i = 1; i < b; i++) {
        memcpy(m->a[A_WR] + i * m->Hr * R, m->a[A_WR], (size_t)m->Hr * R * sizeof(float));
        memcpy(m->a[A_WW] + i * m->Hw * R, m->a[A_WW], (size_t)m->Hw * R * sizeof(float));
    }
    float *M0 = m->a[A_MEM];
    for (size_t i = 0; i < b * R * C; i++) M0[i] = m->meminit;
}

/* Fill A_X and A_Y for a batch of sequences seq (B, L, bits) in the copy-task layout. */
static void copy_task_io(ntm_model *m, const float *seq, int B, int L) {
    int T = 2 * L + 1, Ib = m->Ib, bits = m->bits;
    memset(m->a[A_X], 0, (size_t)T * B * Ib * sizeof(float));
    memset(m->a[A_Y], 0, (size_t)T * B * bits * sizeof(float));
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            const float *v = seq + ((size_t)b * L + t) * bits;
            memcpy(m->a[A_X] + ((size_t)t * B + b) * Ib, v, (size_t)bits * sizeof(float));
            memcpy(m->a[A_Y] + ((size_t)(L + 1 + t) * B + b) * bits, v, (size_t)bits * sizeof(float));
        }
        m->a[A_X][((size_t)L * B + b) * Ib + bits] = 1.0f; /* the delimiter */
    }
}

/* Forward over T = 2L+1 steps (A_X, A_Y filled). *loss: BCE nats summed over the output phase and
 * the batch; *errors: wrong bits (logit > 0 vs target > 0.5) summed likewise. */
static int forward(ntm_model *m, int B, int L, double *loss, double *errors) {
    int T = 2 * L + 1, Hd = m->Hd, I = m->I, Ib = m->Ib, P = m->P, C = m->C, R = m->R, S = m->S;
    int Hr = m->Hr, Hw = m->Hw, bits = m->bits;
    size_t b = (size_t)B, RC = (size_t)R * C;
    double ls = 0.0, ne = 0.0;
    initial_state(m, B);
    for (int t = 0; t < T; t++) {
        size_t tt = (size_t)t;
        const float *x = m->a[A_X] + tt * b * Ib;
        float *xin = m->a[A_XIN] + tt * b * I;
        const float *rprev = m->a[A_RV] + tt * b * Hr * C;
        for (size_t i = 0; i < b; i++) {
            memcpy(xin + i * I, x + i * Ib, (size_t)Ib * sizeof(float));
            memcpy(xin + i * I + Ib, rprev + i * Hr * C, (size_t)Hr * C * sizeof(float));
        }
        float *hp = m->a[A_H] + tt * b * Hd, *h = hp + b * Hd;
        float *cp = m->a[A_CS] + tt * b * Hd, *c = cp + b * Hd;
        if (m->ctrl == CTRL_LSTM) {
            gl_lstm_forward(h, c, m->a[A_GATES] + tt * b * 4 * Hd, m->a[A_TANHC] + tt * b * Hd, xin, t ? hp : NULL,
                            t ? cp : NULL, m->p[P_WX], m->p[P_WH], m->p[P_B], B, I, Hd);
        } else {
            gl_linear_forward(h, xin, m->p[P_WX], m->p[P_B], B, I, Hd);
            gl_tanh_forward(h, h, b * Hd);
            memset(c, 0, b * Hd * sizeof(float));
        }
        float *pre = m->a[A_PRE] + tt * b * P;
        gl_linear_forward(pre, h, m->p[P_WP], m->p[P_BP], B, Hd, P);
        if (m->pclip > 0.0f) {
            float lim = m->pclip;
            for (size_t i = 0; i < b * P; i++) pre[i] = pre[i] > lim ? lim : pre[i] < -lim ? -lim : pre[i];
        }
        head_activations(m, t, B);
        const float *Mprev = m->a[A_MEM] + tt * Hw * b * RC;
        for (int wr = 0; wr < 2; wr++) {
            head_group q = group_at(m, wr, t, B);
            int err = gl_ntm_address_forward(q.w, q.cache, Mprev, q.k, q.beta, q.g, q.s, q.gamma, q.wprev, B, q.H, R,
                                             C, S);
            if (err) return err;
        }
        float *wr_t = m->a[A_WR] + (tt + 1) * b * Hr * R;
        float *rv = m->a[A_RV] + (tt + 1) * b * Hr * C;
        gl_ntm_read_forward(rv, Mprev, wr_t, B, Hr, R, C);
        const float *ww_t = m->a[A_WW] + (tt + 1) * b * Hw * R;
        const float *e = m->a[A_E] + tt * b * Hw * C, *a = m->a[A_A] + tt * b * Hw * C;
        for (int j = 0; j < Hw; j++) {
            const float *M0 = m->a[A_MEM] + (tt * Hw + j) * b * RC;
            float *M1 = m->a[A_MEM] + (tt * Hw + j + 1) * b * RC;
            if (Hw == 1) {
                gl_ntm_write_forward(M1, M0, ww_t, e, a, B, R, C);
            } else {
                for (size_t i = 0; i < b; i++)
                    gl_ntm_write_forward(M1 + i * RC, M0 + i * RC, ww_t + (i * Hw + j) * R, e + (i * Hw + j) * C,
                                         a + (i * Hw + j) * C, 1, R, C);
            }
        }
        if (t > L) { /* output phase */
            float *oin = m->a[A_OIN] + tt * b * m->Oin;
            for (size_t i = 0; i < b; i++) {
                memcpy(oin + i * m->Oin, h + i * Hd, (size_t)Hd * sizeof(float));
                memcpy(oin + i * m->Oin + Hd, rv + i * Hr * C, (size_t)Hr * C * sizeof(float));
            }
            float *logit = m->a[A_LOGIT] + tt * b * bits;
            gl_linear_forward(logit, oin, m->p[P_WO], m->p[P_BO], B, m->Oin, bits);
            const float *y = m->a[A_Y] + tt * b * bits;
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
static void head_activations_backward(ntm_model *m, int t, int B, const float *dk[2], const float *dbeta[2],
                                      const float *dg[2], const float *ds[2], const float *dgam[2]) {
    const float *pre = m->a[A_PRE] + (size_t)t * B * m->P;
    float *dP = m->s[S_DP];
    int C = m->C, S = m->S;
    float lim = m->pclip > 0.0f ? m->pclip : INFINITY;
    for (int wr = 0; wr < 2; wr++) {
        head_group q = group_at(m, wr, t, B);
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
                    const float *e = m->a[A_E] + (size_t)t * B * m->Hw * C + ej;
                    const float *a = m->a[A_A] + (size_t)t * B * m->Hw * C + ej;
                    const float *de = m->s[S_DE] + ej, *da = m->s[S_DA] + ej;
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

static void backward(ntm_model *m, int B, int L) {
    int T = 2 * L + 1, Hd = m->Hd, I = m->I, Ib = m->Ib, P = m->P, C = m->C, R = m->R, S = m->S;
    int Hr = m->Hr, Hw = m->Hw, bits = m->bits, Oin = m->Oin;
    size_t b = (size_t)B, RC = (size_t)R * C;
    float **sp = m->s;
    float *dH = sp[S_DH], *dHn = sp[S_DHN], *dC = sp[S_DC], *dCn = sp[S_DCN];
    float *dR = sp[S_DR], *dRn = sp[S_DRN], *dWR = sp[S_DWR], *dWRn = sp[S_DWRN];
    float *dWW = sp[S_DWW], *dWWn = sp[S_DWWN], *dM = sp[S_DM], *dMn = sp[S_DMN];
    zero(dH, b * Hd); zero(dC, b * Hd); zero(dR, b * Hr * C); zero(dWR, b * Hr * R); zero(dWW, b * Hw * R);
    zero(dM, b * RC);
    const float *dk[2] = {sp[S_DKR], sp[S_DKW]}, *dbeta[2] = {sp[S_DBR], sp[S_DBW]}, *dg[2] = {sp[S_DGR], sp[S_DGW]};
    const float *ds[2] = {sp[S_DSR], sp[S_DSW]}, *dgam[2] = {sp[S_DGAMR], sp[S_DGAMW]};
    float scale = 1.0f / (float)B;
    for (int t = T - 1; t >= 0; t--) {
        size_t tt = (size_t)t;
        float *h = m->a[A_H] + (tt + 1) * b * Hd;
        /* output layer */
        if (t > L) {
            float *dl = sp[S_DLOGIT], *doin = sp[S_DOIN];
            zero(dl, b * bits);
            gl_bce_logits(dl, m->a[A_LOGIT] + tt * b * bits, m->a[A_Y] + tt * b * bits, b * bits, scale);
            zero(doin, b * Oin);
            gl_linear_backward(doin, m->g[P_WO], m->g[P_BO], dl, m->a[A_OIN] + tt * b * Oin, m->p[P_WO], B, Oin, bits);
            for (size_t i = 0; i < b; i++) {
                for (int j = 0; j < Hd; j++) dH[i * Hd + j] += doin[i * Oin + j];
                for (int j = 0; j < Hr * C; j++) dR[i * Hr * C + j] += doin[i * Oin + Hd + j];
            }
        }
        /* writes, last head first: dM becomes the gradient w.r.t. the memory before the writes */
        const float *ww_t = m->a[A_WW] + (tt + 1) * b * Hw * R;
        const float *e = m->a[A_E] + tt * b * Hw * C, *a = m->a[A_A] + tt * b * Hw * C;
        zero(sp[S_DE], b * Hw * C);
        zero(sp[S_DA], b * Hw * C);
        for (int j = Hw - 1; j >= 0; j--) {
            const float *M0 = m->a[A_MEM] + (tt * Hw + j) * b * RC;
            zero(dMn, b * RC);
            if (Hw == 1) {
                gl_ntm_write_backward(dMn, dWW, sp[S_DE], sp[S_DA], dM, M0, ww_t, e, a, B, R, C);
            } else {
                for (size_t i = 0; i < b; i++) {
                    size_t wj = (i * Hw + j) * R, cj = (i * Hw + j) * C;
                    gl_ntm_write_backward(dMn + i * RC, dWW + wj, sp[S_DE] + cj, sp[S_DA] + cj, dM + i * RC,
                                          M0 + i * RC, ww_t + wj, e + cj, a + cj, 1, R, C);
                }
            }
            swapp(&dM, &dMn);
        }
        const float *Mprev = m->a[A_MEM] + tt * Hw * b * RC;
        /* read */
        gl_ntm_read_backward(dM, dWR, dR, Mprev, m->a[A_WR] + (tt + 1) * b * Hr * R, B, Hr, R, C);
        /* addressing */
        zero(dWRn, b * Hr * R);
        zero(dWWn, b * Hw * R);
        for (int wr = 0; wr < 2; wr++) {
            head_group q = group_at(m, wr, t, B);
            size_t h = (size_t)q.H;
            float *dkk = (float *)dk[wr], *db = (float *)dbeta[wr], *dgg = (float *)dg[wr], *dss = (float *)ds[wr];
            float *dgm = (float *)dgam[wr];
            zero(dkk, b * h * C); zero(db, b * h); zero(dgg, b * h); zero(dss, b * h * S); zero(dgm, b * h);
            gl_ntm_address_backward(dM, dkk, db, dgg, dss, dgm, wr ? dWWn : dWRn, wr ? dWW : dWR, q.cache, Mprev, q.k,
                                    q.beta, q.g, q.s, q.gamma, q.wprev, B, q.H, R, C, S);
        }
        head_activations_backward(m, t, B, dk, dbeta, dg, ds, dgam);
        gl_linear_backward(dH, m->g[P_WP], m->g[P_BP], sp[S_DP], h, m->p[P_WP], B, Hd, P);
        /* controller */
        float *dxin = sp[S_DXIN];
        const float *xin = m->a[A_XIN] + tt * b * I;
        zero(dxin, b * I);
        zero(dHn, b * Hd);
        zero(dCn, b * Hd);
        if (m->ctrl == CTRL_LSTM) {
            const float *hp = t ? m->a[A_H] + tt * b * Hd : NULL, *cp = t ? m->a[A_CS] + tt * b * Hd : NULL;
            gl_lstm_backward(dxin, t ? dHn : NULL, t ? dCn : NULL, m->g[P_WX], m->g[P_WH], m->g[P_B], sp[S_DGATES], dH,
                             dC, m->a[A_GATES] + tt * b * 4 * Hd, m->a[A_TANHC] + tt * b * Hd, xin, hp, cp,
                             m->p[P_WX], m->p[P_WH], B, I, Hd);
        } else {
            float *dz = sp[S_DGATES];
            for (size_t i = 0; i < b * Hd; i++) dz[i] = dH[i] * (1.0f - h[i] * h[i]);
            gl_linear_backward(dxin, m->g[P_WX], m->g[P_B], dz, xin, m->p[P_WX], B, I, Hd);
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
        const float *r0 = m->a[A_RV];
        for (size_t i = 0; i < b; i++)
            for (int j = 0; j < Hr * C; j++)
                m->g[P_R0][j] += dR[i * Hr * C + j] * (1.0f - r0[j] * r0[j]);
        for (int hh = 0; hh < Hr + Hw; hh++) {
            const float *w0 = hh < Hr ? m->a[A_WR] + (size_t)hh * R : m->a[A_WW] + (size_t)(hh - Hr) * R;
            float *gw = m->g[P_W0] + (size_t)hh * R;
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
static void random_batch(ntm_model *m, gl_rng *r, int B, int L) {
    int T = 2 * L + 1, Ib = m->Ib, bits = m->bits;
    memset(m->a[A_X], 0, (size_t)T * B * Ib * sizeof(float));
    memset(m->a[A_Y], 0, (size_t)T * B * bits * sizeof(float));
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            float *x = m->a[A_X] + ((size_t)t * B + b) * Ib;
            float *y = m->a[A_Y] + ((size_t)(L + 1 + t) * B + b) * bits;
            uint32_t u = 0;
            for (int i = 0; i < bits; i++) {
                if (i % 32 == 0) u = gl_rng_u32(r);
                x[i] = y[i] = (float)(u & 1u);
                u >>= 1;
            }
        }
        m->a[A_X][((size_t)L * B + b) * Ib + bits] = 1.0f;
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

static void model_free(ntm_model *m) {
    if (!m) return;
    gl_arena_free(&m->params);
    gl_arena_free(&m->grads);
    gl_arena_free(&m->m1);
    gl_arena_free(&m->m2);
    gl_arena_free(&m->act);
    gl_arena_free(&m->scr);
    free(m);
}

static int model_new(ntm_model **out, const uint32_t *cfg) {
    *out = NULL;
    ntm_model *m = (ntm_model *)calloc(1, sizeof *m);
    if (!m) return gl_fail(GL_ENOMEM, "ntm: out of memory");
    int err = apply_config(m, cfg);
    if (!err) err = layout_params(m);
    if (err) {
        model_free(m);
        return err;
    }
    gl_rng_seed(&m->init_rng, m->cfg[CF_SEED], 1);
    gl_rng_seed(&m->data_rng, m->cfg[CF_SEED], 2);
    *out = m;
    return GL_OK;
}

/* *out <- a new model. config: nconfig words in CF_* order (top of this file, src/js/ntm_model.js);
 * words beyond nconfig take their defaults. */
GL_API int gl_ntm_create(void **out, const uint32_t *config, int nconfig) {
    if (!out) return gl_fail(GL_EINVAL, "ntm: null output pointer");
    *out = NULL;
    if (nconfig < 0 || nconfig > NTM_NCONFIG || (nconfig > 0 && !config))
        return gl_fail(GL_EINVAL, "ntm: nconfig must be in [0, %d], got %d", NTM_NCONFIG, nconfig);
    uint32_t cfg[NTM_NCONFIG];
    default_config(cfg);
    for (int i = 0; i < nconfig; i++) cfg[i] = config[i];
    ntm_model *m;
    int err = model_new(&m, cfg);
    if (err) return err;
    init_params(m);
    *out = m;
    return GL_OK;
}

GL_API void gl_ntm_free(void *m) { model_free((ntm_model *)m); }

/* The full configuration (NTM_NCONFIG words) into out (cap words); returns the count or -1. */
GL_API int gl_ntm_config(void *mp, uint32_t *out, int cap) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out || cap < NTM_NCONFIG) return -1;
    memcpy(out, m->cfg, sizeof m->cfg);
    return NTM_NCONFIG;
}

GL_API size_t gl_ntm_param_count(void *mp) { return ((ntm_model *)mp)->nparams; }

GL_API int gl_ntm_set_lr(void *mp, float lr) {
    ntm_model *m = (ntm_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "ntm: null model");
    if (bad_float(lr, 1e-12f, 10.0f)) return gl_fail(GL_EINVAL, "ntm: learning rate must be in (0, 10], got %g", lr);
    m->lr = lr;
    m->cfg[CF_LR] = gl_f2u(lr);
    return GL_OK;
}

static const float LN2 = 0.69314718055994531f;

/* One optimiser step on a fresh batch of B random copy-task sequences, one length drawn uniformly
 * from [minL, maxL]. out: [loss in bits per sequence, wrong bits per sequence, length, gradient
 * norm before clipping]. A non-finite loss or gradient refuses the step (GL_ENUMERIC): weights and
 * optimiser state unchanged. */
GL_API int gl_ntm_train_copy(void *mp, float *out, int B, int minL, int maxL) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm trainCopy: null argument");
    int err = check_lengths("ntm trainCopy", B, minL, maxL);
    if (err) return err;
    gl_rng before = m->data_rng; /* a refused call leaves the data stream as it was */
    int L = draw_length(&m->data_rng, minL, maxL);
    err = ensure_acts(m, B, 2 * L + 1);
    if (err) {
        m->data_rng = before;
        return err;
    }
    random_batch(m, &m->data_rng, B, L);
    double loss, errors;
    err = forward(m, B, L, &loss, &errors);
    if (err) return err;
    if (!isfinite(loss))
        return gl_fail(GL_ENUMERIC, "ntm trainCopy: the loss is not finite (%g); step refused, weights unchanged", loss);
    gl_arena_zero(&m->grads);
    backward(m, B, L);
    if (!m->learn_init) {
        zero(m->g[P_R0], m->psize[P_R0]);
        zero(m->g[P_W0], m->psize[P_W0]);
    }
    size_t n = m->params.used;
    float norm = gl_clip_grad_norm(m->grads.base, n, m->clip > 0.0f ? m->clip : INFINITY);
    if (!isfinite(norm))
        return gl_fail(GL_ENUMERIC, "ntm trainCopy: the gradient is not finite; step refused, weights unchanged");
    m->step++;
    gl_adam_step(m->params.base, m->m1.base, m->m2.base, m->grads.base, n, m->lr, m->beta1, m->beta2, 1e-8f, 0.0f,
                 m->step);
    out[0] = (float)(loss / B / LN2);
    out[1] = (float)(errors / B);
    out[2] = (float)L;
    out[3] = norm;
    return GL_OK;
}

/* Loss and wrong bits on `count` fresh random sequences (batches of B, lengths uniform in
 * [minL, maxL], one length per batch) from a PCG32 stream seeded with `seed`, no update.
 * out: [bits of loss per sequence, wrong bits per sequence]. */
GL_API int gl_ntm_eval_copy(void *mp, float *out, int B, int minL, int maxL, int count, uint32_t seed) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm evaluateCopy: null argument");
    int err = check_lengths("ntm evaluateCopy", B, minL, maxL);
    if (err) return err;
    if (count < 1) return gl_fail(GL_EINVAL, "ntm evaluateCopy: count must be positive, got %d", count);
    gl_rng r;
    gl_rng_seed(&r, seed, 3);
    double ls = 0.0, ne = 0.0;
    for (int done = 0; done < count;) {
        int nb = count - done < B ? count - done : B;
        int L = draw_length(&r, minL, maxL);
        err = ensure_acts(m, nb, 2 * L + 1);
        if (err) return err;
        random_batch(m, &r, nb, L);
        double l, e;
        err = forward(m, nb, L, &l, &e);
        if (err) return err;
        ls += l;
        ne += e;
        done += nb;
    }
    out[0] = (float)(ls / count / LN2);
    out[1] = (float)(ne / count);
    return GL_OK;
}

/* Loss and gradient on given sequences seq (B, L, bits), no update: the test hook for finite
 * differences. out: [loss in nats per sequence (mean over the batch), wrong bits per sequence].
 * The gradient (of the loss in nats) is left in the grads arena (gl_ntm_grads). */
GL_API int gl_ntm_loss_grad(void *mp, float *out, const float *seq, int B, int L) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out || !seq) return gl_fail(GL_EINVAL, "ntm loss: null argument");
    int err = check_lengths("ntm loss", B, L, L);
    if (!err) err = ensure_acts(m, B, 2 * L + 1);
    if (err) return err;
    copy_task_io(m, seq, B, L);
    double loss, errors;
    err = forward(m, B, L, &loss, &errors);
    if (err) return err;
    gl_arena_zero(&m->grads);
    backward(m, B, L);
    out[0] = (float)(loss / B);
    out[1] = (float)(errors / B);
    return GL_OK;
}

GL_API float *gl_ntm_params(void *mp, size_t *n) {
    ntm_model *m = (ntm_model *)mp;
    if (n) *n = m->params.used;
    return m->params.base;
}
GL_API float *gl_ntm_grads(void *mp, size_t *n) {
    ntm_model *m = (ntm_model *)mp;
    if (n) *n = m->grads.used;
    return m->grads.base;
}
/* Offset (floats, in the params / grads arenas) and length of parameter tensor i (order: controller
 * Wx, Wh, b, heads Wp, bp, output Wo, bo, r0, w0); -1 when i is out of range. */
GL_API int gl_ntm_tensor(void *mp, int i, size_t *offset, size_t *n) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || i < 0 || i >= P_COUNT) return -1;
    *offset = (size_t)(m->p[i] - m->params.base);
    *n = m->psize[i];
    return 0;
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
    if (!err) err = ensure_acts(m, 1, 2 * L + 1);
    if (err) return err;
    for (size_t i = 0; i < (size_t)L * m->bits; i++)
        if (!isfinite(seq[i])) return gl_fail(GL_ENUMERIC, "ntm copy: sequence[%zu] is not finite", i);
    copy_task_io(m, seq, 1, L);
    double loss, errors;
    err = forward(m, 1, L, &loss, &errors);
    if (err) return err;
    int T = 2 * L + 1, bits = m->bits;
    size_t R = (size_t)m->R, RC = R * m->C;
    if (output)
        for (int t = 0; t < L; t++)
            for (int i = 0; i < bits; i++)
                output[(size_t)t * bits + i] = gl_sigmoidf(m->a[A_LOGIT][(size_t)(L + 1 + t) * bits + i]);
    if (rw) memcpy(rw, m->a[A_WR] + (size_t)m->Hr * R, (size_t)T * m->Hr * R * sizeof(float));
    if (ww) memcpy(ww, m->a[A_WW] + (size_t)m->Hw * R, (size_t)T * m->Hw * R * sizeof(float));
    if (mem)
        for (int t = 0; t < T; t++)
            memcpy(mem + (size_t)t * RC, m->a[A_MEM] + (size_t)(t + 1) * m->Hw * RC, RC * sizeof(float));
    if (out2) {
        out2[0] = (float)(loss / LN2);
        out2[1] = (float)errors;
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Save / load (src/weights.h, kind GL_KIND_NTM): the config words, then the parameter tensors
 * packed in P_* order. Optimiser state is not saved. */

GL_API size_t gl_ntm_save_size(void *mp, int f16) {
    ntm_model *m = (ntm_model *)mp;
    return gl_weights_size(NTM_NCONFIG, m->nparams, f16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

GL_API int gl_ntm_save(void *mp, uint8_t *out, size_t cap, int f16) {
    ntm_model *m = (ntm_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "ntm save: null argument");
    return gl_weights_write(out, cap, GL_KIND_NTM, m->cfg, NTM_NCONFIG, (const float *const *)m->p, m->psize, P_COUNT,
                            f16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

/* Parameters a configuration needs, computed without allocating; 0 when the configuration is
 * invalid (model_new then says why). */
static size_t config_nparams(const uint32_t *cfg) {
    ntm_model *m = (ntm_model *)calloc(1, sizeof *m);
    size_t n = 0, s[P_COUNT];
    if (m && apply_config(m, cfg) == GL_OK) {
        param_sizes(m, s);
        for (int i = 0; i < P_COUNT; i++) n += s[i];
    }
    free(m);
    return n;
}

static int io_create(void **m, const uint32_t *cfg) { return model_new((ntm_model **)m, cfg); }
static void io_destroy(void *m) { model_free((ntm_model *)m); }
static void io_tensors(void *mp, float *const **ptrs, const size_t **sizes, int *count) {
    ntm_model *m = (ntm_model *)mp;
    *ptrs = m->p;
    *sizes = m->psize;
    *count = P_COUNT;
}

static const gl_model_io ntm_io = {GL_KIND_NTM, "ntm", NTM_NCONFIG, NTM_NCONFIG, default_config, config_nparams,
                                     io_create, io_destroy, io_tensors};

GL_API int gl_ntm_load(void **out, const uint8_t *bytes, size_t len) {
    return gl_weights_load_model(out, &ntm_io, bytes, len);
}
