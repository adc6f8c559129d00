/*
 * log.c: the node's log lines (see log.h). A single mutex serialises the
 * writes so lines from different threads never interleave; the timestamp is
 * taken with clock_gettime(CLOCK_REALTIME) and printed in UTC with gmtime_r.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "node/log.h"
#include "chain/base.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static node_log_level log_level = NODE_LOG_INFO;
static int log_fd = -1;
static bool log_stderr = true;

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
static const char *const level_words[] = { "error", "warn", "info", "debug" };

const char *node_log_level_name(node_log_level level)
{
    if ((int)level < 0 || (size_t)level >= BASED_ARRAY_LEN(level_names))
        return "?";
    return level_names[level];
}

based_err node_log_parse_level(const char *s, node_log_level *out)
{
    if (!s || !out)
        return BASED_E_CONFIG;
    for (size_t i = 0; i < BASED_ARRAY_LEN(level_words); i++) {
        if (strcmp(s, level_words[i]) == 0) {
            *out = (node_log_level)i;
            return BASED_E_OK;
        }
    }
    return BASED_E_CONFIG;
}

void node_log_set_level(node_log_level level)
{
    if ((int)level < 0 || level > NODE_LOG_DEBUG)
        return;
    pthread_mutex_lock(&log_mu);
    log_level = level;
    pthread_mutex_unlock(&log_mu);
}

node_log_level node_log_get_level(void)
{
    pthread_mutex_lock(&log_mu);
    node_log_level l = log_level;
    pthread_mutex_unlock(&log_mu);
    return l;
}

void node_log_set_stderr(bool on)
{
    pthread_mutex_lock(&log_mu);
    log_stderr = on;
    pthread_mutex_unlock(&log_mu);
}

based_err node_log_open(const char *path)
{
    if (!path)
        return BASED_E_IO;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return BASED_E_IO;
    pthread_mutex_lock(&log_mu);
    int old = log_fd;
    log_fd = fd;
    pthread_mutex_unlock(&log_mu);
    if (old >= 0)
        close(old);
    return BASED_E_OK;
}

void node_log_close(void)
{
    pthread_mutex_lock(&log_mu);
    int old = log_fd;
    log_fd = -1;
    pthread_mutex_unlock(&log_mu);
    if (old >= 0)
        close(old);
}

size_t node_log_format(char *buf, size_t cap, node_log_level level,
                       const struct timespec *ts, const char *msg)
{
    struct tm tm;
    time_t secs = ts->tv_sec;
    if (cap == 0)
        return 0;
    if (!gmtime_r(&secs, &tm))
        memset(&tm, 0, sizeof tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000000),
                     node_log_level_name(level), msg);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    if ((size_t)n >= cap) {         /* truncated: keep the newline */
        n = (int)cap - 1;
        if (n > 0)
            buf[n - 1] = '\n';
        buf[n] = '\0';
    }
    return (size_t)n;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;                 /* a log write failure is not fatal */
        p += w;
        n -= (size_t)w;
    }
}

void node_log_v(node_log_level level, const char *fmt, va_list ap)
{
    char msg[NODE_LOG_LINE_MAX], line[NODE_LOG_LINE_MAX + 64];
    struct timespec ts;
    if (level > node_log_get_level())
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = node_log_format(line, sizeof line, level, &ts, msg);
    pthread_mutex_lock(&log_mu);
    if (log_stderr)
        write_all(STDERR_FILENO, line, n);
    if (log_fd >= 0)
        write_all(log_fd, line, n);
    pthread_mutex_unlock(&log_mu);
}

void node_log(node_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    node_log_v(level, fmt, ap);
    va_end(ap);
}
