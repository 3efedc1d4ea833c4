# cli_paper.sh - the paper-claims pipeline end to end on its quick variant
# (tiny models, 2 evaluation seeds): tuning sweeps on a grid that extends
# itself, selection, main sweep, msign study, report with every section,
# figure and Holm-adjusted verdict, CPU times from `paper timed`.
. tests/cli_lib.sh
D=$CLI_TMP/paper
expect_ok "make paper-quick" make -s paper-quick PAPER_DIR=$D
R=$D-quick/REPORT.md
[ -f "$R" ] && ok "report written" || bad "no report at $R"
for s in "Pareto-dominates" "SignMuon beats Muon" "msign accuracy" "Norm-ratio diagnostics" \
         "Optimizer-state bytes" "against iterations and FLOPs" "95% t intervals" \
         "Holm p" "Tuning curves" "CPU s" "msign is" "tuning seeds 100..101"; do
    grep -q "$s" "$R" && ok "report has: $s" || bad "report lacks: $s"
done
if [ -d ../shared/paper-runs/exps ]; then
    grep -q "Spearman rho" "$R" && ok "report has the rank agreement with the paper's runs" ||
        bad "report lacks the rank agreement"
fi
n=$(ls "$D-quick/plots"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 13 ] && ok "$n figures" || bad "only $n figures"
python3 - "$D-quick" <<'PY' && ok "tuned.json and grid.json: a factor per model and config, grids grown at an end" || bad "tuned.json/grid.json malformed"
import json, os, sys
d = sys.argv[1]
t = json.load(open(d + "/tuned.json"))
g = json.load(open(d + "/grid.json"))
for m in ("gpt2", "llama"):
    assert len(t[m]) == 10
    for c, v in t[m].items():
        assert v["scale"] in g[m][c] and len(v["seed_losses"][0]) == 2
        # a pick is interior unless the grid could not grow (flagged edge)
        k = g[m][c].index(v["scale"])
        assert v["edge"] or 0 < k < len(g[m][c]) - 1 or len(g[m][c]) > 2, (m, c, v)
assert any(len(g[m][c]) > 2 for m in g for c in g[m]), "no grid grew"
cpu = json.load(open(d + "/main/gpt2/muon/seed1/cpu.json"))
assert cpu["cpu_s"] > 0 and cpu["exit"] == 0
PY
grep -q '^paper timed: [0-9.]* s CPU (user [0-9.]*, system [0-9.]*) in [0-9.]* s wall, train exit 0; wrote .*/cpu.json$' \
    "$D-quick/main/gpt2/muon/seed1/log.txt" && ok "paper timed: a progress line in the run's log" ||
    bad "paper timed: no progress line in $D-quick/main/gpt2/muon/seed1/log.txt"
expect_fail "paper timed runs only train" "paper timed FILE.json train" $LM paper timed "$CLI_TMP/t.json" synth --out "$CLI_TMP/t"
# issue 14: a directory name that is gnuplot code stays a name (the figures
# are drawn inside it under fixed names), and an empty --plots is refused
Q="$CLI_TMP/p'q\"; system('touch PWNED'); x='"
cp -r "$D-quick" "$Q-runs"
expect_ok "report with quotes in --dir and --plots" $LM paper report --quick --dir "$Q-runs" --report "$CLI_TMP/r2.md" --plots "$Q" --msign-csv "$D-quick/msign.csv"
n2=$(ls "$Q"/*.png 2>/dev/null | wc -l)
pwned=$(find "$CLI_TMP" . -maxdepth 3 -name PWNED 2>/dev/null)
[ -z "$pwned" ] && [ "$n2" -eq "$n" ] && ok "no command ran; the same $n2 figures" || bad "quoted paths: $n2 figures, $pwned"
ls "$Q" | grep -q '\.tmp' && bad "a temporary figure was left" || ok "no temporary figure left"
expect_fail "report with an empty --plots" "--plots: empty directory name" $LM paper report --quick --dir "$D-quick" --report "$CLI_TMP/r3.md" --plots ''
[ ! -e "$CLI_TMP/r3.md" ] && ok "no report written with an empty --plots" || bad "a report was written with an empty --plots"
expect_fail "report without runs names the directory" "no finished runs" $LM paper report --dir "$CLI_TMP/empty" --report "$CLI_TMP/r.md"
expect_fail "unknown stage" "--stage" $LM paper manifest --stage both --manifest "$CLI_TMP/m.jsonl"
cli_done paper
