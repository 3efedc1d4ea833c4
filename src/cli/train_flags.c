/* train_flags.c - the flags of `lionmuon train` and `lionmuon golden`
 * (train_flags.h): defaults, the table, the derived settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train_flags.h"

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
int train_parse_flags(parsed *p, int argc, char **argv, int golden, const char **pos,
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

