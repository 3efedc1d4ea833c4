/* stats.h - the summary statistics the measurements and benchmarks report
 * (prefix stats_), computed with GSL.
 */
#ifndef LM_STATS_H
#define LM_STATS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Median of the finite values of x[0..n-1] (NAN if there are none).  x is
 * reordered: the finite values are moved to the front and sorted
 * (gsl_sort, gsl_stats_median_from_sorted_data). */
double stats_median(size_t n, double *x);

/* Mean and half-width of the two-sided 95% Student t interval,
 *     mean +- t_{0.975, n-1} s / sqrt(n),   s the sample standard deviation
 * (gsl_stats_sd, gsl_cdf_tdist_Pinv); half = NAN when n < 2. */
void stats_mean_ci(size_t n, const double *x, double *mean, double *half);

#ifdef __cplusplus
}
#endif

#endif
