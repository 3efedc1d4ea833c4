/* api.c - the exported C API (include/lionmuon/api.h): version, the
 * thread-local error message, msign, the stable rank, comparison, and the
 * schedule.  Each entry point checks its arguments, calls the internal
 * routine of src/core, and turns an lm_error into the message that
 * lm_last_error() returns.  The optimizer is in api_optim.c, safetensors in
 * api_st.c. */
#include "api/api_internal.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "lionmuon/msign.h"
#include "lionmuon/optim.h"
#include "lionmuon/safetensors.h"

/* ---- errors ---- */

/* The one piece of mutable state outside a handle: the message of the last
 * failing call, per thread (a C API without it would need an out-parameter
 * on every call; errno is the model). */
static _Thread_local char api_msg[sizeof ((lm_error *)0)->msg];

void api_clear(void)
{
    api_msg[0] = '\0';
}

int api_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(api_msg, sizeof api_msg, fmt, ap);
    va_end(ap);
    return -1;
}

int api_from(const lm_error *e)
{
    snprintf(api_msg, sizeof api_msg, "%s", e->msg);
    return -1;
}

int api_shape2(const char *what, int64_t m, int64_t n, int *mi, int *ni)
{
    if (m < 0 || n < 0)
        return api_fail("%s: negative shape %lld x %lld", what, (long long)m, (long long)n);
    if (m > INT_MAX || n > INT_MAX || (n > 0 && m > INT_MAX / n))
        return api_fail("%s: shape %lld x %lld is too large (at most %d elements)", what,
                        (long long)m, (long long)n, INT_MAX);
    *mi = (int)m;
    *ni = (int)n;
    return 0;
}

int api_need(const void *p, int64_t count, const char *what)
{
    if (!p && count > 0)
        return api_fail("%s is NULL", what);
    return 0;
}

const char *lm_version(void)
{
    return LIONMUON_VERSION;
}

const char *lm_last_error(void)
{
    return api_msg;
}

/* ---- msign ---- */

/* The options of `lionmuon msign` onto msign_opts; 0 means the default. */
static int msign_options(const char *method, int steps, double tol, double rank_rtol,
                         msign_opts *o)
{
    msign_method mm;
    if (!method || msign_method_parse(method, &mm) != 0)
        return api_fail("msign: unknown method '%s' (svd, ns5, cubic, polar-express, qr-newton)",
                        method ? method : "(null)");
    if (steps < 0)
        return api_fail("msign: steps must be >= 1, or 0 for the default (got %d)", steps);
    if (!(tol >= 0) || !isfinite(tol))
        return api_fail("msign: tol must be > 0, or 0 for the default (got %g)", tol);
    if (!(rank_rtol >= 0) || !isfinite(rank_rtol))
        return api_fail("msign: rank_rtol must be >= 0 (got %g)", rank_rtol);
    *o = msign_default_opts(mm);
    if (steps > 0)
        o->steps = steps;
    if (tol > 0)
        o->tol = tol;
    o->rank_rtol = rank_rtol;
    return 0;
}

int lm_msign(const char *method, int64_t m, int64_t n, const double *in, double *out,
             int steps, double tol, double rank_rtol, lm_msign_info *info)
{
    api_clear();
    msign_opts o;
    int mi, ni;
    if (msign_options(method, steps, tol, rank_rtol, &o) || api_shape2("msign", m, n, &mi, &ni) ||
        api_need(in, m * n, "msign: in") || api_need(out, m * n, "msign: out"))
        return -1;
    msign_ws *ws = msign_ws_alloc(LM_MAX(LM_MIN(mi, ni), 1), LM_MAX(LM_MAX(mi, ni), 1));
    msign_info mi_info;
    lm_error e = {{0}};
    int rc = msign(&o, mi, ni, in, out, ws, &mi_info, &e);
    msign_ws_free(ws);
    if (rc != 0)
        return api_from(&e);
    if (info) {
        info->iterations = mi_info.iterations;
        info->rank = mi_info.rank;
        info->last_change = mi_info.last_change;
    }
    return 0;
}

/* ---- stable rank ---- */

int lm_stable_rank(int64_t m, int64_t n, const double *X, double *srank)
{
    api_clear();
    int mi, ni;
    if (api_shape2("stable_rank", m, n, &mi, &ni) || api_need(X, m * n, "stable_rank: X") ||
        api_need(srank, 1, "stable_rank: srank"))
        return -1;
    long bad = lm_first_nonfinite((size_t)m * (size_t)n, X);
    if (bad >= 0)
        return api_fail("stable_rank: non-finite input at element %ld", bad);
    *srank = 0.0;
    if (mi == 0 || ni == 0)
        return 0;
    int d = LM_MAX(mi, ni);
    double *u = lm_malloc((size_t)d * sizeof *u), *v = lm_malloc((size_t)d * sizeof *v);
    /* the arithmetic of optim.c's trigger, operation for operation */
    double s2 = la_spectral_power(mi, ni, X, 3, u, v);
    double f = la_norm_fro(mi, ni, X);
    *srank = s2 > 0 ? (f * f) / (s2 * s2) : 0.0;
    free(u);
    free(v);
    return 0;
}

/* ---- comparison ---- */

/* A Frobenius norm accumulated with scaling (LAPACK's dlassq), so that
 * large or tiny differences neither overflow nor underflow the sum. */
typedef struct {
    double scale, ssq;
    int inf;
} fro_acc;

static void fro_add(fro_acc *f, double x)
{
    x = fabs(x);
    if (x == 0)
        return;
    if (isinf(x)) {
        f->inf = 1;
    } else if (f->scale < x) {
        f->ssq = 1 + f->ssq * (f->scale / x) * (f->scale / x);
        f->scale = x;
    } else {
        f->ssq += (x / f->scale) * (x / f->scale);
    }
}

static double fro_value(const fro_acc *f)
{
    return f->inf ? INFINITY : f->scale * sqrt(f->ssq);
}

int api_numel(int ndim, const int64_t *shape, const char *what, int64_t *numel)
{
    if (ndim < 0 || ndim > ST_MAX_DIM)
        return api_fail("%s: rank %d outside 0..%d", what, ndim, ST_MAX_DIM);
    if (ndim > 0 && !shape)
        return api_fail("%s: rank %d but no shape", what, ndim);
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return api_fail("%s: negative dimension %lld", what, (long long)shape[d]);
        if (shape[d] > 0 && n > INT64_MAX / shape[d])
            return api_fail("%s: the shape's element count overflows", what);
        n *= shape[d];
    }
    *numel = n;
    return 0;
}

/* The comparison proper, over numel pairs (the rule in api.h). */
static void compare_values(int64_t numel, const double *a, const double *b, double rtol,
                           double atol, lm_compare_result *r)
{
    fro_acc dn = {0, 0, 0}, bn = {0, 0, 0};
    double worst = -1;
    int saw_nan = 0;
    for (int64_t k = 0; k < numel; k++) {
        double x = a[k], y = b[k];
        int nan = isnan(x) || isnan(y);
        double d = x == y ? 0 : fabs(x - y);
        double rel = x == y ? 0 : y != 0 ? d / fabs(y) : INFINITY;
        int ok = !nan && (x == y || d <= atol + rtol * fabs(y));
        if (nan && !saw_nan) {
            saw_nan = 1;
            r->worst_index = k;
        } else if (!saw_nan && d > worst) {
            worst = d;
            r->worst_index = k;
        }
        r->max_abs = fmax(r->max_abs, d);
        r->max_rel = fmax(r->max_rel, rel);
        fro_add(&dn, x == y ? 0 : x - y);
        fro_add(&bn, y);
        if (!ok && r->n_bad++ == 0)
            r->first_bad = k;
    }
    double nd = fro_value(&dn), nb = fro_value(&bn);
    r->rel_frobenius = nd == 0 ? 0 : nb == 0 ? INFINITY : nd / nb;
    if (saw_nan)
        r->max_abs = r->max_rel = r->rel_frobenius = NAN;
    r->passed = r->n_bad == 0;
}

int lm_compare(int ndim_a, const int64_t *shape_a, const double *a, int ndim_b,
               const int64_t *shape_b, const double *b, double rtol, double atol,
               lm_compare_result *r)
{
    api_clear();
    int64_t na, nb;
    if (api_need(r, 1, "compare: result") || api_numel(ndim_a, shape_a, "compare: a", &na) ||
        api_numel(ndim_b, shape_b, "compare: b", &nb))
        return -1;
    int same = ndim_a == ndim_b;
    for (int d = 0; same && d < ndim_a; d++)
        same = shape_a[d] == shape_b[d];
    if (!same)
        return api_fail("compare: shapes differ (rank %d, %lld elements against rank %d, "
                        "%lld elements)", ndim_a, (long long)na, ndim_b, (long long)nb);
    if (!(rtol >= 0) || !(atol >= 0))
        return api_fail("compare: rtol and atol must be >= 0 (got %g, %g)", rtol, atol);
    if (api_need(a, na, "compare: a") || api_need(b, nb, "compare: b"))
        return -1;
    memset(r, 0, sizeof *r);
    r->worst_index = r->first_bad = -1;
    compare_values(na, a, b, rtol, atol, r);
    return 0;
}

/* ---- schedule ---- */

double lm_lr_schedule(int64_t k, int64_t warmup, int64_t iterations)
{
    return opt_lr_schedule((long)k, (long)warmup, (long)iterations);
}
