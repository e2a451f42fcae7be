/* layers.h: the shared neural-network layers of the C core (the STN's CNNs, DRAW's and the NTM's
 * linear layers and losses), in the style of karpathy/llm.c. It also includes the headers of the
 * pieces they are built from, each in a file of its own: arena.h (buffers), rng.h (PCG32),
 * gemm.h (the SIMD GEMM), lstm.h (the LSTM cell), optim.h (SGD, Adam, clipping).
 *
 * Every layer is a pair of plain functions over flat row-major float buffers:
 *     gl_xxx_forward(out, [caches...], inputs..., weights..., sizes...)
 *     gl_xxx_backward(dinp, dweight, dbias, [scratch], dout, inputs..., weights..., sizes...)
 *  - Forward writes (=) its outputs and whatever backward needs into caller-owned buffers;
 *    layers hold no hidden state.
 *  - Backward ACCUMULATES (+=) into every gradient buffer (dinp, dweight, dbias, ...); the caller
 *    zeroes gradients in one place (gl_arena_zero). A gradient pointer may be NULL when the
 *    caller does not need it (noted per function).
 *  - Shapes are written beside each buffer. Letters: B (or N) batch, C input channels, O output
 *    channels/features, I input features, H/W input height/width, Ho/Wo output height/width,
 *    K kernel size, P = Ho*Wo, Hd LSTM hidden size.
 *  - These are internal C functions (not GL_API exports): the model files validate sizes at their
 *    entry points, so layers trust their arguments and return void, except where they allocate.
 *
 * Speed: everything heavy goes through gl_sgemm (a register-blocked SIMD GEMM written against
 * simd.h, with gl_sgemm_ref beside it as its oracle). conv2d is im2col per batch item + GEMM with
 * the spatial dimension (P = Ho*Wo) as the vectorised one.
 */
#ifndef GLIMPSE_LAYERS_H
#define GLIMPSE_LAYERS_H

#include "glimpse.h"
#include "arena.h"
#include "gemm.h"
#include "lstm.h"
#include "optim.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------- */
/* Linear (fully connected), as torch.nn.Linear: out = inp . W^T + b                            */

void gl_linear_forward(float *out,          /* (B, O) */
                       const float *inp,    /* (B, I) */
                       const float *weight, /* (O, I) */
                       const float *bias,   /* (O) or NULL */
                       int B, int I, int O);
void gl_linear_backward(float *dinp,         /* (B, I) or NULL, += dout . W */
                        float *dweight,      /* (O, I) or NULL, += dout^T . inp */
                        float *dbias,        /* (O) or NULL, += sum over B of dout */
                        const float *dout,   /* (B, O) */
                        const float *inp,    /* (B, I) */
                        const float *weight, /* (O, I) */
                        int B, int I, int O);

/* acc (n) += sum over rows of x (rows, n): the bias gradient of a linear layer. */
void gl_add_rows(float *acc, const float *x, int rows, int n);

/* ---------------------------------------------------------------------------------------- */
/* conv2d, as torch.nn.Conv2d with stride 1, no padding, square kernel K:                       */
/*     out[n,o,y,x] = b[o] + sum_{c,ky,kx} W[o,c,ky,kx] * inp[n,c,y+ky,x+kx],                   */
/* Ho = H-K+1, Wo = W-K+1, P = Ho*Wo. Per batch item: col (C*K*K, P) = im2col(inp[n]);          */
/* out[n] (O, P) = W (O, C*K*K) . col. Backward: dW += dY . col^T; dcol = W^T . dY; col2im.      */
/* `col` is caller-owned scratch of gl_conv2d_col_size(N, C, H, W, O, K) floats (contents       */
/* garbage afterwards); forward and backward of the same sizes may share it. When the output     */
/* plane is small (P < 256) several items go through one GEMM: their im2col and a staging        */
/* matrix then live side by side in `col` (at most 65536 + 512*O floats), so the layer never      */
/* allocates and is safe to run in parallel on separate scratch.                                  */

size_t gl_conv2d_col_size(int N, int C, int H, int W, int O, int K); /* max(C*K*K*Ho*Wo, grouped) */
void gl_conv2d_forward(float *out,          /* (N, O, Ho, Wo) */
                       float *col,          /* scratch (C*K*K, Ho*Wo) */
                       const float *inp,    /* (N, C, H, W) */
                       const float *weight, /* (O, C, K, K) */
                       const float *bias,   /* (O) or NULL */
                       int N, int C, int H, int W, int O, int K);
void gl_conv2d_backward(float *dinp,         /* (N, C, H, W) or NULL (skip: e.g. first layer) */
                        float *dweight,      /* (O, C, K, K) */
                        float *dbias,        /* (O) or NULL */
                        float *col,          /* scratch (C*K*K, Ho*Wo) */
                        const float *dout,   /* (N, O, Ho, Wo) */
                        const float *inp,    /* (N, C, H, W) */
                        const float *weight, /* (O, C, K, K) */
                        int N, int C, int H, int W, int O, int K);
/* Plain direct-loop conv2d (double accumulation), the oracle for tests. */
void gl_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int C, int H, int W, int O, int K);

/* ---------------------------------------------------------------------------------------- */
/* Max pooling 2x2, stride 2, as torch.nn.functional.max_pool2d(x, 2): Ho = H/2, Wo = W/2      */
/* (floor; an odd last row/column is dropped). Ties pick the first maximum in row-major order,  */
/* like PyTorch. idx holds, per output, the flat index (y*W + x) of the max within its plane.    */

void gl_maxpool2_forward(float *out,       /* (N, C, Ho, Wo) */
                         int32_t *idx,     /* (N, C, Ho, Wo) argmax within the (H, W) plane */
                         const float *inp, /* (N, C, H, W) */
                         int N, int C, int H, int W);
void gl_maxpool2_forward_ref(float *out, int32_t *idx, const float *inp, int N, int C, int H, int W); /* oracle */
void gl_maxpool2_backward(float *dinp,         /* (N, C, H, W), += dout at the argmax */
                          const float *dout,   /* (N, C, Ho, Wo) */
                          const int32_t *idx,  /* (N, C, Ho, Wo) */
                          int N, int C, int H, int W);

/* ---------------------------------------------------------------------------------------- */
/* Elementwise activations. out may alias inp in forward. Backward takes the forward OUTPUT     */
/* (so forward can run in place): relu' = out > 0, sigmoid' = out(1-out), tanh' = 1-out^2.       */
/* Note relu(maxpool(x)) == maxpool(relu(x)): pool first, it is 4x less work.                    */

static inline float gl_sigmoidf(float x) { return 1.0f / (1.0f + __builtin_expf(-x)); }
static inline float gl_tanhf(float x) { return __builtin_tanhf(x); }

void gl_relu_forward(float *out, const float *inp, size_t n);
void gl_relu_backward(float *dinp, const float *dout, const float *out, size_t n);
/* In-place ReLU backward, d = d * (out > 0): for a gradient buffer that nothing else feeds
 * (note: it overwrites, it does not accumulate). */
void gl_relu_mask(float *d, const float *out, size_t n);
void gl_sigmoid_forward(float *out, const float *inp, size_t n);
void gl_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);
void gl_tanh_forward(float *out, const float *inp, size_t n);
void gl_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Dropout (inverted, as torch): out = inp * mask, mask = 0 with probability p, else 1/(1-p).   */
/* One mask value per group of `inner` consecutive elements: inner = 1 is nn.Dropout,            */
/* inner = H*W on (N, C, H, W) is nn.Dropout2d (whole channels). n must be a multiple of inner.  */
/* p == 0 gives mask 1 everywhere (use it for eval mode, or just skip the layer).                */

void gl_dropout_forward(float *out,       /* (n) */
                        float *mask,      /* (n / inner), written */
                        const float *inp, /* (n) */
                        size_t n, size_t inner, float p, gl_rng *rng);
void gl_dropout_backward(float *dinp,       /* (n), += dout * mask */
                         const float *dout, /* (n) */
                         const float *mask, /* (n / inner) */
                         size_t n, size_t inner);

/* ---------------------------------------------------------------------------------------- */
/* Losses.                                                                                       */

/* logp (B, C) = log_softmax(logits) over the last dimension (stable: max subtracted). */
void gl_log_softmax_forward(float *logp, const float *logits, int B, int C);
/* Cross-entropy of log_softmax(logits) with integer labels, as F.cross_entropy(x, y,
 * reduction='sum') times `scale`: returns the SUM over the B rows (double); dlogits += (softmax -
 * onehot) * scale. scale = 1/B gives F.cross_entropy's mean (1 / the whole batch when the rows are
 * one shard of it).
 * logp (B, C) or NULL: receives log_softmax(logits). ncorrect or NULL: receives the number of rows
 * whose argmax (first maximum) equals the label. Labels must lie in [0, C). */
double gl_softmax_xent(float *dlogits,      /* (B, C), += scale * d loss / d logits */
                      float *logp,          /* (B, C) or NULL */
                      int *ncorrect,        /* or NULL */
                      const float *logits,  /* (B, C) */
                      const int32_t *labels, /* (B) */
                      int B, int C, float scale);
/* Binary cross-entropy with logits, summed (F.binary_cross_entropy_with_logits(z, t,
 * reduction='sum')), for DRAW's Bernoulli decoder and NTM's output bits; computed stably as
 * max(z,0) - z t + log(1 + exp(-|z|)). Returns the sum (double); dlogits += scale * (sigmoid(z) - t)
 * (dlogits may be NULL). */
double gl_bce_logits(float *dlogits, const float *logits, const float *targets, size_t n, float scale);

/* ---------------------------------------------------------------------------------------- */
/* Parameter init, seeded. PyTorch's defaults for Linear, Conv2d and LSTMCell weights AND biases */
/* are uniform(-bound, bound) with bound = 1/sqrt(fan_in) (fan_in = I for Linear, C*K*K for      */
/* Conv2d, Hd for LSTMCell): gl_init_uniform(w, n, 1/sqrtf(fan_in), rng).                        */

void gl_init_uniform(float *w, size_t n, float bound, gl_rng *rng); /* uniform in [-bound, bound) */
void gl_init_normal(float *w, size_t n, float stddev, gl_rng *rng);
static inline float gl_fan_in_bound(int fan_in) { return 1.0f / __builtin_sqrtf((float)fan_in); }

#endif
