/* preset_runs.h - the fact table of the paper's released runs (private to
 * src/model): written by scripts/gen_preset_runs.py into preset_runs.c. */
#ifndef LM_MODEL_PRESET_RUNS_H
#define LM_MODEL_PRESET_RUNS_H

#include <math.h>

typedef struct {
    const char *name;      /* exps/NAME */
    const char *opt;       /* args.opt: the optimizer class */
    double best_val;       /* min of the non-null val_loss entries */
    const char *args;      /* the args the derivation reads, as JSON */
} preset_run;

extern const preset_run preset_runs[];
extern const int preset_nruns;

#endif
