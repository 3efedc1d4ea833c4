/* report.c - the paper experiment's report (paper_report, paper.h): the main
 * runs read back, the tables with 95% t intervals and paired comparisons,
 * the gnuplot figures, and the Markdown report assembled from them.
 *
 * Figures: each figure's data (.dat) and script (.gp) are written into the
 * plots directory under fixed names, and gnuplot runs there (lm_gnuplot: no
 * shell) on the script's name, so a script names only files relative to
 * that directory and no path given by the user ever appears in one.  The
 * msign study's CSV is copied in beside them (msign_accuracy.csv). */
#include "paper_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"
#include "lionmuon/stats.h"
#include "lionmuon/verdict.h"

#define MAXPT 128
#define MAXSEED 16

typedef struct {
    int n;
    double step[MAXPT], flops[MAXPT], wall[MAXPT], cpu[MAXPT], loss[MAXPT];
} curve;

typedef struct {
    int ok;
    double best, flops, wall, cpu, bytes, excess, bayes, flops_model, flops_msign;
    curve cv;
} run_result;

static const char *DIAG[7] = {"grad_nuc_over_1", "param_2_over_inf", "update_2_over_inf",
                              "errmom_F_over_nuc", "errmom_F_over_1", "smooth_nuc_over_2",
                              "smooth_1_over_inf"};
/* the same, as a reader reads them (src/model/diag.c): the two lines of a
 * figure panel's title */
static const char *DIAG_TITLE[7] = {
    "gradient\\n||G||_nuc / ||G||_1",
    "parameters\\n||W||_2 / ||W||_inf",
    "update U = W_{t+1} - W_t\\n||U||_2 / ||U||_inf",
    "momentum error\\n||G - M||_F / ||G - M||_nuc",
    "momentum error\\n||G - M||_F / ||G - M||_1",
    "smoothness (Muon geometry)\\n||G_{t+1} - G_t||_nuc / ||U||_2",
    "smoothness (Lion geometry)\\n||G_{t+1} - G_t||_1 / ||U||_inf"};
/* medians over a 10000-step LionMuon P = 2 run at 124M (theory/algorithms.md §10) */
static const double DIAG_PAPER[7] = {0.0167, 19.4, 410, 0.0696, 0.00112, 0.81, 837};

/* ---- reading the runs ---- */

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
    char *path = lm_path_join(run, "metrics.csv");
    lm_error ignored;
    FILE *fp = lm_fopen_read(path, &ignored);
    free(path);
    c->n = 0;
    char *hdr = NULL, *line = NULL;
    size_t hcap = 0, lcap = 0;
    if (!fp || getline(&hdr, &hcap, fp) < 0) {
        if (fp)
            fclose(fp);
        free(hdr);
        return -1;
    }
    char *h[32], *f[32];
    int nh = csv_split(hdr, h, 32);
    int cs = col(h, nh, "step"), cv = col(h, nh, "val_loss"), cf = col(h, nh, "flops"),
        cw = col(h, nh, "wall_s");
    while (cs >= 0 && cv >= 0 && cf >= 0 && cw >= 0 && getline(&line, &lcap, fp) >= 0 &&
           c->n < MAXPT) {
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
    free(hdr);
    free(line);
    return c->n > 0 ? 0 : -1;
}

/* Best validation loss among the points evaluated within a budget of
 * FLOPs (use_cpu = 0) or CPU seconds (use_cpu = 1). */
static double best_within(const curve *c, double budget, int use_cpu)
{
    double best = INFINITY;
    for (int i = 0; i < c->n; i++) {
        double x = use_cpu ? c->cpu[i] : c->flops[i];
        if (x <= budget * (1 + 1e-12) && c->loss[i] < best)
            best = c->loss[i];
    }
    return best;
}

static void load_run(const char *dir, int mi, int ci, int seed, run_result *r)
{
    char *run = pp_main_dir(dir, mi, ci, seed);
    r->best = pp_summary_value(run, "best_val_loss");
    r->flops = pp_summary_value(run, "total_flops");
    r->wall = pp_summary_value(run, "wall_s");
    r->cpu = pp_cpu_seconds(run);
    r->bytes = pp_summary_value(run, "optimizer_state_bytes");
    r->excess = pp_summary_value(run, "excess_loss");
    r->bayes = pp_summary_value(run, "bayes_loss");
    r->flops_model = pp_summary_value(run, "flops_model_per_step");
    r->flops_msign = pp_summary_value(run, "flops_msign_per_muon_step");
    r->ok = isfinite(r->best) && read_curve(run, &r->cv) == 0;
    /* CPU time at each validation point: the run's CPU seconds spread over
     * its wall clock in proportion (the logs time points by wall clock) */
    double scale = r->cpu / r->wall;
    for (int i = 0; i < r->cv.n; i++)
        r->cv.cpu[i] = isfinite(scale) && r->wall > 0 ? r->cv.wall[i] * scale : NAN;
    free(run);
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

/* ---- the report's state ---- */

typedef struct {
    lm_buf *md;       /* the body of the report */
    lm_buf *sum;      /* one line per verdict, for the summary at the top */
    const char *dir, *plots, *link;
    int quick, ns;
    int fig_done, fig_total; /* figures drawn so far and in all (progress) */
    run_result R[PP_NMODEL][PP_NCONF][MAXSEED];
} report;

/* Read every main run; returns how many finished. */
static int load_runs(report *rp)
{
    int have = 0;
    for (int mi = 0; mi < PP_NMODEL; mi++)
        for (int ci = 0; ci < PP_NCONF; ci++)
            for (int s = 0; s < rp->ns; s++) {
                load_run(rp->dir, mi, ci, s + 1, &rp->R[mi][ci][s]);
                have += rp->R[mi][ci][s].ok;
            }
    return have;
}

/* ---- tables ---- */

/* One verdict of the report: a paired comparison of config a against b in
 * model mi, at b's FLOPs (basis 0) or b's CPU time (basis 1): per seed, a's
 * best validation loss within b's budget minus b's best loss. */
typedef struct {
    int mi, a, b, basis, k;
    double mean, half, p, adj;
} comparison;

#define MAXCOMP 32
#define ALPHA 0.05

static void compare(report *rp, comparison *c)
{
    double da[MAXSEED], db[MAXSEED];
    for (int s = 0; s < rp->ns; s++) {
        run_result *ra = &rp->R[c->mi][c->a][s], *rb = &rp->R[c->mi][c->b][s];
        da[s] = ra->ok && rb->ok
                    ? best_within(&ra->cv, c->basis ? rb->cpu : rb->flops, c->basis) : NAN;
        db[s] = rb->ok ? rb->best : NAN;
    }
    vd_paired(rp->ns, da, db, &c->mean, &c->half, &c->p, &c->k);
}

/* The verdict from the Holm-adjusted p-value and the sign of the mean. */
static const char *verdict(const comparison *c)
{
    if (c->k < 2 || !isfinite(c->adj))
        return "undetermined (fewer than 2 paired seeds)";
    if (c->adj >= ALPHA)
        return "**not significant** (Holm-adjusted p >= 0.05)";
    return c->mean < 0 ? "**holds**" : "**fails** (the other is better)";
}

static void comparison_row(lm_buf *b, const comparison *c, int summary)
{
    static const char *BASIS[] = {"at b's FLOPs", "at b's CPU time"};
    if (summary)
        lm_buf_printf(b, "| %s | %s better than %s %s | %+.4f [%+.4f, %+.4f] | %.3g | %.3g | %s |\n",
                      PP_MODELS[c->mi], PP_CONFIGS[c->a].name, PP_CONFIGS[c->b].name,
                      BASIS[c->basis], c->mean, c->mean - c->half, c->mean + c->half, c->p,
                      c->adj, verdict(c));
    else
        lm_buf_printf(b, "| %s | %s | %s | %+.4f | [%+.4f, %+.4f] | %d | %.3g | %.3g | %s |\n",
                      PP_MODELS[c->mi], PP_CONFIGS[c->a].name, PP_CONFIGS[c->b].name, c->mean,
                      c->mean - c->half, c->mean + c->half, c->k, c->p, c->adj, verdict(c));
}

/* One config's row of the main table (model mi). */
static void main_row(report *rp, json_t *tuned, int mi, int ci)
{
    double best[MAXSEED], cpu[MAXSEED], ex[MAXSEED], m, h, cm, ch, em, eh;
    int k, kc, ke;
    for (int s = 0; s < rp->ns; s++) {
        best[s] = rp->R[mi][ci][s].best;
        cpu[s] = rp->R[mi][ci][s].cpu;
        ex[s] = rp->R[mi][ci][s].excess;
    }
    mean_ci(rp->ns, best, &m, &h, &k);
    mean_ci(rp->ns, cpu, &cm, &ch, &kc);
    mean_ci(rp->ns, ex, &em, &eh, &ke);
    run_result *r0 = &rp->R[mi][ci][0];
    json_t *tc = json_object_get(json_object_get(tuned, PP_MODELS[mi]), PP_CONFIGS[ci].name);
    double sc = pp_tuned_scale(tuned, PP_MODELS[mi], PP_CONFIGS[ci].name);
    /* a factor still at the end of its grid (the grid could not grow) */
    const char *edge = json_is_true(json_object_get(tc, "edge")) ? " (grid edge)" : "";
    lm_buf_printf(rp->md, "| %s | %g%s | %.4f | ±%.4f (n=%d) | %.4f | %.3f | %.1f ± %.1f | %.0f |\n",
                  PP_CONFIGS[ci].name, sc, edge, m, h, k, em, r0->flops * 1e-9, cm, ch, r0->bytes);
}

static void table_main(report *rp, int mi)
{
    lm_buf_printf(rp->md, "\n### %s\n\n", PP_MODELS[mi]);
    lm_buf_printf(rp->md, "| config | lr factor | best val loss | 95%% CI | excess over Bayes | total GFLOPs "
                          "| CPU s | state bytes |\n|---|---|---|---|---|---|---|---|\n");
    char *path = pp_tuned_path(rp->dir);
    lm_error ignored;
    json_t *tuned = pp_load_json(path, &ignored);
    free(path);
    for (int ci = 0; ci < PP_NCONF; ci++)
        main_row(rp, tuned, mi, ci);
    json_decref(tuned);
}

/* The tuning curves: per config the mean best validation loss over the
 * tuning seeds at each factor of its final grid, the pick marked. */
static void table_tuning(report *rp, int mi, lm_buf *dat)
{
    char *path = pp_tuned_path(rp->dir);
    lm_error ignored;
    json_t *tuned = pp_load_json(path, &ignored);
    free(path);
    lm_buf_printf(rp->md, "\n| %s config | factor: mean best val loss over the %d tuning seeds (the "
                          "pick in bold) |\n|---|---|\n", PP_MODELS[mi], pp_ntune());
    for (int ci = 0; ci < PP_NCONF; ci++) {
        json_t *tc = json_object_get(json_object_get(tuned, PP_MODELS[mi]), PP_CONFIGS[ci].name);
        json_t *g = json_object_get(tc, "grid"), *l = json_object_get(tc, "losses");
        double sc = pp_tuned_scale(tuned, PP_MODELS[mi], PP_CONFIGS[ci].name);
        lm_buf_printf(rp->md, "| %s |", PP_CONFIGS[ci].name);
        lm_buf_printf(dat, "# %s: factor mean_best_val_loss picked\n", PP_CONFIGS[ci].name);
        for (size_t k = 0; k < json_array_size(g); k++) {
            double f = json_number_value(json_array_get(g, k));
            json_t *v = json_array_get(l, k);
            int pick = f == sc;
            if (json_is_number(v)) {
                lm_buf_printf(rp->md, " %s%g: %.4f%s", pick ? "**" : "", f, json_number_value(v),
                              pick ? "**" : "");
                lm_buf_printf(dat, "%g %.9g %d\n", f, json_number_value(v), pick);
            } else {
                lm_buf_printf(rp->md, " %g: diverged/missing", f);
            }
            lm_buf_printf(rp->md, "%s", k + 1 < json_array_size(g) ? ";" : "");
        }
        lm_buf_printf(rp->md, " |\n");
        lm_buf_printf(dat, "\n\n");
    }
    json_decref(tuned);
}

/* The compute ratio the reproduction was designed for: msign's share of a
 * Muon step and P = 2's cost relative to Muon, by the paper's count. */
static void compute_ratio(report *rp, int mi)
{
    run_result *r = &rp->R[mi][pp_find_config("muon")][0];
    int p2 = pp_find_config("lionmuon-p2");
    double share = r->flops_msign / (r->flops_model + r->flops_msign);
    double ratio = rp->R[mi][p2][0].flops / r->flops;
    int ok = share >= 0.10 && share <= 0.15 && ratio >= 0.93 && ratio <= 0.96;
    lm_buf_printf(rp->md, "- %s: msign is %.1f%% of a Muon step; LionMuon P = 2's total FLOPs are "
                          "%.3f of Muon's (target 10-15%% and 0.93-0.96, as at 124M: 12.5%%, "
                          "0.944): %s.\n", PP_MODELS[mi], 100 * share, ratio,
                  ok ? "in range" : rp->quick ? "out of range (quick variant)" : "OUT OF RANGE");
}

/* ---- figures ---- */

/* Write b into the plots directory as name and release it; a failure is
 * reported (the figure is skipped), not fatal. */
static int plot_file(const report *rp, const char *name, lm_buf *b)
{
    lm_error e = {{0}};
    int rc = lm_write_in_dir(rp->plots, name, b->s ? b->s : "", b->len, &e);
    lm_buf_free(b);
    if (rc != 0)
        fprintf(stderr, "lionmuon paper: %s (figure skipped)\n", e.msg);
    return rc;
}

/* Write the script and run gnuplot on it in the plots directory; the script
 * writes STEM.png.tmp, renamed to STEM.png only when gnuplot succeeds
 * (lm_gnuplot_png).  A missing or failing gnuplot is reported, not fatal,
 * and leaves no empty figure.  A figure drawn is a progress line on stderr:
 * "paper report: figure 3/11 STEM.png (0.2 s)". */
static void plot_run(report *rp, const char *script, const char *stem, lm_buf *gp)
{
    double t0 = la_seconds();
    rp->fig_done++;
    if (plot_file(rp, script, gp) != 0)
        return;
    lm_error e = {{0}};
    char *png = pp_strf("%s.png", stem);
    int rc = lm_gnuplot_png(rp->plots, script, png, &e);
    char *dir = lm_printable(rp->plots);
    if (rc > 0)
        fprintf(stderr, "lionmuon paper: gnuplot failed on %s in %s (is gnuplot installed?); "
                        "no %s written\n", script, dir, png);
    else if (rc < 0)
        fprintf(stderr, "lionmuon paper: %s\n", e.msg);
    else
        fprintf(stderr, "paper report: figure %d/%d %s (%.1f s)\n", rp->fig_done,
                rp->fig_total, png, la_seconds() - t0);
    fflush(stderr);
    free(dir);
    free(png);
}

/* The start of every figure's script: the cairo terminal (antialiased,
 * real dash patterns), the output, a light grid. */
static void gp_head(lm_buf *g, const char *stem, int width, int height)
{
    lm_buf_printf(g, "set terminal pngcairo noenhanced size %d,%d font ',11'\n"
                     "set output '%s.png.tmp'\nset grid lc rgb '#d0d0d0' lt 1 dt 3\n",
                  width, height, stem);
}

/* Config ci's style in every figure: its own colour and point type, and
 * for lines (dashed = 1) its dash type. */
static void gp_style(lm_buf *g, int ci, int dashed)
{
    const pp_config *c = &PP_CONFIGS[ci];
    lm_buf_printf(g, "lc rgb '%s' dt %d pt %d", c->colour, dashed ? c->dash : 1, c->point);
}

/* The Bayes-optimal loss of model mi's runs (the corpus's entropy rate, in
 * each summary.json); NAN when no run has one. */
static double bayes_loss(const report *rp, int mi)
{
    for (int ci = 0; ci < PP_NCONF; ci++)
        for (int s = 0; s < rp->ns; s++)
            if (isfinite(rp->R[mi][ci][s].bayes))
                return rp->R[mi][ci][s].bayes;
    return NAN;
}

/* Best validation loss (mean, 95% CI) against total FLOPs or CPU time
 * (use_cpu), one point per config. */
static void figure_pareto(report *rp, int mi, int use_cpu)
{
    const char *what = use_cpu ? "cpu" : "flops";
    char *stem = pp_strf("pareto_%s_%s", what, PP_MODELS[mi]);
    char *dat = pp_strf("%s.dat", stem), *script = pp_strf("%s.gp", stem);
    lm_buf b = {0}, g = {0};
    lm_buf_printf(&b, "# config x mean_best_loss ci_half\n");
    for (int ci = 0; ci < PP_NCONF; ci++) {
        double bs[MAXSEED], w[MAXSEED], m, h, wm, wh;
        int k;
        for (int s = 0; s < rp->ns; s++) {
            bs[s] = rp->R[mi][ci][s].best;
            w[s] = use_cpu ? rp->R[mi][ci][s].cpu : rp->R[mi][ci][s].flops;
        }
        mean_ci(rp->ns, bs, &m, &h, &k);
        mean_ci(rp->ns, w, &wm, &wh, &k);
        lm_buf_printf(&b, "%s %.9g %.9g %.9g\n", PP_CONFIGS[ci].name, use_cpu ? wm : wm * 1e-9,
                      m, isfinite(h) ? h : 0.0);
    }
    gp_head(&g, stem, 1000, 600);
    lm_buf_printf(&g, "set title '%s: best validation loss (mean, 95%% CI over %d seeds) vs %s'\n",
                  PP_MODELS[mi], rp->ns, use_cpu ? "CPU time" : "total training FLOPs");
    lm_buf_printf(&g, "set xlabel '%s'\nset ylabel 'best validation loss (nats)'\n",
                  use_cpu ? "CPU time (s, user + system, one thread)"
                          : "total GFLOPs (paper accounting)");
    lm_buf_printf(&g, "set key outside right top vertical\nset offsets graph 0.05, graph 0.05, 0, 0\nplot ");
    for (int ci = 0; ci < PP_NCONF; ci++) {
        lm_buf_printf(&g, "%s'%s' every ::%d::%d using 2:3:4 with yerrorbars lw 1.5 ps 1.6 ",
                      ci ? ", \\\n     " : "", dat, ci, ci);
        gp_style(&g, ci, 0);
        lm_buf_printf(&g, " title '%s'", PP_CONFIGS[ci].name);
    }
    lm_buf_printf(&g, "\n");
    if (plot_file(rp, dat, &b) == 0)
        plot_run(rp, script, stem, &g);
    lm_buf_free(&g);
    free(stem);
    free(dat);
    free(script);
}

/* The mean over seeds of the validation loss at point i of (mi, ci). */
static double curve_mean(const report *rp, int mi, int ci, int i)
{
    double v[MAXSEED], m, h;
    int k;
    for (int s = 0; s < rp->ns; s++)
        v[s] = rp->R[mi][ci][s].ok && rp->R[mi][ci][s].cv.n > i ? rp->R[mi][ci][s].cv.loss[i] : NAN;
    mean_ci(rp->ns, v, &m, &h, &k);
    return m;
}

/* curve_MODEL_CONFIG.dat: per validation point of seed 1, the step, GFLOPs
 * and the validation loss averaged over the seeds that reached it. */
static void curve_data(report *rp, int mi, int ci, const char *dat)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "# step gflops mean_val_loss\n");
    const curve *c0 = &rp->R[mi][ci][0].cv;
    for (int i = 0; rp->R[mi][ci][0].ok && i < c0->n; i++)
        lm_buf_printf(&b, "%g %.9g %.9g\n", c0->step[i], c0->flops[i] * 1e-9,
                      curve_mean(rp, mi, ci, i));
    plot_file(rp, dat, &b);
}

/* A log axis on [lo, hi] with at least four labelled ticks: the decades
 * when they are enough, else the first of 1-2-5, 1-1.5-2-3-5-7 and every
 * 1..9 (times the decades) that gives four. */
static void log_ticks(lm_buf *g, char axis, double lo, double hi)
{
    static const double sets[3][12] = {{1, 2, 5}, {1, 1.5, 2, 3, 5, 7}, {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}};
    static const int nset[3] = {3, 6, 12};
    if (floor(log10(hi)) - ceil(log10(lo)) >= 3)
        return; /* four decades or more: gnuplot's own */
    for (int k = 0; k < 3; k++) {
        int cnt = 0;
        for (double d = pow(10, floor(log10(lo))); d <= hi; d *= 10)
            for (int q = 0; q < nset[k]; q++)
                cnt += sets[k][q] * d >= lo && sets[k][q] * d <= hi;
        if (cnt < 4 && k < 2)
            continue;
        lm_buf_printf(g, "set %ctics (", axis);
        int first = 1;
        for (double d = pow(10, floor(log10(lo))); d <= hi; d *= 10)
            for (int q = 0; q < nset[k]; q++)
                if (sets[k][q] * d >= lo && sets[k][q] * d <= hi) {
                    lm_buf_printf(g, "%s%.6g", first ? "" : ", ", sets[k][q] * d);
                    first = 0;
                }
        lm_buf_printf(g, ")\n");
        return;
    }
}

/* The y range of the excess-loss figures of model mi: every config's mean
 * curve above H, with a margin; and its ticks. */
static void excess_axis(const report *rp, int mi, double H, lm_buf *g)
{
    double lo = INFINITY, hi = 0;
    for (int ci = 0; ci < PP_NCONF; ci++)
        for (int i = 0; rp->R[mi][ci][0].ok && i < rp->R[mi][ci][0].cv.n; i++) {
            double x = curve_mean(rp, mi, ci, i) - H;
            if (x > 0) {
                lo = fmin(lo, x);
                hi = fmax(hi, x);
            }
        }
    if (!(hi > 0))
        return;
    lo /= 1.08;
    hi *= 1.08;
    lm_buf_printf(g, "set yrange [%.6g:%.6g]\n", lo, hi);
    log_ticks(g, 'y', lo, hi);
}

/* Validation loss above the Bayes-optimal loss (the corpus's entropy rate),
 * on a log axis, against iterations (by_flops = 0: also writes the curve
 * data) or FLOPs (by_flops = 1: reuses it), one line per config in its own
 * colour.  Without a Bayes loss, the plain loss on a linear axis. */
static void figure_curves(report *rp, int mi, int by_flops)
{
    char *stem = pp_strf("curves_%s_%s", by_flops ? "flops" : "iter", PP_MODELS[mi]);
    char *script = pp_strf("%s.gp", stem);
    double H = bayes_loss(rp, mi);
    int ex = isfinite(H);
    lm_buf g = {0};
    gp_head(&g, stem, 1100, 650);
    if (ex)
        lm_buf_printf(&g, "bayes = %.10g\nset logscale y\nset mytics 10\n"
                          "set grid xtics ytics mytics lc rgb '#d0d0d0' lt 1 dt 3, lc rgb '#ececec' lt 1 dt 3\n"
                          "set format y '%%g'\n"
                          "set title \"%s: validation loss above the Bayes-optimal %.4f nats (the corpus's "
                          "entropy rate),\\nmean over %d seeds, against %s\"\n"
                          "set ylabel 'excess validation loss (nats, log scale)'\n",
                      H, PP_MODELS[mi], H, rp->ns, by_flops ? "training FLOPs" : "iterations");
    if (ex)
        excess_axis(rp, mi, H, &g);
    else
        lm_buf_printf(&g, "set title '%s: validation loss (mean over %d seeds) vs %s'\n"
                          "set ylabel 'validation loss (nats)'\n",
                      PP_MODELS[mi], rp->ns, by_flops ? "training FLOPs" : "iterations");
    lm_buf_printf(&g, "set xlabel '%s'\nset key outside right top vertical\nplot ",
                  by_flops ? "training GFLOPs (paper accounting)" : "iteration");
    for (int ci = 0; ci < PP_NCONF; ci++) {
        char *dat = pp_strf("curve_%s_%s.dat", PP_MODELS[mi], PP_CONFIGS[ci].name);
        if (!by_flops)
            curve_data(rp, mi, ci, dat);
        /* an evaluation below the Bayes loss (noise of a finite validation
         * set) has no place on a log axis: left out */
        lm_buf_printf(&g, "%s'%s' using %d:%s with linespoints lw 2 ps 0.8 ", ci ? ", \\\n     " : "",
                      dat, by_flops ? 2 : 1, ex ? "($3 > bayes ? $3 - bayes : NaN)" : "3");
        gp_style(&g, ci, 1);
        lm_buf_printf(&g, " title '%s'", PP_CONFIGS[ci].name);
        free(dat);
    }
    lm_buf_printf(&g, "\n");
    plot_run(rp, script, stem, &g);
    free(stem);
    free(script);
}

/* ---- norm-ratio diagnostics ---- */

/* Seed s's diagnostics.csv of LionMuon P = 2 (model mi, config ci): the
 * median of each ratio over the run into med[j][s]; seed 1's points are
 * also echoed to dat (step and the seven ratios), its last step to *last. */
static void diag_seed(report *rp, int mi, int ci, int s, double med[7][MAXSEED], lm_buf *dat,
                      double *last)
{
    char *run = pp_main_dir(rp->dir, mi, ci, s + 1);
    char *path = lm_path_join(run, "diagnostics.csv");
    lm_error ignored;
    FILE *fp = lm_fopen_read(path, &ignored);
    free(path);
    free(run);
    double v[7][MAXPT];
    int n = 0;
    char *line = NULL, *f[16];
    size_t cap = 0;
    if (fp && getline(&line, &cap, fp) >= 0)
        while (getline(&line, &cap, fp) >= 0 && n < MAXPT) {
            if (csv_split(line, f, 16) < 8)
                continue;
            if (s == 0) {
                lm_buf_printf(dat, "%s", f[0]);
                *last = fmax(*last, atof(f[0]));
            }
            for (int j = 0; j < 7; j++) {
                v[j][n] = atof(f[j + 1]);
                if (s == 0)
                    lm_buf_printf(dat, " %s", f[j + 1]);
            }
            if (s == 0)
                lm_buf_printf(dat, "\n");
            n++;
        }
    if (fp)
        fclose(fp);
    free(line);
    for (int j = 0; j < 7; j++)
        med[j][s] = stats_median((size_t)n, v[j]);
}

/* A tick interval of 1, 2, 2.5 or 5 times a power of ten giving at most
 * about four intervals on [0, xmax]. */
static double nice_step(double xmax)
{
    double d = xmax > 0 ? xmax / 4 : 1, p = pow(10, floor(log10(d))), m = d / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/* The diagnostics figure: a 2 x 4 grid, one panel per ratio over training
 * (seed 1) with the paper's 124M median dashed, the eighth panel the key. */
static void diag_figure(report *rp, int mi, const char *dat, double last)
{
    char *stem = pp_strf("diagnostics_%s", PP_MODELS[mi]), *script = pp_strf("diag_%s.gp", PP_MODELS[mi]);
    lm_buf g = {0};
    gp_head(&g, stem, 1500, 900);
    lm_buf_printf(&g, "set multiplot layout 2,4 title '%s, LionMuon P = 2, seed 1: norm ratios over "
                      "training' font ',13'\nset logscale y\nset format y '%%g'\nunset key\n"
                      "set xlabel 'step'\nset xrange [0:%g]\nset xtics 0, %g\nset offsets 0, 0, "
                      "graph 0.05, graph 0.05\n",
                  PP_MODELS[mi], last > 0 ? 1.04 * last : 1, nice_step(last));
    for (int j = 0; j < 7; j++)
        lm_buf_printf(&g, "set title \"%s\"\nplot '%s' using 1:%d with linespoints lw 1.5 pt 7 "
                          "ps 0.6 lc rgb '#1f77b4', %g with lines lw 2 dt (8,6) lc rgb 'black'\n",
                      DIAG_TITLE[j], dat, j + 2, DIAG_PAPER[j]);
    /* the eighth panel: the key alone */
    lm_buf_printf(&g, "unset title\nunset xlabel\nunset logscale\nunset border\nunset tics\n"
                      "unset grid\nset xrange [0:1]\nset yrange [0:1]\n"
                      "set key center center vertical Left reverse spacing 1.8 samplen 4\n"
                      "plot NaN with linespoints lw 1.5 pt 7 ps 0.6 lc rgb '#1f77b4' "
                      "title 'this run (seed 1)', \\\n"
                      "     NaN with lines lw 2 dt (8,6) lc rgb 'black' "
                      "title 'the paper: median, 124M, 10000 steps'\n"
                      "unset multiplot\n");
    plot_run(rp, script, stem, &g);
    free(stem);
    free(script);
}

/* The seven norm ratios of LionMuon P = 2 (model mi): the mean over seeds of
 * each seed's median over the run, beside the paper's 124M medians; and a
 * figure of each ratio over training (seed 1). */
static void diagnostics(report *rp, int mi)
{
    int ci = pp_find_config("lionmuon-p2");
    double med[7][MAXSEED], last = 0;
    char *dat = pp_strf("diag_%s.dat", PP_MODELS[mi]);
    lm_buf d = {0};
    for (int s = 0; s < rp->ns; s++)
        diag_seed(rp, mi, ci, s, med, &d, &last);
    lm_buf_printf(rp->md, "\n| ratio (%s, LionMuon P = 2) | median over training, mean over seeds | "
                          "95%% CI | paper, 124M | ratio to paper |\n|---|---|---|---|---|\n",
                  PP_MODELS[mi]);
    for (int j = 0; j < 7; j++) {
        double m, h;
        int k;
        mean_ci(rp->ns, med[j], &m, &h, &k);
        lm_buf_printf(rp->md, "| %s | %.4g | ±%.2g | %g | %.2f |\n", DIAG[j], m, h, DIAG_PAPER[j],
                      m / DIAG_PAPER[j]);
    }
    if (plot_file(rp, dat, &d) == 0)
        diag_figure(rp, mi, dat, last);
    free(dat);
}

/* ---- the msign study ---- */

/* What the msign figure needs of the study: the 1-based CSV columns of
 * m, n, cond, method, time and spectral error, the distinct shapes ("MxN")
 * and condition numbers in order of appearance, and per method of the
 * figure (MS_METHODS) the range of its times and (floored) errors. */
#define MS_MAXV 8
#define MS_FLOOR 1e-16
static const char *const MS_METHODS[3] = {"ns5", "cubic", "polar-express"};
typedef struct {
    int m, n, cond, method, time, err;
    int nshape, ncond;
    char shape[MS_MAXV][48], cond_s[MS_MAXV][48];
    double tlo[3], thi[3], elo[3], ehi[3];
} msign_cols;

/* Add v to the set list[0..*n-1] unless there or full. */
static void add_distinct(char (*list)[48], int *n, const char *v)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(list[i], v))
            return;
    if (*n < MS_MAXV)
        snprintf(list[(*n)++], 48, "%s", v);
}

/* The table of the msign study (fp, after its header line hdr); every line
 * is also copied to csv, for the figure, and mc filled in. */
static void msign_table(report *rp, FILE *fp, char *hdr, lm_buf *csv, msign_cols *mc)
{
    static const char *names[11] = {"m", "n", "cond", "method", "iterations", "err_spectral",
                                    "err_fro_rel", "sv_min", "sv_max", "flops", "gemm_units"};
    char *h[32], *f[32], *line = NULL;
    size_t cap = 0;
    int nh = csv_split(hdr, h, 32), c[11], all = 1;
    for (int i = 0; i < 11; i++)
        all &= (c[i] = col(h, nh, names[i])) >= 0;
    memset(mc, 0, sizeof *mc);
    for (int k = 0; k < 3; k++) {
        mc->tlo[k] = mc->elo[k] = INFINITY;
        mc->thi[k] = mc->ehi[k] = 0;
    }
    lm_buf_printf(rp->md, "\n| shape | cond | method | iterations | ||X - UV^T||_2 | "
                          "||X - UV^T||_F / ||UV^T||_F | singular values | GFLOPs | time / DGEMM |\n"
                          "|---|---|---|---|---|---|---|---|---|\n");
    while (getline(&line, &cap, fp) >= 0) {
        lm_buf_printf(csv, "%s", line);
        if (csv_split(line, f, 32) >= nh && all) {
            lm_buf_printf(rp->md, "| %sx%s | %s | %s | %s | %.2e | %.2e | [%.4f, %.4f] | %.3f | %.1f |\n",
                          f[c[0]], f[c[1]], f[c[2]], f[c[3]], f[c[4]], atof(f[c[5]]),
                          atof(f[c[6]]), atof(f[c[7]]), atof(f[c[8]]), atof(f[c[9]]) * 1e-9,
                          atof(f[c[10]]));
            char shape[48];
            snprintf(shape, sizeof shape, "%.20sx%.20s", f[c[0]], f[c[1]]);
            add_distinct(mc->shape, &mc->nshape, shape);
            add_distinct(mc->cond_s, &mc->ncond, f[c[2]]);
            for (int k = 0; k < 3; k++)
                if (!strcmp(f[c[3]], MS_METHODS[k])) {
                    double t = atof(f[c[10]]), er = fmax(atof(f[c[5]]), MS_FLOOR);
                    mc->tlo[k] = fmin(mc->tlo[k], t);
                    mc->thi[k] = fmax(mc->thi[k], t);
                    mc->elo[k] = fmin(mc->elo[k], er);
                    mc->ehi[k] = fmax(mc->ehi[k], er);
                }
        }
    }
    free(line);
    mc->m = c[0] + 1;
    mc->n = c[1] + 1;
    mc->cond = c[2] + 1;
    mc->method = c[3] + 1;
    mc->time = c[10] + 1;
    mc->err = c[5] + 1;
}

/* A condition number as a reader writes it: 10, 100, 1e4, 1e6. */
static void cond_label(const char *s, char *out, size_t len)
{
    double v = atof(s), p = round(log10(v));
    if (v >= 1000 && fabs(v - pow(10, p)) < 1e-9 * v)
        snprintf(out, len, "1e%.0f", p);
    else
        snprintf(out, len, "%g", v);
}

/* Spectral error against time (in DGEMM units), log-log, one panel per
 * method; colour: the condition number, marker: the shape; the key in a
 * strip below the panels.  From the copy of the study's CSV in the plots
 * directory. */
static void msign_figure(report *rp, lm_buf *csv, const msign_cols *mc)
{
    static const char *dat = "msign_accuracy.csv";
    static const char *ccol[MS_MAXV] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                        "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    static const int spt[MS_MAXV] = {7, 5, 9, 11, 13, 15, 6, 4};
    lm_buf g = {0};
    gp_head(&g, "msign_accuracy", 1500, 620);
    lm_buf_printf(&g, "set datafile separator ','\n"
                      "set multiplot title 'msign: spectral error against the exact polar factor vs "
                      "cost (colour: condition number; marker: shape; each panel its own y scale)' "
                      "font ',13'\nset logscale xy\nset format y '%%g'\nunset key\n"
                      "set xlabel 'time in units of one Gram-shaped DGEMM'\n");
    for (int k = 0; k < 3; k++) {
        lm_buf_printf(&g, "set origin %g, 0.14\nset size 0.333, 0.78\nset title '%s'\n"
                          "set ylabel '%s'\nset xtics autofreq\nset ytics autofreq\n",
                      k / 3.0, MS_METHODS[k], k == 0 ? "||X - UV^T||_2 (floored at 1e-16)" : "");
        /* each panel's own ranges, a little wider than its points */
        if (mc->thi[k] > 0) {
            double tl = mc->tlo[k] / 1.25, th = mc->thi[k] * 1.25, el = mc->elo[k] / 1.6,
                   eh = mc->ehi[k] * 1.6;
            lm_buf_printf(&g, "set xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\n", tl, th, el, eh);
            log_ticks(&g, 'x', tl, th);
            log_ticks(&g, 'y', el, eh);
        }
        lm_buf_printf(&g, "plot ");
        for (int c = 0; c < mc->ncond; c++)
            for (int q = 0; q < mc->nshape; q++) {
                lm_buf_printf(&g, "%s'%s' using (strcol(%d) eq '%s' && strcol(%d) eq '%s' && "
                                  "strcol(%d).'x'.strcol(%d) eq '%s' ? $%d : NaN):"
                                  "($%d > 1e-16 ? $%d : 1e-16) with points pt %d ps 1.6 lc rgb '%s'",
                              c || q ? ", \\\n     " : "", dat, mc->method, MS_METHODS[k], mc->cond,
                              mc->cond_s[c], mc->m, mc->n, mc->shape[q], mc->time, mc->err,
                              mc->err, spt[q], ccol[c]);
            }
        lm_buf_printf(&g, "\n");
    }
    /* the key strip: the condition numbers in colour, the shapes in grey */
    lm_buf_printf(&g, "set origin 0, 0\nset size 1, 0.13\nunset title\nunset xlabel\nunset ylabel\n"
                      "unset logscale\nunset border\nunset tics\nunset grid\nset xrange [0:1]\n"
                      "set yrange [0:1]\nset key center center horizontal maxrows 1 Left reverse width 2\nplot ");
    for (int c = 0; c < mc->ncond; c++) {
        char lab[32];
        cond_label(mc->cond_s[c], lab, sizeof lab);
        lm_buf_printf(&g, "%sNaN with points pt 7 ps 1.6 lc rgb '%s' title 'cond %s'", c ? ", " : "",
                      ccol[c], lab);
    }
    for (int q = 0; q < mc->nshape; q++)
        lm_buf_printf(&g, ", NaN with points pt %d ps 1.6 lc rgb '#505050' title 'shape %s'", spt[q],
                      mc->shape[q]);
    lm_buf_printf(&g, "\nunset multiplot\n");
    if (plot_file(rp, dat, csv) == 0)
        plot_run(rp, "msign_accuracy.gp", "msign_accuracy", &g);
    lm_buf_free(&g);
}

/* The msign study's section: its table and figure (nothing without a
 * study file). */
static void msign_section(report *rp, const char *path)
{
    lm_error e = {{0}};
    FILE *fp = path ? lm_fopen_read(path, &e) : NULL;
    if (!fp) {
        if (path)
            fprintf(stderr, "lionmuon paper: --msign-csv %s (section skipped)\n", e.msg);
        lm_buf_printf(rp->md, path ? "\n(the msign study file could not be read)\n"
                                   : "\n(no msign study file was given)\n");
        return;
    }
    char *hdr = NULL;
    size_t cap = 0;
    if (getline(&hdr, &cap, fp) < 0) {
        fclose(fp);
        free(hdr);
        return;
    }
    lm_buf csv = {0};
    msign_cols mc;
    lm_buf_printf(&csv, "%s", hdr);
    msign_table(rp, fp, hdr, &csv, &mc);
    fclose(fp);
    free(hdr);
    msign_figure(rp, &csv, &mc);
}

/* ---- the claims ---- */

/* The tuning curves as a figure: mean best validation loss over the tuning
 * seeds against the learning-rate factor, one line per config in its own
 * style, the chosen factors ringed (dat: from table_tuning, one index block
 * per config). */
static void figure_tuning(report *rp, int mi, lm_buf *dat)
{
    char *stem = pp_strf("tuning_%s", PP_MODELS[mi]);
    char *dn = pp_strf("%s.dat", stem), *script = pp_strf("%s.gp", stem);
    lm_buf g = {0};
    gp_head(&g, stem, 1100, 650);
    lm_buf_printf(&g, "set title '%s: tuning curves (best validation loss, mean over %d tuning "
                      "seeds)'\nset logscale x 2\nset format x '%%g'\n"
                      "set xlabel 'learning-rate factor (times the paper''s 124M rates)'\n"
                      "set ylabel 'best validation loss (nats)'\n"
                      "set key outside right top vertical\nset offsets graph 0.03, graph 0.03, 0, 0\n"
                      "plot ",
                  PP_MODELS[mi], pp_ntune());
    for (int ci = 0; ci < PP_NCONF; ci++) {
        lm_buf_printf(&g, "%s'%s' index %d using 1:2 with linespoints lw 2 ps 1.2 ",
                      ci ? ", \\\n     " : "", dn, ci);
        gp_style(&g, ci, 1);
        lm_buf_printf(&g, " title '%s'", PP_CONFIGS[ci].name);
    }
    /* every config's chosen factor, ringed */
    lm_buf_printf(&g, ", \\\n     '%s' using 1:($3 > 0 ? $2 : NaN) with points pt 6 ps 2.6 lw 1.5 "
                      "lc rgb 'black' title 'chosen factor'\n", dn);
    if (plot_file(rp, dn, dat) == 0)
        plot_run(rp, script, stem, &g);
    lm_buf_free(&g);
    free(stem);
    free(dn);
    free(script);
}

/* Every verdict of the report: LionMuon P = 2 against each rival at the
 * rival's FLOPs and CPU time, SignMuon against Muon; Holm's adjustment over
 * all of them. */
static int all_comparisons(report *rp, comparison *c)
{
    static const char *rivals[] = {"muon", "lion", "signum", "adamw"};
    int n = 0, p2 = pp_find_config("lionmuon-p2");
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        for (int basis = 0; basis < 2; basis++)
            for (int r = 0; r < 4; r++)
                c[n++] = (comparison){mi, p2, pp_find_config(rivals[r]), basis, 0, 0, 0, 0, 0};
        c[n++] = (comparison){mi, pp_find_config("signmuon-p2"), pp_find_config("muon"), 0, 0,
                              0, 0, 0, 0};
    }
    double p[MAXCOMP], adj[MAXCOMP];
    for (int i = 0; i < n; i++) {
        compare(rp, &c[i]);
        p[i] = c[i].p;
    }
    vd_holm(n, p, adj);
    for (int i = 0; i < n; i++)
        c[i].adj = adj[i];
    return n;
}

static void claims(report *rp)
{
    lm_buf *md = rp->md;
    comparison c[MAXCOMP];
    int n = all_comparisons(rp, c);
    static const char *HEAD =
        "| model | a | b | mean difference | 95%% CI | seeds | p | Holm p | verdict |\n"
        "|---|---|---|---|---|---|---|---|---|\n";
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        for (int basis = 0; basis < 2; basis++) {
            lm_buf_printf(md, "\n#### %s: LionMuon P = 2 against each rival, at the rival's %s\n\n"
                          "Difference = (P = 2's best validation loss among its evaluations within "
                          "the rival's %s) - (the rival's best validation loss), paired by seed. "
                          "Negative favours P = 2.\n\n", PP_MODELS[mi],
                          basis ? "CPU time" : "compute", basis ? "CPU time" : "total FLOPs");
            lm_buf_printf(md, HEAD);
            for (int i = 0; i < n; i++)
                if (c[i].mi == mi && c[i].basis == basis && c[i].a == pp_find_config("lionmuon-p2"))
                    comparison_row(md, &c[i], 0);
        }
        int p2 = pp_find_config("lionmuon-p2");
        double fr = rp->R[mi][p2][0].flops / rp->R[mi][pp_find_config("muon")][0].flops;
        lm_buf_printf(rp->sum, "| %s | lionmuon-p2 total FLOPs / muon's | %.3f | | | %s |\n",
                      PP_MODELS[mi], fr, fr < 1 ? "fewer FLOPs" : "more FLOPs");
    }
    lm_buf_printf(md, "\n### Claim: SignMuon beats Muon\n\nDifference = SignMuon (P = 2) best "
                  "validation loss within Muon's FLOPs - Muon's, paired by seed (SignMuon uses "
                  "fewer FLOPs, so this is its own best).\n\n");
    lm_buf_printf(md, HEAD);
    for (int i = 0; i < n; i++)
        if (c[i].a == pp_find_config("signmuon-p2"))
            comparison_row(md, &c[i], 0);
    for (int i = 0; i < n; i++)
        comparison_row(rp->sum, &c[i], 1);
}

/* ---- the sections of the report ---- */

/* Title and protocol. */
static void report_head(const report *rp, lm_buf *md, int have)
{
    int quick = rp->quick;
    double bayes = rp->R[0][0][0].bayes;
    const double *g;
    int ng;
    pp_grid(quick, &g, &ng);
    lm_buf grid = {0};
    for (int k = 0; k < ng; k++)
        lm_buf_printf(&grid, "%s%g", k ? ", " : "", g[k]);
    lm_buf_printf(md, "# The paper's claims at CPU scale%s\n\n"
                "Generated by `lionmuon paper report` from %d finished runs under `%s`; every "
                "number below is measured, none is copied except the paper's own figures quoted "
                "for comparison.\n\n", quick ? " (QUICK variant: tiny models, 2 seeds; not evidence)" : "",
            have, rp->dir);
    lm_buf_printf(md, "## Protocol\n\n"
                "- Models: GPT-2 and LLaMA (theory/models.md) with %d layers, %d heads, width %d, "
                "sequence %d, batch %d, %d iterations (warm-up 3000/64000 of them, cosine to 0, "
                "clipping 0.5, weight decay 0.1), double precision%s.\n"
                "- Data: the built-in Zipf-Markov corpus (vocabulary 256, Zipf exponent 1.1); its "
                "entropy rate %.4f nats is the Bayes-optimal loss, so losses are also given as "
                "excess over it.\n"
                "- Configs: AdamW, Lion, Signum, Muon, SignMuon P = 2, LionMuon P = 1, 2, 5, 20, "
                "100, starting from the paper's tuned 124M learning rates (theory/algorithms.md §5).\n"
                "- Tuning: on the tuning seeds %d..%d, every learning rate of a config (lr_muon, "
                "lr_sign and the AdamW rate of its 1-D/embedding part) is multiplied by one factor "
                "of a factor-2 grid starting at {%s}; the factor with the lowest mean best "
                "validation loss over the tuning seeds is kept; a pick at the grid's end grows "
                "the grid by a factor 2 on that side and the tuning stage runs again (the tuning "
                "curves are in section 1).\n"
                "- Main runs: evaluation seeds 1..%d, disjoint from the tuning seeds, at the "
                "chosen factor.  Intervals are two-sided 95%% t intervals over seeds (GSL's t "
                "quantiles); comparisons are paired by seed (same initialisation and batches), "
                "with two-sided paired t-tests whose p-values are Holm-adjusted over every "
                "verdict of the report; a verdict holds or fails only at Holm p < 0.05.\n"
                "- Compute: FLOPs by the paper's accounting (6 N T B per iteration plus "
                "Newton-Schulz FLOPs on Muon steps and m n on sign steps), and CPU time: user + "
                "system seconds of the run's own process (`lionmuon paper timed`, getrusage), "
                "one thread per run; the validation points' CPU times are their wall-clock times "
                "scaled by the run's CPU/wall ratio.\n"
                "- Validation: every %d steps on %d fixed batches; \"best\" is the lowest of those "
                "evaluations.\n",
            quick ? 1 : 2, quick ? 2 : 4, quick ? 32 : 64, quick ? 16 : 64, quick ? 4 : 24,
            quick ? 40 : 650, quick ? "" : " (about 8 tokens per parameter, as at 124M)", bayes,
            PP_TUNE_SEED, PP_TUNE_SEED + pp_ntune() - 1, grid.s, rp->ns, quick ? 10 : 50,
            quick ? 2 : 8);
    lm_buf_free(&grid);
}

/* Section 1: the compute ratio, the main tables, the tuning curves, the
 * Pareto figures and the claims. */
static void section_compute(report *rp)
{
    lm_buf *md = rp->md;
    lm_buf_printf(md, "\n## 1. Best validation loss against compute\n\nThe compute ratio of the "
                  "setting, by the paper's FLOPs count:\n\n");
    for (int mi = 0; mi < PP_NMODEL; mi++)
        compute_ratio(rp, mi);
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        const char *m = PP_MODELS[mi];
        table_main(rp, mi);
        lm_buf dat = {0};
        lm_buf_printf(md, "\nTuning curves (%s):\n", m);
        table_tuning(rp, mi, &dat);
        figure_tuning(rp, mi, &dat);
        figure_pareto(rp, mi, 0);
        figure_pareto(rp, mi, 1);
        lm_buf_printf(md, "\n![tuning %s](%s/tuning_%s.png)\n![pareto %s](%s/pareto_flops_%s.png)\n"
                      "![pareto cpu %s](%s/pareto_cpu_%s.png)\n", m, rp->link, m, m, rp->link, m,
                      m, rp->link, m);
    }
    lm_buf_printf(md, "\n### Claim: \"LionMuon at P = 2 Pareto-dominates Muon, Lion, Signum and AdamW\"\n");
    claims(rp);
    lm_buf_printf(md, "\nFor reference, the paper's single-seed 124M results (FineWeb, GPT-2): LionMuon "
                "P=2 3.5006, SignMuon P=2 3.5103, LionMuon P=1 3.5102, P=5 3.5060, P=20 3.5233, "
                "Muon 3.5257, AdamW 3.5525, P=100 3.5536, Lion 3.5794, Signum 3.5972.\n");
}

/* Sections 2-5: msign accuracy, diagnostics, optimizer state, curves. */
static void section_rest(report *rp, const char *msign_csv)
{
    lm_buf *md = rp->md;
    lm_buf_printf(md, "\n## 2. msign accuracy against cost\n");
    msign_section(rp, msign_csv);
    lm_buf_printf(md, "\n![msign](%s/msign_accuracy.png)\n", rp->link);

    lm_buf_printf(md, "\n## 3. Norm-ratio diagnostics over training\n");
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        diagnostics(rp, mi);
        lm_buf_printf(md, "\n![diagnostics %s](%s/diagnostics_%s.png)\n", PP_MODELS[mi], rp->link,
                      PP_MODELS[mi]);
    }
    lm_buf_printf(md, "\nThe paper's medians come from 124M models after 10000 steps with mini-batch "
                "smoothness estimates; the ratios depend on width and training length, so only "
                "orders of magnitude are comparable here.\n");

    lm_buf_printf(md, "\n## 4. Optimizer-state bytes (measured by the running program)\n\n"
                "| config | gpt2 | llama | gpt2 ratio to AdamW |\n|---|---|---|---|\n");
    double adam = rp->R[0][0][0].bytes;
    for (int ci = 0; ci < PP_NCONF; ci++)
        lm_buf_printf(md, "| %s | %.0f | %.0f | %.3f |\n", PP_CONFIGS[ci].name, rp->R[0][ci][0].bytes,
                      rp->R[1][ci][0].bytes, rp->R[0][ci][0].bytes / adam);
    lm_buf_printf(md, "\nThe matrix rules keep one buffer per hidden matrix; the embeddings and 1-D "
                "tensors keep AdamW's two in every config, which is why the hybrids sit above "
                "one half.\n");

    lm_buf_printf(md, "\n## 5. Validation loss against iterations and FLOPs\n");
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        const char *m = PP_MODELS[mi];
        figure_curves(rp, mi, 0);
        figure_curves(rp, mi, 1);
        lm_buf_printf(md, "\n![curves %s](%s/curves_iter_%s.png)\n![curves flops %s](%s/curves_flops_%s.png)\n",
                      m, rp->link, m, m, rp->link, m);
    }
}

int paper_report(const char *dir, int quick, const char *report_path, const char *plots_dir,
                 const char *plots_link, const char *msign_csv, const char *audit_dir,
                 lm_error *e)
{
    report *rp = lm_calloc(1, sizeof *rp);
    rp->dir = dir;
    rp->plots = plots_dir;
    rp->link = plots_link ? plots_link : plots_dir;
    rp->quick = quick;
    rp->ns = pp_nseeds(quick);
    /* per model: the tuning curves, two Pareto figures, the diagnostics,
     * two curve figures */
    rp->fig_total = 6 * PP_NMODEL + (msign_csv != NULL);
    int have = load_runs(rp);
    if (have == 0) {
        free(rp);
        return lm_fail(e, "%s/main: no finished runs (run the main stage first)", dir);
    }
    if (lm_mkdir_p(plots_dir, e) != 0) {
        free(rp);
        return lm_wrap(e, "--plots");
    }
    /* the body is written first, so the summary of verdicts, known only
     * once the comparisons are made, can stand before it */
    lm_buf all = {0}, body = {0}, sum = {0};
    rp->md = &body;
    rp->sum = &sum;
    section_compute(rp);
    section_rest(rp, msign_csv);
    if (audit_dir && paper_rank_agreement(audit_dir, dir, &body, NULL, e) != 0) {
        lm_buf_free(&body);
        lm_buf_free(&sum);
        free(rp);
        return -1;
    }
    /* head (title, protocol) + summary + body */
    report_head(rp, &all, have);
    lm_buf_printf(&all, "\n## Summary of verdicts\n\nDifferences in best validation loss (nats), "
                 "mean over seeds with the 95%% t interval of the paired differences; "
                 "negative favours the first optimizer; p from the two-sided paired t-test, "
                 "Holm-adjusted over all %d verdicts below.  \"holds\": Holm p < 0.05 and the "
                 "difference negative; \"fails\": Holm p < 0.05 and positive.\n\n| model | "
                 "comparison | difference [95%% CI] | p | Holm p | verdict |\n"
                 "|---|---|---|---|---|---|\n", PP_NMODEL * 9);
    lm_buf_printf(&all, "%s%s", sum.s ? sum.s : "", body.s ? body.s : "");
    int rc = lm_write_atomic(report_path, all.s, all.len, e);
    lm_buf_free(&all);
    lm_buf_free(&body);
    lm_buf_free(&sum);
    free(rp);
    return rc;
}
