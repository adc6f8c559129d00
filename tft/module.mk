# tft/: the TFT Enforcer library (into build/libbased.a) and based-tft.
# `make tft-determinism` runs the full cross-compiler determinism check
# (tft/determinism.mk); `make test` runs a reduced one from tests/tft.
PROGS += based-tft
based-tft_MAIN := tft/main.c
tft_CFLAGS := -Wconversion -Wno-sign-conversion

# Keep `all` the default goal: this file is included before it is defined.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

.PHONY: tft-determinism
tft-determinism:
	$(MAKE) -f tft/determinism.mk
