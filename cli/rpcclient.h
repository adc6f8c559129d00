/*
 * rpcclient.h: the JSON-RPC 2.0 client based-cli talks to a node with.
 *
 * HTTP POST with libcurl to the RPC URL (default CLI_RPC_DEFAULT_URL), HTTP
 * Basic auth with the node's cookie file ("__cookie__:<hex>", as bitcoind).
 * The cookie is found by cli_rpc_find_cookie: `--rpc-cookie FILE`, else
 * $BASED_DATADIR/.cookie, else ~/.based/dev/.cookie, else ~/.based/.cookie
 * (the first that exists).
 *
 * Every failure comes back as one readable line in cli_rpc_error.line:
 * - nothing listening / timeout: "no node answering at URL (start one with
 *   "make devnet" or "bin/basedd --dev")" (BASED_E_UNAVAILABLE);
 * - HTTP 401: the cookie is wrong or stale, naming the file used
 *   (BASED_E_UNAUTHORIZED);
 * - a JSON-RPC error: "<message> (<ERROR_NAME>, field <field>)" with the
 *   code, name and field also in the struct (returns the based_err named by
 *   data.error, or BASED_E_INTERNAL when the node names none);
 * - a malformed or oversized response (BASED_E_DECODE / BASED_E_TOO_LARGE).
 * Responses are capped at CLI_RPC_RESPONSE_MAX bytes.
 *
 * A cli_rpc is used by one thread. The cookie is kept in secure memory.
 */
#ifndef BASED_CLI_RPCCLIENT_H
#define BASED_CLI_RPCCLIENT_H

#include <jansson.h>

#include "cli/util.h"

#define CLI_RPC_DEFAULT_URL "http://127.0.0.1:9933/"
#define CLI_RPC_RESPONSE_MAX (16u * 1024 * 1024)
#define CLI_COOKIE_MAX 1024

typedef struct cli_rpc cli_rpc;

typedef struct {
    int code;              /* JSON-RPC error code, 0 if the failure was not one */
    char name[48];         /* data.error ("NONCE_GAP"), "" if none */
    char field[64];        /* data.field, "" if none */
    char line[CLI_ERR_LEN];/* the one-line message to show */
} cli_rpc_error;

/* Finds the cookie file (rules above) into path (n bytes). BASED_E_IO if
 * `flag` names an unreadable file, BASED_E_NOT_FOUND (err lists the places
 * looked in) if none exists. */
based_err cli_rpc_find_cookie(const char *flag, char *path, size_t n, char *err);

/* A client for `url` (NULL: the default). `cookie_flag` is --rpc-cookie or
 * NULL. Fails only when --rpc-cookie names a file that cannot be read; a
 * missing cookie is reported if the node answers 401. */
based_err cli_rpc_new(const char *url, const char *cookie_flag, cli_rpc **out, char *err);
void cli_rpc_free(cli_rpc *c);
/* Bounds each call to ms milliseconds (0: the default, 60 s). */
void cli_rpc_set_timeout(cli_rpc *c, unsigned ms);
const char *cli_rpc_url(const cli_rpc *c);

/* Calls `method` with `params` (borrowed; an array, an object or NULL for
 * none). On success *result is a new reference to the "result" member. */
based_err cli_rpc_call(cli_rpc *c, const char *method, json_t *params, json_t **result,
                       cli_rpc_error *e);

/* Formats a JSON-RPC error object's parts the way cli_rpc_call does. */
void cli_rpc_format_error(const char *message, int code, const char *name,
                          const char *field, char *out, size_t n);

#endif
