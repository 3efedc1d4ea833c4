/* noise.c - heavy-tailed noise laws and structures (see noise.h). */
#include "core/blas.h"
#include "lionmuon/noise.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>

noise_params noise_default_params(void)
{
    noise_params p;
    memset(&p, 0, sizeof p);
    p.dist = NOISE_GAUSSIAN;
    p.structure = NOISE_ENTRYWISE;
    p.sigma = 1.0;
    p.nu = 3.0;
    p.alpha = 1.5;
    p.pareto_a = 1.75;
    p.rank = 1;
    p.density = 0.05;
    return p;
}

static const char *DIST_NAMES[] = {"none", "gaussian", "student-t", "stable", "pareto"};
static const char *STRUCT_NAMES[] = {"entrywise", "low-rank", "sparse"};

const char *noise_dist_name(noise_dist d) { return DIST_NAMES[d]; }
const char *noise_structure_name(noise_structure s) { return STRUCT_NAMES[s]; }

int noise_dist_parse(const char *name, noise_dist *out)
{
    int i = lm_name_lookup(DIST_NAMES, 5, name);
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
    if (p->dist == NOISE_PARETO && !(p->pareto_a > 1 && isfinite(p->pareto_a)))
        return lm_fail(e, "--pareto-a: a centred Pareto law needs a mean, so its tail "
                          "index must be > 1 (got %g)", p->pareto_a);
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
    case NOISE_PARETO: return p->pareto_a;
    default: return INFINITY;
    }
}

double noise_scalar(const noise_params *p, gsl_rng *r)
{
    switch (p->dist) {
    case NOISE_GAUSSIAN: return gsl_ran_gaussian(r, 1.0);
    case NOISE_STUDENT_T: return gsl_ran_tdist(r, p->nu);
    case NOISE_STABLE: return gsl_ran_levy(r, 1.0, p->alpha);
    case NOISE_PARETO: return gsl_ran_pareto(r, p->pareto_a, 1.0) - p->pareto_a / (p->pareto_a - 1);
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

/* ---- analytic moments of ||xi||_F (noise_sigma_F) ---- */

/* f(x) on [lo, inf) by QAGIU, or on (-inf, inf) by QAGI when lo = -INFINITY. */
static double integrate(double (*f)(double, void *), void *ctx, double lo, double rel)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(2000);
    gsl_function F = {f, ctx};
    double r = NAN, err;
    int st = isinf(lo) ? gsl_integration_qagi(&F, 1e-13, rel, 2000, w, &r, &err)
                       : gsl_integration_qagiu(&F, lo, 1e-13, rel, 2000, w, &r, &err);
    gsl_integration_workspace_free(w);
    (void)st; /* a failed status still leaves GSL's best estimate */
    return r;
}

typedef struct {
    const noise_params *p;
    double v, q;
    double tc; /* student-t: the density's constant Gamma((nu+1)/2) / (sqrt(nu pi) Gamma(nu/2)) */
} mom_ctx;

static double pareto_abs_f(double x, void *vc)
{
    const mom_ctx *c = vc;
    double a = c->p->pareto_a, mu = a / (a - 1);
    return pow(fabs(x - mu), c->q) * a * pow(x, -a - 1);
}

static double abs_moment_raw(const noise_params *p, double q)
{
    if (!(q < noise_tail_index(p)))
        return INFINITY;
    double lg = gsl_sf_lngamma((q + 1) / 2) - 0.5 * log(M_PI);
    switch (p->dist) {
    case NOISE_GAUSSIAN: return exp(0.5 * q * M_LN2 + lg);
    case NOISE_STUDENT_T:
        return exp(0.5 * q * log(p->nu) + lg + gsl_sf_lngamma((p->nu - q) / 2) -
                   gsl_sf_lngamma(p->nu / 2));
    case NOISE_STABLE:
        if (p->alpha >= 2)
            return exp(q * M_LN2 + lg);
        return exp(q * M_LN2 + lg + gsl_sf_lngamma(1 - q / p->alpha) - gsl_sf_lngamma(1 - q / 2));
    case NOISE_PARETO: { /* the kink at x = mean: [1, mean] by QAGS, the tail by QAGIU */
        mom_ctx c = {p, 0, q, 0};
        double a = p->pareto_a, mu = a / (a - 1), lo = NAN, err;
        gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
        gsl_function F = {pareto_abs_f, &c};
        gsl_integration_qags(&F, 1.0, mu, 1e-13, 1e-10, 200, w, &lo, &err);
        gsl_integration_workspace_free(w);
        return lo + integrate(pareto_abs_f, &c, mu, 1e-10);
    }
    case NOISE_NONE: break;
    }
    return 0;
}

/* Two locks, file-local (a named omp critical would be an exported symbol of
 * the shared library): GSL's error handler is global, so the quadratures run
 * one at a time with it off; the sigma_F cache is shared by the threads. */
static pthread_mutex_t compute_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

double noise_abs_moment(const noise_params *p, double q)
{
    pthread_mutex_lock(&compute_lock);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    double v = abs_moment_raw(p, q);
    gsl_set_error_handler(old);
    pthread_mutex_unlock(&compute_lock);
    return v;
}

/* psi(v) = E[1 - exp(-v z^2)] = 1 - phi(v): the integrands per law. */
static double psi_t(double z, void *vc)
{
    const mom_ctx *c = vc;
    double nu = c->p->nu;
    return -expm1(-c->v * z * z) * 2 * c->tc * exp(-(nu + 1) / 2 * log1p(z * z / nu));
}

static double psi_stable(double g, void *vc)
{
    const mom_ctx *c = vc;
    double a = c->p->alpha;
    return -expm1(-pow(2 * c->v, a / 2) * pow(g, a)) * 2 * gsl_ran_gaussian_pdf(g, 1.0);
}

static double psi_pareto(double x, void *vc)
{
    const mom_ctx *c = vc;
    double a = c->p->pareto_a, mu = a / (a - 1), d = x - mu;
    return -expm1(-c->v * d * d) * a * pow(x, -a - 1);
}

/* f over [a, b] by QAGS (NAN on failure). */
static double integrate_ab(double (*f)(double, void *), void *ctx, double a, double b)
{
    if (!(b > a))
        return 0;
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(500);
    gsl_function F = {f, ctx};
    double r = NAN, err;
    gsl_integration_qags(&F, a, b, 1e-14, 1e-8, 500, w, &r, &err);
    gsl_integration_workspace_free(w);
    return r; /* GSL's best estimate whatever the status */
}

/* f over [lo, inf), split at the kink k (when k > lo) and at lo + {1, 30}
 * times the two scales on which the integrand changes: 1 (the density) and
 * sc = 1/sqrt(v) (where exp(-v x^2) turns). */
static double integrate_split(double (*f)(double, void *), void *ctx, double lo, double k,
                              double sc)
{
    double pts[8];
    int np = 0;
    pts[np++] = lo;
    if (k - sc > lo)
        pts[np++] = k - sc; /* the dip of 1 - exp(-v (x - k)^2) on both sides */
    if (k > lo)
        pts[np++] = k;
    double base = pts[np - 1], s1 = fmin(1.0, sc), s2 = fmax(1.0, sc);
    double cand[4] = {base + s1, base + 30 * s1, base + s2, base + 30 * s2};
    for (int i = 0; i < 4; i++)
        if (cand[i] > pts[np - 1])
            pts[np++] = cand[i];
    double r = 0;
    for (int i = 0; i + 1 < np; i++)
        r += integrate_ab(f, ctx, pts[i], pts[i + 1]);
    return r + integrate(f, ctx, pts[np - 1], 1e-8);
}

static double noise_psi(const noise_params *p, double v)
{
    mom_ctx c = {p, v, 0, 0};
    if (p->dist == NOISE_STUDENT_T)
        c.tc = exp(gsl_sf_lngamma((p->nu + 1) / 2) - gsl_sf_lngamma(p->nu / 2)) /
               sqrt(p->nu * M_PI);
    switch (p->dist) {
    case NOISE_GAUSSIAN: return -expm1(-0.5 * log1p(2 * v));
    case NOISE_STUDENT_T: return integrate_split(psi_t, &c, 0.0, 0.0, 1 / sqrt(v));
    case NOISE_STABLE:
        if (p->alpha >= 2)
            return -expm1(-0.5 * log1p(4 * v)); /* N(0, 2) */
        return integrate_split(psi_stable, &c, 0.0, 0.0, 1 / sqrt(2 * v));
    case NOISE_PARETO:
        return integrate_split(psi_pareto, &c, 1.0, p->pareto_a / (p->pareto_a - 1), 1 / sqrt(v));
    case NOISE_NONE: break;
    }
    return 0;
}

typedef struct {
    const noise_params *p;
    double K, pw; /* entries in the sum, the power p = kappa/2 */
} outer_ctx;

/* (1 - phi(e^s)^K) e^{-p s}: the Laplace-transform integrand in s = log w. */
static double outer_f(double s, void *vc)
{
    const outer_ctx *c = vc;
    double psi = noise_psi(c->p, exp(s));
    if (!(psi > 0))
        return 0;
    double one_m = psi >= 1 ? 1.0 : -expm1(c->K * log1p(-psi));
    return one_m > 0 ? exp(log(one_m) - c->pw * s) : 0; /* e^{-p s} alone can overflow */
}

/* E[(sum_{k<K} z_k^2)^pw], 0 < pw <= 1. */
static double sum_sq_moment(const noise_params *p, double K, double pw)
{
    if (pw >= 1) {
        double m2 = abs_moment_raw(p, 2.0);
        return K * m2;
    }
    if (K == 1)
        return abs_moment_raw(p, 2 * pw);
    outer_ctx c = {p, K, pw};
    double integral = integrate(outer_f, &c, -INFINITY, 1e-7);
    return pw / gsl_sf_gamma(1 - pw) * integral;
}

static double sigma_F_compute(const noise_params *p, int m, int n, double kappa, int *exact)
{
    if (exact)
        *exact = 1;
    if (p->dist == NOISE_NONE || p->sigma == 0)
        return 0;
    if (!(kappa < noise_tail_index(p)) && !(kappa == 2 && isinf(noise_tail_index(p))))
        return INFINITY;
    double mn = (double)m * n, K = mn, c2 = 1;
    if (p->structure == NOISE_SPARSE) {
        K = fmax(1.0, round(p->density * mn));
        c2 = 1 / p->density;
    } else if (p->structure == NOISE_LOWRANK) {
        K = p->rank;
        c2 = mn / p->rank;
        if (exact && p->rank > 1)
            *exact = 0;
    }
    double pw = kappa / 2;
    double ES = pow(c2 * p->sigma * p->sigma, pw) * sum_sq_moment(p, K, pw);
    return pow(ES, 1 / kappa);
}

/* A cache of computed values (a check asks for the same law thousands of
 * times); the computation runs outside the critical sections. */
typedef struct {
    noise_params p;
    int m, n, exact;
    double kappa, val;
} sf_entry;
#define SF_CACHE 256
static sf_entry sf_cache[SF_CACHE];
static int sf_count;

static int sf_same(const sf_entry *c, const noise_params *p, int m, int n, double kappa)
{
    const noise_params *q = &c->p;
    return c->m == m && c->n == n && c->kappa == kappa && q->dist == p->dist &&
           q->structure == p->structure && q->sigma == p->sigma && q->nu == p->nu &&
           q->alpha == p->alpha && q->pareto_a == p->pareto_a && q->rank == p->rank &&
           q->density == p->density;
}

double noise_sigma_F(const noise_params *p, int m, int n, double kappa, int *exact)
{
    double val = NAN;
    int ex = 1, found = 0;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < sf_count && !found; i++)
        if (sf_same(&sf_cache[i], p, m, n, kappa)) {
            val = sf_cache[i].val;
            ex = sf_cache[i].exact;
            found = 1;
        }
    pthread_mutex_unlock(&cache_lock);
    /* GSL's error handler is global: the quadratures run with it off, one
     * computation at a time, so that no other thread restores it meanwhile */
    if (!found) {
        pthread_mutex_lock(&compute_lock);
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        val = sigma_F_compute(p, m, n, kappa, &ex);
        gsl_set_error_handler(old);
        pthread_mutex_unlock(&compute_lock);
        pthread_mutex_lock(&cache_lock);
        if (sf_count < SF_CACHE)
            sf_cache[sf_count++] = (sf_entry){*p, m, n, ex, kappa, val};
        pthread_mutex_unlock(&cache_lock);
    }
    if (exact)
        *exact = ex;
    return val;
}
