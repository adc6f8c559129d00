/*
 * sim.h: the epoch simulator behind bin/based-sim. It reads one Brain
 * described in JSON (block, emission, params, neurons with stake, last
 * update, registration block, permit, stored weights and bonds rows), runs
 * the chain's own reward_epoch_run on it, and writes the same shape back
 * with the epoch's per-neuron results and the new permits and bonds, so the
 * output can be fed to the next epoch.
 *
 * Integers only: stake and emission are base-unit strings, the u16 columns
 * are integers (floor(x * 65535)). Errors name the JSON path of the bad
 * value ("neurons[3].weights[0]").
 */
#ifndef BASED_REWARDS_SIM_H
#define BASED_REWARDS_SIM_H

#include "chain/base.h"

#define REWARD_SIM_MAX_INPUT (64u << 20)   /* bytes of JSON accepted */

/* Runs one epoch on the JSON text. On success *out is a malloc'd JSON text
 * (caller frees). BASED_E_DECODE / BASED_E_BAD_PARAM / BASED_E_TOO_LARGE
 * with a message in err (always NUL-terminated) on bad input; *out is then
 * NULL. */
based_err reward_sim_epoch(const char *text, size_t len, char **out, char *err, size_t errlen);

/* The cabal scenario of docs/economics.md (rewards/cabal.c): validators
 * with cabal_pct % of the stake weight only their own miner, the honest
 * rest weight the honest miners (and, unless disjoint, the cabal's miner
 * as a weak one); epochs run one after another with each side's takings
 * restaked. Writes the cabal's share of miner emission per epoch, in
 * parts per million, into share_ppm[0..epochs). mode is a reward_mode. */
based_err reward_sim_cabal(int mode, unsigned cabal_pct, bool disjoint, unsigned epochs,
                           uint32_t *share_ppm);

#endif
