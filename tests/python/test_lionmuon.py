#!/usr/bin/env python3
"""test_lionmuon.py LIONMUON TMPDIR - the Python package (python/lionmuon/)
against independent computations; run by tests/cli_python.sh.

  msign     svd against U V^T from numpy's SVD (~1e-12); every iterative
            method against `lionmuon msign` on the same matrix through a
            safetensors file (the same code: to 1e-15), and ns5 against a
            numpy transcription of the quintic (theory/algorithms.md §1.2)
  optimizer every member and option for 3 steps against numpy
            implementations of its rule (theory/algorithms.md §2-§4, §7),
            written here from the formulas as tests/fixtures.py writes its
            own, with the current defaults: the LionMuon family, muon-nesterov
            (EMA and SGD forms), AdamW (torch and paper eps, decay on Linear
            weights or all), signmuon-sgd (each sign scaling, Nesterov on and
            off, cheap modes sign, norm and cheap-ns, its fixed side rates),
            the bf16 update rounding (checked against torch when importable);
            the stable-rank trigger (exact, and the seeded estimate the step
            decides by); the settings object; one step per optimizer against
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


def bf16_numpy(x):
    """theory/algorithms.md §7: torch's .to(torch.bfloat16) of a double: to
    float32 (numpy's cast rounds to nearest even), then the float32 bit
    pattern rounded to its top 16 bits, to nearest even (finite values)."""
    f = np.asarray(x, dtype=np.float64).astype(np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    u = np.where(np.isfinite(f), r, u).astype(np.uint32)
    return u.view(np.float32).astype(np.float64)


def keep(u):
    return u


def lionmuon_rule(P, b1, b2, lr_muon, lr_sign, polar, rnd=keep):
    """theory/algorithms.md §2.1 for one matrix; P = 0: never a Muon step;
    rnd: the applied update's rounding (§7)."""
    def step(t, W, G, M, wd):
        C = b1 * M + (1 - b1) * G
        if P > 0 and t % P == 0:
            lr, U = lr_muon, 0.2 * np.sqrt(max(W.shape)) * polar(C)
        else:
            lr, U = lr_sign, sign(C)
        return W * (1 - lr * wd) - lr * rnd(U), b2 * M + (1 - b2) * G
    return step


def nesterov_rule(mu, lr, polar, form="ema", nesterov=True, adjust="original", rnd=keep):
    """theory/algorithms.md §2.4: the EMA form (torch.optim.Muon) or the SGD
    form, a = sqrt(max(1, m/n)) or 0.2 sqrt(max(m, n))."""
    def step(t, W, G, B, wd):
        if form == "sgd":
            B = mu * B + G
            D = G + mu * B
        else:
            B = mu * B + (1 - mu) * G
            D = (1 - mu) * G + mu * B
        if not nesterov:
            D = B
        m, n = W.shape
        a = np.sqrt(max(1.0, m / n)) if adjust == "original" else 0.2 * np.sqrt(max(m, n))
        return W * (1 - lr * wd) - lr * rnd(a * polar(D)), B
    return step


def signmuon_sgd_rule(mu, P, lr_muon, lr_sign, polar, nesterov=True, scaling="none",
                      cheap="sign", cheap_polar=None, rnd=keep):
    """theory/algorithms.md §3, the paper code's second class: SGD momentum
    updated first, Nesterov direction, a cheap step between Muon steps at the
    fixed rate lr_sign (lr_muon already scaled by the caller's lr_scale)."""
    def step(t, W, G, B, wd):
        B = mu * B + G
        D = G + mu * B if nesterov else B
        m, n = W.shape
        big, aspect = np.sqrt(max(m, n)), np.sqrt(max(1.0, m / n))
        if P > 0 and t % P == 0:
            lr, U = lr_muon, 0.2 * big * polar(D)
        elif cheap == "norm":
            lr, U = lr_sign, D / (np.linalg.norm(D) + 1e-7) * np.sqrt(min(m, n)) * aspect
        elif cheap == "cheap-ns":
            lr, U = lr_sign, 0.2 * big * cheap_polar(D)
        elif scaling == "none":
            lr, U = lr_sign, sign(D)
        else:
            lr, U = lr_sign, sign(D) / big * (aspect if scaling == "muon" else 1.0)
        return W * (1 - lr * wd) - lr * rnd(U), B
    return step


def adamw_rule(lr, b1, b2, eps, torch_eps=False):
    """theory/algorithms.md §4, bias-correction count k = t + 1."""
    def step(t, p, g, m, v, wd):
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
    """Each case: name (its first word the optimizer), the settings, the
    matrix rule m (None: AdamW everywhere), the AdamW rule a, the weight
    decay wd and where it applies (decay "all", or "linear": the parameters
    flagged linear, by default the 2-D ones), lr_scale and per-parameter
    linear flags -- with the defaults of theory/algorithms.md §2-§5 written
    out here."""
    svd, ns5, bf = polar_numpy, ns5_numpy, bf16_numpy
    aw = adamw_rule(1e-3, 0.8, 0.999, 1e-8)  # the hybrids' AdamW part (paper eps)
    aw_torch = adamw_rule(5e-4, 0.8, 0.999, 1e-8, torch_eps=True)  # torch.optim.AdamW
    sgd = signmuon_sgd_rule
    return [
        dict(name="lionmuon", settings={"msign": "svd"},
             m=lionmuon_rule(2, 0.9, 0.99, 1e-3, 5e-5, svd), a=aw),
        dict(name="lionmuon P=3 ns5", settings={"period": 3},
             m=lionmuon_rule(3, 0.9, 0.99, 1e-3, 5e-5, ns5), a=aw),
        dict(name="signmuon", settings={"msign": "svd"},
             m=lionmuon_rule(2, 0.9, 0.9, 2e-3, 5e-5, svd), a=aw),
        dict(name="muon (0.9/0.9)", settings={"msign": "svd"},
             m=lionmuon_rule(1, 0.9, 0.9, 1e-3, 5e-5, svd), a=aw),
        dict(name="lion", settings={}, m=lionmuon_rule(0, 0.9, 0.99, 7e-3, 5e-5, svd), a=aw),
        dict(name="signum (beta 0.9, lr_sign 1e-4)", settings={},
             m=lionmuon_rule(0, 0.9, 0.9, 1e-3, 1e-4, svd), a=aw),
        dict(name="muon-nesterov (EMA form)", settings={"msign": "svd"},
             m=nesterov_rule(0.95, 0.02, svd), a=aw),
        dict(name="muon-nesterov momentum_form sgd", settings={"msign": "svd",
                                                               "momentum_form": "sgd"},
             m=nesterov_rule(0.95, 0.02, svd, form="sgd"), a=aw),
        dict(name="muon-nesterov nesterov off, match_rms_adamw, ns5",
             settings={"nesterov": False, "muon_adjust": "match_rms_adamw"},
             m=nesterov_rule(0.95, 0.02, ns5, nesterov=False, adjust="match_rms_adamw"), a=aw),
        dict(name="muon-nesterov round_update bf16", settings={"msign": "svd",
                                                               "round_update": "bf16"},
             m=nesterov_rule(0.95, 0.02, svd, rnd=bf), a=aw),
        dict(name="adamw (torch eps, decay on 2-D only)", settings={}, m=None, a=aw_torch,
             decay="linear"),
        dict(name="adamw linear=False on h.v (torch's no-decay group)", settings={}, m=None,
             a=aw_torch, decay="linear", linear={"h.v": False}),
        dict(name="adamw adamw_eps_mode paper, decay_on all (the earlier default)",
             settings={"adamw_eps_mode": "paper", "decay_on": "all"}, m=None,
             a=adamw_rule(5e-4, 0.8, 0.999, 1e-8)),
        dict(name="lionmuon decay_on linear, linear=False on h.w",
             settings={"msign": "svd", "decay_on": "linear"},
             m=lionmuon_rule(2, 0.9, 0.99, 1e-3, 5e-5, svd), a=aw, decay="linear",
             linear={"h.w": False, "gain": True}),
        dict(name="lionmuon lr_scale 0.5 wd 0.05", settings={"msign": "svd",
                                                             "weight_decay": 0.05},
             m=lionmuon_rule(2, 0.9, 0.99, 5e-4, 2.5e-5, svd), a=adamw_rule(5e-4, 0.8, 0.999, 1e-8),
             wd=0.05, lr_scale=0.5),
        dict(name="lionmuon round_update bf16", settings={"msign": "svd", "round_update": "bf16"},
             m=lionmuon_rule(2, 0.9, 0.99, 1e-3, 5e-5, svd, rnd=bf), a=aw),
        dict(name="signmuon-sgd (mu 0.95, P 2, 2e-3 / 2e-5, raw sign)", settings={"msign": "svd"},
             m=sgd(0.95, 2, 2e-3, 2e-5, svd), a=aw),
        dict(name="sign_muon nesterov off", settings={"msign": "svd", "nesterov": "off"},
             m=sgd(0.95, 2, 2e-3, 2e-5, svd, nesterov=False), a=aw),
        dict(name="signmuon-sgd sign_scaling muon", settings={"msign": "svd",
                                                             "sign_scaling": "muon"},
             m=sgd(0.95, 2, 2e-3, 2e-5, svd, scaling="muon"), a=aw),
        dict(name="signmuon-sgd sign_scaling frob, round_update bf16",
             settings={"msign": "svd", "sign_scaling": "frob", "round_update": "bf16"},
             m=sgd(0.95, 2, 2e-3, 2e-5, svd, scaling="frob", rnd=bf), a=aw),
        dict(name="signmuon-sgd cheap_mode norm", settings={"msign": "svd", "cheap_mode": "norm"},
             m=sgd(0.95, 2, 2e-3, 2e-5, svd, cheap="norm"), a=aw),
        dict(name="signmuon-sgd cheap_mode norm, nesterov off, round_update bf16",
             settings={"msign": "svd", "cheap_mode": "norm", "nesterov": False,
                       "round_update": "bf16"},
             m=sgd(0.95, 2, 2e-3, 2e-5, svd, nesterov=False, cheap="norm", rnd=bf), a=aw),
        dict(name="signmuon-sgd cheap_mode cheap-ns (ns5, 3 cheap steps)",
             settings={"cheap_mode": "cheap-ns", "cheap_ns_steps": 3},
             m=sgd(0.95, 2, 2e-3, 2e-5, ns5, cheap="cheap-ns",
                   cheap_polar=lambda D: ns5_numpy(D, 3)), a=aw),
        # the schedule scales lr_muon alone: the cheap and AdamW rates stay fixed
        dict(name="signmuon-sgd period 3, lr_scale 0.5", settings={"msign": "svd", "period": 3},
             m=sgd(0.95, 3, 1e-3, 2e-5, svd), a=aw, lr_scale=0.5),
    ]


def test_optimizers(rng):
    shapes = {"h.w": (6, 4), "h.v": (3, 8), "gain": (5,)}
    for case in family_cases():
        name, mrule, arule = case["name"], case["m"], case["a"]
        kind = name.split()[0]
        lin = case.get("linear", {})
        opt = lionmuon.Optimizer(kind, **case["settings"])
        for k, s in shapes.items():
            opt.add_param(k, s, linear=lin.get(k))
        linear = {k: lin.get(k, len(s) == 2) for k, s in shapes.items()}
        wd = {k: case.get("wd", 0.1) if case.get("decay", "all") == "all" or linear[k] else 0.0
              for k in shapes}
        params = {k: rng.standard_normal(s) for k, s in shapes.items()}
        want = {k: v.copy() for k, v in params.items()}
        st = {k: [np.zeros(s)] if (mrule and len(s) == 2) else [np.zeros(s), np.zeros(s)]
              for k, s in shapes.items()}
        worst, took = 0.0, []
        for t in range(3):
            grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
            params = opt.step(params, grads, lr_scale=case.get("lr_scale", 1.0))
            took.append(opt.took["h.w"])
            for k in shapes:
                if mrule and len(shapes[k]) == 2:
                    want[k], st[k][0] = mrule(t, want[k], grads[k], st[k][0], wd[k])
                else:
                    want[k], st[k][0], st[k][1] = arule(t, want[k], grads[k], *st[k], wd[k])
                scale = max(1.0, float(np.max(np.abs(want[k]))))
                worst = max(worst, maxdiff(params[k], want[k]) / scale)
        sworst = 0.0
        for k in shapes:
            got = opt.state(k)
            bufs = list(got.values())
            sworst = max(sworst, max(maxdiff(a, b) for a, b in zip(bufs, st[k])))
        flags = all(opt.linear(k) == linear[k] for k in shapes)
        check("%s: 3 steps equal the numpy rule (params %.1e, state %.1e <= 1e-13; steps %s)"
              % (name, worst, sworst, "/".join(took)),
              worst <= 1e-13 and sworst <= 1e-13 and flags,
              "params %.3g, state %.3g, linear flags %s" % (worst, sworst, flags))
        opt.close()


def test_bf16():
    """The numpy rounding against torch's, on ties, double roundings and
    values across the range."""
    x = np.array([1.0, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, -(1 + 2.0 ** -8), 1 + 2.0 ** -8 + 2.0 ** -30,
                  1 + 2.0 ** -8 + 2.0 ** -20, 0.0, -0.0, 3.0e38, 1e-40, -2.5e-42, 0.1, -1 / 3.0])
    x = np.concatenate([x, np.random.default_rng(5).standard_normal(2000)
                        * 10.0 ** np.random.default_rng(6).integers(-30, 30, 2000)])
    r = bf16_numpy(x)
    check("bf16: ties to even, and double -> float32 -> bf16 (1 + 2^-8 + 2^-30 -> 1)",
          r[1] == 1.0 and r[2] == 1 + 2.0 ** -6 and r[3] == -1.0 and r[4] == 1.0
          and r[5] == 1 + 2.0 ** -7, str(r[:6]))
    try:
        import torch
    except ImportError:
        print("  skip bf16 against torch (torch is not importable)")
        return
    t = torch.from_numpy(x).to(torch.float32).to(torch.bfloat16).to(torch.float64).numpy()
    bad = int(np.sum(t != r))
    check("bf16: the numpy rounding equals torch's .to(float32).to(bfloat16) on %d values "
          "(%d differ)" % (x.size, bad), bad == 0)


def srank_numpy(C, iters=3):
    """lm_stable_rank: power iterations on C^T C from v_j = 1 + j/n."""
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


def srank_exact_numpy(X):
    """The trigger's s(X) with the exact ||X||_2 (srank_exact), §2.3."""
    return np.linalg.norm(X) ** 2 / (np.linalg.svd(X, compute_uv=False)[0] ** 2 + 1e-12)


def test_trigger(rng):
    # a nearly rank-one matrix (low stable rank) and a Gaussian one (high)
    low = np.outer(rng.standard_normal(8), rng.standard_normal(6)) + 1e-3 * rng.standard_normal((8, 6))
    high = rng.standard_normal((8, 6))
    d = abs(lionmuon.stable_rank(high) - srank_numpy(high)) / srank_numpy(high)
    check("stable_rank equals the numpy power iteration (rel %.1e <= 1e-12)" % d, d <= 1e-12)
    alpha = 0.3  # Muon when srank <= 0.3 * 6 = 1.8
    M = rng.standard_normal((8, 6))
    opt = lionmuon.Optimizer("lionmuon", srank_alpha=alpha, srank_exact=True, msign="svd")
    opt.add_param("low", low.shape)
    opt.add_param("high", high.shape)
    opt.set_state("high", {"momentum": M})
    s_low, mu_low = opt.trigger("low", low / 0.1)  # C = 0.1 G with M = 0
    s_high, mu_high = opt.trigger("high", high, t=0)
    want_low = srank_exact_numpy(0.9 * np.zeros_like(low) + (1 - 0.9) * (low / 0.1))
    want_high = srank_exact_numpy(0.9 * M + (1 - 0.9) * high)
    check("trigger, srank_exact: the direction's stable rank (%.3f, %.3f) and the decisions "
          "(Muon, Lion)" % (s_low, s_high),
          mu_low and not mu_high and abs(s_high - want_high) <= 1e-12 * want_high
          and abs(s_low - want_low) <= 1e-12 * want_low,
          "low %.6g (want %.6g) %s, high %.6g (want %.6g) %s"
          % (s_low, want_low, mu_low, s_high, want_high, mu_high))
    opt.step({"low": np.zeros_like(low), "high": np.zeros_like(high)},
             {"low": low / 0.1, "high": high}, t=0)
    check("the step takes the trigger's decisions (low: muon, high: lion)",
          opt.took == {"low": "muon", "high": "lion"}, str(opt.took))

    # the seeded power iteration (§2.3): reproducible, seed-dependent, an
    # overestimate of the exact s, and the very number the step decides by
    def seeded(seed, a=alpha):
        o = lionmuon.Optimizer("lionmuon", srank_alpha=a, msign="svd", seed=seed)
        o.add_param("high", high.shape)
        o.set_state("high", {"momentum": M})
        return o
    s1, s1b = seeded(7).trigger("high", high, t=3)[0], seeded(7).trigger("high", high, t=3)[0]
    s2 = seeded(8).trigger("high", high, t=3)[0]
    check("trigger: the seeded estimate is reproducible, depends on the seed, and lies in "
          "[exact, 1.5 exact] (%.4f, %.4f; exact %.4f)" % (s1, s2, want_high),
          s1 == s1b and s1 != s2 and want_high * (1 - 1e-12) <= min(s1, s2)
          and max(s1, s2) <= 1.5 * want_high, "%r %r %r" % (s1, s1b, s2))
    decisions = []
    for f in (1 + 1e-9, 1 - 1e-9):  # alpha min(m, n) just above, just below the estimate
        o = seeded(7, s1 / 6 * f)
        pred = o.trigger("high", high, t=3)[1]
        o.step({"high": np.zeros_like(high)}, {"high": high}, t=3)
        decisions.append((pred, o.took["high"]))
    check("the step decides by the trigger's estimate itself (alpha at the estimate "
          "+-1e-9: %s)" % decisions, decisions == [(True, "muon"), (False, "lion")])

    # the second class looks at the momentum after its update, mu M + G
    o = lionmuon.Optimizer("signmuon-sgd", srank_alpha=alpha, srank_exact=True, msign="svd")
    o.add_param("high", high.shape)
    o.set_state("high", {"momentum": M})
    s, mu = o.trigger("high", high, t=1)
    want = srank_exact_numpy(0.95 * M + high)
    check("trigger of signmuon-sgd: the stable rank of mu M + G (%.4f)" % s,
          abs(s - want) <= 1e-12 * want and mu == (want <= alpha * 6), "%r want %r" % (s, want))
    o = lionmuon.Optimizer("muon-nesterov")
    o.add_param("w", (3, 3))
    check("muon-nesterov: the trigger always says Muon", o.trigger("w", high[:3, :3], t=5)[1])
    opt = lionmuon.Optimizer("lionmuon", period=2)
    opt.add_param("w", (3, 3))
    check("without srank_alpha the trigger follows t mod P",
          opt.trigger("w", high[:3, :3], t=4)[1] and not opt.trigger("w", high[:3, :3], t=5)[1])


def test_step_vs_tool(rng):
    """One step with state in Python and in `lionmuon step`, per optimizer."""
    cases = [
        ("lionmuon", ["--period", "2"], {"period": 2}, 4, None),
        ("lionmuon", ["--srank-alpha", "0.6"], {"srank_alpha": 0.6}, 5, None),
        ("signmuon-sgd", ["--sign-scaling", "frob", "--round-update", "bf16"],
         {"sign_scaling": "frob", "round_update": "bf16"}, 3, None),
        ("signmuon-sgd", ["--round-update", "bf16"], {"round_update": "bf16"}, 4, None),
        ("muon-nesterov", ["--momentum-form", "sgd", "--nesterov", "off"],
         {"momentum_form": "sgd", "nesterov": False}, 2, None),
        # the tool's tensors carry no layer information: none is a Linear weight
        ("adamw", [], {}, 6, {"w": False, "b": False}),
    ]
    for kind, flags, settings, t, linear in cases:
        params = {"w": rng.standard_normal((5, 7)), "b": rng.standard_normal(7)}
        grads = {"w": rng.standard_normal((5, 7)), "b": rng.standard_normal(7)}
        if kind == "adamw":
            state = {k: {"exp_avg": rng.standard_normal(a.shape),
                         "exp_avg_sq": rng.random(a.shape)} for k, a in params.items()}
        else:
            state = {"w": {"momentum": rng.standard_normal((5, 7))},
                     "b": {"exp_avg": rng.standard_normal(7), "exp_avg_sq": rng.random(7)}}
        f = {"params." + k: v for k, v in params.items()}
        f.update({"grads." + k: v for k, v in grads.items()})
        f.update({"state.%s.%s" % (k, w): a for k, bufs in state.items() for w, a in bufs.items()})
        src = os.path.join(TMP, "step_in.safetensors")
        dst = os.path.join(TMP, "step_out.safetensors")
        lionmuon.save_file(f, src, metadata={"step": str(t)})
        run_lm("step", "--optimizer", kind, *flags, src, dst)
        out = lionmuon.load_file(dst)
        new, new_state = lionmuon.step(kind, params, grads, state=state, t=t, linear=linear,
                                       **settings)
        d = max(maxdiff(new[k], out["params." + k]) for k in params)
        d = max([d] + [maxdiff(a, out["state.%s.%s" % (k, w)])
                       for k, bufs in new_state.items() for w, a in bufs.items()])
        check("step() equals `lionmuon step --optimizer %s %s` with state, t = %d "
              "(%.1e <= 1e-15)" % (kind, " ".join(flags), t, d),
              d <= 1e-15 and out.metadata.get("step") == str(t + 1),
              "diff %.3g, metadata %s" % (d, out.metadata))


def test_config():
    """The settings object: every key, null where the optimizer does not read
    it, and a round trip through Optimizer(**config)."""
    same, nulls = [], []
    for kind in lionmuon.OPTIMIZERS:
        cfg = lionmuon.Optimizer(kind).config
        same.append(lionmuon.Optimizer(**cfg).config == cfg)
        nulls.append(sorted(k for k, v in cfg.items() if v is None))
    check("config round-trips through Optimizer(**config) for every optimizer", all(same),
          str(same))
    check("config: null for the settings an optimizer does not read",
          nulls[lionmuon.OPTIMIZERS.index("lionmuon")] == [
              "cheap_mode", "cheap_ns_steps", "momentum_form", "muon_adjust", "nesterov",
              "sign_scaling"]
          and nulls[lionmuon.OPTIMIZERS.index("signmuon-sgd")] == ["momentum_form",
                                                                   "muon_adjust"]
          and nulls[lionmuon.OPTIMIZERS.index("muon-nesterov")] == [
              "cheap_mode", "cheap_ns_steps", "sign_scaling"], str(nulls))
    c = lionmuon.Optimizer("sign_muon", **{"cheap-mode": "norm", "sign_scaling": "muon",
                                           "nesterov": "off", "srank-alpha": 0.01,
                                           "srank_exact": True, "seed": 9}).config
    check("config of signmuon-sgd: its defaults and the given settings (dashes or "
          "underscores)",
          c["optimizer"] == "signmuon-sgd" and c["beta1"] == 0.95 and c["beta2"] == 0.95
          and c["lr_muon"] == 2e-3 and c["lr_sign"] == 2e-5 and c["period"] == 2
          and c["cheap_mode"] == "norm" and c["sign_scaling"] == "muon"
          and c["nesterov"] == "off" and c["srank_exact"] is True and c["seed"] == 9
          and c["decay_on"] == "all" and c["round_update"] == "none", str(c))
    c = lionmuon.Optimizer("adamw").config
    check("config of adamw: torch eps, decay on Linear weights, lr 5e-4",
          c["adamw_eps_mode"] == "torch" and c["decay_on"] == "linear"
          and c["lr_adamw"] == 5e-4, str(c))
    c = lionmuon.Optimizer("muon-nesterov").config
    check("config of muon-nesterov: EMA form, original adjust, mu 0.95, lr 0.02",
          c["momentum_form"] == "ema" and c["muon_adjust"] == "original"
          and c["nesterov"] == "on" and c["beta1"] == 0.95 and c["lr_muon"] == 0.02, str(c))
    c = lionmuon.Optimizer("lionmuon", msign="cubic").config
    check("config: cubic's iteration cap is 100 unless ns_steps is given",
          c["ns_steps"] == 100
          and lionmuon.Optimizer("lionmuon", msign="cubic", ns_steps=7).config["ns_steps"] == 7)


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
    # the command line's rules (opt_config_finish), with messages naming the keys
    raises("signmuon-sgd with its own beta2", "beta2: signmuon-sgd uses beta2 = beta1; give "
           "beta1 only", lambda: lionmuon.Optimizer("signmuon-sgd", beta2=0.5))
    raises("muon-nesterov with a period", "period: muon-nesterov takes a Muon step every step",
           lambda: lionmuon.Optimizer("muon-nesterov", period=2))
    raises("nesterov for an optimizer that does not read it", "nesterov: lionmuon does not "
           "use it", lambda: lionmuon.Optimizer("lionmuon", nesterov=True))
    raises("momentum_form for signmuon-sgd", "momentum_form: signmuon-sgd does not use it",
           lambda: lionmuon.Optimizer("signmuon-sgd", momentum_form="sgd"))
    raises("cheap_ns_steps without signmuon-sgd", "cheap_ns_steps: muon does not use it",
           lambda: lionmuon.Optimizer("muon", cheap_ns_steps=3))
    raises("srank_exact without the trigger", "srank_exact: the trigger is off (give "
           "srank_alpha > 0)", lambda: lionmuon.Optimizer("lionmuon", srank_exact=True))
    raises("an unknown choice lists the values", "decay_on: unknown mode 'some' (all|linear)",
           lambda: lionmuon.Optimizer("adamw", decay_on="some"))
    raises("an unknown cheap mode", "cheap_mode: unknown mode 'cached'",
           lambda: lionmuon.Optimizer("signmuon-sgd", cheap_mode="cached"))
    raises("a range check names the key", "cheap_ns_steps must be an integer >= 1",
           lambda: lionmuon.Optimizer("signmuon-sgd", cheap_ns_steps=0))
    raises("lr times weight decay >= 1 names the key", "weight_decay times the largest",
           lambda: lionmuon.Optimizer("lionmuon", lr_muon=0.5, weight_decay=2))
    raises("msign_tol <= 0", "msign_tol must be finite and > 0",
           lambda: lionmuon.Optimizer("lionmuon", msign_tol=0))
    raises("a key given with a dash and an underscore", "given twice",
           lambda: lionmuon.Optimizer("lionmuon", **{"lr-muon": 1e-3, "lr_muon": 1e-3}))
    raises("a long unknown key", "unknown key 'lr_" + "x" * 100,
           lambda: lionmuon.Optimizer("lionmuon", **{"lr_" + "x" * 100: 1}))
    raises("a wrong type for a choice", "round_update must be a string",
           lambda: lionmuon.Optimizer("lionmuon", round_update=1))
    raises("srank_exact must be a boolean", "srank_exact must be true or false",
           lambda: lionmuon.Optimizer("lionmuon", srank_alpha=0.1, srank_exact="yes"))
    raises("a bad linear flag", "linear must be None, True or False",
           lambda: lionmuon.Optimizer("adamw").add_param("w", (2, 2), linear="no"))
    check("keys with dashes: lr-muon sets lr_muon",
          lionmuon.Optimizer("lionmuon", **{"lr-muon": 0.004}).config["lr_muon"] == 0.004)
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
    test_bf16()
    test_config()
    test_compare()
    test_lib_override()
    print("python: %d passed, %d failed" % (NPASS, NFAIL))
    return 1 if NFAIL else 0


if __name__ == "__main__":
    sys.exit(main())
