/*
 * devproc.h: the child processes of based-devnet (neurons/devnet.c).
 *
 * A neuron_proc is one program run as a child: started with fork + exec in
 * its own process group (a Ctrl-C in the terminal reaches the parent only,
 * which then stops the children in its own order), stdin from /dev/null,
 * stdout and stderr appended to DATADIR/logs/NAME.log, its PID in
 * DATADIR/run/NAME.pid while it runs; collected with waitpid; stopped by
 * PID: SIGTERM, a timeout, then SIGKILL.
 *
 * PID files left by a crashed run are only acted on when the PID is alive
 * (a zombie is not) and /proc/PID/cmdline shows one of our programs with an
 * argument inside the data directory (neuron_proc_ours): a PID reused by
 * another program is never signalled.
 *
 * Single-threaded; a neuron_proc is a plain value owned by the caller.
 * Errors go into err (NEURON_PROC_ERR bytes), one line.
 */
#ifndef BASED_NEURONS_DEVPROC_H
#define BASED_NEURONS_DEVPROC_H

#include <stdio.h>
#include <sys/types.h>

#include "chain/base.h"

#define NEURON_PROC_PATH 1024
#define NEURON_PROC_ARGS 32
#define NEURON_PROC_ERR (NEURON_PROC_PATH + 256)

typedef struct {
    char name[64];
    char prog[NEURON_PROC_PATH], log[NEURON_PROC_PATH], pidfile[NEURON_PROC_PATH];
    char argbuf[8192];
    size_t arglen;
    char *argv[NEURON_PROC_ARGS + 1];
    int argc;
    bool missing;          /* prog is not an executable file */
    pid_t pid;             /* 0: not running */
    pid_t last_pid;        /* the PID of its last run */
    int status;            /* wait status of its last exit */
} neuron_proc;

/* Names p and its files: bindir/prog, datadir/logs/NAME.log,
 * datadir/run/NAME.pid; argv[0] is the program's path. false if a path
 * does not fit (then p is marked missing). */
bool neuron_proc_init(neuron_proc *p, const char *name, const char *bindir, const char *prog,
                      const char *datadir);
/* Appends an argument; false when NEURON_PROC_ARGS or the buffer is full. */
bool neuron_proc_arg(neuron_proc *p, const char *a);
/* Starts p: a line with the time and the command into its log, fork,
 * exec; writes its PID file. BASED_E_IO when the log cannot be opened or
 * fork fails; a failed exec shows in the log and as exit status 127. */
based_err neuron_proc_start(neuron_proc *p, char *err);
/* Collects exited children without blocking: returns the first one of
 * ps[0..n) that exited (pid 0, status set, PID file removed), NULL when
 * none did. Exited processes not in ps are collected and forgotten. */
neuron_proc *neuron_proc_reap(neuron_proc *const *ps, size_t n);
/* Stops the running ones of ps[0..n) together: SIGTERM, up to timeout_ms
 * for all, then SIGKILL (named on `report`, may be NULL); removes their
 * PID files. */
void neuron_proc_stop(neuron_proc *const *ps, size_t n, unsigned timeout_ms, FILE *report);
/* "exit 3", "signal 9" for a wait status. */
void neuron_proc_describe(int status, char *out, size_t n);

/* Is pid running (not a zombie)? */
bool neuron_proc_alive(pid_t pid);
/* Is pid one of progs (argv[0]'s base name; the list ends with NULL)
 * with an argument that is datadir or inside it? *what gets the base name. */
bool neuron_proc_ours(pid_t pid, const char *datadir, const char *const *progs, char *what,
                      size_t n);
/* Stops a process that is not our child: SIGTERM, up to timeout_ms, then
 * SIGKILL. */
void neuron_proc_kill(pid_t pid, unsigned timeout_ms);
/* A PID file's PID, 0 when missing or malformed. */
pid_t neuron_proc_pidfile_read(const char *path);
based_err neuron_proc_pidfile_write(const char *path, pid_t pid);

#endif
