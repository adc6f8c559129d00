/*
 * net.h: a tiny model of one Brain's stored state for the epoch tests
 * (stake, last update, registration block, permits, weights and bonds
 * rows), so the upstream tests' sequences of set_weights / register /
 * epoch can be replayed exactly.
 */
#ifndef BASED_TESTS_REWARDS_NET_H
#define BASED_TESTS_REWARDS_NET_H

#include "rewards/epoch.h"

typedef struct {
    size_t n;
    reward_epoch_params p;
    uint64_t *stake, *last_update, *reg;
    bool *permit;
    uint16_t *wu, *wv, *bu, *bv;  /* n x n row storage */
    size_t *wn, *bn;
    reward_epoch_out out;         /* the last epoch's output */
} net;

net *net_new(size_t n);
void net_free(net *t);
/* set_weights at `block`: stores the max-upscaled row, last_update = block. */
void net_set_weights(net *t, size_t i, const uint16_t *uid, const uint16_t *val, size_t m,
                     uint64_t block);
/* Runs the epoch, stores new permits and bonds; returns the error. */
based_err net_epoch(net *t, uint64_t block, uint64_t emission);
/* Stored bond of i on j (0 when absent). */
uint16_t net_bond(const net *t, size_t i, size_t j);

#endif
