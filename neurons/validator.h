/*
 * validator.h: the machinery of based-validator (the program is
 * neurons/validator_main.c).
 *
 * validator.c (pure, no I/O but the state file):
 *   - the state kept across rounds and restarts: per miner uid (and its
 *     address, so a uid taken over by a new account starts afresh) an
 *     exponential moving average of its scores, its missed rounds (no answer
 *     or a timeout) and the rounds it was challenged in; the round counter
 *     (part of every challenge's seed, so no challenge is ever reused); the
 *     block of the last weights commit and the pending (unrevealed) commit.
 *     Saved as JSON, atomically (temp file, fsync, rename, fsync of the
 *     directory); a corrupt file is an error naming it, never silently
 *     replaced;
 *   - smoothed scores -> u16 weights (largest 65535, zeros omitted);
 *   - duplicate answers in a round (identical token sequences from two
 *     miners: a copy, since honest miners get different challenges);
 *   - when commit-reveal is due (rewards/weights.c's rules: the reveal in
 *     the window right after the commit's, one commit per window and per
 *     weights_rate_limit blocks).
 *
 * validator_round.c (one round against the miners):
 *   - challenges derived from the head block, the validator's key, the
 *     Brain, the uid and the round counter (proto.h), prompts cut from the
 *     evaluation text;
 *   - all sent at once with libcurl multi, each with the deadline, the
 *     response capped at NEURON_RESPONSE_BODY_MAX, latency by the
 *     validator's own CLOCK_MONOTONIC;
 *   - each response opened, decoded, checked (signature, challenge id),
 *     then scored against the reference model (score.h). Nothing a miner
 *     sends makes the round fail: it only sets that miner's gate.
 *
 * Threads: one thread uses one neuron_val_state / neuron_val_ctx.
 */
#ifndef BASED_NEURONS_VALIDATOR_H
#define BASED_NEURONS_VALIDATOR_H

#include "chain/crypto.h"
#include "model/model.h"
#include "neurons/client.h"
#include "neurons/proto.h"
#include "neurons/score.h"

#define NEURON_VAL_MAX_UIDS 2048        /* the chain's STAKE_MAX_UIDS */
#define NEURON_VAL_SALT 16              /* bytes of a commit's salt */
#define NEURON_VAL_STATE_MAX (8u << 20) /* a state file larger than this is refused */

/* ---------------- state ---------------- */

typedef struct {
    uint16_t uid;
    chain_addr addr;         /* the account that held the uid when scored */
    double ema;              /* smoothed score, [0, 1] */
    uint32_t missed;         /* rounds with no answer or a timeout */
    uint32_t scored;         /* rounds it was challenged in */
} neuron_val_miner;

typedef struct {
    bool present;
    chain_hash tx;           /* the weights_commit transaction */
    uint64_t height;         /* its block; 0 until it is seen included */
    size_t n;
    uint16_t uid[NEURON_VAL_MAX_UIDS];
    uint16_t w[NEURON_VAL_MAX_UIDS];
    uint8_t salt[NEURON_VAL_SALT];
} neuron_val_commit;

typedef struct {
    uint16_t brain;
    chain_addr validator;
    uint32_t round;          /* the counter the next round uses */
    uint64_t last_height;    /* head height of the last round, 0 before the first */
    uint64_t last_commit;    /* block of the last included commit, 0: none */
    neuron_val_commit pending;
    size_t n;
    neuron_val_miner m[NEURON_VAL_MAX_UIDS];   /* sorted by uid */
} neuron_val_state;

/* A fresh state (round 0, no miners, nothing pending). */
void neuron_val_state_init(neuron_val_state *s, uint16_t brain, const chain_addr *validator);

/* Writes s to path atomically (path.tmp, fsync, rename, fsync of the
 * directory). BASED_E_IO with err naming the file. */
based_err neuron_val_state_save(const neuron_val_state *s, const char *path, char *err);

/* Reads path into s (initialised by the caller with the brain and
 * validator expected). BASED_E_NOT_FOUND when the file does not exist (s
 * untouched); BASED_E_DECODE when it is corrupt, BASED_E_BAD_PARAM when it
 * belongs to another Brain or key (s untouched in both cases), err naming
 * the file, the problem and what to do. */
based_err neuron_val_state_load(neuron_val_state *s, const char *path, char *err);

/* The entry of uid, created (ema 0, counts 0) when missing or when the uid
 * is now held by another address. NULL only when s is full. */
neuron_val_miner *neuron_val_entry(neuron_val_state *s, uint16_t uid, const chain_addr *addr);

/* One round's outcome: ema = score on the first round, then
 * alpha x score + (1 - alpha) x ema; missed counts a no-answer/timeout. */
void neuron_val_record(neuron_val_miner *m, double score, bool missed, double alpha);

/* Gates that are evidence of forgery rather than of a slow or weak miner:
 * a signature that is not the miner's, an answer to another challenge
 * (replayed), another miner's answer (duplicate), a response not sealed
 * to us or not an answer at all. */
bool neuron_val_gate_forfeits(int gate);
/* A forfeit: the miner's smoothed score is set to 0 before the round is
 * recorded, so one honest round cannot carry a cheat's weight into the
 * next epochs. */
void neuron_val_forfeit(neuron_val_miner *m);

/* Drops the entries whose uid is no longer a miner held by the same
 * address in the metagraph list[0..n). */
void neuron_val_retain(neuron_val_state *s, const neuron_info *list, size_t n);

/* Weights from the smoothed scores: w = round(65535 x ema / max ema),
 * entries with w = 0 omitted, ascending uid; returns the count (0 when
 * every score is 0). uid and w hold NEURON_VAL_MAX_UIDS. */
size_t neuron_val_weights(const neuron_val_state *s, uint16_t *uid, uint16_t *w);

/* Among the answers whose gate[i] is NEURON_GATE_OK (a[i] non-NULL), sets
 * NEURON_GATE_DUPLICATE on every one whose token sequence equals another's. */
void neuron_val_duplicates(const neuron_answer *const *a, int *gate, size_t n);

/* ---------------- commit-reveal ---------------- */

/* The pending commit (included at pending.height) is revealable by a
 * transaction in block `next` (the window right after the commit's). When
 * it is not and the window has passed, *too_late is set. */
bool neuron_val_reveal_due(const neuron_val_state *s, uint64_t tempo, uint64_t next,
                           bool *too_late);

/* A new commit may go into block `next`: nothing pending, and no commit in
 * next's window nor within rate_limit blocks before it. */
bool neuron_val_commit_due(const neuron_val_state *s, uint64_t tempo, uint64_t rate_limit,
                           uint64_t next);

/* ---------------- one round ---------------- */

typedef struct {
    const model_t *model;            /* the uncompressed reference */
    model_state *ref;                /* its state, for scoring */
    const uint8_t *text;             /* evaluation text the prompts come from */
    size_t text_len;                 /* > cp.max_prompt_bytes */
    neuron_challenge_params cp;
    neuron_score_params sp;
    const uint8_t *sk;               /* the validator's account key (32 bytes) */
    chain_addr addr;
    neuron_box_keys box;             /* answers are sealed to box.pk */
    uint16_t brain;
    unsigned deadline_ms;
} neuron_val_ctx;

typedef struct {
    int uid;
    chain_addr addr;
    char ss58[CHAIN_ADDR_STRLEN];
    neuron_challenge c;
    neuron_answer *a;                /* the opened answer (malloc'd) or NULL */
    neuron_score sc;                 /* sc.gate says why a score is 0 */
    double latency_ms;               /* until the exchange ended, by the validator's
                                      * clock (0 when nothing was sent) */
    long status;                     /* the HTTP status, 0 without a response */
    char why[128];                   /* what failed, "" when nothing */
} neuron_val_result;

/* Builds miner uid's challenge of this round (seed, prompt window encoded
 * with the model and capped to NEURON_MAX_PROMPT and the context, signed).
 * BASED_E_BAD_PARAM when the text or model cannot give a prompt. */
based_err neuron_val_challenge(const neuron_val_ctx *x, const chain_hash *block, uint64_t height,
                               uint16_t uid, uint32_t round, neuron_challenge *c);

/* Opens and checks one response body: returns NEURON_GATE_OK (a filled)
 * or the gate that failed (SEAL, DECODE, SIGNATURE, CHALLENGE), why naming
 * the reason. */
int neuron_val_open(const neuron_val_ctx *x, const uint8_t *body, size_t len,
                    const neuron_challenge *c, const chain_addr *miner, neuron_answer *a,
                    char *why, size_t why_n);

/* One HTTP exchange of a round. */
typedef struct {
    char url[300];                   /* in: http://host:port/v1/challenge */
    const uint8_t *body;             /* in: the sealed challenge */
    size_t body_len;
    int gate;                        /* out: OK (resp holds the body), NO_ANSWER, TIMEOUT, DECODE */
    long status;                     /* out: HTTP status, 0 without a response */
    uint8_t *resp;                   /* out: malloc'd body (at most NEURON_RESPONSE_BODY_MAX) */
    size_t resp_len;
    double latency_ms;               /* out: start to last byte, CLOCK_MONOTONIC */
    char why[128];
} neuron_val_req;

/* Runs the n requests concurrently, each bounded by deadline_ms; returns
 * when all have finished. Only out of memory / a libcurl failure to start
 * is an error; every request's own failure is in its gate. */
based_err neuron_val_fetch(neuron_val_req *r, size_t n, unsigned deadline_ms, char *err);
void neuron_val_req_release(neuron_val_req *r);

/* "http://host:port/v1/challenge" into url; false when the host has
 * characters no hostname or IP literal has (it is never sent anywhere). */
bool neuron_val_url(const char *host, uint16_t port, char *url, size_t n);

/*
 * A whole round: a challenge for every miner in list[0..n) that serves
 * (validators and unserved miners are skipped), all sent, checked,
 * de-duplicated and scored. *out (malloc'd, *n_out entries, release with
 * neuron_val_results_free) in list order. An error only for out of memory
 * or a reference pass that could not run; a miner's failure is its gate.
 */
based_err neuron_val_round(const neuron_val_ctx *x, const chain_hash *block, uint64_t height,
                           uint32_t round, const neuron_info *list, size_t n,
                           neuron_val_result **out, size_t *n_out, char *err);
void neuron_val_results_free(neuron_val_result *r, size_t n);

#endif
