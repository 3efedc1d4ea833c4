# cli_determinism.sh - the same command twice gives the same bytes (issue 7).
#
# Each subcommand runs twice with the same seed and flags; the outputs must be
# byte-identical.  The one field allowed to differ is the wall-clock time
# `wall_s` (a column of metrics.csv and of its copy in the checkpoint's
# __metadata__, a key of summary.json and of the __metadata__): it is masked
# before comparing, and nothing else.
#
# Then each runs with OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1 and = 2.
# Those differences are reported ("thread count: ...") but do not fail: a
# BLAS or OpenMP reduction may sum in another order with another thread count.
# README.md says what changes.  Run from the repository root.
. tests/cli_lib.sh
D=$CLI_TMP
NDIFF_THREADS=0
NSAME_THREADS=0

# same.py A B: compare two files or two directories (every file in either),
# masking wall_s; prints one line per file that differs, exits 1 if any does.
cat >"$D/same.py" <<'EOF'
import json, os, struct, sys

def csv_norm(text):
    rows = [r.split(",") for r in text.splitlines()]
    if rows and "wall_s" in rows[0]:
        j = rows[0].index("wall_s")
        rows = [r[:j] + r[j + 1:] for r in rows]
    return "\n".join(",".join(r) for r in rows).encode()

def norm(path):
    b = open(path, "rb").read()
    if path.endswith(".json"):
        def strip(o):
            if isinstance(o, dict):
                return {k: strip(v) for k, v in o.items() if k != "wall_s"}
            if isinstance(o, list):
                return [strip(v) for v in o]
            return o
        return json.dumps(strip(json.loads(b)), sort_keys=True).encode()
    if path.endswith(".csv"):
        return csv_norm(b.decode())
    if path.endswith(".safetensors"):
        n = struct.unpack("<Q", b[:8])[0]
        h = json.loads(b[8:8 + n])
        h.get("__metadata__", {}).pop("wall_s", None)
        # the checkpoint carries metrics.csv (and its wall_s column) too
        if "metrics_csv" in h.get("__metadata__", {}):
            h["__metadata__"]["metrics_csv"] = csv_norm(h["__metadata__"]["metrics_csv"]).decode()
        return json.dumps(h, sort_keys=True).encode() + b[8 + n:]
    return b

a, b = sys.argv[1], sys.argv[2]
if os.path.isdir(a):
    names = sorted(set(os.listdir(a)) | set(os.listdir(b)))
    pairs = [(os.path.join(a, n), os.path.join(b, n), n) for n in names]
else:
    pairs = [(a, b, os.path.basename(a))]
bad = 0
for x, y, n in pairs:
    if not (os.path.exists(x) and os.path.exists(y)):
        print(f"{n}: only in one run"); bad = 1
    elif norm(x) != norm(y):
        print(f"{n}: differs"); bad = 1
sys.exit(bad)
EOF

# twice "description" OUT1 OUT2 command... : the command with OUT replaced by
# OUT1, then OUT2; the outputs must be the same.
twice() {
    d=$1 o1=$2 o2=$3
    shift 3
    if ! run_with "$o1" "$@" || ! run_with "$o2" "$@"; then
        bad "$d (the command failed: $(head -c 300 "$D/err"))"
    elif cmp -s "$o1" "$o2" 2>/dev/null || python3 "$D/same.py" "$o1" "$o2" >"$D/diff"; then
        ok "$d: byte-identical twice"
    else
        bad "$d differs between two runs: $(cat "$D/diff" | tr '\n' ' ')"
    fi
}
# threads "description" OUT1 OUT2 command...: with 1 and with 2 threads.
threads() {
    d=$1 o1=$2 o2=$3
    shift 3
    if ! OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 run_with "$o1" "$@" ||
       ! OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 run_with "$o2" "$@"; then
        bad "$d (the command failed: $(head -c 300 "$D/err"))"
    elif cmp -s "$o1" "$o2" 2>/dev/null || python3 "$D/same.py" "$o1" "$o2" >"$D/diff"; then
        NSAME_THREADS=$((NSAME_THREADS + 1))
        echo "  thread count: $d: the same with 1 and 2 threads"
    else
        NDIFF_THREADS=$((NDIFF_THREADS + 1))
        echo "  thread count: $d: DIFFERS between 1 and 2 threads ($(cat "$D/diff" | tr '\n' ' '))"
        # how much, for tensor files
        case $o1 in *.safetensors)
            $LM compare "$o1" "$o2" --rtol 0 --atol 0 2>/dev/null |
                awk '$NF == "FAIL" { printf "      %s: max |diff| %s, max relative %s\n", $1, $(NF-2), $(NF-1) }' | head -4 ;;
        esac
    fi
}
# run_with OUT command...: the command with every argument "OUT" replaced.
run_with() {
    o=$1
    shift
    rm -rf "$o"
    for a in "$@"; do
        [ "$a" = OUT ] && a=$o
        set -- "$@" "$a"
        shift
    done
    "$@" >"$D/out" 2>"$D/err"
}

# ---- inputs: matrices large enough for threaded BLAS paths -------------------
python3 - "$D" <<'EOF' || { echo "cli determinism: fixtures failed"; exit 1; }
import json, struct, sys
d = sys.argv[1]
state = [12345]
def rnd():  # a fixed LCG: the same inputs everywhere, no numpy needed
    state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) % 2**64
    return ((state[0] >> 11) / 2**53) * 2 - 1
def write(path, tensors, meta=None):
    h, blobs, off = {}, [], 0
    if meta:
        h["__metadata__"] = meta
    for name, shape, n in tensors:
        b = struct.pack("<%dd" % n, *[rnd() for _ in range(n)])
        h[name] = {"dtype": "F64", "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    hb = json.dumps(h).encode(); hb += b" " * (-len(hb) % 8)
    open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
write(f"{d}/m.safetensors", [("a", [192, 128], 192 * 128), ("b", [64, 256], 64 * 256),
                             ("c", [100, 100], 10000)])
ps = [("w1", [128, 96]), ("w2", [96, 160]), ("g", [96], )]
T = []
for name, shape in [("w1", [128, 96]), ("w2", [96, 160]), ("g", [96])]:
    n = 1
    for s in shape: n *= s
    T += [("params." + name, shape, n), ("grads." + name, shape, n)]
write(f"{d}/s0.safetensors", T)
T1 = T + [("state.w1.momentum", [128, 96], 128 * 96), ("state.w2.momentum", [96, 160], 96 * 160)]
write(f"{d}/s1.safetensors", T1, meta={"step": "1"})
EOF

for m in svd ns5 cubic polar-express; do
    twice "msign $m" "$D/a.safetensors" "$D/b.safetensors" $LM msign --method $m "$D/m.safetensors" OUT
    threads "msign $m" "$D/a.safetensors" "$D/b.safetensors" $LM msign --method $m "$D/m.safetensors" OUT
done
for o in lionmuon signmuon muon lion signum adamw muon-nesterov; do
    twice "step $o" "$D/a.safetensors" "$D/b.safetensors" $LM step --optimizer $o "$D/s0.safetensors" OUT
done
twice "step lionmuon t=1 (Lion step with momentum)" "$D/a.safetensors" "$D/b.safetensors" \
    $LM step "$D/s1.safetensors" OUT
twice "step with the stable-rank trigger" "$D/a.safetensors" "$D/b.safetensors" \
    $LM step --srank-alpha 0.3 "$D/s1.safetensors" OUT
threads "step lionmuon (Muon step, svd)" "$D/a.safetensors" "$D/b.safetensors" \
    $LM step --msign svd "$D/s0.safetensors" OUT
threads "step lionmuon (Muon step, ns5)" "$D/a.safetensors" "$D/b.safetensors" \
    $LM step --msign ns5 "$D/s0.safetensors" OUT
threads "step adamw" "$D/a.safetensors" "$D/b.safetensors" $LM step --optimizer adamw "$D/s0.safetensors" OUT

# ---- the other modules' subcommands, once they exist ---------------------------------
if $LM train --help >/dev/null 2>&1; then
    S="--n-layer 2 --n-embd 32 --n-head 4 --seq-len 16 --batch-size 4 --vocab-size 64 --iterations 6 --eval-every 3 --eval-batches 2 --diag-every 3 --ckpt-every 3 --no-plot --quiet"
    twice "train (gpt2, every output file)" "$D/ra" "$D/rb" $LM train $S --out OUT
    threads "train (gpt2)" "$D/ra" "$D/rb" $LM train $S --out OUT
    twice "train (llama)" "$D/ra" "$D/rb" $LM train $S --model llama --out OUT
    G="--n-layer 1 --n-embd 16 --n-head 2 --seq-len 8 --batch-size 2 --vocab-size 32 --steps 2"
    twice "golden" "$D/a.safetensors" "$D/b.safetensors" $LM golden OUT $G
    threads "golden" "$D/a.safetensors" "$D/b.safetensors" $LM golden OUT $G
else
    echo "  skip train/golden: lionmuon train is not built"
fi
if $LM synth --help >/dev/null 2>&1; then
    Y="--objective separable --noise student-t --m 12 --n 8 --steps 40 --seed 3 --extra-samples 200"
    twice "synth" "$D/ya" "$D/yb" $LM synth $Y --out OUT
    threads "synth" "$D/ya" "$D/yb" $LM synth $Y --out OUT
    Y2="--objective kronecker --noise gaussian --m 12 --n 8 --steps 40 --seed 3 --extra-samples 200"
    twice "synth (kronecker)" "$D/ya" "$D/yb" $LM synth $Y2 --out OUT
    if $LM synth $Y --out "$D/yc" >/dev/null 2>&1; then
        twice "predict" "$D/pa.json" "$D/pb.json" $LM predict --constants "$D/yc/constants.json" --eps 0.1 --out OUT
    fi
else
    echo "  skip synth/predict: lionmuon synth is not built"
fi

echo "thread count: $NSAME_THREADS commands the same with 1 and 2 threads, $NDIFF_THREADS differ"
cli_done determinism
