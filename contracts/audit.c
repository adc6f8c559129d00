/*
 * audit.c: the invariants of contracts/ and staking/, checked over the
 * committed store by scanning (tests and `basedd --verify`; never in
 * block execution):
 *   Pepecoin: genesis + bridged - burned = balances + locked, and locked =
 *   the sum of the Pepecoin locked in Brains;
 *   stake: the delegation records, the hotkey totals and the staker index
 *   each add up to the totals record's stake_total; per active Brain the
 *   delegations add up to its stake; stake on deactivated Brains adds up to
 *   stake_orphan;
 *   Brains: at most 1024 records, as many as the totals record's count;
 *   each within its slot limits.
 */
#include "chain/keys.h"
#include "contracts/contracts.h"
#include "contracts/state.h"
#include "staking/staking.h"

typedef struct {
    uint64_t sum;
    bool overflow;
    /* per (brain id) stake of the live instance, and everything else */
    uint32_t inst[CONTRACT_MAX_BRAINS];
    uint64_t per_brain[CONTRACT_MAX_BRAINS];
    uint64_t orphan;
} scan_acc;

static void add(uint64_t *s, uint64_t x, bool *ov)
{
    if (*s > UINT64_MAX - x)
        *ov = true;
    else
        *s += x;
}

static int sum_pepe(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    scan_acc *a = user;
    (void)k;
    chain_rbuf r;
    if (kl != 33 || vl != 8)
        return 1;
    chain_r_init(&r, v, vl);
    add(&a->sum, chain_r_u64(&r), &a->overflow);
    return 0;
}

static int sum_be64(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    scan_acc *a = user;
    (void)k;
    (void)kl;
    if (vl != 8)
        return 1;
    add(&a->sum, chain_get_be64(v), &a->overflow);
    return 0;
}

static int sum_delegations(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    scan_acc *a = user;
    if (kl != 71 || vl != 8)
        return 1;
    uint16_t id = (uint16_t)(k[1] << 8 | k[2]);
    uint32_t inst = (uint32_t)k[3] << 24 | (uint32_t)k[4] << 16 | (uint32_t)k[5] << 8 | k[6];
    uint64_t x = chain_get_be64(v);
    add(&a->sum, x, &a->overflow);
    if (id < CONTRACT_MAX_BRAINS && a->inst[id] == inst && inst != 0)
        add(&a->per_brain[id], x, &a->overflow);
    else
        add(&a->orphan, x, &a->overflow);
    return 0;
}

static based_err fail(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static based_err fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return BASED_E_STATE_MISMATCH;
}

static based_err check_pepe(chain_store *st, chain_view *v, uint64_t brains_locked,
                            char *err, size_t errlen)
{
    static const uint8_t pfx = CHAIN_T_PEPE;
    contract_pepe_supply s;
    scan_acc *a = calloc(1, sizeof *a);
    based_err rc = a ? contract_pepe_supply_get(v, &s) : BASED_E_NOMEM;
    if (rc == BASED_E_OK && chain_store_scan(st, &pfx, 1, sum_pepe, a) != 0)
        rc = BASED_E_DB;
    if (rc == BASED_E_OK) {
        uint64_t held = a->sum + s.locked, expected = s.genesis + s.bridged - s.burned;
        if (a->overflow || held != expected)
            rc = fail(err, errlen, "Pepecoin supply: held %" PRIu64 ", expected %" PRIu64,
                      held, expected);
        else if (s.locked != brains_locked)
            rc = fail(err, errlen, "Pepecoin locked %" PRIu64 " but Brains lock %" PRIu64,
                      s.locked, brains_locked);
    }
    free(a);
    return rc;
}

/* The role counts and oldest registrations a Brain record keeps agree with
 * its neuron records. */
static based_err check_neurons(chain_view *v, const contract_brain *b, char *err, size_t errlen)
{
    uint64_t count[2] = { 0, 0 }, oldest[2] = { UINT64_MAX, UINT64_MAX };
    for (uint16_t uid = 0; uid < b->n_uids; uid++) {
        stake_neuron n;
        based_err rc = stake_neuron_get(v, b, uid, &n);
        if (rc != BASED_E_OK || n.role > 1)
            return rc != BASED_E_OK ? rc : BASED_E_DB;
        count[n.role]++;
        if (n.registered_at < oldest[n.role])
            oldest[n.role] = n.registered_at;
    }
    if (count[0] != b->n_miners || count[1] != b->n_validators)
        return fail(err, errlen, "Brain %u: neuron records say %" PRIu64 " validators, the "
                    "Brain %u", b->id, count[1], b->n_validators);
    for (int r = 0; r < 2; r++)
        if (count[r] && oldest[r] != b->oldest_reg[r])
            return fail(err, errlen, "Brain %u: oldest registration %" PRIu64 ", recorded %"
                        PRIu64, b->id, oldest[r], b->oldest_reg[r]);
    return BASED_E_OK;
}

/* Brain records: count, slot limits; fills inst[] and the locked sum. */
static based_err check_brains(chain_view *v, const chain_genesis *g, const contract_totals *t,
                              scan_acc *a, uint64_t *locked, char *err, size_t errlen)
{
    uint64_t n = 0;
    *locked = 0;
    for (uint64_t id = 0; id < CONTRACT_MAX_BRAINS; id++) {
        contract_brain b;
        based_err rc = contract_brain_get(v, id, &b);
        if (rc == BASED_E_NOT_FOUND)
            continue;
        if (rc != BASED_E_OK)
            return rc;
        n++;
        a->inst[id] = b.instance;
        *locked += b.locked;
        if (b.n_validators > g->params.max_validators || b.n_miners > g->params.max_miners ||
            b.n_validators + b.n_miners != b.n_uids)
            return fail(err, errlen, "Brain %" PRIu64 " has %" PRIu64 " uids outside its slots",
                        id, (uint64_t)b.n_uids);
        if ((rc = check_neurons(v, &b, err, errlen)) != BASED_E_OK)
            return rc;
    }
    if (n != t->active || n > CONTRACT_MAX_BRAINS)
        return fail(err, errlen, "%" PRIu64 " Brain records, totals say %" PRIu64, n, t->active);
    return BASED_E_OK;
}

static based_err check_stake(chain_store *st, chain_view *v, const contract_totals *t,
                             scan_acc *a, char *err, size_t errlen)
{
    static const uint8_t pk = CHAIN_T_STAKE, ph = CHAIN_T_HOTKEY, pm = CHAIN_T_STAKER;
    a->sum = 0;
    if (chain_store_scan(st, &pk, 1, sum_delegations, a) != 0)
        return BASED_E_DB;
    if (a->overflow || a->sum != t->stake_total)
        return fail(err, errlen, "stake records add up to %" PRIu64 ", totals say %" PRIu64,
                    a->sum, t->stake_total);
    if (a->orphan != t->stake_orphan)
        return fail(err, errlen, "stake on old Brains %" PRIu64 ", totals say %" PRIu64,
                    a->orphan, t->stake_orphan);
    for (uint64_t id = 0; id < CONTRACT_MAX_BRAINS; id++) {
        contract_brain b;
        if (a->inst[id] && contract_brain_get(v, id, &b) == BASED_E_OK &&
            b.stake != a->per_brain[id])
            return fail(err, errlen, "Brain stake %" PRIu64 " but its delegations add up to %" PRIu64,
                        b.stake, a->per_brain[id]);
    }
    const uint8_t *pf[2] = { &ph, &pm };
    for (int i = 0; i < 2; i++) {
        a->sum = 0;
        if (chain_store_scan(st, pf[i], 1, sum_be64, a) != 0)
            return BASED_E_DB;
        if (a->overflow || a->sum != t->stake_total)
            return fail(err, errlen, "stake index adds up to %" PRIu64 ", totals say %" PRIu64,
                        a->sum, t->stake_total);
    }
    return BASED_E_OK;
}

based_err contract_audit(chain_store *st, const chain_genesis *g, uint64_t *stake_total,
                         char *err, size_t errlen)
{
    contract_totals t;
    uint64_t locked = 0;
    chain_view *v = chain_view_new(st, NULL);
    scan_acc *a = calloc(1, sizeof *a);
    based_err rc = v && a ? contract_totals_get(v, &t) : BASED_E_NOMEM;
    *stake_total = rc == BASED_E_OK ? t.stake_total : 0;
    if (rc == BASED_E_OK)
        rc = check_brains(v, g, &t, a, &locked, err, errlen);
    if (rc == BASED_E_OK)
        rc = check_stake(st, v, &t, a, err, errlen);
    if (rc == BASED_E_OK)
        rc = check_pepe(st, v, locked, err, errlen);
    free(a);
    chain_view_free(v);
    return rc;
}
