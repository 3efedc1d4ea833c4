/* polar.c - the exact polar factor msign(G) = U V^T at Newton-Schulz cost
 * (msign --method qr-newton).
 *
 * In the wide orientation (W = G or G^T, k x d with k <= d):
 *   1. Cholesky QR2 (Fukaya, Nakatsukasa, Yanagisawa, Yamamoto 2014): with
 *      A = W W^T = L L^T, Q1 = L^{-1} W; again with A2 = Q1 Q1^T = L2 L2^T,
 *      Q = L2^{-1} Q1 has rows orthonormal to working precision and
 *      W = (L L2) Q, both backward stable for cond(W) below about u^{-1/2}.
 *   2. msign(W) = msign(L L2) Q, since Q's rows are orthonormal.
 *   3. The k x k polar factor of R = L L2 by Newton's iteration
 *        X <- (z X + X^{-T} / z) / 2,    X0 = R,
 *      with Higham's Frobenius-norm scaling z = (||X^{-1}||_F/||X||_F)^{1/2}
 *      until the relative change falls below 1e-2, then unscaled; it stops
 *      when the change is below sqrt(2u), after which the quadratic
 *      convergence leaves an error of order u.  Higham, Functions of
 *      Matrices (2008), ch. 8; the scaled iteration with inverses from LU is
 *      backward stable in practice (Nakatsukasa and Higham 2012, SIMAX 33).
 *   4. out = (X L2^{-1}) Q1  (= X Q).
 * Cost for k x 4k: about 39 k^3 FLOPs with 6 Newton steps, against ns5's
 * 5 (3 k^2 d + k^3) = 65 k^3, all in level-3 BLAS and LAPACK.
 *
 * A matrix whose estimated condition number exceeds 1e6 (or whose Gram
 * matrix is not numerically positive definite) goes to the SVD instead:
 * there Cholesky QR would lose accuracy, and the SVD's rank tolerance
 * gives the partial isometry of a rank-deficient input.  Allocates nothing.
 */
#include "core/polar.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "lionmuon/linalg.h"

#define RCOND_MIN 1e-6
#define NEWTON_MAX 40

/* One Cholesky QR pass on the k x d row-major Y: L (lower, row-major) with
 * Y Y^T = L L^T left in A, and with `apply`, Y <- L^{-1} Y.  Returns -1 on a
 * breakdown. */
static int cholqr_pass(int k, int d, double *Y, double *A, int apply)
{
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, d, 1.0, Y, d, 0.0, A, k);
    /* the row-major lower triangle is the column-major upper one */
    if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', k, A, k) != 0)
        return -1;
    for (int i = 0; i < k; i++) /* clear the strict upper triangle (row-major) */
        memset(A + (size_t)i * k + i + 1, 0, (size_t)(k - i - 1) * sizeof(double));
    if (apply)
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, k, d, 1.0,
                    A, k, Y, d);
    return 0;
}

/* X <- (z X + X^{-T} / z) / 2 with Xi = X^{-1} (row-major); returns
 * ||X_new - X||_F. */
static double newton_combine(int k, double *X, const double *Xi, double z)
{
    double diff = 0, a = 0.5 * z, b = 0.5 / z;
    enum { NB = 32 };
    for (int i0 = 0; i0 < k; i0 += NB)
        for (int j0 = 0; j0 < k; j0 += NB)
            for (int i = i0; i < LM_MIN(k, i0 + NB); i++)
                for (int j = j0; j < LM_MIN(k, j0 + NB); j++) {
                    double *x = X + (size_t)i * k + j;
                    double nx = a * *x + b * Xi[(size_t)j * k + i];
                    diff += (nx - *x) * (nx - *x);
                    *x = nx;
                }
    return sqrt(diff);
}

/* The polar factor of the k x k X in place; Xi and work: k^2 each.
 * Returns the Newton steps taken, or -1 (singular or no convergence). */
static int newton_polar(int k, double *X, double *Xi, double *work, lapack_int *ipiv,
                        double *last)
{
    int scale = 1;
    size_t kk = (size_t)k * k;
    for (int it = 1; it <= NEWTON_MAX; it++) {
        memcpy(Xi, X, kk * sizeof(double));
        /* column-major view: Xi holds X^T; its inverse X^{-T} read
         * row-major is X^{-1} */
        if (LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, k, k, Xi, k, ipiv) != 0 ||
            LAPACKE_dgetri_work(LAPACK_COL_MAJOR, k, Xi, k, ipiv, work, (lapack_int)kk) != 0)
            return -1;
        double nx = cblas_dnrm2((int)kk, X, 1);
        double z = scale ? sqrt(cblas_dnrm2((int)kk, Xi, 1) / nx) : 1.0;
        if (!isfinite(z) || z <= 0)
            return -1;
        double change = newton_combine(k, X, Xi, z) / cblas_dnrm2((int)kk, X, 1);
        *last = change;
        if (change < 1e-2)
            scale = 0;
        if (change <= sqrt(2.0 * DBL_EPSILON))
            return it;
    }
    return -1;
}

int msign_qr_newton(int m, int n, const double *G, double *out, double *W, double *A,
                    double *B, double *C, double *D, lapack_int *ipiv, msign_info *info)
{
    int tall = m > n, k = tall ? n : m, d = tall ? m : n;
    size_t kk = (size_t)k * k;
    if (d < 3)
        return 1; /* C is then too small for dtrcon's 3k workspace */
    if (tall)
        la_transpose(m, n, G, W);
    else
        memcpy(W, G, (size_t)m * n * sizeof(double));
    /* scale to ||W||_F = 1: the Gram matrix then neither overflows nor
     * underflows, and msign does not see the scale */
    double fro = cblas_dnrm2(k * d, W, 1);
    if (!(fro > 0) || !isfinite(fro))
        return 1;
    cblas_dscal(k * d, 1.0 / fro, W, 1);
    /* pass 1, with a condition estimate of L (that of W) */
    if (cholqr_pass(k, d, W, A, 1) != 0)
        return 1;
    double rcond = 0;
    if (LAPACKE_dtrcon_work(LAPACK_COL_MAJOR, '1', 'U', 'N', k, A, k, &rcond, C, ipiv) != 0 ||
        rcond < RCOND_MIN)
        return 1;
    /* pass 2, its factor only: W = L Q1 = L L2 Q with Q = L2^{-1} Q1, which
     * step 4 applies to the k x k factor instead (k^3, not k^2 d) */
    if (cholqr_pass(k, d, W, B, 0) != 0)
        return 1;
    memcpy(D, B, kk * sizeof(double)); /* keep L2 */
    cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, k, k, 1.0, A,
                k, B, k); /* B = L L2 */
    double last = 0;
    int it = newton_polar(k, B, C, A, ipiv, &last);
    if (it < 0)
        return 1;
    /* out = (X L2^{-1}) Q1 */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, k, k, 1.0, D,
                k, B, k);
    double *dst = tall ? C : out;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, d, k, 1.0, B, k, W, d, 0.0, dst,
                d);
    if (tall)
        la_transpose(k, d, dst, out);
    if (info) {
        info->iterations = it;
        info->rank = k;
        info->last_change = last;
    }
    return 0;
}

double msign_qr_newton_flops(int m, int n, int iters)
{
    double k = LM_MIN(m, n), d = LM_MAX(m, n);
    double cholqr = k * k * d + k * k * k / 3 + k * k * d;
    return 2 * cholqr + k * k * k / 3 + iters * 2.0 * k * k * k + k * k * k + 2.0 * k * k * d;
}
