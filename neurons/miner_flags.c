/*
 * miner_flags.c: based-miner's command line: the flag table (which is also
 * the --help text), value checks with one-line usage errors, and the
 * --compress METHOD[:key=value,...] mini-language mapped onto
 * model_compress_opts.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>

#include "neurons/miner_int.h"

#define PROG NEURON_MINER_PROG
#define DEFAULT_LISTEN "127.0.0.1:8091"
#define DEFAULT_MAX_CONCURRENT 8
#define MAX_WORKERS 64
#define MAX_CONCURRENT 4096

/* ---- flags ------------------------------------------------------------- */

enum { F_NODE = 1, F_COOKIE, F_BRAIN, F_KEY, F_WALLET_DIR, F_PASSWORD_FILE, F_MODEL, F_COMPRESS,
       F_LISTEN, F_PUBLIC_HOST, F_MAX_FEE, F_WORKERS, F_MAX_CONCURRENT, F_LOG_FILE, F_HELP,
       F_VERSION };

static const struct {
    const char *name, *arg, *help;
    int id;
} flags[] = {
    { "node", "URL", "the node's JSON-RPC URL (default " CLI_RPC_DEFAULT_URL ")", F_NODE },
    { "rpc-cookie", "FILE", "the node's cookie file (default: $BASED_DATADIR/.cookie, "
      "~/.based/dev/.cookie or ~/.based/.cookie, the first that exists)", F_COOKIE },
    { "brain", "ID", "the Brain to mine on (required)", F_BRAIN },
    { "key", "NAME|FILE", "the miner's account: dev0..dev9, a wallet name or a keystore file "
      "(required)", F_KEY },
    { "wallet-dir", "DIR", "where wallet names are looked up (default $BASED_WALLET_DIR or "
      "~/.based/keys)", F_WALLET_DIR },
    { "password-file", "FILE", "the keystore password (default $BASED_PASSWORD, else asked)",
      F_PASSWORD_FILE },
    { "model", "FILE", "the GGUF model to serve (default " MODEL_DEFAULT_PATH ")", F_MODEL },
    { "compress", "METHOD[:ARGS]", "f32 (serve the file as it is; default), q8_0, q4_0, "
      "cerberus, heads, consensus or prime; ARGS key=value,...: cerberus levels, thresh, alpha, "
      "rounding, activations; heads theta; consensus shards, keep "
      "(e.g. cerberus:levels=256,thresh=0.1)", F_COMPRESS },
    { "listen", "ADDR:PORT", "where to serve challenges (default " DEFAULT_LISTEN "; port 0: any "
      "free port)", F_LISTEN },
    { "public-host", "HOST", "the host published with serve (default the --listen address)",
      F_PUBLIC_HOST },
    { "max-fee", "AMOUNT", "the highest registration fee to pay, in BASED (default: any)",
      F_MAX_FEE },
    { "workers", "N", "inference threads, each with its own model state (default 1, at most 64)",
      F_WORKERS },
    { "max-concurrent", "N", "challenges queued or running at once; more get 429 (default 8)",
      F_MAX_CONCURRENT },
    { "log-file", "FILE", "also append the log (one line per challenge) to FILE", F_LOG_FILE },
    { "help", NULL, "this help", F_HELP },
    { "version", NULL, "print the version", F_VERSION },
};

/* Prints text from column `indent`, wrapped before column 79. */
static void wrap(const char *text, int col, int indent)
{
    while (*text) {
        int room = 79 - col, n = (int)strlen(text);
        if (n > room) {
            n = room;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)
                n = room;
        }
        printf("%.*s\n", n, text);
        text += n;
        while (*text == ' ')
            text++;
        if (*text)
            printf("%*s", indent, "");
        col = indent;
    }
}

static void help(void)
{
    printf("usage: " PROG " --brain ID --key NAME|FILE [options]\n\n"
           "Serves a compressed model to the validators of a Brain: registers as a miner if\n"
           "needed, publishes its endpoint and X25519 key (serve) and answers challenges sealed\n"
           "to it on POST " NEURON_CHALLENGE_PATH " with signed answers sealed to the validator.\n\n");
    for (size_t i = 0; i < BASED_ARRAY_LEN(flags); i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", flags[i].name, flags[i].arg ? " " : "",
                 flags[i].arg ? flags[i].arg : "");
        printf("  %-26s ", left);
        wrap(flags[i].help, 29, 29);
    }
    printf("\nRoutes: POST " NEURON_CHALLENGE_PATH " (sealed challenge -> sealed answer), "
           "GET /health (JSON).\nExit status: 0 stopped by SIGINT/SIGTERM, 1 runtime failure, "
           "2 usage error.\n");
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see " PROG " --help)\n");
    return 2;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* One flag's value into o; 0, or the exit status (usage error 2, or -1 for
 * "exit 0" after --help / --version). */
static int set_flag(neuron_miner_opts *o, int id, const char *v)
{
    long n;
    const char *why;
    switch (id) {
    case F_NODE: o->node = v; return 0;
    case F_COOKIE: o->cookie = v; return 0;
    case F_KEY: o->key = v; return 0;
    case F_WALLET_DIR: o->wallet_dir = v; return 0;
    case F_PASSWORD_FILE: o->password_file = v; return 0;
    case F_MODEL: o->model = v; return 0;
    case F_COMPRESS: o->compress = v; return 0;
    case F_LISTEN: o->listen = v; return 0;
    case F_PUBLIC_HOST: o->public_host = v; return 0;
    case F_LOG_FILE: o->log_file = v; return 0;
    case F_BRAIN:
        return parse_int(v, 0, 65535, &o->brain) ? 0 : usage("--brain \"%s\": expected 0-65535", v);
    case F_WORKERS:
        if (!parse_int(v, 1, MAX_WORKERS, &n))
            return usage("--workers \"%s\": expected 1-64", v);
        o->workers = (int)n;
        return 0;
    case F_MAX_CONCURRENT:
        if (!parse_int(v, 1, MAX_CONCURRENT, &n))
            return usage("--max-concurrent \"%s\": expected 1-4096", v);
        o->max_concurrent = (int)n;
        return 0;
    case F_MAX_FEE:
        return chain_amount_parse(v, &o->max_fee, &why) == BASED_E_OK
                   ? 0 : usage("--max-fee \"%s\": expected an amount in BASED, like 1.5", v);
    case F_HELP: help(); return -1;
    case F_VERSION: printf(PROG " " BASED_VERSION "\n"); return -1;
    default: return 2;
    }
}

/* Host part of "ADDR:PORT" / "[V6]:PORT" into out. */
static bool listen_host(const char *listen, char *out, size_t n)
{
    const char *colon = strrchr(listen, ':');
    const char *h = listen;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!colon || hl == 0 || hl >= n)
        return false;
    memcpy(out, h, hl);
    out[hl] = '\0';
    return true;
}

/* A host validators can put in a URL: a DNS name or IPv4 address (letters,
 * digits, '-' and '.', not starting with either), or an IPv6 address
 * (hex digits, ':' and '.'; brackets stripped by the caller). No scheme,
 * no port, no path. */
static bool host_ok(const char *h)
{
    size_t n = strlen(h);
    bool v6 = strchr(h, ':') != NULL;
    if (n == 0 || n > 253 || (!v6 && (h[0] == '-' || h[0] == '.')))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        bool ok = v6 ? (isxdigit(c) || c == ':' || c == '.')
                     : (isalnum(c) || c == '-' || c == '.');
        if (!ok)
            return false;
    }
    return true;
}

/* The checks across flags after parsing. */
static int check_opts(neuron_miner_opts *o, char *err, size_t errlen)
{
    if (o->brain < 0)
        return usage("%s", "--brain ID is required");
    if (!o->key)
        return usage("%s", "--key NAME|FILE is required (dev0..dev9, a wallet name or a keystore file)");
    if (!listen_host(o->listen, o->host, sizeof o->host))
        return usage("--listen \"%s\": expected ADDR:PORT", o->listen);
    if (o->public_host) {
        const char *h = o->public_host;
        size_t hl = strlen(h);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
            h++, hl -= 2;
        bool fits = hl < sizeof o->host;
        if (fits) {
            memcpy(o->host, h, hl);
            o->host[hl] = '\0';
        }
        if (!fits || !host_ok(o->host))
            return usage("--public-host \"%s\": expected a host name or an IP address, without "
                         "scheme, port or path (e.g. miner.example.org or 203.0.113.7)",
                         o->public_host);
    } else if (!host_ok(o->host)) {
        return usage("--listen \"%s\": \"%s\" is not a host name or an IP address", o->listen,
                     o->host);
    } else if (!strcmp(o->host, "0.0.0.0") || !strcmp(o->host, "::")) {
        return usage("--listen %s listens on every address: say which one to publish with "
                     "--public-host HOST", o->listen);
    }
    if (neuron_miner_parse_compress(o->compress, &o->copts, o->method, sizeof o->method, err,
                                    errlen) != BASED_E_OK)
        return usage("%s", err);
    if (o->max_concurrent < o->workers)
        o->max_concurrent = o->workers;
    return 0;
}

int neuron_miner_parse_args(int argc, char **argv, neuron_miner_opts *o)
{
    struct option lo[BASED_ARRAY_LEN(flags) + 1];
    char err[256];
    memset(o, 0, sizeof *o);
    o->brain = -1;
    o->model = MODEL_DEFAULT_PATH;
    o->compress = "f32";
    o->listen = DEFAULT_LISTEN;
    o->workers = 1;
    o->max_concurrent = DEFAULT_MAX_CONCURRENT;
    for (size_t i = 0; i < BASED_ARRAY_LEN(flags); i++)
        lo[i] = (struct option){ flags[i].name, flags[i].arg ? required_argument : no_argument,
                                 NULL, flags[i].id };
    memset(&lo[BASED_ARRAY_LEN(flags)], 0, sizeof lo[0]);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        if (c == '?' || c == ':')
            return c == ':' ? usage("%s needs a value", argv[optind - 1])
                            : usage("unknown option %s", argv[optind - 1]);
        int rc = set_flag(o, c, optarg);
        if (rc)
            return rc;
    }
    if (optind < argc)
        return usage("unexpected argument \"%s\"", argv[optind]);
    return check_opts(o, err, sizeof err);
}

/* ---- --compress METHOD[:ARGS] ------------------------------------------ */

enum { V_INT, V_FLOAT, V_ROUNDING, V_ONOFF };

static const struct {
    const char *key, *method;
    int kind;
    double lo, hi;
    size_t off;
} compress_keys[] = {
    { "levels", "cerberus", V_INT, 2, 256, offsetof(struct model_compress_opts, levels) },
    { "thresh", "cerberus", V_FLOAT, 0, 1e9, offsetof(struct model_compress_opts, thresh) },
    { "alpha", "cerberus", V_FLOAT, 1e-6, 1e6, offsetof(struct model_compress_opts, alpha) },
    { "rounding", "cerberus", V_ROUNDING, 0, 0, offsetof(struct model_compress_opts, floor_mode) },
    { "activations", "cerberus", V_ONOFF, 0, 0, offsetof(struct model_compress_opts, activations) },
    { "theta", "heads", V_FLOAT, -1e9, 1e9, offsetof(struct model_compress_opts, theta) },
    { "shards", "consensus", V_INT, 1, 255, offsetof(struct model_compress_opts, shards) },
    { "keep", "consensus", V_FLOAT, 1e-6, 1, offsetof(struct model_compress_opts, keep) },
};

static based_err set_compress_key(struct model_compress_opts *o, size_t k, const char *v,
                                  char *err, size_t errlen)
{
    char *end, *base = (char *)o + compress_keys[k].off;
    double d = strtod(v, &end);
    bool num_ok = *v && !*end && d >= compress_keys[k].lo && d <= compress_keys[k].hi;
    switch (compress_keys[k].kind) {
    case V_INT:
        if (!num_ok || d != (double)(int)d)
            break;
        *(int *)(void *)base = (int)d;
        return BASED_E_OK;
    case V_FLOAT:
        if (!num_ok)
            break;
        *(float *)(void *)base = (float)d;
        return BASED_E_OK;
    case V_ROUNDING:
    case V_ONOFF: {
        const char *yes = compress_keys[k].kind == V_ROUNDING ? "floor" : "on";
        const char *no = compress_keys[k].kind == V_ROUNDING ? "nearest" : "off";
        if (strcmp(v, yes) && strcmp(v, no))
            break;
        *(bool *)(void *)base = !strcmp(v, yes);
        return BASED_E_OK;
    }
    default:
        break;
    }
    snprintf(err, errlen, "--compress: %s=%s is out of range or malformed", compress_keys[k].key, v);
    return BASED_E_BAD_PARAM;
}

/* One "key=value" of method into o. */
static based_err compress_arg(struct model_compress_opts *o, const char *method, char *kv,
                              char *err, size_t errlen)
{
    char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(err, errlen, "--compress: \"%s\" is not key=value", kv);
        return BASED_E_BAD_PARAM;
    }
    *eq = '\0';
    for (size_t k = 0; k < BASED_ARRAY_LEN(compress_keys); k++) {
        if (strcmp(kv, compress_keys[k].key))
            continue;
        if (strcmp(method, compress_keys[k].method)) {
            snprintf(err, errlen, "--compress: %s is an option of %s, not of %s", kv,
                     compress_keys[k].method, method);
            return BASED_E_BAD_PARAM;
        }
        return set_compress_key(o, k, eq + 1, err, errlen);
    }
    snprintf(err, errlen, "--compress: unknown option \"%s\" (cerberus: levels thresh alpha "
             "rounding activations; heads: theta; consensus: shards keep)", kv);
    return BASED_E_BAD_PARAM;
}

based_err neuron_miner_parse_compress(const char *spec, struct model_compress_opts *o,
                                      char *method_buf, size_t cap, char *err, size_t errlen)
{
    char buf[512];
    model_compress_defaults(o);
    if (!spec || strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "--compress: expected METHOD[:key=value,...]");
        return BASED_E_BAD_PARAM;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    char *args = strchr(buf, ':');
    if (args)
        *args++ = '\0';
    if (args && !*args) {
        snprintf(err, errlen, "--compress %s: nothing after ':' (key=value,...)", spec);
        return BASED_E_BAD_PARAM;
    }
    if (!model_method_known(buf) || strlen(buf) >= cap) {
        snprintf(err, errlen, "--compress: unknown method \"%s\" (f32 q8_0 q4_0 cerberus heads "
                 "consensus prime)", buf);
        return BASED_E_BAD_PARAM;
    }
    snprintf(method_buf, cap, "%s", buf);
    o->method = method_buf;
    for (char *save = NULL, *kv = args ? strtok_r(args, ",", &save) : NULL; kv;
         kv = strtok_r(NULL, ",", &save))
        if (compress_arg(o, method_buf, kv, err, errlen) != BASED_E_OK)
            return BASED_E_BAD_PARAM;
    return BASED_E_OK;
}

