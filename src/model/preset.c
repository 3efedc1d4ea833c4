/* preset.c - presets (preset.h): the flags that reproduce a released run,
 * derived from its args.  The mapping is stated in preset.h and in
 * theory/algorithms.md §9; each function below does one part of it. */
#include "lionmuon/preset.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/preset_runs.h"

/* ---- reading the args ---- */

/* The args object and the first type error met (bad = 1, e filled). */
typedef struct {
    const json_t *args;
    const char *label;
    lm_error *e;
    int bad;
} reader;

/* Every reader below takes the default of the paper's training script
 * (llm-baselines config/base.py) for a key an args object lacks. */
static const json_t *get(const reader *r, const char *key)
{
    return json_object_get(r->args, key);
}

static void type_error(reader *r, const char *key, const char *want)
{
    if (!r->bad)
        lm_fail(r->e, "%s: args.%s must be %s", r->label, key, want);
    r->bad = 1;
}

/* A number; def when the key is absent; *isnull (if given) says null. */
static double num(reader *r, const char *key, double def, int *isnull)
{
    const json_t *v = get(r, key);
    if (isnull)
        *isnull = json_is_null(v);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_number(v)) {
        type_error(r, key, "a number");
        return def;
    }
    return json_number_value(v);
}

static long integer(reader *r, const char *key, long def)
{
    const json_t *v = get(r, key);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_integer(v)) {
        type_error(r, key, "an integer");
        return def;
    }
    return (long)json_integer_value(v);
}

static const char *str(reader *r, const char *key, const char *def)
{
    const json_t *v = get(r, key);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_string(v)) {
        type_error(r, key, "a string");
        return def;
    }
    return json_string_value(v);
}

static int boolean(reader *r, const char *key, int def)
{
    const json_t *v = get(r, key);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_boolean(v)) {
        type_error(r, key, "true or false");
        return def;
    }
    return json_is_true(v);
}

/* ---- writing the flags ---- */

static void add(preset *p, const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(preset *p, const char *flag, const char *fmt, ...)
{
    if (p->nflags >= PRESET_MAX_FLAGS)
        return; /* cannot happen: the derivation writes fewer */
    preset_flag *f = &p->flags[p->nflags++];
    f->flag = flag;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->value, sizeof f->value, fmt, ap);
    va_end(ap);
}

/* A double in the fewest digits that read back to the same value. */
static void add_num(preset *p, const char *flag, double v)
{
    char buf[48];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    add(p, flag, "%s", buf);
}

static int not_ok(preset *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int not_ok(preset *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    p->ok = 0;
    p->nflags = 0;
    return 0;
}

/* ---- the derivation ---- */

/* Settings of the paper's code this tool does not model. */
static int unsupported(reader *r, preset *p)
{
    const char *model = str(r, "model", "llama");
    if (strcmp(model, "base") && strcmp(model, "llama"))
        return not_ok(p, "model '%s' has no reference here (base = GPT-2, llama)", model), 1;
    if (strcmp(str(r, "use_pretrained", "none"), "none"))
        return not_ok(p, "use_pretrained: a pretrained start is not modelled"), 1;
    if (num(r, "dropout", 0, NULL) != 0)
        return not_ok(p, "dropout %g: the tool has no dropout", num(r, "dropout", 0, NULL)), 1;
    if (num(r, "init_std", 0.02, NULL) != 0.02)
        return not_ok(p, "init_std %g: the tool initialises with 0.02",
                      num(r, "init_std", 0.02, NULL)), 1;
    if (num(r, "mlp_dim_exp_factor", 1.0, NULL) != 1.0)
        return not_ok(p, "mlp_dim_exp_factor != 1 is not modelled"), 1;
    if (boolean(r, "parallel_block", 0))
        return not_ok(p, "parallel_block: the tool's blocks are sequential"), 1;
    long kv = integer(r, "n_kv_head", -1);
    if (kv >= 0 && kv != integer(r, "n_head", 12))
        return not_ok(p, "n_kv_head %ld: grouped-query attention is not modelled", kv), 1;
    if (!strcmp(model, "llama") && num(r, "rmsnorm_eps", 1e-5, NULL) != 1e-5)
        return not_ok(p, "rmsnorm_eps != 1e-5 is not modelled"), 1;
    return 0;
}

/* Model, batch, length, clipping, seed, evaluation and routing. */
static void model_flags(reader *r, preset *p)
{
    int llama = !strcmp(str(r, "model", "llama"), "llama");
    long V = integer(r, "vocab_size", 50304), T = integer(r, "sequence_length", 512);
    long B = integer(r, "batch_size", 50) * integer(r, "acc_steps", 1) *
             integer(r, "world_size", 1);
    long I = integer(r, "iterations", 15000), W = integer(r, "warmup_steps", 3000);
    add(p, "--model", "%s", llama ? "llama" : "gpt2");
    add(p, "--n-layer", "%ld", integer(r, "n_layer", 24));
    add(p, "--n-head", "%ld", integer(r, "n_head", 12));
    add(p, "--n-embd", "%ld", integer(r, "n_embd", 768));
    add(p, "--vocab-size", "%ld", V);
    add(p, "--seq-len", "%ld", T);
    add(p, "--batch-size", "%ld", B);
    if (!llama && boolean(r, "bias", 0))
        add(p, "--bias", "%s", "");
    if (llama)
        add(p, "--multiple-of", "%ld", integer(r, "multiple_of", 256));
    add(p, "--iterations", "%ld", I);
    /* the paper's fraction 3000/64000 as -1, so it follows --iterations */
    long frac = (long)floor(I * 3000.0 / 64000.0 + 0.5);
    if (W == frac && W > 0)
        add(p, "--warmup", "%s", "-1");
    else
        add(p, "--warmup", "%ld", W);
    add_num(p, "--grad-clip", num(r, "grad_clip", 1.0, NULL));
    add(p, "--seed", "%ld", integer(r, "seed", 0));
    add(p, "--eval-every", "%ld", integer(r, "eval_interval", 200));
    add(p, "--eval-batches", "%ld", integer(r, "eval_batches", 32));
    /* the literal rule (ndim >= 2, first dimension < 10000) is the by-name
     * rule exactly when wte's V >= 10000 and wpe's T < 10000 */
    add(p, "--routing", "%s", V >= 10000 && T < 10000 ? "name" : "dim");
}

/* The learning-rate schedule: cos, wsd (linear decay) or none. */
static int schedule_flags(reader *r, preset *p)
{
    const char *s = str(r, "scheduler", "cos");
    if (!strcmp(s, "cos")) {
        add(p, "--schedule", "%s", "cos");
    } else if (!strcmp(s, "wsd")) {
        const char *dt = str(r, "decay_type", "linear");
        if (strcmp(dt, "linear"))
            return not_ok(p, "scheduler wsd with decay_type '%s': only linear is modelled", dt),
                   -1;
        add(p, "--schedule", "%s", "wsd");
        add_num(p, "--wsd-fract-decay", num(r, "wsd_fract_decay", 0.1, NULL));
        add_num(p, "--wsd-final-lr", num(r, "wsd_final_lr_scale", 0.0, NULL));
    } else if (!strcmp(s, "none")) {
        add(p, "--schedule", "%s", "constant");
    } else {
        return not_ok(p, "scheduler '%s' is not modelled (cos, wsd, none)", s), -1;
    }
    return 0;
}

/* What both classes share: the AdamW part, decay, msign, trigger, rounding. */
static void hybrid_common(reader *r, preset *p)
{
    add_num(p, "--lr-adamw", num(r, "lr", 1e-3, NULL));
    add(p, "--adamw-beta1", "%s", "0.8");
    add(p, "--adamw-beta2", "%s", "0.999");
    add(p, "--adamw-eps", "%s", "1e-08");
    add(p, "--adamw-eps-mode", "%s", "paper");
    add_num(p, "--weight-decay", num(r, "weight_decay", 0.1, NULL));
    add(p, "--decay-on", "%s", "all");
    add(p, "--msign", "%s", "ns5");
    add(p, "--ns-steps", "%ld", integer(r, "muon_ns_steps", 5));
    add_num(p, "--srank-alpha", num(r, "srank_alpha", 0.0, NULL));
    add(p, "--round-update", "%s", "bf16");
}

/* The period: the code takes a Muon step when k <= 1 or t mod k == 0. */
static long period(reader *r)
{
    long k = integer(r, "muon_every_k", 5);
    return k <= 1 ? 1 : k;
}

/* opt = lion_muon (theory/algorithms.md §2): the LionMuon class. */
static void lion_muon_flags(reader *r, preset *p)
{
    double b1 = num(r, "beta1", 0.9, NULL), b2 = num(r, "beta2", 0.95, NULL);
    double lr = num(r, "muon_lr_factor", 1.0, NULL);
    int null_sign;
    double slr = num(r, "sign_lr", 0, &null_sign);
    long P = period(r);
    const char *kind = b1 != b2 ? "lionmuon" : P == 1 ? "muon" : "signmuon";
    add(p, "--optimizer", "%s", kind);
    add(p, "--period", "%ld", P);
    add_num(p, "--beta1", b1);
    if (b1 != b2)
        add_num(p, "--beta2", b2);
    add_num(p, "--lr-muon", lr);
    /* lion_lr = None: the code's default, 1% of the Muon rate */
    add_num(p, "--lr-sign", null_sign || !get(r, "sign_lr") ? lr * 0.01 : slr);
    hybrid_common(r, p);
}

/* opt = sign_muon (theory/algorithms.md §3): the second class. */
static int sign_muon_flags(reader *r, preset *p)
{
    const char *mode = str(r, "cheap_mode", "norm"), *scaling = str(r, "sign_scaling", "muon");
    if (strcmp(mode, "sign") && strcmp(mode, "norm") && strcmp(mode, "cheap_ns"))
        return not_ok(p, "cheap_mode '%s' has no reference here (sign, norm, cheap_ns)", mode), -1;
    if (strcmp(scaling, "none") && strcmp(scaling, "muon") && strcmp(scaling, "frob"))
        return not_ok(p, "sign_scaling '%s' is not one of none, muon, frob", scaling), -1;
    double lr = num(r, "muon_lr_factor", 1.0, NULL);
    int null_sign;
    double slr = num(r, "sign_lr", 0, &null_sign);
    if (null_sign || !get(r, "sign_lr")) /* cheap_lr = None: the code's default */
        slr = strcmp(mode, "cheap_ns") ? lr * 0.25 : lr;
    add(p, "--optimizer", "%s", "signmuon-sgd");
    add(p, "--period", "%ld", period(r));
    add_num(p, "--beta1", num(r, "momentum", 0.9, NULL));
    add(p, "--nesterov", "%s", boolean(r, "nesterov", 0) ? "on" : "off");
    add_num(p, "--lr-muon", lr);
    add_num(p, "--lr-sign", slr);
    add(p, "--cheap-mode", "%s", strcmp(mode, "cheap_ns") ? mode : "cheap-ns");
    add(p, "--sign-scaling", "%s", scaling);
    add(p, "--cheap-ns-steps", "%ld", integer(r, "cheap_ns_steps", 2));
    hybrid_common(r, p);
    return 0;
}

/* opt = adamw: torch.optim.AdamW with the two parameter groups. */
static void adamw_flags(reader *r, preset *p)
{
    add(p, "--optimizer", "%s", "adamw");
    add_num(p, "--lr-adamw", num(r, "lr", 1e-3, NULL));
    add_num(p, "--adamw-beta1", num(r, "beta1", 0.9, NULL));
    add_num(p, "--adamw-beta2", num(r, "beta2", 0.95, NULL));
    add(p, "--adamw-eps", "%s", "1e-08");
    add(p, "--adamw-eps-mode", "%s", "torch");
    add_num(p, "--weight-decay", num(r, "weight_decay", 0.1, NULL));
    add(p, "--decay-on", "%s", "linear");
    add(p, "--round-update", "%s", "none");
}

/* The classes the paper's runs used that this tool does not implement. */
static const char *missing_class(const char *opt)
{
    if (!strcmp(opt, "lidmuon") || !strcmp(opt, "signdmuon"))
        return "is not in the released code (brain-lab-research/lion-muon has no such "
               "optimizer)";
    if (!strcmp(opt, "rmsspectral"))
        return "(RMSspectral) is outside the LionMuon family, with no reference here";
    return "is not in the released code this tool reproduces (lion_muon, sign_muon, adamw are)";
}

static int derive(reader *r, preset *p)
{
    const char *opt = str(r, "opt", "adamw");
    snprintf(p->opt_class, sizeof p->opt_class, "%s", opt);
    snprintf(p->dataset, sizeof p->dataset, "%s", str(r, "dataset", ""));
    p->ok = 1;
    if (strcmp(opt, "lion_muon") && strcmp(opt, "sign_muon") && strcmp(opt, "adamw"))
        return not_ok(p, "optimizer class '%s' %s", opt, missing_class(opt));
    if (unsupported(r, p))
        return r->bad ? -1 : 0;
    model_flags(r, p);
    if (schedule_flags(r, p) == 0) {
        if (!strcmp(opt, "lion_muon"))
            lion_muon_flags(r, p);
        else if (!strcmp(opt, "sign_muon"))
            sign_muon_flags(r, p);
        else
            adamw_flags(r, p);
    }
    return r->bad ? -1 : 0;
}

int preset_from_text(const char *text, const char *label, preset *p, lm_error *e)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", label);
    p->best_val = NAN;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return lm_fail(e, "%s: not a JSON object (%s, line %d)", label,
                       root ? "another value" : je.text, je.line);
    }
    json_t *args = json_object_get(root, "args");
    if (args && !json_is_object(args)) {
        json_decref(root);
        return lm_fail(e, "%s: \"args\" is not an object", label);
    }
    if (!args)
        args = root; /* the args object itself */
    if (!json_object_get(args, "opt")) {
        json_decref(root);
        return lm_fail(e, "%s: no \"opt\" key: not a summary.json of the paper's code nor "
                          "its args", label);
    }
    /* the best validation loss, when the summary has its log */
    json_t *vl = json_object_get(root, "val_loss"), *v;
    size_t i;
    json_array_foreach(vl, i, v)
        if (json_is_number(v) && !(json_number_value(v) >= p->best_val))
            p->best_val = json_number_value(v);
    reader r = {args, label, e, 0};
    int rc = derive(&r, p);
    json_decref(root);
    return rc;
}

int preset_from_file(const char *path, preset *p, lm_error *e)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return lm_fail(e, "%s: %s (line %d)", path, je.text, je.line);
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    int rc = preset_from_text(text ? text : "", path, p, e);
    free(text);
    return rc;
}

int preset_count(void)
{
    return preset_nruns;
}

int preset_at(int i, preset *p, lm_error *e)
{
    if (i < 0 || i >= preset_nruns)
        return lm_fail(e, "preset %d out of range (0..%d)", i, preset_nruns - 1);
    const preset_run *run = &preset_runs[i];
    if (preset_from_text(run->args, run->name, p, e))
        return -1;
    p->best_val = run->best_val;
    return 0;
}

int preset_find(const char *name, preset *p, lm_error *e)
{
    for (int i = 0; i < preset_nruns; i++)
        if (!strcmp(preset_runs[i].name, name))
            return preset_at(i, p, e);
    return lm_fail(e, "--preset: no released run called '%s' (`lionmuon presets` lists "
                      "them)", name);
}

const char *preset_value(const preset *p, const char *flag)
{
    for (int i = 0; i < p->nflags; i++)
        if (!strcmp(p->flags[i].flag, flag))
            return p->flags[i].value;
    return NULL;
}
