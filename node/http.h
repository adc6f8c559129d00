/*
 * http.h: the node's HTTP/1.1 server on a libuv loop (JSON-RPC, /health,
 * later the explorer and /metrics).
 *
 * Requests are parsed with http_parser (libhttp-parser); keep-alive and
 * pipelining are supported, responses go out in request order. The server
 * enforces the limits of node_http_config itself: a body over max_body gets
 * 413 (before the body is read when Content-Length says so), request line +
 * headers over max_header get 431 (414 for a URL over 4 KiB), malformed HTTP
 * gets 400; each of those closes the connection after the answer. Beyond
 * max_connections new connections are closed at once; a connection idle for
 * idle_timeout_ms is closed.
 *
 * Authentication: with cfg->auth set ("user:password", e.g. the cookie
 * string), each request's HTTP Basic credentials are compared with it in
 * constant time and the result is passed to the handler as `authorized`;
 * the handler decides what needs it. Any 401 the handler returns is sent
 * with `WWW-Authenticate: Basic realm="based"` after auth_delay_ms (a uv
 * timer, the loop keeps serving others), like bitcoind's 250 ms.
 *
 * Ownership and threading: everything runs on the loop's thread; the handler
 * is called synchronously there, once per request, in order. The server and
 * each connection own their libuv handles and free them in close callbacks:
 * after node_http_stop(), running the loop until it has no more handles
 * releases everything (uv_loop_close() then returns 0).
 *
 * Deferred responses: a handler that cannot answer at once (work handed to
 * a thread with uv_queue_work, a timer, another request) calls
 * node_http_defer(req) and returns; later, on the loop thread, it calls
 * node_http_complete() exactly once with the response. Until then the
 * connection reads no further request (pipelined ones wait, so responses
 * stay in request order) and its idle timeout is off; it still notices the
 * client going away. The pending object belongs to the server until
 * node_http_complete(), which frees it whatever happened meanwhile: when the
 * connection closed or the server stopped first, the completion just
 * discards the response. A loop with deferred requests outstanding keeps
 * running while whatever will complete them (a work request, a timer) is
 * active, so uv_loop_close() still returns 0 once all have completed.
 */
#ifndef BASED_NODE_HTTP_H
#define BASED_NODE_HTTP_H

#include <uv.h>

#include "node/rpc.h"
#include "chain/base.h"

#define NODE_HTTP_DEFAULT_BIND "127.0.0.1:9933"

typedef struct node_http_server node_http_server;
typedef struct node_http_conn node_http_conn;
typedef struct node_http_pending node_http_pending;

typedef struct {
    const char *bind;          /* "ADDR:PORT" or "[V6ADDR]:PORT"; port 0: any free port */
    size_t max_body;           /* bytes; default 1 MiB */
    size_t max_header;         /* bytes of request line + headers; default 16 KiB */
    unsigned max_connections;  /* default 256 */
    unsigned idle_timeout_ms;  /* default 30000 */
    unsigned auth_delay_ms;    /* before each 401; default 250 */
    const char *auth;          /* "user:password"; NULL: every request is authorized */
} node_http_config;

typedef struct {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* "/health" (no query string) */
    const char *query;         /* after '?', "" when none */
    const char *body;          /* NUL-terminated ("" when none) */
    size_t body_len;           /* without the NUL */
    bool authorized;           /* credentials matched cfg->auth (or no auth set) */
    node_http_conn *conn;      /* the server's, for node_http_defer (NULL: cannot defer) */
} node_http_request;

typedef struct {
    int status;                /* 0 counts as 500 */
    const char *content_type;  /* static string; NULL: "application/json" */
    char *body;                /* malloc'd or NULL; the server frees it */
    size_t body_len;
    const char *headers;       /* static extra header lines, each ending "\r\n", or NULL */
} node_http_response;

/* Called once per request on the loop thread. res arrives zeroed. The
 * request's strings live only during the call: copy what a deferred answer
 * needs. */
typedef void (*node_http_handler)(void *user, const node_http_request *req,
                                  node_http_response *res);

/* Fills cfg with the defaults above (bind NODE_HTTP_DEFAULT_BIND, auth NULL). */
void node_http_config_init(node_http_config *cfg);

/* Binds, listens and registers the server on loop (which the caller runs).
 * cfg is copied (the auth string too); zero sizes, counts and timeouts mean
 * the defaults. On success *out is the server. On failure *out is NULL, err
 * names the problem ('bind address "x": expected ADDR:PORT', 'cannot listen
 * on 127.0.0.1:9933: address already in use') and the return is
 * BASED_E_CONFIG (bad cfg) or BASED_E_NET (socket); a handle already made is
 * being closed, so run the loop before closing it. */
based_err node_http_start(uv_loop_t *loop, const node_http_config *cfg,
                          node_http_handler handler, void *user,
                          node_http_server **out, char *err, size_t errlen);

/* The port the server listens on (the chosen one when cfg asked for 0). */
int node_http_port(const node_http_server *s);

/* Open connections (for tests and metrics). */
size_t node_http_connections(const node_http_server *s);

/* Stops accepting and closes every connection (in-flight responses are
 * dropped; deferred ones are discarded when completed). The server is freed from the loop once every handle has closed;
 * do not use s afterwards. NULL is a no-op. Loop thread only. */
void node_http_stop(node_http_server *s);

/* Called from a handler (loop thread): the response to req will come later
 * through node_http_complete(); whatever the handler puts in res is then
 * ignored (a body set there is freed). Returns NULL, and the handler answers
 * in res as usual, when req cannot be deferred (req->conn NULL, already
 * deferred, out of memory). */
node_http_pending *node_http_defer(const node_http_request *req);

/* Answers a deferred request (loop thread, exactly once per pending): res
 * as a handler would fill it (the server takes res->body, even when the
 * answer is discarded); res NULL answers 500 {"error":"internal error"}.
 * Frees p. If the connection has closed or the server stopped since the
 * request, the answer is discarded. */
void node_http_complete(node_http_pending *p, node_http_response *res);

/* Is p's connection still open (loop thread)? A handler may skip work whose
 * answer nobody will read. */
bool node_http_pending_open(const node_http_pending *p);

/* The standard routes of the node, for a handler to call:
 *   GET /health        200 {"status":"ok"}, no auth needed
 *   unauthorized       401 (any other request)
 *   POST /             JSON-RPC through node_jsonrpc_handle(table, ctx):
 *                      200 application/json, or 204 when there is nothing
 *                      to answer (notifications only)
 *   /, /health with another method: 405 with Allow; anything else 404. */
void node_http_default_route(const node_rpc_method *table, void *ctx,
                             const node_http_request *req, node_http_response *res);

/* A node_http_handler serving node_http_default_route; user points to a
 * node_http_rpc that outlives the server. */
typedef struct {
    const node_rpc_method *table;
    void *ctx;
} node_http_rpc;
void node_http_rpc_handler(void *user, const node_http_request *req,
                           node_http_response *res);

#endif
