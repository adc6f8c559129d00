/*
 * devnet.c: based-devnet, what `make devnet` runs: a whole BasedAI network
 * on this machine in one command.
 *
 *   based-devnet [--datadir DIR] [--genesis FILE] [--rpc-bind ADDR:PORT]
 *                [--interval N] [--miners LIST] [--validators N]
 *                [--base-port P] [--model FILE] [--bin DIR] [--no-board]
 *
 * 1. Starts `basedd --dev` on DIR (default ~/.based/dev) and waits for its
 *    RPC (a fresh cookie in DIR/.cookie that the node accepts).
 * 2. Sets the chain up with signed transactions, each step skipped when it
 *    is already done (so a second run continues the same chain): Brain 7
 *    bought by burn by dev1; the validators dev2.. registered on it
 *    ("memorize"; their program would do it too) and each staking
 *    DEVNET_STAKE BASED on itself.
 * 3. Starts each neuron as its own process: the validators, then the miners
 *    (dev accounts after the validators', one compression method each, on
 *    free ports from --base-port). Every process writes stdout and stderr
 *    to DIR/logs/NAME.log and has its PID in DIR/run/NAME.pid.
 * 4. Prints the banner (RPC, cookie, the dev accounts, every process with
 *    its PID and log) and a board redrawn every 2 s: height, the Brain's
 *    window and next epoch, each validator's last round (from the JSON
 *    lines its --json prints into its log), and per miner the score, the
 *    smoothed score and the weight each validator gave it, its on-chain
 *    incentive and the BASED it earned (brain_getNeurons, rewards_get);
 *    miners of the Brain started elsewhere (by hand) get rows of their own.
 *    With stdout not a terminal the board is plain lines every 5 s.
 * A neuron that exits is shown on the board with its log and restarted
 * after DEVNET_RESTART_DELAY_MS, at most DEVNET_RESTARTS times; a node that
 * exits stops the devnet (exit 1). SIGINT/SIGTERM/SIGHUP stop every child
 * by its PID (SIGTERM, then SIGKILL after a timeout; the neurons first, the
 * node last), remove the PID files and exit 0. PID files left by a crashed
 * run are acted on only when /proc/PID/cmdline shows one of our programs
 * with an argument in DIR; otherwise they are removed and ignored.
 * Children run in their own process groups, so a Ctrl-C in the terminal
 * reaches this program only and the stop order is ours.
 *
 * The children are neuron_procs (devproc.h); the validators' round lines
 * are read with roundlog.h; the command line is devnet_opts.c, the board
 * devnet_board.c (devnet_int.h). Only "the neurons" below (add_validator,
 * add_miner) know the neuron programs' names and flags.
 *
 * Exit status: 0 stopped by a signal, 1 runtime failure, 2 usage error.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain/crypto.h"
#include "cli/rpcclient.h"
#include "neurons/client.h"
#include "neurons/devproc.h"
#include "neurons/roundlog.h"
#include "chain/base.h"
#include "neurons/devnet_int.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

/* ---------------- small helpers ---------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int dn_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("based-devnet: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* An event for the board (printed at once when the board is plain). */
static void event(devnet *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(devnet *d, const char *fmt, ...)
{
    char line[sizeof d->events[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!d->tty || !d->o.board) {
        printf("based-devnet: %s\n", line);
        fflush(stdout);
    }
    if (d->nevents == DN_EVENTS) {
        memmove(d->events[0], d->events[1], sizeof d->events[0] * (DN_EVENTS - 1));
        d->nevents--;
    }
    snprintf(d->events[d->nevents++], sizeof d->events[0], "%s", line);
}

bool dn_path_fmt(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return k >= 0 && (size_t)k < n;
}

bool dn_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int dn_mkdirs(const char *path)
{
    char tmp[DN_PATH];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(tmp, 0700) != 0 && errno != EEXIST) ? -1 : 0;
}

static void read_small(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t k = fd >= 0 ? read(fd, out, n - 1) : 0;
    if (fd >= 0)
        close(fd);
    out[k > 0 ? k : 0] = '\0';
}

void dn_stamp(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Can a server listen on 127.0.0.1:port (SO_REUSEADDR, as libuv does)? */
static bool port_free(unsigned port)
{
    struct sockaddr_in a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;
    if (fd < 0)
        return false;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* ---------------- PID files ---------------- */

static const char *const our_progs[] = { "basedd", "based-miner", "based-validator",
                                         "based-devnet", NULL };

/* The PID files of an earlier run: a live based-devnet on this datadir
 * stops us; other live programs of ours are stopped, the neurons before
 * the node; the other files are removed and otherwise ignored. */
typedef struct {
    char path[DN_PATH + 300];
    pid_t pid;
    char what[64];
} stale;

static int clean_stale(devnet *d, const char *rundir)
{
    static stale s[64];
    int n = 0;
    DIR *dir = opendir(rundir);
    struct dirent *e;
    while (dir && (e = readdir(dir)) && n < (int)BASED_ARRAY_LEN(s)) {
        size_t l = strlen(e->d_name);
        stale *x = &s[n];
        if (l < 5 || strcmp(e->d_name + l - 4, ".pid") != 0 ||
            !dn_path_fmt(x->path, sizeof x->path, "%s/%s", rundir, e->d_name))
            continue;
        x->pid = neuron_proc_pidfile_read(x->path);
        if (x->pid > 0 && x->pid != getpid() && neuron_proc_alive(x->pid) &&
            neuron_proc_ours(x->pid, d->o.datadir, our_progs, x->what, sizeof x->what))
            n++;
        else
            unlink(x->path);
    }
    if (dir)
        closedir(dir);
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].what, "based-devnet"))
            return dn_fail("another based-devnet (PID %d) runs on %s: stop it first (Ctrl-C in "
                        "its terminal, or kill %d)", (int)s[i].pid, d->o.datadir, (int)s[i].pid);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            if ((pass == 1) != !strcmp(s[i].what, "basedd"))
                continue;
            printf("based-devnet: stopping %s (PID %d) left running by an earlier run (%s)\n",
                   s[i].what, (int)s[i].pid, s[i].path);
            fflush(stdout);
            neuron_proc_kill(s[i].pid, 5000);
            unlink(s[i].path);
        }
    return 0;
}

/* ---------------- children ---------------- */

static child *new_child(devnet *d, ckind kind, const char *name, const char *prog)
{
    child *c = &d->ch[d->nch++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->dev = -1;
    neuron_proc_init(&c->p, name, d->o.bindir, prog, d->o.datadir);
    return c;
}

static void add_arg(child *c, const char *a)
{
    if (!neuron_proc_arg(&c->p, a))
        c->p.missing = true;             /* cannot happen: the sizes are this file's */
}

static int spawn(devnet *d, child *c)
{
    char err[NEURON_PROC_ERR];
    if (neuron_proc_start(&c->p, err) != BASED_E_OK)
        return dn_fail("%s", err);
    if (err[0])
        event(d, "%s", err);
    c->restart_at = 0;
    return 0;
}

static void on_exit_of(devnet *d, child *c)
{
    char how[32];
    neuron_proc_describe(c->p.status, how, sizeof how);
    if (c->kind == C_NODE) {
        event(d, "%s (PID %d) exited (%s): see %s", c->p.name, (int)c->p.last_pid, how,
              c->p.log);
    } else if (c->restarts < DEVNET_RESTARTS) {
        c->restart_at = now_ms() + DEVNET_RESTART_DELAY_MS;
        event(d, "%s (PID %d) exited (%s), restart %d of %d in %d s: see %s", c->p.name,
              (int)c->p.last_pid, how, c->restarts + 1, DEVNET_RESTARTS,
              DEVNET_RESTART_DELAY_MS / 1000, c->p.log);
    } else {
        c->gave_up = true;
        event(d, "%s (PID %d) exited (%s) after %d restarts, left down: see %s", c->p.name,
              (int)c->p.last_pid, how, DEVNET_RESTARTS, c->p.log);
    }
}

/* Collects exited children; schedules restarts of neurons. Returns true
 * when the node is among them. */
static bool reap(devnet *d)
{
    neuron_proc *ps[DN_MAX_CHILDREN], *p;
    bool node_died = false;
    for (int i = 0; i < d->nch; i++)
        ps[i] = &d->ch[i].p;
    while ((p = neuron_proc_reap(ps, (size_t)d->nch)))
        for (int i = 0; i < d->nch; i++)
            if (ps[i] == p) {
                on_exit_of(d, &d->ch[i]);
                node_died = node_died || d->ch[i].kind == C_NODE;
            }
    return node_died;
}

static void restart_due(devnet *d)
{
    uint64_t t = now_ms();
    for (int i = 0; i < d->nch; i++) {
        child *c = &d->ch[i];
        if (c->p.pid || !c->restart_at || t < c->restart_at)
            continue;
        c->restarts++;
        if (spawn(d, c) == 0)
            event(d, "%s restarted (PID %d)", c->p.name, (int)c->p.pid);
        else
            c->restart_at = 0, c->gave_up = true;
    }
}

/* The neurons together, then the node. */
static void stop_all(devnet *d)
{
    neuron_proc *ps[DN_MAX_CHILDREN];
    size_t n = 0, running = 0;
    for (int i = 0; i < d->nch; i++) {
        d->ch[i].restart_at = 0;
        running += d->ch[i].p.pid != 0;
        if (d->ch[i].kind != C_NODE)
            ps[n++] = &d->ch[i].p;
    }
    if (running)
        printf("based-devnet: stopping %zu process%s\n", running, running == 1 ? "" : "es");
    fflush(stdout);
    neuron_proc_stop(ps, n, 10000, stdout);
    ps[0] = &d->ch[0].p;
    if (d->nch)
        neuron_proc_stop(ps, 1, 20000, stdout);
}

/* ---------------- RPC and transactions ---------------- */

/* params stolen; *res a new reference on success; the error in d->err. */
based_err dn_rpc(devnet *d, const char *method, json_t *params, json_t **res)
{
    return neuron_call(d->nc, method, params, res, d->err);
}

int64_t dn_jint(json_t *o, const char *k, int64_t def)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

const char *dn_jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Signs and sends kind with JSON payload pj (stolen) from dev account i. */
static based_err send_tx(devnet *d, int i, const char *kind, json_t *pj, chain_hash *hash)
{
    char m[CLI_ERR_LEN];
    based_err rc = neuron_send(d->nc, &d->dev[i], kind, pj, DEVNET_FEE, hash, NULL, m);
    if (rc != BASED_E_OK)
        cli_fail(d->err, rc, "%s from dev%d: %.400s", kind, i, m);
    return rc;
}

/* Waits until every tx in hashes is in a block. */
static based_err wait_txs(devnet *d, const chain_hash *hashes, int n, const char *what)
{
    char m[CLI_ERR_LEN];
    for (int i = 0; i < n && !g_stop; i++) {
        based_err rc = neuron_wait_tx(d->nc, &hashes[i], 60000, NULL, m);
        if (rc != BASED_E_OK)
            return cli_fail(d->err, rc, "%s: %.400s (see %s)", what, m, d->ch[0].p.log);
    }
    return BASED_E_OK;
}

/* ---------------- node and setup ---------------- */

static int dev_accounts(devnet *d)
{
    uint16_t prefix = neuron_client_info(d->nc)->ss58_prefix;
    for (int i = 0; i < DN_NDEV; i++) {
        char name[8];
        snprintf(name, sizeof name, "dev%d", i);
        neuron_key_release(&d->dev[i]);
        if (neuron_key_load(name, NULL, NULL, prefix, &d->dev[i], d->err) != BASED_E_OK)
            return dn_fail("%s", d->err);
    }
    return 0;
}

static int start_node(devnet *d)
{
    child *c = new_child(d, C_NODE, "basedd", "basedd");
    if (c->p.missing)
        return dn_fail("%s is not built (run make)", c->p.prog);
    add_arg(c, "--dev");
    add_arg(c, "--datadir");
    add_arg(c, d->o.datadir);
    add_arg(c, "--rpc-bind");
    add_arg(c, d->o.rpc_bind);
    if (d->o.genesis[0]) {
        add_arg(c, "--genesis");
        add_arg(c, d->o.genesis);
    }
    return spawn(d, c);
}

/* Prints the last lines of a log (the node's, when it failed). */
static void show_tail(const char *path)
{
    char buf[2048];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = '\0';
    fprintf(stderr, "--- the end of %s:\n%s---\n", path, buf);
}

/* Waits for a cookie other than the stale one and an answering RPC. */
static int wait_node(devnet *d)
{
    char old[256], cur[256];
    read_small(d->cookie, old, sizeof old);
    for (int t = 0; t < 600 && !g_stop; t++, sleep_ms(100)) {
        if (reap(d))
            return show_tail(d->ch[0].p.log), dn_fail("basedd exited during start-up");
        read_small(d->cookie, cur, sizeof cur);
        if (!cur[0] || !strcmp(cur, old))
            continue;
        neuron_client_free(d->nc);
        d->nc = NULL;
        if (neuron_client_new(d->url, d->cookie, 0, &d->nc, d->err) != BASED_E_OK)
            continue;
        const neuron_chain_info *ci = neuron_client_info(d->nc);
        snprintf(d->chain_id, sizeof d->chain_id, "%s", ci->chain_id);
        if (!ci->dev)
            return dn_fail("the node at %s is not a dev chain", d->url);
        return dev_accounts(d);
    }
    if (g_stop)
        return 0;
    show_tail(d->ch[0].p.log);
    return dn_fail("basedd did not answer at %s in 60 s", d->url);
}

/* Brain DEVNET_BRAIN: exists (any owner), or bought by burn by dev1. */
static int setup_brain(devnet *d)
{
    json_t *o;
    chain_hash h[1];
    based_err rc = dn_rpc(d, "brain_get", json_pack("[i]", DEVNET_BRAIN), &o);
    if (rc == BASED_E_OK) {
        bool mine = !strcmp(dn_jstr(o, "owner"), d->dev[DN_OWNER].ss58);
        printf("based-devnet: Brain %d exists (owner %s%s)\n", DEVNET_BRAIN, dn_jstr(o, "owner"),
               mine ? ", dev1" : "");
        json_decref(o);
        return 0;
    }
    if (rc != BASED_E_NOT_FOUND)
        return dn_fail("%s", d->err);
    json_t *pj = json_pack("{s:s}", "method", "burn");
    if (send_tx(d, DN_OWNER, "brain_buy", pj, &h[0]) != BASED_E_OK ||
        wait_txs(d, h, 1, "brain_buy") != BASED_E_OK)
        return dn_fail("%s", d->err);
    if (g_stop)
        return 0;
    if (dn_rpc(d, "brain_get", json_pack("[i]", DEVNET_BRAIN), &o) != BASED_E_OK)
        return dn_fail("dev1 bought a Brain by burn, but not Brain %d (another Brain was bought "
                    "first on this chain?): %s", DEVNET_BRAIN, d->err);
    json_decref(o);
    printf("based-devnet: Brain %d bought by burn by dev1\n", DEVNET_BRAIN);
    return 0;
}

/* The role of dev account i on the Brain ("" when not registered). */
static void role_of(json_t *neurons, const char *ss58, char *role, size_t n)
{
    size_t k;
    json_t *x;
    role[0] = '\0';
    json_array_foreach(json_object_get(neurons, "neurons"), k, x)
        if (!strcmp(dn_jstr(x, "address"), ss58))
            snprintf(role, n, "%s", dn_jstr(x, "role"));
}

/* The validators registered (memorize) if they are not. */
static int setup_validators(devnet *d)
{
    json_t *nb;
    chain_hash h[DN_NDEV];
    int n = 0;
    if (dn_rpc(d, "brain_getNeurons", json_pack("[i]", DEVNET_BRAIN), &nb) != BASED_E_OK)
        return dn_fail("%s", d->err);
    for (int v = 0; v < d->o.nvalidators; v++) {
        int i = DN_FIRST_NEURON + v;
        char role[32];
        role_of(nb, d->dev[i].ss58, role, sizeof role);
        if (!strcmp(role, "validator"))
            continue;
        if (role[0]) {
            json_decref(nb);
            return dn_fail("dev%d is registered on Brain %d as a %s, not a validator: use another "
                        "--datadir (or rm -rf %s)", i, DEVNET_BRAIN, role, d->o.datadir);
        }
        if (send_tx(d, i, "memorize", json_pack("{s:i,s:s}", "brain", DEVNET_BRAIN, "role",
                                                "validator"), &h[n]) != BASED_E_OK) {
            json_decref(nb);
            return dn_fail("%s", d->err);
        }
        printf("based-devnet: registering dev%d as a validator of Brain %d\n", i, DEVNET_BRAIN);
        n++;
    }
    json_decref(nb);
    if (n && wait_txs(d, h, n, "memorize") != BASED_E_OK)
        return dn_fail("%s", d->err);
    return 0;
}

/* What dev account i has staked on itself on the Brain's current instance. */
static based_err self_stake(devnet *d, int i, int64_t instance, uint64_t *amount)
{
    json_t *o, *x;
    size_t k;
    *amount = 0;
    based_err rc = dn_rpc(d, "account_get", json_pack("[s]", d->dev[i].ss58), &o);
    if (rc != BASED_E_OK)
        return rc;
    json_array_foreach(json_object_get(o, "stakes"), k, x) {
        uint64_t a;
        const char *why;
        if (dn_jint(x, "brain", -1) == DEVNET_BRAIN && dn_jint(x, "instance", -1) == instance &&
            !strcmp(dn_jstr(x, "hotkey"), d->dev[i].ss58) &&
            chain_amount_parse(dn_jstr(x, "amount"), &a, &why) == BASED_E_OK)
            *amount += a;
    }
    json_decref(o);
    return BASED_E_OK;
}

/* Each validator's own stake topped up to DEVNET_STAKE. */
static int setup_stake(devnet *d)
{
    json_t *o;
    chain_hash h[DN_NDEV];
    int n = 0;
    if (dn_rpc(d, "brain_get", json_pack("[i]", DEVNET_BRAIN), &o) != BASED_E_OK)
        return dn_fail("%s", d->err);
    int64_t instance = dn_jint(o, "instance", -1);
    json_decref(o);
    for (int v = 0; v < d->o.nvalidators; v++) {
        int i = DN_FIRST_NEURON + v;
        uint64_t have;
        char amt[32];
        if (self_stake(d, i, instance, &have) != BASED_E_OK)
            return dn_fail("%s", d->err);
        if (have >= DEVNET_STAKE)
            continue;
        chain_amount_format(DEVNET_STAKE - have, amt);
        if (send_tx(d, i, "stake", json_pack("{s:i,s:s,s:s}", "brain", DEVNET_BRAIN, "hotkey",
                                             d->dev[i].ss58, "amount", amt), &h[n]) != BASED_E_OK)
            return dn_fail("%s", d->err);
        printf("based-devnet: dev%d stakes %s BASED on itself\n", i, amt);
        n++;
    }
    if (n && wait_txs(d, h, n, "stake") != BASED_E_OK)
        return dn_fail("%s", d->err);
    return 0;
}

/* ---------------- the neurons (the only place naming their programs) ---------------- */

static void add_common(devnet *d, child *c, int dev)
{
    char brain[16], key[16];
    snprintf(brain, sizeof brain, "%d", DEVNET_BRAIN);
    snprintf(key, sizeof key, "dev%d", dev);
    c->dev = dev;
    add_arg(c, "--node");
    add_arg(c, d->url);
    add_arg(c, "--rpc-cookie");
    add_arg(c, d->cookie);
    add_arg(c, "--brain");
    add_arg(c, brain);
    add_arg(c, "--key");
    add_arg(c, key);
    add_arg(c, "--model");
    add_arg(c, d->o.model);
}

static void add_validator(devnet *d, int dev)
{
    char name[32], interval[16], state[DN_PATH];
    snprintf(name, sizeof name, "validator-dev%d", dev);
    child *c = new_child(d, C_VALIDATOR, name, "based-validator");
    add_common(d, c, dev);
    snprintf(interval, sizeof interval, "%u", d->o.interval);
    add_arg(c, "--interval");
    add_arg(c, interval);
    add_arg(c, "--json");
    if (!dn_path_fmt(state, sizeof state, "%s/validator-dev%d.state", d->o.datadir, dev))
        c->p.missing = true;
    add_arg(c, "--state");
    add_arg(c, state);
}

/* A file-name form of a method ("q4_0", "heads:0.5" -> "heads_0.5"). */
static void method_name(const char *m, char *out, size_t n)
{
    snprintf(out, n, "%s", m);
    for (char *p = out; *p; p++)
        if (*p == ':' || *p == '=' || *p == ',')
            *p = '_';
}

static bool port_taken(const devnet *d, unsigned port)
{
    for (int i = 0; i < d->nch; i++)
        if (d->ch[i].kind == C_MINER && d->ch[i].port == port)
            return true;
    return false;
}

static void add_miner(devnet *d, int dev, const char *method, unsigned *next_port)
{
    char name[64], mn[48], listen[32];
    method_name(method, mn, sizeof mn);
    snprintf(name, sizeof name, "miner-%.40s", mn);
    for (int i = 0; i < d->nch; i++)
        if (!strcmp(d->ch[i].p.name, name))
            snprintf(name, sizeof name, "miner-%.40s-dev%d", mn, dev);
    unsigned want = *next_port, port = want;
    while (port < 65535 && (port_taken(d, port) || !port_free(port)))
        port++;
    if (port != want)
        printf("based-devnet: port %u is busy: miner %s listens on %u instead\n", want, method,
               port);
    *next_port = port + 1;
    child *c = new_child(d, C_MINER, name, "based-miner");
    snprintf(c->method, sizeof c->method, "%s", method);
    c->port = port;
    add_common(d, c, dev);
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    add_arg(c, "--compress");
    add_arg(c, method);
    add_arg(c, "--listen");
    add_arg(c, listen);
}

static int start_neurons(devnet *d)
{
    unsigned port = d->o.base_port;
    int dev = DN_FIRST_NEURON;
    for (int v = 0; v < d->o.nvalidators; v++)
        add_validator(d, dev++);
    for (int m = 0; m < d->o.nminers; m++)
        add_miner(d, dev++, d->o.methods[m], &port);
    for (int i = 1; i < d->nch; i++) {
        child *c = &d->ch[i];
        if (c->p.missing)
            event(d, "%s: %s is not built, not started", c->p.name, c->p.prog);
        else if (spawn(d, c) != 0)
            return 1;
    }
    return 0;
}

/* ---------------- banner ---------------- */

static const char *role_label(const devnet *d, int i, char *buf, size_t n)
{
    if (i == 0)
        return "the authority's fee account";
    if (i == DN_OWNER) {
        snprintf(buf, n, "owns Brain %d", DEVNET_BRAIN);
        return buf;
    }
    for (int k = 1; k < d->nch; k++)
        if (d->ch[k].dev == i) {
            snprintf(buf, n, "%s", d->ch[k].p.name);
            return buf;
        }
    return "";
}

static void banner(devnet *d)
{
    json_t *o = NULL;
    uint64_t height = 0;
    if (dn_rpc(d, "chain_getHead", NULL, &o) == BASED_E_OK)
        height = (uint64_t)dn_jint(o, "height", 0);
    json_decref(o);
    printf("\nbased-devnet %s  chain %s  height %" PRIu64 "  Brain %d\n", BASED_VERSION,
           d->chain_id, height, DEVNET_BRAIN);
    printf("  data dir   %s\n  RPC        %s\n  cookie     %s\n", d->o.datadir, d->url, d->cookie);
    printf("  try        bin/based-cli --rpc %s --rpc-cookie %s neurons %d\n", d->url, d->cookie,
           DEVNET_BRAIN);
    printf("  dev accounts (PUBLIC dev keys, for dev networks only; based-cli knows them as "
           "dev0..dev9):\n");
    for (int i = 0; i < DN_NDEV; i++) {
        char bal[40] = "?", lab[64];
        if (dn_rpc(d, "account_get", json_pack("[s]", d->dev[i].ss58), &o) == BASED_E_OK)
            snprintf(bal, sizeof bal, "%s", dn_jstr(o, "balance"));
        json_decref(o);
        o = NULL;
        printf("    dev%-2d %s  %s BASED  %s\n", i, d->dev[i].ss58, bal,
               role_label(d, i, lab, sizeof lab));
    }
    printf("  processes (logs in %s/logs, PID files in %s/run):\n", d->o.datadir, d->o.datadir);
    for (int i = 0; i < d->nch; i++) {
        child *c = &d->ch[i];
        char port[24] = "";
        if (c->port)
            snprintf(port, sizeof port, "  port %u", c->port);
        if (c->p.missing)
            printf("    %-20s not built (%s)\n", c->p.name, c->p.prog);
        else
            printf("    %-20s PID %-7d log %s%s\n", c->p.name, (int)c->p.pid, c->p.log, port);
    }
    printf("  stop with Ctrl-C (stops every process above by its PID)\n\n");
    fflush(stdout);
}

/* ---------------- main ---------------- */

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int prepare(devnet *d)
{
    char logs[DN_PATH + 8], run[DN_PATH + 8];
    const char *colon = strrchr(d->o.rpc_bind, ':');
    char host[128];
    snprintf(host, sizeof host, "%.*s", (int)(colon - d->o.rpc_bind), d->o.rpc_bind);
    if (!strcmp(host, "0.0.0.0") || !host[0])
        snprintf(host, sizeof host, "127.0.0.1");
    snprintf(d->url, sizeof d->url, "http://%s:%s/", host, colon + 1);
    if (dn_resolve_paths(&d->o) != 0)
        return 1;
    if (!dn_path_fmt(logs, sizeof logs, "%s/logs", d->o.datadir) ||
        !dn_path_fmt(run, sizeof run, "%s/run", d->o.datadir) ||
        !dn_path_fmt(d->cookie, sizeof d->cookie, "%s/.cookie", d->o.datadir) ||
        !dn_path_fmt(d->self_pidfile, sizeof d->self_pidfile, "%s/based-devnet.pid", run))
        return dn_fail("--datadir is too long");
    if (dn_mkdirs(logs) != 0 || dn_mkdirs(run) != 0)
        return dn_fail("cannot create %s and %s: %s", logs, run, strerror(errno));
    if (clean_stale(d, run) != 0)
        return 1;
    if (neuron_proc_pidfile_write(d->self_pidfile, getpid()) != BASED_E_OK)
        return dn_fail("cannot write %s: %s", d->self_pidfile, strerror(errno));
    if (!d->o.model[0] || !dn_is_file(d->o.model))
        printf("based-devnet: warning: no model at %s (pass --model FILE)\n", d->o.model);
    return 0;
}

static int setup(devnet *d)
{
    if (start_node(d) != 0 || wait_node(d) != 0)
        return 1;
    if (g_stop || setup_brain(d) != 0)
        return g_stop ? 0 : 1;
    if (g_stop || setup_validators(d) != 0)
        return g_stop ? 0 : 1;
    if (g_stop || setup_stake(d) != 0)
        return g_stop ? 0 : 1;
    return g_stop ? 0 : start_neurons(d);
}

static int run_loop(devnet *d)
{
    uint64_t next = 0;
    banner(d);
    while (!g_stop) {
        if (reap(d)) {
            show_tail(d->ch[0].p.log);
            return dn_fail("the node exited: stopping the devnet");
        }
        restart_due(d);
        if (d->o.board && now_ms() >= next) {
            dn_draw(d);
            next = now_ms() + (d->tty ? DN_BOARD_MS : DN_PLAIN_MS);
        }
        sleep_ms(100);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static devnet d;
    int rc = dn_parse_opts(argc, argv, &d.o);
    if (rc)
        return rc == 3 ? 0 : rc;
    d.tty = isatty(1);
    install_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (prepare(&d) != 0)
        return 1;
    rc = setup(&d);
    if (rc == 0 && !g_stop)
        rc = run_loop(&d);
    if (d.tty && d.o.board && g_stop)
        printf("\n");
    stop_all(&d);
    unlink(d.self_pidfile);
    neuron_client_free(d.nc);
    for (int i = 0; i < DN_NDEV; i++)
        neuron_key_release(&d.dev[i]);
    curl_global_cleanup();
    if (rc == 0)
        printf("based-devnet: stopped; run it again with the same --datadir to continue the "
               "chain\n");
    return rc;
}
