/* model.c - GPT-2 and LLaMA in double: layers (forward next to backward),
 * then the transformer that strings them together.
 *
 * Shapes: B batch, T sequence, C n_embd, nh heads of size hs = C / nh,
 * H the MLP width, V the vocabulary.  Activations are row-major (B, T, ...)
 * arrays.  Every matrix product is a cblas_dgemm; loops remain only for
 * elementwise and per-row work.
 *
 * Threading: one OpenMP team does all the parallel work of a forward or a
 * backward.  Each matrix product is split by rows of its output over the
 * team (gemm_rows), each slice on one BLAS thread; the attention runs one
 * (batch, head) pair per thread; per-row and elementwise loops split their
 * rows (LM_PAR_FOR, core/par.h).  OpenBLAS is set to one thread for the duration, so two
 * thread pools never compete for the cores (a spinning idle pool steals the
 * core that the other needs, and on 2 cores that halves the speed).  Every
 * schedule is static and every value is computed by one thread in a fixed
 * order, so the result is the same bytes run after run; column sums (bias
 * and gain gradients) run over rows in order within a block of columns.
 * Forward and backward allocate nothing: every buffer, the per-thread
 * attention scratch included, comes from model_alloc.
 */
#include "lionmuon/model.h"

#include "core/blas.h"
#include "core/par.h"
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LN_EPS MODEL_NORM_EPS

#define ROPE_THETA MODEL_ROPE_THETA
/* Column sums (bias and gain gradients) run over blocks of this many
 * columns, each block on one thread, rows in order inside a block. */
#define COL_BLOCK 32

/* C = alpha op(A) op(B) + beta C (row-major, C is M x N), the M rows of C
 * split over the team in contiguous slices (multiples of 8 rows, the BLAS
 * kernels' unroll), one BLAS call per slice.  Row i of op(A) is row i of A
 * (ta = NoTrans) or column i of A (ta = Trans). */
static void gemm_rows(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K,
                      double alpha, const double *A, int lda, const double *B, int ldb,
                      double beta, double *C, int ldc)
{
    if (!lm_par_use_team((size_t)M * N * K / 64)) {
        cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        long blocks = (M + 7) / 8;
        int r0 = (int)LM_MIN((long)M, 8 * (blocks * id / nt));
        int r1 = (int)LM_MIN((long)M, 8 * (blocks * (id + 1) / nt));
        if (r1 > r0)
            cblas_dgemm(CblasRowMajor, ta, tb, r1 - r0, N, K, alpha,
                        A + (ta == CblasNoTrans ? (size_t)r0 * lda : (size_t)r0), lda, B,
                        ldb, beta, C + (size_t)r0 * ldc, ldc);
    }
}

/* OpenBLAS on one thread while the team does the splitting (see the top of
 * the file); returns the count to restore.  Nothing to do when it is on one
 * thread already (OPENBLAS_NUM_THREADS=1, the sweeps' setting), or when it
 * is the OpenMP build (libopenblas0-openmp), which runs a call made inside
 * a parallel region on one thread by itself and whose setter would change
 * the team's size. */
static int blas_single_begin(void)
{
    int n = openblas_get_num_threads();
    if (openblas_get_parallel() == OPENBLAS_OPENMP)
        return 1;
    if (n > 1)
        openblas_set_num_threads(1);
    return n;
}

static void blas_single_end(int n)
{
    if (n > 1)
        openblas_set_num_threads(n);
}

/* ------------------------------------------------------------------------ */
/* Views into the parameter (or gradient) buffer: one struct for the values
 * and one, identically laid out, for the gradients.  A NULL pointer is a
 * tensor the configuration does not have (biases, wpe for LLaMA, ...). */
typedef struct {
    double *ln1w, *ln1b;         /* [C] */
    double *qkvw, *qkvb;         /* [3C, C], [3C] */
    double *attprojw, *attprojb; /* [C, C], [C] */
    double *ln2w, *ln2b;         /* [C] */
    double *fcw, *fcb;           /* GPT-2 c_fc [4C, C], [4C] */
    double *w1, *w2;             /* LLaMA [H, C] each */
    double *fcprojw, *fcprojb;   /* mlp.c_proj [C, H], [C] */
} layer_view;

typedef struct {
    double *wte, *wpe, *lnfw, *lnfb;
    layer_view *h; /* n_layer entries */
} weights_view;

/* Activations of one block, saved by the forward for the backward. */
typedef struct {
    double *ln1, *ln1_mean, *ln1_rstd; /* (B,T,C), (B,T), (B,T) */
    double *qkv;                       /* (B,T,3C), q and k after RoPE */
    double *att;                       /* (B,nh,T,T) softmax probabilities */
    double *atty;                      /* (B,T,C) heads re-assembled */
    double *res2;                      /* (B,T,C) x + attn(ln_1(x)) */
    double *ln2, *ln2_mean, *ln2_rstd;
    double *h1;   /* (B,T,H) GPT-2: c_fc output before GELU; LLaMA: w1 x */
    double *h2;   /* (B,T,H) LLaMA: w2 x; GPT-2: 1 + erf(h1 / sqrt 2), kept
                     by the GELU forward for its backward */
    double *hg;   /* (B,T,H) GPT-2: gelu(h1); LLaMA: silu(h1) * h2 */
    double *res3; /* (B,T,C) block output */
} layer_acts;

struct model {
    model_config cfg;
    int hs, H;
    int nparam;
    model_param *param;
    size_t num_params;
    double *params_memory, *grads_memory;
    weights_view p, g;

    int B, T;
    int nthr;                         /* OpenMP threads the scratch is sized for */
    double *acts_memory;
    double *encoded;                  /* (B,T,C) */
    layer_acts *la;                   /* n_layer */
    double *lnf, *lnf_mean, *lnf_rstd;
    double *logits;                   /* (B,T,V) */
    double *probs;                    /* (B,T,V), then dlogits in backward */
    double *row_loss;                 /* (B,T) */
    double *rope_cos, *rope_sin;      /* (T, hs/2) */
    /* backward scratch, shared by the layers */
    double *dres, *dln, *dqkv, *datty, *dh1, *dh2, *dhg;
    double *datt;                     /* (nthr,T,T): one (T,T) per thread */
    int *inputs, *targets;            /* copies of the last batch */
    int have_targets;
    long n_valid;
    double loss;
};

/* ------------------------------------------------------------------------ */
/* Layers.  Each forward is followed by its backward. */

/* encoder: out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]   (wpe NULL: no positions)
 * (B,T) -> (B,T,C) */
static void encoder_row(double *o, const double *we, const double *pe, int C)
{
    if (pe) {
#pragma omp simd
        for (int i = 0; i < C; i++)
            o[i] = we[i] + pe[i];
    } else {
        for (int i = 0; i < C; i++)
            o[i] = we[i] + 0.0;
    }
}

static void encoder_forward(double *out, const int *inp, const double *wte,
                            const double *wpe, int B, int T, int C)
{
    LM_PAR_FOR(bt, (long)B * T, (size_t)B * T * C,
             encoder_row(out + bt * C, wte + (size_t)inp[bt] * C,
                         wpe ? wpe + (size_t)(bt % T) * C : NULL, C));
}

/* dwte[inp[b,t],:] += dout[b,t,:];  dwpe[t,:] += dout[b,t,:]
 * Scatter-adds: run serially over positions so the summation order is fixed. */
static void encoder_backward(double *dwte, double *dwpe, const double *dout,
                             const int *inp, int B, int T, int C)
{
    for (int bt = 0; bt < B * T; bt++) {
        const double *d = dout + (size_t)bt * C;
        double *dw = dwte + (size_t)inp[bt] * C;
#pragma omp simd
        for (int i = 0; i < C; i++)
            dw[i] += d[i];
        if (dwpe) {
            double *dp = dwpe + (size_t)(bt % T) * C;
#pragma omp simd
            for (int i = 0; i < C; i++)
                dp[i] += d[i];
        }
    }
}

/* LayerNorm over the last axis (torch.nn.LayerNorm, biased variance):
 *   mu = mean(x), rstd = 1 / sqrt(mean((x - mu)^2) + eps)
 *   y = (x - mu) rstd w + b          (b NULL: no bias)
 * (N,C) -> (N,C), N = B*T */
static void layernorm_row(double *o, double *mean, double *rstd, const double *x,
                          const double *w, const double *b, int C)
{
    double m = 0;
    for (int i = 0; i < C; i++)
        m += x[i];
    m /= C;
    double v = 0;
    for (int i = 0; i < C; i++)
        v += (x[i] - m) * (x[i] - m);
    v /= C;
    double s = 1.0 / sqrt(v + LN_EPS);
    if (b) {
#pragma omp simd
        for (int i = 0; i < C; i++)
            o[i] = (x[i] - m) * s * w[i] + b[i];
    } else {
#pragma omp simd
        for (int i = 0; i < C; i++)
            o[i] = (x[i] - m) * s * w[i] + 0.0;
    }
    *mean = m;
    *rstd = s;
}

static void layernorm_forward(double *out, double *mean, double *rstd,
                              const double *inp, const double *w, const double *b,
                              int N, int C)
{
    LM_PAR_FOR(r, N, (size_t)N * C,
             layernorm_row(out + r * C, mean + r, rstd + r, inp + r * C, w, b, C));
}

/* Gain and bias gradients of a norm, columns [i0, i1):
 *   dw[i] = sum_rows dy * (x - mu) rstd;   db[i] = sum_rows dy
 * (mean NULL: RMSNorm, mu = 0; db NULL: no bias).  Rows in order. */
static void norm_param_grads(double *dw, double *db, const double *dout, const double *inp,
                             const double *mean, const double *rstd, int N, int C,
                             int i0, int i1)
{
    for (int i = i0; i < i1; i++)
        dw[i] = 0.0;
    if (db)
        for (int i = i0; i < i1; i++)
            db[i] = 0.0;
    for (int r = 0; r < N; r++) {
        const double *dy = dout + (size_t)r * C, *x = inp + (size_t)r * C;
        double s = rstd[r];
        if (mean) {
            double m = mean[r];
#pragma omp simd
            for (int i = i0; i < i1; i++)
                dw[i] += dy[i] * (x[i] - m) * s;
        } else {
#pragma omp simd
            for (int i = i0; i < i1; i++)
                dw[i] += dy[i] * x[i] * s;
        }
        if (db) {
#pragma omp simd
            for (int i = i0; i < i1; i++)
                db[i] += dy[i];
        }
    }
}

static void norm_param_grads_all(double *dw, double *db, const double *dout,
                                 const double *inp, const double *mean,
                                 const double *rstd, int N, int C)
{
    LM_PAR_FOR(j, (C + COL_BLOCK - 1) / COL_BLOCK, (size_t)N * C,
             norm_param_grads(dw, db, dout, inp, mean, rstd, N, C, (int)j * COL_BLOCK,
                              LM_MIN(C, ((int)j + 1) * COL_BLOCK)));
}

/* With n = (x - mu) rstd and dn = dy * w:
 *   dx += rstd (dn - mean(dn) - n mean(dn n))
 *   dw = sum_rows dy * n;   db = sum_rows dy   (written, not accumulated) */
static void layernorm_backward_row(double *dx, const double *dy, const double *x,
                                   const double *w, double m, double s, int C)
{
    double mdn = 0, mdnn = 0;
    for (int i = 0; i < C; i++) {
        double n = (x[i] - m) * s, dn = dy[i] * w[i];
        mdn += dn;
        mdnn += dn * n;
    }
    mdn /= C;
    mdnn /= C;
#pragma omp simd
    for (int i = 0; i < C; i++) {
        double n = (x[i] - m) * s, dn = dy[i] * w[i];
        dx[i] += s * (dn - mdn - n * mdnn);
    }
}

static void layernorm_backward(double *dinp, double *dw, double *db,
                               const double *dout, const double *inp,
                               const double *w, const double *mean,
                               const double *rstd, int N, int C)
{
    LM_PAR_FOR(r, N, (size_t)N * C,
             layernorm_backward_row(dinp + r * C, dout + r * C, inp + r * C, w, mean[r],
                                    rstd[r], C));
    norm_param_grads_all(dw, db, dout, inp, mean, rstd, N, C);
}

/* RMSNorm (LLaMA): rstd = 1 / sqrt(mean(x^2) + eps);  y = x rstd w
 * (N,C) -> (N,C) */
static void rmsnorm_row(double *o, double *rstd, const double *x, const double *w, int C)
{
    double ms = 0;
    for (int i = 0; i < C; i++)
        ms += x[i] * x[i];
    double s = 1.0 / sqrt(ms / C + LN_EPS);
#pragma omp simd
    for (int i = 0; i < C; i++)
        o[i] = x[i] * s * w[i];
    *rstd = s;
}

static void rmsnorm_forward(double *out, double *rstd, const double *inp,
                            const double *w, int N, int C)
{
    LM_PAR_FOR(r, N, (size_t)N * C, rmsnorm_row(out + r * C, rstd + r, inp + r * C, w, C));
}

/* With n = x rstd and dn = dy * w:  dx += rstd (dn - n mean(dn n));
 * dw = sum_rows dy * n  (written, not accumulated) */
static void rmsnorm_backward_row(double *dx, const double *dy, const double *x,
                                 const double *w, double s, int C)
{
    double mdnn = 0;
    for (int i = 0; i < C; i++)
        mdnn += dy[i] * w[i] * x[i] * s;
    mdnn /= C;
#pragma omp simd
    for (int i = 0; i < C; i++)
        dx[i] += s * (dy[i] * w[i] - x[i] * s * mdnn);
}

static void rmsnorm_backward(double *dinp, double *dw, const double *dout,
                             const double *inp, const double *w,
                             const double *rstd, int N, int C)
{
    LM_PAR_FOR(r, N, (size_t)N * C,
             rmsnorm_backward_row(dinp + r * C, dout + r * C, inp + r * C, w, rstd[r], C));
    norm_param_grads_all(dw, NULL, dout, inp, NULL, rstd, N, C);
}

/* Linear (nn.Linear layout): out = inp W^T + b,  W [OC, IC]
 * (N,IC) -> (N,OC) */
static void add_bias_row(double *o, const double *b, int OC)
{
#pragma omp simd
    for (int i = 0; i < OC; i++)
        o[i] += b[i];
}

static void matmul_forward(double *out, const double *inp, const double *W,
                           const double *b, int N, int IC, int OC)
{
    gemm_rows(CblasNoTrans, CblasTrans, N, OC, IC, 1.0, inp, IC, W, IC, 0.0, out, OC);
    if (b)
        LM_PAR_FOR(r, N, (size_t)N * OC, add_bias_row(out + r * OC, b, OC));
}

/* db[o] = sum_rows dout[:, o] for o in [o0, o1), rows in order */
static void bias_grads(double *db, const double *dout, int N, int OC, int o0, int o1)
{
    for (int o = o0; o < o1; o++)
        db[o] = 0.0;
    for (int r = 0; r < N; r++) {
        const double *d = dout + (size_t)r * OC;
#pragma omp simd
        for (int o = o0; o < o1; o++)
            db[o] += d[o];
    }
}

/* dinp = dout W (overwritten, dinp may be NULL);  dW = dout^T inp;
 * db = sum_rows dout  (the parameter gradients written, not accumulated:
 * each weight has one use in the model, the tied wte aside, whose second
 * use the encoder's backward adds) */
static void matmul_backward(double *dinp, double *dW, double *db,
                            const double *dout, const double *inp, const double *W,
                            int N, int IC, int OC)
{
    if (dinp)
        gemm_rows(CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0, dout, OC, W, IC, 0.0, dinp,
                  IC);
    gemm_rows(CblasTrans, CblasNoTrans, OC, IC, N, 1.0, dout, OC, inp, IC, 0.0, dW, IC);
    if (db)
        LM_PAR_FOR(j, (OC + COL_BLOCK - 1) / COL_BLOCK, (size_t)N * OC,
                 bias_grads(db, dout, N, OC, (int)j * COL_BLOCK,
                            LM_MIN(OC, ((int)j + 1) * COL_BLOCK)));
}

/* RoPE (LLaMA), on q and k in place after the head split; pairs are ADJACENT
 * elements (2i, 2i+1) of a head, angle t theta^(-2i/hs):
 *   forward  (a, b) -> (a cos - b sin, a sin + b cos)
 * The rotation is orthogonal, so the backward rotates the gradient by the
 * opposite angle:
 *   backward (da, db) -> (da cos + db sin, -da sin + db cos)
 * qkv (B,T,3C): q at offset 0, k at offset C of each row; dir = +1 forward,
 * -1 backward. */
static void rope_row(double *row, const double *c, const double *s, int C, int nh, int dir)
{
    int hs = C / nh, half = hs / 2;
    for (int part = 0; part < 2; part++)
        for (int h = 0; h < nh; h++) {
            double *x = row + part * C + h * hs;
            if (dir > 0)
                for (int i = 0; i < half; i++) {
                    double a = x[2 * i], b = x[2 * i + 1];
                    x[2 * i] = a * c[i] - b * s[i];
                    x[2 * i + 1] = a * s[i] + b * c[i];
                }
            else
                for (int i = 0; i < half; i++) {
                    double a = x[2 * i], b = x[2 * i + 1];
                    x[2 * i] = a * c[i] + b * s[i];
                    x[2 * i + 1] = -a * s[i] + b * c[i];
                }
        }
}

static void rope_apply_all(double *qkv, const double *cosb, const double *sinb,
                           int B, int T, int C, int nh, int dir)
{
    int half = C / nh / 2;
    LM_PAR_FOR(bt, (long)B * T, (size_t)B * T * C,
             rope_row(qkv + bt * 3 * C, cosb + (bt % T) * half, sinb + (bt % T) * half,
                      C, nh, dir));
}

void model_rope_apply(int hs, int t, double *x)
{
    for (int i = 0; i < hs / 2; i++) {
        double ang = t * pow(ROPE_THETA, -2.0 * i / hs);
        double c = cos(ang), s = sin(ang), a = x[2 * i], b = x[2 * i + 1];
        x[2 * i] = a * c - b * s;
        x[2 * i + 1] = a * s + b * c;
    }
}

/* Causal products by blocks.  The probabilities P (and dS) are zero above
 * the diagonal, so with the T rows split at s (a multiple of 8 near T/2)
 * the block of rows [0, s) and columns [s, T) never matters, and each of
 * the attention's six products per (batch, head) does 3/4 of the full work.
 * The blocks left out only ever add exact zeros, so the results are the
 * bits of the unsplit products.  No split below T = 32. */
static int causal_split(int T)
{
    return T >= 32 ? T / 16 * 8 : 0;
}

/* X (T x T) = alpha A B^T, A and B T x K (row strides la, lb): the blocks on
 * and below the split's diagonal only (rows [0, s), columns [s, T) are not
 * written). */
static void causal_abt(int T, int K, double alpha, const double *A, int la, const double *B,
                       int lb, double *X)
{
    int s = causal_split(T);
    if (s)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s, s, K, alpha, A, la, B, lb, 0.0,
                    X, T);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T - s, T, K, alpha, A + (size_t)s * la,
                la, B, lb, 0.0, X + (size_t)s * T, T);
}

/* Y (T x K, row stride ly) = L B, L (T x T) zero above its diagonal. */
static void causal_lb(int T, int K, const double *L, const double *B, int lb, double *Y, int ly)
{
    int s = causal_split(T);
    if (s)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s, K, s, 1.0, L, T, B, lb, 0.0, Y,
                    ly);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T - s, K, T, 1.0, L + (size_t)s * T, T,
                B, lb, 0.0, Y + (size_t)s * ly, ly);
}

/* Y (T x K, row stride ly) = L^T B, L (T x T) zero above its diagonal. */
static void causal_ltb(int T, int K, const double *L, const double *B, int lb, double *Y, int ly)
{
    int s = causal_split(T);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s ? s : T, K, T, 1.0, L, T, B, lb, 0.0,
                Y, ly);
    if (s)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T - s, K, T - s, 1.0,
                    L + (size_t)s * T + s, T, B + (size_t)s * lb, lb, 0.0, Y + (size_t)s * ly, ly);
}

/* Causal self-attention of the already projected qkv (B,T,3C) -> (B,T,C).
 * Per (b, head), with q, k, v the (T, hs) slices (row stride 3C):
 *   P = softmax_causal(q k^T / sqrt(hs))   (row max subtracted; t2 > t -> 0)
 *   y = P v                                 written at column h*hs of out
 * (the products by blocks, causal_abt and causal_lb)
 * att (B,nh,T,T) keeps P for the backward.  The (b, head) pairs are
 * independent: one per thread, each product on one BLAS thread. */
static void attention_head_forward(double *out, double *P, const double *q, int T, int C,
                                   int hs)
{
    const double *k = q + C, *v = q + 2 * C;
    double scale = 1.0 / sqrt((double)hs);
    causal_abt(T, hs, scale, q, 3 * C, k, 3 * C, P);
    for (int t = 0; t < T; t++) {
        double *row = P + (size_t)t * T, mx = row[0], sum = 0;
        for (int t2 = 1; t2 <= t; t2++)
            if (row[t2] > mx)
                mx = row[t2];
        for (int t2 = 0; t2 <= t; t2++) {
            row[t2] = exp(row[t2] - mx);
            sum += row[t2];
        }
        for (int t2 = 0; t2 <= t; t2++)
            row[t2] /= sum;
        for (int t2 = t + 1; t2 < T; t2++)
            row[t2] = 0.0;
    }
    causal_lb(T, hs, P, v, 3 * C, out, C);
}

static void attention_forward(double *out, double *att, const double *qkv,
                              int B, int T, int C, int nh)
{
    int hs = C / nh;
    LM_PAR_FOR(bh, (long)B * nh, (size_t)B * T * T * C,
             attention_head_forward(out + (size_t)(bh / nh) * T * C + (bh % nh) * hs,
                                    att + (size_t)bh * T * T,
                                    qkv + (size_t)(bh / nh) * T * 3 * C + (bh % nh) * hs,
                                    T, C, hs));
}

/* Backward of the above, per (b, head), dy the (T, hs) slice of dout:
 *   dP = dy v^T;   dv = P^T dy
 *   dS = P * (dP - rowsum(P * dP)) / sqrt(hs)    (softmax backward; 0 above
 *                                                 the diagonal since P is)
 *   dq = dS k;     dk = dS^T q
 * dqkv (B,T,3C) is overwritten.  dP: a (T,T) scratch of the thread, which
 * then holds dS. */
static void attention_head_backward(double *dq, double *dP, const double *dy,
                                    const double *q, const double *P, int T, int C, int hs)
{
    const double *k = q + C, *v = q + 2 * C;
    double *dk = dq + C, *dv = dq + 2 * C;
    double scale = 1.0 / sqrt((double)hs);
    causal_abt(T, hs, 1.0, dy, C, v, 3 * C, dP);
    causal_ltb(T, hs, P, dy, C, dv, 3 * C);
    for (int t = 0; t < T; t++) {
        const double *p = P + (size_t)t * T;
        double *dp = dP + (size_t)t * T, dot = 0;
        for (int t2 = 0; t2 <= t; t2++)
            dot += p[t2] * dp[t2];
        for (int t2 = 0; t2 <= t; t2++)
            dp[t2] = scale * p[t2] * (dp[t2] - dot);
        for (int t2 = t + 1; t2 < T; t2++)
            dp[t2] = 0.0;
    }
    causal_lb(T, hs, dP, k, 3 * C, dq, 3 * C);
    causal_ltb(T, hs, dP, q, 3 * C, dk, 3 * C);
}

static void attention_backward_pair(double *dqkv, double *dP, const double *dout,
                                    const double *qkv, const double *att, long bh, int T,
                                    int C, int nh)
{
    int hs = C / nh;
    size_t b = (size_t)(bh / nh), h = (size_t)(bh % nh);
    attention_head_backward(dqkv + b * T * 3 * C + h * hs, dP, dout + b * T * C + h * hs,
                            qkv + b * T * 3 * C + h * hs, att + (size_t)bh * T * T, T, C,
                            hs);
}

/* scratch: nthr (T,T) blocks, one per thread of the team */
static void attention_backward(double *dqkv, double *scratch, int nthr, const double *dout,
                               const double *qkv, const double *att, int B, int T, int C,
                               int nh)
{
    long n = (long)B * nh;
    if (!lm_par_use_team((size_t)B * T * T * C) || nthr < 2) {
        for (long bh = 0; bh < n; bh++)
            attention_backward_pair(dqkv, scratch, dout, qkv, att, bh, T, C, nh);
        return;
    }
#pragma omp parallel num_threads(nthr)
    {
        double *dP = scratch + (size_t)omp_get_thread_num() * T * T;
#pragma omp for schedule(static)
        for (long bh = 0; bh < n; bh++)
            attention_backward_pair(dqkv, dP, dout, qkv, att, bh, T, C, nh);
    }
}

/* GELU, the exact form of nn.GELU(): y = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
 * e1 = 1 + erf(x / sqrt 2) is kept for the backward. */
static void gelu_forward(double *out, double *e1, const double *inp, size_t n)
{
    LM_PAR_FOR(i, n, 16 * n,
             e1[i] = 1.0 + erf(inp[i] * M_SQRT1_2);
             out[i] = 0.5 * inp[i] * e1[i]);
}

/* dy/dx = Phi(x) + x phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi);  dinp = dout dy/dx */
static void gelu_backward(double *dinp, const double *inp, const double *e1,
                          const double *dout, size_t n)
{
    const double inv_sqrt_2pi = 0.5 * M_2_SQRTPI * M_SQRT1_2;
    LM_PAR_FOR(i, n, 16 * n,
             double x = inp[i];
             double d = 0.5 * e1[i] + x * inv_sqrt_2pi * exp(-0.5 * x * x);
             dinp[i] = dout[i] * d);
}

/* SwiGLU gate (LLaMA MLP): y = silu(a) * b,  silu(a) = a sigma(a) */
static void swiglu_forward(double *out, const double *a, const double *b, size_t n)
{
    LM_PAR_FOR(i, n, 16 * n,
             double s = 1.0 / (1.0 + exp(-a[i]));
             out[i] = a[i] * s * b[i]);
}

/* da = dy b sigma(a) (1 + a (1 - sigma(a)));  db = dy silu(a) */
static void swiglu_backward(double *da, double *db, const double *a, const double *b,
                            const double *dout, size_t n)
{
    LM_PAR_FOR(i, n, 16 * n,
             double s = 1.0 / (1.0 + exp(-a[i]));
             da[i] = dout[i] * b[i] * s * (1.0 + a[i] * (1.0 - s));
             db[i] = dout[i] * a[i] * s);
}

/* out = a + b (the residual connection); its backward passes the gradient to
 * both branches, which the transformer does by accumulating into one buffer.
 * Also used as out += b (a = out). */
static void add_block(double *out, const double *a, const double *b, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

static void residual_forward(double *out, const double *a, const double *b, size_t n)
{
    /* in blocks of 4096, so the simd loop inside stays contiguous */
    LM_PAR_FOR(j, (n + 4095) / 4096, n,
             size_t i0 = (size_t)j * 4096;
             add_block(out + i0, a + i0, b + i0, LM_MIN(n - i0, (size_t)4096)));
}

/* Softmax and cross-entropy per row (B*T rows of V logits):
 *   p = softmax(z) (max subtracted);  loss_r = logsumexp(z) - z[target]
 * rows with target -1 get loss 0 and are not counted. */
static void crossentropy_row(double *p, double *row_loss, const double *z, int target, int V)
{
    double mx = z[0], sum = 0;
    for (int i = 1; i < V; i++)
        if (z[i] > mx)
            mx = z[i];
    for (int i = 0; i < V; i++) {
        p[i] = exp(z[i] - mx);
        sum += p[i];
    }
#pragma omp simd
    for (int i = 0; i < V; i++)
        p[i] /= sum;
    *row_loss = target >= 0 ? mx + log(sum) - z[target] : 0.0;
}

static void crossentropy_forward(double *probs, double *row_loss, const double *logits,
                                 const int *targets, int N, int V)
{
    LM_PAR_FOR(r, N, 16 * (size_t)N * V,
             crossentropy_row(probs + r * V, row_loss + r, logits + r * V,
                              targets ? targets[r] : -1, V));
}

/* d loss / d z = (p - onehot(target)) / n_valid on counted rows, 0 on the
 * others; written over probs. */
static void crossentropy_backward_row(double *d, int target, int V, double inv)
{
    if (target < 0) {
        memset(d, 0, sizeof(double) * V);
        return;
    }
#pragma omp simd
    for (int i = 0; i < V; i++)
        d[i] *= inv;
    d[target] -= inv;
}

static void crossentropy_backward(double *dlogits, const int *targets, int N, int V,
                                  long n_valid)
{
    double inv = n_valid > 0 ? 1.0 / (double)n_valid : 0.0;
    LM_PAR_FOR(r, N, (size_t)N * V,
             crossentropy_backward_row(dlogits + r * V, targets[r], V, inv));
}

/* ------------------------------------------------------------------------ */
/* Configuration and the parameter list. */

model_config model_default_config(model_kind kind, int n_layer, int n_head,
                                  int n_embd, int vocab_size, int block_size)
{
    model_config c = {kind, n_layer, n_head, n_embd, vocab_size, block_size, 0, 256};
    return c;
}

static const char *const MODEL_KIND_NAMES[] = {"gpt2", "llama"};

const char *model_kind_name(model_kind k)
{
    return (unsigned)k < 2u ? MODEL_KIND_NAMES[k] : "?";
}

int model_kind_parse(const char *name, model_kind *out)
{
    int i = lm_name_lookup(MODEL_KIND_NAMES, 2, name);
    if (i < 0)
        return -1;
    *out = (model_kind)i;
    return 0;
}

int model_config_check(const model_config *c, lm_error *e)
{
    if (c->n_layer < 1)
        return lm_fail(e, "--n-layer must be >= 1 (got %d)", c->n_layer);
    if (c->n_head < 1)
        return lm_fail(e, "--n-head must be >= 1 (got %d)", c->n_head);
    if (c->n_embd < 1)
        return lm_fail(e, "--n-embd must be >= 1 (got %d)", c->n_embd);
    if (c->n_embd % c->n_head)
        return lm_fail(e, "--n-embd %d is not divisible by --n-head %d", c->n_embd,
                       c->n_head);
    if (c->vocab_size < 1)
        return lm_fail(e, "--vocab-size must be >= 1 (got %d)", c->vocab_size);
    if (c->block_size < 1)
        return lm_fail(e, "--seq-len must be >= 1 (got %d)", c->block_size);
    if (c->kind == MODEL_LLAMA) {
        if ((c->n_embd / c->n_head) % 2)
            return lm_fail(e, "--n-embd / --n-head = %d: RoPE needs an even head size",
                           c->n_embd / c->n_head);
        if (c->bias)
            return lm_fail(e, "--bias: the LLaMA model has no biases");
        if (c->multiple_of < 1)
            return lm_fail(e, "--multiple-of must be >= 1 (got %d)", c->multiple_of);
    }
    if (c->kind == MODEL_LLAMA && model_mlp_hidden(c) < 1)
        return lm_fail(e, "--multiple-of %d: the SwiGLU width multiple_of * "
                          "ceil(floor(8 C / 3) / multiple_of) with C = %d does not fit an int",
                       c->multiple_of, c->n_embd);
    /* keep every index within int and the buffers sane: the embedding, the
     * attention (4 C^2) and MLP (3 C H at most) matrices of every block */
    double H = c->kind == MODEL_GPT2 ? 4.0 * c->n_embd : model_mlp_hidden(c);
    double big = (double)c->vocab_size * c->n_embd +
                 (double)c->n_layer * c->n_embd * (4.0 * c->n_embd + 3.0 * H);
    if (big > 1e10)
        return lm_fail(e, "--n-layer %d --n-embd %d --vocab-size %d (MLP width %.0f): model "
                          "too large for the reference (%.3g parameters, at most 1e10)",
                       c->n_layer, c->n_embd, c->vocab_size, H, big);
    return 0;
}

/* In 64-bit arithmetic; -1 when the width does not fit an int. */
int model_mlp_hidden(const model_config *c)
{
    long long C = c->n_embd, mo = c->multiple_of;
    long long w = c->kind == MODEL_GPT2 ? 4 * C : mo * ((8 * C / 3 + mo - 1) / mo);
    return w >= 1 && w <= INT_MAX ? (int)w : -1;
}

/* Append a tensor to the list; offsets are assigned in order. */
static void add_param(model *m, int *cap, const char *name, int ndim, int rows, int cols,
                      int hidden)
{
    if (m->nparam == *cap) {
        *cap = *cap ? 2 * *cap : 32;
        model_param *np = lm_malloc(sizeof *np * *cap);
        if (m->nparam)
            memcpy(np, m->param, sizeof *np * m->nparam);
        free(m->param);
        m->param = np;
    }
    model_param *p = &m->param[m->nparam++];
    memset(p, 0, sizeof *p);
    p->name = lm_strdup(name);
    p->ndim = ndim;
    p->shape[0] = rows;
    p->shape[1] = ndim == 2 ? cols : 1;
    p->numel = (size_t)rows * p->shape[1];
    p->offset = m->num_params;
    p->hidden = hidden;
    m->num_params += p->numel;
}

/* "transformer.h.L.SUFFIX", the name of a block's tensor (malloc'd). */
static char *layer_name(int l, const char *suffix)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "transformer.h.%d.%s", l, suffix);
    return b.s;
}

static void add_layer_param(model *m, int *cap, int l, const char *suffix, int ndim, int rows,
                            int cols, int hidden)
{
    char *nm = layer_name(l, suffix);
    add_param(m, cap, nm, ndim, rows, cols, hidden);
    free(nm);
}

/* The list in state_dict order (see model.h), then the two views. */
static void build_params(model *m)
{
    const model_config *c = &m->cfg;
    int C = c->n_embd, V = c->vocab_size, H = m->H, cap = 0;
    int gpt = c->kind == MODEL_GPT2, bias = gpt && c->bias;
    add_param(m, &cap, "transformer.wte.weight", 2, V, C, 0);
    if (gpt)
        add_param(m, &cap, "transformer.wpe.weight", 2, c->block_size, C, 0);
    for (int l = 0; l < c->n_layer; l++) {
#define P1(suffix, n) add_layer_param(m, &cap, l, suffix, 1, n, 1, 0)
#define P2(suffix, r, k) add_layer_param(m, &cap, l, suffix, 2, r, k, 1)
        P1("ln_1.weight", C);
        if (bias) P1("ln_1.bias", C);
        P2("attn.c_attn.weight", 3 * C, C);
        if (bias) P1("attn.c_attn.bias", 3 * C);
        P2("attn.c_proj.weight", C, C);
        if (bias) P1("attn.c_proj.bias", C);
        P1("ln_2.weight", C);
        if (bias) P1("ln_2.bias", C);
        if (gpt) {
            P2("mlp.c_fc.weight", H, C);
            if (bias) P1("mlp.c_fc.bias", H);
        } else {
            P2("mlp.w1.weight", H, C);
            P2("mlp.w2.weight", H, C);
        }
        P2("mlp.c_proj.weight", C, H);
        if (bias) P1("mlp.c_proj.bias", C);
#undef P1
#undef P2
    }
    add_param(m, &cap, "transformer.ln_f.weight", 1, C, 1, 0);
    if (bias)
        add_param(m, &cap, "transformer.ln_f.bias", 1, C, 1, 0);
}

static double *view(model *m, double *base, const char *name)
{
    const model_param *p = model_find_param(m, name);
    return p ? base + p->offset : NULL;
}

static double *block_view(model *m, double *base, int l, const char *suffix)
{
    char *nm = layer_name(l, suffix);
    double *x = view(m, base, nm);
    free(nm);
    return x;
}

static void fill_view(model *m, double *base, weights_view *v)
{
    v->wte = view(m, base, "transformer.wte.weight");
    v->wpe = view(m, base, "transformer.wpe.weight");
    v->lnfw = view(m, base, "transformer.ln_f.weight");
    v->lnfb = view(m, base, "transformer.ln_f.bias");
    v->h = lm_calloc(m->cfg.n_layer, sizeof *v->h);
    for (int l = 0; l < m->cfg.n_layer; l++) {
        layer_view *h = &v->h[l];
#define V(field, suffix) (h->field = block_view(m, base, l, suffix))
        V(ln1w, "ln_1.weight");
        V(ln1b, "ln_1.bias");
        V(qkvw, "attn.c_attn.weight");
        V(qkvb, "attn.c_attn.bias");
        V(attprojw, "attn.c_proj.weight");
        V(attprojb, "attn.c_proj.bias");
        V(ln2w, "ln_2.weight");
        V(ln2b, "ln_2.bias");
        V(fcw, "mlp.c_fc.weight");
        V(fcb, "mlp.c_fc.bias");
        V(w1, "mlp.w1.weight");
        V(w2, "mlp.w2.weight");
        V(fcprojw, "mlp.c_proj.weight");
        V(fcprojb, "mlp.c_proj.bias");
#undef V
    }
}

/* Activations: one allocation carved into the arrays of struct model. */
static void alloc_acts(model *m)
{
    const model_config *c = &m->cfg;
    size_t B = m->B, T = m->T, C = c->n_embd, V = c->vocab_size, H = m->H;
    size_t nh = c->n_head, L = c->n_layer, BT = B * T;
    /* ln1, qkv (3), atty, res2, ln2, res3: 8 BTC; two means, two rstds;
     * the attention probabilities; h1, h2, hg */
    size_t per_layer = 8 * BT * C + 4 * BT + B * nh * T * T + 3 * BT * H;
    size_t total = BT * C + L * per_layer + BT * C + 2 * BT + 2 * BT * V + BT
                   + T * (m->hs / 2) * 2
                   + BT * C + BT * C + BT * 3 * C + BT * C + 3 * BT * H
                   + (size_t)m->nthr * T * T;
    m->acts_memory = lm_calloc(total, sizeof(double));
    double *p = m->acts_memory;
#define TAKE(ptr, n) (ptr = p, p += (n))
    TAKE(m->encoded, BT * C);
    m->la = lm_calloc(L, sizeof *m->la);
    for (size_t l = 0; l < L; l++) {
        layer_acts *a = &m->la[l];
        TAKE(a->ln1, BT * C);
        TAKE(a->ln1_mean, BT);
        TAKE(a->ln1_rstd, BT);
        TAKE(a->qkv, BT * 3 * C);
        TAKE(a->att, B * nh * T * T);
        TAKE(a->atty, BT * C);
        TAKE(a->res2, BT * C);
        TAKE(a->ln2, BT * C);
        TAKE(a->ln2_mean, BT);
        TAKE(a->ln2_rstd, BT);
        TAKE(a->h1, BT * H);
        TAKE(a->h2, BT * H);
        TAKE(a->hg, BT * H);
        TAKE(a->res3, BT * C);
    }
    TAKE(m->lnf, BT * C);
    TAKE(m->lnf_mean, BT);
    TAKE(m->lnf_rstd, BT);
    TAKE(m->logits, BT * V);
    TAKE(m->probs, BT * V);
    TAKE(m->row_loss, BT);
    TAKE(m->rope_cos, T * (m->hs / 2));
    TAKE(m->rope_sin, T * (m->hs / 2));
    TAKE(m->dres, BT * C);
    TAKE(m->dln, BT * C);
    TAKE(m->dqkv, BT * 3 * C);
    TAKE(m->datty, BT * C);
    TAKE(m->dh1, BT * H);
    TAKE(m->dh2, BT * H);
    TAKE(m->dhg, BT * H);
    TAKE(m->datt, (size_t)m->nthr * T * T);
#undef TAKE
    if ((size_t)(p - m->acts_memory) != total) /* the sizes above and the TAKEs agree */
        abort();
    int half = m->hs / 2;
    for (size_t t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double ang = (double)t * pow(ROPE_THETA, -2.0 * i / m->hs);
            m->rope_cos[t * half + i] = cos(ang);
            m->rope_sin[t * half + i] = sin(ang);
        }
    m->inputs = lm_calloc(BT, sizeof(int));
    m->targets = lm_calloc(BT, sizeof(int));
}

model *model_alloc(const model_config *c, int B, int T, lm_error *e)
{
    if (model_config_check(c, e))
        return NULL;
    if (B < 1) {
        lm_fail(e, "--batch-size must be >= 1 (got %d)", B);
        return NULL;
    }
    if (T < 1 || T > c->block_size) {
        lm_fail(e, "sequence length %d is outside the position table [1, %d]", T,
                c->block_size);
        return NULL;
    }
    model *m = lm_calloc(1, sizeof *m);
    m->cfg = *c;
    if (c->kind == MODEL_LLAMA)
        m->cfg.bias = 0;
    m->hs = c->n_embd / c->n_head;
    m->H = model_mlp_hidden(c);
    m->B = B;
    m->T = T;
    /* the attention backward's scratch: one (T,T) block per thread */
    m->nthr = omp_get_max_threads();
    build_params(m);
    m->params_memory = lm_calloc(m->num_params, sizeof(double));
    m->grads_memory = lm_calloc(m->num_params, sizeof(double));
    for (int i = 0; i < m->nparam; i++) {
        m->param[i].w = m->params_memory + m->param[i].offset;
        m->param[i].g = m->grads_memory + m->param[i].offset;
    }
    fill_view(m, m->params_memory, &m->p);
    fill_view(m, m->grads_memory, &m->g);
    alloc_acts(m);
    return m;
}

void model_free(model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nparam; i++)
        free(m->param[i].name);
    free(m->param);
    free(m->params_memory);
    free(m->grads_memory);
    free(m->p.h);
    free(m->g.h);
    free(m->acts_memory);
    free(m->la);
    free(m->inputs);
    free(m->targets);
    free(m);
}

const model_config *model_get_config(const model *m) { return &m->cfg; }
int model_batch(const model *m) { return m->B; }
int model_seq_len(const model *m) { return m->T; }
int model_nparams(const model *m) { return m->nparam; }
size_t model_num_params(const model *m) { return m->num_params; }
double *model_params(model *m) { return m->params_memory; }
double *model_grads(model *m) { return m->grads_memory; }
long model_loss_count(const model *m) { return m->n_valid; }
const double *model_logits(const model *m) { return m->logits; }

const model_param *model_param_at(const model *m, int i)
{
    return i >= 0 && i < m->nparam ? &m->param[i] : NULL;
}

const model_param *model_find_param(const model *m, const char *name)
{
    for (int i = 0; i < m->nparam; i++)
        if (!strcmp(m->param[i].name, name))
            return &m->param[i];
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

void model_init(model *m, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double std_proj = MODEL_INIT_STD / sqrt(2.0 * m->cfg.n_layer);
    for (int i = 0; i < m->nparam; i++) {
        model_param *p = &m->param[i];
        if (ends_with(p->name, ".bias")) {
            memset(p->w, 0, sizeof(double) * p->numel);
        } else if (p->ndim == 1) {
            for (size_t j = 0; j < p->numel; j++)
                p->w[j] = 1.0;
        } else {
            double sd = ends_with(p->name, "c_proj.weight") ? std_proj : MODEL_INIT_STD;
            for (size_t j = 0; j < p->numel; j++)
                p->w[j] = gsl_ran_gaussian(r, sd);
        }
    }
    gsl_rng_free(r);
}

double model_flops_params(const model *m)
{
    double n = 0;
    for (int i = 0; i < m->nparam; i++)
        if (m->param[i].hidden)
            n += (double)m->param[i].numel;
    n += (double)m->cfg.vocab_size * m->cfg.n_embd;
    if (m->cfg.kind == MODEL_GPT2)
        n += (double)m->T * m->cfg.n_embd;
    return n;
}

/* ------------------------------------------------------------------------ */
/* The transformer. */

/* Forward, (B,T) tokens -> (B,T,V) logits:
 *   x = wte[inp] (+ wpe[t])
 *   per block: x = x + c_proj(attn(ln_1(x)));  x = x + mlp(ln_2(x))
 *     GPT-2 mlp: c_proj(gelu(c_fc h));  LLaMA mlp: c_proj(silu(w1 h) * (w2 h))
 *     LLaMA: RMSNorm for ln_*, RoPE on q and k, no wpe
 *   logits = ln_f(x) wte^T  (tied head) */
int model_forward(model *m, const int *inputs, const int *targets, double *loss,
                  lm_error *e)
{
    const model_config *c = &m->cfg;
    int B = m->B, T = m->T, C = c->n_embd, V = c->vocab_size, H = m->H, nh = c->n_head;
    int N = B * T, llama = c->kind == MODEL_LLAMA;
    for (int i = 0; i < N; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return lm_fail(e, "input token %d at batch row %d, position %d is outside "
                           "the vocabulary [0, %d)", inputs[i], i / T, i % T, V);
        if (targets && (targets[i] < -1 || targets[i] >= V))
            return lm_fail(e, "target token %d at batch row %d, position %d is outside "
                           "the vocabulary [0, %d) (or -1 = ignore)", targets[i], i / T,
                           i % T, V);
    }
    memcpy(m->inputs, inputs, sizeof(int) * N);
    m->have_targets = targets != NULL;
    if (targets)
        memcpy(m->targets, targets, sizeof(int) * N);
    int blas_threads = blas_single_begin();

    encoder_forward(m->encoded, inputs, m->p.wte, m->p.wpe, B, T, C);
    const double *x = m->encoded;
    for (int l = 0; l < c->n_layer; l++) {
        layer_view *w = &m->p.h[l];
        layer_acts *a = &m->la[l];
        if (llama)
            rmsnorm_forward(a->ln1, a->ln1_rstd, x, w->ln1w, N, C);
        else
            layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1w, w->ln1b, N, C);
        matmul_forward(a->qkv, a->ln1, w->qkvw, w->qkvb, N, C, 3 * C);
        if (llama)
            rope_apply_all(a->qkv, m->rope_cos, m->rope_sin, B, T, C, nh, +1);
        attention_forward(a->atty, a->att, a->qkv, B, T, C, nh);
        matmul_forward(a->res2, a->atty, w->attprojw, w->attprojb, N, C, C);
        residual_forward(a->res2, x, a->res2, (size_t)N * C);
        if (llama) {
            rmsnorm_forward(a->ln2, a->ln2_rstd, a->res2, w->ln2w, N, C);
            matmul_forward(a->h1, a->ln2, w->w1, NULL, N, C, H);
            matmul_forward(a->h2, a->ln2, w->w2, NULL, N, C, H);
            swiglu_forward(a->hg, a->h1, a->h2, (size_t)N * H);
        } else {
            layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res2, w->ln2w, w->ln2b,
                              N, C);
            matmul_forward(a->h1, a->ln2, w->fcw, w->fcb, N, C, H);
            gelu_forward(a->hg, a->h2, a->h1, (size_t)N * H);
        }
        matmul_forward(a->res3, a->hg, w->fcprojw, w->fcprojb, N, H, C);
        residual_forward(a->res3, a->res2, a->res3, (size_t)N * C);
        x = a->res3;
    }
    if (llama)
        rmsnorm_forward(m->lnf, m->lnf_rstd, x, m->p.lnfw, N, C);
    else
        layernorm_forward(m->lnf, m->lnf_mean, m->lnf_rstd, x, m->p.lnfw, m->p.lnfb, N, C);
    matmul_forward(m->logits, m->lnf, m->p.wte, NULL, N, C, V);
    crossentropy_forward(m->probs, m->row_loss, m->logits, targets, N, V);
    blas_single_end(blas_threads);

    double sum = 0;
    long cnt = 0;
    if (targets)
        for (int i = 0; i < N; i++)
            if (targets[i] >= 0) {
                sum += m->row_loss[i];
                cnt++;
            }
    m->n_valid = cnt;
    m->loss = cnt ? sum / (double)cnt : 0.0;
    if (loss)
        *loss = m->loss;
    return 0;
}

/* Backward: the forward in reverse, each layer's backward.  dres carries
 * d loss / d x along the residual stream; the branch of each residual adds
 * its input gradient into it. */
void model_backward(model *m)
{
    const model_config *c = &m->cfg;
    int B = m->B, T = m->T, C = c->n_embd, V = c->vocab_size, H = m->H, nh = c->n_head;
    int N = B * T, llama = c->kind == MODEL_LLAMA;
    if (!m->have_targets)
        abort(); /* a programming error: no loss to differentiate */
    int blas_threads = blas_single_begin();
    /* every gradient is written by its layer's backward (not accumulated),
     * so only wpe, which only the encoder's scatter-add reaches, and the
     * residual stream need zeros */
    if (m->g.wpe)
        memset(m->g.wpe, 0, sizeof(double) * (size_t)c->block_size * C);
    memset(m->dres, 0, sizeof(double) * (size_t)N * C);

    double *dlogits = m->probs;
    crossentropy_backward(dlogits, m->targets, N, V, m->n_valid);
    /* logits = lnf wte^T: dlnf = dlogits wte; dwte += dlogits^T lnf */
    matmul_backward(m->dln, m->g.wte, NULL, dlogits, m->lnf, m->p.wte, N, C, V);
    const double *xlast = c->n_layer ? m->la[c->n_layer - 1].res3 : m->encoded;
    if (llama)
        rmsnorm_backward(m->dres, m->g.lnfw, m->dln, xlast, m->p.lnfw, m->lnf_rstd, N, C);
    else
        layernorm_backward(m->dres, m->g.lnfw, m->g.lnfb, m->dln, xlast, m->p.lnfw,
                           m->lnf_mean, m->lnf_rstd, N, C);

    for (int l = c->n_layer - 1; l >= 0; l--) {
        layer_view *w = &m->p.h[l], *g = &m->g.h[l];
        layer_acts *a = &m->la[l];
        const double *x = l ? m->la[l - 1].res3 : m->encoded;
        /* MLP branch: res3 = res2 + c_proj(hg) */
        matmul_backward(m->dhg, g->fcprojw, g->fcprojb, m->dres, a->hg, w->fcprojw, N, H, C);
        if (llama) {
            swiglu_backward(m->dh1, m->dh2, a->h1, a->h2, m->dhg, (size_t)N * H);
            matmul_backward(m->dln, g->w1, NULL, m->dh1, a->ln2, w->w1, N, C, H);
            /* the two branches w1 and w2 both read ln2: add their input grads */
            matmul_backward(m->datty, g->w2, NULL, m->dh2, a->ln2, w->w2, N, C, H);
            residual_forward(m->dln, m->dln, m->datty, (size_t)N * C);
            rmsnorm_backward(m->dres, g->ln2w, m->dln, a->res2, w->ln2w, a->ln2_rstd, N, C);
        } else {
            gelu_backward(m->dh1, a->h1, a->h2, m->dhg, (size_t)N * H);
            matmul_backward(m->dln, g->fcw, g->fcb, m->dh1, a->ln2, w->fcw, N, C, H);
            layernorm_backward(m->dres, g->ln2w, g->ln2b, m->dln, a->res2, w->ln2w,
                               a->ln2_mean, a->ln2_rstd, N, C);
        }
        /* attention branch: res2 = x + c_proj(attn(qkv(ln_1(x)))) */
        matmul_backward(m->datty, g->attprojw, g->attprojb, m->dres, a->atty, w->attprojw,
                        N, C, C);
        attention_backward(m->dqkv, m->datt, m->nthr, m->datty, a->qkv, a->att, B, T, C,
                           nh);
        if (llama)
            rope_apply_all(m->dqkv, m->rope_cos, m->rope_sin, B, T, C, nh, -1);
        matmul_backward(m->dln, g->qkvw, g->qkvb, m->dqkv, a->ln1, w->qkvw, N, C, 3 * C);
        if (llama)
            rmsnorm_backward(m->dres, g->ln1w, m->dln, x, w->ln1w, a->ln1_rstd, N, C);
        else
            layernorm_backward(m->dres, g->ln1w, g->ln1b, m->dln, x, w->ln1w, a->ln1_mean,
                               a->ln1_rstd, N, C);
    }
    encoder_backward(m->g.wte, m->g.wpe, m->dres, m->inputs, B, T, C);
    blas_single_end(blas_threads);
}
