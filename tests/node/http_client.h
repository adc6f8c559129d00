/*
 * http_client.h: what the HTTP tests use: a server on a real libuv loop in
 * its own thread (stopped through a uv_async_t), a raw-socket client that
 * reads responses with http_parser, and a libcurl POST helper.
 */
#ifndef BASED_TESTS_NODE_HTTP_CLIENT_H
#define BASED_TESTS_NODE_HTTP_CLIENT_H

#include <uv.h>

#include "node/cookie.h"
#include "node/http.h"

typedef struct {
    uv_loop_t loop;
    uv_async_t stop;
    uv_thread_t thread;
    node_http_server *srv;
    node_http_rpc rpc;
    int calls;
    int port;
    int close_rc;
    char cookie[NODE_COOKIE_BUFSZ];
} test_server;

/* Starts the test table's server on 127.0.0.1:0 with cfg (NULL: defaults
 * with a fresh cookie as auth). Returns 0 on success. */
int test_server_start(test_server *t, node_http_config *cfg);
/* Stops it, joins the thread; returns uv_loop_close()'s result. */
int test_server_stop(test_server *t);

#define TEST_MAX_RESPONSES 16
typedef struct {
    int n;                              /* complete responses */
    int status[TEST_MAX_RESPONSES];
    char body[TEST_MAX_RESPONSES][4096];
    char headers[TEST_MAX_RESPONSES][1024];  /* "name: value\n" lines */
    bool eof;                           /* the server closed the connection */
    bool reset;                         /* ... or reset it */
} test_responses;

/* A TCP connection to 127.0.0.1:port with a 5 s receive timeout; -1 on error. */
int test_connect(int port);
/* Sends all of s. */
int test_send(int fd, const char *s, size_t n);
/* Reads until `want` responses are complete, EOF, or timeout. */
void test_read_responses(int fd, int want, test_responses *r);

/* POSTs body to http://127.0.0.1:port/ with userpwd (NULL: none); returns
 * the HTTP status (0 on a transport error), body into out. */
long test_curl_post(int port, const char *userpwd, const char *body, char *out, size_t cap);
/* GET of path; returns the status. */
long test_curl_get(int port, const char *path, const char *userpwd, char *out, size_t cap);

/* Milliseconds from a monotonic clock. */
double test_now_ms(void);

#endif
