/* demo.h - the numerics of the demonstration and of the msign accuracy study
 * (prefix demo_), printed by `lionmuon demo` and `lionmuon msign-study`.
 */
#ifndef LM_TOOLS_DEMO_H
#define LM_TOOLS_DEMO_H

#include <stdio.h>

#include "lionmuon/common.h"

/* msign (ns5, cubic, polar-express) against the exact polar factor (svd) on
 * the shapes square, 1:3, 1:4, 4:1 (two with quick) and the nconds condition
 * numbers conds[] (geometric spectra from 1 down to 1/cond): iterations,
 * errors in spectral and relative Frobenius norm, the singular-value band and
 * the time in units of one Gram-shaped DGEMM.  Printed on stdout, and written
 * as CSV rows to csv when it is not NULL. */
int demo_msign_table(unsigned long seed, int quick, int nconds, const double *conds, FILE *csv,
                     lm_error *e);

/* Two LionMuon steps on a random matrix, one Muon and one Lion, sharing the
 * momentum buffer; prints the norms of each update against the rule's
 * prediction (theory/algorithms.md §2.1). */
int demo_lionmuon_steps(unsigned long seed, lm_error *e);

#endif
