/*
 * devdrive.c: based-devdrive, a driver that gives a dev chain the activity
 * of a small BasedAI network so that `based-tft gen --kind devnet` has
 * something real to record (docs/tft.md, "Devnet-recorded data").
 *
 *   based-devdrive [--rpc URL] [--rpc-cookie FILE] [--epochs N] [--seed S]
 *                  [--miners-a N] [--miners-b N] [--quiet]
 *
 * Everything goes through the node's JSON-RPC as signed transactions; the
 * chain runs its real epochs (Yuma consensus, commit-reveal, payouts).
 * What is NOT real: the scores the validators post come from this driver's
 * model of miner quality, not from model inference (it predates
 * based-miner and based-validator; for a network of the real programs see
 * bin/based-devnet and tests/tft/record-devnet-neurons.sh). The model:
 * - two Brains bought by burn (owners dev1, dev2): A with 4 validators and
 *   --miners-a miners (12), B with 3 validators and --miners-b miners (8);
 *   the chain's max_miners decides whether a late joiner replaces someone;
 * - each miner has a quality q in [0.1, 1] that drifts (mean-reverting
 *   noise) and, with probability 1/70 per epoch, steps by 0.1-0.3 when it
 *   "switches compression"; a sensitivity to network load (0-0.25) that
 *   lowers its score at busy times; with probability 1/90 per epoch it goes
 *   offline for 2-8 epochs (score 0, no weight);
 * - a new miner joins Brain A at 40 % of the run and Brain B at 60 %;
 * - validators differ in noise (multiplicative, sd 0.03-0.25) and skip an
 *   epoch's commit with probability 0.04; they commit in one window and
 *   reveal in the next (kinds 15/16), as the chain requires;
 * - network load follows a 7-epoch "week" (0.70 .. 1.30) with noise: it
 *   sets the number of transfers between 24 user accounts per epoch and
 *   how many users are active;
 * - every 25 epochs a delegator stakes more on a random validator; every
 *   40 one unstakes part of it.
 * Generated accounts have keys BLAKE2b-256("based/devdrive/SEED/i"): public,
 * for dev chains only, like dev0..dev9 (which fund them).
 * Randomness: splitmix64 from --seed; normal draws as the sum of 12
 * uniforms minus 6 (no libm). Block timing is the node's, so two runs are
 * alike but not identical.
 * Exit status: 0 done, 1 runtime failure (no node, a rejected setup step),
 * 2 usage error.
 */
#include <assert.h>
#include <jansson.h>
#include <sodium.h>
#include <time.h>

#include "chain/crypto.h"
#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/rpcclient.h"
#include "node/runtime.h"
#include "rewards/rewards.h"
#include "chain/base.h"

#define NDEV 10
#define NGEN 64
#define NACC (NDEV + NGEN)
#define NBR 2
#define MAXV 4
#define MAXM 16
#define NUSERS 24
#define USER0 (NDEV + 40)
#define FEE 100000ull               /* 0.0001 BASED */

typedef struct {
    uint8_t sk[32];
    chain_addr a;
    char ss58[CHAIN_ADDR_STRLEN];
    uint64_t nonce;
    bool nonce_ok;
} acct;

typedef struct {
    int acc;                  /* account index */
    int uid;                  /* -1 until registered (or after being replaced) */
    double q, q_target, load_s;
    int offline;              /* epochs left offline */
    bool joined;
} miner;

typedef struct {
    int acc, uid;
    double noise;
    bool pending;             /* a commit waiting for its reveal */
    uint64_t pend_window;
    uint16_t puid[MAXM + 1], pw[MAXM + 1];
    size_t pn;
    uint8_t salt[16];
} validator;

typedef struct {
    int id, owner;
    int nv, nm, nm_init;
    validator v[MAXV];
    miner m[MAXM + 1];
    uint64_t last_window;
    int epochs;               /* windows driven */
    int join_at;
} brain;

typedef struct {
    cli_rpc *rpc;
    const chain_runtime *rt;  /* the kinds */
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint16_t prefix;
    uint64_t tempo, block_ms;
    acct acc[NACC];
    brain b[NBR];
    uint64_t rng;
    int target_epochs;
    bool quiet;
    long sent, rejected;
} drv;

/* ---------------- small helpers ---------------- */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("based-devdrive: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void say(const drv *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const drv *d, const char *fmt, ...)
{
    if (d->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    va_end(ap);
}

static uint64_t next_u64(drv *d)
{
    uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(drv *d, double lo, double hi)
{
    return lo + (hi - lo) * (double)(next_u64(d) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(drv *d)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += unif(d, 0, 1);
    return s - 6.0;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The 7-epoch "week" of network load. */
static double load_of(int epoch)
{
    static const double week[7] = { 0.70, 0.85, 1.00, 1.15, 1.30, 1.20, 0.80 };
    return week[epoch % 7];
}

/* ---------------- RPC ---------------- */

static int rpc(drv *d, const char *method, json_t *params, json_t **res)
{
    cli_rpc_error e;
    based_err rc = cli_rpc_call(d->rpc, method, params, res, &e);
    json_decref(params);
    if (rc != BASED_E_OK)
        return fail("%s: %s", method, e.line), 1;
    return 0;
}

static int head(drv *d, uint64_t *h)
{
    json_t *o;
    if (rpc(d, "chain_getHead", NULL, &o))
        return 1;
    *h = (uint64_t)json_integer_value(json_object_get(o, "height"));
    json_decref(o);
    return 0;
}

static int fetch_nonce(drv *d, int i)
{
    json_t *o;
    if (rpc(d, "account_get", json_pack("[s]", d->acc[i].ss58), &o))
        return 1;
    json_t *n = json_object_get(o, "next_nonce");
    int bad = !json_is_integer(n);
    d->acc[i].nonce = bad ? 0 : (uint64_t)json_integer_value(n);
    d->acc[i].nonce_ok = !bad;
    json_decref(o);
    return bad ? fail("account_get: no next_nonce") : 0;
}

/* Signs and sends a tx of `kind` with JSON payload pj (stolen) from
 * account i. Returns 0 sent, 1 transport failure, 2 rejected by the node
 * (printed unless quiet_reject). */
static int send_tx(drv *d, int i, const char *kind, json_t *pj, bool quiet_reject)
{
    const chain_kind *k = chain_kind_by_name(d->rt, kind);
    const char *why = "payload";
    assert(i >= 0 && i < NACC);
    chain_wbuf w;
    chain_tx tx;
    int st = 0;
    memset(&tx, 0, sizeof tx);
    chain_w_init(&w, CHAIN_TX_PAYLOAD_MAX);
    if (!k || k->from_json(pj, d->prefix, &w, &why) != BASED_E_OK) {
        json_decref(pj);
        chain_w_free(&w);
        return fail("internal: bad %s payload (%s)", kind, why), 1;
    }
    json_decref(pj);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!d->acc[i].nonce_ok && fetch_nonce(d, i)) {
            st = 1;
            break;
        }
        if (chain_tx_make(&tx, d->chain_id, d->acc[i].nonce, FEE, k->id, w.p, w.len,
                          d->acc[i].sk) != BASED_E_OK) {
            st = fail("cannot sign a %s", kind);
            break;
        }
        char *hex = malloc(tx.raw_len * 2 + 3);
        if (!hex) {
            st = fail("out of memory");
            break;
        }
        hex[0] = '0';
        hex[1] = 'x';
        chain_hex(tx.raw, tx.raw_len, hex + 2);
        json_t *res = NULL;
        cli_rpc_error e;
        json_t *params = json_pack("[s]", hex);
        based_err rc = cli_rpc_call(d->rpc, "tx_send", params, &res, &e);
        json_decref(params);
        free(hex);
        chain_tx_release(&tx);
        memset(&tx, 0, sizeof tx);
        json_decref(res);
        if (rc == BASED_E_OK) {
            d->acc[i].nonce++;
            d->sent++;
            st = 0;
            break;
        }
        if (rc == BASED_E_UNAVAILABLE || rc == BASED_E_NET || rc == BASED_E_UNAUTHORIZED ||
            rc == BASED_E_CONFIG) {
            st = fail("tx_send: %s", e.line);
            break;
        }
        if ((rc == BASED_E_NONCE_GAP || rc == BASED_E_NONCE_USED) && attempt == 0) {
            d->acc[i].nonce_ok = false;   /* re-read and try once more */
            continue;
        }
        d->rejected++;
        if (!quiet_reject)
            fprintf(stderr, "based-devdrive: %s from %s rejected: %s\n", kind, d->acc[i].ss58,
                    e.line);
        st = 2;
        break;
    }
    chain_w_free(&w);
    return st;
}

/* Waits until every account in idx[0..n) has all its sent txs committed
 * (account_get nonce == our next nonce), at most `secs` seconds. */
static int wait_committed(drv *d, const int *idx, int n, int secs)
{
    for (int t = 0; t < secs * 10; t++) {
        int pending = 0;
        for (int j = 0; j < n; j++) {
            json_t *o;
            if (rpc(d, "account_get", json_pack("[s]", d->acc[idx[j]].ss58), &o))
                return 1;
            if ((uint64_t)json_integer_value(json_object_get(o, "nonce")) < d->acc[idx[j]].nonce)
                pending++;
            json_decref(o);
        }
        if (!pending)
            return 0;
        sleep_ms(100);
    }
    return fail("transactions not committed after %d s (is the node producing blocks?)", secs);
}

/* ---------------- setup ---------------- */

static void make_accounts(drv *d, uint64_t seed)
{
    for (int i = 0; i < NACC; i++) {
        acct *a = &d->acc[i];
        if (i < NDEV) {
            chain_key_dev((unsigned)i, a->sk);
        } else {
            char label[64];
            int n = snprintf(label, sizeof label, "based/devdrive/%" PRIu64 "/%d", seed, i - NDEV);
            crypto_generichash(a->sk, 32, (const uint8_t *)label, (size_t)n, NULL, 0);
        }
        while (chain_key_pub(a->sk, &a->a) != BASED_E_OK)
            crypto_generichash(a->sk, 32, a->sk, 32, NULL, 0);
        chain_ss58_encode(d->prefix, &a->a, a->ss58);
    }
}

static int chain_info(drv *d)
{
    json_t *o;
    if (rpc(d, "node_getInfo", NULL, &o))
        return 1;
    const char *cid = json_string_value(json_object_get(o, "chain_id"));
    json_t *p = json_object_get(o, "ss58_prefix"), *bt = json_object_get(o, "block_time_ms");
    int bad = !cid || !json_is_integer(p) || !json_is_integer(bt) ||
              !json_is_true(json_object_get(o, "dev"));
    if (!bad) {
        snprintf(d->chain_id, sizeof d->chain_id, "%s", cid);
        d->prefix = (uint16_t)json_integer_value(p);
        d->block_ms = (uint64_t)json_integer_value(bt);
    }
    json_decref(o);
    if (bad)
        return fail("node_getInfo: not a dev chain (based-devdrive needs dev0..dev9 funded)");
    if (rpc(d, "rewards_getSchedule", NULL, &o))
        return 1;
    d->tempo = (uint64_t)json_integer_value(json_object_get(o, "tempo"));
    json_decref(o);
    return d->tempo ? 0 : fail("rewards_getSchedule: no tempo");
}

/* uid of every neuron of brain b, by address. */
static int refresh_uids(drv *d, brain *b)
{
    json_t *o;
    if (rpc(d, "brain_getNeurons", json_pack("[i]", b->id), &o))
        return 1;
    json_t *arr = json_object_get(o, "neurons"), *x;
    size_t i;
    for (int j = 0; j < b->nv; j++)
        b->v[j].uid = -1;
    for (int j = 0; j < b->nm; j++)
        b->m[j].uid = -1;
    json_array_foreach(arr, i, x) {
        const char *a = json_string_value(json_object_get(x, "address"));
        int uid = (int)json_integer_value(json_object_get(x, "uid"));
        for (int j = 0; a && j < b->nv; j++)
            if (!strcmp(d->acc[b->v[j].acc].ss58, a))
                b->v[j].uid = uid;
        for (int j = 0; a && j < b->nm; j++)
            if (!strcmp(d->acc[b->m[j].acc].ss58, a))
                b->m[j].uid = uid;
    }
    json_decref(o);
    return 0;
}

static json_t *amount(double based)
{
    char s[32];
    snprintf(s, sizeof s, "%.4f", based);
    return json_string(s);
}

static int memorize(drv *d, brain *b, int acc, const char *role)
{
    return send_tx(d, acc, "memorize", json_pack("{s:i,s:s}", "brain", b->id, "role", role),
                   false) ? 1 : 0;
}

static int setup(drv *d, int miners_a, int miners_b)
{
    int gen[NGEN], ng = 0, devs[NDEV];
    for (int i = 0; i < NDEV; i++)
        devs[i] = i;
    /* 1. fund the generated accounts from dev0 */
    for (int i = NDEV; i < NACC; i++) {
        gen[ng++] = i;
        if (send_tx(d, 0, "transfer", json_pack("{s:s,s:o}", "to", d->acc[i].ss58, "amount",
                                                amount(i < NDEV + 8 ? 3000 : 400)), false))
            return 1;
    }
    say(d, "funded %d accounts", ng);
    if (wait_committed(d, devs, 1, 60))
        return 1;
    /* 2. two Brains by burn */
    for (int k = 0; k < NBR; k++) {
        brain *b = &d->b[k];
        b->owner = 1 + k;
        if (send_tx(d, b->owner, "brain_buy", json_pack("{s:s}", "method", "burn"), false))
            return 1;
        if (wait_committed(d, &b->owner, 1, 60))
            return 1;
        json_t *o;
        if (rpc(d, "account_get", json_pack("[s]", d->acc[b->owner].ss58), &o))
            return 1;
        json_t *ids = json_object_get(o, "brains");
        b->id = json_array_size(ids) ? (int)json_integer_value(json_array_get(ids, json_array_size(ids) - 1)) : -1;
        json_decref(o);
        if (b->id < 0)
            return fail("brain_buy by dev%d committed but the account owns no Brain", b->owner);
        say(d, "Brain %d bought by dev%d", b->id, b->owner);
    }
    /* 3. validators and miners */
    static const double noise[MAXV] = { 0.03, 0.06, 0.12, 0.25 };
    int nextacc = NDEV;
    for (int k = 0; k < NBR; k++) {
        brain *b = &d->b[k];
        b->nv = k == 0 ? 4 : 3;
        b->nm_init = k == 0 ? miners_a : miners_b;
        b->nm = b->nm_init + 1;                 /* + the late joiner */
        b->join_at = k == 0 ? 40 : 60;          /* percent of the run */
        for (int j = 0; j < b->nv; j++) {
            validator *v = &b->v[j];
            v->acc = nextacc++;
            v->noise = noise[(j + k) % MAXV];
            if (memorize(d, b, v->acc, "validator"))
                return 1;
        }
    }
    for (int k = 0; k < NBR; k++) {
        brain *b = &d->b[k];
        for (int j = 0; j < b->nm; j++) {
            miner *m = &b->m[j];
            m->acc = nextacc++;
            m->q = m->q_target = unif(d, 0.35, 1.0);
            m->load_s = unif(d, 0.0, 0.25);
            m->uid = -1;
            if (j < b->nm_init) {
                m->joined = true;
                if (memorize(d, b, m->acc, "miner"))
                    return 1;
            }
        }
    }
    if (nextacc > USER0)
        return fail("internal: too many neurons for the account table");
    if (wait_committed(d, gen, ng, 60))
        return 1;
    /* 4. stake: each validator its own, plus dev4..dev6 delegating */
    for (int k = 0; k < NBR; k++)
        for (int j = 0; j < d->b[k].nv; j++) {
            validator *v = &d->b[k].v[j];
            if (send_tx(d, v->acc, "stake", json_pack("{s:i,s:s,s:o}", "brain", d->b[k].id,
                        "hotkey", d->acc[v->acc].ss58, "amount", amount(unif(d, 200, 1500))),
                        false))
                return 1;
            int dg = 4 + (j % 3);
            if (send_tx(d, dg, "stake", json_pack("{s:i,s:s,s:o}", "brain", d->b[k].id,
                        "hotkey", d->acc[v->acc].ss58, "amount", amount(unif(d, 500, 5000))),
                        false))
                return 1;
        }
    if (wait_committed(d, gen, ng, 60) || wait_committed(d, devs + 4, 3, 60))
        return 1;
    for (int k = 0; k < NBR; k++) {
        if (refresh_uids(d, &d->b[k]))
            return 1;
        for (int j = 0; j < d->b[k].nv; j++)
            if (d->b[k].v[j].uid < 0)
                return fail("validator %d of Brain %d is not registered", j, d->b[k].id);
        say(d, "Brain %d: %d validators, %d miners registered", d->b[k].id, d->b[k].nv,
            d->b[k].nm_init);
    }
    return 0;
}

/* ---------------- one window of a Brain ---------------- */

static void evolve_miners(drv *d, brain *b)
{
    for (int j = 0; j < b->nm; j++) {
        miner *m = &b->m[j];
        if (!m->joined)
            continue;
        if (unif(d, 0, 1) < 1.0 / 70) {            /* switches compression */
            double step = unif(d, 0.1, 0.3) * (unif(d, 0, 1) < 0.5 ? -1 : 1);
            m->q_target = clampd(m->q_target + step, 0.1, 1.0);
            m->q += 0.5 * (m->q_target - m->q);
        }
        m->q = clampd(m->q + 0.15 * (m->q_target - m->q) + 0.01 * normal(d), 0.05, 1.0);
        if (m->offline > 0)
            m->offline--;
        else if (unif(d, 0, 1) < 1.0 / 90)
            m->offline = 2 + (int)(unif(d, 0, 7)) % 7;
    }
}

static void commit_weights(drv *d, brain *b, validator *v, uint64_t window, double load)
{
    double s[MAXM + 1], mx = 0;
    size_t n = 0;
    for (int j = 0; j < b->nm; j++) {
        const miner *m = &b->m[j];
        if (m->uid < 0 || m->offline > 0 || !m->joined)
            continue;
        double eff = m->q * (1.0 - m->load_s * (load - 1.0) * 2.0);
        s[n] = clampd(eff * (1.0 + v->noise * normal(d)), 0, 2);
        v->puid[n] = (uint16_t)m->uid;
        if (s[n] > mx)
            mx = s[n];
        n++;
    }
    /* uids strictly increasing */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v->puid[j - 1] > v->puid[j]; j--) {
            uint16_t tu = v->puid[j]; v->puid[j] = v->puid[j - 1]; v->puid[j - 1] = tu;
            double ts = s[j]; s[j] = s[j - 1]; s[j - 1] = ts;
        }
    size_t k = 0;
    for (size_t i = 0; i < n && mx > 0; i++) {
        uint16_t w = (uint16_t)(65535.0 * s[i] / mx + 0.5);
        if (w) {
            v->puid[k] = v->puid[i];
            v->pw[k++] = w;
        }
    }
    if (k == 0)
        return;
    randombytes_buf(v->salt, sizeof v->salt);
    chain_hash h = reward_commit_hash((uint16_t)b->id, v->puid, v->pw, k, v->salt, sizeof v->salt);
    char hex[67] = "0x";
    chain_hex(h.b, 32, hex + 2);
    if (send_tx(d, v->acc, "weights_commit", json_pack("{s:i,s:s}", "brain", b->id, "commit", hex),
                false) == 0) {
        v->pending = true;
        v->pend_window = window;
        v->pn = k;
    }
}

static void reveal_weights(drv *d, brain *b, validator *v, uint64_t window)
{
    if (!v->pending)
        return;
    v->pending = false;
    if (v->pend_window + 1 != window)
        return;                                    /* missed its window: drop it */
    json_t *u = json_array(), *w = json_array();
    for (size_t i = 0; i < v->pn; i++) {
        json_array_append_new(u, json_integer(v->puid[i]));
        json_array_append_new(w, json_integer(v->pw[i]));
    }
    char salt[2 * sizeof v->salt + 3] = "0x";
    chain_hex(v->salt, sizeof v->salt, salt + 2);
    send_tx(d, v->acc, "weights_reveal", json_pack("{s:i,s:o,s:o,s:s}", "brain", b->id, "uids", u,
                                                   "weights", w, "salt", salt), false);
}

static void transfers(drv *d, double load)
{
    int n = (int)(8.0 * load * unif(d, 0.7, 1.3) + 0.5);
    int pool = (int)(NUSERS * load / 1.3 + 0.5);
    pool = pool < 2 ? 2 : pool > NUSERS ? NUSERS : pool;
    for (int i = 0; i < n; i++) {
        int from = USER0 + (int)unif(d, 0, pool) % pool;
        int to = USER0 + (int)unif(d, 0, NUSERS) % NUSERS;
        if (to == from)
            to = USER0 + (to - USER0 + 1) % NUSERS;
        send_tx(d, from, "transfer", json_pack("{s:s,s:o}", "to", d->acc[to].ss58, "amount",
                                               amount(unif(d, 0.01, 2.0))), true);
    }
}

static void delegation(drv *d, brain *b, int e)
{
    if (e > 0 && e % 25 == 0) {
        validator *v = &b->v[(int)unif(d, 0, b->nv) % b->nv];
        send_tx(d, 4 + (int)unif(d, 0, 3) % 3, "stake", json_pack("{s:i,s:s,s:o}", "brain", b->id,
                "hotkey", d->acc[v->acc].ss58, "amount", amount(unif(d, 200, 2000))), false);
    }
    if (e > 0 && e % 40 == 20) {
        int j = (int)unif(d, 0, b->nv) % b->nv;
        send_tx(d, 4 + (j % 3), "unstake", json_pack("{s:i,s:s,s:o}", "brain", b->id, "hotkey",
                d->acc[b->v[j].acc].ss58, "amount", amount(100)), true);
    }
}

static int drive_window(drv *d, brain *b, uint64_t window, int *joined_pending)
{
    int e = b->epochs++;
    double load = load_of(e) * (1.0 + 0.05 * normal(d));
    evolve_miners(d, b);
    if (*joined_pending && refresh_uids(d, b) == 0)
        *joined_pending = 0;
    for (int j = 0; j < b->nv; j++) {
        validator *v = &b->v[j];
        reveal_weights(d, b, v, window);
        if (unif(d, 0, 1) >= 0.04)
            commit_weights(d, b, v, window, load);
    }
    if (b == &d->b[0])
        transfers(d, load);
    delegation(d, b, e);
    if (e == d->target_epochs * b->join_at / 100) {
        miner *m = &b->m[b->nm - 1];
        m->joined = true;
        say(d, "epoch %d: a new miner joins Brain %d", e, b->id);
        if (memorize(d, b, m->acc, "miner") == 0)
            *joined_pending = 1;
        else
            m->joined = false;                     /* e.g. ROLE_FULL: every miner immune */
    }
    return 0;
}

static int run(drv *d)
{
    uint64_t h;
    int joined_pending[NBR] = { 0 };
    for (int k = 0; k < NBR; k++)
        d->b[k].last_window = UINT64_MAX;
    uint64_t poll = d->block_ms / 4 < 20 ? 20 : d->block_ms / 4;
    while (d->b[0].epochs < d->target_epochs) {
        if (head(d, &h))
            return 1;
        uint64_t land = h + 1;
        for (int k = 0; k < NBR; k++) {
            brain *b = &d->b[k];
            uint64_t w = reward_window(d->tempo, (uint16_t)b->id, land);
            uint64_t pos = (land + (uint64_t)b->id + 2) % (d->tempo + 1);
            /* act early in each window (landing at position 0..3 of tempo + 1):
             * commits stay >= tempo - 3 blocks apart (weights_rate_limit) */
            if (w != b->last_window && pos <= 3) {
                b->last_window = w;
                if (drive_window(d, b, w, &joined_pending[k]))
                    return 1;
                if (k == 0 && (b->epochs % 10 == 0 || b->epochs == d->target_epochs))
                    say(d, "height %" PRIu64 ": %d of %d epochs driven, %ld txs sent, %ld "
                        "rejected", h, b->epochs, d->target_epochs, d->sent, d->rejected);
            }
        }
        sleep_ms(poll);
    }
    return 0;
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: based-devdrive [--rpc URL] [--rpc-cookie FILE] [--epochs N] [--seed S]\n"
               "                      [--miners-a N] [--miners-b N] [--quiet]\n"
               "Drives a dev chain (dev0..dev9 funded) with two Brains, validators posting\n"
               "commit-reveal weights from a model of miner quality (not real inference),\n"
               "delegation and transfers with a 7-epoch load cycle; see docs/tft.md.\n");
    return rc;
}

static bool parse_num(const char *s, long lo, long hi, long *v)
{
    char *end;
    long x = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

int main(int argc, char **argv)
{
    drv *d = calloc(1, sizeof *d);
    const char *url = NULL, *cookie = NULL;
    long epochs = 200, seed = 1, ma = 12, mb = 8;
    if (!d)
        return fail("out of memory");
    d->rt = based_runtime();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(a, "--help"))
            return usage(stdout, 0);
        if (!strcmp(a, "--quiet")) { d->quiet = true; continue; }
        if (!strcmp(a, "--rpc")) url = v;
        else if (!strcmp(a, "--rpc-cookie")) cookie = v;
        else if (!strcmp(a, "--epochs")) ok = parse_num(v, 1, 100000, &epochs);
        else if (!strcmp(a, "--seed")) ok = parse_num(v, 0, 2147483647, &seed);
        else if (!strcmp(a, "--miners-a")) ok = parse_num(v, 1, MAXM, &ma);
        else if (!strcmp(a, "--miners-b")) ok = parse_num(v, 1, MAXM, &mb);
        else {
            fprintf(stderr, "based-devdrive: unknown option %s\n", a);
            return usage(stderr, 2);
        }
        if (!ok || !v) {
            fprintf(stderr, "based-devdrive: bad or missing value for %s\n", a);
            return 2;
        }
        i++;
    }
    char err[CLI_ERR_LEN];
    if (chain_crypto_init() != 0)
        return fail("cannot initialise the crypto libraries");
    if (cli_rpc_new(url, cookie, &d->rpc, err) != BASED_E_OK)
        return fail("%s", err);
    d->rng = (uint64_t)seed * 0x2545f4914f6cdd1dull + 1;
    d->target_epochs = (int)epochs;
    int rc = chain_info(d);
    if (rc == 0) {
        make_accounts(d, (uint64_t)seed);
        rc = setup(d, (int)ma, (int)mb);
    }
    if (rc == 0)
        rc = run(d);
    if (rc == 0)
        say(d, "done: %d epochs of Brain %d, %ld txs sent, %ld rejected", d->b[0].epochs,
            d->b[0].id, d->sent, d->rejected);
    cli_rpc_free(d->rpc);
    sodium_memzero(d->acc, sizeof d->acc);
    free(d);
    return rc ? 1 : 0;
}
