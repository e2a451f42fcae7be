/* grid.c: projective and thin-plate-spline grid generators (grid.h), beside the affine one of
 * stn.c. Both feed gl_grid_sample; both are split over the pool's threads by image, so results
 * do not depend on the thread count.
 *
 * Thin-plate spline (Jaderberg et al. 2015 §3.1, "thin plate spline transformations"; Bookstein
 * 1989, eq. for f(x, y) = a_1 + a_x x + a_y y + sum_i w_i U(|P_i - (x, y)|)): the spline that maps
 * the fixed control points P_k to `points` and bends least. Its coefficients are the solution of
 *     L (w; a) = (points; 0),   L = [[K, Q], [Q^T, 0]],  K_ij = U(|P_i - P_j|),  Q_i = (1, x_i, y_i),
 * so with X = L^{-1}[:, :K] ((K + 3) x K, fixed by the control points) and b(p) = (U(|p - P_1|), ...,
 * U(|p - P_K|), 1, x, y), the grid at output pixel p is b(p)^T X points = B(p) . points. B is
 * computed once per size in double and stored as float; the grid is then a K-term dot product per
 * pixel and coordinate (SIMD over pixels), and its backward is B^T . dgrid.
 */
#include "grid.h"
#include "pool.h"
#include "simd.h"
#include "stn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check_sizes(const char *fn, int N, int H, int W) {
    if (N <= 0 || H <= 0 || W <= 0) return gl_fail(GL_EINVAL, "%s: sizes must be positive (N=%d H=%d W=%d)", fn, N, H, W);
    if (!gl_size((size_t)N, (size_t)H, (size_t)W, 2)) return gl_fail(GL_ENOMEM, "%s: N*H*W*2 is too large", fn);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Projective grid. */

/* grid (N, H, W, 2) <- theta (N, 3, 3) for images [n0, n1): a plain division */
static void proj9_range(float *grid, const float *theta, int n0, int n1, int H, int W, int align) {
    for (int n = n0; n < n1; n++) {
        const float *t = theta + 9 * (size_t)n;
        for (int i = 0; i < H; i++) {
            float y = gl_base_coord(i, H, align);
            float *g = grid + ((size_t)n * H + i) * W * 2;
            for (int j = 0; j < W; j++) {
                float x = gl_base_coord(j, W, align);
                float s = t[6] * x + t[7] * y + t[8];
                g[2 * j + 0] = (t[0] * x + t[1] * y + t[2]) / s;
                g[2 * j + 1] = (t[3] * x + t[4] * y + t[5]) / s;
            }
        }
    }
}

/* dtheta (N, 3, 3) += d grid / d theta . dgrid: with (u, v, s) = theta (x, y, 1) and grid = (u, v) / s,
 * d/du = dgx / s, d/dv = dgy / s, d/ds = -(dgx gx + dgy gy) / s; each times (x, y, 1). */
static void proj9_backward_range(float *dtheta, const float *dgrid, const float *theta, int n0, int n1, int H, int W,
                                 int align) {
    for (int n = n0; n < n1; n++) {
        const float *t = theta + 9 * (size_t)n;
        double acc[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < H; i++) {
            double y = gl_base_coord(i, H, align);
            const float *dg = dgrid + ((size_t)n * H + i) * W * 2;
            for (int j = 0; j < W; j++) {
                double x = gl_base_coord(j, W, align);
                double s = t[6] * x + t[7] * y + t[8];
                double u = t[0] * x + t[1] * y + t[2], v = t[3] * x + t[4] * y + t[5];
                double du = dg[2 * j] / s, dv = dg[2 * j + 1] / s;
                double ds = -(du * u + dv * v) / s;
                acc[0] += du * x; acc[1] += du * y; acc[2] += du;
                acc[3] += dv * x; acc[4] += dv * y; acc[5] += dv;
                acc[6] += ds * x; acc[7] += ds * y; acc[8] += ds;
            }
        }
        for (int k = 0; k < 9; k++) dtheta[9 * (size_t)n + k] += (float)acc[k];
    }
}

/* The model's form: theta (N, 8), h33 = 1, the denominator clamped at GL_PROJ_DEN_MIN. */
int gl_projective8_grid_serial(float *grid, const float *theta, int N, int H, int W, int align) {
    int err = check_sizes("projective grid", N, H, W);
    if (err) return err;
    for (int n = 0; n < N; n++) {
        const float *t = theta + 8 * (size_t)n;
        for (int i = 0; i < H; i++) {
            float y = gl_base_coord(i, H, align);
            float *g = grid + ((size_t)n * H + i) * W * 2;
            for (int j = 0; j < W; j++) {
                float x = gl_base_coord(j, W, align);
                float den = t[6] * x + t[7] * y + 1.0f;
                if (!(den >= GL_PROJ_DEN_MIN)) den = GL_PROJ_DEN_MIN;
                float inv = 1.0f / den;
                g[2 * j + 0] = (t[0] * x + t[1] * y + t[2]) * inv;
                g[2 * j + 1] = (t[3] * x + t[4] * y + t[5]) * inv;
            }
        }
    }
    return GL_OK;
}

int gl_projective8_grid_backward_serial(float *dtheta, const float *dgrid, const float *theta, int N, int H, int W,
                                        int align) {
    int err = check_sizes("projective grid backward", N, H, W);
    if (err) return err;
    for (int n = 0; n < N; n++) {
        const float *t = theta + 8 * (size_t)n;
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < H; i++) {
            float y = gl_base_coord(i, H, align);
            const float *dg = dgrid + ((size_t)n * H + i) * W * 2;
            for (int j = 0; j < W; j++) {
                float x = gl_base_coord(j, W, align);
                float den = t[6] * x + t[7] * y + 1.0f;
                int clamped = !(den >= GL_PROJ_DEN_MIN);
                if (clamped) den = GL_PROJ_DEN_MIN;
                float inv = 1.0f / den;
                float gx = dg[2 * j] * inv, gy = dg[2 * j + 1] * inv;
                acc[0] += gx * x; acc[1] += gx * y; acc[2] += gx;
                acc[3] += gy * x; acc[4] += gy * y; acc[5] += gy;
                if (!clamped) {
                    /* -(d loss / d den), with the grid recomputed as the forward had it */
                    float sx = (t[0] * x + t[1] * y + t[2]) * inv, sy = (t[3] * x + t[4] * y + t[5]) * inv;
                    float q = gx * sx + gy * sy;
                    acc[6] -= q * x;
                    acc[7] -= q * y;
                }
            }
        }
        for (int k = 0; k < 8; k++) dtheta[8 * (size_t)n + k] += (float)acc[k];
    }
    return GL_OK;
}

typedef struct {
    float *out;
    const float *in, *theta;
    int N, H, W, align, ntasks;
} proj_job;

static int proj_task(void *p, int t, int w) {
    (void)w;
    const proj_job *j = (const proj_job *)p;
    int lo, hi;
    gl_task_range(j->N, j->ntasks, t, &lo, &hi);
    if (j->theta) proj9_backward_range(j->out, j->in, j->theta, lo, hi, j->H, j->W, j->align);
    else proj9_range(j->out, j->in, lo, hi, j->H, j->W, j->align);
    return GL_OK;
}

GL_API int gl_projective_grid(float *grid, const float *theta, int N, int H, int W, int align) {
    int err = check_sizes("projective grid", N, H, W);
    if (err) return err;
    if (!grid || !theta) return gl_fail(GL_EINVAL, "projective grid: null buffer");
    proj_job j = {grid, theta, NULL, N, H, W, align, gl_pool_tasks(N, 16.0 * N * H * W)};
    return gl_parallel(j.ntasks, proj_task, &j);
}

GL_API int gl_projective_grid_backward(float *dtheta, const float *dgrid, const float *theta, int N, int H, int W,
                                       int align) {
    int err = check_sizes("projective grid backward", N, H, W);
    if (err) return err;
    if (!dtheta || !dgrid || !theta) return gl_fail(GL_EINVAL, "projective grid backward: null buffer");
    proj_job j = {dtheta, dgrid, theta, N, H, W, align, gl_pool_tasks(N, 30.0 * N * H * W)};
    return gl_parallel(j.ntasks, proj_task, &j);
}

/* ---------------------------------------------------------------------------------------- */
/* Thin-plate spline: the fixed part (control points, the system L, the basis B). */

static int check_tps(const char *fn, int N, int H, int W, int gy, int gx) {
    int err = check_sizes(fn, N, H, W);
    if (err) return err;
    if (gy < 2 || gx < 2 || gy > GL_TPS_MAX_SIDE || gx > GL_TPS_MAX_SIDE)
        return gl_fail(GL_EINVAL, "%s: the control grid must be 2 to %d points a side, got %dx%d", fn, GL_TPS_MAX_SIDE,
                       gy, gx);
    if (!gl_size((size_t)H, (size_t)W, (size_t)gy * gx, 1)) return gl_fail(GL_ENOMEM, "%s: H*W*K is too large", fn);
    return GL_OK;
}

void gl_tps_control_points(float *points, int gy, int gx) {
    for (int i = 0; i < gy; i++)
        for (int j = 0; j < gx; j++) {
            points[2 * (i * gx + j) + 0] = -1.0f + 2.0f * (float)j / (float)(gx - 1);
            points[2 * (i * gx + j) + 1] = -1.0f + 2.0f * (float)i / (float)(gy - 1);
        }
}

/* U(r) = r^2 log r^2 of a squared distance (Bookstein's kernel; U(0) = 0). */
static double tps_u(double r2) { return r2 > 0 ? r2 * log(r2) : 0.0; }

/* X ((K + 3) x K, row-major) <- L^{-1}[:, :K]: Gaussian elimination with partial pivoting on
 * [L | (I_K; 0)], in double. ws: (K + 3) * (2K + 3) doubles. */
static int tps_solve(double *X, double *ws, const float *cp, int K) {
    const int n = K + 3, m = 2 * K + 3; /* the augmented rows: n columns of L, then K of the right side */
    double *A = ws;
    memset(A, 0, sizeof(double) * (size_t)n * m);
    for (int i = 0; i < K; i++) {
        for (int j = 0; j < K; j++) {
            double dx = (double)cp[2 * i] - cp[2 * j], dy = (double)cp[2 * i + 1] - cp[2 * j + 1];
            A[(size_t)i * m + j] = tps_u(dx * dx + dy * dy);
        }
        double q[3] = {1.0, cp[2 * i], cp[2 * i + 1]};
        for (int c = 0; c < 3; c++) {
            A[(size_t)i * m + K + c] = q[c];
            A[(size_t)(K + c) * m + i] = q[c];
        }
        A[(size_t)i * m + n + i] = 1.0;
    }
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(A[(size_t)r * m + c]) > fabs(A[(size_t)piv * m + c])) piv = r;
        if (!(fabs(A[(size_t)piv * m + c]) > 1e-12)) return gl_fail(GL_ENUMERIC, "tps: the control points' system is singular");
        if (piv != c)
            for (int k = 0; k < m; k++) {
                double tmp = A[(size_t)c * m + k];
                A[(size_t)c * m + k] = A[(size_t)piv * m + k];
                A[(size_t)piv * m + k] = tmp;
            }
        for (int r = 0; r < n; r++) {
            if (r == c) continue;
            double f = A[(size_t)r * m + c] / A[(size_t)c * m + c];
            if (f == 0.0) continue;
            for (int k = c; k < m; k++) A[(size_t)r * m + k] -= f * A[(size_t)c * m + k];
        }
    }
    for (int r = 0; r < n; r++)
        for (int k = 0; k < K; k++) X[(size_t)r * K + k] = A[(size_t)r * m + n + k] / A[(size_t)r * m + r];
    return GL_OK;
}

size_t gl_tps_basis_floats(int H, int W, int gy, int gx) { return (size_t)H * W * gy * gx; }

/* The fixed-size scratch of a solve: X, the augmented matrix and the control points. */
typedef struct {
    double X[(GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE + 3) * GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE];
    double A[(GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE + 3) * (2 * GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE + 3)];
    float cp[2 * GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE];
} tps_system;

static int tps_system_solve(tps_system **out, int gy, int gx) {
    tps_system *s = (tps_system *)malloc(sizeof *s);
    if (!s) return gl_fail(GL_ENOMEM, "tps: out of memory");
    gl_tps_control_points(s->cp, gy, gx);
    int err = tps_solve(s->X, s->A, s->cp, gy * gx);
    if (err) {
        free(s);
        return err;
    }
    *out = s;
    return GL_OK;
}

/* b(p)^T X for the output pixel p = (x, y), in double: out[k], k < K. */
static void tps_row(double *out, const tps_system *s, int K, double x, double y) {
    double b[GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE + 3];
    for (int k = 0; k < K; k++) {
        double dx = x - s->cp[2 * k], dy = y - s->cp[2 * k + 1];
        b[k] = tps_u(dx * dx + dy * dy);
    }
    b[K] = 1.0; b[K + 1] = x; b[K + 2] = y;
    for (int k = 0; k < K; k++) out[k] = 0.0;
    for (int r = 0; r < K + 3; r++) {
        const double *xr = s->X + (size_t)r * K;
        for (int k = 0; k < K; k++) out[k] += b[r] * xr[k];
    }
}

int gl_tps_basis(float *basis, int H, int W, int gy, int gx, int align) {
    int err = check_tps("tps basis", 1, H, W, gy, gx);
    if (err) return err;
    tps_system *s;
    if ((err = tps_system_solve(&s, gy, gx))) return err;
    const int K = gy * gx;
    const size_t HW = (size_t)H * W;
    double row[GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE];
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            tps_row(row, s, K, gl_base_coord(j, W, align), gl_base_coord(i, H, align));
            for (int k = 0; k < K; k++) basis[(size_t)k * HW + (size_t)i * W + j] = (float)row[k];
        }
    free(s);
    return GL_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Thin-plate spline: grid = B . points and its backward, SIMD over pixels. */

/* grid (N, HW, 2) <- basis (K, HW)^T . points (N, K, 2). Each coordinate is the K-term sum in
 * k order, b * p + acc, in the vector loop and in its tail alike. */
void gl_tps_grid_serial(float *grid, const float *basis, const float *points, int N, int HW, int K) {
    for (int n = 0; n < N; n++) {
        const float *pt = points + (size_t)n * K * 2;
        float *g = grid + (size_t)n * HW * 2;
        int p = 0;
#if VF_WIDTH > 1
        for (; p + VF_WIDTH <= HW; p += VF_WIDTH) {
            vf ax = VF_SET1(0.0f), ay = VF_SET1(0.0f);
            for (int k = 0; k < K; k++) {
                vf b = VF_LOAD(basis + (size_t)k * HW + p);
                ax = VF_FMA(b, VF_SET1(pt[2 * k]), ax);
                ay = VF_FMA(b, VF_SET1(pt[2 * k + 1]), ay);
            }
            VF_INTERLEAVE2_STORE(g + 2 * (size_t)p, ax, ay);
        }
#endif
        for (; p < HW; p++) {
            float ax = 0.0f, ay = 0.0f;
            for (int k = 0; k < K; k++) {
                float b = basis[(size_t)k * HW + p];
                ax = b * pt[2 * k] + ax;
                ay = b * pt[2 * k + 1] + ay;
            }
            g[2 * (size_t)p] = ax;
            g[2 * (size_t)p + 1] = ay;
        }
    }
}

/* dpoints (N, K, 2) += basis (K, HW) . dgrid (N, HW, 2): per control point, a dot product over
 * the pixels (VF_WIDTH partial sums, then the tail). */
void gl_tps_grid_backward_serial(float *dpoints, const float *basis, const float *dgrid, int N, int HW, int K) {
    for (int n = 0; n < N; n++) {
        const float *dg = dgrid + (size_t)n * HW * 2;
        float *dp = dpoints + (size_t)n * K * 2;
        for (int k = 0; k < K; k++) {
            const float *b = basis + (size_t)k * HW;
            float sx = 0.0f, sy = 0.0f;
            int p = 0;
#if VF_WIDTH > 1
            vf ax = VF_SET1(0.0f), ay = VF_SET1(0.0f);
            for (; p + VF_WIDTH <= HW; p += VF_WIDTH) {
                vf dx, dy;
                VF_DEINTERLEAVE2(dg + 2 * (size_t)p, dx, dy);
                vf bv = VF_LOAD(b + p);
                ax = VF_FMA(bv, dx, ax);
                ay = VF_FMA(bv, dy, ay);
            }
            sx = VF_HSUM(ax);
            sy = VF_HSUM(ay);
#endif
            for (; p < HW; p++) {
                sx += b[p] * dg[2 * (size_t)p];
                sy += b[p] * dg[2 * (size_t)p + 1];
            }
            dp[2 * k] += sx;
            dp[2 * k + 1] += sy;
        }
    }
}

typedef struct {
    float *out;
    const float *in, *basis;
    int N, HW, K, ntasks, backward;
} tps_job;

static int tps_task(void *p, int t, int w) {
    (void)w;
    const tps_job *j = (const tps_job *)p;
    int lo, hi;
    gl_task_range(j->N, j->ntasks, t, &lo, &hi);
    if (hi <= lo) return GL_OK;
    if (j->backward)
        gl_tps_grid_backward_serial(j->out + (size_t)lo * j->K * 2, j->basis, j->in + (size_t)lo * j->HW * 2, hi - lo,
                                    j->HW, j->K);
    else
        gl_tps_grid_serial(j->out + (size_t)lo * j->HW * 2, j->basis, j->in + (size_t)lo * j->K * 2, hi - lo, j->HW,
                           j->K);
    return GL_OK;
}

static int tps_public(const char *fn, float *out, const float *in, int N, int H, int W, int gy, int gx, int align,
                      int backward) {
    int err = check_tps(fn, N, H, W, gy, gx);
    if (err) return err;
    if (!out || !in) return gl_fail(GL_EINVAL, "%s: null buffer", fn);
    float *basis = (float *)malloc(sizeof(float) * gl_tps_basis_floats(H, W, gy, gx));
    if (!basis) return gl_fail(GL_ENOMEM, "%s: out of memory for the %dx%d basis", fn, H * W, gy * gx);
    err = gl_tps_basis(basis, H, W, gy, gx, align);
    if (!err) {
        const int HW = H * W, K = gy * gx;
        tps_job j = {out, in, basis, N, HW, K, gl_pool_tasks(N, 4.0 * N * HW * K), backward};
        err = gl_parallel(j.ntasks, tps_task, &j);
    }
    free(basis);
    return err;
}

GL_API int gl_tps_grid(float *grid, const float *points, int N, int H, int W, int gy, int gx, int align) {
    return tps_public("tps grid", grid, points, N, H, W, gy, gx, align, 0);
}

GL_API int gl_tps_grid_backward(float *dpoints, const float *dgrid, int N, int H, int W, int gy, int gx, int align) {
    return tps_public("tps grid backward", dpoints, dgrid, N, H, W, gy, gx, align, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Oracles: the spline's coefficients (w; a) = X . points solved per image, then T(p) evaluated
 * directly, all in double; the backward as X^T b(p) contracted with dgrid, likewise. */

GL_TEST_API int gl_tps_grid_ref(float *grid, const float *points, int N, int H, int W, int gy, int gx, int align) {
    int err = check_tps("tps grid", N, H, W, gy, gx);
    if (err) return err;
    tps_system *s;
    if ((err = tps_system_solve(&s, gy, gx))) return err;
    const int K = gy * gx;
    double coef[(GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE + 3) * 2];
    for (int n = 0; n < N; n++) {
        const float *pt = points + (size_t)n * K * 2;
        for (int r = 0; r < K + 3; r++) {
            double cx = 0, cy = 0;
            for (int k = 0; k < K; k++) {
                cx += s->X[(size_t)r * K + k] * pt[2 * k];
                cy += s->X[(size_t)r * K + k] * pt[2 * k + 1];
            }
            coef[2 * r] = cx;
            coef[2 * r + 1] = cy;
        }
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                double x = gl_base_coord(j, W, align), y = gl_base_coord(i, H, align);
                double tx = coef[2 * K] + coef[2 * (K + 1)] * x + coef[2 * (K + 2)] * y;
                double ty = coef[2 * K + 1] + coef[2 * (K + 1) + 1] * x + coef[2 * (K + 2) + 1] * y;
                for (int k = 0; k < K; k++) {
                    double dx = x - s->cp[2 * k], dy = y - s->cp[2 * k + 1], u = tps_u(dx * dx + dy * dy);
                    tx += coef[2 * k] * u;
                    ty += coef[2 * k + 1] * u;
                }
                float *g = grid + (((size_t)n * H + i) * W + j) * 2;
                g[0] = (float)tx;
                g[1] = (float)ty;
            }
    }
    free(s);
    return GL_OK;
}

GL_TEST_API int gl_tps_grid_backward_ref(float *dpoints, const float *dgrid, int N, int H, int W, int gy, int gx,
                                         int align) {
    int err = check_tps("tps grid backward", N, H, W, gy, gx);
    if (err) return err;
    tps_system *s;
    if ((err = tps_system_solve(&s, gy, gx))) return err;
    const int K = gy * gx;
    double row[GL_TPS_MAX_SIDE * GL_TPS_MAX_SIDE];
    double *acc = (double *)calloc((size_t)N * K * 2, sizeof(double));
    if (!acc) {
        free(s);
        return gl_fail(GL_ENOMEM, "tps grid backward: out of memory");
    }
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            tps_row(row, s, K, gl_base_coord(j, W, align), gl_base_coord(i, H, align));
            for (int n = 0; n < N; n++) {
                const float *dg = dgrid + (((size_t)n * H + i) * W + j) * 2;
                for (int k = 0; k < K; k++) {
                    acc[((size_t)n * K + k) * 2] += row[k] * dg[0];
                    acc[((size_t)n * K + k) * 2 + 1] += row[k] * dg[1];
                }
            }
        }
    for (size_t q = 0; q < (size_t)N * K * 2; q++) dpoints[q] += (float)acc[q];
    free(acc);
    free(s);
    return GL_OK;
}
