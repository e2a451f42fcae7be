/* test_pool.c: the fork-join pool (src/pool.c) natively, with pthreads as its workers (the wasm
 * build uses JS workers on a shared memory; the pool's C is the same, with futexes for the waits).
 * Run it under ThreadSanitizer too (build/tsan/test_pool, ./build.sh --asan).
 *   - static partitioning: task t runs on worker t % threads, every task exactly once;
 *   - many jobs in a row, of every size (fewer tasks than threads included), errors by task order;
 *   - start / close cycles with 1..4 threads;
 *   - the models: training steps and inference give bit-identical numbers with 1, 2 and 3 threads;
 *   - a worker that fails mid-task (as a trap unwinds a JS worker): the coordinator returns
 *     GL_ESTATE instead of waiting, and every later job is refused.
 */
#include "common.h"
#include "glimpse.h"
#include "model.h"
#include "pool.h"
#include "stn_model.h"
#include "draw_model.h"
#include "ntm_model.h"

#include <pthread.h>
#include <string.h>

static pthread_t threads[GL_MAX_THREADS];
static int nworkers;

static void *worker_main(void *arg) {
    gl_pool_worker((int)(intptr_t)arg);
    return NULL;
}

static void start(int n) {
    nworkers = n;
    for (int id = 1; id < n; id++) pthread_create(&threads[id], NULL, worker_main, (void *)(intptr_t)id);
    CHECK(gl_pool_init(n) == GL_OK, "pool init %d: %s", n, gl_last_error());
}

static void stop(void) {
    gl_pool_close();
    for (int id = 1; id < nworkers; id++) pthread_join(threads[id], NULL);
    nworkers = 0;
}

typedef struct {
    int who[256];
    int runs[256];
} record;

static int record_task(void *ctx, int t, int w) {
    record *r = ctx;
    r->who[t] = w;
    r->runs[t]++;
    return GL_OK;
}

static int fail_task(void *ctx, int t, int w) {
    (void)ctx; (void)w;
    return t == 5 || t == 9 ? GL_ENUMERIC + (t == 9) : GL_OK; /* the first failing task's code wins */
}

static void test_jobs(int n) {
    start(n);
    for (int rep = 0; rep < 200; rep++) {
        int ntasks = 1 + (rep * 37) % 97;
        record r;
        memset(&r, 0, sizeof r);
        CHECK(gl_parallel(ntasks, record_task, &r) == GL_OK, "job of %d tasks", ntasks);
        for (int t = 0; t < ntasks; t++) {
            CHECK(r.runs[t] == 1, "threads %d: task %d ran %d times", n, t, r.runs[t]);
            int want = ntasks < n ? t : t % n;
            if (n == 1) want = 0;
            CHECK(r.who[t] == want, "threads %d: task %d of %d ran on worker %d, want %d", n, t, ntasks, r.who[t], want);
        }
    }
    CHECK(gl_parallel(12, fail_task, NULL) == GL_ENUMERIC, "threads %d: the first failing task's code", n);
    stop();
}

/* ---- the models: numbers independent of the thread count ---- */

#define STN_B 37
static float images[STN_B * 28 * 28];
static int32_t labels[STN_B];

static void run_models(float *out, size_t cap, size_t *n) {
    size_t k = 0;
    /* STN with dropout (training randomness in every shard) */
    uint32_t scfg[9] = {28, 28, 10, 3, 1, GL_AUTO, GL_AUTO, gl_f2u(0.5f), 1};
    void *s = NULL;
    CHECK(gl_model_create(&s, GL_KIND_STN, scfg, 9) == GL_OK, "stn create: %s", gl_last_error());
    for (int step = 0; step < 3 && s; step++) {
        float o[3];
        CHECK(gl_stn_train_batch(s, o, images, labels, STN_B) == GL_OK, "stn train: %s", gl_last_error());
        if (k < cap) out[k++] = o[0];
        if (k < cap) out[k++] = o[2];
    }
    if (s && k + STN_B * 10 <= cap) {
        gl_stn_predict(s, out + k, NULL, images, STN_B);
        k += STN_B * 10;
    }
    gl_model_free(s);
    /* DRAW, stochastic binarisation */
    uint32_t dcfg[14] = {4, 3, 4, 16, 5, 1, 28, 28, 2, gl_f2u(1e-3f), gl_f2u(10.0f), gl_f2u(0.9f), gl_f2u(0.999f), 1};
    void *d = NULL;
    CHECK(gl_model_create(&d, GL_KIND_DRAW, dcfg, 14) == GL_OK, "draw create: %s", gl_last_error());
    for (int step = 0; step < 2 && d; step++) {
        float o[4];
        CHECK(gl_draw_train_batch(d, o, images, STN_B) == GL_OK, "draw train: %s", gl_last_error());
        if (k < cap) out[k++] = o[0];
    }
    if (d && k + 3 <= cap) {
        gl_draw_loss(d, out + k, images, STN_B, 7);
        k += 3;
    }
    gl_model_free(d);
    /* NTM, two heads */
    uint32_t ncfg[7] = {4, 16, 6, 20, 0, 2, 2};
    void *t = NULL;
    CHECK(gl_model_create(&t, GL_KIND_NTM, ncfg, 7) == GL_OK, "ntm create: %s", gl_last_error());
    for (int step = 0; step < 3 && t; step++) {
        float o[4];
        CHECK(gl_ntm_train_copy(t, o, 13, 1, 5) == GL_OK, "ntm train: %s", gl_last_error());
        if (k < cap) out[k++] = o[0];
    }
    if (t && k + 2 <= cap) {
        gl_ntm_eval_copy(t, out + k, 5, 1, 6, 23, 3);
        k += 2;
    }
    gl_model_free(t);
    *n = k;
}

static void test_models(void) {
    test_rng r = {99};
    fill_uniform(&r, images, sizeof images / sizeof *images, 0.0f, 1.0f);
    for (int i = 0; i < STN_B; i++) labels[i] = i % 10;
    static float ref[4096], got[4096];
    size_t nref = 0, ngot = 0;
    run_models(ref, 4096, &nref); /* single-threaded: the pool is not started */
    CHECK(nref > 300, "the model run produced %zu numbers", nref);
    for (int n = 2; n <= 3; n++) {
        start(n);
        run_models(got, 4096, &ngot);
        stop();
        CHECK(ngot == nref && memcmp(got, ref, nref * sizeof(float)) == 0,
              "models with %d threads differ from 1 thread (%zu numbers)", n, nref);
    }
}

/* ---- a failing worker ---- */

static int die_task(void *ctx, int t, int w) {
    (void)ctx; (void)t;
    if (w == 1) { /* as a trap unwinds a JS worker: its wrapper reports the failure, the thread ends */
        gl_pool_fail(1);
        pthread_exit(NULL);
    }
    return GL_OK;
}

static void test_failure(void) {
    start(3);
    int rc = gl_parallel(6, die_task, NULL);
    CHECK(rc == GL_ESTATE, "a failed worker: rc %d, want GL_ESTATE", rc);
    CHECK(gl_pool_failed(), "the pool is marked failed");
    record r;
    CHECK(gl_parallel(4, record_task, &r) == GL_ESTATE, "a job after the failure is refused");
    stop();
}

int main(void) {
    for (int n = 1; n <= 4; n++) test_jobs(n);
    for (int cycle = 0; cycle < 20; cycle++) { /* start / close cycles */
        start(1 + cycle % 4);
        record r;
        memset(&r, 0, sizeof r);
        CHECK(gl_parallel(7, record_task, &r) == GL_OK, "cycle %d", cycle);
        stop();
    }
    test_models();
    test_failure(); /* last: the pool stays failed */
    printf("test_pool: jobs with 1-4 threads, 20 start/close cycles, models bit-identical with 1-3 threads, failing worker; %d failure(s)\n",
           test_failures);
    return test_failures != 0;
}
