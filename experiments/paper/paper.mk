# The paper's claims at CPU scale (issue: reproduce the paper's claims).
#   make paper        the full set: tuning, 5 seeds, report (about 30-45 min on 2 cores)
#   make paper-quick  the same pipeline on tiny models, 2 seeds (about a minute)
# Runs are single-threaded and two run at a time (lionmuon sweep); a killed
# sweep resumes where it stopped.  Results go to results/ (ignored by git);
# the report and figures to experiments/paper/REPORT.md and plots/paper/.
PAPER_DIR   ?= results/paper
PAPER_ENV    = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
PAPER_WORKERS ?= 2
PAPER_BIN ?= ./lionmuon

.PHONY: paper paper-quick
paper: lionmuon
	$(call paper_pipeline,$(PAPER_DIR),,experiments/paper/REPORT.md,plots/paper,../../plots/paper)

paper-quick: lionmuon
	$(call paper_pipeline,$(PAPER_DIR)-quick,--quick,$(PAPER_DIR)-quick/REPORT.md,$(PAPER_DIR)-quick/plots,plots)

# $(1) results dir, $(2) --quick or nothing, $(3) report, $(4) plots dir,
# $(5) the plots dir as the report links it.
# Tuning runs may diverge (a too-large factor): their failures are expected
# and the selection treats them as +inf, hence the `|| true`.
define paper_pipeline
	mkdir -p $(1)
	$(PAPER_BIN) paper manifest --stage tune --dir $(1) --manifest $(1)/tune.jsonl $(2)
	$(PAPER_ENV) $(PAPER_BIN) sweep --workers $(PAPER_WORKERS) $(1)/tune.jsonl || true
	$(PAPER_BIN) paper select --dir $(1) $(2)
	$(PAPER_BIN) paper manifest --stage main --dir $(1) --manifest $(1)/main.jsonl $(2)
	$(PAPER_ENV) $(PAPER_BIN) sweep --workers $(PAPER_WORKERS) $(1)/main.jsonl
	$(PAPER_BIN) msign-study --out $(1)/msign.csv $(2) > /dev/null
	$(PAPER_BIN) paper report --dir $(1) --report $(3) --plots $(4) --plots-link $(5) --msign-csv $(1)/msign.csv $(2)
	@echo "report: $(3)"
endef
