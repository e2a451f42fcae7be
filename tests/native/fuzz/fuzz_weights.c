/* fuzz_weights.c: libFuzzer target for the weights loader (src/weights.c) and every model's
 * gl_<model>_load that this build has.
 *
 * Input: byte 0 is a mode, the rest are the bytes handed to the loaders.
 *   mode bit 0: rewrite the trailing CRC-32 so the checksum passes (otherwise random bytes almost
 *               never get past it and the checks behind it would go unexplored)
 *   mode bit 1: rewrite the nparams header field to what the length implies (so the length check
 *               passes and the model-specific config checks are reached)
 *   mode bit 2: safetensors: the rest is the JSON header, a NUL byte, then the tensor data, and the
 *               8-byte header length is prepended (so mutations of the JSON text keep a consistent
 *               length and reach the header parser and the shape checks); bits 0 and 1 are ignored
 * Checks (any violation aborts, which libFuzzer reports as a crash; ASan/UBSan catch the rest):
 *   - gl_weights_parse and every loader return GL_OK or an error code; on error *out stays NULL
 *   - a parsed header is consistent with the length (the length equals what the header implies)
 *   - a loaded model runs one small forward pass (STN predict, DRAW loss, NTM copy), saves in every
 *     form (float32, float16, checkpoint, safetensors), and its saved bytes load again; everything
 *     loaded is freed (LeakSanitizer checks at exit)
 * Build and run: scripts/fuzz.sh (kept out of the glob build.sh compiles, on purpose).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glimpse.h"
#include "model.h"
#include "stn_model.h"
#include "draw_model.h"
#include "ntm_model.h"
#include "weights.h"

#define HEADER 24u

static void die(const char *what, int rc) {
    fprintf(stderr, "fuzz_weights: %s (rc %d, last error: %s)\n", what, rc, gl_last_error());
    abort();
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

typedef struct {
    const char *name;
    uint32_t kind;
} loader;

/* A small forward pass on a loaded model, with inputs sized from its configuration. Models whose
 * configuration asks for a big forward pass are only loaded, not run (the fuzzer's time and
 * memory budget), which is decided from the config words (see each model's CF_* enum). */
static void run_model(const loader *L, void *m) {
    uint32_t cfg[64];
    int n = gl_model_config(m, cfg, 64);
    if (n <= 0) die("config() failed on a loaded model", n);
    if (L->kind == GL_KIND_STN && 1) {
        size_t HW = (size_t)cfg[0] * cfg[1]; /* CF_H, CF_W */
        if (HW > 4096) return;
        float *img = calloc(HW, sizeof(float));
        float *logits = calloc(cfg[2], sizeof(float)); /* CF_CLASSES */
        int32_t lab = -1;
        int rc = gl_stn_predict(m, logits, &lab, img, 1);
        if (rc != GL_OK && rc != GL_ENOMEM && rc != GL_ENUMERIC) die("stn predict on a loaded model", rc);
        if (rc == GL_OK && (lab < 0 || lab >= (int32_t)cfg[2])) die("stn predict: label out of range", lab);
        free(img);
        free(logits);
    } else if (L->kind == GL_KIND_DRAW && 1) {
        size_t HW = (size_t)cfg[6] * cfg[7]; /* CF_H, CF_W */
        if (HW > 4096 || cfg[0] * (uint64_t)cfg[3] > 4096) return; /* T x hidden */
        float *img = calloc(HW, sizeof(float)), out[3];
        int rc = gl_draw_loss(m, out, img, 1, 7);
        if (rc != GL_OK && rc != GL_ENOMEM && rc != GL_ENUMERIC) die("draw loss on a loaded model", rc);
        free(img);
    } else if (L->kind == GL_KIND_NTM && 1) {
        uint32_t bits = cfg[0];
        if ((uint64_t)cfg[1] * cfg[2] > 65536 || cfg[3] > 1024) return; /* R x C, controller */
        float *seq = calloc(bits, sizeof(float)), *outp = calloc(bits, sizeof(float)), o2[2];
        int rc = gl_ntm_copy(m, outp, NULL, NULL, NULL, o2, seq, 1);
        if (rc != GL_OK && rc != GL_ENOMEM && rc != GL_ENUMERIC) die("ntm copy on a loaded model", rc);
        free(seq);
        free(outp);
    }
}

static void try_loader(const loader *L, const uint8_t *b, size_t len) {
    void *m = (void *)0x1;
    int rc = gl_model_load(&m, (int)L->kind, b, len);
    if (rc != GL_OK) {
        if (m != NULL) die("load failed but left *out non-NULL", rc);
        if (rc < 0 || rc > GL_ESTATE) die("load returned an unknown code", rc);
        return;
    }
    if (!m) die("load returned GL_OK and a NULL model", rc);
    run_model(L, m);
    /* An accepted file's model saves in every form, and what it saves loads again. */
    static const int forms[] = {0, GL_SAVE_F16, GL_SAVE_CHECKPOINT, GL_SAVE_SAFETENSORS};
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        size_t n = gl_model_save_size(m, forms[f]);
        if (n < 9) die("save_size too small", (int)n);
        uint8_t *out = malloc(n);
        int src = gl_model_save(m, out, n, forms[f]);
        if (src == GL_OK) {
            void *m2 = NULL;
            int lrc = gl_model_load(&m2, (int)L->kind, out, n);
            if (lrc != GL_OK) die("a saved model does not load again", lrc);
            gl_model_free(m2);
        } else if (!(forms[f] == GL_SAVE_F16 && src == GL_ENUMERIC)) { /* float16 may overflow: refused, fine */
            die("save of a loaded model failed", src);
        }
        free(out);
    }
    gl_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    size_t len = size - 1;
    /* A copy of exactly len bytes, so ASan sees any read past the end. */
    uint8_t *b;
    if (mode & 4) { /* safetensors: 8-byte length of the JSON before the first NUL, JSON, data */
        const uint8_t *rest = data + 1, *nul = memchr(rest, 0, len);
        size_t hlen = nul ? (size_t)(nul - rest) : len, dlen = nul ? len - hlen - 1 : 0;
        len = 8 + hlen + dlen;
        b = malloc(len);
        for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
        memcpy(b + 8, rest, hlen);
        if (dlen) memcpy(b + 8 + hlen, nul + 1, dlen);
    } else {
        b = malloc(len ? len : 1);
        memcpy(b, data + 1, len);
    }
    if ((mode & 4) == 0 && (mode & 2) && len >= HEADER + 4) {
        uint32_t nconfig = get_u32(b + 16), dtype = get_u32(b + 12);
        size_t per = dtype == GL_DTYPE_F16 ? 2 : 4;
        if (nconfig <= GL_WEIGHTS_MAX_CONFIG && len >= HEADER + 4u * nconfig + 4) {
            size_t rest = len - HEADER - 4u * nconfig - 4;
            put_u32(b + 20, (uint32_t)(rest / per));
        }
    }
    if ((mode & 4) == 0 && (mode & 1) && len >= 4) put_u32(b + len - 4, gl_crc32(b, len - 4));

    static const uint32_t kinds[] = {GL_KIND_STN, GL_KIND_DRAW, GL_KIND_NTM, 0, 4, 0xFFFFFFFFu};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        gl_weights_header h;
        int rc = gl_weights_parse(&h, b, len, kinds[k]);
        if (rc == GL_OK) {
            if (h.nconfig > GL_WEIGHTS_MAX_CONFIG || h.dtype > GL_DTYPE_F16) die("parse accepted a bad header", rc);
            if (gl_weights_size(h.nconfig, h.nparams, h.dtype) != len) die("parse accepted a length that does not match", rc);
            float *params = malloc((h.nparams ? h.nparams : 1) * sizeof(float));
            size_t n = h.nparams;
            int prc = gl_weights_read_params(&params, &n, 1, &h, b, len);
            if (prc != GL_OK && prc != GL_EFORMAT) die("read_params returned an unexpected code", prc);
            free(params);
        } else if (rc != GL_EFORMAT) {
            die("parse returned a code other than GL_EFORMAT", rc);
        }
    }
    const loader loaders[] = {
        {"stn", GL_KIND_STN}, {"draw", GL_KIND_DRAW}, {"ntm", GL_KIND_NTM},
    };
    for (size_t i = 0; i < sizeof loaders / sizeof *loaders; i++) try_loader(&loaders[i], b, len);
    free(b);
    return 0;
}
