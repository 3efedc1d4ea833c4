/* api_optim.c - the optimizer family behind the C API (lm_opt_*): a JSON
 * settings object onto opt_config (the rules, pinned values and checks are
 * opt_config_finish's, the command line's own), named parameters, one raw
 * step (opt_step, what `lionmuon step` runs), the state buffers, and the
 * step-type query (opt_trigger).
 *
 * The handle owns a copy of every parameter and gradient: opt_alloc keeps
 * pointers to the tensors it steps, while a caller (numpy) hands in fresh
 * arrays each step.  lm_opt_step copies them in, steps, and copies the
 * parameters back only when everything succeeded; the state is restored
 * from a snapshot on failure, so a failed step changes nothing. */
#include "api/api_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lionmuon/optim.h"
#include "lionmuon/safetensors.h"

typedef struct {
    char *name;
    int ndim;
    int64_t shape[ST_MAX_DIM];
    size_t numel;
    int rule;         /* LM_RULE_MATRIX or LM_RULE_ADAMW, resolved */
    int linear;       /* 1: a Linear layer's weight (decays under decay_on linear) */
    double *w, *g;    /* the handle's copies, which the opt_state points to */
} api_param;

struct lm_opt {
    opt_config cfg;
    int n, cap;
    api_param *p;
    opt_state *st;    /* NULL until the first step or state access */
};

/* ---- settings ---- */

/* KEY_NAME: a string (the optimizer, the msign method, a choice; nesterov
 * also true/false), resolved by opt_config_finish; the others are numbers
 * stored at `off` in opt_config. */
typedef enum { KEY_NAME, KEY_NUMBER, KEY_LONG, KEY_INT, KEY_BOOL, KEY_SEED } key_type;

#define CHOICE_KEY(ch) {(opt_setting)(OPT_SET_CHOICE + (ch)), KEY_NAME, 0}

/* Every key of the settings object, in the order lm_opt_config writes them;
 * the key itself is opt_setting_name(set, OPT_NAME_KEY). */
static const struct {
    opt_setting set;
    key_type type;
    size_t off;
} KEYS[] = {
    {OPT_SET_OPTIMIZER, KEY_NAME, 0},
    {OPT_SET_LR_MUON, KEY_NUMBER, offsetof(opt_config, lr_muon)},
    {OPT_SET_LR_SIGN, KEY_NUMBER, offsetof(opt_config, lr_sign)},
    {OPT_SET_LR_ADAMW, KEY_NUMBER, offsetof(opt_config, lr_adamw)},
    {OPT_SET_BETA1, KEY_NUMBER, offsetof(opt_config, beta1)},
    {OPT_SET_BETA2, KEY_NUMBER, offsetof(opt_config, beta2)},
    {OPT_SET_PERIOD, KEY_LONG, offsetof(opt_config, period)},
    {OPT_SET_MSIGN, KEY_NAME, 0},
    {OPT_SET_NS_STEPS, KEY_INT, offsetof(opt_config, msign.steps)},
    {OPT_SET_MSIGN_TOL, KEY_NUMBER, offsetof(opt_config, msign.tol)},
    {OPT_SET_MSIGN_RANK_RTOL, KEY_NUMBER, offsetof(opt_config, msign.rank_rtol)},
    {OPT_SET_SRANK_ALPHA, KEY_NUMBER, offsetof(opt_config, srank_alpha)},
    {OPT_SET_WEIGHT_DECAY, KEY_NUMBER, offsetof(opt_config, weight_decay)},
    {OPT_SET_ADAMW_BETA1, KEY_NUMBER, offsetof(opt_config, adamw_beta1)},
    {OPT_SET_ADAMW_BETA2, KEY_NUMBER, offsetof(opt_config, adamw_beta2)},
    {OPT_SET_ADAMW_EPS, KEY_NUMBER, offsetof(opt_config, adamw_eps)},
    CHOICE_KEY(OPT_CH_EPS),
    {OPT_SET_SRANK_EXACT, KEY_BOOL, offsetof(opt_config, srank_exact)},
    {OPT_SET_SEED, KEY_SEED, offsetof(opt_config, seed)},
    CHOICE_KEY(OPT_CH_DECAY),
    CHOICE_KEY(OPT_CH_ROUND),
    CHOICE_KEY(OPT_CH_FORM),
    CHOICE_KEY(OPT_CH_ADJUST),
    CHOICE_KEY(OPT_CH_NESTEROV),
    CHOICE_KEY(OPT_CH_SCALING),
    CHOICE_KEY(OPT_CH_CHEAP),
    {OPT_SET_CHEAP_NS_STEPS, KEY_INT, offsetof(opt_config, cheap_ns_steps)},
};
#define N_KEYS ((int)(sizeof KEYS / sizeof KEYS[0]))

static const char *key_name(int i)
{
    return opt_setting_name(KEYS[i].set, OPT_NAME_KEY);
}

/* a == b with '-' and '_' read as the same character. */
static int key_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

/* Index of a key, dashes read as underscores; -1 if unknown. */
static int key_index(const char *key)
{
    for (int i = 0; i < N_KEYS; i++)
        if (key_equal(key, key_name(i)))
            return i;
    return -1;
}

/* An integer-valued JSON number (2 or 2.0) into *out. */
static int json_whole(const json_t *v, double lo, double hi, double *out)
{
    double x = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
    if (!json_is_number(v) || x != floor(x) || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

/* Store the value of number key KEYS[i] into c. */
static int set_number(opt_config *c, int i, const json_t *v)
{
    char *field = (char *)c + KEYS[i].off;
    double x;
    switch (KEYS[i].type) {
    case KEY_NUMBER:
        if (!json_is_number(v))
            return api_fail("optimizer config: %s must be a number", key_name(i));
        x = json_number_value(v);
        memcpy(field, &x, sizeof x);
        return 0;
    case KEY_LONG:
    case KEY_SEED:
        if (json_whole(v, 0, 9.007199254740992e15, &x) != 0)
            return api_fail("optimizer config: %s must be an integer >= 0", key_name(i));
        if (KEYS[i].type == KEY_SEED)
            *(unsigned long *)(void *)field = (unsigned long)x;
        else
            *(long *)(void *)field = (long)x;
        return 0;
    case KEY_INT:
        if (json_whole(v, 1, 1e9, &x) != 0)
            return api_fail("optimizer config: %s must be an integer >= 1", key_name(i));
        *(int *)(void *)field = (int)x;
        return 0;
    case KEY_BOOL:
        if (!json_is_boolean(v) && json_whole(v, 0, 1, &x) != 0)
            return api_fail("optimizer config: %s must be true or false", key_name(i));
        *(int *)(void *)field = json_is_boolean(v) ? json_is_true(v) : (int)x;
        return 0;
    case KEY_NAME:
        break;
    }
    return 0;
}

/* The names given (NULL: not given) and which keys were given, by KEYS index. */
typedef struct {
    const char *name[N_KEYS];
    int given[N_KEYS];
} settings;

/* First pass: check every key and the type of every name, collect the names. */
static int scan_settings(json_t *root, settings *s)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        int i = key_index(key);
        if (i < 0)
            return api_fail("optimizer config: unknown key '%s'", key);
        if (s->given[i])
            return api_fail("optimizer config: key '%s' given twice", key_name(i));
        if (json_is_null(v))
            continue;
        s->given[i] = 1;
        if (KEYS[i].type != KEY_NAME)
            continue;
        if (KEYS[i].set == OPT_SET_CHOICE + OPT_CH_NESTEROV && json_is_boolean(v))
            s->name[i] = json_is_true(v) ? "on" : "off";
        else if (json_is_string(v))
            s->name[i] = json_string_value(v);
        else
            return api_fail("optimizer config: %s must be a string%s", key_name(i),
                            KEYS[i].set == OPT_SET_CHOICE + OPT_CH_NESTEROV
                                ? " (on, off) or true/false" : "");
    }
    return 0;
}

/* The whole settings object onto c: the numbers here, then the names, the
 * pinned values and the checks of opt_config_finish -- the rules of the
 * command line's optimizer flags, with messages that name the keys. */
static int parse_settings(json_t *root, opt_config *c)
{
    settings s;
    memset(&s, 0, sizeof s);
    if (scan_settings(root, &s) != 0)
        return -1;
    opt_kind kind = OPT_LIONMUON;
    if (s.name[0] && opt_kind_parse(s.name[0], &kind) != 0)
        return api_fail("optimizer config: optimizer: unknown optimizer '%s' (adamw, lion, "
                        "signum, muon, signmuon, lionmuon, muon-nesterov, signmuon-sgd)",
                        s.name[0]);
    *c = opt_default_config(kind);
    json_t *v;
    const char *key;
    json_object_foreach(root, key, v) {
        int i = key_index(key);
        if (s.given[i] && KEYS[i].type != KEY_NAME && set_number(c, i, v) != 0)
            return -1;
    }
    opt_given g;
    memset(&g, 0, sizeof g);
    for (int i = 0; i < N_KEYS; i++) {
        opt_setting set = KEYS[i].set;
        if (s.given[i])
            g.given |= OPT_GIVEN(set);
        if (set == OPT_SET_MSIGN)
            g.msign = s.name[i];
        else if (set >= OPT_SET_CHOICE)
            g.choice[set - OPT_SET_CHOICE] = s.name[i];
    }
    lm_error e = {{0}};
    if (opt_config_finish(c, &g, OPT_NAME_KEY, &e) != 0)
        return api_fail("optimizer config: %s", e.msg);
    return 0;
}

int lm_opt_new(const char *config_json, lm_opt **out)
{
    api_clear();
    if (api_need(out, 1, "opt_new: out"))
        return -1;
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(config_json && *config_json ? config_json : "{}",
                              JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return api_fail("optimizer config: invalid JSON at line %d, column %d: %s", je.line,
                        je.column, je.text);
    opt_config c;
    int rc = json_is_object(root) ? parse_settings(root, &c)
                                  : api_fail("optimizer config: not a JSON object");
    json_decref(root);
    if (rc != 0)
        return -1;
    lm_opt *o = lm_calloc(1, sizeof *o);
    o->cfg = c;
    *out = o;
    return 0;
}

void lm_opt_free(lm_opt *opt)
{
    if (!opt)
        return;
    opt_free(opt->st);
    for (int i = 0; i < opt->n; i++) {
        free(opt->p[i].name);
        free(opt->p[i].w);
        free(opt->p[i].g);
    }
    free(opt->p);
    free(opt);
}

/* The value of key KEYS[i] in c, as JSON; null for a setting the optimizer
 * does not read (giving it would fail). */
static json_t *key_value(const opt_config *c, int i)
{
    opt_setting set = KEYS[i].set;
    const char *p = (const char *)c + KEYS[i].off;
    if (!opt_setting_applies(c->kind, set))
        return json_null();
    switch (KEYS[i].type) {
    case KEY_NUMBER: return json_real(*(const double *)(const void *)p);
    case KEY_LONG: return json_integer(*(const long *)(const void *)p);
    case KEY_SEED: return json_integer((json_int_t) * (const unsigned long *)(const void *)p);
    case KEY_INT: return json_integer(*(const int *)(const void *)p);
    case KEY_BOOL: return json_boolean(*(const int *)(const void *)p);
    case KEY_NAME: break;
    }
    if (set == OPT_SET_OPTIMIZER)
        return json_string(opt_kind_name(c->kind));
    if (set == OPT_SET_MSIGN)
        return json_string(msign_method_name(c->msign.method));
    opt_choice ch = (opt_choice)(set - OPT_SET_CHOICE);
    return json_string(opt_choice_name(ch, opt_choice_get(c, ch)));
}

int lm_opt_config(const lm_opt *opt, char *buf, size_t size)
{
    api_clear();
    if (api_need(opt, 1, "opt_config: opt") || api_need(buf, (int64_t)size, "opt_config: buf"))
        return -1;
    json_t *o = json_object();
    for (int i = 0; i < N_KEYS; i++)
        json_object_set_new(o, key_name(i), key_value(&opt->cfg, i));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return api_fail("opt_config: cannot format the settings");
    int len = (int)strlen(s);
    if (size > 0)
        snprintf(buf, size, "%s", s);
    free(s);
    return len;
}

/* ---- parameters ---- */

static api_param *find_param(const lm_opt *o, const char *name, int *index)
{
    for (int i = 0; name && i < o->n; i++)
        if (!strcmp(o->p[i].name, name)) {
            if (index)
                *index = i;
            return &o->p[i];
        }
    return NULL;
}

/* The rule a parameter follows: AdamW for everything under "adamw"; AUTO
 * is `lionmuon step`'s routing (2-D: matrix rule). */
static int resolve_rule(const lm_opt *o, const char *name, int ndim, int rule)
{
    if (rule != LM_RULE_AUTO && rule != LM_RULE_MATRIX && rule != LM_RULE_ADAMW)
        return api_fail("opt_add_param: %s: unknown rule %d", name, rule);
    if (o->cfg.kind == OPT_ADAMW || rule == LM_RULE_ADAMW)
        return LM_RULE_ADAMW;
    if (rule == LM_RULE_AUTO)
        return ndim == 2 ? LM_RULE_MATRIX : LM_RULE_ADAMW;
    if (ndim != 2)
        return api_fail("opt_add_param: %s: the matrix rule needs a 2-D tensor (rank %d)",
                        name, ndim);
    return LM_RULE_MATRIX;
}

int lm_opt_add_param(lm_opt *opt, const char *name, int ndim, const int64_t *shape, int rule)
{
    return lm_opt_add_param_ex(opt, name, ndim, shape, rule, LM_LINEAR_AUTO);
}

int lm_opt_add_param_ex(lm_opt *opt, const char *name, int ndim, const int64_t *shape, int rule,
                        int linear)
{
    api_clear();
    int64_t numel;
    if (api_need(opt, 1, "opt_add_param: opt") ||
        api_numel(ndim, shape, name ? name : "opt_add_param", &numel))
        return -1;
    if (!name || !*name)
        return api_fail("opt_add_param: empty parameter name");
    if (opt->st)
        return api_fail("opt_add_param: %s: parameters must all be added before the first "
                        "step or state access", name);
    if (find_param(opt, name, NULL))
        return api_fail("opt_add_param: duplicate parameter name '%s'", name);
    if (linear != LM_LINEAR_AUTO && linear != LM_LINEAR_NO && linear != LM_LINEAR_YES)
        return api_fail("opt_add_param: %s: linear must be -1 (auto), 0 or 1 (got %d)", name,
                        linear);
    int r = resolve_rule(opt, name, ndim, rule);
    if (r < 0)
        return -1;
    int mi, ni; /* opt_tensor holds int sizes: rows x cols, or 1 x numel */
    if (api_shape2(name, r == LM_RULE_MATRIX ? shape[0] : 1,
                   r == LM_RULE_MATRIX ? shape[1] : numel, &mi, &ni))
        return -1;
    if (opt->n == opt->cap) {
        opt->cap = opt->cap ? 2 * opt->cap : 8;
        api_param *p = realloc(opt->p, (size_t)opt->cap * sizeof *p);
        if (!p)
            return api_fail("opt_add_param: out of memory");
        opt->p = p;
    }
    api_param *p = &opt->p[opt->n++];
    memset(p, 0, sizeof *p);
    p->name = lm_strdup(name);
    p->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        p->shape[d] = shape[d];
    p->numel = (size_t)numel;
    p->rule = r;
    /* auto: the 2-D tensors, as a model's Linear weights are (its embeddings
     * are 2-D too: give LM_LINEAR_NO for them to mirror torch's groups) */
    p->linear = linear == LM_LINEAR_AUTO ? ndim == 2 : linear;
    return 0;
}

int lm_opt_nparams(const lm_opt *opt)
{
    return opt ? opt->n : 0;
}

const char *lm_opt_param_name(const lm_opt *opt, int i)
{
    return opt && i >= 0 && i < opt->n ? opt->p[i].name : NULL;
}

int lm_opt_param_rule(const lm_opt *opt, const char *name)
{
    api_clear();
    const api_param *p = opt ? find_param(opt, name, NULL) : NULL;
    if (!p)
        return api_fail("opt_param_rule: no parameter '%s'", name ? name : "(null)");
    return p->rule;
}

int lm_opt_param_linear(const lm_opt *opt, const char *name)
{
    api_clear();
    const api_param *p = opt ? find_param(opt, name, NULL) : NULL;
    if (!p)
        return api_fail("opt_param_linear: no parameter '%s'", name ? name : "(null)");
    return p->linear;
}

/* Allocate the state (zeros) and the parameter copies, once. */
static void freeze(lm_opt *o)
{
    if (o->st)
        return;
    opt_tensor *t = lm_calloc((size_t)LM_MAX(o->n, 1), sizeof *t);
    for (int i = 0; i < o->n; i++) {
        api_param *p = &o->p[i];
        int matrix = p->rule == LM_RULE_MATRIX;
        p->w = lm_calloc(LM_MAX(p->numel, 1), sizeof(double));
        p->g = lm_calloc(LM_MAX(p->numel, 1), sizeof(double));
        t[i] = (opt_tensor){p->name, matrix ? (int)p->shape[0] : 1,
                            matrix ? (int)p->shape[1] : (int)p->numel, p->w, p->g,
                            matrix ? OPT_RULE_MATRIX : OPT_RULE_ADAMW, p->linear};
    }
    o->st = opt_alloc(&o->cfg, o->n, t);
    free(t);
}

/* ---- the step ---- */

/* Arguments of a step: counts, pointers, finiteness (naming the tensor). */
static int check_step_args(const lm_opt *o, int64_t t, double lr_scale, int64_t n,
                           double *const *params, const double *const *grads)
{
    if (t < 0)
        return api_fail("opt_step: step counter t must be >= 0 (got %lld)", (long long)t);
    if (!(lr_scale >= 0) || !isfinite(lr_scale))
        return api_fail("opt_step: lr_scale must be finite and >= 0 (got %g)", lr_scale);
    if (o->n == 0)
        return api_fail("opt_step: no parameters (lm_opt_add_param first)");
    if (n != o->n)
        return api_fail("opt_step: %lld arrays given for %d parameters", (long long)n, o->n);
    if (api_need(params, n, "opt_step: params") || api_need(grads, n, "opt_step: grads"))
        return -1;
    for (int i = 0; i < o->n; i++) {
        const api_param *p = &o->p[i];
        if (api_need(params[i], (int64_t)p->numel, p->name) ||
            api_need(grads[i], (int64_t)p->numel, p->name))
            return -1;
        long bad = lm_first_nonfinite(p->numel, grads[i]);
        if (bad >= 0)
            return api_fail("gradient of %s: non-finite value at element %ld", p->name, bad);
        bad = lm_first_nonfinite(p->numel, params[i]);
        if (bad >= 0)
            return api_fail("parameter %s: non-finite value at element %ld", p->name, bad);
    }
    return 0;
}

/* Copy every state buffer into one block (block = NULL: allocate it), or
 * with restore = 1 copy the block back into the buffers. */
static double *snapshot(lm_opt *o, double *block, int restore)
{
    size_t total = 0;
    for (int i = 0; i < o->n; i++)
        total += o->p[i].numel * (o->p[i].rule == LM_RULE_ADAMW ? 2 : 1);
    if (!block)
        block = lm_malloc(LM_MAX(total, 1) * sizeof(double));
    double *at = block;
    for (int i = 0; i < o->n; i++)
        for (int w = 0; w < (o->p[i].rule == LM_RULE_ADAMW ? 2 : 1); w++) {
            double *buf = opt_buffer(o->st, i, w);
            size_t bytes = o->p[i].numel * sizeof(double);
            if (restore)
                memcpy(buf, at, bytes);
            else
                memcpy(at, buf, bytes);
            at += o->p[i].numel;
        }
    return block;
}

int lm_opt_step(lm_opt *opt, int64_t t, double lr_scale, int64_t n,
                double *const *params, const double *const *grads, int *took_muon)
{
    api_clear();
    if (api_need(opt, 1, "opt_step: opt") ||
        check_step_args(opt, t, lr_scale, n, params, grads) != 0)
        return -1;
    freeze(opt);
    for (int i = 0; i < opt->n; i++) {
        memcpy(opt->p[i].w, params[i], opt->p[i].numel * sizeof(double));
        memcpy(opt->p[i].g, grads[i], opt->p[i].numel * sizeof(double));
    }
    double *saved = snapshot(opt, NULL, 0);
    lm_error e = {{0}};
    int rc = opt_step(opt->st, (long)t, lr_scale, NULL, &e) != 0 ? api_from(&e) : 0;
    for (int i = 0; i < opt->n && rc == 0; i++) {
        /* finite input stays finite unless a rate is absurd: say so rather
         * than hand back NaN */
        long bad = lm_first_nonfinite(opt->p[i].numel, opt->p[i].w);
        if (bad >= 0)
            rc = api_fail("parameter %s: the step produced a non-finite value at element %ld",
                          opt->p[i].name, bad);
    }
    if (rc != 0)
        snapshot(opt, saved, 1);
    for (int i = 0; i < opt->n && rc == 0; i++) {
        memcpy(params[i], opt->p[i].w, opt->p[i].numel * sizeof(double));
        if (took_muon) /* the step each kernel took */
            took_muon[i] = opt_last_step_type(opt->st, i);
    }
    free(saved);
    return rc;
}

/* ---- state and trigger ---- */

/* The buffer `which` of parameter `name` (freezing the state first), or
 * NULL with the message set. */
static double *state_buffer(lm_opt *o, const char *name, const char *which, int64_t numel,
                            const char *fn)
{
    int i;
    api_param *p = o ? find_param(o, name, &i) : NULL;
    if (!p) {
        api_fail("%s: no parameter '%s'", fn, name ? name : "(null)");
        return NULL;
    }
    int adam = p->rule == LM_RULE_ADAMW, w = -1;
    if (which && !adam && !strcmp(which, "momentum"))
        w = 0;
    else if (which && adam && !strcmp(which, "exp_avg"))
        w = 0;
    else if (which && adam && !strcmp(which, "exp_avg_sq"))
        w = 1;
    if (w < 0) {
        api_fail("%s: %s follows %s, whose state is %s (not '%s')", fn, name,
                 adam ? "AdamW" : "the matrix rule", adam ? "exp_avg, exp_avg_sq" : "momentum",
                 which ? which : "(null)");
        return NULL;
    }
    if (numel != (int64_t)p->numel) {
        api_fail("%s: %s.%s has %zu elements, not %lld", fn, name, which, p->numel,
                 (long long)numel);
        return NULL;
    }
    freeze(o);
    return opt_buffer(o->st, i, w);
}

int lm_opt_state_get(lm_opt *opt, const char *name, const char *which, double *out,
                     int64_t numel)
{
    api_clear();
    double *buf = state_buffer(opt, name, which, numel, "opt_state_get");
    if (!buf || api_need(out, numel, "opt_state_get: out"))
        return -1;
    memcpy(out, buf, (size_t)numel * sizeof(double));
    return 0;
}

int lm_opt_state_set(lm_opt *opt, const char *name, const char *which, const double *in,
                     int64_t numel)
{
    api_clear();
    double *buf = state_buffer(opt, name, which, numel, "opt_state_set");
    if (!buf || api_need(in, numel, "opt_state_set: in"))
        return -1;
    long bad = lm_first_nonfinite((size_t)numel, in);
    if (bad >= 0)
        return api_fail("opt_state_set: %s.%s: non-finite value at element %ld", name, which,
                        bad);
    for (int64_t k = 0; !strcmp(which, "exp_avg_sq") && k < numel; k++)
        if (in[k] < 0)
            return api_fail("opt_state_set: %s.exp_avg_sq: negative second moment at element "
                            "%lld", name, (long long)k);
    memcpy(buf, in, (size_t)numel * sizeof(double));
    return 0;
}

int lm_opt_trigger(lm_opt *opt, const char *name, int64_t t, const double *grad, int64_t numel,
                   double *srank, int *muon)
{
    api_clear();
    double *M = state_buffer(opt, name, "momentum", numel, "opt_trigger");
    if (!M || api_need(grad, numel, "opt_trigger: grad"))
        return -1;
    if (t < 0)
        return api_fail("opt_trigger: step counter t must be >= 0 (got %lld)", (long long)t);
    long bad = lm_first_nonfinite((size_t)numel, grad);
    if (bad >= 0)
        return api_fail("gradient of %s: non-finite value at element %ld", name, bad);
    int i = 0;
    find_param(opt, name, &i); /* found: state_buffer did */
    /* the kernels' own decision and estimate (optim.c), for parameter i */
    lm_error e = {{0}};
    if (opt_trigger(opt->st, i, (long)t, grad, srank, muon, &e) != 0)
        return api_from(&e);
    return 0;
}
