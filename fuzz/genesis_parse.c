/*
 * fuzz/genesis_parse.c: libFuzzer harness for genesis parsing. Each input
 * is the text of a genesis file given to chain_genesis_parse(). On success
 * the canonical encoding must decode (chain_genesis_decode) to a genesis
 * with the same hash, and encode again to the same bytes. On failure the
 * message must start with the file name and a "line:col:" position.
 */
#include "chain/codec.h"
#include "chain/genesis.h"

#define FILE_NAME "fuzz-genesis.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "FILE_NAME:<digits>:<digits>: " at the start of err? */
static bool positioned(const char *err)
{
    size_t n = strlen(FILE_NAME);
    if (strncmp(err, FILE_NAME ":", n + 1) != 0)
        return false;
    const char *p = err + n + 1;
    for (int part = 0; part < 2; part++) {
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != ':')
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_genesis g, back;
    char err[512];
    err[0] = '\0';
    based_err rc = chain_genesis_parse((const char *)data, size, FILE_NAME, &g, err, sizeof err);
    if (rc != BASED_E_OK) {
        if (!positioned(err))
            __builtin_trap();
        return 0;
    }
    chain_wbuf w, w2;
    chain_w_init(&w, CHAIN_GENESIS_MAX_BYTES);
    chain_genesis_encode(&g, &w);
    if (w.err)
        __builtin_trap();
    chain_hash h = chain_hash_bytes(w.p, w.len);
    if (!chain_hash_eq(&h, &g.hash))
        __builtin_trap();
    if (chain_genesis_decode(w.p, w.len, &back) != BASED_E_OK)
        __builtin_trap();
    if (!chain_hash_eq(&back.hash, &g.hash))
        __builtin_trap();
    chain_w_init(&w2, CHAIN_GENESIS_MAX_BYTES);
    chain_genesis_encode(&back, &w2);
    if (w2.err || w2.len != w.len || memcmp(w2.p, w.p, w.len) != 0)
        __builtin_trap();
    uint64_t total;
    (void)chain_genesis_total(&g, &total);
    chain_w_free(&w);
    chain_w_free(&w2);
    chain_genesis_release(&back);
    chain_genesis_release(&g);
    return 0;
}
