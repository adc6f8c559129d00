/*
 * net_query.c: asking based-net's nodes how they are, and printing it.
 *
 * basedd is asked over its JSON-RPC with the node's cookie (cli_rpc, the
 * client based-cli uses): chain_getHead for the height and the state root
 * (the app hash CometBFT agrees on), node_getInfo for the peer count.
 * CometBFT is asked over its own JSON-RPC (the same client, no cookie):
 * `status` for its latest block and app hash, `net_info` for its peers,
 * used when basedd does not say (and always with the kvstore app).
 */
#include <jansson.h>

#include "cli/rpcclient.h"
#include "node/net.h"

void node_net_rpc_url(const node_net *n, size_t k, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d", n->node[k].rpc_port);
}

void node_net_cmt_url(const node_net *n, size_t k, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d", n->node[k].cmt_rpc_port);
}

void node_net_cookie(const node_net *n, size_t k, char *out, size_t cap)
{
    if (!node_net_path(n, k, "basedd/.cookie", out, cap))
        out[0] = '\0';
}

/* One call; a new reference to the result or NULL. */
static json_t *call(const char *url, const char *cookie, const char *method, unsigned timeout_ms)
{
    cli_rpc *c;
    cli_rpc_error e;
    char err[CLI_ERR_LEN];
    json_t *res = NULL;
    if (cli_rpc_new(url, cookie, &c, err) != BASED_E_OK)
        return NULL;
    cli_rpc_set_timeout(c, timeout_ms);
    if (cli_rpc_call(c, method, NULL, &res, &e) != BASED_E_OK)
        res = NULL;
    cli_rpc_free(c);
    return res;
}

/* CometBFT writes 64-bit integers as strings. */
static int64_t int_or_str(json_t *v)
{
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    const char *s = json_string_value(v);
    char *end;
    long long x = s && *s ? strtoll(s, &end, 10) : -1;
    return s && *s && *end == '\0' && x >= 0 ? (int64_t)x : -1;
}

static void query_cometbft(const node_net *n, size_t k, unsigned timeout_ms, node_net_state *s)
{
    char url[64];
    node_net_cmt_url(n, k, url, sizeof url);
    json_t *st = call(url, NULL, "status", timeout_ms);
    json_t *sync = json_object_get(st, "sync_info");
    s->cmt_up = json_is_object(sync);
    s->cmt_height = s->cmt_up ? int_or_str(json_object_get(sync, "latest_block_height")) : -1;
    if (node_net_kvstore(n)) {
        const char *h = json_string_value(json_object_get(sync, "latest_app_hash"));
        s->up = s->cmt_up;
        s->height = s->cmt_height;
        snprintf(s->app_hash, sizeof s->app_hash, "%s", h ? h : "");
    }
    json_decref(st);
    if (s->cmt_up && s->peers < 0) {
        json_t *ni = call(url, NULL, "net_info", timeout_ms);
        int64_t p = int_or_str(json_object_get(ni, "n_peers"));
        s->peers = p >= 0 && p < 100000 ? (int)p : -1;
        json_decref(ni);
    }
}

static void query_basedd(const node_net *n, size_t k, unsigned timeout_ms, node_net_state *s)
{
    char url[64], cookie[NODE_NET_PATH];
    node_net_rpc_url(n, k, url, sizeof url);
    node_net_cookie(n, k, cookie, sizeof cookie);
    json_t *head = call(url, cookie, "chain_getHead", timeout_ms);
    json_t *h = json_object_get(head, "height");
    const char *root = json_string_value(json_object_get(head, "state_root"));
    s->up = json_is_integer(h);
    s->height = s->up ? (int64_t)json_integer_value(h) : -1;
    snprintf(s->app_hash, sizeof s->app_hash, "%s", root ? root : "");
    json_decref(head);
    if (!s->up)
        return;
    json_t *info = call(url, cookie, "node_getInfo", timeout_ms);
    json_t *p = json_object_get(info, "peers");
    if (json_is_integer(p) && json_integer_value(p) >= 0 && json_integer_value(p) < 100000)
        s->peers = (int)json_integer_value(p);
    json_decref(info);
}

void node_net_query(const node_net *n, size_t k, unsigned timeout_ms, node_net_state *s)
{
    memset(s, 0, sizeof *s);
    s->height = s->cmt_height = -1;
    s->peers = -1;
    if (!node_net_kvstore(n))
        query_basedd(n, k, timeout_ms, s);
    query_cometbft(n, k, timeout_ms, s);
}

static json_t *int_or_null(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *status_json(const node_net *n, size_t k, const node_net_state *s)
{
    char rpc[64], cmt[64], cookie[NODE_NET_PATH];
    bool kv = node_net_kvstore(n);
    node_net_rpc_url(n, k, rpc, sizeof rpc);
    node_net_cmt_url(n, k, cmt, sizeof cmt);
    node_net_cookie(n, k, cookie, sizeof cookie);
    return json_pack("{s:s,s:s,s:b,s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "node", n->node[k].name,
                     "role", n->node[k].authority ? "authority" : "full", "up", s->up,
                     "rpc", kv ? json_null() : json_string(rpc),
                     "cookie", kv ? json_null() : json_string(cookie), "cometbft_rpc", cmt,
                     "height", int_or_null(s->height), "cometbft_height",
                     int_or_null(s->cmt_height),
                     "app_hash", s->app_hash[0] ? json_string(s->app_hash) : json_null(),
                     "peers", int_or_null(s->peers));
}

static void print_json(const node_net *n, FILE *out)
{
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < n->n; k++) {
        node_net_state s;
        node_net_query(n, k, 2000, &s);
        json_array_append_new(arr, status_json(n, k, &s));
    }
    char *text = arr ? json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    fprintf(out, "%s\n", text ? text : "[]");
    free(text);
    json_decref(arr);
}

static void num(int64_t v, char *out, size_t cap)
{
    if (v >= 0)
        snprintf(out, cap, "%" PRId64, v);
    else
        snprintf(out, cap, "-");
}

void node_net_print_status(const node_net *n, bool json, FILE *out)
{
    if (json) {
        print_json(n, out);
        return;
    }
    fprintf(out, "%-7s %-9s %-4s %7s %5s  %-20s %s\n", "NODE", "ROLE", "UP", "HEIGHT", "PEERS",
            "APP HASH", node_net_kvstore(n) ? "COMETBFT RPC" : "RPC");
    for (size_t k = 0; k < n->n; k++) {
        node_net_state s;
        char h[24], p[24], url[64];
        node_net_query(n, k, 2000, &s);
        num(s.height, h, sizeof h);
        num(s.peers, p, sizeof p);
        if (node_net_kvstore(n))
            node_net_cmt_url(n, k, url, sizeof url);
        else
            node_net_rpc_url(n, k, url, sizeof url);
        fprintf(out, "%-7s %-9s %-4s %7s %5s  %-20.18s %s\n", n->node[k].name,
                n->node[k].authority ? "authority" : "full", s.up ? "up" : "down", h, p,
                s.app_hash[0] ? s.app_hash : "-", url);
    }
}

void node_net_print_endpoints(const node_net *n, FILE *out)
{
    char url[64], cookie[NODE_NET_PATH];
    bool kv = node_net_kvstore(n);
    fprintf(out, "%-7s %-9s %-24s %s\n", "NODE", "ROLE", kv ? "COMETBFT RPC" : "RPC",
            kv ? "" : "COOKIE");
    for (size_t k = 0; k < n->n; k++) {
        if (kv)
            node_net_cmt_url(n, k, url, sizeof url);
        else
            node_net_rpc_url(n, k, url, sizeof url);
        node_net_cookie(n, k, cookie, sizeof cookie);
        fprintf(out, "%-7s %-9s %-24s %s\n", n->node[k].name,
                n->node[k].authority ? "authority" : "full", url, kv ? "" : cookie);
    }
    node_net_cookie(n, 0, cookie, sizeof cookie);
    if (kv) {
        node_net_cmt_url(n, 0, url, sizeof url);
        fprintf(out, "try:  curl -s %s/status\n", url);
    } else {
        node_net_rpc_url(n, 0, url, sizeof url);
        fprintf(out, "try:  bin/based-cli --rpc %s --rpc-cookie %s head\n", url, cookie);
    }
}

void node_net_print_line(const node_net *n, FILE *out)
{
    char ts[16], hs[NODE_NET_MAX * 12] = "", ps[NODE_NET_MAX * 8] = "";
    size_t ho = 0, po = 0, up = 0;
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    for (size_t k = 0; k < n->n; k++) {
        node_net_state s;
        char h[24], p[24];
        node_net_query(n, k, 1000, &s);
        up += s.up;
        num(s.height, h, sizeof h);
        num(s.peers, p, sizeof p);
        int w = snprintf(hs + ho, sizeof hs - ho, " %s", h);
        ho += w > 0 && (size_t)w < sizeof hs - ho ? (size_t)w : 0;
        w = snprintf(ps + po, sizeof ps - po, " %s", p);
        po += w > 0 && (size_t)w < sizeof ps - po ? (size_t)w : 0;
    }
    fprintf(out, "%s  %zu/%zu up  height%s  peers%s\n", ts, up, n->n, hs, ps);
    fflush(out);
}
