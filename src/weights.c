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
static float f16_to_f32(uint16_t h) {
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

static size_t total_size(const size_t *sizes, int ntensors) {
    size_t n = 0;
    for (int t = 0; t < ntensors; t++) n += sizes[t];
    return n;
}

int gl_weights_write(uint8_t *out, size_t cap, uint32_t kind, const uint32_t *config, uint32_t nconfig,
                     const float *const *tensors, const size_t *sizes, int ntensors, uint32_t dtype) {
    if (nconfig > GL_WEIGHTS_MAX_CONFIG) return gl_fail(GL_EINVAL, "weights: %u config words, at most %d", nconfig, GL_WEIGHTS_MAX_CONFIG);
    if (dtype > GL_DTYPE_F16) return gl_fail(GL_EINVAL, "weights: unknown dtype %u", dtype);
    size_t nparams = total_size(sizes, ntensors);
    size_t need = gl_weights_size(nconfig, nparams, dtype);
    if (cap < need) return gl_fail(GL_EINVAL, "weights: buffer of %zu bytes, need %zu", cap, need);
    memcpy(out, "GLMW", 4);
    put_u32(out + 4, GL_WEIGHTS_VERSION);
    put_u32(out + 8, kind);
    put_u32(out + 12, dtype);
    put_u32(out + 16, nconfig);
    put_u32(out + 20, (uint32_t)nparams);
    uint8_t *p = out + HEADER_BYTES;
    for (uint32_t i = 0; i < nconfig; i++, p += 4) put_u32(p, config[i]);
    size_t index = 0; /* parameter index across tensors, for messages */
    for (int t = 0; t < ntensors; t++)
        for (size_t i = 0; i < sizes[t]; i++, index++) {
            float v = tensors[t][i];
            if (!isfinite(v)) return gl_fail(GL_ENUMERIC, "weights: parameter %zu is not finite", index);
            if (dtype == GL_DTYPE_F16) {
                uint16_t h = f32_to_f16(v);
                if ((h & 0x7C00u) == 0x7C00u) return gl_fail(GL_ENUMERIC, "weights: parameter %zu (%g) overflows float16", index, v);
                p[0] = (uint8_t)h; p[1] = (uint8_t)(h >> 8);
                p += 2;
            } else {
                put_u32(p, gl_f2u(v));
                p += 4;
            }
        }
    put_u32(p, gl_crc32(out, (size_t)(p - out)));
    return GL_OK;
}

int gl_weights_parse(gl_weights_header *h, const uint8_t *b, size_t len, uint32_t expected_kind) {
    memset(h, 0, sizeof *h);
    if (len < HEADER_BYTES + 4) return gl_fail(GL_EFORMAT, "weights: truncated: %zu bytes is shorter than the header", len);
    if (memcmp(b, "GLMW", 4) != 0) return gl_fail(GL_EFORMAT, "weights: bad magic (not a glimpse-wasm weights file)");
    uint32_t version = get_u32(b + 4);
    if (version != GL_WEIGHTS_VERSION)
        return gl_fail(GL_EFORMAT, "weights: unsupported format version %u (this build reads version %u)", version, GL_WEIGHTS_VERSION);
    h->kind = get_u32(b + 8);
    if (h->kind != expected_kind)
        return gl_fail(GL_EFORMAT, "weights: wrong model: these are %s weights, expected %s", kind_name(h->kind), kind_name(expected_kind));
    h->dtype = get_u32(b + 12);
    if (h->dtype > GL_DTYPE_F16) return gl_fail(GL_EFORMAT, "weights: unknown parameter dtype %u", h->dtype);
    h->nconfig = get_u32(b + 16);
    if (h->nconfig > GL_WEIGHTS_MAX_CONFIG) return gl_fail(GL_EFORMAT, "weights: %u config words (at most %d)", h->nconfig, GL_WEIGHTS_MAX_CONFIG);
    h->nparams = get_u32(b + 20);
    /* in 64 bits: on wasm32, nparams * 4 can wrap size_t to exactly the length of a file that
     * holds no parameters at all */
    uint64_t need = HEADER_BYTES + 4 * (uint64_t)h->nconfig + (h->dtype == GL_DTYPE_F16 ? 2u : 4u) * (uint64_t)h->nparams + 4;
    if ((uint64_t)len != need)
        return gl_fail(GL_EFORMAT, "weights: %s: %zu bytes, expected %llu", (uint64_t)len < need ? "truncated" : "trailing bytes", len,
                       (unsigned long long)need);
    uint32_t stored = get_u32(b + len - 4), actual = gl_crc32(b, len - 4);
    if (stored != actual) return gl_fail(GL_EFORMAT, "weights: checksum mismatch (corrupted bytes)");
    for (uint32_t i = 0; i < h->nconfig; i++) h->config[i] = get_u32(b + HEADER_BYTES + 4 * i);
    return GL_OK;
}

int gl_weights_read_params(float *const *tensors, const size_t *sizes, int ntensors, const gl_weights_header *h,
                           const uint8_t *b, size_t len) {
    if (total_size(sizes, ntensors) != h->nparams)
        return gl_fail(GL_EFORMAT, "weights: %zu parameters, the model has %zu", h->nparams, total_size(sizes, ntensors));
    const uint8_t *p = b + HEADER_BYTES + 4 * (size_t)h->nconfig;
    size_t index = 0;
    for (int t = 0; t < ntensors; t++)
        for (size_t i = 0; i < sizes[t]; i++, index++) {
            float v;
            if (h->dtype == GL_DTYPE_F16) {
                v = f16_to_f32((uint16_t)(p[0] | p[1] << 8));
                p += 2;
            } else {
                v = gl_u2f(get_u32(p));
                p += 4;
            }
            if (!isfinite(v)) return gl_fail(GL_EFORMAT, "weights: parameter %zu is not finite", index);
            tensors[t][i] = v;
        }
    return GL_OK;
}
