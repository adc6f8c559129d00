/*
 * tx.c: transaction encoding, strict decoding, signing and stateless
 * checks (see tx.h). The kind-specific parts live in the kind table
 * (chain/kinds.h).
 */
#include <sodium.h>

#include "chain/codec.h"
#include "chain/kinds.h"
#include "chain/tx.h"

void chain_tx_release(chain_tx *tx)
{
    if (!tx)
        return;
    free(tx->raw);
    memset(tx, 0, sizeof *tx);
}

static bool chain_id_ok(const uint8_t *p, size_t n)
{
    if (n == 0 || n > CHAIN_CHAIN_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return false;
    return true;
}

based_err chain_tx_decode(const void *p, size_t n, chain_tx *tx, const char **why)
{
    const char *dummy;
    chain_rbuf r;
    size_t idlen = 0;
    if (!why)
        why = &dummy;
    memset(tx, 0, sizeof *tx);
    if (n > CHAIN_TX_MAX) {
        *why = "transaction larger than the limit";
        return BASED_E_TX_TOO_LARGE;
    }
    chain_r_init(&r, p, n);
    const uint8_t *id = chain_r_bytes(&r, &idlen, CHAIN_CHAIN_ID_MAX);
    if (!r.err && !chain_id_ok(id, idlen))
        chain_r_fail(&r, "chain_id must be 1..32 printable ASCII bytes");
    chain_r_raw(&r, tx->sender.b, 32);
    tx->nonce = chain_r_u64(&r);
    tx->fee = chain_r_u64(&r);
    tx->kind = chain_r_u16(&r);
    size_t plen = 0;
    const uint8_t *payload = chain_r_bytes(&r, &plen, CHAIN_TX_PAYLOAD_MAX);
    size_t signed_len = r.pos;
    chain_r_raw(&r, tx->sig.b, 64);
    chain_r_finish(&r);
    if (r.err) {
        *why = r.what;
        memset(tx, 0, sizeof *tx);
        return BASED_E_DECODE;
    }
    tx->raw = malloc(n);
    if (!tx->raw) {
        memset(tx, 0, sizeof *tx);
        return BASED_E_NOMEM;
    }
    memcpy(tx->raw, p, n);
    tx->raw_len = n;
    memcpy(tx->chain_id, id, idlen);
    tx->chain_id[idlen] = '\0';
    tx->payload = tx->raw + (payload - (const uint8_t *)p);
    tx->payload_len = plen;
    tx->sighash = chain_hash_bytes(tx->raw, signed_len);
    tx->hash = chain_hash_bytes(tx->raw, n);
    return BASED_E_OK;
}

based_err chain_tx_make(chain_tx *tx, const char *chain_id, uint64_t nonce,
                        uint64_t fee, uint16_t kind, const void *payload,
                        size_t payload_len, const uint8_t sk[32])
{
    chain_wbuf w;
    chain_addr sender;
    chain_sig sig;
    based_err e;
    memset(tx, 0, sizeof *tx);
    size_t idlen = strlen(chain_id);
    if (!chain_id_ok((const uint8_t *)chain_id, idlen) || payload_len > CHAIN_TX_PAYLOAD_MAX)
        return BASED_E_BAD_PARAM;
    if ((e = chain_key_pub(sk, &sender)) != BASED_E_OK)
        return e;
    chain_w_init(&w, CHAIN_TX_MAX);
    chain_w_bytes(&w, chain_id, idlen);
    chain_w_raw(&w, sender.b, 32);
    chain_w_u64(&w, nonce);
    chain_w_u64(&w, fee);
    chain_w_u16(&w, kind);
    chain_w_bytes(&w, payload, payload_len);
    if (w.err) {
        chain_w_free(&w);
        return BASED_E_NOMEM;
    }
    chain_hash sighash = chain_hash_bytes(w.p, w.len);
    if ((e = chain_sign(sk, &sighash, &sig)) != BASED_E_OK) {
        chain_w_free(&w);
        return e;
    }
    chain_w_raw(&w, sig.b, 64);
    if (w.err) {
        chain_w_free(&w);
        return BASED_E_NOMEM;
    }
    e = chain_tx_decode(w.p, w.len, tx, NULL);
    chain_w_free(&w);
    return e;
}

based_err chain_tx_check(const struct chain_runtime *rt, const chain_tx *tx, const char *chain_id,
                         const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (strcmp(tx->chain_id, chain_id) != 0) {
        *why = "chain_id";
        return BASED_E_WRONG_CHAIN;
    }
    const chain_kind *k = chain_kind_find(rt, tx->kind);
    if (!k) {
        *why = "kind";
        return BASED_E_UNKNOWN_KIND;
    }
    based_err e = k->check(tx->payload, tx->payload_len, why);
    if (e != BASED_E_OK)
        return e;
    if (!chain_verify(&tx->sender, &tx->sighash, &tx->sig)) {
        *why = "signature";
        return BASED_E_BAD_SIGNATURE;
    }
    return BASED_E_OK;
}

based_err chain_tx_copy(chain_tx *dst, const chain_tx *src)
{
    *dst = *src;
    dst->raw = malloc(src->raw_len);
    if (!dst->raw) {
        memset(dst, 0, sizeof *dst);
        return BASED_E_NOMEM;
    }
    memcpy(dst->raw, src->raw, src->raw_len);
    dst->payload = dst->raw + (src->payload - src->raw);
    return BASED_E_OK;
}

/* --- transfer payload --- */

void chain_transfer_encode(const chain_transfer *t, uint8_t out[CHAIN_TRANSFER_LEN])
{
    memcpy(out, t->to.b, 32);
    for (int i = 0; i < 8; i++)
        out[32 + i] = (uint8_t)(t->amount >> (8 * i));
}

based_err chain_transfer_decode(const uint8_t *p, size_t n, chain_transfer *t,
                                const char **why)
{
    chain_rbuf r;
    chain_r_init(&r, p, n);
    chain_r_raw(&r, t->to.b, 32);
    t->amount = chain_r_u64(&r);
    chain_r_finish(&r);
    if (r.err) {
        if (why)
            *why = "transfer payload must be to (32 bytes) and amount (u64)";
        return BASED_E_DECODE;
    }
    return BASED_E_OK;
}
