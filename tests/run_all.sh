#!/bin/sh
# run_all.sh - the whole suite: the Criterion unit tests, then every
# tests/cli_*.sh, then one closing line "tests: N passed, N failed" that
# sums them.  Exits non-zero if anything failed.
# The unit tests pin BLAS and OpenMP to one thread per test process and run
# two processes at once: the results are then independent of scheduling.
cd "$(dirname "$0")/.." || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ./tests/run_tests --jobs 2 2>&1 | tee "$log"
# Criterion's synthesis: "Tested: T | Passing: P | Failing: F | Crashing: C"
unit=$(grep 'Synthesis' "$log" | tail -1)
pass=$(echo "$unit" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
fail=$(echo "$unit" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
[ -n "$pass" ] || { echo "run_all: the unit tests printed no synthesis"; pass=0; fail="1 0"; }
fail=$(( $(echo $fail | cut -d' ' -f1) + $(echo $fail | cut -d' ' -f2) ))
[ "$fail" -eq 0 ] || status=1
for f in tests/cli_*.sh; do
    [ "$f" = tests/cli_lib.sh ] && continue
    echo "== $f"
    sh "$f" 2>&1 | tee "$log" || true
    line=$(grep -E '^cli-[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "run_all: $f printed no summary"
        fail=$((fail + 1))
        status=1
        continue
    fi
    p=$(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
    q=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
    pass=$((pass + p))
    fail=$((fail + q))
    [ "$q" -eq 0 ] || status=1
done
echo "tests: $pass passed, $fail failed"
# kept for `make test` to repeat as its closing line, after the sanitizer
# and fuzz stages
mkdir -p build && echo "tests: $pass passed, $fail failed" > build/tally.txt
exit $status
