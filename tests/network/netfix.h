/*
 * netfix.h: the fixture of the network tests (tests/network/): a based-net
 * network of real basedd and cometbft processes on loopback, asked over
 * basedd's JSON-RPC, and stopped by PID whatever happens.
 *
 * A test runs its scenario in a child process (tnet_guarded): the parent
 * waits for it with a deadline and then always cleans up (tnet_cleanup:
 * SIGCONT to every process of the network, `based-net stop`, then SIGKILL
 * to any PID of a PID file or of net.json that still runs and whose
 * command line names the network's directory). A scenario that fails,
 * crashes or hangs therefore never leaves a process behind.
 *
 * CometBFT is $BASED_COMETBFT, else $BASED_BUILD/go/bin/cometbft (what
 * `make cometbft` builds); without either a test says so and passes
 * (skipped), as tests/net does. based-net and basedd are $BASED_BIN's.
 */
#ifndef BASED_TESTS_NETWORK_NETFIX_H
#define BASED_TESTS_NETWORK_NETFIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/runner.h"

#define TNET_MAX 8
#define TNET_OUT 65536

typedef struct {
    char dir[600];
    char cmt[600];               /* the cometbft binary */
    size_t n, nauth;             /* nodes (from net.json) */
    char rpc[TNET_MAX][64];      /* basedd JSON-RPC URLs */
    char cookie[TNET_MAX][700];  /* cookie files */
    char chain_id[64];
} tnet;

/* Checks that return false from a bool function (the scenarios). */
#define REQ(cond) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, "CHECK(%s) failed", #cond); return false; } } while (0)
#define REQ_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { test_fail_(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
        return false; } } while (0)
#define REQ_MSG(cond, ...) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, __VA_ARGS__); return false; } } while (0)

/* The cometbft to use, or NULL after printing the skip line. */
const char *tnet_cometbft(void);

/* Runs based-net with args (NULL-terminated); its exit status (-1: did not
 * run), its stdout+stderr into out (TNET_OUT bytes, may be NULL). */
int tnet_based_net(char *out, const char *const *args);

/* Prepares t for a network in test_tmpdir()/name (nothing started). */
void tnet_init(tnet *t, const char *name, const char *cmt);
/* A new network of nauth authorities and nfull full nodes, block interval
 * timeout_commit; started (every node at height >= 1) unless create_only.
 * Loads the endpoints from net.json. */
bool tnet_new(tnet *t, int nauth, int nfull, const char *timeout_commit, bool create_only);
/* `based-net start --dir D --node K...` / `stop` for the nodes of mask
 * (bit K: node K). */
bool tnet_start_nodes(tnet *t, uint64_t mask);
bool tnet_stop_nodes(tnet *t, uint64_t mask);

/* One call to node k's basedd (params stolen, may be NULL); the result (new
 * reference) or NULL (then *why, if given, says why). */
json_t *tnet_call(const tnet *t, size_t k, const char *method, json_t *params, char *why,
                  size_t cap);
/* chain_getHead's height on node k, -1 when it does not answer. */
int64_t tnet_height(const tnet *t, size_t k);
/* The lowest and highest height over the nodes of mask (-1 when one does
 * not answer). */
int64_t tnet_min_height(const tnet *t, uint64_t mask, int64_t *max);
/* Waits (timeout_ms) until every node of mask is at height >= min. */
bool tnet_wait_height(const tnet *t, uint64_t mask, int64_t min, unsigned timeout_ms);
/* Block h on node k: its hash and state root ("0x..."). */
bool tnet_block(const tnet *t, size_t k, int64_t h, char *hash, char *root);
/* Every node of mask has the same hash and state root at every height
 * from..to (fails the test naming the first difference). */
bool tnet_same_chain(const tnet *t, uint64_t mask, int64_t from, int64_t to);

/* The PID in DIR/nodeK/<prog>.pid when it runs and is ours, else 0. */
pid_t tnet_pid(const tnet *t, size_t k, const char *prog);
/* Is pid alive (not a zombie)? */
bool tnet_alive(pid_t pid);
/* Waits up to timeout_ms for pid to end. */
bool tnet_wait_gone(pid_t pid, unsigned timeout_ms);
/* Sends sig to node k's basedd and cometbft (those that run); how many. */
int tnet_signal_node(const tnet *t, size_t k, int sig);
/* DIR/nodeK/<rel> into out. */
void tnet_path(const tnet *t, size_t k, const char *rel, char *out, size_t cap);
/* Does the file contain needle (case-insensitive)? How many times. */
int tnet_file_count(const char *path, const char *needle);
/* Prints (stderr) the lines holding needle and `after` lines after each. */
void tnet_file_show(const char *path, const char *needle, int after);
/* Prints (stderr) the last lines of a file. */
void tnet_file_tail(const char *path, size_t lines);

/* Stops everything of the network, by PID (see above). */
void tnet_cleanup(tnet *t);
/* Runs fn(t) in a child within limit_s seconds, then tnet_cleanup; fails
 * the test when fn failed, crashed or ran out of time. */
void tnet_guarded(tnet *t, bool (*fn)(tnet *), unsigned limit_s);

/* --- transactions --- */
/* Signs a transfer of amount base units from dev key `dev` with nonce to
 * `to`; sends it to node k. hash gets the tx id ("0x..."). */
bool tnet_transfer(const tnet *t, size_t k, unsigned dev, uint64_t nonce, const uint8_t to[32],
                   uint64_t amount, char *hash, char *why, size_t cap);
/* The address of dev key i, "0x" + hex. */
void tnet_dev_addr(unsigned i, char *out);
/* account_get of addr on node k: balance (base units) and nonce. */
bool tnet_account(const tnet *t, size_t k, const char *addr, uint64_t *balance, uint64_t *nonce);

#define TNET_FEE 100000u      /* 0.0001, above the genesis min_fee */

#endif
