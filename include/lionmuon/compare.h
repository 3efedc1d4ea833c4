/* compare.h - two safetensors files, tensor by tensor (prefix cmp_): the
 * engine of `lionmuon compare A B [--baseline IN]`.
 *
 * A is the file under test, B the reference.  Per tensor of A:
 *   - NaN anywhere (in A or in B) fails; an infinity passes only against the
 *     same infinity; integer tensors are compared as integers, exactly, and
 *     an integer against a float exactly (the float must be that integer);
 *   - otherwise the verdict is the relative Frobenius error
 *         rel_fro = ||a - b||_F / ||b||_F  <=  tol
 *     (0/0 = 0), with tol from the precision (lowprec.h: LP_MARGIN times the
 *     measured envelope of a correct implementation) unless given;
 *   - reported besides: max |a - b|, the worst element with its index (row,
 *     column), and max |a - b| / |b| elementwise (a column, not the verdict:
 *     near-zero entries of b dominate it).  With allclose set, numpy's rule
 *     |a - b| <= atol + rtol |b| must also hold for every element.
 * Update mode (baseline IN): for every tensor of A, also in IN and B, the
 * updates a - in and b - in are compared instead:
 *         ||(a - in) - (b - in)||_F / ||b - in||_F  <=  tol(kind)
 * where the kind (muon, sign, adamw, state) is read from B's __metadata__
 * step_kinds (written by `lionmuon step`) and tol(kind) adds the rounding of
 * A's stored values (lp_threshold).  So a step that changes nothing fails
 * (error 1) in every precision; when tol(kind) would reach 1 the tensor
 * cannot be verified at all and that is an error.
 * Precision: the coarsest floating dtype of A unless given; a precision
 * finer than a tensor of A holds (f64 on an F32 file) is an error.
 */
#ifndef LM_COMPARE_H
#define LM_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "lowprec.h"
#include "safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int precision_given;
    lp_precision precision;
    double tol;          /* > 0: the threshold on rel_fro for every tensor */
    int allclose;        /* also numpy's elementwise rule */
    double rtol, atol;
    const char *baseline;/* NULL: compare values; else the update mode */
    int kind_given;      /* update mode: the kind of tensors B records none for */
    lp_kind kind;
} cmp_opts;

typedef struct {
    char *name;
    char shape[96];
    st_dtype dtype;      /* A's stored dtype */
    int ok;
    char reason[200];    /* why it failed ("" when it passed) */
    int compared;        /* 0: missing from B or of another shape */
    int integer;         /* compared exactly */
    lp_kind kind;        /* LP_KIND_VALUE, or the update's kind */
    double max_abs, rel_fro, max_rel, tol;
    int has_worst;
    int64_t worst_index[ST_MAX_DIM];
    int worst_ndim;
    double worst_a, worst_b;
    size_t nbad;         /* elements failing the elementwise rules */
} cmp_row;

typedef struct {
    lp_precision precision;
    int precision_given;
    const char *path_a, *path_b, *path_in;
    cmp_opts opts;
    cmp_row *rows;
    int n, passed;
    char **notes;        /* tensors only in B */
    int nnotes;
} cmp_report;

/* Read A, B (and the baseline) and compare.  0 with *r filled (r->passed ==
 * r->n when every tensor passed), or -1 for input that cannot be compared
 * (unreadable, a precision a tensor of A cannot hold, a baseline or a step
 * kind missing for a tensor), e naming the file and the tensor. */
int cmp_files(const cmp_opts *o, const char *path_a, const char *path_b, cmp_report *r,
              lm_error *e);
void cmp_report_free(cmp_report *r);

/* The report as the table `compare` prints (header with the precision and
 * the thresholds, one row per tensor, the notes, the summary), and the
 * failures one per line for stderr. */
void cmp_format_table(const cmp_report *r, lm_buf *out);
void cmp_format_failures(const cmp_report *r, lm_buf *out);
/* The same as a JSON object text (malloc'd). */
char *cmp_format_json(const cmp_report *r);

#ifdef __cplusplus
}
#endif

#endif
