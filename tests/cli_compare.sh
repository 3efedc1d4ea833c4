# cli_compare.sh - `lionmuon compare A B`: exit status 0 (all pass), 1 (a
# tensor fails, is missing from B or has another shape there) or 2 (bad usage,
# unreadable file), with the tensor, file or flag at fault named on stderr.
# Run from the repository root: sh tests/cli_compare.sh
. tests/cli_lib.sh

# ---- fixtures, written byte by byte (no other tool needed) -----------------

# le64 N: N as 8 little-endian bytes.
le64() {
    n=$1 i=0
    while [ $i -lt 8 ]; do
        printf "\\$(printf %o $((n % 256)))"
        n=$((n / 256)) i=$((i + 1))
    done
}
# hexbytes HEX: the bytes spelled by a string of hex digit pairs.
hexbytes() {
    h=$1
    while [ -n "$h" ]; do
        b=${h%"${h#??}"} h=${h#??}
        printf "\\$(printf %o 0x$b)"
    done
}
# mkst FILE JSON HEX: a safetensors file with header JSON (ASCII) and buffer HEX.
mkst() {
    { le64 ${#2}; printf '%s' "$2"; hexbytes "$3"; } >"$1"
}

# Little-endian F64 and I64 values.
ONE=000000000000f03f        # 1.0
ONE_ULP=010000000000f03f    # 1.0 + 2^-52, one ulp above 1
ONE_HALF=000000000000f83f   # 1.5
TWO=0000000000000040        # 2.0
THREE=0000000000000840      # 3.0
NAN=000000000000f87f        # quiet NaN
I5=0500000000000000         # 5
I6=0600000000000000         # 6

W2='"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}'
B1='"b":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}'
T=$CLI_TMP
mkst "$T/a.st"       "{$W2,$B1}" "$ONE$TWO$THREE"
mkst "$T/a_copy.st"  "{$W2,$B1}" "$ONE$TWO$THREE"
mkst "$T/a_ulp.st"   "{$W2,$B1}" "$ONE_ULP$TWO$THREE"
mkst "$T/a_pert.st"  "{$W2,$B1}" "$ONE_HALF$TWO$THREE"
mkst "$T/a_nan.st"   "{$W2,$B1}" "$NAN$TWO$THREE"
mkst "$T/w_only.st"  "{$W2}" "$ONE$TWO"
mkst "$T/a_shape.st" "{\"w\":{\"dtype\":\"F64\",\"shape\":[2,1],\"data_offsets\":[0,16]},$B1}" \
     "$ONE$TWO$THREE"
mkst "$T/i5.st" '{"k":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}' "$I5"
mkst "$T/i6.st" '{"k":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}' "$I6"
# A header length (0x7f = 127) beyond the file.
{ le64 127; printf '{}'; } >"$T/short.st"

# expect_status "description" STATUS "pattern" command...: the command must
# exit with STATUS and its stderr must match the grep pattern.
expect_status() {
    d=$1 want=$2 pat=$3
    shift 3
    "$@" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        bad "$d (exit $got, want $want: $(head -c 300 "$CLI_TMP/err"))"
    elif ! grep -q -- "$pat" "$CLI_TMP/err"; then
        bad "$d (stderr lacks '$pat': $(head -c 300 "$CLI_TMP/err"))"
    else
        ok "$d"
    fi
}
# expect_out "description" "pattern": the last command's stdout matches.
expect_out() {
    if grep -q -- "$2" "$CLI_TMP/out"; then ok "$1"; else bad "$1 (stdout lacks '$2')"; fi
}

# ---- passing comparisons ---------------------------------------------------

expect_ok "identical files pass" $LM compare "$T/a.st" "$T/a_copy.st"
expect_out "  with one PASS row per tensor" "^w .*PASS"
expect_out "  and a summary line" "compare: 2 tensors, 2 passed, 0 failed"
expect_ok "a file passes against itself" $LM compare "$T/a.st" "$T/a.st"
expect_ok "one ulp at 1.0 passes the default tolerance" $LM compare "$T/a_ulp.st" "$T/a.st"
expect_ok "tensors only in B are a note, not a failure" $LM compare "$T/w_only.st" "$T/a.st"
expect_out "  and the note names the tensor" "note: tensor 'b'"

# ---- failing comparisons (exit 1, the tensor named) -------------------------

expect_status "a value off by 0.5 fails naming the tensor" 1 "'w'" \
    $LM compare "$T/a_pert.st" "$T/a.st"
expect_out "  with a FAIL row" "^w .*FAIL"
expect_out "  and the summary counts it" "compare: 2 tensors, 1 passed, 1 failed"
expect_ok "--rtol 0.5 loosens it to pass (|1.5-1| <= 0.5*1)" \
    $LM compare "$T/a_pert.st" "$T/a.st" --rtol 0.5
expect_ok "--atol=0.5 loosens it to pass" $LM compare "$T/a_pert.st" "$T/a.st" --atol=0.5
expect_status "--atol 0.4 is not enough" 1 "'w'" \
    $LM compare "$T/a_pert.st" "$T/a.st" --atol 0.4
expect_status "a tensor of A missing from B fails naming it" 1 "'b'.*missing" \
    $LM compare "$T/a.st" "$T/w_only.st"
expect_status "a shape mismatch fails naming the tensor" 1 "'w'.*shape" \
    $LM compare "$T/a_shape.st" "$T/a.st"
expect_status "NaN fails even against NaN" 1 "'w'" \
    $LM compare "$T/a_nan.st" "$T/a_nan.st"
expect_status "integers compare exactly, whatever the tolerance" 1 "'k'" \
    $LM compare "$T/i5.st" "$T/i6.st" --rtol 1 --atol 1
expect_ok "equal integers pass" $LM compare "$T/i5.st" "$T/i5.st"

# ---- usage errors and unreadable files (exit 2) -----------------------------

expect_status "a missing file A gives exit 2 naming it" 2 "$T/none.st" \
    $LM compare "$T/none.st" "$T/a.st"
expect_status "a missing file B gives exit 2 naming it" 2 "$T/none.st" \
    $LM compare "$T/a.st" "$T/none.st"
expect_status "a malformed file gives exit 2 naming it" 2 "$T/short.st.*header length" \
    $LM compare "$T/a.st" "$T/short.st"
expect_status "a malformed --rtol value names the flag" 2 "\-\-rtol" \
    $LM compare "$T/a.st" "$T/a.st" --rtol abc
expect_status "a negative --atol names the flag" 2 "\-\-atol" \
    $LM compare "$T/a.st" "$T/a.st" --atol -1
expect_status "an unknown flag is named" 2 "\-\-tol" \
    $LM compare "$T/a.st" "$T/a.st" --tol 1
expect_status "one file is a usage error" 2 "usage" $LM compare "$T/a.st"
expect_ok "--help exits 0" $LM compare --help
expect_out "  and states the allclose rule" "atol + rtol \* |b|"
expect_out "  and that NaN always fails" "NaN in either file always fails"

cli_done compare
