/* paper.h - the paper's claims at CPU scale (prefix paper_): the runs as
 * sweep manifests, learning-rate selection on a grid that extends itself,
 * and the generated report.
 *
 * Protocol (stated again in the report):
 *   models   GPT-2 and LLaMA, 2 layers, 4 heads, width 64, sequence 64,
 *            batch 24, 650 iterations, on the built-in Zipf-Markov corpus
 *            (vocabulary 256, known entropy rate): about 8 tokens per
 *            parameter as at 124M, and an NS5 msign costs 11.8% of a Muon
 *            step (P = 2 costs 0.941 of Muon) by the paper's FLOPs count,
 *            against 12.5% at 124M.  --quick shrinks all of it.
 *   configs  AdamW, Lion, Signum, Muon, SignMuon P = 2, LionMuon P = 1, 2, 5,
 *            20, 100, each starting from the paper's tuned 124M learning
 *            rates (theory/algorithms.md §5).
 *   tuning   tuning seeds 100 and 101; every learning rate of a config
 *            (lr_muon, lr_sign, lr_adamw) multiplied by a common factor from
 *            a factor-2 grid, starting at {8, 16, 32}; the factor with the
 *            lowest mean best validation loss over the tuning seeds is kept
 *            (a diverged run counts as +inf); when it is the grid's smallest
 *            or largest, the grid grows by a factor 2 on that side and the
 *            tuning stage runs again (paper_select returns PAPER_EXTENDED).
 *   main     evaluation seeds 1..8, disjoint from the tuning seeds, at the
 *            chosen factor; 95% t intervals over seeds; comparisons paired by
 *            seed, two-sided paired t-tests, Holm-adjusted over every verdict.
 *   compute  FLOPs by the paper's count and CPU time (user + system of the
 *            run's process, `lionmuon paper timed`), not wall time.
 * Every run is single-threaded, two at a time (lionmuon sweep --workers 2).
 */
#ifndef LM_PAPER_H
#define LM_PAPER_H

#include <jansson.h>

#include "lionmuon/common.h"

typedef enum { PAPER_TUNE = 0, PAPER_MAIN } paper_stage;

/* paper_select's return value when it grew a grid (run the tuning stage
 * again), beside 0 (every pick interior or capped) and -1 (error). */
#define PAPER_EXTENDED 3

/* Write the manifest of a stage under dir (the main stage reads
 * dir/tuned.json).  quick: the small, fast variant used by the tests. */
int paper_manifest(const char *dir, paper_stage stage, int quick, const char *manifest,
                   lm_error *e);

/* Pick each config's learning-rate factor from the tuning runs; writes
 * dir/tuned.json; grows dir/grid.json where a pick is at the grid's end
 * (returns PAPER_EXTENDED then). */
int paper_select(const char *dir, int quick, lm_error *e);

/* `lionmuon paper timed FILE train ARGS...`: run train in this process, then
 * write FILE with its CPU time (getrusage RUSAGE_SELF: user + system) and
 * exit status, and a progress line on stderr.  Returns train's exit status,
 * or 1 when train succeeded but FILE could not be written. */
int paper_timed(const char *path, int argc, char **argv, int (*train)(int, char **));

/* The rank agreement between the CPU reproduction under results_dir (mean
 * best validation loss over the finished evaluation seeds, per model and
 * config) and the paper's own FineWeb runs of the same optimizers under
 * audit_dir (GPT-2 and LLaMA at 124M, `paper audit`): Spearman's rho with
 * its two-sided p-value, per model.  Appends a Markdown section to md and
 * returns the same as a JSON object in *js (both optional). */
int paper_rank_agreement(const char *audit_dir, const char *results_dir, lm_buf *md, json_t **js,
                         lm_error *e);

/* Tables, gnuplot figures and the Markdown report.  plots_dir (created)
 * receives each figure's PNG with the data and gnuplot script it is drawn
 * from (gnuplot runs there, without a shell, on relative names).
 * plots_link: how the report refers to plots_dir (relative to the report;
 * NULL: plots_dir itself).  msign_csv (may be NULL) is the msign accuracy
 * study's output (copied into plots_dir for its figure). */
int paper_report(const char *dir, int quick, const char *report_path, const char *plots_dir,
                 const char *plots_link, const char *msign_csv, const char *audit_dir,
                 lm_error *e);

#endif
