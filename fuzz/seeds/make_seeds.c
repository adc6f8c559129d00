/*
 * fuzz/seeds/make_seeds.c: writes the seed corpora of the decoder
 * harnesses (fuzz/tx_decode.c, block_decode.c, genesis_parse.c,
 * ss58_decode.c) into fuzz/seeds/<harness>/: valid encodings made with
 * the chain's own encoders, so the fuzzers start from inputs that decode
 * and mutate from there. The output is committed; to make it again:
 *
 *   make && cc -std=c11 -I. -D_DEFAULT_SOURCE -O1 -o build/make_seeds \
 *       fuzz/seeds/make_seeds.c build/libbased.a -lsecp256k1 -lsodium \
 *       -lleveldb -luv -lcurl -ljansson -lhttp_parser -lpthread -lm
 *   build/make_seeds fuzz/seeds
 *
 * Signatures use fresh randomness, so the bytes differ from run to run.
 */
#include <errno.h>
#include <sys/stat.h>

#include "chain/block.h"
#include "chain/codec.h"
#include "chain/genesis.h"
#include "chain/kinds.h"

static const char *g_dir;

static void put(const char *harness, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, harness);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", g_dir, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void transfer(chain_tx *tx, unsigned from, unsigned to, uint64_t amount, uint64_t nonce)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t;
    chain_key_dev(to, sk);
    chain_key_pub(sk, &t.to);
    t.amount = amount;
    chain_key_dev(from, sk);
    chain_transfer_encode(&t, p);
    if (chain_tx_make(tx, "based-devnet", nonce, 10000, CHAIN_KIND_TRANSFER, p, sizeof p, sk)) {
        fprintf(stderr, "make_seeds: chain_tx_make failed\n");
        exit(1);
    }
}

static void tx_seeds(void)
{
    chain_tx tx;
    uint8_t sk[32];
    transfer(&tx, 0, 1, 12500000000ull, 0);
    put("tx_decode", "transfer", tx.raw, tx.raw_len);
    chain_tx_release(&tx);
    chain_key_dev(2, sk);
    chain_tx_make(&tx, "x", UINT64_MAX, 0, 0xffff, NULL, 0, sk);
    put("tx_decode", "empty-payload", tx.raw, tx.raw_len);
    chain_tx_release(&tx);
    uint8_t big[300];
    memset(big, 0x5a, sizeof big);
    chain_tx_make(&tx, "based-mainnet-with-a-long-id-32b", 1, 1, CHAIN_KIND_TRANSFER,
                  big, sizeof big, sk);
    put("tx_decode", "two-byte-length", tx.raw, tx.raw_len);
    chain_tx_release(&tx);
}

static void block_seed(const char *name, size_t ntx, size_t ncommit)
{
    chain_block b;
    uint8_t edsk[64];
    chain_wbuf w;
    memset(&b, 0, sizeof b);
    chain_ed_generate(edsk, &b.h.proposer);
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "based-devnet");
    b.h.height = ncommit ? 7 : 1;
    b.h.time_ms = 1767225600000ull;
    b.h.prev_hash = chain_hash_bytes("prev", 4);
    b.h.state_root = chain_hash_bytes("state", 5);
    b.h.ncommit = ncommit;
    for (size_t i = 0; i < ncommit; i++) {
        b.h.commit[i].index = (uint16_t)i;
        chain_ed_sign(edsk, &b.h.prev_hash, &b.h.commit[i].sig);
    }
    b.txs = calloc(ntx ? ntx : 1, sizeof *b.txs);
    b.ntx = ntx;
    for (size_t i = 0; i < ntx; i++)
        transfer(&b.txs[i], (unsigned)(i % 10), (unsigned)((i + 1) % 10), 1000 + i, i / 10);
    b.h.tx_root = chain_tx_root(b.txs, b.ntx);
    b.hash = chain_header_hash(&b.h);
    chain_ed_sign(edsk, &b.hash, &b.proposer_sig);
    chain_w_init(&w, CHAIN_MAX_BLOCK_BYTES);
    chain_block_encode(&b, &w);
    put("block_decode", name, w.p, w.len);
    chain_w_free(&w);
    chain_block_release(&b);
}

static void genesis_seeds(void)
{
    chain_addr a;
    chain_edpub ep;
    uint8_t sk[32], edsk[64];
    char addr[CHAIN_ADDR_STRLEN], key[65], text[4096];
    put("genesis_parse", "default", chain_genesis_default, strlen(chain_genesis_default));
    chain_key_dev(1, sk);
    chain_key_pub(sk, &a);
    chain_ss58_encode(42, &a, addr);
    chain_ed_generate(edsk, &ep);
    chain_hex(ep.b, 32, key);
    int n = snprintf(text, sizeof text,
        "{\n  \"chain_id\": \"based-testnet\",\n  \"genesis_time\": \"2026-03-01T12:00:00Z\",\n"
        "  \"ss58_prefix\": 42,\n  \"block_time_ms\": 10000,\n  \"blocks_per_year\": 3153600,\n"
        "  \"authorities\": [\n    {\"name\": \"a0\", \"key\": \"0x%s\", \"power\": 10,\n"
        "     \"account\": \"0x%064x\"}\n  ],\n"
        "  \"balances\": [\n    {\"address\": \"%s\", \"amount\": \"12.5\"},\n"
        "    {\"address\": \"0x%064x\", \"amount\": \"0.000000001\"}\n  ],\n"
        "  \"params\": {\"min_fee\": \"0.00001\", \"max_block_txs\": 20000,\n"
        "             \"mempool_max_txs\": 100, \"mempool_max_per_sender\": 5},\n"
        "  \"dev\": {\"block_time_ms\": 500, \"accounts\": 3, \"balance\": \"7\"}\n}\n",
        key, 7, addr, 9);
    put("genesis_parse", "full", text, (size_t)n);
}

static void ss58_seeds(void)
{
    chain_addr a;
    uint8_t sk[32];
    char s[CHAIN_ADDR_STRLEN], hex[67];
    chain_key_dev(0, sk);
    chain_key_pub(sk, &a);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &a, s);
    put("ss58_decode", "based", s, strlen(s));
    chain_ss58_encode(42, &a, s);
    put("ss58_decode", "substrate", s, strlen(s));
    hex[0] = '0';
    hex[1] = 'x';
    chain_hex(a.b, 32, hex + 2);
    put("ss58_decode", "hex", hex, 66);
    memset(&a, 0, sizeof a);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &a, s);
    put("ss58_decode", "zero-key", s, strlen(s));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR (normally fuzz/seeds)\n");
        return 2;
    }
    g_dir = argv[1];
    if (chain_crypto_init() != 0)
        return 1;
    tx_seeds();
    block_seed("empty", 0, 0);
    block_seed("three-txs", 3, 0);
    block_seed("with-commit", 12, 4);
    genesis_seeds();
    ss58_seeds();
    return 0;
}
