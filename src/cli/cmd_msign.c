/* cmd_msign.c - `lionmuon msign`: msign of every 2-D tensor of a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/fs.h"
#include "lionmuon/msign.h"
#include "lionmuon/safetensors.h"

static const char USAGE[] =
    "lionmuon msign --method svd|ns5|cubic|polar-express|qr-newton [--steps N]\n"
    "                      [--precision f64|f32|bf16|f16] IN OUT";
static const char ABOUT[] =
    "Computes msign (the polar factor U V^T) of every 2-D floating tensor of the\n"
    "safetensors file IN and writes the results to OUT under the same names, as F64.\n"
    "Tensors of other ranks, and integer tensors, are skipped (listed on stderr).\n"
    "svd is exact (LAPACK dgesdd; singular values <= rank-rtol * sigma_max are\n"
    "dropped, so msign(0) = 0 and rank-deficient input gives a partial isometry);\n"
    "ns5 and polar-express run exactly --steps iterations; cubic iterates until the\n"
    "relative change is <= --tol, failing if --steps (default 100) is reached first.\n"
    "qr-newton is exact too, at about ns5's cost: Cholesky QR2, then a scaled Newton\n"
    "iteration on the triangular factor; condition numbers above 1e6 and rank-deficient\n"
    "input go to svd (with its rank-rtol).\n"
    "--precision f32|bf16|f16 runs the iterative methods as a GPU kernel in that\n"
    "format does: the inputs and the output of every product and elementwise\n"
    "operation rounded to the format, products accumulated in float32\n"
    "(include/lionmuon/lowprec.h).  The values written are those of the format\n"
    "(stored as F64, exactly); `lionmuon compare OUT REF` against the f64 result\n"
    "shows the deviation a correct low-precision implementation has.\n"
    "OUT's __metadata__ records method, steps and precision.  OUT is written\n"
    "atomically.";

/* The flags: method and its options, IN and OUT.  Returns -1 to go on, or
 * the exit status (0 after --help, 2 after a message). */
static int parse_args(int argc, char **argv, const char **method, msign_opts *o,
                      const char *pos[2])
{
    lm_error e = {{0}};
    int steps = -1;
    double tol = 1e-12, rank_rtol = 0.0;
    const char *precision = "f64";
    cli_flag flags[] = {
        {"--method", FLAG_STRING, method, "svd|ns5|cubic|polar-express|qr-newton", 0},
        {"--steps", FLAG_INT, &steps,
         "iterations (ns5, polar-express: default 5; cubic: cap, default 100)", 0},
        {"--tol", FLAG_DOUBLE, &tol, "cubic: stop when relative change <= tol", 0},
        {"--rank-rtol", FLAG_DOUBLE, &rank_rtol,
         "svd: keep sigma_i > rank-rtol * sigma_max; 0 = max(m,n) * DBL_EPSILON", 0},
        {"--precision", FLAG_STRING, &precision,
         "f64 | f32 | bf16 | f16: the arithmetic of the iterative methods", 0},
    };
    int nflags = sizeof flags / sizeof flags[0];
    int npos, help;
    if (cli_parse(argc, argv, flags, nflags, pos, 2, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon msign: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    if (npos != 2) {
        fprintf(stderr, "lionmuon msign: expected IN and OUT\nusage: %s\n", USAGE);
        return 2;
    }
    msign_method m;
    if (msign_method_parse(*method, &m) != 0) {
        fprintf(stderr, "lionmuon msign: --method: unknown method '%s' "
                        "(svd, ns5, cubic, polar-express, qr-newton)\n", *method);
        return 2;
    }
    *o = msign_default_opts(m);
    if (lp_parse(precision, &o->precision) != 0) {
        fprintf(stderr, "lionmuon msign: --precision: unknown precision '%s' "
                        "(f64, f32, bf16, f16)\n", precision);
        return 2;
    }
    if (o->precision != LP_F64 && (m == MSIGN_SVD || m == MSIGN_QR_NEWTON)) {
        fprintf(stderr, "lionmuon msign: --precision %s applies to ns5, polar-express and "
                        "cubic, not %s\n", precision, *method);
        return 2;
    }
    if (steps != -1)
        o->steps = steps;
    o->tol = tol;
    o->rank_rtol = rank_rtol;
    if (o->steps < 1) {
        fprintf(stderr, "lionmuon msign: --steps must be >= 1 (got %d)\n", o->steps);
        return 2;
    }
    if (!(tol > 0) || rank_rtol < 0) {
        fprintf(stderr, "lionmuon msign: --tol must be > 0 and --rank-rtol >= 0\n");
        return 2;
    }
    return -1;
}

/* Every 2-D floating tensor must have int-sized dimensions, and the
 * workspace of workspace_for (k = the largest smaller side, d = the largest
 * larger side: 4 k d + about 8 k^2 doubles) plus the largest result must fit
 * in memory. */
static int check_sizes(const st_file *in, const char *in_path, lm_error *e)
{
    double k = 1, d = 1, numel = 0;
    for (int i = 0; i < in->n; i++) {
        const st_tensor *t = &in->t[i];
        if (t->ndim != 2 || !t->f)
            continue;
        if (st_check_int_dims(t, in_path, e))
            return -1;
        k = LM_MAX(k, (double)LM_MIN(t->shape[0], t->shape[1]));
        d = LM_MAX(d, (double)LM_MAX(t->shape[0], t->shape[1]));
        numel = LM_MAX(numel, (double)t->numel);
    }
    double bytes = 8.0 * (4 * k * d + 8 * k * k + 8 * k + numel);
    return lm_mem_check(bytes, "the msign workspace", e) ? lm_wrap(e, "%s", in_path) : 0;
}

/* A workspace for the largest 2-D floating tensor of the file. */
static msign_ws *workspace_for(const st_file *in)
{
    int maxr = 1, maxc = 1;
    for (int i = 0; i < in->n; i++) {
        const st_tensor *t = &in->t[i];
        if (t->ndim == 2 && t->f) {
            maxr = LM_MAX(maxr, (int)LM_MIN(t->shape[0], t->shape[1]));
            maxc = LM_MAX(maxc, (int)LM_MAX(t->shape[0], t->shape[1]));
        }
    }
    return msign_ws_alloc(maxr, maxc);
}

/* msign of every 2-D floating tensor of in into out (F64, same names); the
 * others are skipped with a line on stderr.  One line per tensor on stdout. */
static int msign_tensors(const st_file *in, const char *in_path, const msign_opts *o,
                         const char *method, st_file *out, lm_error *e)
{
    if (check_sizes(in, in_path, e))
        return -1;
    msign_ws *ws = workspace_for(in);
    int rc = 0;
    for (int i = 0; i < in->n && rc == 0; i++) {
        const st_tensor *t = &in->t[i];
        if (t->ndim != 2 || !t->f) {
            char *nm = lm_printable(t->name);
            fprintf(stderr, "lionmuon msign: skipping %s (%d-D %s)\n", nm, t->ndim,
                    st_dtype_name(t->dtype));
            free(nm);
            continue;
        }
        int r = (int)t->shape[0], c = (int)t->shape[1];
        double *res = lm_malloc((size_t)LM_MAX(r * c, 1) * sizeof *res);
        msign_info info;
        if (msign(o, r, c, t->f, res, ws, &info, e) != 0) {
            lm_wrap(e, "%s: tensor %s", in_path, t->name);
            rc = -1;
        } else {
            rc = st_add_f64(out, t->name, 2, t->shape, res, e);
            char *nm = lm_printable(t->name);
            printf("%-40s %6d x %-6d %s %d iterations%s", nm, r, c, method,
                   info.iterations, info.rank >= 0 ? "" : "\n");
            free(nm);
            if (info.rank >= 0)
                printf(", rank %d\n", info.rank);
        }
        free(res);
    }
    msign_ws_free(ws);
    return rc;
}

int cmd_msign(int argc, char **argv)
{
    lm_error e = {{0}};
    const char *method = "svd", *pos[2];
    msign_opts o;
    int status = parse_args(argc, argv, &method, &o, pos);
    if (status >= 0)
        return status;
    st_file *in = NULL;
    if (st_read(pos[0], &in, &e) != 0) {
        fprintf(stderr, "lionmuon msign: %s\n", e.msg);
        return 2;
    }
    st_file *out = st_new();
    int rc = msign_tensors(in, pos[0], &o, method, out, &e);
    if (rc == 0) {
        char buf[32]; /* the step count, as text */
        st_set_meta(out, "method", method);
        snprintf(buf, sizeof buf, "%d", o.steps);
        st_set_meta(out, "steps", buf);
        st_set_meta(out, "precision", lp_name(o.precision));
        /* the table first: a failed write to stdout leaves no OUT */
        rc = lm_flush_stdout(&e) || st_write(out, pos[1], &e) ? -1 : 0;
    }
    if (rc != 0)
        fprintf(stderr, "lionmuon msign: %s\n", e.msg);
    st_free(out);
    st_free(in);
    return rc == 0 ? 0 : 1;
}
