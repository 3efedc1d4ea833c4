/* cmd_msign.c - `lionmuon msign`: msign of every 2-D tensor of a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/msign.h"
#include "lionmuon/safetensors.h"

static const char USAGE[] =
    "lionmuon msign --method svd|ns5|cubic|polar-express|qr-newton [--steps N] IN OUT";
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
    "OUT's __metadata__ records method and steps.  OUT is written atomically.";

/* The flags: method and its options, IN and OUT.  Returns -1 to go on, or
 * the exit status (0 after --help, 2 after a message). */
static int parse_args(int argc, char **argv, const char **method, msign_opts *o,
                      const char *pos[2])
{
    lm_error e = {{0}};
    int steps = -1;
    double tol = 1e-12, rank_rtol = 0.0;
    cli_flag flags[] = {
        {"--method", FLAG_STRING, method, "svd|ns5|cubic|polar-express|qr-newton", 0},
        {"--steps", FLAG_INT, &steps,
         "iterations (ns5, polar-express: default 5; cubic: cap, default 100)", 0},
        {"--tol", FLAG_DOUBLE, &tol, "cubic: stop when relative change <= tol", 0},
        {"--rank-rtol", FLAG_DOUBLE, &rank_rtol,
         "svd: keep sigma_i > rank-rtol * sigma_max; 0 = max(m,n) * DBL_EPSILON", 0},
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
    msign_ws *ws = workspace_for(in);
    int rc = 0;
    for (int i = 0; i < in->n && rc == 0; i++) {
        const st_tensor *t = &in->t[i];
        if (t->ndim != 2 || !t->f) {
            fprintf(stderr, "lionmuon msign: skipping %s (%d-D %s)\n", t->name, t->ndim,
                    st_dtype_name(t->dtype));
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
            printf("%-40s %6d x %-6d %s %d iterations%s", t->name, r, c, method,
                   info.iterations, info.rank >= 0 ? "" : "\n");
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
        return 1;
    }
    st_file *out = st_new();
    int rc = msign_tensors(in, pos[0], &o, method, out, &e);
    if (rc == 0) {
        char buf[32]; /* the step count, as text */
        st_set_meta(out, "method", method);
        snprintf(buf, sizeof buf, "%d", o.steps);
        st_set_meta(out, "steps", buf);
        rc = st_write(out, pos[1], &e);
    }
    if (rc != 0)
        fprintf(stderr, "lionmuon msign: %s\n", e.msg);
    st_free(out);
    st_free(in);
    return rc == 0 ? 0 : 1;
}
