/*
 * support.h: process and time helpers shared by every test binary and
 * benchmark that runs the real programs (linked with tests/runner.c into
 * each test binary, and into each bench/ program).
 */
#ifndef BASED_TESTS_SUPPORT_H
#define BASED_TESTS_SUPPORT_H

#include <stdbool.h>
#include <sys/types.h>

/* A free TCP port on 127.0.0.1 (bound and released), or -1. */
int tsup_free_port(void);

/* fork + execv(argv[0], argv) with stdout into the file `out` and stderr
 * into `err` (NULL: the same file as stdout); the files are appended to
 * when `append`, else truncated. The child's PID, or -1. */
pid_t tsup_spawn(const char *const *argv, const char *out, const char *err, bool append);

/* Sleeps ms milliseconds. */
void tsup_nap_ms(unsigned ms);

/* Milliseconds on the monotonic clock. */
double tsup_now_ms(void);

#endif
