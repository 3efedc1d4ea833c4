# cli_synth.sh - `lionmuon synth`, `predict` and the quick theory checks V1-V6
# (issues 4 and 13).
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=1
D=$CLI_TMP/run

expect_ok "synth runs (separable, student-t, lionmuon P=2)" \
    $LM synth --objective separable --noise student-t --nu 2.5 --m 8 --n 10 \
    --optimizer lionmuon --period 2 --lr-muon 0.05 --lr-sign 0.01 --steps 60 --seed 3 \
    --extra-samples 200 --out "$D"
if [ -f "$D/trajectory.csv" ] && [ "$(wc -l < "$D/trajectory.csv")" -eq 61 ]; then
    ok "trajectory.csv has a header and one row per step"
else bad "trajectory.csv rows"; fi
if head -1 "$D/trajectory.csv" | grep -q '^step,type,f,grad_nuc,grad_l1' &&
   sed -n 2p "$D/trajectory.csv" | grep -q '^0,M,' && sed -n 3p "$D/trajectory.csv" | grep -q '^1,L,'; then
    ok "trajectory.csv columns and step types (t=0 Muon, t=1 Lion)"
else bad "trajectory.csv columns"; fi
if jq -e '[.L_M,.L_L,.alpha,.gamma,.sigma_F,.kappa,.rho_N,.rho_1,.Delta] | all(type == "number")' \
      "$D/constants.json" >/dev/null 2>&1; then
    ok "constants.json has every numeric key"
else bad "constants.json keys"; fi
if jq -e '.L_M <= .analytic.L_M_upper * (1 + 1e-9) and .L_L <= .analytic.L_L_upper * (1 + 1e-9)
          and .bound.refined.total >= .lhs' "$D/constants.json" >/dev/null 2>&1; then
    ok "measured smoothness within the analytic constants; bound above the left side"
else bad "constants.json consistency"; fi
cp "$D/constants.json" "$CLI_TMP/first.json"
$LM synth --objective separable --noise student-t --nu 2.5 --m 8 --n 10 --optimizer lionmuon \
    --period 2 --lr-muon 0.05 --lr-sign 0.01 --steps 60 --seed 3 --extra-samples 200 \
    --out "$D" 2>/dev/null
if cmp -s "$D/constants.json" "$CLI_TMP/first.json"; then ok "same seed, same bytes"
else bad "synth is not deterministic"; fi

expect_ok "synth: zipf (mini-batch noise), kronecker low-rank, mix stable sparse" sh -c "
  $LM synth --objective zipf --noise none --m 6 --n 6 --steps 30 --seed 1 --extra-samples 100 --out $CLI_TMP/z &&
  $LM synth --objective kronecker --noise gaussian --structure low-rank --rank 2 --m 6 --n 8 \
      --optimizer muon --steps 30 --seed 1 --extra-samples 100 --out $CLI_TMP/k &&
  $LM synth --objective mix --lambda 0.3 --noise stable --alpha 1.7 --structure sparse --m 6 --n 8 \
      --optimizer lion --steps 30 --seed 1 --extra-samples 100 --out $CLI_TMP/x"

expect_ok "predict" $LM predict --constants "$D/constants.json" --eps 5
if jq -e '(.periods | length) == 11 and .periods[10].P == "inf" and .periods[0].P == 1
          and (.P_star != null) and (.periods | all(has("iterations") and has("compute")))' \
      "$CLI_TMP/out" >/dev/null 2>&1; then
    ok "predict JSON: P_star and 11 periods with iterations and compute"
else bad "predict JSON shape"; fi
if jq -e '. as $r | ($r.periods | min_by(.compute) | .P) == $r.P_star' "$CLI_TMP/out" >/dev/null 2>&1; then
    ok "P_star is the P of the smallest compute"
else bad "P_star"; fi

# the quick theory checks (make theory-check-quick): each states its
# criterion before it runs and writes a computed verdict (quick: not evidence)
expect_ok "quick V1 (synth-check)" $LM synth-check --check V1 --quick --seeds 5 --out "$CLI_TMP/v1"
if jq -e '.configs_violated == 0 and .configs > 0 and .sigma_cv_computed_max < 0.02
          and .noise_dominated * 4 >= .configs' "$CLI_TMP/v1/v1.json" >/dev/null 2>&1 &&
   grep -q 'Verdict' "$CLI_TMP/v1/v1.md" && grep -q 'stated before the run' "$CLI_TMP/v1/v1.md"; then
    ok "quick V1: no violation, sigma_F from the law (CV < 2%), >= 25% noise-dominated"
else bad "quick V1 verdict ($(cat "$CLI_TMP/v1/v1.json" 2>/dev/null | tr -d '\n'))"; fi
for c in V2 V3 V4 V5 V6; do
    k=$(echo $c | tr V v)
    expect_ok "quick $c (synth-check)" sh -c "$LM synth-check --check $c --quick --seeds 3 --out '$CLI_TMP/$k' > '$CLI_TMP/$k.out' 2>&1"
    if jq -e '.verdict | type == "string"' "$CLI_TMP/$k/$k.json" >/dev/null 2>&1 &&
       grep -q 'stated before the run' "$CLI_TMP/$k/$k.md" && grep -q '^\*\*Verdict (computed): ' "$CLI_TMP/$k/$k.md" &&
       [ "$(head -1 "$CLI_TMP/$k.out")" = "$c: success criterion (stated before the run):" ]; then
        ok "quick $c: criterion printed first, verdict $(jq -r .verdict "$CLI_TMP/$k/$k.json")"
    else bad "quick $c output ($(head -c 300 "$CLI_TMP/$k/$k.json" 2>/dev/null))"; fi
done
# progress on stderr, one plain line per configuration, per tuning round for V4-V6
if grep -q '^V2: config 1/[0-9]* done in [0-9.]* s (mix(0), ' "$CLI_TMP/v2.out" &&
   grep -q '^V4: config 1/2 done in [0-9.]* s (reference run: geometry(' "$CLI_TMP/v4.out" &&
   grep -q '^V4: tuning round 1: [0-9]* new points x 2 tuning seeds$' "$CLI_TMP/v4.out" &&
   grep -q '^V4: tuning round 1 done in [0-9.]* s; best points moved in ' "$CLI_TMP/v4.out" &&
   grep -q '^V4: config [0-9]*/[0-9]* done in [0-9.]* s (evaluation: geometry(' "$CLI_TMP/v4.out" &&
   grep -q '^V5: config [0-9]*/[0-9]* done in .*momentum SGD, lr=' "$CLI_TMP/v5.out" &&
   grep -q '^V6: config [0-9]*/[0-9]* done in [0-9.]* s (tuning round 1: geometry(0), no noise, P=inf' "$CLI_TMP/v6.out"; then
    ok "progress lines: per configuration, per tuning round and for the evaluation"
else bad "progress lines ($(grep -m3 'config\|round' "$CLI_TMP/v4.out" | tr '\n' '|'))"; fi
jq -e '.cells > 0 and .cells_pass >= 0' "$CLI_TMP/v4/v4.json" >/dev/null 2>&1 &&
    grep -q 'bound T (common)' "$CLI_TMP/v4/v4.md" && ok "quick V4: cells, the bound on the same lattice, common currency" ||
    bad "quick V4 cells"
jq -e '[.families[] | select(.family | startswith("SGD"))] | length == 2' "$CLI_TMP/v5/v5.json" >/dev/null 2>&1 &&
    grep -q 'pareto(1.75)' "$CLI_TMP/v5/v5.md" && grep -q 'fixed-horizon' "$CLI_TMP/v5/v5.md" &&
    ok "quick V5: skewed law, SGD control, fixed-horizon statistic" || bad "quick V5 families"
jq -e '.verdict == "holds"' "$CLI_TMP/v6/v6.json" >/dev/null 2>&1 &&
    ok "quick V6: the objectives separate the geometries" || bad "quick V6 ($(cat "$CLI_TMP/v6/v6.json" 2>/dev/null | tr -d '\n'))"

# bad input: a clear message naming the flag or file, and a non-zero exit
S="--m 4 --n 4 --steps 5 --out $CLI_TMP/bad"
expect_fail "unknown objective" "--objective" $LM synth --objective nope --noise gaussian $S
expect_fail "unknown noise" "--noise" $LM synth --objective separable --noise cauchy $S
expect_fail "unknown structure" "--structure" $LM synth --objective separable --noise gaussian --structure blocky $S
expect_fail "student-t nu <= 1" "--nu" $LM synth --objective separable --noise student-t --nu 1 $S
expect_fail "stable alpha = 1" "--alpha" $LM synth --objective separable --noise stable --alpha 1 $S
expect_fail "stable alpha > 2" "--alpha" $LM synth --objective separable --noise stable --alpha 2.5 $S
expect_fail "kappa at the tail index" "--kappa" $LM synth --objective separable --noise student-t --nu 1.5 --kappa 1.6 $S
expect_fail "adamw is not in the family" "--optimizer" $LM synth --objective separable --noise gaussian --optimizer adamw $S
expect_fail "missing --out" "--out" $LM synth --objective separable --noise gaussian --steps 5
expect_fail "eps = 0" "--eps" $LM predict --constants "$D/constants.json" --eps 0
expect_fail "eps < 0" "--eps" $LM predict --constants "$D/constants.json" --eps -1
echo '{"L_M": 1, ' > "$CLI_TMP/broken.json"
expect_fail "malformed constants (not JSON)" "broken.json" $LM predict --constants "$CLI_TMP/broken.json" --eps 1
jq 'del(.rho_1)' "$D/constants.json" > "$CLI_TMP/missing.json"
expect_fail "constants without rho_1" "rho_1" $LM predict --constants "$CLI_TMP/missing.json" --eps 1
jq '.kappa = 2.5' "$D/constants.json" > "$CLI_TMP/kappa.json"
expect_fail "constants with kappa outside (1, 2]" "kappa" $LM predict --constants "$CLI_TMP/kappa.json" --eps 1
jq '.L_M = "big"' "$D/constants.json" > "$CLI_TMP/str.json"
expect_fail "constants with a string L_M" "L_M" $LM predict --constants "$CLI_TMP/str.json" --eps 1
expect_fail "missing constants file" "nonexistent" $LM predict --constants "$CLI_TMP/nonexistent.json" --eps 1
expect_fail "unknown check" "--check" $LM synth-check --check V9 --out "$CLI_TMP/v9"
expect_fail "pareto with a <= 1" "--pareto-a" $LM synth --objective separable --noise pareto --pareto-a 1 $S
expect_ok "predict --currency common on synth's constants" $LM predict --constants "$D/constants.json" --eps 5 --currency common
jq -e '.currency == "common" and .kappa_minimised == true' "$CLI_TMP/out" >/dev/null 2>&1 &&
    ok "predict: common currency, minimised over kappa" || bad "predict --currency"
expect_fail "unknown currency" "--currency" $LM predict --constants "$D/constants.json" --eps 5 --currency euro

cli_done synth
