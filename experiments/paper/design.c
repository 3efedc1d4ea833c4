/* design.c - what the paper experiment runs (paper.h, paper_private.h): the
 * configs and models, the tuning grid and seeds, each run's command line
 * and output directory, reading a run's summary back, and the manifests of
 * the tuning and main stages (paper_manifest). */
#include "paper_private.h"

#include <errno.h>
#include <sys/resource.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"
#include "tools/sweep.h"

/* ---- the design ---- */

/* Colours: the ten of Tableau 10 (matplotlib's tab10), one per config, the
 * paper's headline LionMuon P = 2 in red and Muon, its main rival, in blue;
 * point types: open for the baselines, filled for the LionMuon family. */
const pp_config PP_CONFIGS[PP_NCONF] = {
    {"adamw", "adamw", -1, 0, 0, 5e-4, "#7f7f7f", 2, 4},
    {"lion", "lion", -1, 0, 5e-5, 1e-3, "#ff7f0e", 2, 6},
    {"signum", "signum", -1, 0, 5e-5, 1e-3, "#bcbd22", 2, 8},
    {"muon", "muon", -1, 1e-3, 0, 1e-3, "#1f77b4", 2, 12},
    {"signmuon-p2", "signmuon", 2, 2e-3, 5e-5, 1e-3, "#9467bd", 4, 15},
    {"lionmuon-p1", "lionmuon", 1, 7e-4, 5e-5, 1e-3, "#17becf", 1, 7},
    {"lionmuon-p2", "lionmuon", 2, 1e-3, 5e-5, 1e-3, "#d62728", 1, 5},
    {"lionmuon-p5", "lionmuon", 5, 2e-3, 5e-5, 1e-3, "#2ca02c", 1, 9},
    {"lionmuon-p20", "lionmuon", 20, 5e-3, 5e-5, 1e-3, "#8c564b", 1, 11},
    {"lionmuon-p100", "lionmuon", 100, 7e-3, 5e-5, 1e-3, "#e377c2", 1, 13},
};
const char *const PP_MODELS[PP_NMODEL] = {"gpt2", "llama"};

static const double GRID_FULL[] = {8, 16, 32};
static const double GRID_QUICK[] = {8, 16};

int pp_nseeds(int quick) { return quick ? 2 : 8; }
int pp_ntune(void) { return 2; }

void pp_grid(int quick, const double **g, int *n)
{
    *g = quick ? GRID_QUICK : GRID_FULL;
    *n = quick ? 2 : 3;
}

json_t *pp_load_grid(const char *dir)
{
    /* absent (or unreadable) means the default grid; read bounded */
    char *path = lm_path_join(dir, "grid.json");
    lm_error ignored;
    json_t *j = pp_load_json(path, &ignored);
    free(path);
    return j;
}

int pp_grid_of(json_t *grid, int quick, int model, int config, double *f)
{
    json_t *a = json_object_get(json_object_get(grid, PP_MODELS[model]), PP_CONFIGS[config].name);
    if (json_is_array(a) && json_array_size(a) > 0 && json_array_size(a) <= PP_MAXFACTOR) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
            f[i] = json_number_value(v);
        return (int)json_array_size(a);
    }
    const double *g;
    int n;
    pp_grid(quick, &g, &n);
    memcpy(f, g, (size_t)n * sizeof *f);
    return n;
}

int pp_find_config(const char *name)
{
    for (int i = 0; i < PP_NCONF; i++)
        if (!strcmp(PP_CONFIGS[i].name, name))
            return i;
    return -1;
}

/* ---- strings and paths ---- */

static char *vstrf(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    size_t len = (size_t)(n > 0 ? n : 0) + 1;
    char *s = lm_malloc(len);
    vsnprintf(s, len, fmt, ap);
    return s;
}

char *pp_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vstrf(fmt, ap);
    va_end(ap);
    return s;
}

char *pp_tune_dir(const char *dir, int model, int config, double factor, int tseed)
{
    if (tseed == 0) /* the first tuning seed keeps the old layout */
        return pp_strf("%s/tune/%s/%s/s%g", dir, PP_MODELS[model], PP_CONFIGS[config].name,
                       factor);
    return pp_strf("%s/tune/%s/%s/s%g-t%d", dir, PP_MODELS[model], PP_CONFIGS[config].name,
                   factor, tseed);
}

char *pp_main_dir(const char *dir, int model, int config, int seed)
{
    return pp_strf("%s/main/%s/%s/seed%d", dir, PP_MODELS[model], PP_CONFIGS[config].name, seed);
}

char *pp_tuned_path(const char *dir)
{
    return lm_path_join(dir, "tuned.json");
}

/* ---- reading results ---- */

/* A JSON file, read as a regular file of at most 64 MiB (lm_read_file). */
static json_t *load_json(const char *path, lm_error *e)
{
    unsigned char *buf;
    size_t len;
    if (lm_read_file(path, (size_t)64 << 20, &buf, &len, e))
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)buf, len, 0, &je);
    free(buf);
    if (!j)
        lm_fail(e, "%s: %s", path, je.text);
    return j;
}

json_t *pp_load_json(const char *path, lm_error *e)
{
    return load_json(path, e);
}

double pp_summary_value(const char *run_dir, const char *key)
{
    char *path = lm_path_join(run_dir, "summary.json");
    lm_error ignored;
    json_t *j = load_json(path, &ignored);
    free(path);
    json_t *v = j ? json_object_get(j, key) : NULL;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return x;
}

double pp_cpu_seconds(const char *run_dir)
{
    char *path = lm_path_join(run_dir, "cpu.json");
    lm_error ignored;
    json_t *j = load_json(path, &ignored);
    free(path);
    json_t *v = j ? json_object_get(j, "cpu_s") : NULL;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return x;
}

double pp_tuned_scale(json_t *tuned, const char *model, const char *cfg)
{
    json_t *s = json_object_get(json_object_get(json_object_get(tuned, model), cfg), "scale");
    return json_is_number(s) ? json_number_value(s) : NAN;
}

/* ---- one run's command line ---- */

typedef struct {
    int n;
    char *v[64];
} run_args;

static void arg(run_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(run_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    a->v[a->n++] = vstrf(fmt, ap);
    va_end(ap);
}

static void args_free(run_args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* The flags of one run: model sizes, optimizer, scaled rates, seed, out;
 * run through `paper timed OUT/cpu.json` for its CPU time. */
static void run_argv(const char *model, const pp_config *c, double scale, long seed, int quick,
                     const char *out, run_args *a)
{
    a->n = 0;
    arg(a, "paper");
    arg(a, "timed");
    arg(a, "%s/cpu.json", out);
    arg(a, "train");
    arg(a, "--model"); arg(a, "%s", model);
    arg(a, "--n-layer"); arg(a, "%d", quick ? 1 : 2);
    arg(a, "--n-head"); arg(a, "%d", quick ? 2 : 4);
    arg(a, "--n-embd"); arg(a, "%d", quick ? 32 : 64);
    arg(a, "--seq-len"); arg(a, "%d", quick ? 16 : 64);
    arg(a, "--batch-size"); arg(a, "%d", quick ? 4 : 24);
    arg(a, "--iterations"); arg(a, "%d", quick ? 40 : 650);
    arg(a, "--eval-every"); arg(a, "%d", quick ? 10 : 50);
    arg(a, "--eval-batches"); arg(a, "%d", quick ? 2 : 8);
    arg(a, "--diag-every"); arg(a, "%d", quick ? 10 : 50);
    arg(a, "--ckpt-every"); arg(a, "0");
    if (!strcmp(model, "llama")) {
        arg(a, "--multiple-of"); arg(a, "32");
    }
    arg(a, "--optimizer"); arg(a, "%s", c->optimizer);
    if (c->period >= 0) {
        arg(a, "--period"); arg(a, "%ld", c->period);
    }
    if (c->lr_muon > 0) {
        arg(a, "--lr-muon"); arg(a, "%.6g", c->lr_muon * scale);
    }
    if (c->lr_sign > 0) {
        arg(a, "--lr-sign"); arg(a, "%.6g", c->lr_sign * scale);
    }
    arg(a, "--lr-adamw"); arg(a, "%.6g", c->lr_adamw * scale);
    arg(a, "--seed"); arg(a, "%ld", seed);
    arg(a, "--quiet");
    arg(a, "--no-plot");
    arg(a, "--out"); arg(a, "%s", out);
}

/* Append the run (model mi, config ci, factor scale, seed) to the manifest. */
static int append_run(lm_buf *manifest, int mi, int ci, double scale, long seed, int quick,
                      char *out, lm_error *e)
{
    run_args a;
    run_argv(PP_MODELS[mi], &PP_CONFIGS[ci], scale, seed, quick, out, &a);
    int rc = sweep_format_line(manifest, out, a.n, (const char *const *)a.v, e);
    args_free(&a);
    free(out);
    return rc;
}

/* ---- the manifests ---- */

/* The runs of one (model, config): every factor of its current grid at
 * every tuning seed, or every main seed at the tuned factor; *nrun counts
 * them. */
static int append_config(const char *dir, paper_stage stage, int quick, lm_buf *manifest,
                         json_t *tuned, json_t *grid, int mi, int ci, int *nrun, lm_error *e)
{
    int rc = 0;
    if (stage == PAPER_TUNE) {
        double g[PP_MAXFACTOR];
        int ng = pp_grid_of(grid, quick, mi, ci, g);
        for (int k = 0; k < ng && rc == 0; k++)
            for (int t = 0; t < pp_ntune() && rc == 0; t++)
                if ((rc = append_run(manifest, mi, ci, g[k], PP_TUNE_SEED + t, quick,
                                     pp_tune_dir(dir, mi, ci, g[k], t), e)) == 0)
                    ++*nrun;
        return rc;
    }
    double s = pp_tuned_scale(tuned, PP_MODELS[mi], PP_CONFIGS[ci].name);
    if (!isfinite(s))
        return lm_fail(e, "%s/tuned.json: no factor for %s %s", dir, PP_MODELS[mi],
                       PP_CONFIGS[ci].name);
    for (int seed = 1; seed <= pp_nseeds(quick) && rc == 0; seed++)
        if ((rc = append_run(manifest, mi, ci, s, seed, quick, pp_main_dir(dir, mi, ci, seed),
                             e)) == 0)
            ++*nrun;
    return rc;
}

int paper_manifest(const char *dir, paper_stage stage, int quick, const char *manifest,
                   lm_error *e)
{
    json_t *tuned = NULL;
    if (stage == PAPER_MAIN) {
        char *path = pp_tuned_path(dir);
        tuned = load_json(path, e);
        free(path);
        if (!tuned)
            return -1;
    }
    /* the whole manifest in memory, then written atomically (afresh: the
     * sweep skips finished runs); a link named like it is replaced, never
     * written through */
    lm_buf m = {0};
    lm_buf_printf(&m, "%s", "");
    int rc = 0, nrun = 0;
    json_t *grid = pp_load_grid(dir);
    for (int mi = 0; mi < PP_NMODEL && rc == 0; mi++)
        for (int ci = 0; ci < PP_NCONF && rc == 0; ci++)
            rc = append_config(dir, stage, quick, &m, tuned, grid, mi, ci, &nrun, e);
    json_decref(grid);
    json_decref(tuned);
    if (rc == 0)
        rc = lm_write_atomic(manifest, m.s, m.len, e);
    lm_buf_free(&m);
    if (rc == 0) {
        char *mp = lm_printable(manifest);
        if (stage == PAPER_TUNE)
            fprintf(stderr,
                    "paper manifest: %d tuning runs (%d models x %d configs, each config's "
                    "current grid x %d tuning seeds) in %s\n",
                    nrun, PP_NMODEL, PP_NCONF, pp_ntune(), mp);
        else
            fprintf(stderr, "paper manifest: %d main runs (%d models x %d configs x %d seeds) in %s\n",
                    nrun, PP_NMODEL, PP_NCONF, pp_nseeds(quick), mp);
        free(mp);
    }
    return rc;
}

/* ---- the CPU time of a run ---- */

int paper_timed(const char *path, int argc, char **argv, int (*train)(int, char **))
{
    double t0 = la_seconds();
    int rc = train(argc, argv), train_rc = rc;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double u = ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec;
    double sy = ru.ru_stime.tv_sec + 1e-6 * ru.ru_stime.tv_usec;
    json_t *j = json_pack("{s:f,s:f,s:f,s:i,s:s}", "cpu_s", u + sy, "user_s", u, "sys_s", sy,
                          "exit", rc, "how", "getrusage(RUSAGE_SELF) after the run, in its process");
    char *txt = json_dumps(j, JSON_INDENT(1));
    lm_error e = {{0}};
    char *pp = lm_printable(path);
    if (lm_write_atomic(path, txt, strlen(txt), &e) != 0) {
        fprintf(stderr, "lionmuon paper timed: %s\n", e.msg);
        if (rc == 0) /* the run is done but its CPU time is lost: the work failed */
            rc = 1;
    } else {
        fprintf(stderr, "paper timed: %.1f s CPU (user %.1f, system %.1f) in %.1f s wall, "
                        "train exit %d; wrote %s\n", u + sy, u, sy, la_seconds() - t0,
                train_rc, pp);
    }
    fflush(stderr);
    free(pp);
    free(txt);
    json_decref(j);
    return rc;
}
