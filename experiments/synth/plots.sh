# plots.sh DATA_DIR PLOT_DIR - the V1-V6 figures (gnuplot, cairo PNG) from
# the vK.dat files that `lionmuon synth-check` writes (and, for the group
# labels of V1 and V3, the vK.csv beside them).
#
# No path and no text from a data file reaches gnuplot as code: each data
# file is copied under a fixed name into a scratch directory, gnuplot runs
# there on fixed relative names, the legend values (lams, and V4's r and
# eps) are passed only when they are plain numbers, and group labels keep
# only letters, digits and plain punctuation.  A figure is written
# (atomically) only when gnuplot succeeds and produces a non-empty PNG; a
# failure is reported and makes the exit status 1.
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

# groups CSV OUTER INNER: gnuplot commands that label the x axis of a
# per-row figure by groups of consecutive rows of CSV (its header skipped):
# OUTER on the top axis (solid separators), INNER below (dashed).  Each is
# a template of ours: %N is field N, %Nw its first word (the text before a
# space), a newline a line break; a field keeps only letters, digits and
# plain punctuation, so no data text reaches gnuplot as code.
groups() {
    awk -F, -v otmpl="$2" -v tmpl="$3" '
    function label(t,   s, out, n, v, spec, k, parts, i) {
        s = t; out = ""
        while (match(s, /%[0-9]+w?/)) {
            spec = substr(s, RSTART + 1, RLENGTH - 1)
            n = spec + 0; v = $n
            if (spec ~ /w$/) sub(/ .*/, "", v)
            gsub(/[^A-Za-z0-9_.,=()+ \/-]/, "", v)  # a label, never gnuplot code
            out = out substr(s, 1, RSTART - 1) v
            s = substr(s, RSTART + RLENGTH)
        }
        out = out s
        k = split(out, parts, "\n")                # line breaks as gnuplot writes them
        out = parts[1]
        for (i = 2; i <= k; i++) out = out "\\" "n" parts[i]
        return out
    }
    function flush_inner() { if (ni) itics = itics (itics == "" ? "" : ", ") sprintf("\"%s\" %g", iname, (istart + x - 1) / 2) }
    function flush_outer() { if (no) otics = otics (otics == "" ? "" : ", ") sprintf("\"%s\" %g", oname, (ostart + x - 1) / 2) }
    NR == 1 { next }
    {
        x = NR - 2; o = label(otmpl); l = label(tmpl)
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

for k in 1 2 3 4 5 6; do
    [ -f "$DATA/v$k.dat" ] || continue
    cp -- "$DATA/v$k.dat" "$work/data.dat"
    # the lambda of each data block, for the legends of V2 and V4: numbers only
    lams=$(grep '^# lambda' "$work/data.dat" | awk '{print $3}' | tr -d ':' |
           grep -E '^[-+0-9.eE]+$' | tr '\n' ' ' || true)
    # V4's cost ratio and eps (the first block's "(r = R, eps E ||g_0||_N)"): numbers only
    r=$(sed -n '1s/.*(r = \([-+0-9.eE]*\), eps \([-+0-9.eE]*\) .*/\1/p' "$work/data.dat" |
        grep -E '^[-+0-9.eE]+$' || true)
    eps=$(sed -n '1s/.*(r = \([-+0-9.eE]*\), eps \([-+0-9.eE]*\) .*/\2/p' "$work/data.dat" |
          grep -E '^[-+0-9.eE]+$' || true)
    : > "$work/groups.gp"
    if [ $k = 1 ] && [ -f "$DATA/v1.csv" ]; then
        groups "$DATA/v1.csv" '%1' '%2w' > "$work/groups.gp"   # objective; noise (any scale)
    elif [ $k = 3 ] && [ -f "$DATA/v3.csv" ]; then
        # (objective, step-size ratio r = eta_L/eta_M); transition and P
        groups "$DATA/v3.csv" '%1
r = %2' '%4, P=%3' > "$work/groups.gp"
    fi
    rm -f "$work/fig.png"
    if (cd "$work" && gnuplot -e "data='data.dat'; out='fig.png'; lams='$lams'; groups='groups.gp'; r='$r'; eps='$eps'" \
            "$HERE/v$k.gp") >/dev/null 2>"$work/err" && [ -s "$work/fig.png" ]; then
        cp -- "$work/fig.png" "$OUT/.synth_v$k.png.tmp"
        mv -f -- "$OUT/.synth_v$k.png.tmp" "$OUT/synth_v$k.png"
        echo "wrote $OUT/synth_v$k.png"
    else
        echo "plots.sh: gnuplot failed on $DATA/v$k.dat; no figure written: $(head -c 300 "$work/err")" >&2
        status=1
    fi
done
exit $status
