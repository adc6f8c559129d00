/*
 * runtime.c: composing the modules (see runtime.h) and the node's
 * handles for them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "contracts/contracts.h"
#include "node/runtime.h"
#include "rewards/rewards.h"
#include "rewards/tftcache.h"
#include "rewards/tftchain.h"

static const chain_module *const modules[] = {
    &chain_transfer_module,
    &contract_module,
    &reward_module,
};

static chain_runtime plain;
static pthread_once_t plain_once = PTHREAD_ONCE_INIT;

static void plain_init(void)
{
    char err[256];
    if (chain_runtime_init(&plain, modules, BASED_ARRAY_LEN(modules), err, sizeof err) !=
        BASED_E_OK) {
        fprintf(stderr, "based: the module table is inconsistent: %s\n", err);
        abort();
    }
}

const chain_runtime *based_runtime(void)
{
    pthread_once(&plain_once, plain_init);
    return &plain;
}

typedef struct {
    chain_runtime rt;          /* first: the pointer handed out */
    reward_handles rewards;
} node_runtime;

based_err based_runtime_new(const based_runtime_opts *o, chain_runtime **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    node_runtime *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return BASED_E_NOMEM;
    }
    based_err rc = chain_runtime_init(&n->rt, modules, BASED_ARRAY_LEN(modules), err, errlen);
    if (rc == BASED_E_OK && (rc = reward_tft_pool_new(o->tft_threads, &n->rewards.pool)) !=
                                BASED_E_OK)
        snprintf(err, errlen, "cannot make the TFT training pool: %s", based_strerror(rc));
    if (rc == BASED_E_OK && o->tft_cache &&
        (rc = reward_tft_cache_new(REWARD_TFT_CACHE_ON, o->tft_cache_bytes, &n->rewards.cache)) !=
            BASED_E_OK)
        snprintf(err, errlen, "cannot make the TFT forecast cache: %s", based_strerror(rc));
    if (rc == BASED_E_OK)
        rc = chain_runtime_bind(&n->rt, &reward_module, &n->rewards);
    if (rc != BASED_E_OK) {
        based_runtime_free(&n->rt);
        return rc;
    }
    *out = &n->rt;
    return BASED_E_OK;
}

void based_runtime_free(chain_runtime *rt)
{
    if (!rt)
        return;
    node_runtime *n = (node_runtime *)rt;
    reward_tft_pool_free(n->rewards.pool);
    reward_tft_cache_free(n->rewards.cache);
    free(n);
}
