# libFuzzer harnesses: every fuzz/*.c defines LLVMFuzzerTestOneInput and is
# built with clang -fsanitize=fuzzer,address,undefined against the library
# sources (compiled again with coverage instrumentation into build-fuzz/).
# `make fuzz` runs each for FUZZ_SECONDS (default 60) with its corpus in
# build-fuzz/corpus/<name> seeded from fuzz/seeds/<name>/ when present, and
# prints the executions; a crash stops the run and leaves the input in
# build-fuzz/crash-<name>-*.
FUZZ_SECONDS ?= 60
FUZZ ?=
FB := build-fuzz
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -g -O1
FUZZ_SRCS := $(wildcard fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(FB)/%)

.PHONY: run
run:
	$(MAKE) BUILD=$(FB)/obj BIN=$(FB)/bin CC=clang OPT="$(FUZZ_FLAGS)" $(FB)/obj/libbased.a
	$(MAKE) -f fuzz/fuzz.mk $(FUZZ_BINS)
	@for b in $(if $(FUZZ),$(FB)/$(FUZZ),$(FUZZ_BINS)); do \
	  n=$$(basename $$b); mkdir -p $(FB)/corpus/$$n; \
	  seeds=; [ -d fuzz/seeds/$$n ] && seeds=fuzz/seeds/$$n; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS) s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FB)/crash-$$n- \
	     $(FB)/corpus/$$n $$seeds 2>$(FB)/$$n.log; rc=$$?; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $(FB)/$$n.log; \
	  if [ $$rc -ne 0 ]; then tail -40 $(FB)/$$n.log; exit 1; fi; done

$(FB)/%: fuzz/%.c $(FB)/obj/libbased.a
	clang -std=c11 -I. -I$(FB)/obj/gen -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -ffp-contract=off \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 \
	  -o $@ $< $(FB)/obj/libbased.a \
	  -lsecp256k1 -lsodium -lleveldb -luv -lcurl -ljansson -lhttp_parser -lprotobuf-c -lpthread -lm
