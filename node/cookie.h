/*
 * cookie.h: bitcoind-style RPC cookie authentication.
 *
 * At every start the node writes DATADIR/.cookie containing
 * "__cookie__:<64 lowercase hex chars>" (32 random bytes from libsodium), no
 * newline, mode 0600, atomically (a temporary file in the same directory,
 * fsync, rename). The same string is the HTTP Basic "user:password" pair, so
 * `curl -u "$(cat DATADIR/.cookie)"` works. On a clean exit the node removes
 * the file. Clients (based-cli) read it with node_cookie_read().
 *
 * The functions are plain blocking file I/O, called at start-up and exit.
 */
#ifndef BASED_NODE_COOKIE_H
#define BASED_NODE_COOKIE_H

#include "chain/base.h"

#define NODE_COOKIE_USER "__cookie__"
#define NODE_COOKIE_FILE ".cookie"
/* strlen("__cookie__:") + 64 hex chars */
#define NODE_COOKIE_LEN (sizeof(NODE_COOKIE_USER) + 64)
/* A buffer that holds the cookie string and its NUL. */
#define NODE_COOKIE_BUFSZ (NODE_COOKIE_LEN + 1)

/* "DATADIR/.cookie" into buf. BASED_E_TOO_LARGE if it does not fit. */
based_err node_cookie_path(const char *datadir, char *buf, size_t cap);

/* Generates a fresh cookie, writes it to DATADIR/.cookie (replacing any
 * old one) and copies the "__cookie__:hex" string into out (cap >=
 * NODE_COOKIE_BUFSZ). On error out is "" and no file is left behind.
 * Errors: BASED_E_TOO_LARGE (path or cap), BASED_E_IO. */
based_err node_cookie_write(const char *datadir, char *out, size_t cap);

/* Reads the cookie string of the file at `path` (e.g. from node_cookie_path)
 * into out (cap >= NODE_COOKIE_BUFSZ), trailing whitespace removed.
 * Errors: BASED_E_IO (missing/unreadable), BASED_E_DECODE (not a cookie). */
based_err node_cookie_read(const char *path, char *out, size_t cap);

/* Removes DATADIR/.cookie. BASED_E_OK also when it is already gone. */
based_err node_cookie_remove(const char *datadir);

#endif
