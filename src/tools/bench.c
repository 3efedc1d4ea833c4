/* bench.c - the benchmarks behind `lionmuon bench`. */
#include "tools/bench.h"
#include "lionmuon/train.h"

#include <jansson.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_fit.h>

#include "core/blas.h"
#include "core/blaskernel.h"
#include "lionmuon/linalg.h"
#include "lionmuon/fs.h"
#include "lionmuon/stats.h"
#include "lionmuon/measure.h"
#include "lionmuon/msign.h"

double bench_dgemm_gflops(double min_seconds)
{
    double best = 0;
    for (int n = 256; n <= 1024; n *= 2) {
        double t = la_time_dgemm(n, n, n, min_seconds);
        best = fmax(best, 2.0 * n * n * n / t * 1e-9);
    }
    return best;
}

double bench_growth_exponent(int n, const double *x, const double *y)
{
    double lx[32], ly[32], c0, c1, cov00, cov01, cov11, sumsq;
    if (n < 2 || n > 32)
        return NAN;
    for (int i = 0; i < n; i++) {
        lx[i] = log(x[i]);
        ly[i] = log(y[i]);
    }
    gsl_fit_linear(lx, 1, ly, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    return c1;
}

/* A hook for experiments/bench/alloc_count.c, an LD_PRELOAD shim that counts
 * heap calls: told when each timed step starts (1) and ends (0), it counts
 * the calls in between.  Without the shim the weak symbol is NULL. */
extern void lm_alloc_probe(int inside) __attribute__((weak));

/* CPU seconds of this process, all its threads (CLOCK_PROCESS_CPUTIME_ID):
 * unlike the wall clock, not stretched when other jobs share the cores. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Seconds of one n^3 DGEMM C = A B (the buffers allocated by the caller),
 * and its CPU seconds in *cpu. */
static double dgemm_seconds(int n, const double *A, const double *B, double *C, double *cpu)
{
    double c0 = cpu_seconds(), t0 = la_seconds();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C,
                n);
    double t = la_seconds() - t0;
    *cpu = cpu_seconds() - c0;
    return t;
}

/* The paper's routing: hidden matrices to the matrix rule, the rest AdamW
 * (everything to AdamW when the optimizer is AdamW). */
static opt_tensor *route_params(model *m, const opt_config *oc, int np)
{
    opt_tensor *ot = lm_malloc((size_t)np * sizeof *ot);
    for (int i = 0; i < np; i++) {
        const model_param *p = model_param_at(m, i);
        int matrix = p->hidden && oc->kind != OPT_ADAMW;
        ot[i] = (opt_tensor){p->name, matrix ? p->shape[0] : 1,
                             matrix ? p->shape[1] : (int)p->numel, p->w, p->g,
                             matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW, p->hidden};
    }
    return ot;
}

/* What a timed run holds: the model, its routed tensors and optimizer, one
 * batch of random tokens, the per-step times (index 0: the warm-up step)
 * and the buffers of the DGEMM timed after each step. */
typedef struct {
    model *m;
    int np, B, T, steps, nd;
    opt_tensor *ot;
    opt_state *os;
    int *in, *tg;
    double *tot, *tf, *tb, *to, *dg, *cpu, *dgcpu;
    double *dA, *dB, *dC;
} bench_run;

static void bench_run_setup(bench_run *b, model *m, const model_config *mc, int B, int T,
                            const opt_config *oc, int steps, unsigned long seed)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    b->np = model_nparams(m);
    b->B = B;
    b->T = T;
    b->steps = steps;
    b->ot = route_params(m, oc, b->np);
    b->os = opt_alloc(oc, b->np, b->ot);
    b->in = lm_malloc((size_t)B * T * sizeof *b->in);
    b->tg = lm_malloc((size_t)B * T * sizeof *b->tg);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    for (int i = 0; i < B * T; i++) {
        b->in[i] = (int)gsl_rng_uniform_int(rng, (unsigned long)mc->vocab_size);
        b->tg[i] = (int)gsl_rng_uniform_int(rng, (unsigned long)mc->vocab_size);
    }
    gsl_rng_free(rng);
    double **times[] = {&b->tot, &b->tf, &b->tb, &b->to, &b->dg, &b->cpu, &b->dgcpu};
    for (int k = 0; k < 7; k++)
        *times[k] = lm_malloc((size_t)(steps + 1) * sizeof(double));
    b->nd = 1024;
    size_t nn = (size_t)b->nd * b->nd;
    b->dA = lm_malloc(nn * sizeof *b->dA);
    b->dB = lm_malloc(nn * sizeof *b->dB);
    b->dC = lm_calloc(nn, sizeof *b->dC);
    for (size_t i = 0; i < nn; i++) {
        b->dA[i] = 1.0 / (1.0 + (double)(i % 17));
        b->dB[i] = 1.0 / (1.0 + (double)(i % 13));
    }
}

static void bench_run_free(bench_run *b)
{
    double *bufs[] = {b->tot, b->tf, b->tb, b->to, b->dg, b->cpu, b->dgcpu, b->dA, b->dB, b->dC};
    for (int k = 0; k < 10; k++)
        free(bufs[k]);
    free(b->in);
    free(b->tg);
    opt_free(b->os);
    free(b->ot);
}

/* The warm-up step and the timed steps: forward, backward, clipping and the
 * optimizer, each part timed; then one DGEMM under the same load. */
static int timed_steps(bench_run *b, double grad_clip, lm_error *e)
{
    int rc = 0, nd = b->nd;
    for (int s = 0; s <= b->steps && rc == 0; s++) { /* step 0 is the warm-up */
        if (lm_alloc_probe && s > 0)
            lm_alloc_probe(1);
        double loss, c0 = cpu_seconds(), t0 = la_seconds();
        rc = model_forward(b->m, b->in, b->tg, &loss, e);
        double t1 = la_seconds();
        model_backward(b->m);
        double t2 = la_seconds();
        opt_clip_grad_norm(b->np, b->ot, grad_clip);
        if (rc == 0)
            rc = opt_step(b->os, s, 1.0, NULL, e);
        double t3 = la_seconds();
        b->cpu[s] = cpu_seconds() - c0;
        if (lm_alloc_probe && s > 0)
            lm_alloc_probe(0);
        b->tf[s] = t1 - t0;
        b->tb[s] = t2 - t1;
        b->to[s] = t3 - t2;
        b->tot[s] = t3 - t0;
        b->dg[s] = 2.0 * nd * nd * nd / dgemm_seconds(nd, b->dA, b->dB, b->dC, &b->dgcpu[s]) *
                   1e-9;
        b->dgcpu[s] = 2.0 * nd * nd * nd / b->dgcpu[s] * 1e-9;
    }
    return rc;
}

/* The FLOPs msign executes: for the Newton-Schulz quintics the Gram matrix
 * and its square are dsyrk calls (k^2 d and k^3), the product with X a
 * dsymm (2 k^2 d); the other methods' counts are msign_flops'. */
static double msign_executed_flops(const msign_opts *o, int m, int n)
{
    double k = LM_MIN(m, n), d = LM_MAX(m, n);
    if (o->method == MSIGN_NS5 || o->method == MSIGN_POLAR_EXPRESS)
        return o->steps * (3 * k * k * d + k * k * k);
    return msign_flops(o, m, n);
}

/* The optimizer's executed FLOPs per step, as msign/P + sign (1 - 1/P). */
static double optimizer_executed_flops(const bench_run *b, const opt_config *oc)
{
    long P;
    double b1, b2, f = 0;
    opt_effective(oc, &P, &b1, &b2);
    for (int i = 0; i < b->np; i++) {
        if (b->ot[i].rule != OPT_RULE_MATRIX)
            continue;
        double ns = msign_executed_flops(&oc->msign, b->ot[i].rows, b->ot[i].cols);
        double sg = (double)b->ot[i].rows * b->ot[i].cols;
        f += P > 0 ? ns / P + sg * (1 - 1.0 / P) : sg;
    }
    return f;
}

/* Medians (and the mean) of the timed steps, and the FLOPs per step: the
 * model's 6 N B T plus the optimizer's, per matrix
 *     msign/P + sign (1 - 1/P)   (P > 0),   sign   (P = inf),
 * with msign by msign_flops and a sign step m n. */
static void summarize(const bench_run *b, const opt_config *oc, double dgemm_gflops,
                      bench_train_result *r)
{
    int steps = b->steps;
    double sum = 0;
    for (int s = 1; s <= steps; s++)
        sum += b->tot[s];
    r->mean_seconds_per_step = sum / steps;
    r->seconds_per_step = stats_median((size_t)steps, b->tot + 1);
    r->forward_s = stats_median((size_t)steps, b->tf + 1);
    r->backward_s = stats_median((size_t)steps, b->tb + 1);
    r->optimizer_s = stats_median((size_t)steps, b->to + 1);
    r->model_flops_per_step = 6.0 * model_flops_params(b->m) * b->B * b->T;
    double optf = 0;
    long P;
    double b1, b2;
    opt_effective(oc, &P, &b1, &b2);
    for (int i = 0; i < b->np; i++) {
        if (b->ot[i].rule != OPT_RULE_MATRIX)
            continue;
        double ns = msign_flops(&oc->msign, b->ot[i].rows, b->ot[i].cols);
        double sg = (double)b->ot[i].rows * b->ot[i].cols;
        optf += P > 0 ? ns / P + sg * (1 - 1.0 / P) : sg;
    }
    r->total_flops_per_step = r->model_flops_per_step + optf;
    const model_config *mc = model_get_config(b->m);
    r->executed_flops_per_step = r->model_flops_per_step +
                                 12.0 * mc->n_layer * b->B * (double)b->T * b->T * mc->n_embd +
                                 optimizer_executed_flops(b, oc);
    r->dgemm_gflops = stats_median((size_t)steps, b->dg + 1);
    double csum = 0;
    for (int s = 1; s <= steps; s++)
        csum += b->cpu[s];
    r->cpu_seconds_per_step = csum / steps;
    r->dgemm_gflops_per_cpu = stats_median((size_t)steps, b->dgcpu + 1);
    r->dgemm_best_gflops = dgemm_gflops;
    r->n_params = model_num_params(b->m);
}

int bench_train(const model_config *mc, int B, int T, const opt_config *oc,
                double grad_clip, int steps, unsigned long seed, double dgemm_gflops,
                bench_train_result *r, lm_error *e)
{
    if (steps < 1)
        return lm_fail(e, "--steps must be >= 1 (got %d)", steps);
    model_config sized = *mc;
    sized.block_size = T;
    if (train_budget_check(&sized, B, e)) /* refuse, naming the flags, before allocating */
        return -1;
    model *m = model_alloc(mc, B, T, e);
    if (!m)
        return -1;
    model_init(m, seed);
    bench_run b;
    bench_run_setup(&b, m, mc, B, T, oc, steps, seed);
    int rc = timed_steps(&b, grad_clip, e);
    if (rc == 0)
        summarize(&b, oc, dgemm_gflops, r);
    bench_run_free(&b);
    model_free(m);
    return rc;
}

/* ---- the suite ---- */

json_t *bench_growth(FILE *out, const char *key, const char *what, const char *size, int n,
                     const double *x, const double *y, const double *f)
{
    double p = bench_growth_exponent(n, x, y), th = bench_growth_exponent(n, x, f);
    int exceeds = p > th + 0.3;
    fprintf(out, "  %-16s time grows as %s^%.2f, its FLOP count as %s^%.2f%s\n", what, size, p,
            size, th, exceeds ? "   <-- exceeds the FLOP count's growth by more than 0.3" : "");
    return json_pack("{s:s,s:s,s:f,s:f,s:b}", key, what, "size", size, "exponent", p, "theory",
                     th, "exceeds", exceeds);
}

/* One row of the training table: model k (0 gpt2, 1 llama) at the given
 * size with optimizer ok; appended to arr.  Returns -1 on an error. */
static int train_row(int k, int L, int C, int B, int T, int V, opt_kind ok, int steps, double dg,
                     FILE *out, json_t *arr, bench_train_result *r, lm_error *e)
{
    model_config mc = model_default_config(k ? MODEL_LLAMA : MODEL_GPT2, L,
                                           C / 64 > 0 ? C / 64 : 1, C, V, T);
    if (k)
        mc.multiple_of = 32;
    opt_config oc = opt_default_config(ok);
    if (bench_train(&mc, B, T, &oc, 0.5, steps, 1, dg, r, e) != 0)
        return -1;
    double s = r->mean_seconds_per_step; /* whole periods of P = 2 */
    double rate = r->model_flops_per_step / s * 1e-9, frac = rate / r->dgemm_gflops;
    double all = r->executed_flops_per_step / s * 1e-9 / r->dgemm_gflops;
    fprintf(out, "%-6s %-8s %2d %4d %3d %4d %5d %10.4f %9.2f %9.2f %8.1f%% %8.1f%% %5.0f%% %5.0f%%\n",
            model_kind_name(mc.kind), opt_kind_name(ok), L, C, B, T, V, s, rate,
            r->dgemm_gflops, 100 * frac, 100 * all, 100 * r->forward_s / r->seconds_per_step,
            100 * r->optimizer_s / r->seconds_per_step);
    json_array_append_new(arr, json_pack(
        "{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
        "model", model_kind_name(mc.kind), "optimizer", opt_kind_name(ok), "n_layer", L,
        "n_embd", C, "batch_size", B, "seq_len", T, "vocab_size", V, "params",
        (json_int_t)r->n_params, "seconds_per_step", r->seconds_per_step,
        "mean_seconds_per_step", s, "model_flops_per_step", r->model_flops_per_step,
        "executed_flops_per_step", r->executed_flops_per_step, "gflops", rate, "dgemm_gflops",
        r->dgemm_gflops, "fraction_of_dgemm", frac, "fraction_of_dgemm_executed", all,
        "forward_s", r->forward_s, "backward_s", r->backward_s, "optimizer_s", r->optimizer_s));
    return 0;
}

/* The training step at widths 64..384 (L = 2, T = 128, B = 8, V = 512; heads
 * of 64) with LionMuon P = 2, and with AdamW from width 256; the fitted
 * growth exponent of the LionMuon rows beside that of their executed FLOPs;
 * then one larger size (L = 4, C = 384, B = 16, V = 1024) outside the fit.
 * Times are means over whole periods; the fraction is of the DGEMM rate
 * timed between the steps (bench_train). */
static json_t *train_section(int quick, double dg, FILE *out, lm_error *e)
{
    static const struct { int L, C, B, T, V; } sizes[] = {
        {2, 64, 8, 128, 512}, {2, 128, 8, 128, 512}, {2, 256, 8, 128, 512},
        {2, 384, 8, 128, 512}, {4, 384, 16, 128, 1024}};
    int nsizes = quick ? 1 : 5, nfit = quick ? 1 : 4, steps = quick ? 2 : 6;
    json_t *arr = json_array();
    fprintf(out, "\ntraining step (mean of %d steps = %d periods of P = 2; the fraction of the "
                 "DGEMM rate timed between the steps, by the paper's 6 N B T and by all "
                 "executed FLOPs)\n", steps, steps / 2);
    fprintf(out, "%-6s %-8s %2s %4s %3s %4s %5s %10s %9s %9s %9s %9s %6s %6s\n", "model",
            "optim", "L", "C", "B", "T", "V", "s/step", "GFLOP/s", "DGEMM", "6NBT", "all",
            "fwd", "opt");
    for (int k = 0; k < 2; k++) {
        double xs[8], ys[8], fs[8];
        for (int i = 0; i < nsizes; i++) {
            int L = sizes[i].L, C = sizes[i].C, B = sizes[i].B, T = sizes[i].T, V = sizes[i].V;
            bench_train_result r;
            if (train_row(k, L, C, B, T, V, OPT_LIONMUON, steps, dg, out, arr, &r, e) != 0 ||
                (C >= 256 && train_row(k, L, C, B, T, V, OPT_ADAMW, steps, dg, out, arr,
                                       &(bench_train_result){0}, e) != 0)) {
                json_decref(arr);
                return NULL;
            }
            if (i < nfit) {
                xs[i] = C;
                ys[i] = r.mean_seconds_per_step;
                fs[i] = r.executed_flops_per_step;
            }
        }
        if (nfit > 1)
            json_array_append_new(arr, bench_growth(out, "growth_exponent_model",
                                                    k ? "llama" : "gpt2", "n_embd", nfit, xs,
                                                    ys, fs));
    }
    return arr;
}

/* The msign benchmark's methods; ns5 first (the reference of "x ns5"),
 * svd last (the reference of the errors). */
static const msign_method MS_METHODS[] = {MSIGN_NS5, MSIGN_POLAR_EXPRESS, MSIGN_CUBIC,
                                          MSIGN_QR_NEWTON, MSIGN_SVD};
enum { MS_N = 5 };

/* One size's workspace and results. */
typedef struct {
    int n, reps;
    msign_ws *ws;
    double *G, *X, *S, *D; /* input, result, svd's result, difference */
    double t[MS_N], err2[MS_N], errmax[MS_N];
    int iters[MS_N];
} ms_case;

/* The methods' times, interleaved over reps rounds (median), then each
 * one's error against svd: spectral norm and largest entry of the
 * difference. */
static int ms_time_and_errors(ms_case *c, lm_error *e)
{
    int n = c->n, m4 = 4 * n, rc = 0;
    size_t mn = (size_t)n * m4;
    double tr[MS_N][16];
    for (int rep = 0; rep < c->reps && rc == 0; rep++)
        for (int mi = 0; mi < MS_N && rc == 0; mi++) {
            msign_opts o = msign_default_opts(MS_METHODS[mi]);
            msign_info info;
            double t0 = la_seconds();
            rc = msign(&o, n, m4, c->G, MS_METHODS[mi] == MSIGN_SVD ? c->S : c->X, c->ws,
                       &info, e);
            tr[mi][rep] = la_seconds() - t0;
            c->iters[mi] = info.iterations;
        }
    for (int mi = 0; mi < MS_N && rc == 0; mi++) {
        msign_opts o = msign_default_opts(MS_METHODS[mi]);
        c->t[mi] = stats_median((size_t)c->reps, tr[mi]);
        c->err2[mi] = c->errmax[mi] = 0;
        if (MS_METHODS[mi] == MSIGN_SVD)
            continue;
        rc = msign(&o, n, m4, c->G, c->X, c->ws, NULL, e);
        double mx = 0;
        for (size_t i = 0; i < mn; i++) {
            c->D[i] = c->X[i] - c->S[i];
            mx = fmax(mx, fabs(c->D[i]));
        }
        c->errmax[mi] = mx;
        c->err2[mi] = la_norm_spectral(n, m4, c->D);
    }
    return rc;
}

static void ms_print(const ms_case *c, double t_gemm, double dg, FILE *out, json_t *arr)
{
    int n = c->n;
    for (int mi = 0; mi < MS_N; mi++) {
        msign_opts o = msign_default_opts(MS_METHODS[mi]);
        if (MS_METHODS[mi] == MSIGN_CUBIC || MS_METHODS[mi] == MSIGN_QR_NEWTON)
            o.steps = c->iters[mi];
        double fl = msign_flops(&o, n, 4 * n), t = c->t[mi];
        fprintf(out, "%-14s %5d %10.5f %7.2f %7.1f %9.2f %8.1f%% %9.2e %9.2e %5d\n",
                msign_method_name(MS_METHODS[mi]), n, t, t / c->t[0], t / t_gemm,
                fl / t * 1e-9, 100 * fl / t * 1e-9 / dg, c->err2[mi], c->errmax[mi],
                c->iters[mi]);
        json_array_append_new(arr, json_pack(
            "{s:s,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i}", "method",
            msign_method_name(MS_METHODS[mi]), "m", n, "n", 4 * n, "seconds", t, "flops", fl,
            "fraction_of_dgemm", fl / t * 1e-9 / dg, "time_vs_ns5", t / c->t[0],
            "time_in_dgemm_units", t / t_gemm, "err_spectral_vs_svd", c->err2[mi],
            "err_max_vs_svd", c->errmax[mi], "iterations", c->iters[mi]));
    }
}

static void ms_alloc(ms_case *c, int maxn, int reps)
{
    size_t mn = (size_t)maxn * 4 * maxn;
    c->reps = reps;
    c->ws = msign_ws_alloc(maxn, 4 * maxn);
    c->G = lm_malloc(mn * sizeof *c->G);
    c->X = lm_malloc(mn * sizeof *c->X);
    c->S = lm_malloc(mn * sizeof *c->S);
    c->D = lm_malloc(mn * sizeof *c->D);
}

static void ms_free(ms_case *c)
{
    free(c->G), free(c->X), free(c->S), free(c->D);
    msign_ws_free(c->ws);
}

/* G (n x 4n) with singular values geometric from 1 to 1/cond. */
static int ms_input(ms_case *c, int n, double cond, gsl_rng *r)
{
    double *s = lm_malloc((size_t)n * sizeof *s);
    for (int j = 0; j < n; j++)
        s[j] = pow(cond, -(double)j / (n - 1));
    c->n = n;
    int rc = la_random_with_spectrum(n, 4 * n, s, r, c->G);
    free(s);
    return rc;
}

/* The exact method against ns5 and svd over the condition numbers ns5 is
 * used on, at one size. */
static int qr_newton_conds(ms_case *c, int n, gsl_rng *r, FILE *out, json_t *arr, lm_error *e)
{
    static const double conds[] = {10, 100, 1000};
    fprintf(out, "  qr-newton at %d x %d by condition number: time / ns5's, error against "
                 "svd (spectral, largest entry), Newton steps\n", n, 4 * n);
    int rc = 0;
    for (int ci = 0; ci < 3 && rc == 0; ci++) {
        rc = ms_input(c, n, conds[ci], r);
        if (rc == 0)
            rc = ms_time_and_errors(c, e);
        if (rc != 0)
            break;
        fprintf(out, "    cond %6.0e  %.2f x ns5  err %.2e / %.2e  %d steps\n", conds[ci],
                c->t[3] / c->t[0], c->err2[3], c->errmax[3], c->iters[3]);
        json_array_append_new(arr, json_pack("{s:s,s:i,s:f,s:f,s:f,s:f,s:i}", "exact_method",
            "qr-newton", "m", n, "cond", conds[ci], "time_vs_ns5", c->t[3] / c->t[0],
            "err_spectral_vs_svd", c->err2[3], "err_max_vs_svd", c->errmax[3], "iterations",
            c->iters[3]));
    }
    return rc;
}

/* msign of n x 4n matrices of condition number 100 by every method: time,
 * time against ns5 and against one DGEMM of the Gram matrix's shape
 * ((n x 4n)(4n x n)), rate by each method's FLOP count as a fraction of the
 * DGEMM rate, error against svd; growth exponents; then the exact method
 * across condition numbers. */
static json_t *msign_section(int quick, double dg, FILE *out, lm_error *e)
{
    static const int sizes[] = {128, 256, 512, 768};
    int nsizes = quick ? 2 : 4, rc = 0;
    json_t *arr = json_array();
    fprintf(out, "\nmsign, n x 4n matrices, cond 100 (median of %d interleaved rounds; GFLOP: "
                 "the paper's count for ns5 and polar-express, see msign_flops)\n",
            quick ? 1 : 5);
    fprintf(out, "%-14s %5s %10s %7s %7s %9s %9s %9s %9s %5s\n", "method", "n", "seconds",
            "x ns5", "x gemm", "GFLOP/s", "of DGEMM", "err_2", "err_max", "iters");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    ms_case c;
    ms_alloc(&c, sizes[nsizes - 1], quick ? 1 : 5);
    double ts[MS_N][4], fl[MS_N][4], xs[4];
    for (int i = 0; i < nsizes && rc == 0; i++) {
        int n = sizes[i];
        double t_gemm = la_time_dgemm(n, 4 * n, n, quick ? 0.01 : 0.1);
        rc = ms_input(&c, n, 100.0, r);
        if (rc == 0)
            rc = ms_time_and_errors(&c, e);
        if (rc != 0)
            break;
        ms_print(&c, t_gemm, dg, out, arr);
        xs[i] = n;
        for (int mi = 0; mi < MS_N; mi++) {
            msign_opts o = msign_default_opts(MS_METHODS[mi]);
            if (MS_METHODS[mi] == MSIGN_CUBIC || MS_METHODS[mi] == MSIGN_QR_NEWTON)
                o.steps = c.iters[mi];
            ts[mi][i] = c.t[mi];
            fl[mi][i] = msign_flops(&o, n, 4 * n);
        }
    }
    for (int mi = 0; mi < MS_N && rc == 0 && nsizes > 1; mi++)
        json_array_append_new(arr, bench_growth(out, "growth_exponent_msign",
                                                msign_method_name(MS_METHODS[mi]), "n", nsizes,
                                                xs, ts[mi], fl[mi]));
    if (rc == 0)
        rc = qr_newton_conds(&c, quick ? 128 : 512, r, out, arr, e);
    ms_free(&c);
    gsl_rng_free(r);
    if (rc != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}
/* Mean seconds of opt_step at step t over reps calls (t fixed: the step
 * type depends on t alone, and the cost on the type alone). */
static double time_steps(opt_state *os, long t, int reps, lm_error *e, int *rc)
{
    double t0 = la_seconds();
    for (int i = 0; i < reps && *rc == 0; i++)
        *rc = opt_step(os, t, 1.0, NULL, e);
    return (la_seconds() - t0) / reps;
}

/* FLOPs of a mean step over a period on the four matrices: ns5's executed
 * count for a Muon step, 10 an entry for a sign or AdamW step (the
 * reference for the growth exponent, which only their mix makes other
 * than 2 or 3). */
static double optim_flops(const opt_tensor *ot, opt_kind k, long P)
{
    msign_opts o = msign_default_opts(MSIGN_NS5);
    double ms = 0, el = 0;
    for (int i = 0; i < 4; i++) {
        ms += msign_executed_flops(&o, ot[i].rows, ot[i].cols);
        el += 10.0 * ot[i].rows * ot[i].cols;
    }
    if (k == OPT_ADAMW || P == 0)
        return el;
    return (ms + (P - 1) * el) / P;
}

/* The optimizer step alone on one block's four hidden matrices at width C:
 * (3C, C), (C, C), (4C, C), (C, 4C).  For a period P the mean cost of a
 * step is (one Muon step + (P - 1) Lion steps) / P, each timed on its own. */
static json_t *optim_section(int quick, FILE *out, lm_error *e)
{
    static const int widths[] = {128, 256, 512};
    static const struct { opt_kind k; long P; } runs[] = {
        {OPT_LION, 0}, {OPT_SIGNUM, 0}, {OPT_ADAMW, 0}, {OPT_MUON, 1}, {OPT_SIGNMUON, 2},
        {OPT_LIONMUON, 1}, {OPT_LIONMUON, 2}, {OPT_LIONMUON, 5}, {OPT_LIONMUON, 20},
        {OPT_LIONMUON, 100}};
    enum { NR = sizeof runs / sizeof runs[0] };
    int nw = quick ? 1 : 3, nr = NR, reps = quick ? 2 : 5;
    double xs[3], ys[NR][3], fs[NR][3];
    json_t *arr = json_array();
    fprintf(out, "\noptimizer step on one block's four hidden matrices (mean over a period)\n");
    fprintf(out, "%-10s %5s %6s %12s %14s\n", "optimizer", "P", "C", "ms/step", "x lion step");
    int rc = 0;
    for (int wi = 0; wi < nw && rc == 0; wi++) {
        int C = widths[wi];
        int shapes[4][2] = {{3 * C, C}, {C, C}, {4 * C, C}, {C, 4 * C}};
        size_t total = 0;
        for (int i = 0; i < 4; i++)
            total += (size_t)shapes[i][0] * shapes[i][1];
        double *w = lm_calloc(total, sizeof *w), *g = lm_malloc(total * sizeof *g);
        for (size_t i = 0; i < total; i++)
            g[i] = sin(0.37 * (double)i) + 0.1 * cos(1.3 * (double)i);
        opt_tensor ot[4];
        size_t off = 0;
        for (int i = 0; i < 4; i++) {
            ot[i] = (opt_tensor){"m", shapes[i][0], shapes[i][1], w + off, g + off, OPT_RULE_MATRIX, 1};
            off += (size_t)shapes[i][0] * shapes[i][1];
        }
        double lion_s = NAN;
        for (int ri = 0; ri < nr && rc == 0; ri++) {
            opt_config oc = opt_default_config(runs[ri].k);
            if (runs[ri].k == OPT_LIONMUON || runs[ri].k == OPT_SIGNMUON)
                oc.period = runs[ri].P;
            long P = runs[ri].P;
            opt_state *os = opt_alloc(&oc, 4, ot);
            double per;
            if (P == 0) {
                per = time_steps(os, 1, reps, e, &rc);
            } else {
                double muon = time_steps(os, 0, reps, e, &rc);
                double lion = P > 1 ? time_steps(os, 1, reps, e, &rc) : 0;
                per = (muon + (P - 1) * lion) / P;
            }
            opt_free(os);
            if (runs[ri].k == OPT_LION)
                lion_s = per;
            xs[wi] = C;
            ys[ri][wi] = per;
            fs[ri][wi] = optim_flops(ot, runs[ri].k, P);
            fprintf(out, "%-10s %5ld %6d %12.3f %14.1f\n", opt_kind_name(runs[ri].k), P, C,
                    per * 1e3, per / lion_s);
            json_array_append_new(arr, json_pack("{s:s,s:I,s:i,s:f}", "optimizer",
                opt_kind_name(runs[ri].k), "P", (json_int_t)P, "n_embd", C,
                "seconds_per_step", per));
        }
        free(w);
        free(g);
    }
    for (int ri = 0; ri < nr && rc == 0 && nw > 1; ri++) {
        char what[32];
        snprintf(what, sizeof what, "%s P=%ld", opt_kind_name(runs[ri].k), runs[ri].P);
        json_array_append_new(arr, bench_growth(out, "growth_exponent_optimizer", what, "C", nw,
                                                xs, ys[ri], fs[ri]));
    }
    if (rc != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}


int bench_all(int quick, const char *exe, FILE *out, const char *json_path, lm_error *e)
{
    double dg = bench_dgemm_gflops(quick ? 0.05 : 0.5);
    lm_blas_kernel k;
    char kernel[512];
    lm_blas_kernel_info(&k);
    lm_blas_kernel_describe(kernel, sizeof kernel);
    fprintf(out, "DGEMM: %.1f GFLOP/s (best of 256^3, 512^3, 1024^3; %d OpenMP threads)\n"
                 "OpenBLAS kernel: %s\n", dg, omp_get_max_threads(), kernel);
    json_t *root = json_pack("{s:f,s:s,s:b,s:s}", "dgemm_gflops", dg, "blas_core", k.core,
                             "blas_core_selected_by_tool", k.selected_by_tool,
                             "blas_core_default", k.default_core);
    json_t *tr = train_section(quick, dg, out, e);
    json_t *ms = tr ? msign_section(quick, dg, out, e) : NULL;
    json_t *op = ms ? optim_section(quick, out, e) : NULL;
    json_t *ru = op && exe ? bench_runs_section(quick, exe, out, e) : NULL;
    if (!op || (exe && !ru)) {
        json_decref(tr);
        json_decref(ms);
        json_decref(op);
        json_decref(root);
        return -1;
    }
    json_object_set_new(root, "train", tr);
    json_object_set_new(root, "msign", ms);
    json_object_set_new(root, "optimizer", op);
    if (ru)
        json_object_set_new(root, "runs", ru);
    int rc = 0;
    if (json_path) {
        char *txt = json_dumps(root, JSON_INDENT(2));
        rc = lm_write_atomic(json_path, txt, strlen(txt), e);
        free(txt);
    }
    json_decref(root);
    return rc;
}
