# cli_paper.sh - the paper-claims pipeline end to end on its quick variant
# (tiny models, 2 seeds): tuning sweep, selection, main sweep, msign study,
# report with every section and figure.
. tests/cli_lib.sh
D=$CLI_TMP/paper
expect_ok "make paper-quick" make -s paper-quick PAPER_DIR=$D
R=$D-quick/REPORT.md
[ -f "$R" ] && ok "report written" || bad "no report at $R"
for s in "Pareto-dominates" "SignMuon beats Muon" "msign accuracy" "Norm-ratio diagnostics" \
         "Optimizer-state bytes" "against iterations and FLOPs" "95% t intervals"; do
    grep -q "$s" "$R" && ok "report has: $s" || bad "report lacks: $s"
done
n=$(ls "$D-quick/plots"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 11 ] && ok "$n figures" || bad "only $n figures"
python3 - "$D-quick/tuned.json" <<'PY' && ok "tuned.json picks a factor per model and config" || bad "tuned.json malformed"
import json, sys
t = json.load(open(sys.argv[1]))
assert all(len(t[m]) == 10 and all(v["scale"] in (4, 16) for v in t[m].values()) for m in ("gpt2", "llama"))
PY
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
