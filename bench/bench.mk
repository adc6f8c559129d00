# Benchmarks: every bench/*.c is one program build/bench/<name>, linked with
# build/libbased.a; `make bench` builds and runs each in turn. Each prints
# its figures and a ratio against a baseline measured in the same process.
# BENCH=name runs only that one.
include Makefile

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
BENCH ?=

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $< $(LIBA) $(LIBS) $(LDFLAGS)

run: all $(BENCH_BINS)
	@for b in $(if $(BENCH),$(BUILD)/bench/$(BENCH),$(BENCH_BINS)); do \
	  echo "== $$(basename $$b)"; BASED_BIN=$(BIN) $$b || exit 1; done
