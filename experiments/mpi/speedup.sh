#!/bin/sh
# speedup.sh - measured speed-up of a sweep and of data-parallel training with
# 2 MPI ranks on this machine, against one process; each process is pinned to
# one thread (OMP/OpenBLAS) so the ranks are the only parallelism.  Prints the
# ratios and writes results/mpi/speedup.json.  Needs a `make mpi` build.
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LM=build/mpi/lionmuon
D=results/mpi
rm -rf "$D"
mkdir -p "$D"
now() { date +%s.%N; }

# a sweep of 8 equal training runs
for mode in local1 mpi2; do
    : > "$D/$mode.jsonl"
    for i in 1 2 3 4 5 6 7 8; do
        echo "{\"out\": \"$D/$mode/run$i\", \"argv\": [\"train\", \"--n-layer\", \"2\", \"--n-embd\", \"64\", \"--n-head\", \"4\", \"--seq-len\", \"32\", \"--batch-size\", \"8\", \"--iterations\", \"60\", \"--seed\", \"$i\", \"--quiet\", \"--no-plot\", \"--out\", \"$D/$mode/run$i\"]}" >> "$D/$mode.jsonl"
    done
done
t0=$(now); $LM sweep --workers 1 "$D/local1.jsonl" > /dev/null; t1=$(now)
mpirun -n 2 --oversubscribe $LM sweep --mpi "$D/mpi2.jsonl" > /dev/null; t2=$(now)
sweep1=$(awk "BEGIN {print $t1 - $t0}"); sweep2=$(awk "BEGIN {print $t2 - $t1}")

# data-parallel training on one global batch
A="--n-layer 2 --n-embd 128 --n-head 4 --seq-len 64 --batch-size 16 --vocab-size 256 --iterations 20 --eval-every 0 --diag-every 0 --quiet --no-plot"
t0=$(now); $LM train $A --out "$D/dp1" > /dev/null; t1=$(now)
mpirun -n 2 --oversubscribe $LM train $A --mpi --out "$D/dp2" > /dev/null; t2=$(now)
dp1=$(awk "BEGIN {print $t1 - $t0}"); dp2=$(awk "BEGIN {print $t2 - $t1}")
./lionmuon compare "$D/dp2/checkpoint.safetensors" "$D/dp1/checkpoint.safetensors" --rtol 1e-9 --atol 1e-12 > "$D/compare.txt" || true
diff=$(awk 'NR>2 && $NF ~ /PASS|FAIL/ {a=$(NF-2)+0; if (a>m) m=a} END {print m+0}' "$D/compare.txt")

printf 'sweep of 8 runs:     1 process %.2f s, mpirun -n 2 %.2f s, speed-up %.2fx\n' "$sweep1" "$sweep2" "$(awk "BEGIN {print $sweep1 / $sweep2}")"
printf 'data-parallel train: 1 process %.2f s, mpirun -n 2 %.2f s, speed-up %.2fx (max |param diff| %s)\n' "$dp1" "$dp2" "$(awk "BEGIN {print $dp1 / $dp2}")" "$diff"
printf '{"sweep_1proc_s": %s, "sweep_mpi2_s": %s, "train_1proc_s": %s, "train_mpi2_s": %s, "train_max_abs_diff": %s}\n' \
    "$sweep1" "$sweep2" "$dp1" "$dp2" "$diff" > "$D/speedup.json"
