/*
 * state.h: the consensus records of contracts/ and staking/, and the
 * shared helpers of their transaction kinds.
 *
 * Records (prefixes in chain/keys.h, values in the chain/codec.h encoding):
 *   Pepecoin balances and the Pepecoin supply counters;
 *   the totals record (active Brains, Brains issued by burn, the instance
 *   sequence, all staked BASED, stake left on deactivated Brains, the
 *   proposal sequence);
 *   one record per issued, active Brain.
 * Each Brain issue gets a fresh `instance` number; neurons and stakes are
 * keyed by (Brain id, instance), so a Brain id issued again after a
 * deactivation starts empty and nothing of the old Brain carries over.
 *
 * Governance may change some genesis parameters (contracts/gov.c lists
 * them); kinds read every such parameter through CONTRACT_PARAM.
 */
#ifndef BASED_CONTRACTS_STATE_H
#define BASED_CONTRACTS_STATE_H

#include <stddef.h>

#include "chain/exec.h"
#include "chain/kinds.h"
#include "contracts/payload.h"

#define CONTRACT_MAX_BRAINS 1024

/* The kind ids of contracts/ (staking/'s are in staking/staking.h; the
 * module's table is contract_kinds in contracts/contracts.h). */
enum {
    CONTRACT_KIND_PEPE_TRANSFER = 2,
    CONTRACT_KIND_PEPE_BRIDGE = 3,
    CONTRACT_KIND_BRAIN_BUY = 4,
    CONTRACT_KIND_BRAIN_SET = 5,
    CONTRACT_KIND_BRAIN_TRANSFER = 6,
    CONTRACT_KIND_BRAIN_DEACTIVATE = 7,
    CONTRACT_KIND_GOV_PROPOSE = 13,
    CONTRACT_KIND_GOV_VOTE = 14,
};

/* Their rows (pepe.c, brain.c, gov.c). */
extern const chain_kind contract_pepe_transfer_kind, contract_pepe_bridge_kind,
    contract_brain_buy_kind, contract_brain_set_kind, contract_brain_transfer_kind,
    contract_brain_deactivate_kind, contract_gov_propose_kind, contract_gov_vote_kind;

/* 128-bit intermediates for products and ratios of u64 amounts. */
__extension__ typedef unsigned __int128 contract_u128;
#define CONTRACT_NAME_MAX 32
#define CONTRACT_DESIGNATION_MAX 64
#define CONTRACT_URI_MAX 200

/* ---------------- Pepecoin ---------------- */

typedef struct {
    uint64_t genesis;   /* genesis balances */
    uint64_t bridged;   /* minted by the bridge key */
    uint64_t burned;    /* burned to buy Brains */
    uint64_t locked;    /* locked in Brains bought by stake */
} contract_pepe_supply;

based_err contract_pepe_get(chain_view *v, const chain_addr *a, uint64_t *bal);
based_err contract_pepe_credit(chain_view *v, const chain_addr *a, uint64_t amount);
/* BASED_E_INSUFFICIENT if the balance is smaller. */
based_err contract_pepe_debit(chain_view *v, const chain_addr *a, uint64_t amount);
based_err contract_pepe_supply_get(chain_view *v, contract_pepe_supply *s);
based_err contract_pepe_supply_put(chain_view *v, const contract_pepe_supply *s);

/* ---------------- totals ---------------- */

typedef struct {
    uint64_t active;        /* issued and active Brains (reserved included) */
    uint64_t burn_issued;   /* Brains ever issued by burn */
    uint64_t instance_seq;  /* last Brain instance number handed out */
    uint64_t stake_total;   /* all staked BASED (part of the BASED supply) */
    uint64_t stake_orphan;  /* of which on deactivated Brains (not counted for GigaBrains) */
    uint64_t proposal_seq;  /* last proposal id */
} contract_totals;

based_err contract_totals_get(chain_view *v, contract_totals *t);
based_err contract_totals_put(chain_view *v, const contract_totals *t);

/* ---------------- Brains ---------------- */

enum { CONTRACT_BY_RESERVE = 0, CONTRACT_BY_BURN = 1, CONTRACT_BY_STAKE = 2 };
enum { CONTRACT_CONSENSUS_YUMA = 0, CONTRACT_CONSENSUS_WHITEPAPER = 1 };

typedef struct {
    uint16_t id;
    uint32_t instance;
    uint8_t method;                 /* CONTRACT_BY_* */
    chain_addr owner;
    chain_addr payout;              /* receives registration fees and the owner's 25 % */
    uint64_t issued_at;             /* height */
    uint64_t unlock_at;             /* by stake: height the lock ends, earning starts */
    uint64_t locked;                /* by stake: Pepecoin locked */
    char name[CONTRACT_NAME_MAX + 1];
    char designation[CONTRACT_DESIGNATION_MAX + 1];
    chain_hash model_hash;
    char model_uri[CONTRACT_URI_MAX + 1];
    uint64_t fee;                   /* registration fee, BASED base units */
    uint16_t validator_bps;         /* validators' share of the nodes' 75 % */
    uint8_t consensus;              /* CONTRACT_CONSENSUS_* */
    uint16_t n_uids;                /* uids handed out so far (0..n_uids-1 in use) */
    uint16_t n_validators;
    uint16_t n_miners;
    uint64_t stake;                 /* BASED staked on the Brain */
    uint64_t oldest_reg[2];         /* per role (miner, validator): the earliest
                                     * registration height, so a full role whose
                                     * neurons are all immune is refused without a scan */
} contract_brain;

/* BASED_E_NOT_FOUND if the id is not issued (or was deactivated). */
based_err contract_brain_get(chain_view *v, uint64_t id, contract_brain *b);
based_err contract_brain_put(chain_view *v, const contract_brain *b);
based_err contract_brain_del(chain_view *v, uint64_t id);

/* Does the Brain earn emission at height h (a Brain bought by stake only
 * from the end of its Pepecoin lock)? */
bool contract_brain_earning(const contract_brain *b, uint64_t h);

/* Is the Brain a GigaBrain: its stake >= gigabrain_bps of all stake on
 * active Brains (and non-zero)? */
bool contract_is_gigabrain(chain_view *v, const chain_genesis *g, const contract_totals *t,
                           const contract_brain *b);

/* ---------------- parameters ---------------- */

/* The value of the chain_params field at byte offset `off`: the last value
 * governance set, else the genesis value. */
uint64_t contract_param_get(chain_view *v, const chain_genesis *g, size_t off);
#define CONTRACT_PARAM(ex, field) \
    contract_param_get((ex)->txview ? (ex)->txview : (ex)->view, (ex)->genesis, \
                       offsetof(chain_params, field))

/* ---------------- kinds ---------------- */

/* Stateless checks beyond the codec (amount > 0 and the like). */
typedef based_err (*contract_check_fn)(const contract_pval *v, const char **why);
typedef based_err (*contract_apply_fn)(chain_exec *ex, const chain_tx *tx,
                                       const contract_pval *v, const char **why);

based_err contract_kind_check(const contract_payload *spec, contract_check_fn check,
                              const uint8_t *p, size_t n, const char **why);
based_err contract_kind_apply(const contract_payload *spec, contract_check_fn check,
                              contract_apply_fn apply, chain_exec *ex, const chain_tx *tx,
                              const char **why);
based_err contract_kind_from_json(const contract_payload *spec, contract_check_fn check,
                                  json_t *obj, uint16_t prefix, chain_wbuf *out,
                                  const char **why);

/* Defines NAME_kind, a chain_kind row over a payload spec, a check and an
 * apply function (spend NULL = no BASED leaves beyond the fee). */
#define CONTRACT_KIND(NAME, ID, KNAME, SPEC, CHECK, APPLY, SPEND)                           \
    static based_err NAME##_kcheck(const uint8_t *p, size_t n, const char **why)           \
    { return contract_kind_check(&SPEC, CHECK, p, n, why); }                               \
    static based_err NAME##_kapply(chain_exec *ex, const chain_tx *tx, const char **why)   \
    { return contract_kind_apply(&SPEC, CHECK, APPLY, ex, tx, why); }                             \
    static json_t *NAME##_kjson(const uint8_t *p, size_t n, uint16_t prefix)               \
    { return contract_payload_to_json(&SPEC, p, n, prefix); }                              \
    static based_err NAME##_kfrom(json_t *o, uint16_t prefix, chain_wbuf *out,             \
                                  const char **why)                                        \
    { return contract_kind_from_json(&SPEC, CHECK, o, prefix, out, why); }                 \
    const chain_kind NAME##_kind = { ID, KNAME, NAME##_kcheck, SPEND, NAME##_kapply,       \
                                     NAME##_kjson, NAME##_kfrom }

/* Event helper: adds {"type": type, ...} built by json_pack-style fields. */
#define CONTRACT_EVENT(ex, type, ...) \
    do { if ((ex)->events) chain_exec_event((ex), (type), json_pack(__VA_ARGS__)); } while (0)

/* Copies src into dst (capacity cap), truncating. */
void contract_strcpy(char *dst, size_t cap, const char *src);

/* SS58 string of an address (buffer CHAIN_ADDR_STRLEN). */
const char *contract_ss58(const chain_exec *ex, const chain_addr *a, char *buf);

#endif
