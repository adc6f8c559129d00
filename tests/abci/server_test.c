/* Tests of node/abci.c over real sockets: the server runs on a libuv loop
 * in a thread (harness.c), the client is a plain blocking socket. Exact
 * bytes for Flush and Echo, pipelining, frames split byte by byte or many
 * in one write, every malformed input closing only its connection, the
 * caps, the addresses, and a clean stop (uv_loop_close() returns 0). */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/runner.h"
#include "tests/support.h"
#include "tests/abci/harness.h"
#include "tests/abci/tests.h"
#include "node/abci.h"
#include "node/log.h"
#include "chain/base.h"

static const uint8_t flush_req[] = { 0x02, 0x12, 0x00 };
static const uint8_t flush_resp[] = { 0x02, 0x1a, 0x00 };
static const uint8_t echo_req[] = { 0x09, 0x0a, 0x07, 0x0a, 0x05, 'h', 'e', 'l', 'l', 'o' };
static const uint8_t echo_resp[] = { 0x09, 0x12, 0x07, 0x0a, 0x05, 'h', 'e', 'l', 'l', 'o' };
static const uint8_t app_hash[32] = { 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                      0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                      0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                      0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0x01 };

typedef struct {
    tabci_server *t;
} test_app;

static int answer_query(test_app *app, const Abci__RequestQuery *q, Abci__Response *resp,
                        abci_arena *a, char *err, size_t errlen)
{
    if (strcmp(q->path, "fail") == 0) {
        snprintf(err, errlen, "query refused");
        return -1;
    }
    if (strcmp(q->path, "wrong") == 0) {     /* the wrong type of answer */
        resp->value_case = ABCI__RESPONSE__VALUE_INFO;
        resp->info = abci_alloc(a, sizeof *resp->info);
        abci__response_info__init(resp->info);
        return 0;
    }
    resp->value_case = ABCI__RESPONSE__VALUE_QUERY;
    if (strcmp(q->path, "null") == 0)         /* the right type, no value */
        return 0;
    Abci__ResponseQuery *r = abci_alloc(a, sizeof *r);
    char *v = abci_alloc(a, 32);
    if (!r || !v)
        return -1;
    abci__response_query__init(r);
    snprintf(v, 32, "%zu", abci_server_connections(app->t->srv));
    r->value.data = (uint8_t *)v;
    r->value.len = strlen(v);
    r->height = q->height;
    resp->query = r;
    return 0;
}

/* Info with fixed values, CheckTx answering code = tx length, Commit with
 * retain_height 7, Query for the failure cases; anything else fails. */
static int app_handle(void *user, const Abci__Request *req, Abci__Response *resp,
                      abci_arena *a, char *err, size_t errlen)
{
    test_app *app = user;
    switch (req->value_case) {
    case ABCI__REQUEST__VALUE_INFO: {
        Abci__ResponseInfo *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_info__init(r);
        r->data = abci_strdup(a, "based");
        r->version = (char *)BASED_VERSION;
        r->app_version = 3;
        r->last_block_height = 42;
        r->last_block_app_hash.data = abci_dup(a, app_hash, sizeof app_hash);
        r->last_block_app_hash.len = sizeof app_hash;
        resp->value_case = ABCI__RESPONSE__VALUE_INFO;
        resp->info = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_CHECK_TX: {
        Abci__ResponseCheckTx *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_check_tx__init(r);
        r->code = (uint32_t)req->check_tx->tx.len;
        r->log = (char *)(req->check_tx->type == ABCI__CHECK_TX_TYPE__RECHECK ? "recheck" : "new");
        resp->value_case = ABCI__RESPONSE__VALUE_CHECK_TX;
        resp->check_tx = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_COMMIT: {
        Abci__ResponseCommit *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_commit__init(r);
        r->retain_height = 7;
        resp->value_case = ABCI__RESPONSE__VALUE_COMMIT;
        resp->commit = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_QUERY:
        return answer_query(app, req->query, resp, a, err, errlen);
    default:
        snprintf(err, errlen, "no %s in this test", abci_request_name(req->value_case));
        return -1;
    }
}

static int start(tabci_server *t, test_app *app, const char *addr, size_t max_msg)
{
    char err[256];
    app->t = t;
    node_log_set_level(NODE_LOG_WARN);
    if (tabci_start(t, addr, max_msg, app_handle, app, err, sizeof err) != 0) {
        fprintf(stderr, "    abci server: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- building requests --------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_request(bytes *b, const Abci__Request *req)
{
    size_t n;
    uint8_t *p = abci_frame_pack(&req->base, &n);
    put(b, p, n);
    free(p);
}

static void put_echo(bytes *b, const char *msg)
{
    size_t n;
    uint8_t *p = tabci_echo_frame(msg, &n);
    put(b, p, n);
    free(p);
}

static void put_info(bytes *b)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestInfo i = ABCI__REQUEST_INFO__INIT;
    i.version = (char *)"0.38.25";
    i.block_version = 11;
    i.p2p_version = 8;
    i.abci_version = (char *)"2.0.0";
    req.value_case = ABCI__REQUEST__VALUE_INFO;
    req.info = &i;
    put_request(b, &req);
}

static void put_check_tx(bytes *b, const char *tx, bool recheck)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestCheckTx c = ABCI__REQUEST_CHECK_TX__INIT;
    c.tx.data = (uint8_t *)tx;
    c.tx.len = strlen(tx);
    c.type = recheck ? ABCI__CHECK_TX_TYPE__RECHECK : ABCI__CHECK_TX_TYPE__NEW;
    req.value_case = ABCI__REQUEST__VALUE_CHECK_TX;
    req.check_tx = &c;
    put_request(b, &req);
}

static void put_commit(bytes *b)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestCommit c = ABCI__REQUEST_COMMIT__INIT;
    req.value_case = ABCI__REQUEST__VALUE_COMMIT;
    req.commit = &c;
    put_request(b, &req);
}

static void put_query(bytes *b, const char *path)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestQuery q = ABCI__REQUEST_QUERY__INIT;
    q.path = (char *)path;
    q.height = 9;
    req.value_case = ABCI__REQUEST__VALUE_QUERY;
    req.query = &q;
    put_request(b, &req);
}

static void put_list_snapshots(bytes *b)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestListSnapshots l = ABCI__REQUEST_LIST_SNAPSHOTS__INIT;
    req.value_case = ABCI__REQUEST__VALUE_LIST_SNAPSHOTS;
    req.list_snapshots = &l;
    put_request(b, &req);
}

/* The pipeline of several tests: Info, Echo a, CheckTx xyz, Echo b,
 * CheckTx (recheck) of 5 bytes, Commit, Flush. */
static void put_pipeline(bytes *b)
{
    put_info(b);
    put_echo(b, "a");
    put_check_tx(b, "xyz", false);
    put_echo(b, "b");
    put_check_tx(b, "12345", true);
    put_commit(b);
    put(b, flush_req, sizeof flush_req);
}

/* The answers to put_pipeline, in order; 0 when all are right, else the
 * number (1-based) of the first wrong one. */
static int check_pipeline(int fd)
{
    Abci__Response *r[7] = { 0 };
    int bad = 0;
    for (int i = 0; i < 7 && !bad; i++)
        if (!(r[i] = tabci_read_response(fd)))
            bad = i + 1;
    if (!bad && (r[0]->value_case != ABCI__RESPONSE__VALUE_INFO || r[0]->info->last_block_height != 42))
        bad = 1;
    if (!bad && (r[1]->value_case != ABCI__RESPONSE__VALUE_ECHO || strcmp(r[1]->echo->message, "a")))
        bad = 2;
    if (!bad && (r[2]->value_case != ABCI__RESPONSE__VALUE_CHECK_TX || r[2]->check_tx->code != 3 ||
                 strcmp(r[2]->check_tx->log, "new")))
        bad = 3;
    if (!bad && (r[3]->value_case != ABCI__RESPONSE__VALUE_ECHO || strcmp(r[3]->echo->message, "b")))
        bad = 4;
    if (!bad && (r[4]->value_case != ABCI__RESPONSE__VALUE_CHECK_TX || r[4]->check_tx->code != 5 ||
                 strcmp(r[4]->check_tx->log, "recheck")))
        bad = 5;
    if (!bad && (r[5]->value_case != ABCI__RESPONSE__VALUE_COMMIT || r[5]->commit->retain_height != 7))
        bad = 6;
    if (!bad && r[6]->value_case != ABCI__RESPONSE__VALUE_FLUSH)
        bad = 7;
    for (int i = 0; i < 7; i++)
        if (r[i])
            abci__response__free_unpacked(r[i], NULL);
    return bad;
}

/* ---- tests ------------------------------------------------------------------ */

static void exact_bytes_on(int fd)
{
    uint8_t got[16];
    CHECK(fd >= 0);
    CHECK_EQ_INT(tabci_send(fd, flush_req, sizeof flush_req), 0);
    CHECK_EQ_INT(tabci_read_exact(fd, got, sizeof flush_resp), 0);
    CHECK_EQ_MEM(got, flush_resp, sizeof flush_resp);
    CHECK_EQ_INT(tabci_send(fd, echo_req, sizeof echo_req), 0);
    CHECK_EQ_INT(tabci_read_exact(fd, got, sizeof echo_resp), 0);
    CHECK_EQ_MEM(got, echo_resp, sizeof echo_resp);
    /* Echo then Flush in one write: both answers, in order */
    uint8_t both[sizeof echo_req + sizeof flush_req];
    memcpy(both, echo_req, sizeof echo_req);
    memcpy(both + sizeof echo_req, flush_req, sizeof flush_req);
    CHECK_EQ_INT(tabci_send(fd, both, sizeof both), 0);
    CHECK_EQ_INT(tabci_read_exact(fd, got, sizeof echo_resp + sizeof flush_resp), 0);
    CHECK_EQ_MEM(got, echo_resp, sizeof echo_resp);
    CHECK_EQ_MEM(got + sizeof echo_resp, flush_resp, sizeof flush_resp);
}

TEST(abci_unix_exact_bytes)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256];
    struct stat st;
    tabci_unix_addr(addr, sizeof addr, "app.sock");
    CHECK_EQ_INT(start(&t, &app, addr, 0), 0);
    CHECK_EQ_INT(abci_server_port(t.srv), 0);
    CHECK_EQ_INT(stat(addr + 7, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    int fd = tabci_connect_unix(addr + 7);
    exact_bytes_on(fd);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
    CHECK(stat(addr + 7, &st) != 0);       /* the socket file is gone */
}

TEST(abci_tcp_exact_bytes)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    CHECK_EQ_INT(start(&t, &app, "tcp://127.0.0.1:0", 0), 0);
    CHECK(t.port > 0);
    int fd = tabci_connect_tcp(t.port);
    exact_bytes_on(fd);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
    CHECK_EQ_INT(start(&t, &app, "tcp://localhost:0", 0), 0);
    fd = tabci_connect_tcp(t.port);
    exact_bytes_on(fd);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
}

TEST(abci_info_values)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256];
    bytes b = { 0 };
    CHECK_EQ_INT(start(&t, &app, tabci_unix_addr(addr, sizeof addr, "a.sock"), 0), 0);
    int fd = tabci_connect_unix(addr + 7);
    CHECK(fd >= 0);
    put_info(&b);
    put(&b, flush_req, sizeof flush_req);
    CHECK_EQ_INT(tabci_send(fd, b.p, b.len), 0);
    free(b.p);
    Abci__Response *r = tabci_read_response(fd);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->value_case, ABCI__RESPONSE__VALUE_INFO);
    CHECK_EQ_STR(r->info->data, "based");
    CHECK_EQ_STR(r->info->version, BASED_VERSION);
    CHECK_EQ_U64(r->info->app_version, 3);
    CHECK_EQ_INT(r->info->last_block_height, 42);
    CHECK_EQ_INT(r->info->last_block_app_hash.len, 32);
    CHECK_EQ_MEM(r->info->last_block_app_hash.data, app_hash, 32);
    abci__response__free_unpacked(r, NULL);
    r = tabci_read_response(fd);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->value_case, ABCI__RESPONSE__VALUE_FLUSH);
    abci__response__free_unpacked(r, NULL);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
}

TEST(abci_pipelined_in_order)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    bytes b = { 0 };
    CHECK_EQ_INT(start(&t, &app, "tcp://127.0.0.1:0", 0), 0);
    int fd = tabci_connect_tcp(t.port);
    CHECK(fd >= 0);
    put_pipeline(&b);
    CHECK_EQ_INT(tabci_send(fd, b.p, b.len), 0);     /* all in one write */
    CHECK_EQ_INT(check_pipeline(fd), 0);
    /* three pipelines in one write */
    bytes once = { 0 };
    put_pipeline(&once);
    put(&b, once.p, once.len);
    put(&b, once.p, once.len);
    free(once.p);
    CHECK_EQ_INT(tabci_send(fd, b.p, b.len), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(check_pipeline(fd), 0);
    free(b.p);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
}

TEST(abci_split_byte_by_byte)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256];
    bytes b = { 0 };
    CHECK_EQ_INT(start(&t, &app, tabci_unix_addr(addr, sizeof addr, "s.sock"), 0), 0);
    int fd = tabci_connect_unix(addr + 7);
    CHECK(fd >= 0);
    put_pipeline(&b);
    for (size_t i = 0; i < b.len; i++) {
        CHECK_EQ_INT(tabci_send(fd, b.p + i, 1), 0);
        usleep(300);                        /* each byte its own read */
    }
    CHECK_EQ_INT(check_pipeline(fd), 0);
    free(b.p);
    /* a 3 MB echo in 1000-byte pieces: the input buffer grows across reads */
    size_t big = 3u << 20;
    char *msg = malloc(big + 1);
    CHECK(msg != NULL);
    for (size_t i = 0; i < big; i++)
        msg[i] = (char)('a' + i % 26);
    msg[big] = '\0';
    size_t n;
    uint8_t *frame = tabci_echo_frame(msg, &n);
    CHECK(frame != NULL);
    for (size_t off = 0; off < n; off += 1000)
        CHECK_EQ_INT(tabci_send(fd, frame + off, n - off < 1000 ? n - off : 1000), 0);
    free(frame);
    Abci__Response *r = tabci_read_response(fd);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->value_case, ABCI__RESPONSE__VALUE_ECHO);
    CHECK_EQ_INT(strlen(r->echo->message), big);
    CHECK(memcmp(r->echo->message, msg, big) == 0);
    abci__response__free_unpacked(r, NULL);
    free(msg);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
}

/* A whole (small) file, NUL-terminated, malloc'd; NULL when unreadable. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);
    if (!f || !buf) {
        if (f)
            fclose(f);
        free(buf);
        return NULL;
    }
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef struct {
    const char *name;
    uint8_t bytes[16];
    size_t len;
    void (*build)(bytes *b);          /* or a request built here */
    const char *want;                 /* in the exception */
} bad_case;

static void build_fail(bytes *b) { put_query(b, "fail"); }
static void build_wrong(bytes *b) { put_query(b, "wrong"); }
static void build_null(bytes *b) { put_query(b, "null"); }
static void build_unhandled(bytes *b) { put_list_snapshots(b); }

static const bad_case bad_cases[] = {
    { "varint over 10 bytes", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
      11, NULL, "longer than 10 bytes" },
    { "length over the cap", { 0x89, 0x20 }, 2, NULL, "over the message size limit (4096 bytes)" },
    { "garbage protobuf", { 0x03, 0xff, 0xff, 0xff }, 4, NULL, "not a valid abci Request" },
    { "empty request", { 0x00 }, 1, NULL, "no type set" },
    { "SetOption (gone)", { 0x02, 0x22, 0x00 }, 3, NULL, "unknown request type (field 4)" },
    { "handler fails", { 0 }, 0, build_fail, "(query): query refused" },
    { "wrong answer type", { 0 }, 0, build_wrong, "the application answered info" },
    { "answer without value", { 0 }, 0, build_null, "answered query without a value" },
    { "unhandled request", { 0 }, 0, build_unhandled, "no list_snapshots in this test" },
};

/* Echo "first", then the bad bytes: the echo answer, one exception naming
 * the problem, then EOF. */
static void bad_case_run(int fd, const bad_case *c)
{
    bytes b = { 0 };
    put_echo(&b, "first");
    if (c->build)
        c->build(&b);
    else
        put(&b, c->bytes, c->len);
    put(&b, flush_req, sizeof flush_req);      /* never answered */
    CHECK_EQ_INT(tabci_send(fd, b.p, b.len), 0);
    free(b.p);
    Abci__Response *r = tabci_read_response(fd);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->value_case, ABCI__RESPONSE__VALUE_ECHO);
    CHECK_EQ_STR(r->echo->message, "first");
    abci__response__free_unpacked(r, NULL);
    r = tabci_read_response(fd);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->value_case, ABCI__RESPONSE__VALUE_EXCEPTION);
    if (!strstr(r->exception->error, c->want))
        test_fail_(__FILE__, __LINE__, "%s: exception \"%s\" lacks \"%s\"", c->name,
                   r->exception->error, c->want);
    abci__response__free_unpacked(r, NULL);
    CHECK(tabci_eof(fd));
}

TEST(abci_malformed_closes_only_that_connection)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256], logpath[512], *log = NULL;
    CHECK_EQ_INT(start(&t, &app, tabci_unix_addr(addr, sizeof addr, "m.sock"), 4096), 0);
    snprintf(logpath, sizeof logpath, "%s/node.log", test_tmpdir());
    CHECK_EQ_INT(node_log_open(logpath), BASED_E_OK);
    node_log_set_stderr(false);
    int keep = tabci_connect_unix(addr + 7);   /* a bystander, open throughout */
    CHECK(keep >= 0);
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad_cases); i++) {
        int fd = i % 2 ? tabci_connect_unix(addr + 7) : -1;
        if (fd < 0)
            fd = tabci_connect_unix(addr + 7);
        CHECK(fd >= 0);
        bad_case_run(fd, &bad_cases[i]);
        close(fd);
    }
    /* the bystander still works; once the failed connections are gone
     * (each drains until the client's close), it and the asker remain */
    bytes b = { 0 };
    put_query(&b, "conns");
    put(&b, flush_req, sizeof flush_req);
    int fd = tabci_connect_unix(addr + 7);
    CHECK(fd >= 0);
    char conns = 0;
    for (double t0 = tsup_now_ms(); conns != '2' && tsup_now_ms() - t0 < 5000; tsup_nap_ms(20)) {
        for (int k = 0; k < 2; k++) {
            CHECK_EQ_INT(tabci_send(k ? keep : fd, b.p, b.len), 0);
            Abci__Response *r = tabci_read_response(k ? keep : fd);
            CHECK(r != NULL);
            CHECK_EQ_INT(r->value_case, ABCI__RESPONSE__VALUE_QUERY);
            CHECK_EQ_INT(r->query->value.len, 1);
            CHECK_EQ_INT(r->query->height, 9);
            conns = (char)r->query->value.data[0];
            abci__response__free_unpacked(r, NULL);
            r = tabci_read_response(k ? keep : fd);
            CHECK(r && r->value_case == ABCI__RESPONSE__VALUE_FLUSH);
            abci__response__free_unpacked(r, NULL);
        }
    }
    free(b.p);
    CHECK_EQ_INT(conns, '2');
    close(fd);
    close(keep);
    CHECK_EQ_INT(tabci_stop(&t), 0);
    node_log_close();
    /* the log names each connection and reason */
    log = read_file(logpath);
    CHECK(log != NULL);
    CHECK(strstr(log, "ERROR abci: connection 2 (") != NULL);
    CHECK(strstr(log, "request 2: length varint longer than 10 bytes") != NULL);
    CHECK(strstr(log, "request 2 (query): query refused; closing it") != NULL);
    free(log);
}

TEST(abci_message_cap)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    size_t cap = 1u << 20, n;
    CHECK_EQ_INT(start(&t, &app, "tcp://127.0.0.1:0", cap), 0);
    node_log_set_stderr(false);
    int fd = tabci_connect_tcp(t.port);
    CHECK(fd >= 0);
    /* an Echo whose request is exactly the cap is served */
    char *msg = malloc(cap);
    CHECK(msg != NULL);
    memset(msg, 'q', cap);
    msg[cap - 8] = '\0';          /* body = the message + 2 tags + 2 three-byte lengths */
    uint8_t *frame = tabci_echo_frame(msg, &n);
    size_t h, body;
    CHECK_EQ_INT(abci_frame_next(frame, n, SIZE_MAX, &h, &body), ABCI_FRAME_OK);
    CHECK_EQ_INT(body, cap);
    CHECK_EQ_INT(tabci_send(fd, frame, n), 0);
    free(frame);
    Abci__Response *r = tabci_read_response(fd);
    CHECK(r && r->value_case == ABCI__RESPONSE__VALUE_ECHO);
    CHECK_EQ_INT(strlen(r->echo->message), cap - 8);
    abci__response__free_unpacked(r, NULL);
    /* one byte more is refused from the header alone */
    msg[cap - 8] = 'q';
    msg[cap - 7] = '\0';
    frame = tabci_echo_frame(msg, &n);
    CHECK_EQ_INT(abci_frame_next(frame, n, SIZE_MAX, &h, &body), ABCI_FRAME_OK);
    CHECK_EQ_INT(body, cap + 1);
    CHECK_EQ_INT(tabci_send(fd, frame, h), 0);
    free(frame);
    free(msg);
    r = tabci_read_response(fd);
    CHECK(r && r->value_case == ABCI__RESPONSE__VALUE_EXCEPTION);
    CHECK(strstr(r->exception->error, "over the message size limit (1048576 bytes)") != NULL);
    abci__response__free_unpacked(r, NULL);
    CHECK(tabci_eof(fd));
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
}

typedef struct {
    int fd, n;
    size_t size;
    int rc;
} writer_job;

static void *writer(void *arg)
{
    writer_job *j = arg;
    char *msg = malloc(j->size + 1);
    bytes b = { 0 };
    j->rc = -1;
    if (!msg)
        return NULL;
    for (int i = 0; i < j->n; i++) {
        memset(msg, 'A' + i % 26, j->size);
        msg[j->size] = '\0';
        b.len = 0;
        put_echo(&b, msg);
        if (tabci_send(j->fd, b.p, b.len) != 0) {
            free(msg);
            free(b.p);
            return NULL;
        }
    }
    j->rc = tabci_send(j->fd, flush_req, sizeof flush_req);
    free(msg);
    free(b.p);
    return NULL;
}

/* A peer that sends 48 MiB of echoes without reading: the server stops
 * reading at its high-water mark instead of buffering it all; once the
 * peer reads, every answer arrives, in order. */
TEST(abci_backpressure_keeps_order)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256];
    pthread_t th;
    char logpath[512];
    CHECK_EQ_INT(start(&t, &app, tabci_unix_addr(addr, sizeof addr, "b.sock"), 0), 0);
    snprintf(logpath, sizeof logpath, "%s/node.log", test_tmpdir());
    CHECK_EQ_INT(node_log_open(logpath), BASED_E_OK);
    node_log_set_stderr(false);
    node_log_set_level(NODE_LOG_DEBUG);
    int fd = tabci_connect_unix(addr + 7);
    CHECK(fd >= 0);
    struct timeval tv = { .tv_sec = 30 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    writer_job j = { .fd = fd, .n = 48, .size = 1u << 20 };
    CHECK_EQ_INT(pthread_create(&th, NULL, writer, &j), 0);
    usleep(1500 * 1000);                     /* not reading yet */
    for (int i = 0; i < j.n; i++) {
        Abci__Response *r = tabci_read_response(fd);
        CHECK(r && r->value_case == ABCI__RESPONSE__VALUE_ECHO);
        CHECK_EQ_INT(strlen(r->echo->message), j.size);
        CHECK_EQ_INT(r->echo->message[0], 'A' + i % 26);
        CHECK_EQ_INT(r->echo->message[j.size - 1], 'A' + i % 26);
        abci__response__free_unpacked(r, NULL);
    }
    Abci__Response *r = tabci_read_response(fd);
    CHECK(r && r->value_case == ABCI__RESPONSE__VALUE_FLUSH);
    abci__response__free_unpacked(r, NULL);
    pthread_join(th, NULL);
    CHECK_EQ_INT(j.rc, 0);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
    node_log_close();
    /* it did stop reading, and started again */
    char *log = read_file(logpath);
    CHECK(log != NULL);
    CHECK(strstr(log, "abci: connection 1: ") && strstr(log, "bytes of answers unread; pausing reads"));
    CHECK(strstr(log, "abci: connection 1: the peer reads again; resuming") != NULL);
    free(log);
}

static based_err try_start(const char *addr, char *err, size_t errlen)
{
    static tabci_server t;
    static test_app app;
    app.t = &t;
    based_err e = tabci_start(&t, addr, 0, app_handle, &app, err, errlen);
    if (e == BASED_E_OK && tabci_stop(&t) != 0)
        return BASED_E_INTERNAL;
    return e;
}

TEST(abci_addresses)
{
    char err[256], addr[320], path[300];
    node_log_set_level(NODE_LOG_WARN);
    static const struct { const char *addr, *want; } bad[] = {
        { "http://127.0.0.1:1", "expected unix:///path.sock or tcp://127.0.0.1:PORT" },
        { "tcp://10.1.2.3:26658", "loopback only" },
        { "tcp://0.0.0.0:26658", "loopback only" },
        { "tcp://127.0.0.1:99999", "port 0-65535" },
        { "tcp://127.0.0.1:", "port 0-65535" },
        { "tcp://127.0.0.1", "port 0-65535" },
        { "tcp://example.com:1", "not an IP address" },
        { "unix://", "socket path must have" },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        CHECK_EQ_INT(try_start(bad[i].addr, err, sizeof err), BASED_E_CONFIG);
        if (!strstr(err, bad[i].want))
            test_fail_(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"", bad[i].addr, err, bad[i].want);
    }
    char longp[200];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    snprintf(addr, sizeof addr, "unix:///%s", longp);
    CHECK_EQ_INT(try_start(addr, err, sizeof err), BASED_E_CONFIG);
    CHECK(strstr(err, "1 to 107 bytes") != NULL);
    CHECK_EQ_INT(try_start("tcp://[::1]:0", err, sizeof err), BASED_E_OK);
    /* "unix:PATH" works too */
    snprintf(addr, sizeof addr, "unix:%s/plain.sock", test_tmpdir());
    CHECK_EQ_INT(try_start(addr, err, sizeof err), BASED_E_OK);
    /* a file that is not a socket is refused */
    snprintf(path, sizeof path, "%s/file.sock", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    snprintf(addr, sizeof addr, "unix://%s", path);
    CHECK_EQ_INT(try_start(addr, err, sizeof err), BASED_E_NET);
    CHECK(strstr(err, "exists and is not a socket") != NULL);
}

TEST(abci_stale_and_live_socket)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256], err[256];
    tabci_unix_addr(addr, sizeof addr, "stale.sock");
    /* a socket file left behind by a process that is gone */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, addr + 7, strlen(addr + 7) + 1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_EQ_INT(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ_INT(listen(s, 1), 0);
    close(s);
    CHECK_EQ_INT(start(&t, &app, addr, 0), 0);
    int fd = tabci_connect_unix(addr + 7);
    exact_bytes_on(fd);
    close(fd);
    /* a second server on the live socket is refused; the first goes on */
    CHECK_EQ_INT(try_start(addr, err, sizeof err), BASED_E_NET);
    CHECK(strstr(err, "in use by a running server") != NULL);
    fd = tabci_connect_unix(addr + 7);
    exact_bytes_on(fd);
    close(fd);
    CHECK_EQ_INT(tabci_stop(&t), 0);
}

TEST(abci_stop_closes_connections)
{
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    static test_app app;
    char addr[256];
    int fds[ABCI_MAX_CONNECTIONS + 1];
    CHECK_EQ_INT(start(&t, &app, tabci_unix_addr(addr, sizeof addr, "c.sock"), 0), 0);
    for (int i = 0; i < ABCI_MAX_CONNECTIONS; i++) {
        fds[i] = tabci_connect_unix(addr + 7);
        CHECK(fds[i] >= 0);
    }
    /* over the limit: closed at once */
    fds[ABCI_MAX_CONNECTIONS] = tabci_connect_unix(addr + 7);
    CHECK(fds[ABCI_MAX_CONNECTIONS] >= 0);
    CHECK(tabci_eof(fds[ABCI_MAX_CONNECTIONS]));
    close(fds[ABCI_MAX_CONNECTIONS]);
    for (int i = 0; i < ABCI_MAX_CONNECTIONS; i += 21)
        exact_bytes_on(fds[i]);
    CHECK_EQ_INT(tabci_stop(&t), 0);
    for (int i = 0; i < ABCI_MAX_CONNECTIONS; i++) {
        CHECK(tabci_eof(fds[i]));
        close(fds[i]);
    }
}
