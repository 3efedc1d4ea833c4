#!/bin/sh
# cli_train.sh - `lionmuon train` and `lionmuon golden`: outputs, bitwise
# resume, the golden file's layout, and bad input.
. tests/cli_lib.sh
T=$CLI_TMP
# a tiny model: each run takes a fraction of a second
MODEL="--n-layer 2 --n-head 2 --n-embd 16 --seq-len 8 --batch-size 2"
CTL="--eval-batches 2 --no-plot --quiet"
SMALL="$MODEL --vocab-size 32 $CTL"

# ---- a short run writes every output ----
expect_ok "train: short run" $LM train $SMALL --iterations 12 --eval-every 4 --diag-every 4 --out "$T/a"
for f in metrics.csv diagnostics.csv summary.json checkpoint.safetensors; do
    if [ -s "$T/a/$f" ]; then ok "train: wrote $f"; else bad "train: no $f"; fi
done
if head -1 "$T/a/metrics.csv" | grep -q '^step,train_loss,val_loss,lr_muon,lr_sign,lr_adamw,tokens,flops,wall_s$' &&
   [ "$(wc -l < "$T/a/metrics.csv")" -eq 14 ]; then ok "train: metrics.csv header and 13 rows"
else bad "train: metrics.csv ($(head -2 "$T/a/metrics.csv"))"; fi
if [ "$(wc -l < "$T/a/diagnostics.csv")" -eq 4 ] &&
   head -1 "$T/a/diagnostics.csv" | grep -q 'grad_nuc_over_1,param_2_over_inf,update_2_over_inf,errmom_F_over_nuc,errmom_F_over_1,smooth_nuc_over_2,smooth_1_over_inf'
then ok "train: diagnostics.csv has the seven ratios at steps 4, 8, 12"
else bad "train: diagnostics.csv"; fi
missing=""
for k in config best_val_loss excess_loss entropy_rate total_flops wall_s optimizer_state_bytes; do
    grep -q "\"$k\"" "$T/a/summary.json" || missing="$missing $k"
done
if [ -z "$missing" ]; then ok "train: summary.json keys"; else bad "train: summary.json lacks$missing"; fi
# no temporary files left behind
if ls "$T/a" | grep -q tmp; then bad "train: temporary files left"; else ok "train: no temporary files"; fi

# ---- resume is bitwise exact ----
RUN="$SMALL --iterations 12 --eval-every 4 --diag-every 3 --ckpt-every 5"
expect_ok "train: uninterrupted run" $LM train $RUN --out "$T/full"
expect_ok "train: interrupted at step 7" $LM train $RUN --out "$T/part" --stop-after 7
if grep -q '^7,' "$T/part/metrics.csv" && ! grep -q '^8,' "$T/part/metrics.csv"; then
    ok "train: interrupted run stops at step 7"; else bad "train: --stop-after 7"; fi
# a kill during an atomic write leaves NAME.tmp.XXXXXX; resuming removes it
echo partial > "$T/part/checkpoint.safetensors.tmp.AbC123"
expect_ok "train: --resume" $LM train --resume "$T/part" --quiet
[ ! -e "$T/part/checkpoint.safetensors.tmp.AbC123" ] && ok "train: resume removes stale temporary files" \
    || bad "train: stale temporary file left after resume"
expect_ok "train: resumed checkpoint equals uninterrupted (rtol 0, atol 0)" \
    $LM compare "$T/part/checkpoint.safetensors" "$T/full/checkpoint.safetensors" --rtol 0 --atol 0
if [ "$(cut -d, -f1-8 "$T/part/metrics.csv")" = "$(cut -d, -f1-8 "$T/full/metrics.csv")" ] &&
   cmp -s "$T/part/diagnostics.csv" "$T/full/diagnostics.csv"; then
    ok "train: resumed metrics and diagnostics equal uninterrupted (wall time aside)"
else bad "train: resumed metrics differ"; fi
expect_fail "train: --resume with a model flag" "--n-layer" $LM train --resume "$T/part" --n-layer 3
expect_fail "train: --resume of a missing run" "$T/nothere" $LM train --resume "$T/nothere"

# ---- llama and adamw run too ----
expect_ok "train: llama with adamw" $LM train --model llama --multiple-of 8 $SMALL --iterations 4 \
    --optimizer adamw --diag-every 2 --out "$T/l"
expect_ok "train: gpt2 --bias, muon, routing dim" $LM train $SMALL --bias --iterations 4 \
    --optimizer muon --routing dim --out "$T/m"

# ---- golden file ----
expect_ok "golden: 3 steps" $LM golden "$T/g.safetensors" --n-layer 2 --n-head 2 --n-embd 16 \
    --seq-len 8 --batch-size 2 --vocab-size 32 --steps 3 --iterations 10
if command -v python3 >/dev/null 2>&1; then
    if python3 - "$T/g.safetensors" >"$T/gout" 2>&1 <<'EOF'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
meta = h.pop('__metadata__')
need = ("model n_layer n_head n_embd vocab_size sequence_length bias optimizer period lr_muon "
        "lr_sign lr_adamw beta1 beta2 adamw_beta1 adamw_beta2 adamw_eps adamw_eps_mode ns_steps "
        "msign weight_decay grad_clip warmup iterations seed").split()
miss = [k for k in need if k not in meta]
assert not miss, "metadata lacks %s" % miss
assert h['inputs']['dtype'] == 'I64' and h['inputs']['shape'] == [3, 2, 8], h['inputs']
assert h['targets']['dtype'] == 'I64' and h['targets']['shape'] == [3, 2, 8]
names = [k[len('final.params.'):] for k in h if k.startswith('final.params.')]
assert len(names) == 15 and 'transformer.wte.weight' in names and \
    not any('lm_head' in k for k in h), names
for k in range(3):
    assert h['step.%d.loss' % k]['shape'] == [] and h['step.%d.loss' % k]['dtype'] == 'F64'
    for nm in names:
        for part in ('params', 'grads'):
            t = h['step.%d.%s.%s' % (k, part, nm)]
            assert t['dtype'] == 'F64' and t['shape'] == h['final.params.' + nm]['shape'], nm
# per step: loss, lr_scale, clip_coef, params and grads (15 each), the state
# before the step (momentum of the 8 hidden matrices, exp_avg and exp_avg_sq
# of the 7 other tensors) and step.k.muon of the 8 matrices
assert len(h) == 2 + 3 * (3 + 2 * 15 + 8 + 2 * 7 + 8) + 15, len(h)
print("ok")
EOF
    then ok "golden: tensors, shapes and metadata keys"; else bad "golden: layout ($(tail -1 "$T/gout"))"; fi
fi
expect_fail "golden: --steps beyond --iterations" "--steps" $LM golden "$T/g2.safetensors" --steps 20 --iterations 10 $MODEL
[ -e "$T/g2.safetensors" ] && bad "golden: partial file left" || ok "golden: no file on error"

# ---- bad input: one line naming the culprit, non-zero exit, no output ----
check_bad() { # description pattern args...
    d=$1; pat=$2; shift 2
    rm -rf "$T/bad"
    expect_fail "$d" "$pat" "$@" --out "$T/bad"
    if [ -e "$T/bad" ]; then bad "$d: left $T/bad"; fi
    if [ "$(wc -l < "$CLI_TMP/err")" -gt 1 ]; then bad "$d: more than one line"; fi
}
check_bad "bad: unknown flag" "--bogus" $LM train $SMALL --bogus 3
check_bad "bad: malformed number" "--n-layer" $LM train $SMALL --n-layer x
check_bad "bad: n_embd not divisible by n_head" "--n-head" $LM train $SMALL --n-head 3
check_bad "bad: odd RoPE head size" "RoPE" $LM train --model llama --n-embd 12 --n-head 4 --no-plot
check_bad "bad: llama with bias" "--bias" $LM train --model llama --bias --no-plot
check_bad "bad: unknown model" "--model" $LM train --model gpt3
check_bad "bad: unknown optimizer" "--optimizer" $LM train --optimizer sgd
check_bad "bad: beta out of range" "--beta1" $LM train $SMALL --beta1 1.5
check_bad "bad: lion with a period" "--period" $LM train $SMALL --optimizer lion --period 2
check_bad "bad: synthetic vocabulary too large" "--vocab-size" $LM train $SMALL --vocab-size 100000 --n-embd 16
printf 'hello, world! zzz\n' > "$T/text.txt"
check_bad "bad: vocabulary smaller than the data's tokens" "$T/text.txt" \
    $LM train $MODEL $CTL --data text --train-data "$T/text.txt" --vocab-size 100
check_bad "bad: missing data file" "$T/none.bin" $LM train $MODEL $CTL --data llmc --train-data "$T/none.bin" --vocab-size 300
head -c 1000 /dev/zero > "$T/short.bin"
check_bad "bad: truncated llm.c file" "truncated" $LM train $MODEL $CTL --data llmc --train-data "$T/short.bin" --vocab-size 300
check_bad "bad: data shorter than a sequence" "--seq-len" \
    $LM train $MODEL $CTL --data text --train-data "$T/text.txt" --vocab-size 256
check_bad "bad: warm-up beyond iterations" "--warmup" $LM train $SMALL --iterations 5 --warmup 9
# a learning rate that blows up: the non-finite loss is caught and named
rm -rf "$T/nan"
expect_fail "bad: non-finite loss is an error" "non-finite" $LM train $SMALL --optimizer adamw \
    --lr-adamw 1e200 --weight-decay 0 --grad-clip 0 --iterations 5 --out "$T/nan"
# a truncated checkpoint is refused on resume, naming the file
cp -r "$T/part" "$T/trunc"
head -c 5000 "$T/part/checkpoint.safetensors" > "$T/trunc/checkpoint.safetensors"
expect_fail "bad: truncated checkpoint" "checkpoint.safetensors" $LM train --resume "$T/trunc"
expect_ok "train --help" $LM train --help
grep -q "matrix rule" "$CLI_TMP/out" && ok "train --help states the routing" || bad "train --help lacks the routing"

cli_done train
