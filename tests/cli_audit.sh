# cli_audit.sh - `lionmuon paper audit`: the paper's released runs read back
# (../shared/paper-runs/exps beside the repository; skipped with a note when
# absent), its numbers recomputed independently in Python from the same
# summary.json files, and bad input refused (exit 2, one line naming the
# file, nothing on stdout).
. tests/cli_lib.sh
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXPS=$ROOT/../shared/paper-runs/exps
T=$CLI_TMP

# expect_bad "description" "pattern" command...: exit status 2, no stdout,
# exactly one line on stderr, matching pattern.
expect_bad() {
    d=$1; pat=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne 2 ]; then
        bad "$d (exit $rc, want 2)"
    elif [ -s "$T/out" ]; then
        bad "$d (wrote to stdout)"
    elif [ "$(wc -l <"$T/err")" -ne 1 ]; then
        bad "$d (stderr is not one line: $(head -c 300 "$T/err"))"
    elif grep -q -- "$pat" "$T/err"; then
        ok "$d"
    else
        bad "$d (stderr lacks '$pat': $(head -c 300 "$T/err"))"
    fi
}

# A small summary.json in the paper's format: mk_run DIR opt P beta1 beta2 [val_loss list]
mk_run() {
    mkdir -p "$1"
    python3 - "$@" <<'PY'
import json, sys
d, opt, P, b1, b2 = sys.argv[1:6]
vals = sys.argv[6] if len(sys.argv) > 6 else "[4.0, 3.9, null, 3.8]"
args = dict(opt=opt, dataset="fineweb", model="base", n_layer=2, n_embd=64,
            sequence_length=32, batch_size=4, vocab_size=256, iterations=100,
            muon_every_k=int(P), beta1=float(b1), beta2=float(b2), muon_ns_steps=5, acc_steps=1)
text = '{"train_loss": [5.0, null], "val_loss": %s, "wall_time": 12.5, "args": %s}' % (
    vals, json.dumps(args))
open(d + "/summary.json", "w").write(text)
PY
}

# ---- synthetic runs: the format, NaN tokens, skipped folders --------------
S=$T/synth
mk_run "$S/a_lionmuon_k2" lion_muon 2 0.9 0.99 "[4.0, NaN, 3.7, null, Infinity]"
mk_run "$S/b_muon" lion_muon 1 0.9 0.9 "[4.0, 3.75]"
mk_run "$S/c_lion" lion_muon 10000000 0.9 0.99
mk_run "$S/d_signum" lion_muon 10000000 0.9 0.9
mkdir -p "$S/e_adamw" && python3 - "$S/e_adamw" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/../b_muon/summary.json"))
a["args"].update(opt="adamw", beta1=0.8, beta2=0.999)
a["val_loss"] = [4.1, 3.95]
json.dump(a, open(sys.argv[1] + "/summary.json", "w"))
PY
mkdir -p "$S/f_unfinished"
expect_ok "audit of synthetic runs" $LM paper audit "$S" --json --out "$T/synth.json"
python3 - "$T/synth.json" <<'PY' && ok "synthetic: labels, NaN tokens as null, skipped folder, verdict" || bad "synthetic audit wrong"
import json, sys
j = json.load(open(sys.argv[1]))
runs = {r["name"]: r for r in j["runs"]}
assert [r["name"] for r in j["runs"]] == sorted(runs), "runs not sorted by name"
assert {n: r["label"] for n, r in runs.items()} == {
    "a_lionmuon_k2": "LionMuon P=2", "b_muon": "Muon", "c_lion": "Lion",
    "d_signum": "Signum", "e_adamw": "AdamW"}, runs
assert runs["a_lionmuon_k2"]["best_val_loss"] == 3.7
assert j["nonfinite_tokens_as_null"] == 2
assert j["skipped"] == ["f_unfinished"]
v = j["verdicts"][0]
assert v["claim_run"] == "a_lionmuon_k2" and [a["baseline"] for a in v["against"]] == [
    "Muon", "Lion", "Signum", "AdamW"]
assert v["holds"] == all(a["dominated"] for a in v["against"])
PY
$LM paper audit "$S" >"$T/synth.txt" 2>&1
grep -q "skipped.*f_unfinished" "$T/synth.txt" && ok "text notes the skipped folder" \
    || bad "text lacks the skipped folder"

# ---- bad input ------------------------------------------------------------
expect_bad "missing directory" "$T/nope" $LM paper audit "$T/nope"
B=$T/bad1; mk_run "$B/r1" lion_muon 2 0.9 0.99; mkdir -p "$B/r2"
printf '{"val_loss": [1, 2' >"$B/r2/summary.json"
expect_bad "malformed summary.json" "$B/r2/summary.json" $LM paper audit "$B"
B=$T/bad2; mk_run "$B/r1" lion_muon 2 0.9 0.99; mkdir -p "$B/r2/summary.json"
expect_bad "summary.json that is a directory" "$B/r2/summary.json: not a regular file" \
    $LM paper audit "$B"
B=$T/bad3; mkdir -p "$B/r1"; ln -s /dev/zero "$B/r1/summary.json"
expect_bad "summary.json a symlink to /dev/zero" "$B/r1/summary.json: not a regular file" \
    $LM paper audit "$B"
B=$T/bad4; mkdir -p "$B/r1"; truncate -s 65M "$B/r1/summary.json"
expect_bad "summary.json over 64 MiB" "$B/r1/summary.json: .*limit" $LM paper audit "$B"
B=$T/bad5; mk_run "$B/r1" lion_muon 2 0.9 0.99
python3 - "$B/r1/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); del d["args"]["n_embd"]; json.dump(d, open(sys.argv[1], "w"))
PY
expect_bad "a missing args field" "$B/r1/summary.json: args.n_embd" $LM paper audit "$B"
B=$T/bad7; mkdir -p "$B/r1"; mkfifo "$B/r1/summary.json"
expect_bad "summary.json a FIFO (not opened for a writer)" "$B/r1/summary.json: not a regular file" \
    timeout 10 $LM paper audit "$B"
B=$T/bad6; mkdir -p "$B/r1"
expect_bad "no run at all" "$B" $LM paper audit "$B"
expect_fail "no directory argument" "paper audit DIR" $LM paper audit

# ---- the paper's released runs ------------------------------------------
if [ ! -d "$EXPS" ]; then
    echo "  note: $EXPS is absent; the checks on the paper's runs are skipped"
    cli_done audit
    exit $?
fi
expect_ok "audit of the paper's runs (text)" $LM paper audit "$EXPS" --headline-md theory/algorithms.md
cp "$T/out" "$T/exps.txt"
grep -q "^Runs read: 170 " "$T/exps.txt" && ok "170 runs read" || bad "not 170 runs: $(grep 'Runs read' "$T/exps.txt")"
n=$(grep -c "^| [A-Za-z0-9= ]* | fw_base_[a-z0-9_]* | [^|]* | [0-9.]* | [0-9.]* | yes |$" "$T/exps.txt")
[ "$n" -eq 10 ] && ok "all 10 headline rows agree with theory/algorithms.md §9" \
    || bad "$n of 10 headline rows agree"
expect_ok "audit of the paper's runs (--json)" $LM paper audit "$EXPS" --json
cp "$T/out" "$T/exps.json"
expect_ok "--out writes the same JSON" $LM paper audit "$EXPS" --json --out "$T/exps-out.json"
cmp -s "$T/exps.json" "$T/exps-out.json" && ok "--out output equals stdout (deterministic)" \
    || bad "--out output differs from stdout"
python3 - "$T/exps.json" "$EXPS" "$ROOT/theory/algorithms.md" <<'PY' && ok "JSON checked independently in Python" || bad "JSON check failed"
import json, math, os, re, sys
from fractions import Fraction
j = json.load(open(sys.argv[1]))
exps = sys.argv[2]
runs = {r["name"]: r for r in j["runs"]}
assert len(j["runs"]) == 170, len(j["runs"])
print("    runs:", len(runs))

def summary(name):
    return json.load(open(os.path.join(exps, name, "summary.json")))

# best validation loss: the minimum of the finite entries, from the file itself
s = summary("fw_base_lionmuon_k2")
best = min(v for v in s["val_loss"] if v is not None and math.isfinite(v))
assert runs["fw_base_lionmuon_k2"]["best_val_loss"] == best, (runs["fw_base_lionmuon_k2"], best)
print("    fw_base_lionmuon_k2 best val loss", best)

# total FLOPs: theory/algorithms.md §8, exact rational arithmetic
def flops(a):
    L, C, V, T = a["n_layer"], a["n_embd"], a["vocab_size"], a["sequence_length"]
    B = a["batch_size"] * (a.get("acc_steps") or 1)
    model = 6 * (L * 12 * C * C + V * C + T * C) * T * B
    if a["opt"] == "adamw":
        return a["iterations"] * model
    def ns(m, n):
        lo, hi = min(m, n), max(m, n)
        return a["muon_ns_steps"] * 2 * lo * lo * (2 * hi + lo)
    NS = L * (ns(C, 3 * C) + ns(C, C) + ns(C, 4 * C) + ns(4 * C, C))
    sign = L * 12 * C * C
    P, it = int(a["muon_every_k"]), a["iterations"]
    if P >= 10**6:
        return it * (model + sign) + NS
    return it * (model + Fraction(NS, P) + sign * (1 - Fraction(1, P)))

exact = flops(s["args"])
got = runs["fw_base_lionmuon_k2"]["total_flops"]
assert abs(got - float(exact)) <= 1e-12 * float(exact), (got, float(exact))
print("    fw_base_lionmuon_k2 total FLOPs %.6e" % got)
n = 0
for name, r in runs.items():
    if r["flops_accounting"] == "paper":
        e = float(flops(summary(name)["args"]))
        assert abs(r["total_flops"] - e) <= 1e-12 * e, (name, r["total_flops"], e)
        n += 1
print("    FLOPs of all %d runs with the paper's accounting agree" % n)

# Pareto fronts, recomputed from the JSON runs of each cell
def front(cell, paper_only):
    pts = [runs[n] for n in cell["runs"] if runs[n]["best_val_loss"] is not None
           and not (paper_only and runs[n]["flops_accounting"] != "paper")]
    def dom(a, b):
        return ((a["total_flops"] <= b["total_flops"] and a["best_val_loss"] < b["best_val_loss"]) or
                (a["total_flops"] < b["total_flops"] and a["best_val_loss"] <= b["best_val_loss"]))
    return sorted(p["name"] for p in pts if not any(dom(q, p) for q in pts if q is not p))
for cell in j["cells"]:
    assert cell["runs"] == sorted(cell["runs"])
    assert sorted(cell["runs"]) == sorted(n for n, r in runs.items()
                                          if (r["dataset"], r["model"]) == (cell["dataset"], cell["model"]))
    assert cell["pareto_front"] == front(cell, False), (cell["dataset"], cell["model"])
    assert cell["pareto_front_paper_accounting"] == front(cell, True)
print("    Pareto fronts of %d cells agree" % len(j["cells"]))

# verdicts: the dominance of each baseline from the JSON numbers
for v in j["verdicts"]:
    c = runs[v["claim_run"]]
    for a in v["against"]:
        b = runs[a["run"]]
        dom = ((c["total_flops"] <= b["total_flops"] and c["best_val_loss"] < b["best_val_loss"]) or
               (c["total_flops"] < b["total_flops"] and c["best_val_loss"] <= b["best_val_loss"]))
        assert a["dominated"] == dom and b["label"] == a["baseline"]
        assert abs(a["loss_gap"] - (b["best_val_loss"] - c["best_val_loss"])) < 1e-12
    assert v["holds"] == (len(v["against"]) == 4 and all(a["dominated"] for a in v["against"]))
    print("    %s/%s: holds=%s, not dominated: %s" % (v["dataset"], v["model"], v["holds"],
          [a["baseline"] for a in v["against"] if not a["dominated"]]))

# the headline table of theory/algorithms.md §9, parsed here
rows = re.findall(r"^\| ([A-Za-z]+(?: P=\d+)?) +\| (\d\.\d{4}) +\| `(fw_base_\w+)`",
                  open(sys.argv[3]).read(), re.M)
assert len(rows) == 10, rows
for head, val, run in rows:
    assert round(runs[run]["best_val_loss"], 4) == float(val), (head, run, val)
h = {x["run"]: x for x in j["headline"]}
assert sorted(h) == sorted(r for _, _, r in rows)
PY
expect_ok "the help names the audit step" sh -c "$LM paper --help | grep -q 'paper audit DIR'"

# ---- rank agreement with a CPU reproduction (--cpu-report) ----------------
# four of the paper's runs and a fake CPU results dir ranked the same way,
# one config ranked apart in the LLaMA cell: rho = 1 for gpt2 over 4 configs
K=$T/rank
mk_run "$K/paper/fw_base_adamw" adamw 1 0.8 0.999 "[3.9, 3.6]"
mk_run "$K/paper/fw_base_lion" lion_muon 10000000 0.9 0.99 "[3.9, 3.7]"
mk_run "$K/paper/fw_base_muon_fixed" lion_muon 1 0.95 0.95 "[3.9, 3.5]"
mk_run "$K/paper/fw_base_lionmuon_k2" lion_muon 2 0.9 0.99 "[3.9, 3.4]"
for c in adamw:4.30 lion:4.40 muon:4.20 lionmuon-p2:4.10; do
    mkdir -p "$K/cpu/main/gpt2/${c%%:*}/seed1"
    echo "{\"best_val_loss\": ${c#*:}}" > "$K/cpu/main/gpt2/${c%%:*}/seed1/summary.json"
done
expect_ok "audit with --cpu-report" $LM paper audit "$K/paper" --json --cpu-report "$K/cpu" --out "$K/r.json"
python3 - "$K/r.json" <<'PY' && ok "rank agreement: rho = 1 over the 4 shared configs (gpt2), none for llama" || bad "rank agreement JSON: $(head -c 400 "$K/r.json")"
import json, sys
r = json.load(open(sys.argv[1]))["rank_agreement"]["models"]
g = [m for m in r if m["model"] == "gpt2"][0]
l = [m for m in r if m["model"] == "llama"][0]
assert g["n"] == 4 and abs(g["spearman"] - 1) < 1e-12, g
assert l["n"] == 0 and l["spearman"] is None
PY
expect_ok "audit with --cpu-report, text" sh -c "$LM paper audit '$K/paper' --cpu-report '$K/cpu' | grep -q 'Spearman rho = 1.000 over 4 configs'"
cli_done audit
