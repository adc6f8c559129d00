/*
 * password.h: where a wallet password comes from.
 *
 * In order: the first line of `--password-file FILE` (without its "\n" or
 * "\r\n"), the environment variable BASED_PASSWORD, or an interactive prompt
 * on /dev/tty with echo off (asked twice when `confirm`). With no terminal
 * and no other source it fails with a message naming the three options.
 *
 * The password is returned in libsodium secure memory; release it with
 * cli_password_free (wipes it). Passwords are 1..CLI_PASSWORD_MAX bytes.
 */
#ifndef BASED_CLI_PASSWORD_H
#define BASED_CLI_PASSWORD_H

#include "cli/util.h"

#define CLI_PASSWORD_MAX 1024

/* *out: NUL-terminated password in secure memory (caller frees with
 * cli_password_free). `what` names the key in the prompt ("wallet alice"). */
based_err cli_password_get(const char *file, const char *what, bool confirm, char **out,
                           char *err);

/* Reads just the first line of a password file (the --password-file rule). */
based_err cli_password_from_file(const char *file, char **out, char *err);

void cli_password_free(char *pw);

#endif
