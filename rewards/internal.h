/*
 * internal.h: what the files of rewards/ (emission.c, weights.c, payout.c,
 * query.c) share and nothing else uses: the u64 record helpers, the
 * parameter accessor, the epoch record and the epoch driver.
 */
#ifndef BASED_REWARDS_INTERNAL_H
#define BASED_REWARDS_INTERNAL_H

#include "chain/account.h"
#include "chain/keys.h"
#include "rewards/epoch.h"
#include "rewards/rewards.h"
#include "staking/staking.h"

#define REWARD_PARAM(ex, field) CONTRACT_PARAM(ex, field)

/* A value of n u64 fields; a missing key reads as zeros / all zero deletes. */
based_err reward_get_u64s(chain_view *v, const uint8_t *k, size_t kl, uint64_t *out, size_t n);
based_err reward_put_u64s(chain_view *v, const uint8_t *k, size_t kl, const uint64_t *in, size_t n);

/* be16 id || be32 instance at k. */
void reward_put_brain(uint8_t *k, uint16_t id, uint32_t instance);

/* One neuron of a stored epoch. */
typedef struct {
    uint8_t role;
    uint64_t stake, last_update, registered_at;
    uint16_t rank, trust, consensus, incentive, dividends, vtrust;
    uint64_t emission;       /* the epoch's emission output (base units) */
    uint64_t paid;           /* what was paid for it (after the owner's split) */
    bool permit;
    size_t nb, nw;
    uint16_t *b_uid, *b_val; /* bonds row */
    uint16_t *w_uid, *w_val; /* weights row used */
    bool tft_has;            /* TFT bands (made the epoch before) were used */
    uint16_t p10, p50, p90;  /* the bands (0, 0, 65535 when !tft_has) */
} reward_eneuron;

typedef struct {
    uint64_t height, emission, owner, miners_paid, validators_paid;
    size_t n;
    reward_eneuron *nr;
    /* The TFT term (a trailing section, present when tft_enabled): b, beta
     * and accuracy in 32.32 fixed point; the bands are per neuron above. */
    bool has_tft;
    uint64_t tft_b, tft_beta, tft_acc;
} reward_epoch_rec;

/* Reads epoch `epoch` (from 0) of a Brain; BASED_E_NOT_FOUND if absent. */
based_err reward_epoch_rec_get(chain_view *v, uint16_t id, uint32_t instance, uint64_t epoch,
                               reward_epoch_rec *e);
void reward_epoch_rec_free(reward_epoch_rec *e);

/* Adds amounts (miner, validator, delegator, owner) to an account's reward
 * record of this epoch and to its totals. */
based_err reward_note(chain_view *v, const chain_addr *a, uint16_t id, uint64_t height,
                      const uint64_t add[4]);

/* Runs Brain b's epoch at the start of ex->height and pays it out; updates
 * r (pending, perf, epochs), t and the supply counters s. */
based_err reward_run_epoch(chain_exec *ex, contract_brain *b, reward_brain *r, reward_totals *t,
                           chain_supply *s);

#endif
