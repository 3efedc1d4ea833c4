/* cmd_bench.c - `lionmuon bench` and `lionmuon bench train`. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blaskernel.h"
#include "tools/bench.h"
#include "cli.h"

static const char USAGE[] = "lionmuon bench [--quick] [--json FILE]\n"
                            "       lionmuon bench train [--preset RUN] [model and optimizer flags] "
                            "[--steps N] [--json]\n"
                            "       lionmuon bench dgemm   (the DGEMM rate and the BLAS kernel, as JSON)";
static const char ABOUT[] =
    "Benchmarks, reported against this machine's DGEMM rate measured in the same\n"
    "run, with the OpenBLAS kernel in use: the training step of GPT-2 and LLaMA at\n"
    "several widths (fraction of the DGEMM rate by the paper's 6 N B T accounting\n"
    "and by all executed FLOPs), msign by method and size (time against ns5 and\n"
    "against a DGEMM, error against svd), the optimizer step by optimizer and P,\n"
    "the growth exponent of each cost beside its FLOP count's (flagged when above it\n"
    "by more than 0.3), and the runs per second of a tiny synth run with its\n"
    "overhead (process start, file writes).  Prints a table; --json FILE also\n"
    "writes it as JSON.";

static const char TRAIN_USAGE[] = "lionmuon bench train [--preset RUN] [flags] [--steps N] [--json]";
static const char TRAIN_ABOUT[] =
    "Times N training steps (forward, backward, clipping, optimizer) after one\n"
    "warm-up step, on random tokens.  With --json prints one JSON object with\n"
    "seconds_per_step (median), model_flops_per_step (6 N B T, the paper's\n"
    "accounting), dgemm_gflops (median rate of a 1024^3 DGEMM timed after each\n"
    "step, under the same load as the steps; dgemm_best_gflops: best of a\n"
    "separate timing) and the parts' medians.  Threads: OMP_NUM_THREADS.";

/* The flags of `bench train`. */
typedef struct {
    const char *model;
    int n_layer, n_head, n_embd, seq_len, batch, vocab, steps, json, bias, multiple_of;
    long seed;
    double grad_clip;
    opt_config oc;
    cli_optim_strings os;
    cli_preset cp; /* --preset: its model and optimizer flags */
} train_args;

static void train_flags(train_args *a, cli_flag *flags, int *n)
{
    *a = (train_args){.model = "gpt2", .n_layer = 4, .n_head = 4, .n_embd = 256,
                      .seq_len = 128, .batch = 8, .vocab = 512, .steps = 5,
                      .multiple_of = 256, .seed = 1, .grad_clip = 0.5};
    cli_add(flags, n, "--model", FLAG_STRING, &a->model, "gpt2|llama");
    cli_add(flags, n, "--n-layer", FLAG_INT, &a->n_layer, "transformer blocks");
    cli_add(flags, n, "--n-head", FLAG_INT, &a->n_head, "attention heads");
    cli_add(flags, n, "--n-embd", FLAG_INT, &a->n_embd, "width C");
    cli_add(flags, n, "--seq-len", FLAG_INT, &a->seq_len, "sequence length T");
    cli_add(flags, n, "--batch-size", FLAG_INT, &a->batch, "batch size B");
    cli_add(flags, n, "--vocab-size", FLAG_INT, &a->vocab, "vocabulary V");
    cli_add(flags, n, "--bias", FLAG_BOOL, &a->bias, "GPT-2 Linear and LayerNorm biases");
    flags[(*n)++] = (cli_flag){"--multiple-of", FLAG_INT, &a->multiple_of,
                               "LLaMA: SwiGLU width H = multiple_of ceil(floor(8C/3)/multiple_of)", 0};
    cli_add(flags, n, "--grad-clip", FLAG_DOUBLE, &a->grad_clip, "global-norm clipping");
    cli_add(flags, n, "--steps", FLAG_INT, &a->steps, "timed steps");
    cli_add(flags, n, "--seed", FLAG_LONG, &a->seed, "seed of init and tokens");
    cli_add(flags, n, "--json", FLAG_BOOL, &a->json, "print one JSON object");
}

/* Parse and check the flags into a and the model configuration.  Returns
 * -1 to go on, or the exit status (0 after --help, 2 after a message). */
static int train_parse(int argc, char **argv, train_args *a, model_config *mc)
{
    lm_error e = {{0}};
    cli_flag flags[CLI_OPTIM_NFLAGS + 18];
    int n = 0, npos, help;
    const char *pos[1];
    train_flags(a, flags, &n);
    if (cli_preset_begin(argc, argv, &a->cp, &e) != 0 ||
        (cli_preset_add(&a->cp, flags, &n),
         cli_optim_begin(argc, argv, cli_preset_optimizer(&a->cp, "lionmuon"), &a->oc, &a->os,
                         flags, &n, &e) != 0 || cli_preset_apply(&a->cp, flags, n, &e) != 0) ||
        cli_parse(argc, argv, flags, n, pos, 0, &npos, &help, &e) != 0 ||
        (!help && cli_optim_finish(&a->oc, &a->os, flags, n, &e) != 0)) {
        fprintf(stderr, "lionmuon bench train: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, TRAIN_USAGE, TRAIN_ABOUT, flags, n);
        return 0;
    }
    model_kind kind;
    if (model_kind_parse(a->model, &kind) != 0) {
        fprintf(stderr, "lionmuon bench train: --model: unknown model '%s' (gpt2, llama)\n", a->model);
        return 2;
    }
    if (a->steps < 1) {
        fprintf(stderr, "lionmuon bench train: --steps must be >= 1 (got %d)\n", a->steps);
        return 2;
    }
    *mc = model_default_config(kind, a->n_layer, a->n_head, a->n_embd, a->vocab, a->seq_len);
    mc->bias = a->bias;
    mc->multiple_of = a->multiple_of;
    if (model_config_check(mc, &e) != 0) {
        fprintf(stderr, "lionmuon bench train: %s\n", e.msg);
        return 2;
    }
    if (a->batch < 1 || a->seq_len < 1) {
        fprintf(stderr, "lionmuon bench train: --batch-size and --seq-len must be >= 1\n");
        return 2;
    }
    return -1;
}

/* The result as one JSON object or one line; rates against the median
 * DGEMM rate timed between the steps. */
static void train_print(const train_args *a, const bench_train_result *r)
{
    double rate = r->model_flops_per_step / r->seconds_per_step * 1e-9;
    double dg = r->dgemm_gflops;
    lm_blas_kernel k;
    lm_blas_kernel_info(&k);
    if (a->json)
        printf("{\"model\": \"%s\", \"n_layer\": %d, \"n_head\": %d, \"n_embd\": %d, "
               "\"seq_len\": %d, \"batch_size\": %d, \"vocab_size\": %d, \"optimizer\": \"%s\", "
               "\"period\": %ld, \"steps\": %d, \"threads\": %d, \"params\": %zu, "
               "\"seconds_per_step\": %.9g, \"mean_seconds_per_step\": %.9g, "
               "\"forward_s\": %.9g, \"backward_s\": %.9g, \"optimizer_s\": %.9g, "
               "\"model_flops_per_step\": %.9g, \"total_flops_per_step\": %.9g, "
               "\"model_gflops\": %.6g, \"dgemm_gflops\": %.6g, \"dgemm_best_gflops\": %.6g, "
               "\"fraction_of_dgemm\": %.6g, \"executed_flops_per_step\": %.9g, "
               "\"fraction_of_dgemm_executed\": %.6g, \"cpu_seconds_per_step\": %.9g, "
               "\"fraction_of_dgemm_cpu\": %.6g, \"blas_core\": \"%s\", "
               "\"blas_core_selected_by_tool\": %s, \"blas_core_default\": \"%s\"}\n",
               a->model, a->n_layer, a->n_head, a->n_embd, a->seq_len, a->batch, a->vocab,
               opt_kind_name(a->oc.kind), a->oc.period, a->steps, omp_get_max_threads(),
               r->n_params, r->seconds_per_step, r->mean_seconds_per_step, r->forward_s,
               r->backward_s, r->optimizer_s, r->model_flops_per_step, r->total_flops_per_step,
               rate, dg, r->dgemm_best_gflops, rate / dg, r->executed_flops_per_step,
               r->executed_flops_per_step / r->mean_seconds_per_step * 1e-9 / dg,
               r->cpu_seconds_per_step,
               r->model_flops_per_step / r->cpu_seconds_per_step * 1e-9 / r->dgemm_gflops_per_cpu,
               k.core,
               k.selected_by_tool ? "true" : "false", k.default_core);
    else
        printf("%s L=%d C=%d T=%d B=%d V=%d %s: %.4f s/step (fwd %.4f, bwd %.4f, opt %.4f), "
               "%.2f GFLOP/s = %.1f%% of DGEMM (%.1f GFLOP/s, kernel %s%s)\n", a->model,
               a->n_layer, a->n_embd, a->seq_len, a->batch, a->vocab, opt_kind_name(a->oc.kind),
               r->seconds_per_step, r->forward_s, r->backward_s, r->optimizer_s, rate,
               100 * rate / dg, dg, k.core, k.selected_by_tool ? ", selected by lionmuon" : "");
}

static int bench_train_cmd(int argc, char **argv)
{
    train_args a;
    model_config mc;
    int status = train_parse(argc, argv, &a, &mc);
    if (status >= 0)
        return status;
    lm_error e = {{0}};
    a.oc.seed = (unsigned long)a.seed; /* the stable-rank trigger's start vectors */
    double dg = bench_dgemm_gflops(0.2);
    bench_train_result r;
    if (bench_train(&mc, a.batch, a.seq_len, &a.oc, a.grad_clip, a.steps, (unsigned long)a.seed,
                    dg, &r, &e)) {
        fprintf(stderr, "lionmuon bench train: %s\n", e.msg);
        return 1;
    }
    train_print(&a, &r);
    return 0;
}

/* `bench dgemm`: the DGEMM rate and the kernel, one JSON line (for
 * comparing kernels: make bench-kernel). */
static int bench_dgemm_cmd(void)
{
    lm_blas_kernel k;
    lm_blas_kernel_info(&k);
    double dg = bench_dgemm_gflops(0.3);
    printf("{\"blas_core\": \"%s\", \"blas_core_selected_by_tool\": %s, "
           "\"blas_core_default\": \"%s\", \"threads\": %d, \"dgemm_gflops\": %.6g}\n",
           k.core, k.selected_by_tool ? "true" : "false", k.default_core,
           omp_get_max_threads(), dg);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "train"))
        return bench_train_cmd(argc - 1, argv + 1);
    if (argc == 2 && !strcmp(argv[1], "dgemm"))
        return bench_dgemm_cmd();
    lm_error e = {{0}};
    int quick = 0;
    const char *json = NULL;
    cli_flag flags[] = {
        {"--quick", FLAG_BOOL, &quick, "smallest sizes only (seconds)", 0},
        {"--json", FLAG_STRING, &json, "also write the results as JSON to this file", 0},
    };
    const char *pos[1];
    int npos, help;
    if (cli_parse(argc, argv, flags, 2, pos, 0, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon bench: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, 2);
        return 0;
    }
    char *exe = cli_self_exe();
    int rc = bench_all(quick, exe, stdout, json, &e);
    free(exe);
    if (rc != 0) {
        fprintf(stderr, "lionmuon bench: %s\n", e.msg);
        return 1;
    }
    return 0;
}
