/*
 * net_run.c: based-net's processes: finding the programs, starting each
 * node's basedd and cometbft detached (own session, stdin from /dev/null,
 * output appended to DIR/nodeK/<prog>.log, PID in DIR/nodeK/<prog>.pid),
 * collecting children that exit, and stopping by PID.
 *
 * A PID is only signalled when it is alive and /proc/PID/cmdline shows the
 * program with an argument inside DIR (neuron_proc_ours, shared with
 * based-devnet): a PID reused by another process is never touched. Nothing
 * is ever stopped by name or pattern.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "neurons/devproc.h"
#include "node/net.h"

static const char *const prog_names[2] = { "basedd", "cometbft" };

const char *node_net_prog_name(node_net_prog p)
{
    return prog_names[p];
}

static based_err fail(char *err, based_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static based_err fail(char *err, based_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, NODE_NET_ERR, fmt, ap);
    va_end(ap);
    return rc;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* --- the programs --- */

/* An absolute form of path (relative to the working directory). */
static bool absolute(const char *path, char *out, size_t cap)
{
    char cwd[NODE_NET_PATH];
    int w = path[0] == '/' || !getcwd(cwd, sizeof cwd)
            ? snprintf(out, cap, "%s", path) : snprintf(out, cap, "%s/%s", cwd, path);
    return w >= 0 && (size_t)w < cap;
}

/* `name` in a directory of $PATH into out. */
static bool on_path(const char *name, char *out, size_t cap)
{
    const char *p = getenv("PATH");
    while (p && *p) {
        size_t len = strcspn(p, ":");
        int w = snprintf(out, cap, "%.*s/%s", (int)len, p, name);
        if (len && w > 0 && (size_t)w < cap && out[0] == '/' && access(out, X_OK) == 0)
            return true;
        p += len + (p[len] == ':');
    }
    return false;
}

/* The directory of this program (/proc/self/exe). */
static bool self_dir(char *out, size_t cap)
{
    ssize_t k = readlink("/proc/self/exe", out, cap - 1);
    if (k <= 0)
        return false;
    out[k] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

/* Picks a program: flag, env, candidates next to based-net, PATH. */
static bool find_one(const char *flag, const char *env, const char *rel, const char *name,
                     char *out, size_t cap)
{
    char dir[NODE_NET_PATH], cand[NODE_NET_PATH + 64];
    const char *e = env ? getenv(env) : NULL;
    if (flag && *flag)
        return absolute(flag, out, cap) && access(out, X_OK) == 0;
    if (e && *e)
        return absolute(e, out, cap) && access(out, X_OK) == 0;
    if (self_dir(dir, sizeof dir) &&
        snprintf(cand, sizeof cand, "%s/%s", dir, rel) < (int)sizeof cand &&
        access(cand, X_OK) == 0)
        return snprintf(out, cap, "%s", cand) < (int)cap;
    return on_path(name, out, cap);
}

based_err node_net_find_progs(node_net *n, const char *cometbft, const char *basedd, char *err)
{
    char *cp = n->prog[NODE_NET_COMETBFT], *bp = n->prog[NODE_NET_BASEDD];
    const char *env = getenv("BASED_COMETBFT");
    char what[NODE_NET_PATH + 32];
    if (cometbft)
        snprintf(what, sizeof what, "cannot run --cometbft %s", cometbft);
    else if (env && *env)
        snprintf(what, sizeof what, "cannot run $BASED_COMETBFT %s", env);
    else
        snprintf(what, sizeof what, "no cometbft found next to based-net or on PATH");
    if (!find_one(cometbft, "BASED_COMETBFT", "../build/go/bin/cometbft", "cometbft", cp,
                  sizeof n->prog[0]))
        return fail(err, BASED_E_NOT_FOUND, "%s: run `make cometbft` (needs Go >= 1.22), or "
                    "pass --cometbft PATH to a CometBFT 0.38 binary", what);
    if (node_net_kvstore(n)) {
        snprintf(bp, sizeof n->prog[0], "basedd");
        return BASED_E_OK;
    }
    if (!find_one(basedd, NULL, "basedd", "basedd", bp, sizeof n->prog[0]))
        return fail(err, BASED_E_NOT_FOUND, "%s%s: build it with `make`, or pass --basedd PATH",
                    basedd ? "cannot run --basedd " : "no basedd found next to based-net or on "
                    "PATH", basedd ? basedd : "");
    return BASED_E_OK;
}

int node_net_run(const char *const *argv, char *out, size_t cap)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t len = 0;
    char buf[1024];
    ssize_t k;
    while (pid > 0 && (k = read(pfd[0], buf, sizeof buf)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            break;
        size_t take = out && len + 1 < cap ? (size_t)k : 0;
        if (take > cap - 1 - len)
            take = cap - 1 - len;
        if (take)
            memcpy(out + len, buf, take), len += take;
    }
    close(pfd[0]);
    if (out && cap)
        out[len] = '\0';
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

based_err node_net_check_cometbft(const char *path, char *version, size_t cap, char *err)
{
    char out[256];
    const char *argv[] = { path, "version", NULL };
    int st = node_net_run(argv, out, sizeof out);
    out[strcspn(out, "\r\n")] = '\0';
    snprintf(version, cap, "%s", out);
    if (st != 0)
        return fail(err, BASED_E_CONFIG, "`%s version` failed (exit %d): run `make cometbft` "
                    "(needs Go >= 1.22) or pass --cometbft PATH", path, st);
    if (strncmp(out, "0.38.", 5) != 0)
        return fail(err, BASED_E_CONFIG, "%s is CometBFT \"%s\"; based needs 0.38.x: run `make "
                    "cometbft` (needs Go >= 1.22) or pass --cometbft PATH", path, out);
    return BASED_E_OK;
}

/* --- PID files and liveness --- */

static bool pidfile(const node_net *n, size_t k, node_net_prog p, char *out, size_t cap)
{
    char rel[32];
    snprintf(rel, sizeof rel, "%s.pid", prog_names[p]);
    return node_net_path(n, k, rel, out, cap);
}

static bool is_ours(const node_net *n, pid_t pid, node_net_prog p)
{
    const char *base = strrchr(n->prog[p], '/') ? strrchr(n->prog[p], '/') + 1 : n->prog[p];
    const char *const progs[] = { base, NULL };
    char what[64];
    return pid > 0 && neuron_proc_alive(pid) && neuron_proc_ours(pid, n->dir, progs, what,
                                                                 sizeof what);
}

pid_t node_net_running(const node_net *n, size_t k, node_net_prog p)
{
    char path[NODE_NET_PATH];
    pid_t pid = pidfile(n, k, p, path, sizeof path) ? neuron_proc_pidfile_read(path) : 0;
    if (is_ours(n, pid, p))
        return pid;
    pid = n->node[k].pid[p];    /* a PID file lost: net.json's record */
    return is_ours(n, pid, p) ? pid : 0;
}

size_t node_net_count_running(const node_net *n)
{
    size_t c = 0;
    for (size_t k = 0; k < n->n; k++)
        for (int p = 0; p < 2; p++)
            c += node_net_running(n, k, (node_net_prog)p) != 0;
    return c;
}

/* --- starting --- */

/* The child side of fork: only async-signal-safe calls. */
static void exec_detached(const char *const *argv, int logfd)
{
    int nul = open("/dev/null", O_RDONLY);
    setsid();
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (nul >= 0)
        dup2(nul, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    execv(argv[0], (char *const *)argv);
    static const char msg[] = "based-net: exec failed\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

static based_err spawn(node_net *n, size_t k, node_net_prog p, const char *const *argv, char *err)
{
    char log[NODE_NET_PATH], pf[NODE_NET_PATH], rel[32], ts[32];
    snprintf(rel, sizeof rel, "%s.log", prog_names[p]);
    if (!node_net_path(n, k, rel, log, sizeof log) || !pidfile(n, k, p, pf, sizeof pf))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, BASED_E_IO, "cannot open %s: %s", log, strerror(errno));
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    dprintf(fd, "=== %s based-net starts:", ts);
    for (size_t i = 0; argv[i]; i++)
        dprintf(fd, " %s", argv[i]);
    dprintf(fd, "\n");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_detached(argv, fd);
    int e = errno;
    close(fd);
    if (pid < 0)
        return fail(err, BASED_E_IO, "cannot start %s of %s: fork: %s", prog_names[p],
                    n->node[k].name, strerror(e));
    n->node[k].pid[p] = pid;
    if (neuron_proc_pidfile_write(pf, pid) != BASED_E_OK)
        return fail(err, BASED_E_IO, "%s of %s runs as PID %d but %s cannot be written",
                    prog_names[p], n->node[k].name, (int)pid, pf);
    return BASED_E_OK;
}

static based_err start_basedd(node_net *n, size_t k, char *err)
{
    char dd[NODE_NET_PATH], gen[NODE_NET_PATH], key[NODE_NET_PATH], sock[NODE_NET_PATH];
    char abci[NODE_NET_PATH + 16], cmt[64], rpc[64];
    if (!node_net_path(n, k, "basedd", dd, sizeof dd) ||
        !node_net_path(n, k, "basedd/genesis.json", gen, sizeof gen) ||
        !node_net_path(n, k, "basedd/keys/authority.json", key, sizeof key) ||
        !node_net_path(n, k, "basedd/abci.sock", sock, sizeof sock))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    if (n->node[k].abci_port)
        snprintf(abci, sizeof abci, "tcp://127.0.0.1:%d", n->node[k].abci_port);
    else
        snprintf(abci, sizeof abci, "unix://%s", sock), unlink(sock);   /* a stale socket */
    node_net_cmt_url(n, k, cmt, sizeof cmt);
    snprintf(rpc, sizeof rpc, "127.0.0.1:%d", n->node[k].rpc_port);
    const char *argv[] = { n->prog[NODE_NET_BASEDD], "--datadir", dd, "--genesis", gen,
                           "--abci", abci, "--cometbft-rpc", cmt, "--rpc-bind", rpc,
                           n->node[k].authority ? "--authority-key" : NULL, key, NULL };
    return spawn(n, k, NODE_NET_BASEDD, argv, err);
}

/* Is basedd of node k serving ABCI yet (its socket exists / port taken)? */
static bool abci_ready(const node_net *n, size_t k)
{
    char sock[NODE_NET_PATH];
    struct stat st;
    if (n->node[k].abci_port)
        return !node_net_port_free(n->node[k].abci_port);
    return node_net_path(n, k, "basedd/abci.sock", sock, sizeof sock) && stat(sock, &st) == 0 &&
           S_ISSOCK(st.st_mode);
}

static based_err wait_abci(node_net *n, uint64_t only, ssize_t *bad, char *err)
{
    uint64_t until = mono_ms() + 30000;
    for (size_t k = 0; k < n->n; k++) {
        while (node_net_selected(only, k) && !abci_ready(n, k)) {
            size_t dk;
            node_net_prog dp;
            int st;
            if (node_net_reap(n, &dk, &dp, &st)) {
                char how[32];
                neuron_proc_describe(st, how, sizeof how);
                *bad = (ssize_t)dk;
                return fail(err, BASED_E_UNAVAILABLE, "%s of %s exited (%s) before it served "
                            "ABCI", prog_names[dp], n->node[dk].name, how);
            }
            if (mono_ms() > until && (*bad = (ssize_t)k) >= 0)
                return fail(err, BASED_E_TIMEOUT, "basedd of %s does not serve ABCI after 30 s",
                            n->node[k].name);
            nap_ms(50);
        }
    }
    return BASED_E_OK;
}

based_err node_net_start_all(node_net *n, uint64_t only, ssize_t *bad, char *err)
{
    based_err rc = BASED_E_OK;
    *bad = -1;
    if (!node_net_kvstore(n)) {
        for (size_t k = 0; k < n->n && rc == BASED_E_OK; k++)
            if (node_net_selected(only, k))
                rc = start_basedd(n, k, err);
        if (rc == BASED_E_OK)
            rc = wait_abci(n, only, bad, err);
    }
    for (size_t k = 0; k < n->n && rc == BASED_E_OK; k++) {
        char home[NODE_NET_PATH];
        if (!node_net_selected(only, k))
            continue;
        if (!node_net_path(n, k, "cometbft", home, sizeof home))
            return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
        const char *argv[] = { n->prog[NODE_NET_COMETBFT], "start", "--home", home, NULL };
        rc = spawn(n, k, NODE_NET_COMETBFT, argv, err);
    }
    if (rc == BASED_E_OK)
        rc = node_net_save(n, err);
    return rc;
}

bool node_net_reap(node_net *n, size_t *k, node_net_prog *p, int *status)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        for (size_t i = 0; i < n->n; i++)
            for (int j = 0; j < 2; j++)
                if (n->node[i].pid[j] == pid) {
                    char pf[NODE_NET_PATH];
                    n->node[i].pid[j] = 0;
                    if (pidfile(n, i, (node_net_prog)j, pf, sizeof pf))
                        unlink(pf);
                    *k = i, *p = (node_net_prog)j, *status = st;
                    return true;
                }
    return false;
}

/* --- stopping --- */

/* Signals the running processes of program p of the selected nodes,
 * waits, kills the rest. */
static size_t stop_prog(const node_net *n, uint64_t only, node_net_prog p, unsigned timeout_ms,
                        FILE *report)
{
    pid_t pids[NODE_NET_MAX] = { 0 };
    size_t count = 0, left;
    for (size_t k = 0; k < n->n; k++)
        if (node_net_selected(only, k) && (pids[k] = node_net_running(n, k, p)) &&
            kill(pids[k], SIGTERM) == 0)
            count++;
    uint64_t until = mono_ms() + timeout_ms;
    do {
        left = 0;
        for (size_t k = 0; k < n->n; k++) {
            int st;
            if (pids[k] && waitpid(pids[k], &st, WNOHANG) == pids[k])
                pids[k] = 0;           /* our child (foreground), collected */
            if (pids[k] && !neuron_proc_alive(pids[k]))
                pids[k] = 0;
            left += pids[k] != 0;
        }
        if (left)
            nap_ms(50);
    } while (left && mono_ms() < until);
    for (size_t k = 0; k < n->n; k++) {
        char pf[NODE_NET_PATH];
        if (pids[k]) {
            if (report)
                fprintf(report, "based-net: %s of %s (PID %d) did not stop in %u s: SIGKILL\n",
                        prog_names[p], n->node[k].name, (int)pids[k], timeout_ms / 1000);
            kill(pids[k], SIGKILL);
            for (int i = 0; i < 100 && neuron_proc_alive(pids[k]); i++)
                waitpid(pids[k], NULL, WNOHANG), nap_ms(20);
        }
        if (node_net_selected(only, k) && pidfile(n, k, p, pf, sizeof pf) &&
            !node_net_running(n, k, p))
            unlink(pf);
    }
    return count;
}

size_t node_net_stop_all(const node_net *n, uint64_t only, unsigned timeout_ms, FILE *report)
{
    size_t c = stop_prog(n, only, NODE_NET_COMETBFT, timeout_ms, report);
    return c + stop_prog(n, only, NODE_NET_BASEDD, timeout_ms, report);
}

void node_net_log_tail(const node_net *n, size_t k, node_net_prog p, size_t lines, char *out,
                       size_t cap)
{
    char log[NODE_NET_PATH], rel[32], buf[4096];
    snprintf(rel, sizeof rel, "%s.log", prog_names[p]);
    out[0] = '\0';
    int fd = node_net_path(n, k, rel, log, sizeof log) ? open(log, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t got = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (got <= 0)
        return;
    buf[got] = '\0';
    size_t i = (size_t)got, seen = 0;
    while (i > 0 && buf[i - 1] == '\n')
        i--;
    while (i > 0 && seen < lines)
        if (buf[--i] == '\n')
            seen++;
    snprintf(out, cap, "%s", buf + i + (buf[i] == '\n'));
}
