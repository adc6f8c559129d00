/*
 * tftrec.h: `based-tft gen --kind devnet`, the recorder of a running
 * chain's series for the TFT (docs/tft.md, "Devnet-recorded data").
 *
 * It talks JSON-RPC to a node (cli/rpcclient.h: libcurl, the node's cookie
 * found as based-cli finds it) and writes the CSV format of docs/tft.md:
 * - one series per Brain, instance, uid and occupant (a uid that gets a new
 *   occupant starts a new series): t = the Brain's epoch number, target =
 *   the epoch's incentive (miners) or dividends (validators), u16; past
 *   covariates stake (BASED), validators (how many validators gave it a
 *   non-zero weight; for a validator: how many miners its row weights),
 *   weight_mean and weight_sd (of the row-normalised weights it got from
 *   every validator row of the epoch; for a validator: over its own row's
 *   non-zero entries), age (epochs since registration); known future
 *   future_epoch (the step index) and future_year_pos (height mod
 *   blocks_per_year over blocks_per_year); static static_brain, static_role
 *   (0 miner, 1 validator, 2 network);
 * - six network series over buckets of N blocks (N = tempo + 1, the blocks
 *   between two epochs of a Brain, unless `bucket` is set): t = the bucket
 *   index (height / N); net-txs (transactions per block), net-bytes (bytes
 *   of transactions per block), net-interval (mean block interval, ms),
 *   net-active (distinct senders), net-emission (BASED paid out by the
 *   recorded Brains' epochs in the bucket), net-stake (BASED staked on the
 *   recorded Brains at their last epoch in the bucket); their past
 *   covariates are 0 and static_brain is -1.
 *
 * Only the last 16 epochs of a Brain are kept by a node, so a long series
 * must be recorded while the chain runs: with `to` above the head the
 * recorder follows the chain (polling at half the block time) until the
 * head reaches `to`. Every count read from the node is capped (epochs per
 * Brain, blocks, neurons, senders per bucket); a cap reached is an error.
 *
 * Not in tft/: tft/ must build without curl and jansson (tft/determinism.mk);
 * based-tft calls this unless compiled with TFT_NO_DEVNET.
 */
#ifndef BASED_CLI_TFTREC_H
#define BASED_CLI_TFTREC_H

#include <stdio.h>

#include "cli/util.h"
#include "chain/base.h"

#define CLI_TFTREC_MAX_BRAINS 64
#define CLI_TFTREC_MAX_EPOCHS 100000       /* per Brain (TFT_MAX_STEPS) */
#define CLI_TFTREC_MAX_BLOCKS 2000000
#define CLI_TFTREC_MAX_SENDERS 1000000     /* distinct-sender set per bucket */
#define CLI_TFTREC_STALL_MS 120000         /* head not moving while following */

typedef struct {
    const char *rpc;          /* NULL: http://127.0.0.1:9933/ */
    const char *cookie;       /* --rpc-cookie or NULL (found as based-cli does) */
    int brains[CLI_TFTREC_MAX_BRAINS];
    int nbrains;              /* 0: every Brain that has neurons */
    int64_t from, to;         /* heights; -1: oldest kept epoch / the head */
    int bucket;               /* blocks per network step; 0: tempo + 1 */
    int min_steps;            /* drop series shorter than this (0: keep all) */
    FILE *log;                /* progress lines (may be NULL) */
} cli_tftrec_opts;

/* Records and writes the CSV to out. Returns BASED_E_OK, or an error with
 * one line in err (CLI_ERR_LEN bytes) naming the problem: no node answering,
 * a method result without a field it needs, no epochs yet, epochs pruned
 * before they were read, a cap reached, the chain not advancing. */
based_err cli_tftrec_run(const cli_tftrec_opts *o, FILE *out, char *err);

#endif
