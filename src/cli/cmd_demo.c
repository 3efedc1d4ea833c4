/* cmd_demo.c - `lionmuon demo`: the main job on built-in defaults.
 *
 * 1. The machine's DGEMM rate.
 * 2. msign by ns5, cubic and polar-express against the exact SVD polar factor
 *    on matrices of known spectrum (square, 1:3, 1:4, 4:1; two conditionings):
 *    error, singular-value band, iterations, and time in units of one DGEMM.
 * 3. Two steps of LionMuon (P = 2) on one matrix: a Muon step, then a Lion
 *    step, sharing one momentum buffer, with the step lengths in both norms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/blaskernel.h"
#include "cli.h"
#include "lionmuon/linalg.h"
#include "lionmuon/fs.h"
#include "lionmuon/msign.h"
#include "lionmuon/optim.h"

static const char USAGE[] = "lionmuon demo [--seed S] [--quick]";
static const char ABOUT[] =
    "The main job on built-in defaults (no download): the measured DGEMM rate,\n"
    "the accuracy and cost of each msign approximation against the exact polar\n"
    "factor, and two LionMuon steps (one Muon, one Lion) on a random matrix.";

/* The accuracy table: shapes square, 1:3, 1:4, 4:1 and the given
 * conditionings; printed, and written as CSV rows when csv is not NULL. */
static int msign_table(unsigned long seed, int quick, int nconds, const double *conds, FILE *csv,
                       lm_error *e)
{
    static const int shapes[][2] = {{256, 256}, {128, 384}, {128, 512}, {512, 128}};
    static const msign_method methods[] = {MSIGN_NS5, MSIGN_CUBIC, MSIGN_POLAR_EXPRESS};
    int nshapes = quick ? 2 : 4;
    double min_s = quick ? 0.005 : 0.05;
    if (csv)
        fprintf(csv, "m,n,cond,method,iterations,err_spectral,err_fro_rel,sv_min,sv_max,seconds,"
                     "flops,gemm_units\n");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    msign_ws *ws = msign_ws_alloc(512, 512);
    int rc = 0;

    printf("\nmsign against the exact polar factor (svd); singular values of G are\n"
           "geometric from 1 down to 1/cond; time is in units of one DGEMM of the\n"
           "Gram matrix's shape, (dmin x dmax)(dmax x dmin): ns5 costs about 2.5\n"
           "such products a step by the paper's count.\n\n");
    printf("%-9s %6s %-13s %5s %10s %10s %17s %9s\n", "shape", "cond", "method", "iters",
           "err_2", "err_F/|F|", "sv band", "time/gemm");
    for (int si = 0; si < nshapes && rc == 0; si++) {
        int m = shapes[si][0], n = shapes[si][1], k = LM_MIN(m, n);
        double *G = lm_malloc((size_t)m * n * sizeof *G);
        double *X = lm_malloc((size_t)m * n * sizeof *X);
        double *s = lm_malloc((size_t)k * sizeof *s);
        double t_gemm = la_time_dgemm(k, LM_MAX(m, n), k, min_s);
        for (int ci = 0; ci < nconds && rc == 0; ci++) {
            for (int i = 0; i < k; i++)
                s[i] = pow(conds[ci], -(double)i / (k - 1));
            rc = la_random_with_spectrum(m, n, s, r, G);
            msign_opts svd = msign_default_opts(MSIGN_SVD);
            msign_info info;
            if (rc == 0)
                rc = msign(&svd, m, n, G, X, ws, &info, e);
            msign_accuracy acc;
            if (rc == 0)
                rc = msign_measure(&svd, m, n, G, X, k, min_s, ws, &acc, e);
            if (rc == 0)
                printf("%4dx%-4d %6.0e %-13s %5s %10s %10s %17s %9.1f\n", m, n, conds[ci], "svd",
                       "-", "0", "0", "1", acc.seconds / t_gemm);
            if (rc == 0 && csv)
                fprintf(csv, "%d,%d,%g,svd,0,0,0,1,1,%.6g,%.6g,%.4g\n", m, n, conds[ci],
                        acc.seconds, msign_flops(&svd, m, n), acc.seconds / t_gemm);
            for (int mi = 0; mi < 3 && rc == 0; mi++) {
                msign_opts o = msign_default_opts(methods[mi]);
                rc = msign_measure(&o, m, n, G, X, k, min_s, ws, &acc, e);
                if (rc == 0)
                    printf("%4dx%-4d %6.0e %-13s %5d %10.2e %10.2e  [%6.4f, %6.4f] %9.1f\n", m, n,
                           conds[ci], msign_method_name(methods[mi]), acc.iterations,
                           acc.err_spectral, acc.err_fro_rel, acc.sv_min, acc.sv_max,
                           acc.seconds / t_gemm);
                if (rc == 0 && csv) {
                    o.steps = acc.iterations;
                    fprintf(csv, "%d,%d,%g,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g\n", m, n,
                            conds[ci], msign_method_name(methods[mi]), acc.iterations,
                            acc.err_spectral, acc.err_fro_rel, acc.sv_min, acc.sv_max,
                            acc.seconds, msign_flops(&o, m, n), acc.seconds / t_gemm);
                }
            }
        }
        free(G);
        free(X);
        free(s);
    }
    msign_ws_free(ws);
    gsl_rng_free(r);
    return rc;
}

static void print_matrix_step(const char *what, int m, int n, const double *before,
                              const double *after)
{
    double *D = lm_malloc((size_t)m * n * sizeof *D);
    for (int i = 0; i < m * n; i++)
        D[i] = after[i] - before[i];
    printf("  %-10s ||dW||_2 = %.6f  ||dW||_inf = %.6f  ||dW||_F = %.6f\n", what,
           la_norm_spectral(m, n, D), la_norm_linf(m, n, D), la_norm_fro(m, n, D));
    free(D);
}

static int lionmuon_steps(unsigned long seed, lm_error *e)
{
    enum { M = 6, N = 10 };
    opt_config c = opt_default_config(OPT_LIONMUON);
    c.weight_decay = 0.0; /* so the step is the update alone */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed + 1);
    double W[M * N], W0[M * N], G[M * N], Mom[M * N] = {0};
    for (int i = 0; i < M * N; i++)
        W[i] = 0.02 * gsl_ran_gaussian(r, 1.0);
    opt_matrix_ws *ws = opt_matrix_ws_alloc(M, N);
    printf("\nLionMuon P = %ld, beta1 = %g, beta2 = %g, lr_muon = %g, lr_sign = %g on a %d x %d "
           "matrix:\n", c.period, c.beta1, c.beta2, c.lr_muon, c.lr_sign, M, N);
    printf("  a Muon step moves W by lr_muon * 0.2 sqrt(max(m,n)) in spectral norm;\n"
           "  a Lion step moves every entry by exactly lr_sign.\n");
    int rc = 0;
    for (long t = 0; t < 2 && rc == 0; t++) {
        for (int i = 0; i < M * N; i++)
            G[i] = gsl_ran_gaussian(r, 1.0);
        memcpy(W0, W, sizeof W);
        int muon;
        rc = opt_lionmuon_matrix(&c, t, 1.0, M, N, W, G, Mom, ws, &muon, e);
        if (rc == 0) {
            char what[32];
            snprintf(what, sizeof what, "t=%ld %s", t, muon ? "Muon" : "Lion");
            print_matrix_step(what, M, N, W0, W);
        }
    }
    printf("  expected:  Muon ||dW||_2 = %.6f times the top singular value of ns5's\n"
           "             output (in [0.7, 1.2]; exactly 1 with --msign svd);\n"
           "             Lion ||dW||_inf = %.6f\n", c.lr_muon * 0.2 * sqrt((double)N), c.lr_sign);
    opt_matrix_ws_free(ws);
    gsl_rng_free(r);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    lm_error e = {{0}};
    long seed = 1;
    int quick = 0;
    cli_flag flags[] = {
        {"--seed", FLAG_LONG, &seed, "random seed", 0},
        {"--quick", FLAG_BOOL, &quick, "smaller and faster", 0},
    };
    int nflags = 2, npos, help;
    const char *pos[1];
    if (cli_parse(argc, argv, flags, nflags, pos, 0, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon demo: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    double t = la_time_dgemm(512, 512, 512, quick ? 0.05 : 0.3);
    printf("LionMuon reference demo (seed %ld)\n", seed);
    char kernel[512];
    lm_blas_kernel_describe(kernel, sizeof kernel);
    printf("DGEMM 512^3: %.1f GFLOP/s on this machine, OpenBLAS kernel %s\n",
           2.0 * 512 * 512 * 512 / t * 1e-9, kernel);
    static const double conds[] = {1e2, 1e6};
    if (msign_table((unsigned long)seed, quick, 2, conds, NULL, &e) != 0 ||
        lionmuon_steps((unsigned long)seed, &e) != 0) {
        fprintf(stderr, "lionmuon demo: %s\n", e.msg);
        return 1;
    }
    return 0;
}

static const char STUDY_USAGE[] = "lionmuon msign-study --out FILE.csv [--seed S] [--quick]";
static const char STUDY_ABOUT[] =
    "msign accuracy against cost for the paper-claims report: ns5, cubic and\n"
    "polar-express against the exact polar factor on square, 1:3, 1:4 and 4:1\n"
    "matrices with condition numbers 10, 1e2, 1e4, 1e6 (geometric spectra): errors\n"
    "in spectral and relative Frobenius norm, the singular-value band, iterations,\n"
    "FLOPs and time in units of one Gram-shaped DGEMM.  Writes CSV atomically.";

int cmd_msign_study(int argc, char **argv)
{
    lm_error e = {{0}};
    long seed = 1;
    int quick = 0;
    const char *out = NULL;
    cli_flag flags[] = {
        {"--out", FLAG_STRING, &out, "CSV file to write", 0},
        {"--seed", FLAG_LONG, &seed, "random seed", 0},
        {"--quick", FLAG_BOOL, &quick, "two shapes, shorter timings", 0},
    };
    int npos, help;
    const char *pos[1];
    if (cli_parse(argc, argv, flags, 3, pos, 0, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon msign-study: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, STUDY_USAGE, STUDY_ABOUT, flags, 3);
        return 0;
    }
    if (!out) {
        fprintf(stderr, "lionmuon msign-study: --out is required\n");
        return 2;
    }
    static const double conds[] = {1e1, 1e2, 1e4, 1e6};
    char *text = NULL;
    size_t len = 0;
    FILE *csv = open_memstream(&text, &len);
    int rc = msign_table((unsigned long)seed, quick, 4, conds, csv, &e);
    fclose(csv);
    if (rc == 0)
        rc = lm_write_atomic(out, text, len, &e);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "lionmuon msign-study: %s\n", e.msg);
        return 1;
    }
    return 0;
}
