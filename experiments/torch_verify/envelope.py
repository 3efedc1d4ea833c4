#!/usr/bin/python3
"""envelope.py - measure the envelope of a correct low-precision
implementation: how far from the double-precision reference a correct
float32, bfloat16 or float16 implementation lands.  The default thresholds of
`lionmuon compare` (include/lionmuon/lowprec.h, ENVELOPE) and of
verify_golden.py (ENVELOPE, MODEL_ENVELOPE) are MARGIN = 3 times the maxima
printed here.

Three measurements, each the maximum over every case and seed:
  msign    relative Frobenius error of ns5 (5 steps) in precision p against
           the same iteration in double, by shape and condition number:
           `lionmuon msign --precision p` (lowprec.h: products' inputs and
           outputs rounded to p, float32 accumulation) and, as a second
           correct implementation, PyTorch in p (float32-accumulated
           products, verify_golden.mm).  f64: PyTorch float64 against the C
           reference, and the C reference on 2 BLAS threads against 1.
           Inputs U diag(s) V^T with Haar U, V and s log-spaced from 1 to
           1/cond.
  step     the update of a Muon step, a sign step and an AdamW step, and the
           change of the optimizer state, in precision p against the double
           reference: `lionmuon step --precision p` and the PyTorch replay
           (verify_golden.py --step-file).  The weights are zero, so the
           rounding of stored weights (which compare and verify_golden add
           separately, 3 u ||W'|| / ||W' - W||) does not enter; the state is
           zero, except the momentum of the sign steps (so that C mixes M
           and G).  The state's change is measured against numpy.
  model    loss and gradients of verify_golden's model in float64, float32
           and under bfloat16 autocast against the C reference, on golden files
           of every optimizer (GOLDENS: GPT-2 and LLaMA, seeds 1..N; the tests
           use other seeds).

Usage: /usr/bin/python3 experiments/torch_verify/envelope.py [--lionmuon ./lionmuon]
           [--seeds 5] [--json OUT] [--quick]
Prints the tables (Markdown) and the constants to paste into lowprec.c and
verify_golden.py.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_golden as vg  # noqa: E402

SHAPES = [(64, 64), (128, 128), (256, 256), (64, 256), (256, 64), (128, 512), (512, 128)]
CONDS = [1.0, 1e2, 1e4, 1e6]
PRECS = ["f32", "bf16", "f16"]
TORCH_DT = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


def rel(a, b):
    nb = np.linalg.norm(b)
    return np.linalg.norm(a - b) / nb if nb > 0 else float(np.linalg.norm(a) > 0)


def spectrum_matrix(rng, m, n, cond):
    k = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    V, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return (U * np.logspace(0, -np.log10(cond), k)) @ V.T


def run(cmd, env=None):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)


def measure_msign(lm, tmp, seeds):
    """{(shape, cond): {prec: max error}} and per-precision maxima."""
    table = {}
    one = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    two = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    for (m, n) in SHAPES:
        rng = np.random.default_rng(1000 * m + n)
        G = {}
        for cond in CONDS:
            for s in range(seeds):
                G["c%g.s%d" % (cond, s)] = spectrum_matrix(rng, m, n, cond)
        fin = os.path.join(tmp, "g.st")
        vg.write_safetensors(fin, G)
        out = {}
        for p in ["f64"] + PRECS:
            fo = os.path.join(tmp, "o_%s.st" % p)
            run([lm, "msign", "--method", "ns5", "--precision", p, fin, fo], one)
            out[p] = vg.read_safetensors(fo)[0]
        run([lm, "msign", "--method", "ns5", fin, os.path.join(tmp, "o2.st")], two)
        out2 = vg.read_safetensors(os.path.join(tmp, "o2.st"))[0]
        for cond in CONDS:
            row = {}
            for s in range(seeds):
                key = "c%g.s%d" % (cond, s)
                ref = out["f64"][key]
                g = torch.from_numpy(G[key])
                e64 = max(rel(vg.msign(g, "ns5", 5, torch.float64).numpy(), ref), rel(out2[key], ref))
                row.setdefault("f64", []).append(e64)
                for p in PRECS:
                    row.setdefault(p, []).append(rel(out[p][key], ref))
                    t = vg.msign(g, "ns5", 5, TORCH_DT[p]).double().numpy()
                    row.setdefault("torch " + p, []).append(rel(t, ref))
            table[(m, n, cond)] = {k: max(v) for k, v in row.items()}
    return table


def step_inputs(rng, t):
    """Matrices of every shape and a vector, zero weights; t = 1 with momentum."""
    T = {}
    for (m, n) in SHAPES[:5]:
        name = "w%dx%d" % (m, n)
        T["params." + name] = np.zeros((m, n))
        T["grads." + name] = rng.standard_normal((m, n))
        if t == 1:
            T["state.%s.momentum" % name] = rng.standard_normal((m, n))
    T["params.v"] = np.zeros(256)
    T["grads.v"] = rng.standard_normal(256) * np.logspace(0, -3, 256)
    return T


def measure_step(lm, tmp, seeds):
    """{prec: {kind: max error}} for the C emulation and the torch replay."""
    env, tenv = {}, {}
    for s in range(seeds):
        for t in (0, 1):
            rng = np.random.default_rng(7 + 2 * s + t)
            fin = os.path.join(tmp, "s_in.st")
            vg.write_safetensors(fin, step_inputs(rng, t), {"step": str(t)})
            ref = os.path.join(tmp, "s_f64.st")
            run([lm, "step", fin, ref])
            R = vg.read_safetensors(ref)[0]
            kinds = json.loads(vg.read_safetensors(ref)[1]["step_kinds"])
            I = vg.read_safetensors(fin)[0]
            for p in ["f64"] + PRECS:
                fo = os.path.join(tmp, "s_%s.st" % p)
                if p != "f64":
                    run([lm, "step", "--precision", p, fin, fo])
                    O = vg.read_safetensors(fo)[0]
                    for key, kind in kinds.items():
                        if kind == "state" and t == 1:
                            continue
                        base = I.get(key, np.zeros_like(R[key]))
                        e = rel(O[key].astype(np.float64) - base, R[key] - base)
                        env.setdefault(p, {}).setdefault(kind, []).append(e)
                if p == "f16":
                    continue
                res = vg.replay(vg.StepPair(fin, ref), p)
                for (_, q, _, err, _) in res.rows:
                    if q.endswith("updates"):
                        tenv.setdefault(p, {}).setdefault(q.split()[0], []).append(err)
            # the state against numpy (b2 = 0.99 for the matrices, AdamW's 0.8 / 0.999)
            for key, kind in kinds.items():
                if kind != "state" or t == 1:
                    continue
                name, suffix = key[6:].rsplit(".", 1)
                g = I["grads." + name]
                want = {"momentum": 0.01 * g, "exp_avg": 0.2 * g, "exp_avg_sq": 0.001 * g * g}[suffix]
                env.setdefault("f64", {}).setdefault("state", []).append(rel(R[key], want))
    mx = lambda d: {p: {k: max(v) for k, v in kk.items()} for p, kk in d.items()}  # noqa: E731
    return mx(env), mx(tenv)


LLAMA = ["--model", "llama", "--multiple-of", "8"]
GOLDENS = [
    ("gpt2 lionmuon bias", ["--bias"]),
    ("llama signmuon P=3 polar-express", LLAMA + ["--optimizer", "signmuon", "--period", "3",
                                                  "--msign", "polar-express"]),
    ("gpt2 muon", ["--optimizer", "muon"]),
    ("llama lion", LLAMA + ["--optimizer", "lion"]),
    ("gpt2 signum routing dim", ["--optimizer", "signum", "--routing", "dim"]),
    ("gpt2 adamw torch eps", ["--optimizer", "adamw", "--adamw-eps-mode", "torch"]),
    ("llama muon-nesterov", LLAMA + ["--optimizer", "muon-nesterov"]),
]
SMALL = ["--n-layer", "2", "--n-head", "2", "--n-embd", "16", "--seq-len", "8", "--batch-size",
         "2", "--vocab-size", "32", "--iterations", "10", "--warmup", "2", "--steps", "4"]


def measure_model(lm, tmp, seeds):
    env = {}
    for label, flags in GOLDENS:
        for s in range(seeds):
            fg = os.path.join(tmp, "golden.st")
            run([lm, "golden", fg] + SMALL + flags + ["--seed", str(s + 1)])
            src = vg.Golden(fg)
            for p in ("f64", "f32", "bf16"):
                res = vg.replay(src, p)
                for (_, q, _, err, _) in res.rows:
                    if q in ("loss", "grads"):
                        d = env.setdefault(p, {})
                        d[q] = max(d.get(q, 0.0), err)
    return env


def fmt(x):
    return "%.1e" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lionmuon", default="./lionmuon")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", default=None)
    ap.add_argument("--quick", action="store_true", help="2 seeds (a smoke run)")
    a = ap.parse_args()
    seeds = 2 if a.quick else a.seeds
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        ms = measure_msign(a.lionmuon, tmp, seeds)
        st, tst = measure_step(a.lionmuon, tmp, seeds)
        md = measure_model(a.lionmuon, tmp, seeds)
    print("## msign (ns5, 5 steps): relative Frobenius error against the f64 result, "
          "max over %d seeds\n" % seeds)
    cols = ["f64", "f32", "torch f32", "bf16", "torch bf16", "f16", "torch f16"]
    print("| shape | cond | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for (m, n, cond), row in sorted(ms.items()):
        print("| %dx%d | %g | %s |" % (m, n, cond, " | ".join(fmt(row[c]) for c in cols)))
    value = {"f64": max(r["f64"] for r in ms.values())}
    for p in PRECS:
        value[p] = max(max(r[p], r["torch " + p]) for r in ms.values())
    print("\n## step updates: relative Frobenius error against the f64 step "
          "(C emulation / torch replay), max over %d seeds\n" % seeds)
    print("| precision | muon | sign | adamw | state |")
    print("|---|---|---|---|---|")
    env = {}
    for p in ["f64"] + PRECS:
        c, t = st.get(p, {}), tst.get(p, {})
        row = {}
        for k in ("muon", "sign", "adamw", "state"):
            row[k] = max(c.get(k, 0.0), t.get(k, 0.0))
        if p == "f16":
            # the f16 step keeps float32 master weights, state and elementwise
            # arithmetic: the second implementation of those is the f32 replay
            for k in ("sign", "adamw"):
                row[k] = max(row[k], tst["f32"][k])
        env[p] = dict(value=value[p], **row)
        print("| %s | %s |" % (p, " | ".join("%s / %s" % (fmt(c[k]) if k in c else "-",
                                                         fmt(t[k]) if k in t else "-")
                                             for k in ("muon", "sign", "adamw", "state"))))
    # a Muon step's update is the msign of C: never below the msign envelope
    for p in env:
        env[p]["muon"] = max(env[p]["muon"], env[p]["value"])
    print("\n## model (verify_golden.py): loss and gradients against the C reference\n")
    print("| precision | loss | grads |")
    print("|---|---|---|")
    for p, d in md.items():
        print("| %s | %s | %s |" % (p, fmt(d["loss"]), fmt(d["grads"])))
    print("\n## the envelope (thresholds are %g x these)\n" % vg.MARGIN)
    print("static const double ENVELOPE[LP_NPREC][LP_NKIND] = {")
    print("    /*            value     muon      sign      adamw     state */")
    for p in ["f64"] + PRECS:
        print("    /* %-4s */ {%s}," % (p, ", ".join("%.2e" % env[p][k] for k in vg.KINDS)))
    print("};")
    print("ENVELOPE = %s" % json.dumps({p: {k: float("%.2e" % env[p][k]) for k in vg.KINDS}
                                       for p in env}))
    print("MODEL_ENVELOPE = %s" % json.dumps({p: {k: float("%.2e" % v) for k, v in d.items()}
                                             for p, d in md.items()}))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(msign={"%dx%d cond %g" % k: v for k, v in ms.items()}, step_c=st,
                           step_torch=tst, model=md, envelope=env, seeds=seeds), f, indent=1)


if __name__ == "__main__":
    main()
