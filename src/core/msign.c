/* msign.c - the polar factor msign(X) = U V^T, exactly and by Newton-Schulz.
 *
 * All four methods work on the "wide" orientation: an m x n input with
 * m > n is transposed to n x m first (msign(X^T) = msign(X)^T), so the Gram
 * matrix A = X X^T is the small min(m, n)^2 one, formed with dsyrk.  Every
 * product is a BLAS call; the workspace is allocated once by msign_ws_alloc.
 */
#include "lionmuon/msign.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "core/polar.h"

struct msign_ws {
    int kmax, dmax;        /* capacity: min(m, n) <= kmax, max(m, n) <= dmax */
    double *X, *Xn;        /* wide iterate and next iterate, kmax * dmax */
    double *A, *B;         /* Gram matrix and polynomial in it, kmax^2 */
    double *S, *U, *VT;    /* svd: values, left and right factors */
    double *work;          /* svd: dgesdd workspace */
    lapack_int lwork;
    lapack_int *iwork;
    float *fX, *fXn;       /* low precision (lowprec.h): iterates, kmax * dmax */
    float *fA, *fB;        /* low precision: Gram matrix and polynomial, kmax^2 */
};

/* Keller Jordan's quintic (Muon): X <- a X + (b A + c A^2) X, A = X X^T. */
static const double NS5_ABC[3] = {3.4445, -4.7750, 2.0315};

/* Polar Express (Amsel, Persson, Musco, Gower 2025, arXiv 2505.16932): the
 * widely used 5-step table; steps beyond the fifth reuse the last row. */
static const double PE_ABC[5][3] = {
    {8.156554524902461, -22.48329292557795, 15.878769915207462},
    {4.042929935166739, -2.808917465908714, 0.5000178451051316},
    {3.8916678022926607, -2.772484153217685, 0.5060648178503393},
    {3.285753657755655, -2.3681294933425376, 0.46449024233003106},
    {2.3465413258596377, -1.7097828382687081, 0.42323551169305323},
};

msign_opts msign_default_opts(msign_method method)
{
    msign_opts o;
    o.method = method;
    o.steps = method == MSIGN_CUBIC ? 100 : 5;
    o.tol = 1e-12;
    o.rank_rtol = 0.0;
    o.precision = LP_F64;
    return o;
}

static const char *METHOD_NAMES[] = {"svd", "ns5", "cubic", "polar-express", "qr-newton"};
#define N_METHODS ((int)(sizeof METHOD_NAMES / sizeof METHOD_NAMES[0]))

const char *msign_method_name(msign_method m)
{
    return (unsigned)m < (unsigned)N_METHODS ? METHOD_NAMES[m] : "?";
}

int msign_method_parse(const char *name, msign_method *out)
{
    int i = lm_name_lookup(METHOD_NAMES, N_METHODS, name);
    if (i < 0)
        return -1;
    *out = (msign_method)i;
    return 0;
}

/* dgesdd workspace size for a column-major rows x cols matrix, jobz = 'S'. */
static lapack_int svd_lwork(int rows, int cols)
{
    double wq = 0;
    int k = LM_MIN(rows, cols);
    lapack_int *iw = lm_malloc(8 * (size_t)LM_MAX(k, 1) * sizeof *iw);
    LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', rows, cols, NULL, rows, NULL,
                        NULL, rows, NULL, k, &wq, -1, iw);
    free(iw);
    return (lapack_int)wq;
}

msign_ws *msign_ws_alloc(int max_m, int max_n)
{
    msign_ws *ws = lm_calloc(1, sizeof *ws);
    ws->kmax = LM_MIN(max_m, max_n);
    ws->dmax = LM_MAX(max_m, max_n);
    size_t kd = (size_t)ws->kmax * ws->dmax, kk = (size_t)ws->kmax * ws->kmax;
    ws->X = lm_malloc(kd * sizeof(double));
    ws->Xn = lm_malloc(kd * sizeof(double));
    ws->A = lm_malloc(kk * sizeof(double));
    ws->B = lm_malloc(kk * sizeof(double));
    ws->S = lm_malloc((size_t)ws->kmax * sizeof(double));
    ws->U = lm_malloc(kd * sizeof(double));
    ws->VT = lm_malloc(kd * sizeof(double)); /* U and VT: one is k x k, the other k x dmax */
    ws->lwork = LM_MAX(svd_lwork(ws->dmax, ws->kmax), svd_lwork(ws->kmax, ws->dmax));
    ws->lwork = LM_MAX(ws->lwork, 1);
    ws->work = lm_malloc((size_t)ws->lwork * sizeof(double));
    ws->iwork = lm_malloc(8 * (size_t)LM_MAX(ws->kmax, 1) * sizeof(lapack_int));
    ws->fX = lm_malloc(LM_MAX(kd, 1) * sizeof(float));
    ws->fXn = lm_malloc(LM_MAX(kd, 1) * sizeof(float));
    ws->fA = lm_malloc(LM_MAX(kk, 1) * sizeof(float));
    ws->fB = lm_malloc(LM_MAX(kk, 1) * sizeof(float));
    return ws;
}

void msign_ws_free(msign_ws *ws)
{
    if (!ws)
        return;
    free(ws->X);
    free(ws->Xn);
    free(ws->A);
    free(ws->B);
    free(ws->S);
    free(ws->U);
    free(ws->VT);
    free(ws->work);
    free(ws->iwork);
    free(ws->fX);
    free(ws->fXn);
    free(ws->fA);
    free(ws->fB);
    free(ws);
}

/* Exact msign by SVD.  The row-major m x n G is the column-major n x m
 * matrix G^T = V S U^T, so dgesdd on it returns (in column-major) the
 * factors V (n x k) and U^T (k x m), and V[:, :r] U^T[:r, :] (column-major,
 * n x m) is, read row-major, the m x n matrix U V^T = msign(G).  Working
 * column-major this way spares LAPACKE's transposed copies. */
static int msign_svd(const msign_opts *o, int m, int n, const double *G, double *out,
                     msign_ws *ws, msign_info *info, lm_error *e)
{
    int k = LM_MIN(m, n);
    memcpy(ws->Xn, G, (size_t)m * n * sizeof(double));
    lapack_int rc = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', n, m, ws->Xn, n,
                                        ws->S, ws->U, n, ws->VT, k,
                                        ws->work, ws->lwork, ws->iwork);
    if (rc != 0)
        return lm_fail(e, "msign svd: LAPACK dgesdd failed (info %d) on a %d x %d matrix",
                       (int)rc, m, n);
    /* Rank tolerance: keep sigma_i > rtol sigma_max (default max(m, n) eps,
     * numpy.linalg.matrix_rank's choice): the directions below it are
     * rounding noise, and msign(0) = 0. */
    double rtol = o->rank_rtol > 0 ? o->rank_rtol : LM_MAX(m, n) * DBL_EPSILON;
    int r = 0;
    while (r < k && ws->S[r] > rtol * ws->S[0])
        r++;
    if (info)
        info->rank = r;
    if (r == 0) {
        memset(out, 0, (size_t)m * n * sizeof(double));
        return 0;
    }
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, m, r,
                1.0, ws->U, n, ws->VT, k, 0.0, out, n);
    return 0;
}

/* X (rows x cols, rows <= cols) <- a X + (b A + c A^2) X with A = X X^T:
 * one step of a quintic Newton-Schulz iteration.  The result is left in
 * ws->Xn; the caller swaps. */
static void quintic_step(int rows, int cols, double a, double b, double c, msign_ws *ws)
{
    double *X = ws->X, *Xn = ws->Xn, *A = ws->A, *B = ws->B;
    size_t kk = (size_t)rows * rows;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, cols, 1.0, X, cols, 0.0, A, rows);
    la_symmetrize_upper(rows, A);
    /* B = b A + c A A^T (A is symmetric, so A A^T = A^2): one more dsyrk. */
    memcpy(B, A, kk * sizeof(double));
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, rows, c, A, rows, b, B, rows);
    memcpy(Xn, X, (size_t)rows * cols * sizeof(double));
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, rows, cols, 1.0, B, rows, X, cols, a, Xn, cols);
}

/* X <- 1.5 X - 0.5 X X^T X, Higham's cubic Newton-Schulz step; result in ws->Xn. */
static void cubic_step(int rows, int cols, msign_ws *ws)
{
    double *X = ws->X, *Xn = ws->Xn, *A = ws->A;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, cols, 1.0, X, cols, 0.0, A, rows);
    memcpy(Xn, X, (size_t)rows * cols * sizeof(double));
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, rows, cols, -0.5, A, rows, X, cols, 1.5, Xn, cols);
}

static void swap_iterates(msign_ws *ws)
{
    double *t = ws->X;
    ws->X = ws->Xn;
    ws->Xn = t;
}

/* One cubic step in place; returns the relative change ||X' - X||_F / ||X'||_F. */
static double cubic_update(int rows, int cols, msign_ws *ws)
{
    int n = rows * cols;
    cubic_step(rows, cols, ws);
    cblas_daxpy(n, -1.0, ws->Xn, 1, ws->X, 1); /* X <- X - Xn */
    double change = cblas_dnrm2(n, ws->X, 1) / cblas_dnrm2(n, ws->Xn, 1);
    swap_iterates(ws);
    return change;
}

/* X <- X X^T X in place (every singular value cubed). */
static void cube_step(int rows, int cols, msign_ws *ws)
{
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, cols, 1.0, ws->X, cols, 0.0,
                ws->A, rows);
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, rows, cols, 1.0, ws->A, rows, ws->X, cols,
                0.0, ws->Xn, cols);
    swap_iterates(ws);
}

/* The Newton-Schulz family.  X0 = G / (scale ||G||_F + shift), in the wide
 * orientation; then `steps` polynomial steps; then back to m x n. */
static int msign_newton_schulz(const msign_opts *o, int m, int n, const double *G,
                               double *out, msign_ws *ws, msign_info *info, lm_error *e)
{
    int tall = m > n, rows = tall ? n : m, cols = tall ? m : n;
    size_t mn = (size_t)m * n;
    double fro = la_norm_fro(m, n, G), denom;
    switch (o->method) {
    case MSIGN_NS5: denom = fro + 1e-7; break;           /* Muon's normalisation */
    case MSIGN_POLAR_EXPRESS: denom = 1.02 * fro + 1e-6; break; /* the table's */
    default: denom = fro; break;   /* cubic: sigma_max <= 1 < sqrt 3 */
    }
    if (fro == 0.0) {
        memset(out, 0, mn * sizeof(double));
        return 0;
    }
    if (tall)
        la_transpose(m, n, G, ws->X);
    else
        memcpy(ws->X, G, mn * sizeof(double));
    cblas_dscal((int)mn, 1.0 / denom, ws->X, 1);

    int it = 0;
    if (o->method == MSIGN_NS5) {
        for (; it < o->steps; it++) {
            quintic_step(rows, cols, NS5_ABC[0], NS5_ABC[1], NS5_ABC[2], ws);
            swap_iterates(ws);
        }
    } else if (o->method == MSIGN_POLAR_EXPRESS) {
        for (; it < o->steps; it++) {
            const double *abc = PE_ABC[it < 5 ? it : 4];
            quintic_step(rows, cols, abc[0], abc[1], abc[2], ws);
            swap_iterates(ws);
        }
    } else {
        /* Cubic: quadratic convergence for every singular value in (0, sqrt 3),
         * stopping once the relative change ||X_{k+1} - X_k||_F / ||X_{k+1}||_F
         * falls to tol.  A small singular value s only grows by 1.5x a step
         * until it nears 1, and rounding puts ~eps-sized components in every
         * direction, so on a (numerically) rank-deficient matrix those would
         * grow too and never let the change settle.  Hence a rank cut-off:
         * K steps bring every s >= rtol sigma_max (sigma_max / ||G||_F >=
         * 1/sqrt(rows)) to 1; if the change is still above tol after K, the
         * rest is sub-threshold growth, which two steps of X <- X X^T X
         * (s -> s^9) send to zero while the converged s = 1 stay, and a few
         * more cubic steps restore full accuracy. */
        double rtol = o->rank_rtol > 0 ? o->rank_rtol : 1e-10;
        int K = (int)ceil(log(0.5 * sqrt((double)rows) / rtol) / log(1.5)) + 8;
        double change = INFINITY;
        while (it < o->steps && it < K && change > o->tol) {
            change = cubic_update(rows, cols, ws);
            it++;
        }
        if (change > o->tol && it < o->steps) {
            for (int j = 0; j < 2; j++)
                cube_step(rows, cols, ws);
            change = INFINITY;
            for (int j = 0; j < 6 && it < o->steps && change > o->tol; j++, it++)
                change = cubic_update(rows, cols, ws);
        }
        if (info)
            info->last_change = change;
        if (change > o->tol)
            return lm_fail(e, "msign cubic: no convergence in %d iterations on a %d x %d "
                              "matrix (relative change %.3g > tol %.3g)", it, m, n, change, o->tol);
    }
    if (info)
        info->iterations = it;
    if (tall)
        la_transpose(n, m, ws->X, out);
    else
        memcpy(out, ws->X, mn * sizeof(double));
    return 0;
}

/* ---- the same iterations in a low precision (lowprec.h) ----
 *
 * Written as PyTorch evaluates them on tensors of that dtype (and as
 * experiments/torch_verify/verify_golden.py writes them), every operation
 * rounded to the format p:
 *   X = p(G);  X = p(X / p(p(||X||_F) + shift))      (cubic: X / p(||X||_F))
 *   quintic:   A = p(X X^T);  B = p(p(b A) + p(c p(A A)));  X = p(p(a X) + p(B X))
 *   cubic:     X = p(p(1.5 X) - p(0.5 p(p(X X^T) X)))
 * Products accumulate in float32 (lp_gemm); elementwise operations compute
 * in float32 and round once, as torch's do. */

/* The quintic step in the format: X (rows x cols) in ws->fX, result in fX. */
static void quintic_step_lp(lp_precision p, int rows, int cols, float a, float b, float c,
                            msign_ws *ws)
{
    size_t kk = (size_t)rows * rows, kd = (size_t)rows * cols;
    float *X = ws->fX, *Xn = ws->fXn, *A = ws->fA, *B = ws->fB;
    lp_gemm(p, 0, 1, rows, rows, cols, X, cols, X, cols, A, rows);  /* A = X X^T */
    lp_gemm(p, 0, 0, rows, rows, rows, A, rows, A, rows, B, rows);  /* B = A A */
    for (size_t i = 0; i < kk; i++)
        B[i] = lp_roundf(p, lp_roundf(p, b * A[i]) + lp_roundf(p, c * B[i]));
    lp_gemm(p, 0, 0, rows, cols, rows, B, rows, X, cols, Xn, cols); /* Xn = B X */
    for (size_t i = 0; i < kd; i++)
        X[i] = lp_roundf(p, lp_roundf(p, a * X[i]) + Xn[i]);
}

/* The cubic step in the format; returns the relative change. */
static double cubic_step_lp(lp_precision p, int rows, int cols, msign_ws *ws)
{
    size_t kd = (size_t)rows * cols;
    float *X = ws->fX, *Xn = ws->fXn, *A = ws->fA;
    lp_gemm(p, 0, 1, rows, rows, cols, X, cols, X, cols, A, rows);
    lp_gemm(p, 0, 0, rows, cols, rows, A, rows, X, cols, Xn, cols);
    double dd = 0, nn = 0;
    for (size_t i = 0; i < kd; i++) {
        float x = lp_roundf(p, lp_roundf(p, 1.5f * X[i]) - lp_roundf(p, 0.5f * Xn[i]));
        dd += ((double)x - X[i]) * ((double)x - X[i]);
        nn += (double)x * x;
        X[i] = x;
    }
    return nn > 0 ? sqrt(dd / nn) : 0.0;
}

/* X0 = p(G) in the wide orientation, divided by its rounded norm. */
static void start_lp(const msign_opts *o, int m, int n, const double *G, msign_ws *ws)
{
    lp_precision p = o->precision;
    int tall = m > n;
    float *X = ws->fX;
    double ss = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float v = lp_roundf(p, (float)lp_round(p, G[(size_t)i * n + j]));
            X[tall ? (size_t)j * m + i : (size_t)i * n + j] = v;
            ss += (double)v * v;
        }
    float fro = lp_roundf(p, (float)sqrt(ss)), d;
    switch (o->method) {
    case MSIGN_NS5: d = lp_roundf(p, fro + 1e-7f); break;
    case MSIGN_POLAR_EXPRESS: d = lp_roundf(p, lp_roundf(p, 1.02f * fro) + 1e-6f); break;
    default: d = fro; break;
    }
    for (size_t i = 0; i < (size_t)m * n; i++)
        X[i] = lp_roundf(p, X[i] / d);
}

static int msign_lowprec(const msign_opts *o, int m, int n, const double *G, double *out,
                         msign_ws *ws, msign_info *info, lm_error *e)
{
    lp_precision p = o->precision;
    int tall = m > n, rows = tall ? n : m, cols = tall ? m : n, it = 0;
    if (la_norm_fro(m, n, G) == 0.0) {
        memset(out, 0, (size_t)m * n * sizeof(double));
        return 0;
    }
    start_lp(o, m, n, G, ws);
    if (o->method == MSIGN_CUBIC) {
        double change = INFINITY, stop = fmax(o->tol, 16 * lp_unit_roundoff(p));
        while (it < o->steps && change > stop) {
            change = cubic_step_lp(p, rows, cols, ws);
            it++;
        }
        if (info)
            info->last_change = change;
        if (change > stop)
            return lm_fail(e, "msign cubic (%s): no convergence in %d iterations on a %d x %d "
                              "matrix (relative change %.3g)", lp_name(p), it, m, n, change);
    } else {
        for (; it < o->steps; it++) {
            const double *abc = o->method == MSIGN_NS5 ? NS5_ABC : PE_ABC[it < 5 ? it : 4];
            quintic_step_lp(p, rows, cols, (float)abc[0], (float)abc[1], (float)abc[2], ws);
        }
    }
    if (info)
        info->iterations = it;
    const float *X = ws->fX;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            out[(size_t)i * n + j] = X[tall ? (size_t)j * m + i : (size_t)i * n + j];
    long bad = lm_first_nonfinite((size_t)m * n, out);
    if (bad >= 0)
        return lm_fail(e, "msign %s in %s: a non-finite value (overflow of the format) at "
                          "element %ld of a %d x %d matrix", msign_method_name(o->method),
                       lp_name(p), bad, m, n);
    return 0;
}

/* msign(c G) = msign(G) for c > 0.  Entries so large that the Frobenius
 * norm overflows (near 1.7e308), or so small that it underflows to a
 * subnormal or 0, are brought to a largest magnitude in [1, 2) by a power of
 * two -- exact but for entries below 2^-1074 of the largest, which are below
 * rounding anyway.  Returns the scaled copy (free it), or NULL when G is in
 * the usual range and is used as it is. */
static double *scale_to_unit(size_t mn, const double *G)
{
    double amax = 0;
    for (size_t i = 0; i < mn; i++)
        amax = fmax(amax, fabs(G[i]));
    if (!(amax > 0 && (amax > 0x1p500 || amax < 0x1p-500)))
        return NULL;
    int ex = ilogb(amax);
    double *scaled = lm_malloc(mn * sizeof *scaled);
    for (size_t i = 0; i < mn; i++)
        scaled[i] = ldexp(G[i], -ex);
    return scaled;
}

/* --precision applies to the iterative methods only. */
static int check_precision(const msign_opts *opts, lm_error *e)
{
    if (opts->precision == LP_F64)
        return 0;
    if ((unsigned)opts->precision >= LP_NPREC)
        return lm_fail(e, "msign: unknown precision %d", (int)opts->precision);
    if (opts->method == MSIGN_SVD || opts->method == MSIGN_QR_NEWTON)
        return lm_fail(e, "msign: --precision %s applies to the iterative methods "
                          "(ns5, polar-express, cubic), not %s", lp_name(opts->precision),
                       msign_method_name(opts->method));
    if ((unsigned)opts->method > MSIGN_POLAR_EXPRESS)
        return lm_fail(e, "msign: unknown method %d", (int)opts->method);
    return 0;
}

int msign(const msign_opts *opts, int m, int n, const double *G, double *out,
          msign_ws *ws, msign_info *info, lm_error *e)
{
    if (info) {
        info->iterations = 0;
        info->rank = -1;
        info->last_change = 0.0;
    }
    if (m < 0 || n < 0)
        return lm_fail(e, "msign: negative shape %d x %d", m, n);
    if (m == 0 || n == 0)
        return 0;
    if (LM_MIN(m, n) > ws->kmax || LM_MAX(m, n) > ws->dmax)
        return lm_fail(e, "msign: %d x %d matrix exceeds the workspace (%d x %d)",
                       m, n, ws->kmax, ws->dmax);
    long bad = lm_first_nonfinite((size_t)m * n, G);
    if (bad >= 0)
        return lm_fail(e, "msign: non-finite input at element %ld (row %ld, column %ld)",
                       bad, bad / n, bad % n);
    if (opts->steps < 1)
        return lm_fail(e, "msign: steps must be >= 1 (got %d)", opts->steps);
    if (check_precision(opts, e))
        return -1;
    size_t mn = (size_t)m * n;
    double *scaled = scale_to_unit(mn, G);
    if (scaled)
        G = scaled;
    int rc;
    switch (opts->precision != LP_F64 ? -1 : (int)opts->method) {
    case -1: /* the iterative methods in float32, bf16 or f16 arithmetic */
        rc = msign_lowprec(opts, m, n, G, out, ws, info, e);
        break;
    case MSIGN_SVD:
        rc = msign_svd(opts, m, n, G, out, ws, info, e);
        break;
    case MSIGN_NS5:
    case MSIGN_POLAR_EXPRESS:
    case MSIGN_CUBIC:
        rc = msign_newton_schulz(opts, m, n, G, out, ws, info, e);
        break;
    case MSIGN_QR_NEWTON: /* src/core/polar.c; 1: ill-conditioned, by SVD */
        rc = msign_qr_newton(m, n, G, out, ws->X, ws->A, ws->B, ws->U, ws->VT, ws->iwork, info);
        if (rc != 0)
            rc = msign_svd(opts, m, n, G, out, ws, info, e);
        break;
    default:
        rc = lm_fail(e, "msign: unknown method %d", (int)opts->method);
    }
    free(scaled);
    if (rc == 0 && (bad = lm_first_nonfinite(mn, out)) >= 0)
        rc = lm_fail(e, "msign: the result has a non-finite value at element %ld", bad);
    return rc;
}

double msign_flops(const msign_opts *opts, int m, int n)
{
    double lo = LM_MIN(m, n), hi = LM_MAX(m, n);
    switch (opts->method) {
    case MSIGN_NS5:
    case MSIGN_POLAR_EXPRESS:
        /* the paper's count: steps * 2 dmin^2 (2 dmax + dmin) */
        return opts->steps * 2.0 * lo * lo * (2.0 * hi + lo);
    case MSIGN_CUBIC:
        /* per step: the Gram matrix (2 dmin^2 dmax) and A X (2 dmin^2 dmax);
         * opts->steps is taken as the iteration count */
        return opts->steps * 4.0 * lo * lo * hi;
    case MSIGN_QR_NEWTON: /* opts->steps taken as the Newton step count */
        return msign_qr_newton_flops(m, n, opts->steps);
    case MSIGN_SVD:
        /* Golub-Van Loan's count for a thin SVD with both factors
         * (4 dmax dmin^2 + 22 dmin^3 for the R-bidiagonalisation route),
         * plus the 2 dmax dmin^2 of the final product. */
        return 6.0 * hi * lo * lo + 22.0 * lo * lo * lo;
    }
    return 0.0;
}

int msign_measure(const msign_opts *opts, int m, int n, const double *G,
                  const double *exact, int rank, double min_seconds, msign_ws *ws,
                  msign_accuracy *acc, lm_error *e)
{
    size_t mn = (size_t)m * n;
    int k = LM_MIN(m, n);
    double *A = lm_malloc(mn * sizeof *A);
    double *s = lm_malloc((size_t)LM_MAX(k, 1) * sizeof *s);
    msign_info info;
    double best = INFINITY, total = 0;
    int reps = 0, rc = 0;
    while (rc == 0 && (reps < 3 || (total < min_seconds && reps < 10000))) {
        double t0 = la_seconds();
        rc = msign(opts, m, n, G, A, ws, &info, e);
        double dt = la_seconds() - t0;
        best = fmin(best, dt);
        total += dt;
        reps++;
    }
    if (rc == 0) {
        acc->seconds = best;
        acc->iterations = info.iterations;
        if (la_singular_values(m, n, A, s) != 0) {
            rc = lm_fail(e, "msign_measure: SVD of the approximation failed");
        } else {
            int r = rank > 0 && rank <= k ? rank : k;
            acc->sv_max = s[0];
            acc->sv_min = s[r - 1];
            double nx = la_norm_fro(m, n, exact);
            cblas_daxpy((int)mn, -1.0, exact, 1, A, 1);
            acc->err_fro_rel = nx > 0 ? la_norm_fro(m, n, A) / nx : la_norm_fro(m, n, A);
            acc->err_spectral = la_norm_spectral(m, n, A);
        }
    }
    free(A);
    free(s);
    return rc;
}
