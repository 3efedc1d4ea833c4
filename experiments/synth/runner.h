/* runner.h - private to experiments/synth: the shared runner of the theory
 * checks V1-V6 (prefix vr_): one optimizer run per job, run over (job, seed)
 * pairs in parallel, the grids shared by several checks, the per-seed
 * statistics, the hitting-time bookkeeping of V4 and V5, and the writer of
 * the four output files vK.csv, vK.md, vK.dat and vK.json.  The public entry
 * points stay in checks.h.
 *
 * Every job owns its objective, noise stream and workspace, so runs are
 * independent and deterministic: the objective instance has seed OBJ_SEED
 * (or the job's obj_seed), the noise stream of evaluation seed s has seed
 * 1000 + s and that of tuning seed s 5000 + s, for every configuration
 * (common random numbers across configurations; the two sets never meet). */
#ifndef LM_SYNTH_RUNNER_H
#define LM_SYNTH_RUNNER_H

#include <stddef.h>

#include "checks.h"

#define VR_OBJ_SEED 1UL
#define VR_EVAL_BASE 1000UL
#define VR_TUNE_BASE 5000UL
#define VR_NOISE_SEED(s) (VR_EVAL_BASE + (unsigned long)(s))

#define VR_MAX_EPS 8
#define VR_MAX_CRIT 3

/* What a light run is after: targets eps[c][k] for each criterion crit[c]
 * ('t' the theorem's left side, 'N', '1' running eta-weighted averages of
 * that norm of grad f, 'f' the gap f - inf f at the iterate).  A run with
 * targets stops once every target is reached and it has done min_T steps. */
typedef struct {
    int ncrit, neps;
    char crit[VR_MAX_CRIT];
    double eps[VR_MAX_CRIT][VR_MAX_EPS];
    long min_T;
} vr_targets;

/* ---- one job: one optimizer run on one synthetic objective ---- */
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
    int sgd;                    /* momentum SGD instead of the family (V5's control) */
    unsigned long obj_seed;     /* 0: VR_OBJ_SEED */
    const vr_targets *targets;  /* light runs: stop early once all are reached */
} vr_job;

/* The common setting: mix weight 0.5, t(1.5) noise of scale 0.5, P = 2,
 * lr_muon 0.05, lr_sign 0.01, betas 0.9/0.99, 1000 extra noise draws. */
vr_job vr_job_base(obj_kind kind, int m, int n, long T);

/* The objective instance of job j (seed VR_OBJ_SEED). */
obj *vr_job_obj(const vr_job *j, lm_error *e);

/* The small grid of V1-V3: m x n and T (quick: 12 x 16, T = 150; else
 * 16 x 24, T = 400). */
void vr_small_grid(int quick, int *m, int *n, long *T);

/* ---- progress: one plain line on stderr per finished configuration ----
 *   V4: config 3/24 done in 1.2 s (mix(0.5), t(1.5), P=5, lr_muon=0.05, lr_sign=0.01); 4.0 s elapsed
 * (a configuration is done when all its seeds are; "done in" runs from its
 * first seed's start).  One counter spans every vr_run_all of a check. */
typedef struct {
    const char *check; /* "V1" .. "V6" */
    const char *note;  /* before the label, e.g. "reference run: "; NULL: none */
    int done, total;   /* configurations finished, and in the whole check */
    double t0;         /* when the check started (la_seconds) */
} vr_progress;

void vr_progress_init(vr_progress *p, const char *check, int total);

/* ---- the runner ---- */

/* fn(i, s, trace, summary, ctx) extracts what a check needs from the run of
 * job i with noise seed s (summary NULL for light jobs).  It is called from
 * several threads at once, each (i, s) exactly once. */
typedef void (*vr_job_fn)(int i, int s, const meas_trace *t, const meas_summary *sm, void *ctx);

/* Run every (job, seed) pair in parallel over OpenMP threads, noise seed
 * VR_NOISE_SEED(s); returns the first error.  pg (NULL: silent) gets a line
 * per finished job. */
int vr_run_all(const vr_job *jobs, int njobs, int seeds, vr_job_fn fn, void *ctx,
               vr_progress *pg, lm_error *e);
/* The same with noise seed base + s. */
int vr_run_seeds(const vr_job *jobs, int njobs, int seeds, unsigned long base, vr_job_fn fn,
                 void *ctx, vr_progress *pg, lm_error *e);

/* Per target (c, k), c-major: the first T at which it is reached, or, when
 * the run ends first, the censored value T_run max(1, final / eps) (> T_run:
 * it orders the misses by how close they came); INFINITY for a diverged run.
 * out holds ncrit * neps values. */
void vr_target_scores(const vr_targets *tg, const meas_trace *t, double *out);

/* The success criterion of a check, stated before it runs: md NULL prints
 * it to stdout (call it first), else it becomes the first section of the
 * check's Markdown. */
void vr_criterion(lm_buf *md, const char *check, const char *text);

/* ---- statistics over seeds ---- */

/* Mean and 95% t half-width of x[0], x[stride], ..., x[(n-1) stride]
 * (stats_mean_ci); n <= 64. */
void vr_ci_strided(int n, const double *x, size_t stride, double *mean, double *half);

/* ---- hitting times ---- */
typedef struct {
    double *hit; /* [(job * seeds + s) * neps + k]: first T with running average <= eps, or INF */
    int seeds, neps;
    double eps[VR_MAX_EPS];
    char norm;
} vr_hit_ctx;

/* vr_job_fn: the hitting time of every eps of the context. */
void vr_hit_fn(int i, int s, const meas_trace *t, const meas_summary *sm, void *vc);

/* The configuration with the smallest mean hitting time over seeds among
 * those every seed completes (cfg[0..ncfg-1] are job indices, k the eps);
 * -1 if none. */
int vr_best_config(const vr_hit_ctx *c, const int *cfg, int ncfg, int k, double *mean);

/* ---- labels (newly allocated strings: free them) ---- */
char *vr_noise_label(const noise_params *np);
char *vr_obj_label(const vr_job *j);
/* What a progress line says of a job: objective, noise, P, the step sizes
 * it uses, the betas when not 0.9/0.99. */
char *vr_job_label(const vr_job *j);

/* P as text: "inf" for 0, else the number (buf: at least 24 bytes). */
const char *vr_pname(long P, char *buf);

/* ---- output: the four files of a check ---- */
typedef struct {
    lm_buf csv, md, dat;
} vr_out;

/* Write the check's files under dir, stem "vK": vK.csv, vK.md and vK.dat
 * (atomically) and vK.json (val_write_json); frees the buffers and js
 * whatever the outcome. */
int vr_write(vr_out *o, json_t *js, const char *dir, const char *stem, lm_error *e);

#endif
