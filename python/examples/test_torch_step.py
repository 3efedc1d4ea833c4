"""Hold a PyTorch optimizer step against the reference (pytest style).

`my_lionmuon_step` stands for the implementation under test: here a plain
torch version of the LionMuon rule (theory/algorithms.md §2.1), in float64.
Each test builds the same tensors for it and for the reference, takes one
step with both, and holds the result to the reference's verdict.

    PYTHONPATH=python /usr/bin/python3 -m pytest python/examples/test_torch_step.py
    PYTHONPATH=python /usr/bin/python3 python/examples/test_torch_step.py   # without pytest

The second half shows the same check through files, as a GPU job would do
it: the tensors to `lionmuon step` as safetensors, the torch result to
`lionmuon compare --baseline`, which judges the update by step kind.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import lionmuon

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LM = os.path.join(ROOT, "lionmuon")


def my_lionmuon_step(W, G, M, t, P=2, b1=0.9, b2=0.99, lr_muon=1e-3, lr_sign=5e-5, wd=0.1):
    """The step under test: C = b1 M + (1 - b1) G; a Muon step (msign by SVD)
    when t mod P == 0, else a sign step; decoupled weight decay; then M."""
    C = b1 * M + (1 - b1) * G
    if t % P == 0:
        U, _, Vh = torch.linalg.svd(C, full_matrices=False)
        lr, D = lr_muon, 0.2 * max(W.shape) ** 0.5 * (U @ Vh)
    else:
        lr, D = lr_sign, torch.sign(C)
    return W * (1 - lr * wd) - lr * D, b2 * M + (1 - b2) * G


def tensors(seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(64, 32, dtype=torch.float64, generator=g) for _ in range(3)]


def check_step(t):
    W, G, M = tensors(t)
    mine, _ = my_lionmuon_step(W, G, M, t)
    ref, _ = lionmuon.step("lionmuon", {"w": W.numpy()}, {"w": G.numpy()},
                           state={"w": {"momentum": M.numpy()}}, t=t, msign="svd")
    return lionmuon.compare(mine.numpy(), ref["w"], rtol=1e-12, atol=1e-12)


def test_muon_step():
    assert check_step(0).passed


def test_sign_step():
    assert check_step(1).passed


def through_files(t=0):
    """The same step through `lionmuon step` and `lionmuon compare`."""
    W, G, M = tensors(t)
    mine, mine_m = my_lionmuon_step(W, G, M, t)
    with tempfile.TemporaryDirectory() as d:
        inp, out, a = (os.path.join(d, f) for f in ("in.st", "out.st", "a.st"))
        lionmuon.save_file({"params.w": W.numpy(), "grads.w": G.numpy(),
                            "state.w.momentum": M.numpy()}, inp, metadata={"step": str(t)})
        subprocess.run([LM, "step", "--optimizer", "lionmuon", "--msign", "svd", inp, out],
                       check=True, stdout=subprocess.DEVNULL)
        lionmuon.save_file({"params.w": mine.numpy(), "state.w.momentum": mine_m.numpy()}, a)
        r = subprocess.run([LM, "compare", a, out, "--baseline", inp],
                           capture_output=True, text=True)
        return r.returncode, r.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    for t, kind in ((0, "Muon"), (1, "sign")):
        r = check_step(t)
        print("step t=%d (%s): %s, max |torch - reference| = %.1e"
              % (t, kind, "PASS" if r.passed else "FAIL", r.max_abs))
    code, last = through_files()
    print("lionmuon compare --baseline (exit %d): %s" % (code, last))
    sys.exit(0 if code == 0 and check_step(0).passed and check_step(1).passed else 1)
