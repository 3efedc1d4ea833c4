# Benchmarks (not tests; issue 6).  Rates are ratios inside one run, since
# absolute times drift with the machine's load.
#   make bench         the full table (DGEMM, training step, msign, optimizer)
#                      and results/bench.json
#   make bench-torch   the same training step in C and in PyTorch float64 on
#                      the CPU, same model, batch, optimizer and thread count,
#                      in alternating rounds: the ratio of step times with both
#                      on C's BLAS kernel (fair) and with each on its default
#                      kernel (results/bench-torch.json).  BENCH_OPTIM=adamw
#                      for AdamW; BENCH_GENERIC=Prescott starts both as on a
#                      CPU OpenBLAS does not recognise (torch stays on it, C
#                      selects the fast kernel itself).
#   make bench-kernel  the DGEMM rate on OpenBLAS's own kernel and on the one
#                      lionmuon selects, alternating (3 rounds).  On a CPU that
#                      OpenBLAS recognises, KERNEL_GENERIC=Prescott (the default;
#                      empty on a CPU it does not) forces the generic kernel as
#                      OpenBLAS's choice.
#   make bench-alloc   checks that a training step allocates nothing (an
#                      LD_PRELOAD shim counts malloc & co. inside the steps)
#   make bench-profile perf profile of the training step, by function
# BENCH_THREADS threads for both (default: the cores); BENCH_FLAGS the model.
#
# OMP_WAIT_POLICY=passive: an idle OpenMP thread sleeps instead of spinning
# (libgomp spins for a while by default).  The step alternates the team's
# loops with the optimizer's threaded BLAS, and on a machine shared with
# other jobs a spinning thread takes the core its partner needs: measured
# here under load (2 cores, load average 6-8), passive made the C step 2-3x
# faster (GPT-2 L=2 C=256: 1.24 s -> 0.43-0.59 s).  Both C and torch get it.
# It must be set before the program starts (libgomp reads it at load).
BENCH_THREADS ?= $(shell nproc)
BENCH_FLAGS   ?= --model gpt2 --n-layer 4 --n-head 4 --n-embd 256 --seq-len 128 \
                 --batch-size 8 --vocab-size 512
BENCH_STEPS   ?= 6
BENCH_ROUNDS  ?= 3
BENCH_OPTIM   ?= lionmuon
BENCH_GENERIC ?=
BENCH_ENV      = OMP_NUM_THREADS=$(BENCH_THREADS) OPENBLAS_NUM_THREADS=$(BENCH_THREADS) \
                 OMP_WAIT_POLICY=passive

.PHONY: bench bench-torch bench-kernel bench-alloc bench-profile
KERNEL_GENERIC ?= Prescott
bench-kernel: lionmuon
	@uptime
	@for i in 1 2 3; do \
	  $(BENCH_ENV) $(if $(KERNEL_GENERIC),OPENBLAS_CORETYPE=$(KERNEL_GENERIC)) \
	      LIONMUON_BLAS_SELECT=0 ./lionmuon bench dgemm; \
	  $(BENCH_ENV) $(if $(KERNEL_GENERIC),OPENBLAS_CORETYPE=$(KERNEL_GENERIC) \
	      LIONMUON_BLAS_SELECT=force) ./lionmuon bench dgemm; done

bench: lionmuon
	mkdir -p results
	$(BENCH_ENV) ./lionmuon bench --json results/bench.json

bench-torch: lionmuon
	mkdir -p results
	$(BENCH_ENV) $(PYTHON) experiments/bench/torch_bench.py $(BENCH_FLAGS) \
	    --steps $(BENCH_STEPS) --threads $(BENCH_THREADS) --lionmuon ./lionmuon \
	    --optimizer $(BENCH_OPTIM) --rounds $(BENCH_ROUNDS) \
	    $(if $(BENCH_GENERIC),--simulate-generic $(BENCH_GENERIC)) --out results/bench-torch.json

# A step (forward, backward, clipping, optimizer) allocates nothing: an
# LD_PRELOAD shim counts heap calls between the probes that bench_train
# places around each timed step.  One BLAS thread, so that only this code
# is counted; with more, OpenBLAS's threaded driver mallocs a small job
# array per level-3 call (msign's dsyrk and dsymm), which is printed too.
build/alloc_count.so: experiments/bench/alloc_count.c
	@mkdir -p build
	$(CC) -O2 -shared -fPIC -o $@ $<

bench-alloc: lionmuon build/alloc_count.so
	@for m in gpt2 llama; do for o in lionmuon adamw; do \
	  r=$$(OMP_NUM_THREADS=$(BENCH_THREADS) OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive \
	      LD_PRELOAD=./build/alloc_count.so ./lionmuon bench train --model $$m --n-layer 2 \
	      --n-embd 256 --seq-len 64 --optimizer $$o --steps 4 2>&1 >/dev/null | grep 'in steps'); \
	  echo "$$m $$o, OpenBLAS on 1 thread: $$r"; \
	  case "$$r" in *"malloc 0 calloc 0 realloc 0 memalign 0 free 0") ;; \
	    *) echo "FAIL: the step allocates"; exit 1;; esac; \
	  r=$$($(BENCH_ENV) LD_PRELOAD=./build/alloc_count.so ./lionmuon bench train --model $$m \
	      --n-layer 2 --n-embd 256 --seq-len 64 --optimizer $$o --steps 4 2>&1 >/dev/null \
	      | grep 'in steps'); \
	  echo "$$m $$o, OpenBLAS on $(BENCH_THREADS) threads: $$r"; done; done
	@echo "bench-alloc: no allocation in a step (beyond OpenBLAS's own threaded driver)"

bench-profile: lionmuon
	mkdir -p results
	$(BENCH_ENV) perf record -g -o results/bench-perf.data ./lionmuon bench train \
	    $(BENCH_FLAGS) --steps 20 > /dev/null
	perf report -i results/bench-perf.data --no-children --sort dso,symbol 2>/dev/null \
	    | grep -v '^#' | grep '%' | head -40
