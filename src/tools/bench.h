/* bench.h - benchmarks: rates measured against this machine's DGEMM
 * (prefix bench_).  Benchmarks are not tests: they report, they do not
 * assert.  Every rate is a ratio inside one run, since absolute times drift
 * between runs and machines. */
#ifndef LM_BENCH_H
#define LM_BENCH_H

#include <stdio.h>
#include <jansson.h>
#include "lionmuon/common.h"
#include "lionmuon/model.h"
#include "lionmuon/optim.h"

/* Best DGEMM rate (GFLOP/s) over square sizes 256, 512 and 1024, each timed
 * for at least min_seconds. */
double bench_dgemm_gflops(double min_seconds);

/* The slope and intercept of log(y) = a + p log(x) by least squares
 * (gsl_fit_linear): the growth exponent p of a cost y with a size x. */
double bench_growth_exponent(int n, const double *x, const double *y);

/* One training step of the transformer, timed. */
typedef struct {
    double seconds_per_step;   /* median over the timed steps */
    double mean_seconds_per_step; /* mean: with P = 2 and an even count, whole
                                     periods (the median of an odd count of
                                     alternating steps is a Lion step) */
    double forward_s, backward_s, optimizer_s; /* medians of the parts */
    double model_flops_per_step;   /* 6 N B T, the paper's accounting */
    double total_flops_per_step;   /* plus the optimizer's msign/sign FLOPs */
    double executed_flops_per_step; /* all the arithmetic a step does: 6 N B T,
                                       the attention's 12 L B T^2 C (the full
                                       T x T products), and the optimizer's
                                       msign as executed (ns5: dsyrk counts
                                       half a product, so 3 k^2 d + k^3 a
                                       step, not the paper's 4 k^2 d + 2 k^3)
                                       and sign steps */
    double dgemm_gflops;       /* median rate of a 1024^3 DGEMM timed after
                                  each step: the same load as the steps */
    double dgemm_best_gflops;  /* the caller's best-case rate, as passed */
    double cpu_seconds_per_step; /* mean CPU seconds of a step, all threads:
                                    other jobs on the cores do not stretch
                                    it (spinning threads do) */
    double dgemm_gflops_per_cpu; /* the DGEMM's FLOPs per CPU second (median) */
    size_t n_params;
} bench_train_result;

/* Time `steps` steps (after one warm-up step) of forward, backward, clipping
 * (grad_clip) and the optimizer on random tokens from seed.  After each
 * step one 1024^3 DGEMM is timed too, and the rate reported against is the
 * median of those: on a shared machine a best-of DGEMM sees an idle moment
 * that a step never does, so the ratio compares like with like (on an idle
 * machine the two agree).  dgemm_gflops (best of bench_dgemm_gflops) is
 * kept as dgemm_best_gflops. */
int bench_train(const model_config *mc, int B, int T, const opt_config *oc,
                double grad_clip, int steps, unsigned long seed, double dgemm_gflops,
                bench_train_result *r, lm_error *e);

/* The full suite: DGEMM and the OpenBLAS kernel, training at several sizes,
 * msign by method and size (time against ns5 and DGEMM, error against svd),
 * optimizer steps by optimizer and P, growth exponents beside the FLOP
 * counts', and (exe not NULL) the throughput of tiny runs.  Prints a table
 * to `out` and writes JSON to json_path (if not NULL).  quick: the smallest
 * sizes only, for the test suite. */
int bench_all(int quick, const char *exe, FILE *out, const char *json_path, lm_error *e);

/* The growth exponent of a cost y over sizes x beside the theoretical one,
 * the slope of its FLOP count f over the same sizes: one line to out, and
 * a JSON object {key: what, size, exponent, theory, exceeds}, exceeds when
 * the measured exponent is above the theory by more than 0.3. */
json_t *bench_growth(FILE *out, const char *key, const char *what, const char *size, int n,
                     const double *x, const double *y, const double *f);

/* Throughput of a standard tiny run (a small synth run), spawned from the
 * program exe as a sweep spawns it: runs per second, and per run the
 * process start, the file writes and the run's own work (bench_runs.c).
 * quick: 3 rounds, else 15. */
json_t *bench_runs_section(int quick, const char *exe, FILE *out, lm_error *e);

#endif
