/* v4.c - check V4, optimal period (theory/bounds.md, "Checks"): empirical
 * compute to reach eps (running weighted average of ||grad f||_N <= eps),
 * step sizes tuned per P on a grid, against the bound's prediction from
 * constants measured on P = 2 reference runs. */
#include "runner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_statistics_double.h>

#include "lionmuon/linalg.h"

/* ---- the grid ---- */

typedef struct {
    int m, n, nl, ngm, ngs, nP;
    long T, T_ref;
    const double *lambdas, *lrm, *lrs; /* mix weights, lr_muon and lr_sign grids */
    const long *Ps;
    double eps_frac;                   /* eps = eps_frac ||grad f(W_0)||_N */
} v4_grid;

static void v4_grid_init(int quick, v4_grid *g)
{
    static const double lambdas_full[] = {0.0, 0.25, 0.5, 0.75, 1.0}, lambdas_quick[] = {0.5};
    static const double lrm_full[] = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8};
    static const double lrs_full[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08};
    static const double lrm_quick[] = {0.05, 0.1, 0.2}, lrs_quick[] = {0.005, 0.01, 0.02};
    static const long Pq[] = {1, 2, 4, 10, 0};
    g->m = g->n = 16;
    g->T = quick ? 800 : 1500;
    g->T_ref = quick ? 300 : 600;
    g->lambdas = quick ? lambdas_quick : lambdas_full;
    g->nl = quick ? 1 : 5;
    g->lrm = quick ? lrm_quick : lrm_full;
    g->lrs = quick ? lrs_quick : lrs_full;
    g->ngm = quick ? 3 : 8;
    g->ngs = quick ? 3 : 7;
    g->Ps = quick ? Pq : bound_periods;
    g->nP = quick ? 5 : BOUND_NPERIODS;
    g->eps_frac = quick ? 0.3 : 0.25;
}

/* The light runs: per lambda and P, the step-size grid (P = 1: no lr_sign,
 * P = inf: no lr_muon).  cfg_start[a * nP + p] is the first job of
 * (lambda a, period p); cfg_start[nl * nP] the number of jobs. */
static vr_job *v4_jobs(const v4_grid *g, int *cfg_start)
{
    vr_job *jobs = lm_calloc((size_t)g->nl * g->nP * g->ngm * g->ngs + g->nl, sizeof *jobs);
    int nj = 0;
    for (int a = 0; a < g->nl; a++)
        for (int p = 0; p < g->nP; p++) {
            long P = g->Ps[p];
            cfg_start[a * g->nP + p] = nj;
            int nm = P == 0 ? 1 : g->ngm, ns = P == 1 ? 1 : g->ngs;
            for (int x = 0; x < nm; x++)
                for (int y = 0; y < ns; y++) {
                    vr_job j = vr_job_base(OBJ_MIX, g->m, g->n, g->T);
                    j.lambda = g->lambdas[a];
                    j.P = P;
                    j.lr_muon = P == 0 ? 0 : g->lrm[x];
                    j.lr_sign = P == 1 ? 0 : g->lrs[y];
                    j.light = 1;
                    jobs[nj++] = j;
                }
        }
    cfg_start[g->nl * g->nP] = nj;
    return jobs;
}

/* Reference runs for the measured constants: P = 2, the middle step sizes. */
static vr_job *v4_refs(const v4_grid *g, int quick)
{
    vr_job *refs = lm_calloc((size_t)g->nl, sizeof *refs);
    for (int a = 0; a < g->nl; a++) {
        refs[a] = vr_job_base(OBJ_MIX, g->m, g->n, g->T_ref);
        refs[a].lambda = g->lambdas[a];
        refs[a].lr_muon = quick ? g->lrm[1] : 0.05;
        refs[a].lr_sign = quick ? g->lrs[1] : 0.01;
        refs[a].extra = quick ? 500 : 2000;
    }
    return refs;
}

/* eps: a fixed fraction of ||grad f(W_0)||_N of each lambda's instance; and
 * each instance's cost model. */
static int v4_eps_cost(const v4_grid *g, const vr_job *refs, double *epsl, val_cost *cost,
                       lm_error *e)
{
    for (int a = 0; a < g->nl; a++) {
        obj *ob = vr_job_obj(&refs[a], e);
        if (!ob)
            return -1;
        double *gr = lm_malloc((size_t)g->m * g->n * sizeof *gr);
        obj_grad(ob, ob->W0, gr);
        epsl[a] = g->eps_frac * la_norm_nuclear(g->m, g->n, gr);
        cost[a] = val_default_cost(ob);
        free(gr);
        obj_free(ob);
    }
    return 0;
}

/* ---- the reference constants ---- */

#define V4_NK 11
typedef struct {
    double *k; /* [(job * seeds + s) * 11]: L_M L_L alpha gamma sigma_F kappa rho_N rho_1 Delta g0N g01 */
    int seeds;
} ref_ctx;

static void ref_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc)
{
    ref_ctx *c = vc;
    bound_constants k;
    meas_constants(t, sm, &k);
    double *o = c->k + (size_t)(i * c->seeds + s) * V4_NK;
    double v[V4_NK] = {k.L_M, k.L_L, k.alpha, k.gamma, k.sigma_F, k.kappa,
                       k.rho_N, k.rho_1, k.Delta, k.g0_N, k.g0_1};
    memcpy(o, v, sizeof v);
}

/* Pool the reference runs' constants: the max over seeds of every sup and
 * of sigma_F, the min of kappa (the conservative choices). */
static void pool_constants(const ref_ctx *c, int job, bound_constants *k)
{
    double v[V4_NK];
    for (int q = 0; q < V4_NK; q++) {
        v[q] = q == 5 ? INFINITY : 0;
        for (int s = 0; s < c->seeds; s++) {
            double x = c->k[(size_t)(job * c->seeds + s) * V4_NK + q];
            v[q] = q == 5 ? fmin(v[q], x) : fmax(v[q], x);
        }
    }
    k->L_M = v[0]; k->L_L = v[1]; k->alpha = v[2]; k->gamma = v[3]; k->sigma_F = v[4];
    k->kappa = v[5]; k->rho_N = v[6]; k->rho_1 = v[7]; k->Delta = v[8]; k->g0_N = v[9];
    k->g0_1 = v[10];
}

/* Spearman rank correlation of two length-n arrays (no ties expected). */
static double spearman(int n, const double *a, const double *b)
{
    double ra[16], rb[16];
    for (int i = 0; i < n; i++) {
        ra[i] = rb[i] = 0;
        for (int j = 0; j < n; j++) {
            ra[i] += a[j] < a[i];
            rb[i] += b[j] < b[i];
        }
    }
    return gsl_stats_correlation(ra, 1, rb, 1, (size_t)n);
}

/* ---- one lambda: empirical against predicted, per P ---- */

typedef struct {
    double emp[16], empci[16], pred[16], empT[16], empTci[16], predT[16], preds[16];
    int bestcfg[16];
    int pe, pp, tied_pred; /* empirical and predicted P* (indices); pp tied with pe */
    long Pst_stmt;         /* the statement's P* */
    lm_buf tied;           /* the P tied with the empirical P*, "1,2,..." */
    double rho;
} v4_lambda;

/* The empirical side of period p: the best step sizes by mean hitting time,
 * its iterations (mean, interval over seeds) and compute T c(P). */
static void v4_empirical(const vr_hit_ctx *hc, const int *cfg_start, const v4_grid *g,
                         const val_cost *cost, int a, int p, v4_lambda *L)
{
    int S = hc->seeds;
    int ncfg = cfg_start[a * g->nP + p + 1] - cfg_start[a * g->nP + p];
    int *cfg = lm_malloc((size_t)ncfg * sizeof(int));
    for (int x = 0; x < ncfg; x++)
        cfg[x] = cfg_start[a * g->nP + p] + x;
    double mean;
    int b = vr_best_config(hc, cfg, ncfg, 0, &mean);
    free(cfg);
    L->bestcfg[p] = b;
    double cP = bound_cost_per_iter(g->Ps[p], cost->c_grad, cost->c_msign, cost->c_sign);
    if (b >= 0) {
        vr_ci_strided(S, hc->hit + (size_t)b * S, 1, &L->empT[p], &L->empTci[p]);
    } else {
        L->empT[p] = INFINITY;
        L->empTci[p] = NAN;
    }
    L->emp[p] = L->empT[p] * cP;
    L->empci[p] = L->empTci[p] * cP;
}

/* The predicted side of period P (index p): found in predict's lists. */
static void v4_predicted(json_t *prp, json_t *psp, long P, int p, v4_lambda *L)
{
    L->pred[p] = L->predT[p] = L->preds[p] = NAN;
    for (int q = 0; q < BOUND_NPERIODS; q++)
        if (bound_periods[q] == P) {
            json_t *it = json_array_get(prp, (size_t)q);
            L->pred[p] = json_number_value(json_object_get(it, "compute"));
            L->predT[p] = json_number_value(json_object_get(it, "iterations"));
            L->preds[p] = json_number_value(json_object_get(json_array_get(psp, (size_t)q), "compute"));
        }
}

/* P* both ways, the set tied with the empirical P* (95% intervals
 * overlapping), and the rank correlation of the compute across P. */
static void v4_choose(const v4_grid *g, v4_lambda *L)
{
    L->pe = L->pp = 0;
    for (int p = 1; p < g->nP; p++) {
        if (L->emp[p] < L->emp[L->pe])
            L->pe = p;
        if (L->pred[p] < L->pred[L->pp])
            L->pp = p;
    }
    L->tied_pred = 0;
    for (int p = 0; p < g->nP; p++) {
        int t = isfinite(L->emp[p]) && L->emp[p] - L->empci[p] <= L->emp[L->pe] + L->empci[L->pe];
        if (t) {
            char pb[32];
            lm_buf_printf(&L->tied, "%s%s", L->tied.len ? "," : "", vr_pname(g->Ps[p], pb));
        }
        if (t && p == L->pp)
            L->tied_pred = 1;
    }
    L->rho = spearman(g->nP, L->emp, L->pred);
}

/* Pool the reference constants of lambda a, predict both ways, and compare
 * with the light runs. */
static void v4_analyse(const v4_grid *g, const vr_hit_ctx *hc, const ref_ctx *rcx,
                       const int *cfg_start, const val_cost *cost, double eps, int a,
                       v4_lambda *L)
{
    bound_constants k;
    pool_constants(rcx, a, &k);
    long Pst_ref;
    json_t *pr = val_predict(&k, cost, eps, BOUND_REFINED, &Pst_ref);
    json_t *ps = val_predict(&k, cost, eps, BOUND_STATEMENT, &L->Pst_stmt);
    json_t *prp = json_object_get(pr, "periods"), *psp = json_object_get(ps, "periods");
    for (int p = 0; p < g->nP; p++) {
        v4_empirical(hc, cfg_start, g, cost, a, p, L);
        v4_predicted(prp, psp, g->Ps[p], p, L);
    }
    v4_choose(g, L);
    json_decref(pr);
    json_decref(ps);
}

/* The lambda's section of the Markdown, its block of the data file and its
 * lines of the CSV. */
static void v4_lambda_text(vr_out *out, const v4_grid *g, const vr_job *jobs, double lambda,
                           double eps, const v4_lambda *L)
{
    const char *tied = L->tied.s ? L->tied.s : "";
    char pb1[32], pb2[32], pb3[32];
    lm_buf_printf(&out->md, "## lambda = %g (eps = %.4g)\n\nEmpirical P* = **%s** (tied: %s); predicted "
            "P* = **%s** (refined), %s (statement); Spearman rank correlation of the "
            "compute across P: %.2f.\n\n"
            "| P | best lr_muon | best lr_sign | iterations | compute (FLOPs) | predicted iterations | predicted compute | predicted (statement) |\n"
            "|---|---|---|---|---|---|---|---|\n",
       lambda, eps, vr_pname(g->Ps[L->pe], pb1), tied, vr_pname(g->Ps[L->pp], pb2),
       vr_pname(L->Pst_stmt, pb3), L->rho);
    lm_buf_printf(&out->dat, "# lambda %g: P_plot emp_norm emp_ci_norm pred_norm pred_stmt_norm\n", lambda);
    double pmin = INFINITY, smin = INFINITY;
    for (int p = 0; p < g->nP; p++) {
        pmin = fmin(pmin, L->pred[p]);
        smin = fmin(smin, L->preds[p]);
    }
    for (int p = 0; p < g->nP; p++) {
        char pb[32];
        const char *psn = vr_pname(g->Ps[p], pb);
        int b = L->bestcfg[p];
        double lm = b >= 0 ? jobs[b].lr_muon : NAN, ls = b >= 0 ? jobs[b].lr_sign : NAN;
        lm_buf_printf(&out->csv, "%g,%s,%.6g,%g,%g,%.6g,%.3g,%.6g,%.3g,%.6g,%.6g,%.6g\n", lambda, psn,
           eps, lm, ls, L->empT[p], L->empTci[p], L->emp[p], L->empci[p], L->predT[p], L->pred[p],
           L->preds[p]);
        lm_buf_printf(&out->md, "| %s | %g | %g | %.4g ± %.2g | %.4g ± %.2g | %.3g | %.3g | %.3g |\n", psn,
           lm, ls, L->empT[p], L->empTci[p], L->emp[p], L->empci[p], L->predT[p], L->pred[p],
           L->preds[p]);
        lm_buf_printf(&out->dat, "%g %.6g %.6g %.6g %.6g\n", g->Ps[p] == 0 ? 300.0 : (double)g->Ps[p],
           L->emp[p] / L->emp[L->pe], L->empci[p] / L->emp[L->pe], L->pred[p] / pmin,
           L->preds[p] / smin);
    }
    lm_buf_printf(&out->md, "\n");
    lm_buf_printf(&out->dat, "\n\n");
}

static json_t *v4_lambda_json(const v4_grid *g, double lambda, double eps, const v4_lambda *L)
{
    json_t *jo = json_object();
    json_object_set_new(jo, "lambda", val_num(lambda));
    json_object_set_new(jo, "eps", val_num(eps));
    json_object_set_new(jo, "P_star_empirical", val_period(g->Ps[L->pe]));
    json_object_set_new(jo, "P_star_predicted", val_period(g->Ps[L->pp]));
    json_object_set_new(jo, "P_star_predicted_statement",
                        L->Pst_stmt >= 0 ? val_period(L->Pst_stmt) : json_null());
    json_object_set_new(jo, "tied", json_string(L->tied.s ? L->tied.s : ""));
    json_object_set_new(jo, "spearman", val_num(L->rho));
    return jo;
}

/* ---- the check ---- */

/* Everything a run of V4 holds. */
typedef struct {
    v4_grid g;
    int S;
    vr_job *jobs, *refs;
    int *cfg_start;
    double *epsl;
    val_cost *cost;
    vr_hit_ctx hc;
    ref_ctx rcx;
} v4_state;

/* The reference runs, then each lambda's block of light runs with its own
 * eps. */
static int v4_run(v4_state *st, lm_error *e)
{
    const v4_grid *g = &st->g;
    int S = st->S;
    vr_progress pg;
    vr_progress_init(&pg, "V4", g->nl + st->cfg_start[g->nl * g->nP]);
    pg.note = "reference run: ";
    int rc = vr_run_all(st->refs, g->nl, S, ref_fn, &st->rcx, &pg, e);
    pg.note = NULL;
    for (int a = 0; a < g->nl && rc == 0; a++) {
        vr_hit_ctx sub = st->hc;
        sub.eps[0] = st->epsl[a];
        int j0 = st->cfg_start[a * g->nP], j1 = st->cfg_start[(a + 1) * g->nP];
        sub.hit = st->hc.hit + (size_t)j0 * S;
        rc = vr_run_all(st->jobs + j0, j1 - j0, S, vr_hit_fn, &sub, &pg, e);
    }
    return rc;
}

static void v4_head(vr_out *out, const v4_grid *g, int S)
{
    lm_buf_printf(&out->csv, "lambda,P,eps,best_lr_muon,best_lr_sign,iters_mean,iters_ci,compute_mean,"
             "compute_ci,pred_iters_refined,pred_compute_refined,pred_compute_statement\n");
    lm_buf_printf(&out->md, "# V4: predicted against empirical optimal period\n\n"
            "mix(lambda) %dx%d, noise t(1.5) sigma 0.5, LionMuon betas 0.9/0.99.  "
            "Empirical: the first T at which the running eta-weighted average of "
            "||grad f(W_t)||_N is <= eps = %.2g ||grad f(W_0)||_N, step sizes tuned per P on "
            "the grid lr_muon x lr_sign (%d x %d, T_max = %ld), %d seeds; compute = T c(P) "
            "with c(P) = c_grad + c_msign/P + c_sign (1 - 1/P) (FLOPs: NS5 by the paper's "
            "count).  Predicted: `predict` on the constants of P = 2 reference runs "
            "(pooled over seeds).  'tied' = P whose 95%% interval overlaps the best one's.\n\n",
       g->m, g->n, g->eps_frac, g->ngm, g->ngs, g->T, S);
}

/* The tables, the verdict and the JSON summary; writes the files. */
static int v4_report(const v4_state *st, const char *dir, lm_error *e)
{
    const v4_grid *g = &st->g;
    vr_out buf = {0}, *out = &buf;
    int agree = 0, tied_hits = 0;
    double rho_sum = 0;
    json_t *js = json_object(), *jl = json_array();
    v4_head(out, g, st->S);
    for (int a = 0; a < g->nl; a++) {
        v4_lambda L;
        memset(&L, 0, sizeof L);
        v4_analyse(g, &st->hc, &st->rcx, st->cfg_start, &st->cost[a], st->epsl[a], a, &L);
        rho_sum += L.rho;
        agree += L.pe == L.pp;
        tied_hits += L.tied_pred;
        v4_lambda_text(out, g, st->jobs, g->lambdas[a], st->epsl[a], &L);
        json_array_append_new(jl, v4_lambda_json(g, g->lambdas[a], st->epsl[a], &L));
        lm_buf_free(&L.tied);
    }
    lm_buf_printf(&out->md, "**Verdict (computed):** predicted P* equals the empirical P* for %d of %d "
            "lambdas and lies in the statistically tied set for %d of %d; mean Spearman "
            "correlation %.2f.\n", agree, g->nl, tied_hits, g->nl, rho_sum / g->nl);
    json_object_set_new(js, "lambdas", jl);
    json_object_set_new(js, "agree", json_integer(agree));
    json_object_set_new(js, "tied", json_integer(tied_hits));
    json_object_set_new(js, "n", json_integer(g->nl));
    return vr_write(out, js, dir, "v4", e);
}

int val_check_v4(const val_check_opts *o, lm_error *e)
{
    v4_state st;
    memset(&st, 0, sizeof st);
    v4_grid_init(o->quick, &st.g);
    const v4_grid *g = &st.g;
    st.S = o->seeds;
    st.cfg_start = lm_calloc((size_t)g->nl * g->nP + 1, sizeof(int));
    st.jobs = v4_jobs(g, st.cfg_start);
    st.refs = v4_refs(g, o->quick);
    st.epsl = lm_calloc((size_t)g->nl, sizeof(double));
    st.cost = lm_calloc((size_t)g->nl, sizeof(val_cost));
    int nj = st.cfg_start[g->nl * g->nP];
    st.hc = (vr_hit_ctx){lm_calloc((size_t)nj * st.S, sizeof(double)), st.S, 1, {0}, 'N'};
    st.rcx = (ref_ctx){lm_calloc((size_t)g->nl * st.S * V4_NK, sizeof(double)), st.S};
    int rc = v4_eps_cost(g, st.refs, st.epsl, st.cost, e);
    if (rc == 0)
        rc = v4_run(&st, e);
    if (rc == 0)
        rc = v4_report(&st, o->dir, e);
    free(st.hc.hit);
    free(st.rcx.k);
    free(st.jobs);
    free(st.refs);
    free(st.cfg_start);
    free(st.epsl);
    free(st.cost);
    return rc;
}
