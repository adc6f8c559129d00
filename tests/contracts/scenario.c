/* The seeded random scenario: thousands of blocks of random valid and
 * invalid transactions of every kind from 16 accounts. After every block
 * the BASED and Pepecoin supplies, the 1024 cap, the slot limits and the
 * stake sums (per Brain, per hotkey, per staker, in total) must hold;
 * at the end a replay from genesis (chain_ledger_verify) must reproduce
 * every state root. BASED_SCENARIO_BLOCKS / BASED_SCENARIO_SEED override
 * the defaults (2000 blocks, seed 20260101). */
#include "tests/runner.h"
#include "tests/contracts/env.h"

#define NACC 16
#define PER_BLOCK 24

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

typedef struct {
    chain_addr addr[NACC];
    char ss58[NACC][CHAIN_ADDR_STRLEN];
    uint8_t sk[NACC][32];
    uint64_t nonce[NACC];
} accounts;

static unsigned brain_id(void)
{
    unsigned r = pick(100);
    return r < 90 ? pick(48) : r < 98 ? pick(1024) : 1024 + pick(10);
}

static const char *amount(char *b, size_t n)
{
    static const char *const a[] = { "0", "0.000000001", "1", "2.5", "10", "100", "1000",
                                     "100000", "5000000", "999999999" };
    snprintf(b, n, "%s", a[pick(BASED_ARRAY_LEN(a))]);
    return b;
}

/* One random payload (valid or not) of a random kind into json; returns the kind. */
static const char *random_tx(accounts *A, unsigned from, char *json, size_t n)
{
    char a[32];
    unsigned to = pick(NACC), k = pick(100);
    (void)from;
    if (k < 8) {
        snprintf(json, n, "{\"to\": \"%s\", \"amount\": \"%s\"}", A->ss58[to], amount(a, sizeof a));
        return "transfer";
    }
    if (k < 13) {
        snprintf(json, n, "{\"to\": \"%s\", \"amount\": \"%s\"}", A->ss58[to], amount(a, sizeof a));
        return pick(4) ? "pepe_transfer" : "pepe_bridge";
    }
    if (k < 23) {
        if (pick(3))
            snprintf(json, n, "{\"method\": \"%s\"}", pick(3) ? "burn" : "stake");
        else
            snprintf(json, n, "{\"method\": \"%s\", \"id\": %u}", pick(2) ? "burn" : "stake",
                     pick(60));
        return "brain_buy";
    }
    if (k < 28) {
        snprintf(json, n, "{\"id\": %u, \"fee\": \"%s\", \"name\": \"b%u\"}", brain_id(),
                 pick(2) ? "0.5" : "3", pick(100));
        return "brain_set";
    }
    if (k < 31) {
        snprintf(json, n, "{\"id\": %u, \"to\": \"%s\"}", brain_id(), A->ss58[to]);
        return "brain_transfer";
    }
    if (k < 34) {
        snprintf(json, n, "{\"id\": %u}", brain_id());
        return "brain_deactivate";
    }
    if (k < 50) {
        /* half of them on Brains 7 and 8, so roles fill up and neurons are replaced */
        snprintf(json, n, "{\"brain\": %u, \"role\": \"%s\"}", pick(2) ? 7 + pick(2) : brain_id(),
                 pick(2) ? "miner" : "validator");
        return "memorize";
    }
    if (k < 54) {
        snprintf(json, n, "{\"brain\": %u, \"host\": \"10.0.0.%u\", \"port\": %u, \"x25519\": "
                 "\"0x%064x\"}", brain_id(), pick(255), pick(3) ? 8000 + pick(100) : 0, pick(1000));
        return "serve";
    }
    if (k < 72) {
        snprintf(json, n, "{\"brain\": %u, \"hotkey\": \"%s\", \"amount\": \"%s\"}", brain_id(),
                 A->ss58[to], amount(a, sizeof a));
        return "stake";
    }
    if (k < 84) {
        snprintf(json, n, "{\"brain\": %u, \"hotkey\": \"%s\", \"amount\": \"%s\"}", brain_id(),
                 A->ss58[to], amount(a, sizeof a));
        return "unstake";
    }
    if (k < 87) {
        snprintf(json, n, "{\"take_bps\": %u}", pick(4000));
        return "set_take";
    }
    if (k < 92) {
        if (pick(2))
            snprintf(json, n, "{\"kind\": \"param\", \"param\": \"%s\", \"value\": %u%s}",
                     pick(2) ? "immunity_blocks" : "brain_stake_lock_blocks", 1 + pick(30),
                     pick(2) ? "" : ", \"brain\": 7");
        else
            snprintf(json, n, "{\"kind\": \"text\", \"text\": \"t%u\", \"brain\": %u}", pick(9),
                     brain_id());
        return "gov_propose";
    }
    if (pick(2))
        snprintf(json, n, "{\"proposal\": %u, \"choice\": \"%s\", \"brain\": %u}", 1 + pick(20),
                 pick(2) ? "yes" : "no", brain_id());
    else
        snprintf(json, n, "{\"proposal\": %u, \"choice\": \"%s\"}", 1 + pick(20),
                 pick(2) ? "yes" : "no");
    return "gov_vote";
}

static void sync_nonces(env *e, accounts *A)
{
    chain_view *v = chain_ledger_view(e->l);
    for (unsigned i = 0; i < NACC; i++) {
        chain_account acct;
        chain_account_get(v, &A->addr[i], &acct);
        A->nonce[i] = acct.nonce;
    }
    chain_view_free(v);
}

/* Builds up to PER_BLOCK random txs; returns how many. */
static size_t make_block_txs(env *e, accounts *A, chain_tx *txs)
{
    size_t n = 0;
    unsigned order[NACC];
    for (unsigned i = 0; i < NACC; i++)
        order[i] = i;
    for (unsigned i = NACC - 1; i > 0; i--) {   /* distinct senders first: fewer nonce gaps */
        unsigned j = pick(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < PER_BLOCK; i++) {
        char json[512];
        unsigned from = i < NACC ? order[i] : pick(NACC);
        const char *kn = random_tx(A, from, json, sizeof json);
        const chain_kind *k = chain_kind_by_name(based_runtime(), kn);
        json_t *obj = json_loads(json, 0, NULL);
        chain_wbuf w;
        const char *why;
        chain_w_init(&w, CHAIN_TX_PAYLOAD_MAX);
        if (obj && k->from_json(obj, e->g.ss58_prefix, &w, &why) == BASED_E_OK) {
            memset(&txs[n], 0, sizeof txs[n]);
            chain_tx_make(&txs[n], e->g.chain_id, A->nonce[from]++, 10000 + pick(3), k->id,
                          w.p, w.len, A->sk[from]);
            n++;
        }
        json_decref(obj);
        chain_w_free(&w);
    }
    return n;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 10) : def;
}

TEST(scenario_random)
{
    env e;
    accounts A;
    char err[512], tmp[600];
    uint64_t blocks = env_u64("BASED_SCENARIO_BLOCKS", 2000);
    rng = env_u64("BASED_SCENARIO_SEED", 20260101) | 1;
    fprintf(stderr, "    seed %" PRIu64 ", %" PRIu64 " blocks\n", rng, blocks);
    env_open(&e, "\"brain_stake_lock_blocks\": 20, \"immunity_blocks\": 10, "
                 "\"max_validators\": 4, \"max_miners\": 6, \"gov_voting_blocks\": 15, "
                 "\"gov_year1_blocks\": 600, \"take_rate_limit_blocks\": 10, "
                 "\"brain_burn_base\": \"1\", \"brain_burn_step\": \"0.01\", "
                 "\"brain_stake_amount\": \"1000\"");
    for (unsigned i = 0; i < NACC; i++) {
        chain_key_dev(i, A.sk[i]);
        chain_key_pub(A.sk[i], &A.addr[i]);
        chain_ss58_encode(e.g.ss58_prefix, &A.addr[i], A.ss58[i]);
    }
    uint64_t included = 0, codes[BASED_E__COUNT] = { 0 };
    for (uint64_t b = 0; b < blocks; b++) {
        chain_tx txs[PER_BLOCK];
        chain_tx *c[PER_BLOCK];
        size_t inc = 0, nsk = 0;
        chain_skip sk[PER_BLOCK];
        sync_nonces(&e, &A);
        size_t n = make_block_txs(&e, &A, txs);
        size_t nc = 0;
        for (size_t i = 0; i < n; i++) {       /* the mempool's stateless check */
            const char *why;
            based_err rc = chain_tx_check(based_runtime(), &txs[i], e.g.chain_id, &why);
            if (rc == BASED_E_OK)
                c[nc++] = &txs[i];
            else
                codes[rc]++;
        }
        CHECK_EQ_INT(chain_ledger_produce(e.l, c, nc, 0, e.sk, sk, &nsk, &inc, err, sizeof err),
                     BASED_E_OK);
        for (size_t i = 0; i < nsk; i++)
            if ((unsigned)sk[i].err < BASED_E__COUNT)
                codes[sk[i].err]++;
        included += inc;
        for (size_t i = 0; i < n; i++)
            chain_tx_release(&txs[i]);
        if (!env_audit(&e)) {
            test_fail_(__FILE__, __LINE__, "invariant broken after block %" PRIu64, b + 1);
            return;
        }
    }
    chain_view *v = chain_ledger_view(e.l);
    contract_totals t;
    contract_totals_get(v, &t);
    chain_view_free(v);
    fprintf(stderr, "    %" PRIu64 " txs included; %" PRIu64 " Brains active, %" PRIu64
            " by burn, %" PRIu64 " proposals, stake %" PRIu64 "\n", included, t.active,
            t.burn_issued, t.proposal_seq, t.stake_total);
    fprintf(stderr, "    rejections:");
    for (int i = 0; i < BASED_E__COUNT; i++)
        if (codes[i])
            fprintf(stderr, " %s %" PRIu64, based_errname((based_err)i), codes[i]);
    fprintf(stderr, "\n");
    CHECK(included > blocks * 3);
    CHECK(t.active > 8);
    CHECK(t.stake_total > 0);
    CHECK(t.proposal_seq > 0);
    snprintf(tmp, sizeof tmp, "%s/verify", test_tmpdir());
    chain_ledger_free(e.l);
    based_err vr = chain_ledger_verify(env_runtime(), e.db, tmp, NULL, NULL, err, sizeof err);
    if (vr != BASED_E_OK)
        fprintf(stderr, "    verify: %s\n", err);
    CHECK_EQ_INT(vr, BASED_E_OK);
    chain_genesis_release(&e.g);
}
