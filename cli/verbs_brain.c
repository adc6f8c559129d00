/*
 * verbs_brain.c: based-cli's Brain, neuron registration, stake and governance verbs:
 * transaction verbs built from flags into a kind's JSON payload, and the
 * read-only tables and objects.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <time.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/keystore.h"
#include "cli/password.h"
#include "cli/rpcclient.h"
#include "cli/verbs.h"
#include "chain/base.h"

/* ---------------- Brains, neurons, stake, governance ---------------- */

/* A transaction verb: kind, the payload key of its positional argument (if
 * any), and the payload keys its flags may fill ("to" and "amount" come
 * from --to and --amount, "method" from --burn/--stake). */
typedef struct {
    const char *verb, *kind, *pos_key, *keys;
} txverb;

static const txverb txverbs[] = {
    { "pepe transfer", "pepe_transfer", NULL, " to amount " },
    { "pepe bridge", "pepe_bridge", NULL, " to amount " },
    { "brain buy", "brain_buy", NULL, " method " },
    { "brain set", "brain_set", "id", " name designation payout model_hash model_uri fee "
      "validator_bps consensus " },
    { "brain transfer", "brain_transfer", "id", " to " },
    { "brain deactivate", "brain_deactivate", "id", " " },
    { "memorize", "memorize", NULL, " brain role max_fee " },
    { "serve", "serve", NULL, " brain host port x25519 " },
    { "stake", "stake", NULL, " brain hotkey amount " },
    { "unstake", "unstake", NULL, " brain hotkey amount instance " },
    { "take", "set_take", NULL, " take_bps " },
    { "gov propose", "gov_propose", NULL, " kind param value text brain " },
    { "gov vote", "gov_vote", "proposal", " choice brain " },
};

static bool key_allowed(const txverb *t, const char *key)
{
    char k[40];
    snprintf(k, sizeof k, " %s ", key);
    return strstr(t->keys, k) != NULL;
}

/* Sets payload[key] = value; addresses may be wallet names. */
static int set_field(ctx *c, const txverb *t, json_t *pj, const char *key, const char *val,
                     uint16_t prefix)
{
    char err[CLI_ERR_LEN], ss58[CHAIN_ADDR_STRLEN];
    if (!key_allowed(t, key))
        return cli_usage(c->v, "%s takes no %s", c->v->name, key);
    if (!strcmp(key, "to") || !strcmp(key, "payout") || !strcmp(key, "hotkey")) {
        chain_addr a;
        if (cli_name_syntax_ok(val) && cli_dev_index(val) < 0 && cli_need_wallet_dir(c))
            return EXIT_RUNTIME;
        if (cli_resolve_account(c->wallet_dir, val, prefix, &a, NULL, err) != BASED_E_OK)
            return cli_die("%s: %s", key, err);
        chain_ss58_encode(prefix, &a, ss58);
        val = ss58;
    }
    json_object_set_new(pj, key, json_string(val));
    return 0;
}

static int txverb_payload(ctx *c, const txverb *t, json_t *pj, uint16_t prefix)
{
    int st = 0;
    if (t->pos_key && c->nargs > 0)
        json_object_set_new(pj, t->pos_key, json_string(c->args[0]));
    if (c->o.to)
        st = set_field(c, t, pj, "to", c->o.to, prefix);
    if (st == 0 && c->o.amount)
        st = set_field(c, t, pj, "amount", c->o.amount, prefix);
    for (size_t i = 0; st == 0 && i < NTXF; i++)
        if (c->o.txf[i])
            st = set_field(c, t, pj, cli_txfields[i].key, c->o.txf[i], prefix);
    if (st == 0 && !strcmp(t->kind, "brain_buy")) {
        if (c->o.burn == c->o.bstake)
            return cli_usage(c->v, "brain buy needs one of --burn or --stake");
        json_object_set_new(pj, "method", json_string(c->o.burn ? "burn" : "stake"));
        if (c->nargs > 0)
            json_object_set_new(pj, "id", json_string(c->args[0]));
    } else if (st == 0 && (c->o.burn || c->o.bstake)) {
        return cli_usage(c->v, "--burn/--stake belong to brain buy");
    }
    if (st == 0 && !strcmp(t->kind, "gov_propose"))
        json_object_set_new(pj, "kind", json_string(c->o.txf[17] ? "param" : "text"));
    return st;
}

int cli_v_txverb(ctx *c)
{
    const txverb *t = NULL;
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint16_t prefix = CHAIN_SS58_DEFAULT_PREFIX;
    uint64_t fee;
    const char *why = NULL;
    for (size_t i = 0; i < BASED_ARRAY_LEN(txverbs); i++)
        if (!strcmp(txverbs[i].verb, c->v->name))
            t = &txverbs[i];
    if (!t || !c->o.from)
        return cli_usage(c->v, "%s needs --from NAME", c->v->name);
    if (cli_dev_index(c->o.from) < 0 && !cli_name_syntax_ok(c->o.from))
        return cli_usage(c->v, "--from must be a wallet name or dev0..dev9, not \"%s\"", c->o.from);
    const char *f = c->o.fee ? c->o.fee : DEFAULT_FEE;
    if (chain_amount_parse(f, &fee, &why) != BASED_E_OK)
        return cli_usage(c->v, "--fee %s: %s", f, why ? why : "malformed amount");
    int st = cli_chain_info(c, chain_id, sizeof chain_id, &prefix);
    json_t *pj = json_object();
    if (st == 0)
        st = txverb_payload(c, t, pj, prefix);
    if (st != 0) {
        json_decref(pj);
        return st;
    }
    return cli_send_json(c, chain_kind_by_name(c->rt, t->kind), pj, chain_id, prefix, fee);
}

/* Every member of an object as "key  value" lines (objects/arrays as JSON). */
void cli_print_object(json_t *o)
{
    const char *key;
    json_t *v;
    char b[128];
    json_object_foreach(o, key, v) {
        if (json_is_object(v) || json_is_array(v)) {
            char *s = json_dumps(v, JSON_COMPACT);
            printf("%-16s %s\n", key, s ? s : "");
            free(s);
        } else {
            printf("%-16s %s\n", key, cli_jtext(v, NULL, b, sizeof b));
        }
    }
}

/* Calls method with one argument (an integer id or a string) and prints. */
int cli_show(ctx *c, const char *method, const char *arg, json_t **out)
{
    json_t *r, *param = cli_all_digits(arg) ? json_integer(strtoll(arg, NULL, 10)) : json_string(arg);
    int st = cli_call(c, method, json_pack("[o]", param), &r);
    if (st != 0)
        return st;
    if (out) {
        *out = r;
        return 0;
    }
    if (c->o.json)
        cli_print_json(r);
    else
        cli_print_object(r);
    json_decref(r);
    return 0;
}

int cli_v_brain(ctx *c) { return cli_show(c, "brain_get", c->args[0], NULL); }
int cli_v_gov_show(ctx *c) { return cli_show(c, "gov_get", c->args[0], NULL); }

int cli_v_pepe_balance(ctx *c)
{
    char acct[256], b[64];
    bool is_dev;
    json_t *r;
    int st = cli_account_arg(c, c->args[0], acct, sizeof acct, &is_dev);
    if (st == 0)
        st = cli_show(c, "account_get", acct, &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        cli_print_json(r);
    } else {
        printf("address          %s\n", cli_jtext(r, "address", b, sizeof b));
        printf("pepecoin         %s\n", cli_jtext(r, "pepecoin", b, sizeof b));
        printf("pepecoin_locked  %s\n", cli_jtext(r, "pepecoin_locked", b, sizeof b));
        char *s = json_dumps(json_object_get(r, "brains"), JSON_COMPACT);
        printf("brains           %s\n", s ? s : "[]");
        free(s);
    }
    json_decref(r);
    return 0;
}

/* Prints rows of objects as a table of the given columns. */
void cli_print_table(json_t *rows, const char *const *cols, const int *width, size_t n)
{
    char b[128];
    for (size_t i = 0; i < n; i++)
        printf("%-*s ", width[i], cols[i]);
    printf("\n");
    for (size_t r = 0; r < json_array_size(rows); r++) {
        json_t *o = json_array_get(rows, r);
        for (size_t i = 0; i < n; i++)
            printf("%-*s ", width[i], cli_jtext(o, cols[i], b, sizeof b));
        printf("\n");
    }
}

int cli_list(ctx *c, const char *method, const char *rows_key, json_t *param,
                  const char *const *cols, const int *width, size_t n)
{
    json_t *r;
    int st = cli_call(c, method, param, &r);
    if (st != 0)
        return st;
    if (c->o.json)
        cli_print_json(r);
    else
        cli_print_table(json_object_get(r, rows_key), cols, width, n);
    json_decref(r);
    return 0;
}

int cli_v_brains(ctx *c)
{
    static const char *const cols[] = { "id", "method", "owner", "name", "fee", "stake",
                                        "gigabrain", "validators", "miners", "earning" };
    static const int w[] = { 4, 8, 50, 16, 8, 12, 9, 10, 6, 7 };
    return cli_list(c, "brain_list", "brains", json_array(), cols, w, BASED_ARRAY_LEN(cols));
}

int cli_v_gov_list(ctx *c)
{
    static const char *const cols[] = { "id", "kind", "status", "end", "param", "value", "text" };
    static const int w[] = { 4, 5, 8, 8, 24, 16, 30 };
    return cli_list(c, "gov_list", "proposals", json_array(), cols, w, BASED_ARRAY_LEN(cols));
}
