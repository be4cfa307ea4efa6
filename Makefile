# sdx: build, test, demo and benchmark.
#
# `make demo` and `make check` install any missing Debian packages first
# (see .ci/install-deps), so a fresh Debian 12 machine needs nothing else.

ifeq ($(origin CC),default)
CC      := gcc
endif
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
# Set SANITIZE=address,undefined (for example) to build with sanitizers.
SANITIZE ?=

PKGS     := libczmq libzmq libsodium msgpack sqlite3
STDFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# snprintf into fixed buffers is how we bound strings; gcc's truncation
# warning fires on every such call, so it is off.
WARNINGS := -Wall -Wextra -Werror -Wno-format-truncation
INCLUDES := -Itransport -Idirectory-client -Iagents -Idirectory -Inode -Itests
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif
ALL_CFLAGS = $(STDFLAGS) $(WARNINGS) $(CFLAGS) $(SANFLAGS) $(INCLUDES) \
             $(PKG_CFLAGS) -MMD -MP
ALL_LDLIBS = $(SANFLAGS) $(PKG_LIBS) -lm

BUILD := build

# Each module is a static library made of every .c file in its folder
# except the *_main.c files, which are programs.
define module_sources
$(filter-out %_main.c,$(wildcard $(1)/*.c))
endef
define module_objects
$(patsubst %.c,$(BUILD)/%.o,$(call module_sources,$(1)))
endef

LIB_TRANSPORT := $(BUILD)/libtransport.a
LIB_DIRCLIENT := $(BUILD)/libdirclient.a
LIB_AGENTS    := $(BUILD)/libagents.a
LIB_DIRECTORY := $(BUILD)/libdirectory.a
LIB_NODE      := $(BUILD)/libnode.a
# Link order: a library comes before the libraries it depends on.
LIBS := $(LIB_NODE) $(LIB_DIRECTORY) $(LIB_DIRCLIENT) $(LIB_AGENTS) \
        $(LIB_TRANSPORT)

PROGRAMS := $(BUILD)/bin/sdx $(BUILD)/bin/sdx-node \
            $(BUILD)/bin/sdx-directory $(BUILD)/bin/sdx-agent-sim
BENCH_PROGRAMS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
TEST_PROGRAMS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/t*.c))

.PHONY: all deps check test demo bench format-check clean install
all: $(PROGRAMS) $(TEST_PROGRAMS) $(BENCH_PROGRAMS)

deps:
	@.ci/install-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_TRANSPORT): $(call module_objects,transport)
$(LIB_DIRCLIENT): $(call module_objects,directory-client)
$(LIB_AGENTS):    $(call module_objects,agents)
$(LIB_DIRECTORY): $(call module_objects,directory)
$(LIB_NODE):      $(call module_objects,node)
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	@echo "  AR $@"
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/sdx:           $(BUILD)/node/cli_main.o $(LIBS)
$(BUILD)/bin/sdx-node:      $(BUILD)/node/node_main.o $(LIBS)
$(BUILD)/bin/sdx-directory: $(BUILD)/directory/directory_main.o $(LIBS)
$(BUILD)/bin/sdx-agent-sim: $(BUILD)/agents/sim_main.o $(LIBS)
$(PROGRAMS):
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) -o $@ $(filter %.o,$^) $(LIBS) $(ALL_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIBS)
	@echo "  LD $@"
	@$(CC) -o $@ $< $(LIBS) $(ALL_LDLIBS)
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBS)
	@echo "  LD $@"
	@$(CC) -o $@ $< $(LIBS) $(ALL_LDLIBS)

# Tests are C programs (build/tests/tNNNN-*) and scripts (tests/tNNNN-*.sh,
# tests/tNNNN-*.py); all of them print TAP.
check: deps
	$(MAKE) all
	$(MAKE) test

test: all
	@.ci/format-check
	prove -v --timer $(TEST_PROGRAMS) $(wildcard tests/t*.sh) \
	    $(wildcard tests/t*.py) 2>&1 | tee $(BUILD)/prove.log | \
	    grep -E '^(not ok|ok .*# (TODO|SKIP)|#|t[0-9]|All tests|Files=|Result:)' ; \
	    exit $${PIPESTATUS[0]}

demo: deps
	$(MAKE) all
	tests/demo.sh

# The SIGKILL durability test with more kills: SDX_SOAK_KILLS, default 500
# (about 6 minutes).
.PHONY: soak
soak: all
	SDX_KILLS=$${SDX_SOAK_KILLS:-500} tests/t0530-kill-durability.sh

bench: deps
	$(MAKE) all
	bench/run.sh

# The central lookup at national scale: SDX_DIRECTORY_ROWS supply points
# (default 30 million; see bench/directory.sh --help for the rest).
.PHONY: bench-directory
bench-directory: deps
	$(MAKE) all
	bench/directory.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin

clean:
	rm -rf $(BUILD)

.SECONDARY:
SHELL := /bin/bash
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
