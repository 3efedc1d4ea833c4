# cli_blaskernel.sh - the OpenBLAS kernel selection (src/core/blaskernel.h,
# src/cli/startup.c): a generic kernel is replaced by the best one the CPU's
# flags support, verified by a DGEMM self-check, and reported; an explicit
# OPENBLAS_CORETYPE is kept; a failed self-check falls back.  The generic
# kernel is forced with OPENBLAS_CORETYPE=Prescott plus
# LIONMUON_BLAS_SELECT=force (treat that setting as OpenBLAS's own choice),
# since OpenBLAS recognises the CPUs this suite usually runs on.
. tests/cli_lib.sh
kernel() { grep '^BLAS kernel:' "$CLI_TMP/out"; }
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { case " $flags " in *" $1 "*) return 0;; esac; return 1; }

# one thread: no idle OpenMP threads, so no re-execution for the wait policy
if env -u OMP_WAIT_POLICY OMP_NUM_THREADS=1 $LM version | grep -q "OMP_WAIT_POLICY: (unset)"; then
    ok "one thread: no re-execution for OMP_WAIT_POLICY"; else bad "one thread: re-executed for OMP_WAIT_POLICY"; fi
expect_ok "version names the kernel" $LM version
case "$(kernel)" in "BLAS kernel: "?*) ok "version: $(kernel)";; *) bad "no 'BLAS kernel:' line";; esac

if ! $LM version | grep -q DYNAMIC_ARCH || ! has avx; then
    ok "skipped: not a DYNAMIC_ARCH OpenBLAS or no AVX on this CPU"
    cli_done blaskernel
    exit $?
fi
if has avx512f && has avx512bw && has avx512dq && has avx512vl && has avx512cd; then want=SkylakeX
elif has avx2 && has fma; then
    if grep -q -m1 AuthenticAMD /proc/cpuinfo; then want=Zen; else want=Haswell; fi
else want=Sandybridge; fi

# forced generic: the tool recovers the fast kernel, in one run
expect_ok "forced generic kernel: version runs" env OPENBLAS_CORETYPE=Prescott LIONMUON_BLAS_SELECT=force $LM version
case "$(kernel)" in
    "BLAS kernel: $want (selected by lionmuon in place of OpenBLAS's Prescott)"*) ok "forced generic: $want selected";;
    *) bad "forced generic: want $want selected, got '$(kernel)'";;
esac
if grep -q "^BLAS: .* $want " "$CLI_TMP/out"; then ok "OpenBLAS itself reports $want"; else bad "OpenBLAS config lacks $want: $(grep '^BLAS:' "$CLI_TMP/out")"; fi
if [ ! -s "$CLI_TMP/err" ]; then ok "selection is silent"; else bad "selection printed: $(head -c 200 "$CLI_TMP/err")"; fi
BT="bench train --n-layer 1 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 2 --vocab-size 64 --steps 1 --json"
expect_ok "forced generic: bench train --json" env OPENBLAS_CORETYPE=Prescott LIONMUON_BLAS_SELECT=force $LM $BT
if grep -q "\"blas_core\": \"$want\"" "$CLI_TMP/out" && grep -q '"blas_core_selected_by_tool": true' "$CLI_TMP/out"; then
    ok "bench train JSON: blas_core $want, selected by the tool"
else bad "bench train JSON: $(grep -o '"blas_core[^,]*' "$CLI_TMP/out" | tr '\n' ' ')"; fi
expect_ok "forced generic: bench dgemm" env OPENBLAS_CORETYPE=Prescott LIONMUON_BLAS_SELECT=force $LM bench dgemm
if grep -q "\"blas_core\": \"$want\", \"blas_core_selected_by_tool\": true, \"blas_core_default\": \"Prescott\"" "$CLI_TMP/out"; then
    ok "bench dgemm: $want in place of Prescott"; else bad "bench dgemm: $(cat "$CLI_TMP/out")"; fi
expect_ok "default run: bench train --json" $LM $BT
if grep -q '"blas_core": "[A-Za-z]' "$CLI_TMP/out" && grep -q '"blas_core_selected_by_tool": \(true\|false\)' "$CLI_TMP/out"; then
    ok "bench train JSON reports the kernel"; else bad "bench train JSON lacks blas_core"; fi

# an explicit setting is kept; the switch turns selection off
expect_ok "explicit OPENBLAS_CORETYPE" env OPENBLAS_CORETYPE=Prescott $LM version
case "$(kernel)" in "BLAS kernel: Prescott (set by the user"*) ok "user setting kept";; *) bad "user setting: $(kernel)";; esac
expect_ok "LIONMUON_BLAS_SELECT=0" env OPENBLAS_CORETYPE=Prescott LIONMUON_BLAS_SELECT=0 $LM version
case "$(kernel)" in "BLAS kernel: Prescott ("*) ok "selection off";; *) bad "selection off: $(kernel)";; esac

# a failed self-check falls back to OpenBLAS's choice, and says so
expect_ok "failed self-check still runs" env OPENBLAS_CORETYPE=Prescott LIONMUON_BLAS_SELECT=force-fail $LM version
case "$(kernel)" in "BLAS kernel: Prescott "*"self-check failed"*) ok "fall-back reported";; *) bad "fall-back: $(kernel)";; esac
if grep -q "self-check" "$CLI_TMP/err"; then ok "fall-back announced on stderr"; else bad "no message on stderr"; fi

# a selected kernel the CPU cannot run (an illegal instruction) fails the
# check instead of crashing: only on a CPU without AVX-512
if ! has avx512f; then
    dflt=$($LM version | sed -n 's/^BLAS kernel: \([A-Za-z0-9_]*\).*/\1/p')
    expect_ok "SkylakeX on a CPU without AVX-512 is caught" env OPENBLAS_CORETYPE=SkylakeX LIONMUON_BLAS_SELECTED="SkylakeX:$dflt" $LM version
    case "$(kernel)" in "BLAS kernel: $dflt "*"self-check failed"*) ok "illegal instruction -> fall-back to $dflt";; *) bad "SIGILL: $(kernel)";; esac
fi

# sweep runs inherit the selection without selecting again
printf '{"out": "%s/run", "argv": ["version"]}\n' "$CLI_TMP" > "$CLI_TMP/m.jsonl"
expect_ok "sweep under a forced generic kernel" env OPENBLAS_CORETYPE=Prescott LIONMUON_BLAS_SELECT=force $LM sweep "$CLI_TMP/m.jsonl"
if grep -q "^BLAS kernel: $want (selected by lionmuon in place of OpenBLAS's Prescott)" "$CLI_TMP/run/log.txt" 2>/dev/null; then
    ok "sweep child runs the selected kernel"; else bad "sweep child: $(grep kernel "$CLI_TMP/run/log.txt" 2>/dev/null)"; fi
cli_done blaskernel
