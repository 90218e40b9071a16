# ckptfs — GNU make build.
#
#   make            build ./ckptfs
#   make check      build, then run unit + end-to-end tests, also under ASan/UBSan
#   make bench      ckptfs, restic and borg side by side on a built project
#   make bench-scale  ckptfs alone at BENCH_SCALE=1 and 10
#   make bench-remote push / recover vs rclone copy
#   make bench-gc   gc on a 1,000-snapshot history, most snapshots deleted
#   make install    PREFIX=/usr/local DESTDIR=
#   make style      clang-format the C files changed since HEAD
#
# Sources are picked up by wildcard: a new store/foo.c joins libstore
# without editing this file.  Each tests/test_<name>.c is one cmocka binary.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
PKGS    := fuse3 sqlite3 libzstd libxxhash libsodium
TESTPKGS := cmocka

# Packages are installed only by the README's two entry points (`make demo`,
# `make check`, through the explicit `deps` step they run first) and by
# `make deps`.  Any other goal never touches the network: with a build
# dependency missing it says which packages and how to get them.
ENTRY_GOALS := deps demo check check-long clean distclean
ifeq ($(filter $(ENTRY_GOALS),$(MAKECMDGOALS)),)
MISSING_PKGS := $(shell scripts/install-deps.sh missing build 2>/dev/null)
ifneq ($(strip $(MISSING_PKGS)),)
$(error missing Debian packages: $(strip $(MISSING_PKGS)); `make deps` (or apt-get install them) first)
endif
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -Wvla
OPT     ?= -O2 -g
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
           -DFUSE_USE_VERSION=35 $(WARN) $(OPT) -MMD -MP -I. \
           $(shell pkg-config --cflags $(PKGS))
LIBS    := $(shell pkg-config --libs $(PKGS)) -lpthread
TESTLIBS := $(shell pkg-config --libs $(TESTPKGS))

# SANITIZE=address,undefined builds into build/san with the sanitizers on.
ifdef SANITIZE
BUILD   := build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT     := -O1 -g
else
BUILD   := build/out
SANFLAGS :=
endif
CFLAGS  := $(BASE_CFLAGS) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(SANFLAGS)

STORE_SRC   := $(sort $(wildcard store/*.c))
FS_SRC      := $(sort $(wildcard fs/*.c))
DUMPERS_SRC := $(sort $(wildcard dumpers/*.c))
CLI_SRC     := $(sort $(wildcard src/*.c))
TEST_SRC    := $(sort $(wildcard tests/test_*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIBSTORE   := $(BUILD)/libstore.a
LIBFS      := $(BUILD)/libfs.a
LIBDUMPERS := $(BUILD)/libdumpers.a
LIBCLI     := $(BUILD)/libcli.a
# Link order follows the dependency direction: src -> fs, dumpers -> store.
ALL_LIBS   := $(LIBCLI) $(LIBFS) $(LIBDUMPERS) $(LIBSTORE)
BIN        := $(if $(SANITIZE),$(BUILD)/ckptfs,ckptfs)
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: bench-history bench-remote bench-gc
.PHONY: all check unit e2e check-san check-long bench bench-scale install uninstall clean \
        distclean style fuzz fuzz-replay fuzz-bins fuzz-seeds demo demo-run deps test-deps
all: $(BIN)

# Keep objects of test binaries (make would delete them as intermediates).
.SECONDARY:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBSTORE): $(call obj,$(STORE_SRC))
$(LIBFS): $(call obj,$(FS_SRC))
$(LIBDUMPERS): $(call obj,$(DUMPERS_SRC))
# main.c holds main(); everything else in src/ is a library so tests link it.
$(LIBCLI): $(call obj,$(filter-out src/main.c,$(CLI_SRC)))
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(call obj,src/main.c) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(call obj,src/main.c) $(ALL_LIBS) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS) $(TESTLIBS)

# ---- tests ---------------------------------------------------------------
# Everything the tests and the demo drive (a superset of the build's needs).
deps: test-deps

test-deps:
	@scripts/install-deps.sh test

unit: $(TEST_BINS)
	@scripts/run-unit.sh $(TEST_BINS)

# Small C tools the end-to-end tests run (tests/tools/<name>.c), and the
# fault shim (below); defined before e2e, whose prerequisites use them.
FAULTLIB := $(BUILD)/tests/fault/libfaultinject.so
MKHOSTILE := $(BUILD)/tests/tools/mkhostile
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBSTORE)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

e2e: $(BIN) $(FAULTLIB) $(MKHOSTILE) test-deps
	@CKPTFS=$(abspath $(BIN)) CKPTFS_FAULTLIB=$(abspath $(FAULTLIB)) \
		CKPTFS_MKHOSTILE=$(abspath $(MKHOSTILE)) scripts/run-e2e.sh

check-san:
	$(MAKE) SANITIZE=address,undefined unit fuzz-replay e2e

# The README's test command: everything, plain and under sanitizers.  The
# sub-makes parse the Makefile again, after deps installed what was missing.
check: deps
	$(MAKE) unit fuzz-replay e2e
	$(MAKE) check-san

check-long: deps
	CKPTFS_LONG=1 $(MAKE) check

bench: $(BIN) $(BUILD)/tests/bench_history
	@scripts/install-deps.sh bench
	@CKPTFS=$(abspath $(BIN)) scripts/bench.sh
	@CKPTFS=$(abspath $(BIN)) BENCH_HISTORY_BIN=$(abspath $(BUILD)/tests/bench_history) \
		scripts/bench-history.sh

# Offsite copies: push, incremental push, recover vs rclone copy (issue 13).
bench-remote: $(BIN)
	@scripts/install-deps.sh test
	@CKPTFS=$(abspath $(BIN)) scripts/bench-remote.sh

# History lookups alone (versions, search, @versions, diff): see the script.
bench-history: $(BIN) $(BUILD)/tests/bench_history
	@scripts/install-deps.sh bench
	@CKPTFS=$(abspath $(BIN)) BENCH_HISTORY_BIN=$(abspath $(BUILD)/tests/bench_history) \
		scripts/bench-history.sh

# gc on a long history: GC_SNAPS (1000) snapshots, most forgotten, then gc
# (wall time, peak RSS, MiB/s rewritten, size after vs live): see the script.
bench-gc: $(BIN) $(BUILD)/tests/bench_gchist
	@scripts/install-deps.sh bench
	@CKPTFS=$(abspath $(BIN)) BENCH_GCHIST_BIN=$(abspath $(BUILD)/tests/bench_gchist) \
		scripts/bench-gc.sh

# The scale run: ckptfs alone at BENCH_SCALE=1 and 10 (~30,000 and ~300,000
# files): first snapshot, re-snap, mount find, restore, peak RSS.
bench-scale: $(BIN)
	@scripts/install-deps.sh bench
	@for s in 1 10; do \
		CKPTFS=$(abspath $(BIN)) BENCH_SCALE=$$s BENCH_PHASES=scale BENCH_TOOLS=ckptfs \
			scripts/bench.sh || exit 1; \
	done

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: $(BIN)
	@CKPTFS=$(abspath $(BIN)) scripts/demo.sh

# ---- reliability: fault injection shim (tests/fault) ------------------------
# Never sanitized (it is preloaded into the binary under test), and built
# without _FILE_OFFSET_BITS=64 so it can define both pwrite and pwrite64.
$(FAULTLIB): tests/fault/faultinject.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

# ---- reliability: fuzz targets (tests/fuzz) --------------------------------
# Each tests/fuzz/fuzz_<name>.c is linked two ways: replay_<name> (the
# normal compiler, run over the committed corpus by `make check`) and, in
# build/fuzz with clang, lf_<name> (libFuzzer + ASan/UBSan, `make fuzz`).
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(patsubst %,$(BUILD)/tests/fuzz/replay_%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang-14

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(LIBDUMPERS) $(LIBSTORE)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/tests/fuzz/lf_%: $(BUILD)/tests/fuzz/fuzz_%.o $(LIBDUMPERS) $(LIBSTORE)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz-replay: $(FUZZ_REPLAY)
	@tests/fuzz/run.sh replay $(BUILD)/tests/fuzz $(FUZZ_NAMES)

# Regenerate the committed seed corpora (after a format change).
$(BUILD)/tests/fuzz/mkseeds: $(BUILD)/tests/fuzz/mkseeds.o $(LIBSTORE)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
fuzz-seeds: $(BUILD)/tests/fuzz/mkseeds
	$< tests/fuzz/corpus

fuzz-bins: $(patsubst %,$(BUILD)/tests/fuzz/lf_%,$(FUZZ_NAMES))

fuzz:
	@scripts/install-deps.sh fuzz
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) OPT="-O1 -g" \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-error" fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh fuzz build/fuzz/tests/fuzz $(FUZZ_NAMES)

# ---- install -------------------------------------------------------------
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ckptfs
	install -m 0644 man/ckptfs.1 $(DESTDIR)$(MANDIR)/man1/ckptfs.1
	install -m 0644 contrib/ckptfs.bash $(DESTDIR)$(BASHCOMPDIR)/ckptfs
	install -m 0644 contrib/_ckptfs $(DESTDIR)$(ZSHCOMPDIR)/_ckptfs

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ckptfs $(DESTDIR)$(MANDIR)/man1/ckptfs.1 \
		$(DESTDIR)$(BASHCOMPDIR)/ckptfs $(DESTDIR)$(ZSHCOMPDIR)/_ckptfs

# clang-format (.clang-format) over the C files changed since HEAD, or over
# STYLE_FILES="a.c b.h": the tree predates the config in places (aligned
# tables), so reformatting everything at once would only be noise.
STYLE_FILES ?= $(shell git diff --name-only HEAD -- '*.c' '*.h' 2>/dev/null)
style:
	$(if $(strip $(STYLE_FILES)),clang-format -i $(STYLE_FILES),@echo "style: no changed C files")

clean:
	rm -rf build ckptfs

distclean: clean

-include $(shell find build -name '*.d' 2>/dev/null)
