/*
 * node.c: processes for the validator tests (node.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "neurons/client.h"
#include "tests/runner.h"
#include "tests/validator/node.h"

int vt_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

pid_t vt_spawn(const char *const *argv, const char *out_path, const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (o >= 0)
            dup2(o, 1);
        if (e >= 0)
            dup2(e, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int vt_wait(pid_t pid, int timeout_s)
{
    int st = 0;
    for (long waited = 0; waited < timeout_s * 1000L; waited += 50) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        pause_ms(50);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

int vt_node_start(vt_node *n, const char *datadir, const char *genesis)
{
    char bind[64], out[700];
    n->port = vt_free_port();
    snprintf(n->datadir, sizeof n->datadir, "%s", datadir);
    snprintf(bind, sizeof bind, "127.0.0.1:%d", n->port);
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d/", n->port);
    snprintf(n->cookie, sizeof n->cookie, "%s/.cookie", datadir);
    snprintf(out, sizeof out, "%s/basedd.out", test_tmpdir());
    unlink(n->cookie);
    const char *argv[] = { test_bin("basedd"), "--dev", "--genesis", genesis, "--datadir", datadir,
                           "--rpc-bind", bind, NULL };
    n->pid = vt_spawn(argv, out, out);
    for (int i = 0; i < 400; i++) {
        int st;
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            n->pid = 0;
            return -1;
        }
        neuron_client *c = NULL;
        char err[CLI_ERR_LEN] = "no cookie file yet";
        if (access(n->cookie, R_OK) == 0 &&
            neuron_client_new(n->url, n->cookie, &c, err) == BASED_E_OK) {
            neuron_client_free(c);
            return 0;
        }
        if (i == 399)
            fprintf(stderr, "basedd at %s not ready: %s\n", n->url, err);
        pause_ms(50);
    }
    return -1;
}

void vt_node_stop(vt_node *n)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGTERM);
    vt_wait(n->pid, 20);
    n->pid = 0;
}
