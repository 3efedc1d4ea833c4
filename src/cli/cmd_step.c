/* cmd_step.c - `lionmuon step`: one raw optimizer step on tensors from a file,
 * the oracle a GPU implementation is held against update by update.  Flags
 * only; the file format and the step are stepfile_run (core/stepfile.c). */
#include <stdio.h>

#include "cli.h"
#include "lionmuon/optim.h"
#include "lionmuon/stepfile.h"

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
    "2-D tensors follow the chosen matrix rule, every other tensor AdamW; with\n"
    "--optimizer adamw every tensor follows AdamW.  OUT holds the updated params.*\n"
    "and state.* (F64), and step = t + 1.  The defaults below are the paper's for\n"
    "the chosen optimizer; OUT is written atomically and only if all is well.";

int cmd_step(int argc, char **argv)
{
    lm_error e = {{0}};
    opt_config c;
    cli_optim_strings s;
    cli_flag flags[CLI_OPTIM_NFLAGS + 2];
    int nflags = 0;
    cli_preset cp; /* --preset: its optimizer flags (the file has no model or schedule) */
    if (cli_preset_begin(argc, argv, &cp, &e) != 0 ||
        (cli_preset_add(&cp, flags, &nflags),
         cli_optim_begin(argc, argv, cli_preset_optimizer(&cp, "lionmuon"), &c, &s, flags,
                         &nflags, &e) != 0 || cli_preset_apply(&cp, flags, nflags, &e) != 0)) {
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
    stepfile_opts o = {c, pos[0], pos[1]};
    if (stepfile_run(&o, &e) != 0) {
        fprintf(stderr, "lionmuon step: %s\n", e.msg);
        return 1;
    }
    return 0;
}
