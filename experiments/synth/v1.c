/* v1.c - check V1, validity (theory/bounds.md, "Checks"): the measured left
 * side against the right side of Thm 1 with the constants measured on the
 * same run, per seed, over objectives, noises, periods and step sizes. */
#include "runner.h"

#include <math.h>
#include <stdlib.h>

#include "lionmuon/stats.h"

typedef struct {
    double *lhs, *rhs_ref, *rhs_stmt; /* [job * seeds + s] */
    double *rhs_l1;                   /* Lemma 1 alone, with the measured ||E_t|| */
    int *dom;                         /* dominant term of the refined bound */
    int seeds;
} v1_ctx;

static const char *TERM[] = {"Delta/H", "init", "drift", "noise", "quad"};

/* The right side of Lemma 1 summed, with the measured momentum errors in
 * place of Lemmas 2-4: Delta/H + (2/H) sum eta_t ||E_t||_tau* + quad.  Its
 * ratio to the left side separates the slack of the descent step from the
 * slack of the momentum-error bounds. */
static double lemma1_rhs(const meas_trace *t, const bound_constants *k)
{
    double H = 0, e = 0, quad = 0;
    for (long s = 0; s < t->T; s++) {
        const meas_row *r = &t->rows[s];
        double eta = r->muon ? t->eta_M : t->eta_L;
        H += eta;
        e += eta * (r->muon ? r->EN : r->E1);
        quad += (r->muon ? k->L_M : k->L_L) * eta * eta;
    }
    return (k->Delta + 2 * e + quad / 2) / H;
}

static void v1_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc)
{
    v1_ctx *c = vc;
    bound_constants k;
    meas_constants(t, sm, &k);
    bound_terms br, bs;
    bound_rhs(&k, BOUND_REFINED, t->P, t->T, t->eta_M, t->eta_L, t->beta1, t->beta2, &br);
    bound_rhs(&k, BOUND_STATEMENT, t->P, t->T, t->eta_M, t->eta_L, t->beta1, t->beta2, &bs);
    int at = i * c->seeds + s;
    c->lhs[at] = sm->lhs;
    c->rhs_ref[at] = br.total;
    c->rhs_stmt[at] = bs.total;
    c->rhs_l1[at] = lemma1_rhs(t, &k);
    double terms[5] = {br.delta, br.init, br.drift, br.noise, br.quad};
    int d = 0;
    for (int q = 1; q < 5; q++)
        if (terms[q] > terms[d])
            d = q;
    c->dom[at] = d;
}

/* The five noises: gaussian, t(1.5), stable(1.5), t(1.5) low-rank (rank 2),
 * t(1.5) sparse (density 0.1), all of scale 0.5. */
static void v1_noises(noise_params noises[5])
{
    for (int q = 0; q < 5; q++) {
        noises[q] = noise_default_params();
        noises[q].sigma = 0.5;
        noises[q].dist = q == 0 ? NOISE_GAUSSIAN : q == 2 ? NOISE_STABLE : NOISE_STUDENT_T;
        noises[q].nu = 1.5;
        noises[q].alpha = 1.5;
        noises[q].structure = q == 3 ? NOISE_LOWRANK : q == 4 ? NOISE_SPARSE : NOISE_ENTRYWISE;
        noises[q].rank = 2;
        noises[q].density = 0.1;
    }
}

/* The grid: objectives x noises (zipf: its own mini-batch noise only) x
 * P in {1, 2, 5, inf} x step sizes.  quick: 2 objectives, 2 noises, one
 * step-size pair.  Returns the number of jobs (at most 160). */
static int v1_jobs(int quick, int m, int n, long T, vr_job *jobs)
{
    obj_kind kinds[] = {OBJ_SEPARABLE, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF};
    int nk = quick ? 2 : 4;
    long Ps[] = {1, 2, 5, 0};
    int nP = 4;
    double lrs[2][2] = {{0.03, 0.005}, {0.1, 0.02}};
    int nlr = quick ? 1 : 2;
    noise_params noises[5];
    int nnoise = quick ? 2 : 5;
    v1_noises(noises);
    int nj = 0;
    for (int a = 0; a < nk; a++)
        for (int b = 0; b < (kinds[a] == OBJ_ZIPF ? 1 : nnoise); b++)
            for (int p = 0; p < nP; p++)
                for (int l = 0; l < nlr; l++) {
                    vr_job j = vr_job_base(kinds[a], m, n, T);
                    j.np = noises[b];
                    if (kinds[a] == OBJ_ZIPF)
                        j.np.dist = NOISE_NONE;
                    j.P = Ps[p];
                    j.lr_muon = lrs[quick ? 0 : l][0];
                    j.lr_sign = lrs[quick ? 0 : l][1];
                    j.extra = quick ? 500 : 2000;
                    jobs[nj++] = j;
                }
    return nj;
}

/* The verdict's running tallies over configurations. */
typedef struct {
    int viol, cfg_viol;
    double gmin, gmax, l1min, l1max;
} v1_tally;

static void v1_head(vr_out *out, int S, long T, int m, int n)
{
    lm_buf_printf(&out->csv, "objective,noise,P,lr_muon,lr_sign,lhs_mean,lhs_ci,rhs_refined_mean,rhs_refined_ci,"
             "slack_refined_mean,slack_refined_ci,slack_refined_min,slack_statement_mean,"
             "slack_lemma1_mean,valid_seeds,dominant_term\n");
    lm_buf_printf(&out->md, "# V1: validity of Thm 1 with measured constants\n\n"
            "Per configuration: %d seeds, T = %ld, %dx%d; left side = (1/H) sum eta_t "
            "||grad f(W_t)||_{tau(t)*}; slack = right side / left side per seed (mean, "
            "95%% t interval, min); valid = seeds with slack >= 1; 'Lemma 1 only' = the "
            "slack of Lemma 1 summed with the measured ||E_t|| (what Lemmas 2-4 bound): "
            "the rest of the slack comes from the momentum-error bounds.\n\n"
            "| objective | noise | P | lr_muon | lr_sign | LHS | RHS (refined) | slack refined | min | slack statement | Lemma 1 only | valid | dominant |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", S, T, m, n);
    lm_buf_printf(&out->dat, "# idx slack_ref_mean ci slack_ref_min slack_stmt_mean\n");
}

/* One configuration (job i): slacks per seed, their statistics, the most
 * frequent dominant term; one line of each file, and the tallies. */
static void v1_row(vr_out *out, const v1_ctx *c, const vr_job *j, int i, v1_tally *t)
{
    int S = c->seeds;
    double sl[64], ss[64], s1[64], lm, lh, rm, rh, sm_, sh, stm, sth, l1m, l1h, mn = INFINITY;
    int ok = 0, domc[5] = {0};
    for (int s = 0; s < S; s++) {
        int at = i * S + s;
        sl[s] = c->rhs_ref[at] / c->lhs[at];
        ss[s] = c->rhs_stmt[at] / c->lhs[at];
        s1[s] = c->rhs_l1[at] / c->lhs[at];
        mn = fmin(mn, sl[s]);
        ok += sl[s] >= 1;
        domc[c->dom[at]]++;
    }
    int dmax = 0;
    for (int q = 1; q < 5; q++)
        if (domc[q] > domc[dmax])
            dmax = q;
    stats_mean_ci(S, c->lhs + i * S, &lm, &lh);
    stats_mean_ci(S, c->rhs_ref + i * S, &rm, &rh);
    stats_mean_ci(S, sl, &sm_, &sh);
    stats_mean_ci(S, ss, &stm, &sth);
    stats_mean_ci(S, s1, &l1m, &l1h);
    t->l1max = fmax(t->l1max, l1m);
    t->l1min = fmin(t->l1min, l1m);
    t->viol += S - ok;
    t->cfg_viol += ok < S;
    t->gmin = fmin(t->gmin, mn);
    t->gmax = fmax(t->gmax, sm_);
    char *ob = vr_obj_label(j), *nb = vr_noise_label(&j->np), pb[32];
    const char *ps = vr_pname(j->P, pb);
    lm_buf_printf(&out->csv, "%s,%s,%s,%g,%g,%.6g,%.3g,%.6g,%.3g,%.4g,%.3g,%.4g,%.4g,%.4g,%d,%s\n", ob, nb,
       ps, j->lr_muon, j->lr_sign, lm, lh, rm, rh, sm_, sh, mn, stm, l1m, ok, TERM[dmax]);
    lm_buf_printf(&out->md, "| %s | %s | %s | %g | %g | %.4g ± %.2g | %.4g ± %.2g | %.3g ± %.2g | %.3g | %.3g | %.3g | %d/%d | %s |\n",
       ob, nb, ps, j->lr_muon, j->lr_sign, lm, lh, rm, rh, sm_, sh, mn, stm, l1m, ok, S,
       TERM[dmax]);
    lm_buf_printf(&out->dat, "%d %.6g %.6g %.6g %.6g %.6g\n", i, sm_, sh, mn, stm, l1m);
    free(ob);
    free(nb);
}

/* The verdict line and the JSON summary it quotes. */
static json_t *v1_verdict(vr_out *out, const v1_tally *t, int nj)
{
    lm_buf_printf(&out->md, "\n**Verdict (computed):** %d of %d configurations had a seed with slack < 1 "
            "(%d seed-runs in all); smallest per-seed slack %.3g, largest mean slack %.3g; "
            "Lemma 1 alone (measured momentum errors) has slack %.3g to %.3g.\n",
       t->cfg_viol, nj, t->viol, t->gmin, t->gmax, t->l1min, t->l1max);
    json_t *js = json_object();
    json_object_set_new(js, "configs", json_integer(nj));
    json_object_set_new(js, "configs_violated", json_integer(t->cfg_viol));
    json_object_set_new(js, "seed_runs_violated", json_integer(t->viol));
    json_object_set_new(js, "min_slack", val_num(t->gmin));
    json_object_set_new(js, "max_mean_slack", val_num(t->gmax));
    json_object_set_new(js, "lemma1_slack_min", val_num(t->l1min));
    json_object_set_new(js, "lemma1_slack_max", val_num(t->l1max));
    return js;
}

int val_check_v1(const val_check_opts *o, lm_error *e)
{
    int m, n;
    long T;
    vr_small_grid(o->quick, &m, &n, &T);
    vr_job *jobs = lm_calloc(512, sizeof *jobs);
    int nj = v1_jobs(o->quick, m, n, T, jobs);
    int S = o->seeds;
    size_t cells = (size_t)nj * S;
    v1_ctx c = {lm_calloc(cells, sizeof(double)), lm_calloc(cells, sizeof(double)),
                lm_calloc(cells, sizeof(double)), lm_calloc(cells, sizeof(double)),
                lm_calloc(cells, sizeof(int)), S};
    vr_progress pg;
    vr_progress_init(&pg, "V1", nj);
    int rc = vr_run_all(jobs, nj, S, v1_fn, &c, &pg, e);
    if (rc == 0) {
        vr_out buf = {0}, *out = &buf;
        v1_tally t = {0, 0, INFINITY, 0, INFINITY, 0};
        v1_head(out, S, T, m, n);
        for (int i = 0; i < nj; i++)
            v1_row(out, &c, &jobs[i], i, &t);
        rc = vr_write(out, v1_verdict(out, &t, nj), o->dir, "v1", e);
    }
    free(c.lhs);
    free(c.rhs_ref);
    free(c.rhs_stmt);
    free(c.rhs_l1);
    free(c.dom);
    free(jobs);
    return rc;
}
