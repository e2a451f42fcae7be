/* pool.c: the fork-join pool (pool.h) over one job slot in shared memory.
 *
 * A job is published by writing fn / ctx / ntasks, setting `remaining` to the number of workers
 * (nthreads - 1) and incrementing `generation`; every worker runs its tasks of the new generation,
 * decrements `remaining`, and the last one wakes the coordinator. Memory order: the job's fields
 * are written before the release increment of `generation`, and read after the acquire load that
 * sees it; each worker's results are written before its release decrement of `remaining`.
 */
#if !defined(__wasm__)
#define _GNU_SOURCE /* syscall() for the native futex */
#endif
#include "pool.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__wasm__) && defined(__wasm_atomics__)
#define GL_HAVE_THREADS 1
static void wait_while(_Atomic int *p, int v) { __builtin_wasm_memory_atomic_wait32((int *)p, v, -1); }
static void wake_all(_Atomic int *p) { __builtin_wasm_memory_atomic_notify((int *)p, 0xFFFFFFFFu); }
#elif defined(__wasm__)
/* The single-threaded builds: no shared memory, no workers; the pool runs everything inline. */
#define GL_HAVE_THREADS 0
static void wait_while(_Atomic int *p, int v) { (void)p; (void)v; }
static void wake_all(_Atomic int *p) { (void)p; }
#else
#define GL_HAVE_THREADS 1
/* Native (tests and sanitizers): Linux futexes on the same words. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
static void wait_while(_Atomic int *p, int v) { syscall(SYS_futex, (int *)p, FUTEX_WAIT, v, NULL, NULL, 0); }
static void wake_all(_Atomic int *p) { syscall(SYS_futex, (int *)p, FUTEX_WAKE, 0x7FFFFFFF, NULL, NULL, 0); }
#endif

#define SPINS 20000 /* checks before blocking: a step's kernels follow each other within microseconds */

static struct {
    _Atomic int generation; /* incremented per job (and once more at close) */
    _Atomic int remaining;  /* workers that have not finished the current job */
    _Atomic int quit;
    _Atomic int failed;     /* a worker trapped: every later job is refused */
    _Atomic int active;     /* a job is running (nested gl_parallel is refused) */
    _Atomic int arrived;    /* workers that have entered gl_pool_worker */
    int nthreads;
    gl_task_fn fn;
    void *ctx;
    int ntasks;
    int err[GL_MAX_THREADS]; /* first error of each worker's tasks in the current job */
    int err_task[GL_MAX_THREADS];
} pool = {.nthreads = 1};

static void wait_for(_Atomic int *p, int v) { /* return once *p != v */
    for (int i = 0; i < SPINS; i++)
        if (atomic_load_explicit(p, memory_order_acquire) != v) return;
    while (atomic_load_explicit(p, memory_order_acquire) == v) wait_while(p, v);
}

static void run_tasks(int w, int stride) {
    pool.err[w] = GL_OK;
    pool.err_task[w] = -1;
    for (int t = w; t < pool.ntasks; t += stride) {
        int e = pool.fn(pool.ctx, t, w);
        if (e && pool.err[w] == GL_OK) {
            pool.err[w] = e;
            pool.err_task[w] = t;
        }
    }
}

static void finish(void) {
    if (atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel) == 1) wake_all(&pool.remaining);
}

GL_API int gl_pool_init(int nthreads) {
    if (nthreads < 1 || nthreads > GL_MAX_THREADS)
        return gl_fail(GL_EINVAL, "pool: threads must be in [1, %d], got %d", GL_MAX_THREADS, nthreads);
    if (nthreads > 1 && !GL_HAVE_THREADS) return gl_fail(GL_EINVAL, "pool: this build has no threads (no shared memory)");
    if (atomic_load(&pool.failed)) return gl_fail(GL_ESTATE, "pool: a worker failed earlier; the instance must be closed");
    if (atomic_load(&pool.active)) return gl_fail(GL_ESTATE, "pool: a job is running");
    atomic_store(&pool.quit, 0);
    pool.nthreads = nthreads;
    return GL_OK;
}

GL_API void gl_pool_worker(int id) {
    /* No job is published before every worker has arrived (gl_parallel waits for them), so the
     * generation read here is the one before this worker's first job. */
    int seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
    atomic_fetch_add_explicit(&pool.arrived, 1, memory_order_acq_rel);
    wake_all(&pool.arrived);
    for (;;) {
        wait_for(&pool.generation, seen);
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (atomic_load_explicit(&pool.quit, memory_order_acquire)) return;
        if (id < pool.nthreads) run_tasks(id, pool.nthreads);
        finish();
    }
}

GL_API void gl_pool_close(void) {
    atomic_store(&pool.quit, 1);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_acq_rel);
    wake_all(&pool.generation);
    pool.nthreads = 1;
    atomic_store(&pool.arrived, 0);
}

GL_API void gl_pool_fail(int id) {
    if (id > 0 && id < GL_MAX_THREADS) pool.err[id] = GL_ESTATE;
    atomic_store(&pool.failed, 1);
    finish();
}

GL_API int gl_pool_threads(void) { return pool.nthreads; }

int gl_pool_tasks(int items, double work) {
    if (pool.nthreads <= 1 || items <= 1 || work < GL_PARALLEL_MIN_WORK || atomic_load(&pool.active)) return 1;
    return items < pool.nthreads ? items : pool.nthreads;
}
GL_API int gl_pool_failed(void) { return atomic_load(&pool.failed); }

int gl_parallel(int ntasks, gl_task_fn fn, void *ctx) {
    if (atomic_load(&pool.failed)) return gl_fail(GL_ESTATE, "pool: a worker failed earlier; the instance must be closed");
    if (atomic_exchange(&pool.active, 1)) return gl_fail(GL_ESTATE, "pool: gl_parallel called from inside a task");
    pool.fn = fn;
    pool.ctx = ctx;
    pool.ntasks = ntasks;
    int T = pool.nthreads < ntasks ? pool.nthreads : ntasks;
    if (T > 1) {
        int n = pool.nthreads - 1; /* every worker takes part in every job (those without tasks return at once) */
        int a;
        while ((a = atomic_load_explicit(&pool.arrived, memory_order_acquire)) < n) wait_for(&pool.arrived, a);
        atomic_store_explicit(&pool.remaining, n, memory_order_release);
        atomic_fetch_add_explicit(&pool.generation, 1, memory_order_acq_rel);
        wake_all(&pool.generation);
    }
    int nth = pool.nthreads;
    run_tasks(0, T > 1 ? nth : 1); /* the coordinator is worker 0; alone, it runs every task */
    if (T > 1) {
        int r;
        while ((r = atomic_load_explicit(&pool.remaining, memory_order_acquire)) > 0) wait_for(&pool.remaining, r);
    }
    atomic_store(&pool.active, 0);
    if (atomic_load(&pool.failed)) return gl_fail(GL_ESTATE, "pool: a worker failed during the job; the instance must be closed");
    int best = -1, code = GL_OK;
    for (int w = 0; w < (T > 1 ? nth : 1); w++)
        if (pool.err[w] && (best < 0 || pool.err_task[w] < best)) {
            best = pool.err_task[w];
            code = pool.err[w];
        }
    return code;
}
