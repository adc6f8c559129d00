/*
 * staking.h: neurons ("memorize": an address registered on a Brain as a
 * miner or a validator), their endpoints, BASED stake on validators
 * (own or delegated) and validator take.
 *
 * State (prefixes in chain/keys.h; `brain` is be16 id || be32 instance):
 *   n || brain || uid      -> neuron record (below)
 *   u || brain || account  -> uid
 *   k || brain || hotkey || staker -> amount      (one delegation)
 *   h || brain || hotkey           -> total stake on the hotkey
 *   m || staker || brain || hotkey -> amount      (the staker's index)
 *   t || hotkey            -> take bps || height of the last change
 * Stake belongs to the hotkey, not to the uid: a replaced validator keeps
 * its stake (its stakers may unstake), and a new occupant of the uid
 * starts with its own stake only.
 */
#ifndef BASED_STAKING_STAKING_H
#define BASED_STAKING_STAKING_H

#include "contracts/state.h"

#define STAKE_MAX_UIDS 2048

/* The kind ids of staking/ (rows in contracts/contracts.h's contract_kinds:
 * contracts/ and staking/ are one module). */
enum {
    STAKE_KIND_MEMORIZE = 8,
    STAKE_KIND_SERVE = 9,
    STAKE_KIND_STAKE = 10,
    STAKE_KIND_UNSTAKE = 11,
    STAKE_KIND_SET_TAKE = 12,
};

/* Their rows (neuron.c, stake.c). */
extern const chain_kind stake_memorize_kind, stake_serve_kind, stake_stake_kind,
    stake_unstake_kind, stake_set_take_kind;
#define STAKE_HOST_MAX 253

enum { STAKE_MINER = 0, STAKE_VALIDATOR = 1 };

typedef struct {
    uint16_t uid;
    chain_addr addr;
    uint8_t role;                   /* STAKE_MINER | STAKE_VALIDATOR */
    uint64_t registered_at;         /* height; immune until + immunity_blocks */
    uint16_t pruning_score;         /* written by the epoch (rewards/); 0 until then */
    uint64_t fee_paid;              /* the registration fee it paid */
    bool served;
    char host[STAKE_HOST_MAX + 1];
    uint16_t port;
    uint8_t x25519[32];
    uint64_t served_at;
} stake_neuron;

based_err stake_neuron_get(chain_view *v, const contract_brain *b, uint16_t uid,
                           stake_neuron *n);
based_err stake_neuron_put(chain_view *v, const contract_brain *b, const stake_neuron *n);
/* The uid of account a on Brain b (BASED_E_NOT_FOUND if not registered). */
based_err stake_uid_of(chain_view *v, const contract_brain *b, const chain_addr *a,
                       uint16_t *uid);
/* Total stake on a hotkey of a Brain instance. */
based_err stake_hotkey_total(chain_view *v, uint16_t brain, uint32_t instance,
                             const chain_addr *hotkey, uint64_t *total);
/* Adds amount to staker's stake on hotkey (its three records) of Brain
 * b, and to b->stake and t->stake_total (the caller writes b and t back).
 * Used by rewards/ to pay dividends into stake. */
based_err stake_add(chain_view *v, contract_brain *b, contract_totals *t, const chain_addr *hotkey,
                    const chain_addr *staker, uint64_t amount);
/* A hotkey's take in basis points (the default if it never set one). */
based_err stake_take_get(chain_view *v, const chain_genesis *g, const chain_addr *hotkey,
                         uint64_t *bps, uint64_t *changed_at);
/* active[uid] for uids 0..b->n_uids-1: the validators that are among the
 * top 256 by stake and not in the bottom (10000 - active_validator_bps)
 * share by stake; ties: the lower uid loses. stake[uid] gets each uid's
 * hotkey stake (may be NULL). */
based_err stake_active_validators(chain_view *v, const chain_genesis *g, const contract_brain *b,
                                  bool *active, uint64_t *stake);
/* Is a neuron immune from replacement at height h? */
bool stake_is_immune(chain_view *v, const chain_genesis *g, const stake_neuron *n, uint64_t h);

#endif
