PROGS += based-cli
based-cli_MAIN := cli/main.c
PROGS += based-devdrive
based-devdrive_MAIN := cli/devdrive.c
