/*
 * block.c: header and block encoding, strict decoding, Merkle root of the
 * transactions (see block.h).
 */
#include "chain/block.h"

void chain_header_encode(const chain_header *h, chain_wbuf *w)
{
    chain_w_bytes(w, h->chain_id, strlen(h->chain_id));
    chain_w_u64(w, h->height);
    chain_w_u64(w, h->time_ms);
    chain_w_raw(w, h->prev_hash.b, 32);
    chain_w_raw(w, h->tx_root.b, 32);
    chain_w_raw(w, h->state_root.b, 32);
    chain_w_raw(w, h->proposer.b, 32);
    chain_w_uleb(w, h->ncommit);
    for (size_t i = 0; i < h->ncommit; i++) {
        chain_w_u16(w, h->commit[i].index);
        chain_w_raw(w, h->commit[i].sig.b, 64);
    }
}

chain_hash chain_header_hash(const chain_header *h)
{
    chain_wbuf w;
    chain_w_init(&w, 16384);
    chain_header_encode(h, &w);
    chain_hash out = chain_hash_bytes(w.p, w.len);
    chain_w_free(&w);
    return out;
}

chain_hash chain_commit_msg(const char *chain_id, uint64_t height, const chain_hash *block_hash)
{
    chain_wbuf w;
    chain_w_init(&w, 256);
    chain_w_raw(&w, "based/commit", 12);
    chain_w_bytes(&w, chain_id, strlen(chain_id));
    chain_w_u64(&w, height);
    chain_w_raw(&w, block_hash->b, 32);
    chain_hash out = chain_hash_bytes(w.p, w.len);
    chain_w_free(&w);
    return out;
}

void chain_block_encode(const chain_block *b, chain_wbuf *w)
{
    chain_header_encode(&b->h, w);
    chain_w_uleb(w, b->ntx);
    for (size_t i = 0; i < b->ntx; i++)
        chain_w_bytes(w, b->txs[i].raw, b->txs[i].raw_len);
    chain_w_raw(w, b->proposer_sig.b, 64);
    chain_w_uleb(w, b->nev);
    for (size_t i = 0; i < b->nev; i++) {
        const chain_evidence *e = &b->ev[i];
        chain_w_u8(w, e->type);
        chain_w_raw(w, e->address, 20);
        chain_w_u64(w, e->height);
        chain_w_u64(w, e->time_ms);
        chain_w_u64(w, e->power);
        chain_w_u64(w, e->total_power);
    }
}

static void decode_evidence(chain_rbuf *r, chain_block *b)
{
    uint64_t nev = chain_r_uleb(r);
    if (!r->err && nev > CHAIN_MAX_EVIDENCE)
        chain_r_fail(r, "too much evidence");
    for (size_t i = 0; !r->err && i < nev; i++) {
        chain_evidence *e = &b->ev[i];
        e->type = chain_r_u8(r);
        chain_r_raw(r, e->address, 20);
        e->height = chain_r_u64(r);
        e->time_ms = chain_r_u64(r);
        e->power = chain_r_u64(r);
        e->total_power = chain_r_u64(r);
        if (!r->err && e->type != CHAIN_EVIDENCE_DUPLICATE_VOTE &&
            e->type != CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK)
            chain_r_fail(r, "unknown evidence type");
        if (!r->err)
            b->nev = i + 1;
    }
}

static void decode_header(chain_rbuf *r, chain_header *h)
{
    size_t idlen = 0;
    const uint8_t *id = chain_r_bytes(r, &idlen, CHAIN_CHAIN_ID_MAX);
    if (!r->err && idlen == 0)
        chain_r_fail(r, "empty chain_id");
    if (id)
        memcpy(h->chain_id, id, idlen);
    h->chain_id[idlen] = '\0';
    if (!r->err && strlen(h->chain_id) != idlen)
        chain_r_fail(r, "chain_id contains a NUL byte");
    h->height = chain_r_u64(r);
    h->time_ms = chain_r_u64(r);
    chain_r_raw(r, h->prev_hash.b, 32);
    chain_r_raw(r, h->tx_root.b, 32);
    chain_r_raw(r, h->state_root.b, 32);
    chain_r_raw(r, h->proposer.b, 32);
    uint64_t nc = chain_r_uleb(r);
    if (!r->err && nc > CHAIN_MAX_AUTHORITIES)
        chain_r_fail(r, "too many commit signatures");
    h->ncommit = r->err ? 0 : (size_t)nc;
    for (size_t i = 0; i < h->ncommit; i++) {
        h->commit[i].index = chain_r_u16(r);
        chain_r_raw(r, h->commit[i].sig.b, 64);
    }
}

based_err chain_block_decode(const void *p, size_t n, chain_block *b, const char **why)
{
    const char *dummy;
    chain_rbuf r;
    if (!why)
        why = &dummy;
    memset(b, 0, sizeof *b);
    if (n > CHAIN_MAX_BLOCK_BYTES) {
        *why = "block larger than the limit";
        return BASED_E_TOO_LARGE;
    }
    chain_r_init(&r, p, n);
    decode_header(&r, &b->h);
    uint64_t ntx = chain_r_uleb(&r);
    if (!r.err && ntx > CHAIN_MAX_BLOCK_TXS)
        chain_r_fail(&r, "too many transactions");
    /* each tx takes at least 100 bytes: reject counts the input cannot hold
     * before allocating */
    if (!r.err && ntx > (r.len - r.pos) / 100)
        chain_r_fail(&r, "transaction count exceeds the block's size");
    if (r.err) {
        *why = r.what;
        return BASED_E_DECODE;
    }
    b->txs = calloc(ntx ? ntx : 1, sizeof *b->txs);
    if (!b->txs)
        return BASED_E_NOMEM;
    for (size_t i = 0; i < ntx; i++) {
        size_t tl;
        const uint8_t *t = chain_r_bytes(&r, &tl, CHAIN_TX_MAX);
        if (r.err)
            break;
        based_err rc = chain_tx_decode(t, tl, &b->txs[i], why);
        if (rc != BASED_E_OK) {
            chain_block_release(b);
            return rc;
        }
        b->ntx = i + 1;
    }
    chain_r_raw(&r, b->proposer_sig.b, 64);
    decode_evidence(&r, b);
    chain_r_finish(&r);
    if (r.err) {
        *why = r.what;
        chain_block_release(b);
        return BASED_E_DECODE;
    }
    b->hash = chain_header_hash(&b->h);
    return BASED_E_OK;
}

void chain_block_release(chain_block *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->ntx; i++)
        chain_tx_release(&b->txs[i]);
    free(b->txs);
    memset(b, 0, sizeof *b);
}

chain_hash chain_tx_root(const chain_tx *txs, size_t n)
{
    chain_hash root;
    memset(&root, 0, sizeof root);
    if (n == 0)
        return root;
    chain_hash *level = malloc(n * sizeof *level);
    if (!level)
        abort(); /* n is bounded by CHAIN_MAX_BLOCK_TXS: 640 KiB */
    for (size_t i = 0; i < n; i++)
        level[i] = txs[i].hash;
    while (n > 1) {
        size_t m = 0;
        for (size_t i = 0; i < n; i += 2)
            level[m++] = i + 1 < n ? chain_hash_pair(&level[i], &level[i + 1]) : level[i];
        n = m;
    }
    root = level[0];
    free(level);
    return root;
}
