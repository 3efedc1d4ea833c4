#!/usr/bin/python3
"""torch_bench.py - the training step of `lionmuon bench train` in PyTorch
float64 on the CPU, timed the same way, for a side-by-side comparison.

The model and the optimizer are those of experiments/torch_verify/
verify_golden.py (the independent PyTorch definition that the golden tests
check the C reference against to ~1e-15): GPT-2 or LLaMA, the C bench's
routing (hidden matrices to LionMuon, the rest to AdamW), LionMuon P = 2
with Newton-Schulz ns5 (5 steps), gradient clipping 0.5, lionmuon's default
settings (opt_meta).  One step = forward, backward, clipping, optimizer step; one warm-up
step, then --steps timed steps; random tokens (uniform, seed 1).

Prints one JSON object: seconds_per_step (median), mean_seconds_per_step
(mean; with P = 2 and an even count, whole periods), threads, torch version.
With --lionmuon BINARY it compares instead: --rounds times, it runs
`BINARY bench train --json` on the same flags and thread count, then the
torch steps, back to back so that both see the same load on a shared
machine, and prints the ratio of step times torch / C of each round and the
median over rounds (--out FILE: the rounds as JSON).

Usage: /usr/bin/python3 torch_bench.py [--model gpt2|llama] [--n-layer L]
         [--n-head H] [--n-embd C] [--seq-len T] [--batch-size B]
         [--vocab-size V] [--multiple-of M] [--bias] [--steps N]
         [--threads K] [--lionmuon BINARY [--rounds R] [--out FILE]]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "torch_verify"))
from verify_golden import Optimizer, Transformer, clip_  # noqa: E402


def opt_meta():
    """What `lionmuon bench train --optimizer lionmuon --period 2` runs: lionmuon's
    defaults (opt_default_config in src/core/optim.c: betas 0.9/0.99, rates
    1e-3 / 5e-5, the AdamW part (0.8, 0.999), eps 1e-8 before the bias
    correction, 1e-3; weight decay 0.1 on every tensor; no update rounding)
    and the bench's routing, the hidden matrices (route_params in
    src/tools/bench.c: `paper`, not train's default `name`).  Every choice
    is spelled out, so that none falls back to an old file's default."""
    return dict(optimizer="lionmuon", period=2, beta1=0.9, beta2=0.99, lr_muon=1e-3,
                lr_sign=5e-5, lr_adamw=1e-3, adamw_beta1=0.8, adamw_beta2=0.999,
                adamw_eps=1e-8, adamw_eps_mode="paper", weight_decay=0.1, msign="ns5",
                ns_steps=5, routing="paper", decay_on="all", round_update="none",
                srank_alpha=0.0)


def init_(model, n_layer):
    """The paper's initialisation: N(0, 0.02), c_proj weights N(0, 0.02/sqrt(2L)),
    biases 0, norm gains 1 (model_init in model.c)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.zero_()
            elif p.dim() == 1:
                p.fill_(1.0)
            else:
                sd = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
                p.normal_(0.0, sd, generator=g)


def run(a):
    torch.set_num_threads(a.threads)
    torch.set_default_dtype(torch.float64)
    cfg = dict(model=a.model, n_layer=a.n_layer, n_head=a.n_head, n_embd=a.n_embd,
               vocab_size=a.vocab_size, sequence_length=a.seq_len, bias=a.bias,
               multiple_of=a.multiple_of)
    model = Transformer(cfg).double()
    init_(model, a.n_layer)
    params = [(n, p) for n, p in model.named_parameters()]  # wte once (tied)
    opt = Optimizer(params, opt_meta(), torch.float64)
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, a.vocab_size, (a.batch_size, a.seq_len), generator=g)
    tgt = torch.randint(0, a.vocab_size, (a.batch_size, a.seq_len), generator=g)
    times = []
    for t in range(a.steps + 1):  # step 0 is the warm-up
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        loss = model(idx, tgt)
        loss.backward()
        grads = {n: p.grad for n, p in params}
        clip_(grads, 0.5)
        opt.step(params, grads, t, 1.0)
        dt = time.perf_counter() - t0
        if t > 0:
            times.append(dt)
    return dict(impl="torch", torch=torch.__version__, threads=torch.get_num_threads(),
                model=a.model, n_layer=a.n_layer, n_head=a.n_head, n_embd=a.n_embd,
                seq_len=a.seq_len, batch_size=a.batch_size, vocab_size=a.vocab_size,
                optimizer="lionmuon", period=2, steps=a.steps,
                seconds_per_step=statistics.median(times),
                mean_seconds_per_step=sum(times) / len(times), loss=loss.item())


def c_flags(a):
    """The same configuration as flags of `lionmuon bench train`."""
    f = ["--model", a.model, "--n-layer", a.n_layer, "--n-head", a.n_head, "--n-embd", a.n_embd,
         "--seq-len", a.seq_len, "--batch-size", a.batch_size, "--vocab-size", a.vocab_size,
         "--multiple-of", a.multiple_of, "--optimizer", "lionmuon", "--period", 2,
         "--steps", a.steps, "--json"]
    return [str(x) for x in f] + (["--bias"] if a.bias else [])


def compare(a):
    """Rounds of (C run, torch run), back to back, so that both see the same
    load; the ratio of each round, and their median."""
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    rounds = []
    for i in range(a.rounds):
        p = subprocess.run([a.lionmuon, "bench", "train"] + c_flags(a), env=env,
                           stdout=subprocess.PIPE, check=True, text=True)
        c = json.loads(p.stdout)
        if c["threads"] != a.threads:
            sys.exit("torch_bench: C ran on %s threads, not %d" % (c["threads"], a.threads))
        t = run(a)
        rounds.append(dict(c=c, torch=t, ratio_median=t["seconds_per_step"] / c["seconds_per_step"],
                           ratio_mean=t["mean_seconds_per_step"] / c["mean_seconds_per_step"]))
    t0 = rounds[0]["torch"]
    print("%s L=%d C=%d nh=%d T=%d B=%d V=%d, lionmuon P=2 ns5, %d threads, %d steps "
          "(torch %s float64 CPU)" % (a.model, a.n_layer, a.n_embd, a.n_head, a.seq_len,
                                      a.batch_size, a.vocab_size, a.threads, a.steps,
                                      t0["torch"]))
    print("  %5s %12s %12s %12s %12s %10s %10s %9s" % (
        "round", "C median", "C mean", "torch median", "torch mean", "ratio med", "ratio mean",
        "C/DGEMM"))
    for i, r in enumerate(rounds):
        print("  %5d %12.4f %12.4f %12.4f %12.4f %9.2fx %9.2fx %8.1f%%" % (
            i + 1, r["c"]["seconds_per_step"], r["c"]["mean_seconds_per_step"],
            r["torch"]["seconds_per_step"], r["torch"]["mean_seconds_per_step"],
            r["ratio_median"], r["ratio_mean"], 100 * r["c"]["fraction_of_dgemm"]))
    med = statistics.median(r["ratio_median"] for r in rounds)
    mean = statistics.median(r["ratio_mean"] for r in rounds)
    print("  torch / C step time: %.2fx (median steps), %.2fx (mean steps), median over "
          "rounds" % (med, mean))
    out = dict(rounds=rounds, ratio_median=med, ratio_mean=mean)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=2)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="gpt2", choices=["gpt2", "llama"])
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--vocab-size", type=int, default=512)
    ap.add_argument("--multiple-of", type=int, default=256)
    ap.add_argument("--bias", action="store_true")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int,
                    default=int(os.environ.get("OMP_NUM_THREADS", "0")) or torch.get_num_threads())
    ap.add_argument("--lionmuon", metavar="BINARY",
                    help="compare: run BINARY bench train on the same flags and thread "
                         "count, alternating with the torch runs")
    ap.add_argument("--rounds", type=int, default=3, help="compare: rounds of (C, torch)")
    ap.add_argument("--out", help="compare: also write the rounds as JSON to this file")
    a = ap.parse_args()
    if a.steps < 1 or a.rounds < 1:
        ap.error("--steps and --rounds must be >= 1")
    if a.lionmuon:
        return compare(a)
    print(json.dumps(run(a)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
