/*
 * tftcache.c: incremental per-epoch TFT forecasts and the node's cache of
 * per-uid tft_states (see tftcache.h for what is consensus and what is
 * only cached). One call per Brain epoch: find the Brain's entry (or make
 * one if it fits under the cap), drop its states if the model changed, and
 * per uid either advance the cached state over the feed's new values or
 * rebuild it from the whole feed; forecast; release the state's scratch
 * tape so that a kept state costs about 2 kB. The cache is a handle the
 * node owns (reward_tft_cache_new / _free); without one every state is
 * rebuilt (the same bits).
 */
#include <pthread.h>

#include "rewards/tftcache.h"

typedef struct {
    uint64_t reg;
    struct tft_state *st;                /* NULL: nothing cached */
    size_t nfit, fed;                    /* scaling length, values fed */
    size_t bytes;                        /* held by st */
    uint16_t y[REWARD_TFT_MAX_FEED];     /* the values fed, oldest first */
} cuid;

typedef struct {
    uint16_t brain;
    uint32_t instance;
    chain_hash model_id;                 /* BLAKE2b-256 of the model bytes */
    struct tft_model *m;                 /* loaded from them (NULL: did not load) */
    size_t model_bytes;
    cuid *u;
    size_t n;
    uint64_t used_at;
    size_t bytes;
} cbrain;

/* A prebuild (see reward_tft_prebuild): its inputs, copied, and the
 * Brain entry its thread builds. */
#define PREBUILD_SLOTS 64

typedef struct {
    bool used, joined;
    pthread_t th;
    uint16_t brain;
    uint32_t instance;
    uint64_t made_at, stale_blocks;
    uint8_t *model;
    size_t model_len, window, n;
    reward_tft_feed *f;                  /* feeds, y into ybuf */
    uint16_t *ybuf;
    cbrain e;                            /* the result */
    based_err rc;
} pslot;

struct reward_tft_cache {
    pthread_mutex_t cmu;                 /* the entries, mode, cap, stats */
    cbrain *cache;
    size_t ncache, capcache, cache_bytes;
    size_t cache_limit;
    reward_tft_cache_mode cmode;
    reward_tft_cache_stats cstats;
    pthread_mutex_t pmu;                 /* the prebuilds (taken after cmu) */
    pslot pslots[PREBUILD_SLOTS];
};

/* ---------------- the forecast, by definition and by state ---------------- */

size_t reward_tft_fit_len(size_t len, size_t window, const struct tft_model *m)
{
    size_t max = (size_t)tft_model_config(m)->max_len;
    size_t f = len < window ? len : window;
    return f < max ? f : max;
}

based_err reward_tft_forecast_feed(const struct tft_model *m, const uint16_t *y, size_t len,
                                   size_t window, double raw[3], uint16_t q[3])
{
    double out[3 * REWARD_TFT_MAX_FEED];
    if (len < 2 || len > REWARD_TFT_MAX_FEED || window < 1)
        return BASED_E_BAD_PARAM;
    struct tft_dataset *d = tft_dataset_new(1, (int)len, 0, 0, 0);
    if (!d)
        return BASED_E_NOMEM;
    for (size_t s = 0; s < len; s++)
        d->target[s] = (double)y[s];
    based_err rc = tft_forecast_series(m, d, 0, (int)reward_tft_fit_len(len, window, m), out);
    tft_dataset_free(d);
    if (rc != BASED_E_OK)
        return rc;
    memcpy(raw, out + (len - 1) * 3, 3 * sizeof *raw);
    reward_tft_round3(raw, q);
    return BASED_E_OK;
}

static void cuid_clear(cuid *c)
{
    tft_state_free(c->st);
    c->st = NULL;
    c->fed = c->nfit = c->bytes = 0;
}

/* A new state for the feed: scaling over its first nfit values (the same
 * tft_series_scaling as tft_forecast_series), nothing fed yet. */
static based_err cuid_rebuild(cuid *c, const struct tft_model *m, struct tft_dataset *d,
                              const reward_tft_feed *f, size_t nfit)
{
    double mean, sd;
    cuid_clear(c);
    for (size_t s = 0; s < nfit; s++)
        d->target[s] = (double)f->y[s];
    d->len[0] = (int)nfit;
    tft_series_scaling(d, 0, (int)nfit, &mean, &sd);
    c->st = tft_state_new(m, NULL, mean, sd);
    if (!c->st)
        return BASED_E_NOMEM;
    c->reg = f->reg;
    c->nfit = nfit;
    return BASED_E_OK;
}

/* Brings c to the state of the whole feed f: the cached state advanced
 * over the feed's new values when it was fed a prefix of f under the same
 * occupant and scaling (*hit), else rebuilt from f. */
static based_err cuid_sync(cuid *c, const struct tft_model *m, struct tft_dataset *d,
                           const reward_tft_feed *f, size_t window, bool *hit)
{
    size_t nfit = reward_tft_fit_len(f->len, window, m);
    based_err rc = BASED_E_OK;
    *hit = c->st && c->reg == f->reg && c->nfit == nfit && c->fed <= f->len &&
           memcmp(c->y, f->y, c->fed * sizeof *c->y) == 0;
    if (!*hit)
        rc = cuid_rebuild(c, m, d, f, nfit);
    while (rc == BASED_E_OK && c->fed < f->len) {
        rc = tft_state_advance(c->st, (double)f->y[c->fed], NULL, NULL);
        c->y[c->fed] = f->y[c->fed];
        c->fed++;
    }
    return rc;
}

/* Advances c (cached or rebuilt) to the whole feed and forecasts; *hit
 * tells which. The state's scratch is released afterwards. */
static based_err cuid_forecast(cuid *c, const struct tft_model *m, struct tft_dataset *d,
                               reward_tft_feed *f, size_t window, bool *hit)
{
    based_err rc = cuid_sync(c, m, d, f, window, hit);
    if (rc == BASED_E_OK)
        rc = tft_state_forecast(c->st, NULL, f->raw);
    if (rc != BASED_E_OK) {
        cuid_clear(c);
        return rc == BASED_E_BAD_PARAM ? BASED_E_BAD_PARAM : BASED_E_NOMEM;
    }
    c->bytes = tft_state_trim(c->st);
    reward_tft_round3(f->raw, f->q);
    f->ok = true;
    return BASED_E_OK;
}

/* ---------------- the cache's Brains ---------------- */

static void entry_drop_states(cbrain *e)
{
    for (size_t i = 0; i < e->n; i++)
        cuid_clear(&e->u[i]);
}

static void entry_release(cbrain *e)
{
    entry_drop_states(e);
    free(e->u);
    tft_model_free(e->m);
    memset(e, 0, sizeof *e);
}

static size_t entry_size(const cbrain *e)
{
    size_t b = sizeof *e + e->n * sizeof *e->u + e->model_bytes;
    for (size_t i = 0; i < e->n; i++)
        b += e->u[i].bytes;
    return b;
}

static void entry_remove(reward_tft_cache *c, size_t at)
{
    c->cache_bytes -= c->cache[at].bytes;
    entry_release(&c->cache[at]);
    c->cache[at] = c->cache[--c->ncache];
}

static bool is_stale(const cbrain *e, uint64_t height, uint64_t stale_blocks)
{
    return e->used_at > height || height - e->used_at > stale_blocks;
}

/* Evicts stale entries, least recently used first, until `need` more bytes
 * fit under the cap; false if they do not. `keep` is never evicted. */
static bool make_room(reward_tft_cache *c, size_t need, const cbrain *keep, uint64_t height,
                      uint64_t stale_blocks)
{
    while (c->cache_bytes + need > c->cache_limit) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < c->ncache; i++)
            if (&c->cache[i] != keep && is_stale(&c->cache[i], height, stale_blocks) &&
                (best == SIZE_MAX || c->cache[i].used_at < c->cache[best].used_at))
                best = i;
        if (best == SIZE_MAX)
            return false;
        entry_remove(c, best);
        c->cstats.evicted++;
    }
    return true;
}

static cbrain *entry_find(reward_tft_cache *c, uint16_t brain, uint32_t instance)
{
    for (size_t i = 0; i < c->ncache; i++)
        if (c->cache[i].brain == brain && c->cache[i].instance == instance)
            return &c->cache[i];
    return NULL;
}

/* The Brain's entry for this model with room for n uids, or NULL when it
 * does not fit (the caller then forecasts without caching). */
static cbrain *entry_get(reward_tft_cache *c, const reward_tft_brain_epoch *b, const chain_hash *id,
                         size_t n)
{
    size_t guess = sizeof(cbrain) + n * (sizeof(cuid) + 2048) + b->model_len;
    cbrain *e = entry_find(c, b->brain, b->instance);
    if (e && memcmp(e->model_id.b, id->b, 32) != 0) {
        c->cache_bytes -= e->bytes;
        entry_drop_states(e);
        tft_model_free(e->m);
        e->m = NULL;
        e->model_id = *id;
        e->model_bytes = b->model_len;
        if (tft_model_load(b->model, b->model_len, &e->m) != BASED_E_OK)
            e->m = NULL;
        e->bytes = entry_size(e);
        c->cache_bytes += e->bytes;
    }
    if (!e) {
        if (!make_room(c, guess, NULL, b->height, b->stale_blocks))
            return NULL;
        if (c->ncache == c->capcache) {
            size_t nc = c->capcache ? 2 * c->capcache : 16;
            cbrain *grown = realloc(c->cache, nc * sizeof *grown);
            if (!grown)
                return NULL;
            c->cache = grown, c->capcache = nc;
        }
        e = &c->cache[c->ncache++];
        memset(e, 0, sizeof *e);
        e->brain = b->brain, e->instance = b->instance;
        e->model_id = *id;
        e->model_bytes = b->model_len;
        if (tft_model_load(b->model, b->model_len, &e->m) != BASED_E_OK)
            e->m = NULL;
        e->bytes = entry_size(e);
        c->cache_bytes += e->bytes;
    }
    if (n > e->n) {
        cuid *u = realloc(e->u, n * sizeof *u);
        if (!u)
            return NULL;
        memset(u + e->n, 0, (n - e->n) * sizeof *u);
        e->u = u, e->n = n;
    }
    return e;
}

/* ---------------- prebuilding when a model is applied ---------------- */

static void *prebuild_main(void *arg)
{
    pslot *p = arg;
    cbrain *e = &p->e;
    struct tft_dataset *d = tft_dataset_new(1, REWARD_TFT_MAX_FEED, 0, 0, 0);
    e->brain = p->brain, e->instance = p->instance;
    e->model_id = chain_hash_bytes(p->model, p->model_len);
    e->model_bytes = p->model_len;
    e->u = calloc(p->n ? p->n : 1, sizeof *e->u);
    p->rc = d && e->u ? BASED_E_OK : BASED_E_NOMEM;
    e->n = e->u ? p->n : 0;
    if (p->rc == BASED_E_OK && tft_model_load(p->model, p->model_len, &e->m) != BASED_E_OK)
        e->m = NULL;
    for (size_t i = 0; p->rc == BASED_E_OK && e->m && i < p->n; i++) {
        const reward_tft_feed *f = &p->f[i];
        bool hit;
        /* only feeds whose scaling the next value leaves as it is */
        if (f->len < 2 || f->len >= REWARD_TFT_MAX_FEED ||
            reward_tft_fit_len(f->len, p->window, e->m) !=
                reward_tft_fit_len(f->len + 1, p->window, e->m))
            continue;
        p->rc = cuid_sync(&e->u[i], e->m, d, f, p->window, &hit);
        if (p->rc == BASED_E_OK)
            e->u[i].bytes = tft_state_trim(e->u[i].st);
    }
    tft_dataset_free(d);
    return NULL;
}

static void pslot_free(pslot *p)
{
    if (!p->used)
        return;
    if (!p->joined)
        pthread_join(p->th, NULL);
    entry_release(&p->e);
    free(p->model);
    free(p->f);
    free(p->ybuf);
    memset(p, 0, sizeof *p);
}

void reward_tft_prebuild(reward_tft_cache *c, const reward_tft_brain_epoch *b,
                         const reward_tft_feed *f, size_t n)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->cmu);
    bool on = c->cmode == REWARD_TFT_CACHE_ON;
    pthread_mutex_unlock(&c->cmu);
    if (!on || b->model_len == 0 || n == 0)
        return;
    pthread_mutex_lock(&c->pmu);
    pslot *p = NULL;
    for (size_t i = 0; i < PREBUILD_SLOTS; i++) {
        pslot *q = &c->pslots[i];
        if (q->used && ((q->brain == b->brain && q->instance == b->instance) ||
                        q->made_at > b->height || b->height - q->made_at > q->stale_blocks))
            pslot_free(q);                 /* superseded, or never taken */
        if (!q->used && !p)
            p = q;
    }
    if (p) {
        p->model = malloc(b->model_len);
        p->f = calloc(n, sizeof *p->f);
        p->ybuf = malloc(n * REWARD_TFT_MAX_FEED * sizeof *p->ybuf);
        if (p->model && p->f && p->ybuf) {
            memcpy(p->model, b->model, b->model_len);
            for (size_t i = 0; i < n; i++) {
                size_t len = f[i].len <= REWARD_TFT_MAX_FEED ? f[i].len : 0;
                uint16_t *y = p->ybuf + i * REWARD_TFT_MAX_FEED;
                if (len)
                    memcpy(y, f[i].y, len * sizeof *y);
                p->f[i] = (reward_tft_feed){ .reg = f[i].reg, .y = y, .len = len };
            }
            p->brain = b->brain, p->instance = b->instance;
            p->made_at = b->height, p->stale_blocks = b->stale_blocks;
            p->model_len = b->model_len, p->window = b->window, p->n = n;
            p->used = pthread_create(&p->th, NULL, prebuild_main, p) == 0;
        }
        if (!p->used) {
            free(p->model);
            free(p->f);
            free(p->ybuf);
            memset(p, 0, sizeof *p);
        }
    }
    pthread_mutex_unlock(&c->pmu);
}

void reward_tft_prebuild_wait(reward_tft_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->pmu);
    for (size_t i = 0; i < PREBUILD_SLOTS; i++)
        if (c->pslots[i].used && !c->pslots[i].joined) {
            pthread_join(c->pslots[i].th, NULL);
            c->pslots[i].joined = true;
        }
    pthread_mutex_unlock(&c->pmu);
}

/* Under cmu: a finished (joined) prebuild of this Brain for model `id`
 * becomes its cache entry, replacing the old one, if it fits. */
static void take_prebuilt(reward_tft_cache *c, const reward_tft_brain_epoch *b,
                          const chain_hash *id)
{
    cbrain e;
    bool have = false;
    pthread_mutex_lock(&c->pmu);
    for (size_t i = 0; i < PREBUILD_SLOTS && !have; i++) {
        pslot *p = &c->pslots[i];
        if (!p->used || p->brain != b->brain || p->instance != b->instance)
            continue;
        if (!p->joined)
            pthread_join(p->th, NULL);
        have = p->rc == BASED_E_OK && p->e.m && memcmp(p->e.model_id.b, id->b, 32) == 0;
        e = p->e;
        memset(&p->e, 0, sizeof p->e);
        free(p->model);
        free(p->f);
        free(p->ybuf);
        memset(p, 0, sizeof *p);
        if (!have)
            entry_release(&e);
    }
    pthread_mutex_unlock(&c->pmu);
    if (!have)
        return;
    cbrain *old = entry_find(c, b->brain, b->instance);
    if (old)
        entry_remove(c, (size_t)(old - c->cache));
    e.bytes = entry_size(&e);
    e.used_at = b->height;
    bool grown = c->ncache < c->capcache;
    if (!grown) {
        size_t nc = c->capcache ? 2 * c->capcache : 16;
        cbrain *more = realloc(c->cache, nc * sizeof *more);
        if (more)
            c->cache = more, c->capcache = nc, grown = true;
    }
    if (!grown || !make_room(c, e.bytes, NULL, b->height, b->stale_blocks)) {
        entry_release(&e);
        return;
    }
    for (size_t i = 0; i < e.n; i++)
        c->cstats.prebuilt += e.u[i].st != NULL;
    c->cache[c->ncache++] = e;
    c->cache_bytes += e.bytes;
}

/* ---------------- one Brain epoch ---------------- */

static based_err forecast_series_all(const reward_tft_brain_epoch *b, reward_tft_feed *f,
                                     size_t n, reward_tft_cache_stats *st)
{
    struct tft_model *m = NULL;
    if (tft_model_load(b->model, b->model_len, &m) != BASED_E_OK)
        return BASED_E_OK;
    based_err rc = BASED_E_OK;
    for (size_t i = 0; rc == BASED_E_OK && i < n; i++) {
        if (f[i].len < 2 || f[i].len > REWARD_TFT_MAX_FEED)
            continue;
        rc = reward_tft_forecast_feed(m, f[i].y, f[i].len, b->window, f[i].raw, f[i].q);
        f[i].ok = rc == BASED_E_OK;
        rc = rc == BASED_E_BAD_PARAM ? BASED_E_OK : rc;
        st->series++;
    }
    tft_model_free(m);
    return rc;
}

static based_err forecast_states(const reward_tft_brain_epoch *b, cbrain *e,
                                 const struct tft_model *m, reward_tft_feed *f, size_t n,
                                 reward_tft_cache_stats *st)
{
    cuid *tmp = e ? NULL : calloc(1, sizeof *tmp);
    struct tft_dataset *d = tft_dataset_new(1, REWARD_TFT_MAX_FEED, 0, 0, 0);
    based_err rc = d && (e || tmp) ? BASED_E_OK : BASED_E_NOMEM;
    for (size_t i = 0; rc == BASED_E_OK && i < n; i++) {
        cuid *c = e ? &e->u[i] : tmp;
        bool hit = false;
        if (f[i].len < 2 || f[i].len > REWARD_TFT_MAX_FEED) {
            cuid_clear(c);
            continue;
        }
        rc = cuid_forecast(c, m, d, &f[i], b->window, &hit);
        rc = rc == BASED_E_BAD_PARAM ? BASED_E_OK : rc;
        if (hit)
            st->advanced++;
        else
            st->rebuilt++;
        if (!e)
            cuid_clear(c);
    }
    free(tmp);
    tft_dataset_free(d);
    return rc;
}

/* Without a cache: every state rebuilt from its feed, nothing kept. */
static based_err forecast_uncached(const reward_tft_brain_epoch *b, reward_tft_feed *f, size_t n)
{
    reward_tft_cache_stats st;
    struct tft_model *m = NULL;
    memset(&st, 0, sizeof st);
    if (tft_model_load(b->model, b->model_len, &m) != BASED_E_OK)
        return BASED_E_OK;
    based_err rc = forecast_states(b, NULL, m, f, n, &st);
    tft_model_free(m);
    return rc;
}

/* Under cmu: the cache's entry for the Brain (after taking its prebuilt
 * states) or NULL, forecast; an entry that fails or outgrows the cap is
 * dropped. */
static based_err forecast_cached(reward_tft_cache *c, const reward_tft_brain_epoch *b,
                                 reward_tft_feed *f, size_t n)
{
    based_err rc = BASED_E_OK;
    chain_hash id = chain_hash_bytes(b->model, b->model_len);
    bool on = c->cmode == REWARD_TFT_CACHE_ON;
    if (on)
        take_prebuilt(c, b, &id);
    cbrain *e = on ? entry_get(c, b, &id, n) : NULL;
    struct tft_model *own = NULL;
    if (!e) {
        c->cstats.uncached += on;
        if (tft_model_load(b->model, b->model_len, &own) != BASED_E_OK)
            own = NULL;
    }
    const struct tft_model *m = e ? e->m : own;
    if (m)
        rc = forecast_states(b, e, m, f, n, &c->cstats);
    tft_model_free(own);
    if (e) {
        size_t at = (size_t)(e - c->cache);
        c->cache_bytes -= e->bytes;
        e->bytes = entry_size(e);
        e->used_at = b->height;
        c->cache_bytes += e->bytes;
        if (rc != BASED_E_OK || !make_room(c, 0, e, b->height, b->stale_blocks)) {
            entry_remove(c, at);           /* itself too large, or an error: drop it */
            c->cstats.evicted++;
        }
    }
    return rc;
}

based_err reward_tft_forecast_feeds(reward_tft_cache *c, const reward_tft_brain_epoch *b,
                                    reward_tft_feed *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        f[i].ok = false;
    if (b->model_len == 0 || b->window < 1)
        return BASED_E_OK;
    if (!c)
        return forecast_uncached(b, f, n);
    pthread_mutex_lock(&c->cmu);
    based_err rc = c->cmode == REWARD_TFT_CACHE_SERIES ? forecast_series_all(b, f, n, &c->cstats)
                                                        : forecast_cached(c, b, f, n);
    pthread_mutex_unlock(&c->cmu);
    return rc;
}

/* ---------------- the handle ---------------- */

based_err reward_tft_cache_new(reward_tft_cache_mode mode, size_t max_bytes,
                               reward_tft_cache **out)
{
    *out = NULL;
    reward_tft_cache *c = calloc(1, sizeof *c);
    if (!c)
        return BASED_E_NOMEM;
    if (pthread_mutex_init(&c->cmu, NULL) != 0) {
        free(c);
        return BASED_E_NOMEM;
    }
    if (pthread_mutex_init(&c->pmu, NULL) != 0) {
        pthread_mutex_destroy(&c->cmu);
        free(c);
        return BASED_E_NOMEM;
    }
    c->cmode = mode;
    c->cache_limit = max_bytes ? max_bytes : REWARD_TFT_CACHE_DEFAULT_BYTES;
    *out = c;
    return BASED_E_OK;
}

/* Under cmu: joins and frees every prebuild and every entry. */
static void clear_locked(reward_tft_cache *c)
{
    pthread_mutex_lock(&c->pmu);
    for (size_t i = 0; i < PREBUILD_SLOTS; i++)
        pslot_free(&c->pslots[i]);
    pthread_mutex_unlock(&c->pmu);
    for (size_t i = 0; i < c->ncache; i++)
        entry_release(&c->cache[i]);
    free(c->cache);
    c->cache = NULL;
    c->ncache = c->capcache = c->cache_bytes = 0;
}

void reward_tft_cache_free(reward_tft_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->cmu);
    clear_locked(c);
    pthread_mutex_unlock(&c->cmu);
    pthread_mutex_destroy(&c->pmu);
    pthread_mutex_destroy(&c->cmu);
    free(c);
}

void reward_tft_cache_set(reward_tft_cache *c, reward_tft_cache_mode mode, size_t max_bytes)
{
    pthread_mutex_lock(&c->cmu);
    if (mode != c->cmode)
        clear_locked(c);
    c->cmode = mode;
    if (max_bytes)
        c->cache_limit = max_bytes;
    pthread_mutex_unlock(&c->cmu);
}

void reward_tft_cache_clear(reward_tft_cache *c)
{
    pthread_mutex_lock(&c->cmu);
    clear_locked(c);
    pthread_mutex_unlock(&c->cmu);
}

void reward_tft_cache_stats_get(reward_tft_cache *c, reward_tft_cache_stats *s)
{
    pthread_mutex_lock(&c->cmu);
    *s = c->cstats;
    s->brains = c->ncache;
    s->uids = 0;
    for (size_t i = 0; i < c->ncache; i++)
        for (size_t j = 0; j < c->cache[i].n; j++)
            s->uids += c->cache[i].u[j].st != NULL;
    s->bytes = c->cache_bytes;
    pthread_mutex_unlock(&c->cmu);
}
