# cli_compare.sh - `lionmuon compare A B`: exit status 0 (all pass), 1 (a
# tensor fails, is missing from B or has another shape there) or 2 (bad usage,
# unreadable file, a precision A cannot hold, a baseline or step kind missing),
# with the tensor, file or flag at fault named on stderr; the verdicts (NaN,
# infinities, exact integers, relative Frobenius error by precision) and the
# update mode (--baseline), whose thresholds must fail a step that changed
# nothing and one without weight decay in every precision, and pass correct
# low-precision steps.
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
expect_ok "--tol 0.3 loosens it to pass (||(0.5, 0)|| / ||(1, 2)|| = 0.224)" \
    $LM compare "$T/a_pert.st" "$T/a.st" --tol 0.3
expect_status "--tol 0.2 is not enough" 1 "'w'.*relative Frobenius error 2.236e-01" \
    $LM compare "$T/a_pert.st" "$T/a.st" --tol 0.2
expect_status "--rtol 0.5 adds the elementwise rule (met), not a looser threshold" 1 \
    "'w'.*relative Frobenius" $LM compare "$T/a_pert.st" "$T/a.st" --rtol 0.5
expect_ok "--tol=0.3 --atol=0.5 pass both rules" $LM compare "$T/a_pert.st" "$T/a.st" --tol=0.3 --atol=0.5
expect_status "--atol 0.4 fails the elementwise rule" 1 "'w'.*1 elements outside tolerance" \
    $LM compare "$T/a_pert.st" "$T/a.st" --tol 0.3 --atol 0.4
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
expect_status "an unknown flag is named" 2 "\-\-rtol2" \
    $LM compare "$T/a.st" "$T/a.st" --rtol2 1
expect_status "one file is a usage error" 2 "usage" $LM compare "$T/a.st"
expect_ok "--help exits 0" $LM compare --help
expect_out "  and states the Frobenius rule" "rel_fro_err <= tol"
expect_out "  and that NaN always fails" "NaN in either file always fails"
expect_out "  and the exit codes" "Exit status: 0 every tensor passes; 1 some tensor fails"

# ---- the verdicts, the precision, --json --------------------------------------
python3 - "$T" <<'EOF' || { echo "cli compare: fixtures failed"; exit 1; }
import json, math, os, struct, sys
d = sys.argv[1]
sys.path.insert(0, "tests")
from st_raw import write_tensors  # noqa: E402
def st(name, tensors, meta=None):
    write_tensors(os.path.join(d, name), tensors, meta)
inf = float("inf")
st("inf.st", {"w": ("F64", [2], [1.0, inf])})
st("ninf.st", {"w": ("F64", [2], [1.0, -inf])})
st("big.st", {"w": ("F64", [2], [1.0, 1e308])})
st("i63.st", {"k": ("I64", [1], [2**63 - 2])})
st("f63.st", {"k": ("F64", [1], [2.0**63])})
st("i5.st", {"k": ("I64", [1], [5])})
st("f5.st", {"k": ("F64", [1], [5.0])})
st("f5h.st", {"k": ("F64", [1], [5.5])})
# a 2 x 3 tensor whose worst element is (1, 2); a near-zero entry dominates max_rel
st("m_ref.st", {"m": ("F64", [2, 3], [1, 2, 3, 4, 1e-12, 6])})
st("m_a.st", {"m": ("F64", [2, 3], [1, 2, 3, 4, 2e-12, 6.5])})
st("m_a32.st", {"m": ("F32", [2, 3], [1, 2, 3, 4, 0, 6])})
st("m_near.st", {"m": ("F64", [2, 3], [v * (1 + 1e-9) for v in [1, 2, 3, 4, 1e-12, 6]])})
EOF
expect_ok "+inf passes against +inf" $LM compare "$T/inf.st" "$T/inf.st"
expect_status "-inf fails against +inf" 1 "'w'.*infinity" $LM compare "$T/ninf.st" "$T/inf.st"
expect_status "a finite value fails against +inf" 1 "'w'.*infinity" $LM compare "$T/big.st" "$T/inf.st" --tol 1
expect_status "+inf fails against a finite value" 1 "'w'.*infinity" $LM compare "$T/inf.st" "$T/big.st" --tol 1
expect_status "integer 2^63-2 fails against float 2^63 (exactly, not through double)" 1 "'k'.*integers" \
    $LM compare "$T/i63.st" "$T/f63.st" --tol 1
expect_status "float 2^63 fails against integer 2^63-2" 1 "'k'" $LM compare "$T/f63.st" "$T/i63.st" --tol 1
expect_ok "integer 5 passes against float 5.0" $LM compare "$T/i5.st" "$T/f5.st"
expect_status "integer 5 fails against float 5.5 whatever --tol" 1 "'k'" $LM compare "$T/i5.st" "$T/f5h.st" --tol 1
expect_status "a perturbed matrix fails" 1 "'m'.*worst element (1, 2)" $LM compare "$T/m_a.st" "$T/m_ref.st"
expect_out "  the row gives the worst element's (row, column)" "^m .*(1, 2) .*FAIL"
expect_out "  and the header the precision and its threshold" "precision f64 (from A's stored dtype)"
expect_ok "--tol 0.1 passes it: rel_fro 0.5/sqrt(66) = 0.062, though max_rel is 1 (a near-zero entry)" \
    $LM compare "$T/m_a.st" "$T/m_ref.st" --tol 0.1
expect_out "  max_rel_err is shown" "1.000e+00"
expect_ok "--json prints the table as JSON" $LM compare "$T/m_a.st" "$T/m_ref.st" --tol 0.1 --json
if python3 - "$CLI_TMP/out" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
t = o["tensors"][0]
assert o["precision"] == "f64" and o["passed"] == 1 and o["failed"] == 0, o
assert t["name"] == "m" and t["worst"]["index"] == [1, 2] and t["result"] == "PASS", t
assert abs(t["rel_fro_err"] - 0.5 / 66 ** 0.5) < 1e-12 and t["max_rel_err"] == 1.0, t
assert set(o["envelope"]) == {"value", "muon", "sign", "adamw", "state"}, o
EOF
then ok "  with the same numbers"; else bad "  JSON content"; fi
expect_ok "an F32 file defaults to precision f32" $LM compare "$T/m_a32.st" "$T/m_ref.st"
expect_out "  (header)" "precision f32 (from A's stored dtype)"
expect_status "--precision f64 on an F32 file: it cannot hold f64 (exit 2, file and tensor named)" 2 \
    "m_a32.st: tensor m is stored as F32, which cannot hold a f64 result" \
    $LM compare "$T/m_a32.st" "$T/m_ref.st" --precision f64
[ -s "$CLI_TMP/out" ] && bad "  and nothing on stdout" || ok "  and nothing on stdout"
expect_ok "--precision bf16 on the F32 file" $LM compare "$T/m_a32.st" "$T/m_ref.st" --precision bf16
expect_status "an unknown --precision is named" 2 "\-\-precision: unknown precision 'f8'" \
    $LM compare "$T/m_a.st" "$T/m_ref.st" --precision f8

# ---- update mode: --baseline ----------------------------------------------------
# A step input IN (weights ~ N(0, 0.02), the paper's rates): the f64 reference
# REF of `lionmuon step`, correct emulated f32/bf16 steps, and broken steps: a
# no-op (A = IN) and a step without weight decay.
python3 - "$T" <<'EOF' || { echo "cli compare: step fixtures failed"; exit 1; }
import json, os, random, struct, sys
d = sys.argv[1]
r = random.Random(5)
sys.path.insert(0, "tests")
from st_raw import write_tensors  # noqa: E402
def st(name, tensors, meta=None):
    write_tensors(os.path.join(d, name), tensors, meta)
m, n = 24, 40
for t in (0, 1):
    T = {"params.w": ([m, n], [r.gauss(0, 0.02) for _ in range(m * n)]),
         "grads.w": ([m, n], [r.gauss(0, 1) for _ in range(m * n)]),
         "state.w.momentum": ([m, n], [r.gauss(0, 0.5) for _ in range(m * n)]),
         "params.b": ([n], [r.gauss(0, 0.02) for _ in range(n)]),
         "grads.b": ([n], [r.gauss(0, 1) for _ in range(n)])}
    st("in%d.st" % t, T, {"step": str(t)})
EOF
for t in 0 1; do
    $LM step "$T/in$t.st" "$T/ref$t.st" >/dev/null && $LM step --weight-decay 0 "$T/in$t.st" "$T/nowd$t.st" >/dev/null &&
        $LM step --precision f32 "$T/in$t.st" "$T/f32_$t.st" >/dev/null &&
        $LM step --precision bf16 "$T/in$t.st" "$T/bf16_$t.st" >/dev/null || bad "step fixtures for t=$t"
done
kind() { [ "$1" = 0 ] && echo Muon || echo sign; }
for t in 0 1; do
    expect_ok "the f64 $(kind $t) step passes against itself" \
        $LM compare "$T/ref$t.st" "$T/ref$t.st" --baseline "$T/in$t.st"
    expect_ok "a correct f32 $(kind $t) step passes in f32" \
        $LM compare "$T/f32_$t.st" "$T/ref$t.st" --baseline "$T/in$t.st"
    expect_ok "a correct bf16 $(kind $t) step passes in bf16" \
        $LM compare "$T/bf16_$t.st" "$T/ref$t.st" --baseline "$T/in$t.st" --precision bf16
    for p in f64 f32 bf16 f16; do
        expect_status "a $(kind $t) step that changed nothing fails in $p" 1 \
            "'params.w'.*relative Frobenius error 1.000e+00" \
            $LM compare "$T/in$t.st" "$T/ref$t.st" --baseline "$T/in$t.st" --precision $p
    done
done
for p in f64 f32 bf16 f16; do
    expect_status "a sign step without weight decay fails in $p" 1 "'params.w'.*of the update" \
        $LM compare "$T/nowd1.st" "$T/ref1.st" --baseline "$T/in1.st" --precision $p
done
expect_status "a Muon step without weight decay fails in f32" 1 "'params.w'" \
    $LM compare "$T/nowd0.st" "$T/ref0.st" --baseline "$T/in0.st" --precision f32
expect_ok "the header gives the thresholds by step kind" \
    $LM compare "$T/ref1.st" "$T/ref1.st" --baseline "$T/in1.st" --precision bf16
expect_out "  (kinds)" "tol by step kind = 3 x the measured bf16 envelope: muon"
expect_out "  and the kind column" "^params.w .* sign "
# bad input: exit 2, file and tensor named, nothing on stdout
expect_status "--baseline lacking a tensor of A" 2 "m_ref.st: --baseline lacks tensor params.w" \
    $LM compare "$T/ref1.st" "$T/ref1.st" --baseline "$T/m_ref.st"
[ -s "$CLI_TMP/out" ] && bad "  and nothing on stdout" || ok "  and nothing on stdout"
expect_status "B without step kinds" 2 "in1.st: __metadata__ step_kinds records no kind for tensor params.w" \
    $LM compare "$T/ref1.st" "$T/in1.st" --baseline "$T/in1.st"
expect_ok "  unless --kind gives one" $LM compare "$T/in1.st" "$T/in1.st" --baseline "$T/in0.st" --kind sign --tol 2
expect_status "an update below A's resolution cannot be verified (exit 2)" 2 \
    "m_a32.st: tensor m: its update .* cannot be verified" \
    $LM compare "$T/m_a32.st" "$T/m_ref.st" --baseline "$T/m_near.st" --kind sign --precision bf16

cli_done compare
