# synth.mk - the theory checks of issues 4 and 13 (theory/bounds.md, "Checks").
#   make theory-check        V1-V6 on the full grids, tables in results/synth,
#                            figures in plots/synth_v*.png
#   make theory-check-quick  the small grids, every code path, everything under
#                            results/synth-quick (figures included)
# Times on 2 cores shared with other jobs (OMP_NUM_THREADS=2):
#   quick: 50 s wall and 50 s CPU on a quiet machine, 88 s wall under load
#   (V1 13 s, V2 4 s, V3 5 s, V4 15 s, V5 13 s, V6 0.1 s wall).
#   full, estimated from costs measured here (a 16 x 16 LionMuon step with
#   its nuclear norm about 100 us, a 6 x 6 Signum step about 5 us, a fully
#   measured 400-step 16 x 24 run about 0.8 s of CPU) times the run counts:
#   V1 248 configurations x 5 seeds, about 17 min of CPU;
#   V2 + V3 515 runs, about 7 min;
#   V4 55 (lambda, P) lattices, 150 to 400 points each in 3-D (the quick
#   lattices took about 145 points each), 2 tuning seeds, then 55 x 4 tuned
#   points x 20 evaluation seeds, all stopping early once every target is
#   reached: 19,000 to 40,000 runs of at most 2000 steps, 50 to 100 min of
#   CPU;
#   V5 12 families x about 60 points x 2 tuning seeds + 12 x 12 tuned
#   points x 10 evaluation seeds, 3e5 steps each (no early stop: the
#   fixed-horizon statistic needs whole runs), about 2900 runs, 75 min of CPU;
#   V6 2 s (run).  In all 2.5 to 3.5 h of CPU, 1.3 to 1.8 h wall on 2 idle
#   cores.
# The six checks are the lines of a sweep manifest (DIR/checks.jsonl), run by
# `lionmuon sweep`: a killed run resumes at the first unfinished check, and
# `mpirun -n K ./lionmuon sweep --mpi DIR/checks.jsonl` spreads the checks
# over K ranks.  Inside a check, its (configuration, seed) runs are spread
# over OpenMP threads.
SYNTH_ENV   = OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1
SYNTH_SEEDS ?= 5
SYNTH_WORKERS ?= 1

.PHONY: theory-check theory-check-quick
theory-check: lionmuon
	$(call synth_checks,results/synth,,plots)

theory-check-quick: lionmuon
	$(call synth_checks,results/synth-quick,--quick,results/synth-quick)

# $(1) results dir, $(2) --quick or nothing, $(3) figures dir
define synth_checks
	@mkdir -p $(1)
	@: > $(1)/checks.jsonl
	@for c in V1 V2 V3 V4 V5 V6; do \
	  printf '{"out": "%s", "argv": ["synth-check", "--check", "%s", "--seeds", "%s", "--out", "%s"%s]}\n' \
	    "$(1)/$$c" "$$c" "$(SYNTH_SEEDS)" "$(1)/$$c" "$(if $(2),$(comma) \"$(2)\",)" >> $(1)/checks.jsonl; done
	$(SYNTH_ENV) ./lionmuon sweep --workers $(SYNTH_WORKERS) $(1)/checks.jsonl
	@for c in 1 2 3 4 5 6; do cp $(1)/V$$c/v$$c.* $(1)/; done
	sh experiments/synth/plots.sh $(1) $(3)
endef
comma := ,
