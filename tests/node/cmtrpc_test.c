/* Tests of node/cmtrpc.c (handing txs to the local CometBFT) against a fake
 * CometBFT RPC: a thread accepts loopback connections and answers each
 * HTTP request on a thread of its own. Answers to broadcast_tx_sync wait
 * for a gate the test opens one request at a time, so the test sees a
 * sender's txs queued, in flight and answered, and checks what
 * node_cmtrpc_inflight counts at each step (tx_send's expected nonce is
 * the check state's plus that count). GET /status and /net_info answer at
 * once, for node_cmtrpc_info. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "tests/runner.h"
#include "chain/kinds.h"
#include "chain/tx.h"
#include "node/cmtrpc.h"

typedef struct {
    int lfd, port;
    pthread_t th;
    atomic_int received;          /* broadcast_tx_sync requests read */
    atomic_int allowed;           /* how many of them may be answered */
    atomic_bool stop;
} fake_cmt;

typedef struct {
    fake_cmt *f;
    int fd;
} fake_conn;

static const char BROADCAST_OK[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"code\":0,\"log\":\"\"}}";
static const char STATUS_OK[] =
    "{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":{\"sync_info\":{\"latest_block_height\":\"7\","
    "\"catching_up\":false},\"n_peers\":\"3\"}}";

/* The first `needle` in buf[0..n), or NULL. */
static const char *find(const char *buf, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0)
            return buf + i;
    return NULL;
}

/* One request's length in buf[0..n) (headers + Content-Length), 0 if it is
 * not all there yet. */
static size_t request_len(const char *buf, size_t n)
{
    const char *end = find(buf, n, "\r\n\r\n");
    if (!end)
        return 0;
    size_t hl = (size_t)(end + 4 - buf), cl = 0;
    const char *h = find(buf, hl, "Content-Length: ");
    if (h)
        cl = strtoul(h + 16, NULL, 10);
    return n >= hl + cl ? hl + cl : 0;
}

static int answer(int fd, const char *body)
{
    char head[128];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n", strlen(body));
    return send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl &&
           send(fd, body, strlen(body), MSG_NOSIGNAL) == (ssize_t)strlen(body) ? 0 : -1;
}

static void *conn_main(void *arg)
{
    fake_conn *c = arg;
    fake_cmt *f = c->f;
    int fd = c->fd;
    char buf[1 << 16];
    size_t n = 0;
    free(c);
    for (;;) {
        size_t len;
        while (!(len = request_len(buf, n))) {
            ssize_t r = n < sizeof buf ? recv(fd, buf + n, sizeof buf - n, 0) : -1;
            if (r <= 0)
                goto out;
            n += (size_t)r;
        }
        bool bc = find(buf, len, "broadcast_tx_sync") != NULL;
        if (bc) {
            int mine = atomic_fetch_add(&f->received, 1);
            while (atomic_load(&f->allowed) <= mine && !atomic_load(&f->stop))
                usleep(1000);
        }
        if (answer(fd, bc ? BROADCAST_OK : STATUS_OK) != 0)
            break;
        memmove(buf, buf + len, n - len);
        n -= len;
    }
out:
    close(fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    fake_cmt *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = { f->lfd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        fake_conn *c = fd >= 0 ? malloc(sizeof *c) : NULL;
        pthread_t th;
        if (!c) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        *c = (fake_conn){ f, fd };
        if (pthread_create(&th, NULL, conn_main, c) == 0)
            pthread_detach(th);
        else
            close(fd), free(c);
    }
    return NULL;
}

static int fake_start(fake_cmt *f)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    memset(f, 0, sizeof *f);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(f->lfd, 16) != 0 || getsockname(f->lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    f->port = ntohs(a.sin_port);
    return pthread_create(&f->th, NULL, accept_main, f) == 0 ? 0 : -1;
}

static void fake_stop(fake_cmt *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    close(f->lfd);
}

/* Runs the loop until the fake has read `want` broadcasts (5 s at most). */
static bool spin_until(uv_loop_t *loop, fake_cmt *f, int want)
{
    for (int i = 0; i < 5000; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (atomic_load(&f->received) >= want)
            return true;
        usleep(1000);
    }
    return false;
}

static bool admitted_is(void *ud, const chain_hash *h)
{
    return chain_hash_eq(ud, h);
}

static void make_txs(chain_tx *tx, size_t n)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t = { .amount = 5 };
    chain_key_dev(1, sk);
    chain_key_pub(sk, &t.to);
    chain_key_dev(0, sk);
    chain_transfer_encode(&t, p);
    for (size_t i = 0; i < n; i++)
        chain_tx_make(&tx[i], "based-devnet", i, 10000, CHAIN_KIND_TRANSFER, p, sizeof p, sk);
}

TEST(node_cmtrpc_inflight_counts)
{
    fake_cmt f;
    uv_loop_t loop;
    node_cmtrpc *c = NULL;
    chain_tx tx[3];
    chain_addr other;
    char url[64], err[256];
    uint8_t sk[32];
    CHECK_EQ_INT(fake_start(&f), 0);
    CHECK_EQ_INT(uv_loop_init(&loop), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f.port);
    CHECK_EQ_INT(node_cmtrpc_new(&loop, url, &c, err, sizeof err), BASED_E_OK);
    make_txs(tx, 3);
    chain_key_dev(2, sk);
    chain_key_pub(sk, &other);
    const chain_addr *me = &tx[0].sender;
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ_INT(node_cmtrpc_submit(c, &tx[i]), BASED_E_OK);

    /* tx0 in flight (a batch of one), tx1 and tx2 queued */
    CHECK(spin_until(&loop, &f, 1));
    CHECK_EQ_U64(node_cmtrpc_inflight(c, me, NULL, NULL), 3);
    CHECK_EQ_U64(node_cmtrpc_inflight(c, &other, NULL, NULL), 0);
    /* CheckTx admitted tx0 before CometBFT's answer: the check state has it */
    CHECK_EQ_U64(node_cmtrpc_inflight(c, me, admitted_is, &tx[0].hash), 2);
    int code = 0;
    char why[64];
    CHECK_EQ_INT(node_cmtrpc_tx(c, &tx[2].hash, &code, why, sizeof why), NODE_CMT_TX_QUEUED);

    /* tx0 answered; the next batch (tx1, tx2) is on its way, tx1 in flight */
    atomic_store(&f.allowed, 1);
    CHECK(spin_until(&loop, &f, 2));
    CHECK_EQ_U64(node_cmtrpc_inflight(c, me, NULL, NULL), 2);

    /* tx1 answered while tx2, in the same batch, is in flight: only tx2
     * counts (tx1 is in the check state now, or refused) */
    atomic_store(&f.allowed, 2);
    CHECK(spin_until(&loop, &f, 3));
    CHECK_EQ_U64(node_cmtrpc_inflight(c, me, NULL, NULL), 1);
    CHECK_EQ_U64(node_cmtrpc_inflight(c, me, admitted_is, &tx[2].hash), 0);

    /* all answered: nothing counts; once the batch is done, accepted txs
     * leave no outcome (tx_get asks the check state for them) */
    atomic_store(&f.allowed, 3);
    node_cmt_txstate st = NODE_CMT_TX_QUEUED;
    for (int i = 0; i < 5000 && st == NODE_CMT_TX_QUEUED; i++, usleep(1000)) {
        uv_run(&loop, UV_RUN_NOWAIT);
        st = node_cmtrpc_tx(c, &tx[2].hash, &code, why, sizeof why);
    }
    CHECK_EQ_INT(st, NODE_CMT_TX_UNKNOWN);
    CHECK_EQ_U64(node_cmtrpc_inflight(c, me, NULL, NULL), 0);

    /* the status poll (at start, then every second) read the fake's status */
    json_t *info = json_object();
    for (int i = 0; i < 5000; i++, usleep(1000)) {
        uv_run(&loop, UV_RUN_NOWAIT);
        node_cmtrpc_info(c, info);
        if (json_integer_value(json_object_get(info, "peers")) == 3)
            break;
    }
    CHECK_EQ_INT(json_integer_value(json_object_get(info, "peers")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(info, "network_height")), 7);
    CHECK(json_is_false(json_object_get(info, "catching_up")));
    json_decref(info);

    node_cmtrpc_stop(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    node_cmtrpc_free(c);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    fake_stop(&f);
    for (size_t i = 0; i < 3; i++)
        chain_tx_release(&tx[i]);
}
