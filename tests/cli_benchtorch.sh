# cli_benchtorch.sh - experiments/bench/torch_bench.py (make bench-torch) runs
# at a quick size and reports both ratios and the kernels (a benchmark, not a
# test of speed).  Needs Debian's python3-torch.
. tests/cli_lib.sh
PY=/usr/bin/python3
if ! $PY -c 'import torch' 2>/dev/null; then
    ok "skipped: no torch for $PY"
    cli_done benchtorch
    exit $?
fi
Q="--n-layer 1 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 2 --vocab-size 64 --steps 2 --threads 1 --rounds 1"
expect_ok "torch_bench compares C and torch" $PY experiments/bench/torch_bench.py $Q --lionmuon $LM --out "$CLI_TMP/tb.json"
for k in ratio_fair_mean ratio_default_mean blas_core torch_fair torch_default; do
    if grep -q "\"$k\"" "$CLI_TMP/tb.json"; then ok "torch_bench JSON has $k"; else bad "torch_bench JSON lacks $k"; fi
done
expect_ok "torch_bench with adamw, simulating a generic kernel" $PY experiments/bench/torch_bench.py $Q --optimizer adamw --lionmuon $LM --simulate-generic Prescott --out "$CLI_TMP/tb2.json"
if $PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["rounds"][0]; sys.exit(0 if r["torch_default"]["blas_core"]=="Prescott" and r["c"]["blas_core"]!="Prescott" and r["c"]["blas_core_selected_by_tool"] else 1)' "$CLI_TMP/tb2.json"; then
    ok "simulated generic: torch on Prescott, C on its selected kernel"
elif ! grep -qw avx /proc/cpuinfo; then ok "skipped: no AVX, nothing to select"
else bad "simulated generic: kernels not as expected"; fi
cli_done benchtorch
