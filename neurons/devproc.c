/*
 * devproc.c: starting, collecting and stopping based-devnet's children,
 * and the PID-file checks (see devproc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "neurons/devproc.h"

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

static bool fits(char *out, size_t n, const char *a, const char *b, const char *c,
                 const char *e)
{
    int k = snprintf(out, n, "%s%s%s%s", a, b, c, e);
    return k >= 0 && (size_t)k < n;
}

bool neuron_proc_init(neuron_proc *p, const char *name, const char *bindir, const char *prog,
                      const char *datadir)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    bool ok = strlen(name) < sizeof p->name &&
              fits(p->prog, sizeof p->prog, bindir, "/", prog, "") &&
              fits(p->log, sizeof p->log, datadir, "/logs/", name, ".log") &&
              fits(p->pidfile, sizeof p->pidfile, datadir, "/run/", name, ".pid");
    p->missing = !ok || access(p->prog, X_OK) != 0;
    return neuron_proc_arg(p, p->prog) && ok;
}

bool neuron_proc_arg(neuron_proc *p, const char *a)
{
    size_t l = strlen(a) + 1;
    if (p->argc >= NEURON_PROC_ARGS || p->arglen + l > sizeof p->argbuf)
        return false;
    memcpy(p->argbuf + p->arglen, a, l);
    p->argv[p->argc++] = p->argbuf + p->arglen;
    p->argv[p->argc] = NULL;
    p->arglen += l;
    return true;
}

/* The child side of fork: only async-signal-safe calls. */
static void exec_child(const neuron_proc *p, int logfd)
{
    int nul = open("/dev/null", O_RDONLY);
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (nul >= 0)
        dup2(nul, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    for (int k = 3; k < 1024; k++)
        close(k);
    execv(p->prog, p->argv);
    static const char msg[] = "based-devnet: exec failed\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

based_err neuron_proc_start(neuron_proc *p, char *err)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, NEURON_PROC_ERR, "cannot open %s: %s", p->log, strerror(errno));
        return BASED_E_IO;
    }
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    dprintf(fd, "=== %s based-devnet starts:", ts);
    for (int i = 0; i < p->argc; i++)
        dprintf(fd, " %s", p->argv[i]);
    dprintf(fd, "\n");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(p, fd);
    close(fd);
    if (pid < 0) {
        snprintf(err, NEURON_PROC_ERR, "cannot start %s: fork: %s", p->name, strerror(errno));
        return BASED_E_IO;
    }
    p->pid = p->last_pid = pid;
    if (neuron_proc_pidfile_write(p->pidfile, pid) != BASED_E_OK) {
        snprintf(err, NEURON_PROC_ERR, "%s runs as PID %d but %s cannot be written", p->name,
                 (int)pid, p->pidfile);
        return BASED_E_OK;    /* running; the caller may show err */
    }
    err[0] = '\0';
    return BASED_E_OK;
}

neuron_proc *neuron_proc_reap(neuron_proc *const *ps, size_t n)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        for (size_t i = 0; i < n; i++)
            if (ps[i]->pid == pid) {
                ps[i]->pid = 0;
                ps[i]->status = st;
                unlink(ps[i]->pidfile);
                return ps[i];
            }
    return NULL;
}

/* Waits for the signalled ones; returns how many still run. */
static size_t wait_stopped(neuron_proc *const *ps, size_t n, uint64_t until)
{
    size_t running;
    do {
        running = 0;
        for (size_t i = 0; i < n; i++) {
            int st;
            if (!ps[i]->pid)
                continue;
            if (waitpid(ps[i]->pid, &st, WNOHANG) == ps[i]->pid) {
                ps[i]->pid = 0;
                ps[i]->status = st;
                unlink(ps[i]->pidfile);
            } else {
                running++;
            }
        }
        if (running)
            nap_ms(50);
    } while (running && mono_ms() < until);
    return running;
}

void neuron_proc_stop(neuron_proc *const *ps, size_t n, unsigned timeout_ms, FILE *report)
{
    for (size_t i = 0; i < n; i++)
        if (ps[i]->pid && kill(ps[i]->pid, SIGTERM) != 0)
            ps[i]->pid = 0, unlink(ps[i]->pidfile);    /* already gone and collected */
    if (!wait_stopped(ps, n, mono_ms() + timeout_ms))
        return;
    for (size_t i = 0; i < n; i++) {
        if (!ps[i]->pid)
            continue;
        if (report)
            fprintf(report, "based-devnet: %s (PID %d) did not stop in %u s: SIGKILL\n",
                    ps[i]->name, (int)ps[i]->pid, timeout_ms / 1000);
        kill(ps[i]->pid, SIGKILL);
        waitpid(ps[i]->pid, &ps[i]->status, 0);
        ps[i]->pid = 0;
        unlink(ps[i]->pidfile);
    }
}

void neuron_proc_describe(int status, char *out, size_t n)
{
    if (WIFEXITED(status))
        snprintf(out, n, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "signal %d", WTERMSIG(status));
    else
        snprintf(out, n, "status %d", status);
}

/* Up to n - 1 bytes of a small file (/proc), NUL-terminated; the count. */
static size_t read_small(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t k = fd >= 0 ? read(fd, out, n - 1) : 0;
    if (fd >= 0)
        close(fd);
    if (k < 0)
        k = 0;
    out[k] = '\0';
    return (size_t)k;
}

bool neuron_proc_alive(pid_t pid)
{
    char path[64], buf[512];
    if (pid <= 0 || kill(pid, 0) != 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    read_small(path, buf, sizeof buf);
    const char *rp = strrchr(buf, ')');       /* "pid (comm) S ..." */
    return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

bool neuron_proc_ours(pid_t pid, const char *datadir, const char *const *progs, char *what,
                      size_t n)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    size_t k = pid > 0 ? read_small(path, buf, sizeof buf) : 0;
    what[0] = '\0';
    if (k == 0)
        return false;
    const char *base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
    bool prog = false, dir = false;
    for (size_t i = 0; progs[i]; i++)
        prog = prog || !strcmp(base, progs[i]);
    size_t dl = strlen(datadir);
    for (size_t i = 0; i < k; i += strlen(buf + i) + 1)
        dir = dir || (!strncmp(buf + i, datadir, dl) &&
                      (buf[i + dl] == '\0' || buf[i + dl] == '/'));
    snprintf(what, n, "%s", base);
    return prog && dir;
}

void neuron_proc_kill(pid_t pid, unsigned timeout_ms)
{
    if (pid <= 0 || kill(pid, SIGTERM) != 0)
        return;
    uint64_t until = mono_ms() + timeout_ms;
    while (neuron_proc_alive(pid) && mono_ms() < until)
        nap_ms(50);
    if (!neuron_proc_alive(pid))
        return;
    kill(pid, SIGKILL);
    for (int i = 0; i < 40 && neuron_proc_alive(pid); i++)
        nap_ms(50);
}

pid_t neuron_proc_pidfile_read(const char *path)
{
    char buf[32], *end;
    if (read_small(path, buf, sizeof buf) == 0)
        return 0;
    errno = 0;
    long v = strtol(buf, &end, 10);
    bool ok = !errno && end != buf && v > 1 && v < INT32_MAX && (*end == '\n' || *end == '\0');
    return ok ? (pid_t)v : 0;
}

based_err neuron_proc_pidfile_write(const char *path, pid_t pid)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return BASED_E_IO;
    bool ok = write(fd, buf, (size_t)n) == n;
    return close(fd) == 0 && ok ? BASED_E_OK : BASED_E_IO;
}
