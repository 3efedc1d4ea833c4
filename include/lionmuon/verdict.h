/* verdict.h - the statistics the verdicts of the theory checks and of the
 * paper report are computed with (prefix vd_), on GSL.
 *
 *   vd_argmin     index of the smallest value (NAN counts as +inf)
 *   vd_spearman   Spearman's rank correlation: Pearson's correlation of the
 *                 ranks, ties (and infinite values, ranked last) given their
 *                 average rank; NAN when either side is constant
 *   vd_paired     mean, 95% t half-width and two-sided t-test p-value of
 *                 the differences a_i - b_i over the pairs where both are
 *                 finite (gsl_cdf_tdist_Q)
 *   vd_spearman_p two-sided p-value of a Spearman correlation under
 *                 independence, t = rho sqrt((n-2)/(1-rho^2)) on n - 2 df
 *   vd_holm       Holm's step-down adjustment of m p-values (Holm 1979):
 *                 sort ascending, adj_(i) = max_{j<=i} min(1, (m - j) p_(j)),
 *                 written back in the original order; NAN p-values are left
 *                 out of the family and stay NAN
 */
#ifndef LM_VERDICT_H
#define LM_VERDICT_H

#include <stddef.h>

int vd_argmin(int n, const double *x);
double vd_spearman(int n, const double *a, const double *b);
double vd_spearman_p(int n, double rho);
void vd_paired(int n, const double *a, const double *b, double *mean, double *half, double *p,
               int *count);
void vd_holm(int m, const double *p, double *adj);

#endif
