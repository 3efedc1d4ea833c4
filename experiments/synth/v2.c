/* v2.c - check V2, interpolation (theory/bounds.md, "Checks"): per period P,
 * a run of LionMuon at P on mix(lambda), and on it the drift the bound
 * charges, measured (meas_drift_lbar: the eta-weighted mean of (1 - b2)
 * sum_s b2^{t-s} ||R_s||_{tau(t)*}), beside the bound's Lbar(P) (refined and
 * statement step lengths, from that run's own constants) and Sbar(P); does
 * each lie between its P = 1 and P = inf values? */
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { V2_MEAS, V2_LREF, V2_LSTMT, V2_SBAR, V2_STMT1, V2_NQ };

static const char *QN[] = {"Lbar_measured", "Lbar_refined", "Lbar_statement", "Sbar"};

typedef struct {
    double *v; /* [(job * seeds + s) * V2_NQ + q] */
    int seeds;
} v2_ctx;

static void v2_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc)
{
    v2_ctx *c = vc;
    bound_constants k;
    meas_constants(t, sm, &k);
    double *q = c->v + (size_t)(i * c->seeds + s) * V2_NQ, Sb;
    q[V2_MEAS] = meas_drift_lbar(t);
    bound_period_averages(&k, BOUND_REFINED, t->P, t->T, t->eta_M, t->eta_L, t->beta2,
                          &q[V2_LREF], &q[V2_SBAR]);
    bound_period_averages(&k, BOUND_STATEMENT, t->P, t->T, t->eta_M, t->eta_L, t->beta2,
                          &q[V2_LSTMT], &Sb);
    /* the statement's Lbar against Muon's own constant L_M eta_M */
    q[V2_STMT1] = q[V2_LSTMT] / (k.L_M * t->eta_M);
}

/* x in [min(a, b), max(a, b)], up to a relative 1e-9. */
static int between(double x, double a, double b)
{
    double lo = fmin(a, b), hi = fmax(a, b);
    return x >= lo * (1 - 1e-9) && x <= hi * (1 + 1e-9);
}

typedef struct {
    int nl, nP;
    const double *lambdas;
    const long *Ps;
} v2_grid;

/* Jobs [a * nP + p]: mix(lambda_a) at period P_p (the pure runs P = 1 and
 * P = inf are the first and last). */
static int v2_jobs(int quick, int m, int n, long T, v2_grid *g, vr_job *jobs)
{
    static const double lf[] = {0.0, 0.25, 0.5, 0.75, 1.0}, lq[] = {0.0, 0.5, 1.0};
    static const long Pq[] = {1, 2, 5, 0};
    g->lambdas = quick ? lq : lf;
    g->nl = quick ? 3 : 5;
    g->Ps = quick ? Pq : bound_periods;
    g->nP = quick ? 4 : BOUND_NPERIODS;
    int nj = 0;
    for (int a = 0; a < g->nl; a++)
        for (int p = 0; p < g->nP; p++) {
            vr_job j = vr_job_base(OBJ_MIX, m, n, T);
            j.lambda = g->lambdas[a];
            j.P = g->Ps[p];
            j.extra = quick ? 300 : 1000;
            jobs[nj++] = j;
        }
    return nj;
}

static const char V2_CRITERION[] =
    "The working statement claims the period-averaged constants interpolate between Muon's "
    "(P = 1) and Lion's (P = inf).  Tested on the drift the bound charges, measured on runs "
    "at each P: the claim **holds** when the measured value at every intermediate P lies "
    "between that seed's P = 1 and P = inf values for >= 95% of the (lambda, P, seed) "
    "triples, **fails** at <= 50%, **inconclusive** in between.  The same counts are "
    "reported for the bound's own Lbar (refined and statement step lengths, each run's own "
    "constants) and Sbar, and the ratio of the bound's Lbar to the measured drift.";

static void v2_head(vr_out *out, int m, int n, long T, int S)
{
    lm_buf_printf(&out->csv, "lambda,P");
    for (int q = 0; q < 4; q++)
        lm_buf_printf(&out->csv, ",%s_mean,%s_ci", QN[q], QN[q]);
    lm_buf_printf(&out->csv, ",refined_over_measured,statement_over_muon_const\n");
    lm_buf_printf(&out->md, "# V2: interpolation of the period-averaged constants\n\n");
    vr_criterion(&out->md, "V2", V2_CRITERION);
    lm_buf_printf(&out->md, "Objective mix(lambda) %dx%d, noise t(1.5) sigma 0.5, LionMuon at each "
            "P (lr_muon 0.05, lr_sign 0.01, betas 0.9/0.99, T = %ld), %d seeds.  Measured "
            "drift = (1/H) sum_t eta_t (1 - b2) sum_{s<=t} b2^{t-s} ||R_s||_{tau(t)*}, R_s = "
            "grad f(W_s) - grad f(W_{s-1}); the bound charges L_tau A_tau for it.\n\n"
            "| lambda | P | drift measured | Lbar refined | Lbar statement | Sbar | refined / "
            "measured | stmt/Muon const (P=1) |\n|---|---|---|---|---|---|---|---|\n",
            m, n, T, S);
}

typedef struct {
    int btw[4], tot;
    double worst_stmt1, rmin, rmax;
} v2_tally;

/* One (lambda a, P p) line; the between counts of its seeds. */
static void v2_row(vr_out *out, const v2_ctx *c, const v2_grid *g, int a, int p, v2_tally *t)
{
    int S = c->seeds, i = a * g->nP + p;
    long P = g->Ps[p];
    double mean[V2_NQ], half[V2_NQ], ratio[64], rm, rh;
    for (int q = 0; q < V2_NQ; q++)
        vr_ci_strided(S, c->v + (size_t)i * S * V2_NQ + q, V2_NQ, &mean[q], &half[q]);
    for (int s = 0; s < S; s++) {
        const double *x = c->v + (size_t)(i * S + s) * V2_NQ;
        ratio[s] = x[V2_LREF] / x[V2_MEAS];
        if (P == 1 || P == 0)
            continue;
        const double *x1 = c->v + (size_t)((a * g->nP) * S + s) * V2_NQ;
        const double *xi = c->v + (size_t)((a * g->nP + g->nP - 1) * S + s) * V2_NQ;
        for (int q = 0; q < 4; q++)
            t->btw[q] += between(x[q], x1[q], xi[q]);
        t->tot++;
    }
    vr_ci_strided(S, ratio, 1, &rm, &rh);
    t->rmin = fmin(t->rmin, rm);
    t->rmax = fmax(t->rmax, rm);
    if (P == 1)
        t->worst_stmt1 = fmax(t->worst_stmt1, mean[V2_STMT1]);
    char pb[32], last[32] = "";
    const char *ps = vr_pname(P, pb);
    if (P == 1)
        snprintf(last, sizeof last, "%.3g", mean[V2_STMT1]);
    lm_buf_printf(&out->csv, "%g,%s", g->lambdas[a], ps);
    for (int q = 0; q < 4; q++)
        lm_buf_printf(&out->csv, ",%.6g,%.3g", mean[q], half[q]);
    lm_buf_printf(&out->csv, ",%.4g,%.4g\n", rm, mean[V2_STMT1]);
    lm_buf_printf(&out->md, "| %g | %s | %.4g ± %.2g | %.4g ± %.2g | %.4g ± %.2g | %.4g ± %.2g | "
                  "%.3g | %s |\n", g->lambdas[a], ps, mean[0], half[0], mean[1], half[1],
                  mean[2], half[2], mean[3], half[3], rm, last);
    lm_buf_printf(&out->dat, "%g %.6g %.6g %.6g %.6g %.6g %.6g %.6g %.6g\n",
                  P == 0 ? 300.0 : (double)P, mean[V2_LREF], half[V2_LREF], mean[V2_LSTMT],
                  half[V2_LSTMT], mean[V2_SBAR], half[V2_SBAR], mean[V2_MEAS], half[V2_MEAS]);
}

static json_t *v2_verdict(vr_out *out, const v2_tally *t)
{
    const int *b = t->btw, n = t->tot;
    double f = n ? (double)b[V2_MEAS] / n : 0;
    const char *verdict = f >= 0.95 ? "holds" : f <= 0.5 ? "fails" : "inconclusive";
    lm_buf_printf(&out->md, "\n**Verdict (computed): %s.** Between the P = 1 and P = inf values: "
            "measured drift %d/%d (%.0f%%), the bound's Lbar refined %d/%d, statement %d/%d, "
            "Sbar %d/%d.  The bound's refined Lbar is %.3g to %.3g times the measured drift.  "
            "At P = 1 the statement's Lbar exceeds Muon's own constant L_M eta_M by a factor "
            "up to %.3g (its A_2 = max(eta_M, alpha eta_L) counts Lion steps that never "
            "happen).\n", verdict, b[V2_MEAS], n, 100 * f, b[V2_LREF], n, b[V2_LSTMT], n,
            b[V2_SBAR], n, t->rmin, t->rmax, t->worst_stmt1);
    json_t *js = json_object();
    json_object_set_new(js, "verdict", json_string(verdict));
    json_object_set_new(js, "pairs", json_integer(n));
    json_object_set_new(js, "between_measured", json_integer(b[V2_MEAS]));
    json_object_set_new(js, "between_refined", json_integer(b[V2_LREF]));
    json_object_set_new(js, "between_statement", json_integer(b[V2_LSTMT]));
    json_object_set_new(js, "between_sbar", json_integer(b[V2_SBAR]));
    json_object_set_new(js, "refined_over_measured_min", val_num(t->rmin));
    json_object_set_new(js, "refined_over_measured_max", val_num(t->rmax));
    json_object_set_new(js, "statement_P1_over_muon", val_num(t->worst_stmt1));
    return js;
}

int val_check_v2(const val_check_opts *o, lm_error *e)
{
    vr_criterion(NULL, "V2", V2_CRITERION);
    int m, n;
    long T;
    vr_small_grid(o->quick, &m, &n, &T);
    vr_job jobs[64];
    v2_grid g;
    int nj = v2_jobs(o->quick, m, n, T, &g, jobs);
    int S = o->seeds;
    v2_ctx c = {lm_calloc((size_t)nj * S * V2_NQ, sizeof(double)), S};
    vr_progress pg;
    vr_progress_init(&pg, "V2", nj);
    int rc = vr_run_all(jobs, nj, S, v2_fn, &c, &pg, e);
    if (rc == 0) {
        vr_out buf = {0}, *out = &buf;
        v2_tally t = {{0}, 0, 0, INFINITY, 0};
        v2_head(out, m, n, T, S);
        for (int a = 0; a < g.nl; a++) {
            lm_buf_printf(&out->dat, "# lambda %g: P_plot Lref ci Lstmt ci Sbar ci Lmeas ci\n",
                          g.lambdas[a]);
            for (int p = 0; p < g.nP; p++)
                v2_row(out, &c, &g, a, p, &t);
            lm_buf_printf(&out->dat, "\n\n");
        }
        rc = vr_write(out, v2_verdict(out, &t), o->dir, "v2", e);
    }
    free(c.v);
    return rc;
}
