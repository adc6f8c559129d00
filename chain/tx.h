/*
 * tx.h: transactions.
 *
 * Encoding (chain/codec.h rules), in this order:
 *   chain_id   bytes (LEB128 length, 1..32 printable ASCII)
 *   sender     32 bytes (x-only secp256k1 key)
 *   nonce      u64
 *   fee        u64 (base units, paid to the block's proposer)
 *   kind       u16 (chain/kinds.h)
 *   payload    bytes (LEB128 length, <= CHAIN_TX_PAYLOAD_MAX)
 *   signature  64 bytes: BIP340 over sighash = BLAKE2b-256(all bytes above)
 * The tx hash (its id) is BLAKE2b-256 of the whole encoding.
 *
 * A chain_tx owns a copy of its encoding (`raw`); `payload` points into it.
 * Release with chain_tx_release (safe on a zeroed struct, idempotent).
 */
#ifndef BASED_CHAIN_TX_H
#define BASED_CHAIN_TX_H

#include "chain/crypto.h"

#define CHAIN_CHAIN_ID_MAX   32
#define CHAIN_TX_PAYLOAD_MAX 16384
#define CHAIN_TX_MAX         (CHAIN_TX_PAYLOAD_MAX + 256)

typedef struct {
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    chain_addr sender;
    uint64_t nonce;
    uint64_t fee;
    uint16_t kind;
    const uint8_t *payload;   /* into raw */
    size_t payload_len;
    chain_sig sig;
    chain_hash sighash;       /* what the signature covers */
    chain_hash hash;          /* the tx id */
    uint8_t *raw;             /* owned encoding */
    size_t raw_len;
} chain_tx;

/* Strict decode of an encoded tx into a fresh *tx (copies the bytes). Does
 * NOT verify the signature or the payload (see chain_tx_check). On error
 * *tx is left released and *why names the field. */
based_err chain_tx_decode(const void *p, size_t n, chain_tx *tx, const char **why);

/* Builds and signs a tx with secret key sk; sender is derived from sk. */
based_err chain_tx_make(chain_tx *tx, const char *chain_id, uint64_t nonce,
                        uint64_t fee, uint16_t kind, const void *payload,
                        size_t payload_len, const uint8_t sk[32]);

struct chain_runtime;

/* Stateless checks: chain id equals `chain_id` (BASED_E_WRONG_CHAIN), the
 * kind is one of rt's (BASED_E_UNKNOWN_KIND), the payload is well-formed for
 * the kind, and the signature verifies (BASED_E_BAD_SIGNATURE). */
based_err chain_tx_check(const struct chain_runtime *rt, const chain_tx *tx, const char *chain_id,
                         const char **why);

/* Deep copy (dst must be released or zeroed). */
based_err chain_tx_copy(chain_tx *dst, const chain_tx *src);
void chain_tx_release(chain_tx *tx);

/* --- the transfer kind's payload: to (32 bytes) || amount (u64) --- */
typedef struct {
    chain_addr to;
    uint64_t amount;
} chain_transfer;

/* Encodes into out (CHAIN_TRANSFER_LEN bytes). */
#define CHAIN_TRANSFER_LEN 40
void chain_transfer_encode(const chain_transfer *t, uint8_t out[CHAIN_TRANSFER_LEN]);
based_err chain_transfer_decode(const uint8_t *p, size_t n, chain_transfer *t,
                                const char **why);

#endif
