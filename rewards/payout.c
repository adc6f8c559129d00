/*
 * payout.c: one Brain's epoch inside block execution, and its payouts.
 *
 * At the start of a block where the Brain's turn comes (reward_is_epoch_block):
 *   1. owner_bps (25 %) of the pending emission goes to the Brain's payout
 *      address;
 *   2. the epoch (rewards/epoch.h) runs on the rest, over uids 0..n-1 with
 *      their hotkey stake, stored weights rows, registration heights, and
 *      the permits and bonds the previous epoch left;
 *   3. the rest is cut by the owner's validator_bps into a miners' half and
 *      a validators' half; each half is shared out in proportion to the
 *      epoch's emission output of the miners (their incentive part) and of
 *      the validators (their dividends part) respectively. With the default
 *      5000 this reproduces the epoch's own 50/50 incentive/dividend halves
 *      up to rounding;
 *   4. miners are paid to their balances; a validator's part is staked: the
 *      validator keeps its take (stake_take_get), the rest is shared among
 *      the stakes on its hotkey pro rata (its own included), dust to the
 *      validator; all of it as stake on its hotkey;
 *   5. what could not be placed (no incentive, no dividends, rounding)
 *      stays pending for the next epoch;
 *   6. performance for the next blocks' split, the epoch record (kept for
 *      REWARD_EPOCHS_KEPT epochs), the accounts' reward records and the
 *      neurons' pruning scores are written. An epoch that did not run (no
 *      neurons) pays the owner only and leaves no record.
 * Neurons in uid order; payouts in uid order, stakers in key order.
 */
#include "chain/keys.h"
#include "rewards/internal.h"
#include "rewards/tftchain.h"

/* ---------------- epoch records ---------------- */

static void epoch_key(uint16_t id, uint32_t inst, uint64_t epoch, uint8_t k[15])
{
    k[0] = CHAIN_T_EPOCH;
    reward_put_brain(k + 1, id, inst);
    chain_put_be64(k + 7, epoch);
}

static void w_row(chain_wbuf *w, const uint16_t *u, const uint16_t *v, size_t n)
{
    chain_w_uleb(w, n);
    for (size_t i = 0; i < n; i++) {
        chain_w_u16(w, u[i]);
        chain_w_u16(w, v[i]);
    }
}

static void r_row(chain_rbuf *r, uint16_t **u, uint16_t **v, size_t *n)
{
    uint64_t c = chain_r_uleb(r);
    *u = NULL, *v = NULL, *n = 0;
    if (r->err || c > STAKE_MAX_UIDS) {
        chain_r_fail(r, "row");
        return;
    }
    *u = malloc((c ? c : 1) * sizeof **u);
    *v = malloc((c ? c : 1) * sizeof **v);
    if (!*u || !*v) {
        chain_r_fail(r, "nomem");
        return;
    }
    *n = (size_t)c;
    for (size_t i = 0; i < c; i++) {
        (*u)[i] = chain_r_u16(r);
        (*v)[i] = chain_r_u16(r);
    }
}

/* The TFT section: 1 || b u64 || beta u64 || accuracy u64 || per neuron
 * has u8 || p10 u16 || p50 u16 || p90 u16. Absent when the TFT is off, so
 * such records are byte for byte those of a chain without it. */
static void tft_put(chain_wbuf *w, const reward_epoch_rec *e)
{
    chain_w_u8(w, 1);
    chain_w_u64(w, e->tft_b);
    chain_w_u64(w, e->tft_beta);
    chain_w_u64(w, e->tft_acc);
    for (size_t i = 0; i < e->n; i++) {
        chain_w_u8(w, e->nr[i].tft_has);
        chain_w_u16(w, e->nr[i].p10);
        chain_w_u16(w, e->nr[i].p50);
        chain_w_u16(w, e->nr[i].p90);
    }
}

static void tft_get(chain_rbuf *r, reward_epoch_rec *e)
{
    e->has_tft = chain_r_u8(r) == 1;
    e->tft_b = chain_r_u64(r);
    e->tft_beta = chain_r_u64(r);
    e->tft_acc = chain_r_u64(r);
    for (size_t i = 0; i < e->n && !r->err; i++) {
        e->nr[i].tft_has = chain_r_u8(r) != 0;
        e->nr[i].p10 = chain_r_u16(r);
        e->nr[i].p50 = chain_r_u16(r);
        e->nr[i].p90 = chain_r_u16(r);
    }
}

static based_err epoch_put(chain_view *v, uint16_t id, uint32_t inst, uint64_t epoch,
                           const reward_epoch_rec *e)
{
    uint8_t k[15];
    chain_wbuf w;
    chain_w_init(&w, CHAIN_VALUE_MAX);
    chain_w_u64(&w, e->height);
    chain_w_u64(&w, e->emission);
    chain_w_u64(&w, e->owner);
    chain_w_u64(&w, e->miners_paid);
    chain_w_u64(&w, e->validators_paid);
    chain_w_uleb(&w, e->n);
    for (size_t i = 0; i < e->n; i++) {
        const reward_eneuron *x = &e->nr[i];
        chain_w_u8(&w, x->role);
        chain_w_u64(&w, x->stake);
        chain_w_u64(&w, x->last_update);
        chain_w_u64(&w, x->registered_at);
        uint16_t c[6] = { x->rank, x->trust, x->consensus, x->incentive, x->dividends, x->vtrust };
        for (int j = 0; j < 6; j++)
            chain_w_u16(&w, c[j]);
        chain_w_u64(&w, x->emission);
        chain_w_u64(&w, x->paid);
        chain_w_u8(&w, x->permit);
        w_row(&w, x->b_uid, x->b_val, x->nb);
        w_row(&w, x->w_uid, x->w_val, x->nw);
    }
    if (e->has_tft)
        tft_put(&w, e);
    epoch_key(id, inst, epoch, k);
    based_err rc = w.err ? BASED_E_TOO_LARGE : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

void reward_epoch_rec_free(reward_epoch_rec *e)
{
    for (size_t i = 0; e->nr && i < e->n; i++) {
        free(e->nr[i].b_uid);
        free(e->nr[i].b_val);
        free(e->nr[i].w_uid);
        free(e->nr[i].w_val);
    }
    free(e->nr);
    memset(e, 0, sizeof *e);
}

static void epoch_decode_neuron(chain_rbuf *r, reward_eneuron *x)
{
    x->role = chain_r_u8(r);
    x->stake = chain_r_u64(r);
    x->last_update = chain_r_u64(r);
    x->registered_at = chain_r_u64(r);
    x->rank = chain_r_u16(r);
    x->trust = chain_r_u16(r);
    x->consensus = chain_r_u16(r);
    x->incentive = chain_r_u16(r);
    x->dividends = chain_r_u16(r);
    x->vtrust = chain_r_u16(r);
    x->emission = chain_r_u64(r);
    x->paid = chain_r_u64(r);
    x->permit = chain_r_u8(r) != 0;
    r_row(r, &x->b_uid, &x->b_val, &x->nb);
    r_row(r, &x->w_uid, &x->w_val, &x->nw);
}

based_err reward_epoch_rec_get(chain_view *v, uint16_t id, uint32_t instance, uint64_t epoch,
                               reward_epoch_rec *e)
{
    uint8_t k[15];
    const uint8_t *val;
    size_t vl;
    chain_rbuf r;
    memset(e, 0, sizeof *e);
    epoch_key(id, instance, epoch, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc != BASED_E_OK)
        return rc;
    chain_r_init(&r, val, vl);
    e->height = chain_r_u64(&r);
    e->emission = chain_r_u64(&r);
    e->owner = chain_r_u64(&r);
    e->miners_paid = chain_r_u64(&r);
    e->validators_paid = chain_r_u64(&r);
    uint64_t n = chain_r_uleb(&r);
    if (r.err || n > STAKE_MAX_UIDS)
        return BASED_E_DB;
    e->nr = calloc(n ? n : 1, sizeof *e->nr);
    if (!e->nr)
        return BASED_E_NOMEM;
    e->n = (size_t)n;
    for (size_t i = 0; i < e->n && !r.err; i++)
        epoch_decode_neuron(&r, &e->nr[i]);
    if (!r.err && r.pos < r.len)
        tft_get(&r, e);
    chain_r_finish(&r);
    if (r.err) {
        reward_epoch_rec_free(e);
        return BASED_E_DB;
    }
    return BASED_E_OK;
}

/* ---------------- account reward records ---------------- */

based_err reward_note(chain_view *v, const chain_addr *a, uint16_t id, uint64_t height,
                      const uint64_t add[4])
{
    uint8_t k[43];
    uint64_t cur[4];
    k[0] = CHAIN_T_REWARD;
    memcpy(k + 1, a->b, 32);
    k[33] = (uint8_t)(id >> 8);
    k[34] = (uint8_t)id;
    for (int pass = 0; pass < 2; pass++) {
        chain_put_be64(k + 35, pass ? UINT64_MAX : height);
        based_err rc = reward_get_u64s(v, k, sizeof k, cur, 4);
        for (int i = 0; rc == BASED_E_OK && i < 4; i++)
            cur[i] += add[i];
        if (rc == BASED_E_OK)
            rc = reward_put_u64s(v, k, sizeof k, cur, 4);
        if (rc != BASED_E_OK)
            return rc;
    }
    return BASED_E_OK;
}

/* ---------------- the epoch's context ---------------- */

typedef struct {
    chain_exec *ex;
    contract_brain *b;
    contract_totals ct;
    size_t n;
    stake_neuron *nn;
    reward_neuron_in *in;
    uint16_t **wu, **wv;       /* weights rows (owned) */
    reward_epoch_rec prev;     /* the previous epoch (bonds, permits) */
    reward_epoch_out out;
    bool ran;
    uint64_t *paid;
    reward_tft_epoch tft;      /* b and the bands (rewards/tftchain.c) */
} ectx;

static void ectx_free(ectx *c)
{
    for (size_t i = 0; c->wu && i < c->n; i++) {
        free(c->wu[i]);
        free(c->wv[i]);
    }
    free(c->wu);
    free(c->wv);
    free(c->nn);
    free(c->in);
    free(c->paid);
    reward_epoch_rec_free(&c->prev);
    reward_tft_epoch_free(&c->tft);
    if (c->ran)
        reward_epoch_out_free(&c->out);
}

/* Loads uid's neuron, stake, weights row, and the previous permit and bonds. */
static based_err load_neuron(ectx *c, uint16_t uid, reward_wrow *row)
{
    reward_neuron_in *in = &c->in[uid];
    stake_neuron *n = &c->nn[uid];
    based_err rc = stake_neuron_get(c->ex->view, c->b, uid, n);
    if (rc == BASED_E_OK)
        rc = stake_hotkey_total(c->ex->view, c->b->id, c->b->instance, &n->addr, &in->stake);
    if (rc == BASED_E_OK)
        rc = reward_weights_get(c->ex->view, c->b, uid, row);
    if (rc != BASED_E_OK)
        return rc;
    if (row->set_at < n->registered_at)
        row->n = 0, row->set_at = 0;         /* a previous occupant's row */
    c->wu[uid] = malloc((row->n ? row->n : 1) * sizeof **c->wu);
    c->wv[uid] = malloc((row->n ? row->n : 1) * sizeof **c->wv);
    if (!c->wu[uid] || !c->wv[uid])
        return BASED_E_NOMEM;
    memcpy(c->wu[uid], row->uid, row->n * sizeof *row->uid);
    memcpy(c->wv[uid], row->val, row->n * sizeof *row->val);
    in->last_update = row->set_at;
    in->registered_at = n->registered_at;
    in->weights = (reward_row){ c->wu[uid], c->wv[uid], row->n };
    if (uid < c->prev.n && c->prev.height >= n->registered_at) {
        const reward_eneuron *p = &c->prev.nr[uid];
        in->permit = p->permit;
        in->bonds = (reward_row){ p->b_uid, p->b_val, p->nb };
    }
    return BASED_E_OK;
}

static based_err load_inputs(ectx *c, const reward_brain *r)
{
    size_t n = c->b->n_uids;
    reward_wrow *row = malloc(sizeof *row);
    c->n = n;
    c->nn = calloc(n ? n : 1, sizeof *c->nn);
    c->in = calloc(n ? n : 1, sizeof *c->in);
    c->wu = calloc(n ? n : 1, sizeof *c->wu);
    c->wv = calloc(n ? n : 1, sizeof *c->wv);
    c->paid = calloc(n ? n : 1, sizeof *c->paid);
    based_err rc = row && c->nn && c->in && c->wu && c->wv && c->paid ? BASED_E_OK : BASED_E_NOMEM;
    if (rc == BASED_E_OK && r->epochs > 0) {
        rc = reward_epoch_rec_get(c->ex->view, c->b->id, c->b->instance, r->epochs - 1, &c->prev);
        if (rc == BASED_E_NOT_FOUND)
            rc = BASED_E_OK;
    }
    for (size_t uid = 0; rc == BASED_E_OK && uid < n; uid++)
        rc = load_neuron(c, (uint16_t)uid, row);
    free(row);
    return rc;
}

static based_err run(ectx *c, uint64_t emission)
{
    reward_epoch_in in;
    memset(&in, 0, sizeof in);
    in.block = c->ex->height;
    in.emission = emission;
    in.p.mode = c->b->consensus == CONTRACT_CONSENSUS_WHITEPAPER ? REWARD_MODE_WHITEPAPER
                                                                 : REWARD_MODE_YUMA;
    in.p.kappa = (uint16_t)REWARD_PARAM(c->ex, kappa);
    in.p.rho = (uint32_t)REWARD_PARAM(c->ex, rho);
    in.p.bonds_moving_average = REWARD_PARAM(c->ex, bonds_moving_average);
    in.p.activity_cutoff = REWARD_PARAM(c->ex, activity_cutoff);
    in.p.max_validators = (uint16_t)REWARD_PARAM(c->ex, max_validators);
    in.n = c->n;
    in.neurons = c->in;
    in.tft_b = c->tft.b;
    in.p10 = c->tft.b ? c->tft.p10 : NULL;
    in.p90 = c->tft.b ? c->tft.p90 : NULL;
    if (c->n == 0)
        return BASED_E_OK;
    /* Inputs the epoch refuses (it should not) must not stop the chain:
     * the epoch then places nothing and the emission stays pending. */
    c->ran = reward_epoch_run(&in, &c->out) == BASED_E_OK;
    return BASED_E_OK;
}

/* ---------------- payouts ---------------- */

typedef struct {
    chain_addr staker;
    uint64_t amount;
} staker;

typedef struct {
    staker *s;
    size_t n, cap;
    bool fail;
} staker_list;

static int collect_staker(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    staker_list *l = user;
    if (kl != 71 || vl != 8)
        return 1;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        staker *ns = realloc(l->s, nc * sizeof *ns);
        if (!ns)
            return l->fail = true, 1;
        l->s = ns, l->cap = nc;
    }
    memcpy(l->s[l->n].staker.b, k + 39, 32);
    l->s[l->n++].amount = chain_get_be64(v);
    return 0;
}

static based_err pay_delegators(ectx *c, const chain_addr *hot, uint64_t rest, uint64_t *given)
{
    uint8_t pfx[39];
    staker_list l = { NULL, 0, 0, false };
    uint64_t total = 0;
    *given = 0;
    pfx[0] = CHAIN_T_STAKE;
    reward_put_brain(pfx + 1, c->b->id, c->b->instance);
    memcpy(pfx + 7, hot->b, 32);
    if (chain_view_scan(c->ex->view, pfx, sizeof pfx, collect_staker, &l) != 0 || l.fail) {
        free(l.s);
        return l.fail ? BASED_E_NOMEM : BASED_E_DB;
    }
    for (size_t i = 0; i < l.n; i++)
        total += l.s[i].amount;
    based_err rc = BASED_E_OK;
    for (size_t i = 0; rc == BASED_E_OK && total && i < l.n; i++) {
        if (memcmp(l.s[i].staker.b, hot->b, 32) == 0)
            continue;                          /* the validator's own: with its part */
        uint64_t p = (uint64_t)((contract_u128)rest * l.s[i].amount / total);
        uint64_t note[4] = { 0, 0, p, 0 };
        if (p == 0)
            continue;
        rc = stake_add(c->ex->view, c->b, &c->ct, hot, &l.s[i].staker, p);
        if (rc == BASED_E_OK)
            rc = reward_note(c->ex->view, &l.s[i].staker, c->b->id, c->ex->height, note);
        *given += p;
    }
    free(l.s);
    return rc;
}

static based_err pay_validator(ectx *c, const stake_neuron *n, uint64_t amount)
{
    uint64_t bps, changed, given;
    based_err rc = stake_take_get(c->ex->view, c->ex->genesis, &n->addr, &bps, &changed);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t take = (uint64_t)((contract_u128)amount * bps / 10000);
    if ((rc = pay_delegators(c, &n->addr, amount - take, &given)) != BASED_E_OK)
        return rc;
    uint64_t own = amount - given, note[4] = { 0, own, 0, 0 };
    if (own == 0)
        return BASED_E_OK;
    rc = stake_add(c->ex->view, c->b, &c->ct, &n->addr, &n->addr, own);
    return rc == BASED_E_OK ? reward_note(c->ex->view, &n->addr, c->b->id, c->ex->height, note) : rc;
}

static based_err pay_miner(ectx *c, const stake_neuron *n, uint64_t amount)
{
    uint64_t note[4] = { amount, 0, 0, 0 };
    based_err rc = chain_credit(c->ex->view, &n->addr, amount);
    return rc == BASED_E_OK ? reward_note(c->ex->view, &n->addr, c->b->id, c->ex->height, note) : rc;
}

/* Splits `rest` into the owner's halves and pays every neuron; *paid sums. */
static based_err pay_all(ectx *c, uint64_t rest, uint64_t half_paid[2])
{
    contract_u128 e[2] = { 0, 0 };
    uint64_t half[2];
    half[1] = (uint64_t)((contract_u128)rest * c->b->validator_bps / 10000);
    half[0] = rest - half[1];
    half_paid[0] = half_paid[1] = 0;
    if (!c->ran)
        return BASED_E_OK;
    for (size_t i = 0; i < c->n; i++)
        e[c->nn[i].role == STAKE_VALIDATOR] += c->out.emission[i];
    based_err rc = BASED_E_OK;
    for (size_t i = 0; rc == BASED_E_OK && i < c->n; i++) {
        int role = c->nn[i].role == STAKE_VALIDATOR;
        if (e[role] == 0 || c->out.emission[i] == 0)
            continue;
        uint64_t p = (uint64_t)((contract_u128)half[role] * c->out.emission[i] / e[role]);
        if (p == 0)
            continue;
        rc = role ? pay_validator(c, &c->nn[i], p) : pay_miner(c, &c->nn[i], p);
        c->paid[i] = p;
        half_paid[role] += p;
    }
    return rc;
}

/* ---------------- performance and records ---------------- */

/* Stake-weighted share of validators with fresh weights x share of miners
 * with non-zero incentive, as a u16 fraction. */
static uint16_t performance(ectx *c)
{
    uint64_t tempo = REWARD_PARAM(c->ex, tempo), rl = REWARD_PARAM(c->ex, weights_rate_limit);
    uint64_t window = 2 * (tempo + 1 > rl ? tempo + 1 : rl);
    contract_u128 vs = 0, vf = 0;
    uint64_t nm = 0, mi = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->nn[i].role == STAKE_VALIDATOR) {
            vs += c->in[i].stake;
            if (c->in[i].last_update > 0 && c->ex->height - c->in[i].last_update <= window)
                vf += c->in[i].stake;
        } else {
            nm++;
            mi += c->ran && c->out.incentive[i] > 0;
        }
    }
    if (vs == 0 || nm == 0)
        return 0;
    return (uint16_t)(vf * mi * REWARD_PERF_ONE / (vs * nm));
}

static based_err store_epoch(ectx *c, const reward_brain *r, uint64_t emission, uint64_t owner,
                             const uint64_t half_paid[2])
{
    reward_epoch_rec e = { c->ex->height, emission, owner, half_paid[0], half_paid[1], c->n, NULL,
                           false, 0, 0, 0 };
    e.nr = calloc(c->n ? c->n : 1, sizeof *e.nr);
    if (!e.nr)
        return BASED_E_NOMEM;
    for (size_t i = 0; i < c->n; i++) {
        reward_eneuron *x = &e.nr[i];
        const reward_epoch_out *o = &c->out;
        x->role = c->nn[i].role;
        x->stake = c->in[i].stake;
        x->last_update = c->in[i].last_update;
        x->registered_at = c->in[i].registered_at;
        x->w_uid = c->wu[i], x->w_val = c->wv[i], x->nw = c->in[i].weights.n;
        x->paid = c->paid[i];
        if (!c->ran)
            continue;
        x->rank = o->rank[i], x->trust = o->trust[i], x->consensus = o->consensus[i];
        x->incentive = o->incentive[i], x->dividends = o->dividends[i];
        x->vtrust = o->validator_trust[i], x->emission = o->emission[i], x->permit = o->permit[i];
        x->b_uid = o->bond_uid[i], x->b_val = o->bond_val[i], x->nb = o->bond_n[i];
    }
    if (c->tft.on) {
        e.has_tft = true;
        e.tft_b = c->tft.b, e.tft_beta = c->tft.beta, e.tft_acc = c->tft.acc;
        for (size_t i = 0; i < c->n; i++) {
            e.nr[i].tft_has = c->tft.has[i] != 0;
            e.nr[i].p10 = c->tft.p10[i], e.nr[i].p50 = c->tft.p50[i], e.nr[i].p90 = c->tft.p90[i];
        }
    }
    based_err rc = epoch_put(c->ex->view, c->b->id, c->b->instance, r->epochs, &e);
    free(e.nr);   /* rows are borrowed */
    if (rc == BASED_E_OK && r->epochs >= REWARD_EPOCHS_KEPT) {
        uint8_t k[15];
        epoch_key(c->b->id, c->b->instance, r->epochs - REWARD_EPOCHS_KEPT, k);
        rc = chain_view_del(c->ex->view, k, sizeof k);
    }
    return rc;
}

/* Pruning score = the max-upscaled paid emission (subtensor's). */
static based_err pruning_scores(ectx *c)
{
    uint16_t *s = malloc((c->n ? c->n : 1) * sizeof *s), *u = malloc((c->n ? c->n : 1) * sizeof *u);
    uint64_t max = 0;
    based_err rc = s && u ? BASED_E_OK : BASED_E_NOMEM;
    for (size_t i = 0; i < c->n; i++)
        max = c->paid[i] > max ? c->paid[i] : max;
    for (size_t i = 0; rc == BASED_E_OK && i < c->n; i++)
        s[i] = max ? (uint16_t)((contract_u128)c->paid[i] * 65535 / max) : 0;
    if (rc == BASED_E_OK)
        reward_max_upscale(s, c->n, u);
    for (size_t i = 0; rc == BASED_E_OK && i < c->n; i++) {
        if (c->nn[i].pruning_score == u[i])
            continue;
        c->nn[i].pruning_score = u[i];
        rc = stake_neuron_put(c->ex->view, c->b, &c->nn[i]);
    }
    free(s);
    free(u);
    return rc;
}

static based_err pay_owner(chain_exec *ex, const contract_brain *b, uint64_t owner)
{
    uint64_t note[4] = { 0, 0, 0, owner };
    if (owner == 0)
        return BASED_E_OK;
    based_err rc = chain_credit(ex->view, &b->payout, owner);
    return rc == BASED_E_OK ? reward_note(ex->view, &b->payout, b->id, ex->height, note) : rc;
}

based_err reward_run_epoch(chain_exec *ex, contract_brain *b, reward_brain *r, reward_totals *t,
                           chain_supply *s)
{
    ectx c;
    uint64_t half_paid[2] = { 0, 0 };
    (void)s;
    memset(&c, 0, sizeof c);
    c.ex = ex;
    c.b = b;
    uint64_t owner = (uint64_t)((contract_u128)r->pending * REWARD_PARAM(ex, owner_bps) / 10000);
    uint64_t rest = r->pending - owner;
    based_err rc = pay_owner(ex, b, owner);
    if (rc == BASED_E_OK)
        rc = contract_totals_get(ex->view, &c.ct);
    if (rc == BASED_E_OK)
        rc = load_inputs(&c, r);
    if (rc == BASED_E_OK && c.n > 0)
        rc = reward_tft_before(ex, b, c.nn, c.n, &c.tft);
    if (rc == BASED_E_OK)
        rc = run(&c, rest);
    if (rc == BASED_E_OK && c.ran)
        rc = reward_tft_after(ex, b, c.nn, c.n, c.out.incentive_rc);
    if (rc == BASED_E_OK)
        rc = pay_all(&c, rest, half_paid);
    if (rc == BASED_E_OK && c.ran)
        rc = store_epoch(&c, r, rest, owner, half_paid);
    if (rc == BASED_E_OK && c.ran)
        rc = pruning_scores(&c);
    if (rc == BASED_E_OK)
        rc = contract_brain_put(ex->view, b);
    if (rc == BASED_E_OK)
        rc = contract_totals_put(ex->view, &c.ct);
    if (rc == BASED_E_OK) {
        uint64_t out = owner + half_paid[0] + half_paid[1];
        r->pending -= out;
        t->pending_total -= out;
        r->perf = performance(&c);
        r->epochs += c.ran;
        r->last_epoch = ex->height;
    }
    ectx_free(&c);
    return rc;
}
