/*
 * util.h: small helpers shared by the based-cli library files.
 *
 * Error reporting in cli/: every fallible function returns a based_err and
 * writes one line (no "based-cli: " prefix, no newline) saying what was
 * wrong and what to do into a caller-provided buffer of CLI_ERR_LEN bytes.
 * Only the top level (cli/cmd.c) prints it and picks the exit status.
 *
 * Files read from outside are capped: cli_read_file refuses anything larger
 * than the cap it is given, before allocating.
 */
#ifndef BASED_CLI_UTIL_H
#define BASED_CLI_UTIL_H

#include "chain/base.h"

#define CLI_ERR_LEN 512

/* snprintf into err (which may be NULL); returns rc so callers can
 * `return cli_fail(err, BASED_E_IO, "...")`. */
based_err cli_fail(char *err, based_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads a whole regular file of at most `cap` bytes into a malloc'd,
 * NUL-terminated buffer (*out, caller frees; *len without the NUL).
 * `secure` allocates with sodium_malloc instead (free with sodium_free).
 * Errors: BASED_E_IO (missing/unreadable, err names the file and errno),
 * BASED_E_TOO_LARGE. */
based_err cli_read_file(const char *path, size_t cap, bool secure, char **out,
                        size_t *len, char *err);

/* "$HOME/<rel>" into out; BASED_E_CONFIG if HOME is unset or too long. */
based_err cli_home_path(const char *rel, char *out, size_t n, char *err);

/* mkdir -p with the given mode for each created component. */
based_err cli_mkdirs(const char *path, unsigned mode, char *err);

#endif
