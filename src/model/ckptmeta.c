/* ckptmeta.c - the checks of a checkpoint's __metadata__ on --resume
 * (ckpt_check_meta, train_impl.h): the identity (format, version,
 * configuration, data fingerprint, run id), every number of the progress
 * (present, fully parsed, finite, in range, consistent with the others), the
 * latest diagnostics, and the two CSV logs (their header and the step of
 * every row).  Nothing here touches the model or the file system, so the
 * fuzz target fuzz_ckptmeta drives it alone. */
#include "train_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A metadata number: present, fully parsed, and finite unless nan_ok (then
 * "nan" is accepted too). */
static int meta_get_double(const st_file *f, const char *path, const char *k, int nan_ok,
                           double *v, lm_error *e)
{
    const char *s = st_get_meta(f, k);
    char *end;
    if (!s)
        return lm_fail(e, "%s: __metadata__ has no '%s'", path, k);
    *v = strtod(s, &end);
    if (end == s || *end || isinf(*v) || (isnan(*v) && !nan_ok))
        return lm_fail(e, "%s: __metadata__ '%s' = '%s' is not a finite number", path, k, s);
    return 0;
}

/* A metadata integer in [lo, hi]. */
static int meta_get_long(const st_file *f, const char *path, const char *k, long lo, long hi,
                         long *v, lm_error *e)
{
    double d;
    if (meta_get_double(f, path, k, 0, &d, e))
        return -1;
    if (d != floor(d) || d < (double)lo || d > (double)hi || fabs(d) >= 0x1p63)
        return lm_fail(e, "%s: __metadata__ '%s' = %.17g is not an integer in [%ld, %ld]",
                       path, k, d, lo, hi);
    *v = (long)d;
    return 0;
}

/* The position in the run from __metadata__: every value finite and in
 * range, and the ones that follow from others consistent with them. */
static int read_progress(const st_file *f, const char *path, const ckpt_expect *x,
                         progress_state *ps, lm_error *e)
{
    long pos, seed;
    double bt = x->tokens_per_step;
    if (meta_get_long(f, path, "step", 0, x->iterations, &ps->step, e) ||
        meta_get_long(f, path, "data_position", ps->step, ps->step, &pos, e) ||
        meta_get_long(f, path, "seed", x->seed, x->seed, &seed, e) ||
        meta_get_long(f, path, "best_val_step", 0, ps->step, &ps->best_val_step, e) ||
        meta_get_long(f, path, "diag_step", -1, ps->step, &ps->diag_step, e) ||
        meta_get_double(f, path, "tokens", 0, &ps->tokens, e) ||
        meta_get_double(f, path, "flops", 0, &ps->flops, e) ||
        meta_get_double(f, path, "wall_s", 0, &ps->wall_s, e) ||
        meta_get_double(f, path, "best_val_loss", 0, &ps->best_val, e) ||
        meta_get_double(f, path, "train_loss", ps->step == 0, &ps->train_loss, e) ||
        meta_get_double(f, path, "last_val_loss", 0, &ps->last_val, e))
        return -1;
    if (ps->tokens != (double)ps->step * bt)
        return lm_fail(e, "%s: __metadata__ 'tokens' = %.17g, but %ld steps of %.0f tokens "
                          "make %.17g", path, ps->tokens, ps->step, bt, (double)ps->step * bt);
    if (ps->flops < 0 || ps->wall_s < 0 || ps->best_val < 0 || ps->last_val < 0 ||
        ps->train_loss < 0 || ps->best_val > ps->last_val)
        return lm_fail(e, "%s: __metadata__ flops, wall_s and the losses must be >= 0, and "
                          "best_val_loss <= last_val_loss", path);
    return 0;
}

/* The latest diagnostics: a JSON array of NDIAG finite numbers (nulls
 * only before the first diagnostics, diag_step -1). */
static int read_diag_last(const st_file *f, const char *path, progress_state *ps, lm_error *e)
{
    const char *s = st_get_meta(f, "diag_last");
    json_t *a = s ? json_loads(s, 0, NULL) : NULL;
    int rc = json_is_array(a) && json_array_size(a) == NDIAG ? 0 : -1;
    for (int j = 0; j < NDIAG && rc == 0; j++) {
        json_t *v = json_array_get(a, (size_t)j);
        if (json_is_number(v) && ps->diag_step >= 0)
            ps->diag_last[j] = json_number_value(v);
        else if (json_is_null(v) && ps->diag_step < 0)
            ps->diag_last[j] = NAN;
        else
            rc = -1;
    }
    json_decref(a);
    return rc ? lm_fail(e, "%s: __metadata__ 'diag_last' is not %d numbers (or nulls before "
                           "the first diagnostics)", path, NDIAG) : 0;
}

/* One CSV log from the metadata: it must start with header, and the first
 * field of its rows must be the steps 0, 1, ..., step (every = 0: metrics),
 * increasing multiples of every ending at last (every > 0: diagnostics), or
 * there must be no rows (every < 0: diagnostics off, last = -1). */
static int read_log(const st_file *f, const char *path, const char *key, const char *header,
                    long step, long every, long last, lm_buf *out, lm_error *e)
{
    const char *s = st_get_meta(f, key);
    size_t hl = strlen(header);
    if (!s || strncmp(s, header, hl))
        return lm_fail(e, "%s: __metadata__ '%s' is missing or lacks its header", path, key);
    long expect = 0, prev = -1;
    for (const char *p = s + hl; *p;) {
        const char *nl = strchr(p, '\n');
        char *end;
        long k = strtol(p, &end, 10);
        int ok = nl && end != p && *p >= '0' && *p <= '9' && (*end == ',' || end == nl) &&
                 (every > 0 ? k > prev && k <= step && k % every == 0
                            : every == 0 && k == expect);
        if (!ok)
            return lm_fail(e, "%s: __metadata__ '%s': row %ld is garbled or out of order",
                           path, key, every ? prev : expect);
        prev = k;
        expect++;
        p = nl + 1;
    }
    if (every > 0 ? prev != last : every == 0 ? expect != step + 1 : last != -1)
        return lm_fail(e, "%s: __metadata__ '%s' does not end at step %ld", path, key,
                       every ? last : step);
    lm_buf_printf(out, "%s", s);
    return 0;
}

/* The identity: format, version, run id, configuration and data must be
 * the ones expected. */
static int check_identity(const st_file *f, const char *path, const ckpt_expect *x,
                          progress_state *ps, lm_error *e)
{
    const char *fmt = st_get_meta(f, "format"), *ver = st_get_meta(f, "version");
    const char *id = st_get_meta(f, "run_id"), *fp = st_get_meta(f, "data_fingerprint");
    const char *stored = st_get_meta(f, "config");
    if (!fmt || strcmp(fmt, CKPT_FORMAT))
        return lm_fail(e, "%s: format '%s', not %s (written by an older lionmuon, without "
                          "the run's identity and logs): start the run again", path,
                       fmt ? fmt : "(none)", CKPT_FORMAT);
    if (!ver || strcmp(ver, LIONMUON_VERSION))
        return lm_fail(e, "%s: written by lionmuon %s, this is %s: a resumed run would not "
                          "continue bitwise", path, ver ? ver : "(none)", LIONMUON_VERSION);
    if (!stored || strcmp(stored, x->config_json))
        return lm_fail(e, "%s: the stored configuration differs from this run's (stored "
                          "%.300s)", path, stored ? stored : "(none)");
    if (!fp || strcmp(fp, x->data_fingerprint))
        return lm_fail(e, "%s: the data differ from the run's (fingerprint %s now, %s "
                          "stored): %s changed since the checkpoint", path,
                       x->data_fingerprint, fp ? fp : "(none)", x->data_what);
    if (!id || strcmp(id, x->run_id))
        return lm_fail(e, "%s: __metadata__ 'run_id' %s is not this run's %s (the "
                          "configuration, the data or the version differ)", path,
                       id ? id : "(none)", x->run_id);
    snprintf(ps->run_id, sizeof ps->run_id, "%s", x->run_id);
    return 0;
}

int ckpt_check_meta(const st_file *f, const char *path, const ckpt_expect *x,
                    progress_state *ps, lm_buf *metrics, lm_buf *diags, lm_error *e)
{
    if (check_identity(f, path, x, ps, e) || read_progress(f, path, x, ps, e) ||
        read_diag_last(f, path, ps, e))
        return -1;
    lm_buf m = {0}, d = {0};
    int rc = read_log(f, path, "metrics_csv", x->metrics_header, ps->step, 0, 0, &m, e) ||
                     read_log(f, path, "diagnostics_csv", x->diag_header, ps->step,
                              x->diag_every > 0 ? x->diag_every : -1, ps->diag_step, &d, e)
                 ? -1 : 0;
    if (rc == 0) {
        lm_buf_printf(metrics, "%s", m.s);
        lm_buf_printf(diags, "%s", d.s);
    }
    lm_buf_free(&m);
    lm_buf_free(&d);
    return rc;
}
