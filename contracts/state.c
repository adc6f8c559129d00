/*
 * state.c: Pepecoin balances, the totals record, Brain records, governed
 * parameters and the glue between the payload codec and the kind table
 * (see state.h).
 */
#include "chain/keys.h"
#include "contracts/gov.h"
#include "contracts/state.h"

/* ---------------- small value helpers ---------------- */

/* Reads a value of u64 fields; a missing key reads as zeros. */
static based_err get_u64s(chain_view *v, const uint8_t *k, size_t kl, uint64_t *out, size_t n)
{
    const uint8_t *val;
    size_t vl;
    memset(out, 0, n * sizeof *out);
    based_err rc = chain_view_get(v, k, kl, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    chain_rbuf r;
    chain_r_init(&r, val, vl);
    for (size_t i = 0; i < n; i++)
        out[i] = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

/* Writes u64 fields; all zero deletes the key. */
static based_err put_u64s(chain_view *v, const uint8_t *k, size_t kl, const uint64_t *in, size_t n)
{
    uint8_t buf[64];
    bool zero = true;
    chain_wbuf w;
    for (size_t i = 0; i < n; i++)
        zero = zero && in[i] == 0;
    if (zero)
        return chain_view_del(v, k, kl);
    chain_w_init(&w, sizeof buf);
    for (size_t i = 0; i < n; i++)
        chain_w_u64(&w, in[i]);
    based_err rc = w.err ? BASED_E_NOMEM : chain_view_put(v, k, kl, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

/* ---------------- Pepecoin ---------------- */

static void pepe_key(const chain_addr *a, uint8_t k[33])
{
    k[0] = CHAIN_T_PEPE;
    memcpy(k + 1, a->b, 32);
}

based_err contract_pepe_get(chain_view *v, const chain_addr *a, uint64_t *bal)
{
    uint8_t k[33];
    pepe_key(a, k);
    return get_u64s(v, k, sizeof k, bal, 1);
}

based_err contract_pepe_credit(chain_view *v, const chain_addr *a, uint64_t amount)
{
    uint8_t k[33];
    uint64_t bal;
    pepe_key(a, k);
    based_err rc = get_u64s(v, k, sizeof k, &bal, 1);
    if (rc != BASED_E_OK)
        return rc;
    if (bal > UINT64_MAX - amount)
        return BASED_E_OVERFLOW;
    bal += amount;
    return put_u64s(v, k, sizeof k, &bal, 1);
}

based_err contract_pepe_debit(chain_view *v, const chain_addr *a, uint64_t amount)
{
    uint8_t k[33];
    uint64_t bal;
    pepe_key(a, k);
    based_err rc = get_u64s(v, k, sizeof k, &bal, 1);
    if (rc != BASED_E_OK)
        return rc;
    if (bal < amount)
        return BASED_E_INSUFFICIENT;
    bal -= amount;
    return put_u64s(v, k, sizeof k, &bal, 1);
}

based_err contract_pepe_supply_get(chain_view *v, contract_pepe_supply *s)
{
    static const uint8_t k[1] = { CHAIN_T_PEPESUP };
    uint64_t u[4];
    based_err rc = get_u64s(v, k, 1, u, 4);
    s->genesis = u[0], s->bridged = u[1], s->burned = u[2], s->locked = u[3];
    return rc;
}

based_err contract_pepe_supply_put(chain_view *v, const contract_pepe_supply *s)
{
    static const uint8_t k[1] = { CHAIN_T_PEPESUP };
    uint64_t u[4] = { s->genesis, s->bridged, s->burned, s->locked };
    return put_u64s(v, k, 1, u, 4);
}

/* ---------------- totals ---------------- */

based_err contract_totals_get(chain_view *v, contract_totals *t)
{
    static const uint8_t k[1] = { CHAIN_T_TOTALS };
    uint64_t u[6];
    based_err rc = get_u64s(v, k, 1, u, 6);
    t->active = u[0], t->burn_issued = u[1], t->instance_seq = u[2];
    t->stake_total = u[3], t->stake_orphan = u[4], t->proposal_seq = u[5];
    return rc;
}

based_err contract_totals_put(chain_view *v, const contract_totals *t)
{
    static const uint8_t k[1] = { CHAIN_T_TOTALS };
    uint64_t u[6] = { t->active, t->burn_issued, t->instance_seq, t->stake_total,
                      t->stake_orphan, t->proposal_seq };
    return put_u64s(v, k, 1, u, 6);
}

/* ---------------- Brains ---------------- */

static void brain_key(uint64_t id, uint8_t k[3])
{
    k[0] = CHAIN_T_BRAIN;
    k[1] = (uint8_t)(id >> 8);
    k[2] = (uint8_t)id;
}

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t l)
{
    l = s && l < cap ? l : 0;
    if (l)
        memcpy(dst, s, l);
    dst[l] = '\0';
}

based_err contract_brain_get(chain_view *v, uint64_t id, contract_brain *b)
{
    uint8_t k[3];
    const uint8_t *val, *s;
    size_t vl, l;
    memset(b, 0, sizeof *b);
    if (id >= CONTRACT_MAX_BRAINS)
        return BASED_E_NOT_FOUND;
    brain_key(id, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc != BASED_E_OK)
        return rc;
    chain_rbuf r;
    chain_r_init(&r, val, vl);
    b->id = (uint16_t)id;
    b->instance = chain_r_u32(&r);
    b->method = chain_r_u8(&r);
    chain_r_raw(&r, b->owner.b, 32);
    chain_r_raw(&r, b->payout.b, 32);
    b->issued_at = chain_r_u64(&r);
    b->unlock_at = chain_r_u64(&r);
    b->locked = chain_r_u64(&r);
    s = chain_r_bytes(&r, &l, CONTRACT_NAME_MAX);
    copy_str(b->name, sizeof b->name, s, l);
    s = chain_r_bytes(&r, &l, CONTRACT_DESIGNATION_MAX);
    copy_str(b->designation, sizeof b->designation, s, l);
    chain_r_raw(&r, b->model_hash.b, 32);
    s = chain_r_bytes(&r, &l, CONTRACT_URI_MAX);
    copy_str(b->model_uri, sizeof b->model_uri, s, l);
    b->fee = chain_r_u64(&r);
    b->validator_bps = chain_r_u16(&r);
    b->consensus = chain_r_u8(&r);
    b->n_uids = chain_r_u16(&r);
    b->n_validators = chain_r_u16(&r);
    b->n_miners = chain_r_u16(&r);
    b->stake = chain_r_u64(&r);
    b->oldest_reg[0] = chain_r_u64(&r);
    b->oldest_reg[1] = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

based_err contract_brain_put(chain_view *v, const contract_brain *b)
{
    uint8_t k[3];
    chain_wbuf w;
    brain_key(b->id, k);
    chain_w_init(&w, 1024);
    chain_w_u32(&w, b->instance);
    chain_w_u8(&w, b->method);
    chain_w_raw(&w, b->owner.b, 32);
    chain_w_raw(&w, b->payout.b, 32);
    chain_w_u64(&w, b->issued_at);
    chain_w_u64(&w, b->unlock_at);
    chain_w_u64(&w, b->locked);
    chain_w_bytes(&w, b->name, strlen(b->name));
    chain_w_bytes(&w, b->designation, strlen(b->designation));
    chain_w_raw(&w, b->model_hash.b, 32);
    chain_w_bytes(&w, b->model_uri, strlen(b->model_uri));
    chain_w_u64(&w, b->fee);
    chain_w_u16(&w, b->validator_bps);
    chain_w_u8(&w, b->consensus);
    chain_w_u16(&w, b->n_uids);
    chain_w_u16(&w, b->n_validators);
    chain_w_u16(&w, b->n_miners);
    chain_w_u64(&w, b->stake);
    chain_w_u64(&w, b->oldest_reg[0]);
    chain_w_u64(&w, b->oldest_reg[1]);
    based_err rc = w.err ? BASED_E_NOMEM : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

based_err contract_brain_del(chain_view *v, uint64_t id)
{
    uint8_t k[3];
    brain_key(id, k);
    return chain_view_del(v, k, sizeof k);
}

bool contract_brain_earning(const contract_brain *b, uint64_t h)
{
    return b->method != CONTRACT_BY_STAKE || h >= b->unlock_at;
}

bool contract_is_gigabrain(chain_view *v, const chain_genesis *g, const contract_totals *t,
                           const contract_brain *b)
{
    uint64_t bps = contract_param_get(v, g, offsetof(chain_params, gigabrain_bps));
    uint64_t active = t->stake_total - t->stake_orphan;
    if (b->stake == 0 || active == 0)
        return false;
    return (contract_u128)b->stake * 10000u >= (contract_u128)active * bps;
}

/* ---------------- parameters ---------------- */

uint64_t contract_param_get(chain_view *v, const chain_genesis *g, size_t off)
{
    uint64_t val;
    memcpy(&val, (const uint8_t *)&g->params + off, sizeof val);
    int idx = contract_gov_param_index(off);
    if (idx >= 0) {
        uint8_t k[3] = { CHAIN_T_PARAM, (uint8_t)(idx >> 8), (uint8_t)idx };
        const uint8_t *p;
        size_t l;
        if (chain_view_get(v, k, sizeof k, &p, &l) == BASED_E_OK && l == 8) {
            chain_rbuf r;
            chain_r_init(&r, p, l);
            val = chain_r_u64(&r);
        }
    }
    return val;
}

/* ---------------- kinds ---------------- */

based_err contract_kind_check(const contract_payload *spec, contract_check_fn check,
                              const uint8_t *p, size_t n, const char **why)
{
    contract_pval v[CONTRACT_MAX_FIELDS];
    based_err rc = contract_payload_decode(spec, p, n, v, why);
    if (rc == BASED_E_OK && check)
        rc = check(v, why);
    return rc;
}

based_err contract_kind_apply(const contract_payload *spec, contract_check_fn check,
                              contract_apply_fn apply, chain_exec *ex, const chain_tx *tx,
                              const char **why)
{
    contract_pval v[CONTRACT_MAX_FIELDS];
    if (!ex->genesis)                 /* a chain_exec made without the genesis parameters */
        return *why = "kind", BASED_E_INTERNAL;
    based_err rc = contract_payload_decode(spec, tx->payload, tx->payload_len, v, why);
    if (rc == BASED_E_OK && check)
        rc = check(v, why);           /* also when a producer skipped chain_tx_check */
    return rc == BASED_E_OK ? apply(ex, tx, v, why) : rc;
}

based_err contract_kind_from_json(const contract_payload *spec, contract_check_fn check,
                                  json_t *obj, uint16_t prefix, chain_wbuf *out,
                                  const char **why)
{
    contract_pval v[CONTRACT_MAX_FIELDS];
    based_err rc = contract_payload_from_json(spec, obj, prefix, v, why);
    if (rc == BASED_E_OK && check)
        rc = check(v, why);
    if (rc == BASED_E_OK) {
        contract_payload_encode(spec, v, out);
        rc = out->err ? BASED_E_NOMEM : BASED_E_OK;
    }
    return rc;
}

const char *contract_ss58(const chain_exec *ex, const chain_addr *a, char *buf)
{
    chain_ss58_encode(ex->params->ss58_prefix, a, buf);
    return buf;
}

void contract_strcpy(char *dst, size_t cap, const char *src)
{
    size_t l = strnlen(src, cap - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
}
