/*
 * ledger.c: genesis initialisation, block execution shared by production,
 * application and verification, and the one-batch commit (see ledger.h).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "chain/account.h"
#include "chain/exec.h"
#include "chain/keys.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "chain/runtime.h"

struct chain_ledger {
    chain_store *st;
    chain_genesis g;
    chain_exec_params xp;
    chain_head head;
    /* dry runs: the head state with the next block's start-of-block work
     * (emission, epochs) already applied, computed once per head */
    chain_view *dry_base;
    chain_hash dry_head;
    chain_engine engine;
};

static const uint8_t K_GENESIS[] = { CHAIN_T_META, 'g', 'e', 'n', 'e', 's', 'i', 's' };
static const uint8_t K_HEAD[] = { CHAIN_T_META, 'h', 'e', 'a', 'd' };
static const uint8_t K_ENGINE[] = { CHAIN_T_META, 'e', 'n', 'g', 'i', 'n', 'e' };

/* ---------------- small encoders ---------------- */

static void head_encode(const chain_head *h, uint8_t out[80])
{
    chain_put_be64(out, h->height);
    memcpy(out + 8, h->hash.b, 32);
    memcpy(out + 40, h->state_root.b, 32);
    chain_put_be64(out + 72, h->time_ms);
}

static void head_decode(const uint8_t in[80], chain_head *h)
{
    h->height = chain_get_be64(in);
    memcpy(h->hash.b, in + 8, 32);
    memcpy(h->state_root.b, in + 40, 32);
    h->time_ms = chain_get_be64(in + 72);
}

static void key_height(uint8_t prefix, uint64_t height, uint8_t k[9])
{
    k[0] = prefix;
    chain_put_be64(k + 1, height);
}

static void key_hash(uint8_t prefix, const chain_hash *h, uint8_t k[33])
{
    k[0] = prefix;
    memcpy(k + 1, h->b, 32);
}

static void commit_encode(const chain_commit_sig *s, size_t n, chain_wbuf *w)
{
    chain_w_uleb(w, n);
    for (size_t i = 0; i < n; i++) {
        chain_w_u16(w, s[i].index);
        chain_w_raw(w, s[i].sig.b, 64);
    }
}

/* ---------------- open ---------------- */

static based_err init_genesis(chain_ledger *l, char *err, size_t errlen)
{
    chain_view *v = chain_view_new(l->st, NULL);
    chain_batch *b = chain_batch_new();
    chain_supply sup = { 0, 0, 0 };
    chain_hash zero, root;
    chain_wbuf w;
    based_err rc = (v && b) ? BASED_E_OK : BASED_E_NOMEM;
    memset(&zero, 0, sizeof zero);
    for (size_t i = 0; rc == BASED_E_OK && i < l->g.nbal; i++)
        rc = chain_credit(v, &l->g.bal[i].address, l->g.bal[i].amount);
    if (rc == BASED_E_OK)
        rc = chain_genesis_total(&l->g, &sup.genesis);
    if (rc == BASED_E_OK)
        rc = chain_supply_put(v, &sup);
    if (rc == BASED_E_OK)
        rc = chain_runtime_genesis_init(l->xp.rt, v, &l->g);
    if (rc == BASED_E_OK)
        rc = chain_view_commit(v, &zero, &root, b);
    if (rc == BASED_E_OK) {
        uint8_t hv[80];
        l->head.height = 0;
        l->head.hash = l->g.hash;
        l->head.state_root = root;
        l->head.time_ms = l->g.genesis_time_ms;
        head_encode(&l->head, hv);
        chain_w_init(&w, CHAIN_GENESIS_MAX_BYTES);
        chain_genesis_encode(&l->g, &w);
        chain_batch_put(b, K_GENESIS, sizeof K_GENESIS, w.p, w.len);
        chain_batch_put(b, K_HEAD, sizeof K_HEAD, hv, sizeof hv);
        rc = w.err ? BASED_E_NOMEM : chain_batch_write(l->st, b, true, err, errlen);
        chain_w_free(&w);
    } else {
        snprintf(err, errlen, "cannot build the genesis state: %s", based_strerror(rc));
    }
    chain_view_free(v);
    chain_batch_free(b);
    return rc;
}

static based_err load_existing(chain_ledger *l, const chain_genesis *g, const uint8_t *gv,
                               size_t gl, char *err, size_t errlen)
{
    uint8_t *hv;
    size_t hl;
    if (chain_genesis_decode(gv, gl, &l->g) != BASED_E_OK) {
        snprintf(err, errlen, "the database's stored genesis is corrupt");
        return BASED_E_DB;
    }
    if (g && !chain_hash_eq(&g->hash, &l->g.hash)) {
        char a[67], b[67];
        chain_hash_hex(&l->g.hash, a);
        chain_hash_hex(&g->hash, b);
        snprintf(err, errlen, "the database was created from another genesis (%s, given %s); "
                 "use another --datadir or remove it", a, b);
        return BASED_E_GENESIS;
    }
    if (chain_store_get(l->st, K_HEAD, sizeof K_HEAD, &hv, &hl) != BASED_E_OK || hl != 80) {
        snprintf(err, errlen, "the database has no head record");
        return BASED_E_DB;
    }
    head_decode(hv, &l->head);
    free(hv);
    if (chain_store_get(l->st, K_ENGINE, sizeof K_ENGINE, &hv, &hl) == BASED_E_OK) {
        l->engine = hl == 1 && hv[0] == CHAIN_ENGINE_COMETBFT ? CHAIN_ENGINE_COMETBFT
                                                              : CHAIN_ENGINE_DEV;
        free(hv);
    }
    return BASED_E_OK;
}

based_err chain_ledger_open(const chain_runtime *rt, const char *dbpath, const chain_genesis *g,
                            chain_ledger **out, char *err, size_t errlen)
{
    uint8_t *gv = NULL;
    size_t gl = 0;
    *out = NULL;
    chain_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return BASED_E_NOMEM;
    l->xp.rt = rt;
    based_err rc = chain_store_open(dbpath, &l->st, err, errlen);
    if (rc != BASED_E_OK) {
        free(l);
        return rc;
    }
    rc = chain_store_get(l->st, K_GENESIS, sizeof K_GENESIS, &gv, &gl);
    if (rc == BASED_E_OK) {
        rc = load_existing(l, g, gv, gl, err, errlen);
    } else if (rc == BASED_E_NOT_FOUND && g) {
        rc = chain_genesis_copy(&l->g, g);
        if (rc == BASED_E_OK)
            rc = init_genesis(l, err, errlen);
    } else if (rc == BASED_E_NOT_FOUND) {
        snprintf(err, errlen, "%s holds no chain", dbpath);
    } else {
        snprintf(err, errlen, "cannot read %s: %s", dbpath, based_strerror(rc));
    }
    free(gv);
    if (rc != BASED_E_OK) {
        chain_ledger_free(l);
        return rc;
    }
    l->xp.min_fee = l->g.params.min_fee;
    l->xp.ss58_prefix = l->g.ss58_prefix;
    *out = l;
    return BASED_E_OK;
}

void chain_ledger_free(chain_ledger *l)
{
    if (!l)
        return;
    chain_view_free(l->dry_base);
    chain_store_free(l->st);
    chain_genesis_release(&l->g);
    free(l);
}

const chain_genesis *chain_ledger_genesis(const chain_ledger *l) { return &l->g; }
chain_head chain_ledger_head(const chain_ledger *l) { return l->head; }
chain_store *chain_ledger_store(chain_ledger *l) { return l->st; }
const chain_runtime *chain_ledger_runtime(const chain_ledger *l) { return l->xp.rt; }
chain_view *chain_ledger_view(chain_ledger *l) { return chain_view_new(l->st, NULL); }

/* ---------------- reads ---------------- */

based_err chain_ledger_block(chain_ledger *l, uint64_t height, chain_block *b)
{
    uint8_t k[9], *v;
    size_t vl;
    memset(b, 0, sizeof *b);
    if (height == 0 || height > l->head.height)
        return BASED_E_NOT_FOUND;
    key_height(CHAIN_T_BLOCK, height, k);
    based_err rc = chain_store_get(l->st, k, sizeof k, &v, &vl);
    if (rc != BASED_E_OK)
        return rc;
    rc = chain_block_decode(v, vl, b, NULL);
    free(v);
    return rc == BASED_E_OK ? rc : BASED_E_DB;
}

based_err chain_ledger_height_of(chain_ledger *l, const chain_hash *hash, uint64_t *height)
{
    uint8_t k[33], *v;
    size_t vl;
    key_hash(CHAIN_T_HASH, hash, k);
    based_err rc = chain_store_get(l->st, k, sizeof k, &v, &vl);
    if (rc != BASED_E_OK)
        return rc;
    *height = vl == 8 ? chain_get_be64(v) : 0;
    free(v);
    return vl == 8 ? BASED_E_OK : BASED_E_DB;
}

based_err chain_ledger_commit(chain_ledger *l, uint64_t height, chain_commit_sig *sigs, size_t *n)
{
    uint8_t k[9], *v;
    size_t vl;
    chain_rbuf r;
    *n = 0;
    key_height(CHAIN_T_COMMIT, height, k);
    based_err rc = chain_store_get(l->st, k, sizeof k, &v, &vl);
    if (rc != BASED_E_OK)
        return rc;
    chain_r_init(&r, v, vl);
    uint64_t cnt = chain_r_uleb(&r);
    if (cnt > CHAIN_MAX_AUTHORITIES)
        chain_r_fail(&r, "too many signatures");
    for (size_t i = 0; !r.err && i < cnt; i++) {
        sigs[i].index = chain_r_u16(&r);
        chain_r_raw(&r, sigs[i].sig.b, 64);
    }
    chain_r_finish(&r);
    free(v);
    if (r.err)
        return BASED_E_DB;
    *n = (size_t)cnt;
    return BASED_E_OK;
}

based_err chain_ledger_tx(chain_ledger *l, const chain_hash *txhash, uint64_t *height,
                          uint32_t *index, json_t **receipt)
{
    uint8_t k[33], *v;
    size_t vl;
    *receipt = NULL;
    key_hash(CHAIN_T_TXINDEX, txhash, k);
    based_err rc = chain_store_get(l->st, k, sizeof k, &v, &vl);
    if (rc != BASED_E_OK)
        return rc;
    if (vl < 12) {
        free(v);
        return BASED_E_DB;
    }
    *height = chain_get_be64(v);
    *index = (uint32_t)v[8] | (uint32_t)v[9] << 8 | (uint32_t)v[10] << 16 | (uint32_t)v[11] << 24;
    *receipt = json_loadb((const char *)v + 12, vl - 12, 0, NULL);
    free(v);
    return *receipt ? BASED_E_OK : BASED_E_DB;
}

/* ---------------- execution and commit ---------------- */

struct chain_pending {
    uint64_t height, time_ms;
    chain_edpub proposer;
    chain_hash prev_hash;      /* the head it was executed on */
    chain_hash prev_root;
    chain_view *view;
    chain_batch *batch;        /* the state writes */
    chain_hash root;
    json_t *receipts;          /* one per input tx; null when left out */
    based_err *rc;             /* one per input tx */
    const char **why;
    size_t ntx;
    chain_tx *inc;             /* deep copies of the included txs, block order */
    size_t ninc;
    size_t nev;
    chain_evidence ev[CHAIN_MAX_EVIDENCE];
};

void chain_pending_free(chain_pending *p)
{
    if (!p)
        return;
    chain_view_free(p->view);
    chain_batch_free(p->batch);
    json_decref(p->receipts);
    for (size_t i = 0; p->inc && i < p->ninc; i++)
        chain_tx_release(&p->inc[i]);
    free(p->inc);
    free(p->rc);
    free(p->why);
    free(p);
}

chain_hash chain_pending_root(const chain_pending *p) { return p->root; }
uint64_t chain_pending_height(const chain_pending *p) { return p->height; }
size_t chain_pending_included(const chain_pending *p) { return p->ninc; }

based_err chain_pending_result(const chain_pending *p, size_t i, const char **why)
{
    if (i >= p->ntx) {
        if (why)
            *why = "index";
        return BASED_E_NOT_FOUND;
    }
    if (why)
        *why = p->why[i] ? p->why[i] : "";
    return p->rc[i];
}

json_t *chain_pending_receipt(const chain_pending *p, size_t i)
{
    json_t *r = i < p->ntx ? json_array_get(p->receipts, i) : NULL;
    return json_is_object(r) ? r : NULL;
}

static void evidence_encode(const chain_evidence *e, uint8_t out[CHAIN_EVIDENCE_LEN])
{
    out[0] = e->type;
    memcpy(out + 1, e->address, 20);
    chain_put_be64(out + 21, e->height);
    chain_put_be64(out + 29, e->time_ms);
    chain_put_be64(out + 37, e->power);
    chain_put_be64(out + 45, e->total_power);
}

static void evidence_decode(const uint8_t in[CHAIN_EVIDENCE_LEN], chain_evidence *e)
{
    e->type = in[0];
    memcpy(e->address, in + 1, 20);
    e->height = chain_get_be64(in + 21);
    e->time_ms = chain_get_be64(in + 29);
    e->power = chain_get_be64(in + 37);
    e->total_power = chain_get_be64(in + 45);
}

/* Evidence goes into consensus state: d || block height || index. */
static based_err record_evidence(chain_view *v, uint64_t height, const chain_evidence *ev,
                                 size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t k[11], val[CHAIN_EVIDENCE_LEN];
        k[0] = CHAIN_T_EVIDENCE;
        chain_put_be64(k + 1, height);
        k[9] = (uint8_t)(i >> 8);
        k[10] = (uint8_t)i;
        evidence_encode(&ev[i], val);
        based_err rc = chain_view_put(v, k, sizeof k, val, sizeof val);
        if (rc != BASED_E_OK)
            return rc;
    }
    return BASED_E_OK;
}

static based_err check_input(chain_ledger *l, const chain_block_input *in, int *ai,
                             char *err, size_t errlen)
{
    if (in->height != l->head.height + 1) {
        snprintf(err, errlen, "block %" PRIu64 " is not the next height (head %" PRIu64 ")",
                 in->height, l->head.height);
        return BASED_E_BAD_BLOCK;
    }
    if (in->time_ms <= l->head.time_ms) {
        snprintf(err, errlen, "block %" PRIu64 ": time is not after the previous block's",
                 in->height);
        return BASED_E_BAD_BLOCK;
    }
    if (in->nev > CHAIN_MAX_EVIDENCE) {
        snprintf(err, errlen, "block %" PRIu64 ": more than %d evidence entries", in->height,
                 CHAIN_MAX_EVIDENCE);
        return BASED_E_BAD_BLOCK;
    }
    *ai = chain_genesis_authority(&l->g, &in->proposer);
    if (*ai < 0) {
        snprintf(err, errlen, "block %" PRIu64 ": the proposer is not an authority of the genesis",
                 in->height);
        return BASED_E_UNAUTHORIZED;
    }
    return BASED_E_OK;
}

static chain_pending *pending_new(const chain_block_input *in)
{
    chain_pending *p = calloc(1, sizeof *p);
    size_t n = in->ntx ? in->ntx : 1;
    if (!p)
        return NULL;
    p->receipts = json_array();
    p->rc = calloc(n, sizeof *p->rc);
    p->why = calloc(n, sizeof *p->why);
    p->inc = calloc(n, sizeof *p->inc);
    p->batch = chain_batch_new();
    if (!p->receipts || !p->rc || !p->why || !p->inc || !p->batch) {
        chain_pending_free(p);
        return NULL;
    }
    p->ntx = in->ntx;
    p->height = in->height;
    p->time_ms = in->time_ms;
    p->proposer = in->proposer;
    p->nev = in->nev;
    if (in->nev)
        memcpy(p->ev, in->ev, in->nev * sizeof *in->ev);
    return p;
}

/* Runs one input tx; on success its copy joins the block. */
static based_err exec_one(chain_ledger *l, chain_exec *ex, chain_pending *p,
                          const chain_block_input *in, size_t i)
{
    const char *why = "";
    uint64_t fee = 0;
    based_err rc = BASED_E_OK;
    const chain_tx *tx = in->txs[i];
    if (p->ninc >= l->g.params.max_block_txs)
        rc = BASED_E_TOO_LARGE, why = "block is full";
    if (rc == BASED_E_OK && in->verify_sigs)
        rc = chain_tx_check(l->xp.rt, tx, l->g.chain_id, &why);
    ex->events = json_array();
    if (rc == BASED_E_OK)
        rc = chain_exec_tx(ex, tx, &fee, &why);
    if (rc == BASED_E_OK)
        rc = chain_tx_copy(&p->inc[p->ninc], tx);
    p->rc[i] = rc;
    p->why[i] = why;
    if (rc != BASED_E_OK) {
        json_decref(ex->events);
        ex->events = NULL;
        json_array_append_new(p->receipts, json_null());
        return rc;
    }
    p->ninc++;
    char feestr[32];
    chain_amount_format(fee, feestr);
    json_array_append_new(p->receipts, json_pack("{s:s,s:s,s:o}", "status", "ok", "fee", feestr,
                                                 "events", ex->events));
    ex->events = NULL;
    return BASED_E_OK;
}

based_err chain_ledger_execute(chain_ledger *l, const chain_block_input *in,
                               chain_pending **out, char *err, size_t errlen)
{
    int ai;
    *out = NULL;
    based_err rc = check_input(l, in, &ai, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    chain_pending *p = pending_new(in);
    if (p)
        p->view = chain_view_new(l->st, NULL);
    if (!p || !p->view) {
        chain_pending_free(p);
        return BASED_E_NOMEM;
    }
    p->prev_hash = l->head.hash;
    p->prev_root = l->head.state_root;
    chain_exec ex = { p->view, NULL, &l->xp, in->height, in->time_ms, l->g.auth[ai].account,
                      NULL, &l->g };
    rc = chain_runtime_block_begin(l->xp.rt, &ex);
    if (rc == BASED_E_OK)
        rc = record_evidence(p->view, in->height, in->ev, in->nev);
    if (rc != BASED_E_OK) {
        snprintf(err, errlen, "block %" PRIu64 ": start-of-block work fails: %s", in->height,
                 based_strerror(rc));
        chain_pending_free(p);
        return rc;
    }
    for (size_t i = 0; i < in->ntx; i++) {
        rc = exec_one(l, &ex, p, in, i);
        if (rc == BASED_E_NOMEM || (rc != BASED_E_OK && !in->skip_failing)) {
            char h[67];
            chain_hash_hex(&in->txs[i]->hash, h);
            snprintf(err, errlen, "transaction %zu (%s) fails: %s (%s)", i, h,
                     based_strerror(rc), p->why[i]);
            chain_pending_free(p);
            return rc == BASED_E_NOMEM ? rc : BASED_E_BAD_BLOCK;
        }
    }
    chain_tx **incp = malloc((p->ninc ? p->ninc : 1) * sizeof *incp);
    for (size_t i = 0; incp && i < p->ninc; i++)
        incp[i] = &p->inc[i];
    rc = incp ? chain_runtime_block_end(l->xp.rt, &ex, incp, p->ninc) : BASED_E_NOMEM;   /* network series */
    free(incp);
    if (rc != BASED_E_OK) {
        snprintf(err, errlen, "block %" PRIu64 ": end-of-block work fails: %s", in->height,
                 based_strerror(rc));
        chain_pending_free(p);
        return rc;
    }
    rc = chain_view_commit(p->view, &l->head.state_root, &p->root, p->batch);
    if (rc != BASED_E_OK) {
        snprintf(err, errlen, "block %" PRIu64 ": cannot compute the state root: %s",
                 in->height, based_strerror(rc));
        chain_pending_free(p);
        return rc;
    }
    *out = p;
    return BASED_E_OK;
}

/* Adds block, indexes, commit and head to the batch (which holds the
 * block's state writes) and writes it, synced. */
static based_err persist(chain_ledger *l, const chain_block *b, const chain_pending *p,
                         chain_batch *batch, const chain_commit_sig *commit,
                         size_t ncommit, char *err, size_t errlen)
{
    chain_wbuf w;
    uint8_t k[33], hv[80], hb[8];
    chain_w_init(&w, CHAIN_MAX_BLOCK_BYTES);
    chain_block_encode(b, &w);
    key_height(CHAIN_T_BLOCK, b->h.height, k);
    chain_batch_put(batch, k, 9, w.p, w.len);
    chain_put_be64(hb, b->h.height);
    key_hash(CHAIN_T_HASH, &b->hash, k);
    chain_batch_put(batch, k, 33, hb, 8);
    size_t j = 0;
    for (size_t i = 0; i < p->ntx; i++) {
        json_t *r = chain_pending_receipt(p, i);
        if (!r)
            continue;
        char *rj = json_dumps(r, JSON_COMPACT);
        chain_w_reset(&w);
        chain_w_raw(&w, hb, 8);
        chain_w_u32(&w, (uint32_t)j);
        chain_w_raw(&w, rj, rj ? strlen(rj) : 0);
        free(rj);
        key_hash(CHAIN_T_TXINDEX, &b->txs[j].hash, k);
        chain_batch_put(batch, k, 33, w.p, w.len);
        j++;
    }
    chain_w_reset(&w);
    commit_encode(commit, ncommit, &w);
    key_height(CHAIN_T_COMMIT, b->h.height, k);
    chain_batch_put(batch, k, 9, w.p, w.len);
    chain_head nh = { b->h.height, b->hash, b->h.state_root, b->h.time_ms };
    head_encode(&nh, hv);
    chain_batch_put(batch, K_HEAD, sizeof K_HEAD, hv, sizeof hv);
    if (b->h.height == 1 && l->engine == CHAIN_ENGINE_COMETBFT) {
        uint8_t e = (uint8_t)l->engine;
        chain_batch_put(batch, K_ENGINE, sizeof K_ENGINE, &e, 1);
    }
    based_err rc = w.err ? BASED_E_NOMEM : chain_batch_write(l->st, batch, true, err, errlen);
    if (rc == BASED_E_OK)
        l->head = nh;
    chain_w_free(&w);
    return rc;
}

static based_err last_commit(chain_ledger *l, chain_header *h)
{
    h->ncommit = 0;
    if (l->head.height == 0 || l->engine == CHAIN_ENGINE_COMETBFT)
        return BASED_E_OK;
    return chain_ledger_commit(l, l->head.height, h->commit, &h->ncommit);
}

/* The block a pending execution makes (header without signatures; txs
 * borrowed from p). */
static based_err pending_block(chain_ledger *l, const chain_pending *p, chain_block *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->h.chain_id, sizeof b->h.chain_id, "%s", l->g.chain_id);
    b->h.height = p->height;
    b->h.time_ms = p->time_ms;
    b->h.prev_hash = p->prev_hash;
    b->h.state_root = p->root;
    b->h.proposer = p->proposer;
    b->txs = p->inc;
    b->ntx = p->ninc;
    b->nev = p->nev;
    memcpy(b->ev, p->ev, p->nev * sizeof *p->ev);
    b->h.tx_root = chain_tx_root(b->txs, b->ntx);
    return last_commit(l, &b->h);
}

static based_err commit_block(chain_ledger *l, chain_pending *p, const chain_block *b,
                              const chain_commit_sig *commit, size_t ncommit, char *err,
                              size_t errlen)
{
    if (!chain_hash_eq(&p->prev_hash, &l->head.hash)) {
        snprintf(err, errlen, "block %" PRIu64 " was executed on another head", p->height);
        return BASED_E_BAD_BLOCK;
    }
    based_err rc = persist(l, b, p, p->batch, commit, ncommit, err, errlen);
    chain_batch_free(p->batch);
    p->batch = NULL;
    return rc;
}

based_err chain_ledger_commit_pending(chain_ledger *l, chain_pending *p, const uint8_t *sk,
                                      char *err, size_t errlen)
{
    chain_block *b = malloc(sizeof *b);
    chain_commit_sig cs;
    size_t ncs = 0;
    if (!b)
        return BASED_E_NOMEM;
    if (!p->batch) {
        free(b);
        snprintf(err, errlen, "block %" PRIu64 " was already committed", p->height);
        return BASED_E_BAD_BLOCK;
    }
    based_err rc = pending_block(l, p, b);
    if (rc == BASED_E_OK) {
        b->hash = chain_header_hash(&b->h);
        if (sk) {
            int ai = chain_genesis_authority(&l->g, &p->proposer);
            chain_ed_sign(sk, &b->hash, &b->proposer_sig);
            chain_hash cm = chain_commit_msg(l->g.chain_id, b->h.height, &b->hash);
            cs.index = (uint16_t)(ai < 0 ? 0 : ai);
            chain_ed_sign(sk, &cm, &cs.sig);
            ncs = 1;
        }
        rc = commit_block(l, p, b, &cs, ncs, err, errlen);
    }
    free(b);    /* txs borrowed from p */
    return rc;
}

chain_engine chain_ledger_engine(const chain_ledger *l) { return l->engine; }

based_err chain_ledger_set_engine(chain_ledger *l, chain_engine e, char *err, size_t errlen)
{
    if (e == l->engine)
        return BASED_E_OK;
    if (l->head.height > 0) {
        snprintf(err, errlen, "this database holds a %s chain; a %s chain needs its own --datadir",
                 l->engine == CHAIN_ENGINE_COMETBFT ? "CometBFT network" : "dev (--dev)",
                 e == CHAIN_ENGINE_COMETBFT ? "CometBFT network" : "dev");
        return BASED_E_GENESIS;
    }
    l->engine = e;
    return BASED_E_OK;
}

based_err chain_ledger_produce(chain_ledger *l, chain_tx *const *cands, size_t n,
                               uint64_t time_ms, const uint8_t sk[64],
                               chain_skip *skipped, size_t *nskipped, size_t *included,
                               char *err, size_t errlen)
{
    chain_pending *p = NULL;
    chain_block_input in;
    memset(&in, 0, sizeof in);
    *included = 0;
    if (nskipped)
        *nskipped = 0;
    memcpy(in.proposer.b, sk + 32, 32);
    if (chain_genesis_authority(&l->g, &in.proposer) < 0) {
        snprintf(err, errlen, "this node's key is not an authority of the genesis");
        return BASED_E_UNAUTHORIZED;
    }
    if (l->engine != CHAIN_ENGINE_DEV) {
        snprintf(err, errlen, "this database is driven by CometBFT; it takes no dev blocks");
        return BASED_E_BAD_BLOCK;
    }
    in.height = l->head.height + 1;
    in.time_ms = time_ms <= l->head.time_ms ? l->head.time_ms + 1 : time_ms;
    in.txs = cands;
    in.ntx = n;
    in.skip_failing = true;
    based_err rc = chain_ledger_execute(l, &in, &p, err, errlen);
    if (rc == BASED_E_OK)
        rc = chain_ledger_commit_pending(l, p, sk, err, errlen);
    if (rc == BASED_E_OK) {
        *included = p->ninc;
        for (size_t i = 0; skipped && nskipped && i < n; i++)
            if (p->rc[i] != BASED_E_OK)
                skipped[(*nskipped)++] = (chain_skip){ cands[i], p->rc[i], p->why[i] };
    }
    chain_pending_free(p);
    return rc;
}

/* Checks commit signatures on block (height, hash): valid, distinct
 * authorities, more than 2/3 of the voting power. */
static based_err check_commit(chain_ledger *l, uint64_t height, const chain_hash *hash,
                              const chain_commit_sig *sigs, size_t n, const char **why)
{
    uint64_t total = 0, signed_power = 0;
    bool seen[CHAIN_MAX_AUTHORITIES] = { false };
    chain_hash msg = chain_commit_msg(l->g.chain_id, height, hash);
    for (size_t i = 0; i < l->g.nauth; i++)
        total += l->g.auth[i].power;
    for (size_t i = 0; i < n; i++) {
        uint16_t a = sigs[i].index;
        if (a >= l->g.nauth || seen[a]) {
            *why = "commit names an unknown or repeated authority";
            return BASED_E_BAD_BLOCK;
        }
        if (!chain_ed_verify(&l->g.auth[a].key, &msg, &sigs[i].sig)) {
            *why = "commit signature does not verify";
            return BASED_E_BAD_SIGNATURE;
        }
        seen[a] = true;
        signed_power += l->g.auth[a].power;
    }
    if (signed_power * 3 <= total * 2) {
        *why = "commit holds 2/3 of the voting power or less";
        return BASED_E_BAD_BLOCK;
    }
    return BASED_E_OK;
}

/* Signatures of a dev block: the proposer's and the commits. */
static based_err check_signatures(chain_ledger *l, const chain_block *b, const char **why)
{
    const chain_header *h = &b->h;
    if (l->engine == CHAIN_ENGINE_COMETBFT) {
        if (h->ncommit != 0)
            return *why = "a CometBFT block carries no commit of ours", BASED_E_BAD_BLOCK;
        return BASED_E_OK;
    }
    if (b->nev != 0)
        return *why = "a dev block carries no evidence", BASED_E_BAD_BLOCK;
    if (!chain_ed_verify(&h->proposer, &b->hash, &b->proposer_sig))
        return *why = "proposer signature", BASED_E_BAD_SIGNATURE;
    if (h->height > 1)
        return check_commit(l, h->height - 1, &h->prev_hash, h->commit, h->ncommit, why);
    if (h->ncommit != 0)
        return *why = "the first block carries no commit", BASED_E_BAD_BLOCK;
    return BASED_E_OK;
}

static based_err check_header(chain_ledger *l, const chain_block *b, const char **why)
{
    const chain_header *h = &b->h;
    if (strcmp(h->chain_id, l->g.chain_id) != 0)
        return *why = "chain_id", BASED_E_WRONG_CHAIN;
    if (h->height != l->head.height + 1)
        return *why = "height is not the next height", BASED_E_BAD_BLOCK;
    if (!chain_hash_eq(&h->prev_hash, &l->head.hash))
        return *why = "prev_hash is not the head's hash", BASED_E_BAD_BLOCK;
    if (h->time_ms <= l->head.time_ms)
        return *why = "time is not after the previous block's", BASED_E_BAD_BLOCK;
    if (chain_genesis_authority(&l->g, &h->proposer) < 0)
        return *why = "proposer is not an authority", BASED_E_BAD_BLOCK;
    if (b->ntx > l->g.params.max_block_txs)
        return *why = "too many transactions", BASED_E_BAD_BLOCK;
    chain_hash root = chain_tx_root(b->txs, b->ntx);
    if (!chain_hash_eq(&root, &h->tx_root))
        return *why = "tx_root", BASED_E_BAD_BLOCK;
    return check_signatures(l, b, why);
}

based_err chain_ledger_apply(chain_ledger *l, const chain_block *b,
                             const chain_commit_sig *commit, size_t ncommit,
                             char *err, size_t errlen)
{
    const char *why = "";
    chain_pending *p = NULL;
    based_err rc = check_header(l, b, &why);
    if (rc == BASED_E_OK && l->engine == CHAIN_ENGINE_DEV)
        rc = check_commit(l, b->h.height, &b->hash, commit, ncommit, &why);
    if (rc != BASED_E_OK) {
        snprintf(err, errlen, "block %" PRIu64 ": %s (%s)", b->h.height, based_strerror(rc), why);
        return rc;
    }
    chain_tx **ptrs = malloc((b->ntx ? b->ntx : 1) * sizeof *ptrs);
    if (!ptrs)
        return BASED_E_NOMEM;
    for (size_t i = 0; i < b->ntx; i++)
        ptrs[i] = &b->txs[i];
    chain_block_input in = { b->h.height, b->h.time_ms, b->h.proposer, ptrs, b->ntx,
                             b->ev, b->nev, false, true };
    rc = chain_ledger_execute(l, &in, &p, err, errlen);
    free(ptrs);
    if (rc == BASED_E_OK && !chain_hash_eq(&p->root, &b->h.state_root)) {
        snprintf(err, errlen, "block %" PRIu64 ": state root differs from the executed state",
                 b->h.height);
        rc = BASED_E_STATE_MISMATCH;
    }
    if (rc == BASED_E_OK)
        rc = commit_block(l, p, b, commit, ncommit, err, errlen);
    chain_pending_free(p);
    return rc;
}

/* ---------------- evidence ---------------- */

typedef struct {
    size_t from, max, seen, n;
    chain_evidence_record *out;
} ev_scan;

static int collect_evidence(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    ev_scan *s = user;
    if (kl != 11 || vl != CHAIN_EVIDENCE_LEN)
        return 0;
    if (s->seen++ < s->from)
        return 0;
    if (s->n >= s->max)
        return 1;
    s->out[s->n].block_height = chain_get_be64(k + 1);
    evidence_decode(v, &s->out[s->n].ev);
    s->n++;
    return 0;
}

based_err chain_ledger_evidence(chain_ledger *l, size_t from, chain_evidence_record *out,
                                size_t max, size_t *n)
{
    static const uint8_t pfx = CHAIN_T_EVIDENCE;
    ev_scan s = { from, max, 0, 0, out };
    chain_store_scan(l->st, &pfx, 1, collect_evidence, &s);
    *n = s.n;
    return BASED_E_OK;
}

/* ---------------- dry run ---------------- */

/* The view the next block starts from (start-of-block work applied). It
 * is rebuilt when the head changes, so an epoch block costs one epoch per
 * head, not one per submitted transaction. */
static based_err dry_base(chain_ledger *l, chain_exec *ex)
{
    if (l->dry_base && chain_hash_eq(&l->dry_head, &l->head.hash)) {
        ex->view = l->dry_base;
        return BASED_E_OK;
    }
    chain_view_free(l->dry_base);
    l->dry_base = chain_view_new(l->st, NULL);
    if (!l->dry_base)
        return BASED_E_NOMEM;
    ex->view = l->dry_base;
    based_err rc = chain_runtime_block_begin(l->xp.rt, ex);
    if (rc != BASED_E_OK) {
        chain_view_free(l->dry_base);
        l->dry_base = NULL;
        return rc;
    }
    l->dry_head = l->head.hash;
    return BASED_E_OK;
}

based_err chain_ledger_dry_run(chain_ledger *l, const chain_tx *tx, const char **why)
{
    chain_account acct;
    chain_addr nobody;
    uint64_t fee;
    memset(&nobody, 0, sizeof nobody);
    chain_exec ex = { NULL, NULL, &l->xp, l->head.height + 1, l->head.time_ms + 1, nobody, NULL,
                      &l->g };
    based_err rc = dry_base(l, &ex);
    if (rc != BASED_E_OK)
        return rc;
    /* each dry run writes into its own child, dropped afterwards */
    chain_view *v = chain_view_new(NULL, l->dry_base);
    if (!v)
        return BASED_E_NOMEM;
    ex.view = v;
    rc = chain_account_get(v, &tx->sender, &acct);
    if (rc == BASED_E_OK && acct.nonce == tx->nonce)
        rc = chain_exec_tx(&ex, tx, &fee, why);
    chain_view_free(v);
    return rc;
}

/* ---------------- check state ---------------- */

struct chain_checkstate {
    chain_ledger *l;
    chain_view *view;          /* child of l->dry_base */
    chain_exec ex;
};

chain_checkstate *chain_ledger_check_begin(chain_ledger *l)
{
    chain_addr nobody;
    memset(&nobody, 0, sizeof nobody);
    chain_checkstate *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->l = l;
    c->ex = (chain_exec){ NULL, NULL, &l->xp, l->head.height + 1, l->head.time_ms + 1, nobody,
                          NULL, &l->g };
    if (dry_base(l, &c->ex) != BASED_E_OK || !(c->view = chain_view_new(NULL, l->dry_base))) {
        free(c);
        return NULL;
    }
    c->ex.view = c->view;
    return c;
}

based_err chain_checkstate_tx(chain_checkstate *c, const chain_tx *tx, bool dry_run,
                              const char **why)
{
    uint64_t fee;
    based_err rc = chain_tx_check(c->l->xp.rt, tx, c->l->g.chain_id, why);
    if (rc != BASED_E_OK)
        return rc;
    chain_view *v = dry_run ? chain_view_new(NULL, c->view) : c->view;
    if (!v)
        return BASED_E_NOMEM;
    c->ex.view = v;
    rc = chain_exec_tx(&c->ex, tx, &fee, why);
    c->ex.view = c->view;
    if (dry_run)
        chain_view_free(v);
    return rc;
}

based_err chain_checkstate_account(chain_checkstate *c, const chain_addr *a, chain_account *out)
{
    return chain_account_get(c->view, a, out);
}

void chain_checkstate_free(chain_checkstate *c)
{
    if (!c)
        return;
    chain_view_free(c->view);
    free(c);
}

/* ---------------- audit and verify ---------------- */

static int sum_account(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    uint64_t *sum = user, bal;
    chain_rbuf r;
    if (kl != 33 || k[0] != CHAIN_T_ACCOUNT || vl != 16)
        return 1;
    chain_r_init(&r, v, vl);
    bal = chain_r_u64(&r);
    if (*sum > UINT64_MAX - bal)
        return 1;
    *sum += bal;
    return 0;
}

based_err chain_ledger_audit_modules(chain_ledger *l, uint64_t *held, char *err, size_t errlen)
{
    return chain_runtime_audit(l->xp.rt, l->st, &l->g, held, err, errlen);
}

based_err chain_ledger_audit(chain_ledger *l, uint64_t *held, uint64_t *expected)
{
    static const uint8_t pfx = CHAIN_T_ACCOUNT;
    chain_supply s;
    char err[256];
    uint64_t modules = 0;
    *held = 0;
    *expected = 0;
    chain_view *v = chain_ledger_view(l);
    based_err rc = v ? chain_supply_get(v, &s) : BASED_E_NOMEM;
    chain_view_free(v);
    if (rc != BASED_E_OK)
        return rc;
    if (chain_store_scan(l->st, &pfx, 1, sum_account, held) != 0)
        return BASED_E_DB;
    rc = chain_ledger_audit_modules(l, &modules, err, sizeof err);
    if (rc == BASED_E_OVERFLOW || *held > UINT64_MAX - modules)
        return BASED_E_OVERFLOW;
    *held += modules;
    *expected = s.genesis + s.minted - s.burned;
    if (rc != BASED_E_OK)
        return rc;
    return *held == *expected ? BASED_E_OK : BASED_E_STATE_MISMATCH;
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char sub[4096];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        unlink(sub);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

static int digest_entry(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    crypto_generichash_state *hs = user;
    uint8_t len[8];
    if (!CHAIN_KEY_IS_STATE(k))
        return 0;
    chain_put_be64(len, kl);
    crypto_generichash_update(hs, len, 8);
    crypto_generichash_update(hs, k, kl);
    chain_put_be64(len, vl);
    crypto_generichash_update(hs, len, 8);
    crypto_generichash_update(hs, v, vl);
    return 0;
}

/* Digest of every consensus-state entry of a database, in key order. */
static chain_hash state_digest(chain_ledger *l)
{
    static const uint8_t from = 'a';
    crypto_generichash_state hs;
    chain_hash out;
    crypto_generichash_init(&hs, NULL, 0, 32);
    chain_store_scan(l->st, &from, 0, digest_entry, &hs);
    crypto_generichash_final(&hs, out.b, 32);
    return out;
}

based_err chain_ledger_verify(const chain_runtime *rt, const char *dbpath, const char *tmppath,
                              void (*progress)(void *user, uint64_t height, uint64_t head),
                              void *user, char *err, size_t errlen)
{
    chain_ledger *live = NULL, *re = NULL;
    based_err rc = chain_ledger_open(rt, dbpath, NULL, &live, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    rm_tree(tmppath);
    rc = chain_ledger_open(rt, tmppath, &live->g, &re, err, errlen);
    if (rc == BASED_E_OK)
        rc = chain_ledger_set_engine(re, live->engine, err, errlen);
    uint64_t top = live->head.height;
    for (uint64_t h = 1; rc == BASED_E_OK && h <= top; h++) {
        chain_block b;
        chain_commit_sig cs[CHAIN_MAX_AUTHORITIES];
        size_t ncs = 0;
        rc = chain_ledger_block(live, h, &b);
        if (rc == BASED_E_OK)
            rc = chain_ledger_commit(live, h, cs, &ncs);
        if (rc != BASED_E_OK) {
            snprintf(err, errlen, "block %" PRIu64 " cannot be read from %s", h, dbpath);
            rc = BASED_E_DB;
        } else {
            rc = chain_ledger_apply(re, &b, cs, ncs, err, errlen);
        }
        chain_block_release(&b);
        if (progress)
            progress(user, h, top);
    }
    if (rc == BASED_E_OK && (!chain_hash_eq(&re->head.hash, &live->head.hash) ||
                             !chain_hash_eq(&re->head.state_root, &live->head.state_root))) {
        snprintf(err, errlen, "replayed head differs from the stored head");
        rc = BASED_E_STATE_MISMATCH;
    }
    if (rc == BASED_E_OK) {
        chain_hash a = state_digest(live), b2 = state_digest(re);
        if (!chain_hash_eq(&a, &b2)) {
            snprintf(err, errlen, "the stored state differs from the replayed state "
                     "(the database was modified outside the node)");
            rc = BASED_E_STATE_MISMATCH;
        }
    }
    uint64_t held, expected;
    if (rc == BASED_E_OK && chain_ledger_audit_modules(live, &held, err, errlen) != BASED_E_OK)
        rc = BASED_E_STATE_MISMATCH;
    if (rc == BASED_E_OK && chain_ledger_audit(live, &held, &expected) != BASED_E_OK) {
        snprintf(err, errlen, "total supply invariant fails: held %" PRIu64 ", expected %" PRIu64,
                 held, expected);
        rc = BASED_E_STATE_MISMATCH;
    }
    chain_ledger_free(re);
    chain_ledger_free(live);
    rm_tree(tmppath);
    return rc;
}
