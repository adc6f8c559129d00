# Benchmarks: every bench/*.c is one program build/bench/<name>, linked with
# build/libbased.a; `make bench` builds and runs each in turn. Each prints
# its figures and a ratio against a baseline measured in the same process.
# BENCH=name runs only that one.
include Makefile

BENCH ?=

run: all $(BENCH_BINS)
	@for b in $(if $(BENCH),$(BUILD)/bench/$(BENCH),$(BENCH_BINS)); do \
	  echo "== $$(basename $$b)"; BASED_BIN=$(BIN) $$b || exit 1; done
