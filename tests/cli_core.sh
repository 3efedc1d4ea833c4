# cli_core.sh - `lionmuon msign` and `lionmuon step` against hand-computed
# files (tests/fixtures.py), and their bad-input behaviour.
. tests/cli_lib.sh
D=$CLI_TMP
"${PYTHON:-/usr/bin/python3}" tests/fixtures.py "$D" || { echo "cli core: fixtures failed"; exit 1; }

expect_ok "lionmuon --help" $LM --help
expect_ok "msign --help" $LM msign --help
expect_ok "step --help" $LM step --help

for m in svd cubic; do
    expect_ok "msign --method $m on rotations" $LM msign --method $m "$D/msign_in.safetensors" "$D/msign_$m.safetensors"
    expect_ok "msign $m equals the closed-form polar factors" $LM compare "$D/msign_$m.safetensors" "$D/msign_want.safetensors" --rtol 0 --atol 1e-13
done
expect_ok "msign ns5 runs" $LM msign --method ns5 --steps 7 "$D/msign_in.safetensors" "$D/msign_ns5.safetensors"
expect_fail "ns5 is not the exact polar factor" "outside tolerance" $LM compare "$D/msign_ns5.safetensors" "$D/msign_want.safetensors" --rtol 0 --atol 1e-6
expect_ok "msign polar-express runs" $LM msign --method polar-express "$D/msign_in.safetensors" "$D/msign_pe.safetensors"
expect_ok "msign reads F32 and writes F64" $LM msign --method svd "$D/f32_in.safetensors" "$D/f32_out.safetensors"
expect_ok "F32 diagonal has the sign matrix as polar factor" $LM compare "$D/f32_out.safetensors" "$D/f32_want.safetensors" --rtol 0 --atol 0

expect_ok "step lionmuon t=0 (Muon step + AdamW on 1-D)" $LM step --optimizer lionmuon --msign svd "$D/step_in.safetensors" "$D/step_out.safetensors"
expect_ok "step output equals the hand computation" $LM compare "$D/step_out.safetensors" "$D/step_want.safetensors" --rtol 1e-13 --atol 1e-15
expect_ok "step lionmuon t=1 is a Lion step" $LM step --optimizer lionmuon "$D/lion_in.safetensors" "$D/lion_out.safetensors"
expect_ok "Lion step equals the hand computation" $LM compare "$D/lion_out.safetensors" "$D/lion_want.safetensors" --rtol 1e-14 --atol 1e-16
expect_ok "step --optimizer adamw" $LM step --optimizer adamw "$D/step_in.safetensors" "$D/adamw_out.safetensors"
for o in lion signum muon signmuon muon-nesterov; do
    expect_ok "step --optimizer $o" $LM step --optimizer $o "$D/step_in.safetensors" "$D/o_$o.safetensors"
done
if grep -q '"step":"1"' "$D/step_out.safetensors" || grep -q '"step": *"1"' "$D/step_out.safetensors"; then ok "step counter written as t + 1"; else bad "step counter t + 1 missing"; fi

# bad input: one-line error naming the file/tensor/flag, non-zero exit, no output
expect_fail "non-finite gradient names the tensor" "grads.w" $LM step "$D/nan_grad.safetensors" "$D/x1.safetensors"
expect_fail "missing gradient names the tensor" "params.w" $LM step "$D/no_grad.safetensors" "$D/x2.safetensors"
expect_fail "shape mismatch names the tensor" "grads.w" $LM step "$D/shape_mismatch.safetensors" "$D/x3.safetensors"
expect_fail "negative step counter" "step" $LM step "$D/bad_step.safetensors" "$D/x4.safetensors"
expect_fail "stray tensor names it" "other" $LM step "$D/stray.safetensors" "$D/x5.safetensors"
expect_fail "AdamW state on a matrix names it" "state.w.exp_avg" $LM step "$D/wrong_state.safetensors" "$D/x6.safetensors"
expect_fail "truncated file names the file" "truncated.safetensors" $LM step "$D/truncated.safetensors" "$D/x7.safetensors"
expect_fail "missing file names the file" "nope.safetensors" $LM msign --method svd "$D/nope.safetensors" "$D/x8.safetensors"
expect_fail "beta1 outside [0,1)" "--beta1" $LM step --beta1 1.5 "$D/step_in.safetensors" "$D/x9.safetensors"
expect_fail "negative period" "--period" $LM step --period -1 "$D/step_in.safetensors" "$D/x10.safetensors"
expect_fail "negative learning rate" "--lr-sign" $LM step --lr-sign -1e-3 "$D/step_in.safetensors" "$D/x11.safetensors"
expect_fail "unknown optimizer" "--optimizer" $LM step --optimizer sgd "$D/step_in.safetensors" "$D/x12.safetensors"
expect_fail "signmuon with a different beta2" "--beta2" $LM step --optimizer signmuon --beta1 0.9 --beta2 0.5 "$D/step_in.safetensors" "$D/x13.safetensors"
expect_fail "lion with a period" "--period" $LM step --optimizer lion --period 3 "$D/step_in.safetensors" "$D/x14.safetensors"
expect_fail "zero ns steps" "--ns-steps" $LM step --ns-steps 0 "$D/step_in.safetensors" "$D/x15.safetensors"
expect_fail "malformed number" "--lr-muon" $LM step --lr-muon 1e-3x "$D/step_in.safetensors" "$D/x16.safetensors"
expect_fail "unknown msign method" "--method" $LM msign --method newton "$D/msign_in.safetensors" "$D/x17.safetensors"
expect_fail "zero msign steps" "--steps" $LM msign --method ns5 --steps 0 "$D/msign_in.safetensors" "$D/x18.safetensors"
expect_fail "unknown subcommand" "unknown subcommand" $LM frobnicate
n=$(ls "$D" | grep -c '^x[0-9]*\.safetensors' || true)
if [ "$n" -eq 0 ]; then ok "no output file after any error"; else bad "$n output files left after errors"; fi
expect_fail "unwritable output names the path" "/nonexistent-dir/out.safetensors" $LM msign --method svd "$D/msign_in.safetensors" /nonexistent-dir/out.safetensors

expect_fail "/dev/full as output is refused" "/dev/full" $LM msign --method svd "$D/msign_in.safetensors" /dev/full
# idle OpenMP threads sleep unless the user says otherwise (src/cli/startup.c)
expect_ok "version" $LM version
if env -u OMP_WAIT_POLICY OMP_NUM_THREADS=2 $LM version | grep -q "OMP_WAIT_POLICY: passive"; then ok "wait policy passive by default"; else bad "wait policy not passive by default"; fi
if OMP_WAIT_POLICY=active $LM version | grep -q "OMP_WAIT_POLICY: active"; then ok "an explicit wait policy is kept"; else bad "explicit wait policy overridden"; fi
cli_done core
