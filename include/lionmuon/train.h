/* train.h - training the transformer with the optimizer family, checkpoints
 * and golden files (prefix train_).
 *
 * One step t = 0, 1, ... of training:
 *   (inputs, targets) = batch t of the training split       (data.h)
 *   loss = model_forward; grads = model_backward            (model.h)
 *   grads <- clip(grads, grad_clip)    torch's clip_grad_norm_ semantics
 *   opt_step(t, lr_scale = opt_lr_schedule(t, warmup, iterations))
 *   (lr_scale = train_lr_scale: the "cos", "wsd" or "constant" schedule)
 * Routing (theory/algorithms.md §6), which tensors follow the matrix rule:
 *   "name" (the default): every 2-D tensor except the token embedding wte
 *          (and so the tied head): the hidden matrices and GPT-2's wpe, which
 *          is what the released 124M runs did, at any vocabulary;
 *   "dim":   the paper code's literal test, 2-D with first dimension < 10000
 *          (the released routing at V >= 10000; a small vocabulary's wte too);
 *   "paper": the hidden matrices of the blocks only (this project's earlier
 *          default, under its old name; "hidden" is accepted for it).
 * Every other tensor follows AdamW; with --optimizer adamw every tensor does.
 *
 * Files in the output directory (each written atomically):
 *   metrics.csv      step,train_loss,val_loss,lr_muon,lr_sign,lr_adamw,tokens,flops,wall_s
 *   diagnostics.csv  step and the seven norm-ratio medians of theory/algorithms.md §10
 *   summary.json     the config, best/final validation loss, the entropy rate
 *                    and excess loss, FLOPs, wall time, optimizer-state bytes
 *   checkpoint.safetensors  parameters (theory/models.md names), optimizer state
 *                    state.NAME.momentum | state.NAME.exp_avg, exp_avg_sq,
 *                    and in __metadata__ the step, the seed and the data
 *                    position, from which a resumed run continues bitwise,
 *                    the run's identity (configuration, data fingerprint,
 *                    version, run id: a resume that does not match is
 *                    refused) and the CSV logs up to the step.
 *   loss.gp, loss.png  a gnuplot script and its plot (when gnuplot exists)
 */
#ifndef LM_TRAIN_H
#define LM_TRAIN_H

#include "common.h"
#include "data.h"
#include "model.h"
#include "optim.h"

typedef enum { TRAIN_ROUTE_PAPER = 0, TRAIN_ROUTE_DIM, TRAIN_ROUTE_NAME } train_routing;
typedef enum { TRAIN_SCHED_COS = 0, TRAIN_SCHED_WSD, TRAIN_SCHED_CONSTANT } train_schedule;

typedef struct {
    model_config model;   /* block_size = the sequence length */
    int batch_size;       /* B */
    long iterations;      /* length of the schedule */
    long warmup;          /* warm-up steps of the schedule */
    train_schedule schedule; /* cos (the runs'), wsd, constant */
    double wsd_fract_decay, wsd_final_lr; /* wsd: decay fraction and final factor */
    opt_config opt;
    train_routing routing;
    const char *preset;   /* the --preset run (or --preset-from file) the
                             settings came from; NULL: none.  Recorded only */
    double grad_clip;     /* <= 0: off */
    unsigned long seed;   /* init, synthetic corpus, batches */
    data_config data;
    long eval_every;      /* validation every k steps (0: only at the end) */
    int eval_batches;     /* validation batches per evaluation */
    long diag_every;      /* norm-ratio diagnostics every k steps (0: off) */
    long ckpt_every;      /* checkpoint every k steps (0: only at the end) */
    long stop_after;      /* stop (with a checkpoint) after this many steps; 0: run to the end */
    int progress;         /* on stderr: 0 nothing; 1 one line rewritten in place
                             after every step (a terminal); 2 a plain line at
                             every evaluation (a log file, nohup, Slurm) */
    int plot;             /* write loss.gp and run gnuplot for loss.png */
    const char *out_dir;
    const char *argv_json;/* the flags that define the run, as a JSON array of
                             strings (stored in checkpoints for --resume) */
    int dp_rank, dp_size; /* data parallelism over MPI ranks (a build with
                             LM_MPI, `lionmuon train --mpi` under mpirun):
                             rank r of K holds rows [r B/K, (r+1) B/K) of
                             every batch; gradients and losses are summed
                             over ranks weighted by their counted positions;
                             each tensor's optimizer step (the msign work)
                             runs on one rank and its parameters and state are
                             broadcast; rank 0 writes every file.  0 and 1
                             (the default) mean a single process. */
} train_config;

typedef struct {
    long steps_done;
    double final_train_loss, final_val_loss, best_val_loss;
    long best_val_step;
    double entropy_rate;  /* NAN for files */
    double flops, wall_s, tokens;
    size_t opt_state_bytes;
    int stopped_early;
} train_result;

const char *train_routing_name(train_routing r);
/* "paper", "dim", "name" (and "hidden" for "paper"). */
int train_routing_parse(const char *name, train_routing *out);
const char *train_schedule_name(train_schedule s);
int train_schedule_parse(const char *name, train_schedule *out);

/* 1 if parameter p follows the matrix rule under routing r (before the
 * adamw override). */
int train_route_matrix(train_routing r, const model_param *p);

/* The schedule multiplier of step k (opt_lr_schedule, opt_lr_schedule_wsd, 1). */
double train_lr_scale(const train_config *c, long k);
/* 1 if the tensor NAME (ndim dimensions, first dim0) follows the matrix rule
 * under routing r (before the --optimizer adamw override): paper, a 2-D
 * tensor under transformer.h.; dim, a 2-D tensor with dim0 < 10000.
 * `lionmuon step --routing` uses the same rule. */
int train_routing_matrix(train_routing r, const char *name, int ndim, long dim0);

/* The run's configuration as a JSON object text (malloc'd); the same keys
 * appear in summary.json and the checkpoint's __metadata__ "config". */
char *train_config_json(const train_config *c);

/* The warm-up the paper's runs use relative to their length: 3000 of 64000
 * iterations, rounded (at least 1 when iterations > 1). */
long train_default_warmup(long iterations);

/* FLOPs of one step by the paper's accounting: 6 N B T for the model plus,
 * per matrix-rule tensor, the msign's Newton-Schulz count on a Muon step or
 * m n on a sign step. */
double train_model_flops(const model *m);

/* Train from scratch, or (resume = 1) continue from out_dir's checkpoint. */
int train_run(const train_config *c, int resume, train_result *res, lm_error *e);

/* The golden file of K steps (see `lionmuon golden --help` and
 * theory/models.md §5), F64, every tensor. */
int train_golden(const train_config *c, long K, const char *out_path, lm_error *e);

/* The same with options: f32 stores the floating tensors as F32 (the values
 * computed in double, rounded once); keep (a POSIX extended regular
 * expression, NULL for all) keeps the per-parameter tensors (step.k.params,
 * grads, state, muon; final.params) of the parameters whose name matches. */
typedef struct {
    int f32;
    const char *keep;
} train_golden_opts;
int train_golden_ex(const train_config *c, long K, const train_golden_opts *go,
                    const char *out_path, lm_error *e);

/* The stored flags of a checkpoint (for --resume): the metadata "argv". */
int train_checkpoint_argv(const char *dir, char **argv_json, lm_error *e);

/* The memory a model of configuration mc with batches of B rows (of
 * mc->block_size tokens) and its optimizer will take, estimated before
 * anything is allocated: 0 when it fits under lm_mem_limit(), else -1 with
 * a message naming the size flags and the estimate (budget.c).  For callers
 * that build a model themselves, as `bench train` does. */
int train_budget_check(const model_config *mc, int B, lm_error *e);

#endif
