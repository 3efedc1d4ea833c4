#!/usr/bin/env python3
"""make_corpus.py - write the seed corpora of the fuzz targets into
tests/fuzz/corpus/<target>/ (committed; rerun only to regenerate them).

Seeds are small valid inputs and near-valid ones that break one rule each,
so the fuzzer starts next to every branch of the validators."""
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def st(header, data=b"", raw_header=None, hlen=None):
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + data


def ent(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


def f64(*v):
    return b"".join(struct.pack("<d", x) for x in v)


def safetensors():
    one = f64(1.0, 2.0, 3.0, 4.0)
    return {
        "f64_2x2": st({"w": ent("F64", [2, 2], 0, 32)}, one),
        "f32_vec": st({"v": ent("F32", [3], 0, 12)}, struct.pack("<3f", 1.5, -2, 0)),
        "f16_bf16": st({"h": ent("F16", [2], 0, 4), "b": ent("BF16", [2], 4, 8)},
                       bytes.fromhex("003c0100803f7f7f")),
        "ints": st({"i": ent("I64", [2], 0, 16), "j": ent("I32", [1], 16, 20)},
                   struct.pack("<qqi", -1, 7, 3)),
        "meta": st({"__metadata__": {"step": "3", "optimizer": "lionmuon"},
                    "params.w": ent("F64", [1, 2], 0, 16), "grads.w": ent("F64", [1, 2], 16, 32)},
                   f64(1, 2, 3, 4)),
        "scalar_zero_size": st({"s": ent("F64", [], 0, 8), "z": ent("F64", [0, 3], 8, 8)}, f64(5)),
        "empty": st({}),
        "padded": st(None, f64(1), raw_header=b'{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}' + b" " * 3),
        "hlen_beyond": st({"w": ent("F64", [1], 0, 8)}, f64(1), hlen=1 << 40),
        "not_json": st(None, raw_header=b"{\"w\":"),
        "not_object": st([1, 2]),
        "bad_dtype": st({"w": ent("U8", [1], 0, 1)}, b"\x01"),
        "span_mismatch": st({"w": ent("F64", [2], 0, 8)}, f64(1)),
        "overlap": st({"a": ent("F64", [1], 0, 8), "b": ent("F64", [1], 0, 8)}, f64(1)),
        "gap": st({"a": ent("F64", [1], 8, 16)}, f64(1, 2)),
        "meta_not_string": st({"__metadata__": {"k": 1}}),
        "duplicate": st(None, f64(1, 2), raw_header=b'{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}'),
        "huge_shape": st({"w": ent("F64", [1 << 40, 1 << 40], 0, 8)}, f64(1)),
        "nan": st({"w": ent("F64", [1], 0, 8)}, struct.pack("<Q", 0x7ff8000000000001)),
    }


def cli():
    a = lambda *xs: b"\0".join(x.encode() for x in xs)
    return {
        "positional": a("in.st", "out.st"),
        "double": a("--double", "1.5", "x"),
        "double_eq": a("--double=-2e-3"),
        "long_int": a("--long", "-7", "--int=2147483647"),
        "string_bool": a("--string", "s", "--bool", "--", "--bool"),
        "help": a("-h", "--help"),
        "bad_number": a("--double", "1e999"),
        "twice": a("--int", "1", "--int", "2"),
        "missing": a("--long"),
        "optimizer": a("--optimizer", "signmuon", "--beta1", "0.9", "--period", "3", "i", "o"),
        "optimizer_eq": a("--optimizer=adamw", "--adamw-eps-mode", "torch", "--adamw-eps", "1e-8"),
        "muon": a("--optimizer", "muon", "--msign", "cubic", "--ns-steps", "7", "--lr-muon", "0.02"),
        "lion_period": a("--optimizer", "lion", "--period", "0", "--weight-decay", "0.5"),
        "srank": a("--srank-alpha", "0.25", "--lr-sign=1e-4", "--lr-adamw", "3e-4"),
        # issue 14: underflow and overflow named, a subnormal kept
        "underflow": a("--double", "1e-400", "--lr-muon", "-1e-999"),
        "subnormal": a("--double", "4.9e-324", "--beta1", "1e-310"),
        "overflow_neg": a("--double=-1e400"),
    }


def llmc():
    def f(magic=20240520, version=1, count=None, toks=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)):
        n = len(toks) if count is None else count
        hdr = struct.pack("<3i", magic, version, n) + b"\0" * (1024 - 12)
        return hdr + struct.pack("<%dH" % len(toks), *toks)
    return {
        "valid": f(),
        "valid_long": f(toks=tuple(range(0, 400, 7))),
        "max_token": f(toks=(65535, 0, 65535, 1, 2, 3, 4, 5)),
        "empty": f(toks=()),
        "bad_magic": f(magic=20240521),
        "bad_version": f(version=2),
        "count_short": f(count=3),
        "count_long": f(count=100),
        "count_negative": f(count=-1),
        "truncated_header": f()[:600],
    }


def step():
    """Selector byte (bit 7: msign with method & 3; else step with optimizer
    (b & 0x7f) % 7, bit 6: the stable-rank trigger), then the file."""
    def f(tensors, meta=None):
        h, blobs, off = {}, [], 0
        if meta:
            h["__metadata__"] = meta
        for name, shape, vals in tensors:
            b = f64(*vals)
            h[name] = ent("F64", shape, off, off + len(b))
            blobs.append(b)
            off += len(b)
        return st(h, b"".join(blobs))
    W, G, M = [0.5, -0.25, 1.0, 2.0, 0.1, 0.7], [1.0, 3.0, -2.0, -25.0, 0.5, 0.0], [0.1] * 6
    full = [("params.w", [2, 3], W), ("grads.w", [2, 3], G), ("state.w.momentum", [2, 3], M),
            ("params.b", [3], W[:3]), ("grads.b", [3], G[:3]),
            ("state.b.exp_avg", [3], M[:3]), ("state.b.exp_avg_sq", [3], M[:3])]
    bare = [("params.w", [3, 2], W), ("grads.w", [3, 2], G)]
    return {
        "lionmuon_t0": b"\x00" + f(full),
        "lionmuon_t1": b"\x00" + f(full, {"step": "1"}),
        "adamw": b"\x05" + f([t for t in full if "momentum" not in t[0]]),
        "lion_srank": b"\x43" + f(bare, {"step": "7"}),
        "muon_nesterov": b"\x06" + f(bare),
        "msign_svd": b"\x80" + f(bare),
        "msign_ns5": b"\x81" + f(full),
        "msign_cubic": b"\x82" + f(bare),
        "msign_pe": b"\x83" + f(bare),
        "stray": b"\x00" + f(bare + [("other", [1], [0.0])]),
        "zero_matrix": b"\x80" + f([("z", [2, 2], [0.0] * 4)]),
        "empty_matrix": b"\x00" + f([("params.e", [0, 3], []), ("grads.e", [0, 3], [])]),
        # issue 14: a dimension beyond int, the largest counter, a 500-byte
        # name, entries near the top of double and subnormal ones, names
        # with control characters, a gradient whose square overflows
        "dim_3e9_step": b"\x00" + f([("params.w", [0, 3000000000], []), ("grads.w", [0, 3000000000], [])]),
        "dim_3e9_msign": b"\x80" + f([("w", [3000000000, 0], [])]),
        "counter_max": b"\x00" + f(bare, {"step": str(2**63 - 1)}),
        "long_name": b"\x00" + f([("params." + "p" * 500, [2, 2], W[:4]), ("grads." + "p" * 500, [2, 2], G[:4]),
                                   ("state." + "p" * 500 + ".momentum", [2, 2], M[:4])]),
        "huge_svd": b"\x80" + f([("w", [2, 2], [1.7e308, -1.6e308, 1e308, 1.5e308])]),
        "huge_cubic": b"\x82" + f([("w", [2, 2], [1.7e308, -1.6e308, 1e308, 1.5e308])]),
        "subnormal_cubic": b"\x82" + f([("w", [2, 2], [3e-320, -1e-321, 5e-322, 2e-320])]),
        "subnormal_ns5": b"\x81" + f([("w", [2, 2], [3e-320, -1e-321, 5e-322, 2e-320])]),
        "escape_names": b"\x80" + f([("a\nb\x1b[31m", [2, 2], [1, 2, 3, float("nan")])]),
        "adamw_g2_overflow": b"\x05" + f([("params.b", [3], [1, 2, 3]), ("grads.b", [3], [1e200, 1, 1])]),
    }


def sweep():
    """Manifests: valid ones of every allowed shape, and one defect each."""
    def line(out, *argv, **extra):
        d = {"out": out, "argv": list(argv)}
        d.update(extra)
        return json.dumps(d)
    ok = line("r/a", "msign", "--method", "svd", "in.st", "r/a/out.st")
    return {
        "one": (ok + "\n").encode(),
        "several": "\n".join([ok, "# a comment", "", line("r/b", "train", "--iterations", "2"),
                              line("./r/c/", "synth", "--steps", "5"),
                              line("/tmp/x/../y", "version")]).encode() + b"\n",
        "no_newline": line("r/d", "demo", "--quick").encode(),
        "crlf": (ok + "\r\n" + line("r/e", "step", "a", "b") + "\r\n").encode(),
        "unicode": line("r/\u00e9t\u00e9", "predict", "--eps", "0.1").encode(),
        "sweep_itself": line("r/s", "sweep", "m.jsonl").encode(),
        "paper": line("r/p", "paper", "report").encode(),
        "shared": "\n".join([ok, line("./r/a/", "version")]).encode(),
        "shared_dotdot": "\n".join([line("r/x/../a", "demo"), ok]).encode(),
        "empty_out": line("", "version").encode(),
        "empty_argv": line("r/z").encode(),
        "argv_number": b'{"out": "r/n", "argv": ["train", 3]}',
        "unknown_key": line("r/u", "version", extra=1).encode(),
        "nul_in_out": b'{"out": "r/\\u0000x", "argv": ["version"]}',
        "duplicate_key": b'{"out": "a", "out": "b", "argv": ["version"]}',
        "not_object": b'["version"]\n',
        "not_json": b'{"out": \n',
        "comments_only": b"# nothing\n\n   \n",
        "empty": b"",
    }


def ckptmeta():
    """Checkpoint __metadata__ as a JSON object, for the expectation of
    fuzz_targets.h (6 iterations of 16 tokens, seed 1, diagnostics every 2)."""
    mh = "step,train_loss,val_loss\n"
    dh = "step,a,b,c,d,e,f,g\n"
    def meta(step=4, ch=None, **kw):
        ch = dict(ch or {}, **kw)
        m = {"format": "lionmuon-checkpoint-2", "version": "0.1.0",
             "run_id": "0123456789abcdef0123456789abcdef", "data_fingerprint": "00000000000000ff",
             "config": '{"fuzz": true}', "argv": "[]", "step": str(step),
             "data_position": str(step), "seed": "1", "tokens": str(16 * step),
             "flops": "123456", "wall_s": "0.25", "best_val_loss": "3.1",
             "best_val_step": str(step), "train_loss": "3.25", "last_val_loss": "3.1",
             "diag_step": str(step - step % 2 if step >= 2 else -1),
             "diag_last": "[1,2,3,4,5,6,7]" if step >= 2 else "[null,null,null,null,null,null,null]",
             "metrics_csv": mh + "".join("%d,3.2,3.1\n" % k for k in range(step + 1)),
             "diagnostics_csv": dh + "".join("%d,1,2,3,4,5,6,7\n" % k for k in range(2, step + 1, 2))}
        for k, v in ch.items():
            if v is None:
                m.pop(k, None)
            else:
                m[k] = v
        return json.dumps(m).encode()
    return {
        "valid_4": meta(),
        "valid_1": meta(1),
        "valid_6": meta(6),
        "old_format": meta(format="lionmuon-checkpoint-1"),
        "other_version": meta(version="0.0.1"),
        "other_run": meta(run_id="f" * 32),
        "other_data": meta(data_fingerprint="0" * 16),
        "step_beyond": meta(7),
        "step_huge": meta(4, {"step": "1e300"}),
        "step_fraction": meta(4, {"step": "2.5"}),
        "wall_inf": meta(wall_s="inf"),
        "flops_nan": meta(flops="nan"),
        "best_step_huge": meta(best_val_step="1e300"),
        "tokens_wrong": meta(tokens="17"),
        "best_above_last": meta(best_val_loss="9"),
        "diag_last_short": meta(diag_last="[1,2]"),
        "metrics_row_missing": meta(metrics_csv=mh + "0,1,1\n2,1,1\n"),
        "metrics_no_header": meta(metrics_csv="0,1,1\n"),
        "diag_row_off_cadence": meta(diagnostics_csv=dh + "3,1,2,3,4,5,6,7\n"),
        "no_step": meta(4, {"step": None}),
        "not_object": b"[1, 2]",
    }


def main():
    for target, files in (("safetensors", safetensors()), ("cli", cli()), ("llmc", llmc()),
                          ("step", step()), ("sweep", sweep()), ("ckptmeta", ckptmeta())):
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as fp:
                fp.write(data)
        print(f"{target}: {len(files)} seeds in {d}")


if __name__ == "__main__":
    sys.exit(main())
