/* test_heap.c: a test-only probe of the wasm heap (build/test/ only, never shipped): the bytes
 * malloc has handed out and not had back, so tests/tensor.test.js can show that Tensors and the
 * kernels' scratch are all freed (the memory size alone would hide leaks smaller than its growth).
 * wasm only: the native programs have no use for it. */
#include "glimpse.h"

#if defined(__wasm__)
#include <malloc.h>

GL_API double gl_test_heap_bytes(void) {
    struct mallinfo mi = mallinfo();
    return (double)mi.uordblks; /* allocated bytes in use */
}
#endif
