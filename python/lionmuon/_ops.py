"""_ops.py - msign, the stable rank, comparison and the schedule, over the C
API (lm_msign, lm_stable_rank, lm_compare, lm_lr_schedule)."""
import ctypes
from collections import namedtuple

import numpy as np

from ._lib import CompareStruct, MsignInfo, check, dptr, f64, fail, lib, shape_array, text

MsignResult = namedtuple("MsignResult", "out iterations rank last_change")
MsignResult.__doc__ = """msign with info=True: the polar factor and what the method did
(iterations: Newton-Schulz steps run, 0 for svd; rank: singular values kept
by svd, else -1; last_change: cubic's final relative change, else 0)."""


def msign(a, method="svd", steps=None, tol=None, rank_rtol=None, info=False):
    """msign(a) = U V^T for a 2-D array a (m x n) with thin SVD U S V^T: a new
    float64 array of a's shape (`lionmuon msign` on one tensor).

    method     "svd" (exact), "ns5", "cubic" or "polar-express"
    steps      ns5, polar-express: iterations (default 5); cubic: cap (100)
    tol        cubic: relative-change tolerance (default 1e-12)
    rank_rtol  svd: keep sigma_i > rank_rtol sigma_max (default max(m, n) eps);
               cubic: the cut-off below which singular values go to 0 (1e-10)
    info       also return the iterations, rank and last change (MsignResult)
    Raises LionMuonError on a non-finite input, an unknown method, a bad
    option or a method that fails."""
    a = f64(a)
    if a.ndim != 2:
        fail("msign: expected a 2-D array, got shape %s" % (a.shape,))
    out = np.empty_like(a)
    inf = MsignInfo()
    check(lib.lm_msign(text(method, "method"), a.shape[0], a.shape[1], dptr(a), dptr(out),
                       0 if steps is None else int(steps), 0.0 if tol is None else float(tol),
                       0.0 if rank_rtol is None else float(rank_rtol), ctypes.byref(inf)))
    if info:
        return MsignResult(out, inf.iterations, inf.rank, inf.last_change)
    return out


def stable_rank(a):
    """||a||_F^2 / ||a||_2^2 of a 2-D array, ||a||_2 from 3 power iterations
    from a fixed start: the quantity of the optimizer's adaptive trigger
    (theory/algorithms.md §2.3); 0 for a = 0."""
    a = f64(a)
    if a.ndim != 2:
        fail("stable_rank: expected a 2-D array, got shape %s" % (a.shape,))
    s = ctypes.c_double()
    check(lib.lm_stable_rank(a.shape[0], a.shape[1], dptr(a), ctypes.byref(s)))
    return s.value


class CompareResult(namedtuple("CompareResult", "passed max_abs max_rel rel_frobenius "
                                                "worst_index n_bad first_bad shape")):
    """The outcome of compare(a, b): passed (every element within tolerance),
    max_abs = max |a - b|, max_rel = max |a - b| / |b|, rel_frobenius =
    ||a - b||_F / ||b||_F (NaN for all three when a NaN was met), worst_index
    (flat index of the largest |a - b|, or of the first NaN pair; -1 when
    empty), n_bad (elements outside the tolerance), first_bad (flat index of
    the first, -1 if none).  True in a boolean context when passed."""

    def __bool__(self):
        return bool(self.passed)

    @property
    def worst(self):
        """worst_index as an index tuple into the arrays' shape (None if empty)."""
        if self.worst_index < 0:
            return None
        return tuple(int(i) for i in np.unravel_index(self.worst_index, self.shape))


def compare(a, b, rtol=1e-12, atol=1e-12):
    """Compare a (under test) with b (the reference), numpy.allclose's rule
    |a - b| <= atol + rtol |b| elementwise, NaN always failing and an
    infinity passing only against the same infinity (`lionmuon compare` on
    one tensor).  Returns a CompareResult; raises LionMuonError when the
    shapes differ or a tolerance is negative."""
    a, b = f64(a), f64(b)
    sa, pa = shape_array(a.shape)
    sb, pb = shape_array(b.shape)
    r = CompareStruct()
    check(lib.lm_compare(a.ndim, pa, dptr(a), b.ndim, pb, dptr(b), float(rtol), float(atol),
                         ctypes.byref(r)))
    return CompareResult(bool(r.passed), r.max_abs, r.max_rel, r.rel_frobenius, r.worst_index,
                         r.n_bad, r.first_bad, a.shape)


def lr_schedule(k, warmup, iterations):
    """The warm-up + cosine multiplier of step k (theory/algorithms.md §5)."""
    return lib.lm_lr_schedule(int(k), int(warmup), int(iterations))
