/*
 * module.c: rewards/ as a module of the runtime (reward_module: the
 * weights kinds, emission and epochs at the start of a block, the network
 * series at its end, the pending-emission audit) and the node's handles.
 */
#include "rewards/rewards.h"
#include "rewards/tftnet.h"

const chain_kind *const reward_kinds[] = { &reward_wcommit_kind, &reward_wreveal_kind };

/* The audit hook: pending emission adds up, and is held. */
static based_err audit(chain_store *st, const chain_genesis *g, uint64_t *held, char *err,
                       size_t errlen)
{
    uint64_t pending = 0;
    (void)g;
    based_err rc = reward_audit(st, &pending, err, errlen);
    if (rc == BASED_E_OK)
        *held += pending;
    return rc;
}

const chain_module reward_module = {
    "rewards", reward_kinds, BASED_ARRAY_LEN(reward_kinds), NULL, reward_block_begin,
    reward_tftnet_block_end, audit,
};

const reward_handles *reward_exec_handles(const chain_exec *ex)
{
    return ex->params ? chain_runtime_state(ex->params->rt, &reward_module) : NULL;
}
