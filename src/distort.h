/* distort.h: the distorted-MNIST inputs of the Spatial Transformer paper (distort.c; Jaderberg et
 * al. 2015 section 4.1): rotation (R), rotation-translation-scale (RTS), projective (P), elastic (E)
 * and translated-cluttered (T), seeded and deterministic. The kinds and their parameters are
 * described at the top of src/distort.c; gl_distort_info gives the table the JS binding shows.
 */
#ifndef GLIMPSE_DISTORT_H
#define GLIMPSE_DISTORT_H

#include "glimpse.h"

/* The kinds' names in enum order, as a schema's choices string (model.h). */
#define GL_DISTORT_NAMES "R|RTS|P|E|T"

enum { GL_DISTORT_R = 0, GL_DISTORT_RTS = 1, GL_DISTORT_P = 2, GL_DISTORT_E = 3, GL_DISTORT_T = 4, GL_DISTORT_COUNT };

/* *side <- the output side (height = width) of a kind. */
GL_API int gl_distort_side(int *side, int kind);
/* The kind's short name ("RTS") and a one-line description of its parameters, or NULL for an
 * unknown kind. */
GL_API const char *gl_distort_name(int kind);
GL_API const char *gl_distort_description(int kind);
/* out (B, S, S) <- distorted src (B, 28, 28), S = gl_distort_side(kind). pool (P, 28, 28): the
 * digits clutter is cut from (kind T only); NULL or P = 0 uses the batch itself. */
GL_API int gl_distort_batch(float *out, const float *src, const float *pool, int P, int B, int kind, uint32_t seed);

#endif
