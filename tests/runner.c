/*
 * Test runner main: forks one child per selected test, waits with a
 * timeout, prints "ok"/"FAIL" per test and a closing "N passed, N failed"
 * line, exits non-zero if anything failed. See runner.h.
 */
#include "tests/runner.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failed_here;
static char tmpdir[256];

void test_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failed_here = 1;
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/based-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(3);
        }
    }
    return tmpdir;
}

const char *test_bin(const char *prog)
{
    static char path[512];
    const char *dir = getenv("BASED_BIN");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "bin", prog);
    return path;
}

const char *test_prog(const char *prog)
{
    static char path[512];
    const char *dir = getenv("BASED_BUILD");
    snprintf(path, sizeof path, "%s/tests/%s", dir && *dir ? dir : "build", prog);
    return path;
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char sub[1024];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n && argv[i][n - 1] == '*' && strncmp(name, argv[i], n - 1) == 0)
            return 1;
        if (strcmp(name, argv[i]) == 0)
            return 1;
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one test in a child; returns 1 if it passed. */
static int run_one(const struct test_case *t, unsigned timeout_s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        setpgid(0, 0);
        alarm(timeout_s);
        t->fn();
        if (tmpdir[0])
            rm_rf(tmpdir);
        fflush(NULL);
        _exit(failed_here ? 1 : 0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* anything the test left running */
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(st),
                WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
        return 0;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *to = getenv("BASED_TEST_TIMEOUT");
    unsigned timeout_s = 600;
    if (to && *to) {
        char *end;
        unsigned long v = strtoul(to, &end, 10);
        if (*end == '\0' && v > 0 && v < 86400)
            timeout_s = (unsigned)v;
    }
    signal(SIGPIPE, SIG_IGN);
    for (const struct test_case *t = test_table; t->name; t++) {
        if (!selected(t->name, argc, argv))
            continue;
        double t0 = now_ms();
        int ok = run_one(t, timeout_s);
        printf("%s %s (%.0f ms)\n", ok ? "ok  " : "FAIL", t->name, now_ms() - t0);
        fflush(stdout);
        if (ok)
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
