/* Tests of deferred responses (node_http_defer / node_http_complete) over
 * real sockets. The server runs on a libuv loop in a thread with a handler
 * of its own:
 *   GET /now          200 "now" at once
 *   GET /timer?ms=N   deferred, answered "timer N" by a uv timer after N ms
 *   GET /work?ms=N    deferred, a uv_queue_work sleeps N ms on a thread pool
 *                     thread and its after-work callback answers "work N"
 *   GET /inline       deferred and completed inside the handler: "inline"
 * Completions that find the connection gone are counted as discarded. */
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/runner.h"
#include "tests/node/http_client.h"
#include "node/log.h"
#include "chain/base.h"

typedef struct {
    uv_loop_t loop;
    uv_async_t stop;
    uv_thread_t thread;
    node_http_server *srv;
    int port;
    int close_rc;
    atomic_int completed, discarded, deferred;
} defer_server;

typedef struct {
    union {
        uv_timer_t timer;
        uv_work_t work;
    } u;
    defer_server *ds;
    node_http_pending *p;
    unsigned ms;
} job;

static void answer(job *j, const char *what)
{
    char text[64];
    node_http_response res = { .status = 200, .content_type = "text/plain" };
    snprintf(text, sizeof text, "%s %u", what, j->ms);
    res.body_len = strlen(text);
    res.body = malloc(res.body_len + 1);
    if (res.body)
        memcpy(res.body, text, res.body_len + 1);
    if (node_http_pending_open(j->p))
        atomic_fetch_add(&j->ds->completed, 1);
    else
        atomic_fetch_add(&j->ds->discarded, 1);
    node_http_complete(j->p, res.body ? &res : NULL);
}

static void on_job_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_job_timer(uv_timer_t *t)
{
    job *j = t->data;
    answer(j, "timer");
    uv_close((uv_handle_t *)t, on_job_closed);
}

static void on_work(uv_work_t *w)
{
    job *j = w->data;
    usleep(j->ms * 1000u);
}

static void on_work_done(uv_work_t *w, int status)
{
    job *j = w->data;
    (void)status;
    answer(j, "work");
    free(j);
}

static void set_text(node_http_response *res, int status, const char *text)
{
    res->status = status;
    res->content_type = "text/plain";
    res->body_len = strlen(text);
    res->body = malloc(res->body_len + 1);
    if (res->body)
        memcpy(res->body, text, res->body_len + 1);
    else
        res->body_len = 0;
}

/* Starts a timer or a work request answering req later. */
static void start_job(defer_server *ds, const node_http_request *req, node_http_response *res,
                      bool work)
{
    job *j = calloc(1, sizeof *j);
    unsigned ms = 0;
    if (!j || sscanf(req->query, "ms=%u", &ms) != 1 || ms > 10000) {
        free(j);
        set_text(res, 400, "ms=N wanted");
        return;
    }
    j->ds = ds;
    j->ms = ms;
    j->p = node_http_defer(req);
    if (!j->p) {
        free(j);
        set_text(res, 503, "cannot defer");
        return;
    }
    atomic_fetch_add(&ds->deferred, 1);
    set_text(res, 500, "ignored: the deferred answer wins");
    j->u.timer.data = j;
    if (work) {
        uv_queue_work(&ds->loop, &j->u.work, on_work, on_work_done);
        return;
    }
    uv_timer_init(&ds->loop, &j->u.timer);
    uv_timer_start(&j->u.timer, on_job_timer, ms, 0);
}

static void defer_handler(void *user, const node_http_request *req, node_http_response *res)
{
    defer_server *ds = user;
    if (strcmp(req->path, "/now") == 0) {
        set_text(res, 200, "now");
    } else if (strcmp(req->path, "/timer") == 0) {
        start_job(ds, req, res, false);
    } else if (strcmp(req->path, "/work") == 0) {
        start_job(ds, req, res, true);
    } else if (strcmp(req->path, "/inline") == 0) {
        node_http_pending *p = node_http_defer(req);
        node_http_response now = { 0 };
        if (!p || node_http_defer(req) != NULL) {   /* a second defer is refused */
            set_text(res, 500, "defer");
            return;
        }
        set_text(&now, 200, "inline");
        node_http_complete(p, &now);
    } else {
        set_text(res, 404, "not found");
    }
}

static void on_stop(uv_async_t *a)
{
    defer_server *ds = a->data;
    node_http_stop(ds->srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void run_loop(void *arg)
{
    defer_server *ds = arg;
    uv_run(&ds->loop, UV_RUN_DEFAULT);
    ds->close_rc = uv_loop_close(&ds->loop);
}

static int defer_start(defer_server *ds, unsigned idle_ms)
{
    node_http_config cfg;
    char err[256];
    memset(ds, 0, sizeof *ds);
    node_log_set_level(NODE_LOG_WARN);
    node_http_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    if (idle_ms)
        cfg.idle_timeout_ms = idle_ms;
    if (uv_loop_init(&ds->loop) != 0)
        return -1;
    if (node_http_start(&ds->loop, &cfg, defer_handler, ds, &ds->srv, err, sizeof err)) {
        fprintf(stderr, "node_http_start: %s\n", err);
        return -1;
    }
    ds->port = node_http_port(ds->srv);
    ds->stop.data = ds;
    uv_async_init(&ds->loop, &ds->stop, on_stop);
    return uv_thread_create(&ds->thread, run_loop, ds);
}

static int defer_stop(defer_server *ds)
{
    uv_async_send(&ds->stop);
    uv_thread_join(&ds->thread);
    return ds->close_rc;
}

static size_t get_req(char *buf, size_t cap, const char *target, const char *extra)
{
    return (size_t)snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", target,
                            extra ? extra : "");
}

static char out[4096];

TEST(node_http_defer_timer_and_work)
{
    defer_server ds;
    test_responses *r = calloc(1, sizeof *r);
    char req[256];
    CHECK(r);
    CHECK_EQ_INT(defer_start(&ds, 0), 0);
    double t0 = test_now_ms();
    CHECK_EQ_INT(test_curl_get(ds.port, "/timer?ms=80", NULL, out, sizeof out), 200);
    CHECK_EQ_STR(out, "timer 80");
    CHECK(test_now_ms() - t0 >= 75);
    CHECK_EQ_INT(test_curl_get(ds.port, "/work?ms=60", NULL, out, sizeof out), 200);
    CHECK_EQ_STR(out, "work 60");
    CHECK_EQ_INT(test_curl_get(ds.port, "/inline", NULL, out, sizeof out), 200);
    CHECK_EQ_STR(out, "inline");
    /* while one connection waits on a thread, the loop serves another */
    int a = test_connect(ds.port), b = test_connect(ds.port);
    CHECK(a >= 0 && b >= 0);
    CHECK_EQ_INT(test_send(a, req, get_req(req, sizeof req, "/work?ms=400", NULL)), 0);
    usleep(30 * 1000);
    t0 = test_now_ms();
    CHECK_EQ_INT(test_send(b, req, get_req(req, sizeof req, "/now", NULL)), 0);
    test_read_responses(b, 1, r);
    CHECK_EQ_INT(r->status[0], 200);
    CHECK_EQ_STR(r->body[0], "now");
    CHECK(test_now_ms() - t0 < 300);
    test_read_responses(a, 1, r);
    CHECK_EQ_INT(r->status[0], 200);
    CHECK_EQ_STR(r->body[0], "work 400");
    /* a deferred answer honours Connection: close */
    CHECK_EQ_INT(test_send(a, req, get_req(req, sizeof req, "/timer?ms=20", "Connection: close\r\n")), 0);
    test_read_responses(a, 2, r);
    CHECK_EQ_INT(r->n, 1);
    CHECK_EQ_STR(r->body[0], "timer 20");
    CHECK(strstr(r->headers[0], "Connection: close") != NULL);
    CHECK(r->eof);
    close(a);
    close(b);
    CHECK_EQ_INT(atomic_load(&ds.completed), 4);
    CHECK_EQ_INT(atomic_load(&ds.discarded), 0);
    free(r);
    CHECK_EQ_INT(defer_stop(&ds), 0);
}

TEST(node_http_defer_pipelined_order)
{
    defer_server ds;
    test_responses *r = calloc(1, sizeof *r);
    char all[1024];
    size_t len = 0;
    CHECK(r);
    CHECK_EQ_INT(defer_start(&ds, 0), 0);
    len += get_req(all + len, sizeof all - len, "/timer?ms=150", NULL);
    len += get_req(all + len, sizeof all - len, "/now", NULL);
    len += get_req(all + len, sizeof all - len, "/work?ms=50", NULL);
    len += get_req(all + len, sizeof all - len, "/inline", NULL);
    len += get_req(all + len, sizeof all - len, "/timer?ms=10", NULL);
    len += get_req(all + len, sizeof all - len, "/now", NULL);
    int fd = test_connect(ds.port);
    CHECK(fd >= 0);
    CHECK_EQ_INT(test_send(fd, all, len), 0);
    test_read_responses(fd, 6, r);
    CHECK_EQ_INT(r->n, 6);
    static const char *const want[] = { "timer 150", "now", "work 50", "inline", "timer 10", "now" };
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(r->status[i], 200);
        CHECK_EQ_STR(r->body[i], want[i]);
    }
    /* the same with the second request arriving while the first waits */
    CHECK_EQ_INT(test_send(fd, all, get_req(all, sizeof all, "/timer?ms=150", NULL)), 0);
    usleep(50 * 1000);
    CHECK_EQ_INT(test_send(fd, all, get_req(all, sizeof all, "/now", NULL)), 0);
    test_read_responses(fd, 2, r);
    CHECK_EQ_INT(r->n, 2);
    CHECK_EQ_STR(r->body[0], "timer 150");
    CHECK_EQ_STR(r->body[1], "now");
    close(fd);
    free(r);
    CHECK_EQ_INT(defer_stop(&ds), 0);
}

TEST(node_http_defer_client_gone)
{
    defer_server ds;
    char req[256];
    CHECK_EQ_INT(defer_start(&ds, 0), 0);
    /* a reset while the work runs: the completion is discarded */
    int fd = test_connect(ds.port);
    CHECK(fd >= 0);
    CHECK_EQ_INT(test_send(fd, req, get_req(req, sizeof req, "/work?ms=200", NULL)), 0);
    usleep(50 * 1000);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    usleep(50 * 1000);
    CHECK_EQ_INT(node_http_connections(ds.srv), 0);
    usleep(250 * 1000);
    CHECK_EQ_INT(atomic_load(&ds.discarded), 1);
    /* a timer outliving its connection: same */
    fd = test_connect(ds.port);
    CHECK_EQ_INT(test_send(fd, req, get_req(req, sizeof req, "/timer?ms=200", NULL)), 0);
    usleep(50 * 1000);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    usleep(300 * 1000);
    CHECK_EQ_INT(atomic_load(&ds.discarded), 2);
    /* a plain close (FIN) may be a half-close: the answer is still written,
     * then the connection goes */
    fd = test_connect(ds.port);
    CHECK_EQ_INT(test_send(fd, req, get_req(req, sizeof req, "/timer?ms=100", NULL)), 0);
    close(fd);
    fd = test_connect(ds.port);
    CHECK_EQ_INT(test_send(fd, req, get_req(req, sizeof req, "/timer?ms=100", NULL)), 0);
    shutdown(fd, SHUT_WR);
    test_responses *r = calloc(1, sizeof *r);
    CHECK(r);
    test_read_responses(fd, 2, r);
    CHECK_EQ_INT(r->n, 1);
    CHECK_EQ_STR(r->body[0], "timer 100");
    CHECK(r->eof);
    close(fd);
    free(r);
    usleep(100 * 1000);
    CHECK_EQ_INT(node_http_connections(ds.srv), 0);
    CHECK_EQ_INT(atomic_load(&ds.deferred), 4);
    CHECK_EQ_INT(atomic_load(&ds.completed) + atomic_load(&ds.discarded), 4);
    /* the server goes on serving */
    CHECK_EQ_INT(test_curl_get(ds.port, "/timer?ms=5", NULL, out, sizeof out), 200);
    CHECK_EQ_STR(out, "timer 5");
    CHECK_EQ_INT(defer_stop(&ds), 0);
}

TEST(node_http_defer_stop_outstanding)
{
    defer_server ds;
    char req[256];
    CHECK_EQ_INT(defer_start(&ds, 100), 0);
    int w = test_connect(ds.port), t = test_connect(ds.port);
    CHECK(w >= 0 && t >= 0);
    CHECK_EQ_INT(test_send(w, req, get_req(req, sizeof req, "/work?ms=300", NULL)), 0);
    CHECK_EQ_INT(test_send(t, req, get_req(req, sizeof req, "/timer?ms=250", NULL)), 0);
    usleep(150 * 1000);
    /* both outlived the idle timeout (100 ms): no idle close while deferred */
    CHECK_EQ_INT(node_http_connections(ds.srv), 2);
    double t0 = test_now_ms();
    CHECK_EQ_INT(defer_stop(&ds), 0);            /* uv_loop_close() == 0 */
    CHECK(test_now_ms() - t0 < 2000);
    CHECK_EQ_INT(atomic_load(&ds.discarded), 2);
    CHECK_EQ_INT(atomic_load(&ds.completed), 0);
    char c;
    CHECK_EQ_INT(recv(w, &c, 1, 0), 0);
    CHECK_EQ_INT(recv(t, &c, 1, 0), 0);
    close(w);
    close(t);
}
