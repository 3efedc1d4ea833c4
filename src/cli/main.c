/* main.c - `lionmuon SUBCOMMAND ...`: git-style dispatch, nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "core/blas.h"
#include "cli.h"
#include "startup.h"
#include "core/blaskernel.h"
#include "lionmuon/lionmuon.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *about;
} subcommand;

static int cmd_version(int argc, char **argv);

static const subcommand subcommands[] = {
    {"demo", cmd_demo, "the main job on built-in defaults"},
    {"version", cmd_version, "version, BLAS and threading of this build"},
    {"msign", cmd_msign, "msign of every 2-D tensor of a safetensors file"},
    {"step", cmd_step, "one raw optimizer step on tensors from a file"},
    {"compare", cmd_compare, "compare two safetensors files tensor by tensor"},
    {"bench", cmd_bench, "benchmarks against this machine's DGEMM rate"},
    {"sweep", cmd_sweep, "run a manifest of runs locally or under mpirun"},
    {"paper", cmd_paper, "the paper-claims experiment: manifests, selection, report"},
    {"msign-study", cmd_msign_study, "msign accuracy against cost, as CSV"},
    /* transformer subcommands */
    {"train", cmd_train, "train GPT-2 or LLaMA (double precision) with the optimizer family"},
    {"golden", cmd_golden, "write a golden file of K training steps for GPU verification"},
    /* synthetic-objective subcommands */
    {"synth", cmd_synth, "run an optimizer on a synthetic objective, measure the constants"},
    {"predict", cmd_predict, "tuned bound: iterations and compute per period P, and P*"},
    {"synth-check", cmd_synth_check, "the theory checks V1-V5 (tables, CIs, gnuplot data)"},
};

/* `lionmuon version`: what a bug report needs to say about this build. */
static int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    const char *wp = getenv("OMP_WAIT_POLICY");
    char core[512];
    lm_blas_kernel_describe(core, sizeof core);
    printf("lionmuon %s\nBLAS: %s\nBLAS kernel: %s\n"
           "BLAS threads: %d, OpenMP threads: %d, OMP_WAIT_POLICY: %s\nMPI: %s\n",
           LIONMUON_VERSION, openblas_get_config(), core, openblas_get_num_threads(),
           omp_get_max_threads(), wp ? wp : "(unset)",
#ifdef LM_MPI
           "built in"
#else
           "not built in (make MPI=1)"
#endif
    );
    return 0;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: lionmuon SUBCOMMAND [flags] [args]\n\n"
                "LionMuon CPU reference: exact msign, the optimizer family, the\n"
                "transformer, and the theory-validation toolkit, in double precision.\n\n"
                "subcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(fp, "  %-10s %s\n", subcommands[i].name, subcommands[i].about);
    fprintf(fp, "\n`lionmuon SUBCOMMAND --help` documents every flag and its default.\n");
}

int main(int argc, char **argv)
{
    cli_startup(argv); /* OMP_WAIT_POLICY and the BLAS kernel: startup.c */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lionmuon: unknown subcommand '%s' (see lionmuon --help)\n", argv[1]);
    return 2;
}
