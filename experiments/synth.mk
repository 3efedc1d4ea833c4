# synth.mk - the theory checks of issue 4 (theory/bounds.md, "Checks").
#   make theory-check        V1-V5 on the full grids (under an hour on 2 cores),
#                            tables in results/synth, figures in plots/synth_v*.png
#   make theory-check-quick  the small grids (a few minutes), everything under
#                            results/synth-quick (figures included)
SYNTH_ENV   = OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1
SYNTH_SEEDS ?= 5

.PHONY: theory-check theory-check-quick
theory-check: lionmuon
	@for c in V1 V2 V3 V4 V5; do echo "== $$c"; \
	  $(SYNTH_ENV) ./lionmuon synth-check --check $$c --seeds $(SYNTH_SEEDS) --out results/synth || exit 1; done
	sh experiments/synth/plots.sh results/synth plots

theory-check-quick: lionmuon
	@for c in V1 V2 V3 V4 V5; do echo "== $$c"; \
	  $(SYNTH_ENV) ./lionmuon synth-check --check $$c --quick --seeds $(SYNTH_SEEDS) --out results/synth-quick || exit 1; done
	sh experiments/synth/plots.sh results/synth-quick results/synth-quick
