/*
 * verbs_rewards.c: based-cli's rewards verbs: `rewards ADDR` (what an
 * account earned per Brain and role), `emission [HEIGHT]` (the schedule
 * and supply), `neurons BRAIN` (the btcli-style metagraph table) and
 * `weights commit|reveal|set` (commit-reveal of a validator's weights row;
 * the salt of a pending commit is kept in the wallet directory as
 * weights-<from>-<brain>.json so that `reveal` finds it; `set` commits,
 * waits for the reveal window, and reveals).
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <time.h>

#include "cli/keystore.h"
#include "cli/util.h"
#include "cli/verbs.h"
#include "rewards/rewards.h"
#include "chain/base.h"

#define WROW_MAX 2048

/* ---------------- rewards, emission ---------------- */

int cli_v_rewards(ctx *c)
{
    char acct[256], b[64];
    bool is_dev;
    json_t *r;
    int st = cli_account_arg(c, c->args[0], acct, sizeof acct, &is_dev);
    if (st == 0)
        st = cli_show(c, "rewards_get", acct, &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        cli_print_json(r);
        json_decref(r);
        return 0;
    }
    json_t *t = json_object_get(r, "total"), *br;
    size_t i;
    printf("address    %s\n", cli_jtext(r, "address", b, sizeof b));
    printf("%-6s %-18s %-18s %-18s %-18s %-18s %s\n", "BRAIN", "MINER", "VALIDATOR", "DELEGATOR",
           "OWNER", "TOTAL", "EPOCHS");
    json_array_foreach(json_object_get(r, "brains"), i, br) {
        json_t *bt = json_object_get(br, "total");
        char x[5][64];
        printf("%-6s %-18s %-18s %-18s %-18s %-18s %zu\n", cli_jtext(br, "brain", b, sizeof b),
               cli_jtext(bt, "miner", x[0], 64), cli_jtext(bt, "validator", x[1], 64),
               cli_jtext(bt, "delegator", x[2], 64), cli_jtext(bt, "owner", x[3], 64),
               cli_jtext(bt, "total", x[4], 64),
               json_array_size(json_object_get(br, "epochs")));
    }
    printf("total      %s BASED\n", cli_jtext(t, "total", b, sizeof b));
    json_decref(r);
    return 0;
}

int cli_v_emission(ctx *c)
{
    json_t *r;
    if (c->nargs > 0 && !cli_all_digits(c->args[0]))
        return cli_usage(c->v, "HEIGHT must be a block height");
    json_t *p = c->nargs > 0 ? json_pack("[I]", (json_int_t)strtoll(c->args[0], NULL, 10))
                             : json_array();
    int st = cli_call(c, "rewards_getSchedule", p, &r);
    if (st != 0)
        return st;
    if (c->o.json)
        cli_print_json(r);
    else
        cli_print_object(r);
    json_decref(r);
    return 0;
}

/* ---------------- neurons: the metagraph ---------------- */

static void neuron_row(json_t *o, uint64_t head)
{
    static const char *const fr[] = { "rank_frac", "trust_frac", "consensus_frac",
                                      "incentive_frac", "dividends_frac" };
    char b[64], upd[24];
    uint64_t lu = 0;
    printf("%-5s %-14s ", cli_jtext(o, "uid", b, sizeof b), cli_jtext(o, "stake", b, sizeof b));
    for (size_t i = 0; i < BASED_ARRAY_LEN(fr); i++)
        printf("%-9s ", cli_jtext(o, fr[i], b, sizeof b));
    printf("%-14s ", cli_jtext(o, "emission", b, sizeof b));
    printf("%-9s ", cli_jtext(o, "validator_trust_frac", b, sizeof b));
    const char *role = json_string_value(json_object_get(o, "role"));
    bool active = json_is_true(json_object_get(o, "active"));
    if (cli_ju64(o, "last_update", &lu) && lu > 0 && lu <= head)
        snprintf(upd, sizeof upd, "%" PRIu64, head - lu);
    else
        snprintf(upd, sizeof upd, "-");
    printf("%-4s %-8s %-6s %s\n", role && !strcmp(role, "validator") ? "*" : "", upd,
           active ? "1" : "0", cli_jtext(o, "address", b, sizeof b));
}

int cli_v_neurons(ctx *c)
{
    json_t *r, *h, *o;
    uint64_t head = 0;
    size_t i;
    if (!cli_all_digits(c->args[0]))
        return cli_usage(c->v, "BRAIN must be a Brain id");
    int st = cli_call(c, "brain_getNeurons",
                      json_pack("[I]", (json_int_t)strtoll(c->args[0], NULL, 10)), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        cli_print_json(r);
        json_decref(r);
        return 0;
    }
    if (cli_call(c, "chain_getHead", json_array(), &h) == 0) {
        cli_ju64(h, "height", &head);
        json_decref(h);
    }
    printf("%-5s %-14s %-9s %-9s %-9s %-9s %-9s %-14s %-9s %-4s %-8s %-6s %s\n", "UID", "STAKE",
           "RANK", "TRUST", "CONSENSUS", "INCENTIVE", "DIVIDENDS", "EMISSION", "VTRUST", "VAL",
           "UPDATED", "ACTIVE", "HOTKEY");
    json_array_foreach(json_object_get(r, "neurons"), i, o)
        neuron_row(o, head);
    json_decref(r);
    return 0;
}

/* ---------------- weights commit | reveal | set ---------------- */

typedef struct {
    uint16_t brain;
    size_t n;
    uint16_t uid[WROW_MAX], w[WROW_MAX];
    size_t salt_len;
    uint8_t salt[REWARD_SALT_MAX];
} wrow;

/* "UID:W,UID:W" into r. */
static int parse_weights(ctx *c, const char *s, wrow *r)
{
    r->n = 0;
    while (*s) {
        char *end;
        errno = 0;
        unsigned long u = strtoul(s, &end, 10);
        if (end == s || *end != ':' || u > 65535 || r->n == WROW_MAX)
            return cli_usage(c->v, "--weights: expected UID:W,UID:W (u16 values), at \"%s\"", s);
        s = end + 1;
        unsigned long w = strtoul(s, &end, 10);
        if (end == s || w > 65535 || (*end && *end != ',') || errno)
            return cli_usage(c->v, "--weights: weight must be 0..65535, at \"%s\"", s);
        r->uid[r->n] = (uint16_t)u;
        r->w[r->n++] = (uint16_t)w;
        s = *end ? end + 1 : end;
    }
    return r->n ? 0 : cli_usage(c->v, "--weights needs at least one UID:W");
}

static int parse_salt(ctx *c, const char *s, wrow *r)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t l = strlen(s);
    if (l == 0 || l % 2 || l / 2 > REWARD_SALT_MAX || chain_unhex(s, r->salt, l / 2) != BASED_E_OK)
        return cli_usage(c->v, "--salt must be hex, 1 to %d bytes", REWARD_SALT_MAX);
    r->salt_len = l / 2;
    return 0;
}

static int salt_path(ctx *c, const wrow *r, char *path, size_t n)
{
    char err[CLI_ERR_LEN];
    if (cli_need_wallet_dir(c) != 0)
        return EXIT_RUNTIME;
    if (cli_mkdirs(c->wallet_dir, 0700, err) != BASED_E_OK)
        return cli_die("%s", err);
    snprintf(path, n, "%s/weights-%s-%u.json", c->wallet_dir, c->o.from, r->brain);
    return 0;
}

static json_t *row_json(const wrow *r)
{
    char salt[2 * REWARD_SALT_MAX + 3] = "0x";
    json_t *u = json_array(), *w = json_array();
    chain_hex(r->salt, r->salt_len, salt + 2);
    for (size_t i = 0; i < r->n; i++) {
        json_array_append_new(u, json_integer(r->uid[i]));
        json_array_append_new(w, json_integer(r->w[i]));
    }
    return json_pack("{s:i,s:o,s:o,s:s}", "brain", r->brain, "uids", u, "weights", w, "salt", salt);
}

static int save_pending(ctx *c, const wrow *r)
{
    char path[4200];
    int st = salt_path(c, r, path, sizeof path);
    json_t *j = row_json(r);
    if (st == 0 && json_dump_file(j, path, JSON_COMPACT) != 0)
        st = cli_die("cannot write %s", path);
    json_decref(j);
    return st;
}

static int load_pending(ctx *c, wrow *r)
{
    char path[4200];
    json_error_t je;
    int st = salt_path(c, r, path, sizeof path);
    if (st != 0)
        return st;
    json_t *j = json_load_file(path, 0, &je), *x;
    size_t i;
    if (!j)
        return cli_die("no pending commit of %s on Brain %u (%s); give --weights and --salt",
                       c->o.from, r->brain, path);
    json_t *u = json_object_get(j, "uids"), *w = json_object_get(j, "weights");
    r->n = json_array_size(u) < WROW_MAX ? json_array_size(u) : WROW_MAX;
    json_array_foreach(u, i, x)
        if (i < r->n) {
            r->uid[i] = (uint16_t)json_integer_value(x);
            r->w[i] = (uint16_t)json_integer_value(json_array_get(w, i));
        }
    st = parse_salt(c, json_string_value(json_object_get(j, "salt")) ?
                    json_string_value(json_object_get(j, "salt")) : "", r);
    json_decref(j);
    return st;
}

/* Builds the payload of kind `kind` from pj (stolen), signs and sends it. */
static int send_kind(ctx *c, const char *kind, json_t *pj)
{
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint16_t prefix = CHAIN_SS58_DEFAULT_PREFIX;
    uint64_t fee;
    const char *why = NULL, *f = c->o.fee ? c->o.fee : DEFAULT_FEE;
    if (chain_amount_parse(f, &fee, &why) != BASED_E_OK) {
        json_decref(pj);
        return cli_usage(c->v, "--fee %s: %s", f, why ? why : "malformed amount");
    }
    int st = cli_chain_info(c, chain_id, sizeof chain_id, &prefix);
    if (st != 0) {
        json_decref(pj);
        return st;
    }
    return cli_send_json(c, chain_kind_by_name(c->rt, kind), pj, chain_id, prefix, fee);
}

static int do_commit(ctx *c, wrow *r)
{
    char hex[67] = "0x";
    if (!c->o.weights)
        return cli_usage(c->v, "%s needs --weights UID:W,...", c->v->name);
    int st = parse_weights(c, c->o.weights, r);
    if (st == 0 && c->o.salt)
        st = parse_salt(c, c->o.salt, r);
    else if (st == 0) {
        r->salt_len = 16;
        randombytes_buf(r->salt, r->salt_len);
    }
    if (st != 0)
        return st;
    chain_hash h = reward_commit_hash(r->brain, r->uid, r->w, r->n, r->salt, r->salt_len);
    chain_hex(h.b, 32, hex + 2);
    if ((st = save_pending(c, r)) != 0)
        return st;
    return send_kind(c, "weights_commit", json_pack("{s:i,s:s}", "brain", r->brain, "commit", hex));
}

static int do_reveal(ctx *c, wrow *r)
{
    int st = 0;
    if (c->o.weights) {
        if (!c->o.salt)
            return cli_usage(c->v, "--weights needs --salt for a reveal");
        st = parse_weights(c, c->o.weights, r);
        if (st == 0)
            st = parse_salt(c, c->o.salt, r);
    } else {
        st = load_pending(c, r);
    }
    return st ? st : send_kind(c, "weights_reveal", row_json(r));
}

static int head_height(ctx *c, uint64_t *h)
{
    json_t *r;
    int st = cli_call(c, "chain_getHead", json_array(), &r);
    if (st == 0 && !cli_ju64(r, "height", h))
        st = cli_die("chain_getHead returned no height");
    json_decref(r);
    return st;
}

/* set: commit (waiting for it), wait for the next window, reveal. */
static int do_set(ctx *c, wrow *r)
{
    uint64_t tempo = 0, h = 0;
    json_t *s;
    bool wait = c->o.wait;
    c->o.wait = true;
    int st = cli_call(c, "rewards_getSchedule", json_array(), &s);
    if (st == 0 && !cli_ju64(s, "tempo", &tempo))
        st = cli_die("rewards_getSchedule returned no tempo");
    json_decref(s);
    c->committed_at = 0;
    if (st == 0)
        st = do_commit(c, r);
    if (st == 0 && c->committed_at == 0)
        st = cli_die("the commit was not seen in a block");
    /* the reveal window follows the window of the commit's block (the head
     * may already be past it) */
    uint64_t target = reward_window(tempo, r->brain, c->committed_at) + 1;
    struct timespec pause = { 0, 200 * 1000 * 1000 };
    fprintf(stderr, "based-cli: committed; waiting for reveal window %" PRIu64 "\n", target);
    for (int i = 0; st == 0 && i < 5 * 60 * 10; i++) {
        if ((st = head_height(c, &h)) != 0 || reward_window(tempo, r->brain, h + 1) >= target)
            break;
        nanosleep(&pause, NULL);
    }
    c->o.wait = wait;
    return st ? st : send_kind(c, "weights_reveal", row_json(r));
}

int cli_v_weights(ctx *c)
{
    wrow *r = calloc(1, sizeof *r);
    const char *b = c->o.txf[0];
    if (!r)
        return cli_die("out of memory");
    int st = 0;
    if (!c->o.from || !b || !cli_all_digits(b) || strtol(b, NULL, 10) > 1023)
        st = cli_usage(c->v, "%s needs --from NAME and --brain ID (0 to 1023)", c->v->name);
    if (st == 0) {
        r->brain = (uint16_t)strtol(b, NULL, 10);
        if (!strcmp(c->v->name, "weights commit"))
            st = do_commit(c, r);
        else if (!strcmp(c->v->name, "weights reveal"))
            st = do_reveal(c, r);
        else
            st = do_set(c, r);
    }
    free(r);
    return st;
}
