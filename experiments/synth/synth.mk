# synth.mk - the theory checks of issue 4 (theory/bounds.md, "Checks").
#   make theory-check        V1-V5 on the full grids (under an hour on 2 cores),
#                            tables in results/synth, figures in plots/synth_v*.png
#   make theory-check-quick  the small grids (a few minutes), everything under
#                            results/synth-quick (figures included)
# The five checks are the lines of a sweep manifest (DIR/checks.jsonl), run by
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
