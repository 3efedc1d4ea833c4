# LionMuon reference: build, test, run.
#   make          the tool ./lionmuon, the libraries liblionmuon.a and
#                 build/liblionmuon.so, the man page and bash completion (build/)
#   make run      install what is missing, build, run the main job (built-in defaults)
#   make test     install what is missing, build, run the whole test suite
#   make install  PREFIX=/usr/local DESTDIR=: tool, libraries, headers,
#                 lionmuon.pc, man page, completion, the Python package
#
# Layers (one folder each; a layer includes only the layers below it, which
# `make check-layout` enforces):
#   src/core   errors, linear algebra, msign, optimizers, safetensors, statistics
#   src/model  the transformer, data, training        (core)
#   src/synth  objectives, noise, measurement, bounds (core)
#   src/api    the exported C API, lm_* (include/lionmuon/api.h)
#                                                     (core, model, synth)
#   src/tools  sweep and bench                        (core, model, synth)
#   experiments/paper, experiments/synth: the drivers of `paper` and
#              `synth-check`                          (core, model, synth, tools)
#   src/cli    the flag parser, one file per subcommand, main (everything)
# liblionmuon.a holds core, model, synth and api (public headers in
# include/lionmuon/); the tool links tools, experiments and cli on top.
# build/liblionmuon.so is the same sources compiled -fPIC
# -fvisibility=hidden (build/pic/): it exports the lm_* API of api.h only.
CC      ?= cc
PYTHON  ?= /usr/bin/python3
export PYTHON
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

LIB_SRC   = $(wildcard src/core/*.c src/model/*.c src/synth/*.c src/api/*.c)
TOOL_SRC  = $(filter-out src/cli/main.c,$(wildcard src/tools/*.c src/cli/*.c \
              experiments/paper/*.c experiments/synth/*.c))
TEST_SRC  = $(wildcard tests/test_*.c)
OBJ       = build/obj
LIB_OBJ   = $(LIB_SRC:%.c=$(OBJ)/%.o)
TOOL_OBJ  = $(TOOL_SRC:%.c=$(OBJ)/%.o)
TEST_OBJ  = $(TEST_SRC:%.c=$(OBJ)/%.o)

.PHONY: all run test deps deps-test clean check-unit check-cli check-layout install uninstall
all: lionmuon liblionmuon.a build/liblionmuon.so build/lionmuon.1 build/lionmuon.bash

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

# The shared library: real name liblionmuon.so.VERSION, soname
# liblionmuon.so.SOVERSION, and the two links to them.  -z defs: every
# symbol resolved at link time (the dependencies are recorded as NEEDED).
VERSION   := $(shell sed -n 's/^\#define LIONMUON_VERSION "\(.*\)"/\1/p' include/lionmuon/api.h)
SOVERSION  = 0
SO_NAME    = liblionmuon.so.$(SOVERSION)
SO_REAL    = liblionmuon.so.$(VERSION)
PIC        = build/pic
PIC_OBJ    = $(LIB_SRC:%.c=$(PIC)/%.o)
$(eval $(call object_rules,$(PIC),$(CC),$(ALL_CFLAGS) -fPIC -fvisibility=hidden))
build/$(SO_REAL): $(PIC_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SO_NAME) -Wl,-z,defs -o $@ $^ $(LDLIBS)
build/$(SO_NAME): build/$(SO_REAL)
	ln -sf $(SO_REAL) $@
build/liblionmuon.so: build/$(SO_NAME)
	ln -sf $(SO_NAME) $@

# The man page and the bash completion, generated from the tool's --help.
build/lionmuon.1: lionmuon scripts/gen_man.sh
	sh scripts/gen_man.sh ./lionmuon > $@.tmp && mv $@.tmp $@
build/lionmuon.bash: lionmuon scripts/gen_completion.sh
	sh scripts/gen_completion.sh ./lionmuon > $@.tmp && mv $@.tmp $@

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
# The builds run on every core (JOBS); the checks themselves one stage at a
# time, each stage spreading its own work.
JOBS ?= $(shell nproc)
test: deps-test
	$(MAKE) check-layout
	$(MAKE) -j$(JOBS) all tests/run_tests
	sh tests/run_all.sh
	$(MAKE) -j$(JOBS) sanitize-build fuzz-build
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

# ---- install ----------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=stage]: the tool, both libraries
# (with the soname links), the headers, lionmuon.pc (generated here with
# PREFIX), the man page, the bash completion and the Python package, whose
# _install.py records LIBDIR for finding liblionmuon.so.0.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PYTHONDIR   ?= $(PREFIX)/lib/python3/dist-packages
INSTALL     ?= install
# Debian's python3 searches /usr/lib/python3/dist-packages but, under
# /usr/local, /usr/local/lib/python3.X/dist-packages: with PREFIX=/usr/local
# pass PYTHONDIR=/usr/local/lib/python3.X/dist-packages (or set PYTHONPATH).
# pkg-config paths relative to ${prefix} when they lie under it, so that
# `pkg-config --define-prefix` relocates a staged (DESTDIR) copy.  GSL goes
# in Libs.private as -lgsl, not through gsl.pc, which would add -lgslcblas
# (OpenBLAS provides CBLAS, see PKG_LIBS).
pc_rel = $(if $(filter $(PREFIX)/%,$(1)),$${prefix}$(patsubst $(PREFIX)%,%,$(1)),$(1))

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/lionmuon \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(PYTHONDIR)/lionmuon
	$(INSTALL) -m 755 lionmuon $(DESTDIR)$(BINDIR)/lionmuon
	$(INSTALL) -m 644 liblionmuon.a $(DESTDIR)$(LIBDIR)/liblionmuon.a
	$(INSTALL) -m 755 build/$(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_REAL)
	ln -sf $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/liblionmuon.so
	$(INSTALL) -m 644 include/lionmuon/*.h $(DESTDIR)$(INCLUDEDIR)/lionmuon/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(call pc_rel,$(LIBDIR))' \
	    'includedir=$(call pc_rel,$(INCLUDEDIR))' '' 'Name: lionmuon' \
	    'Description: LionMuon CPU reference: exact msign, the LionMuon optimizer family, safetensors' \
	    'Version: $(VERSION)' 'URL: https://arxiv.org/abs/2605.19811' \
	    'Requires.private: openblas lapacke jansson' \
	    'Libs: -L$${libdir} -llionmuon' 'Libs.private: -lgsl -lm -fopenmp' \
	    'Cflags: -I$${includedir}' > $(DESTDIR)$(PKGCONFIGDIR)/lionmuon.pc
	$(INSTALL) -m 644 build/lionmuon.1 $(DESTDIR)$(MANDIR)/man1/lionmuon.1
	$(INSTALL) -m 644 build/lionmuon.bash $(DESTDIR)$(BASHCOMPDIR)/lionmuon
	$(INSTALL) -m 644 python/lionmuon/*.py $(DESTDIR)$(PYTHONDIR)/lionmuon/
	printf '%s\n' '"""Written by make install: where liblionmuon.so.$(SOVERSION) was installed."""' \
	    'LIBDIR = "$(LIBDIR)"' > $(DESTDIR)$(PYTHONDIR)/lionmuon/_install.py

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/lionmuon $(DESTDIR)$(LIBDIR)/liblionmuon.a \
	    $(DESTDIR)$(LIBDIR)/$(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME) \
	    $(DESTDIR)$(LIBDIR)/liblionmuon.so $(DESTDIR)$(PKGCONFIGDIR)/lionmuon.pc \
	    $(DESTDIR)$(MANDIR)/man1/lionmuon.1 $(DESTDIR)$(BASHCOMPDIR)/lionmuon
	rm -rf $(DESTDIR)$(INCLUDEDIR)/lionmuon $(DESTDIR)$(PYTHONDIR)/lionmuon

clean:
	rm -rf lionmuon liblionmuon.a tests/run_tests build .buildmode
