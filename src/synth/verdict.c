/* verdict.c - ranks, paired t-tests and Holm's adjustment (verdict.h). */
#include "lionmuon/verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "lionmuon/common.h"
#include "lionmuon/stats.h"

int vd_argmin(int n, const double *x)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] < x[b] || (isnan(x[b]) && !isnan(x[i])))
            b = i;
    return b;
}

/* Average ranks (1-based); NAN and +inf rank last, tied with each other. */
static void ranks(int n, const double *x, double *r)
{
    for (int i = 0; i < n; i++) {
        double xi = isnan(x[i]) ? INFINITY : x[i];
        double less = 0, same = 0;
        for (int j = 0; j < n; j++) {
            double xj = isnan(x[j]) ? INFINITY : x[j];
            less += xj < xi;
            same += xj == xi;
        }
        r[i] = less + (same + 1) / 2;
    }
}

double vd_spearman(int n, const double *a, const double *b)
{
    if (n < 2)
        return NAN;
    double *ra = lm_malloc((size_t)n * sizeof *ra), *rb = lm_malloc((size_t)n * sizeof *rb);
    ranks(n, a, ra);
    ranks(n, b, rb);
    double sa = gsl_stats_sd(ra, 1, (size_t)n), sb = gsl_stats_sd(rb, 1, (size_t)n);
    double r = sa > 0 && sb > 0 ? gsl_stats_correlation(ra, 1, rb, 1, (size_t)n) : NAN;
    free(ra);
    free(rb);
    return r;
}

double vd_spearman_p(int n, double rho)
{
    if (n < 3 || !isfinite(rho))
        return NAN;
    if (fabs(rho) >= 1)
        return 0;
    double t = rho * sqrt((n - 2) / (1 - rho * rho));
    return 2 * gsl_cdf_tdist_Q(fabs(t), n - 2);
}

void vd_paired(int n, const double *a, const double *b, double *mean, double *half, double *p,
               int *count)
{
    double *d = lm_malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i]))
            d[k++] = a[i] - b[i];
    *count = k;
    stats_mean_ci((size_t)k, d, mean, half);
    *p = NAN;
    if (k >= 2) {
        double sd = gsl_stats_sd(d, 1, (size_t)k);
        if (sd > 0)
            *p = 2 * gsl_cdf_tdist_Q(fabs(*mean) / (sd / sqrt((double)k)), k - 1);
        else
            *p = *mean == 0 ? 1.0 : 0.0;
    }
    free(d);
}

void vd_holm(int m, const double *p, double *adj)
{
    int *idx = lm_malloc((size_t)(m > 0 ? m : 1) * sizeof *idx), k = 0;
    for (int i = 0; i < m; i++) {
        adj[i] = NAN;
        if (!isnan(p[i]))
            idx[k++] = i;
    }
    for (int i = 1; i < k; i++) /* insertion sort of the indices by p */
        for (int j = i; j > 0 && p[idx[j]] < p[idx[j - 1]]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    double run = 0;
    for (int j = 0; j < k; j++) {
        double v = fmin(1.0, (k - j) * p[idx[j]]);
        run = fmax(run, v);
        adj[idx[j]] = run;
    }
    free(idx);
}
