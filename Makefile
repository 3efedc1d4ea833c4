# LionMuon reference: build, test, run.
#   make          the tool ./lionmuon and the library liblionmuon.a
#   make run      install what is missing, build, run the main job (built-in defaults)
#   make test     install what is missing, build, run the whole test suite
#
# Layers (one folder each; a layer includes only the layers below it, which
# `make check-layout` enforces):
#   src/core   errors, linear algebra, msign, optimizers, safetensors, statistics
#   src/model  the transformer, data, training        (core)
#   src/synth  objectives, noise, measurement, bounds (core)
#   src/tools  sweep and bench                        (core, model, synth)
#   experiments/paper, experiments/synth: the drivers of `paper` and
#              `synth-check`                          (core, model, synth, tools)
#   src/cli    the flag parser, one file per subcommand, main (everything)
# liblionmuon.a holds core, model and synth (public headers in
# include/lionmuon/); the tool links tools, experiments and cli on top.
CC      ?= cc
PYTHON  ?= /usr/bin/python3
CFLAGS  ?= -O2 -g
PKGS     = openblas lapacke gsl jansson
# gsl.pc names its own CBLAS (-lgslcblas); OpenBLAS provides CBLAS here.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(filter-out -lgslcblas,$(shell pkg-config --libs $(PKGS) 2>/dev/null))
CPPFLAGS_LM = -Iinclude -Isrc -I. -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(PKG_CFLAGS)
WFLAGS      = -std=c11 -Wall -Wextra -Wno-unused-parameter
ALL_CFLAGS  = $(CFLAGS) $(WFLAGS) -fopenmp $(CPPFLAGS_LM)
LDLIBS      = $(PKG_LIBS) -lm
LDFLAGS    += -fopenmp

# Debian packages: to build and run, and additionally to test.
DEPS_RUN  = gcc make pkg-config libgsl-dev liblapacke-dev libopenblas-dev libjansson-dev \
            gnuplot-nox
DEPS_TEST = $(DEPS_RUN) g++ libcriterion-dev python3-numpy python3-torch \
            libopenmpi-dev openmpi-bin $(DEPS_HARDEN)

LIB_SRC   = $(wildcard src/core/*.c src/model/*.c src/synth/*.c)
TOOL_SRC  = $(filter-out src/cli/main.c,$(wildcard src/tools/*.c src/cli/*.c \
              experiments/paper/*.c experiments/synth/*.c))
TEST_SRC  = $(wildcard tests/test_*.c)
OBJ       = build/obj
LIB_OBJ   = $(LIB_SRC:%.c=$(OBJ)/%.o)
TOOL_OBJ  = $(TOOL_SRC:%.c=$(OBJ)/%.o)
TEST_OBJ  = $(TEST_SRC:%.c=$(OBJ)/%.o)

.PHONY: all run test deps deps-test clean check-unit check-cli check-layout
all: lionmuon liblionmuon.a

# Object rules for one build flavour: $(1) build dir, $(2) compiler, $(3) flags.
# -MMD -MP: each object's header dependencies, read back below.
define object_rules
$(1)/%.o: %.c
	@mkdir -p $$(@D)
	$(2) $(3) -MMD -MP -c -o $$@ $$<
endef
$(eval $(call object_rules,$(OBJ),$(CC),$(ALL_CFLAGS)))
-include $(shell find build -name '*.d' 2>/dev/null)

liblionmuon.a: $(LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^
build/libtool.a: $(TOOL_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

# `make MPI=1` builds ./lionmuon with Open MPI (mpicc, -DLM_MPI) from objects
# in build/mpi/; the default build needs no MPI.  .buildmode records which
# one ./lionmuon is, so switching rebuilds it.
BUILD_MODE := $(if $(filter 1,$(MPI)),mpi,plain)
$(shell [ "$$(cat .buildmode 2>/dev/null)" = "$(BUILD_MODE)" ] || echo $(BUILD_MODE) > .buildmode)
ifeq ($(BUILD_MODE),mpi)
lionmuon: build/mpi/lionmuon .buildmode
	cp build/mpi/lionmuon $@
else
lionmuon: $(OBJ)/src/cli/main.o build/libtool.a liblionmuon.a .buildmode
	$(CC) $(LDFLAGS) -o $@ $(OBJ)/src/cli/main.o build/libtool.a liblionmuon.a $(LDLIBS)
endif

MPICC   ?= mpicc
MPI_OBJ  = $(patsubst %.c,build/mpi/%.o,$(LIB_SRC) $(TOOL_SRC) src/cli/main.c)
$(eval $(call object_rules,build/mpi,$(MPICC),$(ALL_CFLAGS) -DLM_MPI))
build/mpi/lionmuon: $(MPI_OBJ)
	$(MPICC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
.PHONY: mpi
mpi: build/mpi/lionmuon

tests/run_tests: $(TEST_OBJ) build/libtool.a liblionmuon.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) build/libtool.a liblionmuon.a -lcriterion $(LDLIBS)

deps:
	@sh scripts/deps.sh $(DEPS_RUN)
deps-test:
	@sh scripts/deps.sh $(DEPS_TEST)

# The main job on built-in defaults: the msign / optimizer demonstration,
# then the default training run (GPT-2 + LionMuon on the built-in corpus).
run: deps
	$(MAKE) all
	./lionmuon demo
	./lionmuon train --out results/train

# The whole test suite: the layout check, unit and command-line tests, then
# the same under AddressSanitizer + UBSan, then a short run of every fuzz
# target.
test: deps-test
	$(MAKE) check-layout
	$(MAKE) all tests/run_tests
	sh tests/run_all.sh
	$(MAKE) sanitize fuzz-smoke
	@echo "sanitizer and fuzz stages passed"
	@cat build/tally.txt

# Upward includes, dangling references to documents, over-long functions
# (tests/layout_check.py), and a self-test that a wrong include is caught.
check-layout:
	$(PYTHON) tests/layout_check.py
	$(PYTHON) tests/layout_check.py --self-test

check-unit: tests/run_tests lionmuon
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ./tests/run_tests --jobs 2

# Every tests/cli_*.sh script drives ./lionmuon and prints "N passed, N failed".
check-cli: lionmuon
	@for f in tests/cli_*.sh; do [ $$f = tests/cli_lib.sh ] && continue; \
	    echo "== $$f"; sh $$f || exit 1; done

# Experiment and benchmark targets live beside their code, one .mk per area;
# the hardening targets (sanitizers, fuzzing) beside the tests.
-include experiments/*.mk experiments/*/*.mk
-include tests/*.mk

clean:
	rm -rf lionmuon liblionmuon.a tests/run_tests build .buildmode
