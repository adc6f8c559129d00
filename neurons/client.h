/*
 * client.h: what based-miner, based-validator and based-devnet share to talk
 * to a node: the key a neuron signs with, chain facts, signed transactions
 * with nonce tracking, waiting for inclusion, and the Brain's metagraph.
 *
 * Keys: --key NAME|FILE resolves like based-cli --from: dev0..dev9 are the
 * public dev keys; a name is a keystore wallet in the wallet directory
 * (--wallet-dir, $BASED_WALLET_DIR, ~/.based/keys); anything containing '/'
 * or ending in ".json" is a keystore file. A keystore's password comes from
 * --password-file, else $BASED_PASSWORD, else a prompt on the terminal.
 *
 * Errors: every fallible function returns a based_err and writes one line
 * (no program prefix) into err (CLI_ERR_LEN bytes).
 *
 * A neuron_client is used by one thread (it owns a cli_rpc).
 */
#ifndef BASED_NEURONS_CLIENT_H
#define BASED_NEURONS_CLIENT_H

#include <jansson.h>

#include "chain/crypto.h"
#include "cli/rpcclient.h"
#include "cli/util.h"

typedef struct {
    uint8_t *sk;                     /* 32 bytes of sodium_malloc'd memory */
    chain_addr addr;
    char ss58[CHAIN_ADDR_STRLEN];
    bool is_dev;
} neuron_key;

/* Loads --key. wallet_dir and password_file may be NULL. Free with
 * neuron_key_release. BASED_E_NOT_FOUND / BASED_E_BAD_PASSWORD / BASED_E_IO
 * with err naming the wallet or file. */
based_err neuron_key_load(const char *spec, const char *wallet_dir, const char *password_file,
                          uint16_t ss58_prefix, neuron_key *out, char *err);
void neuron_key_release(neuron_key *k);

typedef struct neuron_client neuron_client;

/* Connects (node_getInfo, rewards_getSchedule) and learns the chain id,
 * SS58 prefix, block time, tempo and weights_rate_limit. timeout_ms bounds
 * every call of this client, these two included (0: cli_rpc's default). */
based_err neuron_client_new(const char *url, const char *cookie_flag, unsigned timeout_ms,
                            neuron_client **out, char *err);
void neuron_client_free(neuron_client *c);

typedef struct {
    char chain_id[64];
    uint16_t ss58_prefix;
    uint64_t block_time_ms;
    uint64_t tempo;
    uint64_t weights_rate_limit;
    bool dev;
} neuron_chain_info;
const neuron_chain_info *neuron_client_info(const neuron_client *c);
cli_rpc *neuron_client_rpc(neuron_client *c);

/* Calls a method; params stolen (may be NULL); *res a new reference. */
based_err neuron_call(neuron_client *c, const char *method, json_t *params, json_t **res,
                      char *err);

/* Head height and hash. */
based_err neuron_head(neuron_client *c, uint64_t *height, chain_hash *hash, char *err);

/* Signs a transaction of kind `kind` (its name, "memorize") with payload pj
 * (the kind's JSON form; stolen) from key k and sends it; *hash (may be
 * NULL) its hash. Keeps the sender's next nonce in c (re-read once on a
 * nonce error). fee in base units (0: the default 0.0001 BASED). A rejection
 * names the node's error in err, and *rej (may be NULL) the based_err the
 * node named (BASED_E_OK when the transport failed instead). */
based_err neuron_send(neuron_client *c, const neuron_key *k, const char *kind, json_t *pj,
                      uint64_t fee, chain_hash *hash, based_err *rej, char *err);

/* Waits until tx `hash` is in a block (at most timeout_ms); its receipt's
 * status must be success (else BASED_E_... the receipt names, in err).
 * *height (may be NULL) is its block. */
based_err neuron_wait_tx(neuron_client *c, const chain_hash *hash, unsigned timeout_ms,
                         uint64_t *height, char *err);

/* One neuron of a Brain as brain_getNeurons shows it. */
typedef struct {
    int uid;
    chain_addr addr;
    char ss58[CHAIN_ADDR_STRLEN];
    bool validator;
    bool served;
    char host[254];
    uint16_t port;
    uint8_t x25519[32];
    uint64_t stake;
} neuron_info;

/* The Brain's neurons (*list malloc'd, caller frees). BASED_E_NOT_FOUND if
 * the Brain does not exist. */
based_err neuron_metagraph(neuron_client *c, uint16_t brain, neuron_info **list, size_t *n,
                           char *err);

/* The uid of addr on brain, or -1 if not registered. */
based_err neuron_uid_of(neuron_client *c, uint16_t brain, const chain_addr *addr, int *uid,
                        char *err);

/* Memorizes (registers) k on brain in role "miner" / "validator" if it is
 * not registered yet, waiting for inclusion; max_fee in base units (0: any).
 * *uid is its uid afterwards. */
based_err neuron_ensure_registered(neuron_client *c, const neuron_key *k, uint16_t brain,
                                   const char *role, uint64_t max_fee, int *uid, char *err);

#endif
