/* core.c: error reporting and size checks shared by every entry point. */
#include "glimpse.h"
#include "simd.h"

#include <stdarg.h>
#include <stdio.h>

static char gl_error_message[512] = "";

int gl_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gl_error_message, sizeof gl_error_message, fmt, ap);
    va_end(ap);
    return code;
}

GL_API const char *gl_last_error(void) { return gl_error_message; }

/* Which vector branch of simd.h this build was compiled with ("wasm-simd128", "sse4.1", "scalar"). */
GL_API const char *gl_simd_name(void) { return GL_SIMD_NAME; }

size_t gl_size(size_t a, size_t b, size_t c, size_t d) {
    size_t dims[4] = {a, b, c, d}, n = 1;
    for (int i = 0; i < 4; i++) {
        if (dims[i] == 0) return 0;
        if (n > GL_MAX_FLOATS / dims[i]) {
            gl_fail(GL_ENOMEM, "tensor of %zu x %zu x %zu x %zu floats exceeds the limit of %zu", a, b, c, d,
                    (size_t)GL_MAX_FLOATS);
            return 0;
        }
        n *= dims[i];
    }
    return n;
}
