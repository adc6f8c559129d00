/*
 * tftchain.c: the TFT Enforcer in block execution (see tftchain.h for the
 * state layout, docs/tft.md "In the chain" for the schedule).
 *
 * Per Brain epoch e (tft_enabled = 1):
 *   before: accuracy = tft_accuracy(sum of the TFT's pinball losses, sum of
 *           seasonal naive's) over the last K scored epochs; beta =
 *           tft_beta(height, blocks_per_year); b = beta x accuracy; the
 *           bands are the TFT forecasts made at epoch e - 1 (for a uid
 *           whose occupant is unchanged), else [0, 65535] (no clamp).
 *   after:  each forecast made at e - 1 is scored against e's incentive
 *           (pooled over uids having both forecasts); the incentive joins
 *           the uid's feed (reset for a new occupant; at 2K values rebased
 *           to the last K; cut to the last K when a new model is applied);
 *           the window is the feed's last K values; the forecasts for e + 1
 *           are made (TFT with the applied model over the feed, advanced
 *           incrementally by rewards/tftcache.c; seasonal naive over the
 *           window); every tft_train_every epochs a job over the windows is
 *           written (at most REWARD_TFT_TRAIN_MAX of them, chosen by
 *           reward_tft_pick_rank), applied at height + tft_apply_delay.
 * Iteration in uid order; no floats outside tft/ except the rounding.
 */
#include "chain/keys.h"
#include "rewards/internal.h"
#include "rewards/tftcache.h"
#include "rewards/tftchain.h"

/* ---------------- records ---------------- */

typedef struct {
    uint64_t reg;                        /* occupant's registered_at */
    uint8_t count;                       /* values in y (the feed) */
    uint16_t y[REWARD_TFT_MAX_FEED];     /* oldest first; the window is the last K */
    uint8_t has;                         /* 1: naive forecast, 2: TFT forecast */
    uint16_t f[3], nv[3];                /* forecasts for the next epoch */
} tuid;

typedef struct {
    uint64_t epochs;                     /* epochs seen */
    uint64_t model_at;                   /* applied_at of the model the feeds were cut for */
    uint8_t nloss;
    uint64_t lt[REWARD_TFT_MAX_WINDOW], ln[REWARD_TFT_MAX_WINDOW];
    size_t n;
    tuid *u;
} tseries;

static void tkey(const contract_brain *b, char kind, uint8_t k[8])
{
    k[0] = CHAIN_T_TFT;
    reward_put_brain(k + 1, b->id, b->instance);
    k[7] = (uint8_t)kind;
}

static size_t window_of(chain_exec *ex)
{
    uint64_t k = REWARD_PARAM(ex, tft_window);
    return k > REWARD_TFT_MAX_WINDOW ? REWARD_TFT_MAX_WINDOW : (size_t)k;
}

static void series_free(tseries *s)
{
    free(s->u);
    memset(s, 0, sizeof *s);
}

static bool series_grow(tseries *s, size_t n)
{
    if (n <= s->n)
        return true;
    tuid *u = realloc(s->u, n * sizeof *u);
    if (!u)
        return false;
    memset(u + s->n, 0, (n - s->n) * sizeof *u);
    s->u = u, s->n = n;
    return true;
}

static void decode_uid(chain_rbuf *r, tuid *u)
{
    u->reg = chain_r_u64(r);
    u->count = chain_r_u8(r);
    if (u->count > REWARD_TFT_MAX_FEED)
        chain_r_fail(r, "tft feed");
    for (size_t i = 0; !r->err && i < u->count; i++)
        u->y[i] = chain_r_u16(r);
    u->has = chain_r_u8(r);
    for (int q = 0; q < 3 && (u->has & 1); q++)
        u->nv[q] = chain_r_u16(r);
    for (int q = 0; q < 3 && (u->has & 2); q++)
        u->f[q] = chain_r_u16(r);
}

static based_err series_get(chain_view *v, const contract_brain *b, tseries *s)
{
    uint8_t k[8];
    const uint8_t *val;
    size_t vl;
    chain_rbuf r;
    memset(s, 0, sizeof *s);
    tkey(b, 'S', k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    chain_r_init(&r, val, vl);
    s->epochs = chain_r_u64(&r);
    s->model_at = chain_r_u64(&r);
    s->nloss = chain_r_u8(&r);
    if (s->nloss > REWARD_TFT_MAX_WINDOW)
        chain_r_fail(&r, "tft losses");
    for (size_t i = 0; !r.err && i < s->nloss; i++)
        s->lt[i] = chain_r_u64(&r), s->ln[i] = chain_r_u64(&r);
    uint64_t n = chain_r_uleb(&r);
    if (r.err || n > STAKE_MAX_UIDS || !series_grow(s, (size_t)n))
        return series_free(s), r.err || n > STAKE_MAX_UIDS ? BASED_E_DB : BASED_E_NOMEM;
    for (size_t i = 0; i < s->n && !r.err; i++)
        decode_uid(&r, &s->u[i]);
    chain_r_finish(&r);
    if (r.err)
        return series_free(s), BASED_E_DB;
    return BASED_E_OK;
}

static based_err series_put(chain_view *v, const contract_brain *b, const tseries *s)
{
    uint8_t k[8];
    chain_wbuf w;
    chain_w_init(&w, CHAIN_VALUE_MAX);
    chain_w_u64(&w, s->epochs);
    chain_w_u64(&w, s->model_at);
    chain_w_u8(&w, s->nloss);
    for (size_t i = 0; i < s->nloss; i++)
        chain_w_u64(&w, s->lt[i]), chain_w_u64(&w, s->ln[i]);
    chain_w_uleb(&w, s->n);
    for (size_t i = 0; i < s->n; i++) {
        const tuid *u = &s->u[i];
        chain_w_u64(&w, u->reg);
        chain_w_u8(&w, u->count);
        for (size_t j = 0; j < u->count; j++)
            chain_w_u16(&w, u->y[j]);
        chain_w_u8(&w, u->has);
        for (int q = 0; q < 3 && (u->has & 1); q++)
            chain_w_u16(&w, u->nv[q]);
        for (int q = 0; q < 3 && (u->has & 2); q++)
            chain_w_u16(&w, u->f[q]);
    }
    tkey(b, 'S', k);
    based_err rc = w.err ? BASED_E_TOO_LARGE : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

/* ---------------- the pieces ---------------- */

uint16_t reward_tft_round(double v)
{
    if (!(v > 0.0))
        return 0;
    if (v >= 65535.0)
        return 65535;
    return (uint16_t)(v + 0.5);
}

void reward_tft_config(struct tft_config *c, int window, uint64_t seed)
{
    tft_config_default(c);
    c->d = 8;
    c->heads = 2;
    c->k = 4;
    c->max_len = window;
    c->epochs = 30;
    c->patience = 5;
    c->batch = 4;
    c->valid = 2;
    c->warmup = 2;
    c->lr = 0.01;
    c->seed = seed;
}

void reward_tft_round3(const double v[3], uint16_t q[3])
{
    for (int i = 0; i < 3; i++)
        q[i] = reward_tft_round(v[i]);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2 - i; j++)
            if (q[j] > q[j + 1]) {
                uint16_t t = q[j];
                q[j] = q[j + 1], q[j + 1] = t;
            }
}

static struct tft_dataset *dataset_of(const uint16_t *const *series, const size_t *len, size_t n,
                                      int steps)
{
    struct tft_dataset *d = tft_dataset_new((int)n, steps, 0, 0, 0);
    for (size_t i = 0; d && i < n; i++) {
        d->len[i] = (int)len[i];
        snprintf(d->series_names[i], TFT_NAME_LEN, "uid%zu", i);
        for (size_t s = 0; s < len[i]; s++)
            d->target[i * (size_t)steps + s] = (double)series[i][s];
    }
    return d;
}

based_err reward_tft_forecast(const struct tft_model *m, const uint16_t *y, size_t len,
                              uint16_t q[3])
{
    double out[3 * REWARD_TFT_MAX_WINDOW];
    if (len < 2 || len > REWARD_TFT_MAX_WINDOW)
        return BASED_E_BAD_PARAM;
    struct tft_dataset *d = dataset_of(&y, &len, 1, (int)len);
    if (!d)
        return BASED_E_NOMEM;
    based_err rc = tft_forecast_series(m, d, 0, (int)len, out);
    tft_dataset_free(d);
    if (rc == BASED_E_OK)
        reward_tft_round3(out + (len - 1) * 3, q);
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static uint16_t clamp_u16(int64_t v)
{
    return v < 0 ? 0 : v > 65535 ? 65535 : (uint16_t)v;
}

void reward_tft_naive(const uint16_t *y, size_t len, uint16_t q[3])
{
    int32_t r[REWARD_TFT_MAX_WINDOW];
    size_t m = 0, s = REWARD_TFT_SEASON;
    for (size_t i = s; i < len && m < REWARD_TFT_MAX_WINDOW; i++)
        r[m++] = (int32_t)y[i] - (int32_t)y[i - s];
    int64_t base = len >= s ? y[len - s] : (len ? y[len - 1] : 0);
    q[0] = q[1] = q[2] = clamp_u16(base);
    if (m == 0)
        return;
    qsort(r, m, sizeof *r, cmp_i32);   /* total order on integers: stable result */
    q[0] = clamp_u16(base + r[(m - 1) / 10]);
    q[2] = clamp_u16(base + r[((m - 1) * 9 + 9) / 10]);
}

uint64_t reward_tft_pinball(uint16_t y, const uint16_t q[3])
{
    static const uint64_t tau[3] = { 1, 5, 9 };
    uint64_t l = 0;
    for (int i = 0; i < 3; i++)
        l += y >= q[i] ? tau[i] * (uint64_t)(y - q[i]) : (10 - tau[i]) * (uint64_t)(q[i] - y);
    return l;
}

based_err reward_tft_train_dataset(const struct tft_dataset *d, int window, uint64_t seed,
                                   struct tft_model **out)
{
    struct tft_config c;
    struct tft_train_report rep;
    *out = NULL;
    reward_tft_config(&c, window, seed);
    struct tft_model *m = d ? tft_model_new(&c, 0, 0, 0) : NULL;
    based_err rc = m ? tft_train(m, d, NULL, &rep, NULL) : BASED_E_NOMEM;
    if (rc == BASED_E_OK)
        *out = m;
    else
        tft_model_free(m);
    return rc == BASED_E_NOMEM ? rc : BASED_E_OK;
}

based_err reward_tft_train(const uint16_t *const *series, const size_t *len, size_t n,
                           int window, uint64_t seed, struct tft_model **out)
{
    struct tft_dataset *d = dataset_of(series, len, n, window);
    based_err rc = reward_tft_train_dataset(d, window, seed, out);
    tft_dataset_free(d);
    return rc;
}

/* ---------------- jobs: encoding and training ---------------- */

typedef struct {
    uint64_t made_at, apply_at, seed;
    uint16_t window;
    size_t n;
    size_t len[STAKE_MAX_UIDS];
    const uint16_t *y[STAKE_MAX_UIDS];
    uint16_t *buf;
} tjob;

/* Parses a job value; the series point into buf (owned). */
static based_err job_parse(const uint8_t *p, size_t pl, tjob *j)
{
    chain_rbuf r;
    memset(j, 0, sizeof *j);
    chain_r_init(&r, p, pl);
    j->made_at = chain_r_u64(&r);
    j->apply_at = chain_r_u64(&r);
    j->seed = chain_r_u64(&r);
    j->window = chain_r_u16(&r);
    uint64_t n = chain_r_uleb(&r);
    if (r.err || n > STAKE_MAX_UIDS || j->window > REWARD_TFT_MAX_WINDOW || j->window < 4)
        return BASED_E_DB;
    j->buf = malloc((n ? n : 1) * REWARD_TFT_MAX_WINDOW * sizeof *j->buf);
    if (!j->buf)
        return BASED_E_NOMEM;
    j->n = (size_t)n;
    for (size_t i = 0; i < j->n && !r.err; i++) {
        uint16_t *y = j->buf + i * REWARD_TFT_MAX_WINDOW;
        j->len[i] = chain_r_u8(&r);
        if (j->len[i] > j->window)
            chain_r_fail(&r, "job series");
        for (size_t s = 0; s < j->len[i] && !r.err; s++)
            y[s] = chain_r_u16(&r);
        j->y[i] = y;
    }
    chain_r_finish(&r);
    if (r.err) {
        free(j->buf);
        return BASED_E_DB;
    }
    return BASED_E_OK;
}

/* Trains the job's model; *bytes (malloc'd) is empty when none results. */
static based_err job_train(const uint8_t *p, size_t pl, uint8_t **bytes, size_t *bl)
{
    tjob *j = malloc(sizeof *j);
    struct tft_model *m = NULL;
    *bytes = NULL, *bl = 0;
    based_err rc = j ? job_parse(p, pl, j) : BASED_E_NOMEM;
    if (rc != BASED_E_OK) {
        free(j);
        return rc;
    }
    rc = reward_tft_train(j->y, j->len, j->n, j->window, j->seed, &m);
    if (rc == BASED_E_OK && m && tft_model_save(m, NULL, bl) == BASED_E_OK) {
        *bytes = malloc(*bl);
        rc = !*bytes ? BASED_E_NOMEM : tft_model_save(m, *bytes, bl);
    }
    if (!*bytes)
        *bl = 0;
    tft_model_free(m);
    free(j->buf);
    free(j);
    return rc;
}

/* made_at and apply_at of a job value (its first two u64s). */
static void job_heights(const uint8_t *p, size_t pl, uint64_t *made, uint64_t *apply)
{
    chain_rbuf r;
    chain_r_init(&r, p, pl);
    *made = chain_r_u64(&r);
    *apply = chain_r_u64(&r);
    if (r.err)
        *made = *apply = UINT64_MAX;
}

/* ---------------- model record ---------------- */

typedef reward_tft_model tmodel;

based_err reward_tft_model_get(chain_view *v, const uint8_t *k, size_t kl, reward_tft_model *t)
{
    const uint8_t *val;
    size_t vl;
    memset(t, 0, sizeof *t);
    based_err rc = chain_view_get(v, k, kl, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK || vl < 16)
        return rc != BASED_E_OK ? rc : BASED_E_DB;
    t->present = true;
    t->trained_at = chain_get_be64(val);
    t->applied_at = chain_get_be64(val + 8);
    t->bytes = vl - 16;
    if (vl > 16 && tft_model_load(val + 16, vl - 16, &t->m) != BASED_E_OK)
        t->m = NULL;
    t->nparams = t->m ? tft_model_nparams(t->m) : 0;
    return BASED_E_OK;
}

/* A model was just applied: the node starts building the states of the
 * Brain's next epoch on a thread (rewards/tftcache.c). Best effort, never
 * part of consensus: skipped without a training pool and a cache (the
 * node's handles) or on any failure. */
static void prebuild(chain_exec *ex, const contract_brain *b, const uint8_t *bytes, size_t bl)
{
    tseries s;
    size_t k = window_of(ex);
    const reward_handles *h = reward_exec_handles(ex);
    if (!h || !h->pool || !h->cache || series_get(ex->view, b, &s) != BASED_E_OK)
        return;
    reward_tft_feed *f = calloc(s.n ? s.n : 1, sizeof *f);
    for (size_t i = 0; f && i < s.n; i++) {
        size_t len = s.u[i].count;
        reward_tft_feed_cut(s.u[i].y, &len, k);     /* as the next epoch will cut it */
        f[i] = (reward_tft_feed){ .reg = s.u[i].reg, .y = s.u[i].y, .len = len };
    }
    reward_tft_brain_epoch be = { b->id, b->instance, bytes, bl, k, ex->height,
                                  2 * REWARD_PARAM(ex, tempo) + 2 };
    if (f)
        reward_tft_prebuild(h->cache, &be, f, s.n);
    free(f);
    series_free(&s);
}


based_err reward_tft_apply_due(chain_exec *ex, const uint8_t *jk, const uint8_t *mk, size_t kl,
                               reward_tft_trainer fn, uint8_t **applied, size_t *applied_len)
{
    const uint8_t *val;
    size_t vl, bl = 0;
    uint8_t *bytes = NULL;
    based_err rc = chain_view_get(ex->view, jk, kl, &val, &vl);
    if (rc != BASED_E_OK)
        return rc == BASED_E_NOT_FOUND ? BASED_E_OK : rc;
    uint64_t made_at, apply_at;
    job_heights(val, vl, &made_at, &apply_at);
    if (apply_at > ex->height)
        return apply_at == UINT64_MAX ? BASED_E_DB : BASED_E_OK;
    uint8_t *job = malloc(vl);
    if (!job)
        return BASED_E_NOMEM;
    memcpy(job, val, vl);                 /* borrowed values die at the next put */
    const reward_handles *h = reward_exec_handles(ex);
    rc = reward_tft_take(h ? h->pool : NULL, fn, job, vl, &bytes, &bl);
    free(job);
    uint8_t *rec = rc == BASED_E_OK ? malloc(16 + bl) : NULL;
    if (rc == BASED_E_OK && !rec)
        rc = BASED_E_NOMEM;
    if (rc == BASED_E_OK) {
        chain_put_be64(rec, made_at);
        chain_put_be64(rec + 8, ex->height);
        if (bl)
            memcpy(rec + 16, bytes, bl);
        rc = chain_view_put(ex->view, mk, kl, rec, 16 + bl);
    }
    if (rc == BASED_E_OK)
        rc = chain_view_del(ex->view, jk, kl);
    if (rc == BASED_E_OK && bl && applied) {
        *applied = bytes;              /* handed to the caller */
        *applied_len = bl;
        bytes = NULL;
    }
    free(rec);
    free(bytes);
    return rc;
}

based_err reward_tft_block(chain_exec *ex, const contract_brain *b)
{
    uint8_t jk[8], mk[8];
    if (!REWARD_PARAM(ex, tft_enabled))
        return BASED_E_OK;
    tkey(b, 'J', jk);
    tkey(b, 'M', mk);
    uint8_t *bytes = NULL;
    size_t bl = 0;
    based_err rc = reward_tft_apply_due(ex, jk, mk, sizeof jk, job_train, &bytes, &bl);
    if (rc == BASED_E_OK && bytes)
        prebuild(ex, b, bytes, bl);
    free(bytes);
    return rc;
}

/* ---------------- before the epoch ---------------- */

void reward_tft_epoch_free(reward_tft_epoch *t)
{
    free(t->has);
    free(t->p10);
    free(t->p50);
    free(t->p90);
    memset(t, 0, sizeof *t);
}

static void pooled_losses(const tseries *s, uint64_t *lt, uint64_t *ln)
{
    *lt = *ln = 0;
    for (size_t i = 0; i < s->nloss; i++)
        *lt += s->lt[i], *ln += s->ln[i];
}

based_err reward_tft_before(chain_exec *ex, const contract_brain *b, const stake_neuron *nn,
                            size_t n, reward_tft_epoch *t)
{
    tseries s;
    memset(t, 0, sizeof *t);
    if (!REWARD_PARAM(ex, tft_enabled))
        return BASED_E_OK;
    based_err rc = series_get(ex->view, b, &s);
    if (rc != BASED_E_OK)
        return rc;
    t->on = true;
    t->n = n;
    t->has = calloc(n ? n : 1, 1);
    t->p10 = calloc(n ? n : 1, 2), t->p50 = calloc(n ? n : 1, 2), t->p90 = calloc(n ? n : 1, 2);
    if (!t->has || !t->p10 || !t->p50 || !t->p90) {
        series_free(&s);
        return BASED_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const tuid *u = i < s.n ? &s.u[i] : NULL;
        t->p90[i] = 65535;
        if (!u || u->reg != nn[i].registered_at || !(u->has & 2))
            continue;
        t->has[i] = 1;
        t->p10[i] = u->f[0], t->p50[i] = u->f[1], t->p90[i] = u->f[2];
    }
    pooled_losses(&s, &t->loss_tft, &t->loss_naive);
    t->acc = tft_accuracy(t->loss_tft, t->loss_naive);
    t->beta = tft_beta(ex->height, ex->genesis->blocks_per_year);
    t->b = tft_beta_times(t->beta, t->acc);
    series_free(&s);
    return BASED_E_OK;
}

/* ---------------- after the epoch ---------------- */

/* Scores last epoch's forecasts against y (uids with both forecasts). */
static void score(tseries *s, const stake_neuron *nn, size_t n, const uint16_t *y, size_t k)
{
    uint64_t lt = 0, ln = 0;
    size_t points = 0;
    for (size_t i = 0; i < n && i < s->n; i++) {
        const tuid *u = &s->u[i];
        if (u->reg != nn[i].registered_at || (u->has & 3) != 3)
            continue;
        lt += reward_tft_pinball(y[i], u->f);
        ln += reward_tft_pinball(y[i], u->nv);
        points++;
    }
    if (points == 0)
        return;
    if (s->nloss >= k) {
        size_t drop = s->nloss - k + 1;
        memmove(s->lt, s->lt + drop, (s->nloss - drop) * sizeof *s->lt);
        memmove(s->ln, s->ln + drop, (s->nloss - drop) * sizeof *s->ln);
        s->nloss = (uint8_t)(s->nloss - drop);
    }
    s->lt[s->nloss] = lt, s->ln[s->nloss++] = ln;
}

void reward_tft_feed_append(uint16_t *y, size_t *len, uint16_t v, size_t k)
{
    if (*len >= 2 * k) {                 /* rebase: the last K - 1 and v */
        memmove(y, y + *len - (k - 1), (k - 1) * sizeof *y);
        *len = k - 1;
    }
    y[(*len)++] = v;
}

void reward_tft_feed_cut(uint16_t *y, size_t *len, size_t k)
{
    if (*len > k) {
        memmove(y, y + *len - k, k * sizeof *y);
        *len = k;
    }
}

/* The window: the feed's last min(count, K) values. */
static const uint16_t *window_y(const tuid *u, size_t k, size_t *len)
{
    *len = u->count < k ? u->count : k;
    return u->y + (u->count - *len);
}

/* Appends y to every uid's feed; a new occupant starts empty. */
static void append(tseries *s, const stake_neuron *nn, size_t n, const uint16_t *y, size_t k)
{
    for (size_t i = 0; i < n; i++) {
        tuid *u = &s->u[i];
        size_t len = u->count;
        if (u->reg != nn[i].registered_at)
            len = 0, u->has = 0;
        u->reg = nn[i].registered_at;
        reward_tft_feed_append(u->y, &len, y[i], k);
        u->count = (uint8_t)len;
    }
}

/* The applied model's bytes (copied; NULL/0 when none) and applied_at. */
static based_err model_bytes(chain_view *v, const contract_brain *b, uint8_t **bytes,
                             size_t *len, uint64_t *applied_at)
{
    uint8_t k[8];
    const uint8_t *val;
    size_t vl;
    *bytes = NULL, *len = 0, *applied_at = 0;
    tkey(b, 'M', k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK || vl < 16)
        return rc != BASED_E_OK ? rc : BASED_E_DB;
    *applied_at = chain_get_be64(val + 8);
    if (vl == 16)
        return BASED_E_OK;
    *bytes = malloc(vl - 16);
    if (!*bytes)
        return BASED_E_NOMEM;
    memcpy(*bytes, val + 16, vl - 16);
    *len = vl - 16;
    return BASED_E_OK;
}

/* A newly applied model (applied_at not the one the feeds were cut for)
 * cuts every feed to its last K values, before this epoch's value joins. */
static void cut_for_model(tseries *s, uint64_t applied_at, size_t k)
{
    if (applied_at == s->model_at)
        return;
    for (size_t i = 0; i < s->n; i++) {
        size_t len = s->u[i].count;
        reward_tft_feed_cut(s->u[i].y, &len, k);
        s->u[i].count = (uint8_t)len;
    }
    s->model_at = applied_at;
}

/* Each uid with >= 2 values gets seasonal naive over its window and the
 * TFT (model bytes mb, ml) over its feed (rewards/tftcache.c: the cached
 * state advanced, or rebuilt). */
static based_err forecast_all(chain_exec *ex, const contract_brain *b, tseries *s, size_t n,
                              size_t k, const uint8_t *mb, size_t ml)
{
    size_t wl;
    reward_tft_feed *f = calloc(n ? n : 1, sizeof *f);
    based_err rc = f ? BASED_E_OK : BASED_E_NOMEM;
    for (size_t i = 0; rc == BASED_E_OK && i < n; i++) {
        tuid *u = &s->u[i];
        const uint16_t *w = window_y(u, k, &wl);
        u->has = 0;
        f[i] = (reward_tft_feed){ .reg = u->reg, .y = u->y, .len = u->count };
        if (u->count < 2)
            continue;
        reward_tft_naive(w, wl, u->nv);
        u->has = 1;
    }
    if (rc == BASED_E_OK && ml) {
        reward_tft_brain_epoch be = { b->id, b->instance, mb, ml, k, ex->height,
                                      2 * REWARD_PARAM(ex, tempo) + 2 };
        const reward_handles *h = reward_exec_handles(ex);
        rc = reward_tft_forecast_feeds(h ? h->cache : NULL, &be, f, n);
    }
    for (size_t i = 0; rc == BASED_E_OK && i < n; i++)
        if (f[i].ok && s->u[i].count >= 2) {
            memcpy(s->u[i].f, f[i].q, sizeof f[i].q);
            s->u[i].has |= 2;
        }
    free(f);
    return rc;
}

based_err reward_tft_job_write(chain_exec *ex, const uint8_t *key, size_t kl, const uint8_t *salt,
                               size_t sl, uint16_t window, const uint8_t *data, size_t dl,
                               reward_tft_trainer fn)
{
    chain_wbuf w;
    /* seed = first 8 bytes (be) of BLAKE2b-256 of salt || height || data */
    chain_w_init(&w, CHAIN_VALUE_MAX);
    chain_w_raw(&w, salt, sl);
    chain_w_u64(&w, ex->height);
    chain_w_raw(&w, data, dl);
    chain_hash h = chain_hash_bytes(w.p, w.len);
    chain_w_free(&w);
    chain_w_init(&w, CHAIN_VALUE_MAX);
    chain_w_u64(&w, ex->height);
    chain_w_u64(&w, ex->height + REWARD_PARAM(ex, tft_apply_delay));
    chain_w_u64(&w, chain_get_be64(h.b));
    chain_w_u16(&w, window);
    chain_w_raw(&w, data, dl);
    based_err rc = w.err ? BASED_E_TOO_LARGE : chain_view_put(ex->view, key, kl, w.p, w.len);
    const reward_handles *hd = reward_exec_handles(ex);
    if (rc == BASED_E_OK && hd)
        reward_tft_submit(hd->pool, fn, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

uint64_t reward_tft_pick_rank(uint16_t brain, uint32_t instance, uint64_t height, uint16_t uid)
{
    uint8_t m[16] = { (uint8_t)(brain >> 8), (uint8_t)brain, (uint8_t)(instance >> 24),
                      (uint8_t)(instance >> 16), (uint8_t)(instance >> 8), (uint8_t)instance };
    chain_put_be64(m + 6, height);
    m[14] = (uint8_t)(uid >> 8), m[15] = (uint8_t)uid;
    chain_hash h = chain_hash_bytes(m, sizeof m);
    return chain_get_be64(h.b);
}

typedef struct {
    uint64_t rank;
    size_t uid;
} tpick;

static int pick_cmp(const void *a, const void *b)
{
    const tpick *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Writes a training job over the windows when one is due and none pending:
 * the eligible uids (window >= REWARD_TFT_MIN_TRAIN), at most
 * REWARD_TFT_TRAIN_MAX of them: when more are eligible, those with the
 * smallest reward_tft_pick_rank (ties by uid), written in uid order. */
static based_err maybe_job(chain_exec *ex, const contract_brain *b, const tseries *s, size_t k)
{
    uint8_t key[8];
    const uint8_t *val;
    size_t vl, wl, used = 0;
    uint64_t every = REWARD_PARAM(ex, tft_train_every);
    tkey(b, 'J', key);
    if (s->epochs % every != 0 || chain_view_get(ex->view, key, sizeof key, &val, &vl) == BASED_E_OK)
        return BASED_E_OK;
    tpick *pk = malloc((s->n ? s->n : 1) * sizeof *pk);
    bool *take = calloc(s->n ? s->n : 1, sizeof *take);
    if (!pk || !take) {
        free(pk);
        free(take);
        return BASED_E_NOMEM;
    }
    for (size_t i = 0; i < s->n; i++)
        if (window_y(&s->u[i], k, &wl) && wl >= REWARD_TFT_MIN_TRAIN)
            pk[used++] = (tpick){ reward_tft_pick_rank(b->id, b->instance, ex->height, (uint16_t)i), i };
    if (used > REWARD_TFT_TRAIN_MAX) {
        qsort(pk, used, sizeof *pk, pick_cmp);
        used = REWARD_TFT_TRAIN_MAX;
    }
    for (size_t i = 0; i < used; i++)
        take[pk[i].uid] = true;
    free(pk);
    if (used < 2) {
        free(take);
        return BASED_E_OK;
    }
    chain_wbuf d, w;
    chain_w_init(&d, CHAIN_VALUE_MAX);
    chain_w_uleb(&d, used);
    for (size_t i = 0; i < s->n; i++) {
        if (!take[i])
            continue;
        const uint16_t *y = window_y(&s->u[i], k, &wl);
        chain_w_u8(&d, (uint8_t)wl);
        for (size_t j = 0; j < wl; j++)
            chain_w_u16(&d, y[j]);
    }
    free(take);
    chain_w_init(&w, 16);
    chain_w_u16(&w, b->id);
    chain_w_u32(&w, b->instance);
    based_err rc = d.err ? BASED_E_TOO_LARGE
                         : reward_tft_job_write(ex, key, sizeof key, w.p, w.len, (uint16_t)k,
                                                d.p, d.len, job_train);
    chain_w_free(&w);
    chain_w_free(&d);
    return rc;
}

based_err reward_tft_after(chain_exec *ex, const contract_brain *b, const stake_neuron *nn,
                           size_t n, const uint16_t *incentive)
{
    tseries s;
    uint8_t *mb = NULL;
    size_t ml = 0, k = window_of(ex);
    uint64_t applied_at = 0;
    if (!REWARD_PARAM(ex, tft_enabled))
        return BASED_E_OK;
    based_err rc = series_get(ex->view, b, &s);
    if (rc == BASED_E_OK && !series_grow(&s, n))
        rc = BASED_E_NOMEM;
    if (rc == BASED_E_OK)
        rc = model_bytes(ex->view, b, &mb, &ml, &applied_at);
    if (rc == BASED_E_OK) {
        score(&s, nn, n, incentive, k);
        cut_for_model(&s, applied_at, k);
        append(&s, nn, n, incentive, k);
        rc = forecast_all(ex, b, &s, n, k, mb, ml);
    }
    free(mb);
    if (rc == BASED_E_OK)
        rc = maybe_job(ex, b, &s, k);
    s.epochs++;
    if (rc == BASED_E_OK)
        rc = series_put(ex->view, b, &s);
    series_free(&s);
    return rc;
}

/* ---------------- tft_getForecast ---------------- */

json_t *reward_tft_fx_json(uint64_t v)
{
    return json_real((double)v / 4294967296.0);
}

static json_t *q_json(const uint16_t q[3])
{
    return json_pack("{s:i, s:i, s:i}", "p10", (json_int_t)q[0], "p50", (json_int_t)q[1],
                     "p90", (json_int_t)q[2]);
}

static json_t *uid_json(const tuid *u, size_t uid, size_t k)
{
    size_t wl;
    const uint16_t *y = window_y(u, k, &wl);
    json_t *h = json_array();
    for (size_t j = 0; j < wl; j++)
        json_array_append_new(h, json_integer(y[j]));
    return json_pack("{s:i, s:I, s:o, s:o, s:o}", "uid", (json_int_t)uid, "registered_at",
                     (json_int_t)u->reg, "history", h,
                     "tft", (u->has & 2) ? q_json(u->f) : json_null(),
                     "naive", (u->has & 1) ? q_json(u->nv) : json_null());
}

json_t *reward_tft_model_json(chain_view *v, const uint8_t *jk, const uint8_t *mk, size_t kl)
{
    tmodel tm;
    const uint8_t *val;
    size_t vl;
    json_t *o = json_object();
    if (reward_tft_model_get(v, mk, kl, &tm) == BASED_E_OK && tm.present)
        json_object_set_new(o, "model", json_pack("{s:I, s:I, s:I, s:I}", "trained_at",
                                                  (json_int_t)tm.trained_at, "applied_at",
                                                  (json_int_t)tm.applied_at, "params",
                                                  (json_int_t)tm.nparams, "bytes",
                                                  (json_int_t)tm.bytes));
    else
        json_object_set_new(o, "model", json_null());
    tft_model_free(tm.m);
    uint64_t made, apply;
    if (chain_view_get(v, jk, kl, &val, &vl) == BASED_E_OK &&
        (job_heights(val, vl, &made, &apply), apply != UINT64_MAX))
        json_object_set_new(o, "pending_job", json_pack("{s:I, s:I}", "made_at", (json_int_t)made,
                                                        "apply_at", (json_int_t)apply));
    else
        json_object_set_new(o, "pending_job", json_null());
    return o;
}

static json_t *model_json(chain_view *v, const contract_brain *b)
{
    uint8_t jk[8], mk[8];
    tkey(b, 'J', jk);
    tkey(b, 'M', mk);
    return reward_tft_model_json(v, jk, mk, sizeof jk);
}

json_t *reward_tft_json(chain_view *v, const chain_genesis *g, uint64_t height, uint64_t id,
                        based_err *code)
{
    contract_brain b;
    tseries s;
    uint64_t lt, ln;
    *code = contract_brain_get(v, id, &b);
    if (*code != BASED_E_OK)
        return NULL;
    if ((*code = series_get(v, &b, &s)) != BASED_E_OK)
        return NULL;
    uint64_t kp = contract_param_get(v, g, offsetof(chain_params, tft_window));
    size_t k = kp > REWARD_TFT_MAX_WINDOW ? REWARD_TFT_MAX_WINDOW : (size_t)kp;
    pooled_losses(&s, &lt, &ln);
    uint64_t beta = tft_beta(height + 1, g->blocks_per_year), acc = tft_accuracy(lt, ln);
    json_t *o = model_json(v, &b), *uids = json_array();
    for (size_t i = 0; i < s.n; i++)
        if (s.u[i].count)
            json_array_append_new(uids, uid_json(&s.u[i], i, k));
    json_object_set_new(o, "brain", json_integer((json_int_t)id));
    json_object_set_new(o, "instance", json_integer((json_int_t)b.instance));
    json_object_set_new(o, "enabled", json_boolean(g->params.tft_enabled != 0));
    json_object_set_new(o, "height", json_integer((json_int_t)height));
    json_object_set_new(o, "epochs", json_integer((json_int_t)s.epochs));
    json_object_set_new(o, "scored_epochs", json_integer(s.nloss));
    json_object_set_new(o, "loss_tft", json_integer((json_int_t)lt));
    json_object_set_new(o, "loss_naive", json_integer((json_int_t)ln));
    json_object_set_new(o, "beta", reward_tft_fx_json(beta));
    json_object_set_new(o, "accuracy", reward_tft_fx_json(acc));
    json_object_set_new(o, "b", reward_tft_fx_json(tft_beta_times(beta, acc)));
    json_object_set_new(o, "b_fx32", json_integer((json_int_t)tft_beta_times(beta, acc)));
    json_object_set_new(o, "uids", uids);
    series_free(&s);
    return o;
}
