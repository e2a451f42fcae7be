/* ntm_tasks.c: the five tasks of Graves, Wayne & Danihelka 2014 (sec. 4.1-4.5), see ntm_tasks.h.
 *
 * Layouts (bits = b, one row per step; "ch k" is input channel k; blank steps are all zero):
 *
 * Copy (sec. 4.1). Input b+1 wide, output b. L random vectors (ch 0..b-1), then the delimiter
 * (ch b = 1), then L blank steps in which the target is the sequence: T = 2L+1.
 *
 * Repeat copy (sec. 4.2). Input b+2, output b+1. L random vectors, the delimiter (ch b), then the
 * repeat count n on its own channel (ch b+1 = (n - 5.5) / sqrt(8.25), "normalised to have mean zero
 * and variance one" over the training counts 1..10), then blank steps: the target is the sequence n
 * times, then the end marker (output ch b = 1, zero while copying): T = L + 3 + nL.
 *
 * Associative recall (sec. 4.3). Input b+2, output b. An item is K = itemLength vectors (the paper:
 * three 6-bit vectors) "bounded on the left and right by delimiter symbols": each of the n items is
 * an item delimiter step (ch b) and its K vectors; then the query, a copy of a random item that has
 * a successor, between two query delimiters (ch b+1); then K blank steps in which the target is the
 * item that followed the query: T = n(K+1) + 2K + 2.
 *
 * Priority sort (sec. 4.5). Input b+2, output b. L random vectors, each with its priority, uniform in
 * [-1, 1], on ch b; then the delimiter (ch b+1); then M = outputLength blank steps in which the target
 * is the M highest-priority vectors, highest first (the paper: 20 in, 16 out): T = L + 1 + M.
 *
 * Dynamic N-grams (sec. 4.4). Input 1, output 1. A random 6-gram table gives the probability that
 * the next bit is one after each of the 2^5 five-bit contexts, each drawn from Beta(1/2, 1/2); a
 * sequence is L = 200 bits drawn from it (the first bits' contexts padded with zeros). The network
 * sees bit t at step t and must predict bit t+1: the target at step t is the input at t+1, scored
 * at every step but the last: T = L.
 */
#include "ntm_tasks.h"

#include <math.h>
#include <string.h>

static const char *const NAMES[GL_TASK_COUNT] = {"copy", "repeat-copy", "recall", "sort", "ngrams"};

const char *gl_task_name(int task) { return task >= 0 && task < GL_TASK_COUNT ? NAMES[task] : NULL; }

void gl_task_widths(int task, int bits, int *in, int *out) {
    switch (task) {
    case GL_TASK_REPEAT_COPY: *in = bits + 2; *out = bits + 1; break;
    case GL_TASK_RECALL:
    case GL_TASK_SORT: *in = bits + 2; *out = bits; break;
    case GL_TASK_NGRAMS: *in = 1; *out = 1; break;
    default: *in = bits + 1; *out = bits; break; /* copy */
    }
}

void gl_task_default_opts(int task, gl_task_opts *o) {
    /* copy: lengths 1-20 (sec. 4.1); repeat copy: lengths and counts 1-10 (4.2); recall: 2-6 items
     * of 3 vectors (4.3); sort: 20 vectors in, 16 out (4.5); N-grams: 200 bits (4.4) */
    o->min_length = 1;
    o->max_length = task == GL_TASK_REPEAT_COPY ? 10 : 20;
    o->min_repeats = 1;
    o->max_repeats = 10;
    o->min_items = 2;
    o->max_items = 6;
    o->item_length = 3;
    o->length = task == GL_TASK_NGRAMS ? 200 : 20;
    o->out_length = 16;
}

static int range_ok(const char *fn, const char *lo_name, const char *hi_name, int lo, int hi, int min, int max) {
    if (lo < min || lo > max) return gl_fail(GL_EINVAL, "%s: %s must be an integer in [%d, %d], got %d", fn, lo_name, min, max, lo);
    if (hi < lo || hi > max)
        return gl_fail(GL_EINVAL, "%s: %s must be in [%s = %d, %d], got %d", fn, hi_name, lo_name, lo, max, hi);
    return GL_OK;
}

static int steps_ok(const char *fn, const char *what, double T) {
    if (T > GL_TASK_MAX_STEPS)
        return gl_fail(GL_EINVAL, "%s: %s make examples of %.0f steps, at most %d", fn, what, T, GL_TASK_MAX_STEPS);
    return GL_OK;
}

int gl_task_check(const char *fn, int task, const gl_task_opts *o) {
    int err;
    switch (task) {
    case GL_TASK_COPY:
        return range_ok(fn, "minLength", "maxLength", o->min_length, o->max_length, 1, 10000);
    case GL_TASK_REPEAT_COPY:
        if ((err = range_ok(fn, "minLength", "maxLength", o->min_length, o->max_length, 1, 10000))) return err;
        if ((err = range_ok(fn, "minRepeats", "maxRepeats", o->min_repeats, o->max_repeats, 1, 10000))) return err;
        return steps_ok(fn, "maxLength and maxRepeats (maxLength * (maxRepeats + 1) + 3 steps)",
                        (double)o->max_length * (o->max_repeats + 1) + 3);
    case GL_TASK_RECALL:
        if ((err = range_ok(fn, "minItems", "maxItems", o->min_items, o->max_items, 2, 10000))) return err;
        if (o->item_length < 1 || o->item_length > 10000)
            return gl_fail(GL_EINVAL, "%s: itemLength must be an integer in [1, 10000], got %d", fn, o->item_length);
        return steps_ok(fn, "maxItems and itemLength (maxItems * (itemLength + 1) + 2 itemLength + 2 steps)",
                        (double)o->max_items * (o->item_length + 1) + 2.0 * o->item_length + 2);
    case GL_TASK_SORT:
        if (o->length < 1 || o->length > 10000)
            return gl_fail(GL_EINVAL, "%s: length must be an integer in [1, 10000], got %d", fn, o->length);
        if (o->out_length < 1 || o->out_length > o->length)
            return gl_fail(GL_EINVAL, "%s: outputLength must be in [1, length = %d], got %d", fn, o->length, o->out_length);
        return GL_OK;
    case GL_TASK_NGRAMS:
        if (o->length < 2 || o->length > GL_TASK_MAX_STEPS)
            return gl_fail(GL_EINVAL, "%s: length must be an integer in [2, %d] (bits per sequence), got %d", fn,
                           GL_TASK_MAX_STEPS, o->length);
        return GL_OK;
    default: return gl_fail(GL_EINVAL, "%s: unknown task %d", fn, task);
    }
}

static int draw_in(gl_rng *r, int lo, int hi) { return lo + (int)gl_rng_below(r, (uint32_t)(hi - lo + 1)); }

void gl_task_draw(int task, const gl_task_opts *o, gl_rng *r, gl_task_sizes *s) {
    memset(s, 0, sizeof *s);
    switch (task) {
    case GL_TASK_COPY: s->length = draw_in(r, o->min_length, o->max_length); break;
    case GL_TASK_REPEAT_COPY:
        s->length = draw_in(r, o->min_length, o->max_length);
        s->repeats = draw_in(r, o->min_repeats, o->max_repeats);
        break;
    case GL_TASK_RECALL:
        s->items = draw_in(r, o->min_items, o->max_items);
        s->item_length = o->item_length;
        break;
    case GL_TASK_SORT:
        s->length = o->length;
        s->out_length = o->out_length;
        break;
    default: s->length = o->length; break; /* ngrams */
    }
}

int gl_task_steps(int task, const gl_task_sizes *s) {
    switch (task) {
    case GL_TASK_REPEAT_COPY: return s->length + 3 + s->length * s->repeats;
    case GL_TASK_RECALL: return s->items * (s->item_length + 1) + 2 * s->item_length + 2;
    case GL_TASK_SORT: return s->length + 1 + s->out_length;
    case GL_TASK_NGRAMS: return s->length;
    default: return 2 * s->length + 1;
    }
}

/* First output step and the number of output steps. */
static void output_phase(int task, const gl_task_sizes *s, int *t0, int *n) {
    int T = gl_task_steps(task, s);
    switch (task) {
    case GL_TASK_REPEAT_COPY: *t0 = s->length + 2; break;
    case GL_TASK_RECALL: *t0 = T - s->item_length; break;
    case GL_TASK_SORT: *t0 = s->length + 1; break;
    case GL_TASK_NGRAMS: *t0 = 0; *n = T - 1; return; /* every step predicts the next bit but the last */
    default: *t0 = s->length + 1; break;
    }
    *n = T - *t0;
}

void gl_task_mask(int task, const gl_task_sizes *s, float *mask) {
    int T = gl_task_steps(task, s), t0, n;
    output_phase(task, s, &t0, &n);
    for (int t = 0; t < T; t++) mask[t] = t >= t0 && t < t0 + n ? 1.0f : 0.0f;
}

/* ---------------------------------------------------------------------------------------- */
/* Random inputs. */

/* n fair random bits into v, 32 per draw (the copy task's order since the first version). */
static void random_bits(gl_rng *r, float *v, int n) {
    uint32_t u = 0;
    for (int i = 0; i < n; i++) {
        if (i % 32 == 0) u = gl_rng_u32(r);
        v[i] = (float)(u & 1u);
        u >>= 1;
    }
}

static float repeat_code(int n) { return (float)(((double)n - GL_TASK_REPEAT_MEAN) / GL_TASK_REPEAT_STD); }

static void random_input(int task, int bits, const gl_task_sizes *s, gl_rng *r, float *x, size_t xs) {
    int Ix, Y;
    gl_task_widths(task, bits, &Ix, &Y);
    int T = gl_task_steps(task, s), L = s->length;
#define X(t) (x + (size_t)(t) * xs)
    for (int t = 0; t < T; t++) memset(X(t), 0, (size_t)Ix * sizeof(float));
    switch (task) {
    case GL_TASK_COPY:
        for (int t = 0; t < L; t++) random_bits(r, X(t), bits);
        X(L)[bits] = 1.0f; /* the delimiter */
        break;
    case GL_TASK_REPEAT_COPY:
        for (int t = 0; t < L; t++) random_bits(r, X(t), bits);
        X(L)[bits] = 1.0f;
        X(L + 1)[bits + 1] = repeat_code(s->repeats);
        break;
    case GL_TASK_RECALL: {
        int K = s->item_length, n = s->items;
        for (int i = 0; i < n; i++) {
            X(i * (K + 1))[bits] = 1.0f; /* item delimiter */
            for (int k = 0; k < K; k++) random_bits(r, X(i * (K + 1) + 1 + k), bits);
        }
        int q = (int)gl_rng_below(r, (uint32_t)(n - 1)), at = n * (K + 1); /* a query with a next item */
        X(at)[bits + 1] = 1.0f;
        for (int k = 0; k < K; k++) memcpy(X(at + 1 + k), X(q * (K + 1) + 1 + k), (size_t)bits * sizeof(float));
        X(at + K + 1)[bits + 1] = 1.0f;
        break;
    }
    case GL_TASK_SORT:
        for (int t = 0; t < L; t++) {
            random_bits(r, X(t), bits);
            X(t)[bits] = 2.0f * gl_rng_uniform(r) - 1.0f; /* priority, uniform in [-1, 1) */
        }
        X(L)[bits + 1] = 1.0f;
        break;
    case GL_TASK_NGRAMS: {
        /* sec. 4.4: the 32 probabilities independently from Beta(1/2, 1/2), the arcsine law:
         * sin^2(pi u / 2) with u uniform is Beta(1/2, 1/2)-distributed */
        float table[1 << GL_TASK_NGRAM_CONTEXT];
        for (int c = 0; c < 1 << GL_TASK_NGRAM_CONTEXT; c++) {
            double sn = sin(1.5707963267948966 * (double)gl_rng_uniform(r));
            table[c] = (float)(sn * sn);
        }
        unsigned c = 0; /* the previous five bits, the latest lowest; zeros before the start */
        for (int t = 0; t < L; t++) {
            unsigned bit = gl_rng_uniform(r) < table[c];
            X(t)[0] = (float)bit;
            c = ((c << 1) | bit) & ((1u << GL_TASK_NGRAM_CONTEXT) - 1);
        }
        break;
    }
    default: break;
    }
#undef X
}

void gl_task_example(int task, int bits, const gl_task_sizes *s, gl_rng *r, float *x, size_t xs, float *y, size_t ys) {
    random_input(task, bits, s, r, x, xs);
    /* the target by the same rules as any given input (a generated input always follows them) */
    (void)gl_task_target("ntm task", task, bits, gl_task_steps(task, s), x, xs, y, ys, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing an input: its structure, then its target. */

#define BAD(...) gl_fail(GL_EINVAL, __VA_ARGS__)

/* Channels [c0, c1) of step t all zero? */
static int zeros(const float *v, int c0, int c1) {
    for (int c = c0; c < c1; c++)
        if (v[c] != 0.0f) return 0;
    return 1;
}

/* Channels [0, bits) of a step are in [0, 1] (bits; copy and repeat copy also take fractions). */
static int check_bits(const char *fn, const float *v, int bits, int t) {
    for (int c = 0; c < bits; c++)
        if (!(v[c] >= 0.0f && v[c] <= 1.0f))
            return BAD("%s: input step %d channel %d must be a bit in [0, 1], got %g", fn, t, c, (double)v[c]);
    return GL_OK;
}

/* A marker channel: exactly 0 or 1. */
static int check_marker(const char *fn, const float *v, int c, int t) {
    if (v[c] != 0.0f && v[c] != 1.0f) return BAD("%s: input step %d channel %d is a marker: 0 or 1, got %g", fn, t, c, (double)v[c]);
    return GL_OK;
}

static int blank_from(const char *fn, const float *x, size_t xs, int t0, int T, int Ix, const char *what) {
    for (int t = t0; t < T; t++)
        if (!zeros(x + (size_t)t * xs, 0, Ix)) return BAD("%s: input step %d must be blank (all zero): it is in %s", fn, t, what);
    return GL_OK;
}

/* Copy and repeat copy: the sequence before the delimiter on channel `bits`; returns L or an error. */
static int parse_sequence(const char *fn, const float *x, size_t xs, int T, int bits, int Ix, int *L) {
    int err;
    for (int t = 0; t < T; t++) {
        const float *v = x + (size_t)t * xs;
        if ((err = check_marker(fn, v, bits, t))) return err;
        if (Ix > bits + 1 && !zeros(v, bits + 1, Ix))
            return BAD("%s: input step %d channel %d must be 0 before the delimiter (channel %d)", fn, t, bits + 1, bits);
        if (v[bits] == 1.0f) {
            if (t == 0) return BAD("%s: input step 0 is the delimiter (channel %d): the sequence must have at least one vector", fn, bits);
            if (!zeros(v, 0, bits)) return BAD("%s: input step %d: the delimiter step's bits must be 0", fn, t);
            *L = t;
            return GL_OK;
        }
        if ((err = check_bits(fn, v, bits, t))) return err;
    }
    return BAD("%s: input has no delimiter (channel %d = 1) in its %d steps", fn, bits, T);
}

static int parse_copy(const char *fn, int bits, int T, const float *x, size_t xs, gl_task_sizes *s) {
    int L, err;
    if ((err = parse_sequence(fn, x, xs, T, bits, bits + 1, &L))) return err;
    if (T != 2 * L + 1) return BAD("%s: input of a sequence of %d vectors must have 2 * %d + 1 = %d steps, got %d", fn, L, L, 2 * L + 1, T);
    if ((err = blank_from(fn, x, xs, L + 1, T, bits + 1, "the output phase"))) return err;
    s->length = L;
    return GL_OK;
}

static int parse_repeat(const char *fn, int bits, int T, const float *x, size_t xs, gl_task_sizes *s) {
    int L, err, Ix = bits + 2;
    if ((err = parse_sequence(fn, x, xs, T, bits, Ix, &L))) return err;
    if (L + 1 >= T) return BAD("%s: input ends at the delimiter (step %d): the repeat count must follow it", fn, L);
    const float *v = x + (size_t)(L + 1) * xs;
    if (!zeros(v, 0, bits + 1)) return BAD("%s: input step %d holds the repeat count: only channel %d may be non-zero", fn, L + 1, bits + 1);
    double n = (double)v[bits + 1] * GL_TASK_REPEAT_STD + GL_TASK_REPEAT_MEAN;
    int N = (int)floor(n + 0.5);
    if (!(N >= 1 && N <= 10000) || fabsf(repeat_code(N) - v[bits + 1]) > 1e-4f)
        return BAD("%s: input step %d channel %d must be a repeat count n >= 1 encoded as (n - 5.5) / sqrt(8.25), got %g", fn,
                   L + 1, bits + 1, (double)v[bits + 1]);
    double want = (double)L + 3 + (double)L * N;
    if (T != want)
        return BAD("%s: input of %d vectors repeated %d times must have %d + 3 + %d * %d = %.0f steps, got %d", fn, L, N, L, L,
                   N, want, T);
    if ((err = blank_from(fn, x, xs, L + 2, T, Ix, "the output phase"))) return err;
    s->length = L;
    s->repeats = N;
    return GL_OK;
}

static int parse_recall(const char *fn, int bits, int T, const float *x, size_t xs, gl_task_sizes *s, int *query) {
    int Ix = bits + 2, err;
#define V(t) (x + (size_t)(t) * xs)
    for (int t = 0; t < T; t++) {
        if ((err = check_marker(fn, V(t), bits, t)) || (err = check_marker(fn, V(t), bits + 1, t))) return err;
        if ((err = check_bits(fn, V(t), bits, t))) return err;
        if (V(t)[bits] == 1.0f && V(t)[bits + 1] == 1.0f) return BAD("%s: input step %d has both delimiters (channels %d and %d)", fn, t, bits, bits + 1);
    }
    if (T < 1 || V(0)[bits] != 1.0f) return BAD("%s: input step 0 must be an item delimiter (channel %d = 1)", fn, bits);
    int K = 0;
    while (1 + K < T && V(1 + K)[bits] == 0.0f && V(1 + K)[bits + 1] == 0.0f) K++;
    if (K < 1) return BAD("%s: input step 1 must be the first vector of the first item, not a delimiter", fn);
    int n = 0;
    while (n * (K + 1) < T && V(n * (K + 1))[bits] == 1.0f) {
        int t0 = n * (K + 1);
        for (int k = 1; k <= K; k++) {
            if (t0 + k >= T || V(t0 + k)[bits] != 0.0f || V(t0 + k)[bits + 1] != 0.0f)
                return BAD("%s: input step %d: item %d must have %d vectors, as the first item, without delimiters", fn, t0 + k, n, K);
        }
        n++;
    }
    int at = n * (K + 1);
    if (n < 2) return BAD("%s: input has %d item(s) before the query: at least 2 (the query needs an item that follows it)", fn, n);
    if (at >= T || V(at)[bits + 1] != 1.0f)
        return BAD("%s: input step %d must be an item delimiter (channel %d) or the query delimiter (channel %d)", fn, at, bits, bits + 1);
    int want = at + 2 * K + 2;
    if (T != want) return BAD("%s: input of %d items of %d vectors must have %d * %d + 2 * %d + 2 = %d steps, got %d", fn, n, K, n, K + 1, K, want, T);
    for (int k = 1; k <= K; k++)
        if (V(at + k)[bits] != 0.0f || V(at + k)[bits + 1] != 0.0f) return BAD("%s: input step %d: the query's vectors have no delimiters", fn, at + k);
    if (V(at + K + 1)[bits + 1] != 1.0f || !zeros(V(at + K + 1), 0, bits))
        return BAD("%s: input step %d must close the query: channel %d = 1, bits 0", fn, at + K + 1, bits + 1);
    for (int t = 0; t < T; t++)
        if ((V(t)[bits] == 1.0f || V(t)[bits + 1] == 1.0f) && !zeros(V(t), 0, bits))
            return BAD("%s: input step %d is a delimiter: its bits must be 0", fn, t);
    if ((err = blank_from(fn, x, xs, at + K + 2, T, Ix, "the output phase"))) return err;
    int q = -1;
    for (int i = 0; i + 1 < n && q < 0; i++) {
        int same = 1;
        for (int k = 1; k <= K && same; k++)
            for (int c = 0; c < bits && same; c++) same = V(i * (K + 1) + k)[c] == V(at + k)[c];
        if (same) q = i;
    }
    if (q < 0) return BAD("%s: input's query (steps %d-%d) equals none of the items 0-%d (an item with a successor)", fn, at + 1, at + K, n - 2);
#undef V
    s->items = n;
    s->item_length = K;
    *query = q;
    return GL_OK;
}

static int parse_sort(const char *fn, int bits, int T, const float *x, size_t xs, gl_task_sizes *s) {
    int Ix = bits + 2, err, L = -1;
    for (int t = 0; t < T && L < 0; t++) {
        const float *v = x + (size_t)t * xs;
        if ((err = check_marker(fn, v, bits + 1, t))) return err;
        if (v[bits + 1] == 1.0f) {
            if (!zeros(v, 0, bits + 1)) return BAD("%s: input step %d: the delimiter step's other channels must be 0", fn, t);
            L = t;
            break;
        }
        if ((err = check_bits(fn, v, bits, t))) return err;
        if (!(v[bits] >= -1.0f && v[bits] <= 1.0f))
            return BAD("%s: input step %d channel %d is the priority: a number in [-1, 1], got %g", fn, t, bits, (double)v[bits]);
    }
    if (L < 0) return BAD("%s: input has no delimiter (channel %d = 1) in its %d steps", fn, bits + 1, T);
    if (L == 0) return BAD("%s: input step 0 is the delimiter: there must be at least one vector to sort", fn);
    int M = T - L - 1;
    if (M < 1 || M > L) return BAD("%s: input of %d vectors must have %d + 1 + outputs steps with 1 to %d outputs, got %d steps", fn, L, L, L, T);
    if ((err = blank_from(fn, x, xs, L + 1, T, Ix, "the output phase"))) return err;
    s->length = L;
    s->out_length = M;
    return GL_OK;
}

static int parse_ngrams(const char *fn, int T, const float *x, size_t xs, gl_task_sizes *s) {
    if (T < 2) return BAD("%s: input must have at least 2 steps (one bit, then the one it predicts), got %d", fn, T);
    for (int t = 0; t < T; t++) {
        float b = x[(size_t)t * xs];
        if (b != 0.0f && b != 1.0f) return BAD("%s: input step %d must be a bit, 0 or 1, got %g", fn, t, (double)b);
    }
    s->length = T;
    return GL_OK;
}

int gl_task_target(const char *fn, int task, int bits, int T, const float *x, size_t xs, float *y, size_t ys,
                   float *mask, gl_task_sizes *sizes, int *query) {
    gl_task_sizes s;
    memset(&s, 0, sizeof s);
    int q = -1, err;
    if (T < 1 || T > GL_TASK_MAX_STEPS) return BAD("%s: input must have 1 to %d steps, got %d", fn, GL_TASK_MAX_STEPS, T);
    switch (task) {
    case GL_TASK_COPY: err = parse_copy(fn, bits, T, x, xs, &s); break;
    case GL_TASK_REPEAT_COPY: err = parse_repeat(fn, bits, T, x, xs, &s); break;
    case GL_TASK_RECALL: err = parse_recall(fn, bits, T, x, xs, &s, &q); break;
    case GL_TASK_SORT: err = parse_sort(fn, bits, T, x, xs, &s); break;
    case GL_TASK_NGRAMS: err = parse_ngrams(fn, T, x, xs, &s); break;
    default: return BAD("%s: unknown task %d", fn, task);
    }
    if (err) return err;
    if (sizes) *sizes = s;
    if (query) *query = q;
    if (mask) gl_task_mask(task, &s, mask);
    if (!y) return GL_OK;
    int Ix, Y;
    gl_task_widths(task, bits, &Ix, &Y);
    for (int t = 0; t < T; t++) memset(y + (size_t)t * ys, 0, (size_t)Y * sizeof(float));
#define X(t) (x + (size_t)(t) * xs)
#define YY(t) (y + (size_t)(t) * ys)
    size_t nb = (size_t)bits * sizeof(float);
    int L = s.length;
    switch (task) {
    case GL_TASK_COPY:
        for (int t = 0; t < L; t++) memcpy(YY(L + 1 + t), X(t), nb);
        break;
    case GL_TASK_REPEAT_COPY:
        for (int k = 0; k < s.repeats; k++)
            for (int t = 0; t < L; t++) memcpy(YY(L + 2 + k * L + t), X(t), nb);
        YY(T - 1)[bits] = 1.0f; /* the end marker */
        break;
    case GL_TASK_RECALL: {
        int K = s.item_length;
        for (int k = 0; k < K; k++) memcpy(YY(T - K + k), X((q + 1) * (K + 1) + 1 + k), nb);
        break;
    }
    case GL_TASK_SORT: {
        /* the M highest priorities, highest first; equal priorities in input order (selection of
         * the maximum M times: O(L M), L and M are small) */
        int M = s.out_length, last = -1;
        float lastp = INFINITY;
        for (int j = 0; j < M; j++) {
            int best = -1;
            float bp = -INFINITY;
            for (int t = 0; t < L; t++) {
                float p = X(t)[bits];
                int after = p < lastp || (p == lastp && t > last); /* after the previous pick in the order */
                if (after && (best < 0 || p > bp)) {
                    best = t;
                    bp = p;
                }
            }
            memcpy(YY(L + 1 + j), X(best), nb);
            last = best;
            lastp = bp;
        }
        break;
    }
    case GL_TASK_NGRAMS:
        for (int t = 0; t + 1 < T; t++) YY(t)[0] = X(t + 1)[0];
        break;
    default: break;
    }
#undef X
#undef YY
    return GL_OK;
}

double gl_task_ngrams_bayes(int T, const float *x, size_t xs, float *p) {
    enum { NC = 1 << GL_TASK_NGRAM_CONTEXT };
    int n0[NC] = {0}, n1[NC] = {0};
    unsigned c = 0; /* the context of bit t: bits t-5..t-1, the latest lowest, zeros before the start */
    double cost = 0.0;
    for (int t = 0; t < T; t++) {
        unsigned bit = x[(size_t)t * xs] > 0.5f;
        if (t > 0) { /* bit t was predicted at step t-1 from what came before it */
            double p1 = (n1[c] + 0.5) / (n0[c] + n1[c] + 1.0); /* sec. 4.4, eq. (the Bayes estimator) */
            if (p) p[t - 1] = (float)p1;
            cost -= log2(bit ? p1 : 1.0 - p1);
        }
        if (bit) n1[c]++;
        else n0[c]++;
        c = ((c << 1) | bit) & (NC - 1);
    }
    if (p && T > 0) p[T - 1] = 0.5f;
    return cost;
}
