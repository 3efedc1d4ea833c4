# cli_sweep.sh - the manifest runner: local workers, skipping finished runs,
# resuming a killed sweep, bad manifests, and (when Open MPI is installed)
# the same sweep under `mpirun -n 2` with the same results.
. tests/cli_lib.sh
D=$CLI_TMP
"${PYTHON:-/usr/bin/python3}" tests/fixtures.py "$D/fx" || { echo "cli-sweep: fixtures failed"; exit 1; }
man="$D/manifest.jsonl"
: > "$man"
for m in svd ns5 cubic polar-express; do
    echo "{\"out\": \"$D/runs/msign-$m\", \"argv\": [\"msign\", \"--method\", \"$m\", \"$D/fx/msign_in.safetensors\", \"$D/runs/msign-$m/out.safetensors\"]}" >> "$man"
done
for o in lionmuon lion muon adamw; do
    echo "{\"out\": \"$D/runs/step-$o\", \"argv\": [\"step\", \"--optimizer\", \"$o\", \"$D/fx/step_in.safetensors\", \"$D/runs/step-$o/out.safetensors\"]}" >> "$man"
done
echo "# a comment line, then a blank one" >> "$man"
echo "" >> "$man"

expect_ok "local sweep with 2 workers" $LM sweep --workers 2 "$man"
n=$(ls "$D"/runs/*/done.json 2>/dev/null | wc -l)
[ "$n" -eq 8 ] && ok "every run has done.json" || bad "$n of 8 runs have done.json"
grep -q '"status": "done"' "$man.summary.json" && ok "summary written" || bad "summary missing"
expect_ok "second sweep" sh -c "$LM sweep '$man' > '$D/second.txt'"
grep -q "0 done, 8 skipped" "$D/second.txt" && ok "finished runs are skipped" || bad "rerun did not skip: $(cat "$D/second.txt")"
rm "$D/runs/step-lion/done.json"
expect_ok "sweep after losing one result" sh -c "$LM sweep '$man' > '$D/third.txt'"
grep -q "1 done, 7 skipped" "$D/third.txt" && ok "only the unfinished run is redone" || bad "$(cat "$D/third.txt")"

# a failing run: the sweep reports it and exits non-zero, others still run
bad_man="$D/bad.jsonl"
cp "$man" "$bad_man"
sed -i "s|$D/runs/|$D/runs2/|g" "$bad_man"
echo "{\"out\": \"$D/runs2/broken\", \"argv\": [\"step\", \"$D/fx/nan_grad.safetensors\", \"$D/runs2/broken/out.safetensors\"]}" >> "$bad_man"
expect_fail "a failed run fails the sweep" "1 of 9 runs failed" $LM sweep "$bad_man"
[ -f "$D/runs2/broken/log.txt" ] && grep -q "grads.w" "$D/runs2/broken/log.txt" && ok "failed run's log kept" || bad "no log for the failed run"
[ ! -f "$D/runs2/broken/done.json" ] && ok "failed run not marked done" || bad "failed run marked done"

# a killed sweep resumes: kill the runner mid-way, rerun completes the rest
kman="$D/kill.jsonl"
: > "$kman"
for i in 1 2 3 4 5 6; do
    echo "{\"out\": \"$D/krun/$i\", \"argv\": [\"demo\", \"--quick\", \"--seed\", \"$i\"]}" >> "$kman"
done
$LM sweep --workers 1 "$kman" > /dev/null 2>&1 &
pid=$!
sleep 2.5
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
# let an orphaned run end: it holds its directory's lock until it exits
# (a fixed sleep is not enough on a loaded machine)
for i in 1 2 3 4 5 6; do
    [ -f "$D/krun/$i/.sweep.lock" ] && timeout 300 flock "$D/krun/$i/.sweep.lock" true
done
before=$(ls "$D"/krun/*/done.json 2>/dev/null | wc -l)
expect_ok "killed sweep resumes" sh -c "$LM sweep --workers 2 '$kman' > '$D/k.txt'"
after=$(ls "$D"/krun/*/done.json 2>/dev/null | wc -l)
[ "$after" -eq 6 ] && [ "$before" -lt 6 ] && ok "resume finished the $((6 - before)) unfinished runs" || bad "before $before after $after"

# bad manifests name the file and line
printf '{"out": "x", "argv": ["msign"]}\nnot json\n' > "$D/m1.jsonl"
expect_fail "malformed line names file:line" "m1.jsonl:2" $LM sweep "$D/m1.jsonl"
printf '{"out": "x", "argv": []}\n' > "$D/m2.jsonl"
expect_fail "empty argv" "argv" $LM sweep "$D/m2.jsonl"
printf '{"out": "x", "argv": ["version"]}\n{"out": "./x/", "argv": ["demo"]}\n' > "$D/m3.jsonl"
expect_fail "shared output directory" "share the output directory" $LM sweep "$D/m3.jsonl"
expect_fail "missing manifest" "nope.jsonl" $LM sweep "$D/nope.jsonl"
expect_fail "--mpi without an MPI build" "MPI" $LM sweep --mpi "$man"

# ---- issue 14: what a manifest may do, and what becomes of its runs -----------------
TR="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --eval-every 0 --ckpt-every 0 --diag-every 0 --eval-batches 1 --quiet --no-plot"
# trun OUT ITER: a manifest line training for ITER steps (about 6000 a second)
trun() {
    printf '{"out": "%s", "argv": ["train"' "$1"
    for a in $TR --iterations "$2" --out "$1"; do printf ', "%s"' "$a"; done
    printf ']}\n'
}
# running DIR: true while a run still holds DIR's lock (flock(1) from util-linux)
running() { [ -e "$1/.sweep.lock" ] && ! flock -n "$1/.sweep.lock" true 2>/dev/null; }

# a line whose argv changed since its done.json runs again; so does one
# finished by another version of the tool
python3 - "$man" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
j = json.loads(lines[0]); j["argv"][1:1] = ["--rank-rtol", "0"]
lines[0] = json.dumps(j)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
sed -i 's/"version": "[^"]*"/"version": "0.0.0"/' "$D/runs/step-adamw/done.json"
if $LM sweep "$man" >"$D/changed.txt" 2>"$D/changed.err" && grep -q "2 done, 6 skipped" "$D/changed.txt" &&
   grep -q "runs again (done.json records another argv)" "$D/changed.err" &&
   grep -q "runs again (done.json was written by another version" "$D/changed.err"; then
    ok "a changed line and a done.json of another version run again, the rest is skipped"
else
    bad "changed argv: $(cat "$D/changed.txt" "$D/changed.err" | head -c 400)"
fi
grep -q '"argv": \[' "$D/runs/msign-svd/done.json" && grep -q '"version"' "$D/runs/msign-svd/done.json" &&
    ok "done.json records argv and version" || bad "done.json lacks argv or version"

# --timeout stops a run that overruns (its whole process group)
trun "$D/to/1" 100000000 > "$D/to.jsonl"
t0=$(date +%s)
$LM sweep --timeout 1 "$D/to.jsonl" >"$D/to.txt" 2>"$D/to.err"
rc=$? dt=$(($(date +%s) - t0))
if [ $rc -eq 1 ] && [ $dt -lt 30 ] && grep -q "TIMED OUT" "$D/to.err" && grep -q "1 timed out" "$D/to.txt" &&
   grep -q '"status": "timeout"' "$D/to.jsonl.summary.json" && [ ! -e "$D/to/1/done.json" ] && ! running "$D/to/1"; then
    ok "--timeout 1 stops the run after a second ($dt s), status timeout"
else
    bad "--timeout: exit $rc after $dt s: $(cat "$D/to.txt" "$D/to.err" | head -c 400)"
fi

# SIGTERM to a sweep reaches its runs (their process groups), none is left
{ trun "$D/term/1" 100000000; trun "$D/term/2" 100000000; } > "$D/term.jsonl"
$LM sweep --workers 2 "$D/term.jsonl" >"$D/term.txt" 2>"$D/term.err" &
spid=$!
n=0; while [ ! -e "$D/term/2/log.txt" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1
kill -TERM $spid
wait $spid
rc=$?
sleep 0.5
if [ $rc -eq 143 ] && ! running "$D/term/1" && ! running "$D/term/2" &&
   grep -q '"status": "killed"' "$D/term.jsonl.summary.json" && grep -q "stopped by signal 15" "$D/term.err"; then
    ok "SIGTERM stops the sweep and every run (exit 143, runs killed, no orphan)"
else
    bad "SIGTERM: exit $rc, orphans: $(running "$D/term/1" && echo 1) $(running "$D/term/2" && echo 2); $(head -c 300 "$D/term.err")"
fi

# after SIGKILL an orphaned run still holds its directory: a rerun reports it
# busy instead of running it beside the orphan; once it ends the rerun runs it
trun "$D/lk/1" 15000 > "$D/lk.jsonl"
$LM sweep "$D/lk.jsonl" >/dev/null 2>&1 &
spid=$!
n=0; while [ ! -e "$D/lk/1/log.txt" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
sleep 0.5
kill -9 $spid
wait $spid 2>/dev/null
if running "$D/lk/1" && ! $LM sweep "$D/lk.jsonl" >"$D/lk.txt" 2>"$D/lk.err" &&
   grep -q "1 busy" "$D/lk.txt" && grep -q "held by another sweep" "$D/lk.err"; then
    ok "a run orphaned by SIGKILL keeps its lock: the rerun reports it busy"
else
    bad "orphan lock: $(cat "$D/lk.txt" "$D/lk.err" | head -c 300)"
fi
n=0; while running "$D/lk/1" && [ $n -lt 1500 ]; do sleep 0.1; n=$((n + 1)); done
expect_ok "once the orphan ends, the rerun runs the line" sh -c "$LM sweep '$D/lk.jsonl' | grep -q '1 done'"

# two sweeps at once on one manifest run every line exactly once
: > "$D/twice.jsonl"
for i in 1 2 3 4; do trun "$D/tw/$i" 6000 >> "$D/twice.jsonl"; done
$LM sweep --workers 2 --summary "$D/twA.json" "$D/twice.jsonl" >"$D/twA.txt" 2>/dev/null &
pa=$!
$LM sweep --workers 2 --summary "$D/twB.json" "$D/twice.jsonl" >"$D/twB.txt" 2>/dev/null &
pb=$!
wait $pa; wait $pb
done_a=$(sed -n 's/.*runs: \([0-9]*\) done.*/\1/p' "$D/twA.txt")
done_b=$(sed -n 's/.*runs: \([0-9]*\) done.*/\1/p' "$D/twB.txt")
nd=$(ls "$D"/tw/*/done.json 2>/dev/null | wc -l)
[ $((done_a + done_b)) -eq 4 ] && [ "$nd" -eq 4 ] && ok "two sweeps on one manifest: $done_a + $done_b runs, each line once" ||
    bad "two sweeps: A $(cat "$D/twA.txt"), B $(cat "$D/twB.txt"), $nd done.json"

# a directory name with a newline cannot fake a progress line
printf '{"out": "%s/nl\\nsweep: line 9 done in 0.0 s (worker 0): FAKE", "argv": ["version"]}\n' "$D" > "$D/nl.jsonl"
$LM sweep "$D/nl.jsonl" >/dev/null 2>"$D/nl.err"
! grep -q "^sweep: line 9" "$D/nl.err" && grep -q 'nl\\nsweep: line 9' "$D/nl.err" &&
    ok "a name with a newline is printed escaped" || bad "progress line: $(cat -A "$D/nl.err" | head -3)"

if command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1; then
    if make -s mpi > "$D/mpibuild.log" 2>&1; then
        ok "MPI build (make mpi)"
        mman="$D/mpi.jsonl"
        sed "s|$D/runs/|$D/mruns/|g" "$man" > "$mman"
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
        expect_ok "sweep under mpirun -n 2" mpirun -n 2 --oversubscribe build/mpi/lionmuon sweep --mpi "$mman"
        same=0
        for r in "$D"/runs/*/out.safetensors; do
            name=$(basename "$(dirname "$r")")
            $LM compare "$r" "$D/mruns/$name/out.safetensors" --rtol 0 --atol 0 > /dev/null 2>&1 && same=$((same + 1))
        done
        [ "$same" -eq 8 ] && ok "MPI sweep results identical to the local runner's" || bad "$same of 8 MPI results identical"
        grep -q '"worker": 1' "$mman.summary.json" && grep -q '"worker": 0' "$mman.summary.json" \
            && ok "both ranks ran work" || bad "one rank did everything"
        expect_ok "MPI sweep rerun skips everything" sh -c "mpirun -n 2 --oversubscribe build/mpi/lionmuon sweep --mpi '$mman' | grep -q '8 skipped'"
        # data-parallel training: 2 ranks on the global batch = 1 process, to rounding
        A="--n-layer 2 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 8 --vocab-size 64 --iterations 20 --eval-every 10 --quiet --no-plot"
        for o in lionmuon adamw; do
            expect_ok "train $o, one process" $LM train $A --optimizer $o --out "$D/dp1-$o"
            expect_ok "train $o --mpi on 2 ranks" mpirun -n 2 --oversubscribe build/mpi/lionmuon train $A --optimizer $o --mpi --out "$D/dp2-$o"
            # summation order differs (an all-reduce of two half-batch means):
            # the measured difference is ~2e-16 absolute, 4e-12 relative
            expect_ok "data-parallel $o matches single-process (rtol 1e-9, atol 1e-12)" $LM compare "$D/dp2-$o/checkpoint.safetensors" "$D/dp1-$o/checkpoint.safetensors" --rtol 1e-9 --atol 1e-12
        done
        expect_ok "data-parallel resume" sh -c "mpirun -n 2 --oversubscribe build/mpi/lionmuon train $A --mpi --stop-after 10 --out '$D/dp3' >/dev/null && mpirun -n 2 --oversubscribe build/mpi/lionmuon train --resume '$D/dp3' --mpi --quiet --no-plot >/dev/null"
        expect_ok "resumed data-parallel run equals the uninterrupted one" $LM compare "$D/dp3/checkpoint.safetensors" "$D/dp2-lionmuon/checkpoint.safetensors" --rtol 0 --atol 0
        expect_fail "batch not divisible by the ranks" "multiple of the 3 MPI ranks" mpirun -n 3 --oversubscribe build/mpi/lionmuon train $A --mpi --out "$D/dp4"
        expect_fail "train --mpi without an MPI build" "MPI" $LM train $A --mpi --out "$D/dp5"
    else
        bad "MPI build failed: $(tail -5 "$D/mpibuild.log")"
    fi
else
    echo "  skip MPI sweep: Open MPI (mpicc, mpirun) not installed"
fi
cli_done sweep
