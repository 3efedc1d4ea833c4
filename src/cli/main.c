/* main.c - `lionmuon SUBCOMMAND ...`: git-style dispatch, nothing else;
 * also `--version`/`-V` and `help [SUBCOMMAND]`.  The top-level help is
 * the source of the man page and the bash completion (scripts/gen_man.sh,
 * scripts/gen_completion.sh read it), so it lists every subcommand. */
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
    {"presets", cmd_presets, "the paper's released runs as presets: list, flags, derivation"},
    /* synthetic-objective subcommands */
    {"synth", cmd_synth, "run an optimizer on a synthetic objective, measure the constants"},
    {"predict", cmd_predict, "tuned bound: iterations and compute per period P, and P*"},
    {"synth-check", cmd_synth_check, "the theory checks V1-V6 (tables, CIs, gnuplot data)"},
};

static const char VERSION_USAGE[] = "lionmuon version";
static const char VERSION_ABOUT[] =
    "Prints the version, the BLAS library and its configuration, the BLAS and\n"
    "OpenMP thread counts, OMP_WAIT_POLICY, and whether MPI is built in: what a\n"
    "bug report needs to say about this build.  `lionmuon --version` (or -V)\n"
    "prints the same.";

/* `lionmuon version`: what a bug report needs to say about this build. */
static int cmd_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_print_help(stdout, VERSION_USAGE, VERSION_ABOUT, NULL, 0);
            return 0;
        }
        fprintf(stderr, "lionmuon version: unexpected argument '%s'\nusage: %s\n", argv[i],
                VERSION_USAGE);
        return 2;
    }
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

/* The sections after the subcommand list.  Exit statuses as the
 * subcommands actually return them (src/cli/cmd_*.c). */
static const char HELP_TAIL[] =
    "\n"
    "`lionmuon SUBCOMMAND --help` (or `lionmuon help SUBCOMMAND`) documents every\n"
    "flag and its default.  `lionmuon --version` (-V) prints the version and build.\n"
    "\n"
    "environment:\n"
    "  OMP_NUM_THREADS       OpenMP threads (the optimizer's matrices in parallel,\n"
    "                        elementwise loops, the synthetic checks' seeds)\n"
    "  OPENBLAS_NUM_THREADS  threads of each BLAS/LAPACK call\n"
    "  OMP_WAIT_POLICY       how idle OpenMP threads wait.  When it is unset,\n"
    "                        lionmuon sets it to passive and re-executes itself\n"
    "                        (spinning threads took the cores BLAS needed); an\n"
    "                        explicit value is kept, and nothing is re-executed\n"
    "                        under mpirun or valgrind\n"
    "  OPENBLAS_CORETYPE     the OpenBLAS kernel.  When OpenBLAS picked a kernel\n"
    "                        below what the CPU supports (a generic one on a CPU\n"
    "                        it does not know), lionmuon selects the best one the\n"
    "                        CPU flags allow, re-executes once (with the wait\n"
    "                        policy), and checks it with a small DGEMM before use;\n"
    "                        an explicit value is kept.  `lionmuon version` names\n"
    "                        the kernel and who chose it\n"
    "  LIONMUON_BLAS_SELECT  0: no kernel selection; force: treat an explicit\n"
    "                        OPENBLAS_CORETYPE as OpenBLAS's own choice (tests)\n"
    "  LIONMUON_MEM_LIMIT    bytes a run may plan to allocate (default: the lowest\n"
    "                        of physical memory and ulimit -v)\n"
    "  LIONMUON_LIB          the Python package (import lionmuon): path of the\n"
    "                        liblionmuon.so to load instead of the one it finds\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  the work failed: a computation failed, an output could not be\n"
    "     written, a run or a check did not pass; for compare, some tensor is\n"
    "     outside the tolerance (or missing, or of another shape); for sweep,\n"
    "     some run failed\n"
    "  2  usage or bad input: an unknown subcommand or flag, a malformed or\n"
    "     missing value or argument, an unreadable or invalid input file\n";

static void usage(FILE *fp)
{
    fprintf(fp, "usage: lionmuon SUBCOMMAND [flags] [args]\n"
                "       lionmuon help [SUBCOMMAND] | --help | --version\n\n"
                "LionMuon CPU reference: exact msign, the optimizer family, the\n"
                "transformer, and the theory-validation toolkit, in double precision.\n\n"
                "subcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(fp, "  %-12s %s\n", subcommands[i].name, subcommands[i].about);
    fputs(HELP_TAIL, fp);
}

static const subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(name, subcommands[i].name))
            return &subcommands[i];
    return NULL;
}

/* `lionmuon help [SUBCOMMAND]`: the subcommand's own --help. */
static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    const subcommand *sc = find_subcommand(argv[1]);
    if (!sc) {
        fprintf(stderr, "lionmuon help: unknown subcommand '%s' (see lionmuon --help)\n",
                argv[1]);
        return 2;
    }
    char *args[] = {argv[1], "--help", NULL};
    return sc->run(2, args);
}

int main(int argc, char **argv)
{
    cli_startup(argv); /* OMP_WAIT_POLICY and the BLAS kernel: startup.c */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "help"))
        return cmd_help(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return cmd_version(1, argv + 1);
    const subcommand *sc = find_subcommand(argv[1]);
    if (sc)
        return sc->run(argc - 1, argv + 1);
    fprintf(stderr, "lionmuon: unknown subcommand '%s' (see lionmuon --help)\n", argv[1]);
    return 2;
}
