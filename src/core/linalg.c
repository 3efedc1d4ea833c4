/* linalg.c - norms and small dense helpers over CBLAS and LAPACKE. */
#include "lionmuon/linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "lionmuon/common.h"

double la_norm_fro(int m, int n, const double *X)
{
    return cblas_dnrm2(m * n, X, 1);
}

double la_norm_l1(int m, int n, const double *X)
{
    return cblas_dasum(m * n, X, 1);
}

double la_norm_linf(int m, int n, const double *X)
{
    if (m * n == 0)
        return 0.0;
    return fabs(X[cblas_idamax(m * n, X, 1)]);
}

int la_singular_values(int m, int n, const double *X, double *s)
{
    int k = LM_MIN(m, n);
    if (k == 0)
        return 0;
    if (!lm_all_finite((size_t)m * n, X))
        return -1;
    /* A row-major m x n X is the column-major n x m matrix X^T, which has the
     * same singular values; calling LAPACK column-major on it avoids the
     * transposed copies LAPACKE's row-major path would make.  dgesdd
     * overwrites its input, so it works on a copy; jobz = 'N': values only. */
    double *A = lm_malloc((size_t)m * n * sizeof *A);
    memcpy(A, X, (size_t)m * n * sizeof *A);
    int *iwork = lm_malloc(8 * (size_t)k * sizeof *iwork);
    double wq;
    lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', n, m, A, n, s,
                                          NULL, 1, NULL, 1, &wq, -1, iwork);
    if (info == 0) {
        lapack_int lwork = (lapack_int)wq;
        double *work = lm_malloc((size_t)lwork * sizeof *work);
        info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', n, m, A, n, s,
                                   NULL, 1, NULL, 1, work, lwork, iwork);
        free(work);
    }
    free(iwork);
    free(A);
    return info == 0 ? 0 : -1;
}

static double sv_fold(int m, int n, const double *X, int nuclear)
{
    int k = LM_MIN(m, n);
    if (k == 0)
        return 0.0;
    double *s = lm_malloc((size_t)k * sizeof *s);
    double r = NAN;
    if (la_singular_values(m, n, X, s) == 0) {
        r = s[0];
        if (nuclear)
            for (int i = 1; i < k; i++)
                r += s[i];
    }
    free(s);
    return r;
}

double la_norm_spectral(int m, int n, const double *X)
{
    return sv_fold(m, n, X, 0);
}

double la_norm_nuclear(int m, int n, const double *X)
{
    return sv_fold(m, n, X, 1);
}

int la_norms_all(int m, int n, const double *X, la_norms *out)
{
    int k = LM_MIN(m, n);
    out->fro = la_norm_fro(m, n, X);
    out->l1 = la_norm_l1(m, n, X);
    out->linf = la_norm_linf(m, n, X);
    out->spectral = out->nuclear = 0.0;
    if (k == 0)
        return 0;
    double *s = lm_malloc((size_t)k * sizeof *s);
    int rc = la_singular_values(m, n, X, s);
    if (rc == 0) {
        out->spectral = s[0];
        for (int i = 0; i < k; i++)
            out->nuclear += s[i];
    } else {
        out->spectral = out->nuclear = NAN;
    }
    free(s);
    return rc;
}

void la_transpose(int m, int n, const double *X, double *T)
{
    /* Blocked so that both the reads and the writes stay in cache. */
    enum { BS = 32 };
    for (int i0 = 0; i0 < m; i0 += BS)
        for (int j0 = 0; j0 < n; j0 += BS) {
            int i1 = LM_MIN(i0 + BS, m), j1 = LM_MIN(j0 + BS, n);
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++)
                    T[(size_t)j * m + i] = X[(size_t)i * n + j];
        }
}

void la_symmetrize_upper(int k, double *A)
{
    for (int i = 1; i < k; i++)
        for (int j = 0; j < i; j++)
            A[(size_t)i * k + j] = A[(size_t)j * k + i];
}

double la_spectral_power(int m, int n, const double *X, int iters, double *u, double *v)
{
    /* v_{k+1} = X^T X v_k / ||X^T X v_k||; the estimate ||X v|| / ||v|| is a
     * Rayleigh-type lower bound on sigma_max.  The start vector is the
     * normalised all-ones vector plus a small deterministic ramp, so it is
     * never orthogonal to a generic top singular vector, and the estimate is
     * the same on every run. */
    if (m == 0 || n == 0)
        return 0.0;
    for (int j = 0; j < n; j++)
        v[j] = 1.0 + (double)j / n;
    double nv = cblas_dnrm2(n, v, 1);
    cblas_dscal(n, 1.0 / nv, v, 1);
    double est = 0.0;
    for (int it = 0; it < iters; it++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0, X, n, v, 1, 0.0, u, 1);
        est = cblas_dnrm2(m, u, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, m, n, 1.0, X, n, u, 1, 0.0, v, 1);
        nv = cblas_dnrm2(n, v, 1);
        if (nv == 0.0)
            return est;
        cblas_dscal(n, 1.0 / nv, v, 1);
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0, X, n, v, 1, 0.0, u, 1);
    double last = cblas_dnrm2(m, u, 1);
    return last > est ? last : est;
}

int la_random_orthogonal(int n, void *rng, double *Q)
{
    gsl_rng *r = rng;
    for (size_t i = 0; i < (size_t)n * n; i++)
        Q[i] = gsl_ran_gaussian(r, 1.0);
    double *tau = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *tau);
    double *d = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *d);
    int rc = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, n, n, Q, n, tau) == 0 ? 0 : -1;
    for (int i = 0; i < n; i++)
        d[i] = Q[(size_t)i * n + i] < 0 ? -1.0 : 1.0;
    if (rc == 0)
        rc = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, n, n, n, Q, n, tau) == 0 ? 0 : -1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            Q[(size_t)i * n + j] *= d[j];
    free(tau);
    free(d);
    return rc;
}

int la_random_with_spectrum(int m, int n, const double *s, void *rng, double *X)
{
    int k = LM_MIN(m, n);
    double *U = lm_malloc((size_t)m * m * sizeof *U);
    double *V = lm_malloc((size_t)n * n * sizeof *V);
    double *US = lm_calloc((size_t)m * k, sizeof *US);
    int rc = la_random_orthogonal(m, rng, U);
    if (rc == 0)
        rc = la_random_orthogonal(n, rng, V);
    /* X = U[:, :k] diag(s) V[:, :k]^T */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < k; j++)
            US[(size_t)i * k + j] = U[(size_t)i * m + j] * s[j];
    if (rc == 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0, US, k, V, n,
                    0.0, X, n);
    free(U);
    free(V);
    free(US);
    return rc;
}

double la_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double la_time_dgemm(int m, int k, int n, double min_seconds)
{
    double *A = lm_malloc((size_t)m * k * sizeof *A);
    double *B = lm_malloc((size_t)k * n * sizeof *B);
    double *C = lm_malloc((size_t)m * n * sizeof *C);
    for (size_t i = 0; i < (size_t)m * k; i++)
        A[i] = 1.0 / (1.0 + (double)(i % 17));
    for (size_t i = 0; i < (size_t)k * n; i++)
        B[i] = 1.0 / (1.0 + (double)(i % 13));
    double best = INFINITY, total = 0;
    int reps = 0;
    while (reps < 3 || (total < min_seconds && reps < 100000)) {
        double t0 = la_seconds();
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, A, k, B, n,
                    0.0, C, n);
        double dt = la_seconds() - t0;
        best = fmin(best, dt);
        total += dt;
        reps++;
    }
    free(A);
    free(B);
    free(C);
    return best;
}
