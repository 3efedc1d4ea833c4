# cli_bench.sh - the benchmarks run at a quick size and report what they
# promise (benchmarks are not tests: nothing here checks a speed).
. tests/cli_lib.sh
expect_ok "bench --quick writes JSON" $LM bench --quick --json "$CLI_TMP/bench.json"
for k in dgemm_gflops train msign optimizer fraction_of_dgemm growth_exponent_msign \
         blas_core blas_core_selected_by_tool fraction_of_dgemm_executed time_vs_ns5 \
         err_spectral_vs_svd theory exceeds runs_per_second process_start_s; do
    if grep -q "\"$k\"" "$CLI_TMP/bench.json"; then ok "bench JSON has $k"; else bad "bench JSON lacks $k"; fi
done
expect_ok "bench train --json" sh -c "$LM bench train --n-layer 1 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 2 --vocab-size 64 --steps 2 --json > $CLI_TMP/bt.json"
for k in seconds_per_step model_flops_per_step dgemm_gflops; do
    if grep -q "\"$k\": [0-9]" "$CLI_TMP/bt.json"; then ok "bench train JSON has $k"; else bad "bench train JSON lacks $k"; fi
done
expect_ok "bench train with llama and adamw" $LM bench train --model llama --n-layer 1 --n-embd 32 --n-head 2 --seq-len 16 --batch-size 2 --vocab-size 64 --steps 1 --optimizer adamw
expect_fail "bench train rejects --steps 0" "--steps" $LM bench train --steps 0
expect_fail "bench train rejects a bad model" "--model" $LM bench train --model gpt5
cli_done bench
