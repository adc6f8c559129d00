/*
 * base.h: what every file of based includes. It brings in the common libc
 * headers, the project's one error enum (codes and messages generated from
 * one list), and then bans the unsafe libc calls at compile time.
 *
 * Include it after any other system header a file needs: the ban is a
 * `#pragma GCC poison`, and a header declaring a banned name after it would
 * not compile (the common ones are included here first, so including them
 * again later is harmless).
 *
 * Error codes are stable: they appear in RPC errors (as -32000 - code), in
 * receipts and in tests. Add new codes at the end of their group, never
 * renumber. At most 99 codes (the JSON-RPC application range is
 * -32000..-32099).
 */
#ifndef BASED_CHAIN_BASE_H
#define BASED_CHAIN_BASE_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASED_VERSION "0.1.0"

/* X(name, code, message) */
#define BASED_ERRORS(X) \
    X(OK,               0, "ok") \
    X(NOMEM,            1, "out of memory") \
    X(IO,               2, "I/O error") \
    X(DB,               3, "database error") \
    X(DECODE,           4, "malformed encoding") \
    X(TOO_LARGE,        5, "input too large") \
    X(BAD_HEX,          6, "malformed hex string") \
    X(BAD_ADDRESS,      7, "malformed address") \
    X(BAD_AMOUNT,       8, "malformed amount") \
    X(OVERFLOW,         9, "amount overflows") \
    X(BAD_SIGNATURE,   10, "bad signature") \
    X(WRONG_CHAIN,     11, "wrong chain id") \
    X(NONCE_GAP,       12, "nonce is ahead of the account's next nonce") \
    X(NONCE_USED,      13, "nonce already used") \
    X(INSUFFICIENT,    14, "insufficient balance") \
    X(DUPLICATE,       15, "already known") \
    X(MEMPOOL_FULL,    16, "mempool full") \
    X(FEE_TOO_LOW,     17, "fee too low") \
    X(UNKNOWN_KIND,    18, "unknown transaction kind") \
    X(NOT_FOUND,       19, "not found") \
    X(BAD_PARAM,       20, "invalid parameter") \
    X(GENESIS,         21, "invalid genesis") \
    X(BAD_BLOCK,       22, "invalid block") \
    X(BAD_KEY,         23, "invalid key") \
    X(BAD_PASSWORD,    24, "wrong password or corrupted keystore") \
    X(CONFIG,          25, "invalid configuration") \
    X(NET,             26, "network error") \
    X(STATE_MISMATCH,  27, "state root mismatch") \
    X(UNAVAILABLE,     28, "service unavailable") \
    X(INTERNAL,        29, "internal error") \
    X(EXISTS,          30, "already exists") \
    X(SELF_TRANSFER,   31, "sender and recipient are the same account") \
    X(ZERO_AMOUNT,     32, "amount must be positive") \
    X(TX_TOO_LARGE,    33, "transaction too large") \
    X(TIMEOUT,         34, "timed out") \
    X(UNAUTHORIZED,    35, "not authorized") \
    X(RESERVED,        36, "Brain id is reserved") \
    X(BRAIN_LIMIT,     37, "all Brains are issued") \
    X(LOCKED,          38, "still locked") \
    X(NOT_TRANSFERABLE, 39, "Brain is not transferable") \
    X(ROLE_FULL,       40, "role is full and no neuron is replaceable") \
    X(NOT_GIGABRAIN,   41, "Brain is not a GigaBrain") \
    X(ALREADY_VOTED,   42, "already voted on this proposal") \
    X(NOT_REGISTERED,  43, "not registered on this Brain") \
    X(NOT_VALIDATOR,   44, "neuron is not a validator") \
    X(RATE_LIMITED,    45, "changed too recently") \
    X(VOTING_CLOSED,   46, "proposal is not open for voting") \
    X(GOV_FULL,        47, "too many open proposals") \
    X(NOT_DEACTIVATABLE, 48, "only a Brain bought by stake can be deactivated") \
    X(FEE_CHANGED,     49, "registration fee is above the given max_fee") \
    X(NO_COMMIT,       50, "no weights commit to reveal") \
    X(REVEAL_MISMATCH, 51, "reveal does not match the commit") \
    X(REVEAL_TOO_EARLY, 52, "reveal is before the commit's reveal window") \
    X(REVEAL_TOO_LATE, 53, "reveal is after the commit's reveal window") \
    X(NO_PERMIT,       54, "validator has no validator permit") \
    X(TOO_FEW_WEIGHTS, 55, "fewer weights than min_allowed_weights") \
    X(MAX_WEIGHT,      56, "a weight is above max_weights_limit")

typedef enum {
#define BASED_ERR_ENUM(name, code, msg) BASED_E_##name = code,
    BASED_ERRORS(BASED_ERR_ENUM)
#undef BASED_ERR_ENUM
    BASED_E__COUNT
} based_err;

/* Static message for an error code ("unknown error" for anything else). */
const char *based_strerror(based_err e);
/* Static stable name for an error code, e.g. "NONCE_GAP". */
const char *based_errname(based_err e);

#define BASED_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Unsafe libc: use snprintf, memcpy with explicit lengths, strtoul/strtoll. */
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol atoll gmtime localtime

#endif
