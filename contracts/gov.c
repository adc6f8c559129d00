/*
 * gov.c: governance proposals and votes, the allowlist of parameters they
 * may change, and the tally at the end of each voting period (see gov.h).
 */
#include "chain/keys.h"
#include "contracts/contracts.h"
#include "contracts/gov.h"
#include "contracts/state.h"

/* ---------------- the allowlist ---------------- */

typedef struct {
    const char *name;
    size_t off;
    uint64_t min, max;
} gov_param;

#define GP(f, lo, hi) { #f, offsetof(chain_params, f), lo, hi }
static const gov_param allow[] = {
    GP(brain_burn_base, 0, UINT64_MAX / 2),
    GP(brain_burn_step, 0, UINT64_MAX / 4096),
    GP(brain_stake_amount, 0, UINT64_MAX / 2),
    GP(brain_stake_lock_blocks, 0, UINT32_MAX),
    GP(brain_default_fee, 0, UINT64_MAX / 2),
    GP(immunity_blocks, 0, UINT32_MAX),
    GP(take_min_bps, 0, 10000),
    GP(take_max_bps, 0, 10000),
    GP(take_rate_limit_blocks, 0, UINT32_MAX),
    GP(active_validator_bps, 1, 10000),
    GP(gigabrain_bps, 1, 10000),
    GP(gov_voting_blocks, 1, UINT32_MAX),
};

int contract_gov_param_index(size_t off)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(allow); i++)
        if (allow[i].off == off)
            return (int)i;
    return -1;
}

const char *contract_gov_param_name(size_t i)
{
    return i < BASED_ARRAY_LEN(allow) ? allow[i].name : NULL;
}

static int param_by_name(const char *name)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(allow); i++)
        if (strcmp(allow[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---------------- records ---------------- */

enum { GOV_OPEN = 0, GOV_PASSED = 1, GOV_REJECTED = 2 };
enum { GOV_PARAM = 0, GOV_TEXT = 1 };
static const char *const status_names[] = { "open", "passed", "rejected" };
static const char *const kind_names[] = { "param", "text", NULL };
static const char *const choice_names[] = { "no", "yes", NULL };

typedef struct {
    uint64_t id;
    chain_addr proposer;
    uint8_t kind, status, year1;
    uint16_t param;
    uint64_t value;
    char text[CONTRACT_GOV_TEXT_MAX + 1];
    uint64_t created, end;
    uint64_t yes, no, gigabrains;          /* GigaBrain votes; GigaBrains at the tally */
    uint64_t signal_yes, signal_no;        /* Pepecoin signal votes, weighted by balance */
    uint64_t signal_voters;
} proposal;

static void prop_key(uint64_t id, uint8_t k[9])
{
    k[0] = CHAIN_T_PROPOSAL;
    chain_put_be64(k + 1, id);
}

static based_err prop_get(chain_view *v, uint64_t id, proposal *p)
{
    uint8_t k[9];
    const uint8_t *val, *s;
    size_t vl, l;
    memset(p, 0, sizeof *p);
    prop_key(id, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc != BASED_E_OK)
        return rc;
    chain_rbuf r;
    chain_r_init(&r, val, vl);
    p->id = id;
    chain_r_raw(&r, p->proposer.b, 32);
    p->kind = chain_r_u8(&r);
    p->status = chain_r_u8(&r);
    p->year1 = chain_r_u8(&r);
    p->param = chain_r_u16(&r);
    p->value = chain_r_u64(&r);
    s = chain_r_bytes(&r, &l, CONTRACT_GOV_TEXT_MAX);
    if (s)
        memcpy(p->text, s, l);
    uint64_t *u[] = { &p->created, &p->end, &p->yes, &p->no, &p->gigabrains, &p->signal_yes,
                      &p->signal_no, &p->signal_voters };
    for (size_t i = 0; i < BASED_ARRAY_LEN(u); i++)
        *u[i] = chain_r_u64(&r);
    chain_r_finish(&r);
    return r.err || p->status > GOV_REJECTED ? BASED_E_DB : BASED_E_OK;
}

static based_err prop_put(chain_view *v, const proposal *p)
{
    uint8_t k[9];
    chain_wbuf w;
    prop_key(p->id, k);
    chain_w_init(&w, 1024);
    chain_w_raw(&w, p->proposer.b, 32);
    chain_w_u8(&w, p->kind);
    chain_w_u8(&w, p->status);
    chain_w_u8(&w, p->year1);
    chain_w_u16(&w, p->param);
    chain_w_u64(&w, p->value);
    chain_w_bytes(&w, p->text, strlen(p->text));
    const uint64_t u[] = { p->created, p->end, p->yes, p->no, p->gigabrains, p->signal_yes,
                           p->signal_no, p->signal_voters };
    for (size_t i = 0; i < BASED_ARRAY_LEN(u); i++)
        chain_w_u64(&w, u[i]);
    based_err rc = w.err ? BASED_E_NOMEM : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

typedef struct {
    size_t n;
    uint64_t id[CONTRACT_GOV_MAX_OPEN];
} open_list;

static based_err open_get(chain_view *v, open_list *o)
{
    static const uint8_t k[1] = { CHAIN_T_GOVOPEN };
    const uint8_t *val;
    size_t vl;
    o->n = 0;
    based_err rc = chain_view_get(v, k, 1, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    if (vl % 8 || vl / 8 > CONTRACT_GOV_MAX_OPEN)
        return BASED_E_DB;
    for (o->n = 0; o->n < vl / 8; o->n++)
        o->id[o->n] = chain_get_be64(val + 8 * o->n);
    return BASED_E_OK;
}

static based_err open_put(chain_view *v, const open_list *o)
{
    static const uint8_t k[1] = { CHAIN_T_GOVOPEN };
    uint8_t val[8 * CONTRACT_GOV_MAX_OPEN];
    if (o->n == 0)
        return chain_view_del(v, k, 1);
    for (size_t i = 0; i < o->n; i++)
        chain_put_be64(val + 8 * i, o->id[i]);
    return chain_view_put(v, k, 1, val, 8 * o->n);
}

/* ---------------- propose ---------------- */

static const contract_pfield prop_f[] = {
    { "kind", CP_ENUM, 0, false, kind_names },
    { "param", CP_STR, 40, true, NULL },
    { "value", CP_U64, 0, true, NULL },
    { "text", CP_STR, CONTRACT_GOV_TEXT_MAX, true, NULL },
    { "brain", CP_U16, CONTRACT_MAX_BRAINS - 1, true, NULL },
};
static const contract_payload prop_spec = { prop_f, BASED_ARRAY_LEN(prop_f) };

static based_err prop_check(const contract_pval *v, const char **why)
{
    if (v[0].u == GOV_TEXT) {
        if (v[1].present || v[2].present)
            return *why = "param (a text proposal has no param or value)", BASED_E_BAD_PARAM;
        if (v[3].s[0] == '\0')
            return *why = "text", BASED_E_BAD_PARAM;
        return BASED_E_OK;
    }
    int i = v[1].present ? param_by_name(v[1].s) : -1;
    if (i < 0)
        return *why = "param (not a governable parameter)", BASED_E_BAD_PARAM;
    if (!v[2].present || v[2].u < allow[i].min || v[2].u > allow[i].max)
        return *why = "value", BASED_E_BAD_PARAM;
    return BASED_E_OK;
}

/* The sender may propose (admin) or vote/propose for Brain `brain` (owner
 * of a GigaBrain). */
static based_err giga_owner(chain_exec *ex, const chain_tx *tx, uint64_t brain,
                            const char **why)
{
    contract_brain b;
    contract_totals t;
    based_err rc = contract_brain_get(ex->txview, brain, &b);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "brain (no such active Brain)", rc;
    if (rc != BASED_E_OK || (rc = contract_totals_get(ex->txview, &t)) != BASED_E_OK)
        return rc;
    if (memcmp(b.owner.b, tx->sender.b, 32) != 0)
        return *why = "brain (sender does not own it)", BASED_E_UNAUTHORIZED;
    if (!contract_is_gigabrain(ex->txview, ex->genesis, &t, &b))
        return *why = "brain", BASED_E_NOT_GIGABRAIN;
    return BASED_E_OK;
}

static based_err prop_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                            const char **why)
{
    const chain_genesis *g = ex->genesis;
    contract_totals t;
    open_list o;
    proposal p;
    based_err rc;
    if (v[4].present)
        rc = giga_owner(ex, tx, v[4].u, why);
    else if (!g->has_admin || memcmp(g->admin.b, tx->sender.b, 32) != 0)
        rc = (*why = "sender (neither the admin key nor a GigaBrain owner; name the brain)",
              BASED_E_UNAUTHORIZED);
    else
        rc = BASED_E_OK;
    if (rc != BASED_E_OK || (rc = open_get(ex->txview, &o)) != BASED_E_OK ||
        (rc = contract_totals_get(ex->txview, &t)) != BASED_E_OK)
        return rc;
    if (o.n == CONTRACT_GOV_MAX_OPEN)
        return *why = "kind (too many open proposals)", BASED_E_GOV_FULL;
    memset(&p, 0, sizeof p);
    p.id = ++t.proposal_seq;
    p.proposer = tx->sender;
    p.kind = (uint8_t)v[0].u;
    p.param = p.kind == GOV_PARAM ? (uint16_t)param_by_name(v[1].s) : 0;
    p.value = v[2].u;
    contract_strcpy(p.text, sizeof p.text, v[3].s);
    p.created = ex->height;
    p.end = ex->height + CONTRACT_PARAM(ex, gov_voting_blocks);
    p.year1 = ex->height < CONTRACT_PARAM(ex, gov_year1_blocks);
    o.id[o.n++] = p.id;
    CONTRACT_EVENT(ex, "proposed", "{s:I,s:I}", "id", (json_int_t)p.id, "end", (json_int_t)p.end);
    if ((rc = prop_put(ex->txview, &p)) != BASED_E_OK || (rc = open_put(ex->txview, &o)) != BASED_E_OK)
        return rc;
    return contract_totals_put(ex->txview, &t);
}

/* ---------------- vote ---------------- */

static const contract_pfield vote_f[] = {
    { "proposal", CP_U64, 0, false, NULL },
    { "choice", CP_ENUM, 0, false, choice_names },
    { "brain", CP_U16, CONTRACT_MAX_BRAINS - 1, true, NULL },
};
static const contract_payload vote_spec = { vote_f, BASED_ARRAY_LEN(vote_f) };

/* Records the vote key; BASED_E_ALREADY_VOTED if present. */
static based_err record_vote(chain_exec *ex, uint64_t pid, const uint8_t *who, size_t wl,
                             uint8_t choice, uint64_t weight, const char **why)
{
    uint8_t k[42], val[9];
    const uint8_t *old;
    size_t ol;
    k[0] = CHAIN_T_VOTE;
    chain_put_be64(k + 1, pid);
    k[9] = wl == 2 ? 0 : 1;
    memcpy(k + 10, who, wl);
    based_err rc = chain_view_get(ex->txview, k, 10 + wl, &old, &ol);
    if (rc == BASED_E_OK)
        return *why = wl == 2 ? "brain" : "sender", BASED_E_ALREADY_VOTED;
    if (rc != BASED_E_NOT_FOUND)
        return rc;
    val[0] = choice;
    chain_put_be64(val + 1, weight);
    return chain_view_put(ex->txview, k, 10 + wl, val, sizeof val);
}

static based_err vote_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                            const char **why)
{
    proposal p;
    uint64_t bal = 0;
    bool yes = v[1].u == 1;
    based_err rc = prop_get(ex->txview, v[0].u, &p);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "proposal", rc;
    if (rc != BASED_E_OK)
        return rc;
    if (p.status != GOV_OPEN || ex->height >= p.end)
        return *why = "proposal", BASED_E_VOTING_CLOSED;
    if (v[2].present) {
        uint8_t id[2] = { (uint8_t)(v[2].u >> 8), (uint8_t)v[2].u };
        if ((rc = giga_owner(ex, tx, v[2].u, why)) != BASED_E_OK ||
            (rc = record_vote(ex, p.id, id, 2, yes, 1, why)) != BASED_E_OK)
            return rc;
        *(yes ? &p.yes : &p.no) += 1;
    } else {
        if ((rc = contract_pepe_get(ex->txview, &tx->sender, &bal)) != BASED_E_OK)
            return rc;
        if (bal == 0)
            return *why = "sender (no Pepecoin for a signal vote)", BASED_E_INSUFFICIENT;
        if ((rc = record_vote(ex, p.id, tx->sender.b, 32, yes, bal, why)) != BASED_E_OK)
            return rc;
        uint64_t *s = yes ? &p.signal_yes : &p.signal_no;
        *s = *s > UINT64_MAX - bal ? UINT64_MAX : *s + bal;
        p.signal_voters++;
    }
    CONTRACT_EVENT(ex, "voted", "{s:I,s:s,s:b}", "proposal", (json_int_t)p.id,
                   "choice", choice_names[v[1].u], "signal", !v[2].present);
    return prop_put(ex->txview, &p);
}

/* ---------------- tally ---------------- */

static based_err count_gigabrains(chain_view *v, const chain_genesis *g, uint64_t *n)
{
    contract_totals t;
    based_err rc = contract_totals_get(v, &t);
    *n = 0;
    for (uint64_t id = 0; rc == BASED_E_OK && id < CONTRACT_MAX_BRAINS; id++) {
        contract_brain b;
        rc = contract_brain_get(v, id, &b);
        if (rc == BASED_E_NOT_FOUND) {
            rc = BASED_E_OK;
            continue;
        }
        if (rc == BASED_E_OK && contract_is_gigabrain(v, g, &t, &b))
            (*n)++;
    }
    return rc;
}

static based_err tally(chain_view *v, const chain_genesis *g, proposal *p)
{
    based_err rc = count_gigabrains(v, g, &p->gigabrains);
    if (rc != BASED_E_OK)
        return rc;
    bool pass = p->year1 ? !(p->no * 2 > p->gigabrains) : p->yes * 2 > p->gigabrains;
    p->status = pass ? GOV_PASSED : GOV_REJECTED;
    if (pass && p->kind == GOV_PARAM) {
        uint8_t k[3] = { CHAIN_T_PARAM, (uint8_t)(p->param >> 8), (uint8_t)p->param };
        uint8_t val[8];
        for (int i = 0; i < 8; i++)
            val[i] = (uint8_t)(p->value >> (8 * i));
        rc = chain_view_put(v, k, sizeof k, val, sizeof val);
    }
    return rc == BASED_E_OK ? prop_put(v, p) : rc;
}

based_err contract_block_begin(chain_exec *ex)
{
    open_list o, keep;
    if (!ex->genesis)
        return BASED_E_INTERNAL;
    based_err rc = open_get(ex->view, &o);
    keep.n = 0;
    for (size_t i = 0; rc == BASED_E_OK && i < o.n; i++) {
        proposal p;
        rc = prop_get(ex->view, o.id[i], &p);
        if (rc == BASED_E_OK && ex->height >= p.end)
            rc = tally(ex->view, ex->genesis, &p);
        else if (rc == BASED_E_OK)
            keep.id[keep.n++] = o.id[i];
    }
    if (rc == BASED_E_OK && keep.n != o.n)
        rc = open_put(ex->view, &keep);
    return rc;
}

/* ---------------- JSON ---------------- */

static json_t *prop_json(const chain_genesis *g, const proposal *p)
{
    char s[CHAIN_ADDR_STRLEN], sy[32], sn[32];
    chain_ss58_encode(g->ss58_prefix, &p->proposer, s);
    chain_amount_format(p->signal_yes, sy);
    chain_amount_format(p->signal_no, sn);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:s,s:{s:I,s:I},s:{s:s,s:s,s:I}}",
                          "id", (json_int_t)p->id, "kind", kind_names[p->kind],
                          "proposer", s, "status", status_names[p->status],
                          "created", (json_int_t)p->created, "end", (json_int_t)p->end,
                          "rule", p->year1 ? "year1: passes unless a majority of GigaBrains vote no"
                                           : "majority of GigaBrains vote yes",
                          "votes", "yes", (json_int_t)p->yes, "no", (json_int_t)p->no,
                          "signal", "yes", sy, "no", sn, "voters", (json_int_t)p->signal_voters);
    if (p->kind == GOV_PARAM) {
        char val[24];
        snprintf(val, sizeof val, "%" PRIu64, p->value);
        json_object_set_new(o, "param", json_string(allow[p->param].name));
        json_object_set_new(o, "value", json_string(val));
    }
    json_object_set_new(o, "text", json_string(p->text));
    if (p->status != GOV_OPEN)
        json_object_set_new(o, "gigabrains_at_tally", json_integer((json_int_t)p->gigabrains));
    return o;
}

json_t *contract_gov_json(chain_view *v, const chain_genesis *g, uint64_t height, uint64_t id,
                          based_err *code)
{
    proposal p;
    (void)height;
    *code = prop_get(v, id, &p);
    return *code == BASED_E_OK ? prop_json(g, &p) : NULL;
}

json_t *contract_gov_list_json(chain_view *v, const chain_genesis *g, uint64_t height)
{
    contract_totals t;
    json_t *arr = json_array();
    (void)height;
    if (contract_totals_get(v, &t) != BASED_E_OK)
        return arr;
    for (uint64_t id = t.proposal_seq; id >= 1 && t.proposal_seq - id < 100; id--) {
        proposal p;
        if (prop_get(v, id, &p) == BASED_E_OK)
            json_array_append_new(arr, prop_json(g, &p));
    }
    json_t *params = json_object();
    for (size_t i = 0; i < BASED_ARRAY_LEN(allow); i++) {
        char val[24];
        snprintf(val, sizeof val, "%" PRIu64, contract_param_get(v, g, allow[i].off));
        json_object_set_new(params, allow[i].name, json_string(val));
    }
    return json_pack("{s:o,s:o}", "proposals", arr, "params", params);
}

CONTRACT_KIND(contract_gov_propose, CONTRACT_KIND_GOV_PROPOSE, "gov_propose", prop_spec, prop_check,
              prop_apply, NULL);
CONTRACT_KIND(contract_gov_vote, CONTRACT_KIND_GOV_VOTE, "gov_vote", vote_spec, NULL, vote_apply,
              NULL);
