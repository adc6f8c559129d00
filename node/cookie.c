/*
 * cookie.c: the RPC cookie file (see cookie.h). The secret is generated with
 * randombytes_buf, hex-encoded with sodium_bin2hex, and the random bytes are
 * wiped afterwards. The file is first written to DATADIR/.cookie.tmp with
 * mode 0600 (fchmod as well, in case a stale temporary had other bits),
 * synced, then renamed over .cookie.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/cookie.h"
#include "chain/base.h"

based_err node_cookie_path(const char *datadir, char *buf, size_t cap)
{
    if (!datadir || !buf || cap == 0)
        return BASED_E_TOO_LARGE;
    int n = snprintf(buf, cap, "%s/%s", datadir, NODE_COOKIE_FILE);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return BASED_E_TOO_LARGE;
    }
    return BASED_E_OK;
}

static void make_cookie(char out[NODE_COOKIE_BUFSZ])
{
    unsigned char secret[32];
    char hex[65];
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
    snprintf(out, NODE_COOKIE_BUFSZ, "%s:%s", NODE_COOKIE_USER, hex);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(hex, sizeof hex);
}

static based_err write_file(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return BASED_E_IO;
    bool ok = fchmod(fd, 0600) == 0;
    size_t off = 0;
    while (ok && off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    return ok ? BASED_E_OK : BASED_E_IO;
}

based_err node_cookie_write(const char *datadir, char *out, size_t cap)
{
    char path[4096], tmp[4096 + 8], cookie[NODE_COOKIE_BUFSZ];
    if (!out || cap < NODE_COOKIE_BUFSZ)
        return BASED_E_TOO_LARGE;
    out[0] = '\0';
    if (sodium_init() < 0)
        return BASED_E_INTERNAL;
    based_err e = node_cookie_path(datadir, path, sizeof path);
    if (e != BASED_E_OK)
        return e;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    make_cookie(cookie);
    e = write_file(tmp, cookie, strlen(cookie));
    if (e == BASED_E_OK && rename(tmp, path) != 0)
        e = BASED_E_IO;
    if (e != BASED_E_OK)
        unlink(tmp);
    else
        memcpy(out, cookie, NODE_COOKIE_BUFSZ);
    sodium_memzero(cookie, sizeof cookie);
    return e;
}

static bool is_cookie(const char *s, size_t n)
{
    size_t ulen = sizeof(NODE_COOKIE_USER) - 1;
    if (n < ulen + 2 || memcmp(s, NODE_COOKIE_USER ":", ulen + 1) != 0)
        return false;
    for (size_t i = ulen + 1; i < n; i++)
        if ((unsigned char)s[i] <= ' ')
            return false;
    return true;
}

based_err node_cookie_read(const char *path, char *out, size_t cap)
{
    char buf[NODE_COOKIE_BUFSZ + 8];
    if (!out || cap < NODE_COOKIE_BUFSZ)
        return BASED_E_TOO_LARGE;
    out[0] = '\0';
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return BASED_E_IO;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0)
        return BASED_E_IO;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    if ((size_t)n > NODE_COOKIE_LEN || !is_cookie(buf, (size_t)n))
        return BASED_E_DECODE;
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
    sodium_memzero(buf, sizeof buf);
    return BASED_E_OK;
}

based_err node_cookie_remove(const char *datadir)
{
    char path[4096];
    based_err e = node_cookie_path(datadir, path, sizeof path);
    if (e != BASED_E_OK)
        return e;
    if (unlink(path) != 0 && errno != ENOENT)
        return BASED_E_IO;
    return BASED_E_OK;
}
