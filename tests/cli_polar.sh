# cli_polar.sh - `msign --method qr-newton` (src/core/polar.c) on the
# hand-computed polar factors of tests/fixtures.py, and in training.
. tests/cli_lib.sh
D=$CLI_TMP
"${PYTHON:-/usr/bin/python3}" tests/fixtures.py "$D" || { echo "cli polar: fixtures failed"; exit 1; }
expect_ok "msign --help" $LM msign --help
if grep -q "qr-newton" "$CLI_TMP/out"; then ok "msign --help lists qr-newton"; else bad "msign --help lacks qr-newton"; fi
expect_ok "msign --method qr-newton on rotations" $LM msign --method qr-newton "$D/msign_in.safetensors" "$D/msign_qr.safetensors"
expect_ok "qr-newton equals the closed-form polar factors" $LM compare "$D/msign_qr.safetensors" "$D/msign_want.safetensors" --rtol 0 --atol 1e-13
expect_ok "F32 input" $LM msign --method qr-newton "$D/f32_in.safetensors" "$D/f32_qr.safetensors"
expect_ok "F32 diagonal: the sign matrix" $LM compare "$D/f32_qr.safetensors" "$D/f32_want.safetensors" --rtol 0 --atol 1e-15
expect_fail "unknown method lists qr-newton" "qr-newton" $LM msign --method qr "$D/msign_in.safetensors" "$D/x.safetensors"
expect_ok "bench train with --msign qr-newton" $LM bench train --n-layer 1 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 2 --vocab-size 64 --steps 2 --msign qr-newton
cli_done polar
