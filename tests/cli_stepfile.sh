#!/bin/sh
# cli_stepfile.sh - `lionmuon step` as a verification oracle: --routing (train's
# names), the settings and per-tensor step kinds recorded in OUT, a train
# checkpoint as input, --lr-scale, --precision (emulated f32/bf16 steps that
# `compare --baseline` passes), `msign --precision`, and bad input (exit 2,
# file and tensor named, no output).  Run from the repository root.
. tests/cli_lib.sh
T=$CLI_TMP
PY=python3

# meta FILE KEY: the metadata value
meta() {
    $PY - "$1" "$2" <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
print(json.loads(b[8:8 + n])["__metadata__"].get(sys.argv[2], "(absent)"))
EOF
}
# dtype FILE TENSOR
dtype() {
    $PY - "$1" "$2" <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
print(json.loads(b[8:8 + n])[sys.argv[2]]["dtype"])
EOF
}
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$2', want '$3')"; fi; }

$PY - "$T" <<'EOF' || { echo "cli stepfile: fixtures failed"; exit 1; }
import json, os, random, struct, sys
d = sys.argv[1]
r = random.Random(9)
sys.path.insert(0, "tests")
from st_raw import write_tensors  # noqa: E402
def st(name, tensors, meta=None):
    write_tensors(os.path.join(d, name), tensors, meta)
g = lambda n, s=1.0: [r.gauss(0, s) for _ in range(n)]
# model-like names: a hidden matrix, the token embedding, a gain
T = {"params.transformer.h.0.attn.c_attn.weight": ([12, 4], g(48, 0.02)),
     "grads.transformer.h.0.attn.c_attn.weight": ([12, 4], g(48)),
     "params.transformer.wte.weight": ([16, 4], g(64, 0.02)),
     "grads.transformer.wte.weight": ([16, 4], g(64)),
     "params.transformer.ln_f.weight": ([4], [1.0] * 4),
     "grads.transformer.ln_f.weight": ([4], g(4))}
st("names.st", T)
# a plain step input with momentum, at t = 1
st("in1.st", {"params.w": ([16, 24], g(384, 0.02)), "grads.w": ([16, 24], g(384)),
              "state.w.momentum": ([16, 24], g(384, 0.5)),
              "params.b": ([24], g(24, 0.02)), "grads.b": ([24], g(24))}, {"step": "1"})
st("in0.st", {"params.w": ([16, 24], g(384, 0.02)), "grads.w": ([16, 24], g(384)),
              "params.b": ([24], g(24, 0.02)), "grads.b": ([24], g(24))})
EOF

# ---- routing ---------------------------------------------------------------------
kinds() { $PY -c "import json,sys; k=json.loads(sys.argv[1]); print(k['params.transformer.wte.weight'], k['params.transformer.h.0.attn.c_attn.weight'], k['params.transformer.ln_f.weight'])" "$(meta "$1" step_kinds)"; }
expect_ok "step (default routing 2d)" $LM step "$T/names.st" "$T/r2d.st"
check "  2d: every 2-D tensor to the matrix rule (t = 0: Muon)" "$(kinds "$T/r2d.st")" "muon muon adamw"
check "  routing recorded" "$(meta "$T/r2d.st" routing)" "2d"
check "  the optimizer's choices recorded" "$(for k in decay_on round_update momentum_form \
    muon_adjust sign_scaling cheap_mode nesterov cheap_ns_steps srank_exact; do
    printf '%s ' "$(meta "$T/r2d.st" $k)"; done)" "all none ema original none sign on 2 false "
expect_ok "step --routing paper" $LM step --routing paper "$T/names.st" "$T/rpaper.st"
check "  paper: the embedding to AdamW" "$(kinds "$T/rpaper.st")" "adamw muon adamw"
expect_ok "  its state is AdamW's" $PY -c "
import json, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
assert 'state.transformer.wte.weight.exp_avg' in h and 'state.transformer.wte.weight.momentum' not in h" "$T/rpaper.st"
expect_ok "step --routing dim" $LM step --routing dim "$T/names.st" "$T/rdim.st"
check "  dim: the small embedding to the matrix rule" "$(kinds "$T/rdim.st")" "muon muon adamw"
expect_ok "step --optimizer adamw --routing paper" $LM step --optimizer adamw --routing paper "$T/names.st" "$T/radam.st"
check "  adamw: everything AdamW" "$(kinds "$T/radam.st")" "adamw adamw adamw"
expect_status "--routing unknown" 2 "\-\-routing: unknown routing 'all' (2d, name, dim, paper)" \
    $LM step --routing all "$T/names.st" "$T/x.st"
[ -e "$T/x.st" ] && bad "  no output" || ok "  no output"

# ---- the settings in OUT, chaining ---------------------------------------------------
expect_ok "step (lionmuon, t = 1: a sign step)" $LM step --routing 2d --lr-sign 1e-4 "$T/in1.st" "$T/o1.st"
check "  step = t + 1" "$(meta "$T/o1.st" step)" "2"
check "  period" "$(meta "$T/o1.st" period)" "2"
check "  lr_sign" "$(meta "$T/o1.st" lr_sign)" "0.0001"
check "  lr_muon" "$(meta "$T/o1.st" lr_muon)" "0.001"
check "  beta2" "$(meta "$T/o1.st" beta2)" "0.98999999999999999"
check "  format" "$(meta "$T/o1.st" format)" "lionmuon-step-1"
check "  the kind of each tensor" "$(meta "$T/o1.st" step_kinds)" \
    '{"params.w":"sign","params.b":"adamw","state.w.momentum":"state","state.b.exp_avg":"state","state.b.exp_avg_sq":"state"}'
$PY - "$T/o1.st" "$T/in1.st" "$T/c2.st" <<'EOF'
import json, struct, sys
# OUT plus IN's gradients: the next step's input
def rd(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]
ho, bo = rd(sys.argv[1]); hi, bi = rd(sys.argv[2])
meta = ho.pop("__metadata__"); hi.pop("__metadata__")
off = len(bo); extra = b""
for k in ("grads.w", "grads.b"):
    b0, e0 = hi[k]["data_offsets"]; extra += bi[b0:e0]
    ho[k] = dict(hi[k], data_offsets=[off, off + e0 - b0]); off += e0 - b0
ho["__metadata__"] = meta
hb = json.dumps(ho).encode(); hb += b" " * (-len(hb) % 8)
open(sys.argv[3], "wb").write(struct.pack("<Q", len(hb)) + hb + bo + extra)
bad = dict(ho); bad["__metadata__"] = dict(meta, step_kinds=meta["step_kinds"].replace('"params.b":"adamw"', '"params.b":"sign"'))
hb = json.dumps(bad).encode(); hb += b" " * (-len(hb) % 8)
open(sys.argv[3].replace("c2", "c2bad"), "wb").write(struct.pack("<Q", len(hb)) + hb + bo + extra)
EOF
expect_ok "OUT (with gradients) is the next step's input" $LM step "$T/c2.st" "$T/o2.st"
check "  at t = 2, a Muon step" "$(meta "$T/o2.st" step_kinds | cut -c1-19)" '{"params.w":"muon",'
check "  the recorded routing kept" "$(meta "$T/o2.st" routing)" "2d"
expect_status "recorded step kinds that disagree with the tensors" 2 \
    "c2bad.st: __metadata__ step_kinds records tensor params.b as a sign step, but routing 2d sends it to AdamW" \
    $LM step "$T/c2bad.st" "$T/x.st"
[ -e "$T/x.st" ] && bad "  no output" || ok "  no output"
expect_status "state of the wrong kind under an explicit routing names the tensor (exit 2)" 2 \
    "c2.st: tensor state.w.momentum does not fit params.w, which follows AdamW under routing paper" \
    $LM step --routing paper "$T/c2.st" "$T/x.st"

# ---- --lr-scale -------------------------------------------------------------------------
expect_ok "--lr-scale 0.5" $LM step --lr-scale 0.5 "$T/in1.st" "$T/s05.st"
expect_ok "  equals halved rates" $LM step --lr-muon 0.0005 --lr-sign 2.5e-5 --lr-adamw 0.0005 "$T/in1.st" "$T/h05.st"
expect_ok "  (compare: identical tensors)" $LM compare "$T/s05.st" "$T/h05.st" --tol 1e-300
check "  lr_scale recorded" "$(meta "$T/s05.st" lr_scale)" "0.5"
expect_status "--lr-scale 0" 2 "\-\-lr-scale must be > 0" $LM step --lr-scale 0 "$T/in1.st" "$T/x.st"

# ---- --precision ----------------------------------------------------------------------
expect_ok "step (f64 reference, t = 0, Muon)" $LM step "$T/in0.st" "$T/p64.st"
for p in f32 bf16; do
    expect_ok "step --precision $p" $LM step --precision $p "$T/in0.st" "$T/p$p.st"
    check "  writes F32 (float32 master weights)" "$(dtype "$T/p$p.st" params.w)" "F32"
    check "  records the precision" "$(meta "$T/p$p.st" precision)" "$p"
    expect_ok "  passes compare --baseline in $p" $LM compare "$T/p$p.st" "$T/p64.st" --baseline "$T/in0.st" --precision $p
done
expect_status "  but the bf16 Muon step fails the f32 thresholds" 1 "'params.w'" \
    $LM compare "$T/pbf16.st" "$T/p64.st" --baseline "$T/in0.st" --precision f32
expect_status "--precision unknown" 2 "\-\-precision: unknown precision 'f8'" $LM step --precision f8 "$T/in0.st" "$T/x.st"

expect_ok "  the emulated step is deterministic (the same bytes twice)" sh -c \
    "$LM step --precision bf16 '$T/in0.st' '$T/pbf16b.st' >/dev/null && cmp '$T/pbf16.st' '$T/pbf16b.st'"

# ---- msign --precision ----------------------------------------------------------------
$PY - "$T/m.st" <<'EOF'
import json, random, struct, sys
r = random.Random(4)
vals = [r.gauss(0, 1) for _ in range(48 * 80)]
b = struct.pack("<%dd" % len(vals), *vals)
h = json.dumps({"g": {"dtype": "F64", "shape": [48, 80], "data_offsets": [0, len(b)]}}).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + b)
EOF
expect_ok "msign ns5 (f64)" $LM msign --method ns5 "$T/m.st" "$T/m64.st"
for p in f32 bf16 f16; do
    expect_ok "msign ns5 --precision $p" $LM msign --method ns5 --precision $p "$T/m.st" "$T/m$p.st"
    expect_ok "  within the $p envelope of the f64 result" $LM compare "$T/m$p.st" "$T/m64.st" --precision $p
    check "  records the precision" "$(meta "$T/m$p.st" precision)" "$p"
done
expect_ok "  msign --precision bf16 twice: the same bytes" sh -c \
    "$LM msign --method ns5 --precision bf16 '$T/m.st' '$T/mb2.st' >/dev/null && cmp '$T/mbf16.st' '$T/mb2.st'"
expect_status "  the bf16 result is not f32-accurate" 1 "'g'" $LM compare "$T/mbf16.st" "$T/m64.st" --precision f32
expect_ok "  its values are bf16 values" $PY -c "
import json, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
v = struct.unpack('<%dd' % (48 * 80), b[8 + n:])
assert all(struct.unpack('<Q', struct.pack('<d', x))[0] & ((1 << 45) - 1) == 0 for x in v)" "$T/mbf16.st"
expect_status "msign --precision with svd" 2 "\-\-precision bf16 applies to ns5, polar-express and cubic" \
    $LM msign --method svd --precision bf16 "$T/m.st" "$T/x.st"
expect_status "msign --precision unknown" 2 "\-\-precision: unknown precision 'fp8'" \
    $LM msign --method ns5 --precision fp8 "$T/m.st" "$T/x.st"

# ---- a train checkpoint as input ------------------------------------------------------
S="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --iterations 3 --eval-batches 1 --no-plot --quiet"
if $LM train $S --out "$T/run" >/dev/null 2>&1; then
    CK=$T/run/checkpoint.safetensors
    $PY - "$CK" "$T/grads.st" "$T/conv.st" <<'EOF'
import json, random, struct, sys
# gradients for every parameter, and the checkpoint as a step file
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); meta = h.pop("__metadata__"); data = b[8 + n:]
r = random.Random(1)
def write(path, tensors, meta=None):
    hh, blobs, off = {}, [], 0
    if meta: hh["__metadata__"] = meta
    for k, (shape, raw) in tensors.items():
        hh[k] = {"dtype": "F64", "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    hb = json.dumps(hh).encode(); hb += b" " * (-len(hb) % 8)
    open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
G, C = {}, {}
for k, v in h.items():
    raw = data[v["data_offsets"][0]:v["data_offsets"][1]]
    if k.startswith("state."):
        C[k] = (v["shape"], raw)
        continue
    cnt = len(raw) // 8
    G["grads." + k] = (v["shape"], struct.pack("<%dd" % cnt, *[r.gauss(0, 1) for _ in range(cnt)]))
    C["params." + k] = (v["shape"], raw)
write(sys.argv[2], G)
C.update(G)
write(sys.argv[3], C, {"step": meta["step"]})
EOF
    expect_ok "step on a train checkpoint with --grads" $LM step "$CK" "$T/ck_out.st" --grads "$T/grads.st"
    check "  at the checkpoint's step" "$(meta "$T/ck_out.st" step)" "4"
    check "  with its routing (train's default, name)" "$(meta "$T/ck_out.st" routing)" "name"
    expect_ok "the same step on the checkpoint converted to a step file" \
        $LM step --routing name "$T/conv.st" "$T/conv_out.st"
    expect_ok "  gives the same tensors" $LM compare "$T/ck_out.st" "$T/conv_out.st" --tol 1e-300
    expect_status "a checkpoint without --grads" 2 "checkpoint.safetensors: a train checkpoint holds no gradients: pass --grads FILE" \
        $LM step "$CK" "$T/x.st"
    expect_status "a checkpoint of another optimizer" 2 "checkpoint.safetensors: the checkpoint was written by --optimizer lionmuon, not lion" \
        $LM step --optimizer lion "$CK" "$T/x.st" --grads "$T/grads.st"
    expect_status "gradients for a tensor the checkpoint lacks" 2 "grads2.st: tensor grads.nope is the gradient of no parameter" \
        sh -c "cp '$T/grads.st' '$T/grads2.st' && $PY -c \"
import json, struct, sys
p = sys.argv[1]; b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); d = b[8 + n:]
h['grads.nope'] = {'dtype': 'F64', 'shape': [1], 'data_offsets': [len(d), len(d) + 8]}
hb = json.dumps(h).encode(); hb += b' ' * (-len(hb) % 8)
open(p, 'wb').write(struct.pack('<Q', len(hb)) + hb + d + struct.pack('<d', 0.0))\" '$T/grads2.st' && $LM step '$CK' '$T/x.st' --grads '$T/grads2.st'"
    [ -e "$T/x.st" ] && bad "  no output" || ok "  no output"
else
    bad "train for a checkpoint"
fi

cli_done stepfile
