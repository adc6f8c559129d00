PROGS += based-cli
based-cli_MAIN := cli/main.c
