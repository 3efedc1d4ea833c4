/* cmd_synth_check.c - `lionmuon synth-check`: the theory checks V1-V6.  Flag
 * parsing and dispatch; the checks are in experiments/synth/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "experiments/synth/checks.h"

static const char CHECK_USAGE[] =
    "lionmuon synth-check --check V1|V2|V3|V4|V5|V6 [--quick] [--seeds S] --out DIR";
static const char CHECK_ABOUT[] =
    "Run one of the theory checks of theory/bounds.md on the synthetic\n"
    "objectives: V1 validity of the bound with measured constants, V2\n"
    "interpolation of Lbar(P), Sbar(P), V3 the cost of switching, V4 predicted\n"
    "against empirical optimal period, V5 the heavy-tail complexity exponent, V6\n"
    "whether the objectives separate the geometries.  Each prints its success\n"
    "criterion first and writes a verdict computed against it.\n"
    "Writes DIR/vK.csv, vK.md (table and computed verdict), vK.dat (gnuplot)\n"
    "and vK.json.  Means over seeds with 95% t intervals (gsl_cdf_tdist_Pinv).\n"
    "Parallel over OMP_NUM_THREADS; set OPENBLAS_NUM_THREADS=1.";

int cmd_synth_check(int argc, char **argv)
{
    const char *check = NULL, *out = NULL;
    int quick = 0, seeds = 5;
    cli_flag flags[] = {
        {"--check", FLAG_STRING, &check, "V1|V2|V3|V4|V5|V6", 0},
        {"--quick", FLAG_BOOL, &quick, "the small grid (minutes)", 0},
        {"--seeds", FLAG_INT, &seeds, "seeds per configuration (>= 2)", 0},
        {"--out", FLAG_STRING, &out, "output directory (created)", 0},
    };
    int nflags = sizeof flags / sizeof flags[0];
    lm_error e = {{0}};
    const char *pos[1];
    int npos, help, code = 2; /* 2: usage; 1: the check failed to run */
    if (cli_parse(argc, argv, flags, nflags, pos, 0, &npos, &help, &e) != 0)
        goto fail;
    if (help) {
        cli_print_help(stdout, CHECK_USAGE, CHECK_ABOUT, flags, nflags);
        return 0;
    }
    if (!check || !out) {
        lm_fail(&e, "%s: required", !check ? "--check" : "--out");
        goto fail;
    }
    val_check_opts o = {quick, seeds, out};
    code = 1;
    if (val_check_run(check, &o, &e) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "lionmuon synth-check: %s\n", e.msg);
    return code;
}
