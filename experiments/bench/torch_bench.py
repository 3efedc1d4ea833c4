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
(mean; with P = 2 and an even count, whole periods), threads, torch version
and blas_core, the OpenBLAS kernel torch's BLAS runs on (read with
openblas_get_corename from the libopenblas.so.0 loaded in the process).

With --lionmuon BINARY it compares instead, --rounds times, back to back so
that all see the same load on a shared machine:
  C        `BINARY bench train --json` on the same flags and thread count,
           on the kernel the tool runs by default (its own selection,
           src/core/blaskernel.h);
  fair     torch with OPENBLAS_CORETYPE set to C's kernel: both on the same
           BLAS kernel;
  default  torch as a user starts it (OpenBLAS's own choice of kernel); run
           only when that kernel differs from C's (else it is `fair`).
It prints the ratio of step times torch / C of each round and their medians
(--out FILE: the rounds as JSON).  --simulate-generic CORE starts both as on
a CPU that OpenBLAS does not recognise: torch's default kernel is CORE, and
C sees CORE as OpenBLAS's choice (LIONMUON_BLAS_SELECT=force), so it
selects the fast kernel itself.  Each torch measurement is its own process,
since OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded.

Usage: /usr/bin/python3 torch_bench.py [--model gpt2|llama] [--n-layer L]
         [--n-head H] [--n-embd C] [--seq-len T] [--batch-size B]
         [--vocab-size V] [--multiple-of M] [--bias] [--steps N]
         [--optimizer lionmuon|adamw] [--threads K]
         [--lionmuon BINARY [--rounds R] [--out FILE] [--simulate-generic CORE]]
"""
import argparse
import ctypes
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
from verify_golden import Optimizer, Transformer, clip_, linear_weights  # noqa: E402


def blas_core():
    """The OpenBLAS kernel of this process (None if OpenBLAS is not loaded)."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None


def opt_meta(optimizer="lionmuon"):
    """What `lionmuon bench train --optimizer OPTIMIZER --period 2` runs, every
    choice spelled out so that none falls back to an old file's default.
    lionmuon: its defaults (opt_default_config in src/core/optim.c: betas
    0.9/0.99, rates 1e-3 / 5e-5, the AdamW part (0.8, 0.999), eps 1e-8 before
    the bias correction, 1e-3; weight decay 0.1 on every tensor; no update
    rounding) and the bench's routing, the hidden matrices (route_params in
    src/tools/bench.c: `paper`, not train's default `name`).  adamw: the
    paper's baseline, torch's eps placement, lr 5e-4, decay on Linear
    weights only."""
    m = dict(optimizer=optimizer, period=2, beta1=0.9, beta2=0.99, lr_muon=1e-3,
             lr_sign=5e-5, lr_adamw=1e-3, adamw_beta1=0.8, adamw_beta2=0.999,
             adamw_eps=1e-8, adamw_eps_mode="paper", weight_decay=0.1, msign="ns5",
             ns_steps=5, routing="paper", decay_on="all", round_update="none",
             srank_alpha=0.0)
    if optimizer == "adamw":
        m.update(lr_adamw=5e-4, adamw_eps_mode="torch", decay_on="linear")
    return m


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
    meta = opt_meta(a.optimizer)
    meta["linear_weights"] = linear_weights(model)  # decay_on = linear's tensors
    opt = Optimizer(params, meta, torch.float64)
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
                blas_core=blas_core(), model=a.model, n_layer=a.n_layer, n_head=a.n_head,
                n_embd=a.n_embd, seq_len=a.seq_len, batch_size=a.batch_size,
                vocab_size=a.vocab_size, optimizer=a.optimizer, period=2, steps=a.steps,
                seconds_per_step=statistics.median(times),
                mean_seconds_per_step=sum(times) / len(times), loss=loss.item())


def c_flags(a):
    """The same configuration as flags of `lionmuon bench train`."""
    f = ["--model", a.model, "--n-layer", a.n_layer, "--n-head", a.n_head, "--n-embd", a.n_embd,
         "--seq-len", a.seq_len, "--batch-size", a.batch_size, "--vocab-size", a.vocab_size,
         "--multiple-of", a.multiple_of, "--optimizer", a.optimizer, "--period", 2,
         "--steps", a.steps, "--json"]
    return [str(x) for x in f] + (["--bias"] if a.bias else [])


def torch_flags(a):
    """This script's own flags for one torch measurement."""
    f = ["--model", a.model, "--n-layer", a.n_layer, "--n-head", a.n_head, "--n-embd", a.n_embd,
         "--seq-len", a.seq_len, "--batch-size", a.batch_size, "--vocab-size", a.vocab_size,
         "--multiple-of", a.multiple_of, "--optimizer", a.optimizer, "--steps", a.steps,
         "--threads", a.threads]
    return [str(x) for x in f] + (["--bias"] if a.bias else [])


def run_json(argv, env):
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def envs(a):
    """The environments of C, torch on its default kernel, and the base."""
    base = dict(os.environ, OMP_NUM_THREADS=str(a.threads),
                OPENBLAS_NUM_THREADS=str(a.threads))
    for k in ("OPENBLAS_CORETYPE", "LIONMUON_BLAS_SELECT", "LIONMUON_BLAS_SELECTED"):
        base.pop(k, None)
    c_env, t_env = dict(base), dict(base)
    if a.simulate_generic:
        c_env.update(OPENBLAS_CORETYPE=a.simulate_generic, LIONMUON_BLAS_SELECT="force")
        t_env.update(OPENBLAS_CORETYPE=a.simulate_generic)
    return base, c_env, t_env


def torch_default_core(t_env):
    """The kernel torch's OpenBLAS picks in t_env."""
    return run_json([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import "
                     "torch_bench, json; print(json.dumps({'core': torch_bench.blas_core()}))"
                     % os.path.dirname(os.path.abspath(__file__))], t_env)["core"]


def one_round(a, me, base, c_env, t_env, t_core):
    """C, torch on C's kernel, torch on its own default kernel t_core (when
    that differs): step times and ratios."""
    c = run_json([a.lionmuon, "bench", "train"] + c_flags(a), c_env)
    if c["threads"] != a.threads:
        sys.exit("torch_bench: C ran on %s threads, not %d" % (c["threads"], a.threads))
    fair = run_json(me, dict(base, OPENBLAS_CORETYPE=c["blas_core"]))
    dflt = fair if t_core == c["blas_core"] else run_json(me, t_env)
    r = dict(c=c, torch_fair=fair, torch_default=dflt)
    for k, t in (("fair", fair), ("default", dflt)):
        r["ratio_%s_median" % k] = t["seconds_per_step"] / c["seconds_per_step"]
        r["ratio_%s_mean" % k] = t["mean_seconds_per_step"] / c["mean_seconds_per_step"]
    return r


def compare(a):
    """Rounds of (C, torch fair, torch default), back to back, so that all
    see the same load; the ratios of each round, and their medians."""
    me = [sys.executable, os.path.abspath(__file__)] + torch_flags(a)
    base, c_env, t_env = envs(a)
    t_core = torch_default_core(t_env)
    rounds = [one_round(a, me, base, c_env, t_env, t_core) for _ in range(a.rounds)]
    t0 = rounds[0]["torch_fair"]
    print("%s L=%d C=%d nh=%d T=%d B=%d V=%d, %s%s, %d threads, %d steps (torch %s float64 "
          "CPU)%s" % (a.model, a.n_layer, a.n_embd, a.n_head, a.seq_len, a.batch_size,
                      a.vocab_size, a.optimizer, " P=2 ns5" if a.optimizer == "lionmuon" else "",
                      a.threads, a.steps, t0["torch"],
                      ", simulating a generic %s" % a.simulate_generic
                      if a.simulate_generic else ""))
    print("  %5s %-24s %9s %-22s %9s %9s %-22s %9s %9s" % (
        "round", "C kernel", "C mean", "torch fair kernel", "mean", "ratio", "torch default",
        "mean", "ratio"))
    for i, r in enumerate(rounds):
        c, f, d = r["c"], r["torch_fair"], r["torch_default"]
        ck = c["blas_core"] + (" (lionmuon's)" if c["blas_core_selected_by_tool"] else "")
        print("  %5d %-24s %9.4f %-22s %9.4f %8.2fx %-22s %9.4f %8.2fx   C %.0f%% of DGEMM" % (
            i + 1, ck, c["mean_seconds_per_step"], f["blas_core"], f["mean_seconds_per_step"],
            r["ratio_fair_mean"], d["blas_core"], d["mean_seconds_per_step"],
            r["ratio_default_mean"], 100 * c["fraction_of_dgemm"]))
    out = {}
    for k in ("fair", "default"):
        for s in ("median", "mean"):
            key = "ratio_%s_%s" % (k, s)
            out[key] = statistics.median(r[key] for r in rounds)
    print("  torch / C step time, median over rounds (mean steps): fair %.2fx, each on its "
          "default kernel %.2fx" % (out["ratio_fair_mean"], out["ratio_default_mean"]))
    out["rounds"] = rounds
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
    ap.add_argument("--optimizer", default="lionmuon", choices=["lionmuon", "adamw"])
    ap.add_argument("--threads", type=int,
                    default=int(os.environ.get("OMP_NUM_THREADS", "0")) or torch.get_num_threads())
    ap.add_argument("--lionmuon", metavar="BINARY",
                    help="compare: run BINARY bench train on the same flags and thread "
                         "count, alternating with the torch runs")
    ap.add_argument("--rounds", type=int, default=3, help="compare: rounds of (C, torch)")
    ap.add_argument("--out", help="compare: also write the rounds as JSON to this file")
    ap.add_argument("--simulate-generic", metavar="CORE",
                    help="compare: start both as if OpenBLAS had chosen CORE (e.g. Prescott)")
    a = ap.parse_args()
    if a.steps < 1 or a.rounds < 1:
        ap.error("--steps and --rounds must be >= 1")
    if a.lionmuon:
        return compare(a)
    print(json.dumps(run(a)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
