# chromereaper: see README.md.  `make` builds build/libchromereaper.so and
# build/chromereaper; `make test` and `make demo` install what is missing first.

CC      ?= cc
BUILD   := build
CFLAGS  := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -fvisibility=hidden -fPIC -Ilib
LDFLAGS :=
PREFIX  ?= /usr/local
DESTDIR ?=

LIB_SRC     := $(wildcard lib/*.c)
SHIM_SRC    := $(wildcard shim/*.c)
REAPER_SRC  := $(wildcard reaper/*.c)
FIXTURE_SRC := $(wildcard tests/fixtures/*.c)
TEST_SRC    := $(wildcard tests/support/*.c tests/unit/*.c tests/shim/*.c tests/reaper/*.c tests/e2e/*.c)
UNIT_SRC    := $(wildcard tests/support/*.c tests/unit/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# the shim and the fixtures link a copy of lib/ never sanitized (see SANITIZE)
PLAIN_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/plainlib/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o)
REAPER_OBJ := $(REAPER_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
FIXTURES := $(FIXTURE_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)

SHIM    := $(BUILD)/libchromereaper.so
REAPER  := $(BUILD)/chromereaper
TESTS   := $(BUILD)/tests/chromereaper-tests

# Sanitizers (ASan+UBSan).  `make test` builds everything a second time
# with SANITIZE=1 into $(BUILD)/asan-full and runs the whole suite there:
# lib/, the reaper, the fixtures and the tests sanitized.  The shim is the
# exception: an ASan runtime must come first in the link map of every
# program it is part of, and the shim is preloaded into programs (python3,
# chromedriver, chromium) that are not built with it; it is built plain,
# with its own plain copy of lib/.  So are the fixtures: they are hosts of
# the shim, and start children with bare environments (no ASAN_OPTIONS to
# relax the runtime's link-order check).  The test binary, which loads no
# shim, runs with ASAN_OPTIONS=verify_asan_link_order=0 since some of its
# children inherit both.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_TESTS := $(BUILD)/asan/chromereaper-unit-tests
SANITIZE  ?=
SAN       := $(if $(SANITIZE),$(SAN_FLAGS))
ASAN_FULL := $(BUILD)/asan-full
ASAN_RUN  := ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1

CRITERION_LIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
TEST_DEFS := -DCR_BUILD_DIR='"$(abspath $(BUILD))"' -DCR_SOURCE_DIR='"$(abspath .)"'
TEST_JOBS ?= 2

.PHONY: all deps test test-programs unit-asan demo clean install uninstall bench fuzz fuzz-seeds valgrind
all: $(SHIM) $(REAPER)

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -MMD -MP -c $< -o $@

# The shim and its copy of lib/ make their hot system calls directly
# (lib/sysio.h, shim/rawsys.h).
$(BUILD)/obj/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_DIRECT_SYSCALLS -MMD -MP -c $< -o $@

# shim/strings.c defines the string functions the library uses: the
# compiler must not turn its loops into calls to them.
$(BUILD)/obj/shim/strings.o: CFLAGS += -fno-builtin -fno-tree-loop-distribute-patterns

$(BUILD)/obj/plainlib/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_DIRECT_SYSCALLS -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -Itests/support -Ireaper $(TEST_DEFS) -MMD -MP -c $< -o $@

# Only the wrapped libc functions are exported (shim/exports.map).  Bound
# lazily (no -z now): every program that loads the library would otherwise
# resolve all of its ~60 imports at start (~29k instructions in /bin/true);
# lazily, a program binds the few its constructor calls, and a fork child
# inherits them bound (the paths it runs before its exec call nothing its
# parent did not: shim/env.c).  Laid out by $(SHIM_LDS) where the linker's
# default script can be had (shim/link_layout.awk says why), else by the
# default script itself.
SHIM_LDS := $(BUILD)/shim.lds
$(SHIM_LDS): shim/link_layout.awk
	@mkdir -p $(@D)
	@if $(CC) -shared -Wl,--verbose -x c /dev/null -o $@.so 2>/dev/null | awk -f shim/link_layout.awk > $@.tmp; \
	then mv $@.tmp $@; else rm -f $@.tmp; : > $@; fi; rm -f $@.so

$(SHIM): $(SHIM_OBJ) $(PLAIN_LIB_OBJ) shim/exports.map $(SHIM_LDS)
	@mkdir -p $(@D)
	$(CC) -shared $$(test -s $(SHIM_LDS) && echo -Wl,-T,$(SHIM_LDS)) -Wl,--version-script=shim/exports.map \
		-o $@ $(PLAIN_LIB_OBJ) $(SHIM_OBJ) -ldl

$(REAPER): $(REAPER_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(SAN) -o $@ $^

$(BUILD)/fixtures/%: tests/fixtures/%.c $(PLAIN_LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/support -o $@ $^ -lpthread

# static_*.c fixtures are linked -static: LD_PRELOAD means nothing to them.
$(BUILD)/fixtures/static_%: tests/fixtures/static_%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<

# The Go launcher (tests/fixtures/go/): Chrome started the way Go's os/exec
# starts programs, with raw system calls.  Built with cgo (libc loads the
# shim into it) and static (CGO_ENABLED=0: it ignores LD_PRELOAD).  The Go
# build cache stays in the build tree.
GO_SRC      := $(wildcard tests/fixtures/go/*.go tests/fixtures/go/go.mod)
GO_LAUNCHER := $(BUILD)/fixtures/go_launcher_cgo $(BUILD)/fixtures/go_launcher_static
GO_ENV       = GOCACHE=$(abspath $(BUILD))/go-cache GOFLAGS=-trimpath GOTOOLCHAIN=local

$(BUILD)/fixtures/go_launcher_cgo: $(GO_SRC)
	@mkdir -p $(@D)
	cd tests/fixtures/go && $(GO_ENV) CGO_ENABLED=1 go build -o $(abspath $@) .

$(BUILD)/fixtures/go_launcher_static: $(GO_SRC)
	@mkdir -p $(@D)
	cd tests/fixtures/go && $(GO_ENV) CGO_ENABLED=0 go build -o $(abspath $@) .

# the reaper's pure decisions, tested as tables (dirpolicy in the unit
# suite; leak, human and browserexe in tests/reaper/test_leak.c; launcher
# in tests/reaper/test_launcher.c; pidlist in tests/reaper/test_pidlist.c; the circuit breaker and the leak gate in
# tests/reaper/test_breaker_rules.c; pidns in tests/reaper/test_pidns_judge.c; the
# reap's pin and record rules in tests/reaper/test_reaprules.c; the process table in
# tests/reaper/test_proctable.c)
TESTED_REAPER_OBJ := $(addprefix $(BUILD)/obj/reaper/,dirpolicy.o leak.o human.o browserexe.o launcher.o log.o pidlist.o \
                                                 reaprules.o proctable.o pidfd.o \
                                                 session_limits.o leakrule.o pidns.o)

$(TESTS): $(TEST_OBJ) $(LIB_OBJ) $(TESTED_REAPER_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(CRITERION_LIBS) -lpthread

# Fixtures that play the browser stack run under its programs' real file
# names (the reaper classifies by /proc/<pid>/exe): hard links F.d/NAME of
# fixture F (tests/fixtures/fx_realname.h).
FIXTURE_LINKS := fake_chromium:chromium fake_chromium:chrome_crashpad_handler bench_tree:chromium \
                 dirs_browser:chromium rounds_bot:chromedriver
define fixture_link
$(BUILD)/fixtures/$(1).d/$(2): $(BUILD)/fixtures/$(1)
	@mkdir -p $$(@D)
	@ln -f $$< $$@
endef
$(foreach l,$(FIXTURE_LINKS),$(eval $(call fixture_link,$(word 1,$(subst :, ,$(l))),$(word 2,$(subst :, ,$(l))))))
FIXTURE_LINK_FILES := $(foreach l,$(FIXTURE_LINKS),$(BUILD)/fixtures/$(subst :,.d/,$(l)))

# everything `make test` runs, in this build directory
test-programs: all $(FIXTURES) $(FIXTURE_LINK_FILES) $(GO_LAUNCHER) $(TESTS)

$(SAN_TESTS): $(UNIT_SRC) $(LIB_SRC) $(wildcard lib/*.h tests/support/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/support $(TEST_DEFS) -o $@ $(UNIT_SRC) $(LIB_SRC) $(CRITERION_LIBS) -lpthread

# The unit suite again, without sanitizers, under valgrind memcheck
# (scripts/valgrind-unit.sh says how): make valgrind, and quietly inside
# make test.  VG_JOBS workers at a time: each one is a valgrind start-up.
VG_TESTS := $(BUILD)/valgrind/chromereaper-unit-tests
VG_JOBS  ?= $(TEST_JOBS)

$(VG_TESTS): $(UNIT_SRC) $(LIB_SRC) $(wildcard lib/*.h tests/support/*.h tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/support $(TEST_DEFS) -o $@ $(UNIT_SRC) $(LIB_SRC) $(CRITERION_LIBS) -lpthread

valgrind: $(VG_TESTS)
	@scripts/valgrind-unit.sh $(VG_TESTS) $(VG_JOBS) $(BUILD)/valgrind/logs

# The whole suite under ASan+UBSan first, then the unit suite under
# valgrind (one summary line), the plain full suite last: its Criterion
# summary is the last line `make test` prints (scripts/suite.sh names the
# failed tests again just before it).
test: deps
	@$(MAKE) --no-print-directory -s test-programs
	@$(MAKE) --no-print-directory -s BUILD=$(ASAN_FULL) SANITIZE=1 test-programs
	@$(ASAN_RUN) scripts/suite.sh $(ASAN_FULL)/tests/chromereaper-tests --jobs=$(TEST_JOBS) --short-filename
	@$(MAKE) --no-print-directory -s valgrind
	@scripts/suite.sh $(TESTS) --jobs=$(TEST_JOBS) --short-filename

# the unit suite alone under ASan+UBSan, quick to iterate on
unit-asan: $(SAN_TESTS)
	@$(SAN_TESTS) --jobs=$(TEST_JOBS) --short-filename

# make fuzz: the libFuzzer harness over the registry parser and the plan
# builder (fuzz/fuzz_registry.c; clang with libFuzzer, ASan and UBSan).  It
# replays fuzz/regressions/, then fuzzes for FUZZ_SECONDS from the seeds in
# fuzz/corpus/.  What it writes stays in build/fuzz/: new corpus entries in
# build/fuzz/corpus/, crash reproducers as build/fuzz/crash-*.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_FLAGS   := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -Ilib -Ireaper -Ifuzz \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC     := fuzz/fuzz_registry.c $(LIB_SRC) $(addprefix reaper/,session.c reap.c rounds.c proctable.c rmtree.c \
                dirpolicy.c dirseen.c dirusers.c dirsize.c reap_dirs.c pidfd.c reaprules.c pidns.c)
FUZZ_BIN     := $(BUILD)/fuzz/fuzz_registry
FUZZ_REGRESSIONS := $(wildcard fuzz/regressions/*)

$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard fuzz/*.h lib/*.h reaper/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_SRC)

$(BUILD)/fuzz/make_seeds: fuzz/make_seeds.c $(LIB_SRC) $(wildcard fuzz/*.h lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ifuzz -o $@ fuzz/make_seeds.c $(LIB_SRC)

# As root the harness runs in a PID namespace of its own: the plan builder
# reads all of /proc for every input, and there it holds six processes
# (about 20 times the executions per second here).
FUZZ_WRAP ?= $(shell [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && echo unshare --pid --fork --mount-proc)

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory -s $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus
	$(if $(FUZZ_REGRESSIONS),$(FUZZ_WRAP) $(FUZZ_BIN) $(FUZZ_REGRESSIONS))
	$(FUZZ_WRAP) $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 -dict=fuzz/registry.dict \
	    -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus fuzz/corpus

# rewrites fuzz/corpus/ (the committed seeds) from fuzz/make_seeds.c
fuzz-seeds: $(BUILD)/fuzz/make_seeds
	@mkdir -p fuzz/corpus
	$(BUILD)/fuzz/make_seeds fuzz/corpus

demo: deps
	@$(MAKE) --no-print-directory -s all
	@scripts/demo.sh

# make bench: measurements, not gates (see docs/BENCHMARKS.md).  Bench-only
# programs live in bench/ and build into build/bench/.
BENCH_PROGS := $(addprefix $(BUILD)/bench/,forkloop abloop append ns_init oracle_kill floor_kill)
BENCH_EMPTY := $(BUILD)/bench/libempty.so
BENCH_MIN_RECORDER := $(BUILD)/bench/libminrecorder.so
MIN_RECORDER_OBJ := $(BUILD)/obj/bench/min_recorder.o $(BUILD)/obj/shim/strings.o \
	$(addprefix $(BUILD)/obj/plainlib/lib/,registry.o regguard.o safestr.o role.o procfs.o)

$(BENCH_EMPTY): bench/empty_preload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -o $@ $<

# B1's floor under the design, its records made as the shim makes them:
# the same direct system calls (shim/rawsys.h, lib/sysio.h) and string
# functions (shim/strings.c: no page of libc's text, no lazy binding, in a
# fork child)
$(BUILD)/obj/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_DIRECT_SYSCALLS -Ishim -MMD -MP -c $< -o $@

$(BENCH_MIN_RECORDER): $(BUILD)/obj/bench/min_recorder_preload.o $(MIN_RECORDER_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-z,defs -o $@ $^ -ldl

# abloop's floor arm records with the same code (and lib/ as it links it)
$(BUILD)/bench/abloop: $(BUILD)/obj/bench/min_recorder.o $(BUILD)/obj/shim/strings.o

$(BUILD)/bench/%: bench/%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -ldl

# floor_kill checks identity as the reaper does, with its pidfd calls
$(BUILD)/bench/floor_kill: $(BUILD)/obj/reaper/pidfd.o
$(BUILD)/bench/floor_kill: CFLAGS += -Ireaper

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory -s all $(BUILD)/fixtures/bench_tree $(BUILD)/fixtures/bench_tree.d/chromium \
		$(BENCH_PROGS) $(BENCH_EMPTY) $(BENCH_MIN_RECORDER)
	@bench/run.sh

# make install / make uninstall [PREFIX=/usr/local] [DESTDIR=]: the CLI, the
# library, the man pages and the bash completion (scripts/install.sh).
install: all
	@DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' scripts/install.sh install $(BUILD)

uninstall:
	@DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' scripts/install.sh uninstall $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
