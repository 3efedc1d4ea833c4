"""optim_rules.py - the optimizer settings that depend on names, shapes and
the step counter alone, shared by verify_golden.py (its LionMuon replays
with them) and golden_size.py.  Standard library only, so that
golden_size.py runs without torch.  Written from theory/algorithms.md, not
from the C code:

  route(name, shape, optimizer, routing)   matrix rule or AdamW (§6)
  schedule(k, cfg)                          the learning-rate multiplier (§5)
  CHOICES, LEGACY                           the metadata keys of the optimizer's
                                            choices, their values, and what a file
                                            written before a key existed did
"""
import math

# The choices a golden file or a step file records in __metadata__ (the C
# code's optim.h and train.h), with the values each may take.
CHOICES = {
    "routing": ("name", "dim", "paper", "hidden", "2d"),
    "decay_on": ("all", "linear"),
    "round_update": ("none", "bf16"),
    "momentum_form": ("ema", "sgd"),
    "muon_adjust": ("original", "match_rms_adamw"),
    "nesterov": ("on", "off"),
    "sign_scaling": ("none", "muon", "frob"),
    "cheap_mode": ("sign", "norm", "cheap-ns"),
    "srank_exact": ("false", "true"),
    "schedule": ("cos", "wsd", "constant"),
}
# What a file without the key was written with: the behaviour of the C code
# before these options existed (the routing `paper`, decay on every tensor,
# no update rounding, muon-nesterov in SGD form with sqrt(max(1, m/n)), the
# cosine schedule).  A key that is present is always obeyed.
LEGACY = {
    "routing": "paper", "decay_on": "all", "round_update": "none", "momentum_form": "sgd",
    "muon_adjust": "original", "nesterov": "on", "sign_scaling": "none", "cheap_mode": "sign",
    "cheap_ns_steps": 2, "srank_exact": "false", "schedule": "cos", "wsd_fract_decay": 0.1,
    "wsd_final_lr": 0.0,
}
META_INT = ["cheap_ns_steps"]
META_FLOAT = ["wsd_fract_decay", "wsd_final_lr"]
# the optimizers: the LionMuon family (§2.1-§2.2), classic Muon (§2.4), the
# paper code's second class (§3), AdamW (§4)
LIONMUON_FAMILY = ("lion", "signum", "muon", "signmuon", "lionmuon")
OPTIMIZERS = LIONMUON_FAMILY + ("muon-nesterov", "signmuon-sgd", "adamw")
EMBEDDINGS = ("transformer.wte.weight", "transformer.wpe.weight")


def route(name, shape, optimizer, routing):
    """Does tensor `name` of this shape follow the matrix rule (§6)?
    name: every 2-D tensor but wte; dim: 2-D with first dimension < 10000;
    paper (hidden): 2-D under transformer.h.; 2d (step files): every 2-D
    tensor; nothing under adamw."""
    if optimizer == "adamw" or len(shape) != 2:
        return False
    if routing == "name":
        return name != "transformer.wte.weight"
    if routing == "dim":
        return shape[0] < 10000
    if routing == "2d":
        return True
    if routing in ("paper", "hidden"):
        return name.startswith("transformer.h.")
    raise ValueError("unknown routing %s" % routing)


def cos_factor(k, warmup, iterations):
    """cos: 0.01 + 0.99 k / w in warm-up, then half a cosine to 0."""
    if k < warmup:
        return 0.01 + 0.99 * k / warmup
    if iterations <= warmup:
        return 1.0
    frac = min(1.0, (k - warmup) / (iterations - warmup))
    return 0.5 * (1 + math.cos(math.pi * frac))


def wsd_factor(k, warmup, iterations, fract_decay, final):
    """wsd: k / w + (1 - k / w) / 100 in warm-up, 1, then linear to `final`
    over the last int(fract_decay * iterations) steps."""
    n_decay = int(fract_decay * iterations)
    n_hold = iterations - n_decay
    if k < warmup:
        return k / warmup + (1 - k / warmup) / 100
    if k < n_hold:
        return 1.0
    if k < iterations:
        return final + (1 - final) * (1 - (k - n_hold) / n_decay)
    return final


def schedule(k, cfg):
    """The multiplier of step k under cfg's schedule (absent: cos)."""
    s = cfg.get("schedule", LEGACY["schedule"])
    if s == "constant":
        return 1.0
    if s == "wsd":
        return wsd_factor(k, cfg["warmup"], cfg["iterations"],
                          cfg.get("wsd_fract_decay", LEGACY["wsd_fract_decay"]),
                          cfg.get("wsd_final_lr", LEGACY["wsd_final_lr"]))
    return cos_factor(k, cfg["warmup"], cfg["iterations"])
