/* diag.c - the norm-ratio diagnostics of training (diagnostics.csv): the
 * seven scale-free ratios of the paper's Figure 2, median over matrices. */
#include "train_impl.h"

#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "lionmuon/stats.h"

/* Norm-ratio diagnostics (theory/algorithms.md §10, the paper's Figure 2), per matrix of
 * the matrix rule (every hidden matrix with adamw), median over matrices:
 *   grad_nuc_over_1   ||G||_N / ||G||_1           G = gradient at W_t (unclipped)
 *   param_2_over_inf  ||W||_2 / ||W||_inf         W = W_t
 *   update_2_over_inf ||U||_2 / ||U||_inf         U = W_{t+1} - W_t (the applied step)
 *   errmom_F_over_nuc ||G - M||_F / ||G - M||_N   M = momentum (exp_avg) before the step
 *   errmom_F_over_1   ||G - M||_F / ||G - M||_1
 *   smooth_nuc_over_2 ||G' - G||_N / ||U||_2      G' = gradient at W_{t+1} on the
 *   smooth_1_over_inf ||G' - G||_1 / ||U||_inf         SAME batch (no batch noise)
 * Each is scale-free, so clipping does not matter. */
const char *const diag_names[NDIAG] = {
    "grad_nuc_over_1", "param_2_over_inf", "update_2_over_inf", "errmom_F_over_nuc",
    "errmom_F_over_1", "smooth_nuc_over_2", "smooth_1_over_inf"};

void diag_alloc(diag_ws *w, const run *r)
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

void diag_free(diag_ws *w)
{
    free(w->W0);
    free(w->G0);
    free(w->M0);
    free(w->D);
    free(w->vals);
    free(w->idx);
}

/* before the step: keep W_t, G_t, M_t */
void diag_before(diag_ws *w, run *r)
{
    size_t N = model_num_params(r->m);
    memcpy(w->W0, model_params(r->m), sizeof(double) * N);
    memcpy(w->G0, model_grads(r->m), sizeof(double) * N);
    for (int k = 0; k < w->n; k++) {
        const model_param *p = model_param_at(r->m, w->idx[k]);
        memcpy(w->M0 + p->offset, opt_buffer(r->os, w->idx[k], 0), sizeof(double) * p->numel);
    }
}

/* The norms (la_norms_all) of the five matrices of one diagnosed parameter
 * p, whose gradient is by now G' at W_{t+1}: n[0] of G, n[1] of W_t, n[2] of
 * U, n[3] of G - M, n[4] of G' - G. */
static int matrix_norms(diag_ws *w, const model_param *p, la_norms n[5], lm_error *e)
{
    int rows = p->shape[0], cols = p->shape[1];
    size_t o = p->offset, mn = p->numel;
    double *D = w->D;
    int bad = la_norms_all(rows, cols, w->G0 + o, &n[0]) ||
              la_norms_all(rows, cols, w->W0 + o, &n[1]);
    for (size_t i = 0; i < mn && !bad; i++)
        D[i] = p->w[i] - w->W0[o + i];
    bad = bad || la_norms_all(rows, cols, D, &n[2]);
    for (size_t i = 0; i < mn && !bad; i++)
        D[i] = w->G0[o + i] - w->M0[o + i];
    bad = bad || la_norms_all(rows, cols, D, &n[3]);
    for (size_t i = 0; i < mn && !bad; i++)
        D[i] = p->g[i] - w->G0[o + i];
    bad = bad || la_norms_all(rows, cols, D, &n[4]);
    return bad ? lm_fail(e, "diagnostics: SVD failed on %s", p->name) : 0;
}

/* after the step: gradient at W_{t+1} on batch t, then the ratios */
int diag_after(diag_ws *w, run *r, long t, double out[NDIAG], lm_error *e)
{
    double loss;
    if (train_grad(r, t, &loss, e))
        return -1;
    double *v = w->vals;
    int N = w->n;
    for (int k = 0; k < N; k++) {
        la_norms n[5]; /* G, W, U, G - M, G' - G */
        if (matrix_norms(w, model_param_at(r->m, w->idx[k]), n, e))
            return -1;
        v[0 * N + k] = n[0].nuclear / n[0].l1;
        v[1 * N + k] = n[1].spectral / n[1].linf;
        v[2 * N + k] = n[2].spectral / n[2].linf;
        v[3 * N + k] = n[3].fro / n[3].nuclear;
        v[4 * N + k] = n[3].fro / n[3].l1;
        v[5 * N + k] = n[4].nuclear / n[2].spectral;
        v[6 * N + k] = n[4].l1 / n[2].linf;
    }
    for (int j = 0; j < NDIAG; j++)
        out[j] = stats_median((size_t)N, w->vals + (size_t)j * N);
    return 0;
}
