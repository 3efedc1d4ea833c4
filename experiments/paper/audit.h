/* audit.h - `lionmuon paper audit DIR` (prefix audit_): the paper's released
 * training runs (DIR/NAME/summary.json, one folder per run; see
 * theory/algorithms.md §9) read back and checked against the paper's claim
 * that LionMuon P = 2 Pareto-dominates Muon, Lion, Signum and AdamW.
 *
 * Per run: the optimizer class (args.opt), a label of what the run is
 * (theory/algorithms.md §2.2 names), the best validation loss (the minimum
 * of the finite val_loss entries), the total FLOPs by the paper's count
 * (theory/algorithms.md §8) and the wall time.  Per (data set, model): the
 * runs by loss, the Pareto front in (total FLOPs, best validation loss), and
 * the verdict on the claim against each baseline.  Also the FineWeb GPT-2
 * headline table of theory/algorithms.md §9 reproduced from the logs.
 *
 * Input is refused, with a one-line message naming the file, when a
 * summary.json is not a regular file, exceeds AUDIT_MAX_BYTES, is not valid
 * JSON, or lacks a field the audit needs.  The non-standard tokens NaN,
 * Infinity and -Infinity (Python's json.dump writes them) are read as null.
 */
#ifndef LM_AUDIT_H
#define LM_AUDIT_H

#include <stddef.h>

#include "lionmuon/common.h"

#define AUDIT_MAX_BYTES ((size_t)64 << 20)
/* A period at least this large means "never a Muon step" (the paper's code
 * writes never as 10000000, which still steps Muon at t = 0). */
#define AUDIT_NEVER 1e6

typedef struct {
    char *name;          /* the run's folder */
    char *dataset, *model, *opt;
    char label[64];      /* "LionMuon P=2", "Muon", "Lion", "AdamW", ... */
    const char *flops_rule; /* the accounting used, in words */
    int approximate;     /* 1: not the paper's accounting */
    double best_val;     /* NAN when no finite val_loss entry */
    double flops;        /* total FLOPs */
    double model_flops;  /* iterations * 6 N T B alone */
    double wall;         /* seconds, NAN when absent */
    double period;       /* muon_every_k; NAN when the class has none */
    long iterations, n_layer, n_embd, seq_len, batch, vocab, ns_steps;
    int nonfinite_tokens; /* NaN/Infinity tokens read as null */
} audit_run;

typedef struct {
    char *dir;
    audit_run *runs;     /* sorted by name */
    size_t nruns;
    char **skipped;      /* folders without summary.json, sorted */
    size_t nskipped;
} audit_set;

/* The paper's per-iteration counts (theory/algorithms.md §8), GPT-2 form:
 *   model  6 N T B,  N = L 12 C^2 + V C + T C
 *   NS     ns_steps * 2 dmin^2 (2 dmax + dmin) over (C,3C), (C,C), (C,4C),
 *          (4C,C) in each of the L layers
 *   sign   m n over the same matrices */
double audit_model_flops(long n_layer, long n_embd, long vocab, long seq_len, long batch);
double audit_ns_flops(long n_layer, long n_embd, long ns_steps);
double audit_sign_flops(long n_layer, long n_embd);

/* Total FLOPs of a run of `iterations` steps with Muon period P:
 *   iterations (model + NS / P + sign (1 - 1/P)),
 * and for P >= AUDIT_NEVER iterations (model + sign) + NS (the one Muon
 * step at t = 0). */
double audit_total_flops(double iterations, double model, double ns, double sign, double P);

/* Read every DIR/NAME/summary.json.  A folder without one is recorded in
 * s->skipped; any other problem fails with e naming the file. */
int audit_load(const char *dir, audit_set *s, lm_error *e);
void audit_free(audit_set *s);

/* The best validation loss of the run in folder `name` (NAN when absent or
 * without a finite val_loss). */
double audit_best_val(const audit_set *s, const char *name);

/* The report: Markdown-ish text, or (json != 0) one JSON object, appended
 * to out.  headline_md (may be NULL): a Markdown file holding the headline
 * table of theory/algorithms.md §9, whose values are printed beside the
 * values from the logs. */
int audit_render(const audit_set *s, int json, const char *headline_md, lm_buf *out,
                 lm_error *e);

#endif
