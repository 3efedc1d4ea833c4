"""paper_optim.py - PyTorch definitions of what the paper's released runs did
beyond the LionMuon rule, for replaying golden files (verify_golden.py):

  the second class of the paper's code (optimizer "signmuon-sgd", its
      opt = sign_muon; theory/algorithms.md §3): SGD momentum, Nesterov
      direction, Muon steps every P steps, cheap steps (sign with a scale,
      norm, cheap Newton-Schulz) between them, only lr_muon scheduled
  AdamW as the paper's baseline ran it (§4): torch.optim.AdamW itself with two
      parameter groups, weight decay on the Linear weights only
  the routings (§6): by name, the literal dimension test, hidden matrices only
  the bf16 rounding of every applied matrix update (§7), as torch's
      .to(torch.bfloat16)
  classic Muon in EMA form (torch.optim.Muon) and SGD form, with either
      shape factor (§2.4)
  the wsd and constant schedules (§5)
and, so that one optimizer object replays a whole file, the LionMuon family
(§2) and the paper code's AdamW (eps before the bias correction).  Written
from those definitions, not from the C code.

verify_golden.py uses this module for golden files whose metadata carries
the keys written since these options exist (round_update, decay_on, ...);
files without them replay with its own Optimizer as before.
"""
import math

import torch

# metadata keys of the extended golden files, by type
META_INT = ["cheap_ns_steps"]
META_FLOAT = ["wsd_fract_decay", "wsd_final_lr"]
LIONMUON_FAMILY = ("lion", "signum", "muon", "signmuon", "lionmuon")


def extended(cfg):
    """True for a golden file written with the extended metadata."""
    return "round_update" in cfg


def coerce(cfg):
    """Convert this module's metadata values from text, in place."""
    for k in META_INT:
        if k in cfg:
            cfg[k] = int(cfg[k])
    for k in META_FLOAT:
        if k in cfg:
            cfg[k] = float(cfg[k])


def replays_srank(cfg):
    """The adaptive trigger replays only with the exact ||C||_2 (--srank-exact):
    the power iteration's random start vector is drawn by GSL in the C code."""
    return extended(cfg) and cfg.get("srank_exact") == "true"


def schedule(k, cfg, cos):
    """The multiplier of step k: cos (the function given), wsd, constant."""
    s = cfg.get("schedule", "cos")
    if s == "constant":
        return 1.0
    if s != "wsd":
        return cos(k, cfg["warmup"], cfg["iterations"])
    w, n = cfg["warmup"], cfg["iterations"]
    n_decay = int(cfg["wsd_fract_decay"] * n)
    n_hold = n - n_decay
    final = cfg["wsd_final_lr"]
    if k < w:
        return k / w + (1 - k / w) / 100
    if k < n_hold:
        return 1.0
    if k < n:
        return final + (1 - final) * (1 - (k - n_hold) / n_decay)
    return final


def is_matrix(name, p, cfg):
    """Routing (§6): does tensor `name` follow the matrix rule?"""
    if cfg["optimizer"] == "adamw" or p.dim() != 2:
        return False
    routing = cfg.get("routing", "paper")
    if routing == "name":
        return name != "transformer.wte.weight"
    if routing == "dim":
        return p.shape[0] < 10000
    return name.startswith("transformer.h.")


def is_linear_weight(name, p):
    """The weights of the nn.Linear layers: the 2-D tensors inside the blocks
    (wte, wpe are embeddings; the tied head is wte)."""
    return p.dim() == 2 and name.startswith("transformer.h.")


def bf16(u):
    """torch's rounding of an update to bfloat16, back in u's dtype."""
    return u.to(torch.bfloat16).to(u.dtype)


class PaperOptimizer:
    """One object for every optimizer of an extended golden file."""

    def __init__(self, params, cfg, ns_dtype, msign):
        self.c, self.ns_dtype, self.msign = cfg, ns_dtype, msign
        self.kind = cfg["optimizer"]
        self.rule, self.state = {}, {}
        self.wd = {}
        linear_only = cfg.get("decay_on", "all") == "linear"
        for name, p in params:
            self.rule[name] = "matrix" if is_matrix(name, p, cfg) else "adamw"
            self.state[name] = {}
            decays = not linear_only or is_linear_weight(name, p)
            self.wd[name] = cfg["weight_decay"] if decays else 0.0
        self.torch_adamw = None
        if self.kind == "adamw" and cfg["adamw_eps_mode"] == "torch":
            # the baseline: torch.optim.AdamW, one group per weight decay
            groups = {}
            for name, p in params:
                groups.setdefault(self.wd[name], []).append(p)
            self.torch_adamw = torch.optim.AdamW(
                [{"params": ps, "weight_decay": wd} for wd, ps in groups.items()],
                lr=cfg["lr_adamw"], betas=(cfg["adamw_beta1"], cfg["adamw_beta2"]),
                eps=cfg["adamw_eps"])

    def ns(self, X, steps=None):
        c = self.c
        return self.msign(X, c["msign"], steps or c["ns_steps"], self.ns_dtype)

    def apply(self, p, U, lr, wd):
        """W <- W (1 - lr wd) - lr U, U rounded to bf16 first when asked (§7)."""
        if self.c.get("round_update") == "bf16":
            U = bf16(U)
        p.mul_(1 - lr * wd)
        p.add_(U, alpha=-lr)

    def wants_muon(self, X, t, P):
        alpha = self.c.get("srank_alpha", 0.0)
        if alpha > 0:  # exact ||X||_2 (replays_srank)
            f = torch.linalg.norm(X).item()
            s1 = torch.linalg.matrix_norm(X, 2).item()
            return f * f / (s1 * s1 + 1e-12) <= alpha * min(X.shape)
        return P > 0 and t % P == 0

    @torch.no_grad()
    def step(self, params, grads, t, scale):
        if self.torch_adamw is not None:
            for group in self.torch_adamw.param_groups:
                group["lr"] = self.c["lr_adamw"] * scale
            for name, p in params:
                p.grad = grads[name].clone()
            self.torch_adamw.step()
            return
        # the second class schedules lr_muon alone (§3)
        side = 1.0 if self.kind == "signmuon-sgd" else scale
        for name, p in params:
            g = grads[name]
            if self.rule[name] == "adamw":
                self.adamw(name, p, g, t, side)
            elif self.kind == "signmuon-sgd":
                self.sign_muon(name, p, g, t, scale)
            elif self.kind == "muon-nesterov":
                self.muon_nesterov(name, p, g, scale)
            elif self.kind in LIONMUON_FAMILY:
                self.lion_muon(name, p, g, t, scale)
            else:
                raise ValueError("unknown optimizer %s" % self.kind)

    def adamw(self, name, p, g, t, scale):
        """AdamW (§4); paper: eps + sqrt(v) before the bias correction."""
        c, st = self.c, self.state[name]
        if not st:
            st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
        b1, b2, eps = c["adamw_beta1"], c["adamw_beta2"], c["adamw_eps"]
        lr = c["lr_adamw"] * scale
        st["m"].lerp_(g, 1 - b1)
        st["v"].lerp_(g * g, 1 - b2)
        k = t + 1
        bc1, bc2 = 1 - b1 ** k, 1 - b2 ** k
        p.mul_(1 - lr * self.wd[name])
        if c["adamw_eps_mode"] == "paper":
            p.sub_((lr * math.sqrt(bc2) / bc1) * st["m"] / (eps + st["v"].sqrt()))
        else:
            p.sub_((lr / bc1) * st["m"] / (st["v"].sqrt() / math.sqrt(bc2) + eps))

    def lion_muon(self, name, p, g, t, scale):
        """The LionMuon rule (§2.1): C = b1 M + (1 - b1) G; Muon or sign step;
        M <- b2 M + (1 - b2) G."""
        c, st = self.c, self.state[name]
        if not st:
            st["M"] = torch.zeros_like(p)
        M = st["M"]
        C = M * c["beta1"] + g * (1 - c["beta1"])
        if self.wants_muon(C, t, c["period"]):
            U = self.ns(C) * (0.2 * max(p.shape) ** 0.5)
            lr = c["lr_muon"] * scale
        else:
            U = C.sign()
            lr = c["lr_sign"] * scale
        self.apply(p, U, lr, self.wd[name])
        M.mul_(c["beta2"]).add_(g, alpha=1 - c["beta2"])

    def muon_nesterov(self, name, p, g, scale):
        """Classic Muon (§2.4): EMA form buf.lerp_(g, 1 - mu), direction
        g.lerp(buf, mu), as torch.optim.Muon; SGD form buf = mu buf + g,
        direction g + mu buf; shape factor original or match_rms_adamw."""
        c, st = self.c, self.state[name]
        if not st:
            st["B"] = torch.zeros_like(p)
        B, mu = st["B"], c["beta1"]
        if c.get("momentum_form", "sgd") == "ema":
            B.lerp_(g, 1 - mu)
            D = g.lerp(B, mu) if c.get("nesterov", "on") == "on" else B
        else:
            B.mul_(mu).add_(g)
            D = g + mu * B if c.get("nesterov", "on") == "on" else B
        rows, cols = p.shape
        if c.get("muon_adjust", "original") == "match_rms_adamw":
            a = 0.2 * math.sqrt(max(rows, cols))
        else:
            a = math.sqrt(max(1.0, rows / cols))
        self.apply(p, self.ns(D) * a, c["lr_muon"] * scale, self.wd[name])

    def sign_muon(self, name, p, g, t, scale):
        """The second class (§3): B <- mu B + G; D = G + mu B (or B); a Muon step
        every P steps (or by the trigger on B), else the cheap step at the
        fixed rate lr_sign."""
        c, st = self.c, self.state[name]
        if not st:
            st["B"] = torch.zeros_like(p)
        B, mu = st["B"], c["beta1"]
        B.mul_(mu).add_(g)
        D = g.add(B, alpha=mu) if c.get("nesterov", "on") == "on" else B.clone()
        rows, cols = p.shape
        if self.wants_muon(B, t, c["period"]):
            U = self.ns(D) * (0.2 * max(rows, cols) ** 0.5)
            lr = c["lr_muon"] * scale
        else:
            U = self.cheap(D)
            lr = c["lr_sign"]
        self.apply(p, U, lr, self.wd[name])

    def cheap(self, D):
        c = self.c
        rows, cols = D.shape
        mode = c.get("cheap_mode", "sign")
        if mode == "norm":
            U = D / (D.norm() + 1e-7)
            U *= min(rows, cols) ** 0.5
            U *= max(1, rows / cols) ** 0.5
            return U
        if mode == "cheap-ns":
            return self.ns(D, c["cheap_ns_steps"]) * (0.2 * max(rows, cols) ** 0.5)
        U = D.sign()
        scaling = c.get("sign_scaling", "none")
        if scaling in ("muon", "frob"):
            U /= max(rows, cols) ** 0.5
            if scaling == "muon":
                U *= max(1, rows / cols) ** 0.5
        return U


def make(params, cfg, ns_dtype, msign):
    """The optimizer for a golden file with the extended metadata, else None."""
    if not extended(cfg):
        return None
    coerce(cfg)
    return PaperOptimizer(params, cfg, ns_dtype, msign)
