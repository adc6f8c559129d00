/*
 * devnet_test.c: based-devnet (neurons/devnet.c) end to end with the real
 * programs: basedd, two based-validator and six based-miner processes
 * (f32, q8_0, cerberus, q4_0, heads, prime) on the shipped model, on a
 * temporary datadir and free ports, with a genesis of 500 ms blocks (the
 * shipped dev tempo 19 and weights_rate_limit 10).
 *
 * Run 1: the set-up (Brain 7 is dev1's, the validators registered and
 * staked), every miner registered and serving at its port, a miner killed
 * by PID (prime) is reported and restarted, both validators post rounds (--json
 * lines in their logs), the chain pays: the incentive and the BASED earned
 * of f32, q8_0 and cerberus are above q4_0's, prime gets under 1 % of the
 * miners' emission; the board (plain lines, stdout is no terminal) shows
 * each miner's score from each validator; SIGINT stops every child.
 * Run 2: the same chain, the same neurons and uids, no set-up again, the
 * validators' rounds continue from their saved state, a foreign PID file
 * is ignored, a miner started by hand (dev0) is scored and shown on the
 * board; then based-devnet is SIGKILLed. Run 3 stops what the crashed
 * run left running, and a second based-devnet on the same datadir refuses
 * to start. Run 4: the node is killed, based-devnet stops the rest, exit 1.
 *
 * Every wait is bounded and polls; a timeout names what was missing and
 * prints the end of based-devnet's output.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
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
#define NVAL 2
#define NMIN 6
#define BLOCK_MS 500
/* Waits are SLOW times longer under AddressSanitizer (make asan), where
 * the miners' start-up (the heads calibration) takes a minute or more. */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW 4
#endif
#endif
#ifndef SLOW
#define SLOW 1
#endif
#define PAY_WAIT_S (150 * SLOW)  /* the chain pays within this (about 40 s here) */

/* CHECK for the steps below, which return false on the first failure so
 * that the caller stops there. */
#define REQ(cond) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, "CHECK(%s) failed", #cond); return false; } } while (0)
#define REQ_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { test_fail_(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
        return false; } } while (0)
#define REQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { test_fail_(__FILE__, __LINE__, \
        "%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        return false; } } while (0)

enum { M_F32, M_Q8, M_CERB, M_Q4, M_HEADS, M_PRIME };
static const char *const methods[NMIN] = { "f32", "q8_0", "cerberus", "q4_0", "heads", "prime" };
static const char *const vnames[NVAL] = { "validator-dev2", "validator-dev3" };

typedef struct {
    char dir[512], out[600], run[600], cookie[600], devnet[600], genesis[600];
    int rpc_port, base_port, runs;
    pid_t pid;                 /* the based-devnet process */
    pid_t kids[MAXP];
    int nkids;
    test_node node;            /* url and cookie for test_rpc */
    char vaddr[NVAL][CHAIN_ADDR_STRLEN], maddr[NMIN][CHAIN_ADDR_STRLEN];
    unsigned port[NMIN];       /* each miner's port, from the banner */
    int uid[NVAL + NMIN];      /* run 1's uids: validators, then miners */
    int64_t last_round[NVAL];  /* each validator's last round in run 1 */
    uint64_t height;           /* the head when run 1 stopped */
    char block1[80];           /* the hash of block 1 */
    double paid_at;            /* when the chain was first seen paying the miners */
} dtest;

/* What the chain says about the miners. */
typedef struct {
    int uid[NMIN];
    char endpoint[NMIN][64];
    long incentive[NMIN];
    uint64_t earned[NMIN];     /* base units, as a miner */
} netview;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
    size_t n = 0, cap = 1;
    char chunk[8192];
    for (size_t k; f && buf && (k = fread(chunk, 1, sizeof chunk, f)) > 0;) {
        if (n + k + 1 > cap) {
            char *nb = realloc(buf, (cap = (n + k + 1) * 2));
            if (!nb)
                break;
            buf = nb;
        }
        memcpy(buf + n, chunk, k);
        buf[n += k] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

/* The last `bytes` of a file on stderr, for a failure's context. */
static void show_tail(const char *what, const char *path, size_t bytes)
{
    char *s = slurp(path);
    size_t n = s ? strlen(s) : 0;
    fprintf(stderr, "    --- the end of %s (%s):\n%s\n    ---\n", what, path,
            s ? s + (n > bytes ? n - bytes : 0) : "");
    free(s);
}

static bool out_has(const dtest *t, const char *needle)
{
    char *s = slurp(t->out);
    bool ok = s && strstr(s, needle);
    free(s);
    return ok;
}

/* Has based-devnet exited (collected, t->pid 0)? */
static bool devnet_exited(dtest *t)
{
    int st;
    if (t->pid > 0 && waitpid(t->pid, &st, WNOHANG) == t->pid)
        t->pid = 0;
    return t->pid == 0;
}

/* Waits up to secs for needle in the output while based-devnet runs. */
static bool wait_out(dtest *t, const char *needle, int secs)
{
    double until = mono_s() + secs;
    while (mono_s() < until) {
        if (out_has(t, needle))
            return true;
        if (devnet_exited(t))
            break;
        tsup_nap_ms(100);
    }
    if (out_has(t, needle))
        return true;
    fprintf(stderr, "    waited %d s for \"%s\" in based-devnet's output%s\n", secs, needle,
            t->pid ? "" : " (based-devnet exited)");
    show_tail("based-devnet's output", t->out, 3000);
    return false;
}

static bool proc_alive(pid_t pid)
{
    char path[64], buf[256] = "";
    if (pid <= 0 || kill(pid, 0) != 0)
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

static pid_t pid_of(const dtest *t, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.pid", t->run, name);
    char *s = slurp(path);
    long pid = s ? strtol(s, NULL, 10) : 0;
    free(s);
    return pid > 1 ? (pid_t)pid : 0;
}

/* based-devnet's name of child i: the node, the validators, the miners. */
static void proc_name(int i, char *name, size_t n)
{
    if (i == 0)
        snprintf(name, n, "basedd");
    else if (i <= NVAL)
        snprintf(name, n, "%s", vnames[i - 1]);
    else
        snprintf(name, n, "miner-%s", methods[i - 1 - NVAL]);
}

/* The PIDs in DATADIR/run (the children) into t->kids. */
static void read_kids(dtest *t)
{
    char name[64];
    t->nkids = 0;
    for (int i = 0; i < 1 + NVAL + NMIN; i++) {
        proc_name(i, name, sizeof name);
        pid_t pid = pid_of(t, name);
        if (pid && t->nkids < MAXP)
            t->kids[t->nkids++] = pid;
    }
}

static void start_devnet(dtest *t)
{
    char rpc[64], port[16];
    snprintf(rpc, sizeof rpc, "127.0.0.1:%d", t->rpc_port);
    snprintf(port, sizeof port, "%d", t->base_port);
    const char *argv[] = { t->devnet, "--datadir", t->dir, "--genesis", t->genesis, "--rpc-bind",
                           rpc, "--base-port", port, NULL };
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
    for (int i = 0; i < 600; i++, tsup_nap_ms(100))
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
    read_kids(t);
    for (int i = 0; i < t->nkids; i++)
        if (proc_alive(t->kids[i]))
            kill(t->kids[i], SIGKILL);
}

static void dev_ss58(unsigned i, char out[CHAIN_ADDR_STRLEN])
{
    uint8_t sk[32];
    chain_addr a;
    chain_key_dev(i, sk);
    chain_key_pub(sk, &a);
    chain_ss58_encode(32323, &a, out);
}

/* The shipped dev chain's parameters with 500 ms blocks. */
static bool write_genesis(dtest *t)
{
    char text[1024];
    snprintf(t->genesis, sizeof t->genesis, "%s/genesis.json", test_tmpdir());
    snprintf(text, sizeof text,
             "{\"chain_id\": \"based-devnet-test\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
             " \"ss58_prefix\": 32323, \"block_time_ms\": 10000, \"authorities\": [],\n"
             " \"params\": {\"tft_enabled\": 1},\n"
             " \"reserved_brains\": [0, 1, 2, 3, 4, 5, 6, 47],\n"
             " \"dev\": {\"block_time_ms\": %d, \"accounts\": 10, \"balance\": \"1000000\",\n"
             "         \"tempo\": 19, \"weights_rate_limit\": 10}}\n", BLOCK_MS);
    return write_file(t->genesis, text, 0644) == 0;
}

static bool setup_dirs(dtest *t)
{
    char *p;
    snprintf(t->dir, sizeof t->dir, "%s/devnet", test_tmpdir());
    if (mkdir(t->dir, 0700) != 0 || !(p = realpath(t->dir, NULL)))
        return false;
    snprintf(t->dir, sizeof t->dir, "%s", p);
    free(p);
    snprintf(t->run, sizeof t->run, "%s/run", t->dir);
    snprintf(t->cookie, sizeof t->cookie, "%s/.cookie", t->dir);
    if (!(p = realpath(test_bin("based-devnet"), NULL)))
        return false;
    snprintf(t->devnet, sizeof t->devnet, "%s", p);
    free(p);
    for (int i = 0; i < NVAL; i++)
        dev_ss58(2 + (unsigned)i, t->vaddr[i]);
    for (int i = 0; i < NMIN; i++)
        dev_ss58(2 + NVAL + (unsigned)i, t->maddr[i]);
    t->rpc_port = tsup_free_port();
    t->base_port = tsup_free_port();
    snprintf(t->node.url, sizeof t->node.url, "http://127.0.0.1:%d/", t->rpc_port);
    return write_genesis(t) && t->rpc_port > 0 && t->base_port > 0;
}

static void load_cookie(dtest *t)
{
    char *s = slurp(t->cookie);
    snprintf(t->node.cookie, sizeof t->node.cookie, "%s", s ? s : "");
    free(s);
}

/* Each miner's port from the banner ("miner-f32 PID n log ... port P"). */
static bool banner_ports(dtest *t)
{
    char *s = slurp(t->out);
    bool ok = s != NULL;
    for (int i = 0; ok && i < NMIN; i++) {
        char key[64];
        snprintf(key, sizeof key, "\n    miner-%s ", methods[i]);
        const char *p = strstr(s, key), *q = p ? strstr(p, "  port ") : NULL;
        const char *eol = p ? strchr(p + 1, '\n') : NULL;
        ok = q && eol && q < eol && sscanf(q, "  port %u", &t->port[i]) == 1;
    }
    free(s);
    return ok;
}

static uint64_t head_height(dtest *t)
{
    json_t *r = test_rpc_result(&t->node, "chain_getHead", NULL);
    uint64_t h = r ? (uint64_t)json_integer_value(json_object_get(r, "height")) : 0;
    json_decref(r);
    return h;
}

static void block1_hash(dtest *t, char *out, size_t n)
{
    json_t *r = test_rpc_result(&t->node, "chain_getBlock", json_pack("[i]", 1));
    const char *h = json_string_value(json_object_get(r, "hash"));
    snprintf(out, n, "%s", h ? h : "");
    json_decref(r);
}

static uint64_t amount_of(const char *s)
{
    uint64_t v = 0;
    const char *why;
    return s && chain_amount_parse(s, &v, &why) == BASED_E_OK ? v : 0;
}

/* BASED earned as a miner (base units), 0 when unknown. */
static uint64_t earned_of(dtest *t, const char *ss58)
{
    json_t *r = test_rpc_result(&t->node, "rewards_get", json_pack("[s]", ss58));
    const char *s = json_string_value(json_object_get(json_object_get(r, "total"), "miner_base"));
    uint64_t v = s ? strtoull(s, NULL, 10) : 0;
    json_decref(r);
    return v;
}

/* brain_getNeurons 7 and rewards_get for each miner. */
static bool read_net(dtest *t, netview *nv)
{
    json_t *r = test_rpc_result(&t->node, "brain_getNeurons", json_pack("[i]", 7)), *x;
    size_t k;
    memset(nv, 0, sizeof *nv);
    for (int i = 0; i < NMIN; i++)
        nv->uid[i] = -1;
    if (!r)
        return false;
    json_array_foreach(json_object_get(r, "neurons"), k, x) {
        const char *a = json_string_value(json_object_get(x, "address"));
        const char *ep = json_string_value(json_object_get(x, "endpoint"));
        for (int i = 0; a && i < NMIN; i++)
            if (!strcmp(a, t->maddr[i])) {
                nv->uid[i] = (int)json_integer_value(json_object_get(x, "uid"));
                nv->incentive[i] = (long)json_integer_value(json_object_get(x, "incentive"));
                snprintf(nv->endpoint[i], sizeof nv->endpoint[i], "%s", ep ? ep : "");
            }
    }
    json_decref(r);
    bool all = true;
    for (int i = 0; i < NMIN; i++) {
        nv->earned[i] = earned_of(t, t->maddr[i]);
        all = all && (i > M_Q4 || nv->earned[i] > 0);
    }
    if (all && !t->paid_at)
        t->paid_at = mono_s();
    return true;
}

/* Does every miner have a uid and serve at its port? */
static bool all_served(const dtest *t, const netview *nv, char *why, size_t n)
{
    for (int i = 0; i < NMIN; i++) {
        char want[64];
        snprintf(want, sizeof want, "127.0.0.1:%u", t->port[i]);
        if (nv->uid[i] < 0 || strcmp(nv->endpoint[i], want) != 0) {
            snprintf(why, n, "miner %s: uid %d, endpoint \"%s\" (want %s)", methods[i],
                     nv->uid[i], nv->endpoint[i], want);
            return false;
        }
    }
    return true;
}

/* The round lines of a validator's log (after its last start when
 * last_start): how many, the first and last round, any reveal posted. */
typedef struct {
    int n;
    int64_t first, last;
    bool revealed;
} rounds;

static void read_rounds(const dtest *t, int v, bool last_start, rounds *out)
{
    static neuron_round r;
    char path[700];
    snprintf(path, sizeof path, "%s/logs/%s.log", t->dir, vnames[v]);
    char *s = slurp(path), *p = s;
    memset(out, 0, sizeof *out);
    out->first = out->last = -1;
    for (char *m; last_start && p && (m = strstr(p, "=== ")); p = m + 4)
        ;
    while (p && *p) {
        size_t len = strcspn(p, "\n");
        if (*p == '{' && neuron_round_parse(p, len, &r)) {
            out->first = out->n++ ? out->first : r.round;
            out->last = r.round;
            out->revealed = out->revealed || strstr(r.posted, "reveal") != NULL;
        }
        p += len + (p[len] == '\n');
    }
    free(s);
}

/* The banner names every process's log, and each log is written. */
static bool banner_logs(dtest *t)
{
    for (int i = 0; i < 1 + NVAL + NMIN; i++) {
        char name[64], want[800];
        struct stat st;
        proc_name(i, name, sizeof name);
        snprintf(want, sizeof want, "log %s/logs/%s.log", t->dir, name);
        REQ(out_has(t, want));
        REQ(stat(strchr(want, '/'), &st) == 0 && st.st_size > 0);
    }
    return true;
}

/* ---------------- run 1 ---------------- */

/* Brain 7 is dev1's; dev2 and dev3 are validators staking >= 1000 BASED
 * (exactly 1000 before any dividends). */
static bool check_chain(dtest *t, bool exact)
{
    char d1[CHAIN_ADDR_STRLEN];
    dev_ss58(1, d1);
    load_cookie(t);
    json_t *b = test_rpc_result(&t->node, "brain_get", json_pack("[i]", 7));
    REQ(b != NULL);
    REQ_STR(json_string_value(json_object_get(b, "owner")), d1);
    json_decref(b);
    json_t *nb = test_rpc_result(&t->node, "brain_getNeurons", json_pack("[i]", 7)), *x;
    REQ(nb != NULL);
    int found = 0;
    size_t k;
    json_array_foreach(json_object_get(nb, "neurons"), k, x)
        for (int i = 0; i < NVAL; i++)
            if (!strcmp(json_string_value(json_object_get(x, "address")), t->vaddr[i])) {
                uint64_t st = amount_of(json_string_value(json_object_get(x, "stake")));
                REQ_STR(json_string_value(json_object_get(x, "role")), "validator");
                REQ(exact ? st == 1000ull * CHAIN_COIN : st >= 1000ull * CHAIN_COIN);
                found++;
            }
    json_decref(nb);
    REQ_EQ(found, NVAL);
    return true;
}

/* Polls until every miner serves (bounded). */
static bool wait_served(dtest *t, double t0)
{
    netview nv;
    char why[256] = "the node did not answer";
    while (mono_s() - t0 < 90 * SLOW) {
        if (read_net(t, &nv) && all_served(t, &nv, why, sizeof why))
            return true;
        if (devnet_exited(t))
            break;
        tsup_nap_ms(500);
    }
    show_tail("based-devnet's output", t->out, 3000);
    test_fail_(__FILE__, __LINE__, "after %.0f s not every miner serves: %s", mono_s() - t0, why);
    return false;
}

/* The prime miner (quick to start) killed by PID: reported, restarted,
 * serving again. */
static bool check_restart(dtest *t)
{
    char want[128], path[700];
    pid_t old = pid_of(t, "miner-prime");
    REQ(old > 0 && proc_alive(old));
    REQ_EQ(kill(old, SIGKILL), 0);
    snprintf(want, sizeof want, "miner-prime (PID %d) exited (signal 9), restart 1 of 3 in 5 s",
             (int)old);
    REQ(wait_out(t, want, 20 * SLOW));
    REQ(out_has(t, "/logs/miner-prime.log"));
    REQ(wait_out(t, "miner-prime restarted (PID ", 20 * SLOW));
    pid_t now = pid_of(t, "miner-prime");
    REQ(now > 0 && now != old && proc_alive(now));
    snprintf(path, sizeof path, "%s/logs/miner-prime.log", t->dir);
    bool serving = false;
    for (double until = mono_s() + 60 * SLOW; !serving && mono_s() < until; tsup_nap_ms(250)) {
        char *s = slurp(path), *p = s;
        for (char *m; p && (m = strstr(p, "\n=== ")); p = m + 1)   /* its last start */
            ;
        serving = p && strstr(p, "INFO  serving uid ");
        free(s);
    }
    if (!serving)
        show_tail("the prime miner's log", path, 2000);
    REQ(serving);
    return true;
}

static bool rounds_ok(const dtest *t, char *why, size_t n)
{
    for (int v = 0; v < NVAL; v++) {
        rounds r;
        read_rounds(t, v, false, &r);
        if (!r.revealed) {
            snprintf(why, n, "%s: %d round lines, none revealed weights", vnames[v], r.n);
            return false;
        }
    }
    return true;
}

static bool paid(const netview *nv, char *why, size_t n)
{
    for (int i = M_F32; i <= M_Q4; i++)
        if (!nv->earned[i]) {
            snprintf(why, n, "miner %s earned nothing yet", methods[i]);
            return false;
        }
    return true;
}

/* Polls until both validators revealed weights and the chain paid the
 * miners (bounded). */
static bool wait_paid(dtest *t, double t0, netview *nv)
{
    char why[256] = "the node did not answer";
    while (mono_s() - t0 < PAY_WAIT_S) {
        if (read_net(t, nv) && rounds_ok(t, why, sizeof why) && paid(nv, why, sizeof why))
            return true;
        if (devnet_exited(t))
            break;
        tsup_nap_ms(1000);
    }
    show_tail("based-devnet's output", t->out, 4000);
    test_fail_(__FILE__, __LINE__, "after %.0f s (height %" PRIu64 "): %s", mono_s() - t0,
               head_height(t), why);
    return false;
}

/* Paid by score: honest above q4_0 in incentive and BASED, prime ~0. */
static bool check_pay(const netview *nv)
{
    uint64_t total = 0;
    fprintf(stderr, "    paid (incentive u16, BASED earned):");
    for (int i = 0; i < NMIN; i++) {
        total += nv->earned[i];
        fprintf(stderr, " %s %ld %.3f", methods[i], nv->incentive[i], (double)nv->earned[i] / 1e9);
    }
    fprintf(stderr, "\n");
    for (int i = M_F32; i <= M_CERB; i++) {
        if (nv->incentive[i] <= nv->incentive[M_Q4] || nv->earned[i] <= nv->earned[M_Q4])
            fprintf(stderr, "    %s: incentive %ld, earned %" PRIu64 "; q4_0: %ld, %" PRIu64 "\n",
                    methods[i], nv->incentive[i], nv->earned[i], nv->incentive[M_Q4],
                    nv->earned[M_Q4]);
        REQ(nv->incentive[i] > nv->incentive[M_Q4]);
        REQ(nv->earned[i] > nv->earned[M_Q4]);
    }
    REQ(nv->earned[M_Q4] > 0);
    REQ(nv->earned[M_PRIME] * 100 < total);
    REQ(nv->incentive[M_PRIME] * 100 < 65535);
    return true;
}

/* One miner row of the last board: "METHOD devN UID PORT CELL CELL
 * INCENTIVE EARNED PID N", a CELL "score avg weight" or "gate weight". */
typedef struct {
    int uid;
    unsigned port;
    bool numeric[NVAL];
    double score[NVAL], smoothed[NVAL];
    char gate[NVAL][24], earned[32];
} brow;

static bool is_num(const char *s)
{
    return s && ((*s >= '0' && *s <= '9') || *s == '-') && strcmp(s, "-") != 0;
}

static bool parse_row(char *line, brow *b)
{
    char *save = NULL, *tok[24];
    int n = 0;
    for (char *w = strtok_r(line, " ", &save); w && n < 24; w = strtok_r(NULL, " ", &save))
        tok[n++] = w;
    if (n < 4 || sscanf(tok[2], "%d", &b->uid) != 1 || sscanf(tok[3], "%u", &b->port) != 1)
        return false;
    int k = 4;
    for (int v = 0; v < NVAL; v++) {
        if (k + 1 >= n || !strcmp(tok[k], "-"))
            return false;
        b->numeric[v] = is_num(tok[k]);
        if (b->numeric[v]) {
            b->score[v] = atof(tok[k]);
            b->smoothed[v] = atof(tok[k + 1]);
            k += 3;
        } else {
            snprintf(b->gate[v], sizeof b->gate[v], "%s", tok[k]);
            k += 2;
        }
    }
    if (k + 1 >= n)
        return false;
    snprintf(b->earned, sizeof b->earned, "%s", tok[k + 1]);
    return true;
}

/* The last board's text (malloc'd; NULL when there is none yet). */
static char *board_text(const dtest *t)
{
    char *s = slurp(t->out), *hdr = NULL;
    for (char *p = s; p && (p = strstr(p, "\nminer ")); p++)
        hdr = p;
    char *b = hdr ? strdup(hdr) : NULL;
    free(s);
    return b;
}

/* The row of board that starts with key. */
static bool find_row(const char *board, const char *key, brow *b)
{
    char want[80], line[512];
    snprintf(want, sizeof want, "\n%s", key);
    const char *p = board ? strstr(board, want) : NULL;
    if (!p)
        return false;
    snprintf(line, sizeof line, "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
    return parse_row(line, b);
}

/* The last board's row of every miner; false when one is missing. */
static bool last_board(const dtest *t, brow rows[NMIN])
{
    char *board = board_text(t), key[40];
    bool ok = board != NULL;
    for (int i = 0; ok && i < NMIN; i++) {
        snprintf(key, sizeof key, "%-18s dev", methods[i]);
        ok = find_row(board, key, &rows[i]);
    }
    free(board);
    return ok;
}

/* The board shows each miner's uid, port and the score each validator
 * gave it: honest ones scored, prime gated or ~0; the pay. */
static bool check_board(dtest *t, const netview *nv)
{
    brow rows[NMIN];
    bool ok = false;
    for (double until = mono_s() + 20 * SLOW; !ok && mono_s() < until; tsup_nap_ms(250))
        ok = last_board(t, rows) && amount_of(rows[M_Q4].earned) > 0;
    if (!ok)
        show_tail("based-devnet's output", t->out, 3000);
    REQ(ok);
    for (int i = 0; i < NMIN; i++) {
        REQ_EQ(rows[i].uid, nv->uid[i]);
        REQ_EQ(rows[i].port, t->port[i]);
        for (int v = 0; v < NVAL; v++) {
            if (i == M_PRIME)          /* restarted: may show a timeout */
                REQ(!rows[i].numeric[v] || rows[i].smoothed[v] < 0.05);
            else if (i != M_HEADS)     /* heads: present, its value not asserted */
                REQ(rows[i].numeric[v] && rows[i].smoothed[v] > 0.5);
        }
    }
    for (int i = M_F32; i <= M_CERB; i++)
        REQ(amount_of(rows[i].earned) > amount_of(rows[M_Q4].earned));
    REQ(amount_of(rows[M_PRIME].earned) == 0);
    REQ(out_has(t, "\nvalidator-dev2   0 "));
    REQ(out_has(t, "\nvalidator-dev3   1 "));
    return true;
}

static bool check_gone(const dtest *t)
{
    bool ok = true;
    for (int i = 0; i < t->nkids; i++)
        if (proc_alive(t->kids[i])) {
            test_fail_(__FILE__, __LINE__, "PID %d still runs", (int)t->kids[i]);
            ok = false;
        }
    return ok;
}

/* What run 2 must find again: uids, rounds, height, block 1. */
static void remember(dtest *t)
{
    json_t *r = test_rpc_result(&t->node, "brain_getNeurons", json_pack("[i]", 7)), *x;
    size_t k;
    for (int i = 0; i < NVAL + NMIN; i++)
        t->uid[i] = -1;
    json_array_foreach(json_object_get(r, "neurons"), k, x) {
        const char *a = json_string_value(json_object_get(x, "address"));
        for (int i = 0; a && i < NVAL + NMIN; i++)
            if (!strcmp(a, i < NVAL ? t->vaddr[i] : t->maddr[i - NVAL]))
                t->uid[i] = (int)json_integer_value(json_object_get(x, "uid"));
    }
    json_decref(r);
    t->height = head_height(t);
    block1_hash(t, t->block1, sizeof t->block1);
}

static bool run_first(dtest *t)
{
    netview nv;
    double t0 = mono_s();
    start_devnet(t);
    REQ(wait_out(t, "stop with Ctrl-C", 90));
    REQ(out_has(t, "Brain 7 bought by burn by dev1"));
    REQ(out_has(t, "registering dev2 as a validator"));
    REQ(out_has(t, "dev3 stakes 1000 BASED on itself"));
    REQ(banner_ports(t));
    if (!banner_logs(t))
        return false;
    if (!check_chain(t, true))
        return false;
    if (!wait_served(t, t0))
        return false;
    if (!check_restart(t))
        return false;
    if (!wait_paid(t, t0, &nv))
        return false;
    fprintf(stderr, "    the chain had paid the miners %.0f s after based-devnet started "
            "(polled every second)\n", t->paid_at - t0);
    if (!check_pay(&nv))
        return false;
    if (!check_board(t, &nv))
        return false;
    remember(t);
    read_kids(t);
    REQ_EQ(t->nkids, 1 + NVAL + NMIN);
    REQ_EQ(stop_devnet(t, SIGINT), 0);
    if (!check_gone(t))
        return false;
    REQ(out_has(t, "based-devnet: stopping 9 processes"));
    REQ(out_has(t, "based-devnet: stopped;"));
    read_kids(t);
    REQ_EQ(t->nkids, 0);
    for (int v = 0; v < NVAL; v++) {
        rounds r;
        read_rounds(t, v, false, &r);
        t->last_round[v] = r.last;
        REQ(r.last >= 1);
    }
    return true;
}

/* ---------------- run 2 ---------------- */

/* The same neurons with the same uids, nobody new. */
static bool check_same_neurons(dtest *t)
{
    int was[NVAL + NMIN];
    memcpy(was, t->uid, sizeof was);
    remember(t);
    for (int i = 0; i < NVAL + NMIN; i++) {
        REQ(was[i] >= 0);
        REQ_EQ(t->uid[i], was[i]);
    }
    json_t *r = test_rpc_result(&t->node, "brain_getNeurons", json_pack("[i]", 7));
    REQ_EQ(json_array_size(json_object_get(r, "neurons")), NVAL + NMIN);
    json_decref(r);
    return true;
}

/* Each validator's first round after the restart continues its state. */
static bool check_rounds_continue(dtest *t)
{
    rounds r[NVAL];
    double until = mono_s() + 60 * SLOW;
    bool ok = false;
    while (!ok && mono_s() < until && !devnet_exited(t)) {
        ok = true;
        for (int v = 0; v < NVAL; v++) {
            read_rounds(t, v, true, &r[v]);
            ok = ok && r[v].n > 0;
        }
        if (!ok)
            tsup_nap_ms(250);
    }
    for (int v = 0; v < NVAL && !ok; v++)
        if (!r[v].n)
            fprintf(stderr, "    %s posted no round in 60 s after the restart\n", vnames[v]);
    REQ(ok);
    for (int v = 0; v < NVAL; v++) {
        /* the counter is saved before a round's challenges leave: a round
         * cut short by the stop may have used one number */
        REQ(r[v].first > t->last_round[v]);
        REQ(r[v].first <= t->last_round[v] + 2);
    }
    return true;
}

/* A miner started by hand against the devnet (dev0, q8_0, as README and
 * docs/mining.md show) registers, is scored by both validators and shows
 * on the board as a miner "not started here"; SIGTERM stops it (exit 0). */
static bool check_own_miner(dtest *t)
{
    char listen[32], out[700], addr[CHAIN_ADDR_STRLEN], key[40], url[80];
    int port = tsup_free_port(), st = 0;
    dev_ss58(0, addr);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(url, sizeof url, "%s", t->node.url);
    snprintf(out, sizeof out, "%s/own-miner.out", test_tmpdir());
    const char *argv[] = { test_bin("based-miner"), "--node", url, "--rpc-cookie", t->cookie,
                           "--brain", "7", "--key", "dev0", "--compress", "q8_0", "--listen",
                           listen, NULL };
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 1), dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    REQ(pid > 0);
    snprintf(key, sizeof key, "%.6s..%.6s ", addr, addr + strlen(addr) - 6);
    brow b;
    bool ok = false, mine = false;
    for (double until = mono_s() + 60 * SLOW; !ok && mono_s() < until; tsup_nap_ms(250)) {
        char *board = board_text(t);
        const char *row = board ? strstr(board, key) : NULL;
        mine = row && strstr(row, "not started here") &&
               strstr(row, "not started here") < strchr(row, '\n');
        ok = mine && find_row(board, key, &b) && b.port == (unsigned)port && b.numeric[0] &&
             b.numeric[1] && b.score[0] > 0.5 && b.score[1] > 0.5;
        free(board);
    }
    if (!ok) {
        show_tail("the hand-started miner's output", out, 2000);
        show_tail("based-devnet's output", t->out, 3000);
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 200 && waitpid(pid, &st, WNOHANG) != pid; i++)
        tsup_nap_ms(50);
    if (waitpid(pid, &st, WNOHANG) == 0)
        kill(pid, SIGKILL), waitpid(pid, &st, 0);
    REQ(ok);
    REQ(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return true;
}

static bool run_second(dtest *t, pid_t *node_pid)
{
    char path[700], mine[32], b1[80];
    uint64_t was = t->height;
    snprintf(path, sizeof path, "%s/miner-bogus.pid", t->run);
    snprintf(mine, sizeof mine, "%d\n", (int)getpid());
    REQ_EQ(write_file(path, mine, 0644), 0);
    start_devnet(t);
    REQ(wait_out(t, "stop with Ctrl-C", 90));
    REQ(out_has(t, "Brain 7 exists"));
    REQ(!out_has(t, "registering"));
    REQ(!out_has(t, "stakes 1000"));
    REQ(access(path, F_OK) != 0);
    if (!check_chain(t, false))
        return false;
    block1_hash(t, b1, sizeof b1);
    REQ(b1[0] != '\0');
    REQ_STR(b1, t->block1);
    REQ(head_height(t) >= was);
    if (!check_same_neurons(t))
        return false;
    if (!check_rounds_continue(t) || !check_own_miner(t))
        return false;
    read_kids(t);
    REQ_EQ(t->nkids, 1 + NVAL + NMIN);
    *node_pid = t->kids[0];
    REQ_EQ(stop_devnet(t, SIGKILL), -1);
    REQ(proc_alive(*node_pid));
    return true;
}

/* ---------------- runs 3 and 4 ---------------- */

/* The crashed run's processes are stopped; SIGTERM stops the rest. */
static bool run_third(dtest *t, pid_t node_pid)
{
    char want[700];
    pid_t old[MAXP];
    int nold = t->nkids;
    memcpy(old, t->kids, sizeof old);
    start_devnet(t);
    REQ(wait_out(t, "stop with Ctrl-C", 90));
    snprintf(want, sizeof want, "stopping basedd (PID %d) left running by an earlier run",
             (int)node_pid);
    REQ(out_has(t, want));
    REQ(out_has(t, "stopping based-miner (PID "));
    REQ(out_has(t, "stopping based-validator (PID "));
    for (int i = 0; i < nold; i++)
        REQ(!proc_alive(old[i]));
    read_kids(t);
    REQ_EQ(t->nkids, 1 + NVAL + NMIN);
    /* a second based-devnet on the same datadir refuses to start */
    char rpc[64], out[2048];
    snprintf(rpc, sizeof rpc, "127.0.0.1:%d", tsup_free_port());
    const char *argv[] = { t->devnet, "--datadir", t->dir, "--rpc-bind", rpc, "--no-board", NULL };
    REQ_EQ(test_run(argv, out, sizeof out), 1);
    snprintf(want, sizeof want, "another based-devnet (PID %d) runs on %s", (int)t->pid, t->dir);
    REQ(strstr(out, want) != NULL);
    REQ_EQ(stop_devnet(t, SIGTERM), 0);
    if (!check_gone(t))
        return false;
    return true;
}

/* The node dies: based-devnet stops the neurons and exits 1. */
static bool run_fourth(dtest *t)
{
    start_devnet(t);
    REQ(wait_out(t, "stop with Ctrl-C", 90));
    read_kids(t);
    REQ_EQ(t->nkids, 1 + NVAL + NMIN);
    kill(t->kids[0], SIGKILL);
    for (int i = 0; i < 600 && t->pid > 0; i++, tsup_nap_ms(100)) {
        int st;
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            REQ(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        }
    }
    REQ_EQ(t->pid, 0);
    REQ(out_has(t, "the node exited: stopping the devnet"));
    if (!check_gone(t))
        return false;
    return true;
}

TEST(devnet_real_network_pays_stops_continues)
{
    static dtest t;
    pid_t node_pid = 0;
    memset(&t, 0, sizeof t);
    CHECK(setup_dirs(&t));
    bool ok = run_first(&t) && run_second(&t, &node_pid) && run_third(&t, node_pid) &&
              run_fourth(&t);
    cleanup(&t);
    CHECK(ok);
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
