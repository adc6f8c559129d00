/*
 * query.c: the JSON views of rewards/ that the RPC serves (see rewards.h):
 * the emission schedule at a height, an account's reward records, one
 * stored epoch of a Brain, a Brain's current weights rows, and the
 * metagraph columns added to brain_getNeurons. Read-only. Amounts are
 * decimal BASED strings with a base-unit string beside them; u16
 * fractions are integers with a 6-decimal string computed with integers
 * (floor). No floating point.
 */
#include "chain/account.h"
#include "chain/keys.h"
#include "rewards/internal.h"
#include "tft/tft.h"

#define REWARD_ACCOUNT_EPOCHS_MAX 1000   /* epochs listed per Brain in rewards_get */

/* ---------------- JSON forms ---------------- */

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

/* Sets key (amount) and key_base (base units) on o. */
static void set_amount(json_t *o, const char *key, uint64_t v)
{
    char k[64];
    json_object_set_new(o, key, amount(v));
    snprintf(k, sizeof k, "%s_base", key);
    json_object_set_new(o, k, base(v));
}

/* v / 65535 with 6 decimals, floor: "0.500007", "1.000000". */
static json_t *frac(uint16_t v)
{
    char s[16];
    uint64_t m = (uint64_t)v * 1000000u / 65535u;
    snprintf(s, sizeof s, "%" PRIu64 ".%06" PRIu64, m / 1000000u, m % 1000000u);
    return json_string(s);
}

/* Sets key (u16 integer) and key_frac (fraction string) on o. */
static void set_u16(json_t *o, const char *key, uint16_t v)
{
    char k[64];
    json_object_set_new(o, key, json_integer(v));
    snprintf(k, sizeof k, "%s_frac", key);
    json_object_set_new(o, k, frac(v));
}

static json_t *pairs(const uint16_t *u, const uint16_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("[i,i]", u[i], v[i]));
    return a;
}

/* ---------------- rewards_getSchedule ---------------- */

/* beta in 32.32 as a decimal with 9 places (floor). */
static json_t *beta_decimal(uint64_t beta)
{
    char s[32];
    uint64_t whole = beta >> 32, rest = beta & 0xffffffffu;
    uint64_t dec = (rest * 1000000000u) >> 32; /* rest < 2^32: no overflow */
    snprintf(s, sizeof s, "%" PRIu64 ".%09" PRIu64, whole, dec);
    return json_string(s);
}

json_t *reward_schedule_json(chain_view *v, const chain_genesis *g, uint64_t height)
{
    uint64_t bpy = g->blocks_per_year;
    uint64_t br = contract_param_get(v, g, offsetof(chain_params, block_reward));
    uint64_t beta = tft_beta(height, bpy);
    chain_supply s;
    reward_totals t;
    if (chain_supply_get(v, &s) != BASED_E_OK || reward_totals_get(v, &t) != BASED_E_OK)
        return NULL;
    uint64_t halvings = bpy ? height / bpy : 0;
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I}", "height", (json_int_t)height,
                          "blocks_per_year", (json_int_t)bpy, "year", (json_int_t)(halvings + 1),
                          "halvings", (json_int_t)halvings,
                          "blocks_to_next_halving",
                          (json_int_t)(bpy ? bpy - height % bpy : 0),
                          "next_halving_height", (json_int_t)(bpy ? (halvings + 1) * bpy : 0),
                          "beta", beta_decimal(beta), "beta_fixed", (json_int_t)beta);
    set_amount(o, "block_reward", reward_block_reward(br, bpy, height));
    set_amount(o, "initial_block_reward", br);
    set_amount(o, "genesis_supply", s.genesis);
    set_amount(o, "minted", s.minted);
    set_amount(o, "burned", s.burned);
    set_amount(o, "total_supply", s.genesis + s.minted - s.burned);
    set_amount(o, "pending_emission", t.pending_total);
    set_amount(o, "unminted", t.unminted);
    json_object_set_new(o, "tempo", json_integer((json_int_t)contract_param_get(
                                        v, g, offsetof(chain_params, tempo))));
    json_object_set_new(o, "weights_rate_limit",
                        json_integer((json_int_t)contract_param_get(
                            v, g, offsetof(chain_params, weights_rate_limit))));
    return o;
}

/* ---------------- rewards_get ---------------- */

static const char *const role_names[4] = { "miner", "validator", "delegator", "owner" };

static json_t *roles_obj(const uint64_t r[4])
{
    json_t *o = json_object();
    uint64_t sum = 0;
    for (int i = 0; i < 4; i++) {
        set_amount(o, role_names[i], r[i]);
        sum += r[i];
    }
    set_amount(o, "total", sum);
    return o;
}

typedef struct {
    uint64_t from, to;
    json_t *brains;          /* array of per-Brain objects */
    json_t *cur;             /* the Brain being filled */
    int cur_id;
    uint64_t range[4], all[4], brange[4];
    size_t listed;
    bool truncated;
} acct_ctx;

static void close_brain(acct_ctx *c)
{
    if (!c->cur)
        return;
    json_object_set_new(c->cur, "in_range", roles_obj(c->brange));
    json_array_append_new(c->brains, c->cur);
    c->cur = NULL;
    memset(c->brange, 0, sizeof c->brange);
}

static void open_brain(acct_ctx *c, int id)
{
    close_brain(c);
    c->cur = json_pack("{s:i,s:[]}", "brain", id, "epochs");
    c->cur_id = id;
    c->listed = 0;
}

static int add_record(void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    acct_ctx *c = user;
    uint64_t r[4];
    if (kl != 43 || vl != 32)
        return 1;
    int id = k[33] << 8 | k[34];
    uint64_t h = chain_get_be64(k + 35);
    for (int i = 0; i < 4; i++)
        r[i] = chain_get_be64(v + 8 * i);
    if (!c->cur || c->cur_id != id)
        open_brain(c, id);
    if (h == UINT64_MAX) {
        json_object_set_new(c->cur, "total", roles_obj(r));
        for (int i = 0; i < 4; i++)
            c->all[i] += r[i];
        return 0;
    }
    if (h < c->from || h > c->to)
        return 0;
    for (int i = 0; i < 4; i++)
        c->range[i] += r[i], c->brange[i] += r[i];
    if (c->listed++ >= REWARD_ACCOUNT_EPOCHS_MAX) {
        c->truncated = true;
        return 0;
    }
    json_t *e = roles_obj(r);
    json_object_set_new(e, "height", json_integer((json_int_t)h));
    json_array_append_new(json_object_get(c->cur, "epochs"), e);
    return 0;
}

json_t *reward_account_json(chain_store *st, const chain_genesis *g, const chain_addr *a,
                            uint64_t from, uint64_t to)
{
    uint8_t pfx[33];
    char s[CHAIN_ADDR_STRLEN];
    acct_ctx c;
    memset(&c, 0, sizeof c);
    c.from = from, c.to = to, c.brains = json_array();
    pfx[0] = CHAIN_T_REWARD;
    memcpy(pfx + 1, a->b, 32);
    if (chain_store_scan(st, pfx, sizeof pfx, add_record, &c) != 0) {
        json_decref(c.cur);
        json_decref(c.brains);
        return NULL;
    }
    close_brain(&c);
    chain_ss58_encode(g->ss58_prefix, a, s);
    return json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:b}", "address", s, "from_epoch",
                     (json_int_t)from, "to_epoch",
                     to == UINT64_MAX ? json_null() : json_integer((json_int_t)to),
                     "total", roles_obj(c.all), "in_range", roles_obj(c.range), "brains", c.brains,
                     "truncated", c.truncated);
}

/* ---------------- rewards_getEpoch ---------------- */

static json_t *eneuron_json(const reward_eneuron *x, uint16_t uid)
{
    static const char *const roles[] = { "miner", "validator" };
    json_t *o = json_pack("{s:i,s:s,s:I,s:I,s:b}", "uid", uid, "role", roles[x->role ? 1 : 0],
                          "last_update", (json_int_t)x->last_update, "registered_at",
                          (json_int_t)x->registered_at, "permit", x->permit);
    set_amount(o, "stake", x->stake);
    set_u16(o, "rank", x->rank);
    set_u16(o, "trust", x->trust);
    set_u16(o, "consensus", x->consensus);
    set_u16(o, "incentive", x->incentive);
    set_u16(o, "dividends", x->dividends);
    set_u16(o, "validator_trust", x->vtrust);
    set_amount(o, "emission", x->emission);
    set_amount(o, "paid", x->paid);
    json_object_set_new(o, "weights", pairs(x->w_uid, x->w_val, x->nw));
    json_object_set_new(o, "bonds", pairs(x->b_uid, x->b_val, x->nb));
    json_object_set_new(o, "tft_band", x->tft_has ? json_pack("{s:i,s:i,s:i}", "p10", x->p10,
                                                               "p50", x->p50, "p90", x->p90)
                                                  : json_null());
    return o;
}

/* The TFT term of an epoch: b, beta and accuracy (32.32, and as decimals),
 * or null when the TFT was off. */
static json_t *epoch_tft(const reward_epoch_rec *e)
{
    if (!e->has_tft)
        return json_null();
    return json_pack("{s:o,s:I,s:o,s:I,s:o,s:I}", "b", beta_decimal(e->tft_b), "b_fixed",
                     (json_int_t)e->tft_b, "beta", beta_decimal(e->tft_beta), "beta_fixed",
                     (json_int_t)e->tft_beta, "accuracy", beta_decimal(e->tft_acc),
                     "accuracy_fixed", (json_int_t)e->tft_acc);
}

/* The vectors over uids: S, R, C, I, D, trust, and the matrices W, T
 * (binary: a validator trusts the miners it gives non-zero weight),
 * Credits (bonds) and payouts. */
static void epoch_vectors(const reward_epoch_rec *e, json_t *o)
{
    json_t *S = json_array(), *R = json_array(), *C = json_array(), *I = json_array();
    json_t *D = json_array(), *Tr = json_array(), *W = json_object(), *T = json_object();
    json_t *B = json_object(), *P = json_array();
    for (size_t i = 0; i < e->n; i++) {
        const reward_eneuron *x = &e->nr[i];
        char k[24];
        snprintf(k, sizeof k, "%zu", i);
        json_array_append_new(S, base(x->stake));
        json_array_append_new(R, json_integer(x->rank));
        json_array_append_new(C, json_integer(x->consensus));
        json_array_append_new(I, json_integer(x->incentive));
        json_array_append_new(D, json_integer(x->dividends));
        json_array_append_new(Tr, json_integer(x->trust));
        json_array_append_new(P, base(x->paid));
        if (x->nw) {
            json_t *t = json_array();
            for (size_t j = 0; j < x->nw; j++)
                if (x->w_val[j])
                    json_array_append_new(t, json_integer(x->w_uid[j]));
            json_object_set_new(W, k, pairs(x->w_uid, x->w_val, x->nw));
            json_object_set_new(T, k, t);
        }
        if (x->nb)
            json_object_set_new(B, k, pairs(x->b_uid, x->b_val, x->nb));
    }
    json_object_set_new(o, "S", S);
    json_object_set_new(o, "W", W);
    json_object_set_new(o, "T", json_pack("{s:o,s:o}", "binary", T, "trust", Tr));
    json_object_set_new(o, "R", R);
    json_object_set_new(o, "C", C);
    json_object_set_new(o, "I", I);
    json_object_set_new(o, "D", D);
    json_object_set_new(o, "credits", B);
    json_object_set_new(o, "payouts", P);
}

static json_t *epoch_obj(const contract_brain *b, uint64_t epoch, const reward_epoch_rec *e)
{
    static const char *const modes[] = { "yuma", "whitepaper" };
    json_t *o = json_pack("{s:i,s:I,s:I,s:I,s:s,s:o,s:o,s:s}", "brain", b->id, "instance",
                          (json_int_t)b->instance, "epoch", (json_int_t)epoch, "height",
                          (json_int_t)e->height, "consensus", modes[b->consensus ? 1 : 0],
                          "tft_b", beta_decimal(e->has_tft ? e->tft_b : 0), "tft", epoch_tft(e),
                          "units", "u16 values are fractions of 65535");
    set_amount(o, "emission", e->emission);
    set_amount(o, "owner", e->owner);
    set_amount(o, "miners_paid", e->miners_paid);
    set_amount(o, "validators_paid", e->validators_paid);
    epoch_vectors(e, o);
    json_t *arr = json_array();
    for (size_t i = 0; i < e->n; i++)
        json_array_append_new(arr, eneuron_json(&e->nr[i], (uint16_t)i));
    json_object_set_new(o, "neurons", arr);
    return o;
}

json_t *reward_epoch_json(chain_view *v, const chain_genesis *g, uint64_t id, bool has_epoch,
                          uint64_t epoch, based_err *code)
{
    contract_brain b;
    reward_brain r;
    reward_epoch_rec e;
    (void)g;
    *code = contract_brain_get(v, id, &b);
    if (*code == BASED_E_OK)
        *code = reward_brain_get(v, &b, &r);
    if (*code != BASED_E_OK)
        return NULL;
    if (!has_epoch)
        epoch = r.epochs ? r.epochs - 1 : 0;
    if (r.epochs == 0 || epoch >= r.epochs || r.epochs - epoch > REWARD_EPOCHS_KEPT) {
        *code = BASED_E_NOT_FOUND;
        return NULL;
    }
    *code = reward_epoch_rec_get(v, b.id, b.instance, epoch, &e);
    if (*code != BASED_E_OK)
        return NULL;
    json_t *o = epoch_obj(&b, epoch, &e);
    json_object_set_new(o, "epochs", json_integer((json_int_t)r.epochs));
    json_object_set_new(o, "oldest_kept",
                        json_integer((json_int_t)(r.epochs > REWARD_EPOCHS_KEPT
                                                      ? r.epochs - REWARD_EPOCHS_KEPT : 0)));
    reward_epoch_rec_free(&e);
    return o;
}

/* ---------------- brain_getWeights ---------------- */

static based_err weights_rows(chain_view *v, const contract_brain *b, json_t *W, json_t *T,
                              json_t *set)
{
    reward_wrow *row = malloc(sizeof *row);
    based_err rc = row ? BASED_E_OK : BASED_E_NOMEM;
    for (uint16_t uid = 0; rc == BASED_E_OK && uid < b->n_uids; uid++) {
        stake_neuron n;
        rc = stake_neuron_get(v, b, uid, &n);
        if (rc == BASED_E_OK)
            rc = reward_weights_get(v, b, uid, row);
        if (rc != BASED_E_OK || row->n == 0 || row->set_at < n.registered_at)
            continue;
        char k[24];
        json_t *t = json_array();
        snprintf(k, sizeof k, "%u", uid);
        for (size_t j = 0; j < row->n; j++)
            if (row->val[j])
                json_array_append_new(t, json_integer(row->uid[j]));
        json_object_set_new(W, k, pairs(row->uid, row->val, row->n));
        json_object_set_new(T, k, t);
        json_object_set_new(set, k, json_integer((json_int_t)row->set_at));
    }
    free(row);
    return rc;
}

json_t *reward_weights_json(chain_view *v, const chain_genesis *g, uint64_t id, based_err *code)
{
    contract_brain b;
    (void)g;
    *code = contract_brain_get(v, id, &b);
    if (*code != BASED_E_OK)
        return NULL;
    json_t *W = json_object(), *T = json_object(), *set = json_object();
    *code = weights_rows(v, &b, W, T, set);
    json_t *o = json_pack("{s:i,s:I,s:i,s:o,s:o,s:o}", "brain", b.id, "instance",
                          (json_int_t)b.instance, "uids", b.n_uids, "weights", W, "T", T,
                          "set_at", set);
    if (*code != BASED_E_OK) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---------------- brain_getNeurons columns ---------------- */

static void neuron_cols(json_t *o, const reward_eneuron *x, uint64_t last_update)
{
    set_u16(o, "rank", x ? x->rank : 0);
    set_u16(o, "trust", x ? x->trust : 0);
    set_u16(o, "consensus", x ? x->consensus : 0);
    set_u16(o, "incentive", x ? x->incentive : 0);
    set_u16(o, "dividends", x ? x->dividends : 0);
    set_u16(o, "validator_trust", x ? x->vtrust : 0);
    set_amount(o, "emission", x ? x->emission : 0);
    json_object_set_new(o, "last_update", json_integer((json_int_t)last_update));
}

based_err reward_neurons_fields(chain_view *v, uint64_t id, json_t *neurons)
{
    contract_brain b;
    reward_brain r;
    reward_epoch_rec e;
    memset(&e, 0, sizeof e);
    based_err rc = contract_brain_get(v, id, &b);
    if (rc == BASED_E_OK)
        rc = reward_brain_get(v, &b, &r);
    if (rc == BASED_E_OK && r.epochs > 0) {
        rc = reward_epoch_rec_get(v, b.id, b.instance, r.epochs - 1, &e);
        if (rc == BASED_E_NOT_FOUND)
            rc = BASED_E_OK;
    }
    reward_wrow *row = malloc(sizeof *row);
    if (!row)
        rc = BASED_E_NOMEM;
    size_t i;
    json_t *o;
    json_array_foreach(neurons, i, o) {
        if (rc != BASED_E_OK)
            break;
        uint16_t uid = (uint16_t)json_integer_value(json_object_get(o, "uid"));
        uint64_t reg = (uint64_t)json_integer_value(json_object_get(o, "registered_at"));
        rc = reward_weights_get(v, &b, uid, row);
        uint64_t lu = rc == BASED_E_OK && row->set_at >= reg ? row->set_at : 0;
        neuron_cols(o, uid < e.n && e.height >= reg ? &e.nr[uid] : NULL, lu);
    }
    free(row);
    reward_epoch_rec_free(&e);
    return rc;
}
