/*
 * fuzz/block_decode.c: libFuzzer harness for block decoding. Each input is
 * given to chain_block_decode(). When it decodes, chain_block_encode must
 * give back exactly the input (one encoding only), the block hash must be
 * the hash of the re-encoded header, and chain_tx_root must run over the
 * decoded transactions. Everything is released (ASan checks for leaks).
 */
#include "chain/block.h"
#include "chain/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_block b;
    const char *why = NULL;
    based_err rc = chain_block_decode(data, size, &b, &why);
    if (rc != BASED_E_OK) {
        if (rc != BASED_E_NOMEM && (!why || !why[0]))
            __builtin_trap();
        if (b.txs != NULL || b.ntx != 0)
            __builtin_trap();
        return 0;
    }
    chain_wbuf w;
    chain_w_init(&w, CHAIN_MAX_BLOCK_BYTES);
    chain_block_encode(&b, &w);
    if (w.err || w.len != size || memcmp(w.p, data, size) != 0)
        __builtin_trap();
    chain_w_reset(&w);
    chain_header_encode(&b.h, &w);
    chain_hash hh = chain_hash_bytes(w.p, w.len), hh2 = chain_header_hash(&b.h);
    if (!chain_hash_eq(&hh, &b.hash) || !chain_hash_eq(&hh2, &b.hash))
        __builtin_trap();
    chain_w_free(&w);
    chain_hash root = chain_tx_root(b.txs, b.ntx);
    if ((b.ntx == 0) != chain_hash_is_zero(&root))
        __builtin_trap();
    if (b.ntx == 1 && !chain_hash_eq(&root, &b.txs[0].hash))
        __builtin_trap();
    chain_block_release(&b);
    chain_block_release(&b);   /* idempotent */
    return 0;
}
