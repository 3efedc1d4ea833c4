"""mutants.py - deliberately broken variants of verify_golden.py's optimizer,
each one classic bug, for the mutation matrix (mutation_matrix.py,
tests/cli_mutation.sh).  Each is a plug-in like any other:

    /usr/bin/python3 verify_golden.py g.safetensors --optimizer mutants:NoWeightDecay

and overrides one piece of verify_golden.LionMuon (theory/algorithms.md §2
and §4 state the correct rules)."""
import math

import torch

from verify_golden import LionMuon, msign


class NoWeightDecay(LionMuon):
    """The matrix rule without its decoupled weight decay: W <- W - lr U."""

    def apply(self, p, U, lr, wd):
        p.sub_(lr * self.round_update(U))


class DecayAfterUpdate(LionMuon):
    """The decay applied after the update: W <- (W - lr U)(1 - lr wd)."""

    def apply(self, p, U, lr, wd):
        p.sub_(lr * self.round_update(U)).mul_(1 - lr * wd)


class MomentumBeforeDirection(LionMuon):
    """M <- b2 M + (1 - b2) G first, then C from the new M."""

    def matrix(self, name, p, g, t, lr_scale):
        self.update_momentum(self.state[name]["momentum"], g)
        saved = self.update_momentum
        self.update_momentum = lambda M, g: None
        try:
            super().matrix(name, p, g, t, lr_scale)
        finally:
            self.update_momentum = saved


class BetasSwapped(LionMuon):
    """beta2 in the direction, beta1 in the momentum."""

    def direction(self, M, g):
        b = self.cfg["beta2"]
        return b * M + (1 - b) * g

    def update_momentum(self, M, g):
        b = self.cfg["beta1"]
        M.mul_(b).add_((1 - b) * g)


class TallNoTranspose(LionMuon):
    """Newton-Schulz on a tall matrix as it is, not on its wide transpose."""

    def orthogonalize(self, C, steps=None):
        return msign(C, self.cfg["msign"], steps or self.cfg["ns_steps"], self.ns_dtype,
                     wide=False)


class WrongMuonScale(LionMuon):
    """Classic Muon's scale sqrt(max(1, m/n)) instead of 0.2 sqrt(max(m, n))."""

    def muon_scale(self, rows, cols):
        return math.sqrt(max(1.0, rows / cols))


class SignZeroIsOne(LionMuon):
    """sign(0) = 1 (x >= 0 -> 1), where torch.sign gives 0."""

    def sign(self, C):
        return torch.where(C >= 0, torch.ones_like(C), -torch.ones_like(C))


class WrongPhase(LionMuon):
    """The Muon step when (t + 1) mod P == 0, instead of t mod P == 0."""

    def is_muon_step(self, t):
        P = self.cfg["period"]
        return P > 0 and (t + 1) % P == 0


class EpsPlacementSwapped(LionMuon):
    """AdamW's eps on the other side of the bias correction (paper <-> torch)."""

    def eps_mode(self):
        return "torch" if self.cfg["adamw_eps_mode"] == "paper" else "paper"


class BiasCorrectionOffByOne(LionMuon):
    """AdamW's bias correction counted from 2: k = t + 2 instead of t + 1."""

    def bias_count(self, t):
        return t + 2


class EmbeddingToMatrix(LionMuon):
    """The token and position embeddings routed to the matrix rule."""

    def route(self, name, p):
        if self.kind != "adamw" and name in ("transformer.wte.weight", "transformer.wpe.weight"):
            return True
        return super().route(name, p)


class ClipAfterStep(LionMuon):
    """clip_grad_norm_ after the update: the step uses unclipped gradients."""

    @torch.no_grad()
    def step(self, t, lr_scale):
        grads = {n: p.grad for n, p in self.params}
        self.update(grads, t, lr_scale)
        self.clip(grads)


MUTANTS = [NoWeightDecay, DecayAfterUpdate, MomentumBeforeDirection, BetasSwapped,
           TallNoTranspose, WrongMuonScale, SignZeroIsOne, WrongPhase, EpsPlacementSwapped,
           BiasCorrectionOffByOne, EmbeddingToMatrix, ClipAfterStep]
