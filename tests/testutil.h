/* testutil.h - small helpers shared by the Criterion test files. */
#ifndef LM_TESTUTIL_H
#define LM_TESTUTIL_H

#include <math.h>
#include <stddef.h>
#include "core/blas.h" /* CBLAS, LAPACKE and GSL together */

/* A seeded GSL generator (mt19937). */
static inline gsl_rng *tu_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

/* Fill x with N(0, 1) draws. */
static inline void tu_gauss(gsl_rng *r, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = gsl_ran_gaussian(r, 1.0);
}

/* max_i |a_i - b_i| */
static inline double tu_maxdiff(size_t n, const double *a, const double *b)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > d)
            d = fabs(a[i] - b[i]);
    return d;
}

/* C (m x n) = A (m x k) B (k x n), the plain triple loop: an independent
 * check on the BLAS products in the library. */
static inline void tu_matmul(int m, int k, int n, const double *A, const double *B, double *C)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int l = 0; l < k; l++)
                s += A[i * k + l] * B[l * n + j];
            C[i * n + j] = s;
        }
}

#endif
