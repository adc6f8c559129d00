/* The real CometBFT v0.38 against node/abci.c: a toy application (a hash
 * chain over the transactions) served on a Unix socket, and a one-validator
 * cometbft started on it. Passes when blocks are committed (read through
 * CometBFT's RPC /status over libcurl), a transaction sent with
 * /broadcast_tx_commit is checked, proposed, finalised and committed by the
 * toy app, and the app hash in CometBFT's headers is the one the app
 * answered; restarted, CometBFT's handshake accepts the app's Info and
 * the chain goes on. Skips (with a message, passing) when no cometbft binary is
 * found: $BASED_COMETBFT, else build/go/bin/cometbft (`make cometbft`). */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/runner.h"
#include "tests/support.h"
#include "tests/abci/harness.h"
#include "tests/abci/tests.h"
#include "node/abci.h"
#include "node/log.h"
#include "chain/base.h"

#define TOY_MAX_HEIGHT 4096

typedef struct {
    pthread_mutex_t mu;
    long long committed, pending;     /* heights */
    uint8_t hash[32], pending_hash[32];
    uint8_t hash_at[TOY_MAX_HEIGHT][32];   /* the app hash after each block */
    long long checked, proposed, finalized_txs;
    int init_chain;                   /* InitChain calls */
    char last_tx[64];
} toy_app;

#define NEW(a, type, init) type *r = abci_alloc(a, sizeof *r); if (!r) return -1; init(r)

static int toy_info(toy_app *t, Abci__Response *resp, abci_arena *a)
{
    NEW(a, Abci__ResponseInfo, abci__response_info__init);
    r->data = (char *)"toy";
    r->version = (char *)"1";
    r->app_version = 1;
    r->last_block_height = t->committed;
    if (t->committed > 0) {
        r->last_block_app_hash.data = abci_dup(a, t->hash, 32);
        r->last_block_app_hash.len = 32;
    }
    resp->value_case = ABCI__RESPONSE__VALUE_INFO;
    resp->info = r;
    return 0;
}

static int toy_prepare(const Abci__RequestPrepareProposal *q, Abci__Response *resp, abci_arena *a)
{
    NEW(a, Abci__ResponsePrepareProposal, abci__response_prepare_proposal__init);
    int64_t used = 0;
    r->txs = abci_alloc(a, (q->n_txs + 1) * sizeof *r->txs);
    if (!r->txs)
        return -1;
    for (size_t i = 0; i < q->n_txs; i++) {
        if (used + (int64_t)q->txs[i].len > q->max_tx_bytes)
            break;
        used += (int64_t)q->txs[i].len;
        r->txs[r->n_txs++] = q->txs[i];        /* points into the request */
    }
    resp->value_case = ABCI__RESPONSE__VALUE_PREPARE_PROPOSAL;
    resp->prepare_proposal = r;
    return 0;
}

static int toy_finalize(toy_app *t, const Abci__RequestFinalizeBlock *q, Abci__Response *resp,
                        abci_arena *a)
{
    NEW(a, Abci__ResponseFinalizeBlock, abci__response_finalize_block__init);
    crypto_hash_sha256_state st;
    uint8_t h8[8];
    for (int i = 0; i < 8; i++)
        h8[i] = (uint8_t)((uint64_t)q->height >> (8 * i));
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, t->hash, 32);
    crypto_hash_sha256_update(&st, h8, 8);
    r->tx_results = abci_alloc(a, (q->n_txs + 1) * sizeof *r->tx_results);
    if (!r->tx_results)
        return -1;
    for (size_t i = 0; i < q->n_txs; i++) {
        crypto_hash_sha256_update(&st, q->txs[i].data, q->txs[i].len);
        Abci__ExecTxResult *x = abci_alloc(a, sizeof *x);
        if (!x)
            return -1;
        abci__exec_tx_result__init(x);
        x->gas_used = (int64_t)q->txs[i].len;
        r->tx_results[i] = x;
        size_t n = q->txs[i].len < sizeof t->last_tx - 1 ? q->txs[i].len : sizeof t->last_tx - 1;
        memcpy(t->last_tx, q->txs[i].data, n);
        t->last_tx[n] = '\0';
    }
    r->n_tx_results = q->n_txs;
    crypto_hash_sha256_final(&st, t->pending_hash);
    t->pending = q->height;
    t->finalized_txs += (long long)q->n_txs;
    r->app_hash.data = abci_dup(a, t->pending_hash, 32);
    r->app_hash.len = 32;
    resp->value_case = ABCI__RESPONSE__VALUE_FINALIZE_BLOCK;
    resp->finalize_block = r;
    return 0;
}

static int toy_commit(toy_app *t, Abci__Response *resp, abci_arena *a)
{
    NEW(a, Abci__ResponseCommit, abci__response_commit__init);
    t->committed = t->pending;
    memcpy(t->hash, t->pending_hash, 32);
    if (t->committed > 0 && t->committed < TOY_MAX_HEIGHT)
        memcpy(t->hash_at[t->committed], t->hash, 32);
    resp->value_case = ABCI__RESPONSE__VALUE_COMMIT;
    resp->commit = r;
    return 0;
}

static int toy_simple(toy_app *t, const Abci__Request *req, Abci__Response *resp, abci_arena *a)
{
    switch (req->value_case) {
    case ABCI__REQUEST__VALUE_INIT_CHAIN: {
        NEW(a, Abci__ResponseInitChain, abci__response_init_chain__init);
        t->init_chain++;
        resp->value_case = ABCI__RESPONSE__VALUE_INIT_CHAIN;
        resp->init_chain = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_CHECK_TX: {
        NEW(a, Abci__ResponseCheckTx, abci__response_check_tx__init);
        t->checked++;
        resp->value_case = ABCI__RESPONSE__VALUE_CHECK_TX;
        resp->check_tx = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_PROCESS_PROPOSAL: {
        NEW(a, Abci__ResponseProcessProposal, abci__response_process_proposal__init);
        r->status = ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__ACCEPT;
        t->proposed++;
        resp->value_case = ABCI__RESPONSE__VALUE_PROCESS_PROPOSAL;
        resp->process_proposal = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_QUERY: {
        NEW(a, Abci__ResponseQuery, abci__response_query__init);
        r->height = t->committed;
        resp->value_case = ABCI__RESPONSE__VALUE_QUERY;
        resp->query = r;
        return 0;
    }
    default:
        return 1;
    }
}

static int toy_handle(void *user, const Abci__Request *req, Abci__Response *resp,
                      abci_arena *a, char *err, size_t errlen)
{
    toy_app *t = user;
    int rc;
    pthread_mutex_lock(&t->mu);
    switch (req->value_case) {
    case ABCI__REQUEST__VALUE_INFO: rc = toy_info(t, resp, a); break;
    case ABCI__REQUEST__VALUE_PREPARE_PROPOSAL: rc = toy_prepare(req->prepare_proposal, resp, a); break;
    case ABCI__REQUEST__VALUE_FINALIZE_BLOCK: rc = toy_finalize(t, req->finalize_block, resp, a); break;
    case ABCI__REQUEST__VALUE_COMMIT: rc = toy_commit(t, resp, a); break;
    default: rc = toy_simple(t, req, resp, a); break;
    }
    pthread_mutex_unlock(&t->mu);
    if (rc == 1)
        snprintf(err, errlen, "the toy app has no %s", abci_request_name(req->value_case));
    return rc ? -1 : 0;
}

/* ---- CometBFT's RPC ------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    char *buf = user;
    size_t have = strlen(buf), add = size * n;
    if (have + add >= 65536)
        add = 65535 - have;
    memcpy(buf + have, p, add);
    buf[have + add] = '\0';
    return size * n;
}

/* GET http://127.0.0.1:port/path; the "result" object (decref it) or NULL. */
static json_t *rpc_get(int port, const char *path)
{
    static char buf[65536];
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    buf[0] = '\0';
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return NULL;
    json_t *doc = json_loads(buf, 0, NULL), *res = json_object_get(doc, "result");
    json_incref(res);
    json_decref(doc);
    return res;
}

/* A decimal string field ("12") of a JSON object; -1 when absent. */
static long long jnum(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strtoll(s, NULL, 10) : json_is_integer(json_object_get(o, key))
               ? json_integer_value(json_object_get(o, key)) : -1;
}

/* latest_block_height and latest_app_hash of /status; -1 when unreachable. */
static long long status_height(int port, char *app_hash_hex, size_t cap)
{
    json_t *r = rpc_get(port, "/status");
    json_t *si = json_object_get(r, "sync_info");
    long long h = si ? jnum(si, "latest_block_height") : -1;
    const char *ah = json_string_value(json_object_get(si, "latest_app_hash"));
    if (app_hash_hex)
        snprintf(app_hash_hex, cap, "%s", ah ? ah : "");
    json_decref(r);
    return h;
}

/* $BASED_COMETBFT, else build/go/bin/cometbft, when executable; *tried
 * names the path looked at. */
static const char *cometbft_path(const char **tried)
{
    const char *p = getenv("BASED_COMETBFT");
    if (!p || !*p)
        p = "build/go/bin/cometbft";
    *tried = p;
    return access(p, X_OK) == 0 ? p : NULL;
}

static int run_wait(const char *const *argv, const char *log)
{
    int st = 0;
    pid_t pid = tsup_spawn(argv, log, NULL, true);
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* SIGTERM, then SIGKILL after 10 s; the exit status or -1. */
static int stop_pid(pid_t pid)
{
    int st = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        tsup_nap_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static void hex_upper(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Waits until CometBFT's latest height is at least want (60 s at most). */
static long long wait_height(int port, long long want)
{
    long long h = -1;
    for (double t0 = tsup_now_ms(); tsup_now_ms() - t0 < 60000; tsup_nap_ms(200))
        if ((h = status_height(port, NULL, 0)) >= want)
            break;
    return h;
}

TEST(cometbft_drives_a_toy_app)
{
    const char *tried, *bin = cometbft_path(&tried);
    if (!bin) {
        fprintf(stderr, "    cometbft_drives_a_toy_app: skipped, no CometBFT at %s "
                "(set BASED_COMETBFT or run `make cometbft`)\n", tried);
        return;
    }
    char home[512], addr[600], log[600], rpc[64], p2p[64], hexh[80], want[80];
    int rpc_port = tsup_free_port(), p2p_port = tsup_free_port();
    snprintf(home, sizeof home, "%s/cmt", test_tmpdir());
    snprintf(addr, sizeof addr, "unix://%s/app.sock", home);
    snprintf(log, sizeof log, "%s/cometbft.log", test_tmpdir());
    snprintf(rpc, sizeof rpc, "tcp://127.0.0.1:%d", rpc_port);
    snprintf(p2p, sizeof p2p, "tcp://127.0.0.1:%d", p2p_port);
    const char *init[] = { bin, "init", "--home", home, NULL };
    CHECK_EQ_INT(run_wait(init, log), 0);
    CHECK_EQ_INT(sodium_init() >= 0, 1);
    toy_app *app = calloc(1, sizeof *app);
    CHECK(app != NULL);
    pthread_mutex_init(&app->mu, NULL);
    static tabci_server t;      /* static: the loop thread outlives a failed CHECK */
    char err[256];
    node_log_set_level(NODE_LOG_WARN);
    CHECK_EQ_INT(tabci_start(&t, addr, 0, toy_handle, app, err, sizeof err), BASED_E_OK);
    const char *start[] = { bin, "start", "--home", home, "--proxy_app", addr, "--rpc.laddr", rpc,
                            "--p2p.laddr", p2p, NULL };
    pid_t pid = tsup_spawn(start, log, NULL, true);
    CHECK(pid > 0);
    long long h = wait_height(rpc_port, 3);
    if (h < 3)
        fprintf(stderr, "    no blocks; see the end of %s\n", log);
    CHECK(h >= 3);
    /* a transaction through the mempool into a block */
    json_t *r = rpc_get(rpc_port, "/broadcast_tx_commit?tx=%22based%3D1%22");
    CHECK(r != NULL);
    long long txh = jnum(r, "height");
    json_t *ct = json_object_get(r, "check_tx"), *tr = json_object_get(r, "tx_result");
    CHECK(ct != NULL && tr != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(ct, "code")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(tr, "code")), 0);
    CHECK_EQ_INT(jnum(tr, "gas_used"), 7);           /* our ExecTxResult came back */
    json_decref(r);
    CHECK(txh > h - 1);
    h = wait_height(rpc_port, txh + 2);
    CHECK(h >= txh + 2);
    /* the header at height h carries the app hash we answered for h - 1 */
    long long hs = status_height(rpc_port, hexh, sizeof hexh);
    CHECK(hs >= 2 && hs < TOY_MAX_HEIGHT);
    pthread_mutex_lock(&app->mu);
    hex_upper(app->hash_at[hs - 1], 32, want);
    long long committed = app->committed, checked = app->checked, fin = app->finalized_txs;
    int init_chain = app->init_chain;
    char last[64];
    memcpy(last, app->last_tx, sizeof last);
    pthread_mutex_unlock(&app->mu);
    CHECK_EQ_STR(hexh, want);
    CHECK(committed >= hs - 1);     /* a block is stored before the app executes it */
    CHECK_EQ_INT(init_chain, 1);
    CHECK(checked >= 1);
    CHECK_EQ_INT(fin, 1);
    CHECK_EQ_STR(last, "based=1");
    fprintf(stderr, "    cometbft: %lld blocks committed, tx in block %lld, app hash %.16s...\n",
            hs, txh, hexh);
    /* CometBFT restarted against the running app: its handshake takes our
     * Info (height and app hash) as they are, no InitChain, and goes on */
    CHECK_EQ_INT(stop_pid(pid), 0);
    pid = tsup_spawn(start, log, NULL, true);
    CHECK(pid > 0);
    h = wait_height(rpc_port, hs + 2);
    CHECK(h >= hs + 2);
    pthread_mutex_lock(&app->mu);
    init_chain = app->init_chain;
    committed = app->committed;
    pthread_mutex_unlock(&app->mu);
    CHECK_EQ_INT(init_chain, 1);
    CHECK(committed >= hs + 1);
    CHECK_EQ_INT(stop_pid(pid), 0);
    CHECK_EQ_INT(tabci_stop(&t), 0);
    pthread_mutex_destroy(&app->mu);
    free(app);
}
