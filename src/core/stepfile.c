/* stepfile.c - the file format of `lionmuon step` (stepfile.h): reading and
 * checking the tensors of the input, one raw optimizer step, writing the
 * output.  Nothing is written unless every check and the step succeed. */
#include "lionmuon/stepfile.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/optstate.h"
#include "lionmuon/safetensors.h"

/* One parameter of the input. */
typedef struct {
    const char *name;   /* NAME, pointing into the params.NAME key */
    st_tensor *p, *g;
    opt_tensor ot;
} step_param;

/* A step in progress: the input, its parameters in file order, the state. */
typedef struct {
    const stepfile_opts *o;
    st_file *in;
    long t;             /* the global step counter (metadata `step`) */
    step_param *ps;
    int np;
    opt_state *st;
} stepper;

/* A parsed `step` key: a non-negative decimal integer. */
static int parse_step(const char *s, long *t, lm_error *e)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    /* strtol would skip leading blanks and accept a sign: demand digits */
    if (*s < '0' || *s > '9' || *end || errno || v < 0)
        return lm_fail(e, "__metadata__ step: '%s' is not a non-negative integer", s);
    if (v == LONG_MAX) /* OUT's counter, step + 1, would wrap */
        return lm_fail(e, "__metadata__ step: '%s' is the largest counter; the next one "
                          "would overflow", s);
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

/* params.NAME (p) and its gradient g, stored under gkey (NULL: absent): both
 * floating point, of one shape, finite. */
static int check_param(const char *path, const st_tensor *p, const st_tensor *g,
                       const char *gkey, lm_error *e)
{
    if (!g)
        return lm_fail(e, "%s: tensor %s has no gradient %s", path, p->name, gkey);
    if (!p->f || !g->f)
        return lm_fail(e, "%s: tensors %s and %s must be floating point", path, p->name, gkey);
    if (!same_shape(p, g))
        return lm_fail(e, "%s: tensor %s has a different shape from %s", path, gkey, p->name);
    long bad = lm_first_nonfinite(p->numel, p->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, p->name,
                       bad);
    bad = lm_first_nonfinite(g->numel, g->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, gkey, bad);
    return 0;
}

/* Each params.NAME with its grads.NAME, routed: a 2-D tensor follows the
 * matrix rule (unless the optimizer is AdamW), any other tensor AdamW as a
 * 1 x numel row.  The parameters are updated in place: the file is ours. */
static int collect_params(stepper *s, lm_error *e)
{
    st_file *in = s->in;
    s->ps = lm_calloc((size_t)LM_MAX(in->n, 1), sizeof *s->ps);
    for (int i = 0; i < in->n; i++) {
        st_tensor *p = &in->t[i];
        if (strncmp(p->name, "params.", 7))
            continue;
        step_param *q = &s->ps[s->np];
        q->name = p->name + 7;
        q->p = p;
        lm_buf gkey = {0};
        lm_buf_printf(&gkey, "grads.%s", q->name);
        q->g = st_get(in, gkey.s);
        int rc = check_param(s->o->in_path, p, q->g, gkey.s, e) ||
                 st_check_int_dims(p, s->o->in_path, e) ? -1 : 0;
        lm_buf_free(&gkey);
        if (rc)
            return -1;
        int matrix = p->ndim == 2 && s->o->opt.kind != OPT_ADAMW;
        q->ot.name = q->name;
        q->ot.rows = matrix ? (int)p->shape[0] : 1;
        q->ot.cols = matrix ? (int)p->shape[1] : (int)p->numel;
        q->ot.w = p->f;
        q->ot.g = q->g->f;
        q->ot.rule = matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW;
        s->np++;
    }
    return 0;
}

/* The parameter called pname[0..len), or NULL. */
static const step_param *find_param(const stepper *s, const char *pname, size_t len)
{
    for (int j = 0; j < s->np; j++)
        if (strlen(s->ps[j].name) == len && !strncmp(s->ps[j].name, pname, len))
            return &s->ps[j];
    return NULL;
}

/* Every grads.NAME and state.NAME.SUFFIX must belong to a params.NAME, and a
 * state tensor must be of the kind that parameter's rule keeps. */
static int check_owners(const stepper *s, lm_error *e)
{
    const char *path = s->o->in_path;
    for (int i = 0; i < s->in->n; i++) {
        const char *nm = s->in->t[i].name, *suffix = NULL;
        size_t len;
        if (!strncmp(nm, "grads.", 6)) {
            len = strlen(nm + 6);
        } else if (!strncmp(nm, "state.", 6)) {
            suffix = strrchr(nm, '.') + 1; /* check_names saw the dot */
            len = (size_t)(suffix - 1 - (nm + 6));
        } else {
            continue;
        }
        const step_param *owner = find_param(s, nm + 6, len);
        if (!owner)
            return lm_fail(e, "%s: tensor %s has no matching params.* tensor", path, nm);
        int adam = owner->ot.rule == OPT_RULE_ADAMW;
        if (suffix && adam != (strcmp(suffix, "momentum") != 0))
            return lm_fail(e, "%s: tensor %s does not fit params.%s, which follows %s "
                              "(state: %s)", path, nm, owner->name,
                           adam ? "AdamW" : "the matrix rule",
                           adam ? "exp_avg, exp_avg_sq" : "momentum");
    }
    return 0;
}

/* The names, the step counter and the parameters of the input, checked. */
static int read_input(stepper *s, lm_error *e)
{
    const char *path = s->o->in_path;
    if (check_names(s->in, path, e))
        return -1;
    const char *ts = st_get_meta(s->in, "step");
    if (ts && parse_step(ts, &s->t, e))
        return lm_wrap(e, "%s", path);
    if (collect_params(s, e) || check_owners(s, e))
        return -1;
    if (s->np == 0)
        return lm_fail(e, "%s: no params.* tensors", path);
    return 0;
}

/* The key and shape under which parameter j's state is stored. */
static optstate_param state_param(const step_param *q)
{
    optstate_param sp = {q->name, q->p->name, q->p->ndim, q->p->shape};
    return sp;
}

/* The optimizer over the parameters, its state from the file (zeros where
 * the file has none). */
static int load_state(stepper *s, lm_error *e)
{
    opt_tensor *ots = lm_malloc((size_t)s->np * sizeof *ots);
    for (int j = 0; j < s->np; j++)
        ots[j] = s->ps[j].ot;
    s->st = opt_alloc(&s->o->opt, s->np, ots); /* copies ots */
    free(ots);
    for (int j = 0; j < s->np; j++) {
        optstate_param sp = state_param(&s->ps[j]);
        if (optstate_load(s->in, s->o->in_path, &sp, OPTSTATE_ZEROS_IF_ABSENT, s->st, j, e))
            return -1;
    }
    return 0;
}

/* The step at counter t with lr_scale 1, and a finite result. */
static int take_step(stepper *s, lm_error *e)
{
    if (opt_step(s->st, s->t, 1.0, NULL, e))
        return lm_wrap(e, "%s", s->o->in_path);
    for (int j = 0; j < s->np; j++) {
        /* the update stays finite for finite input unless a rate is absurd;
         * say so rather than write NaN */
        long bad = lm_first_nonfinite(s->ps[j].p->numel, s->ps[j].p->f);
        if (bad >= 0)
            return lm_fail(e, "params.%s: the step produced a non-finite value at element %ld",
                           s->ps[j].name, bad);
        /* the state too (g^2 of a gradient near 1e200 overflows): the fault
         * is in the input, so it is named, not the output file */
        for (int which = 0; which < 2; which++) {
            const double *buf = opt_buffer(s->st, j, which);
            bad = buf ? lm_first_nonfinite(s->ps[j].p->numel, buf) : -1;
            if (bad >= 0)
                return lm_fail(e, "%s: the step on params.%s and grads.%s produced a non-finite "
                                  "optimizer state (%s) at element %ld: a gradient or rate too "
                                  "large", s->o->in_path, s->ps[j].name, s->ps[j].name,
                               which ? "second moment" : "momentum / first moment", bad);
        }
    }
    return 0;
}

/* OUT: params.NAME for each parameter, then each one's state, the input's
 * metadata, the new step counter and the optimizer's name. */
static int write_output(const stepper *s, lm_error *e)
{
    st_file *out = st_new();
    int rc = 0;
    for (int j = 0; j < s->np && rc == 0; j++) {
        const st_tensor *p = s->ps[j].p;
        rc = st_add_f64(out, p->name, p->ndim, p->shape, p->f, e);
    }
    for (int j = 0; j < s->np && rc == 0; j++) {
        optstate_param sp = state_param(&s->ps[j]);
        rc = optstate_add(out, &sp, s->st, j, e);
    }
    if (rc == 0) {
        for (int i = 0; i < s->in->nmeta; i++)
            st_set_meta(out, s->in->mkey[i], s->in->mval[i]);
        lm_buf next = {0};
        lm_buf_printf(&next, "%ld", s->t + 1);
        st_set_meta(out, "step", next.s);
        lm_buf_free(&next);
        st_set_meta(out, "optimizer", opt_kind_name(s->o->opt.kind));
        rc = st_write(out, s->o->out_path, e);
    }
    st_free(out);
    return rc;
}

int stepfile_run(const stepfile_opts *o, lm_error *e)
{
    stepper s = {0};
    s.o = o;
    if (st_read(o->in_path, &s.in, e))
        return -1;
    int rc = read_input(&s, e) || load_state(&s, e) || take_step(&s, e) ||
                     write_output(&s, e) ? -1 : 0;
    opt_free(s.st);
    free(s.ps);
    st_free(s.in);
    return rc;
}
