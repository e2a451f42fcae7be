/* weights.c: save/load of model weights; format in weights.h. */
#include "weights.h"

#include <math.h>
#include <string.h>

#define HEADER_BYTES 24u

static const char *kind_name(uint32_t k) {
    switch (k) {
    case GL_KIND_STN: return "STN";
    case GL_KIND_DRAW: return "DRAW";
    case GL_KIND_NTM: return "NTM";
    default: return "unknown";
    }
}

uint32_t gl_crc32(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* IEEE half <-> float, round to nearest even; overflow saturates to +-Inf (refused on save). */
static uint16_t f32_to_f16(float f) {
    uint32_t x = gl_f2u(f), sign = (x >> 16) & 0x8000u;
    int32_t e = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t m = x & 0x7FFFFFu;
    if (((x >> 23) & 0xFF) == 0xFF) return (uint16_t)(sign | 0x7C00u | (m ? 0x200u : 0));
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        m |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e), half = m >> shift, rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = sign | (uint32_t)e << 10 | m >> 13, rem = m & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)h;
}
float gl_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FFu;
    if (e == 0) {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    if (e == 31) return gl_u2f(sign | 0x7F800000u | (m << 13));
    return gl_u2f(sign | (e - 15 + 127) << 23 | m << 13);
}

size_t gl_weights_size(uint32_t nconfig, size_t nparams, uint32_t dtype) {
    return HEADER_BYTES + 4 * (size_t)nconfig + (dtype == GL_DTYPE_F16 ? 2 : 4) * nparams + 4;
}

size_t gl_checkpoint_size(uint32_t nconfig, size_t nparams, uint32_t nmoments) {
    return HEADER_BYTES + 4 * (size_t)nconfig + 4 * nparams + GL_CHECKPOINT_OPT_BYTES + 4 * (size_t)nmoments * nparams + 4;
}

static size_t total_size(const size_t *sizes, int ntensors) {
    size_t n = 0;
    for (int t = 0; t < ntensors; t++) n += sizes[t];
    return n;
}

/* The tensors one after another as dtype from p; returns the end, or NULL (gl_fail: a value that
 * is not finite, or overflows float16). */
static uint8_t *write_tensors(uint8_t *p, const float *const *tensors, const size_t *sizes, int ntensors, uint32_t dtype,
                              const char *what) {
    size_t index = 0; /* index across tensors, for messages */
    for (int t = 0; t < ntensors; t++)
        for (size_t i = 0; i < sizes[t]; i++, index++) {
            float v = tensors[t][i];
            if (!isfinite(v)) {
                gl_fail(GL_ENUMERIC, "weights: %s %zu is not finite", what, index);
                return NULL;
            }
            if (dtype == GL_DTYPE_F16) {
                uint16_t h = f32_to_f16(v);
                if ((h & 0x7C00u) == 0x7C00u) {
                    gl_fail(GL_ENUMERIC, "weights: %s %zu (%g) overflows float16", what, index, v);
                    return NULL;
                }
                p[0] = (uint8_t)h; p[1] = (uint8_t)(h >> 8);
                p += 2;
            } else {
                put_u32(p, gl_f2u(v));
                p += 4;
            }
        }
    return p;
}

/* The header, config and the tensors (as dtype) from out; returns the end, or NULL (gl_fail). */
static uint8_t *write_body(uint8_t *out, uint32_t version, uint32_t kind, const uint32_t *config, uint32_t nconfig,
                           const float *const *tensors, const size_t *sizes, int ntensors, uint32_t dtype) {
    size_t nparams = total_size(sizes, ntensors);
    memcpy(out, "GLMW", 4);
    put_u32(out + 4, version);
    put_u32(out + 8, kind);
    put_u32(out + 12, dtype);
    put_u32(out + 16, nconfig);
    put_u32(out + 20, (uint32_t)nparams);
    uint8_t *p = out + HEADER_BYTES;
    for (uint32_t i = 0; i < nconfig; i++, p += 4) put_u32(p, config[i]);
    p = write_tensors(p, tensors, sizes, ntensors, dtype, "parameter");
    return p;
}

int gl_weights_write(uint8_t *out, size_t cap, uint32_t kind, const uint32_t *config, uint32_t nconfig,
                     const float *const *tensors, const size_t *sizes, int ntensors, uint32_t dtype) {
    if (nconfig > GL_WEIGHTS_MAX_CONFIG) return gl_fail(GL_EINVAL, "weights: %u config words, at most %d", nconfig, GL_WEIGHTS_MAX_CONFIG);
    if (dtype > GL_DTYPE_F16) return gl_fail(GL_EINVAL, "weights: unknown dtype %u", dtype);
    size_t need = gl_weights_size(nconfig, total_size(sizes, ntensors), dtype);
    if (cap < need) return gl_fail(GL_EINVAL, "weights: buffer of %zu bytes, need %zu", cap, need);
    uint8_t *p = write_body(out, GL_WEIGHTS_VERSION, kind, config, nconfig, tensors, sizes, ntensors, dtype);
    if (!p) return GL_ENUMERIC;
    put_u32(p, gl_crc32(out, (size_t)(p - out)));
    return GL_OK;
}

int gl_checkpoint_write(uint8_t *out, size_t cap, uint32_t kind, const uint32_t *config, uint32_t nconfig,
                        const float *const *tensors, const size_t *sizes, int ntensors, const gl_checkpoint_state *st) {
    if (nconfig > GL_WEIGHTS_MAX_CONFIG) return gl_fail(GL_EINVAL, "weights: %u config words, at most %d", nconfig, GL_WEIGHTS_MAX_CONFIG);
    if (st->nmoments < 1 || st->nmoments > 2) return gl_fail(GL_EINVAL, "checkpoint: %u moments, expected 1 or 2", st->nmoments);
    size_t need = gl_checkpoint_size(nconfig, total_size(sizes, ntensors), st->nmoments);
    if (cap < need) return gl_fail(GL_EINVAL, "checkpoint: buffer of %zu bytes, need %zu", cap, need);
    uint8_t *p = write_body(out, GL_CHECKPOINT_VERSION, kind, config, nconfig, tensors, sizes, ntensors, GL_DTYPE_F32);
    if (!p) return GL_ENUMERIC;
    put_u32(p, st->step);
    put_u32(p + 4, st->nmoments);
    put_u32(p + 8, (uint32_t)st->rng_state);
    put_u32(p + 12, (uint32_t)(st->rng_state >> 32));
    put_u32(p + 16, (uint32_t)st->rng_inc);
    put_u32(p + 20, (uint32_t)(st->rng_inc >> 32));
    put_u32(p + 24, st->has_spare);
    put_u32(p + 28, gl_f2u(st->spare));
    p += GL_CHECKPOINT_OPT_BYTES;
    for (uint32_t k = 0; k < st->nmoments; k++)
        if (!(p = write_tensors(p, st->moments[k], sizes, ntensors, GL_DTYPE_F32, "optimiser moment"))) return GL_ENUMERIC;
    put_u32(p, gl_crc32(out, (size_t)(p - out)));
    return GL_OK;
}

int gl_weights_parse(gl_weights_header *h, const uint8_t *b, size_t len, uint32_t expected_kind) {
    memset(h, 0, sizeof *h);
    if (len < HEADER_BYTES + 4) return gl_fail(GL_EFORMAT, "weights: truncated: %zu bytes is shorter than the header", len);
    if (memcmp(b, "GLMW", 4) != 0) return gl_fail(GL_EFORMAT, "weights: bad magic (not a glimpse-wasm weights file)");
    uint32_t version = get_u32(b + 4);
    if (version != GL_WEIGHTS_VERSION && version != GL_CHECKPOINT_VERSION)
        return gl_fail(GL_EFORMAT, "weights: unsupported format version %u (this build reads versions %u and %u)", version,
                       GL_WEIGHTS_VERSION, GL_CHECKPOINT_VERSION);
    h->version = version;
    h->kind = get_u32(b + 8);
    if (h->kind != expected_kind)
        return gl_fail(GL_EFORMAT, "weights: wrong model: these are %s weights, expected %s", kind_name(h->kind), kind_name(expected_kind));
    h->dtype = get_u32(b + 12);
    if (h->dtype > GL_DTYPE_F16) return gl_fail(GL_EFORMAT, "weights: unknown parameter dtype %u", h->dtype);
    if (version == GL_CHECKPOINT_VERSION && h->dtype != GL_DTYPE_F32)
        return gl_fail(GL_EFORMAT, "weights: a checkpoint must hold float32 parameters, got dtype %u", h->dtype);
    h->nconfig = get_u32(b + 16);
    if (h->nconfig > GL_WEIGHTS_MAX_CONFIG) return gl_fail(GL_EFORMAT, "weights: %u config words (at most %d)", h->nconfig, GL_WEIGHTS_MAX_CONFIG);
    h->nparams = get_u32(b + 20);
    /* in 64 bits: on wasm32, nparams * 4 can wrap size_t to exactly the length of a file that
     * holds no parameters at all */
    uint64_t need = HEADER_BYTES + 4 * (uint64_t)h->nconfig + (h->dtype == GL_DTYPE_F16 ? 2u : 4u) * (uint64_t)h->nparams + 4;
    if (version == GL_CHECKPOINT_VERSION) { /* the optimiser block, then its moments */
        uint64_t opt = need - 4;
        if ((uint64_t)len < opt + GL_CHECKPOINT_OPT_BYTES + 4)
            return gl_fail(GL_EFORMAT, "weights: truncated: %zu bytes, the checkpoint's optimiser block ends at %llu", len,
                           (unsigned long long)(opt + GL_CHECKPOINT_OPT_BYTES + 4));
        const uint8_t *q = b + opt;
        h->step = get_u32(q);
        h->nmoments = get_u32(q + 4);
        if (h->nmoments < 1 || h->nmoments > 2)
            return gl_fail(GL_EFORMAT, "weights: a checkpoint with %u optimiser moments (expected 1 or 2)", h->nmoments);
        h->rng_state = (uint64_t)get_u32(q + 8) | (uint64_t)get_u32(q + 12) << 32;
        h->rng_inc = (uint64_t)get_u32(q + 16) | (uint64_t)get_u32(q + 20) << 32;
        h->has_spare = get_u32(q + 24);
        h->spare = gl_u2f(get_u32(q + 28));
        if (h->has_spare > 1 || !(h->rng_inc & 1) || (h->has_spare && !isfinite(h->spare)))
            return gl_fail(GL_EFORMAT, "weights: the checkpoint's random-stream state is invalid");
        need += GL_CHECKPOINT_OPT_BYTES + 4 * (uint64_t)h->nmoments * h->nparams;
    }
    if ((uint64_t)len != need)
        return gl_fail(GL_EFORMAT, "weights: %s: %zu bytes, expected %llu", (uint64_t)len < need ? "truncated" : "trailing bytes", len,
                       (unsigned long long)need);
    uint32_t stored = get_u32(b + len - 4), actual = gl_crc32(b, len - 4);
    if (stored != actual) return gl_fail(GL_EFORMAT, "weights: checksum mismatch (corrupted bytes)");
    for (uint32_t i = 0; i < h->nconfig; i++) h->config[i] = get_u32(b + HEADER_BYTES + 4 * i);
    return GL_OK;
}

/* Decode tensors from p (dtype). */
static int read_tensors(float *const *tensors, const size_t *sizes, int ntensors, const uint8_t *p, uint32_t dtype,
                        const char *what) {
    size_t index = 0;
    for (int t = 0; t < ntensors; t++)
        for (size_t i = 0; i < sizes[t]; i++, index++) {
            float v;
            if (dtype == GL_DTYPE_F16) {
                v = gl_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
                p += 2;
            } else {
                v = gl_u2f(get_u32(p));
                p += 4;
            }
            if (!isfinite(v)) return gl_fail(GL_EFORMAT, "weights: %s %zu is not finite", what, index);
            tensors[t][i] = v;
        }
    return GL_OK;
}

int gl_checkpoint_read_moment(float *const *tensors, const size_t *sizes, int ntensors, int k, const gl_weights_header *h,
                              const uint8_t *b, size_t len) {
    (void)len;
    if (h->version != GL_CHECKPOINT_VERSION || k < 0 || (uint32_t)k >= h->nmoments)
        return gl_fail(GL_EINVAL, "checkpoint: no optimiser moment %d", k);
    if (total_size(sizes, ntensors) != h->nparams)
        return gl_fail(GL_EFORMAT, "weights: %zu parameters, the model has %zu", h->nparams, total_size(sizes, ntensors));
    const uint8_t *p = b + HEADER_BYTES + 4 * (size_t)h->nconfig + 4 * h->nparams + GL_CHECKPOINT_OPT_BYTES + 4 * (size_t)k * h->nparams;
    return read_tensors(tensors, sizes, ntensors, p, GL_DTYPE_F32, "optimiser moment");
}

int gl_weights_read_params(float *const *tensors, const size_t *sizes, int ntensors, const gl_weights_header *h,
                           const uint8_t *b, size_t len) {
    (void)len;
    if (total_size(sizes, ntensors) != h->nparams)
        return gl_fail(GL_EFORMAT, "weights: %zu parameters, the model has %zu", h->nparams, total_size(sizes, ntensors));
    return read_tensors(tensors, sizes, ntensors, b + HEADER_BYTES + 4 * (size_t)h->nconfig, h->dtype, "parameter");
}

