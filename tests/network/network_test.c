/*
 * network_test.c: a based network of real processes on loopback (basedd +
 * cometbft per node, started by bin/based-net): agreement, an authority
 * killed and restarted, two of four paused.
 *
 * - four authorities and a full node finalise blocks; every node has the
 *   same block hash and state root at every height; 4 senders x 5
 *   transfers, each sender through its own node, all land exactly once
 *   (same block on every node, one occurrence in the chain, recipients'
 *   balances the exact sums, senders' nonces 5, senders' balances down by
 *   amounts and fees);
 * - SIGKILL of node1's basedd and cometbft: the other three go on; node1
 *   restarted with `based-net start --node 1` catches up with the same
 *   hashes;
 * - SIGSTOP of both processes of two authorities: no block is finalised on
 *   the other two and nothing forks; SIGCONT: the chain goes on and all
 *   four agree.
 * Each scenario runs guarded (netfix.h): whatever happens, every process
 * it started is resumed and stopped by PID.
 */
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include "chain/crypto.h"
#include "tests/network/netfix.h"
#include "tests/support.h"

#define SENDERS 4
#define PER_SENDER 5
#define RCPTS 3
#define NTX (SENDERS * PER_SENDER)

/* A fresh account: the public key of a random secret key. */
static bool fresh_account(uint8_t out[32], char *hex)
{
    uint8_t *sk = sodium_malloc(32);
    chain_addr a;
    based_err rc = BASED_E_NOMEM;
    while (sk && (rc = chain_key_pub((randombytes_buf(sk, 32), sk), &a)) != BASED_E_OK)
        ;
    if (sk)
        sodium_free(sk);
    if (rc != BASED_E_OK)
        return false;
    memcpy(out, a.b, 32);
    hex[0] = '0';
    hex[1] = 'x';
    chain_hex(a.b, 32, hex + 2);
    return true;
}

typedef struct {
    char hash[NTX][67];
    int64_t height[NTX];
    uint8_t rcpt[RCPTS][32];
    char raddr[RCPTS][67];
    uint64_t expect[RCPTS];
    uint64_t nonce0[SENDERS], bal0[SENDERS], spent[SENDERS];
} transfers;

/* Sender s (dev s+1) sends PER_SENDER transfers through node s. */
static bool send_all(tnet *t, transfers *x)
{
    char why[512];
    for (size_t r = 0; r < RCPTS; r++)
        REQ(fresh_account(x->rcpt[r], x->raddr[r]));
    for (unsigned s = 0; s < SENDERS; s++) {
        char a[67];
        tnet_dev_addr(s + 1, a);
        REQ(tnet_account(t, s, a, &x->bal0[s], &x->nonce0[s]));
        REQ_EQ(x->nonce0[s], 0);
    }
    for (unsigned i = 0; i < PER_SENDER; i++)
        for (unsigned s = 0; s < SENDERS; s++) {
            size_t r = (s + i) % RCPTS, j = s * PER_SENDER + i;
            uint64_t amount = (uint64_t)(s + 1) * 1000000000u + i * 1000u + 7;
            REQ_MSG(tnet_transfer(t, s, s + 1, x->nonce0[s] + i, x->rcpt[r], amount, x->hash[j],
                                  why, sizeof why),
                    "transfer %u of dev%u through node%u: %s", i, s + 1, s, why);
            x->expect[r] += amount;
            x->spent[s] += amount + TNET_FEE;
        }
    return true;
}

/* tx_get of tx j on node k until committed (deadline): its block height. */
static int64_t committed_at(const tnet *t, size_t k, const char *hash, double until)
{
    while (tsup_now_ms() < until) {
        json_t *r = tnet_call(t, k, "tx_get", json_pack("[s]", hash), NULL, 0);
        const char *st = json_string_value(json_object_get(r, "status"));
        const char *rs = json_string_value(json_object_get(json_object_get(r, "receipt"),
                                                           "status"));
        json_t *h = json_object_get(r, "block_height");
        int64_t v = st && !strcmp(st, "committed") && json_is_integer(h) && rs &&
                    !strcmp(rs, "ok") ? (int64_t)json_integer_value(h) : -1;
        json_decref(r);
        if (v >= 1)
            return v;
        tsup_nap_ms(200);
    }
    return -1;
}

/* Every tx committed on every node, in the same block. */
static bool all_committed(const tnet *t, transfers *x)
{
    double until = tsup_now_ms() + 60000;
    for (size_t j = 0; j < NTX; j++)
        for (size_t k = 0; k < t->n; k++) {
            int64_t h = committed_at(t, k, x->hash[j], until);
            REQ_MSG(h >= 1, "tx %s is not committed (receipt ok) on node%zu within 60 s",
                    x->hash[j], k);
            if (k == 0)
                x->height[j] = h;
            REQ_MSG(h == x->height[j], "tx %s: block %lld on node0, %lld on node%zu", x->hash[j],
                    (long long)x->height[j], (long long)h, k);
        }
    return true;
}

/* Each tx appears once in blocks 1..head of node k, in the block tx_get named. */
static bool exactly_once(const tnet *t, size_t k, const transfers *x, int64_t head)
{
    int seen[NTX] = { 0 };
    for (int64_t h = 1; h <= head; h++) {
        json_t *r = tnet_call(t, k, "chain_getBlock", json_pack("[I]", (json_int_t)h), NULL, 0);
        json_t *txs = json_object_get(r, "txs");
        bool ok = json_is_array(txs) && json_integer_value(json_object_get(r, "tx_count")) ==
                  (json_int_t)json_array_size(txs);
        for (size_t i = 0; ok && i < json_array_size(txs); i++) {
            const char *hs = json_string_value(json_array_get(txs, i));
            for (size_t j = 0; hs && j < NTX; j++)
                if (!strcmp(hs, x->hash[j])) {
                    seen[j]++;
                    ok = x->height[j] == h;
                }
        }
        json_decref(r);
        REQ_MSG(ok, "node%zu block %lld: malformed, or holds a tx tx_get places elsewhere", k,
                (long long)h);
    }
    for (size_t j = 0; j < NTX; j++)
        REQ_MSG(seen[j] == 1, "node%zu: tx %s appears %d times in blocks 1..%lld", k, x->hash[j],
                seen[j], (long long)head);
    return true;
}

/* Balances and nonces, the same on every node. */
static bool balances(const tnet *t, const transfers *x)
{
    for (size_t k = 0; k < t->n; k++) {
        uint64_t b, n;
        for (size_t r = 0; r < RCPTS; r++) {
            REQ(tnet_account(t, k, x->raddr[r], &b, &n));
            REQ_MSG(b == x->expect[r], "node%zu: recipient %zu has %llu, expected %llu", k, r,
                    (unsigned long long)b, (unsigned long long)x->expect[r]);
            REQ_EQ(n, 0);
        }
        for (unsigned s = 0; s < SENDERS; s++) {
            char a[67];
            tnet_dev_addr(s + 1, a);
            REQ(tnet_account(t, k, a, &b, &n));
            REQ_MSG(n == x->nonce0[s] + PER_SENDER, "node%zu: dev%u nonce %llu, expected %llu",
                    k, s + 1, (unsigned long long)n,
                    (unsigned long long)(x->nonce0[s] + PER_SENDER));
            REQ_MSG(b == x->bal0[s] - x->spent[s], "node%zu: dev%u balance %llu, expected %llu",
                    k, s + 1, (unsigned long long)b,
                    (unsigned long long)(x->bal0[s] - x->spent[s]));
        }
    }
    return true;
}

static bool agree(tnet *t)
{
    static transfers x;
    REQ(tnet_new(t, 4, 1, "300ms", false));
    REQ_EQ(t->n, 5);
    REQ_EQ(t->nauth, 4);
    const uint64_t all = 0x1f;
    REQ(tnet_wait_height(t, all, 2, 60000));
    REQ(send_all(t, &x));
    REQ(all_committed(t, &x));
    int64_t last = 0;
    for (size_t j = 0; j < NTX; j++)
        last = x.height[j] > last ? x.height[j] : last;
    REQ(tnet_wait_height(t, all, last > 5 ? last : 5, 30000));
    int64_t head = tnet_min_height(t, all, NULL);
    REQ(head >= 5 && head >= last);
    REQ(tnet_same_chain(t, all, 1, head));
    for (size_t k = 0; k < t->n; k++)
        REQ(exactly_once(t, k, &x, head));
    REQ(balances(t, &x));
    fprintf(stderr, "    %d transfers in blocks up to %lld; blocks 1..%lld identical on %zu "
            "nodes\n", NTX, (long long)last, (long long)head, t->n);
    return true;
}

TEST(network_four_authorities_agree)
{
    static tnet t;
    const char *cmt = tnet_cometbft();
    if (!cmt)
        return;
    tnet_init(&t, "agree", cmt);
    tnet_guarded(&t, agree, 150);
}

static bool kill_one(tnet *t)
{
    const uint64_t all = 0xf, others = 0xd;     /* nodes 0, 2, 3 */
    REQ(tnet_new(t, 4, 0, "300ms", false));
    REQ(tnet_wait_height(t, all, 2, 60000));
    pid_t b = tnet_pid(t, 1, "basedd"), c = tnet_pid(t, 1, "cometbft");
    REQ(b > 0 && c > 0);
    REQ(kill(b, SIGKILL) == 0 && kill(c, SIGKILL) == 0);
    REQ(tnet_wait_gone(b, 5000) && tnet_wait_gone(c, 5000));
    REQ_EQ(tnet_height(t, 1), -1);
    int64_t hi, lo = tnet_min_height(t, others, &hi), killed_at = hi;
    REQ(lo >= 2);
    REQ(tnet_wait_height(t, others, hi + 3, 30000));    /* blocks go on without node1 */
    REQ_EQ(tnet_height(t, 1), -1);
    REQ(tnet_start_nodes(t, 0x2));
    pid_t b2 = tnet_pid(t, 1, "basedd"), c2 = tnet_pid(t, 1, "cometbft");
    REQ(b2 > 0 && c2 > 0 && b2 != b && c2 != c);
    lo = tnet_min_height(t, others, &hi);
    REQ(tnet_wait_height(t, 0x2, hi, 60000));          /* caught up */
    REQ(tnet_wait_height(t, all, hi + 2, 30000));      /* and goes on with the others */
    int64_t head = tnet_min_height(t, all, NULL);
    REQ(tnet_same_chain(t, all, 1, head));
    fprintf(stderr, "    node1 killed at height %lld, the others went on, node1 restarted at "
            "their height %lld and caught up; blocks 1..%lld identical\n", (long long)killed_at,
            (long long)hi, (long long)head);
    return true;
}

TEST(network_kill_one_authority)
{
    static tnet t;
    const char *cmt = tnet_cometbft();
    if (!cmt)
        return;
    tnet_init(&t, "kill1", cmt);
    tnet_guarded(&t, kill_one, 150);
}

static bool pause_two(tnet *t)
{
    const uint64_t all = 0xf, running = 0x3;
    REQ(tnet_new(t, 4, 0, "300ms", false));
    REQ(tnet_wait_height(t, all, 2, 60000));
    REQ_EQ(tnet_signal_node(t, 2, SIGSTOP), 2);
    REQ_EQ(tnet_signal_node(t, 3, SIGSTOP), 2);
    tsup_nap_ms(2000);              /* a block already signed may still be finalised */
    int64_t h0 = tnet_height(t, 0), h1 = tnet_height(t, 1);
    REQ(h0 >= 2 && h1 >= 2);
    tsup_nap_ms(6000);
    int64_t h0b = tnet_height(t, 0), h1b = tnet_height(t, 1);
    REQ_MSG(h0b == h0 && h1b == h1, "with 2 of 4 paused blocks were finalised: node0 %lld -> "
            "%lld, node1 %lld -> %lld", (long long)h0, (long long)h0b, (long long)h1,
            (long long)h1b);
    REQ_EQ(h0, h1);
    REQ(tnet_same_chain(t, running, 1, h0));
    REQ_EQ(tnet_signal_node(t, 2, SIGCONT), 2);
    REQ_EQ(tnet_signal_node(t, 3, SIGCONT), 2);
    REQ(tnet_wait_height(t, all, h0 + 3, 60000));
    int64_t head = tnet_min_height(t, all, NULL);
    REQ(tnet_same_chain(t, all, 1, head));
    fprintf(stderr, "    paused at height %lld for 8 s: no block; resumed: %lld, blocks "
            "identical\n", (long long)h0, (long long)head);
    return true;
}

TEST(network_pause_two_of_four)
{
    static tnet t;
    const char *cmt = tnet_cometbft();
    if (!cmt)
        return;
    tnet_init(&t, "pause2", cmt);
    tnet_guarded(&t, pause_two, 150);
}
