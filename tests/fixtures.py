#!/usr/bin/env python3
"""fixtures.py DIR - write the safetensors inputs and hand-computed expected
outputs that tests/cli_core.sh feeds to `lionmuon msign` and `lionmuon step`.

The expected values are computed here in plain Python, independently of the
C code, from the update rules in theory/algorithms.md, on inputs chosen so
that every polar factor is known in closed form (a rotation times a positive
diagonal has that rotation as its polar factor).  The files are written with
the project's one safetensors writer, lionmuon.save_file (python/lionmuon/,
over build/liblionmuon.so; needs numpy and a built library)."""
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import lionmuon  # noqa: E402


def write(path, tensors, meta=None, dtype="F64"):
    """tensors: list of (name, shape, flat values)."""
    lionmuon.save_file({name: np.array(vals, dtype=np.float64).reshape(shape)
                        for name, shape, vals in tensors}, path, metadata=meta, dtype=dtype)


def write_with_nan(path, tensors, name, index):
    """A file whose tensor `name` holds a NaN at flat index `index`, which the
    library's writer refuses to store: written with a finite sentinel there,
    whose 8 bytes (unique in the file) are then replaced by a NaN's."""
    sentinel = 1234.0009765625  # exact in binary; appears nowhere else
    tensors = [(n, s, [sentinel if n == name and i == index else v for i, v in enumerate(vals)])
               for n, s, vals in tensors]
    write(path, tensors)
    with open(path, "rb") as f:
        whole = f.read()
    pattern = struct.pack("<d", sentinel)
    assert whole.count(pattern) == 1, "sentinel not unique in " + path
    with open(path, "wb") as f:
        f.write(whole.replace(pattern, struct.pack("<d", float("nan"))))


def rot(theta):
    c, s = math.cos(theta), math.sin(theta)
    return [[c, -s], [s, c]]


def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def flat(m):
    return [x for row in m for x in row]


def sign(x):
    return (x > 0) - (x < 0)


def main(d):
    os.makedirs(d, exist_ok=True)
    # msign: G = R diag(3, 0.5) has msign(G) = R; a 2 x 3 with a zero column
    # block: [R diag(2, 1), 0] -> [R, 0]
    R = rot(0.3)
    G1 = matmul(R, [[3, 0], [0, 0.5]])
    G2 = [row + [0.0] for row in matmul(rot(-1.1), [[2, 0], [0, 1]])]
    write(f"{d}/msign_in.safetensors",
          [("a", [2, 2], flat(G1)), ("b", [2, 3], flat(G2)), ("bias", [3], [1, 2, 3])])
    write(f"{d}/msign_want.safetensors",
          [("a", [2, 2], flat(R)), ("b", [2, 3], flat([r + [0.0] for r in rot(-1.1)]))])

    # step, lionmuon at t = 0 (a Muon step), beta1 = 0.9, beta2 = 0.99,
    # lr_muon 1e-3, lr_sign 5e-5, wd 0.1, msign svd; momentum M given; and a
    # 1-D tensor under AdamW (paper eps), lr 1e-3, betas (0.8, 0.999), eps 1e-8.
    b1, b2, lrm, lrs, wd = 0.9, 0.99, 1e-3, 5e-5, 0.1
    M = [[0.0, 0.0], [0.0, 0.0]]
    # choose G so that C = 0.1 G = R diag(3, 0.5): G = 10 R diag(3, 0.5)
    G = [[10 * x for x in row] for row in G1]
    W = [[0.5, -0.25], [1.0, 2.0]]
    scale = 0.2 * math.sqrt(2)
    W_new = [[W[i][j] * (1 - lrm * wd) - lrm * scale * R[i][j] for j in range(2)] for i in range(2)]
    M_new = [[b2 * M[i][j] + (1 - b2) * G[i][j] for j in range(2)] for i in range(2)]
    p, g = [0.3, -0.7, 1.1], [0.05, -0.2, 0.0]
    ab1, ab2, eps, lra = 0.8, 0.999, 1e-8, 1e-3
    m = [(1 - ab1) * x for x in g]
    v = [(1 - ab2) * x * x for x in g]
    bc1, bc2 = 1 - ab1, 1 - ab2
    p_new = [p[i] * (1 - lra * wd) - lra * math.sqrt(bc2) / bc1 * m[i] / (eps + math.sqrt(v[i]))
             for i in range(3)]
    write(f"{d}/step_in.safetensors",
          [("params.w", [2, 2], flat(W)), ("grads.w", [2, 2], flat(G)),
           ("params.gain", [3], p), ("grads.gain", [3], g)])
    write(f"{d}/step_want.safetensors",
          [("params.w", [2, 2], flat(W_new)), ("state.w.momentum", [2, 2], flat(M_new)),
           ("params.gain", [3], p_new), ("state.gain.exp_avg", [3], m),
           ("state.gain.exp_avg_sq", [3], v)], meta={"step": "1"})

    # the same parameters at t = 1 (a Lion step under P = 2) with a momentum
    Mom = [[0.5, -1.0], [0.0, 2.0]]
    G3 = [[1.0, 3.0], [-2.0, -25.0]]
    C = [[b1 * Mom[i][j] + (1 - b1) * G3[i][j] for j in range(2)] for i in range(2)]
    W3 = [[W[i][j] * (1 - lrs * wd) - lrs * sign(C[i][j]) for j in range(2)] for i in range(2)]
    M3 = [[b2 * Mom[i][j] + (1 - b2) * G3[i][j] for j in range(2)] for i in range(2)]
    write(f"{d}/lion_in.safetensors",
          [("params.w", [2, 2], flat(W)), ("grads.w", [2, 2], flat(G3)),
           ("state.w.momentum", [2, 2], flat(Mom))], meta={"step": "1"})
    write(f"{d}/lion_want.safetensors",
          [("params.w", [2, 2], flat(W3)), ("state.w.momentum", [2, 2], flat(M3))],
          meta={"step": "2"})

    # bad inputs
    write_with_nan(f"{d}/nan_grad.safetensors",
                   [("params.w", [2, 2], flat(W)), ("grads.w", [2, 2], [1.0, 0.0, 0, 0])],
                   "grads.w", 1)
    write(f"{d}/no_grad.safetensors", [("params.w", [2, 2], flat(W))])
    write(f"{d}/shape_mismatch.safetensors",
          [("params.w", [2, 2], flat(W)), ("grads.w", [4], flat(W))])
    write(f"{d}/bad_step.safetensors",
          [("params.w", [2, 2], flat(W)), ("grads.w", [2, 2], flat(G))], meta={"step": "-3"})
    write(f"{d}/stray.safetensors",
          [("params.w", [2, 2], flat(W)), ("grads.w", [2, 2], flat(G)), ("other", [1], [0.0])])
    write(f"{d}/wrong_state.safetensors",
          [("params.w", [2, 2], flat(W)), ("grads.w", [2, 2], flat(G)),
           ("state.w.exp_avg", [2, 2], flat(W))])
    with open(f"{d}/step_in.safetensors", "rb") as f:
        whole = f.read()
    with open(f"{d}/truncated.safetensors", "wb") as f:
        f.write(whole[:-5])
    # an F32 input is upcast exactly: msign of an F32 diagonal
    write(f"{d}/f32_in.safetensors", [("d", [2, 2], [2.0, 0.0, 0.0, -0.5])], dtype="F32")
    write(f"{d}/f32_want.safetensors", [("d", [2, 2], [1.0, 0.0, 0.0, -1.0])])


if __name__ == "__main__":
    main(sys.argv[1])
