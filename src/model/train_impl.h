/* train_impl.h - what the files of training share (private to src/model):
 * the run, the progress a checkpoint stores, and the functions each file
 * offers the others.
 *   train.c       the public entry points and the training loop
 *   dp.c          data parallelism over MPI ranks (every #ifdef LM_MPI)
 *   checkpoint.c  checkpoint.safetensors, --resume
 *   diag.c        the norm-ratio diagnostics
 *   runlog.c      metrics.csv, diagnostics.csv, summary.json, the loss plot,
 *                 the progress line
 */
#ifndef LM_MODEL_TRAIN_IMPL_H
#define LM_MODEL_TRAIN_IMPL_H

#include <jansson.h>
#include <stdint.h>

#include "lionmuon/safetensors.h"
#include "lionmuon/train.h"

/* The run: data, model, optimizer, and what the accounting needs. */
typedef struct {
    const train_config *c;
    data_source *d;
    model *m;
    int nt;
    opt_tensor *ot;
    opt_state *os;
    int *inp, *tgt;              /* one global batch, B x T */
    double flops_model;          /* per step */
    double flops_ns, flops_sign; /* all matrix-rule tensors, per Muon / sign step */
    int n_matrix;
    int *owner;                  /* data parallelism: the rank that steps tensor i */
} run;

#define NDIAG 7 /* the norm ratios of the diagnostics (diag.c) */

/* Where the run stands: what a checkpoint stores besides the tensors (and
 * the two CSV logs, which travel beside it). */
typedef struct {
    long step;
    double tokens, flops, wall_s, best_val;
    long best_val_step;
    double train_loss, last_val;  /* the latest training and validation losses */
    double diag_last[NDIAG];      /* the latest diagnostics, for summary.json */
    long diag_step;               /* their step; -1: none yet */
    char run_id[33];              /* ckpt_run_id */
} progress_state;

/* ---- train.c ---- */

/* The configuration as a JSON object (summary.json, the checkpoint). */
json_t *train_config_object(const train_config *c);

/* forward + backward on training batch t; the loss must be finite */
int train_grad(run *r, long t, double *loss, lm_error *e);

/* ---- dp.c ---- */

int dp_size(const train_config *c);  /* ranks, 1 without data parallelism */
int dp_root(const train_config *c);  /* 1 on the rank that writes the files */
void dp_assign(run *r);              /* r->owner */
int dp_forward(run *r, int grads, double *loss, lm_error *e);
int dp_opt_step(run *r, long t, double scale, opt_step_info *info, lm_error *e);

/* ---- checkpoint.c ---- */

/* Safetensors helpers the checkpoint and the golden file share. */
void ckpt_meta_double(st_file *f, const char *k, double v);
void ckpt_meta_long(st_file *f, const char *k, long v);
int ckpt_add_param(st_file *f, const char *key, const model_param *p, const double *data,
                   lm_error *e);

/* The checkpoint carries the run's identity -- its configuration, a
 * fingerprint of its data, the tool's version and a run id -- its progress
 * and the two CSV logs (metrics, diagnostics) up to its step.  ckpt_read
 * checks every piece against this run and the directory (the run id of an
 * existing summary.json) and every metadata value (finite, in range,
 * consistent), restores the logs from the checkpoint, and refuses a
 * checkpoint of an older format (no identity, no logs). */
int ckpt_write(const run *r, const progress_state *ps, const lm_buf *metrics,
               const lm_buf *diags, lm_error *e);
int ckpt_read(run *r, progress_state *ps, lm_buf *metrics, lm_buf *diags, lm_error *e);

/* The run id: 32 hex digits hashed from the configuration, the data
 * fingerprint and the version (a run is a pure function of them, so two
 * runs with one id are the same run, bit for bit). */
void ckpt_run_id(const run *r, char id[33]);

/* What a run expects of its checkpoint's __metadata__ (ckptmeta.c). */
#define CKPT_FORMAT "lionmuon-checkpoint-2"
typedef struct {
    const char *config_json;      /* train_config_json of this run */
    const char *run_id;           /* ckpt_run_id */
    const char *data_fingerprint; /* data_fingerprint, 16 hex digits */
    const char *data_what;        /* the data's flags, for the message */
    long iterations, seed, diag_every;
    double tokens_per_step;       /* B T */
    const char *metrics_header, *diag_header;
} ckpt_expect;

/* Check f's __metadata__ against x (path names the file in messages): the
 * identity, then every progress value into ps (with ps->run_id), then the
 * logs, appended to metrics and diags only when all is well. */
int ckpt_check_meta(const st_file *f, const char *path, const ckpt_expect *x,
                    progress_state *ps, lm_buf *metrics, lm_buf *diags, lm_error *e);

/* On --resume: no leftover temporary files. */
void ckpt_remove_stale_temporaries(const char *dir);

/* ---- budget.c ---- */

/* Refuse, naming the size flags and the estimate, a run (B_local rows per
 * process) or a golden file of K steps that cannot fit in memory. */
int budget_check_run(const train_config *c, int B_local, lm_error *e);
int budget_check_golden(const train_config *c, long K, lm_error *e);

/* ---- diag.c ---- */

extern const char *const diag_names[NDIAG];

typedef struct {
    double *W0, *G0, *M0; /* copies, whole parameter-buffer sized */
    double *D, *vals;     /* scratch: one matrix; NDIAG x n matrices */
    int *idx;             /* the diagnosed tensors */
    int n;
} diag_ws;

void diag_alloc(diag_ws *w, const run *r);
void diag_free(diag_ws *w);
void diag_before(diag_ws *w, run *r);
int diag_after(diag_ws *w, run *r, long t, double out[NDIAG], lm_error *e);

/* ---- runlog.c ---- */

extern const char runlog_metrics_header[];
void runlog_diag_header(lm_buf *b);
void runlog_init_row(lm_buf *metrics, double val, double wall_s);
void runlog_metrics_row(lm_buf *metrics, const train_config *c, long step, double train_loss,
                        int has_val, double val, double scale, const progress_state *ps);
void runlog_diag_row(lm_buf *diags, long step, const double v[NDIAG]);
void runlog_progress(const train_config *c, long t, long start, double tstart,
                     double train_loss, double last_val);
int runlog_write_csvs(const char *dir, const lm_buf *metrics, const lm_buf *diags,
                      lm_error *e);
int runlog_write_summary(const run *r, const progress_state *ps, const train_result *res,
                         const double *diag_last, long diag_step, lm_error *e);
int runlog_write_plot(const train_config *c, double H, lm_error *e);

#endif
