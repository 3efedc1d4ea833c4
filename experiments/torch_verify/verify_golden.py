#!/usr/bin/python3
"""verify_golden.py - replay a `lionmuon golden` file in PyTorch and report
the agreement of loss, gradients and parameters.

The model (GPT-2 / LLaMA) and the optimizers (the LionMuon family, classic
Nesterov Muon, AdamW) are written here from their definitions
(theory/models.md and theory/algorithms.md, i.e. the paper's llm-baselines
modules), not translated from the C reference, so agreement is evidence that
both compute the paper's algorithm.

Per step k of the golden file:
  model check      load step.k.params into the torch model, run forward and
                   backward on inputs[k], targets[k]; compare the loss with
                   step.k.loss and every gradient with step.k.grads.NAME
  optimizer check  from step.k.params and step.k.grads (the golden ones, so
                   the optimizer is tested alone), clip and take the step with
                   this script's own optimizer state; compare the result with
                   step.(k+1).params (final.params after the last step), both
                   as parameters and as updates W_{k+1} - W_k
With --free-run the torch model instead trains on its own from step.0.params
(its own gradients, its own updates) and is compared at every step, the way
a GPU training run would drift from the reference.

Errors are relative Frobenius errors per tensor, ||x - x_ref||_F / ||x_ref||_F,
maximised over tensors (and steps); the loss error is |l - l_ref| / |l_ref|.

Usage: /usr/bin/python3 verify_golden.py GOLDEN [--device cpu|cuda]
                            [--dtype float64|float32|bfloat16] [--free-run]
Exit status 0 when every error is within the tolerance of the dtype, 1 when
not, 2 on bad input.  Needs only numpy and torch (>= 1.13); the safetensors
file is read by hand (json + struct).
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import paper_optim  # the second class, grouped AdamW, routings, bf16 rounding, schedules

# ---------------------------------------------------------------------------
# safetensors, read by hand: 8-byte little-endian header length N, N bytes of
# JSON {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, the data.

_NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d beyond the file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + n:]
    out = {}
    for name, d in header.items():
        b, e = d["data_offsets"]
        if not (0 <= b <= e <= len(data)):
            raise ValueError("%s: tensor %s: offsets out of range" % (path, name))
        dt = d["dtype"]
        if dt == "BF16":
            u = np.frombuffer(data[b:e], dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif dt in _NP:
            arr = np.frombuffer(data[b:e], dtype=_NP[dt])
        else:
            raise ValueError("%s: tensor %s: unsupported dtype %s" % (path, name, dt))
        shape = d["shape"]
        if int(np.prod(shape)) != arr.size:
            raise ValueError("%s: tensor %s: shape %s does not match its bytes" % (path, name, shape))
        out[name] = arr.reshape(shape).copy()
    return out, meta


# ---------------------------------------------------------------------------
# The models (theory/models.md): GPT-2 as nanoGPT / llm-baselines GPTBase, LLaMA as
# llm-baselines Llama.  Parameter names equal the state_dict names.

class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch 1.13's nn.LayerNorm always has one)."""

    def __init__(self, C, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
        self.bias = nn.Parameter(torch.zeros(C)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight, eps 1e-5."""

    def __init__(self, C):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))

    def forward(self, x):
        xf = x.float() if x.dtype in (torch.bfloat16, torch.float16) else x
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)
        return y.type_as(x) * self.weight


def rope_tables(hs, T, dtype, device):
    """cos/sin of t * 10000^(-2i/hs), i = 0..hs/2-1, shape (T, hs/2)."""
    inv = 1.0 / (10000.0 ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs))
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    return ang.cos().to(dtype).to(device), ang.sin().to(dtype).to(device)


def apply_rope(x, cos, sin):
    """x (B, T, nh, hs): rotate ADJACENT pairs (x[2i], x[2i+1]) by the angle
    of position t: (a, b) -> (a cos - b sin, a sin + b cos)."""
    B, T, nh, hs = x.shape
    xf = x.float() if x.dtype in (torch.bfloat16, torch.float16) else x
    xp = xf.reshape(B, T, nh, hs // 2, 2)
    a, b = xp[..., 0], xp[..., 1]
    c = cos.to(xf.dtype)[None, :T, None, :]
    s = sin.to(xf.dtype)[None, :T, None, :]
    out = torch.stack((a * c - b * s, a * s + b * c), dim=-1).reshape(B, T, nh, hs)
    return out.type_as(x)


class Attention(nn.Module):
    def __init__(self, C, nh, bias, rope):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C, bias=bias)
        self.c_proj = nn.Linear(C, C, bias=bias)
        self.nh, self.rope = nh, rope

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        nh, hs = self.nh, C // self.nh
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = q.view(B, T, nh, hs), k.view(B, T, nh, hs), v.view(B, T, nh, hs)
        if self.rope:
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(~mask, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, C, bias):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C, bias=bias)
        self.gelu = nn.GELU()  # the exact erf form
        self.c_proj = nn.Linear(4 * C, C, bias=bias)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class SwiGLU(nn.Module):
    def __init__(self, C, multiple_of):
        super().__init__()
        H = multiple_of * ((int(8 * C / 3) + multiple_of - 1) // multiple_of)
        self.w1 = nn.Linear(C, H, bias=False)
        self.w2 = nn.Linear(C, H, bias=False)
        self.c_proj = nn.Linear(H, C, bias=False)

    def forward(self, x):
        return self.c_proj(F.silu(self.w1(x)) * self.w2(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, llama = cfg["n_embd"], cfg["model"] == "llama"
        norm = (lambda: RMSNorm(C)) if llama else (lambda: LayerNorm(C, cfg["bias"]))
        self.ln_1 = norm()
        self.attn = Attention(C, cfg["n_head"], cfg["bias"], llama)
        self.ln_2 = norm()
        self.mlp = SwiGLU(C, cfg["multiple_of"]) if llama else MLP(C, cfg["bias"])

    def forward(self, x, cos, sin):
        x = x + self.attn(self.ln_1(x), cos, sin)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, V, T = cfg["n_embd"], cfg["vocab_size"], cfg["sequence_length"]
        llama = cfg["model"] == "llama"
        mods = dict(wte=nn.Embedding(V, C))
        if not llama:
            mods["wpe"] = nn.Embedding(T, C)
        mods["h"] = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layer"])])
        mods["ln_f"] = RMSNorm(C) if llama else LayerNorm(C, cfg["bias"])
        self.transformer = nn.ModuleDict(mods)
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        self.llama, self.hs = llama, C // cfg["n_head"]
        self.rope = None

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.transformer.wte(idx)
        cos = sin = None
        if self.llama:
            if self.rope is None or self.rope[0].shape[0] < T:
                self.rope = rope_tables(self.hs, T, torch.float64, idx.device)
            cos, sin = self.rope
        else:
            x = x + self.transformer.wpe(torch.arange(T, device=idx.device))
        for blk in self.transformer.h:
            x = blk(x, cos, sin)
        logits = self.lm_head(self.transformer.ln_f(x))
        logits = logits.view(-1, logits.size(-1))
        if logits.dtype in (torch.bfloat16, torch.float16):
            logits = logits.float()
        return F.cross_entropy(logits, targets.view(-1), ignore_index=-1)


# ---------------------------------------------------------------------------
# msign (theory/algorithms.md §1) and the optimizers.

NS5 = (3.4445, -4.7750, 2.0315)
POLAR_EXPRESS = [
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
]


def msign(G, method, steps, ns_dtype):
    """The polar factor U V^T of G, or its Newton-Schulz approximation."""
    if method == "svd":
        U, S, Vh = torch.linalg.svd(G.double(), full_matrices=False)
        tol = max(G.shape) * torch.finfo(torch.float64).eps * (S[0] if S.numel() else 0)
        keep = S > tol
        return (U[:, keep] @ Vh[keep]).to(G.dtype)
    fro = torch.linalg.norm(G)
    if fro == 0:
        return torch.zeros_like(G)
    X = G.to(ns_dtype)
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    if method == "ns5":
        X = X / (torch.linalg.norm(X) + 1e-7)
        for _ in range(steps):
            A = X @ X.T
            B = NS5[1] * A + NS5[2] * (A @ A)
            X = NS5[0] * X + B @ X
    elif method == "polar-express":
        X = X / (1.02 * torch.linalg.norm(X) + 1e-6)
        for i in range(steps):
            a, b, c = POLAR_EXPRESS[min(i, 4)]
            A = X @ X.T
            X = a * X + (b * A + c * (A @ A)) @ X
    elif method == "cubic":
        X = X / torch.linalg.norm(X)
        for _ in range(steps):
            Xn = 1.5 * X - 0.5 * (X @ X.T) @ X
            done = torch.linalg.norm(Xn - X) <= 1e-12 * torch.linalg.norm(Xn)
            X = Xn
            if done:
                break
    else:
        raise ValueError("unknown msign method %s" % method)
    if tall:
        X = X.T
    return X.to(G.dtype)


def lr_factor(k, warmup, iterations):
    """The 'cos' schedule: 0.01 + 0.99 k / w in warm-up, then half a cosine to 0."""
    if k < warmup:
        return 0.01 + 0.99 * k / warmup
    if iterations <= warmup:
        return 1.0
    frac = min(1.0, (k - warmup) / (iterations - warmup))
    return 0.5 * (1 + math.cos(math.pi * frac))


class Optimizer:
    """LionMuon family on the matrix-rule tensors, AdamW on the rest.
    matrix rule at global step t, for W (m x n), gradient G, momentum M:
      C = b1 M + (1 - b1) G
      t mod P == 0 (P > 0):  W <- W (1 - lr_muon wd) - lr_muon 0.2 sqrt(max(m,n)) msign(C)
      otherwise:             W <- W (1 - lr_sign wd) - lr_sign sign(C)
      M <- b2 M + (1 - b2) G
    AdamW (paper: eps before bias correction; torch: after):
      m <- lerp(m, g, 1 - a1); v <- lerp(v, g^2, 1 - a2); k = t + 1
      p <- p (1 - lr wd) - lr (sqrt(1 - a2^k) / (1 - a1^k)) m / (eps + sqrt v)"""

    def __init__(self, params, meta, ns_dtype):
        self.m = meta
        self.ns_dtype = ns_dtype
        self.kind = meta["optimizer"]
        self.state = {}
        self.rule = {}
        for name, p in params:
            if self.kind == "adamw":
                matrix = False
            elif meta.get("routing", "paper") == "dim":
                matrix = p.dim() == 2 and p.shape[0] < 10000
            else:
                matrix = p.dim() == 2 and name.startswith("transformer.h.")
            self.rule[name] = "matrix" if matrix else "adamw"
            if matrix:
                self.state[name] = [torch.zeros_like(p)]
            else:
                self.state[name] = [torch.zeros_like(p), torch.zeros_like(p)]

    @torch.no_grad()
    def step(self, params, grads, t, scale):
        m = self.m
        wd = m["weight_decay"]
        for name, p in params:
            g = grads[name]
            if self.rule[name] == "adamw":
                ex, ex2 = self.state[name]
                b1, b2, eps = m["adamw_beta1"], m["adamw_beta2"], m["adamw_eps"]
                lr = m["lr_adamw"] * scale
                ex.lerp_(g, 1 - b1)
                ex2.lerp_(g * g, 1 - b2)
                k = t + 1
                bc1, bc2 = 1 - b1 ** k, 1 - b2 ** k
                p.mul_(1 - lr * wd)
                if m["adamw_eps_mode"] == "paper":
                    p.sub_((lr * math.sqrt(bc2) / bc1) * ex / (eps + ex2.sqrt()))
                else:
                    p.sub_((lr / bc1) * ex / (ex2.sqrt() / math.sqrt(bc2) + eps))
                continue
            (M,) = self.state[name]
            rows, cols = p.shape
            if self.kind == "muon-nesterov":
                mu = m["beta1"]
                M.mul_(mu).add_(g)
                D = g + mu * M
                U = msign(D, m["msign"], m["ns_steps"], self.ns_dtype) * math.sqrt(max(1.0, rows / cols))
                lr = m["lr_muon"] * scale
                p.mul_(1 - lr * wd).sub_(lr * U)
                continue
            b1, b2, P = m["beta1"], m["beta2"], m["period"]
            C = b1 * M + (1 - b1) * g
            if P > 0 and t % P == 0:
                U = 0.2 * math.sqrt(max(rows, cols)) * msign(C, m["msign"], m["ns_steps"], self.ns_dtype)
                lr = m["lr_muon"] * scale
            else:
                U = torch.sign(C)
                lr = m["lr_sign"] * scale
            p.mul_(1 - lr * wd).sub_(lr * U)
            M.mul_(b2).add_((1 - b2) * g)


def clip_(grads, max_norm):
    """torch's clip_grad_norm_: total 2-norm over all tensors; scale by
    max_norm / (total + 1e-6) when that is < 1."""
    if max_norm <= 0:
        return
    total = torch.norm(torch.stack([torch.norm(g, 2) for g in grads.values()]), 2)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads.values():
            g.mul_(coef)


# ---------------------------------------------------------------------------

META_INT = ["n_layer", "n_head", "n_embd", "vocab_size", "sequence_length", "period",
            "ns_steps", "warmup", "iterations", "seed", "multiple_of", "steps", "batch_size"]
META_FLOAT = ["lr_muon", "lr_sign", "lr_adamw", "beta1", "beta2", "adamw_beta1",
              "adamw_beta2", "adamw_eps", "weight_decay", "grad_clip", "srank_alpha"]

# tolerances: (loss, grads, params, updates), relative
TOL = {
    "float64": (1e-12, 1e-9, 1e-12, 1e-8),
    "float32": (1e-5, 1e-3, 1e-5, 5e-2),
    "bfloat16": (3e-2, 2e-1, 1e-3, 3e-1),
}


def rel(a, b):
    a, b = a.double().cpu(), b.double().cpu()
    nb = torch.linalg.norm(b).item()
    d = torch.linalg.norm(a - b).item()
    return d / nb if nb > 0 else d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("golden")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float64", choices=list(TOL))
    ap.add_argument("--free-run", action="store_true",
                    help="train on from step.0.params with our own gradients")
    args = ap.parse_args()
    try:
        T, meta = read_safetensors(args.golden)
    except (OSError, ValueError) as ex:
        print("verify_golden: %s" % ex, file=sys.stderr)
        return 2
    cfg = dict(meta)
    try:
        for k in META_INT:
            if k in cfg:
                cfg[k] = int(cfg[k])
        for k in META_FLOAT:
            if k in cfg:
                cfg[k] = float(cfg[k])
        cfg["bias"] = cfg.get("bias") == "true"
        cfg.setdefault("multiple_of", 256)
        if cfg.get("srank_alpha", 0) > 0 and not paper_optim.replays_srank(cfg):
            print("verify_golden: the adaptive trigger (srank_alpha > 0) is not replayed",
                  file=sys.stderr)
            return 2
    except (KeyError, ValueError) as ex:
        print("verify_golden: bad metadata: %s" % ex, file=sys.stderr)
        return 2

    dev = torch.device(args.device)
    if dev.type == "cuda":
        # float32 means float32: no TF32 tensor-core rounding in matmuls
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    # float64/float32: everything in that dtype.  bfloat16: float32 master
    # weights and optimizer, forward/backward under bf16 autocast and the
    # Newton-Schulz iteration in bf16, as GPU training code runs them.
    pdtype = torch.float64 if args.dtype == "float64" else torch.float32
    ns_dtype = {"float64": torch.float64, "float32": torch.float32,
                "bfloat16": torch.bfloat16}[args.dtype]
    torch.manual_seed(0)
    model = Transformer(cfg).to(dev).to(pdtype)
    params = list(model.named_parameters())
    names = [n for n, _ in params]
    K = T["inputs"].shape[0]
    golden_names = sorted(k[len("step.0.params."):] for k in T if k.startswith("step.0.params."))
    if sorted(names) != golden_names:
        print("verify_golden: parameter names differ:\n  torch only: %s\n  golden only: %s"
              % (sorted(set(names) - set(golden_names)), sorted(set(golden_names) - set(names))),
              file=sys.stderr)
        return 1

    def gold(key):
        return torch.from_numpy(T[key]).to(dev)

    def load(prefix):
        with torch.no_grad():
            for n, p in params:
                p.copy_(gold(prefix + n).to(pdtype))

    def forward_backward(k):
        idx = gold("inputs")[k].long()
        tgt = gold("targets")[k].long()
        model.zero_grad(set_to_none=True)
        if args.dtype == "bfloat16":
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
                loss = model(idx, tgt)
        else:
            loss = model(idx, tgt)
        loss.backward()
        return loss.detach(), {n: p.grad.detach().clone() for n, p in params}

    opt = paper_optim.make(params, cfg, ns_dtype, msign) or Optimizer(params, cfg, ns_dtype)
    err = dict(loss=0.0, grads=0.0, params=0.0, updates=0.0)
    worst = dict(grads="", params="", updates="")
    load("step.0.params.")
    for k in range(K):
        nxt = "step.%d.params." % (k + 1) if k + 1 < K else "final.params."
        if not args.free_run:
            load("step.%d.params." % k)
        loss, grads = forward_backward(k)
        lref = float(T["step.%d.loss" % k])
        err["loss"] = max(err["loss"], abs(loss.item() - lref) / abs(lref))
        for n in names:
            e = rel(grads[n], gold("step.%d.grads.%s" % (k, n)))
            if e >= err["grads"]:
                err["grads"], worst["grads"] = e, "step %d %s" % (k, n)
        # optimizer: from the golden gradients unless free-running
        step_grads = grads if args.free_run else \
            {n: gold("step.%d.grads.%s" % (k, n)).to(pdtype) for n in names}
        before = {n: p.detach().clone() for n, p in params}
        clip_(step_grads, cfg["grad_clip"])
        opt.step(params, step_grads, k, paper_optim.schedule(k, cfg, lr_factor))
        for n, p in params:
            e = rel(p.detach(), gold(nxt + n))
            if e >= err["params"]:
                err["params"], worst["params"] = e, "after step %d %s" % (k, n)
            if not args.free_run:
                e = rel(p.detach() - before[n], gold(nxt + n) - gold("step.%d.params.%s" % (k, n)))
                if e >= err["updates"]:
                    err["updates"], worst["updates"] = e, "step %d %s" % (k, n)

    tol = dict(zip(("loss", "grads", "params", "updates"), TOL[args.dtype]))
    if args.free_run:
        # errors compound over the run: allow them to grow with K
        tol = {k: v * max(1, K) for k, v in tol.items()}
        tol["grads"] = max(tol["grads"], 1e-9 if args.dtype == "float64" else tol["grads"])
    print("verify_golden: %s, %s L=%d C=%d V=%d, %s (P=%d, msign %s), %d steps, "
          "torch %s on %s in %s%s" % (
              args.golden, cfg["model"], cfg["n_layer"], cfg["n_embd"], cfg["vocab_size"],
              cfg["optimizer"], cfg["period"], cfg["msign"], K, torch.__version__,
              args.device, args.dtype, ", free-running" if args.free_run else ""))
    ok = True
    for key in ("loss", "grads", "params", "updates"):
        if args.free_run and key == "updates":
            continue
        good = err[key] <= tol[key]
        ok &= good
        print("  %-8s max relative error %.3e  (tolerance %.0e)  %s%s" % (
            key, err[key], tol[key], "PASS" if good else "FAIL",
            ("  worst: " + worst[key]) if key in worst and worst[key] else ""))
    print("verify_golden: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
