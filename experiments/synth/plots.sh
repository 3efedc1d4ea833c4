#!/bin/sh
# plots.sh DATA_DIR PLOT_DIR - the V1-V5 figures (gnuplot, cairo PNG) from
# the vK.dat files that `lionmuon synth-check` writes (and, for the group
# labels of V1 and V3, the vK.csv beside them).
set -e
DATA=${1:-results/synth}
OUT=${2:-plots}
HERE=$(dirname "$0")
mkdir -p "$OUT"
GROUPS_GP=$(mktemp)
trap 'rm -f "$GROUPS_GP"' EXIT

# groups CSV OUTER TEMPLATE: gnuplot commands labelling the rows of CSV (row
# k of the data is x = k - 1) by group on the x axis.  Consecutive rows with
# the same OUTER column form a block: its name on the top axis, a dark line
# between blocks.  Inside a block, consecutive rows with the same TEMPLATE
# (%N stands for column N) form a group: its name under the axis, a light
# dashed line between groups.
groups() {
    awk -F, -v outer="$2" -v tmpl="$3" '
    function label(   s, out, n) {
        s = tmpl; out = ""
        while (match(s, /%[0-9]+/)) {
            n = substr(s, RSTART + 1, RLENGTH - 1)
            out = out substr(s, 1, RSTART - 1) $n
            s = substr(s, RSTART + RLENGTH)
        }
        return out s
    }
    function flush_inner() { if (ni) itics = itics (itics == "" ? "" : ", ") sprintf("\"%s\" %g", iname, (istart + x - 1) / 2) }
    function flush_outer() { if (no) otics = otics (otics == "" ? "" : ", ") sprintf("\"%s\" %g", oname, (ostart + x - 1) / 2) }
    NR == 1 { next }
    {
        x = NR - 2; o = $outer; l = label()
        if (no == 0 || o != oname) {
            flush_inner(); flush_outer()
            if (no) printf "set arrow from first %g, graph 0 to first %g, graph 1 nohead lw 1.5 lc rgb \"#404040\" back\n", x - 0.5, x - 0.5
            oname = o; ostart = x; no++; iname = l; istart = x; ni = 1
        } else if (l != iname) {
            flush_inner()
            printf "set arrow from first %g, graph 0 to first %g, graph 1 nohead lc rgb \"#a0a0a0\" dt 2 back\n", x - 0.5, x - 0.5
            iname = l; istart = x; ni++
        }
    }
    END {
        x = NR - 1; flush_inner(); flush_outer()
        printf "set xrange [-0.5:%g]\n", NR - 1.5
        printf "set xtics rotate by 45 right scale 0 (%s)\n", itics
        printf "set x2tics scale 0 (%s)\nset link x2\n", otics
    }' "$1"
}

for k in 1 2 3 4 5; do
    if [ -f "$DATA/v$k.dat" ]; then
        # the lambda of each data block, for the legends of V2 and V4
        lams=$(grep '^# lambda' "$DATA/v$k.dat" | awk '{print $3}' | tr -d ':' | tr '\n' ' ')
        : > "$GROUPS_GP"
        if [ $k = 1 ] && [ -f "$DATA/v1.csv" ]; then
            groups "$DATA/v1.csv" 1 '%2' > "$GROUPS_GP"      # objective; noise
        elif [ $k = 3 ] && [ -f "$DATA/v3.csv" ]; then
            groups "$DATA/v3.csv" 1 '%3, P=%2' > "$GROUPS_GP" # objective; transition and P
        fi
        gnuplot -e "data='$DATA/v$k.dat'; out='$OUT/synth_v$k.png'; lams='$lams'; groups='$GROUPS_GP'" "$HERE/v$k.gp"
        echo "wrote $OUT/synth_v$k.png"
    fi
done
