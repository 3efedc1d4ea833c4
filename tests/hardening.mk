# hardening.mk - sanitizers, valgrind and fuzzing (issue 7).  Included by the
# Makefile (-include tests/*.mk); every object here lives under build/ so it
# never collides with the normal objects in build/obj/.
#
#   make sanitize     library, tool and Criterion suite built with ASan+UBSan
#                     into build/asan/, then the unit tests and every CLI
#                     script run against build/asan/lionmuon (leaks checked)
#   make valgrind     memcheck of each subcommand on small inputs
#   make fuzz         libFuzzer targets, FUZZ_SECONDS (60) each
#   make fuzz-smoke   the same, FUZZ_SMOKE_SECONDS (10) each, for CI
#   make fuzz-build   only build the targets
#
# Adding a fuzz target: write tests/fuzz/fuzz_NAME.c (LLVMFuzzerTestOneInput),
# seed tests/fuzz/corpus/NAME/, and add NAME to FUZZ_TARGETS below; add any
# library module it needs to FUZZ_LIB_SRC.  Adding a subcommand to valgrind:
# one line in tests/hardening.sh (valgrind_cases).

# Debian packages needed here beyond DEPS_TEST (the lead merges them in).
DEPS_HARDEN = clang libclang-rt-14-dev valgrind

HARD_DIR   = build/asan
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The normal flags (-O2 -g) plus the sanitizers: the same optimisation level
# as the normal build, so the same warnings (and no new ones).
SAN_CFLAGS = $(CFLAGS) $(SAN_FLAGS)

HARD_LIB_OBJ  = $(LIB_SRC:%.c=$(HARD_DIR)/%.o)
HARD_TOOL_OBJ = $(TOOL_SRC:%.c=$(HARD_DIR)/%.o)
HARD_TEST_OBJ = $(TEST_SRC:%.c=$(HARD_DIR)/%.o)

.PHONY: sanitize sanitize-build valgrind fuzz fuzz-smoke fuzz-build deps-harden

deps-harden:
	@sh scripts/deps.sh $(DEPS_TEST) $(DEPS_HARDEN)

$(eval $(call object_rules,$(HARD_DIR),$(CC),$(ALL_CFLAGS) $(SAN_FLAGS)))

$(HARD_DIR)/liblionmuon.a: $(HARD_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^
$(HARD_DIR)/libtool.a: $(HARD_TOOL_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(HARD_DIR)/lionmuon: $(HARD_DIR)/src/cli/main.o $(HARD_DIR)/libtool.a $(HARD_DIR)/liblionmuon.a
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(HARD_DIR)/run_tests: $(HARD_TEST_OBJ) $(HARD_DIR)/libtool.a $(HARD_DIR)/liblionmuon.a
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $(HARD_TEST_OBJ) $(HARD_DIR)/libtool.a \
	    $(HARD_DIR)/liblionmuon.a -lcriterion $(LDLIBS)

sanitize-build: $(HARD_DIR)/lionmuon $(HARD_DIR)/run_tests

sanitize: sanitize-build
	sh tests/hardening.sh sanitize $(HARD_DIR)

# Valgrind runs the normal (unsanitized) build.
valgrind: lionmuon
	sh tests/hardening.sh valgrind ./lionmuon

# ---- libFuzzer (Debian's clang) ---------------------------------------------

FUZZ_CC       = clang
FUZZ_DIR      = build/fuzz
FUZZ_TARGETS  = safetensors cli llmc step sweep ckptmeta
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
# The library modules the targets reach.  They are compiled without -fopenmp
# (clang's OpenMP wants libomp, which Debian's clang does not pull in): the
# pragmas are ignored and the loops run serially, and the few omp_* calls
# (thread counts) link against gcc's libgomp.
# (cmd_step takes train's routing names from src/model/train.c: the whole
# library is linked, core and model; the sweep target needs the sweep runner.)
FUZZ_LIB_SRC  = $(wildcard src/core/*.c src/model/*.c) src/cli/cli.c src/cli/cmd_step.c \
                src/cli/cmd_msign.c src/tools/sweep.c $(wildcard src/tools/sweep_*.c)
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -O1 -g $(WFLAGS) $(CPPFLAGS_LM) $(FUZZ_SAN)
FUZZ_LIB_OBJ  = $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS     = $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

$(eval $(call object_rules,$(FUZZ_DIR),$(FUZZ_CC),$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link))

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_targets.h $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS) -lgomp

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	sh tests/hardening.sh fuzz $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	sh tests/hardening.sh fuzz $(FUZZ_DIR) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# Keep the objects of both builds (they are intermediate to make's chains).
.SECONDARY: $(FUZZ_LIB_OBJ) $(HARD_LIB_OBJ) $(HARD_TOOL_OBJ) $(HARD_TEST_OBJ) \
            $(HARD_DIR)/src/cli/main.o
