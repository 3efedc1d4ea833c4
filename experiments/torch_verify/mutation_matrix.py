#!/usr/bin/python3
"""mutation_matrix.py - do verify_golden.py's verdicts catch real bugs and
pass correct low-precision code?  The run behind tests/cli_mutation.sh and
the detection table of README.md.

1. The correct implementation (verify_golden.LionMuon) replays golden files
   of every optimizer (GPT-2 and LLaMA, seed 11: not a seed envelope.py
   measured on) and a `lionmuon step` file pair, in f64, f32 and bf16 (CPU
   torch), model and optimizer checks: every one must PASS.
2. Each mutant of mutants.py replays the LionMuon golden (4 steps, the
   optimizer check) and the step pair, in each precision.
3. A mutant is detectable in precision p when its effect, measured in f64,
   exceeds for some step and tensor the threshold of p plus the error the
   correct implementation shows there in p (so that it is caught whatever
   the sign of that error).  Every detectable mutant must be caught within
   the 4 replayed steps; the table shows, for each, where it was first
   caught and err/threshold there, or the largest effect/(threshold + noise)
   when not detectable.

Usage: /usr/bin/python3 experiments/torch_verify/mutation_matrix.py [--lionmuon ./lionmuon]
Exit status 0 when both requirements hold, 1 when not.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_golden as vg  # noqa: E402
import mutants  # noqa: E402

SMALL = ["--n-layer", "2", "--n-head", "2", "--n-embd", "16", "--seq-len", "8", "--batch-size",
         "2", "--vocab-size", "32", "--iterations", "10", "--warmup", "2", "--steps", "4",
         "--seed", "11"]
LLAMA = ["--model", "llama", "--multiple-of", "8"]
OPTIMIZERS = [
    ("lionmuon", ["--bias"]),
    ("signmuon", LLAMA + ["--optimizer", "signmuon", "--period", "3", "--msign", "polar-express"]),
    ("muon", ["--optimizer", "muon"]),
    ("lion", LLAMA + ["--optimizer", "lion"]),
    ("signum", ["--optimizer", "signum", "--routing", "dim"]),
    ("adamw", ["--optimizer", "adamw", "--adamw-eps-mode", "torch"]),
    ("muon-nesterov", LLAMA + ["--optimizer", "muon-nesterov"]),
    # the second class, its cheap steps scaled signs, every matrix update rounded to bf16
    ("signmuon-sgd", ["--optimizer", "signmuon-sgd", "--sign-scaling", "muon", "--round-update",
                      "bf16"]),
]
PRECS = ["f64", "f32", "bf16"]
TARGETS = ["lionmuon", "step file"]


def step_pair(lm, tmp):
    """A sign step (t = 1, no state) whose gradient has exact zeros, so that
    C = (1 - beta1) G has too, and an AdamW vector."""
    rng = np.random.default_rng(11)
    g = rng.standard_normal((24, 40))
    g[rng.random((24, 40)) < 0.25] = 0.0
    fin, fout = os.path.join(tmp, "s_in.st"), os.path.join(tmp, "s_out.st")
    vg.write_safetensors(fin, {"params.w": rng.standard_normal((24, 40)) * 0.02, "grads.w": g,
                               "params.v": rng.standard_normal(40) * 0.02,
                               "grads.v": rng.standard_normal(40)}, {"step": "1"})
    subprocess.run([lm, "step", fin, fout], check=True, stdout=subprocess.DEVNULL)
    return vg.StepPair(fin, fout)


def rows_by_key(res):
    return {(r[0], "params" if r[1] == "params" else r[1].split()[-1], r[2]): r for r in res.rows}


def run(src, prec, cls, model):
    try:
        return vg.replay(src, prec, cls, model=model), None
    except Exception as ex:  # a mutant may crash: that is a detection too
        return None, "%s: %s" % (type(ex).__name__, ex)


def detectability(eff, correct):
    """max over rows of effect / (threshold + noise) of the correct run."""
    best = 0.0
    for key, r in correct.items():
        if key in eff and r[1] not in ("loss", "grads"):
            best = max(best, eff[key][3] / (r[4] + r[3]) if r[4] + r[3] > 0 else np.inf)
    return best


def cell(res, err, detect):
    if res is None:
        return "caught (raised %s)" % err.split(":")[0]
    f = res.first_failure()
    if f is None:
        return "not detectable (effect %.2gx)" % detect
    what = f[1] if f[1] in ("params", "loss", "grads") else f[1].replace(" updates", " update")
    return "caught: step %d, %s, %.2gx" % (f[0], what.replace("muon", "Muon"),
                                           f[3] / f[4] if f[4] > 0 else np.inf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lionmuon", default="./lionmuon")
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        srcs = {}
        for label, flags in OPTIMIZERS:
            path = os.path.join(tmp, label + ".st")
            subprocess.run([a.lionmuon, "golden", path] + SMALL + flags, check=True,
                           stdout=subprocess.DEVNULL)
            srcs[label] = vg.Golden(path)
        srcs["step file"] = step_pair(a.lionmuon, tmp)
        print("## the correct implementation (verify_golden.LionMuon), worst err/threshold\n")
        print("| golden | " + " | ".join(PRECS) + " |")
        print("|---|" + "---|" * len(PRECS))
        correct = {}
        for label, src in srcs.items():
            cells = []
            for p in PRECS:
                res, err = run(src, p, vg.LionMuon, label != "step file")
                correct[(label, p)] = rows_by_key(res) if res else {}
                if res is None or not res.ok():
                    failures.append("correct %s in %s: %s" % (label, p, err or vg.describe(res.first_failure())))
                    cells.append("FAIL")
                    continue
                worst = max(r[3] / r[4] if r[4] > 0 else (np.inf if r[3] > 0 else 0) for r in res.rows)
                cells.append("pass (%.2g)" % worst)
            print("| %s | %s |" % (label, " | ".join(cells)))
        print("\n## mutants (LionMuon golden, 4 steps, and a step file; err/threshold)\n")
        print("| mutation | " + " | ".join(PRECS) + " |")
        print("|---|" + "---|" * len(PRECS))
        for M in mutants.MUTANTS:
            effects = {t: run(srcs[t], "f64", M, False) for t in TARGETS}
            cells = []
            for p in PRECS:
                detect, caught, first = 0.0, False, None
                for t in TARGETS:
                    res, err = (effects[t] if p == "f64" else run(srcs[t], p, M, False))
                    eres = effects[t][0]
                    if eres is not None:
                        detect = max(detect, detectability(rows_by_key(eres), correct[(t, p)]))
                    if res is None or not res.ok():
                        caught = True
                        first = first or cell(res, err, detect)
                if caught:
                    cells.append(first)
                else:
                    cells.append(cell(vg.Result(), None, detect))
                if detect > 1 and not caught:
                    failures.append("%s in %s: effect %.3g x (threshold + noise), not caught"
                                    % (M.__name__, p, detect))
            print("| %s: %s | %s |" % (M.__name__, M.__doc__.split("\n")[0].rstrip("."),
                                       " | ".join(cells)))
    print()
    for f in failures:
        print("mutation matrix: FAIL " + f)
    print("mutation matrix: %d mutants x %d precisions, %d correct replays: %s"
          % (len(mutants.MUTANTS), len(PRECS), len(srcs) * len(PRECS),
             "PASS" if not failures else "FAIL (%d)" % len(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
