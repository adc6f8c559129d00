/*
 * net_setup.c: creating a network directory for based-net and reading and
 * writing its description, DIR/net.json (see net.h for the layout).
 *
 * A new network: ports (free loopback ports, or consecutive ones from
 * --base-port, each bind-probed), `cometbft init` for every node's home,
 * fresh authority keys (our key file format) and p2p node keys, our genesis
 * with those authorities (cmtgen_net_genesis), CometBFT's genesis from it,
 * priv_validator_key.json from each authority key, and config.toml edited
 * line by line: the app's address, the node's own ports, every other node
 * as a persistent peer, loopback-friendly p2p, the block interval.
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/authkey.h"
#include "node/net.h"

#define PORTS_PER_NODE 4
#define NET_JSON_MAX (1u << 20)

static based_err fail(char *err, based_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static based_err fail(char *err, based_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, NODE_NET_ERR, fmt, ap);
    va_end(ap);
    return rc;
}

/* a "/" b ["/" c] into out, false when it does not fit. */
static bool join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c && *c ? strlen(c) + 1 : 0;
    if (la + 1 + lb + lc + 1 > cap)
        return false;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb);
    if (lc) {
        out[la + 1 + lb] = '/';
        memcpy(out + la + 2 + lb, c, lc - 1);
    }
    out[la + 1 + lb + lc] = '\0';
    return true;
}

bool node_net_path(const node_net *n, size_t k, const char *rel, char *out, size_t cap)
{
    return join(out, cap, n->dir, n->node[k].name, rel);
}

static bool dir_path(const node_net *n, const char *rel, char *out, size_t cap)
{
    return join(out, cap, n->dir, rel, NULL);
}

/* Binds 127.0.0.1:port (0: any); the socket (kept open by the caller so
 * that ports picked together differ) or -1. */
static int probe(int port, int *got)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    socklen_t len = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *got = ntohs(a.sin_port);
    return fd;
}

bool node_net_port_free(int port)
{
    int got, fd = port > 0 && port < 65536 ? probe(port, &got) : -1;
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

static bool sock_fits(const node_net *n, size_t k)
{
    char p[NODE_NET_PATH];
    struct sockaddr_un su;
    return node_net_path(n, k, "basedd/abci.sock", p, sizeof p) && strlen(p) < sizeof su.sun_path;
}

/* Ports of every node: rpc, CometBFT rpc, p2p, and abci when the unix
 * socket's path is too long. */
static based_err pick_ports(node_net *n, int base, char *err)
{
    int fds[NODE_NET_MAX * PORTS_PER_NODE], nfd = 0, v[PORTS_PER_NODE];
    based_err rc = BASED_E_OK;
    for (size_t k = 0; k < n->n && rc == BASED_E_OK; k++) {
        size_t need = !sock_fits(n, k) && !node_net_kvstore(n) ? 4 : 3;
        for (size_t i = 0; i < need && rc == BASED_E_OK; i++) {
            int want = base ? base + (int)(k * PORTS_PER_NODE + i) : 0;
            if (want > 65535 || (fds[nfd] = probe(want, &v[i])) < 0)
                rc = want ? fail(err, BASED_E_UNAVAILABLE, "port %d (from --base-port %d) is in "
                                 "use or invalid; pick another --base-port", want, base)
                          : fail(err, BASED_E_IO, "cannot bind a loopback port: %s",
                                 strerror(errno));
            else
                nfd++;
        }
        n->node[k].rpc_port = v[0];
        n->node[k].cmt_rpc_port = v[1];
        n->node[k].p2p_port = v[2];
        n->node[k].abci_port = need == 4 ? v[3] : 0;
    }
    while (nfd > 0)
        close(fds[--nfd]);
    return rc;
}

static based_err mkdir_one(const char *path, mode_t mode, char *err)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return fail(err, BASED_E_IO, "cannot create %s: %s", path, strerror(errno));
    return BASED_E_OK;
}

static based_err read_text(const char *path, size_t cap, char **out, char *err)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f)
        return fail(err, BASED_E_IO, "cannot read %s: %s", path, strerror(errno));
    char *buf = malloc(cap + 1);
    size_t len = buf ? fread(buf, 1, cap + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad || len > cap) {
        free(buf);
        return fail(err, BASED_E_IO, "cannot read %s (%s)", path,
                    len > cap ? "too large" : "read error");
    }
    buf[len] = '\0';
    *out = buf;
    return BASED_E_OK;
}

/* `cometbft init` for node k, then its p2p key: node_key.json and ID. */
static based_err init_home(node_net *n, size_t k, char *err)
{
    char home[NODE_NET_PATH], out[4096], key[NODE_NET_PATH];
    if (!node_net_path(n, k, "cometbft", home, sizeof home) ||
        !node_net_path(n, k, "cometbft/config/node_key.json", key, sizeof key))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    const char *argv[] = { n->prog[NODE_NET_COMETBFT], "init", "--home", home, NULL };
    int st = node_net_run(argv, out, sizeof out);
    if (st != 0)
        return fail(err, BASED_E_IO, "`%s init --home %s` failed (exit %d): %.400s",
                    n->prog[NODE_NET_COMETBFT], home, st, out);
    uint8_t *sk = sodium_malloc(64);
    chain_edpub pub;
    char *text;
    if (!sk)
        return fail(err, BASED_E_NOMEM, "out of memory");
    chain_ed_generate(sk, &pub);
    based_err rc = cmtgen_node_key_json(sk, &text, err, NODE_NET_ERR);
    sodium_free(sk);
    if (rc != BASED_E_OK)
        return rc;
    rc = cmtgen_write_file(key, text, strlen(text), 0600, false, err, NODE_NET_ERR);
    cmtgen_secret_free(text);
    cmtgen_node_id(&pub, n->node[k].node_id);
    return rc;
}

/* The authority key of node k (created) and its priv_validator files. */
static based_err make_authority(node_net *n, size_t k, chain_edpub *pub, char *err)
{
    char keys[NODE_NET_PATH], path[NODE_NET_PATH], pv[NODE_NET_PATH], st[NODE_NET_PATH];
    node_authkey ak;
    if (!node_net_path(n, k, "basedd/keys", keys, sizeof keys) ||
        !node_net_path(n, k, "basedd/keys/authority.json", path, sizeof path) ||
        !node_net_path(n, k, "cometbft/config/priv_validator_key.json", pv, sizeof pv) ||
        !node_net_path(n, k, "cometbft/data/priv_validator_state.json", st, sizeof st))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    based_err rc = mkdir_one(keys, 0700, err);
    if (rc == BASED_E_OK)
        rc = node_authkey_create(path, &ak, err, NODE_NET_ERR);
    if (rc != BASED_E_OK)
        return rc;
    *pub = ak.pub;
    node_authkey_free(&ak);
    unlink(pv);     /* the key `cometbft init` made */
    rc = cmtgen_write_validator_key(path, pv, err, NODE_NET_ERR);
    if (rc == BASED_E_OK)
        rc = cmtgen_write_file(st, cmtgen_validator_state_json(),
                               strlen(cmtgen_validator_state_json()), 0600, false, err,
                               NODE_NET_ERR);
    return rc;
}

/* The persistent_peers value of node k: every other node. */
static void peers_of(const node_net *n, size_t k, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '"';
    off = 1;
    for (size_t j = 0; j < n->n; j++) {
        if (j == k)
            continue;
        int w = snprintf(out + off, cap - off, "%s%s@127.0.0.1:%d", off > 1 ? "," : "",
                         n->node[j].node_id, n->node[j].p2p_port);
        if (w > 0 && (size_t)w < cap - off)
            off += (size_t)w;
    }
    snprintf(out + off, cap - off, "\"");
}

static based_err edit_config(const node_net *n, size_t k, char *err)
{
    char path[NODE_NET_PATH], sock[NODE_NET_PATH], proxy[NODE_NET_PATH + 16];
    char rpc[64], p2p[64], moniker[32], tc[32], ll[80], peers[NODE_NET_MAX * 64];
    char *text;
    if (!node_net_path(n, k, "cometbft/config/config.toml", path, sizeof path) ||
        !node_net_path(n, k, "basedd/abci.sock", sock, sizeof sock))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    if (node_net_kvstore(n))
        snprintf(proxy, sizeof proxy, "\"kvstore\"");
    else if (n->node[k].abci_port)
        snprintf(proxy, sizeof proxy, "\"tcp://127.0.0.1:%d\"", n->node[k].abci_port);
    else
        snprintf(proxy, sizeof proxy, "\"unix://%s\"", sock);
    snprintf(rpc, sizeof rpc, "\"tcp://127.0.0.1:%d\"", n->node[k].cmt_rpc_port);
    snprintf(p2p, sizeof p2p, "\"tcp://127.0.0.1:%d\"", n->node[k].p2p_port);
    snprintf(moniker, sizeof moniker, "\"%s\"", n->node[k].name);
    snprintf(tc, sizeof tc, "\"%s\"", n->timeout_commit);
    snprintf(ll, sizeof ll, "\"%s\"", n->log_level);
    peers_of(n, k, peers, sizeof peers);
    const struct { const char *sec, *key, *val; } set[] = {
        { "", "proxy_app", proxy }, { "", "moniker", moniker }, { "", "log_level", ll },
        { "rpc", "laddr", rpc }, { "p2p", "laddr", p2p }, { "p2p", "persistent_peers", peers },
        { "p2p", "addr_book_strict", "false" }, { "p2p", "allow_duplicate_ip", "true" },
        { "p2p", "pex", "false" }, { "consensus", "timeout_commit", tc },
        { "consensus", "create_empty_blocks", "true" },
        { "instrumentation", "prometheus", "false" }, { "tx_index", "indexer", "\"null\"" },
    };
    based_err rc = read_text(path, CMTGEN_TOML_MAX, &text, err);
    for (size_t i = 0; rc == BASED_E_OK && i < BASED_ARRAY_LEN(set); i++)
        rc = cmtgen_toml_set(&text, set[i].sec, set[i].key, set[i].val, err, NODE_NET_ERR);
    if (rc == BASED_E_OK)
        rc = cmtgen_write_file(path, text, strlen(text), 0644, false, err, NODE_NET_ERR);
    else if (rc == BASED_E_NOT_FOUND)
        snprintf(err + strlen(err), NODE_NET_ERR - strlen(err),
                 " (%s: is this CometBFT 0.38?)", path);
    free(text);
    return rc;
}

/* Writes text to DIR/rel and to nodeK/rel_k for every node. */
static based_err spread(const node_net *n, const char *rel, const char *rel_k, const char *text,
                        char *err)
{
    char p[NODE_NET_PATH];
    if (!dir_path(n, rel, p, sizeof p))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    based_err rc = cmtgen_write_file(p, text, strlen(text), 0644, false, err, NODE_NET_ERR);
    for (size_t k = 0; k < n->n && rc == BASED_E_OK; k++)
        rc = node_net_path(n, k, rel_k, p, sizeof p)
             ? cmtgen_write_file(p, text, strlen(text), 0644, false, err, NODE_NET_ERR)
             : fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    return rc;
}

/* Our genesis and CometBFT's, into DIR and every node. */
static based_err write_geneses(node_net *n, const chain_edpub *keys, char *err)
{
    char *ours, *theirs;
    chain_genesis g;
    uint64_t now = (uint64_t)time(NULL) * 1000u;
    based_err rc = cmtgen_net_genesis(chain_genesis_default, keys, n->nauth, 10, now, &ours, err,
                                      NODE_NET_ERR);
    if (rc != BASED_E_OK)
        return rc;
    rc = chain_genesis_parse(ours, strlen(ours), "genesis.json", &g, err, NODE_NET_ERR);
    if (rc == BASED_E_OK) {
        snprintf(n->chain_id, sizeof n->chain_id, "%s", g.chain_id);
        rc = cmtgen_genesis_json(&g, &theirs, err, NODE_NET_ERR);
        chain_genesis_release(&g);
        if (rc == BASED_E_OK) {
            rc = spread(n, "cometbft-genesis.json", "cometbft/config/genesis.json", theirs, err);
            free(theirs);
        }
    }
    if (rc == BASED_E_OK)
        rc = spread(n, "genesis.json", "basedd/genesis.json", ours, err);
    free(ours);
    return rc;
}

static based_err make_dirs(const node_net *n, size_t k, char *err)
{
    char a[NODE_NET_PATH], b[NODE_NET_PATH];
    if (!node_net_path(n, k, "", a, sizeof a) || !node_net_path(n, k, "basedd", b, sizeof b))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    based_err rc = mkdir_one(a, 0755, err);
    return rc == BASED_E_OK ? mkdir_one(b, 0700, err) : rc;
}

based_err node_net_create(node_net *n, const node_net_opts *o, char *err)
{
    chain_edpub keys[NODE_NET_MAX_AUTH];
    n->nauth = (size_t)o->nauth;
    n->n = n->nauth + (size_t)(o->nfull < 0 ? 1 : o->nfull);
    snprintf(n->app, sizeof n->app, "%s", o->app ? o->app : "based");
    snprintf(n->timeout_commit, sizeof n->timeout_commit, "%s",
             o->timeout_commit ? o->timeout_commit : "1s");
    snprintf(n->log_level, sizeof n->log_level, "%s", o->log_level ? o->log_level : "info");
    for (size_t k = 0; k < n->n; k++) {
        snprintf(n->node[k].name, sizeof n->node[k].name, "node%u", (unsigned)(k % 100));
        n->node[k].authority = k < n->nauth;
    }
    based_err rc = pick_ports(n, o->base_port, err);
    for (size_t k = 0; k < n->n && rc == BASED_E_OK; k++) {
        rc = make_dirs(n, k, err);
        if (rc == BASED_E_OK)
            rc = init_home(n, k, err);
        if (rc == BASED_E_OK && n->node[k].authority)
            rc = make_authority(n, k, &keys[k], err);
    }
    if (rc == BASED_E_OK)
        rc = write_geneses(n, keys, err);
    for (size_t k = 0; k < n->n && rc == BASED_E_OK; k++)
        rc = edit_config(n, k, err);
    return rc == BASED_E_OK ? node_net_save(n, err) : rc;
}

/* --- net.json --- */

static json_t *node_json(const node_net *n, size_t k)
{
    const node_net_node *d = &n->node[k];
    char rpc[64], cmt[64], p2p[64], cookie[NODE_NET_PATH], abci[NODE_NET_PATH + 16];
    char sock[NODE_NET_PATH];
    node_net_rpc_url(n, k, rpc, sizeof rpc);
    node_net_cmt_url(n, k, cmt, sizeof cmt);
    node_net_cookie(n, k, cookie, sizeof cookie);
    snprintf(p2p, sizeof p2p, "127.0.0.1:%d", d->p2p_port);
    node_net_path(n, k, "basedd/abci.sock", sock, sizeof sock);
    if (d->abci_port)
        snprintf(abci, sizeof abci, "tcp://127.0.0.1:%d", d->abci_port);
    else
        snprintf(abci, sizeof abci, "unix://%s", sock);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:i,s:i,s:i,s:i},s:{s:i,s:i}}",
                     "node", d->name, "role", d->authority ? "authority" : "full",
                     "rpc", rpc, "cookie", cookie, "cometbft_rpc", cmt, "p2p", p2p,
                     "abci", node_net_kvstore(n) ? "kvstore" : abci, "node_id", d->node_id,
                     "ports", "rpc", d->rpc_port, "cometbft_rpc", d->cmt_rpc_port, "p2p",
                     d->p2p_port, "abci", d->abci_port, "pids", "basedd",
                     (int)d->pid[NODE_NET_BASEDD], "cometbft", (int)d->pid[NODE_NET_COMETBFT]);
}

based_err node_net_save(const node_net *n, char *err)
{
    char path[NODE_NET_PATH];
    json_t *nodes = json_array();
    for (size_t k = 0; nodes && k < n->n; k++)
        json_array_append_new(nodes, node_json(n, k));
    json_t *doc = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "format", 1, "chain_id",
                            n->chain_id, "app", n->app, "basedd", n->prog[NODE_NET_BASEDD],
                            "cometbft", n->prog[NODE_NET_COMETBFT], "timeout_commit",
                            n->timeout_commit, "log_level", n->log_level, "nodes", nodes);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return fail(err, BASED_E_NOMEM, "out of memory writing net.json");
    based_err rc = dir_path(n, "net.json", path, sizeof path)
                   ? cmtgen_write_file(path, text, strlen(text), 0644, false, err, NODE_NET_ERR)
                   : fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", n->dir);
    free(text);
    return rc;
}

/* Copies a string member (at most cap - 1 bytes) or fails. */
static bool get_str(json_t *o, const char *key, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) >= cap)
        return false;
    memcpy(out, s, strlen(s) + 1);
    return true;
}

static bool get_int(json_t *o, const char *key, int lo, int hi, int *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return false;
    *out = (int)json_integer_value(v);
    return true;
}

static bool load_node(json_t *o, node_net_node *d)
{
    char role[16];
    json_t *ports = json_object_get(o, "ports"), *pids = json_object_get(o, "pids");
    int pb = 0, pc = 0;
    bool ok = get_str(o, "node", d->name, sizeof d->name) && get_str(o, "role", role, sizeof role) &&
              get_str(o, "node_id", d->node_id, sizeof d->node_id) &&
              get_int(ports, "rpc", 1, 65535, &d->rpc_port) &&
              get_int(ports, "cometbft_rpc", 1, 65535, &d->cmt_rpc_port) &&
              get_int(ports, "p2p", 1, 65535, &d->p2p_port) &&
              get_int(ports, "abci", 0, 65535, &d->abci_port);
    if (pids)
        get_int(pids, "basedd", 0, INT32_MAX, &pb), get_int(pids, "cometbft", 0, INT32_MAX, &pc);
    d->pid[NODE_NET_BASEDD] = (pid_t)pb;
    d->pid[NODE_NET_COMETBFT] = (pid_t)pc;
    d->authority = ok && strcmp(role, "authority") == 0;
    return ok && (d->authority || strcmp(role, "full") == 0) && !strchr(d->name, '/') &&
           d->name[0] && d->name[0] != '.';
}

static based_err load_doc(json_t *doc, node_net *n, const char *path, char *err)
{
    json_t *nodes = json_object_get(doc, "nodes");
    int format = 0;
    if (!get_int(doc, "format", 1, 1, &format) ||
        !get_str(doc, "chain_id", n->chain_id, sizeof n->chain_id) ||
        !get_str(doc, "app", n->app, sizeof n->app) ||
        !get_str(doc, "basedd", n->prog[NODE_NET_BASEDD], sizeof n->prog[0]) ||
        !get_str(doc, "cometbft", n->prog[NODE_NET_COMETBFT], sizeof n->prog[0]) ||
        !get_str(doc, "timeout_commit", n->timeout_commit, sizeof n->timeout_commit) ||
        !get_str(doc, "log_level", n->log_level, sizeof n->log_level) ||
        !json_is_array(nodes) || json_array_size(nodes) < 1 ||
        json_array_size(nodes) > NODE_NET_MAX)
        return fail(err, BASED_E_CONFIG, "%s is not a based-net description (format 1)", path);
    if (strcmp(n->app, "based") != 0 && strcmp(n->app, "kvstore") != 0)
        return fail(err, BASED_E_CONFIG, "%s: unknown app \"%s\"", path, n->app);
    n->n = json_array_size(nodes);
    for (size_t k = 0; k < n->n; k++) {
        if (!load_node(json_array_get(nodes, k), &n->node[k]))
            return fail(err, BASED_E_CONFIG, "%s: node #%zu is malformed", path, k);
        if (n->node[k].authority)
            n->nauth++;
    }
    return BASED_E_OK;
}

based_err node_net_load(const char *dir, node_net *n, char *err)
{
    char path[NODE_NET_PATH], *text;
    json_error_t je;
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    if (!dir_path(n, "net.json", path, sizeof path))
        return fail(err, BASED_E_TOO_LARGE, "the directory path %s is too long", dir);
    if (access(path, F_OK) != 0)
        return fail(err, BASED_E_NOT_FOUND, "%s holds no network (no net.json); start one with "
                    "`based-net start --nodes 4 --dir %s`", dir, dir);
    based_err rc = read_text(path, NET_JSON_MAX, &text, err);
    if (rc != BASED_E_OK)
        return rc;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!doc)
        return fail(err, BASED_E_CONFIG, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    rc = load_doc(doc, n, path, err);
    json_decref(doc);
    return rc;
}
