#!/bin/sh
# cli_torch.sh - golden files against the independent PyTorch definition in
# experiments/torch_verify/verify_golden.py (Debian's python3-torch on the
# CPU): agreement in f64, f32 and bf16 under the derived thresholds, a
# stock torch.optim optimizer plugged in, the report of the first failure,
# F32 and --keep golden files, `lionmuon step` file pairs, the thresholds
# equal to the C table, and bad input (exit 2, file and tensor named).
# Skipped, with a line saying so, when torch is not importable.
. tests/cli_lib.sh
T=$CLI_TMP
PY=/usr/bin/python3
VERIFY=experiments/torch_verify/verify_golden.py
if ! $PY -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "  skip torch verification: '$PY -c \"import torch\"' fails (apt-get install python3-torch)"
    cli_done torch
    exit $?
fi
SMALL="--n-layer 2 --n-head 2 --n-embd 16 --seq-len 8 --batch-size 2 --vocab-size 32 --iterations 10 --warmup 2"

expect_out() {
    if grep -q -- "$2" "$CLI_TMP/out"; then ok "$1"; else bad "$1 (stdout lacks '$2': $(tail -3 "$CLI_TMP/out"))"; fi
}

expect_ok "golden: gpt2 --bias, lionmuon P=2, 4 steps" $LM golden "$T/a.safetensors" $SMALL --bias --steps 4
for d in float64 float32 bfloat16; do
    expect_ok "torch $d agrees: gpt2 --bias, lionmuon" $PY $VERIFY "$T/a.safetensors" --dtype $d
done
expect_out "  a PASS line" "^verify_golden: PASS"
expect_out "  thresholds per quantity: sign-step updates" "^  sign updates "
expect_out "  and Muon-step updates" "^  muon updates "

expect_ok "golden: llama, signmuon P=3, polar-express, 4 steps" $LM golden "$T/b.safetensors" $SMALL \
    --model llama --multiple-of 8 --optimizer signmuon --period 3 --msign polar-express --steps 4
expect_ok "torch float64 agrees: llama, signmuon" $PY $VERIFY "$T/b.safetensors"

expect_ok "golden: gpt2, adamw (torch eps), 3 steps" $LM golden "$T/c.safetensors" $SMALL \
    --optimizer adamw --adamw-eps-mode torch --steps 3
expect_ok "torch float64 agrees free-running: gpt2, adamw" $PY $VERIFY "$T/c.safetensors" --free-run
for d in float64 float32; do
    expect_ok "torch.optim.AdamW plugged in (--optimizer torch_adamw:TorchAdamW) agrees in $d" \
        $PY $VERIFY "$T/c.safetensors" --optimizer torch_adamw:TorchAdamW --dtype $d
done
expect_out "  and the report names the plug-in" "optimizer torch_adamw:TorchAdamW"

# the check has teeth: a gradient off by 1e-3 relative in one entry fails,
# and the report names the first failing step and tensor
$PY - "$T/a.safetensors" "$T/bad.safetensors" <<'EOF'
import json, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(bytes(b[8:8 + n]))
o = 8 + n + h['step.1.grads.transformer.h.0.mlp.c_fc.weight']['data_offsets'][0]
v = struct.unpack('<d', b[o:o + 8])[0]
b[o:o + 8] = struct.pack('<d', v * (1 + 1e-3) + 1e-9)
open(sys.argv[2], 'wb').write(b)
EOF
expect_status "torch: a perturbed gradient is caught" 1 "" $PY $VERIFY "$T/bad.safetensors"
expect_out "  first failure: step 1, the gradient of that tensor" \
    "^first failure: step 1, the gradient of transformer.h.0.mlp.c_fc.weight"
expect_status "a mutant plugged in (no weight decay) fails in bf16" 1 "" \
    $PY $VERIFY "$T/a.safetensors" --dtype bfloat16 --optimizer mutants:NoWeightDecay --no-model
expect_out "  at its first sign step" "^first failure: step 1, the sign-step update of"

# the golden records: state, lr_scale, muon, clip_coef, the model constants
if $PY - "$T/a.safetensors" <<'EOF'
import sys
sys.path.insert(0, "experiments/torch_verify")
import verify_golden as vg
T, m = vg.read_safetensors(sys.argv[1])
for k in ("norm_eps", "rope_theta", "rope_pairing", "init_std", "routing", "dtype", "keep"):
    assert k in m, k
assert m["rope_pairing"] == "adjacent" and float(m["norm_eps"]) == 1e-5 and m["keep"] == "all"
w = "transformer.h.0.attn.c_attn.weight"
assert int(T["step.0.muon." + w]) == 1 and int(T["step.1.muon." + w]) == 0
assert "step.0.muon.transformer.wte.weight" not in T        # AdamW: no record
assert not T["step.0.state.%s.momentum" % w].any() and T["step.1.state.%s.momentum" % w].any()
assert "step.1.state.transformer.wte.weight.exp_avg_sq" in T
assert abs(float(T["step.0.lr_scale"]) - 0.01) < 1e-15 and 0 < float(T["step.0.clip_coef"]) <= 1
EOF
then ok "golden: step.k.state, lr_scale, muon, clip_coef and the model constants"; else bad "golden records"; fi

# F32 and a subset of tensors
expect_ok "golden --dtype f32 --keep 'h\.0\.'" $LM golden "$T/k.safetensors" $SMALL --bias --steps 4 \
    --dtype f32 --keep 'h\.0\.'
for d in float32 bfloat16; do
    expect_ok "  its kept tensors replay in $d (optimizer check, clip_coef applied)" \
        $PY $VERIFY "$T/k.safetensors" --dtype $d
done
expect_status "  and refuse a float64 replay: the file cannot hold it (exit 2)" 2 \
    "k.safetensors: its tensors are F32 .* cannot hold a float64 replay" $PY $VERIFY "$T/k.safetensors"
# golden_size.py predicts the tensor bytes exactly
for f in a:"--bias --steps 4" k:"--bias --steps 4 --dtype f32 --keep h\.0\." b:"--model llama --multiple-of 8 --steps 4"; do
    name=${f%%:*} args=${f#*:}
    want=$($PY experiments/torch_verify/golden_size.py --n-layer 2 --n-embd 16 --vocab-size 32 \
           --seq-len 8 --batch-size 2 $args --file "$T/$name.safetensors" | tr '\n' ' ')
    pred=$(echo "$want" | sed -n 's/.*after \([0-9]*\) bytes.*/\1/p')
    got=$(echo "$want" | sed -n 's/.*file \([0-9]*\) bytes.*/\1/p')
    [ -n "$pred" ] && [ "$pred" = "$got" ] && ok "golden_size.py predicts $name's $got tensor bytes" \
        || bad "golden_size.py for $name: $want"
done
expect_status "golden --keep with a bad regular expression" 1 "\-\-keep: '(' is not a regular expression" \
    $LM golden "$T/x.safetensors" $SMALL --steps 1 --keep '('

# a `lionmuon step` file pair, replayed with its recorded settings
$PY - "$T/s_in.safetensors" <<'EOF'
import sys
sys.path.insert(0, "experiments/torch_verify")
import numpy as np, verify_golden as vg
r = np.random.default_rng(3)
vg.write_safetensors(sys.argv[1], {"params.w": r.standard_normal((12, 20)) * 0.02,
    "grads.w": r.standard_normal((12, 20)), "state.w.momentum": r.standard_normal((12, 20)),
    "params.b": r.standard_normal(20) * 0.02, "grads.b": r.standard_normal(20)}, {"step": "2"})
EOF
expect_ok "step (lionmuon, t = 2: a Muon step)" $LM step "$T/s_in.safetensors" "$T/s_out.safetensors"
for d in float64 float32 bfloat16; do
    expect_ok "  replayed by verify_golden --step-file in $d" \
        $PY $VERIFY --step-file "$T/s_in.safetensors" "$T/s_out.safetensors" --dtype $d
done
# OUT records the optimizer's choices, so the replay follows them: classic
# Muon in its default EMA form, the second class with its rounded scaled signs
for o in "muon-nesterov" "muon-nesterov --momentum-form sgd --nesterov off" \
         "signmuon-sgd --period 3 --sign-scaling frob --round-update bf16"; do
    expect_ok "step --optimizer $o, replayed in float64" sh -c "$LM step --optimizer $o \
        '$T/s_in.safetensors' '$T/s_o.safetensors' >/dev/null && $PY $VERIFY --step-file \
        '$T/s_in.safetensors' '$T/s_o.safetensors' >&2"
done

# the thresholds: verify_golden's ENVELOPE is the C table (lowprec.c)
for p in f64 f32 bf16 f16; do
    $LM compare "$T/s_in.safetensors" "$T/s_in.safetensors" --precision $p --json >"$T/env_$p.json"
done
if $PY - "$T" <<'EOF'
import json, sys
sys.path.insert(0, "experiments/torch_verify")
import verify_golden as vg
for p in ("f64", "f32", "bf16", "f16"):
    c = json.load(open("%s/env_%s.json" % (sys.argv[1], p)))["envelope"]
    for k, v in c.items():
        assert abs(v - vg.ENVELOPE[p][k]) <= 1e-12 * max(1.0, abs(v)) + 1e-300, (p, k, v, vg.ENVELOPE[p][k])
assert vg.MARGIN == 3.0
EOF
then ok "verify_golden's ENVELOPE equals lionmuon compare's (include/lionmuon/lowprec.h)"; else bad "ENVELOPE tables differ"; fi

# a file written before the optimizer's choices were recorded: without those
# keys the replay does what the tool did then (routing paper, decay on every
# tensor, classic Muon in SGD form); a file of the new defaults stripped of
# its keys therefore fails
expect_ok "golden: muon-nesterov and adamw as the tool ran them before the choices existed" sh -c \
    "$LM golden '$T/old_n.safetensors' $SMALL --model llama --multiple-of 8 --optimizer muon-nesterov \
         --routing paper --momentum-form sgd --steps 2 &&
     $LM golden '$T/old_a.safetensors' $SMALL --optimizer adamw --adamw-eps-mode paper --decay-on all \
         --steps 2 &&
     $LM golden '$T/new_n.safetensors' $SMALL --model llama --multiple-of 8 --optimizer muon-nesterov \
         --routing paper --steps 2"
$PY - "$T" <<'EOF'
import sys
sys.path.insert(0, "experiments/torch_verify")
import verify_golden as vg
for f in ("old_n", "old_a", "new_n"):
    T, m = vg.read_safetensors("%s/%s.safetensors" % (sys.argv[1], f))
    for k in list(vg.optim_rules.LEGACY) + ["preset"]:
        m.pop(k, None)
    vg.write_safetensors("%s/%s_bare.safetensors" % (sys.argv[1], f), T, m)
EOF
for f in old_n old_a; do
    expect_ok "  $f without the keys replays as before" $PY $VERIFY "$T/${f}_bare.safetensors" --no-model
done
expect_status "  the EMA form's file without its momentum_form is caught" 1 "" \
    $PY $VERIFY "$T/new_n_bare.safetensors" --no-model

# experiments/bench/torch_bench.py (make bench-torch) runs the optimizer that
# `lionmuon bench train --optimizer lionmuon --period 2` runs: its settings are
# those a golden file of that optimizer (with the bench's routing) records
expect_ok "golden: the bench's optimizer (lionmuon P=2, routing paper), 1 step" $LM golden \
    "$T/bench.safetensors" $SMALL --optimizer lionmuon --period 2 --routing paper --steps 1
if $PY - "$T/bench.safetensors" <<'EOF'
import sys
sys.path.insert(0, "experiments/torch_verify"); sys.path.insert(0, "experiments/bench")
import verify_golden as vg, torch_bench
cfg = vg.Golden(sys.argv[1]).cfg
for k, v in torch_bench.opt_meta().items():
    assert cfg[k] == v, (k, cfg[k], v)
EOF
then ok "  torch_bench.py's optimizer settings equal the C bench's"; else bad "torch_bench.py's opt_meta differs"; fi

# bad input: a message naming the file and the tensor, exit 2
$PY - "$T/a.safetensors" "$T" <<'EOF'
import json, struct, sys
src, d = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
def out(name, h2):
    hb = json.dumps(h2).encode(); hb += b" " * (-len(hb) % 8)
    open("%s/%s" % (d, name), "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
def meta(name, **kv):
    h2 = json.loads(json.dumps(h)); h2["__metadata__"].update(kv); out(name, h2)
meta("m_embd.safetensors", n_embd="32", n_head="2")
meta("m_period.safetensors", period="3")
meta("m_rope.safetensors", rope_pairing="halves")
meta("m_steps.safetensors", steps="3")
meta("m_dtype.safetensors", dtype="f32")
# a tensor dropped, the data repacked (no gap: the reader refuses gaps)
h2 = json.loads(json.dumps(h)); del h2["step.2.grads.transformer.h.1.mlp.c_fc.weight"]
data, blobs, off = raw[8 + n:], [], 0
for k, d2 in h2.items():
    if k == "__metadata__":
        continue
    b0, e0 = d2["data_offsets"]
    blobs.append(data[b0:e0]); d2["data_offsets"] = [off, off + e0 - b0]; off += e0 - b0
hb = json.dumps(h2).encode(); hb += b" " * (-len(hb) % 8)
open("%s/m_missing.safetensors" % d, "wb").write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
EOF
# (one interpreter for all the rows: vg.main with stdout and stderr captured)
$PY - "$T" >"$CLI_TMP/rows" 2>&1 <<'EOF'
import contextlib, io, re, sys
sys.path.insert(0, "experiments/torch_verify")
import verify_golden as vg
T = sys.argv[1]
rows = [
    ("metadata n_embd disagreeing with the tensors", ["%s/m_embd.safetensors" % T],
     r"m_embd.safetensors: tensor step.0.params.transformer.wte.weight has shape \[32, 16\], but the metadata"),
    ("metadata period disagreeing with step.k.muon", ["%s/m_period.safetensors" % T],
     r"m_period.safetensors: tensor step.2.muon.transformer.wpe.weight = 1, but the metadata \(period 3\)"),
    ("metadata steps disagreeing with inputs", ["%s/m_steps.safetensors" % T],
     r"m_steps.safetensors: tensor inputs has shape \[4, 2, 8\]"),
    ("metadata dtype disagreeing with the tensors", ["%s/m_dtype.safetensors" % T, "--dtype", "float32"],
     r"m_dtype.safetensors: tensor .* is stored as float64, but __metadata__ dtype is f32"),
    ("a RoPE pairing the replay does not implement", ["%s/m_rope.safetensors" % T],
     r"m_rope.safetensors: __metadata__ rope_pairing = halves"),
    ("a missing tensor is named", ["%s/m_missing.safetensors" % T],
     r"m_missing.safetensors: tensor step.2.grads.transformer.h.1.mlp.c_fc.weight is missing"),
    ("an optimizer that cannot be loaded", ["%s/a.safetensors" % T, "--optimizer", "nosuch:Opt"],
     r"--optimizer nosuch:Opt: cannot load it"),
]
for desc, argv, pat in rows:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = vg.main(argv)
    good = rc == 2 and re.search(pat, err.getvalue()) and not out.getvalue()
    print("%s %s (exit 2, named, nothing on stdout)%s" % ("PASS" if good else "FAIL", desc,
          "" if good else ": exit %s, stderr %r, stdout %r" % (rc, err.getvalue()[:300], out.getvalue()[:200])))
EOF
while read -r verdict desc; do
    case $verdict in PASS) ok "$desc" ;; FAIL) bad "$desc" ;; *) bad "bad-input rows: $verdict $desc" ;; esac
done <"$CLI_TMP/rows"

cli_done torch
