/* budget.c - the memory a training run or a golden file will take,
 * estimated from the flags before anything is allocated, so that a size
 * that cannot fit is refused with the flags and the estimate instead of an
 * abort in the middle of the allocations (or, where a byte count would
 * wrap, a buffer too small).  Every product is taken in double, which
 * cannot wrap; the estimates follow model.c's buffers (parameters,
 * gradients, activations), the optimizer state, the diagnostics' copies,
 * the synthetic corpus' tables, the checkpoint being serialised and, for a
 * golden file, every recorded tensor twice (the file in memory and its
 * serialised bytes). */
#include "train_impl.h"

#include <limits.h>
#include <string.h>
#include <omp.h>

#include "lionmuon/fs.h"

/* Parameters of the model, from the configuration (model.c's list). */
static double param_count(const model_config *c)
{
    double C = c->n_embd, V = c->vocab_size, T = c->block_size, L = c->n_layer;
    int gpt = c->kind == MODEL_GPT2;
    double H = gpt ? 4.0 * C : model_mlp_hidden(c);
    double layer = 4 * C * C + (gpt ? 2 : 3) * H * C + 16 * C + H; /* + norms and biases */
    return V * C + (gpt ? T * C : 0) + L * layer + 2 * C;
}

/* Activations of model_alloc for a batch of B rows of T tokens. */
static double act_count(const model_config *c, double B, double T)
{
    double C = c->n_embd, V = c->vocab_size, L = c->n_layer, nh = c->n_head;
    double H = c->kind == MODEL_GPT2 ? 4.0 * C : model_mlp_hidden(c);
    double BT = B * T, nthr = omp_get_max_threads();
    double layer = 8 * BT * C + 4 * BT + B * nh * T * T + 3 * BT * H;
    return L * layer + 9 * BT * C + 3 * BT + 2 * BT * V + T * C + 3 * BT * H + nthr * T * T;
}

/* Bytes of one process of a run: the model with B_local rows, gradients,
 * optimizer state (two buffers at most), the diagnostics' copies, the
 * checkpoint in memory and serialised, the batches, the synthetic tables. */
static double run_bytes(const train_config *c, int B_local)
{
    double P = param_count(&c->model), T = c->model.block_size;
    double n = 2 * P + act_count(&c->model, B_local, T); /* params, grads, activations */
    n += 2 * P;                                         /* optimizer state */
    if (c->diag_every > 0)
        n += 4 * P;                                     /* W0, G0, M0 and scratch */
    n += 2 * 3 * P;                                     /* checkpoint: tensors, bytes */
    n += (double)c->batch_size * T;                     /* the global batch (int pairs) */
    double bytes = 8 * n;
    if (c->data.kind == DATA_SYNTHETIC) {
        double V = c->model.vocab_size;
        bytes += 4 * V * V + 16 * V;                    /* perm, rank; zipf, cdf */
    }
    return bytes;
}

/* The flags that size a run, for messages. */
static void size_flags(lm_buf *b, const train_config *c)
{
    lm_buf_printf(b, "--n-layer %d --n-embd %d --n-head %d --vocab-size %d --seq-len %d "
                  "--batch-size %d", c->model.n_layer, c->model.n_embd, c->model.n_head,
                  c->model.vocab_size, c->model.block_size, c->batch_size);
    if (c->model.kind == MODEL_LLAMA)
        lm_buf_printf(b, " --multiple-of %d", c->model.multiple_of);
}

int budget_check_run(const train_config *c, int B_local, lm_error *e)
{
    if (model_config_check(&c->model, e)) /* its messages come first */
        return -1;
    double BT = (double)c->batch_size * c->model.block_size;
    lm_buf what = {0};
    size_flags(&what, c);
    int rc = 0;
    if (BT > INT_MAX)
        rc = lm_fail(e, "--batch-size %d x --seq-len %d = %.0f tokens per batch, more than %d",
                     c->batch_size, c->model.block_size, BT, INT_MAX);
    else
        rc = lm_mem_check(run_bytes(c, B_local), what.s, e);
    lm_buf_free(&what);
    return rc;
}

int budget_check_golden(const train_config *c, long K, lm_error *e)
{
    if (model_config_check(&c->model, e))
        return -1;
    double P = param_count(&c->model), BT = (double)c->batch_size * c->model.block_size;
    /* per step: parameters and gradients (and the loss); the final
     * parameters; inputs and targets; all of it twice (st_file, bytes) */
    double rec = 8 * ((double)K * (2 * P + 1) + P + 2 * (double)K * BT);
    double bytes = run_bytes(c, c->batch_size) + 2 * rec;
    lm_buf what = {0};
    lm_buf_printf(&what, "--steps %ld with ", K);
    size_flags(&what, c);
    int rc = lm_mem_check(bytes, what.s, e);
    lm_buf_free(&what);
    return rc;
}

int train_budget_check(const model_config *mc, int B, lm_error *e)
{
    train_config c;
    memset(&c, 0, sizeof c);
    c.model = *mc;
    c.batch_size = B;
    c.data.kind = DATA_TEXT; /* no synthetic tables: the caller brings its tokens */
    return budget_check_run(&c, B, e);
}
