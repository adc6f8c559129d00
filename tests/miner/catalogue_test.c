/*
 * catalogue_test.c: issue 10's cheat catalogue, end to end. A real basedd
 * (250 ms blocks, 1 s under the sanitizers; tempo 19), a real
 * based-validator, and 21 real miner processes: the product based-miner
 * serving f32, q8_0, cerberus, q4_0,
 * prime and a substituted model (trained here, briefly), and the test-only
 * based-cheat-miner (tests/miner/cheat/) for every cheat. After enough
 * rounds the validator's scores relative to the honest f32 miner, and the
 * BASED the chain paid each miner, must be as the table says.
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/keystore.h"
#include "tests/miner/harness.h"
#include "tests/runner.h"

enum { HONEST, Q4, BAD };

typedef struct {
    const char *name;
    const char *dev;        /* a dev key, or NULL: a generated keystore */
    const char *cheat;      /* based-cheat-miner mode, or NULL: based-miner */
    const char *compress;   /* based-miner --compress */
    int cls;
    double max_rel;         /* relative smoothed score at most (BAD) */
    bool zero;              /* the last rounds' scores must be exactly 0 */
    bool missed;            /* counted as missed */
    mt_miner m;
    double smoothed, last_score[4];
    int seen;                   /* round lines that listed this miner */
    char gate[24];              /* the last round's gate */
    char first_gate[24];        /* the first round's */
    long missed_n;
    uint64_t paid;
} entry;

#define ENT(nm, dv, ch, cp, cl, mx, z, ms) \
    { .name = nm, .dev = dv, .cheat = ch, .compress = cp, .cls = cl, .max_rel = mx, \
      .zero = z, .missed = ms }
static entry E[] = {
    ENT("f32", "dev4", NULL, "f32", HONEST, 0, false, false),
    ENT("q8_0", "dev5", NULL, "q8_0", HONEST, 0, false, false),
    ENT("cerberus", "dev6", NULL, "cerberus", HONEST, 0, false, false),
    ENT("share", NULL, "honest-share", NULL, HONEST, 0, false, false),
    ENT("q4_0", "dev7", NULL, "q4_0", Q4, 0, false, false),
    ENT("prime", "dev8", NULL, "prime", BAD, 0.05, false, false),
    ENT("substituted", "dev9", NULL, "f32", BAD, 0.05, false, false),
    ENT("random", NULL, "random", NULL, BAD, 0, true, false),
    ENT("repeat", NULL, "repeat", NULL, BAD, 0, true, false),
    ENT("temp15", NULL, "temp15", NULL, BAD, 0.6, false, false),
    ENT("greedy", NULL, "greedy", NULL, BAD, 0.6, false, false),
    ENT("zero-lp", NULL, "zero-lp", NULL, BAD, 0.05, false, false),
    ENT("copy-lp", NULL, "copy-lp", NULL, BAD, 0.05, false, false),
    ENT("replay", NULL, "replay", NULL, BAD, 0.05, true, false),
    ENT("copy", NULL, "copy", NULL, BAD, 0.05, true, false),
    ENT("badsig", NULL, "badsig", NULL, BAD, 0, true, false),
    ENT("slow", NULL, "slow", NULL, BAD, 0, true, true),
    ENT("garbage", NULL, "garbage", NULL, BAD, 0, true, false),
    ENT("oversized", NULL, "oversized", NULL, BAD, 0, true, false),
    ENT("unsealed", NULL, "unsealed", NULL, BAD, 0, true, false),
    ENT("down", NULL, NULL, "f32", BAD, 0, true, true),
};
#define NE ((int)BASED_ARRAY_LEN(E))

/* The validator's deadline and the slow miner's delay: under the
 * sanitizers every process runs several times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
#define DEADLINE_MS "10000"
#define SLOW_MS "14000"
#define BLOCK_MS 1000     /* a window (20 blocks) outlasts a round */
#else
#define DEADLINE_MS "2500"
#define SLOW_MS "4000"
#define BLOCK_MS 250
#endif

/* The gate that must stop each protocol-level cheat in every late round. */
static const struct { const char *name, *gate; } GATES[] = {
    { "random", "rank" }, { "repeat", "repeat" }, { "zero-lp", "logprobs" },
    { "replay", "challenge" }, { "badsig", "signature" }, { "slow", "timeout" },
    { "garbage", "seal" }, { "oversized", "decode" }, { "unsealed", "seal" },
    { "down", "no-answer" },
};
#define ROUNDS 12

static void nap_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static entry *by_name(const char *name)
{
    for (int i = 0; i < NE; i++)
        if (!strcmp(E[i].name, name))
            return &E[i];
    return NULL;
}

/* Trains the substituted model (another byte-level model, briefly). */
static pid_t train_substitute(const char *out, const char *log)
{
    const char *argv[] = { test_bin("based-model"), "train", "--out", out, "--steps", "100",
                           "--dim", "64", "--layers", "2", "--heads", "2", "--kv-heads", "2",
                           "--hidden", "192", "--max-bytes", "200000", "--threads", "1",
                           "--quiet", NULL };
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        (void)f;
        dup2(1, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Keystore files for the entries without a dev key, funded from dev0. */
static int make_keys(mt_node *n, const char *dir, const char *pwfile, char keys[][600])
{
    char err[CLI_ERR_LEN];
    neuron_key dev0;
    chain_hash last;
    bool sent = false;
    uint16_t prefix = neuron_client_info(n->client)->ss58_prefix;
    if (neuron_key_load("dev0", NULL, NULL, prefix, &dev0, err))
        return -1;
    for (int i = 0; i < NE; i++) {
        if (E[i].dev) {
            snprintf(keys[i], 600, "%s", E[i].dev);
            continue;
        }
        char name[16], ss58[CHAIN_ADDR_STRLEN];
        chain_addr pub;
        snprintf(name, sizeof name, "c%d", i);
        if (cli_keystore_create(dir, name, "pw", NULL, 1, 8192, &pub, NULL, err) != BASED_E_OK) {
            fprintf(stderr, "keystore %s: %s\n", name, err);
            return -1;
        }
        if (snprintf(keys[i], 600, "%.500s/%.32s.json", dir, name) >= 600)
            return -1;
        chain_ss58_encode(prefix, &pub, ss58);
        if (neuron_send(n->client, &dev0, "transfer",
                        json_pack("{s:s,s:s}", "to", ss58, "amount", "500"), 0, &last, NULL,
                        err) != BASED_E_OK) {
            fprintf(stderr, "fund %s: %s\n", name, err);
            return -1;
        }
        sent = true;
    }
    neuron_key_release(&dev0);
    (void)pwfile;
    return sent && neuron_wait_tx(n->client, &last, 30000, NULL, err) != BASED_E_OK ? -1 : 0;
}

/* The last `want` JSON round lines of the validator's stdout; returns how
 * many round lines there are (the last one parsed into *last). */
static int rounds_seen(const char *path, json_t **last)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    int n = 0;
    *last = NULL;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (o && json_is_integer(json_object_get(o, "round"))) {
            n++;
            json_decref(*last);
            *last = o;
        } else {
            json_decref(o);
        }
    }
    fclose(f);
    return n;
}

/* Fills each entry's last-round score history from all round lines. */
static void read_scores(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je), *x;
        size_t i;
        json_array_foreach(json_object_get(o, "miners"), i, x) {
            int uid = (int)json_integer_value(json_object_get(x, "uid"));
            for (int k = 0; k < NE; k++) {
                if (E[k].m.uid != uid)
                    continue;
                memmove(E[k].last_score + 1, E[k].last_score, 3 * sizeof(double));
                json_t *sc = json_object_get(x, "score");
                if (!json_is_number(sc))
                    test_fail_(__FILE__, __LINE__, "%s: a round line without a score", E[k].name);
                E[k].seen++;
                E[k].last_score[0] = json_number_value(sc);
                E[k].smoothed = json_number_value(json_object_get(x, "smoothed"));
                E[k].missed_n = (long)json_integer_value(json_object_get(x, "missed"));
                const char *g = json_string_value(json_object_get(x, "gate"));
                snprintf(E[k].gate, sizeof E[k].gate, "%s", g ? g : "?");
                if (!E[k].first_gate[0])
                    snprintf(E[k].first_gate, sizeof E[k].first_gate, "%s", g ? g : "?");
            }
        }
        json_decref(o);
    }
    fclose(f);
}

static uint64_t base_of(json_t *v)
{
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    const char *s = json_string_value(v);
    return s ? strtoull(s, NULL, 10) : 0;
}

/* BASED paid to each miner in epochs at or after `from` (base units). */
static int read_paid(mt_node *n, uint64_t from)
{
    char err[CLI_ERR_LEN];
    for (int i = 0; i < NE; i++) {
        json_t *o;
        if (neuron_call(n->client, "rewards_get", json_pack("[s,I]", E[i].m.key.ss58, (json_int_t)from),
                        &o, err)) {
            fprintf(stderr, "rewards_get: %s\n", err);
            return -1;
        }
        E[i].paid = base_of(json_object_get(json_object_get(o, "in_range"), "miner_base"));
        json_decref(o);
    }
    return 0;
}

static pid_t start_validator(mt_node *n, const char *out)
{
    char brain[16], state[600], log[600];
    snprintf(brain, sizeof brain, "%u", n->brain);
    snprintf(state, sizeof state, "%s/validator.state", test_tmpdir());
    snprintf(log, sizeof log, "%s/validator.log", test_tmpdir());
    const char *argv[] = { test_bin("based-validator"), "--node", n->url, "--rpc-cookie",
                           n->cookie, "--brain", brain, "--key", "dev3", "--interval", "4",
                           "--deadline-ms", DEADLINE_MS, "--json", "--state", state, "--log-file",
                           log, NULL };
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(out, "w", stdout);
        (void)f;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void print_table(double f32)
{
    fprintf(stderr, "%-12s %5s %9s %9s %7s %14s  %s\n", "miner", "uid", "smoothed", "relative",
            "missed", "paid (base)", "gate (first round, last)");
    for (int i = 0; i < NE; i++)
        fprintf(stderr, "%-12s %5d %9.4f %9.4f %7ld %14" PRIu64 "  %s, %s\n", E[i].name,
                E[i].m.uid, E[i].smoothed, f32 > 0 ? E[i].smoothed / f32 : 0, E[i].missed_n,
                E[i].paid, E[i].first_gate, E[i].gate);
}

static int stake_validator(mt_node *n)
{
    char err[CLI_ERR_LEN];
    neuron_key v;
    if (neuron_key_load("dev3", NULL, NULL, neuron_client_info(n->client)->ss58_prefix, &v, err))
        return -1;
    int rc = mt_send_dev(n, 3, "stake",
                         json_pack("{s:i,s:s,s:s}", "brain", n->brain, "hotkey", v.ss58,
                                   "amount", "1000"));
    neuron_key_release(&v);
    return rc;
}

static int launch_all(mt_node *n, const char *pwfile, const char *sub, const char *share)
{
    static char keys[NE][600];
    char kdir[600];
    snprintf(kdir, sizeof kdir, "%s/keys", test_tmpdir());
    if (make_keys(n, kdir, pwfile, keys))
        return -1;
    for (int i = 0; i < NE; i++) {
        const char *extra[12];
        int k = 0;
        const char *prog = test_bin("based-miner");
        if (E[i].cheat) {
            prog = test_prog("based-cheat-miner");
            extra[k++] = "--cheat";
            extra[k++] = E[i].cheat;
            if (!strcmp(E[i].cheat, "honest-share") || !strcmp(E[i].cheat, "copy")) {
                extra[k++] = "--share";
                extra[k++] = share;
            }
            if (!strcmp(E[i].cheat, "slow")) {
                extra[k++] = "--slow-ms";
                extra[k++] = SLOW_MS;
            }
        } else {
            extra[k++] = "--compress";
            extra[k++] = E[i].compress;
        }
        if (!strcmp(E[i].name, "substituted")) {
            extra[k++] = "--model";
            extra[k++] = sub;
        }
        extra[k] = NULL;
        if (mt_miner_launch(&E[i].m, n, prog, keys[i], E[i].dev ? NULL : pwfile, extra))
            return -1;
    }
    for (int i = 0; i < NE; i++)
        if (mt_miner_wait(&E[i].m, n, 180000)) {
            fprintf(stderr, "miner %s did not come up\n", E[i].name);
            return -1;
        }
    return 0;
}

TEST(cheat_catalogue_end_to_end)
{
    mt_node n;
    char pwfile[600], sub[600], sublog[600], share[600], vout[600];
    snprintf(sub, sizeof sub, "%s/substitute.gguf", test_tmpdir());
    snprintf(sublog, sizeof sublog, "%s/train.out", test_tmpdir());
    snprintf(pwfile, sizeof pwfile, "%s/password", test_tmpdir());
    snprintf(share, sizeof share, "%s/shared-answer", test_tmpdir());
    snprintf(vout, sizeof vout, "%s/validator.out", test_tmpdir());
    FILE *pf = fopen(pwfile, "w");
    CHECK(pf != NULL);
    fputs("pw\n", pf);
    fclose(pf);
    pid_t trainer = train_substitute(sub, sublog);
    CHECK(trainer > 0);
    CHECK_EQ_INT(mt_node_start_dev(&n, BLOCK_MS, "\"tempo\": 19, \"weights_rate_limit\": 10"), 0);
    CHECK_EQ_INT(stake_validator(&n), 0);
    int st;
    while (waitpid(trainer, &st, 0) < 0 && errno == EINTR)
        ;
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int up = launch_all(&n, pwfile, sub, share);
    if (up) {
        for (int i = 0; i < NE; i++)
            mt_miner_stop(&E[i].m, 5000);
        mt_node_stop(&n);
    }
    CHECK_EQ_INT(up, 0);
    /* "down": served, then gone */
    entry *down = by_name("down");
    kill(down->m.pid, SIGKILL);
    while (waitpid(down->m.pid, &st, 0) < 0 && errno == EINTR)
        ;
    down->m.pid = 0;

    pid_t val = start_validator(&n, vout);
    CHECK(val > 0);
    json_t *last = NULL;
    double t0 = tsup_now_ms();
    int rounds = 0;
    uint64_t from = 0;
    while (tsup_now_ms() - t0 < 480000) {
        rounds = rounds_seen(vout, &last);
        if (rounds >= 8 && !from)
            from = (uint64_t)json_integer_value(json_object_get(last, "height"));
        json_decref(last);
        last = NULL;
        if (rounds >= ROUNDS)
            break;
        if (waitpid(val, &st, WNOHANG) == val) {
            val = 0;
            break;
        }
        nap_ms(250);
    }
    CHECK(val > 0);   /* the validator never died, whatever the miners sent */
    CHECK(rounds >= ROUNDS);
    /* payouts: wait until the chain has paid three epochs after round 8 */
    uint64_t want = from + 3 * 20 + 5;
    CHECK_EQ_INT(mt_wait_height(&n, want, 200000), 0);
    CHECK(waitpid(val, &st, WNOHANG) == 0);
    read_scores(vout);
    CHECK_EQ_INT(read_paid(&n, from), 0);
    entry *f32 = by_name("f32"), *q8 = by_name("q8_0"), *q4 = by_name("q4_0");
    double ref = f32->smoothed;
    print_table(ref);
    CHECK(ref > 0.8);
    CHECK(from > 0);
    for (int i = 0; i < NE; i++)
        if (E[i].seen < ROUNDS)   /* every miner in every round: no check passes on defaults */
            test_fail_(__FILE__, __LINE__, "%s: in %d round lines of %d", E[i].name, E[i].seen,
                       ROUNDS);
    uint64_t total = 0, bad = 0;
    for (int i = 0; i < NE; i++) {
        entry *e = &E[i];
        double rel = e->smoothed / ref;
        total += e->paid;
        if (e->cls == BAD)
            bad += e->paid;
        if (e->cls == HONEST && rel < 0.95)
            test_fail_(__FILE__, __LINE__, "%s: relative %.4f < 0.95", e->name, rel);
        if (e->cls == BAD && rel > e->max_rel)
            test_fail_(__FILE__, __LINE__, "%s: relative %.4f > %.2f", e->name, rel, e->max_rel);
        for (int r = 0; e->zero && r < 4; r++)
            if (e->last_score[r] != 0)
                test_fail_(__FILE__, __LINE__, "%s: round score %.4f, not 0", e->name,
                           e->last_score[r]);
        if (e->missed && e->missed_n < 1)
            test_fail_(__FILE__, __LINE__, "%s: missed %ld, expected counted", e->name,
                       e->missed_n);
    }
    for (size_t g = 0; g < BASED_ARRAY_LEN(GATES); g++) {
        entry *e = by_name(GATES[g].name);
        if (strcmp(e->gate, GATES[g].gate) != 0)
            test_fail_(__FILE__, __LINE__, "%s: last gate \"%s\", expected \"%s\"", e->name,
                       e->gate, GATES[g].gate);
    }
    CHECK(q4->smoothed < q8->smoothed);
    CHECK(q4->smoothed / ref >= 0.5);
    /* on chain: honest miners the bulk, in score order; cheats under 1 % */
    CHECK(total > 0);
    fprintf(stderr, "paid since height %" PRIu64 ": cheats and prime %" PRIu64 " of %" PRIu64
            " (%.3f %%)\n", from, bad, total, 100.0 * (double)bad / (double)total);
    CHECK((double)bad < 0.01 * (double)total);
    for (int i = 0; i < NE; i++)
        if (E[i].cls == HONEST && E[i].paid <= q4->paid)
            test_fail_(__FILE__, __LINE__, "%s paid %" PRIu64 " <= q4_0's %" PRIu64, E[i].name,
                       E[i].paid, q4->paid);
    CHECK(q4->paid > 0);
    for (int i = 0; i < NE; i++)
        if (E[i].cls == BAD && E[i].paid >= q4->paid)
            test_fail_(__FILE__, __LINE__, "%s paid %" PRIu64 " >= q4_0's", E[i].name, E[i].paid);
    kill(val, SIGTERM);
    while (waitpid(val, &st, 0) < 0 && errno == EINTR)
        ;
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < NE; i++)
        mt_miner_stop(&E[i].m, 5000);
    mt_node_stop(&n);
}
