/*
 * abci_app.c: the ABCI++ requests answered with the chain's state machine
 * (see abci_app.h).
 *
 * Executions are cached by their inputs (height, time, proposer, evidence
 * and tx hashes): the proposer executes its block once in PrepareProposal,
 * the others once in ProcessProposal, and FinalizeBlock reuses that
 * result. The cache is emptied at every Commit.
 */
#include <sodium.h>

#include "chain/crypto.h"
#include "node/abci_app.h"
#include "node/log.h"

#define CACHE_SLOTS 8

typedef struct {
    chain_hash key;
    chain_pending *p;
} cache_slot;

struct node_abci_app {
    chain_ledger *l;
    uint8_t (*auth_addr)[20];         /* SHA-256(key)[0..20] of each authority */
    size_t nauth;
    chain_checkstate *check;
    json_t *admitted;                 /* hex hash -> true, for the check state */
    cache_slot cache[CACHE_SLOTS];
    size_t cache_next;
    chain_pending *finalized;         /* waiting for Commit */
    chain_hash *fin_hashes;           /* the txs it includes */
    size_t nfin;
    /* after a Commit, CometBFT rechecks the txs left in its mempool on the
     * fresh check state; until it has, tx_send cannot see them */
    bool rechecking;
    size_t recheck_left;
    uint64_t blocks, rejected_props, rejected_txs;
};

/* ---------------- small helpers ---------------- */

static void cache_clear(node_abci_app *app)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        chain_pending_free(app->cache[i].p);
        app->cache[i].p = NULL;
    }
}

static chain_pending *cache_take(node_abci_app *app, const chain_hash *key)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (app->cache[i].p && chain_hash_eq(&app->cache[i].key, key)) {
            chain_pending *p = app->cache[i].p;
            app->cache[i].p = NULL;
            return p;
        }
    return NULL;
}

static void cache_put(node_abci_app *app, const chain_hash *key, chain_pending *p)
{
    cache_slot *s = &app->cache[app->cache_next++ % CACHE_SLOTS];
    chain_pending_free(s->p);
    s->key = *key;
    s->p = p;
}

static void reset_check(node_abci_app *app)
{
    chain_checkstate_free(app->check);
    app->check = chain_ledger_check_begin(app->l);
    json_object_clear(app->admitted);
    if (!app->check)
        node_log(NODE_LOG_ERROR, "abci: cannot build the check state (out of memory)");
}

/* Ordered txs of a request: decoded, with their index in the request. */
typedef struct {
    chain_tx *txs;
    size_t *idx;
    chain_tx **ptrs;
    size_t n;
} txlist;

static void txlist_free(txlist *t)
{
    for (size_t i = 0; t->txs && i < t->n; i++)
        chain_tx_release(&t->txs[i]);
    free(t->txs);
    free(t->idx);
    free(t->ptrs);
    memset(t, 0, sizeof *t);
}

/* Decodes the request's txs. strict: any undecodable tx fails (returns its
 * index + 1 in *bad); otherwise undecodable ones are left out. */
static based_err txlist_decode(const ProtobufCBinaryData *raw, size_t n, bool strict, txlist *t,
                               size_t *bad, const char **why)
{
    memset(t, 0, sizeof *t);
    *bad = 0;
    t->txs = calloc(n ? n : 1, sizeof *t->txs);
    t->idx = calloc(n ? n : 1, sizeof *t->idx);
    t->ptrs = calloc(n ? n : 1, sizeof *t->ptrs);
    if (!t->txs || !t->idx || !t->ptrs) {
        txlist_free(t);
        return BASED_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *w = "";
        based_err rc = raw[i].len > CHAIN_TX_MAX ? BASED_E_TX_TOO_LARGE
                                                 : chain_tx_decode(raw[i].data, raw[i].len,
                                                                   &t->txs[t->n], &w);
        if (rc != BASED_E_OK) {
            if (strict) {
                *bad = i + 1;
                *why = w;
                txlist_free(t);
                return rc;
            }
            continue;
        }
        t->idx[t->n] = i;
        t->ptrs[t->n] = &t->txs[t->n];
        t->n++;
    }
    return BASED_E_OK;
}

/* Milliseconds of a Timestamp; 0 outside google.protobuf.Timestamp's range
 * (years 1..9999), so the sum cannot wrap. */
static uint64_t ts_ms(const Abci__Timestamp *ts)
{
    if (!ts || ts->seconds < 0 || ts->seconds > 253402300799ll)
        return 0;
    return (uint64_t)ts->seconds * 1000u + (uint64_t)(ts->nanos > 0 ? ts->nanos : 0) / 1000000u;
}

/* The block time: CometBFT's, raised past the head's (block 1 carries the
 * genesis time, which may equal ours). */
static uint64_t block_time(node_abci_app *app, const Abci__Timestamp *ts)
{
    uint64_t t = ts_ms(ts), head = chain_ledger_head(app->l).time_ms;
    return t <= head ? head + 1 : t;
}

static int proposer_of(node_abci_app *app, const ProtobufCBinaryData *addr, chain_edpub *out)
{
    if (addr->len != 20)
        return -1;
    for (size_t i = 0; i < app->nauth; i++)
        if (memcmp(app->auth_addr[i], addr->data, 20) == 0) {
            *out = chain_ledger_genesis(app->l)->auth[i].key;
            return (int)i;
        }
    return -1;
}

static size_t evidence_of(Abci__Misbehavior *const *mb, size_t n, chain_evidence *ev)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < CHAIN_MAX_EVIDENCE; i++) {
        const Abci__Misbehavior *m = mb[i];
        if (!m || !m->validator || m->validator->address.len != 20 ||
            (m->type != ABCI__MISBEHAVIOR_TYPE__DUPLICATE_VOTE &&
             m->type != ABCI__MISBEHAVIOR_TYPE__LIGHT_CLIENT_ATTACK))
            continue;
        chain_evidence *e = &ev[k++];
        memset(e, 0, sizeof *e);
        e->type = m->type == ABCI__MISBEHAVIOR_TYPE__DUPLICATE_VOTE
                      ? CHAIN_EVIDENCE_DUPLICATE_VOTE : CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK;
        memcpy(e->address, m->validator->address.data, 20);
        e->height = m->height > 0 ? (uint64_t)m->height : 0;
        e->time_ms = ts_ms(m->time);
        e->power = m->validator->power > 0 ? (uint64_t)m->validator->power : 0;
        e->total_power = m->total_voting_power > 0 ? (uint64_t)m->total_voting_power : 0;
    }
    return k;
}

/* The cache key of an execution's inputs. */
static chain_hash input_key(const chain_block_input *in)
{
    crypto_generichash_state hs;
    uint8_t b[8];
    chain_hash out;
    crypto_generichash_init(&hs, NULL, 0, 32);
    chain_put_be64(b, in->height);
    crypto_generichash_update(&hs, b, 8);
    chain_put_be64(b, in->time_ms);
    crypto_generichash_update(&hs, b, 8);
    crypto_generichash_update(&hs, in->proposer.b, 32);
    chain_put_be64(b, in->nev);
    crypto_generichash_update(&hs, b, 8);
    for (size_t i = 0; i < in->nev; i++) {
        const chain_evidence *e = &in->ev[i];
        crypto_generichash_update(&hs, &e->type, 1);
        crypto_generichash_update(&hs, e->address, 20);
        chain_put_be64(b, e->height);
        crypto_generichash_update(&hs, b, 8);
        chain_put_be64(b, e->time_ms);
        crypto_generichash_update(&hs, b, 8);
        chain_put_be64(b, e->power);
        crypto_generichash_update(&hs, b, 8);
        chain_put_be64(b, e->total_power);
        crypto_generichash_update(&hs, b, 8);
    }
    chain_put_be64(b, in->ntx);
    crypto_generichash_update(&hs, b, 8);
    for (size_t i = 0; i < in->ntx; i++)
        crypto_generichash_update(&hs, in->txs[i]->hash.b, 32);
    crypto_generichash_final(&hs, out.b, 32);
    return out;
}

static void hash_hex(const chain_hash *h, char out[65])
{
    chain_hex(h->b, 32, out);
}

/* ---------------- the requests ---------------- */

static int on_info(node_abci_app *app, Abci__Response *resp, abci_arena *a)
{
    chain_head h = chain_ledger_head(app->l);
    Abci__ResponseInfo *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_info__init(r);
    r->data = abci_strdup(a, "based");
    r->version = abci_strdup(a, BASED_VERSION);
    r->app_version = 1;
    r->last_block_height = (int64_t)h.height;
    r->last_block_app_hash.data = abci_dup(a, h.state_root.b, 32);
    r->last_block_app_hash.len = 32;
    resp->value_case = ABCI__RESPONSE__VALUE_INFO;
    resp->info = r;
    node_log(NODE_LOG_INFO, "abci: Info: height %" PRIu64, h.height);
    return 0;
}

static int on_init_chain(node_abci_app *app, const Abci__RequestInitChain *q,
                         Abci__Response *resp, abci_arena *a, char *err, size_t errlen)
{
    const chain_genesis *g = chain_ledger_genesis(app->l);
    chain_head h = chain_ledger_head(app->l);
    if (!q->chain_id || strcmp(q->chain_id, g->chain_id) != 0) {
        snprintf(err, errlen, "InitChain: CometBFT's chain id \"%s\" is not genesis.json's \"%s\"",
                 q->chain_id ? q->chain_id : "", g->chain_id);
        return -1;
    }
    if (q->initial_height > 1) {
        snprintf(err, errlen, "InitChain: initial_height %" PRId64 " is not supported (use 1)",
                 q->initial_height);
        return -1;
    }
    if (q->n_validators != g->nauth) {
        snprintf(err, errlen, "InitChain: CometBFT's genesis lists %zu validators, genesis.json "
                 "%zu authorities", q->n_validators, g->nauth);
        return -1;
    }
    bool used[CHAIN_MAX_AUTHORITIES] = { false };   /* each authority once */
    for (size_t i = 0; i < q->n_validators; i++) {
        const Abci__ValidatorUpdate *v = q->validators[i];
        bool found = false;
        for (size_t j = 0; v && v->pub_key && !found && j < g->nauth; j++) {
            found = !used[j] && v->pub_key->sum_case == ABCI__PUBLIC_KEY__SUM_ED25519 &&
                    v->pub_key->ed25519.len == 32 &&
                    memcmp(v->pub_key->ed25519.data, g->auth[j].key.b, 32) == 0 &&
                    v->power == (int64_t)g->auth[j].power;
            used[j] = used[j] || found;
        }
        if (!found) {
            snprintf(err, errlen, "InitChain: CometBFT's validator %zu (key and power) is not an "
                     "authority of genesis.json (or is listed twice)", i);
            return -1;
        }
    }
    Abci__ResponseInitChain *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_init_chain__init(r);
    r->app_hash.data = abci_dup(a, h.state_root.b, 32);
    r->app_hash.len = 32;
    resp->value_case = ABCI__RESPONSE__VALUE_INIT_CHAIN;
    resp->init_chain = r;
    node_log(NODE_LOG_INFO, "abci: InitChain: chain %s, %zu validators", g->chain_id, g->nauth);
    return 0;
}

static int on_check_tx(node_abci_app *app, const Abci__RequestCheckTx *q, Abci__Response *resp,
                       abci_arena *a)
{
    Abci__ResponseCheckTx *r = abci_alloc(a, sizeof *r);
    chain_tx tx;
    const char *why = "";
    char log[256];
    if (!r)
        return -1;
    abci__response_check_tx__init(r);
    memset(&tx, 0, sizeof tx);
    if (q->type == ABCI__CHECK_TX_TYPE__RECHECK) {
        if (app->recheck_left && --app->recheck_left == 0)
            app->rechecking = false;
    } else {
        app->rechecking = false;
        app->recheck_left = 0;
    }
    based_err rc = q->tx.len > CHAIN_TX_MAX ? BASED_E_TX_TOO_LARGE
                                            : chain_tx_decode(q->tx.data, q->tx.len, &tx, &why);
    if (rc == BASED_E_OK)
        rc = app->check ? chain_checkstate_tx(app->check, &tx, false, &why) : BASED_E_NOMEM;
    if (rc == BASED_E_OK) {
        char hx[65];
        hash_hex(&tx.hash, hx);
        json_object_set_new(app->admitted, hx, json_true());
    } else {
        app->rejected_txs++;
        snprintf(log, sizeof log, "%s (%s)", based_strerror(rc), why);
        r->code = (uint32_t)rc;
        r->log = abci_strdup(a, log);
        r->info = abci_strdup(a, based_errname(rc));
        r->codespace = abci_strdup(a, "based");
    }
    r->gas_wanted = 1;
    chain_tx_release(&tx);
    resp->value_case = ABCI__RESPONSE__VALUE_CHECK_TX;
    resp->check_tx = r;
    return 0;
}

/* proto size of a tx inside the txs field: tag, length varint, bytes */
static size_t tx_proto_size(size_t n)
{
    size_t v = 1;
    for (size_t x = n; x >= 0x80; x >>= 7)
        v++;
    return 1 + v + n;
}

static int by_sender_nonce(const void *pa, const void *pb)
{
    const chain_tx *a = *(chain_tx *const *)pa, *b = *(chain_tx *const *)pb;
    int c = memcmp(a->sender.b, b->sender.b, 32);
    if (c)
        return c;
    if (a->nonce != b->nonce)
        return a->nonce < b->nonce ? -1 : 1;
    /* stable: by position in the request (the array is in request order) */
    return a < b ? -1 : a > b;
}

static int on_prepare(node_abci_app *app, const Abci__RequestPrepareProposal *q,
                      Abci__Response *resp, abci_arena *a, char *err, size_t errlen)
{
    txlist t;
    size_t bad;
    const char *why = "";
    chain_evidence ev[CHAIN_MAX_EVIDENCE];
    Abci__ResponsePrepareProposal *r = abci_alloc(a, sizeof *r);
    if (!r || txlist_decode(q->txs, q->n_txs, false, &t, &bad, &why) != BASED_E_OK)
        return snprintf(err, errlen, "PrepareProposal: out of memory"), -1;
    abci__response_prepare_proposal__init(r);
    qsort(t.ptrs, t.n, sizeof *t.ptrs, by_sender_nonce);
    /* the byte budget, then execution drops what fails */
    size_t keep = 0, bytes = 0;
    uint64_t cap = q->max_tx_bytes > 0 ? (uint64_t)q->max_tx_bytes : 0;
    while (keep < t.n && bytes + tx_proto_size(t.ptrs[keep]->raw_len) <= cap)
        bytes += tx_proto_size(t.ptrs[keep++]->raw_len);
    chain_block_input in;
    memset(&in, 0, sizeof in);
    in.height = (uint64_t)(q->height > 0 ? q->height : 0);
    in.time_ms = block_time(app, q->time);
    if (proposer_of(app, &q->proposer_address, &in.proposer) < 0) {
        txlist_free(&t);
        return snprintf(err, errlen, "PrepareProposal: the proposer is not a genesis authority"), -1;
    }
    in.nev = evidence_of(q->misbehavior, q->n_misbehavior, ev);
    in.ev = ev;
    in.txs = t.ptrs;
    in.ntx = keep;
    in.skip_failing = true;
    in.verify_sigs = true;     /* a badly signed tx would make the others reject the block */
    chain_pending *p = NULL;
    if (chain_ledger_execute(app->l, &in, &p, err, errlen) != BASED_E_OK) {
        txlist_free(&t);
        return -1;
    }
    size_t ninc = chain_pending_included(p);
    r->txs = abci_alloc(a, (ninc ? ninc : 1) * sizeof *r->txs);
    chain_tx **inc = abci_alloc(a, (ninc ? ninc : 1) * sizeof *inc);
    if (!r->txs || !inc) {
        chain_pending_free(p);
        txlist_free(&t);
        return snprintf(err, errlen, "PrepareProposal: out of memory"), -1;
    }
    for (size_t i = 0; i < keep; i++) {
        if (chain_pending_result(p, i, NULL) != BASED_E_OK)
            continue;
        inc[r->n_txs] = t.ptrs[i];
        r->txs[r->n_txs++] = q->txs[t.idx[t.ptrs[i] - t.txs]];
    }
    /* the included list is what Process/FinalizeBlock will see; the
     * execution is theirs only when it lists exactly those txs (its
     * per-tx results are by position) */
    in.txs = inc;
    in.ntx = r->n_txs;
    chain_hash key = input_key(&in);
    if (keep == r->n_txs)
        cache_put(app, &key, p);
    else
        chain_pending_free(p);
    if (keep != r->n_txs)
        node_log(NODE_LOG_INFO, "abci: PrepareProposal %" PRIu64 ": %zu of %zu txs left out",
                 in.height, keep - r->n_txs, keep);
    txlist_free(&t);
    resp->value_case = ABCI__RESPONSE__VALUE_PREPARE_PROPOSAL;
    resp->prepare_proposal = r;
    return 0;
}

/* Executes (or finds) the block of Process/FinalizeBlock. strict: every tx
 * must pass. Returns the pending block (the cache's, removed from it), or
 * NULL with err set; *rejected says the block broke our rules. */
static chain_pending *execute_for(node_abci_app *app, const ProtobufCBinaryData *raw, size_t n,
                                  Abci__Misbehavior *const *mb, size_t nmb, int64_t height,
                                  const Abci__Timestamp *ts, const ProtobufCBinaryData *proposer,
                                  bool strict, txlist *t, bool *rejected, char *err, size_t errlen)
{
    size_t bad;
    const char *why = "";
    chain_evidence ev[CHAIN_MAX_EVIDENCE];
    chain_block_input in;
    *rejected = false;
    memset(&in, 0, sizeof in);
    based_err rc = txlist_decode(raw, n, strict, t, &bad, &why);
    if (rc != BASED_E_OK) {
        *rejected = rc != BASED_E_NOMEM;
        snprintf(err, errlen, "tx %zu does not decode: %s (%s)", bad ? bad - 1 : 0,
                 based_strerror(rc), why);
        return NULL;
    }
    in.height = (uint64_t)(height > 0 ? height : 0);
    in.time_ms = block_time(app, ts);
    if (proposer_of(app, proposer, &in.proposer) < 0) {
        *rejected = true;
        snprintf(err, errlen, "the proposer is not a genesis authority");
        return NULL;
    }
    in.nev = evidence_of(mb, nmb, ev);
    in.ev = ev;
    in.txs = t->ptrs;
    in.ntx = t->n;
    chain_hash key = input_key(&in);
    chain_pending *p = cache_take(app, &key);
    if (p)
        return p;
    in.skip_failing = !strict;
    in.verify_sigs = true;
    rc = chain_ledger_execute(app->l, &in, &p, err, errlen);
    if (rc != BASED_E_OK) {
        *rejected = rc == BASED_E_BAD_BLOCK;
        return NULL;
    }
    return p;
}

static int on_process(node_abci_app *app, const Abci__RequestProcessProposal *q,
                      Abci__Response *resp, abci_arena *a, char *err, size_t errlen)
{
    txlist t;
    bool rejected;
    char why[512];
    Abci__ResponseProcessProposal *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_process_proposal__init(r);
    chain_pending *p = execute_for(app, q->txs, q->n_txs, q->misbehavior, q->n_misbehavior,
                                   q->height, q->time, &q->proposer_address, true, &t, &rejected,
                                   why, sizeof why);
    if (!p && !rejected) {
        txlist_free(&t);
        snprintf(err, errlen, "ProcessProposal: %s", why);
        return -1;
    }
    if (p) {
        chain_block_input in;
        chain_evidence ev[CHAIN_MAX_EVIDENCE];
        memset(&in, 0, sizeof in);
        in.height = chain_pending_height(p);
        in.time_ms = block_time(app, q->time);
        proposer_of(app, &q->proposer_address, &in.proposer);
        in.nev = evidence_of(q->misbehavior, q->n_misbehavior, ev);
        in.ev = ev;
        in.txs = t.ptrs;
        in.ntx = t.n;
        chain_hash key = input_key(&in);
        cache_put(app, &key, p);
        r->status = ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__ACCEPT;
    } else {
        app->rejected_props++;
        node_log(NODE_LOG_WARN, "abci: ProcessProposal %" PRId64 " rejected: %s", q->height, why);
        r->status = ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__REJECT;
    }
    txlist_free(&t);
    resp->value_case = ABCI__RESPONSE__VALUE_PROCESS_PROPOSAL;
    resp->process_proposal = r;
    return 0;
}

static int on_finalize(node_abci_app *app, const Abci__RequestFinalizeBlock *q,
                       Abci__Response *resp, abci_arena *a, char *err, size_t errlen)
{
    txlist t;
    bool rejected;
    char why[512];
    Abci__ResponseFinalizeBlock *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_finalize_block__init(r);
    if (app->finalized) {
        node_log(NODE_LOG_WARN, "abci: FinalizeBlock without Commit of the previous one");
        chain_pending_free(app->finalized);
        app->finalized = NULL;
    }
    chain_pending *p = execute_for(app, q->txs, q->n_txs, q->misbehavior, q->n_misbehavior,
                                   q->height, q->time, &q->proposer_address, false, &t,
                                   &rejected, why, sizeof why);
    if (!p) {
        txlist_free(&t);
        snprintf(err, errlen, "FinalizeBlock %" PRId64 ": %s", q->height, why);
        return -1;
    }
    r->tx_results = abci_alloc(a, (q->n_txs ? q->n_txs : 1) * sizeof *r->tx_results);
    if (!r->tx_results) {
        chain_pending_free(p);
        txlist_free(&t);
        return -1;
    }
    r->n_tx_results = q->n_txs;
    for (size_t i = 0; i < q->n_txs; i++) {
        Abci__ExecTxResult *x = abci_alloc(a, sizeof *x);
        if (!x) {
            chain_pending_free(p);
            txlist_free(&t);
            return -1;
        }
        abci__exec_tx_result__init(x);
        r->tx_results[i] = x;
        x->code = (uint32_t)BASED_E_DECODE;     /* until found among the decoded */
        x->log = abci_strdup(a, "transaction does not decode");
        x->codespace = abci_strdup(a, "based");
    }
    for (size_t k = 0; k < t.n; k++) {
        const char *w = "";
        based_err rc = chain_pending_result(p, k, &w);
        Abci__ExecTxResult *x = r->tx_results[t.idx[k]];
        x->code = (uint32_t)rc;
        if (rc == BASED_E_OK) {
            x->log = abci_strdup(a, "");
            x->codespace = abci_strdup(a, "");
        } else {
            char log[256];
            snprintf(log, sizeof log, "%s (%s)", based_strerror(rc), w);
            x->log = abci_strdup(a, log);
        }
    }
    free(app->fin_hashes);
    app->nfin = 0;
    app->fin_hashes = malloc((t.n ? t.n : 1) * sizeof *app->fin_hashes);
    for (size_t k = 0; app->fin_hashes && k < t.n; k++)
        if (chain_pending_result(p, k, NULL) == BASED_E_OK)
            app->fin_hashes[app->nfin++] = t.txs[k].hash;
    chain_hash root = chain_pending_root(p);
    r->app_hash.data = abci_dup(a, root.b, 32);
    r->app_hash.len = 32;
    app->finalized = p;
    txlist_free(&t);
    resp->value_case = ABCI__RESPONSE__VALUE_FINALIZE_BLOCK;
    resp->finalize_block = r;
    return 0;
}

static int on_commit(node_abci_app *app, Abci__Response *resp, abci_arena *a, char *err,
                     size_t errlen)
{
    Abci__ResponseCommit *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_commit__init(r);
    if (!app->finalized) {
        snprintf(err, errlen, "Commit without FinalizeBlock");
        return -1;
    }
    char e2[512];
    based_err rc = chain_ledger_commit_pending(app->l, app->finalized, NULL, e2, sizeof e2);
    size_t ninc = chain_pending_included(app->finalized);
    chain_pending_free(app->finalized);
    app->finalized = NULL;
    cache_clear(app);
    if (rc != BASED_E_OK) {
        snprintf(err, errlen, "Commit: %s", e2);
        return -1;
    }
    app->blocks++;
    for (size_t k = 0; app->fin_hashes && k < app->nfin; k++) {
        char hx[65];
        hash_hex(&app->fin_hashes[k], hx);
        json_object_del(app->admitted, hx);
    }
    app->recheck_left = json_object_size(app->admitted);
    app->rechecking = app->recheck_left > 0;
    reset_check(app);
    chain_head h = chain_ledger_head(app->l);
    char hx[65];
    hash_hex(&h.state_root, hx);
    node_log(ninc ? NODE_LOG_INFO : NODE_LOG_DEBUG, "block %" PRIu64 " txs=%zu app_hash=%.16s",
             h.height, ninc, hx);
    resp->value_case = ABCI__RESPONSE__VALUE_COMMIT;
    resp->commit = r;
    return 0;
}

static int on_query(node_abci_app *app, const Abci__RequestQuery *q, Abci__Response *resp,
                    abci_arena *a)
{
    Abci__ResponseQuery *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_query__init(r);
    r->height = (int64_t)chain_ledger_head(app->l).height;
    char addr[128];
    chain_addr ad;
    chain_account acct;
    const char *why = "path";
    based_err rc = BASED_E_NOT_FOUND;
    if (q->path && strcmp(q->path, "/account") == 0) {
        why = "data is not an address";
        rc = BASED_E_BAD_ADDRESS;
    }
    if (rc == BASED_E_BAD_ADDRESS && q->data.len > 0 && q->data.len < sizeof addr &&
        !memchr(q->data.data, 0, q->data.len)) {
        memcpy(addr, q->data.data, q->data.len);
        addr[q->data.len] = '\0';
        rc = chain_addr_parse(addr, chain_ledger_genesis(app->l)->ss58_prefix, &ad, &why);
        chain_view *v = rc == BASED_E_OK ? chain_ledger_view(app->l) : NULL;
        if (rc == BASED_E_OK)
            rc = v ? chain_account_get(v, &ad, &acct) : BASED_E_NOMEM;
        chain_view_free(v);
    }
    if (rc == BASED_E_OK) {
        char buf[128];
        int n = snprintf(buf, sizeof buf, "{\"balance_base\":\"%" PRIu64 "\",\"nonce\":%" PRIu64 "}",
                         acct.balance, acct.nonce);
        r->value.data = abci_dup(a, buf, (size_t)n);
        r->value.len = (size_t)n;
    } else {
        char log[160];
        snprintf(log, sizeof log, "%s (%s); paths: /account with an address as data",
                 based_strerror(rc), why);
        r->code = (uint32_t)rc;
        r->log = abci_strdup(a, log);
        r->codespace = abci_strdup(a, "based");
    }
    resp->value_case = ABCI__RESPONSE__VALUE_QUERY;
    resp->query = r;
    return 0;
}

/* State sync is not offered: no snapshots, every offer refused. */
static int on_snapshot_calls(const Abci__Request *req, Abci__Response *resp, abci_arena *a)
{
    switch (req->value_case) {
    case ABCI__REQUEST__VALUE_LIST_SNAPSHOTS: {
        Abci__ResponseListSnapshots *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_list_snapshots__init(r);
        resp->value_case = ABCI__RESPONSE__VALUE_LIST_SNAPSHOTS;
        resp->list_snapshots = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_OFFER_SNAPSHOT: {
        Abci__ResponseOfferSnapshot *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_offer_snapshot__init(r);
        r->result = ABCI__RESPONSE_OFFER_SNAPSHOT__RESULT__REJECT;
        resp->value_case = ABCI__RESPONSE__VALUE_OFFER_SNAPSHOT;
        resp->offer_snapshot = r;
        return 0;
    }
    case ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK: {
        Abci__ResponseLoadSnapshotChunk *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_load_snapshot_chunk__init(r);
        resp->value_case = ABCI__RESPONSE__VALUE_LOAD_SNAPSHOT_CHUNK;
        resp->load_snapshot_chunk = r;
        return 0;
    }
    default: {
        Abci__ResponseApplySnapshotChunk *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_apply_snapshot_chunk__init(r);
        r->result = ABCI__RESPONSE_APPLY_SNAPSHOT_CHUNK__RESULT__ABORT;
        resp->value_case = ABCI__RESPONSE__VALUE_APPLY_SNAPSHOT_CHUNK;
        resp->apply_snapshot_chunk = r;
        return 0;
    }
    }
}

/* Vote extensions are not used: empty, and every one accepted. */
static int on_vote_ext(const Abci__Request *req, Abci__Response *resp, abci_arena *a)
{
    if (req->value_case == ABCI__REQUEST__VALUE_EXTEND_VOTE) {
        Abci__ResponseExtendVote *r = abci_alloc(a, sizeof *r);
        if (!r)
            return -1;
        abci__response_extend_vote__init(r);
        resp->value_case = ABCI__RESPONSE__VALUE_EXTEND_VOTE;
        resp->extend_vote = r;
        return 0;
    }
    Abci__ResponseVerifyVoteExtension *r = abci_alloc(a, sizeof *r);
    if (!r)
        return -1;
    abci__response_verify_vote_extension__init(r);
    r->status = ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__ACCEPT;
    resp->value_case = ABCI__RESPONSE__VALUE_VERIFY_VOTE_EXTENSION;
    resp->verify_vote_extension = r;
    return 0;
}

int node_abci_app_handle(void *user, const Abci__Request *req, Abci__Response *resp,
                         abci_arena *a, char *err, size_t errlen)
{
    node_abci_app *app = user;
    int rc;
    switch (req->value_case) {
    case ABCI__REQUEST__VALUE_INFO:
        rc = on_info(app, resp, a);
        break;
    case ABCI__REQUEST__VALUE_INIT_CHAIN:
        rc = on_init_chain(app, req->init_chain, resp, a, err, errlen);
        break;
    case ABCI__REQUEST__VALUE_CHECK_TX:
        rc = on_check_tx(app, req->check_tx, resp, a);
        break;
    case ABCI__REQUEST__VALUE_PREPARE_PROPOSAL:
        rc = on_prepare(app, req->prepare_proposal, resp, a, err, errlen);
        break;
    case ABCI__REQUEST__VALUE_PROCESS_PROPOSAL:
        rc = on_process(app, req->process_proposal, resp, a, err, errlen);
        break;
    case ABCI__REQUEST__VALUE_FINALIZE_BLOCK:
        rc = on_finalize(app, req->finalize_block, resp, a, err, errlen);
        break;
    case ABCI__REQUEST__VALUE_COMMIT:
        rc = on_commit(app, resp, a, err, errlen);
        break;
    case ABCI__REQUEST__VALUE_QUERY:
        rc = on_query(app, req->query, resp, a);
        break;
    case ABCI__REQUEST__VALUE_LIST_SNAPSHOTS:
    case ABCI__REQUEST__VALUE_OFFER_SNAPSHOT:
    case ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK:
    case ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK:
        rc = on_snapshot_calls(req, resp, a);
        break;
    case ABCI__REQUEST__VALUE_EXTEND_VOTE:
    case ABCI__REQUEST__VALUE_VERIFY_VOTE_EXTENSION:
        rc = on_vote_ext(req, resp, a);
        break;
    default:
        snprintf(err, errlen, "unexpected request (oneof case %d)", (int)req->value_case);
        return -1;
    }
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "out of memory");
    if (rc != 0)
        node_log(NODE_LOG_ERROR, "abci: %s", err);
    return rc;
}

/* ---------------- the node's side ---------------- */

based_err node_abci_app_new(chain_ledger *l, node_abci_app **out, char *err, size_t errlen)
{
    *out = NULL;
    based_err rc = chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    const chain_genesis *g = chain_ledger_genesis(l);
    node_abci_app *app = calloc(1, sizeof *app);
    if (!app)
        return BASED_E_NOMEM;
    app->l = l;
    app->nauth = g->nauth;
    app->auth_addr = calloc(g->nauth ? g->nauth : 1, sizeof *app->auth_addr);
    app->admitted = json_object();
    if (!app->auth_addr || !app->admitted) {
        node_abci_app_free(app);
        return BASED_E_NOMEM;
    }
    for (size_t i = 0; i < g->nauth; i++) {
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, g->auth[i].key.b, 32);
        memcpy(app->auth_addr[i], h, 20);
    }
    reset_check(app);
    if (!app->check) {
        node_abci_app_free(app);
        return BASED_E_NOMEM;
    }
    *out = app;
    return BASED_E_OK;
}

void node_abci_app_free(node_abci_app *app)
{
    if (!app)
        return;
    cache_clear(app);
    chain_pending_free(app->finalized);
    chain_checkstate_free(app->check);
    json_decref(app->admitted);
    free(app->fin_hashes);
    free(app->auth_addr);
    free(app);
}

based_err node_abci_app_precheck(node_abci_app *app, const chain_tx *tx, const char **why)
{
    if (!app->check)
        return BASED_E_NOMEM;
    return chain_checkstate_tx(app->check, tx, true, why);
}

uint64_t node_abci_app_nonce(node_abci_app *app, const chain_addr *a)
{
    chain_account acct;
    if (!app->check || chain_checkstate_account(app->check, a, &acct) != BASED_E_OK)
        return 0;
    return acct.nonce;
}

bool node_abci_app_admitted(node_abci_app *app, const chain_hash *h)
{
    char hx[65];
    hash_hex(h, hx);
    return json_object_get(app->admitted, hx) != NULL;
}

bool node_abci_app_rechecking(const node_abci_app *app)
{
    return app->rechecking;
}

void node_abci_app_counters(const node_abci_app *app, uint64_t *blocks, uint64_t *rejected_props,
                            uint64_t *rejected_txs)
{
    *blocks = app->blocks;
    *rejected_props = app->rejected_props;
    *rejected_txs = app->rejected_txs;
}
