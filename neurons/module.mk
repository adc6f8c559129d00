PROGS += based-devnet
based-devnet_MAIN := neurons/devnet.c
