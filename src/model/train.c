/* train.c - training (train.h): the public entry points, the run's set-up,
 * the training loop, evaluation, and the golden file.  The loop's helpers
 * live beside it: dp.c (data parallelism), checkpoint.c, diag.c (norm-ratio
 * diagnostics), runlog.c (metrics, summary, plot, progress). */
#include "train_impl.h"

#include <cblas.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"
#include "lionmuon/msign.h"
#include "lionmuon/optstate.h"

/* ------------------------------------------------------------------------ */
/* Names, defaults, the config as JSON. */

static const char *const ROUTING_NAMES[] = {"paper", "dim", "name"};
static const char *const SCHEDULE_NAMES[] = {"cos", "wsd", "constant"};

const char *train_routing_name(train_routing r)
{
    return (unsigned)r < 3u ? ROUTING_NAMES[r] : "?";
}

int train_routing_parse(const char *name, train_routing *out)
{
    int i = lm_name_lookup(ROUTING_NAMES, 3, name);
    if (i < 0 && name && !strcmp(name, "hidden"))
        i = TRAIN_ROUTE_PAPER;
    if (i < 0)
        return -1;
    *out = (train_routing)i;
    return 0;
}

const char *train_schedule_name(train_schedule s)
{
    return (unsigned)s < 3u ? SCHEDULE_NAMES[s] : "?";
}

int train_schedule_parse(const char *name, train_schedule *out)
{
    int i = lm_name_lookup(SCHEDULE_NAMES, 3, name);
    if (i < 0)
        return -1;
    *out = (train_schedule)i;
    return 0;
}

/* Routing (train.h, theory/algorithms.md §6), by name and shape alone, so
 * that `lionmuon step --routing` applies the same rule to tensors of a file. */
int train_routing_matrix(train_routing r, const char *name, int ndim, long dim0)
{
    if (ndim != 2)
        return 0;
    switch (r) {
    case TRAIN_ROUTE_DIM: return dim0 < 10000;
    case TRAIN_ROUTE_NAME: return strcmp(name, "transformer.wte.weight") != 0;
    case TRAIN_ROUTE_PAPER: break;
    }
    return strncmp(name, "transformer.h.", 14) == 0;
}

int train_route_matrix(train_routing r, const model_param *p)
{
    return train_routing_matrix(r, p->name, p->ndim, p->shape[0]);
}

double train_lr_scale(const train_config *c, long k)
{
    switch (c->schedule) {
    case TRAIN_SCHED_WSD:
        return opt_lr_schedule_wsd(k, c->warmup, c->iterations, c->wsd_fract_decay,
                                   c->wsd_final_lr);
    case TRAIN_SCHED_CONSTANT: return 1.0;
    case TRAIN_SCHED_COS: break;
    }
    return opt_lr_schedule(k, c->warmup, c->iterations);
}

long train_default_warmup(long iterations)
{
    long w = (long)floor(iterations * 3000.0 / 64000.0 + 0.5);
    return iterations > 1 && w < 1 ? 1 : w;
}

/* The settings beyond the first version's keys: the second class, the
 * update rounding, the decay groups, the trigger, the schedule, the preset.
 * summary.json's config and the golden file's metadata (train_golden_meta_optim)
 * carry the same names. */
static void optim_config_keys(json_t *o, const train_config *c)
{
    const opt_config *p = &c->opt;
    for (int k = 0; k < OPT_CH_COUNT; k++) /* adamw_eps_mode is written with the rates */
        if (k != OPT_CH_EPS)
            json_object_set_new(o, opt_choice_key((opt_choice)k),
                                json_string(opt_choice_name((opt_choice)k,
                                                            opt_choice_get(p, (opt_choice)k))));
    json_object_set_new(o, "cheap_ns_steps", json_integer(p->cheap_ns_steps));
    json_object_set_new(o, "srank_exact", json_boolean(p->srank_exact));
    json_object_set_new(o, "schedule", json_string(train_schedule_name(c->schedule)));
    json_object_set_new(o, "wsd_fract_decay", json_real(c->wsd_fract_decay));
    json_object_set_new(o, "wsd_final_lr", json_real(c->wsd_final_lr));
    json_object_set_new(o, "preset", c->preset ? json_string(c->preset) : json_null());
}

static void train_golden_meta_optim(st_file *f, const train_config *c)
{
    json_t *o = json_object();
    optim_config_keys(o, c);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (json_is_string(v))
            st_set_meta(f, k, json_string_value(v));
        else if (json_is_integer(v))
            ckpt_meta_long(f, k, (long)json_integer_value(v));
        else if (json_is_real(v))
            ckpt_meta_double(f, k, json_real_value(v));
        else if (json_is_boolean(v))
            st_set_meta(f, k, json_is_true(v) ? "true" : "false");
    }
    json_decref(o);
}

json_t *train_config_object(const train_config *c)
{
    long P;
    double b1, b2;
    opt_effective(&c->opt, &P, &b1, &b2);
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(model_kind_name(c->model.kind)));
    json_object_set_new(o, "n_layer", json_integer(c->model.n_layer));
    json_object_set_new(o, "n_head", json_integer(c->model.n_head));
    json_object_set_new(o, "n_embd", json_integer(c->model.n_embd));
    json_object_set_new(o, "vocab_size", json_integer(c->model.vocab_size));
    json_object_set_new(o, "sequence_length", json_integer(c->model.block_size));
    json_object_set_new(o, "bias", json_boolean(c->model.bias));
    json_object_set_new(o, "multiple_of", json_integer(c->model.multiple_of));
    json_object_set_new(o, "batch_size", json_integer(c->batch_size));
    json_object_set_new(o, "iterations", json_integer(c->iterations));
    json_object_set_new(o, "warmup", json_integer(c->warmup));
    json_object_set_new(o, "optimizer", json_string(opt_kind_name(c->opt.kind)));
    json_object_set_new(o, "period", json_integer(P));
    json_object_set_new(o, "beta1", json_real(b1));
    json_object_set_new(o, "beta2", json_real(b2));
    json_object_set_new(o, "lr_muon", json_real(c->opt.lr_muon));
    json_object_set_new(o, "lr_sign", json_real(c->opt.lr_sign));
    json_object_set_new(o, "lr_adamw", json_real(c->opt.lr_adamw));
    json_object_set_new(o, "adamw_beta1", json_real(c->opt.adamw_beta1));
    json_object_set_new(o, "adamw_beta2", json_real(c->opt.adamw_beta2));
    json_object_set_new(o, "adamw_eps", json_real(c->opt.adamw_eps));
    json_object_set_new(o, "adamw_eps_mode", json_string(opt_eps_mode_name(c->opt.adamw_eps_mode)));
    json_object_set_new(o, "msign", json_string(msign_method_name(c->opt.msign.method)));
    json_object_set_new(o, "ns_steps", json_integer(c->opt.msign.steps));
    json_object_set_new(o, "srank_alpha", json_real(c->opt.srank_alpha));
    json_object_set_new(o, "weight_decay", json_real(c->opt.weight_decay));
    json_object_set_new(o, "grad_clip", json_real(c->grad_clip));
    json_object_set_new(o, "routing", json_string(train_routing_name(c->routing)));
    optim_config_keys(o, c);
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(o, "data", json_string(data_kind_name(c->data.kind)));
    if (c->data.kind == DATA_SYNTHETIC)
        json_object_set_new(o, "zipf_s", json_real(c->data.zipf_s));
    else {
        json_object_set_new(o, "train_data", json_string(c->data.train_path));
        json_object_set_new(o, "val_data", c->data.val_path ? json_string(c->data.val_path)
                                                             : json_null());
    }
    json_object_set_new(o, "eval_every", json_integer(c->eval_every));
    json_object_set_new(o, "eval_batches", json_integer(c->eval_batches));
    json_object_set_new(o, "diag_every", json_integer(c->diag_every));
    json_object_set_new(o, "ckpt_every", json_integer(c->ckpt_every));
    return o;
}

char *train_config_json(const train_config *c)
{
    json_t *o = train_config_object(c);
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

/* ------------------------------------------------------------------------ */
/* The run: data, model, optimizer, and the step. */

static void run_free(run *r)
{
    free(r->owner);
    data_free(r->d);
    model_free(r->m);
    free(r->ot);
    opt_free(r->os);
    free(r->inp);
    free(r->tgt);
}

/* The paper's 6 N B T: 2 N FLOPs forward and 4 N backward per token, N as
 * model_flops_params counts it, over the B T tokens of a batch. */
double train_model_flops(const model *m)
{
    return 6.0 * model_flops_params(m) * model_batch(m) * model_seq_len(m);
}

/* The flags that must hold before anything is allocated. */
static int check_config(const train_config *c, lm_error *e)
{
    if (c->batch_size < 1)
        return lm_fail(e, "--batch-size must be >= 1 (got %d)", c->batch_size);
    if (c->iterations < 1)
        return lm_fail(e, "--iterations must be >= 1 (got %ld)", c->iterations);
    if (c->warmup < 0 || c->warmup > c->iterations)
        return lm_fail(e, "--warmup must be in [0, --iterations] (got %ld)", c->warmup);
    if (c->eval_batches < 1)
        return lm_fail(e, "--eval-batches must be >= 1 (got %d)", c->eval_batches);
    if (c->eval_every < 0 || c->diag_every < 0 || c->ckpt_every < 0 || c->stop_after < 0)
        return lm_fail(e, "--eval-every, --diag-every, --ckpt-every and --stop-after "
                          "must be >= 0");
    if (!(c->wsd_fract_decay >= 0 && c->wsd_fract_decay <= 1))
        return lm_fail(e, "--wsd-fract-decay must be in [0, 1] (got %g)", c->wsd_fract_decay);
    if (!(c->wsd_final_lr >= 0) || !isfinite(c->wsd_final_lr))
        return lm_fail(e, "--wsd-final-lr must be finite and >= 0 (got %g)", c->wsd_final_lr);
    if (!(c->grad_clip >= 0) || !isfinite(c->grad_clip))
        return lm_fail(e, "--grad-clip must be finite and >= 0 (got %g)", c->grad_clip);
    if (model_config_check(&c->model, e) || opt_config_check(&c->opt, e))
        return -1;
    return 0;
}

/* The data source, which must fit the vocabulary and the sequence length. */
static int open_data(run *r, lm_error *e)
{
    const train_config *c = r->c;
    data_config dc = c->data;
    dc.seed = c->seed;
    if (dc.kind == DATA_SYNTHETIC)
        dc.vocab_size = c->model.vocab_size;
    r->d = data_open(&dc, e);
    if (!r->d)
        return -1;
    if (data_max_token(r->d) >= c->model.vocab_size)
        return lm_fail(e, "%s: token id %d does not fit --vocab-size %d",
                       data_max_token_source(r->d), data_max_token(r->d),
                       c->model.vocab_size);
    return data_check_seq_len(r->d, c->model.block_size, e);
}

/* Routing (train.h): which tensors follow the matrix rule, and the msign
 * and sign FLOPs of one step over them. */
static void route(run *r)
{
    const train_config *c = r->c;
    r->nt = model_nparams(r->m);
    r->ot = lm_calloc(r->nt, sizeof *r->ot);
    for (int i = 0; i < r->nt; i++) {
        const model_param *p = model_param_at(r->m, i);
        int matrix = train_route_matrix(c->routing, p);
        if (c->opt.kind == OPT_ADAMW)
            matrix = 0;
        opt_tensor *t = &r->ot[i];
        t->name = p->name;
        t->rows = matrix ? p->shape[0] : 1;
        t->cols = matrix ? p->shape[1] : (int)p->numel;
        t->w = p->w;
        t->g = p->g;
        t->rule = matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW;
        t->linear = p->hidden; /* the Linear layers' weights (decay groups) */
        if (matrix) {
            r->n_matrix++;
            r->flops_ns += msign_flops(&c->opt.msign, t->rows, t->cols);
            r->flops_sign += (double)t->rows * t->cols;
        }
    }
}

static int run_setup(run *r, const train_config *c, lm_error *e)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    if (check_config(c, e) || budget_check_run(c, c->batch_size / dp_size(c), e))
        return -1;
    if (open_data(r, e))
        goto fail;
    if (c->batch_size % dp_size(c)) {
        lm_fail(e, "--batch-size %d must be a multiple of the %d MPI ranks", c->batch_size,
                dp_size(c));
        goto fail;
    }
    int T = c->model.block_size;
    r->m = model_alloc(&c->model, c->batch_size / dp_size(c), T, e);
    if (!r->m)
        goto fail;
    model_init(r->m, c->seed);
    route(r);
    opt_config oc = c->opt;
    oc.seed = c->seed; /* the stable-rank trigger's start vectors */
    r->os = opt_alloc(&oc, r->nt, r->ot);
    dp_assign(r);
    size_t BT = (size_t)c->batch_size * T; /* the global batch; each rank uses its rows */
    r->inp = lm_malloc(sizeof(int) * BT);
    r->tgt = lm_malloc(sizeof(int) * BT);
    r->flops_model = train_model_flops(r->m) * dp_size(c); /* the global batch */
    return 0;
fail:
    run_free(r);
    memset(r, 0, sizeof *r);
    return -1;
}

/* FLOPs of the optimizer at step t (paper's accounting: NS FLOPs on a Muon
 * step, m n on a sign step, nothing for AdamW). */
static double opt_flops(const run *r, long t, const opt_step_info *info)
{
    const opt_config *c = &r->c->opt;
    if (c->kind == OPT_ADAMW || r->n_matrix == 0)
        return 0;
    if (c->kind == OPT_MUON_NESTEROV)
        return r->flops_ns;
    if (c->srank_alpha > 0)
        return (info->n_muon * r->flops_ns + info->n_lion * r->flops_sign) / r->n_matrix;
    long P;
    double b1, b2;
    opt_effective(c, &P, &b1, &b2);
    return opt_is_muon_step(P, t) ? r->flops_ns : r->flops_sign;
}

/* forward + backward on training batch t; the loss must be finite */
int train_grad(run *r, long t, double *loss, lm_error *e)
{
    int B = r->c->batch_size, T = r->c->model.block_size;
    data_batch(r->d, DATA_TRAIN, t, B, T, r->inp, r->tgt);
    if (dp_forward(r, 1, loss, e))
        return lm_wrap(e, "training batch %ld", t);
    if (!isfinite(*loss))
        return lm_fail(e, "non-finite training loss (%g) at step %ld", *loss, t);
    return 0;
}

/* mean loss over the first eval_batches batches of the validation split */
static int evaluate(run *r, double *val, lm_error *e)
{
    int B = r->c->batch_size, T = r->c->model.block_size;
    double s = 0;
    for (int k = 0; k < r->c->eval_batches; k++) {
        double L;
        data_batch(r->d, DATA_VAL, k, B, T, r->inp, r->tgt);
        if (dp_forward(r, 0, &L, e))
            return lm_wrap(e, "validation batch %d", k);
        s += L;
    }
    *val = s / r->c->eval_batches;
    if (!isfinite(*val))
        return lm_fail(e, "non-finite validation loss (%g)", *val);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The loop. */

/* Everything train_run carries from one step to the next. */
typedef struct {
    run r;
    progress_state ps;        /* what a checkpoint stores */
    diag_ws dw;
    lm_buf metrics, diags;    /* metrics.csv, diagnostics.csv: rewritten whole */
    char *created;            /* the directories a new run made (removed on failure) */
    long start, end;          /* this call runs steps [start, end) */
    double t0;                /* the run's clock origin (less the stored wall time) */
    double tstart;            /* this call's start, for the progress rate */
} session;

/* k is a multiple of every (every > 0; 0 means never) */
static int due(long every, long k)
{
    return every > 0 && k % every == 0;
}

/* A new run: the output directory and the CSV headers. */
static int start_fresh(session *s, const char *diag_header, lm_error *e)
{
    const train_config *c = s->r.c;
    if (dp_root(c) && lm_mkdir_new(c->out_dir, &s->created, e))
        return lm_wrap(e, "--out");
    ckpt_run_id(&s->r, s->ps.run_id);
    lm_buf_printf(&s->metrics, "%s", runlog_metrics_header);
    lm_buf_printf(&s->diags, "%s", diag_header);
    return 0;
}

/* --resume: the checkpoint, checked to be this run's, with the CSV logs up
 * to its step (train_impl.h). */
static int start_resumed(session *s, lm_error *e)
{
    const train_config *c = s->r.c;
    if (dp_root(c))
        ckpt_remove_stale_temporaries(c->out_dir);
    return ckpt_read(&s->r, &s->ps, &s->metrics, &s->diags, e);
}

static void session_close(session *s, int rc)
{
    if (s->r.c->progress && rc)
        fprintf(stderr, "\n");
    lm_buf_free(&s->metrics);
    lm_buf_free(&s->diags);
    diag_free(&s->dw);
    /* a new run that failed takes back the directories it made, if empty */
    if (rc)
        lm_rmdir_created(s->r.c->out_dir, s->created);
    else
        free(s->created);
    s->created = NULL;
    run_free(&s->r);
}

/* Set-up, the start (new or resumed) and, for a new run, the loss at init
 * (metrics.csv's step 0).  On failure everything is released. */
static int session_open(session *s, const train_config *c, int resume, train_result *res,
                        lm_error *e)
{
    memset(s, 0, sizeof *s);
    if (run_setup(&s->r, c, e))
        return -1;
    memset(res, 0, sizeof *res);
    res->final_val_loss = res->final_train_loss = NAN;
    res->entropy_rate = data_entropy_rate(s->r.d);
    s->ps.best_val = s->ps.train_loss = s->ps.last_val = NAN;
    s->ps.best_val_step = s->ps.diag_step = -1;
    for (int j = 0; j < NDIAG; j++)
        s->ps.diag_last[j] = NAN;
    lm_buf dh = {0};
    runlog_diag_header(&dh);
    int rc = resume ? start_resumed(s, e) : start_fresh(s, dh.s, e);
    lm_buf_free(&dh);
    if (rc == 0 && c->diag_every > 0)
        diag_alloc(&s->dw, &s->r);
    s->t0 = la_seconds() - s->ps.wall_s;
    if (rc == 0 && !resume && (rc = evaluate(&s->r, &s->ps.last_val, e)) == 0) {
        s->ps.best_val = s->ps.last_val;
        s->ps.best_val_step = 0;
        runlog_init_row(&s->metrics, s->ps.last_val, la_seconds() - s->t0);
    }
    if (rc) {
        session_close(s, rc);
        return -1;
    }
    s->end = c->stop_after > 0 && c->stop_after < c->iterations ? c->stop_after : c->iterations;
    s->start = s->ps.step;
    s->tstart = la_seconds();
    return 0;
}

/* The bookkeeping of a finished step t. */
static void count_step(session *s, long t, const opt_step_info *info)
{
    const train_config *c = s->r.c;
    s->ps.step = t + 1;
    s->ps.tokens += (double)c->batch_size * c->model.block_size;
    s->ps.flops += s->r.flops_model + opt_flops(&s->r, t, info);
}

static int record_diagnostics(session *s, long t, lm_error *e)
{
    if (diag_after(&s->dw, &s->r, t, s->ps.diag_last, e))
        return -1;
    s->ps.diag_step = t + 1;
    runlog_diag_row(&s->diags, t + 1, s->ps.diag_last);
    return 0;
}

/* Validation at its cadence, then step t's metrics row and progress line.
 * Evaluations happen at the same steps whether or not the run is
 * interrupted by --stop-after, so a resumed run's files match. */
static int validate_and_log(session *s, long t, double scale, lm_error *e)
{
    const train_config *c = s->r.c;
    int eval_now = t + 1 == c->iterations || due(c->eval_every, t + 1);
    double val = NAN;
    if (eval_now) {
        if (evaluate(&s->r, &val, e))
            return -1;
        s->ps.last_val = val;
        if (!(s->ps.best_val <= val)) {
            s->ps.best_val = val;
            s->ps.best_val_step = t + 1;
        }
    }
    s->ps.wall_s = la_seconds() - s->t0;
    runlog_metrics_row(&s->metrics, c, t + 1, s->ps.train_loss, eval_now, val, scale, &s->ps);
    if (c->progress == 1 || (c->progress == 2 && eval_now))
        runlog_progress(c, t, s->start, s->tstart, s->ps.train_loss, s->ps.last_val);
    /* the logs as they grow, at every evaluation (a checkpoint writes them
     * too): a long run's metrics.csv can be watched */
    if (eval_now && dp_root(c))
        return runlog_write_csvs(c->out_dir, &s->metrics, &s->diags, e);
    return 0;
}

/* A checkpoint at its cadence and after the last step of this call.  The
 * checkpoint carries the CSV logs up to its step, and --resume restores
 * them from it (the files on disk may be ahead of it, deleted or garbled);
 * the rows beyond its step are recomputed bitwise. */
static int maybe_checkpoint(session *s, long t, lm_error *e)
{
    const train_config *c = s->r.c;
    if (!(t + 1 == s->end || due(c->ckpt_every, t + 1)) || !dp_root(c))
        return 0;
    if (runlog_write_csvs(c->out_dir, &s->metrics, &s->diags, e) ||
        ckpt_write(&s->r, &s->ps, &s->metrics, &s->diags, e))
        return -1;
    return 0;
}

/* After the loop: the result, summary.json and the loss plot. */
static int session_finish(session *s, train_result *res, lm_error *e)
{
    const train_config *c = s->r.c;
    if (c->progress == 1)
        fprintf(stderr, "\n");
    if (s->ps.step == s->start && dp_root(c)) {
        /* nothing to do (resumed at the end): rewrite the files as they are */
        if (ckpt_write(&s->r, &s->ps, &s->metrics, &s->diags, e) ||
            runlog_write_csvs(c->out_dir, &s->metrics, &s->diags, e))
            return -1;
    }
    res->steps_done = s->ps.step;
    res->stopped_early = s->ps.step < c->iterations;
    res->final_train_loss = s->ps.train_loss;
    res->final_val_loss = s->ps.last_val;
    res->best_val_loss = s->ps.best_val;
    res->best_val_step = s->ps.best_val_step;
    res->flops = s->ps.flops;
    res->wall_s = s->ps.wall_s;
    res->tokens = s->ps.tokens;
    res->opt_state_bytes = opt_state_bytes(s->r.os);
    if (!dp_root(c))
        return 0;
    if (runlog_write_summary(&s->r, &s->ps, res, s->ps.diag_last, s->ps.diag_step, e))
        return -1;
    return c->plot && runlog_write_plot(c, res->entropy_rate, e) < 0 ? -1 : 0;
}

int train_run(const train_config *c, int resume, train_result *res, lm_error *e)
{
    session s;
    if (session_open(&s, c, resume, res, e))
        return -1;
    int rc = -1;
    for (long t = s.start; t < s.end; t++) {
        /* loss and gradients on training batch t; the diagnostics keep
         * W_t, G_t and M_t before anything changes them */
        if (train_grad(&s.r, t, &s.ps.train_loss, e))
            goto done;
        int diag_now = due(c->diag_every, t + 1);
        if (diag_now)
            diag_before(&s.dw, &s.r);
        /* clip, then the optimizer step at the schedule's multiplier */
        opt_clip_grad_norm(s.r.nt, s.r.ot, c->grad_clip);
        double scale = train_lr_scale(c, t);
        opt_step_info info;
        if (dp_opt_step(&s.r, t, scale, &info, e)) {
            lm_wrap(e, "step %ld", t);
            goto done;
        }
        count_step(&s, t, &info);
        /* diagnostics, validation and the metrics row, a checkpoint: each
         * at its cadence */
        if ((diag_now && record_diagnostics(&s, t, e)) || validate_and_log(&s, t, scale, e) ||
            maybe_checkpoint(&s, t, e))
            goto done;
    }
    rc = session_finish(&s, res, e);
done:
    session_close(&s, rc);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Golden files: the run of K steps, every tensor a GPU replay needs
 * (theory/models.md §5). */

typedef struct {
    run *r;
    st_file *f;
    regex_t keep;       /* the parameters whose tensors are kept */
    int has_keep;
    int64_t *in64, *tg64;
} golden;

static int kept(const golden *g, const char *name)
{
    return !g->has_keep || regexec(&g->keep, name, 0, NULL, 0) == 0;
}

/* PREFIX.NAME for every kept parameter: its values (grads = 0) or gradient. */
static int add_all_params(const golden *g, const char *prefix, int grads, lm_error *e)
{
    int rc = 0;
    for (int i = 0; i < g->r->nt && !rc; i++) {
        const model_param *p = model_param_at(g->r->m, i);
        if (!kept(g, p->name))
            continue;
        lm_buf key = {0};
        lm_buf_printf(&key, "%s%s", prefix, p->name);
        rc = ckpt_add_param(g->f, key.s, p, grads ? p->g : p->w, e);
        lm_buf_free(&key);
    }
    return rc;
}

/* step.k.state.NAME.* for every kept parameter: the state before step k. */
static int add_state(const golden *g, long k, lm_error *e)
{
    lm_buf prefix = {0};
    lm_buf_printf(&prefix, "step.%ld.", k);
    int rc = 0;
    for (int i = 0; i < g->r->nt && !rc; i++) {
        const model_param *p = model_param_at(g->r->m, i);
        if (!kept(g, p->name))
            continue;
        int64_t shape[2] = {p->shape[0], p->shape[1]};
        optstate_param sp = {p->name, p->name, p->ndim, shape};
        rc = optstate_add_prefixed(g->f, prefix.s, &sp, g->r->os, i, e);
    }
    lm_buf_free(&prefix);
    return rc;
}

/* A scalar F64 tensor step.k.WHAT. */
static int add_scalar(const golden *g, long k, const char *what, double v, lm_error *e)
{
    lm_buf key = {0};
    lm_buf_printf(&key, "step.%ld.%s", k, what);
    int rc = st_add_f64(g->f, key.s, 0, NULL, &v, e);
    lm_buf_free(&key);
    return rc;
}

/* The optimizer's step k, tensor by tensor with single-threaded BLAS (the
 * arithmetic of opt_step's parallel path), recording step.k.muon.NAME (1 a
 * Muon step, 0 a sign step) for every kept matrix. */
static int golden_opt_step(const golden *g, long k, double scale, lm_error *e)
{
    run *r = g->r;
    if (opt_check_grads(r->os, e))
        return -1;
    int blas = openblas_get_num_threads(), rc = 0;
    openblas_set_num_threads(1);
    for (int i = 0; i < r->nt && !rc; i++) {
        const model_param *p = model_param_at(r->m, i);
        int muon;
        rc = opt_step_one(r->os, i, k, scale, &muon, e);
        if (rc || muon < 0 || !kept(g, p->name))
            continue;
        lm_buf key = {0};
        int64_t v = muon;
        lm_buf_printf(&key, "step.%ld.muon.%s", k, p->name);
        rc = st_add_i64(g->f, key.s, 0, NULL, &v, e);
        lm_buf_free(&key);
    }
    openblas_set_num_threads(blas);
    return rc;
}

/* Step k: step.k.params and step.k.state before it, its batch (into in64,
 * tg64 at row k), step.k.loss, step.k.grads before clipping, the clipping
 * coefficient and the schedule's lr_scale, then the step itself. */
static int golden_step(const golden *g, long k, lm_error *e)
{
    run *r = g->r;
    const train_config *c = r->c;
    size_t BT = (size_t)c->batch_size * c->model.block_size;
    lm_buf key = {0};
    double loss;
    lm_buf_printf(&key, "step.%ld.params.", k);
    int rc = add_all_params(g, key.s, 0, e) || add_state(g, k, e) || train_grad(r, k, &loss, e)
                 ? -1 : 0;
    for (size_t i = 0; i < BT && !rc; i++) {
        g->in64[k * BT + i] = r->inp[i];
        g->tg64[k * BT + i] = r->tgt[i];
    }
    key.len = 0;
    lm_buf_printf(&key, "step.%ld.grads.", k);
    rc = rc || add_scalar(g, k, "loss", loss, e) || add_all_params(g, key.s, 1, e) ? -1 : 0;
    lm_buf_free(&key);
    if (rc)
        return -1;
    double total = opt_clip_grad_norm(r->nt, r->ot, c->grad_clip);
    double coef = c->grad_clip > 0 ? c->grad_clip / (total + 1e-6) : 1.0;
    double scale = train_lr_scale(c, k);
    if (add_scalar(g, k, "clip_coef", coef < 1 ? coef : 1.0, e) ||
        add_scalar(g, k, "lr_scale", scale, e))
        return -1;
    if (golden_opt_step(g, k, scale, e))
        return lm_wrap(e, "step %ld", k);
    return 0;
}

/* The golden file's __metadata__: everything a replay needs to rebuild the
 * model, the optimizer and the schedule. */
static void golden_meta(st_file *f, const train_config *c, long K, const train_golden_opts *go)
{
    long P;
    double b1, b2;
    opt_effective(&c->opt, &P, &b1, &b2);
    const opt_config *o = &c->opt;
    st_set_meta(f, "format", "lionmuon-golden-1");
    st_set_meta(f, "model", model_kind_name(c->model.kind));
    ckpt_meta_long(f, "n_layer", c->model.n_layer);
    ckpt_meta_long(f, "n_head", c->model.n_head);
    ckpt_meta_long(f, "n_embd", c->model.n_embd);
    ckpt_meta_long(f, "vocab_size", c->model.vocab_size);
    ckpt_meta_long(f, "sequence_length", c->model.block_size);
    ckpt_meta_long(f, "batch_size", c->batch_size);
    ckpt_meta_long(f, "steps", K);
    st_set_meta(f, "bias", c->model.bias ? "true" : "false");
    ckpt_meta_long(f, "multiple_of", c->model.multiple_of);
    ckpt_meta_double(f, "norm_eps", MODEL_NORM_EPS);
    ckpt_meta_double(f, "rope_theta", MODEL_ROPE_THETA);
    st_set_meta(f, "rope_pairing", MODEL_ROPE_PAIRING);
    ckpt_meta_double(f, "init_std", MODEL_INIT_STD);
    st_set_meta(f, "optimizer", opt_kind_name(o->kind));
    ckpt_meta_long(f, "period", P);
    ckpt_meta_double(f, "lr_muon", o->lr_muon);
    ckpt_meta_double(f, "lr_sign", o->lr_sign);
    ckpt_meta_double(f, "lr_adamw", o->lr_adamw);
    ckpt_meta_double(f, "beta1", b1);
    ckpt_meta_double(f, "beta2", b2);
    ckpt_meta_double(f, "adamw_beta1", o->adamw_beta1);
    ckpt_meta_double(f, "adamw_beta2", o->adamw_beta2);
    ckpt_meta_double(f, "adamw_eps", o->adamw_eps);
    st_set_meta(f, "adamw_eps_mode", opt_eps_mode_name(o->adamw_eps_mode));
    ckpt_meta_long(f, "ns_steps", o->msign.steps);
    st_set_meta(f, "msign", msign_method_name(o->msign.method));
    ckpt_meta_double(f, "srank_alpha", o->srank_alpha);
    ckpt_meta_double(f, "weight_decay", o->weight_decay);
    ckpt_meta_double(f, "grad_clip", c->grad_clip);
    ckpt_meta_long(f, "warmup", c->warmup);
    ckpt_meta_long(f, "iterations", c->iterations);
    ckpt_meta_long(f, "seed", (long)c->seed);
    st_set_meta(f, "routing", train_routing_name(c->routing));
    st_set_meta(f, "data", data_kind_name(c->data.kind));
    train_golden_meta_optim(f, c);
    st_set_meta(f, "dtype", go->f32 ? "f32" : "f64");
    st_set_meta(f, "keep", go->keep ? go->keep : "all");
    st_set_meta(f, "layout", "nn.Linear [out, in], y = x W^T; tied head stored once "
                "as transformer.wte.weight; step.k.params and step.k.state before step k, "
                "step.k.grads before clipping, step.k.clip_coef the clipping factor applied; "
                "step k uses lr_scale = schedule(k, warmup, iterations) = step.k.lr_scale; "
                "step.k.muon.NAME 1 for a Muon step, 0 for a sign step; with keep, only "
                "the parameters whose name matches it have per-parameter tensors");
}

int train_golden_ex(const train_config *c, long K, const train_golden_opts *go,
                    const char *out_path, lm_error *e)
{
    if (dp_size(c) > 1)
        return lm_fail(e, "--mpi: golden files are written by a single process");
    if (K < 1)
        return lm_fail(e, "--steps must be >= 1 (got %ld)", K);
    if (K > c->iterations)
        return lm_fail(e, "--steps %ld exceeds --iterations %ld (the schedule's length)", K,
                       c->iterations);
    golden g = {0};
    if (go->keep) {
        int rr = regcomp(&g.keep, go->keep, REG_EXTENDED | REG_NOSUB);
        if (rr != 0) {
            char msg[256];
            regerror(rr, &g.keep, msg, sizeof msg);
            return lm_fail(e, "--keep: '%s' is not a regular expression (%s)", go->keep, msg);
        }
        g.has_keep = 1;
    }
    run r;
    if (budget_check_golden(c, K, e) || run_setup(&r, c, e)) {
        if (g.has_keep)
            regfree(&g.keep);
        return -1;
    }
    size_t BT = (size_t)c->batch_size * c->model.block_size;
    g.r = &r;
    g.f = st_new();
    g.in64 = lm_malloc(sizeof(int64_t) * BT * K);
    g.tg64 = lm_malloc(sizeof(int64_t) * BT * K);
    int rc = 0;
    for (long k = 0; k < K && !rc; k++)
        rc = golden_step(&g, k, e);
    if (!rc)
        rc = add_all_params(&g, "final.params.", 0, e);
    if (!rc) {
        int64_t shape[3] = {K, c->batch_size, c->model.block_size};
        rc = st_add_i64(g.f, "inputs", 3, shape, g.in64, e) ||
             st_add_i64(g.f, "targets", 3, shape, g.tg64, e) ? -1 : 0;
    }
    if (!rc) {
        golden_meta(g.f, c, K, go);
        rc = go->f32 ? st_write_f32(g.f, out_path, e) : st_write(g.f, out_path, e);
    }
    free(g.in64);
    free(g.tg64);
    st_free(g.f);
    if (g.has_keep)
        regfree(&g.keep);
    run_free(&r);
    return rc;
}

int train_golden(const train_config *c, long K, const char *out_path, lm_error *e)
{
    train_golden_opts go = {0, NULL};
    return train_golden_ex(c, K, &go, out_path, e);
}
