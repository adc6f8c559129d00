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
#   make cometbft   CometBFT v0.38.25 into build/go/bin/ (needs Go >= 1.22; `make test`
#                   builds it on first use, `make devnet` never needs it)
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
            libhttp-parser-dev fortunes wrk python3-numpy libclang-rt-14-dev \
            protobuf-c-compiler libprotobuf-c-dev
DEB_HDRS := /usr/include/secp256k1_schnorrsig.h /usr/include/sodium.h \
            /usr/include/leveldb/c.h /usr/include/uv.h \
            /usr/include/x86_64-linux-gnu/curl/curl.h /usr/include/jansson.h \
            /usr/include/http_parser.h /usr/share/games/fortunes/fortunes \
            /usr/bin/wrk /usr/bin/clang /usr/include/protobuf-c/protobuf-c.h /usr/bin/protoc-c

WARN := -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wold-style-definition -Wwrite-strings -Wvla \
        -Wformat=2 -Wundef -fno-common -Wpointer-arith -Wimplicit-fallthrough
# -ffp-contract=off: no fused multiply-add, so float results are the same on
# every node and every compiler. No fast-math style flags, anywhere.
CFLAGS_ALL := $(WARN) -ffp-contract=off -fno-strict-aliasing -D_DEFAULT_SOURCE \
              -D_POSIX_C_SOURCE=200809L -I. -I$(BUILD)/gen -MMD -MP $(OPT) $(CFLAGS)
LIBS := -lsecp256k1 -lsodium -lleveldb -luv -lcurl -ljansson -lhttp_parser -lprotobuf-c \
        -lpthread -lm

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
# The ABCI messages: protoc-c turns node/abci.proto into C at build time.
PROTO_C  := $(BUILD)/gen/node/abci.pb-c.c
PROTO_H  := $(BUILD)/gen/node/abci.pb-c.h
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/genesis_default.o \
            $(BUILD)/gen/node/abci.pb-c.o
LIBA     := $(BUILD)/libbased.a
BINS     := $(PROGS:%=$(BIN)/%)

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

TEST_DIRS := $(patsubst tests/%/,%,$(sort $(dir $(wildcard tests/*/*.c))))
TEST_BINS := $(TEST_DIRS:%=$(BUILD)/tests/test-%)

DEPS_STAMP := $(BUILD)/.deps-ok

.SECONDEXPANSION:
.SECONDARY:
.PHONY: all deps test asan fuzz bench devnet testnet clean cometbft
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

# Every object may include node/abci.pb-c.h: generate it first (after the
# first build the .d files name it as a real prerequisite).
$(BUILD)/%.o: %.c | $(DEPS_STAMP) $(PROTO_H)
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

# protoc-c writes both files; the .c includes "node/abci.pb-c.h", found
# through -I$(BUILD)/gen. Generated code is compiled with our warnings, but
# they are not errors for it (protobuf-c's initialisers trip -Wmissing-braces).
$(PROTO_C) $(PROTO_H) &: node/abci.proto | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=. --c_out=$(BUILD)/gen node/abci.proto

$(BUILD)/gen/node/abci.pb-c.o: $(PROTO_C)
	$(CC) $(CFLAGS_ALL) -Wno-error -Wno-missing-braces -c $< -o $@

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

test: all $(TEST_BINS) $(TEST_PROGS) $(BENCH_BINS) cometbft
	@BIN=$(BIN) BUILD=$(BUILD) BASED_COMETBFT=$(COMETBFT) sh tests/run-all.sh $(TEST_BINS)

asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/bin SAN=address,undefined OPT="-O1 -g" CC=clang test

fuzz: $(DEPS_STAMP)
	$(MAKE) -f fuzz/fuzz.mk run

bench: all
	$(MAKE) -f bench/bench.mk run

# CometBFT, the consensus engine of the multi-node network (not of the dev
# chain: `make devnet` never needs it). One fixed path, whatever $(BUILD) is,
# so `make asan` reuses it. A cometbft of the right version on PATH is linked
# instead of building; otherwise Go >= 1.22 builds it (a few minutes the first
# time; the module cache is Go's own, outside build/).
COMETBFT_VERSION := 0.38.25
COMETBFT := $(abspath build/go/bin/cometbft)
cometbft: $(COMETBFT)
$(COMETBFT):
	@mkdir -p $(dir $@); \
	onpath=$$(command -v cometbft 2>/dev/null); \
	if [ -n "$$onpath" ] && [ "$$($$onpath version 2>/dev/null)" = "$(COMETBFT_VERSION)" ]; then \
	  ln -sf "$$(readlink -f $$onpath)" $@; echo "based: using $$onpath (CometBFT $(COMETBFT_VERSION))"; exit 0; \
	fi; \
	go=$$(command -v go 2>/dev/null || true); \
	[ -z "$$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; \
	gv=$$([ -n "$$go" ] && $$go env GOVERSION 2>/dev/null); \
	v=$$(echo "$$gv" | sed -n 's/^go\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p'); \
	if [ -z "$$v" ] || [ $$(echo $$v | awk '{print ($$1 > 1 || ($$1 == 1 && $$2 >= 22)) ? 1 : 0}') != 1 ]; then \
	  echo "based: building CometBFT $(COMETBFT_VERSION) needs Go >= 1.22; found: $${go:-no go on PATH}$${gv:+ ($$gv)}." >&2; \
	  echo "  Install Go >= 1.22 from https://go.dev/dl/ (or golang-1.22+ from Debian backports)" >&2; \
	  echo "  and put its bin/ on PATH (e.g. export PATH=/usr/local/go/bin:\$$PATH), then run make again;" >&2; \
	  echo "  or put a cometbft $(COMETBFT_VERSION) binary on PATH. \`make devnet\` does not need it." >&2; \
	  exit 1; \
	fi; \
	echo "based: building CometBFT $(COMETBFT_VERSION) with $$go ($$gv) into $(dir $@) (a few minutes)"; \
	GOBIN=$(dir $@) $$go install github.com/cometbft/cometbft/cmd/cometbft@v$(COMETBFT_VERSION) && \
	[ "$$($@ version)" = "$(COMETBFT_VERSION)" ] || { rm -f $@; echo "based: go install of CometBFT failed" >&2; exit 1; }

devnet: all
	$(BIN)/based-devnet $(DEVNET_ARGS)

testnet: all cometbft
	@if [ -n "$(TESTNET_ARGS)" ]; then $(BIN)/based-net $(TESTNET_ARGS); else \
	  rm -rf $(BUILD)/testnet && $(BIN)/based-net start --nodes 4 --dir $(BUILD)/testnet --foreground; fi

clean:
	rm -rf build build-asan bin

-include $(LIB_OBJS:.o=.d) $(wildcard $(BUILD)/tests/*/*.d) $(wildcard $(BUILD)/tests/*/*/*.d) \
         $(wildcard $(BUILD)/*/*.d)
