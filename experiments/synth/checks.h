/* checks.h - the theory checks V1-V6 of theory/bounds.md (prefix val_check_),
 * the experiment drivers behind `lionmuon synth-check`.  They link into the
 * tool, not into the library.  The shared runner is runner.c (runner.h,
 * private), each check one file v1.c .. v5.c.
 */
#ifndef LM_SYNTH_CHECKS_H
#define LM_SYNTH_CHECKS_H

#include "lionmuon/validate.h"

/* ---- the checks V1-V6 (theory/bounds.md, section "Checks") ----
 * Each writes, under dir: vK.csv (one row per configuration, means and 95%
 * t intervals over seeds), vK.md (the same as a Markdown table plus a
 * verdict line computed from the numbers), vK.dat (gnuplot data) and
 * vK.json (the summary the verdict quotes).  quick: a smaller grid and
 * fewer steps (same seeds count).  Runs go in parallel over OpenMP threads. */
typedef struct {
    int quick;
    int seeds;          /* >= 2 (>= 5 for the reported checks) */
    const char *dir;
} val_check_opts;

int val_check_v1(const val_check_opts *o, lm_error *e);
int val_check_v2(const val_check_opts *o, lm_error *e);
int val_check_v3(const val_check_opts *o, lm_error *e);
int val_check_v4(const val_check_opts *o, lm_error *e);
int val_check_v5(const val_check_opts *o, lm_error *e);
int val_check_v6(const val_check_opts *o, lm_error *e);
/* Run check "V1".."V6" (case-insensitive) after creating o->dir. */
int val_check_run(const char *name, const val_check_opts *o, lm_error *e);

#endif
