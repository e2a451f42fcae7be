/* safetensors.c: read and write the safetensors format (safetensors.h). The JSON header is parsed
 * by a small strict recursive-descent reader that knows exactly the shapes the format allows: an
 * object of tensor entries and one "__metadata__" object of strings. */
#include "safetensors.h"
#include "weights.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STRING 4096 /* bytes of one name, key or value */

/* ---------------------------------------------------------------------------------------- */
/* Reading. */

typedef struct {
    const char *p, *end;
    char *out;   /* the string arena: decoded strings, NUL-terminated */
    size_t used, cap;
} jreader;

static int bad(const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gl_fail(GL_EFORMAT, "safetensors: %s", msg);
}

static void skip_ws(jreader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int expect(jreader *r, char c, const char *where) {
    skip_ws(r);
    if (r->p >= r->end) return bad("the header ends inside %s (expected '%c')", where, c);
    if (*r->p != c) return bad("expected '%c' in %s, got '%c'", c, where, *r->p);
    r->p++;
    return GL_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A JSON string into the arena; *s points at it (NUL-terminated). */
static int read_string(jreader *r, const char **s, const char *where) {
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"') return bad("expected a string in %s", where);
    r->p++;
    size_t start = r->used;
    for (;;) {
        if (r->p >= r->end) return bad("unterminated string in %s", where);
        unsigned char c = (unsigned char)*r->p++;
        if (c == '"') break;
        if (c < 0x20) return bad("a control character inside a string in %s", where);
        uint32_t cp = c;
        if (c == '\\') {
            if (r->p >= r->end) return bad("unterminated escape in %s", where);
            char e = *r->p++;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                if (r->end - r->p < 4) return bad("a short \\u escape in %s", where);
                cp = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(r->p[i]);
                    if (h < 0) return bad("a bad \\u escape in %s", where);
                    cp = cp << 4 | (uint32_t)h;
                }
                r->p += 4;
                if (cp == 0) return bad("a NUL character in a string in %s", where);
                if (cp >= 0xD800 && cp <= 0xDFFF) return bad("a UTF-16 surrogate escape in %s (not supported)", where);
                break;
            }
            default: return bad("an unknown escape '\\%c' in %s", e, where);
            }
            /* UTF-8 encode cp */
            char buf[4];
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
            if (n == 1) buf[0] = (char)cp;
            else if (n == 2) { buf[0] = (char)(0xC0 | cp >> 6); buf[1] = (char)(0x80 | (cp & 0x3F)); }
            else { buf[0] = (char)(0xE0 | cp >> 12); buf[1] = (char)(0x80 | (cp >> 6 & 0x3F)); buf[2] = (char)(0x80 | (cp & 0x3F)); }
            if (r->used + (size_t)n + 1 > r->cap || r->used - start + (size_t)n > MAX_STRING) return bad("a string longer than %d bytes in %s", MAX_STRING, where);
            memcpy(r->out + r->used, buf, (size_t)n);
            r->used += (size_t)n;
            continue;
        }
        if (r->used + 2 > r->cap || r->used - start + 1 > MAX_STRING) return bad("a string longer than %d bytes in %s", MAX_STRING, where);
        r->out[r->used++] = (char)c;
    }
    r->out[r->used++] = 0;
    *s = r->out + start;
    return GL_OK;
}

/* A non-negative integer (no sign, fraction or exponent), at most 2^53. */
static int read_uint(jreader *r, uint64_t *v, const char *where) {
    skip_ws(r);
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return bad("expected a non-negative integer in %s", where);
    uint64_t x = 0;
    int digits = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        x = x * 10 + (uint64_t)(*r->p++ - '0');
        if (++digits > 16 || x > (1ULL << 53)) return bad("an integer too large in %s", where);
    }
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')) return bad("a non-integer number in %s", where);
    *v = x;
    return GL_OK;
}

/* [u, u, ...] with at most max entries. */
static int read_uint_array(jreader *r, uint64_t *out, int max, int *n, const char *where) {
    int err = expect(r, '[', where);
    if (err) return err;
    *n = 0;
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return GL_OK;
    }
    for (;;) {
        if (*n >= max) return bad("more than %d entries in %s", max, where);
        if ((err = read_uint(r, &out[*n], where))) return err;
        (*n)++;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        return expect(r, ']', where);
    }
}

static int read_tensor(jreader *r, gl_st_tensor *t) {
    int err = expect(r, '{', t->name);
    if (err) return err;
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    for (;;) {
        const char *key;
        if ((err = read_string(r, &key, t->name)) || (err = expect(r, ':', t->name))) return err;
        if (!strcmp(key, "dtype")) {
            const char *d;
            if ((err = read_string(r, &d, t->name))) return err;
            if (!strcmp(d, "F32")) t->dtype = GL_ST_F32;
            else if (!strcmp(d, "F16")) t->dtype = GL_ST_F16;
            else return bad("tensor '%s' has dtype %s (this reader takes F32 and F16)", t->name, d);
            have_dtype++;
        } else if (!strcmp(key, "shape")) {
            if ((err = read_uint_array(r, t->dims, GL_ST_MAX_DIMS, &t->ndims, t->name))) return err;
            have_shape++;
        } else if (!strcmp(key, "data_offsets")) {
            uint64_t o[3];
            int n;
            if ((err = read_uint_array(r, o, 3, &n, t->name))) return err;
            if (n != 2) return bad("tensor '%s': data_offsets must be [begin, end]", t->name);
            t->begin = o[0];
            t->end = o[1];
            have_offsets++;
        } else {
            return bad("tensor '%s' has an unknown field '%s'", t->name, key);
        }
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if ((err = expect(r, '}', t->name))) return err;
        break;
    }
    if (have_dtype != 1 || have_shape != 1 || have_offsets != 1)
        return bad("tensor '%s' needs exactly one dtype, shape and data_offsets", t->name);
    uint64_t n = 1;
    for (int i = 0; i < t->ndims; i++) {
        if (t->dims[i] && n > (1ULL << 40) / t->dims[i]) return bad("tensor '%s' is too large", t->name);
        n *= t->dims[i];
    }
    t->numel = n;
    return GL_OK;
}

static int read_metadata(jreader *r, gl_st_file *f) {
    int err = expect(r, '{', "__metadata__");
    if (err) return err;
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return GL_OK;
    }
    for (;;) {
        if (f->nmeta >= GL_ST_MAX_META) return bad("more than %d metadata entries", GL_ST_MAX_META);
        const char *k, *v;
        if ((err = read_string(r, &k, "__metadata__")) || (err = expect(r, ':', "__metadata__")) ||
            (err = read_string(r, &v, "__metadata__")))
            return err;
        for (int i = 0; i < f->nmeta; i++)
            if (!strcmp(f->meta_key[i], k)) return bad("the metadata key '%s' appears twice", k);
        f->meta_key[f->nmeta] = k;
        f->meta_value[f->nmeta++] = v;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        return expect(r, '}', "__metadata__");
    }
}

static int cmp_begin(const void *a, const void *b) {
    const gl_st_tensor *x = *(const gl_st_tensor *const *)a, *y = *(const gl_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

int gl_st_parse(gl_st_file *f, const uint8_t *bytes, size_t len) {
    memset(f, 0, sizeof *f);
    if (!bytes || len < 8) return bad("truncated: %zu bytes, the header length alone takes 8", len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | bytes[i];
    if (n > len - 8) return bad("the header length %llu runs past the end of the %zu bytes", (unsigned long long)n, len);
    if (n > GL_ST_MAX_HEADER) return bad("a header of %llu bytes (at most %u)", (unsigned long long)n, GL_ST_MAX_HEADER);
    if (n < 2) return bad("an empty header");
    f->strings = (char *)malloc((size_t)n + 1);
    if (!f->strings) return gl_fail(GL_ENOMEM, "safetensors: out of memory for a header of %llu bytes", (unsigned long long)n);
    jreader r = {(const char *)bytes + 8, (const char *)bytes + 8 + n, f->strings, 0, (size_t)n + 1};
    int err = expect(&r, '{', "the header");
    int nmetaobj = 0;
    skip_ws(&r);
    if (!err && r.p < r.end && *r.p == '}') r.p++;
    else
        while (!err) {
            const char *key;
            if ((err = read_string(&r, &key, "the header")) || (err = expect(&r, ':', "the header"))) break;
            if (!strcmp(key, "__metadata__")) {
                if (nmetaobj++) {
                    err = bad("two __metadata__ objects");
                    break;
                }
                err = read_metadata(&r, f);
            } else {
                if (f->ntensors >= GL_ST_MAX_TENSORS) {
                    err = bad("more than %d tensors", GL_ST_MAX_TENSORS);
                    break;
                }
                for (int i = 0; i < f->ntensors && !err; i++)
                    if (!strcmp(f->t[i].name, key)) err = bad("the tensor name '%s' appears twice", key);
                if (err) break;
                gl_st_tensor *t = &f->t[f->ntensors++];
                t->name = key;
                err = read_tensor(&r, t);
            }
            if (err) break;
            skip_ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            err = expect(&r, '}', "the header");
            break;
        }
    if (!err) {
        skip_ws(&r);
        if (r.p != r.end) err = bad("bytes after the header's closing brace");
    }
    f->data = bytes + 8 + n;
    f->data_len = len - 8 - n;
    /* offsets: within the data, consistent with dtype and shape, not overlapping */
    gl_st_tensor *order[GL_ST_MAX_TENSORS];
    int nonempty = 0;
    for (int i = 0; i < f->ntensors && !err; i++) {
        gl_st_tensor *t = &f->t[i];
        uint64_t want = t->numel * (t->dtype == GL_ST_F16 ? 2 : 4);
        if (t->begin > t->end || t->end > f->data_len)
            err = bad("tensor '%s': data_offsets [%llu, %llu] outside the %llu bytes of data", t->name,
                      (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)f->data_len);
        else if (t->end - t->begin != want)
            err = bad("tensor '%s': %llu bytes of data for a shape of %llu values (%llu bytes)", t->name,
                      (unsigned long long)(t->end - t->begin), (unsigned long long)t->numel, (unsigned long long)want);
        else if (t->end > t->begin)
            order[nonempty++] = t; /* empty tensors occupy no bytes and cannot overlap */
    }
    if (!err && nonempty > 1) {
        qsort(order, (size_t)nonempty, sizeof order[0], cmp_begin);
        for (int i = 1; i < nonempty && !err; i++)
            if (order[i]->begin < order[i - 1]->end)
                err = bad("tensors '%s' and '%s' overlap", order[i - 1]->name, order[i]->name);
    }
    if (err) gl_st_free(f);
    return err;
}

void gl_st_free(gl_st_file *f) {
    free(f->strings);
    f->strings = NULL;
}

const gl_st_tensor *gl_st_find(const gl_st_file *f, const char *name) {
    for (int i = 0; i < f->ntensors; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *gl_st_meta(const gl_st_file *f, const char *key) {
    for (int i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta_key[i], key)) return f->meta_value[i];
    return NULL;
}

int gl_st_read(const gl_st_file *f, const gl_st_tensor *t, float *out) {
    const uint8_t *p = f->data + t->begin;
    for (uint64_t i = 0; i < t->numel; i++) {
        float v;
        if (t->dtype == GL_ST_F16) {
            v = gl_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        } else {
            const uint8_t *q = p + 4 * i;
            v = gl_u2f((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24);
        }
        if (!isfinite(v)) return bad("tensor '%s': value %llu is not finite", t->name, (unsigned long long)i);
        out[i] = v;
    }
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing. */

typedef struct {
    char *p;      /* NULL: count only */
    size_t n, cap;
} jwriter;

static void wput(jwriter *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[128];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0 && w->p && w->n + (size_t)k <= w->cap) memcpy(w->p + w->n, tmp, (size_t)k);
    if (k > 0) w->n += (size_t)k;
}

static void wstr(jwriter *w, const char *s) {
    wput(w, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') wput(w, "\\%c", c);
        else if (c < 0x20) wput(w, "\\u%04x", c);
        else wput(w, "%c", c);
    }
    wput(w, "\"");
}

static uint64_t numel_of(const gl_st_out *t) {
    uint64_t n = 1;
    for (int d = 0; d < t->ndims; d++) n *= t->dims[d];
    return n;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes (the format's recommendation). */
static size_t header(jwriter *w, const gl_st_out *t, int nt, const char *const *mk, const char *const *mv, int nm) {
    wput(w, "{");
    if (nm > 0) {
        wput(w, "\"__metadata__\":{");
        for (int i = 0; i < nm; i++) {
            if (i) wput(w, ",");
            wstr(w, mk[i]);
            wput(w, ":");
            wstr(w, mv[i]);
        }
        wput(w, "}");
    }
    uint64_t off = 0;
    for (int i = 0; i < nt; i++) {
        if (i || nm > 0) wput(w, ",");
        wstr(w, t[i].name);
        wput(w, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t[i].ndims; d++) wput(w, "%s%llu", d ? "," : "", (unsigned long long)t[i].dims[d]);
        uint64_t bytes = 4 * numel_of(&t[i]);
        wput(w, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + bytes));
        off += bytes;
    }
    wput(w, "}");
    while (w->n % 8) wput(w, " ");
    return w->n;
}

size_t gl_st_size(const gl_st_out *t, int nt, const char *const *mk, const char *const *mv, int nm) {
    jwriter w = {NULL, 0, 0};
    size_t n = 8 + header(&w, t, nt, mk, mv, nm);
    for (int i = 0; i < nt; i++) n += 4 * (size_t)numel_of(&t[i]);
    return n;
}

int gl_st_write(uint8_t *out, size_t cap, const gl_st_out *t, int nt, const char *const *mk, const char *const *mv, int nm) {
    size_t need = gl_st_size(t, nt, mk, mv, nm);
    if (cap < need) return gl_fail(GL_EINVAL, "safetensors: buffer of %zu bytes, need %zu", cap, need);
    jwriter w = {(char *)out + 8, 0, cap - 8};
    size_t hn = header(&w, t, nt, mk, mv, nm);
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)hn >> (8 * i));
    uint8_t *p = out + 8 + hn;
    for (int i = 0; i < nt; i++) {
        uint64_t n = numel_of(&t[i]);
        for (uint64_t k = 0; k < n; k++, p += 4) {
            float v = t[i].data[k];
            if (!isfinite(v)) return gl_fail(GL_ENUMERIC, "safetensors: tensor '%s' value %llu is not finite", t[i].name, (unsigned long long)k);
            uint32_t u = gl_f2u(v);
            p[0] = (uint8_t)u; p[1] = (uint8_t)(u >> 8); p[2] = (uint8_t)(u >> 16); p[3] = (uint8_t)(u >> 24);
        }
    }
    return GL_OK;
}
