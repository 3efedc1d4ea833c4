# cli_crash.sh - crash safety of `lionmuon train` (issue 7).
#
# A training run that checkpoints every step is killed with SIGKILL at random
# moments, again and again, each time resumed with --resume.  After every
# kill the checkpoint on disk must load (the previous one survives a kill in
# the middle of writing the next: checkpoints are written to a temporary file
# and renamed) and its step must never go backwards.  A kill that leaves a
# *.tmp.* file behind landed during a write; those are counted.  Finally the
# interrupted run, resumed to the end, must hold exactly the parameters and
# optimizer state of an uninterrupted run (compare --rtol 0 --atol 0, both
# ways) and the same metrics.csv apart from the wall-clock column.
# Run from the repository root; prints a skip line when train is not built.
. tests/cli_lib.sh
D=$CLI_TMP

if ! $LM train --help >/dev/null 2>&1; then
    echo "  skip: lionmuon train is not built"
    cli_done crash
    exit $?
fi

S="--n-layer 1 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 4 --vocab-size 64 \
--iterations 100 --ckpt-every 1 --eval-every 10 --eval-batches 1 --diag-every 5 --seed 5 \
--no-plot --quiet"
TRIES=${CRASH_TRIES:-8}
SEED=${CRASH_SEED:-$(date +%s)}
echo "  (kill times drawn with seed $SEED; CRASH_SEED=$SEED reproduces the draws)"

# ckpt_step FILE: the step recorded in a checkpoint's metadata.
ckpt_step() {
    head -c 65536 "$1" | grep -a -o '"step":"[0-9]*"' | head -1 | tr -dc 0-9
}
# ntmp DIR: how many temporary files a killed write left in DIR.
ntmp() {
    n=0
    for f in "$1"/*.tmp.*; do [ -e "$f" ] && n=$((n + 1)); done
    echo $n
}

t0=$(date +%s.%N)
expect_ok "uninterrupted reference run" $LM train $S --out "$D/ref"
# kill times scale with this machine's (and this build's) speed: uniform in
# [0.02, R/6] for a reference run of R seconds, so the eight kills land
# before the first checkpoint, inside writes and between them, and the run
# is still unfinished after most of them
R=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')

C=$D/crash
KILLS=0 MIDWRITE=0 LOADS=0 RESTARTS=0
last=-1
t=1
while [ $t -le "$TRIES" ]; do
    if [ -f "$C/checkpoint.safetensors" ]; then
        $LM train --resume "$C" --quiet --no-plot >/dev/null 2>"$D/err" &
    else
        # killed before the first checkpoint: nothing to resume, start over
        rm -rf "$C"
        RESTARTS=$((RESTARTS + 1))
        $LM train $S --out "$C" >/dev/null 2>"$D/err" &
    fi
    pid=$!
    before=$(ntmp "$C")
    delay=$(awk -v s="$SEED" -v t="$t" -v R="$R" 'BEGIN { srand(s % 1000003); for (i = 0; i < t; i++) r = rand(); printf "%.3f", 0.02 + R / 6 * r }')
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then
        KILLS=$((KILLS + 1))
        wait "$pid" 2>/dev/null
        after=$(ntmp "$C")
        [ "$after" -gt "$before" ] && MIDWRITE=$((MIDWRITE + 1))
        how="killed after ${delay}s"
    else
        wait "$pid"
        how="finished before the kill at ${delay}s (exit $?)"
    fi
    if [ -f "$C/checkpoint.safetensors" ]; then
        step=$(ckpt_step "$C/checkpoint.safetensors")
        if $LM compare "$C/checkpoint.safetensors" "$C/checkpoint.safetensors" >/dev/null 2>"$D/cerr"; then
            LOADS=$((LOADS + 1))
            if [ "${step:-0}" -ge "$last" ]; then
                ok "try $t: $how; the checkpoint (step $step) loads"
            else
                bad "try $t: $how; the checkpoint went back from step $last to $step"
            fi
            last=${step:-0}
        else
            bad "try $t: $how; the checkpoint does not load: $(head -c 300 "$D/cerr")"
        fi
    else
        ok "try $t: $how; no checkpoint yet"
    fi
    [ "$last" = 100 ] && break # the run is complete: nothing left to kill
    t=$((t + 1))
done

# resume to the end, however many stops that takes (none should fail)
if [ -f "$C/checkpoint.safetensors" ]; then
    expect_ok "the interrupted run resumes to the end" $LM train --resume "$C" --quiet --no-plot
else
    rm -rf "$C"
    expect_ok "the interrupted run (never checkpointed) runs to the end" $LM train $S --out "$C"
fi
expect_ok "final parameters and state equal the uninterrupted run's (exactly)" \
    $LM compare "$C/checkpoint.safetensors" "$D/ref/checkpoint.safetensors" --rtol 0 --atol 0
expect_ok "  and no tensor of the uninterrupted run is missing" \
    $LM compare "$D/ref/checkpoint.safetensors" "$C/checkpoint.safetensors" --rtol 0 --atol 0
# metrics.csv: every column but wall_s (the last)
strip_wall() { awk -F, -v OFS=, '{ NF = NF - 1; print }' "$1"; }
strip_wall "$D/ref/metrics.csv" >"$D/ref/metrics.csv.nowall"
if [ "$(strip_wall "$C/metrics.csv")" = "$(strip_wall "$D/ref/metrics.csv")" ]; then
    ok "metrics.csv equals the uninterrupted run's (wall_s aside)"
else
    bad "metrics.csv differs from the uninterrupted run's: $(strip_wall "$C/metrics.csv" | diff - "$D/ref/metrics.csv.nowall" | head -4 | tr '\n' ' ')"
fi
if cmp -s "$C/diagnostics.csv" "$D/ref/diagnostics.csv"; then
    ok "diagnostics.csv equals the uninterrupted run's"
else
    bad "diagnostics.csv differs from the uninterrupted run's"
fi
if [ "$(ckpt_step "$C/checkpoint.safetensors")" = 100 ]; then ok "the run reached step 100"; else bad "the run stopped at step $(ckpt_step "$C/checkpoint.safetensors")"; fi
echo "crash: $KILLS kills ($MIDWRITE during a checkpoint write, $RESTARTS fresh starts), $LOADS checkpoint loads checked, $(ntmp "$C") stale temporary files left by the kills"
cli_done crash
