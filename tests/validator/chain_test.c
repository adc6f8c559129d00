/*
 * Tests of the based-validator program: its usage errors, and a real run
 * against a real `basedd --dev` (genesis-short.json's tempo 9 and
 * weights_rate_limit 5, with 300 ms blocks) with four miners served on the
 * chain: the real bin/based-miner (f32), an honest test endpoint, one that
 * is down and one answering garbage (fakeminer.c). The validator registers
 * itself, scores every round (checked in its --json lines), commits its
 * weights and reveals them in the next window, every window (checked with
 * brain_getWeights), keeps its state across a restart, stops cleanly on
 * SIGTERM, and refuses a corrupt state file by name.
 */
#include <jansson.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "neurons/client.h"
#include "neurons/proto.h"
#include "tests/runner.h"
#include "tests/validator/fakeminer.h"
#include "tests/validator/node.h"
#include "tests/validator/tests.h"

static int run_capture(const char *const *argv, char *out, size_t cap)
{
    char o[700], e[700];
    snprintf(o, sizeof o, "%s/run.out", test_tmpdir());
    snprintf(e, sizeof e, "%s/run.err", test_tmpdir());
    unlink(o);
    unlink(e);
    int st = vt_wait(tsup_spawn(argv, o, e, true), 60);
    FILE *f = fopen(o, "r");
    size_t k = f ? fread(out, 1, cap / 2, f) : 0;
    if (f)
        fclose(f);
    f = fopen(e, "r");
    k += f ? fread(out + k, 1, cap - 1 - k, f) : 0;
    if (f)
        fclose(f);
    out[k] = '\0';
    return st;
}

TEST(val_program_usage)
{
    char out[8192];
    const char *v = test_bin("based-validator");
    const char *help[] = { v, "--help", NULL };
    CHECK_EQ_INT(run_capture(help, out, sizeof out), 0);
    static const char *const flags[] = { "--node", "--rpc-cookie", "--brain", "--key",
                                         "--wallet-dir", "--password-file", "--model",
                                         "--eval-text", "--interval", "--deadline-ms", "--state",
                                         "--alpha", "--max-fee", "--rounds", "--json",
                                         "--log-file", "--help", "--version" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(flags); i++)
        CHECK(strstr(out, flags[i]) != NULL);
    const char *ver[] = { v, "--version", NULL };
    CHECK_EQ_INT(run_capture(ver, out, sizeof out), 0);
    CHECK(strstr(out, BASED_VERSION) != NULL);
    static const struct { const char *a[6]; const char *says; } bad[] = {
        { { "--key", "dev2" }, "--brain" },
        { { "--brain", "7" }, "--key" },
        { { "--brain", "7", "--key", "dev2", "--interval", "0" }, "--interval" },
        { { "--brain", "7", "--key", "dev2", "--alpha", "1.5" }, "--alpha" },
        { { "--brain", "70000", "--key", "dev2" }, "--brain" },
        { { "--brain", "7", "--key", "dev2", "--bogus" }, "--bogus" },
        { { "--brain", "7", "--key", "dev2", "--max-fee", "x" }, "--max-fee" },
        { { "--brain", "7", "--key" }, "--key" },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        const char *argv[8] = { v };
        for (int k = 0; k < 6 && bad[i].a[k]; k++)
            argv[k + 1] = bad[i].a[k];
        CHECK_EQ_INT(run_capture(argv, out, sizeof out), 2);
        CHECK(strstr(out, bad[i].says) != NULL);
        CHECK(strchr(out, '\n') == strrchr(out, '\n'));   /* one line */
    }
    /* no node: exit 1, one line naming the URL and what to do */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", tsup_free_port());
    const char *nonode[] = { v, "--brain", "7", "--key", "dev2", "--node", url, NULL };
    CHECK_EQ_INT(run_capture(nonode, out, sizeof out), 1);
    CHECK(strstr(out, url) != NULL);
    CHECK(strstr(out, "start one") != NULL);
}

/* genesis-short.json with 300 ms dev blocks, into the test's directory. */
static const char *short_genesis(void)
{
    static char path[600];
    char buf[8192];
    FILE *f = fopen("genesis-short.json", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strstr(buf, "\"block_time_ms\": 1000,");
    if (!p || !strstr(buf, "\"tempo\": 9,") || !strstr(buf, "\"weights_rate_limit\": 5,"))
        return NULL;
    memcpy(p, "\"block_time_ms\":  300,", 22);
    snprintf(path, sizeof path, "%s/short-genesis.json", test_tmpdir());
    f = fopen(path, "w");
    if (f) {
        fputs(buf, f);
        fclose(f);
    }
    return path;
}

static bool send_wait(neuron_client *c, const neuron_key *k, const char *kind, json_t *pj)
{
    char err[CLI_ERR_LEN];
    chain_hash h;
    if (neuron_send(c, k, kind, pj, 0, &h, NULL, err) != BASED_E_OK ||
        neuron_wait_tx(c, &h, 20000, NULL, err) != BASED_E_OK) {
        fprintf(stderr, "%s: %s\n", kind, err);
        return false;
    }
    return true;
}

/* dev1 buys a Brain; returns its id or -1. */
static int buy_brain(neuron_client *c, uint16_t prefix)
{
    neuron_key k;
    char err[CLI_ERR_LEN];
    json_t *o;
    int id = -1;
    if (neuron_key_load("dev1", NULL, NULL, prefix, &k, err) != BASED_E_OK)
        return -1;
    if (send_wait(c, &k, "brain_buy", json_pack("{s:s}", "method", "burn")) &&
        neuron_call(c, "account_get", json_pack("[s]", k.ss58), &o, err) == BASED_E_OK) {
        json_t *ids = json_object_get(o, "brains");
        if (json_array_size(ids))
            id = (int)json_integer_value(json_array_get(ids, json_array_size(ids) - 1));
        json_decref(o);
    }
    neuron_key_release(&k);
    return id;
}

/* Registers dev `dev` as a miner serving 127.0.0.1:port with box key pk. */
static int add_miner(neuron_client *c, uint16_t prefix, int brain, unsigned dev, int port,
                     const uint8_t pk[32])
{
    neuron_key k;
    char err[CLI_ERR_LEN], name[16], hex[67] = "0x";
    int uid = -1;
    snprintf(name, sizeof name, "dev%u", dev);
    if (neuron_key_load(name, NULL, NULL, prefix, &k, err) != BASED_E_OK)
        return -1;
    chain_hex(pk, 32, hex + 2);
    if (neuron_ensure_registered(c, &k, (uint16_t)brain, "miner", 0, &uid, err) != BASED_E_OK ||
        !send_wait(c, &k, "serve", json_pack("{s:i,s:s,s:i,s:s}", "brain", brain, "host",
                                             "127.0.0.1", "port", port, "x25519", hex))) {
        fprintf(stderr, "miner dev%u: %s\n", dev, err);
        uid = -1;
    }
    neuron_key_release(&k);
    return uid;
}

typedef struct {
    json_t *line[64];
    size_t n;
} jlines;

static void read_lines(const char *path, jlines *j)
{
    FILE *f = fopen(path, "r");
    char buf[16384];
    j->n = 0;
    while (f && j->n < 64 && fgets(buf, sizeof buf, f)) {
        json_t *o = json_loads(buf, 0, NULL);
        if (o)
            j->line[j->n++] = o;
    }
    if (f)
        fclose(f);
}

static void free_lines(jlines *j)
{
    for (size_t i = 0; i < j->n; i++)
        json_decref(j->line[i]);
    j->n = 0;
}

static json_t *miner_of(json_t *line, int uid)
{
    json_t *m;
    size_t i;
    json_array_foreach(json_object_get(line, "miners"), i, m)
        if (json_integer_value(json_object_get(m, "uid")) == uid)
            return m;
    return NULL;
}

static const char *sval(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Prints a file to stderr (at most 8 KB of its end): the logs of a failure. */
static void dump(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    buf[k] = '\0';
    fclose(f);
    fprintf(stderr, "---- %s\n%s\n", path, buf);
}

/* Starts the validator for `rounds` rounds (0: until stopped). */
static pid_t start_validator(const vt_node *n, int brain, const char *state, int rounds,
                             const char *out, const char *log)
{
    char b[16], r[16];
    snprintf(b, sizeof b, "%d", brain);
    snprintf(r, sizeof r, "%d", rounds);
    const char *argv[] = { test_bin("based-validator"), "--node", n->url, "--rpc-cookie",
                           n->cookie, "--brain", b, "--key", "dev2", "--interval", "2",
                           "--deadline-ms", "2000", "--state", state, "--json", "--rounds", r,
                           "--log-file", log, NULL };
    return tsup_spawn(argv, out, log, true);
}

static int run_validator(const vt_node *n, int brain, const char *state, int rounds,
                         const char *out, const char *log)
{
    return vt_wait(start_validator(n, brain, state, rounds, out, log), 180);
}

/* The posted fields of the lines, and the round of the first reveal. */
static int first_reveal(const jlines *j, bool *committed)
{
    *committed = false;
    for (size_t i = 0; i < j->n; i++) {
        const char *p = sval(j->line[i], "posted");
        if (strstr(p, "commit") && !strstr(p, "reveal"))
            *committed = true;
        if (strstr(p, "reveal") && *committed)
            return (int)i;
    }
    return -1;
}

/* The uids of the four miners. */
typedef struct {
    int honest, down, garbage, real;
} uids;

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void check_round0(json_t *l, const uids *u)
{
    json_t *h = miner_of(l, u->honest), *d = miner_of(l, u->down), *g = miner_of(l, u->garbage);
    json_t *r = miner_of(l, u->real);
    CHECK(h && d && g && r);
    CHECK_EQ_INT(json_integer_value(json_object_get(l, "round")), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(l, "miners")), 4);
    CHECK_EQ_STR(sval(h, "gate"), "ok");
    CHECK(num(h, "score") > 0.9);
    CHECK(num(h, "latency_ms") > 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(h, "missed")), 0);
    CHECK_EQ_STR(sval(r, "gate"), "ok");   /* bin/based-miner, f32 */
    CHECK(num(r, "score") > 0.9);
    CHECK_NEAR(num(r, "kl"), 0, 1e-6);
    CHECK_NEAR(num(d, "score"), 0, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "missed")), 1);
    CHECK_EQ_STR(sval(d, "gate"), "no-answer");
    CHECK_NEAR(num(g, "score"), 0, 0);
    CHECK(!strcmp(sval(g, "gate"), "seal") || !strcmp(sval(g, "gate"), "decode"));
    CHECK_EQ_INT(json_integer_value(json_object_get(g, "missed")), 0);
    /* weights: the two honest miners, the better at 65535, nobody else */
    json_t *w = json_object_get(l, "weights");
    CHECK_EQ_INT(json_array_size(w), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *p = json_array_get(w, i);
        int uid = (int)json_integer_value(json_array_get(p, 0));
        CHECK(uid == u->honest || uid == u->real);
        CHECK(json_integer_value(json_array_get(p, 1)) > 60000);
    }
}

/* brain_getWeights shows vuid's row: the two honest miners only. */
static void check_chain_row(neuron_client *c, int brain, int vuid, const uids *u)
{
    char err[CLI_ERR_LEN], k[16];
    json_t *o;
    CHECK_EQ_INT(neuron_call(c, "brain_getWeights", json_pack("[i]", brain), &o, err), BASED_E_OK);
    snprintf(k, sizeof k, "%d", vuid);
    json_t *row = json_object_get(json_object_get(o, "weights"), k);
    char *dump = json_dumps(o, JSON_COMPACT);
    fprintf(stderr, "brain_getWeights: %s\n", dump);
    free(dump);
    CHECK_EQ_INT(json_array_size(row), 2);
    int top = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *p = json_array_get(row, i);
        int uid = (int)json_integer_value(json_array_get(p, 0));
        CHECK(uid == u->honest || uid == u->real);
        CHECK(json_integer_value(json_array_get(p, 1)) > 60000);
        top += json_integer_value(json_array_get(p, 1)) == 65535;
    }
    CHECK(top >= 1);   /* the largest is 65535 (both, when their scores tie) */
    json_decref(o);
}

/* Starts bin/based-miner (dev6, f32, any free port) and waits (60 s at most)
 * until it is served on the Brain; its uid, or -1. */
static int start_real_miner(const vt_node *n, neuron_client *c, int brain, pid_t *pid)
{
    char b[16], log[600], err[CLI_ERR_LEN];
    uint8_t sk[32];
    chain_addr a;
    chain_key_dev(6, sk);
    chain_key_pub(sk, &a);
    snprintf(b, sizeof b, "%d", brain);
    snprintf(log, sizeof log, "%s/miner.log", test_tmpdir());
    const char *argv[] = { test_bin("based-miner"), "--node", n->url, "--rpc-cookie", n->cookie,
                           "--brain", b, "--key", "dev6", "--compress", "f32", "--listen",
                           "127.0.0.1:0", NULL };
    *pid = tsup_spawn(argv, log, log, true);
    for (int i = 0; i < 600; i++) {
        neuron_info *l;
        size_t k;
        int uid = -1;
        if (neuron_metagraph(c, (uint16_t)brain, &l, &k, err) == BASED_E_OK) {
            for (size_t j = 0; j < k; j++)
                if (!memcmp(l[j].addr.b, a.b, 32) && l[j].served)
                    uid = l[j].uid;
            free(l);
        }
        if (uid >= 0)
            return uid;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return -1;
}

TEST(val_program_on_chain)
{
    char dd[600], state[600], out[600], log[600], err[CLI_ERR_LEN], text[8192];
    const char *g = short_genesis();
    CHECK(g != NULL);
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    vt_node n;
    CHECK_EQ_INT(vt_node_start(&n, dd, g), 0);
    neuron_client *c = NULL;
    CHECK_EQ_INT(neuron_client_new(n.url, n.cookie, 0, &c, err), BASED_E_OK);
    uint16_t prefix = neuron_client_info(c)->ss58_prefix;
    int brain = buy_brain(c, prefix);
    CHECK(brain >= 0);
    model_t *m;
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &m, err, sizeof err), BASED_E_OK);
    fake_miner *honest = fm_start(m, 3, FM_HONEST), *garbage = fm_start(m, 5, FM_GARBAGE);
    CHECK(honest && garbage);
    uint8_t sk[32];
    neuron_box_keys down_box;
    chain_key_dev(4, sk);
    neuron_box_keys_derive(sk, &down_box);
    uids u;
    pid_t miner_pid;
    u.real = start_real_miner(&n, c, brain, &miner_pid);
    u.honest = add_miner(c, prefix, brain, 3, fm_port(honest), fm_box_pk(honest));
    u.down = add_miner(c, prefix, brain, 4, tsup_free_port(), down_box.pk);
    u.garbage = add_miner(c, prefix, brain, 5, fm_port(garbage), fm_box_pk(garbage));
    CHECK(u.real >= 0 && u.honest >= 0 && u.down >= 0 && u.garbage >= 0);

    /* a corrupt state file is refused by name, before anything is sent */
    snprintf(state, sizeof state, "%s/validator.state", test_tmpdir());
    snprintf(out, sizeof out, "%s/validator.jsonl", test_tmpdir());
    snprintf(log, sizeof log, "%s/validator.log", test_tmpdir());
    FILE *f = fopen(state, "w");
    fputs("{\"version\":1,\"brain\":", f);
    fclose(f);
    char bs[16];
    snprintf(bs, sizeof bs, "%d", brain);
    const char *argv[] = { test_bin("based-validator"), "--node", n.url, "--rpc-cookie", n.cookie,
                           "--brain", bs, "--key", "dev2", "--state", state, NULL };
    CHECK_EQ_INT(run_capture(argv, text, sizeof text), 1);
    CHECK(strstr(text, state) != NULL && strstr(text, "corrupt") != NULL);
    unlink(state);

    /* 12 rounds, 2 blocks apart: > 2 windows of 10 blocks */
    int rc = run_validator(&n, brain, state, 12, out, log);
    if (rc != 0) {
        f = fopen(log, "r");
        size_t k = f ? fread(text, 1, sizeof text - 1, f) : 0;
        text[k] = '\0';
        if (f)
            fclose(f);
        fprintf(stderr, "validator log:\n%s\n", text);
    }
    CHECK_EQ_INT(rc, 0);
    jlines j;
    read_lines(out, &j);
    CHECK_EQ_INT(j.n, 12);
    json_t *rm = miner_of(j.line[0], u.real);
    if (!rm || strcmp(sval(rm, "gate"), "ok") != 0) {
        char ml[600];
        snprintf(ml, sizeof ml, "%s/miner.log", test_tmpdir());
        dump(log);
        dump(ml);
    }
    check_round0(j.line[0], &u);
    int vuid = (int)json_integer_value(json_object_get(j.line[0], "vuid"));
    CHECK(vuid >= 0 && vuid != u.honest && vuid != u.down && vuid != u.garbage && vuid != u.real);
    for (size_t i = 0; i < j.n; i++) {
        CHECK_EQ_INT(json_integer_value(json_object_get(j.line[i], "round")), (int)i);
        json_t *d = miner_of(j.line[i], u.down);
        CHECK_EQ_INT(json_integer_value(json_object_get(d, "missed")), (int)i + 1);
        CHECK(num(miner_of(j.line[i], u.honest), "smoothed") > 0.9);
        CHECK(num(miner_of(j.line[i], u.real), "smoothed") > 0.9);
    }
    bool committed;
    int rv = first_reveal(&j, &committed), reveals = 0;
    CHECK(committed);
    CHECK(rv > 0);
    fprintf(stderr, "posted:");
    for (size_t i = 0; i < j.n; i++) {
        fprintf(stderr, " %s@%d", sval(j.line[i], "posted"),
                (int)json_integer_value(json_object_get(j.line[i], "height")));
        reveals += strstr(sval(j.line[i], "posted"), "reveal") != NULL;
    }
    fprintf(stderr, "\n");
    /* 12 rounds cover 24 blocks, more than 2 windows: re-posted each window */
    CHECK(reveals >= 2);
    free_lines(&j);
    check_chain_row(c, brain, vuid, &u);

    /* a restart continues: the round counter and the missed count go on */
    unlink(out);
    CHECK_EQ_INT(run_validator(&n, brain, state, 1, out, log), 0);
    read_lines(out, &j);
    CHECK_EQ_INT(j.n, 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(j.line[0], "round")), 12);
    CHECK_EQ_INT(json_integer_value(json_object_get(miner_of(j.line[0], u.down), "missed")), 13);
    free_lines(&j);

    /* running until stopped: SIGTERM ends it cleanly after a round, state saved */
    unlink(out);
    pid_t pid = start_validator(&n, brain, state, 0, out, log);
    for (int i = 0; i < 300 && j.n == 0; i++) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        free_lines(&j);
        read_lines(out, &j);
    }
    CHECK(j.n >= 1);
    free_lines(&j);
    kill(pid, SIGTERM);
    CHECK_EQ_INT(vt_wait(pid, 30), 0);
    f = fopen(state, "r");
    size_t k = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[k] = '\0';
    CHECK(strstr(text, "\"round\":13") || strstr(text, "\"round\":14") ||
          strstr(text, "\"round\":15"));

    kill(miner_pid, SIGTERM);
    CHECK_EQ_INT(vt_wait(miner_pid, 30), 0);
    fm_stop(honest);
    fm_stop(garbage);
    model_free(m);
    neuron_client_free(c);
    vt_node_stop(&n);
}
