/* Tests of node/http.c over real sockets: the server runs on a libuv loop
 * in a thread, clients are libcurl or raw sockets; every test stops the
 * server and checks that uv_loop_close() returned 0. */
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/runner.h"
#include "tests/node/http_client.h"
#include "node/log.h"
#include "chain/base.h"

#define ADD_BODY "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[2,40]}"

static char out[65536];

/* A POST / request with the cookie and an id-numbered add call. */
static size_t post_request(char *buf, size_t cap, const test_server *t, int id, const char *extra)
{
    char body[128], b64[256];
    int blen = snprintf(body, sizeof body,
                        "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"add\",\"params\":[%d,1]}", id, id);
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)t->cookie, strlen(t->cookie),
                      sodium_base64_VARIANT_ORIGINAL);
    return (size_t)snprintf(buf, cap, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
                            "Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s",
                            b64, extra ? extra : "", blen, body);
}

TEST(node_http_rpc_roundtrip)
{
    test_server t;
    CHECK_EQ_INT(test_server_start(&t, NULL), 0);
    CHECK(t.port > 0);
    long code = test_curl_post(t.port, t.cookie, ADD_BODY, out, sizeof out);
    CHECK_EQ_INT(code, 200);
    CHECK_EQ_STR(out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":42}");
    code = test_curl_post(t.port, t.cookie, "[" ADD_BODY ",{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"x\"}]",
                          out, sizeof out);
    CHECK_EQ_INT(code, 200);
    CHECK(out[0] == '[' && strstr(out, "\"result\":42") && strstr(out, "-32601"));
    code = test_curl_post(t.port, t.cookie, "{\"jsonrpc\":\"2.0\",\"method\":\"count\"}", out, sizeof out);
    CHECK_EQ_INT(code, 204);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(t.calls, 1);
    code = test_curl_post(t.port, t.cookie, "{oops", out, sizeof out);
    CHECK_EQ_INT(code, 200);
    CHECK(strstr(out, "-32700") != NULL);
    CHECK_EQ_INT(test_curl_get(t.port, "/health", NULL, out, sizeof out), 200);
    CHECK_EQ_STR(out, "{\"status\":\"ok\"}");
    CHECK_EQ_INT(test_curl_get(t.port, "/nope", t.cookie, out, sizeof out), 404);
    CHECK_EQ_INT(test_curl_get(t.port, "/", t.cookie, out, sizeof out), 405);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_auth)
{
    test_server t;
    char wrong[NODE_COOKIE_BUFSZ];
    CHECK_EQ_INT(test_server_start(&t, NULL), 0);
    double t0 = test_now_ms();
    CHECK_EQ_INT(test_curl_post(t.port, NULL, ADD_BODY, out, sizeof out), 401);
    CHECK(test_now_ms() - t0 >= 245);
    memcpy(wrong, t.cookie, sizeof wrong);
    wrong[20] = wrong[20] == 'a' ? 'b' : 'a';
    CHECK_EQ_INT(test_curl_post(t.port, wrong, ADD_BODY, out, sizeof out), 401);
    CHECK_EQ_INT(test_curl_post(t.port, "__cookie__", ADD_BODY, out, sizeof out), 401);
    CHECK_EQ_INT(test_curl_post(t.port, t.cookie, ADD_BODY, out, sizeof out), 200);
    CHECK_EQ_INT(test_curl_get(t.port, "/nope", NULL, out, sizeof out), 401);
    /* the raw 401 carries the challenge and keeps the connection usable */
    int fd = test_connect(t.port);
    CHECK(fd >= 0);
    static const char req[] = "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!\r\nContent-Length: 2\r\n\r\n{}";
    char ok[512];
    size_t n = post_request(ok, sizeof ok, &t, 5, NULL);
    CHECK_EQ_INT(test_send(fd, req, sizeof req - 1), 0);
    CHECK_EQ_INT(test_send(fd, ok, n), 0);
    test_responses *r = calloc(1, sizeof *r);
    test_read_responses(fd, 2, r);
    CHECK_EQ_INT(r->n, 2);
    CHECK_EQ_INT(r->status[0], 401);
    CHECK(strstr(r->headers[0], "WWW-Authenticate: Basic realm=\"based\"") != NULL);
    CHECK_EQ_INT(r->status[1], 200);
    CHECK(strstr(r->body[1], "\"result\":6") != NULL);
    free(r);
    close(fd);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_body_limit)
{
    test_server t;
    node_http_config cfg;
    node_http_config_init(&cfg);
    cfg.max_body = 1024;
    CHECK_EQ_INT(test_server_start(&t, &cfg), 0);
    char *big = malloc(4000);
    CHECK(big);
    memset(big, ' ', 3999);
    big[3999] = '\0';
    memcpy(big, ADD_BODY, sizeof ADD_BODY - 1);
    CHECK_EQ_INT(test_curl_post(t.port, NULL, big, out, sizeof out), 413);
    big[1024] = '\0';
    CHECK_EQ_INT(test_curl_post(t.port, NULL, big, out, sizeof out), 200);
    free(big);
    /* 413 from the header alone, before any body byte */
    test_responses *r = calloc(1, sizeof *r);
    int fd = test_connect(t.port);
    static const char hdr[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n";
    CHECK_EQ_INT(test_send(fd, hdr, sizeof hdr - 1), 0);
    test_read_responses(fd, 1, r);
    CHECK_EQ_INT(r->status[0], 413);
    CHECK(strstr(r->headers[0], "Connection: close") != NULL);
    close(fd);
    /* a chunked body that grows past the cap */
    fd = test_connect(t.port);
    static const char ch[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK_EQ_INT(test_send(fd, ch, sizeof ch - 1), 0);
    char chunk[600];
    int hl = snprintf(chunk, sizeof chunk, "200\r\n");
    memset(chunk + hl, 'x', 0x200);
    memcpy(chunk + hl + 0x200, "\r\n", 2);
    for (int i = 0; i < 3; i++)
        test_send(fd, chunk, (size_t)hl + 0x200 + 2);
    test_read_responses(fd, 1, r);
    CHECK_EQ_INT(r->n, 1);
    CHECK_EQ_INT(r->status[0], 413);
    close(fd);
    free(r);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_malformed)
{
    test_server t;
    test_responses *r = calloc(1, sizeof *r);
    CHECK_EQ_INT(test_server_start(&t, NULL), 0);
    static const struct { const char *req; int status; } bad[] = {
        { "GARBAGE\r\n\r\n", 400 },
        { "GET / HTTP/9.9\r\n\r\n", 505 },
        { "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
        { "GET /health HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
        { "GET \x01 HTTP/1.1\r\n\r\n", 400 },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        int fd = test_connect(t.port);
        CHECK(fd >= 0);
        CHECK_EQ_INT(test_send(fd, bad[i].req, strlen(bad[i].req)), 0);
        test_read_responses(fd, 2, r);
        CHECK_EQ_INT(r->n, 1);
        CHECK_EQ_INT(r->status[0], bad[i].status);
        CHECK(r->eof);
        close(fd);
    }
    /* request headers over the cap */
    int fd = test_connect(t.port);
    char *hdr = malloc(40000);
    int n = snprintf(hdr, 40000, "GET /health HTTP/1.1\r\nX-Big: ");
    memset(hdr + n, 'a', 20000);
    memcpy(hdr + n + 20000, "\r\n\r\n", 5);
    test_send(fd, hdr, strlen(hdr));
    test_read_responses(fd, 2, r);
    CHECK_EQ_INT(r->n, 1);
    CHECK_EQ_INT(r->status[0], 431);
    close(fd);
    /* a URL over 4 KiB */
    fd = test_connect(t.port);
    n = snprintf(hdr, 40000, "GET /");
    memset(hdr + n, 'a', 5000);
    memcpy(hdr + n + 5000, " HTTP/1.1\r\n\r\n", 14);
    test_send(fd, hdr, strlen(hdr));
    test_read_responses(fd, 2, r);
    CHECK_EQ_INT(r->status[0], 414);
    close(fd);
    free(hdr);
    /* the server still answers */
    CHECK_EQ_INT(test_curl_get(t.port, "/health", NULL, out, sizeof out), 200);
    free(r);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_keepalive)
{
    test_server t;
    test_responses *r = calloc(1, sizeof *r);
    char req[1024];
    CHECK_EQ_INT(test_server_start(&t, NULL), 0);
    int fd = test_connect(t.port);
    CHECK(fd >= 0);
    for (int i = 1; i <= 5; i++) {
        size_t n = post_request(req, sizeof req, &t, i, NULL);
        CHECK_EQ_INT(test_send(fd, req, n), 0);
        test_read_responses(fd, 1, r);
        CHECK_EQ_INT(r->n, 1);
        CHECK_EQ_INT(r->status[0], 200);
        char want[64];
        snprintf(want, sizeof want, "\"id\":%d,\"result\":%d", i, i + 1);
        CHECK(strstr(r->body[0], want) != NULL);
    }
    /* a request sent one byte at a time */
    size_t n = post_request(req, sizeof req, &t, 9, NULL);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(test_send(fd, req + i, 1), 0);
    test_read_responses(fd, 1, r);
    CHECK_EQ_INT(r->status[0], 200);
    CHECK(strstr(r->body[0], "\"result\":10") != NULL);
    /* Connection: close is honoured */
    n = post_request(req, sizeof req, &t, 3, "Connection: close\r\n");
    CHECK_EQ_INT(test_send(fd, req, n), 0);
    test_read_responses(fd, 2, r);
    CHECK_EQ_INT(r->n, 1);
    CHECK(strstr(r->headers[0], "Connection: close") != NULL);
    CHECK(r->eof);
    close(fd);
    free(r);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_pipelining)
{
    test_server t;
    test_responses *r = calloc(1, sizeof *r);
    char all[8192];
    size_t len = 0;
    CHECK_EQ_INT(test_server_start(&t, NULL), 0);
    for (int i = 1; i <= 10; i++)
        len += post_request(all + len, sizeof all - len, &t, i, NULL);
    len += (size_t)snprintf(all + len, sizeof all - len, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    int fd = test_connect(t.port);
    CHECK_EQ_INT(test_send(fd, all, len), 0);
    test_read_responses(fd, 11, r);
    CHECK_EQ_INT(r->n, 11);
    for (int i = 1; i <= 10; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"id\":%d,\"result\":%d", i, i + 1);
        CHECK_EQ_INT(r->status[i - 1], 200);
        CHECK(strstr(r->body[i - 1], want) != NULL);
    }
    CHECK_EQ_STR(r->body[10], "{\"status\":\"ok\"}");
    /* the client goes away after sending: the server keeps serving */
    shutdown(fd, SHUT_WR);
    close(fd);
    fd = test_connect(t.port);
    CHECK_EQ_INT(test_send(fd, all, len / 2), 0);
    close(fd);
    CHECK_EQ_INT(test_curl_get(t.port, "/health", NULL, out, sizeof out), 200);
    free(r);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_max_connections)
{
    test_server t;
    node_http_config cfg;
    test_responses *r = calloc(1, sizeof *r);
    static const char health[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    node_http_config_init(&cfg);
    cfg.max_connections = 2;
    CHECK_EQ_INT(test_server_start(&t, &cfg), 0);
    int a = test_connect(t.port), b = test_connect(t.port);
    CHECK(a >= 0 && b >= 0);
    CHECK_EQ_INT(test_send(a, health, sizeof health - 1), 0);
    test_read_responses(a, 1, r);
    CHECK_EQ_INT(r->status[0], 200);
    CHECK_EQ_INT(test_send(b, health, sizeof health - 1), 0);
    test_read_responses(b, 1, r);
    CHECK_EQ_INT(r->status[0], 200);
    int c = test_connect(t.port);
    CHECK(c >= 0);
    test_send(c, health, sizeof health - 1);
    test_read_responses(c, 1, r);
    CHECK_EQ_INT(r->n, 0);
    CHECK(r->eof || r->reset);
    close(c);
    close(a);
    usleep(100 * 1000);             /* the server sees a go */
    c = test_connect(t.port);
    CHECK_EQ_INT(test_send(c, health, sizeof health - 1), 0);
    test_read_responses(c, 1, r);
    CHECK_EQ_INT(r->status[0], 200);
    close(b);
    close(c);
    free(r);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_idle_timeout)
{
    test_server t;
    node_http_config cfg;
    test_responses *r = calloc(1, sizeof *r);
    node_http_config_init(&cfg);
    cfg.idle_timeout_ms = 150;
    CHECK_EQ_INT(test_server_start(&t, &cfg), 0);
    int fd = test_connect(t.port);
    double t0 = test_now_ms();
    test_send(fd, "GET /hea", 8);
    test_read_responses(fd, 1, r);
    CHECK(r->eof);
    CHECK_EQ_INT(r->n, 0);
    CHECK(test_now_ms() - t0 >= 140);
    CHECK(test_now_ms() - t0 < 3000);
    close(fd);
    free(r);
    CHECK_EQ_INT(test_server_stop(&t), 0);
}

TEST(node_http_clean_shutdown)
{
    test_server t;
    CHECK_EQ_INT(test_server_start(&t, NULL), 0);
    /* idle, half-sent, and waiting-for-a-401 connections when the stop comes */
    int idle = test_connect(t.port), half = test_connect(t.port), denied = test_connect(t.port);
    CHECK(idle >= 0 && half >= 0 && denied >= 0);
    test_send(half, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{", 42);
    test_send(denied, "GET /x HTTP/1.1\r\n\r\n", 19);
    usleep(50 * 1000);
    CHECK_EQ_INT(test_server_stop(&t), 0);
    char c;
    CHECK_EQ_INT(recv(idle, &c, 1, 0), 0);
    CHECK_EQ_INT(recv(half, &c, 1, 0), 0);
    close(idle);
    close(half);
    close(denied);
}

TEST(node_http_bind_errors)
{
    uv_loop_t loop;
    node_http_config cfg;
    node_http_server *s = (node_http_server *)&loop;
    char err[256];
    CHECK_EQ_INT(uv_loop_init(&loop), 0);
    node_log_set_level(NODE_LOG_WARN);
    node_http_config_init(&cfg);
    static const char *const bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", ":80",
                                       "nohost:80", "127.0.0.1:8x", "[::1:80" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        cfg.bind = bad[i];
        CHECK_EQ_INT(node_http_start(&loop, &cfg, node_http_rpc_handler, NULL, &s, err, sizeof err),
                     BASED_E_CONFIG);
        CHECK(s == NULL);
        CHECK(strstr(err, bad[i]) != NULL);
    }
    cfg.bind = "[::1]:0";
    node_http_server *v6 = NULL;
    if (node_http_start(&loop, &cfg, node_http_rpc_handler, NULL, &v6, err, sizeof err) == BASED_E_OK)
        CHECK(node_http_port(v6) > 0);
    cfg.bind = "127.0.0.1:0";
    node_http_server *first = NULL, *second = NULL;
    CHECK_EQ_INT(node_http_start(&loop, &cfg, node_http_rpc_handler, NULL, &first, err, sizeof err), BASED_E_OK);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", node_http_port(first));
    cfg.bind = taken;
    CHECK_EQ_INT(node_http_start(&loop, &cfg, node_http_rpc_handler, NULL, &second, err, sizeof err), BASED_E_NET);
    CHECK(strstr(err, "address already in use") != NULL);
    node_http_stop(first);
    node_http_stop(v6);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
}
