/* weights.h: the one serialised format for every model's weights (save / load).
 *
 * Layout (little-endian):
 *   offset 0   char[4]  magic "GLMW"
 *          4   u32      format version (GL_WEIGHTS_VERSION)
 *          8   u32      model kind (GL_KIND_STN, GL_KIND_DRAW, GL_KIND_NTM)
 *         12   u32      dtype of the parameters: 0 = float32, 1 = float16 (IEEE half)
 *         16   u32      nconfig: number of 32-bit configuration words that follow
 *         20   u32      nparams: number of parameters
 *         24   u32[nconfig]  the model's configuration (ints, or float bits via gl_f2u)
 *          .   f32/f16[nparams]
 *          .   u32      CRC-32 (IEEE, as zlib) of every byte before it
 * A reader checks, in order: length >= header, magic, version, kind, sizes against the length,
 * checksum; each failure is GL_EFORMAT with a message saying which.
 *
 * Version 2 is a checkpoint (save({ optimizer: true })): the same header (dtype float32 only),
 * config and parameters, then the optimiser state before the checksum:
 *          .   u32      step (Adam's t)
 *          .   u32      nmoments: 1 (SGD velocity) or 2 (Adam m, v)
 *          .   u32[4]   the training stream (PCG32 state and increment, low word first)
 *          .   u32      has_spare, f32 spare (the stream's cached normal)
 *          .   f32[nmoments][nparams]  the moments, packed as the parameters
 * so training resumes bit-identically. Version 1 files load as before (fresh optimiser state).
 */
#ifndef GLIMPSE_WEIGHTS_H
#define GLIMPSE_WEIGHTS_H

#include "glimpse.h"

#define GL_WEIGHTS_VERSION 1u
#define GL_CHECKPOINT_VERSION 2u
#define GL_CHECKPOINT_OPT_BYTES 32u
enum { GL_KIND_STN = 1, GL_KIND_DRAW = 2, GL_KIND_NTM = 3 };
enum { GL_DTYPE_F32 = 0, GL_DTYPE_F16 = 1 };
#define GL_WEIGHTS_MAX_CONFIG 64

typedef struct {
    uint32_t version, kind, dtype, nconfig;
    size_t nparams;
    uint32_t config[GL_WEIGHTS_MAX_CONFIG];
    /* checkpoints (version 2) */
    uint32_t step, nmoments, has_spare;
    uint64_t rng_state, rng_inc;
    float spare;
} gl_weights_header;

/* The optimiser state a checkpoint carries (moments: nmoments lists of ntensors tensors, packed
 * like the parameters). */
typedef struct {
    uint32_t step, nmoments;
    uint64_t rng_state, rng_inc;
    uint32_t has_spare;
    float spare;
    const float *const *moments[2];
} gl_checkpoint_state;

static inline uint32_t gl_f2u(float f) { union { float f; uint32_t u; } v = {f}; return v.u; }
static inline float gl_u2f(uint32_t u) { union { uint32_t u; float f; } v = {u}; return v.f; }

uint32_t gl_crc32(const uint8_t *p, size_t n);
/* Bytes needed to save nconfig words and nparams parameters of the given dtype. */
size_t gl_weights_size(uint32_t nconfig, size_t nparams, uint32_t dtype);
/* Bytes of a checkpoint with nmoments moment arrays. */
size_t gl_checkpoint_size(uint32_t nconfig, size_t nparams, uint32_t nmoments);
/* Serialise a checkpoint (version 2, float32) into out. */
int gl_checkpoint_write(uint8_t *out, size_t cap, uint32_t kind, const uint32_t *config, uint32_t nconfig,
                        const float *const *tensors, const size_t *sizes, int ntensors, const gl_checkpoint_state *st);
/* Decode moment k (< h->nmoments) of validated checkpoint bytes into the tensors. */
int gl_checkpoint_read_moment(float *const *tensors, const size_t *sizes, int ntensors, int k,
                              const gl_weights_header *h, const uint8_t *bytes, size_t len);
/* Serialise into out (cap bytes, at least gl_weights_size(...)). The parameters are the
 * ntensors tensors (sizes[i] floats at tensors[i]) one after another; nparams = their sum. */
int gl_weights_write(uint8_t *out, size_t cap, uint32_t kind, const uint32_t *config, uint32_t nconfig,
                     const float *const *tensors, const size_t *sizes, int ntensors, uint32_t dtype);
/* Validate bytes (everything but the model-specific meaning of the config) and fill the header. */
/* IEEE half → float (exact: subnormals, Inf and NaN kept); the weights format's and safetensors' F16. */
float gl_f16_to_f32(uint16_t h);

int gl_weights_parse(gl_weights_header *h, const uint8_t *bytes, size_t len, uint32_t expected_kind);
/* Decode the parameters of validated bytes into the ntensors tensors (sizes[i] floats at
 * tensors[i], in order), whose sizes must add up to h->nparams (GL_EFORMAT otherwise).
 * Non-finite values are refused (GL_EFORMAT). */
int gl_weights_read_params(float *const *tensors, const size_t *sizes, int ntensors, const gl_weights_header *h,
                           const uint8_t *bytes, size_t len);

#endif
