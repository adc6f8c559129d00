/* tests/emission uses the shared test chain of tests/contracts. */
#include "tests/contracts/env.h"

#ifndef BASED_TESTS_EMISSION_ENV_H
#define BASED_TESTS_EMISSION_ENV_H

/* The three-miner toy of the TFT tests (tests/emission/toy.c): dev1
 * validates Brain 0's uids 1-3 with weights that vary by window
 * (periods 5 and 3), salt 0x0707. */
extern const uint16_t env_toy_uids[3];
extern const uint8_t env_toy_salt[2];
void env_toy_weights(uint64_t win, uint16_t w[3]);
/* Reveals window win - 1's toy weights and commits window win's. */
void env_toy_commit_reveal(env *e, uint64_t win);
/* dev1 becomes Brain 0's validator with 1000 staked, dev2..dev4 its miners. */
void env_toy_setup(env *e);
/* One step of the toy with tempo 9: at a new window the reveal and the
 * commit (a block each), otherwise one empty block. */
void env_toy_step(env *e);

#endif
