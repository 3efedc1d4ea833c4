/* cmd_train.c - `lionmuon train` and `lionmuon golden`: flags in, train_run
 * or train_golden out.  Parsing and dispatch only; the numerics live in
 * train.c, model.c, data.c and optim.c. */
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

static const char GOLDEN_USAGE[] = "lionmuon golden OUT [--steps K] [model, optimizer and data flags of train]";
static const char GOLDEN_ABOUT[] =
    "Writes the golden file OUT (safetensors) of K training steps, for holding a GPU\n"
    "implementation against this reference: inputs and targets (I64, [K, B, T]);\n"
    "for each step k: step.k.loss (F64, shape []), step.k.params.NAME (the\n"
    "parameters before step k), step.k.state.NAME.* (the optimizer state before\n"
    "step k), step.k.grads.NAME (before clipping), step.k.clip_coef and\n"
    "step.k.lr_scale (scalars), step.k.muon.NAME (I64, 1 a Muon step, 0 a sign\n"
    "step, per matrix); and final.params.NAME after K steps.  --dtype f32 stores\n"
    "the floats as F32; --keep REGEX keeps the per-parameter tensors only for\n"
    "the names matching it (124M-size files stay small).  The tied head is stored once, as\n"
    "transformer.wte.weight.  Step k uses the learning rates of the schedule over\n"
    "--iterations (so --warmup and --iterations matter).  __metadata__ holds every\n"
    "value needed to redo the run: model, n_layer, n_head, n_embd, vocab_size,\n"
    "sequence_length, bias, optimizer, period, lr_muon, lr_sign, lr_adamw, beta1,\n"
    "beta2, adamw_beta1, adamw_beta2, adamw_eps, adamw_eps_mode, ns_steps, msign,\n"
    "weight_decay, grad_clip, warmup, iterations, seed (and batch_size, steps,\n"
    "multiple_of, routing, srank_alpha; decay_on, round_update, momentum_form,\n"
    "muon_adjust, sign_scaling, cheap_mode, nesterov, cheap_ns_steps, srank_exact,\n"
    "schedule, wsd_fract_decay, wsd_final_lr, preset; norm_eps, rope_theta,\n"
    "rope_pairing, init_std, dtype, keep).\n"
    "experiments/torch_verify/verify_golden.py replays it in PyTorch.";

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

typedef struct {
    train_config c;
    cli_optim_strings os;
    cli_preset cp;
    const char *model, *routing, *schedule, *data, *out, *resume;
    int quiet, no_plot, seq_len, mpi;
    long seed, steps;
    const char *golden_dtype, *golden_keep; /* golden: --dtype, --keep */
    cli_flag flags[96];
    int nflags;
} parsed;

static void add(parsed *p, const char *name, cli_flag_type t, void *dest, const char *help)
{
    cli_add(p->flags, &p->nflags, name, t, dest, help);
}

/* The defaults: GPT-2, L = 4, C = 64, T = 64, B = 16, 500 iterations on the
 * synthetic corpus. */
static void train_defaults(parsed *p)
{
    memset(p, 0, sizeof *p);
    train_config *c = &p->c;
    c->model = model_default_config(MODEL_GPT2, 4, 4, 64, 256, 64);
    p->seq_len = 64;
    c->batch_size = 16;
    c->iterations = 500;
    c->warmup = -1;
    c->routing = TRAIN_ROUTE_NAME;
    c->wsd_fract_decay = 0.1;
    c->grad_clip = 0.5;
    p->seed = 1;
    c->data.kind = DATA_SYNTHETIC;
    c->data.zipf_s = 1.1;
    c->eval_every = 50;
    c->eval_batches = 8;
    c->diag_every = 50;
    c->ckpt_every = 100;
    p->steps = 4;
    p->model = "gpt2";
    p->routing = "name";
    p->schedule = "cos";
    p->data = "synthetic";
    p->out = "results/train";
}

/* The flag table; golden = 1 leaves out the run-control and evaluation
 * flags. */
static void train_flags(parsed *p, int golden)
{
    train_config *c = &p->c;
    add(p, "--model", FLAG_STRING, &p->model, "gpt2 | llama");
    add(p, "--n-layer", FLAG_INT, &c->model.n_layer, "transformer blocks L");
    add(p, "--n-head", FLAG_INT, &c->model.n_head, "attention heads");
    add(p, "--n-embd", FLAG_INT, &c->model.n_embd, "embedding width C");
    add(p, "--seq-len", FLAG_INT, &p->seq_len, "sequence length T (= GPT-2's position table)");
    add(p, "--batch-size", FLAG_INT, &c->batch_size, "sequences per batch B");
    add(p, "--vocab-size", FLAG_INT, &c->model.vocab_size,
        "vocabulary V (synthetic corpus: its size; files: > every token id)");
    add(p, "--bias", FLAG_BOOL, &c->model.bias, "GPT-2: Linear and LayerNorm biases");
    add(p, "--multiple-of", FLAG_INT, &c->model.multiple_of,
        "LLaMA: SwiGLU width H = multiple_of ceil(floor(8C/3)/multiple_of)");
    add(p, "--iterations", FLAG_LONG, &c->iterations, "training steps (the schedule's length)");
    add(p, "--warmup", FLAG_LONG, &c->warmup,
        "warm-up steps; -1 = the paper's fraction, round(iterations * 3000/64000)");
    add(p, "--schedule", FLAG_STRING, &p->schedule, "cos | wsd | constant (learning-rate schedule)");
    add(p, "--wsd-fract-decay", FLAG_DOUBLE, &c->wsd_fract_decay,
        "wsd: the fraction of --iterations that decays linearly at the end");
    add(p, "--wsd-final-lr", FLAG_DOUBLE, &c->wsd_final_lr, "wsd: the final multiplier");
    add(p, "--grad-clip", FLAG_DOUBLE, &c->grad_clip, "clip the global gradient norm; 0 = off");
    add(p, "--routing", FLAG_STRING, &p->routing,
        "name (every 2-D tensor but wte) | dim (2-D with dim0 < 10000) | paper (hidden only)");
    add(p, "--seed", FLAG_LONG, &p->seed, "init, synthetic corpus and batches");
    add(p, "--data", FLAG_STRING, &p->data, "synthetic | text | llmc");
    add(p, "--train-data", FLAG_STRING, &c->data.train_path, "text/llmc training file");
    add(p, "--val-data", FLAG_STRING, &c->data.val_path,
        "text/llmc validation file (none: last 10% of --train-data)");
    add(p, "--zipf-s", FLAG_DOUBLE, &c->data.zipf_s, "synthetic corpus: Zipf exponent s");
    if (golden) {
        add(p, "--steps", FLAG_LONG, &p->steps, "K: steps recorded in the golden file");
        p->golden_dtype = "f64";
        add(p, "--dtype", FLAG_STRING, &p->golden_dtype, "f64 | f32: how floats are stored");
        add(p, "--keep", FLAG_STRING, &p->golden_keep,
            "REGEX: per-parameter tensors only for names matching it (default: all)");
    } else {
        add(p, "--eval-every", FLAG_LONG, &c->eval_every,
            "validation loss every k steps (and at the start and end)");
        add(p, "--eval-batches", FLAG_INT, &c->eval_batches, "validation batches per evaluation");
        add(p, "--diag-every", FLAG_LONG, &c->diag_every,
            "norm-ratio diagnostics every k steps; 0 = off");
        add(p, "--ckpt-every", FLAG_LONG, &c->ckpt_every, "checkpoint every k steps (and at the end)");
        add(p, "--out", FLAG_STRING, &p->out, "output directory");
        add(p, "--resume", FLAG_STRING, &p->resume, "continue the run stored in DIR");
        add(p, "--stop-after", FLAG_LONG, &c->stop_after,
            "stop after this many steps with a checkpoint (0 = run to the end)");
        add(p, "--quiet", FLAG_BOOL, &p->quiet, "no progress (a line rewritten in place on a terminal, else a line per evaluation)");
        add(p, "--no-plot", FLAG_BOOL, &p->no_plot, "do not run gnuplot");
        add(p, "--mpi", FLAG_BOOL, &p->mpi,
            "data-parallel over the ranks of mpirun (a `make MPI=1` build); --batch-size is "
            "the global batch");
    }
}

/* The names to enumerations, the checks across flags, and the derived
 * settings. */
static int train_derive(parsed *p, lm_error *e)
{
    train_config *c = &p->c;
    if (model_kind_parse(p->model, &c->model.kind))
        return lm_fail(e, "--model: unknown model '%s' (gpt2, llama)", p->model);
    if (train_routing_parse(p->routing, &c->routing))
        return lm_fail(e, "--routing: unknown routing '%s' (name, dim, paper)", p->routing);
    if (train_schedule_parse(p->schedule, &c->schedule))
        return lm_fail(e, "--schedule: unknown schedule '%s' (cos, wsd, constant)", p->schedule);
    c->preset = p->cp.active ? p->cp.label : NULL;
    if (data_kind_parse(p->data, &c->data.kind))
        return lm_fail(e, "--data: unknown source '%s' (synthetic, text, llmc)", p->data);
    if (c->data.kind == DATA_SYNTHETIC && (c->data.train_path || c->data.val_path))
        return lm_fail(e, "--train-data/--val-data need --data text or --data llmc");
    if (c->data.kind != DATA_SYNTHETIC && !c->data.train_path)
        return lm_fail(e, "--data %s needs --train-data", p->data);
    if (p->seed < 0)
        return lm_fail(e, "--seed must be >= 0 (got %ld)", p->seed);
    if (p->seq_len < 1)
        return lm_fail(e, "--seq-len must be >= 1 (got %d)", p->seq_len);
    c->model.block_size = p->seq_len;
    c->seed = (unsigned long)p->seed;
    if (c->warmup == -1)
        c->warmup = train_default_warmup(c->iterations);
    c->out_dir = p->out;
    c->progress = p->quiet ? 0 : isatty(2) ? 1 : 2;
    c->plot = !p->no_plot;
    return 0;
}

/* Defaults, the flag table, parse, and the derived settings.  golden = 1
 * leaves out the run-control and evaluation flags and takes OUT positional. */
static int parse_flags(parsed *p, int argc, char **argv, int golden, const char **pos,
                       int *npos, int *help, lm_error *e)
{
    train_defaults(p);
    if (cli_preset_begin(argc, argv, &p->cp, e))
        return -1;
    train_flags(p, golden);
    train_config *c = &p->c;
    cli_preset_add(&p->cp, p->flags, &p->nflags);
    if (cli_optim_begin(argc, argv, cli_preset_optimizer(&p->cp, "lionmuon"), &c->opt, &p->os,
                        p->flags, &p->nflags, e) ||
        cli_preset_apply(&p->cp, p->flags, p->nflags, e))
        return -1;
    if (cli_parse(argc, argv, p->flags, p->nflags, pos, golden ? 1 : 0, npos, help, e))
        return -1;
    if (*help)
        return 0;
    if (cli_optim_finish(&c->opt, &p->os, p->flags, p->nflags, e))
        return -1;
    return train_derive(p, e);
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
    if (parse_flags(&p, rargc, rargv, 0, NULL, &npos, &help, &e)) {
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

int cmd_golden(int argc, char **argv)
{
    lm_error e = {{0}};
    parsed p;
    const char *pos[1];
    int npos = 0, help = 0;
    if (parse_flags(&p, argc, argv, 1, pos, &npos, &help, &e)) {
        fprintf(stderr, "lionmuon golden: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, GOLDEN_USAGE, GOLDEN_ABOUT, p.flags, p.nflags);
        return 0;
    }
    if (npos != 1) {
        fprintf(stderr, "lionmuon golden: expected the output file OUT\nusage: %s\n",
                GOLDEN_USAGE);
        return 2;
    }
    if (p.mpi) {
        fprintf(stderr, "lionmuon golden: --mpi: golden files are written by a single process\n");
        return 2;
    }
    train_golden_opts go = {0, p.golden_keep};
    if (strcmp(p.golden_dtype, "f64") && strcmp(p.golden_dtype, "f32")) {
        fprintf(stderr, "lionmuon golden: --dtype: unknown dtype '%s' (f64, f32)\n",
                p.golden_dtype);
        return 2;
    }
    go.f32 = !strcmp(p.golden_dtype, "f32");
    if (train_golden_ex(&p.c, p.steps, &go, pos[0], &e)) {
        fprintf(stderr, "lionmuon golden: %s\n", e.msg);
        return 1;
    }
    printf("lionmuon golden: %s: %ld steps of %s on %s L=%d C=%d V=%d, B=%d T=%d\n", pos[0],
           p.steps, opt_kind_name(p.c.opt.kind), model_kind_name(p.c.model.kind),
           p.c.model.n_layer, p.c.model.n_embd, p.c.model.vocab_size, p.c.batch_size,
           p.c.model.block_size);
    return 0;
}
