/*
 * cmd.h: based-cli's command line: global flags, the verb table and the
 * "any RPC method by name" fallback. cli/main.c only calls cli_main.
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error. Errors are one
 * line on stderr prefixed "based-cli: ".
 */
#ifndef BASED_CLI_CMD_H
#define BASED_CLI_CMD_H

/* Runs based-cli with the given arguments; returns the exit status. */
int cli_main(int argc, char **argv);

#endif
