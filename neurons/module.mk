PROGS += based-validator
based-validator_MAIN := neurons/validator_main.c
