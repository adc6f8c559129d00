/*
 * log.h: the node's log. One line per call, ISO-8601 UTC timestamp with
 * milliseconds, a five-column level and the message:
 *
 *     2026-11-23T10:00:00.123Z INFO  block 12 committed
 *
 * Lines go to stderr and, after node_log_open(), are also appended to a file.
 * Calls below the current level are dropped. Every function is safe to call
 * from any thread (one mutex guards the level, the file and the writes).
 */
#ifndef BASED_NODE_LOG_H
#define BASED_NODE_LOG_H

#include <time.h>

#include "chain/base.h"

typedef enum {
    NODE_LOG_ERROR = 0,
    NODE_LOG_WARN,
    NODE_LOG_INFO,
    NODE_LOG_DEBUG,
} node_log_level;

/* Longest line written; longer messages are truncated. */
#define NODE_LOG_LINE_MAX 2048

/* Logs one line at `level` (dropped when level is above the current one). */
void node_log(node_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void node_log_v(node_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Current level (default NODE_LOG_INFO). */
void node_log_set_level(node_log_level level);
node_log_level node_log_get_level(void);

/* "error", "warn", "info" or "debug" -> *out; BASED_E_CONFIG for anything
 * else (*out untouched). */
based_err node_log_parse_level(const char *s, node_log_level *out);
/* "ERROR", "WARN", "INFO", "DEBUG" ("?" for anything else). */
const char *node_log_level_name(node_log_level level);

/* Also append every line to `path` (created 0600 if missing). Replaces a
 * file opened before. BASED_E_IO when it cannot be opened. */
based_err node_log_open(const char *path);
/* Stops writing to the file (no-op if none). */
void node_log_close(void);
/* Writes to stderr or not (default on); tests and daemons may turn it off. */
void node_log_set_stderr(bool on);

/* Formats one line, newline included, into buf (always NUL-terminated when
 * cap > 0). Returns the length written (truncated to cap - 1). Exposed for
 * tests. */
size_t node_log_format(char *buf, size_t cap, node_log_level level,
                       const struct timespec *ts, const char *msg);

#endif
