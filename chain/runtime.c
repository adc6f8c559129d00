/*
 * runtime.c: composing modules into a runtime (the kind index, checked
 * once) and running their hooks in module order (see runtime.h).
 */
#include "chain/runtime.h"

static based_err fail(char *err, size_t errlen, const char *module, const char *what,
                      unsigned id)
{
    if (err && errlen)
        snprintf(err, errlen, "module %s: %s (kind id %u)", module, what, id);
    return BASED_E_BAD_PARAM;
}

static based_err add_kind(chain_runtime *rt, const chain_module *m, const chain_kind *k,
                          char *err, size_t errlen)
{
    if (!k || !k->name || !k->check || !k->apply || !k->to_json || !k->from_json)
        return fail(err, errlen, m->name, "a kind without a name, check, apply or JSON form",
                    k ? k->id : 0);
    if (k->id == 0 || k->id > CHAIN_KIND_ID_MAX)
        return fail(err, errlen, m->name, "kind id outside 1..CHAIN_KIND_ID_MAX", k->id);
    if (rt->by_id[k->id])
        return fail(err, errlen, m->name, "two kinds share an id", k->id);
    if (chain_kind_by_name(rt, k->name))
        return fail(err, errlen, m->name, "two kinds share a name", k->id);
    rt->by_id[k->id] = k;
    rt->list[rt->nkinds++] = k;
    return BASED_E_OK;
}

based_err chain_runtime_init(chain_runtime *rt, const chain_module *const *mods, size_t n,
                             char *err, size_t errlen)
{
    memset(rt, 0, sizeof *rt);
    if (n > CHAIN_RUNTIME_MAX_MODULES)
        return fail(err, errlen, "(runtime)", "more than CHAIN_RUNTIME_MAX_MODULES modules", 0);
    for (size_t i = 0; i < n; i++) {
        if (!mods[i] || !mods[i]->name) {
            memset(rt, 0, sizeof *rt);
            return fail(err, errlen, "(runtime)", "a module without a name", 0);
        }
        rt->modules[rt->n++] = mods[i];
        for (size_t j = 0; j < mods[i]->nkinds; j++) {
            based_err rc = add_kind(rt, mods[i], mods[i]->kinds[j], err, errlen);
            if (rc != BASED_E_OK) {
                memset(rt, 0, sizeof *rt);
                return rc;
            }
        }
    }
    return BASED_E_OK;
}

based_err chain_runtime_bind(chain_runtime *rt, const chain_module *m, void *state)
{
    for (size_t i = 0; i < rt->n; i++)
        if (rt->modules[i] == m) {
            rt->state[i] = state;
            return BASED_E_OK;
        }
    return BASED_E_NOT_FOUND;
}

void *chain_runtime_state(const chain_runtime *rt, const chain_module *m)
{
    for (size_t i = 0; rt && i < rt->n; i++)
        if (rt->modules[i] == m)
            return rt->state[i];
    return NULL;
}

based_err chain_runtime_genesis_init(const chain_runtime *rt, chain_view *v,
                                     const chain_genesis *g)
{
    based_err rc = BASED_E_OK;
    for (size_t i = 0; rc == BASED_E_OK && i < rt->n; i++)
        if (rt->modules[i]->genesis_init)
            rc = rt->modules[i]->genesis_init(v, g);
    return rc;
}

based_err chain_runtime_block_begin(const chain_runtime *rt, chain_exec *ex)
{
    based_err rc = BASED_E_OK;
    for (size_t i = 0; rc == BASED_E_OK && i < rt->n; i++)
        if (rt->modules[i]->block_begin)
            rc = rt->modules[i]->block_begin(ex);
    return rc;
}

based_err chain_runtime_block_end(const chain_runtime *rt, chain_exec *ex,
                                  chain_tx *const *included, size_t n)
{
    based_err rc = BASED_E_OK;
    for (size_t i = 0; rc == BASED_E_OK && i < rt->n; i++)
        if (rt->modules[i]->block_end)
            rc = rt->modules[i]->block_end(ex, included, n);
    return rc;
}

based_err chain_runtime_audit(const chain_runtime *rt, chain_store *st, const chain_genesis *g,
                              uint64_t *held, char *err, size_t errlen)
{
    *held = 0;
    for (size_t i = 0; i < rt->n; i++) {
        uint64_t h = 0;
        if (!rt->modules[i]->audit)
            continue;
        based_err rc = rt->modules[i]->audit(st, g, &h, err, errlen);
        if (rc != BASED_E_OK)
            return rc;
        if (*held > UINT64_MAX - h)
            return BASED_E_OVERFLOW;
        *held += h;
    }
    return BASED_E_OK;
}
