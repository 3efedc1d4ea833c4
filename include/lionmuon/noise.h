/* noise.h - heavy-tailed gradient noise for the synthetic objectives
 * (prefix noise_).
 *
 * A stochastic gradient is G = grad f(W) + xi with xi drawn here.  The scalar
 * law z is one of
 *   gaussian   z ~ N(0, 1)                       every moment finite
 *   student-t  z ~ t(nu), nu > 1                 E|z|^k < inf iff k < nu
 *   stable     z ~ S(alpha, 0) symmetric, c = 1, alpha in (1, 2]
 *              (gsl_ran_levy; alpha = 2 is N(0, 2))  E|z|^k < inf iff k < alpha
 *                                                (all k when alpha = 2)
 *   pareto     z = X - a/(a-1), X ~ Pareto(a, 1), a > 1: centred, skewed
 *              (one heavy tail, to the right)    E|z|^k < inf iff k < a
 * and the structure decides which dual norm the noise is small in:
 *   entrywise  xi_ij = sigma z_ij                              (iid entries)
 *   low-rank   xi = sigma sqrt(mn / r) sum_{k<r} z_k u_k v_k^T, u_k, v_k
 *              uniform unit vectors                            (rank r)
 *   sparse     xi_ij = sigma z_ij / sqrt(d) on round(d m n) uniformly chosen
 *              positions, 0 elsewhere                          (density d)
 * The scalings make E||xi||_F^2 = sigma^2 m n Var(z) in every structure, so
 * sigma means the same thing across structures.  Every law has mean 0 (the
 * first three are symmetric, pareto is centred), so E[xi | past] = 0
 * (assumption A3 of theory/bounds.md).  A skewed law has a median != 0,
 * which is what a sign step sees: sign(g + xi) is then biased.
 *
 * A3 needs E||xi||_F^kappa < inf for some kappa in (1, 2]; this is why
 * noise_check rejects nu <= 1 and alpha outside (1, 2].
 */
#ifndef LM_NOISE_H
#define LM_NOISE_H

#include <gsl/gsl_rng.h>
#include "common.h"

typedef enum { NOISE_NONE = 0, NOISE_GAUSSIAN, NOISE_STUDENT_T, NOISE_STABLE, NOISE_PARETO } noise_dist;
typedef enum { NOISE_ENTRYWISE = 0, NOISE_LOWRANK, NOISE_SPARSE } noise_structure;

typedef struct {
    noise_dist dist;
    noise_structure structure;
    double sigma;   /* scale, >= 0 */
    double nu;      /* student-t degrees of freedom, > 1 */
    double alpha;   /* stable index, in (1, 2] */
    double pareto_a; /* pareto: tail index a > 1 */
    int rank;       /* low-rank: r >= 1 */
    double density; /* sparse: d in (0, 1] */
} noise_params;

/* sigma 1, nu 3, alpha 1.5, rank 1, density 0.05, entrywise gaussian. */
noise_params noise_default_params(void);

/* Names <-> enums: "none", "gaussian", "student-t", "stable", "pareto";
 * "entrywise", "low-rank", "sparse".  parse returns -1 on an unknown name. */
const char *noise_dist_name(noise_dist d);
int noise_dist_parse(const char *name, noise_dist *out);
const char *noise_structure_name(noise_structure s);
int noise_structure_parse(const char *name, noise_structure *out);

/* Range checks; the message names the flag (--nu, --alpha, --sigma, --rank,
 * --density). */
int noise_check(const noise_params *p, lm_error *e);

/* Tail index of the scalar law: nu (student-t), alpha (stable, alpha < 2),
 * a (pareto), INFINITY (gaussian, stable alpha = 2, none).  ||xi||_F has the same tail
 * index in every structure (a finite sum of variables with that tail). */
double noise_tail_index(const noise_params *p);

/* One draw of the unscaled scalar law z. */
double noise_scalar(const noise_params *p, gsl_rng *r);

/* xi (m x n) <- one noise draw.  scratch must hold m + n + m*n doubles
 * (used by low-rank and sparse). */
void noise_draw(const noise_params *p, int m, int n, gsl_rng *r, double *xi, double *scratch);

/* sigma_F(kappa) = (E||xi||_F^kappa)^{1/kappa} of one draw, computed, not
 * sampled, so that it is the same for every seed (theory/bounds.md,
 * "Measurement"): with S = ||xi||_F^2 and p = kappa/2,
 *   p = 1:  E S = (number of entries) c^2 sigma^2 E z^2 (INFINITY when the
 *           law has no variance);
 *   p < 1:  E S^p = p / Gamma(1 - p) int_0^inf (1 - E e^{-u S}) u^{-p-1} du,
 *           E e^{-u S} = phi(c^2 sigma^2 u)^K, phi(v) = E e^{-v z^2} (closed
 *           for gaussian; one GSL quadrature of the density for student-t
 *           and pareto; for stable phi(v) = E_g exp(-(2v)^{alpha/2} |g|^alpha),
 *           g ~ N(0, 1), since E cos(t z) = exp(-|t|^alpha)).
 * entrywise: K = m n, c = 1; sparse: K = round(d m n), c^2 = 1/d; low-rank
 * rank 1: S = sigma^2 m n z^2, closed-form moments of |z|; low-rank rank r > 1:
 * the cross terms (u_k.u_l)(v_k.v_l) = O(1/sqrt(mn)) are dropped, i.e.
 * S ~ sigma^2 (m n / r) sum_k z_k^2 (*exact = 0).  INFINITY when kappa is
 * not below the tail index; 0 for no noise.  exact may be NULL. */
double noise_sigma_F(const noise_params *p, int m, int n, double kappa, int *exact);

/* E|z|^q of the scalar law (q < tail index), closed form except pareto
 * (quadrature). */
double noise_abs_moment(const noise_params *p, double q);

#endif
