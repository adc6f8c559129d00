/*
 * keys.h: every LevelDB key prefix, in one place.
 *
 * Keys are prefix byte || fixed-width big-endian fields. Lower-case
 * prefixes are consensus state: every write to them goes through a
 * chain_view and so into the state root. Upper-case prefixes are the
 * node's own indexes and metadata, outside the state root.
 */
#ifndef BASED_CHAIN_KEYS_H
#define BASED_CHAIN_KEYS_H

enum {
    /* consensus state (in the state root) */
    CHAIN_T_ACCOUNT = 'a',   /* a || account(32)        -> balance u64 || nonce u64 */
    CHAIN_T_SUPPLY  = 's',   /* s                       -> genesis u64 || minted u64 || burned u64 */
    /* contracts/ and staking/ (record layouts in contracts/state.h) */
    CHAIN_T_PEPE    = 'p',   /* p || account(32)        -> Pepecoin balance u64 */
    CHAIN_T_PEPESUP = 'q',   /* q                       -> Pepecoin genesis, bridged, burned, locked */
    CHAIN_T_BRAIN   = 'b',   /* b || brain(be16)        -> Brain record */
    CHAIN_T_TOTALS  = 'c',   /* c                       -> Brain and stake counters */
    CHAIN_T_NEURON  = 'n',   /* n || brain(be16) || instance(be32) || uid(be16) -> neuron */
    CHAIN_T_UIDOF   = 'u',   /* u || brain(be16) || instance(be32) || account(32) -> uid(be16) */
    CHAIN_T_STAKE   = 'k',   /* k || brain || instance || hotkey(32) || staker(32) -> amount */
    CHAIN_T_HOTKEY  = 'h',   /* h || brain || instance || hotkey(32) -> total stake on it */
    CHAIN_T_STAKER  = 'm',   /* m || staker(32) || brain || instance || hotkey(32) -> amount */
    CHAIN_T_TAKE    = 't',   /* t || hotkey(32)         -> take bps u16 || changed at u64 */
    CHAIN_T_PROPOSAL = 'g',  /* g || id(be64)           -> proposal */
    CHAIN_T_VOTE    = 'v',   /* v || id(be64) || 0 || brain(be16) | 1 || account(32) -> vote */
    CHAIN_T_GOVOPEN = 'o',   /* o                       -> open proposal ids */
    CHAIN_T_PARAM   = 'x',   /* x || param index(be16)  -> u64 value set by governance */
    /* rewards/ (record layouts in rewards/rewards.h) */
    CHAIN_T_EMISSION = 'e',  /* e                       -> pending total, unminted, minted
                              * e || brain(be16)        -> a Brain's emission record */
    CHAIN_T_WEIGHTS = 'w',   /* w || brain || instance || uid(be16) -> weights row */
    CHAIN_T_WCOMMIT = 'j',   /* j || brain || instance || uid(be16) -> weights commit */
    CHAIN_T_EPOCH   = 'y',   /* y || brain || instance || epoch(be64) -> epoch outputs */
    CHAIN_T_REWARD  = 'r',   /* r || account(32) || brain(be16) || epoch height(be64) -> paid */
    CHAIN_T_EVIDENCE = 'd',  /* d || block height(be64) || index(be16) -> evidence (block.h) */
    CHAIN_T_TFT     = 'f',   /* f || brain || instance || 'S'|'J'|'M' -> TFT series, job, model
                              * (rewards/tftchain.h); f || 'N' || 'A'|'S'|'J'|'M' -> the
                              * network series (rewards/tftnet.h) */

    /* node indexes and metadata (not state) */
    CHAIN_T_META    = 'M',   /* M || name               -> value */
    CHAIN_T_BLOCK   = 'B',   /* B || height(be64)       -> encoded block */
    CHAIN_T_HASH    = 'H',   /* H || block hash(32)     -> height(be64) */
    CHAIN_T_TXINDEX = 'T',   /* T || tx hash(32)        -> height(be64) || index(u32) || receipt JSON */
    CHAIN_T_COMMIT  = 'C',   /* C || height(be64)       -> commit signatures on that block */
};

/* Is this key part of the consensus state? */
#define CHAIN_KEY_IS_STATE(k) ((k)[0] >= 'a' && (k)[0] <= 'z')

#endif
