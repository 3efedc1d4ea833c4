/* cli.h - the command-line front end: a table-driven flag parser shared by
 * every subcommand, the optimizer flags, and the subcommand entry points.
 * The front end only parses and dispatches; the numerics live elsewhere. */
#ifndef LM_CLI_H
#define LM_CLI_H

#include <stdio.h>
#include "lionmuon/common.h"
#include "lionmuon/optim.h"
#include "lionmuon/preset.h"

typedef enum { FLAG_DOUBLE, FLAG_LONG, FLAG_INT, FLAG_STRING, FLAG_BOOL } cli_flag_type;

typedef struct {
    const char *name;   /* with the dashes: "--lr-muon" */
    cli_flag_type type;
    void *dest;         /* double*, long*, int*, const char**, int* (bool) */
    const char *help;   /* one line; the default is printed from *dest */
    int given;          /* set by cli_parse */
} cli_flag;

/* Parse argv[1..] (argv[0] is the subcommand).  Accepts "--flag value" and
 * "--flag=value"; numbers must parse completely and be finite; booleans take
 * no value.  Anything not starting with "--" is positional (at most max_pos;
 * "--" ends the flags).  "--help"/"-h" sets *help.  Unknown flags, missing
 * values and malformed numbers fail with a message naming the flag.  A
 * flag that takes a value may be given once ("--beta1 given twice");
 * booleans may repeat.  A number below the smallest double is refused as an
 * underflow, one beyond the largest as an overflow.  The first call also
 * arranges that a failed write to stdout (/dev/full, a full disk) makes the
 * process exit 1 with a message instead of 0. */
int cli_parse(int argc, char **argv, cli_flag *flags, int nflags,
              const char **pos, int max_pos, int *npos, int *help, lm_error *e);

/* Print "usage" and one line per flag with its current value as default. */
void cli_print_help(FILE *fp, const char *usage, const char *about,
                    const cli_flag *flags, int nflags);

/* Append one flag to a table of *n flags (the caller sizes the table). */
void cli_add(cli_flag *flags, int *n, const char *name, cli_flag_type type, void *dest,
             const char *help);

/* This program's path (/proc/self/exe), newly allocated; NULL if unknown. */
char *cli_self_exe(void);

/* Find a flag by name in the table (NULL if absent). */
cli_flag *cli_find(cli_flag *flags, int nflags, const char *name);

/* The optimizer flags shared by step, train, golden, synth and bench.
 * cli_optim_begin scans argv for --optimizer (default `fallback`), fills *c
 * with that optimizer's defaults and appends its flags to the table (at
 * most CLI_OPTIM_NFLAGS entries) at flags + *nflags.  After cli_parse,
 * cli_optim_finish applies the string flags (--msign and the choices of
 * optim.h: --adamw-eps-mode, --round-update, ...), enforces the special
 * cases (e.g. --beta2 with signmuon must equal --beta1, --period with lion
 * must be absent or 0), refuses a flag that the optimizer does not use
 * (--cheap-mode without signmuon-sgd, ...) and checks ranges. */
#define CLI_OPTIM_NFLAGS 32
typedef struct {
    const char *optimizer;
    const char *msign;
    const char *choice[OPT_CH_COUNT]; /* by opt_choice */
} cli_optim_strings;
int cli_optim_begin(int argc, char **argv, const char *fallback, opt_config *c,
                    cli_optim_strings *s, cli_flag *flags, int *nflags, lm_error *e);
int cli_optim_finish(opt_config *c, const cli_optim_strings *s, cli_flag *flags,
                     int nflags, lm_error *e);

/* Presets: --preset RUN (a released run of the paper) or --preset-from FILE
 * (a summary.json of the paper's code, or its args object) sets the flags
 * that reproduce the run (preset.h); flags given on the command line
 * override them, so a preset runs at CPU size with --n-layer, --n-embd, ...
 * A subcommand uses the preset's flags it has and ignores the others.
 *   cli_preset_begin  scans argv, resolves the preset (a run that cannot be
 *                     reproduced is an error that says why), refuses an
 *                     --optimizer that differs from the preset's;
 *   cli_preset_optimizer  the optimizer to pass to cli_optim_begin;
 *   cli_preset_add    appends --preset and --preset-from to the table (2);
 *   cli_preset_apply  sets the table's destinations from the preset: call it
 *                     after the table is complete and before cli_parse. */
typedef struct {
    const char *name, *from; /* the flags' values (NULL: not given) */
    int active;              /* a preset was given and resolved */
    char label[160];         /* "RUN" or "from FILE", for records */
    preset p;
} cli_preset;
int cli_preset_begin(int argc, char **argv, cli_preset *cp, lm_error *e);
const char *cli_preset_optimizer(const cli_preset *cp, const char *fallback);
void cli_preset_add(cli_preset *cp, cli_flag *flags, int *nflags);
int cli_preset_apply(cli_preset *cp, cli_flag *flags, int nflags, lm_error *e);

/* Subcommands: each returns the process exit status. */
int cmd_msign(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_paper(int argc, char **argv);
int cmd_msign_study(int argc, char **argv);
int cmd_synth(int, char**); int cmd_predict(int, char**); int cmd_synth_check(int, char**);
int cmd_train(int, char**); int cmd_golden(int, char**);
int cmd_presets(int argc, char **argv);

#endif
