/*
 * stake.c: BASED stake on a Brain's validators (own or delegated), unstake,
 * validator take, and the active-validator rule.
 *
 * Staking moves BASED from the staker's balance into three records (the
 * delegation, the hotkey's total, the staker's index) and adds it to the
 * Brain's stake and to the totals record's stake_total, which the supply
 * audit counts with the balances. Stake can only be added to a registered
 * validator; it can always be taken back, also after the validator was
 * replaced or the Brain deactivated (name the Brain's old instance).
 */
#include "chain/account.h"
#include "chain/keys.h"
#include "staking/staking.h"

/* ---------------- records ---------------- */

static void put_brain(uint8_t *k, uint16_t brain, uint32_t inst)
{
    k[0] = (uint8_t)(brain >> 8);
    k[1] = (uint8_t)brain;
    k[2] = (uint8_t)(inst >> 24);
    k[3] = (uint8_t)(inst >> 16);
    k[4] = (uint8_t)(inst >> 8);
    k[5] = (uint8_t)inst;
}

static based_err get_amount(chain_view *v, const uint8_t *k, size_t kl, uint64_t *out)
{
    const uint8_t *val;
    size_t vl;
    *out = 0;
    based_err rc = chain_view_get(v, k, kl, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    if (vl != 8)
        return BASED_E_DB;
    *out = chain_get_be64(val);
    return BASED_E_OK;
}

static based_err put_amount(chain_view *v, const uint8_t *k, size_t kl, uint64_t x)
{
    uint8_t val[8];
    if (x == 0)
        return chain_view_del(v, k, kl);
    chain_put_be64(val, x);
    return chain_view_put(v, k, kl, val, sizeof val);
}

/* Adds (add = true) or removes amount on one record; checked. */
static based_err adjust(chain_view *v, const uint8_t *k, size_t kl, uint64_t amount, bool add)
{
    uint64_t x;
    based_err rc = get_amount(v, k, kl, &x);
    if (rc != BASED_E_OK)
        return rc;
    if (add ? x > UINT64_MAX - amount : x < amount)
        return add ? BASED_E_OVERFLOW : BASED_E_INSUFFICIENT;
    return put_amount(v, k, kl, add ? x + amount : x - amount);
}

based_err stake_hotkey_total(chain_view *v, uint16_t brain, uint32_t instance,
                             const chain_addr *hotkey, uint64_t *total)
{
    uint8_t k[39];
    k[0] = CHAIN_T_HOTKEY;
    put_brain(k + 1, brain, instance);
    memcpy(k + 7, hotkey->b, 32);
    return get_amount(v, k, sizeof k, total);
}

/* The three stake records of (staker -> hotkey on brain/instance). */
static based_err move_stake(chain_view *v, uint16_t brain, uint32_t inst, const chain_addr *hot,
                            const chain_addr *staker, uint64_t amount, bool add)
{
    uint8_t kk[71], kh[39], km[71];
    kk[0] = CHAIN_T_STAKE;
    put_brain(kk + 1, brain, inst);
    memcpy(kk + 7, hot->b, 32);
    memcpy(kk + 39, staker->b, 32);
    memcpy(kh, kk, 39);
    kh[0] = CHAIN_T_HOTKEY;
    km[0] = CHAIN_T_STAKER;
    memcpy(km + 1, staker->b, 32);
    put_brain(km + 33, brain, inst);
    memcpy(km + 39, hot->b, 32);
    based_err rc = adjust(v, kk, sizeof kk, amount, add);
    if (rc == BASED_E_OK)
        rc = adjust(v, kh, sizeof kh, amount, add);
    if (rc == BASED_E_OK)
        rc = adjust(v, km, sizeof km, amount, add);
    return rc;
}

based_err stake_add(chain_view *v, contract_brain *b, contract_totals *t, const chain_addr *hotkey,
                    const chain_addr *staker, uint64_t amount)
{
    if (b->stake > UINT64_MAX - amount || t->stake_total > UINT64_MAX - amount)
        return BASED_E_OVERFLOW;
    based_err rc = move_stake(v, b->id, b->instance, hotkey, staker, amount, true);
    if (rc == BASED_E_OK) {
        b->stake += amount;
        t->stake_total += amount;
    }
    return rc;
}

/* ---------------- stake ---------------- */

static const contract_pfield stake_f[] = {
    { "brain", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
    { "hotkey", CP_ADDR, 0, false, NULL },
    { "amount", CP_AMOUNT, 0, false, NULL },
    { "instance", CP_U32, 0, true, NULL },
};
static const contract_payload stake_spec = { stake_f, 3 };
static const contract_payload unstake_spec = { stake_f, 4 };

static based_err amount_check(const contract_pval *v, const char **why)
{
    return v[2].u == 0 ? (*why = "amount", BASED_E_ZERO_AMOUNT) : BASED_E_OK;
}

static uint64_t stake_spend(const uint8_t *p, size_t n)
{
    contract_pval v[4];
    return contract_payload_decode(&stake_spec, p, n, v, NULL) == BASED_E_OK ? v[2].u : 0;
}

static based_err active_brain(chain_exec *ex, uint64_t id, contract_brain *b, const char **why)
{
    based_err rc = contract_brain_get(ex->txview, id, b);
    if (rc == BASED_E_NOT_FOUND)
        *why = "brain (no such active Brain)";
    return rc;
}

static based_err stake_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                             const char **why)
{
    contract_brain b;
    contract_totals t;
    stake_neuron n;
    uint16_t uid;
    const chain_addr *hot = (const chain_addr *)v[1].b;
    based_err rc = active_brain(ex, v[0].u, &b, why);
    if (rc != BASED_E_OK)
        return rc;
    rc = stake_uid_of(ex->txview, &b, hot, &uid);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "hotkey", BASED_E_NOT_REGISTERED;
    if (rc != BASED_E_OK || (rc = stake_neuron_get(ex->txview, &b, uid, &n)) != BASED_E_OK)
        return rc;
    if (n.role != STAKE_VALIDATOR)
        return *why = "hotkey", BASED_E_NOT_VALIDATOR;
    if ((rc = contract_totals_get(ex->txview, &t)) != BASED_E_OK)
        return rc;
    if (b.stake > UINT64_MAX - v[2].u || t.stake_total > UINT64_MAX - v[2].u)
        return *why = "amount", BASED_E_OVERFLOW;
    if ((rc = chain_debit(ex->txview, &tx->sender, v[2].u)) != BASED_E_OK)
        return *why = "amount", rc;
    if ((rc = move_stake(ex->txview, b.id, b.instance, hot, &tx->sender, v[2].u, true)) != BASED_E_OK)
        return *why = "amount", rc;
    b.stake += v[2].u;
    t.stake_total += v[2].u;
    char amt[32];
    chain_amount_format(v[2].u, amt);
    CONTRACT_EVENT(ex, "staked", "{s:i,s:i,s:s}", "brain", b.id, "uid", uid, "amount", amt);
    if ((rc = contract_brain_put(ex->txview, &b)) != BASED_E_OK)
        return rc;
    return contract_totals_put(ex->txview, &t);
}

static based_err unstake_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                               const char **why)
{
    contract_brain b;
    contract_totals t;
    const chain_addr *hot = (const chain_addr *)v[1].b;
    based_err rc = contract_brain_get(ex->txview, v[0].u, &b);
    if (rc != BASED_E_OK && rc != BASED_E_NOT_FOUND)
        return rc;
    bool live = rc == BASED_E_OK && (!v[3].present || v[3].u == b.instance);
    if (!live && !v[3].present)
        return *why = "brain (no such active Brain; name the instance)", BASED_E_NOT_FOUND;
    uint32_t inst = live ? b.instance : (uint32_t)v[3].u;
    if ((rc = contract_totals_get(ex->txview, &t)) != BASED_E_OK)
        return rc;
    rc = move_stake(ex->txview, (uint16_t)v[0].u, inst, hot, &tx->sender, v[2].u, false);
    if (rc != BASED_E_OK)
        return *why = "amount (more than staked)", rc;
    if ((rc = chain_credit(ex->txview, &tx->sender, v[2].u)) != BASED_E_OK)
        return *why = "amount", rc;
    t.stake_total -= v[2].u;
    if (live) {
        b.stake -= v[2].u;
        rc = contract_brain_put(ex->txview, &b);
    } else {
        t.stake_orphan -= v[2].u;
    }
    char amt[32];
    chain_amount_format(v[2].u, amt);
    CONTRACT_EVENT(ex, "unstaked", "{s:i,s:i,s:s}", "brain", (int)v[0].u, "instance", (int)inst,
                   "amount", amt);
    return rc == BASED_E_OK ? contract_totals_put(ex->txview, &t) : rc;
}

/* ---------------- take ---------------- */

based_err stake_take_get(chain_view *v, const chain_genesis *g, const chain_addr *hotkey,
                         uint64_t *bps, uint64_t *changed_at)
{
    uint8_t k[33];
    const uint8_t *val;
    size_t vl;
    k[0] = CHAIN_T_TAKE;
    memcpy(k + 1, hotkey->b, 32);
    *bps = contract_param_get(v, g, offsetof(chain_params, take_default_bps));
    *changed_at = 0;
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    if (vl != 16)
        return BASED_E_DB;
    *bps = chain_get_be64(val);
    *changed_at = chain_get_be64(val + 8);
    return BASED_E_OK;
}

static const contract_pfield take_f[] = {
    { "take_bps", CP_U16, 10000, false, NULL },
};
static const contract_payload take_spec = { take_f, 1 };

static based_err take_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                            const char **why)
{
    uint64_t cur, changed;
    uint8_t k[33], val[16];
    based_err rc = stake_take_get(ex->txview, ex->genesis, &tx->sender, &cur, &changed);
    if (rc != BASED_E_OK)
        return rc;
    if (v[0].u < CONTRACT_PARAM(ex, take_min_bps) || v[0].u > CONTRACT_PARAM(ex, take_max_bps))
        return *why = "take_bps (outside take_min_bps..take_max_bps)", BASED_E_BAD_PARAM;
    if (changed && ex->height - changed < CONTRACT_PARAM(ex, take_rate_limit_blocks))
        return *why = "take_bps (take_rate_limit_blocks since the last change)",
               BASED_E_RATE_LIMITED;
    k[0] = CHAIN_T_TAKE;
    memcpy(k + 1, tx->sender.b, 32);
    chain_put_be64(val, v[0].u);
    chain_put_be64(val + 8, ex->height);
    CONTRACT_EVENT(ex, "take_set", "{s:i}", "take_bps", (int)v[0].u);
    return chain_view_put(ex->txview, k, sizeof k, val, sizeof val);
}

/* ---------------- active validators ---------------- */

typedef struct {
    uint16_t uid;
    uint64_t stake;
} ranked;

/* Descending by stake; equal stake: higher uid first (the lower uid loses). */
static int rank_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->stake != y->stake)
        return x->stake > y->stake ? -1 : 1;
    return x->uid > y->uid ? -1 : x->uid < y->uid;
}

based_err stake_active_validators(chain_view *v, const chain_genesis *g, const contract_brain *b,
                                  bool *active, uint64_t *stake)
{
    ranked *r = malloc((b->n_uids ? b->n_uids : 1) * sizeof *r);
    size_t nv = 0;
    based_err rc = r ? BASED_E_OK : BASED_E_NOMEM;
    for (uint16_t uid = 0; rc == BASED_E_OK && uid < b->n_uids; uid++) {
        stake_neuron n;
        uint64_t s = 0;
        active[uid] = false;
        rc = stake_neuron_get(v, b, uid, &n);
        if (rc == BASED_E_OK)
            rc = stake_hotkey_total(v, b->id, b->instance, &n.addr, &s);
        if (stake)
            stake[uid] = s;
        if (rc == BASED_E_OK && n.role == STAKE_VALIDATOR)
            r[nv++] = (ranked){ uid, s };
    }
    if (rc == BASED_E_OK) {
        uint64_t bps = contract_param_get(v, g, offsetof(chain_params, active_validator_bps));
        uint64_t out = (uint64_t)((contract_u128)nv * (10000 - bps) / 10000);
        uint64_t keep = nv - out < 256 ? nv - out : 256;
        qsort(r, nv, sizeof *r, rank_cmp);
        for (size_t i = 0; i < keep; i++)
            active[r[i].uid] = true;
    }
    free(r);
    return rc;
}

CONTRACT_KIND(stake_stake, STAKE_KIND_STAKE, "stake", stake_spec, amount_check, stake_apply,
              stake_spend);
CONTRACT_KIND(stake_unstake, STAKE_KIND_UNSTAKE, "unstake", unstake_spec, amount_check,
              unstake_apply, NULL);
CONTRACT_KIND(stake_set_take, STAKE_KIND_SET_TAKE, "set_take", take_spec, NULL, take_apply, NULL);
