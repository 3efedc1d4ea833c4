/* train_flags.h - the flags of `lionmuon train` and `lionmuon golden`, one
 * table for both (train_flags.c), parsed into a train_config. */
#ifndef LM_CLI_TRAIN_FLAGS_H
#define LM_CLI_TRAIN_FLAGS_H

#include "cli.h"
#include "lionmuon/train.h"

typedef struct {
    train_config c;
    cli_optim_strings os;
    cli_preset cp;
    const char *model, *routing, *schedule, *data, *out, *resume;
    int quiet, no_plot, seq_len, mpi;
    long seed, steps;
    const char *golden_dtype, *golden_keep; /* golden: --dtype, --keep */
    cli_flag flags[96];
    int nflags;
} parsed;

/* Defaults, the flag table, parse, and the derived settings.  golden = 1
 * leaves out the run-control and evaluation flags and takes OUT positional.
 * Returns 0 (with *help set after --help) or -1 with e filled. */
int train_parse_flags(parsed *p, int argc, char **argv, int golden, const char **pos,
                      int *npos, int *help, lm_error *e);

#endif
