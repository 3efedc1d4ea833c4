/* paper_private.h - private to experiments/paper (prefix pp_): the design
 * shared by design.c (the runs and their manifests), select.c (learning-rate
 * selection) and report.c (tables, figures, the Markdown report): the
 * configs and models, the tuning grid and seeds, where each run writes, and
 * how its outputs are read back.  The public entry points are in paper.h. */
#ifndef LM_PAPER_PRIVATE_H
#define LM_PAPER_PRIVATE_H

#include <jansson.h>

#include "paper.h"

typedef struct {
    const char *name;      /* directory name and label */
    const char *optimizer;
    long period;           /* -1: the optimizer's own */
    double lr_muon, lr_sign, lr_adamw; /* the paper's 124M rates (theory/algorithms.md §5) */
    const char *colour;    /* its colour in every figure (ten distinct, no repeats) */
    int dash;              /* gnuplot dash type, a secondary cue: 1 LionMuon, 2 the
                            * single-rule baselines, 4 SignMuon */
    int point;             /* gnuplot point type (distinct; baselines open) */
} pp_config;

#define PP_NCONF 10
#define PP_NMODEL 2
#define PP_TUNE_SEED 100   /* tuning seeds PP_TUNE_SEED .. + pp_ntune() - 1 */
#define PP_MAXFACTOR 16    /* factors a grid may hold */

extern const pp_config PP_CONFIGS[PP_NCONF];
extern const char *const PP_MODELS[PP_NMODEL];

/* Seeds of the main stage: 1..pp_nseeds(quick); tuning seeds: pp_ntune(). */
int pp_nseeds(int quick);
int pp_ntune(void);

/* The starting tuning grid of learning-rate factors, and its caps. */
void pp_grid(int quick, const double **g, int *n);
#define PP_FACTOR_MIN (1.0 / 16)
#define PP_FACTOR_MAX 1024.0

/* The current grid of (model, config): dir/grid.json if it has one, else
 * the starting grid; ascending, at most PP_MAXFACTOR. */
int pp_grid_of(json_t *grid, int quick, int model, int config, double *f);
/* dir/grid.json (NULL when absent; the caller owns it). */
json_t *pp_load_grid(const char *dir);

/* Index of the config called name, or -1. */
int pp_find_config(const char *name);

/* printf into a newly allocated string (free it). */
char *pp_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The output directory of a run (newly allocated): DIR/tune/MODEL/CONFIG/sF
 * for factor F at the first tuning seed (sF-tK for the K-th further one),
 * and DIR/main/MODEL/CONFIG/seedS. */
char *pp_tune_dir(const char *dir, int model, int config, double factor, int tseed);
char *pp_main_dir(const char *dir, int model, int config, int seed);

/* A run's summary.json number, NAN when the run or the key is missing. */
double pp_summary_value(const char *run_dir, const char *key);
/* A run's CPU seconds (cpu.json of `paper timed`), NAN when missing. */
double pp_cpu_seconds(const char *run_dir);
/* A JSON file read as a regular file of at most 64 MiB; NULL with e. */
json_t *pp_load_json(const char *path, lm_error *e);

/* tuned.json (written by paper_select): {"gpt2": {"adamw": {"scale": s,
 * "edge": bool, "grid": [...], "losses": [mean over the tuning seeds per
 * factor], "seed_losses": [[...], ...]}, ...}, ...}.  pp_tuned_path: DIR/tuned.json
 * (newly allocated); pp_tuned_scale: a config's factor, NAN if absent. */
char *pp_tuned_path(const char *dir);
double pp_tuned_scale(json_t *tuned, const char *model, const char *cfg);

#endif
