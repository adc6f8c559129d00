/*
 * query.c: the JSON views of Brains, neurons and accounts that the RPC
 * serves (see contracts.h). Read-only; every list is in id or uid order.
 */
#include "chain/account.h"
#include "chain/keys.h"
#include "contracts/contracts.h"
#include "staking/staking.h"

static const char *const method_names[] = { "reserved", "burn", "stake" };
static const char *const consensus_names[] = { "yuma", "whitepaper" };

static json_t *amount(uint64_t v)
{
    char s[32];
    chain_amount_format(v, s);
    return json_string(s);
}

static json_t *base(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return json_string(s);
}

static json_t *addr(const chain_genesis *g, const chain_addr *a)
{
    char s[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(g->ss58_prefix, a, s);
    return json_string(s);
}

static json_t *hex32(const uint8_t *b)
{
    char s[67] = "0x";
    chain_hex(b, 32, s + 2);
    return json_string(s);
}

static json_t *brain_obj(chain_view *v, const chain_genesis *g, uint64_t height,
                         const contract_brain *b, const contract_totals *t)
{
    bool earning = contract_brain_earning(b, height);
    json_t *o = json_pack("{s:i,s:I,s:s,s:o,s:o,s:I,s:s,s:s,s:o,s:s,s:o,s:o,s:i,s:s,s:i,s:i,"
                          "s:i,s:o,s:b,s:b,s:b}",
                          "id", b->id, "instance", (json_int_t)b->instance,
                          "method", method_names[b->method], "owner", addr(g, &b->owner),
                          "payout", addr(g, &b->payout), "issued_at", (json_int_t)b->issued_at,
                          "name", b->name, "designation", b->designation,
                          "model_hash", hex32(b->model_hash.b), "model_uri", b->model_uri,
                          "fee", amount(b->fee), "fee_base", base(b->fee),
                          "validator_bps", b->validator_bps,
                          "consensus", consensus_names[b->consensus],
                          "uids", b->n_uids, "validators", b->n_validators,
                          "miners", b->n_miners, "stake", amount(b->stake),
                          "gigabrain", contract_is_gigabrain(v, g, t, b),
                          "active", 1, "earning", earning);
    if (b->method == CONTRACT_BY_STAKE) {
        json_object_set_new(o, "locked_pepecoin", amount(b->locked));
        json_object_set_new(o, "unlock_at", json_integer((json_int_t)b->unlock_at));
    }
    return o;
}

json_t *contract_brain_json(chain_view *v, const chain_genesis *g, uint64_t height,
                            uint64_t id, based_err *code)
{
    contract_brain b;
    contract_totals t;
    *code = contract_totals_get(v, &t);
    if (*code == BASED_E_OK)
        *code = contract_brain_get(v, id, &b);
    return *code == BASED_E_OK ? brain_obj(v, g, height, &b, &t) : NULL;
}

json_t *contract_brain_list_json(chain_view *v, const chain_genesis *g, uint64_t height)
{
    contract_totals t;
    contract_pepe_supply ps;
    json_t *arr = json_array();
    if (contract_totals_get(v, &t) != BASED_E_OK || contract_pepe_supply_get(v, &ps) != BASED_E_OK)
        return arr;
    for (uint64_t id = 0; id < CONTRACT_MAX_BRAINS; id++) {
        contract_brain b;
        if (contract_brain_get(v, id, &b) == BASED_E_OK)
            json_array_append_new(arr, brain_obj(v, g, height, &b, &t));
    }
    contract_u128 next = (contract_u128)contract_param_get(
        v, g, offsetof(chain_params, brain_burn_step)) * t.burn_issued +
        contract_param_get(v, g, offsetof(chain_params, brain_burn_base));
    return json_pack("{s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "brains", arr,
                     "active", (json_int_t)t.active, "max", (json_int_t)CONTRACT_MAX_BRAINS,
                     "issued_by_burn", (json_int_t)t.burn_issued,
                     "next_burn_price", amount(next > UINT64_MAX ? UINT64_MAX : (uint64_t)next),
                     "stake_price", amount(contract_param_get(
                         v, g, offsetof(chain_params, brain_stake_amount))),
                     "total_stake", amount(t.stake_total - t.stake_orphan),
                     "pepecoin_burned", amount(ps.burned), "pepecoin_locked", amount(ps.locked));
}

static json_t *neuron_obj(chain_view *v, const chain_genesis *g, uint64_t height,
                          const stake_neuron *n, uint64_t stake, bool active)
{
    static const char *const roles[] = { "miner", "validator" };
    json_t *o = json_pack("{s:i,s:o,s:s,s:o,s:I,s:o,s:b,s:b,s:i,s:o}", "uid", n->uid,
                          "address", addr(g, &n->addr), "role", roles[n->role],
                          "stake", amount(stake), "registered_at", (json_int_t)n->registered_at,
                          "stake_base", base(stake), "active", active,
                          "immune", stake_is_immune(v, g, n, height),
                          "pruning_score", n->pruning_score, "fee_paid", amount(n->fee_paid));
    if (n->served) {
        char ep[STAKE_HOST_MAX + 16];
        snprintf(ep, sizeof ep, strchr(n->host, ':') ? "[%s]:%u" : "%s:%u", n->host, n->port);
        json_object_set_new(o, "endpoint", json_string(ep));
        json_object_set_new(o, "x25519", hex32(n->x25519));
        json_object_set_new(o, "served_at", json_integer((json_int_t)n->served_at));
    } else {
        json_object_set_new(o, "endpoint", json_null());
    }
    return o;
}

json_t *contract_neurons_json(chain_view *v, const chain_genesis *g, uint64_t height,
                              uint64_t id, based_err *code)
{
    contract_brain b;
    bool active[STAKE_MAX_UIDS];
    uint64_t stake[STAKE_MAX_UIDS];
    *code = contract_brain_get(v, id, &b);
    if (*code == BASED_E_OK)
        *code = stake_active_validators(v, g, &b, active, stake);
    if (*code != BASED_E_OK)
        return NULL;
    json_t *arr = json_array();
    for (uint16_t uid = 0; uid < b.n_uids; uid++) {
        stake_neuron n;
        if ((*code = stake_neuron_get(v, &b, uid, &n)) != BASED_E_OK) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, neuron_obj(v, g, height, &n, stake[uid], active[uid]));
    }
    return json_pack("{s:i,s:i,s:i,s:i,s:o}", "brain", b.id, "uids", b.n_uids,
                     "validators", b.n_validators, "miners", b.n_miners, "neurons", arr);
}

typedef struct {
    const chain_genesis *g;
    json_t *arr;
} stakes_ctx;

static int add_stake(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    stakes_ctx *c = user;
    if (kl != 71 || vl != 8)
        return 1;
    chain_addr hot;
    memcpy(hot.b, k + 39, 32);
    json_array_append_new(c->arr, json_pack("{s:i,s:I,s:o,s:o}", "brain", k[33] << 8 | k[34],
                          "instance", (json_int_t)((uint32_t)k[35] << 24 | (uint32_t)k[36] << 16 |
                                                   (uint32_t)k[37] << 8 | k[38]),
                          "hotkey", addr(c->g, &hot), "amount", amount(chain_get_be64(v))));
    return 0;
}

typedef struct {
    chain_view *v;
    const chain_addr *a;
    json_t *arr;
    uint64_t locked;
} owned_ctx;

/* A Brain record's key is CHAIN_T_BRAIN || id (be16); it is read through
 * the view (ids ascending, as the scan goes). */
static int add_owned(void *user, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl)
{
    owned_ctx *o = user;
    contract_brain b;
    (void)val, (void)vl;
    if (kl != 3)
        return 0;
    uint64_t id = (uint64_t)k[1] << 8 | k[2];
    if (contract_brain_get(o->v, id, &b) == BASED_E_OK && memcmp(b.owner.b, o->a->b, 32) == 0) {
        json_array_append_new(o->arr, json_integer((json_int_t)id));
        o->locked += b.locked;
    }
    return 0;
}

based_err contract_account_json(chain_store *st, chain_view *v, const chain_genesis *g,
                                const chain_addr *a, json_t *obj)
{
    uint64_t pepe = 0, locked = 0, take = 0, changed = 0;
    uint8_t pfx[33];
    owned_ctx o = { v, a, json_array(), 0 };
    based_err rc = contract_pepe_get(v, a, &pepe);
    /* only the Brains that exist (one ordered scan), not all 1024 ids */
    pfx[0] = CHAIN_T_BRAIN;
    if (rc == BASED_E_OK && chain_store_scan(st, pfx, 1, add_owned, &o) != 0)
        rc = BASED_E_DB;
    json_t *owned = o.arr;
    locked = o.locked;
    if (rc == BASED_E_OK)
        rc = stake_take_get(v, g, a, &take, &changed);
    stakes_ctx c = { g, json_array() };
    pfx[0] = CHAIN_T_STAKER;
    memcpy(pfx + 1, a->b, 32);
    if (rc == BASED_E_OK && chain_store_scan(st, pfx, sizeof pfx, add_stake, &c) != 0)
        rc = BASED_E_DB;
    json_object_set_new(obj, "pepecoin", amount(pepe));
    json_object_set_new(obj, "pepecoin_locked", amount(locked));
    json_object_set_new(obj, "brains", owned);
    json_object_set_new(obj, "stakes", c.arr);
    json_object_set_new(obj, "take_bps", json_integer((json_int_t)take));
    return rc;
}
