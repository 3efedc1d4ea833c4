#!/bin/sh
# cli_mutation.sh - the mutation matrix (experiments/torch_verify/mutation_matrix.py):
# verify_golden.py's correct optimizer must pass golden files of every
# optimizer and a step file in f64, f32 and bf16 (CPU torch), and each of the
# 12 mutants of experiments/torch_verify/mutants.py must be caught within 4
# replayed steps in every precision where its effect exceeds the threshold
# plus the correct implementation's error.  Skipped, with a line saying so,
# when torch is not importable.
. tests/cli_lib.sh
PY=/usr/bin/python3
if ! $PY -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "  skip mutation matrix: '$PY -c \"import torch\"' fails (apt-get install python3-torch)"
    cli_done mutation
    exit $?
fi
t0=$(date +%s)
$PY experiments/torch_verify/mutation_matrix.py --lionmuon "$LM" >"$CLI_TMP/m" 2>&1
rc=$?
t1=$(date +%s)
# one line per correct replay and per mutant, as the table gives them
grep -E '^\| [a-z-]+ (file )?\|' "$CLI_TMP/m" | grep -v '| f64 |' | while IFS='|' read -r _ g r64 r32 rbf _; do
    echo "  correct $(echo $g): f64$r64/ f32$r32/ bf16$rbf"
done
grep -E '^\| [A-Za-z]+:' "$CLI_TMP/m" | sed 's/^| \([A-Za-z]*\):[^|]*|/  mutant \1:/'
grep "^mutation matrix: FAIL" "$CLI_TMP/m"
if [ $rc -eq 0 ] && grep -q "^mutation matrix: 12 mutants x 3 precisions, 27 correct replays: PASS" "$CLI_TMP/m"; then
    ok "mutation matrix: every correct replay passes, every detectable mutant is caught"
else
    bad "mutation matrix (exit $rc): $(tail -3 "$CLI_TMP/m")"
fi
n=$(grep -cE '^\| [A-Za-z]+:' "$CLI_TMP/m")
[ "$n" -ge 12 ] && ok "at least 12 mutants ($n)" || bad "only $n mutants"
caught=$(grep -E '^\| NoWeightDecay:' "$CLI_TMP/m" | grep -o 'caught' | wc -l)
[ "$caught" -eq 3 ] && ok "no weight decay is caught in f64, f32 and bf16" || bad "no weight decay caught in $caught precisions"
[ $((t1 - t0)) -lt 60 ] && ok "in $((t1 - t0)) s (< 60 s)" || bad "took $((t1 - t0)) s (>= 60 s)"
cli_done mutation
