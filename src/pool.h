/* pool.h: the fork-join thread pool of the threaded build (pool.c).
 *
 * One coordinating thread (worker 0: the JS thread that calls into the core) and nthreads - 1
 * workers, each a separate wasm instance on the same shared memory (a JS worker running
 * gl_pool_worker) or, natively, a pthread of a test harness. gl_parallel(ntasks, fn, ctx) runs
 * fn(ctx, t, w) for t = 0..ntasks-1 with STATIC partitioning: task t runs on worker t % nthreads
 * (in increasing t), the coordinator included, and returns when all are done. Nothing in a task may
 * depend on which worker runs it except the scratch it picks by w (its own slot), so results do
 * not depend on the thread count.
 *
 * Waiting: workers spin briefly on the job counter, then block in memory.atomic.wait32 (futex
 * natively); the coordinator likewise for the last worker to finish. Workers never allocate.
 * Only the coordinator starts jobs: a gl_parallel from inside a task is refused (GL_ESTATE), so
 * code that runs inside tasks calls the serial forms of the kernels with its own scratch.
 *
 * Failure: a worker whose task traps cannot finish normally; its JS wrapper calls
 * gl_pool_fail(w) (or writes the same flags through gl_pool_state), the coordinator's gl_parallel
 * then returns GL_ESTATE and the pool refuses every later job (the instance must be closed).
 */
#ifndef GLIMPSE_POOL_H
#define GLIMPSE_POOL_H

#include "glimpse.h"

#define GL_MAX_THREADS 16
/* Work (about flops) below which a kernel call runs on the calling thread alone: waking the
 * workers and waiting for them costs tens of microseconds (measured: npm run bench -- --only threads). */
#define GL_PARALLEL_MIN_WORK 2e5

typedef int (*gl_task_fn)(void *ctx, int task, int worker); /* returns GL_OK or an error code */

/* The coordinator: use nthreads threads (1..GL_MAX_THREADS) from now on. Workers 1..nthreads-1
 * must be (or soon be) running gl_pool_worker. GL_ESTATE after a failure or while a job runs. */
GL_API int gl_pool_init(int nthreads);
/* A worker's loop: run the tasks of worker `id` for every job until gl_pool_close. */
GL_API void gl_pool_worker(int id);
/* End the workers' loops (they return from gl_pool_worker); the pool is single-threaded again. */
GL_API void gl_pool_close(void);
/* Called by a worker's JS wrapper when its task trapped: the job is marked failed and counted as
 * done for that worker, so the coordinator returns instead of waiting forever. */
GL_API void gl_pool_fail(int id);
/* Threads in use (1 when single-threaded); whether the pool has failed. */
GL_API int gl_pool_threads(void);
GL_API int gl_pool_failed(void);

/* Tasks for a data-parallel kernel call: the thread count when `work` (roughly floating-point
 * operations) is large enough to pay for waking the workers, else 1; never more than items. */
int gl_pool_tasks(int items, double work);
/* Task t of ntasks over [0, n): [lo, hi) = [n t / ntasks, n (t+1) / ntasks). */
static inline void gl_task_range(int n, int ntasks, int t, int *lo, int *hi) {
    *lo = (int)((long long)n * t / ntasks);
    *hi = (int)((long long)n * (t + 1) / ntasks);
}

/* Run fn(ctx, t, t % nthreads) for t in [0, ntasks). Returns the first error a task returned (by
 * task order), GL_ESTATE when a worker failed, else GL_OK. */
int gl_parallel(int ntasks, gl_task_fn fn, void *ctx);

#endif
