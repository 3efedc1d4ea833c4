"""safetensors.py - safetensors files as dicts of numpy arrays, over the C
API (lm_st_read, lm_st_write): the project's one reader and writer, with
every validation rule of the C reader (theory/models.md §4)."""
import ctypes
import json
import os

import numpy as np

from ._lib import check, fail, lib, text


class TensorDict(dict):
    """load_file's result: a dict name -> numpy array (float64 for floating
    tensors, int64 for integer ones, in file order) that also carries the
    file's __metadata__ (.metadata, str -> str) and each tensor's stored
    dtype (.dtypes, name -> "F64", "F32", "F16", "BF16", "I64" or "I32")."""

    def __init__(self, *args, metadata=None, dtypes=None, **kw):
        super().__init__(*args, **kw)
        self.metadata = dict(metadata or {})
        self.dtypes = dict(dtypes or {})


def load_file(path):
    """Read and validate a safetensors file; returns a TensorDict.  Floating
    tensors are upcast to float64 exactly, integer ones widened to int64.
    Raises LionMuonError naming the file (and the tensor) on any violation."""
    h = ctypes.c_void_p()
    check(lib.lm_st_read(os.fsencode(path), ctypes.byref(h)))
    try:
        out = TensorDict()
        shape = (ctypes.c_int64 * 8)()
        for i in range(lib.lm_st_count(h)):
            name = lib.lm_st_name(h, i).decode("utf-8")
            ndim = check(lib.lm_st_shape(h, i, shape))
            dims = tuple(shape[d] for d in range(ndim))
            numel = lib.lm_st_numel(h, i)
            is_int = lib.lm_st_is_int(h, i) == 1
            ptr = lib.lm_st_data_i64(h, i) if is_int else lib.lm_st_data_f64(h, i)
            dt = np.int64 if is_int else np.float64
            if numel == 0:
                a = np.zeros(dims, dtype=dt)
            else:
                a = np.ctypeslib.as_array(ptr, shape=(numel,)).copy().reshape(dims)
            out[name] = a
            out.dtypes[name] = lib.lm_st_dtype(h, i).decode()
        for i in range(lib.lm_st_meta_count(h)):
            out.metadata[lib.lm_st_meta_key(h, i).decode("utf-8")] = \
                lib.lm_st_meta_value(h, i).decode("utf-8")
        return out
    finally:
        lib.lm_st_free(h)


def save_file(tensors, path, metadata=None, dtype="F64"):
    """Write a dict name -> array atomically: floating (and bool) arrays as
    F64, or F32 with dtype="F32" (values must fit), integer arrays as I64;
    metadata a dict str -> str (or None).  Refuses non-finite values, empty
    or duplicate names, and anything else the C writer refuses
    (LionMuonError); on failure nothing is left at path."""
    if dtype not in ("F64", "F32"):
        fail("save_file: dtype must be F64 or F32 (got %r)" % (dtype,))
    names, arrays, is_int = [], [], []
    for name, v in tensors.items():
        a = np.asarray(v)
        integer = np.issubdtype(a.dtype, np.integer)
        if not (integer or np.issubdtype(a.dtype, np.floating) or a.dtype == np.bool_):
            fail("save_file: tensor %s: unsupported dtype %s" % (name, a.dtype))
        arrays.append(np.ascontiguousarray(a, dtype=np.int64 if integer else np.float64)
                      .reshape(a.shape))  # ascontiguousarray makes 0-d arrays 1-d
        names.append(text(name, "tensor name"))
        is_int.append(1 if integer else 0)
    n = len(arrays)
    shapes = [(ctypes.c_int64 * max(a.ndim, 1))(*a.shape) for a in arrays]
    P64 = ctypes.POINTER(ctypes.c_int64)
    meta = None
    if metadata:
        meta = json.dumps(metadata).encode("utf-8")
    check(lib.lm_st_write(
        os.fsencode(path), n, (ctypes.c_char_p * max(n, 1))(*names),
        (ctypes.c_int * max(n, 1))(*[a.ndim for a in arrays]),
        (P64 * max(n, 1))(*[ctypes.cast(s, P64) for s in shapes]),
        (ctypes.c_void_p * max(n, 1))(*[a.ctypes.data for a in arrays]),
        (ctypes.c_int * max(n, 1))(*is_int), meta, 1 if dtype == "F32" else 0))
