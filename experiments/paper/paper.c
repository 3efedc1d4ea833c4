/* paper.c - runs, selection and report for the paper's claims (paper.h). */
#include "paper.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lionmuon/measure.h"
#include "lionmuon/fs.h"
#include "lionmuon/stats.h"
#include "tools/sweep.h"

/* ---- what is run ---- */

typedef struct {
    const char *name;      /* directory name and label */
    const char *optimizer;
    long period;           /* -1: the optimizer's own */
    double lr_muon, lr_sign, lr_adamw; /* the paper's 124M rates (ALGORITHMS.md) */
} config;

static const config CONFIGS[] = {
    {"adamw", "adamw", -1, 0, 0, 5e-4},
    {"lion", "lion", -1, 0, 5e-5, 1e-3},
    {"signum", "signum", -1, 0, 5e-5, 1e-3},
    {"muon", "muon", -1, 1e-3, 0, 1e-3},
    {"signmuon-p2", "signmuon", 2, 2e-3, 5e-5, 1e-3},
    {"lionmuon-p1", "lionmuon", 1, 7e-4, 5e-5, 1e-3},
    {"lionmuon-p2", "lionmuon", 2, 1e-3, 5e-5, 1e-3},
    {"lionmuon-p5", "lionmuon", 5, 2e-3, 5e-5, 1e-3},
    {"lionmuon-p20", "lionmuon", 20, 5e-3, 5e-5, 1e-3},
    {"lionmuon-p100", "lionmuon", 100, 7e-3, 5e-5, 1e-3},
};
#define NCONF ((int)(sizeof CONFIGS / sizeof CONFIGS[0]))
static const char *MODELS[] = {"gpt2", "llama"};
#define NMODEL 2

static const double GRID_FULL[] = {1, 4, 16, 64};
static const double GRID_QUICK[] = {4, 16};
#define TUNE_SEED 100

static int nseeds(int quick) { return quick ? 2 : 5; }

static void grid(int quick, const double **g, int *n)
{
    *g = quick ? GRID_QUICK : GRID_FULL;
    *n = quick ? 2 : 4;
}

static int find_config(const char *name)
{
    for (int i = 0; i < NCONF; i++)
        if (!strcmp(CONFIGS[i].name, name))
            return i;
    return -1;
}

/* The flags of one run: model sizes, optimizer, scaled rates, seed, out. */
static int run_argv(const char *model, const config *c, double scale, long seed, int quick,
                    const char *out, char buf[][48], const char **argv)
{
    int n = 0;
#define ARG(...) (snprintf(buf[n], 48, __VA_ARGS__), argv[n] = buf[n], n++)
    ARG("train");
    ARG("--model"); ARG("%s", model);
    ARG("--n-layer"); ARG("%d", quick ? 1 : 2);
    ARG("--n-head"); ARG("%d", quick ? 2 : 4);
    ARG("--n-embd"); ARG("%d", quick ? 32 : 64);
    ARG("--seq-len"); ARG("%d", quick ? 16 : 32);
    ARG("--batch-size"); ARG("%d", quick ? 4 : 16);
    ARG("--iterations"); ARG("%d", quick ? 40 : 400);
    ARG("--eval-every"); ARG("%d", quick ? 10 : 25);
    ARG("--eval-batches"); ARG("%d", quick ? 2 : 8);
    ARG("--diag-every"); ARG("%d", quick ? 10 : 25);
    ARG("--ckpt-every"); ARG("0");
    if (!strcmp(model, "llama")) {
        ARG("--multiple-of"); ARG("32");
    }
    ARG("--optimizer"); ARG("%s", c->optimizer);
    if (c->period >= 0) {
        ARG("--period"); ARG("%ld", c->period);
    }
    if (c->lr_muon > 0) {
        ARG("--lr-muon"); ARG("%.6g", c->lr_muon * scale);
    }
    if (c->lr_sign > 0) {
        ARG("--lr-sign"); ARG("%.6g", c->lr_sign * scale);
    }
    ARG("--lr-adamw"); ARG("%.6g", c->lr_adamw * scale);
    ARG("--seed"); ARG("%ld", seed);
    ARG("--quiet");
    ARG("--no-plot");
    argv[n] = "--out";
    n++;
    argv[n++] = out;
#undef ARG
    return n;
}

/* tuned.json: {"gpt2": {"adamw": {"scale": s, "losses": [...]}, ...}, ...} */
static json_t *load_json(const char *path, lm_error *e)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        lm_fail(e, "%s: %s", path, je.text);
    return j;
}

static double tuned_scale(json_t *tuned, const char *model, const char *cfg)
{
    json_t *s = json_object_get(json_object_get(json_object_get(tuned, model), cfg), "scale");
    return json_is_number(s) ? json_number_value(s) : NAN;
}

int paper_manifest(const char *dir, paper_stage stage, int quick, const char *manifest,
                   lm_error *e)
{
    char path[1024], out[1024], buf[64][48];
    const char *argv[64];
    json_t *tuned = NULL;
    if (stage == PAPER_MAIN) {
        snprintf(path, sizeof path, "%s/tuned.json", dir);
        if (!(tuned = load_json(path, e)))
            return -1;
    }
    FILE *fp = fopen(manifest, "w"); /* start afresh: the sweep skips finished runs */
    if (!fp) {
        json_decref(tuned);
        return lm_fail(e, "%s: cannot write: %s", manifest, strerror(errno));
    }
    fclose(fp);
    const double *g;
    int ng, rc = 0;
    grid(quick, &g, &ng);
    for (int mi = 0; mi < NMODEL && rc == 0; mi++)
        for (int ci = 0; ci < NCONF && rc == 0; ci++) {
            const config *c = &CONFIGS[ci];
            if (stage == PAPER_TUNE) {
                for (int k = 0; k < ng && rc == 0; k++) {
                    snprintf(out, sizeof out, "%s/tune/%s/%s/s%g", dir, MODELS[mi], c->name, g[k]);
                    int n = run_argv(MODELS[mi], c, g[k], TUNE_SEED, quick, out, buf, argv);
                    rc = sweep_append(manifest, out, n, argv, e);
                }
            } else {
                double s = tuned_scale(tuned, MODELS[mi], c->name);
                if (!isfinite(s)) {
                    rc = lm_fail(e, "%s/tuned.json: no factor for %s %s", dir, MODELS[mi], c->name);
                    break;
                }
                for (int seed = 1; seed <= nseeds(quick) && rc == 0; seed++) {
                    snprintf(out, sizeof out, "%s/main/%s/%s/seed%d", dir, MODELS[mi], c->name, seed);
                    int n = run_argv(MODELS[mi], c, s, seed, quick, out, buf, argv);
                    rc = sweep_append(manifest, out, n, argv, e);
                }
            }
        }
    json_decref(tuned);
    return rc;
}

/* ---- reading results ---- */

/* A run's summary.json number, NAN when the run or the key is missing. */
static double summary_value(const char *run_dir, const char *key)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    json_t *j = json_load_file(path, 0, NULL);
    json_t *v = j ? json_object_get(j, key) : NULL;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return x;
}

int paper_select(const char *dir, int quick, lm_error *e)
{
    const double *g;
    int ng;
    grid(quick, &g, &ng);
    json_t *root = json_object();
    for (int mi = 0; mi < NMODEL; mi++) {
        json_t *per = json_object();
        for (int ci = 0; ci < NCONF; ci++) {
            json_t *losses = json_array();
            double best = INFINITY, best_s = g[0];
            for (int k = 0; k < ng; k++) {
                char run[1024];
                snprintf(run, sizeof run, "%s/tune/%s/%s/s%g", dir, MODELS[mi], CONFIGS[ci].name, g[k]);
                double l = summary_value(run, "best_val_loss");
                json_array_append_new(losses, isfinite(l) ? json_real(l) : json_null());
                if (isfinite(l) && l < best) {
                    best = l;
                    best_s = g[k];
                }
            }
            json_object_set_new(per, CONFIGS[ci].name,
                                json_pack("{s:f,s:o}", "scale", best_s, "losses", losses));
        }
        json_object_set_new(root, MODELS[mi], per);
    }
    json_t *gj = json_array();
    for (int k = 0; k < ng; k++)
        json_array_append_new(gj, json_real(g[k]));
    json_object_set_new(root, "grid", gj);
    char path[1024];
    snprintf(path, sizeof path, "%s/tuned.json", dir);
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    int rc = lm_write_atomic(path, txt, strlen(txt), e);
    free(txt);
    json_decref(root);
    return rc;
}

/* ---- the report ---- */

#define MAXPT 128
#define MAXSEED 5

typedef struct {
    int n;
    double step[MAXPT], flops[MAXPT], wall[MAXPT], loss[MAXPT];
} curve;

typedef struct {
    int ok;
    double best, flops, wall, bytes, excess, bayes;
    curve cv;
} run_result;

static const char *DIAG[7] = {"grad_nuc_over_1", "param_2_over_inf", "update_2_over_inf",
                              "errmom_F_over_nuc", "errmom_F_over_1", "smooth_nuc_over_2",
                              "smooth_1_over_inf"};
/* medians over a 10000-step LionMuon P = 2 run at 124M (ALGORITHMS.md) */
static const double DIAG_PAPER[7] = {0.0167, 19.4, 410, 0.0696, 0.00112, 0.81, 837};

/* Split a CSV line in place into at most max fields (empty fields kept). */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int col(char **h, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(h[i], name))
            return i;
    return -1;
}

/* The validation points of metrics.csv: step, cumulative FLOPs, wall time, loss. */
static int read_curve(const char *run, curve *c)
{
    char path[1100], line[4096], hdr[4096];
    char *h[32], *f[32];
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    FILE *fp = fopen(path, "r");
    c->n = 0;
    if (!fp || !fgets(hdr, sizeof hdr, fp)) {
        if (fp)
            fclose(fp);
        return -1;
    }
    int nh = csv_split(hdr, h, 32);
    int cs = col(h, nh, "step"), cv = col(h, nh, "val_loss"), cf = col(h, nh, "flops"),
        cw = col(h, nh, "wall_s");
    while (cs >= 0 && cv >= 0 && cf >= 0 && cw >= 0 && fgets(line, sizeof line, fp) && c->n < MAXPT) {
        int nf = csv_split(line, f, 32);
        if (nf <= cv || !*f[cv])
            continue;
        c->step[c->n] = atof(f[cs]);
        c->flops[c->n] = atof(f[cf]);
        c->wall[c->n] = atof(f[cw]);
        c->loss[c->n] = atof(f[cv]);
        c->n++;
    }
    fclose(fp);
    return c->n > 0 ? 0 : -1;
}

/* Best validation loss among the points evaluated within a budget of
 * FLOPs (use_wall = 0) or seconds (use_wall = 1). */
static double best_within(const curve *c, double budget, int use_wall)
{
    double best = INFINITY;
    for (int i = 0; i < c->n; i++) {
        double x = use_wall ? c->wall[i] : c->flops[i];
        if (x <= budget * (1 + 1e-12) && c->loss[i] < best)
            best = c->loss[i];
    }
    return best;
}

static void load_run(const char *dir, int mi, int ci, int seed, run_result *r)
{
    char run[1000];
    snprintf(run, sizeof run, "%s/main/%s/%s/seed%d", dir, MODELS[mi], CONFIGS[ci].name, seed);
    r->best = summary_value(run, "best_val_loss");
    r->flops = summary_value(run, "total_flops");
    r->wall = summary_value(run, "wall_s");
    r->bytes = summary_value(run, "optimizer_state_bytes");
    r->excess = summary_value(run, "excess_loss");
    r->bayes = summary_value(run, "bayes_loss");
    r->ok = isfinite(r->best) && read_curve(run, &r->cv) == 0;
}

/* mean and 95% t half-width over the finite values (missing runs are NAN) */
static void mean_ci(int n, const double *x, double *mean, double *half, int *count)
{
    double v[64];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[k++] = x[i];
    *count = k;
    stats_mean_ci((size_t)k, v, mean, half);
}

typedef struct {
    FILE *md;
    FILE *sum;        /* one line per verdict, for the summary at the top */
    const char *dir, *plots, *link;
    int quick, ns;
    run_result R[NMODEL][NCONF][MAXSEED];
} report;

static const char *verdict(double mean, double half)
{
    if (!isfinite(half))
        return "undetermined (one seed)";
    if (mean + half < 0)
        return "**holds**";
    if (mean - half > 0)
        return "**fails** (the other is better)";
    return "**not significant** (the interval contains 0)";
}

/* Paired difference over seeds of a's best loss within b's budget minus
 * b's best loss; prints one table row and returns the verdict's sign. */
static void paired_row(report *rp, int mi, int a, int b, int use_wall, const char *basis)
{
    double d[MAXSEED];
    for (int s = 0; s < rp->ns; s++) {
        run_result *ra = &rp->R[mi][a][s], *rb = &rp->R[mi][b][s];
        d[s] = ra->ok && rb->ok
                   ? best_within(&ra->cv, use_wall ? rb->wall : rb->flops, use_wall) - rb->best
                   : NAN;
    }
    double m, h;
    int k;
    mean_ci(rp->ns, d, &m, &h, &k);
    fprintf(rp->md, "| %s | %s | %s | %+.4f | [%+.4f, %+.4f] | %d | %s |\n", MODELS[mi],
            CONFIGS[a].name, CONFIGS[b].name, m, m - h, m + h, k, verdict(m, h));
    fprintf(rp->sum, "| %s | %s better than %s %s | %+.4f [%+.4f, %+.4f] | %s |\n", MODELS[mi],
            CONFIGS[a].name, CONFIGS[b].name, basis, m, m - h, m + h, verdict(m, h));
}

static void table_main(report *rp, int mi)
{
    FILE *md = rp->md;
    fprintf(md, "\n### %s\n\n", MODELS[mi]);
    fprintf(md, "| config | lr factor | best val loss | 95%% CI | excess over Bayes | total GFLOPs "
                "| wall s | state bytes |\n|---|---|---|---|---|---|---|---|\n");
    char path[1024];
    snprintf(path, sizeof path, "%s/tuned.json", rp->dir);
    json_t *tuned = json_load_file(path, 0, NULL);
    for (int ci = 0; ci < NCONF; ci++) {
        double best[MAXSEED], wall[MAXSEED], ex[MAXSEED], m, h, wm, wh, em, eh;
        int k, kw, ke;
        for (int s = 0; s < rp->ns; s++) {
            best[s] = rp->R[mi][ci][s].best;
            wall[s] = rp->R[mi][ci][s].wall;
            ex[s] = rp->R[mi][ci][s].excess;
        }
        mean_ci(rp->ns, best, &m, &h, &k);
        mean_ci(rp->ns, wall, &wm, &wh, &kw);
        mean_ci(rp->ns, ex, &em, &eh, &ke);
        run_result *r0 = &rp->R[mi][ci][0];
        const double *g;
        int ng;
        grid(rp->quick, &g, &ng);
        double sc = tuned_scale(tuned, MODELS[mi], CONFIGS[ci].name);
        /* a factor at the end of the grid may not be the optimum */
        const char *edge = sc == g[0] || sc == g[ng - 1] ? " (grid edge)" : "";
        fprintf(md, "| %s | %g%s | %.4f | ±%.4f (n=%d) | %.4f | %.3f | %.2f ± %.2f | %.0f |\n",
                CONFIGS[ci].name, sc, edge, m, h, k, em, r0->flops * 1e-9, wm, wh, r0->bytes);
    }
    json_decref(tuned);
}

/* gnuplot: run a script file; a missing gnuplot is reported, not fatal. */
static void gnuplot(const char *script)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>/dev/null", script);
    if (system(cmd) != 0)
        fprintf(stderr, "lionmuon paper: gnuplot failed on %s (is gnuplot installed?)\n", script);
}

static void figure_pareto(report *rp, int mi, int use_wall)
{
    char dat[1024], gp[1024];
    snprintf(dat, sizeof dat, "%s/agg/pareto_%s_%s.dat", rp->dir, use_wall ? "wall" : "flops",
             MODELS[mi]);
    snprintf(gp, sizeof gp, "%s/agg/pareto_%s_%s.gp", rp->dir, use_wall ? "wall" : "flops",
             MODELS[mi]);
    FILE *f = fopen(dat, "w");
    if (!f)
        return;
    fprintf(f, "# config x mean_best_loss ci_half\n");
    for (int ci = 0; ci < NCONF; ci++) {
        double b[MAXSEED], w[MAXSEED], m, h, wm, wh;
        int k;
        for (int s = 0; s < rp->ns; s++) {
            b[s] = rp->R[mi][ci][s].best;
            w[s] = use_wall ? rp->R[mi][ci][s].wall : rp->R[mi][ci][s].flops;
        }
        mean_ci(rp->ns, b, &m, &h, &k);
        mean_ci(rp->ns, w, &wm, &wh, &k);
        fprintf(f, "%s %.9g %.9g %.9g\n", CONFIGS[ci].name, use_wall ? wm : wm * 1e-9, m,
                isfinite(h) ? h : 0.0);
    }
    fclose(f);
    f = fopen(gp, "w");
    if (!f)
        return;
    fprintf(f, "set terminal pngcairo noenhanced size 900,600\nset output '%s/pareto_%s_%s.png'\n", rp->plots,
            use_wall ? "wall" : "flops", MODELS[mi]);
    fprintf(f, "set title '%s: best validation loss (mean, 95%% CI over %d seeds) vs %s'\n",
            MODELS[mi], rp->ns, use_wall ? "wall time" : "total training FLOPs");
    fprintf(f, "set xlabel '%s'\nset ylabel 'best validation loss (nats)'\nset grid\n",
            use_wall ? "wall time (s, one thread)" : "total GFLOPs (paper accounting)");
    fprintf(f, "set key outside right\nplot ");
    for (int ci = 0; ci < NCONF; ci++)
        fprintf(f, "%s'%s' every ::%d::%d using 2:3:4 with yerrorbars pt %d ps 1.5 lc %d title '%s'",
                ci ? ", " : "", dat, ci, ci, 5 + ci % 4, ci % 8 + 1 + (ci >= 8 ? 2 : 0), CONFIGS[ci].name);
    fprintf(f, "\n");
    fclose(f);
    gnuplot(gp);
}

static void figure_curves(report *rp, int mi, int by_flops)
{
    char gp[1024];
    snprintf(gp, sizeof gp, "%s/agg/curves_%s_%s.gp", rp->dir, by_flops ? "flops" : "iter",
             MODELS[mi]);
    FILE *g = fopen(gp, "w");
    if (!g)
        return;
    fprintf(g, "set terminal pngcairo noenhanced size 1000,650\nset output '%s/curves_%s_%s.png'\n", rp->plots,
            by_flops ? "flops" : "iter", MODELS[mi]);
    fprintf(g, "set title '%s: validation loss (mean over %d seeds) vs %s'\n", MODELS[mi], rp->ns,
            by_flops ? "training FLOPs" : "iterations");
    fprintf(g, "set xlabel '%s'\nset ylabel 'validation loss (nats)'\nset grid\n"
               "set key outside right\nplot ", by_flops ? "GFLOPs" : "iteration");
    for (int ci = 0; ci < NCONF; ci++) {
        char dat[1024];
        snprintf(dat, sizeof dat, "%s/agg/curve_%s_%s.dat", rp->dir, MODELS[mi], CONFIGS[ci].name);
        if (!by_flops) {
            FILE *f = fopen(dat, "w");
            if (!f)
                continue;
            fprintf(f, "# step gflops mean_val_loss\n");
            const curve *c0 = &rp->R[mi][ci][0].cv;
            for (int i = 0; rp->R[mi][ci][0].ok && i < c0->n; i++) {
                double v[MAXSEED], m, h;
                int k;
                for (int s = 0; s < rp->ns; s++)
                    v[s] = rp->R[mi][ci][s].ok && rp->R[mi][ci][s].cv.n > i
                               ? rp->R[mi][ci][s].cv.loss[i] : NAN;
                mean_ci(rp->ns, v, &m, &h, &k);
                fprintf(f, "%g %.9g %.9g\n", c0->step[i], c0->flops[i] * 1e-9, m);
            }
            fclose(f);
        }
        /* gnuplot cycles 8 colours: the configs past the eighth are dashed */
        fprintf(g, "%s'%s' using %d:3 with lines lw 2 lc %d dt %d title '%s'", ci ? ", " : "",
                dat, by_flops ? 2 : 1, ci % 8 + 1, ci / 8 + 1, CONFIGS[ci].name);
    }
    fprintf(g, "\n");
    fclose(g);
    gnuplot(gp);
}

/* The seven norm ratios of LionMuon P = 2 (model mi): the mean over seeds of
 * each seed's median over the run, beside the paper's 124M medians; and a
 * figure of each ratio over training. */
static void diagnostics(report *rp, int mi)
{
    int ci = find_config("lionmuon-p2");
    double med[7][MAXSEED];
    char dat[1024], gp[1024];
    snprintf(dat, sizeof dat, "%s/agg/diag_%s.dat", rp->dir, MODELS[mi]);
    FILE *out = fopen(dat, "w");
    for (int s = 0; s < rp->ns; s++) {
        char path[1024], line[4096];
        char *f[16];
        snprintf(path, sizeof path, "%s/main/%s/%s/seed%d/diagnostics.csv", rp->dir, MODELS[mi],
                 CONFIGS[ci].name, s + 1);
        FILE *fp = fopen(path, "r");
        double v[7][MAXPT];
        int n = 0;
        if (fp && fgets(line, sizeof line, fp))
            while (fgets(line, sizeof line, fp) && n < MAXPT) {
                if (csv_split(line, f, 16) < 8)
                    continue;
                if (s == 0 && out)
                    fprintf(out, "%s", f[0]);
                for (int j = 0; j < 7; j++) {
                    v[j][n] = atof(f[j + 1]);
                    if (s == 0 && out)
                        fprintf(out, " %s", f[j + 1]);
                }
                if (s == 0 && out)
                    fprintf(out, "\n");
                n++;
            }
        if (fp)
            fclose(fp);
        for (int j = 0; j < 7; j++)
            med[j][s] = stats_median((size_t)n, v[j]);
    }
    if (out)
        fclose(out);
    fprintf(rp->md, "\n| ratio (%s, LionMuon P = 2) | median over training, mean over seeds | "
                    "95%% CI | paper, 124M | ratio to paper |\n|---|---|---|---|---|\n", MODELS[mi]);
    for (int j = 0; j < 7; j++) {
        double m, h;
        int k;
        mean_ci(rp->ns, med[j], &m, &h, &k);
        fprintf(rp->md, "| %s | %.4g | ±%.2g | %g | %.2f |\n", DIAG[j], m, h, DIAG_PAPER[j],
                m / DIAG_PAPER[j]);
    }
    snprintf(gp, sizeof gp, "%s/agg/diag_%s.gp", rp->dir, MODELS[mi]);
    FILE *g = fopen(gp, "w");
    if (!g)
        return;
    fprintf(g, "set terminal pngcairo noenhanced size 1400,800\nset output '%s/diagnostics_%s.png'\n"
               "set multiplot layout 2,4 title '%s, LionMuon P = 2, seed 1: norm ratios over "
               "training (line: the paper 124M median)'\nset logscale y\nset grid\nunset key\n",
            rp->plots, MODELS[mi], MODELS[mi]);
    for (int j = 0; j < 7; j++)
        fprintf(g, "set title '%s'\nplot '%s' using 1:%d with linespoints pt 7 ps 0.5, %g lw 2\n",
                DIAG[j], dat, j + 2, DIAG_PAPER[j]);
    fprintf(g, "unset multiplot\n");
    fclose(g);
    gnuplot(gp);
}

static void msign_section(report *rp, const char *csv)
{
    FILE *fp = csv ? fopen(csv, "r") : NULL;
    if (!fp) {
        fprintf(rp->md, "\n(no msign study file was given)\n");
        return;
    }
    char line[4096], hdr[4096];
    char *f[32], *h[32];
    if (!fgets(hdr, sizeof hdr, fp)) {
        fclose(fp);
        return;
    }
    int nh = csv_split(hdr, h, 32);
    fprintf(rp->md, "\n| shape | cond | method | iterations | ||X - UV^T||_2 | "
                    "||X - UV^T||_F / ||UV^T||_F | singular values | GFLOPs | time / DGEMM |\n"
                    "|---|---|---|---|---|---|---|---|---|\n");
    int cm = col(h, nh, "m"), cn = col(h, nh, "n"), cc = col(h, nh, "cond"),
        cme = col(h, nh, "method"), ci = col(h, nh, "iterations"), ce = col(h, nh, "err_spectral"),
        cf = col(h, nh, "err_fro_rel"), clo = col(h, nh, "sv_min"), chi = col(h, nh, "sv_max"),
        cfl = col(h, nh, "flops"), cu = col(h, nh, "gemm_units");
    while (fgets(line, sizeof line, fp))
        if (csv_split(line, f, 32) >= nh && cu >= 0)
            fprintf(rp->md, "| %sx%s | %s | %s | %s | %.2e | %.2e | [%.4f, %.4f] | %.3f | %.1f |\n",
                    f[cm], f[cn], f[cc], f[cme], f[ci], atof(f[ce]), atof(f[cf]), atof(f[clo]),
                    atof(f[chi]), atof(f[cfl]) * 1e-9, atof(f[cu]));
    fclose(fp);
    char gp[1024];
    snprintf(gp, sizeof gp, "%s/agg/msign.gp", rp->dir);
    FILE *g = fopen(gp, "w");
    if (!g)
        return;
    fprintf(g, "set terminal pngcairo noenhanced size 900,600\nset output '%s/msign_accuracy.png'\n"
               "set datafile separator ','\nset logscale xy\nset grid\nset key top right\n"
               "set title 'msign: error against the exact polar factor vs cost'\n"
               "set xlabel 'time in units of one Gram-shaped DGEMM'\n"
               "set ylabel '||X - UV^T||_2'\n", rp->plots);
    fprintf(g, "plot for [m in 'ns5 cubic polar-express'] '%s' using (strcol(%d) eq m ? $%d : 1/0)"
               ":(strcol(%d) eq m ? ($%d > 1e-16 ? $%d : 1e-16) : 1/0) with points pt 7 title m\n",
            csv, cme + 1, cu + 1, cme + 1, ce + 1, ce + 1);
    fclose(g);
    gnuplot(gp);
}

static void mkdir_p(const char *path)
{
    char *p = lm_strdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
    free(p);
}

static void claims(report *rp)
{
    FILE *md = rp->md;
    int p2 = find_config("lionmuon-p2");
    static const char *rivals[] = {"muon", "lion", "signum", "adamw"};
    for (int mi = 0; mi < NMODEL; mi++) {
        fprintf(md, "\n#### %s: LionMuon P = 2 against each rival, at the rival's compute\n\n"
                    "Difference = (P = 2's best validation loss among its evaluations within the "
                    "rival's total FLOPs) - (the rival's best validation loss), paired by seed. "
                    "Negative favours P = 2.\n\n"
                    "| model | a | b | mean difference | 95%% CI | seeds | P = 2 better at b's budget? |\n"
                    "|---|---|---|---|---|---|---|\n", MODELS[mi]);
        for (int r = 0; r < 4; r++)
            paired_row(rp, mi, p2, find_config(rivals[r]), 0, "at b's FLOPs");
        /* Pareto dominance needs the compute side too: FLOPs are fixed by
         * the config (the same in every seed) */
        double fr = rp->R[mi][p2][0].flops / rp->R[mi][find_config("muon")][0].flops;
        fprintf(rp->sum, "| %s | lionmuon-p2 total FLOPs / muon's | %.3f | %s |\n", MODELS[mi], fr,
                fr < 1 ? "fewer FLOPs" : "more FLOPs");
        fprintf(md, "\nThe same at the rival's wall time (one thread per run):\n\n"
                    "| model | a | b | mean difference | 95%% CI | seeds | P = 2 better at b's time? |\n"
                    "|---|---|---|---|---|---|---|\n");
        for (int r = 0; r < 4; r++)
            paired_row(rp, mi, p2, find_config(rivals[r]), 1, "at b's wall time");
    }
    fprintf(md, "\n### Claim: SignMuon beats Muon\n\nDifference = SignMuon (P = 2) best validation "
                "loss - Muon's, paired by seed (SignMuon uses fewer FLOPs, so this is at its own "
                "budget).\n\n| model | a | b | mean difference | 95%% CI | seeds | SignMuon better? |\n"
                "|---|---|---|---|---|---|---|\n");
    /* best_within at the rival's own total is SignMuon's final best, since
     * Muon needs more compute */
    for (int mi = 0; mi < NMODEL; mi++)
        paired_row(rp, mi, find_config("signmuon-p2"), find_config("muon"), 0, "(best loss)");
}

int paper_report(const char *dir, int quick, const char *report_path, const char *plots_dir,
                 const char *plots_link, const char *msign_csv, lm_error *e)
{
    report *rp = lm_calloc(1, sizeof *rp);
    rp->dir = dir;
    rp->plots = plots_dir;
    rp->link = plots_link ? plots_link : plots_dir;
    rp->quick = quick;
    rp->ns = nseeds(quick);
    int have = 0;
    for (int mi = 0; mi < NMODEL; mi++)
        for (int ci = 0; ci < NCONF; ci++)
            for (int s = 0; s < rp->ns; s++) {
                load_run(dir, mi, ci, s + 1, &rp->R[mi][ci][s]);
                have += rp->R[mi][ci][s].ok;
            }
    if (have == 0) {
        free(rp);
        return lm_fail(e, "%s/main: no finished runs (run the main stage first)", dir);
    }
    char agg[1024];
    snprintf(agg, sizeof agg, "%s/agg", dir);
    mkdir_p(agg);
    mkdir_p(plots_dir);

    char *text = NULL;
    size_t len = 0;
    rp->md = open_memstream(&text, &len);
    FILE *md = rp->md;
    double bayes = rp->R[0][0][0].bayes;
    fprintf(md, "# The paper's claims at CPU scale%s\n\n"
                "Generated by `lionmuon paper report` from %d finished runs under `%s`; every "
                "number below is measured, none is copied except the paper's own figures quoted "
                "for comparison.\n\n", quick ? " (QUICK variant: tiny models, 2 seeds; not evidence)" : "",
            have, dir);
    fprintf(md, "## Protocol\n\n"
                "- Models: GPT-2 and LLaMA (MODELS.md) with %d layers, %d heads, width %d, "
                "sequence %d, batch %d, %d iterations (warm-up 3000/64000 of them, cosine to 0, "
                "clipping 0.5, weight decay 0.1), double precision.\n"
                "- Data: the built-in Zipf-Markov corpus (vocabulary 256, Zipf exponent 1.1); its "
                "entropy rate %.4f nats is the Bayes-optimal loss, so losses are also given as "
                "excess over it.\n"
                "- Configs: AdamW, Lion, Signum, Muon, SignMuon P = 2, LionMuon P = 1, 2, 5, 20, "
                "100, starting from the paper's tuned 124M learning rates (ALGORITHMS.md).\n"
                "- Tuning: at seed %d, every learning rate of a config (lr_muon, lr_sign and the "
                "AdamW rate of its 1-D/embedding part) is multiplied by one factor from the grid "
                "%s; the factor with the lowest best validation loss is kept and then fixed.\n"
                "- Main runs: seeds 1..%d at the chosen factor. Intervals are two-sided 95%% "
                "t intervals over seeds (GSL's t quantiles); comparisons are paired by seed "
                "(same initialisation and batches).\n"
                "- Compute: FLOPs by the paper's accounting (6 N T B per iteration plus "
                "Newton-Schulz FLOPs on Muon steps and m n on sign steps). Wall time: one thread "
                "per run, two runs at a time on a 2-core machine, so it is noisy.\n"
                "- Validation: every %d steps on %d fixed batches; \"best\" is the lowest of those "
                "evaluations.\n",
            quick ? 1 : 2, quick ? 2 : 4, quick ? 32 : 64, quick ? 16 : 32, quick ? 4 : 16,
            quick ? 40 : 400, bayes, TUNE_SEED, quick ? "{4, 16}" : "{1, 4, 16, 64}", rp->ns,
            quick ? 10 : 25, quick ? 2 : 8);

    /* the rest goes to a body stream, so the summary of verdicts, known
     * only once the comparisons are made, can stand before it */
    char *body = NULL, *sumt = NULL;
    size_t blen = 0, slen = 0;
    fclose(md); /* text, len now hold the head */
    rp->md = md = open_memstream(&body, &blen);
    rp->sum = open_memstream(&sumt, &slen);
    fprintf(md, "\n## 1. Best validation loss against compute\n");
    for (int mi = 0; mi < NMODEL; mi++) {
        table_main(rp, mi);
        figure_pareto(rp, mi, 0);
        figure_pareto(rp, mi, 1);
        fprintf(md, "\n![pareto %s](%s/pareto_flops_%s.png)\n![pareto wall %s](%s/pareto_wall_%s.png)\n",
                MODELS[mi], rp->link, MODELS[mi], MODELS[mi], rp->link, MODELS[mi]);
    }
    fprintf(md, "\n### Claim: \"LionMuon at P = 2 Pareto-dominates Muon, Lion, Signum and AdamW\"\n");
    claims(rp);
    fprintf(md, "\nFor reference, the paper's single-seed 124M results (FineWeb, GPT-2): LionMuon "
                "P=2 3.5006, SignMuon P=2 3.5103, LionMuon P=1 3.5102, P=5 3.5060, P=20 3.5233, "
                "Muon 3.5257, AdamW 3.5525, P=100 3.5536, Lion 3.5794, Signum 3.5972.\n");

    fprintf(md, "\n## 2. msign accuracy against cost\n");
    msign_section(rp, msign_csv);
    fprintf(md, "\n![msign](%s/msign_accuracy.png)\n", rp->link);

    fprintf(md, "\n## 3. Norm-ratio diagnostics over training\n");
    for (int mi = 0; mi < NMODEL; mi++) {
        diagnostics(rp, mi);
        fprintf(md, "\n![diagnostics %s](%s/diagnostics_%s.png)\n", MODELS[mi], rp->link, MODELS[mi]);
    }
    fprintf(md, "\nThe paper's medians come from 124M models after 10000 steps with mini-batch "
                "smoothness estimates; the ratios depend on width and training length, so only "
                "orders of magnitude are comparable here.\n");

    fprintf(md, "\n## 4. Optimizer-state bytes (measured by the running program)\n\n"
                "| config | gpt2 | llama | gpt2 ratio to AdamW |\n|---|---|---|---|\n");
    double adam = rp->R[0][0][0].bytes;
    for (int ci = 0; ci < NCONF; ci++)
        fprintf(md, "| %s | %.0f | %.0f | %.3f |\n", CONFIGS[ci].name, rp->R[0][ci][0].bytes,
                rp->R[1][ci][0].bytes, rp->R[0][ci][0].bytes / adam);
    fprintf(md, "\nThe matrix rules keep one buffer per hidden matrix; the embeddings and 1-D "
                "tensors keep AdamW's two in every config, which is why the hybrids sit above "
                "one half.\n");

    fprintf(md, "\n## 5. Validation loss against iterations and FLOPs\n");
    for (int mi = 0; mi < NMODEL; mi++) {
        figure_curves(rp, mi, 0);
        figure_curves(rp, mi, 1);
        fprintf(md, "\n![curves %s](%s/curves_iter_%s.png)\n![curves flops %s](%s/curves_flops_%s.png)\n",
                MODELS[mi], rp->link, MODELS[mi], MODELS[mi], rp->link, MODELS[mi]);
    }
    fclose(md);
    fclose(rp->sum);
    /* head (title, protocol) + summary + body */
    char *all = NULL;
    size_t alen = 0;
    FILE *out = open_memstream(&all, &alen);
    fwrite(text, 1, len, out);
    fprintf(out, "\n## Summary of verdicts\n\nDifferences in best validation loss (nats), "
                 "mean over seeds with the 95%% t interval of the paired differences; "
                 "negative favours the first optimizer. \"holds\" means the whole interval "
                 "is below 0.\n\n| model | comparison | difference [95%% CI] | verdict |\n"
                 "|---|---|---|---|\n");
    fwrite(sumt, 1, slen, out);
    fwrite(body, 1, blen, out);
    fclose(out);
    int rc = lm_write_atomic(report_path, all, alen, e);
    free(all);
    free(body);
    free(sumt);
    free(text);
    free(rp);
    return rc;
}
