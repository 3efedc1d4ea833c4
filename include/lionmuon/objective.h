/* objective.h - synthetic objectives on one matrix W (m x n) that separate
 * the spectral and the sign geometry (prefix obj_).  Derivations of every
 * constant: theory/bounds.md, section "Objectives".
 *
 *   separable  f = 1/2 sum_ij h_ij (W - W*)_ij^2,  h_ij = h_scale Pareto(h_tail)
 *              grad = H o (W - W*)                     (favours sign steps)
 *   kronecker  f = 1/2 tr((W - W*)^T A (W - W*) B),  A = Ua diag(a) Ua^T,
 *              B = Ub diag(b) Ub^T, Ua, Ub Haar orthogonal (QR of a Gaussian
 *              matrix), a_i = kron_scale cond_a^{-i/(m-1)}, b_j = cond_b^{-j/(n-1)}
 *              grad = A (W - W*) B                     (favours spectral steps)
 *   mix        f = lambda f_sep + (1 - lambda) f_kron
 *   geometry   f = lambda/2 ||W - S||_F^2 + (1 - lambda)/2 ||W - K||_F^2: a
 *              separable quadratic with flat weights and a flat random-sign
 *              target S (S_ij = +-1) against an isotropic Kronecker quadratic
 *              (A = B = I) with a Haar-orthogonal target K = sqrt(max(m, n)) Q
 *              (Q with orthonormal rows or columns, so K's entries have RMS 1
 *              and all its singular values equal).  grad = W - W*, W* =
 *              lambda S + (1 - lambda) K, inf f = lambda (1 - lambda)/2
 *              ||S - K||_F^2.  At lambda = 1 sign(W* - W0) is the exact
 *              direction to the minimum, at lambda = 0 msign(W* - W0) is:
 *              the knob that separates the geometries (check V6).
 *   zipf       f = sum_{i<N} p_i phi(a_i^T W b_i - y_i), p_i = i^{-s} / Z (Zipf),
 *              phi(r) = (c^2/2) log(1 + r^2/c^2) (Cauchy loss, nonconvex),
 *              y_i = a_i^T W* b_i, a_i ~ N(0, I_m / m), b_i ~ N(0, I_n / n).
 *              Its stochastic gradient samples a mini-batch of B examples
 *              uniformly and weights example i by N p_i (unbiased):
 *              g = (1/B) sum_b N p_{i_b} phi'(r_{i_b}) a_{i_b} b_{i_b}^T.
 *              The weight N p_I of a uniform I has P(N p_I > x) ~ x^{-1/s}, so
 *              the noise is heavy-tailed with index about 1/s (cut off at
 *              i = 1): it arises from the data rather than being injected.
 * Every objective but geometry has inf f = 0 (attained at W*); Delta =
 * f(W0) - inf f (obj_inf).
 * W0 = 0 and W* has N(0, 1) entries; all draws from one GSL mt19937 seeded
 * with params.seed.
 */
#ifndef LM_OBJECTIVE_H
#define LM_OBJECTIVE_H

#include <gsl/gsl_rng.h>
#include "common.h"

typedef enum { OBJ_SEPARABLE = 0, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF, OBJ_GEOMETRY } obj_kind;

typedef struct {
    obj_kind kind;
    int m, n;
    unsigned long seed;
    double h_tail, h_scale;   /* separable: h = h_scale * Pareto(h_tail, 1) */
    double cond_a, cond_b;    /* kronecker: condition numbers of A and B */
    double kron_scale;        /* kronecker: largest eigenvalue of A */
    double lambda;            /* mix, geometry: weight of the separable part */
    double zipf_s;            /* zipf: exponent s > 0 */
    int zipf_n;               /* zipf: number of examples N */
    int batch;                /* zipf: mini-batch size B */
    double cauchy_c;          /* zipf: scale c of the Cauchy loss */
} obj_params;

obj_params obj_default_params(obj_kind kind, int m, int n, unsigned long seed);
const char *obj_kind_name(obj_kind k);
int obj_kind_parse(const char *name, obj_kind *out);
/* Range checks naming the flag. */
int obj_check(const obj_params *p, lm_error *e);

typedef struct {
    obj_params p;
    int m, n;
    double *Wstar, *W0;       /* m x n */
    double *H;                /* m x n, separable weights (mix: unscaled by lambda) */
    double *A, *B;            /* m x m, n x n */
    double *a, *b;            /* eigenvalues of A, B, descending */
    double *Ua, *Ub;          /* eigenvectors (columns) */
    double *pz, *za, *zb;     /* zipf: weights p_i, vectors a_i (N x m), b_i (N x n) */
    double *D, *T;            /* scratch m x n */
    double finf;              /* inf f (geometry; 0 otherwise) */
} obj;

/* Build the objective (all random draws from params.seed).  NULL with a
 * message on bad parameters or a LAPACK failure. */
obj *obj_alloc(const obj_params *p, lm_error *e);
void obj_free(obj *o);

/* f(W) */
double obj_value(obj *o, const double *W);
/* G = grad f(W), exact */
void obj_grad(obj *o, const double *W, double *G);
/* 1 if the objective has its own sampling noise (zipf); then G is an
 * unbiased mini-batch gradient drawn with r. */
int obj_has_sampling_noise(const obj *o);
void obj_stoch_grad(obj *o, const double *W, gsl_rng *r, double *G);
/* inf f: lambda (1 - lambda)/2 ||S - K||_F^2 for geometry, 0 otherwise */
double obj_inf(const obj *o);
/* Delta = f(W0) - inf f */
double obj_delta(obj *o);

/* Smoothness in the two pairings (assumption A2):
 *   L_M = sup ||grad f(X) - grad f(Y)||_N / ||X - Y||_2
 *   L_L = sup ||grad f(X) - grad f(Y)||_1 / ||X - Y||_inf
 * hi is an upper bound, lo a value attained along the direction that
 * obj_smooth_direction returns; exact when hi == lo.
 *   separable  L_L = sum h_ij                       (exact, D = all ones)
 *              L_M = max-weight matching of H        (exact, D = its permutation)
 *   kronecker  L_M = sum_{k<min(m,n)} a_k b_k         (exact, D = Ua_r Ub_r^T)
 *              L_L <= ||A||_1 ||B||_1 (entrywise), lo from an alternating
 *              sign search (exact when A, B are entrywise nonnegative)
 *   mix        hi = lambda hi_sep + (1-lambda) hi_kron; lo along the better
 *              of the two directions
 *   geometry   L_M = min(m, n), L_L = m n (identity Hessian; exact, D = a
 *              partial identity and D = all ones)
 *   zipf       L_M <= sum p_i ||a_i||_2^2 ||b_i||_2^2, L_L <= sum p_i ||a_i||_1^2 ||b_i||_1^2
 *              (|phi''| <= 1); lo = 0 (no direction computed). */
typedef struct {
    double LM_hi, LM_lo, LL_hi, LL_lo;
} obj_smooth;
int obj_smoothness(obj *o, obj_smooth *s, lm_error *e);

/* The direction D (m x n) along which the pairing's lo is attained:
 * pairing 'M' (nuclear / spectral) or 'L' (l1 / max).  For quadratics the
 * ratio ||grad(W + D) - grad(W)||_* / ||D|| is then exactly lo. */
int obj_smooth_direction(obj *o, char pairing, double *D, lm_error *e);

/* FLOPs of one exact gradient (the c_grad of the compute model). */
double obj_grad_flops(const obj *o);

/* Maximum-weight matching of a nonnegative m x n weight matrix (Hungarian
 * algorithm, O(min^2 max)); perm[i] (i < m) receives the matched column of
 * row i or -1.  Returns the matched weight. */
double obj_max_matching(int m, int n, const double *Wt, int *perm);

#endif
