# cli_help.sh - the front end's own surface (src/cli/main.c): --version and
# -V, `help SUBCOMMAND`, the environment and exit-status sections of the
# top-level help (and that the exit statuses it documents are the ones the
# subcommands return), and the man page and bash completion generated from
# the help (build/lionmuon.1, build/lionmuon.bash).
. tests/cli_lib.sh
expect_ok "lionmuon --version" $LM --version
v1=$($LM version | head -1)
if [ "$($LM --version | head -1)" = "$v1" ] && [ "$($LM -V | head -1)" = "$v1" ] &&
   echo "$v1" | grep -q '^lionmuon [0-9][0-9.]*$'; then
    ok "--version and -V print what version prints ($v1)"
else
    bad "--version/-V differ from version: '$($LM --version | head -1)' vs '$v1'"
fi
expect_fail "version takes no arguments" "unexpected argument" $LM version extra
if [ "$($LM help msign)" = "$($LM msign --help)" ]; then ok "help msign prints msign --help"; else bad "help msign differs from msign --help"; fi
if [ "$($LM help)" = "$($LM --help)" ]; then ok "help alone prints the top-level help"; else bad "help alone differs from --help"; fi
expect_fail "help of an unknown subcommand" "unknown subcommand 'frob'" $LM help frob
$LM help frob >/dev/null 2>&1
[ $? -eq 2 ] && ok "help of an unknown subcommand exits 2" || bad "help frob did not exit 2"

$LM --help >"$CLI_TMP/help"
subs=$(sed -n '/^subcommands:/,/^$/p' "$CLI_TMP/help" | sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p')
n=0 fails=
for s in $subs; do
    n=$((n + 1))
    $LM help "$s" >"$CLI_TMP/sub" 2>&1 && grep -q "^usage: lionmuon $s" "$CLI_TMP/sub" || fails="$fails $s"
done
if [ -z "$fails" ] && [ "$n" -ge 14 ]; then ok "help SUB prints a usage line for all $n subcommands"; else bad "help SUB fails for:$fails ($n listed)"; fi
miss=
for w in environment: OMP_NUM_THREADS OPENBLAS_NUM_THREADS OMP_WAIT_POLICY passive LIONMUON_LIB "exit status:"; do
    grep -q "$w" "$CLI_TMP/help" || miss="$miss $w"
done
if [ -z "$miss" ]; then ok "top-level help: environment (OMP_*, OPENBLAS_NUM_THREADS, LIONMUON_LIB) and exit status"
else bad "top-level help lacks:$miss"; fi

# the exit statuses the help documents
status() { "$@" >/dev/null 2>&1; echo $?; }
got="$(status $LM msign --bogus) $(status $LM step --bogus) $(status $LM compare --bogus) $(status $LM train --bogus) $(status $LM frob)"
[ "$got" = "2 2 2 2 2" ] && ok "usage errors exit 2 (msign, step, compare, train, unknown subcommand)" || bad "usage errors exit $got"
got="$(status $LM synth --bogus) $(status $LM predict --bogus) $(status $LM synth-check --bogus)"
[ "$got" = "2 2 2" ] && ok "synth, predict, synth-check exit 2 on bad flags, as documented" || bad "synth/predict/synth-check exit $got"
got="$(status $LM msign --method svd "$CLI_TMP/none" "$CLI_TMP/o") $(status $LM step "$CLI_TMP/none" "$CLI_TMP/o") $(status $LM compare "$CLI_TMP/none" "$CLI_TMP/none")"
[ "$got" = "2 2 2" ] && ok "an unreadable input exits 2 (msign, step, compare), as documented" || bad "unreadable input exits $got"

# the generated man page and completion cover every subcommand
if [ -f build/lionmuon.1 ] && [ -f build/lionmuon.bash ]; then
    miss=
    for s in $subs; do
        grep -q "^\.SS $s\$" build/lionmuon.1 || miss="$miss man:$s"
        grep -q "^    $s)\$" build/lionmuon.bash || miss="$miss bash:$s"
    done
    grep -q '^\.SH ENVIRONMENT' build/lionmuon.1 && grep -q '^\.SH EXIT STATUS' build/lionmuon.1 || miss="$miss man:sections"
    if [ -z "$miss" ]; then ok "man page and completion cover all $n subcommands"; else bad "generated files lack:$miss"; fi
    sh scripts/gen_man.sh $LM >"$CLI_TMP/man" && cmp -s "$CLI_TMP/man" build/lionmuon.1 &&
        ok "build/lionmuon.1 is what gen_man.sh makes of this tool" || bad "build/lionmuon.1 is stale (run make)"
else
    bad "build/lionmuon.1 or build/lionmuon.bash missing (run make)"
fi
cli_done help
