/*
 * http.c: the HTTP/1.1 server (see http.h).
 *
 * One node_http_conn per accepted socket holds its uv_tcp_t and one
 * uv_timer_t (idle timeout, or the 401 delay, or the drain deadline), an
 * http_parser, the request being read and the responses not yet written.
 * Input is fed to http_parser; on_message_complete calls the handler and
 * appends the formatted response to conn->out, which is written with one
 * uv_write per read callback (so pipelined requests share a write).
 *
 * The parser is paused after a message when the connection must stop
 * reading: a delayed 401, a response that closes the connection, or too
 * many unwritten bytes (a client that pipelines without reading). The bytes
 * after the pause are kept in conn->pending and fed again on resume.
 *
 * A deferred request (node_http_defer) pauses the parser the same way; the
 * connection keeps reading while it waits, holding input in conn->pending
 * (up to READ_BUF bytes, then it stops reading) so that a reset or EOF is
 * noticed. conn->defer and pending->conn point at each other until either
 * the completion answers (and frees the pending) or the connection closes
 * (and orphans it, so the completion only frees it).
 *
 * Closing for an error or "Connection: close" is graceful: once the last
 * response is written the write side is shut down and input is read and
 * discarded until EOF or a short deadline, so the client sees the answer
 * rather than a reset. node_http_stop() closes everything at once.
 */
#include <assert.h>
#include <http_parser.h>
#include <sodium.h>
#include <strings.h>
#include <uv.h>

#include "node/http.h"
#include "node/log.h"
#include "node/rpc.h"
#include "chain/base.h"

#define URL_MAX 4096
#define AUTH_MAX 512
#define READ_BUF (64 * 1024)
#define OUT_HIGH_WATER (4u << 20)   /* unwritten bytes before we stop reading */
#define DRAIN_MS 1000
#define DRAIN_MAX (16u << 20)       /* bytes discarded while draining */

enum { HDR_OTHER, HDR_AUTH, HDR_EXPECT };

struct node_http_pending {
    node_http_conn *conn;            /* NULL once the connection has closed */
    bool keep_alive, head;           /* of the request, for the answer */
};

struct node_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t sreq;
    http_parser parser;
    node_http_server *srv;
    struct node_http_conn *prev, *next;
    int open_handles;
    unsigned writes;                 /* uv_write requests in flight */
    bool reading, closing, close_after, draining, delaying, blocked;
    bool in_handler, answered;       /* answered: completed inside the handler */
    node_http_pending *defer;        /* the request awaiting its answer */
    int err_status;                  /* set by a callback that fails */
    /* the request being read */
    char url[URL_MAX + 1];
    size_t url_len, header_bytes;
    char hname[16];
    size_t hname_len;
    bool in_value;
    int hkind;
    char auth[AUTH_MAX + 1];
    size_t auth_len;
    bool auth_long, expect_continue;
    char *body;
    size_t body_len, body_cap;
    /* input held while paused; output not yet handed to uv_write */
    char *pending;
    size_t pending_len;
    char *out;
    size_t out_len, out_cap;
    size_t drained;
};

struct node_http_server {
    uv_tcp_t listener;
    uv_loop_t *loop;
    node_http_config cfg;
    char *auth;                       /* owned copy of cfg.auth */
    unsigned char auth_hash[crypto_generichash_BYTES];
    node_http_handler handler;
    void *user;
    node_http_conn *conns;
    size_t nconns;
    bool stopping, listener_closed;
    int port;
    char rbuf[READ_BUF];
};

typedef struct {
    uv_write_t req;
    node_http_conn *c;
    char *data;
} write_req;

static void conn_close(node_http_conn *c);
static void conn_resume(node_http_conn *c);
static void conn_flush(node_http_conn *c);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_timer(uv_timer_t *t);

/* ---- config ------------------------------------------------------------ */

void node_http_config_init(node_http_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bind = NODE_HTTP_DEFAULT_BIND;
    cfg->max_body = 1u << 20;
    cfg->max_header = 16u << 10;
    cfg->max_connections = 256;
    cfg->idle_timeout_ms = 30000;
    cfg->auth_delay_ms = 250;
}

static void config_fill(node_http_config *dst, const node_http_config *src)
{
    node_http_config def;
    node_http_config_init(&def);
    *dst = *src;
    if (!dst->bind || !dst->bind[0])
        dst->bind = def.bind;
    if (!dst->max_body)
        dst->max_body = def.max_body;
    if (!dst->max_header)
        dst->max_header = def.max_header;
    if (!dst->max_connections)
        dst->max_connections = def.max_connections;
    if (!dst->idle_timeout_ms)
        dst->idle_timeout_ms = def.idle_timeout_ms;
}

/* "ADDR:PORT" / "[V6]:PORT" / "localhost:PORT" -> *ss. */
static based_err parse_bind(const char *bind, struct sockaddr_storage *ss,
                            char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr(bind, ':'), *h = bind;
    size_t hlen = colon ? (size_t)(colon - bind) : 0;
    if (bind[0] == '[') {
        const char *close = strchr(bind, ']');
        if (!close || close[1] != ':' || close != colon - 1)
            colon = NULL;
        h = bind + 1;
        hlen = close ? (size_t)(close - h) : 0;
    }
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hlen == 0 || hlen >= sizeof host || !colon[1] || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "bind address \"%s\": expected ADDR:PORT (port 0-65535)", bind);
        return BASED_E_CONFIG;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) != 0 &&
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) != 0) {
        snprintf(err, errlen, "bind address \"%s\": \"%s\" is not an IP address", bind, host);
        return BASED_E_CONFIG;
    }
    return BASED_E_OK;
}

/* ---- output ------------------------------------------------------------ */

static bool out_reserve(node_http_conn *c, size_t more)
{
    if (c->out_cap - c->out_len >= more)
        return true;
    size_t cap = c->out_cap ? c->out_cap : 1024;
    while (cap - c->out_len < more)
        cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p)
        return false;
    c->out = p;
    c->out_cap = cap;
    return true;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/* Appends one response (status line, headers, body) to c->out. */
static void out_response(node_http_conn *c, const node_http_response *res, bool head)
{
    char hdr[512];
    int status = res->status >= 100 && res->status <= 999 ? res->status : 500;
    bool nobody = status == 204 || status == 304 || status < 200;
    bool ka10 = !c->close_after && c->parser.http_major == 1 && c->parser.http_minor == 0;
    int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (!nobody)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                      res->content_type ? res->content_type : "application/json", res->body_len);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%s%s%s\r\n",
                  status == 401 ? "WWW-Authenticate: Basic realm=\"based\"\r\n" : "",
                  c->close_after ? "Connection: close\r\n" : ka10 ? "Connection: keep-alive\r\n" : "",
                  res->headers ? res->headers : "");
    if (n < 0 || (size_t)n >= sizeof hdr)
        n = snprintf(hdr, sizeof hdr, "HTTP/1.1 500 %s\r\nContent-Length: 0\r\n\r\n", reason(500));
    size_t blen = nobody || head ? 0 : res->body_len;
    if (!out_reserve(c, (size_t)n + blen)) {
        c->close_after = true;
        return;
    }
    memcpy(c->out + c->out_len, hdr, (size_t)n);
    c->out_len += (size_t)n;
    if (blen)
        memcpy(c->out + c->out_len, res->body, blen);
    c->out_len += blen;
}

static char *dup_text(const char *s, size_t *len)
{
    *len = strlen(s);
    char *p = malloc(*len + 1);
    if (p)
        memcpy(p, s, *len + 1);
    else
        *len = 0;
    return p;
}

/* An error the server answers itself; the connection closes afterwards. */
static void out_error(node_http_conn *c, int status, const char *what)
{
    char body[160];
    node_http_response res = { .status = status };
    snprintf(body, sizeof body, "{\"error\":\"%s\"}", what);
    res.body = dup_text(body, &res.body_len);
    c->close_after = true;
    out_response(c, &res, false);
    free(res.body);
}

static void on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    node_http_conn *c = w->c;
    free(w->data);
    free(w);
    c->writes--;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->close_after) {
        conn_flush(c);              /* starts the drain once nothing is left */
    } else if (c->blocked &&
               uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < OUT_HIGH_WATER / 2) {
        c->blocked = false;
        conn_resume(c);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    node_http_conn *c = req->data;
    if (status < 0 && !c->closing)
        conn_close(c);
}

/* After the last response of a closing connection: half-close, then read
 * and discard until EOF or the deadline. */
static void conn_drain(node_http_conn *c)
{
    if (c->draining || c->closing)
        return;
    c->draining = true;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timer, DRAIN_MS, 0);
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

/* Hands c->out to uv_write; starts the drain when the connection ends. */
static void conn_flush(node_http_conn *c)
{
    if (c->closing || c->delaying)
        return;
    if (c->out_len) {
        write_req *w = malloc(sizeof *w);
        if (!w) {
            conn_close(c);
            return;
        }
        uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
        w->c = c;
        w->data = c->out;
        c->out = NULL;
        c->out_len = c->out_cap = 0;
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
            free(w->data);
            free(w);
            conn_close(c);
            return;
        }
        c->writes++;
    }
    if (c->close_after && c->writes == 0 && !c->defer)
        conn_drain(c);
}

/* ---- parser callbacks -------------------------------------------------- */

static node_http_conn *conn_of(http_parser *p)
{
    return p->data;
}

/* Counts request-line and header bytes against max_header. */
static int header_budget(node_http_conn *c, size_t n)
{
    c->header_bytes += n;
    if (c->header_bytes > c->srv->cfg.max_header) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    node_http_conn *c = conn_of(p);
    c->url_len = c->header_bytes = c->hname_len = c->auth_len = c->body_len = 0;
    c->in_value = c->auth_long = c->expect_continue = false;
    c->hkind = HDR_OTHER;
    if (c->body_cap > READ_BUF) {     /* do not keep a large body between requests */
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    node_http_conn *c = conn_of(p);
    if (header_budget(c, n))
        return -1;
    if (c->url_len + n > URL_MAX) {
        c->err_status = 414;
        return -1;
    }
    memcpy(c->url + c->url_len, at, n);
    c->url_len += n;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    node_http_conn *c = conn_of(p);
    if (header_budget(c, n))
        return -1;
    if (c->in_value) {              /* a new header starts */
        c->in_value = false;
        c->hname_len = 0;
    }
    for (size_t i = 0; i < n && c->hname_len + i < sizeof c->hname; i++)
        c->hname[c->hname_len + i] = at[i];
    c->hname_len += n;              /* names longer than hname never match */
    return 0;
}

static int header_kind(const node_http_conn *c)
{
    if (c->hname_len == 13 && strncasecmp(c->hname, "authorization", 13) == 0)
        return HDR_AUTH;
    if (c->hname_len == 6 && strncasecmp(c->hname, "expect", 6) == 0)
        return HDR_EXPECT;
    return HDR_OTHER;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    node_http_conn *c = conn_of(p);
    if (header_budget(c, n))
        return -1;
    if (!c->in_value) {
        c->in_value = true;
        c->hkind = header_kind(c);
        if (c->hkind == HDR_AUTH)
            c->auth_len = 0;
    }
    if (c->hkind == HDR_AUTH) {
        if (c->auth_len + n > AUTH_MAX) {
            c->auth_long = true;
            return 0;
        }
        memcpy(c->auth + c->auth_len, at, n);
        c->auth_len += n;
    } else if (c->hkind == HDR_EXPECT) {
        c->expect_continue = n == 12 && strncasecmp(at, "100-continue", 12) == 0;
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    node_http_conn *c = conn_of(p);
    size_t max = c->srv->cfg.max_body;
    if (p->http_major != 1) {
        c->err_status = 505;
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > max) {
        c->err_status = 413;
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length + 1 > c->body_cap) {
        char *b = realloc(c->body, (size_t)p->content_length + 1);
        if (!b) {
            c->err_status = 503;
            return -1;
        }
        c->body = b;
        c->body_cap = (size_t)p->content_length + 1;
    }
    if (c->expect_continue && p->http_major == 1 && p->http_minor >= 1) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (out_reserve(c, sizeof cont - 1)) {
            memcpy(c->out + c->out_len, cont, sizeof cont - 1);
            c->out_len += sizeof cont - 1;
        }
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    node_http_conn *c = conn_of(p);
    size_t max = c->srv->cfg.max_body;
    if (n > max - c->body_len) {
        c->err_status = 413;
        return -1;
    }
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        char *b = realloc(c->body, cap);
        if (!b) {
            c->err_status = 503;
            return -1;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    return 0;
}

/* Does the request carry the configured Basic credentials? */
static bool check_auth(node_http_conn *c)
{
    node_http_server *s = c->srv;
    unsigned char cred[AUTH_MAX], hash[crypto_generichash_BYTES];
    size_t clen = 0;
    if (!s->auth)
        return true;
    if (c->auth_long || c->auth_len < 6 || strncasecmp(c->auth, "Basic ", 6) != 0)
        return false;
    const char *b64 = c->auth + 6;
    size_t blen = c->auth_len - 6;
    while (blen && *b64 == ' ')
        b64++, blen--;
    while (blen && b64[blen - 1] == ' ')
        blen--;
    if (sodium_base642bin(cred, sizeof cred, b64, blen, NULL, &clen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    crypto_generichash(hash, sizeof hash, cred, clen, NULL, 0);
    sodium_memzero(cred, sizeof cred);
    return sodium_memcmp(hash, s->auth_hash, sizeof hash) == 0;
}

/* Queues the response to a request (keep_alive, head: the request's). */
static void conn_queue(node_http_conn *c, const node_http_response *res, bool keep_alive,
                       bool head)
{
    if (!keep_alive || c->srv->stopping)
        c->close_after = true;
    out_response(c, res, head);
    if (res->status == 401 && c->srv->cfg.auth_delay_ms)
        c->delaying = true;
}

/* Builds the request, runs the handler, queues the response. */
static void dispatch(node_http_conn *c)
{
    struct http_parser_url u;
    node_http_request req = { .method = http_method_str((enum http_method)c->parser.method) };
    node_http_response res = { 0 };
    c->url[c->url_len] = '\0';
    http_parser_url_init(&u);
    if (http_parser_parse_url(c->url, c->url_len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH))) {
        out_error(c, 400, "bad request target");
        return;
    }
    if (u.field_set & (1 << UF_QUERY)) {
        c->url[u.field_data[UF_QUERY].off + u.field_data[UF_QUERY].len] = '\0';
        req.query = c->url + u.field_data[UF_QUERY].off;
    } else {
        req.query = "";
    }
    c->url[u.field_data[UF_PATH].off + u.field_data[UF_PATH].len] = '\0';
    req.path = c->url + u.field_data[UF_PATH].off;
    if (c->body)
        c->body[c->body_len] = '\0';
    req.body = c->body ? c->body : "";
    req.body_len = c->body_len;
    req.authorized = check_auth(c);
    req.conn = c;
    c->in_handler = true;
    c->srv->handler(c->srv->user, &req, &res);
    c->in_handler = false;
    if (!c->defer && !c->answered)  /* else answered by node_http_complete */
        conn_queue(c, &res, http_should_keep_alive(&c->parser), c->parser.method == HTTP_HEAD);
    c->answered = false;
    free(res.body);
}

static int on_message_complete(http_parser *p)
{
    node_http_conn *c = conn_of(p);
    dispatch(c);
    size_t queued = c->out_len + uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    if (queued > OUT_HIGH_WATER)
        c->blocked = true;
    if (c->delaying || c->close_after || c->blocked || c->defer)
        http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- connections ------------------------------------------------------- */

static void stop_reading(node_http_conn *c)
{
    if (c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void start_reading(node_http_conn *c)
{
    if (!c->reading && !c->closing &&
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

/* May the connection read more input (a deferred request does not stop it)? */
static bool conn_may_read(const node_http_conn *c)
{
    return !c->closing && !c->delaying && !c->blocked && !c->close_after;
}

/* Keeps the unparsed rest of a read while the parser is paused. */
static void keep_pending(node_http_conn *c, const char *p, size_t n)
{
    if (!(c->defer && conn_may_read(c)))
        stop_reading(c);
    if (n == 0)
        return;
    c->pending = malloc(n);
    if (!c->pending) {
        conn_close(c);
        return;
    }
    memcpy(c->pending, p, n);
    c->pending_len = n;
}

static const char *parse_error_text(int status)
{
    switch (status) {
    case 413: return "request body too large";
    case 414: return "request target too long";
    case 431: return "request headers too large";
    case 503: return "out of memory";
    case 505: return "HTTP version not supported";
    default: return "malformed HTTP request";
    }
}

/* Feeds bytes to the parser until they are used up, it pauses or fails. */
static void conn_feed(node_http_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len && !c->closing) {
        size_t n = http_parser_execute(&c->parser, &parser_settings, data + off, len - off);
        off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            keep_pending(c, data + off, len - off);
            return;
        }
        if (e != HPE_OK) {
            int status = c->err_status ? c->err_status : 400;
            stop_reading(c);
            out_error(c, status, parse_error_text(status));
            return;
        }
        if (c->parser.upgrade || n == 0) {      /* no upgrades here */
            stop_reading(c);
            c->close_after = true;
            return;
        }
    }
}

/* After input was parsed: arms the timer (the 401 delay, or the idle
 * timeout) and writes what the requests produced. */
static void conn_after_feed(node_http_conn *c)
{
    if (c->closing)
        return;
    if (c->delaying)
        uv_timer_start(&c->timer, on_timer, c->srv->cfg.auth_delay_ms, 0);
    else if (c->defer)
        uv_timer_stop(&c->timer);   /* no idle timeout while the handler works */
    else if (!c->draining)
        uv_timer_start(&c->timer, on_timer, c->srv->cfg.idle_timeout_ms, 0);
    conn_flush(c);
}

/* Continues after a pause: feeds held input, reads again. */
static void conn_resume(node_http_conn *c)
{
    if (!conn_may_read(c) || c->defer)
        return;
    http_parser_pause(&c->parser, 0);
    char *p = c->pending;
    size_t n = c->pending_len;
    c->pending = NULL;
    c->pending_len = 0;
    if (p)
        conn_feed(c, p, n);
    free(p);
    if (conn_may_read(c))
        start_reading(c);
    conn_after_feed(c);
}

static void on_timer(uv_timer_t *t)
{
    node_http_conn *c = t->data;
    if (c->closing)
        return;
    if (c->delaying) {              /* the 401 delay is over */
        c->delaying = false;
        conn_flush(c);
        conn_resume(c);
        return;
    }
    conn_close(c);                  /* idle, or the drain deadline */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    node_http_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->srv->rbuf, sizeof c->srv->rbuf);
}

/* Input that arrives while a request is deferred waits in c->pending. */
static void conn_hold(node_http_conn *c, const char *p, size_t n)
{
    char *q = realloc(c->pending, c->pending_len + n);
    if (!q) {
        conn_close(c);
        return;
    }
    memcpy(q + c->pending_len, p, n);
    c->pending = q;
    c->pending_len += n;
    if (c->pending_len >= READ_BUF)
        stop_reading(c);            /* the rest waits in the socket */
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    node_http_conn *c = st->data;
    if (c->closing)
        return;
    if (nread < 0) {
        /* EOF or error: finish writing what is queued, then close */
        stop_reading(c);
        if (c->draining || (c->writes == 0 && !c->defer) || nread != UV_EOF)
            conn_close(c);
        else
            c->close_after = true;
        return;
    }
    if (c->draining) {
        c->drained += (size_t)nread;
        if (c->drained > DRAIN_MAX)
            conn_close(c);
        return;
    }
    if (nread == 0)
        return;
    if (c->defer) {
        conn_hold(c, buf->base, (size_t)nread);
        return;
    }
    conn_feed(c, buf->base, (size_t)nread);
    conn_after_feed(c);
}

static void server_maybe_free(node_http_server *s)
{
    if (s->stopping && s->listener_closed && s->nconns == 0) {
        sodium_memzero(s->auth_hash, sizeof s->auth_hash);
        if (s->auth)
            sodium_memzero(s->auth, strlen(s->auth));
        free(s->auth);
        free(s);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    node_http_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    node_http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    free(c->body);
    free(c->pending);
    free(c->out);
    free(c);
    server_maybe_free(s);
}

static void conn_close(node_http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->reading = false;
    if (c->defer) {                 /* the completion will only free it */
        c->defer->conn = NULL;
        c->defer = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_connection(uv_stream_t *listener, int status)
{
    node_http_server *s = listener->data;
    if (status < 0 || s->stopping)
        return;
    node_http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;                     /* the connection waits in the backlog */
    c->srv = s;
    c->tcp.data = c->timer.data = c->parser.data = c;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || s->nconns > s->cfg.max_connections) {
        if (s->nconns > s->cfg.max_connections)
            node_log(NODE_LOG_DEBUG, "http: connection limit (%u) reached, closing a new one",
                     s->cfg.max_connections);
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    start_reading(c);
    uv_timer_start(&c->timer, on_timer, s->cfg.idle_timeout_ms, 0);
}

/* ---- server ------------------------------------------------------------ */

static void on_listener_closed(uv_handle_t *h)
{
    node_http_server *s = h->data;
    s->listener_closed = true;
    s->stopping = true;
    server_maybe_free(s);
}

static based_err listen_on(node_http_server *s, const struct sockaddr_storage *ss,
                           char *err, size_t errlen)
{
    struct sockaddr_storage name;
    int namelen = sizeof name;
    int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
    if (rc == 0)
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&name, &namelen);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", s->cfg.bind, uv_strerror(rc));
        return BASED_E_NET;
    }
    s->port = ntohs(name.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&name)->sin6_port
                                               : ((struct sockaddr_in *)&name)->sin_port);
    return BASED_E_OK;
}

static node_http_server *server_new(uv_loop_t *loop, const node_http_config *cfg,
                                    node_http_handler handler, void *user)
{
    node_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    config_fill(&s->cfg, cfg);
    s->loop = loop;
    s->handler = handler;
    s->user = user;
    if (cfg->auth) {
        size_t n = strlen(cfg->auth);
        s->auth = malloc(n + 1);
        if (!s->auth) {
            free(s);
            return NULL;
        }
        memcpy(s->auth, cfg->auth, n + 1);
        crypto_generichash(s->auth_hash, sizeof s->auth_hash, (const unsigned char *)s->auth, n, NULL, 0);
    }
    s->cfg.auth = s->auth;
    return s;
}

based_err node_http_start(uv_loop_t *loop, const node_http_config *cfg,
                          node_http_handler handler, void *user,
                          node_http_server **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    char dummy[8];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (out)
        *out = NULL;
    if (!loop || !cfg || !handler || !out) {
        snprintf(err, errlen, "node_http_start: missing argument");
        return BASED_E_CONFIG;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return BASED_E_INTERNAL;
    }
    based_err e = parse_bind(cfg->bind && cfg->bind[0] ? cfg->bind : NODE_HTTP_DEFAULT_BIND,
                             &ss, err, errlen);
    if (e != BASED_E_OK)
        return e;
    node_http_server *s = server_new(loop, cfg, handler, user);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return BASED_E_NOMEM;
    }
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    e = listen_on(s, &ss, err, errlen);
    if (e != BASED_E_OK) {
        s->stopping = true;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return e;
    }
    node_log(NODE_LOG_INFO, "http: listening on %s (port %d)", s->cfg.bind, s->port);
    *out = s;
    return BASED_E_OK;
}

int node_http_port(const node_http_server *s)
{
    return s ? s->port : 0;
}

size_t node_http_connections(const node_http_server *s)
{
    return s ? s->nconns : 0;
}

void node_http_stop(node_http_server *s)
{
    if (!s || s->stopping)
        return;
    s->stopping = true;
    for (node_http_conn *c = s->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

/* ---- deferred responses ---------------------------------------------- */

node_http_pending *node_http_defer(const node_http_request *req)
{
    node_http_conn *c = req ? req->conn : NULL;
    if (!c || !c->in_handler || c->defer || c->closing)
        return NULL;
    node_http_pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->conn = c;
    p->keep_alive = http_should_keep_alive(&c->parser);
    p->head = c->parser.method == HTTP_HEAD;
    c->defer = p;
    return p;
}

/* Queues the deferred answer and lets the connection go on. */
static void conn_answer(node_http_conn *c, const node_http_pending *p,
                        const node_http_response *res)
{
    c->defer = NULL;
    conn_queue(c, res, p->keep_alive, p->head);
    if (c->in_handler) {            /* completed at once: dispatch goes on */
        c->answered = true;
        return;
    }
    conn_after_feed(c);             /* the 401 delay or the idle timer; writes */
    conn_resume(c);                 /* held input, more requests */
}

void node_http_complete(node_http_pending *p, node_http_response *res)
{
    node_http_response fail = { .status = 500 };
    if (!res) {
        res = &fail;
        res->body = dup_text("{\"error\":\"internal error\"}", &res->body_len);
    }
    if (p && p->conn) {
        assert(p->conn->defer == p);
        conn_answer(p->conn, p, res);
    }
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    free(p);
}

bool node_http_pending_open(const node_http_pending *p)
{
    return p && p->conn;
}

/* ---- the node's routes ------------------------------------------------- */

static void set_body(node_http_response *res, int status, const char *text)
{
    res->status = status;
    res->content_type = "application/json";
    res->body = dup_text(text, &res->body_len);
}

void node_http_default_route(const node_rpc_method *table, void *ctx,
                             const node_http_request *req, node_http_response *res)
{
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(req->path, "/health") == 0) {
        if (get)
            set_body(res, 200, "{\"status\":\"ok\"}");
        else
            set_body(res, 405, "{\"error\":\"method not allowed\"}"), res->headers = "Allow: GET\r\n";
        return;
    }
    if (!req->authorized) {
        set_body(res, 401, "{\"error\":\"unauthorized\"}");
        return;
    }
    if (strcmp(req->path, "/") != 0) {
        set_body(res, 404, "{\"error\":\"not found\"}");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        set_body(res, 405, "{\"error\":\"method not allowed: use POST\"}");
        res->headers = "Allow: POST\r\n";
        return;
    }
    res->body = node_jsonrpc_handle(table, ctx, req->body, req->body_len, &res->body_len);
    res->status = res->body ? 200 : 204;
    res->content_type = "application/json";
}

void node_http_rpc_handler(void *user, const node_http_request *req, node_http_response *res)
{
    const node_http_rpc *r = user;
    node_http_default_route(r->table, r->ctx, req, res);
}
