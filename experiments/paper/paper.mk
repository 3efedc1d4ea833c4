# The paper's claims at CPU scale (issues: reproduce the paper's claims; 13).
#   make paper        the full set: tuning on a self-extending factor-2 grid (2 tuning
#                     seeds), 8 evaluation seeds, report with Holm-adjusted verdicts
#   make paper-quick  the same pipeline on tiny models, 2 evaluation seeds
# Times (2 shared cores, CPU time measured with `lionmuon paper timed`):
#   paper-quick: about 45 s wall, 20 s CPU; its 204 runs (164 tuning runs over
#   4 grid rounds, 40 main runs) take 16 s of CPU in all (`paper timed`).
#   paper: one run (2 layers, C 64, T 64, B 24, 650 iterations) takes about 70 s
#   of CPU (0.1 s per iteration measured at 40 iterations, plus evaluations);
#   2 models x 10 configs x (3 factors x 2 tuning seeds + about 1 extension
#   round x 2 + 8 evaluation seeds) ~ 320 runs ~ 6.2 h CPU, about 3.1 h wall
#   with 2 workers on an otherwise idle 2-core machine.  Resumable: a killed
#   sweep restarts at the first unfinished run (`lionmuon sweep` skips runs with
#   done.json), and `make paper` again continues from there.
# Runs are single-threaded and two run at a time (lionmuon sweep); results go
# to results/ (ignored by git); the report and figures to
# experiments/paper/REPORT.md and plots/paper/.  With the paper's released runs
# at $(PAPER_AUDIT) the report adds the rank agreement with them.
PAPER_DIR   ?= results/paper
PAPER_ENV    = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
PAPER_WORKERS ?= 2
PAPER_BIN ?= ./lionmuon
PAPER_ROUNDS ?= 4
PAPER_AUDIT ?= ../shared/paper-runs/exps

.PHONY: paper paper-quick
paper: lionmuon
	$(call paper_pipeline,$(PAPER_DIR),,experiments/paper/REPORT.md,plots/paper,../../plots/paper)

paper-quick: lionmuon
	$(call paper_pipeline,$(PAPER_DIR)-quick,--quick,$(PAPER_DIR)-quick/REPORT.md,$(PAPER_DIR)-quick/plots,plots)

# $(1) results dir, $(2) --quick or nothing, $(3) report, $(4) plots dir,
# $(5) the plots dir as the report links it.
# Tuning runs may diverge (a too-large factor): their failures are expected
# and the selection treats them as +inf, hence the `|| true`.  `paper select`
# exits 3 when a pick sat at the end of its grid and the grid grew: the
# tuning stage then runs again on the new factors (at most PAPER_ROUNDS
# times; a pick still at the end is flagged in the report).
define paper_pipeline
	mkdir -p $(1)
	i=0; rc=3; while [ $$rc -eq 3 ] && [ $$i -lt $(PAPER_ROUNDS) ]; do \
	  $(PAPER_BIN) paper manifest --stage tune --dir $(1) --manifest $(1)/tune.jsonl $(2) || exit 1; \
	  $(PAPER_ENV) $(PAPER_BIN) sweep --workers $(PAPER_WORKERS) $(1)/tune.jsonl || true; \
	  $(PAPER_BIN) paper select --dir $(1) $(2); rc=$$?; i=$$((i + 1)); \
	done; [ $$rc -eq 0 ] || [ $$rc -eq 3 ]
	$(PAPER_BIN) paper manifest --stage main --dir $(1) --manifest $(1)/main.jsonl $(2)
	$(PAPER_ENV) $(PAPER_BIN) sweep --workers $(PAPER_WORKERS) $(1)/main.jsonl
	$(PAPER_BIN) msign-study --out $(1)/msign.csv $(2) > /dev/null
	$(PAPER_BIN) paper report --dir $(1) --report $(3) --plots $(4) --plots-link $(5) --msign-csv $(1)/msign.csv $(if $(wildcard $(PAPER_AUDIT)),--audit-dir $(PAPER_AUDIT)) $(2)
	@echo "report: $(3)"
endef
