/* paper.h - the paper's claims at CPU scale (prefix paper_): the runs as
 * sweep manifests, learning-rate selection, and the generated report.
 *
 * Protocol (stated again in the report):
 *   models   GPT-2 and LLaMA, 2 layers, 4 heads, width 64, sequence 32,
 *            batch 16, 400 iterations, on the built-in Zipf-Markov corpus
 *            (vocabulary 256, known entropy rate); --quick shrinks all of it.
 *   configs  AdamW, Lion, Signum, Muon, SignMuon P = 2, LionMuon P = 1, 2, 5,
 *            20, 100, each starting from the paper's tuned 124M learning
 *            rates (theory/algorithms.md §5).
 *   tuning   one seed (100); every learning rate of a config (lr_muon,
 *            lr_sign, lr_adamw) multiplied by a common factor from the grid
 *            {1, 4, 16, 64}; the factor with the lowest best validation loss
 *            is kept (a diverged run counts as +inf).
 *   main     seeds 1..5 at the chosen factor; 95% t intervals over seeds;
 *            comparisons between configs are paired by seed (same init and
 *            data order).
 * Every run is single-threaded, two at a time (lionmuon sweep --workers 2).
 */
#ifndef LM_PAPER_H
#define LM_PAPER_H

#include "lionmuon/common.h"

typedef enum { PAPER_TUNE = 0, PAPER_MAIN } paper_stage;

/* Write the manifest of a stage under dir (the main stage reads
 * dir/tuned.json).  quick: the small, fast variant used by the tests. */
int paper_manifest(const char *dir, paper_stage stage, int quick, const char *manifest,
                   lm_error *e);

/* Pick each config's learning-rate factor from the tuning runs; writes
 * dir/tuned.json. */
int paper_select(const char *dir, int quick, lm_error *e);

/* Tables, gnuplot figures and the Markdown report.  plots_dir (created)
 * receives each figure's PNG with the data and gnuplot script it is drawn
 * from (gnuplot runs there, without a shell, on relative names).
 * plots_link: how the report refers to plots_dir (relative to the report;
 * NULL: plots_dir itself).  msign_csv (may be NULL) is the msign accuracy
 * study's output (copied into plots_dir for its figure). */
int paper_report(const char *dir, int quick, const char *report_path, const char *plots_dir,
                 const char *plots_link, const char *msign_csv, lm_error *e);

#endif
