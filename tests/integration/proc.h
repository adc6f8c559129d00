/*
 * proc.h: helpers for tests that run the real programs: start basedd as a
 * second process on a free loopback port, call its JSON-RPC over a real
 * HTTP connection (libcurl), kill it.
 */
#ifndef BASED_TESTS_INTEGRATION_PROC_H
#define BASED_TESTS_INTEGRATION_PROC_H

#include <jansson.h>
#include <sys/types.h>

#include "chain/tx.h"
#include "tests/support.h"

typedef struct {
    pid_t pid;
    int port;
    char datadir[512];
    char url[64];
    char cookie[128];
} test_node;

/* Starts bin/basedd with datadir and the extra args (NULL-terminated) and
 * waits (up to 20 s) until its RPC answers. Returns 0 on success. */
int test_node_start(test_node *n, const char *datadir, const char *const *extra);
/* SIGKILL (hard) or SIGTERM (clean, waits for exit); returns the exit
 * status for SIGTERM (-1 when killed). */
int test_node_stop(test_node *n, bool hard);
/* One JSON-RPC call; returns the whole response object (new reference) or
 * NULL when the HTTP request failed. params may be NULL. */
json_t *test_rpc(test_node *n, const char *method, json_t *params);
/* The same, returning a new reference to "result" (NULL on any error). */
json_t *test_rpc_result(test_node *n, const char *method, json_t *params);
/* Raw HTTP POST with a body; returns the HTTP status, body into *out
 * (malloc'd, may be NULL). auth may be NULL. */
long test_http_post(const char *url, const char *auth, const char *body, size_t len, char **out);
/* Runs a program to completion (argv[0] a path); returns its exit status,
 * stdout+stderr into out (cap bytes, may be NULL). */
int test_run(const char *const *argv, char *out, size_t cap);
/* Signs a transfer from dev account `from` to dev account `to`. */
void test_dev_transfer(chain_tx *tx, const char *chain_id, unsigned from, unsigned to,
                       uint64_t amount, uint64_t nonce, uint64_t fee);
/* "0x..." hex of a tx's encoding (malloc'd). */
char *test_tx_hex(const chain_tx *tx);

#endif
