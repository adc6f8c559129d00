/*
 * state.c: LevelDB store, atomic batches, and views (see state.h).
 *
 * A view is an open-addressing hash table (linear probing, SipHash of the
 * key with a per-process random key, so hostile keys cannot force
 * collisions) of entries {key, value, flags}. Entries are either pending
 * writes (DIRTY, possibly DELETED) or read-through cache of the store
 * (clean). The table grows at 50 % load and never shrinks.
 */
#include <leveldb/c.h>
#include <sodium.h>

#include "chain/codec.h"
#include "chain/keys.h"
#include "chain/state.h"

struct chain_store {
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_readoptions_t *ropts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *filter;
};

struct chain_batch {
    leveldb_writebatch_t *wb;
};

enum { E_USED = 1, E_DIRTY = 2, E_DELETED = 4 };

typedef struct {
    uint8_t *key;       /* owned */
    uint8_t *val;       /* owned, NULL when deleted */
    uint32_t klen;
    uint32_t vlen;
    uint8_t flags;
} view_entry;

struct chain_view {
    chain_store *st;
    chain_view *parent;
    view_entry *tab;
    size_t cap;         /* power of two */
    size_t used;        /* entries in tab */
    size_t dirty;       /* pending writes */
};

static uint8_t g_hkey[crypto_shorthash_KEYBYTES];
static int g_hkey_set;

/* ---------------- store ---------------- */

based_err chain_store_open(const char *path, chain_store **out, char *err, size_t errlen)
{
    char *lerr = NULL;
    *out = NULL;
    chain_store *st = calloc(1, sizeof *st);
    if (!st)
        return BASED_E_NOMEM;
    st->opts = leveldb_options_create();
    st->cache = leveldb_cache_create_lru(32u << 20);
    st->filter = leveldb_filterpolicy_create_bloom(10);
    leveldb_options_set_create_if_missing(st->opts, 1);
    leveldb_options_set_cache(st->opts, st->cache);
    leveldb_options_set_filter_policy(st->opts, st->filter);
    leveldb_options_set_paranoid_checks(st->opts, 1);
    leveldb_options_set_write_buffer_size(st->opts, 16u << 20);
    st->ropts = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(st->ropts, 1);
    st->db = leveldb_open(st->opts, path, &lerr);
    if (!st->db) {
        snprintf(err, errlen, "cannot open database %s: %s", path, lerr ? lerr : "unknown error");
        leveldb_free(lerr);
        chain_store_free(st);
        return BASED_E_DB;
    }
    *out = st;
    return BASED_E_OK;
}

void chain_store_free(chain_store *st)
{
    if (!st)
        return;
    if (st->db)
        leveldb_close(st->db);
    if (st->ropts)
        leveldb_readoptions_destroy(st->ropts);
    if (st->opts)
        leveldb_options_destroy(st->opts);
    if (st->cache)
        leveldb_cache_destroy(st->cache);
    if (st->filter)
        leveldb_filterpolicy_destroy(st->filter);
    free(st);
}

based_err chain_store_get(chain_store *st, const void *key, size_t klen,
                          uint8_t **val, size_t *vlen)
{
    char *lerr = NULL;
    size_t n = 0;
    *val = NULL;
    *vlen = 0;
    char *v = leveldb_get(st->db, st->ropts, key, klen, &n, &lerr);
    if (lerr) {
        leveldb_free(lerr);
        return BASED_E_DB;
    }
    if (!v)
        return BASED_E_NOT_FOUND;
    *val = malloc(n ? n : 1);
    if (!*val) {
        leveldb_free(v);
        return BASED_E_NOMEM;
    }
    memcpy(*val, v, n);
    *vlen = n;
    leveldb_free(v);
    return BASED_E_OK;
}

int chain_store_scan(chain_store *st, const void *prefix, size_t plen,
                     int (*fn)(void *user, const uint8_t *k, size_t kl,
                               const uint8_t *v, size_t vl),
                     void *user)
{
    int rc = 0;
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    for (leveldb_iter_seek(it, prefix, plen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        if (kl < plen || memcmp(k, prefix, plen) != 0)
            break;
        const char *v = leveldb_iter_value(it, &vl);
        if ((rc = fn(user, (const uint8_t *)k, kl, (const uint8_t *)v, vl)) != 0)
            break;
    }
    leveldb_iter_destroy(it);
    return rc;
}

chain_batch *chain_batch_new(void)
{
    chain_batch *b = calloc(1, sizeof *b);
    if (b)
        b->wb = leveldb_writebatch_create();
    return b;
}

void chain_batch_put(chain_batch *b, const void *key, size_t klen, const void *val, size_t vlen)
{
    leveldb_writebatch_put(b->wb, key, klen, val, vlen);
}

void chain_batch_del(chain_batch *b, const void *key, size_t klen)
{
    leveldb_writebatch_delete(b->wb, key, klen);
}

based_err chain_batch_write(chain_store *st, chain_batch *b, bool sync, char *err, size_t errlen)
{
    char *lerr = NULL;
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(wo, sync ? 1 : 0);
    leveldb_write(st->db, wo, b->wb, &lerr);
    leveldb_writeoptions_destroy(wo);
    if (lerr) {
        snprintf(err, errlen, "database write failed: %s", lerr);
        leveldb_free(lerr);
        return BASED_E_DB;
    }
    return BASED_E_OK;
}

void chain_batch_free(chain_batch *b)
{
    if (!b)
        return;
    leveldb_writebatch_destroy(b->wb);
    free(b);
}

/* ---------------- views ---------------- */

chain_view *chain_view_new(chain_store *st, chain_view *parent)
{
    if (!g_hkey_set) {
        if (sodium_init() < 0)
            return NULL;
        crypto_shorthash_keygen(g_hkey);
        g_hkey_set = 1;
    }
    chain_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->st = parent ? parent->st : st;
    v->parent = parent;
    v->cap = 64;
    v->tab = calloc(v->cap, sizeof *v->tab);
    if (!v->tab) {
        free(v);
        return NULL;
    }
    return v;
}

static void entry_clear(view_entry *e)
{
    free(e->key);
    free(e->val);
    memset(e, 0, sizeof *e);
}

void chain_view_free(chain_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->cap; i++)
        if (v->tab[i].flags & E_USED)
            entry_clear(&v->tab[i]);
    free(v->tab);
    free(v);
}

static size_t khash(const void *key, size_t klen)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t x;
    crypto_shorthash(h, key, klen, g_hkey);
    memcpy(&x, h, sizeof x);
    return (size_t)x;
}

/* Finds the slot of key, or the empty slot where it would go. */
static view_entry *find_slot(chain_view *v, const void *key, size_t klen)
{
    size_t mask = v->cap - 1, i = khash(key, klen) & mask;
    for (;;) {
        view_entry *e = &v->tab[i];
        if (!(e->flags & E_USED))
            return e;
        if (e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
        i = (i + 1) & mask;
    }
}

static based_err grow(chain_view *v)
{
    size_t ncap = v->cap * 2;
    view_entry *old = v->tab, *nt = calloc(ncap, sizeof *nt);
    size_t ocap = v->cap;
    if (!nt)
        return BASED_E_NOMEM;
    v->tab = nt;
    v->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].flags & E_USED)
            *find_slot(v, old[i].key, old[i].klen) = old[i];
    free(old);
    return BASED_E_OK;
}

/* Sets the entry for key (adding it if needed). val == NULL: deletion. */
static based_err set_entry(chain_view *v, const void *key, size_t klen,
                           const void *val, size_t vlen, uint8_t flags)
{
    if (klen == 0 || klen > CHAIN_KEY_MAX || vlen > CHAIN_VALUE_MAX)
        return BASED_E_TOO_LARGE;
    if ((v->used + 1) * 2 > v->cap && grow(v) != BASED_E_OK)
        return BASED_E_NOMEM;
    view_entry *e = find_slot(v, key, klen);
    uint8_t *nv = NULL;
    if (val) {
        nv = malloc(vlen ? vlen : 1);
        if (!nv)
            return BASED_E_NOMEM;
        memcpy(nv, val, vlen);
    }
    if (!(e->flags & E_USED)) {
        e->key = malloc(klen);
        if (!e->key) {
            free(nv);
            return BASED_E_NOMEM;
        }
        memcpy(e->key, key, klen);
        e->klen = (uint32_t)klen;
        v->used++;
    } else {
        free(e->val);
    }
    if ((flags & E_DIRTY) && !(e->flags & E_DIRTY))
        v->dirty++;
    e->val = nv;
    e->vlen = (uint32_t)vlen;
    e->flags = (uint8_t)(E_USED | flags | (e->flags & E_DIRTY) | (val ? 0 : E_DELETED));
    if (val)
        e->flags &= (uint8_t)~E_DELETED;
    return BASED_E_OK;
}

based_err chain_view_get(chain_view *v, const void *key, size_t klen,
                         const uint8_t **val, size_t *vlen)
{
    *val = NULL;
    *vlen = 0;
    if (klen == 0 || klen > CHAIN_KEY_MAX)
        return BASED_E_TOO_LARGE;
    view_entry *e = find_slot(v, key, klen);
    if (e->flags & E_USED) {
        if (e->flags & E_DELETED)
            return BASED_E_NOT_FOUND;
        *val = e->val;
        *vlen = e->vlen;
        return BASED_E_OK;
    }
    if (v->parent)
        return chain_view_get(v->parent, key, klen, val, vlen);
    uint8_t *sv;
    size_t sl;
    based_err rc = chain_store_get(v->st, key, klen, &sv, &sl);
    if (rc == BASED_E_NOT_FOUND)
        rc = set_entry(v, key, klen, NULL, 0, 0);   /* cache the absence */
    else if (rc == BASED_E_OK)
        rc = set_entry(v, key, klen, sv, sl, 0);
    free(sv);
    if (rc != BASED_E_OK)
        return rc;
    return chain_view_get(v, key, klen, val, vlen);
}

based_err chain_view_put(chain_view *v, const void *key, size_t klen,
                         const void *val, size_t vlen)
{
    static const uint8_t empty;
    return set_entry(v, key, klen, val ? val : &empty, vlen, E_DIRTY);
}

based_err chain_view_del(chain_view *v, const void *key, size_t klen)
{
    return set_entry(v, key, klen, NULL, 0, E_DIRTY);
}

size_t chain_view_count(const chain_view *v)
{
    return v->dirty;
}

based_err chain_view_merge(chain_view *child)
{
    chain_view *p = child->parent;
    if (!p)
        return BASED_E_INTERNAL;
    for (size_t i = 0; i < child->cap; i++) {
        view_entry *e = &child->tab[i];
        if (!(e->flags & E_USED))
            continue;
        if (e->flags & E_DIRTY) {
            based_err rc = set_entry(p, e->key, e->klen,
                                     (e->flags & E_DELETED) ? NULL : e->val, e->vlen, E_DIRTY);
            if (rc != BASED_E_OK)
                return rc;
        }
        entry_clear(e);
    }
    child->used = 0;
    child->dirty = 0;
    return BASED_E_OK;
}

/* ---------------- scan through a view ---------------- */

typedef struct {
    uint8_t **k;
    size_t *kl;
    size_t n, cap;
    bool fail;
} keylist;

static void keylist_add(keylist *l, const uint8_t *k, size_t kl)
{
    if (l->fail)
        return;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        uint8_t **nk = realloc(l->k, nc * sizeof *nk);
        size_t *nl = nk ? realloc(l->kl, nc * sizeof *nl) : NULL;
        if (nk)
            l->k = nk;
        if (!nk || !nl) {
            l->fail = true;
            return;
        }
        l->kl = nl;
        l->cap = nc;
    }
    l->k[l->n] = malloc(kl ? kl : 1);
    if (!l->k[l->n]) {
        l->fail = true;
        return;
    }
    memcpy(l->k[l->n], k, kl);
    l->kl[l->n++] = kl;
}

static int keylist_store_cb(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)v;
    (void)vl;
    keylist_add(user, k, kl);
    return 0;
}

static int cmp_key(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static const keylist *g_sort_list;

static int cmp_index(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return cmp_key(g_sort_list->k[i], g_sort_list->kl[i], g_sort_list->k[j], g_sort_list->kl[j]);
}

int chain_view_scan(chain_view *v, const void *prefix, size_t plen,
                    int (*fn)(void *user, const uint8_t *k, size_t kl,
                              const uint8_t *val, size_t vl),
                    void *user)
{
    keylist l = { NULL, NULL, 0, 0, false };
    size_t *idx = NULL;
    int ret = 0;
    if (chain_store_scan(v->st, prefix, plen, keylist_store_cb, &l) != 0)
        l.fail = true;
    for (chain_view *p = v; p && !l.fail; p = p->parent)
        for (size_t i = 0; i < p->cap; i++) {
            const view_entry *e = &p->tab[i];
            if ((e->flags & E_USED) && (e->flags & E_DIRTY) && e->klen >= plen &&
                memcmp(e->key, prefix, plen) == 0)
                keylist_add(&l, e->key, e->klen);
        }
    idx = l.fail ? NULL : malloc((l.n ? l.n : 1) * sizeof *idx);
    if (!idx)
        ret = -1;
    for (size_t i = 0; idx && i < l.n; i++)
        idx[i] = i;
    if (idx) {
        g_sort_list = &l;   /* one thread uses a store and its views at a time */
        qsort(idx, l.n, sizeof *idx, cmp_index);
        g_sort_list = NULL;
    }
    for (size_t i = 0; idx && ret == 0 && i < l.n; i++) {
        const uint8_t *val;
        size_t vl, a = idx[i];
        if (i > 0 && cmp_key(l.k[a], l.kl[a], l.k[idx[i - 1]], l.kl[idx[i - 1]]) == 0)
            continue;
        based_err rc = chain_view_get(v, l.k[a], l.kl[a], &val, &vl);
        if (rc == BASED_E_NOT_FOUND)
            continue;
        ret = rc != BASED_E_OK ? -1 : fn(user, l.k[a], l.kl[a], val, vl);
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.k[i]);
    free(l.k);
    free(l.kl);
    free(idx);
    return ret;
}

static int cmp_entry(const void *a, const void *b)
{
    const view_entry *x = *(const view_entry *const *)a, *y = *(const view_entry *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return (x->klen > y->klen) - (x->klen < y->klen);
}

based_err chain_view_commit(chain_view *v, const chain_hash *prev_root,
                            chain_hash *new_root, chain_batch *b)
{
    view_entry **list = malloc((v->dirty ? v->dirty : 1) * sizeof *list);
    size_t n = 0;
    if (!list)
        return BASED_E_NOMEM;
    for (size_t i = 0; i < v->cap; i++)
        if ((v->tab[i].flags & (E_USED | E_DIRTY)) == (E_USED | E_DIRTY))
            list[n++] = &v->tab[i];
    qsort(list, n, sizeof *list, cmp_entry);
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, 32);
    for (size_t i = 0; i < n; i++) {
        view_entry *e = list[i];
        uint8_t hdr[24];
        chain_wbuf w;
        chain_w_init(&w, sizeof hdr);
        chain_w_uleb(&w, e->klen);
        crypto_generichash_update(&hs, w.p, w.len);
        crypto_generichash_update(&hs, e->key, e->klen);
        chain_w_reset(&w);
        if (e->flags & E_DELETED) {
            chain_w_u8(&w, 0);
        } else {
            chain_w_u8(&w, 1);
            chain_w_uleb(&w, e->vlen);
        }
        crypto_generichash_update(&hs, w.p, w.len);
        crypto_generichash_update(&hs, e->val, e->val ? e->vlen : 0);
        chain_w_free(&w);
        if (!CHAIN_KEY_IS_STATE(e->key)) {
            /* Only state tables belong in views; anything else is a bug. */
            free(list);
            return BASED_E_INTERNAL;
        }
        if (e->flags & E_DELETED)
            chain_batch_del(b, e->key, e->klen);
        else
            chain_batch_put(b, e->key, e->klen, e->val, e->vlen);
    }
    chain_hash writes;
    crypto_generichash_final(&hs, writes.b, 32);
    *new_root = chain_hash_pair(prev_root, &writes);
    free(list);
    return BASED_E_OK;
}
