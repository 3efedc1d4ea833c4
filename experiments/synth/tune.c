/* tune.c - lattices that extend themselves at an edge, for the runs and
 * for the bound (tune.h). */
#include "tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"

double vt_value(const vt_lattice *L, int d, int i)
{
    return L->anchor[d] * pow(L->step[d], (double)i);
}

int vt_neighbours(const vt_lattice *L, const int *coord, int *nb)
{
    int n = 0, tot = 1;
    for (int d = 0; d < L->nd; d++)
        tot *= 3;
    for (int k = 0; k < tot; k++) {
        int c[VT_MAXDIM] = {0}, r = k, zero = 1, ok = 1;
        for (int d = 0; d < L->nd; d++) {
            int off = r % 3 - 1;
            r /= 3;
            zero &= off == 0;
            c[d] = coord[d] + off;
            ok &= c[d] >= L->min[d] && c[d] <= L->max[d];
        }
        if (!zero && ok)
            memcpy(&nb[(size_t)n++ * VT_MAXDIM], c, sizeof c);
    }
    return n;
}

int vt_at_cap(const vt_lattice *L, const int *coord)
{
    for (int d = 0; d < L->nd; d++)
        if ((coord[d] <= L->min[d] && !L->nat_lo[d]) || (coord[d] >= L->max[d] && !L->nat_hi[d]))
            return 1;
    return 0;
}

/* The number of points of the box and the coordinates of point idx. */
static long box_size(const vt_lattice *L)
{
    long n = 1;
    for (int d = 0; d < L->nd; d++)
        n *= L->hi[d] - L->lo[d] + 1;
    return n;
}

static void box_point(const vt_lattice *L, long idx, int *coord)
{
    for (int d = 0; d < L->nd; d++) {
        long w = L->hi[d] - L->lo[d] + 1;
        coord[d] = L->lo[d] + (int)(idx % w);
        idx /= w;
    }
}

/* ---- the cheap-function minimiser (the bound's side) ---- */

/* A small open-addressing memo of evaluated points. */
typedef struct {
    long cap, n;
    int (*key)[VT_MAXDIM];
    double *val;
    unsigned char *used;
} memo;

static unsigned long memo_hash(const int *c)
{
    unsigned long h = 1469598103934665603UL;
    for (int d = 0; d < VT_MAXDIM; d++)
        h = (h ^ (unsigned long)(unsigned)c[d]) * 1099511628211UL;
    return h;
}

static void memo_init(memo *m, long cap)
{
    m->cap = cap;
    m->n = 0;
    m->key = lm_calloc((size_t)cap, sizeof *m->key);
    m->val = lm_calloc((size_t)cap, sizeof *m->val);
    m->used = lm_calloc((size_t)cap, 1);
}

static void memo_free(memo *m)
{
    free(m->key);
    free(m->val);
    free(m->used);
}

static double *memo_slot(memo *m, const int *c, int *fresh);

static void memo_grow(memo *m)
{
    memo old = *m;
    memo_init(m, 2 * old.cap);
    for (long i = 0; i < old.cap; i++)
        if (old.used[i]) {
            int fresh;
            *memo_slot(m, old.key[i], &fresh) = old.val[i];
        }
    memo_free(&old);
}

static double *memo_slot(memo *m, const int *c, int *fresh)
{
    if (2 * (m->n + 1) > m->cap)
        memo_grow(m);
    long i = (long)(memo_hash(c) % (unsigned long)m->cap);
    while (m->used[i] && memcmp(m->key[i], c, sizeof m->key[i]))
        i = (i + 1) % m->cap;
    *fresh = !m->used[i];
    if (*fresh) {
        m->used[i] = 1;
        memcpy(m->key[i], c, sizeof m->key[i]);
        m->n++;
    }
    return &m->val[i];
}

/* Evaluate f at c through the memo; updates the best point. */
static void memo_eval(memo *m, const vt_lattice *L, const int *c,
                      double (*f)(const double *, void *), void *ctx, int *bc, double *best)
{
    int fresh;
    double *v = memo_slot(m, c, &fresh);
    if (fresh) {
        double vals[VT_MAXDIM];
        for (int d = 0; d < L->nd; d++)
            vals[d] = vt_value(L, d, c[d]);
        *v = f(vals, ctx);
    }
    if (*v < *best) {
        *best = *v;
        memcpy(bc, c, sizeof(int) * VT_MAXDIM);
    }
}

int vt_minimise(vt_lattice *L, double (*f)(const double *vals, void *ctx), void *ctx,
                int coarse, int max_rounds, int *coord, double *best)
{
    memo m;
    memo_init(&m, 1024);
    int bc[VT_MAXDIM] = {0}, nb[27 * VT_MAXDIM], r;
    *best = INFINITY;
    box_point(L, 0, bc);
    vt_lattice S = *L;
    if (coarse > 0) /* every coarse-th point of the capped lattice */
        for (int d = 0; d < L->nd; d++) {
            S.lo[d] = 0;
            S.hi[d] = (L->max[d] - L->min[d]) / coarse;
        }
    long n = box_size(&S);
    for (long idx = 0; idx < n; idx++) {
        int c[VT_MAXDIM] = {0};
        box_point(&S, idx, c);
        if (coarse > 0)
            for (int d = 0; d < L->nd; d++)
                c[d] = L->min[d] + coarse * c[d];
        memo_eval(&m, L, c, f, ctx, bc, best);
    }
    for (r = 0; r < max_rounds; r++) {
        int before[VT_MAXDIM];
        memcpy(before, bc, sizeof before);
        long n0 = m.n;
        int k = vt_neighbours(L, before, nb);
        for (int i = 0; i < k; i++)
            memo_eval(&m, L, &nb[(size_t)i * VT_MAXDIM], f, ctx, bc, best);
        if (m.n == n0) /* every neighbour of the best point was already evaluated */
            break;
    }
    memcpy(coord, bc, sizeof bc);
    memo_free(&m);
    return r == max_rounds || vt_at_cap(L, coord);
}

/* ---- the runs ---- */

static int find_point(const vt_group *g, const int *c)
{
    for (int i = 0; i < g->n; i++)
        if (!memcmp(&g->coord[(size_t)i * VT_MAXDIM], c, sizeof(int) * VT_MAXDIM))
            return i;
    return -1;
}

static int add_point(vt_group *g, const vt_tuner *t, const int *c)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 32;
        g->coord = realloc(g->coord, (size_t)g->cap * VT_MAXDIM * sizeof(int));
        g->tune = realloc(g->tune, (size_t)g->cap * t->tune_seeds * t->nscore * sizeof(double));
        g->eval = realloc(g->eval, (size_t)g->cap * (t->eval_seeds ? t->eval_seeds : 1) *
                                       t->nscore * sizeof(double));
        if (!g->coord || !g->tune || !g->eval)
            abort();
    }
    int i = g->n++;
    memset(&g->coord[(size_t)i * VT_MAXDIM], 0, sizeof(int) * VT_MAXDIM);
    memcpy(&g->coord[(size_t)i * VT_MAXDIM], c, sizeof(int) * (size_t)g->lat.nd);
    for (long q = 0; q < (long)(t->eval_seeds ? t->eval_seeds : 1) * t->nscore; q++)
        g->eval[(size_t)i * (t->eval_seeds ? t->eval_seeds : 1) * t->nscore + q] = NAN;
    return i;
}

void vt_point_values(const vt_group *g, int i, double *vals)
{
    for (int d = 0; d < g->lat.nd; d++)
        vals[d] = vt_value(&g->lat, d, g->coord[(size_t)i * VT_MAXDIM + d]);
}

double vt_tune_mean(const vt_tuner *t, const vt_group *g, int i, int k)
{
    double s = 0;
    for (int q = 0; q < t->tune_seeds; q++)
        s += g->tune[((size_t)i * t->tune_seeds + q) * t->nscore + k];
    return s / t->tune_seeds;
}

double vt_eval_score(const vt_tuner *t, const vt_group *g, int i, int s, int k)
{
    return g->eval[((size_t)i * t->eval_seeds + s) * t->nscore + k];
}

/* The runs of one stage: job r is point pt[r] of group grp[r]. */
typedef struct {
    vt_tuner *t;
    int *grp, *pt;
    int eval;
} stage_ctx;

static void stage_fn(int r, int s, const meas_trace *tr, const meas_summary *sm, void *vc)
{
    stage_ctx *c = vc;
    vt_tuner *t = c->t;
    vt_group *g = &t->groups[c->grp[r]];
    int S = c->eval ? t->eval_seeds : t->tune_seeds;
    double *dst = (c->eval ? g->eval : g->tune) + ((size_t)c->pt[r] * S + s) * t->nscore;
    t->score(g, tr, dst, t->ctx);
}

static vr_job make_job(const vt_group *g, int i)
{
    vr_job j = g->base;
    double vals[VT_MAXDIM];
    vt_point_values(g, i, vals);
    g->apply(&j, vals);
    return j;
}

/* Run the listed points on the stage's seeds (round: 1-based tuning round,
 * 0 the evaluation), a progress line per point. */
static int run_stage(vt_tuner *t, int n, int *grp, int *pt, int eval, int round, lm_error *e)
{
    if (n == 0)
        return 0;
    vr_job *jobs = lm_calloc((size_t)n, sizeof *jobs);
    for (int r = 0; r < n; r++)
        jobs[r] = make_job(&t->groups[grp[r]], pt[r]);
    stage_ctx c = {t, grp, pt, eval};
    char note[48];
    if (eval)
        snprintf(note, sizeof note, "evaluation: ");
    else
        snprintf(note, sizeof note, "tuning round %d: ", round);
    vr_progress pg;
    vr_progress_init(&pg, t->label, n);
    pg.t0 = t->t0;
    pg.note = note;
    int rc = vr_run_seeds(jobs, n, eval ? t->eval_seeds : t->tune_seeds,
                          eval ? VR_EVAL_BASE : VR_TUNE_BASE, stage_fn, &c, &pg, e);
    free(jobs);
    return rc;
}

/* Each pick score's best point by the tuning mean. */
static void pick(vt_tuner *t, vt_group *g)
{
    for (int k = 0; k < t->npick; k++) {
        double best = INFINITY;
        g->pick[k] = -1;
        for (int i = 0; i < g->n; i++) {
            double m = vt_tune_mean(t, g, i, k);
            if (m < best) {
                best = m;
                g->pick[k] = i;
            }
        }
        if (g->pick[k] >= 0)
            g->edge[k] = vt_at_cap(&g->lat, &g->coord[(size_t)g->pick[k] * VT_MAXDIM]);
    }
}

/* Append (group a, point i) to the pending lists. */
static void push_pending(int **grp, int **pt, int *n, int *cap, int a, int i)
{
    if (*n == *cap) {
        *cap *= 2;
        *grp = realloc(*grp, (size_t)*cap * sizeof(int));
        *pt = realloc(*pt, (size_t)*cap * sizeof(int));
        if (!*grp || !*pt)
            abort();
    }
    (*grp)[*n] = a;
    (*pt)[(*n)++] = i;
}

/* The points to run next: round 0 the starting boxes, later the
 * neighbours of every pick that have not been run. */
static int pending(vt_tuner *t, int round, int **grp, int **pt)
{
    int n = 0, cap = 64, nb[27 * VT_MAXDIM];
    *grp = lm_malloc((size_t)cap * sizeof(int));
    *pt = lm_malloc((size_t)cap * sizeof(int));
    for (int a = 0; a < t->ngroups; a++) {
        vt_group *g = &t->groups[a];
        if (round == 0) {
            long bs = box_size(&g->lat);
            for (long idx = 0; idx < bs; idx++) {
                int c[VT_MAXDIM] = {0};
                box_point(&g->lat, idx, c);
                if (find_point(g, c) < 0)
                    push_pending(grp, pt, &n, &cap, a, add_point(g, t, c));
            }
            continue;
        }
        for (int k = 0; k < t->npick; k++) {
            if (g->pick[k] < 0)
                continue;
            int c[VT_MAXDIM];
            memcpy(c, &g->coord[(size_t)g->pick[k] * VT_MAXDIM], sizeof c);
            int nn = vt_neighbours(&g->lat, c, nb);
            for (int i = 0; i < nn; i++)
                if (find_point(g, &nb[(size_t)i * VT_MAXDIM]) < 0)
                    push_pending(grp, pt, &n, &cap, a, add_point(g, t, &nb[(size_t)i * VT_MAXDIM]));
        }
    }
    return n;
}

/* The picks of every group, to tell which moved in a round. */
static int *save_picks(const vt_tuner *t)
{
    int *p = lm_malloc((size_t)t->ngroups * (t->npick ? t->npick : 1) * sizeof *p);
    for (int a = 0; a < t->ngroups; a++)
        for (int k = 0; k < t->npick; k++)
            p[a * t->npick + k] = t->groups[a].pick[k];
    return p;
}

int vt_tune(vt_tuner *t, lm_error *e)
{
    int round;
    if (!(t->t0 > 0))
        t->t0 = la_seconds();
    for (round = 0; round < t->max_rounds; round++) {
        int *grp, *pt;
        int n = pending(t, round, &grp, &pt);
        if (n == 0) {
            free(grp);
            free(pt);
            return 0;
        }
        fprintf(stderr, "%s: tuning round %d: %d new points x %d tuning seeds\n", t->label,
                round + 1, n, t->tune_seeds);
        fflush(stderr);
        double r0 = la_seconds();
        int *before = save_picks(t);
        int rc = run_stage(t, n, grp, pt, 0, round + 1, e);
        free(grp);
        free(pt);
        if (rc != 0) {
            free(before);
            return rc;
        }
        int moved = 0;
        for (int a = 0; a < t->ngroups; a++) {
            t->groups[a].rounds = round + 1;
            pick(t, &t->groups[a]);
            int mv = round == 0;
            for (int k = 0; k < t->npick; k++)
                mv |= t->groups[a].pick[k] != before[a * t->npick + k];
            moved += mv;
        }
        free(before);
        double now = la_seconds();
        fprintf(stderr, "%s: tuning round %d done in %.1f s; best points moved in %d of %d "
                        "groups; %.1f s elapsed\n", t->label, round + 1, now - r0, moved,
                t->ngroups, now - t->t0);
        fflush(stderr);
    }
    /* out of rounds: the last picks stand, flagged */
    for (int a = 0; a < t->ngroups; a++)
        for (int k = 0; k < t->npick; k++)
            t->groups[a].edge[k] |= t->groups[a].pick[k] >= 0;
    return 0;
}

int vt_evaluate(vt_tuner *t, lm_error *e)
{
    if (t->eval_seeds < 1)
        return 0;
    int n = 0, *grp = lm_malloc((size_t)t->ngroups * t->npick * sizeof(int));
    int *pt = lm_malloc((size_t)t->ngroups * t->npick * sizeof(int));
    for (int a = 0; a < t->ngroups; a++)
        for (int k = 0; k < t->npick; k++) {
            int p = t->groups[a].pick[k], dup = p < 0;
            for (int q = 0; q < n && !dup; q++)
                dup = grp[q] == a && pt[q] == p;
            if (!dup) {
                grp[n] = a;
                pt[n++] = p;
            }
        }
    if (!(t->t0 > 0))
        t->t0 = la_seconds();
    fprintf(stderr, "%s: evaluation: %d tuned points x %d evaluation seeds\n", t->label, n,
            t->eval_seeds);
    fflush(stderr);
    int rc = run_stage(t, n, grp, pt, 1, 0, e);
    free(grp);
    free(pt);
    return rc;
}

void vt_group_free(vt_group *g)
{
    free(g->coord);
    free(g->tune);
    free(g->eval);
    g->coord = NULL;
    g->tune = g->eval = NULL;
    g->n = g->cap = 0;
}
