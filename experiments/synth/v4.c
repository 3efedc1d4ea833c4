/* v4.c - check V4, the optimal period (theory/bounds.md, "Checks"): on
 * geometry(lambda) with heavy-tailed noise, the compute LionMuon needs to
 * bring the theorem's own left side (the running eta-weighted average of
 * ||grad f||_{tau(t)*}) below each eps of a ladder, per period P, with
 * lr_muon, lr_sign and beta1 = beta2 = beta tuned on a lattice that extends
 * itself (tune.h), against the bound's compute with its step sizes and beta
 * searched on the same lattice under the same rule, for every cost ratio
 * r = c_msign / c_grad of the axis (the same runs reweighted).  ||g||_N
 * (against the common-currency bound) and the gap f - inf f are reported
 * beside it. */
#include "tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "lionmuon/stats.h"
#include "lionmuon/verdict.h"

/* ---- the design ---- */

#define V4_NR 5
#define V4_MAXP 16
static const double V4_RATIOS[V4_NR] = {0.05, 0.125, 0.41, 1.0, 7.0};

typedef struct {
    int m, nl, nP, neps, nr, S_tune, S_eval;
    long T, T_ref;
    const double *lambdas, *fracs, *ratios;
    const long *Ps;
} v4_grid;

static void v4_grid_init(int quick, int seeds, v4_grid *g)
{
    static const double lam_full[] = {0.0, 0.25, 0.5, 0.75, 1.0}, lam_quick[] = {0.0, 1.0};
    static const double fr_full[] = {0.5, 0.35, 0.25, 0.18}, fr_quick[] = {0.5, 0.3};
    static const double r_quick[] = {0.125, 7.0};
    static const long Pq[] = {1, 2, 8, 0};
    g->m = quick ? 8 : 16;
    g->lambdas = quick ? lam_quick : lam_full;
    g->nl = quick ? 2 : 5;
    g->Ps = quick ? Pq : bound_periods;
    g->nP = quick ? 4 : BOUND_NPERIODS;
    g->fracs = quick ? fr_quick : fr_full;
    g->neps = quick ? 2 : 4;
    g->ratios = quick ? r_quick : V4_RATIOS;
    g->nr = quick ? 2 : V4_NR;
    g->T = quick ? 300 : 2000;
    g->T_ref = quick ? 200 : 600;
    g->S_tune = 2;
    g->S_eval = quick ? (seeds < 3 ? seeds : 3) : (seeds > 20 ? seeds : 20);
}

/* The cost of one iteration in units of c_grad: 1 + r/P (c_sign / c_grad
 * taken as 0: about 7e-6 at the paper's 124M setting). */
static double v4_cost(long P, double r)
{
    return bound_cost_per_iter(P, 1.0, r, 0.0);
}

/* The lattice of a period: (lr_muon, q) for P = 1, (lr_sign, q) for P = inf,
 * (lr_muon, lr_sign, q) otherwise; q = 1 - beta, beta1 = beta2 = beta.
 * Anchors 0.4, 0.02, 0.25; step sqrt(2); box [-1, 1]; caps 2^{+-30} on
 * the step sizes and q in [0.25 2^{-100}, 1] (q = 1, beta = 0, is the
 * natural end of the range). */
static vt_lattice v4_lattice(long P)
{
    vt_lattice L;
    memset(&L, 0, sizeof L);
    int d = 0;
    if (P != 0) {
        L.anchor[d] = 0.4;
        d++;
    }
    if (P != 1) {
        L.anchor[d] = 0.02;
        d++;
    }
    L.anchor[d] = 0.25;
    L.nd = d + 1;
    for (int k = 0; k < L.nd; k++) {
        L.step[k] = M_SQRT2;
        L.lo[k] = -1;
        L.hi[k] = 1;
        L.min[k] = -60;
        L.max[k] = 60;
    }
    L.min[d] = -200;
    L.max[d] = 4;
    L.nat_hi[d] = 1;
    return L;
}

/* vals of the lattice of P into (lr_muon, lr_sign, beta). */
static void v4_unpack(long P, const double *v, double *lrm, double *lrs, double *beta)
{
    int d = 0;
    *lrm = P != 0 ? v[d++] : 0;
    *lrs = P != 1 ? v[d++] : 0;
    *beta = fmax(0.0, 1 - v[d]); /* q = 1 is beta = 0 up to rounding */
}

static void v4_apply(vr_job *j, const double *v)
{
    double b;
    v4_unpack(j->P, v, &j->lr_muon, &j->lr_sign, &b);
    j->beta1 = j->beta2 = b;
}

/* ---- the state of a run of V4 ---- */

typedef struct {
    v4_grid g;
    vr_targets *tg;         /* per lambda */
    vt_group *groups;       /* [a * nP + p] */
    vt_tuner tuner;
    bound_constants *k;     /* per lambda, pooled over the reference runs */
    double *predT[2];       /* [((a * nP + p) * neps + q)]: the bound's T, refined mixed / common */
    double *predS;          /* the same, statement, mixed */
    double *predv;          /* the bound's tuned (lr_muon, lr_sign, beta) [... * 3] */
    int *pred_edge;
} v4_state;

static void v4_score(const vt_group *g, const meas_trace *t, double *sc, void *ctx)
{
    vr_target_scores(g->user, t, sc);
}

/* Per lambda: eps = frac ||grad f(W_0)||_N for the left side and ||g||_N,
 * frac^2 Delta for the gap. */
static int v4_targets(const v4_grid *g, int a, vr_targets *tg, lm_error *e)
{
    vr_job j = vr_job_base(OBJ_GEOMETRY, g->m, g->m, g->T);
    j.lambda = g->lambdas[a];
    obj *o = vr_job_obj(&j, e);
    if (!o)
        return -1;
    double *gr = lm_malloc((size_t)g->m * g->m * sizeof *gr);
    obj_grad(o, o->W0, gr);
    double gN = la_norm_nuclear(g->m, g->m, gr), D = obj_delta(o);
    free(gr);
    obj_free(o);
    memset(tg, 0, sizeof *tg);
    tg->ncrit = 3;
    tg->neps = g->neps;
    memcpy(tg->crit, "tNf", 3);
    for (int q = 0; q < g->neps; q++) {
        tg->eps[0][q] = tg->eps[1][q] = g->fracs[q] * gN;
        tg->eps[2][q] = g->fracs[q] * g->fracs[q] * D;
    }
    return 0;
}

static void v4_groups(v4_state *st)
{
    const v4_grid *g = &st->g;
    for (int a = 0; a < g->nl; a++)
        for (int p = 0; p < g->nP; p++) {
            vt_group *gr = &st->groups[a * g->nP + p];
            vr_job j = vr_job_base(OBJ_GEOMETRY, g->m, g->m, g->T);
            j.lambda = g->lambdas[a];
            j.P = g->Ps[p];
            j.light = 1;
            j.extra = 0;
            j.targets = &st->tg[a];
            gr->base = j;
            gr->lat = v4_lattice(j.P);
            gr->apply = v4_apply;
            gr->user = &st->tg[a];
        }
}

/* ---- the bound's side ---- */

typedef struct {
    const bound_constants *k;
    long P;
    double eps, etaM_per_lr;
    bound_variant v;
    bound_currency c;
} bound_ctx;

/* Where the bound does not reach eps, the lattice still needs an order:
 * V4_UNREACHED times the excess (how far over eps the floor is), above
 * every finite T. */
#define V4_UNREACHED 1e200

/* The bound's T at lattice values, minimised over its sigma_F(kappa) table. */
static double bound_f(const double *vals, void *vc)
{
    const bound_ctx *c = vc;
    double lrm, lrs, beta, ex, exmin = INFINITY;
    v4_unpack(c->P, vals, &lrm, &lrs, &beta);
    double eM = lrm * c->etaM_per_lr;
    double best = bound_T_at(c->k, c->v, c->c, c->P, c->eps, eM, lrs, beta, &exmin);
    for (int i = 0; i < c->k->nkappa; i++) {
        bound_constants kk = *c->k;
        kk.kappa = c->k->kappa_tab[i];
        kk.sigma_F = c->k->sigma_tab[i];
        best = fmin(best, bound_T_at(&kk, c->v, c->c, c->P, c->eps, eM, lrs, beta, &ex));
        exmin = fmin(exmin, ex);
    }
    return isfinite(best) ? best : V4_UNREACHED * fmin(exmin, 1e100);
}

/* The bound's tuned T for every (lambda, P, eps), on the same lattices. */
static void v4_predict(v4_state *st)
{
    const v4_grid *g = &st->g;
    double etaM = 0.2 * sqrt((double)g->m);
    for (int a = 0; a < g->nl; a++)
        for (int p = 0; p < g->nP; p++)
            for (int q = 0; q < g->neps; q++) {
                size_t at = ((size_t)a * g->nP + p) * g->neps + q;
                for (int w = 0; w < 3; w++) {
                    bound_ctx c = {&st->k[a], g->Ps[p], st->tg[a].eps[0][q], etaM,
                                   w == 2 ? BOUND_STATEMENT : BOUND_REFINED,
                                   w == 1 ? BOUND_COMMON : BOUND_MIXED};
                    vt_lattice L = v4_lattice(g->Ps[p]);
                    int coord[VT_MAXDIM];
                    double best, vals[VT_MAXDIM];
                    int edge = vt_minimise(&L, bound_f, &c, 8, 400, coord, &best);
                    if (best >= V4_UNREACHED)
                        best = INFINITY;
                    if (w == 2) {
                        st->predS[at] = best;
                        continue;
                    }
                    st->predT[w][at] = best;
                    if (w == 1)
                        continue;
                    st->pred_edge[at] = edge;
                    for (int d = 0; d < L.nd; d++)
                        vals[d] = vt_value(&L, d, coord[d]);
                    v4_unpack(g->Ps[p], vals, &st->predv[at * 3], &st->predv[at * 3 + 1],
                              &st->predv[at * 3 + 2]);
                }
            }
}

/* ---- the reference runs: the measured constants ---- */

typedef struct {
    bound_constants *k; /* [a * S + s] */
    int S;
} ref_ctx;

static void ref_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc)
{
    ref_ctx *c = vc;
    meas_constants(t, sm, &c->k[i * c->S + s]);
}

/* Pool over seeds: the max of every sup, of sigma_F and Delta-like
 * constants, the min of kappa and of g_ratio (the conservative choices). */
static void pool(const bound_constants *ks, int S, bound_constants *k)
{
    *k = ks[0];
    for (int s = 1; s < S; s++) {
        const bound_constants *x = &ks[s];
        k->L_M = fmax(k->L_M, x->L_M);
        k->L_L = fmax(k->L_L, x->L_L);
        k->alpha = fmax(k->alpha, x->alpha);
        k->gamma = fmax(k->gamma, x->gamma);
        k->sigma_F = fmax(k->sigma_F, x->sigma_F);
        k->rho_N = fmax(k->rho_N, x->rho_N);
        k->rho_1 = fmax(k->rho_1, x->rho_1);
        k->kappa = fmin(k->kappa, x->kappa);
        k->g_ratio = fmin(k->g_ratio, x->g_ratio);
        for (int q = 0; q < k->nkappa && q < x->nkappa; q++)
            k->sigma_tab[q] = fmax(k->sigma_tab[q], x->sigma_tab[q]);
    }
}

/* LionMuon P = 2 at the lattice anchors (beta 0.75), on the tuning seeds. */
static int v4_reference(v4_state *st, lm_error *e)
{
    const v4_grid *g = &st->g;
    vr_job *refs = lm_calloc((size_t)g->nl, sizeof *refs);
    for (int a = 0; a < g->nl; a++) {
        refs[a] = vr_job_base(OBJ_GEOMETRY, g->m, g->m, g->T_ref);
        refs[a].lambda = g->lambdas[a];
        refs[a].lr_muon = 0.4;
        refs[a].lr_sign = 0.02;
        refs[a].beta1 = refs[a].beta2 = 0.75;
        refs[a].extra = 500;
    }
    ref_ctx c = {lm_calloc((size_t)g->nl * g->S_tune, sizeof(bound_constants)), g->S_tune};
    vr_progress pg;
    vr_progress_init(&pg, "V4", g->nl);
    pg.note = "reference run: ";
    st->tuner.t0 = pg.t0; /* the tuning's progress lines count from here */
    int rc = vr_run_seeds(refs, g->nl, g->S_tune, VR_TUNE_BASE, ref_fn, &c, &pg, e);
    for (int a = 0; a < g->nl && rc == 0; a++)
        pool(c.k + a * g->S_tune, g->S_tune, &st->k[a]);
    free(c.k);
    free(refs);
    return rc;
}

/* ---- the empirical side and the cells ---- */

/* Evaluation hitting times of criterion c at eps q for period p of lambda
 * a (the point tuned for the left side at that eps): per seed into T,
 * returns the number of censored seeds. */
static int v4_hits(const v4_state *st, int a, int p, int c, int q, double *T)
{
    const vt_group *gr = &st->groups[a * st->g.nP + p];
    int pk = gr->pick[q], cens = 0;
    for (int s = 0; s < st->g.S_eval; s++) {
        T[s] = pk >= 0 ? vt_eval_score(&st->tuner, gr, pk, s, c * st->g.neps + q) : INFINITY;
        cens += !(T[s] <= st->g.T);
    }
    return cens;
}

typedef struct {
    int pe, pp, pass, have;   /* empirical and predicted P* (indices), the cell passes */
    double rho;
    char near[160];           /* the predicted near-optimal set */
} v4_cell;

/* One cell (lambda a, ratio r, eps q) for criterion c against prediction w
 * (0 mixed, 1 common). */
static void v4_cell_eval(const v4_state *st, int a, int r, int q, int c, int w, v4_cell *cl)
{
    const v4_grid *g = &st->g;
    double emp[V4_MAXP] = {0}, pred[V4_MAXP] = {0}, T[64], pmin = INFINITY;
    for (int p = 0; p < g->nP; p++) {
        v4_hits(st, a, p, c, q, T);
        double m, h;
        stats_mean_ci((size_t)g->S_eval, T, &m, &h);
        double cP = v4_cost(g->Ps[p], g->ratios[r]);
        emp[p] = m * cP;
        pred[p] = st->predT[w][((size_t)a * g->nP + p) * g->neps + q] * cP;
        pmin = fmin(pmin, pred[p]);
    }
    cl->pe = vd_argmin(g->nP, emp);
    cl->pp = vd_argmin(g->nP, pred);
    cl->have = isfinite(pmin) && isfinite(emp[cl->pe]);
    cl->rho = vd_spearman(g->nP, emp, pred);
    cl->near[0] = 0;
    int in = 0;
    for (int p = 0; p < g->nP; p++)
        if (pred[p] <= 1.1 * pmin) {
            char b[24];
            size_t l = strlen(cl->near);
            snprintf(cl->near + l, sizeof cl->near - l, "%s%s", l ? "," : "", vr_pname(g->Ps[p], b));
            in |= p == cl->pe;
        }
    cl->pass = cl->have && in && cl->rho >= 0.7;
}

/* ---- the report ---- */

static const char V4_CRITERION[] =
    "A cell is one (lambda, cost ratio r = c_msign/c_grad, eps).  In a cell the empirical P* "
    "(smallest mean compute T c(P) over the evaluation seeds, T the first iteration at which "
    "the theorem's left side, the running eta-weighted average of ||grad f(W_t)||_{tau(t)*}, "
    "is <= eps) must lie in the bound's near-optimal set (the P whose predicted compute is "
    "within 10% of the predicted minimum), and the Spearman rank correlation between "
    "empirical and predicted compute across P must be >= 0.7.  Direction: along the r axis "
    "(lambda, eps fixed) and the lambda axis (r, eps fixed), for the adjacent pairs where "
    "the predicted P* moves, the empirical P* must move the same way in >= 80% of them.  "
    "Verdict: **holds** when >= 80% of the cells pass and the direction score is >= 80%; "
    "**fails** when <= 50% of the cells pass; **inconclusive** otherwise.  Step sizes and "
    "beta1 = beta2 are tuned on the same sqrt(2)-spaced lattices, extended by the same rule "
    "(run every untried neighbour of a best point until none is left): from a starting box "
    "by the runs (mean over the tuning seeds), from a scan of every 8th point of the whole "
    "capped lattice by the bound (its T at those values); evaluation seeds are disjoint from the tuning seeds, with common random "
    "numbers across P.  ||g||_N against the common-currency bound and the gap f - inf f "
    "against the mixed bound are reported beside, not in the verdict.";

static void v4_head(vr_out *out, const v4_state *st)
{
    const v4_grid *g = &st->g;
    lm_buf_printf(&out->md, "# V4: predicted against empirical optimal period\n\n");
    vr_criterion(&out->md, "V4", V4_CRITERION);
    lm_buf_printf(&out->md, "geometry(lambda) %dx%d, noise t(1.5) sigma 0.5, LionMuon with "
                  "beta1 = beta2, exact msign; T_max = %ld; %d tuning seeds, %d evaluation "
                  "seeds; eps = frac ||grad f(W_0)||_N, frac in {", g->m, g->m, g->T, g->S_tune,
                  g->S_eval);
    for (int q = 0; q < g->neps; q++)
        lm_buf_printf(&out->md, "%s%g", q ? ", " : "", g->fracs[q]);
    lm_buf_printf(&out->md, "} (the gap: frac^2 Delta); cost ratios r in {");
    for (int r = 0; r < g->nr; r++)
        lm_buf_printf(&out->md, "%s%g", r ? ", " : "", g->ratios[r]);
    lm_buf_printf(&out->md, "} (c_sign/c_grad = 0).  Constants for the bound: LionMuon P = 2 "
                  "reference runs (lr_muon 0.4, lr_sign 0.02, beta 0.75, T = %ld) on the tuning "
                  "seeds, pooled (max of sups, min of kappa and g_ratio), sigma_F computed from "
                  "the noise law and minimised over kappa.  A censored T (not reached within "
                  "T_max) enters as T_max (final / eps).\n\n", g->T_ref);
    lm_buf_printf(&out->csv, "lambda,eps_frac,P,lr_muon,lr_sign,beta,edge,T_mean,T_ci,censored,"
                  "T_N_mean,T_f_mean,bound_T,bound_T_common,bound_T_statement,bound_lr_muon,"
                  "bound_lr_sign,bound_beta,bound_edge\n");
}

/* The per-P rows of (lambda a, eps q). */
static void v4_rows(vr_out *out, const v4_state *st, int a, int q)
{
    const v4_grid *g = &st->g;
    lm_buf_printf(&out->md, "### lambda = %g, eps = %g ||g_0||_N\n\n| P | lr_muon | lr_sign | beta | "
                  "T (left side) | censored | T (||g||_N) | T (gap) | bound T | bound T "
                  "(common) | bound's lr_muon, lr_sign, beta |\n|---|---|---|---|---|---|---|---|"
                  "---|---|---|\n", g->lambdas[a], g->fracs[q]);
    for (int p = 0; p < g->nP; p++) {
        const vt_group *gr = &st->groups[a * g->nP + p];
        double v[VT_MAXDIM] = {0}, lrm = NAN, lrs = NAN, b = NAN, T[64], m, h, mN, hN, mf, hf;
        if (gr->pick[q] >= 0) {
            vt_point_values(gr, gr->pick[q], v);
            v4_unpack(g->Ps[p], v, &lrm, &lrs, &b);
        }
        int cens = v4_hits(st, a, p, 0, q, T);
        stats_mean_ci((size_t)g->S_eval, T, &m, &h);
        v4_hits(st, a, p, 1, q, T);
        stats_mean_ci((size_t)g->S_eval, T, &mN, &hN);
        v4_hits(st, a, p, 2, q, T);
        stats_mean_ci((size_t)g->S_eval, T, &mf, &hf);
        size_t at = ((size_t)a * g->nP + p) * g->neps + q;
        const double *pv = &st->predv[at * 3];
        char pb[24];
        const char *ps = vr_pname(g->Ps[p], pb), *edge = gr->edge[q] ? " (edge)" : "";
        lm_buf_printf(&out->md, "| %s | %.4g | %.4g | %.4g%s | %.4g ± %.2g | %d | %.4g | %.4g | "
                      "%.3g | %.3g | %.3g, %.3g, %.6g%s |\n", ps, lrm, lrs, b, edge, m, h, cens,
                      mN, mf, st->predT[0][at], st->predT[1][at], pv[0], pv[1], pv[2],
                      st->pred_edge[at] ? " (edge)" : "");
        lm_buf_printf(&out->csv, "%g,%g,%s,%.6g,%.6g,%.6g,%d,%.6g,%.3g,%d,%.6g,%.6g,%.6g,%.6g,"
                      "%.6g,%.6g,%.6g,%.10g,%d\n", g->lambdas[a], g->fracs[q], ps, lrm, lrs, b,
                      gr->edge[q], m, h, cens, mN, mf, st->predT[0][at], st->predT[1][at],
                      st->predS[at], pv[0], pv[1], pv[2], st->pred_edge[at]);
    }
    lm_buf_printf(&out->md, "\n");
}

/* The figure's data: per lambda, at r = 0.125 and the middle eps, compute
 * over its minimum, empirical (with the interval) and predicted. */
static void v4_dat(vr_out *out, const v4_state *st)
{
    const v4_grid *g = &st->g;
    int r = g->nr > 1 ? 1 : 0, q = g->neps / 2;
    for (int a = 0; a < g->nl; a++) {
        double emp[V4_MAXP] = {0}, ci[V4_MAXP] = {0}, pr[V4_MAXP] = {0}, ps[V4_MAXP] = {0}, T[64];
        for (int p = 0; p < g->nP; p++) {
            double c = v4_cost(g->Ps[p], g->ratios[r]);
            v4_hits(st, a, p, 0, q, T);
            stats_mean_ci((size_t)g->S_eval, T, &emp[p], &ci[p]);
            emp[p] *= c;
            ci[p] *= c;
            size_t at = ((size_t)a * g->nP + p) * g->neps + q;
            pr[p] = st->predT[0][at] * c;
            ps[p] = st->predS[at] * c;
        }
        double me = emp[vd_argmin(g->nP, emp)], mp = pr[vd_argmin(g->nP, pr)];
        double mst = ps[vd_argmin(g->nP, ps)];
        lm_buf_printf(&out->dat, "# lambda %g: P_plot emp_norm emp_ci_norm pred_norm pred_stmt_norm "
                      "(r = %g, eps %g ||g_0||_N)\n", g->lambdas[a], g->ratios[r], g->fracs[q]);
        for (int p = 0; p < g->nP; p++)
            lm_buf_printf(&out->dat, "%g %.6g %.6g %.6g %.6g\n",
                          g->Ps[p] == 0 ? 300.0 : (double)g->Ps[p], emp[p] / me, ci[p] / me,
                          pr[p] / mp, ps[p] / mst);
        lm_buf_printf(&out->dat, "\n\n");
    }
}

/* The direction score: adjacent pairs along r and lambda where the
 * predicted P* moves; agree: the empirical P* moves the same way. */
static void v4_direction(const v4_state *st, const v4_cell *cells, int *agree, int *moves)
{
    const v4_grid *g = &st->g;
    *agree = *moves = 0;
#define CELL(a, r, q) cells[((a) * g->nr + (r)) * g->neps + (q)]
    for (int a = 0; a < g->nl; a++)
        for (int r = 0; r < g->nr; r++)
            for (int q = 0; q < g->neps; q++) {
                const v4_cell *c0 = &CELL(a, r, q);
                const v4_cell *nb[2] = {r + 1 < g->nr ? &CELL(a, r + 1, q) : NULL,
                                        a + 1 < g->nl ? &CELL(a + 1, r, q) : NULL};
                for (int k = 0; k < 2; k++) {
                    if (!nb[k] || nb[k]->pp == c0->pp)
                        continue;
                    (*moves)++;
                    int dp = nb[k]->pp > c0->pp ? 1 : -1, de = nb[k]->pe - c0->pe;
                    *agree += (de > 0 ? 1 : de < 0 ? -1 : 0) == dp;
                }
            }
#undef CELL
}

/* The cells table for criterion c against prediction w; returns passes. */
static int v4_cells(vr_out *out, const v4_state *st, int c, int w, v4_cell *cells,
                    const char *title)
{
    const v4_grid *g = &st->g;
    int pass = 0;
    lm_buf_printf(&out->md, "### %s\n\n| lambda | r | eps | empirical P* | predicted P* | "
                  "near-optimal set | Spearman | pass |\n|---|---|---|---|---|---|---|---|\n", title);
    for (int a = 0; a < g->nl; a++)
        for (int r = 0; r < g->nr; r++)
            for (int q = 0; q < g->neps; q++) {
                v4_cell *cl = &cells[(a * g->nr + r) * g->neps + q];
                v4_cell_eval(st, a, r, q, c, w, cl);
                pass += cl->pass;
                char b1[24], b2[24];
                lm_buf_printf(&out->md, "| %g | %g | %g | %s | %s | %s | %.2f | %s |\n",
                              g->lambdas[a], g->ratios[r], g->fracs[q],
                              vr_pname(g->Ps[cl->pe], b1), vr_pname(g->Ps[cl->pp], b2), cl->near,
                              cl->rho, cl->pass ? "yes" : "no");
            }
    lm_buf_printf(&out->md, "\n");
    return pass;
}

static int v4_report(v4_state *st, const char *dir, lm_error *e)
{
    const v4_grid *g = &st->g;
    vr_out buf = {0}, *out = &buf;
    v4_head(out, st);
    lm_buf_printf(&out->md, "## Per period: tuned points, iterations, the bound\n\n");
    for (int a = 0; a < g->nl; a++)
        for (int q = 0; q < g->neps; q++)
            v4_rows(out, st, a, q);
    int nc = g->nl * g->nr * g->neps, agree, moves;
    v4_cell *cells = lm_calloc((size_t)nc, sizeof *cells);
    lm_buf_printf(&out->md, "## Cells\n\n");
    int pN = v4_cells(out, st, 1, 1, cells, "Beside: ||g||_N against the common-currency bound");
    int pf = v4_cells(out, st, 2, 0, cells, "Beside: the gap f - inf f against the mixed bound");
    int pass = v4_cells(out, st, 0, 0, cells, "Primary: the theorem's left side");
    v4_direction(st, cells, &agree, &moves);
    double frac = (double)pass / nc, dir_score = moves ? (double)agree / moves : 0;
    const char *verdict = frac >= 0.8 && moves > 0 && dir_score >= 0.8 ? "holds"
                          : frac <= 0.5 ? "fails" : "inconclusive";
    lm_buf_printf(&out->md, "**Verdict (computed): %s.** %d of %d cells pass (%.0f%%; holds needs "
                  ">= 80%%, fails at <= 50%%); direction: the empirical P* moves with the "
                  "predicted one in %d of the %d adjacent pairs where the prediction moves "
                  "(%.0f%%; needs >= 80%%).  Beside: ||g||_N vs the common-currency bound %d/%d "
                  "cells, the gap vs the mixed bound %d/%d.\n", verdict, pass, nc, 100 * frac,
                  agree, moves, 100 * dir_score, pN, nc, pf, nc);
    v4_dat(out, st);
    json_t *js = json_pack("{s:s,s:i,s:i,s:f,s:i,s:i,s:i,s:i}", "verdict", verdict, "cells", nc,
                           "cells_pass", pass, "pass_fraction", frac, "direction_agree", agree,
                           "direction_moves", moves, "cells_pass_nuclear_common", pN,
                           "cells_pass_gap", pf);
    free(cells);
    return vr_write(out, js, dir, "v4", e);
}

static void v4_free(v4_state *st)
{
    for (int i = 0; i < st->g.nl * st->g.nP; i++)
        vt_group_free(&st->groups[i]);
    free(st->groups);
    free(st->tg);
    free(st->k);
    free(st->predT[0]);
    free(st->predT[1]);
    free(st->predS);
    free(st->predv);
    free(st->pred_edge);
}

int val_check_v4(const val_check_opts *o, lm_error *e)
{
    v4_state st;
    memset(&st, 0, sizeof st);
    vr_criterion(NULL, "V4", V4_CRITERION);
    v4_grid_init(o->quick, o->seeds, &st.g);
    const v4_grid *g = &st.g;
    size_t ng = (size_t)g->nl * g->nP, np = ng * g->neps;
    st.groups = lm_calloc(ng, sizeof *st.groups);
    st.tg = lm_calloc((size_t)g->nl, sizeof *st.tg);
    st.k = lm_calloc((size_t)g->nl, sizeof *st.k);
    st.predT[0] = lm_calloc(np, sizeof(double));
    st.predT[1] = lm_calloc(np, sizeof(double));
    st.predS = lm_calloc(np, sizeof(double));
    st.predv = lm_calloc(np * 3, sizeof(double));
    st.pred_edge = lm_calloc(np, sizeof(int));
    int rc = 0;
    for (int a = 0; a < g->nl && rc == 0; a++)
        rc = v4_targets(g, a, &st.tg[a], e);
    v4_groups(&st);
    st.tuner = (vt_tuner){st.groups, (int)ng, 3 * g->neps, g->neps, g->S_tune, g->S_eval,
                          v4_score, NULL, 30, "V4", 0};
    if (rc == 0)
        rc = v4_reference(&st, e);
    if (rc == 0) {
        v4_predict(&st);
        rc = vt_tune(&st.tuner, e);
    }
    if (rc == 0)
        rc = vt_evaluate(&st.tuner, e);
    if (rc == 0)
        rc = v4_report(&st, o->dir, e);
    v4_free(&st);
    return rc;
}
