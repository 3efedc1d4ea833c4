/* cmd_train.c - `lionmuon train`: flags in (train_flags.c, shared with
 * golden), train_run out, and --resume.  Parsing and dispatch only; the
 * numerics live in src/model (train.c, model.c, data.c) and src/core. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#ifdef LM_MPI
#include <mpi.h>
#endif
#include "lionmuon/fs.h"
#include "lionmuon/train.h"
#include "train_flags.h"

static const char TRAIN_USAGE[] =
    "lionmuon train [--model gpt2|llama] [sizes] [--optimizer NAME] [optimizer flags]\n"
    "                      [--out DIR] | lionmuon train --preset RUN [sizes] [--out DIR]\n"
    "                      | lionmuon train --resume DIR [--stop-after N]";
static const char TRAIN_ABOUT[] =
    "Trains GPT-2 or LLaMA (theory/models.md) in double precision with an optimizer of the\n"
    "LionMuon family.  Default: the small GPT-2 with LionMuon (P = 2) on the built-in\n"
    "synthetic corpus (a Zipf-Markov chain with a known entropy rate, so the\n"
    "Bayes-optimal loss is known); about 20 s on 2 cores.\n"
    "Routing (theory/algorithms.md §6): --routing name (the default) sends every 2-D tensor\n"
    "but the token embedding wte (and the tied head) to the matrix rule: the hidden\n"
    "matrices (c_attn, attn.c_proj, c_fc / w1 / w2, mlp.c_proj) and GPT-2's position\n"
    "embedding wpe, as the released 124M runs did; every 1-D tensor (norm gains,\n"
    "biases) and wte follow AdamW.  --routing dim is the paper code's literal test\n"
    "(2-D with first dimension < 10000; at a small vocabulary wte too); --routing\n"
    "paper (or hidden) the hidden matrices only.  With --optimizer adamw every tensor\n"
    "follows AdamW (--lr-adamw, --adamw-beta1, --adamw-beta2).\n"
    "The schedule (--schedule cos: linear warm-up from 0.01, then cosine to 0 over\n"
    "--iterations; wsd; constant) scales lr_muon, lr_sign and lr_adamw alike, except\n"
    "for signmuon-sgd, whose lr_sign and lr_adamw stay fixed; gradients are clipped to\n"
    "global norm --grad-clip before each step.  Optimizer defaults are the paper's\n"
    "headline runs (README: where defaults changed).  --preset RUN sets every flag of\n"
    "a released run (`lionmuon presets`); flags given with it override it.\n"
    "DIR gets metrics.csv, diagnostics.csv (the seven norm ratios of the paper's\n"
    "Figure 2, medians over matrices), summary.json, checkpoint.safetensors,\n"
    "loss.gp and loss.png; --resume DIR continues the stored run bitwise exactly.\n"
    "--data text|llmc read --train-data / --val-data (byte files, vocabulary 256; or\n"
    "llm.c token files, GPT-2 BPE: use --vocab-size 50304).  Without --val-data the\n"
    "last 10% of --train-data is held out.";

/* Flags that steer a run without changing what it computes: not stored in
 * the checkpoint's argv, allowed next to --resume. */
typedef struct {
    const char *name;
    int has_value;
} ctl_flag;
static const ctl_flag CONTROL[] = {
    {"--out", 1}, {"--resume", 1}, {"--stop-after", 1}, {"--quiet", 0}, {"--no-plot", 0},
    {"--mpi", 0}};
#define NCONTROL (int)(sizeof CONTROL / sizeof CONTROL[0])

/* If argv[i] is a control flag, its index in CONTROL (and *span = the argv
 * entries it takes); else -1. */
static int control_flag(int argc, char **argv, int i, int *span)
{
    for (int k = 0; k < NCONTROL; k++) {
        size_t n = strlen(CONTROL[k].name);
        if (strncmp(argv[i], CONTROL[k].name, n))
            continue;
        if (argv[i][n] == '=') {
            *span = 1;
            return k;
        }
        if (argv[i][n] == '\0') {
            *span = CONTROL[k].has_value && i + 1 < argc ? 2 : 1;
            return k;
        }
    }
    return -1;
}

/* The flags that define the run (control flags removed), as a JSON array. */
static char *argv_json(int argc, char **argv)
{
    json_t *a = json_array();
    for (int i = 1; i < argc; i++) {
        int span;
        if (control_flag(argc, argv, i, &span) >= 0) {
            i += span - 1;
            continue;
        }
        json_array_append_new(a, json_string(argv[i]));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* --resume DIR [control flags]: rebuild the command line from the stored
 * flags, plus --out DIR and the control flags given now. */
static int resume_argv(int argc, char **argv, int *nargc, char ***nargv, json_t **keep,
                       lm_error *e)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        int span, k = control_flag(argc, argv, i, &span);
        if (k < 0)
            return lm_fail(e, "%s: --resume continues the stored run; only --stop-after, "
                           "--quiet, --no-plot and --mpi may be given with it", argv[i]);
        if (!strcmp(CONTROL[k].name, "--out"))
            return lm_fail(e, "--out: --resume DIR writes to DIR");
        if (!strcmp(CONTROL[k].name, "--resume")) {
            if (dir)
                return lm_fail(e, "--resume given twice");
            const char *eq = strchr(argv[i], '=');
            if (eq)
                dir = eq + 1;
            else if (span == 2)
                dir = argv[i + 1];
            else
                return lm_fail(e, "--resume: missing value");
        }
        i += span - 1;
    }
    char *stored;
    if (train_checkpoint_argv(dir, &stored, e))
        return -1;
    json_error_t je;
    json_t *a = json_loads(stored, 0, &je);
    free(stored);
    if (!json_is_array(a)) {
        json_decref(a);
        return lm_fail(e, "--resume %s: the checkpoint's argv is not a JSON array", dir);
    }
    size_t n = json_array_size(a);
    char **v = lm_calloc(n + argc + 4, sizeof *v);
    int m = 0;
    v[m++] = argv[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) {
            json_decref(a);
            free(v);
            return lm_fail(e, "--resume %s: the checkpoint's argv holds a non-string", dir);
        }
        v[m++] = (char *)s;
    }
    v[m++] = "--out";
    v[m++] = (char *)dir;
    for (int i = 1; i < argc; i++) {
        int span, k = control_flag(argc, argv, i, &span);
        if (k >= 0 && strcmp(CONTROL[k].name, "--resume"))
            for (int j = 0; j < span; j++)
                v[m++] = argv[i + j];
        i += span - 1;
    }
    *nargc = m;
    *nargv = v;
    *keep = a;
    return 0;
}

static int has_flag(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strncmp(argv[i], name, n) && (argv[i][n] == '\0' || argv[i][n] == '='))
            return 1;
    }
    return 0;
}

int cmd_train(int argc, char **argv)
{
    lm_error e = {{0}};
    parsed p;
    int npos = 0, help = 0, resume = has_flag(argc, argv, "--resume");
    int rargc = argc;
    char **rargv = argv;
    json_t *keep = NULL;
    if (resume && !has_flag(argc, argv, "--help") && !has_flag(argc, argv, "-h")) {
        if (resume_argv(argc, argv, &rargc, &rargv, &keep, &e)) {
            fprintf(stderr, "lionmuon train: %s\n", e.msg);
            return 2;
        }
    }
    if (train_parse_flags(&p, rargc, rargv, 0, NULL, &npos, &help, &e)) {
        fprintf(stderr, "lionmuon train: %s\n", e.msg);
        if (rargv != argv)
            free(rargv);
        json_decref(keep);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, TRAIN_USAGE, TRAIN_ABOUT, p.flags, p.nflags);
        return 0;
    }
    if (p.mpi) {
#ifdef LM_MPI
        MPI_Init(&argc, &argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &p.c.dp_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &p.c.dp_size);
        if (p.c.dp_rank != 0)
            p.c.progress = 0;
#else
        fprintf(stderr, "lionmuon train: --mpi: this build has no MPI (rebuild with make MPI=1)\n");
        if (rargv != argv)
            free(rargv);
        json_decref(keep);
        return 2;
#endif
    }
    char *aj = argv_json(rargc, rargv);
    p.c.argv_json = aj;
    train_result res;
    int rc = train_run(&p.c, resume, &res, &e);
#ifdef LM_MPI
    if (p.mpi)
        MPI_Finalize();
#endif
    if (rc) {
        fprintf(stderr, "lionmuon train: %s\n", e.msg);
    } else if (p.c.dp_rank == 0) {
        char *d = lm_printable(p.c.out_dir); /* a name cannot fake lines */
        printf("lionmuon train: %s L=%d nh=%d C=%d V=%d T=%d B=%d, %s: %ld/%ld steps, "
               "%.1f s, %.3g FLOPs\n",
               model_kind_name(p.c.model.kind), p.c.model.n_layer, p.c.model.n_head,
               p.c.model.n_embd, p.c.model.vocab_size, p.c.model.block_size, p.c.batch_size,
               opt_kind_name(p.c.opt.kind), res.steps_done, p.c.iterations, res.wall_s,
               res.flops);
        printf("  validation loss %.4f (best %.4f at step %ld)", res.final_val_loss,
               res.best_val_loss, res.best_val_step);
        if (res.entropy_rate == res.entropy_rate)
            printf(", Bayes-optimal %.4f, excess %.4f", res.entropy_rate,
                   res.best_val_loss - res.entropy_rate);
        printf("\n  metrics     %s/metrics.csv\n  summary     %s/summary.json\n"
               "  diagnostics %s/diagnostics.csv\n  checkpoint  %s/checkpoint.safetensors\n",
               d, d, d, d);
        char *png = lm_path_join(p.c.out_dir, "loss.png");
        if (p.c.plot && access(png, R_OK) == 0)
            printf("  loss plot   %s/loss.png (gnuplot %s/loss.gp)\n", d, d);
        free(png);
        if (res.stopped_early)
            printf("  stopped after step %ld; continue with: lionmuon train --resume %s\n",
                   res.steps_done, d);
        free(d);
    }
    free(aj);
    if (rargv != argv)
        free(rargv);
    json_decref(keep);
    return rc ? 1 : 0;
}

