/*
 * cmtrpc.c: handing txs to the local CometBFT and reading its status (see
 * cmtrpc.h). Each HTTP call has a timeout and a response size cap.
 */
#include <curl/curl.h>
#include <sodium.h>

#include "node/cmtrpc.h"
#include "node/log.h"

#define BATCH_MAX     256
#define QUEUE_MAX     20000
#define OUTCOMES_MAX  65536
#define BODY_CAP      (1u << 20)
#define HTTP_TIMEOUT_MS 10000L

typedef struct {
    chain_hash hash;
    chain_addr sender;
    uint64_t nonce;
    char *b64;
    int code;                  /* CheckTx's, after sending */
    char log[200];
} qtx;

typedef struct {
    bool up, catching_up;
    long peers;
    uint64_t height;
} cmt_status;

struct node_cmtrpc {
    uv_loop_t *loop;
    char url[256];
    uv_timer_t timer;
    bool stopping, timer_open;
    qtx *queue;
    size_t nq;
    uv_work_t send_work;
    qtx *batch;
    size_t nbatch;
    bool sending;
    uv_work_t status_work;
    bool polling;
    cmt_status st, st_new;
    json_t *outcome;           /* hex hash -> [code, log] for rejected txs */
    json_t *order;             /* hex hashes of outcome, oldest first */
};

/* ---------------- HTTP (worker threads) ---------------- */

typedef struct {
    char *p;
    size_t len;
    bool over;
} body;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    body *b = user;
    size_t n = size * nmemb;
    if (b->len + n > BODY_CAP) {
        b->over = true;
        return 0;
    }
    char *np = realloc(b->p, b->len + n + 1);
    if (!np)
        return 0;
    memcpy(np + b->len, ptr, n);
    b->p = np;
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* GET (post == NULL) or POST a JSON body; the parsed JSON answer or NULL. */
static json_t *http_json(CURL *curl, const char *url, const char *post)
{
    body b = { NULL, 0, false };
    struct curl_slist *hdr = NULL;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, HTTP_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    if (post) {
        hdr = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post);
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_slist_free_all(hdr);
    json_t *j = cc == CURLE_OK && b.p && !b.over ? json_loadb(b.p, b.len, 0, NULL) : NULL;
    free(b.p);
    return j;
}

static void send_batch(uv_work_t *w)
{
    node_cmtrpc *c = w->data;
    CURL *curl = curl_easy_init();
    for (size_t i = 0; i < c->nbatch; i++) {
        qtx *t = &c->batch[i];
        char *req = NULL;
        json_t *r = json_pack("{s:s,s:i,s:s,s:{s:s}}", "jsonrpc", "2.0", "id", 1, "method",
                              "broadcast_tx_sync", "params", "tx", t->b64);
        if (r)
            req = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        json_t *ans = curl && req ? http_json(curl, c->url, req) : NULL;
        free(req);
        json_t *res = json_object_get(ans, "result"), *er = json_object_get(ans, "error");
        if (json_is_object(res)) {
            t->code = (int)json_integer_value(json_object_get(res, "code"));
            snprintf(t->log, sizeof t->log, "%s", json_string_value(json_object_get(res, "log"))
                                                  ? json_string_value(json_object_get(res, "log"))
                                                  : "");
        } else if (json_is_object(er)) {
            const char *d = json_string_value(json_object_get(er, "data"));
            /* already in CometBFT's cache or mempool: it is on its way */
            t->code = d && strstr(d, "already exists") ? 0 : -1;
            snprintf(t->log, sizeof t->log, "CometBFT: %s", d ? d : "error");
        } else {
            t->code = -1;
            snprintf(t->log, sizeof t->log, "CometBFT's RPC at %.100s did not answer", c->url);
        }
        json_decref(ans);
    }
    if (curl)
        curl_easy_cleanup(curl);
}

static void poll_status(uv_work_t *w)
{
    node_cmtrpc *c = w->data;
    char url[300];
    CURL *curl = curl_easy_init();
    memset(&c->st_new, 0, sizeof c->st_new);
    if (!curl)
        return;
    snprintf(url, sizeof url, "%s/status", c->url);
    json_t *s = http_json(curl, url, NULL);
    json_t *si = json_object_get(json_object_get(s, "result"), "sync_info");
    if (json_is_object(si)) {
        const char *h = json_string_value(json_object_get(si, "latest_block_height"));
        c->st_new.up = true;
        c->st_new.catching_up = json_is_true(json_object_get(si, "catching_up"));
        c->st_new.height = h ? strtoull(h, NULL, 10) : 0;
    }
    json_decref(s);
    snprintf(url, sizeof url, "%s/net_info", c->url);
    s = http_json(curl, url, NULL);
    const char *np = json_string_value(json_object_get(json_object_get(s, "result"), "n_peers"));
    c->st_new.peers = np ? strtol(np, NULL, 10) : 0;
    json_decref(s);
    curl_easy_cleanup(curl);
}

/* ---------------- the loop's side ---------------- */

static void start_send(node_cmtrpc *c);

static void remember(node_cmtrpc *c, const qtx *t)
{
    char hx[65];
    chain_hex(t->hash.b, 32, hx);
    json_object_set_new(c->outcome, hx, json_pack("[i,s]", t->code, t->log));
    json_array_append_new(c->order, json_string(hx));
    while (json_array_size(c->order) > OUTCOMES_MAX) {
        json_object_del(c->outcome, json_string_value(json_array_get(c->order, 0)));
        json_array_remove(c->order, 0);
    }
}

static void sent(uv_work_t *w, int status)
{
    node_cmtrpc *c = w->data;
    (void)status;
    for (size_t i = 0; i < c->nbatch; i++) {
        qtx *t = &c->batch[i];
        if (t->code != 0) {
            char hx[65];
            chain_hex(t->hash.b, 32, hx);
            node_log(NODE_LOG_WARN, "tx %s not taken by CometBFT: %s", hx, t->log);
            remember(c, t);
        }
        free(t->b64);
    }
    free(c->batch);
    c->batch = NULL;
    c->nbatch = 0;
    c->sending = false;
    start_send(c);
}

static void start_send(node_cmtrpc *c)
{
    if (c->sending || c->nq == 0 || c->stopping)
        return;
    size_t n = c->nq < BATCH_MAX ? c->nq : BATCH_MAX;
    c->batch = malloc(n * sizeof *c->batch);
    if (!c->batch)
        return;
    memcpy(c->batch, c->queue, n * sizeof *c->batch);
    memmove(c->queue, c->queue + n, (c->nq - n) * sizeof *c->queue);
    c->nq -= n;
    c->nbatch = n;
    c->sending = true;
    c->send_work.data = c;
    if (uv_queue_work(c->loop, &c->send_work, send_batch, sent) != 0) {
        c->sending = false;
        node_log(NODE_LOG_ERROR, "cannot start the CometBFT sender");
    }
}

static void polled(uv_work_t *w, int status)
{
    node_cmtrpc *c = w->data;
    (void)status;
    if (c->st.up && !c->st_new.up)
        node_log(NODE_LOG_WARN, "CometBFT's RPC at %s does not answer", c->url);
    c->st = c->st_new;
    c->polling = false;
}

static void on_timer(uv_timer_t *t)
{
    node_cmtrpc *c = t->data;
    if (c->polling || c->stopping)
        return;
    c->polling = true;
    c->status_work.data = c;
    if (uv_queue_work(c->loop, &c->status_work, poll_status, polled) != 0)
        c->polling = false;
}

based_err node_cmtrpc_new(uv_loop_t *loop, const char *url, node_cmtrpc **out, char *err,
                          size_t errlen)
{
    *out = NULL;
    if (strncmp(url, "http://", 7) != 0 || strlen(url) >= 200) {
        snprintf(err, errlen, "--cometbft-rpc \"%s\": use http://HOST:PORT (CometBFT's [rpc] laddr)",
                 url);
        return BASED_E_BAD_PARAM;
    }
    node_cmtrpc *c = calloc(1, sizeof *c);
    if (!c)
        return BASED_E_NOMEM;
    c->loop = loop;
    snprintf(c->url, sizeof c->url, "%s", url);
    size_t ul = strlen(c->url);
    if (ul > 7 && c->url[ul - 1] == '/')
        c->url[ul - 1] = '\0';
    c->queue = calloc(QUEUE_MAX, sizeof *c->queue);
    c->outcome = json_object();
    c->order = json_array();
    if (!c->queue || !c->outcome || !c->order) {
        node_cmtrpc_free(c);
        return BASED_E_NOMEM;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->timer_open = true;
    uv_timer_start(&c->timer, on_timer, 0, 1000);
    *out = c;
    return BASED_E_OK;
}

static void on_timer_closed(uv_handle_t *h) { (void)h; }

void node_cmtrpc_stop(node_cmtrpc *c)
{
    if (!c || c->stopping)
        return;
    c->stopping = true;
    if (c->timer_open) {
        uv_timer_stop(&c->timer);
        uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    }
}

void node_cmtrpc_free(node_cmtrpc *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->queue && i < c->nq; i++)
        free(c->queue[i].b64);
    free(c->queue);
    json_decref(c->outcome);
    json_decref(c->order);
    free(c);
}

based_err node_cmtrpc_submit(node_cmtrpc *c, const chain_tx *tx)
{
    if (c->stopping)
        return BASED_E_INTERNAL;
    if (c->nq >= QUEUE_MAX)
        return BASED_E_MEMPOOL_FULL;
    size_t bl = sodium_base64_ENCODED_LEN(tx->raw_len, sodium_base64_VARIANT_ORIGINAL);
    qtx *t = &c->queue[c->nq];
    memset(t, 0, sizeof *t);
    t->b64 = malloc(bl);
    if (!t->b64)
        return BASED_E_NOMEM;
    sodium_bin2base64(t->b64, bl, tx->raw, tx->raw_len, sodium_base64_VARIANT_ORIGINAL);
    t->hash = tx->hash;
    t->sender = tx->sender;
    t->nonce = tx->nonce;
    c->nq++;
    start_send(c);
    return BASED_E_OK;
}

static bool ahead_of(const qtx *t, const chain_addr *sender, uint64_t from)
{
    return t->nonce >= from && memcmp(t->sender.b, sender->b, 32) == 0;
}

uint64_t node_cmtrpc_inflight(node_cmtrpc *c, const chain_addr *sender, uint64_t from)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->nq; i++)
        n += ahead_of(&c->queue[i], sender, from);
    for (size_t i = 0; c->sending && i < c->nbatch; i++)
        n += ahead_of(&c->batch[i], sender, from);
    return n;
}

node_cmt_txstate node_cmtrpc_tx(node_cmtrpc *c, const chain_hash *h, int *code, char *why,
                                size_t cap)
{
    char hx[65];
    for (size_t i = 0; i < c->nq; i++)
        if (chain_hash_eq(&c->queue[i].hash, h))
            return NODE_CMT_TX_QUEUED;
    for (size_t i = 0; c->sending && i < c->nbatch; i++)
        if (chain_hash_eq(&c->batch[i].hash, h))
            return NODE_CMT_TX_QUEUED;
    chain_hex(h->b, 32, hx);
    json_t *o = json_object_get(c->outcome, hx);
    if (!o)
        return NODE_CMT_TX_UNKNOWN;
    *code = (int)json_integer_value(json_array_get(o, 0));
    snprintf(why, cap, "%s", json_string_value(json_array_get(o, 1)));
    return NODE_CMT_TX_REJECTED;
}

void node_cmtrpc_info(node_cmtrpc *c, json_t *info)
{
    json_object_set_new(info, "peers", json_integer(c->st.peers));
    json_object_set_new(info, "catching_up", json_boolean(c->st.catching_up));
    json_object_set_new(info, "syncing", json_boolean(c->st.catching_up));
    json_object_set_new(info, "network_height", json_integer((json_int_t)c->st.height));
    json_object_set_new(info, "cometbft", json_pack("{s:s,s:b}", "rpc", c->url, "up", c->st.up));
}
