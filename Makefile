# switchyard: `make help` lists the targets.
# Sources are found by wildcard: a new .c under core/, peers/, sim/ or tests/ needs no edit here.

CC      ?= cc
BUILD   ?= build
PKGS    := libevent libosip2 sqlite3 openssl libpcap libxxhash
OPT     ?= -O2
# -ffp-contract=off: no fused multiply-add, so gcc and clang builds compute the
# simulator's few floating-point draws bit for bit alike (tests/golden/).
CFLAGS  += -std=c17 $(OPT) -g -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -losipparser2 -lhttp_parser -lm $(EXTRA_LDLIBS)

CORE_SRC := $(shell find core -name '*.c' -not -path 'core/live/*' | sort)
LIVE_SRC := $(shell find core/live -name '*.c' | sort)
SIM_SRC  := $(shell find sim -name '*.c' | sort)
PEERS_SRC:= $(shell find peers -name '*.c' | sort)
CMD_SRC  := $(shell find cmd -name '*.c' -not -path 'cmd/load/*' | sort)
TEST_SRC := $(shell find tests -name 'test_*.c' | sort)
BENCH_SRC:= $(shell find bench -name '*.c' | sort)
TESTLIB_SRC := $(shell find tests -name '*.c' -not -name 'test_*.c' -not -path 'tests/lint/*' | sort)

# Objects depend on the compiler and flags they were built with: `make CC=clang`
# after a gcc build (or OPT=-O0, EXTRA_CFLAGS=...) rebuilds instead of mixing.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(CFLAGS) $(LDLIBS)
$(shell mkdir -p $(BUILD) && { [ -f $(FLAGS_STAMP) ] && [ "$$(cat $(FLAGS_STAMP))" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' >$(FLAGS_STAMP); })

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

CORE_LIB := $(BUILD)/libsycore.a
LIVE_LIB := $(BUILD)/libsylive.a
SIM_LIB  := $(BUILD)/libsysim.a
PEERS_LIB:= $(BUILD)/libsypeers.a
BIN      := $(BUILD)/switchyard
# The live peers alone (load, carriers): no simulator linked (tests/it_layering.sh).
LOAD_BIN := $(BUILD)/switchyard-load
LOAD_OBJ := $(call obj,cmd/load/main.c cmd/peers.c cmd/replay.c cmd/load_ussd.c)
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
ALL_LIBS := $(SIM_LIB) $(PEERS_LIB) $(LIVE_LIB) $(CORE_LIB)

.SECONDARY:
# ---- performance gate (ci/perf-gate, docs/perf-gate.md) ----
# Instructions per operation under callgrind against bench/baseline.json;
# fails when a figure is more than 3% worse. perf-baseline rewrites the
# baseline (say why in the commit). $(BUILD)/perf-slow/rating is bench/rating
# with a calibrated busy loop in the rating path, for tests/it_perf_gate.sh.
PERF_SLOWDOWN ?= 14
.PHONY: perf-gate perf-baseline
perf-gate: $(BIN) $(BUILD)/bench/rating $(BUILD)/bench/fraud_detect
	ci/perf-gate --build $(BUILD)
perf-baseline: $(BIN) $(BUILD)/bench/rating $(BUILD)/bench/fraud_detect
	ci/perf-gate --build $(BUILD) --write --repeat 2
$(BUILD)/perf-slow/rating: bench/rating.c core/billing/rate.c $(ALL_LIBS) Makefile
	@mkdir -p $(dir $@)
	@echo "  LD      $@ (SY_PERF_GATE_SLOWDOWN=$(PERF_SLOWDOWN))"
	@$(CC) $(CFLAGS) -DSY_PERF_GATE_SLOWDOWN=$(PERF_SLOWDOWN) -o $@ bench/rating.c core/billing/rate.c $(ALL_LIBS) $(LDLIBS)

.PHONY: golden all test test-fast asan asan-build tests-built bench lint clean help deps format demo
all: $(BIN) $(LOAD_BIN)

help:
	@echo "make            build $(BIN) and $(LOAD_BIN) (load, carriers without the simulator)"
	@echo "make demo       run the demo scenario in the simulator and print its report"
	@echo "make test       lint, unit tests and integration tests under ASan+UBSan (prints 'N passed, N failed')"
	@echo "make test-fast  the same without sanitizers"
	@echo "make asan       build everything with ASan+UBSan into build/asan"
	@echo "make bench      benchmarks; JSON lines, appended to bench/results.jsonl"
	@echo "make perf-gate  instructions per call/SMS/step/CDR/decision (callgrind) against bench/baseline.json"
	@echo "make perf-baseline  rewrite bench/baseline.json from this build (say why in the commit)"
	@echo "make lint       the determinism boundary and layering check (ci/lint), and its self-test"
	@echo "make golden     rewrite tests/golden/*.digest from this build (say why in the commit)"
	@echo "make deps       install missing Debian packages (ci/install-deps.sh)"
	@echo "make format     clang-format every source file"
	@echo "make fuzz       build the libFuzzer harnesses (clang) into build/fuzz and run each FUZZ_SECONDS (30)"
	@echo "make fuzz-merge minimise what fuzzing found (build/fuzz/corpus) into fuzz/corpus/"

deps:
	ci/install-deps.sh

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(CORE_LIB): $(call obj,$(CORE_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIVE_LIB): $(call obj,$(LIVE_SRC))
	@rm -f $@; ar rcs $@ $^
$(SIM_LIB): $(call obj,$(SIM_SRC))
	@rm -f $@; ar rcs $@ $^
$(PEERS_LIB): $(call obj,$(PEERS_SRC))
	@rm -f $@; ar rcs $@ $^

$(BIN): $(call obj,$(CMD_SRC)) $(ALL_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(call obj,$(CMD_SRC)) $(ALL_LIBS) $(LDLIBS)

$(LOAD_BIN): $(LOAD_OBJ) $(PEERS_LIB) $(LIVE_LIB) $(CORE_LIB)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(LOAD_OBJ) $(PEERS_LIB) $(LIVE_LIB) $(CORE_LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(call obj,$(TESTLIB_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(call obj,$(TESTLIB_SRC)) $(ALL_LIBS) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(ALL_LIBS) $(LDLIBS)

tests-built: $(BIN) $(LOAD_BIN) $(TESTS)

lint:
	ci/lint
	ci/lint --self-test

# The scenarios' golden digests are checked with the ASan build and with the
# gcc and clang release builds, so compiler, optimisation and sanitizers
# cannot change a run.
test: deps
	$(MAKE) --no-print-directory asan-build
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory CC=clang BUILD=build/clang all
	GOLDEN_BUILDS="$(BUILD) build/clang" ci/run-tests.sh build/asan

golden: $(BIN)
	tests/golden.sh write $(BIN)

test-fast: $(BIN) $(LOAD_BIN) $(TESTS)
	ci/run-tests.sh $(BUILD)

asan-build:
	$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDLIBS="-fsanitize=address,undefined" tests-built

asan: asan-build

bench: $(BIN) $(BENCHES)
	bench/run.sh $(BUILD)

demo: $(BIN)
	$(BIN) sim scenarios/demo.scn

format:
	clang-format -i $$(find core peers sim cmd tests bench -name '*.[ch]')

clean:
	rm -rf build

# ---- fuzzing (fuzz/, docs/fuzzing.md) ----
# fuzz/NAME_fuzz.c is a libFuzzer harness; fuzz/corpus/NAME/ its committed
# corpus. `make fuzz` builds every harness with clang's libFuzzer, ASan and
# UBSan into build/fuzz/ and runs each FUZZ_SECONDS; new inputs go to
# build/fuzz/corpus/NAME/ (`make fuzz-merge` minimises them into the
# committed corpus). With the normal compiler each harness is also linked
# with fuzz/replay_main.c into $(BUILD)/fuzz-replay/NAME, which
# tests/it_fuzz_corpus.sh runs over the corpus in `make test`.
FUZZ_SRC     := $(sort $(wildcard fuzz/*_fuzz.c))
FUZZ_NAMES   := $(patsubst fuzz/%_fuzz.c,%,$(FUZZ_SRC))
FUZZ_REPLAY  := $(patsubst %,$(BUILD)/fuzz-replay/%,$(FUZZ_NAMES))
FUZZ_BINS    := $(patsubst %,build/fuzz/%_fuzz,$(FUZZ_NAMES))
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_ONLY    ?= $(FUZZ_NAMES)
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
.PHONY: fuzz fuzz-build fuzz-merge

tests-built test-fast: $(FUZZ_REPLAY)
# The benchmark programs are built (not run) by make test, so an API change
# cannot leave `make bench` unable to build (it did: four of them, until issue 12).
tests-built test-fast: $(BENCHES)

$(BUILD)/fuzz-replay/%: $(BUILD)/obj/fuzz/%_fuzz.o $(BUILD)/obj/fuzz/replay_main.o $(call obj,$(TESTLIB_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

# Inside the fuzz build (BUILD=build/fuzz, CC=clang): the harness with libFuzzer's main.
$(BUILD)/%_fuzz: $(BUILD)/obj/fuzz/%_fuzz.o $(call obj,$(TESTLIB_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

fuzz-build:
	$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" EXTRA_LDLIBS="$(FUZZ_SAN)" $(FUZZ_BINS)

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_ONLY)

fuzz-merge: fuzz-build
	fuzz/run.sh merge $(FUZZ_ONLY)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
