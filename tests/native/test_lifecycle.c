/* test_lifecycle.c: the C lifecycle of every model (STN, DRAW, NTM): create, one training step,
 * save (float32 and float16), load, run the loaded model, free; several rounds and variants, plus
 * the error paths (bad configurations, malformed bytes, bad batches) that must return an error
 * code, leave *out NULL and allocate nothing that outlives the call. Built by build.sh into
 * build/native/, build/native-scalar/ and (with --asan) build/asan/, where LeakSanitizer checks at
 * exit that free() released everything. Exit status = number of failures. */
#include "common.h"
#include "glimpse.h"
#include "model.h"
#include "stn_model.h"
#include "draw_model.h"
#include "ntm_model.h"
#include "weights.h"

#include <string.h>

/* Each model variant: its kind for the generic gl_model_* calls (model.h), its own training step
 * and forward pass. */
typedef struct {
    const char *name;
    int kind; /* GL_KIND_* */
    int (*train)(void *m, int round, float *loss); /* one training step */
    int (*run)(void *m, float *out, size_t cap);   /* a deterministic forward pass: out <- its numbers */
    const uint32_t *config;
    int nconfig;
    const uint32_t *bad_config;
    int nbad;
} kind;

/* ---- STN: the tutorial architecture on 28x28 (defaults), SGD and Adam ---- */
#define STN_B 4
static float stn_images[STN_B * 28 * 28];
static int stn_train(void *m, int round, float *loss) {
    int32_t labels[STN_B] = {0, 3, 7, (round * 3) % 10};
    float out[4];
    int rc = gl_stn_train_batch(m, out, stn_images, labels, STN_B);
    *loss = out[0];
    return rc;
}
static int stn_run(void *m, float *out, size_t cap) {
    int32_t lab[STN_B];
    static float view[STN_B * 28 * 28]; /* the transformer's output: 28x28 in every config here */
    float z[STN_B * 10];
    if (cap < STN_B * 10) return GL_EINVAL;
    int rc = gl_stn_predict(m, out, lab, stn_images, STN_B);
    /* the classifier alone on the transformer's output is predict, bit for bit */
    if (!rc) rc = gl_stn_transform(m, NULL, view, stn_images, STN_B);
    if (!rc) rc = gl_stn_classify(m, z, NULL, view, STN_B);
    if (!rc && memcmp(z, out, sizeof z) != 0) rc = GL_ENUMERIC;
    if (!rc && gl_stn_classify(m, z, NULL, NULL, STN_B) != GL_EINVAL) rc = GL_ENUMERIC; /* null images refused */
    if (!rc && gl_stn_classify(m, z, NULL, view, 0) != GL_EINVAL) rc = GL_ENUMERIC;    /* empty batch refused */
    return rc;
}
/* H, W, classes, seed, transform, Ho, Wo, dropout, optimizer */
static const uint32_t stn_sgd[] = {28, 28, 10, 7};
static uint32_t stn_adam[9];
static uint32_t stn_projective[9];
static const uint32_t stn_bad[] = {3, 28}; /* height 3 */

/* ---- DRAW: small, with and without attention ---- */
#define DRAW_HW (10 * 12)
static float draw_images[3 * DRAW_HW];
static int draw_train(void *m, int round, float *loss) {
    float out[4];
    int rc = gl_draw_train_batch(m, out, draw_images, 3);
    *loss = out[0];
    (void)round;
    return rc;
}
static int draw_run(void *m, float *out, size_t cap) {
    if (cap < 3 + 2 * 3 * DRAW_HW) return GL_EINVAL;
    int rc = gl_draw_loss(m, out, draw_images, 3, 11);
    if (rc) return rc;
    return gl_draw_generate(m, out + 3, NULL, 2, 5); /* T = 3 steps x 2 samples x HW */
}
/* T, readN, writeN, hidden, latent, attention, H, W, seed */
static const uint32_t draw_att[] = {3, 2, 3, 16, 4, 1, 10, 12, 7};
static const uint32_t draw_noatt[] = {3, 2, 3, 12, 3, 0, 10, 12, 8};
static const uint32_t draw_bad[] = {0, 2, 3, 16, 4, 1, 10, 12, 7}; /* T = 0 */

/* ---- NTM: LSTM and feed-forward controllers ---- */
static int ntm_train(void *m, int round, float *loss) {
    float out[4];
    int rc = gl_ntm_train_copy(m, out, 3, 1, 3 + round % 2);
    *loss = out[0];
    return rc;
}
static int ntm_run(void *m, float *out, size_t cap) {
    static const float seq[3 * 4] = {1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0};
    float o2[2];
    if (cap < 3 * 4) return GL_EINVAL;
    return gl_ntm_copy(m, out, NULL, NULL, NULL, o2, seq, 3);
}
/* bits, R, C, controller, type, read heads, write heads, shift, seed */
static const uint32_t ntm_lstm[] = {4, 8, 5, 16, 0, 1, 1, 1, 7};
static const uint32_t ntm_ff[] = {4, 6, 3, 10, 1, 2, 1, 1, 8};
static const uint32_t ntm_bad[] = {4, 0, 5, 16, 0, 1, 1, 1, 7}; /* R = 0 */

#define OUTCAP 4096

static int same(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof(float)) == 0; }

static void lifecycle(const kind *k, int rounds) {
    for (int round = 0; round < rounds; round++) {
        void *m = NULL;
        int rc = gl_model_create(&m, k->kind, k->config, k->nconfig);
        CHECK(rc == GL_OK && m, "%s create: rc %d (%s)", k->name, rc, gl_last_error());
        if (!m) return;
        float loss = NAN;
        for (int s = 0; s <= round; s++) {
            rc = k->train(m, s, &loss);
            CHECK(rc == GL_OK && isfinite(loss), "%s train step %d: rc %d loss %g (%s)", k->name, s, rc, loss, gl_last_error());
        }
        float *a = calloc(OUTCAP, sizeof(float)), *b = calloc(OUTCAP, sizeof(float));
        rc = k->run(m, a, OUTCAP);
        CHECK(rc == GL_OK, "%s run: rc %d (%s)", k->name, rc, gl_last_error());
        for (int f16 = 0; f16 < 2; f16++) {
            size_t n = gl_model_save_size(m, f16);
            uint8_t *bytes = malloc(n);
            rc = gl_model_save(m, bytes, n, f16);
            CHECK(rc == GL_OK, "%s save (f16 %d): rc %d (%s)", k->name, f16, rc, gl_last_error());
            rc = gl_model_save(m, bytes, n - 1, f16);
            CHECK(rc != GL_OK, "%s save into a buffer one byte short succeeded", k->name);
            void *m2 = (void *)1;
            rc = gl_model_load(&m2, k->kind, bytes, n);
            CHECK(rc == GL_OK && m2, "%s load (f16 %d): rc %d (%s)", k->name, f16, rc, gl_last_error());
            if (rc == GL_OK && m2) {
                memset(b, 0, OUTCAP * sizeof(float));
                rc = k->run(m2, b, OUTCAP);
                CHECK(rc == GL_OK, "%s run of the loaded model: rc %d (%s)", k->name, rc, gl_last_error());
                if (!f16) CHECK(same(a, b, OUTCAP), "%s: the loaded model's outputs differ from the saved one's", k->name);
                rc = k->train(m2, 0, &loss); /* a loaded model trains (fresh optimiser state) */
                CHECK(rc == GL_OK, "%s train of the loaded model: rc %d (%s)", k->name, rc, gl_last_error());
                gl_model_free(m2);
            }
            /* malformed variants of the same bytes: an error, *out NULL, nothing leaked */
            for (size_t cut = 0; cut < n; cut += n / 7 + 1) {
                void *m3 = (void *)1;
                rc = gl_model_load(&m3, k->kind, bytes, cut);
                CHECK(rc == GL_EFORMAT && m3 == NULL, "%s load of %zu of %zu bytes: rc %d, out %p", k->name, cut, n, rc, m3);
            }
            bytes[n / 2] ^= 0x40;
            void *m4 = (void *)1;
            rc = gl_model_load(&m4, k->kind, bytes, n);
            CHECK(rc == GL_EFORMAT && m4 == NULL, "%s load of corrupted bytes: rc %d", k->name, rc);
            free(bytes);
        }
        gl_model_free(m);
        free(a);
        free(b);
    }
    /* a bad configuration: an error code, *out NULL */
    void *m = (void *)1;
    int rc = gl_model_create(&m, k->kind, k->bad_config, k->nbad);
    CHECK(rc == GL_EINVAL && m == NULL, "%s create with a bad config: rc %d, out %p", k->name, rc, m);
    m = (void *)1;
    rc = gl_model_create(&m, k->kind, k->config, -1);
    CHECK(rc == GL_EINVAL && m == NULL, "%s create with nconfig -1: rc %d", k->name, rc);
    gl_model_free(NULL); /* free(NULL) is a no-op */
}

/* Several models of every kind alive at once, trained in turn, freed in a scrambled order. */
static void coexist(const kind *ks, int nk) {
    void *ms[16] = {0};
    int n = 0;
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < nk; i++) {
            int rc = gl_model_create(&ms[n], ks[i].kind, ks[i].config, ks[i].nconfig);
            CHECK(rc == GL_OK, "coexist: %s create: rc %d", ks[i].name, rc);
            n++;
        }
    for (int step = 0; step < 2; step++)
        for (int j = 0; j < n; j++) {
            float loss;
            if (!ms[j]) continue;
            int rc = ks[j % nk].train(ms[j], step, &loss);
            CHECK(rc == GL_OK, "coexist: %s step %d: rc %d (%s)", ks[j % nk].name, step, rc, gl_last_error());
        }
    for (int j = n - 1; j >= 0; j -= 2) gl_model_free(ms[j]);
    for (int j = 0; j < n; j += 2) gl_model_free(ms[j]);
}

/* Error paths of the training calls (no state change is checked by the JS tests; here: no crash, no leak). */
static void bad_calls(void) {
    void *m = NULL;
    float out[4];
    int32_t labels[2] = {0, 11};
    if (gl_model_create(&m, GL_KIND_STN, stn_sgd, 4) == GL_OK) {
        CHECK(gl_stn_train_batch(m, out, stn_images, labels, 2) == GL_EINVAL, "stn: label 11 of 10 accepted");
        CHECK(gl_stn_train_batch(m, out, stn_images, labels, 0) == GL_EINVAL, "stn: batch 0 accepted");
        CHECK(gl_stn_train_batch(m, out, stn_images, labels, 1 << 30) != GL_OK, "stn: batch 2^30 accepted");
        gl_model_free(m);
    }
    m = NULL;
    if (gl_model_create(&m, GL_KIND_DRAW, draw_att, 9) == GL_OK) {
        float img[DRAW_HW];
        memcpy(img, draw_images, sizeof img);
        img[5] = NAN;
        CHECK(gl_draw_train_batch(m, out, img, 1) == GL_EINVAL, "draw: a NaN pixel accepted");
        CHECK(gl_draw_generate(m, NULL, NULL, 1 << 30, 1) != GL_OK, "draw: 2^30 samples accepted");
        gl_model_free(m);
    }
    m = NULL;
    if (gl_model_create(&m, GL_KIND_NTM, ntm_lstm, 9) == GL_OK) {
        CHECK(gl_ntm_train_copy(m, out, 65536, 10000, 10000) == GL_ENOMEM, "ntm: 65536 x 10000 accepted");
        CHECK(gl_ntm_train_copy(m, out, 2, 5, 3) == GL_EINVAL, "ntm: maxLength < minLength accepted");
        gl_model_free(m);
    }
}

int main(void) {
    test_rng r = {12345};
    fill_uniform(&r, stn_images, STN_B * 28 * 28, 0.0f, 1.0f);
    fill_uniform(&r, draw_images, 3 * DRAW_HW, 0.0f, 1.0f);
    memcpy(stn_adam, stn_sgd, sizeof stn_sgd);
    stn_adam[4] = 1;                       /* affine */
    stn_adam[5] = stn_adam[6] = GL_AUTO;   /* output size: that of the input */
    stn_adam[7] = gl_f2u(0.5f);            /* dropout */
    stn_adam[8] = 1;                       /* Adam */
    memcpy(stn_projective, stn_adam, sizeof stn_adam);
    stn_projective[4] = 2;
    stn_projective[8] = 0;
    const kind kinds[] = {
        {"stn (SGD)", GL_KIND_STN, stn_train, stn_run, stn_sgd, 4, stn_bad, 2},
        {"stn (Adam)", GL_KIND_STN, stn_train, stn_run, stn_adam, 9, stn_bad, 2},
        {"stn (projective)", GL_KIND_STN, stn_train, stn_run, stn_projective, 9, stn_bad, 2},
        {"draw (attention)", GL_KIND_DRAW, draw_train, draw_run, draw_att, 9, draw_bad, 9},
        {"draw (no attention)", GL_KIND_DRAW, draw_train, draw_run, draw_noatt, 9, draw_bad, 9},
        {"ntm (LSTM)", GL_KIND_NTM, ntm_train, ntm_run, ntm_lstm, 9, ntm_bad, 9},
        {"ntm (feed-forward, 2 read heads)", GL_KIND_NTM, ntm_train, ntm_run, ntm_ff, 9, ntm_bad, 9},
    };
    const int nk = (int)(sizeof kinds / sizeof *kinds);
    double t0 = now_seconds();
    for (int i = 0; i < nk; i++) lifecycle(&kinds[i], 3);
    coexist(kinds, nk);
    bad_calls();
    printf("test_lifecycle: %d model variants x 3 rounds of create / train / save / load / free, %d coexisting, "
           "error paths; %.2f s; %d failures\n", nk, 2 * nk, now_seconds() - t0, test_failures);
    return test_failures;
}
