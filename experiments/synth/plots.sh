#!/bin/sh
# plots.sh DATA_DIR PLOT_DIR - the V1-V6 figures (gnuplot, PNG) from the
# vK.dat files that `lionmuon synth-check` writes.
set -e
DATA=${1:-results/synth}
OUT=${2:-plots}
HERE=$(dirname "$0")
mkdir -p "$OUT"
for k in 1 2 3 4 5 6; do
    if [ -f "$DATA/v$k.dat" ]; then
        # the lambda of each data block, for the legends of V2 and V4
        lams=$(grep '^# lambda' "$DATA/v$k.dat" | awk '{print $3}' | tr -d ':' | tr '\n' ' ')
        gnuplot -e "data='$DATA/v$k.dat'; out='$OUT/synth_v$k.png'; lams='$lams'" "$HERE/v$k.gp"
        echo "wrote $OUT/synth_v$k.png"
    fi
done
