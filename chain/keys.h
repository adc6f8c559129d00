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
