/* noise.c - heavy-tailed noise laws and structures (see noise.h). */
#include "core/blas.h"
#include "lionmuon/noise.h"

#include <math.h>
#include <string.h>

noise_params noise_default_params(void)
{
    noise_params p;
    memset(&p, 0, sizeof p);
    p.dist = NOISE_GAUSSIAN;
    p.structure = NOISE_ENTRYWISE;
    p.sigma = 1.0;
    p.nu = 3.0;
    p.alpha = 1.5;
    p.rank = 1;
    p.density = 0.05;
    return p;
}

static const char *DIST_NAMES[] = {"none", "gaussian", "student-t", "stable"};
static const char *STRUCT_NAMES[] = {"entrywise", "low-rank", "sparse"};

const char *noise_dist_name(noise_dist d) { return DIST_NAMES[d]; }
const char *noise_structure_name(noise_structure s) { return STRUCT_NAMES[s]; }

int noise_dist_parse(const char *name, noise_dist *out)
{
    int i = lm_name_lookup(DIST_NAMES, 4, name);
    if (i < 0)
        return -1;
    *out = (noise_dist)i;
    return 0;
}

int noise_structure_parse(const char *name, noise_structure *out)
{
    int i = lm_name_lookup(STRUCT_NAMES, 3, name);
    if (i < 0)
        return -1;
    *out = (noise_structure)i;
    return 0;
}

int noise_check(const noise_params *p, lm_error *e)
{
    if (!(p->sigma >= 0) || !isfinite(p->sigma))
        return lm_fail(e, "--sigma: must be finite and >= 0 (got %g)", p->sigma);
    /* A3 needs a moment of order kappa > 1: t(nu) has E|z|^k < inf only for
     * k < nu, a symmetric stable law only for k < alpha. */
    if (p->dist == NOISE_STUDENT_T && !(p->nu > 1 && isfinite(p->nu)))
        return lm_fail(e, "--nu: student-t needs nu > 1 so that a moment of order "
                          "kappa in (1, 2] exists (got %g)", p->nu);
    if (p->dist == NOISE_STABLE && !(p->alpha > 1 && p->alpha <= 2))
        return lm_fail(e, "--alpha: a symmetric stable law has E|z|^kappa < inf only "
                          "for kappa < alpha; alpha must lie in (1, 2] (got %g)", p->alpha);
    if (p->structure == NOISE_LOWRANK && p->rank < 1)
        return lm_fail(e, "--rank: low-rank noise needs rank >= 1 (got %d)", p->rank);
    if (p->structure == NOISE_SPARSE && !(p->density > 0 && p->density <= 1))
        return lm_fail(e, "--density: sparse noise needs density in (0, 1] (got %g)",
                       p->density);
    return 0;
}

double noise_tail_index(const noise_params *p)
{
    switch (p->dist) {
    case NOISE_STUDENT_T: return p->nu;
    case NOISE_STABLE: return p->alpha < 2 ? p->alpha : INFINITY;
    default: return INFINITY;
    }
}

double noise_scalar(const noise_params *p, gsl_rng *r)
{
    switch (p->dist) {
    case NOISE_GAUSSIAN: return gsl_ran_gaussian(r, 1.0);
    case NOISE_STUDENT_T: return gsl_ran_tdist(r, p->nu);
    case NOISE_STABLE: return gsl_ran_levy(r, 1.0, p->alpha);
    case NOISE_NONE: break;
    }
    return 0.0;
}

/* A uniform unit vector in R^d: a Gaussian vector, normalised. */
static void unit_vector(gsl_rng *r, int d, double *u)
{
    double s = 0;
    for (int i = 0; i < d; i++) {
        u[i] = gsl_ran_gaussian(r, 1.0);
        s += u[i] * u[i];
    }
    s = s > 0 ? 1.0 / sqrt(s) : 0.0;
    for (int i = 0; i < d; i++)
        u[i] *= s;
}

/* xi = sigma sqrt(mn/r) sum_k z_k u_k v_k^T */
static void draw_lowrank(const noise_params *p, int m, int n, gsl_rng *r, double *xi,
                         double *scratch)
{
    double *u = scratch, *v = scratch + m;
    double c = p->sigma * sqrt((double)m * n / p->rank);
    memset(xi, 0, (size_t)m * n * sizeof *xi);
    for (int k = 0; k < p->rank; k++) {
        double z = c * noise_scalar(p, r);
        unit_vector(r, m, u);
        unit_vector(r, n, v);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                xi[i * n + j] += z * u[i] * v[j];
    }
}

/* round(d m n) positions chosen without replacement (a partial Fisher-Yates
 * shuffle of the indices, held as doubles in scratch), value sigma z / sqrt(d). */
static void draw_sparse(const noise_params *p, int m, int n, gsl_rng *r, double *xi,
                        double *scratch)
{
    size_t mn = (size_t)m * n;
    size_t k = (size_t)lround(p->density * (double)mn);
    if (k < 1)
        k = 1;
    double *idx = scratch + m + n;
    for (size_t i = 0; i < mn; i++)
        idx[i] = (double)i;
    memset(xi, 0, mn * sizeof *xi);
    double c = p->sigma / sqrt(p->density);
    for (size_t i = 0; i < k; i++) {
        size_t j = i + gsl_rng_uniform_int(r, mn - i);
        double t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        xi[(size_t)idx[i]] = c * noise_scalar(p, r);
    }
}

void noise_draw(const noise_params *p, int m, int n, gsl_rng *r, double *xi, double *scratch)
{
    size_t mn = (size_t)m * n;
    if (p->dist == NOISE_NONE || p->sigma == 0) {
        memset(xi, 0, mn * sizeof *xi);
        return;
    }
    switch (p->structure) {
    case NOISE_ENTRYWISE:
        for (size_t i = 0; i < mn; i++)
            xi[i] = p->sigma * noise_scalar(p, r);
        break;
    case NOISE_LOWRANK: draw_lowrank(p, m, n, r, xi, scratch); break;
    case NOISE_SPARSE: draw_sparse(p, m, n, r, xi, scratch); break;
    }
}
