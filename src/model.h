/* model.h: what the three models (stn_model.c, draw_model.c, ntm_model.c) share, in the style of
 * llm.c's GPT2 struct with gpt2_update / gpt2_free: one base struct, gl_model, that each model
 * struct holds as its FIRST member, and one set of generic entry points over it.
 *
 * The base holds:
 *  - the configuration: GL_MAX_CONFIG 32-bit words (ints, or float bits via gl_f2u), described by
 *    the model's schema (gl_field table: name, type, range, default, doc). The schema is declared
 *    once, in the model's C file; the generic code range-checks every word against it, and the JS
 *    binding reads it (gl_model_schema, as JSON) to build its options, validation, `config`,
 *    declarations and robustness cases;
 *  - the parameters, their gradients and the optimiser moments: four arenas laid out from one
 *    table of tensor sizes (params[i], grads[i], m1[i], m2[i] at the same offsets), so one flat
 *    loop updates everything;
 *  - the optimiser (SGD with momentum or Adam, weight decay, clipping, a learning-rate multiplier
 *    and a frozen flag per tensor) and its step count;
 *  - the random streams: init (stream 1 of the config's seed) and training (stream 2: dropout,
 *    DRAW's eps, the NTM's task data).
 * A model file keeps only what is its own: the schema, how the configuration sizes the network,
 * the initialisation, and its forward / backward / inference entry points. A training step there
 * ends with gl_model_step (clip, finite check, update), written once here.
 *
 * Lifecycle: gl_model_create / gl_model_load build a model of a kind (GL_KIND_* of weights.h),
 * gl_model_free releases it; both check every configuration word first.
 */
#ifndef GLIMPSE_MODEL_H
#define GLIMPSE_MODEL_H

#include "arena.h"
#include "glimpse.h"
#include "rng.h"
#include "weights.h"

#define GL_MAX_CONFIG GL_WEIGHTS_MAX_CONFIG
#define GL_MAX_TENSORS 32
/* A training batch is split into this many shards (fewer when the batch is smaller), each with its
 * own activations, gradient and random stream; the shards' gradients are summed in shard order.
 * The number is fixed, not the thread count, so results never depend on how many threads run. */
#define GL_SHARDS 8
/* Activation contexts of a model: one per shard in training, one per thread in inference. */
#define GL_MAX_CONTEXTS 16
#define GL_SHARD_STATS 4
/* The optimiser's flat loops run over chunks of this many floats (the clip norm sums per chunk,
 * then the chunks in order: the same sum whatever the thread count). */
#define GL_STEP_CHUNK 16384
/* A configuration word left for the model to derive (the default of fields with GL_FIELD_DERIVED,
 * and the value of 'auto' for fields with GL_FIELD_AUTO). Never stored: configure resolves it. */
#define GL_AUTO 0xFFFFFFFFu

typedef enum { GL_FIELD_INT = 0, GL_FIELD_FLOAT = 1, GL_FIELD_BOOL = 2, GL_FIELD_ENUM = 3 } gl_field_type;
enum {
    GL_FIELD_AUTO = 1,    /* the option also accepts 'auto' (word GL_AUTO, resolved by configure) */
    GL_FIELD_DERIVED = 2  /* no fixed default: configure derives it from other words (dflt is unused) */
};

/* One configuration word. key is the option's name in JS; "outputSize.0" and "outputSize.1" are
 * the two elements of the option outputSize ([Ho, Wo]); "heads.read" is a member of the option
 * heads ({ read, write }). */
typedef struct {
    const char *key;
    gl_field_type type;
    double lo, hi;       /* accepted range, inclusive (INT and FLOAT) */
    double dflt;         /* INT, FLOAT; BOOL 0 / 1; ENUM the index of the default choice */
    const char *choices; /* ENUM: the names in word order, separated by '|' */
    unsigned flags;      /* GL_FIELD_AUTO, GL_FIELD_DERIVED */
    const char *doc;     /* one line: what it is (the declarations and README quote it) */
} gl_field;

enum { GL_OPT_SGD = 0, GL_OPT_ADAM = 1 };

typedef struct gl_model gl_model;

/* What every shard of a training step has: its gradient (laid out as the parameters), its random
 * stream for the step, and the sums its run leaves (loss terms, counts). */
typedef struct {
    gl_arena grads;
    float *g[GL_MAX_TENSORS];
    gl_rng rng;
    double stats[GL_SHARD_STATS];
} gl_shard;

/* The model's part of a parallel call (gl_model_shards, gl_model_chunks). */
typedef struct {
    /* On the calling thread, before the tasks: make activation context `ctx` ready for `items`
     * items (every allocation happens here). */
    int (*ensure)(gl_model *m, int ctx, int items, void *arg);
    /* In a pool task (no allocation): the work of items [i0, i1) in context ctx; sh is the shard
     * (its zeroed gradient, its rng, its stats) in training, NULL in inference. */
    int (*run)(gl_model *m, int ctx, gl_shard *sh, int i0, int i1, void *arg);
    void *arg;
} gl_model_job;

/* What the generic code needs to know of one model type (each *_model.c defines one). */
typedef struct {
    uint32_t kind;           /* GL_KIND_* (weights.h) */
    const char *name;        /* "stn": the prefix of its messages */
    const gl_field *fields;  /* the configuration schema, in word order */
    int nfields;
    int min_config;          /* fewest config words a weights file may hold (older files) */
    int seed_field;          /* the word of the seed */
    /* The words of the optimiser settings, read into the base after configure (so derived words
     * are resolved); -1 where the model has no such word (then: Adam, momentum 0, no weight decay,
     * betas 0.9 / 0.999). lr is also the word gl_model_set_lr writes. */
    struct { int optimizer, lr, momentum, weight_decay, clip, beta1, beta2; } opt;
    size_t size;             /* sizeof the model's struct (its first member is a gl_model) */
    int ntensors;            /* parameter tensors, in arena order */
    const char *const *tensor_names;
    /* Derive the model's own fields from m->cfg (every word already range-checked; GL_AUTO words
     * of AUTO / DERIVED fields must be resolved and written back), set per-tensor lr_scale /
     * frozen if needed, check what involves several words (GL_EINVAL / GL_ENOMEM with a message).
     * Must not allocate (it also runs on a probe struct before a load allocates anything). */
    int (*configure)(gl_model *m);
    void (*tensor_sizes)(const gl_model *m, size_t *sizes); /* floats of each parameter tensor */
    /* The shape of parameter tensor i (as PyTorch would hold it; the product is its size):
     * *ndims entries into dims. For safetensors. */
    void (*tensor_shape)(const gl_model *m, int i, int *ndims, uint64_t *dims);
    void (*init)(gl_model *m);    /* initial parameters, from m->init_rng (create only) */
    void (*release)(gl_model *m); /* free what the model allocated itself (activations); may be NULL */
} gl_model_type;

struct gl_model {
    const gl_model_type *type;
    uint32_t cfg[GL_MAX_CONFIG];                  /* the full configuration, derived words resolved */
    gl_arena params, grads, m1, m2;               /* m1: SGD velocity or Adam m; m2: Adam v */
    float *p[GL_MAX_TENSORS], *g[GL_MAX_TENSORS]; /* tensor i in params / grads */
    size_t psize[GL_MAX_TENSORS];                 /* floats of tensor i (packed, as saved) */
    size_t nparams;                               /* sum of psize */
    int optimizer;                                /* GL_OPT_SGD or GL_OPT_ADAM */
    float lr, momentum, weight_decay, clip, beta1, beta2; /* clip: max gradient L2 norm, 0 = off */
    float lr_scale[GL_MAX_TENSORS];               /* learning-rate multiplier of tensor i (1) */
    uint8_t frozen[GL_MAX_TENSORS];               /* tensor i is not updated (its gradient is zeroed) */
    int step;                                     /* optimiser steps taken (Adam's t) */
    gl_rng init_rng, rng;                         /* stream 1: init; stream 2: training randomness */
    gl_shard shard[GL_SHARDS];                    /* gradients of the shards of a step */
    int nshards;                                  /* shards holding the last gradient (0: grads holds it) */
    double *chunk_norm;                           /* per GL_STEP_CHUNK of params: partial squared norms */
};

/* The model types. */
extern const gl_model_type gl_stn_type, gl_draw_type, gl_ntm_type;

/* Config word k as a float / an int. */
static inline float gl_cfg_float(const gl_model *m, int k) { return gl_u2f(m->cfg[k]); }
static inline int gl_cfg_int(const gl_model *m, int k) { return (int)m->cfg[k]; }

/* The schema's defaults into cfg (GL_MAX_CONFIG words; DERIVED fields get GL_AUTO). */
void gl_model_defaults(const gl_model_type *t, uint32_t *cfg);

/* Forward and backward of a batch of B items in min(GL_SHARDS, B) shards, in parallel: shard s
 * takes items [B s / S, B (s+1) / S) in activation context s, starts from a zero gradient, and
 * draws from a stream seeded by (seed, s). stats (GL_SHARD_STATS doubles) receives the sum of the
 * shards' stats in shard order. The gradient stays in the shards until gl_model_reduce or
 * gl_model_step. */
int gl_model_shards(gl_model *m, int B, const gl_model_job *job, uint64_t seed, double *stats);
/* Inference over n items in chunks of `chunk` (fixed by the model, so a chunk's numbers do not
 * depend on the thread count), in parallel: chunk k runs in the context of the thread that runs it. */
int gl_model_chunks(gl_model *m, int n, int chunk, const gl_model_job *job);
/* grads <- the sum of the shards' gradients, in shard order (nothing to do when grads holds it). */
int gl_model_reduce(gl_model *m);
/* A 64-bit seed for the next training step's shard streams, from the model's training stream. */
uint64_t gl_model_step_seed(gl_model *m);

/* Refuse a training step whose loss is not finite (GL_ENUMERIC naming fn), before any update. */
int gl_model_check_loss(const char *fn, double loss);

/* The update after backward (gl_model_shards, or a model filling grads itself): sum the shards'
 * gradients into grads, zero the frozen tensors' gradients, clip to
 * m->clip (clip_grad_norm_), refuse a non-finite gradient (GL_ENUMERIC; weights and optimiser
 * state unchanged), step++, then SGD or Adam with each tensor's learning-rate multiplier.
 * *norm (or NULL) receives the gradient norm before clipping. */
int gl_model_step(gl_model *m, const char *fn, float *norm);

/* Generic entry points (GL_API): every model kind through one table. */
GL_API const char *gl_model_schema(int kind); /* the schema as JSON, or NULL for an unknown kind */
GL_API int gl_model_create(void **out, int kind, const uint32_t *config, int nconfig);
/* bytes: the weights format (weights.h, a checkpoint included) or safetensors (safetensors.h:
 * tensors named as the model's tensor_names; the configuration from the "glimpse.config" metadata,
 * or the model's defaults when there is none, e.g. a file written by PyTorch). */
GL_API int gl_model_load(void **out, int kind, const uint8_t *bytes, size_t len);
GL_API void gl_model_free(void *m);
GL_API int gl_model_kind(void *m);
GL_API int gl_model_config(void *m, uint32_t *out, int cap); /* the word count, or -1 */
GL_API size_t gl_model_param_count(void *m);
GL_API int gl_model_set_lr(void *m, float lr);
GL_API float *gl_model_params(void *m, size_t *n);
GL_API float *gl_model_grads(void *m, size_t *n);
GL_API int gl_model_tensor(void *m, int i, size_t *offset, size_t *n); /* -1 when i is out of range */
GL_API const char *gl_model_tensor_name(void *m, int i);              /* NULL when out of range */
enum { GL_SAVE_F16 = 1, GL_SAVE_CHECKPOINT = 2, GL_SAVE_SAFETENSORS = 4 }; /* gl_model_save flags */
GL_API size_t gl_model_save_size(void *m, int flags);
GL_API int gl_model_save(void *m, uint8_t *out, size_t cap, int flags);

#endif
