/* devnet_opts.c: based-devnet's command line (see devnet_int.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "neurons/devnet_int.h"

/* ---------------- options ---------------- */

static const char *const default_methods[] = { "f32", "q8_0", "cerberus", "q4_0", "heads",
                                               "prime" };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: based-devnet [FLAGS]\n"
        "Starts a dev chain (basedd --dev), Brain %d, validators and miners, each its own\n"
        "process, and shows a live board; Ctrl-C stops them all. Running it again\n"
        "continues the same chain and the same neurons.\n\n"
        "  --datadir DIR        chain, logs (DIR/logs), PID files (DIR/run); default ~/.based/dev\n"
        "  --genesis FILE       genesis of a fresh chain (default: the built-in genesis.json)\n"
        "  --rpc-bind ADDR:PORT the node's RPC (default 127.0.0.1:9933)\n"
        "  --interval N         blocks between two validator rounds (default 10)\n"
        "  --miners LIST        compression methods, one miner each (default\n"
        "                       f32,q8_0,cerberus,q4_0,heads,prime)\n"
        "  --validators N       validators (default 2); validators and miners use dev2..dev9\n"
        "  --base-port P        first miner port (default 8091; a busy port is skipped)\n"
        "  --model FILE         the Brain's model (default models/based-fortunes.gguf)\n"
        "  --bin DIR            where basedd, based-validator and based-miner are\n"
        "                       (default: this program's directory)\n"
        "  --no-board           no live board: the banner, then events only\n"
        "  --help, --version\n\n"
        "Exit status: 0 stopped by Ctrl-C/SIGTERM, 1 runtime failure, 2 usage error.\n",
        DEVNET_BRAIN);
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("based-devnet: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see based-devnet --help)\n", stderr);
    va_end(ap);
    return 2;
}

static int parse_uint(const char *flag, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < lo || v > hi)
        return usage_err("%s must be an integer from %u to %u, not \"%s\"", flag, lo, hi, s);
    *out = (unsigned)v;
    return 0;
}

/* "f32,q8_0,..." into o->methods; each METHOD[:ARGS] of safe characters.
 * ARGS are key=value pairs joined by commas too, so a piece with '=' and
 * no ':' continues the method before it: "cerberus:levels=256,thresh=0.1". */
static int parse_methods(dn_opts *o, const char *list)
{
    char buf[512];
    if (strlen(list) >= sizeof buf)
        return usage_err("--miners: list too long");
    snprintf(buf, sizeof buf, "%s", list);
    o->nminers = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        for (const char *c = t; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || strchr("_:.=-", *c)))
                return usage_err("--miners: bad character '%c' in \"%s\"", *c, t);
        bool more = strchr(t, '=') && !strchr(t, ':');
        if (more && (!o->nminers || !strchr(o->methods[o->nminers - 1], ':')))
            return usage_err("--miners: \"%s\" follows no METHOD:ARGS", t);
        if (!more && o->nminers == DN_MAX_MINERS)
            return usage_err("--miners: at most %d miners", DN_MAX_MINERS);
        char *m = o->methods[more ? o->nminers - 1 : o->nminers++];
        size_t used = more ? strlen(m) : 0;
        int k = snprintf(m + used, sizeof o->methods[0] - used, "%s%s", more ? "," : "", t);
        if (k < 0 || (size_t)k >= sizeof o->methods[0] - used)
            return usage_err("--miners: method \"%s\" too long", m);
    }
    return o->nminers ? 0 : usage_err("--miners: no method given");
}

/* The directory of this program (for --bin). */
static void self_dir(char *out, size_t n)
{
    char exe[DN_PATH];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) {
        snprintf(out, n, "bin");
        return;
    }
    exe[k] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, n, "%s", exe);
}

static void opts_defaults(dn_opts *o)
{
    memset(o, 0, sizeof *o);
    const char *home = getenv("HOME");
    snprintf(o->datadir, sizeof o->datadir, "%s/.based/dev", home && *home ? home : ".");
    snprintf(o->rpc_bind, sizeof o->rpc_bind, "127.0.0.1:9933");
    o->interval = 10;
    o->base_port = 8091;
    o->nvalidators = 2;
    o->board = true;
    o->nminers = (int)BASED_ARRAY_LEN(default_methods);
    for (int i = 0; i < o->nminers; i++)
        snprintf(o->methods[i], sizeof o->methods[i], "%s", default_methods[i]);
    self_dir(o->bindir, sizeof o->bindir);
}

/* One flag with its value (argv[*i + 1]); returns 0, 2 on a usage error. */
static int opt_value(dn_opts *o, const char *f, const char *v)
{
    unsigned u;
    char *dst = NULL;
    size_t cap = 0;
    if (!strcmp(f, "--datadir"))
        dst = o->datadir, cap = sizeof o->datadir;
    else if (!strcmp(f, "--genesis"))
        dst = o->genesis, cap = sizeof o->genesis;
    else if (!strcmp(f, "--model"))
        dst = o->model, cap = sizeof o->model;
    else if (!strcmp(f, "--bin"))
        dst = o->bindir, cap = sizeof o->bindir;
    else if (!strcmp(f, "--rpc-bind"))
        dst = o->rpc_bind, cap = sizeof o->rpc_bind;
    if (dst) {
        if (!*v || strlen(v) >= cap)
            return usage_err("%s: empty or too long", f);
        snprintf(dst, cap, "%s", v);
        return 0;
    }
    if (!strcmp(f, "--interval"))
        return parse_uint(f, v, 1, 100000, &o->interval);
    if (!strcmp(f, "--base-port"))
        return parse_uint(f, v, 1024, 65535, &o->base_port);
    if (!strcmp(f, "--validators")) {
        if (parse_uint(f, v, 1, DN_NDEV - DN_FIRST_NEURON - 1, &u))
            return 2;
        o->nvalidators = (int)u;
        return 0;
    }
    if (!strcmp(f, "--miners"))
        return parse_methods(o, v);
    return usage_err("unknown flag %s", f);
}

/* 0 = run, 2 = usage error, 3 = --help/--version printed. */
int dn_parse_opts(int argc, char **argv, dn_opts *o)
{
    opts_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout), 3;
        if (!strcmp(a, "--version"))
            return printf("based-devnet %s\n", BASED_VERSION), 3;
        if (!strcmp(a, "--no-board")) {
            o->board = false;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return usage_err("unexpected argument \"%s\"", a);
        const char *eq = strchr(a, '=');
        char flag[64];
        if (eq) {
            snprintf(flag, sizeof flag, "%.*s", (int)(eq - a), a);
        } else {
            if (i + 1 >= argc)
                return usage_err("%s needs a value", a);
            snprintf(flag, sizeof flag, "%s", a);
        }
        if (opt_value(o, flag, eq ? eq + 1 : argv[++i]))
            return 2;
    }
    if (DN_FIRST_NEURON + o->nvalidators + o->nminers > DN_NDEV)
        return usage_err("%d validators and %d miners need dev%d..dev%d: at most %d neurons "
                         "(dev%d..dev%d)", o->nvalidators, o->nminers, DN_FIRST_NEURON,
                         DN_FIRST_NEURON + o->nvalidators + o->nminers - 1,
                         DN_NDEV - DN_FIRST_NEURON, DN_FIRST_NEURON, DN_NDEV - 1);
    if (o->base_port + (unsigned)o->nminers > 65535)
        return usage_err("--base-port %u leaves no room for %d miners", o->base_port, o->nminers);
    const char *colon = strrchr(o->rpc_bind, ':');
    unsigned port;
    if (!colon || colon == o->rpc_bind || parse_uint("--rpc-bind port", colon + 1, 1, 65535, &port))
        return colon && colon != o->rpc_bind ? 2 : usage_err("--rpc-bind must be ADDR:PORT");
    return 0;
}

/* Makes every path absolute (children run with the same cwd, but PID file
 * checks compare command lines); finds the default model. */
int dn_resolve_paths(dn_opts *o)
{
    char *p;
    if (dn_mkdirs(o->datadir) != 0)
        return dn_fail("cannot create %s: %s", o->datadir, strerror(errno));
    if (!(p = realpath(o->datadir, NULL)))
        return dn_fail("%s: %s", o->datadir, strerror(errno));
    snprintf(o->datadir, sizeof o->datadir, "%s", p);
    free(p);
    if (!o->model[0]) {
        char alt[DN_PATH];
        snprintf(o->model, sizeof o->model, "models/based-fortunes.gguf");
        if (!dn_is_file(o->model) && dn_path_fmt(alt, sizeof alt, "%s/../models/based-fortunes.gguf",
                                            o->bindir) && dn_is_file(alt))
            snprintf(o->model, sizeof o->model, "%s", alt);
    }
    char *const fields[] = { o->model, o->genesis, o->bindir };
    for (size_t i = 0; i < BASED_ARRAY_LEN(fields); i++) {
        if (!fields[i][0])
            continue;
        if (!(p = realpath(fields[i], NULL)))
            return dn_fail("%s: %s", fields[i], strerror(errno));
        snprintf(fields[i], DN_PATH, "%s", p);
        free(p);
    }
    return 0;
}
