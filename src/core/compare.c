/* compare.c - the verdicts of `lionmuon compare` (compare.h): per tensor the
 * relative Frobenius error against a threshold derived from the measured
 * envelope of a correct implementation (lowprec.h), exact integers, NaN and
 * infinities, optionally numpy's elementwise rule, and the update mode. */
#include "lionmuon/compare.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The precision a floating dtype stores; -1 for an integer dtype. */
static int dtype_prec(st_dtype d)
{
    switch (d) {
    case ST_F64: return LP_F64;
    case ST_F32: return LP_F32;
    case ST_BF16: return LP_BF16;
    case ST_F16: return LP_F16;
    default: return -1;
    }
}

/* 1 if values stored as d can carry a result computed in precision p. */
static int can_hold(st_dtype d, lp_precision p)
{
    int q = dtype_prec(d);
    return q < 0 || q == LP_F64 || q == (int)p || (q == LP_F32 && p != LP_F64);
}

/* The coarsest floating dtype of f, as a precision (f64 if none). */
static lp_precision coarsest(const st_file *f)
{
    static const int rank[LP_NPREC] = {0, 1, 3, 2}; /* f64 < f32 < f16 < bf16 */
    int best = LP_F64;
    for (int i = 0; i < f->n; i++) {
        int q = dtype_prec(f->t[i].dtype);
        if (q >= 0 && rank[q] > rank[best])
            best = q;
    }
    return (lp_precision)best;
}

static double value_at(const st_tensor *t, size_t k)
{
    return t->f ? t->f[k] : (double)t->i[k];
}

/* An integer against a float, exactly: the float must be that integer. */
static int int_equals_float(int64_t i, double f)
{
    if (!isfinite(f) || f != trunc(f) || f < -0x1p63 || f >= 0x1p63)
        return 0;
    return (int64_t)f == i;
}

/* What the scan of one tensor pair found. */
typedef struct {
    long double ss_diff, ss_ref, ss_b;
    double max_abs, max_rel;
    size_t worst;
    int has_worst;
    size_t nnan, ninf, nint, nclose; /* NaN, unequal infinities, integers, allclose */
    size_t first_special;            /* the first NaN / infinity / integer mismatch */
    int has_special;
} scan_acc;

static void note_special(scan_acc *s, size_t k)
{
    if (!s->has_special) {
        s->has_special = 1;
        s->first_special = k;
    }
}

/* One element pair: a (under test), b (reference), in (baseline, 0 without). */
static void scan_elem(const cmp_opts *o, scan_acc *s, size_t k, double a, double b, double in)
{
    if (isnan(a) || isnan(b)) {
        s->nnan++;
        note_special(s, k);
        return;
    }
    if (isinf(a) || isinf(b)) {
        if (a != b) {
            s->ninf++;
            note_special(s, k);
        }
        return;
    }
    double d = fabs(a - b), ref = b - in;
    s->ss_diff += (long double)d * d;
    s->ss_ref += (long double)ref * ref;
    s->ss_b += (long double)b * b;
    double rel = d == 0 ? 0 : ref != 0 ? d / fabs(ref) : INFINITY;
    if (!s->has_worst || d > s->max_abs) {
        s->max_abs = d;
        s->worst = k;
        s->has_worst = 1;
    }
    s->max_rel = fmax(s->max_rel, rel);
    if (o->allclose && !(d <= o->atol + o->rtol * fabs(ref)))
        s->nclose++;
}

/* Scan ta against tb (equal numel), with baseline tin (NULL: none). */
static void scan(const cmp_opts *o, const st_tensor *ta, const st_tensor *tb,
                 const st_tensor *tin, scan_acc *s)
{
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < ta->numel; k++) {
        if (ta->i || tb->i) {
            int eq = ta->i && tb->i ? ta->i[k] == tb->i[k]
                     : ta->i        ? int_equals_float(ta->i[k], tb->f[k])
                                    : int_equals_float(tb->i[k], ta->f[k]);
            if (!eq) {
                s->nint++;
                note_special(s, k);
            }
        }
        scan_elem(o, s, k, value_at(ta, k), value_at(tb, k), tin ? value_at(tin, k) : 0.0);
    }
}

static void shape_str(const st_tensor *t, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                                 (long long)t->shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}


/* Flat index k as the multi-index of t. */
static void unflatten(const st_tensor *t, size_t k, cmp_row *row)
{
    row->worst_ndim = t->ndim;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d] > 0 ? t->shape[d] : 1;
        row->worst_index[d] = (int64_t)(k % (size_t)n);
        k /= (size_t)n;
    }
}

/* The verdict of a scanned pair; the threshold row->tol is set. */
static void verdict(const cmp_opts *o, const scan_acc *s, const st_tensor *ta,
                    const st_tensor *tb, const st_tensor *tin, cmp_row *row)
{
    row->max_abs = s->max_abs;
    row->max_rel = s->max_rel;
    row->rel_fro = s->ss_diff == 0 ? 0 : s->ss_ref > 0 ? (double)sqrtl(s->ss_diff / s->ss_ref)
                                                       : INFINITY;
    size_t k = s->has_special ? s->first_special : s->worst;
    if (s->has_special || s->has_worst) {
        row->has_worst = 1;
        unflatten(ta, k, row);
        row->worst_a = value_at(ta, k);
        row->worst_b = value_at(tb, k);
    }
    row->nbad = s->nnan + s->ninf + s->nint + s->nclose;
    row->ok = 0;
    if (s->nnan)
        snprintf(row->reason, sizeof row->reason, "NaN (%zu elements)", s->nnan);
    else if (s->ninf)
        snprintf(row->reason, sizeof row->reason,
                 "an infinity against another value (%zu elements)", s->ninf);
    else if (s->nint)
        snprintf(row->reason, sizeof row->reason,
                 "%zu elements differ (integers compare exactly)", s->nint);
    else if (row->integer)
        row->ok = 1;
    else {
        int fro_bad = !(row->rel_fro <= row->tol);
        size_t used = 0;
        if (fro_bad)
            used = (size_t)snprintf(row->reason, sizeof row->reason,
                                    "relative Frobenius error %.3e > %.3e%s", row->rel_fro,
                                    row->tol, tin ? " (of the update)" : "");
        if (s->nclose && used < sizeof row->reason)
            snprintf(row->reason + used, sizeof row->reason - used,
                     "%s%zu elements outside tolerance |a - b| <= atol + rtol |b|",
                     used ? "; " : "", s->nclose);
        row->ok = !fro_bad && !s->nclose;
    }
}

/* The kind of tensor `name` recorded in B's step_kinds (or --kind). */
static int kind_of(const cmp_opts *o, json_t *kinds, const char *pb, const char *name,
                   lp_kind *k, lm_error *e)
{
    const char *s = kinds ? json_string_value(json_object_get(kinds, name)) : NULL;
    if (!s) {
        if (o->kind_given) {
            *k = o->kind;
            return 0;
        }
        return lm_fail(e, "%s: __metadata__ step_kinds records no kind for tensor %s "
                          "(write B with `lionmuon step`, or pass --kind)", pb, name);
    }
    if (lp_kind_parse(s, k) || *k == LP_KIND_VALUE)
        return lm_fail(e, "%s: __metadata__ step_kinds gives tensor %s the unknown kind '%s' "
                          "(muon, sign, adamw, state)", pb, name, s);
    return 0;
}

/* The threshold of one tensor: the option, or lp_threshold for the
 * precision and kind, plus the rounding of A's stored values in update
 * mode.  An update the precision cannot verify (threshold >= 1: a step
 * that changed nothing would pass) is an error. */
static int threshold(const cmp_report *r, const st_tensor *ta, const scan_acc *s,
                     cmp_row *row, lm_error *e)
{
    if (r->opts.tol > 0) {
        row->tol = r->opts.tol;
        return 0;
    }
    if (!r->path_in) {
        row->tol = lp_threshold(r->precision, LP_KIND_VALUE, LP_F64, 0);
        return 0;
    }
    int q = dtype_prec(ta->dtype);
    double ratio = s->ss_ref > 0 ? (double)sqrtl(s->ss_b / s->ss_ref) : 0;
    row->tol = lp_threshold(r->precision, row->kind, q < 0 ? LP_F64 : (lp_precision)q, ratio);
    if (row->tol >= 1)
        return lm_fail(e, "%s: tensor %s: its update (||b - in||_F / ||b||_F = %.2e) cannot be "
                          "verified in %s with %s values: the threshold %.2e would pass a step "
                          "that changed nothing", r->path_a, ta->name,
                       ratio > 0 ? 1 / ratio : 0.0, lp_name(r->precision),
                       st_dtype_name(ta->dtype), row->tol);
    return 0;
}

/* The baseline of tensor ta: its namesake in IN (state absent from IN is
 * zeros, as `step` reads it; *tin = NULL then), of the same shape, finite. */
static int baseline_of(const cmp_report *r, const st_file *in, const st_tensor *ta,
                       const st_tensor **tin, lm_error *e)
{
    *tin = st_get(in, ta->name);
    if (!*tin) {
        if (!strncmp(ta->name, "state.", 6))
            return 0;
        return lm_fail(e, "%s: --baseline lacks tensor %s of %s", r->path_in, ta->name,
                       r->path_a);
    }
    if (!st_same_shape(ta, *tin))
        return lm_fail(e, "%s: tensor %s has another shape than in %s", r->path_in, ta->name,
                       r->path_a);
    if ((*tin)->f) {
        long bad = lm_first_nonfinite((*tin)->numel, (*tin)->f);
        if (bad >= 0)
            return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld",
                           r->path_in, ta->name, bad);
    }
    return 0;
}

/* One tensor of A into row: 0, or -1 for input that cannot be compared. */
static int compare_one(const cmp_report *r, const st_tensor *ta, const st_file *b,
                       const st_file *in, json_t *kinds, cmp_row *row, lm_error *e)
{
    const st_tensor *tb = st_get(b, ta->name), *tin = NULL;
    row->name = lm_strdup(ta->name);
    row->dtype = ta->dtype;
    row->kind = LP_KIND_VALUE;
    shape_str(ta, row->shape, sizeof row->shape);
    if (!can_hold(ta->dtype, r->precision))
        return lm_fail(e, "%s: tensor %s is stored as %s, which cannot hold a %s result "
                          "(--precision)", r->path_a, ta->name, st_dtype_name(ta->dtype),
                       lp_name(r->precision));
    if (!tb) {
        snprintf(row->reason, sizeof row->reason, "missing from B");
        return 0;
    }
    if (!st_same_shape(ta, tb)) {
        char sb[96];
        shape_str(tb, sb, sizeof sb);
        snprintf(row->reason, sizeof row->reason, "shape %s in B", sb);
        return 0;
    }
    row->compared = 1;
    row->integer = ta->i || tb->i;
    if (r->path_in && baseline_of(r, in, ta, &tin, e))
        return -1;
    if (r->path_in && !row->integer &&
        kind_of(&r->opts, kinds, r->path_b, ta->name, &row->kind, e))
        return -1;
    scan_acc s;
    scan(&r->opts, ta, tb, tin, &s);
    if (!row->integer && threshold(r, ta, &s, row, e))
        return -1;
    verdict(&r->opts, &s, ta, tb, tin, row);
    return 0;
}

/* B's step_kinds object (update mode), or NULL. */
static int load_kinds(const cmp_report *r, const st_file *b, json_t **kinds, lm_error *e)
{
    const char *txt = st_get_meta(b, "step_kinds");
    *kinds = NULL;
    if (!r->path_in || !txt)
        return 0;
    *kinds = json_loads(txt, 0, NULL);
    if (!json_is_object(*kinds)) {
        json_decref(*kinds);
        *kinds = NULL;
        return lm_fail(e, "%s: __metadata__ step_kinds is not a JSON object", r->path_b);
    }
    return 0;
}

static int compare_all(cmp_report *r, const st_file *a, const st_file *b, const st_file *in,
                       lm_error *e)
{
    json_t *kinds;
    if (load_kinds(r, b, &kinds, e))
        return -1;
    r->rows = lm_calloc((size_t)LM_MAX(a->n, 1), sizeof *r->rows);
    int rc = 0;
    for (int k = 0; k < a->n && !rc; k++) {
        rc = compare_one(r, &a->t[k], b, in, kinds, &r->rows[k], e);
        r->n++;
        r->passed += r->rows[k].ok;
    }
    json_decref(kinds);
    r->notes = lm_calloc((size_t)LM_MAX(b->n, 1), sizeof *r->notes);
    for (int k = 0; k < b->n && !rc; k++)
        if (!st_get(a, b->t[k].name))
            r->notes[r->nnotes++] = lm_strdup(b->t[k].name);
    return rc;
}

int cmp_files(const cmp_opts *o, const char *path_a, const char *path_b, cmp_report *r,
              lm_error *e)
{
    memset(r, 0, sizeof *r);
    r->opts = *o;
    r->path_a = path_a;
    r->path_b = path_b;
    r->path_in = o->baseline;
    st_file *a = NULL, *b = NULL, *in = NULL;
    int rc = st_read(path_a, &a, e) || st_read(path_b, &b, e) ||
                     (o->baseline && st_read(o->baseline, &in, e)) ? -1 : 0;
    if (rc == 0) {
        r->precision_given = o->precision_given;
        r->precision = o->precision_given ? o->precision : coarsest(a);
        rc = compare_all(r, a, b, in, e);
    }
    st_free(a);
    st_free(b);
    st_free(in);
    if (rc)
        cmp_report_free(r);
    return rc;
}

void cmp_report_free(cmp_report *r)
{
    for (int k = 0; k < r->n; k++)
        free(r->rows[k].name);
    free(r->rows);
    for (int k = 0; k < r->nnotes; k++)
        free(r->notes[k]);
    free(r->notes);
    r->rows = NULL;
    r->notes = NULL;
    r->n = r->nnotes = 0;
}

/* ---- the report ---- */

static void index_str(const cmp_row *row, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < row->worst_ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                                 (long long)row->worst_index[d]);
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

/* The header: what is compared, the precision and the thresholds. */
static void format_header(const cmp_report *r, lm_buf *out)
{
    const cmp_opts *o = &r->opts;
    /* names and paths printed escaped (lm_printable): a newline or a terminal
     * escape in a file or tensor name cannot fake a row of the table */
    char *pa = lm_printable(r->path_a), *pb = lm_printable(r->path_b);
    char *pin = r->path_in ? lm_printable(r->path_in) : NULL;
    lm_buf_printf(out, "compare %s against %s (reference)%s%s\n", pa, pb,
                  pin ? ", updates from " : "", pin ? pin : "");
    free(pa);
    free(pb);
    free(pin);
    lm_buf_printf(out, "precision %s (%s): pass when ||a - b||_F <= tol ||b%s||_F; NaN fails, "
                  "an infinity passes only against the same infinity, integers compare "
                  "exactly\n", lp_name(r->precision),
                  r->precision_given ? "--precision" : "from A's stored dtype",
                  r->path_in ? " - in" : "");
    if (o->tol > 0) {
        lm_buf_printf(out, "tol %.3g (--tol)\n", o->tol);
    } else if (!r->path_in) {
        lm_buf_printf(out, "tol %.3g = %g x %.3g, the measured envelope of a correct %s msign "
                      "(include/lionmuon/lowprec.h)\n",
                      lp_threshold(r->precision, LP_KIND_VALUE, LP_F64, 0), LP_MARGIN,
                      lp_envelope(r->precision, LP_KIND_VALUE), lp_name(r->precision));
    } else {
        lm_buf_printf(out, "tol by step kind = %g x the measured %s envelope:", LP_MARGIN,
                      lp_name(r->precision));
        for (int k = LP_KIND_MUON; k < LP_NKIND; k++)
            lm_buf_printf(out, " %s %.3g", lp_kind_name((lp_kind)k),
                          lp_threshold(r->precision, (lp_kind)k, LP_F64, 0));
        lm_buf_printf(out, "; plus 3 u ||b||_F / ||b - in||_F for A's stored dtype (u its unit "
                      "roundoff)\n");
    }
    if (o->allclose)
        lm_buf_printf(out, "and elementwise |a - b| <= atol + rtol |b%s| (rtol %g, atol %g)\n",
                      r->path_in ? " - in" : "", o->rtol, o->atol);
}

void cmp_format_table(const cmp_report *r, lm_buf *out)
{
    int w = 4;
    for (int k = 0; k < r->n; k++)
        w = LM_MAX(w, (int)strlen(r->rows[k].name));
    w = LM_MIN(w, 60);
    format_header(r, out);
    lm_buf_printf(out, "%-*s  %-14s  %-5s  %11s  %11s  %9s  %11s  %-14s  %s\n", w, "name",
                  "shape", "kind", "max_abs_err", "rel_fro_err", "tol", "max_rel_err",
                  "worst at", "result");
    for (int k = 0; k < r->n; k++) {
        const cmp_row *row = &r->rows[k];
        char idx[128] = "-";
        if (row->has_worst)
            index_str(row, idx, sizeof idx);
        char *name = lm_printable(row->name);
        if (!row->compared) {
            lm_buf_printf(out, "%-*s  %-14s  %-5s  %11s  %11s  %9s  %11s  %-14s  FAIL (%s)\n",
                          w, name, row->shape, "-", "-", "-", "-", "-", "-", row->reason);
            free(name);
            continue;
        }
        lm_buf_printf(out, "%-*s  %-14s  %-5s  %11.3e  %11.3e  %9.2e  %11.3e  %-14s  %s\n", w,
                      name, row->shape, row->integer ? "int" : lp_kind_name(row->kind),
                      row->max_abs, row->rel_fro, row->integer ? 0.0 : row->tol, row->max_rel,
                      idx, row->ok ? "PASS" : "FAIL");
        free(name);
    }
    for (int k = 0; k < r->nnotes; k++) {
        char *name = lm_printable(r->notes[k]);
        lm_buf_printf(out, "note: tensor '%s' is in B but not in A (not compared)\n", name);
        free(name);
    }
    lm_buf_printf(out, "compare: %d tensors, %d passed, %d failed\n", r->n, r->passed,
                  r->n - r->passed);
}

void cmp_format_failures(const cmp_report *r, lm_buf *out)
{
    for (int k = 0; k < r->n; k++) {
        const cmp_row *row = &r->rows[k];
        if (row->ok)
            continue;
        char *name = lm_printable(row->name);
        lm_buf_printf(out, "lionmuon compare: tensor '%s': %s", name, row->reason);
        free(name);
        if (row->has_worst) {
            char idx[128];
            index_str(row, idx, sizeof idx);
            lm_buf_printf(out, "; worst element %s: a = %.17g, b = %.17g", idx, row->worst_a,
                          row->worst_b);
        }
        lm_buf_printf(out, "\n");
    }
}

/* A number, or a string for a non-finite one (JSON has none). */
static json_t *jnum(double v)
{
    if (isfinite(v))
        return json_real(v);
    return json_string(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

static json_t *row_json(const cmp_row *row)
{
    json_t *t = json_object();
    json_object_set_new(t, "name", json_string(row->name));
    json_object_set_new(t, "shape", json_string(row->shape));
    json_object_set_new(t, "dtype", json_string(st_dtype_name(row->dtype)));
    json_object_set_new(t, "kind", json_string(row->integer ? "int" : lp_kind_name(row->kind)));
    json_object_set_new(t, "result", json_string(row->ok ? "PASS" : "FAIL"));
    if (!row->ok)
        json_object_set_new(t, "reason", json_string(row->reason));
    if (!row->compared)
        return t;
    json_object_set_new(t, "max_abs_err", jnum(row->max_abs));
    json_object_set_new(t, "rel_fro_err", jnum(row->rel_fro));
    json_object_set_new(t, "max_rel_err", jnum(row->max_rel));
    if (!row->integer)
        json_object_set_new(t, "tol", jnum(row->tol));
    if (row->has_worst) {
        json_t *w = json_object(), *ix = json_array();
        for (int d = 0; d < row->worst_ndim; d++)
            json_array_append_new(ix, json_integer((json_int_t)row->worst_index[d]));
        json_object_set_new(w, "index", ix);
        json_object_set_new(w, "a", jnum(row->worst_a));
        json_object_set_new(w, "b", jnum(row->worst_b));
        json_object_set_new(t, "worst", w);
    }
    return t;
}

char *cmp_format_json(const cmp_report *r)
{
    json_t *o = json_object(), *rows = json_array(), *only = json_array(), *env = json_object();
    json_object_set_new(o, "a", json_string(r->path_a));
    json_object_set_new(o, "b", json_string(r->path_b));
    json_object_set_new(o, "baseline", r->path_in ? json_string(r->path_in) : json_null());
    json_object_set_new(o, "precision", json_string(lp_name(r->precision)));
    json_object_set_new(o, "precision_source",
                        json_string(r->precision_given ? "given" : "A's stored dtype"));
    json_object_set_new(o, "margin", json_real(LP_MARGIN));
    for (int k = 0; k < LP_NKIND; k++)
        json_object_set_new(env, lp_kind_name((lp_kind)k),
                            jnum(lp_envelope(r->precision, (lp_kind)k)));
    json_object_set_new(o, "envelope", env);
    if (r->opts.tol > 0)
        json_object_set_new(o, "tol", json_real(r->opts.tol));
    for (int k = 0; k < r->n; k++)
        json_array_append_new(rows, row_json(&r->rows[k]));
    json_object_set_new(o, "tensors", rows);
    for (int k = 0; k < r->nnotes; k++)
        json_array_append_new(only, json_string(r->notes[k]));
    json_object_set_new(o, "only_in_b", only);
    json_object_set_new(o, "passed", json_integer(r->passed));
    json_object_set_new(o, "failed", json_integer(r->n - r->passed));
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(1));
    json_decref(o);
    return s;
}
