/* train_draw.c: the native trainer of the DRAW model (src/draw_model.c, the same C as the wasm
 * builds), driven by scripts/train_draw.js. Reads the uncompressed MNIST file of data/ (format
 * "GLMN": see src/js/data.js parseMnistBin; the first trainCount records are the train split,
 * the rest the test split), trains with Adam on minibatches of the train split (reshuffled every
 * epoch with PCG32), evaluates the bound on the test split, and writes the weights.
 *
 * Usage: train_draw --data FILE [--out FILE] [--f16] [--T n] [--readN n] [--writeN n]
 *          [--hidden n] [--latent n] [--attention 0|1] [--binarize 0|1] [--seed n] [--lr x]
 *          [--lr-final x] [--clip x] [--beta1 x] [--batch n] [--epochs n] [--eval-every n]
 *          [--max-seconds s] [--bench n]
 * --lr-final: the learning rate decays geometrically per epoch from --lr to --lr-final.
 * --max-seconds: stop after the epoch during which this much wall time has passed.
 * --bench n: time n training batches (after 2 warm-up batches) and print images/s, no training run.
 * Progress: one JSON object per line on stdout ({"epoch":..,"train":..,"test":..}), the last
 * line {"done":true,...} carries the final test bound.
 */
#include "common.h"
#include "glimpse.h"
#include "model.h"
#include "draw_model.h"
#include "layers.h"

#include <string.h>


static uint32_t f2u(float f) {
    union { float f; uint32_t u; } v = {f};
    return v.u;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv) {
    (void)test_failures; /* common.h's test counter; a trainer does not use it */
    const char *data = NULL, *outp = NULL;
    int f16 = 0, T = 16, Nr = 8, Nw = 10, Hd = 128, Z = 32, att = 1, bin = 0, batch = 64, epochs = 10, evalEvery = 1;
    int bench = 0;
    uint32_t seed = 1;
    double lr = 1e-3, lrFinal = -1, clip = 10, beta1 = 0.9, maxSec = 1e30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && ++i)
        if (OPT("--data")) data = v;
        else if (OPT("--out")) outp = v;
        else if (!strcmp(a, "--f16")) f16 = 1;
        else if (OPT("--T")) T = atoi(v);
        else if (OPT("--readN")) Nr = atoi(v);
        else if (OPT("--writeN")) Nw = atoi(v);
        else if (OPT("--hidden")) Hd = atoi(v);
        else if (OPT("--latent")) Z = atoi(v);
        else if (OPT("--attention")) att = atoi(v);
        else if (OPT("--binarize")) bin = atoi(v);
        else if (OPT("--seed")) seed = (uint32_t)strtoul(v, NULL, 10);
        else if (OPT("--lr")) lr = atof(v);
        else if (OPT("--lr-final")) lrFinal = atof(v);
        else if (OPT("--clip")) clip = atof(v);
        else if (OPT("--beta1")) beta1 = atof(v);
        else if (OPT("--batch")) batch = atoi(v);
        else if (OPT("--epochs")) epochs = atoi(v);
        else if (OPT("--eval-every")) evalEvery = atoi(v);
        else if (OPT("--max-seconds")) maxSec = atof(v);
        else if (OPT("--bench")) bench = atoi(v);
        else {
            fprintf(stderr, "train_draw: unknown or incomplete option '%s'\n", a);
            return 2;
        }
#undef OPT
    }
    if (!data) {
        fprintf(stderr, "train_draw: --data FILE (uncompressed data/mnist-10k.bin) is required\n");
        return 2;
    }
    size_t len;
    uint8_t *b = read_file(data, &len);
    if (!b || len < 16 || memcmp(b, "GLMN", 4)) {
        fprintf(stderr, "train_draw: cannot read %s as a GLMN file\n", data);
        return 1;
    }
    uint32_t count = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
    int rows = b[8] | b[9] << 8, cols = b[10] | b[11] << 8;
    uint32_t ntrain = b[12] | b[13] << 8 | b[14] << 16 | (uint32_t)b[15] << 24;
    size_t HW = (size_t)rows * cols;
    if (len != 16 + count + count * HW || ntrain > count) {
        fprintf(stderr, "train_draw: %s has the wrong size\n", data);
        return 1;
    }
    float *images = malloc(sizeof(float) * count * HW);
    for (size_t i = 0; i < count * HW; i++) images[i] = b[16 + count + i] / 255.0f;
    free(b);
    uint32_t ntest = count - ntrain;
    float *test = images + (size_t)ntrain * HW;

    uint32_t cfg[14] = {(uint32_t)T, (uint32_t)Nr, (uint32_t)Nw, (uint32_t)Hd, (uint32_t)Z, (uint32_t)att,
                        (uint32_t)rows, (uint32_t)cols, seed, f2u((float)lr), f2u((float)clip), f2u((float)beta1),
                        f2u(0.999f), (uint32_t)bin};
    void *m;
    if (gl_model_create(&m, GL_KIND_DRAW, cfg, 14)) {
        fprintf(stderr, "train_draw: create: %s\n", gl_last_error());
        return 1;
    }
    float *xb = malloc(sizeof(float) * (size_t)batch * HW);
    uint32_t *perm = malloc(sizeof(uint32_t) * ntrain);
    for (uint32_t i = 0; i < ntrain; i++) perm[i] = i;
    gl_rng shuf;
    gl_rng_seed(&shuf, seed, 77);
    float out[4];

    if (bench > 0) {
        for (int k = 0; k < bench + 2; k++) {
            if (k == 2) { /* start timing after two warm-up batches */
                double w0 = now_seconds(), c0 = cpu_seconds();
                for (int j = 0; j < bench; j++) {
                    memcpy(xb, images + (size_t)((j * batch) % (ntrain - batch)) * HW, sizeof(float) * batch * HW);
                    if (gl_draw_train_batch(m, out, xb, batch)) { fprintf(stderr, "%s\n", gl_last_error()); return 1; }
                }
                double w = now_seconds() - w0, c = cpu_seconds() - c0;
                printf("{\"imagesPerSecCpu\":%.2f,\"imagesPerSecWall\":%.2f,\"loss\":%.3f,\"params\":%zu}\n",
                       bench * batch / c, bench * batch / w, out[0], gl_model_param_count(m));
                return 0;
            }
            memcpy(xb, images, sizeof(float) * batch * HW);
            gl_draw_train_batch(m, out, xb, batch);
        }
    }

    printf("{\"params\":%zu,\"T\":%d,\"readN\":%d,\"writeN\":%d,\"hidden\":%d,\"latent\":%d,\"attention\":%d,"
           "\"binarize\":%d,\"batch\":%d,\"epochs\":%d,\"lr\":%g,\"lrFinal\":%g,\"seed\":%u,\"ntrain\":%u,\"ntest\":%u}\n",
           gl_model_param_count(m), T, Nr, Nw, Hd, Z, att, bin, batch, epochs, lr, lrFinal < 0 ? lr : lrFinal, seed,
           ntrain, ntest);
    fflush(stdout);
    double w0 = now_seconds();
    int refused = 0, ep;
    float testLoss[3] = {NAN, NAN, NAN};
    for (ep = 0; ep < epochs; ep++) {
        if (lrFinal > 0 && epochs > 1) gl_model_set_lr(m, (float)(lr * pow(lrFinal / lr, (double)ep / (epochs - 1))));
        for (uint32_t i = ntrain - 1; i > 0; i--) { /* Fisher-Yates */
            uint32_t j = gl_rng_below(&shuf, i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        double sl = 0, sr = 0, sk = 0;
        int nbat = 0;
        for (uint32_t s = 0; s + (uint32_t)batch <= ntrain; s += (uint32_t)batch) {
            for (int k = 0; k < batch; k++) memcpy(xb + (size_t)k * HW, images + (size_t)perm[s + k] * HW, sizeof(float) * HW);
            if (gl_draw_train_batch(m, out, xb, batch)) {
                refused++;
                continue;
            }
            sl += out[0]; sr += out[1]; sk += out[2];
            nbat++;
        }
        int last = ep == epochs - 1 || now_seconds() - w0 > maxSec;
        printf("{\"epoch\":%d,\"seconds\":%.1f,\"train\":%.3f,\"trainRec\":%.3f,\"trainKl\":%.3f,\"refused\":%d", ep + 1,
               now_seconds() - w0, sl / nbat, sr / nbat, sk / nbat, refused);
        if (last || (evalEvery > 0 && (ep + 1) % evalEvery == 0)) {
            gl_draw_loss(m, testLoss, test, (int)ntest, 12345);
            printf(",\"test\":%.3f,\"testRec\":%.3f,\"testKl\":%.3f", testLoss[0], testLoss[1], testLoss[2]);
        }
        printf("}\n");
        fflush(stdout);
        if (last) break;
    }
    if (outp) {
        size_t n = gl_model_save_size(m, f16);
        uint8_t *buf = malloc(n);
        if (gl_model_save(m, buf, n, f16)) {
            fprintf(stderr, "train_draw: save: %s\n", gl_last_error());
            return 1;
        }
        FILE *f = fopen(outp, "wb");
        if (!f || fwrite(buf, 1, n, f) != n) {
            fprintf(stderr, "train_draw: cannot write %s\n", outp);
            return 1;
        }
        fclose(f);
        free(buf);
    }
    printf("{\"done\":true,\"epochs\":%d,\"seconds\":%.1f,\"test\":%.3f,\"testRec\":%.3f,\"testKl\":%.3f,\"refused\":%d}\n",
           ep + (ep < epochs ? 1 : 0), now_seconds() - w0, testLoss[0], testLoss[1], testLoss[2], refused);
    gl_model_free(m);
    free(images);
    free(xb);
    free(perm);
    return 0;
}
