/* stats.c - median and t interval (stats.h). */
#include "lionmuon/stats.h"

#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

double stats_median(size_t n, double *x)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            x[k++] = x[i];
    if (k == 0)
        return NAN;
    gsl_sort(x, 1, k);
    return gsl_stats_median_from_sorted_data(x, 1, k);
}

void stats_mean_ci(size_t n, const double *x, double *mean, double *half)
{
    *mean = n ? gsl_stats_mean(x, 1, n) : NAN;
    if (n < 2) {
        *half = NAN;
        return;
    }
    double sd = gsl_stats_sd(x, 1, n);
    *half = gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sd / sqrt((double)n);
}
