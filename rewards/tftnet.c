/*
 * tftnet.c: the network series of the TFT Enforcer (see tftnet.h for the
 * state layout, docs/tft.md "Network series" for the rules).
 *
 * At the end of every block (tft_enabled = 1):
 *   1. a network model whose job is due is applied (rewards/tftchain.c's
 *      machinery: the worker's result or synchronous training);
 *   2. the block joins the running epoch: txs, bytes (encoded), the
 *      interval since the previous block's header time, the senders'
 *      hashes (k minimum values, 256 kept: exact below 256 distinct);
 *   3. at the epoch's last block, unless the epoch is partial (tft_enabled
 *      seen first after block 1): the six values are recorded; last
 *      epoch's one-step forecasts are scored (pinball, tenths, integers,
 *      TFT and seasonal naive per series); the values join the windows
 *      (last K); forecasts are made for the next H epochs (TFT, recursive,
 *      tft_forecast_multi) and the next one (naive); every tft_train_every
 *      network epochs a job over the windows is written.
 * Iteration in series order; no floats outside tft/ except the rounding.
 */
#include "chain/account.h"
#include "chain/keys.h"
#include "contracts/state.h"
#include "rewards/internal.h"
#include "rewards/tftchain.h"
#include "rewards/tftnet.h"

#define NS REWARD_TFTNET_SERIES
#define H REWARD_TFTNET_H
#define KMV REWARD_TFTNET_KMV
#define WMAX REWARD_TFT_MAX_WINDOW
#define VMAX ((uint64_t)INT64_MAX)

__extension__ typedef __int128 i128;   /* one-step changes of u64 values */

static const char *const series_names[NS] = {
    "txs_per_block_milli", "bytes_per_block_milli", "block_interval_ms", "active_addresses",
    "emission", "total_stake",
};

const char *reward_tftnet_series_name(size_t i)
{
    return i < NS ? series_names[i] : NULL;
}

static void nkey(char kind, uint8_t k[3])
{
    k[0] = CHAIN_T_TFT, k[1] = 'N', k[2] = (uint8_t)kind;
}

/* ---------------- records ---------------- */

typedef struct {
    uint64_t end;                        /* the epoch's last height */
    uint8_t partial;                     /* not recorded */
    uint64_t blocks, txs, bytes, nint, sumint, tprev, minted0;
    size_t nk;
    uint64_t kmv[KMV];                   /* ascending */
} acc_rec;

typedef struct {
    uint64_t epochs;                     /* recorded */
    uint8_t count;                       /* values per series (the same for all) */
    uint64_t y[NS][WMAX];                /* oldest first */
    uint8_t has;                         /* 1: naive forecast, 2: TFT forecasts */
    uint64_t nv[NS][3], f[NS][H][3];
    uint8_t nloss;
    uint64_t lt[WMAX][NS], ln[WMAX][NS];
} net_rec;

static based_err acc_get(chain_view *v, acc_rec *a, bool *found)
{
    uint8_t k[3];
    const uint8_t *val;
    size_t vl;
    chain_rbuf r;
    memset(a, 0, sizeof *a);
    nkey('A', k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    *found = rc == BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc == BASED_E_NOT_FOUND ? BASED_E_OK : rc;
    chain_r_init(&r, val, vl);
    a->end = chain_r_u64(&r);
    a->partial = chain_r_u8(&r);
    a->blocks = chain_r_u64(&r), a->txs = chain_r_u64(&r), a->bytes = chain_r_u64(&r);
    a->nint = chain_r_u64(&r), a->sumint = chain_r_u64(&r), a->tprev = chain_r_u64(&r);
    a->minted0 = chain_r_u64(&r);
    uint64_t nk = chain_r_uleb(&r);
    if (nk > KMV)
        chain_r_fail(&r, "tft sender hashes");
    for (size_t i = 0; !r.err && i < nk; i++)
        a->kmv[i] = chain_r_u64(&r);
    a->nk = (size_t)nk;
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

static based_err acc_put(chain_view *v, const acc_rec *a)
{
    uint8_t k[3];
    chain_wbuf w;
    chain_w_init(&w, CHAIN_VALUE_MAX);
    chain_w_u64(&w, a->end);
    chain_w_u8(&w, a->partial);
    chain_w_u64(&w, a->blocks), chain_w_u64(&w, a->txs), chain_w_u64(&w, a->bytes);
    chain_w_u64(&w, a->nint), chain_w_u64(&w, a->sumint), chain_w_u64(&w, a->tprev);
    chain_w_u64(&w, a->minted0);
    chain_w_uleb(&w, a->nk);
    for (size_t i = 0; i < a->nk; i++)
        chain_w_u64(&w, a->kmv[i]);
    nkey('A', k);
    based_err rc = w.err ? BASED_E_TOO_LARGE : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

static based_err net_get(chain_view *v, net_rec *s)
{
    uint8_t k[3];
    const uint8_t *val;
    size_t vl;
    chain_rbuf r;
    memset(s, 0, sizeof *s);
    nkey('S', k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc != BASED_E_OK)
        return rc == BASED_E_NOT_FOUND ? BASED_E_OK : rc;
    chain_r_init(&r, val, vl);
    s->epochs = chain_r_u64(&r);
    s->count = chain_r_u8(&r);
    s->has = chain_r_u8(&r);
    s->nloss = chain_r_u8(&r);
    if (s->count > WMAX || s->nloss > WMAX)
        chain_r_fail(&r, "tft network window");
    for (size_t i = 0; i < NS && !r.err; i++) {
        for (size_t j = 0; j < s->count; j++)
            s->y[i][j] = chain_r_u64(&r);
        for (int q = 0; q < 3 && (s->has & 1); q++)
            s->nv[i][q] = chain_r_u64(&r);
        for (int h = 0; h < H && (s->has & 2); h++)
            for (int q = 0; q < 3; q++)
                s->f[i][h][q] = chain_r_u64(&r);
    }
    for (size_t e = 0; e < s->nloss && !r.err; e++)
        for (size_t i = 0; i < NS; i++)
            s->lt[e][i] = chain_r_u64(&r), s->ln[e][i] = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

static based_err net_put(chain_view *v, const net_rec *s)
{
    uint8_t k[3];
    chain_wbuf w;
    chain_w_init(&w, CHAIN_VALUE_MAX);
    chain_w_u64(&w, s->epochs);
    chain_w_u8(&w, s->count);
    chain_w_u8(&w, s->has);
    chain_w_u8(&w, s->nloss);
    for (size_t i = 0; i < NS; i++) {
        for (size_t j = 0; j < s->count; j++)
            chain_w_u64(&w, s->y[i][j]);
        for (int q = 0; q < 3 && (s->has & 1); q++)
            chain_w_u64(&w, s->nv[i][q]);
        for (int h = 0; h < H && (s->has & 2); h++)
            for (int q = 0; q < 3; q++)
                chain_w_u64(&w, s->f[i][h][q]);
    }
    for (size_t e = 0; e < s->nloss; e++)
        for (size_t i = 0; i < NS; i++)
            chain_w_u64(&w, s->lt[e][i]), chain_w_u64(&w, s->ln[e][i]);
    nkey('S', k);
    based_err rc = w.err ? BASED_E_TOO_LARGE : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

/* ---------------- the pieces ---------------- */

uint64_t reward_tftnet_round(double v)
{
    if (!(v > 0.0))
        return 0;
    if (v >= 9223372036854775808.0)
        return VMAX;
    if (v >= 4503599627370496.0)         /* >= 2^52: already an integer */
        return (uint64_t)v;
    return (uint64_t)(v + 0.5);
}

static int cmp_i128(const void *a, const void *b)
{
    i128 x = *(const i128 *)a, y = *(const i128 *)b;
    return (x > y) - (x < y);
}

static uint64_t clamp_v(i128 v)
{
    return v < 0 ? 0 : v > (i128)VMAX ? VMAX : (uint64_t)v;
}

void reward_tftnet_naive(const uint64_t *y, size_t len, uint64_t q[3])
{
    i128 r[WMAX];
    size_t m = 0;
    for (size_t i = 1; i < len && m < WMAX; i++)
        r[m++] = (i128)y[i] - (i128)y[i - 1];
    i128 base = len ? y[len - 1] : 0;
    q[0] = q[1] = q[2] = clamp_v(base);
    if (m == 0)
        return;
    qsort(r, m, sizeof *r, cmp_i128);    /* total order on integers: stable result */
    q[0] = clamp_v(base + r[(m - 1) / 10]);
    q[2] = clamp_v(base + r[((m - 1) * 9 + 9) / 10]);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t reward_tftnet_pinball(uint64_t y, const uint64_t q[3])
{
    static const uint64_t tau[3] = { 1, 5, 9 };
    contract_u128 l = 0;
    for (int i = 0; i < 3; i++)
        l += y >= q[i] ? (contract_u128)tau[i] * (y - q[i])
                       : (contract_u128)(10 - tau[i]) * (q[i] - y);
    return l > UINT64_MAX ? UINT64_MAX : (uint64_t)l;
}

uint64_t reward_tftnet_distinct(const uint64_t *h, size_t n)
{
    if (n < KMV)
        return n;
    contract_u128 num = (contract_u128)(KMV - 1) << 64;
    return (uint64_t)(num / ((contract_u128)h[KMV - 1] + 1));
}

void reward_tftnet_kmv_add(uint64_t *h, size_t *n, uint64_t x)
{
    size_t lo = 0, hi = *n;
    while (lo < hi) {                    /* first index with h[i] >= x */
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if ((lo < *n && h[lo] == x) || lo >= KMV)
        return;
    size_t keep = *n < KMV ? *n : KMV - 1;   /* the largest falls out when full */
    memmove(h + lo + 1, h + lo, (keep - lo) * sizeof *h);
    h[lo] = x;
    *n = keep + 1;
}

uint64_t reward_tftnet_accuracy(const uint64_t *lt, const uint64_t *ln, size_t n,
                                uint64_t *pooled_tft, uint64_t *pooled_naive)
{
    const contract_u128 cap = (contract_u128)1 << 40;
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        if (ln[i] == 0)
            continue;
        contract_u128 t = (contract_u128)lt[i] * REWARD_TFTNET_FIX / ln[i];
        a += (uint64_t)(t > cap ? cap : t);
        b += REWARD_TFTNET_FIX;
    }
    *pooled_tft = a, *pooled_naive = b;
    return tft_accuracy(a, b);
}

/* ---------------- training jobs ---------------- */

/* Job payload after made_at, apply_at: seed u64, window u16, NS x (count
 * u8, count x u64), the same count for every series. */
static based_err net_train(const uint8_t *p, size_t pl, uint8_t **bytes, size_t *bl)
{
    chain_rbuf r;
    struct tft_model *m = NULL;
    *bytes = NULL, *bl = 0;
    chain_r_init(&r, p, pl);
    chain_r_u64(&r), chain_r_u64(&r);
    uint64_t seed = chain_r_u64(&r);
    uint16_t window = chain_r_u16(&r);
    if (r.err || window < 4 || window > WMAX)
        return BASED_E_DB;
    struct tft_dataset *d = tft_dataset_new(NS, window, 0, 0, 0);
    if (!d)
        return BASED_E_NOMEM;
    for (int i = 0; i < NS && !r.err; i++) {
        uint8_t c = chain_r_u8(&r);
        if (c > window)
            chain_r_fail(&r, "network job series");
        d->len[i] = c;
        snprintf(d->series_names[i], TFT_NAME_LEN, "%s", series_names[i]);
        for (size_t s = 0; s < c && !r.err; s++)
            d->target[(size_t)i * window + s] = (double)chain_r_u64(&r);
    }
    chain_r_finish(&r);
    based_err rc = r.err ? BASED_E_DB : reward_tft_train_dataset(d, window, seed, &m);
    tft_dataset_free(d);
    if (rc == BASED_E_OK && m && tft_model_save(m, NULL, bl) == BASED_E_OK) {
        *bytes = malloc(*bl);
        rc = !*bytes ? BASED_E_NOMEM : tft_model_save(m, *bytes, bl);
    }
    if (!*bytes)
        *bl = 0;
    tft_model_free(m);
    return rc;
}

static based_err maybe_job(chain_exec *ex, const net_rec *s, size_t k)
{
    uint8_t key[3];
    const uint8_t *val;
    size_t vl;
    nkey('J', key);
    if (s->epochs % REWARD_PARAM(ex, tft_train_every) != 0 || s->count < REWARD_TFT_MIN_TRAIN ||
        chain_view_get(ex->view, key, sizeof key, &val, &vl) == BASED_E_OK)
        return BASED_E_OK;
    chain_wbuf d;
    chain_w_init(&d, CHAIN_VALUE_MAX);
    for (size_t i = 0; i < NS; i++) {
        chain_w_u8(&d, s->count);
        for (size_t j = 0; j < s->count; j++)
            chain_w_u64(&d, s->y[i][j]);
    }
    /* seed from "network" || height || data */
    based_err rc = d.err ? BASED_E_TOO_LARGE
                         : reward_tft_job_write(ex, key, sizeof key, (const uint8_t *)"network", 7,
                                                (uint16_t)k, d.p, d.len, net_train);
    chain_w_free(&d);
    return rc;
}

/* ---------------- one network epoch ---------------- */

static void score(net_rec *s, const uint64_t *y, size_t k)
{
    if ((s->has & 3) != 3)
        return;
    if (s->nloss >= k) {
        size_t drop = s->nloss - k + 1;
        memmove(s->lt, s->lt + drop, (s->nloss - drop) * sizeof s->lt[0]);
        memmove(s->ln, s->ln + drop, (s->nloss - drop) * sizeof s->ln[0]);
        s->nloss = (uint8_t)(s->nloss - drop);
    }
    for (size_t i = 0; i < NS; i++) {
        s->lt[s->nloss][i] = reward_tftnet_pinball(y[i], s->f[i][0]);
        s->ln[s->nloss][i] = reward_tftnet_pinball(y[i], s->nv[i]);
    }
    s->nloss++;
}

static void sort3(uint64_t q[3])
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2 - i; j++)
            if (q[j] > q[j + 1]) {
                uint64_t t = q[j];
                q[j] = q[j + 1], q[j + 1] = t;
            }
}

/* TFT forecasts h = 1..H of every series from the windows; false when
 * there is no model or a forecast fails (then none are kept). */
static bool forecast_tft(const struct tft_model *m, net_rec *s)
{
    double out[H * 3];
    struct tft_dataset *d = tft_dataset_new(1, s->count, 0, 0, 0);
    bool ok = d != NULL;
    for (size_t i = 0; ok && i < NS; i++) {
        for (size_t j = 0; j < s->count; j++)
            d->target[j] = (double)s->y[i][j];
        ok = tft_forecast_multi(m, d, 0, s->count, H, NULL, out) == BASED_E_OK;
        for (int h = 0; ok && h < H; h++) {
            for (int q = 0; q < 3; q++)
                s->f[i][h][q] = reward_tftnet_round(out[h * 3 + q]);
            sort3(s->f[i][h]);
        }
    }
    tft_dataset_free(d);
    return ok;
}

static based_err record_epoch(chain_exec *ex, const uint64_t *y)
{
    net_rec *s = malloc(sizeof *s);
    reward_tft_model tm;
    uint64_t kw = REWARD_PARAM(ex, tft_window);
    size_t k = kw > WMAX ? WMAX : (size_t)kw;
    uint8_t mk[3];
    if (!s)
        return BASED_E_NOMEM;
    based_err rc = net_get(ex->view, s);
    if (rc == BASED_E_OK) {
        score(s, y, k);
        while (s->count >= k) {
            for (size_t i = 0; i < NS; i++)
                memmove(s->y[i], s->y[i] + 1, (s->count - 1) * sizeof s->y[i][0]);
            s->count--;
        }
        for (size_t i = 0; i < NS; i++)
            s->y[i][s->count] = y[i];
        s->count++;
        s->has = 0;
        nkey('M', mk);
        rc = reward_tft_model_get(ex->view, mk, sizeof mk, &tm);
    }
    if (rc == BASED_E_OK && s->count >= 2) {
        for (size_t i = 0; i < NS; i++)
            reward_tftnet_naive(s->y[i], s->count, s->nv[i]);
        s->has = 1;
        if (tm.m && forecast_tft(tm.m, s))
            s->has |= 2;
    }
    if (rc == BASED_E_OK)
        tft_model_free(tm.m);
    s->epochs++;
    if (rc == BASED_E_OK)
        rc = maybe_job(ex, s, k);
    if (rc == BASED_E_OK)
        rc = net_put(ex->view, s);
    free(s);
    return rc;
}

/* ---------------- the block hook ---------------- */

static uint64_t epoch_len(chain_exec *ex)
{
    uint64_t t = REWARD_PARAM(ex, tempo);
    return t ? t : 99;
}

/* The six values of a closed epoch. */
static based_err epoch_values(chain_exec *ex, const acc_rec *a, uint64_t minted, uint64_t *y)
{
    contract_totals ct;
    based_err rc = contract_totals_get(ex->view, &ct);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t b = a->blocks ? a->blocks : 1;
    y[0] = (uint64_t)((contract_u128)a->txs * 1000 / b);
    y[1] = (uint64_t)((contract_u128)a->bytes * 1000 / b);
    y[2] = a->nint ? a->sumint / a->nint : 0;
    y[3] = reward_tftnet_distinct(a->kmv, a->nk);
    y[4] = minted - a->minted0;
    y[5] = ct.stake_total;
    return BASED_E_OK;
}

based_err reward_tftnet_block_end(chain_exec *ex, chain_tx *const *txs, size_t n)
{
    uint8_t jk[3], mk[3];
    acc_rec *a;
    chain_supply sup;
    bool found;
    if (!REWARD_PARAM(ex, tft_enabled))
        return BASED_E_OK;
    nkey('J', jk);
    nkey('M', mk);
    based_err rc = reward_tft_apply_due(ex, jk, mk, sizeof jk, net_train, NULL, NULL);
    if (rc != BASED_E_OK)
        return rc;
    if (!(a = malloc(sizeof *a)))
        return BASED_E_NOMEM;
    rc = acc_get(ex->view, a, &found);
    if (rc == BASED_E_OK)
        rc = chain_supply_get(ex->view, &sup);
    if (rc == BASED_E_OK && !found) {    /* first block seen: epoch of this height */
        uint64_t t = epoch_len(ex);
        a->end = ex->height ? ((ex->height - 1) / t + 1) * t : t;
        a->partial = ex->height != 1;    /* block 1 starts from genesis: minted 0 */
    }
    if (rc == BASED_E_OK) {
        if (found && ex->time_ms >= a->tprev)
            a->nint++, a->sumint = sat_add(a->sumint, ex->time_ms - a->tprev);
        a->tprev = ex->time_ms;
        a->blocks++;
        a->txs += n;
        for (size_t i = 0; i < n; i++) {
            chain_hash sh = chain_hash_bytes(txs[i]->sender.b, sizeof txs[i]->sender.b);
            a->bytes = sat_add(a->bytes, txs[i]->raw_len);
            reward_tftnet_kmv_add(a->kmv, &a->nk, chain_get_be64(sh.b));
        }
    }
    if (rc == BASED_E_OK && ex->height >= a->end) {
        uint64_t y[NS];
        if (!a->partial) {
            rc = epoch_values(ex, a, sup.minted, y);
            if (rc == BASED_E_OK)
                rc = record_epoch(ex, y);
        }
        uint64_t tprev = a->tprev;
        memset(a, 0, sizeof *a);
        a->end = ex->height + epoch_len(ex);
        a->tprev = tprev;
        a->minted0 = sup.minted;
    }
    if (rc == BASED_E_OK)
        rc = acc_put(ex->view, a);
    free(a);
    return rc;
}

/* ---------------- tft_getForecast ---------------- */

static json_t *v_json(uint64_t v)
{
    char b[24];
    if (v <= VMAX)
        return json_integer((json_int_t)v);
    snprintf(b, sizeof b, "%" PRIu64, v);
    return json_string(b);
}

static json_t *q_json(const uint64_t q[3])
{
    return json_pack("{s:o, s:o, s:o}", "p10", v_json(q[0]), "p50", v_json(q[1]), "p90",
                     v_json(q[2]));
}

static json_t *series_json(const net_rec *s, size_t i)
{
    uint64_t lt = 0, ln = 0;
    json_t *hist = json_array(), *tft = json_null();
    for (size_t j = 0; j < s->count; j++)
        json_array_append_new(hist, v_json(s->y[i][j]));
    if (s->has & 2) {
        tft = json_array();
        for (int h = 0; h < H; h++) {
            json_t *q = q_json(s->f[i][h]);
            json_object_set_new(q, "h", json_integer(h + 1));
            json_array_append_new(tft, q);
        }
    }
    for (size_t e = 0; e < s->nloss; e++)
        lt = sat_add(lt, s->lt[e][i]), ln = sat_add(ln, s->ln[e][i]);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", series_names[i],
                     "history", hist, "tft", tft,
                     "naive", (s->has & 1) ? q_json(s->nv[i]) : json_null(),
                     "loss_tft", v_json(lt), "loss_naive", v_json(ln),
                     "accuracy", reward_tft_fx_json(tft_accuracy(lt, ln)));
}

/* Accuracy, beta and b of every Brain with a TFT record. */
static json_t *brains_json(chain_view *v, const chain_genesis *g, uint64_t height)
{
    static const char *const keep[] = { "brain", "instance", "scored_epochs", "accuracy", "b",
                                        "b_fx32" };
    json_t *arr = json_array();
    for (uint64_t id = 0; id < CONTRACT_MAX_BRAINS; id++) {
        contract_brain b;
        based_err code;
        if (contract_brain_get(v, id, &b) != BASED_E_OK)
            continue;
        json_t *full = reward_tft_json(v, g, height, id, &code), *o = json_object();
        for (size_t i = 0; full && i < sizeof keep / sizeof keep[0]; i++)
            json_object_set(o, keep[i], json_object_get(full, keep[i]));
        json_decref(full);
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *reward_tftnet_json(chain_view *v, const chain_genesis *g, uint64_t height,
                           const char *which, based_err *code)
{
    size_t only = NS;
    uint64_t lt[NS] = { 0 }, ln[NS] = { 0 }, pt, pn;
    uint8_t jk[3], mk[3];
    acc_rec *a = NULL;
    bool found = false;
    for (size_t i = 0; which && i < NS; i++)
        if (strcmp(which, series_names[i]) == 0)
            only = i;
    if (which && only == NS)
        return *code = BASED_E_BAD_PARAM, NULL;
    net_rec *s = malloc(sizeof *s);
    a = malloc(sizeof *a);
    *code = s && a ? net_get(v, s) : BASED_E_NOMEM;
    if (*code == BASED_E_OK)
        *code = acc_get(v, a, &found);
    if (*code != BASED_E_OK) {
        free(s);
        free(a);
        return NULL;
    }
    for (size_t e = 0; e < s->nloss; e++)
        for (size_t i = 0; i < NS; i++)
            lt[i] = sat_add(lt[i], s->lt[e][i]), ln[i] = sat_add(ln[i], s->ln[e][i]);
    uint64_t acc = reward_tftnet_accuracy(lt, ln, NS, &pt, &pn);
    uint64_t beta = tft_beta(height + 1, g->blocks_per_year), b = tft_beta_times(beta, acc);
    nkey('J', jk);
    nkey('M', mk);
    json_t *o = reward_tft_model_json(v, jk, mk, sizeof jk), *arr = json_array();
    for (size_t i = 0; i < NS; i++)
        if (only == NS || only == i)
            json_array_append_new(arr, series_json(s, i));
    json_object_set_new(o, "network", json_true());
    json_object_set_new(o, "enabled", json_boolean(g->params.tft_enabled != 0));
    json_object_set_new(o, "height", json_integer((json_int_t)height));
    json_object_set_new(o, "epoch_blocks", json_integer((json_int_t)(g->params.tempo ? g->params.tempo : 99)));
    json_object_set_new(o, "next_epoch_end", found ? json_integer((json_int_t)a->end) : json_null());
    json_object_set_new(o, "horizon", json_integer(H));
    json_object_set_new(o, "epochs", json_integer((json_int_t)s->epochs));
    json_object_set_new(o, "scored_epochs", json_integer(s->nloss));
    json_object_set_new(o, "loss_tft", json_integer((json_int_t)pt));
    json_object_set_new(o, "loss_naive", json_integer((json_int_t)pn));
    json_object_set_new(o, "beta", reward_tft_fx_json(beta));
    json_object_set_new(o, "accuracy", reward_tft_fx_json(acc));
    json_object_set_new(o, "b", reward_tft_fx_json(b));
    json_object_set_new(o, "b_fx32", json_integer((json_int_t)b));
    json_object_set_new(o, "series", arr);
    json_object_set_new(o, "brains", brains_json(v, g, height));
    free(s);
    free(a);
    return o;
}
