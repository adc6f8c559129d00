/*
 * account.c: account and supply records in the state (see account.h).
 */
#include "chain/account.h"
#include "chain/codec.h"
#include "chain/keys.h"

static void account_key(const chain_addr *a, uint8_t k[33])
{
    k[0] = CHAIN_T_ACCOUNT;
    memcpy(k + 1, a->b, 32);
}

based_err chain_account_get(chain_view *v, const chain_addr *a, chain_account *out)
{
    uint8_t k[33];
    const uint8_t *val;
    size_t vlen;
    memset(out, 0, sizeof *out);
    account_key(a, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vlen);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    chain_rbuf r;
    chain_r_init(&r, val, vlen);
    out->balance = chain_r_u64(&r);
    out->nonce = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

based_err chain_account_put(chain_view *v, const chain_addr *a, const chain_account *acct)
{
    uint8_t k[33], val[16];
    account_key(a, k);
    if (acct->balance == 0 && acct->nonce == 0)
        return chain_view_del(v, k, sizeof k);
    for (int i = 0; i < 8; i++) {
        val[i] = (uint8_t)(acct->balance >> (8 * i));
        val[8 + i] = (uint8_t)(acct->nonce >> (8 * i));
    }
    return chain_view_put(v, k, sizeof k, val, sizeof val);
}

based_err chain_credit(chain_view *v, const chain_addr *a, uint64_t amount)
{
    chain_account acct;
    based_err rc = chain_account_get(v, a, &acct);
    if (rc != BASED_E_OK)
        return rc;
    if (acct.balance > UINT64_MAX - amount)
        return BASED_E_OVERFLOW;
    acct.balance += amount;
    return chain_account_put(v, a, &acct);
}

based_err chain_debit(chain_view *v, const chain_addr *a, uint64_t amount)
{
    chain_account acct;
    based_err rc = chain_account_get(v, a, &acct);
    if (rc != BASED_E_OK)
        return rc;
    if (acct.balance < amount)
        return BASED_E_INSUFFICIENT;
    acct.balance -= amount;
    return chain_account_put(v, a, &acct);
}

based_err chain_supply_get(chain_view *v, chain_supply *s)
{
    static const uint8_t k[1] = { CHAIN_T_SUPPLY };
    const uint8_t *val;
    size_t vlen;
    memset(s, 0, sizeof *s);
    based_err rc = chain_view_get(v, k, 1, &val, &vlen);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    chain_rbuf r;
    chain_r_init(&r, val, vlen);
    s->genesis = chain_r_u64(&r);
    s->minted = chain_r_u64(&r);
    s->burned = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err ? BASED_E_DB : BASED_E_OK;
}

based_err chain_supply_put(chain_view *v, const chain_supply *s)
{
    static const uint8_t k[1] = { CHAIN_T_SUPPLY };
    chain_wbuf w;
    chain_w_init(&w, 64);
    chain_w_u64(&w, s->genesis);
    chain_w_u64(&w, s->minted);
    chain_w_u64(&w, s->burned);
    based_err rc = w.err ? BASED_E_NOMEM : chain_view_put(v, k, 1, w.p, w.len);
    chain_w_free(&w);
    return rc;
}
