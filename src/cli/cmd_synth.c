/* cmd_synth.c - `lionmuon synth`: flag parsing and dispatch only; the
 * numerics live in src/synth (objective.c, noise.c, measure.c, bounds.c,
 * validate.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lionmuon/fs.h"
#include "lionmuon/validate.h"

static const char SYNTH_USAGE[] =
    "lionmuon synth --objective separable|kronecker|mix|zipf|geometry --noise "
    "none|gaussian|student-t|stable|pareto [--structure entrywise|low-rank|sparse] [--m M --n N] "
    "--optimizer O [optimizer flags] --steps T --seed S --out DIR";
static const char SYNTH_ABOUT[] =
    "Run one optimizer of the LionMuon family on a synthetic objective with the\n"
    "chosen noise and measure every constant of the bound along the run (from\n"
    "the noise-free gradient).  Writes DIR/trajectory.csv (one row per step) and\n"
    "DIR/constants.json (L_M, L_L, alpha, gamma, sigma_F, kappa, rho_N, rho_1,\n"
    "Delta, their quantiles, the analytic constants, the bound at these step\n"
    "sizes and Lbar(P), Sbar(P)).  Unlike `step`, synth defaults to the\n"
    "theory's setting: --msign svd and --weight-decay 0 unless given.  The zipf\n"
    "objective's noise is its own mini-batch sampling; --noise none adds nothing\n"
    "to it.  See theory/bounds.md for every definition.";

typedef struct {
    const char *objective, *noise, *structure, *out;
    long steps, seed, obj_seed, extra;
    double kappa;
    obj_params op;
    noise_params np;
} synth_args;

/* The objective and noise flags (shared by synth and synth-check). */
static void objective_flags(cli_flag *f, int *n, synth_args *a)
{
    cli_add(f, n, "--objective", FLAG_STRING, &a->objective,
             "separable|kronecker|mix|zipf|geometry");
    cli_add(f, n, "--noise", FLAG_STRING, &a->noise, "none|gaussian|student-t|stable|pareto");
    cli_add(f, n, "--structure", FLAG_STRING, &a->structure, "entrywise|low-rank|sparse");
    cli_add(f, n, "--m", FLAG_INT, &a->op.m, "rows of W");
    cli_add(f, n, "--n", FLAG_INT, &a->op.n, "columns of W");
    cli_add(f, n, "--sigma", FLAG_DOUBLE, &a->np.sigma, "noise scale (per entry)");
    cli_add(f, n, "--nu", FLAG_DOUBLE, &a->np.nu, "student-t degrees of freedom (> 1)");
    cli_add(f, n, "--alpha", FLAG_DOUBLE, &a->np.alpha, "stable index in (1, 2]");
    cli_add(f, n, "--pareto-a", FLAG_DOUBLE, &a->np.pareto_a,
             "pareto (centred, skewed) tail index (> 1)");
    cli_add(f, n, "--rank", FLAG_INT, &a->np.rank, "low-rank noise: rank");
    cli_add(f, n, "--density", FLAG_DOUBLE, &a->np.density, "sparse noise: density");
    cli_add(f, n, "--h-tail", FLAG_DOUBLE, &a->op.h_tail, "separable: Pareto index of h");
    cli_add(f, n, "--h-scale", FLAG_DOUBLE, &a->op.h_scale, "separable: scale of h");
    cli_add(f, n, "--cond-a", FLAG_DOUBLE, &a->op.cond_a, "kronecker: condition number of A");
    cli_add(f, n, "--cond-b", FLAG_DOUBLE, &a->op.cond_b, "kronecker: condition number of B");
    cli_add(f, n, "--kron-scale", FLAG_DOUBLE, &a->op.kron_scale,
             "kronecker: largest eigenvalue of A");
    cli_add(f, n, "--lambda", FLAG_DOUBLE, &a->op.lambda,
             "mix, geometry: weight of the separable part");
    cli_add(f, n, "--zipf-s", FLAG_DOUBLE, &a->op.zipf_s, "zipf: exponent s (tail index ~ 1/s)");
    cli_add(f, n, "--zipf-n", FLAG_INT, &a->op.zipf_n, "zipf: number of examples");
    cli_add(f, n, "--batch", FLAG_INT, &a->op.batch, "zipf: mini-batch size");
    cli_add(f, n, "--cauchy-c", FLAG_DOUBLE, &a->op.cauchy_c, "zipf: Cauchy loss scale");
    cli_add(f, n, "--obj-seed", FLAG_LONG, &a->obj_seed,
             "seed of the objective instance (-1: same as --seed)");
}

static void synth_defaults(synth_args *a)
{
    memset(a, 0, sizeof *a);
    a->objective = NULL;
    a->noise = NULL;
    a->structure = "entrywise";
    a->out = NULL;
    a->steps = 1000;
    a->seed = 0;
    a->obj_seed = -1;
    a->extra = 4000;
    a->kappa = 0;
    a->op = obj_default_params(OBJ_SEPARABLE, 16, 16, 0);
    a->np = noise_default_params();
}

/* Names to enums; the message names the flag. */
static int resolve_names(synth_args *a, lm_error *e)
{
    if (!a->objective)
        return lm_fail(e, "--objective: required (separable, kronecker, mix, zipf, geometry)");
    if (obj_kind_parse(a->objective, &a->op.kind) != 0)
        return lm_fail(e, "--objective: unknown objective '%s' (separable, kronecker, mix, zipf, "
                          "geometry)",
                       a->objective);
    if (!a->noise)
        return lm_fail(e, "--noise: required (none, gaussian, student-t, stable, pareto)");
    if (noise_dist_parse(a->noise, &a->np.dist) != 0)
        return lm_fail(e, "--noise: unknown noise '%s' (none, gaussian, student-t, stable, pareto)",
                       a->noise);
    if (noise_structure_parse(a->structure, &a->np.structure) != 0)
        return lm_fail(e, "--structure: unknown structure '%s' (entrywise, low-rank, sparse)",
                       a->structure);
    if (a->seed < 0)
        return lm_fail(e, "--seed: must be >= 0 (got %ld)", a->seed);
    a->op.seed = (unsigned long)(a->obj_seed >= 0 ? a->obj_seed : a->seed);
    if (obj_check(&a->op, e) != 0 || noise_check(&a->np, e) != 0)
        return -1;
    if (a->kappa != 0 && !(a->kappa > 1 && a->kappa <= 2))
        return lm_fail(e, "--kappa: must lie in (1, 2] (got %g)", a->kappa);
    if (a->kappa != 0 && isfinite(noise_tail_index(&a->np)) && a->kappa >= noise_tail_index(&a->np))
        return lm_fail(e, "--kappa: %g is not below the noise's tail index %g, so "
                          "E||xi||_F^kappa is infinite", a->kappa, noise_tail_index(&a->np));
    return 0;
}

/* synth's theory defaults: exact msign and no weight decay unless given. */
static void theory_defaults(opt_config *c, cli_optim_strings *s, cli_flag *flags, int n)
{
    cli_flag *ms = cli_find(flags, n, "--msign");
    cli_flag *wd = cli_find(flags, n, "--weight-decay");
    if (!(ms && ms->given))
        s->msign = "svd";
    if (!(wd && wd->given))
        c->weight_decay = 0;
}

static int run_synth(const synth_args *a, const opt_config *c, const cli_optim_strings *s,
                     lm_error *e)
{
    obj *o = obj_alloc(&a->op, e);
    if (!o)
        return -1;
    meas_setup st = {.o = o, .noise = &a->np, .opt = c, .T = a->steps,
                     .seed = (unsigned long)a->seed, .extra_samples = a->extra};
    meas_trace tr;
    meas_summary sm;
    int rc = meas_run(&st, &tr, e);
    if (rc == 0) {
        rc = meas_summarize(&tr, a->kappa, noise_tail_index(&a->np), &sm, e);
        if (rc != 0)
            meas_trace_free(&tr);
    }
    if (rc == 0) {
        json_t *info = json_object();
        json_object_set_new(info, "objective", json_string(a->objective));
        json_object_set_new(info, "noise", json_string(a->noise));
        json_object_set_new(info, "structure", json_string(a->structure));
        json_object_set_new(info, "optimizer", json_string(s->optimizer));
        json_object_set_new(info, "msign", json_string(s->msign));
        json_object_set_new(info, "seed", json_integer(a->seed));
        json_object_set_new(info, "obj_seed", json_integer((json_int_t)a->op.seed));
        json_object_set_new(info, "tail_index_true", val_num(noise_tail_index(&a->np)));
        json_t *j = val_constants_json(&tr, &sm, o, info);
        char *traj = lm_path_join(a->out, "trajectory.csv");
        char *cons = lm_path_join(a->out, "constants.json");
        char *created = NULL;
        rc = lm_mkdir_new(a->out, &created, e) == 0 ? 0 : lm_wrap(e, "--out");
        if (rc == 0)
            rc = val_write_trajectory(&tr, traj, e);
        if (rc == 0)
            rc = val_write_json(j, cons, e);
        if (rc != 0 && created) { /* a failed run leaves nothing behind */
            unlink(traj);
            lm_rmdir_created(a->out, created);
        } else {
            free(created);
        }
        free(traj);
        free(cons);
        json_decref(j);
        meas_trace_free(&tr);
    }
    obj_free(o);
    return rc;
}

int cmd_synth(int argc, char **argv)
{
    synth_args a;
    synth_defaults(&a);
    cli_flag flags[64];
    int nflags = 0;
    objective_flags(flags, &nflags, &a);
    cli_add(flags, &nflags, "--steps", FLAG_LONG, &a.steps, "iterations T");
    cli_add(flags, &nflags, "--seed", FLAG_LONG, &a.seed, "seed of the noise and mini-batches");
    cli_add(flags, &nflags, "--out", FLAG_STRING, &a.out, "output directory (created)");
    cli_add(flags, &nflags, "--extra-samples", FLAG_LONG, &a.extra,
             "noise draws at W_0 for the moment and tail-index fits");
    cli_add(flags, &nflags, "--kappa", FLAG_DOUBLE, &a.kappa,
             "moment order of A3 (0: min(2, 0.9 tail index), see theory/bounds.md)");
    opt_config c;
    cli_optim_strings s;
    lm_error e = {{0}};
    const char *pos[1];
    int npos, help, code = 2; /* 2: usage or bad input; 1: the run failed */
    if (cli_optim_begin(argc, argv, "lionmuon", &c, &s, flags, &nflags, &e) != 0 ||
        cli_parse(argc, argv, flags, nflags, pos, 0, &npos, &help, &e) != 0)
        goto fail;
    theory_defaults(&c, &s, flags, nflags);
    if (help) {
        cli_print_help(stdout, SYNTH_USAGE, SYNTH_ABOUT, flags, nflags);
        return 0;
    }
    if (cli_optim_finish(&c, &s, flags, nflags, &e) != 0 || resolve_names(&a, &e) != 0)
        goto fail;
    if (!a.out) {
        lm_fail(&e, "--out: required (the output directory)");
        goto fail;
    }
    if (a.extra < 0) {
        lm_fail(&e, "--extra-samples: must be >= 0");
        goto fail;
    }
    code = 1; /* from here on the run itself failed */
    if (run_synth(&a, &c, &s, &e) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "lionmuon synth: %s\n", e.msg);
    return code;
}
