/*
 * password.c: password from a file, the environment or a no-echo prompt on
 * /dev/tty (rules in password.h). Every copy of a password lives in
 * sodium_malloc'd memory and is wiped when freed; the terminal's echo flag
 * is restored before returning on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include "cli/password.h"
#include "chain/base.h"

#define PW_FILE_CAP (64 * 1024)

void cli_password_free(char *pw)
{
    if (pw)
        sodium_free(pw);   /* sodium_free wipes before unmapping */
}

/* Copies the first line of s (up to \n or \r\n) into fresh secure memory. */
static based_err first_line(const char *s, size_t n, const char *src, char **out, char *err)
{
    size_t l = 0;
    while (l < n && s[l] != '\n')
        l++;
    if (l > 0 && s[l - 1] == '\r')
        l--;
    if (l == 0)
        return cli_fail(err, BASED_E_BAD_PARAM, "the password from %s is empty", src);
    if (l > CLI_PASSWORD_MAX)
        return cli_fail(err, BASED_E_TOO_LARGE,
                        "the password from %s is longer than %d bytes", src, CLI_PASSWORD_MAX);
    char *pw = sodium_malloc(l + 1);
    if (!pw)
        return cli_fail(err, BASED_E_NOMEM, "out of secure memory");
    memcpy(pw, s, l);
    pw[l] = '\0';
    *out = pw;
    return BASED_E_OK;
}

based_err cli_password_from_file(const char *file, char **out, char *err)
{
    char *text;
    size_t len;
    *out = NULL;
    based_err rc = cli_read_file(file, PW_FILE_CAP, true, &text, &len, err);
    if (rc != BASED_E_OK)
        return rc;
    char src[4200];
    snprintf(src, sizeof src, "password file %s", file);
    rc = first_line(text, len, src, out, err);
    sodium_free(text);
    return rc;
}

/* One no-echo line from the terminal fd into buf (secure, cap bytes). */
static based_err prompt_once(int fd, const char *prompt, char *buf, size_t cap, char *err)
{
    struct termios old, quiet;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)!write(fd, prompt, strlen(prompt));
    size_t n = 0;
    based_err rc = BASED_E_OK;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = cli_fail(err, BASED_E_IO, "no password entered at the prompt");
            break;
        }
        if (c == '\n')
            break;
        if (n + 1 >= cap) {
            rc = cli_fail(err, BASED_E_TOO_LARGE, "password is longer than %d bytes",
                          CLI_PASSWORD_MAX);
            break;
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    (void)!write(fd, "\n", 1);
    if (rc == BASED_E_OK && n == 0)
        rc = cli_fail(err, BASED_E_BAD_PARAM, "the password is empty");
    return rc;
}

static based_err from_tty(const char *what, bool confirm, char **out, char *err)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return cli_fail(err, BASED_E_BAD_PARAM,
                        "a password is needed for %s and there is no terminal to ask: use "
                        "--password-file FILE or set BASED_PASSWORD",
                        what);
    const size_t cap = CLI_PASSWORD_MAX + 2;
    char *a = sodium_malloc(cap), *b = confirm ? sodium_malloc(cap) : NULL;
    based_err rc = BASED_E_OK;
    char prompt[128];
    if (!a || (confirm && !b)) {
        rc = cli_fail(err, BASED_E_NOMEM, "out of secure memory");
    } else {
        snprintf(prompt, sizeof prompt, "Password for %s: ", what);
        rc = prompt_once(fd, prompt, a, cap, err);
        if (rc == BASED_E_OK && confirm) {
            rc = prompt_once(fd, "Repeat the password: ", b, cap, err);
            if (rc == BASED_E_OK && strcmp(a, b) != 0)
                rc = cli_fail(err, BASED_E_BAD_PASSWORD,
                              "the two passwords differ; run the command again");
        }
    }
    close(fd);
    if (b)
        sodium_free(b);
    if (rc != BASED_E_OK) {
        if (a)
            sodium_free(a);
        return rc;
    }
    *out = a;
    return BASED_E_OK;
}

based_err cli_password_get(const char *file, const char *what, bool confirm, char **out,
                           char *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libsodium");
    if (file && *file)
        return cli_password_from_file(file, out, err);
    const char *env = getenv("BASED_PASSWORD");
    if (env && *env)
        return first_line(env, strlen(env), "BASED_PASSWORD", out, err);
    return from_tty(what, confirm, out, err);
}
