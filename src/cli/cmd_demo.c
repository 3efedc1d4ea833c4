/* cmd_demo.c - `lionmuon demo`: the main job on built-in defaults.  Flag
 * parsing and dispatch; the numerics are in src/tools/demo.c. */
#include <stdio.h>

#include "core/blas.h"
#include "core/blaskernel.h"
#include "cli.h"
#include "lionmuon/linalg.h"
#include "tools/demo.h"

static const char USAGE[] = "lionmuon demo [--seed S] [--quick]";
static const char ABOUT[] =
    "The main job on built-in defaults (no download): the measured DGEMM rate,\n"
    "the accuracy and cost of each msign approximation against the exact polar\n"
    "factor, and two LionMuon steps (one Muon, one Lion) on a random matrix.";

int cmd_demo(int argc, char **argv)
{
    lm_error e = {{0}};
    long seed = 1;
    int quick = 0;
    cli_flag flags[] = {
        {"--seed", FLAG_LONG, &seed, "random seed", 0},
        {"--quick", FLAG_BOOL, &quick, "smaller and faster", 0},
    };
    int nflags = 2, npos, help;
    const char *pos[1];
    if (cli_parse(argc, argv, flags, nflags, pos, 0, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon demo: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    double t = la_time_dgemm(512, 512, 512, quick ? 0.05 : 0.3);
    printf("LionMuon reference demo (seed %ld)\n", seed);
    char kernel[512];
    lm_blas_kernel_describe(kernel, sizeof kernel);
    printf("DGEMM 512^3: %.1f GFLOP/s on this machine, OpenBLAS kernel %s\n",
           2.0 * 512 * 512 * 512 / t * 1e-9, kernel);
    static const double conds[] = {1e2, 1e6};
    if (demo_msign_table((unsigned long)seed, quick, 2, conds, NULL, &e) != 0 ||
        demo_lionmuon_steps((unsigned long)seed, &e) != 0) {
        fprintf(stderr, "lionmuon demo: %s\n", e.msg);
        return 1;
    }
    return 0;
}

