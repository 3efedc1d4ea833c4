/* bounds.h - the LionMuon complexity bound as code (prefix bound_).
 * Derivation, assumptions and every constant: theory/bounds.md.
 *
 * Steps t = 0..T-1; step t is Muon (M) when P > 0 and t mod P == 0, else
 * Lion (L).  P = 0 stands for P = inf (never a Muon step).  eta_M is the
 * Muon step length in the spectral norm (lr_muon * 0.2 sqrt(max(m, n))),
 * eta_L the Lion step length in the max norm (lr_sign).
 *
 * Theorem (theory/bounds.md, Thm 1): with n_M, n_L steps of each type and
 * H = n_M eta_M + n_L eta_L,
 *   (1/H) sum_t eta_t E||grad f(W_t)||_{tau(t)*}
 *     <= Delta/H + I + 2 b1 Lbar/(1 - b2)
 *        + 2 Sbar [ b1 2^{(2-k)/k} (1 - b2)^{(k-1)/k} + (1 - b1) ]
 *        + (n_M L_M eta_M^2 + n_L L_L eta_L^2) / (2 H)
 *   I    = (2 b1 / H) sum_t eta_t b2^t ||grad f(W_0)||_{tau(t)*}
 *   Lbar = (n_M eta_M L_M A_2 + n_L eta_L L_L A_inf) / H
 *   Sbar = sigma_F (n_M eta_M rho_N + n_L eta_L rho_1) / H
 * with two versions of the step lengths A:
 *   BOUND_STATEMENT  A_2 = max(eta_M, alpha eta_L), A_inf = max(eta_L, gamma eta_M)
 *                    (theory/statement.md §4)
 *   BOUND_REFINED    the b2-discounted averages of the lengths of the steps
 *                    that actually precede a step of each type (Lemma 3):
 *     A_2   = alpha eta_L - (alpha eta_L - eta_M) (1-b2) b2^{P-1} / (1 - b2^P)
 *     A_inf = eta_L - (eta_L - gamma eta_M) (1 - b2^{P-1}) / ((P-1)(1 - b2^P))
 *     (P = 1: A_2 = eta_M; P = inf: A_inf = eta_L; b2 -> 1: plain averages)
 *   A_inf is the mean over the P - 1 Lion steps of a period: the step right
 *   after a Muon step carries more (theory/bounds.md, Lemma 3), so the bound
 *   holds per step only with the per-phase lengths (bound_phase_length) and
 *   for whole periods with the mean; bound_rhs sums the per-phase lengths,
 *   which is exact also when T is not a multiple of P.
 *
 * Common currency (theory/bounds.md, Cor. 1): with r = g_ratio, a lower
 * bound on ||grad f(W_t)||_1 / ||grad f(W_t)||_N over the Lion steps (always
 * >= 1), H_cc = n_M eta_M + r n_L eta_L and
 *   (1/H_cc) sum_t eta_t r_t ||grad f(W_t)||_N <= (H / H_cc) (right side of Thm 1)
 * (r_t = 1 on Muon steps, r on Lion steps): one target, ||g||_N, in which a
 * sign step of length eta_L is credited with r eta_L of progress.
 */
#ifndef LM_BOUNDS_H
#define LM_BOUNDS_H

#include "common.h"

#define BOUND_MAX_KAPPA 16

typedef struct {
    double L_M, L_L;       /* A2: smoothness, nuclear/spectral and l1/max pairings */
    double alpha, gamma;   /* sup ||sign(C_t)||_2, sup ||msign(C_t)||_inf */
    double sigma_F, kappa; /* A3: E||xi||_F^kappa <= sigma_F^kappa, kappa in (1, 2] */
    double rho_N, rho_1;   /* A4: ||Z||_N <= rho_N ||Z||_F, ||Z||_1 <= rho_1 ||Z||_F */
    double Delta;          /* A1: f(W_0) - inf f */
    double g0_N, g0_1;     /* ||grad f(W_0)||_N, ||grad f(W_0)||_1 */
    double g_ratio;        /* common currency: min ||g_t||_1 / ||g_t||_N (>= 1; 0: unknown) */
    /* Optional: sigma_F as a function of kappa (nkappa > 0): the tuned bound
     * is then minimised over kappa as well (A3 holds for every kappa below
     * the tail index, each with its own sigma_F(kappa)). */
    int nkappa;
    double kappa_tab[BOUND_MAX_KAPPA], sigma_tab[BOUND_MAX_KAPPA];
} bound_constants;

/* Which target the bound is stated for: the theorem's mixed left side
 * (each step's own dual norm) or the common currency ||g||_N (Cor. 1). */
typedef enum { BOUND_MIXED = 0, BOUND_COMMON } bound_currency;

typedef enum { BOUND_REFINED = 0, BOUND_STATEMENT } bound_variant;
const char *bound_variant_name(bound_variant v);
int bound_variant_parse(const char *name, bound_variant *out);

/* Check ranges (kappa in (1, 2], everything else finite and >= 0). */
int bound_constants_check(const bound_constants *k, lm_error *e);

/* n_M = ceil(T / P) (0 when P = 0), n_L = T - n_M. */
void bound_counts(long P, long T, long *n_M, long *n_L);

/* The effective step lengths A_2 (before a Muon step) and A_inf (before a
 * Lion step) of the variant (see the top of this file). */
void bound_step_lengths(const bound_constants *k, bound_variant v, long P, double eta_M,
                        double eta_L, double beta2, double *A_2, double *A_inf);

/* The steady-state b2-discounted length, in the norm of step t's own type,
 * of the steps before a step at phase j = t mod P, times (1 - b2): the
 * per-step drift factor, so that the drift part of E_t is at most
 * b1 L_tau bound_phase_length / (1 - b2) at every t (a transient only
 * removes terms).  Refined, 1 <= j < P (Lion steps):
 *   eta_L - (eta_L - gamma eta_M) (1 - b2) b2^{j-1} / (1 - b2^P);
 * j = 0 (Muon step): A_2.  Statement: A_2 or A_inf at every phase. */
double bound_phase_length(const bound_constants *k, bound_variant v, long P, long j,
                          double eta_M, double eta_L, double beta2);

/* The period-averaged constants Lbar(P) and Sbar(P) for T steps; Lbar is
 * the eta-weighted mean over the T steps of L_tau(t) bound_phase_length
 * (for whole periods: the formula at the top of this file). */
void bound_period_averages(const bound_constants *k, bound_variant v, long P, long T,
                           double eta_M, double eta_L, double beta2, double *Lbar,
                           double *Sbar);

/* The right-hand side of Thm 1, term by term. */
typedef struct {
    double delta, init, drift, noise, quad, total;
    double Lbar, Sbar, H;
    double H_cc, total_common; /* Cor. 1: H_cc and (H / H_cc) total (= total when g_ratio < 1) */
} bound_terms;
void bound_rhs(const bound_constants *k, bound_variant v, long P, long T, double eta_M,
               double eta_L, double beta1, double beta2, bound_terms *out);

/* Iterations to reach eps from the bound, tuned: beta1 = beta2 = 1 - q,
 * eta_M = eta, eta_L = theta eta with eta optimal in closed form, q and
 * theta minimised on log grids (q in [1e-30, 1], 601 points; theta in
 * [1e-4, 1e4], 81 points; theta is irrelevant for P = 1 and P = inf).
 * Steady-state fractions n_M/T = 1/P.  Returns INFINITY if no grid point
 * reaches eps.  The argmins are returned when the pointers are not NULL.
 * The mixed currency; minimises over kappa as well when k->nkappa > 0. */
double bound_tuned_T(const bound_constants *k, bound_variant v, long P, double eps,
                     double *q_opt, double *theta_opt, double *eta_opt);

/* The same with the currency and the argmins in one struct; minimises over
 * kappa too when k->nkappa > 0 (kappa, sigma_F: the chosen pair). */
typedef struct {
    double T, q, theta, eta, kappa, sigma_F;
} bound_tuned_point;
double bound_tuned(const bound_constants *k, bound_variant v, bound_currency c, long P,
                   double eps, bound_tuned_point *out);

/* The iterations to reach eps at given step sizes and beta1 = beta2 = beta
 * (steady-state fractions n_M/T = 1/P, the init term at its upper bound):
 *   T = (Delta/eta + 2 beta gmax/q) / (h (eps' - eta Lambda - 2 Sbar c(q)))
 * with eta = eta_M (eta_L when P = inf), theta = eta_L / eta_M, q = 1 - beta,
 * eps' = eps (mixed) or eps h_cc / h (common currency); INFINITY when the
 * denominator is not positive.  Uses k->kappa and k->sigma_F.  excess (may be
 * NULL) receives (eta Lambda + 2 Sbar c(q)) / eps', the floor over the
 * target: >= 1 exactly when T is INFINITY (an order on the points that do
 * not reach eps). */
double bound_T_at(const bound_constants *k, bound_variant v, bound_currency c, long P,
                  double eps, double eta_M, double eta_L, double beta, double *excess);

/* The closed form of Cor. 2 (theory/bounds.md) at a given theta:
 *   T = 16 Delta L' / (h eps^2) max(1, (4 c_k Sbar / eps)^{k/(k-1)}),
 *   h = 1/P + theta (1 - 1/P), L' = 2 lhat + lquad/2, c_k = 2^{(2-k)/k} + 1,
 *   lhat, lquad: Lbar / eta and the quadratic-term weight in the b2 -> 1 limit;
 * ignores the initial-momentum term.  An upper bound on bound_tuned_T's
 * objective at that theta up to that term. */
double bound_tuned_T_closed(const bound_constants *k, bound_variant v, long P, double eps,
                            double theta);

/* Cost of one iteration c(P) = c_grad + c_msign / P + c_sign (1 - 1/P)
 * (P = 0: c_grad + c_sign). */
double bound_cost_per_iter(long P, double c_grad, double c_msign, double c_sign);

/* The candidate periods {1, 2, 3, 4, 5, 8, 10, 20, 50, 100, inf (0)}. */
#define BOUND_NPERIODS 11
extern const long bound_periods[BOUND_NPERIODS];

#endif
