/* cmd_golden.c - `lionmuon golden OUT`: a golden file of K training steps for
 * GPU verification.  Flags as train's (train_flags.c); the file is written
 * by train_golden_ex (src/model/train.c). */
#include <stdio.h>
#include <string.h>

#include "train_flags.h"

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

int cmd_golden(int argc, char **argv)
{
    lm_error e = {{0}};
    parsed p;
    const char *pos[1];
    int npos = 0, help = 0;
    if (train_parse_flags(&p, argc, argv, 1, pos, &npos, &help, &e)) {
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
