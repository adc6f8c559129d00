/*
 * util.c: error formatting, capped file reads, home paths and mkdir -p for
 * the based-cli library (see util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/util.h"
#include "chain/base.h"

based_err cli_fail(char *err, based_err rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, CLI_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return rc;
}

based_err cli_read_file(const char *path, size_t cap, bool secure, char **out,
                        size_t *len, char *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cli_fail(err, BASED_E_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cli_fail(err, BASED_E_IO, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > cap) {
        close(fd);
        return cli_fail(err, BASED_E_TOO_LARGE, "%s is too large (%lld bytes, at most %zu)",
                        path, (long long)st.st_size, cap);
    }
    size_t want = (size_t)st.st_size;
    if (secure && sodium_init() < 0) {
        close(fd);
        return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libsodium");
    }
    char *buf = secure ? sodium_malloc(want + 1) : malloc(want + 1);
    if (!buf) {
        close(fd);
        return cli_fail(err, BASED_E_NOMEM, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int saved = errno;
    close(fd);
    if (got != want) {
        if (secure)
            sodium_free(buf);
        else
            free(buf);
        return cli_fail(err, BASED_E_IO, "cannot read %s: %s", path,
                        got < want ? "file changed while reading" : strerror(saved));
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return BASED_E_OK;
}

based_err cli_home_path(const char *rel, char *out, size_t n, char *err)
{
    const char *home = getenv("HOME");
    if (!home || !*home)
        return cli_fail(err, BASED_E_CONFIG, "HOME is not set; set it or pass the path explicitly");
    int w = snprintf(out, n, "%s/%s", home, rel);
    if (w < 0 || (size_t)w >= n)
        return cli_fail(err, BASED_E_CONFIG, "path under HOME is too long");
    return BASED_E_OK;
}

based_err cli_mkdirs(const char *path, unsigned mode, char *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return cli_fail(err, BASED_E_CONFIG, "bad directory path \"%s\"", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
            return cli_fail(err, BASED_E_IO, "cannot create directory %s: %s", buf,
                            strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_fail(err, BASED_E_IO, "%s is not a directory", path);
    return BASED_E_OK;
}
