/*
 * devnet_test.c: based-devnet (neurons/devnet.c) end to end on a real
 * node, with test-only stand-ins for based-validator and based-miner
 * (bash scripts in DATADIR/bin that print what the real programs would and
 * then sleep under their own name): the node comes up, Brain 7 is dev1's,
 * the validators are registered and staked, the board shows the scores of
 * the validators' --json lines, a miner that exits is reported and
 * restarted, SIGINT stops every child by PID; a second run continues the
 * chain without repeating the set-up, ignores a foreign PID file, and a
 * third run after a SIGKILL stops what the crashed run left behind (and a
 * second based-devnet on the same datadir refuses to start); in a fourth
 * the node is killed and based-devnet stops the rest and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/crypto.h"
#include "neurons/roundlog.h"
#include "tests/integration/proc.h"
#include "tests/runner.h"

#define MAXP 16

typedef struct {
    char dir[512], bin[600], out[600], run[600], cookie[600], devnet[600];
    int rpc_port, base_port, runs;
    pid_t pid;                 /* the based-devnet process */
    pid_t kids[MAXP];
    int nkids;
    test_node node;            /* url and cookie for test_rpc */
} dtest;

static const char validator_sh[] =
    "#!/bin/bash\n"
    "# test stand-in for based-validator: one --json round, then sleeps\n"
    "echo \"stand-in validator: $*\"\n"
    "echo 'a line that is not JSON {'\n"
    "case \" $* \" in\n"
    "*\" --key dev2 \"*) echo '{\"round\":3,\"height\":12,\"validator\":\"x\",\"vuid\":0,"
    "\"miners\":[{\"uid\":2,\"score\":0.875,\"smoothed\":0.5,\"gate\":\"ok\",\"kl\":0.001,"
    "\"agree\":1,\"latency_ms\":3,\"missed\":0}],\"weights\":[[2,65535]],\"posted\":\"commit\"}' ;;\n"
    "*) echo '{\"round\":4,\"height\":13,\"validator\":\"y\",\"vuid\":1,\"miners\":[{\"uid\":2,"
    "\"score\":0,\"smoothed\":0,\"gate\":\"timeout\",\"missed\":1}],\"weights\":[[2,0],[5,100]],"
    "\"posted\":\"reveal\"}' ;;\n"
    "esac\n"
    "exec -a \"$0\" sleep 600\n";

static const char miner_sh[] =
    "#!/bin/bash\n"
    "# test stand-in for based-miner: prime exits at once, the others sleep\n"
    "case \" $* \" in *\" --compress prime \"*) echo 'stand-in miner: prime exits'; exit 3 ;; esac\n"
    "echo \"stand-in miner: $*\"\n"
    "exec -a \"$0\" sleep 600\n";

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return chmod(path, mode);
}

/* The whole of a file, NUL-terminated (malloc'd; "" when missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1);
    size_t n = 0;
    for (int c; f && buf && (c = fgetc(f)) != EOF;) {
        char *nb = realloc(buf, n + 2);
        if (!nb)
            break;
        buf = nb;
        buf[n++] = (char)c;
        buf[n] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

static bool out_has(const dtest *t, const char *needle)
{
    char *s = slurp(t->out);
    bool ok = s && strstr(s, needle);
    free(s);
    return ok;
}

/* Waits up to secs for needle in the output while based-devnet runs. */
static bool wait_out(dtest *t, const char *needle, int secs)
{
    for (int i = 0; i < secs * 10; i++) {
        if (out_has(t, needle))
            return true;
        int st;
        if (t->pid > 0 && waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            return out_has(t, needle);
        }
        sleep_ms(100);
    }
    return false;
}

static bool proc_alive(pid_t pid)
{
    char path[64], buf[256] = "";
    if (kill(pid, 0) != 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[k] = '\0';
    const char *rp = strrchr(buf, ')');
    return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

/* The PIDs in DATADIR/run (the children), into t->kids; with_prime false
 * leaves out the miner that exits at once. */
static void read_kids(dtest *t, bool with_prime)
{
    static const char *const names[] = {
        "basedd", "validator-dev2", "validator-dev3", "miner-f32", "miner-q8_0",
        "miner-cerberus", "miner-q4_0", "miner-heads", "miner-prime" };
    t->nkids = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] - !with_prime; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s.pid", t->run, names[i]);
        char *s = slurp(path);
        long pid = s ? strtol(s, NULL, 10) : 0;
        free(s);
        if (pid > 1 && t->nkids < MAXP)
            t->kids[t->nkids++] = (pid_t)pid;
    }
}

static void start_devnet(dtest *t)
{
    char rpc[64], port[16];
    snprintf(rpc, sizeof rpc, "127.0.0.1:%d", t->rpc_port);
    snprintf(port, sizeof port, "%d", t->base_port);
    const char *argv[] = { t->devnet, "--datadir", t->dir, "--rpc-bind", rpc, "--base-port",
                           port, "--bin", t->bin, "--interval", "3", NULL };
    snprintf(t->out, sizeof t->out, "%s/devnet-%d.out", test_tmpdir(), ++t->runs);
    fflush(NULL);
    t->pid = fork();
    if (t->pid == 0) {
        int fd = open(t->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 1), dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

/* Signals based-devnet and waits (up to 60 s); its exit status or -1. */
static int stop_devnet(dtest *t, int sig)
{
    int st = 0;
    if (t->pid <= 0)
        return -1;
    kill(t->pid, sig);
    for (int i = 0; i < 600; i++, sleep_ms(100))
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
    kill(t->pid, SIGKILL);
    waitpid(t->pid, &st, 0);
    t->pid = 0;
    return -1;
}

/* Whatever a failed check left running. */
static void cleanup(dtest *t)
{
    if (t->pid > 0)
        stop_devnet(t, SIGINT);
    read_kids(t, true);
    for (int i = 0; i < t->nkids; i++)
        if (proc_alive(t->kids[i]))
            kill(t->kids[i], SIGKILL);
}

static bool setup_dirs(dtest *t)
{
    char path[700], *p;
    snprintf(t->dir, sizeof t->dir, "%s/devnet", test_tmpdir());
    snprintf(t->bin, sizeof t->bin, "%s/bin", t->dir);
    if (mkdir(t->dir, 0700) != 0 || mkdir(t->bin, 0700) != 0)
        return false;
    if (!(p = realpath(t->dir, NULL)))
        return false;
    snprintf(t->dir, sizeof t->dir, "%s", p);
    free(p);
    snprintf(t->bin, sizeof t->bin, "%s/bin", t->dir);
    snprintf(t->run, sizeof t->run, "%s/run", t->dir);
    snprintf(t->cookie, sizeof t->cookie, "%s/.cookie", t->dir);
    if (!(p = realpath(test_bin("based-devnet"), NULL)))
        return false;
    snprintf(t->devnet, sizeof t->devnet, "%s", p);
    free(p);
    if (!(p = realpath(test_bin("basedd"), NULL)))
        return false;
    snprintf(path, sizeof path, "%s/basedd", t->bin);
    bool ok = symlink(p, path) == 0;
    free(p);
    snprintf(path, sizeof path, "%s/based-validator", t->bin);
    ok = ok && write_file(path, validator_sh, 0755) == 0;
    snprintf(path, sizeof path, "%s/based-miner", t->bin);
    ok = ok && write_file(path, miner_sh, 0755) == 0;
    t->rpc_port = test_free_port();
    t->base_port = test_free_port();
    snprintf(t->node.url, sizeof t->node.url, "http://127.0.0.1:%d/", t->rpc_port);
    return ok && t->rpc_port > 0 && t->base_port > 0;
}

static void load_cookie(dtest *t)
{
    char *s = slurp(t->cookie);
    snprintf(t->node.cookie, sizeof t->node.cookie, "%s", s ? s : "");
    free(s);
}

static void dev_ss58(unsigned i, char out[CHAIN_ADDR_STRLEN])
{
    uint8_t sk[32];
    chain_addr a;
    chain_key_dev(i, sk);
    chain_key_pub(sk, &a);
    chain_ss58_encode(32323, &a, out);
}

/* The last board line of the f32 miner. */
static void f32_line(const dtest *t, char *line, size_t n)
{
    char *s = slurp(t->out), *p = s, *last = NULL;
    while (p && (p = strstr(p, "\nf32 ")))
        last = ++p;
    line[0] = '\0';
    if (last)
        snprintf(line, n, "%.*s", (int)strcspn(last, "\n"), last);
    free(s);
}

static uint64_t head_height(dtest *t)
{
    json_t *r = test_rpc_result(&t->node, "chain_getHead", NULL);
    uint64_t h = r ? (uint64_t)json_integer_value(json_object_get(r, "height")) : 0;
    json_decref(r);
    return h;
}

/* Brain 7 is dev1's; dev2 and dev3 are validators with 1000 BASED. */
static void check_chain(dtest *t)
{
    char d1[CHAIN_ADDR_STRLEN], v[2][CHAIN_ADDR_STRLEN];
    dev_ss58(1, d1);
    dev_ss58(2, v[0]);
    dev_ss58(3, v[1]);
    load_cookie(t);
    json_t *b = test_rpc_result(&t->node, "brain_get", json_pack("[i]", 7));
    CHECK(b != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(b, "owner")), d1);
    json_decref(b);
    json_t *nb = test_rpc_result(&t->node, "brain_getNeurons", json_pack("[i]", 7)), *x;
    CHECK(nb != NULL);
    int found = 0;
    size_t k;
    json_array_foreach(json_object_get(nb, "neurons"), k, x)
        for (int i = 0; i < 2; i++)
            if (!strcmp(json_string_value(json_object_get(x, "address")), v[i])) {
                CHECK_EQ_STR(json_string_value(json_object_get(x, "role")), "validator");
                CHECK_EQ_STR(json_string_value(json_object_get(x, "stake")), "1000");
                found++;
            }
    json_decref(nb);
    CHECK_EQ_INT(found, 2);
}

/* dev4 registers as a miner (uid 2): the board shows the stand-in
 * validators' scores for it. */
static void check_board(dtest *t)
{
    char line[512], url[64];
    char out[4096];
    snprintf(url, sizeof url, "%s", t->node.url);
    const char *argv[] = { test_bin("based-cli"), "--rpc", url, "--rpc-cookie", t->cookie,
                           "memorize", "--from", "dev4", "--brain", "7", "--role", "miner",
                           "--wait", NULL };
    CHECK_EQ_INT(test_run(argv, out, sizeof out), 0);
    for (int i = 0; i < 150; i++, sleep_ms(100)) {
        f32_line(t, line, sizeof line);
        if (strstr(line, "0.875 0.500 1.000") && strstr(line, "timeout"))
            break;
    }
    CHECK(strstr(line, "dev4  2 ") != NULL);
    CHECK(strstr(line, "0.875 0.500 1.000") != NULL);
    CHECK(strstr(line, "timeout       0.000") != NULL);
    CHECK(out_has(t, "validator-dev2   0     1000         3       12       commit"));
    CHECK(out_has(t, "validator-dev3   1     1000         4       13       reveal"));
}

static void check_gone(const dtest *t)
{
    for (int i = 0; i < t->nkids; i++)
        if (proc_alive(t->kids[i]))
            test_fail_(__FILE__, __LINE__, "PID %d still runs", (int)t->kids[i]);
}

/* Run 1: set-up, board, restart, SIGINT. */
static void run_first(dtest *t, uint64_t *height)
{
    start_devnet(t);
    CHECK(wait_out(t, "stop with Ctrl-C", 90));
    CHECK(out_has(t, "Brain 7 bought by burn by dev1"));
    CHECK(out_has(t, "registering dev2 as a validator"));
    CHECK(out_has(t, "dev3 stakes 1000 BASED on itself"));
    check_chain(t);
    check_board(t);
    CHECK(wait_out(t, "miner-prime (PID", 20));
    CHECK(out_has(t, "exited (exit 3), restart 1 of 3 in 5 s: see "));
    CHECK(out_has(t, "/logs/miner-prime.log"));
    CHECK(wait_out(t, "miner-prime restarted (PID", 20));
    read_kids(t, false);
    CHECK_EQ_INT(t->nkids, 8);
    for (int i = 0; i < t->nkids; i++)
        CHECK(proc_alive(t->kids[i]));
    *height = head_height(t);
    CHECK(*height > 0);
    CHECK_EQ_INT(stop_devnet(t, SIGINT), 0);
    check_gone(t);
    CHECK(out_has(t, "based-devnet: stopped;"));
    read_kids(t, true);
    CHECK_EQ_INT(t->nkids, 0);
}

/* Run 2: no set-up again, a foreign PID file ignored; then SIGKILL. */
static void run_second(dtest *t, uint64_t height, pid_t *node_pid)
{
    char path[700], mine[32];
    snprintf(path, sizeof path, "%s/miner-bogus.pid", t->run);
    snprintf(mine, sizeof mine, "%d\n", (int)getpid());
    CHECK_EQ_INT(write_file(path, mine, 0644), 0);
    start_devnet(t);
    CHECK(wait_out(t, "stop with Ctrl-C", 90));
    CHECK(out_has(t, "Brain 7 exists"));
    CHECK(!out_has(t, "registering"));
    CHECK(!out_has(t, "stakes 1000"));
    CHECK(access(path, F_OK) != 0);
    load_cookie(t);
    CHECK(head_height(t) >= height);
    check_chain(t);
    read_kids(t, true);
    CHECK(t->nkids >= 8);
    *node_pid = t->kids[0];
    CHECK_EQ_INT(stop_devnet(t, SIGKILL), -1);
    CHECK(proc_alive(*node_pid));
}

/* Run 3: the crashed run's processes are stopped; SIGINT stops the rest. */
static void run_third(dtest *t, pid_t node_pid)
{
    char want[700];
    pid_t old[MAXP];
    int nold = t->nkids;
    memcpy(old, t->kids, sizeof old);
    start_devnet(t);
    CHECK(wait_out(t, "stop with Ctrl-C", 90));
    snprintf(want, sizeof want, "stopping basedd (PID %d) left running by an earlier run",
             (int)node_pid);
    CHECK(out_has(t, want));
    for (int i = 0; i < nold; i++)
        CHECK(!proc_alive(old[i]));
    read_kids(t, true);
    CHECK(t->nkids >= 8);
    /* a second based-devnet on the same datadir refuses to start */
    char rpc[64], out[2048];
    snprintf(rpc, sizeof rpc, "127.0.0.1:%d", test_free_port());
    const char *argv[] = { t->devnet, "--datadir", t->dir, "--rpc-bind", rpc, "--bin", t->bin,
                           "--no-board", NULL };
    CHECK_EQ_INT(test_run(argv, out, sizeof out), 1);
    snprintf(want, sizeof want, "another based-devnet (PID %d) runs on %s", (int)t->pid, t->dir);
    CHECK(strstr(out, want) != NULL);
    CHECK_EQ_INT(stop_devnet(t, SIGTERM), 0);
    check_gone(t);
}

/* Run 4: the node dies: based-devnet stops the neurons and exits 1. */
static void run_fourth(dtest *t)
{
    start_devnet(t);
    CHECK(wait_out(t, "stop with Ctrl-C", 90));
    read_kids(t, true);
    CHECK(t->nkids >= 8);
    kill(t->kids[0], SIGKILL);
    for (int i = 0; i < 300 && t->pid > 0; i++, sleep_ms(100)) {
        int st;
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        }
    }
    CHECK_EQ_INT(t->pid, 0);
    CHECK(out_has(t, "the node exited: stopping the devnet"));
    check_gone(t);
}

TEST(devnet_setup_board_stop_restart)
{
    static dtest t;
    uint64_t height = 0;
    pid_t node_pid = 0;
    memset(&t, 0, sizeof t);
    CHECK(setup_dirs(&t));
    run_first(&t, &height);
    if (height > 0 && t.pid == 0)
        run_second(&t, height, &node_pid);
    if (node_pid > 0 && t.pid == 0)
        run_third(&t, node_pid);
    if (node_pid > 0 && t.pid == 0)
        run_fourth(&t);
    cleanup(&t);
    CHECK(node_pid > 0);
}

/* neurons/roundlog.c: the round lines the board reads, and what is not. */
TEST(devnet_round_lines_read_defensively)
{
    static neuron_round r;
    static const char ok[] =
        "{\"round\":7,\"height\":99,\"validator\":\"v\",\"vuid\":1,\"miners\":[{\"uid\":2,"
        "\"score\":0.75,\"smoothed\":0.5,\"gate\":\"ok\"},7,{\"uid\":-4,\"gate\":\"timeout\"},"
        "{\"uid\":3}],\"weights\":[[2,30000],[3,70000],[3,-1],[9,10000],[2],\"x\",[3,\"1\"]],"
        "\"posted\":\"commit\"}";
    CHECK(neuron_round_parse(ok, strlen(ok), &r));
    CHECK_EQ_INT(r.round, 7);
    CHECK_EQ_INT(r.height, 99);
    CHECK_EQ_INT(r.vuid, 1);
    CHECK_EQ_STR(r.posted, "commit");
    CHECK_EQ_U64(r.n, 3);                        /* the 7 is not a miner */
    CHECK_EQ_INT(r.m[0].uid, 2);
    CHECK(r.m[0].score == 0.75 && r.m[0].smoothed == 0.5);
    CHECK_EQ_STR(r.m[0].gate, "ok");
    CHECK_EQ_U64(r.m[0].weight, 30000);
    CHECK_EQ_INT(r.m[1].uid, -1);
    CHECK_EQ_STR(r.m[1].gate, "timeout");
    CHECK_EQ_INT(r.m[2].uid, 3);
    CHECK_EQ_STR(r.m[2].gate, "");
    CHECK_EQ_U64(r.m[2].weight, 0);              /* 70000, -1 and "1" are not weights */
    CHECK_EQ_U64(r.wsum, 40000);                 /* uid 9 counts in the sum only */
    static const char *const bad[] = { "", "not json", "[1,2]", "{\"height\":3}",
                                       "{\"round\":\"3\"}", "{\"round\":3.5}",
                                       "{\"round\":1} trailing", "{\"round\":1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!neuron_round_parse(bad[i], strlen(bad[i]), &r));
    /* many miners: the first NEURON_ROUND_MINERS kept */
    size_t cap = 64 + 40 * 400;
    char *big = malloc(cap), path[600];
    CHECK(big != NULL);
    size_t n = (size_t)snprintf(big, cap, "{\"round\":1,\"miners\":[");
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s{\"uid\":%d,\"score\":1}", i ? "," : "", i);
    n += (size_t)snprintf(big + n, cap - n, "]}");
    CHECK(neuron_round_parse(big, n, &r));
    CHECK_EQ_U64(r.n, NEURON_ROUND_MINERS);
    CHECK_EQ_INT(r.m[NEURON_ROUND_MINERS - 1].uid, NEURON_ROUND_MINERS - 1);
    free(big);
    /* the last round line of a log, among other lines */
    snprintf(path, sizeof path, "%s/v.log", test_tmpdir());
    CHECK(!neuron_round_last(path, &r));
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "starting\n{\"round\":1}\n  {\"round\":2,\"posted\":\"reveal\"}\n{\"round\":3\n"
               "round 4 scored\n[{\"round\":5}]\n");
    fclose(f);
    CHECK(neuron_round_last(path, &r));
    CHECK_EQ_INT(r.round, 2);
    CHECK_EQ_STR(r.posted, "reveal");
    /* a round line further back than the tail that is read is not found */
    f = fopen(path, "a");
    CHECK(f != NULL);
    for (int i = 0; i < NEURON_ROUND_TAIL / 32 + 1; i++)
        fprintf(f, "%031d\n", i);
    fclose(f);
    CHECK(!neuron_round_last(path, &r));
}
