# tft/: the TFT Enforcer library (into build/libbased.a) and based-tft.
# `make tft-determinism` runs the full cross-compiler determinism check
# (tft/determinism.mk); `make test` runs a reduced one from tests/tft.
PROGS += based-tft
based-tft_MAIN := tft/main.c
# -O3: the inner loops vectorise across outputs (results are identical at
# every -O level, see tft/determinism.mk).
tft_CFLAGS := -Wconversion -Wno-sign-conversion -O3

# Keep `all` the default goal: this file is included before it is defined.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

.PHONY: tft-determinism
tft-determinism:
	$(MAKE) -f tft/determinism.mk
