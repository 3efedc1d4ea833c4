#!/usr/bin/env python3
"""test_lionmuon.py LIONMUON TMPDIR - the Python package (python/lionmuon/)
against independent computations; run by tests/cli_python.sh.

  msign     svd against U V^T from numpy's SVD (~1e-12); every iterative
            method against `lionmuon msign` on the same matrix through a
            safetensors file (the same code: to 1e-15), and ns5 against a
            numpy transcription of the quintic (theory/algorithms.md §1.2)
  optimizer every member for 3 steps against numpy implementations of its
            rule (theory/algorithms.md §2, §4), written here from the
            formulas as tests/fixtures.py writes its own; the stable-rank
            trigger against a numpy power iteration; one step against
            `lionmuon step`
  compare, safetensors, errors (LionMuonError carrying the C message, a
            failed step changing nothing), LIONMUON_LIB.
Prints "  ok   NAME" / "  FAIL NAME (why)" per check; exits 1 on a failure."""
import os
import subprocess
import sys
import threading

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
import lionmuon  # noqa: E402
from lionmuon import LionMuonError  # noqa: E402

LM, TMP = sys.argv[1], sys.argv[2]
NPASS = NFAIL = 0


def check(name, cond, why=""):
    global NPASS, NFAIL
    if cond:
        NPASS += 1
        print("  ok   " + name)
    else:
        NFAIL += 1
        print("  FAIL %s (%s)" % (name, why))


def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) if np.size(a) else 0.0


def raises(name, pattern, fn):
    """fn() must raise LionMuonError whose message contains pattern."""
    try:
        fn()
    except LionMuonError as e:
        check(name, pattern in str(e), "message %r lacks %r" % (str(e), pattern))
        return
    except Exception as e:  # noqa: BLE001 - any other type is the failure reported
        check(name, False, "raised %s: %s" % (type(e).__name__, e))
        return
    check(name, False, "no exception")


def run_lm(*args):
    r = subprocess.run([LM] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


# ---- msign ----------------------------------------------------------------

def polar_numpy(a, rtol=None):
    """U V^T over the singular values above rtol sigma_max (numpy SVD)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    rtol = max(a.shape) * np.finfo(float).eps if rtol is None else rtol
    r = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    return u[:, :r] @ vt[:r]


def ns5_numpy(g, steps=5):
    """Keller Jordan's quintic, as theory/algorithms.md §1.2 states it."""
    a, b, c = 3.4445, -4.7750, 2.0315
    tall = g.shape[0] > g.shape[1]
    x = (g.T if tall else g) / (np.linalg.norm(g) + 1e-7)
    for _ in range(steps):
        A = x @ x.T
        x = a * x + (b * A + c * A @ A) @ x
    return x.T if tall else x


def test_msign(rng):
    shapes = [(6, 6), (4, 9), (11, 5), (1, 7), (30, 20)]
    worst = 0.0
    for m, n in shapes:
        g = rng.standard_normal((m, n))
        worst = max(worst, maxdiff(lionmuon.msign(g, "svd"), polar_numpy(g)))
    check("msign svd equals numpy's U V^T on %d random shapes (max |diff| %.1e <= 1e-12)"
          % (len(shapes), worst), worst <= 1e-12, "max |diff| %.3g" % worst)
    # rank-deficient: a rank-2 6 x 5 gives the partial isometry of its range
    g = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
    r = lionmuon.msign(g, "svd", info=True)
    check("msign svd of a rank-2 matrix keeps rank 2 and is numpy's partial isometry",
          r.rank == 2 and maxdiff(r.out, polar_numpy(g)) <= 1e-12,
          "rank %d, diff %.3g" % (r.rank, maxdiff(r.out, polar_numpy(g))))
    check("msign of zero is zero", maxdiff(lionmuon.msign(np.zeros((3, 4))), 0) == 0)
    g = rng.standard_normal((7, 5))
    worst = maxdiff(lionmuon.msign(g, "cubic"), polar_numpy(g))
    check("msign cubic converges to numpy's U V^T (%.1e <= 1e-12)" % worst, worst <= 1e-12)
    worst = maxdiff(lionmuon.msign(g, "ns5"), ns5_numpy(g))
    check("msign ns5 equals a numpy transcription of the quintic (%.1e <= 1e-13)" % worst,
          worst <= 1e-13)
    worst = maxdiff(lionmuon.msign(g, "ns5", steps=8), ns5_numpy(g, 8))
    check("msign ns5 steps=8 equals the transcription (%.1e <= 1e-13)" % worst, worst <= 1e-13)

    # every method and option against the command-line tool's output file
    cases = [("svd", [], {}), ("ns5", [], {}), ("ns5", ["--steps", "7"], {"steps": 7}),
             ("cubic", [], {}), ("cubic", ["--tol", "1e-9"], {"tol": 1e-9}),
             ("polar-express", [], {}), ("polar-express", ["--steps", "3"], {"steps": 3}),
             ("svd", ["--rank-rtol", "0.5"], {"rank_rtol": 0.5})]
    for shape in [(9, 6), (5, 12)]:
        g = rng.standard_normal(shape)
        src = os.path.join(TMP, "msign_in.safetensors")
        lionmuon.save_file({"g": g}, src)
        for method, flags, kw in cases:
            dst = os.path.join(TMP, "msign_out.safetensors")
            run_lm("msign", "--method", method, *flags, src, dst)
            want = lionmuon.load_file(dst)["g"]
            got = lionmuon.msign(g, method, **kw)
            d = maxdiff(got, want)
            check("msign %s %s %s equals `lionmuon msign` (%.1e <= 1e-15)"
                  % (method, " ".join(flags), shape, d), d <= 1e-15, "max |diff| %.3g" % d)


# ---- the optimizer family, in numpy ------------------------------------------

def sign(x):
    return np.sign(x)  # sign(0) = 0, as torch.sign


def lionmuon_rule(P, b1, b2, lr_muon, lr_sign, wd, polar):
    """theory/algorithms.md §2.1 for one matrix; P = 0: never a Muon step."""
    def step(t, W, G, M):
        C = b1 * M + (1 - b1) * G
        if P > 0 and t % P == 0:
            lr, U = lr_muon, 0.2 * np.sqrt(max(W.shape)) * polar(C)
        else:
            lr, U = lr_sign, sign(C)
        return W * (1 - lr * wd) - lr * U, b2 * M + (1 - b2) * G
    return step


def nesterov_rule(mu, lr, wd, polar):
    """theory/algorithms.md §2.4."""
    def step(t, W, G, B):
        B = mu * B + G
        D = G + mu * B
        m, n = W.shape
        return W * (1 - lr * wd) - lr * np.sqrt(max(1.0, m / n)) * polar(D), B
    return step


def adamw_rule(lr, b1, b2, eps, wd, torch_eps=False):
    """theory/algorithms.md §4, bias-correction count k = t + 1."""
    def step(t, p, g, m, v):
        k = t + 1
        m = m + (1 - b1) * (g - m)
        v = v + (1 - b2) * (g * g - v)
        bc1, bc2 = 1 - b1 ** k, 1 - b2 ** k
        p = p * (1 - lr * wd)
        if torch_eps:
            p = p - lr / bc1 * m / (np.sqrt(v) / np.sqrt(bc2) + eps)
        else:
            p = p - lr * np.sqrt(bc2) / bc1 * m / (eps + np.sqrt(v))
        return p, m, v
    return step


def family_cases():
    """(name, settings, matrix rule or None for AdamW everywhere, AdamW rule)
    with the paper defaults of theory/algorithms.md §5 written out here."""
    svd = lambda C: polar_numpy(C)  # noqa: E731
    ns5 = ns5_numpy
    aw = adamw_rule(1e-3, 0.8, 0.999, 1e-8, 0.1)
    return [
        ("lionmuon", {"msign": "svd"}, lionmuon_rule(2, 0.9, 0.99, 1e-3, 5e-5, 0.1, svd), aw),
        ("lionmuon P=3 ns5", {"period": 3}, lionmuon_rule(3, 0.9, 0.99, 1e-3, 5e-5, 0.1, ns5), aw),
        ("signmuon", {"msign": "svd"}, lionmuon_rule(2, 0.9, 0.9, 2e-3, 5e-5, 0.1, svd), aw),
        ("muon", {"msign": "svd"}, lionmuon_rule(1, 0.95, 0.95, 1e-3, 5e-5, 0.1, svd), aw),
        ("lion", {}, lionmuon_rule(0, 0.9, 0.99, 1e-3, 5e-5, 0.1, svd), aw),
        ("signum", {}, lionmuon_rule(0, 0.95, 0.95, 1e-3, 5e-5, 0.1, svd), aw),
        ("muon-nesterov", {"msign": "svd"}, nesterov_rule(0.95, 0.02, 0.1, svd), aw),
        ("adamw", {}, None, adamw_rule(5e-4, 0.8, 0.999, 1e-8, 0.1)),
        ("adamw torch eps", {"adamw_eps_mode": "torch"}, None,
         adamw_rule(5e-4, 0.8, 0.999, 1e-8, 0.1, torch_eps=True)),
        ("lionmuon lr_scale 0.5 wd 0.05", {"msign": "svd", "weight_decay": 0.05,
                                           "_lr_scale": 0.5},
         lionmuon_rule(2, 0.9, 0.99, 5e-4, 2.5e-5, 0.05, svd),
         adamw_rule(5e-4, 0.8, 0.999, 1e-8, 0.05)),
    ]


def test_optimizers(rng):
    shapes = {"h.w": (6, 4), "h.v": (3, 8), "gain": (5,)}
    for name, settings, mrule, arule in family_cases():
        settings = dict(settings)
        lr_scale = settings.pop("_lr_scale", 1.0)
        kind = name.split()[0]
        opt = lionmuon.Optimizer(kind, **settings)
        params = {k: rng.standard_normal(s) for k, s in shapes.items()}
        want = {k: v.copy() for k, v in params.items()}
        st = {k: [np.zeros(s)] if (mrule and len(s) == 2) else [np.zeros(s), np.zeros(s)]
              for k, s in shapes.items()}
        worst, took = 0.0, []
        for t in range(3):
            grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
            params = opt.step(params, grads, lr_scale=lr_scale)
            took.append(opt.took["h.w"])
            for k in shapes:
                if mrule and len(shapes[k]) == 2:
                    want[k], st[k][0] = mrule(t, want[k], grads[k], st[k][0])
                else:
                    want[k], st[k][0], st[k][1] = arule(t, want[k], grads[k], *st[k])
                scale = max(1.0, float(np.max(np.abs(want[k]))))
                worst = max(worst, maxdiff(params[k], want[k]) / scale)
        sworst = 0.0
        for k in shapes:
            got = opt.state(k)
            bufs = list(got.values())
            sworst = max(sworst, max(maxdiff(a, b) for a, b in zip(bufs, st[k])))
        check("%s: 3 steps equal the numpy rule (params %.1e, state %.1e <= 1e-13; steps %s)"
              % (name, worst, sworst, "/".join(took)), worst <= 1e-13 and sworst <= 1e-13,
              "params %.3g, state %.3g" % (worst, sworst))
        opt.close()


def srank_numpy(C, iters=3):
    """theory/algorithms.md §2.3: power iterations on C^T C from v_j = 1 + j/n."""
    m, n = C.shape
    v = 1.0 + np.arange(n) / n
    v /= np.linalg.norm(v)
    est = 0.0
    for _ in range(iters):
        u = C @ v
        est = np.linalg.norm(u)
        v = C.T @ u
        v /= np.linalg.norm(v)
    s2 = max(np.linalg.norm(C @ v), est)
    return np.linalg.norm(C) ** 2 / s2 ** 2


def test_trigger(rng):
    # a nearly rank-one matrix (low stable rank) and a Gaussian one (high)
    low = np.outer(rng.standard_normal(8), rng.standard_normal(6)) + 1e-3 * rng.standard_normal((8, 6))
    high = rng.standard_normal((8, 6))
    d = abs(lionmuon.stable_rank(high) - srank_numpy(high)) / srank_numpy(high)
    check("stable_rank equals the numpy power iteration (rel %.1e <= 1e-12)" % d, d <= 1e-12)
    alpha = 0.3  # Muon when srank <= 0.3 * 6 = 1.8
    opt = lionmuon.Optimizer("lionmuon", srank_alpha=alpha, msign="svd")
    opt.add_param("low", low.shape)
    opt.add_param("high", high.shape)
    M = rng.standard_normal((8, 6))
    opt.set_state("high", {"momentum": M})
    s_low, mu_low = opt.trigger("low", low / 0.1)  # C = 0.1 G with M = 0
    s_high, mu_high = opt.trigger("high", high, t=0)
    want_high = srank_numpy(0.9 * M + 0.1 * high)
    check("trigger: the direction's stable rank (%.3f, %.3f) and the decisions (Muon, Lion)"
          % (s_low, s_high),
          mu_low and not mu_high and abs(s_high - want_high) <= 1e-12 * want_high
          and abs(s_low - srank_numpy(low)) <= 1e-9 * s_low,
          "low %.6g %s, high %.6g (want %.6g) %s" % (s_low, mu_low, s_high, want_high, mu_high))
    opt.step({"low": np.zeros_like(low), "high": np.zeros_like(high)},
             {"low": low / 0.1, "high": high}, t=0)
    check("the step takes the trigger's decisions (low: muon, high: lion)",
          opt.took == {"low": "muon", "high": "lion"}, str(opt.took))
    opt = lionmuon.Optimizer("lionmuon", period=2)
    opt.add_param("w", (3, 3))
    check("without srank_alpha the trigger follows t mod P",
          opt.trigger("w", high[:3, :3], t=4)[1] and not opt.trigger("w", high[:3, :3], t=5)[1])


def test_step_vs_tool(rng):
    """One lionmuon step (ns5) with state in Python and in `lionmuon step`."""
    params = {"w": rng.standard_normal((5, 7)), "b": rng.standard_normal(7)}
    grads = {"w": rng.standard_normal((5, 7)), "b": rng.standard_normal(7)}
    state = {"w": {"momentum": rng.standard_normal((5, 7))},
             "b": {"exp_avg": rng.standard_normal(7), "exp_avg_sq": rng.random(7)}}
    f = {"params." + k: v for k, v in params.items()}
    f.update({"grads." + k: v for k, v in grads.items()})
    f.update({"state.%s.%s" % (k, w): a for k, bufs in state.items() for w, a in bufs.items()})
    src, dst = os.path.join(TMP, "step_in.safetensors"), os.path.join(TMP, "step_out.safetensors")
    lionmuon.save_file(f, src, metadata={"step": "4"})
    run_lm("step", "--optimizer", "lionmuon", "--period", "2", src, dst)
    out = lionmuon.load_file(dst)
    new, new_state = lionmuon.step("lionmuon", params, grads, state=state, t=4, period=2)
    d = max(maxdiff(new[k], out["params." + k]) for k in params)
    d = max([d] + [maxdiff(a, out["state.%s.%s" % (k, w)])
                   for k, bufs in new_state.items() for w, a in bufs.items()])
    check("step() equals `lionmuon step` with state, t = 4 (%.1e <= 1e-15)" % d, d <= 1e-15)
    check("the tool's output says step 5", out.metadata.get("step") == "5", str(out.metadata))


# ---- compare and safetensors --------------------------------------------------

def test_compare():
    b = np.array([[1.0, 2.0], [3.0, 4.0]])
    a = b + np.array([[0, 1e-3], [0, -2e-3]])
    r = lionmuon.compare(a, b, rtol=0, atol=1e-3)
    check("compare: max_abs, worst index, rel Frobenius, one element outside",
          not r.passed and abs(r.max_abs - 2e-3) < 1e-15 and r.worst == (1, 1) and r.n_bad == 1
          and r.first_bad == 3 and abs(r.rel_frobenius - np.sqrt(5e-6 / 30)) < 1e-15,
          str(r))
    check("compare passes within tolerance", bool(lionmuon.compare(a, b, rtol=1e-3, atol=0)))
    r = lionmuon.compare([1.0, np.nan], [1.0, np.nan])
    check("compare: NaN never passes, even against NaN",
          not r.passed and np.isnan(r.max_abs) and r.worst_index == 1, str(r))
    r = lionmuon.compare([np.inf, 1.0], [np.inf, 1.0], rtol=0, atol=0)
    check("compare: equal infinities pass", r.passed and r.max_abs == 0, str(r))
    raises("compare of different shapes raises", "shapes differ",
           lambda: lionmuon.compare(np.zeros((2, 3)), np.zeros((3, 2))))
    raises("compare with a negative tolerance raises", "rtol",
           lambda: lionmuon.compare([1.0], [1.0], rtol=-1))


def test_safetensors(rng):
    p = os.path.join(TMP, "rt.safetensors")
    t = {"a": rng.standard_normal((3, 4)), "i": np.arange(6, dtype=np.int32).reshape(2, 3),
         "s": np.array(2.5), "e": np.zeros((0, 3)), "x.y": rng.standard_normal(5)}
    lionmuon.save_file(t, p, metadata={"step": "7", "who": "test"})
    r = lionmuon.load_file(p)
    check("save_file/load_file round trip: values, order, integers, scalar, empty, metadata",
          list(r) == list(t) and all(np.array_equal(r[k], t[k]) for k in t)
          and r["i"].dtype == np.int64 and r["s"].shape == () and r["e"].shape == (0, 3)
          and r.metadata == {"step": "7", "who": "test"} and r.dtypes["i"] == "I64"
          and r.dtypes["a"] == "F64", "%s %s" % (dict(r.dtypes), r.metadata))
    lionmuon.save_file({"f": np.array([0.1, 1.5])}, p, dtype="F32")
    r = lionmuon.load_file(p)
    check("F32 files store float32 values and load them exactly",
          r.dtypes["f"] == "F32" and r["f"][0] == float(np.float32(0.1)) and r["f"][1] == 1.5)
    raises("a missing file raises, naming it", "nope.safetensors",
           lambda: lionmuon.load_file(os.path.join(TMP, "nope.safetensors")))
    with open(p, "rb") as fh:
        whole = fh.read()
    bad = os.path.join(TMP, "trunc.safetensors")
    with open(bad, "wb") as fh:
        fh.write(whole[:-3])
    raises("a truncated file raises, naming it", "trunc.safetensors", lambda: lionmuon.load_file(bad))
    raises("a NaN is refused, naming the tensor", "'n'",
           lambda: lionmuon.save_file({"n": np.array([np.nan])}, os.path.join(TMP, "n.st")))
    check("nothing is left after a refused write", not os.path.exists(os.path.join(TMP, "n.st")))
    raises("non-string metadata is refused", "must be a string",
           lambda: lionmuon.save_file({"a": np.ones(1)}, p, metadata={"k": 3}))


# ---- errors ------------------------------------------------------------------

def test_errors(rng):
    raises("unknown msign method", "unknown method 'newton'",
           lambda: lionmuon.msign(np.eye(2), "newton"))
    raises("non-finite msign input names the element", "element 1",
           lambda: lionmuon.msign(np.array([[1.0, np.inf]]), "svd"))
    raises("msign of a 1-D array", "2-D", lambda: lionmuon.msign(np.ones(3)))
    raises("negative msign steps", "steps", lambda: lionmuon.msign(np.eye(2), "ns5", steps=-1))
    raises("unknown optimizer", "unknown optimizer 'sgd'", lambda: lionmuon.Optimizer("sgd"))
    raises("unknown setting names the key", "unknown key 'lr_muonn'",
           lambda: lionmuon.Optimizer("lionmuon", lr_muonn=1))
    raises("beta1 outside [0, 1) names the key", "beta1",
           lambda: lionmuon.Optimizer("lionmuon", beta1=1.5))
    raises("signum with its own beta2", "beta2",
           lambda: lionmuon.Optimizer("signum", beta1=0.9, beta2=0.5))
    raises("muon with a period", "period", lambda: lionmuon.Optimizer("muon", period=2))
    raises("a non-integer period", "period", lambda: lionmuon.Optimizer("lionmuon", period=1.5))
    opt = lionmuon.Optimizer("lionmuon", msign="svd")
    w, g = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    opt.step({"w": w}, {"w": g})
    before = opt.state("w")["momentum"]
    bad = g.copy()
    bad[1, 2] = np.nan
    raises("a non-finite gradient names the tensor and element", "gradient of w: non-finite "
           "value at element 5", lambda: opt.step({"w": w}, {"w": bad}))
    check("a failed step changes neither the state nor the step counter",
          np.array_equal(opt.state("w")["momentum"], before) and opt.t == 1)
    # a failure inside the step (cubic capped at one iteration cannot converge)
    # after other tensors were stepped: every state buffer is restored
    opt3 = lionmuon.Optimizer("lionmuon", msign="cubic", ns_steps=1)
    p3 = {"b": np.ones(3), "w": w}
    opt3.step(p3, {"b": np.ones(3), "w": g}, t=1)  # a Lion step: no msign
    saved = {k: opt3.state(k) for k in p3}
    raises("a failing msign inside the step names the tensor", "w: msign cubic: no convergence",
           lambda: opt3.step(p3, {"b": np.full(3, 2.0), "w": g}))
    check("after a failure inside the step every state buffer is as before",
          all(np.array_equal(opt3.state(k)[b], saved[k][b]) for k in p3 for b in saved[k])
          and opt3.t == 2)
    raises("a missing gradient names it", "missing w", lambda: opt.step({"w": w}, {}))
    raises("a wrong shape names the tensor", "grads w", lambda: opt.step({"w": w}, {"w": g[:2]}))
    raises("parameters after the first step", "before the first step",
           lambda: opt.add_param("late", (2,)))
    raises("AdamW state on a matrix", "follows the matrix rule",
           lambda: opt.set_state("w", {"exp_avg": w}))
    raises("the matrix rule on a 1-D tensor", "needs a 2-D tensor",
           lambda: lionmuon.Optimizer().add_param("b", (4,), rule="matrix"))
    opt2 = lionmuon.Optimizer("adamw")
    opt2.add_param("b", (2,))
    raises("a negative exp_avg_sq", "negative second moment",
           lambda: opt2.set_state("b", {"exp_avg_sq": np.array([1.0, -1.0])}))
    # the message is per thread: a failure on another thread leaves ours alone
    msgs = []

    def other():
        try:
            lionmuon.msign(np.eye(2), "bogus")
        except LionMuonError as e:
            msgs.append(str(e))
    lionmuon.msign(np.eye(2), "svd")
    th = threading.Thread(target=other)
    th.start()
    th.join()
    last = lionmuon._lib.lib.lm_last_error().decode()
    check("lm_last_error is per thread", msgs and "bogus" in msgs[0] and last == "",
          "%r / %r" % (msgs, last))


def test_lib_override():
    env = dict(os.environ, LIONMUON_LIB=os.path.join(TMP, "no-such-lib.so"),
               PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", "import lionmuon"], env=env, capture_output=True,
                       text=True)
    check("LIONMUON_LIB pointing nowhere fails the import, naming the variable",
          r.returncode != 0 and "LIONMUON_LIB" in r.stderr, r.stderr[-300:])
    env["LIONMUON_LIB"] = os.path.join(ROOT, "build")
    r = subprocess.run([sys.executable, "-c", "import lionmuon; print(lionmuon.library_path)"],
                       env=env, capture_output=True, text=True)
    check("LIONMUON_LIB as a folder loads its liblionmuon.so.0",
          r.returncode == 0 and r.stdout.strip().endswith("build/liblionmuon.so.0"), r.stderr[-300:])


def main():
    rng = np.random.default_rng(20260519)
    for test in (test_msign, test_optimizers, test_trigger, test_step_vs_tool, test_safetensors,
                 test_errors):
        test(rng)
    test_compare()
    test_lib_override()
    print("python: %d passed, %d failed" % (NPASS, NFAIL))
    return 1 if NFAIL else 0


if __name__ == "__main__":
    sys.exit(main())
