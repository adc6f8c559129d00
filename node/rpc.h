/*
 * rpc.h: the JSON-RPC 2.0 method table and dispatcher.
 *
 * Every method the node serves is one row of a static table of
 * `node_rpc_method`. The dispatcher (node/jsonrpc.c) parses the request
 * body (single or batch), checks "jsonrpc":"2.0", "method", "id", maps
 * positional (array) or named (object) params onto the row's parameter list,
 * checks each argument's JSON type and presence, and only then calls the
 * handler with a positional argument vector (absent optional = NULL).
 * The same table generates the OpenRPC document served by `rpc.discover`
 * and is checked against docs/rpc.md by a test.
 *
 * Errors: standard codes -32700 parse, -32600 invalid request, -32601
 * method not found, -32602 invalid params (data: {"field": name}), -32603
 * internal. A handler's application error (a based_err) becomes code
 * -32000 - err with data {"error": "<BASED_ERRNAME>", "field": "<field>"}
 * and the handler's message.
 *
 * Threading: handlers run on the node's event loop thread.
 */
#ifndef BASED_NODE_RPC_H
#define BASED_NODE_RPC_H

#include <jansson.h>

#include "chain/base.h"

typedef struct {
    based_err err;          /* BASED_E_OK: no error */
    int code;               /* if non-zero, a raw JSON-RPC code (e.g. -32602) */
    char field[64];         /* the param or field that is wrong ("" if none) */
    char message[256];
} node_rpc_error;

/* Sets an application error; returns NULL so handlers can `return
 * node_rpc_fail(...)`. */
json_t *node_rpc_fail(node_rpc_error *e, based_err err, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

typedef enum {
    NODE_RPC_STRING = 1,
    NODE_RPC_INTEGER,
    NODE_RPC_BOOLEAN,
    NODE_RPC_OBJECT,
    NODE_RPC_ARRAY,
    NODE_RPC_STRING_OR_INTEGER,   /* e.g. a height or a hash */
} node_rpc_type;

typedef struct {
    const char *name;
    node_rpc_type type;
    bool required;
    const char *summary;
} node_rpc_param;

/* Handler: args has one entry per declared param (borrowed; NULL when an
 * optional param is absent). Returns a new reference to the result, or NULL
 * after filling *err. */
typedef json_t *(*node_rpc_fn)(void *ctx, json_t *const *args, node_rpc_error *err);

#define NODE_RPC_MAX_PARAMS 8

typedef struct {
    const char *name;                        /* "chain_getHead" */
    const char *summary;                     /* one line, for OpenRPC and docs */
    node_rpc_fn fn;
    node_rpc_param params[NODE_RPC_MAX_PARAMS];  /* ends at the first name == NULL */
    const char *result;                      /* one line describing the result */
    const char *errors;                      /* the application errors it returns, comma-separated names */
} node_rpc_method;

/* Handles one HTTP body. Returns a malloc'd JSON response (caller frees) and
 * its length, or NULL with *len = 0 when there is nothing to answer (all
 * notifications: the HTTP layer then replies 204). `table` ends at a row
 * with name == NULL. Limits: at most 1000 requests in a batch. */
char *node_jsonrpc_handle(const node_rpc_method *table, void *ctx,
                          const char *body, size_t body_len, size_t *len);

/* The OpenRPC document (new reference) describing every method of table,
 * including rpc.discover itself. */
json_t *node_rpc_openrpc(const node_rpc_method *table, const char *title,
                         const char *version);

#endif
