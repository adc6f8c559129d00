/*
 * validator_main.c: based-validator, a Brain's validator.
 *
 *   based-validator --brain ID --key NAME|FILE [--node URL] [--model FILE]
 *                   [--eval-text FILE] [--interval BLOCKS] [--json] ...
 *
 * Start-up: the node (--node, --rpc-cookie), the key (like based-cli
 * --from), the reference model and one state to score with, the evaluation
 * text (default: the held-out tenth of Debian's fortunes), the X25519 keys
 * answers are sealed to (derived from the account key), the state file;
 * then registers the key as a validator of the Brain if it is not yet
 * (memorize, --max-fee).
 *
 * Every --interval blocks a round (neurons/validator_round.c): each
 * serving miner gets a fresh challenge, all are sent at once, every answer
 * is checked and scored against the reference; the scores are smoothed in
 * the state file (saved after each round), turned into weights and posted
 * by commit-reveal: in each epoch window the previous window's commit is
 * revealed, then the current weights are committed, so weights are
 * re-posted every epoch. Each round prints one table on stderr (or
 * --log-file) and with --json one line on stdout.
 *
 * Nothing a miner does stops the validator; a node that goes away is
 * retried. Exit status: 0 done (--rounds reached, SIGINT/SIGTERM), 1 a
 * start-up failure, 2 a usage error.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <time.h>

#include "neurons/validator.h"
#include "rewards/rewards.h"

#define PROG "based-validator"
#define TEXT_MAX (256u << 20)
/* After registering, the first round waits this long: miners re-read the
 * validator set from the chain every 10 s (neurons/miner_watch.c), and a
 * challenge from a validator they do not know yet is refused (HTTP 403). */
#define SETTLE_MS 12000

/* ---------------- options ---------------- */

typedef struct {
    const char *node, *cookie, *brain, *key, *wallet_dir, *password_file, *model, *eval_text,
        *interval, *deadline, *state, *alpha, *max_fee, *rounds, *log_file;
    bool json;
} opts;

enum { O_STR, O_FLAG };

static const struct {
    const char *name, *arg;
    int kind;
    size_t off;
    const char *help;
} optab[] = {
#define OS(f) offsetof(opts, f)
    { "node", "URL", O_STR, OS(node), "the node's JSON-RPC (default " CLI_RPC_DEFAULT_URL ")" },
    { "rpc-cookie", "FILE", O_STR, OS(cookie), "the node's cookie file (default: found like based-cli)" },
    { "brain", "ID", O_STR, OS(brain), "the Brain to validate (required)" },
    { "key", "NAME|FILE", O_STR, OS(key), "signing key: dev0..dev9, a wallet name or a keystore file (required)" },
    { "wallet-dir", "DIR", O_STR, OS(wallet_dir), "wallet directory (default $BASED_WALLET_DIR or ~/.based/keys)" },
    { "password-file", "FILE", O_STR, OS(password_file), "the keystore's password (default $BASED_PASSWORD or a prompt)" },
    { "model", "FILE", O_STR, OS(model), "the uncompressed reference GGUF (default " MODEL_DEFAULT_PATH ")" },
    { "eval-text", "FILE", O_STR, OS(eval_text), "text the prompts are cut from (default: held-out Debian fortunes)" },
    { "interval", "BLOCKS", O_STR, OS(interval), "a round every BLOCKS blocks (default 5)" },
    { "deadline-ms", "MS", O_STR, OS(deadline), "each miner's deadline per challenge (default 3000)" },
    { "state", "FILE", O_STR, OS(state), "state file (default ~/.based/validator-BRAIN-ADDR8.state)" },
    { "alpha", "A", O_STR, OS(alpha), "score smoothing, 0 < A <= 1 (default 0.3)" },
    { "max-fee", "AMOUNT", O_STR, OS(max_fee), "highest registration fee to pay (BASED; default: any)" },
    { "rounds", "N", O_STR, OS(rounds), "exit after N rounds (default 0: run until stopped)" },
    { "json", NULL, O_FLAG, OS(json), "print each round as one JSON line on stdout" },
    { "log-file", "FILE", O_STR, OS(log_file), "append the log to FILE instead of stderr" },
#undef OS
};

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " --brain ID --key NAME|FILE [OPTIONS]\n\n"
               "Challenges a Brain's miners every few blocks, scores their answers against the\n"
               "uncompressed reference model, and posts the smoothed scores as weights.\n\n");
    for (size_t i = 0; i < BASED_ARRAY_LEN(optab); i++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", optab[i].name, optab[i].arg ? " " : "",
                 optab[i].arg ? optab[i].arg : "");
        fprintf(f, "  %-26s %s\n", left, optab[i].help);
    }
    fprintf(f, "  %-26s %s\n  %-26s %s\n\nExit status: 0 done, 1 runtime failure, 2 usage error.\n",
            "--help", "this help", "--version", "print the version");
}

static int die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see " PROG " --help)\n", stderr);
    va_end(ap);
    return 2;
}

/* -1: parsed; else the exit status (0 for --help/--version). */
static int parse_args(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout), 0;
        if (!strcmp(a, "--version"))
            return printf(PROG " %s\n", BASED_VERSION), 0;
        if (strncmp(a, "--", 2) != 0)
            return die_usage("unexpected argument \"%s\"", a);
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        size_t k = 0;
        while (k < BASED_ARRAY_LEN(optab) &&
               (strlen(optab[k].name) != nl || strncmp(optab[k].name, a + 2, nl) != 0))
            k++;
        if (k == BASED_ARRAY_LEN(optab))
            return die_usage("unknown option \"%s\"", a);
        if (optab[k].kind == O_FLAG) {
            if (eq)
                return die_usage("--%s takes no value", optab[k].name);
            *(bool *)((char *)o + optab[k].off) = true;
            continue;
        }
        val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            return die_usage("--%s needs a value (%s)", optab[k].name, optab[k].arg);
        *(const char **)((char *)o + optab[k].off) = val;
    }
    return -1;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

typedef struct {
    uint16_t brain;
    uint64_t interval, rounds, max_fee;
    unsigned deadline_ms;
    double alpha;
} settings;

static int check_args(const opts *o, settings *s)
{
    uint64_t v;
    char *end;
    const char *why = NULL;
    if (!o->brain || !parse_u64(o->brain, 0, 1023, &v))
        return die_usage("--brain ID is required (0 to 1023)");
    s->brain = (uint16_t)v;
    if (!o->key)
        return die_usage("--key NAME|FILE is required (dev0..dev9, a wallet name or a keystore file)");
    if (!parse_u64(o->interval ? o->interval : "5", 1, 1000000, &s->interval))
        return die_usage("--interval must be a number of blocks, 1 or more");
    if (!parse_u64(o->deadline ? o->deadline : "3000", 50, 600000, &v))
        return die_usage("--deadline-ms must be 50 to 600000");
    s->deadline_ms = (unsigned)v;
    if (!parse_u64(o->rounds ? o->rounds : "0", 0, UINT32_MAX, &s->rounds))
        return die_usage("--rounds must be 0 (forever) or a number of rounds");
    s->alpha = o->alpha ? strtod(o->alpha, &end) : 0.3;
    if (o->alpha && (*end || end == o->alpha || !(s->alpha > 0 && s->alpha <= 1)))
        return die_usage("--alpha must be a number, 0 < A <= 1");
    s->max_fee = 0;
    if (o->max_fee && chain_amount_parse(o->max_fee, &s->max_fee, &why) != BASED_E_OK)
        return die_usage("--max-fee %s: %s", o->max_fee, why ? why : "malformed amount");
    return -1;
}

/* ---------------- the validator ---------------- */

typedef struct {
    opts o;
    settings s;
    FILE *log;
    neuron_client *cl;
    neuron_key key;
    model_t *model;
    model_state *ref;
    uint8_t *text;
    size_t text_len;
    neuron_val_ctx x;
    neuron_val_state *st;
    char state_path[4096];
    int vuid;
    double settle_until;     /* CLOCK_MONOTONIC ms before which no round starts */
    double known_after;      /* before this, a 403 (a miner that has not yet seen us
                              * in its validator list) is not recorded */
} vd;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void say(const vd *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const vd *v, const char *fmt, ...)
{
    char ts[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(v->log, "%s " PROG ": ", ts);
    vfprintf(v->log, fmt, ap);
    fputc('\n', v->log);
    fflush(v->log);
    va_end(ap);
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int die(const vd *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(const vd *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (v->log && v->log != stderr) {
        va_start(ap, fmt);
        fputs(PROG ": ", v->log);
        vfprintf(v->log, fmt, ap);
        fputc('\n', v->log);
        va_end(ap);
    }
    return 1;
}

/* The evaluation text: --eval-text, else the held-out fortunes. */
static int load_text(vd *v)
{
    char err[CLI_ERR_LEN];
    size_t need = (size_t)v->x.cp.max_prompt_bytes + 1;
    if (v->o.eval_text) {
        char *buf;
        if (cli_read_file(v->o.eval_text, TEXT_MAX, false, &buf, &v->text_len, err) != BASED_E_OK)
            return die(v, "--eval-text: %s", err);
        v->text = (uint8_t *)buf;
    } else {
        struct model_corpus c;
        if (model_corpus_load(MODEL_FORTUNES_DIR, 0, &c, err, sizeof err) != BASED_E_OK)
            return die(v, "cannot read the Debian fortunes (%s): install the fortunes package "
                          "or give --eval-text FILE", err);
        v->text = malloc(c.n_heldout ? c.n_heldout : 1);
        if (v->text)
            memcpy(v->text, c.heldout, c.n_heldout);
        v->text_len = c.n_heldout;
        model_corpus_free(&c);
        if (!v->text)
            return die(v, "out of memory");
    }
    if (v->text_len < need)
        return die(v, "the evaluation text has %zu bytes; prompts need at least %zu: give a "
                      "longer --eval-text", v->text_len, need);
    return 0;
}

static int load_state(vd *v)
{
    char err[CLI_ERR_LEN], rel[128];
    if (v->o.state) {
        snprintf(v->state_path, sizeof v->state_path, "%s", v->o.state);
    } else {
        snprintf(rel, sizeof rel, ".based/validator-%u-%.8s.state", v->s.brain, v->key.ss58);
        if (cli_home_path(rel, v->state_path, sizeof v->state_path, err) != BASED_E_OK)
            return die(v, "%s: give --state FILE", err);
        char *slash = strrchr(v->state_path, '/');
        *slash = '\0';
        based_err rc = cli_mkdirs(v->state_path, 0700, err);
        *slash = '/';
        if (rc != BASED_E_OK)
            return die(v, "%s: give --state FILE", err);
    }
    v->st = malloc(sizeof *v->st);
    if (!v->st)
        return die(v, "out of memory");
    neuron_val_state_init(v->st, v->s.brain, &v->key.addr);
    based_err rc = neuron_val_state_load(v->st, v->state_path, err);
    if (rc == BASED_E_NOT_FOUND)
        say(v, "state %s: new (round 0)", v->state_path);
    else if (rc != BASED_E_OK)
        return die(v, "%s", err);
    else
        say(v, "state %s: round %u, %zu miners, last round at block %" PRIu64, v->state_path,
            v->st->round, v->st->n, v->st->last_height);
    if (neuron_val_state_save(v->st, v->state_path, err) != BASED_E_OK)
        return die(v, "%s: give --state FILE somewhere writable", err);
    return 0;
}

/* Registers as a validator (if needed) and checks the role. */
static int register_self(vd *v)
{
    char err[CLI_ERR_LEN];
    neuron_info *l;
    size_t n;
    int before = -1;
    if (neuron_uid_of(v->cl, v->s.brain, &v->key.addr, &before, err) != BASED_E_OK)
        return die(v, "%s", err);
    if (neuron_ensure_registered(v->cl, &v->key, v->s.brain, "validator", v->s.max_fee, &v->vuid,
                                 err) != BASED_E_OK)
        return die(v, "cannot register %s as a validator of Brain %u: %s", v->key.ss58,
                   v->s.brain, err);
    if (neuron_metagraph(v->cl, v->s.brain, &l, &n, err) != BASED_E_OK)
        return die(v, "%s", err);
    bool miner = false;
    for (size_t i = 0; i < n; i++)
        miner = miner || (l[i].uid == v->vuid && !l[i].validator);
    free(l);
    if (miner)
        return die(v, "%s is registered as a miner of Brain %u (uid %d), not a validator: use "
                      "another --key", v->key.ss58, v->s.brain, v->vuid);
    say(v, "validator %s is uid %d of Brain %u%s", v->key.ss58, v->vuid, v->s.brain,
        before < 0 ? " (registered now: the first round waits for the miners to see it)" : "");
    if (before < 0)
        v->settle_until = mono_ms() + SETTLE_MS;
    /* miners re-read their validator list at least every 10 s */
    v->known_after = (before < 0 ? v->settle_until : mono_ms()) + SETTLE_MS;
    return 0;
}

static int start(vd *v)
{
    char err[CLI_ERR_LEN];
    if (v->o.log_file && !(v->log = fopen(v->o.log_file, "a")))
        return die(v, "cannot open --log-file %s: %s", v->o.log_file, strerror(errno));
    if (neuron_client_new(v->o.node ? v->o.node : CLI_RPC_DEFAULT_URL, v->o.cookie, 0, &v->cl, err) !=
        BASED_E_OK)
        return die(v, "%s", err);
    if (neuron_key_load(v->o.key, v->o.wallet_dir, v->o.password_file,
                        neuron_client_info(v->cl)->ss58_prefix, &v->key, err) != BASED_E_OK)
        return die(v, "%s", err);
    const char *mp = v->o.model ? v->o.model : MODEL_DEFAULT_PATH;
    if (model_load(mp, &v->model, err, sizeof err) != BASED_E_OK)
        return die(v, "cannot load the model %s: %s (give --model FILE)", mp, err);
    if (!(v->ref = model_state_new(v->model)))
        return die(v, "out of memory for the model's state");
    neuron_challenge_params_default(&v->x.cp);
    neuron_score_params_default(&v->x.sp);
    int rc = load_text(v);
    if (rc == 0)
        rc = load_state(v);
    if (rc == 0)
        rc = register_self(v);
    if (rc != 0)
        return rc;
    v->x.model = v->model;
    v->x.ref = v->ref;
    v->x.text = v->text;
    v->x.text_len = v->text_len;
    v->x.sk = v->key.sk;
    v->x.addr = v->key.addr;
    neuron_box_keys_derive(v->key.sk, &v->x.box);
    v->x.brain = v->s.brain;
    v->x.deadline_ms = v->s.deadline_ms;
    return 0;
}

static void stop(vd *v)
{
    sodium_memzero(&v->x.box, sizeof v->x.box);
    neuron_key_release(&v->key);
    neuron_client_free(v->cl);
    model_state_free(v->ref);
    model_free(v->model);
    free(v->text);
    free(v->st);
    if (v->log && v->log != stderr)
        fclose(v->log);
}

/* ---------------- weights: commit-reveal ---------------- */

/* Learns the block of the pending commit, or that it was dropped. */
static void resolve_pending(vd *v)
{
    neuron_val_commit *p = &v->st->pending;
    char hex[67], err[CLI_ERR_LEN];
    json_t *o;
    if (!p->present || p->height != 0)
        return;
    chain_hash_hex(&p->tx, hex);
    based_err rc = neuron_call(v->cl, "tx_get", json_pack("[s]", hex), &o, err);
    if (rc == BASED_E_NOT_FOUND) {
        say(v, "weights commit %.18s... was not included (it failed when the block ran); dropped",
            hex);
        p->present = false;
        return;
    }
    if (rc != BASED_E_OK) {
        say(v, "%s", err);
        return;
    }
    json_t *bh = json_object_get(o, "block_height");
    const char *status = json_string_value(json_object_get(o, "status"));
    if (status && !strcmp(status, "committed") && json_is_integer(bh) &&
        json_integer_value(bh) > 0) {
        p->height = (uint64_t)json_integer_value(bh);
        v->st->last_commit = p->height;
    }
    json_decref(o);
}

static json_t *u16_array(const uint16_t *a, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer(a[i]));
    return arr;
}

static bool reveal(vd *v)
{
    neuron_val_commit *p = &v->st->pending;
    char salt[2 * NEURON_VAL_SALT + 3] = "0x", err[CLI_ERR_LEN];
    based_err rej;
    chain_hex(p->salt, sizeof p->salt, salt + 2);
    json_t *pj = json_pack("{s:i,s:o,s:o,s:s}", "brain", v->s.brain, "uids",
                           u16_array(p->uid, p->n), "weights", u16_array(p->w, p->n), "salt", salt);
    if (neuron_send(v->cl, &v->key, "weights_reveal", pj, 0, NULL, &rej, err) == BASED_E_OK) {
        say(v, "revealed the weights committed at block %" PRIu64 " (%zu miners)", p->height, p->n);
        p->present = false;
        return true;
    }
    bool keep = rej == BASED_E_OK || rej == BASED_E_REVEAL_TOO_EARLY;
    say(v, "%s%s", err, keep ? "; will retry" : "; this commit is dropped");
    if (!keep)
        p->present = false;
    return false;
}

static bool commit(vd *v, const uint16_t *uid, const uint16_t *w, size_t n)
{
    neuron_val_commit *p = &v->st->pending;
    uint8_t salt[NEURON_VAL_SALT];
    char hex[67] = "0x", err[CLI_ERR_LEN];
    chain_hash tx;
    randombytes_buf(salt, sizeof salt);
    chain_hash h = reward_commit_hash(v->s.brain, uid, w, n, salt, sizeof salt);
    chain_hex(h.b, 32, hex + 2);
    json_t *pj = json_pack("{s:i,s:s}", "brain", v->s.brain, "commit", hex);
    if (neuron_send(v->cl, &v->key, "weights_commit", pj, 0, &tx, NULL, err) != BASED_E_OK) {
        say(v, "%s; will retry", err);
        return false;
    }
    memset(p, 0, sizeof *p);
    p->present = true;
    p->tx = tx;
    p->n = n;
    memcpy(p->uid, uid, n * sizeof *uid);
    memcpy(p->w, w, n * sizeof *w);
    memcpy(p->salt, salt, sizeof salt);
    say(v, "committed weights for %zu miners", n);
    return true;
}

/* Reveals what is due, then commits w; returns what was posted. */
static const char *post(vd *v, uint64_t head, const uint16_t *uid, const uint16_t *w, size_t n)
{
    const neuron_chain_info *ci = neuron_client_info(v->cl);
    bool late, revealed = false, committed = false;
    if (v->vuid < 0)
        return "none";
    resolve_pending(v);
    if (neuron_val_reveal_due(v->st, ci->tempo, head + 1, &late)) {
        revealed = reveal(v);
    } else if (late) {
        say(v, "the commit at block %" PRIu64 " missed its reveal window; dropped",
            v->st->pending.height);
        v->st->pending.present = false;
    }
    if (n > 0 && neuron_val_commit_due(v->st, ci->tempo, ci->weights_rate_limit, head + 1))
        committed = commit(v, uid, w, n);
    return revealed ? (committed ? "reveal+commit" : "reveal") : committed ? "commit" : "none";
}

/* ---------------- output ---------------- */

static void short_addr(const char *ss58, char *out, size_t n)
{
    size_t l = strlen(ss58);
    if (l <= 14)
        snprintf(out, n, "%s", ss58);
    else
        snprintf(out, n, "%.6s..%s", ss58, ss58 + l - 6);
}

static void print_table(const vd *v, uint32_t round, uint64_t height, const neuron_val_result *r,
                        size_t n, const char *posted)
{
    fprintf(v->log, "round %u  height %" PRIu64 "  Brain %u  validator uid %d  miners %zu  "
            "posted %s\n", round, height, v->s.brain, v->vuid, n, posted);
    fprintf(v->log, "  %-5s %-14s %-6s %-10s %-9s %-6s %7s %-7s %-8s %-6s %s\n", "UID", "ADDRESS",
            "METHOD", "GATE", "KL", "AGREE", "LAT_MS", "SCORE", "SMOOTHED", "MISSED", "NOTE");
    for (size_t i = 0; i < n; i++) {
        const neuron_val_miner *m = NULL;
        char sa[24];
        for (size_t j = 0; j < v->st->n && !m; j++)
            if (v->st->m[j].uid == r[i].uid)
                m = &v->st->m[j];
        short_addr(r[i].ss58, sa, sizeof sa);
        fprintf(v->log, "  %-5d %-14s %-6s %-10s %-9.6f %-6.3f %7.1f %-7.4f %-8.4f %-6u %s\n",
                r[i].uid, sa, "?", neuron_gate_name(r[i].sc.gate), r[i].sc.kl, r[i].sc.agree,
                r[i].latency_ms, r[i].sc.score, m ? m->ema : 0.0, m ? m->missed : 0, r[i].why);
    }
    fflush(v->log);
}

static double round_to(double x, double unit)
{
    return isfinite(x) ? (double)(long long)(x / unit + (x >= 0 ? 0.5 : -0.5)) * unit : 0;
}

static void print_json(const vd *v, uint32_t round, uint64_t height, const neuron_val_result *r,
                       size_t n, const uint16_t *uid, const uint16_t *w, size_t nw,
                       const char *posted)
{
    json_t *ms = json_array(), *ws = json_array();
    for (size_t i = 0; i < n; i++) {
        const neuron_val_miner *m = NULL;
        for (size_t j = 0; j < v->st->n && !m; j++)
            if (v->st->m[j].uid == r[i].uid)
                m = &v->st->m[j];
        json_array_append_new(ms, json_pack(
            "{s:i,s:s,s:f,s:f,s:s,s:f,s:f,s:f,s:I}", "uid", r[i].uid, "address", r[i].ss58,
            "score", round_to(r[i].sc.score, 1e-6), "smoothed", round_to(m ? m->ema : 0, 1e-6),
            "gate", neuron_gate_name(r[i].sc.gate), "kl", round_to(r[i].sc.kl, 1e-6), "agree",
            round_to(r[i].sc.agree, 1e-6), "latency_ms", round_to(r[i].latency_ms, 0.1),
            "missed", (json_int_t)(m ? m->missed : 0)));
    }
    for (size_t i = 0; i < nw; i++)
        json_array_append_new(ws, json_pack("[i,i]", uid[i], w[i]));
    json_t *o = json_pack("{s:I,s:I,s:s,s:i,s:o,s:o,s:s}", "round", (json_int_t)round, "height",
                          (json_int_t)height, "validator", v->key.ss58, "vuid", v->vuid, "miners",
                          ms, "weights", ws, "posted", posted);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(line);
    json_decref(o);
}

/* ---------------- rounds ---------------- */

static void save(vd *v)
{
    char err[CLI_ERR_LEN];
    if (neuron_val_state_save(v->st, v->state_path, err) != BASED_E_OK)
        say(v, "%s", err);
}

static void update(vd *v, const neuron_val_result *r, size_t n, const neuron_info *l, size_t nl)
{
    neuron_val_retain(v->st, l, nl);
    for (size_t i = 0; i < n; i++) {
        if (r[i].status == 403 && mono_ms() < v->known_after)
            continue;   /* the miner does not know us yet: not its fault */
        neuron_val_miner *m = neuron_val_entry(v->st, (uint16_t)r[i].uid, &r[i].addr);
        bool missed = r[i].sc.gate == NEURON_GATE_NO_ANSWER || r[i].sc.gate == NEURON_GATE_TIMEOUT;
        if (m && neuron_val_gate_forfeits(r[i].sc.gate))
            neuron_val_forfeit(m);
        if (m)
            neuron_val_record(m, r[i].sc.score, missed, v->s.alpha);
    }
}

/* One round at head (height, hash); false when the node could not be read. */
static bool run_round(vd *v, uint64_t height, const chain_hash *hash)
{
    char err[CLI_ERR_LEN];
    neuron_info *l;
    size_t nl, n;
    neuron_val_result *r;
    if (neuron_metagraph(v->cl, v->s.brain, &l, &nl, err) != BASED_E_OK) {
        say(v, "%s", err);
        return false;
    }
    int vuid = -1;
    for (size_t i = 0; i < nl; i++)
        if (!memcmp(l[i].addr.b, v->key.addr.b, 32) && l[i].validator)
            vuid = l[i].uid;
    if (vuid < 0 && v->vuid >= 0)
        say(v, "%s is no longer a validator of Brain %u: scoring, but posting no weights "
               "(restart to register again)", v->key.ss58, v->s.brain);
    v->vuid = vuid;
    uint32_t round = v->st->round++;
    v->st->last_height = height;
    save(v);   /* the counter moves on before any challenge leaves */
    if (neuron_val_round(&v->x, hash, height, round, l, nl, &r, &n, err) != BASED_E_OK) {
        say(v, "round %u: %s", round, err);
        free(l);
        return true;
    }
    update(v, r, n, l, nl);
    free(l);
    uint16_t *uid = malloc(NEURON_VAL_MAX_UIDS * sizeof *uid);
    uint16_t *w = malloc(NEURON_VAL_MAX_UIDS * sizeof *w);
    size_t nw = uid && w ? neuron_val_weights(v->st, uid, w) : 0;
    const char *posted = post(v, height, uid, w, nw);
    save(v);
    print_table(v, round, height, r, n, posted);
    if (v->o.json)
        print_json(v, round, height, r, n, uid, w, nw, posted);
    free(uid);
    free(w);
    neuron_val_results_free(r, n);
    return true;
}

/* Between rounds: a pending commit whose reveal window is open is revealed
 * at once, so a reveal never waits for (and never misses its window behind)
 * a slow round. */
static void reveal_between_rounds(vd *v, uint64_t head)
{
    const neuron_chain_info *ci = neuron_client_info(v->cl);
    bool late;
    if (v->vuid < 0 || !v->st->pending.present)
        return;
    resolve_pending(v);
    if (v->st->pending.present && v->st->pending.height &&
        neuron_val_reveal_due(v->st, ci->tempo, head + 1, &late) && reveal(v))
        save(v);
}

static void run(vd *v)
{
    const neuron_chain_info *ci = neuron_client_info(v->cl);
    unsigned poll = (unsigned)(ci->block_time_ms / 4);
    uint64_t done = 0;
    bool node_ok = true;
    poll = poll < 50 ? 50 : poll > 1000 ? 1000 : poll;
    say(v, "a round every %" PRIu64 " blocks, deadline %u ms; tempo %" PRIu64
        ", weights_rate_limit %" PRIu64, v->s.interval, v->s.deadline_ms, ci->tempo,
        ci->weights_rate_limit);
    while (!stop_flag && (v->s.rounds == 0 || done < v->s.rounds)) {
        char err[CLI_ERR_LEN];
        uint64_t h;
        chain_hash hash;
        if (neuron_head(v->cl, &h, &hash, err) != BASED_E_OK) {
            if (node_ok)
                say(v, "%s; retrying", err);
            node_ok = false;
            sleep_ms(1000);
            continue;
        }
        if (!node_ok)
            say(v, "the node answers again");
        node_ok = true;
        uint64_t due = (v->st->last_height / v->s.interval + 1) * v->s.interval;
        if (h < due || mono_ms() < v->settle_until) {
            reveal_between_rounds(v, h);
            sleep_ms(poll);
            continue;
        }
        if (run_round(v, h, &hash))
            done++;
        else
            sleep_ms(1000);
    }
}

int main(int argc, char **argv)
{
    vd *v = calloc(1, sizeof *v);
    if (!v || sodium_init() < 0) {
        fputs(PROG ": out of memory or libsodium failed to start\n", stderr);
        return 1;
    }
    v->log = stderr;
    int rc = parse_args(argc, argv, &v->o);
    if (rc < 0)
        rc = check_args(&v->o, &v->s);
    if (rc >= 0) {
        free(v);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = start(v);
    if (rc == 0) {
        run(v);
        save(v);
        say(v, "stopped after round %u", v->st->round);
    }
    stop(v);
    free(v);
    return rc;
}
