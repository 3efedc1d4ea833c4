/* msign.h - the matrix sign (polar factor) and its approximations (prefix msign_).
 *
 * For X (m x n) with thin SVD X = U S V^T, msign(X) = U V^T restricted to the
 * singular values above a rank tolerance, so msign(0) = 0 and a rank-deficient
 * X gives a partial isometry.  It is the linear minimisation oracle of the
 * spectral-norm ball: <X, msign(X)> = ||X||_N, ||msign(X)||_2 = 1.
 *
 * Methods (definitions in theory/algorithms.md §1, see msign.c for each formula):
 *   MSIGN_SVD            exact, LAPACKE_dgesdd
 *   MSIGN_NS5            Keller Jordan's quintic Newton-Schulz (Muon's default)
 *   MSIGN_CUBIC          Higham's cubic Newton-Schulz, iterated to a tolerance
 *   MSIGN_POLAR_EXPRESS  Amsel et al. 2025, the 5-step coefficient table
 *   MSIGN_QR_NEWTON      exact: Cholesky QR2, then a scaled Newton iteration on
 *                        the triangular factor (src/core/polar.c); the SVD
 *                        for condition numbers above 1e6
 */
#ifndef LM_MSIGN_H
#define LM_MSIGN_H

#include "common.h"
#include "lowprec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MSIGN_SVD = 0,
    MSIGN_NS5,
    MSIGN_CUBIC,
    MSIGN_POLAR_EXPRESS,
    MSIGN_QR_NEWTON
} msign_method;

typedef struct {
    msign_method method;
    int steps;        /* ns5 / polar-express: iterations (default 5);
                         cubic: maximum iterations (default 100) */
    double tol;       /* cubic: stop when ||X_{k+1} - X_k||_F <= tol ||X_{k+1}||_F
                         (default 1e-12) */
    double rank_rtol; /* svd: keep sigma_i > rank_rtol * sigma_max; a value
                         <= 0 means the default max(m, n) * DBL_EPSILON, the
                         tolerance numpy.linalg.matrix_rank uses.
                         cubic: singular values below about rank_rtol *
                         sigma_max are sent to zero (default 1e-10; see
                         msign.c), so rank-deficient input converges to the
                         partial isometry */
    lp_precision precision; /* ns5, polar-express, cubic: LP_F64 (the
                         default) is this reference in double; LP_F32,
                         LP_BF16, LP_F16 run the same iteration as a GPU
                         kernel in that format does (lowprec.h): the input
                         and the output of every product and of every
                         elementwise operation rounded to the format, the
                         products accumulated in float32.  The result is
                         a matrix of values of the format.  svd: only
                         LP_F64. */
} msign_opts;

/* The defaults: svd with the default rank tolerance, steps 5, tol 1e-12,
 * precision LP_F64. */
msign_opts msign_default_opts(msign_method method);

/* Name <-> method ("svd", "ns5", "cubic", "polar-express", "qr-newton").  parse returns -1
 * on an unknown name. */
const char *msign_method_name(msign_method m);
int msign_method_parse(const char *name, msign_method *out);

/* Preallocated workspace for every method on matrices of up to max_m x max_n
 * (in either orientation): after msign_ws_alloc, msign() allocates nothing. */
typedef struct msign_ws msign_ws;
msign_ws *msign_ws_alloc(int max_m, int max_n);
void msign_ws_free(msign_ws *ws);

typedef struct {
    int iterations; /* Newton-Schulz iterations run (0 for svd) */
    int rank;       /* svd: number of singular values kept; else -1 */
    double last_change; /* cubic: the final relative change; else 0 */
} msign_info;

/* out (m x n) = msign(G) by opts->method.  out may equal G.  info may be NULL.
 * Returns -1 (with a message) on a non-finite input, a matrix larger than
 * the workspace, LAPACK non-convergence, cubic not converging within its
 * iteration cap, or svd with a precision other than LP_F64.  In a low
 * precision, cubic stops once the relative change is at most
 * max(tol, 16 u) (u the format's unit roundoff), and a non-finite
 * intermediate (float16 overflow) is an error. */
int msign(const msign_opts *opts, int m, int n, const double *G, double *out,
          msign_ws *ws, msign_info *info, lm_error *e);

/* FLOPs of one msign by the paper's accounting for Newton-Schulz:
 * steps * 2 dmin^2 (2 dmax + dmin); for svd an approximate LAPACK count. */
double msign_flops(const msign_opts *opts, int m, int n);

/* Accuracy and cost of an approximate msign against the exact polar factor
 * `exact` (from MSIGN_SVD): errors in spectral norm and relative Frobenius
 * norm, the range of the approximation's singular values (the top `rank`
 * of them), and the best wall time over repeated runs (at least min_seconds
 * in total).  Used by the demo, the benchmarks and the experiments. */
typedef struct {
    double err_spectral; /* ||approx - exact||_2 */
    double err_fro_rel;  /* ||approx - exact||_F / ||exact||_F */
    double sv_min, sv_max;
    double seconds;
    int iterations;
} msign_accuracy;
int msign_measure(const msign_opts *opts, int m, int n, const double *G,
                  const double *exact, int rank, double min_seconds, msign_ws *ws,
                  msign_accuracy *acc, lm_error *e);

#ifdef __cplusplus
}
#endif

#endif
