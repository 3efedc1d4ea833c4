/* main.c - `lionmuon SUBCOMMAND ...`: git-style dispatch, nothing else. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *about;
} subcommand;

static const subcommand subcommands[] = {
    {"demo", cmd_demo, "the main job on built-in defaults"},
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
