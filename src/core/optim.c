/* optim.c - the LionMuon family, AdamW, the schedule and clipping.
 * The update rules are stated in optim.h and again above each kernel. */
#include "lionmuon/optim.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "core/par.h"

/* Elementwise loops run through LM_PAR_FOR_SIMD (core/par.h). */

/* ---- configuration ---- */

static const char *KIND_NAMES[] = {"adamw", "lion", "signum", "muon",
                                   "signmuon", "lionmuon", "muon-nesterov"};
#define N_KINDS ((int)(sizeof KIND_NAMES / sizeof KIND_NAMES[0]))

const char *opt_kind_name(opt_kind k)
{
    return (unsigned)k < (unsigned)N_KINDS ? KIND_NAMES[k] : "?";
}

int opt_kind_parse(const char *name, opt_kind *out)
{
    int i = lm_name_lookup(KIND_NAMES, N_KINDS, name);
    if (i < 0)
        return -1;
    *out = (opt_kind)i;
    return 0;
}

static const char *const EPS_MODE_NAMES[] = {"paper", "torch"};

const char *opt_eps_mode_name(opt_eps_mode m)
{
    return (unsigned)m < 2u ? EPS_MODE_NAMES[m] : "?";
}

int opt_eps_mode_parse(const char *name, opt_eps_mode *out)
{
    int i = lm_name_lookup(EPS_MODE_NAMES, 2, name);
    if (i < 0)
        return -1;
    *out = (opt_eps_mode)i;
    return 0;
}

/* The paper's 124M settings (theory/algorithms.md §5): Lion betas (0.9, 0.99),
 * Signum/Muon momentum 0.95, SignMuon 0.9; tuned rates LionMuon P=2
 * 1e-3/5e-5, SignMuon P=2 2e-3/5e-5, Muon 1e-3; AdamW 5e-4 with betas
 * (0.8, 0.999) alone and 1e-3 for the 1-D part of the hybrids; weight decay
 * 0.1; 5 Newton-Schulz steps.  The paper gives no tuned rate for pure Lion
 * and Signum; they take the hybrids' sign rate 5e-5. */
opt_config opt_default_config(opt_kind kind)
{
    opt_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.period = 2;
    c.beta1 = 0.9;
    c.beta2 = 0.99;
    c.lr_muon = 1e-3;
    c.lr_sign = 5e-5;
    c.msign = msign_default_opts(MSIGN_NS5);
    c.srank_alpha = 0.0;
    c.weight_decay = 0.1;
    c.lr_adamw = 1e-3;
    c.adamw_beta1 = 0.8;
    c.adamw_beta2 = 0.999;
    c.adamw_eps = 1e-8;
    c.adamw_eps_mode = OPT_EPS_PAPER;
    switch (kind) {
    case OPT_ADAMW: c.lr_adamw = 5e-4; break;
    case OPT_LION: c.period = 0; break;
    case OPT_SIGNUM: c.period = 0; c.beta1 = c.beta2 = 0.95; break;
    case OPT_MUON: c.period = 1; c.beta1 = c.beta2 = 0.95; break;
    case OPT_SIGNMUON: c.beta1 = c.beta2 = 0.9; c.lr_muon = 2e-3; break;
    case OPT_LIONMUON: break;
    case OPT_MUON_NESTEROV: c.period = 1; c.beta1 = c.beta2 = 0.95; c.lr_muon = 0.02; break;
    }
    return c;
}

void opt_effective(const opt_config *c, long *P, double *beta1, double *beta2)
{
    *P = c->period;
    *beta1 = c->beta1;
    *beta2 = c->beta2;
    switch (c->kind) {
    case OPT_LION: *P = 0; break;
    case OPT_SIGNUM: *P = 0; *beta2 = c->beta1; break;
    case OPT_MUON: *P = 1; *beta2 = c->beta1; break;
    case OPT_SIGNMUON: *beta2 = c->beta1; break;
    case OPT_MUON_NESTEROV: *P = 1; *beta2 = c->beta1; break;
    case OPT_LIONMUON:
    case OPT_ADAMW: break;
    }
}

static int check_rate(double v, const char *flag, lm_error *e)
{
    if (!isfinite(v) || v < 0)
        return lm_fail(e, "%s must be finite and >= 0 (got %g)", flag, v);
    return 0;
}

static int check_beta(double v, const char *flag, lm_error *e)
{
    if (!(v >= 0 && v < 1))
        return lm_fail(e, "%s must be in [0, 1) (got %g)", flag, v);
    return 0;
}

int opt_config_check(const opt_config *c, lm_error *e)
{
    if ((unsigned)c->kind >= (unsigned)N_KINDS)
        return lm_fail(e, "--optimizer: unknown optimizer %d", (int)c->kind);
    if (check_rate(c->lr_muon, "--lr-muon", e) || check_rate(c->lr_sign, "--lr-sign", e) ||
        check_rate(c->lr_adamw, "--lr-adamw", e) ||
        check_rate(c->weight_decay, "--weight-decay", e) ||
        check_beta(c->beta1, "--beta1", e) || check_beta(c->beta2, "--beta2", e) ||
        check_beta(c->adamw_beta1, "--adamw-beta1", e) ||
        check_beta(c->adamw_beta2, "--adamw-beta2", e))
        return -1;
    if (c->period < 0)
        return lm_fail(e, "--period must be >= 0 (0 = never a Muon step; got %ld)", c->period);
    if (!(c->adamw_eps > 0) || !isfinite(c->adamw_eps))
        return lm_fail(e, "--adamw-eps must be finite and > 0 (got %g)", c->adamw_eps);
    if (c->msign.steps < 1)
        return lm_fail(e, "--ns-steps must be >= 1 (got %d)", c->msign.steps);
    if (!isfinite(c->srank_alpha) || c->srank_alpha < 0)
        return lm_fail(e, "--srank-alpha must be finite and >= 0 (got %g)", c->srank_alpha);
    /* lr * wd >= 1 would flip or zero the weights every step */
    double lrmax = fmax(fmax(c->lr_muon, c->lr_sign), c->lr_adamw);
    if (lrmax * c->weight_decay >= 1)
        return lm_fail(e, "--weight-decay times the largest learning rate must be < 1 (got %g)",
                       lrmax * c->weight_decay);
    return 0;
}

int opt_is_muon_step(long P, long t)
{
    return P > 0 && t % P == 0;
}

/* ---- workspace ---- */

opt_matrix_ws *opt_matrix_ws_alloc(int max_rows, int max_cols)
{
    opt_matrix_ws *ws = lm_calloc(1, sizeof *ws);
    ws->max_rows = max_rows;
    ws->max_cols = max_cols;
    ws->C = lm_malloc((size_t)LM_MAX(max_rows * max_cols, 1) * sizeof(double));
    ws->ms = msign_ws_alloc(max_rows, max_cols);
    int d = LM_MAX(LM_MAX(max_rows, max_cols), 1);
    ws->pu = lm_malloc((size_t)d * sizeof(double));
    ws->pv = lm_malloc((size_t)d * sizeof(double));
    return ws;
}

void opt_matrix_ws_free(opt_matrix_ws *ws)
{
    if (!ws)
        return;
    free(ws->C);
    msign_ws_free(ws->ms);
    free(ws->pu);
    free(ws->pv);
    free(ws);
}

/* ---- the kernels ---- */

static double sign0(double x)
{
    return (x > 0) - (x < 0); /* sign(0) = 0, as torch.sign */
}

/* Stable rank of C, ||C||_F^2 / ||C||_2^2, with ||C||_2 from 3 power
 * iterations (the paper's adaptive trigger).  The power estimate is a lower
 * bound on ||C||_2, so this overestimates the stable rank slightly. */
static double stable_rank(int m, int n, const double *C, opt_matrix_ws *ws)
{
    double s2 = la_spectral_power(m, n, C, 3, ws->pu, ws->pv);
    double f = la_norm_fro(m, n, C);
    return s2 > 0 ? (f * f) / (s2 * s2) : 0.0;
}

/* LionMuon on one matrix (m x n) at global step t:
 *
 *   C = beta1 M + (1 - beta1) G
 *   if t mod P == 0:  U = 0.2 sqrt(max(m, n)) msign(C),  lr = lr_muon
 *   else:             U = sign(C),                        lr = lr_sign
 *   W <- W (1 - lr wd) - lr U
 *   M <- beta2 M + (1 - beta2) G
 *
 * (P, beta1, beta2) come from opt_effective, so the same code is Lion,
 * Signum, Muon and SignMuon.  With srank_alpha > 0 the step type is chosen
 * per matrix instead: Muon when stable_rank(C) <= alpha min(m, n). */
int opt_lionmuon_matrix(const opt_config *c, long t, double lr_scale,
                        int m, int n, double *W, const double *G, double *M,
                        opt_matrix_ws *ws, int *took_muon, lm_error *e)
{
    long P;
    double beta1, beta2;
    opt_effective(c, &P, &beta1, &beta2);
    size_t mn = (size_t)m * n;
    double *C = ws->C;

    LM_PAR_FOR_SIMD(i, mn, C[i] = beta1 * M[i] + (1 - beta1) * G[i]);

    int muon = c->srank_alpha > 0
                   ? stable_rank(m, n, C, ws) <= c->srank_alpha * LM_MIN(m, n)
                   : opt_is_muon_step(P, t);
    double lr;
    if (muon) {
        if (msign(&c->msign, m, n, C, C, ws->ms, NULL, e) != 0)
            return -1;
        lr = c->lr_muon * lr_scale;
        double scale = 0.2 * sqrt((double)LM_MAX(m, n));
        double decay = 1 - lr * c->weight_decay;
        LM_PAR_FOR_SIMD(i, mn, W[i] = W[i] * decay - lr * scale * C[i]);
    } else {
        lr = c->lr_sign * lr_scale;
        double decay = 1 - lr * c->weight_decay;
        LM_PAR_FOR_SIMD(i, mn, W[i] = W[i] * decay - lr * sign0(C[i]));
    }

    LM_PAR_FOR_SIMD(i, mn, M[i] = beta2 * M[i] + (1 - beta2) * G[i]);
    if (took_muon)
        *took_muon = muon;
    return 0;
}

/* Keller Jordan's Muon: B <- mu B + G; U = msign(G + mu B) sqrt(max(1, m/n));
 * W <- W (1 - lr wd) - lr U, mu = beta1, lr = lr_muon. */
int opt_muon_nesterov_matrix(const opt_config *c, double lr_scale, int m, int n,
                             double *W, const double *G, double *B,
                             opt_matrix_ws *ws, lm_error *e)
{
    size_t mn = (size_t)m * n;
    double mu = c->beta1, *D = ws->C;
    LM_PAR_FOR_SIMD(i, mn, B[i] = mu * B[i] + G[i]; D[i] = G[i] + mu * B[i]);
    if (msign(&c->msign, m, n, D, D, ws->ms, NULL, e) != 0)
        return -1;
    double lr = c->lr_muon * lr_scale;
    double scale = sqrt(fmax(1.0, (double)m / n));
    double decay = 1 - lr * c->weight_decay;
    LM_PAR_FOR_SIMD(i, mn, W[i] = W[i] * decay - lr * scale * D[i]);
    return 0;
}

/* AdamW at global step t, bias-correction count k = t + 1:
 *   m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)      (torch's lerp)
 *   p <- p (1 - lr wd)
 *   paper: p <- p - lr sqrt(1 - b2^k) / (1 - b1^k) * m / (eps + sqrt v)
 *   torch: p <- p - lr / (1 - b1^k) * m / (sqrt v / sqrt(1 - b2^k) + eps)
 * The paper's code adds eps to sqrt(v) before the bias correction. */
void opt_adamw_tensor(const opt_config *c, long t, double lr_scale, size_t n,
                      double *p, const double *g, double *m, double *v)
{
    double b1 = c->adamw_beta1, b2 = c->adamw_beta2, eps = c->adamw_eps;
    double lr = c->lr_adamw * lr_scale;
    double k = (double)(t + 1);
    double bc1 = 1 - pow(b1, k), bc2 = 1 - pow(b2, k);
    double decay = 1 - lr * c->weight_decay;
    int paper = c->adamw_eps_mode == OPT_EPS_PAPER;
    LM_PAR_FOR_SIMD(i, n,
             m[i] += (1 - b1) * (g[i] - m[i]);
             v[i] += (1 - b2) * (g[i] * g[i] - v[i]);
             p[i] *= decay;
             if (paper)
                 p[i] -= (lr * sqrt(bc2) / bc1) * m[i] / (eps + sqrt(v[i]));
             else
                 p[i] -= (lr / bc1) * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps));
}

/* ---- a model's worth of tensors ---- */

struct opt_state {
    opt_config cfg;
    int n, n_matrix;
    opt_tensor *t;
    double **buf0, **buf1;   /* per tensor: momentum / exp_avg, exp_avg_sq */
    opt_matrix_ws **ws;      /* one workspace per OpenMP thread */
    int nws;
    size_t bytes;
};

opt_state *opt_alloc(const opt_config *c, int n, const opt_tensor *t)
{
    opt_state *s = lm_calloc(1, sizeof *s);
    s->cfg = *c;
    s->n = n;
    s->t = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *s->t);
    memcpy(s->t, t, (size_t)n * sizeof *t);
    s->buf0 = lm_calloc((size_t)LM_MAX(n, 1), sizeof *s->buf0);
    s->buf1 = lm_calloc((size_t)LM_MAX(n, 1), sizeof *s->buf1);
    int maxr = 1, maxc = 1;
    for (int i = 0; i < n; i++) {
        opt_tensor *x = &s->t[i];
        if (c->kind == OPT_ADAMW)
            x->rule = OPT_RULE_ADAMW;
        size_t numel = (size_t)x->rows * x->cols;
        s->buf0[i] = lm_calloc(LM_MAX(numel, 1), sizeof(double));
        s->bytes += numel * sizeof(double);
        if (x->rule == OPT_RULE_ADAMW) {
            s->buf1[i] = lm_calloc(LM_MAX(numel, 1), sizeof(double));
            s->bytes += numel * sizeof(double);
        } else {
            /* one workspace serves every matrix: size it for the largest
             * short and long sides (the msign's wide orientation) */
            maxr = LM_MAX(maxr, LM_MIN(x->rows, x->cols));
            maxc = LM_MAX(maxc, LM_MAX(x->rows, x->cols));
        }
    }
    /* every matrix fits the wide maxr x maxc box, so its area bounds them all;
     * one workspace per thread, for opt_step's matrices-in-parallel */
    s->nws = LM_MAX(omp_get_max_threads(), 1);
    s->ws = lm_calloc((size_t)s->nws, sizeof *s->ws);
    for (int k = 0; k < s->nws; k++)
        s->ws[k] = opt_matrix_ws_alloc(maxr, maxc);
    for (int i = 0; i < n; i++)
        s->n_matrix += s->t[i].rule == OPT_RULE_MATRIX;
    return s;
}

void opt_free(opt_state *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        free(s->buf0[i]);
        free(s->buf1[i]);
    }
    free(s->buf0);
    free(s->buf1);
    free(s->t);
    for (int k = 0; k < s->nws; k++)
        opt_matrix_ws_free(s->ws[k]);
    free(s->ws);
    free(s);
}

double *opt_buffer(opt_state *s, int i, int which)
{
    if (i < 0 || i >= s->n)
        return NULL;
    return which == 0 ? s->buf0[i] : s->buf1[i];
}

size_t opt_state_bytes(const opt_state *s)
{
    return s->bytes;
}

int opt_step_one(opt_state *s, int i, long t, double lr_scale, int *took_muon, lm_error *e)
{
    const opt_config *c = &s->cfg;
    opt_tensor *x = &s->t[i];
    size_t numel = (size_t)x->rows * x->cols;
    *took_muon = -1;
    if (x->rule == OPT_RULE_ADAMW) {
        opt_adamw_tensor(c, t, lr_scale, numel, x->w, x->g, s->buf0[i], s->buf1[i]);
        return 0;
    }
    int muon = 1, me = omp_get_thread_num();
    opt_matrix_ws *ws = s->ws[me < s->nws ? me : 0];
    int rc = c->kind == OPT_MUON_NESTEROV
                 ? opt_muon_nesterov_matrix(c, lr_scale, x->rows, x->cols, x->w, x->g,
                                            s->buf0[i], ws, e)
                 : opt_lionmuon_matrix(c, t, lr_scale, x->rows, x->cols, x->w, x->g,
                                       s->buf0[i], ws, &muon, e);
    if (rc != 0)
        return lm_wrap(e, "%s", x->name ? x->name : "?");
    *took_muon = muon;
    return 0;
}

int opt_check_grads(const opt_state *s, lm_error *e)
{
    for (int i = 0; i < s->n; i++) {
        size_t numel = (size_t)s->t[i].rows * s->t[i].cols;
        long bad = lm_first_nonfinite(numel, s->t[i].g);
        if (bad >= 0)
            return lm_fail(e, "gradient of %s: non-finite value at element %ld",
                           s->t[i].name ? s->t[i].name : "?", bad);
    }
    return 0;
}

/* Several matrices: each one's step (its msign above all) on one thread
 * with single-threaded BLAS, the matrices spread over the team.  Small
 * matrices keep every core busy this way, where a threaded BLAS call on
 * each would not, and each matrix's arithmetic is that of a one-thread run,
 * so the result does not depend on the thread count. */
static int step_parallel(opt_state *s, long t, double lr_scale, int *nm, int *nl, lm_error *e)
{
    int blas = openblas_get_num_threads(), fail = 0, m = 0, l = 0;
    lm_error first = {{0}};
    openblas_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->nws) reduction(+ : m, l)
    for (int i = 0; i < s->n; i++) {
        int muon;
        lm_error le;
        if (opt_step_one(s, i, t, lr_scale, &muon, &le) != 0) {
#pragma omp critical
            if (!fail) {
                fail = 1;
                first = le;
            }
            continue;
        }
        m += muon == 1;
        l += muon == 0;
    }
    openblas_set_num_threads(blas);
    *nm = m;
    *nl = l;
    if (fail && e)
        *e = first;
    return fail ? -1 : 0;
}

int opt_step(opt_state *s, long t, double lr_scale, opt_step_info *info, lm_error *e)
{
    if (opt_check_grads(s, e) != 0)
        return -1;
    int nm = 0, nl = 0;
    if (s->nws > 1 && s->n_matrix > 1 && !omp_in_parallel()) {
        if (step_parallel(s, t, lr_scale, &nm, &nl, e) != 0)
            return -1;
    } else {
        for (int i = 0; i < s->n; i++) {
            int muon;
            if (opt_step_one(s, i, t, lr_scale, &muon, e) != 0)
                return -1;
            nm += muon == 1;
            nl += muon == 0;
        }
    }
    if (info) {
        info->n_muon = nm;
        info->n_lion = nl;
    }
    return 0;
}

int opt_ntensors(const opt_state *s)
{
    return s->n;
}

/* ---- schedule and clipping ---- */

double opt_lr_schedule(long k, long warmup, long iterations)
{
    if (k < warmup)
        return 0.01 + 0.99 * (double)k / warmup;
    if (iterations <= warmup)
        return 1.0;
    double frac = (double)(k - warmup) / (double)(iterations - warmup);
    if (frac > 1)
        frac = 1;
    return 0.5 * (1 + cos(M_PI * frac));
}

double opt_clip_grad_norm(int n, const opt_tensor *t, double max_norm)
{
    /* the 2-norm of the concatenation, as the 2-norm of the per-tensor norms */
    double sq = 0;
    for (int i = 0; i < n; i++) {
        double ni = cblas_dnrm2(t[i].rows * t[i].cols, t[i].g, 1);
        sq += ni * ni;
    }
    double total = sqrt(sq);
    if (max_norm > 0) {
        double coef = max_norm / (total + 1e-6);
        if (coef < 1)
            for (int i = 0; i < n; i++)
                cblas_dscal(t[i].rows * t[i].cols, coef, t[i].g, 1);
    }
    return total;
}
