# LionMuon reference: build, test, run.
#   make          the tool ./lionmuon and the library liblionmuon.a
#   make run      install what is missing, build, run the main job (built-in defaults)
#   make test     install what is missing, build, run the whole test suite
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Wno-unused-parameter -fopenmp \
           -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
           -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS  = -llapacke -lopenblas -lgsl -ljansson -lm
LDFLAGS += -fopenmp

# Debian packages: to build and run, and additionally to test.
DEPS_RUN  = gcc make libgsl-dev liblapacke-dev libopenblas-dev libjansson-dev gnuplot-nox
DEPS_TEST = $(DEPS_RUN) g++ libcriterion-dev python3-numpy python3-torch \
            libopenmpi-dev openmpi-bin $(DEPS_HARDEN)

LIB_SRC  = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  = $(LIB_SRC:.c=.o)
HDRS     = $(wildcard src/*.h)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_OBJ = $(TEST_SRC:.c=.o)

.PHONY: all run test deps deps-test clean check-unit check-cli
all: lionmuon liblionmuon.a

liblionmuon.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# `make MPI=1` builds ./lionmuon with Open MPI (mpicc, -DLM_MPI) from objects
# in build/mpi/; the default build needs no MPI.  .buildmode records which
# one ./lionmuon is, so switching rebuilds it.
BUILD_MODE := $(if $(filter 1,$(MPI)),mpi,plain)
$(shell [ "$$(cat .buildmode 2>/dev/null)" = "$(BUILD_MODE)" ] || echo $(BUILD_MODE) > .buildmode)
ifeq ($(BUILD_MODE),mpi)
lionmuon: build/mpi/lionmuon .buildmode
	cp build/mpi/lionmuon $@
else
lionmuon: src/main.o liblionmuon.a .buildmode
	$(CC) $(LDFLAGS) -o $@ src/main.o liblionmuon.a $(LDLIBS)
endif

MPICC   ?= mpicc
MPI_OBJ  = $(patsubst src/%.c,build/mpi/%.o,$(wildcard src/*.c))
build/mpi/%.o: src/%.c $(HDRS)
	@mkdir -p build/mpi
	$(MPICC) $(CFLAGS) -DLM_MPI -c -o $@ $<
build/mpi/lionmuon: $(MPI_OBJ)
	$(MPICC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
.PHONY: mpi
mpi: build/mpi/lionmuon

src/%.o: src/%.c $(HDRS)
	$(CC) $(CFLAGS) -c -o $@ $<

tests/%.o: tests/%.c $(HDRS) tests/testutil.h
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

tests/run_tests: $(TEST_OBJ) liblionmuon.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) liblionmuon.a -lcriterion $(LDLIBS)

deps:
	@sh src/deps.sh $(DEPS_RUN)
deps-test:
	@sh src/deps.sh $(DEPS_TEST)

# The main job on built-in defaults: the msign / optimizer demonstration,
# then the default training run (GPT-2 + LionMuon on the built-in corpus).
run: deps
	$(MAKE) all
	./lionmuon demo
	./lionmuon train --out results/train

# The whole test suite: unit tests (Criterion), then the command-line tests.
# The whole test suite: unit and command-line tests, then the same under
# AddressSanitizer + UBSan, then a short run of every fuzz target.
test: deps-test
	$(MAKE) all tests/run_tests
	sh tests/run_all.sh
	$(MAKE) sanitize fuzz-smoke
	@echo "sanitizer and fuzz stages passed"
	@cat build/tally.txt

check-unit: tests/run_tests lionmuon
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ./tests/run_tests --jobs 2

# Every tests/cli_*.sh script drives ./lionmuon and prints "N passed, N failed".
check-cli: lionmuon
	@for f in tests/cli_*.sh; do [ $$f = tests/cli_lib.sh ] && continue; \
	    echo "== $$f"; sh $$f || exit 1; done

# Experiment and benchmark targets live beside their code, one .mk per area;
# the hardening targets (sanitizers, fuzzing) beside the tests.
-include experiments/*.mk
-include tests/*.mk

clean:
	rm -rf src/*.o tests/*.o lionmuon liblionmuon.a tests/run_tests build .buildmode
