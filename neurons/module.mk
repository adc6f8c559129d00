# neurons/: miners and validators. Every other .c here goes into libbased.a.
PROGS += based-miner
based-miner_MAIN := neurons/miner_main.c
PROGS += based-validator
based-validator_MAIN := neurons/validator_main.c
PROGS += based-devnet
based-devnet_MAIN := neurons/devnet.c
