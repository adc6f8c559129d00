# model/: the language-model runtime, compression methods and trainer.
PROGS += based-model
based-model_MAIN := model/main.c
# -O3 -march=native: the kernels are written so that vector width never
# changes a result (independent lanes, fixed summation order, integer sums);
# -ffp-contract=off from the top-level flags still forbids fused multiply-add.
model_CFLAGS := -O3 -march=native
