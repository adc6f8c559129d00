# rewards/: the epoch (Yuma and whitepaper consensus, integer fixed point)
# and bin/based-sim, which runs it on one Brain described in JSON.
PROGS += based-sim
based-sim_MAIN := rewards/sim_main.c

ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif
