/* cmd_compare.c - `lionmuon compare A B`: two safetensors files, tensor by
 * tensor, under numpy.allclose's rule.
 *
 * A is the file under test, B the reference (numpy's b):
 *   element passes  <=>  |a - b| <= atol + rtol * |b|
 * and a tensor passes when every element does.  The errors reported per
 * tensor are max |a - b| and max |a - b| / |b| (0/0 counts as 0, x/0 as inf).
 * NaN in either file always fails (NaN = NaN is not evidence of agreement);
 * an infinity passes only against the same infinity, as in numpy.
 * Integer tensors (I64, I32) against integer tensors must match exactly;
 * an integer tensor against a floating one is compared as doubles under the
 * tolerance.
 *
 * Exit status: 0 all tensors of A pass, 1 some tensor fails (or is missing
 * from B, or has another shape there), 2 a usage error or an unreadable file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/safetensors.h"

static const char USAGE[] = "lionmuon compare A B [--rtol R] [--atol A]";
static const char ABOUT[] =
    "Compares every tensor of the safetensors file A with the tensor of the same\n"
    "name in B (the reference) and prints one row per tensor: name, shape,\n"
    "max_abs_err = max |a - b|, max_rel_err = max |a - b| / |b|, PASS or FAIL.\n"
    "A tensor passes when every element satisfies |a - b| <= atol + rtol * |b|\n"
    "(numpy.allclose(a, b) semantics).  NaN in either file always fails, even\n"
    "against NaN; an infinity passes only against the same infinity.  Integer\n"
    "tensors are compared exactly against integer tensors (and as doubles, under\n"
    "the tolerance, against floating ones).  Files are read at their stored dtype\n"
    "and upcast exactly, so an F32 file compares at its F32 values.\n"
    "A tensor of A missing from B, or of another shape there, fails; tensors only\n"
    "in B are listed as notes.  Metadata is not compared.\n"
    "The defaults suit double-vs-double comparisons of this reference (different\n"
    "BLAS or summation orders agree to ~1e-15 relative); GPU float32 results need\n"
    "looser ones, e.g. --rtol 1e-5 --atol 1e-6 (bf16: --rtol 1e-2 --atol 1e-2).\n"
    "Exit status: 0 all pass, 1 some tensor fails, 2 bad usage or unreadable file.";

/* What one tensor comparison found. */
typedef struct {
    double max_abs, max_rel; /* NaN when a NaN was met */
    size_t nbad;             /* elements outside the tolerance (NaN included) */
    size_t first_bad;        /* flat index of the first of them */
    double bad_a, bad_b;     /* its two values */
} cmp_stats;

/* Element k of a tensor as a double (an integer is converted, rounding to
 * nearest beyond 2^53). */
static double value_at(const st_tensor *t, size_t k)
{
    return t->f ? t->f[k] : (double)t->i[k];
}

/* numpy.allclose's rule for one pair, with NaN always failing and equal
 * infinities passing (inf - inf is NaN, so equality is tested first). */
static int elem_close(double a, double b, double rtol, double atol)
{
    if (isnan(a) || isnan(b))
        return 0;
    if (a == b)
        return 1;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

/* |a - b| and |a - b| / |b| for the reported maxima. */
static void elem_errors(double a, double b, double *abs_err, double *rel_err)
{
    if (a == b) {
        *abs_err = *rel_err = 0;
        return;
    }
    *abs_err = fabs(a - b);
    *rel_err = b != 0 ? *abs_err / fabs(b) : INFINITY;
}

static void note_bad(cmp_stats *s, size_t k, double a, double b)
{
    if (s->nbad++ == 0) {
        s->first_bad = k;
        s->bad_a = a;
        s->bad_b = b;
    }
}

/* Compare two tensors of equal numel.  Both integer: exact, element by
 * element in int64 (no rounding through double).  Otherwise as doubles
 * under the tolerance. */
static void compare_tensor(const st_tensor *ta, const st_tensor *tb, double rtol,
                           double atol, cmp_stats *s)
{
    int exact = ta->i && tb->i;
    int saw_nan = 0;
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < ta->numel; k++) {
        double a = value_at(ta, k), b = value_at(tb, k), ae, re;
        int ok = exact ? ta->i[k] == tb->i[k] : elem_close(a, b, rtol, atol);
        if (isnan(a) || isnan(b))
            saw_nan = 1;
        elem_errors(a, b, &ae, &re);
        s->max_abs = fmax(s->max_abs, ae);
        s->max_rel = fmax(s->max_rel, re);
        if (!ok)
            note_bad(s, k, a, b);
    }
    if (saw_nan)
        s->max_abs = s->max_rel = NAN;
}

static const char *shape_str(const st_tensor *t, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                                 (long long)t->shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

static int same_shape(const st_tensor *a, const st_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

/* Compare tensor ta of A with its namesake in B: print its table row, and
 * for a failure one line on stderr naming the tensor and the reason.
 * Returns 1 if it passes. */
static int compare_one(const st_tensor *ta, const st_file *b, int w, double rtol,
                       double atol)
{
    char sa[128], sb[128];
    const st_tensor *tb = st_get(b, ta->name);
    shape_str(ta, sa, sizeof sa);
    if (!tb) {
        printf("%-*s  %-16s  %12s  %12s  FAIL (missing from B)\n", w, ta->name, sa, "-",
               "-");
        fprintf(stderr, "lionmuon compare: tensor '%s' of A is missing from B\n", ta->name);
        return 0;
    }
    if (!same_shape(ta, tb)) {
        shape_str(tb, sb, sizeof sb);
        printf("%-*s  %-16s  %12s  %12s  FAIL (shape %s in B)\n", w, ta->name, sa, "-", "-",
               sb);
        fprintf(stderr, "lionmuon compare: tensor '%s': shape %s in A but %s in B\n",
                ta->name, sa, sb);
        return 0;
    }
    cmp_stats s;
    compare_tensor(ta, tb, rtol, atol, &s);
    printf("%-*s  %-16s  %12.3e  %12.3e  %s\n", w, ta->name, sa, s.max_abs, s.max_rel,
           s.nbad ? "FAIL" : "PASS");
    if (s.nbad)
        fprintf(stderr, "lionmuon compare: tensor '%s': %zu of %zu elements %s; first at "
                        "flat index %zu: a = %.17g, b = %.17g\n", ta->name, s.nbad,
                ta->numel, ta->i && tb->i ? "differ (integers compare exactly)"
                                          : "outside tolerance or NaN",
                s.first_bad, s.bad_a, s.bad_b);
    return s.nbad == 0;
}

/* Width of the name column: the longest name of A, within [4, 60]. */
static int name_width(const st_file *a)
{
    int w = 4;
    for (int k = 0; k < a->n; k++)
        w = LM_MAX(w, (int)strlen(a->t[k].name));
    return LM_MIN(w, 60);
}

/* The table, the notes on tensors only in B, the summary; 0 if all pass. */
static int compare_files(const st_file *a, const st_file *b, const char *pa,
                         const char *pb, double rtol, double atol)
{
    int w = name_width(a), passed = 0;
    printf("compare %s against %s (reference): pass when |a - b| <= atol + rtol*|b|, "
           "rtol %g, atol %g\n", pa, pb, rtol, atol);
    printf("%-*s  %-16s  %12s  %12s  %s\n", w, "name", "shape", "max_abs_err",
           "max_rel_err", "result");
    for (int k = 0; k < a->n; k++)
        passed += compare_one(&a->t[k], b, w, rtol, atol);
    for (int k = 0; k < b->n; k++)
        if (!st_get(a, b->t[k].name))
            printf("note: tensor '%s' is in B but not in A (not compared)\n", b->t[k].name);
    printf("compare: %d tensors, %d passed, %d failed\n", a->n, passed, a->n - passed);
    return passed == a->n ? 0 : 1;
}

int cmd_compare(int argc, char **argv)
{
    lm_error e = {{0}};
    double rtol = 1e-12, atol = 1e-12;
    cli_flag flags[] = {
        {"--rtol", FLAG_DOUBLE, &rtol, "relative tolerance (times |b|), >= 0", 0},
        {"--atol", FLAG_DOUBLE, &atol, "absolute tolerance, >= 0", 0},
    };
    int nflags = sizeof flags / sizeof flags[0];
    const char *pos[2];
    int npos, help;
    if (cli_parse(argc, argv, flags, nflags, pos, 2, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon compare: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    if (npos != 2) {
        fprintf(stderr, "lionmuon compare: expected two files A and B\nusage: %s\n", USAGE);
        return 2;
    }
    if (rtol < 0 || atol < 0) {
        fprintf(stderr, "lionmuon compare: %s must be >= 0 (got %g)\n",
                rtol < 0 ? "--rtol" : "--atol", rtol < 0 ? rtol : atol);
        return 2;
    }

    st_file *a = NULL, *b = NULL;
    if (st_read(pos[0], &a, &e) != 0 || st_read(pos[1], &b, &e) != 0) {
        fprintf(stderr, "lionmuon compare: %s\n", e.msg);
        st_free(a);
        return 2;
    }
    int rc = compare_files(a, b, pos[0], pos[1], rtol, atol);
    st_free(a);
    st_free(b);
    return rc;
}
