/* vchecks.c - the theory checks V1-V5 (theory/bounds.md, "Checks"; the
 * grids are documented there and in the header of each function).
 *
 * Every check runs a list of jobs (one optimizer run each) in parallel over
 * OpenMP threads; a job owns its objective, noise stream and workspace, so
 * runs are independent and deterministic: the objective instance has seed
 * OBJ_SEED, the noise stream of seed s has seed 1000 + s, for every
 * configuration (common random numbers across configurations). */
#include "validate.h"
#include "linalg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_statistics_double.h>

#define OBJ_SEED 1UL
#define NOISE_SEED(s) (1000UL + (unsigned long)(s))

/* ---- text output ---- */
typedef struct {
    char *s;
    size_t len, cap;
} text;

static void tx(text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tx(text *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = 2 * (b->len + (size_t)n + 1) + 4096;
        char *p = realloc(b->s, b->cap);
        if (!p)
            abort();
        b->s = p;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int tx_write(text *b, const char *dir, const char *name, lm_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = lm_write_atomic(path, b->s ? b->s : "", b->len, e);
    free(b->s);
    memset(b, 0, sizeof *b);
    return rc;
}

static int ensure_dir(const char *dir, lm_error *e)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return lm_fail(e, "--out: cannot create directory %s", dir);
    return 0;
}

static const char *pname(long P, char *buf)
{
    if (P == 0)
        return "inf";
    sprintf(buf, "%ld", P);
    return buf;
}

/* ---- one job ---- */
typedef struct {
    obj_kind kind;
    double lambda;
    int m, n;
    noise_params np;
    long P;
    double lr_muon, lr_sign, beta1, beta2;
    long T;
    int light;
    long extra;
} vjob;

static vjob job_base(obj_kind kind, int m, int n, long T)
{
    vjob j;
    memset(&j, 0, sizeof j);
    j.kind = kind;
    j.lambda = 0.5;
    j.m = m;
    j.n = n;
    j.np = noise_default_params();
    j.np.dist = NOISE_STUDENT_T;
    j.np.nu = 1.5;
    j.np.sigma = 0.5;
    j.P = 2;
    j.lr_muon = 0.05;
    j.lr_sign = 0.01;
    j.beta1 = 0.9;
    j.beta2 = 0.99;
    j.T = T;
    j.extra = 1000;
    return j;
}

static obj *job_obj(const vjob *j, lm_error *e)
{
    obj_params op = obj_default_params(j->kind, j->m, j->n, OBJ_SEED);
    op.lambda = j->lambda;
    return obj_alloc(&op, e);
}

/* Run job j with noise seed s; on success the caller frees tr. */
static int job_run(const vjob *j, int s, meas_trace *tr, meas_summary *sm, lm_error *e)
{
    obj *o = job_obj(j, e);
    if (!o)
        return -1;
    opt_config c = opt_default_config(OPT_LIONMUON);
    c.period = j->P;
    c.beta1 = j->beta1;
    c.beta2 = j->beta2;
    c.lr_muon = j->lr_muon;
    c.lr_sign = j->lr_sign;
    c.msign = msign_default_opts(MSIGN_SVD);
    c.weight_decay = 0;
    meas_setup st = {o, &j->np, &c, j->T, NOISE_SEED(s), j->light, j->light ? 0 : j->extra};
    int rc = meas_run(&st, tr, e);
    if (rc == 0 && sm && !j->light) {
        rc = meas_summarize(tr, 0, noise_tail_index(&j->np), sm, e);
        if (rc != 0)
            meas_trace_free(tr);
    }
    obj_free(o);
    return rc;
}

static const char *noise_label(const noise_params *np, char *buf)
{
    const char *st = np->structure == NOISE_ENTRYWISE ? "" :
                     np->structure == NOISE_LOWRANK ? "/low-rank" : "/sparse";
    switch (np->dist) {
    case NOISE_STUDENT_T: sprintf(buf, "t(%.3g)%s", np->nu, st); break;
    case NOISE_STABLE: sprintf(buf, "stable(%.3g)%s", np->alpha, st); break;
    case NOISE_GAUSSIAN: sprintf(buf, "gaussian%s", st); break;
    default: sprintf(buf, "minibatch"); break;
    }
    return buf;
}

static const char *obj_label(const vjob *j, char *buf)
{
    if (j->kind == OBJ_MIX)
        sprintf(buf, "mix(%.2g)", j->lambda);
    else
        sprintf(buf, "%s", obj_kind_name(j->kind));
    return buf;
}

static void ci(size_t n, const double *x, double *mean, double *half)
{
    meas_mean_ci(n, x, mean, half);
}

/* Run every (job, seed) pair in parallel; fn(i, s, trace, summary, ctx)
 * extracts what the check needs.  Returns the first error. */
typedef void (*job_fn)(int i, int s, const meas_trace *t, const meas_summary *sm, void *ctx);

static int run_all(const vjob *jobs, int njobs, int seeds, job_fn fn, void *ctx, lm_error *e)
{
    int total = njobs * seeds, fail = 0;
    lm_error first = {{0}};
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < total; k++) {
        int i = k / seeds, s = k % seeds;
        int bad;
#pragma omp atomic read
        bad = fail;
        if (bad)
            continue;
        meas_trace tr;
        meas_summary sm;
        lm_error le = {{0}};
        if (job_run(&jobs[i], s, &tr, &sm, &le) != 0) {
#pragma omp critical
            {
                if (!fail) {
                    fail = 1;
                    first = le;
                }
            }
            continue;
        }
        fn(i, s, &tr, jobs[i].light ? NULL : &sm, ctx);
        meas_trace_free(&tr);
    }
    if (fail) {
        if (e)
            *e = first;
        return -1;
    }
    return 0;
}

/* =====================================================================
 * V1 validity: the measured left side against the right side of Thm 1
 * with the constants measured on the same run, per seed.
 * ===================================================================== */
typedef struct {
    double *lhs, *rhs_ref, *rhs_stmt; /* [job * seeds + s] */
    int *dom;                         /* dominant term of the refined bound */
    int seeds;
} v1_ctx;

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
    double terms[5] = {br.delta, br.init, br.drift, br.noise, br.quad};
    int d = 0;
    for (int q = 1; q < 5; q++)
        if (terms[q] > terms[d])
            d = q;
    c->dom[at] = d;
}

int val_check_v1(const val_check_opts *o, lm_error *e)
{
    static const char *TERM[] = {"Delta/H", "init", "drift", "noise", "quad"};
    int m = o->quick ? 12 : 16, n = o->quick ? 16 : 24;
    long T = o->quick ? 150 : 400;
    obj_kind kinds[] = {OBJ_SEPARABLE, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF};
    int nk = o->quick ? 2 : 4;
    long Ps[] = {1, 2, 5, 0};
    int nP = 4;
    double lrs[2][2] = {{0.03, 0.005}, {0.1, 0.02}};
    int nlr = o->quick ? 1 : 2;
    noise_params noises[5];
    int nnoise = o->quick ? 2 : 5;
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
    vjob *jobs = lm_calloc(512, sizeof *jobs);
    int nj = 0;
    for (int a = 0; a < nk; a++)
        for (int b = 0; b < (kinds[a] == OBJ_ZIPF ? 1 : nnoise); b++)
            for (int p = 0; p < nP; p++)
                for (int l = 0; l < nlr; l++) {
                    vjob j = job_base(kinds[a], m, n, T);
                    j.np = noises[b];
                    if (kinds[a] == OBJ_ZIPF)
                        j.np.dist = NOISE_NONE;
                    j.P = Ps[p];
                    j.lr_muon = lrs[o->quick ? 0 : l][0];
                    j.lr_sign = lrs[o->quick ? 0 : l][1];
                    j.extra = o->quick ? 500 : 2000;
                    jobs[nj++] = j;
                }
    int S = o->seeds;
    v1_ctx c = {lm_calloc((size_t)nj * S, sizeof(double)), lm_calloc((size_t)nj * S, sizeof(double)),
                lm_calloc((size_t)nj * S, sizeof(double)), lm_calloc((size_t)nj * S, sizeof(int)), S};
    int rc = run_all(jobs, nj, S, v1_fn, &c, e);
    if (rc == 0) {
        text csv = {0}, md = {0}, dat = {0};
        tx(&csv, "objective,noise,P,lr_muon,lr_sign,lhs_mean,lhs_ci,rhs_refined_mean,rhs_refined_ci,"
                 "slack_refined_mean,slack_refined_ci,slack_refined_min,slack_statement_mean,"
                 "valid_seeds,dominant_term\n");
        tx(&md, "# V1: validity of Thm 1 with measured constants\n\n"
                "Per configuration: %d seeds, T = %ld, %dx%d; left side = (1/H) sum eta_t "
                "||grad f(W_t)||_{tau(t)*}; slack = right side / left side per seed (mean, "
                "95%% t interval, min); valid = seeds with slack >= 1.\n\n"
                "| objective | noise | P | lr_muon | lr_sign | LHS | RHS (refined) | slack refined | min | slack statement | valid | dominant |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|\n", S, T, m, n);
        tx(&dat, "# idx slack_ref_mean ci slack_ref_min slack_stmt_mean\n");
        int viol = 0, cfg_viol = 0;
        double gmin = INFINITY, gmax = 0;
        for (int i = 0; i < nj; i++) {
            double sl[64], ss[64], lm, lh, rm, rh, sm_, sh, stm, sth, mn = INFINITY;
            int ok = 0, domc[5] = {0};
            for (int s = 0; s < S; s++) {
                int at = i * S + s;
                sl[s] = c.rhs_ref[at] / c.lhs[at];
                ss[s] = c.rhs_stmt[at] / c.lhs[at];
                mn = fmin(mn, sl[s]);
                ok += sl[s] >= 1;
                domc[c.dom[at]]++;
            }
            int dmax = 0;
            for (int q = 1; q < 5; q++)
                if (domc[q] > domc[dmax])
                    dmax = q;
            ci(S, c.lhs + i * S, &lm, &lh);
            ci(S, c.rhs_ref + i * S, &rm, &rh);
            ci(S, sl, &sm_, &sh);
            ci(S, ss, &stm, &sth);
            viol += S - ok;
            cfg_viol += ok < S;
            gmin = fmin(gmin, mn);
            gmax = fmax(gmax, sm_);
            char ob[64], nb[64], pb[32];
            obj_label(&jobs[i], ob);
            noise_label(&jobs[i].np, nb);
            pname(jobs[i].P, pb);
            tx(&csv, "%s,%s,%s,%g,%g,%.6g,%.3g,%.6g,%.3g,%.4g,%.3g,%.4g,%.4g,%d,%s\n", ob, nb, pb,
               jobs[i].lr_muon, jobs[i].lr_sign, lm, lh, rm, rh, sm_, sh, mn, stm, ok, TERM[dmax]);
            tx(&md, "| %s | %s | %s | %g | %g | %.4g ± %.2g | %.4g ± %.2g | %.3g ± %.2g | %.3g | %.3g | %d/%d | %s |\n",
               ob, nb, pb, jobs[i].lr_muon, jobs[i].lr_sign, lm, lh, rm, rh, sm_, sh, mn, stm, ok,
               S, TERM[dmax]);
            tx(&dat, "%d %.6g %.6g %.6g %.6g\n", i, sm_, sh, mn, stm);
        }
        tx(&md, "\n**Verdict (computed):** %d of %d configurations had a seed with slack < 1 "
                "(%d seed-runs in all); smallest per-seed slack %.3g, largest mean slack %.3g.\n",
           cfg_viol, nj, viol, gmin, gmax);
        json_t *js = json_object();
        json_object_set_new(js, "configs", json_integer(nj));
        json_object_set_new(js, "configs_violated", json_integer(cfg_viol));
        json_object_set_new(js, "seed_runs_violated", json_integer(viol));
        json_object_set_new(js, "min_slack", val_num(gmin));
        json_object_set_new(js, "max_mean_slack", val_num(gmax));
        char path[4096];
        snprintf(path, sizeof path, "%s/v1.json", o->dir);
        rc = tx_write(&csv, o->dir, "v1.csv", e);
        if (!rc) rc = tx_write(&md, o->dir, "v1.md", e);
        if (!rc) rc = tx_write(&dat, o->dir, "v1.dat", e);
        if (!rc) rc = val_write_json(js, path, e);
        json_decref(js);
        free(csv.s); free(md.s); free(dat.s);
    }
    free(c.lhs); free(c.rhs_ref); free(c.rhs_stmt); free(c.dom); free(jobs);
    return rc;
}

int val_check_v2(const val_check_opts *o, lm_error *e) { return lm_fail(e, "V2: todo"); }
int val_check_v3(const val_check_opts *o, lm_error *e) { return lm_fail(e, "V3: todo"); }
int val_check_v4(const val_check_opts *o, lm_error *e) { return lm_fail(e, "V4: todo"); }
int val_check_v5(const val_check_opts *o, lm_error *e) { return lm_fail(e, "V5: todo"); }

int val_check_run(const char *name, const val_check_opts *o, lm_error *e)
{
    if (o->seeds < 2 || o->seeds > 64)
        return lm_fail(e, "--seeds: must lie in [2, 64] (got %d)", o->seeds);
    int (*fn[])(const val_check_opts *, lm_error *) = {val_check_v1, val_check_v2, val_check_v3,
                                                        val_check_v4, val_check_v5};
    if ((name[0] == 'V' || name[0] == 'v') && name[1] >= '1' && name[1] <= '5' && !name[2]) {
        if (ensure_dir(o->dir, e) != 0)
            return -1;
        return fn[name[1] - '1'](o, e);
    }
    return lm_fail(e, "--check: unknown check '%s' (V1, V2, V3, V4, V5)", name);
}
