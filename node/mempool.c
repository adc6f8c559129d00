/*
 * mempool.c: the pool of pending transactions (see mempool.h).
 *
 * Structures: every pending tx is an `mp_tx` on a doubly linked list in
 * arrival order and in a hash map by tx hash; every sender with pending
 * txs has an `mp_sender` (in a map by account) holding its txs in nonce
 * order and the BASED they will spend. Both maps are open addressing keyed
 * by 32-byte ids with SipHash (random key) against collision flooding.
 */
#include <sodium.h>

#include "chain/account.h"
#include "chain/kinds.h"
#include "node/mempool.h"

typedef struct mp_sender mp_sender;

typedef struct mp_tx {
    chain_tx tx;
    struct mp_tx *prev, *next;
    mp_sender *sender;
    uint64_t cost;              /* fee + spend */
} mp_tx;

struct mp_sender {
    chain_addr addr;
    mp_tx **txs;                /* nonce order, contiguous nonces */
    size_t n, cap;
    uint64_t cost;              /* sum of the txs' costs */
};

typedef struct {
    const uint8_t *key;         /* 32 bytes, owned by the value */
    void *val;
} slot;

typedef struct {
    slot *s;
    size_t cap, used, tombs;
} idmap;

static uint8_t tomb_marker;
#define TOMB ((void *)&tomb_marker)

struct node_mempool {
    size_t max_txs, max_per_sender, count;
    mp_tx *head, *tail;
    idmap by_hash, by_sender;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
};

/* ---------------- id maps ---------------- */

static size_t id_hash(const node_mempool *m, const uint8_t *k)
{
    uint64_t h;
    uint8_t out[8];
    crypto_shorthash(out, k, 32, m->hkey);
    memcpy(&h, out, 8);
    return (size_t)h;
}

static slot *map_find(const node_mempool *m, const idmap *mp, const uint8_t *k)
{
    if (!mp->cap)
        return NULL;
    size_t mask = mp->cap - 1;
    for (size_t i = id_hash(m, k) & mask;; i = (i + 1) & mask) {
        slot *s = &mp->s[i];
        if (!s->val)
            return NULL;
        if (s->val != TOMB && memcmp(s->key, k, 32) == 0)
            return s;
    }
}

static int map_put(const node_mempool *m, idmap *mp, const uint8_t *k, void *v)
{
    if ((mp->used + mp->tombs + 1) * 2 > mp->cap) {
        size_t ncap = mp->cap ? mp->cap * 2 : 64;
        while ((mp->used + 1) * 4 > ncap)
            ncap *= 2;
        slot *old = mp->s;
        size_t ocap = mp->cap;
        mp->s = calloc(ncap, sizeof *mp->s);
        if (!mp->s) {
            mp->s = old;
            return -1;
        }
        mp->cap = ncap;
        mp->tombs = 0;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].val && old[i].val != TOMB) {
                size_t j = id_hash(m, old[i].key) & (ncap - 1);
                while (mp->s[j].val)
                    j = (j + 1) & (ncap - 1);
                mp->s[j] = old[i];
            }
        free(old);
    }
    size_t mask = mp->cap - 1, i = id_hash(m, k) & mask;
    while (mp->s[i].val && mp->s[i].val != TOMB)
        i = (i + 1) & mask;
    if (mp->s[i].val == TOMB)
        mp->tombs--;
    mp->s[i].key = k;
    mp->s[i].val = v;
    mp->used++;
    return 0;
}

static void map_del(const node_mempool *m, idmap *mp, const uint8_t *k)
{
    slot *s = map_find(m, mp, k);
    if (s) {
        s->val = TOMB;
        s->key = NULL;
        mp->used--;
        mp->tombs++;
    }
}

/* ---------------- pool ---------------- */

node_mempool *node_mempool_new(size_t max_txs, size_t max_per_sender)
{
    if (sodium_init() < 0)
        return NULL;
    node_mempool *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->max_txs = max_txs;
    m->max_per_sender = max_per_sender;
    crypto_shorthash_keygen(m->hkey);
    return m;
}

static void sender_free(mp_sender *s)
{
    free(s->txs);
    free(s);
}

void node_mempool_free(node_mempool *m)
{
    if (!m)
        return;
    for (mp_tx *t = m->head, *n; t; t = n) {
        n = t->next;
        chain_tx_release(&t->tx);
        free(t);
    }
    for (size_t i = 0; i < m->by_sender.cap; i++) {
        slot *s = &m->by_sender.s[i];
        if (s->val && s->val != TOMB)
            sender_free(s->val);
    }
    free(m->by_hash.s);
    free(m->by_sender.s);
    free(m);
}

size_t node_mempool_size(const node_mempool *m) { return m->count; }

const chain_tx *node_mempool_find(node_mempool *m, const chain_hash *hash)
{
    slot *s = map_find(m, &m->by_hash, hash->b);
    return s ? &((mp_tx *)s->val)->tx : NULL;
}

static mp_sender *sender_of(node_mempool *m, const chain_addr *a)
{
    slot *s = map_find(m, &m->by_sender, a->b);
    return s ? s->val : NULL;
}

/* Takes t off the arrival list and the hash map, and frees it. */
static void unlink_tx(node_mempool *m, mp_tx *t)
{
    t->sender->cost -= t->cost;
    if (t->prev)
        t->prev->next = t->next;
    else
        m->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        m->tail = t->prev;
    map_del(m, &m->by_hash, t->tx.hash.b);
    chain_tx_release(&t->tx);
    free(t);
    m->count--;
}

/* Frees the sender when it has nothing pending any more. */
static void sender_gc(node_mempool *m, mp_sender *s)
{
    if (s->n == 0) {
        map_del(m, &m->by_sender, s->addr.b);
        sender_free(s);
    }
}

/* Unlinks the sender's last tx and frees it (and the sender if empty). */
static void pop_tail(node_mempool *m, mp_sender *s)
{
    unlink_tx(m, s->txs[--s->n]);
    sender_gc(m, s);
}

/* Removes the sender's first k txs (included in a block). */
static void pop_front(node_mempool *m, mp_sender *s, size_t k)
{
    for (size_t i = 0; i < k; i++)
        unlink_tx(m, s->txs[i]);
    memmove(s->txs, s->txs + k, (s->n - k) * sizeof *s->txs);
    s->n -= k;
    sender_gc(m, s);
}

/* The cheapest sender tail (for eviction), or NULL. */
static mp_sender *cheapest_tail(node_mempool *m)
{
    mp_sender *best = NULL;
    for (size_t i = 0; i < m->by_sender.cap; i++) {
        slot *sl = &m->by_sender.s[i];
        if (!sl->val || sl->val == TOMB)
            continue;
        mp_sender *s = sl->val;
        if (!best || s->txs[s->n - 1]->tx.fee < best->txs[best->n - 1]->tx.fee)
            best = s;
    }
    return best;
}

static based_err check_against_state(node_mempool *m, chain_ledger *l, const chain_tx *tx,
                                     uint64_t cost, const char **why)
{
    chain_account acct;
    mp_sender *s = sender_of(m, &tx->sender);
    chain_view *v = chain_ledger_view(l);
    based_err rc = v ? chain_account_get(v, &tx->sender, &acct) : BASED_E_NOMEM;
    chain_view_free(v);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t next = acct.nonce + (s ? s->n : 0), pending = s ? s->cost : 0;
    if (tx->nonce < next)
        return *why = "nonce", BASED_E_NONCE_USED;
    if (tx->nonce > next)
        return *why = "nonce", BASED_E_NONCE_GAP;
    if (tx->fee < chain_ledger_genesis(l)->params.min_fee)
        return *why = "fee", BASED_E_FEE_TOO_LOW;
    if (pending > acct.balance || cost > acct.balance - pending)
        return *why = "amount", BASED_E_INSUFFICIENT;
    if (s && s->n >= m->max_per_sender)
        return *why = "nonce", BASED_E_MEMPOOL_FULL;
    return BASED_E_OK;
}

static based_err insert(node_mempool *m, chain_tx *tx, uint64_t cost)
{
    mp_sender *s = sender_of(m, &tx->sender);
    mp_tx *t = calloc(1, sizeof *t);
    if (!t)
        return BASED_E_NOMEM;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s)
            s->addr = tx->sender;   /* the map key points into the value */
        if (!s || map_put(m, &m->by_sender, s->addr.b, s) != 0) {
            free(s);
            free(t);
            return BASED_E_NOMEM;
        }
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        mp_tx **nt = realloc(s->txs, nc * sizeof *nt);
        if (!nt) {
            free(t);
            return BASED_E_NOMEM;
        }
        s->txs = nt;
        s->cap = nc;
    }
    t->tx = *tx;               /* takes ownership of raw */
    memset(tx, 0, sizeof *tx);
    t->sender = s;
    t->cost = cost;
    if (map_put(m, &m->by_hash, t->tx.hash.b, t) != 0) {
        *tx = t->tx;
        free(t);
        return BASED_E_NOMEM;
    }
    s->txs[s->n++] = t;
    s->cost += cost;
    t->prev = m->tail;
    if (m->tail)
        m->tail->next = t;
    else
        m->head = t;
    m->tail = t;
    m->count++;
    return BASED_E_OK;
}

based_err node_mempool_add(node_mempool *m, chain_ledger *l, const void *raw, size_t n,
                           chain_hash *hash, const char **why)
{
    chain_tx tx;
    uint64_t height;
    uint32_t idx;
    json_t *rcpt;
    memset(hash, 0, sizeof *hash);
    based_err rc = chain_tx_decode(raw, n, &tx, why);
    if (rc != BASED_E_OK)
        return rc;
    *hash = tx.hash;
    if (node_mempool_find(m, &tx.hash)) {
        chain_tx_release(&tx);
        return *why = "hash", BASED_E_DUPLICATE;
    }
    if (chain_ledger_tx(l, &tx.hash, &height, &idx, &rcpt) == BASED_E_OK) {
        json_decref(rcpt);
        chain_tx_release(&tx);
        return *why = "hash", BASED_E_DUPLICATE;
    }
    rc = chain_tx_check(chain_ledger_runtime(l), &tx, chain_ledger_genesis(l)->chain_id, why);
    const chain_kind *k = chain_kind_find(chain_ledger_runtime(l), tx.kind);
    uint64_t spend = (rc == BASED_E_OK && k->spend) ? k->spend(tx.payload, tx.payload_len) : 0;
    if (rc == BASED_E_OK && spend > UINT64_MAX - tx.fee)
        rc = BASED_E_OVERFLOW, *why = "amount";
    uint64_t cost = spend + (rc == BASED_E_OK ? tx.fee : 0);
    if (rc == BASED_E_OK)
        rc = check_against_state(m, l, &tx, cost, why);
    if (rc == BASED_E_OK)
        rc = chain_ledger_dry_run(l, &tx, why);
    if (rc == BASED_E_OK && m->count >= m->max_txs) {
        mp_sender *victim = cheapest_tail(m);
        if (victim && victim->txs[victim->n - 1]->tx.fee < tx.fee &&
            memcmp(victim->addr.b, tx.sender.b, 32) != 0)
            pop_tail(m, victim);
        else
            rc = BASED_E_MEMPOOL_FULL, *why = "fee";
    }
    if (rc == BASED_E_OK)
        rc = insert(m, &tx, cost);
    chain_tx_release(&tx);
    return rc;
}

size_t node_mempool_candidates(node_mempool *m, chain_tx **out, size_t max)
{
    size_t n = 0;
    for (mp_tx *t = m->head; t && n < max; t = t->next)
        out[n++] = &t->tx;
    return n;
}

void node_mempool_drop(node_mempool *m, const chain_hash *hash)
{
    slot *sl = map_find(m, &m->by_hash, hash->b);
    if (!sl)
        return;
    mp_tx *t = sl->val;
    mp_sender *s = t->sender;
    for (;;) {
        mp_tx *last = s->txs[s->n - 1];
        bool done = last == t || s->n == 1;
        pop_tail(m, s);   /* may free s when it empties */
        if (done)
            break;
    }
}

void node_mempool_after_block(node_mempool *m, chain_ledger *l)
{
    chain_view *v = chain_ledger_view(l);
    if (!v)
        return;
    /* collect senders first: pops change the map */
    size_t ns = 0;
    mp_sender **list = malloc((m->by_sender.used ? m->by_sender.used : 1) * sizeof *list);
    for (size_t i = 0; list && i < m->by_sender.cap; i++) {
        slot *sl = &m->by_sender.s[i];
        if (sl->val && sl->val != TOMB)
            list[ns++] = sl->val;
    }
    for (size_t i = 0; i < ns; i++) {
        mp_sender *s = list[i];
        chain_account acct;
        if (chain_account_get(v, &s->addr, &acct) != BASED_E_OK)
            continue;
        size_t k = 0;
        while (k < s->n && s->txs[k]->tx.nonce < acct.nonce)
            k++;
        bool gone = k == s->n;
        if (k)
            pop_front(m, s, k);          /* frees s if it empties */
        if (gone)
            continue;
        if (s->txs[0]->tx.nonce != acct.nonce) {
            while (s->n > 1)
                pop_tail(m, s);
            pop_tail(m, s);
            continue;
        }
        while (s->n && s->cost > acct.balance) {
            bool last = s->n == 1;
            pop_tail(m, s);
            if (last)
                break;
        }
    }
    free(list);
    chain_view_free(v);
}

uint64_t node_mempool_next_nonce(node_mempool *m, chain_ledger *l, const chain_addr *a)
{
    chain_account acct;
    chain_view *v = chain_ledger_view(l);
    if (!v || chain_account_get(v, a, &acct) != BASED_E_OK)
        acct.nonce = 0;
    chain_view_free(v);
    mp_sender *s = sender_of(m, a);
    return acct.nonce + (s ? s->n : 0);
}
