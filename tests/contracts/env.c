/* The test chain helper shared by tests/contracts and tests/emission (see
 * env.h; tests/emission/env.c compiles this file into its binary). */
#include "tests/runner.h"
#include "tests/contracts/env.h"
#include "rewards/internal.h"

#define GENESIS_HEAD \
    "{\"chain_id\": \"based-devnet\", \"genesis_time\": \"2026-01-01T00:00:00Z\", " \
    "\"block_time_ms\": 1000, \"blocks_per_year\": %llu, \"authorities\": [], " \
    "\"params\": {\"min_fee\": \"0.00001\""

static chain_runtime *runtime;

const chain_runtime *env_runtime(void)
{
    char err[256];
    based_runtime_opts o = { 1, true, 0 };
    if (!runtime && based_runtime_new(&o, &runtime, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "env_runtime: %s\n", err);
        abort();
    }
    return runtime;
}

reward_handles *env_tft(void)
{
    return chain_runtime_state(env_runtime(), &reward_module);
}

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
    for (unsigned i = 0; i < ENV_ACCOUNTS; i++) {
        uint8_t sk[32];
        chain_key_dev(i, sk);
        chain_key_pub(sk, &e->dev[i]);
    }
    snprintf(e->db, sizeof e->db, "%s/db", test_tmpdir());
    if (chain_ledger_open(env_runtime(), e->db, &e->g, &e->l, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
}

void env_close(env *e)
{
    for (size_t i = 0; i < e->nqueue; i++)
        chain_tx_release(&e->queue[i]);
    e->nqueue = 0;
    chain_ledger_free(e->l);
    chain_genesis_release(&e->g);
}

/* Builds and signs a tx of `kind` from dev<from> with its JSON payload and
 * the sender's next nonce; checks it as a mempool would. */
static based_err make_tx(env *e, unsigned from, const char *kind, const char *json, chain_tx *tx)
{
    const chain_kind *k = chain_kind_by_name(env_runtime(), kind);
    json_error_t je;
    json_t *obj = json_loads(json, 0, &je);
    chain_wbuf w;
    uint8_t sk[32];
    if (!k || !obj || from >= ENV_ACCOUNTS) {
        fprintf(stderr, "bad test tx %s from %u %s: %s\n", kind, from, json,
                !obj ? je.text : !k ? "kind" : "sender");
        abort();
    }
    chain_w_init(&w, CHAIN_TX_PAYLOAD_MAX);
    e->why = "";
    based_err rc = k->from_json(obj, e->g.ss58_prefix, &w, &e->why);
    json_decref(obj);
    memset(tx, 0, sizeof *tx);
    if (rc != BASED_E_OK) {
        chain_w_free(&w);
        return rc;
    }
    chain_key_dev(from, sk);
    chain_tx_make(tx, e->g.chain_id, e->nonce[from], 10000, k->id, w.p, w.len, sk);
    chain_w_free(&w);
    rc = chain_tx_check(env_runtime(), tx, e->g.chain_id, &e->why);
    if (rc != BASED_E_OK)
        chain_tx_release(tx);
    return rc;
}

/* One block from the candidates; returns how many were included. */
static size_t produce(env *e, chain_tx *const *c, size_t n)
{
    char err[256];
    size_t inc = 0, nsk = 0;
    chain_skip *sk = calloc(n ? n : 1, sizeof *sk);
    e->last = BASED_E_OK;
    if (!sk || chain_ledger_produce(e->l, c, n, 0, e->sk, sk, &nsk, &inc, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "produce: %s\n", sk ? err : "out of memory");
        abort();
    }
    if (nsk) {      /* the last one left out, as the tests read it */
        e->last = sk[nsk - 1].err;
        e->why = sk[nsk - 1].why;
    }
    free(sk);
    return inc;
}

based_err env_tx(env *e, unsigned from, const char *kind, const char *json)
{
    chain_tx tx;
    based_err rc = make_tx(e, from, kind, json, &tx);
    if (rc != BASED_E_OK)
        return e->last = rc;
    chain_tx *c[1] = { &tx };
    size_t inc = produce(e, c, 1);
    rc = inc ? BASED_E_OK : e->last;
    if (inc)
        e->nonce[from]++;
    chain_tx_release(&tx);
    return e->last = rc;
}

based_err env_queue(env *e, unsigned from, const char *kind, const char *json)
{
    if (e->nqueue == ENV_QUEUE_MAX) {
        fprintf(stderr, "env_queue: more than %d txs queued\n", ENV_QUEUE_MAX);
        abort();
    }
    based_err rc = make_tx(e, from, kind, json, &e->queue[e->nqueue]);
    if (rc != BASED_E_OK)
        return e->last = rc;
    e->nqueue++;
    e->nonce[from]++;
    return BASED_E_OK;
}

size_t env_flush(env *e)
{
    chain_tx *c[ENV_QUEUE_MAX];
    for (size_t i = 0; i < e->nqueue; i++)
        c[i] = &e->queue[i];
    size_t inc = produce(e, c, e->nqueue);
    chain_view *v = chain_ledger_view(e->l);
    for (size_t i = 0; i < e->nqueue; i++) {
        for (unsigned a = 0; a < ENV_ACCOUNTS; a++) {
            chain_account acct;
            if (memcmp(e->dev[a].b, e->queue[i].sender.b, 32) != 0)
                continue;
            chain_account_get(v, &e->dev[a], &acct);
            e->nonce[a] = acct.nonce;           /* a skipped tx's nonce is reused */
            break;
        }
        chain_tx_release(&e->queue[i]);
    }
    chain_view_free(v);
    e->nqueue = 0;
    return inc;
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
    uint64_t held, expected, modules;
    char err[256] = "";
    if (chain_ledger_audit_modules(e->l, &modules, err, sizeof err) != BASED_E_OK) {
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
    static char s[ENV_ACCOUNTS][CHAIN_ADDR_STRLEN];
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

void env_weights_json(uint16_t brain, bool reveal, const uint16_t *uids, const uint16_t *w,
                      size_t n, const uint8_t *salt, size_t saltlen, char *j, size_t jl)
{
    char hex[2 * 32 + 1];
    size_t k;
    if (!reveal) {
        chain_hash h = reward_commit_hash(brain, uids, w, n, salt, saltlen);
        chain_hex(h.b, 32, hex);
        k = (size_t)snprintf(j, jl, "{\"brain\": %u, \"commit\": \"0x%s\"}", brain, hex);
    } else {
        k = (size_t)snprintf(j, jl, "{\"brain\": %u, \"uids\": [", brain);
        for (size_t i = 0; i < n && k < jl; i++)
            k += (size_t)snprintf(j + k, jl - k, "%s%u", i ? ", " : "", uids[i]);
        if (k < jl)
            k += (size_t)snprintf(j + k, jl - k, "], \"weights\": [");
        for (size_t i = 0; i < n && k < jl; i++)
            k += (size_t)snprintf(j + k, jl - k, "%s%u", i ? ", " : "", w[i]);
        chain_hex(salt, saltlen < 32 ? saltlen : 32, hex);
        if (k < jl)
            k += (size_t)snprintf(j + k, jl - k, "], \"salt\": \"0x%s\"}", hex);
    }
    if (k >= jl) {
        fprintf(stderr, "env_weights_json: %zu entries do not fit in %zu bytes\n", n, jl);
        abort();
    }
}

void env_weights(env *e, unsigned from, uint16_t brain, bool reveal, const uint16_t *uids,
                 const uint16_t *w, size_t n, const uint8_t *salt, size_t saltlen)
{
    char j[8192];
    env_weights_json(brain, reveal, uids, w, n, salt, saltlen, j, sizeof j);
    env_tx(e, from, reveal ? "weights_reveal" : "weights_commit", j);
}
