/*
 * authkey.c: reading and writing the authority key file (see authkey.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/authkey.h"

void node_authkey_free(node_authkey *k)
{
    if (k && k->sk) {
        sodium_free(k->sk);
        k->sk = NULL;
    }
}

based_err node_authkey_create(const char *path, node_authkey *k, char *err, size_t errlen)
{
    char pub[67], *sec;
    memset(k, 0, sizeof *k);
    k->sk = sodium_malloc(64);
    sec = sodium_malloc(131);
    if (!k->sk || !sec) {
        node_authkey_free(k);
        sodium_free(sec);
        return BASED_E_NOMEM;
    }
    chain_ed_generate(k->sk, &k->pub);
    pub[0] = sec[0] = '0';
    pub[1] = sec[1] = 'x';
    chain_hex(k->pub.b, 32, pub + 2);
    chain_hex(k->sk, 64, sec + 2);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        sodium_free(sec);
        node_authkey_free(k);
        return BASED_E_IO;
    }
    char *text = sodium_malloc(512);
    int n = text ? snprintf(text, 512, "{\"type\": \"ed25519\", \"public\": \"%s\", \"secret\": \"%s\"}\n",
                            pub, sec) : -1;
    bool ok = n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    sodium_free(text);
    sodium_free(sec);
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "cannot write %s", path);
        node_authkey_free(k);
        return BASED_E_IO;
    }
    return BASED_E_OK;
}

based_err node_authkey_load(const char *path, node_authkey *k, char *err, size_t errlen)
{
    struct stat st;
    json_error_t je;
    memset(k, 0, sizeof *k);
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read authority key %s: %s", path, strerror(errno));
        return BASED_E_IO;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "authority key %s is readable by others (chmod 600 it)", path);
        return BASED_E_CONFIG;
    }
    if (st.st_size > 4096) {
        snprintf(err, errlen, "authority key %s is too large to be a key file", path);
        return BASED_E_CONFIG;
    }
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return BASED_E_CONFIG;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *sec = json_string_value(json_object_get(j, "secret"));
    const char *pub = json_string_value(json_object_get(j, "public"));
    based_err rc = BASED_E_OK;
    k->sk = sodium_malloc(64);
    if (!k->sk)
        rc = BASED_E_NOMEM;
    else if (!type || strcmp(type, "ed25519") != 0)
        rc = BASED_E_CONFIG, snprintf(err, errlen, "%s: \"type\" must be \"ed25519\"", path);
    else if (!sec || chain_unhex(sec, k->sk, 64) != BASED_E_OK)
        rc = BASED_E_CONFIG, snprintf(err, errlen, "%s: \"secret\" must be 0x and 128 hex digits", path);
    else if (!pub || chain_unhex(pub, k->pub.b, 32) != BASED_E_OK)
        rc = BASED_E_CONFIG, snprintf(err, errlen, "%s: \"public\" must be 0x and 64 hex digits", path);
    else if (memcmp(k->sk + 32, k->pub.b, 32) != 0)
        rc = BASED_E_CONFIG, snprintf(err, errlen, "%s: the public key does not match the secret", path);
    json_decref(j);
    if (rc != BASED_E_OK)
        node_authkey_free(k);
    return rc;
}
