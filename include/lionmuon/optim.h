/* optim.h - the LionMuon optimizer family, the paper code's second class,
 * AdamW, the schedules and gradient clipping (prefix opt_).
 *
 * One rule covers the whole matrix family.  For a matrix W (m x n) with
 * gradient G, momentum buffer M (zeros at start) and global step counter t:
 *
 *   C = beta1 M + (1 - beta1) G                       interpolated direction
 *   Muon step (t mod P == 0):  U = 0.2 sqrt(max(m, n)) msign(C), lr = lr_muon
 *   Lion step (otherwise):     U = sign(C),                       lr = lr_sign
 *   W <- W (1 - lr wd) - lr U
 *   M <- beta2 M + (1 - beta2) G                      after the direction
 *
 * The named optimizers are this rule with fixed parameters (the paper's
 * table); opt_effective() is the single place that says so:
 *   lionmuon  P,     beta1, beta2
 *   signmuon  P,     beta1, beta1
 *   muon      P = 1, beta1, beta1
 *   lion      P = 0, beta1, beta2     (P = 0: never a Muon step)
 *   signum    P = 0, beta1, beta1
 * plus AdamW (every tensor), classic Muon ("muon-nesterov", EMA or SGD form)
 * and the paper code's second class ("signmuon-sgd", its opt = sign_muon:
 * SGD momentum, Nesterov direction, a cheap step between Muon steps; see
 * theory/algorithms.md §3), each under its own name.
 *
 * Tensors that are not matrices of the matrix rule (1-D gains and biases,
 * the embedding) follow AdamW as the paper's code writes it (eps before bias
 * correction), or torch.optim.AdamW's placement with OPT_EPS_TORCH.
 * With OPT_ROUND_BF16 every applied matrix update U is rounded to bfloat16
 * first, as both classes of the paper's code do (theory/algorithms.md §7).
 */
#ifndef LM_OPTIM_H
#define LM_OPTIM_H

#include <stddef.h>
#include "common.h"
#include "msign.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OPT_ADAMW = 0,
    OPT_LION,
    OPT_SIGNUM,
    OPT_MUON,
    OPT_SIGNMUON,
    OPT_LIONMUON,
    OPT_MUON_NESTEROV,
    OPT_SIGNMUON_SGD    /* the paper code's second class (opt = sign_muon) */
} opt_kind;

typedef enum { OPT_EPS_PAPER = 0, OPT_EPS_TORCH } opt_eps_mode;

/* The other choices of the family, each a name table (opt_choice_name):
 *   OPT_CH_EPS       --adamw-eps-mode  paper | torch
 *   OPT_CH_DECAY     --decay-on        all (every tensor) | linear (Linear-layer
 *                                      weights only: torch AdamW's two groups)
 *   OPT_CH_ROUND     --round-update    none | bf16
 *   OPT_CH_FORM      --momentum-form   ema | sgd      (muon-nesterov)
 *   OPT_CH_ADJUST    --muon-adjust     original | match_rms_adamw (muon-nesterov)
 *   OPT_CH_SCALING   --sign-scaling    none | muon | frob   (signmuon-sgd)
 *   OPT_CH_CHEAP     --cheap-mode      sign | norm | cheap-ns (signmuon-sgd)
 *   OPT_CH_NESTEROV  --nesterov        on | off  (signmuon-sgd, muon-nesterov) */
typedef enum { OPT_DECAY_ALL = 0, OPT_DECAY_LINEAR } opt_decay_on;
typedef enum { OPT_ROUND_NONE = 0, OPT_ROUND_BF16 } opt_round;
typedef enum { OPT_FORM_EMA = 0, OPT_FORM_SGD } opt_momentum_form;
typedef enum { OPT_ADJUST_ORIGINAL = 0, OPT_ADJUST_MATCH_RMS } opt_adjust;
typedef enum { OPT_SCALING_NONE = 0, OPT_SCALING_MUON, OPT_SCALING_FROB } opt_sign_scaling;
typedef enum { OPT_CHEAP_SIGN = 0, OPT_CHEAP_NORM, OPT_CHEAP_NS } opt_cheap_mode;
typedef enum {
    OPT_CH_EPS = 0, OPT_CH_DECAY, OPT_CH_ROUND, OPT_CH_FORM, OPT_CH_ADJUST,
    OPT_CH_SCALING, OPT_CH_CHEAP, OPT_CH_NESTEROV, OPT_CH_COUNT
} opt_choice;

typedef struct {
    opt_kind kind;
    /* matrix rule */
    long period;        /* P: Muon step when t mod P == 0; 0 means never */
    double beta1, beta2;
    double lr_muon, lr_sign;
    msign_opts msign;   /* method and steps of the Muon step's msign */
    double srank_alpha; /* > 0: adaptive trigger (stable rank) replaces P */
    int srank_exact;    /* 1: the trigger's ||C||_2 from LAPACK's singular
                           values instead of 3 power iterations */
    unsigned long seed; /* the trigger's random start vectors (the run seed) */
    double weight_decay;/* decoupled (the paper's 0.1) */
    opt_decay_on decay_on; /* which tensors it applies to */
    opt_round round_update; /* bf16: each applied matrix update rounded */
    /* muon-nesterov and signmuon-sgd: mu = beta1 */
    int nesterov;       /* 1: direction G + mu B; 0: B */
    opt_momentum_form momentum_form; /* muon-nesterov: EMA or SGD momentum */
    opt_adjust adjust;  /* muon-nesterov: the shape factor of the update */
    opt_sign_scaling sign_scaling;   /* signmuon-sgd: the cheap sign's scale */
    opt_cheap_mode cheap_mode;       /* signmuon-sgd: the step between Muon steps */
    int cheap_ns_steps; /* signmuon-sgd, cheap-ns: Newton-Schulz steps */
    /* AdamW: 1-D tensors and embeddings, or every tensor with OPT_ADAMW */
    double lr_adamw, adamw_beta1, adamw_beta2, adamw_eps;
    opt_eps_mode adamw_eps_mode;
} opt_config;

/* The defaults of each optimizer: the released runs of the paper's headline
 * table (theory/algorithms.md §9; 124M settings, §5). */
opt_config opt_default_config(opt_kind kind);

const char *opt_kind_name(opt_kind k);
/* Also accepts "sign_muon" (the paper code's name) for signmuon-sgd. */
int opt_kind_parse(const char *name, opt_kind *out);
const char *opt_eps_mode_name(opt_eps_mode m);
int opt_eps_mode_parse(const char *name, opt_eps_mode *out);

/* Name <-> value of the choices above; "?" for a value out of range, -1 for
 * an unknown name.  opt_choice_list: the names joined by '|', for help. */
const char *opt_choice_name(opt_choice which, int value);
int opt_choice_parse(opt_choice which, const char *name, int *value);
const char *opt_choice_list(opt_choice which);
/* The key under which a choice is recorded (golden and step files'
 * __metadata__, summary.json's config): "adamw_eps_mode", "decay_on",
 * "round_update", "momentum_form", "muon_adjust", "sign_scaling",
 * "cheap_mode", "nesterov"; "?" out of range. */
const char *opt_choice_key(opt_choice which);
/* The value of choice `which` in c, as an int (for the name tables). */
int opt_choice_get(const opt_config *c, opt_choice which);
void opt_choice_set(opt_config *c, opt_choice which, int value);

/* torch's .to(torch.bfloat16) of a double: rounded to float (nearest even),
 * then to bfloat16 (nearest even).  Finite values only matter here. */
double opt_round_bf16(double x);

/* 1 if the second class schedules only lr_muon (its cheap-step and AdamW
 * rates stay fixed): kind == OPT_SIGNMUON_SGD. */
int opt_fixed_side_rates(const opt_config *c);

/* The (P, beta1, beta2) that kind actually runs with: the special cases of
 * LionMuon.  P = 0 means never a Muon step. */
void opt_effective(const opt_config *c, long *P, double *beta1, double *beta2);

/* ---- settings: their names, and the rules of the named optimizers ---- */

/* Every setting of an opt_config a caller can give: the optimizer flags of
 * the command line (--lr-muon) and the keys of the C API's settings object
 * (lr_muon) name the same settings.  The choices follow in opt_choice order:
 * OPT_SET_CHOICE + OPT_CH_EPS is adamw_eps_mode, and so on. */
typedef enum {
    OPT_SET_OPTIMIZER = 0, OPT_SET_LR_MUON, OPT_SET_LR_SIGN, OPT_SET_LR_ADAMW,
    OPT_SET_BETA1, OPT_SET_BETA2, OPT_SET_PERIOD, OPT_SET_MSIGN, OPT_SET_NS_STEPS,
    OPT_SET_MSIGN_TOL, OPT_SET_MSIGN_RANK_RTOL, OPT_SET_SRANK_ALPHA, OPT_SET_SRANK_EXACT,
    OPT_SET_SEED, OPT_SET_WEIGHT_DECAY, OPT_SET_ADAMW_BETA1, OPT_SET_ADAMW_BETA2,
    OPT_SET_ADAMW_EPS, OPT_SET_CHEAP_NS_STEPS,
    OPT_SET_CHOICE,                          /* + opt_choice */
    OPT_SET_COUNT = OPT_SET_CHOICE + OPT_CH_COUNT
} opt_setting;

/* How a message names a setting: by its flag ("--lr-muon", the command
 * line's) or by its key ("lr_muon", the C API's and Python's). */
typedef enum { OPT_NAME_FLAG = 0, OPT_NAME_KEY } opt_naming;

/* The name of setting s in the style `how`; "?" out of range. */
const char *opt_setting_name(opt_setting s, opt_naming how);

/* 1 if optimizer k reads choice `which` (--momentum-form and --muon-adjust:
 * muon-nesterov; --sign-scaling, --cheap-mode: signmuon-sgd; --nesterov:
 * both; the others: every optimizer).  Giving a choice k does not read is
 * an error (opt_config_finish). */
int opt_choice_applies(opt_kind k, opt_choice which);
/* 1 if optimizer k reads setting s: the choices as above, cheap_ns_steps
 * for signmuon-sgd only, every other setting always. */
int opt_setting_applies(opt_kind k, opt_setting s);

/* What a caller gave on top of opt_default_config(kind): which settings were
 * given explicitly (bit OPT_GIVEN(s) for setting s; the numbers themselves
 * are already in the opt_config), and the settings given by name. */
#define OPT_GIVEN(s) (1u << (unsigned)(s))
typedef struct {
    unsigned given;                    /* OPT_GIVEN bits */
    const char *msign;                 /* the msign method's name; NULL: keep c's */
    const char *choice[OPT_CH_COUNT];  /* each choice's name; NULL: keep c's */
} opt_given;

/* The one place that turns given settings into a finished opt_config, for
 * the command line (cli_optim_finish) and the C API (lm_opt_new) alike:
 *   - the names: the msign method, each choice; cubic's step count becomes
 *     its iteration cap 100 unless ns_steps was given;
 *   - a setting given to an optimizer that does not read it fails (a choice
 *     or cheap_ns_steps, opt_setting_applies; srank_exact set without the
 *     trigger, srank_alpha > 0);
 *   - the pinned values of the named optimizers: beta2 = beta1 for signum,
 *     muon, signmuon, muon-nesterov and signmuon-sgd; P = 0 for lion and
 *     signum, P = 1 for muon and muon-nesterov.  A given value that
 *     contradicts a pin fails rather than being ignored;
 *   - the ranges (opt_config_check).
 * Every message names the setting at fault, and the settings it mentions,
 * in the style `how` ("--beta2: signum uses beta2 = beta1; give --beta1
 * only" or "beta2: ... give beta1 only"). */
int opt_config_finish(opt_config *c, const opt_given *g, opt_naming how, lm_error *e);

/* Check ranges: betas in [0, 1), learning rates and weight decay >= 0 and
 * finite, P >= 0, eps > 0, ns steps >= 1, the msign's tol > 0 and rank_rtol
 * >= 0.  The message names the flag (--beta1, --lr-muon, ...);
 * opt_config_check_named names it in the style `how`. */
int opt_config_check(const opt_config *c, lm_error *e);
int opt_config_check_named(const opt_config *c, opt_naming how, lm_error *e);

/* 1 if step t is a Muon step under period P (t mod P == 0; never if P == 0). */
int opt_is_muon_step(long P, long t);

/* ---- single-tensor kernels: the update rules, one function each ---- */

/* Workspace for the matrix kernels: the direction C and the msign workspace,
 * sized for matrices of up to max_rows x max_cols. */
typedef struct {
    double *C;
    msign_ws *ms;
    double *pu, *pv; /* power-iteration scratch for the adaptive trigger */
    void *rng;       /* a GSL mt19937, reseeded for each start vector */
    long index;      /* the tensor's index in the model (opt_step sets it;
                        0 for a direct call): part of the start vector's seed */
    int max_rows, max_cols;
} opt_matrix_ws;
opt_matrix_ws *opt_matrix_ws_alloc(int max_rows, int max_cols);
void opt_matrix_ws_free(opt_matrix_ws *ws);

/* The LionMuon step on one m x n matrix at global step t (see the top of this
 * file).  lr_scale multiplies lr_muon and lr_sign (the schedule).  If
 * took_muon is not NULL it receives 1 for a Muon step, 0 for a Lion step. */
int opt_lionmuon_matrix(const opt_config *c, long t, double lr_scale,
                        int m, int n, double *W, const double *G, double *M,
                        opt_matrix_ws *ws, int *took_muon, lm_error *e);

/* Classic Muon with mu = beta1, lr = lr_muon:
 *   EMA form (default, torch.optim.Muon):  B <- mu B + (1 - mu) G; D = (1 - mu) G + mu B
 *   SGD form (Keller Jordan's first code):  B <- mu B + G;           D = G + mu B
 *   (D = B with nesterov off);  U = a msign(D), a = sqrt(max(1, m/n)) ("original")
 *   or 0.2 sqrt(max(m, n)) ("match_rms_adamw");  W <- W (1 - lr wd) - lr U. */
int opt_muon_nesterov_matrix(const opt_config *c, double lr_scale, int m, int n,
                             double *W, const double *G, double *B,
                             opt_matrix_ws *ws, lm_error *e);

/* The paper code's second class (theory/algorithms.md §3), mu = beta1:
 *   B <- mu B + G;  D = G + mu B (nesterov) or B
 *   Muon step (t mod P == 0, or the trigger on B):
 *       U = 0.2 sqrt(max(m, n)) msign(D),   lr = lr_muon lr_scale
 *   cheap step, lr = lr_sign (not scaled by the schedule):
 *       sign:     U = sign(D) s,  s = 1 (none), sqrt(max(1, m/n)) / sqrt(max(m, n))
 *                 (muon) or 1 / sqrt(max(m, n)) (frob)
 *       norm:     U = D / (||D||_F + 1e-7) sqrt(min(m, n)) sqrt(max(1, m/n))
 *       cheap-ns: U = 0.2 sqrt(max(m, n)) msign(D) with cheap_ns_steps steps
 *   W <- W (1 - lr wd) - lr U. */
int opt_signmuon_sgd_matrix(const opt_config *c, long t, double lr_scale, int m, int n,
                            double *W, const double *G, double *B, opt_matrix_ws *ws,
                            int *took_muon, lm_error *e);

/* AdamW on n values at global step t (bias-correction count k = t + 1):
 *   m <- lerp(m, g, 1 - b1);  v <- lerp(v, g^2, 1 - b2)
 *   paper: p <- p (1 - lr wd) - lr sqrt(1 - b2^k)/(1 - b1^k) m / (eps + sqrt v)
 *   torch: p <- p (1 - lr wd) - lr/(1 - b1^k) m / (sqrt(v / (1 - b2^k)) + eps) */
void opt_adamw_tensor(const opt_config *c, long t, double lr_scale, size_t n,
                      double *p, const double *g, double *m, double *v);
/* The same with weight decay wd in place of c->weight_decay. */
void opt_adamw_tensor_wd(const opt_config *c, long t, double lr_scale, double wd, size_t n,
                         double *p, const double *g, double *m, double *v);

/* ---- a whole model's parameters ---- */

typedef enum { OPT_RULE_MATRIX = 0, OPT_RULE_ADAMW } opt_rule;

typedef struct {
    const char *name; /* for messages; not copied */
    int rows, cols;   /* a matrix is rows x cols; any other tensor is 1 x numel */
    double *w;        /* parameter, rows * cols values, owned by the caller */
    double *g;        /* its gradient, likewise */
    opt_rule rule;    /* forced to OPT_RULE_ADAMW when kind == OPT_ADAMW */
    int linear;       /* 1: the weight of a Linear layer (the hidden matrices):
                         the tensors that decay under OPT_DECAY_LINEAR */
} opt_tensor;

typedef struct opt_state opt_state;

/* State (zeros) for n tensors; the opt_tensor array is copied, the buffers it
 * points to are not.  All workspace is allocated here: opt_step allocates
 * nothing. */
opt_state *opt_alloc(const opt_config *c, int n, const opt_tensor *t);
void opt_free(opt_state *s);

/* State buffers of tensor i, rows*cols doubles each, for checkpoints:
 * which = 0: the momentum (matrix rule) or exp_avg (AdamW);
 * which = 1: exp_avg_sq (AdamW), NULL for the matrix rule. */
double *opt_buffer(opt_state *s, int i, int which);

/* Bytes of optimizer state actually allocated (the buffers above). */
size_t opt_state_bytes(const opt_state *s);

typedef struct {
    int n_muon;  /* matrices that took a Muon step */
    int n_lion;  /* matrices that took a Lion step */
} opt_step_info;

/* One step at global step counter t with schedule multiplier lr_scale.
 * Rejects non-finite gradients (naming the tensor) before touching anything. */
int opt_step(opt_state *s, long t, double lr_scale, opt_step_info *info, lm_error *e);

/* The pieces of opt_step, for callers that split the work (data-parallel
 * training steps each tensor on one rank): the non-finite check over every
 * gradient, and the step of tensor i alone (took_muon: 1 Muon, 0 Lion, -1
 * AdamW). */
int opt_check_grads(const opt_state *s, lm_error *e);
int opt_step_one(opt_state *s, int i, long t, double lr_scale, int *took_muon, lm_error *e);
int opt_ntensors(const opt_state *s);

/* The step type tensor i took in the last opt_step or opt_step_one: 1 Muon,
 * 0 the other matrix step (Lion's sign, or the second class's cheap step),
 * -1 AdamW, or a tensor not stepped yet. */
int opt_last_step_type(const opt_state *s, int i);

/* The step-type decision that opt_step_one would make for matrix tensor i at
 * step t with gradient G (rows * cols values), from the current state and
 * without changing it: *muon = 1 for a Muon step, 0 otherwise (by the
 * trigger when srank_alpha > 0, else t mod P == 0; always 1 for
 * muon-nesterov), and *srank = the trigger's stable-rank estimate
 * ||X||_F^2 / (||X||_2^2 + 1e-12) of the matrix X it looks at, with the
 * seeded power iteration (or LAPACK with srank_exact) of the kernels:
 * X = beta1 M + (1 - beta1) G for the LionMuon rule, X = mu B + G (the
 * momentum after its update) for signmuon-sgd, X = the direction D for
 * muon-nesterov.  Either pointer may be NULL.  Fails for an AdamW tensor. */
int opt_trigger(opt_state *s, int i, long t, const double *G, double *srank, int *muon,
                lm_error *e);

/* ---- schedule and clipping ---- */

/* The "cos" schedule multiplier at step k: 0.01 + 0.99 k / w for k < w, else
 * (1 + cos(pi (k - w) / (iterations - w))) / 2. */
double opt_lr_schedule(long k, long warmup, long iterations);

/* The paper code's "wsd" (warm-up, stable, decay; linear decay): k / w +
 * (1 - k / w) / 100 for k < w; 1 until the last floor(fract_decay
 * iterations) steps; then linear from 1 to final_factor. */
double opt_lr_schedule_wsd(long k, long warmup, long iterations, double fract_decay,
                           double final_factor);

/* torch.nn.utils.clip_grad_norm_: total = ||(all gradients)||_2; if
 * max_norm / (total + 1e-6) < 1, scale every gradient by that factor.
 * Returns total (before clipping).  max_norm <= 0 disables clipping. */
double opt_clip_grad_norm(int n, const opt_tensor *t, double max_norm);

#ifdef __cplusplus
}
#endif

#endif
