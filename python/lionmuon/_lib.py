"""_lib.py - finding and loading liblionmuon.so, the prototypes of its C API
(include/lionmuon/api.h), and the one exception type.

The library is looked for, in order:
  1. $LIONMUON_LIB: the path of the library file (or of a folder holding
     liblionmuon.so.0); nothing else is tried when it is set;
  2. the build tree: ../../build/liblionmuon.so.0 from this package
     (python/lionmuon/ in a checkout where `make` has run);
  3. the install: ../../../liblionmuon.so.0 from this package
     (PREFIX/lib/python3/dist-packages/lionmuon/ -> PREFIX/lib), then the
     LIBDIR that `make install` recorded in _install.py;
  4. the dynamic loader's own search (ldconfig, LD_LIBRARY_PATH).
"""
import ctypes
import os
from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_void_p

SONAME = "liblionmuon.so.0"


class LionMuonError(Exception):
    """A failure reported by the C library; the message is the library's
    one-line message (lm_last_error()), naming the tensor, key or file."""


class MsignInfo(ctypes.Structure):
    _fields_ = [("iterations", c_int), ("rank", c_int), ("last_change", c_double)]


class CompareStruct(ctypes.Structure):
    _fields_ = [("max_abs", c_double), ("max_rel", c_double), ("rel_frobenius", c_double),
                ("worst_index", c_int64), ("n_bad", c_int64), ("first_bad", c_int64),
                ("passed", c_int32), ("reserved", c_int32)]


def _candidates():
    env = os.environ.get("LIONMUON_LIB")
    if env:
        return [os.path.join(env, SONAME) if os.path.isdir(env) else env]
    here = os.path.dirname(os.path.abspath(__file__))
    found = [os.path.join(here, "..", "..", "build", SONAME),
             os.path.join(here, "..", "..", "..", SONAME)]
    try:
        from ._install import LIBDIR
        found.append(os.path.join(LIBDIR, SONAME))
    except ImportError:
        pass
    return [os.path.normpath(p) for p in found if os.path.exists(p)] + [SONAME]


def _load():
    # The tool sets OMP_WAIT_POLICY=passive when it is unset (spinning OpenMP
    # threads take the cores BLAS needs); libgomp reads it once, when it is
    # loaded, so the same default is set here, before loading.  An explicit
    # setting is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("lionmuon: cannot load %s (set LIONMUON_LIB to its path, or run make): %s"
                      % (SONAME, "; ".join(errors)))


lib, path = _load()

_P_DOUBLE = POINTER(c_double)
_P_INT64 = POINTER(c_int64)
_PROTOTYPES = {
    "lm_version": (c_char_p, []),
    "lm_last_error": (c_char_p, []),
    "lm_msign": (c_int, [c_char_p, c_int64, c_int64, _P_DOUBLE, _P_DOUBLE, c_int, c_double,
                         c_double, POINTER(MsignInfo)]),
    "lm_stable_rank": (c_int, [c_int64, c_int64, _P_DOUBLE, _P_DOUBLE]),
    "lm_compare": (c_int, [c_int, _P_INT64, _P_DOUBLE, c_int, _P_INT64, _P_DOUBLE, c_double,
                           c_double, POINTER(CompareStruct)]),
    "lm_lr_schedule": (c_double, [c_int64, c_int64, c_int64]),
    "lm_opt_new": (c_int, [c_char_p, POINTER(c_void_p)]),
    "lm_opt_free": (None, [c_void_p]),
    "lm_opt_config": (c_int, [c_void_p, c_char_p, c_size_t]),
    "lm_opt_add_param": (c_int, [c_void_p, c_char_p, c_int, _P_INT64, c_int]),
    "lm_opt_add_param_ex": (c_int, [c_void_p, c_char_p, c_int, _P_INT64, c_int, c_int]),
    "lm_opt_nparams": (c_int, [c_void_p]),
    "lm_opt_param_name": (c_char_p, [c_void_p, c_int]),
    "lm_opt_param_rule": (c_int, [c_void_p, c_char_p]),
    "lm_opt_param_linear": (c_int, [c_void_p, c_char_p]),
    "lm_opt_step": (c_int, [c_void_p, c_int64, c_double, c_int64, POINTER(_P_DOUBLE),
                            POINTER(_P_DOUBLE), POINTER(c_int)]),
    "lm_opt_state_get": (c_int, [c_void_p, c_char_p, c_char_p, _P_DOUBLE, c_int64]),
    "lm_opt_state_set": (c_int, [c_void_p, c_char_p, c_char_p, _P_DOUBLE, c_int64]),
    "lm_opt_trigger": (c_int, [c_void_p, c_char_p, c_int64, _P_DOUBLE, c_int64, _P_DOUBLE,
                               POINTER(c_int)]),
    "lm_st_read": (c_int, [c_char_p, POINTER(c_void_p)]),
    "lm_st_free": (None, [c_void_p]),
    "lm_st_count": (c_int, [c_void_p]),
    "lm_st_name": (c_char_p, [c_void_p, c_int]),
    "lm_st_dtype": (c_char_p, [c_void_p, c_int]),
    "lm_st_ndim": (c_int, [c_void_p, c_int]),
    "lm_st_shape": (c_int, [c_void_p, c_int, _P_INT64]),
    "lm_st_numel": (c_int64, [c_void_p, c_int]),
    "lm_st_is_int": (c_int, [c_void_p, c_int]),
    "lm_st_data_f64": (_P_DOUBLE, [c_void_p, c_int]),
    "lm_st_data_i64": (_P_INT64, [c_void_p, c_int]),
    "lm_st_meta_count": (c_int, [c_void_p]),
    "lm_st_meta_key": (c_char_p, [c_void_p, c_int]),
    "lm_st_meta_value": (c_char_p, [c_void_p, c_int]),
    "lm_st_write": (c_int, [c_char_p, c_int, POINTER(c_char_p), POINTER(c_int),
                            POINTER(_P_INT64), POINTER(c_void_p), POINTER(c_int), c_char_p,
                            c_int]),
}
for _name, (_res, _args) in _PROTOTYPES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def check(rc):
    """Raise LionMuonError with the library's message when rc < 0."""
    if rc < 0:
        raise LionMuonError(lib.lm_last_error().decode("utf-8", "replace"))
    return rc


def fail(msg):
    raise LionMuonError(msg)


def f64(a):
    """a as a C-contiguous float64 array of a's shape (a copy only when
    needed; numpy's ascontiguousarray alone turns a 0-d array into 1-d)."""
    import numpy as np
    a = np.asarray(a)
    return np.ascontiguousarray(a, dtype=np.float64).reshape(a.shape)


def dptr(a):
    """Pointer to a float64 array's data."""
    return a.ctypes.data_as(_P_DOUBLE)


def shape_array(shape):
    """A shape as (c_int64 * ndim), with a pointer the C API accepts."""
    arr = (c_int64 * max(len(shape), 1))(*shape)
    return arr, ctypes.cast(arr, _P_INT64)


def text(s, what):
    """A str argument as UTF-8 bytes for the C API."""
    if not isinstance(s, str):
        fail("%s must be a str, not %s" % (what, type(s).__name__))
    return s.encode("utf-8")
