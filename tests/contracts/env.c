/* The test chain helper shared by tests/contracts and tests/emission (see
 * env.h; tests/emission/env.c compiles this file into its binary). */
#include "tests/runner.h"
#include "tests/contracts/env.h"
#include "rewards/internal.h"

#define GENESIS_HEAD \
    "{\"chain_id\": \"based-devnet\", \"genesis_time\": \"2026-01-01T00:00:00Z\", " \
    "\"block_time_ms\": 1000, \"blocks_per_year\": %llu, \"authorities\": [], " \
    "\"params\": {\"min_fee\": \"0.00001\""

void env_open(env *e, const char *params_json)
{
    env_open_year(e, 3153600, params_json);
}

void env_open_year(env *e, uint64_t blocks_per_year, const char *params_json)
{
    char text[4096], head[512], err[512];
    chain_edpub pub;
    memset(e, 0, sizeof *e);
    snprintf(head, sizeof head, GENESIS_HEAD, (unsigned long long)blocks_per_year);
    snprintf(text, sizeof text, "%s%s%s}}", head, params_json && *params_json ? ", " : "",
             params_json ? params_json : "");
    if (chain_genesis_parse(text, strlen(text), "test-genesis", &e->g, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    chain_ed_generate(e->sk, &pub);
    chain_genesis_make_dev(&e->g, &pub, 1767225600000ull);
    for (unsigned i = 0; i < 10; i++) {
        uint8_t sk[32];
        chain_key_dev(i, sk);
        chain_key_pub(sk, &e->dev[i]);
    }
    snprintf(e->db, sizeof e->db, "%s/db", test_tmpdir());
    if (chain_ledger_open(e->db, &e->g, &e->l, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
}

void env_close(env *e)
{
    chain_ledger_free(e->l);
    chain_genesis_release(&e->g);
}

static void on_skip(void *user, const chain_tx *tx, based_err rc, const char *why)
{
    env *e = user;
    (void)tx;
    e->last = rc;
    e->why = why;
}

based_err env_tx(env *e, unsigned from, const char *kind, const char *json)
{
    const chain_kind *k = chain_kind_by_name(kind);
    json_error_t je;
    json_t *obj = json_loads(json, 0, &je);
    chain_wbuf w;
    chain_tx tx;
    uint8_t sk[32];
    char err[256];
    size_t inc = 0;
    if (!k || !obj) {
        fprintf(stderr, "bad test tx %s %s: %s\n", kind, json, obj ? "kind" : je.text);
        abort();
    }
    chain_w_init(&w, CHAIN_TX_PAYLOAD_MAX);
    e->why = "";
    based_err rc = k->from_json(obj, e->g.ss58_prefix, &w, &e->why);
    json_decref(obj);
    if (rc != BASED_E_OK) {
        chain_w_free(&w);
        return e->last = rc;
    }
    chain_key_dev(from, sk);
    memset(&tx, 0, sizeof tx);
    chain_tx_make(&tx, e->g.chain_id, e->nonce[from], 10000, k->id, w.p, w.len, sk);
    chain_w_free(&w);
    rc = chain_tx_check(&tx, e->g.chain_id, &e->why);
    if (rc == BASED_E_OK) {
        chain_tx *c[1] = { &tx };
        e->last = BASED_E_OK;
        if (chain_ledger_produce(e->l, c, 1, 0, e->sk, on_skip, e, &inc, err, sizeof err) != BASED_E_OK) {
            fprintf(stderr, "produce: %s\n", err);
            abort();
        }
        rc = inc ? BASED_E_OK : e->last;
        if (inc)
            e->nonce[from]++;
    }
    chain_tx_release(&tx);
    return e->last = rc;
}

void env_blocks(env *e, unsigned n)
{
    char err[256];
    size_t inc;
    for (unsigned i = 0; i < n; i++)
        if (chain_ledger_produce(e->l, NULL, 0, 0, e->sk, NULL, NULL, &inc, err, sizeof err) != BASED_E_OK)
            abort();
}

uint64_t env_height(env *e)
{
    return chain_ledger_head(e->l).height;
}

int env_audit(env *e)
{
    uint64_t held, expected, stake;
    char err[256] = "";
    if (chain_ledger_audit_contracts(e->l, &stake, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "    audit: %s\n", err);
        return 0;
    }
    if (chain_ledger_audit(e->l, &held, &expected) != BASED_E_OK) {
        fprintf(stderr, "    BASED supply: held %" PRIu64 " expected %" PRIu64 "\n", held, expected);
        return 0;
    }
    return 1;
}

const char *env_addr(env *e, unsigned i)
{
    static char s[10][CHAIN_ADDR_STRLEN];
    chain_ss58_encode(e->g.ss58_prefix, &e->dev[i], s[i]);
    return s[i];
}

uint64_t env_balance(env *e, unsigned i)
{
    chain_account a;
    chain_view *v = chain_ledger_view(e->l);
    chain_account_get(v, &e->dev[i], &a);
    chain_view_free(v);
    return a.balance;
}

uint64_t env_pepe(env *e, unsigned i)
{
    uint64_t b = 0;
    chain_view *v = chain_ledger_view(e->l);
    contract_pepe_get(v, &e->dev[i], &b);
    chain_view_free(v);
    return b;
}

void env_set_perf(env *e, uint16_t id, uint16_t perf)
{
    contract_brain b;
    reward_brain r;
    chain_view *v = chain_ledger_view(e->l);
    chain_batch *bt = chain_batch_new();
    chain_hash root, zero;
    char err[128];
    memset(&zero, 0, sizeof zero);
    if (contract_brain_get(v, id, &b) != BASED_E_OK || reward_brain_get(v, &b, &r) != BASED_E_OK)
        abort();
    r.perf = perf;
    reward_brain_put(v, id, &r);
    chain_view_commit(v, &zero, &root, bt);   /* the writes only; the root is not used */
    chain_batch_write(chain_ledger_store(e->l), bt, true, err, sizeof err);
    chain_batch_free(bt);
    chain_view_free(v);
}

void env_weights(env *e, unsigned from, uint16_t brain, bool reveal, const uint16_t *uids,
                 const uint16_t *w, size_t n, const uint8_t *salt, size_t saltlen)
{
    char j[1024], hex[2 * 32 + 1];
    size_t k;
    if (!reveal) {
        chain_hash h = reward_commit_hash(brain, uids, w, n, salt, saltlen);
        chain_hex(h.b, 32, hex);
        snprintf(j, sizeof j, "{\"brain\": %u, \"commit\": \"0x%s\"}", brain, hex);
        env_tx(e, from, "weights_commit", j);
        return;
    }
    k = (size_t)snprintf(j, sizeof j, "{\"brain\": %u, \"uids\": [", brain);
    for (size_t i = 0; i < n && k < sizeof j; i++)
        k += (size_t)snprintf(j + k, sizeof j - k, "%s%u", i ? ", " : "", uids[i]);
    k += (size_t)snprintf(j + k, sizeof j - k, "], \"weights\": [");
    for (size_t i = 0; i < n && k < sizeof j; i++)
        k += (size_t)snprintf(j + k, sizeof j - k, "%s%u", i ? ", " : "", w[i]);
    chain_hex(salt, saltlen < 32 ? saltlen : 32, hex);
    snprintf(j + k, sizeof j - k, "], \"salt\": \"0x%s\"}", hex);
    env_tx(e, from, "weights_reveal", j);
}
