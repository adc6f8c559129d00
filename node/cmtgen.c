/*
 * cmtgen.c: CometBFT's genesis.json, key files and node IDs from ours (see
 * cmtgen.h). The genesis is built with jansson (it holds no secret); the
 * key files are formatted into libsodium secure memory by hand, so a secret
 * never passes through an allocator that does not wipe it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/authkey.h"
#include "node/cmtgen.h"

#define KEY_TEXT_MAX 1024
#define PUB_TYPE "tendermint/PubKeyEd25519"
#define PRIV_TYPE "tendermint/PrivKeyEd25519"

static based_err fail(char *err, size_t errlen, based_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static based_err fail(char *err, size_t errlen, based_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static void id_hex(const chain_edpub *pub, bool upper, char out[CMTGEN_ID_LEN])
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pub->b, sizeof pub->b);
    for (size_t i = 0; i < 20; i++) {
        out[2 * i] = (upper ? up : lo)[h[i] >> 4];
        out[2 * i + 1] = (upper ? up : lo)[h[i] & 15];
    }
    out[40] = '\0';
}

void cmtgen_address(const chain_edpub *pub, char out[CMTGEN_ID_LEN])
{
    id_hex(pub, true, out);
}

void cmtgen_node_id(const chain_edpub *pub, char out[CMTGEN_ID_LEN])
{
    id_hex(pub, false, out);
}

void cmtgen_time(uint64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    char day[20] = "";
    if (!gmtime_r(&t, &tm) || strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(day, sizeof day, "9999-12-31T23:59:59");   /* beyond any genesis */
    /* nanoseconds: the milliseconds followed by six zeros */
    snprintf(out, 32, "%s.%03u000000Z", day, (unsigned)(ms % 1000u));
}

static void b64(const uint8_t *p, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
}

/* {"type": PUB_TYPE, "value": base64} */
static json_t *pub_json(const chain_edpub *pub)
{
    char v[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    b64(pub->b, 32, v, sizeof v);
    return json_pack("{s:s,s:s}", "type", PUB_TYPE, "value", v);
}

static json_t *u64_str(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return json_string(s);
}

static json_t *consensus_params(void)
{
    return json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s},s:{s:[s]},s:{s:s},s:{s:s}}",
                     "block", "max_bytes", "22020096", "max_gas", "-1",
                     "evidence", "max_age_num_blocks", "100000",
                     "max_age_duration", "172800000000000", "max_bytes", "1048576",
                     "validator", "pub_key_types", "ed25519",
                     "version", "app", "0",
                     "abci", "vote_extensions_enable_height", "0");
}

static json_t *validators(const chain_genesis *g)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < g->nauth; i++) {
        char addr[CMTGEN_ID_LEN];
        cmtgen_address(&g->auth[i].key, addr);
        json_t *v = json_pack("{s:s,s:o,s:o,s:s}", "address", addr, "pub_key",
                              pub_json(&g->auth[i].key), "power", u64_str(g->auth[i].power),
                              "name", g->auth[i].name);
        if (!v || json_array_append_new(arr, v) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

based_err cmtgen_genesis_json(const chain_genesis *g, char **out, char *err, size_t errlen)
{
    char t[32];
    *out = NULL;
    if (g->nauth == 0)
        return fail(err, errlen, BASED_E_GENESIS,
                    "the genesis lists no authority: CometBFT needs at least one validator");
    cmtgen_time(g->genesis_time_ms, t);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "genesis_time", t, "chain_id",
                            g->chain_id, "initial_height", "1", "consensus_params",
                            consensus_params(), "validators", validators(g), "app_hash", "");
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return fail(err, errlen, BASED_E_NOMEM, "out of memory building genesis.json");
    size_t n = strlen(text);
    *out = realloc(text, n + 2);
    if (!*out) {
        free(text);
        return fail(err, errlen, BASED_E_NOMEM, "out of memory building genesis.json");
    }
    memcpy(*out + n, "\n", 2);
    return BASED_E_OK;
}

void cmtgen_secret_free(char *text)
{
    sodium_free(text);
}

/* The key JSON texts, formatted into secure memory. With `addr` the
 * priv_validator_key.json layout, else node_key.json's. */
static based_err key_json(const uint8_t sk[64], bool validator, char **out, char *err,
                          size_t errlen)
{
    uint8_t pk[32], *sk2 = sodium_malloc(64);
    char *text = sodium_malloc(KEY_TEXT_MAX);
    char *priv = sodium_malloc(sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL));
    *out = NULL;
    if (!sk2 || !text || !priv) {
        sodium_free(sk2), sodium_free(text), sodium_free(priv);
        return fail(err, errlen, BASED_E_NOMEM, "out of memory");
    }
    bool ok = crypto_sign_seed_keypair(pk, sk2, sk) == 0 && memcmp(pk, sk + 32, 32) == 0;
    sodium_free(sk2);
    if (!ok) {
        sodium_free(text), sodium_free(priv);
        return fail(err, errlen, BASED_E_BAD_KEY,
                    "the Ed25519 secret key's public half does not match its seed");
    }
    chain_edpub pub;
    char addr[CMTGEN_ID_LEN], pubv[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    memcpy(pub.b, pk, 32);
    cmtgen_address(&pub, addr);
    b64(pk, 32, pubv, sizeof pubv);
    b64(sk, 64, priv, sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL));
    if (validator)
        snprintf(text, KEY_TEXT_MAX,
                 "{\n  \"address\": \"%s\",\n  \"pub_key\": {\n    \"type\": \"%s\",\n"
                 "    \"value\": \"%s\"\n  },\n  \"priv_key\": {\n    \"type\": \"%s\",\n"
                 "    \"value\": \"%s\"\n  }\n}\n",
                 addr, PUB_TYPE, pubv, PRIV_TYPE, priv);
    else
        snprintf(text, KEY_TEXT_MAX, "{\"priv_key\":{\"type\":\"%s\",\"value\":\"%s\"}}\n",
                 PRIV_TYPE, priv);
    sodium_free(priv);
    *out = text;
    return BASED_E_OK;
}

based_err cmtgen_validator_key_json(const uint8_t sk[64], char **out, char *err, size_t errlen)
{
    return key_json(sk, true, out, err, errlen);
}

based_err cmtgen_node_key_json(const uint8_t sk[64], char **out, char *err, size_t errlen)
{
    return key_json(sk, false, out, err, errlen);
}

const char *cmtgen_validator_state_json(void)
{
    return "{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}\n";
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

based_err cmtgen_write_file(const char *path, const char *data, size_t len, unsigned mode,
                            bool exclusive, char *err, size_t errlen)
{
    char tmp[4096];
    struct stat st;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return fail(err, errlen, BASED_E_TOO_LARGE, "path too long: %s", path);
    if (exclusive && lstat(path, &st) == 0)
        return fail(err, errlen, BASED_E_EXISTS, "%s already exists", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0)
        return fail(err, errlen, BASED_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    bool ok = fchmod(fd, (mode_t)mode) == 0 && write_all(fd, data, len) && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0)
        ok = false, e = errno;
    if (!ok) {
        unlink(tmp);
        return fail(err, errlen, BASED_E_IO, "cannot write %s: %s", path, strerror(e));
    }
    return BASED_E_OK;
}

based_err cmtgen_write_genesis(const char *genesis_path, const char *out_path, char *err,
                               size_t errlen)
{
    chain_genesis g;
    char *text;
    based_err rc = chain_genesis_load(genesis_path, &g, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    rc = cmtgen_genesis_json(&g, &text, err, errlen);
    chain_genesis_release(&g);
    if (rc != BASED_E_OK)
        return rc;
    rc = cmtgen_write_file(out_path, text, strlen(text), 0644, false, err, errlen);
    free(text);
    return rc;
}

/* Is the file at path exactly text (compared in constant time)? */
static bool same_content(const char *path, const char *text)
{
    size_t n = strlen(text);
    char *buf = sodium_malloc(KEY_TEXT_MAX);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t k = buf && fd >= 0 ? read(fd, buf, KEY_TEXT_MAX) : -1;
    bool same = k >= 0 && (size_t)k == n && sodium_memcmp(buf, text, n) == 0;
    if (fd >= 0)
        close(fd);
    sodium_free(buf);
    return same;
}

based_err cmtgen_write_validator_key(const char *authkey_path, const char *out_path, char *err,
                                     size_t errlen)
{
    node_authkey k;
    char *text;
    struct stat st;
    based_err rc = node_authkey_load(authkey_path, &k, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    rc = cmtgen_validator_key_json(k.sk, &text, err, errlen);
    node_authkey_free(&k);
    if (rc != BASED_E_OK)
        return rc;
    if (lstat(out_path, &st) == 0)
        rc = same_content(out_path, text) ? BASED_E_OK
             : fail(err, errlen, BASED_E_EXISTS,
                    "%s already exists and holds another key; move it away first (never run "
                    "two copies of one validator key)", out_path);
    else
        rc = cmtgen_write_file(out_path, text, strlen(text), 0600, true, err, errlen);
    cmtgen_secret_free(text);
    return rc;
}
