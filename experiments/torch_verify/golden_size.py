#!/usr/bin/python3
"""golden_size.py - the size of a `lionmuon golden` file from its settings,
without writing it: the tensor bytes of each key of theory/models.md §5,
for the layout before the records of state, lr_scale, muon and clip_coef
were added ("before": inputs, targets, step.k.loss, step.k.params,
step.k.grads, final.params, all F64) and for the current one, with --dtype
and --keep.  Standard library only; tests/cli_torch.sh checks it against
files the tool writes (the tensor bytes exactly).

Usage: python3 golden_size.py [--model gpt2|llama] [--n-layer 12] [--n-embd 768]
           [--vocab-size 50304] [--seq-len 512] [--batch-size 1] [--steps 2]
           [--optimizer lionmuon] [--routing name] [--bias] [--multiple-of 256]
           [--dtype f64|f32] [--keep REGEX] [--file GOLDEN]
With --file, also the tensor bytes of that file, for comparison.
"""
import argparse
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optim_rules  # noqa: E402  (the routing, as verify_golden.py applies it)


def params(model, L, C, V, T, bias, multiple_of):
    """(name, shape) in state_dict order (theory/models.md §1-§2)."""
    out = [("transformer.wte.weight", (V, C))]
    if model == "gpt2":
        out.append(("transformer.wpe.weight", (T, C)))
    H = multiple_of * ((8 * C // 3 + multiple_of - 1) // multiple_of)
    for i in range(L):
        h = "transformer.h.%d." % i
        if model == "gpt2":
            blk = [("ln_1.weight", (C,)), ("attn.c_attn.weight", (3 * C, C)),
                   ("attn.c_proj.weight", (C, C)), ("ln_2.weight", (C,)),
                   ("mlp.c_fc.weight", (4 * C, C)), ("mlp.c_proj.weight", (C, 4 * C))]
            if bias:
                blk = [blk[0], ("ln_1.bias", (C,)), blk[1], ("attn.c_attn.bias", (3 * C,)),
                       blk[2], ("attn.c_proj.bias", (C,)), blk[3], ("ln_2.bias", (C,)), blk[4],
                       ("mlp.c_fc.bias", (4 * C,)), blk[5], ("mlp.c_proj.bias", (C,))]
        else:
            blk = [("ln_1.weight", (C,)), ("attn.c_attn.weight", (3 * C, C)),
                   ("attn.c_proj.weight", (C, C)), ("ln_2.weight", (C,)),
                   ("mlp.w1.weight", (H, C)), ("mlp.w2.weight", (H, C)),
                   ("mlp.c_proj.weight", (C, H))]
        out += [(h + n, s) for n, s in blk]
    out.append(("transformer.ln_f.weight", (C,)))
    if model == "gpt2" and bias:
        out.append(("transformer.ln_f.bias", (C,)))
    return out


def numel(s):
    n = 1
    for d in s:
        n *= d
    return n


def sizes(a):
    """(before, after) tensor bytes."""
    ps = params(a.model, a.n_layer, a.n_embd, a.vocab_size, a.seq_len, a.bias, a.multiple_of)
    K, fb = a.steps, 4 if a.dtype == "f32" else 8
    keep = re.compile(a.keep) if a.keep else None
    batch = 2 * K * a.batch_size * a.seq_len * 8          # inputs, targets (I64)
    N = sum(numel(s) for _, s in ps)
    before = batch + K * 8 + (2 * K + 1) * N * 8
    after = batch + 3 * K * fb                            # loss, lr_scale, clip_coef
    for name, s in ps:
        if keep and not keep.search(name):
            continue
        n, m = numel(s), optim_rules.route(name, s, a.optimizer, a.routing)
        after += (2 * K + 1) * n * fb                    # params, grads, final
        after += K * n * fb * (1 if m else 2)            # state: momentum / exp_avg, exp_avg_sq
        after += K * 8 if m else 0                        # step.k.muon (I64)
    return before, after


def file_bytes(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        n = struct.unpack("<Q", raw)[0]
        h = json.loads(f.read(n))
    h.pop("__metadata__", None)
    return sum(v["data_offsets"][1] - v["data_offsets"][0] for v in h.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="gpt2")
    ap.add_argument("--n-layer", type=int, default=12)
    ap.add_argument("--n-embd", type=int, default=768)
    ap.add_argument("--vocab-size", type=int, default=50304)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--optimizer", default="lionmuon")
    ap.add_argument("--routing", default="name", choices=optim_rules.CHOICES["routing"])
    ap.add_argument("--bias", action="store_true")
    ap.add_argument("--multiple-of", type=int, default=256)
    ap.add_argument("--dtype", default="f64")
    ap.add_argument("--keep", default=None)
    ap.add_argument("--file", default=None)
    a = ap.parse_args()
    before, after = sizes(a)
    print("before %d bytes (%.3g GB); after %d bytes (%.3g GB) [--dtype %s%s]"
          % (before, before / 1e9, after, after / 1e9, a.dtype,
             " --keep '%s'" % a.keep if a.keep else ""))
    if a.file:
        print("file %d bytes of tensors" % file_bytes(a.file))


if __name__ == "__main__":
    main()
