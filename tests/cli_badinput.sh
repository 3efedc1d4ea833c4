# cli_badinput.sh - the bad-input table (issue 7): every malformed-file rule,
# truncated files, wrong dtypes, shapes that disagree, non-finite values in
# parameters, gradients, optimizer state and checkpoints, bad token data,
# invalid hyperparameters (every optimizer flag) and unwritable outputs.
# Every row must give
#   - exit status 1 or 2 (a documented failure; not a signal, and not a
#     sanitizer report, which exits 86 under `make sanitize`),
#   - a message on stderr matching the row's pattern, which names the file,
#     the tensor or the flag at fault,
#   - no output and no temporary file (*.tmp.*) left behind, and, when the
#     output existed before, that file untouched.
# Prints the number of bad inputs tried.  Run from the repository root.
. tests/cli_lib.sh
D=$CLI_TMP/in
O=$CLI_TMP/outdir
mkdir -p "$D" "$O"

# ---- the malformed inputs, written byte by byte ------------------------------
python3 - "$D" <<'EOF' || { echo "cli badinput: fixture generation failed"; exit 1; }
import json, os, struct, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def raw(name, b):
    with open(os.path.join(d, name), "wb") as f: f.write(b)
def st(name, header=None, data=b"", rawh=None, hlen=None):
    h = rawh if rawh is not None else json.dumps(header, separators=(",", ":")).encode()
    raw(name, struct.pack("<Q", len(h) if hlen is None else hlen) + h + data)
def E(dt, shape, b, e): return {"dtype": dt, "shape": shape, "data_offsets": [b, e]}
def f64(*v): return b"".join(struct.pack("<d", x) for x in v)
W = f64(1, 2, 3, 4)
# ---- malformed-file rules
raw("empty.st", b"")
raw("short7.st", b"\x08\0\0\0\0\0\0")
st("hlen_beyond.st", {"w": E("F64", [1], 0, 8)}, f64(1), hlen=4096)
st("hlen_huge.st", {"w": E("F64", [1], 0, 8)}, f64(1), hlen=2**64 - 1)
st("not_json.st", rawh=b'{"w": {"dtype": "F64", ')
st("json_trailing.st", rawh=b'{} xx')
st("not_object.st", [1, 2, 3])
st("json_string.st", "abc")
st("bad_utf8.st", rawh=b'{"w\xff":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', data=f64(1))
st("nul_header.st", rawh=b'{"w":\x00{}}')
st("dup_names.st", rawh=b'{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}', data=f64(1, 2))
st("entry_not_object.st", {"w": [0, 8]}, f64(1))
st("no_dtype.st", {"w": {"shape": [1], "data_offsets": [0, 8]}}, f64(1))
st("dtype_number.st", {"w": E(64, [1], 0, 8)}, f64(1))
st("dtype_f8.st", {"w": E("F8_E4M3", [8], 0, 8)}, f64(1))
st("dtype_lower.st", {"w": E("f64", [1], 0, 8)}, f64(1))
st("dtype_u8.st", {"w": E("U8", [8], 0, 8)}, f64(1))
st("dtype_bool.st", {"w": E("BOOL", [8], 0, 8)}, f64(1))
st("no_shape.st", {"w": {"dtype": "F64", "data_offsets": [0, 8]}}, f64(1))
st("shape_not_array.st", {"w": E("F64", 1, 0, 8)}, f64(1))
st("shape_negative.st", {"w": E("F64", [-1], 0, 8)}, f64(1))
st("shape_float.st", {"w": E("F64", [1.0], 0, 8)}, f64(1))
st("shape_string.st", {"w": E("F64", ["1"], 0, 8)}, f64(1))
st("shape_rank9.st", {"w": E("F64", [1] * 9, 0, 8)}, f64(1))
st("shape_overflow.st", {"w": E("F64", [2**62, 2**62], 0, 8)}, f64(1))
st("shape_bytes_overflow.st", {"w": E("F64", [2**61], 0, 8)}, f64(1))
st("no_offsets.st", {"w": {"dtype": "F64", "shape": [1]}}, f64(1))
st("offsets_three.st", {"w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8, 16]}}, f64(1))
st("offsets_negative.st", {"w": E("F64", [1], -8, 0)}, f64(1))
st("offsets_reversed.st", {"w": E("F64", [1], 8, 0)}, f64(1))
st("offsets_float.st", {"w": E("F64", [1], 0, 8.0)}, f64(1))
st("span_mismatch.st", {"w": E("F64", [2], 0, 8)}, f64(1))
st("span_dtype_mismatch.st", {"w": E("F32", [1], 0, 8)}, f64(1))
st("offsets_beyond.st", {"w": E("F64", [2], 0, 16)}, f64(1))
st("offsets_huge.st", {"w": E("F64", [1], 2**62, 2**62 + 8)}, f64(1))
st("overlap.st", {"a": E("F64", [2], 0, 16), "b": E("F64", [1], 8, 16)}, f64(1, 2))
st("overlap_same.st", {"a": E("F64", [1], 0, 8), "b": E("F64", [1], 0, 8)}, f64(1))
st("zero_inside.st", {"a": E("F64", [1], 0, 8), "z": E("F64", [0], 4, 4)}, f64(1))
st("gap.st", {"a": E("F64", [1], 0, 8), "b": E("F64", [1], 16, 24)}, f64(1, 2, 3))
st("gap_start.st", {"a": E("F64", [1], 8, 16)}, f64(1, 2))
st("trailing.st", {"a": E("F64", [1], 0, 8)}, f64(1, 2))
st("bytes_no_tensors.st", {}, f64(1))
st("meta_not_object.st", {"__metadata__": "step=1", "w": E("F64", [1], 0, 8)}, f64(1))
st("meta_number.st", {"__metadata__": {"step": 1}, "w": E("F64", [1], 0, 8)}, f64(1))
st("meta_null.st", {"__metadata__": {"step": None}, "w": E("F64", [1], 0, 8)}, f64(1))
st("meta_nested.st", {"__metadata__": {"cfg": {"a": "b"}}, "w": E("F64", [1], 0, 8)}, f64(1))
st("empty_name.st", {"": E("F64", [1], 0, 8)}, f64(1))
# ---- step inputs: a valid one and one-defect variants
P = lambda: {"params.w": ("F64", [2, 2], [0.5, -0.25, 1.0, 2.0]), "grads.w": ("F64", [2, 2], [1.0, 3.0, -2.0, -25.0]),
             "params.b": ("F64", [3], [0.3, -0.7, 1.1]), "grads.b": ("F64", [3], [0.05, -0.2, 0.0])}
PACK = {"F64": "<d", "F32": "<f", "I64": "<q", "I32": "<i"}
def step(name, t, meta=None, rawvals=None):
    h, blobs, off = {}, [], 0
    if meta is not None: h["__metadata__"] = meta
    for k, (dt, shape, vals) in t.items():
        if rawvals and k in rawvals: b = rawvals[k]
        else: b = b"".join(struct.pack(PACK[dt], v) for v in vals)
        h[k] = E(dt, shape, off, off + len(b)); blobs.append(b); off += len(b)
    st(name, h, b"".join(blobs))
step("good.st", P())
nan, inf = float("nan"), float("inf")
def v(**ch):
    t = P()
    for k, val in ch.items():
        t[k.replace("__", ".").replace("_dot_", ".")] = val
    return t
# wrong dtypes
t = P(); t["params.w"] = ("I64", [2, 2], [1, 2, 3, 4]); step("params_i64.st", t)
t = P(); t["grads.b"] = ("I32", [3], [1, 2, 3]); step("grads_i32.st", t)
t = P(); t["state.w.momentum"] = ("I64", [2, 2], [0, 0, 0, 0]); step("state_i64.st", t)
# shapes that disagree
t = P(); t["grads.w"] = ("F64", [4], [1, 2, 3, 4]); step("grads_rank.st", t)
t = P(); t["grads.w"] = ("F64", [1, 4], [1, 2, 3, 4]); step("grads_shape.st", t)
t = P(); t["grads.b"] = ("F64", [2], [1, 2]); step("grads_len.st", t)
t = P(); t["state.w.momentum"] = ("F64", [2, 1], [0, 0]); step("momentum_shape.st", t)
t = P(); t["state.b.exp_avg"] = ("F64", [2], [0, 0]); step("exp_avg_shape.st", t)
t = P(); t["state.b.exp_avg"] = ("F64", [3], [0, 0, 0]); t["state.b.exp_avg_sq"] = ("F64", [3, 1], [0, 0, 0]); step("exp_avg_sq_shape.st", t)
# non-finite values
for nm, key, val in [("params_nan", "params.w", nan), ("params_inf", "params.b", inf), ("params_minf", "params.w", -inf),
                     ("grads_nan", "grads.b", nan), ("grads_inf", "grads.w", inf),
                     ("momentum_nan", "state.w.momentum", nan), ("exp_avg_inf", "state.b.exp_avg", inf),
                     ("exp_avg_sq_nan", "state.b.exp_avg_sq", nan)]:
    t = P()
    if key not in t:
        ref = t["params.w" if ".w." in key else "params.b"]
        t[key] = ("F64", ref[1], [0.0] * len(ref[2]))
        if key.endswith("exp_avg_sq"): t["state.b.exp_avg"] = ("F64", [3], [0.0] * 3)
        if key.endswith("exp_avg"): t["state.b.exp_avg_sq"] = ("F64", [3], [0.0] * 3)
    vals = list(t[key][2]); vals[-1] = val; t[key] = (t[key][0], t[key][1], vals)
    step(nm + ".st", t)
# non-finite values in the small float formats (decoded exactly to inf/NaN)
t = P(); t["params.w"] = ("F16", [2, 2], None); step("params_f16_inf.st", t, rawvals={"params.w": bytes.fromhex("003c003c007c003c")})
t = P(); t["grads.w"] = ("BF16", [2, 2], None); step("grads_bf16_nan.st", t, rawvals={"grads.w": bytes.fromhex("803fc07f803f803f")})
t = P(); t["grads.b"] = ("F32", [3], [1.0, inf, 2.0]); step("grads_f32_inf.st", t)
# negative second moment: sqrt(v) would be NaN
t = P(); t["state.b.exp_avg"] = ("F64", [3], [0.0] * 3); t["state.b.exp_avg_sq"] = ("F64", [3], [-1.0, 0, 0]); step("exp_avg_sq_negative.st", t)
# structure
t = P(); t["other"] = ("F64", [1], [0.0]); step("stray.st", t)
t = P(); del t["grads.b"]; step("no_grad.st", t)
t = P(); t["grads.c"] = ("F64", [1], [0.0]); step("orphan_grad.st", t)
t = P(); t["state.c.momentum"] = ("F64", [1], [0.0]); step("orphan_state.st", t)
t = P(); t["state.w.exp_avg"] = ("F64", [2, 2], [0.0] * 4); step("adam_state_on_matrix.st", t)
t = P(); t["state.b.momentum"] = ("F64", [3], [0.0] * 3); step("momentum_on_vector.st", t)
t = {"grads.w": ("F64", [1], [1.0])}; step("no_params.st", t)
step("no_tensors.st", {})
for nm, s in [("step_negative", "-1"), ("step_word", "abc"), ("step_empty", ""), ("step_float", "1.5"),
              ("step_huge", "99999999999999999999999"), ("step_space", " 1")]:
    step(nm + ".st", P(), meta={"step": s})
# truncations of good.st
good = open(os.path.join(d, "good.st"), "rb").read()
hl = struct.unpack("<Q", good[:8])[0]
cuts = {"0": 0, "1": 1, "7": 7, "8": 8, "9": 9, "midheader": 8 + hl // 2,
        "header_minus1": 8 + hl - 1, "header_end": 8 + hl, "header_plus1": 8 + hl + 1,
        "first_tensor": 8 + hl + 8, "end_minus8": len(good) - 8, "end_minus1": len(good) - 1}
for k, c in cuts.items():
    raw("cut_%s.st" % k, good[:c])
# llm.c token files (vocabulary 32, sequence length 8)
def llmc(name, toks, magic=20240520, version=1, count=None, cut=None):
    n = len(toks) if count is None else count
    b = struct.pack("<3i", magic, version, n) + b"\0" * 1012 + struct.pack("<%dH" % len(toks), *toks)
    raw(name, b if cut is None else b[:cut])
ok = [i % 30 for i in range(200)]
llmc("tok_ok.bin", ok)
llmc("tok_magic.bin", ok, magic=20240521)
llmc("tok_version.bin", ok, version=2)
llmc("tok_count_long.bin", ok, count=201)
llmc("tok_count_short.bin", ok, count=199)
llmc("tok_count_negative.bin", ok, count=-5)
llmc("tok_truncated.bin", ok, cut=1024 + 2 * 200 - 1)
llmc("tok_header_only.bin", ok, cut=1000)
llmc("tok_big_id.bin", ok[:100] + [40] + ok[101:])
llmc("tok_max_id.bin", ok[:100] + [65535] + ok[101:])
llmc("tok_few.bin", [1, 2, 3, 4, 5])
raw("tok_empty.bin", b"")
EOF

# ---- the check -----------------------------------------------------------------
NBAD=0
KEEP="previous output, must survive"

# leftovers DIR: the names in DIR (shell globbing only: this runs ~400 times).
leftovers() {
    for f in "$1"/* "$1"/.[!.]*; do [ -e "$f" ] && printf '%s ' "${f##*/}"; done
}

# try_bad "description" "pattern" "command" [ALLOWED_EXITS]: run the command
# (eval'd, so $D, $O, $OUT and $LM expand) and check the four rules.  A
# command that writes $OUT is run twice: with no OUT, then over an existing
# OUT that must come through unchanged.
try_bad() {
    desc=$1 pat=$2 cmd=$3 allowed=${4:-12}
    NBAD=$((NBAD + 1))
    passes=1
    # the second pass repeats the logic, not new memory accesses: skipped
    # under `make sanitize`, where each run costs ten times more
    case $cmd in *'$OUT'*) [ "${LM_SANITIZED:-0}" = 1 ] || passes=2 ;; esac
    p=1
    while [ $p -le $passes ]; do
        [ -n "$(leftovers "$O")" ] && rm -rf "$O" && mkdir -p "$O"
        OUT=$O/out.safetensors
        what=$desc
        if [ $p -eq 2 ]; then
            printf '%s' "$KEEP" >"$OUT"
            what="$desc [over an existing output]"
        fi
        eval "$cmd" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
        rc=$?
        left=$(leftovers "$O")
        case $allowed in *$rc*) rcok=1 ;; *) rcok=0 ;; esac
        if [ $rcok -eq 0 ] || [ $rc -eq 0 ]; then
            bad "$what (exit $rc, want one of $allowed: $(head -c 300 "$CLI_TMP/err"))"
        elif ! grep -q -E -- "$pat" "$CLI_TMP/err"; then
            bad "$what (stderr lacks /$pat/: $(head -c 300 "$CLI_TMP/err"))"
        elif [ $p -eq 1 ] && [ -n "$left" ]; then
            bad "$what (left behind: $left)"
        elif [ $p -eq 2 ] && { [ "$left" != "out.safetensors " ] || [ "$(cat "$OUT")" != "$KEEP" ]; }; then
            bad "$what (the existing output changed; the directory holds: $left)"
        elif [ -n "$(leftovers "$D" | grep '\.tmp\.')" ]; then
            bad "$what (temporary file in the input directory)"
        else
            ok "$what"
        fi
        p=$((p + 1))
    done
}

# run_table: each line "description | pattern | command [| allowed exits]".
run_table() {
    while IFS='|' read -r desc pat cmd allowed; do
        desc=$(echo "$desc" | sed 's/^ *//; s/ *$//')
        case $desc in ''|'#'*) continue ;; esac
        pat=$(echo "$pat" | sed 's/^ *//; s/ *$//')
        allowed=$(echo "$allowed" | tr -d ' ')
        try_bad "$desc" "$pat" "$cmd" "${allowed:-12}"
    done
}

# ---- malformed files: every rule of the reader, through msign, step, compare --
run_table <<'ROWS'
empty file                        | empty.st: 0 bytes, too short             | $LM msign $D/empty.st $OUT
7-byte file                       | short7.st: 7 bytes                        | $LM step $D/short7.st $OUT
header length beyond the file     | hlen_beyond.st: header length 4096 exceeds | $LM msign $D/hlen_beyond.st $OUT
header length 2^64-1              | hlen_huge.st: header length 18446744073709551615 | $LM step $D/hlen_huge.st $OUT
header not JSON                   | not_json.st: header is not valid JSON      | $LM msign $D/not_json.st $OUT
JSON with trailing garbage        | json_trailing.st: header is not valid JSON | $LM msign $D/json_trailing.st $OUT
header an array                   | not_object.st: header is not a JSON object  | $LM msign $D/not_object.st $OUT
header a string                   | json_string.st: header is not valid JSON    | $LM step $D/json_string.st $OUT
header not UTF-8                  | bad_utf8.st: header is not valid JSON       | $LM msign $D/bad_utf8.st $OUT
NUL byte in the header            | nul_header.st: header is not valid JSON     | $LM msign $D/nul_header.st $OUT
duplicate tensor names            | dup_names.st: .*duplicate object key .*"w" | $LM msign $D/dup_names.st $OUT
entry not an object               | entry_not_object.st: tensor 'w': entry is not a JSON object | $LM msign $D/entry_not_object.st $OUT
missing dtype                     | no_dtype.st: tensor 'w': missing "dtype"    | $LM msign $D/no_dtype.st $OUT
dtype a number                    | dtype_number.st: tensor 'w': "dtype" is not a string | $LM msign $D/dtype_number.st $OUT
unknown dtype F8_E4M3             | dtype_f8.st: tensor 'w': unsupported dtype "F8_E4M3" | $LM msign $D/dtype_f8.st $OUT
unknown dtype f64 (case)          | dtype_lower.st: tensor 'w': unsupported dtype "f64" | $LM msign $D/dtype_lower.st $OUT
unknown dtype U8                  | dtype_u8.st: tensor 'w': unsupported dtype "U8" | $LM step $D/dtype_u8.st $OUT
unknown dtype BOOL                | dtype_bool.st: tensor 'w': unsupported dtype "BOOL" | $LM msign $D/dtype_bool.st $OUT
missing shape                     | no_shape.st: tensor 'w': missing "shape"    | $LM msign $D/no_shape.st $OUT
shape not an array                | shape_not_array.st: tensor 'w': "shape" is not an array | $LM msign $D/shape_not_array.st $OUT
negative dimension                | shape_negative.st: tensor 'w': shape entry 0 | $LM msign $D/shape_negative.st $OUT
fractional dimension              | shape_float.st: tensor 'w': shape entry 0   | $LM msign $D/shape_float.st $OUT
string dimension                  | shape_string.st: tensor 'w': shape entry 0  | $LM msign $D/shape_string.st $OUT
rank 9                            | shape_rank9.st: tensor 'w': rank 9 exceeds  | $LM msign $D/shape_rank9.st $OUT
element count overflows           | shape_overflow.st: tensor 'w': .*overflows  | $LM msign $D/shape_overflow.st $OUT
byte size overflows               | shape_bytes_overflow.st: tensor 'w': .*overflows | $LM step $D/shape_bytes_overflow.st $OUT
missing data_offsets              | no_offsets.st: tensor 'w': missing "data_offsets" | $LM msign $D/no_offsets.st $OUT
three data_offsets                | offsets_three.st: tensor 'w': "data_offsets" is not two | $LM msign $D/offsets_three.st $OUT
negative data_offsets             | offsets_negative.st: tensor 'w': "data_offsets" is not two | $LM msign $D/offsets_negative.st $OUT
fractional data_offsets           | offsets_float.st: tensor 'w': "data_offsets" is not two | $LM msign $D/offsets_float.st $OUT
begin after end                   | offsets_reversed.st: tensor 'w': data_offsets \[8, 0\] begin after end | $LM msign $D/offsets_reversed.st $OUT
shape/byte-span mismatch          | span_mismatch.st: tensor 'w': 8 bytes for shape \[2\] of F64 | $LM msign $D/span_mismatch.st $OUT
dtype/byte-span mismatch          | span_dtype_mismatch.st: tensor 'w': 8 bytes for shape \[1\] of F32 | $LM step $D/span_dtype_mismatch.st $OUT
offsets beyond the buffer         | offsets_beyond.st: tensor 'w': data_offsets \[0, 16\] beyond | $LM msign $D/offsets_beyond.st $OUT
offsets near 2^62                 | offsets_huge.st: tensor 'w': data_offsets .* beyond | $LM msign $D/offsets_huge.st $OUT
overlapping tensors               | overlap.st: tensor 'b' .* overlaps tensor 'a' | $LM msign $D/overlap.st $OUT
two tensors on the same bytes     | overlap_same.st: tensor 'b' .* overlaps tensor 'a' | $LM step $D/overlap_same.st $OUT
empty tensor inside another       | zero_inside.st: tensor 'z' .* overlaps tensor 'a' | $LM msign $D/zero_inside.st $OUT
gap between tensors               | gap.st: bytes \[8, 16\) before tensor 'b' belong to no tensor | $LM msign $D/gap.st $OUT
gap at the start                  | gap_start.st: bytes \[0, 8\) before tensor 'a' | $LM msign $D/gap_start.st $OUT
trailing bytes                    | trailing.st: trailing bytes \[8, 16\) after tensor 'a' | $LM msign $D/trailing.st $OUT
buffer but no tensors             | bytes_no_tensors.st: 8 buffer bytes but no tensors | $LM msign $D/bytes_no_tensors.st $OUT
metadata not an object            | meta_not_object.st: "__metadata__" is not a JSON object | $LM msign $D/meta_not_object.st $OUT
metadata value a number           | meta_number.st: "__metadata__" value of key 'step' is not a string | $LM step $D/meta_number.st $OUT
metadata value null               | meta_null.st: "__metadata__" value of key 'step' | $LM msign $D/meta_null.st $OUT
metadata value an object          | meta_nested.st: "__metadata__" value of key 'cfg' | $LM msign $D/meta_nested.st $OUT
empty tensor name                 | empty_name.st: a tensor has an empty name   | $LM msign $D/empty_name.st $OUT
missing input file                | nope.st: cannot open                        | $LM msign $D/nope.st $OUT
input is a directory              | in: not a regular file \(a directory\)     | $LM step $D $OUT
compare: malformed A (exit 2)     | overlap.st: tensor 'b'                      | $LM compare $D/overlap.st $D/good.st | 2
compare: malformed B (exit 2)     | meta_number.st: "__metadata__"              | $LM compare $D/good.st $D/meta_number.st | 2
compare: truncated B (exit 2)     | cut_end_minus1.st: tensor 'grads.b'         | $LM compare $D/good.st $D/cut_end_minus1.st | 2
ROWS

# ---- truncated files: a valid step input cut at twelve points ------------------
for c in 0 1 7 8 9 midheader header_minus1 header_end header_plus1 first_tensor end_minus8 end_minus1; do
    case $c in
    0|1|7) pat="cut_$c.st: $c bytes, too short" ;;
    8|9|midheader|header_minus1) pat="cut_$c.st: header length [0-9]+ exceeds" ;;
    *) pat="cut_$c.st: tensor '[a-z.]+': data_offsets .* beyond" ;;
    esac
    try_bad "step on a file cut at $c" "$pat" "\$LM step \$D/cut_$c.st \$OUT"
    try_bad "msign on a file cut at $c" "$pat" "\$LM msign \$D/cut_$c.st \$OUT"
done

# ---- wrong dtypes, disagreeing shapes, non-finite values, bad structure --------
run_table <<'ROWS'
integer parameters                | params_i64.st: .*params.w.*must be floating point | $LM step $D/params_i64.st $OUT
integer gradients                 | grads_i32.st: .*grads.b must be floating point   | $LM step $D/grads_i32.st $OUT
integer momentum                  | state_i64.st: tensor state.w.momentum must be floating point | $LM step $D/state_i64.st $OUT
gradient of another rank          | grads_rank.st: tensor grads.w has a different shape from params.w | $LM step $D/grads_rank.st $OUT
gradient of another shape         | grads_shape.st: tensor grads.w has a different shape | $LM step $D/grads_shape.st $OUT
gradient of another length        | grads_len.st: tensor grads.b has a different shape | $LM step $D/grads_len.st $OUT
momentum of another shape         | momentum_shape.st: tensor state.w.momentum has a different shape | $LM step $D/momentum_shape.st $OUT
exp_avg of another shape          | exp_avg_shape.st: tensor state.b.exp_avg has a different shape | $LM step $D/exp_avg_shape.st $OUT
exp_avg_sq of another shape       | exp_avg_sq_shape.st: tensor state.b.exp_avg_sq has a different shape | $LM step $D/exp_avg_sq_shape.st $OUT
NaN in a parameter                | params_nan.st: tensor params.w has a non-finite value at element 3 | $LM step $D/params_nan.st $OUT
+inf in a parameter               | params_inf.st: tensor params.b has a non-finite value | $LM step $D/params_inf.st $OUT
-inf in a parameter               | params_minf.st: tensor params.w has a non-finite value | $LM step $D/params_minf.st $OUT
NaN in a gradient                 | grads_nan.st: tensor grads.b has a non-finite value | $LM step $D/grads_nan.st $OUT
+inf in a gradient                | grads_inf.st: tensor grads.w has a non-finite value | $LM step $D/grads_inf.st $OUT
NaN in the momentum               | momentum_nan.st: tensor state.w.momentum has a non-finite value | $LM step $D/momentum_nan.st $OUT
inf in exp_avg                    | exp_avg_inf.st: tensor state.b.exp_avg has a non-finite value | $LM step $D/exp_avg_inf.st $OUT
NaN in exp_avg_sq                 | exp_avg_sq_nan.st: tensor state.b.exp_avg_sq has a non-finite value | $LM step $D/exp_avg_sq_nan.st $OUT
F16 inf in a parameter            | params_f16_inf.st: tensor params.w has a non-finite value at element 2 | $LM step $D/params_f16_inf.st $OUT
BF16 NaN in a gradient            | grads_bf16_nan.st: tensor grads.w has a non-finite value at element 1 | $LM step $D/grads_bf16_nan.st $OUT
F32 inf in a gradient             | grads_f32_inf.st: tensor grads.b has a non-finite value at element 1 | $LM step $D/grads_f32_inf.st $OUT
negative exp_avg_sq               | state.b.exp_avg_sq has a negative second moment | $LM step $D/exp_avg_sq_negative.st $OUT
msign of a NaN matrix             | params_nan.st: tensor params.w: msign: non-finite input | $LM msign $D/params_nan.st $OUT
msign of an F16 inf               | params_f16_inf.st: tensor params.w: msign: non-finite | $LM msign --method ns5 $D/params_f16_inf.st $OUT
msign of a BF16 NaN               | grads_bf16_nan.st: tensor grads.w: msign: non-finite | $LM msign --method cubic $D/grads_bf16_nan.st $OUT
stray tensor                      | stray.st: tensor other is neither           | $LM step $D/stray.st $OUT
parameter without gradient        | no_grad.st: tensor params.b has no gradient grads.b | $LM step $D/no_grad.st $OUT
gradient without parameter        | orphan_grad.st: tensor grads.c has no matching params | $LM step $D/orphan_grad.st $OUT
state without parameter           | orphan_state.st: tensor state.c.momentum has no matching | $LM step $D/orphan_state.st $OUT
AdamW state on a matrix           | adam_state_on_matrix.st: tensor state.w.exp_avg does not fit params.w | $LM step $D/adam_state_on_matrix.st $OUT
momentum on a vector              | momentum_on_vector.st: tensor state.b.momentum does not fit params.b | $LM step $D/momentum_on_vector.st $OUT
only gradients                    | no_params.st: tensor grads.w has no matching | $LM step $D/no_params.st $OUT
no tensors at all                 | no_tensors.st: no params                    | $LM step $D/no_tensors.st $OUT
step counter -1                   | step_negative.st: __metadata__ step: '-1'   | $LM step $D/step_negative.st $OUT
step counter a word               | step_word.st: __metadata__ step: 'abc'      | $LM step $D/step_word.st $OUT
step counter empty                | step_empty.st: __metadata__ step: ''        | $LM step $D/step_empty.st $OUT
step counter 1.5                  | step_float.st: __metadata__ step: '1.5'     | $LM step $D/step_float.st $OUT
step counter beyond long          | step_huge.st: __metadata__ step             | $LM step $D/step_huge.st $OUT
step counter with a space         | step_space.st: __metadata__ step: ' 1'  | $LM step $D/step_space.st $OUT
ROWS

# ---- invalid hyperparameters: every optimizer flag, and the others' flags -----
run_table <<'ROWS'
--optimizer unknown               | --optimizer: unknown optimizer 'sgd'       | $LM step --optimizer sgd $D/good.st $OUT
--optimizer empty                 | --optimizer: unknown optimizer ''          | $LM step --optimizer= $D/good.st $OUT
--lr-muon negative                | --lr-muon must be finite and >= 0          | $LM step --lr-muon -1 $D/good.st $OUT
--lr-muon nan                     | --lr-muon: 'nan' is not a finite number    | $LM step --lr-muon nan $D/good.st $OUT
--lr-muon inf                     | --lr-muon: 'inf' is not a finite number    | $LM step --lr-muon inf $D/good.st $OUT
--lr-muon overflow                | --lr-muon: '1e999' overflows               | $LM step --lr-muon 1e999 $D/good.st $OUT
--lr-muon not a number            | --lr-muon: '1e-3x' is not a finite number  | $LM step --lr-muon 1e-3x $D/good.st $OUT
--lr-muon hexadecimal             | --lr-muon: '0x10' is not a finite number   | $LM step --lr-muon 0x10 $D/good.st $OUT
--lr-muon empty                   | --lr-muon: '' is not a finite number       | $LM step --lr-muon= $D/good.st $OUT
--lr-sign negative                | --lr-sign must be finite and >= 0          | $LM step --lr-sign -1e-3 $D/good.st $OUT
--lr-adamw negative               | --lr-adamw must be finite and >= 0         | $LM step --lr-adamw -1 $D/good.st $OUT
--beta1 = 1                       | --beta1 must be in \[0, 1\)                | $LM step --beta1 1 $D/good.st $OUT
--beta1 negative                  | --beta1 must be in \[0, 1\)                | $LM step --beta1 -0.1 $D/good.st $OUT
--beta1 nan                       | --beta1: 'nan' is not a finite number      | $LM step --beta1 nan $D/good.st $OUT
--beta2 = 1                       | --beta2 must be in \[0, 1\)                | $LM step --beta2 1 $D/good.st $OUT
--beta2 > 1                       | --beta2 must be in \[0, 1\)                | $LM step --beta2 1.5 $D/good.st $OUT
--beta2 != beta1 for signmuon     | --beta2: signmuon uses beta2 = beta1       | $LM step --optimizer signmuon --beta1 0.9 --beta2 0.5 $D/good.st $OUT
--beta2 != beta1 for muon         | --beta2: muon uses beta2 = beta1           | $LM step --optimizer muon --beta2 0.5 $D/good.st $OUT
--period negative                 | --period must be >= 0                      | $LM step --period -1 $D/good.st $OUT
--period fractional               | --period: '1.5' is not an integer          | $LM step --period 1.5 $D/good.st $OUT
--period beyond long              | --period: '99999999999999999999' is not an integer | $LM step --period 99999999999999999999 $D/good.st $OUT
--period with lion                | --period: lion never takes a Muon step     | $LM step --optimizer lion --period 3 $D/good.st $OUT
--period with signum              | --period: signum never takes a Muon step   | $LM step --optimizer signum --period 2 $D/good.st $OUT
--period != 1 with muon           | --period: muon takes a Muon step every step | $LM step --optimizer muon --period 2 $D/good.st $OUT
--period != 1 with muon-nesterov  | --period: muon-nesterov takes a Muon step  | $LM step --optimizer muon-nesterov --period 0 $D/good.st $OUT
--ns-steps 0                      | --ns-steps must be >= 1                    | $LM step --ns-steps 0 $D/good.st $OUT
--ns-steps negative               | --ns-steps must be >= 1                    | $LM step --ns-steps -3 $D/good.st $OUT
--ns-steps beyond int             | --ns-steps: '3000000000' is out of range   | $LM step --ns-steps 3000000000 $D/good.st $OUT
--msign unknown                   | --msign: unknown method 'newton'           | $LM step --msign newton $D/good.st $OUT
--srank-alpha negative            | --srank-alpha must be finite and >= 0      | $LM step --srank-alpha -1 $D/good.st $OUT
--srank-alpha inf                 | --srank-alpha: 'inf' is not a finite number | $LM step --srank-alpha inf $D/good.st $OUT
--weight-decay negative           | --weight-decay must be finite and >= 0     | $LM step --weight-decay -0.1 $D/good.st $OUT
--weight-decay times lr >= 1      | --weight-decay times the largest learning rate | $LM step --weight-decay 1e9 $D/good.st $OUT
--adamw-beta1 = 1                 | --adamw-beta1 must be in \[0, 1\)          | $LM step --adamw-beta1 1 $D/good.st $OUT
--adamw-beta2 negative            | --adamw-beta2 must be in \[0, 1\)          | $LM step --adamw-beta2 -0.5 $D/good.st $OUT
--adamw-eps 0                     | --adamw-eps must be finite and > 0         | $LM step --adamw-eps 0 $D/good.st $OUT
--adamw-eps negative              | --adamw-eps must be finite and > 0         | $LM step --adamw-eps -1e-8 $D/good.st $OUT
--adamw-eps-mode unknown          | --adamw-eps-mode: unknown mode 'numpy'     | $LM step --adamw-eps-mode numpy $D/good.st $OUT
flag given twice                  | --beta1 given twice                        | $LM step --beta1 0.9 --beta1 0.8 $D/good.st $OUT
flag missing its value            | --adamw-eps: missing value                 | $LM step $D/good.st $OUT --adamw-eps
unknown flag                      | unknown flag '--lr'                        | $LM step --lr 1e-3 $D/good.st $OUT
boolean flag given a value        | unknown flag '--help'                      | $LM step --help=1 $D/good.st $OUT
three positional arguments        | unexpected argument                        | $LM step $D/good.st $OUT $D/good.st
one positional argument           | expected IN and OUT                        | $LM step $D/good.st
msign --method unknown            | --method: unknown method 'newton'          | $LM msign --method newton $D/good.st $OUT
msign --steps 0                   | --steps must be >= 1                       | $LM msign --method ns5 --steps 0 $D/good.st $OUT
msign --steps negative            | --steps must be >= 1                       | $LM msign --steps -5 $D/good.st $OUT
msign --steps not a number        | --steps: 'five' is not an integer          | $LM msign --steps five $D/good.st $OUT
msign --tol 0                     | --tol must be > 0                          | $LM msign --method cubic --tol 0 $D/good.st $OUT
msign --rank-rtol negative        | --rank-rtol >= 0                           | $LM msign --rank-rtol -1 $D/good.st $OUT
compare --rtol negative           | --rtol                                     | $LM compare $D/good.st $D/good.st --rtol -1 | 2
compare --atol nan                | --atol                                     | $LM compare $D/good.st $D/good.st --atol nan | 2
compare with one file             | usage                                      | $LM compare $D/good.st | 2
demo unknown flag                 | unknown flag '--fast'                      | $LM demo --fast | 2
unknown subcommand                | unknown subcommand 'frobnicate'            | $LM frobnicate | 2
ROWS

# ---- unwritable outputs ---------------------------------------------------------
printf 'a regular file, not a directory' >"$D/afile"
mkdir -p "$D/adir"
mkfifo "$D/fifo" 2>/dev/null || true
ln -sf /dev/full "$D/full_link"
long=$(printf '%0300d' 0)
run_table <<'ROWS'
msign to /dev/full                | /dev/full: not a regular file              | $LM msign $D/good.st /dev/full
step to /dev/full                 | /dev/full: not a regular file              | $LM step $D/good.st /dev/full
step to a link to /dev/full       | full_link: not a regular file              | $LM step $D/good.st $D/full_link
msign under a regular file        | afile/out.safetensors: cannot create temporary file | $LM msign $D/good.st $D/afile/out.safetensors
step under a regular file         | afile/out.safetensors: cannot create temporary file | $LM step $D/good.st $D/afile/out.safetensors
step into a missing directory     | nodir/out.safetensors: cannot create temporary file | $LM step $D/good.st $O/nodir/out.safetensors
step onto a directory             | adir: not a regular file                   | $LM step $D/good.st $D/adir
step onto a FIFO                  | fifo: not a regular file                   | $LM step $D/good.st $D/fifo
step to a name too long           | File name too long                         | $LM step $D/good.st $O/$long
step to an empty path             | empty output path                          | $LM step $D/good.st ''
ROWS
# the things written to must be as they were
[ -c /dev/full ] && ok "/dev/full is still the device" || bad "/dev/full was replaced"
[ "$(cat "$D/afile")" = "a regular file, not a directory" ] && ok "the regular file is untouched" || bad "the regular file changed"
[ -d "$D/adir" ] && [ -z "$(ls -A "$D/adir")" ] && ok "the directory is untouched" || bad "the directory changed"
ls -A . | grep -q '\.tmp\.' && bad "temporary file left in the working directory" || ok "no temporary file in the working directory"
# A read-only directory stops writes only for a non-root user (root ignores
# the mode), so this row runs only then.
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$D/ro" && chmod 0555 "$D/ro"
    try_bad "step into a read-only directory" "ro/out.safetensors: cannot create temporary file" \
        "\$LM step \$D/good.st \$D/ro/out.safetensors"
    chmod 0755 "$D/ro"
else
    echo "  skip read-only directory (running as root; the path-under-a-file rows cover it)"
fi

# ---- training: token data, checkpoints, outputs (once `train` exists) ------------
if $LM train --help >/dev/null 2>&1; then
    S="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --iterations 2 --eval-batches 1 --no-plot --quiet"
    # a run's output is a directory: $O/run must not appear
    run_table <<'ROWS'
token file: bad magic             | tok_magic.bin: not an llm.c token file     | $LM train $S --data llmc --train-data $D/tok_magic.bin --out $O/run
token file: bad version           | tok_version.bin: llm.c token file version 2 | $LM train $S --data llmc --train-data $D/tok_version.bin --out $O/run
token file: count beyond the file | tok_count_long.bin: header says 201 tokens  | $LM train $S --data llmc --train-data $D/tok_count_long.bin --out $O/run
token file: count short of it     | tok_count_short.bin: header says 199 tokens | $LM train $S --data llmc --train-data $D/tok_count_short.bin --out $O/run
token file: negative count        | tok_count_negative.bin: header says -5 tokens | $LM train $S --data llmc --train-data $D/tok_count_negative.bin --out $O/run
token file: truncated             | tok_truncated.bin: .*truncated             | $LM train $S --data llmc --train-data $D/tok_truncated.bin --out $O/run
token file: header only half      | tok_header_only.bin: truncated llm.c token file | $LM train $S --data llmc --train-data $D/tok_header_only.bin --out $O/run
token file: empty                 | tok_empty.bin: truncated llm.c token file   | $LM train $S --data llmc --train-data $D/tok_empty.bin --out $O/run
token file: id beyond vocabulary  | tok_big_id.bin: token id 40 does not fit --vocab-size 32 | $LM train $S --data llmc --train-data $D/tok_big_id.bin --out $O/run
token file: id 65535              | tok_max_id.bin: token id 65535 does not fit | $LM train $S --data llmc --train-data $D/tok_max_id.bin --out $O/run
token file: shorter than a row    | tok_few.bin: 5 tokens, fewer than --seq-len \+ 1 | $LM train $S --data llmc --train-data $D/tok_few.bin --out $O/run
token file: bad validation file   | tok_magic.bin: not an llm.c token file     | $LM train $S --data llmc --train-data $D/tok_ok.bin --val-data $D/tok_magic.bin --out $O/run
token file: missing               | nope.bin: cannot open                      | $LM train $S --data llmc --train-data $D/nope.bin --out $O/run
token file: without --data        | --train-data/--val-data need --data        | $LM train $S --train-data $D/tok_ok.bin --out $O/run
--data unknown                    | --data: unknown source 'wiki'              | $LM train $S --data wiki --out $O/run
--model unknown                   | --model: unknown model 'bert'              | $LM train $S --model bert --out $O/run
--routing unknown                 | --routing: unknown routing 'all'           | $LM train $S --routing all --out $O/run
--seq-len 0                       | --seq-len must be >= 1                     | $LM train --seq-len 0 --iterations 2 --out $O/run
--seed negative                   | --seed must be >= 0                        | $LM train $S --seed -1 --out $O/run
train --beta1 1                   | --beta1 must be in \[0, 1\)                | $LM train $S --beta1 1 --out $O/run
train --lr-muon nan               | --lr-muon: 'nan' is not a finite number    | $LM train $S --lr-muon nan --out $O/run
train --period with lion          | --period: lion never takes a Muon step     | $LM train $S --optimizer lion --period 2 --out $O/run
train --out under a regular file  | afile                                      | $LM train $S --out $D/afile/run
golden to /dev/full               | /dev/full: not a regular file              | $LM golden /dev/full --steps 1 --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32
golden under a regular file       | afile/g.safetensors: cannot create temporary file | $LM golden $D/afile/g.safetensors --steps 1 --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32
golden --beta2 -1                 | --beta2 must be in \[0, 1\)                | $LM golden $OUT --steps 1 --beta2 -1
ROWS
    # checkpoints that must be refused on --resume, leaving the run as it was
    R=$CLI_TMP/ckpt
    if $LM train $S --out "$R/base" >/dev/null 2>&1; then
        python3 - "$R" <<'EOF'
import json, os, shutil, struct, sys
r = sys.argv[1]
src = os.path.join(r, "base", "checkpoint.safetensors")
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + n])
names = sorted(k for k in hdr if k != "__metadata__")
param = next(k for k in names if not k.startswith("state."))
state = next(k for k in names if k.startswith("state."))
def variant(name, mutate):
    d = os.path.join(r, name)
    shutil.copytree(os.path.join(r, "base"), d)
    b = bytearray(raw)
    mutate(b)
    open(os.path.join(d, "checkpoint.safetensors"), "wb").write(bytes(b))
def poke(tensor, value):
    def f(b):
        off = 8 + n + hdr[tensor]["data_offsets"][0]
        b[off:off + 8] = struct.pack("<d", value)
    return f
variant("nan_param", poke(param, float("nan")))
variant("inf_state", poke(state, float("inf")))
variant("truncated", lambda b: b.__delitem__(slice(len(b) - 3, len(b))))
open(os.path.join(r, "names"), "w").write(param + "\n" + state + "\n")
EOF
        PNAME=$(sed -n 1p "$R/names") SNAME=$(sed -n 2p "$R/names")
        for v in nan_param inf_state truncated; do
            case $v in
            nan_param) pat="checkpoint.safetensors: tensor $PNAME has a non-finite value" ;;
            inf_state) pat="checkpoint.safetensors: tensor $SNAME has a non-finite value" ;;
            truncated) pat="checkpoint.safetensors: tensor .* beyond" ;;
            esac
            before=$(cd "$R/$v" && cksum * | sort)
            NBAD=$((NBAD + 1))
            if $LM train --resume "$R/$v" --quiet --no-plot >"$CLI_TMP/out" 2>"$CLI_TMP/err"; then
                bad "resume from a checkpoint with $v (exited 0)"
            elif ! grep -q -E -- "$pat" "$CLI_TMP/err"; then
                bad "resume from a checkpoint with $v (stderr lacks /$pat/: $(head -c 300 "$CLI_TMP/err"))"
            elif [ "$(cd "$R/$v" && cksum * | sort)" != "$before" ]; then
                bad "resume from a checkpoint with $v (the run directory changed)"
            else
                ok "resume from a checkpoint with $v is refused, the run untouched"
            fi
        done
    else
        bad "a short training run for the checkpoint rows failed"
    fi
else
    echo "  skip training rows: lionmuon train is not built"
fi

# ---- synthetic objectives (once `synth` exists) -------------------------------------
if $LM synth --help >/dev/null 2>&1; then
    Y="--objective separable --noise gaussian --m 6 --n 4 --steps 5 --extra-samples 50"
    run_table <<'ROWS'
synth --objective unknown         | --objective                                | $LM synth --objective cubic --noise none --m 6 --n 4 --steps 5 --out $O/s
synth --beta1 1                   | --beta1 must be in \[0, 1\)                | $LM synth $Y --beta1 1 --out $O/s
synth --lr-muon negative          | --lr-muon must be finite and >= 0          | $LM synth $Y --lr-muon -1 --out $O/s
synth --out under a regular file  | afile                                      | $LM synth $Y --out $D/afile/s
predict on a missing file         | nope.json                                  | $LM predict --constants $D/nope.json --eps 0.1
predict on a safetensors file     | good.st                                    | $LM predict --constants $D/good.st --eps 0.1
predict --eps 0                   | --eps                                      | $LM predict --constants $D/good.st --eps 0
ROWS
else
    echo "  skip synth rows: lionmuon synth is not built"
fi

# ==== issue 14: the second round -- one block per fault kind ===================
# Each kind is tried in every subcommand it reaches.  Fixtures under $K, so
# the leftover checks of $O and $D above keep their meaning.
K=$CLI_TMP/k14
mkdir -p "$K"
python3 - "$K" <<'EOF' || { echo "cli badinput: issue-14 fixtures failed"; exit 1; }
import json, math, os, struct, sys
k = sys.argv[1]
sys.path.insert(0, "tests")
from st_raw import write_tensors  # noqa: E402
def st(name, tensors, meta=None):
    write_tensors(os.path.join(k, name), tensors, meta)
W = [0.5, -0.25, 1.0, 2.0]
R = [1.7, -1.6, 1.0, 1.5]
# kind 1: dimensions beyond int, the largest step counter
st("dim_3e9.st", {"w": ([0, 3000000000], [])})
st("step_dim_3e9.st", {"params.w": ([0, 3000000000], []), "grads.w": ([0, 3000000000], [])})
st("step_max.st", {"params.w": ([2, 2], W), "grads.w": ([2, 2], W)}, meta={"step": str(2**63 - 1)})
# kind 5: a 500-byte parameter name with its stored momentum
n5 = "p" * 500
st("long_name.st", {"params." + n5: ([2, 2], W), "grads." + n5: ([2, 2], W),
                    "state." + n5 + ".momentum": ([2, 2], [0.125] * 4)})
# kind 7: entries near the top of double, subnormal ones, an overflowing g^2
st("huge.st", {"w": ([2, 2], [math.ldexp(x, 1023) for x in R])})
st("ref.st", {"w": ([2, 2], R)})
st("subnormal.st", {"w": ([2, 2], [math.ldexp(x, -1060) for x in R])})
st("big_grad.st", {"params.b": ([3], [1, 2, 3]), "grads.b": ([3], [1e200, 1, 1])})
# kind 8: 100k tensors
h, data = {}, bytearray()
for i in range(100000):
    h["t%06d" % i] = {"dtype": "F64", "shape": [1, 1], "data_offsets": [8 * i, 8 * i + 8]}
    data += struct.pack("<d", 1.0 + i)
hb = json.dumps(h).encode()
open(os.path.join(k, "many.st"), "wb").write(struct.pack("<Q", len(hb)) + hb + bytes(data))
# kind 9: names with a newline and terminal escapes
st("long_nan.st", {"q" * 3000: ([1, 2], [float("nan"), 1])})
st("escape_nan.st", {"a\nfake row\x1b[31m": ([2, 2], [float("nan"), 1, 2, 3])})
st("escape_ok.st", {"ok\x1b]0;title\x07\nFAKE": ([2, 2], W)})
# kind 2: a directory name and a data file that try to be gnuplot code
q = os.path.join(k, "q'; system(\"touch %s/PWNED1\"); x='" % k)
os.makedirs(q, exist_ok=True)
open(os.path.join(k, "qdir"), "w").write(q)
for v in (1, 2):
    open(os.path.join(q, "v%d.dat" % v), "w").write(
        "# lambda: 0.5'; system(\"touch %s/PWNED2\"); x='\n0 1 2 3 4 5 6\n1 2 3 4 5 6 7\n" % k)
# kind 3: manifests
def man(name, lines):
    open(os.path.join(k, name), "w").write("".join(json.dumps(l) + "\n" for l in lines))
man("m_sweep.jsonl", [{"out": k + "/s1", "argv": ["sweep", k + "/m_sweep.jsonl"]}])
man("m_paper.jsonl", [{"out": k + "/s2", "argv": ["paper", "manifest", "--manifest", "x"]}])
man("m_ptimed.jsonl", [{"out": k + "/s3", "argv": ["paper", "timed", k + "/s3.json", "sweep", k + "/m_sweep.jsonl"]}])
man("m_slash.jsonl", [{"out": k + "/al/a", "argv": ["version"]}, {"out": k + "/al/a/", "argv": ["version"]}])
man("m_dots.jsonl", [{"out": k + "/al/b", "argv": ["version"]}, {"out": k + "/al/./x/../b", "argv": ["demo"]}])
man("m_link.jsonl", [{"out": k + "/al/c", "argv": ["version"]}, {"out": k + "/al/link", "argv": ["version"]}])
man("m_ok.jsonl", [{"out": k + "/ok", "argv": ["version"]}])
man("m_symlog.jsonl", [{"out": k + "/sl", "argv": ["version"]}])
open(os.path.join(k, "m_empty.jsonl"), "w").write("# nothing\n\n")
open(os.path.join(k, "text.txt"), "w").write("the quick brown fox jumps over the lazy dog. " * 40)
EOF
QD=$(cat "$K/qdir")
mkdir -p "$K/al/c" "$K/sl"
ln -s c "$K/al/link"
printf 'keep me' > "$K/victim"
ln -s ../victim "$K/sl/log.txt"
S2="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --eval-batches 1 --no-plot --quiet"
G2="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32"
Y2="--objective separable --noise gaussian --m 6 --n 4 --steps 5 --extra-samples 50"
$LM synth $Y2 --out "$K/syn" >/dev/null 2>&1 || bad "a synth run for the predict rows failed"

# ---- kind 1: size arithmetic that wraps --------------------------------------------
run_table <<'ROWS'
k1 golden: steps x batch wraps    | --steps 144115188075855872 with .* needs about | $LM golden $OUT --steps 144115188075855872 --iterations 144115188075855872 $G2
k1 train llama --multiple-of 2^31-1 | model too large for the reference | $LM train $S2 --model llama --multiple-of 2147483647 --iterations 2 --out $O/run
k1 golden llama --multiple-of 2^31-1 | model too large for the reference | $LM golden $OUT --model llama --multiple-of 2147483647 --steps 1 $G2
k1 train: tokens per batch beyond int | 65536 x --seq-len 65536 = 4294967296 tokens per batch | $LM train --n-layer 1 --n-embd 16 --n-head 2 --vocab-size 32 --seq-len 65536 --batch-size 65536 --iterations 2 --out $O/run
k1 msign: dimension 3e9           | dim_3e9.st: tensor 'w': dimension 1 is 3000000000, more than | $LM msign $K/dim_3e9.st $OUT
k1 step: dimension 3e9            | step_dim_3e9.st: tensor 'params.w': dimension 1 is 3000000000 | $LM step $K/step_dim_3e9.st $OUT
k1 step: counter 2^63-1           | step_max.st: __metadata__ step: '9223372036854775807' is the largest counter | $LM step $K/step_max.st $OUT
k1 synth: --zipf-n x --m beyond memory | --zipf-n 2000000000 with --m 4096 --n 4096 needs about | $LM synth --objective zipf --noise none --m 4096 --n 4096 --zipf-n 2000000000 --steps 1 --out $O/s
ROWS

# ---- kind 2: no shell, no gnuplot code from a path or a file ---------------------------
if grep -rnE '(^|[^_a-z])(system|popen)[[:space:]]*\(' src experiments --include='*.c' >"$CLI_TMP/shell"; then
    bad "k2: a shell is called: $(head -3 "$CLI_TMP/shell")"
else
    ok "k2: no system() or popen() in src/ or experiments/"
fi
if command -v gnuplot >/dev/null 2>&1; then
    NBAD=$((NBAD + 2))
    sh experiments/synth/plots.sh "$QD" "$QD/plots" >/dev/null 2>&1
    [ ! -e "$K/PWNED1" ] && [ ! -e "$K/PWNED2" ] && ok "k2: synth plots.sh with a quote in the path and in a data file runs no command" \
        || bad "k2: plots.sh ran injected gnuplot code"
    $LM train $G2 --eval-batches 1 --quiet --iterations 2 --out "$QD/run" >/dev/null 2>"$CLI_TMP/err"
    if [ ! -e "$K/PWNED1" ] && [ -s "$QD/run/loss.png" ]; then
        ok "k2: train --out with a quote plots its loss without running the quote"
    else
        bad "k2: train --out with a quote: $(ls "$K" | grep PWNED) $(head -c 300 "$CLI_TMP/err")"
    fi
else
    echo "  skip k2 gnuplot rows: gnuplot not installed"
fi

# ---- kind 3: a manifest can run anything ----------------------------------------------------
cp "$K/m_ok.jsonl" "$K/m_ok.keep"
run_table <<'ROWS'
k3 sweep: a line runs sweep       | m_sweep.jsonl:1: "argv"\[0\] 'sweep' is not a subcommand a manifest may run | $LM sweep $K/m_sweep.jsonl
k3 sweep: a line runs paper       | m_paper.jsonl:1: "argv"\[0\] 'paper' is not a subcommand | $LM sweep $K/m_paper.jsonl
k3 sweep: paper timed runs a sweep | m_ptimed.jsonl:1: "argv"\[0\] 'paper' is not a subcommand | $LM sweep $K/m_ptimed.jsonl
k3 sweep: "a" and "a/"            | m_slash.jsonl: lines 1 and 2 share the output directory | $LM sweep $K/m_slash.jsonl
k3 sweep: "b" and "./x/../b"      | m_dots.jsonl: lines 1 and 2 share the output directory | $LM sweep $K/m_dots.jsonl
k3 sweep: a directory and a link to it | m_link.jsonl: lines 1 and 2 share the output directory | $LM sweep $K/m_link.jsonl
k3 sweep: --summary is the manifest | is the manifest itself; refusing to overwrite it | $LM sweep --summary $K/m_ok.jsonl $K/m_ok.jsonl | 2
k3 sweep: --summary, another spelling | is the manifest itself | $LM sweep --summary $K/./m_ok.jsonl $K/m_ok.jsonl | 2
k3 sweep: --timeout negative      | --timeout must be in \[0, 1e9\] | $LM sweep --timeout -1 $K/m_ok.jsonl | 2
k3 sweep: --timeout nan           | --timeout: 'nan' is not a finite number | $LM sweep --timeout nan $K/m_ok.jsonl | 2
k3 sweep: no runs                 | m_empty.jsonl: no runs | $LM sweep $K/m_empty.jsonl | 2
ROWS
cmp -s "$K/m_ok.jsonl" "$K/m_ok.keep" && ok "k3: the manifest survives --summary pointing at it" || bad "k3: --summary overwrote the manifest"
[ ! -e "$K/s1" ] && [ ! -e "$K/s2" ] && ok "k3: a refused manifest starts nothing" || bad "k3: a refused manifest made directories"

# ---- kind 4: files opened the unsafe way ------------------------------------------------------
mkfifo "$K/fifo" 2>/dev/null || true
run_table <<'ROWS'
k4 msign /dev/zero                | /dev/zero: not a regular file \(a device\) | $LM msign /dev/zero $OUT
k4 step /dev/zero                 | /dev/zero: not a regular file | $LM step /dev/zero $OUT
k4 msign on a FIFO (no hang)      | fifo: not a regular file \(a FIFO\) | $LM msign $K/fifo $OUT
k4 compare /dev/zero              | /dev/zero: not a regular file | $LM compare /dev/zero $D/good.st | 2
k4 sweep /dev/zero                | /dev/zero: not a regular file | $LM sweep /dev/zero | 2
k4 sweep a directory              | k14: not a regular file \(a directory\) | $LM sweep $K | 2
k4 sweep a FIFO                   | fifo: not a regular file \(a FIFO\) | $LM sweep $K/fifo | 2
k4 train --train-data a directory | k14: not a regular file \(a directory\) | $LM train $S2 --iterations 2 --data text --train-data $K --out $O/run
k4 train --train-data /dev/zero   | /dev/zero: not a regular file | $LM train $S2 --iterations 2 --data llmc --train-data /dev/zero --out $O/run
k4 train --val-data a FIFO        | fifo: not a regular file | $LM train --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 256 --iterations 2 --data text --train-data $K/text.txt --val-data $K/fifo --out $O/run
k4 predict --constants /dev/zero  | /dev/zero: not a regular file | $LM predict --constants /dev/zero --eps 0.1
k4 predict --constants a directory | k14: not a regular file | $LM predict --constants $K --eps 0.1
k4 predict > /dev/full            | standard output: write failed | $LM predict --constants $K/syn/constants.json --eps 0.1 >/dev/full
k4 msign table > /dev/full        | standard output: write failed | $LM msign $D/good.st $OUT >/dev/full
k4 sweep tally > /dev/full        | standard output: write failed | $LM sweep --summary $K/ok.summary.json $K/m_ok.jsonl >/dev/full
k4 train --out ''                 | --out: empty directory name | $LM train $S2 --iterations 2 --out ''
k4 synth --out ''                 | --out: empty directory name | $LM synth $Y2 --out ''
k4 synth-check --out ''           | --out: empty directory name | $LM synth-check --check V1 --quick --out ''
k4 golden ''                      | empty output path | $LM golden '' --steps 1 $G2
k4 msign to ''                    | empty output path | $LM msign $D/good.st ''
ROWS
NBAD=$((NBAD + 1))
$LM sweep --summary "$K/sl.summary.json" "$K/m_symlog.jsonl" >/dev/null 2>"$CLI_TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "sl/log.txt: a symbolic link; refusing to write through it" "$CLI_TMP/err" &&
    [ "$(cat "$K/victim")" = "keep me" ] && ok "k4: a sweep's log.txt that is a link is refused, its target untouched" ||
    bad "k4: log.txt link (exit $rc, victim: $(cat "$K/victim"), $(head -c 300 "$CLI_TMP/err"))"
NBAD=$((NBAD + 1))
ln -sf ../victim "$K/mlink"
$LM paper manifest --stage tune --quick --dir "$K/pd" --manifest "$K/mlink" >/dev/null 2>&1
[ "$(cat "$K/victim")" = "keep me" ] && [ -f "$K/mlink" ] && [ ! -L "$K/mlink" ] && ok "k4: paper manifest replaces a link, never writes through it" ||
    bad "k4: paper manifest wrote through a link"
NBAD=$((NBAD + 1))
n250=$(printf '%0250d' 0)
if $LM step "$D/good.st" "$O/$n250" >/dev/null 2>"$CLI_TMP/err" && [ -s "$O/$n250" ] && [ -z "$(leftovers "$O" | grep '\.tmp\.')" ]; then
    ok "k4: a legal 250-byte output name is written"
else
    bad "k4: 250-byte output name: $(head -c 300 "$CLI_TMP/err")"
fi
rm -f "$O/$n250"
mkdir -p "$K/fakebin"
printf '#!/bin/sh\n: > loss.png.tmp\nexit 0\n' > "$K/fakebin/gnuplot"
chmod +x "$K/fakebin/gnuplot"
NBAD=$((NBAD + 1))
PATH="$K/fakebin:$PATH" $LM train --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --eval-batches 1 --quiet --iterations 2 --out "$K/fig" >/dev/null 2>&1
[ ! -e "$K/fig/loss.png" ] && [ ! -e "$K/fig/loss.png.tmp" ] && ok "k4: a figure gnuplot drew empty is not left as a 0-byte PNG" ||
    bad "k4: an empty figure was left: $(ls -l "$K/fig" | grep png)"
printf '#!/bin/sh\n: > loss.png.tmp\nexit 1\n' > "$K/fakebin/gnuplot"
NBAD=$((NBAD + 1))
PATH="$K/fakebin:$PATH" $LM train --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --eval-batches 1 --quiet --iterations 2 --out "$K/fig2" >/dev/null 2>&1
[ ! -e "$K/fig2/loss.png" ] && [ ! -e "$K/fig2/loss.png.tmp" ] && ok "k4: a figure gnuplot failed on is not left behind" ||
    bad "k4: a failed figure was left"

# ---- kind 5: fixed-size buffers ------------------------------------------------------------------
NBAD=$((NBAD + 1))
if $LM step --optimizer lionmuon "$K/long_name.st" "$K/long_out.st" >/dev/null 2>"$CLI_TMP/err" &&
   python3 - "$K/long_out.st" <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
key = "state." + "p" * 500 + ".momentum"
assert key in h and len([k for k in h if k.startswith("state.")]) == 1, sorted(h)[:3]
off = h[key]["data_offsets"][0]
m = struct.unpack("<4d", b[8 + n + off:8 + n + off + 32])
assert all(abs(x - 0.125) > 1e-12 for x in m), m   # the stored momentum was used
EOF
then
    ok "k5: a 500-byte parameter name keeps its momentum, under its full key"
else
    bad "k5: 500-byte parameter name: $(head -c 300 "$CLI_TMP/err")"
fi
longp=$K$(printf '/%0200d' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)/in.st
run_table <<ROWS
k5 a 3000-byte path keeps its reason | \[\.\.\.\] .*/in.st: cannot open: No such file or directory | \$LM msign $longp \$OUT
k5 a 3000-byte tensor name keeps the reason | long_nan.st: tensor qqq.* \[\.\.\.\] q+: msign: non-finite input at element 0 | \$LM msign \$K/long_nan.st \$OUT
ROWS

# ---- kind 6: a run directory is trusted ------------------------------------------------------------
T6="$S2 --iterations 6 --eval-every 2 --diag-every 2"
if $LM train $T6 --out "$K/full" >/dev/null 2>&1 && $LM train $T6 --stop-after 3 --out "$K/A" >/dev/null 2>&1 &&
   $LM train $T6 --seed 2 --stop-after 3 --out "$K/B" >/dev/null 2>&1 &&
   $LM train --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 256 --eval-batches 1 --no-plot --quiet \
       --iterations 6 --data text --train-data "$K/text.txt" --stop-after 3 --out "$K/T" >/dev/null 2>&1; then
    python3 - "$K" <<'EOF'
import json, os, shutil, struct, sys
k = sys.argv[1]
def variant(name, src="A", meta=None, ckpt_from=None):
    d = os.path.join(k, name)
    shutil.copytree(os.path.join(k, src), d)
    p = os.path.join(d, "checkpoint.safetensors")
    if ckpt_from:
        shutil.copy(os.path.join(k, ckpt_from, "checkpoint.safetensors"), p)
    if meta:
        raw = open(p, "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        h = json.loads(raw[8:8 + n])
        h["__metadata__"].update(meta)
        hb = json.dumps(h).encode()
        hb += b" " * (-len(hb) % 8)
        open(p, "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
variant("mix", ckpt_from="B")
variant("best_step_huge", meta={"best_val_step": "1e300"})
variant("wall_inf", meta={"wall_s": "inf"})
variant("tokens_wrong", meta={"tokens": "17"})
variant("step_fraction", meta={"step": "2.5"})
variant("diag_garbled", meta={"diag_last": "[1, 2]"})
variant("metrics_garbled", meta={"metrics_csv": "step,train_loss\n0,1\n"})
variant("old_format", meta={"format": "lionmuon-checkpoint-1"})
variant("other_version", meta={"version": "0.0.1"})
variant("nometrics")
os.remove(os.path.join(k, "nometrics", "metrics.csv"))
variant("garbledmetrics")
open(os.path.join(k, "garbledmetrics", "metrics.csv"), "w").write("step,x\n9,garbage\nnot,a,row\n")
open(os.path.join(k, "garbledmetrics", "diagnostics.csv"), "w").write("")
EOF
    printf 'a different text now, so the data fingerprint changes. ' >> "$K/text.txt"
    for v in mix:"summary.json: run [0-9a-f]+, but the checkpoint is of run [0-9a-f]+: the directory mixes two runs" \
             best_step_huge:"'best_val_step' = 1.0000000000000001e\+300 is not an integer in \[0, 3\]" \
             wall_inf:"'wall_s' = 'inf' is not a finite number" \
             tokens_wrong:"'tokens' = 17, but 3 steps of 16 tokens make 48" \
             step_fraction:"'step' = 2.5 is not an integer" \
             diag_garbled:"'diag_last' is not 7 numbers" \
             metrics_garbled:"'metrics_csv' is missing or lacks its header" \
             old_format:"format 'lionmuon-checkpoint-1', not lionmuon-checkpoint-2" \
             other_version:"written by lionmuon 0.0.1, this is" \
             T:"the data differ from the run's .*--train-data/--val-data changed since the checkpoint"; do
        name=${v%%:*} pat=${v#*:}
        NBAD=$((NBAD + 1))
        before=$(cd "$K/$name" && cksum * | sort)
        if $LM train --resume "$K/$name" --quiet --no-plot >/dev/null 2>"$CLI_TMP/err"; then
            bad "k6: resume of $name exited 0"
        elif ! grep -q -E -- "$pat" "$CLI_TMP/err"; then
            bad "k6: resume of $name (stderr lacks /$pat/: $(head -c 300 "$CLI_TMP/err"))"
        elif [ "$(cd "$K/$name" && cksum * | sort)" != "$before" ]; then
            bad "k6: resume of $name changed the run directory"
        else
            ok "k6: resume of $name is refused, the run untouched"
        fi
    done
    for v in nometrics garbledmetrics; do
        NBAD=$((NBAD + 1))
        if $LM train --resume "$K/$v" --quiet --no-plot >/dev/null 2>"$CLI_TMP/err" &&
           [ "$(cut -d, -f1-8 "$K/$v/metrics.csv")" = "$(cut -d, -f1-8 "$K/full/metrics.csv")" ] &&
           [ "$(cat "$K/$v/diagnostics.csv")" = "$(cat "$K/full/diagnostics.csv")" ]; then
            ok "k6: resume with $v restores the logs from the checkpoint (rows as the uninterrupted run's)"
        else
            bad "k6: resume with $v: $(head -c 300 "$CLI_TMP/err")"
        fi
    done
    NBAD=$((NBAD + 1))
    cp "$K/full/summary.json" "$K/full.summary"
    if $LM train --resume "$K/full" --quiet --no-plot >/dev/null 2>"$CLI_TMP/err" &&
       python3 - "$K/full.summary" "$K/full/summary.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("final_train_loss", "final_val_loss", "best_val_loss", "best_val_step", "last_diagnostics", "run_id"):
    assert a[k] is not None and a[k] == b[k], (k, a[k], b[k])
EOF
    then
        ok "k6: --resume of a finished run keeps final_train_loss, final_val_loss and the diagnostics"
    else
        bad "k6: --resume of a finished run changed summary.json: $(head -c 300 "$CLI_TMP/err")"
    fi
    run_table <<'ROWS'
k6 --resume given twice           | --resume given twice | $LM train --resume $K/A --resume $K/B
ROWS
else
    bad "k6: the training runs for the resume rows failed"
fi

# ---- kind 7: values at the edge of double ---------------------------------------------------------------
for m in svd ns5 cubic polar-express; do
    NBAD=$((NBAD + 2))
    if $LM msign --method $m "$K/huge.st" "$K/huge_$m.st" >/dev/null 2>"$CLI_TMP/err" &&
       $LM msign --method $m "$K/ref.st" "$K/ref_$m.st" >/dev/null 2>&1 &&
       $LM compare "$K/huge_$m.st" "$K/ref_$m.st" --rtol 0 --atol 0 >/dev/null 2>&1; then
        ok "k7: msign $m of entries near 1.7e308 equals msign of the same matrix scaled down"
    else
        bad "k7: msign $m of entries near 1.7e308: $(head -c 300 "$CLI_TMP/err")"
    fi
    if $LM msign --method $m "$K/subnormal.st" "$K/sub_$m.st" >/dev/null 2>"$CLI_TMP/err" &&
       python3 -c "
import json, math, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
v = struct.unpack('<4d', b[8 + n:8 + n + 32])
assert all(math.isfinite(x) for x in v) and sum(x * x for x in v) > 0.5, v" "$K/sub_$m.st"; then
        ok "k7: msign $m of a subnormal-norm matrix is a finite orthogonal factor"
    else
        bad "k7: msign $m of a subnormal-norm matrix: $(head -c 300 "$CLI_TMP/err")"
    fi
done
NBAD=$((NBAD + 1))
if $LM train $S2 --iterations 2 --zipf-s 400 --out "$K/z400" >/dev/null 2>&1 &&
   python3 -c "
import json, math, sys
s = json.load(open(sys.argv[1]))
assert isinstance(s['bayes_loss'], float) and math.isfinite(s['bayes_loss']) and s['excess_loss'] is not None, s['bayes_loss']" "$K/z400/summary.json"; then
    ok "k7: --zipf-s 400 gives a finite Bayes loss"
else
    bad "k7: --zipf-s 400: no Bayes loss"
fi
run_table <<'ROWS'
k7 step --lr-muon 1e-400          | --lr-muon: '1e-400' underflows | $LM step --lr-muon 1e-400 $D/good.st $OUT
k7 train --beta1 -1e-400          | --beta1: '-1e-400' underflows | $LM train $S2 --beta1 -1e-400 --out $O/run
k7 synth --zipf-s 1e-999          | --zipf-s: '1e-999' underflows | $LM synth --objective zipf --noise none --m 4 --n 4 --zipf-s 1e-999 --steps 1 --out $O/s
k7 predict --eps 1e-400           | --eps: '1e-400' underflows | $LM predict --constants $K/syn/constants.json --eps 1e-400
k7 step: g^2 overflows, blamed on the input | big_grad.st: the step on params.b and grads.b produced a non-finite optimizer state | $LM step --optimizer adamw $K/big_grad.st $OUT
ROWS

# ---- kind 8: resources --------------------------------------------------------------------------------------
run_table <<'ROWS'
k8 train: a model beyond memory   | --n-layer 1 --n-embd 20000 .* needs about [0-9.]+ GiB of memory | $LM train --n-layer 1 --n-embd 20000 --n-head 2 --vocab-size 32 --seq-len 8 --batch-size 2 --iterations 2 --out $O/run
k8 train: attention beyond memory | --seq-len 16384 --batch-size 512 needs about | $LM train --n-layer 1 --n-embd 64 --n-head 16 --vocab-size 32 --seq-len 16384 --batch-size 512 --iterations 2 --out $O/run
k8 golden: steps beyond LIONMUON_MEM_LIMIT | --steps 100000 with .* needs about .* LIONMUON_MEM_LIMIT | LIONMUON_MEM_LIMIT=1G $LM golden $OUT --steps 100000 --iterations 100000 $G2
k8 msign: a file beyond LIONMUON_MEM_LIMIT | many.st needs about .* more than the 1 KiB | LIONMUON_MEM_LIMIT=1K $LM msign $K/many.st $OUT
k8 synth corpus beyond LIONMUON_MEM_LIMIT | needs about .* more than the 1 MiB | LIONMUON_MEM_LIMIT=1M $LM train --n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 4096 --iterations 2 --out $O/run
k8 bench train: a model beyond memory | --n-layer 40 --n-embd 2048 .* needs about [0-9.]+ TiB of memory | $LM bench train --n-layer 40 --n-embd 2048 --batch-size 64 --seq-len 2048 --steps 1
ROWS
for c in msign compare; do
    NBAD=$((NBAD + 1))
    t0=$(date +%s)
    if [ $c = msign ]; then
        $LM msign "$K/many.st" "$K/many_out.st" >/dev/null 2>"$CLI_TMP/err"
    else
        $LM compare "$K/many.st" "$K/many.st" >/dev/null 2>"$CLI_TMP/err"
    fi
    rc=$? dt=$(($(date +%s) - t0))
    [ $rc -eq 0 ] && [ $dt -le 60 ] && ok "k8: $c of 100k tensors in ${dt} s" || bad "k8: $c of 100k tensors: exit $rc after $dt s"
done

# ---- kind 9: messages ------------------------------------------------------------------------------------------
run_table <<'ROWS'
k9 a tensor name with a newline and ESC, escaped | escape_nan.st: tensor a.nfake row.x1b.31m: msign: non-finite | $LM msign $K/escape_nan.st $OUT
k9 a failed new run leaves no directory | non-finite value | $LM train $S2 --iterations 2 --weight-decay 0 --lr-adamw 1e300 --lr-muon 1e300 --lr-sign 1e300 --warmup 0 --out $O/deep/er/run
ROWS
NBAD=$((NBAD + 2))
$LM msign "$K/escape_nan.st" "$K/e.st" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
[ "$(wc -l < "$CLI_TMP/err")" -eq 1 ] && ! grep -q "$(printf '\033')" "$CLI_TMP/err" && ok "k9: the error is one line with no raw escape" ||
    bad "k9: the error carries raw control characters"
$LM msign "$K/escape_ok.st" "$K/e2.st" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
[ "$(wc -l < "$CLI_TMP/out")" -eq 1 ] && ! grep -q "$(printf '\033')" "$CLI_TMP/out" && grep -q 'ok\\x1b\]0;title\\x07\\nFAKE' "$CLI_TMP/out" &&
    ok "k9: msign's table prints the name escaped, one row" || bad "k9: msign's table: $(cat -v "$CLI_TMP/out")"
# compare's table: the same name in A and B (and an off value, so a FAIL
# line too) gives one row and one failure line, escaped
$LM compare "$K/escape_ok.st" "$K/escape_ok.st" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
[ "$(grep -c 'FAKE' "$CLI_TMP/out")" -eq 1 ] && ! grep -q "$(printf '\033')" "$CLI_TMP/out" &&
    grep -q 'ok\\x1b\]0;title\\x07\\nFAKE' "$CLI_TMP/out" &&
    ok "k9: compare's table prints the name escaped, one row" || bad "k9: compare's table: $(cat -v "$CLI_TMP/out")"
$LM compare "$K/escape_ok.st" "$K/e2.st" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
[ "$(grep -c 'FAKE' "$CLI_TMP/err")" -le 1 ] && ! grep -q "$(printf '\033')" "$CLI_TMP/out" "$CLI_TMP/err" &&
    ok "k9: compare's failure lines carry no raw escape" || bad "k9: compare's failure lines: $(cat -v "$CLI_TMP/err")"

echo "bad inputs tried: $NBAD"
cli_done badinput
