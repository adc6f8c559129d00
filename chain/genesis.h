/*
 * genesis.h: the genesis file (genesis.json) and the chain parameters.
 *
 * Parsed with jansson; every semantic error names the file, line, column
 * and key ("genesis.json:14:7: \"block_time_ms\" must be a positive
 * integer"); unknown and missing required keys are errors. The schema of
 * "params" is one table in genesis.c: a later module adds a parameter by
 * adding a row there and a field in chain_params.
 *
 * The genesis hash is BLAKE2b-256 of the canonical encoding of the parsed
 * genesis; a node stores it and refuses to start on a different genesis.
 */
#ifndef BASED_CHAIN_GENESIS_H
#define BASED_CHAIN_GENESIS_H

#include "chain/block.h"
#include "chain/crypto.h"

typedef struct {
    char name[33];
    chain_edpub key;
    uint64_t power;
    chain_addr account;        /* receives the fees of blocks it proposes */
} chain_authority;

typedef struct {
    chain_addr address;
    uint64_t amount;
} chain_balance;

typedef struct {
    uint64_t min_fee;          /* base units */
    uint64_t max_block_txs;
    uint64_t mempool_max_txs;
    uint64_t mempool_max_per_sender;
    /* Brains, neurons, stake and governance (contracts/, staking/). Amounts
     * of Pepecoin and BASED in base units, shares in basis points. The ones
     * governance may change are listed in contracts/gov.c. */
    uint64_t brain_burn_base;       /* Pepecoin burned for the first Brain by burn */
    uint64_t brain_burn_step;       /* ... plus this per Brain issued by burn so far */
    uint64_t brain_stake_amount;    /* Pepecoin locked to buy a Brain by stake */
    uint64_t brain_stake_lock_blocks;
    uint64_t brain_default_fee;     /* BASED registration fee of a new Brain */
    uint64_t immunity_blocks;
    uint64_t max_validators;        /* slots per Brain */
    uint64_t max_miners;
    uint64_t take_default_bps;
    uint64_t take_min_bps;
    uint64_t take_max_bps;
    uint64_t take_rate_limit_blocks;
    uint64_t active_validator_bps;  /* top share of validators by stake that is active */
    uint64_t gigabrain_bps;         /* Brain stake share of all stake for a GigaBrain */
    uint64_t gov_voting_blocks;
    uint64_t gov_year1_blocks;      /* proposals ending before this pass unless voted down */
    /* Emission, weights and the epoch (rewards/). */
    uint64_t block_reward;          /* base units in year 1, halved every blocks_per_year */
    uint64_t brain_base_bps;        /* share split by counted stake x performance (9000) */
    uint64_t brain_bonus_top_bps;   /* the rest: evenly to this top share of Brains (3000) */
    uint64_t brain_stake_cap_bps;   /* counted stake cap, of all stake on active Brains (50) */
    uint64_t owner_bps;             /* owner's share of a Brain's pending emission (2500) */
    uint64_t tempo;                 /* blocks between a Brain's epochs (99; 0 = never) */
    uint64_t weights_rate_limit;    /* blocks between two weights commits of a neuron */
    uint64_t min_allowed_weights;
    uint64_t max_weights_limit;     /* u16: largest normalised weight (65535 = no limit) */
    uint64_t kappa;                 /* u16 */
    uint64_t rho;
    uint64_t bonds_moving_average;  /* parts per million */
    uint64_t activity_cutoff;       /* blocks */
    /* The TFT Enforcer in the chain (rewards/tftchain.c, docs/tft.md). */
    uint64_t tft_enabled;           /* 0 = off (no TFT state, b = 0), 1 = on */
    uint64_t tft_train_every;       /* a Brain's training job every N of its epochs */
    uint64_t tft_apply_delay;       /* D: a job over the state at h applies at h + D */
    uint64_t tft_window;            /* K: epochs of history kept per uid */
} chain_params;

/* A dev override left out of the file (the params value stands). */
#define CHAIN_DEV_UNSET UINT64_MAX

typedef struct {
    uint64_t block_time_ms;
    uint64_t accounts;         /* dev0..dev(N-1) are prefunded */
    uint64_t balance;          /* base units each */
    uint64_t pepecoin;         /* Pepecoin base units each */
    /* Optional overrides of the same-named params that --dev applies (a
     * short epoch for 1-second blocks), CHAIN_DEV_UNSET when absent. */
    uint64_t tempo;
    uint64_t weights_rate_limit;
    uint64_t activity_cutoff;
    uint64_t immunity_blocks;
} chain_dev_params;

#define CHAIN_MAX_RESERVED_BRAINS 16

typedef struct {
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint64_t genesis_time_ms;
    uint16_t ss58_prefix;
    uint64_t block_time_ms;
    uint64_t blocks_per_year;
    size_t nauth;
    chain_authority auth[CHAIN_MAX_AUTHORITIES];
    size_t nbal;
    chain_balance *bal;        /* owned */
    size_t npepe;
    chain_balance *pepe;       /* owned: genesis Pepecoin balances */
    bool has_bridge;
    chain_addr pepe_bridge;    /* may mint Pepecoin (pepe_bridge kind) */
    bool has_admin;
    chain_addr admin;          /* owns the reserved Brains; may propose */
    size_t nreserved;
    uint16_t reserved[CHAIN_MAX_RESERVED_BRAINS];
    chain_params params;
    chain_dev_params dev;
    bool is_dev;
    chain_hash hash;           /* set by parse/make_dev */
} chain_genesis;

#define CHAIN_GENESIS_MAX_BYTES (16u << 20)

/* Parses genesis JSON text; `file` is used in messages. On error *g is
 * released and err holds "file:line:col: message". */
based_err chain_genesis_parse(const char *text, size_t len, const char *file,
                              chain_genesis *g, char *err, size_t errlen);
/* Reads and parses a file (capped at CHAIN_GENESIS_MAX_BYTES). */
based_err chain_genesis_load(const char *path, chain_genesis *g, char *err, size_t errlen);
/* Turns a parsed genesis into a dev genesis: the one authority `key` (its
 * fee account is dev0), dev0..dev(N-1) prefunded with BASED and Pepecoin,
 * dev0 as admin and Pepecoin bridge key unless the file names them, the dev
 * block time, the dev overrides of params (tempo, weights_rate_limit,
 * activity_cutoff, immunity_blocks) that the file sets, the given genesis
 * time; recomputes the hash. */
based_err chain_genesis_make_dev(chain_genesis *g, const chain_edpub *key, uint64_t time_ms);
/* Canonical encoding (the genesis hash is the hash of these bytes). */
void chain_genesis_encode(const chain_genesis *g, chain_wbuf *w);
based_err chain_genesis_decode(const void *p, size_t n, chain_genesis *g);
void chain_genesis_release(chain_genesis *g);
/* Index of an authority key, or -1. */
int chain_genesis_authority(const chain_genesis *g, const chain_edpub *key);
/* Deep copy of src into dst (release dst with chain_genesis_release). */
based_err chain_genesis_copy(chain_genesis *dst, const chain_genesis *src);
/* Is Brain id reserved by this genesis? */
bool chain_genesis_reserved(const chain_genesis *g, uint64_t id);
/* Sum of genesis Pepecoin balances. */
based_err chain_genesis_pepe_total(const chain_genesis *g, uint64_t *total);
/* Sum of genesis balances (BASED_E_OVERFLOW if it exceeds u64). */
based_err chain_genesis_total(const chain_genesis *g, uint64_t *total);

/* The genesis.json compiled into the programs (NUL-terminated). */
extern const char chain_genesis_default[];

#endif
