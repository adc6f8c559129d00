# The TFT determinism check (consensus-critical).
#
#   make -f tft/determinism.mk [QUICK=1]
#
# Builds tft/ and based-tft from source with gcc and clang at -O0, -O2, -O3
# and -O3 -march=native (all with -ffp-contract=off, never -ffast-math),
# each into build/tft-det/<config>/; each build generates the synthetic
# set, trains and evaluates, and prints the SHA-256 of the data, the
# trained weights and all forecasts. Fails unless every build prints the
# same three hashes. It also fails if any tft/ object references a libm
# function (nm), and links based-tft without -lm to prove it.
# QUICK=1 (used by `make test`): a small dataset and 2 epochs; the default
# is the reference configuration (d = 16, 4 heads, early stopping) on 48
# series x 200 steps.
DET   := build/tft-det
SRCS  := $(wildcard tft/*.c) chain/err.c
BASE0 := -std=c11 -fno-strict-aliasing -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I.
BASE  := $(BASE0) -ffp-contract=off -DTFT_NO_DEVNET
ifeq ($(QUICK),1)
GEN   := --series 6 --steps 60 --seed 7
EVAL  := --horizon 10 --d 8 --epochs 2 --seed 3
CONFIGS ?= gcc:-O0 gcc:-O2 gcc:-O3 gcc:-O3_-march=native clang:-O0 clang:-O2 clang:-O3 clang:-O3_-march=native
else
GEN   := --series 48 --steps 200 --seed 7
EVAL  := --horizon 28 --seed 3
CONFIGS ?= gcc:-O0 gcc:-O2 gcc:-O3 gcc:-O3_-march=native clang:-O0 clang:-O2 clang:-O3 clang:-O3_-march=native
endif
LIBM  := exp|expf|expl|exp2|exp2f|expm1|log|logf|logl|log2|log10|log1p|tanh|tanhf|tanhl|pow|powf|powl|sqrt|sqrtf|sqrtl|sin|sinf|cos|cosf|tan|atan|atan2|erf|erfc|cbrt|hypot|fma|fmaf|floor|ceil|round|lround|trunc|sigmoid

.PHONY: check
check:
	@mkdir -p $(DET); rm -f $(DET)/hashes; \
	for c in $(CONFIGS); do \
	  cc=$${c%%:*}; opt=$$(echo $${c#*:} | tr _ ' '); name=$$cc$$(echo $$opt | tr -d ' =-'); \
	  dir=$(DET)/$$name; mkdir -p $$dir/obj; \
	  objs=; for s in $(SRCS); do o=$$dir/obj/$$(echo $$s | tr / _ | sed 's/\.c$$/.o/'); \
	    $$cc $(BASE) $$opt -c $$s -o $$o || exit 1; objs="$$objs $$o"; done; \
	  bad=$$(nm -u $$dir/obj/tft_*.o | grep -Ew "U ($(LIBM))" ); \
	  if [ -n "$$bad" ]; then echo "tft-determinism: libm symbol in $$name: $$bad"; exit 1; fi; \
	  $$cc -o $$dir/based-tft $$objs -lsodium || { echo "tft-determinism: $$name does not link without -lm"; exit 1; }; \
	  $$dir/based-tft gen --kind synthetic $(GEN) --out $$dir/data.csv || exit 1; \
	  $$dir/based-tft eval --data $$dir/data.csv $(EVAL) --json > $$dir/eval.json || exit 1; \
	  d=$$(sha256sum < $$dir/data.csv | cut -c1-64); \
	  w=$$(sed -n 's/.*"weights_sha256":"\([0-9a-f]*\)".*/\1/p' $$dir/eval.json); \
	  f=$$(sed -n 's/.*"forecasts_sha256":"\([0-9a-f]*\)".*/\1/p' $$dir/eval.json); \
	  r=$$(sed -n 's/^[^[]*"ratio_naive":\([0-9.]*\).*/\1/p' $$dir/eval.json); \
	  printf '%-18s data %.16s weights %s forecasts %s ratio_naive %s\n' $$name $$d $$w $$f $$r | tee -a $(DET)/hashes; \
	done; \
	n=$$(awk '{print $$3, $$5, $$7}' $(DET)/hashes | sort -u | wc -l); \
	if [ "$$n" -ne 1 ]; then echo "tft-determinism: FAIL, builds disagree"; exit 1; fi; \
	echo "tft-determinism: OK, $$(wc -l < $(DET)/hashes) builds identical, no libm"

# The check has teeth: with contraction allowed (-ffp-contract=fast and FMA
# from -march=native) the hashes must change. Needs an FMA-capable CPU.
# Run: make -f tft/determinism.mk teeth QUICK=1
.PHONY: teeth
teeth:
	@dir=$(DET)-teeth; mkdir -p $$dir; \
	for mode in off fast; do \
	  gcc $(BASE0) -O3 -march=native -ffp-contract=$$mode $(SRCS) -o $$dir/based-tft-$$mode -lsodium || exit 1; \
	  $$dir/based-tft-$$mode gen --kind synthetic $(GEN) --out $$dir/data.csv || exit 1; \
	  $$dir/based-tft-$$mode eval --data $$dir/data.csv $(EVAL) --json | \
	    sed -n 's/.*"weights_sha256":"\([0-9a-f]*\)".*/\1/p' > $$dir/w-$$mode; \
	  echo "contract=$$mode weights $$(cat $$dir/w-$$mode)"; \
	done; \
	if cmp -s $$dir/w-off $$dir/w-fast; then echo "teeth: contraction did not change the hash (no FMA on this CPU?)"; exit 1; fi; \
	echo "teeth: OK, -ffp-contract=fast changes the weights hash"
