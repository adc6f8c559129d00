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
#include "tests/support.h"
#include "tests/validator/node.h"

int vt_wait(pid_t pid, int timeout_s)
{
    int st = 0;
    for (long waited = 0; waited < timeout_s * 1000L; waited += 50) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        tsup_nap_ms(50);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

int vt_node_start(vt_node *n, const char *datadir, const char *genesis)
{
    char bind[64], out[700];
    n->port = tsup_free_port();
    snprintf(n->datadir, sizeof n->datadir, "%s", datadir);
    snprintf(bind, sizeof bind, "127.0.0.1:%d", n->port);
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d/", n->port);
    snprintf(n->cookie, sizeof n->cookie, "%s/.cookie", datadir);
    snprintf(out, sizeof out, "%s/basedd.out", test_tmpdir());
    unlink(n->cookie);
    const char *argv[] = { test_bin("basedd"), "--dev", "--genesis", genesis, "--datadir", datadir,
                           "--rpc-bind", bind, NULL };
    n->pid = tsup_spawn(argv, out, out, true);
    for (int i = 0; i < 400; i++) {
        int st;
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            n->pid = 0;
            return -1;
        }
        neuron_client *c = NULL;
        char err[CLI_ERR_LEN] = "no cookie file yet";
        if (access(n->cookie, R_OK) == 0 &&
            neuron_client_new(n->url, n->cookie, 0, &c, err) == BASED_E_OK) {
            neuron_client_free(c);
            return 0;
        }
        if (i == 399)
            fprintf(stderr, "basedd at %s not ready: %s\n", n->url, err);
        tsup_nap_ms(50);
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
