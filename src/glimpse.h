/* glimpse.h: what every C file of the core shares.
 *
 * Conventions (see STYLE in the repo docs):
 *  - Exported entry points carry GL_API and the prefix gl_. They return an int status
 *    (GL_OK or an error code) and never print, abort or exit; gl_last_error() gives the
 *    message, which the JS binding turns into an exception.
 *  - Tensors are flat row-major float buffers; shapes are written beside each buffer.
 *    Dimension letters: N batch, C channels, H/W input height/width, Ho/Wo output.
 *  - Backward functions accumulate (+=) into gradient buffers; callers zero them.
 */
#ifndef GLIMPSE_H
#define GLIMPSE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__EMSCRIPTEN__) || defined(__wasm__)
#define GL_API __attribute__((used, visibility("default")))
#else
#define GL_API __attribute__((visibility("default")))
#endif

/* Test-only entry points (the kernels' scalar oracles): exported from the test wasm
 * (build/test/, built with -DGL_TESTING), internal in the shipped dist/ wasm files. */
#ifdef GL_TESTING
#define GL_TEST_API GL_API
#else
#define GL_TEST_API
#endif

enum {
    GL_OK = 0,
    GL_EINVAL = 1,   /* bad argument: shape, size, option value */
    GL_ENOMEM = 2,   /* allocation failed or size over the limit */
    GL_EFORMAT = 3,  /* malformed serialised bytes */
    GL_ENUMERIC = 4, /* a non-finite value where a finite one is required */
    GL_ESTATE = 5    /* object used in a state that does not allow the call */
};

/* Largest buffer (in floats) any entry point will allocate or accept: 256 Mi floats = 1 GiB.
 * Above this a request is refused with GL_ENOMEM instead of growing wasm memory to death. */
#define GL_MAX_FLOATS ((size_t)1 << 28)

/* Record an error message (printf-style) and return code. Never prints. */
int gl_fail(int code, const char *fmt, ...);
GL_API const char *gl_last_error(void);
/* Which vector branch of simd.h this build was compiled with ("wasm-simd128", "sse4.1", "scalar"). */
GL_API const char *gl_simd_name(void);

/* Checked size product: returns 0 (and sets an error) when the product overflows or
 * exceeds GL_MAX_FLOATS. */
size_t gl_size(size_t a, size_t b, size_t c, size_t d);

/* Padding modes of the bilinear sampler, as in torch.nn.functional.grid_sample. */
enum { GL_PAD_ZEROS = 0, GL_PAD_BORDER = 1, GL_PAD_REFLECTION = 2 };

#endif
