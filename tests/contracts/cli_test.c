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
