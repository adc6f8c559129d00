/* The HTTP test helpers (see http_client.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <curl/curl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/node/http_client.h"
#include "tests/node/rpc_table.h"
#include "node/log.h"
#include "tests/runner.h"
#include "chain/base.h"

static void on_stop(uv_async_t *a)
{
    test_server *t = a->data;
    node_http_stop(t->srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void run_loop(void *arg)
{
    test_server *t = arg;
    uv_run(&t->loop, UV_RUN_DEFAULT);
    t->close_rc = uv_loop_close(&t->loop);
}

int test_server_start(test_server *t, node_http_config *cfg)
{
    node_http_config def;
    char err[256];
    memset(t, 0, sizeof *t);
    node_log_set_level(NODE_LOG_WARN);
    if (!cfg) {
        node_http_config_init(&def);
        if (node_cookie_write(test_tmpdir(), t->cookie, sizeof t->cookie) != BASED_E_OK)
            return -1;
        def.auth = t->cookie;
        cfg = &def;
    }
    cfg->bind = "127.0.0.1:0";
    t->rpc.table = test_rpc_table;
    t->rpc.ctx = &t->calls;
    if (uv_loop_init(&t->loop) != 0)
        return -1;
    if (node_http_start(&t->loop, cfg, node_http_rpc_handler, &t->rpc, &t->srv, err, sizeof err)) {
        fprintf(stderr, "node_http_start: %s\n", err);
        return -1;
    }
    t->port = node_http_port(t->srv);
    t->stop.data = t;
    uv_async_init(&t->loop, &t->stop, on_stop);
    return uv_thread_create(&t->thread, run_loop, t);
}

int test_server_stop(test_server *t)
{
    uv_async_send(&t->stop);
    uv_thread_join(&t->thread);
    return t->close_rc;
}

int test_connect(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct timeval tv = { .tv_sec = 5 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int test_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct {
    test_responses *r;
    bool field;
} reader;

static int r_begin(http_parser *p)
{
    reader *rd = p->data;
    if (rd->r->n < TEST_MAX_RESPONSES) {
        rd->r->body[rd->r->n][0] = '\0';
        rd->r->headers[rd->r->n][0] = '\0';
    }
    return 0;
}

static void append(char *dst, size_t cap, const char *at, size_t n)
{
    size_t have = strlen(dst);
    if (have + n >= cap)
        n = cap - 1 - have;
    memcpy(dst + have, at, n);
    dst[have + n] = '\0';
}

static int r_field(http_parser *p, const char *at, size_t n)
{
    reader *rd = p->data;
    if (rd->r->n < TEST_MAX_RESPONSES) {
        if (!rd->field && rd->r->headers[rd->r->n][0])
            append(rd->r->headers[rd->r->n], 1024, "\n", 1);
        append(rd->r->headers[rd->r->n], 1024, at, n);
    }
    rd->field = true;
    return 0;
}

static int r_value(http_parser *p, const char *at, size_t n)
{
    reader *rd = p->data;
    if (rd->r->n < TEST_MAX_RESPONSES) {
        if (rd->field)
            append(rd->r->headers[rd->r->n], 1024, ": ", 2);
        append(rd->r->headers[rd->r->n], 1024, at, n);
    }
    rd->field = false;
    return 0;
}

static int r_body(http_parser *p, const char *at, size_t n)
{
    reader *rd = p->data;
    if (rd->r->n < TEST_MAX_RESPONSES)
        append(rd->r->body[rd->r->n], 4096, at, n);
    return 0;
}

static int r_complete(http_parser *p)
{
    reader *rd = p->data;
    if (p->status_code == 100)      /* interim: not counted */
        return 0;
    if (rd->r->n < TEST_MAX_RESPONSES)
        rd->r->status[rd->r->n] = (int)p->status_code;
    rd->r->n++;
    return 0;
}

void test_read_responses(int fd, int want, test_responses *r)
{
    static const http_parser_settings st = {
        .on_message_begin = r_begin, .on_header_field = r_field,
        .on_header_value = r_value, .on_body = r_body, .on_message_complete = r_complete,
    };
    http_parser p;
    reader rd = { r, false };
    char buf[8192];
    memset(r, 0, sizeof *r);
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = &rd;
    while (r->n < want) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            r->eof = n == 0;
            r->reset = n < 0 && errno == ECONNRESET;
            return;
        }
        http_parser_execute(&p, &st, buf, (size_t)n);
        if (HTTP_PARSER_ERRNO(&p) != HPE_OK)
            return;
    }
}

typedef struct {
    char *out;
    size_t cap, len;
} sink;

static size_t on_data(char *p, size_t sz, size_t n, void *user)
{
    sink *s = user;
    size_t len = sz * n, take = len;
    if (s->len + take >= s->cap)
        take = s->cap - 1 - s->len;
    memcpy(s->out + s->len, p, take);
    s->len += take;
    s->out[s->len] = '\0';
    return len;
}

static long curl_do(int port, const char *path, const char *userpwd, const char *body,
                    char *out, size_t cap)
{
    char url[128];
    long code = 0;
    sink s = { out, cap, 0 };
    out[0] = '\0';
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    if (userpwd)
        curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code;
}

long test_curl_post(int port, const char *userpwd, const char *body, char *out, size_t cap)
{
    return curl_do(port, "/", userpwd, body, out, cap);
}

long test_curl_get(int port, const char *path, const char *userpwd, char *out, size_t cap)
{
    return curl_do(port, path, userpwd, NULL, out, cap);
}

double test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
