/* bench.c - the benchmarks behind `lionmuon bench`. */
#include "tools/bench.h"

#include <jansson.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
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

/* Seconds of one n^3 DGEMM C = A B (the buffers allocated by the caller). */
static double dgemm_seconds(int n, const double *A, const double *B, double *C)
{
    double t0 = la_seconds();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C,
                n);
    return la_seconds() - t0;
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
                             matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW};
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
    double *tot, *tf, *tb, *to, *dg;
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
    double **times[] = {&b->tot, &b->tf, &b->tb, &b->to, &b->dg};
    for (int k = 0; k < 5; k++)
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
    double *bufs[] = {b->tot, b->tf, b->tb, b->to, b->dg, b->dA, b->dB, b->dC};
    for (int k = 0; k < 8; k++)
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
        double loss, t0 = la_seconds();
        rc = model_forward(b->m, b->in, b->tg, &loss, e);
        double t1 = la_seconds();
        model_backward(b->m);
        double t2 = la_seconds();
        opt_clip_grad_norm(b->np, b->ot, grad_clip);
        if (rc == 0)
            rc = opt_step(b->os, s, 1.0, NULL, e);
        double t3 = la_seconds();
        if (lm_alloc_probe && s > 0)
            lm_alloc_probe(0);
        b->tf[s] = t1 - t0;
        b->tb[s] = t2 - t1;
        b->to[s] = t3 - t2;
        b->tot[s] = t3 - t0;
        b->dg[s] = 2.0 * nd * nd * nd / dgemm_seconds(nd, b->dA, b->dB, b->dC) * 1e-9;
    }
    return rc;
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
    r->dgemm_gflops = stats_median((size_t)steps, b->dg + 1);
    r->dgemm_best_gflops = dgemm_gflops;
    r->n_params = model_num_params(b->m);
}

int bench_train(const model_config *mc, int B, int T, const opt_config *oc,
                double grad_clip, int steps, unsigned long seed, double dgemm_gflops,
                bench_train_result *r, lm_error *e)
{
    if (steps < 1)
        return lm_fail(e, "--steps must be >= 1 (got %d)", steps);
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

/* The training step at widths 64..384 (L = 2, T = 128, B = 8, V = 512; heads
 * of 64), the fitted growth exponent over those, then one larger size
 * (L = 4, C = 384, B = 16, V = 1024) outside the fit.  The fraction is of
 * the DGEMM rate timed between the steps (bench_train). */
static json_t *train_section(int quick, double dg, FILE *out, lm_error *e)
{
    static const struct { int L, C, B, T, V; } sizes[] = {
        {2, 64, 8, 128, 512}, {2, 128, 8, 128, 512}, {2, 256, 8, 128, 512},
        {2, 384, 8, 128, 512}, {4, 384, 16, 128, 1024}};
    int nsizes = quick ? 1 : 5, nfit = quick ? 1 : 4;
    json_t *arr = json_array();
    fprintf(out, "\ntraining step (lionmuon P = 2, ns5; median of %d steps; fraction of the "
                 "DGEMM rate timed between the steps)\n", quick ? 2 : 6);
    fprintf(out, "%-6s %2s %4s %3s %4s %5s %9s %10s %9s %9s %9s %6s %6s\n", "model", "L", "C",
            "B", "T", "V", "params", "s/step", "GFLOP/s", "DGEMM", "of DGEMM", "fwd", "opt");
    for (int k = 0; k < 2; k++) {
        double xs[8], ys[8];
        for (int i = 0; i < nsizes; i++) {
            int L = sizes[i].L, C = sizes[i].C, B = sizes[i].B, T = sizes[i].T, V = sizes[i].V;
            model_config mc = model_default_config(k ? MODEL_LLAMA : MODEL_GPT2, L,
                                                   C / 64 > 0 ? C / 64 : 1, C, V, T);
            if (k)
                mc.multiple_of = 32;
            opt_config oc = opt_default_config(OPT_LIONMUON);
            bench_train_result r;
            if (bench_train(&mc, B, T, &oc, 0.5, quick ? 2 : 6, 1, dg, &r, e) != 0) {
                json_decref(arr);
                return NULL;
            }
            double rate = r.model_flops_per_step / r.seconds_per_step * 1e-9;
            double frac = rate / r.dgemm_gflops;
            fprintf(out, "%-6s %2d %4d %3d %4d %5d %9zu %10.5f %9.2f %9.2f %8.1f%% %5.0f%% %5.0f%%\n",
                    model_kind_name(mc.kind), L, C, B, T, V, r.n_params, r.seconds_per_step,
                    rate, r.dgemm_gflops, 100 * frac, 100 * r.forward_s / r.seconds_per_step,
                    100 * r.optimizer_s / r.seconds_per_step);
            json_array_append_new(arr, json_pack(
                "{s:s,s:i,s:i,s:i,s:i,s:i,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
                "model", model_kind_name(mc.kind), "n_layer", L, "n_embd", C, "batch_size", B,
                "seq_len", T, "vocab_size", V, "params", (json_int_t)r.n_params,
                "seconds_per_step", r.seconds_per_step, "mean_seconds_per_step",
                r.mean_seconds_per_step, "model_flops_per_step", r.model_flops_per_step,
                "gflops", rate, "dgemm_gflops", r.dgemm_gflops, "fraction_of_dgemm", frac,
                "forward_s", r.forward_s, "backward_s", r.backward_s, "optimizer_s",
                r.optimizer_s));
            if (i < nfit) {
                xs[i] = C;
                ys[i] = r.seconds_per_step;
            }
        }
        if (nfit > 1) {
            double p = bench_growth_exponent(nfit, xs, ys);
            fprintf(out, "  %s step time grows as n_embd^%.2f (L = 2, B = 8, T = 128)\n",
                    k ? "llama" : "gpt2", p);
            json_array_append_new(arr, json_pack("{s:s,s:f}", "growth_exponent_model",
                                                 k ? "llama" : "gpt2", "exponent", p));
        }
    }
    return arr;
}

static json_t *msign_section(int quick, double dg, FILE *out, lm_error *e)
{
    static const int sizes[] = {128, 256, 512, 768};
    static const msign_method methods[] = {MSIGN_NS5, MSIGN_POLAR_EXPRESS, MSIGN_CUBIC, MSIGN_SVD};
    int nsizes = quick ? 2 : 4;
    json_t *arr = json_array();
    fprintf(out, "\nmsign, n x 4n matrices, cond 100 (FLOPs: the paper's count; svd and cubic: "
                 "see msign_flops)\n");
    fprintf(out, "%-14s %6s %12s %10s %10s %9s\n", "method", "n", "seconds", "GFLOP", "GFLOP/s",
                 "of DGEMM");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    int maxn = sizes[nsizes - 1];
    msign_ws *ws = msign_ws_alloc(maxn, 4 * maxn);
    double *G = lm_malloc((size_t)maxn * 4 * maxn * sizeof *G);
    double *X = lm_malloc((size_t)maxn * 4 * maxn * sizeof *X);
    double *s = lm_malloc((size_t)maxn * sizeof *s);
    int rc = 0;
    double ts[4][4];
    for (int i = 0; i < nsizes && rc == 0; i++) {
        int n = sizes[i];
        for (int j = 0; j < n; j++)
            s[j] = pow(100.0, -(double)j / (n - 1));
        rc = la_random_with_spectrum(n, 4 * n, s, r, G);
        for (int mi = 0; mi < 4 && rc == 0; mi++) {
            msign_opts o = msign_default_opts(methods[mi]);
            msign_info info;
            double best = INFINITY;
            for (int rep = 0; rep < (quick ? 1 : 3) && rc == 0; rep++) {
                double t0 = la_seconds();
                rc = msign(&o, n, 4 * n, G, X, ws, &info, e);
                best = fmin(best, la_seconds() - t0);
            }
            if (methods[mi] == MSIGN_CUBIC)
                o.steps = info.iterations;
            double fl = msign_flops(&o, n, 4 * n);
            ts[mi][i] = best;
            fprintf(out, "%-14s %6d %12.5f %10.3f %10.2f %8.1f%%\n", msign_method_name(methods[mi]),
                    n, best, fl * 1e-9, fl / best * 1e-9, 100 * fl / best * 1e-9 / dg);
            json_array_append_new(arr, json_pack("{s:s,s:i,s:i,s:f,s:f,s:f,s:i}", "method",
                msign_method_name(methods[mi]), "m", n, "n", 4 * n, "seconds", best, "flops", fl,
                "fraction_of_dgemm", fl / best * 1e-9 / dg, "iterations", info.iterations));
        }
    }
    if (rc == 0 && nsizes > 1)
        for (int mi = 0; mi < 4; mi++) {
            double xs[4];
            for (int i = 0; i < nsizes; i++)
                xs[i] = sizes[i];
            double p = bench_growth_exponent(nsizes, xs, ts[mi]);
            fprintf(out, "  %s time grows as n^%.2f\n", msign_method_name(methods[mi]), p);
            json_array_append_new(arr, json_pack("{s:s,s:f}", "growth_exponent_msign",
                                                 msign_method_name(methods[mi]), "exponent", p));
        }
    free(G);
    free(X);
    free(s);
    msign_ws_free(ws);
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
    int nw = quick ? 1 : 3, nr = sizeof runs / sizeof runs[0], reps = quick ? 2 : 5;
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
            ot[i] = (opt_tensor){"m", shapes[i][0], shapes[i][1], w + off, g + off, OPT_RULE_MATRIX};
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
            fprintf(out, "%-10s %5ld %6d %12.3f %14.1f\n", opt_kind_name(runs[ri].k), P, C,
                    per * 1e3, per / lion_s);
            json_array_append_new(arr, json_pack("{s:s,s:I,s:i,s:f}", "optimizer",
                opt_kind_name(runs[ri].k), "P", (json_int_t)P, "n_embd", C,
                "seconds_per_step", per));
        }
        free(w);
        free(g);
    }
    if (rc != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int bench_all(int quick, FILE *out, const char *json_path, lm_error *e)
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
    if (!op) {
        json_decref(tr);
        json_decref(ms);
        json_decref(root);
        return -1;
    }
    json_object_set_new(root, "train", tr);
    json_object_set_new(root, "msign", ms);
    json_object_set_new(root, "optimizer", op);
    int rc = 0;
    if (json_path) {
        char *txt = json_dumps(root, JSON_INDENT(2));
        rc = lm_write_atomic(json_path, txt, strlen(txt), e);
        free(txt);
    }
    json_decref(root);
    return rc;
}
