/* measure.c - a run with every constant of the bound measured along it
 * (definitions in measure.h and theory/bounds.md). */
#include "core/blas.h"
#include "lionmuon/measure.h"
#include "lionmuon/linalg.h"
#include "lionmuon/msign.h"
#include "lionmuon/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

/* Scratch for one run: every buffer is m x n unless noted. */
typedef struct {
    double *W, *Wold, *M, *S, *g, *gnew, *G, *xi, *C, *U, *dif, *nscr;
    msign_ws *ms;
    opt_matrix_ws *ows;
} run_ws;

static void run_ws_alloc(run_ws *w, int m, int n)
{
    size_t mn = (size_t)m * n;
    double **bufs[] = {&w->W, &w->Wold, &w->M, &w->S, &w->g, &w->gnew,
                       &w->G, &w->xi, &w->C, &w->U, &w->dif};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        *bufs[i] = lm_calloc(mn, sizeof(double));
    w->nscr = lm_calloc(mn + m + n, sizeof(double));
    w->ms = msign_ws_alloc(m, n);
    w->ows = opt_matrix_ws_alloc(m, n);
}

static void run_ws_free(run_ws *w)
{
    double *bufs[] = {w->W, w->Wold, w->M, w->S, w->g, w->gnew,
                      w->G, w->xi, w->C, w->U, w->dif, w->nscr};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    msign_ws_free(w->ms);
    opt_matrix_ws_free(w->ows);
}

/* G = stochastic gradient at W and xi = G - grad f(W); g must hold grad f(W). */
static void draw_gradient(const meas_setup *s, gsl_rng *r, const double *W, const double *g,
                          run_ws *w)
{
    int m = s->o->m, n = s->o->n;
    size_t mn = (size_t)m * n;
    if (obj_has_sampling_noise(s->o)) {
        obj_stoch_grad(s->o, W, r, w->G);
        for (size_t i = 0; i < mn; i++)
            w->xi[i] = w->G[i] - g[i];
    } else {
        memset(w->xi, 0, mn * sizeof(double));
    }
    if (s->noise && s->noise->dist != NOISE_NONE) {
        noise_draw(s->noise, m, n, r, w->dif, w->nscr);
        for (size_t i = 0; i < mn; i++)
            w->xi[i] += w->dif[i];
    }
    for (size_t i = 0; i < mn; i++)
        w->G[i] = g[i] + w->xi[i];
}

static void push_sample(meas_trace *t, size_t *cap, double v)
{
    if (t->nsamp == *cap) {
        *cap = *cap ? 2 * *cap : 1024;
        double *p = realloc(t->xiF, *cap * sizeof(double));
        if (!p)
            abort();
        t->xiF = p;
    }
    t->xiF[t->nsamp++] = v;
}

/* The measurements that need C_t: E_t, alpha_t, gamma_t. */
static int measure_direction(const meas_setup *s, const meas_trace *t, run_ws *w,
                             meas_row *row, lm_error *e)
{
    int m = s->o->m, n = s->o->n;
    size_t mn = (size_t)m * n;
    double b1 = t->beta1, b2 = t->beta2;
    for (size_t i = 0; i < mn; i++) {
        w->C[i] = b1 * w->M[i] + (1 - b1) * w->G[i];
        w->dif[i] = w->g[i] - w->C[i];
    }
    row->EN = la_norm_nuclear(m, n, w->dif);
    row->E1 = la_norm_l1(m, n, w->dif);
    for (size_t i = 0; i < mn; i++)
        w->U[i] = (w->C[i] > 0) - (w->C[i] < 0);
    row->alpha = la_norm_spectral(m, n, w->U);
    msign_opts mo = msign_default_opts(MSIGN_SVD);
    if (msign(&mo, m, n, w->C, w->U, w->ms, NULL, e) != 0)
        return lm_wrap(e, "step %ld: msign of the direction", row->step);
    row->gamma = la_norm_linf(m, n, w->U);
    for (size_t i = 0; i < mn; i++)
        w->S[i] = b2 * w->S[i] + (1 - b2) * w->xi[i];
    row->xiN = la_norm_nuclear(m, n, w->xi);
    row->xi1 = la_norm_l1(m, n, w->xi);
    row->SF = la_norm_fro(m, n, w->S);
    row->SN = la_norm_nuclear(m, n, w->S);
    row->S1 = la_norm_l1(m, n, w->S);
    return 0;
}

/* The measurements of the move W_t -> W_{t+1}. */
static void measure_move(const meas_setup *s, run_ws *w, meas_row *row)
{
    int m = s->o->m, n = s->o->n;
    size_t mn = (size_t)m * n;
    for (size_t i = 0; i < mn; i++)
        w->dif[i] = w->W[i] - w->Wold[i];
    row->step2 = la_norm_spectral(m, n, w->dif);
    row->stepinf = la_norm_linf(m, n, w->dif);
    for (size_t i = 0; i < mn; i++)
        w->dif[i] = w->gnew[i] - w->g[i];
    row->dgN = la_norm_nuclear(m, n, w->dif);
    row->dg1 = la_norm_l1(m, n, w->dif);
    row->ratioN = row->step2 > 0 ? row->dgN / row->step2 : NAN;
    row->ratio1 = row->stepinf > 0 ? row->dg1 / row->stepinf : NAN;
}

static void extra_samples(const meas_setup *s, gsl_rng *r, run_ws *w, meas_trace *t,
                          size_t *cap)
{
    int m = s->o->m, n = s->o->n;
    memcpy(w->W, s->o->W0, (size_t)m * n * sizeof(double));
    obj_grad(s->o, w->W, w->g);
    for (long i = 0; i < s->extra_samples; i++) {
        draw_gradient(s, r, w->W, w->g, w);
        double F = la_norm_fro(m, n, w->xi);
        push_sample(t, cap, F);
        t->exF_sum += F;
        t->exN_sum += la_norm_nuclear(m, n, w->xi);
        t->ex1_sum += la_norm_l1(m, n, w->xi);
    }
}

/* The control of V5: momentum SGD, C = b1 M + (1-b1) G, W -= lr C. */
static void sgd_step(const meas_trace *t, int m, int n, run_ws *w)
{
    size_t mn = (size_t)m * n;
    for (size_t i = 0; i < mn; i++) {
        double C = t->beta1 * w->M[i] + (1 - t->beta1) * w->G[i];
        w->W[i] -= t->eta_L * C;
        w->M[i] = t->beta2 * w->M[i] + (1 - t->beta2) * w->G[i];
    }
}

/* The setup's fixed quantities into the trace. */
static void trace_init(const meas_setup *s, meas_trace *t, run_ws *w)
{
    int m = s->o->m, n = s->o->n;
    t->T = s->T;
    t->m = m;
    t->n = n;
    t->noise = s->noise ? *s->noise : noise_default_params();
    if (!s->noise)
        t->noise.dist = NOISE_NONE;
    t->sampling = obj_has_sampling_noise(s->o);
    t->finf = obj_inf(s->o);
    t->rows = lm_calloc((size_t)s->T, sizeof(meas_row));
    opt_effective(s->opt, &t->P, &t->beta1, &t->beta2);
    t->eta_M = s->opt->lr_muon * 0.2 * sqrt((double)LM_MAX(m, n));
    t->eta_L = s->opt->lr_sign;
    if (s->sgd) {
        t->P = 0;
        t->beta1 = s->opt->beta1;
        t->beta2 = s->opt->beta2;
        t->eta_M = 0;
    }
    memcpy(w->W, s->o->W0, (size_t)m * n * sizeof(double));
    obj_grad(s->o, w->W, w->g);
    t->Delta = obj_delta(s->o);
    t->g0_N = la_norm_nuclear(m, n, w->g);
    t->g0_1 = la_norm_l1(m, n, w->g);
}

/* Step k: the row at W_k, the draw, the step, the move.  Returns 1 when
 * the run ends here (early stop or a light run's divergence), -1 on error. */
static int run_step(const meas_setup *s, meas_trace *t, run_ws *w, gsl_rng *r, long k,
                    size_t *cap, lm_error *e)
{
    int m = s->o->m, n = s->o->n;
    size_t mn = (size_t)m * n;
    meas_row *row = &t->rows[k];
    row->step = k;
    row->f = obj_value(s->o, w->W);
    row->gN = s->light == 2 ? NAN : la_norm_nuclear(m, n, w->g);
    row->g1 = la_norm_l1(m, n, w->g);
    row->gF = la_norm_fro(m, n, w->g);
    if (s->stop && s->stop(t, k, s->stop_ctx))
        return 1;
    draw_gradient(s, r, w->W, w->g, w);
    if (!s->light) {
        row->xiF = la_norm_fro(m, n, w->xi);
        push_sample(t, cap, row->xiF);
        if (measure_direction(s, t, w, row, e) != 0)
            return -1;
    }
    memcpy(w->Wold, w->W, mn * sizeof(double));
    if (s->sgd) {
        sgd_step(t, m, n, w);
        row->muon = 0;
    } else if (opt_lionmuon_matrix(s->opt, k, 1.0, m, n, w->W, w->G, w->M, w->ows, &row->muon,
                                   e) != 0) {
        return lm_wrap(e, "step %ld", k);
    }
    obj_grad(s->o, w->W, w->gnew);
    if (!lm_all_finite(mn, w->W) || !lm_all_finite(mn, w->gnew)) {
        if (s->light) {
            t->diverged = 1;
            return 1;
        }
        return lm_fail(e, "step %ld: the iterate became non-finite (step size too large?)", k);
    }
    if (!s->light)
        measure_move(s, w, row);
    double *tmp = w->g;
    w->g = w->gnew;
    w->gnew = tmp;
    return 0;
}

/* The sums over the run (full runs) and the extra noise draws. */
static void trace_finish(const meas_setup *s, meas_trace *t, run_ws *w, gsl_rng *r,
                         size_t *cap)
{
    t->f_final = obj_value(s->o, w->W);
    for (long k = 0; k < t->T && !s->light; k++) {
        meas_row *row = &t->rows[k];
        t->xiF_sum += row->xiF;
        t->xiN_sum += row->xiN;
        t->xi1_sum += row->xi1;
        t->SF_sum += row->SF;
        t->SN_sum += row->SN;
        t->S1_sum += row->S1;
    }
    if (!s->light)
        extra_samples(s, r, w, t, cap);
}

int meas_run(const meas_setup *s, meas_trace *t, lm_error *e)
{
    memset(t, 0, sizeof *t);
    if (!s->sgd && (s->opt->kind == OPT_ADAMW || s->opt->kind == OPT_MUON_NESTEROV ||
                    s->opt->kind == OPT_SIGNMUON_SGD))
        return lm_fail(e, "--optimizer: %s is not of the LionMuon family that the bound "
                          "covers (lion, signum, muon, signmuon, lionmuon)",
                       opt_kind_name(s->opt->kind));
    if (s->T < 1)
        return lm_fail(e, "--steps: must be >= 1 (got %ld)", s->T);
    size_t cap = 0;
    run_ws w;
    run_ws_alloc(&w, s->o->m, s->o->n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, s->seed);
    trace_init(s, t, &w);
    int rc = 0;
    for (long k = 0; k < s->T && rc == 0; k++) {
        rc = run_step(s, t, &w, r, k, &cap, e);
        if (rc == 1)
            t->T = k + 1;
    }
    if (rc == 1)
        rc = 0;
    if (rc == 0)
        trace_finish(s, t, &w, r, &cap);
    gsl_rng_free(r);
    run_ws_free(&w);
    if (rc != 0)
        meas_trace_free(t);
    return rc;
}

void meas_trace_free(meas_trace *t)
{
    free(t->rows);
    free(t->xiF);
    t->rows = NULL;
    t->xiF = NULL;
}

void meas_quantiles(size_t n, const double *x, meas_quant *q)
{
    double *v = lm_malloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[k++] = x[i];
    q->count = (long)k;
    if (k == 0) {
        q->max = q->q50 = q->q90 = q->q99 = NAN;
    } else {
        gsl_sort(v, 1, k);
        q->max = v[k - 1];
        q->q50 = gsl_stats_quantile_from_sorted_data(v, 1, k, 0.5);
        q->q90 = gsl_stats_quantile_from_sorted_data(v, 1, k, 0.9);
        q->q99 = gsl_stats_quantile_from_sorted_data(v, 1, k, 0.99);
    }
    free(v);
}

size_t meas_hill_k(size_t n)
{
    size_t k = (size_t)lround(sqrt((double)n));
    if (k < 10)
        k = 10;
    if (k > n - 1)
        k = n - 1;
    return k;
}

double meas_hill(size_t n, const double *x, size_t k)
{
    if (n < 2 || k < 1 || k >= n)
        return NAN;
    double *v = lm_malloc(n * sizeof *v);
    memcpy(v, x, n * sizeof *v);
    gsl_sort(v, 1, n); /* ascending: the largest is v[n-1] */
    double ref = v[n - 1 - k], s = 0;
    for (size_t i = 0; i < k; i++)
        s += log(v[n - 1 - i] / ref);
    free(v);
    return ref > 0 && s > 0 ? k / s : NAN;
}

/* one column of the rows as an array */
static double *column(const meas_trace *t, size_t offset)
{
    double *v = lm_malloc((size_t)t->T * sizeof *v);
    for (long k = 0; k < t->T; k++)
        v[k] = *(const double *)((const char *)&t->rows[k] + offset);
    return v;
}

static void quant_of(const meas_trace *t, size_t offset, meas_quant *q)
{
    double *v = column(t, offset);
    meas_quantiles((size_t)t->T, v, q);
    free(v);
}

static double ratio_col(const meas_row *r, int which)
{
    return which == 0 ? r->xiN / r->xiF : r->xi1 / r->xiF;
}

/* The Hill estimates over k in [sqrt(n), n/5] (12 log-spaced k): their
 * range, and whether the relative spread stays within MEAS_HILL_SPREAD. */
static void hill_stability(size_t n, const double *x, meas_summary *s)
{
    s->hill_lo = s->hill_hi = NAN;
    s->hill_stable = -1;
    double k0 = sqrt((double)n), k1 = n / 5.0;
    if (n < 50 || k1 < k0 + 2)
        return;
    double h[12];
    for (int i = 0; i < 12; i++) {
        size_t k = (size_t)lround(k0 * pow(k1 / k0, i / 11.0));
        h[i] = meas_hill(n, x, k);
        s->hill_lo = i ? fmin(s->hill_lo, h[i]) : h[i];
        s->hill_hi = i ? fmax(s->hill_hi, h[i]) : h[i];
    }
    double med = stats_median(12, h);
    s->hill_stable = (s->hill_hi - s->hill_lo) / med <= MEAS_HILL_SPREAD;
}

/* (mean x^kappa)^{1/kappa} over the positive samples */
static double sample_sigma(size_t n, const double *x, double kappa)
{
    double mom = 0;
    for (size_t i = 0; i < n; i++)
        mom += pow(x[i], kappa);
    return n > 0 ? pow(mom / n, 1 / kappa) : 0;
}

/* sigma_F at kappa: from the law when the noise is injected alone, else
 * from the samples; *method as in meas_summary.sigma_method. */
static double sigma_at(const meas_trace *t, size_t n, const double *xs, double kappa,
                       int *method)
{
    int injected = t->noise.dist != NOISE_NONE && t->noise.sigma > 0;
    if (injected && !t->sampling) {
        int exact = 1;
        double v = noise_sigma_F(&t->noise, t->m, t->n, kappa, &exact);
        *method = exact ? 1 : 2;
        return v;
    }
    *method = 0;
    return sample_sigma(n, xs, kappa);
}

static double choose_kappa(double tail)
{
    if (!isfinite(tail) || tail >= 2.0 / 0.9)
        return 2.0;
    /* a tail index <= 1 (possible for the estimate) is clamped to 1.05 */
    return fmin(2.0, fmax(1.05, fmax((1 + tail) / 2, 0.9 * tail)));
}

/* sigma_F on 10 moment orders in (1, min(2, tail)) (1.1 .. 2 when tail > 2). */
static void kappa_table(const meas_trace *t, size_t n, const double *xs, double tail,
                        meas_summary *s)
{
    s->nkappa = 0;
    if (n == 0 && !(t->noise.dist != NOISE_NONE && !t->sampling))
        return;
    for (int j = 1; j <= 10; j++) {
        double k = isfinite(tail) && tail <= 2 ? 1 + (tail - 1) * j / 11.0 : 1 + 0.1 * j;
        if (!(k > 1 && k <= 2))
            continue;
        int method;
        double v = sigma_at(t, n, xs, k, &method);
        if (isfinite(v)) {
            s->kappa_tab[s->nkappa] = k;
            s->sigma_tab[s->nkappa++] = v;
        }
    }
}

/* The noise side of the summary: rho, Hill, kappa, sigma_F and its table. */
static int summarize_noise(const meas_trace *t, double kappa_override, double known_tail,
                           meas_summary *s, lm_error *e)
{
    double F = t->xiF_sum + t->exF_sum;
    s->rho_N_xi = F > 0 ? (t->xiN_sum + t->exN_sum) / F : 0;
    s->rho_1_xi = F > 0 ? (t->xi1_sum + t->ex1_sum) / F : 0;
    s->rho_N_S = t->SF_sum > 0 ? t->SN_sum / t->SF_sum : 0;
    s->rho_1_S = t->SF_sum > 0 ? t->S1_sum / t->SF_sum : 0;
    s->rho_N = fmax(s->rho_N_xi, s->rho_N_S);
    s->rho_1 = fmax(s->rho_1_xi, s->rho_1_S);
    size_t pos = 0;
    double *xs = lm_malloc((t->nsamp ? t->nsamp : 1) * sizeof *xs);
    for (size_t i = 0; i < t->nsamp; i++)
        if (t->xiF[i] > 0)
            xs[pos++] = t->xiF[i];
    s->hill_k = pos > 11 ? (long)meas_hill_k(pos) : 0;
    s->tail_index = pos > 11 ? meas_hill(pos, xs, (size_t)s->hill_k) : NAN;
    hill_stability(pos, xs, s);
    double tail = isfinite(known_tail) ? known_tail : s->tail_index;
    s->kappa = kappa_override > 0 ? kappa_override : pos == 0 ? 2.0 : choose_kappa(tail);
    if (!(s->kappa > 1 && s->kappa <= 2)) {
        free(xs);
        return lm_fail(e, "--kappa: no noise moment of order in (1, 2] (tail index %g)", tail);
    }
    s->sigma_F_sampled = sample_sigma(pos, xs, s->kappa);
    s->sigma_F = pos > 0 || t->noise.dist != NOISE_NONE
                     ? sigma_at(t, pos, xs, s->kappa, &s->sigma_method) : 0;
    kappa_table(t, pos, xs, tail, s);
    free(xs);
    return 0;
}

int meas_summarize(const meas_trace *t, double kappa_override, double known_tail,
                   meas_summary *s, lm_error *e)
{
    memset(s, 0, sizeof *s);
    quant_of(t, offsetof(meas_row, ratioN), &s->L_M);
    quant_of(t, offsetof(meas_row, ratio1), &s->L_L);
    quant_of(t, offsetof(meas_row, alpha), &s->alpha);
    quant_of(t, offsetof(meas_row, gamma), &s->gamma);
    double *rn = lm_malloc((size_t)t->T * sizeof *rn), *r1 = lm_malloc((size_t)t->T * sizeof *r1);
    for (long k = 0; k < t->T; k++) {
        rn[k] = t->rows[k].xiF > 0 ? ratio_col(&t->rows[k], 0) : NAN;
        r1[k] = t->rows[k].xiF > 0 ? ratio_col(&t->rows[k], 1) : NAN;
    }
    meas_quantiles((size_t)t->T, rn, &s->rhoN_pt);
    meas_quantiles((size_t)t->T, r1, &s->rho1_pt);
    free(rn);
    free(r1);
    if (summarize_noise(t, kappa_override, known_tail, s, e) != 0)
        return -1;
    s->lhs = meas_weighted_avg(t, t->T, 't');
    s->lhs_N = meas_weighted_avg(t, t->T, 'N');
    s->min_gN = INFINITY;
    s->g_ratio_min = INFINITY;
    for (long k = 0; k < t->T; k++) {
        s->min_gN = fmin(s->min_gN, t->rows[k].gN);
        if (t->rows[k].gN > 0)
            s->g_ratio_min = fmin(s->g_ratio_min, t->rows[k].g1 / t->rows[k].gN);
    }
    if (!isfinite(s->g_ratio_min))
        s->g_ratio_min = 1;
    return 0;
}

void meas_constants(const meas_trace *t, const meas_summary *s, bound_constants *k)
{
    memset(k, 0, sizeof *k);
    k->L_M = s->L_M.count ? s->L_M.max : 0;
    k->L_L = s->L_L.count ? s->L_L.max : 0;
    k->alpha = s->alpha.max;
    k->gamma = s->gamma.max;
    k->sigma_F = s->sigma_F;
    k->kappa = s->kappa;
    k->rho_N = s->rho_N;
    k->rho_1 = s->rho_1;
    k->Delta = t->Delta;
    k->g0_N = t->g0_N;
    k->g0_1 = t->g0_1;
    k->g_ratio = s->g_ratio_min;
    k->nkappa = s->nkappa;
    memcpy(k->kappa_tab, s->kappa_tab, sizeof k->kappa_tab);
    memcpy(k->sigma_tab, s->sigma_tab, sizeof k->sigma_tab);
}

static double row_norm(const meas_row *r, char norm)
{
    if (norm == 'N')
        return r->gN;
    if (norm == '1')
        return r->g1;
    return r->muon ? r->gN : r->g1;
}

double meas_weighted_avg(const meas_trace *t, long T, char norm)
{
    double num = 0, H = 0;
    for (long k = 0; k < T && k < t->T; k++) {
        double eta = t->rows[k].muon ? t->eta_M : t->eta_L;
        num += eta * row_norm(&t->rows[k], norm);
        H += eta;
    }
    return H > 0 ? num / H : NAN;
}

long meas_hit_time(const meas_trace *t, char norm, double eps)
{
    if (norm == 'f') {
        for (long k = 0; k < t->T; k++)
            if (t->rows[k].f - t->finf <= eps)
                return k + 1;
        return -1;
    }
    double num = 0, H = 0;
    for (long k = 0; k < t->T; k++) {
        double eta = t->rows[k].muon ? t->eta_M : t->eta_L;
        num += eta * row_norm(&t->rows[k], norm);
        H += eta;
        if (H > 0 && num / H <= eps)
            return k + 1;
    }
    return -1;
}

double meas_drift_lbar(const meas_trace *t)
{
    double DN = 0, D1 = 0, num = 0, H = 0, b2 = t->beta2;
    for (long k = 0; k < t->T; k++) {
        if (k > 0) { /* R_k = g_k - g_{k-1}: the move of step k - 1 */
            DN = b2 * DN + t->rows[k - 1].dgN;
            D1 = b2 * D1 + t->rows[k - 1].dg1;
        }
        double eta = t->rows[k].muon ? t->eta_M : t->eta_L;
        num += eta * (1 - b2) * (t->rows[k].muon ? DN : D1);
        H += eta;
    }
    return H > 0 ? num / H : NAN;
}
