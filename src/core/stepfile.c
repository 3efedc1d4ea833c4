/* stepfile.c - the file format of `lionmuon step` (stepfile.h): reading and
 * checking the tensors of the input (a step file or a train checkpoint),
 * one raw optimizer step, optionally in an emulated low precision, writing
 * the output with what was done recorded in its metadata.  Nothing is
 * written unless every check and the step succeed. */
#include "lionmuon/stepfile.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/optstate.h"
#include "lionmuon/safetensors.h"

#define BAD STEPFILE_BAD_INPUT

/* One parameter of the input. */
typedef struct {
    const char *name;   /* NAME, pointing into the parameter's key */
    st_tensor *p, *g;
    opt_tensor ot;
    int kind;           /* after the step: 1 Muon, 0 sign, -1 AdamW */
} step_param;

/* A step in progress. */
typedef struct {
    const stepfile_opts *o;
    st_file *in;        /* the input */
    st_file *gf;        /* where the gradients are: in, or grads_path's file */
    const char *gpath;  /* its path */
    int ckpt;           /* the input is a train checkpoint */
    char *routing;      /* the routing in effect */
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

static int is_state_key(const char *nm)
{
    if (strncmp(nm, "state.", 6))
        return 0;
    const char *dot = strrchr(nm, '.');
    return dot > nm + 6 && (!strcmp(dot, ".momentum") || !strcmp(dot, ".exp_avg") ||
                            !strcmp(dot, ".exp_avg_sq"));
}

/* Every tensor of a step file must be one we understand: a params.NAME with
 * its grads.NAME, or state for an existing parameter of the kind its rule
 * keeps.  Anything else is refused rather than ignored.  (In a checkpoint
 * every tensor that is not state is a parameter.) */
static int check_names(const stepper *s, lm_error *e)
{
    for (int i = 0; i < s->in->n && !s->ckpt; i++) {
        const char *nm = s->in->t[i].name;
        if (!strncmp(nm, "params.", 7) || !strncmp(nm, "grads.", 6) || is_state_key(nm))
            continue;
        return lm_fail(e, "%s: tensor %s is neither params.NAME, grads.NAME nor "
                          "state.NAME.{momentum,exp_avg,exp_avg_sq}", s->o->in_path, nm);
    }
    return 0;
}


/* The parameter p and its gradient g, stored under gkey in gpath (NULL:
 * absent): both floating point, of one shape, finite. */
static int check_param(const char *path, const char *gpath, const st_tensor *p,
                       const st_tensor *g, const char *gkey, lm_error *e)
{
    if (!g)
        return lm_fail(e, "%s: tensor %s has no gradient %s%s%s", path, p->name, gkey,
                       gpath != path ? " in " : "", gpath != path ? gpath : "");
    if (!p->f || !g->f)
        return lm_fail(e, "%s: tensors %s and %s must be floating point", path, p->name, gkey);
    if (!st_same_shape(p, g))
        return lm_fail(e, "%s: tensor %s has a different shape from %s", gpath, gkey, p->name);
    long bad = lm_first_nonfinite(p->numel, p->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, p->name,
                       bad);
    bad = lm_first_nonfinite(g->numel, g->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", gpath, gkey,
                       bad);
    return 0;
}

/* The rule of parameter NAME under the routing in effect. */
static int route_one(const stepper *s, const st_tensor *p, const char *name, int *matrix,
                     lm_error *e)
{
    if (s->o->opt.kind == OPT_ADAMW) {
        *matrix = 0;
        return 0;
    }
    if (!strcmp(s->routing, "2d")) {
        *matrix = p->ndim == 2;
        return 0;
    }
    if (!s->o->route)
        return lm_fail(e, "routing '%s' is unknown here (2d)", s->routing);
    if (s->o->route(s->o->route_ctx, s->routing, name, p->ndim, p->shape, matrix, e))
        return -1;
    if (*matrix && p->ndim != 2)
        return lm_fail(e, "routing '%s' sends %s (%d-D) to the matrix rule", s->routing, name,
                       p->ndim);
    return 0;
}

/* The gradient of NAME: grads.NAME, or (in a separate gradient file) NAME. */
static st_tensor *find_grad(const stepper *s, const char *name, lm_buf *gkey)
{
    lm_buf_printf(gkey, "grads.%s", name);
    st_tensor *g = st_get(s->gf, gkey->s);
    if (!g && s->gf != s->in)
        g = st_get(s->gf, name);
    return g;
}

/* Each parameter with its gradient, routed.  The parameters are updated in
 * place: the file is ours. */
static int collect_params(stepper *s, lm_error *e)
{
    st_file *in = s->in;
    s->ps = lm_calloc((size_t)LM_MAX(in->n, 1), sizeof *s->ps);
    for (int i = 0; i < in->n; i++) {
        st_tensor *p = &in->t[i];
        if (s->ckpt ? is_state_key(p->name) : strncmp(p->name, "params.", 7) != 0)
            continue;
        step_param *q = &s->ps[s->np];
        q->name = s->ckpt ? p->name : p->name + 7;
        q->p = p;
        lm_buf gkey = {0};
        q->g = find_grad(s, q->name, &gkey);
        int rc = check_param(s->o->in_path, s->gpath, p, q->g, gkey.s, e) ||
                 st_check_int_dims(p, s->o->in_path, e) ? -1 : 0;
        lm_buf_free(&gkey);
        int matrix = 0;
        if (rc || route_one(s, p, q->name, &matrix, e))
            return rc ? -1 : lm_wrap(e, "%s: tensor %s", s->o->in_path, p->name);
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

/* Every gradient and state tensor must belong to a parameter, and a state
 * tensor must be of the kind that parameter's rule keeps. */
static int check_owners(const stepper *s, lm_error *e)
{
    const char *path = s->o->in_path;
    for (int i = 0; i < s->in->n; i++) {
        const char *nm = s->in->t[i].name, *suffix = NULL;
        size_t len;
        if (!s->ckpt && !strncmp(nm, "grads.", 6)) {
            len = strlen(nm + 6);
        } else if (is_state_key(nm)) {
            suffix = strrchr(nm, '.') + 1;
            len = (size_t)(suffix - 1 - (nm + 6));
        } else {
            continue;
        }
        const step_param *owner = find_param(s, nm + 6, len);
        if (!owner)
            return lm_fail(e, "%s: tensor %s has no matching %s tensor", path, nm,
                           s->ckpt ? "parameter" : "params.*");
        int adam = owner->ot.rule == OPT_RULE_ADAMW;
        if (suffix && adam != (strcmp(suffix, "momentum") != 0))
            return lm_fail(e, "%s: tensor %s does not fit %s, which follows %s under "
                              "routing %s (state: %s)", path, nm, owner->p->name,
                           adam ? "AdamW" : "the matrix rule", s->routing,
                           adam ? "exp_avg, exp_avg_sq" : "momentum");
    }
    for (int i = 0; s->gf != s->in && i < s->gf->n; i++) {
        const char *nm = s->gf->t[i].name;
        const char *base = strncmp(nm, "grads.", 6) ? nm : nm + 6;
        if (!find_param(s, base, strlen(base)))
            return lm_fail(e, "%s: tensor %s is the gradient of no parameter of %s",
                           s->gpath, nm, path);
    }
    return 0;
}

/* The value of key in the JSON object text obj_text (a string), or NULL. */
static char *json_string_of(const char *obj_text, const char *key)
{
    json_t *o = json_loads(obj_text, 0, NULL);
    const char *v = json_is_object(o) ? json_string_value(json_object_get(o, key)) : NULL;
    char *r = v ? lm_strdup(v) : NULL;
    json_decref(o);
    return r;
}

/* The routing in effect: the option; else a checkpoint's config or a step
 * output's recorded routing; else "2d".  A checkpoint must also have been
 * written by the optimizer asked for. */
static int resolve_routing(stepper *s, lm_error *e)
{
    const char *path = s->o->in_path, *cfg = st_get_meta(s->in, "config");
    char *rec = NULL;
    if (s->ckpt) {
        char *opt = cfg ? json_string_of(cfg, "optimizer") : NULL;
        rec = cfg ? json_string_of(cfg, "routing") : NULL;
        if (!opt || !rec) {
            free(opt);
            free(rec);
            return lm_fail(e, "%s: a checkpoint whose __metadata__ config lacks optimizer "
                              "or routing", path);
        }
        int same = !strcmp(opt, opt_kind_name(s->o->opt.kind));
        if (!same)
            lm_fail(e, "%s: the checkpoint was written by --optimizer %s, not %s", path, opt,
                    opt_kind_name(s->o->opt.kind));
        free(opt);
        if (!same) {
            free(rec);
            return -1;
        }
    } else if (st_get_meta(s->in, "routing")) {
        rec = lm_strdup(st_get_meta(s->in, "routing"));
    }
    if (s->o->routing) {
        free(rec);
        rec = lm_strdup(s->o->routing);
    }
    s->routing = rec ? rec : lm_strdup("2d");
    return 0;
}

/* A previous step's output records each tensor's kind (step_kinds): a
 * matrix's must be muon or sign, any other parameter's adamw. */
static int check_recorded_kinds(const stepper *s, lm_error *e)
{
    const char *path = s->o->in_path, *txt = st_get_meta(s->in, "step_kinds");
    if (!txt || s->ckpt)
        return 0;
    json_t *o = json_loads(txt, 0, NULL);
    int rc = 0;
    if (!json_is_object(o))
        rc = lm_fail(e, "%s: __metadata__ step_kinds is not a JSON object", path);
    for (int j = 0; j < s->np && !rc; j++) {
        const char *k = json_string_value(json_object_get(o, s->ps[j].p->name));
        if (!k)
            continue;
        int matrix = s->ps[j].ot.rule == OPT_RULE_MATRIX;
        int rec_matrix = !strcmp(k, "muon") || !strcmp(k, "sign");
        if (!rec_matrix && strcmp(k, "adamw"))
            rc = lm_fail(e, "%s: __metadata__ step_kinds gives tensor %s the kind '%s' "
                            "(muon, sign, adamw)", path, s->ps[j].p->name, k);
        else if (rec_matrix != matrix)
            rc = lm_fail(e, "%s: __metadata__ step_kinds records tensor %s as a %s step, but "
                            "routing %s sends it to %s", path, s->ps[j].p->name, k,
                         s->routing, matrix ? "the matrix rule" : "AdamW");
    }
    json_decref(o);
    return rc;
}

/* The names, the step counter and the parameters of the input, checked. */
static int read_input(stepper *s, lm_error *e)
{
    const char *path = s->o->in_path, *fmt = st_get_meta(s->in, "format");
    /* a train checkpoint, of any format version (the tensor layout is the
     * same: parameters by name, then state.NAME.*) */
    s->ckpt = fmt && !strncmp(fmt, "lionmuon-checkpoint-", 20);
    s->gf = s->in;
    s->gpath = path;
    if (s->ckpt && !s->o->grads_path)
        return lm_fail(e, "%s: a train checkpoint holds no gradients: pass --grads FILE",
                       path);
    if (s->o->grads_path) {
        if (st_read(s->o->grads_path, &s->gf, e))
            return -1;
        s->gpath = s->o->grads_path;
    }
    if (check_names(s, e) || resolve_routing(s, e))
        return -1;
    const char *ts = st_get_meta(s->in, "step");
    if (ts && parse_step(ts, &s->t, e))
        return lm_wrap(e, "%s", path);
    if (collect_params(s, e) || check_owners(s, e) || check_recorded_kinds(s, e))
        return -1;
    if (s->np == 0)
        return lm_fail(e, "%s: no %s tensors", path, s->ckpt ? "parameter" : "params.*");
    return 0;
}

/* The key and shape under which parameter j's state is stored. */
static optstate_param state_param(const step_param *q)
{
    optstate_param sp = {q->name, q->p->name, q->p->ndim, q->p->shape};
    return sp;
}

/* Round the parameters, gradients and state to float32 (the master copies
 * of a low-precision implementation); gradients only when grads = 1. */
static void round_to_f32(stepper *s, int grads)
{
    for (int j = 0; j < s->np; j++) {
        step_param *q = &s->ps[j];
        lp_round_array(LP_F32, q->p->numel, q->p->f);
        if (grads)
            lp_round_array(LP_F32, q->g->numel, q->g->f);
        for (int which = 0; which < 2; which++) {
            double *b = opt_buffer(s->st, j, which);
            if (b)
                lp_round_array(LP_F32, q->p->numel, b);
        }
    }
}

/* The optimizer over the parameters, its state from the file (zeros where
 * the file has none). */
static int load_state(stepper *s, lm_error *e)
{
    opt_tensor *ots = lm_malloc((size_t)s->np * sizeof *ots);
    for (int j = 0; j < s->np; j++)
        ots[j] = s->ps[j].ot;
    opt_config c = s->o->opt;
    c.msign.precision = s->o->precision;
    s->st = opt_alloc(&c, s->np, ots); /* copies ots and c */
    free(ots);
    for (int j = 0; j < s->np; j++) {
        optstate_param sp = state_param(&s->ps[j]);
        if (optstate_load(s->in, s->o->in_path, &sp, OPTSTATE_ZEROS_IF_ABSENT, s->st, j, e))
            return -1;
    }
    if (s->o->precision != LP_F64)
        round_to_f32(s, 1);
    return 0;
}

/* The step at counter t, tensor by tensor (each one's kind recorded; the
 * same arithmetic as opt_step), and a finite result. */
static int take_step(stepper *s, lm_error *e)
{
    double scale = s->o->lr_scale > 0 ? s->o->lr_scale : 1.0;
    if (opt_check_grads(s->st, e))
        return lm_wrap(e, "%s", s->o->in_path);
    for (int j = 0; j < s->np; j++)
        if (opt_step_one(s->st, j, s->t, scale, &s->ps[j].kind, e))
            return lm_wrap(e, "%s", s->o->in_path);
    if (s->o->precision != LP_F64)
        round_to_f32(s, 0);
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

static void meta_num(st_file *f, const char *key, double v)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "%.17g", v);
    st_set_meta(f, key, b.s);
    lm_buf_free(&b);
}

/* An integer setting, printed as the integer it is (never through a double,
 * which cannot hold every long: a period of 2^63 - 1 would round to 2^63). */
static void meta_long(st_file *f, const char *key, long v)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "%ld", v);
    st_set_meta(f, key, b.s);
    lm_buf_free(&b);
}

/* What the step was: the settings in effect. */
static void write_settings(st_file *out, const stepper *s)
{
    const opt_config *c = &s->o->opt;
    long P;
    double b1, b2;
    opt_effective(c, &P, &b1, &b2);
    st_set_meta(out, "format", "lionmuon-step-1");
    meta_long(out, "step", s->t + 1);
    st_set_meta(out, "optimizer", opt_kind_name(c->kind));
    meta_long(out, "period", P);
    meta_num(out, "beta1", b1);
    meta_num(out, "beta2", b2);
    meta_num(out, "lr_muon", c->lr_muon);
    meta_num(out, "lr_sign", c->lr_sign);
    meta_num(out, "lr_adamw", c->lr_adamw);
    meta_num(out, "lr_scale", s->o->lr_scale > 0 ? s->o->lr_scale : 1.0);
    meta_num(out, "adamw_beta1", c->adamw_beta1);
    meta_num(out, "adamw_beta2", c->adamw_beta2);
    meta_num(out, "adamw_eps", c->adamw_eps);
    st_set_meta(out, "adamw_eps_mode", opt_eps_mode_name(c->adamw_eps_mode));
    meta_num(out, "weight_decay", c->weight_decay);
    st_set_meta(out, "msign", msign_method_name(c->msign.method));
    meta_long(out, "ns_steps", c->msign.steps);
    meta_num(out, "srank_alpha", c->srank_alpha);
    for (int k = 0; k < OPT_CH_COUNT; k++) /* adamw_eps_mode is written above */
        if (k != OPT_CH_EPS)
            st_set_meta(out, opt_choice_key((opt_choice)k),
                        opt_choice_name((opt_choice)k, opt_choice_get(c, (opt_choice)k)));
    meta_long(out, "cheap_ns_steps", c->cheap_ns_steps);
    st_set_meta(out, "srank_exact", c->srank_exact ? "true" : "false");
    st_set_meta(out, "routing", s->routing);
    st_set_meta(out, "precision", lp_name(s->o->precision));
}

/* OUT: params.NAME for each parameter, then each one's state, the input's
 * metadata (not a checkpoint's) and the settings. */
static int write_output(const stepper *s, lm_error *e)
{
    st_file *out = st_new();
    json_t *kinds = json_object();
    int rc = 0;
    for (int j = 0; j < s->np && rc == 0; j++) {
        const step_param *q = &s->ps[j];
        lm_buf key = {0};
        lm_buf_printf(&key, "params.%s", q->name);
        rc = st_add_f64(out, key.s, q->p->ndim, q->p->shape, q->p->f, e);
        json_object_set_new(kinds, key.s,
                            json_string(q->kind < 0 ? "adamw" : q->kind ? "muon" : "sign"));
        lm_buf_free(&key);
    }
    int nparams = out->n;
    for (int j = 0; j < s->np && rc == 0; j++) {
        optstate_param sp = state_param(&s->ps[j]);
        rc = optstate_add(out, &sp, s->st, j, e);
    }
    for (int i = nparams; i < out->n; i++)
        json_object_set_new(kinds, out->t[i].name, json_string("state"));
    if (rc == 0) {
        for (int i = 0; i < s->in->nmeta && !s->ckpt; i++)
            st_set_meta(out, s->in->mkey[i], s->in->mval[i]);
        write_settings(out, s);
        char *txt = json_dumps(kinds, JSON_PRESERVE_ORDER | JSON_COMPACT);
        st_set_meta(out, "step_kinds", txt);
        free(txt);
        rc = s->o->precision == LP_F64 ? st_write(out, s->o->out_path, e)
                                       : st_write_f32(out, s->o->out_path, e);
    }
    json_decref(kinds);
    st_free(out);
    return rc;
}

int stepfile_run(const stepfile_opts *o, lm_error *e)
{
    stepper s = {0};
    s.o = o;
    int rc = 0;
    if ((unsigned)o->precision >= LP_NPREC)
        rc = lm_fail(e, "--precision: unknown precision %d", (int)o->precision);
    else if (o->lr_scale < 0 || !(o->lr_scale < 1e300))
        rc = lm_fail(e, "--lr-scale must be finite and >= 0 (got %g)", o->lr_scale);
    if (rc)
        return BAD;
    if (rc == 0 && (st_read(o->in_path, &s.in, e) || read_input(&s, e) || load_state(&s, e)))
        rc = BAD;
    if (rc == 0 && (take_step(&s, e) || write_output(&s, e)))
        rc = -1;
    opt_free(s.st);
    free(s.ps);
    free(s.routing);
    if (s.gf != s.in)
        st_free(s.gf);
    st_free(s.in);
    return rc;
}
