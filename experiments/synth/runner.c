/* runner.c - the shared runner of the theory checks V1-V6 (runner.h): jobs
 * and their runs over (job, seed) pairs, the shared grid, statistics over
 * seeds, hitting times, labels, the output writer, and val_check_run, the
 * dispatcher of checks.h.  The checks themselves are v1.c .. v6.c (V4 and
 * V5 tune through tune.c). */
#include "runner.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"
#include "lionmuon/stats.h"

/* ---- jobs ---- */

vr_job vr_job_base(obj_kind kind, int m, int n, long T)
{
    vr_job j;
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

obj *vr_job_obj(const vr_job *j, lm_error *e)
{
    obj_params op = obj_default_params(j->kind, j->m, j->n, j->obj_seed ? j->obj_seed : VR_OBJ_SEED);
    op.lambda = j->lambda;
    return obj_alloc(&op, e);
}

void vr_small_grid(int quick, int *m, int *n, long *T)
{
    *m = quick ? 12 : 16;
    *n = quick ? 16 : 24;
    *T = quick ? 150 : 400;
}

/* The early stop of a run with targets: running sums per criterion. */
typedef struct {
    const vr_targets *tg;
    double num[VR_MAX_CRIT], H[VR_MAX_CRIT];
    unsigned char reached[VR_MAX_CRIT][VR_MAX_EPS];
} stop_state;

static double row_crit(const meas_trace *t, const meas_row *r, char c)
{
    switch (c) {
    case 'N': return r->gN;
    case '1': return r->g1;
    case 'f': return r->f - t->finf;
    default: return r->muon ? r->gN : r->g1;
    }
}

static int stop_fn(const meas_trace *t, long k, void *vc)
{
    stop_state *st = vc;
    const vr_targets *tg = st->tg;
    const meas_row *r = &t->rows[k];
    double eta = r->muon ? t->eta_M : t->eta_L;
    int all = 1;
    for (int c = 0; c < tg->ncrit; c++) {
        double v = row_crit(t, r, tg->crit[c]);
        if (tg->crit[c] != 'f') {
            st->num[c] += eta * v;
            st->H[c] += eta;
            v = st->H[c] > 0 ? st->num[c] / st->H[c] : INFINITY;
        }
        for (int q = 0; q < tg->neps; q++) {
            st->reached[c][q] |= v <= tg->eps[c][q];
            all &= st->reached[c][q];
        }
    }
    /* vr_target_scores finds each first time again from the rows */
    return all && k + 1 >= tg->min_T;
}

/* Run job j with noise seed `seed` (LionMuon, exact msign, no weight decay);
 * on success the caller frees tr. */
static int job_run(const vr_job *j, unsigned long seed, meas_trace *tr, meas_summary *sm,
                   lm_error *e)
{
    obj *o = vr_job_obj(j, e);
    if (!o)
        return -1;
    opt_config c = opt_default_config(j->sgd ? OPT_SIGNUM : OPT_LIONMUON);
    if (!j->sgd)
        c.period = j->P;
    c.beta1 = j->beta1;
    c.beta2 = j->beta2;
    c.lr_muon = j->lr_muon;
    c.lr_sign = j->lr_sign;
    c.msign = msign_default_opts(MSIGN_SVD);
    c.weight_decay = 0;
    stop_state st = {j->targets, {0}, {0}, {{0}}};
    meas_setup ms = {.o = o, .noise = &j->np, .opt = &c, .T = j->T, .seed = seed,
                     .light = j->light, .extra_samples = j->light ? 0 : j->extra,
                     .sgd = j->sgd};
    if (j->targets && j->light) {
        ms.stop = stop_fn;
        ms.stop_ctx = &st;
    }
    int rc = meas_run(&ms, tr, e);
    if (rc == 0 && sm && !j->light) {
        rc = meas_summarize(tr, 0, noise_tail_index(&j->np), sm, e);
        if (rc != 0)
            meas_trace_free(tr);
    }
    obj_free(o);
    return rc;
}

/* ---- progress ---- */

void vr_progress_init(vr_progress *p, const char *check, int total)
{
    p->check = check;
    p->note = NULL;
    p->done = 0;
    p->total = total;
    p->t0 = la_seconds();
}

/* A seed of job j has finished (called inside the runner's critical
 * section; left: j's seeds still running, start: its first seed's start):
 * j's line once its last seed is in. */
static void progress_seed(vr_progress *pg, const vr_job *j, int *left, double start)
{
    if (!pg || --*left > 0)
        return;
    double now = la_seconds();
    char *lab = vr_job_label(j);
    pg->done++;
    fprintf(stderr, "%s: config %d/%d done in %.1f s (%s%s); %.1f s elapsed\n", pg->check,
            pg->done, pg->total, now - start, pg->note ? pg->note : "", lab, now - pg->t0);
    fflush(stderr);
    free(lab);
}

/* ---- the runner ---- */

int vr_run_seeds(const vr_job *jobs, int njobs, int seeds, unsigned long base, vr_job_fn fn,
                 void *ctx, vr_progress *pg, lm_error *e)
{
    int total = njobs * seeds, fail = 0;
    lm_error first = {{0}};
    int *left = lm_calloc((size_t)njobs, sizeof *left);  /* seeds still running, per job */
    double *start = lm_calloc((size_t)njobs, sizeof *start); /* its first seed's start */
    for (int i = 0; i < njobs; i++) {
        left[i] = seeds;
        start[i] = INFINITY;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < total; k++) {
        int i = k / seeds, s = k % seeds;
        int bad;
#pragma omp atomic read
        bad = fail;
        if (bad)
            continue;
        if (pg) {
            double t = la_seconds();
#pragma omp critical(vr_progress)
            start[i] = fmin(start[i], t);
        }
        meas_trace tr;
        meas_summary sm;
        lm_error le = {{0}};
        if (job_run(&jobs[i], base + (unsigned long)s, &tr, &sm, &le) != 0) {
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
#pragma omp critical(vr_progress)
        progress_seed(pg, &jobs[i], &left[i], start[i]);
    }
    free(left);
    free(start);
    if (fail) {
        if (e)
            *e = first;
        return -1;
    }
    return 0;
}

int vr_run_all(const vr_job *jobs, int njobs, int seeds, vr_job_fn fn, void *ctx,
               vr_progress *pg, lm_error *e)
{
    return vr_run_seeds(jobs, njobs, seeds, VR_EVAL_BASE, fn, ctx, pg, e);
}

void vr_target_scores(const vr_targets *tg, const meas_trace *t, double *out)
{
    for (int c = 0; c < tg->ncrit; c++) {
        char cr = tg->crit[c];
        double fin = cr == 'f' ? t->rows[t->T - 1].f - t->finf : meas_weighted_avg(t, t->T, cr);
        for (int q = 0; q < tg->neps; q++) {
            double *o = &out[c * tg->neps + q];
            long h = meas_hit_time(t, cr, tg->eps[c][q]);
            if (h > 0)
                *o = (double)h;
            else if (t->diverged || !isfinite(fin))
                *o = INFINITY;
            else
                *o = (double)t->T * fmax(1.0, fin / tg->eps[c][q]);
        }
    }
}

void vr_criterion(lm_buf *md, const char *check, const char *text)
{
    if (!md) {
        printf("%s: success criterion (stated before the run):\n%s\n\n", check, text);
        fflush(stdout);
        return;
    }
    lm_buf_printf(md, "## Success criterion (stated before the run)\n\n%s\n\n", text);
}

/* ---- statistics over seeds ---- */

void vr_ci_strided(int n, const double *x, size_t stride, double *mean, double *half)
{
    double v[64];
    for (int s = 0; s < n; s++)
        v[s] = x[(size_t)s * stride];
    stats_mean_ci((size_t)n, v, mean, half);
}

/* ---- hitting times ---- */

void vr_hit_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc)
{
    vr_hit_ctx *c = vc;
    double *out = c->hit + (size_t)(i * c->seeds + s) * c->neps;
    for (int k = 0; k < c->neps; k++) {
        long h = meas_hit_time(t, c->norm, c->eps[k]);
        out[k] = h > 0 ? (double)h : INFINITY;
    }
}

int vr_best_config(const vr_hit_ctx *c, const int *cfg, int ncfg, int k, double *mean)
{
    int best = -1;
    *mean = INFINITY;
    for (int a = 0; a < ncfg; a++) {
        double s = 0;
        for (int q = 0; q < c->seeds; q++)
            s += c->hit[(size_t)(cfg[a] * c->seeds + q) * c->neps + k];
        s /= c->seeds;
        if (s < *mean) {
            *mean = s;
            best = cfg[a];
        }
    }
    return isfinite(*mean) ? best : -1;
}

/* ---- labels ---- */

/* printf into a newly allocated string. */
static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = lm_malloc((size_t)(n > 0 ? n : 0) + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *vr_noise_label(const noise_params *np)
{
    const char *st = np->structure == NOISE_ENTRYWISE ? "" :
                     np->structure == NOISE_LOWRANK ? "/low-rank" : "/sparse";
    switch (np->dist) {
    case NOISE_STUDENT_T: return str_printf("t(%.3g)%s", np->nu, st);
    case NOISE_STABLE: return str_printf("stable(%.3g)%s", np->alpha, st);
    case NOISE_GAUSSIAN: return str_printf("gaussian%s", st);
    case NOISE_PARETO: return str_printf("pareto(%.3g)%s", np->pareto_a, st);
    default: return str_printf("minibatch");
    }
}

char *vr_obj_label(const vr_job *j)
{
    if (j->kind == OBJ_MIX)
        return str_printf("mix(%.2g)", j->lambda);
    if (j->kind == OBJ_GEOMETRY)
        return str_printf("geometry(%.2g)", j->lambda);
    return str_printf("%s", obj_kind_name(j->kind));
}

char *vr_job_label(const vr_job *j)
{
    /* no injected noise outside zipf is "no noise" (vr_noise_label says
     * "minibatch", zipf's own) */
    char *ob = vr_obj_label(j),
         *nb = j->np.dist == NOISE_NONE && j->kind != OBJ_ZIPF ? lm_strdup("no noise")
                                                               : vr_noise_label(&j->np),
         pb[32], lm[48] = "", ls[48] = "", bt[64] = "";
    if (j->beta1 != 0.9 || j->beta2 != 0.99)
        snprintf(bt, sizeof bt, ", beta1=%g, beta2=%g", j->beta1, j->beta2);
    if (j->sgd) { /* V5's control: momentum SGD at rate lr_sign */
        char *s = str_printf("%s, %s, momentum SGD, lr=%g%s", ob, nb, j->lr_sign, bt);
        free(ob);
        free(nb);
        return s;
    }
    if (j->P != 0)
        snprintf(lm, sizeof lm, ", lr_muon=%g", j->lr_muon);
    if (j->P != 1)
        snprintf(ls, sizeof ls, ", lr_sign=%g", j->lr_sign);
    char *s = str_printf("%s, %s, P=%s%s%s%s", ob, nb, vr_pname(j->P, pb), lm, ls, bt);
    free(ob);
    free(nb);
    return s;
}

const char *vr_pname(long P, char *buf)
{
    if (P == 0)
        return "inf";
    sprintf(buf, "%ld", P);
    return buf;
}

/* ---- output ---- */

/* Write b to dir/stem.ext atomically and release it. */
static int write_buf(lm_buf *b, const char *dir, const char *stem, const char *ext, lm_error *e)
{
    char *name = str_printf("%s.%s", stem, ext);
    int rc = lm_write_in_dir(dir, name, b->s ? b->s : "", b->len, e);
    free(name);
    lm_buf_free(b);
    return rc;
}

int vr_write(vr_out *o, json_t *js, const char *dir, const char *stem, lm_error *e)
{
    int rc = write_buf(&o->csv, dir, stem, "csv", e);
    if (!rc)
        rc = write_buf(&o->md, dir, stem, "md", e);
    if (!rc)
        rc = write_buf(&o->dat, dir, stem, "dat", e);
    if (!rc) {
        char *name = str_printf("%s.json", stem);
        char *path = lm_path_join(dir, name);
        rc = val_write_json(js, path, e);
        free(path);
        free(name);
    }
    lm_buf_free(&o->csv);
    lm_buf_free(&o->md);
    lm_buf_free(&o->dat);
    json_decref(js);
    return rc;
}

/* ---- the dispatcher ---- */

int val_check_run(const char *name, const val_check_opts *o, lm_error *e)
{
    if (o->seeds < 2 || o->seeds > 64)
        return lm_fail(e, "--seeds: must lie in [2, 64] (got %d)", o->seeds);
    int (*fn[])(const val_check_opts *, lm_error *) = {val_check_v1, val_check_v2, val_check_v3,
                                                        val_check_v4, val_check_v5, val_check_v6};
    if ((name[0] == 'V' || name[0] == 'v') && name[1] >= '1' && name[1] <= '6' && !name[2]) {
        char *created;
        if (lm_mkdir_new(o->dir, &created, e) != 0)
            return lm_wrap(e, "--out");
        int rc = fn[name[1] - '1'](o, e);
        if (rc != 0) /* a failed check leaves no empty directory */
            lm_rmdir_created(o->dir, created);
        else
            free(created);
        return rc;
    }
    return lm_fail(e, "--check: unknown check '%s' (V1, V2, V3, V4, V5, V6)", name);
}
