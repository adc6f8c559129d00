/*
 * keystore.c: wallet files encrypted with Argon2id + XChaCha20-Poly1305
 * (format and rules in keystore.h), wallet names, the dev keys by name, and
 * resolving "a name or an address" to an account.
 *
 * A file is validated field by field before anything is decrypted, and
 * every error names the file and the field. KDF limits read from a file are
 * bounded (at most CLI_KDF_OPS_MAX / CLI_KDF_MEM_MAX), so a hostile file
 * cannot make us allocate gigabytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/keystore.h"
#include "chain/base.h"

#define CLI_KDF_OPS_MAX 64ull
#define CLI_KDF_MEM_MAX ((size_t)1 << 30)
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CT_LEN (32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)

static const char KDF_ALG[] = "argon2id13";
static const char CIPHER_ALG[] = "xchacha20poly1305-ietf";

based_err cli_wallet_dir(const char *flag, char *out, size_t n, char *err)
{
    const char *env = getenv("BASED_WALLET_DIR");
    const char *dir = flag && *flag ? flag : env && *env ? env : NULL;
    if (!dir)
        return cli_home_path(".based/keys", out, n, err);
    int w = snprintf(out, n, "%s", dir);
    if (w < 0 || (size_t)w >= n)
        return cli_fail(err, BASED_E_CONFIG, "wallet directory path is too long");
    return BASED_E_OK;
}

int cli_dev_index(const char *name)
{
    if (strncmp(name, "dev", 3) == 0 && name[3] >= '0' && name[3] <= '9' && name[4] == '\0')
        return name[3] - '0';
    return -1;
}

bool cli_name_syntax_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > CLI_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

based_err cli_name_check(const char *name, char *err)
{
    if (!cli_name_syntax_ok(name))
        return cli_fail(err, BASED_E_BAD_PARAM,
                        "bad wallet name \"%s\": use 1 to 32 of A-Z a-z 0-9 _ -", name);
    if (cli_dev_index(name) >= 0)
        return cli_fail(err, BASED_E_BAD_PARAM,
                        "\"%s\" is reserved for a public dev key; choose another name", name);
    return BASED_E_OK;
}

static based_err wallet_path(const char *dir, const char *name, char *out, size_t n,
                             char *err)
{
    if (!cli_name_syntax_ok(name))
        return cli_fail(err, BASED_E_BAD_PARAM,
                        "bad wallet name \"%s\": use 1 to 32 of A-Z a-z 0-9 _ -", name);
    int w = snprintf(out, n, "%s/%s.json", dir, name);
    if (w < 0 || (size_t)w >= n)
        return cli_fail(err, BASED_E_CONFIG, "wallet path is too long");
    return BASED_E_OK;
}

/* Argon2id key of `password` into key (32 bytes of secure memory). */
static based_err derive(const char *password, const uint8_t salt[SALT_LEN],
                        unsigned long long ops, size_t mem, uint8_t *key, char *err)
{
    if (crypto_pwhash(key, 32, password, strlen(password), salt, ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return cli_fail(err, BASED_E_NOMEM, "key derivation needs %zu MiB of memory and failed",
                        mem >> 20);
    return BASED_E_OK;
}

static based_err write_new_file(const char *dir, const char *path, const char *text,
                                char *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.new-wallet-XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return cli_fail(err, BASED_E_IO, "cannot create a file in %s: %s", dir, strerror(errno));
    size_t n = strlen(text), off = 0;
    bool ok = fchmod(fd, 0600) == 0;
    while (ok && off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(tmp);
        return cli_fail(err, BASED_E_IO, "cannot write %s: %s", tmp, strerror(saved));
    }
    /* link() fails if the target exists: a wallet is never overwritten. */
    if (link(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        if (saved == EEXIST)
            return cli_fail(err, BASED_E_EXISTS, "wallet file %s already exists", path);
        return cli_fail(err, BASED_E_IO, "cannot create %s: %s", path, strerror(saved));
    }
    unlink(tmp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return BASED_E_OK;
}

based_err cli_keystore_create(const char *dir, const char *name, const char *password,
                              const uint8_t *sk_in, unsigned long long opslimit,
                              size_t memlimit, chain_addr *pub_out, char *path_out,
                              char *err)
{
    char path[4096];
    based_err rc = cli_name_check(name, err);
    if (rc == BASED_E_OK)
        rc = wallet_path(dir, name, path, sizeof path, err);
    if (rc != BASED_E_OK)
        return rc;
    if (chain_crypto_init() != 0)
        return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libsodium");
    if (access(path, F_OK) == 0)
        return cli_fail(err, BASED_E_EXISTS, "wallet \"%s\" already exists (%s)", name, path);
    if ((rc = cli_mkdirs(dir, 0700, err)) != BASED_E_OK)
        return rc;
    if (!opslimit)
        opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    if (!memlimit)
        memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

    /* secure: [0,32) secret key, [32,64) derived key */
    uint8_t *sec = sodium_malloc(64);
    if (!sec)
        return cli_fail(err, BASED_E_NOMEM, "out of secure memory");
    uint8_t *sk = sec, *key = sec + 32;
    if (sk_in)
        memcpy(sk, sk_in, 32);
    else
        chain_key_generate(sk);
    chain_addr pub;
    if (chain_key_pub(sk, &pub) != BASED_E_OK) {
        sodium_free(sec);
        return cli_fail(err, BASED_E_BAD_KEY, "invalid secret key");
    }
    char addr[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);

    uint8_t salt[SALT_LEN], nonce[NONCE_LEN], ct[CT_LEN];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    rc = derive(password, salt, opslimit, memlimit, key, err);
    if (rc == BASED_E_OK)
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, sk, 32, (const uint8_t *)addr,
                                                   strlen(addr), NULL, nonce, key);
    sodium_free(sec);
    if (rc != BASED_E_OK)
        return rc;

    char salt_hex[2 * SALT_LEN + 1], nonce_hex[2 * NONCE_LEN + 1], ct_hex[2 * CT_LEN + 1];
    chain_hex(salt, sizeof salt, salt_hex);
    chain_hex(nonce, sizeof nonce, nonce_hex);
    chain_hex(ct, sizeof ct, ct_hex);
    json_t *doc = json_pack("{s:i,s:s,s:s,s:{s:s,s:I,s:I,s:s},s:{s:s,s:s,s:s}}",
                            "version", 1, "name", name, "address", addr,
                            "kdf", "alg", KDF_ALG, "opslimit", (json_int_t)opslimit,
                            "memlimit", (json_int_t)memlimit, "salt", salt_hex,
                            "cipher", "alg", CIPHER_ALG, "nonce", nonce_hex,
                            "ciphertext", ct_hex);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    size_t tl = strlen(text);
    char *withnl = malloc(tl + 2);
    if (!withnl) {
        free(text);
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    }
    memcpy(withnl, text, tl);
    withnl[tl] = '\n';
    withnl[tl + 1] = '\0';
    free(text);
    rc = write_new_file(dir, path, withnl, err);
    free(withnl);
    if (rc != BASED_E_OK)
        return rc;
    if (pub_out)
        *pub_out = pub;
    if (path_out)
        snprintf(path_out, 4096, "%s", path);
    return BASED_E_OK;
}

/* ---- reading ---- */

typedef struct {
    char path[4096];
    chain_addr pub;
    char addr[CHAIN_ADDR_STRLEN];
    unsigned long long ops;
    size_t mem;
    uint8_t salt[SALT_LEN], nonce[NONCE_LEN], ct[CT_LEN];
} keyfile;

static based_err bad_field(char *err, const char *path, const char *field, const char *what)
{
    return cli_fail(err, BASED_E_DECODE, "keystore %s: field \"%s\" %s", path, field, what);
}

static based_err hex_field(json_t *obj, const char *key, const char *field, void *out,
                           size_t n, const char *path, char *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return bad_field(err, path, field, "is missing or not a string");
    if (chain_unhex(json_string_value(v), out, n) != BASED_E_OK) {
        char what[64];
        snprintf(what, sizeof what, "is not %zu bytes of hex", n);
        return bad_field(err, path, field, what);
    }
    return BASED_E_OK;
}

/* Checks every field of a parsed keystore document into kf. */
static based_err parse_doc(json_t *doc, keyfile *kf, char *err)
{
    const char *path = kf->path;
    json_t *v, *kdf, *cip;
    based_err rc;
    if (!json_is_object(doc))
        return cli_fail(err, BASED_E_DECODE, "keystore %s: not a JSON object", path);
    v = json_object_get(doc, "version");
    if (!json_is_integer(v))
        return bad_field(err, path, "version", "is missing or not an integer");
    if (json_integer_value(v) != 1)
        return bad_field(err, path, "version", "is not 1 (a newer based-cli wrote this file?)");
    v = json_object_get(doc, "address");
    if (!json_is_string(v))
        return bad_field(err, path, "address", "is missing or not a string");
    if (chain_addr_parse(json_string_value(v), CHAIN_SS58_DEFAULT_PREFIX, &kf->pub, NULL) !=
        BASED_E_OK)
        return bad_field(err, path, "address", "is not a valid address");
    kdf = json_object_get(doc, "kdf");
    if (!json_is_object(kdf))
        return bad_field(err, path, "kdf", "is missing or not an object");
    cip = json_object_get(doc, "cipher");
    if (!json_is_object(cip))
        return bad_field(err, path, "cipher", "is missing or not an object");
    v = json_object_get(kdf, "alg");
    if (!json_is_string(v) || strcmp(json_string_value(v), KDF_ALG) != 0)
        return bad_field(err, path, "kdf.alg", "is not \"argon2id13\"");
    v = json_object_get(kdf, "opslimit");
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)crypto_pwhash_OPSLIMIT_MIN ||
        json_integer_value(v) > (json_int_t)CLI_KDF_OPS_MAX)
        return bad_field(err, path, "kdf.opslimit", "is missing or out of range");
    kf->ops = (unsigned long long)json_integer_value(v);
    v = json_object_get(kdf, "memlimit");
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)crypto_pwhash_MEMLIMIT_MIN ||
        json_integer_value(v) > (json_int_t)CLI_KDF_MEM_MAX)
        return bad_field(err, path, "kdf.memlimit", "is missing or out of range");
    kf->mem = (size_t)json_integer_value(v);
    if ((rc = hex_field(kdf, "salt", "kdf.salt", kf->salt, SALT_LEN, path, err)) != BASED_E_OK)
        return rc;
    v = json_object_get(cip, "alg");
    if (!json_is_string(v) || strcmp(json_string_value(v), CIPHER_ALG) != 0)
        return bad_field(err, path, "cipher.alg", "is not \"xchacha20poly1305-ietf\"");
    if ((rc = hex_field(cip, "nonce", "cipher.nonce", kf->nonce, NONCE_LEN, path, err)) !=
        BASED_E_OK)
        return rc;
    return hex_field(cip, "ciphertext", "cipher.ciphertext", kf->ct, CT_LEN, path, err);
}

static based_err keyfile_read(const char *dir, const char *name, keyfile *kf, char *err)
{
    based_err rc = wallet_path(dir, name, kf->path, sizeof kf->path, err);
    if (rc != BASED_E_OK)
        return rc;
    const char *path = kf->path;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return cli_fail(err, BASED_E_NOT_FOUND,
                        "no wallet named \"%s\" in %s (create one with \"based-cli wallet new %s\")",
                        name, dir, name);
    char *text;
    size_t len;
    if ((rc = cli_read_file(path, CLI_KEYSTORE_MAX, false, &text, &len, err)) != BASED_E_OK)
        return rc;
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!doc)
        return cli_fail(err, BASED_E_DECODE, "keystore %s:%d:%d: %s", path, je.line,
                        je.column, je.text);
    rc = parse_doc(doc, kf, err);
    if (rc == BASED_E_OK)
        snprintf(kf->addr, sizeof kf->addr, "%s",
                 json_string_value(json_object_get(doc, "address")));
    json_decref(doc);
    return rc;
}

based_err cli_keystore_address(const char *dir, const char *name, chain_addr *pub, char *err)
{
    keyfile kf;
    based_err rc = keyfile_read(dir, name, &kf, err);
    if (rc == BASED_E_OK)
        *pub = kf.pub;
    return rc;
}

based_err cli_keystore_load(const char *dir, const char *name, const char *password,
                            uint8_t sk[32], chain_addr *pub, char *err)
{
    keyfile kf;
    based_err rc = keyfile_read(dir, name, &kf, err);
    if (rc != BASED_E_OK)
        return rc;
    if (chain_crypto_init() != 0)
        return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libsodium");
    uint8_t *key = sodium_malloc(32);
    if (!key)
        return cli_fail(err, BASED_E_NOMEM, "out of secure memory");
    rc = derive(password, kf.salt, kf.ops, kf.mem, key, err);
    if (rc == BASED_E_OK &&
        crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL, kf.ct, CT_LEN,
                                                   (const uint8_t *)kf.addr, strlen(kf.addr),
                                                   kf.nonce, key) != 0)
        rc = cli_fail(err, BASED_E_BAD_PASSWORD,
                      "wrong password for wallet \"%s\" (or %s was tampered with); try again",
                      name, kf.path);
    sodium_free(key);
    if (rc != BASED_E_OK) {
        sodium_memzero(sk, 32);
        return rc;
    }
    chain_addr got;
    if (chain_key_pub(sk, &got) != BASED_E_OK || sodium_memcmp(&got, &kf.pub, 32) != 0) {
        sodium_memzero(sk, 32);
        return bad_field(err, kf.path, "address", "does not match the encrypted key");
    }
    if (pub)
        *pub = got;
    return BASED_E_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cli_names_free(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++)
        free(names[i]);
    free(names);
}

based_err cli_keystore_list(const char *dir, char ***names_out, size_t *count_out, char *err)
{
    *names_out = NULL;
    *count_out = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return BASED_E_OK;
        return cli_fail(err, BASED_E_IO, "cannot read wallet directory %s: %s", dir,
                        strerror(errno));
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    based_err rc = BASED_E_OK;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char name[CLI_NAME_MAX + 6];
        if (l - 5 > CLI_NAME_MAX)
            continue;
        memcpy(name, e->d_name, l - 5);
        name[l - 5] = '\0';
        if (!cli_name_syntax_ok(name) || cli_dev_index(name) >= 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = BASED_E_NOMEM;
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(name))) {
            rc = BASED_E_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc != BASED_E_OK) {
        cli_names_free(names, n);
        return cli_fail(err, rc, "out of memory listing %s", dir);
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    *names_out = names;
    *count_out = n;
    return BASED_E_OK;
}

based_err cli_resolve_account(const char *dir, const char *s, uint16_t prefix,
                              chain_addr *pub, bool *is_dev, char *err)
{
    if (is_dev)
        *is_dev = false;
    int dev = cli_dev_index(s);
    if (dev >= 0) {
        if (chain_crypto_init() != 0)
            return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libsodium");
        uint8_t *sk = sodium_malloc(32);
        if (!sk)
            return cli_fail(err, BASED_E_NOMEM, "out of secure memory");
        chain_key_dev((unsigned)dev, sk);
        based_err rc = chain_key_pub(sk, pub);
        sodium_free(sk);
        if (is_dev)
            *is_dev = true;
        return rc == BASED_E_OK ? rc : cli_fail(err, rc, "cannot derive dev key %s", s);
    }
    /* Names are at most 32 characters; addresses are longer, so the two never clash. */
    if (cli_name_syntax_ok(s)) {
        if (!dir)
            return cli_fail(err, BASED_E_NOT_FOUND, "no wallet directory for \"%s\"", s);
        return cli_keystore_address(dir, s, pub, err);
    }
    const char *why = NULL;
    if (chain_addr_parse(s, prefix, pub, &why) != BASED_E_OK)
        return cli_fail(err, BASED_E_BAD_ADDRESS,
                        "\"%s\" is neither a wallet name nor a valid address (%s)", s,
                        why ? why : "malformed");
    return BASED_E_OK;
}
