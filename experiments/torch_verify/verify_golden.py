#!/usr/bin/python3
"""verify_golden.py - replay a `lionmuon golden` file (or a `lionmuon step`
IN/OUT pair) in PyTorch, with this file's optimizers or your own, and report
per quantity whether a correct implementation in the chosen precision could
have produced the differences.

The model (GPT-2 / LLaMA) and the optimizers (one class, LionMuon: the
LionMuon family, classic Muon, the paper code's second class signmuon-sgd,
AdamW) are written here from their definitions (theory/models.md and
theory/algorithms.md, i.e. the paper's llm-baselines modules), not
translated from the C reference, so agreement is evidence that both compute
the paper's algorithm.  The optimizer follows every setting the file
records (routing, decay groups, bf16 update rounding, momentum form, ...);
a setting a file written before it existed lacks means what the tool did
then (optim_rules.LEGACY).

Per step k of the golden file:
  model check      load step.k.params into the torch model, run forward and
                   backward on inputs[k], targets[k]; compare the loss with
                   step.k.loss and every gradient with step.k.grads.NAME
  optimizer check  from step.k.params and step.k.grads (the golden ones, so
                   the optimizer is tested alone), the optimizer (its own
                   state from step 0) takes step k with lr_scale step.k.lr_scale;
                   the update W_{k+1} - W_k of every tensor is compared with
                   the golden one against the threshold of its step kind
                   (step.k.muon.NAME: 1 Muon, 0 sign; AdamW for the others),
                   and the new parameters with step.(k+1).params
With --free-run the torch model instead trains on its own from step.0.params
(its own gradients, its own updates) and is compared at every step, the way
a GPU training run would drift from the reference.

Errors are relative Frobenius errors per tensor, ||x - x_ref||_F / ||x_ref||_F
(the loss: |l - l_ref| / |l_ref|).  Thresholds are derived from the measured
envelope of a correct implementation in each precision (ENVELOPE, equal to
the table in include/lionmuon/lowprec.h, and MODEL_ENVELOPE; both measured by
envelope.py) times MARGIN, plus, for updates, the rounding of the stored
weights (and, for a bf16-rounded update replayed below float64, one bf16
spacing: rounding_slack).  The report names the first step and tensor that
failed.

--optimizer module:Class (or path/file.py:Class) replaces this file's
optimizer by yours: Class(named_params, cfg) with step(t, lr_scale); see
README.md next to this file.

Usage: /usr/bin/python3 verify_golden.py GOLDEN [--device cpu|cuda]
           [--dtype float64|float32|bfloat16] [--free-run] [--optimizer M:C]
           [--steps N] [--no-model]
       /usr/bin/python3 verify_golden.py --step-file IN OUT [same options]
Exit status 0 when every error is within its threshold, 1 when not, 2 on
bad input (a file whose metadata disagrees with its tensors, a missing
tensor, an optimizer that cannot be loaded), named.  Needs numpy, torch
(>= 1.13) and the project's Python package, which reads the safetensors file
(python/lionmuon, over build/liblionmuon.so: `make` builds it).
"""
import argparse
import importlib
import importlib.util
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optim_rules  # noqa: E402  (the name-and-shape rules, shared with golden_size.py)

# ---------------------------------------------------------------------------
# safetensors through the project's one Python helper (python/lionmuon, over
# liblionmuon.so: build it with `make`, or point LIONMUON_LIB at it).  The
# arrays come back in their stored precision (F32, BF16 and F16 as float32 or
# float16, exactly), as the checks below compare stored dtypes with the
# metadata.

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(_ROOT, "python") not in sys.path:
    sys.path.insert(0, os.path.join(_ROOT, "python"))
import lionmuon  # noqa: E402

_STORED = {"F32": np.float32, "BF16": np.float32, "F16": np.float16}


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file; ValueError naming the file."""
    try:
        t = lionmuon.load_file(path)
    except lionmuon.LionMuonError as ex:
        raise ValueError(str(ex))
    out = {k: (a.astype(_STORED[t.dtypes[k]]) if t.dtypes[k] in _STORED else a)
           for k, a in t.items()}
    return out, dict(t.metadata or {})


def write_safetensors(path, tensors, meta=None):
    """tensors: name -> numpy array; floating ones written as F32 when every
    one is float32, else as F64; integer ones as I64."""
    floats = [np.asarray(a) for a in tensors.values() if np.asarray(a).dtype.kind == "f"]
    f32 = bool(floats) and all(a.dtype == np.float32 for a in floats)
    lionmuon.save_file(tensors, path, metadata={k: str(v) for k, v in (meta or {}).items()},
                       dtype="F32" if f32 else "F64")


# ---------------------------------------------------------------------------
# The models (theory/models.md): GPT-2 as nanoGPT / llm-baselines GPTBase, LLaMA as
# llm-baselines Llama.  Parameter names equal the state_dict names.

class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch 1.13's nn.LayerNorm always has one)."""

    def __init__(self, C, bias, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
        self.bias = nn.Parameter(torch.zeros(C)) if bias else None
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight, eps 1e-5 (the golden's norm_eps)."""

    def __init__(self, C, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
        self.eps = eps

    def forward(self, x):
        xf = x.float() if x.dtype in (torch.bfloat16, torch.float16) else x
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return y.type_as(x) * self.weight


def rope_tables(hs, T, dtype, device, theta=10000.0):
    """cos/sin of t * theta^(-2i/hs), i = 0..hs/2-1, shape (T, hs/2)."""
    inv = 1.0 / (theta ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs))
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
        C, llama, eps = cfg["n_embd"], cfg["model"] == "llama", cfg.get("norm_eps", 1e-5)
        norm = (lambda: RMSNorm(C, eps)) if llama else (lambda: LayerNorm(C, cfg["bias"], eps))
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
        eps = cfg.get("norm_eps", 1e-5)
        mods["ln_f"] = RMSNorm(C, eps) if llama else LayerNorm(C, cfg["bias"], eps)
        self.transformer = nn.ModuleDict(mods)
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        self.llama, self.hs = llama, C // cfg["n_head"]
        self.theta = cfg.get("rope_theta", 10000.0)
        self.rope = None

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.transformer.wte(idx)
        cos = sin = None
        if self.llama:
            if self.rope is None or self.rope[0].shape[0] < T:
                self.rope = rope_tables(self.hs, T, torch.float64, idx.device, self.theta)
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
# msign (theory/algorithms.md §1).

NS5 = (3.4445, -4.7750, 2.0315)
POLAR_EXPRESS = [
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
]


def mm(a, b):
    """a @ b as a GPU kernel forms it: inputs of the dtype, float32
    accumulation, the result rounded to the dtype.  torch 1.13's CPU kernels
    for bfloat16 accumulate in lower precision (a 64 x 256 by 256 x 64 product
    is off by 1.8e-2 relative, against 1.6e-3 with float32 accumulation), so
    on the CPU the product of bf16/f16 tensors is formed in float32 and
    rounded."""
    if a.dtype in (torch.bfloat16, torch.float16) and a.device.type == "cpu":
        return (a.float() @ b.float()).to(a.dtype)
    return a @ b


def fnorm(X):
    """||X||_F accumulated in float32 for bf16/f16 (torch 1.13's CPU reduction
    in float16 stalls once the sum outgrows the summands), rounded to X's dtype."""
    if X.dtype in (torch.bfloat16, torch.float16):
        return torch.linalg.norm(X.float()).to(X.dtype)
    return torch.linalg.norm(X)


def msign(G, method, steps, ns_dtype, wide=True):
    """The polar factor U V^T of G, or its Newton-Schulz approximation, the
    iteration in ns_dtype on the wide orientation (wide=False: on G's own)."""
    if method == "svd":
        U, S, Vh = torch.linalg.svd(G.double(), full_matrices=False)
        tol = max(G.shape) * torch.finfo(torch.float64).eps * (S[0] if S.numel() else 0)
        keep = S > tol
        return (U[:, keep] @ Vh[keep]).to(G.dtype)
    if torch.linalg.norm(G) == 0:
        return torch.zeros_like(G)
    X = G.to(ns_dtype)
    norm = fnorm
    tall = wide and X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    if method == "ns5":
        X = X / (norm(X) + 1e-7)
        for _ in range(steps):
            A = mm(X, X.T)
            B = NS5[1] * A + NS5[2] * mm(A, A)
            X = NS5[0] * X + mm(B, X)
    elif method == "polar-express":
        X = X / (1.02 * norm(X) + 1e-6)
        for i in range(steps):
            a, b, c = POLAR_EXPRESS[min(i, 4)]
            A = mm(X, X.T)
            X = a * X + mm(b * A + c * mm(A, A), X)
    elif method == "cubic":
        X = X / norm(X)
        stop = max(1e-12, 16 * torch.finfo(X.dtype).eps / 2)
        for _ in range(steps):
            Xn = 1.5 * X - 0.5 * mm(mm(X, X.T), X)
            done = torch.linalg.norm((Xn - X).double()) <= stop * torch.linalg.norm(Xn.double())
            X = Xn
            if done:
                break
    else:
        raise ValueError("unknown msign method %s" % method)
    if tall:
        X = X.T
    return X.to(G.dtype)


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
# The optimizers.  The plug-in protocol (README.md next to this file):
#   opt = Class(named_params, cfg)
#     named_params  [(NAME, torch.nn.Parameter)] in state_dict order, the tied
#                   head once as transformer.wte.weight, in the replay's dtype
#                   (float64; float32 master weights for float32 and bfloat16)
#     cfg           the golden's __metadata__ with numbers parsed (optimizer,
#                   period, lr_muon, lr_sign, lr_adamw, beta1, beta2,
#                   adamw_beta1, adamw_beta2, adamw_eps, adamw_eps_mode,
#                   weight_decay, grad_clip, msign, ns_steps, routing,
#                   decay_on, round_update, momentum_form, muon_adjust,
#                   nesterov, sign_scaling, cheap_mode, cheap_ns_steps,
#                   srank_alpha, srank_exact, ...; a key the file lacks is
#                   filled with what files without it were written with,
#                   optim_rules.LEGACY), plus ns_dtype (the torch dtype for
#                   Newton-Schulz), device, precision ("f64", "f32", "bf16")
#                   and linear_weights (the names of the weights of the
#                   model's nn.Linear layers: the tensors decay_on = linear
#                   decays; none in a step file)
#   opt.step(t, lr_scale)
#                   p.grad holds each gradient before clipping; clip to
#                   cfg["grad_clip"] (global norm, torch's clip_grad_norm_),
#                   then update every p in place at global step t, with the
#                   scheduled learning rates multiplied by lr_scale
#   opt.load_state(NAME, {"momentum": T} or {"exp_avg": T, "exp_avg_sq": T})
#                   optional: the state before the first replayed step (a
#                   step file's); golden files start from zero state


def round_bf16(U):
    """U rounded entrywise to bfloat16 as torch does from a double: to
    float32, then to bfloat16, both to nearest even; back in U's dtype."""
    return U.to(torch.float32).to(torch.bfloat16).to(U.dtype)


class LionMuon:
    """Every optimizer of theory/algorithms.md: the LionMuon family (§2.1-§2.2)
    and classic Muon (§2.4) or the paper code's second class (§3) on the
    matrix-rule tensors (routing §6), AdamW (§4) on the rest.  For W (m x n),
    gradient G, momentum M or B, at global step t:
      LionMuon family:  C = b1 M + (1 - b1) G
        t mod P == 0 (P > 0):  W <- W (1 - lr_muon wd) - lr_muon 0.2 sqrt(max(m,n)) msign(C)
        otherwise:             W <- W (1 - lr_sign wd) - lr_sign sign(C)
        M <- b2 M + (1 - b2) G
      muon-nesterov (mu = b1):
        ema: B <- mu B + (1 - mu) G, D = (1 - mu) G + mu B;  sgd: B <- mu B + G, D = G + mu B
        (D = B with nesterov off);  W <- W (1 - lr_muon wd) - lr_muon a msign(D),
        a = sqrt(max(1, m/n)) (muon_adjust original) or 0.2 sqrt(max(m, n))
      signmuon-sgd (mu = b1):  B <- mu B + G;  D = G + mu B (or B)
        t mod P == 0:  W <- W (1 - lr_muon wd) - lr_muon 0.2 sqrt(max(m,n)) msign(D)
        otherwise:     W <- W (1 - lr_sign wd) - lr_sign cheap(D), lr_sign not scheduled
      AdamW (paper: eps before bias correction; torch: after):
        m <- lerp(m, g, 1 - a1); v <- lerp(v, g^2, 1 - a2); k = t + 1
        p <- p (1 - lr wd) - lr (sqrt(1 - a2^k) / (1 - a1^k)) m / (eps + sqrt v)
        (not scheduled in the second class)
    with srank_alpha > 0 (only with srank_exact) a Muon step when the stable
    rank of C (second class: of B) is <= alpha min(m, n); wd the tensor's
    weight decay (decay_on); the applied matrix update rounded to bf16 with
    round_update bf16 (§7).  Each piece is one method, so a variant
    overrides one (mutants.py)."""

    def __init__(self, named_params, cfg):
        self.cfg = cfg
        self.params = list(named_params)
        self.ns_dtype = cfg.get("ns_dtype", torch.float64)
        self.kind = cfg["optimizer"]
        if self.kind not in optim_rules.OPTIMIZERS:
            raise ValueError("unknown optimizer %s" % self.kind)
        self.rule, self.state, self.wd = {}, {}, {}
        for name, p in self.params:
            matrix = self.route(name, p)
            self.rule[name] = "matrix" if matrix else "adamw"
            z = lambda: torch.zeros_like(p.detach())  # noqa: E731
            self.state[name] = {"momentum": z()} if matrix else {"exp_avg": z(), "exp_avg_sq": z()}
            self.wd[name] = self.weight_decay(name, p)

    def setting(self, key):
        """cfg[key], or what a file without the key was written with."""
        return self.cfg.get(key, optim_rules.LEGACY[key])

    def load_state(self, name, tensors):
        for key, v in tensors.items():
            if key not in self.state[name]:
                raise ValueError("tensor %s has no state %s under its rule (%s)"
                                 % (name, key, self.rule[name]))
            self.state[name][key].copy_(v)

    @torch.no_grad()
    def step(self, t, lr_scale):
        grads = {n: p.grad for n, p in self.params}
        self.clip(grads)
        self.update(grads, t, lr_scale)

    def clip(self, grads):
        clip_(grads, self.cfg.get("grad_clip", 0.0))

    @torch.no_grad()
    def update(self, grads, t, lr_scale):
        for name, p in self.params:
            g = grads[name]
            if self.rule[name] == "adamw":
                self.adamw(name, p, g, t, self.side_scale(lr_scale))
            elif self.kind == "muon-nesterov":
                self.nesterov(name, p, g, lr_scale)
            elif self.kind == "signmuon-sgd":
                self.second_class(name, p, g, t, lr_scale)
            else:
                self.matrix(name, p, g, t, lr_scale)

    # -- the pieces: which rule, which decay, which step --
    def route(self, name, p):
        """§6: name, dim, paper (hidden), or 2d (step files); adamw: none."""
        return optim_rules.route(name, tuple(p.shape), self.kind, self.setting("routing"))

    def weight_decay(self, name, p):
        """§4: decay_on all, every tensor; linear, the Linear layers' weights."""
        if self.setting("decay_on") == "all":
            return self.cfg["weight_decay"]
        linear = self.cfg.get("linear_weights")
        if linear is None:
            raise ValueError("decay_on linear: cfg lacks linear_weights (the names of the "
                             "nn.Linear weights)")
        return self.cfg["weight_decay"] if name in linear else 0.0

    def side_scale(self, lr_scale):
        """§3: the second class schedules lr_muon alone (AdamW, cheap steps fixed)."""
        return 1.0 if self.kind == "signmuon-sgd" else lr_scale

    def is_muon_step(self, t):
        P = self.cfg["period"]
        return P > 0 and t % P == 0

    def wants_muon(self, X, t):
        """The period, or with srank_alpha > 0 the stable-rank trigger (§2.3) on X,
        with the exact ||X||_2 (the C code's power iteration starts from GSL draws)."""
        alpha = self.cfg.get("srank_alpha", 0.0)
        if alpha <= 0:
            return self.is_muon_step(t)
        f = torch.linalg.norm(X).item()
        s1 = torch.linalg.matrix_norm(X, 2).item()
        return f * f / (s1 * s1 + 1e-12) <= alpha * min(X.shape)

    def direction(self, M, g):
        b1 = self.cfg["beta1"]
        return b1 * M + (1 - b1) * g

    def update_momentum(self, M, g):
        b2 = self.cfg["beta2"]
        M.mul_(b2).add_((1 - b2) * g)

    def muon_scale(self, rows, cols):
        return 0.2 * math.sqrt(max(rows, cols))

    def nesterov_scale(self, rows, cols):
        """§2.4's adjust: original sqrt(max(1, m/n)), match_rms_adamw 0.2 sqrt(max(m, n))."""
        if self.setting("muon_adjust") == "match_rms_adamw":
            return 0.2 * math.sqrt(max(rows, cols))
        return math.sqrt(max(1.0, rows / cols))

    def orthogonalize(self, C, steps=None):
        return msign(C, self.cfg["msign"], steps or self.cfg["ns_steps"], self.ns_dtype)

    def sign(self, C):
        return torch.sign(C)

    def round_update(self, U):
        """§7: the applied matrix update rounded to bf16 (round_update bf16)."""
        return round_bf16(U) if self.setting("round_update") == "bf16" else U

    def apply(self, p, U, lr, wd):
        """W <- W (1 - lr wd) - lr U, U rounded first when asked."""
        p.mul_(1 - lr * wd).sub_(lr * self.round_update(U))

    def bias_count(self, t):
        return t + 1

    def eps_mode(self):
        return self.cfg["adamw_eps_mode"]

    # -- the rules --
    def matrix(self, name, p, g, t, lr_scale):
        """The LionMuon rule (§2.1)."""
        M = self.state[name]["momentum"]
        C = self.direction(M, g)
        if self.wants_muon(C, t):
            rows, cols = p.shape
            U = self.muon_scale(rows, cols) * self.orthogonalize(C)
            lr = self.cfg["lr_muon"] * lr_scale
        else:
            U = self.sign(C)
            lr = self.cfg["lr_sign"] * lr_scale
        self.apply(p, U, lr, self.wd[name])
        self.update_momentum(M, g)

    def nesterov(self, name, p, g, lr_scale):
        """Classic Muon (§2.4), EMA form as torch.optim.Muon or SGD form."""
        mu = self.cfg["beta1"]
        B = self.state[name]["momentum"]
        if self.setting("momentum_form") == "ema":
            B.mul_(mu).add_((1 - mu) * g)
            D = (1 - mu) * g + mu * B
        else:
            B.mul_(mu).add_(g)
            D = g + mu * B
        if self.setting("nesterov") == "off":
            D = B.clone()
        rows, cols = p.shape
        U = self.nesterov_scale(rows, cols) * self.orthogonalize(D)
        self.apply(p, U, self.cfg["lr_muon"] * lr_scale, self.wd[name])

    def second_class(self, name, p, g, t, lr_scale):
        """The paper code's sign_muon (§3): B <- mu B + G first, D = G + mu B
        (or B); a Muon step every P steps (or by the trigger on B), else the
        cheap step at the fixed rate lr_sign."""
        mu = self.cfg["beta1"]
        B = self.state[name]["momentum"]
        B.mul_(mu).add_(g)
        D = g + mu * B if self.setting("nesterov") == "on" else B.clone()
        if self.wants_muon(B, t):
            rows, cols = p.shape
            U = self.muon_scale(rows, cols) * self.orthogonalize(D)
            lr = self.cfg["lr_muon"] * lr_scale
        else:
            U = self.cheap(D)
            lr = self.cfg["lr_sign"] * self.side_scale(lr_scale)
        self.apply(p, U, lr, self.wd[name])

    def cheap(self, D):
        """§3's step between Muon steps: cheap_mode sign (scaled by
        sign_scaling none | muon | frob), norm, or cheap-ns."""
        rows, cols = D.shape
        big, aspect = math.sqrt(max(rows, cols)), math.sqrt(max(1.0, rows / cols))
        mode = self.setting("cheap_mode")
        if mode == "norm":
            return D / (torch.linalg.norm(D) + 1e-7) * math.sqrt(min(rows, cols)) * aspect
        if mode == "cheap-ns":
            return 0.2 * big * self.orthogonalize(D, self.setting("cheap_ns_steps"))
        scaling = self.setting("sign_scaling")
        if scaling == "none":
            return self.sign(D)
        return self.sign(D) / big * (aspect if scaling == "muon" else 1.0)

    def adamw(self, name, p, g, t, lr_scale):
        """AdamW (§4) with the tensor's weight decay."""
        c = self.cfg
        ex, ex2 = self.state[name]["exp_avg"], self.state[name]["exp_avg_sq"]
        b1, b2, eps = c["adamw_beta1"], c["adamw_beta2"], c["adamw_eps"]
        lr = c["lr_adamw"] * lr_scale
        ex.lerp_(g, 1 - b1)
        ex2.lerp_(g * g, 1 - b2)
        k = self.bias_count(t)
        bc1, bc2 = 1 - b1 ** k, 1 - b2 ** k
        p.mul_(1 - lr * self.wd[name])
        if self.eps_mode() == "paper":
            p.sub_((lr * math.sqrt(bc2) / bc1) * ex / (eps + ex2.sqrt()))
        else:
            p.sub_((lr / bc1) * ex / (ex2.sqrt() / math.sqrt(bc2) + eps))


class Optimizer(LionMuon):
    """The former interface (experiments/bench/torch_bench.py):
    Optimizer(params, meta, ns_dtype); step(params, grads, t, scale) with the
    gradients already clipped.  The same rules as LionMuon; a setting meta
    lacks is optim_rules.LEGACY's."""

    def __init__(self, params, meta, ns_dtype):
        cfg = dict(meta)
        cfg["ns_dtype"] = ns_dtype
        super().__init__(params, cfg)

    def step(self, params, grads, t, scale):  # noqa: D102 (the former signature)
        self.update(grads, t, scale)


def load_optimizer(spec):
    """'module:Class' (a module on sys.path, this folder or the working
    directory) or 'path/to/file.py:Class'."""
    if ":" not in spec:
        raise InputError("--optimizer %s: expected module:Class" % spec)
    mod, cls = spec.rsplit(":", 1)
    try:
        if mod.endswith(".py") or os.sep in mod:
            sp = importlib.util.spec_from_file_location(os.path.basename(mod)[:-3], mod)
            m = importlib.util.module_from_spec(sp)
            sp.loader.exec_module(m)
        else:
            for d in (os.path.dirname(os.path.abspath(__file__)), os.getcwd()):
                if d not in sys.path:
                    sys.path.insert(0, d)
            m = importlib.import_module(mod)
        return getattr(m, cls)
    except Exception as ex:  # any failure to import is the user's input
        raise InputError("--optimizer %s: cannot load it (%s: %s)" % (spec, type(ex).__name__, ex))


# ---------------------------------------------------------------------------
# Thresholds: MARGIN times the measured envelope of a correct implementation
# (relative Frobenius errors against the double-precision reference).
# ENVELOPE is the table of include/lionmuon/lowprec.h (tests/cli_torch.sh
# checks that the two agree); MODEL_ENVELOPE the loss and gradients of this
# file's model replayed in each precision on the CPU.  Both are printed by
#   /usr/bin/python3 experiments/torch_verify/envelope.py
# which says how they were measured.

MARGIN = 3.0
UNIT_ROUNDOFF = {"f64": 2.0 ** -53, "f32": 2.0 ** -24, "bf16": 2.0 ** -8, "f16": 2.0 ** -11}
KINDS = ("value", "muon", "sign", "adamw", "state")
ENVELOPE = {
    "f64": {"value": 2.04e-14, "muon": 2.04e-14, "sign": 0.0, "adamw": 0.0, "state": 9.97e-16},
    "f32": {"value": 7.07e-06, "muon": 7.07e-06, "sign": 2.53e-08, "adamw": 7.37e-08,
            "state": 6.71e-08},
    "bf16": {"value": 0.267, "muon": 0.267, "sign": 2.53e-08, "adamw": 7.37e-08,
             "state": 6.71e-08},
    "f16": {"value": 0.033, "muon": 0.033, "sign": 2.53e-08, "adamw": 7.37e-08,
            "state": 6.71e-08},
}
# loss (|l - l_ref| / |l_ref|) and gradients (per tensor) of the model above,
# max over golden files of every optimizer, seeds 1..5 (envelope.py).
# bfloat16 is autocast on the CPU, whose bf16 products accumulate in bf16.
MODEL_ENVELOPE = {
    "f64": {"loss": 2.57e-16, "grads": 1.21e-15},
    "f32": {"loss": 1.68e-07, "grads": 6.46e-07},
    "bf16": {"loss": 6.65e-05, "grads": 0.0521},
}
PRECISIONS = {"float64": "f64", "float32": "f32", "bfloat16": "bf16"}
QUANTITIES = ("loss", "grads", "muon updates", "sign updates", "adamw updates", "params")


def update_threshold(prec, kind, ratio, store, slack=0.0):
    """MARGIN x the envelope of kind, plus the rounding of stored weights:
    3 u_store ||W'||_F / ||W' - W||_F (ratio), as `lionmuon compare` does,
    plus slack (rounding_slack)."""
    return MARGIN * ENVELOPE[prec][kind] + slack + 3 * UNIT_ROUNDOFF[store] * ratio


def rounding_slack(cfg, prec, kind):
    """A matrix update rounded to bf16 (round_update bf16, theory/algorithms.md
    §7) and replayed below float64: an entry the replay computes slightly
    differently may round to the neighbouring bf16 value, one bf16 spacing,
    at most 2^-7 of the entry, away; so the update may differ by up to 2^-7
    relative beyond the envelope (a bound, not a measurement).  Not for a
    raw sign, whose entries -1, 0, 1 bf16 holds exactly, and not in float64,
    where the replay rounds as the C code does (measured: identical updates)."""
    if cfg.get("round_update") != "bf16" or prec == "f64":
        return 0.0
    scaled_sign = cfg["optimizer"] == "signmuon-sgd" and (
        cfg.get("cheap_mode") != "sign" or cfg.get("sign_scaling") != "none")
    return 2 * UNIT_ROUNDOFF["bf16"] if kind == "muon" or (kind == "sign" and scaled_sign) else 0.0


class InputError(Exception):
    """Input that cannot be replayed: exit 2, the message names file and tensor."""


# ---------------------------------------------------------------------------
# What is replayed: a golden file, or a `lionmuon step` IN/OUT pair.

META_INT = ["n_layer", "n_head", "n_embd", "vocab_size", "sequence_length", "period",
            "ns_steps", "warmup", "iterations", "seed", "multiple_of", "steps", "batch_size"]
META_FLOAT = ["lr_muon", "lr_sign", "lr_adamw", "beta1", "beta2", "adamw_beta1",
              "adamw_beta2", "adamw_eps", "weight_decay", "grad_clip", "srank_alpha",
              "norm_eps", "rope_theta", "init_std", "lr_scale"]
META_OPT = ["optimizer", "period", "lr_muon", "lr_sign", "lr_adamw", "beta1", "beta2",
            "adamw_beta1", "adamw_beta2", "adamw_eps", "adamw_eps_mode", "weight_decay",
            "msign", "ns_steps"]
META_GOLDEN = META_OPT + ["model", "n_layer", "n_head", "n_embd", "vocab_size",
                          "sequence_length", "batch_size", "steps", "grad_clip", "warmup",
                          "iterations"]


def parse_cfg(meta, path, required):
    """The metadata with numbers parsed, every optimizer choice checked and,
    where the file lacks it, filled with what files without it were written
    with (optim_rules.LEGACY)."""
    cfg = dict(meta)
    for k in required:
        if k not in cfg:
            raise InputError("%s: __metadata__ lacks %s" % (path, k))
    ints, floats = META_INT + optim_rules.META_INT, META_FLOAT + optim_rules.META_FLOAT
    for k in ints + floats:
        if k in cfg:
            try:
                cfg[k] = int(cfg[k]) if k in ints else float(cfg[k])
            except ValueError:
                raise InputError("%s: __metadata__ %s = '%s' is not a number" % (path, k, cfg[k]))
    if "optimizer" in cfg and cfg["optimizer"] not in optim_rules.OPTIMIZERS:
        raise InputError("%s: __metadata__ optimizer = %s (%s)"
                         % (path, cfg["optimizer"], ", ".join(optim_rules.OPTIMIZERS)))
    for k, v in optim_rules.LEGACY.items():
        cfg.setdefault(k, v)
    for k, values in optim_rules.CHOICES.items():
        if cfg[k] not in values:
            raise InputError("%s: __metadata__ %s = %s (%s)" % (path, k, cfg[k], ", ".join(values)))
    cfg["bias"] = cfg.get("bias") == "true"
    cfg.setdefault("multiple_of", 256)
    cfg.setdefault("grad_clip", 0.0)
    if cfg.get("srank_alpha", 0) > 0 and cfg["srank_exact"] != "true":
        raise InputError("%s: the adaptive trigger (srank_alpha > 0) is replayed only with the "
                         "exact ||C||_2 (srank_exact = true, --srank-exact): the power "
                         "iteration starts from GSL's random draws" % path)
    if cfg.get("rope_pairing", "adjacent") != "adjacent":
        raise InputError("%s: __metadata__ rope_pairing = %s: only adjacent pairs are replayed"
                         % (path, cfg["rope_pairing"]))
    return cfg


def linear_weights(model):
    """The names of the weights of model's nn.Linear layers (the tensors that
    decay_on = linear decays, theory/algorithms.md §4): not the tied head,
    which is the token embedding."""
    emb = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    lin = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)} - emb
    return [n for n, p in model.named_parameters() if id(p) in lin]


def shape_str(s):
    return "[%s]" % ", ".join(str(int(x)) for x in s)


class Golden:
    """A golden file: K steps from t = 0, the model's parameters by name."""

    def __init__(self, path):
        self.path = path
        try:
            self.T, meta = read_safetensors(path)
        except (OSError, ValueError, KeyError, TypeError) as ex:
            raise InputError("%s" % ex)
        self.cfg = parse_cfg(meta, path, META_GOLDEN)
        c = self.cfg
        self.K, self.t0, self.state0 = c["steps"], 0, {}
        self.subset = c.get("keep", "") not in ("", "all")
        want = [self.K, c["batch_size"], c["sequence_length"]]
        for key in ("inputs", "targets"):
            if key not in self.T:
                raise InputError("%s: tensor %s is missing" % (path, key))
            if list(self.T[key].shape) != want:
                raise InputError("%s: tensor %s has shape %s, but the metadata (steps %d, "
                                 "batch_size %d, sequence_length %d) gives %s"
                                 % (path, key, shape_str(self.T[key].shape), *want, shape_str(want)))
        model = Transformer(c)
        self.shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        self.linear = linear_weights(model)
        p0 = "step.0.params."
        self.names = [n for n in self.shapes if p0 + n in self.T]
        if not self.subset and len(self.names) != len(self.shapes):
            missing = [n for n in self.shapes if p0 + n not in self.T]
            raise InputError("%s: tensor %s%s is missing (the metadata describes a %s of %d "
                             "tensors)" % (path, p0, missing[0], c["model"], len(self.shapes)))
        extra = sorted(k[len(p0):] for k in self.T if k.startswith(p0) and k[len(p0):] not in self.shapes)
        if extra:
            raise InputError("%s: tensor %s%s is not a parameter of the model the metadata "
                             "describes" % (path, p0, extra[0]))
        self.check_tensors()
        dt = c.get("dtype", "f64")
        want = {"f64": np.float64, "f32": np.float32}.get(dt)
        if want is None:
            raise InputError("%s: __metadata__ dtype = %s (f64, f32)" % (path, dt))
        for key, a in self.T.items():
            if a.dtype.kind == "f" and a.dtype != want:
                raise InputError("%s: tensor %s is stored as %s, but __metadata__ dtype is %s"
                                 % (path, key, a.dtype, dt))

    def check_tensors(self):
        c, path = self.cfg, self.path
        for k in range(self.K):
            nxt = "step.%d.params." % (k + 1) if k + 1 < self.K else "final.params."
            for n in self.names:
                for key in ("step.%d.params.%s" % (k, n), "step.%d.grads.%s" % (k, n), nxt + n):
                    if key not in self.T:
                        raise InputError("%s: tensor %s is missing" % (path, key))
                    if tuple(self.T[key].shape) != self.shapes[n]:
                        raise InputError("%s: tensor %s has shape %s, but the metadata (%s "
                                         "n_embd %d vocab_size %d) gives %s"
                                         % (path, key, shape_str(self.T[key].shape), c["model"],
                                            c["n_embd"], c["vocab_size"], shape_str(self.shapes[n])))
                mk = "step.%d.muon.%s" % (k, n)
                if mk in self.T and c.get("srank_alpha", 0) == 0:
                    P = c["period"]
                    want = int(P > 0 and k % P == 0) if c["optimizer"] != "muon-nesterov" else 1
                    if int(self.T[mk]) != want:
                        raise InputError("%s: tensor %s = %d, but the metadata (period %d) makes "
                                         "step %d a %s step" % (path, mk, int(self.T[mk]), P, k,
                                                               "Muon" if want else "sign"))
            if "step.%d.loss" % k not in self.T:
                raise InputError("%s: tensor step.%d.loss is missing" % (path, k))

    def has_model(self):
        return not self.subset

    def tensor(self, key):
        """A copy in float64: the replay may change it (clipping in place)."""
        return torch.from_numpy(np.array(self.T[key], dtype=np.float64))

    def params(self, k, n):
        return self.tensor("step.%d.params.%s" % (k, n))

    def grads(self, k, n):
        return self.tensor("step.%d.grads.%s" % (k, n))

    def next_params(self, k, n):
        return self.tensor(("step.%d.params." % (k + 1) if k + 1 < self.K else "final.params.") + n)

    def loss(self, k):
        return float(self.T["step.%d.loss" % k])

    def lr_scale(self, k):
        key = "step.%d.lr_scale" % k
        c = self.cfg
        return float(self.T[key]) if key in self.T else optim_rules.schedule(k, c)

    def clip_coef(self, k):
        key = "step.%d.clip_coef" % k
        if key not in self.T:
            raise InputError("%s: tensor %s is missing (a --keep golden needs it)" % (self.path, key))
        return float(self.T[key])

    def kind(self, k, n):
        """The kind of the golden's step k on tensor n: muon or sign
        (step.k.muon.NAME), adamw for the tensors it records none for.  A
        golden file from before these records: from the routing and period."""
        mk = "step.%d.muon.%s" % (k, n)
        if mk in self.T:
            return "muon" if int(self.T[mk]) else "sign"
        if "step.0.lr_scale" in self.T:
            return "adamw"
        c = self.cfg
        if not optim_rules.route(n, self.shapes[n], c["optimizer"], c["routing"]):
            return "adamw"
        P = c["period"]
        return "muon" if c["optimizer"] == "muon-nesterov" or (P > 0 and k % P == 0) else "sign"


class StepPair:
    """`lionmuon step IN OUT`: one step at IN's t, the settings from OUT."""

    def __init__(self, in_path, out_path):
        self.path = out_path
        try:
            self.I, imeta = read_safetensors(in_path)
            self.O, ometa = read_safetensors(out_path)
        except (OSError, ValueError, KeyError, TypeError) as ex:
            raise InputError("%s" % ex)
        self.cfg = parse_cfg(ometa, out_path, META_OPT + ["step_kinds", "lr_scale"])
        self.cfg["grad_clip"] = 0.0  # a raw step: no clipping
        try:
            self.kinds = json.loads(ometa["step_kinds"])
        except ValueError:
            raise InputError("%s: __metadata__ step_kinds is not JSON" % out_path)
        self.K, self.subset = 1, True
        self.t0 = int(imeta.get("step", "0"))
        if int(ometa.get("step", "-1")) != self.t0 + 1:
            raise InputError("%s: __metadata__ step = %s, but %s is at step %d"
                             % (out_path, ometa.get("step"), in_path, self.t0))
        self.names = [k[7:] for k in self.I if k.startswith("params.")]
        self.shapes = {n: tuple(self.I["params." + n].shape) for n in self.names}
        self.linear = []  # a step file's tensors carry no layer information
        for n in self.names:
            for f, key, path in ((self.I, "grads." + n, in_path), (self.O, "params." + n, out_path)):
                if key not in f:
                    raise InputError("%s: tensor %s is missing" % (path, key))
                if tuple(f[key].shape) != self.shapes[n]:
                    raise InputError("%s: tensor %s has another shape than params.%s in %s"
                                     % (path, key, n, in_path))
            if "params." + n not in self.kinds:
                raise InputError("%s: __metadata__ step_kinds lacks params.%s" % (out_path, n))
        self.state0 = {}
        for k in self.I:
            if k.startswith("state."):
                n, suffix = k[6:].rsplit(".", 1)
                self.state0.setdefault(n, {})[suffix] = torch.from_numpy(
                    np.asarray(self.I[k], dtype=np.float64))

    def has_model(self):
        return False

    def params(self, k, n):
        return torch.from_numpy(np.array(self.I["params." + n], dtype=np.float64))

    def grads(self, k, n):
        return torch.from_numpy(np.array(self.I["grads." + n], dtype=np.float64))

    def next_params(self, k, n):
        return torch.from_numpy(np.array(self.O["params." + n], dtype=np.float64))

    def lr_scale(self, k):
        return self.cfg["lr_scale"]

    def clip_coef(self, k):
        return 1.0

    def kind(self, k, n):
        return self.kinds["params." + n]


# ---------------------------------------------------------------------------
# The replay.

def rel(a, b):
    a, b = a.double().cpu(), b.double().cpu()
    nb = torch.linalg.norm(b).item()
    d = torch.linalg.norm(a - b).item()
    return d / nb if nb > 0 else (0.0 if d == 0 else math.inf)


class Result:
    """Every check: (step, quantity, tensor, error, threshold), in replay order."""

    def __init__(self):
        self.rows = []

    def add(self, k, quantity, name, err, tol):
        """k: the global step t of the check."""
        self.rows.append((k, quantity, name, err, tol))

    def first_failure(self):
        for r in self.rows:
            if not (r[3] <= r[4]):
                return r
        return None

    def worst(self, quantity):
        rows = [r for r in self.rows if r[1] == quantity]
        if not rows:
            return None
        return max(rows, key=lambda r: (r[3] / r[4]) if r[4] > 0 else (math.inf if r[3] > 0 else 0))

    def ok(self):
        return self.first_failure() is None


def make_params(src, cfg, pdtype, dev):
    """The torch model over the golden's parameters, or bare parameters."""
    if src.has_model():
        model = Transformer(cfg).to(dev).to(pdtype)
        return model, list(model.named_parameters())
    return None, [(n, nn.Parameter(torch.zeros(src.shapes[n], dtype=pdtype, device=dev)))
                  for n in src.names]


def make_optimizer(opt_cls, named, cfg, src):
    try:
        opt = opt_cls(named, cfg)
    except Exception as ex:
        raise InputError("optimizer %s: Class(named_params, cfg) failed (%s: %s)"
                         % (getattr(opt_cls, "__name__", opt_cls), type(ex).__name__, ex))
    for n, st in src.state0.items():
        if not hasattr(opt, "load_state"):
            raise InputError("%s: holds optimizer state (state.%s.*), and the optimizer has no "
                             "load_state(name, tensors)" % (src.path, n))
        try:
            opt.load_state(n, {k: v.to(named[0][1].dtype) for k, v in st.items()})
        except Exception as ex:
            raise InputError("%s: state of %s: %s" % (src.path, n, ex))
    return opt


def model_check(src, k, model, named, res, prec, autocast, dev, grow=1):
    """Loss and gradients of the torch model at the golden parameters of step
    k (thresholds times grow: errors compound in a free run)."""
    idx = torch.from_numpy(src.T["inputs"][k]).long().to(dev)
    tgt = torch.from_numpy(src.T["targets"][k]).long().to(dev)
    model.zero_grad(set_to_none=True)
    if autocast:
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
            loss = model(idx, tgt)
    else:
        loss = model(idx, tgt)
    loss.backward()
    lref = src.loss(k)
    env = MODEL_ENVELOPE[prec]
    res.add(src.t0 + k, "loss", "", abs(loss.item() - lref) / abs(lref),
            MARGIN * env["loss"] * grow)
    grads = {}
    for n, p in named:
        grads[n] = p.grad.detach().clone()
        res.add(src.t0 + k, "grads", n, rel(grads[n], src.grads(k, n)), MARGIN * env["grads"] * grow)
    return grads


def optimizer_check(src, k, named, opt, res, prec, store, grads, free_run):
    """Step k of opt from the golden parameters and gradients (or the
    model's own, free-running); every update and parameter judged."""
    before = {}
    with torch.no_grad():
        for n, p in named:
            g = grads[n] if free_run else src.grads(k, n).to(p.dtype).to(p.device)
            if src.subset:
                g = g * src.clip_coef(k)  # clipping over tensors not kept: applied here
            p.grad = g
            before[n] = p.detach().clone()
    opt.step(src.t0 + k, src.lr_scale(k))
    for n, p in named:
        ref1, ref0 = src.next_params(k, n), src.params(k, n)
        d_ref = ref1 - ref0
        kind = src.kind(k, n)
        nd, n1 = torch.linalg.norm(d_ref).item(), torch.linalg.norm(ref1).item()
        ratio = n1 / nd if nd > 0 else 0.0
        slack = rounding_slack(src.cfg, prec, kind)
        if not free_run:
            res.add(src.t0 + k, kind + " updates", n, rel(p.detach() - before[n], d_ref),
                    update_threshold(prec, kind, ratio, store, slack))
        tol_p = ((MARGIN * ENVELOPE[prec][kind] + slack) * (nd / n1 if n1 > 0 else 1)
                 + 3 * UNIT_ROUNDOFF[store])
        res.add(src.t0 + k, "params", n, rel(p.detach(), ref1), tol_p * (k + 1 if free_run else 1))


def replay(src, prec, opt_cls=LionMuon, device="cpu", model=True, free_run=False, steps=None):
    """Replay src in precision prec ("f64", "f32", "bf16"); a Result."""
    dev = torch.device(device)
    pdtype = torch.float64 if prec == "f64" else torch.float32
    ns_dtype = {"f64": torch.float64, "f32": torch.float32, "bf16": torch.bfloat16}[prec]
    store = "f64" if prec == "f64" else "f32"
    cfg = dict(src.cfg, ns_dtype=ns_dtype, device=str(dev), precision=prec,
               linear_weights=list(src.linear))
    if src.subset:
        cfg["grad_clip"] = 0.0
    if prec == "f64" and src.cfg.get("dtype", "f64") == "f32":
        raise InputError("%s: its tensors are F32 (__metadata__ dtype f32): the file cannot "
                         "hold a float64 replay; use --dtype float32 or bfloat16" % src.path)
    tmodel, named = make_params(src, cfg, pdtype, dev)
    model = model and tmodel is not None
    opt = make_optimizer(opt_cls, named, cfg, src)
    res = Result()
    K = src.K if steps is None else min(src.K, steps)
    for k in range(K):
        if not free_run or k == 0:
            with torch.no_grad():
                for n, p in named:
                    p.copy_(src.params(k, n).to(pdtype))
        grads = (model_check(src, k, tmodel, named, res, prec, prec == "bf16", dev,
                             k + 1 if free_run else 1) if model else None)
        optimizer_check(src, k, named, opt, res, prec, store, grads, free_run)
    return res


# ---------------------------------------------------------------------------

def describe(r):
    k, q, n, err, tol = r
    what = {"loss": "the loss", "grads": "the gradient of %s" % n,
            "params": "the parameters %s after the step" % n}.get(q, "the %s-step update of %s" % (q.split()[0], n))
    return "step %d, %s: relative error %.3e > threshold %.3e" % (k, what, err, tol)


def report(res, head):
    print(head)
    print("  %-14s %12s %12s %10s  %-6s %s" % ("quantity", "max error", "threshold", "err/thr",
                                              "result", "worst at"))
    for q in QUANTITIES:
        w = res.worst(q)
        if w is None:
            continue
        k, _, n, err, tol = w
        bad = any(r[1] == q and not (r[3] <= r[4]) for r in res.rows)
        print("  %-14s %12.3e %12.3e %10.3g  %-6s step %d %s" % (
            q, err, tol, err / tol if tol > 0 else math.inf, "FAIL" if bad else "PASS", k, n))
    f = res.first_failure()
    if f is not None:
        print("first failure: " + describe(f))
    print("verify_golden: %s" % ("PASS" if f is None else "FAIL"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("golden", nargs="?")
    ap.add_argument("--step-file", nargs=2, metavar=("IN", "OUT"),
                    help="replay one `lionmuon step IN OUT` instead of a golden file")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default=None, choices=list(PRECISIONS))
    ap.add_argument("--precision", default=None, choices=list(PRECISIONS.values()))
    ap.add_argument("--optimizer", default=None, metavar="MODULE:CLASS",
                    help="your optimizer: Class(named_params, cfg), step(t, lr_scale)")
    ap.add_argument("--steps", type=int, default=None, help="replay only the first N steps")
    ap.add_argument("--no-model", action="store_true", help="the optimizer check alone")
    ap.add_argument("--free-run", action="store_true",
                    help="train on from step.0.params with our own gradients")
    args = ap.parse_args(argv)
    prec = args.precision or PRECISIONS[args.dtype or "float64"]
    try:
        if (args.golden is None) == (args.step_file is None):
            raise InputError("give a golden file or --step-file IN OUT")
        src = Golden(args.golden) if args.golden else StepPair(*args.step_file)
        opt_cls = load_optimizer(args.optimizer) if args.optimizer else LionMuon
        dev = torch.device(args.device)
        if dev.type == "cuda":
            # float32 means float32: no TF32 tensor-core rounding in matmuls
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        if args.free_run and not src.has_model():
            raise InputError("--free-run needs a full golden file (not --keep, not a step file)")
        res = replay(src, prec, opt_cls, args.device, model=not args.no_model,
                     free_run=args.free_run, steps=args.steps)
    except InputError as ex:
        print("verify_golden: %s" % ex, file=sys.stderr)
        return 2
    c = src.cfg
    what = ("%s, %s L=%d C=%d V=%d" % (src.path, c["model"], c["n_layer"], c["n_embd"], c["vocab_size"])
            if isinstance(src, Golden) else "%s (one step at t = %d)" % (src.path, src.t0))
    head = ("verify_golden: %s, %s (P=%d, msign %s), %d steps%s, torch %s on %s in %s, optimizer %s%s"
            % (what, c["optimizer"], c["period"], c["msign"], min(src.K, args.steps or src.K),
               " (tensors kept: %s)" % c.get("keep") if isinstance(src, Golden) and src.subset else "",
               torch.__version__, args.device, prec, args.optimizer or "verify_golden:LionMuon",
               ", free-running" if args.free_run else ""))
    report(res, head)
    return 0 if res.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
