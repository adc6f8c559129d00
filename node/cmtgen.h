/*
 * cmtgen.h: the files CometBFT v0.38 reads, generated from ours.
 *
 * - Our genesis (chain/genesis.h) -> CometBFT's genesis.json: the same
 *   chain id, genesis time (RFC 3339, nanoseconds), initial height 1, fixed
 *   consensus parameters (Ed25519 validators only), and one validator per
 *   authority (the same Ed25519 key and power). The app hash is empty: the
 *   application's state root after InitChain is what CometBFT records.
 * - An authority key (node/authkey.h, libsodium's 64-byte seed || public
 *   key) -> priv_validator_key.json; a fresh priv_validator_state.json.
 * - A p2p node key -> node_key.json, and its node ID.
 * - A network genesis in OUR format: the built-in genesis with its dev
 *   accounts prefunded and N given authorities (what based-net writes).
 * - config.toml: `key = value` lines replaced inside their [section].
 *
 * CometBFT's encodings (checked against v0.38.25): a validator address is
 * the first 20 bytes of SHA-256(public key), upper-case hex in JSON; a node
 * ID is the same 20 bytes in lower-case hex; keys are base64 (standard
 * alphabet, padded) with the types "tendermint/PubKeyEd25519" and
 * "tendermint/PrivKeyEd25519"; 64-bit integers are JSON strings.
 *
 * Texts holding a secret key are in libsodium secure memory: free them with
 * cmtgen_secret_free. Other texts are malloc'd (free). Errors: a based_err
 * and one line in err (errlen bytes) naming the file or field. Stateless and
 * thread-safe; call chain_crypto_init() (sodium_init) once before.
 */
#ifndef BASED_NODE_CMTGEN_H
#define BASED_NODE_CMTGEN_H

#include "chain/genesis.h"

#define CMTGEN_ID_LEN 41            /* 40 hex digits and a NUL */
#define CMTGEN_TOML_MAX (1u << 20)  /* config.toml larger than this is refused */

/* Validator address: upper-case hex of SHA-256(pub)[0..20]. */
void cmtgen_address(const chain_edpub *pub, char out[CMTGEN_ID_LEN]);
/* Node ID: lower-case hex of SHA-256(pub)[0..20]. */
void cmtgen_node_id(const chain_edpub *pub, char out[CMTGEN_ID_LEN]);
/* ms since the epoch -> "2026-01-01T00:00:00.000000000Z" (out >= 32). */
void cmtgen_time(uint64_t ms, char out[32]);

/* CometBFT genesis.json text of g (*out malloc'd). BASED_E_GENESIS when g
 * has no authority. */
based_err cmtgen_genesis_json(const chain_genesis *g, char **out, char *err, size_t errlen);

/* priv_validator_key.json of a 64-byte libsodium Ed25519 secret key (seed
 * || public key; BASED_E_BAD_KEY when the public half does not match the
 * seed). *out is secure memory (cmtgen_secret_free). */
based_err cmtgen_validator_key_json(const uint8_t sk[64], char **out, char *err, size_t errlen);
/* The initial priv_validator_state.json (height 0, round 0, step 0). */
const char *cmtgen_validator_state_json(void);
/* node_key.json of a 64-byte Ed25519 secret key (secure memory). */
based_err cmtgen_node_key_json(const uint8_t sk[64], char **out, char *err, size_t errlen);
void cmtgen_secret_free(char *text);

/* A network genesis in our format (*out malloc'd): base_text (our format,
 * e.g. chain_genesis_default) with its dev accounts prefunded in BASED and
 * Pepecoin, dev0 as admin and Pepecoin bridge key unless base_text names
 * them, dev0 as every authority's fee account, the dev block time and dev
 * parameter overrides written as params, no "dev" section, genesis time
 * time_ms (whole seconds: rounded down), and the n authorities
 * "authority-0".. with keys[i] and `power`. The text is parsed back before
 * it is returned. */
based_err cmtgen_net_genesis(const char *base_text, const chain_edpub *keys, size_t n,
                             uint64_t power, uint64_t time_ms, char **out, char *err,
                             size_t errlen);

/* Replaces the value of `key = ...` inside [section] ("" = before the first
 * section header) of the TOML text *text (malloc'd, NUL-terminated; it is
 * reallocated). value is TOML as written ("\"1s\"", "false"). BASED_E_NOT_FOUND
 * naming section and key when no such line exists; BASED_E_TOO_LARGE past
 * CMTGEN_TOML_MAX. Only single-line values are replaced. */
based_err cmtgen_toml_set(char **text, const char *section, const char *key, const char *value,
                          char *err, size_t errlen);

/* Writes data to path atomically (path.tmp, fsync, rename) with `mode`.
 * With `exclusive` an existing path is an error (BASED_E_EXISTS). */
based_err cmtgen_write_file(const char *path, const char *data, size_t len, unsigned mode,
                            bool exclusive, char *err, size_t errlen);

/* For `basedd --cometbft-genesis OUT`: reads our genesis at genesis_path
 * and writes CometBFT's genesis.json to out_path (replacing it). */
based_err cmtgen_write_genesis(const char *genesis_path, const char *out_path, char *err,
                               size_t errlen);
/* For `basedd --cometbft-key OUT`: reads the authority key file and writes
 * priv_validator_key.json to out_path, mode 0600. Refuses to replace an
 * existing file holding another key (BASED_E_EXISTS); the same key is
 * rewritten. */
based_err cmtgen_write_validator_key(const char *authkey_path, const char *out_path, char *err,
                                     size_t errlen);

#endif
