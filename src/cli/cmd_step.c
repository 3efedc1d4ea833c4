/* cmd_step.c - `lionmuon step`: one raw optimizer step on tensors from a file,
 * the oracle a GPU implementation is held against update by update.  Flags
 * only; the file format and the step are stepfile_run (core/stepfile.c), the
 * routing names those of `train` (train_routing_parse, train_routing_matrix). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/optim.h"
#include "lionmuon/stepfile.h"
#include "lionmuon/train.h"

static const char USAGE[] =
    "lionmuon step --optimizer adamw|lion|signum|muon|signmuon|lionmuon|... [flags] IN OUT\n"
    "       lionmuon step --preset RUN [flags] IN OUT";
static const char ABOUT[] =
    "One raw optimizer step: no schedule, no clipping.  IN (safetensors) holds\n"
    "params.NAME and grads.NAME for each parameter and, when present, its state:\n"
    "state.NAME.momentum for the matrix rules, state.NAME.exp_avg and\n"
    "state.NAME.exp_avg_sq for AdamW (absent state means zeros).  __metadata__\n"
    "key `step` is the global step counter t (absent means 0): step t is a Muon\n"
    "step when t mod P == 0, and AdamW's bias correction uses k = t + 1.\n"
    "IN may instead be a `lionmuon train` checkpoint (parameters under their bare\n"
    "names, its state and step): then --grads FILE gives the gradients (grads.NAME\n"
    "or NAME) and the routing defaults to the checkpoint's.\n"
    "Routing: 2d (the default for a step file) sends every 2-D tensor to the matrix\n"
    "rule, every other tensor to AdamW; paper and dim are train's routings\n"
    "(theory/algorithms.md §6); with --optimizer adamw every tensor follows AdamW.\n"
    "A previous step's OUT as IN keeps its recorded routing unless --routing is given.\n"
    "--lr-scale multiplies every learning rate (the schedule's factor; golden files\n"
    "record it as step.k.lr_scale).  --precision f32|bf16|f16 emulates a GPU\n"
    "implementation: float32 master weights, state and elementwise arithmetic, and\n"
    "the Muon step's msign with products in that format (float32 accumulation).\n"
    "OUT holds the updated params.* and state.* (F64; F32 with another precision)\n"
    "and in __metadata__ step = t + 1, the optimizer, period, learning rates, betas,\n"
    "weight decay, the optimizer's choices (decay_on, round_update, ...), routing,\n"
    "precision, lr_scale and step_kinds (each tensor's kind: muon, sign, adamw or\n"
    "state), which `lionmuon compare --baseline IN` reads.\n"
    "The defaults below are the paper's for the chosen optimizer; OUT is written\n"
    "atomically and only if all is well.  Exit status: 0 done, 1 the step or the\n"
    "write failed, 2 bad usage or bad input (named).";

/* stepfile's routing callback: train's routing names and rule. */
static int route(void *ctx, const char *routing, const char *name, int ndim,
                 const int64_t *shape, int *matrix, lm_error *e)
{
    (void)ctx;
    train_routing r;
    if (train_routing_parse(routing, &r))
        return lm_fail(e, "--routing: unknown routing '%s' (2d, %s, %s, %s)", routing,
                       train_routing_name(TRAIN_ROUTE_NAME), train_routing_name(TRAIN_ROUTE_DIM),
                       train_routing_name(TRAIN_ROUTE_PAPER));
    *matrix = train_routing_matrix(r, name, ndim, ndim > 0 ? (long)shape[0] : 0);
    return 0;
}

int cmd_step(int argc, char **argv)
{
    lm_error e = {{0}};
    opt_config c;
    cli_optim_strings s;
    cli_flag flags[CLI_OPTIM_NFLAGS + 6];
    int nflags = 0;
    const char *routing = NULL, *precision = "f64", *grads = NULL;
    double lr_scale = 1.0;
    cli_preset cp; /* --preset: its optimizer flags and routing (no model or schedule) */
    if (cli_preset_begin(argc, argv, &cp, &e) != 0 ||
        (cli_preset_add(&cp, flags, &nflags),
         cli_optim_begin(argc, argv, cli_preset_optimizer(&cp, "lionmuon"), &c, &s, flags,
                         &nflags, &e) != 0)) {
        fprintf(stderr, "lionmuon step: %s\n", e.msg);
        return 2;
    }
    cli_add(flags, &nflags, "--routing", FLAG_STRING, &routing,
            "2d | name | dim | paper (default: IN's recorded routing, else 2d)");
    cli_add(flags, &nflags, "--precision", FLAG_STRING, &precision, "f64 | f32 | bf16 | f16");
    cli_add(flags, &nflags, "--grads", FLAG_STRING, &grads,
            "gradients (grads.NAME or NAME) for a checkpoint IN");
    cli_add(flags, &nflags, "--lr-scale", FLAG_DOUBLE, &lr_scale,
            "multiplies every learning rate (the schedule's factor)");
    if (cli_preset_apply(&cp, flags, nflags, &e) != 0) {
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
    if (!(lr_scale > 0)) {
        fprintf(stderr, "lionmuon step: --lr-scale must be > 0 (got %g)\n", lr_scale);
        return 2;
    }
    stepfile_opts o = {c, pos[0], pos[1], grads, routing, route, NULL, LP_F64, lr_scale};
    if (lp_parse(precision, &o.precision)) {
        fprintf(stderr, "lionmuon step: --precision: unknown precision '%s' (f64, f32, bf16, "
                        "f16)\n",
                precision);
        return 2;
    }
    train_routing r;
    if (routing && strcmp(routing, "2d") && train_routing_parse(routing, &r)) {
        fprintf(stderr, "lionmuon step: --routing: unknown routing '%s' (2d, %s, %s, %s)\n",
                routing, train_routing_name(TRAIN_ROUTE_NAME), train_routing_name(TRAIN_ROUTE_DIM),
                train_routing_name(TRAIN_ROUTE_PAPER));
        return 2;
    }
    int rc = stepfile_run(&o, &e);
    if (rc != 0) {
        fprintf(stderr, "lionmuon step: %s\n", e.msg);
        return rc == STEPFILE_BAD_INPUT ? 2 : 1;
    }
    return 0;
}
