/* model.c: the model base (model.h): configuration schema checks and JSON, create / load / free,
 * the generic entry points, and the one optimiser step every model's training ends with. */
#include "model.h"
#include "optim.h"
#include "pool.h"
#include "safetensors.h"
#include "weights.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gl_model_type *type_of_kind(int kind) {
    switch (kind) {
    case GL_KIND_STN: return &gl_stn_type;
    case GL_KIND_DRAW: return &gl_draw_type;
    case GL_KIND_NTM: return &gl_ntm_type;
    default: return NULL;
    }
}

static int nchoices(const char *choices) {
    int n = 1;
    for (const char *c = choices; *c; c++) n += *c == '|';
    return n;
}

void gl_model_defaults(const gl_model_type *t, uint32_t *cfg) {
    memset(cfg, 0, sizeof(uint32_t) * GL_MAX_CONFIG);
    for (int i = 0; i < t->nfields; i++) {
        const gl_field *f = &t->fields[i];
        if (f->flags & GL_FIELD_DERIVED) cfg[i] = GL_AUTO;
        else if (f->type == GL_FIELD_FLOAT) cfg[i] = gl_f2u((float)f->dflt);
        else cfg[i] = (uint32_t)f->dflt;
    }
}

/* Every word within its field's range (floats compared as floats: a value the JS side accepted
 * in double precision stays accepted after rounding to float). */
static int check_fields(const gl_model_type *t, const uint32_t *cfg) {
    for (int i = 0; i < t->nfields; i++) {
        const gl_field *f = &t->fields[i];
        uint32_t w = cfg[i];
        if (w == GL_AUTO && (f->flags & (GL_FIELD_AUTO | GL_FIELD_DERIVED))) continue;
        switch (f->type) {
        case GL_FIELD_INT:
            if ((double)w < f->lo || (double)w > f->hi)
                return gl_fail(GL_EINVAL, "%s: %s must be an integer in [%.0f, %.0f], got %u", t->name, f->key, f->lo, f->hi, w);
            break;
        case GL_FIELD_FLOAT: {
            float x = gl_u2f(w);
            if (!(x >= (float)f->lo && x <= (float)f->hi))
                return gl_fail(GL_EINVAL, "%s: %s must be a number in [%g, %g], got %g", t->name, f->key, f->lo, f->hi, (double)x);
            break;
        }
        case GL_FIELD_BOOL:
            if (w > 1) return gl_fail(GL_EINVAL, "%s: %s must be 0 or 1, got %u", t->name, f->key, w);
            break;
        case GL_FIELD_ENUM:
            if (w >= (uint32_t)nchoices(f->choices))
                return gl_fail(GL_EINVAL, "%s: %s must be one of %s (0..%d), got %u", t->name, f->key, f->choices,
                               nchoices(f->choices) - 1, w);
            break;
        }
    }
    return GL_OK;
}

/* Fill m's configuration and sizes (no allocation): the words checked, configure run, the tensor
 * sizes known. */
static int configure(gl_model *m, const gl_model_type *t, const uint32_t *cfg) {
    m->type = t;
    memcpy(m->cfg, cfg, sizeof m->cfg);
    int err = check_fields(t, m->cfg);
    if (err) return err;
    m->optimizer = GL_OPT_ADAM;
    m->momentum = 0.0f;
    m->weight_decay = 0.0f;
    m->beta1 = 0.9f;
    m->beta2 = 0.999f;
    for (int i = 0; i < GL_MAX_TENSORS; i++) {
        m->lr_scale[i] = 1.0f;
        m->frozen[i] = 0;
    }
    if ((err = t->configure(m))) return err;
    if (t->opt.optimizer >= 0) m->optimizer = (int)m->cfg[t->opt.optimizer];
    m->lr = gl_cfg_float(m, t->opt.lr);
    if (t->opt.momentum >= 0) m->momentum = gl_cfg_float(m, t->opt.momentum);
    if (t->opt.weight_decay >= 0) m->weight_decay = gl_cfg_float(m, t->opt.weight_decay);
    m->clip = t->opt.clip >= 0 ? gl_cfg_float(m, t->opt.clip) : 0.0f;
    if (t->opt.beta1 >= 0) m->beta1 = gl_cfg_float(m, t->opt.beta1);
    if (t->opt.beta2 >= 0) m->beta2 = gl_cfg_float(m, t->opt.beta2);
    memset(m->psize, 0, sizeof m->psize);
    t->tensor_sizes(m, m->psize);
    m->nparams = 0;
    for (int i = 0; i < t->ntensors; i++) m->nparams += m->psize[i];
    return GL_OK;
}

GL_API void gl_model_free(void *mp) {
    gl_model *m = (gl_model *)mp;
    if (!m) return;
    if (m->type && m->type->release) m->type->release(m);
    for (int s = 0; s < GL_SHARDS; s++) gl_arena_free(&m->shard[s].grads);
    free(m->chunk_norm);
    gl_arena_free(&m->params);
    gl_arena_free(&m->grads);
    gl_arena_free(&m->m1);
    gl_arena_free(&m->m2);
    free(m);
}

/* A model with its arenas laid out, parameters not initialised. */
static int model_new(gl_model **out, const gl_model_type *t, const uint32_t *cfg) {
    *out = NULL;
    gl_model *m = (gl_model *)calloc(1, t->size);
    if (!m) return gl_fail(GL_ENOMEM, "%s: out of memory", t->name);
    int err = configure(m, t, cfg);
    float *unused[GL_MAX_TENSORS];
    if (!err) err = gl_arena_layout(&m->params, m->p, m->psize, t->ntensors);
    if (!err) err = gl_arena_layout(&m->grads, m->g, m->psize, t->ntensors);
    if (!err) err = gl_arena_layout(&m->m1, unused, m->psize, t->ntensors);
    if (!err && m->optimizer == GL_OPT_ADAM) err = gl_arena_layout(&m->m2, unused, m->psize, t->ntensors);
    if (!err && !(m->chunk_norm = (double *)calloc(m->params.used / GL_STEP_CHUNK + 1, sizeof(double))))
        err = gl_fail(GL_ENOMEM, "%s: out of memory", t->name);
    if (err) {
        gl_model_free(m);
        return err;
    }
    gl_rng_seed(&m->init_rng, m->cfg[t->seed_field], 1);
    gl_rng_seed(&m->rng, m->cfg[t->seed_field], 2);
    *out = m;
    return GL_OK;
}

/* *out <- a new model of `kind`: config holds the first nconfig words (schema order), the rest
 * take their defaults. */
GL_API int gl_model_create(void **out, int kind, const uint32_t *config, int nconfig) {
    if (!out) return gl_fail(GL_EINVAL, "model: null output pointer");
    *out = NULL;
    const gl_model_type *t = type_of_kind(kind);
    if (!t) return gl_fail(GL_EINVAL, "model: unknown model kind %d", kind);
    if (nconfig < 0 || nconfig > t->nfields || (nconfig > 0 && !config))
        return gl_fail(GL_EINVAL, "%s: nconfig must be in [0, %d], got %d", t->name, t->nfields, nconfig);
    uint32_t cfg[GL_MAX_CONFIG];
    gl_model_defaults(t, cfg);
    for (int i = 0; i < nconfig; i++) cfg[i] = config[i];
    gl_model *m;
    int err = model_new(&m, t, cfg);
    if (err) return err;
    t->init(m);
    *out = m;
    return GL_OK;
}

static int restore_state(gl_model *m, const gl_weights_header *h, const uint8_t *bytes, size_t len);
static int load_safetensors(void **out, const gl_model_type *t, const uint8_t *bytes, size_t len);
static size_t safetensors_size(const gl_model *m);
static int safetensors_save(const gl_model *m, uint8_t *out, size_t cap);

/* The configuration of a file, checked before anything is allocated: valid (a bad config in a file
 * is a malformed file, GL_EFORMAT), and needing exactly `nparams` parameters (a small file must not
 * make wasm memory grow to the arenas of a huge configuration). */
static int check_file_config(const gl_model_type *t, const uint32_t *cfg, size_t nparams) {
    gl_model *probe = (gl_model *)calloc(1, t->size);
    if (!probe) return gl_fail(GL_ENOMEM, "%s load: out of memory", t->name);
    int err = configure(probe, t, cfg);
    size_t need = probe->nparams;
    free(probe); /* configure allocates nothing */
    if (err == GL_EINVAL) {
        char why[256];
        snprintf(why, sizeof why, "%s", gl_last_error());
        return gl_fail(GL_EFORMAT, "%s load: invalid configuration: %s", t->name, why);
    }
    if (err) return err;
    if (need != nparams) return gl_fail(GL_EFORMAT, "%s load: %zu parameters, the configuration needs %zu", t->name, nparams, need);
    return GL_OK;
}

/* The one load sequence of every model: parse and validate the bytes, build the configuration,
 * check the parameter count before allocating anything (a small file must not make wasm memory
 * grow to the arenas of a huge configuration), create the model (a bad configuration in a file is
 * GL_EFORMAT), read its parameter tensors. */
GL_API int gl_model_load(void **out, int kind, const uint8_t *bytes, size_t len) {
    if (!out) return gl_fail(GL_EINVAL, "model load: null output pointer");
    *out = NULL;
    const gl_model_type *t = type_of_kind(kind);
    if (!t) return gl_fail(GL_EINVAL, "model load: unknown model kind %d", kind);
    if (!bytes) return gl_fail(GL_EFORMAT, "%s load: no bytes", t->name);
    /* safetensors: an 8-byte length, then the JSON header's '{' (the weights format starts "GLMW") */
    if (len >= 9 && memcmp(bytes, "GLMW", 4) != 0 && bytes[8] == '{') return load_safetensors(out, t, bytes, len);
    if (len >= 9 && memcmp(bytes, "GLMW", 4) != 0)
        return gl_fail(GL_EFORMAT, "%s load: bad magic: neither glimpse-wasm weights (they start \"GLMW\") nor safetensors "
                       "(an 8-byte header length, then the JSON header's '{')", t->name);
    gl_weights_header h;
    int err = gl_weights_parse(&h, bytes, len, t->kind);
    if (err) return err;
    if (h.nconfig < (uint32_t)t->min_config || h.nconfig > (uint32_t)t->nfields) {
        if (t->min_config == t->nfields)
            return gl_fail(GL_EFORMAT, "%s load: %u config words, expected %d", t->name, h.nconfig, t->nfields);
        return gl_fail(GL_EFORMAT, "%s load: %u config words, expected %d to %d", t->name, h.nconfig, t->min_config,
                       t->nfields);
    }
    uint32_t cfg[GL_MAX_CONFIG];
    gl_model_defaults(t, cfg);
    for (uint32_t i = 0; i < h.nconfig; i++) cfg[i] = h.config[i];
    if ((err = check_file_config(t, cfg, h.nparams))) return err;
    gl_model *m;
    if ((err = model_new(&m, t, cfg))) return err;
    err = gl_weights_read_params(m->p, m->psize, t->ntensors, &h, bytes, len);
    if (!err && h.version == GL_CHECKPOINT_VERSION) err = restore_state(m, &h, bytes, len);
    if (err) {
        gl_model_free(m);
        return err;
    }
    *out = m;
    return GL_OK;
}

GL_API int gl_model_kind(void *mp) { return mp ? (int)((gl_model *)mp)->type->kind : 0; }

/* The full configuration (one word per schema field, derived words resolved) into out (cap
 * words); the number of words, or -1 when m or out is NULL or cap too small. */
GL_API int gl_model_config(void *mp, uint32_t *out, int cap) {
    gl_model *m = (gl_model *)mp;
    if (!m || !out || cap < m->type->nfields) return -1;
    memcpy(out, m->cfg, sizeof(uint32_t) * (size_t)m->type->nfields);
    return m->type->nfields;
}

GL_API size_t gl_model_param_count(void *mp) { return mp ? ((gl_model *)mp)->nparams : 0; }

/* Set the learning rate of the next steps (also stored in its config word, so it is saved). */
GL_API int gl_model_set_lr(void *mp, float lr) {
    gl_model *m = (gl_model *)mp;
    if (!m) return gl_fail(GL_EINVAL, "model: null model");
    const gl_field *f = &m->type->fields[m->type->opt.lr];
    if (!(lr >= (float)f->lo && lr <= (float)f->hi))
        return gl_fail(GL_EINVAL, "%s: %s must be in [%g, %g], got %g", m->type->name, f->key, f->lo, f->hi, (double)lr);
    m->lr = lr;
    m->cfg[m->type->opt.lr] = gl_f2u(lr);
    return GL_OK;
}

/* The parameter and gradient arenas (tensor order of the model, each tensor at a multiple of
 * GL_ARENA_ALIGN floats); *n receives the arena length in floats. */
GL_API float *gl_model_params(void *mp, size_t *n) {
    gl_model *m = (gl_model *)mp;
    if (n) *n = m ? m->params.used : 0;
    return m ? m->params.base : NULL;
}
GL_API float *gl_model_grads(void *mp, size_t *n) {
    gl_model *m = (gl_model *)mp;
    if (n) *n = m ? m->grads.used : 0;
    return m ? m->grads.base : NULL;
}

/* Offset (floats, within the params / grads arenas) and length of parameter tensor i. */
GL_API int gl_model_tensor(void *mp, int i, size_t *offset, size_t *n) {
    gl_model *m = (gl_model *)mp;
    if (!m || !offset || !n || i < 0 || i >= m->type->ntensors) return -1;
    *offset = (size_t)(m->p[i] - m->params.base);
    *n = m->psize[i];
    return 0;
}

GL_API const char *gl_model_tensor_name(void *mp, int i) {
    gl_model *m = (gl_model *)mp;
    if (!m || i < 0 || i >= m->type->ntensors) return NULL;
    return m->type->tensor_names[i];
}

/* Save (weights.h): the config words, then the parameter tensors in order. flags: GL_SAVE_F16
 * (half-size parameters), GL_SAVE_CHECKPOINT (float32 parameters plus the optimiser state and the
 * training stream, so training resumes bit-identically). */
static uint32_t nmoments_of(const gl_model *m) { return m->optimizer == GL_OPT_ADAM ? 2u : 1u; }

GL_API size_t gl_model_save_size(void *mp, int flags) {
    gl_model *m = (gl_model *)mp;
    if (!m) return 0;
    if (flags & GL_SAVE_SAFETENSORS) return safetensors_size(m);
    if (flags & GL_SAVE_CHECKPOINT) return gl_checkpoint_size((uint32_t)m->type->nfields, m->nparams, nmoments_of(m));
    return gl_weights_size((uint32_t)m->type->nfields, m->nparams, flags & GL_SAVE_F16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
}

/* The tensors of arena a at the parameters' offsets (moments share the parameters' layout). */
static void same_layout(const gl_model *m, const gl_arena *a, const float **out) {
    for (int i = 0; i < m->type->ntensors; i++) out[i] = a->base + (m->p[i] - m->params.base);
}

GL_API int gl_model_save(void *mp, uint8_t *out, size_t cap, int flags) {
    gl_model *m = (gl_model *)mp;
    if (!m || !out) return gl_fail(GL_EINVAL, "model save: null argument");
    const float *const *p = (const float *const *)m->p;
    if (flags & GL_SAVE_SAFETENSORS) {
        if (flags & (GL_SAVE_F16 | GL_SAVE_CHECKPOINT))
            return gl_fail(GL_EINVAL, "model save: safetensors hold float32 weights only (no float16, no optimiser state)");
        return safetensors_save(m, out, cap);
    }
    if (!(flags & GL_SAVE_CHECKPOINT))
        return gl_weights_write(out, cap, m->type->kind, m->cfg, (uint32_t)m->type->nfields, p, m->psize,
                                m->type->ntensors, flags & GL_SAVE_F16 ? GL_DTYPE_F16 : GL_DTYPE_F32);
    if (flags & GL_SAVE_F16) return gl_fail(GL_EINVAL, "model save: a checkpoint holds float32 parameters (float16 is for weights only)");
    const float *m1[GL_MAX_TENSORS], *m2[GL_MAX_TENSORS];
    same_layout(m, &m->m1, m1);
    if (m->optimizer == GL_OPT_ADAM) same_layout(m, &m->m2, m2);
    gl_checkpoint_state st = {(uint32_t)m->step, nmoments_of(m), m->rng.state, m->rng.inc, (uint32_t)m->rng.has_spare,
                              m->rng.spare, {m1, m2}};
    return gl_checkpoint_write(out, cap, m->type->kind, m->cfg, (uint32_t)m->type->nfields, p, m->psize, m->type->ntensors,
                               &st);
}

/* A checkpoint's optimiser state into a model just loaded from it. */
static int restore_state(gl_model *m, const gl_weights_header *h, const uint8_t *bytes, size_t len) {
    if (h->nmoments != nmoments_of(m))
        return gl_fail(GL_EFORMAT, "%s load: the checkpoint has %u optimiser moments, the configuration's optimiser uses %u",
                       m->type->name, h->nmoments, nmoments_of(m));
    float *mom[GL_MAX_TENSORS];
    for (uint32_t k = 0; k < h->nmoments; k++) {
        gl_arena *a = k ? &m->m2 : &m->m1;
        for (int i = 0; i < m->type->ntensors; i++) mom[i] = a->base + (m->p[i] - m->params.base);
        int err = gl_checkpoint_read_moment(mom, m->psize, m->type->ntensors, (int)k, h, bytes, len);
        if (err) return err;
    }
    m->step = (int)h->step;
    m->rng.state = h->rng_state;
    m->rng.inc = h->rng_inc;
    m->rng.has_spare = (int)h->has_spare;
    m->rng.spare = h->spare;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* safetensors (safetensors.h): one tensor per non-empty parameter tensor, named as the model's
 * tensor_names, shaped by tensor_shape; "glimpse.model" and "glimpse.config" (the config words as
 * a JSON array of integers, floats as their bits) in the metadata. */

static int st_tensors(const gl_model *m, gl_st_out *o) {
    int n = 0;
    for (int i = 0; i < m->type->ntensors; i++) {
        if (!m->psize[i]) continue;
        o[n].name = m->type->tensor_names[i];
        m->type->tensor_shape(m, i, &o[n].ndims, o[n].dims);
        o[n].data = m->p[i];
        n++;
    }
    return n;
}

static void config_json(const gl_model *m, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < m->type->nfields && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, "%s%u", i ? "," : "", m->cfg[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static size_t safetensors_size(const gl_model *m) {
    gl_st_out o[GL_MAX_TENSORS];
    char cfg[GL_MAX_CONFIG * 12 + 4];
    config_json(m, cfg, sizeof cfg);
    const char *keys[] = {"glimpse.model", "glimpse.config"}, *values[] = {m->type->name, cfg};
    return gl_st_size(o, st_tensors(m, o), keys, values, 2);
}

static int safetensors_save(const gl_model *m, uint8_t *out, size_t cap) {
    gl_st_out o[GL_MAX_TENSORS];
    char cfg[GL_MAX_CONFIG * 12 + 4];
    config_json(m, cfg, sizeof cfg);
    const char *keys[] = {"glimpse.model", "glimpse.config"}, *values[] = {m->type->name, cfg};
    return gl_st_write(out, cap, o, st_tensors(m, o), keys, values, 2);
}

/* "[w0,w1,...]" into cfg; the number of words or -1. */
static int parse_words(const char *s, uint32_t *cfg, int max) {
    int n = 0;
    if (*s++ != '[') return -1;
    if (*s == ']') return s[1] ? -1 : 0;
    for (;;) {
        if (*s < '0' || *s > '9' || n >= max) return -1;
        uint64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s++ - '0');
            if (v > 0xFFFFFFFFu) return -1;
        }
        cfg[n++] = (uint32_t)v;
        if (*s == ',') { s++; continue; }
        return *s == ']' && !s[1] ? n : -1;
    }
}

static int load_safetensors(void **out, const gl_model_type *t, const uint8_t *bytes, size_t len) {
    gl_st_file *f = (gl_st_file *)malloc(sizeof *f);
    if (!f) return gl_fail(GL_ENOMEM, "%s load: out of memory", t->name);
    int err = gl_st_parse(f, bytes, len);
    if (err) {
        free(f);
        return err;
    }
    uint32_t cfg[GL_MAX_CONFIG];
    gl_model_defaults(t, cfg);
    const char *model = gl_st_meta(f, "glimpse.model"), *words = gl_st_meta(f, "glimpse.config");
    gl_model *m = NULL;
    if (model && strcmp(model, t->name))
        err = gl_fail(GL_EFORMAT, "%s load: wrong model: these safetensors are %s weights", t->name, model);
    if (!err && words) {
        uint32_t w[GL_MAX_CONFIG];
        int n = parse_words(words, w, GL_MAX_CONFIG);
        if (n < t->min_config || n > t->nfields)
            err = gl_fail(GL_EFORMAT, "%s load: the metadata glimpse.config is not a list of %d to %d config words", t->name,
                          t->min_config, t->nfields);
        for (int i = 0; !err && i < n; i++) cfg[i] = w[i];
    }
    uint64_t total = 0;
    for (int i = 0; i < f->ntensors; i++) total += f->t[i].numel;
    if (!err) err = check_file_config(t, cfg, (size_t)total);
    if (!err) err = model_new(&m, t, cfg);
    /* every non-empty parameter tensor by name, with its exact shape; no tensor left over */
    int used = 0;
    for (int i = 0; !err && i < t->ntensors; i++) {
        if (!m->psize[i]) continue;
        const gl_st_tensor *s = gl_st_find(f, t->tensor_names[i]);
        if (!s) {
            err = gl_fail(GL_EFORMAT, "%s load: the safetensors have no tensor '%s'", t->name, t->tensor_names[i]);
            break;
        }
        int nd;
        uint64_t dims[GL_ST_MAX_DIMS];
        t->tensor_shape(m, i, &nd, dims);
        int same = s->ndims == nd;
        for (int d = 0; same && d < nd; d++) same = s->dims[d] == dims[d];
        if (!same) {
            char want[96] = "", got[96] = "";
            for (int d = 0; d < nd; d++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%llu", d ? "x" : "", (unsigned long long)dims[d]);
            for (int d = 0; d < s->ndims; d++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", d ? "x" : "", (unsigned long long)s->dims[d]);
            err = gl_fail(GL_EFORMAT, "%s load: tensor '%s' has shape [%s], the configuration needs [%s]", t->name,
                          t->tensor_names[i], got, want);
            break;
        }
        err = gl_st_read(f, s, m->p[i]);
        used++;
    }
    if (!err && used != f->ntensors)
        for (int k = 0; k < f->ntensors && !err; k++) {
            int known = 0;
            for (int i = 0; i < t->ntensors; i++) known |= m->psize[i] && !strcmp(f->t[k].name, t->tensor_names[i]);
            if (!known) err = gl_fail(GL_EFORMAT, "%s load: the safetensors have a tensor '%s' this configuration does not", t->name, f->t[k].name);
        }
    gl_st_free(f);
    free(f);
    if (err) {
        gl_model_free(m);
        return err;
    }
    *out = m;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Training. */

int gl_model_check_loss(const char *fn, double loss) {
    if (isfinite(loss)) return GL_OK;
    return gl_fail(GL_ENUMERIC, "%s: the loss is not finite (%g); step refused, weights unchanged", fn, loss);
}

/* ---------------------------------------------------------------------------------------- */
/* Shards and chunks. */

uint64_t gl_model_step_seed(gl_model *m) {
    uint64_t hi = gl_rng_u32(&m->rng);
    return hi << 32 | gl_rng_u32(&m->rng);
}

typedef struct {
    gl_model *m;
    const gl_model_job *job;
    int n, parts, chunk, train;
} shard_job;

static int shard_task(void *p, int t, int w) {
    const shard_job *j = (const shard_job *)p;
    gl_model *m = j->m;
    if (j->train) {
        int i0, i1;
        gl_task_range(j->n, j->parts, t, &i0, &i1);
        gl_shard *sh = &m->shard[t];
        gl_arena_zero(&sh->grads);
        memset(sh->stats, 0, sizeof sh->stats);
        return j->job->run(m, t, sh, i0, i1, j->job->arg);
    }
    int i0 = t * j->chunk, i1 = i0 + j->chunk < j->n ? i0 + j->chunk : j->n;
    return j->job->run(m, w, NULL, i0, i1, j->job->arg);
}

int gl_model_shards(gl_model *m, int B, const gl_model_job *job, uint64_t seed, double *stats) {
    int S = B < GL_SHARDS ? B : GL_SHARDS, err;
    for (int s = 0; s < S; s++) {
        gl_shard *sh = &m->shard[s];
        if (!sh->grads.base && (err = gl_arena_layout(&sh->grads, sh->g, m->psize, m->type->ntensors))) return err;
        int i0, i1;
        gl_task_range(B, S, s, &i0, &i1);
        if ((err = job->ensure(m, s, i1 - i0, job->arg))) return err;
        gl_rng_seed(&sh->rng, seed, 3 + (uint64_t)s);
    }
    m->nshards = 0; /* grads no longer holds a gradient; the shards will */
    shard_job j = {m, job, B, S, 0, 1};
    if ((err = gl_parallel(S, shard_task, &j))) return err;
    m->nshards = S;
    for (int k = 0; k < GL_SHARD_STATS; k++) {
        stats[k] = 0.0;
        for (int s = 0; s < S; s++) stats[k] += m->shard[s].stats[k];
    }
    return GL_OK;
}

int gl_model_chunks(gl_model *m, int n, int chunk, const gl_model_job *job) {
    int nchunks = (n + chunk - 1) / chunk, T = gl_pool_threads(), err;
    if (T > nchunks) T = nchunks;
    if (T > GL_MAX_CONTEXTS) T = GL_MAX_CONTEXTS;
    for (int c = 0; c < T; c++) /* the contexts of the threads that will run chunks */
        if ((err = job->ensure(m, c, n < chunk ? n : chunk, job->arg))) return err;
    shard_job j = {m, job, n, 0, chunk, 0};
    return gl_parallel(nchunks, shard_task, &j);
}

/* The flat loops of a step, over chunks of GL_STEP_CHUNK floats: (phase 0) sum the shards into
 * grads, zero frozen tensors, partial squared norms; (phase 1) scale by the clip coefficient and
 * apply SGD / Adam with each run's learning rate. */
typedef struct {
    gl_model *m;
    int phase, nchunks;
    float coef;
} step_job;

static void chunk_range(const gl_model *m, int c, size_t *lo, size_t *hi) {
    *lo = (size_t)c * GL_STEP_CHUNK;
    *hi = *lo + GL_STEP_CHUNK < m->params.used ? *lo + GL_STEP_CHUNK : m->params.used;
}

/* [from, to) of tensor i in the arena, padding included (up to the next tensor / the end). */
static void tensor_span(const gl_model *m, int i, size_t *from, size_t *to) {
    *from = (size_t)(m->p[i] - m->params.base);
    *to = i + 1 < m->type->ntensors ? (size_t)(m->p[i + 1] - m->params.base) : m->params.used;
}

static int step_task(void *p, int c, int w) {
    (void)w;
    const step_job *j = (const step_job *)p;
    gl_model *m = j->m;
    size_t lo, hi;
    chunk_range(m, c, &lo, &hi);
    float *g = m->grads.base;
    if (j->phase == 0) {
        if (m->nshards > 0) {
            memcpy(g + lo, m->shard[0].grads.base + lo, (hi - lo) * sizeof(float));
            for (int s = 1; s < m->nshards; s++) {
                const float *gs = m->shard[s].grads.base;
                for (size_t i = lo; i < hi; i++) g[i] += gs[i];
            }
        }
        for (int t = 0; t < m->type->ntensors; t++) {
            if (!m->frozen[t]) continue;
            size_t a, b;
            tensor_span(m, t, &a, &b);
            if (a < lo) a = lo;
            if (b > hi) b = hi;
            if (a < b) memset(g + a, 0, (b - a) * sizeof(float));
        }
        double sq = 0.0;
        for (size_t i = lo; i < hi; i++) sq += (double)g[i] * g[i];
        m->chunk_norm[c] = sq;
        return GL_OK;
    }
    if (j->coef < 1.0f)
        for (size_t i = lo; i < hi; i++) g[i] *= j->coef;
    /* runs of consecutive tensors with the same learning rate, clipped to this chunk */
    for (int t = 0; t < m->type->ntensors;) {
        int u = t + 1;
        while (u < m->type->ntensors && m->lr_scale[u] == m->lr_scale[t]) u++;
        size_t a, b, unused;
        tensor_span(m, t, &a, &unused);
        tensor_span(m, u - 1, &unused, &b);
        if (a < lo) a = lo;
        if (b > hi) b = hi;
        if (a < b) {
            float lr = m->lr * m->lr_scale[t];
            float *pp = m->params.base + a, *gg = g + a, *v1 = m->m1.base + a;
            if (m->optimizer == GL_OPT_ADAM)
                gl_adam_step(pp, v1, m->m2.base + a, gg, b - a, lr, m->beta1, m->beta2, 1e-8f, m->weight_decay, m->step);
            else
                gl_sgd_step(pp, v1, gg, b - a, lr, m->momentum, m->weight_decay);
        }
        t = u;
    }
    return GL_OK;
}

static int nchunks_of(const gl_model *m) { return (int)((m->params.used + GL_STEP_CHUNK - 1) / GL_STEP_CHUNK); }

/* Phase 0 and the norm; grads then holds the (unclipped) gradient. */
static int reduce(gl_model *m, double *sq) {
    step_job j = {m, 0, nchunks_of(m), 1.0f};
    int err = gl_parallel(j.nchunks, step_task, &j);
    if (err) return err;
    m->nshards = 0;
    *sq = 0.0;
    for (int c = 0; c < j.nchunks; c++) *sq += m->chunk_norm[c];
    return GL_OK;
}

int gl_model_reduce(gl_model *m) {
    double sq;
    return m->nshards ? reduce(m, &sq) : GL_OK;
}

int gl_model_step(gl_model *m, const char *fn, float *norm_out) {
    double sq;
    int err = reduce(m, &sq);
    if (err) return err;
    /* clip_grad_norm_: coefficient max_norm / (norm + 1e-6) when it is below 1 */
    float norm = (float)sqrt(sq);
    if (!isfinite(norm)) return gl_fail(GL_ENUMERIC, "%s: the gradient is not finite; step refused, weights unchanged", fn);
    float coef = m->clip > 0.0f ? m->clip / (norm + 1e-6f) : 1.0f;
    m->step++;
    step_job j = {m, 1, nchunks_of(m), coef};
    if ((err = gl_parallel(j.nchunks, step_task, &j))) return err;
    if (norm_out) *norm_out = norm;
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The schema as JSON, built once per kind:
 *   {"kind":1,"name":"stn","fields":[{"key":"height","type":"int","min":4,"max":1024,"default":28,
 *    "auto":false,"derived":false,"doc":"..."}, ...],"tensors":["conv1.weight", ...]} */

typedef struct {
    char *p;
    size_t left;
    int overflow;
} jbuf;

static void jput(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(jbuf *b, const char *fmt, ...) {
    if (b->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p, b->left, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->left) {
        b->overflow = 1;
        return;
    }
    b->p += n;
    b->left -= (size_t)n;
}

static void jstr(jbuf *b, const char *s) {
    jput(b, "\"");
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') jput(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) jput(b, "\\u%04x", (unsigned)*s);
        else jput(b, "%c", *s);
    }
    jput(b, "\"");
}

static const char *const type_names[] = {"int", "float", "bool", "enum"};

GL_API const char *gl_model_schema(int kind) {
    static char json[3][12288];
    static int ready[3];
    const gl_model_type *t = type_of_kind(kind);
    if (!t) return NULL;
    int k = kind - GL_KIND_STN;
    if (ready[k]) return json[k];
    jbuf b = {json[k], sizeof json[k], 0};
    jput(&b, "{\"kind\":%u,\"name\":", t->kind);
    jstr(&b, t->name);
    jput(&b, ",\"fields\":[");
    for (int i = 0; i < t->nfields; i++) {
        const gl_field *f = &t->fields[i];
        jput(&b, "%s{\"key\":", i ? "," : "");
        jstr(&b, f->key);
        jput(&b, ",\"type\":\"%s\",\"min\":%.17g,\"max\":%.17g,\"default\":%.17g,\"auto\":%s,\"derived\":%s",
             type_names[f->type], f->lo, f->hi, f->dflt, f->flags & GL_FIELD_AUTO ? "true" : "false",
             f->flags & GL_FIELD_DERIVED ? "true" : "false");
        if (f->type == GL_FIELD_ENUM) {
            jput(&b, ",\"choices\":");
            jstr(&b, f->choices);
        }
        jput(&b, ",\"doc\":");
        jstr(&b, f->doc);
        jput(&b, "}");
    }
    jput(&b, "],\"tensors\":[");
    for (int i = 0; i < t->ntensors; i++) {
        jput(&b, "%s", i ? "," : "");
        jstr(&b, t->tensor_names[i]);
    }
    jput(&b, "],\"lrField\":%d,\"seedField\":%d}", t->opt.lr, t->seed_field);
    if (b.overflow) return NULL;
    ready[k] = 1;
    return json[k];
}
