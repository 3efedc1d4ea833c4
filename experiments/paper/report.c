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
#include "lionmuon/stats.h"

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
    char *run = pp_main_dir(dir, mi, ci, seed);
    r->best = pp_summary_value(run, "best_val_loss");
    r->flops = pp_summary_value(run, "total_flops");
    r->wall = pp_summary_value(run, "wall_s");
    r->bytes = pp_summary_value(run, "optimizer_state_bytes");
    r->excess = pp_summary_value(run, "excess_loss");
    r->bayes = pp_summary_value(run, "bayes_loss");
    r->ok = isfinite(r->best) && read_curve(run, &r->cv) == 0;
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
 * b's best loss; one row of the table and one line of the summary. */
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
    lm_buf_printf(rp->md, "| %s | %s | %s | %+.4f | [%+.4f, %+.4f] | %d | %s |\n", PP_MODELS[mi],
                  PP_CONFIGS[a].name, PP_CONFIGS[b].name, m, m - h, m + h, k, verdict(m, h));
    lm_buf_printf(rp->sum, "| %s | %s better than %s %s | %+.4f [%+.4f, %+.4f] | %s |\n",
                  PP_MODELS[mi], PP_CONFIGS[a].name, PP_CONFIGS[b].name, basis, m, m - h, m + h,
                  verdict(m, h));
}

/* One config's row of the main table (model mi). */
static void main_row(report *rp, json_t *tuned, int mi, int ci)
{
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
    pp_grid(rp->quick, &g, &ng);
    double sc = pp_tuned_scale(tuned, PP_MODELS[mi], PP_CONFIGS[ci].name);
    /* a factor at the end of the grid may not be the optimum */
    const char *edge = sc == g[0] || sc == g[ng - 1] ? " (grid edge)" : "";
    lm_buf_printf(rp->md, "| %s | %g%s | %.4f | ±%.4f (n=%d) | %.4f | %.3f | %.2f ± %.2f | %.0f |\n",
                  PP_CONFIGS[ci].name, sc, edge, m, h, k, em, r0->flops * 1e-9, wm, wh, r0->bytes);
}

static void table_main(report *rp, int mi)
{
    lm_buf_printf(rp->md, "\n### %s\n\n", PP_MODELS[mi]);
    lm_buf_printf(rp->md, "| config | lr factor | best val loss | 95%% CI | excess over Bayes | total GFLOPs "
                          "| wall s | state bytes |\n|---|---|---|---|---|---|---|---|\n");
    char *path = pp_tuned_path(rp->dir);
    lm_error ignored;
    json_t *tuned = pp_load_json(path, &ignored);
    free(path);
    for (int ci = 0; ci < PP_NCONF; ci++)
        main_row(rp, tuned, mi, ci);
    json_decref(tuned);
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

/* Write the script and run gnuplot on it in the plots directory; the
 * script writes PNG.tmp, renamed to PNG only when gnuplot succeeds
 * (lm_gnuplot_png).  A missing or failing gnuplot is reported, not fatal,
 * and leaves no empty figure. */
static void plot_run(const report *rp, const char *script, const char *png, lm_buf *gp)
{
    if (plot_file(rp, script, gp) != 0)
        return;
    lm_error e = {{0}};
    int rc = lm_gnuplot_png(rp->plots, script, png, &e);
    char *dir = lm_printable(rp->plots);
    if (rc > 0)
        fprintf(stderr, "lionmuon paper: gnuplot failed on %s in %s (is gnuplot installed?); "
                        "no %s written\n", script, dir, png);
    else if (rc < 0)
        fprintf(stderr, "lionmuon paper: %s\n", e.msg);
    free(dir);
}

/* Best validation loss (mean, 95% CI) against total FLOPs or wall time,
 * one point per config. */
static void figure_pareto(report *rp, int mi, int use_wall)
{
    const char *what = use_wall ? "wall" : "flops";
    char *stem = pp_strf("pareto_%s_%s", what, PP_MODELS[mi]);
    char *dat = pp_strf("%s.dat", stem), *script = pp_strf("%s.gp", stem);
    lm_buf b = {0}, g = {0};
    lm_buf_printf(&b, "# config x mean_best_loss ci_half\n");
    for (int ci = 0; ci < PP_NCONF; ci++) {
        double bs[MAXSEED], w[MAXSEED], m, h, wm, wh;
        int k;
        for (int s = 0; s < rp->ns; s++) {
            bs[s] = rp->R[mi][ci][s].best;
            w[s] = use_wall ? rp->R[mi][ci][s].wall : rp->R[mi][ci][s].flops;
        }
        mean_ci(rp->ns, bs, &m, &h, &k);
        mean_ci(rp->ns, w, &wm, &wh, &k);
        lm_buf_printf(&b, "%s %.9g %.9g %.9g\n", PP_CONFIGS[ci].name, use_wall ? wm : wm * 1e-9,
                      m, isfinite(h) ? h : 0.0);
    }
    lm_buf_printf(&g, "set terminal pngcairo noenhanced size 900,600\nset output '%s.png.tmp'\n", stem);
    lm_buf_printf(&g, "set title '%s: best validation loss (mean, 95%% CI over %d seeds) vs %s'\n",
                  PP_MODELS[mi], rp->ns, use_wall ? "wall time" : "total training FLOPs");
    lm_buf_printf(&g, "set xlabel '%s'\nset ylabel 'best validation loss (nats)'\nset grid\n",
                  use_wall ? "wall time (s, one thread)" : "total GFLOPs (paper accounting)");
    lm_buf_printf(&g, "set key outside right\nplot ");
    for (int ci = 0; ci < PP_NCONF; ci++)
        lm_buf_printf(&g, "%s'%s' every ::%d::%d using 2:3:4 with yerrorbars pt %d ps 1.5 lc %d title '%s'",
                      ci ? ", " : "", dat, ci, ci, 5 + ci % 4, ci % 8 + 1 + (ci >= 8 ? 2 : 0),
                      PP_CONFIGS[ci].name);
    lm_buf_printf(&g, "\n");
    char *png = pp_strf("%s.png", stem);
    if (plot_file(rp, dat, &b) == 0)
        plot_run(rp, script, png, &g);
    free(png);
    lm_buf_free(&g);
    free(stem);
    free(dat);
    free(script);
}

/* curve_MODEL_CONFIG.dat: per validation point of seed 1, the step, GFLOPs
 * and the validation loss averaged over the seeds that reached it. */
static void curve_data(report *rp, int mi, int ci, const char *dat)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "# step gflops mean_val_loss\n");
    const curve *c0 = &rp->R[mi][ci][0].cv;
    for (int i = 0; rp->R[mi][ci][0].ok && i < c0->n; i++) {
        double v[MAXSEED], m, h;
        int k;
        for (int s = 0; s < rp->ns; s++)
            v[s] = rp->R[mi][ci][s].ok && rp->R[mi][ci][s].cv.n > i
                       ? rp->R[mi][ci][s].cv.loss[i] : NAN;
        mean_ci(rp->ns, v, &m, &h, &k);
        lm_buf_printf(&b, "%g %.9g %.9g\n", c0->step[i], c0->flops[i] * 1e-9, m);
    }
    plot_file(rp, dat, &b);
}

/* Validation loss against iterations (by_flops = 0: also writes the curve
 * data) or FLOPs (by_flops = 1: reuses it), one line per config. */
static void figure_curves(report *rp, int mi, int by_flops)
{
    char *stem = pp_strf("curves_%s_%s", by_flops ? "flops" : "iter", PP_MODELS[mi]);
    char *script = pp_strf("%s.gp", stem);
    lm_buf g = {0};
    lm_buf_printf(&g, "set terminal pngcairo noenhanced size 1000,650\nset output '%s.png.tmp'\n", stem);
    lm_buf_printf(&g, "set title '%s: validation loss (mean over %d seeds) vs %s'\n", PP_MODELS[mi],
                  rp->ns, by_flops ? "training FLOPs" : "iterations");
    lm_buf_printf(&g, "set xlabel '%s'\nset ylabel 'validation loss (nats)'\nset grid\n"
                      "set key outside right\nplot ", by_flops ? "GFLOPs" : "iteration");
    for (int ci = 0; ci < PP_NCONF; ci++) {
        char *dat = pp_strf("curve_%s_%s.dat", PP_MODELS[mi], PP_CONFIGS[ci].name);
        if (!by_flops)
            curve_data(rp, mi, ci, dat);
        /* gnuplot cycles 8 colours: the configs past the eighth are dashed */
        lm_buf_printf(&g, "%s'%s' using %d:3 with lines lw 2 lc %d dt %d title '%s'", ci ? ", " : "",
                      dat, by_flops ? 2 : 1, ci % 8 + 1, ci / 8 + 1, PP_CONFIGS[ci].name);
        free(dat);
    }
    lm_buf_printf(&g, "\n");
    char *png = pp_strf("%s.png", stem);
    plot_run(rp, script, png, &g);
    free(png);
    free(stem);
    free(script);
}

/* ---- norm-ratio diagnostics ---- */

/* Seed s's diagnostics.csv of LionMuon P = 2 (model mi, config ci): the
 * median of each ratio over the run into med[j][s]; seed 1's points are
 * also echoed to dat (step and the seven ratios). */
static void diag_seed(report *rp, int mi, int ci, int s, double med[7][MAXSEED], lm_buf *dat)
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
            if (s == 0)
                lm_buf_printf(dat, "%s", f[0]);
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

/* The seven norm ratios of LionMuon P = 2 (model mi): the mean over seeds of
 * each seed's median over the run, beside the paper's 124M medians; and a
 * figure of each ratio over training (seed 1). */
static void diagnostics(report *rp, int mi)
{
    int ci = pp_find_config("lionmuon-p2");
    double med[7][MAXSEED];
    char *dat = pp_strf("diag_%s.dat", PP_MODELS[mi]), *script = pp_strf("diag_%s.gp", PP_MODELS[mi]);
    lm_buf d = {0}, g = {0};
    for (int s = 0; s < rp->ns; s++)
        diag_seed(rp, mi, ci, s, med, &d);
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
    lm_buf_printf(&g, "set terminal pngcairo noenhanced size 1400,800\nset output 'diagnostics_%s.png.tmp'\n"
                      "set multiplot layout 2,4 title '%s, LionMuon P = 2, seed 1: norm ratios over "
                      "training (line: the paper 124M median)'\nset logscale y\nset grid\nunset key\n",
                  PP_MODELS[mi], PP_MODELS[mi]);
    for (int j = 0; j < 7; j++)
        lm_buf_printf(&g, "set title '%s'\nplot '%s' using 1:%d with linespoints pt 7 ps 0.5, %g lw 2\n",
                      DIAG[j], dat, j + 2, DIAG_PAPER[j]);
    lm_buf_printf(&g, "unset multiplot\n");
    char *png = pp_strf("diagnostics_%s.png", PP_MODELS[mi]);
    if (plot_file(rp, dat, &d) == 0)
        plot_run(rp, script, png, &g);
    free(png);
    lm_buf_free(&g);
    free(dat);
    free(script);
}

/* ---- the msign study ---- */

/* The table of the msign study (fp, after its header line hdr); every line
 * is also copied to csv, for the figure.  cols: the 1-based columns of the
 * method, the time and the spectral error. */
static void msign_table(report *rp, FILE *fp, char *hdr, lm_buf *csv, int cols[3])
{
    static const char *names[11] = {"m", "n", "cond", "method", "iterations", "err_spectral",
                                    "err_fro_rel", "sv_min", "sv_max", "flops", "gemm_units"};
    char *h[32], *f[32], *line = NULL;
    size_t cap = 0;
    int nh = csv_split(hdr, h, 32), c[11], all = 1;
    for (int i = 0; i < 11; i++)
        all &= (c[i] = col(h, nh, names[i])) >= 0;
    lm_buf_printf(rp->md, "\n| shape | cond | method | iterations | ||X - UV^T||_2 | "
                          "||X - UV^T||_F / ||UV^T||_F | singular values | GFLOPs | time / DGEMM |\n"
                          "|---|---|---|---|---|---|---|---|---|\n");
    while (getline(&line, &cap, fp) >= 0) {
        lm_buf_printf(csv, "%s", line);
        if (csv_split(line, f, 32) >= nh && all)
            lm_buf_printf(rp->md, "| %sx%s | %s | %s | %s | %.2e | %.2e | [%.4f, %.4f] | %.3f | %.1f |\n",
                          f[c[0]], f[c[1]], f[c[2]], f[c[3]], f[c[4]], atof(f[c[5]]),
                          atof(f[c[6]]), atof(f[c[7]]), atof(f[c[8]]), atof(f[c[9]]) * 1e-9,
                          atof(f[c[10]]));
    }
    free(line);
    cols[0] = c[3] + 1;
    cols[1] = c[10] + 1;
    cols[2] = c[5] + 1;
}

/* Spectral error against time (in DGEMM units) per method, log-log, from
 * the copy of the study's CSV in the plots directory. */
static void msign_figure(report *rp, lm_buf *csv, const int cols[3])
{
    static const char *dat = "msign_accuracy.csv";
    lm_buf g = {0};
    lm_buf_printf(&g, "set terminal pngcairo noenhanced size 900,600\nset output 'msign_accuracy.png.tmp'\n"
                      "set datafile separator ','\nset logscale xy\nset grid\nset key top right\n"
                      "set title 'msign: error against the exact polar factor vs cost'\n"
                      "set xlabel 'time in units of one Gram-shaped DGEMM'\n"
                      "set ylabel '||X - UV^T||_2'\n");
    lm_buf_printf(&g, "plot for [m in 'ns5 cubic polar-express'] '%s' using (strcol(%d) eq m ? $%d : 1/0)"
                      ":(strcol(%d) eq m ? ($%d > 1e-16 ? $%d : 1e-16) : 1/0) with points pt 7 title m\n",
                  dat, cols[0], cols[1], cols[0], cols[2], cols[2]);
    if (plot_file(rp, dat, csv) == 0)
        plot_run(rp, "msign_accuracy.gp", "msign_accuracy.png", &g);
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
    int cols[3];
    lm_buf_printf(&csv, "%s", hdr);
    msign_table(rp, fp, hdr, &csv, cols);
    fclose(fp);
    free(hdr);
    msign_figure(rp, &csv, cols);
}

/* ---- the claims ---- */

/* LionMuon P = 2 against each rival at the rival's FLOPs and wall time, and
 * SignMuon against Muon. */
static void claims(report *rp)
{
    lm_buf *md = rp->md;
    int p2 = pp_find_config("lionmuon-p2");
    static const char *rivals[] = {"muon", "lion", "signum", "adamw"};
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        lm_buf_printf(md, "\n#### %s: LionMuon P = 2 against each rival, at the rival's compute\n\n"
                    "Difference = (P = 2's best validation loss among its evaluations within the "
                    "rival's total FLOPs) - (the rival's best validation loss), paired by seed. "
                    "Negative favours P = 2.\n\n"
                    "| model | a | b | mean difference | 95%% CI | seeds | P = 2 better at b's budget? |\n"
                    "|---|---|---|---|---|---|---|\n", PP_MODELS[mi]);
        for (int r = 0; r < 4; r++)
            paired_row(rp, mi, p2, pp_find_config(rivals[r]), 0, "at b's FLOPs");
        /* Pareto dominance needs the compute side too: FLOPs are fixed by
         * the config (the same in every seed) */
        double fr = rp->R[mi][p2][0].flops / rp->R[mi][pp_find_config("muon")][0].flops;
        lm_buf_printf(rp->sum, "| %s | lionmuon-p2 total FLOPs / muon's | %.3f | %s |\n",
                      PP_MODELS[mi], fr, fr < 1 ? "fewer FLOPs" : "more FLOPs");
        lm_buf_printf(md, "\nThe same at the rival's wall time (one thread per run):\n\n"
                    "| model | a | b | mean difference | 95%% CI | seeds | P = 2 better at b's time? |\n"
                    "|---|---|---|---|---|---|---|\n");
        for (int r = 0; r < 4; r++)
            paired_row(rp, mi, p2, pp_find_config(rivals[r]), 1, "at b's wall time");
    }
    lm_buf_printf(md, "\n### Claim: SignMuon beats Muon\n\nDifference = SignMuon (P = 2) best validation "
                "loss - Muon's, paired by seed (SignMuon uses fewer FLOPs, so this is at its own "
                "budget).\n\n| model | a | b | mean difference | 95%% CI | seeds | SignMuon better? |\n"
                "|---|---|---|---|---|---|---|\n");
    /* best_within at the rival's own total is SignMuon's final best, since
     * Muon needs more compute */
    for (int mi = 0; mi < PP_NMODEL; mi++)
        paired_row(rp, mi, pp_find_config("signmuon-p2"), pp_find_config("muon"), 0, "(best loss)");
}

/* ---- the sections of the report ---- */

/* Title and protocol. */
static void report_head(const report *rp, lm_buf *md, int have)
{
    int quick = rp->quick;
    double bayes = rp->R[0][0][0].bayes;
    lm_buf_printf(md, "# The paper's claims at CPU scale%s\n\n"
                "Generated by `lionmuon paper report` from %d finished runs under `%s`; every "
                "number below is measured, none is copied except the paper's own figures quoted "
                "for comparison.\n\n", quick ? " (QUICK variant: tiny models, 2 seeds; not evidence)" : "",
            have, rp->dir);
    lm_buf_printf(md, "## Protocol\n\n"
                "- Models: GPT-2 and LLaMA (theory/models.md) with %d layers, %d heads, width %d, "
                "sequence %d, batch %d, %d iterations (warm-up 3000/64000 of them, cosine to 0, "
                "clipping 0.5, weight decay 0.1), double precision.\n"
                "- Data: the built-in Zipf-Markov corpus (vocabulary 256, Zipf exponent 1.1); its "
                "entropy rate %.4f nats is the Bayes-optimal loss, so losses are also given as "
                "excess over it.\n"
                "- Configs: AdamW, Lion, Signum, Muon, SignMuon P = 2, LionMuon P = 1, 2, 5, 20, "
                "100, starting from the paper's tuned 124M learning rates (theory/algorithms.md §5).\n"
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
            quick ? 40 : 400, bayes, PP_TUNE_SEED, quick ? "{4, 16}" : "{1, 4, 16, 64}", rp->ns,
            quick ? 10 : 25, quick ? 2 : 8);
}

/* Section 1: the main tables, the Pareto figures and the claims. */
static void section_compute(report *rp)
{
    lm_buf *md = rp->md;
    lm_buf_printf(md, "\n## 1. Best validation loss against compute\n");
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        const char *m = PP_MODELS[mi];
        table_main(rp, mi);
        figure_pareto(rp, mi, 0);
        figure_pareto(rp, mi, 1);
        lm_buf_printf(md, "\n![pareto %s](%s/pareto_flops_%s.png)\n![pareto wall %s](%s/pareto_wall_%s.png)\n",
                      m, rp->link, m, m, rp->link, m);
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
                 const char *plots_link, const char *msign_csv, lm_error *e)
{
    report *rp = lm_calloc(1, sizeof *rp);
    rp->dir = dir;
    rp->plots = plots_dir;
    rp->link = plots_link ? plots_link : plots_dir;
    rp->quick = quick;
    rp->ns = pp_nseeds(quick);
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
    /* head (title, protocol) + summary + body */
    report_head(rp, &all, have);
    lm_buf_printf(&all, "\n## Summary of verdicts\n\nDifferences in best validation loss (nats), "
                 "mean over seeds with the 95%% t interval of the paired differences; "
                 "negative favours the first optimizer. \"holds\" means the whole interval "
                 "is below 0.\n\n| model | comparison | difference [95%% CI] | verdict |\n"
                 "|---|---|---|---|\n");
    lm_buf_printf(&all, "%s%s", sum.s ? sum.s : "", body.s ? body.s : "");
    int rc = lm_write_atomic(report_path, all.s, all.len, e);
    lm_buf_free(&all);
    lm_buf_free(&body);
    lm_buf_free(&sum);
    free(rp);
    return rc;
}
