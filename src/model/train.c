/* train.c - the training loop, evaluation, the norm-ratio diagnostics,
 * checkpoints and --resume, the golden file (see train.h). */
#include "lionmuon/train.h"
#include "lionmuon/fs.h"
#include "lionmuon/stats.h"

#ifdef LM_MPI
#include <mpi.h>
#endif

#include <errno.h>
#include <jansson.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lionmuon/linalg.h"
#include "lionmuon/msign.h"
#include "lionmuon/safetensors.h"

/* ------------------------------------------------------------------------ */
static int write_text(const char *dir, const char *name, const char *s, size_t len,
                      lm_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lm_write_atomic(path, s, len, e);
}

/* ------------------------------------------------------------------------ */
/* Names, defaults, the config as JSON. */

static const char *const ROUTING_NAMES[] = {"paper", "dim"};

const char *train_routing_name(train_routing r)
{
    return (unsigned)r < 2u ? ROUTING_NAMES[r] : "?";
}

int train_routing_parse(const char *name, train_routing *out)
{
    int i = lm_name_lookup(ROUTING_NAMES, 2, name);
    if (i < 0)
        return -1;
    *out = (train_routing)i;
    return 0;
}

long train_default_warmup(long iterations)
{
    long w = (long)floor(iterations * 3000.0 / 64000.0 + 0.5);
    return iterations > 1 && w < 1 ? 1 : w;
}

static json_t *config_object(const train_config *c)
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
    json_t *o = config_object(c);
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

/* ------------------------------------------------------------------------ */
/* The run: data, model, optimizer, and the step. */

typedef struct {
    const train_config *c;
    data_source *d;
    model *m;
    int nt;
    opt_tensor *ot;
    opt_state *os;
    int *inp, *tgt;
    double flops_model;       /* per step */
    double flops_ns, flops_sign; /* all matrix-rule tensors, per Muon / sign step */
    int n_matrix;
    int *owner;               /* data parallelism: the rank that steps tensor i */
} run;

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

/* ---- data parallelism (see train_config.dp_size) ---- */

static int dp_size(const train_config *c)
{
    return c->dp_size > 1 ? c->dp_size : 1;
}

static int dp_root(const train_config *c)
{
    return c->dp_rank == 0;
}

/* x <- the sum of x over the ranks (in place) */
static void dp_sum(const train_config *c, double *x, size_t n)
{
#ifdef LM_MPI
    if (dp_size(c) > 1)
        MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)c, (void)x, (void)n;
#endif
}

static void dp_bcast(const train_config *c, double *x, size_t n, int root)
{
#ifdef LM_MPI
    if (dp_size(c) > 1)
        MPI_Bcast(x, (int)n, MPI_DOUBLE, root, MPI_COMM_WORLD);
#else
    (void)c, (void)x, (void)n, (void)root;
#endif
}

/* Every rank fails together: 1 if any rank's rc is non-zero. */
static int dp_any_failed(const train_config *c, int rc)
{
    double f = rc != 0;
    dp_sum(c, &f, 1);
    return f > 0;
}

/* Owners of the optimizer work: tensors in order of decreasing cost (the
 * msign FLOPs of a matrix, the size of anything else) each go to the rank
 * with the least work so far -- a deterministic greedy balance. */
static void dp_assign(run *r)
{
    int K = dp_size(r->c), n = r->nt;
    r->owner = lm_calloc((size_t)LM_MAX(n, 1), sizeof *r->owner);
    double *load = lm_calloc((size_t)K, sizeof *load), *cost = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *cost);
    int *done = lm_calloc((size_t)LM_MAX(n, 1), sizeof *done);
    for (int i = 0; i < n; i++)
        cost[i] = r->ot[i].rule == OPT_RULE_MATRIX
                      ? msign_flops(&r->c->opt.msign, r->ot[i].rows, r->ot[i].cols)
                      : (double)r->ot[i].rows * r->ot[i].cols;
    for (int k = 0; k < n; k++) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && (best < 0 || cost[i] > cost[best]))
                best = i;
        int to = 0;
        for (int q = 1; q < K; q++)
            if (load[q] < load[to])
                to = q;
        r->owner[best] = to;
        load[to] += cost[best];
        done[best] = 1;
    }
    free(load);
    free(cost);
    free(done);
}

/* The optimizer step, split over the ranks by tensor: each rank steps the
 * tensors it owns, then every tensor's parameters and state travel from
 * its owner to the others.  With one process it is opt_step. */
static int dp_opt_step(run *r, long t, double scale, opt_step_info *info, lm_error *e)
{
    const train_config *c = r->c;
    if (dp_size(c) == 1)
        return opt_step(r->os, t, scale, info, e);
    if (opt_check_grads(r->os, e)) /* the gradients are the same on every rank */
        return -1;
    double counts[2] = {0, 0};
    int rc = 0;
    for (int i = 0; i < r->nt && rc == 0; i++) {
        if (r->owner[i] != c->dp_rank)
            continue;
        int muon;
        rc = opt_step_one(r->os, i, t, scale, &muon, e);
        if (rc == 0 && muon >= 0)
            counts[muon ? 0 : 1] += 1;
    }
    if (dp_any_failed(c, rc))
        return rc ? -1 : lm_fail(e, "step %ld failed on another rank", t);
    for (int i = 0; i < r->nt; i++) {
        size_t numel = (size_t)r->ot[i].rows * r->ot[i].cols;
        dp_bcast(c, r->ot[i].w, numel, r->owner[i]);
        for (int which = 0; which < 2; which++) {
            double *b = opt_buffer(r->os, i, which);
            if (b)
                dp_bcast(c, b, numel, r->owner[i]);
        }
    }
    dp_sum(c, counts, 2);
    info->n_muon = (int)counts[0];
    info->n_lion = (int)counts[1];
    return 0;
}

/* This rank's rows of a global batch (B rows of T in inp, tgt), then the
 * loss and, with grads = 1, the gradients averaged over every rank's
 * counted positions: sum_r n_r (loss_r, grad_r) / sum_r n_r. */
static int dp_forward(run *r, int grads, double *loss, lm_error *e)
{
    const train_config *c = r->c;
    int K = dp_size(c), T = c->model.block_size;
    size_t off = (size_t)c->dp_rank * (c->batch_size / K) * T;
    if (model_forward(r->m, r->inp + off, r->tgt + off, loss, e))
        return -1;
    if (grads)
        model_backward(r->m);
    if (K == 1)
        return 0;
    double n = (double)model_loss_count(r->m), lc[2] = {*loss * n, n};
    dp_sum(c, lc, 2);
    *loss = lc[1] > 0 ? lc[0] / lc[1] : 0.0;
    if (grads) {
        size_t np = model_num_params(r->m);
        double *g = model_grads(r->m);
        for (size_t i = 0; i < np; i++)
            g[i] *= n;
        dp_sum(c, g, np);
        for (size_t i = 0; i < np; i++)
            g[i] = lc[1] > 0 ? g[i] / lc[1] : 0.0;
    }
    return 0;
}

double train_model_flops(const model *m)
{
    return 6.0 * model_flops_params(m) * model_batch(m) * model_seq_len(m);
}

static int run_setup(run *r, const train_config *c, lm_error *e)
{
    memset(r, 0, sizeof *r);
    r->c = c;
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
    if (!(c->grad_clip >= 0) || !isfinite(c->grad_clip))
        return lm_fail(e, "--grad-clip must be finite and >= 0 (got %g)", c->grad_clip);
    if (model_config_check(&c->model, e))
        return -1;
    if (opt_config_check(&c->opt, e))
        return -1;
    data_config dc = c->data;
    dc.seed = c->seed;
    if (dc.kind == DATA_SYNTHETIC)
        dc.vocab_size = c->model.vocab_size;
    r->d = data_open(&dc, e);
    if (!r->d)
        return -1;
    if (data_max_token(r->d) >= c->model.vocab_size) {
        lm_fail(e, "%s: token id %d does not fit --vocab-size %d",
                data_max_token_source(r->d), data_max_token(r->d), c->model.vocab_size);
        goto fail;
    }
    int T = c->model.block_size;
    if (data_check_seq_len(r->d, T, e))
        goto fail;
    if (c->batch_size % dp_size(c)) {
        lm_fail(e, "--batch-size %d must be a multiple of the %d MPI ranks", c->batch_size,
                dp_size(c));
        goto fail;
    }
    r->m = model_alloc(&c->model, c->batch_size / dp_size(c), T, e);
    if (!r->m)
        goto fail;
    model_init(r->m, c->seed);

    /* routing */
    r->nt = model_nparams(r->m);
    r->ot = lm_calloc(r->nt, sizeof *r->ot);
    long P;
    double b1, b2;
    opt_effective(&c->opt, &P, &b1, &b2);
    for (int i = 0; i < r->nt; i++) {
        const model_param *p = model_param_at(r->m, i);
        int matrix = c->routing == TRAIN_ROUTE_DIM ? p->ndim == 2 && p->shape[0] < 10000
                                                   : p->hidden;
        if (c->opt.kind == OPT_ADAMW)
            matrix = 0;
        opt_tensor *t = &r->ot[i];
        t->name = p->name;
        t->rows = matrix ? p->shape[0] : 1;
        t->cols = matrix ? p->shape[1] : (int)p->numel;
        t->w = p->w;
        t->g = p->g;
        t->rule = matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW;
        if (matrix) {
            r->n_matrix++;
            r->flops_ns += msign_flops(&c->opt.msign, t->rows, t->cols);
            r->flops_sign += (double)t->rows * t->cols;
        }
    }
    r->os = opt_alloc(&c->opt, r->nt, r->ot);
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
static int train_grad(run *r, long t, double *loss, lm_error *e)
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
/* Norm-ratio diagnostics (ALGORITHMS.md, the paper's Figure 2), per matrix of
 * the matrix rule (every hidden matrix with adamw), median over matrices:
 *   grad_nuc_over_1   ||G||_N / ||G||_1           G = gradient at W_t (unclipped)
 *   param_2_over_inf  ||W||_2 / ||W||_inf         W = W_t
 *   update_2_over_inf ||U||_2 / ||U||_inf         U = W_{t+1} - W_t (the applied step)
 *   errmom_F_over_nuc ||G - M||_F / ||G - M||_N   M = momentum (exp_avg) before the step
 *   errmom_F_over_1   ||G - M||_F / ||G - M||_1
 *   smooth_nuc_over_2 ||G' - G||_N / ||U||_2      G' = gradient at W_{t+1} on the
 *   smooth_1_over_inf ||G' - G||_1 / ||U||_inf         SAME batch (no batch noise)
 * Each is scale-free, so clipping does not matter. */
#define NDIAG 7
static const char *diag_names[NDIAG] = {
    "grad_nuc_over_1", "param_2_over_inf", "update_2_over_inf", "errmom_F_over_nuc",
    "errmom_F_over_1", "smooth_nuc_over_2", "smooth_1_over_inf"};

typedef struct {
    double *W0, *G0, *M0; /* copies, whole parameter-buffer sized */
    double *D, *vals;     /* scratch: one matrix; NDIAG x n matrices */
    int *idx;             /* the diagnosed tensors */
    int n;
} diag_ws;

static void diag_alloc(diag_ws *w, const run *r)
{
    size_t N = model_num_params(r->m), maxmn = 1;
    w->W0 = lm_malloc(sizeof(double) * N);
    w->G0 = lm_malloc(sizeof(double) * N);
    w->M0 = lm_calloc(N, sizeof(double));
    w->idx = lm_malloc(sizeof(int) * r->nt);
    w->n = 0;
    for (int i = 0; i < r->nt; i++) {
        const model_param *p = model_param_at(r->m, i);
        int use = r->c->opt.kind == OPT_ADAMW ? p->hidden : r->ot[i].rule == OPT_RULE_MATRIX;
        if (use) {
            w->idx[w->n++] = i;
            if (p->numel > maxmn)
                maxmn = p->numel;
        }
    }
    w->D = lm_malloc(sizeof(double) * maxmn);
    w->vals = lm_malloc(sizeof(double) * NDIAG * (w->n ? w->n : 1));
}

static void diag_free(diag_ws *w)
{
    free(w->W0);
    free(w->G0);
    free(w->M0);
    free(w->D);
    free(w->vals);
    free(w->idx);
}

/* before the step: keep W_t, G_t, M_t */
static void diag_before(diag_ws *w, run *r)
{
    size_t N = model_num_params(r->m);
    memcpy(w->W0, model_params(r->m), sizeof(double) * N);
    memcpy(w->G0, model_grads(r->m), sizeof(double) * N);
    for (int k = 0; k < w->n; k++) {
        const model_param *p = model_param_at(r->m, w->idx[k]);
        memcpy(w->M0 + p->offset, opt_buffer(r->os, w->idx[k], 0), sizeof(double) * p->numel);
    }
}

/* after the step: gradient at W_{t+1} on batch t, then the ratios */
static int diag_after(diag_ws *w, run *r, long t, double out[NDIAG], lm_error *e)
{
    double loss;
    if (train_grad(r, t, &loss, e))
        return -1;
    for (int k = 0; k < w->n; k++) {
        const model_param *p = model_param_at(r->m, w->idx[k]);
        int m = p->shape[0], n = p->shape[1];
        size_t o = p->offset, mn = p->numel;
        la_norms nG, nW, nU, nE, nS;
        double *D = w->D;
        if (la_norms_all(m, n, w->G0 + o, &nG) || la_norms_all(m, n, w->W0 + o, &nW))
            return lm_fail(e, "diagnostics: SVD failed on %s", p->name);
        for (size_t i = 0; i < mn; i++)
            D[i] = p->w[i] - w->W0[o + i];
        if (la_norms_all(m, n, D, &nU))
            return lm_fail(e, "diagnostics: SVD failed on %s", p->name);
        for (size_t i = 0; i < mn; i++)
            D[i] = w->G0[o + i] - w->M0[o + i];
        if (la_norms_all(m, n, D, &nE))
            return lm_fail(e, "diagnostics: SVD failed on %s", p->name);
        for (size_t i = 0; i < mn; i++)
            D[i] = p->g[i] - w->G0[o + i];
        if (la_norms_all(m, n, D, &nS))
            return lm_fail(e, "diagnostics: SVD failed on %s", p->name);
        double *v = w->vals;
        int N = w->n;
        v[0 * N + k] = nG.nuclear / nG.l1;
        v[1 * N + k] = nW.spectral / nW.linf;
        v[2 * N + k] = nU.spectral / nU.linf;
        v[3 * N + k] = nE.fro / nE.nuclear;
        v[4 * N + k] = nE.fro / nE.l1;
        v[5 * N + k] = nS.nuclear / nU.spectral;
        v[6 * N + k] = nS.l1 / nU.linf;
    }
    for (int j = 0; j < NDIAG; j++)
        out[j] = stats_median((size_t)w->n, w->vals + (size_t)j * w->n);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Checkpoints. */

#define CKPT_NAME "checkpoint.safetensors"

typedef struct {
    long step;
    double tokens, flops, wall_s, best_val;
    long best_val_step;
} progress_state;

static void meta_double(st_file *f, const char *k, double v)
{
    char b[64];
    snprintf(b, sizeof b, "%.17g", v);
    st_set_meta(f, k, b);
}

static void meta_long(st_file *f, const char *k, long v)
{
    char b[64];
    snprintf(b, sizeof b, "%ld", v);
    st_set_meta(f, k, b);
}

static int add_param_tensor(st_file *f, const char *name, const model_param *p,
                            const double *data, lm_error *e)
{
    int64_t shape[2] = {p->shape[0], p->shape[1]};
    return st_add_f64(f, name, p->ndim, shape, data, e);
}

static int write_checkpoint(run *r, const progress_state *ps, lm_error *e)
{
    const train_config *c = r->c;
    st_file *f = st_new();
    char key[256];
    int rc = 0;
    for (int i = 0; i < r->nt && !rc; i++) {
        const model_param *p = model_param_at(r->m, i);
        rc = add_param_tensor(f, p->name, p, p->w, e);
    }
    for (int i = 0; i < r->nt && !rc; i++) {
        const model_param *p = model_param_at(r->m, i);
        if (r->ot[i].rule == OPT_RULE_MATRIX && c->opt.kind != OPT_ADAMW) {
            snprintf(key, sizeof key, "state.%s.momentum", p->name);
            rc = add_param_tensor(f, key, p, opt_buffer(r->os, i, 0), e);
        } else {
            snprintf(key, sizeof key, "state.%s.exp_avg", p->name);
            rc = add_param_tensor(f, key, p, opt_buffer(r->os, i, 0), e);
            snprintf(key, sizeof key, "state.%s.exp_avg_sq", p->name);
            if (!rc)
                rc = add_param_tensor(f, key, p, opt_buffer(r->os, i, 1), e);
        }
    }
    if (!rc) {
        char *cfg = train_config_json(c);
        st_set_meta(f, "format", "lionmuon-checkpoint-1");
        st_set_meta(f, "config", cfg);
        free(cfg);
        st_set_meta(f, "argv", c->argv_json ? c->argv_json : "[]");
        meta_long(f, "step", ps->step);
        meta_long(f, "seed", (long)c->seed);
        meta_long(f, "data_position", ps->step);
        st_set_meta(f, "data_stream", "training batch k is a pure function of (seed, "
                    "split, k): the next batch is k = step");
        st_set_meta(f, "rng", "init: GSL mt19937(seed), fully consumed at init; data: "
                    "xoshiro256** seeded by splitmix64(seed, split, k); no other randomness");
        meta_double(f, "tokens", ps->tokens);
        meta_double(f, "flops", ps->flops);
        meta_double(f, "wall_s", ps->wall_s);
        meta_double(f, "best_val_loss", ps->best_val);
        meta_long(f, "best_val_step", ps->best_val_step);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", c->out_dir, CKPT_NAME);
        rc = st_write(f, path, e);
    }
    st_free(f);
    return rc;
}

static int meta_get_double(const st_file *f, const char *path, const char *k, double *v,
                           lm_error *e)
{
    const char *s = st_get_meta(f, k);
    char *end;
    if (!s)
        return lm_fail(e, "%s: __metadata__ has no '%s'", path, k);
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end)
        return lm_fail(e, "%s: __metadata__ '%s' = '%s' is not a number", path, k, s);
    return 0;
}

static int load_tensor(const st_file *f, const char *path, const char *name,
                       const model_param *p, double *dst, lm_error *e)
{
    st_tensor *t = st_get(f, name);
    if (!t)
        return lm_fail(e, "%s: tensor %s is missing", path, name);
    if (!t->f)
        return lm_fail(e, "%s: tensor %s is not floating point", path, name);
    int ok = t->ndim == p->ndim && t->shape[0] == p->shape[0] &&
             (p->ndim == 1 || t->shape[1] == p->shape[1]);
    if (!ok)
        return lm_fail(e, "%s: tensor %s has another shape than the model's [%d%s%.0d]",
                       path, name, p->shape[0], p->ndim == 2 ? ", " : "",
                       p->ndim == 2 ? p->shape[1] : 0);
    long bad = lm_first_nonfinite(t->numel, t->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, name,
                       bad);
    memcpy(dst, t->f, sizeof(double) * p->numel);
    return 0;
}

static int read_checkpoint(run *r, progress_state *ps, lm_error *e)
{
    const train_config *c = r->c;
    char path[4096], key[256];
    snprintf(path, sizeof path, "%s/%s", c->out_dir, CKPT_NAME);
    st_file *f;
    if (st_read(path, &f, e))
        return -1;
    int rc = 0;
    char *cfg = train_config_json(c);
    const char *stored = st_get_meta(f, "config");
    if (!stored || strcmp(stored, cfg)) {
        rc = lm_fail(e, "%s: the stored configuration differs from this run's "
                     "(stored %.300s)", path, stored ? stored : "(none)");
    }
    free(cfg);
    for (int i = 0; i < r->nt && !rc; i++) {
        const model_param *p = model_param_at(r->m, i);
        rc = load_tensor(f, path, p->name, p, p->w, e);
        if (rc)
            break;
        if (r->ot[i].rule == OPT_RULE_MATRIX && c->opt.kind != OPT_ADAMW) {
            snprintf(key, sizeof key, "state.%s.momentum", p->name);
            rc = load_tensor(f, path, key, p, opt_buffer(r->os, i, 0), e);
        } else {
            snprintf(key, sizeof key, "state.%s.exp_avg", p->name);
            rc = load_tensor(f, path, key, p, opt_buffer(r->os, i, 0), e);
            snprintf(key, sizeof key, "state.%s.exp_avg_sq", p->name);
            if (!rc)
                rc = load_tensor(f, path, key, p, opt_buffer(r->os, i, 1), e);
        }
    }
    double step = 0, bvs = 0;
    if (!rc)
        rc = meta_get_double(f, path, "step", &step, e) ||
             meta_get_double(f, path, "tokens", &ps->tokens, e) ||
             meta_get_double(f, path, "flops", &ps->flops, e) ||
             meta_get_double(f, path, "wall_s", &ps->wall_s, e) ||
             meta_get_double(f, path, "best_val_loss", &ps->best_val, e) ||
             meta_get_double(f, path, "best_val_step", &bvs, e) ? -1 : 0;
    if (!rc && (step < 0 || step > c->iterations || step != floor(step)))
        rc = lm_fail(e, "%s: step %g is outside [0, --iterations %ld]", path, step,
                     c->iterations);
    ps->step = (long)step;
    ps->best_val_step = (long)bvs;
    st_free(f);
    return rc;
}

int train_checkpoint_argv(const char *dir, char **argv_json, lm_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, CKPT_NAME);
    st_file *f;
    if (st_read(path, &f, e))
        return lm_wrap(e, "--resume");
    const char *a = st_get_meta(f, "argv");
    if (!a) {
        st_free(f);
        return lm_fail(e, "--resume: %s has no __metadata__ 'argv' (not a training "
                       "checkpoint?)", path);
    }
    *argv_json = lm_strdup(a);
    st_free(f);
    return 0;
}

/* Keep the CSV header and the rows whose first field (the step) is <= step. */
static void load_csv_prefix(const char *dir, const char *name, long step, lm_buf *b,
                            const char *header)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    lm_buf_printf(b, "%s", header);
    if (!fp)
        return;
    char line[4096];
    int first = 1;
    while (fgets(line, sizeof line, fp)) {
        if (first) {
            first = 0;
            continue;
        }
        char *end;
        long s = strtol(line, &end, 10);
        if (end != line && *end == ',' && s <= step)
            lm_buf_printf(b, "%s", line);
    }
    fclose(fp);
}

/* ------------------------------------------------------------------------ */
/* Outputs. */

static const char METRICS_HEADER[] =
    "step,train_loss,val_loss,lr_muon,lr_sign,lr_adamw,tokens,flops,wall_s\n";

static int write_summary(run *r, const progress_state *ps, const train_result *res,
                         const double *diag_last, long diag_step, lm_error *e)
{
    const train_config *c = r->c;
    json_t *o = json_object();
    json_object_set_new(o, "config", config_object(c));
    json_object_set_new(o, "steps_done", json_integer(res->steps_done));
    json_object_set_new(o, "stopped_early", json_boolean(res->stopped_early));
    json_object_set_new(o, "n_params", json_integer((json_int_t)model_num_params(r->m)));
    json_object_set_new(o, "final_train_loss", json_real(res->final_train_loss));
    json_object_set_new(o, "final_val_loss", isfinite(res->final_val_loss)
                                                 ? json_real(res->final_val_loss) : json_null());
    json_object_set_new(o, "best_val_loss", isfinite(ps->best_val)
                                                ? json_real(ps->best_val) : json_null());
    json_object_set_new(o, "best_val_step", json_integer(ps->best_val_step));
    double H = data_entropy_rate(r->d);
    json_object_set_new(o, "entropy_rate", isfinite(H) ? json_real(H) : json_null());
    json_object_set_new(o, "bayes_loss", isfinite(H) ? json_real(H) : json_null());
    json_object_set_new(o, "excess_loss", isfinite(H) && isfinite(ps->best_val)
                                              ? json_real(ps->best_val - H) : json_null());
    json_object_set_new(o, "total_flops", json_real(ps->flops));
    json_object_set_new(o, "flops_model_per_step", json_real(r->flops_model));
    json_object_set_new(o, "flops_msign_per_muon_step", json_real(r->flops_ns));
    json_object_set_new(o, "flops_sign_per_lion_step", json_real(r->flops_sign));
    json_object_set_new(o, "tokens", json_real(ps->tokens));
    json_object_set_new(o, "wall_s", json_real(ps->wall_s));
    json_object_set_new(o, "optimizer_state_bytes",
                        json_integer((json_int_t)opt_state_bytes(r->os)));
    if (diag_step >= 0) {
        json_t *d = json_object();
        json_object_set_new(d, "step", json_integer(diag_step));
        for (int j = 0; j < NDIAG; j++)
            json_object_set_new(d, diag_names[j],
                                isfinite(diag_last[j]) ? json_real(diag_last[j]) : json_null());
        json_object_set_new(o, "last_diagnostics", d);
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(o);
    size_t len = strlen(s);
    char *t = lm_malloc(len + 2);
    memcpy(t, s, len);
    t[len] = '\n';
    free(s);
    int rc = write_text(c->out_dir, "summary.json", t, len + 1, e);
    free(t);
    return rc;
}

/* loss.gp, and loss.png by running gnuplot in the output directory (the plot
 * goes to a temporary name, renamed when gnuplot succeeds).  Not having
 * gnuplot is not an error: returns 1 with no PNG. */
static int write_plot(const train_config *c, double H, lm_error *e)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "# gnuplot script written by lionmuon train; run: gnuplot loss.gp\n"
                  "set terminal png size 900,600\n"
                  "set output 'loss.png.tmp'\n"
                  "set datafile separator ','\n"
                  "set key bottom left\nset xlabel 'step'\nset ylabel 'loss (nats)'\nset grid\n"
                  "set title 'lionmuon train: %s, %s'\n",
              model_kind_name(c->model.kind), opt_kind_name(c->opt.kind));
    lm_buf_printf(&b, "plot 'metrics.csv' every ::1 using 1:2 with lines title 'train', \\\n"
                  "     'metrics.csv' every ::1 using 1:($3 == $3 ? $3 : NaN) with "
                  "linespoints pt 7 title 'validation'");
    if (isfinite(H))
        lm_buf_printf(&b, ", \\\n     %.10g with lines dt 2 title 'Bayes-optimal (entropy "
                      "rate %.4f)'", H, H);
    lm_buf_printf(&b, "\n");
    int rc = write_text(c->out_dir, "loss.gp", b.s, b.len, e);
    free(b.s);
    if (rc)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        if (chdir(c->out_dir) != 0)
            _exit(127);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("gnuplot", "gnuplot", "loss.gp", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s/loss.png.tmp", c->out_dir);
        unlink(tmp);
        return 1;
    }
    char a[4096], bpath[4096];
    snprintf(a, sizeof a, "%s/loss.png.tmp", c->out_dir);
    snprintf(bpath, sizeof bpath, "%s/loss.png", c->out_dir);
    if (rename(a, bpath) != 0) {
        unlink(a);
        return 1;
    }
    return 0;
}

static int make_dir(const char *dir, lm_error *e)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return lm_fail(e, "--out %s: cannot create %s: %s", dir, buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return lm_fail(e, "--out %s: cannot create it: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return lm_fail(e, "--out %s: not a directory", dir);
    return 0;
}

static void fmt_eta(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

/* ------------------------------------------------------------------------ */
/* The loop. */

/* A run killed during an atomic write leaves its temporary file
 * (NAME.tmp.XXXXXX, see lm_write_atomic) beside the intact NAME; a resumed
 * run removes them. */
static void remove_stale_temporaries(const char *dir)
{
    char pat[4096];
    snprintf(pat, sizeof pat, "%s/*.tmp.??????", dir);
    glob_t g;
    if (glob(pat, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
    globfree(&g);
}

int train_run(const train_config *c, int resume, train_result *res, lm_error *e)
{
    run r;
    if (run_setup(&r, c, e))
        return -1;
    int rc = -1;
    diag_ws dw = {0};
    lm_buf metrics = {0}, diags = {0};
    progress_state ps = {0, 0, 0, 0, NAN, -1};
    double diag_last[NDIAG];
    long diag_step = -1;
    for (int j = 0; j < NDIAG; j++)
        diag_last[j] = NAN;
    memset(res, 0, sizeof *res);
    res->final_val_loss = NAN;
    res->final_train_loss = NAN;
    res->entropy_rate = data_entropy_rate(r.d);

    lm_buf dh = {0};
    lm_buf_printf(&dh, "step");
    for (int j = 0; j < NDIAG; j++)
        lm_buf_printf(&dh, ",%s", diag_names[j]);
    lm_buf_printf(&dh, "\n");

    if (resume) {
        if (dp_root(c))
            remove_stale_temporaries(c->out_dir);
        if (read_checkpoint(&r, &ps, e))
            goto done;
        load_csv_prefix(c->out_dir, "metrics.csv", ps.step, &metrics, METRICS_HEADER);
        load_csv_prefix(c->out_dir, "diagnostics.csv", ps.step, &diags, dh.s);
    } else {
        if (dp_root(c) && make_dir(c->out_dir, e))
            goto done;
        lm_buf_printf(&metrics, "%s", METRICS_HEADER);
        lm_buf_printf(&diags, "%s", dh.s);
    }
    if (c->diag_every > 0)
        diag_alloc(&dw, &r);

    long B = c->batch_size, T = c->model.block_size;
    double t0 = la_seconds() - ps.wall_s, last_val = NAN;
    if (!resume) {
        /* the loss at init, before any step */
        if (evaluate(&r, &last_val, e))
            goto done;
        ps.best_val = last_val;
        ps.best_val_step = 0;
        lm_buf_printf(&metrics, "0,,%.10g,,,,0,0,%.3f\n", last_val, la_seconds() - t0);
    }
    long end = c->stop_after > 0 && c->stop_after < c->iterations ? c->stop_after
                                                                   : c->iterations;
    double train_loss = NAN;
    long start = ps.step;
    double tstart = la_seconds();
    for (long t = ps.step; t < end; t++) {
        if (train_grad(&r, t, &train_loss, e))
            goto done;
        int diag_now = c->diag_every > 0 && (t + 1) % c->diag_every == 0;
        if (diag_now)
            diag_before(&dw, &r);
        opt_clip_grad_norm(r.nt, r.ot, c->grad_clip);
        double scale = opt_lr_schedule(t, c->warmup, c->iterations);
        opt_step_info info;
        if (dp_opt_step(&r, t, scale, &info, e)) {
            lm_wrap(e, "step %ld", t);
            goto done;
        }
        ps.step = t + 1;
        ps.tokens += (double)B * T;
        ps.flops += r.flops_model + opt_flops(&r, t, &info);
        if (diag_now) {
            if (diag_after(&dw, &r, t, diag_last, e))
                goto done;
            diag_step = t + 1;
            lm_buf_printf(&diags, "%ld", t + 1);
            for (int j = 0; j < NDIAG; j++)
                lm_buf_printf(&diags, ",%.10g", diag_last[j]);
            lm_buf_printf(&diags, "\n");
        }
        /* evaluations happen at the same steps whether or not the run is
         * interrupted by --stop-after, so a resumed run's files match */
        int last = t + 1 == end;
        int eval_now = t + 1 == c->iterations ||
                       (c->eval_every > 0 && (t + 1) % c->eval_every == 0);
        double val = NAN;
        if (eval_now) {
            if (evaluate(&r, &val, e))
                goto done;
            last_val = val;
            if (!(ps.best_val <= val)) {
                ps.best_val = val;
                ps.best_val_step = t + 1;
            }
        }
        ps.wall_s = la_seconds() - t0;
        lm_buf_printf(&metrics, "%ld,%.10g,", t + 1, train_loss);
        if (eval_now)
            lm_buf_printf(&metrics, "%.10g", val);
        lm_buf_printf(&metrics, ",%.10g,%.10g,%.10g,%.0f,%.6g,%.3f\n", c->opt.lr_muon * scale,
                  c->opt.lr_sign * scale, c->opt.lr_adamw * scale, ps.tokens, ps.flops,
                  ps.wall_s);
        if (c->progress) {
            double el = la_seconds() - tstart, rate = (t + 1 - start) / (el > 0 ? el : 1e-9);
            char eta[32];
            fmt_eta((c->iterations - t - 1) / rate, eta, sizeof eta);
            fprintf(stderr, "\rstep %ld/%ld  loss %.4f  val %.4f  %.0f tok/s  ETA %s   ",
                    t + 1, c->iterations, train_loss, last_val, rate * B * T, eta);
            fflush(stderr);
        }
        int ckpt_now = last || (c->ckpt_every > 0 && (t + 1) % c->ckpt_every == 0);
        if (ckpt_now && dp_root(c)) {
            /* the CSV files first, then the checkpoint: a kill between the
             * two leaves rows beyond the checkpoint's step, which --resume
             * drops (load_csv_prefix) and recomputes bitwise; the other
             * order would lose the rows of the checkpointed step for good */
            if (write_text(c->out_dir, "metrics.csv", metrics.s, metrics.len, e) ||
                write_text(c->out_dir, "diagnostics.csv", diags.s, diags.len, e) ||
                write_checkpoint(&r, &ps, e))
                goto done;
        }
    }
    if (c->progress)
        fprintf(stderr, "\n");
    if (ps.step == start && dp_root(c)) {
        /* nothing to do (resumed at the end): rewrite the files as they are */
        if (write_checkpoint(&r, &ps, e) ||
            write_text(c->out_dir, "metrics.csv", metrics.s, metrics.len, e) ||
            write_text(c->out_dir, "diagnostics.csv", diags.s, diags.len, e))
            goto done;
    }
    res->steps_done = ps.step;
    res->stopped_early = ps.step < c->iterations;
    res->final_train_loss = train_loss;
    res->final_val_loss = last_val;
    res->best_val_loss = ps.best_val;
    res->best_val_step = ps.best_val_step;
    res->flops = ps.flops;
    res->wall_s = ps.wall_s;
    res->tokens = ps.tokens;
    res->opt_state_bytes = opt_state_bytes(r.os);
    if (dp_root(c) && write_summary(&r, &ps, res, diag_last, diag_step, e))
        goto done;
    if (dp_root(c) && c->plot && write_plot(c, res->entropy_rate, e) < 0)
        goto done;
    rc = 0;
done:
    if (c->progress && rc)
        fprintf(stderr, "\n");
    free(dh.s);
    free(metrics.s);
    free(diags.s);
    if (c->diag_every > 0)
        diag_free(&dw);
    run_free(&r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Golden files: the run of K steps, every tensor a GPU replay needs. */

int train_golden(const train_config *c, long K, const char *out_path, lm_error *e)
{
    if (dp_size(c) > 1)
        return lm_fail(e, "--mpi: golden files are written by a single process");
    if (K < 1)
        return lm_fail(e, "--steps must be >= 1 (got %ld)", K);
    if (K > c->iterations)
        return lm_fail(e, "--steps %ld exceeds --iterations %ld (the schedule's length)", K,
                       c->iterations);
    run r;
    if (run_setup(&r, c, e))
        return -1;
    int B = c->batch_size, T = c->model.block_size, rc = 0;
    size_t BT = (size_t)B * T;
    st_file *f = st_new();
    int64_t *in64 = lm_malloc(sizeof(int64_t) * BT * K), *tg64 = lm_malloc(sizeof(int64_t) * BT * K);
    char key[512];
    for (long k = 0; k < K && !rc; k++) {
        double loss;
        for (int i = 0; i < r.nt && !rc; i++) {
            const model_param *p = model_param_at(r.m, i);
            snprintf(key, sizeof key, "step.%ld.params.%s", k, p->name);
            rc = add_param_tensor(f, key, p, p->w, e);
        }
        if (rc || train_grad(&r, k, &loss, e)) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < BT; i++) {
            in64[k * BT + i] = r.inp[i];
            tg64[k * BT + i] = r.tgt[i];
        }
        snprintf(key, sizeof key, "step.%ld.loss", k);
        rc = st_add_f64(f, key, 0, NULL, &loss, e);
        for (int i = 0; i < r.nt && !rc; i++) {
            const model_param *p = model_param_at(r.m, i);
            snprintf(key, sizeof key, "step.%ld.grads.%s", k, p->name);
            rc = add_param_tensor(f, key, p, p->g, e);
        }
        if (rc)
            break;
        opt_clip_grad_norm(r.nt, r.ot, c->grad_clip);
        if (opt_step(r.os, k, opt_lr_schedule(k, c->warmup, c->iterations), NULL, e)) {
            lm_wrap(e, "step %ld", k);
            rc = -1;
        }
    }
    for (int i = 0; i < r.nt && !rc; i++) {
        const model_param *p = model_param_at(r.m, i);
        snprintf(key, sizeof key, "final.params.%s", p->name);
        rc = add_param_tensor(f, key, p, p->w, e);
    }
    if (!rc) {
        int64_t shape[3] = {K, B, T};
        rc = st_add_i64(f, "inputs", 3, shape, in64, e) ||
             st_add_i64(f, "targets", 3, shape, tg64, e) ? -1 : 0;
    }
    if (!rc) {
        long P;
        double b1, b2;
        opt_effective(&c->opt, &P, &b1, &b2);
        const opt_config *o = &c->opt;
        st_set_meta(f, "format", "lionmuon-golden-1");
        st_set_meta(f, "model", model_kind_name(c->model.kind));
        meta_long(f, "n_layer", c->model.n_layer);
        meta_long(f, "n_head", c->model.n_head);
        meta_long(f, "n_embd", c->model.n_embd);
        meta_long(f, "vocab_size", c->model.vocab_size);
        meta_long(f, "sequence_length", c->model.block_size);
        meta_long(f, "batch_size", B);
        meta_long(f, "steps", K);
        st_set_meta(f, "bias", c->model.bias ? "true" : "false");
        meta_long(f, "multiple_of", c->model.multiple_of);
        st_set_meta(f, "optimizer", opt_kind_name(o->kind));
        meta_long(f, "period", P);
        meta_double(f, "lr_muon", o->lr_muon);
        meta_double(f, "lr_sign", o->lr_sign);
        meta_double(f, "lr_adamw", o->lr_adamw);
        meta_double(f, "beta1", b1);
        meta_double(f, "beta2", b2);
        meta_double(f, "adamw_beta1", o->adamw_beta1);
        meta_double(f, "adamw_beta2", o->adamw_beta2);
        meta_double(f, "adamw_eps", o->adamw_eps);
        st_set_meta(f, "adamw_eps_mode", opt_eps_mode_name(o->adamw_eps_mode));
        meta_long(f, "ns_steps", o->msign.steps);
        st_set_meta(f, "msign", msign_method_name(o->msign.method));
        meta_double(f, "srank_alpha", o->srank_alpha);
        meta_double(f, "weight_decay", o->weight_decay);
        meta_double(f, "grad_clip", c->grad_clip);
        meta_long(f, "warmup", c->warmup);
        meta_long(f, "iterations", c->iterations);
        meta_long(f, "seed", (long)c->seed);
        st_set_meta(f, "routing", train_routing_name(c->routing));
        st_set_meta(f, "data", data_kind_name(c->data.kind));
        st_set_meta(f, "layout", "nn.Linear [out, in], y = x W^T; tied head stored once "
                    "as transformer.wte.weight; step.k.params before step k, step.k.grads "
                    "before clipping; step k uses lr_scale = schedule(k, warmup, iterations)");
        rc = st_write(f, out_path, e);
    }
    free(in64);
    free(tg64);
    st_free(f);
    run_free(&r);
    return rc;
}
