/* v3.c - check V3, switching (theory/bounds.md, "Checks"): per step class
 * (previous type -> current type) the quantities the bound charges to a step
 * of the current type, in its own dual: the gradient change R_t, the local
 * smoothness of the move that made it, the momentum error E_t and the noise
 * ratio rho; switching runs (P = 2, 5) against the pure runs (P = 1 for Muon
 * steps, P = inf for Lion). */
#include "runner.h"

#include <math.h>
#include <stdlib.h>

#include "lionmuon/stats.h"

enum { V3_R, V3_SMOOTH, V3_E, V3_RHO, V3_NM };
enum { CL_LL = 0, CL_LM = 1, CL_ML = 2, CL_MM = 3 };

static const char *MN[] = {"R_t", "local smoothness", "momentum error", "noise rho"};
static const long V3_PS[] = {1, 0, 2, 5}; /* the pure runs first */

typedef struct {
    double *v; /* [(job * seeds + s) * 4 classes * V3_NM]: class means */
    int seeds;
} v3_ctx;

static void v3_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc)
{
    v3_ctx *c = vc;
    double sum[4][V3_NM] = {{0}};
    long cnt[4][V3_NM] = {{0}};
    for (long k = 1; k < t->T; k++) {
        const meas_row *pr = &t->rows[k - 1], *cu = &t->rows[k];
        int cl = pr->muon * 2 + cu->muon;
        double v[V3_NM];
        v[V3_R] = cu->muon ? pr->dgN : pr->dg1;
        v[V3_SMOOTH] = cu->muon ? pr->ratioN : pr->ratio1;
        v[V3_E] = cu->muon ? cu->EN : cu->E1;
        v[V3_RHO] = cu->xiF > 0 ? (cu->muon ? cu->xiN : cu->xi1) / cu->xiF : NAN;
        for (int q = 0; q < V3_NM; q++)
            if (isfinite(v[q])) {
                sum[cl][q] += v[q];
                cnt[cl][q]++;
            }
    }
    double *out = c->v + (size_t)(i * c->seeds + s) * 4 * V3_NM;
    for (int cl = 0; cl < 4; cl++)
        for (int q = 0; q < V3_NM; q++)
            out[cl * V3_NM + q] = cnt[cl][q] ? sum[cl][q] / cnt[cl][q] : NAN;
}

/* The step-size ratios eta_L / eta_M of the axis. */
static const double V3_RATIOS[] = {0.05, 0.2, 1.0};
#define V3_NRATIO 3

/* (objective, ratio) blocks of 4 jobs, P in {1, inf, 2, 5} (zipf: its own
 * mini-batch noise); lr_muon 0.05, lr_sign = ratio eta_M. */
static int v3_jobs(int quick, int m, int n, long T, vr_job *jobs)
{
    obj_kind kinds[] = {OBJ_SEPARABLE, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF};
    int nk = quick ? 2 : 4;
    int nj = 0;
    for (int a = 0; a < nk; a++)
        for (int r = 0; r < V3_NRATIO; r++)
            for (int p = 0; p < 4; p++) {
                vr_job j = vr_job_base(kinds[a], m, n, T);
                if (kinds[a] == OBJ_ZIPF)
                    j.np.dist = NOISE_NONE;
                j.P = V3_PS[p];
                j.lr_sign = V3_RATIOS[r] * j.lr_muon * 0.2 * sqrt((double)LM_MAX(m, n));
                j.extra = 0;
                jobs[nj++] = j;
            }
    return nj;
}

static const char V3_CRITERION[] =
    "The referee's question: does a step right after a switch of type cost more than the "
    "same step inside a pure run?  For each transition (Lion->Muon, Muon->Lion, and "
    "Lion->Lion inside a P = 5 period), metric (R_t, local smoothness, momentum error) and "
    "step-size ratio eta_L/eta_M in {0.05, 0.2, 1}, the ratio switching/pure has a 95% "
    "interval over seeds.  Verdict: **switching costs** when some interval lies entirely "
    "above 1.10 (a cost over 10% that a convex combination would miss); **no cost over "
    "10%** when every interval's upper end is <= 1.10; **inconclusive** otherwise.";

static void v3_head(vr_out *out, int S, int m, int n, long T)
{
    lm_buf_printf(&out->csv, "objective,eta_ratio,P,transition,metric,switch_mean,pure_mean,ratio_mean,ratio_ci\n");
    lm_buf_printf(&out->md, "# V3: does switching cost more than the convex combination?\n\n");
    vr_criterion(&out->md, "V3", V3_CRITERION);
    lm_buf_printf(&out->md, "Per step of type tau, in tau's own dual norm: R_t = ||grad_t - grad_{t-1}||, "
            "the local smoothness of the move that produced it, the momentum error "
            "||E_t|| and the noise ratio ||xi||/||xi||_F.  Ratio = (mean over the "
            "switching run's steps of that transition) / (mean over the pure run's "
            "steps: Muon-after-Muon at P = 1, Lion-after-Lion at P = inf), per seed, "
            "then mean and 95%% t interval over %d seeds.  %dx%d, T = %ld, lr_muon 0.05, "
            "lr_sign = (eta_L/eta_M) x eta_M, betas 0.9/0.99, noise t(1.5) sigma 0.5 (zipf: "
            "its mini-batch noise).  A ratio above 1 is a cost of switching that a convex "
            "combination of the pure runs would not predict.\n\n"
            "| objective | eta_L/eta_M | P | transition | metric | switching | pure | ratio |\n"
            "|---|---|---|---|---|---|---|---|\n", S, m, n, T);
}

/* A transition of a switching run and the pure run's class it is held
 * against. */
typedef struct {
    int cl, pure_job, pure_cl;
    const char *name;
} v3_trans;

/* The running extremes of the ratios (noise rho left out), and where the
 * largest is (maxwhat: newly allocated, "" until one is found). */
typedef struct {
    int idx, above, below; /* intervals entirely above 1.10; with upper end <= 1.10 */
    double maxr, minr, ratio;
    char *maxwhat;
} v3_tally;

/* One (objective a, switching job sw, transition tr, metric q) line of each
 * file, from the per-seed ratio switching / pure. */
static void v3_row(vr_out *out, const v3_ctx *c, const char *ob, int a, int sw, long P,
                   const v3_trans *tr, int q, v3_tally *t)
{
    int S = c->seeds;
    double rat[64], swv[64], pu[64], rm, rh, swm, swh, pum, puh;
    for (int s = 0; s < S; s++) {
        swv[s] = c->v[(size_t)(sw * S + s) * 4 * V3_NM + tr->cl * V3_NM + q];
        pu[s] = c->v[(size_t)(tr->pure_job * S + s) * 4 * V3_NM + tr->pure_cl * V3_NM + q];
        rat[s] = swv[s] / pu[s];
    }
    stats_mean_ci(S, rat, &rm, &rh);
    stats_mean_ci(S, swv, &swm, &swh);
    stats_mean_ci(S, pu, &pum, &puh);
    lm_buf_printf(&out->csv, "%s,%g,%ld,%s,%s,%.6g,%.6g,%.4g,%.3g\n", ob, t->ratio, P, tr->name,
                  MN[q], swm, pum, rm, rh);
    lm_buf_printf(&out->md, "| %s | %g | %ld | %s | %s | %.4g | %.4g | %.3g ± %.2g |\n", ob,
                  t->ratio, P, tr->name, MN[q], swm, pum, rm, rh);
    if (q != V3_RHO && isfinite(rm)) {
        double hh = isfinite(rh) ? rh : 0;
        t->above += rm - hh > 1.10;
        t->below += rm + hh <= 1.10;
    }
    lm_buf_printf(&out->dat, "%d %.6g %.6g %d %d \"%s %s P%ld\"\n", t->idx++, rm, rh, q, a, ob,
                  tr->name, P);
    if (isfinite(rm) && q != V3_RHO && rm > t->maxr) {
        t->maxr = rm;
        lm_buf w = {0};
        lm_buf_printf(&w, "%s, eta_L/eta_M = %g, P = %ld, %s, %s", ob, t->ratio, P, tr->name,
                      MN[q]);
        free(t->maxwhat);
        t->maxwhat = w.s;
    }
    if (isfinite(rm) && q != V3_RHO)
        t->minr = fmin(t->minr, rm);
}

/* Block a (objective, ratio): its switching runs (P = 2: the two
 * transitions; P = 5 also Lion -> Lion inside a period) against its pure
 * runs. */
static void v3_objective(vr_out *out, const v3_ctx *c, const vr_job *jobs, int a, v3_tally *t)
{
    int base = a * 4; /* jobs: P=1, P=inf, P=2, P=5 */
    t->ratio = V3_RATIOS[a % V3_NRATIO];
    char *ob = vr_obj_label(&jobs[base]);
    for (int p = 2; p < 4; p++) {
        v3_trans tr[] = {{CL_LM, base + 0, CL_MM, "Lion->Muon"},
                         {CL_ML, base + 1, CL_LL, "Muon->Lion"},
                         {CL_LL, base + 1, CL_LL, "Lion->Lion (inside)"}};
        int ntr = V3_PS[p] > 2 ? 3 : 2;
        for (int r = 0; r < ntr; r++)
            for (int q = 0; q < V3_NM; q++)
                v3_row(out, c, ob, a, base + p, V3_PS[p], &tr[r], q, t);
    }
    free(ob);
}

/* The verdict line and the JSON summary it quotes. */
static json_t *v3_verdict(vr_out *out, const v3_tally *t)
{
    const char *maxwhat = t->maxwhat ? t->maxwhat : "";
    int n = t->idx / V3_NM * (V3_NM - 1); /* intervals of the three cost metrics */
    const char *verdict = t->above ? "switching costs" : t->below == n ? "no cost over 10%"
                                                                       : "inconclusive";
    lm_buf_printf(&out->md, "\n**Verdict (computed): %s.** Of %d intervals (R_t, smoothness, "
            "momentum error), %d lie entirely above 1.10 and %d end at or below 1.10; the "
            "switching/pure ratios range from %.3g to %.3g; the largest is %s.\n", verdict, n,
            t->above, t->below, t->minr, t->maxr, maxwhat);
    json_t *js = json_object();
    json_object_set_new(js, "verdict", json_string(verdict));
    json_object_set_new(js, "intervals", json_integer(n));
    json_object_set_new(js, "above_1_10", json_integer(t->above));
    json_object_set_new(js, "at_most_1_10", json_integer(t->below));
    json_object_set_new(js, "min_ratio", val_num(t->minr));
    json_object_set_new(js, "max_ratio", val_num(t->maxr));
    json_object_set_new(js, "max_ratio_at", json_string(maxwhat));
    return js;
}

int val_check_v3(const val_check_opts *o, lm_error *e)
{
    vr_criterion(NULL, "V3", V3_CRITERION);
    int m, n;
    long T;
    vr_small_grid(o->quick, &m, &n, &T);
    vr_job jobs[64];
    int nj = v3_jobs(o->quick, m, n, T, jobs), nk = nj / 4;
    int S = o->seeds;
    v3_ctx c = {lm_calloc((size_t)nj * S * 4 * V3_NM, sizeof(double)), S};
    vr_progress pg;
    vr_progress_init(&pg, "V3", nj);
    int rc = vr_run_all(jobs, nj, S, v3_fn, &c, &pg, e);
    if (rc == 0) {
        vr_out buf = {0}, *out = &buf;
        v3_tally t = {0, 0, 0, 0, INFINITY, 0, NULL};
        v3_head(out, S, m, n, T);
        for (int a = 0; a < nk; a++)
            v3_objective(out, &c, jobs, a, &t);
        rc = vr_write(out, v3_verdict(out, &t), o->dir, "v3", e);
        free(t.maxwhat);
    }
    free(c.v);
    return rc;
}
