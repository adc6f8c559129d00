/*
 * genesis.c: parsing, validation, canonical encoding and the dev variant
 * of the genesis (see genesis.h). Scalars of the top level, of "params" and
 * of "dev" are described by field tables; each object is checked against
 * its table, so unknown keys, missing required keys and out-of-range values
 * are all reported the same way, with file, line, column and key.
 */
#include <errno.h>
#include <jansson.h>

#include "chain/genesis.h"
#include "chain/jsonpos.h"

typedef enum { F_U64, F_U16, F_AMOUNT, F_CHAIN_ID, F_TIME } ftype;

typedef struct {
    const char *key;
    ftype type;
    bool required;
    size_t off;                /* into the struct being filled */
    uint64_t min, max;         /* for integers */
    uint64_t def;              /* default when absent and not required */
} field;

#define GOFF(f) offsetof(chain_genesis, f)
#define POFF(f) offsetof(chain_params, f)
#define DOFF(f) offsetof(chain_dev_params, f)

static const field top_fields[] = {
    { "chain_id", F_CHAIN_ID, true, GOFF(chain_id), 0, 0, 0 },
    { "genesis_time", F_TIME, true, GOFF(genesis_time_ms), 0, 0, 0 },
    { "ss58_prefix", F_U16, false, GOFF(ss58_prefix), 0, 65535, CHAIN_SS58_DEFAULT_PREFIX },
    { "block_time_ms", F_U64, true, GOFF(block_time_ms), 1, 3600000, 0 },
    { "blocks_per_year", F_U64, false, GOFF(blocks_per_year), 1, UINT32_MAX, 3153600 },
};

static const field param_fields[] = {
    { "min_fee", F_AMOUNT, false, POFF(min_fee), 0, 0, 1000 },
    { "max_block_txs", F_U64, false, POFF(max_block_txs), 1, CHAIN_MAX_BLOCK_TXS, 5000 },
    { "mempool_max_txs", F_U64, false, POFF(mempool_max_txs), 1, 1000000, 50000 },
    { "mempool_max_per_sender", F_U64, false, POFF(mempool_max_per_sender), 1, 1000000, 10000 },
    { "brain_burn_base", F_AMOUNT, false, POFF(brain_burn_base), 0, 0, 1000 * CHAIN_COIN },
    { "brain_burn_step", F_AMOUNT, false, POFF(brain_burn_step), 0, 0, 200 * CHAIN_COIN },
    { "brain_stake_amount", F_AMOUNT, false, POFF(brain_stake_amount), 0, 0, 100000 * CHAIN_COIN },
    { "brain_stake_lock_blocks", F_U64, false, POFF(brain_stake_lock_blocks), 0, UINT32_MAX, 777600 },
    { "brain_default_fee", F_AMOUNT, false, POFF(brain_default_fee), 0, 0, 100 * CHAIN_COIN },
    { "immunity_blocks", F_U64, false, POFF(immunity_blocks), 0, UINT32_MAX, 4096 },
    { "max_validators", F_U64, false, POFF(max_validators), 1, 256, 256 },
    { "max_miners", F_U64, false, POFF(max_miners), 1, 1792, 1792 },
    { "take_default_bps", F_U64, false, POFF(take_default_bps), 0, 10000, 1800 },
    { "take_min_bps", F_U64, false, POFF(take_min_bps), 0, 10000, 0 },
    { "take_max_bps", F_U64, false, POFF(take_max_bps), 0, 10000, 3000 },
    { "take_rate_limit_blocks", F_U64, false, POFF(take_rate_limit_blocks), 0, UINT32_MAX, 60480 },
    { "active_validator_bps", F_U64, false, POFF(active_validator_bps), 1, 10000, 7000 },
    { "gigabrain_bps", F_U64, false, POFF(gigabrain_bps), 1, 10000, 50 },
    { "gov_voting_blocks", F_U64, false, POFF(gov_voting_blocks), 1, UINT32_MAX, 60480 },
    { "gov_year1_blocks", F_U64, false, POFF(gov_year1_blocks), 0, UINT64_MAX, 3153600 },
    { "block_reward", F_AMOUNT, false, POFF(block_reward), 0, 0, 10 * CHAIN_COIN },
    { "brain_base_bps", F_U64, false, POFF(brain_base_bps), 0, 10000, 9000 },
    { "brain_bonus_top_bps", F_U64, false, POFF(brain_bonus_top_bps), 1, 10000, 3000 },
    { "brain_stake_cap_bps", F_U64, false, POFF(brain_stake_cap_bps), 1, 10000, 50 },
    { "owner_bps", F_U64, false, POFF(owner_bps), 0, 10000, 2500 },
    { "tempo", F_U64, false, POFF(tempo), 0, 65535, 99 },
    { "weights_rate_limit", F_U64, false, POFF(weights_rate_limit), 0, UINT32_MAX, 100 },
    { "min_allowed_weights", F_U64, false, POFF(min_allowed_weights), 0, 2048, 1 },
    { "max_weights_limit", F_U64, false, POFF(max_weights_limit), 1, 65535, 65535 },
    { "kappa", F_U64, false, POFF(kappa), 0, 65535, 32767 },
    { "rho", F_U64, false, POFF(rho), 1, 1000, 10 },
    { "bonds_moving_average", F_U64, false, POFF(bonds_moving_average), 0, 1000000, 900000 },
    { "activity_cutoff", F_U64, false, POFF(activity_cutoff), 1, UINT32_MAX, 5000 },
    { "tft_enabled", F_U64, false, POFF(tft_enabled), 0, 1, 0 },
    { "tft_train_every", F_U64, false, POFF(tft_train_every), 1, 65535, 8 },
    { "tft_apply_delay", F_U64, false, POFF(tft_apply_delay), 1, UINT32_MAX, 10 },
    { "tft_window", F_U64, false, POFF(tft_window), 8, 64, 32 },
};

/* The canonical encoding writes chain_params as the table's u64s. */
_Static_assert(sizeof(chain_params) == sizeof param_fields / sizeof param_fields[0] * 8,
               "every chain_params field is a u64 with a row in param_fields");

static const field dev_fields[] = {
    { "block_time_ms", F_U64, false, DOFF(block_time_ms), 1, 3600000, 1000 },
    { "accounts", F_U64, false, DOFF(accounts), 0, 10, 10 },
    { "balance", F_AMOUNT, false, DOFF(balance), 0, 0, 1000000 * CHAIN_COIN },
    { "pepecoin", F_AMOUNT, false, DOFF(pepecoin), 0, 0, 200000000 * CHAIN_COIN },
    { "tempo", F_U64, false, DOFF(tempo), 0, 65535, CHAIN_DEV_UNSET },
    { "weights_rate_limit", F_U64, false, DOFF(weights_rate_limit), 0, UINT32_MAX, CHAIN_DEV_UNSET },
    { "activity_cutoff", F_U64, false, DOFF(activity_cutoff), 1, UINT32_MAX, CHAIN_DEV_UNSET },
    { "immunity_blocks", F_U64, false, DOFF(immunity_blocks), 0, UINT32_MAX, CHAIN_DEV_UNSET },
};

/* The dev overrides: a "dev" key and the param it replaces under --dev
 * (the ranges above are the params' own). */
static const struct {
    size_t dev, param;
} dev_overrides[] = {
    { DOFF(tempo), POFF(tempo) },
    { DOFF(weights_rate_limit), POFF(weights_rate_limit) },
    { DOFF(activity_cutoff), POFF(activity_cutoff) },
    { DOFF(immunity_blocks), POFF(immunity_blocks) },
};

static uint64_t dev_get(const chain_dev_params *d, size_t i)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)d + dev_overrides[i].dev, sizeof v);
    return v;
}

static void dev_set(chain_dev_params *d, size_t i, uint64_t v)
{
    memcpy((uint8_t *)d + dev_overrides[i].dev, &v, sizeof v);
}

static bool dev_overrides_set(const chain_dev_params *d)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(dev_overrides); i++)
        if (dev_get(d, i) != CHAIN_DEV_UNSET)
            return true;
    return false;
}

typedef struct {
    const char *text;
    size_t len;
    const char *file;
    char *err;
    size_t errlen;
    chain_jsonpath path;
    uint16_t prefix;
} gctx;

/* Formats "file:line:col: message" for the current path (+ key). */
static based_err gfail(gctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static based_err gfail(gctx *c, const char *key, const char *fmt, ...)
{
    chain_jsonpath p = c->path;
    int line, col;
    char msg[256];
    va_list ap;
    if (key && p.depth < CHAIN_JSONPOS_MAX_DEPTH)
        p.elem[p.depth++] = key;
    chain_jsonpos_find(c->text, c->len, &p, &line, &col);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->file, line, col, msg);
    return BASED_E_GENESIS;
}

static void push(gctx *c, const char *e) { c->path.elem[c->path.depth++] = e; }
static void pop(gctx *c) { c->path.depth--; }

/* "2026-01-01T00:00:00Z" -> ms since the epoch (UTC, no offsets). */
static int parse_time(const char *s, uint64_t *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    if (strlen(s) != 20 ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 20)
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 ||
        h < 0 || mi < 0 || sec < 0)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t < 0)
        return -1;
    struct tm back;
    if (!gmtime_r(&t, &back) || back.tm_mday != d)   /* e.g. Feb 30 */
        return -1;
    *ms = (uint64_t)t * 1000u;
    return 0;
}

static based_err set_field(gctx *c, const field *f, json_t *v, void *base)
{
    uint8_t *dst = (uint8_t *)base + f->off;
    const char *why;
    uint64_t u;
    switch (f->type) {
    case F_U64:
    case F_U16:
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) < f->min || (uint64_t)json_integer_value(v) > f->max)
            return gfail(c, f->key, "\"%s\" must be an integer from %" PRIu64 " to %" PRIu64,
                         f->key, f->min, f->max);
        u = (uint64_t)json_integer_value(v);
        if (f->type == F_U16) {
            uint16_t s16 = (uint16_t)u;
            memcpy(dst, &s16, sizeof s16);
        } else {
            memcpy(dst, &u, sizeof u);
        }
        return BASED_E_OK;
    case F_AMOUNT:
        if (!json_is_string(v))
            return gfail(c, f->key, "\"%s\" must be a decimal string like \"12.5\"", f->key);
        if (chain_amount_parse(json_string_value(v), &u, &why) != BASED_E_OK)
            return gfail(c, f->key, "\"%s\": %s", f->key, why);
        memcpy(dst, &u, sizeof u);
        return BASED_E_OK;
    case F_CHAIN_ID: {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        size_t n = s ? strlen(s) : 0;
        bool ok = s && n >= 1 && n <= CHAIN_CHAIN_ID_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = s[i] > 0x20 && s[i] < 0x7f;
        if (!ok)
            return gfail(c, f->key, "\"%s\" must be 1 to 32 printable ASCII characters", f->key);
        memcpy(dst, s, n + 1);
        return BASED_E_OK;
    }
    case F_TIME:
        if (!json_is_string(v) || parse_time(json_string_value(v), &u) != 0)
            return gfail(c, f->key, "\"%s\" must be a UTC time like \"2026-01-01T00:00:00Z\"", f->key);
        memcpy(dst, &u, sizeof u);
        return BASED_E_OK;
    }
    return BASED_E_INTERNAL;
}

static const field *find_field(const field *t, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].key, key) == 0)
            return &t[i];
    return NULL;
}

/* Fills base from obj per table; `extra` lists keys handled elsewhere. */
static based_err parse_fields(gctx *c, json_t *obj, const field *t, size_t n,
                              void *base, const char *const *extra)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return gfail(c, NULL, "must be an object");
    for (size_t i = 0; i < n; i++) {
        uint8_t *dst = (uint8_t *)base + t[i].off;
        if (t[i].type == F_U16) {
            uint16_t d = (uint16_t)t[i].def;
            memcpy(dst, &d, sizeof d);
        } else if (t[i].type != F_CHAIN_ID) {
            memcpy(dst, &t[i].def, sizeof t[i].def);
        }
    }
    json_object_foreach(obj, key, v) {
        const field *f = find_field(t, n, key);
        bool known = f != NULL;
        for (size_t i = 0; !known && extra && extra[i]; i++)
            known = strcmp(extra[i], key) == 0;
        if (!known)
            return gfail(c, key, "unknown key \"%s\"", key);
        if (f && set_field(c, f, v, base) != BASED_E_OK)
            return BASED_E_GENESIS;
    }
    for (size_t i = 0; i < n; i++)
        if (t[i].required && !json_object_get(obj, t[i].key))
            return gfail(c, NULL, "missing required key \"%s\"", t[i].key);
    return BASED_E_OK;
}

static based_err parse_address(gctx *c, json_t *obj, const char *key, chain_addr *a)
{
    json_t *v = json_object_get(obj, key);
    const char *why;
    if (!v)
        return gfail(c, NULL, "missing required key \"%s\"", key);
    if (!json_is_string(v) ||
        chain_addr_parse(json_string_value(v), c->prefix, a, &why) != BASED_E_OK)
        return gfail(c, key, "\"%s\" must be an SS58 address or 0x account id%s%s", key,
                     json_is_string(v) ? ": " : "", json_is_string(v) ? why : "");
    return BASED_E_OK;
}

static based_err only_keys(gctx *c, json_t *obj, const char *const *keys)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return gfail(c, NULL, "must be an object");
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (size_t i = 0; keys[i] && !ok; i++)
            ok = strcmp(keys[i], key) == 0;
        if (!ok)
            return gfail(c, key, "unknown key \"%s\"", key);
    }
    return BASED_E_OK;
}

static based_err parse_authority(gctx *c, json_t *o, chain_authority *a)
{
    static const char *const keys[] = { "name", "key", "power", "account", NULL };
    json_t *v;
    if (only_keys(c, o, keys) != BASED_E_OK)
        return BASED_E_GENESIS;
    v = json_object_get(o, "name");
    if (v && (!json_is_string(v) || strlen(json_string_value(v)) > 32))
        return gfail(c, "name", "\"name\" must be a string of at most 32 bytes");
    snprintf(a->name, sizeof a->name, "%s", v ? json_string_value(v) : "");
    v = json_object_get(o, "key");
    if (!v)
        return gfail(c, NULL, "missing required key \"key\"");
    if (!json_is_string(v) || chain_unhex(json_string_value(v), a->key.b, 32) != BASED_E_OK)
        return gfail(c, "key", "\"key\" must be an Ed25519 public key: 0x and 64 hex digits");
    v = json_object_get(o, "power");
    a->power = 1;
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000))
        return gfail(c, "power", "\"power\" must be an integer from 1 to 1000000");
    if (v)
        a->power = (uint64_t)json_integer_value(v);
    return parse_address(c, o, "account", &a->account);
}

static based_err parse_authorities(gctx *c, json_t *arr, chain_genesis *g)
{
    char idx[CHAIN_MAX_AUTHORITIES][24];
    if (!json_is_array(arr))
        return gfail(c, "authorities", "\"authorities\" must be an array");
    if (json_array_size(arr) > CHAIN_MAX_AUTHORITIES)
        return gfail(c, "authorities", "at most %d authorities", CHAIN_MAX_AUTHORITIES);
    push(c, "authorities");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        snprintf(idx[i], sizeof idx[i], "#%zu", i);
        push(c, idx[i]);
        based_err rc = parse_authority(c, json_array_get(arr, i), &g->auth[i]);
        for (size_t j = 0; rc == BASED_E_OK && j < i; j++)
            if (memcmp(g->auth[j].key.b, g->auth[i].key.b, 32) == 0)
                rc = gfail(c, "key", "authority key listed twice");
        pop(c);
        if (rc != BASED_E_OK)
            return rc;
        g->nauth = i + 1;
    }
    pop(c);
    return BASED_E_OK;
}

static based_err parse_balances(gctx *c, json_t *arr, chain_balance **out, size_t *nout)
{
    static const char *const keys[] = { "address", "amount", NULL };
    char idx[24];
    uint64_t total = 0;
    if (!json_is_array(arr))
        return gfail(c, "balances", "\"balances\" must be an array");
    size_t n = json_array_size(arr);
    chain_balance *bal = *out = calloc(n ? n : 1, sizeof *bal);
    if (!bal)
        return BASED_E_NOMEM;
    push(c, "balances");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i), *amt;
        const char *why;
        snprintf(idx, sizeof idx, "#%zu", i);
        push(c, idx);
        if (only_keys(c, o, keys) != BASED_E_OK ||
            parse_address(c, o, "address", &bal[i].address) != BASED_E_OK)
            return BASED_E_GENESIS;
        amt = json_object_get(o, "amount");
        if (!amt)
            return gfail(c, NULL, "missing required key \"amount\"");
        if (!json_is_string(amt) ||
            chain_amount_parse(json_string_value(amt), &bal[i].amount, &why) != BASED_E_OK)
            return gfail(c, "amount", "\"amount\" must be a decimal string like \"12.5\"");
        for (size_t j = 0; j < i; j++)
            if (memcmp(bal[j].address.b, bal[i].address.b, 32) == 0)
                return gfail(c, "address", "address listed twice");
        if (total > UINT64_MAX - bal[i].amount)
            return gfail(c, "amount", "genesis balances add up to more than 2^64 base units");
        total += bal[i].amount;
        *nout = i + 1;
        pop(c);
    }
    pop(c);
    return BASED_E_OK;
}

static based_err parse_pepecoin(gctx *c, json_t *o, chain_genesis *g)
{
    static const char *const keys[] = { "balances", "bridge_key", NULL };
    based_err rc = BASED_E_OK;
    push(c, "pepecoin");
    if (only_keys(c, o, keys) != BASED_E_OK)
        rc = BASED_E_GENESIS;
    json_t *v = json_object_get(o, "balances");
    if (rc == BASED_E_OK && v)
        rc = parse_balances(c, v, &g->pepe, &g->npepe);
    if (rc == BASED_E_OK && json_object_get(o, "bridge_key")) {
        rc = parse_address(c, o, "bridge_key", &g->pepe_bridge);
        g->has_bridge = rc == BASED_E_OK;
    }
    pop(c);
    return rc;
}

static based_err parse_reserved(gctx *c, json_t *arr, chain_genesis *g)
{
    if (!json_is_array(arr) || json_array_size(arr) > CHAIN_MAX_RESERVED_BRAINS)
        return gfail(c, "reserved_brains", "\"reserved_brains\" must be an array of at most %d "
                     "Brain ids", CHAIN_MAX_RESERVED_BRAINS);
    g->nreserved = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1023)
            return gfail(c, "reserved_brains", "\"reserved_brains\" entries must be integers "
                         "from 0 to 1023");
        uint16_t id = (uint16_t)json_integer_value(v);
        if (chain_genesis_reserved(g, id))
            return gfail(c, "reserved_brains", "Brain %u listed twice", id);
        g->reserved[g->nreserved++] = id;
    }
    return BASED_E_OK;
}

/* Pepecoin, admin and reserved Brains (all optional). */
static based_err parse_brains(gctx *c, json_t *root, chain_genesis *g)
{
    static const uint16_t def[] = { 0, 1, 2, 3, 4, 5, 6, 47 };
    json_t *v;
    g->nreserved = BASED_ARRAY_LEN(def);
    memcpy(g->reserved, def, sizeof def);
    if ((v = json_object_get(root, "reserved_brains")) && parse_reserved(c, v, g) != BASED_E_OK)
        return BASED_E_GENESIS;
    if ((v = json_object_get(root, "pepecoin")) && parse_pepecoin(c, v, g) != BASED_E_OK)
        return BASED_E_GENESIS;
    if (json_object_get(root, "admin")) {
        if (parse_address(c, root, "admin", &g->admin) != BASED_E_OK)
            return BASED_E_GENESIS;
        g->has_admin = true;
    }
    return BASED_E_OK;
}

static based_err parse_root(gctx *c, json_t *root, chain_genesis *g)
{
    static const char *const extra[] = { "authorities", "balances", "params", "dev", "pepecoin",
                                         "admin", "reserved_brains", NULL };
    json_t *v;
    if (!json_is_object(root))
        return gfail(c, NULL, "the genesis must be a JSON object");
    if (parse_fields(c, root, top_fields, BASED_ARRAY_LEN(top_fields), g, extra) != BASED_E_OK)
        return BASED_E_GENESIS;
    c->prefix = g->ss58_prefix;
    if (!(v = json_object_get(root, "authorities")))
        return gfail(c, NULL, "missing required key \"authorities\"");
    if (parse_authorities(c, v, g) != BASED_E_OK)
        return BASED_E_GENESIS;
    v = json_object_get(root, "balances");
    if (v && parse_balances(c, v, &g->bal, &g->nbal) != BASED_E_OK)
        return BASED_E_GENESIS;
    if (parse_brains(c, root, g) != BASED_E_OK)
        return BASED_E_GENESIS;
    json_t *empty = json_object();
    v = json_object_get(root, "params");
    push(c, "params");
    based_err rc = parse_fields(c, v ? v : empty, param_fields, BASED_ARRAY_LEN(param_fields),
                                &g->params, NULL);
    pop(c);
    if (rc == BASED_E_OK) {
        v = json_object_get(root, "dev");
        push(c, "dev");
        rc = parse_fields(c, v ? v : empty, dev_fields, BASED_ARRAY_LEN(dev_fields), &g->dev, NULL);
        pop(c);
    }
    json_decref(empty);
    return rc;
}

static void genesis_rehash(chain_genesis *g)
{
    chain_wbuf w;
    chain_w_init(&w, CHAIN_GENESIS_MAX_BYTES);
    chain_genesis_encode(g, &w);
    g->hash = chain_hash_bytes(w.p, w.len);
    chain_w_free(&w);
}

based_err chain_genesis_parse(const char *text, size_t len, const char *file,
                              chain_genesis *g, char *err, size_t errlen)
{
    json_error_t je;
    gctx c = { text, len, file, err, errlen, { {0}, 0 }, CHAIN_SS58_DEFAULT_PREFIX };
    memset(g, 0, sizeof *g);
    if (len > CHAIN_GENESIS_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %u bytes", file, CHAIN_GENESIS_MAX_BYTES);
        return BASED_E_GENESIS;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", file, je.line, je.column, je.text);
        return BASED_E_GENESIS;
    }
    based_err rc = parse_root(&c, root, g);
    json_decref(root);
    if (rc != BASED_E_OK) {
        chain_genesis_release(g);
        return rc;
    }
    genesis_rehash(g);
    return BASED_E_OK;
}

based_err chain_genesis_load(const char *path, chain_genesis *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return BASED_E_IO;
    }
    char *buf = malloc(CHAIN_GENESIS_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CHAIN_GENESIS_MAX_BYTES + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf)
        return BASED_E_NOMEM;
    based_err rc;
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        rc = BASED_E_IO;
    } else {
        rc = chain_genesis_parse(buf, n, path, g, err, errlen);
    }
    free(buf);
    return rc;
}

/* Adds `each` to dev0..dev(n-1) in the balance list *bal (count *cnt). */
static based_err add_dev_balances(chain_balance **bal, size_t *cnt, size_t n, uint64_t each)
{
    uint8_t sk[32];
    chain_balance *nb = calloc(*cnt + n + 1, sizeof *nb);
    if (!nb)
        return BASED_E_NOMEM;
    if (*cnt)
        memcpy(nb, *bal, *cnt * sizeof *nb);
    size_t c = *cnt;
    for (size_t i = 0; i < n; i++) {
        chain_addr a;
        size_t j = 0;
        chain_key_dev((unsigned)i, sk);
        chain_key_pub(sk, &a);
        while (j < c && memcmp(nb[j].address.b, a.b, 32) != 0)
            j++;
        if (j == c)
            nb[c++].address = a;
        if (nb[j].amount > UINT64_MAX - each) {
            free(nb);
            return BASED_E_OVERFLOW;
        }
        nb[j].amount += each;
    }
    free(*bal);
    *bal = nb;
    *cnt = c;
    return BASED_E_OK;
}

based_err chain_genesis_make_dev(chain_genesis *g, const chain_edpub *key, uint64_t time_ms)
{
    uint8_t sk[32];
    size_t n = (size_t)g->dev.accounts;
    based_err rc = add_dev_balances(&g->bal, &g->nbal, n, g->dev.balance);
    if (rc == BASED_E_OK && g->dev.pepecoin)
        rc = add_dev_balances(&g->pepe, &g->npepe, n, g->dev.pepecoin);
    uint64_t sum;
    if (rc == BASED_E_OK && (chain_genesis_total(g, &sum) != BASED_E_OK ||
                             chain_genesis_pepe_total(g, &sum) != BASED_E_OK))
        rc = BASED_E_OVERFLOW;
    if (rc != BASED_E_OK)
        return rc;
    memset(g->auth, 0, sizeof g->auth);
    g->nauth = 1;
    snprintf(g->auth[0].name, sizeof g->auth[0].name, "dev-authority");
    g->auth[0].key = *key;
    g->auth[0].power = 1;
    chain_key_dev(0, sk);
    chain_key_pub(sk, &g->auth[0].account);
    if (!g->has_admin)
        g->admin = g->auth[0].account;
    if (!g->has_bridge)
        g->pepe_bridge = g->auth[0].account;
    g->has_admin = g->has_bridge = true;
    for (size_t i = 0; i < BASED_ARRAY_LEN(dev_overrides); i++) {
        uint64_t v = dev_get(&g->dev, i);
        if (v != CHAIN_DEV_UNSET)
            memcpy((uint8_t *)&g->params + dev_overrides[i].param, &v, sizeof v);
    }
    g->block_time_ms = g->dev.block_time_ms;
    g->genesis_time_ms = time_ms;
    g->is_dev = true;
    genesis_rehash(g);
    return BASED_E_OK;
}

/* The parameter table's u64s in table order (chain_params is all u64). */
static void encode_params(const chain_params *p, chain_wbuf *w)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(param_fields); i++) {
        uint64_t v;
        memcpy(&v, (const uint8_t *)p + param_fields[i].off, sizeof v);
        chain_w_u64(w, v);
    }
}

static void decode_params(chain_rbuf *r, chain_params *p)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(param_fields); i++) {
        uint64_t v = chain_r_u64(r);
        memcpy((uint8_t *)p + param_fields[i].off, &v, sizeof v);
    }
}

static void encode_balances(const chain_balance *b, size_t n, chain_wbuf *w)
{
    chain_w_uleb(w, n);
    for (size_t i = 0; i < n; i++) {
        chain_w_raw(w, b[i].address.b, 32);
        chain_w_u64(w, b[i].amount);
    }
}

static based_err decode_balances(chain_rbuf *r, chain_balance **out, size_t *nout)
{
    uint64_t nb = chain_r_uleb(r);
    if (!r->err && nb > (r->len - r->pos) / 40)
        chain_r_fail(r, "balance count exceeds the input");
    if (r->err)
        return BASED_E_OK;
    *out = calloc(nb ? nb : 1, sizeof **out);
    if (!*out)
        return BASED_E_NOMEM;
    for (size_t i = 0; !r->err && i < nb; i++) {
        chain_r_raw(r, (*out)[i].address.b, 32);
        (*out)[i].amount = chain_r_u64(r);
        *nout = i + 1;
    }
    return BASED_E_OK;
}

/* The dev overrides go last, and only when the file sets one: a genesis
 * without them encodes (and hashes) as it did before they existed, so the
 * chains stored by earlier versions still open. Then: u8 count, the values
 * (CHAIN_DEV_UNSET for the ones left out). */
static void encode_dev_overrides(const chain_dev_params *d, chain_wbuf *w)
{
    if (!dev_overrides_set(d))
        return;
    chain_w_u8(w, (uint8_t)BASED_ARRAY_LEN(dev_overrides));
    for (size_t i = 0; i < BASED_ARRAY_LEN(dev_overrides); i++)
        chain_w_u64(w, dev_get(d, i));
}

static void decode_dev_overrides(chain_rbuf *r, chain_dev_params *d)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(dev_overrides); i++)
        dev_set(d, i, CHAIN_DEV_UNSET);
    if (r->err || r->pos == r->len)
        return;
    if (chain_r_u8(r) != BASED_ARRAY_LEN(dev_overrides)) {
        chain_r_fail(r, "bad dev override count");
        return;
    }
    for (size_t i = 0; i < BASED_ARRAY_LEN(dev_overrides); i++)
        dev_set(d, i, chain_r_u64(r));
    if (!r->err && !dev_overrides_set(d))
        chain_r_fail(r, "dev overrides present but none set");
}

void chain_genesis_encode(const chain_genesis *g, chain_wbuf *w)
{
    chain_w_raw(w, "based/genesis/1", 15);
    chain_w_bytes(w, g->chain_id, strlen(g->chain_id));
    chain_w_u64(w, g->genesis_time_ms);
    chain_w_u16(w, g->ss58_prefix);
    chain_w_u64(w, g->block_time_ms);
    chain_w_u64(w, g->blocks_per_year);
    chain_w_uleb(w, g->nauth);
    for (size_t i = 0; i < g->nauth; i++) {
        chain_w_bytes(w, g->auth[i].name, strlen(g->auth[i].name));
        chain_w_raw(w, g->auth[i].key.b, 32);
        chain_w_u64(w, g->auth[i].power);
        chain_w_raw(w, g->auth[i].account.b, 32);
    }
    encode_balances(g->bal, g->nbal, w);
    encode_params(&g->params, w);
    chain_w_u64(w, g->dev.block_time_ms);
    chain_w_u64(w, g->dev.accounts);
    chain_w_u64(w, g->dev.balance);
    chain_w_u8(w, g->is_dev ? 1 : 0);
    chain_w_u64(w, g->dev.pepecoin);
    encode_balances(g->pepe, g->npepe, w);
    chain_w_u8(w, g->has_bridge ? 1 : 0);
    chain_w_raw(w, g->pepe_bridge.b, 32);
    chain_w_u8(w, g->has_admin ? 1 : 0);
    chain_w_raw(w, g->admin.b, 32);
    chain_w_uleb(w, g->nreserved);
    for (size_t i = 0; i < g->nreserved; i++)
        chain_w_u16(w, g->reserved[i]);
    encode_dev_overrides(&g->dev, w);
}

based_err chain_genesis_decode(const void *p, size_t n, chain_genesis *g)
{
    chain_rbuf r;
    uint8_t magic[15];
    size_t l;
    const uint8_t *s;
    memset(g, 0, sizeof *g);
    chain_r_init(&r, p, n);
    chain_r_raw(&r, magic, sizeof magic);
    if (!r.err && memcmp(magic, "based/genesis/1", 15) != 0)
        chain_r_fail(&r, "bad genesis magic");
    s = chain_r_bytes(&r, &l, CHAIN_CHAIN_ID_MAX);
    if (s)
        memcpy(g->chain_id, s, l);
    g->genesis_time_ms = chain_r_u64(&r);
    g->ss58_prefix = chain_r_u16(&r);
    g->block_time_ms = chain_r_u64(&r);
    g->blocks_per_year = chain_r_u64(&r);
    uint64_t na = chain_r_uleb(&r);
    if (na > CHAIN_MAX_AUTHORITIES)
        chain_r_fail(&r, "too many authorities");
    for (size_t i = 0; !r.err && i < na; i++) {
        s = chain_r_bytes(&r, &l, 32);
        if (s)
            memcpy(g->auth[i].name, s, l);
        chain_r_raw(&r, g->auth[i].key.b, 32);
        g->auth[i].power = chain_r_u64(&r);
        chain_r_raw(&r, g->auth[i].account.b, 32);
        g->nauth = i + 1;
    }
    based_err rc = decode_balances(&r, &g->bal, &g->nbal);
    decode_params(&r, &g->params);
    g->dev.block_time_ms = chain_r_u64(&r);
    g->dev.accounts = chain_r_u64(&r);
    g->dev.balance = chain_r_u64(&r);
    g->is_dev = chain_r_u8(&r) != 0;
    g->dev.pepecoin = chain_r_u64(&r);
    if (rc == BASED_E_OK)
        rc = decode_balances(&r, &g->pepe, &g->npepe);
    g->has_bridge = chain_r_u8(&r) != 0;
    chain_r_raw(&r, g->pepe_bridge.b, 32);
    g->has_admin = chain_r_u8(&r) != 0;
    chain_r_raw(&r, g->admin.b, 32);
    uint64_t nr = chain_r_uleb(&r);
    if (nr > CHAIN_MAX_RESERVED_BRAINS)
        chain_r_fail(&r, "too many reserved Brains");
    for (size_t i = 0; !r.err && i < nr; i++) {
        g->reserved[i] = chain_r_u16(&r);
        g->nreserved = i + 1;
    }
    decode_dev_overrides(&r, &g->dev);
    chain_r_finish(&r);
    if (rc != BASED_E_OK) {
        chain_genesis_release(g);
        return rc;
    }
    if (r.err) {
        chain_genesis_release(g);
        return BASED_E_DECODE;
    }
    g->hash = chain_hash_bytes(p, n);
    return BASED_E_OK;
}

void chain_genesis_release(chain_genesis *g)
{
    if (!g)
        return;
    free(g->bal);
    free(g->pepe);
    memset(g, 0, sizeof *g);
}

based_err chain_genesis_copy(chain_genesis *dst, const chain_genesis *src)
{
    *dst = *src;
    dst->bal = malloc((src->nbal ? src->nbal : 1) * sizeof *dst->bal);
    dst->pepe = malloc((src->npepe ? src->npepe : 1) * sizeof *dst->pepe);
    if (!dst->bal || !dst->pepe) {
        chain_genesis_release(dst);
        return BASED_E_NOMEM;
    }
    if (src->nbal)
        memcpy(dst->bal, src->bal, src->nbal * sizeof *dst->bal);
    if (src->npepe)
        memcpy(dst->pepe, src->pepe, src->npepe * sizeof *dst->pepe);
    return BASED_E_OK;
}

bool chain_genesis_reserved(const chain_genesis *g, uint64_t id)
{
    for (size_t i = 0; i < g->nreserved; i++)
        if (g->reserved[i] == id)
            return true;
    return false;
}

based_err chain_genesis_pepe_total(const chain_genesis *g, uint64_t *total)
{
    uint64_t t = 0;
    for (size_t i = 0; i < g->npepe; i++) {
        if (t > UINT64_MAX - g->pepe[i].amount)
            return BASED_E_OVERFLOW;
        t += g->pepe[i].amount;
    }
    *total = t;
    return BASED_E_OK;
}

int chain_genesis_authority(const chain_genesis *g, const chain_edpub *key)
{
    for (size_t i = 0; i < g->nauth; i++)
        if (memcmp(g->auth[i].key.b, key->b, 32) == 0)
            return (int)i;
    return -1;
}

based_err chain_genesis_total(const chain_genesis *g, uint64_t *total)
{
    uint64_t t = 0;
    for (size_t i = 0; i < g->nbal; i++) {
        if (t > UINT64_MAX - g->bal[i].amount)
            return BASED_E_OVERFLOW;
        t += g->bal[i].amount;
    }
    *total = t;
    return BASED_E_OK;
}
