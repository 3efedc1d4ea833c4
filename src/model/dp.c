/* dp.c - data parallelism over MPI ranks (train_config.dp_size): the batch
 * split by rows, gradients and losses summed over ranks, the optimizer work
 * split by tensor.  The only file of the model layer that knows about MPI:
 * without LM_MPI every collective is a no-op and one process runs alone. */
#include "train_impl.h"

#ifdef LM_MPI
#include <mpi.h>
#endif

#include <stdlib.h>

#include "lionmuon/msign.h"

int dp_size(const train_config *c)
{
    return c->dp_size > 1 ? c->dp_size : 1;
}

int dp_root(const train_config *c)
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
void dp_assign(run *r)
{
    int K = dp_size(r->c), n = r->nt;
    r->owner = lm_calloc((size_t)LM_MAX(n, 1), sizeof *r->owner);
    double *load = lm_calloc((size_t)K, sizeof *load);
    double *cost = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *cost);
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
int dp_opt_step(run *r, long t, double scale, opt_step_info *info, lm_error *e)
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
int dp_forward(run *r, int grads, double *loss, lm_error *e)
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
