"""optim.py - the LionMuon optimizer family on dicts of named numpy arrays,
over the C API (lm_opt_*): one raw step as `lionmuon step` takes it, with
the state kept by the Optimizer or handed in and out by step().

The rules (theory/algorithms.md §2-§7): for a matrix W (m x n) with gradient
G and momentum M at global step t,
    C = beta1 M + (1 - beta1) G
    t mod P == 0:  W <- W (1 - lr_muon wd) - lr_muon 0.2 sqrt(max(m, n)) msign(C)
    otherwise:     W <- W (1 - lr_sign wd) - lr_sign sign(C)
    M <- beta2 M + (1 - beta2) G
with lionmuon, signmuon, muon, lion and signum pinning (P, beta1, beta2);
every other tensor (and every tensor under "adamw") follows AdamW; classic
Muon is "muon-nesterov" (§2.4) and the paper code's second class
"signmuon-sgd" (§3; also "sign_muon").  With round_update="bf16" each applied
matrix update is rounded to bfloat16 (§7)."""
import ctypes
import json

import numpy as np

from ._lib import check, dptr, f64, fail, lib, shape_array, text

OPTIMIZERS = ("adamw", "lion", "signum", "muon", "signmuon", "lionmuon", "muon-nesterov",
              "signmuon-sgd")
_RULES = {"auto": -1, "matrix": 0, "adamw": 1}
_RULE_NAMES = {0: "matrix", 1: "adamw"}
_BUFFERS = {"matrix": ("momentum",), "adamw": ("exp_avg", "exp_avg_sq")}
_TOOK = {1: "muon", 0: "lion", -1: "adamw"}


class Optimizer:
    """One optimizer of the family with its state, on named parameters.

        opt = Optimizer("lionmuon", lr_muon=1e-3, period=2, msign="svd")
        params = opt.step(params, grads)      # new arrays; t advances by one

    Settings are the flags of `lionmuon step` with underscores (the keys of
    lm_opt_new in include/lionmuon/api.h): lr_muon, lr_sign, lr_adamw,
    beta1, beta2, period, msign, ns_steps, msign_tol, msign_rank_rtol,
    srank_alpha, srank_exact (bool), seed, weight_decay, adamw_beta1,
    adamw_beta2, adamw_eps, adamw_eps_mode ("paper" | "torch"), decay_on
    ("all" | "linear"), round_update ("none" | "bf16"); for muon-nesterov
    momentum_form ("ema" | "sgd") and muon_adjust ("original" |
    "match_rms_adamw"); for muon-nesterov and signmuon-sgd nesterov (bool, or
    "on" | "off"); for signmuon-sgd sign_scaling ("none" | "muon" | "frob"),
    cheap_mode ("sign" | "norm" | "cheap-ns") and cheap_ns_steps.  Unset
    ones take the optimizer's defaults (see .config); one that contradicts
    the optimizer (beta2 with signum, a period with lion) or that it does not
    read (nesterov with lionmuon) raises LionMuonError.  Parameters are
    declared with add_param, or on the first step from the dicts' keys, in
    order, with the automatic rule (2-D: matrix rule, else AdamW) and the
    automatic linear flag (2-D: a Linear weight, decayed under
    decay_on="linear")."""

    def __init__(self, optimizer="lionmuon", **settings):
        cfg = {"optimizer": optimizer}
        cfg.update({k: v for k, v in settings.items() if v is not None})
        try:
            js = json.dumps(cfg, allow_nan=False)
        except (TypeError, ValueError) as e:
            fail("optimizer config: %s" % e)
        h = ctypes.c_void_p()
        check(lib.lm_opt_new(js.encode("utf-8"), ctypes.byref(h)))
        self._h = h
        self._shapes = {}
        self.t = 0
        self.took = {}

    def close(self):
        """Free the C state now (otherwise when the object is collected)."""
        if getattr(self, "_h", None) is not None and self._h.value:
            lib.lm_opt_free(self._h)
            self._h = None

    __del__ = close

    @property
    def config(self):
        """The effective settings (every one, pinned values applied) as a dict."""
        n = check(lib.lm_opt_config(self._h, None, 0))
        buf = ctypes.create_string_buffer(n + 1)
        check(lib.lm_opt_config(self._h, buf, n + 1))
        return json.loads(buf.value.decode("utf-8"))

    @property
    def names(self):
        """The parameter names, in the order they were added."""
        return list(self._shapes)

    def add_param(self, name, shape, rule="auto", linear=None):
        """Declare parameter `name` of the given shape; rule "auto" (2-D:
        matrix rule, else AdamW), "matrix" or "adamw" (everything is AdamW
        under optimizer "adamw").  linear: whether it is a Linear layer's
        weight, the tensors weight decay applies to under decay_on="linear"
        (None: the 2-D tensors).  To mirror torch's two parameter groups,
        give decay_on="linear" and linear=True for the group with weight
        decay, linear=False for the other (biases, gains, embeddings).  All
        parameters come before the first step."""
        if rule not in _RULES:
            fail("add_param: %s: rule must be auto, matrix or adamw (got %r)" % (name, rule))
        if linear not in (None, True, False):
            fail("add_param: %s: linear must be None, True or False (got %r)" % (name, linear))
        shape = tuple(int(d) for d in shape)
        arr, p = shape_array(shape)
        check(lib.lm_opt_add_param_ex(self._h, text(name, "parameter name"), len(shape), p,
                                      _RULES[rule], -1 if linear is None else int(linear)))
        self._shapes[name] = shape

    def rule(self, name):
        """"matrix" or "adamw": the rule parameter `name` follows."""
        return _RULE_NAMES[check(lib.lm_opt_param_rule(self._h, text(name, "parameter name")))]

    def linear(self, name):
        """Whether parameter `name` counts as a Linear weight (decayed under
        decay_on="linear")."""
        return bool(check(lib.lm_opt_param_linear(self._h, text(name, "parameter name"))))

    def _arrays(self, d, what):
        if set(d) != set(self._shapes):
            missing = [n for n in self._shapes if n not in d]
            extra = [n for n in d if n not in self._shapes]
            fail("step: %s: %s" % (what, "; ".join(
                (["missing " + ", ".join(missing)] if missing else []) +
                (["unknown " + ", ".join(map(str, extra))] if extra else []))))
        out = []
        for n, shape in self._shapes.items():
            a = np.array(d[n], dtype=np.float64, order="C", copy=True)
            if a.shape != shape:
                fail("step: %s %s has shape %s, declared %s" % (what, n, a.shape, shape))
            out.append(a)
        return out

    def step(self, params, grads, t=None, lr_scale=1.0):
        """One step on dicts name -> array: returns the updated parameters as
        new float64 arrays (the inputs are not modified).  t is the global
        step counter (default: this optimizer's own, which starts at 0 and
        advances with each step); lr_scale is the schedule's multiplier: it
        multiplies every learning rate, except under signmuon-sgd, whose
        cheap-step and AdamW rates stay fixed (lr_muon alone is scaled).
        After the step, .took maps each name to the step it took: "muon",
        "lion" (the sign step; signmuon-sgd's cheap step) or "adamw".
        On LionMuonError (a non-finite gradient, ...) nothing has changed."""
        if not self._shapes:
            for n, a in params.items():
                self.add_param(n, np.shape(a))
        t = self.t if t is None else int(t)
        ps, gs = self._arrays(params, "params"), self._arrays(grads, "grads")
        n = len(ps)
        P = ctypes.POINTER(ctypes.c_double)
        pp = (P * n)(*[dptr(a) for a in ps])
        gp = (P * n)(*[dptr(a) for a in gs])
        took = (ctypes.c_int * n)()
        check(lib.lm_opt_step(self._h, t, float(lr_scale), n, pp, gp, took))
        self.t = t + 1
        self.took = {name: _TOOK[took[i]] for i, name in enumerate(self._shapes)}
        return dict(zip(self._shapes, ps))

    def state(self, name):
        """The state of parameter `name` as new arrays of its shape:
        {"momentum": M} (matrix rule) or {"exp_avg": m, "exp_avg_sq": v}."""
        shape = self._shape(name)
        out = {}
        for which in _BUFFERS[self.rule(name)]:
            a = np.empty(shape, dtype=np.float64)
            check(lib.lm_opt_state_get(self._h, text(name, "name"), which.encode(), dptr(a),
                                       a.size))
            out[which] = a
        return out

    def set_state(self, name, buffers):
        """Set state buffers of parameter `name` from a dict like state()'s
        (buffers left out keep their values).  Raises on an unknown buffer,
        a wrong shape, a non-finite value or a negative exp_avg_sq."""
        shape = self._shape(name)
        for which, v in buffers.items():
            a = f64(v)
            if a.shape != shape:
                fail("set_state: %s.%s has shape %s, the parameter %s" % (name, which, a.shape,
                                                                         shape))
            check(lib.lm_opt_state_set(self._h, text(name, "name"), text(which, "buffer"),
                                       dptr(a), a.size))

    def state_dict(self):
        """{"t": t, "state": {name: state(name)}}."""
        return {"t": self.t, "state": {n: self.state(n) for n in self._shapes}}

    def load_state_dict(self, d):
        """The inverse of state_dict()."""
        for n, bufs in d["state"].items():
            self.set_state(n, bufs)
        self.t = int(d["t"])

    def trigger(self, name, grad, t=None):
        """(stable rank, is_muon) for matrix parameter `name` with gradient
        grad at step t (default: the next step), from the current momentum,
        changing nothing, as the step decides it: the trigger's estimate
        ||X||_F^2 / (||X||_2^2 + 1e-12) of the matrix X it looks at (C =
        beta1 M + (1 - beta1) G; signmuon-sgd: the updated momentum mu M + G),
        ||X||_2 from 3 power iterations from the seeded start vector (or
        exact with srank_exact), and whether the step would be a Muon step
        (srank <= srank_alpha min(m, n) when srank_alpha > 0, else
        t mod P == 0)."""
        shape = self._shape(name)
        g = f64(grad)
        if g.shape != shape:
            fail("trigger: gradient of %s has shape %s, the parameter %s" % (name, g.shape, shape))
        s, m = ctypes.c_double(), ctypes.c_int()
        check(lib.lm_opt_trigger(self._h, text(name, "name"), self.t if t is None else int(t),
                                 dptr(g), g.size, ctypes.byref(s), ctypes.byref(m)))
        return s.value, bool(m.value)

    def _shape(self, name):
        if name not in self._shapes:
            fail("no parameter '%s'" % (name,))
        return self._shapes[name]


def step(optimizer, params, grads, state=None, t=0, lr_scale=1.0, rules=None, linear=None,
         **settings):
    """One raw step, as `lionmuon step` takes it from a file: params and
    grads are dicts name -> array, state (optional) a dict name -> {buffer:
    array} (absent means zeros), t the global step counter, rules an optional
    dict name -> "auto"|"matrix"|"adamw", linear an optional dict name ->
    bool (add_param's linear), settings as for Optimizer.
    Returns (new_params, new_state), new arrays both."""
    opt = Optimizer(optimizer, **settings)
    try:
        for n, a in params.items():
            opt.add_param(n, np.shape(a), (rules or {}).get(n, "auto"),
                          (linear or {}).get(n))
        for n, bufs in (state or {}).items():
            opt.set_state(n, bufs)
        new = opt.step(params, grads, t=t, lr_scale=lr_scale)
        return new, {n: opt.state(n) for n in opt.names}
    finally:
        opt.close()
