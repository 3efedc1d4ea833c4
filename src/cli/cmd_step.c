/* cmd_step.c - `lionmuon step`: one raw optimizer step on tensors from a file,
 * the oracle a GPU implementation is held against update by update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/optim.h"
#include "lionmuon/safetensors.h"

static const char USAGE[] =
    "lionmuon step --optimizer adamw|lion|signum|muon|signmuon|lionmuon [flags] IN OUT";
static const char ABOUT[] =
    "One raw optimizer step: no schedule, no clipping.  IN (safetensors) holds\n"
    "params.NAME and grads.NAME for each parameter and, when present, its state:\n"
    "state.NAME.momentum for the matrix rules, state.NAME.exp_avg and\n"
    "state.NAME.exp_avg_sq for AdamW (absent state means zeros).  __metadata__\n"
    "key `step` is the global step counter t (absent means 0): step t is a Muon\n"
    "step when t mod P == 0, and AdamW's bias correction uses k = t + 1.\n"
    "2-D tensors follow the chosen matrix rule, every other tensor AdamW; with\n"
    "--optimizer adamw every tensor follows AdamW.  OUT holds the updated params.*\n"
    "and state.* (F64), and step = t + 1.  The defaults below are the paper's for\n"
    "the chosen optimizer; OUT is written atomically and only if all is well.";

/* A parsed `step` key: a non-negative decimal integer. */
static int parse_step(const char *s, long *t, lm_error *e)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    /* strtol would skip leading blanks and accept a sign: demand digits */
    if (*s < '0' || *s > '9' || *end || errno || v < 0)
        return lm_fail(e, "__metadata__ step: '%s' is not a non-negative integer", s);
    *t = v;
    return 0;
}

/* Every tensor of IN must be one we understand: a params.NAME with its
 * grads.NAME of the same shape, or state for an existing parameter of the
 * kind its rule keeps.  Anything else is refused rather than ignored. */
static int check_names(const st_file *in, const char *path, lm_error *e)
{
    for (int i = 0; i < in->n; i++) {
        const char *nm = in->t[i].name;
        if (!strncmp(nm, "params.", 7) || !strncmp(nm, "grads.", 6))
            continue;
        if (!strncmp(nm, "state.", 6)) {
            const char *dot = strrchr(nm, '.');
            if (dot > nm + 6 && (!strcmp(dot, ".momentum") || !strcmp(dot, ".exp_avg") ||
                                 !strcmp(dot, ".exp_avg_sq")))
                continue;
        }
        return lm_fail(e, "%s: tensor %s is neither params.NAME, grads.NAME nor "
                          "state.NAME.{momentum,exp_avg,exp_avg_sq}", path, nm);
    }
    return 0;
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

/* Load state.NAME.SUFFIX into buf (zeros if absent). */
static int load_state(const st_file *in, const char *path, const char *pname,
                      const char *suffix, const st_tensor *p, double *buf, lm_error *e)
{
    char key[512];
    snprintf(key, sizeof key, "state.%s.%s", pname, suffix);
    st_tensor *s = st_get(in, key);
    if (!s)
        return 0;
    if (!s->f)
        return lm_fail(e, "%s: tensor %s must be floating point", path, key);
    if (!same_shape(s, p))
        return lm_fail(e, "%s: tensor %s has a different shape from params.%s", path, key, pname);
    long bad = lm_first_nonfinite(s->numel, s->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, key, bad);
    if (!strcmp(suffix, "exp_avg_sq"))
        for (size_t i = 0; i < s->numel; i++)
            if (s->f[i] < 0)
                return lm_fail(e, "%s: tensor %s has a negative second moment at element %zu",
                               path, key, i);
    memcpy(buf, s->f, s->numel * sizeof(double));
    return 0;
}

typedef struct {
    const char *name;   /* NAME, pointing into the params.NAME key */
    st_tensor *p, *g;
    opt_tensor ot;
} step_param;

static int step_file(const opt_config *c, const char *inpath, const char *outpath, lm_error *e)
{
    st_file *in = NULL, *out = NULL;
    step_param *ps = NULL;
    opt_tensor *ots = NULL;
    opt_state *st = NULL;
    int np = 0, rc = -1;
    char key[512];

    if (st_read(inpath, &in, e) != 0)
        return -1;
    if (check_names(in, inpath, e) != 0)
        goto done;
    long t = 0;
    const char *ts = st_get_meta(in, "step");
    if (ts && parse_step(ts, &t, e) != 0) {
        lm_wrap(e, "%s", inpath);
        goto done;
    }

    ps = lm_calloc((size_t)LM_MAX(in->n, 1), sizeof *ps);
    for (int i = 0; i < in->n; i++) {
        st_tensor *p = &in->t[i];
        if (strncmp(p->name, "params.", 7))
            continue;
        step_param *q = &ps[np];
        q->name = p->name + 7;
        q->p = p;
        snprintf(key, sizeof key, "grads.%s", q->name);
        q->g = st_get(in, key);
        if (!q->g) {
            lm_fail(e, "%s: tensor %s has no gradient %s", inpath, p->name, key);
            goto done;
        }
        if (!p->f || !q->g->f) {
            lm_fail(e, "%s: tensors %s and %s must be floating point", inpath, p->name, key);
            goto done;
        }
        if (!same_shape(p, q->g)) {
            lm_fail(e, "%s: tensor %s has a different shape from %s", inpath, key, p->name);
            goto done;
        }
        long bad = lm_first_nonfinite(p->numel, p->f);
        if (bad >= 0) {
            lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", inpath, p->name, bad);
            goto done;
        }
        bad = lm_first_nonfinite(q->g->numel, q->g->f);
        if (bad >= 0) {
            lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", inpath, key, bad);
            goto done;
        }
        int matrix = p->ndim == 2 && c->kind != OPT_ADAMW;
        q->ot.name = q->name;
        q->ot.rows = matrix ? (int)p->shape[0] : 1;
        q->ot.cols = matrix ? (int)p->shape[1] : (int)p->numel;
        q->ot.w = p->f; /* updated in place; the file is ours */
        q->ot.g = q->g->f;
        q->ot.rule = matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW;
        np++;
    }
    /* every grads.NAME and state.NAME.SUFFIX must belong to a params.NAME,
     * and a state tensor must be of the kind that parameter's rule keeps */
    for (int i = 0; i < in->n; i++) {
        const char *nm = in->t[i].name, *suffix = NULL;
        size_t len;
        if (!strncmp(nm, "grads.", 6)) {
            len = strlen(nm + 6);
        } else if (!strncmp(nm, "state.", 6)) {
            suffix = strrchr(nm, '.') + 1; /* check_names saw the dot */
            len = (size_t)(suffix - 1 - (nm + 6));
        } else {
            continue;
        }
        const char *pname = nm + 6;
        step_param *owner = NULL;
        for (int j = 0; j < np && !owner; j++)
            if (strlen(ps[j].name) == len && !strncmp(ps[j].name, pname, len))
                owner = &ps[j];
        if (!owner) {
            lm_fail(e, "%s: tensor %s has no matching params.* tensor", inpath, nm);
            goto done;
        }
        int adam = owner->ot.rule == OPT_RULE_ADAMW;
        if (suffix && adam != (strcmp(suffix, "momentum") != 0)) {
            lm_fail(e, "%s: tensor %s does not fit params.%s, which follows %s (state: %s)",
                    inpath, nm, owner->name, adam ? "AdamW" : "the matrix rule",
                    adam ? "exp_avg, exp_avg_sq" : "momentum");
            goto done;
        }
    }
    if (np == 0) {
        lm_fail(e, "%s: no params.* tensors", inpath);
        goto done;
    }

    ots = lm_malloc((size_t)np * sizeof *ots);
    for (int j = 0; j < np; j++)
        ots[j] = ps[j].ot;
    st = opt_alloc(c, np, ots);
    for (int j = 0; j < np; j++) {
        int adam = ps[j].ot.rule == OPT_RULE_ADAMW;
        if (load_state(in, inpath, ps[j].name, adam ? "exp_avg" : "momentum", ps[j].p,
                       opt_buffer(st, j, 0), e) != 0)
            goto done;
        if (adam && load_state(in, inpath, ps[j].name, "exp_avg_sq", ps[j].p,
                               opt_buffer(st, j, 1), e) != 0)
            goto done;
    }
    if (opt_step(st, t, 1.0, NULL, e) != 0) {
        lm_wrap(e, "%s", inpath);
        goto done;
    }
    for (int j = 0; j < np; j++) {
        /* the update stays finite for finite input unless a rate is absurd;
         * say so rather than write NaN */
        long bad = lm_first_nonfinite(ps[j].p->numel, ps[j].p->f);
        if (bad >= 0) {
            lm_fail(e, "params.%s: the step produced a non-finite value at element %ld",
                    ps[j].name, bad);
            goto done;
        }
    }

    out = st_new();
    for (int j = 0; j < np; j++) {
        st_tensor *p = ps[j].p;
        snprintf(key, sizeof key, "params.%s", ps[j].name);
        if (st_add_f64(out, key, p->ndim, p->shape, p->f, e) != 0)
            goto done;
    }
    for (int j = 0; j < np; j++) {
        st_tensor *p = ps[j].p;
        int adam = ps[j].ot.rule == OPT_RULE_ADAMW;
        snprintf(key, sizeof key, "state.%s.%s", ps[j].name, adam ? "exp_avg" : "momentum");
        if (st_add_f64(out, key, p->ndim, p->shape, opt_buffer(st, j, 0), e) != 0)
            goto done;
        if (adam) {
            snprintf(key, sizeof key, "state.%s.exp_avg_sq", ps[j].name);
            if (st_add_f64(out, key, p->ndim, p->shape, opt_buffer(st, j, 1), e) != 0)
                goto done;
        }
    }
    /* carry the input's metadata over, then the new step counter */
    for (int i = 0; i < in->nmeta; i++)
        st_set_meta(out, in->mkey[i], in->mval[i]);
    snprintf(key, sizeof key, "%ld", t + 1);
    st_set_meta(out, "step", key);
    st_set_meta(out, "optimizer", opt_kind_name(c->kind));
    rc = st_write(out, outpath, e);
done:
    opt_free(st);
    free(ots);
    free(ps);
    st_free(out);
    st_free(in);
    return rc;
}

int cmd_step(int argc, char **argv)
{
    lm_error e = {{0}};
    opt_config c;
    cli_optim_strings s;
    cli_flag flags[CLI_OPTIM_NFLAGS];
    int nflags = 0;
    if (cli_optim_begin(argc, argv, "lionmuon", &c, &s, flags, &nflags, &e) != 0) {
        fprintf(stderr, "lionmuon step: %s\n", e.msg);
        return 2;
    }
    const char *pos[2];
    int npos, help;
    if (cli_parse(argc, argv, flags, nflags, pos, 2, &npos, &help, &e) != 0 ||
        (!help && cli_optim_finish(&c, &s, flags, nflags, &e) != 0)) {
        fprintf(stderr, "lionmuon step: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    if (npos != 2) {
        fprintf(stderr, "lionmuon step: expected IN and OUT\nusage: %s\n", USAGE);
        return 2;
    }
    if (step_file(&c, pos[0], pos[1], &e) != 0) {
        fprintf(stderr, "lionmuon step: %s\n", e.msg);
        return 1;
    }
    return 0;
}
