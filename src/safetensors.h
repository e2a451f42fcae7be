/* safetensors.h: the safetensors format (huggingface/safetensors), read and written (safetensors.c).
 *
 * Layout: an 8-byte little-endian header length n, n bytes of JSON, then the raw tensor data:
 *   { "<name>": { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] }, ...,
 *     "__metadata__": { "<key>": "<string value>", ... } }
 * offsets are relative to the start of the data, little-endian values, row-major. Models save one
 * tensor per parameter tensor (their names: the model type's tensor_names; for the STN those of the
 * PyTorch STN tutorial's state_dict) and their configuration in __metadata__.
 *
 * The reader takes untrusted bytes: every length, offset, count, string and number is checked
 * (header past the end, malformed JSON, offsets out of range or overlapping, shapes that disagree
 * with the data, dtypes other than F32 / F16, duplicate names, nesting) and refused with
 * GL_EFORMAT and a message saying which, without allocating more than the header's size.
 */
#ifndef GLIMPSE_SAFETENSORS_H
#define GLIMPSE_SAFETENSORS_H

#include "glimpse.h"

#define GL_ST_MAX_TENSORS 1024
#define GL_ST_MAX_DIMS 8
#define GL_ST_MAX_META 64
#define GL_ST_MAX_HEADER (16u << 20) /* 16 MiB of JSON */

enum { GL_ST_F32 = 0, GL_ST_F16 = 1 };

typedef struct {
    const char *name;                 /* NUL-terminated, in the file's string arena */
    int dtype;                        /* GL_ST_F32 or GL_ST_F16 */
    int ndims;
    uint64_t dims[GL_ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end;              /* byte range in the data */
} gl_st_tensor;

typedef struct {
    int ntensors, nmeta;
    gl_st_tensor t[GL_ST_MAX_TENSORS];
    const char *meta_key[GL_ST_MAX_META], *meta_value[GL_ST_MAX_META];
    const uint8_t *data; /* the data section */
    uint64_t data_len;
    char *strings;       /* owned: decoded names and metadata (free with gl_st_free) */
} gl_st_file;

/* Parse and validate (see above). On success f->strings must be released with gl_st_free. */
int gl_st_parse(gl_st_file *f, const uint8_t *bytes, size_t len);
void gl_st_free(gl_st_file *f);
/* The tensor named `name`, or NULL; the metadata value of `key`, or NULL. */
const gl_st_tensor *gl_st_find(const gl_st_file *f, const char *name);
const char *gl_st_meta(const gl_st_file *f, const char *key);
/* Decode tensor t's values (F32 or F16) into out (t->numel floats); non-finite values refused. */
int gl_st_read(const gl_st_file *f, const gl_st_tensor *t, float *out);

/* Writing: ntensors float32 tensors (names, shapes, data) and nmeta string pairs. */
typedef struct {
    const char *name;
    int ndims;
    uint64_t dims[GL_ST_MAX_DIMS];
    const float *data;
} gl_st_out;

size_t gl_st_size(const gl_st_out *t, int ntensors, const char *const *meta_keys, const char *const *meta_values, int nmeta);
int gl_st_write(uint8_t *out, size_t cap, const gl_st_out *t, int ntensors, const char *const *meta_keys,
                const char *const *meta_values, int nmeta);

#endif
