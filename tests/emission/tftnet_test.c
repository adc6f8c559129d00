/* The network series of the TFT Enforcer (rewards/tftnet.c) on a short
 * chain with transfers, stakes and varied block times (network epoch =
 * tempo = 9 blocks):
 *  - every recorded value equals what the test computes itself from the
 *    blocks, the supply and the totals at each epoch's last block;
 *  - a model is trained, applied at h + D, and its H-step forecasts equal
 *    tft_forecast_multi over the stored history, rounded by the rule;
 *  - the per-series losses equal the pinball losses the test computes from
 *    the forecasts it read one epoch before, over the last K scored epochs;
 *  - replay with synchronous training gives the same roots;
 *  - with tft_enabled = 0 no `f` key is written, the state root is the one
 *    the same chain had before the network series existed (known answer),
 *    and every other key is the same as with it on (beta 0);
 *  - the pieces (rounding, naive, pinball, distinct-sender sketch, pooled
 *    accuracy) on exact values. */
#include <stdio.h>

#include "tests/runner.h"
#include "tests/emission/env.h"
#include "chain/account.h"
#include "chain/keys.h"
#include "rewards/internal.h"
#include "rewards/tftchain.h"
#include "rewards/tftnet.h"
#include "node/node.h"

#define NET_T 9
#define NET_K 8
#define NET_PARAMS "\"tempo\": 9, \"tft_window\": 8, \"tft_train_every\": 4, \"tft_apply_delay\": 5"
#define NS REWARD_TFTNET_SERIES

typedef struct {
    /* the running epoch, as the test sees it */
    uint64_t txs, bytes, nint, sumint, prev_time, minted0;
    chain_addr senders[64];
    size_t nsenders;
    /* forecasts read after the last close: [series][q] */
    bool has_f;
    uint64_t f[NS][3], nv[NS][3];
    /* losses of the scored epochs, oldest first */
    size_t nloss;
    uint64_t lt[64][NS], ln[64][NS];
    size_t epochs;
    uint64_t last[NS];
} expect;

static json_t *net_json(env *e)
{
    based_err code;
    chain_view *v = chain_ledger_view(e->l);
    json_t *o = reward_tftnet_json(v, &e->g, env_height(e), NULL, &code);
    chain_view_free(v);
    return o;
}

static uint64_t jv(json_t *o, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void q_of(json_t *q, uint64_t out[3])
{
    out[0] = jv(q, "p10"), out[1] = jv(q, "p50"), out[2] = jv(q, "p90");
}

/* One block of the driver: a transfer, a stake or an empty block with a
 * varied time. */
static void net_block(env *e, uint64_t h)
{
    uint16_t w[3];
    char j[256];
    uint64_t win = reward_window(NET_T, 0, h);
    if (h == 1)
        CHECK_EQ_INT(env_tx(e, 1, "memorize", "{\"brain\": 0, \"role\": \"validator\"}"),
                     BASED_E_OK);
    else if (h <= 4)
        CHECK_EQ_INT(env_tx(e, (unsigned)h, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"),
                     BASED_E_OK);
    else if (h > 6 && win != reward_window(NET_T, 0, h - 1)) {
        env_toy_weights(win - 1, w);     /* reveal last window's weights */
        env_weights(e, 1, 0, true, env_toy_uids, w, 3, env_toy_salt, sizeof env_toy_salt);
    } else if (h > 6 && reward_window(NET_T, 0, h - 1) != reward_window(NET_T, 0, h - 2)) {
        env_toy_weights(win, w);         /* commit this window's */
        env_weights(e, 1, 0, false, env_toy_uids, w, 3, env_toy_salt, sizeof env_toy_salt);
    } else if (h == 5 || h % 40 == 7) {
        snprintf(j, sizeof j, "{\"brain\": 0, \"hotkey\": \"%s\", \"amount\": \"%u\"}",
                 env_addr(e, 1), (unsigned)(100 + h));
        CHECK_EQ_INT(env_tx(e, 1, "stake", j), BASED_E_OK);
    } else if ((h * 7) % 5 < 2 || (h / 27) % 2 == 1) {
        snprintf(j, sizeof j, "{\"to\": \"%s\", \"amount\": \"0.%03u\"}", env_addr(e, 7 + h % 3),
                 (unsigned)(1 + h % 900));
        CHECK_EQ_INT(env_tx(e, 2 + (unsigned)(h % (2 + h / 40)), "transfer", j), BASED_E_OK);
    } else {
        char err[256];
        size_t inc;
        uint64_t t = chain_ledger_head(e->l).time_ms + 1000 + 250 * (h % 4);
        CHECK_EQ_INT(chain_ledger_produce(e->l, NULL, 0, t, e->sk, NULL, NULL, &inc, err,
                                          sizeof err), BASED_E_OK);
    }
}

/* Adds block h to the expected running epoch. */
static void see_block(env *e, expect *x, uint64_t h)
{
    chain_block b;
    CHECK_EQ_INT(chain_ledger_block(e->l, h, &b), BASED_E_OK);
    if (h > 1)
        x->nint++, x->sumint += b.h.time_ms - x->prev_time;
    x->prev_time = b.h.time_ms;
    x->txs += b.ntx;
    for (size_t i = 0; i < b.ntx; i++) {
        bool seen = false;
        x->bytes += b.txs[i].raw_len;
        for (size_t s = 0; s < x->nsenders; s++)
            seen |= memcmp(x->senders[s].b, b.txs[i].sender.b, 32) == 0;
        if (!seen && x->nsenders < 64)
            x->senders[x->nsenders++] = b.txs[i].sender;
    }
    chain_block_release(&b);
}

/* At an epoch's last block: the values, the scoring of last epoch's
 * forecasts, and the new forecasts, all checked against the JSON. */
static void close_epoch(env *e, expect *x)
{
    chain_supply sup;
    contract_totals ct;
    uint64_t y[NS];
    chain_view *v = chain_ledger_view(e->l);
    CHECK_EQ_INT(chain_supply_get(v, &sup), BASED_E_OK);
    CHECK_EQ_INT(contract_totals_get(v, &ct), BASED_E_OK);
    chain_view_free(v);
    y[0] = x->txs * 1000 / NET_T;
    y[1] = x->bytes * 1000 / NET_T;
    y[2] = x->sumint / x->nint;
    y[3] = x->nsenders;
    y[4] = sup.minted - x->minted0;
    y[5] = ct.stake_total;
    json_t *o = net_json(e), *ser = json_object_get(o, "series");
    CHECK_EQ_U64(jv(o, "epochs"), x->epochs + 1);
    CHECK_EQ_INT(json_array_size(ser), NS);
    if (x->has_f) {                      /* score the forecasts read last epoch */
        for (size_t i = 0; i < NS; i++) {
            x->lt[x->nloss][i] = reward_tftnet_pinball(y[i], x->f[i]);
            x->ln[x->nloss][i] = reward_tftnet_pinball(y[i], x->nv[i]);
        }
        x->nloss++;
    }
    x->has_f = true;
    for (size_t i = 0; i < NS; i++) {
        json_t *s = json_array_get(ser, i), *hist = json_object_get(s, "history");
        size_t n = json_array_size(hist);
        CHECK_EQ_STR(json_string_value(json_object_get(s, "name")), reward_tftnet_series_name(i));
        CHECK_EQ_INT(n, x->epochs + 1 < NET_K ? x->epochs + 1 : NET_K);
        CHECK_EQ_U64((uint64_t)json_integer_value(json_array_get(hist, n - 1)), y[i]);
        json_t *t = json_object_get(s, "tft"), *nv = json_object_get(s, "naive");
        if (json_is_array(t) && json_is_object(nv)) {
            CHECK_EQ_INT(json_array_size(t), REWARD_TFTNET_H);
            q_of(json_array_get(t, 0), x->f[i]);
            q_of(nv, x->nv[i]);
        } else {
            x->has_f = false;
        }
        x->last[i] = y[i];
    }
    json_decref(o);
    x->epochs++;
    x->txs = x->bytes = x->nint = x->sumint = 0;
    x->nsenders = 0;
    x->minted0 = sup.minted;
}

/* One JSON-RPC call through the node's method table (in process). */
static json_t *net_rpc(node_ctx *c, const char *method, const char *params)
{
    char body[512];
    size_t len = 0;
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params);
    char *out = node_jsonrpc_handle(node_methods, c, body, strlen(body), &len);
    json_t *j = out ? json_loadb(out, len, 0, NULL) : NULL;
    free(out);
    return j;
}

static const char *rpc_err_field(json_t *r)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"),
                                             "field"));
}

/* tft_getForecast over the RPC: network series, one series, a Brain. */
static void check_rpc(env *e, const expect *x)
{
    node_ctx c = { e->l, node_mempool_new(100, 10), NULL, NULL, true, true, 0 };
    static const char *const all[] = { "[]", "[\"network\"]", "{}" };
    for (size_t k = 0; k < 3; k++) {
        json_t *r = net_rpc(&c, "tft_getForecast", all[k]), *res = json_object_get(r, "result");
        json_t *ser = json_object_get(res, "series");
        CHECK(json_is_true(json_object_get(res, "network")));
        CHECK_EQ_INT(json_array_size(ser), NS);
        CHECK_EQ_INT(jv(res, "horizon"), REWARD_TFTNET_H);
        CHECK_EQ_U64(jv(res, "epochs"), x->epochs);
        for (size_t i = 0; i < NS; i++) {
            json_t *h = json_object_get(json_array_get(ser, i), "history");
            CHECK_EQ_U64((uint64_t)json_integer_value(json_array_get(h, json_array_size(h) - 1)),
                         x->last[i]);
        }
        json_t *br = json_object_get(res, "brains");
        CHECK(json_array_size(br) >= 1);
        CHECK_EQ_INT(jv(json_array_get(br, 0), "brain"), 0);
        CHECK(json_object_get(json_array_get(br, 0), "b_fx32") != NULL);
        json_decref(r);
    }
    json_t *r = net_rpc(&c, "tft_getForecast", "[\"emission\"]");
    json_t *ser = json_object_get(json_object_get(r, "result"), "series");
    CHECK_EQ_INT(json_array_size(ser), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(ser, 0), "name")), "emission");
    json_decref(r);
    static const char *const brain0[] = { "[0]", "{\"id\": 0}", "{\"series\": 0}" };
    for (size_t k = 0; k < 3; k++) {
        r = net_rpc(&c, "tft_getForecast", brain0[k]);
        json_t *res = json_object_get(r, "result");
        CHECK_EQ_INT(jv(res, "brain"), 0);
        CHECK(json_is_array(json_object_get(res, "uids")));
        json_decref(r);
    }
    static const struct { const char *params, *field; long long code; } bad[] = {
        { "[\"bogus\"]", "series", BASED_E_BAD_PARAM },
        { "[1024]", "series", BASED_E_BAD_PARAM },
        { "[900]", "series", BASED_E_NOT_FOUND },
        { "{\"id\": 900}", "id", BASED_E_NOT_FOUND },
        { "{\"series\": 0, \"id\": 0}", "id", BASED_E_BAD_PARAM },
        { "[true]", "series", 0 },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        r = net_rpc(&c, "tft_getForecast", bad[k].params);
        CHECK(json_object_get(r, "error") != NULL);
        CHECK_EQ_STR(rpc_err_field(r), bad[k].field);
        if (bad[k].code)
            CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                         -32000 - bad[k].code);
        json_decref(r);
    }
    node_mempool_free(c.mempool);
}

static void net_chain(env *e, uint64_t bpy, bool on, uint64_t blocks, expect *x)
{
    char p[512];
    snprintf(p, sizeof p, "%s" NET_PARAMS, on ? "\"tft_enabled\": 1, " : "");
    env_open_year(e, bpy, p);
    memset(x, 0, sizeof *x);
    while (env_height(e) < blocks) {
        uint64_t h = env_height(e) + 1;
        net_block(e, h);
        see_block(e, x, h);
        if (on && h % NET_T == 0)
            close_epoch(e, x);
    }
}

TEST(tftnet_records_forecasts_scores_and_replays)
{
    env e;
    expect *x = calloc(1, sizeof *x);
    char tmp[600], err[256];
    net_chain(&e, 20, true, 162, x);
    CHECK_EQ_U64(x->epochs, 18);
    json_t *o = net_json(&e);
    json_t *m = json_object_get(o, "model");
    CHECK(json_is_object(m));
    CHECK_EQ_U64(jv(m, "applied_at"), jv(m, "trained_at") + 5);
    CHECK(x->nloss >= 4);
    CHECK_EQ_U64(jv(o, "scored_epochs"), x->nloss < NET_K ? x->nloss : NET_K);
    /* losses: the last K scored epochs the test scored itself */
    uint64_t lt[NS] = { 0 }, ln[NS] = { 0 }, pt, pn;
    size_t from = x->nloss > NET_K ? x->nloss - NET_K : 0;
    json_t *ser = json_object_get(o, "series");
    for (size_t i = 0; i < NS; i++) {
        for (size_t k = from; k < x->nloss; k++)
            lt[i] += x->lt[k][i], ln[i] += x->ln[k][i];
        json_t *s = json_array_get(ser, i);
        CHECK_EQ_U64(jv(s, "loss_tft"), lt[i]);
        CHECK_EQ_U64(jv(s, "loss_naive"), ln[i]);
        printf("%-22s last %12" PRIu64 "  loss tft %12" PRIu64 " naive %12" PRIu64 "\n",
               reward_tftnet_series_name(i), x->last[i], lt[i], ln[i]);
    }
    uint64_t acc = reward_tftnet_accuracy(lt, ln, NS, &pt, &pn);
    CHECK_EQ_U64(jv(o, "loss_tft"), pt);
    CHECK_EQ_U64(jv(o, "loss_naive"), pn);
    CHECK_EQ_U64(jv(o, "b_fx32"), tft_beta_times(tft_beta(env_height(&e) + 1, 20), acc));
    printf("pooled relative loss %" PRIu64 " / %" PRIu64 ", accuracy %.3f\n", pt, pn,
           acc / 4294967296.0);
    /* the stored forecasts are tft_forecast_multi over the history, rounded */
    uint8_t mk[3] = { CHAIN_T_TFT, 'N', 'M' };
    reward_tft_model tm;
    chain_view *v = chain_ledger_view(e.l);
    CHECK_EQ_INT(reward_tft_model_get(v, mk, sizeof mk, &tm), BASED_E_OK);
    chain_view_free(v);
    CHECK(tm.m != NULL);
    for (size_t i = 0; tm.m && i < NS; i++) {
        json_t *s = json_array_get(ser, i), *hist = json_object_get(s, "history");
        json_t *t = json_object_get(s, "tft");
        size_t n = json_array_size(hist);
        struct tft_dataset *d = tft_dataset_new(1, (int)n, 0, 0, 0);
        double out[REWARD_TFTNET_H * 3];
        for (size_t j = 0; j < n; j++)
            d->target[j] = (double)json_integer_value(json_array_get(hist, j));
        CHECK_EQ_INT(tft_forecast_multi(tm.m, d, 0, (int)n, REWARD_TFTNET_H, NULL, out),
                     BASED_E_OK);
        for (int h = 0; h < REWARD_TFTNET_H; h++) {
            uint64_t q[3];
            json_t *qj = json_array_get(t, (size_t)h);
            q_of(qj, q);
            CHECK_EQ_U64(jv(qj, "h"), (uint64_t)h + 1);
            for (int k = 0; k < 3; k++)
                CHECK_EQ_U64(q[k], reward_tftnet_round(out[h * 3 + k]));
            CHECK(q[0] <= q[1] && q[1] <= q[2]);
        }
        tft_dataset_free(d);
    }
    tft_model_free(tm.m);
    /* one series by name; a bad name */
    based_err code;
    v = chain_ledger_view(e.l);
    json_t *one = reward_tftnet_json(v, &e.g, env_height(&e), "total_stake", &code);
    CHECK(one && json_array_size(json_object_get(one, "series")) == 1);
    json_decref(one);
    CHECK(reward_tftnet_json(v, &e.g, env_height(&e), "bogus", &code) == NULL);
    CHECK_EQ_INT(code, BASED_E_BAD_PARAM);
    chain_view_free(v);
    json_decref(o);
    check_rpc(&e, x);
    /* replay from genesis with synchronous training: the same roots */
    snprintf(tmp, sizeof tmp, "%s/replay-net", test_tmpdir());
    chain_ledger_free(e.l);
    e.l = NULL;
    reward_tft_pool *pool = env_tft()->pool;
    env_tft()->pool = NULL;
    CHECK_EQ_INT(chain_ledger_verify(env_runtime(), e.db, tmp, NULL, NULL, err, sizeof err),
                 BASED_E_OK);
    env_tft()->pool = pool;
    chain_genesis_release(&e.g);
    free(x);
}

typedef struct {
    chain_wbuf w;
    size_t f;
    chain_view *v;
} net_dump;

static int net_kv(void *user, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl)
{
    net_dump *d = user;
    reward_epoch_rec r;
    if (k[0] == CHAIN_T_TFT) {
        d->f++;
        return 0;
    }
    if (k[0] == CHAIN_T_EPOCH && kl == 15 &&   /* a Brain epoch's TFT section (beta 0 here) */
        reward_epoch_rec_get(d->v, (uint16_t)(k[1] << 8 | k[2]),
                             (uint32_t)k[3] << 24 | (uint32_t)k[4] << 16 | (uint32_t)k[5] << 8 | k[6],
                             chain_get_be64(k + 7), &r) == BASED_E_OK) {
        if (r.has_tft)
            vl -= 25 + 7 * r.n;
        reward_epoch_rec_free(&r);
    }
    chain_w_bytes(&d->w, k, kl);
    chain_w_bytes(&d->w, val, vl);
    return 0;
}

/* Hash of every state key but the TFT's; *f = how many TFT keys. */
static chain_hash net_digest(env *e, size_t *f)
{
    net_dump d = { .f = 0, .v = chain_ledger_view(e->l) };
    chain_w_init(&d.w, 1u << 28);
    for (uint8_t c = 'a'; c <= 'z'; c++)
        chain_store_scan(chain_ledger_store(e->l), &c, 1, net_kv, &d);
    chain_view_free(d.v);
    chain_hash h = chain_hash_bytes(d.w.p, d.w.len);
    chain_w_free(&d.w);
    *f = d.f;
    return h;
}

TEST(tftnet_off_writes_nothing)
{
    env e;
    expect *x = calloc(1, sizeof *x);
    char moved[700];
    size_t f_off, f_on;
    net_chain(&e, 1000000, false, 100, x);
    chain_hash off = net_digest(&e, &f_off);
    /* Known answer: the same driver on commit 0a59ace (before the network
     * series existed) gave this root at height 100. A change elsewhere in
     * the chain may move it; then check that tft_enabled = 0 still writes
     * nothing of the TFT's before updating it. */
    char hex[65];
    chain_hash root = chain_ledger_head(e.l).state_root;
    chain_hex(root.b, 32, hex);
    CHECK_EQ_STR(hex, "933ae6869b4b8ec416b145746e382580743683c6ee6a3479f121dd73a83984e5");
    env_close(&e);
    snprintf(moved, sizeof moved, "%s/db-net-off", test_tmpdir());
    CHECK_EQ_INT(rename(e.db, moved), 0);
    net_chain(&e, 1000000, true, 100, x);
    chain_hash on = net_digest(&e, &f_on);
    env_close(&e);
    CHECK_EQ_U64(f_off, 0);
    CHECK(f_on >= 4);                    /* f N A, f N S, f N J / M, and the Brains' */
    CHECK(memcmp(off.b, on.b, 32) == 0);
    free(x);
}

TEST(tftnet_pieces)
{
    /* rounding */
    CHECK_EQ_U64(reward_tftnet_round(0.0 / 0.0), 0);
    CHECK_EQ_U64(reward_tftnet_round(-3.2), 0);
    CHECK_EQ_U64(reward_tftnet_round(2.5), 3);
    CHECK_EQ_U64(reward_tftnet_round(2.4999), 2);
    CHECK_EQ_U64(reward_tftnet_round(1e300), (uint64_t)INT64_MAX);
    CHECK_EQ_U64(reward_tftnet_round(4503599627370497.0), 4503599627370497ull);
    /* naive: last value +/- nearest-rank 10 %/90 % changes */
    static const uint64_t y[11] = { 10, 12, 11, 15, 15, 14, 20, 18, 18, 19, 25 };
    uint64_t q[3];
    reward_tftnet_naive(y, 11, q);       /* changes sorted: -2 -1 -1 0 0 1 1 2 4 6 */
    CHECK_EQ_U64(q[0], 23);              /* 25 + r[(10-1)/10 = 0] = 25 - 2 */
    CHECK_EQ_U64(q[1], 25);
    CHECK_EQ_U64(q[2], 31);              /* 25 + r[(9*9+9)/10 = 9] = 25 + 6 */
    static const uint64_t z[3] = { 3, 1, 0 };
    reward_tftnet_naive(z, 3, q);        /* clamped at 0 */
    CHECK_EQ_U64(q[0], 0);
    CHECK_EQ_U64(q[2], 0);
    reward_tftnet_naive(y, 1, q);
    CHECK(q[0] == 10 && q[1] == 10 && q[2] == 10);
    /* pinball in tenths: 0.1 / 0.5 / 0.9 */
    static const uint64_t band[3] = { 10, 20, 30 };
    CHECK_EQ_U64(reward_tftnet_pinball(20, band), 1 * 10 + 0 + 1 * 10);
    CHECK_EQ_U64(reward_tftnet_pinball(40, band), 1 * 30 + 5 * 20 + 9 * 10);
    CHECK_EQ_U64(reward_tftnet_pinball(0, band), 9 * 10 + 5 * 20 + 1 * 30);
    static const uint64_t huge[3] = { 0, 0, 0 };
    CHECK_EQ_U64(reward_tftnet_pinball(UINT64_MAX, huge), UINT64_MAX);   /* saturates */
    /* distinct senders: exact below K, duplicates ignored, order-free */
    uint64_t h[REWARD_TFTNET_KMV], g[REWARD_TFTNET_KMV], s = 1;
    size_t n = 0, m = 0;
    for (int i = 0; i < 200; i++) {
        uint64_t v = tft_rng_next(&s);
        reward_tftnet_kmv_add(h, &n, v);
        reward_tftnet_kmv_add(h, &n, v);
    }
    CHECK_EQ_U64(reward_tftnet_distinct(h, n), 200);
    n = 0, s = 1;
    uint64_t all[5000];
    for (int i = 0; i < 5000; i++)
        all[i] = tft_rng_next(&s), reward_tftnet_kmv_add(h, &n, all[i]);
    for (int i = 4999; i >= 0; i--)
        reward_tftnet_kmv_add(g, &m, all[i]);
    CHECK_EQ_INT(n, REWARD_TFTNET_KMV);
    CHECK_EQ_MEM(h, g, sizeof h);
    for (size_t i = 1; i < n; i++)
        CHECK(h[i - 1] < h[i]);
    uint64_t est = reward_tftnet_distinct(h, n);
    printf("5000 distinct -> estimate %" PRIu64 "\n", est);
    CHECK(est > 4250 && est < 5750);     /* KMV, K = 256: about 6 % relative error */
    /* pooled accuracy: mean of lt/ln over series with ln > 0 */
    uint64_t lt[3] = { 90, 50, 7 }, ln[3] = { 100, 50, 0 }, pt, pn;
    uint64_t acc = reward_tftnet_accuracy(lt, ln, 3, &pt, &pn);
    CHECK_EQ_U64(pt, 58982 + 65536);     /* floor(65536 x 0.9) + 65536 */
    CHECK_EQ_U64(pn, 2 * 65536);
    CHECK_EQ_U64(acc, tft_accuracy(pt, pn));
    CHECK_EQ_U64(acc, 2147614720u);      /* (131072 - 124518) x 10 x 2^32 / 131072 */
    for (size_t i = 0; reward_tftnet_series_name(i); i++)
        CHECK(i < NS);
    CHECK(reward_tftnet_series_name(NS) == NULL);
}
