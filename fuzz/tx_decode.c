/*
 * fuzz/tx_decode.c: libFuzzer harness for transaction decoding. Each input
 * is given to chain_tx_decode(). When it decodes, the canonical-encoding
 * property must hold: building the encoding again from the decoded fields
 * with the chain/codec.h writers gives exactly the input, `raw` is a copy
 * of the input, the ids are the hashes tx.h defines, and chain_tx_check
 * and chain_tx_copy run on it. On failure the tx is left zeroed with a
 * reason. Everything is released (ASan checks for leaks).
 */
#include "chain/codec.h"
#include "chain/tx.h"
#include "node/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode(const chain_tx *tx, chain_wbuf *w, size_t *signed_len)
{
    chain_w_bytes(w, tx->chain_id, strlen(tx->chain_id));
    chain_w_raw(w, tx->sender.b, 32);
    chain_w_u64(w, tx->nonce);
    chain_w_u64(w, tx->fee);
    chain_w_u16(w, tx->kind);
    chain_w_bytes(w, tx->payload, tx->payload_len);
    *signed_len = w->len;
    chain_w_raw(w, tx->sig.b, 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_tx tx, copy;
    const char *why = NULL;
    based_err rc = chain_tx_decode(data, size, &tx, &why);
    if (rc != BASED_E_OK) {
        static const chain_tx zero;
        if (!why || !why[0] || memcmp(&tx, &zero, sizeof tx) != 0)
            __builtin_trap();
        return 0;
    }
    if (tx.raw_len != size || memcmp(tx.raw, data, size) != 0)
        __builtin_trap();
    if (tx.payload < tx.raw || tx.payload + tx.payload_len > tx.raw + tx.raw_len)
        __builtin_trap();

    chain_wbuf w;
    size_t signed_len = 0;
    chain_w_init(&w, CHAIN_TX_MAX);
    reencode(&tx, &w, &signed_len);
    if (w.err || w.len != size || memcmp(w.p, data, size) != 0)
        __builtin_trap();
    chain_hash sh = chain_hash_bytes(data, signed_len), h = chain_hash_bytes(data, size);
    if (!chain_hash_eq(&sh, &tx.sighash) || !chain_hash_eq(&h, &tx.hash))
        __builtin_trap();
    chain_w_free(&w);

    /* must not crash; a random signature is (almost surely) rejected */
    why = NULL;
    rc = chain_tx_check(based_runtime(), &tx, "based-devnet", &why);
    if (rc != BASED_E_OK && (!why || !why[0]))
        __builtin_trap();

    if (chain_tx_copy(&copy, &tx) != BASED_E_OK)
        __builtin_trap();
    if (copy.raw_len != tx.raw_len || memcmp(copy.raw, tx.raw, tx.raw_len) != 0 ||
        copy.payload_len != tx.payload_len ||
        memcmp(copy.payload, tx.payload, tx.payload_len) != 0)
        __builtin_trap();
    chain_tx_release(&copy);
    chain_tx_release(&tx);
    chain_tx_release(&tx);   /* idempotent */
    return 0;
}
