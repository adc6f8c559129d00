/* The test-abci helpers (see harness.h). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/abci/harness.h"
#include "tests/runner.h"
#include "chain/base.h"

static void on_stop(uv_async_t *a)
{
    tabci_server *t = a->data;
    abci_server_stop(t->srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void run_loop(void *arg)
{
    tabci_server *t = arg;
    uv_run(&t->loop, UV_RUN_DEFAULT);
    t->close_rc = uv_loop_close(&t->loop);
}

based_err tabci_start(tabci_server *t, const char *addr, size_t max_msg, abci_handle_fn fn,
                      void *user, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (uv_loop_init(&t->loop) != 0) {
        snprintf(err, errlen, "uv_loop_init failed");
        return BASED_E_INTERNAL;
    }
    based_err e = abci_server_start(&t->loop, addr, max_msg, fn, user, &t->srv, err, errlen);
    if (e != BASED_E_OK) {
        uv_run(&t->loop, UV_RUN_DEFAULT);      /* closes the failed listener */
        if (uv_loop_close(&t->loop) != 0)
            snprintf(err, errlen, "the loop did not close after a failed start");
        return e;
    }
    t->port = abci_server_port(t->srv);
    t->stop.data = t;
    uv_async_init(&t->loop, &t->stop, on_stop);
    return uv_thread_create(&t->thread, run_loop, t) == 0 ? BASED_E_OK : BASED_E_INTERNAL;
}

int tabci_stop(tabci_server *t)
{
    uv_async_send(&t->stop);
    uv_thread_join(&t->thread);
    return t->close_rc;
}

char *tabci_unix_addr(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "unix://%s/%s", test_tmpdir(), name);
    return buf;
}

static int with_timeout(int fd)
{
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

int tabci_connect_unix(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || strlen(path) >= sizeof a.sun_path) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return with_timeout(fd);
}

int tabci_connect_tcp(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return with_timeout(fd);
}

int tabci_send(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int tabci_read_exact(int fd, void *p, size_t n)
{
    char *d = p;
    while (n > 0) {
        ssize_t r = recv(fd, d, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        d += r;
        n -= (size_t)r;
    }
    return 0;
}

int tabci_read_frame(int fd, uint8_t **body, size_t *len)
{
    uint8_t b = 0x80;
    size_t h = 0, n = 0;
    *body = NULL;
    *len = 0;
    while ((b & 0x80) && h < ABCI_VARINT_MAX) {
        ssize_t r = recv(fd, &b, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && h == 0)
            return 0;
        if (r <= 0)
            return -1;
        n |= (size_t)(b & 0x7f) << (7 * h++);
    }
    if ((b & 0x80) || n > (1u << 30))
        return -1;
    *body = malloc(n + 1);
    if (!*body || tabci_read_exact(fd, *body, n) != 0) {
        free(*body);
        *body = NULL;
        return -1;
    }
    *len = n;
    return 1;
}

Abci__Response *tabci_read_response(int fd)
{
    uint8_t *body;
    size_t len;
    if (tabci_read_frame(fd, &body, &len) != 1)
        return NULL;
    Abci__Response *r = abci__response__unpack(NULL, len, body);
    free(body);
    return r;
}

bool tabci_eof(int fd)
{
    char c;
    ssize_t r;
    do
        r = recv(fd, &c, 1, 0);
    while (r < 0 && errno == EINTR);
    return r == 0;
}

int tabci_send_request(int fd, const Abci__Request *req)
{
    size_t n;
    uint8_t *p = abci_frame_pack(&req->base, &n);
    int rc = p ? tabci_send(fd, p, n) : -1;
    free(p);
    return rc;
}

uint8_t *tabci_echo_frame(const char *msg, size_t *len)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestEcho e = ABCI__REQUEST_ECHO__INIT;
    e.message = (char *)msg;
    req.value_case = ABCI__REQUEST__VALUE_ECHO;
    req.echo = &e;
    return abci_frame_pack(&req.base, len);
}

uint8_t *tabci_flush_frame(size_t *len)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestFlush f = ABCI__REQUEST_FLUSH__INIT;
    req.value_case = ABCI__REQUEST__VALUE_FLUSH;
    req.flush = &f;
    return abci_frame_pack(&req.base, len);
}
