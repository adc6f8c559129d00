/*
 * net.c: based-net, a local multi-node network on loopback: N authorities
 * and M full nodes, each a basedd (the application, over ABCI) and a
 * cometbft (consensus and p2p) process.
 *
 *   based-net start --nodes N --dir DIR [...]   create (or restart) and start
 *   based-net create --nodes N --dir DIR [...]  create only (start it later)
 *   based-net status --dir DIR [--json]         height, app hash, peers of each node
 *   based-net stop --dir DIR                    stop every process, by PID
 * `--node K` (repeatable) makes start and stop act on node K only, on an
 * existing network: a node that was stopped (or killed) rejoins the others
 * that run, a full node created with the network starts late.
 *
 * `start` on a new DIR writes the network (net_setup.c), starts every
 * basedd, then every cometbft (net_run.c), waits until every node has
 * finalised block 1 and prints each node's endpoints. On a DIR whose
 * network is stopped it starts it again with the same keys, ports and
 * data; on a running one it refuses. `--foreground` stays, prints a status
 * line every few seconds and stops everything on Ctrl-C or SIGTERM.
 *
 * The programs: --cometbft PATH, else $BASED_COMETBFT, else
 * <based-net's dir>/../build/go/bin/cometbft, else cometbft on PATH (it must
 * be 0.38.x); --basedd PATH, else basedd next to based-net, else on PATH.
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/util.h"
#include "neurons/devproc.h"
#include "node/net.h"

#define STOP_TIMEOUT_MS 10000
#define LINE_EVERY_MS 5000

static volatile sig_atomic_t g_stop;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: based-net start --nodes N --dir DIR [FLAGS]\n"
        "       based-net create --nodes N --dir DIR [FLAGS]\n"
        "       based-net start --dir DIR [--node K]...\n"
        "       based-net status --dir DIR [--json]\n"
        "       based-net stop --dir DIR [--node K]...\n"
        "A local network on loopback: N authorities and M full nodes, each a basedd\n"
        "and a CometBFT process with its own ports; DIR holds everything (net.json\n"
        "lists nodes, ports and files). `start` on a stopped network starts it again\n"
        "with the same keys, ports and chain. `create` writes a new network without\n"
        "starting it (same flags as start, but not --wait and --foreground).\n\n"
        "start:\n"
        "  --nodes N            authorities, 1 to %d (required for a new network)\n"
        "  --full-nodes M       full nodes, 0 to %d (default 1)\n"
        "  --dir DIR            the network's directory (created)\n"
        "  --base-port P        ports P, P+1, ... (4 per node; default: free ports)\n"
        "  --timeout-commit T   CometBFT's pause after a block, e.g. 1s, 500ms (default 1s)\n"
        "  --log-level L        CometBFT's log_level (default info)\n"
        "  --cometbft PATH      CometBFT 0.38 (default: $BASED_COMETBFT, then\n"
        "                       ../build/go/bin/cometbft next to based-net, then PATH)\n"
        "  --basedd PATH        basedd (default: next to based-net, then PATH)\n"
        "  --wait S             seconds to wait for block 1 on every node (default 60)\n"
        "  --foreground         stay, print a status line every 5 s; Ctrl-C stops all\n"
        "  --app kvstore        testing aid: CometBFT's built-in kvstore app instead of\n"
        "                       basedd, to check the CometBFT side alone\n"
        "  --node K             (repeatable) an existing network: start node K only (both\n"
        "                       its processes; the other nodes may be running), e.g. to\n"
        "                       restart a node that was stopped or killed, or to start\n"
        "                       late a node made by `create`; waits for K at height >= 1\n"
        "stop:\n"
        "  --node K             (repeatable) stop node K only; the others go on\n"
        "status:\n"
        "  --json               an array of {node, role, up, rpc, cookie, cometbft_rpc,\n"
        "                       height, cometbft_height, app_hash, peers}\n"
        "  --help, --version\n\n"
        "Exit status: 0 success, 1 runtime failure, 2 usage error.\n",
        NODE_NET_MAX_AUTH, NODE_NET_MAX_FULL);
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("based-net: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see based-net --help)\n", stderr);
    va_end(ap);
    return 2;
}

static int runtime_err(const char *msg)
{
    fprintf(stderr, "based-net: %s\n", msg);
    return 1;
}

typedef struct {
    const char *cmd;
    const char *dir;
    bool json;
    bool wait_given;
    node_net_opts o;
} opts;

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return usage_err("%s must be an integer from %d to %d, not \"%s\"", flag, lo, hi, s);
    *out = (int)v;
    return 0;
}

/* "1s", "500ms", "2m": a Go duration CometBFT reads. */
static bool duration_ok(const char *s)
{
    size_t d = strspn(s, "0123456789");
    return d > 0 && d < 8 && (!strcmp(s + d, "ms") || !strcmp(s + d, "s") || !strcmp(s + d, "m"));
}

static bool level_ok(const char *s)
{
    return *s && strlen(s) < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz*:,_-") == strlen(s);
}

/* One flag with its value; returns 0, or 2 on a usage error. */
static int take(opts *a, const char *flag, const char *val)
{
    node_net_opts *o = &a->o;
    int v;
    if (!strcmp(flag, "--dir"))
        a->dir = val;
    else if (!strcmp(flag, "--nodes"))
        return parse_int(flag, val, 1, NODE_NET_MAX_AUTH, &o->nauth);
    else if (!strcmp(flag, "--full-nodes"))
        return parse_int(flag, val, 0, NODE_NET_MAX_FULL, &o->nfull);
    else if (!strcmp(flag, "--base-port"))
        return parse_int(flag, val, 1024, 65535 - NODE_NET_MAX * 4, &o->base_port);
    else if (!strcmp(flag, "--wait")) {
        if (parse_int(flag, val, 1, 3600, &v))
            return 2;
        o->wait_s = (unsigned)v;
        a->wait_given = true;
    } else if (!strcmp(flag, "--node")) {
        if (parse_int(flag, val, 0, NODE_NET_MAX - 1, &v))
            return 2;
        o->only |= (uint64_t)1 << v;
    } else if (!strcmp(flag, "--cometbft"))
        o->cometbft = val;
    else if (!strcmp(flag, "--basedd"))
        o->basedd = val;
    else if (!strcmp(flag, "--timeout-commit")) {
        if (!duration_ok(val))
            return usage_err("--timeout-commit must be a duration like 1s or 500ms, not \"%s\"",
                             val);
        o->timeout_commit = val;
    } else if (!strcmp(flag, "--log-level")) {
        if (!level_ok(val))
            return usage_err("--log-level must be like info or \"consensus:debug,*:info\"");
        o->log_level = val;
    } else if (!strcmp(flag, "--app")) {
        if (strcmp(val, "kvstore") && strcmp(val, "based"))
            return usage_err("--app must be \"based\" or \"kvstore\", not \"%s\"", val);
        o->app = val;
    } else
        return usage_err("unknown flag %s", flag);
    return 0;
}

static const char *const valued[] = { "--dir", "--nodes", "--full-nodes", "--base-port",
                                      "--wait", "--cometbft", "--basedd", "--timeout-commit",
                                      "--log-level", "--app", "--node", NULL };

static bool has_value(const char *flag)
{
    for (size_t i = 0; valued[i]; i++)
        if (!strcmp(flag, valued[i]))
            return true;
    return false;
}

/* Returns -1 to go on, else the exit status (help, version, errors). */
static int parse(int argc, char **argv, opts *a)
{
    memset(a, 0, sizeof *a);
    a->o.nauth = a->o.nfull = -1;
    a->o.wait_s = 60;
    for (int i = 1; i < argc; i++) {
        char flag[32];
        const char *arg = argv[i], *eq = strchr(arg, '='), *val = NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
            return usage(stdout), 0;
        if (!strcmp(arg, "--version"))
            return printf("based-net %s\n", BASED_VERSION), 0;
        if (arg[0] != '-') {
            if (a->cmd)
                return usage_err("unexpected argument \"%s\"", arg);
            a->cmd = arg;
            continue;
        }
        snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        if (!strcmp(flag, "--json") || !strcmp(flag, "--foreground")) {
            if (eq)
                return usage_err("%s takes no value", flag);
            *(flag[2] == 'j' ? &a->json : &a->o.foreground) = true;
            continue;
        }
        if (!has_value(flag))
            return usage_err("unknown flag %s", flag);
        val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!val)
            return usage_err("%s needs a value", flag);
        if (take(a, flag, val))
            return 2;
    }
    if (!a->cmd)
        return usage_err("say start, create, status or stop");
    if (strcmp(a->cmd, "start") && strcmp(a->cmd, "create") && strcmp(a->cmd, "status") &&
        strcmp(a->cmd, "stop"))
        return usage_err("unknown command \"%s\": say start, create, status or stop", a->cmd);
    if (!a->dir || !*a->dir)
        return usage_err("%s needs --dir DIR", a->cmd);
    return -1;
}

/* DIR made absolute (created first for start). */
static int resolve_dir(const opts *a, char *out, bool create)
{
    char err[CLI_ERR_LEN], buf[PATH_MAX];
    if (create && cli_mkdirs(a->dir, 0755, err) != BASED_E_OK)
        return runtime_err(err);
    if (!realpath(a->dir, buf)) {
        fprintf(stderr, "based-net: %s: %s\n", a->dir, strerror(errno));
        return 1;
    }
    if (strlen(buf) >= NODE_NET_PATH - 128) {
        fprintf(stderr, "based-net: the directory path %s is too long\n", buf);
        return 1;
    }
    snprintf(out, NODE_NET_PATH, "%s", buf);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void show_logs(const node_net *n, size_t k)
{
    for (int p = 0; p < 2; p++) {
        char tail[2048], log[NODE_NET_PATH], rel[32];
        if (p == NODE_NET_BASEDD && node_net_kvstore(n))
            continue;
        snprintf(rel, sizeof rel, "%s.log", node_net_prog_name((node_net_prog)p));
        node_net_path(n, k, rel, log, sizeof log);
        node_net_log_tail(n, k, (node_net_prog)p, 8, tail, sizeof tail);
        fprintf(stderr, "--- the end of %s:\n%s\n", log, tail[0] ? tail : "(empty)");
    }
}

/* After a stop: no PIDs in net.json for the selected nodes. */
static void forget_pids(node_net *n, uint64_t only)
{
    char err[NODE_NET_ERR];
    for (size_t k = 0; k < n->n; k++)
        if (node_net_selected(only, k))
            n->node[k].pid[0] = n->node[k].pid[1] = 0;
    if (node_net_save(n, err) != BASED_E_OK)
        fprintf(stderr, "based-net: %s\n", err);
}

/* Stops what this start started (the selected nodes), says why, returns 1. */
static int abort_start(node_net *n, uint64_t only, const char *why, ssize_t node)
{
    fprintf(stderr, "based-net: %s\n", why);
    if (node >= 0)
        show_logs(n, (size_t)node);
    node_net_stop_all(n, only, STOP_TIMEOUT_MS, stderr);
    forget_pids(n, only);
    fprintf(stderr, "based-net: stopped every process %s %s\n", only ? "started in" : "of",
            n->dir);
    return 1;
}

/* Is node k past block 1? */
static bool node_ready(const node_net *n, size_t k)
{
    node_net_state s;
    node_net_query(n, k, 1000, &s);
    return s.up && s.height >= 1;
}

/* Waits until every selected node is past block 1. */
static int wait_ready(node_net *n, uint64_t only, unsigned wait_s)
{
    char why[256];
    size_t k = 0, dk;
    node_net_prog dp;
    int st;
    time_t until = time(NULL) + (time_t)wait_s;
    while (k < n->n) {
        if (!node_net_selected(only, k)) {
            k++;
            continue;
        }
        if (g_stop)
            return abort_start(n, only, "interrupted while waiting for the first block", -1);
        if (node_net_reap(n, &dk, &dp, &st)) {
            char how[32];
            neuron_proc_describe(st, how, sizeof how);
            snprintf(why, sizeof why, "%s of %s exited (%s) during start-up",
                     node_net_prog_name(dp), n->node[dk].name, how);
            return abort_start(n, only, why, (ssize_t)dk);
        }
        if (node_ready(n, k)) {
            k++;
            continue;
        }
        if (time(NULL) > until) {
            snprintf(why, sizeof why, "%s has not finalised block 1 after %u s", n->node[k].name,
                     wait_s);
            return abort_start(n, only, why, (ssize_t)k);
        }
        nap_ms(250);
    }
    return 0;
}

/* Foreground: a status line every few seconds until a signal; then stops
 * what this start started. */
static int stay(node_net *n, uint64_t only)
{
    uint64_t waited = 0;
    while (!g_stop) {
        size_t k;
        node_net_prog p;
        int st;
        while (node_net_reap(n, &k, &p, &st)) {
            char how[32];
            neuron_proc_describe(st, how, sizeof how);
            fprintf(stderr, "based-net: %s of %s exited (%s); see %s/%s/%s.log\n",
                    node_net_prog_name(p), n->node[k].name, how, n->dir, n->node[k].name,
                    node_net_prog_name(p));
        }
        if (waited >= LINE_EVERY_MS) {
            node_net_print_line(n, stdout);
            waited = 0;
        }
        nap_ms(200);
        waited += 200;
    }
    printf("based-net: stopping %s\n", n->dir);
    fflush(stdout);
    node_net_stop_all(n, only, STOP_TIMEOUT_MS, stderr);
    forget_pids(n, only);
    return 0;
}

/* A stopped network: the options must agree with it, its ports be free. */
static int check_restart(const node_net *n, const node_net_opts *o)
{
    if (o->nauth >= 0 && (size_t)o->nauth != n->nauth)
        return usage_err("%s holds a network of %zu authorities, not %d (use another --dir)",
                         n->dir, n->nauth, o->nauth);
    if (o->nfull >= 0 && (size_t)o->nfull != n->n - n->nauth)
        return usage_err("%s holds a network of %zu full nodes, not %d (use another --dir)",
                         n->dir, n->n - n->nauth, o->nfull);
    if (o->app && strcmp(o->app, n->app))
        return usage_err("%s holds a network of app \"%s\", not \"%s\"", n->dir, n->app, o->app);
    if (o->base_port || o->timeout_commit || o->log_level)
        return usage_err("--base-port, --timeout-commit and --log-level apply to a new network "
                         "only; %s already holds one", n->dir);
    for (size_t k = 0; k < n->n; k++) {
        if (!node_net_selected(o->only, k))
            continue;
        const int ports[] = { n->node[k].rpc_port, n->node[k].cmt_rpc_port, n->node[k].p2p_port,
                              n->node[k].abci_port };
        for (size_t i = 0; i < 4; i++)
            if (ports[i] && (node_net_kvstore(n) ? i == 1 || i == 2 : true) &&
                !node_net_port_free(ports[i])) {
                fprintf(stderr, "based-net: port %d of %s is in use by another program; free it "
                        "and start again\n", ports[i], n->node[k].name);
                return 1;
            }
    }
    return 0;
}

static bool dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool empty = d != NULL;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return empty;
}

/* Does every --node name a node of n? */
static int check_only(const node_net *n, uint64_t only)
{
    for (size_t k = n->n; k < 64; k++)
        if (only >> k & 1u)
            return usage_err("--node %zu: %s has nodes 0 to %zu", k, n->dir, n->n - 1);
    return 0;
}

/* An existing network about to start (all, or the --node ones): nothing of
 * what is to start may run. */
static int check_not_running(const node_net *n, uint64_t only)
{
    if (!only) {
        size_t running = node_net_count_running(n);
        if (running)
            fprintf(stderr, "based-net: a network is already running in %s (%zu processes); "
                    "stop it with `based-net stop --dir %s`, or start a node that is down "
                    "with --node K\n", n->dir, running, n->dir);
        return running ? 1 : 0;
    }
    for (size_t k = 0; k < n->n; k++)
        for (int p = 0; p < 2 && node_net_selected(only, k); p++) {
            pid_t pid = node_net_running(n, k, (node_net_prog)p);
            if (pid) {
                fprintf(stderr, "based-net: %s of %s is running (PID %d); stop it first with "
                        "`based-net stop --dir %s --node %zu`\n",
                        node_net_prog_name((node_net_prog)p), n->node[k].name, (int)pid, n->dir,
                        k);
                return 1;
            }
        }
    return 0;
}

/* Loads DIR's network or, with `create` allowed, makes a new one (n->dir
 * set). *fresh says which. */
static int prepare(node_net *n, const node_net_opts *o, bool create, bool *fresh, char *err)
{
    char dir[NODE_NET_PATH];
    snprintf(dir, sizeof dir, "%s", n->dir);
    based_err rc = node_net_load(dir, n, err);
    *fresh = rc == BASED_E_NOT_FOUND;
    if (rc != BASED_E_OK && !*fresh)
        return runtime_err(err);
    if (!*fresh && !create) {
        int st = check_only(n, o->only);
        if (st || (st = check_not_running(n, o->only)) || (st = check_restart(n, o)))
            return st;
    } else if (!*fresh) {
        return usage_err("%s already holds a network (net.json); start it with `based-net "
                         "start --dir %s`", dir, dir);
    } else {
        if (o->nauth < 0)
            return usage_err("a new network needs --nodes N");
        if (o->only)
            return usage_err("--node K applies to an existing network; %s holds none", dir);
        if (!dir_empty(dir))
            return usage_err("%s is not empty and holds no network (no net.json): give a new "
                             "or empty --dir", dir);
        memset(n, 0, sizeof *n);
        snprintf(n->dir, sizeof n->dir, "%s", dir);
        snprintf(n->app, sizeof n->app, "%s", o->app ? o->app : "based");
    }
    char version[64];
    if (node_net_find_progs(n, o->cometbft, o->basedd, err) != BASED_E_OK ||
        node_net_check_cometbft(n->prog[NODE_NET_COMETBFT], version, sizeof version, err))
        return runtime_err(err);
    if (*fresh && node_net_create(n, o, err) != BASED_E_OK) {
        fprintf(stderr, "based-net: %s\n", err);
        if (!dir_empty(dir))
            fprintf(stderr, "based-net: remove %s before trying again\n", dir);
        return 1;
    }
    printf("based-net: %s network in %s: %zu authorities, %zu full node%s, chain %s, "
           "CometBFT %s%s\n", *fresh ? "new" : "restarting the", dir, n->nauth, n->n - n->nauth,
           n->n - n->nauth == 1 ? "" : "s", n->chain_id, version,
           node_net_kvstore(n) ? " (kvstore app, no basedd)" : "");
    if (o->only) {
        printf("based-net: starting");
        for (size_t k = 0; k < n->n; k++)
            if (node_net_selected(o->only, k))
                printf(" %s", n->node[k].name);
        printf(" only\n");
    }
    fflush(stdout);
    return 0;
}

static int cmd_create(const opts *a)
{
    static node_net n;
    static char err[NODE_NET_ERR];
    bool fresh;
    int st = resolve_dir(a, n.dir, true);
    if (st || (st = prepare(&n, &a->o, true, &fresh, err)))
        return st;
    printf("based-net: created, nothing started\n\n");
    node_net_print_endpoints(&n, stdout);
    printf("\nstart:  based-net start --dir %s [--node K]...\n", n.dir);
    return 0;
}

static int cmd_start(const opts *a)
{
    static node_net n;
    static char err[NODE_NET_ERR];
    bool fresh;
    int st = resolve_dir(a, n.dir, true);
    if (st || (st = prepare(&n, &a->o, false, &fresh, err)))
        return st;
    catch_signals();
    ssize_t bad;
    if (node_net_start_all(&n, a->o.only, &bad, err) != BASED_E_OK)
        return abort_start(&n, a->o.only, err, bad);
    if ((st = wait_ready(&n, a->o.only, a->o.wait_s)))
        return st;
    printf("based-net: %s at height 1 or more\n\n", a->o.only ? "the nodes started are"
                                                              : "every node is");
    node_net_print_endpoints(&n, stdout);
    if (a->o.foreground)
        printf("\nCtrl-C stops every node %s; status line every %d s (height, peers of each "
               "node)\n", a->o.only ? "started here" : "", LINE_EVERY_MS / 1000);
    else
        printf("\nstatus: based-net status --dir %s\nstop:   based-net stop --dir %s\n", n.dir,
               n.dir);
    fflush(stdout);
    return a->o.foreground ? stay(&n, a->o.only) : 0;
}

static int cmd_status(const opts *a)
{
    static node_net n;
    char dir[NODE_NET_PATH], err[NODE_NET_ERR];
    int st = resolve_dir(a, dir, false);
    if (st)
        return st;
    if (node_net_load(dir, &n, err) != BASED_E_OK)
        return runtime_err(err);
    node_net_print_status(&n, a->json, stdout);
    return 0;
}

static int cmd_stop(const opts *a)
{
    static node_net n;
    char dir[NODE_NET_PATH], err[NODE_NET_ERR];
    int st = resolve_dir(a, dir, false);
    if (st)
        return st;
    if (node_net_load(dir, &n, err) != BASED_E_OK)
        return runtime_err(err);
    if ((st = check_only(&n, a->o.only)))
        return st;
    size_t c = node_net_stop_all(&n, a->o.only, STOP_TIMEOUT_MS, stderr);
    forget_pids(&n, a->o.only);
    printf("based-net: stopped %zu process%s of %s\n", c, c == 1 ? "" : "es", dir);
    return 0;
}

/* Flags given to a command they do not apply to. */
static int misplaced(const opts *a)
{
    const node_net_opts *o = &a->o;
    bool start = !strcmp(a->cmd, "start"), create = !strcmp(a->cmd, "create");
    bool newnet = o->nauth >= 0 || o->nfull >= 0 || o->base_port || o->cometbft || o->basedd ||
                  o->timeout_commit || o->log_level || o->app;
    if (!start && !create && newnet)
        return usage_err("--nodes, --full-nodes, --base-port, --cometbft, --basedd, "
                         "--timeout-commit, --log-level and --app are flags of start and create");
    if (!start && (o->foreground || a->wait_given))
        return usage_err("--foreground and --wait are flags of start");
    if ((create || !strcmp(a->cmd, "status")) && o->only)
        return usage_err("--node is a flag of start and stop");
    if (strcmp(a->cmd, "status") && a->json)
        return usage_err("--json is a flag of status");
    return 0;
}

int main(int argc, char **argv)
{
    opts a;
    int st = parse(argc, argv, &a);
    if (st >= 0)
        return st;
    if ((st = misplaced(&a)))
        return st;
    if (chain_crypto_init() != 0)
        return runtime_err("cannot initialise libsodium");
    if (!strcmp(a.cmd, "start"))
        return cmd_start(&a);
    if (!strcmp(a.cmd, "create"))
        return cmd_create(&a);
    if (!strcmp(a.cmd, "status"))
        return cmd_status(&a);
    return cmd_stop(&a);
}
