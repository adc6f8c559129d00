/*
 * abci.c: the ABCI++ socket server (see abci.h); framing, decoding and the
 * arena are in abci_wire.c.
 *
 * One abci_conn per accepted socket (TCP or Unix, one union of libuv
 * stream handles) holds the bytes read and not yet consumed (`in`, grown up
 * to one whole frame at most, max_msg_bytes + the varint), the answers not
 * yet handed to uv_write (`out`), an arena for the handler, and a timer for
 * the drain deadline. Each read appends to `in`; every whole frame in it is
 * decoded and answered at once, in order, into `out`; then `out` goes to
 * one uv_write. Answers therefore leave in request order, and a Flush is
 * answered after every answer before it.
 *
 * An error appends a ResponseException, stops reading and, once everything
 * is written, half-closes the socket and reads and discards until EOF or a
 * one-second deadline, so the peer gets the exception rather than a reset.
 * abci_server_stop() closes everything at once. The server and each
 * connection free themselves in their handles' close callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "node/abci.h"
#include "node/log.h"
#include "chain/base.h"

#define READ_MIN (64u << 10)        /* free input space offered to each read */
#define IN_KEEP (1u << 20)          /* a larger input buffer is freed once empty */
#define OUT_HIGH_WATER (16u << 20)  /* unwritten bytes before we stop reading */
#define DRAIN_MS 1000
#define DRAIN_MAX (16u << 20)       /* bytes discarded while draining */
#define MAX_MSG_LIMIT ((size_t)1 << 30)
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

typedef union {
    uv_handle_t h;
    uv_stream_t s;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} abci_stream;

typedef struct abci_conn {
    abci_stream io;
    uv_timer_t timer;
    uv_shutdown_t sreq;
    abci_server *srv;
    struct abci_conn *prev, *next;
    unsigned id;
    int open_handles;
    unsigned writes;                /* uv_write requests in flight */
    bool reading, paused, closing, close_after, draining, eof;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_cap;
    size_t drained;
    unsigned long long requests;
    abci_arena *arena;
} abci_conn;

struct abci_server {
    abci_stream listener;
    uv_loop_t *loop;
    bool is_unix, bound, stopping, listener_closed;
    char path[SUN_PATH_MAX];
    char addr[160];
    int port;
    size_t max_msg;
    abci_handle_fn fn;
    void *user;
    abci_conn *conns;
    size_t nconns;
    unsigned next_id;
    char discard[4096];
};

typedef struct {
    uv_write_t req;
    abci_conn *c;
    uint8_t *data;
} write_req;

static void conn_close(abci_conn *c);
static void conn_flush(abci_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void conn_fail(abci_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- reading ------------------------------------------------------------- */

static void start_reading(abci_conn *c)
{
    if (!c->reading && !c->closing && uv_read_start(&c->io.s, on_alloc, on_read) == 0)
        c->reading = true;
}

static void stop_reading(abci_conn *c)
{
    if (c->reading)
        uv_read_stop(&c->io.s);
    c->reading = false;
}

/* Room for at least READ_MIN more bytes (less only at the cap: one frame
 * plus its varint). */
static bool in_grow(abci_conn *c)
{
    size_t limit = c->srv->max_msg + ABCI_VARINT_MAX + READ_MIN;
    size_t cap = c->in_cap ? c->in_cap * 2 : READ_MIN;
    if (cap < c->in_len + READ_MIN)
        cap = c->in_len + READ_MIN;
    if (cap > limit)
        cap = limit;
    if (cap <= c->in_cap)
        return c->in_cap > c->in_len;
    uint8_t *p = realloc(c->in, cap);
    if (!p)
        return c->in_cap > c->in_len;
    c->in = p;
    c->in_cap = cap;
    return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    abci_conn *c = h->data;
    (void)suggested;
    if (c->draining) {
        *buf = uv_buf_init(c->srv->discard, sizeof c->srv->discard);
        return;
    }
    if (c->in_cap - c->in_len < READ_MIN && !in_grow(c)) {
        *buf = uv_buf_init(NULL, 0);  /* read reports UV_ENOBUFS */
        return;
    }
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* ---- writing ------------------------------------------------------------- */

static size_t conn_unwritten(const abci_conn *c)
{
    return c->out_len + uv_stream_get_write_queue_size(&c->io.s);
}

static bool out_reserve(abci_conn *c, size_t more)
{
    size_t pending = conn_unwritten(c);
    if (pending > ABCI_MAX_PENDING_OUT || more > ABCI_MAX_PENDING_OUT - pending) {
        node_log(NODE_LOG_ERROR, "abci: connection %u: the peer leaves more than %u MiB of "
                 "answers unread; closing it", c->id, ABCI_MAX_PENDING_OUT >> 20);
        return false;
    }
    if (c->out_cap - c->out_len >= more)
        return true;
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap - c->out_len < more)
        cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (!p) {
        node_log(NODE_LOG_ERROR, "abci: connection %u: out of memory for an answer; closing it",
                 c->id);
        return false;
    }
    c->out = p;
    c->out_cap = cap;
    return true;
}

/* Appends r as one frame to c->out; false (logged) when it cannot. */
static bool conn_put(abci_conn *c, const Abci__Response *r)
{
    uint8_t hdr[ABCI_VARINT_MAX];
    size_t body = abci__response__get_packed_size(r);
    size_t h = abci_varint_put(hdr, body);
    if (!out_reserve(c, h + body))
        return false;
    memcpy(c->out + c->out_len, hdr, h);
    abci__response__pack(r, c->out + c->out_len + h);
    c->out_len += h + body;
    return true;
}

static void on_timer(uv_timer_t *t)
{
    conn_close(t->data);            /* the drain deadline */
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    abci_conn *c = req->data;
    if (status < 0 && !c->closing)
        conn_close(c);
}

/* After the last answer of a failed connection: half-close, then read and
 * discard until EOF or the deadline. */
static void conn_drain(abci_conn *c)
{
    if (c->draining || c->closing)
        return;
    c->draining = true;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, &c->io.s, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timer, DRAIN_MS, 0);
    start_reading(c);
}

static void on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    abci_conn *c = w->c;
    free(w->data);
    free(w);
    c->writes--;
    if (c->closing)
        return;
    if (status < 0) {
        node_log(NODE_LOG_WARN, "abci: connection %u: write failed: %s", c->id, uv_strerror(status));
        conn_close(c);
        return;
    }
    if (c->close_after) {
        conn_flush(c);
    } else if (c->paused && conn_unwritten(c) < OUT_HIGH_WATER / 2) {
        c->paused = false;
        node_log(NODE_LOG_DEBUG, "abci: connection %u: the peer reads again; resuming", c->id);
        start_reading(c);
    }
}

/* Hands c->out to uv_write; ends a closing connection once all is written. */
static void conn_flush(abci_conn *c)
{
    if (c->closing || c->draining)
        return;
    if (c->out_len) {
        write_req *w = malloc(sizeof *w);
        if (!w) {
            conn_close(c);
            return;
        }
        uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
        w->c = c;
        w->data = c->out;
        c->out = NULL;
        c->out_len = c->out_cap = 0;
        if (uv_write(&w->req, &c->io.s, &b, 1, on_write) != 0) {
            free(w->data);
            free(w);
            conn_close(c);
            return;
        }
        c->writes++;
    }
    if (c->close_after && c->writes == 0) {
        if (c->eof)
            conn_close(c);
        else
            conn_drain(c);
    }
}

/* ---- requests ------------------------------------------------------------ */

static void conn_fail(abci_conn *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    node_log(NODE_LOG_ERROR, "abci: connection %u (%s): %s; closing it", c->id, c->srv->addr, msg);
    Abci__ResponseException ex = ABCI__RESPONSE_EXCEPTION__INIT;
    Abci__Response r = ABCI__RESPONSE__INIT;
    ex.error = msg;
    r.value_case = ABCI__RESPONSE__VALUE_EXCEPTION;
    r.exception = &ex;
    c->close_after = true;
    stop_reading(c);
    if (!conn_put(c, &r))
        conn_close(c);
}

/* The oneof member of the response's type, which must be set. */
static bool resp_member_set(const Abci__Response *r)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&abci__response__descriptor, (unsigned)r->value_case);
    return f && *(void *const *)((const char *)r + f->offset) != NULL;
}

static const char *resp_name(const Abci__Response *r)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&abci__response__descriptor, (unsigned)r->value_case);
    return f ? f->name : "nothing";
}

/* Fills resp for req: Echo and Flush here, the rest by the application.
 * 0, or -1 with err set. */
static int conn_answer(abci_conn *c, const Abci__Request *req, Abci__Response *resp,
                       char *err, size_t errlen)
{
    static Abci__ResponseFlush flush = ABCI__RESPONSE_FLUSH__INIT;
    if (req->value_case == ABCI__REQUEST__VALUE_FLUSH) {
        resp->value_case = ABCI__RESPONSE__VALUE_FLUSH;
        resp->flush = &flush;
        return 0;
    }
    if (req->value_case == ABCI__REQUEST__VALUE_ECHO) {
        Abci__ResponseEcho *e = abci_alloc(c->arena, sizeof *e);
        if (!e) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        abci__response_echo__init(e);
        e->message = req->echo->message;
        resp->value_case = ABCI__RESPONSE__VALUE_ECHO;
        resp->echo = e;
        return 0;
    }
    abci_server *s = c->srv;
    return s->fn(s->user, req, resp, c->arena, err, errlen);
}

static void conn_request(abci_conn *c, const uint8_t *body, size_t len)
{
    abci_request_buf d;
    char err[256] = "";
    unsigned long long n = ++c->requests;
    if (abci_request_decode(&d, body, len, err, sizeof err) != BASED_E_OK) {
        abci_request_release(&d);
        conn_fail(c, "request %llu: %s", n, err);
        return;
    }
    const Abci__Request *req = d.req;
    Abci__Response resp = ABCI__RESPONSE__INIT;
    int rc = conn_answer(c, req, &resp, err, sizeof err);
    if (c->closing) {
        /* the handler stopped the server */
    } else if (rc != 0) {
        conn_fail(c, "request %llu (%s): %s", n, abci_request_name(req->value_case),
                  err[0] ? err : "the application failed without a reason");
    } else if (resp.value_case != abci_response_case_for(req->value_case) || !resp_member_set(&resp)) {
        conn_fail(c, "request %llu (%s): the application answered %s%s", n,
                  abci_request_name(req->value_case), resp_name(&resp),
                  resp.value_case == abci_response_case_for(req->value_case) ? " without a value" : "");
    } else if (!conn_put(c, &resp)) {
        conn_close(c);
    }
    abci_request_release(&d);
    abci_arena_reset(c->arena);
}

/* Answers every whole frame in c->in, then writes. */
static void conn_process(abci_conn *c)
{
    size_t off = 0;
    while (!c->closing && !c->close_after) {
        size_t hdr, body;
        abci_frame_status st = abci_frame_next(c->in + off, c->in_len - off, c->srv->max_msg,
                                               &hdr, &body);
        if (st == ABCI_FRAME_MORE)
            break;
        if (st != ABCI_FRAME_OK) {
            conn_fail(c, "request %llu: %s (%zu bytes)", c->requests + 1,
                      abci_frame_status_str(st), c->srv->max_msg);
            break;
        }
        conn_request(c, c->in + off + hdr, body);
        off += hdr + body;
    }
    if (c->closing)
        return;
    if (c->close_after) {
        c->in_len = 0;
    } else {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    if (c->in_len == 0 && c->in_cap > IN_KEEP) {
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    conn_flush(c);
    size_t unwritten = conn_unwritten(c);
    if (!c->closing && !c->close_after && unwritten > OUT_HIGH_WATER) {
        node_log(NODE_LOG_DEBUG, "abci: connection %u: %zu bytes of answers unread; pausing reads",
                 c->id, unwritten);
        stop_reading(c);              /* the peer is not reading: wait for it */
        c->paused = true;
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    abci_conn *c = st->data;
    (void)buf;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread == UV_ENOBUFS)
            node_log(NODE_LOG_ERROR, "abci: connection %u: out of memory for input; closing it", c->id);
        else if (nread != UV_EOF && !c->draining)
            node_log(NODE_LOG_WARN, "abci: connection %u: read failed: %s", c->id,
                     uv_strerror((int)nread));
        stop_reading(c);
        c->eof = true;
        if (c->draining || nread != UV_EOF || c->writes == 0)
            conn_close(c);
        else
            c->close_after = true;    /* finish writing, then close */
        return;
    }
    if (c->draining) {
        c->drained += (size_t)nread;
        if (c->drained > DRAIN_MAX)
            conn_close(c);
        return;
    }
    if (nread == 0 || c->close_after)
        return;
    c->in_len += (size_t)nread;
    conn_process(c);
}

/* ---- connections ----------------------------------------------------------- */

static void server_maybe_free(abci_server *s)
{
    if (!s->stopping || !s->listener_closed || s->nconns > 0)
        return;
    free(s);
}

static void on_conn_closed(uv_handle_t *h)
{
    abci_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    abci_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    free(c->in);
    free(c->out);
    abci_arena_free(c->arena);
    free(c);
    server_maybe_free(s);
}

static void conn_close(abci_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->reading = false;
    node_log(NODE_LOG_INFO, "abci: connection %u closed after %llu requests", c->id, c->requests);
    uv_close(&c->io.h, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static abci_conn *conn_new(abci_server *s)
{
    abci_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->arena = abci_arena_new();
    if (!c->arena) {
        free(c);
        return NULL;
    }
    c->srv = s;
    c->id = ++s->next_id;
    c->io.h.data = c->timer.data = c;
    if (s->is_unix)
        uv_pipe_init(s->loop, &c->io.pipe, 0);
    else
        uv_tcp_init(s->loop, &c->io.tcp);
    uv_timer_init(s->loop, &c->timer);
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    return c;
}

static void on_connection(uv_stream_t *listener, int status)
{
    abci_server *s = listener->data;
    if (status < 0 || s->stopping)
        return;
    abci_conn *c = conn_new(s);
    if (!c)
        return;                     /* the connection waits in the backlog */
    if (uv_accept(listener, &c->io.s) != 0) {
        conn_close(c);
        return;
    }
    if (s->nconns > ABCI_MAX_CONNECTIONS) {
        node_log(NODE_LOG_WARN, "abci: %d connections already open; closing a new one",
                 ABCI_MAX_CONNECTIONS);
        conn_close(c);
        return;
    }
    if (!s->is_unix)
        uv_tcp_nodelay(&c->io.tcp, 1);
    node_log(NODE_LOG_INFO, "abci: connection %u opened (%zu open)", c->id, s->nconns);
    start_reading(c);
}

/* ---- addresses --------------------------------------------------------------- */

static based_err parse_unix(abci_server *s, const char *path, char *err, size_t errlen)
{
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof s->path) {
        snprintf(err, errlen, "ABCI address \"%s\": the socket path must have 1 to %zu bytes",
                 s->addr, sizeof s->path - 1);
        return BASED_E_CONFIG;
    }
    memcpy(s->path, path, n + 1);
    s->is_unix = true;
    return BASED_E_OK;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return ss->ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(a);
}

/* "HOST:PORT" or "[V6]:PORT" after tcp://, loopback only. */
static based_err parse_tcp(abci_server *s, const char *hp, struct sockaddr_storage *ss,
                           char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr(hp, ':'), *h = hp;
    size_t hlen = colon ? (size_t)(colon - hp) : 0;
    if (hp[0] == '[' && colon && colon > hp + 1 && colon[-1] == ']') {
        h = hp + 1;
        hlen -= 2;
    }
    char *end = NULL;
    long port = colon && colon[1] ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hlen == 0 || hlen >= sizeof host || !end || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "ABCI address \"%s\": expected tcp://127.0.0.1:PORT (port 0-65535)",
                 s->addr);
        return BASED_E_CONFIG;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) != 0 &&
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) != 0) {
        snprintf(err, errlen, "ABCI address \"%s\": \"%s\" is not an IP address", s->addr, host);
        return BASED_E_CONFIG;
    }
    if (!is_loopback(ss)) {
        snprintf(err, errlen, "ABCI address \"%s\": ABCI listens on loopback only "
                 "(127.0.0.1, localhost or [::1])", s->addr);
        return BASED_E_CONFIG;
    }
    return BASED_E_OK;
}

static based_err parse_addr(abci_server *s, const char *addr, struct sockaddr_storage *ss,
                            char *err, size_t errlen)
{
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    if (strncmp(addr, "unix://", 7) == 0)
        return parse_unix(s, addr + 7, err, errlen);
    if (strncmp(addr, "unix:", 5) == 0)
        return parse_unix(s, addr + 5, err, errlen);
    if (strncmp(addr, "tcp://", 6) == 0)
        return parse_tcp(s, addr + 6, ss, err, errlen);
    snprintf(err, errlen, "ABCI address \"%s\": expected unix:///path.sock or tcp://127.0.0.1:PORT",
             addr);
    return BASED_E_CONFIG;
}

/* A socket file left by a process that is gone is removed; one a live
 * server answers on, or a file that is not a socket, is refused. */
static based_err unix_clear_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return BASED_E_OK;
        snprintf(err, errlen, "ABCI socket %s: %s", path, strerror(errno));
        return BASED_E_NET;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "ABCI socket %s: exists and is not a socket", path);
        return BASED_E_NET;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "ABCI socket %s: %s", path, strerror(errno));
        return BASED_E_NET;
    }
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa), e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
        snprintf(err, errlen, "ABCI socket %s: in use by a running server", path);
        return BASED_E_NET;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "ABCI socket %s: cannot remove the stale socket: %s", path,
                 strerror(errno));
        return BASED_E_NET;
    }
    node_log(NODE_LOG_INFO, "abci: removed the stale socket %s", path);
    return BASED_E_OK;
}

/* ---- the server ---------------------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h)
{
    abci_server *s = h->data;
    if (s->is_unix && s->bound)
        unlink(s->path);
    s->listener_closed = true;
    s->stopping = true;
    server_maybe_free(s);
}

static based_err listen_unix(abci_server *s, char *err, size_t errlen)
{
    uv_pipe_init(s->loop, &s->listener.pipe, 0);
    s->listener.h.data = s;
    int rc = uv_pipe_bind(&s->listener.pipe, s->path);
    if (rc == 0) {
        s->bound = true;
        if (chmod(s->path, 0600) != 0)
            rc = uv_translate_sys_error(errno);
    }
    if (rc == 0)
        rc = uv_listen(&s->listener.s, 128, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", s->addr, uv_strerror(rc));
        return BASED_E_NET;
    }
    return BASED_E_OK;
}

static based_err listen_tcp(abci_server *s, const struct sockaddr_storage *ss,
                            char *err, size_t errlen)
{
    struct sockaddr_storage name;
    int namelen = sizeof name;
    uv_tcp_init(s->loop, &s->listener.tcp);
    s->listener.h.data = s;
    int rc = uv_tcp_bind(&s->listener.tcp, (const struct sockaddr *)ss, 0);
    if (rc == 0)
        rc = uv_listen(&s->listener.s, 128, on_connection);
    if (rc == 0)
        rc = uv_tcp_getsockname(&s->listener.tcp, (struct sockaddr *)&name, &namelen);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", s->addr, uv_strerror(rc));
        return BASED_E_NET;
    }
    s->port = ntohs(name.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&name)->sin6_port
                                               : ((struct sockaddr_in *)&name)->sin_port);
    return BASED_E_OK;
}

based_err abci_server_start(uv_loop_t *loop, const char *addr, size_t max_msg_bytes,
                            abci_handle_fn fn, void *user, abci_server **out,
                            char *err, size_t errlen)
{
    char dummy[8];
    struct sockaddr_storage ss;
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (out)
        *out = NULL;
    if (!loop || !addr || !fn || !out) {
        snprintf(err, errlen, "abci_server_start: missing argument");
        return BASED_E_CONFIG;
    }
    if (max_msg_bytes > MAX_MSG_LIMIT) {
        snprintf(err, errlen, "ABCI message limit %zu is over 1 GiB", max_msg_bytes);
        return BASED_E_CONFIG;
    }
    abci_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return BASED_E_NOMEM;
    }
    s->loop = loop;
    s->fn = fn;
    s->user = user;
    s->max_msg = max_msg_bytes ? max_msg_bytes : ABCI_DEFAULT_MAX_MSG;
    based_err e = parse_addr(s, addr, &ss, err, errlen);
    if (e == BASED_E_OK && s->is_unix)
        e = unix_clear_stale(s->path, err, errlen);
    if (e != BASED_E_OK) {          /* no handle yet */
        free(s);
        return e;
    }
    e = s->is_unix ? listen_unix(s, err, errlen) : listen_tcp(s, &ss, err, errlen);
    if (e != BASED_E_OK) {
        s->stopping = true;
        uv_close(&s->listener.h, on_listener_closed);
        return e;
    }
    if (s->is_unix)
        node_log(NODE_LOG_INFO, "abci: listening on %s", s->addr);
    else
        node_log(NODE_LOG_INFO, "abci: listening on %s (port %d)", s->addr, s->port);
    *out = s;
    return BASED_E_OK;
}

int abci_server_port(const abci_server *s)
{
    return s ? s->port : 0;
}

size_t abci_server_connections(const abci_server *s)
{
    return s ? s->nconns : 0;
}

void abci_server_stop(abci_server *s)
{
    if (!s || s->stopping)
        return;
    s->stopping = true;
    for (abci_conn *c = s->conns; c; c = c->next)
        conn_close(c);
    uv_close(&s->listener.h, on_listener_closed);
}
