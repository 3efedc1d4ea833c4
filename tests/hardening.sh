#!/bin/sh
# hardening.sh - the drivers behind `make sanitize`, `make valgrind` and
# `make fuzz` (tests/hardening.mk).  Run from the repository root.
#
#   sh tests/hardening.sh sanitize DIR        DIR/run_tests and DIR/lionmuon
#                                             (ASan+UBSan) through the suite
#   sh tests/hardening.sh valgrind LM         memcheck of each subcommand
#   sh tests/hardening.sh fuzz DIR SECONDS T...   each libFuzzer target T
#
# Not named cli_*.sh on purpose: run_all.sh must not pick it up.
cd "$(dirname "$0")/.." || exit 2
# lionmuon re-executes itself to set OMP_WAIT_POLICY when it is unset
# (src/cli/startup.c); under valgrind the re-executed copy would escape memcheck,
# so the policy is set here.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mode=$1
shift

# ---- sanitize ---------------------------------------------------------------
# Every sanitizer report goes to a log file under $logs as well as failing
# the process (exitcode 86): a report inside a command that a CLI test
# expects to fail would otherwise pass unseen.  After the run, any log file
# at all is a failure.
run_sanitize() {
    dir=$1
    logs=$dir/logs
    rm -rf "$logs"
    mkdir -p "$logs"
    export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0:log_path=$(pwd)/$logs/asan:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$(pwd)/$logs/ubsan"
    # No leak report has come from OpenBLAS or libgomp so far, so there is no
    # suppressions file; should one appear, list only those libraries in
    # tests/lsan.supp ("leak:libopenblas", "leak:libgomp") and it is used.
    [ -f tests/lsan.supp ] && export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
    # Scripts may skip repeats that only matter for the logic, not for
    # memory safety (cli_badinput.sh: the "over an existing output" pass).
    export LM_SANITIZED=1
    status=0
    echo "== sanitize: unit tests ($dir/run_tests)"
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$dir/run_tests" --jobs 2 || status=1
    for f in tests/cli_*.sh; do
        [ "$f" = tests/cli_lib.sh ] && continue
        # A script that runs ./lionmuon directly instead of $LM would test
        # the unsanitized tool: skip it and say so.
        if ! grep -q '\$LM' "$f"; then
            echo "== $f: skipped (does not use \$LM)"
            continue
        fi
        # SANITIZE_SKIP="cli_torch cli_paper": scripts to leave out (CI time)
        name=${f#tests/}
        name=${name%.sh}
        case " ${SANITIZE_SKIP:-} " in *" $name "*)
            echo "== $f: skipped (SANITIZE_SKIP)"
            continue ;;
        esac
        echo "== sanitize: $f"
        t0=$(date +%s)
        LM=$dir/lionmuon sh "$f" || status=1
        echo "== $f: $(($(date +%s) - t0)) s under the sanitizers"
    done
    n=$(ls "$logs" | wc -l)
    if [ "$n" -ne 0 ]; then
        echo "sanitize: $n sanitizer report(s):"
        for l in "$logs"/*; do echo "---- $l"; head -60 "$l"; done
        status=1
    fi
    echo "sanitize: $( [ $status -eq 0 ] && echo clean || echo FAILED ), $n sanitizer reports"
    return $status
}

# ---- valgrind -----------------------------------------------------------------
# memcheck of one command: no error, no definite leak.  To find where an
# uninitialised value came from, rerun the failing command by hand with
# --track-origins=yes (left out here: it doubles the time).
VG_RUNS=0
VG_FAIL=0
vg() {
    what=$1
    shift
    VG_RUNS=$((VG_RUNS + 1))
    log=$T/vg.$VG_RUNS.log
    if valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --log-file="$log" "$@" >"$T/vg.out" 2>"$T/vg.err"; then
        rc=0
    else
        rc=$?
    fi
    # A command that fails on purpose (bad input) must still be clean: only
    # valgrind's own exit code 99 is a memcheck failure.
    if [ "$rc" -eq 99 ] || ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
        VG_FAIL=$((VG_FAIL + 1))
        echo "  FAIL valgrind $what (exit $rc)"
        grep -A30 -E "Invalid|uninitialised|definitely lost|Conditional jump" "$log" | head -60
    else
        echo "  ok   valgrind $what ($(grep -o 'in use at exit: [0-9,]* bytes' "$log"))"
    fi
}

valgrind_cases() {
    LM=$1
    "${PYTHON:-/usr/bin/python3}" tests/fixtures.py "$T" >/dev/null || { echo "valgrind: fixtures failed"; return 1; }
    python3 -c "import struct, sys; sys.stdout.buffer.write(struct.pack('<3i', 20240520, 1, 300) + bytes(1012) + struct.pack('<300H', *[i * 7 % 32 for i in range(300)]))" >"$T/tok.bin"
    vg "msign svd" $LM msign --method svd "$T/msign_in.safetensors" "$T/o1.safetensors"
    vg "msign ns5" $LM msign --method ns5 "$T/msign_in.safetensors" "$T/o2.safetensors"
    vg "msign cubic" $LM msign --method cubic "$T/msign_in.safetensors" "$T/o3.safetensors"
    vg "msign polar-express" $LM msign --method polar-express "$T/msign_in.safetensors" "$T/o4.safetensors"
    vg "step lionmuon" $LM step --optimizer lionmuon "$T/step_in.safetensors" "$T/o5.safetensors"
    vg "step adamw" $LM step --optimizer adamw "$T/step_in.safetensors" "$T/o6.safetensors"
    vg "step lion" $LM step --optimizer lion "$T/lion_in.safetensors" "$T/o7.safetensors"
    vg "step muon-nesterov" $LM step --optimizer muon-nesterov "$T/step_in.safetensors" "$T/o8.safetensors"
    vg "step srank trigger" $LM step --srank-alpha 0.5 "$T/step_in.safetensors" "$T/o9.safetensors"
    vg "compare" $LM compare "$T/o5.safetensors" "$T/o5.safetensors"
    # demo --quick factors 256 x 256 matrices many times: over ten minutes
    # under memcheck, and every routine it calls is covered above, so only
    # on request (VALGRIND_DEMO=1 make valgrind).
    if [ "${VALGRIND_DEMO:-0}" = 1 ]; then
        vg "demo --quick" $LM demo --quick
    else
        echo "  skip demo --quick (over ten minutes under memcheck; VALGRIND_DEMO=1 runs it)"
    fi
    # error paths must free what they took, too
    vg "step on a NaN gradient (fails)" $LM step "$T/nan_grad.safetensors" "$T/x.safetensors"
    vg "step on a truncated file (fails)" $LM step "$T/truncated.safetensors" "$T/x.safetensors"
    vg "msign to /dev/full (fails)" $LM msign "$T/msign_in.safetensors" /dev/full
    vg "step bad flag (fails)" $LM step --beta1 2 "$T/step_in.safetensors" "$T/x.safetensors"
    vg "compare mismatch (exit 1)" $LM compare "$T/o5.safetensors" "$T/o6.safetensors"
    vg "msign on /dev/zero (fails)" $LM msign /dev/zero "$T/x.safetensors"
    printf '{"out": "%s/sw1", "argv": ["version"]}\n{"out": "%s/sw2", "argv": ["msign", "%s", "%s/sw2/o.st"]}\n' \
        "$T" "$T" "$T/msign_in.safetensors" "$T" > "$T/m.jsonl"
    vg "sweep (2 runs)" $LM sweep --workers 2 "$T/m.jsonl"
    vg "sweep rerun (skips)" $LM sweep "$T/m.jsonl"
    printf '{"out": "%s/sw3", "argv": ["sweep", "x"]}\n' "$T" > "$T/bad.jsonl"
    vg "sweep of a manifest that runs sweep (fails)" $LM sweep "$T/bad.jsonl"
    # The subcommands of the other modules, once they exist: a short run each.
    if $LM train --help >/dev/null 2>&1; then
        vg "train gpt2 (3 steps, stopped after 2)" $LM train $TRAIN_SMALL --iterations 3 \
            --stop-after 2 --diag-every 1 --out "$T/run"
        vg "train --resume" $LM train --resume "$T/run" --quiet --no-plot
        vg "train llama (2 steps)" $LM train $TRAIN_SMALL --model llama --iterations 2 --out "$T/run2"
        vg "train on an llm.c token file" $LM train $TRAIN_SMALL --iterations 2 --data llmc \
            --train-data "$T/tok.bin" --out "$T/run3"
        vg "train on a bad token file (fails)" $LM train $TRAIN_SMALL --iterations 2 --data llmc \
            --train-data "$T/o1.safetensors" --out "$T/run4"
        vg "golden (2 steps)" $LM golden "$T/golden.safetensors" --steps 2 $GOLDEN_SMALL
        # issue 14: the checks of a resume, a refused one, a memory estimate
        cp -r "$T/run" "$T/run5"
        sed -i 's/"run_id": "[0-9a-f]*"/"run_id": "00000000000000000000000000000000"/' "$T/run5/summary.json"
        vg "train --resume of a directory mixing two runs (fails)" $LM train --resume "$T/run5" --quiet --no-plot
        vg "train beyond memory (fails)" $LM train $TRAIN_SMALL --n-embd 20000 --out "$T/run6"
    else
        echo "  skip train/golden: not built yet"
    fi
    if $LM synth --help >/dev/null 2>&1; then
        vg "synth (10 steps)" $LM synth $SYNTH_SMALL --out "$T/synth"
        vg "synth zipf objective" $LM synth --objective zipf --noise none --m 6 --n 4 --steps 5 \
            --extra-samples 20 --zipf-n 50 --out "$T/synth2"
        vg "predict" $LM predict --constants "$T/synth/constants.json" --eps 0.1 --out "$T/p.json"
        vg "predict on a bad file (fails)" $LM predict --constants "$T/o1.safetensors" --eps 0.1
    else
        echo "  skip synth/predict: not built yet"
    fi
}

# The smallest model and objective flags.
TRAIN_SMALL="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 \
--eval-batches 1 --eval-every 1 --ckpt-every 1 --no-plot --quiet"
GOLDEN_SMALL="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32"
SYNTH_SMALL="--objective separable --noise student-t --m 6 --n 4 --steps 10 --extra-samples 50"

run_valgrind() {
    command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed"; return 1; }
    T=$(mktemp -d)
    trap 'rm -rf "$T"' EXIT
    # One BLAS/OpenMP thread: memcheck serialises threads anyway, and
    # OpenBLAS's thread pool only adds noise.
    export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
    valgrind_cases "$1"
    echo "valgrind: $VG_RUNS runs, $VG_FAIL failed"
    [ "$VG_FAIL" -eq 0 ]
}

# ---- fuzz ---------------------------------------------------------------------
# Each target runs for SECONDS on a scratch copy of its seed corpus (the
# committed corpus stays as it is).  A crash leaves its input under
# build/fuzz/artifacts/TARGET/; copy it to tests/fuzz/regress/TARGET/ to keep
# it as a regression test.
run_fuzz() {
    dir=$1 secs=$2
    shift 2
    status=0
    total=0
    for t in "$@"; do
        work=$dir/corpus/$t
        art=$dir/artifacts/$t
        mkdir -p "$work" "$art"
        seeds=tests/fuzz/corpus/$t
        regress=tests/fuzz/regress/$t
        [ -d "$regress" ] || regress=
        dict=tests/fuzz/$t.dict
        [ -f "$dict" ] && dict=-dict=$dict || dict=
        log=$dir/$t.log
        # -rss_limit_mb: a header may announce a huge tensor; the reader must
        # refuse it before allocating, so 2 GB is plenty.
        if "$dir/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
                -rss_limit_mb=2048 -max_len=8192 -timeout=10 \
                -artifact_prefix="$art/" $dict "$work" "$seeds" $regress >"$log" 2>&1; then
            res=ok
        else
            res=FAILED
            status=1
        fi
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "fuzz $t: ${execs:-0} executions in ${secs}s, $cov, $res"
        total=$((total + ${execs:-0}))
        if [ $res = FAILED ]; then
            grep -E "ERROR|SUMMARY|property failed|Test unit written" "$log" | head -20
            echo "  (full log: $log)"
        fi
    done
    echo "fuzz: $total executions in all, $( [ $status -eq 0 ] && echo 'no findings' || echo 'FINDINGS above')"
    return $status
}

case $mode in
sanitize) run_sanitize "$@" ;;
valgrind) run_valgrind "$@" ;;
fuzz) run_fuzz "$@" ;;
*) echo "usage: sh tests/hardening.sh sanitize DIR | valgrind LM | fuzz DIR SECONDS TARGET..." >&2
   exit 2 ;;
esac
