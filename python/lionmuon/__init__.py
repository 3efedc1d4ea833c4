"""lionmuon - the LionMuon CPU reference from Python: ctypes over
liblionmuon.so's C API (include/lionmuon/api.h), numpy arrays in and out,
double precision throughout.

    import lionmuon
    X = lionmuon.msign(G, method="svd")            # exact polar factor U V^T
    opt = lionmuon.Optimizer("lionmuon", msign="svd")
    params = opt.step(params, grads)               # dicts of named arrays
    r = lionmuon.compare(a, b, rtol=1e-12, atol=1e-12)
    tensors = lionmuon.load_file("x.safetensors") # .metadata, .dtypes
    lionmuon.save_file(tensors, "y.safetensors", metadata={"step": "1"})

Errors from the library raise LionMuonError with its message.  The library
is found next to the package (build tree or install) or at $LIONMUON_LIB
(see _lib.py)."""
from ._lib import LionMuonError, lib as _lib_handle, path as library_path
from ._ops import CompareResult, MsignResult, compare, lr_schedule, msign, stable_rank
from .optim import OPTIMIZERS, Optimizer, step
from .safetensors import TensorDict, load_file, save_file

__version__ = _lib_handle.lm_version().decode()

__all__ = ["LionMuonError", "CompareResult", "MsignResult", "OPTIMIZERS", "Optimizer",
           "TensorDict", "compare", "library_path", "load_file", "lr_schedule", "msign",
           "save_file", "stable_rank", "step", "__version__"]
