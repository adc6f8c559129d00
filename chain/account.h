/*
 * account.h: account records (balance and nonce) in the state, and the
 * checked arithmetic every balance change goes through.
 *
 * State table CHAIN_T_ACCOUNT: key 'a' || account id (32 bytes), value
 * balance u64 || nonce u64 (codec.h encoding). A missing record is an
 * account with zero balance and nonce 0; a record that returns to zero is
 * deleted, so the state never holds empty accounts.
 */
#ifndef BASED_CHAIN_ACCOUNT_H
#define BASED_CHAIN_ACCOUNT_H

#include "chain/crypto.h"
#include "chain/state.h"

typedef struct {
    uint64_t balance;
    uint64_t nonce;
} chain_account;

based_err chain_account_get(chain_view *v, const chain_addr *a, chain_account *out);
based_err chain_account_put(chain_view *v, const chain_addr *a, const chain_account *acct);
/* balance += amount; BASED_E_OVERFLOW if it would wrap. */
based_err chain_credit(chain_view *v, const chain_addr *a, uint64_t amount);
/* balance -= amount; BASED_E_INSUFFICIENT if it is smaller. */
based_err chain_debit(chain_view *v, const chain_addr *a, uint64_t amount);

/* Supply counters (state table CHAIN_T_SUPPLY): genesis total, minted,
 * burned. Invariant: genesis + minted - burned = everything held. */
typedef struct {
    uint64_t genesis;
    uint64_t minted;
    uint64_t burned;
} chain_supply;

based_err chain_supply_get(chain_view *v, chain_supply *s);
based_err chain_supply_put(chain_view *v, const chain_supply *s);

#endif
