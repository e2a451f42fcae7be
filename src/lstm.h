/* lstm.h: the LSTM cell of DRAW's encoder/decoder and the NTM controller (lstm.c). */
#ifndef GLIMPSE_LSTM_H
#define GLIMPSE_LSTM_H

#include "glimpse.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------- */
/* LSTM cell, as torch.nn.LSTMCell with ONE bias b = b_ih + b_hh, gate order (i, f, g, o)       */
/* along the 4*Hd axis (torch's order; Hochreiter & Schmidhuber 1997, Graves 2013 eq. 7-11      */
/* without peepholes):                                                                           */
/*     [i f g o] = x . Wx^T + h_prev . Wh^T + b                                                  */
/*     i = sigmoid, f = sigmoid, g = tanh, o = sigmoid of their pre-activations                  */
/*     c = f * c_prev + i * g,   h = o * tanh(c)                                                 */
/* Forward caches the activated gates and tanh(c) for BPTT. h_prev / c_prev NULL mean zeros.     */

void gl_lstm_forward(float *h,            /* (B, Hd) */
                     float *c,            /* (B, Hd) */
                     float *gates,        /* (B, 4*Hd) cache: activated i, f, g, o */
                     float *tanh_c,       /* (B, Hd) cache: tanh(c) */
                     const float *x,      /* (B, I) */
                     const float *h_prev, /* (B, Hd) or NULL */
                     const float *c_prev, /* (B, Hd) or NULL */
                     const float *Wx,     /* (4*Hd, I) */
                     const float *Wh,     /* (4*Hd, Hd) */
                     const float *b,      /* (4*Hd) or NULL */
                     int B, int I, int Hd);
/* One step of BPTT. dh is the total gradient reaching h (from outputs and from step t+1's
 * dh_prev); dc the gradient reaching c from step t+1's dc_prev (NULL = zero). dgates is
 * caller scratch (B, 4*Hd) that receives d loss / d pre-activations (overwritten). */
void gl_lstm_backward(float *dx,            /* (B, I) or NULL */
                      float *dh_prev,       /* (B, Hd) or NULL */
                      float *dc_prev,       /* (B, Hd) or NULL */
                      float *dWx,           /* (4*Hd, I) */
                      float *dWh,           /* (4*Hd, Hd) */
                      float *db,            /* (4*Hd) or NULL */
                      float *dgates,        /* scratch (B, 4*Hd), overwritten */
                      const float *dh,      /* (B, Hd) */
                      const float *dc,      /* (B, Hd) or NULL */
                      const float *gates,   /* (B, 4*Hd) from forward */
                      const float *tanh_c,  /* (B, Hd) from forward */
                      const float *x,       /* (B, I) */
                      const float *h_prev,  /* (B, Hd) or NULL */
                      const float *c_prev,  /* (B, Hd) or NULL */
                      const float *Wx,      /* (4*Hd, I) */
                      const float *Wh,      /* (4*Hd, Hd) */
                      int B, int I, int Hd);

#endif
