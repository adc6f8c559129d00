/*
 * miner.h: based-miner as a library: the whole program behind one call, with
 * the step that produces an answer replaceable.
 *
 * neuron_miner_main() is the program: flags (see its --help), start-up
 * (connect, register as a miner if needed, load and compress the model,
 * derive the X25519 keys, start the HTTP server, publish the endpoint with
 * `serve`), then it serves until SIGINT/SIGTERM:
 *
 *   POST /v1/challenge  body: a challenge sealed to the miner (proto.h).
 *                       200 application/octet-stream: the signed answer
 *                       sealed to the challenge's vbox_pk. Errors are
 *                       {"error":"..."}: 400 unsealed / malformed / bad
 *                       signature / wrong Brain / over the model's context,
 *                       403 not a validator of the Brain, 409 wrong uid or
 *                       replayed, 410 stale (older than 30 blocks or more
 *                       than 2 ahead of the head), 413 oversized, 429 too
 *                       many challenges queued or running.
 *   GET /health         200 {"status":"ok","uid","brain","method","served",
 *                       "refused","queued","running","workers","head","node"}:
 *                       "head" is the chain head as the miner last saw it,
 *                       "node" false while the node does not answer (the
 *                       miner reconnects by itself, re-reading the cookie).
 *
 * Generation runs on worker threads (uv_queue_work, the HTTP response is
 * deferred), each with its own model_state; the loop thread keeps serving.
 *
 * The answer step is a function pointer so that tests can run the whole
 * miner with a dishonest answer (a cheating miner); the product uses
 * neuron_miner_answer_honest.
 */
#ifndef BASED_NEURONS_MINER_H
#define BASED_NEURONS_MINER_H

#include "model/model.h"
#include "neurons/client.h"
#include "neurons/proto.h"

#define NEURON_MINER_STALE_BLOCKS 30   /* a challenge older than this is refused */
#define NEURON_MINER_AHEAD_BLOCKS 2    /* ... and one further ahead of our head */
#define NEURON_MINER_REPLAY_IDS 65536  /* challenge ids remembered, at least */

/* What an answer function gets besides the challenge. */
typedef struct {
    model_state *state;        /* this worker's (its KV cache is the fn's to use) */
    const model_t *model;      /* the served (compressed) model, shared */
    const neuron_key *key;     /* the miner's account key */
    int worker;                /* 0 .. workers-1 */
} neuron_miner_worker;

/*
 * Produces the answer to c. Called on a worker thread, possibly several at
 * once (one per worker), so user must be safe for that. On entry a->id is
 * the challenge's id, a->miner the miner's account, a->k = c->topk and the
 * rest zero; the function fills n, tokens and topk (and may change anything).
 * On BASED_E_OK the miner sets elapsed_us if left 0 and signs a with its
 * key unless the function cleared *sign (it signed, or wants a bad
 * signature), then encodes and seals it. Any other return answers 500.
 */
typedef based_err (*neuron_miner_answer_fn)(void *user, const neuron_miner_worker *w,
                                            const neuron_challenge *c, neuron_answer *a,
                                            bool *sign);

/*
 * Test hook, off in the product: called on the worker after the answer was
 * encoded (plain, plain_len bytes) and sealed (*body, *body_len, malloc'd).
 * It may replace *body by another malloc'd buffer (freeing the old one) to
 * send other bytes: garbage, an oversized body, the unsealed encoding. Set
 * before neuron_miner_main; one hook per process.
 */
typedef void (*neuron_miner_wire_fn)(void *user, const uint8_t *plain, size_t plain_len,
                                     uint8_t **body, size_t *body_len);
void neuron_miner_set_wire_hook(neuron_miner_wire_fn fn, void *user);

/* The honest answer: model_generate over the prompt with the challenge's
 * sampler and seed, n_gen tokens, top-k log-probabilities. user unused. */
based_err neuron_miner_answer_honest(void *user, const neuron_miner_worker *w,
                                     const neuron_challenge *c, neuron_answer *a, bool *sign);

/* Parses --compress METHOD[:key=value,...] into o (defaults first). Keys:
 * cerberus levels, thresh, alpha, rounding (nearest|floor), activations
 * (on|off); heads theta; consensus shards, keep. A key of another method,
 * an unknown method or a value out of range is an error naming it.
 * o->method points into method_buf (cap bytes). */
based_err neuron_miner_parse_compress(const char *spec, struct model_compress_opts *o,
                                      char *method_buf, size_t cap, char *err, size_t errlen);

/* The program. Returns the exit status: 0 after a clean stop, 1 runtime
 * failure, 2 usage error (a one-line message on stderr). */
int neuron_miner_main(int argc, char **argv, neuron_miner_answer_fn fn, void *user);

#endif
