/*
 * cmtgen_netgen.c: a network genesis in our own format (see
 * cmtgen_net_genesis in cmtgen.h).
 *
 * The base text is parsed twice: as JSON (kept, so every key the base sets
 * stays as written) and as a genesis, to which chain_genesis_make_dev
 * applies the dev rules (prefunded dev accounts, admin, bridge key, dev
 * block time and parameter overrides). What make_dev computed is written
 * back into the JSON as plain genesis keys, the authorities are replaced,
 * the "dev" section is dropped, and the result is parsed again as the
 * check that basedd will accept it.
 */
#include <jansson.h>

#include "node/cmtgen.h"

/* The params that "dev" overrides under --dev (chain/genesis.h). */
static const struct {
    const char *name;
    size_t dev, param;
} overrides[] = {
    { "tempo", offsetof(chain_dev_params, tempo), offsetof(chain_params, tempo) },
    { "weights_rate_limit", offsetof(chain_dev_params, weights_rate_limit),
      offsetof(chain_params, weights_rate_limit) },
    { "activity_cutoff", offsetof(chain_dev_params, activity_cutoff),
      offsetof(chain_params, activity_cutoff) },
    { "immunity_blocks", offsetof(chain_dev_params, immunity_blocks),
      offsetof(chain_params, immunity_blocks) },
};

static uint64_t field_u64(const void *base, size_t off)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)base + off, sizeof v);
    return v;
}

static json_t *addr_json(const chain_genesis *g, const chain_addr *a)
{
    char s[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(g->ss58_prefix, a, s);
    return json_string(s);
}

static json_t *balances_json(const chain_genesis *g, const chain_balance *b, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        char amt[32];
        chain_amount_format(b[i].amount, amt);
        if (json_array_append_new(arr, json_pack("{s:o,s:s}", "address",
                                                 addr_json(g, &b[i].address), "amount", amt))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *authorities_json(const chain_genesis *g, const chain_edpub *keys, size_t n,
                                uint64_t power)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        char name[32], key[67] = "0x";
        snprintf(name, sizeof name, "authority-%zu", i);
        chain_hex(keys[i].b, 32, key + 2);
        if (json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:o}", "name", name, "key", key,
                                                 "power", (json_int_t)power, "account",
                                                 addr_json(g, &g->auth[0].account)))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Writes g's dev-derived values and the authorities into root. */
static bool fill(json_t *root, const chain_genesis *g, const chain_edpub *keys, size_t n,
                 uint64_t power)
{
    char t[32];
    time_t secs = (time_t)(g->genesis_time_ms / 1000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *pepe = json_object_get(root, "pepecoin");
    if (!json_is_object(pepe) && json_object_set_new(root, "pepecoin", pepe = json_object()))
        return false;
    json_t *params = json_object_get(root, "params");
    if (!json_is_object(params) && json_object_set_new(root, "params", params = json_object()))
        return false;
    bool ok = !json_object_set_new(root, "genesis_time", json_string(t)) &&
              !json_object_set_new(root, "block_time_ms", json_integer((json_int_t)g->block_time_ms)) &&
              !json_object_set_new(root, "authorities", authorities_json(g, keys, n, power)) &&
              !json_object_set_new(root, "balances", balances_json(g, g->bal, g->nbal)) &&
              !json_object_set_new(root, "admin", addr_json(g, &g->admin)) &&
              !json_object_set_new(pepe, "balances", balances_json(g, g->pepe, g->npepe)) &&
              !json_object_set_new(pepe, "bridge_key", addr_json(g, &g->pepe_bridge));
    for (size_t i = 0; ok && i < BASED_ARRAY_LEN(overrides); i++)
        if (field_u64(&g->dev, overrides[i].dev) != CHAIN_DEV_UNSET)
            ok = !json_object_set_new(params, overrides[i].name,
                                      json_integer((json_int_t)field_u64(&g->params,
                                                                         overrides[i].param)));
    json_object_del(root, "dev");
    return ok;
}

/* Parses text back: it must be a genesis with exactly the n keys. */
static based_err check(const char *text, const chain_edpub *keys, size_t n, char *err,
                       size_t errlen)
{
    chain_genesis g;
    based_err rc = chain_genesis_parse(text, strlen(text), "network genesis", &g, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    bool ok = g.nauth == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = memcmp(g.auth[i].key.b, keys[i].b, 32) == 0;
    chain_genesis_release(&g);
    if (!ok)
        snprintf(err, errlen, "network genesis: the authorities did not survive a round trip");
    return ok ? BASED_E_OK : BASED_E_INTERNAL;
}

based_err cmtgen_net_genesis(const char *base_text, const chain_edpub *keys, size_t n,
                             uint64_t power, uint64_t time_ms, char **out, char *err,
                             size_t errlen)
{
    chain_genesis g;
    json_error_t je;
    *out = NULL;
    if (n < 1 || n > CHAIN_MAX_AUTHORITIES || power < 1 || power > 1000000) {
        snprintf(err, errlen, "network genesis: 1 to %d authorities of power 1 to 1000000",
                 CHAIN_MAX_AUTHORITIES);
        return BASED_E_BAD_PARAM;
    }
    based_err rc = chain_genesis_parse(base_text, strlen(base_text), "base genesis", &g, err,
                                       errlen);
    if (rc != BASED_E_OK)
        return rc;
    rc = chain_genesis_make_dev(&g, &keys[0], time_ms / 1000u * 1000u);
    json_t *root = rc == BASED_E_OK ? json_loads(base_text, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (rc == BASED_E_OK && (!root || !fill(root, &g, keys, n, power)))
        rc = BASED_E_NOMEM;
    chain_genesis_release(&g);
    char *text = rc == BASED_E_OK ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (rc == BASED_E_OK && !text)
        rc = BASED_E_NOMEM;
    if (rc != BASED_E_OK) {
        free(text);
        snprintf(err, errlen, "network genesis: %s", based_strerror(rc));
        return rc;
    }
    rc = check(text, keys, n, err, errlen);
    if (rc != BASED_E_OK) {
        free(text);
        return rc;
    }
    *out = text;
    return BASED_E_OK;
}
