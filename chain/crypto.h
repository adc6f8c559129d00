/*
 * crypto.h: hashes, account keys, authority keys and addresses.
 *
 * - Hash: BLAKE2b-256 (libsodium).
 * - Accounts: secp256k1 keys; the account id is the 32-byte x-only public
 *   key, signatures are BIP340 Schnorr (libsecp256k1) over a 32-byte hash.
 * - Authorities and p2p identities: Ed25519 (libsodium).
 * - Addresses: SS58 (base58 of prefix || key || 2-byte BLAKE2b-512
 *   checksum over "SS58PRE" || prefix || key), with the network prefix from
 *   genesis (default 32323, a two-byte SS58 prefix). "0x" + 64 hex digits
 *   is accepted everywhere an address is.
 *
 * Secret keys passed in are never copied into unprotected memory by these
 * functions; callers keep them in sodium_malloc'd memory and wipe them.
 * All functions are thread-safe (one lazily created secp256k1 context).
 * Call chain_crypto_init() once at start-up (it is also called lazily).
 */
#ifndef BASED_CHAIN_CRYPTO_H
#define BASED_CHAIN_CRYPTO_H

#include "chain/base.h"

#define CHAIN_SS58_DEFAULT_PREFIX 32323u
#define CHAIN_ADDR_STRLEN 64          /* buffer size for any SS58 string */

typedef struct { uint8_t b[32]; } chain_hash;
typedef struct { uint8_t b[32]; } chain_addr;     /* x-only secp256k1 key */
typedef struct { uint8_t b[64]; } chain_sig;      /* BIP340 signature */
typedef struct { uint8_t b[32]; } chain_edpub;    /* Ed25519 public key */
typedef struct { uint8_t b[64]; } chain_edsig;    /* Ed25519 signature */

/* Initialises libsodium and the secp256k1 context; 0 on success. */
int chain_crypto_init(void);

chain_hash chain_hash_bytes(const void *p, size_t n);
/* BLAKE2b-256 of a || b (used for chaining and Merkle nodes). */
chain_hash chain_hash_pair(const chain_hash *a, const chain_hash *b);
bool chain_hash_eq(const chain_hash *a, const chain_hash *b);
bool chain_hash_is_zero(const chain_hash *h);

/* --- accounts (secp256k1, BIP340) --- */
/* Public x-only key of a 32-byte secret key; BASED_E_BAD_KEY if invalid. */
based_err chain_key_pub(const uint8_t sk[32], chain_addr *pub);
/* Fresh random valid secret key. */
void chain_key_generate(uint8_t sk[32]);
/* Dev account i (0..9): a fixed, public key derived from
 * BLAKE2b-256("based/dev-account/" || decimal i); NEVER use on a real
 * network. */
void chain_key_dev(unsigned i, uint8_t sk[32]);
/* BIP340 signature of msg; aux randomness from libsodium. */
based_err chain_sign(const uint8_t sk[32], const chain_hash *msg, chain_sig *sig);
bool chain_verify(const chain_addr *pub, const chain_hash *msg, const chain_sig *sig);

/* --- authorities (Ed25519) --- */
/* sk is libsodium's 64-byte Ed25519 secret key (seed || pub). */
void chain_ed_generate(uint8_t sk[64], chain_edpub *pub);
void chain_ed_sign(const uint8_t sk[64], const chain_hash *msg, chain_edsig *sig);
bool chain_ed_verify(const chain_edpub *pub, const chain_hash *msg, const chain_edsig *sig);

/* --- text forms --- */
/* Lower-case hex of n bytes into out (2n+1 bytes incl. NUL), no prefix. */
void chain_hex(const void *p, size_t n, char *out);
/* Decodes exactly n bytes from hex (optional "0x" prefix, either case).
 * BASED_E_BAD_HEX on a bad digit, odd or wrong length; out is then left
 * unwritten or all zeros. */
based_err chain_unhex(const char *s, void *out, size_t n);
/* SS58 address of a key (out >= CHAIN_ADDR_STRLEN bytes). */
void chain_ss58_encode(uint16_t prefix, const chain_addr *a, char *out);
/* Parses an SS58 address (checking prefix and checksum) or "0x" + 64 hex;
 * BASED_E_BAD_ADDRESS with a reason in why (may be NULL). */
based_err chain_addr_parse(const char *s, uint16_t prefix, chain_addr *a,
                           const char **why);
/* "0x..." hex of a hash (out >= 67 bytes). */
void chain_hash_hex(const chain_hash *h, char *out);

/* --- amounts (1 BASED = 10^9 base units) --- */
#define CHAIN_COIN 1000000000ull
/* Parses a non-negative decimal with at most 9 decimals ("12.5", "0.000000001",
 * "100"), no sign, no exponent, no spaces. Errors: BASED_E_BAD_AMOUNT (with
 * why = "negative", "more than 9 decimals", "not a number", ...) or
 * BASED_E_OVERFLOW when it does not fit in u64 base units. */
based_err chain_amount_parse(const char *s, uint64_t *out, const char **why);
/* Shortest decimal form ("12.5", "0", "0.000000001"); out >= 32 bytes. */
void chain_amount_format(uint64_t v, char *out);

#endif
