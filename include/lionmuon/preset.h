/* preset.h - the paper's released runs as presets: the flags that reproduce
 * a run's optimizer configuration exactly (prefix preset_).
 *
 * A preset is derived from a run's args (the "args" object of its
 * summary.json, written by the paper's training script) by one function,
 * preset_from_text; the named presets are that derivation applied to the
 * 170 released runs kept in the project as a fact table (preset_runs.c,
 * written by scripts/gen_preset_runs.py).  theory/algorithms.md §9 states the
 * mapping; in short:
 *   opt = lion_muon  -> lionmuon, signmuon or muon (by P and the betas),
 *                       lr_sign = sign_lr (or 0.01 lr_muon when null), the
 *                       AdamW part (0.8, 0.999), eps 1e-8 before the bias
 *                       correction, rate lr, decay on every tensor
 *   opt = sign_muon  -> signmuon-sgd: mu = momentum, nesterov, sign_scaling,
 *                       cheap_mode, lr_sign = sign_lr (or 0.25 lr_muon for
 *                       the sign and norm modes, else lr_muon); only lr_muon
 *                       is scheduled
 *   opt = adamw      -> adamw: torch's eps placement, decay on Linear weights
 *   both classes     -> --round-update bf16, --msign ns5, a period of at most 1
 *                       becomes P = 1 (the code's k <= 1: every step)
 * plus the model, batch, schedule, clipping, seed and evaluation settings.
 * Routing: the by-name rule ("name"), which is what the literal rule did at
 * the runs' vocabulary (>= 10000) and keeps doing at a CPU-sized one;
 * "dim" for a run whose vocabulary was below 10000.  Runs of classes the tool
 * does not implement (lidmuon, signdmuon, rmsspectral, ...) and settings it
 * does not model (dropout, another init, grouped-query heads, ...) are not
 * reproducible: the preset says why.
 */
#ifndef LM_PRESET_H
#define LM_PRESET_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PRESET_MAX_FLAGS 48

typedef struct {
    const char *flag;  /* "--lr-muon" (a string constant) */
    char value[48];    /* "" for a boolean flag */
} preset_flag;

typedef struct {
    char name[128];      /* the run, or the file it was derived from */
    char opt_class[48];  /* args.opt */
    char dataset[48];    /* args.dataset ("" when absent) */
    double best_val;     /* best validation loss of the run; NAN if unknown */
    int ok;              /* 1: reproducible, flags[] hold the preset */
    char reason[256];    /* ok = 0: why not */
    int nflags;
    preset_flag flags[PRESET_MAX_FLAGS];
} preset;

/* The released runs of the fact table, in name order. */
int preset_count(void);
/* Run i (0 <= i < preset_count()) derived.  0, or -1 if the stored args do
 * not parse (a broken table). */
int preset_at(int i, preset *p, lm_error *e);
/* The run called name; -1 with a message if there is none. */
int preset_find(const char *name, preset *p, lm_error *e);

/* Derive from JSON text: a summary.json (an object with "args") or the args
 * object itself.  label names the source in messages and in p->name.  0
 * with p->ok = 0 and p->reason for a run the tool cannot reproduce; -1 for
 * text that is not such an object or a value of the wrong type. */
int preset_from_text(const char *text, const char *label, preset *p, lm_error *e);
/* The same from a file. */
int preset_from_file(const char *path, preset *p, lm_error *e);

/* The value of flag in p ("" for a boolean), or NULL if p does not set it. */
const char *preset_value(const preset *p, const char *flag);

#ifdef __cplusplus
}
#endif

#endif
