/* bench_common.h: the one timing harness of the native benchmarks (tests/native/bench_*.c): the
 * protocol of tests/bench/common.js measure(), its clocks, the shared command-line flags and the
 * JSON the JS side (the sections in tests/bench/) reads. A benchmark keeps only what it times.
 *
 * Protocol (the same in tests/bench/common.js and tests/bench/torch_common.py):
 *   1. warm up: call fn for at least `warmup` seconds and at least 3 times;
 *   2. calibrate: double the call count until one batch takes >= min_time / 4, estimate `iters`
 *      for a run of about min_time seconds, time one such untimed run and re-estimate;
 *   3. time `runs` runs of `iters` calls each; the median seconds per call is the result.
 * Clock: process CPU time by default (the machine is shared: time spent descheduled is not the
 * kernel's); `--clock wall` times (and calibrates) on the wall clock instead, for multi-threaded
 * code where only wall-clock shows a speed-up. Each run records both clocks.
 *
 * Shared flags: --runs R (1..64, default 7), --min-time S (default 0.1), --warmup S (default 0.25),
 * --clock cpu|wall (default cpu), --quick (3 runs of >= 0.02 s after 0.15 s of warm-up, unless
 * given explicitly). A benchmark's own flags go through bench_options (bench_parse).
 */
#ifndef GLIMPSE_BENCH_COMMON_H
#define GLIMPSE_BENCH_COMMON_H
#include "common.h"
#include "glimpse.h"
#include "model.h"

#include <string.h>

#define BENCH_MAX_RUNS 64

typedef struct {
    int runs;
    double min_time, warmup;
    int wall; /* 1: time on the wall clock (--clock wall); 0: process CPU time */
} bench_opts;

/* One measurement: seconds per call of each timed run on the timing clock (per), on the wall
 * clock (wall) and on the CPU clock (cpu), the calls per run, and the median of per. */
typedef struct {
    int runs;
    long iters;
    double sec;
    double per[BENCH_MAX_RUNS], wall[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
} bench_result;

/* A timed call: returns 0 on success (anything else stops the measurement). */
typedef int (*bench_fn)(void *ctx);

static inline double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double bench_median(const double *xs, int n) {
    double s[BENCH_MAX_RUNS];
    memcpy(s, xs, n * sizeof *s);
    qsort(s, n, sizeof *s, bench_cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static inline int bench_calls(bench_fn fn, void *ctx, long n) {
    for (long i = 0; i < n; i++)
        if (fn(ctx)) return 1;
    return 0;
}

/* The protocol above; returns nonzero when a call failed. */
static inline int bench_measure(bench_fn fn, void *ctx, const bench_opts *o, bench_result *r) {
    double (*now)(void) = o->wall ? now_seconds : cpu_seconds;
    double t0 = now(), t;
    for (int calls = 0; calls < 3 || now() - t0 < o->warmup; calls++)
        if (fn(ctx)) return 1;
    long k = 1;
    for (;;) {
        t0 = now();
        if (bench_calls(fn, ctx, k)) return 1;
        t = now() - t0;
        if (t >= o->min_time / 4 || k >= (1L << 30)) break;
        k *= 2;
    }
    long iters = (long)ceil(k * o->min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    t0 = now(); /* one untimed run of the estimated length, then re-estimate */
    if (bench_calls(fn, ctx, iters)) return 1;
    t = now() - t0;
    iters = (long)ceil(iters * o->min_time / (t > 1e-9 ? t : 1e-9));
    if (iters < 1) iters = 1;
    for (int i = 0; i < o->runs; i++) {
        double w0 = now_seconds(), c0 = cpu_seconds();
        if (bench_calls(fn, ctx, iters)) return 1;
        r->cpu[i] = (cpu_seconds() - c0) / iters;
        r->wall[i] = (now_seconds() - w0) / iters;
        r->per[i] = o->wall ? r->wall[i] : r->cpu[i];
    }
    r->runs = o->runs;
    r->iters = iters;
    r->sec = bench_median(r->per, o->runs);
    return 0;
}

/* bench_measure, exiting with the library's last error (after `name: `) when a call fails. */
static inline void bench_time(const char *name, bench_fn fn, void *ctx, const bench_opts *o, bench_result *r) {
    if (bench_measure(fn, ctx, o, r)) {
        fprintf(stderr, "%s: %s\n", name, gl_last_error());
        exit(1);
    }
}

/* gl_model_create(kind, config) (GL_KIND_* of weights.h), exiting with the error when it fails. */
static inline void *bench_model(const char *name, int kind, const uint32_t *config, int nconfig) {
    void *m = NULL;
    if (gl_model_create(&m, kind, config, nconfig)) {
        fprintf(stderr, "%s: gl_model_create: %s\n", name, gl_last_error());
        exit(1);
    }
    return m;
}

/* A benchmark's own flags: integer ones in `ints` (ended by {NULL, NULL}), others through
 * option(ctx, flag, value), which returns how many arguments it used (1: a flag alone, 2: a flag
 * and its value, which may be NULL when the flag came last), 0 for a flag it does not know, or -1
 * for a bad value (after saying why); `usage` names those others for the error message. */
typedef struct {
    const char *flag;
    int *value;
} bench_int_flag;

typedef struct {
    const char *name;
    const bench_int_flag *ints;
    int (*option)(void *ctx, const char *flag, const char *value);
    void *ctx;
    const char *usage;
} bench_options;

static inline int bench_own_option(const bench_options *b, const char *a, const char *v) {
    for (const bench_int_flag *f = b->ints; f && f->flag; f++)
        if (!strcmp(a, f->flag)) {
            if (v) *f->value = atoi(v);
            return 2;
        }
    return b->option ? b->option(b->ctx, a, v) : 0;
}

static inline void bench_unknown_option(const bench_options *b, const char *a) {
    fprintf(stderr, "%s: unknown option %s (expected --runs, --min-time, --warmup, --clock, --quick", b->name, a);
    for (const bench_int_flag *f = b->ints; f && f->flag; f++) fprintf(stderr, ", %s", f->flag);
    fprintf(stderr, "%s%s)\n", b->usage ? ", " : "", b->usage ? b->usage : "");
}

/* Parse the shared flags and the benchmark's own into *o; returns 0, or 2 (the exit status) after
 * printing what was wrong. */
static inline int bench_parse(int argc, char **argv, const bench_options *b, bench_opts *o) {
    int runs = 0, quick = 0, have_runs = 0;
    double min_time = NAN, warmup = NAN; /* NAN: not given */
    (void)test_failures; /* common.h's test counter; a benchmark does not use it */
    o->wall = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 2;
        if (!strcmp(a, "--quick")) used = 1, quick = 1;
        else if (!strcmp(a, "--runs") && v) runs = atoi(v), have_runs = 1;
        else if (!strcmp(a, "--min-time") && v) min_time = atof(v);
        else if (!strcmp(a, "--warmup") && v) warmup = atof(v);
        else if (!strcmp(a, "--clock") && v) {
            if (strcmp(v, "cpu") && strcmp(v, "wall")) {
                fprintf(stderr, "%s: --clock wants cpu or wall, got %s\n", b->name, v);
                return 2;
            }
            o->wall = !strcmp(v, "wall");
        } else if (!strcmp(a, "--runs") || !strcmp(a, "--min-time") || !strcmp(a, "--warmup") || !strcmp(a, "--clock"))
            used = 2; /* no value: said below */
        else if ((used = bench_own_option(b, a, v)) <= 0) {
            if (used == 0) bench_unknown_option(b, a);
            return 2;
        }
        if (used == 2 && !v) {
            fprintf(stderr, "%s: %s needs a value\n", b->name, a);
            return 2;
        }
        i += used - 1;
    }
    o->runs = have_runs ? runs : quick ? 3 : 7;
    o->min_time = min_time == min_time ? min_time : quick ? 0.02 : 0.1;
    o->warmup = warmup == warmup ? warmup : quick ? 0.15 : 0.25;
    if (o->runs < 1 || o->runs > BENCH_MAX_RUNS || !(o->min_time > 0) || !(o->warmup >= 0)) {
        fprintf(stderr, "%s: need 1 <= --runs <= %d, --min-time > 0, --warmup >= 0\n", b->name, BENCH_MAX_RUNS);
        return 2;
    }
    return 0;
}

/* What the timing clock is, for text output. */
static inline const char *bench_clock_name(const bench_opts *o) {
    return o->wall ? "wall-clock time" : "process CPU time";
}

/* The opening of a benchmark's JSON object: {"engine":"native","simd":…,"runs":…,"minTime":…,"warmup":…,
 * (the caller prints its own fields and "results" next). */
static inline void bench_json_begin(const bench_opts *o) {
    printf("{\"engine\":\"native\",\"simd\":\"%s\",\"runs\":%d,\"minTime\":%g,\"warmup\":%g,", gl_simd_name(), o->runs,
           o->min_time, o->warmup);
}

static inline void bench_json_array(const char *key, const double *xs, int n) {
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++) printf("%s%.6e", i ? "," : "", xs[i]);
    printf("]");
}

/* A measurement's fields: "sec":…,"iters":…,"runs":[…],"wallRuns":[…] (and "clock":"wall",
 * "cpuRuns":[…] when timed on the wall clock), read by summarizeJson() of tests/bench/common.js. */
static inline void bench_json_result(const bench_result *r, const bench_opts *o) {
    printf("\"sec\":%.6e,\"iters\":%ld,", r->sec, r->iters);
    bench_json_array("runs", r->per, r->runs);
    printf(",");
    bench_json_array("wallRuns", r->wall, r->runs);
    if (o->wall) {
        printf(",\"clock\":\"wall\",");
        bench_json_array("cpuRuns", r->cpu, r->runs);
    }
    fflush(stdout);
}

/* calloc of n floats that exits with a message when out of memory */
static inline float *bench_floats(const char *name, size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu floats)\n", name, n);
        exit(1);
    }
    return p;
}

#endif
