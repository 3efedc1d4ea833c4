/* linalg.h - matrix norms and small dense helpers (prefix la_).
 *
 * Matrices are row-major m x n arrays of doubles, element (i, j) at
 * X[i * n + j] -- the layout of a C array, of numpy, and of a PyTorch
 * tensor's storage, so a safetensors buffer can be used as it is.
 * Every product goes through CBLAS (OpenBLAS) and every factorisation
 * through LAPACKE.
 */
#ifndef LM_LINALG_H
#define LM_LINALG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ||X||_F = sqrt(sum_ij X_ij^2)                      (cblas_dnrm2) */
double la_norm_fro(int m, int n, const double *X);
/* ||X||_1 = sum_ij |X_ij|, the entrywise l1 norm     (cblas_dasum) */
double la_norm_l1(int m, int n, const double *X);
/* ||X||_inf = max_ij |X_ij|, the entrywise max norm  (cblas_idamax) */
double la_norm_linf(int m, int n, const double *X);
/* ||X||_2 = sigma_max(X), the spectral norm (LAPACK singular values) */
double la_norm_spectral(int m, int n, const double *X);
/* ||X||_N = sum_i sigma_i(X), the nuclear norm (LAPACK singular values) */
double la_norm_nuclear(int m, int n, const double *X);

/* The min(m, n) singular values of X in descending order, written to s.
 * X is not modified.  Uses LAPACKE_dgesdd with jobz = 'N'.  Returns 0, or -1
 * if LAPACK reports non-convergence (or X holds a non-finite value). */
int la_singular_values(int m, int n, const double *X, double *s);

/* Bundle of all five norms, sharing one SVD. */
typedef struct {
    double fro, l1, linf, spectral, nuclear;
} la_norms;
int la_norms_all(int m, int n, const double *X, la_norms *out);

/* Out-of-place transpose: T (n x m) = X^T for X (m x n). */
void la_transpose(int m, int n, const double *X, double *T);

/* Copy the upper triangle of a symmetric k x k matrix into its lower
 * triangle (dsyrk fills only one triangle). */
void la_symmetrize_upper(int k, double *A);

/* Estimate ||X||_2 by `iters` power iterations on X^T X from a fixed,
 * deterministic start vector; v (length n) and u (length m) are scratch.
 * Cheap (O(iters m n)) and never above the true value. */
double la_spectral_power(int m, int n, const double *X, int iters, double *u, double *v);

/* A Haar-random orthogonal n x n matrix Q (row-major): QR of a Gaussian
 * matrix (LAPACKE dgeqrf, dorgqr) with the signs of R's diagonal moved into
 * Q, which makes the distribution exactly Haar (Mezzadri 2007).  Draws from
 * the GSL generator r. */
int la_random_orthogonal(int n, void *gsl_rng, double *Q);

/* X (m x n) = U diag(s) V^T with Haar-random U (m x m) and V (n x n): a test
 * matrix with the prescribed singular values s[0..min(m,n)-1]. */
int la_random_with_spectrum(int m, int n, const double *s, void *gsl_rng, double *X);

/* Wall-clock seconds from a monotonic clock, for benchmarks. */
double la_seconds(void);

/* Best wall time of one C (m x n) = A (m x k) B (k x n) by cblas_dgemm, over
 * repetitions totalling at least min_seconds; the rate is 2 m n k / time. */
double la_time_dgemm(int m, int k, int n, double min_seconds);

#ifdef __cplusplus
}
#endif

#endif
