/*
 * neuron.c: neuron records and the "memorize" and "serve" kinds.
 *
 * Memorize registers the sender on a Brain as a miner or a validator and
 * pays the Brain's registration fee of that moment to the Brain's payout
 * address. Each Brain has max_validators and max_miners slots (256 and
 * 1792); uids 0..n_uids-1 are handed out in order. When the role is full,
 * the role's non-immune neuron with the lowest pruning score (then the
 * oldest registration, then the lowest uid) is replaced: the uid gets a
 * fresh record, so nothing of the old occupant (endpoint, key, score,
 * registration height) carries over; weights set on the uid before its
 * registration height are masked by the epoch (rewards/).
 */
#include "chain/account.h"
#include "chain/keys.h"
#include "staking/staking.h"

static const char *const role_names[] = { "miner", "validator", NULL };

/* ---------------- records ---------------- */

static size_t brain_prefix(uint8_t *k, uint8_t t, const contract_brain *b)
{
    k[0] = t;
    k[1] = (uint8_t)(b->id >> 8);
    k[2] = (uint8_t)b->id;
    k[3] = (uint8_t)(b->instance >> 24);
    k[4] = (uint8_t)(b->instance >> 16);
    k[5] = (uint8_t)(b->instance >> 8);
    k[6] = (uint8_t)b->instance;
    return 7;
}

static void neuron_key(const contract_brain *b, uint16_t uid, uint8_t k[9])
{
    brain_prefix(k, CHAIN_T_NEURON, b);
    k[7] = (uint8_t)(uid >> 8);
    k[8] = (uint8_t)uid;
}

static void uidof_key(const contract_brain *b, const chain_addr *a, uint8_t k[39])
{
    brain_prefix(k, CHAIN_T_UIDOF, b);
    memcpy(k + 7, a->b, 32);
}

based_err stake_neuron_get(chain_view *v, const contract_brain *b, uint16_t uid,
                           stake_neuron *n)
{
    uint8_t k[9];
    const uint8_t *val, *s;
    size_t vl, l;
    memset(n, 0, sizeof *n);
    neuron_key(b, uid, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc != BASED_E_OK)
        return rc;
    chain_rbuf r;
    chain_r_init(&r, val, vl);
    n->uid = uid;
    chain_r_raw(&r, n->addr.b, 32);
    n->role = chain_r_u8(&r);
    n->registered_at = chain_r_u64(&r);
    n->pruning_score = chain_r_u16(&r);
    n->fee_paid = chain_r_u64(&r);
    n->served = chain_r_u8(&r) != 0;
    s = chain_r_bytes(&r, &l, STAKE_HOST_MAX);
    if (s)
        memcpy(n->host, s, l);
    n->port = chain_r_u16(&r);
    chain_r_raw(&r, n->x25519, 32);
    n->served_at = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

based_err stake_neuron_put(chain_view *v, const contract_brain *b, const stake_neuron *n)
{
    uint8_t k[9];
    chain_wbuf w;
    neuron_key(b, n->uid, k);
    chain_w_init(&w, 1024);
    chain_w_raw(&w, n->addr.b, 32);
    chain_w_u8(&w, n->role);
    chain_w_u64(&w, n->registered_at);
    chain_w_u16(&w, n->pruning_score);
    chain_w_u64(&w, n->fee_paid);
    chain_w_u8(&w, n->served ? 1 : 0);
    chain_w_bytes(&w, n->host, strlen(n->host));
    chain_w_u16(&w, n->port);
    chain_w_raw(&w, n->x25519, 32);
    chain_w_u64(&w, n->served_at);
    based_err rc = w.err ? BASED_E_NOMEM : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

based_err stake_uid_of(chain_view *v, const contract_brain *b, const chain_addr *a,
                       uint16_t *uid)
{
    uint8_t k[39];
    const uint8_t *val;
    size_t vl;
    uidof_key(b, a, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc != BASED_E_OK)
        return rc;
    if (vl != 2)
        return BASED_E_DB;
    *uid = (uint16_t)(val[0] << 8 | val[1]);
    return BASED_E_OK;
}

static based_err uidof_put(chain_view *v, const contract_brain *b, const chain_addr *a,
                           uint16_t uid)
{
    uint8_t k[39], val[2] = { (uint8_t)(uid >> 8), (uint8_t)uid };
    uidof_key(b, a, k);
    return chain_view_put(v, k, sizeof k, val, sizeof val);
}

static based_err uidof_del(chain_view *v, const contract_brain *b, const chain_addr *a)
{
    uint8_t k[39];
    uidof_key(b, a, k);
    return chain_view_del(v, k, sizeof k);
}

bool stake_is_immune(chain_view *v, const chain_genesis *g, const stake_neuron *n, uint64_t h)
{
    uint64_t imm = contract_param_get(v, g, offsetof(chain_params, immunity_blocks));
    return h < n->registered_at || h - n->registered_at < imm;
}

/* ---------------- memorize ---------------- */

static const contract_pfield mem_f[] = {
    { "brain", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
    { "role", CP_ENUM, 0, false, role_names },
    { "max_fee", CP_AMOUNT, 0, true, NULL },
};
static const contract_payload mem_spec = { mem_f, BASED_ARRAY_LEN(mem_f) };

/* The uid to replace in a full role, or BASED_E_ROLE_FULL; updates the
 * role's oldest registration (the victim leaves, a registration at the
 * current height arrives). */
static based_err pick_victim(chain_exec *ex, contract_brain *b, uint8_t role,
                             stake_neuron *victim, const char **why)
{
    bool found = false;
    uint64_t oldest = ex->height, second = ex->height;
    stake_neuron first;
    memset(&first, 0, sizeof first);
    first.registered_at = b->oldest_reg[role];
    if (stake_is_immune(ex->txview, ex->genesis, &first, ex->height))
        return *why = "role (every neuron of the role is immune)", BASED_E_ROLE_FULL;
    for (uint16_t uid = 0; uid < b->n_uids; uid++) {
        stake_neuron n;
        based_err rc = stake_neuron_get(ex->txview, b, uid, &n);
        if (rc != BASED_E_OK)
            return rc;
        if (n.role != role)
            continue;
        if (n.registered_at < oldest) {
            second = oldest;
            oldest = n.registered_at;
        } else if (n.registered_at < second) {
            second = n.registered_at;
        }
        if (stake_is_immune(ex->txview, ex->genesis, &n, ex->height))
            continue;
        if (!found || n.pruning_score < victim->pruning_score ||
            (n.pruning_score == victim->pruning_score && n.registered_at < victim->registered_at)) {
            *victim = n;
            found = true;
        }
    }
    if (!found)
        return *why = "role (every neuron of the role is immune)", BASED_E_ROLE_FULL;
    /* without the victim: if it held the oldest registration, the second is next */
    b->oldest_reg[role] = victim->registered_at == oldest ? second : oldest;
    return BASED_E_OK;
}

/* Picks the uid for a new neuron of `role`, updating b's counts. */
static based_err take_slot(chain_exec *ex, contract_brain *b, uint8_t role, uint16_t *uid,
                           stake_neuron *old, bool *replaced, const char **why)
{
    uint64_t max = role == STAKE_VALIDATOR ? CONTRACT_PARAM(ex, max_validators)
                                           : CONTRACT_PARAM(ex, max_miners);
    uint16_t *count = role == STAKE_VALIDATOR ? &b->n_validators : &b->n_miners;
    *replaced = false;
    if (*count < max && b->n_uids < STAKE_MAX_UIDS) {
        if (*count == 0)
            b->oldest_reg[role] = ex->height;
        *uid = b->n_uids++;
        (*count)++;
        return BASED_E_OK;
    }
    based_err rc = pick_victim(ex, b, role, old, why);
    if (rc != BASED_E_OK)
        return rc;
    *uid = old->uid;
    *replaced = true;
    return uidof_del(ex->txview, b, &old->addr);
}

static based_err pay_fee(chain_exec *ex, const chain_tx *tx, const contract_brain *b,
                         const contract_pval *maxfee, const char **why)
{
    based_err rc;
    if (maxfee->present && b->fee > maxfee->u)
        return *why = "max_fee", BASED_E_FEE_CHANGED;
    if ((rc = chain_debit(ex->txview, &tx->sender, b->fee)) != BASED_E_OK)
        return *why = "brain (registration fee)", rc;
    if ((rc = chain_credit(ex->txview, &b->payout, b->fee)) != BASED_E_OK)
        return *why = "brain (registration fee)", rc;
    return BASED_E_OK;
}

static based_err mem_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                           const char **why)
{
    contract_brain b;
    stake_neuron n, old;
    uint16_t uid;
    bool replaced;
    based_err rc = contract_brain_get(ex->txview, v[0].u, &b);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "brain (no such active Brain)", rc;
    if (rc != BASED_E_OK)
        return rc;
    rc = stake_uid_of(ex->txview, &b, &tx->sender, &uid);
    if (rc == BASED_E_OK)
        return *why = "sender (already registered on this Brain)", BASED_E_EXISTS;
    if (rc != BASED_E_NOT_FOUND)
        return rc;
    if ((rc = pay_fee(ex, tx, &b, &v[2], why)) != BASED_E_OK ||
        (rc = take_slot(ex, &b, (uint8_t)v[1].u, &uid, &old, &replaced, why)) != BASED_E_OK)
        return rc;
    memset(&n, 0, sizeof n);
    n.uid = uid;
    n.addr = tx->sender;
    n.role = (uint8_t)v[1].u;
    n.registered_at = ex->height;
    n.fee_paid = b.fee;
    if ((rc = stake_neuron_put(ex->txview, &b, &n)) != BASED_E_OK ||
        (rc = uidof_put(ex->txview, &b, &tx->sender, uid)) != BASED_E_OK ||
        (rc = contract_brain_put(ex->txview, &b)) != BASED_E_OK)
        return rc;
    char fee[32], s[CHAIN_ADDR_STRLEN];
    chain_amount_format(b.fee, fee);
    CONTRACT_EVENT(ex, "memorized", "{s:i,s:i,s:s,s:s,s:s*}", "brain", b.id, "uid", uid,
                   "role", role_names[n.role], "fee", fee, "replaced",
                   replaced ? contract_ss58(ex, &old.addr, s) : NULL);
    return BASED_E_OK;
}

/* ---------------- serve ---------------- */

static const contract_pfield serve_f[] = {
    { "brain", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
    { "host", CP_STR, STAKE_HOST_MAX, false, NULL },
    { "port", CP_U16, 0, false, NULL },
    { "x25519", CP_HASH, 0, false, NULL },
};
static const contract_payload serve_spec = { serve_f, BASED_ARRAY_LEN(serve_f) };

static based_err serve_check(const contract_pval *v, const char **why)
{
    if (v[1].s[0] == '\0' || strchr(v[1].s, ' '))
        return *why = "host", BASED_E_BAD_PARAM;
    if (v[2].u == 0)
        return *why = "port", BASED_E_BAD_PARAM;
    return BASED_E_OK;
}

static based_err serve_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                             const char **why)
{
    contract_brain b;
    stake_neuron n;
    uint16_t uid;
    based_err rc = contract_brain_get(ex->txview, v[0].u, &b);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "brain (no such active Brain)", rc;
    if (rc != BASED_E_OK)
        return rc;
    rc = stake_uid_of(ex->txview, &b, &tx->sender, &uid);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "sender", BASED_E_NOT_REGISTERED;
    if (rc != BASED_E_OK || (rc = stake_neuron_get(ex->txview, &b, uid, &n)) != BASED_E_OK)
        return rc;
    n.served = true;
    contract_strcpy(n.host, sizeof n.host, v[1].s);
    n.port = (uint16_t)v[2].u;
    memcpy(n.x25519, v[3].b, 32);
    n.served_at = ex->height;
    CONTRACT_EVENT(ex, "served", "{s:i,s:i,s:s,s:i}", "brain", b.id, "uid", uid, "host", n.host,
                   "port", n.port);
    return stake_neuron_put(ex->txview, &b, &n);
}

CONTRACT_KIND(stake_memorize, STAKE_KIND_MEMORIZE, "memorize", mem_spec, NULL, mem_apply, NULL);
CONTRACT_KIND(stake_serve, STAKE_KIND_SERVE, "serve", serve_spec, serve_check, serve_apply, NULL);
