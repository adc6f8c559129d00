# based: the one build entry.
#
#   make            build every program into bin/
#   make test       build and run every test; last line "N passed, N failed"
#   make devnet     build, then run the dev network: basedd --dev, Brain 7, validators
#                   and miners, a live board (bin/based-devnet; DEVNET_ARGS=--help)
#   make testnet    build, then 4 authorities and 1 full node (CometBFT + basedd each)
#                   on loopback in a fresh build/testnet; Ctrl-C stops all
#                   (bin/based-net; TESTNET_ARGS="start ..." replaces the arguments)
#   make asan       the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       libFuzzer harnesses (clang), each for a bounded time
#   make bench      benchmarks (they print ratios against an in-process baseline)
#
# Layout: every .c file in a library directory goes into build/libbased.a,
# except the program mains, which each module names in its module.mk:
#     PROGS += based-model
#     based-model_MAIN := model/main.c
# Tests: every tests/<module>/ directory becomes one test binary
# build/tests/test-<module> made of its .c files + tests/runner.c.
# A module may add flags for its own objects with <dir>_CFLAGS in module.mk.

LIBDIRS  := chain staking rewards tft contracts node model neurons cli web
BUILD    ?= build
BIN      ?= bin
SAN      ?=
OPT      ?= -O2 -g

# Debian packages every target needs (installed on demand, see `deps`).
DEB_PKGS := build-essential clang pkg-config libsecp256k1-dev libsodium-dev \
            libleveldb-dev libuv1-dev libcurl4-openssl-dev libjansson-dev \
            libhttp-parser-dev fortunes wrk python3-numpy libclang-rt-14-dev
DEB_HDRS := /usr/include/secp256k1_schnorrsig.h /usr/include/sodium.h \
            /usr/include/leveldb/c.h /usr/include/uv.h \
            /usr/include/x86_64-linux-gnu/curl/curl.h /usr/include/jansson.h \
            /usr/include/http_parser.h /usr/share/games/fortunes/fortunes \
            /usr/bin/wrk /usr/bin/clang

WARN := -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wold-style-definition -Wwrite-strings -Wvla \
        -Wformat=2 -Wundef -fno-common -Wpointer-arith -Wimplicit-fallthrough
# -ffp-contract=off: no fused multiply-add, so float results are the same on
# every node and every compiler. No fast-math style flags, anywhere.
CFLAGS_ALL := $(WARN) -ffp-contract=off -fno-strict-aliasing -D_DEFAULT_SOURCE \
              -D_POSIX_C_SOURCE=200809L -I. -MMD -MP $(OPT) $(CFLAGS)
LIBS := -lsecp256k1 -lsodium -lleveldb -luv -lcurl -ljansson -lhttp_parser -lpthread -lm

ifneq ($(SAN),)
CFLAGS_ALL += -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDSAN := -fsanitize=$(SAN)
endif

PROGS :=
.DEFAULT_GOAL := all
-include $(wildcard $(addsuffix /module.mk,$(LIBDIRS)))

MAINS    := $(foreach p,$(PROGS),$($(p)_MAIN))
ALL_SRCS := $(wildcard $(addsuffix /*.c,$(LIBDIRS)))
LIB_SRCS := $(filter-out $(MAINS),$(ALL_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/genesis_default.o
LIBA     := $(BUILD)/libbased.a
BINS     := $(PROGS:%=$(BIN)/%)

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

TEST_DIRS := $(patsubst tests/%/,%,$(sort $(dir $(wildcard tests/*/*.c))))
TEST_BINS := $(TEST_DIRS:%=$(BUILD)/tests/test-%)

DEPS_STAMP := $(BUILD)/.deps-ok

.SECONDEXPANSION:
.SECONDARY:
.PHONY: all deps test asan fuzz bench devnet testnet clean
all: $(DEPS_STAMP) $(LIBA) $(BINS)

# Install missing Debian packages: apt-get as root, sudo otherwise.
deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@missing=""; for f in $(DEB_HDRS); do [ -e $$f ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "based: installing missing Debian packages"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PKGS) >/dev/null || exit 1; \
	fi; \
	if ! command -v npm >/dev/null 2>&1; then \
	  echo "based: installing nodejs and npm (the GGUF interoperability test)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null || exit 1; \
	fi; mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $($(firstword $(subst /, ,$<))_CFLAGS) -c $< -o $@

# genesis.json compiled into the programs (the defaults of `basedd --dev`).
$(BUILD)/gen/genesis_default.c: genesis.json
	@mkdir -p $(dir $@)
	@{ echo '/* Generated from genesis.json by the Makefile. */'; \
	   echo '#include "chain/genesis.h"'; \
	   echo 'const char chain_genesis_default[] = {'; \
	   od -An -v -tx1 genesis.json | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   echo '0x00 };'; } > $@

$(BUILD)/gen/genesis_default.o: $(BUILD)/gen/genesis_default.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/%: $(LIBA) $$(addprefix $(BUILD)/,$$(subst .c,.o,$$($$*_MAIN)))
	@mkdir -p $(BIN)
	$(CC) $(LDSAN) -o $@ $(BUILD)/$($*_MAIN:.c=.o) $(LIBA) $(LIBS) $(LDFLAGS)

$(BUILD)/tests/test-%: $$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard tests/$$*/*.c))) $(BUILD)/tests/runner.o $(BUILD)/tests/support.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $(filter %.o,$^) $(LIBA) $(LIBS) $(LDFLAGS)

# Test-only programs: $(BUILD)/tests/<name> from tests/<dir>/<name-dir>/*.c
# plus the test helper files they name; tests find them through
# $BASED_BUILD (run-all.sh). The cheating miner of the cheat catalogue:
TEST_PROGS := $(BUILD)/tests/based-cheat-miner
$(BUILD)/tests/based-cheat-miner: $(BUILD)/tests/miner/cheat/cheat_miner.o $(BUILD)/tests/neurons/cheats.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $(filter %.o,$^) $(LIBA) $(LIBS) $(LDFLAGS)

# Benchmarks are built (not run) by `make test`, so they cannot rot.
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/tests/support.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $< $(BUILD)/tests/support.o $(LIBA) $(LIBS) $(LDFLAGS)

test: all $(TEST_BINS) $(TEST_PROGS) $(BENCH_BINS)
	@BIN=$(BIN) BUILD=$(BUILD) sh tests/run-all.sh $(TEST_BINS)

asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/bin SAN=address,undefined OPT="-O1 -g" CC=clang test

fuzz: $(DEPS_STAMP)
	$(MAKE) -f fuzz/fuzz.mk run

bench: all
	$(MAKE) -f bench/bench.mk run

devnet: all
	$(BIN)/based-devnet $(DEVNET_ARGS)

testnet: all
	@if [ -n "$(TESTNET_ARGS)" ]; then $(BIN)/based-net $(TESTNET_ARGS); else \
	  rm -rf $(BUILD)/testnet && $(BIN)/based-net start --nodes 4 --dir $(BUILD)/testnet --foreground; fi

clean:
	rm -rf build build-asan bin

-include $(LIB_OBJS:.o=.d) $(wildcard $(BUILD)/tests/*/*.d) $(wildcard $(BUILD)/tests/*/*/*.d) \
         $(wildcard $(BUILD)/*/*.d)
