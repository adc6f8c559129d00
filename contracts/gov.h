/*
 * gov.h: governance. Proposals change a genesis parameter from an
 * allowlist (the change takes effect at the block where the voting period
 * ends, if the proposal passes) or carry a text. The genesis admin key and
 * the owners of GigaBrains propose; each GigaBrain has one vote, cast by its
 * owner; Pepecoin holders may cast a signal vote (recorded with their
 * Pepecoin balance as weight, shown, not binding). Proposals made in the
 * first gov_year1_blocks pass unless a majority of the GigaBrains voted no;
 * later ones need a majority of the GigaBrains voting yes (the GigaBrains
 * counted at the end of the voting period).
 *
 * State: g || id -> proposal; v || id || 0 || brain / 1 || account -> vote;
 * o -> the open proposal ids (at most CONTRACT_GOV_MAX_OPEN);
 * x || param index -> value set by a passed proposal.
 */
#ifndef BASED_CONTRACTS_GOV_H
#define BASED_CONTRACTS_GOV_H

#include <stddef.h>

#include "chain/base.h"

#define CONTRACT_GOV_MAX_OPEN 32
#define CONTRACT_GOV_TEXT_MAX 256

/* Index in the allowlist of the chain_params field at byte offset off, or -1. */
int contract_gov_param_index(size_t off);
/* Name of allowlist entry i (NULL past the end). */
const char *contract_gov_param_name(size_t i);

#endif
