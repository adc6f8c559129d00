/*
 * emission.c: the block reward, its halving, its split among Brains, the
 * per-Brain pending emission and the start-of-block hook that accrues it
 * and runs the Brains' epochs (see rewards.h).
 *
 * Each block (at its start, before its transactions, on the state the
 * previous block left) the reward block_reward >> floor(height /
 * blocks_per_year) is split among the active, earning Brains:
 * brain_base_bps of it in proportion to min(stake, cap) x performance, the
 * rest evenly to the top brain_bonus_top_bps of the Brains with non-zero
 * performance. Shares are floors of 128-bit products; what is left (the
 * dust, or the whole reward when no Brain qualifies) is not minted and is
 * counted in `unminted`. A deactivated Brain's pending emission is burned.
 */
#include "chain/account.h"
#include "chain/keys.h"
#include "rewards/internal.h"
#include "rewards/tftchain.h"

/* ---------------- schedule and split ---------------- */

uint64_t reward_block_reward(uint64_t block_reward, uint64_t blocks_per_year, uint64_t height)
{
    if (height == 0 || blocks_per_year == 0)
        return 0;
    uint64_t year = height / blocks_per_year;
    return year >= 64 ? 0 : block_reward >> year;
}

bool reward_is_epoch_block(uint64_t tempo, uint16_t id, uint64_t height)
{
    return tempo != 0 && (height + id + 1) % (tempo + 1) == tempo;
}

uint64_t reward_window(uint64_t tempo, uint16_t id, uint64_t height)
{
    return (height + id + 2) / (tempo + 1);
}

/* Descending performance, then ascending id. */
static int perf_cmp(const void *a, const void *b)
{
    const reward_split_in *x = *(reward_split_in *const *)a, *y = *(reward_split_in *const *)b;
    if (x->perf != y->perf)
        return x->perf > y->perf ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static uint64_t split_bonus(uint64_t bonus, uint64_t top_bps, reward_split_in *b, size_t n)
{
    reward_split_in **el = malloc((n ? n : 1) * sizeof *el);
    size_t ne = 0;
    uint64_t sum = 0;
    if (!el)
        return 0;   /* not reached in practice; nothing minted */
    for (size_t i = 0; i < n; i++)
        if (b[i].earning && b[i].perf > 0)
            el[ne++] = &b[i];
    if (ne > 0) {
        qsort(el, ne, sizeof *el, perf_cmp);
        size_t k = (size_t)(((contract_u128)ne * top_bps + 9999) / 10000);
        k = k < 1 ? 1 : k > ne ? ne : k;
        for (size_t i = 0; i < k; i++) {
            el[i]->share += bonus / k;
            sum += bonus / k;
        }
    }
    free(el);
    return sum;
}

uint64_t reward_split(uint64_t reward, uint64_t cap, uint64_t base_bps, uint64_t top_bps,
                      reward_split_in *b, size_t n)
{
    uint64_t base = (uint64_t)((contract_u128)reward * base_bps / 10000), sum = 0;
    contract_u128 total = 0;
    for (size_t i = 0; i < n; i++) {
        b[i].share = 0;
        if (b[i].earning)
            total += (contract_u128)(b[i].stake < cap ? b[i].stake : cap) * b[i].perf /
                     REWARD_PERF_ONE;
    }
    for (size_t i = 0; total > 0 && i < n; i++) {
        if (!b[i].earning)
            continue;
        uint64_t w = (uint64_t)((contract_u128)(b[i].stake < cap ? b[i].stake : cap) *
                                b[i].perf / REWARD_PERF_ONE);
        b[i].share = (uint64_t)((contract_u128)base * w / total);
        sum += b[i].share;
    }
    return sum + split_bonus(reward - base, top_bps, b, n);
}

/* ---------------- records ---------------- */

static const uint8_t K_TOTALS[1] = { CHAIN_T_EMISSION };

based_err reward_totals_get(chain_view *v, reward_totals *t)
{
    uint64_t u[2];
    based_err rc = reward_get_u64s(v, K_TOTALS, 1, u, 2);
    t->pending_total = u[0], t->unminted = u[1];
    return rc;
}

static based_err totals_put(chain_view *v, const reward_totals *t)
{
    uint64_t u[2] = { t->pending_total, t->unminted };
    return reward_put_u64s(v, K_TOTALS, 1, u, 2);
}

static void brain_key(uint16_t id, uint8_t k[3])
{
    k[0] = CHAIN_T_EMISSION;
    k[1] = (uint8_t)(id >> 8);
    k[2] = (uint8_t)id;
}

static based_err brain_raw_get(chain_view *v, uint16_t id, reward_brain *r)
{
    uint8_t k[3];
    uint64_t u[6];
    brain_key(id, k);
    based_err rc = reward_get_u64s(v, k, sizeof k, u, 6);
    r->instance = (uint32_t)u[0], r->pending = u[1], r->perf = (uint16_t)u[2];
    r->epochs = u[3], r->last_epoch = u[4], r->accrued = u[5];
    return rc;
}

based_err reward_brain_get(chain_view *v, const contract_brain *b, reward_brain *r)
{
    based_err rc = brain_raw_get(v, b->id, r);
    if (rc == BASED_E_OK && r->instance != b->instance) {
        memset(r, 0, sizeof *r);
        r->instance = b->instance;
    }
    return rc;
}

based_err reward_brain_put(chain_view *v, uint16_t id, const reward_brain *r)
{
    uint8_t k[3];
    uint64_t u[6] = { r->instance, r->pending, r->perf, r->epochs, r->last_epoch, r->accrued };
    brain_key(id, k);
    return reward_put_u64s(v, k, sizeof k, u, 6);
}

/* ---------------- the start-of-block hook ---------------- */

/* Burns the pending emission of a record whose Brain is gone or was
 * issued again, and deletes the record. */
static based_err drop_stale(chain_view *v, uint16_t id, const reward_brain *r, reward_totals *t,
                            chain_supply *s)
{
    uint8_t k[3];
    t->pending_total -= r->pending;
    s->burned += r->pending;
    brain_key(id, k);
    return chain_view_del(v, k, sizeof k);
}

typedef struct {
    reward_split_in in[CONTRACT_MAX_BRAINS];
    contract_brain b[CONTRACT_MAX_BRAINS];
    reward_brain r[CONTRACT_MAX_BRAINS];
    size_t n;
} brain_set;

/* Loads every active Brain and its record; burns stale records. */
static based_err load_brains(chain_exec *ex, brain_set *bs, reward_totals *t, chain_supply *s)
{
    bs->n = 0;
    for (uint16_t id = 0; id < CONTRACT_MAX_BRAINS; id++) {
        reward_brain raw;
        contract_brain *b = &bs->b[bs->n];
        based_err rc = brain_raw_get(ex->view, id, &raw);
        if (rc != BASED_E_OK)
            return rc;
        rc = contract_brain_get(ex->view, id, b);
        if (rc != BASED_E_OK && rc != BASED_E_NOT_FOUND)
            return rc;
        bool live = rc == BASED_E_OK;
        if ((raw.instance || raw.pending || raw.epochs) && (!live || raw.instance != b->instance)) {
            if ((rc = drop_stale(ex->view, id, &raw, t, s)) != BASED_E_OK)
                return rc;
        }
        if (!live)
            continue;
        reward_brain *r = &bs->r[bs->n];
        if ((rc = reward_brain_get(ex->view, b, r)) != BASED_E_OK)
            return rc;
        bs->in[bs->n] = (reward_split_in){ id, b->stake, r->perf,
                                           contract_brain_earning(b, ex->height), 0 };
        bs->n++;
    }
    return BASED_E_OK;
}

static based_err accrue(chain_exec *ex, brain_set *bs, reward_totals *t, chain_supply *s)
{
    const chain_genesis *g = ex->genesis;
    contract_totals ct;
    based_err rc = contract_totals_get(ex->view, &ct);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t reward = reward_block_reward(REWARD_PARAM(ex, block_reward), g->blocks_per_year,
                                          ex->height);
    uint64_t cap = (uint64_t)((contract_u128)(ct.stake_total - ct.stake_orphan) *
                              REWARD_PARAM(ex, brain_stake_cap_bps) / 10000);
    uint64_t minted = reward_split(reward, cap, REWARD_PARAM(ex, brain_base_bps),
                                   REWARD_PARAM(ex, brain_bonus_top_bps), bs->in, bs->n);
    for (size_t i = 0; i < bs->n; i++) {
        bs->r[i].pending += bs->in[i].share;
        bs->r[i].accrued += bs->in[i].share;
    }
    if (t->pending_total > UINT64_MAX - minted || s->minted > UINT64_MAX - minted)
        return BASED_E_OVERFLOW;
    t->pending_total += minted;
    t->unminted += reward - minted;
    s->minted += minted;
    return BASED_E_OK;
}

based_err reward_block_begin(chain_exec *ex)
{
    reward_totals t;
    chain_supply s;
    brain_set *bs = malloc(sizeof *bs);
    based_err rc = bs ? reward_totals_get(ex->view, &t) : BASED_E_NOMEM;
    if (rc == BASED_E_OK)
        rc = chain_supply_get(ex->view, &s);
    if (rc == BASED_E_OK)
        rc = load_brains(ex, bs, &t, &s);
    if (rc == BASED_E_OK)
        rc = accrue(ex, bs, &t, &s);
    uint64_t tempo = rc == BASED_E_OK ? REWARD_PARAM(ex, tempo) : 0;
    for (size_t i = 0; rc == BASED_E_OK && bs && i < bs->n; i++) {
        rc = reward_tft_block(ex, &bs->b[i]);       /* a TFT model due now */
        if (rc == BASED_E_OK && reward_is_epoch_block(tempo, bs->b[i].id, ex->height))
            rc = reward_run_epoch(ex, &bs->b[i], &bs->r[i], &t, &s);
        if (rc == BASED_E_OK && (bs->in[i].share || reward_is_epoch_block(tempo, bs->b[i].id,
                                                                          ex->height)))
            rc = reward_brain_put(ex->view, bs->b[i].id, &bs->r[i]);
    }
    if (rc == BASED_E_OK)
        rc = totals_put(ex->view, &t);
    if (rc == BASED_E_OK)
        rc = chain_supply_put(ex->view, &s);
    free(bs);
    return rc;
}

/* ---------------- audit ---------------- */

typedef struct {
    uint64_t sum;
    bool bad;
} audit_acc;

static int sum_pending(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    audit_acc *a = user;
    (void)k;
    if (kl != 3)
        return 0;
    if (vl != 48)
        return a->bad = true, 1;
    uint64_t p = chain_get_be64(v + 8);
    if (a->sum > UINT64_MAX - p)
        return a->bad = true, 1;
    a->sum += p;
    return 0;
}

based_err reward_audit(chain_store *st, uint64_t *pending, char *err, size_t errlen)
{
    reward_totals t;
    audit_acc a = { 0, false };
    chain_view *v = chain_view_new(st, NULL);
    based_err rc = v ? reward_totals_get(v, &t) : BASED_E_NOMEM;
    chain_view_free(v);
    *pending = rc == BASED_E_OK ? t.pending_total : 0;
    if (rc != BASED_E_OK)
        return rc;
    if (chain_store_scan(st, K_TOTALS, 1, sum_pending, &a) != 0 || a.bad)
        return snprintf(err, errlen, "malformed emission record"), BASED_E_STATE_MISMATCH;
    if (a.sum != t.pending_total) {
        snprintf(err, errlen, "Brains' pending emission adds up to %" PRIu64 ", totals say %" PRIu64,
                 a.sum, t.pending_total);
        return BASED_E_STATE_MISMATCH;
    }
    return BASED_E_OK;
}
