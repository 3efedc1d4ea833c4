# cli_lib.sh - sourced by tests/cli_*.sh: a tiny harness for command-line tests.
# Each check prints one line; cli_done prints "cli <name>: N passed, N failed"
# and exits non-zero if anything failed.
LM=${LM:-./lionmuon}
CLI_PASS=0
CLI_FAIL=0
CLI_TMP=$(mktemp -d)
trap 'rm -rf "$CLI_TMP"' EXIT

ok()   { CLI_PASS=$((CLI_PASS + 1)); echo "  ok   $1"; }
bad()  { CLI_FAIL=$((CLI_FAIL + 1)); echo "  FAIL $1"; }

# expect_ok "description" command...: the command must exit 0
expect_ok() {
    d=$1; shift
    if "$@" >"$CLI_TMP/out" 2>"$CLI_TMP/err"; then ok "$d"; else bad "$d (exit $?: $(head -c 300 "$CLI_TMP/err"))"; fi
}
# expect_fail "description" "pattern" command...: the command must exit non-zero
# and its stderr must match the grep pattern (the flag, file or tensor named)
expect_fail() {
    d=$1; pat=$2; shift 2
    if "$@" >"$CLI_TMP/out" 2>"$CLI_TMP/err"; then
        bad "$d (exited 0)"
    elif grep -q -- "$pat" "$CLI_TMP/err"; then
        ok "$d"
    else
        bad "$d (stderr lacks '$pat': $(head -c 300 "$CLI_TMP/err"))"
    fi
}
# expect_status "description" STATUS "pattern" command...: the command must
# exit with STATUS and its stderr must match the grep pattern (an empty
# pattern: any stderr).
expect_status() {
    d=$1 want=$2 pat=$3
    shift 3
    "$@" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        bad "$d (exit $got, want $want: $(head -c 300 "$CLI_TMP/err") $(tail -3 "$CLI_TMP/out"))"
    elif [ -n "$pat" ] && ! grep -q -- "$pat" "$CLI_TMP/err"; then
        bad "$d (stderr lacks '$pat': $(head -c 300 "$CLI_TMP/err"))"
    else
        ok "$d"
    fi
}
cli_done() {
    echo "cli-$1: $CLI_PASS passed, $CLI_FAIL failed"
    [ "$CLI_FAIL" -eq 0 ]
}
