/*
 * verbs.h: what cmd.c (flags, verb table, dispatch) and the verbs_*.c
 * files (wallet, chain, Brain and rewards verbs) share: the parsed options,
 * the context a verb runs with, and the helpers for RPC calls, printing and
 * signing. Exit status: 0 ok, 1 runtime failure, 2 usage error.
 */
#ifndef BASED_CLI_VERBS_H
#define BASED_CLI_VERBS_H

#include <jansson.h>
#include <stddef.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/rpcclient.h"
#include "chain/base.h"


#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_POS 64
#define DEFAULT_FEE "0.0001"
#define WAIT_SECONDS 60

extern const char CLI_DEV_NOTE[];

/* ---------------- options ---------------- */

enum {
    O_GLOBAL = 1u << 0,   /* allowed with every verb */
    O_SHOW_SECRET = 1u << 1,
    O_FROM = 1u << 2,
    O_TO = 1u << 3,
    O_AMOUNT = 1u << 4,
    O_FEE = 1u << 5,
    O_WAIT = 1u << 6,
    O_TXF = 1u << 7,      /* a payload field of a transaction verb (txfields[]) */
    O_METHOD = 1u << 8,   /* --burn / --stake of brain buy */
    O_WEIGHTS = 1u << 9,  /* --weights / --salt of weights commit|reveal|set */
};

typedef struct {
    const char *flag, *key, *help;
} cli_txfield;

#define NTXF 21
extern const cli_txfield cli_txfields[NTXF];

typedef struct {
    const char *rpc, *cookie, *wallet_dir, *password_file;
    const char *from, *to, *amount, *fee, *weights, *salt;
    bool json, help, version, show_secret, wait, burn, bstake;
    const char *txf[NTXF];
    unsigned given;                 /* O_* bits of the options present */
    const char *pos[MAX_POS];
    int npos;
} opts;

typedef struct verb verb;

typedef struct {
    opts o;
    const verb *v;
    const char *const *args;        /* positional words after the verb */
    int nargs;
    char wallet_dir[4096];
    cli_rpc *rpc;
    const struct chain_runtime *rt; /* the kinds (node/runtime.h: based_runtime) */
    uint64_t committed_at;          /* block of the last tx waited for (0: none) */
} ctx;

struct verb {
    const char *name;               /* one or two words */
    const char *usage;              /* after the name */
    const char *summary;
    unsigned opts;                  /* O_* bits accepted besides O_GLOBAL */
    int min_args, max_args;
    int (*fn)(ctx *c);
};

/* ---- helpers (cmd.c) ---- */
int cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage(const verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_print_json(json_t *j);
/* Any scalar member as text ("-" if absent). */
const char *cli_jtext(json_t *obj, const char *key, char *buf, size_t n);
/* Calls method with params (stolen); 0 and *res on success, else prints. */
int cli_call(ctx *c, const char *method, json_t *params, json_t **res);
bool cli_ju64(json_t *obj, const char *key, uint64_t *out);
int cli_need_wallet_dir(ctx *c);
bool cli_all_digits(const char *s);

/* ---- wallet (verbs_wallet.c) ---- */
int cli_load_secret(ctx *c, const char *name, uint8_t *sk, bool *is_dev);
int cli_v_wallet_new(ctx *c);
int cli_v_wallet_list(ctx *c);
int cli_v_wallet_show(ctx *c);

/* ---- chain (verbs_chain.c) ---- */
int cli_account_arg(ctx *c, const char *s, char *out, size_t n, bool *is_dev);
int cli_chain_info(ctx *c, char *chain_id, size_t n, uint16_t *prefix);
int cli_wait_committed(ctx *c, const char *hash, json_t **out);
/* Signs payload as a tx of kind k from --from and sends it. */
int cli_sign_send(ctx *c, const chain_kind *k, const char *chain_id, uint64_t fee,
                  const chain_wbuf *payload);
/* Builds the payload of kind k from its JSON form pj (takes the reference),
 * then signs and sends it like cli_sign_send. A payload the kind rejects is a
 * usage error naming the field. */
int cli_send_json(ctx *c, const chain_kind *k, json_t *pj, const char *chain_id,
                  uint16_t prefix, uint64_t fee);
int cli_v_balance(ctx *c);
int cli_v_head(ctx *c);
int cli_v_block(ctx *c);
int cli_v_tx(ctx *c);
int cli_v_transfer(ctx *c);

/* ---- Brains, neurons, stake, governance (verbs_brain.c) ---- */
void cli_print_object(json_t *o);
int cli_show(ctx *c, const char *method, const char *arg, json_t **out);
void cli_print_table(json_t *rows, const char *const *cols, const int *width, size_t n);
int cli_list(ctx *c, const char *method, const char *rows_key, json_t *param,
             const char *const *cols, const int *width, size_t n);
int cli_v_txverb(ctx *c);
int cli_v_brain(ctx *c);
int cli_v_gov_show(ctx *c);
int cli_v_pepe_balance(ctx *c);
int cli_v_brains(ctx *c);
int cli_v_gov_list(ctx *c);

/* ---- rewards, emission, metagraph, weights (verbs_rewards.c) ---- */
int cli_v_rewards(ctx *c);
int cli_v_emission(ctx *c);
int cli_v_neurons(ctx *c);
int cli_v_weights(ctx *c);

#endif
