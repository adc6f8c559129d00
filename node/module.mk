PROGS += basedd
basedd_MAIN := node/basedd.c
