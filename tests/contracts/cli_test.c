/* based-cli's Brain, neuron, stake and governance verbs end to end: a real
 * `basedd --dev --genesis genesis-short.json` and based-cli as processes.
 * The process helpers are tests/integration's (compiled in here). */
#include "tests/integration/proc.c"
#include "tests/contracts/env.h"

/* Runs based-cli against node n with args (NULL-terminated); output in out. */
static int cli(test_node *n, char *out, size_t cap, ...)
{
    const char *argv[40];
    int k = 0;
    va_list ap;
    argv[k++] = test_bin("based-cli");
    argv[k++] = "--rpc";
    argv[k++] = n->url;
    argv[k++] = "--rpc-cookie";
    static char cookie[600];
    snprintf(cookie, sizeof cookie, "%s/.cookie", n->datadir);
    argv[k++] = cookie;
    va_start(ap, cap);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && k < 39;)
        argv[k++] = a;
    va_end(ap);
    argv[k] = NULL;
    return test_run(argv, out, cap);
}

TEST(cli_brains_end_to_end)
{
    test_node n;
    char dd[512], out[8192];
    static const char *const extra[] = { "--dev", "--genesis", "genesis-short.json", NULL };
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    CHECK_EQ_INT(test_node_start(&n, dd, extra), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brain", "buy", "--from", "dev1", NULL), 2);
    CHECK(strstr(out, "--burn or --stake") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brain", "buy", "--from", "dev1", "--burn", "--wait",
                     NULL), 0);
    CHECK(strstr(out, "committed in block") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brain", "set", "7", "--from", "dev1", "--name", "Pepe",
                     "--reg-fee", "5", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brain", "buy", "--from", "dev2", "--stake", "47", NULL), 1);
    CHECK(strstr(out, "RESERVED") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "memorize", "--from", "dev3", "--brain", "7", "--role",
                     "validator", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "stake", "--from", "dev4", "--brain", "7", "--hotkey",
                     "dev3", "--amount", "250", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "memorize", "--from", "dev5", "--brain", "7", "--role",
                     "boss", NULL), 2);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "neurons", "7", NULL), 0);
    CHECK(strstr(out, "VTRUST") != NULL && strstr(out, "250") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brains", NULL), 0);
    CHECK(strstr(out, "Pepe") != NULL && strstr(out, "reserved") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brain", "7", NULL), 0);
    CHECK(strstr(out, "gigabrain        true") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "gov", "propose", "--from", "dev1", "--brain", "7",
                     "--text", "gm", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "gov", "vote", "1", "--from", "dev1", "--brain", "7",
                     "--choice", "yes", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "gov", "vote", "1", "--from", "dev1", "--brain", "7",
                     "--choice", "yes", NULL), 1);
    CHECK(strstr(out, "ALREADY_VOTED") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "gov", "show", "1", NULL), 0);
    CHECK(strstr(out, "\"yes\":1") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "pepe", "balance", "dev1", NULL), 0);
    CHECK(strstr(out, "199999000") != NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "unstake", "--from", "dev4", "--brain", "7", "--hotkey",
                     "dev3", "--amount", "251", NULL), 1);
    CHECK(strstr(out, "INSUFFICIENT") != NULL);
    CHECK_EQ_INT(test_node_stop(&n, false), 0);
    /* basedd --verify replays the chain and checks every invariant */
    const char *argv[] = { test_bin("basedd"), "--datadir", dd, "--verify", NULL };
    CHECK_EQ_INT(test_run(argv, out, sizeof out), 0);
    CHECK(strstr(out, "verify: ok") != NULL);
}

/* genesis-short.json with 200 ms dev blocks, written into the test dir. */
static const char *fast_short_genesis(void)
{
    static char path[600];
    FILE *in = fopen("genesis-short.json", "r");
    char buf[16384];
    size_t n = in ? fread(buf, 1, sizeof buf - 1, in) : 0;
    if (in)
        fclose(in);
    buf[n] = '\0';
    char *dev = strstr(buf, "\"dev\"");
    char *bt = dev ? strstr(dev, "\"block_time_ms\": 1000") : NULL;
    if (bt)
        memcpy(bt, "\"block_time_ms\":  200", 21);
    snprintf(path, sizeof path, "%s/genesis-fast.json", test_tmpdir());
    FILE *out = fopen(path, "w");
    if (out) {
        fputs(buf, out);
        fclose(out);
    }
    return path;
}

static long long field_ll(const char *out, const char *key)
{
    const char *p = strstr(out, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Issue 4 end to end: a Brain, a validator and two miners; the validator
 * sets weights with commit-reveal through based-cli; after a few epochs
 * both miners and the validator have earned, the miner weighted higher
 * more, the epoch's incentive vector says the same, and the chain replays. */
TEST(cli_rewards_end_to_end)
{
    test_node n;
    char dd[512], wd[600], out[16384];
    const char *extra[] = { "--dev", "--genesis", fast_short_genesis(), NULL };
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    snprintf(wd, sizeof wd, "%s/wallets", test_tmpdir());
    CHECK_EQ_INT(test_node_start(&n, dd, extra), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "brain", "buy", "--from", "dev1", "--burn", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "memorize", "--from", "dev3", "--brain", "7", "--role",
                     "validator", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "memorize", "--from", "dev5", "--brain", "7", "--role",
                     "miner", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "memorize", "--from", "dev6", "--brain", "7", "--role",
                     "miner", "--wait", NULL), 0);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "stake", "--from", "dev4", "--brain", "7", "--hotkey",
                     "dev3", "--amount", "250", "--wait", NULL), 0);
    /* weights: uid 1 (dev5) much more than uid 2 (dev6) */
    for (int round = 0; round < 3; round++) {
        int rc = cli(&n, out, sizeof out, "--wallet-dir", wd, "weights", "set", "--from", "dev3",
                     "--brain", "7", "--weights", "1:65535,2:10000", "--wait", NULL);
        if (rc != 0)
            fprintf(stderr, "%s\n", out);
        CHECK_EQ_INT(rc, 0);
        /* the next commit must come weights_rate_limit (5) blocks of 200 ms
         * after this one; the reveal can follow the commit by one block */
        usleep(1500000);
    }
    /* let a few epochs (tempo 9) pay out */
    usleep(5000000);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "--json", "rewards", "dev5", NULL), 0);
    json_t *r5 = json_loads(out, 0, NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "--json", "rewards", "dev6", NULL), 0);
    json_t *r6 = json_loads(out, 0, NULL);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "--json", "rewards", "dev3", NULL), 0);
    json_t *r3 = json_loads(out, 0, NULL);
    CHECK(r5 && r6 && r3);
    json_t *t5 = json_object_get(json_object_get(r5, "total"), "miner_base");
    json_t *t6 = json_object_get(json_object_get(r6, "total"), "miner_base");
    json_t *t3 = json_object_get(json_object_get(r3, "total"), "validator_base");
    if (!t5 || !t6 || !t3)
        fprintf(stderr, "%s\n", out);
    CHECK(t5 && t6 && t3);
    unsigned long long m5 = strtoull(json_string_value(t5), NULL, 10);
    unsigned long long m6 = strtoull(json_string_value(t6), NULL, 10);
    unsigned long long v3 = strtoull(json_string_value(t3), NULL, 10);
    CHECK(m5 > 0 && m6 > 0 && v3 > 0);
    CHECK(m5 > m6);
    json_decref(r5);
    json_decref(r6);
    json_decref(r3);
    /* the last epoch's incentive favours uid 1 */
    CHECK_EQ_INT(cli(&n, out, sizeof out, "--json", "rewards_getEpoch", "7", NULL), 0);
    json_t *ep = json_loads(out, 0, NULL);
    json_t *inc = json_object_get(ep, "I");
    CHECK(json_is_array(inc) && json_array_size(inc) == 3);
    CHECK(json_integer_value(json_array_get(inc, 1)) > json_integer_value(json_array_get(inc, 2)));
    json_decref(ep);
    CHECK_EQ_INT(cli(&n, out, sizeof out, "neurons", "7", NULL), 0);
    CHECK(strstr(out, "INCENTIVE") && strstr(out, "VTRUST"));
    CHECK_EQ_INT(cli(&n, out, sizeof out, "emission", NULL), 0);
    CHECK(field_ll(out, "block_reward_base ") == 10000000000LL);
    CHECK(field_ll(out, "minted_base ") > 0);
    CHECK_EQ_INT(test_node_stop(&n, false), 0);
    const char *argv[] = { test_bin("basedd"), "--datadir", dd, "--verify", NULL };
    CHECK_EQ_INT(test_run(argv, out, sizeof out), 0);
    CHECK(strstr(out, "verify: ok") != NULL);
}
