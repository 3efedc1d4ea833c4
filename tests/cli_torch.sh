#!/bin/sh
# cli_torch.sh - golden files against the independent PyTorch definition in
# experiments/torch_verify/verify_golden.py (Debian's python3-torch, float64
# on the CPU).  Skipped, with a line saying so, when torch is not importable.
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

expect_ok "golden: gpt2 --bias, lionmuon P=2, 4 steps" $LM golden "$T/a.safetensors" $SMALL --bias --steps 4
expect_ok "torch float64 agrees: gpt2 --bias, lionmuon" $PY $VERIFY "$T/a.safetensors"
grep -q "verify_golden: PASS" "$CLI_TMP/out" && ok "torch: PASS line" || bad "torch: no PASS line"

expect_ok "golden: llama, signmuon P=3, polar-express, 4 steps" $LM golden "$T/b.safetensors" $SMALL \
    --model llama --multiple-of 8 --optimizer signmuon --period 3 --msign polar-express --steps 4
expect_ok "torch float64 agrees: llama, signmuon" $PY $VERIFY "$T/b.safetensors"

expect_ok "golden: gpt2, adamw (torch eps), 3 steps" $LM golden "$T/c.safetensors" $SMALL \
    --optimizer adamw --adamw-eps-mode torch --steps 3
expect_ok "torch float64 agrees free-running: gpt2, adamw" $PY $VERIFY "$T/c.safetensors" --free-run

# the check has teeth: a gradient off by 1e-6 relative in one entry fails
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
expect_fail "torch: a perturbed gradient is caught" "FAIL" sh -c "$PY $VERIFY $T/bad.safetensors >&2"

cli_done torch
