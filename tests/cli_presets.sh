#!/bin/sh
# cli_presets.sh - the paper's released runs as presets: `lionmuon presets`
# lists 170 and resolves 146; the fact table matches ../shared/paper-runs
# (skipped, with a line saying so, when that folder is absent); --preset and
# --preset-from on train, golden, step and bench train; and, in PyTorch
# (float64, experiments/torch_verify/verify_golden.py),
# a golden file of every headline run and of the six FineWeb GPT-2
# sign_muon runs at a tiny size replays to 1e-12.
. tests/cli_lib.sh
T=$CLI_TMP
PY=/usr/bin/python3
RUNS=../shared/paper-runs/exps
TINY="--n-layer 1 --n-head 2 --n-embd 32 --seq-len 16 --batch-size 2 --vocab-size 64"

# a few lines of Python shared below: the tensors of two safetensors files
# are bit-identical (metadata aside)
cat > "$T/same.py" <<'EOF'
import json, struct, sys
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop('__metadata__', None)
    return {k: b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in h.items()}
a, b = load(sys.argv[1]), load(sys.argv[2])
sys.exit(0 if a == b else 1)
EOF
# rewrite one __metadata__ value of a golden file (the mutation checks)
cat > "$T/meta.py" <<'EOF'
import json, struct, sys
src, dst, key, val = sys.argv[1:5]
b = open(src, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); h['__metadata__'][key] = val
hb = json.dumps(h).encode(); hb += b' ' * (-len(hb) % 8)
open(dst, 'wb').write(struct.pack('<Q', len(hb)) + hb + b[8 + n:])
EOF

# ---- the list ----
expect_ok "presets: lists the released runs" $LM presets
n=$(grep -cE '^(fw|spj|wt)_' "$CLI_TMP/out")
[ "$n" -eq 170 ] && ok "presets: 170 runs listed" || bad "presets: $n runs listed"
grep -q '^170 released runs: 146 resolve to presets, 24 are not reproducible$' "$CLI_TMP/out" &&
    ok "presets: 146 resolve, 24 do not" || bad "presets: $(tail -1 "$CLI_TMP/out")"
grep -E '^(fw|spj|wt)_' "$CLI_TMP/out" | grep -v ' yes$' > "$T/no"
if [ "$(grep -c 'not reproducible' "$T/no")" -eq 24 ] &&
   [ "$(grep -cE ' (lidmuon|signdmuon|rmsspectral) ' "$T/no")" -eq 24 ]; then
    ok "presets: the 24 are lidmuon, signdmuon, rmsspectral, with a reason"
else bad "presets: $(head -3 "$T/no")"; fi
grep -E '^fw_base_lionmuon_k2 ' "$CLI_TMP/out" | grep -q ' 3\.5006  yes$' &&
    ok "presets: best validation loss of fw_base_lionmuon_k2 is 3.5006" ||
    bad "presets: $(grep '^fw_base_lionmuon_k2 ' "$CLI_TMP/out")"
expect_ok "presets RUN prints its flags" $LM presets fw_base_signum_fixed
grep -q -- '--optimizer signmuon' "$CLI_TMP/out" && grep -q -- '--period 10000000' "$CLI_TMP/out" &&
    grep -q -- '--lr-sign 0.0001' "$CLI_TMP/out" && ok "presets: Signum's run is signmuon, P = 1e7" ||
    bad "presets: fw_base_signum_fixed flags"
expect_fail "presets: a lidmuon run is not reproducible, with the reason" \
    "not reproducible: optimizer class 'lidmuon' is not in the released code" \
    sh -c "$LM presets fw_base_lidmuon_k2 >&2"
expect_fail "presets: an unknown run is named" "fw_base_nonesuch" $LM presets fw_base_nonesuch

# ---- the fact table against the released runs ----
if [ -d "$RUNS" ]; then
    expect_ok "fact table: regenerated from $RUNS, it matches" $PY scripts/gen_preset_runs.py --check
    fails=""
    for r in fw_base_lionmuon_k2 fw_base_lion fw_base_signmuon_k5 fw_base_adamw \
             wt_llama_lionmuon_srank_a0.004 spj_base_rmsspectral_pre wt_base_lionmuon_k2_normdiag_fast \
             spj_llama_signum; do
        [ -f "$RUNS/$r/summary.json" ] || continue
        $LM presets "$r" > "$T/p1" 2>&1
        $LM presets --from "$RUNS/$r/summary.json" > "$T/p2" 2>&1
        tail -n +2 "$T/p1" > "$T/p1b"; tail -n +2 "$T/p2" > "$T/p2b"
        cmp -s "$T/p1b" "$T/p2b" || fails="$fails $r"
    done
    [ -z "$fails" ] && ok "fact table: --from summary.json derives the same flags" ||
        bad "fact table: --from differs for$fails"
else
    echo "  skip fact table check: $RUNS is absent (the paper's released runs)"
fi

# ---- --preset on train, golden, step, bench ----
expect_ok "train --preset at a tiny size" $LM train --preset fw_base_signmuon_k2 $TINY \
    --iterations 3 --eval-batches 1 --no-plot --quiet --out "$T/tr"
if grep -q '"preset": "fw_base_signmuon_k2"' "$T/tr/summary.json" &&
   grep -q '"optimizer": "signmuon-sgd"' "$T/tr/summary.json" &&
   grep -q '"round_update": "bf16"' "$T/tr/summary.json" &&
   grep -q '"routing": "name"' "$T/tr/summary.json" &&
   grep -q '"n_layer": 1' "$T/tr/summary.json" && grep -q '"iterations": 3' "$T/tr/summary.json"
then ok "train --preset: the preset's optimizer, the command line's sizes"
else bad "train --preset: summary.json config"; fi
# the second class: lr_sign and lr_adamw are not scheduled
if awk -F, 'NR == 3 && $5 == "2e-05" && $6 == "0.001" { f = 1 } END { exit !f }' "$T/tr/metrics.csv"
then ok "train --preset signmuon: lr_sign and lr_adamw fixed in metrics.csv"
else bad "train --preset signmuon: metrics.csv rates ($(sed -n 3p "$T/tr/metrics.csv"))"; fi
expect_ok "train --preset with an optimizer flag overriding it" $LM train --preset fw_base_lionmuon_k2 \
    $TINY --iterations 2 --lr-muon 0.002 --eval-batches 1 --no-plot --quiet --out "$T/tr2"
grep -q '"lr_muon": 0.002' "$T/tr2/summary.json" && ok "train --preset: --lr-muon overrides" ||
    bad "train --preset: --lr-muon not applied"
expect_ok "train --resume of a preset run" $LM train --resume "$T/tr2" --quiet --no-plot
# the second class with the seeded stable-rank trigger resumes bitwise
RS="--preset fw_base_signmuon_k5 $TINY --iterations 6 --srank-alpha 0.3 --eval-batches 1 --no-plot --quiet"
expect_ok "train signmuon-sgd + trigger, 6 steps" $LM train $RS --out "$T/r1"
expect_ok "the same, stopped after 3" $LM train $RS --stop-after 3 --out "$T/r2"
expect_ok "... and resumed" $LM train --resume "$T/r2" --quiet --no-plot
expect_ok "resumed run equals the uninterrupted one bitwise" $PY "$T/same.py" \
    "$T/r1/checkpoint.safetensors" "$T/r2/checkpoint.safetensors"
expect_fail "train --preset with another --optimizer" "--optimizer" \
    $LM train --preset fw_base_lionmuon_k2 --optimizer adamw $TINY --out "$T/x1"
expect_fail "train --preset of a run that cannot be reproduced" "not reproducible" \
    $LM train --preset fw_base_signdmuon_k2 $TINY --out "$T/x2"
expect_fail "train --preset and --preset-from together" "give one" \
    $LM train --preset fw_base_lion --preset-from x.json $TINY --out "$T/x3"
expect_fail "train --preset-from a file that is not a run" "opt" \
    sh -c "echo '{\"lr\": 1}' > $T/bad.json && $LM train --preset-from $T/bad.json $TINY --out $T/x4"

# --preset-from: the summary (or just its args) gives the same golden file
$LM presets fw_base_lion --json > "$T/lion.json"
cat > "$T/args.json" <<'EOF'
{"opt": "lion_muon", "model": "base", "n_layer": 12, "n_head": 12, "n_embd": 768,
 "vocab_size": 50304, "sequence_length": 512, "batch_size": 32, "acc_steps": 1,
 "iterations": 64000, "warmup_steps": 3000, "scheduler": "cos", "lr": 0.001,
 "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.1, "grad_clip": 0.5, "muon_ns_steps": 5,
 "muon_lr_factor": 0.007, "sign_lr": 5e-05, "muon_every_k": 10000000, "seed": 0,
 "eval_interval": 500, "eval_batches": 32}
EOF
expect_ok "golden --preset fw_base_lion" $LM golden "$T/l1.safetensors" --preset fw_base_lion $TINY --steps 2
expect_ok "golden --preset-from its args" $LM golden "$T/l2.safetensors" --preset-from "$T/args.json" $TINY --steps 2
expect_ok "golden: --preset and --preset-from give the same tensors" $PY "$T/same.py" \
    "$T/l1.safetensors" "$T/l2.safetensors"

# step: the preset's optimizer flags (fw_base_lionmuon_k2 is lionmuon's
# defaults with the bf16 rounding)
$PY tests/fixtures.py "$T/fx" >/dev/null 2>&1 || mkdir -p "$T/fx"
expect_ok "step --preset" $LM step --preset fw_base_lionmuon_k2 "$T/fx/step_in.safetensors" "$T/s1.safetensors"
expect_ok "step with the flags it stands for" $LM step --optimizer lionmuon --round-update bf16 \
    "$T/fx/step_in.safetensors" "$T/s2.safetensors"
expect_ok "step --preset equals its flags" $PY "$T/same.py" "$T/s1.safetensors" "$T/s2.safetensors"
expect_ok "bench train --preset at a tiny size" $LM bench train --preset fw_base_adamw $TINY --steps 1 --json
grep -q '"optimizer": "adamw"' "$CLI_TMP/out" && ok "bench train --preset: adamw" || bad "bench train --preset"

# ---- the replay in PyTorch: 10 headline runs + 6 sign_muon runs ----
if ! $PY -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "  skip torch replay: '$PY -c \"import torch\"' fails (apt-get install python3-torch)"
    cli_done presets
    exit $?
fi
VERIFY=experiments/torch_verify/verify_golden.py
HEADLINE="fw_base_lionmuon_k2 fw_base_lionmuon_k5 fw_base_lionmuon_k1 fw_base_signmuon_fixed_k2
 fw_base_lionmuon_k20 fw_base_muon_fixed fw_base_adamw fw_base_lionmuon_k100 fw_base_lion
 fw_base_signum_fixed"
SECOND="fw_base_muon fw_base_signmuon_k2 fw_base_signmuon_k5 fw_base_signmuon_k20
 fw_base_signmuon_k100 fw_base_signum"
# the report's rows but grads: each quantity's max error (the updates'
# quantity is two words); -v list=1 lists them, else exit 0 when there are
# at least 3 and none is above 1e-12
MAXERR='/^  (loss|params) +[0-9]/ { q = $1; e = $2 }
    /^  (muon|sign|adamw) updates +[0-9]/ { q = $1 " " $2; e = $3 }
    q != "" { n++; if (e + 0 > 1e-12) bad = 1; s = s (s == "" ? "" : ", ") q " " e; q = "" }
    END { if (list) print s; else exit !(n >= 3 && !bad) }'
for r in $HEADLINE $SECOND; do
    if ! $LM golden "$T/$r.safetensors" --preset "$r" $TINY --steps 4 >/dev/null 2>"$T/err"; then
        bad "golden --preset $r ($(head -c 200 "$T/err"))"
        continue
    fi
    $PY $VERIFY "$T/$r.safetensors" > "$T/v_$r" 2>&1
    # every error, loss and parameters and updates, at most 1e-12
    if grep -q 'verify_golden: PASS' "$T/v_$r" && awk "$MAXERR" "$T/v_$r"
    then ok "replay $r: $(awk -v list=1 "$MAXERR" "$T/v_$r")"
    else bad "replay $r: $(cat "$T/v_$r" | head -c 600)"; fi
done

# the stable-rank trigger replays with the exact ||C||_2 (--srank-exact; the
# power iteration's random start comes from GSL in the C code)
r=fw_base_lionmuon_srank_a0.01
if $LM golden "$T/sr.safetensors" --preset $r $TINY --steps 4 --srank-exact --srank-alpha 0.3 \
        >/dev/null 2>"$T/err" && $PY $VERIFY "$T/sr.safetensors" > "$T/v_sr" 2>&1 &&
   grep -q 'verify_golden: PASS' "$T/v_sr"
then ok "replay $r --srank-exact"
else bad "replay $r --srank-exact: $(cat "$T/err" "$T/v_sr" | head -c 400)"; fi

# the replay has teeth: a golden file whose metadata misstates what the C
# code did fails
$PY "$T/meta.py" "$T/fw_base_lionmuon_k2.safetensors" "$T/m1.safetensors" round_update none
expect_fail "replay: a file claiming no bf16 rounding is caught" "FAIL" sh -c "$PY $VERIFY $T/m1.safetensors >&2"
$PY "$T/meta.py" "$T/fw_base_lionmuon_k2.safetensors" "$T/m2.safetensors" routing paper
expect_fail "replay: a file claiming the hidden-only routing is caught" "FAIL" sh -c "$PY $VERIFY $T/m2.safetensors >&2"
$PY "$T/meta.py" "$T/fw_base_signmuon_k2.safetensors" "$T/m3.safetensors" nesterov off
expect_fail "replay: a second-class file claiming no Nesterov is caught" "FAIL" sh -c "$PY $VERIFY $T/m3.safetensors >&2"
$PY "$T/meta.py" "$T/fw_base_adamw.safetensors" "$T/m4.safetensors" decay_on all
expect_fail "replay: an AdamW file claiming decay on every tensor is caught" "FAIL" sh -c "$PY $VERIFY $T/m4.safetensors >&2"

cli_done presets
