#!/bin/sh
# plots.sh DATA_DIR PLOT_DIR - the V1-V5 figures (gnuplot, PNG) from the
# vK.dat files that `lionmuon synth-check` writes.
#
# No path and no text from a data file reaches gnuplot as code: each data
# file is copied under a fixed name into a scratch directory, gnuplot runs
# there on fixed relative names, and the legend values (lams) are passed
# only when they are plain numbers.  A figure is written (atomically) only
# when gnuplot succeeds and produces a non-empty PNG; a failure is reported
# and makes the exit status 1.
set -e
DATA=${1:-results/synth}
OUT=${2:-plots}
if [ -z "$DATA" ] || [ -z "$OUT" ]; then
    echo "plots.sh: empty DATA_DIR or PLOT_DIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p -- "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for k in 1 2 3 4 5; do
    [ -f "$DATA/v$k.dat" ] || continue
    cp -- "$DATA/v$k.dat" "$work/data.dat"
    # the lambda of each data block, for the legends of V2 and V4: numbers only
    lams=$(grep '^# lambda' "$work/data.dat" | awk '{print $3}' | tr -d ':' |
           grep -E '^[-+0-9.eE]+$' | tr '\n' ' ' || true)
    rm -f "$work/fig.png"
    if (cd "$work" && gnuplot -e "data='data.dat'; out='fig.png'; lams='$lams'" "$HERE/v$k.gp") \
            >/dev/null 2>"$work/err" && [ -s "$work/fig.png" ]; then
        cp -- "$work/fig.png" "$OUT/.synth_v$k.png.tmp"
        mv -f -- "$OUT/.synth_v$k.png.tmp" "$OUT/synth_v$k.png"
        echo "wrote $OUT/synth_v$k.png"
    else
        echo "plots.sh: gnuplot failed on $DATA/v$k.dat; no figure written: $(head -c 300 "$work/err")" >&2
        status=1
    fi
done
exit $status
